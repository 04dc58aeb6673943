"""CPU colour gather for the ``maps`` model variant: upsample the per-cell fields and resample colour.

The ``maps`` graph (:func:`reprojection.build.make_model` with ``maps=True``) stops before the
full-resolution stage and outputs, per eye, ``cell_fields`` [E,5,Hl,Wl] (x, y in the left camera, x, y
in the right camera, share of the left camera), ``cell_depth`` [E,1,Hl,Wl] and ``cell_holes``
[E,1,Hl,Wl]. :func:`gather_eyes` does what the full graph's step 4 does
with ``Resize`` and ``GridSample``:

* sampling positions: bilinear, align-corners upsampling of the cells (exact for the part linear in the
  pixel position, like the graph's ``Resize``);
* eye depth: the same bilinear upsampling over the cells with known depth only (normalised by their
  interpolated weight; 0 = unknown where it is under 1/2), like the graph's ``eye_depth``;
* left share and holes: align-corners nearest upsampling (round-prefer-floor, like ``Resize`` nearest);
* colour: bilinear sampling (pixel centres at integer coordinates, zero outside, like ``GridSample`` with
  ``align_corners=0``) of both cameras, blended ``right + w * (left - right)`` (``blend``), or of the
  stacked images ``[left; gap zero rows; right]`` at the preferred camera's position plus the
  per-cell offset to the other camera where the cell uses it (``select``); rounded to uint8.

How (``blend``, the default): the cell rows are first upsampled along x once per eye (``_expand``),
each output row is then a vectorised lerp of two such rows (positions, depth) plus a copy (share,
holes); a second vectorised loop turns the row's positions into eight 13-bit tap weights (four per
camera, the blend share folded in, summing to 2^13) and two flat tap indices (``_weights_row``); the
colour is then one integer dot product per pixel (``_taps_row``): the camera images are pre-packed with
:func:`spread_image` into uint64 pixels holding the three channels in 21-bit lanes, so each tap is one
load and one 64-bit multiply-add and the three channels come out of one accumulator (rounding half up
per lane; a lane's sum stays below 2^21, so channels never carry into each other). That is 8 loads and
8 multiplies per pixel instead of 24 float loads and 24 multiply-adds, on a third less image memory;
measured in one process on the demo frame (both 640x480 eyes, one thread) it takes about half the time
of the float kernel it replaced (``passthrough bench reprojection``: 24.2 -> 12.2 ms for graph + gather,
see ``docs/reprojection.md``). 13-bit weights resolve 1/90 px (``cv2.remap``: 1/32). The ``select``
variant keeps a float kernel (stacked images, one gather per pixel).

Conventions: images (H, W, 3) uint8 (packed by :func:`spread_image` for ``blend``) or float32 0..255 (``select``),
any channel order (kept); positions in pixels of each camera image (OpenCV: +x right, +y down, pixel
centres at integers).
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


@functools.lru_cache(maxsize=16)
def segment_tables(W: int, Wl: int):
    """The x upsampling of :func:`upsample_tables` by cell segments (what :func:`_expand` runs on).

    Segment j holds the output columns whose lower cell is j (``x0 == j``, consecutive and in order).
    Returns ``(starts, upper, wa, wb, span)``: int32 (Wl,) first column of each segment (-1: empty),
    int32 (Wl,) its upper cell (``min(j + 1, Wl - 1)``), float32 (Wl, span) weights of the lower and upper
    cell for columns ``starts[j] + k``, and ``span`` = the longest segment. Columns past a segment's end
    get weights too (0): they belong to the next segment, which overwrites them, so a kernel writes
    ``span`` columns per segment without a per-column cell lookup (the last segment's spill needs
    ``span`` columns of padding).
    """
    _, _, _, x0, _, fx, _, _ = upsample_tables(2, W, 2, Wl)
    counts = np.bincount(x0, minlength=Wl)
    span = int(max(1, counts.max()))
    starts = np.full(Wl, -1, np.int32)
    first = np.searchsorted(x0, np.arange(Wl), side="left")
    starts[counts > 0] = first[counts > 0]
    upper = np.minimum(np.arange(Wl) + 1, Wl - 1).astype(np.int32)
    wa = np.zeros((Wl, span), np.float32)
    wb = np.zeros((Wl, span), np.float32)
    for j in np.nonzero(counts)[0]:
        cols = starts[j] + np.arange(counts[j])
        wa[j, :counts[j]] = np.float32(1.0) - fx[cols]
        wb[j, :counts[j]] = fx[cols]
    return starts, upper, wa, wb, span


@njit(cache=True, nogil=True, fastmath=True)
def _gather_select(fields, cdepth, choles, left, right, y0t, y1t, fyt, x0t, x1t, fxt, nyt, nxt,
                   prefL, gap, unknown, out, depth, holes):
    """The ``select`` variant, float taps: the preferred camera's position, or the other camera's via the
    nearest cell's offset, sampled bilinearly in the stacked image [left; gap zero rows; right]."""
    E = fields.shape[0]
    Wl = fields.shape[3]
    H, W = left.shape[0], left.shape[1]
    row = np.empty((6, Wl), np.float32)
    one = np.float32(1.0)
    zero = np.float32(0.0)
    half = np.float32(0.5)
    for e in range(E):
        pl = prefL[e]
        for y in range(H):
            ya, yb, fy = y0t[y], y1t[y], fyt[y]
            gy = np.float32(1.0) - fy
            for j in range(Wl):
                for k in range(4):
                    row[k, j] = fields[e, k, ya, j] * gy + fields[e, k, yb, j] * fy
                za, zb = cdepth[e, 0, ya, j], cdepth[e, 0, yb, j]
                row[4, j] = za * gy + zb * fy
                row[5, j] = (one if za > zero else zero) * gy + (one if zb > zero else zero) * fy
            ny = nyt[y]
            for x in range(W):
                xa, xb, fx = x0t[x], x1t[x], fxt[x]
                gx = np.float32(1.0) - fx
                nx = nxt[x]
                den = row[5, xa] * gx + row[5, xb] * fx
                depth[e, y, x] = (row[4, xa] * gx + row[4, xb] * fx) / max(den, half) if den >= half else unknown
                holes[e, y, x] = choles[e, 0, ny, nx]
                w = fields[e, 4, ny, nx]
                xl = row[0, xa] * gx + row[0, xb] * fx
                yl = row[1, xa] * gx + row[1, xb] * fx
                xr = row[2, xa] * gx + row[2, xb] * fx
                yr = row[3, xa] * gx + row[3, xb] * fx
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
                # the four taps of the stacked image [left; gap zero rows; right], 0 outside, accumulated
                # inline (a tap helper called per channel made this kernel ~30x slower: 173 ms for both eyes)
                a0 = zero
                a1 = zero
                a2 = zero
                for t in range(4):
                    ty = iy + (t >> 1)
                    tx = ix + (t & 1)
                    wt = (gax if (t & 1) == 0 else ax) * (gay if (t >> 1) == 0 else ay)
                    if tx < 0 or tx >= W or ty < 0:
                        continue
                    if ty < H:
                        a0 += wt * left[ty, tx, 0]
                        a1 += wt * left[ty, tx, 1]
                        a2 += wt * left[ty, tx, 2]
                    else:
                        ry = ty - H - gap
                        if ry < 0 or ry >= H:
                            continue
                        a0 += wt * right[ry, tx, 0]
                        a1 += wt * right[ry, tx, 1]
                        a2 += wt * right[ry, tx, 2]
                out[e, y, x, 0] = np.uint8(np.int32(min(max(a0, zero), np.float32(255.0)) + half))
                out[e, y, x, 1] = np.uint8(np.int32(min(max(a1, zero), np.float32(255.0)) + half))
                out[e, y, x, 2] = np.uint8(np.int32(min(max(a2, zero), np.float32(255.0)) + half))


