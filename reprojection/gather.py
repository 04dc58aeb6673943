"""CPU colour gather for the ``maps`` model variant: upsample the per-cell fields and resample colour.

The ``maps`` graph (:func:`reprojection.build.make_model` with ``maps=True``) stops before the
full-resolution stage and outputs, per eye, ``cell_fields`` [E,5,Hl,Wl] (x, y in the left camera, x, y
in the right camera, share of the left camera), ``cell_depth`` [E,1,Hl,Wl] and ``cell_holes``
[E,1,Hl,Wl]. :func:`gather_eyes` does in one pass per output pixel what the full graph's step 4 does
with ``Resize`` and ``GridSample``:

* sampling positions and eye depth: bilinear, align-corners upsampling of the cells (exact for the part
  linear in the pixel position, like the graph's ``Resize``);
* left share and holes: align-corners nearest upsampling (round-prefer-floor, like ``Resize`` nearest);
* colour: bilinear sampling (pixel centres at integer coordinates, zero outside, like ``GridSample`` with
  ``align_corners=0``) of both cameras, blended ``right + w * (left - right)`` (``blend``), or of the
  stacked images ``[left; gap zero rows; right]`` at the preferred camera's position plus the
  per-cell offset to the other camera where the cell uses it (``select``); rounded to uint8.

Why a fused numba kernel and not ``cv2.remap``: blending needs four gathers per frame (two cameras, two
eyes), and ``cv2.remap`` needs full-resolution maps first. The cells span the image corner to corner
(align-corners), which is not ``cv2.resize``'s convention, so the maps come from ``cv2.warpAffine`` of
the per-cell displacements, the colour from two relative-map ``cv2.remap`` per eye, the blend from
``cv2.blendLinear`` on nearest-upsampled weights. Measured in one process (CPU time, both 640x480 eyes,
one thread, this project's 2-core EPYC under load): that cv2 chain 28 ms, this kernel 22 ms (and it
matches the full graph to 2e-4 grey levels on average, the cv2 chain to 0.13: fixed-point weights,
uint8 rounding before the blend). The select variant (two gathers) is not an option: it loses 0.6-1.7 dB
PSNR on Tsukuba. The kernel reads each field row once, interpolates along the row and does both
bilinear gathers, the blend and the rounding of a pixel in registers; it is scalar, ~2.4x the cost of
one ``cv2.remap`` (SIMD, 16-bit fixed point) per gather.

Conventions: images (H, W, 3) uint8 or float32 0..255, any channel order (kept); positions in pixels of each camera
image (OpenCV: +x right, +y down, pixel centres at integers).
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit


@functools.lru_cache(maxsize=16)
def upsample_tables(H: int, W: int, Hl: int, Wl: int):
    """Index/weight tables of align-corners upsampling from ``Hl x Wl`` cells to ``H x W`` pixels.

    Returns ``(y0, y1, fy, x0, x1, fx, ny, nx)``: bilinear lower/upper cell index (int32) and weight of
    the upper one (float32) per output row and column, and the nearest cell (round-prefer-floor) per row
    and column (int32), like onnx ``Resize`` with ``coordinate_transformation_mode="align_corners"``.
    """

    def axis(n_out, n_in):
        c = np.arange(n_out, dtype=np.float64) * ((n_in - 1) / max(n_out - 1, 1))
        c = np.clip(c, 0, n_in - 1)
        i0 = np.floor(c).astype(np.int32)
        i1 = np.minimum(i0 + 1, n_in - 1).astype(np.int32)
        near = np.clip(np.ceil(c - 0.5), 0, n_in - 1).astype(np.int32)
        return i0, i1, (c - i0).astype(np.float32), near

    y0, y1, fy, ny = axis(H, Hl)
    x0, x1, fx, nx = axis(W, Wl)
    return y0, y1, fy, x0, x1, fx, ny, nx


@njit(cache=True, nogil=True, fastmath=True)
def _tap(left, right, y, x, c, H, W, gap):
    """Value of channel ``c`` at integer (y, x) of the stacked image [left; gap zeros; right], 0 outside."""
    if x < 0 or x >= W or y < 0:
        return np.float32(0.0)
    if y < H:
        return np.float32(left[y, x, c])
    y -= H + gap
    if y < 0 or y >= H:
        return np.float32(0.0)
    return np.float32(right[y, x, c])


@njit(cache=True, nogil=True, fastmath=True)
def _gather(fields, cdepth, choles, left, right, y0t, y1t, fyt, x0t, x1t, fxt, nyt, nxt,
            blend, prefL, gap, out, depth, holes):
    E = fields.shape[0]
    Wl = fields.shape[3]
    H, W = left.shape[0], left.shape[1]
    row = np.empty((5, Wl), np.float32)
    one = np.float32(1.0)
    for e in range(E):
        pl = prefL[e]
        for y in range(H):
            ya, yb, fy = y0t[y], y1t[y], fyt[y]
            gy = np.float32(1.0) - fy
            for j in range(Wl):
                for k in range(4):
                    row[k, j] = fields[e, k, ya, j] * gy + fields[e, k, yb, j] * fy
                row[4, j] = cdepth[e, 0, ya, j] * gy + cdepth[e, 0, yb, j] * fy
            ny = nyt[y]
            for x in range(W):
                xa, xb, fx = x0t[x], x1t[x], fxt[x]
                gx = np.float32(1.0) - fx
                nx = nxt[x]
                depth[e, y, x] = row[4, xa] * gx + row[4, xb] * fx
                holes[e, y, x] = choles[e, 0, ny, nx]
                w = fields[e, 4, ny, nx]
                xl = row[0, xa] * gx + row[0, xb] * fx
                yl = row[1, xa] * gx + row[1, xb] * fx
                xr = row[2, xa] * gx + row[2, xb] * fx
                yr = row[3, xa] * gx + row[3, xb] * fx
                if blend:
                    # both positions lie inside their image (the graph clips them): the tap index is
                    # clamped to W - 2 / H - 2 and the weight moves to the far tap (all float32 maths)
                    fxl = min(np.floor(xl), np.float32(W - 2))
                    fyl = min(np.floor(yl), np.float32(H - 2))
                    ix, iy = np.int64(fxl), np.int64(fyl)
                    ax, ay = xl - fxl, yl - fyl
                    fxr = min(np.floor(xr), np.float32(W - 2))
                    fyr = min(np.floor(yr), np.float32(H - 2))
                    jx, jy = np.int64(fxr), np.int64(fyr)
                    bx, by = xr - fxr, yr - fyr
                    # blend weight folded into the bilinear weights: w * left + (1 - w) * right
                    a11 = ax * ay * w
                    a10 = ay * w - a11
                    a01 = ax * w - a11
                    a00 = w - a01 - a10 - a11
                    u = one - w
                    b11 = bx * by * u
                    b10 = by * u - b11
                    b01 = bx * u - b11
                    b00 = u - b01 - b10 - b11
                    for c in range(3):
                        v = (np.float32(left[iy, ix, c]) * a00 + np.float32(left[iy, ix + 1, c]) * a01
                             + np.float32(left[iy + 1, ix, c]) * a10 + np.float32(left[iy + 1, ix + 1, c]) * a11
                             + np.float32(right[jy, jx, c]) * b00 + np.float32(right[jy, jx + 1, c]) * b01
                             + np.float32(right[jy + 1, jx, c]) * b10 + np.float32(right[jy + 1, jx + 1, c]) * b11)
                        v = min(max(v, np.float32(0.0)), np.float32(255.0))
                        out[e, y, x, c] = np.uint8(np.int32(v + np.float32(0.5)))
                else:
                    # preferred camera bilinear, plus the nearest cell's offset to the other camera where
                    # the cell uses it, in the stacked image (zero outside it and in the gap rows)
                    off = np.float32(H + gap)
                    use_other = (w > np.float32(0.5)) != pl
                    if pl:
                        sx, sy = xl, yl
                        if use_other:
                            sx += fields[e, 2, ny, nx] - fields[e, 0, ny, nx]
                            sy += fields[e, 3, ny, nx] + off - fields[e, 1, ny, nx]
                    else:
                        sx, sy = xr, yr + off
                        if use_other:
                            sx += fields[e, 0, ny, nx] - fields[e, 2, ny, nx]
                            sy += fields[e, 1, ny, nx] - fields[e, 3, ny, nx] - off
                    fsx, fsy = np.floor(sx), np.floor(sy)
                    ix, iy = np.int64(fsx), np.int64(fsy)
                    ax, ay = sx - fsx, sy - fsy
                    gax, gay = one - ax, one - ay
                    for c in range(3):
                        v = ((_tap(left, right, iy, ix, c, H, W, gap) * gax
                              + _tap(left, right, iy, ix + 1, c, H, W, gap) * ax) * gay
                             + (_tap(left, right, iy + 1, ix, c, H, W, gap) * gax
                                + _tap(left, right, iy + 1, ix + 1, c, H, W, gap) * ax) * ay)
                        v = min(max(v, np.float32(0.0)), np.float32(255.0))
                        out[e, y, x, c] = np.uint8(np.int32(v + np.float32(0.5)))


def gather_eyes(cell_fields: np.ndarray, cell_depth: np.ndarray, cell_holes: np.ndarray, left: np.ndarray,
                right: np.ndarray, blend: bool = True, prefer_left=None, gap: int = 2):
    """Both eyes' images, depth and holes from the ``maps`` graph's outputs.

    Args:
        cell_fields: float32 [E,5,Hl,Wl]: x, y in the left camera, x, y in the right camera (pixels,
            inside each image), share of the left camera (blend) or 1 where the cell uses the left camera.
        cell_depth: float32 [E,1,Hl,Wl] eye z-depth per cell (0 = unknown).
        cell_holes: bool [E,1,Hl,Wl] cells no camera sees.
        left, right: (H, W, 3) camera images, uint8 or float32 0..255 (faster: no conversion per tap);
            channel order kept.
        blend: the variant's fusion (see :class:`reprojection.build.ModelParams`).
        prefer_left: bool [E], per eye whether the left camera is the nearer one (select only).
        gap: zero rows between the stacked images (select only; ``ModelParams.gap``).

    Returns:
        ``(images uint8 [E,H,W,3], depth float32 [E,H,W], holes bool [E,H,W])``.
    """
    E, _, Hl, Wl = cell_fields.shape
    H, W = left.shape[:2]
    tables = upsample_tables(H, W, Hl, Wl)
    out = np.empty((E, H, W, 3), np.uint8)
    depth = np.empty((E, H, W), np.float32)
    holes = np.empty((E, H, W), np.bool_)
    pref = np.ones(E, np.bool_) if prefer_left is None else np.asarray(prefer_left, np.bool_).reshape(E)
    # the kernel indexes the images with these positions: keep them finite and inside the images (they
    # already are, except NaN where no cell is covered at all, e.g. an eye looking away from everything)
    fields = np.nan_to_num(cell_fields.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    lim = np.array([W - 1, H - 1, W - 1, H - 1, 1], np.float32).reshape(1, 5, 1, 1)
    np.clip(fields, 0.0, lim, out=fields)
    _gather(fields, np.ascontiguousarray(cell_depth, np.float32),
            np.ascontiguousarray(cell_holes, np.bool_), np.ascontiguousarray(left), np.ascontiguousarray(right),
            *tables, bool(blend), pref, int(gap), out, depth, holes)
    return out, depth, holes
