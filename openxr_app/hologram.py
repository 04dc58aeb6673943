"""Holograms: a small scene of coloured boxes read from a YAML/JSON file.

File format (YAML or JSON)::

    anchor: head          # 'head' (default): the first head pose, OpenCV axes (+x right, +y down,
                          #   +z forward), metres; 'world': the OpenXR reference space (+y up, -z forward)
    boxes:
      - center: [0.0, 0.0, 1.5]   # metres, in the anchor frame
        size: 0.2                 # edge length, or [sx, sy, sz] along the anchor's axes
        rgb: [255, 0, 255]        # uint8 colour of the faces facing the anchor's z axis (others are shaded)

A box is drawn as a solid cube, depth-tested against the real depth of the scene: real things in front of it
hide it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import numpy as np

from passthrough.errors import InputError
from passthrough.geometry import make_T


@dataclass(frozen=True)
class Box:
    """One box. ``T_anchor_from_box`` (4, 4) maps the unit cube [-0.5, 0.5]^3 (scaled) into the anchor frame."""

    T_anchor_from_box: np.ndarray
    rgb: tuple


@dataclass(frozen=True)
class HologramScene:
    """Boxes and the frame they are given in (``"head"`` or ``"world"``)."""

    anchor: str
    boxes: List[Box]

    def model_matrices(self, T_world_from_head0: np.ndarray) -> List[np.ndarray]:
        """4x4 model matrices (unit cube -> world, OpenXR reference space) per box.

        Args:
            T_world_from_head0: (4, 4) first head pose with OpenCV axes in the world (used for ``anchor: head``).
        """
        T = np.asarray(T_world_from_head0, dtype=np.float64) if self.anchor == "head" else np.eye(4)
        return [T @ b.T_anchor_from_box for b in self.boxes]


def load_holograms(path) -> HologramScene:
    """Read a hologram file (YAML or JSON, see the module doc). Raises :class:`InputError` on bad input."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such hologram file")
    try:
        text = path.read_text()
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:  # parse errors of either format
        raise InputError(path, f"cannot parse hologram file: {exc}") from exc
    return parse_holograms(data, path)


def parse_holograms(data, path: Optional[Path] = None) -> HologramScene:
    """Build a :class:`HologramScene` from the decoded file contents (dict)."""
    if not isinstance(data, dict) or not isinstance(data.get("boxes"), list) or not data["boxes"]:
        raise InputError(path, "a hologram file needs a non-empty 'boxes' list")
    anchor = data.get("anchor", "head")
    if anchor not in ("head", "world"):
        raise InputError(path, f"anchor must be 'head' or 'world', not {anchor!r}")
    boxes = []
    for i, b in enumerate(data["boxes"]):
        try:
            center = np.asarray(b["center"], dtype=np.float64).reshape(3)
            size = np.broadcast_to(np.asarray(b.get("size", 0.2), dtype=np.float64), (3,))
            rgb = tuple(int(c) for c in b.get("rgb", (255, 0, 255)))
        except Exception as exc:
            raise InputError(path, f"box {i}: needs center [x, y, z], size and rgb [r, g, b] ({exc})") from exc
        if len(rgb) != 3 or not all(0 <= c <= 255 for c in rgb) or not np.all(size > 0):
            raise InputError(path, f"box {i}: rgb must be 3 values in 0..255 and size > 0")
        T = make_T(np.diag(size), center)
        boxes.append(Box(T, rgb))
    return HologramScene(anchor, boxes)
