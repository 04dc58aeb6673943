"""Fisheye (equidistant) stereo, as on headset tracking cameras: rectification puts matches on one row."""

import cv2
import numpy as np
import pytest

from passthrough.calibration import CameraModel, StereoRig
from passthrough.datasets import open_source
from passthrough.geometry import make_T


def _rot_y(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _fisheye_rig():
    K = np.array([[260.0, 0, 319.5], [0, 260.0, 239.5], [0, 0, 1]])
    dist = np.array([0.04, -0.012, 0.003, -0.0006])
    left = CameraModel(K, dist, "fisheye", (640, 480))
    right = CameraModel(K * [[1.01], [1.01], [1]], dist * 0.9, "fisheye", (640, 480))
    # cameras 10 cm apart, each toed out by 3 degrees (headset tracking cameras look slightly outwards)
    return StereoRig(left, right, make_T(_rot_y(-0.05), [-0.05, 0, 0]), make_T(_rot_y(0.05), [0.05, 0, 0]))


def _dot(cam: CameraModel, p_cam: np.ndarray) -> np.ndarray:
    uv, _ = cv2.fisheye.projectPoints(p_cam.reshape(1, 1, 3), np.zeros(3), np.zeros(3), cam.K, cam.dist)
    img = np.zeros((cam.size[1], cam.size[0]), np.uint8)
    cv2.circle(img, tuple(np.round(uv.ravel() * 16).astype(int)), 3 * 16, 255, -1, cv2.LINE_AA, shift=4)
    return img


def _centroid(img):
    m = cv2.moments(img.astype(np.float32))
    return np.array([m["m10"] / m["m00"], m["m01"] / m["m00"]])


def test_fisheye_rectification_aligns_rows():
    rig = _fisheye_rig()
    assert not rig.is_prerectified
    assert rig.baseline_m == pytest.approx(0.1, rel=0.01)
    T_left_from_head = np.linalg.inv(rig.T_head_from_left)
    T_right_from_head = np.linalg.inv(rig.T_head_from_right)
    dys, disparities = [], []
    for x in (-0.8, -0.3, 0.2, 0.7):
        for y in (-0.5, 0.0, 0.4):
            p_head = np.array([x, y, 1.5])
            pl = T_left_from_head[:3, :3] @ p_head + T_left_from_head[:3, 3]
            pr = T_right_from_head[:3, :3] @ p_head + T_right_from_head[:3, 3]
            l, r = rig.rectify(_dot(rig.left, pl), _dot(rig.right, pr))
            if l.sum() < 1000 or r.sum() < 1000:
                continue  # fell outside the rectified view
            cl, cr = _centroid(l), _centroid(r)
            dys.append(abs(cl[1] - cr[1]))
            disparities.append(cl[0] - cr[0])
    assert len(dys) >= 8
    assert np.median(dys) < 0.3 and max(dys) < 1.0
    # depth from the rectified disparity: the points are ~1.5 m ahead of the rig (along the rectified axis)
    z = rig.disparity_to_depth(np.array(disparities))
    assert np.all((z > 1.3) & (z < 1.9))


def test_asl_sensor_yaml_with_equidistant_model(copy_of):
    root = copy_of("sequences/euroc-MH_01_easy-first5")
    for cam in ("cam0", "cam1"):
        y = root / "mav0" / cam / "sensor.yaml"
        text = y.read_text().replace("distortion_model: radial-tangential", "distortion_model: equidistant")
        y.write_text(text)
    src = open_source(root)
    assert src.rig.left.model == "fisheye" and src.rig.right.dist.size == 4
    left, right = next(iter(src)).rectified()
    assert left.shape == (480, 752)
