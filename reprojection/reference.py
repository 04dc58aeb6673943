"""Plain numpy implementation of the reprojection graph's maths (see :mod:`reprojection.build`).

Same steps, same constants (:class:`~reprojection.build.ModelParams`), same onnx operator semantics
(``ScatterElements`` min, 3x3 ``MaxPool`` with first-maximum indices, ``GridSample`` with
``align_corners=0`` and zero padding, ``Resize`` align-corners linear / round-prefer-floor nearest /
asymmetric floor nearest, ``AveragePool`` 2x2 ``ceil_mode``), written
for clarity, not speed. Used by the tests to check the ONNX model and as executable documentation.

Conventions: OpenCV camera axes, pixel centres at integer coordinates, ``T_eye_from_camera`` 4x4.
"""

from __future__ import annotations

from typing import Dict

import numpy as np

from .build import BIG, POOL_RADIUS, ModelParams, usable_depth


def _kinv(K: np.ndarray) -> np.ndarray:
    """Inverse of an upper-triangular (3, 3) intrinsics matrix."""
    return np.linalg.inv(K.astype(np.float64)).astype(np.float32)


def _pool(x: np.ndarray, r: int, op: str) -> np.ndarray:
    """(2r+1)^2 max- or average-pool (stride 1, padding ignored) over the last two axes of (..., h, w)."""
    h, w = x.shape[-2:]
    fill = -np.inf if op == "max" else 0.0
    xp = np.full(x.shape[:-2] + (h + 2 * r, w + 2 * r), fill, np.float32)
    xp[..., r:r + h, r:r + w] = x
    if op == "max":
        out = np.full(x.shape, -np.inf, np.float32)
        for dy in range(2 * r + 1):
            for dx in range(2 * r + 1):
                out = np.maximum(out, xp[..., dy:dy + h, dx:dx + w])
        return out
    ones = np.zeros((h + 2 * r, w + 2 * r), np.float32)
    ones[r:r + h, r:r + w] = 1
    tot = np.zeros(x.shape, np.float32)
    cnt = np.zeros((h, w), np.float32)
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            tot += xp[..., dy:dy + h, dx:dx + w]
            cnt += ones[dy:dy + h, dx:dx + w]
    return tot / cnt


def grid_sample(img: np.ndarray, x: np.ndarray, y: np.ndarray, mode: str = "bilinear") -> np.ndarray:
    """Sample ``img`` (C, H, W) at pixel coordinates ``x, y`` (any equal shape), zero outside
    (onnx GridSample, align_corners=0). Returns (C, *x.shape) float32."""
    C, H, W = img.shape
    if mode == "nearest":
        xi, yi = np.rint(x).astype(np.int64), np.rint(y).astype(np.int64)
        ok = (xi >= 0) & (xi < W) & (yi >= 0) & (yi < H)
        return np.where(ok, img[:, yi.clip(0, H - 1), xi.clip(0, W - 1)], 0).astype(np.float32)
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = (x - x0).astype(np.float32), (y - y0).astype(np.float32)
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    out = np.zeros((C,) + x.shape, np.float32)
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            xi, yi = x0 + dx, y0 + dy
            ok = (xi >= 0) & (xi < W) & (yi >= 0) & (yi < H)
            out += np.where(ok, img[:, yi.clip(0, H - 1), xi.clip(0, W - 1)], 0) * (wx * wy)
    return out


def resize_linear(a: np.ndarray, H: int, W: int) -> np.ndarray:
    """Align-corners bilinear resize of (..., h, w) to (..., H, W) (onnx Resize linear)."""
    h, w = a.shape[-2:]

    def coords(n_out, n_in):
        c = (np.arange(n_out) * ((n_in - 1) / max(n_out - 1, 1))).clip(0, n_in - 1)
        i0 = np.floor(c).astype(np.int64)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, (c - i0).astype(np.float32)

    y0, y1, fy = coords(H, h)
    x0, x1, fx = coords(W, w)
    rows = a[..., y0, :] * (1 - fy)[:, None] + a[..., y1, :] * fy[:, None]
    return rows[..., x0] * (1 - fx) + rows[..., x1] * fx


