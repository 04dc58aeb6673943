"""Pinch signal: thumb-tip to index-tip distance with hysteresis (no flicker around the threshold)."""

from __future__ import annotations

import numpy as np

__all__ = ["pinch_distance", "PinchDetector", "THUMB_TIP", "INDEX_TIP"]

THUMB_TIP, INDEX_TIP = 4, 8


def pinch_distance(joints: np.ndarray, normalize: bool = False) -> float:
    """Thumb tip (4) to index tip (8) distance.

    Args:
        joints: (21, 2) or (21, 3) joints; metres for triangulated 3-D joints, pixels for 2-D landmarks.
        normalize: divide by the palm size (wrist 0 to middle MCP 9), making 2-D distances scale-free.
    """
    j = np.asarray(joints, np.float64)
    d = float(np.linalg.norm(j[THUMB_TIP] - j[INDEX_TIP]))
    if normalize:
        d /= max(float(np.linalg.norm(j[9] - j[0])), 1e-9)
    return d


class PinchDetector:
    """Binary pinch state with hysteresis: becomes True when the distance drops below ``on_below`` and
    stays True until it rises above ``off_above`` (``off_above > on_below``).

    Defaults are metric (metres) for triangulated joints: pinch at < 2.5 cm, release at > 4 cm. For
    palm-normalised 2-D distances use e.g. ``PinchDetector(0.3, 0.45)``.
    """

    def __init__(self, on_below: float = 0.025, off_above: float = 0.04):
        if not off_above > on_below:
            raise ValueError("off_above must be larger than on_below")
        self.on_below = float(on_below)
        self.off_above = float(off_above)
        self.pinched = False

    def update(self, distance: float | None) -> bool:
        """Feed one distance (None = hand lost -> released); returns the pinch state."""
        if distance is None or not np.isfinite(distance):
            self.pinched = False
        elif self.pinched:
            self.pinched = distance <= self.off_above
        else:
            self.pinched = distance < self.on_below
        return self.pinched
