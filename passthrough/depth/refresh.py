"""Refresh an earlier frame's disparity where a new stereo pair contradicts it (the image-first mode).

The image-first mode (:meth:`passthrough.pipeline.camera_stage.CameraStage.early`) shows each camera frame
as soon as it is rectified, on the previous frame's depth. Where something moved (a hand), that depth is
wrong: the hand is drawn on the depth behind it and ghosts. :func:`refresh_disparity` checks the old left
disparity against the *new* pair and re-chooses it where the pair says it is wrong, without a stereo
match:

1. residual: ``|L(x, y) - R(x - d, y)|`` (gray levels; the right image read with linear interpolation at
   the sub-pixel position) on every :data:`STEP`-th pixel of every STEP-th row, 3x3 box mean on that
   grid (6x6 pixels): the photometric error of the old disparity, per STEP x STEP block.
2. suspects: blocks whose mean residual exceeds ``threshold`` (gray levels) and, given the pair the old
   disparity was matched on, ``ratio`` times that pair's residual at the same block (what the matcher
   could not do better: texture, occlusions, noise): the same block on a static rig, on a moving one
   the block holding the old pixel the new one shows (``source_of``). Only what changed is re-chosen;
   at most ``max_share`` of the blocks, the most contradicted first (a bound on the cost where nearly
   everything disagrees).
3. candidates for a suspect block: the old disparity at fixed offsets from it (:data:`OFFSETS`: where the
   moved surface came from, +-16, +-32 px horizontally, +-16 px vertically) and the largest and
   smallest old disparity in a :data:`WINDOW` around it (the nearest surface: a hand that moved in; the
   farthest: the background it uncovered). Each is scored by the mean residual over the block and a
   one-pixel border (4x4 pixels) at that one disparity; the best replaces the old values of the block
   if it at most halves their own score there (blocks no candidate explains, e.g. what only the left
   camera sees, keep theirs).

Conventions: rectified pair, left image the reference; disparity float32 (H, W) px (match at ``x - d`` in
the right image), NaN = unknown (stays unknown). Images uint8 (H, W) gray.

Measured (``passthrough bench pipeline --early-image`` on ``passthrough synth --sequence`` streams,
quality.early_image, both modes on the same frames; README, Benchmarks): the early frames' PSNR against
the same frames on their own depth rises by 2.2-3.5 dB (p50) and visibly wrong pixels drop by a third
at 0.25-1 m/s on a static rig, for 3.6-3.8 ms per 640x480 frame on one core (most of it the residual,
the candidates' scores and the right map that follows); with the rig swaying 5 cm by 2.0-2.3 dB for
2.5-3.2 ms on top of moving the map.
"""

from __future__ import annotations

from typing import Callable, Optional, Tuple

import cv2
import numpy as np
from numba import njit

#: Mean residual (gray levels, a block's 6x6 neighbourhood) above which the old disparity is suspect.
THRESHOLD = 12.0
#: (rows, cols) of the window whose largest / smallest old disparity are candidates.
WINDOW = (33, 65)
#: A suspect's residual is over RATIO times the old pair's at the same block (given that pair).
RATIO = 2.0
#: At most this share of the blocks is re-chosen (the most contradicted first): bounds the cost where
#: the pair disagrees with the old map nearly everywhere (a camera that moved without a pose).
MAX_SHARE = 0.04
#: (dy, dx) offsets (px) at which the old disparity is a candidate.
OFFSETS = ((0, 16), (0, -16), (0, 32), (0, -32), (16, 0), (-16, 0))
#: The suspect test runs on every STEP-th pixel of every STEP-th row (a block of STEP x STEP pixels).
STEP = 2
_R = 1  # 3x3 box (of the STEP grid) of the suspect test: 6x6 pixels
#: The window extremes are taken on every POOL-th pixel of every POOL-th row.
POOL = 4


@njit(cache=True, nogil=True)
def _sample(R, y, xf):
    """Right image at row ``y``, sub-pixel column ``xf`` (linear), or -1 outside."""
    W = R.shape[1]
    if not (xf >= 0.0 and xf <= W - 1):
        return -1.0
    x0 = int(xf)
    if x0 >= W - 1:
        return float(R[y, W - 1])
    a = xf - x0
    return (1.0 - a) * R[y, x0] + a * R[y, x0 + 1]


@njit(cache=True, nogil=True)
def _residual_at(L, R, d, y, x):
    """|L - R(x - d)| at one pixel; 0 where ``d`` is unknown or the match lies outside R."""
    v = d[y, x]
    r = _sample(R, y, x - v) if v == v else -1.0
    return abs(L[y, x] - r) if r >= 0.0 else 0.0


@njit(cache=True, nogil=True)
def _coarse_residual(L, R, d, out):
    """``out`` float32 (H // STEP, W // STEP): |L - R(x - d)| at every STEP-th pixel of every STEP-th
    row, 0 where ``d`` is unknown or the match lies outside R."""
    h, w = out.shape
    for j in range(h):
        y = j * STEP
        for i in range(w):
            out[j, i] = _residual_at(L, R, d, y, i * STEP)


