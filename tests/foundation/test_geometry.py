"""Coordinate conventions: OpenCV camera axes vs OpenXR axes, poses named T_a_from_b."""

import numpy as np

from passthrough import geometry as g


def test_openxr_forward_is_opencv_forward():
    # OpenXR looks down -z with +y up; the same direction in OpenCV axes is +z with +y down.
    forward_xr = np.array([0.0, 0.0, -1.0])
    up_xr = np.array([0.0, 1.0, 0.0])
    T_cv_from_xr = g.T_CV_FROM_XR
    assert np.allclose(g.transform_points(T_cv_from_xr, forward_xr), [0, 0, 1])
    assert np.allclose(g.transform_points(T_cv_from_xr, up_xr), [0, -1, 0])


def test_eye_pose_from_openxr_projects_forward_points_in_front():
    # A head-locked eye at 1.6 m height, looking along the reference space's -z.
    T_world_from_eye = g.xr_pose_to_T_world_from_eye_cv([0.03, 1.6, 0.0], [0, 0, 0, 1])
    point_world = np.array([0.03, 1.6, -2.0])  # 2 m in front of the eye (OpenXR world)
    point_eye = g.transform_points(g.invert_T(T_world_from_eye), point_world)
    assert np.allclose(point_eye, [0, 0, 2.0])  # +z forward in OpenCV eye axes
    assert np.allclose(g.T_parent_from_xr_child(T_world_from_eye), g.pose_to_T([0.03, 1.6, 0.0], [0, 0, 0, 1]))


def test_quaternion_roundtrip_and_compose():
    rng = np.random.default_rng(0)
    for _ in range(20):
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        R = g.quat_xyzw_to_R(q)
        assert np.allclose(R @ R.T, np.eye(3), atol=1e-12)
        q2 = g.R_to_quat_xyzw(R)
        assert np.allclose(q2, q if q[3] >= 0 else -q, atol=1e-9)
    T_a_from_b = g.make_T(g.quat_xyzw_to_R([0, 0, np.sin(0.3), np.cos(0.3)]), [1, 2, 3])
    assert np.allclose(g.invert_T(T_a_from_b) @ T_a_from_b, np.eye(4))
    assert np.allclose(g.T_to_pose(T_a_from_b)[:3], [1, 2, 3])
