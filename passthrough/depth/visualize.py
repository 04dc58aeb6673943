"""Colour-mapped disparity and error images (BGR uint8, for PNG files)."""

from __future__ import annotations

from typing import Optional, Tuple

import cv2
import numpy as np


def colorize_disparity(disparity: np.ndarray, value_range: Optional[Tuple[float, float]] = None) -> np.ndarray:
    """float32 (H, W) disparity (NaN = invalid) -> uint8 (H, W, 3) BGR, TURBO colour map (near = red),
    invalid pixels black. ``value_range`` (lo, hi) fixes the scale (e.g. the ground truth's range)."""
    d = np.asarray(disparity, dtype=np.float32)
    ok = np.isfinite(d)
    if value_range is None:
        value_range = (float(np.percentile(d[ok], 1)), float(np.percentile(d[ok], 99))) if ok.any() else (0.0, 1.0)
    lo, hi = value_range
    scaled = np.clip((np.where(ok, d, lo) - lo) / max(hi - lo, 1e-6), 0, 1)
    img = cv2.applyColorMap((scaled * 255).astype(np.uint8), cv2.COLORMAP_TURBO)
    img[~ok] = 0
    return img


def colorize_error(estimate: np.ndarray, gt: np.ndarray, max_error: float = 4.0) -> np.ndarray:
    """Absolute disparity error image, uint8 (H, W, 3) BGR: INFERNO colour map of ``min(|e|, max_error)``
    (black = exact, yellow = ``max_error`` px or more), grey where ground truth is unknown, white where
    the method gave no estimate but ground truth exists."""
    est = np.asarray(estimate, dtype=np.float32)
    has_gt = np.isfinite(gt)
    has_est = np.isfinite(est) & (est >= 0)
    err = np.where(has_gt & has_est, np.abs(est - np.where(has_gt, gt, 0)), 0)
    img = cv2.applyColorMap((np.clip(err / max_error, 0, 1) * 255).astype(np.uint8), cv2.COLORMAP_INFERNO)
    img[~has_gt] = (96, 96, 96)
    img[has_gt & ~has_est] = (255, 255, 255)
    return img
