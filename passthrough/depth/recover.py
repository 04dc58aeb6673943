"""Re-matching of pixels whose disparity the image pair contradicts (thin structures).

A matcher that aggregates over large support (SGM at reduced resolution, census windows spanning many
full-resolution rows) loses structures only a few pixels thick: a lamp arm, a cable, a chair leg takes
the disparity of the background around it. Such a pixel is easy to spot at full resolution: the right
image at ``x - d`` shows the background, not the structure, so the colour difference over a small
window is large. :func:`recover_thin` re-matches exactly those pixels with a small-window search over
the whole disparity range and keeps the new disparity only where it explains the pair much better, is
distinct (no other disparity nearly as good: textureless and repetitive areas keep theirs), fits the
pixel itself better than the old one (else the window would pull background pixels beside a structure
onto it) and is mutual (the right pixel's own best match along the row points back).

Conventions: rectified pair, OpenCV image axes; ``disparity`` float32 (H, W) of the *left* image in
full-resolution pixels (``x_right = x_left - d``), NaN = unknown (left as is); images uint8 (H, W) or
(H, W, C) of equal size, any channel order. Costs are mean absolute differences per channel and pixel
over a ``(2 r + 1)^2`` window (0..255) after the right image's global gain and offset are matched to the
left one's (per channel: cameras with different exposure).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numba import njit

__all__ = ["RecoverParams", "recover_thin", "match_exposure"]


@dataclass(frozen=True)
class RecoverParams:
    """Parameters of :func:`recover_thin`.

    Attributes:
        radius: half size of the matching window (full-resolution px).
        threshold: a pixel is re-matched when its window cost at the current disparity exceeds this
            (mean absolute difference, 0..255).
        ratio: the new disparity must cost less than ``ratio`` times the current one.
        uniqueness: ... and less than ``uniqueness`` times the best cost more than 1 px away from it.
        lr_tol: mutual-match tolerance (px) of the reverse search from the right image.
    """

    radius: int = 2
    threshold: float = 20.0
    ratio: float = 0.6
    uniqueness: float = 0.7
    lr_tol: float = 1.0

    def validate(self) -> None:
        """Raise ValueError naming the bad field."""
        if not (1 <= self.radius <= 7):
            raise ValueError(f"recover radius must be 1..7 px, got {self.radius}")
        if not (0 < self.ratio < 1) or not (0 < self.uniqueness <= 1):
            raise ValueError(f"recover ratio must be in (0, 1) and uniqueness in (0, 1], got {self.ratio}, "
                             f"{self.uniqueness}")
        if self.threshold < 0 or self.lr_tol < 0:
            raise ValueError("recover threshold and lr_tol must be >= 0")


def match_exposure(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``right`` (uint8 (H, W, C)) with each channel's mean and standard deviation matched to ``left``'s
    (a per-channel lookup table), uint8 (H, W, C)."""
    C = left.shape[2]
    ml, sl = cv2.meanStdDev(left)
    mr, sr = cv2.meanStdDev(right)
    v = np.arange(256, dtype=np.float64)
    luts = [np.clip(np.rint((v - mr[c, 0]) * (sl[c, 0] / max(sr[c, 0], 1e-3)) + ml[c, 0]), 0, 255).astype(np.uint8)
            for c in range(C)]
    if C == 1:
        return cv2.LUT(right, luts[0]).reshape(right.shape)
    return cv2.merge([cv2.LUT(np.ascontiguousarray(right[..., c]), luts[c]) for c in range(C)])


@njit(cache=True, nogil=True)
def _residual(L, R, disp, out):
    """``out[y, x]`` = mean over channels of |L(y, x) - R(y, x - round(d))| (planar images), 0 where the
    disparity is unknown or points outside the right image."""
    C, H, W = L.shape
    for y in range(H):
        for x in range(W):
            d = disp[y, x]
            out[y, x] = 0.0
            if not np.isfinite(d):
                continue
            xr = x - np.int32(d + np.float32(0.5))
            if xr < 0 or xr >= W:
                continue
            s = np.int32(0)
            for c in range(C):
                s += abs(np.int32(L[c, y, x]) - np.int32(R[c, y, xr]))
            out[y, x] = np.float32(s) / np.float32(C)


@njit(cache=True, nogil=True)
def _window_costs(A, B, y, xa, xb, step, r, n, out):
    """``out[k]`` = SAD of the window of planar int16 image ``A`` centred at (y, xa) against the window of
    ``B`` centred at (y, xb + k), k < n; ``step`` = +1, or -1 when ``B`` is an image mirrored along x (its
    window then runs backwards). The innermost loop over k reads ``B`` forwards from a slice and
    vectorises: ~7x faster than indexing a row backwards, hence the mirrored right image."""
    o = out[:n]
    o[:] = 0
    for c in range(A.shape[0]):
        for dy in range(-r, r + 1):
            arow = A[c, y + dy]
            brow = B[c, y + dy]
            for dx in range(-r, r + 1):
                av = arow[xa + dx]
                base = xb + step * dx
                bb = brow[base:base + n]
                for k in range(n):
                    v = av - bb[k]
                    o[k] += v if v >= 0 else -v


