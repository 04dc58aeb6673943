"""Pinch to grab: a pinch whose point (between thumb and index tips) is on a hologram when the pinch
closes grabs it; while the pinch holds, the hologram follows the pinch point; releasing the pinch drops it
where it is. A pinch that closed in the air grabs nothing until it is released (a closed pinch swept
through a hologram does not pick it up), and a hologram one hand holds is not taken by the other.

Joints are (21, 3) arrays in the world frame (MediaPipe order: 4 = thumb tip, 8 = index tip).
"""

from __future__ import annotations

from typing import Dict, List, Optional

import numpy as np

from ..geometry import make_T
from ..holograms import Scene

GRAB_MARGIN_M = 0.05


def pinch_point(joints_world: np.ndarray) -> np.ndarray:
    """Midpoint of thumb tip and index tip, (3,)."""
    return (joints_world[4] + joints_world[8]) / 2


class GrabController:
    """Tracks which hand holds which hologram. Call :meth:`update` once per display frame with the
    hands' world joints and pinch states (same order, keyed by handedness)."""

    def __init__(self, scene: Scene, margin_m: float = GRAB_MARGIN_M):
        self.scene = scene
        self.margin = margin_m
        self._held: Dict[str, tuple] = {}  # handedness -> (hologram index, T_world_from_object at grab, point at grab)
        self._missed: set = set()  # hands whose current pinch closed on no hologram

    @property
    def held(self) -> Dict[str, str]:
        return {h: self.scene.holograms[i].name for h, (i, _, _) in self._held.items()}

    def update(self, hands: List[dict]) -> None:
        """``hands``: ``[{"handedness": "left"|"right", "joints_world": (21, 3), "pinch": bool}]``."""
        seen = set()
        for hand in hands:
            key = hand["handedness"]
            seen.add(key)
            p = pinch_point(np.asarray(hand["joints_world"], np.float64))
            if not hand["pinch"]:
                self._held.pop(key, None)
                self._missed.discard(key)
                continue
            if key in self._held:
                i, T0, p0 = self._held[key]
                self.scene.holograms[i].T_world_from_object = make_T(np.eye(3), p - p0) @ T0
                continue
            if key in self._missed:  # this pinch closed in the air: it grabs nothing until released
                continue
            taken = {i for i, _, _ in self._held.values()}
            target = self._hit(p, taken)
            if target is not None:
                self._held[key] = (target, self.scene.holograms[target].T_world_from_object.copy(), p)
            else:
                self._missed.add(key)
        for key in list(self._held):
            if key not in seen:  # hand lost: drop what it held
                self._held.pop(key)
        self._missed &= seen

    def _hit(self, p: np.ndarray, taken=frozenset()) -> Optional[int]:
        best, best_d = None, np.inf
        for i, h in enumerate(self.scene.holograms):
            if not h.grabbable or i in taken:
                continue
            c, r = h.bounding_sphere_world()
            d = np.linalg.norm(p - c)
            if d <= r + self.margin and d < best_d:
                best, best_d = i, d
        return best
