"""Numba kernels of the own semi-global matcher (census cost, path aggregation, winner-take-all).

All kernels work on rectified grayscale images in the OpenCV pixel convention (x right, y down, rows
top-down) and on the *left* camera: a left pixel ``(y, x)`` with disparity ``d`` matches right pixel
``(y, x - d)``. Cost volumes are laid out ``(H, W, D)`` (disparity innermost, contiguous) so that the
per-pixel loops over ``d`` vectorise. Kernels are compiled with ``cache=True``; see
:func:`passthrough.depth.sgm.warmup` for the first-call compile time.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

#: Disparity value marking "no estimate" inside the kernels (float32 maps).
INVALID = np.float32(-1.0)


@intrinsic
def _popcount64(typingctx, x):
    """LLVM ``ctpop`` on a uint64 (one instruction with popcnt / AVX-512 VPOPCNTDQ)."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        fn = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
        return builder.call(fn, args)

    return sig, codegen


@njit(cache=True, nogil=True)
def census_transform(img, radius_y, radius_x):
    """Census transform with a ``(2*radius_y+1) x (2*radius_x+1)`` window (at most 64 comparisons).

    Args:
        img: uint8 (H, W) grayscale image.
        radius_y, radius_x: window half sizes; border pixels use the replicated edge.

    Returns:
        uint64 (H, W): bit k is set where neighbour k is darker than the centre pixel.
    """
    h, w = img.shape
    wp = w + 2 * radius_x
    pad = np.empty((h + 2 * radius_y, wp), dtype=np.uint8)
    for y in range(h + 2 * radius_y):
        ys = min(max(y - radius_y, 0), h - 1)
        for x in range(wp):
            pad[y, x] = img[ys, min(max(x - radius_x, 0), w - 1)]
    out = np.zeros((h, w), dtype=np.uint64)
    one = np.uint64(1)
    for y in range(h):
        row = out[y]
        c = img[y]
        for dy in range(2 * radius_y + 1):
            src = pad[y + dy]
            for dx in range(2 * radius_x + 1):
                if dy == radius_y and dx == radius_x:
                    continue
                for x in range(w):
                    row[x] = (row[x] << one) | np.uint64(src[x + dx] < c[x])
    return out


@njit(cache=True, nogil=True)
def census_cost_volume(cl, cr, num_disp, border_cost):
    """Hamming-distance cost volume between left and right census codes.

    Args:
        cl, cr: uint64 (H, W) census codes of the left and right rectified images.
        num_disp: number of disparities D (disparities 0 .. D-1 px).
        border_cost: cost (uint8) used where ``x - d`` falls outside the right image.

    Returns:
        uint8 (H, W, D) cost volume, ``C[y, x, d] = popcount(cl[y, x] ^ cr[y, x - d])``.
    """
    h, w = cl.shape
    cost = np.empty((h, w, num_disp), dtype=np.uint8)
    for y in range(h):
        for x in range(w):
            a = cl[y, x]
            dmax = min(num_disp, x + 1)
            for d in range(dmax):
                cost[y, x, d] = np.uint8(_popcount64(a ^ cr[y, x - d]))
            for d in range(dmax, num_disp):
                cost[y, x, d] = border_cost
    return cost


@njit(cache=True, nogil=True, fastmath=True, inline="always")
def _path_step(c, prev, prev_min, out, ndisp, p1, p2):
    """One SGM recursion step: ``out[d] = c[d] + min(prev[d], prev[d±1] + P1, min(prev) + P2) - min(prev)``.

    ``prev``/``out`` are float32 buffers of length D + 2 with large sentinels at index 0 and D + 1;
    disparity d is stored at index d + 1 (float32 holds these small integers exactly and vectorises
    16-wide). Returns ``min(out)``.
    """
    base = prev_min + p2
    m = np.float32(1e30)
    for d in range(ndisp):
        v = min(min(prev[d + 1], base), min(prev[d], prev[d + 2]) + p1)
        r = np.float32(c[d]) + (v - prev_min)
        out[d + 1] = r
        m = min(m, r)
    return m


