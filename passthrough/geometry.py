"""Coordinate conventions and rigid transforms: the one place that converts between conventions.

Conventions used everywhere in this project
-------------------------------------------
* **OpenCV camera axes** (``cv``): +x right, +y down, +z forward (the optical axis). All cameras,
  depth maps, intrinsics ``K`` and the reprojection model use this convention.
* **OpenXR axes** (``xr``): +x right, +y up, -z forward, metres. Poses reported by an OpenXR runtime
  (``xrLocateViews``, reference spaces) use this convention.
* **Poses** are 4x4 float64 homogeneous matrices named ``T_a_from_b``: they map a point expressed in
  frame ``b`` to frame ``a``: ``p_a = T_a_from_b @ p_b``. Compose by matching names:
  ``T_a_from_c = T_a_from_b @ T_b_from_c``.
* **Quaternions** are ``(x, y, z, w)`` (OpenXR/ROS order) unless a function says otherwise.
* **Mesh files** (holograms) are Y-up: +y up and the model's front towards +z (glTF's convention, which
  OBJ/PLY exporters follow by default), the same axes as OpenXR's. :func:`mesh_points_to_cv` turns their
  vertices into an OpenCV-axes object frame where a model is placed in one.

Converting an OpenXR pose of a frame (an eye, a head) to the matching OpenCV-style camera frame is a
change of the *local* axes only: ``T_world_from_eye_cv = T_world_from_eye_xr @ T_xr_from_cv``, where
``T_xr_from_cv = diag(1, -1, -1, 1)``. The world frame keeps whatever convention it had; use
:func:`T_world_cv_from_world_xr` when the world frame itself must switch.
"""

from __future__ import annotations

import numpy as np

#: Maps a point in an OpenCV-axes frame to the OpenXR-axes frame sharing its origin (and back:
#: the matrix is its own inverse). Shape (4, 4), float64.
T_XR_FROM_CV = np.diag([1.0, -1.0, -1.0, 1.0])
T_CV_FROM_XR = T_XR_FROM_CV.copy()


def mesh_points_to_cv(points_mesh: np.ndarray) -> np.ndarray:
    """Vertices (N, 3) of a Y-up mesh file (module docstring) in OpenCV axes: a half turn about x
    (``T_CV_FROM_XR``), so the model stands upright (+y down is up) and faces a camera that looks along +z.
    Returns float32 (N, 3)."""
    return transform_points(T_CV_FROM_XR, np.asarray(points_mesh, np.float64).reshape(-1, 3)).astype(np.float32)


