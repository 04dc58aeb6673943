"""2-D hand mask per camera image, for occluding holograms behind the user's hands."""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["BONES", "hand_mask"]

#: (parent, child) joint pairs of the 21-joint hand skeleton
BONES = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11), (11, 12),
         (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18), (18, 19), (19, 20)]
_PALM = [0, 1, 2, 5, 9, 13, 17]


def hand_mask(shape: tuple[int, int], hands_landmarks, finger_width: float = 0.28,
              dilate_px: int = 2) -> np.ndarray:
    """Rasterise hands into a mask.

    Args:
        shape: (H, W) of the camera image.
        hands_landmarks: iterable of (21, >=2) landmark arrays in image pixels (+x right, +y down).
        finger_width: finger thickness as a fraction of the palm size (wrist to middle MCP distance).
        dilate_px: extra margin in pixels.
    Returns:
        uint8 (H, W) mask, 255 on hands, 0 elsewhere.
    """
    h, w = shape[:2]
    mask = np.zeros((h, w), np.uint8)
    for lm in hands_landmarks:
        p = np.asarray(lm, np.float64)[:, :2]
        palm = float(np.linalg.norm(p[9] - p[0]))
        thick = max(2, int(round(finger_width * palm)))
        pts = np.round(p * 16).astype(np.int32)  # 4 fractional bits
        cv2.fillConvexPoly(mask, cv2.convexHull(pts[_PALM]), 255, lineType=cv2.LINE_8, shift=4)
        for a, b in BONES:
            cv2.line(mask, tuple(int(v) for v in pts[a]), tuple(int(v) for v in pts[b]), 255, thick,
                     lineType=cv2.LINE_8, shift=4)
        for i in range(21):
            cv2.circle(mask, tuple(int(v) for v in pts[i]), int(thick * 8), 255, -1, lineType=cv2.LINE_8, shift=4)
    if dilate_px > 0 and mask.any():
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate_px + 1, 2 * dilate_px + 1))
        mask = cv2.dilate(mask, k)
    return mask
