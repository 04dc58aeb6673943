"""CPU triangle rasteriser (numba) rendering holograms per eye with a z-buffer.

Conventions: the eye camera uses OpenCV axes (+x right, +y down, +z forward) and a pinhole ``K``
(3, 3) in pixels; ``T_eye_from_world`` is a 4x4 pose. Pixel centres are at integer coordinates.
Depth is the eye-frame z in metres (same quantity as the reprojected real depth), ``inf`` where no
hologram covers a pixel. Triangles with a vertex closer than ``NEAR_M`` are skipped (holograms are
expected in front of the user, not through their head), and so are the back faces of closed meshes
(:attr:`passthrough.holograms.scene.Hologram.closed`): from outside, a front face always hides them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numba
import numpy as np

from .scene import Scene

NEAR_M = 0.05


@numba.njit(cache=True, nogil=True, inline="always")
def _narrow(lo, hi, use, a, b):
    """The part ``[lo, hi]`` of a row where the edge function ``a * x + b`` can be >= 0 (unchanged where the
    edge does not narrow rows)."""
    if use:
        if a > 0:
            lo = max(lo, -b / a)
        else:
            hi = min(hi, -b / a)
    return lo, hi


@numba.njit(cache=True, nogil=True)
def _raster(v_eye, tris, drawn, face_bgr, face_alpha, fx, fy, cx, cy, depth, color, alpha):
    H, W = depth.shape
    for t in range(tris.shape[0]):
        if not drawn[t]:
            continue
        i0, i1, i2 = tris[t, 0], tris[t, 1], tris[t, 2]
        z0, z1, z2 = v_eye[i0, 2], v_eye[i1, 2], v_eye[i2, 2]
        if z0 < 0.05 or z1 < 0.05 or z2 < 0.05:
            continue
        x0 = fx * v_eye[i0, 0] / z0 + cx
        y0 = fy * v_eye[i0, 1] / z0 + cy
        x1 = fx * v_eye[i1, 0] / z1 + cx
        y1 = fy * v_eye[i1, 1] / z1 + cy
        x2 = fx * v_eye[i2, 0] / z2 + cx
        y2 = fy * v_eye[i2, 1] / z2 + cy
        area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
        if abs(area) < 1e-12:
            continue
        xmin = max(int(np.floor(min(x0, min(x1, x2)))), 0)
        xmax = min(int(np.ceil(max(x0, max(x1, x2)))), W - 1)
        ymin = max(int(np.floor(min(y0, min(y1, y2)))), 0)
        ymax = min(int(np.ceil(max(y0, max(y1, y2)))), H - 1)
        if xmin > xmax or ymin > ymax:
            continue
        iz0, iz1, iz2 = 1.0 / z0, 1.0 / z1, 1.0 / z2
        inv_area = 1.0 / area
        # w0, w1, w2 below are linear along a row (w = a * x + b(y)): a row visits only the span where all
        # three can be >= 0, plus a margin far wider than the rounding of w and of the crossings (~1e-9 px^2
        # / edge height for image coordinates below ~10^4). The test per pixel stays the exact one, so the
        # span skips only pixels it would reject (for small triangles, most of their box). Edges flatter
        # than 1e-6 px and triangles under 1e-3 px^2 do not narrow the rows.
        spans = abs(area) >= 1e-3
        dy0, dy1, dy2 = y1 - y2, y2 - y0, y0 - y1
        use0, use1, use2 = spans and abs(dy0) >= 1e-6, spans and abs(dy1) >= 1e-6, spans and abs(dy2) >= 1e-6
        hmin = min(abs(dy0) if use0 else 1e30, abs(dy1) if use1 else 1e30, abs(dy2) if use2 else 1e30)
        mg = 1e-3 + 1e-7 / hmin
        a0, a1, a2 = dy0 * inv_area, dy1 * inv_area, dy2 * inv_area  # dw/dx of each edge function
        for y in range(ymin, ymax + 1):
            xs, xe = xmin, xmax
            if use0 or use1 or use2:
                b0 = (x1 * (y2 - y) - x2 * (y1 - y)) * inv_area
                b1 = (x2 * (y0 - y) - x0 * (y2 - y)) * inv_area
                b2 = 1.0 - b0 - b1
                lo, hi = _narrow(float(xmin), float(xmax), use0, a0, b0)
                lo, hi = _narrow(lo, hi, use1, a1, b1)
                lo, hi = _narrow(lo, hi, use2, a2, b2)
                if lo - mg > hi + mg:  # no pixel of this row can pass
                    continue
                xs = max(xmin, int(np.ceil(lo - mg)))
                xe = min(xmax, int(np.floor(hi + mg)))
            for x in range(xs, xe + 1):
                w0 = ((x1 - x) * (y2 - y) - (x2 - x) * (y1 - y)) * inv_area
                w1 = ((x2 - x) * (y0 - y) - (x0 - x) * (y2 - y)) * inv_area
                w2 = 1.0 - w0 - w1
                if w0 < 0 or w1 < 0 or w2 < 0:
                    continue
                z = 1.0 / (w0 * iz0 + w1 * iz1 + w2 * iz2)
                if z < depth[y, x]:
                    depth[y, x] = z
                    color[y, x, 0] = face_bgr[t, 0]
                    color[y, x, 1] = face_bgr[t, 1]
                    color[y, x, 2] = face_bgr[t, 2]
                    alpha[y, x] = face_alpha[t]


@dataclass
class HologramLayer:
    """The holograms of one eye, rendered inside their bounding box only.

    Attributes:
        color: float32 (h, w, 3) BGR in 0..1 (flat Lambert shading).
        alpha: float32 (h, w) material opacity where covered (0 elsewhere).
        depth: float32 (h, w) eye depth z in metres (``inf`` where nothing is drawn).
        x0, y0: position of the box's top-left pixel in the eye image (px).
    """

    color: np.ndarray
    alpha: np.ndarray
    depth: np.ndarray
    x0: int
    y0: int

    @property
    def slices(self) -> Tuple[slice, slice]:
        """``(rows, cols)`` of the box in the eye image."""
        h, w = self.depth.shape
        return slice(self.y0, self.y0 + h), slice(self.x0, self.x0 + w)


@numba.njit(cache=True, nogil=True)
def _transform_shade(T, verts, tris, bgr, fx, fy, cx, cy, cull, v_out, face_out, drawn):
    """Object vertices (N, 3) -> eye frame ``v_out`` (float32, by the 4x4 ``T``), flat Lambert shading
    per drawn face (``face_out`` float32 (T, 3) BGR, 0 for the others), which faces to draw (``drawn``
    bool (T,): in front of ``NEAR_M``, and with ``cull`` facing the eye: the mesh is closed and wound
    counter-clockwise seen from outside, ``T`` keeps handedness) and the pixel box (xmin, ymin, xmax,
    ymax) of the drawn triangles (xmin > xmax when none is)."""
    px = np.empty((verts.shape[0], 4), np.int64)  # per vertex floor(u), ceil(u), floor(v), ceil(v)
    for i in range(verts.shape[0]):
        x, y, z = np.float64(verts[i, 0]), np.float64(verts[i, 1]), np.float64(verts[i, 2])
        for r in range(3):
            v_out[i, r] = T[r, 0] * x + T[r, 1] * y + T[r, 2] * z + T[r, 3]
        if v_out[i, 2] >= NEAR_M:  # projected once per vertex, not once per triangle using it
            u = fx * v_out[i, 0] / v_out[i, 2] + cx
            w = fy * v_out[i, 1] / v_out[i, 2] + cy
            px[i, 0] = int(np.floor(u))
            px[i, 1] = int(np.ceil(u))
            px[i, 2] = int(np.floor(w))
            px[i, 3] = int(np.ceil(w))
    ln = np.sqrt(0.3 * 0.3 + 0.8 * 0.8 + 0.5 * 0.5)
    # towards the light, in the eye's OpenCV axes (+y down, +z forward): left, below and beyond; the shading
    # takes |n . l|, so it is the same as a light from above, right and the viewer's side
    lx, ly, lz = -0.3 / ln, 0.8 / ln, 0.5 / ln
    xmin, ymin, xmax, ymax = 1 << 30, 1 << 30, -(1 << 30), -(1 << 30)
    for t in range(tris.shape[0]):
        a, b, c = tris[t, 0], tris[t, 1], tris[t, 2]
        e1x, e1y, e1z = v_out[b, 0] - v_out[a, 0], v_out[b, 1] - v_out[a, 1], v_out[b, 2] - v_out[a, 2]
        e2x, e2y, e2z = v_out[c, 0] - v_out[a, 0], v_out[c, 1] - v_out[a, 1], v_out[c, 2] - v_out[a, 2]
        nx = e1y * e2z - e1z * e2y
        ny = e1z * e2x - e1x * e2z
        nz = e1x * e2y - e1y * e2x
        nn = np.sqrt(nx * nx + ny * ny + nz * nz) + 1e-12
        nx, ny, nz = nx / nn, ny / nn, nz / nn
        mx = (v_out[a, 0] + v_out[b, 0] + v_out[c, 0]) / 3.0
        my = (v_out[a, 1] + v_out[b, 1] + v_out[c, 1]) / 3.0
        mz = (v_out[a, 2] + v_out[b, 2] + v_out[c, 2]) / 3.0
        drawn[t] = False
        for k in range(3):
            face_out[t, k] = 0.0
        za, zb, zc = v_out[a, 2], v_out[b, 2], v_out[c, 2]
        if za < NEAR_M or zb < NEAR_M or zc < NEAR_M:
            continue
        if cull and nx * mx + ny * my + nz * mz >= 0.0:  # outward normal points away from the eye
            continue
        mn = np.sqrt(mx * mx + my * my + mz * mz) + 1e-12  # shaded only when drawn
        lam = abs(nx * lx + ny * ly + nz * lz) * 0.55 + abs(-(nx * mx + ny * my + nz * mz) / mn) * 0.3 + 0.15
        lam = min(max(lam, 0.0), 1.0)
        for k in range(3):
            face_out[t, k] = lam * bgr[k]
        drawn[t] = True
        for q in (a, b, c):
            xmin = min(xmin, px[q, 0])
            xmax = max(xmax, px[q, 1])
            ymin = min(ymin, px[q, 2])
            ymax = max(ymax, px[q, 3])
    return xmin, ymin, xmax, ymax


def _prepared(scene: Scene, T_eye_from_world: np.ndarray, K: np.ndarray):
    """Per hologram in view: eye-frame vertices float32 (N, 3), triangles, face colours and alphas, and
    the pixel box ``(xmin, ymin, xmax, ymax)`` (inclusive, unclipped) of the triangles in front of
    ``NEAR_M``."""
    out = []
    fx, fy, cx, cy = float(K[0, 0]), float(K[1, 1]), float(K[0, 2]), float(K[1, 2])
    for holo in scene.holograms:
        tris = holo.triangles
        if tris.size == 0:
            continue
        T = np.asarray(T_eye_from_world, np.float64) @ holo.T_world_from_object
        v = np.empty((len(holo.vertices), 3), np.float32)
        face_bgr = np.empty((len(tris), 3), np.float32)
        drawn = np.empty(len(tris), np.bool_)
        cull = holo.closed and np.linalg.det(T[:3, :3]) > 0  # a mirroring pose flips the winding
        box = _transform_shade(T, holo.vertices, tris, holo.color_rgb[::-1], fx, fy, cx, cy, cull, v, face_bgr,
                               drawn)
        if box[0] > box[2]:
            continue
        out.append((v, tris, drawn, face_bgr, np.full(len(tris), holo.alpha, np.float32), box))
    return out


def render_eye_layer(scene: Scene, T_eye_from_world: np.ndarray, K: np.ndarray,
                     size: Tuple[int, int]) -> Optional[HologramLayer]:
    """Render every hologram of ``scene`` into one eye, inside the holograms' pixel box only (the
    display stage composites just that box: holograms usually cover a few percent of the view).

    Args: as :func:`render_eye`. Returns a :class:`HologramLayer`, or None where no hologram is in view.
    """
    W, H = size
    items = _prepared(scene, T_eye_from_world, K)
    boxes = [b for *_, b in items]
    if not boxes:
        return None
    x0 = max(0, min(b[0] for b in boxes))
    y0 = max(0, min(b[1] for b in boxes))
    x1 = min(W - 1, max(b[2] for b in boxes))
    y1 = min(H - 1, max(b[3] for b in boxes))
    if x1 < x0 or y1 < y0:
        return None
    h, w = y1 - y0 + 1, x1 - x0 + 1
    depth = np.full((h, w), np.inf, np.float32)
    color = np.zeros((h, w, 3), np.float32)
    alpha = np.zeros((h, w), np.float32)
    fx, fy, cx, cy = float(K[0, 0]), float(K[1, 1]), float(K[0, 2]) - x0, float(K[1, 2]) - y0
    # opaque holograms into one z-buffer; then each see-through one on its own, blended with what is there in
    # depth order (it shows what lies behind it, another hologram too, and dims what it stands behind)
    see_through = []
    for item in items:
        v, tris, drawn, face_bgr, face_alpha, _box = item
        if np.all(face_alpha >= 1.0):
            _raster(v, tris, drawn, face_bgr, face_alpha, fx, fy, cx, cy, depth, color, alpha)
        else:
            see_through.append(item)
    for v, tris, drawn, face_bgr, face_alpha, box in see_through:  # each inside its own pixel box only
        bx0, by0 = max(box[0] - x0, 0), max(box[1] - y0, 0)
        bx1, by1 = min(box[2] - x0, w - 1), min(box[3] - y0, h - 1)
        if bx1 < bx0 or by1 < by0:
            continue
        bh, bw = by1 - by0 + 1, bx1 - bx0 + 1
        d_t = np.full((bh, bw), np.inf, np.float32)
        c_t = np.empty((bh, bw, 3), np.float32)
        a_t = np.empty((bh, bw), np.float32)
        _raster(v, tris, drawn, face_bgr, face_alpha, fx, fy, cx - bx0, cy - by0, d_t, c_t, a_t)
        rows, cols = slice(by0, by1 + 1), slice(bx0, bx1 + 1)
        _blend_in_depth_order(depth[rows, cols], color[rows, cols], alpha[rows, cols], d_t, c_t, a_t)
    return HologramLayer(color, alpha, depth, x0, y0)


@numba.njit(cache=True, nogil=True)
def _blend_in_depth_order(depth, color, alpha, d_new, c_new, a_new):
    """Blend one hologram's own nearest surface (``d_new``, ``c_new``, ``a_new``: inf depth where it is not
    drawn) into the layer (``depth``, ``color``, ``alpha``) with the "over" operator, the nearer one in front:
    ``alpha = a_f + a_b (1 - a_f)``, ``color = (c_f a_f + c_b a_b (1 - a_f)) / alpha`` (colours are not
    premultiplied); the layer keeps the nearer depth (what the real world's depth is tested against)."""
    H, W = depth.shape
    for y in range(H):
        for x in range(W):
            zn = d_new[y, x]
            if not zn < np.inf:
                continue
            an = a_new[y, x]
            ab = alpha[y, x]
            if zn < depth[y, x]:  # in front of what is there (or nothing is)
                af, wb = an, ab * (1.0 - an)
                a = af + wb
                for c in range(3):
                    color[y, x, c] = (c_new[y, x, c] * af + color[y, x, c] * wb) / a if a > 0 else c_new[y, x, c]
                alpha[y, x] = a
                depth[y, x] = zn
            elif ab < 1.0:  # behind a see-through surface: seen through it
                wn = an * (1.0 - ab)
                a = ab + wn
                if a > 0:
                    for c in range(3):
                        color[y, x, c] = (color[y, x, c] * ab + c_new[y, x, c] * wn) / a
                alpha[y, x] = a


def render_eye(scene: Scene, T_eye_from_world: np.ndarray, K: np.ndarray, size: Tuple[int, int]):
    """Render every hologram of ``scene`` into one eye.

    Args:
        scene: the holograms.
        T_eye_from_world: (4, 4) pose; eye axes are OpenCV's.
        K: (3, 3) eye intrinsics in pixels.
        size: ``(width, height)``.

    Returns:
        ``(color_bgr, alpha, depth)``: float32 (H, W, 3) BGR in 0..1 (flat Lambert shading), float32
        (H, W) material opacity where covered (0 elsewhere), float32 (H, W) eye depth z in metres
        (``inf`` where nothing is drawn).
    """
    w, h = size
    depth = np.full((h, w), np.inf, np.float32)
    color = np.zeros((h, w, 3), np.float32)
    alpha = np.zeros((h, w), np.float32)
    layer = render_eye_layer(scene, T_eye_from_world, K, size)
    if layer is not None:
        rows, cols = layer.slices
        depth[rows, cols], color[rows, cols], alpha[rows, cols] = layer.depth, layer.color, layer.alpha
    return color, alpha, depth
