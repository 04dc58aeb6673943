"""Numba kernels of the own semi-global matcher (census cost, path aggregation, winner-take-all).

All kernels work on rectified grayscale images in the OpenCV pixel convention (x right, y down, rows
top-down) and on the *left* camera: a left pixel ``(y, x)`` with disparity ``d`` matches right pixel
``(y, x - d)``. Cost volumes are laid out ``(H, D, W)``: for each image row, one contiguous block of D
rows of W costs. Inner loops run over x (long, contiguous: they vectorise) and every row sweep touches
one contiguous block per image row (streams through memory instead of D scattered rows). Kernels are compiled with ``cache=True``; see
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
def census_cost_volume(cl, cr, num_disp, border_cost, cost):
    """Hamming-distance cost volume between left and right census codes.

    Args:
        cl, cr: uint64 (H, W) census codes of the left and right rectified images.
        num_disp: number of disparities D (disparities 0 .. D-1 px).
        border_cost: cost (uint8) used where ``x - d`` falls outside the right image.
        cost: uint8 (H, D, W) output (reused between frames: no page faults on fresh memory).

    Returns:
        ``cost``, filled: ``C[y, d, x] = popcount(cl[y, x] ^ cr[y, x - d])``.
    """
    h, w = cl.shape
    for y in range(h):
        a = cl[y]
        b = cr[y]
        for d in range(num_disp):
            out = cost[y, d]
            for x in range(min(d, w)):
                out[x] = border_cost
            if d >= w:
                continue
            aa = a[d:]
            bb = b[: w - d]
            oo = out[d:]
            for x in range(w - d):
                oo[x] = np.uint8(_popcount64(aa[x] ^ bb[x]))
    return cost


@njit(cache=True, nogil=True)
def pack_mirrored(cost_dwh, img_t, cost2, img2):
    """Pack both horizontal path directions into one row sweep.

    Row x of the packed problem holds image column x in its first half and column W - 1 - x in its
    second half, so a single top-to-bottom sweep over the packed rows runs the left-to-right path on
    the first half and the right-to-left path on the second, with vectors twice as long (the per-row
    overhead is paid once for both).

    Args:
        cost_dwh: uint8 (D, W, H) cost volume (one 2-D ``cv2.transpose`` of the (H, D*W) volume).
        img_t: uint8 (W, H) transposed left image (guide for the adaptive P2).
        cost2: uint8 (W, D, 2H) output; img2: uint8 (W, 2H) output.
    """
    nd, w, h = cost_dwh.shape
    for x in range(w):
        xm = w - 1 - x
        for d in range(nd):
            a = cost_dwh[d, x]
            b = cost_dwh[d, xm]
            o1 = cost2[x, d, :h]
            o2 = cost2[x, d, h:]
            for y in range(h):
                o1[y] = a[y]
            for y in range(h):
                o2[y] = b[y]
        ga = img_t[x]
        gb = img_t[xm]
        g1 = img2[x, :h]
        g2 = img2[x, h:]
        for y in range(h):
            g1[y] = ga[y]
        for y in range(h):
            g2[y] = gb[y]


@njit(cache=True, nogil=True)
def swap_leading_axes(src, dst):
    """``dst[a, b, :] = src[b, a, :]`` by whole-row copies: (B, A, N) -> (A, B, N) (int16 volumes)."""
    na, nb, n = dst.shape
    for a in range(na):
        for b in range(nb):
            s = src[b, a]
            o = dst[a, b]
            for k in range(n):
                o[k] = s[k]


@njit(cache=True, nogil=True)
def p2_table(p1, p2):
    """int16 (256,) intensity-adaptive large-jump penalty per absolute intensity step ``g``:
    ``round(max(P1 + 1, P2 * 16 / (16 + g)))``."""
    out = np.empty(256, dtype=np.int16)
    for g in range(256):
        out[g] = np.int16(np.round(max(p1 + 1.0, p2 * 16.0 / (16.0 + g))))
    return out


@njit(cache=True, nogil=True, fastmath=True)
def _select_row(rowsum, uniqueness, subpixel_mode, disp_row, dright_row, best, bd, sec, rbest, rd):
    """Winner-take-all for one image row of summed costs ``rowsum`` int16 (D, W) with the uniqueness
    test and sub-pixel fit described in :func:`sgm_sweep`. Writes ``disp_row`` (float32 (W,), -1 = not
    unique) and ``dright_row`` (int32 (W,): the right image's integer disparity ``argmin_d
    rowsum[d, xr + d]``, -1 where none); the other arguments are scratch rows of length W (int16 costs
    ``best``, ``sec``, ``rbest``; int32 indices ``bd``, ``rd``)."""
    nd, w = rowsum.shape
    big = np.int16(32767)
    for x in range(w):
        best[x] = big
        bd[x] = 0
        sec[x] = big
        rbest[x] = big
        rd[x] = -1
    for d in range(nd):
        a = rowsum[d]
        dd = np.int32(d)
        for x in range(w):
            v = a[x]
            better = v < best[x]
            best[x] = v if better else best[x]
            bd[x] = dd if better else bd[x]
        ar = a[d:]
        rb = rbest[: w - d]
        rr = rd[: w - d]
        for xr in range(w - d):
            v = ar[xr]
            better = v < rb[xr]
            rb[xr] = v if better else rb[xr]
            rr[xr] = dd if better else rr[xr]
    for d in range(nd):
        a = rowsum[d]
        for x in range(w):
            far = abs(np.int32(d) - bd[x]) > 1
            sec[x] = min(sec[x], a[x]) if far else sec[x]
    fu = np.int32(100 + uniqueness)
    for x in range(w):
        dright_row[x] = rd[x]
        b = bd[x]
        if sec[x] < big and np.int32(best[x]) * fu >= np.int32(sec[x]) * np.int32(100):
            disp_row[x] = INVALID
            continue
        f = np.float32(b)
        if 0 < b < nd - 1 and subpixel_mode > 0:
            cm = np.float32(rowsum[b - 1, x])
            c0 = np.float32(rowsum[b, x])
            cp = np.float32(rowsum[b + 1, x])
            if subpixel_mode == 1:
                den = cm - np.float32(2.0) * c0 + cp
                if den > 0:
                    f += np.float32(0.5) * (cm - cp) / den
            else:
                den = max(cm, cp) - c0
                if den > 0:
                    f += np.float32(0.5) * (cm - cp) / den
        disp_row[x] = f


@njit(cache=True, nogil=True, fastmath=True)
def sgm_sweep(cost, img, p1, p2, diagonals, total, forward, accumulate, select, uniqueness, subpixel_mode,
              disp, dright, mirror):
    """SGM paths that run along the row axis (axis 0) of a ``(R, D, C)`` cost volume.

    One sweep over the rows (top to bottom when ``forward``, else bottom to top) computes the
    vertical path and, with ``diagonals``, one or two diagonal paths arriving from the previous row
    (from x - 1 and/or from x + 1). All inner loops run over the last axis (x) on 1-D views in int16
    (twice the SIMD lanes of float32; path costs stay below ``max cost + P2``, sums of 8 paths below
    2^15 for ``P2 <= 4000``), which LLVM vectorises. Recursion per path r: ``L(p, d) = C(p, d) +
    min(L(p-r, d), L(p-r, d±1) + P1, min_k L(p-r, k) + P2') - min_k L(p-r, k)`` with
    ``P2' = round(max(P1 + 1, P2 * 16 / (16 + |I(p) - I(p-r)|)))`` (see :func:`p2_table`).

    Args:
        cost: uint8 (R, D, C) matching cost.
        img: uint8 (R, C) guide image (the left image, transposed when ``cost`` is).
        p1, p2: penalties (rounded to integers).
        diagonals: 0 = vertical path only; 1 = also one diagonal (from x - 1 when ``forward``, from
            x + 1 otherwise, so two sweeps give an antipodal pair); 2 = both diagonals.
        total: int16 (R, D, C); the path costs are added into it (``accumulate``) or written over it.
        forward: sweep direction.
        accumulate: add to the values already in ``total`` instead of starting from 0.
        select: instead of writing ``total``, finish each row right away: winner-take-all over the
            row's summed costs with uniqueness test and sub-pixel fit (see :func:`_select_row`),
            written to ``disp`` (float32 (R, C), -1 = not unique) and ``dright`` (int32 (R, C), the
            right image's integer disparity). Saves a write and a re-read of the whole volume.
        uniqueness: uniqueness ratio in percent (OpenCV convention): the best cost must beat every
            cost outside ``best ± 1`` by this margin, ``best * (100 + ratio) < other * 100``; else -1.
        subpixel_mode: 0 none, 1 parabola, 2 equiangular (symmetric V) fit through best and neighbours.
        disp, dright: outputs of ``select`` (pass any float32 / int32 2-D arrays otherwise).
        mirror: the problem was packed by :func:`pack_mirrored` (forward sweep, no ``select`` or
            ``accumulate``): ``total`` is (R, D, C / 2) and receives both halves folded back per
            image column, ``total[c] = first half of row c + second half of row R - 1 - c``.
    """
    nr, nd, nc = cost.shape
    ip1 = np.int16(np.round(p1))
    ip2 = np.int16(np.round(p2))
    p2lut = p2_table(p1, p2)
    big = np.int16(16000)  # d sentinel: never the minimum, and big + P1 stays within int16
    npath = 1 + diagonals
    # buffers: [path, parity, d + 1, x + 1]; d sentinels = big, x sentinels = 0 (path restarts there)
    buf = np.zeros((npath, 2, nd + 2, nc + 2), dtype=np.int16)
    for k in range(npath):
        for par in range(2):
            for x in range(nc + 2):
                buf[k, par, 0, x] = big
                buf[k, par, nd + 1, x] = big
    pmin = np.zeros((npath, nc + 2), dtype=np.int16)
    cmin = np.empty((npath, nc), dtype=np.int16)
    thr = np.empty((npath, nc), dtype=np.int16)
    mrow = np.empty((npath, nc), dtype=np.int16)
    offs = np.empty(npath, dtype=np.int64)
    rowsum = np.empty((nd, nc), dtype=np.int16)
    best = np.empty(nc, dtype=np.int16)
    bd = np.empty(nc, dtype=np.int32)
    sec = np.empty(nc, dtype=np.int16)
    rbest = np.empty(nc, dtype=np.int16)
    rd = np.empty(nc, dtype=np.int32)
    zero = np.int16(0)
    for r0 in range(nr):
        r = r0 if forward else nr - 1 - r0
        rp = r - 1 if forward else r + 1
        cur = r0 & 1
        prv = 1 - cur
        irow = img[r]
        iprev = img[rp] if r0 > 0 else img[r]
        # per-path row set-up: previous minima and intensity-adaptive P2 thresholds
        for k in range(npath):
            # k = 0: vertical (shift 0); k = 1: from x - 1 (x + 1 backward for an antipodal pair); k = 2: x + 1
            shift = 0 if k == 0 else (-1 if k == 1 else 1)
            if diagonals == 1 and k == 1 and not forward:
                shift = 1
            o = 1 + shift
            offs[k] = o
            pm = pmin[k, o:o + nc]
            cm = cmin[k]
            mr = mrow[k]
            th = thr[k]
            for x in range(nc):
                cm[x] = big
            if r0 == 0:
                for x in range(nc):
                    mr[x] = zero
                    th[x] = zero
            else:
                for x in range(nc):
                    mr[x] = pm[x]
                    th[x] = np.int16(pm[x] + ip2)
                lo = max(0, -shift)
                hi = nc - max(0, shift)
                ip = iprev[max(0, shift):nc + min(0, shift)]
                ir = irow[lo:hi]
                m2 = mr[lo:hi]
                t2 = th[lo:hi]
                for x in range(hi - lo):
                    g = abs(np.int32(ir[x]) - np.int32(ip[x]))
                    t2[x] = np.int16(m2[x] + p2lut[g])
        # diagonal paths (k >= 1) first, path by path (simple loops that vectorise)
        for k in range(1, npath):
            o = offs[k]
            cm = cmin[k]
            th = thr[k]
            mr = mrow[k]
            for d in range(nd):
                c = cost[r, d]
                out = buf[k, cur, d + 1, 1:nc + 1]
                if r0 == 0:
                    for x in range(nc):
                        v = np.int16(c[x])
                        out[x] = v
                        cm[x] = min(cm[x], v)
                else:
                    a0 = buf[k, prv, d, o:o + nc]
                    a1 = buf[k, prv, d + 1, o:o + nc]
                    a2 = buf[k, prv, d + 2, o:o + nc]
                    for x in range(nc):
                        v = min(min(a1[x], th[x]), np.int16(min(a0[x], a2[x]) + ip1))
                        v = np.int16(np.int16(c[x]) + np.int16(v - mr[x]))
                        out[x] = v
                        cm[x] = min(cm[x], v)
        # the vertical path, fused with summing all paths into the row's totals
        o = offs[0]
        cm = cmin[0]
        th = thr[0]
        mr = mrow[0]
        for d in range(nd):
            c = cost[r, d]
            acc = rowsum[d]
            t = total[r, d]
            out = buf[0, cur, d + 1, 1:nc + 1]
            if r0 == 0:
                if accumulate:
                    for x in range(nc):
                        v = np.int16(c[x])
                        out[x] = v
                        cm[x] = min(cm[x], v)
                        acc[x] = np.int16(t[x] + v)
                else:
                    for x in range(nc):
                        v = np.int16(c[x])
                        out[x] = v
                        cm[x] = min(cm[x], v)
                        acc[x] = v
            else:
                a0 = buf[0, prv, d, o:o + nc]
                a1 = buf[0, prv, d + 1, o:o + nc]
                a2 = buf[0, prv, d + 2, o:o + nc]
                if accumulate:
                    for x in range(nc):
                        v = min(min(a1[x], th[x]), np.int16(min(a0[x], a2[x]) + ip1))
                        v = np.int16(np.int16(c[x]) + np.int16(v - mr[x]))
                        out[x] = v
                        cm[x] = min(cm[x], v)
                        acc[x] = np.int16(t[x] + v)
                else:
                    for x in range(nc):
                        v = min(min(a1[x], th[x]), np.int16(min(a0[x], a2[x]) + ip1))
                        v = np.int16(np.int16(c[x]) + np.int16(v - mr[x]))
                        out[x] = v
                        cm[x] = min(cm[x], v)
                        acc[x] = v
            for k in range(1, npath):
                row = buf[k, cur, d + 1, 1:nc + 1]
                for x in range(nc):
                    acc[x] = np.int16(acc[x] + row[x])
            if mirror:
                hc = nc // 2
                ta = total[r, d]
                tb = total[nr - 1 - r, d]
                a1 = acc[:hc]
                a2 = acc[hc:]
                if 2 * r < nr - 1:  # both columns seen for the first time
                    for x in range(hc):
                        ta[x] = a1[x]
                    for x in range(hc):
                        tb[x] = a2[x]
                elif 2 * r > nr - 1:  # both columns have their other half already
                    for x in range(hc):
                        ta[x] = np.int16(ta[x] + a1[x])
                    for x in range(hc):
                        tb[x] = np.int16(tb[x] + a2[x])
                else:  # the middle column gets both halves now
                    for x in range(hc):
                        ta[x] = np.int16(a1[x] + a2[x])
            elif not select:
                for x in range(nc):
                    t[x] = acc[x]
        for k in range(npath):
            pc = pmin[k, 1:nc + 1]
            cm = cmin[k]
            for x in range(nc):
                pc[x] = cm[x]
        if select:
            _select_row(rowsum, uniqueness, subpixel_mode, disp[r], dright[r], best, bd, sec, rbest, rd)


@njit(cache=True, nogil=True)
def left_right_check(disp_left, disp_right, max_diff):
    """Invalidate left disparities that disagree with the right map (occlusions, mismatches).

    Args:
        disp_left: float32 (H, W) left disparity (INVALID = -1 where not unique), modified in place.
        disp_right: int32 (H, W) right-image integer disparity (-1 = none).
        max_diff: allowed |d_L(x) - d_R(x - d_L(x))| in px; negative disables the check.

    Returns:
        uint8 (H, W) status: 0 valid, 1 not unique (already invalid on entry), 2 failed the check
        (valid before, invalid now) — the codes of :mod:`passthrough.depth.sgm`.
    """
    h, w = disp_left.shape
    status = np.empty((h, w), dtype=np.uint8)
    for y in range(h):
        for x in range(w):
            d = disp_left[y, x]
            if d < 0:
                status[y, x] = 1
                continue
            if max_diff < 0:
                status[y, x] = 0
                continue
            xr = int(x - d + 0.5)
            ok = False
            if 0 <= xr < w:
                dr = disp_right[y, xr]
                ok = dr >= 0 and abs(np.float32(dr) - d) <= max_diff
            if ok:
                status[y, x] = 0
            else:
                disp_left[y, x] = INVALID
                status[y, x] = 2
    return status


#: row gaps wider than this (pixels at matching resolution) also look up and down (fill_holes_scanline)
WIDE_GAP = 8
#: how far (rows) a wide gap's pixels look up and down for a valid disparity
VERTICAL_REACH = 24


@njit(cache=True, nogil=True)
def fill_holes_scanline(disp):
    """Fill invalid pixels (< 0) along each row with the smaller (farther) of the nearest valid
    disparities to the left and right; occlusions belong to the background. Rows without any
    valid pixel are filled from the nearest row above/below that has one (0 if none).

    A gap wider than :data:`WIDE_GAP` between two valid pixels of the row may lie between two
    foreground objects (the floor between two hands, unmatched in a few rows): there, where the
    nearest valid pixels above *and* below (within :data:`VERTICAL_REACH` rows) are both farther than
    the row's fill, the nearer of those two is taken instead. Without it, such rows were filled with
    the hands' disparity: a one-row "bridge" between the hands in the first-person OAK-D pair. On the
    depth evaluation sets it changes bad-2 by at most 0.0004 (Motorcycle and ETH3D unchanged,
    SceneFlow 0.3776 -> 0.3772).

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
    _fill_wide_gaps_from_above_and_below(disp, out)
    return out


@njit(cache=True, nogil=True)
def _wide_gaps_of_row(row, starts, ends):
    """Interior runs of holes (< 0) longer than :data:`WIDE_GAP` in ``row``: writes their ``[start, end)``
    columns into ``starts`` / ``ends`` and returns how many there are."""
    w = row.shape[0]
    n = 0
    x = 0
    while x < w:
        if row[x] >= 0:
            x += 1
            continue
        x1 = x
        while x1 < w and row[x1] < 0:
            x1 += 1
        if x > 0 and x1 < w and x1 - x > WIDE_GAP:
            starts[n] = x
            ends[n] = x1
            n += 1
        x = x1
    return n


@njit(cache=True, nogil=True)
def _carry_valid(row, y, last, last_y):
    """Sweep step of the wide-gap rule: each column's last valid value and its row, updated with ``row``
    (row ``y``; branch-free, so it vectorises)."""
    for x in range(row.shape[0]):
        ok = row[x] >= 0
        last[x] = row[x] if ok else last[x]
        last_y[x] = np.int32(y) if ok else last_y[x]


@njit(cache=True, nogil=True)
def _fill_wide_gaps_from_above_and_below(disp, out):
    """The wide-gap rule of :func:`fill_holes_scanline`: ``disp`` the input (holes < 0), ``out`` its
    row fill, updated in place. The nearest valid pixel above and below each gap pixel (within
    :data:`VERTICAL_REACH` rows) comes from one top-down and one bottom-up sweep that carry each column's
    last valid value (row order, no per-pixel column walk; on the camera stage's forward-warped 640x480
    right map of the demo frame the rule took 1.17 -> 0.75 ms and the whole fill 1.45 -> 1.08 ms, *one-off*);
    maps without a wide gap skip the sweeps."""
    h, w = disp.shape
    cap = w // (WIDE_GAP + 1) + 1
    starts = np.empty((h, cap), np.int32)
    ends = np.empty((h, cap), np.int32)
    counts = np.zeros(h, np.int32)
    total = 0
    for y in range(h):
        counts[y] = _wide_gaps_of_row(disp[y], starts[y], ends[y])
        total += counts[y]
    if total == 0:
        return
    last = np.full(w, np.float32(-1.0), np.float32)  # each column's nearest valid value so far
    last_y = np.full(w, -VERTICAL_REACH - 1, np.int32)  # ... and its row
    up = np.empty((h, w), np.float32)  # written (and read) at gap pixels only
    for y in range(h):
        for g in range(counts[y]):
            for k in range(starts[y, g], ends[y, g]):
                up[y, k] = last[k] if y - last_y[k] <= VERTICAL_REACH else np.float32(-1.0)
        _carry_valid(disp[y], y, last, last_y)
    last[:] = np.float32(-1.0)
    last_y[:] = h + VERTICAL_REACH + 1
    for y in range(h - 1, -1, -1):
        for g in range(counts[y]):
            for k in range(starts[y, g], ends[y, g]):
                u = up[y, k]
                d = last[k] if last_y[k] - y <= VERTICAL_REACH else np.float32(-1.0)
                if u >= 0 and d >= 0 and max(u, d) < out[y, k]:
                    out[y, k] = max(u, d)
        _carry_valid(disp[y], y, last, last_y)


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


@njit(cache=True, nogil=True, fastmath=True)
def joint_bilateral_upsample(disp_low, conf_low, guide_low, guide_full, range_lut, factor_y, factor_x):
    """Joint bilateral upsampling over the 2x2 bilinear cell, guided by the full-resolution image.

    Each full-resolution pixel ``(y, x)`` maps to low-resolution coordinates
    ``((y + 0.5) / factor_y - 0.5, (x + 0.5) / factor_x - 0.5)`` (low-res pixel i covers full-res pixels
    ``[i * factor, (i + 1) * factor)``; rows/columns beyond the low-res grid clamp); its four neighbours
    q are averaged with weights ``bilinear(q) * range_lut[|I_full(y, x) - I_low(q)|] * (conf(q) + 1e-3)``,
    so that disparity edges follow the intensity edges of the full-resolution image (Kopf et al. 2007).

    Args:
        disp_low: float32 (h, w) dense disparity at low resolution (low-res pixel units).
        conf_low: float32 (h, w) confidence 0..1 of each low-res estimate.
        guide_low: uint8 (h, w) low-resolution guide (the downscaled left image).
        guide_full: uint8 (H, W) full-resolution left image.
        range_lut: float32 (256,) weight per absolute intensity difference (> 0).
        factor_y, factor_x: integer downscaling factors between the two resolutions.

    Returns:
        disp: float32 (H, W) disparity in *low-res* pixel units (multiply by the scale factor),
        conf: float32 (H, W) bilinear-and-range weighted mean confidence.
    """
    h, w = disp_low.shape
    hf, wf = guide_full.shape
    out = np.empty((hf, wf), dtype=np.float32)
    cout = np.empty((hf, wf), dtype=np.float32)
    xa_ = np.empty(wf, np.int64)
    xb_ = np.empty(wf, np.int64)
    ax_ = np.empty(wf, np.float32)
    for x in range(wf):
        fx = (x + 0.5) / factor_x - 0.5
        x0 = int(np.floor(fx))
        xa_[x] = min(max(x0, 0), w - 1)
        xb_[x] = min(max(x0 + 1, 0), w - 1)
        ax_[x] = fx - x0
    eps = np.float32(1e-3)
    one = np.float32(1.0)
    for y in range(hf):
        fy = (y + 0.5) / factor_y - 0.5
        y0 = int(np.floor(fy))
        by = np.float32(fy - y0)
        ya = min(max(y0, 0), h - 1)
        yb = min(max(y0 + 1, 0), h - 1)
        g0 = guide_low[ya]
        g1 = guide_low[yb]
        d0 = disp_low[ya]
        d1 = disp_low[yb]
        c0 = conf_low[ya]
        c1 = conf_low[yb]
        gr = guide_full[y]
        for x in range(wf):
            g = np.int32(gr[x])
            xa = xa_[x]
            xb = xb_[x]
            a = ax_[x]
            r00 = (one - a) * (one - by) * range_lut[abs(g - np.int32(g0[xa]))]
            r01 = a * (one - by) * range_lut[abs(g - np.int32(g0[xb]))]
            r10 = (one - a) * by * range_lut[abs(g - np.int32(g1[xa]))]
            r11 = a * by * range_lut[abs(g - np.int32(g1[xb]))]
            k00 = c0[xa]
            k01 = c0[xb]
            k10 = c1[xa]
            k11 = c1[xb]
            w00 = r00 * (k00 + eps)
            w01 = r01 * (k01 + eps)
            w10 = r10 * (k10 + eps)
            w11 = r11 * (k11 + eps)
            out[y, x] = (w00 * d0[xa] + w01 * d0[xb] + w10 * d1[xa] + w11 * d1[xb]) / (w00 + w01 + w10 + w11)
            cout[y, x] = min(one, (r00 * k00 + r01 * k01 + r10 * k10 + r11 * k11) / (r00 + r01 + r10 + r11))
    return out, cout


@njit(cache=True, nogil=True, fastmath=True)
def joint_bilateral_upsample_x2(disp_low, conf_low, guide_low, guide_full, range_lut, factor_y):
    """:func:`joint_bilateral_upsample` specialised to ``factor_x == 2`` (same result).

    Full-resolution columns ``2i + 1`` and ``2i + 2`` both lie between low-res columns ``i`` and
    ``i + 1`` (horizontal weights 0.25 / 0.75), so each parity is one loop over ``i`` with contiguous
    loads (vectorises) instead of per-pixel index lookups; column 0 and the last columns clamp.
    """
    h, w = disp_low.shape
    hf, wf = guide_full.shape
    out = np.empty((hf, wf), dtype=np.float32)
    cout = np.empty((hf, wf), dtype=np.float32)
    eps = np.float32(1e-3)
    one = np.float32(1.0)
    n = min(w - 1, (wf - 1) // 2)
    for y in range(hf):
        fy = (y + 0.5) / factor_y - 0.5
        y0 = int(np.floor(fy))
        by = np.float32(fy - y0)
        ya = min(max(y0, 0), h - 1)
        yb = min(max(y0 + 1, 0), h - 1)
        wy0 = one - by
        g0 = guide_low[ya]
        g1 = guide_low[yb]
        d0 = disp_low[ya]
        d1 = disp_low[yb]
        k0 = conf_low[ya]
        k1 = conf_low[yb]
        gr = guide_full[y]
        orow = out[y]
        crow = cout[y]
        for par in range(2):
            a = np.float32(0.25) if par == 0 else np.float32(0.75)
            wa = one - a
            gs = gr[1 + par: 1 + par + 2 * n: 2]
            os_ = orow[1 + par: 1 + par + 2 * n: 2]
            cs_ = crow[1 + par: 1 + par + 2 * n: 2]
            for i in range(n):
                g = np.int32(gs[i])
                r00 = wa * wy0 * range_lut[abs(g - np.int32(g0[i]))]
                r01 = a * wy0 * range_lut[abs(g - np.int32(g0[i + 1]))]
                r10 = wa * by * range_lut[abs(g - np.int32(g1[i]))]
                r11 = a * by * range_lut[abs(g - np.int32(g1[i + 1]))]
                w00 = r00 * (k0[i] + eps)
                w01 = r01 * (k0[i + 1] + eps)
                w10 = r10 * (k1[i] + eps)
                w11 = r11 * (k1[i + 1] + eps)
                os_[i] = (w00 * d0[i] + w01 * d0[i + 1] + w10 * d1[i] + w11 * d1[i + 1]) / (w00 + w01 + w10 + w11)
                cs_[i] = min(one, (r00 * k0[i] + r01 * k0[i + 1] + r10 * k1[i] + r11 * k1[i + 1]) / (r00 + r01 + r10 + r11))
        # column 0 and the columns past the last full pair: clamped neighbours
        for x in range(wf):
            if 0 < x < 2 * n + 1:
                continue
            fx = (x + 0.5) / 2.0 - 0.5
            x0 = int(np.floor(fx))
            a = np.float32(fx - x0)
            xa = min(max(x0, 0), w - 1)
            xb = min(max(x0 + 1, 0), w - 1)
            g = np.int32(gr[x])
            r00 = (one - a) * wy0 * range_lut[abs(g - np.int32(g0[xa]))]
            r01 = a * wy0 * range_lut[abs(g - np.int32(g0[xb]))]
            r10 = (one - a) * by * range_lut[abs(g - np.int32(g1[xa]))]
            r11 = a * by * range_lut[abs(g - np.int32(g1[xb]))]
            w00 = r00 * (k0[xa] + eps)
            w01 = r01 * (k0[xb] + eps)
            w10 = r10 * (k1[xa] + eps)
            w11 = r11 * (k1[xb] + eps)
            orow[x] = (w00 * d0[xa] + w01 * d0[xb] + w10 * d1[xa] + w11 * d1[xb]) / (w00 + w01 + w10 + w11)
            crow[x] = min(one, (r00 * k0[xa] + r01 * k0[xb] + r10 * k1[xa] + r11 * k1[xb]) / (r00 + r01 + r10 + r11))
    return out, cout