#: Packed pixels for the blend gather: channel c of a pixel in bits [21c, 21c + 8) of a uint64; a tap
#: weight has 13 bits, so a lane's sum of eight weighted taps (<= 255 * (2^13 + 3) + 2^12) fits in 21.
LANE_BITS = 21
WEIGHT_BITS = 13
ONE_Q = 1 << WEIGHT_BITS
_LANE1, _LANE2 = LANE_BITS, 2 * LANE_BITS  # bit offsets of channels 1 and 2
#: half a weight unit in each lane: rounds half up when the lanes are shifted down by WEIGHT_BITS
_ROUND = (1 << (WEIGHT_BITS - 1)) * (1 | (1 << _LANE1) | (1 << _LANE2))


def spread_image(img: np.ndarray) -> np.ndarray:
    """Camera image uint8 (H, W) gray or (H, W, 3) (any channel order, kept) -> uint64 (H, W) packed
    pixels for :func:`gather_eyes` with ``blend`` (channel c in bits [21c, 21c + 8))."""
    a = np.asarray(img)
    if a.dtype != np.uint8:
        a = np.clip(np.rint(a), 0, 255).astype(np.uint8)
    if a.ndim == 2:
        a = a[..., None]
    out = np.empty(a.shape[:2], np.uint64)
    _spread(np.ascontiguousarray(a), out)
    return out


