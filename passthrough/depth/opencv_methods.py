"""OpenCV block matchers (StereoSGBM, StereoBM) behind the same conventions as the own matcher.

Input: rectified left/right images, uint8 (H, W) grayscale or (H, W, 3) BGR; output: float32 (H, W)
left disparity in px (OpenCV's fixed-point /16 undone), -1 where OpenCV left the pixel invalid.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..io.images import to_gray


def round_up16(n: int) -> int:
    """Smallest multiple of 16 that is >= n (OpenCV's numDisparities constraint), at least 16."""
    return max(16, int(np.ceil(n / 16.0)) * 16)


def check_block_size(block_size: int, minimum: int = 1) -> None:
    """Raise ValueError unless ``block_size`` is an odd integer >= ``minimum``."""
    if int(block_size) != block_size or block_size < minimum or block_size % 2 == 0:
        raise ValueError(f"block size must be an odd integer >= {minimum}, got {block_size}")


def sgbm_disparity(left: np.ndarray, right: np.ndarray, num_disp: int, block_size: int = 5,
                   mode: int = cv2.STEREO_SGBM_MODE_SGBM, uniqueness: int = 10, speckle_window: int = 100,
                   speckle_range: int = 2, lr_max_diff: int = 1) -> np.ndarray:
    """OpenCV StereoSGBM with the usual penalties ``P1 = 8 cn b²``, ``P2 = 32 cn b²``.

    Args:
        left, right: rectified uint8 (H, W) or (H, W, 3) images of equal size.
        num_disp: disparities searched (rounded up to a multiple of 16).
        block_size: odd matching block size.
        mode: ``cv2.STEREO_SGBM_MODE_*``.
        uniqueness, speckle_window, speckle_range, lr_max_diff: OpenCV post-filters.

    Returns:
        float32 (H, W) disparity in px, -1 where invalid.
    """
    check_block_size(block_size)
    cn = 1 if left.ndim == 2 else left.shape[2]
    matcher = cv2.StereoSGBM_create(
        minDisparity=0, numDisparities=round_up16(num_disp), blockSize=block_size,
        P1=8 * cn * block_size ** 2, P2=32 * cn * block_size ** 2, disp12MaxDiff=lr_max_diff,
        uniquenessRatio=uniqueness, speckleWindowSize=speckle_window, speckleRange=speckle_range, mode=mode)
    raw = matcher.compute(left, right)
    return _to_float(raw)


def bm_disparity(left: np.ndarray, right: np.ndarray, num_disp: int, block_size: int = 9,
                 uniqueness: int = 10, speckle_window: int = 100, speckle_range: int = 2,
                 lr_max_diff: int = 1) -> np.ndarray:
    """OpenCV StereoBM (grayscale block matching with prefilter and texture threshold).

    Args:
        left, right: rectified uint8 images of equal size (converted to grayscale).
        num_disp: disparities searched (rounded up to a multiple of 16).
        block_size: odd block size >= 5.

    Returns:
        float32 (H, W) disparity in px, -1 where invalid.
    """
    check_block_size(block_size, 5)
    matcher = cv2.StereoBM_create(numDisparities=round_up16(num_disp), blockSize=block_size)
    matcher.setUniquenessRatio(uniqueness)
    matcher.setSpeckleWindowSize(speckle_window)
    matcher.setSpeckleRange(speckle_range)
    matcher.setDisp12MaxDiff(lr_max_diff)
    matcher.setTextureThreshold(10)
    raw = matcher.compute(to_gray(left), to_gray(right))
    return _to_float(raw)


def _to_float(raw: np.ndarray) -> np.ndarray:
    disp = raw.astype(np.float32) * np.float32(1.0 / 16.0)
    disp[raw < 0] = -1.0
    return disp