@njit(cache=True, nogil=True, fastmath=True, inline="always")
def _path_start(c, out, ndisp):
    """First pixel of a path: ``out[d + 1] = c[d]``; returns ``min(c)``."""
    m = np.float32(1e30)
    for d in range(ndisp):
        r = np.float32(c[d])
        out[d + 1] = r
        m = min(m, r)
    return m


@njit(cache=True, nogil=True, fastmath=True, inline="always")
def _adaptive_p2(i0, i1, p1, p2):
    """Intensity-adaptive large-jump penalty: ``max(P1 + 1, P2 * 16 / (16 + |i0 - i1|))``."""
    g = abs(np.float32(i0) - np.float32(i1))
    return max(p1 + np.float32(1.0), p2 * np.float32(16.0) / (np.float32(16.0) + g))


@njit(cache=True, nogil=True, fastmath=True)
def sgm_aggregate(cost, img, p1, p2, num_paths):
    """Semi-global aggregation of a cost volume along 4 or 8 scanline directions.

    Args:
        cost: uint8 (H, W, D) matching cost.
        img: uint8 (H, W) left image; P2 is divided by ``1 + |I(p) - I(p - r)| / 16`` along each path
            (intensity-adaptive penalty: large jumps are cheaper across image edges).
        p1: penalty for a disparity change of 1 px.
        p2: penalty for larger disparity changes (before intensity adaptation), ``p2 > p1``.
        num_paths: 4 (horizontal + vertical) or 8 (also the diagonals).

    Returns:
        uint16 (H, W, D) aggregated cost (sum over paths).
    """
    h, w, nd = cost.shape
    p1 = np.float32(p1)
    p2 = np.float32(p2)
    big = np.float32(1e6)
    acc = np.empty((w, nd), dtype=np.float32)
    total = np.empty((h, w, nd), dtype=np.uint16)
    hbuf = np.full((2, nd + 2), big, dtype=np.float32)
    vrow = np.full((2, w, nd + 2), big, dtype=np.float32)
    vmin = np.zeros((2, w), dtype=np.float32)
    d1 = np.full((2, w, nd + 2), big, dtype=np.float32)
    d1min = np.zeros((2, w), dtype=np.float32)
    d2 = np.full((2, w, nd + 2), big, dtype=np.float32)
    d2min = np.zeros((2, w), dtype=np.float32)
    for direction in range(2):
        forward = direction == 0
        for y0 in range(h):
            y = y0 if forward else h - 1 - y0
            yp = y - 1 if forward else y + 1
            cur = y0 & 1
            prv = 1 - cur
            first_row = y0 == 0
            if forward:
                for x in range(w):
                    for d in range(nd):
                        acc[x, d] = 0.0
            else:
                for x in range(w):
                    t = total[y, x]
                    for d in range(nd):
                        acc[x, d] = np.float32(t[d])
            # horizontal path: left->right in the forward sweep, right->left in the backward sweep
            hmin = np.float32(0.0)
            for x0 in range(w):
                x = x0 if forward else w - 1 - x0
                hc = x0 & 1
                if x0 == 0:
                    hmin = _path_start(cost[y, x], hbuf[hc], nd)
                else:
                    xp = x - 1 if forward else x + 1
                    pp2 = _adaptive_p2(img[y, x], img[y, xp], p1, p2)
                    hmin = _path_step(cost[y, x], hbuf[1 - hc], hmin, hbuf[hc], nd, p1, pp2)
                a = acc[x]
                hb = hbuf[hc]
                for d in range(nd):
                    a[d] += hb[d + 1]
            # vertical path: top->bottom forward, bottom->top backward
            for x in range(w):
                if first_row:
                    vmin[cur, x] = _path_start(cost[y, x], vrow[cur, x], nd)
                else:
                    pp2 = _adaptive_p2(img[y, x], img[yp, x], p1, p2)
                    vmin[cur, x] = _path_step(cost[y, x], vrow[prv, x], vmin[prv, x], vrow[cur, x], nd, p1, pp2)
                a = acc[x]
                vb = vrow[cur, x]
                for d in range(nd):
                    a[d] += vb[d + 1]
            if num_paths >= 8:
                # diagonals: d1 comes from (yp, x-1) forward / (yp, x+1) backward; d2 is the mirror
                for x in range(w):
                    xs1 = x - 1 if forward else x + 1
                    xs2 = x + 1 if forward else x - 1
                    if first_row or xs1 < 0 or xs1 >= w:
                        d1min[cur, x] = _path_start(cost[y, x], d1[cur, x], nd)
                    else:
                        pp2 = _adaptive_p2(img[y, x], img[yp, xs1], p1, p2)
                        d1min[cur, x] = _path_step(cost[y, x], d1[prv, xs1], d1min[prv, xs1], d1[cur, x], nd, p1, pp2)
                    if first_row or xs2 < 0 or xs2 >= w:
                        d2min[cur, x] = _path_start(cost[y, x], d2[cur, x], nd)
                    else:
                        pp2 = _adaptive_p2(img[y, x], img[yp, xs2], p1, p2)
                        d2min[cur, x] = _path_step(cost[y, x], d2[prv, xs2], d2min[prv, xs2], d2[cur, x], nd, p1, pp2)
                    a = acc[x]
                    b1 = d1[cur, x]
                    b2 = d2[cur, x]
                    for d in range(nd):
                        a[d] += b1[d + 1] + b2[d + 1]
            for x in range(w):
                t = total[y, x]
                a = acc[x]
                for d in range(nd):
                    t[d] = np.uint16(a[d])
    return total