@njit(cache=True, nogil=True)
def _spread(img, out):
    """uint8 (H, W, 3) (or (H, W, 1): gray repeated) -> uint64 (H, W): channel c in bits [21c, 21c + 8)."""
    H, W = out.shape
    C = img.shape[2]
    for y in range(H):
        for x in range(W):
            c1 = 0 if C == 1 else 1
            c2 = 0 if C == 1 else 2
            out[y, x] = (np.uint64(img[y, x, 0]) | (np.uint64(img[y, x, c1]) << np.uint64(_LANE1))
                         | (np.uint64(img[y, x, c2]) << np.uint64(_LANE2)))


@njit(cache=True, nogil=True, fastmath=True)
def _expand(fields, cdepth, choles, starts, upper, wa, wb, nxt, EX, EW, EH):
    """Cell rows upsampled along x to full width: EX (Hl, 6, W + span) bilinear x_l, y_l, x_r, y_r, depth
    and known-depth weight (1 where the cell's depth is > 0), by segments (:func:`segment_tables`: the two
    cells are loaded once per segment, not per column); EW (Hl, W) nearest left share; EH (Hl, W) nearest
    holes."""
    Hl = fields.shape[1]
    W = nxt.shape[0]
    span = wa.shape[1]
    one = np.float32(1.0)
    zero = np.float32(0.0)
    for r in range(Hl):
        for k in range(6):
            if k < 4:
                src = fields[k, r]
            else:
                src = cdepth[0, r]
            dst = EX[r, k]
            known = k == 5
            for j in range(starts.shape[0]):
                x = starts[j]
                if x < 0:
                    continue
                a = src[j]
                b = src[upper[j]]
                if known:
                    a = one if a > zero else zero
                    b = one if b > zero else zero
                if span == 4:  # stride 4 (unrolled)
                    dst[x] = a * wa[j, 0] + b * wb[j, 0]
                    dst[x + 1] = a * wa[j, 1] + b * wb[j, 1]
                    dst[x + 2] = a * wa[j, 2] + b * wb[j, 2]
                    dst[x + 3] = a * wa[j, 3] + b * wb[j, 3]
                else:
                    for i in range(span):
                        dst[x + i] = a * wa[j, i] + b * wb[j, i]
        sw = fields[4, r]
        sh = choles[0, r]
        ew = EW[r]
        eh = EH[r]
        for x in range(W):
            ew[x] = sw[nxt[x]]
            eh[x] = sh[nxt[x]]


