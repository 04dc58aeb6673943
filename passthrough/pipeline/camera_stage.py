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
        K, K_right: (3, 3) rectified intrinsics of the left and the right camera (the right's principal point
            lies ``StereoRig.doffs`` px further right: Middlebury's pairs; ``K_right`` defaults to ``K``).
        T_world_from_left, T_world_from_right: rectified camera poses at capture time.
        t_done_ns: ``time.monotonic_ns()`` when depth finished (real clock) or virtual time in replays.
        rectify_ms, depth_ms: stage times.
        display_feeds, prepare_ms: the reprojection model's per-camera-frame inputs (packed images, depth
            and validity), made on the camera thread by :meth:`DisplayStage.prepare
            <passthrough.pipeline.display_stage.DisplayStage.prepare>` so that no display frame pays for
            them, and the time that took (None / 0 until then).
        depth_index: the camera frame whose stereo pair the depth maps come from: ``index`` (the default),
            or an earlier frame's for an image-first output (:meth:`CameraStage.early`; its ``depth_ms``
            is then the time to move that depth to this frame's pose).
        early_ms: on a full output that had an early one, what the early one cost the camera stage (moving
            the depth + its model inputs, ms).
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
    depth_index: int = -1
    early_ms: float = 0.0
    K_right: Optional[np.ndarray] = None

    def __post_init__(self):
        if self.depth_index < 0:
            self.depth_index = self.index
        if self.K_right is None:
            self.K_right = self.K

    @property
    def early(self) -> bool:
        """True for an image-first output (:meth:`CameraStage.early`): its depth is an earlier frame's."""
        return self.depth_index != self.index


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


