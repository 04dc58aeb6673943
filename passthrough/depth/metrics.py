"""Disparity error metrics as published (Middlebury 2014 / ETH3D bad-T, avgerr, density; KITTI D1).

Definitions (see ``../shared/data/README.md``), over pixels with finite ground truth (and, for
"non-occluded", ``mask0nocc == 255``):

- ``bad-T``: share of pixels whose |error| > T px; pixels the method left invalid count as bad.
- ``avgerr``: mean |error| over the pixels the method estimated.
- ``density``: share of pixels estimated.
- KITTI ``D1``: share of outliers, |error| > 3 px **and** > 5 % of the true disparity (invalid = outlier).

All computed at the ground truth's resolution: an estimate of another size is resampled (nearest) and
its disparities multiplied by the width ratio first.
"""

from __future__ import annotations

from typing import Dict, Optional

import cv2
import numpy as np

THRESHOLDS = (1.0, 2.0, 4.0)


def to_resolution(disparity: np.ndarray, shape) -> np.ndarray:
    """Resample a float32 (h, w) disparity map (NaN = invalid) to ``shape = (H, W)``, multiplying the
    values by ``W / w``. Returns the input unchanged if it already has that shape."""
    if np.ndim(disparity) != 2 or len(shape) != 2:
        raise ValueError(f"disparity maps must be 2-D, got shapes {np.shape(disparity)} and {tuple(shape)}")
    h, w = disparity.shape
    H, W = shape
    if (h, w) == (H, W):
        return disparity
    out = cv2.resize(disparity.astype(np.float32), (W, H), interpolation=cv2.INTER_NEAREST)
    return out * np.float32(W / w)


def disparity_metrics(estimate: np.ndarray, gt: np.ndarray, mask: Optional[np.ndarray] = None,
                      kitti: bool = False) -> Dict[str, float]:
    """Metrics of one disparity map.

    Args:
        estimate: float32 (h, w) estimated left disparity in px; NaN (or negative) = not estimated.
        gt: float32 (H, W) ground truth; non-finite (NaN/inf) = unknown.
        mask: optional bool (H, W) evaluation mask (e.g. non-occluded), combined with finite ground truth.
        kitti: also compute ``d1``.

    Returns:
        ``{"bad1", "bad2", "bad4", "avgerr", "density"[, "d1"]}``; fractions in 0..1, avgerr in px
        (NaN if nothing was estimated). ``n_pixels`` is not included.
    """
    gt = np.asarray(gt)
    if gt.ndim != 2:
        raise ValueError(f"ground truth must be a single-channel (H, W) map, got shape {gt.shape}")
    est = to_resolution(np.asarray(estimate, dtype=np.float32), gt.shape)
    sel = np.isfinite(gt)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != gt.shape:
            raise ValueError(f"evaluation mask shape {mask.shape} differs from the ground truth's {gt.shape}")
        sel &= mask
    n = int(sel.sum())
    if n == 0:
        raise ValueError("no pixels with ground truth to evaluate")
    g = gt[sel].astype(np.float64)
    e = est[sel].astype(np.float64)
    estimated = np.isfinite(e) & (e >= 0)
    err = np.where(estimated, np.abs(e - g), np.inf)
    out = {f"bad{int(t)}": float(np.mean(err > t)) for t in THRESHOLDS}
    out["avgerr"] = float(err[estimated].mean()) if estimated.any() else float("nan")
    out["density"] = float(estimated.mean())
    if kitti:
        out["d1"] = float(np.mean((err > 3.0) & (err > 0.05 * np.abs(g))))
    return out
