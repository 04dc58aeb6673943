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


def gridsample_reference(images_bgr, float_maps, threads: int = 1):
    """The issue's yardstick for the reprojection's cost: onnxruntime's ``GridSample`` (bilinear, zero
    padding, ``align_corners=0``) of each uint8 (H, W, 3) image along its smooth grid (``float_maps``: the
    ``(map_x, map_y)`` pixel tables of :func:`reference_float_maps`), one call per eye, on ``threads``
    intra-op threads without spinning, as the project's own sessions. Returns a function that runs every
    call once; its inputs (float32 NCHW images, normalised grids) are made here, outside the timing."""
    import onnxruntime as ort
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("GridSample", ["x", "grid"], ["y"], mode="linear", padding_mode="zeros", align_corners=0)],
        "gridsample", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, None, None]),
                       helper.make_tensor_value_info("grid", TensorProto.FLOAT, [1, None, None, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, None, None])])
    so = ort.SessionOptions()
    so.intra_op_num_threads = max(1, threads)
    so.inter_op_num_threads = 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sess = ort.InferenceSession(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)]).SerializeToString(),
                                so, providers=["CPUExecutionProvider"])
    feeds = []
    for img, (mx, my) in zip(images_bgr, float_maps):
        h, w = img.shape[:2]
        grid = np.stack([(mx + 0.5) / w * 2 - 1, (my + 0.5) / h * 2 - 1], -1)[None].astype(np.float32)
        x = np.ascontiguousarray(img.transpose(2, 0, 1)[None], np.float32)
        feeds.append({"x": x, "grid": grid})

    def run():
        for f in feeds:
            sess.run(None, f)
    return run


def reference_float_maps(K, size, T_eye_from_cam: np.ndarray, depth_m: float = 2.0):
    """``(map_x, map_y)`` float32 (H, W) camera pixel of each eye pixel for points at ``depth_m`` (a plane
    at that depth ahead of the eye): a plane-induced warp, the cheapest per-pixel warp (the bench's
    ``cv2.remap`` baseline converts it to fixed-point tables)."""
    w, h = size
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    Kinv = np.linalg.inv(K)
    rays = np.stack([xs, ys, np.ones_like(xs)], -1) @ Kinv.T * depth_m
    T = invert_T(T_eye_from_cam)  # eye pixel -> camera
    pc = rays @ T[:3, :3].T + T[:3, 3]
    mx = (K[0, 0] * pc[..., 0] / pc[..., 2] + K[0, 2]).astype(np.float32)
    my = (K[1, 1] * pc[..., 1] / pc[..., 2] + K[1, 2]).astype(np.float32)
    return mx, my