@njit(cache=True, nogil=True)
def _recover(L, R, Rrev, disp, flagged, nd, r, thr, ratio, uniq, lr_tol, costs, back, out, changed):
    C, H, W = L.shape
    norm = np.float32((2 * r + 1) * (2 * r + 1) * C)
    for y in range(H):
        for x in range(W):
            d = disp[y, x]
            out[y, x] = d
            changed[y, x] = False
            if not flagged[y, x] or y < r or y >= H - r or x < r or x >= W - r or not np.isfinite(d):
                continue
            di = np.int32(d + np.float32(0.5))
            if di < 0 or x - di < r:
                continue
            _window_costs(L, R, y, x, x - di, 1, r, 1, costs)  # the window at the current disparity
            c0 = np.float32(costs[0])
            if c0 <= thr * norm:
                continue
            n = min(nd, x - r + 1)  # the right window stays inside the image
            _window_costs(L, Rrev, y, x, W - 1 - x, -1, r, n, costs)  # right (y, x - k), mirrored
            bd = 0
            for k in range(1, n):
                if costs[k] < costs[bd]:
                    bd = k
            best = np.float32(costs[bd])
            if best >= ratio * c0:
                continue
            second = np.float32(np.inf)  # distinct: no disparity beyond +-1 px nearly as good
            for k in range(n):
                if abs(k - bd) > 1 and np.float32(costs[k]) < second:
                    second = np.float32(costs[k])
            if best > uniq * second:
                continue
            e_new = np.int32(0)  # the pixel itself must fit the new disparity better (the window alone
            e_old = np.int32(0)  # would also move background pixels beside a structure onto it)
            for c in range(C):
                e_new += abs(np.int32(L[c, y, x]) - np.int32(R[c, y, x - bd]))
                e_old += abs(np.int32(L[c, y, x]) - np.int32(R[c, y, x - di]))
            if e_new >= e_old:
                continue
            xr = x - bd  # mutual: the right pixel's best left match along the row points back
            m = min(nd, W - r - xr)
            _window_costs(R, L, y, xr, xr, 1, r, m, back)  # left (y, xr + k)
            bd2 = 0
            for k in range(1, m):
                if back[k] < back[bd2]:
                    bd2 = k
            if abs(bd2 - bd) > lr_tol:
                continue
            sub = np.float32(0.0)
            if 0 < bd < n - 1:  # parabola through the three costs around the minimum
                cm, cp = np.float32(costs[bd - 1]), np.float32(costs[bd + 1])
                den = cm - np.float32(2.0) * best + cp
                if den > np.float32(0.0):
                    sub = min(max(np.float32(0.5) * (cm - cp) / den, np.float32(-0.5)), np.float32(0.5))
            out[y, x] = np.float32(bd) + sub
            changed[y, x] = True


def recover_thin(left: np.ndarray, right: np.ndarray, disparity: np.ndarray, num_disparities: int,
                 params: RecoverParams = RecoverParams()) -> tuple[np.ndarray, np.ndarray]:
    """Re-match the pixels of ``disparity`` that the pair contradicts (see the module docstring).

    Args:
        left, right: rectified uint8 (H, W) or (H, W, C) images of equal size.
        disparity: float32 (H, W) left disparity, full-resolution px; NaN = unknown (kept).
        num_disparities: search range ``0 .. n-1`` px.
        params: :class:`RecoverParams`.

    Returns:
        ``(disparity float32 (H, W), changed bool (H, W))``: the new map (a copy) and the pixels that
        took a new disparity.

    Raises:
        ValueError: sizes or dtypes that do not match, bad parameters.
    """
    params.validate()
    L, R = np.asarray(left), np.asarray(right)
    if L.shape != R.shape or L.dtype != np.uint8 or R.dtype != np.uint8 or L.ndim not in (2, 3):
        raise ValueError(f"recover_thin needs two uint8 images of one shape, got {L.dtype} {L.shape} and "
                         f"{R.dtype} {R.shape}")
    if L.ndim == 2:
        L, R = L[..., None], R[..., None]
    d = np.ascontiguousarray(disparity, np.float32)
    if d.shape != L.shape[:2]:
        raise ValueError(f"disparity {d.shape} does not match the images {L.shape[:2]}")
    if int(num_disparities) <= 0:
        raise ValueError(f"num_disparities must be positive, got {num_disparities}")
    planar = lambda a: np.ascontiguousarray(np.moveaxis(a, 2, 0), np.int16)  # (C, H, W)
    out = np.empty_like(d)
    changed = np.empty(d.shape, np.bool_)
    Lp, Rp = planar(L), planar(match_exposure(L, R))
    # candidates: the map's photometric residual (each pixel at its own disparity) averaged over the
    # window exceeds the threshold; each is then tested exactly (the window at the centre's disparity)
    res = np.empty(d.shape, np.float32)
    _residual(Lp, Rp, d, res)
    k = 2 * params.radius + 1
    flagged = cv2.boxFilter(res, -1, (k, k), borderType=cv2.BORDER_REPLICATE) > np.float32(params.threshold)
    nd = int(num_disparities)
    # window sums of |difference| <= 255 per term: int16 (twice the SIMD lanes) where they always fit
    acc = np.int16 if (2 * params.radius + 1) ** 2 * L.shape[2] * 255 <= np.iinfo(np.int16).max else np.int32
    _recover(Lp, Rp, np.ascontiguousarray(Rp[:, :, ::-1]), d, flagged, nd, int(params.radius),
             np.float32(params.threshold), np.float32(params.ratio), np.float32(params.uniqueness),
             np.float32(params.lr_tol), np.empty(nd, acc), np.empty(nd, acc), out, changed)
    return out, changed
