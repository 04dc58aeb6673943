"""One interface, several stereo methods chosen by name: :class:`DepthEstimator` and :class:`DepthResult`.

Every method takes a rectified pair (left/right, uint8 (H, W) grayscale or (H, W, 3) BGR, equal size,
OpenCV pixel convention) and returns a :class:`DepthResult` for the *left rectified camera* at the
input's full resolution. Methods that match at reduced resolution bring the disparity back with
confidence-weighted joint bilateral upsampling guided by the full-resolution left image, after filling
holes (occlusions, left-right failures) so the map is dense; the confidence map is low where pixels
were filled or failed the checks.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Dict, Optional

import cv2
import numpy as np

from ..io.images import to_gray
from . import opencv_methods as ocv
from .recover import RecoverParams, recover_thin
from .sgm import SGMParams, census_sgm, warmup
from .upsample import fill_holes, joint_bilateral_upsample, median_disparity


@dataclass
class DepthResult:
    """Depth of the left rectified camera at full input resolution.

    Attributes:
        disparity: float32 (H, W) disparity in px (left image; right match at ``x - d``); NaN where the
            method gave no estimate (only methods with ``fill=False``, e.g. ``opencv_sgbm_full``).
        depth_m: float32 (H, W) depth z in metres along the left rectified optical axis,
            ``z = f * B / (d + doffs)`` with the rig's focal (px), baseline (m) and doffs (px); NaN where
            the disparity is unknown or ``d + doffs <= 0``; None when no rig was given.
        confidence: float32 (H, W) in 0..1: ~1 where the match was unique and left-right consistent,
            ~0 where the value was filled in (occlusion, inconsistent, not unique, no estimate).
        timings: milliseconds per stage (``resize_ms``, ``match_ms``, ``fill_ms``, ``upsample_ms``,
            ``recover_ms``, ``temporal_ms``, ``median_ms``, ``total_ms``; own matcher also
            ``census_cost_ms``, ``aggregate_select_ms`` (path sweeps incl. the fused winner-take-all),
            ``checks_ms`` (left-right check)).
        method: method name; scale: matching resolution / input resolution; num_disparities: search
            range at full resolution (px).
    """

    disparity: np.ndarray
    depth_m: Optional[np.ndarray]
    confidence: np.ndarray
    timings: Dict[str, float]
    method: str
    scale: float
    num_disparities: int

    @property
    def valid(self) -> np.ndarray:
        """bool (H, W): pixels with a disparity estimate."""
        return np.isfinite(self.disparity)


@dataclass(frozen=True)
class MethodSpec:
    """A named configuration.

    Attributes:
        name: registry key.
        kind: ``"census_sgm"`` (own numba matcher), ``"opencv_sgbm"`` or ``"opencv_bm"``.
        scale: matching resolution relative to the input (0 < scale <= 1), horizontally; used as the
            integer factor ``round(1 / scale)`` so low-res pixels cover whole full-res pixels.
        scale_y: vertical matching resolution (None = ``scale``); disparity precision depends only on
            the horizontal resolution, so matching can be coarser vertically.
        description: one line for ``--help``/reports.
        sgm: parameters of the own matcher.
        block_size: OpenCV block size (odd); for the own matcher the census window width.
        sgbm_mode: ``cv2.STEREO_SGBM_MODE_*`` for OpenCV SGBM.
        fill: fill holes and upsample edge-aware (dense output); False keeps invalid pixels as NaN.
        sigma_range: intensity sigma of the joint bilateral upsampling.
        recover: re-match pixels the pair contradicts at full resolution (thin structures the matcher
            lost, :func:`~passthrough.depth.recover.recover_thin`); None = off.
        snap: last, depth edges are moved to where the pair puts them
            (:func:`~passthrough.depth.snap.snap_edges`: pixels the pair contradicts take the nearest or
            farthest disparity around them where that fits much better; the fattened edges of a matcher
            at reduced resolution).
        median: with ``fill``, the map is cleaned for view synthesis as
            :func:`~passthrough.depth.upsample.clean_disparity` cleans a full-resolution map, at less cost:
            zero disparities (the search truncated at the left border) are holes for the fill at matching
            resolution, and the final map gets a median with this window (3 or 5; 0 = neither), after the
            temporal filter, which sees the maps before the median.
    """

    name: str
    kind: str
    scale: float
    description: str
    sgm: SGMParams = SGMParams()
    block_size: int = 7
    sgbm_mode: int = cv2.STEREO_SGBM_MODE_SGBM
    fill: bool = True
    sigma_range: float = 10.0
    scale_y: Optional[float] = None
    recover: Optional[RecoverParams] = None
    median: int = 5
    snap: bool = False


#: Shared matcher settings. ``speckle_size=12`` (regions of <= 12 matching-resolution pixels, i.e. ~100
#: full-resolution pixels at the 1/2 x 1/4 default, are dropped and refilled from the background side)
#: was picked on ``passthrough eval depth`` (Motorcycle-Q, ETH3D terrace, SceneFlow; see the package
#: docstring) among 0/8/12/16/25/40 px and ranges 0.5/1/2.
_SGM = SGMParams(census_radius=(2, 3), p1=8.0, p2=60.0, paths=4, uniqueness=5, lr_max_diff=1.0,
                 subpixel="parabola", speckle_size=12, speckle_range=1.0)

METHODS: Dict[str, MethodSpec] = {
    m.name: m
    for m in (
        MethodSpec("sgm_aniso", "census_sgm", 0.5,
                   "own census SGM (4 paths) at 1/2 horizontal x 1/4 vertical resolution + joint bilateral "
                   "upsampling (disparity precision needs horizontal resolution only)", _SGM, scale_y=0.25),
        MethodSpec("sgm_aniso_recover", "census_sgm", 0.5,
                   "as sgm_aniso, then pixels whose disparity the pair contradicts are re-matched at full "
                   "resolution (small-window search over the whole range, mutual matches kept): thin structures",
                   _SGM, scale_y=0.25, recover=RecoverParams()),
        MethodSpec("sgm_aniso_snap", "census_sgm", 0.5,
                   "as sgm_aniso, then pixels whose disparity the pair contradicts take the nearest or farthest "
                   "disparity around them where that fits the pair much better (depth edges snapped to image edges)",
                   _SGM, scale_y=0.25, snap=True),
        MethodSpec("sgm_aniso_3path", "census_sgm", 0.5,
                   "as sgm_aniso with 3 paths (both horizontal + bottom-to-top): one vertical sweep less",
                   replace(_SGM, paths=3), scale_y=0.25),
        MethodSpec("sgm_half", "census_sgm", 0.5,
                   "own census SGM (4 paths) at 1/2 resolution + joint bilateral upsampling", _SGM),
        MethodSpec("sgm_half_8path", "census_sgm", 0.5,
                   "own census SGM (8 paths) at 1/2 resolution + joint bilateral upsampling", replace(_SGM, paths=8)),
        MethodSpec("sgm_third", "census_sgm", 1.0 / 3.0,
                   "own census SGM (4 paths) at 1/3 resolution + joint bilateral upsampling", _SGM),
        MethodSpec("sgm_quarter", "census_sgm", 0.25,
                   "own census SGM (4 paths) at 1/4 resolution + joint bilateral upsampling", _SGM),
        MethodSpec("sgm_full", "census_sgm", 1.0, "own census SGM (4 paths) at full resolution", _SGM),
        MethodSpec("opencv_sgbm", "opencv_sgbm", 0.5,
                   "OpenCV StereoSGBM at 1/2 resolution + hole filling + joint bilateral upsampling", block_size=5),
        MethodSpec("opencv_bm", "opencv_bm", 0.5,
                   "OpenCV StereoBM at 1/2 resolution + hole filling + joint bilateral upsampling", block_size=9),
        MethodSpec("opencv_sgbm_full", "opencv_sgbm", 1.0,
                   "reference: OpenCV StereoSGBM at full resolution, invalid pixels left invalid",
                   block_size=5, fill=False),
    )
}

#: The method with the best accuracy/speed trade-off measured (see the package docstring).
DEFAULT_METHOD = "sgm_aniso_snap"

#: The reference every evaluation also runs.
REFERENCE_METHOD = "opencv_sgbm_full"


def get_method(name: str) -> MethodSpec:
    """The :class:`MethodSpec` called ``name``; ValueError listing the known names otherwise."""
    try:
        return METHODS[name]
    except KeyError:
        raise ValueError(f"unknown depth method {name!r}; known: {', '.join(METHODS)}") from None


def default_num_disparities(width: int, focal_px: Optional[float] = None, baseline_m: Optional[float] = None,
                            near_m: float = 0.5) -> int:
    """Search range (full-resolution px) when the data does not state one: the disparity of a point
    ``near_m`` metres away (``f * B / near_m``) when the rig is known, capped at ``width / 5``,
    rounded up to a multiple of 16, at least 32."""
    cap = width / 5.0
    n = cap
    if focal_px and baseline_m and focal_px > 0 and baseline_m > 0:
        n = min(cap, focal_px * baseline_m / near_m)
    return max(32, int(math.ceil(n / 16.0)) * 16)


def census_radius_for_block(block_size: int):
    """Census window ``(ry, rx)`` for an odd window width: ``rx = b // 2`` and the tallest
    ``ry <= rx - 1`` (at least 1) that keeps the code within 64 bits."""
    rx = block_size // 2
    ry = max(1, rx - 1)
    while ry > 0 and (2 * ry + 1) * (2 * rx + 1) - 1 > 64:
        ry -= 1
    return ry, rx


class DepthEstimator:
    """Stereo depth with a named method, optionally temporally filtered across calls.

    Args:
        method: a key of :data:`METHODS` (default :data:`DEFAULT_METHOD`).
        num_disparities: search range in full-resolution px (disparities ``0 .. n-1``); None = from the
            rig (see :func:`default_num_disparities`). Must be positive.
        scale: override the method's horizontal matching resolution (0 < scale <= 1; used as the
            integer factor ``round(1 / scale)``).
        block_size: override the block size (odd; census window width for the own matcher).
        temporal: apply a :class:`~passthrough.depth.temporal.TemporalFilter` across successive calls
            (use for video; call :meth:`reset` between unrelated sequences).
        sgm: override the own matcher's :class:`~passthrough.depth.sgm.SGMParams`.
        scale_y: override the vertical matching resolution (as ``scale``).
        median: override the method's final median window (0 = no cleaning; e.g. for a caller that
            cleans after a left-right check of its own).
        snap: override the method's edge snapping (``MethodSpec.snap``; off for a caller that snaps
            after cleaning of its own).

    Attributes:
        compile_ms: milliseconds the numba kernels took on their first call in this process (compile,
            or load from numba's on-disk cache); the same value for every estimator of the process, 0
            for OpenCV methods; not part of any per-frame timing.

    Raises:
        ValueError: unknown method, non-positive range, even block size, scale outside (0, 1].
    """

    def __init__(self, method: str = DEFAULT_METHOD, num_disparities: Optional[int] = None,
                 scale: Optional[float] = None, block_size: Optional[int] = None, temporal: bool = False,
                 sgm: Optional[SGMParams] = None, scale_y: Optional[float] = None, median: Optional[int] = None,
                 snap: Optional[bool] = None):
        spec = get_method(method)
        if num_disparities is not None and (int(num_disparities) != num_disparities or num_disparities <= 0):
            raise ValueError(f"disparity range must be a positive integer, got {num_disparities}")
        if scale is not None:
            if not (0.0 < scale <= 1.0):
                raise ValueError(f"scale must be in (0, 1], got {scale}")
            spec = replace(spec, scale=float(scale))
        if scale_y is not None:
            if not (0.0 < scale_y <= 1.0):
                raise ValueError(f"scale_y must be in (0, 1], got {scale_y}")
            spec = replace(spec, scale_y=float(scale_y))
        if block_size is not None:
            ocv.check_block_size(block_size, 3)
            spec = replace(spec, block_size=int(block_size))
            if spec.kind == "census_sgm":
                spec = replace(spec, sgm=replace(spec.sgm, census_radius=census_radius_for_block(int(block_size))))
        if sgm is not None:
            spec = replace(spec, sgm=sgm)
        if median is not None:
            spec = replace(spec, median=int(median))
        if snap is not None:
            spec = replace(spec, snap=bool(snap))
        if spec.median not in (0, 3, 5):
            raise ValueError(f"median window must be 0 (none), 3 or 5, got {spec.median}")
        if spec.kind == "census_sgm":
            spec.sgm.validate()
        elif spec.kind == "opencv_bm":
            ocv.check_block_size(spec.block_size, 5)
        else:
            ocv.check_block_size(spec.block_size, 1)
        self.spec = spec
        self.num_disparities = None if num_disparities is None else int(num_disparities)
        self.temporal = None
        if temporal:
            from .temporal import TemporalFilter
            self.temporal = TemporalFilter()
        self.compile_ms = warmup() if spec.kind == "census_sgm" else 0.0

    @property
    def method(self) -> str:
        return self.spec.name

    def reset(self) -> None:
        """Forget the temporal state (start of a new sequence)."""
        if self.temporal is not None:
            self.temporal.reset()

    def compute_frame(self, frame) -> DepthResult:
        """Depth for a :class:`~passthrough.frames.StereoFrame` (rectified with its rig first)."""
        left, right = frame.rectified()
        return self.compute(left, right, frame.rig)

    def compute(self, left: np.ndarray, right: np.ndarray, rig=None) -> DepthResult:
        """Depth for a rectified pair.

        Args:
            left, right: rectified uint8 (H, W) or (H, W, 3) BGR images of equal size.
            rig: optional :class:`~passthrough.calibration.StereoRig` (focal, baseline, doffs) for
                ``depth_m`` and the default search range.

        Returns:
            :class:`DepthResult` at the input resolution.

        Raises:
            ValueError: images of different size or not 8-bit (16-bit images are scaled to 8 bits).
        """
        from ..io.images import as_uint8

        left, right = np.asarray(left), np.asarray(right)
        if left.dtype == np.uint16 or right.dtype == np.uint16:  # 16-bit PNGs: matched at 8 bits
            left, right = as_uint8(left), as_uint8(right)
        if left.ndim != right.ndim:  # a colour and a grey view: both matched as grey
            left, right = to_gray(left), to_gray(right)
        if left.shape[:2] != right.shape[:2]:
            raise ValueError(f"left and right images differ in size ({left.shape[1]}x{left.shape[0]} vs "
                             f"{right.shape[1]}x{right.shape[0]}); rectify them to equal size first")
        if left.dtype != np.uint8 or right.dtype != np.uint8 or left.ndim not in (2, 3):
            raise ValueError(f"expected uint8 (H, W) or (H, W, 3) images, got {left.dtype} {left.shape}")
        h, w = left.shape[:2]
        nd = self.num_disparities
        if nd is None:
            nd = default_num_disparities(w, rig.focal_px if rig is not None else None,
                                         rig.baseline_m if rig is not None else None)
        nd = int(min(nd, w))
        spec = self.spec
        t: Dict[str, float] = {}
        t_start = time.perf_counter()

        # ---- matching resolution
        t0 = time.perf_counter()
        gray_left = to_gray(left)  # also the full-resolution guide of the upsampling
        gray_right = to_gray(right) if spec.kind != "opencv_sgbm" or spec.snap else None  # (and of the snap)
        if spec.kind == "opencv_sgbm":
            lm, rm = left, right
        else:
            lm, rm = gray_left, gray_right
        fx = max(1, int(round(1.0 / spec.scale)))
        fy = max(1, int(round(1.0 / (spec.scale if spec.scale_y is None else spec.scale_y))))
        lw, lh = w // fx, h // fy
        if lw < 8 or lh < 8:
            raise ValueError(f"images of {w}x{h} are too small for matching at 1/{fx} x 1/{fy} resolution")
        if (fx, fy) != (1, 1):
            # exact integer factors: low-res pixel i covers full-res pixels [i f, (i + 1) f)
            lm = cv2.resize(lm[: lh * fy, : lw * fx], (lw, lh), interpolation=cv2.INTER_AREA)
            rm = cv2.resize(rm[: lh * fy, : lw * fx], (lw, lh), interpolation=cv2.INTER_AREA)
        sx = float(fx)
        nd_low = min(lw, int(math.ceil(nd / sx)) + 1)
        t["resize_ms"] = (time.perf_counter() - t0) * 1e3

        # ---- matching
        t0 = time.perf_counter()
        if spec.kind == "census_sgm":
            disp_low, _status = census_sgm(lm, rm, nd_low, spec.sgm, t)
        elif spec.kind == "opencv_sgbm":
            disp_low = ocv.sgbm_disparity(lm, rm, nd_low, spec.block_size, spec.sgbm_mode)
        elif spec.kind == "opencv_bm":
            disp_low = ocv.bm_disparity(lm, rm, nd_low, spec.block_size)
        else:  # pragma: no cover - specs are fixed above
            raise ValueError(f"unknown method kind {spec.kind!r}")
        t["match_ms"] = (time.perf_counter() - t0) * 1e3
        if spec.fill and spec.median:  # zero disparities (the search truncated at the left border) are holes
            disp_low = np.where(disp_low > 0, disp_low, np.float32(-1.0)).astype(np.float32)
        conf_low = (disp_low >= 0).astype(np.float32)

        # ---- holes and resolution
        if spec.fill:
            t0 = time.perf_counter()
            dense_low = fill_holes(disp_low)
            t["fill_ms"] = (time.perf_counter() - t0) * 1e3
            t0 = time.perf_counter()
            if (lw, lh) != (w, h):
                guide_low = lm if lm.ndim == 2 else to_gray(lm)
                dense_low *= np.float32(sx)  # to full-resolution px first (the filter is linear in it)
                disp, conf = joint_bilateral_upsample(dense_low, conf_low, guide_low, gray_left,
                                                      spec.sigma_range, (fy, fx))
            else:
                disp, conf = dense_low, conf_low
            t["upsample_ms"] = (time.perf_counter() - t0) * 1e3
        else:
            t0 = time.perf_counter()
            disp = np.where(disp_low >= 0, disp_low, np.nan).astype(np.float32)
            conf = conf_low
            if (lw, lh) != (w, h):
                # nearest neighbour on the exact integer grid (edge rows/columns replicated)
                yi = np.minimum(np.arange(h) // fy, lh - 1)
                xi = np.minimum(np.arange(w) // fx, lw - 1)
                disp = disp[yi][:, xi] * np.float32(sx)
                conf = conf[yi][:, xi]
            t["upsample_ms"] = (time.perf_counter() - t0) * 1e3

        # ---- thin structures the matcher lost
        if spec.recover is not None:
            t0 = time.perf_counter()
            disp, changed = recover_thin(left, right, disp, nd, spec.recover)
            conf = np.where(changed, np.float32(1.0), conf)
            t["recover_ms"] = (time.perf_counter() - t0) * 1e3

        # ---- temporal filtering
        if self.temporal is not None:
            t0 = time.perf_counter()
            disp, conf = self.temporal.update(disp, conf)
            t["temporal_ms"] = (time.perf_counter() - t0) * 1e3
        # ---- cleaned for view synthesis: a median (the zero disparities were filled as holes above)
        if spec.fill and spec.median:
            t0 = time.perf_counter()
            disp = median_disparity(disp, spec.median)
            t["median_ms"] = (time.perf_counter() - t0) * 1e3
        # ---- depth edges snapped to where the pair puts them
        if spec.snap:
            from .snap import snap_edges

            t0 = time.perf_counter()
            disp, _ = snap_edges(gray_left, gray_right, disp)
            t["snap_ms"] = (time.perf_counter() - t0) * 1e3
        depth = rig.disparity_to_depth(disp) if rig is not None else None
        disp = np.ascontiguousarray(disp, dtype=np.float32)
        conf = conf.astype(np.float32, copy=False)  # every producer above keeps it within 0..1
        t["total_ms"] = (time.perf_counter() - t_start) * 1e3
        return DepthResult(disparity=disp, depth_m=depth, confidence=conf, timings=t, method=spec.name,
                           scale=float(1.0 / sx), num_disparities=nd)


def estimate_depth(left: np.ndarray, right: np.ndarray, rig=None, method: str = DEFAULT_METHOD,
                   num_disparities: Optional[int] = None) -> DepthResult:
    """One-shot convenience wrapper: ``DepthEstimator(method, num_disparities).compute(left, right, rig)``."""
    return DepthEstimator(method, num_disparities).compute(left, right, rig)
