"""Snap a disparity map's depth edges to where the stereo pair puts them (edge fattening undone).

A matcher at reduced resolution, or with a wide support window, draws a near surface's disparity a few
pixels into the background beside it (the default method matches at 1/2 x 1/4 resolution with 5x7
census windows; the joint bilateral upsampling follows image edges only where they are strong). There
the pair's photometric error is high, and the background's disparity explains the pixels. For the view
synthesis of the reprojection model this matters twice: the fattened rim is drawn at the wrong depth
and the disocclusion beside it opens in the wrong place.

:func:`snap_edges`, per block of :data:`~passthrough.depth.refresh.STEP` x STEP pixels:

1. near a depth edge: the disparities at the corners, edge midpoints and centre of a :data:`WINDOW`
   around the block differ by more than ``min_range`` px (cheap: most blocks stop here);
2. contradicted by the pair: the mean ``|L(x, y) - R(x - d, y)|`` (gray levels, the right image read
   with linear interpolation) over the 3x3 STEP-grid samples around it exceeds ``threshold`` (the test
   of :func:`passthrough.depth.refresh.refresh_disparity`);
3. re-chosen: the largest and the smallest known disparity in the window (the near surface, the
   background) are scored by the mean residual over the block and a one-pixel border (4x4 pixels) at
   one disparity; the better replaces the block's values if it at most halves their own score there.

Conventions: rectified pair, left image the reference; disparity float32 (H, W) px (match at ``x - d``
in the right image), NaN = unknown (stays unknown); images uint8 (H, W) gray. A right-reference map is
snapped on mirrored images (``np.fliplr`` of the right and left images and of its map).

Measured (2026-12-03; ``passthrough eval reprojection --dataset
../shared/data/views/middlebury2001-tsukuba``, ``passthrough eval depth`` on ``../shared/data/stereo``;
the method ``sgm_aniso_snap`` against ``sgm_aniso``): the package docstring and README.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np
from numba import njit

from .refresh import STEP, THRESHOLD, _block_score, _block_score_own, _coarse_box_residual, _f32, _take, _u8

#: (rows, cols) of the window whose largest / smallest disparity are a block's candidates, centred on the
#: block's top-left pixel: the few pixels a fattened edge reaches.
WINDOW = (7, 7)
#: A block is near a depth edge when its window's sampled disparities span more than this (px).
MIN_RANGE = 2.0


@njit(cache=True, nogil=True)
def _snap(L, R, d, residual, threshold, min_range, ry, rx, out, changed):
    """Snap ``out`` (a copy of ``d``) block by block (module docstring; ``residual``: the blocks' mean
    residual, :func:`passthrough.depth.refresh._coarse_box_residual`), marking what changed in
    ``changed``; returns how many pixels."""
    H, W = d.shape
    h, w = residual.shape
    n = 0
    for j in range(h):
        y0 = j * STEP
        for i in range(w):
            if not (residual[j, i] > threshold):  # 2. (the cheaper filter first)
                continue
            x0 = i * STEP
            # 1. near a depth edge: the window's sampled disparities span more than min_range
            hi, lo = -np.inf, np.inf
            for y in (max(y0 - ry, 0), y0, min(y0 + ry, H - 1)):
                for x in (max(x0 - rx, 0), x0, min(x0 + rx, W - 1)):
                    v = d[y, x]
                    if v == v:
                        hi = max(hi, v)
                        lo = min(lo, v)
            if not (hi - lo > min_range):
                continue
            # 3. the window's nearest and farthest surface
            hi, lo = -np.inf, np.inf
            for y in range(max(0, y0 - ry), min(H, y0 + ry + 1)):
                for x in range(max(0, x0 - rx), min(W, x0 + rx + 1)):
                    v = d[y, x]
                    if v == v:
                        hi = max(hi, v)
                        lo = min(lo, v)
            old = _block_score_own(L, R, d, y0, x0)
            best, bv = old, np.nan
            c = _block_score(L, R, y0, x0, hi)
            if c < best:
                best, bv = c, hi
            c = _block_score(L, R, y0, x0, lo)
            if c < best:
                best, bv = c, lo
            n += _take(d, out, changed, y0, x0, bv, best, old)
    return n


def snap_edges(left_gray: np.ndarray, right_gray: np.ndarray, disparity: np.ndarray,
               threshold: float = THRESHOLD, min_range: float = MIN_RANGE) -> Tuple[np.ndarray, np.ndarray]:
    """``disparity`` (the left map of the pair ``left_gray``, ``right_gray``) with its depth edges snapped
    to where the pair puts them (module docstring). Returns ``(disparity float32 (H, W) px NaN-unknown:
    a new array, the inputs are not modified; bool (H, W) mask of the pixels it changed)``."""
    L, R, d = _u8(left_gray, "left image"), _u8(right_gray, "right image"), _f32(disparity)
    if L.shape != d.shape or R.shape != d.shape:
        raise ValueError(f"images {L.shape} / {R.shape} and disparity {d.shape} differ in size")
    out, changed = d.copy(), np.zeros(d.shape, bool)
    _snap(L, R, d, _coarse_box_residual(L, R, d), float(threshold), float(min_range), WINDOW[0] // 2,
          WINDOW[1] // 2, out, changed)
    return out, changed
