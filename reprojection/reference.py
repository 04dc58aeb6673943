"""Plain numpy implementation of the reprojection graph's maths (see :mod:`reprojection.build`).

Same steps, same constants (:class:`~reprojection.build.ModelParams`), same onnx operator semantics
(``ScatterElements`` min, 3x3 ``MaxPool`` with first-maximum indices, ``GridSample`` with
``align_corners=0`` and zero padding, ``Resize`` half-pixel linear / asymmetric-floor nearest), written
for clarity, not speed. Used by the tests to check the ONNX model and as executable documentation.

Conventions: OpenCV camera axes, pixel centres at integer coordinates, ``T_eye_from_camera`` 4x4.
"""

from __future__ import annotations

from typing import Dict, Tuple

import numpy as np

from .build import BIG, ModelParams


def _kinv(K: np.ndarray) -> np.ndarray:
    """Inverse of an upper-triangular (3, 3) intrinsics matrix."""
    return np.linalg.inv(K.astype(np.float64)).astype(np.float32)


def _maxpool3(x: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """3x3 max-pool (stride 1, pad 1, padding ignored) of (E, h, w); returns max and flat index
    ``e*h*w + y*w + x`` of the first maximum in row-major window order (onnxruntime's tie rule)."""
    E, h, w = x.shape
    xp = np.full((E, h + 2, w + 2), -np.inf, np.float32)
    xp[:, 1:-1, 1:-1] = x
    best = np.full((E, h, w), -np.inf, np.float32)
    arg = np.zeros((E, h, w), np.int64)
    ys, xs = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            v = xp[:, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
            better = v > best
            best = np.where(better, v, best)
            flat = (np.arange(E)[:, None, None] * h * w + (ys + dy) * w + (xs + dx))
            arg = np.where(better, flat, arg)
    return best, arg


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
    """Half-pixel bilinear resize of (..., h, w) to (..., H, W), edge-clamped (onnx Resize linear)."""
    h, w = a.shape[-2:]

    def coords(n_out, n_in):
        c = ((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5).clip(0, n_in - 1)
        i0 = np.floor(c).astype(np.int64)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, (c - i0).astype(np.float32)

    y0, y1, fy = coords(H, h)
    x0, x1, fx = coords(W, w)
    rows = a[..., y0, :] * (1 - fy)[:, None] + a[..., y1, :] * fy[:, None]
    return rows[..., x0] * (1 - fx) + rows[..., x1] * fx


def resize_nearest(a: np.ndarray, H: int, W: int) -> np.ndarray:
    """Asymmetric-floor nearest resize of (..., h, w) to (..., H, W) (onnx Resize nearest)."""
    h, w = a.shape[-2:]
    yi = np.floor(np.arange(H) * (h / H)).astype(np.int64).clip(0, h - 1)
    xi = np.floor(np.arange(W) * (w / W)).astype(np.int64).clip(0, w - 1)
    return a[..., yi, :][..., xi]


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
    Hl, Wl = -(-H // s), -(-W // s)
    f32 = np.float32
    Kei = np.stack([_kinv(k) for k in K_eyes])
    cams = {}
    for c in ("left", "right"):
        T = T_eye_from[c].astype(f32)
        R, t = T[:, :3, :3], T[:, :3, 3:4]
        Rt = R.transpose(0, 2, 1)
        d = np.where(valids[c] & (depths[c] > 0), depths[c], 0).astype(f32)
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
            cx = np.floor((ue + 0.5) * f32(Wl / W))
            cy = np.floor((ve + 0.5) * f32(Hl / H))
            ok = (z > 0) & (ze > p.near) & (cx >= 0) & (cx < Wl) & (cy >= 0) & (cy < Hl)
        idx = np.where(ok, np.arange(E)[:, None, None] * Hl * Wl + cy * Wl + cx, E * Hl * Wl).astype(np.int64)
        np.minimum.at(zbuf, idx.ravel(), np.where(ok, ze, BIG).ravel())
    Zl = zbuf[:-1].reshape(E, Hl, Wl)

    # 2. background-side depth fill
    Z = np.where(Zl < BIG / 2, Zl, -1).astype(f32)
    for _ in range(p.fill_passes):
        m, _ = _maxpool3(Z)
        Z = np.where(Z > 0, Z, m)
    covered = Z > 0

    # 3. inverse warp at cell centres + visibility
    uc = ((np.arange(Wl) + 0.5) * (W / Wl) - 0.5).astype(f32)
    vc = ((np.arange(Hl) + 0.5) * (H / Hl) - 0.5).astype(f32)
    UC, VC = np.meshgrid(uc, vc)
    pixc = np.stack([UC.ravel(), VC.ravel(), np.ones(UC.size, f32)])
    zf = Z.reshape(E, 1, -1)
    cov = covered.reshape(E, 1, -1)
    vis, xy = {}, {}
    for c in ("left", "right"):
        cm = cams[c]
        P = (cm["A_ce"] @ pixc) * zf + cm["b_ce"]
        zc = P[:, 2:3]
        good = cov & (zc > p.near)
        with np.errstate(divide="ignore", invalid="ignore"):
            xc = np.where(good, P[:, 0:1] / zc, UC.ravel())
            yc = np.where(good, P[:, 1:2] / zc, VC.ravel())
        inb = good & (xc >= -0.5) & (xc <= W - 0.5) & (yc >= -0.5) & (yc <= H - 0.5)
        zs = grid_sample(cm["depth"][None], np.where(inb, xc, -10), np.where(inb, yc, -10), "nearest")[0]
        vis[c] = inb & (zs > 0) & (zs >= zc * f32(1.0 - p.tau))
        xy[c] = (np.clip(xc, 0, W - 1), np.clip(yc, 0, H - 1))
    prefL = (cams["left"]["dist2"] <= cams["right"]["dist2"])[:, None, None]
    visL, visR = vis["left"], vis["right"]
    seen = visL | visR
    selL = (visL & (prefL | ~visR)) | (~seen & prefL)
    table = np.concatenate([xy["left"][0], xy["left"][1], xy["right"][0], xy["right"][1], selL.astype(f32)], 1)
    table = table.transpose(0, 2, 1).reshape(-1, 5)
    holes = ~seen
    seen_k = seen.reshape(-1, 1)
    for _ in range(p.hole_passes):
        src = np.where(seen_k.reshape(E, Hl, Wl), Z, -1).astype(f32)
        m, ind = _maxpool3(src)
        take = ~seen_k & (m.reshape(-1, 1) > 0)
        table = np.where(take, table[ind.ravel()], table)
        seen_k = seen_k | take

    # 4. full-resolution grids (in pixels of the stacked image) and colour sampling
    off_r = H + p.gap
    t = table.reshape(E, Hl, Wl, 5)
    dL = np.stack([t[..., 0] - UC, t[..., 1] - VC], 1)  # [E,2,Hl,Wl]
    dR = np.stack([t[..., 2] - UC, t[..., 3] - VC + off_r], 1)
    FL, FR = resize_linear(dL, H, W), resize_linear(dR, H, W)
    sel = resize_nearest(t[..., 4], H, W)[:, None] > 0.5
    eye_holes = resize_nearest(holes.reshape(E, 1, Hl, Wl), H, W)
    d = np.where(sel, FL, FR)
    V, U = np.mgrid[0:H, 0:W].astype(f32)
    stacked = np.concatenate([images["left"], np.zeros((3, p.gap, W), f32), images["right"]], 1)
    eye_images = np.stack([grid_sample(stacked, U + d[e, 0], V + d[e, 1]) for e in range(E)])

    # eye depth: bilinear in inverse depth
    winv = np.where(covered, 1.0 / np.where(covered, Z, 1), 0).astype(f32)
    wU = resize_linear(winv[:, None], H, W)
    eye_depth = np.where(wU > 0, 1.0 / np.where(wU > 0, wU, 1), 0).astype(f32)
    return eye_images.astype(f32), eye_depth, eye_holes