@njit(cache=True, nogil=True, fastmath=True)
def _weights_row(xl, yl, xr, yr, share, W, H, Q, IDX):
    wq = np.float32(ONE_Q)
    half = np.float32(0.5)
    n = xl.shape[0]
    q0 = Q[0]; q1 = Q[1]; q2 = Q[2]; q3 = Q[3]; q4 = Q[4]
    li_ = IDX[0]; ri_ = IDX[1]
    HW = np.int32(H * W)
    for x in range(n):
        w = share[x]
        useL = w >= half
        mx = xl[x] if useL else xr[x]
        my = yl[x] if useL else yr[x]
        ox = xr[x] if useL else xl[x]
        oy = yr[x] if useL else yl[x]
        wm = w if useL else np.float32(1.0) - w
        ix = min(np.int32(mx), np.int32(W - 2))
        iy = min(np.int32(my), np.int32(H - 2))
        jx = np.int32(ox + half)
        jy = np.int32(oy + half)
        ax = mx - np.float32(ix)
        ay = my - np.float32(iy)
        a11 = ax * ay * wm
        a10 = ay * wm - a11
        a01 = ax * wm - a11
        a00 = wm - a01 - a10 - a11
        k0 = np.int32(a00 * wq + half)
        k1 = np.int32(a01 * wq + half)
        k2 = np.int32(a10 * wq + half)
        k3 = np.int32(a11 * wq + half)
        q0[x] = k0; q1[x] = k1; q2[x] = k2; q3[x] = k3
        q4[x] = max(np.int32(0), np.int32(ONE_Q) - (k0 + k1 + k2 + k3))
        li_[x] = iy * np.int32(W) + ix + (np.int32(0) if useL else HW)
        ri_[x] = jy * np.int32(W) + jx + (HW if useL else np.int32(0))


@njit(cache=True, nogil=True, fastmath=True)
def _taps_row(C, W, Q, IDX, orow):
    rnd = np.uint64(_ROUND)
    m8 = np.uint64(0xFF)
    uW = np.uint64(W)
    u1 = np.uint64(1)
    for x in range(orow.shape[0]):
        li = np.uint64(IDX[0, x])
        ri = np.uint64(IDX[1, x])
        acc = (np.uint64(Q[0, x]) * C[li] + np.uint64(Q[1, x]) * C[li + u1]
               + np.uint64(Q[2, x]) * C[li + uW] + np.uint64(Q[3, x]) * C[li + uW + u1]
               + np.uint64(Q[4, x]) * C[ri] + rnd)
        orow[x, 0] = np.uint8((acc >> np.uint64(WEIGHT_BITS)) & m8)
        orow[x, 1] = np.uint8((acc >> np.uint64(_LANE1 + WEIGHT_BITS)) & m8)
        orow[x, 2] = np.uint8((acc >> np.uint64(_LANE2 + WEIGHT_BITS)) & m8)


@njit(cache=True, nogil=True, fastmath=True)
def _gather_blend(fields, cdepth, choles, L, R, y0t, y1t, fyt, starts, upper, wa, wb, nyt, nxt, unknown, out, depth,
                  holes):
    E, _, Hl, Wl = fields.shape
    H, W = R.shape
    EX = np.empty((Hl, 6, W + wa.shape[1]), np.float32)  # + the last segment's spill (segment_tables)
    EW = np.empty((Hl, W), np.float32)
    EH = np.empty((Hl, W), np.bool_)
    rows = np.empty((4, W), np.float32)
    Q = np.empty((8, W), np.int32)
    IDX = np.empty((2, W), np.int32)
    Cf = L.ravel()
    one = np.float32(1.0)
    half = np.float32(0.5)
    for e in range(E):
        _expand(fields[e], cdepth[e], choles[e], starts, upper, wa, wb, nxt, EX, EW, EH)
        for y in range(H):
            ya = y0t[y]
            yb = y1t[y]
            fy = fyt[y]
            gy = one - fy
            for k in range(4):
                a = EX[ya, k]
                b = EX[yb, k]
                o = rows[k]
                for x in range(W):
                    o[x] = a[x] * gy + b[x] * fy
            a = EX[ya, 4]
            b = EX[yb, 4]
            ka = EX[ya, 5]
            kb = EX[yb, 5]
            d = depth[e, y]
            for x in range(W):  # bilinear over the known cells (normalised); unknown where under half is known
                den = ka[x] * gy + kb[x] * fy
                num = a[x] * gy + b[x] * fy
                d[x] = num / max(den, half) if den >= half else unknown
            hs = EH[nyt[y]]
            hd = holes[e, y]
            for x in range(W):
                hd[x] = hs[x]
            _weights_row(rows[0], rows[1], rows[2], rows[3], EW[nyt[y]], W, H, Q, IDX)
            _taps_row(Cf, W, Q, IDX, out[e, y])