def right_disparity_rows(disp_left: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Rows ``lo:hi`` of :func:`right_disparity_from_left` ``(disp_left)`` (float32 (hi - lo, W)),
    computed on those rows and the hole fill's vertical reach around them only (the warp works row by
    row; the fill looks up to :data:`passthrough.depth._kernels.VERTICAL_REACH` rows up and down)."""
    from ..depth._kernels import VERTICAL_REACH

    a, b = max(0, lo - VERTICAL_REACH), min(disp_left.shape[0], hi + VERTICAL_REACH)
    return right_disparity_from_left(disp_left[a:b])[lo - a:hi - a]


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


def _same_time(t_ns: int) -> int:
    return t_ns


class CameraStage:
    """Rectify + depth for each frame. ``pose_fn(t_capture_ns) -> T_world_from_head`` gives the rig's
    pose at capture (identity for a static rig).

    :meth:`process` does both steps; the scheduler's image-first mode calls them apart: :meth:`rectify`,
    then :meth:`early` (the new images with the previous frame's depth, shown while depth runs), then
    :meth:`finish` (the new depth)."""

    def __init__(self, depth_fn: DepthFn, pose_fn: Callable[[int], np.ndarray], refresh: bool = True):
        self.depth_fn = depth_fn
        self.pose_fn = pose_fn
        self.refresh = refresh
        #: maps a frame's capture stamp to the clock ``pose_fn`` runs on (the source's): the identity, except
        #: while :meth:`Pipeline.run_realtime <.scheduler.Pipeline.run_realtime>` stamps frames with the wall clock
        self.pose_clock: Callable[[int], int] = _same_time

    def process(self, frame: StereoFrame) -> CameraOutput:
        return self.finish(self.rectify(frame))

    def rectify(self, frame: StereoFrame) -> "Rectified":
        """Step 1: the rectified images (colour and gray) and the rig's pose at capture."""
        t0 = time.perf_counter_ns()
        left, right = frame.rectified()
        lg, rg = to_gray(left), to_gray(right)
        rig = frame.rig
        T_world_from_head = self.pose_fn(self.pose_clock(frame.t_left_ns))
        return Rectified(frame, to_bgr(left), to_bgr(right), lg, rg, T_world_from_head @ rig.T_head_from_left_rect,
                         T_world_from_head @ rig.T_head_from_right_rect, (time.perf_counter_ns() - t0) / 1e6)

    def finish(self, rect: "Rectified") -> CameraOutput:
        """Step 2: depth of both rectified cameras from the pair."""
        frame, rig = rect.frame, rect.frame.rig
        t1 = time.perf_counter_ns()
        disp, conf = self.depth_fn(rect.left_gray, rect.right_gray, frame)
        disp_r = right_disparity_from_left(disp)
        depth_l = rig.disparity_to_depth(disp)
        depth_r = rig.disparity_to_depth(disp_r)
        t2 = time.perf_counter_ns()
        return CameraOutput(
            frame.index, frame.t_left_ns, rect.left_bgr, rect.right_bgr, depth_l, depth_r, disp, conf, rig.K_rect,
            rect.T_world_from_left, rect.T_world_from_right, t_done_ns=time.monotonic_ns(),
            rectify_ms=rect.rectify_ms, depth_ms=(t2 - t1) / 1e6, left_gray=rect.left_gray, right_gray=rect.right_gray,
            K_right=rig.K_rect_right,
        )

    def early(self, rect: "Rectified", previous: CameraOutput, refresh: Optional[bool] = None) -> CameraOutput:
        """The image-first output: ``rect``'s images with ``previous``'s depth, each map moved to the new
        camera pose (:func:`passthrough.depth.warp.warp_depth`; the same array objects when the rig did not
        move, as for a static rig). With ``refresh`` (the default) the moved left map is then checked
        against the new pair and re-chosen where the pair contradicts it (something in the scene moved:
        :func:`passthrough.depth.refresh.refresh_disparity`; on a moving rig each new pixel is compared
        with the old pixel it shows, :func:`passthrough.depth.warp.source_pixels`), and the right map
        follows it as in :meth:`finish`: on a static rig on the rows that changed, on a moving one
        entirely (instead of being moved itself). ``refresh``: None = the stage's setting; the maps must
        be at the images' size. ``depth_index`` names the frame the depth was computed from;
        ``disparity`` and ``confidence`` stay the previous frame's (left camera at its own pose)."""
        from ..depth.warp import warp_depth
        from ..geometry import invert_T

        t0 = time.perf_counter_ns()
        frame, K = rect.frame, previous.K
        refresh = self.refresh if refresh is None else refresh
        T_new_from_old = invert_T(rect.T_world_from_left) @ previous.T_world_from_left
        depth_l = warp_depth(previous.depth_left, K, T_new_from_old)
        moved = depth_l is not previous.depth_left
        if not (refresh and moved):  # with the refresh on a moving rig, the right map follows the left
            depth_r = warp_depth(previous.depth_right, previous.K_right,
                                 invert_T(rect.T_world_from_right) @ previous.T_world_from_right)
        if refresh:
            from ..depth.refresh import refresh_disparity
            from ..depth.warp import source_pixels

            rig = frame.rig
            matched_on = (previous.left_gray, previous.right_gray, previous.disparity)
            source_of = None  # static: each pixel shows the old pixel at its place
            if moved:
                source_of = (lambda ys, xs, z=depth_l, T=invert_T(T_new_from_old): source_pixels(z, K, T, ys, xs))
            fresh, changed = refresh_disparity(rect.left_gray, rect.right_gray, rig.depth_to_disparity(depth_l),
                                               matched_on if previous.left_gray is not None else None,
                                               source_of=source_of)
            rows = np.flatnonzero(changed.any(axis=1))
            if moved:
                depth_l = rig.disparity_to_depth(fresh) if rows.size else depth_l
                depth_r = rig.disparity_to_depth(right_disparity_from_left(fresh))
            elif rows.size:  # both maps change on the rows the refresh touched, and between them
                lo, hi = int(rows[0]), int(rows[-1]) + 1
                depth_l, depth_r = depth_l.copy(), depth_r.copy()
                depth_l[lo:hi] = rig.disparity_to_depth(fresh[lo:hi])
                depth_r[lo:hi] = rig.disparity_to_depth(right_disparity_rows(fresh, lo, hi))
        return CameraOutput(
            frame.index, frame.t_left_ns, rect.left_bgr, rect.right_bgr, depth_l, depth_r, previous.disparity,
            previous.confidence, K, rect.T_world_from_left, rect.T_world_from_right, t_done_ns=time.monotonic_ns(),
            rectify_ms=rect.rectify_ms, depth_ms=(time.perf_counter_ns() - t0) / 1e6, left_gray=rect.left_gray,
            right_gray=rect.right_gray, depth_index=previous.depth_index, K_right=previous.K_right,
        )


@dataclass
class Rectified:
    """A frame after :meth:`CameraStage.rectify`: uint8 (H, W, 3) BGR and (H, W) gray rectified images,
    the rectified cameras' poses at capture (4x4, world from camera) and the time it took (ms)."""

    frame: StereoFrame
    left_bgr: np.ndarray
    right_bgr: np.ndarray
    left_gray: np.ndarray
    right_gray: np.ndarray
    T_world_from_left: np.ndarray
    T_world_from_right: np.ndarray
    rectify_ms: float