def avg_pool2(a: np.ndarray) -> np.ndarray:
    """2x2 average pool, stride 2, ``ceil_mode``: a last odd row/column averages its valid cells only
    (onnx AveragePool, count_include_pad=0). (..., h, w) -> (..., ceil(h/2), ceil(w/2))."""
    h, w = a.shape[-2:]
    H, W = -(-h // 2), -(-w // 2)
    pad = [(0, 0)] * (a.ndim - 2) + [(0, 2 * H - h), (0, 2 * W - w)]
    s = np.pad(a.astype(np.float32), pad)
    n = np.pad(np.ones((h, w), np.float32), pad[-2:])
    tot = s[..., 0::2, 0::2] + s[..., 1::2, 0::2] + s[..., 0::2, 1::2] + s[..., 1::2, 1::2]
    cnt = n[0::2, 0::2] + n[1::2, 0::2] + n[0::2, 1::2] + n[1::2, 1::2]
    return (tot / cnt).astype(np.float32)


def resize_nearest(a: np.ndarray, H: int, W: int) -> np.ndarray:
    """Align-corners, round-prefer-floor nearest resize of (..., h, w) to (..., H, W) (onnx Resize nearest)."""
    h, w = a.shape[-2:]
    yi = np.ceil(np.arange(H) * ((h - 1) / max(H - 1, 1)) - 0.5).astype(np.int64).clip(0, h - 1)
    xi = np.ceil(np.arange(W) * ((w - 1) / max(W - 1, 1)) - 0.5).astype(np.int64).clip(0, w - 1)
    return a[..., yi, :][..., xi]


def close_cracks(Z: np.ndarray) -> np.ndarray:
    """One-cell cracks of the splatted z-buffer Z (..., h, w) (-1 = empty): an empty cell whose two
    horizontal neighbours hold a surface takes the farther of them; else the same vertically."""
    out = Z.copy()
    zp = np.pad(Z, [(0, 0)] * (Z.ndim - 2) + [(1, 1), (1, 1)], constant_values=-1.0)
    c = zp[..., 1:-1, 1:-1]
    for a, b in ((zp[..., :-2, 1:-1], zp[..., 2:, 1:-1]), (zp[..., 1:-1, :-2], zp[..., 1:-1, 2:])):
        crack = (c < 0) & (a > 0) & (b > 0)
        out = np.where(crack, np.maximum(a, b), out)
    return out


def reproject(images: Dict[str, np.ndarray], depths: Dict[str, np.ndarray], valids: Dict[str, np.ndarray],
              K: Dict[str, np.ndarray], K_eyes: np.ndarray, T_eye_from: Dict[str, np.ndarray],
              params: ModelParams = ModelParams()):
    """Render both eyes from the two cameras.

    Args:
        images: ``{"left", "right"}`` -> (3, H, W) float32 camera images.
        depths: ``{"left", "right"}`` -> (H, W) float32 z-depth.
        valids: ``{"left", "right"}`` -> (H, W) bool.
        K: ``{"left", "right"}`` -> (3, 3) intrinsics.
        K_eyes: (2, 3, 3) eye intrinsics.
        T_eye_from: ``{"left", "right"}`` -> (2, 4, 4) ``T_eye_from_camera`` per eye.
        params: the model variant's constants.

    Returns:
        ``(eye_images (2,3,H,W) float32, eye_depth (2,1,H,W) float32, eye_holes (2,1,H,W) bool)``.
    """
    p = params
    s = p.stride
    H, W = depths["left"].shape
    E = 2
    Hl, Wl = (H + s - 2) // s + 1, (W + s - 2) // s + 1
    f32 = np.float32
    kx, ky = f32(Wl - 1) / f32(max(W - 1, 1)), f32(Hl - 1) / f32(max(H - 1, 1))
    Kei = np.stack([_kinv(k) for k in K_eyes])
    cams = {}
    for c in ("left", "right"):
        T = T_eye_from[c].astype(f32)
        R, t = T[:, :3, :3], T[:, :3, 3:4]
        Rt = R.transpose(0, 2, 1)
        d = np.where(valids[c] & usable_depth(depths[c]), depths[c], 0).astype(f32)
        cams[c] = dict(A_ec=K_eyes @ R @ _kinv(K[c]), b_ec=K_eyes @ t, A_ce=K[c] @ Rt @ Kei,
                       b_ce=K[c] @ (-(Rt @ t)), dist2=(t ** 2).sum(axis=(1, 2)), depth=d)

    # 1. splat depth into eye cells (nearest wins)
    ss = p.source_step
    vs, us = np.mgrid[0:H:ss, 0:W:ss].astype(f32)
    pix = np.stack([us.ravel(), vs.ravel(), np.ones(us.size, f32)])
    zbuf = np.full(E * Hl * Wl + 1, BIG, f32)
    for c in ("left", "right"):
        cm = cams[c]
        z = cm["depth"][::ss, ::ss].ravel()[None, None]
        P = (cm["A_ec"] @ pix) * z + cm["b_ec"]
        with np.errstate(divide="ignore", invalid="ignore"):
            ze, ue, ve = P[:, 2:3], P[:, 0:1] / P[:, 2:3], P[:, 1:2] / P[:, 2:3]
            cx = np.floor(ue * kx + 0.5)
            cy = np.floor(ve * ky + 0.5)
            ok = (z > 0) & (ze > p.near) & (cx >= 0) & (cx < Wl) & (cy >= 0) & (cy < Hl)
        idx = np.where(ok, np.arange(E)[:, None, None] * Hl * Wl + cy * Wl + cx, E * Hl * Wl).astype(np.int64)
        np.minimum.at(zbuf, idx.ravel(), np.where(ok, ze, BIG).ravel())
    Zl = zbuf[:-1].reshape(E, Hl, Wl)

    # 2. background-side depth fill
    Z = np.where(Zl < BIG / 2, Zl, -1).astype(f32)[:, None]  # [E,1,Hl,Wl]
    Z = close_cracks(Z)
    direct = Z > 0  # cells a camera pixel landed in (or a one-cell crack between two)
    for _ in range(p.fill_passes):
        Z = np.where(Z > 0, Z, _pool(Z, POOL_RADIUS, "max"))
    covered = Z > 0

    # 3. inverse warp at cell centres + visibility
    uc = (np.arange(Wl, dtype=f32) / kx).astype(f32)
    vc = (np.arange(Hl, dtype=f32) / ky).astype(f32)
    UC, VC = np.meshgrid(uc, vc)
    pixc = np.stack([UC.ravel(), VC.ravel(), np.ones(UC.size, f32)])
    vis, xy, inside = {}, {}, {}
    for c in ("left", "right"):
        cm = cams[c]
        P = ((cm["A_ce"] @ pixc) * Z.reshape(E, 1, -1) + cm["b_ce"]).reshape(E, 3, Hl, Wl)
        zc = P[:, 2:3]
        good = covered & (zc > p.near)
        zc_safe = np.where(good, zc, 1)
        xc, yc = P[:, 0:1] / zc_safe, P[:, 1:2] / zc_safe
        inb = good & (xc >= -0.5) & (xc <= W - 0.5) & (yc >= -0.5) & (yc <= H - 0.5)
        inside[c] = inb
        sub = cm["depth"][::ss, ::ss][None]  # the subsampled map that was splatted
        xs_ = np.clip(xc * f32(1.0 / ss), 0, sub.shape[2] - 1)
        ys_ = np.clip(yc * f32(1.0 / ss), 0, sub.shape[1] - 1)
        zs = grid_sample(sub, np.where(inb, xs_, -10), np.where(inb, ys_, -10), "nearest")[0]
        vis[c] = inb & (zs > 0) & (zs >= zc * f32(1.0 - p.tau))
        xy[c] = (np.clip(xc, 0, W - 1), np.clip(yc, 0, H - 1))
    prefL = (cams["left"]["dist2"] <= cams["right"]["dist2"])[:, None, None, None]
    visL, visR = vis["left"], vis["right"]
    seen = visL | visR
    selL = (visL & (prefL | ~visR)) | (~seen & prefL)
    wcol = selL.astype(f32)
    if p.blend:  # left share ~ 1 / distance among the cameras that see the point
        dL, dR = (np.sqrt(cams[c]["dist2"])[:, None, None, None] for c in ("left", "right"))
        a, b = visL * (dR + f32(1e-9)), visR * (dL + f32(1e-9))
        wcol = np.where(seen, a / np.maximum(a + b, 1e-20), wcol).astype(f32)
    F = np.concatenate([xy["left"][0], xy["left"][1], xy["right"][0], xy["right"][1], wcol], 1)
    holes = ~seen
    # unseen cells: (z / (z + mean z))^16-weighted average of seen neighbours' coordinates in the preferred
    # camera (background wins); then both cameras' coordinates of the cell move by the same shift (the cell
    # keeps its own offset between the cameras) and its share stays the preferred camera's
    xyP = np.where(prefL, F[:, 0:2], F[:, 2:4])
    zpos = np.maximum(Z, 0)
    zn = zpos / (zpos + zpos.sum() / max(float(covered.sum()), 1.0))
    w = seen * np.maximum(zn ** 16, f32(1e-30))  # > 0 exactly where seen
    S = np.concatenate([xyP * w, w], 1)  # weighted sums: unweighted cells take their neighbourhood's average
    for _ in range(p.hole_passes):
        S = np.where(S[:, 2:3] > 0, S, _pool(S, POOL_RADIUS, "avg"))
    levels = [S]  # push-pull pyramid for the wider holes
    for _ in range(p.hole_levels):
        levels.append(avg_pool2(levels[-1]))
    S = levels[-1]
    for fine in reversed(levels[:-1]):
        h, w = fine.shape[-2:]
        parent = S[..., np.arange(h) // 2, :][..., np.arange(w) // 2]  # onnx Resize nearest, asymmetric, floor
        S = np.where(fine[:, 2:3] > 0, fine, parent)
    filled = ~seen & (S[:, 2:3] > 0)
    shift = np.where(filled, S[:, :2] / np.maximum(S[:, 2:3], f32(1e-30)) - xyP, 0)
    lim = np.array([W - 1, H - 1, W - 1, H - 1], f32)[None, :, None, None]
    F = np.concatenate([np.clip(F[:, :4] + np.concatenate([shift, shift], 1), 0, lim), F[:, 4:5]], 1).astype(f32)

    # 4. full-resolution sampling positions (pixels; absolute, bilinearly upsampled) and colour
    off_r = 0 if p.blend else H + p.gap
    Lc = F[:, 0:2]
    Rc = np.concatenate([F[:, 2:3], F[:, 3:4] + off_r], 1)
    eye_holes = resize_nearest(holes.astype(f32), H, W) > 0.5
    if p.blend:
        FL, FR = resize_linear(Lc, H, W), resize_linear(Rc, H, W)
        WL = resize_nearest(F[:, 4:5], H, W)  # [E,1,H,W] share of the left camera
        eye_images = np.stack([
            grid_sample(images["right"], FR[e, 0], FR[e, 1]) * (1 - WL[e])
            + grid_sample(images["left"], FL[e, 0], FL[e, 1]) * WL[e] for e in range(E)])
    else:  # preferred camera bilinear + nearest per-cell offset where the other camera is used
        P = np.where(prefL, Lc, Rc)
        O = np.where(prefL, Rc, Lc)
        D = ((F[:, 4:5] > 0.5) != prefL) * (O - P)
        d = resize_linear(P, H, W) + resize_nearest(D, H, W)
        stacked = np.concatenate([images["left"], np.zeros((3, p.gap, W), f32), images["right"]], 1)
        eye_images = np.stack([grid_sample(stacked, d[e, 0], d[e, 1]) for e in range(E)])

    # depth out: the fill's guess only where a camera looks (disocclusions), 0 = unknown in the periphery
    # (points outside both cameras' images)
    periphery = ~direct & ~(inside["left"] | inside["right"])
    Zout = np.where(periphery, 0, np.maximum(Z, 0)).astype(f32)
    # bilinear over the known cells only (normalised), unknown (0) where less than half the weight is known
    num, den = resize_linear(Zout, H, W), resize_linear((Zout > 0).astype(f32), H, W)
    eye_depth = np.where(den >= 0.5, num / np.maximum(den, f32(0.5)), 0).astype(f32)
    return eye_images.astype(f32), eye_depth, eye_holes