@njit(cache=True, nogil=True)
def _sanitize_fields(src, xmax, ymax, out):
    """``out`` = ``src`` [E,5,Hl,Wl] with non-finite values set to 0 and each channel clipped to its range
    (x to 0..xmax, y to 0..ymax, the share to 0..1), in one pass."""
    E, C, Hl, Wl = src.shape
    zero = np.float32(0.0)
    for e in range(E):
        for c in range(C):
            hi = xmax if c in (0, 2) else (ymax if c in (1, 3) else np.float32(1.0))
            for i in range(Hl):
                for j in range(Wl):
                    v = src[e, c, i, j]
                    if not (v > zero):  # NaN, -inf, negatives
                        v = zero
                    elif not (v <= hi):  # +inf, beyond the image
                        v = hi if v < np.inf else zero
                    out[e, c, i, j] = v


def gather_eyes(cell_fields: np.ndarray, cell_depth: np.ndarray, cell_holes: np.ndarray, left: np.ndarray,
                right: np.ndarray, blend: bool = True, prefer_left=None, gap: int = 2, unknown_depth: float = 0.0):
    """Both eyes' images, depth and holes from the ``maps`` graph's outputs.

    Args:
        cell_fields: float32 [E,5,Hl,Wl]: x, y in the left camera, x, y in the right camera (pixels,
            inside each image), share of the left camera (blend) or 1 where the cell uses the left camera.
        cell_depth: float32 [E,1,Hl,Wl] eye z-depth per cell (0 = unknown).
        cell_holes: bool [E,1,Hl,Wl] cells no camera sees.
        left, right: camera images: with ``blend``, uint64 (H, W) packed by :func:`spread_image`; else
            (H, W, 3) uint8 or float32 0..255 (faster: no conversion per tap). Channel order kept.
        blend: the variant's fusion (see :class:`reprojection.build.ModelParams`).
        prefer_left: bool [E], per eye whether the left camera is the nearer one (select only).
        gap: zero rows between the stacked images (select only; ``ModelParams.gap``).
        unknown_depth: the output depth where it is unknown (the model's 0, or e.g. NaN for a caller that
            tests depth with comparisons: no second pass over the images).

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
    fields = np.empty(cell_fields.shape, np.float32)
    _sanitize_fields(np.ascontiguousarray(cell_fields, np.float32), np.float32(W - 1), np.float32(H - 1), fields)
    cdepth = np.ascontiguousarray(cell_depth, np.float32)
    choles = np.ascontiguousarray(cell_holes, np.bool_)
    if blend:
        if left.dtype != np.uint64 or left.ndim != 2 or right.dtype != np.uint64 or right.ndim != 2:
            raise ValueError("blend gather needs the camera images packed by spread_image (uint64 (H, W))")
        if right.shape != left.shape:
            raise ValueError(f"left and right camera images differ in size ({left.shape[1]}x{left.shape[0]} vs "
                             f"{right.shape[1]}x{right.shape[0]})")
        y0t, y1t, fyt, _, _, _, nyt, nxt = tables
        _gather_blend(fields, cdepth, choles, np.ascontiguousarray(left), np.ascontiguousarray(right), y0t, y1t, fyt,
                      *segment_tables(W, Wl)[:4], nyt, nxt, np.float32(unknown_depth), out, depth, holes)
    else:
        _gather_select(fields, cdepth, choles, np.ascontiguousarray(left), np.ascontiguousarray(right),
                       *tables, pref, int(gap), np.float32(unknown_depth), out, depth, holes)
    return out, depth, holes
