"""Holograms: a small scene of coloured boxes read from a YAML/JSON file.

File format (YAML or JSON)::

    anchor: head          # 'head' (default): the first head pose, OpenCV axes (+x right, +y down,
                          #   +z forward), metres; 'world': the OpenXR reference space (+y up, -z forward)
    boxes:
      - center: [0.0, 0.0, 1.5]   # metres, in the anchor frame
        size: 0.2                 # edge length, or [sx, sy, sz] along the anchor's axes
        rgb: [255, 0, 255]        # uint8 colour of the faces facing the anchor's z axis (others are shaded)
      - mesh: teapot.obj          # a triangle mesh (path relative to this file), in its own Y-up frame (metres;
                                  #   turned upright into the head anchor's OpenCV axes, passthrough.geometry)
        center: [0.3, 0.0, 2.0]   # where its origin goes in the anchor frame
        size: 1.0                 # scale factor (or [sx, sy, sz])
        rgb: [40, 200, 255]

Meshes: Wavefront OBJ is read here; other formats (glb, ply, stl, off) through
``passthrough.holograms.scene.load_mesh`` (open3d). A hologram is drawn as a solid, flat-shaded mesh,
depth-tested against the real depth of the scene: real things in front of it hide it.
:meth:`HologramScene.from_objects` takes the pipeline's hologram objects (``passthrough.holograms.scene``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import numpy as np

from passthrough.errors import InputError
from passthrough.geometry import make_T, mesh_points_to_cv


@dataclass(frozen=True)
class Box:
    """One hologram. ``T_anchor_from_box`` (4, 4) maps its vertices into the anchor frame: the unit cube
    [-0.5, 0.5]^3 when ``vertices`` is None, else the mesh ``vertices`` float32 (N, 3) with ``triangles``
    int32 (M, 3). ``rgb``: uint8 colour triple."""

    T_anchor_from_box: np.ndarray
    rgb: tuple
    vertices: Optional[np.ndarray] = None
    triangles: Optional[np.ndarray] = None


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

    @classmethod
    def from_objects(cls, objects, anchor: str = "head") -> "HologramScene":
        """From objects with ``vertices`` (N, 3), ``triangles`` (M, 3), ``color_rgb`` (floats 0..1) and
        ``T_world_from_object`` (4, 4): e.g. ``passthrough.holograms.scene.Scene().holograms``, whose world is
        anchored at the first camera/head pose with OpenCV axes (``anchor="head"``)."""
        boxes = []
        for o in objects:
            rgb = tuple(int(round(255 * float(c))) for c in np.clip(np.asarray(o.color_rgb, float), 0, 1))
            boxes.append(Box(np.asarray(o.T_world_from_object, np.float64), rgb,
                             np.asarray(o.vertices, np.float32), np.asarray(o.triangles, np.int32)))
        return cls(anchor, boxes)


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
        raise InputError(path, f"cannot parse hologram file: {' '.join(str(exc).split())}") from exc
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
        if "mesh" in b:
            mesh_path = Path(b["mesh"])
            if not mesh_path.is_absolute() and path is not None:
                mesh_path = Path(path).parent / mesh_path
            vertices, triangles = load_mesh_file(mesh_path)
            if anchor == "head":  # OpenCV axes; the 'world' anchor has OpenXR's, which are the mesh's own
                vertices = mesh_points_to_cv(vertices)
            boxes.append(Box(T, rgb, vertices, triangles))
        else:
            boxes.append(Box(T, rgb))
    return HologramScene(anchor, boxes)


def read_obj(path) -> tuple:
    """Wavefront OBJ -> (vertices float32 (N, 3), triangles int32 (M, 3)); polygons are fanned into triangles.
    Raises :class:`InputError` on a missing or empty file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such mesh file")
    verts, tris = [], []
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "v" and len(parts) >= 4:
            verts.append([float(x) for x in parts[1:4]])
        elif parts[0] == "f" and len(parts) >= 4:
            idx = [int(p.split("/")[0]) for p in parts[1:]]
            idx = [i - 1 if i > 0 else len(verts) + i for i in idx]  # 1-based; negative = relative
            tris.extend([idx[0], idx[k], idx[k + 1]] for k in range(1, len(idx) - 1))
    v = np.asarray(verts, np.float32).reshape(-1, 3)
    t = np.asarray(tris, np.int32).reshape(-1, 3)
    if not len(t) or t.min() < 0 or t.max() >= len(v):
        raise InputError(path, "no valid triangles in the OBJ file")
    return v, t


def load_mesh_file(path) -> tuple:
    """(vertices, triangles) of a mesh file: OBJ here, other formats via the pipeline's open3d loader."""
    path = Path(path)
    if path.suffix.lower() == ".obj":
        return read_obj(path)
    try:
        from passthrough.holograms.scene import load_mesh
    except ImportError as exc:
        raise InputError(path, f"this mesh format needs open3d ({exc}); use .obj") from exc
    h = load_mesh(path)
    return np.asarray(h.vertices, np.float32), np.asarray(h.triangles, np.int32)