@njit(cache=True, nogil=True)
def _coarse_box_residual_at(L, R, d, blocks_y, blocks_x, h, w, out):
    """``out[k]``: :func:`_coarse_box_residual` of (L, R, d) at block (``blocks_y[k]``, ``blocks_x[k]``)
    of its (h, w) grid alone (the same 3x3 box, borders replicated)."""
    for k in range(blocks_y.shape[0]):
        s = 0.0
        for jj in range(blocks_y[k] - _R, blocks_y[k] + _R + 1):
            y = min(max(jj, 0), h - 1) * STEP
            for ii in range(blocks_x[k] - _R, blocks_x[k] + _R + 1):
                s += _residual_at(L, R, d, y, min(max(ii, 0), w - 1) * STEP)
        out[k] = s / ((2 * _R + 1) * (2 * _R + 1))


@njit(cache=True, nogil=True)
def _block_score(L, R, y0, x0, v):
    """Mean |L - R(x - v)| over the 4x4 pixels around the STEP x STEP block at (x0, y0) (the block and
    a one-pixel border) at one disparity ``v``: the four columns share one fractional part, each row
    reads five right-image pixels. inf if the window or its match leaves the images."""
    H, W = L.shape
    xf = x0 - 1 - v
    xs = int(np.floor(xf))
    if x0 < 1 or x0 + 2 >= W or y0 < 1 or y0 + 2 >= H or xs < 0 or xs + 4 > W - 1:
        return np.inf
    a = xf - xs
    s = 0.0
    for j in range(y0 - 1, y0 + 3):
        r0, r1, r2 = float(R[j, xs]), float(R[j, xs + 1]), float(R[j, xs + 2])
        r3, r4 = float(R[j, xs + 3]), float(R[j, xs + 4])
        s += (abs(L[j, x0 - 1] - (r0 + a * (r1 - r0))) + abs(L[j, x0] - (r1 + a * (r2 - r1)))
              + abs(L[j, x0 + 1] - (r2 + a * (r3 - r2))) + abs(L[j, x0 + 2] - (r3 + a * (r4 - r3))))
    return s / 16.0


@njit(cache=True, nogil=True)
def _block_score_own(L, R, d, y0, x0):
    """Mean |L - R(x - d)| over the same 4x4 pixels, each at its own disparity ``d`` (unknown ones and
    matches outside the image skipped); inf if none counts."""
    H, W = L.shape
    s = 0.0
    n = 0
    for j in range(max(0, y0 - 1), min(H, y0 + 3)):
        for i in range(max(0, x0 - 1), min(W, x0 + 3)):
            v = d[j, i]
            if v == v:
                r = _sample(R, j, i - v)
                if r >= 0.0:
                    s += abs(L[j, i] - r)
                    n += 1
    return s / n if n else np.inf


@njit(cache=True, nogil=True)
def _take(d, out, changed, y0, x0, v, score, old):
    """The block at (x0, y0) takes disparity ``v`` if its ``score`` at most halves the block's ``old``
    one (``v`` NaN: no candidate): ``out`` and ``changed`` written where it differs from ``d`` (unknown
    pixels stay unknown). Returns how many pixels changed."""
    if not (v == v and score <= 0.5 * old):
        return 0
    H, W = d.shape
    n = 0
    for y in range(y0, min(H, y0 + STEP)):
        for x in range(x0, min(W, x0 + STEP)):
            v0 = d[y, x]
            if v0 == v0 and v0 != v:
                out[y, x] = v
                changed[y, x] = True
                n += 1
    return n


@njit(cache=True, nogil=True)
def _rechoose(L, R, d, blocks_y, blocks_x, bmax, bmin, offsets, out, changed):
    """Re-choose ``out`` (a copy of ``d``) block by block (STEP x STEP pixels, top-left corners
    ``blocks_y * STEP``, ``blocks_x * STEP``): one disparity per block, marking what changed in
    ``changed``; returns how many pixels."""
    H, W = L.shape
    n = 0
    tried = np.empty(2 + offsets.shape[0], np.float32)
    for b in range(blocks_y.shape[0]):
        y0, x0 = blocks_y[b] * STEP, blocks_x[b] * STEP
        old = _block_score_own(L, R, d, y0, x0)
        best, bv = old, np.nan
        m = 0
        for k in range(2 + offsets.shape[0]):
            if k == 0:
                v = bmax[b]
            elif k == 1:
                v = bmin[b]
            else:
                yy = y0 + offsets[k - 2, 0]
                xx = x0 + offsets[k - 2, 1]
                if yy < 0 or yy >= H or xx < 0 or xx >= W:
                    continue
                v = d[yy, xx]
            if not (v >= 0.0):
                continue
            seen = False
            for t in range(m):
                seen = seen or tried[t] == v
            if seen:
                continue
            tried[m] = v
            m += 1
            c = _block_score(L, R, y0, x0, v)
            if c < best:
                best, bv = c, v
        n += _take(d, out, changed, y0, x0, bv, best, old)
    return n


