"""Hologram scene: meshes with a world pose and a material, loaded with open3d or made as primitives.

Conventions: mesh vertices are in the object's own frame (metres); ``T_world_from_object`` is a 4x4
pose in the world frame. Scenes are made in a viewer's frame with OpenCV-style axes (+x right, +y down,
+z forward) at the first pose of the rectified left camera; a replay or live session maps them into its
world (the rig's head frame at the start, see :mod:`passthrough.pipeline.headpath`) with
``StereoRig.T_head_from_left_rect`` (:func:`passthrough.pipeline.factory.make_scene`).
Colours are RGB floats in 0..1 (converted to BGR only when written into BGR images).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import numpy as np

from ..errors import InputError
from ..geometry import make_T, transform_points

MESH_EXTS = (".glb", ".gltf", ".obj", ".ply", ".stl", ".off")


@dataclass
class Hologram:
    """One mesh in the world.

    Attributes:
        name: label.
        vertices: float32 (N, 3) in the object frame, metres.
        triangles: int32 (M, 3) vertex indices (counter-clockwise seen from outside).
        color_rgb: (3,) material colour, floats 0..1.
        alpha: material opacity 0..1.
        T_world_from_object: (4, 4) float64 pose.
        grabbable: whether a pinch can grab and move it.
        closed: (computed) the mesh is watertight and its triangles are consistently wound
            counter-clockwise seen from outside (every directed edge has exactly one opposite, and the
            signed volume is positive): its back faces are never visible from outside, so the
            rasteriser skips them (:func:`passthrough.holograms.raster.render_eye_layer`).
    """

    name: str
    vertices: np.ndarray
    triangles: np.ndarray
    color_rgb: np.ndarray = field(default_factory=lambda: np.array([0.2, 0.7, 1.0]))
    alpha: float = 1.0
    T_world_from_object: np.ndarray = field(default_factory=lambda: np.eye(4))
    grabbable: bool = True

    def __post_init__(self) -> None:
        self.vertices = np.ascontiguousarray(self.vertices, dtype=np.float32).reshape(-1, 3)
        self.triangles = np.ascontiguousarray(self.triangles, dtype=np.int32).reshape(-1, 3)
        self.color_rgb = np.asarray(self.color_rgb, dtype=np.float32).reshape(3)
        self.T_world_from_object = np.asarray(self.T_world_from_object, dtype=np.float64)
        self.closed = is_closed_outward(self.vertices, self.triangles)

    def world_vertices(self) -> np.ndarray:
        """float32 (N, 3) vertices in the world frame."""
        return transform_points(self.T_world_from_object, self.vertices).astype(np.float32)

    def bounding_sphere_world(self):
        """(centre (3,), radius) of the mesh in the world frame."""
        v = self.world_vertices()
        c = (v.min(0) + v.max(0)) / 2
        return c, float(np.linalg.norm(v - c, axis=1).max())


def is_closed_outward(vertices: np.ndarray, triangles: np.ndarray) -> bool:
    """Whether a triangle mesh (vertices (N, 3), triangles (M, 3) indices) is closed and wound
    counter-clockwise seen from outside: each directed edge ``a -> b`` occurs once and ``b -> a`` once
    (watertight, consistently oriented), and the signed volume is positive (outward, not inward)."""
    t = np.asarray(triangles, np.int64).reshape(-1, 3)
    if len(t) < 4:
        return False
    n = int(t.max()) + 1
    e = np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [2, 0]]])
    code = e[:, 0] * n + e[:, 1]
    rev = e[:, 1] * n + e[:, 0]
    if len(np.unique(code)) != len(code):  # an edge used twice in one direction
        return False
    if not np.array_equal(np.sort(code), np.sort(rev)):  # an edge without its opposite (a border)
        return False
    v = np.asarray(vertices, np.float64)
    vol = np.einsum("ij,ij->i", v[t[:, 0]], np.cross(v[t[:, 1]], v[t[:, 2]])).sum() / 6.0
    return bool(vol > 0)


@dataclass
class Scene:
    """The holograms of a session."""

    holograms: List[Hologram] = field(default_factory=list)

    def add(self, h: Hologram) -> Hologram:
        self.holograms.append(h)
        return h


def _from_o3d(mesh, name: str, **kw) -> Hologram:
    v = np.asarray(mesh.vertices, dtype=np.float32)
    t = np.asarray(mesh.triangles, dtype=np.int32)
    return Hologram(name, v, t, **kw)


def load_mesh(path, name: Optional[str] = None, **kw) -> Hologram:
    """Load a triangle mesh (glTF/GLB, OBJ, PLY, STL, OFF) with open3d. Extra keyword arguments go to
    :class:`Hologram` (``color_rgb``, ``alpha``, ``T_world_from_object``). Raises :class:`InputError`
    for a missing, unsupported or empty mesh file."""
    import open3d as o3d

    path = Path(path)
    if path.is_dir():
        raise InputError(path, "is a folder, not a mesh file")
    if not path.is_file():
        raise InputError(path, "mesh file not found")
    if path.suffix.lower() not in MESH_EXTS:
        raise InputError(path, f"unsupported mesh format (use one of {', '.join(MESH_EXTS)})")
    if path.suffix.lower() == ".ply":  # open3d's PLY reader prints its own complaint on stderr first
        with open(path, "rb") as f:
            if f.read(4).rstrip(b"\r\n") != b"ply":
                raise InputError(path, "not a PLY file (no 'ply' header)")
    o3d.utility.set_verbosity_level(o3d.utility.VerbosityLevel.Error)
    mesh = o3d.io.read_triangle_mesh(str(path))
    if len(mesh.triangles) == 0:
        raise InputError(path, "no triangles in mesh (corrupt or not a triangle mesh)")
    if not np.isfinite(np.asarray(mesh.vertices)).all():
        raise InputError(path, "mesh has vertices that are not finite numbers (NaN or inf)")
    if "color_rgb" not in kw and mesh.has_vertex_colors():
        kw["color_rgb"] = np.asarray(mesh.vertex_colors).mean(0)
    return _from_o3d(mesh, name or path.stem, **kw)


def box(size=(0.2, 0.2, 0.2), **kw) -> Hologram:
    """Axis-aligned box centred on the object origin."""
    import open3d as o3d

    m = o3d.geometry.TriangleMesh.create_box(*size)
    m.translate(-np.asarray(size) / 2)
    return _from_o3d(m, kw.pop("name", "box"), **kw)


def sphere(radius=0.1, resolution=16, **kw) -> Hologram:
    import open3d as o3d

    return _from_o3d(o3d.geometry.TriangleMesh.create_sphere(radius, resolution), kw.pop("name", "sphere"), **kw)


def torus(radius=0.12, tube=0.04, **kw) -> Hologram:
    import open3d as o3d

    m = o3d.geometry.TriangleMesh.create_torus(radius, tube, 30, 12)
    return _from_o3d(m, kw.pop("name", "torus"), **kw)


def default_scene(center_depth_m: float = 1.5) -> Scene:
    """The demo scene, in front of the first camera pose (OpenCV world axes: +z forward, +y down):
    a cyan cube, an orange sphere and a magenta half-transparent torus at different depths, so some
    are behind and some in front of real surfaces in typical indoor scenes."""
    z = center_depth_m
    s = Scene()
    s.add(box((0.25, 0.25, 0.25), name="cube", color_rgb=(0.1, 0.8, 1.0),
              T_world_from_object=make_T(_rot_y(0.6) @ _rot_x(0.4), [-0.25, 0.05, z])))
    s.add(sphere(0.12, name="sphere", color_rgb=(1.0, 0.55, 0.1), T_world_from_object=make_T(np.eye(3), [0.3, -0.1, z * 0.7])))
    s.add(torus(0.15, 0.04, name="torus", color_rgb=(0.9, 0.2, 0.9), alpha=0.75,
                T_world_from_object=make_T(_rot_x(1.2), [0.05, 0.25, z * 1.4])))
    return s


def _rot_x(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _rot_y(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
