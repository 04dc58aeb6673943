"""Single-camera hand tracker: palm detection when needed, landmarks on rotated crops, tracking from the
previous frame's landmarks, up to two hands, left/right label and confidence, grayscale support.

Image convention: numpy images as read by OpenCV: uint8 (H, W) grayscale or (H, W, 3) BGR. Output
landmarks are float32 (21, 3) in image pixels (+x right, +y down) plus MediaPipe's relative depth z.
Handedness is the anatomical hand as seen in the un-mirrored camera image.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from passthrough.io.images import to_rgb

from .landmarks import LandmarkResult, landmarks_to_roi, run_landmarks
from .palm import PalmDetection, Roi, detect_palms, palm_to_roi

__all__ = ["Hand", "HandFrame", "HandTracker", "to_rgb", "normalize_contrast", "landmark_box_iou", "same_hand"]


@dataclass
class Hand:
    """One tracked hand in one camera image.

    landmarks: float32 (21, 3) px (x, y) + relative depth z; handedness: ``"left"``/``"right"``;
    handedness_score: confidence of that label in [0.5, 1]; score: hand-presence confidence in [0, 1];
    roi: the crop the landmarks came from; track_id: stable id while tracked; detected: True when this
    frame's ROI came from the palm detector (False: tracked from the previous landmarks).
    """

    landmarks: np.ndarray
    handedness: str
    handedness_score: float
    score: float
    roi: Roi
    track_id: int = 0
    detected: bool = True
    world: np.ndarray | None = None

    @property
    def bbox(self) -> np.ndarray:
        """float32 (4,) x0, y0, x1, y1 px of the landmarks."""
        xy = self.landmarks[:, :2]
        return np.concatenate([xy.min(0), xy.max(0)]).astype(np.float32)


@dataclass
class HandFrame:
    """Result for one image: ``hands`` (at most ``max_hands``), the capture timestamp it belongs to
    (``t_capture_ns``, None if not given), processing time ``ms`` and whether the detector ran."""

    hands: list[Hand] = field(default_factory=list)
    t_capture_ns: int | None = None
    ms: float = 0.0
    ran_detector: bool = False


def is_gray(rgb: np.ndarray) -> bool:
    """True if all three channels of a uint8 (H, W, 3) image are equal (a grayscale camera)."""
    sub = rgb[::8, ::8]
    return bool(np.array_equal(sub[..., 0], sub[..., 1]) and np.array_equal(sub[..., 1], sub[..., 2]))


def normalize_contrast(rgb: np.ndarray, clip_limit: float = 2.0, tiles: int = 8) -> np.ndarray:
    """Local contrast normalisation (CLAHE on the luminance), uint8 (H, W, 3) -> uint8 (H, W, 3).
    Helps the palm detector on dim/low-contrast monochrome tracking-camera images."""
    clahe = cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tiles, tiles))
    if is_gray(rgb):
        g = clahe.apply(np.ascontiguousarray(rgb[..., 0]))
        return np.repeat(g[:, :, None], 3, axis=2)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    lab[..., 0] = clahe.apply(lab[..., 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def pad_image(rgb: np.ndarray, factor: float) -> tuple[np.ndarray, tuple[int, int]]:
    """Centre ``rgb`` (H, W, 3) on a black canvas ``factor`` times larger; returns it and the (x, y) offset
    of the original image in it (px)."""
    h, w = rgb.shape[:2]
    hh, ww = int(round(h * factor)), int(round(w * factor))
    ox, oy = (ww - w) // 2, (hh - h) // 2
    canvas = np.zeros((hh, ww, 3), np.uint8)
    canvas[oy:oy + h, ox:ox + w] = rgb
    return canvas, (ox, oy)


#: side of the ``close_up`` view's landmark ROI, as a share of the image's long side
CLOSE_UP_SIZE = 0.75


def _roi_box(roi: Roi) -> np.ndarray:
    """float32 (4,) x0, y0, x1, y1 px: the axis-aligned box of a rotated ROI."""
    c = roi.corners()
    return np.concatenate([c.min(0), c.max(0)]).astype(np.float32)


def _intersection(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection area of two x0, y0, x1, y1 boxes (px^2)."""
    return float(max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1])))


