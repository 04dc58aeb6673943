"""Move a depth map to another pose of the same pinhole camera (forward warp, nearest surface wins).

The camera stage's image-first mode (:mod:`passthrough.pipeline.camera_stage`) shows a new camera image
with the previous frame's depth while the new depth is still being computed; when the rig moved between
the two captures, that depth is first warped into the new camera pose with :func:`warp_depth`.

Conventions: OpenCV camera axes (+x right, +y down, +z forward), metres; depth = z along the optical axis,
float32 (H, W), NaN (or <= 0) unknown; ``K`` (3, 3) pixels with pixel centres at integer coordinates;
``T_dst_from_src`` (4, 4) maps points of the source camera's frame to the destination camera's.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["is_identity", "warp_depth"]


def is_identity(T: np.ndarray, atol: float = 1e-9) -> bool:
    """True if the 4x4 pose ``T`` is the identity (within ``atol`` per entry)."""
    return bool(np.allclose(np.asarray(T, np.float64), np.eye(4), rtol=0.0, atol=atol))


@njit(cache=True, nogil=True)  # no fastmath: NaN depths must compare False
def _splat(depth, fx, fy, cx, cy, R, t, out):
    """z-buffered splat of every known source pixel into the 2x2 destination pixels around its projection
    (both neighbours along each axis: no cracks where the surface is magnified by up to 2x); ``out``
    starts at +inf (empty)."""
    H, W = depth.shape
    for v in range(H):
        for u in range(W):
            z = depth[v, u]
            if not (z > 0.0):
                continue
            x = (u - cx) / fx * z
            y = (v - cy) / fy * z
            X = R[0, 0] * x + R[0, 1] * y + R[0, 2] * z + t[0]
            Y = R[1, 0] * x + R[1, 1] * y + R[1, 2] * z + t[1]
            Z = R[2, 0] * x + R[2, 1] * y + R[2, 2] * z + t[2]
            if not (Z > 1e-6):
                continue
            ud = fx * X / Z + cx
            vd = fy * Y / Z + cy
            if not (ud > -1.0 and ud < W and vd > -1.0 and vd < H):
                continue
            u0 = int(np.floor(ud))
            v0 = int(np.floor(vd))
            for dv in range(2):
                vv = v0 + dv
                if vv < 0 or vv >= H:
                    continue
                for du in range(2):
                    uu = u0 + du
                    if uu < 0 or uu >= W:
                        continue
                    if Z < out[vv, uu]:
                        out[vv, uu] = Z


def warp_depth(depth: np.ndarray, K: np.ndarray, T_dst_from_src: np.ndarray, fill: bool = True) -> np.ndarray:
    """The depth map ``depth`` of a camera (intrinsics ``K``) as seen from the pose ``T_dst_from_src``.

    Every known pixel is moved to where its 3-D point projects in the destination pose (z-buffered: the
    nearest surface wins). Destination pixels nothing lands on (what the source pose did not see:
    disocclusions beside near objects, a border that came into view) are NaN, or with ``fill`` get the
    farther of the nearest known depths left and right on their row (the depth stage's occlusion fill,
    :func:`passthrough.depth.upsample.fill_holes`, on inverse depth): disocclusions belong to the background.

    Args:
        depth: float32 (H, W) z in metres, NaN or <= 0 unknown.
        K: (3, 3) intrinsics of both poses (one camera).
        T_dst_from_src: (4, 4) rigid transform from the source pose's frame to the destination's.
        fill: fill what nothing lands on (see above).

    Returns:
        float32 (H, W), NaN unknown; ``depth`` itself (no copy) when ``T_dst_from_src`` is the identity.
    """
    d = np.asarray(depth, np.float32)
    if d.ndim != 2:
        raise ValueError(f"depth must be (H, W), got shape {d.shape}")
    if is_identity(T_dst_from_src):
        return depth
    T = np.asarray(T_dst_from_src, np.float64)
    K = np.asarray(K, np.float64)
    out = np.full(d.shape, np.inf, np.float32)
    _splat(np.ascontiguousarray(d), K[0, 0], K[1, 1], K[0, 2], K[1, 2], np.ascontiguousarray(T[:3, :3]),
           np.ascontiguousarray(T[:3, 3]), out)
    empty = ~np.isfinite(out)
    if not fill:
        out[empty] = np.nan
        return out
    from .upsample import fill_holes

    inv = np.full(out.shape, -1.0, np.float32)  # inverse depth, -1 = hole (fill_holes' convention)
    np.divide(np.float32(1.0), out, out=inv, where=~empty)
    filled = fill_holes(inv)
    z = np.full(filled.shape, np.nan, np.float32)  # NaN: rows / images with nothing known at all
    np.divide(np.float32(1.0), filled, out=z, where=filled > 0)
    return z
