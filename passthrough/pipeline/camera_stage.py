"""Camera-rate stage: rectify a stereo frame and reconstruct depth for both rectified cameras.

Output depths are z in metres along each rectified camera's optical axis (OpenCV axes), NaN where
unknown. The depth stage's left disparity map (cleaned for view synthesis by the stage itself, as
:func:`passthrough.depth.upsample.clean_disparity` cleans the maps of ``passthrough eval reprojection``)
is forward-warped into the right view (z-buffered: the nearest surface wins), so one stereo match serves
both cameras of the reprojection.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Optional, Tuple

import numba
import numpy as np

from ..frames import StereoFrame
from ..io.images import to_bgr, to_gray

#: ``depth_fn(left_gray, right_gray, frame) -> (disparity_left float32 (H, W) px NaN-invalid, confidence float32)``
DepthFn = Callable[[np.ndarray, np.ndarray, StereoFrame], Tuple[np.ndarray, np.ndarray]]


@dataclass
class CameraOutput:
    """What the camera stage hands to the display stage (all images rectified, full resolution).

    Attributes:
        index, t_capture_ns: the frame's index and capture time (source clock, ns).
        left_bgr, right_bgr: uint8 (H, W, 3) rectified images.
        depth_left, depth_right: float32 (H, W) z in metres, NaN unknown.
        disparity, confidence: float32 (H, W) left disparity (px) and its confidence 0..1.
        K: (3, 3) rectified intrinsics (both cameras).
        T_world_from_left, T_world_from_right: rectified camera poses at capture time.
        t_done_ns: ``time.monotonic_ns()`` when depth finished (real clock) or virtual time in replays.
        rectify_ms, depth_ms: stage times.
        display_feeds, prepare_ms: the reprojection model's per-camera-frame inputs (packed images, depth
            and validity), made on the camera thread by :meth:`DisplayStage.prepare
            <passthrough.pipeline.display_stage.DisplayStage.prepare>` so that no display frame pays for
            them, and the time that took (None / 0 until then).
    """

    index: int
    t_capture_ns: int
    left_bgr: np.ndarray
    right_bgr: np.ndarray
    depth_left: np.ndarray
    depth_right: np.ndarray
    disparity: np.ndarray
    confidence: np.ndarray
    K: np.ndarray
    T_world_from_left: np.ndarray
    T_world_from_right: np.ndarray
    t_done_ns: int = 0
    rectify_ms: float = 0.0
    depth_ms: float = 0.0
    left_gray: Optional[np.ndarray] = field(default=None, repr=False)
    right_gray: Optional[np.ndarray] = field(default=None, repr=False)
    display_feeds: Optional[dict] = field(default=None, repr=False)
    prepare_ms: float = 0.0


@numba.njit(cache=True, nogil=True)  # no fastmath: NaN disparities must compare False
def _warp_left_disparity_to_right(disp: np.ndarray) -> np.ndarray:
    """float32 (H, W) right-view disparity, -1 where no left pixel lands. Each left pixel writes the max of
    its disparity into right columns ``floor(x - d)`` and the next one (both neighbours: no cracks);
    branch-free: invalid pixels write -1, and out-of-range columns go to two dump columns."""
    H, W = disp.shape
    out = np.full((H, W + 2), -1.0, np.float32)  # columns 0 and W + 1 are the dump slots
    for y in range(H):
        row = out[y]
        src = disp[y]
        for x in range(W):
            d = src[x]
            v = d if d > 0 else np.float32(-1.0)  # NaN compares False: no write
            s0 = np.int64(np.floor(np.float32(x) - d)) + 1  # right column + 1
            x0 = min(max(s0, 0), W + 1)
            x1 = min(max(s0 + 1, 0), W + 1)
            row[x0] = max(row[x0], v)  # larger disparity = nearer surface wins
            row[x1] = max(row[x1], v)
    return out[:, 1:W + 1].copy()


def right_disparity_from_left(disp_left: np.ndarray, fill: bool = True) -> np.ndarray:
    """Forward-warp a left disparity map (float32 (H, W), px, NaN invalid) into the right view:
    right pixel ``x - d`` gets ``d``; the largest disparity (nearest surface) wins.

    ``fill``: right pixels no left pixel lands on (what only the right camera sees: occlusions beside
    near objects, its right border, and cracks where the disparity jumps) get the farther of the nearest
    disparities left and right on their row (:func:`passthrough.depth.upsample.fill_holes`, the depth
    stage's own occlusion fill), so the right depth is dense like the left one. Unfilled (``fill=False``)
    they are NaN; on the demo's ``pov_controllers`` pair that was 15 % of the right view, and the
    reprojection model counts a camera without depth at a point as not seeing it (the right eye then
    had 26 % hole pixels instead of 18 %)."""
    out = _warp_left_disparity_to_right(np.ascontiguousarray(disp_left, dtype=np.float32))
    if fill:
        from ..depth.upsample import fill_holes

        return fill_holes(out)
    out[out < 0] = np.nan
    return out


#: nearest surface the pipeline's depth search covers: hands held in front of a headset are 0.4-0.7 m
#: from its cameras (the OAK-D ``pov_hands`` pair: 0.46-0.48 m); nearer hands are still tracked and
#: occlude holograms through the hand tracker's 3-D joints.
NEAR_M = 0.4


def default_depth_fn(method: Optional[str] = None, near_m: float = NEAR_M, temporal: bool = True) -> DepthFn:
    """A :data:`DepthFn` over :class:`passthrough.depth.DepthEstimator` (the depth stage's default method
    unless ``method`` names another), searching disparities down to ``near_m`` metres, temporally
    filtered across frames of a sequence."""
    from ..depth import DEFAULT_METHOD, DepthEstimator, default_num_disparities

    estimators = {}

    def fn(left_gray, right_gray, frame):
        rig = frame.rig
        est = estimators.get(id(rig))
        if est is None:
            n = default_num_disparities(rig.rectified_size[0], rig.focal_px, rig.baseline_m, near_m=near_m)
            est = estimators[id(rig)] = DepthEstimator(method or DEFAULT_METHOD, num_disparities=n, temporal=temporal)
        res = est.compute(left_gray, right_gray)  # no rig: the camera stage converts both views to depth
        return res.disparity, res.confidence

    fn.method = method or DEFAULT_METHOD
    return fn


class CameraStage:
    """Rectify + depth for each frame. ``pose_fn(t_capture_ns) -> T_world_from_head`` gives the rig's
    pose at capture (identity for a static rig)."""

    def __init__(self, depth_fn: DepthFn, pose_fn: Callable[[int], np.ndarray]):
        self.depth_fn = depth_fn
        self.pose_fn = pose_fn

    def process(self, frame: StereoFrame) -> CameraOutput:
        t0 = time.perf_counter_ns()
        left, right = frame.rectified()
        lg, rg = to_gray(left), to_gray(right)
        t1 = time.perf_counter_ns()
        disp, conf = self.depth_fn(lg, rg, frame)
        rig = frame.rig
        disp_r = right_disparity_from_left(disp)
        depth_l = rig.disparity_to_depth(disp)
        depth_r = rig.disparity_to_depth(disp_r)
        t2 = time.perf_counter_ns()
        T_world_from_head = self.pose_fn(frame.t_left_ns)
        return CameraOutput(
            frame.index, frame.t_left_ns, to_bgr(left), to_bgr(right), depth_l, depth_r, disp, conf, rig.K_rect,
            T_world_from_head @ rig.T_head_from_left_rect, T_world_from_head @ rig.T_head_from_right_rect,
            t_done_ns=time.monotonic_ns(), rectify_ms=(t1 - t0) / 1e6, depth_ms=(t2 - t1) / 1e6,
            left_gray=lg, right_gray=rg,
        )
