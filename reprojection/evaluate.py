"""``passthrough eval reprojection``: render every target view of rig-v1 sets and score it.

For each set: inputs that are not a rectified horizontal pair (two cameras at any poses, e.g. a toed
rig) are rectified first (:func:`rectify_inputs`; the model takes any intrinsics and poses, so the
targets are rendered from the rectified views). Depth of both input views is estimated from the two inputs (``--depth-method``: the
depth stage's default method, :data:`passthrough.depth.DEFAULT_METHOD`, unless told otherwise; see
:func:`estimate_depths`),
each ``targets`` camera is rendered by the ONNX reprojection model (the target pose as the eye pose),
and compared with the real photo at that view.

Metrics (``../shared/data/README.md``): PSNR and SSIM (Gaussian 11x11, sigma 1.5, per colour channel,
data range 255) over the *evaluation region*: target pixels that both input views can see (the
rendered target depth back-projects inside both input images, and the model did not mark the pixel as
one no camera saw) minus a border crop of ``--crop`` pixels (default 8) on every side. The same region scores every method of a target. ``filled`` is the
share of all target pixels the model filled with real camera data (not a hole). The evaluation region
leaves out the model's holes, so the hole fill is scored on its own (:func:`disoccluded_region`):
``disoccluded_psnr`` over the *disocclusions*, the model's hole pixels (no camera saw them; its hole
fill drew them) inside the border crop whose 8-connected hole does not reach the crop (holes that do
are the parts of the target's view no camera covers: extrapolation, left out),
``baseline_splat_disoccluded_psnr`` (the splat baseline's inpainting) on the same pixels, and
``disoccluded`` their share of the target (both PSNRs null under :data:`MIN_HOLE_PIXELS`). ``ms_per_eye`` is the
median wall time of one model call rendering two eyes (onnxruntime, plus the CPU gather with
``--resample remap``, the default on the CPU), divided by two (one intra-op thread).

Baselines in the same run: ``baseline_camera_psnr`` shows the input camera nearest to the target
as-is; ``baseline_splat_psnr`` forward-splats the nearest input's pixels with the same StereoSGBM
disparity *without* hole filling (rounded to the nearest pixel, nearer points drawn last) and fills the
holes with ``cv2.inpaint`` (Telea, radius 3).

Writes per target ``<out>/<set>/<target>_{rendered,real,diff,baseline_splat}.png`` (diff: |rendered - real| x 4)
into a new or empty ``--out`` folder, or one holding only such images (never into a folder of other files).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from passthrough.datasets.rigv1 import RigV1Source, find_rig_sets
from passthrough.errors import InputError
from passthrough.geometry import invert_T
from passthrough.io.images import to_bgr

#: The images written per target into ``<out>/<set>/``: ``<target stem>_<kind>.png``.
OUT_IMAGES = ("rendered", "real", "diff", "baseline_splat")
JSON_KEYS = ("dataset", "target", "psnr", "ssim", "filled", "ms_per_eye", "baseline_camera_psnr", "baseline_splat_psnr",
             "disoccluded_psnr", "baseline_splat_disoccluded_psnr", "disoccluded")
#: Fewest disoccluded pixels for which their PSNR is reported (null below: a handful of pixels is no score).
MIN_HOLE_PIXELS = 100


# ------------------------------------------------------------------------------------------ depth
def sgbm_disparity(left: np.ndarray, right: np.ndarray, num_disp: int, lr_check: bool = False) -> np.ndarray:
    """Left-view disparity (float32 px, NaN invalid) of a rectified pair with StereoSGBM and (if
    ``lr_check``) a left-right consistency check (1 px). Images uint8 gray or BGR, (H, W[, 3])."""
    gl = left if left.ndim == 2 else cv2.cvtColor(left, cv2.COLOR_BGR2GRAY)
    gr = right if right.ndim == 2 else cv2.cvtColor(right, cv2.COLOR_BGR2GRAY)
    bs = 3
    m = cv2.StereoSGBM_create(0, num_disp, bs, P1=8 * bs * bs, P2=32 * bs * bs, disp12MaxDiff=-1,
                              uniquenessRatio=5, speckleWindowSize=100, speckleRange=2,
                              mode=cv2.STEREO_SGBM_MODE_HH)
    dl = m.compute(gl, gr).astype(np.float32) / 16.0
    if not lr_check:
        return np.where(dl > 0, dl, np.nan).astype(np.float32)
    dr = np.fliplr(m.compute(np.ascontiguousarray(np.fliplr(gr)), np.ascontiguousarray(np.fliplr(gl)))).astype(np.float32) / 16.0
    h, w = dl.shape
    xs = np.arange(w)[None].repeat(h, 0)
    xr = np.rint(xs - dl).astype(int)
    ok = (dl > 0) & (xr >= 0)
    back = np.where(ok, dr[np.arange(h)[:, None], xr.clip(0, w - 1)], -1)
    ok &= np.abs(back - dl) <= 1.0
    return np.where(ok, dl, np.nan).astype(np.float32)


#: Left-right consistency tolerance (px) applied to the depth stage's two disparity maps.
LR_TOL_PX = 3.0


def lr_consistent(dl: np.ndarray, dr: np.ndarray, tol: float) -> Tuple[np.ndarray, np.ndarray]:
    """Drop (NaN) disparities of the left map ``dl`` (match at ``x - d`` in the right) and the right map
    ``dr`` (match at ``x + d`` in the left) that the other map does not confirm within ``tol`` px."""
    h, w = dl.shape
    xs = np.arange(w)[None].repeat(h, 0)
    rows = np.arange(h)[:, None]

    def check(d, other, sign):
        xo = np.rint(xs - sign * np.nan_to_num(d, nan=-1e6)).astype(np.int64)
        inb = np.isfinite(d) & (xo >= 0) & (xo < w)
        o = np.where(inb, other[rows, xo.clip(0, w - 1)], np.nan)
        return np.where(inb & (np.abs(o - d) <= tol), d, np.nan).astype(np.float32)

    return check(dl, dr, 1), check(dr, dl, -1)


def disparity_range(left: np.ndarray, right: np.ndarray) -> int:
    """Search range for a rectified pair, from the data: a StereoSGBM pass over ``width / 2`` px (at
    most 256), then the 99.5th percentile of its disparities + 4 px, rounded up to a multiple of 16 (at
    least 32). A tight range matters: SGBM leaves the leftmost ``range`` columns without an estimate."""
    w = left.shape[1]
    wide = int(min(256, max(32, 16 * int(np.ceil(w / 2 / 16)))))
    d = sgbm_disparity(left, right, wide)
    if not np.isfinite(d).any():
        return wide
    return int(min(wide, max(32, 16 * int(np.ceil((np.nanpercentile(d, 99.5) + 4) / 16)))))


def fill_disparity_holes(d: np.ndarray) -> np.ndarray:
    """Fill NaN disparities along each row with the smaller (farther) of the nearest valid values to the
    left and right (occlusions belong to the background); rows without any valid value stay NaN."""
    h, w = d.shape
    idx = np.arange(w)[None].repeat(h, 0)
    ok = np.isfinite(d)
    left_i = np.maximum.accumulate(np.where(ok, idx, -1), axis=1)
    right_i = np.fliplr(np.minimum.accumulate(np.fliplr(np.where(ok, idx, w)), axis=1))
    rows = np.arange(h)[:, None]
    lv = np.where(left_i >= 0, d[rows, left_i.clip(0, w - 1)], np.inf)
    rv = np.where(right_i < w, d[rows, right_i.clip(0, w - 1)], np.inf)
    fill = np.minimum(lv, rv)
    return np.where(ok, d, np.where(np.isfinite(fill), fill, np.nan)).astype(np.float32)


def estimate_depths(left: np.ndarray, right: np.ndarray, focal: float, baseline: float, num_disp: int,
                    method: str = "default", doffs: float = 0.0, right_depth: str = "matched"):
    """z-depth of both rectified input views: ``(depth_left, depth_right, method_name)``, float32 (H, W),
    NaN where unknown, in the unit of ``baseline``; ``z = focal * baseline / (d + doffs)``.

    ``method``: ``"default"`` = the depth stage's default method (:data:`passthrough.depth.DEFAULT_METHOD`),
    any other name of :data:`passthrough.depth.METHODS`, or ``"sgbm"`` = full-resolution StereoSGBM here
    (3x3 blocks, no left-right check; holes filled along rows from the background side,
    :func:`fill_disparity_holes`; both views matched).

    ``right_depth`` (depth-stage methods): ``"matched"``: the right view is matched too, on mirrored images
    (right as reference); pixels failing a left-right check of the two maps within :data:`LR_TOL_PX` are
    dropped, then both maps are cleaned as the depth stage cleans its own
    (:func:`passthrough.depth.upsample.clean_disparity`: zero disparities and holes filled from the
    background side, 5x5 median; the stage's own cleaning is switched off so that it comes after the
    check; a method that snaps its edges, :attr:`MethodSpec.snap`, does it last, on both maps).
    ``"warped"``: as the pipeline's camera stage: the left grey image is matched only (the stage
    cleans its map) and the map is forward-warped into the right view
    (:func:`passthrough.pipeline.camera_stage.right_disparity_from_left`): one match per frame, lower
    scores (``docs/reprojection.md``).
    """
    flip = lambda a: np.ascontiguousarray(np.fliplr(a))
    if right_depth not in ("matched", "warped"):
        raise InputError(None, f"--right-depth must be matched or warped, got {right_depth!r}")
    if method == "sgbm":
        if right_depth != "matched":
            raise InputError(None, "--depth-method sgbm matches both views (--right-depth matched)")
        dl = fill_disparity_holes(sgbm_disparity(left, right, num_disp))
        dr = np.fliplr(fill_disparity_holes(sgbm_disparity(flip(right), flip(left), num_disp)))
        name = "sgbm (full res, 3x3, row fill)"
    else:
        from passthrough.depth import DEFAULT_METHOD, METHODS, DepthEstimator
        from passthrough.depth.upsample import clean_disparity

        name = DEFAULT_METHOD if method == "default" else method
        if name not in METHODS:
            raise InputError(None, f"unknown depth method {method!r} (sgbm, default, {', '.join(METHODS)})")

        def matched(res):  # 0 = no match (e.g. the border only one camera sees)
            return np.where(res.disparity > 0, res.disparity, np.nan).astype(np.float32)

        if right_depth == "warped":
            from passthrough.io.images import to_gray
            from passthrough.pipeline.camera_stage import right_disparity_from_left

            dl = matched(DepthEstimator(name, num_disparities=num_disp).compute(to_gray(left), to_gray(right)))
            dr = right_disparity_from_left(dl)
            name += ", right view forward-warped (as the camera stage)"
        else:
            # cleaned (and edges snapped) here, after the check
            est = DepthEstimator(name, num_disparities=num_disp, median=0, snap=False)
            dl, dr = lr_consistent(matched(est.compute(left, right)),
                                   np.fliplr(matched(est.compute(flip(right), flip(left)))), LR_TOL_PX)
            dl, dr = clean_disparity(dl), clean_disparity(dr)
            if METHODS[name].snap:
                from passthrough.depth.snap import snap_edges
                from passthrough.io.images import to_gray

                gl, gr = to_gray(left), to_gray(right)
                dl = snap_edges(gl, gr, dl)[0]
                dr = np.fliplr(snap_edges(flip(gr), flip(gl), flip(dr))[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        zl = np.where(dl + doffs > 0, focal * baseline / (dl + doffs), np.nan).astype(np.float32)
        zr = np.where(dr + doffs > 0, focal * baseline / (dr + doffs), np.nan).astype(np.float32)
    return zl, zr, name


# ------------------------------------------------------------------------------------------ metrics
def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """PSNR (dB, peak 255) of uint8 images over ``mask`` (H, W) bool, all channels."""
    d = a.astype(np.float64)[mask] - b.astype(np.float64)[mask]
    mse = float(np.mean(d * d)) if d.size else float("nan")
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """Mean SSIM (Wang et al. 2004: Gaussian 11x11, sigma 1.5, K1 0.01, K2 0.03, range 255) of uint8
    images, per channel, averaged over ``mask``."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    C1, C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    blur = lambda x: cv2.GaussianBlur(x, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)
    vals = []
    for c in range(a.shape[2]):
        x, y = a[..., c], b[..., c]
        mx, my = blur(x), blur(y)
        sxx, syy, sxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
        s = ((2 * mx * my + C1) * (2 * sxy + C2)) / ((mx * mx + my * my + C1) * (sxx + syy + C2))
        vals.append(s[mask])
    return float(np.mean(np.concatenate(vals))) if mask.any() else float("nan")


