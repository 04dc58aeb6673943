"""CPU triangle rasteriser (numba) rendering holograms per eye with a z-buffer.

Conventions: the eye camera uses OpenCV axes (+x right, +y down, +z forward) and a pinhole ``K``
(3, 3) in pixels; ``T_eye_from_world`` is a 4x4 pose. Pixel centres are at integer coordinates.
Depth is the eye-frame z in metres (same quantity as the reprojected real depth), ``inf`` where no
hologram covers a pixel. Triangles with a vertex closer than ``NEAR_M`` are skipped (holograms are
expected in front of the user, not through their head).
"""

from __future__ import annotations

from typing import Tuple

import numba
import numpy as np

from ..geometry import transform_points
from .scene import Scene

NEAR_M = 0.05


@numba.njit(cache=True, nogil=True)
def _raster(v_eye, tris, face_bgr, face_alpha, fx, fy, cx, cy, depth, color, alpha):
    H, W = depth.shape
    for t in range(tris.shape[0]):
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
        for y in range(ymin, ymax + 1):
            for x in range(xmin, xmax + 1):
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
    for holo in scene.holograms:
        v = transform_points(np.asarray(T_eye_from_world) @ holo.T_world_from_object, holo.vertices).astype(np.float32)
        tris = holo.triangles
        if tris.size == 0:
            continue
        n = np.cross(v[tris[:, 1]] - v[tris[:, 0]], v[tris[:, 2]] - v[tris[:, 0]])
        n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
        centre = v[tris].mean(1)
        view = -centre / (np.linalg.norm(centre, axis=1, keepdims=True) + 1e-12)
        light = np.array([0.3, -0.8, -0.5]) / np.linalg.norm([0.3, -0.8, -0.5])  # from above, towards the viewer
        lambert = np.abs(n @ -light) * 0.55 + np.abs(np.sum(n * view, axis=1)) * 0.3 + 0.15
        face_bgr = (np.clip(lambert, 0, 1)[:, None] * holo.color_rgb[::-1][None, :]).astype(np.float32)
        face_alpha = np.full(len(tris), holo.alpha, np.float32)
        _raster(v, tris, face_bgr, face_alpha, float(K[0, 0]), float(K[1, 1]), float(K[0, 2]), float(K[1, 2]),
                depth, color, alpha)
    return color, alpha, depth