@njit(cache=True, nogil=True)
def select_disparity(agg, uniqueness, subpixel_mode):
    """Winner-take-all on an aggregated cost volume with uniqueness test and sub-pixel refinement.

    Args:
        agg: uint16 (H, W, D) aggregated cost.
        uniqueness: uniqueness ratio in percent (OpenCV convention): the best cost must beat every cost
            outside ``best ± 1`` by this margin, ``best * (100 + ratio) < other * 100``; else invalid.
        subpixel_mode: 0 none, 1 parabola, 2 equiangular (symmetric V) fit through best and neighbours.

    Returns:
        disp_left: float32 (H, W) left disparity in px, ``INVALID`` (-1) where not unique.
        disp_right: int32 (H, W) integer right-image disparity (``min_d agg[y, xr + d, d]``), -1 where
            no candidate exists, for the left-right check.
    """
    h, w, nd = agg.shape
    disp = np.empty((h, w), dtype=np.float32)
    dright = np.full((h, w), -1, dtype=np.int32)
    rbest = np.empty(w, dtype=np.int32)
    for y in range(h):
        for x in range(w):
            rbest[x] = 1 << 30
        for x in range(w):
            a = agg[y, x]
            best = np.int32(1 << 30)
            bd = 0
            for d in range(nd):
                v = np.int32(a[d])
                if v < best:
                    best = v
                    bd = d
            # right-image disparity: pixel xr = x - d sees cost a[d]
            for d in range(min(nd, x + 1)):
                v = np.int32(a[d])
                xr = x - d
                if v < rbest[xr]:
                    rbest[xr] = v
                    dright[y, xr] = d
            second = np.int32(1 << 30)
            for d in range(nd):
                if d < bd - 1 or d > bd + 1:
                    second = min(second, np.int32(a[d]))
            if best * (100 + uniqueness) >= second * 100 and second < (1 << 30):
                disp[y, x] = INVALID
                continue
            f = np.float32(bd)
            if 0 < bd < nd - 1 and subpixel_mode > 0:
                cm = np.float32(a[bd - 1])
                c0 = np.float32(a[bd])
                cp = np.float32(a[bd + 1])
                if subpixel_mode == 1:
                    den = cm - 2.0 * c0 + cp
                    if den > 0:
                        f += 0.5 * (cm - cp) / den
                else:
                    den = max(cm, cp) - c0
                    if den > 0:
                        f += 0.5 * (cm - cp) / den
            disp[y, x] = f
    return disp, dright


