"""Palm detection: BlazePalm (192x192) pre-processing, SSD anchor decoding, weighted NMS, palm -> hand ROI.

Image coordinates throughout: pixels, +x right, +y down, origin at the top-left pixel corner.
A hand region of interest (:class:`Roi`) is a rotated square: centre ``(cx, cy)`` px, side ``size`` px and
``rotation`` rad (positive = clockwise on screen, MediaPipe's convention), such that the
wrist->middle-finger direction points "up" in the crop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["Roi", "PalmDetection", "ssd_anchors", "letterbox", "decode_palms", "weighted_nms", "detect_palms",
           "palm_to_roi", "roi_iou"]

PALM_SIZE = 192


@dataclass
class Roi:
    """Rotated square region in image pixels (see module docstring)."""

    cx: float
    cy: float
    size: float
    rotation: float

    def corners(self) -> np.ndarray:
        """float32 (4, 2) corners (top-left, top-right, bottom-right, bottom-left in crop order), px."""
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        h = self.size / 2
        pts = np.array([[-h, -h], [h, -h], [h, h], [-h, h]], np.float64)
        rot = np.array([[c, -s], [s, c]])
        return (pts @ rot.T + [self.cx, self.cy]).astype(np.float32)


@dataclass
class PalmDetection:
    """One palm: ``box`` (x0, y0, x1, y1) px, ``keypoints`` float32 (7, 2) px (0 = wrist centre,
    2 = middle-finger MCP), ``score`` in [0, 1]."""

    box: np.ndarray
    keypoints: np.ndarray
    score: float


def ssd_anchors(input_size: int = PALM_SIZE, strides=(8, 16, 16, 16)) -> np.ndarray:
    """SSD anchor centres for BlazePalm, float32 (N, 2) normalised (x, y) in [0, 1].

    MediaPipe's SsdAnchorsCalculator with ``fixed_anchor_size``: consecutive layers with the same stride
    share one feature map and contribute 2 anchors each (aspect ratio 1 + interpolated scale) per cell,
    so 192 px input gives 24*24*2 + 12*12*6 = 2016 anchors.
    """
    anchors = []
    i = 0
    while i < len(strides):
        j = i
        while j < len(strides) and strides[j] == strides[i]:
            j += 1
        per_cell = 2 * (j - i)
        n = int(math.ceil(input_size / strides[i]))
        ys, xs = np.meshgrid((np.arange(n) + 0.5) / n, (np.arange(n) + 0.5) / n, indexing="ij")
        centres = np.stack([xs.ravel(), ys.ravel()], 1)
        anchors.append(np.repeat(centres, per_cell, axis=0))
        i = j
    return np.concatenate(anchors).astype(np.float32)


_ANCHORS = ssd_anchors()


def letterbox(image_rgb: np.ndarray, size: int = PALM_SIZE) -> tuple[np.ndarray, float, float, float]:
    """Resize keeping the aspect ratio and pad with zeros to ``size`` x ``size``.

    Args:
        image_rgb: uint8 (H, W, 3) RGB.
    Returns:
        ``(tensor, side, pad_x, pad_y)``: float32 (1, size, size, 3) in [0, 1]; ``side`` = max(H, W) px is the
        square the tensor covers; a normalised tensor point ``u`` maps to image pixel ``u * side - pad``.
    """
    h, w = image_rgb.shape[:2]
    side = float(max(h, w))
    scale = size / side
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    resized = cv2.resize(image_rgb, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    canvas = np.zeros((size, size, 3), np.uint8)
    ox, oy = (size - nw) // 2, (size - nh) // 2
    canvas[oy:oy + nh, ox:ox + nw] = resized
    pad_x, pad_y = ox / scale, oy / scale
    return (canvas.astype(np.float32) / 255.0)[None], side, pad_x, pad_y


def decode_palms(raw_boxes: np.ndarray, raw_scores: np.ndarray, min_score: float = 0.5):
    """Decode BlazePalm outputs against the SSD anchors.

    Args:
        raw_boxes: float32 (2016, 18): dx, dy, w, h, then 7 keypoints (x, y), in 192-px input units.
        raw_scores: float32 (2016,) logits.
    Returns:
        ``(boxes, keypoints, scores)``: (K, 4) normalised xyxy, (K, 7, 2) normalised, (K,) sigmoid scores,
        only for anchors scoring >= ``min_score``.
    """
    scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores, -100, 100)))
    keep = scores >= min_score
    if not np.any(keep):
        return np.zeros((0, 4), np.float32), np.zeros((0, 7, 2), np.float32), np.zeros(0, np.float32)
    r = raw_boxes[keep] / PALM_SIZE
    a = _ANCHORS[keep]
    cx, cy = r[:, 0] + a[:, 0], r[:, 1] + a[:, 1]
    w, h = r[:, 2], r[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
    kps = r[:, 4:18].reshape(-1, 7, 2) + a[:, None, :]
    return boxes.astype(np.float32), kps.astype(np.float32), scores[keep].astype(np.float32)


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-12)


def weighted_nms(boxes, keypoints, scores, iou_threshold: float = 0.3):
    """MediaPipe's weighted non-maximum suppression: each cluster (IoU > threshold with its best box) is
    replaced by the score-weighted mean of its boxes and keypoints, keeping the best score.
    Returns lists of (box (4,), keypoints (7, 2), score)."""
    order = np.argsort(-scores)
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    remaining = np.arange(len(scores))
    out = []
    while remaining.size:
        top = remaining[0]
        ious = _iou(boxes[top], boxes[remaining])
        cluster = remaining[ious > iou_threshold]
        if cluster.size == 0:
            cluster = remaining[:1]
        w = scores[cluster][:, None]
        box = (boxes[cluster] * w).sum(0) / w.sum()
        kp = (keypoints[cluster] * w[:, :, None]).sum(0) / w.sum()
        out.append((box, kp, float(scores[top])))
        remaining = remaining[(ious <= iou_threshold) & (remaining != top)]
    return out


def detect_palms(session, image_rgb: np.ndarray, min_score: float = 0.5, iou_threshold: float = 0.3,
                 max_palms: int = 4) -> list[PalmDetection]:
    """Run BlazePalm on a uint8 (H, W, 3) RGB image; returns palms in image pixels, best first."""
    tensor, side, pad_x, pad_y = letterbox(image_rgb)
    raw_boxes, raw_scores = session.run(None, {session.get_inputs()[0].name: tensor})
    boxes, kps, scores = decode_palms(raw_boxes[0], raw_scores[0, :, 0], min_score)
    dets = []
    for box, kp, score in weighted_nms(boxes, kps, scores, iou_threshold)[:max_palms]:
        b = box * side - [pad_x, pad_y, pad_x, pad_y]
        k = kp * side - [pad_x, pad_y]
        dets.append(PalmDetection(b.astype(np.float32), k.astype(np.float32), score))
    return dets


def _normalize_angle(a: float) -> float:
    return a - 2 * math.pi * math.floor((a + math.pi) / (2 * math.pi))


def rect_transform(cx, cy, w, h, rotation, scale, shift_y, shift_x=0.0) -> Roi:
    """MediaPipe's RectTransformationCalculator in pixels with ``square_long``: shift in the rotated frame
    by (shift_x * w, shift_y * h), then a square of side ``max(w, h) * scale``."""
    c, s = math.cos(rotation), math.sin(rotation)
    cx += w * shift_x * c - h * shift_y * s
    cy += w * shift_x * s + h * shift_y * c
    return Roi(float(cx), float(cy), float(max(w, h) * scale), float(rotation))


def palm_to_roi(det: PalmDetection, scale: float = 2.6, shift_y: float = -0.5) -> Roi:
    """Hand ROI from a palm detection (rotation from wrist keypoint 0 to middle-MCP keypoint 2, the box
    enlarged x2.6 and shifted half a box towards the fingers)."""
    (x0, y0), (x1, y1) = det.keypoints[0], det.keypoints[2]
    rotation = _normalize_angle(math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0))
    bx0, by0, bx1, by1 = det.box
    return rect_transform((bx0 + bx1) / 2, (by0 + by1) / 2, bx1 - bx0, by1 - by0, rotation, scale, shift_y)


def roi_iou(a: Roi, b: Roi) -> float:
    """IoU of the axis-aligned bounding boxes of two ROIs (cheap overlap test for de-duplication)."""
    def aabb(r: Roi):
        c = r.corners()
        return np.array([c[:, 0].min(), c[:, 1].min(), c[:, 0].max(), c[:, 1].max()])

    return float(_iou(aabb(a), aabb(b)[None])[0])