def _coarse_box_residual(L, R, d) -> np.ndarray:
    res = np.empty((d.shape[0] // STEP, d.shape[1] // STEP), np.float32)
    _coarse_residual(L, R, d, res)
    return cv2.blur(res, (2 * _R + 1, 2 * _R + 1), borderType=cv2.BORDER_REPLICATE)


def _window_extremes(d: np.ndarray, blocks_y: np.ndarray, blocks_x: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Largest and smallest known disparity in a :data:`WINDOW` around each block's top-left pixel
    (float32 per block, NaN where none is known), from every :data:`POOL`-th pixel of every POOL-th row
    (candidates need not be exact)."""
    sub = d[::POOL, ::POOL]
    known = np.isfinite(sub)
    kernel = np.ones((WINDOW[0] // POOL | 1, WINDOW[1] // POOL | 1), np.uint8)
    dmax = cv2.dilate(np.where(known, sub, np.float32(-1.0)), kernel)
    dmin = cv2.erode(np.where(known, sub, np.float32(1e9)), kernel)
    dmax[dmax < 0] = np.nan
    dmin[dmin >= 1e9] = np.nan
    iy, ix = blocks_y * STEP // POOL, blocks_x * STEP // POOL
    return dmax[iy, ix], dmin[iy, ix]


def _f32(a) -> np.ndarray:
    return np.ascontiguousarray(a, np.float32)


def _u8(a, what: str) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype != np.uint8 or a.ndim != 2:
        raise ValueError(f"{what}: expected a uint8 (H, W) gray image, got {a.dtype} {a.shape}")
    return np.ascontiguousarray(a)


def refresh_disparity(left_gray: np.ndarray, right_gray: np.ndarray, disparity: np.ndarray,
                      matched_on: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray]] = None,
                      threshold: float = THRESHOLD, ratio: float = RATIO,
                      max_share: float = MAX_SHARE,
                      source_of: Optional[Callable[[np.ndarray, np.ndarray], Tuple[np.ndarray, np.ndarray]]] = None
                      ) -> Tuple[np.ndarray, np.ndarray]:
    """An earlier frame's left disparity, re-chosen where the new rectified pair contradicts it (module
    docstring). ``matched_on``: ``(left_gray, right_gray, disparity)`` of the frame the old map was
    matched on (its own pose), for the relative test. ``source_of``: where the rig moved and ``disparity``
    is the old map moved to the new pose, ``source_of(ys, xs) -> (ys_old, xs_old)`` maps new pixels to
    the old pixels they show (-1 where none: e.g. :func:`passthrough.depth.warp.source_pixels`); the
    relative test then reads the old pair's residual there (-1: the absolute test alone). None: the
    same pixel (a static rig). Returns ``(disparity float32 (H, W) px NaN-unknown:
    a new array, the inputs are not modified; bool (H, W) mask of the pixels it changed)``."""
    L, R, d = _u8(left_gray, "left image"), _u8(right_gray, "right image"), _f32(disparity)
    if L.shape != d.shape or R.shape != d.shape:
        raise ValueError(f"images {L.shape} / {R.shape} and disparity {d.shape} differ in size")
    residual = _coarse_box_residual(L, R, d)
    blocks_y, blocks_x = np.nonzero(residual > np.float32(threshold))
    excess = residual[blocks_y, blocks_x] - np.float32(threshold)  # > 0: suspect; larger = more wrong
    if matched_on is not None and blocks_y.size:
        oL, oR, od = matched_on
        if np.shape(oL) == d.shape and np.shape(oR) == d.shape and np.shape(od) == d.shape:
            oby, obx = blocks_y, blocks_x  # the old pair's block of each suspect
            if source_of is not None:  # the old block holding the old pixel each suspect shows
                sy, sx = source_of(blocks_y * STEP, blocks_x * STEP)
                seen = sy >= 0
                oby = np.minimum(sy[seen] // STEP, residual.shape[0] - 1)
                obx = np.minimum(sx[seen] // STEP, residual.shape[1] - 1)
            part = np.empty(oby.size, np.float32)
            _coarse_box_residual_at(_u8(oL, "earlier left image"), _u8(oR, "earlier right image"), _f32(od),
                                    oby.astype(np.int64), obx.astype(np.int64), residual.shape[0], residual.shape[1],
                                    part)
            if source_of is None:
                before = part
            else:  # no old pixel: 0 (the absolute test alone)
                before = np.zeros(blocks_y.size, np.float32)
                before[seen] = part
            np.minimum(excess, residual[blocks_y, blocks_x] - np.float32(ratio) * before, out=excess)
            keep = excess > 0
            blocks_y, blocks_x, excess = blocks_y[keep], blocks_x[keep], excess[keep]
    out, changed = d.copy(), np.zeros(d.shape, bool)
    budget = int(max_share * residual.size)
    if blocks_y.size > budget:  # the most contradicted blocks first
        keep = np.sort(np.argpartition(-excess, budget)[:budget])  # raster order
        blocks_y, blocks_x = blocks_y[keep], blocks_x[keep]
    if blocks_y.size:
        bmax, bmin = _window_extremes(d, blocks_y, blocks_x)
        _rechoose(L, R, d, blocks_y, blocks_x, bmax, bmin, np.asarray(OFFSETS, np.int64), out, changed)
    return out, changed
