"""The replay's head paths and holograms are made for a viewer with OpenCV axes (the rectified left
camera), whatever the rig's head frame is: EuRoC's head frame is the IMU body, turned ~90 degrees about
the view axis from its left camera, where the other shared rigs' head frame is the left camera itself."""

import numpy as np
import pytest

from passthrough.datasets import open_source
from passthrough.geometry import invert_T, transform_points
from passthrough.pipeline.factory import make_scene
from passthrough.pipeline.headpath import make_head_path, named_path

EUROC = "sequences/euroc-MH_01_easy-first5"


@pytest.fixture(scope="module")
def euroc(shared_data):
    return open_source(shared_data / EUROC)


def test_the_euroc_head_frame_is_not_the_left_camera(euroc):
    R = euroc.rig.T_head_from_left_rect[:3, :3]
    assert abs(R[1, 0]) > 0.99  # the camera's x axis is the body's y axis


@pytest.mark.parametrize("name", ["sway", "walk"])
def test_a_named_path_moves_the_left_camera_along_its_own_axes(euroc, name):
    A = euroc.rig.T_head_from_left_rect
    path, viewer_path = make_head_path(name, euroc), named_path(name)
    for t_s in (0.3, 0.625, 1.1):  # 0.625 s: the sway's far end (4 cm to the right)
        t = int(t_s * 1e9)
        T_cam0_from_cam = invert_T(A) @ path(t) @ A  # the left camera's motion, in its own first pose's axes
        np.testing.assert_allclose(T_cam0_from_cam, viewer_path(t), atol=1e-12)
    if name == "sway":
        x, y, z = (invert_T(A) @ path(int(0.625e9)) @ A)[:3, 3]
        assert abs(x) > 0.039 and abs(y) < 0.016 and abs(z) < 1e-9  # side to side, not up and down


def test_the_holograms_stand_in_front_of_the_left_camera(euroc):
    rig = euroc.rig
    A = rig.T_head_from_left_rect  # the world of a static rig is its head frame
    K = rig.K_rect
    w, h = rig.rectified_size
    for holo in make_scene(None, A).holograms:
        c = transform_points(invert_T(A) @ holo.T_world_from_object, np.zeros((1, 3)))[0]  # in the left camera
        assert 0.9 < c[2] < 2.2  # 1-2 m ahead
        u, v = K[0, 0] * c[0] / c[2] + K[0, 2], K[1, 1] * c[1] / c[2] + K[1, 2]
        assert 0 <= u < w and 0 <= v < h  # in its view


def test_rigs_whose_head_is_the_left_camera_keep_their_paths_and_scene(shared_data):
    kitti = open_source(shared_data / "sequences/kitti-odometry-excerpt-frames000-025")
    assert np.allclose(kitti.rig.T_head_from_left_rect, np.eye(4))
    np.testing.assert_array_equal(make_head_path("sway", kitti)(int(0.4e9)), named_path("sway")(int(0.4e9)))
    a = [h.T_world_from_object for h in make_scene(None, kitti.rig.T_head_from_left_rect).holograms]
    b = [h.T_world_from_object for h in make_scene(None).holograms]
    np.testing.assert_array_equal(np.stack(a), np.stack(b))