def make_T(R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Build a 4x4 pose from a rotation (3, 3) and a translation (3,). Returns float64 (4, 4)."""
    T = np.eye(4)
    T[:3, :3] = np.asarray(R, dtype=np.float64)
    T[:3, 3] = np.asarray(t, dtype=np.float64).reshape(3)
    return T


def invert_T(T_a_from_b: np.ndarray) -> np.ndarray:
    """Invert a rigid 4x4 pose: returns ``T_b_from_a`` (float64 (4, 4)) using R^T, not a general inverse."""
    T = np.asarray(T_a_from_b, dtype=np.float64)
    R = T[:3, :3]
    t = T[:3, 3]
    return make_T(R.T, -R.T @ t)


def transform_points(T_a_from_b: np.ndarray, points_b: np.ndarray) -> np.ndarray:
    """Map points (..., 3) given in frame b to frame a. Returns the same shape, float64."""
    p = np.asarray(points_b, dtype=np.float64)
    T = np.asarray(T_a_from_b, dtype=np.float64)
    return p @ T[:3, :3].T + T[:3, 3]


def quat_xyzw_to_R(q_xyzw) -> np.ndarray:
    """Unit quaternion (x, y, z, w) -> rotation matrix (3, 3) float64 (normalises the input)."""
    x, y, z, w = np.asarray(q_xyzw, dtype=np.float64) / np.linalg.norm(q_xyzw)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def R_to_quat_xyzw(R: np.ndarray) -> np.ndarray:
    """Rotation matrix (3, 3) -> unit quaternion (x, y, z, w) float64 with w >= 0."""
    R = np.asarray(R, dtype=np.float64)
    tr = np.trace(R)
    if tr > 0:
        s = np.sqrt(tr + 1.0) * 2
        w, x, y, z = 0.25 * s, (R[2, 1] - R[1, 2]) / s, (R[0, 2] - R[2, 0]) / s, (R[1, 0] - R[0, 1]) / s
    elif R[0, 0] > R[1, 1] and R[0, 0] > R[2, 2]:
        s = np.sqrt(1.0 + R[0, 0] - R[1, 1] - R[2, 2]) * 2
        w, x, y, z = (R[2, 1] - R[1, 2]) / s, 0.25 * s, (R[0, 1] + R[1, 0]) / s, (R[0, 2] + R[2, 0]) / s
    elif R[1, 1] > R[2, 2]:
        s = np.sqrt(1.0 + R[1, 1] - R[0, 0] - R[2, 2]) * 2
        w, x, y, z = (R[0, 2] - R[2, 0]) / s, (R[0, 1] + R[1, 0]) / s, 0.25 * s, (R[1, 2] + R[2, 1]) / s
    else:
        s = np.sqrt(1.0 + R[2, 2] - R[0, 0] - R[1, 1]) * 2
        w, x, y, z = (R[1, 0] - R[0, 1]) / s, (R[0, 2] + R[2, 0]) / s, (R[1, 2] + R[2, 1]) / s, 0.25 * s
    q = np.array([x, y, z, w])
    q /= np.linalg.norm(q)
    return -q if q[3] < 0 else q


def pose_to_T(position_xyz, quat_xyzw) -> np.ndarray:
    """Position (3,) + quaternion (x, y, z, w) -> 4x4 pose ``T_parent_from_child`` (no axis change)."""
    return make_T(quat_xyzw_to_R(quat_xyzw), position_xyz)


def T_to_pose(T_parent_from_child: np.ndarray) -> np.ndarray:
    """4x4 pose -> (7,) array ``[x, y, z, qx, qy, qz, qw]`` (no axis change)."""
    T = np.asarray(T_parent_from_child, dtype=np.float64)
    return np.concatenate([T[:3, 3], R_to_quat_xyzw(T[:3, :3])])


def T_parent_from_cv_child(T_parent_from_xr_child: np.ndarray) -> np.ndarray:
    """Re-express the *child* frame of an OpenXR-axes pose with OpenCV axes.

    ``T_parent_from_xr_child`` maps points of a child frame with OpenXR axes (e.g. an eye view from
    ``xrLocateViews``) to its parent. The result maps points of the same child with OpenCV axes
    (+y down, +z forward), so it can be used with pinhole ``K`` matrices.
    """
    return np.asarray(T_parent_from_xr_child, dtype=np.float64) @ T_XR_FROM_CV


def T_parent_from_xr_child(T_parent_from_cv_child: np.ndarray) -> np.ndarray:
    """Inverse of :func:`T_parent_from_cv_child`: re-express an OpenCV-axes child with OpenXR axes."""
    return np.asarray(T_parent_from_cv_child, dtype=np.float64) @ T_CV_FROM_XR


def T_world_cv_from_world_xr() -> np.ndarray:
    """Change of the world frame's axes from OpenXR (+y up) to OpenCV-style (+y down): (4, 4)."""
    return T_CV_FROM_XR.copy()


def xr_pose_to_T_world_from_eye_cv(position_xyz, quat_xyzw) -> np.ndarray:
    """OpenXR eye pose (in an OpenXR reference space) -> ``T_world_from_eye`` with OpenCV eye axes.

    The world frame stays the OpenXR reference space (+y up); only the eye's axes switch, which is
    what the reprojection model needs to project with a pinhole ``K``.
    """
    return T_parent_from_cv_child(pose_to_T(position_xyz, quat_xyzw))


def skew(v) -> np.ndarray:
    """Cross-product matrix [v]x (3, 3) of a 3-vector."""
    x, y, z = np.asarray(v, dtype=np.float64).reshape(3)
    return np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
