"""Display-rate stage: reproject the newest camera frame to the eye poses of the predicted display time,
render the holograms per eye, and composite them with occlusion by real surfaces and tracked hands.

Every call is self-contained: it never waits for the camera or hand stages; it uses whatever they last
delivered (late correction: a stalled camera still yields a correct view for the *current* head pose,
only with older content).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import List, Optional

import cv2
import numpy as np

from ..geometry import invert_T, transform_points
from ..holograms import Scene, composite_layer, render_eye_layer
from .camera_stage import CameraOutput
from .eyes import EyeView

#: hand bones (MediaPipe joint indices) drawn into the eye-space hand mask
HAND_BONES = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11),
              (11, 12), (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18), (18, 19), (19, 20)]
PALM = [0, 1, 5, 9, 13, 17]
FINGER_RADIUS_M = 0.011


@dataclass
class DisplayOutput:
    """One display frame: per-eye composited images and what went into them.

    Attributes:
        eyes_bgr: uint8 (2, H, W, 3). eye_depth: float32 (2, H, W) real depth seen by each eye (NaN
        unknown). holes: bool (2, H, W) pixels no camera saw. holo_weight: float32 (2, H, W).
        camera_index, t_capture_ns: the camera frame used. timings: ms per step.
    """

    eyes_bgr: np.ndarray
    eye_depth: np.ndarray
    holes: np.ndarray
    holo_weight: np.ndarray
    camera_index: int
    t_capture_ns: int
    timings: dict = field(default_factory=dict)


def hand_depth_in_eye(joints_world: List[np.ndarray], view: EyeView, box=None) -> np.ndarray:
    """float32 (H, W) eye depth of tracked hands (``inf`` elsewhere), drawn from 3-D joints (21, 3) in the
    world frame as capsules (bones) and a filled palm, far bones first so nearer ones overwrite.
    ``box`` = ``(x0, y0, w, h)`` px: draw only that part of the eye image (returns (h, w))."""
    x0, y0, w, h = (0, 0) + tuple(view.size) if box is None else box
    out = np.full((h, w), np.inf, np.float32)
    T_eye_from_world = invert_T(view.T_world_from_eye)
    K = view.K
    for joints in joints_world:
        p = transform_points(T_eye_from_world, joints)
        if np.any(p[:, 2] < 0.05):
            continue
        uv = np.stack([K[0, 0] * p[:, 0] / p[:, 2] + K[0, 2] - x0, K[1, 1] * p[:, 1] / p[:, 2] + K[1, 2] - y0], 1)
        pts = np.round(uv * 16).astype(np.int32)  # 4 fractional bits
        palm_z = float(p[PALM, 2].mean())
        bones = sorted(HAND_BONES, key=lambda b: -(p[b[0], 2] + p[b[1], 2]))
        cv2.fillConvexPoly(out, cv2.convexHull(pts[PALM]), palm_z, lineType=cv2.LINE_8, shift=4)
        for a, b in bones:
            z = float((p[a, 2] + p[b, 2]) / 2)
            thick = max(2, int(round(2 * K[0, 0] * FINGER_RADIUS_M / z)))
            cv2.line(out, tuple(pts[a]), tuple(pts[b]), z, thick, lineType=cv2.LINE_8, shift=4)
    return out


class DisplayStage:
    """Reprojection + holograms + compositing for both eyes.

    Args:
        reprojector: a :class:`reprojection.runtime.Reprojector` (the ONNX model).
        scene: holograms (world frame).
        softness: relative width of the soft depth edge in compositing.
    """

    def __init__(self, reprojector, scene: Scene, softness: float = 0.03):
        self.reprojector = reprojector
        self.scene = scene
        self.softness = softness

    def prepare(self, cam: CameraOutput, previous: Optional[CameraOutput] = None) -> CameraOutput:
        """Make the reprojection model's per-camera-frame inputs (packed images, depth, validity) for
        ``cam`` now, on the calling thread (the camera stage's), into ``cam.display_feeds``; each display
        frame showing ``cam`` then skips them (0.8 ms per camera frame of ``passthrough demo``: the
        ``prepare_ms`` column of its ``camera_frames.csv``). ``previous``: an output prepared before whose
        images or depth maps ``cam`` shares (the same arrays: a frame's early and full outputs in the
        image-first mode); those inputs are taken from it, not made again. Returns ``cam``."""
        t0 = time.perf_counter_ns()
        reuse = previous.display_feeds if previous is not None else None
        cam.display_feeds = self.reprojector.camera_feeds(
            cam.left_bgr, cam.right_bgr, cam.depth_left, cam.depth_right, reuse=reuse,
            reuse_images=reuse is not None and cam.left_bgr is previous.left_bgr and cam.right_bgr is previous.right_bgr,
            reuse_depth=reuse is not None and cam.depth_left is previous.depth_left
            and cam.depth_right is previous.depth_right)
        cam.prepare_ms = (time.perf_counter_ns() - t0) / 1e6
        return cam

    def render(self, cam: CameraOutput, views: List[EyeView], hands_world: Optional[List[np.ndarray]] = None
               ) -> DisplayOutput:
        """Render both eyes for ``views`` (left, right) from camera output ``cam``; ``hands_world`` are the
        tracked hands' 3-D joints (21, 3) in the world frame. ``timings`` (ms): ``reproject_ms``,
        ``holograms_ms``, ``hand_mask_ms``, ``composite_ms``, ``display_ms`` (wall time of the whole call)
        and ``display_cpu_ms`` (the calling thread's CPU time during it: the rest of ``display_ms`` the
        thread waited, preempted on its core, for the GIL held by another thread, or by the hypervisor)."""
        t0 = time.perf_counter_ns()
        c0 = time.thread_time_ns()
        T_eye_from_left = [invert_T(v.T_world_from_eye) @ cam.T_world_from_left for v in views]
        T_eye_from_right = [invert_T(v.T_world_from_eye) @ cam.T_world_from_right for v in views]
        K_eyes = np.stack([v.K for v in views])
        imgs, depth, holes = self.reprojector.render(
            cam.left_bgr, cam.right_bgr, cam.depth_left, cam.depth_right, cam.K, cam.K_right, K_eyes,
            T_eye_from_left, T_eye_from_right, camera_key=(cam.index, cam.t_capture_ns), unknown_depth=np.nan,
            camera_feeds=cam.display_feeds)
        depth = np.asarray(depth, np.float32)  # NaN where unknown, written by the reprojector itself
        t1 = time.perf_counter_ns()
        out = imgs  # the reprojector's fresh arrays: holograms are composited into them in place
        weights = np.zeros(depth.shape, np.float32)
        t_holo = t_hand = 0
        for e, view in enumerate(views):
            ta = time.perf_counter_ns()
            layer = render_eye_layer(self.scene, invert_T(view.T_world_from_eye), view.K, view.size)
            tb = time.perf_counter_ns()
            if layer is not None:  # only the holograms' box is rasterised, masked and composited
                h, w = layer.depth.shape
                hand_z = hand_depth_in_eye(hands_world, view, (layer.x0, layer.y0, w, h)) if hands_world else None
                tc = time.perf_counter_ns()
                rows, cols = layer.slices
                weights[e][rows, cols] = composite_layer(out[e], depth[e], layer, hand_z, self.softness)
            else:
                tc = tb
            t_holo += tb - ta
            t_hand += tc - tb
        t2 = time.perf_counter_ns()
        cpu_ms = (time.thread_time_ns() - c0) / 1e6
        timings = {"reproject_ms": (t1 - t0) / 1e6, "holograms_ms": t_holo / 1e6, "hand_mask_ms": t_hand / 1e6,
                   "composite_ms": (t2 - t1 - t_holo - t_hand) / 1e6, "display_ms": (t2 - t0) / 1e6,
                   "display_cpu_ms": cpu_ms}
        return DisplayOutput(out, depth, holes, weights, cam.index, cam.t_capture_ns, timings)
