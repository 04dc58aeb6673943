"""Hand landmark model on a rotated 224x224 crop, and landmarks -> next-frame ROI.

Image coordinates: pixels, +x right, +y down. Landmarks are float32 (21, 3): x, y in image pixels and a
relative depth z (same scale as x, smaller = closer to the camera, wrist ~ 0), in MediaPipe's joint order
(0 wrist; 1-4 thumb CMC..tip; 5-8 index MCP..tip; 9-12 middle; 13-16 ring; 17-20 pinky).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .palm import Roi, _normalize_angle, rect_transform

__all__ = ["LANDMARK_SIZE", "LandmarkResult", "crop_roi", "run_landmarks", "landmarks_to_roi"]

LANDMARK_SIZE = 224
_PARTIAL = [0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18]


@dataclass
class LandmarkResult:
    """Landmark model output mapped to the image: ``landmarks`` float32 (21, 3) px, ``presence`` and
    ``right_score`` (probability that this is a right hand, in the un-mirrored image) in [0, 1],
    ``world`` float32 (21, 3) metres (model's hand-centred 3-D estimate, rotated like the crop)."""

    landmarks: np.ndarray
    presence: float
    right_score: float
    world: np.ndarray


def crop_matrix(roi: Roi, size: int = LANDMARK_SIZE) -> np.ndarray:
    """float64 (2, 3) affine map from crop pixels (u, v) to image pixels (x, y)."""
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    k = roi.size / size
    rot = np.array([[c, -s], [s, c]]) * k
    t = np.array([roi.cx, roi.cy]) - rot @ np.array([size / 2, size / 2])
    return np.hstack([rot, t[:, None]])


def crop_roi(image_rgb: np.ndarray, roi: Roi, size: int = LANDMARK_SIZE) -> np.ndarray:
    """Rotated square crop, uint8 (size, size, 3), edge pixels replicated outside the image."""
    m = crop_matrix(roi, size)
    return cv2.warpAffine(image_rgb, m, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def _infer(session, crop: np.ndarray) -> dict:
    x = (crop.astype(np.float32) / 255.0)[None]
    out = session.run(None, {session.get_inputs()[0].name: x})
    return dict(zip([o.name for o in session.get_outputs()], out))


def run_landmarks(session, image_rgb: np.ndarray, roi: Roi) -> LandmarkResult:
    """Run the landmark model on ``roi`` of a uint8 (H, W, 3) RGB image."""
    res = _infer(session, crop_roi(image_rgb, roi))
    lm = res["Identity"].reshape(21, 3).astype(np.float64)
    m = crop_matrix(roi)
    xy = lm[:, :2] @ m[:, :2].T + m[:, 2]
    z = lm[:, 2] * roi.size / LANDMARK_SIZE
    landmarks = np.column_stack([xy, z]).astype(np.float32)
    presence = float(res["Identity_1"].reshape(-1)[0])
    # The model's handedness output is the probability of "Left" under MediaPipe's mirrored-selfie
    # assumption, which is the probability of a right hand in an un-mirrored camera image.
    right_score = float(res["Identity_2"].reshape(-1)[0])
    world = res["Identity_3"].reshape(21, 3).astype(np.float32)
    return LandmarkResult(landmarks, presence, right_score, world)


def landmarks_to_roi(landmarks: np.ndarray, scale: float = 2.0, shift_y: float = -0.1) -> Roi:
    """Next-frame ROI from landmarks (MediaPipe's HandLandmarksToRectCalculator + RectTransformation):
    rotation from the wrist to the mean of the index/middle/ring MCPs, tight box of the palm and lower
    finger joints in that rotated frame, enlarged x2 and shifted 10 % towards the fingers."""
    pts = landmarks[_PARTIAL, :2].astype(np.float64)
    x0, y0 = landmarks[0, :2]
    x1 = ((landmarks[5, 0] + landmarks[13, 0]) / 2 + landmarks[9, 0]) / 2
    y1 = ((landmarks[5, 1] + landmarks[13, 1]) / 2 + landmarks[9, 1]) / 2
    rotation = _normalize_angle(math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0))
    centre = (pts.min(0) + pts.max(0)) / 2
    c, s = math.cos(-rotation), math.sin(-rotation)
    d = pts - centre
    proj = np.column_stack([d[:, 0] * c - d[:, 1] * s, d[:, 0] * s + d[:, 1] * c])
    lo, hi = proj.min(0), proj.max(0)
    pc = (lo + hi) / 2
    cr, sr = math.cos(rotation), math.sin(rotation)
    cx = pc[0] * cr - pc[1] * sr + centre[0]
    cy = pc[0] * sr + pc[1] * cr + centre[1]
    w, h = hi - lo
    return rect_transform(cx, cy, w, h, rotation, scale, shift_y)
