"""The baseline a user would write with OpenCV alone, and per-stage references.

Naive pipeline per stereo frame: full-resolution ``cv2.StereoSGBM`` -> ``cv2.reprojectImageTo3D`` ->
for each eye, transform the points, project them and splat them into the eye image with a z-buffer
(nearest point wins; numpy ``lexsort`` + fancy indexing). No hole filling, no fusion of the right camera.

Reference for the reprojection stage alone: ``cv2.remap`` of each camera image through a precomputed
warp (the cost floor of any per-pixel warp; no visibility handling).
"""

from __future__ import annotations

from typing import List, Tuple

import cv2
import numpy as np

from passthrough.geometry import invert_T


class NaivePipeline:
    """SGBM + reprojectImageTo3D + per-eye point splat, for one rig."""

    def __init__(self, rig, num_disparities: int):
        self.rig = rig
        n = int(np.ceil(num_disparities / 16) * 16)
        self.sgbm = cv2.StereoSGBM_create(minDisparity=0, numDisparities=n, blockSize=5, P1=8 * 25, P2=32 * 25,
                                          disp12MaxDiff=1, uniquenessRatio=10, speckleWindowSize=100,
                                          speckleRange=2, mode=cv2.STEREO_SGBM_MODE_SGBM_3WAY)
        K = rig.K_rect
        f, B, cx, cy = K[0, 0], rig.baseline_m, K[0, 2], K[1, 2]
        # Q maps (x, y, d, 1) to homogeneous 3-D points in the left rectified camera frame (metres)
        self.Q = np.array([[1, 0, 0, -cx], [0, 1, 0, -cy], [0, 0, 0, f], [0, 0, 1.0 / B, rig.doffs / B]])

    def disparity(self, left_gray, right_gray) -> np.ndarray:
        return self.sgbm.compute(left_gray, right_gray).astype(np.float32) / 16.0

    def render(self, left_bgr, left_gray, right_gray, T_eye_from_left: List[np.ndarray], K_eye,
               size) -> Tuple[List[np.ndarray], np.ndarray]:
        """Both eyes' images (uint8 BGR, black where no point landed) and the disparity used."""
        disp = self.disparity(left_gray, right_gray)
        pts = cv2.reprojectImageTo3D(disp, self.Q)
        valid = disp > 0
        p = pts[valid].astype(np.float64)
        colours = left_bgr[valid]
        w, h = size
        eyes = []
        for T in T_eye_from_left:
            q = p @ T[:3, :3].T + T[:3, 3]
            z = q[:, 2]
            ok = z > 0.05
            u = np.round(K_eye[0, 0] * q[ok, 0] / z[ok] + K_eye[0, 2]).astype(np.int64)
            v = np.round(K_eye[1, 1] * q[ok, 1] / z[ok] + K_eye[1, 2]).astype(np.int64)
            zz, cc = z[ok], colours[ok]
            inside = (u >= 0) & (u < w) & (v >= 0) & (v < h)
            u, v, zz, cc = u[inside], v[inside], zz[inside], cc[inside]
            order = np.argsort(-zz)  # far first: nearer points overwrite
            img = np.zeros((h, w, 3), np.uint8)
            img[v[order], u[order]] = cc[order]
            eyes.append(img)
        return eyes, disp


def remap_reference_maps(K, size, T_eye_from_cam: np.ndarray, depth_m: float = 2.0):
    """A plane-induced warp (points at ``depth_m``) as cv2.remap tables: the cheapest per-pixel warp."""
    w, h = size
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    Kinv = np.linalg.inv(K)
    rays = np.stack([xs, ys, np.ones_like(xs)], -1) @ Kinv.T * depth_m
    T = invert_T(T_eye_from_cam)  # eye pixel -> camera
    pc = rays @ T[:3, :3].T + T[:3, 3]
    mx = (K[0, 0] * pc[..., 0] / pc[..., 2] + K[0, 2]).astype(np.float32)
    my = (K[1, 1] * pc[..., 1] / pc[..., 2] + K[1, 2]).astype(np.float32)
    return cv2.convertMaps(mx, my, cv2.CV_16SC2)
