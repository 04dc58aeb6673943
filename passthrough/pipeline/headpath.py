"""Head motion for replays: where the head is at any time.

A head path maps a time in ns (the source's clock) to ``T_world_from_head`` (4x4, metres). The world frame
is the head frame at the start of the path. The head frame is the rig's own (``StereoRig``: the left
camera for most rigs, the IMU body frame for EuRoC); the named paths below are motions of a viewer with
OpenCV axes (+x right, +y down, +z forward) and are expressed in the rig's head frame through
``StereoRig.T_head_from_left_rect`` (:func:`in_head_frame`), so "side to side" is along the rectified
left camera's x axis whatever the head frame's axes are.

* ``static``: the head never moves.
* ``sway``: a gentle look-around a seated user makes: +-4 cm side to side at 0.4 Hz, +-1.5 cm up and
  down, +-4 degrees of yaw: enough parallax to exercise reprojection on still captures.
* ``walk``: slow forward motion (15 cm/s) with a little bob.
* a file: TUM trajectory text (``t x y z qx qy qz qw``, t in seconds) or an ASL ground-truth CSV; poses
  are interpolated and re-anchored so the path starts at identity.
* ``ground-truth``: the source's own poses (KITTI ``poses.txt``, EuRoC state ground truth).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import numpy as np

from ..errors import InputError
from ..geometry import invert_T, make_T

NAMED = ("static", "sway", "walk")


def _rot_y(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


class HeadPath:
    """Callable ``path(t_ns) -> T_world_from_head`` with a name."""

    def __init__(self, name: str, fn: Callable[[float], np.ndarray], t0_ns: int = 0):
        self.name = name
        self._fn = fn
        self.t0_ns = t0_ns

    def __call__(self, t_ns: int) -> np.ndarray:
        return self._fn((t_ns - self.t0_ns) / 1e9)


def named_path(name: str, t0_ns: int = 0) -> HeadPath:
    """One of :data:`NAMED`."""
    if name == "static":
        return HeadPath(name, lambda t: np.eye(4), t0_ns)
    if name == "sway":
        def sway(t: float) -> np.ndarray:
            w = 2 * np.pi * 0.4
            return make_T(_rot_y(np.radians(4.0) * np.sin(w * t + 0.5)),
                          [0.04 * np.sin(w * t), 0.015 * np.sin(2 * w * t), 0.0])
        return HeadPath(name, sway, t0_ns)
    if name == "walk":
        return HeadPath(name, lambda t: make_T(np.eye(3), [0.0, 0.01 * np.sin(2 * np.pi * 1.8 * t), 0.15 * t]), t0_ns)
    raise InputError(None, f"unknown head path {name!r} (use one of {', '.join(NAMED)} or a pose file)")


def in_head_frame(path: HeadPath, T_head_from_viewer: np.ndarray) -> HeadPath:
    """``path`` given as the motion of a viewer frame (``T_viewer0_from_viewer(t)``, e.g. the named paths in
    OpenCV axes) as the motion of the head frame that carries it: ``T_head0_from_head(t) = A @ P(t) @
    A^-1`` with ``A = T_head_from_viewer`` (4x4; for rigs whose head frame is the rectified left camera,
    the identity, and the path is unchanged)."""
    A = np.asarray(T_head_from_viewer, np.float64)
    if np.allclose(A, np.eye(4)):
        return path
    A_inv = invert_T(A)
    return HeadPath(path.name, lambda t: A @ path._fn(t) @ A_inv, path.t0_ns)


def path_from_poses(name: str, t_ns: np.ndarray, T_world_from_head: np.ndarray) -> HeadPath:
    """Interpolating path through timed poses, re-anchored so it starts at identity; clamps outside."""
    from ..datasets.euroc import interpolate_poses

    t_ns = np.asarray(t_ns, dtype=np.int64)
    T0_inv = invert_T(T_world_from_head[0])
    anchored = np.stack([T0_inv @ T for T in T_world_from_head])

    def fn(t: float) -> np.ndarray:
        tq = int(np.clip(int(t_ns[0] + t * 1e9), t_ns[0], t_ns[-1]))
        return interpolate_poses(np.array([tq]), t_ns, anchored)[0]

    return HeadPath(name, fn, 0)


def path_from_file(path) -> HeadPath:
    """TUM text or ASL CSV trajectory file, read and checked by the dataset readers (finite values,
    non-zero quaternions; timestamps strictly increasing)."""
    from ..datasets.euroc import poses_from_rows, read_asl_table, read_tum_poses

    path = Path(path)
    if path.is_dir():
        raise InputError(path, "is a folder, not a head path file (TUM text or ASL CSV)")
    if not path.is_file():
        raise InputError(path, "head path file not found")
    if path.suffix.lower() == ".csv":  # timestamp, p_xyz, q_wxyz
        t, d, lines = read_asl_table(path, "ASL pose CSV", 8)
        T = poses_from_rows(d[:, 1:4], d[:, [5, 6, 7, 4]], path, lines)
    else:
        t, T = read_tum_poses(path)
    if len(t) < 2:
        raise InputError(path, "head path needs at least two poses")
    return path_from_poses(path.stem, t, T)


def make_head_path(spec: Optional[str], source=None) -> HeadPath:
    """``spec``: a name from :data:`NAMED`, ``ground-truth``, or a file path. None -> ``ground-truth``
    when the source has poses for its frames, else ``sway``. A named path moves the source rig's
    rectified left camera along the path's OpenCV axes (:func:`in_head_frame`); ground truth and pose
    files are the head frame's own poses."""
    if spec is None or spec == "ground-truth":
        frames_poses = getattr(source, "frame_poses", None)
        poses = frames_poses() if callable(frames_poses) else None
        if poses is not None:
            return path_from_poses("ground-truth", *poses)
        if spec == "ground-truth":
            raise InputError(getattr(source, "path", None), "this source has no ground-truth poses for its frames")
        return in_head_frame(named_path("sway"), _T_head_from_viewer(source))
    if spec in NAMED:
        return in_head_frame(named_path(spec), _T_head_from_viewer(source))
    return path_from_file(spec)


def _T_head_from_viewer(source) -> np.ndarray:
    """The source rig's rectified left camera in its head frame (identity without a rig)."""
    rig = getattr(source, "rig", None)
    return np.eye(4) if rig is None else rig.T_head_from_left_rect