def _box_iou(a: np.ndarray, b: np.ndarray) -> float:
    inter = _intersection(a, b)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def _containment(a: np.ndarray, b: np.ndarray) -> float:
    """Share of box ``a`` (x0, y0, x1, y1) lying inside box ``b``."""
    area = float((a[2] - a[0]) * (a[3] - a[1]))
    return _intersection(a, b) / area if area > 0 else 0.0


def landmark_box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of the axis-aligned boxes of two (21, >=2) landmark arrays."""
    ba = np.concatenate([a[:, :2].min(0), a[:, :2].max(0)])
    bb = np.concatenate([b[:, :2].min(0), b[:, :2].max(0)])
    return _box_iou(ba, bb)


def same_hand(a: np.ndarray, b: np.ndarray, iou: float = 0.4, containment: float = 0.7) -> bool:
    """True if two (21, >=2) landmark sets describe the same hand: their boxes overlap (IoU > ``iou``) or
    one box lies mostly inside the other (intersection / smaller area > ``containment``; e.g. a finger
    group mistaken for a second, smaller hand)."""
    ba = np.concatenate([a[:, :2].min(0), a[:, :2].max(0)])
    bb = np.concatenate([b[:, :2].min(0), b[:, :2].max(0)])
    iw = min(ba[2], bb[2]) - max(ba[0], bb[0])
    ih = min(ba[3], bb[3]) - max(ba[1], bb[1])
    if iw <= 0 or ih <= 0:
        return False
    inter = iw * ih
    area_a = (ba[2] - ba[0]) * (ba[3] - ba[1])
    area_b = (bb[2] - bb[0]) * (bb[3] - bb[1])
    return bool(_box_iou(ba, bb) > iou or inter / max(min(area_a, area_b), 1e-9) > containment)


class HandTracker:
    """Per-camera hand tracker (not thread-safe; use one per camera / worker).

    Args:
        models: :class:`hand_tracking.models.HandModels` (default: :func:`load_sessions` from the cache).
        max_hands: at most this many hands are reported.
        min_palm_score: palm detector threshold. Lower than MediaPipe's 0.5 because every candidate is
            verified by the landmark model's presence score (``min_presence``) and de-duplicated; on the
            grayscale copies of ../shared/data/hands the detector views find 9/11 hands instead of 7/11
            with no extra hands on the OAK-D scenes without people (the close-up view finds the other two).
        min_presence: landmark-model presence threshold to keep / keep tracking a hand.
        detect_every: while fewer than ``max_hands`` are tracked, re-run the detector every this many frames
            (it always runs when no hand is tracked).
        enhance_gray: on grayscale images, add two views: a contrast-normalised (CLAHE) one for the detector,
            and a close-up one for the landmark model (see below).

    Detector views: ``plain`` (whole image letterboxed to 192 px), ``tiles`` (two overlapping crops along
    the long side: hands 1.6x larger), ``zoom_out`` (image padded 1.5x: hands filling the frame) and, on
    grayscale images, ``contrast`` and ``close_up``: no palm detector run, the landmark model itself on a
    centred square of :data:`CLOSE_UP_SIZE` x the long side, kept like any candidate only if its presence
    score passes ``min_presence``. It finds the hand filling the frame that the colour-trained palm detector
    misses on grayscale copies (2 of the 3 OneHand10K photos of ../shared/data/hands, presence 0.94-0.99),
    and scores 0.00-0.12 on the 12 OAK-D left views without hands. Still images (:meth:`detect`) try all of them; video (:meth:`process`)
    runs ``plain`` plus one other view in turn on each detection frame, so the cost per frame stays bounded.
    Either way the views run one detector pass at a time and stop once ``max_hands`` hands are known, and
    palms inside a known hand get no landmark run.
        refine: extra landmark passes on a freshly detected hand (ROI from its own landmarks); improves the
            first frame / still images.
    """

    def __init__(self, models=None, *, max_hands: int = 2, min_palm_score: float = 0.3,
                 min_presence: float = 0.5, detect_every: int = 5, enhance_gray: bool = True, refine: int = 1,
                 handedness_smoothing: float = 0.7):
        if models is None:
            from .models import load_sessions

            models = load_sessions()
        self.models = models
        self.max_hands = max_hands
        self.min_palm_score = min_palm_score
        self.min_presence = min_presence
        self.detect_every = detect_every
        self.enhance_gray = enhance_gray
        self.refine = refine
        self.handedness_smoothing = handedness_smoothing
        self._tracks: list[Hand] = []
        self._since_detect = 0
        self._next_id = 1
        self._detect_calls = 0

    def reset(self) -> None:
        """Forget all tracked hands (the next frame runs the detector)."""
        self._tracks = []
        self._since_detect = 0

    # ------------------------------------------------------------------ building blocks
    def _landmarks(self, rgb: np.ndarray, roi: Roi, seed: bool = False) -> LandmarkResult:
        """Landmarks in ``roi``; ``seed``: a freshly detected palm (the models' ``fresh_landmark``)."""
        return run_landmarks(self.models.fresh_landmark if seed else self.models.landmark, rgb, roi)

    def _views(self, rgb: np.ndarray) -> list[str]:
        views = ["plain", "tiles", "zoom_out"]
        if self.enhance_gray and is_gray(rgb):
            views += ["contrast", "close_up"]
        return views

    def _view_runs(self, rgb: np.ndarray, view: str, avoid: list[np.ndarray]):
        """The runs of one view, as zero-argument callables returning candidates in image pixels: palms
        (:class:`PalmDetection`) or, for ``close_up``, landmark ROIs (:class:`Roi`). ``tiles``
        gives two runs, the tile overlapping the ``avoid`` boxes (x0, y0, x1, y1 px: hands already found) least
        first, so that a missing second hand is usually found by the first tile."""
        kw = dict(max_palms=2 * self.max_hands)
        if view == "plain":
            return [lambda: detect_palms(self.models.palm, rgb, self.min_palm_score, **kw)]
        if view == "contrast":
            return [lambda: detect_palms(self.models.palm, normalize_contrast(rgb), self.min_palm_score, **kw)]
        if view == "tiles":  # two overlapping crops along the long side: 1.6x larger hands for the detector
            h, w = rgb.shape[:2]
            long_side = max(h, w)
            span = int(round(0.625 * long_side))

            def tile(start: int):
                crop = rgb[:, start:start + span] if w >= h else rgb[start:start + span]
                off = np.array([start, 0] if w >= h else [0, start], np.float32)
                palms = detect_palms(self.models.palm, np.ascontiguousarray(crop), self.min_palm_score, **kw)
                for p in palms:
                    p.box = p.box + np.tile(off, 2)
                    p.keypoints = p.keypoints + off
                return palms

            starts = [0, long_side - span]
            boxes = [np.array([s, 0, s + span, h] if w >= h else [0, s, w, s + span], np.float32) for s in starts]
            overlap = [sum(_intersection(b, a) for a in avoid) for b in boxes]
            order = sorted(range(2), key=lambda k: overlap[k])
            return [lambda s=starts[k]: tile(s) for k in order]
        if view == "zoom_out":  # hands filling the frame are too big for the 192-px detector: pad 1.5x
            def zoom_out():
                padded, (ox, oy) = pad_image(rgb, 1.5)
                palms = detect_palms(self.models.palm, padded, self.min_palm_score, **kw)
                for p in palms:
                    p.box = p.box - np.array([ox, oy, ox, oy], np.float32)
                    p.keypoints = p.keypoints - np.array([ox, oy], np.float32)
                return palms

            return [zoom_out]
        if view == "close_up":
            h, w = rgb.shape[:2]
            return [lambda: [Roi(w / 2, h / 2, CLOSE_UP_SIZE * max(h, w), 0.0)]]
        raise ValueError(view)

    def _hand_from(self, res: LandmarkResult, roi: Roi, detected: bool, track_id: int = 0) -> Hand:
        right = res.right_score >= 0.5
        return Hand(res.landmarks, "right" if right else "left", res.right_score if right else 1 - res.right_score,
                    res.presence, roi, track_id, detected, res.world)

    def _detect_new(self, rgb: np.ndarray, existing: list[Hand], views: list[str]) -> list[Hand]:
        """New hands (not in ``existing``) from the candidates of ``views``, in order, one run at a time: it
        stops as soon as ``max_hands`` hands are known (so the extra views run only when the earlier ones did
        not find enough), after at most ``2 * max_hands`` distinct candidates per completed view, and skips
        candidates lying inside a known hand's landmark box (no landmark runs on known hands)."""
        new: list[Hand] = []
        seen: list = []  # boxes of the distinct candidates so far
        for view in views:
            if len(existing) + len(new) >= self.max_hands:
                break
            for run in self._view_runs(rgb, view, [h.bbox for h in existing + new]):
                if len(existing) + len(new) >= self.max_hands:
                    break
                for cand in run():
                    if len(existing) + len(new) >= self.max_hands:
                        break
                    box = cand.box if isinstance(cand, PalmDetection) else _roi_box(cand)
                    if any(_box_iou(box, q) >= 0.3 for q in seen):
                        continue
                    seen.append(box)
                    if any(_containment(box, h.bbox) > 0.7 for h in existing + new):
                        continue  # the palm of a hand we already have
                    roi = palm_to_roi(cand) if isinstance(cand, PalmDetection) else cand
                    hand = self._landmark_roi(rgb, roi, existing + new)
                    if hand is not None:
                        new.append(hand)
            if len(seen) >= 2 * self.max_hands:
                break
        return new

    def _landmark_roi(self, rgb: np.ndarray, roi: Roi, known: list[Hand]) -> Hand | None:
        """A new hand from a candidate ROI: landmarks (+ ``refine`` passes), kept if present and not a known hand."""
        res = self._landmarks(rgb, roi, seed=True)
        if res.presence < self.min_presence:
            return None
        for _ in range(self.refine):
            roi2 = landmarks_to_roi(res.landmarks)
            res2 = self._landmarks(rgb, roi2, seed=True)
            if res2.presence < self.min_presence:
                break
            roi, res = roi2, res2
        if any(same_hand(res.landmarks, h.landmarks) for h in known):
            return None
        return self._hand_from(res, roi, True)

    # ------------------------------------------------------------------ public API
    def detect(self, image: np.ndarray) -> list[Hand]:
        """Still-image mode: detect and landmark up to ``max_hands`` hands, no temporal state.
        ``image``: uint8 (H, W) gray or (H, W, 3) BGR."""
        rgb = to_rgb(image)
        return self._detect_new(rgb, [], self._views(rgb))

    def detect_still(self, image: np.ndarray) -> list[Hand]:
        """:meth:`detect` on a new scene, kept as the tracks (with fresh track ids), as if the tracker had
        just been reset: for callers that mix stills with the tracking API."""
        self.reset()
        hands = self._new_tracks(self.detect(image))
        self._tracks = list(hands)
        return hands

    def _new_tracks(self, hands: list[Hand]) -> list[Hand]:
        """``hands`` (newly detected) with fresh track ids."""
        for hand in hands:
            hand.track_id = self._next_id
            self._next_id += 1
        return hands

    def process(self, image: np.ndarray, t_capture_ns: int | None = None) -> HandFrame:
        """Video mode: track hands from the previous frame, detect new ones when needed.

        Args:
            image: uint8 (H, W) gray or (H, W, 3) BGR.
            t_capture_ns: capture timestamp, copied to the result.
        """
        t0 = time.perf_counter()
        rgb = to_rgb(image)
        tracked: list[Hand] = []
        for prev in self._tracks:
            roi = landmarks_to_roi(prev.landmarks)
            res = self._landmarks(rgb, roi)
            if res.presence < self.min_presence:
                continue
            a = self.handedness_smoothing
            prev_right = prev.handedness_score if prev.handedness == "right" else 1 - prev.handedness_score
            res.right_score = a * prev_right + (1 - a) * res.right_score
            hand = self._hand_from(res, roi, False, prev.track_id)
            if any(same_hand(hand.landmarks, h.landmarks) for h in tracked):
                continue  # two tracks collapsed onto one hand
            tracked.append(hand)
        ran = False
        self._since_detect += 1
        if len(tracked) < self.max_hands and (not tracked or self._since_detect >= self.detect_every):
            ran = True
            self._since_detect = 0
            # the plain view every time, plus one of the extra views in turn (bounded cost per frame)
            extra = self._views(rgb)[1:]
            views = ["plain"] + ([extra[self._detect_calls % len(extra)]] if extra else [])
            self._detect_calls += 1
            tracked += self._new_tracks(self._detect_new(rgb, tracked, views))
        self._tracks = tracked
        return HandFrame(list(tracked), t_capture_ns, (time.perf_counter() - t0) * 1e3, ran)
