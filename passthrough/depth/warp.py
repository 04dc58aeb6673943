"""Move a depth map to another pose of the same pinhole camera (forward warp, nearest surface wins).

The camera stage's image-first mode (:mod:`passthrough.pipeline.camera_stage`) shows a new camera image
with the previous frame's depth while the new depth is still being computed; when the rig moved between
the two captures, that depth is first warped into the new camera pose with :func:`warp_depth`.

Cost: one pass over the source pixels (a z-buffered max of inverse depth, branch-free), then the row
fill. On KITTI's 1241x376 maps with the rig moving ~1 m per frame, alternated on the same frames
(2026-12-03, one core, 45 warps each): p50 15.4 -> 5.5 ms against the earlier version (a branchy min of
depth, four divisions per pixel, reciprocals around the fill).

Conventions: OpenCV camera axes (+x right, +y down, +z forward), metres; depth = z along the optical axis,
float32 (H, W), NaN (or <= 0) unknown; ``K`` (3, 3) pixels with pixel centres at integer coordinates;
``T_dst_from_src`` (4, 4) maps points of the source camera's frame to the destination camera's.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np
from numba import njit

__all__ = ["is_identity", "source_pixels", "warp_depth"]


def is_identity(T: np.ndarray, atol: float = 1e-9) -> bool:
    """True if the 4x4 pose ``T`` is the identity (within ``atol`` per entry)."""
    return bool(np.allclose(np.asarray(T, np.float64), np.eye(4), rtol=0.0, atol=atol))


@njit(cache=True, nogil=True)  # no fastmath: NaN depths must compare False
def _splat_inverse(depth, fx, fy, cx, cy, R, t, out):
    """z-buffered splat of every known source pixel's *inverse* depth into the 2x2 destination pixels
    around its projection (both neighbours along each axis: no cracks where the surface is magnified by
    up to 2x); the largest inverse depth (nearest surface) wins; ``out`` starts at -1 (empty, the
    convention of :func:`passthrough.depth.upsample.fill_holes`). A pixel's point is ``z * ray + t``
    with ``ray = R @ ((u - cx) / fx, (v - cy) / fy, 1)`` linear in ``u`` along a row: one division per
    pixel (the projection); the z-test is a branch-free max (overlaps are unpredictable branches)."""
    H, W = depth.shape
    sx, sy, sz = R[0, 0] / fx, R[1, 0] / fx, R[2, 0] / fx  # ray step per pixel along a row
    for v in range(H):
        yn = (v - cy) / fy
        ax0 = R[0, 0] * (-cx / fx) + R[0, 1] * yn + R[0, 2]  # ray at u = 0
        ay0 = R[1, 0] * (-cx / fx) + R[1, 1] * yn + R[1, 2]
        az0 = R[2, 0] * (-cx / fx) + R[2, 1] * yn + R[2, 2]
        row = depth[v]
        for u in range(W):
            z = row[u]
            if not (z > 0.0):
                continue
            Z = z * (az0 + sz * u) + t[2]
            if not (Z > 1e-6):
                continue
            iz = 1.0 / Z
            ud = fx * (z * (ax0 + sx * u) + t[0]) * iz + cx
            vd = fy * (z * (ay0 + sy * u) + t[1]) * iz + cy
            if not (ud > -1.0 and ud < W and vd > -1.0 and vd < H):
                continue
            u0 = int(ud + 1.0) - 1  # floor, for ud > -1
            v0 = int(vd + 1.0) - 1
            q = np.float32(iz)
            if u0 >= 0 and u0 < W - 1 and v0 >= 0 and v0 < H - 1:
                out[v0, u0] = max(out[v0, u0], q)
                out[v0, u0 + 1] = max(out[v0, u0 + 1], q)
                out[v0 + 1, u0] = max(out[v0 + 1, u0], q)
                out[v0 + 1, u0 + 1] = max(out[v0 + 1, u0 + 1], q)
            else:
                for vv in range(max(v0, 0), min(v0 + 2, H)):
                    for uu in range(max(u0, 0), min(u0 + 2, W)):
                        out[vv, uu] = max(out[vv, uu], q)


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
    inv = np.full(d.shape, -1.0, np.float32)  # inverse depth, -1 = nothing landed
    _splat_inverse(np.ascontiguousarray(d), K[0, 0], K[1, 1], K[0, 2], K[1, 2], np.ascontiguousarray(T[:3, :3]),
                   np.ascontiguousarray(T[:3, 3]), inv)
    if fill:
        from .upsample import fill_holes

        inv = fill_holes(inv)  # its 0: rows / images with nothing known at all
    with np.errstate(divide="ignore"):
        z = np.reciprocal(inv)
    z[~(inv > 0)] = np.nan
    return z


def source_pixels(depth: np.ndarray, K: np.ndarray, T_src_from_dst: np.ndarray, ys: np.ndarray,
                  xs: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Where the points that pixels ``(ys, xs)`` of a warped map show were in the source pose: each
    pixel back-projected with its depth and moved by ``T_src_from_dst`` (the inverse of the warp's
    transform), rounded to the nearest pixel. ``depth``: the destination's float32 (H, W) map (e.g. the
    output of :func:`warp_depth`). Returns ``(ys_src, xs_src)`` int64 arrays like ``ys``; -1 (both) where
    the depth is unknown or the point falls outside the source image or behind it."""
    d = np.asarray(depth, np.float32)
    H, W = d.shape
    ys, xs = np.asarray(ys, np.int64), np.asarray(xs, np.int64)
    K = np.asarray(K, np.float64)
    T = np.asarray(T_src_from_dst, np.float64)
    z = d[ys, xs].astype(np.float64)
    p = np.stack([(xs - K[0, 2]) / K[0, 0] * z, (ys - K[1, 2]) / K[1, 1] * z, z])
    q = T[:3, :3] @ p + T[:3, 3:4]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.rint(K[0, 0] * q[0] / q[2] + K[0, 2])
        v = np.rint(K[1, 1] * q[1] / q[2] + K[1, 2])
        ok = (z > 0) & (q[2] > 1e-6) & (u >= 0) & (u < W) & (v >= 0) & (v < H)
    return np.where(ok, v, -1).astype(np.int64), np.where(ok, u, -1).astype(np.int64)