# ------------------------------------------------------------------------------------------ baselines
def forward_splat(image: np.ndarray, depth: np.ndarray, K_src: np.ndarray, K_dst: np.ndarray,
                  T_dst_from_src: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Naive forward splat: every source pixel with finite depth goes to its rounded target pixel,
    nearer points drawn last. Returns ``(image, holes bool)`` of the source's size."""
    h, w = depth.shape
    v, u = np.nonzero(np.isfinite(depth) & (depth > 0))
    z = depth[v, u].astype(np.float64)
    X = np.linalg.inv(K_src) @ np.stack([u, v, np.ones_like(u)]).astype(np.float64) * z
    Xd = T_dst_from_src[:3, :3] @ X + T_dst_from_src[:3, 3:4]
    p = K_dst @ Xd
    ok = p[2] > 1e-6
    ud = np.rint(p[0][ok] / p[2][ok]).astype(int)
    vd = np.rint(p[1][ok] / p[2][ok]).astype(int)
    zd = p[2][ok]
    src = image[v[ok], u[ok]]
    inb = (ud >= 0) & (ud < w) & (vd >= 0) & (vd < h)
    ud, vd, zd, src = ud[inb], vd[inb], zd[inb], src[inb]
    order = np.argsort(-zd, kind="stable")  # far first, near overwrites
    out = np.zeros_like(image)
    hit = np.zeros((h, w), bool)
    out[vd[order], ud[order]] = src[order]
    hit[vd[order], ud[order]] = True
    return out, ~hit


def splat_baseline(image, depth, K_src, K_dst, T_dst_from_src) -> np.ndarray:
    """Forward splat + ``cv2.inpaint`` (Telea, radius 3) of the holes."""
    out, holes = forward_splat(image, depth, K_src, K_dst, T_dst_from_src)
    return cv2.inpaint(out, holes.astype(np.uint8), 3, cv2.INPAINT_TELEA)


# ------------------------------------------------------------------------------------------ evaluation
def eval_region(src: RigV1Source, target: str, eye_depth: np.ndarray, crop: int) -> np.ndarray:
    """Target pixels whose rendered depth back-projects inside both input images, minus ``crop``."""
    h, w = eye_depth.shape
    K = src.cameras[target].K
    v, u = np.mgrid[0:h, 0:w].astype(np.float64)
    z = eye_depth.astype(np.float64)
    X = np.linalg.inv(K) @ np.stack([u.ravel(), v.ravel(), np.ones(u.size)]) * z.ravel()
    ok = (z > 0).ravel()
    for name in src.inputs:
        T = src.T_a_from_b(name, target)
        p = src.cameras[name].K @ (T[:3, :3] @ X + T[:3, 3:4])
        with np.errstate(divide="ignore", invalid="ignore"):
            x, y = p[0] / p[2], p[1] / p[2]
        ok &= (p[2] > 0) & (x >= -0.5) & (x <= w - 0.5) & (y >= -0.5) & (y <= h - 0.5)
    return crop_border(ok.reshape(h, w), crop)


def scored_region(src: RigV1Source, target: str, eye_depth: np.ndarray, holes: np.ndarray, crop: int) -> np.ndarray:
    """The evaluation region (module docstring): :func:`eval_region` without the model's ``holes`` (H, W)
    bool, the pixels no camera saw (their fill is scored on its own, :func:`disoccluded_region`)."""
    return eval_region(src, target, eye_depth, crop) & ~np.asarray(holes, bool)


def crop_border(mask: np.ndarray, crop: int) -> np.ndarray:
    """``mask`` (H, W) bool with ``crop`` pixels on every side set False (a copy)."""
    m = mask.copy()
    if crop > 0:
        m[:crop] = m[-crop:] = False
        m[:, :crop] = m[:, -crop:] = False
    return m


def disoccluded_region(holes: np.ndarray, crop: int) -> np.ndarray:
    """The disocclusions among ``holes`` (H, W) bool: hole pixels inside a border crop of ``crop`` pixels
    whose 8-connected component (within the crop) touches none of the crop's edges. A hole that reaches
    the edge is (mostly) target view that no camera covers, where a fill can only extrapolate."""
    inner = crop_border(holes, crop)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(inner.astype(np.uint8), connectivity=8)
    h, w = holes.shape
    x, y, cw, ch = (stats[:, i] for i in range(4))
    lo = max(crop, 0)
    touches = (x <= lo) | (y <= lo) | (x + cw >= w - lo) | (y + ch >= h - lo)
    touches[0] = True  # label 0: everything that is not a hole
    return ~touches[labels]


def _score_or_none(metric, a: np.ndarray, b: np.ndarray, mask: np.ndarray):
    """``metric(a, b, mask)`` rounded to 3 decimals, or None over fewer than :data:`MIN_HOLE_PIXELS` pixels."""
    return round(metric(a, b, mask), 3) if int(mask.sum()) >= MIN_HOLE_PIXELS else None


#: stereoRectify's free scaling for inputs that are not a rectified pair: 0 crops to the pixels both
#: photos fill, 1 keeps every photo pixel (black borders, coarser pixels); see :func:`rectify_inputs`.
#: On `passthrough synth` rigs with cameras yawed by -3/+2 and -8/+8 deg (320x256): 0 left 78 % / 54 % of
#: the targets filled (the straight rig: 91 %), 0.5 kept 90 % / 85-86 % at 23.7-23.8 / 23.1-23.2 dB
#: (straight: 24.4-24.9 dB), 1 kept 94 % / 88 % at 23.3-23.6 / 21.6 dB (coarser pixels)
RECTIFY_ALPHA = 0.5


def rectify_inputs(src: RigV1Source, left: np.ndarray, right: np.ndarray, alpha: float = None):
    """Rectify a rig-v1 set's two input photos (pinhole, undistorted; any relative pose) to a row-aligned
    pair of the same size: the set's own stereo rig (:attr:`RigV1Source.rig`, rectified by
    ``cv2.stereoRectify`` as for every dataset) with free scaling ``alpha`` (default :data:`RECTIFY_ALPHA`).

    Returns ``(left_rect, right_rect, (seen_left, seen_right), K_rect, (T_left_from_left_rect,
    T_left_from_right_rect), baseline)``: the rectified images, bool (H, W) masks of the rectified pixels
    that show the photo (not the border), the shared (3, 3) intrinsics, both rectified cameras' poses in
    the original left camera's frame (the rig's head frame; OpenCV axes), and the baseline in the rig's unit."""
    rig = dataclasses.replace(src.rig, rectify_alpha=RECTIFY_ALPHA if alpha is None else alpha, _rect=None)
    left_r, right_r = rig.rectify(left, right)
    w, h = src.size
    white = np.full((h, w), 255, np.uint8)
    # bilinear taps stay inside the photo: pixels fully white after a 3x3 erosion
    seen = tuple(cv2.erode(m, np.ones((3, 3), np.uint8)) == 255 for m in rig.rectify(white, white))
    return (left_r, right_r, seen, rig.K_rect, (rig.T_head_from_left_rect, rig.T_head_from_right_rect),
            rig.baseline_m)


def evaluate_set(path: Path, reprojector, out_dir: Optional[Path], crop: int, repeats: int = 5,
                 log=print, depth_method: str = "default", right_depth: str = "matched") -> List[Dict[str, object]]:
    """Score every target of the rig-v1 set at ``path``; returns one JSON row per target."""
    src = RigV1Source(path)
    ln, rn = src.inputs
    raw = {ln: to_bgr(src.read(ln)), rn: to_bgr(src.read(rn))}  # each on its own: a grey and a colour view mix
    # the input cameras as the depth stage and the model see them: as stored when they are a rectified
    # horizontal pair, else rectified here with the set's own stereo rig (cv2.stereoRectify of the two
    # poses, as every dataset reader does); the model takes any K and pose, so the targets are rendered
    # from the rectified views without going back to the originals
    T_world = {n: src.cameras[n].T_world_from_camera for n in src.inputs}
    if src.inputs_rectified:
        left, right = raw[ln], raw[rn]
        KL, KR = src.cameras[ln].K, src.cameras[rn].K
        doffs = src.inputs_doffs
    else:
        left, right, seen, KL, T_rect, baseline_r = rectify_inputs(src, raw[ln], raw[rn])
        KR, doffs = KL, 0.0
        T_world = {ln: T_world[ln] @ T_rect[0], rn: T_world[ln] @ T_rect[1]}
        log(f"{path.name}: inputs are not a rectified pair: rectified here (baseline {baseline_r:.4g}, "
            f"focal {KL[0, 0]:.1f} px, {min(m.mean() for m in seen):.0%} of each rectified view inside its photo)")
    T_from = lambda a, b: invert_T(src.cameras[a].T_world_from_camera) @ T_world[b]  # input b -> view a
    baseline = float((invert_T(T_world[ln]) @ T_world[rn])[0, 3])
    num_disp = disparity_range(left, right)
    zl, zr, method = estimate_depths(left, right, float(KL[0, 0]), baseline, num_disp, depth_method, doffs,
                                     right_depth)
    if not src.inputs_rectified:  # no depth where a rectified view shows no photo (its black border)
        zl[~seen[0]] = np.nan
        zr[~seen[1]] = np.nan
    # the naive baseline splats plain StereoSGBM output (no consistency check, no hole filling)
    fl = lambda a: np.ascontiguousarray(np.fliplr(a))
    raw_l = sgbm_disparity(left, right, num_disp, lr_check=False)
    raw_r = np.fliplr(sgbm_disparity(fl(right), fl(left), num_disp, lr_check=False))
    with np.errstate(divide="ignore", invalid="ignore"):
        fb = float(KL[0, 0]) * baseline
        raw_zl = np.where(raw_l + doffs > 0, fb / (raw_l + doffs), np.nan).astype(np.float32)
        raw_zr = np.where(raw_r + doffs > 0, fb / (raw_r + doffs), np.nan).astype(np.float32)
    if not src.inputs_rectified:  # the splat, too, draws nothing from the rectified views' borders
        raw_zl[~seen[0]] = np.nan
        raw_zr[~seen[1]] = np.nan
    log(f"{path.name}: depth by {method} (range {num_disp} px); valid {np.isfinite(zl).mean():.0%} left, "
        f"{np.isfinite(zr).mean():.0%} right")
    rows = []
    for t in src.targets:
        real = to_bgr(src.read(t))
        Kt = src.cameras[t].K
        TL, TR = T_from(t, ln), T_from(t, rn)
        feeds = reprojector.feeds(left, right, zl, zr, KL, KR, np.stack([Kt, Kt]), np.stack([TL, TL]), np.stack([TR, TR]))
        imgs, depth, holes = reprojector.run_feeds(feeds)
        times = []
        for _ in range(repeats):
            reprojector.run_feeds(feeds)
            times.append(reprojector.last_ms)
        rendered = np.ascontiguousarray(imgs[0].transpose(1, 2, 0)) if imgs.dtype == np.uint8 else \
            np.clip(np.rint(imgs[0].transpose(1, 2, 0)), 0, 255).astype(np.uint8)
        region = scored_region(src, t, depth[0, 0], holes[0, 0], crop)
        hole_px = disoccluded_region(holes[0, 0].astype(bool), crop)
        near = min(src.inputs, key=lambda n: np.linalg.norm(src.cameras[n].centre - src.cameras[t].centre))
        near_img, near_z, near_K = (left, raw_zl, KL) if near == ln else (right, raw_zr, KR)
        splat = splat_baseline(near_img, near_z, near_K, Kt, T_from(t, near))
        row = {
            "dataset": path.name, "target": t,
            "psnr": round(psnr(rendered, real, region), 3),
            "ssim": round(ssim(rendered, real, region), 4),
            "filled": round(float(1.0 - holes[0, 0].mean()), 4),
            "ms_per_eye": round(float(np.median(times)) / 2.0, 3),
            "baseline_camera_psnr": round(psnr(raw[near], real, region), 3),  # the camera's photo as stored
            "baseline_splat_psnr": round(psnr(splat, real, region), 3),
            "disoccluded_psnr": _score_or_none(psnr, rendered, real, hole_px),
            "baseline_splat_disoccluded_psnr": _score_or_none(psnr, splat, real, hole_px),
            "disoccluded": round(float(hole_px.mean()), 4),
        }
        rows.append(row)
        holes_txt = ("too few to score" if row["disoccluded_psnr"] is None else
                     f"PSNR {row['disoccluded_psnr']:.2f} dB (splat {row['baseline_splat_disoccluded_psnr']:.2f})")
        log(f"  {t}: PSNR {row['psnr']:.2f} dB (camera {row['baseline_camera_psnr']:.2f}, splat "
            f"{row['baseline_splat_psnr']:.2f}), SSIM {row['ssim']:.3f}, filled {row['filled']:.1%}, "
            f"{row['ms_per_eye']:.1f} ms/eye, region {region.mean():.0%} of pixels (crop {crop}px); "
            f"disocclusions {row['disoccluded']:.2%}: {holes_txt}")
        if out_dir is not None:
            d = out_dir / path.name
            d.mkdir(parents=True, exist_ok=True)
            stem = Path(t).stem
            cv2.imwrite(str(d / f"{stem}_rendered.png"), rendered)
            cv2.imwrite(str(d / f"{stem}_real.png"), real)
            diff = np.clip(np.abs(rendered.astype(np.int16) - real.astype(np.int16)) * 4, 0, 255).astype(np.uint8)
            cv2.imwrite(str(d / f"{stem}_diff.png"), diff)
            cv2.imwrite(str(d / f"{stem}_baseline_splat.png"), splat)
    return rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from .build import STRIDES

    parser.add_argument("--dataset", required=True, help="a rig-v1 set (folder with rig.json) or a folder of them")
    parser.add_argument("--json", type=Path, default=None, help="write {\"targets\": [...]} here")
    parser.add_argument("--out", type=Path, default=Path("reprojection-eval"),
                        help="folder for rendered/real/diff images (default ./reprojection-eval)")
    parser.add_argument("--stride", type=int, default=4, choices=STRIDES,
                        help="warp-field cell size of the model (default 4, the display-rate variant the "
                             "pipeline runs; 2 and 1 are finer and slower)")
    parser.add_argument("--select", action="store_true",
                        help="use the select variant (nearer camera only, one resampling per eye) instead of blending")
    parser.add_argument("--depth-method", default="default",
                        help="depth of the inputs: 'default' (the depth stage's default), a depth-stage method "
                             "name, or 'sgbm' (full-resolution StereoSGBM here)")
    parser.add_argument("--right-depth", default="matched", choices=("matched", "warped"),
                        help="matched: both views matched and left-right checked (default); warped: as the "
                             "pipeline's camera stage, the left map forward-warped into the right view")
    parser.add_argument("--crop", type=int, default=8, help="border crop in pixels for PSNR/SSIM (default 8)")
    parser.add_argument("--provider", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--resample", default="auto", choices=("auto", "onnx", "remap"),
                        help="colour resampling: onnx = full graph (GridSample), remap = maps graph + CPU gather; "
                             "auto = remap on the CPU, onnx with CUDA")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads (default 1)")
    parser.add_argument("--repeats", type=int, default=5, help="timed model runs per target (median reported)")


def main(args) -> int:
    from .runtime import Reprojector

    # --crop, --repeats and --threads are range-checked before any command (passthrough.argcheck.RULES)
    sets = find_rig_sets(args.dataset)
    for s in sets:  # a crop that leaves no pixel would score NaN
        w, h = RigV1Source(s).size
        if 2 * args.crop >= min(w, h):
            raise InputError(s / "rig.json", f"--crop {args.crop} px leaves no pixel of the {w}x{h} views")
    if args.out is not None:  # one sub-folder of images per set, never into a folder of the user's files
        from passthrough.io.out_folder import prepare_out_folder

        from passthrough.io.out_folder import input_paths

        reads = input_paths(args) + [f for s in sets for f in RigV1Source(s).input_files()]
        prepare_out_folder(args.out, (), sub_writes=[f"*_{k}.png" for k in OUT_IMAGES], reads=reads)
    rp = Reprojector(stride=args.stride, provider=args.provider, threads=args.threads, blend=not args.select,
                     resample=args.resample)
    print(f"reprojection model {rp.path.name} on {rp.providers[0]} (resample {rp.resample}); PSNR/SSIM over pixels both inputs see, "
          f"border crop {args.crop}px")
    rows = []
    for s in sets:
        rows += evaluate_set(s, rp, args.out, args.crop, repeats=args.repeats, depth_method=args.depth_method,
                             right_depth=args.right_depth)
    if args.json is not None:
        from passthrough.io.jsonfile import write_json

        write_json(args.json, {"targets": [{k: r[k] for k in JSON_KEYS} for r in rows]})
    return 0