@njit(cache=True, nogil=True)
def left_right_check(disp_left, disp_right, max_diff):
    """Invalidate left disparities that disagree with the right map (occlusions, mismatches).

    Args:
        disp_left: float32 (H, W) left disparity (INVALID = -1), modified in place.
        disp_right: int32 (H, W) right-image integer disparity (-1 = none).
        max_diff: allowed |d_L(x) - d_R(x - d_L(x))| in px.

    Returns:
        uint8 (H, W) mask, 1 where the pixel failed the check (was valid before, invalid now).
    """
    h, w = disp_left.shape
    failed = np.zeros((h, w), dtype=np.uint8)
    for y in range(h):
        for x in range(w):
            d = disp_left[y, x]
            if d < 0:
                continue
            xr = int(x - d + 0.5)
            if xr < 0 or xr >= w:
                ok = False
            else:
                dr = disp_right[y, xr]
                ok = dr >= 0 and abs(np.float32(dr) - d) <= max_diff
            if not ok:
                disp_left[y, x] = INVALID
                failed[y, x] = 1
    return failed


@njit(cache=True, nogil=True)
def fill_holes_scanline(disp):
    """Fill invalid pixels (< 0) along each row with the smaller (farther) of the nearest valid
    disparities to the left and right; occlusions belong to the background. Rows without any
    valid pixel are filled from the nearest row above/below that has one (0 if none).

    Args:
        disp: float32 (H, W) disparity, INVALID (< 0) = hole.

    Returns:
        float32 (H, W) dense disparity.
    """
    h, w = disp.shape
    out = disp.copy()
    row_ok = np.zeros(h, dtype=np.bool_)
    for y in range(h):
        last = np.float32(-1.0)
        x = 0
        while x < w:
            if out[y, x] >= 0:
                last = out[y, x]
                x += 1
                continue
            x1 = x
            while x1 < w and out[y, x1] < 0:
                x1 += 1
            right = out[y, x1] if x1 < w else np.float32(-1.0)
            if last >= 0 and right >= 0:
                v = min(last, right)
            elif last >= 0:
                v = last
            else:
                v = right
            if v >= 0:
                for k in range(x, x1):
                    out[y, k] = v
            x = x1
        row_ok[y] = out[y, 0] >= 0
    for y in range(h):
        if row_ok[y]:
            continue
        src = -1
        for k in range(1, h):
            if y - k >= 0 and row_ok[y - k]:
                src = y - k
                break
            if y + k < h and row_ok[y + k]:
                src = y + k
                break
        for x in range(w):
            out[y, x] = out[src, x] if src >= 0 else np.float32(0.0)
    return out


@njit(cache=True, nogil=True)
def remove_speckles(disp, max_size, max_diff):
    """Invalidate small connected regions (4-neighbours differing by ≤ ``max_diff``) of at most
    ``max_size`` pixels, like OpenCV's ``filterSpeckles``. ``disp`` float32 (H, W), modified in place.
    Returns the uint8 (H, W) mask of removed pixels."""
    h, w = disp.shape
    label = np.zeros((h, w), dtype=np.int32)
    removed = np.zeros((h, w), dtype=np.uint8)
    stack = np.empty(h * w, dtype=np.int64)
    region = np.empty(h * w, dtype=np.int64)
    cur = 0
    for y0 in range(h):
        for x0 in range(w):
            if label[y0, x0] != 0 or disp[y0, x0] < 0:
                continue
            cur += 1
            label[y0, x0] = cur
            sp = 0
            stack[sp] = y0 * w + x0
            sp += 1
            n = 0
            while sp > 0:
                sp -= 1
                p = stack[sp]
                region[n] = p
                n += 1
                y = p // w
                x = p - y * w
                v = disp[y, x]
                for k in range(4):
                    yy = y + (k == 1) - (k == 0)
                    xx = x + (k == 3) - (k == 2)
                    if yy < 0 or yy >= h or xx < 0 or xx >= w:
                        continue
                    if label[yy, xx] != 0:
                        continue
                    u = disp[yy, xx]
                    if u < 0 or abs(u - v) > max_diff:
                        continue
                    label[yy, xx] = cur
                    stack[sp] = yy * w + xx
                    sp += 1
            if n <= max_size:
                for i in range(n):
                    p = region[i]
                    y = p // w
                    x = p - y * w
                    disp[y, x] = INVALID
                    removed[y, x] = 1
    return removed
