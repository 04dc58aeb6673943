"""Stereo hands: run the tracker on both rectified views, match hands, triangulate 21 joints to metres.

Frames: the left *rectified* camera frame (OpenCV axes: +x right, +y down, +z forward, metres). Use
``StereoRig.T_head_from_left_rect`` (passthrough.calibration) to move the joints into the head frame.
Rectified images: a scene point at depth Z appears at ``x_left - x_right = f * B / Z - doffs`` with
``doffs = cx_right - cx_left`` and equal image rows.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .filters import OneEuroFilter
from .gestures import PinchDetector, pinch_distance
from .landmarks import landmarks_to_roi, run_landmarks
from .mask import BONES
from .palm import Roi
from .tracker import Hand, HandTracker, to_rgb

__all__ = ["RectifiedStereo", "StereoHand", "StereoHandFrame", "triangulate", "match_hands", "bone_lengths",
           "StereoHandTracker", "TYPICAL_PALM_M"]

#: typical wrist -> middle-finger MCP length of an adult hand (metres), used only as a search prior
TYPICAL_PALM_M = 0.09


@dataclass
class RectifiedStereo:
    """Rectified stereo geometry: focal lengths ``fx, fy`` px, principal points ``cx0`` (left), ``cx1``
    (right), ``cy`` px, baseline ``baseline_m`` (metres, > 0), image ``size`` (W, H)."""

    fx: float
    fy: float
    cx0: float
    cx1: float
    cy: float
    baseline_m: float
    size: tuple[int, int] | None = None

    @property
    def doffs(self) -> float:
        return self.cx1 - self.cx0

    @classmethod
    def from_rig(cls, rig) -> "RectifiedStereo":
        """From a :class:`passthrough.calibration.StereoRig` (its rectified geometry)."""
        K = rig.K_rect
        return cls(float(K[0, 0]), float(K[1, 1]), float(K[0, 2]), float(K[0, 2] + rig.doffs), float(K[1, 2]),
                   float(rig.baseline_m), tuple(rig.rectified_size))

    @classmethod
    def from_stereodemo_json(cls, path: Path | str) -> "RectifiedStereo":
        """From an OAK-D ``stereodemo_calibration.json`` (fx, fy, cx0, cx1, cy, baseline_meters, width,
        height), or this project's own calibration JSON: read and checked by
        :func:`passthrough.datasets.pairs.load_calibration`, which raises
        :class:`passthrough.errors.InputError` on a missing or invalid file."""
        from passthrough.datasets.pairs import load_calibration

        return cls.from_rig(load_calibration(Path(path)))

    def depth_from_disparity(self, d: np.ndarray) -> np.ndarray:
        d = np.asarray(d, np.float64) + self.doffs
        with np.errstate(divide="ignore", invalid="ignore"):
            z = self.fx * self.baseline_m / d
        return np.where(d > 0, z, np.nan)


def triangulate(left_lm: np.ndarray, right_lm: np.ndarray, cam: RectifiedStereo,
                outlier_ratio: float = 0.25) -> np.ndarray:
    """Triangulate corresponding joints of a rectified pair.

    Args:
        left_lm, right_lm: (N, 2) or (N, 3) joints in left / right rectified image pixels. If a third column
            (MediaPipe relative depth, pixel scale) is present, joints whose depth deviates from the hand's
            median depth by more than ``outlier_ratio`` (or with non-positive disparity) are replaced by the
            median depth plus the model's relative depth.
        cam: rectified geometry.
    Returns:
        float64 (N, 3) points in the left rectified camera frame, metres (NaN if nothing is triangulable).
    """
    left_lm = np.asarray(left_lm, np.float64)
    right_lm = np.asarray(right_lm, np.float64)
    z = cam.depth_from_disparity(left_lm[:, 0] - right_lm[:, 0])
    ok = np.isfinite(z)
    if not ok.any():
        return np.full((len(left_lm), 3), np.nan)
    z_med = float(np.median(z[ok]))
    bad = ~ok | (np.abs(z - z_med) > outlier_ratio * z_med)
    if bad.any() and left_lm.shape[1] >= 3:
        rel = (left_lm[:, 2] + right_lm[:, 2]) / 2 * z_med / cam.fx  # metres, relative to the wrist
        rel = rel - np.median(rel[~bad]) if (~bad).any() else rel - np.median(rel)
        z = np.where(bad, z_med + rel, z)
    y = (left_lm[:, 1] + right_lm[:, 1]) / 2
    X = (left_lm[:, 0] - cam.cx0) * z / cam.fx
    Y = (y - cam.cy) * z / cam.fy
    return np.column_stack([X, Y, z])


def bone_lengths(joints_m: np.ndarray) -> dict[str, float]:
    """Lengths (metres) of the skeleton bones ``"a-b"`` (joint indices) plus ``"wrist-middle_mcp"``."""
    j = np.asarray(joints_m, np.float64)
    out = {f"{a}-{b}": float(np.linalg.norm(j[a] - j[b])) for a, b in BONES}
    out["wrist-middle_mcp"] = float(np.linalg.norm(j[9] - j[0]))
    return out


def _pair_cost(lh: Hand, rh: Hand, cam: RectifiedStereo) -> float:
    """Mean vertical mismatch (px) of the joints, +inf if the pair is geometrically impossible."""
    dy = float(np.mean(np.abs(lh.landmarks[:, 1] - rh.landmarks[:, 1])))
    disp = float(np.median(lh.landmarks[:, 0] - rh.landmarks[:, 0])) + cam.doffs
    palm = float(np.linalg.norm(lh.landmarks[9, :2] - lh.landmarks[0, :2]))
    if disp <= 0 or dy > max(12.0, 0.35 * palm):
        return math.inf
    return dy + (0.0 if lh.handedness == rh.handedness else 0.25 * palm)


def match_hands(left: list[Hand], right: list[Hand], cam: RectifiedStereo) -> list[tuple[int, int]]:
    """Pairs (i_left, j_right) of the same hand in both rectified views (minimum total row mismatch)."""
    best: list[tuple[int, int]] = []
    best_cost = math.inf
    n = min(len(left), len(right))
    for k in range(n, 0, -1):
        for li in itertools.combinations(range(len(left)), k):
            for rj in itertools.permutations(range(len(right)), k):
                cost = sum(_pair_cost(left[a], right[b], cam) for a, b in zip(li, rj))
                if cost < best_cost:
                    best, best_cost = list(zip(li, rj)), cost
        if best:
            return best
    return []


@dataclass
class StereoHand:
    """A hand seen by the stereo pair: ``joints_m`` float64 (21, 3) metres in the left rectified camera
    frame (filtered if the tracker smooths; None if seen in one view only), ``found_in`` ⊆
    ``["left", "right"]``, the per-view 2-D :class:`Hand` results, the pinch state, and ``joints_head_m``
    (the joints in the head frame, OpenCV axes, when the tracker was given ``T_head_from_left_rect``)."""

    handedness: str
    score: float
    found_in: list[str]
    joints_m: np.ndarray | None
    left: Hand | None = None
    right: Hand | None = None
    pinch: bool = False
    pinch_distance_m: float | None = None
    joints_head_m: np.ndarray | None = None


@dataclass
class StereoHandFrame:
    """Hands of one rectified pair, the capture timestamp they belong to and the processing time."""

    hands: list[StereoHand] = field(default_factory=list)
    t_capture_ns: int | None = None
    ms: float = 0.0

    def masks(self, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """uint8 (H, W) hand masks (255 = hand) for the left and right rectified images of size ``shape``."""
        from .mask import hand_mask

        return (hand_mask(shape, [h.left.landmarks for h in self.hands if h.left is not None]),
                hand_mask(shape, [h.right.landmarks for h in self.hands if h.right is not None]))


def right_probability(left_view, right_view) -> float:
    """The probability that a hand seen in both views is a right hand: the mean of the two views'
    (each view's ``handedness`` with its ``handedness_score``, the probability of that label)."""
    p = [v.handedness_score if v.handedness == "right" else 1.0 - v.handedness_score for v in (left_view, right_view)]
    return (p[0] + p[1]) / 2


def relabel_same_handed(hands_3d) -> None:
    """Two 3-D hands (seen in both views) with the same label: the less sure one takes the other label, in
    place. How sure a hand is of its label: its :func:`right_probability`'s distance from 1/2 (a view's own
    ``handedness_score`` is for that view's label, which may differ from the averaged one)."""
    if len(hands_3d) == 2 and hands_3d[0].handedness == hands_3d[1].handedness:
        conf = [abs(right_probability(h.left, h.right) - 0.5) for h in hands_3d]
        weaker = hands_3d[int(np.argmin(conf))]
        weaker.handedness = "left" if weaker.handedness == "right" else "right"


class StereoHandTracker:
    """Two per-view :class:`HandTracker` s on a rectified pair, matched and triangulated.

    When a hand is found in one view only, its crop is transferred to the other view along the epipolar
    line (the shift is searched around the disparity implied by a typical palm size) and the landmark model
    is run there, so both views see it even when the detector misses one.

    While neither view tracks a hand (``alternate_idle``, the default), the palm detector runs on one view
    per frame, left and right in turn, and a hand it finds reaches the other view by that transfer: the
    cameras see nearly the same scene, so running the detector on both doubles the cost of the frames
    without hands (the common case in a headset) for little gain, at most one frame of acquisition delay.

    Args:
        cam: rectified geometry (:class:`RectifiedStereo`).
        models: shared :class:`hand_tracking.models.HandModels` (sessions are reused by both views).
        smooth: apply a One Euro filter per hand slot (left/right) to the 3-D joints.
        T_head_from_left_rect: optional (4, 4) pose of the left rectified camera in the head frame (e.g.
            ``StereoRig.T_head_from_left_rect``); fills :attr:`StereoHand.joints_head_m`.
        alternate_idle: while no hand is tracked, detect in one view per frame (see above).
        stills: every pair is an unrelated still (a folder of captures, no rate): forget the previous
            pair before each (no tracking from its landmarks, no smoothing or pinch state across scenes)
            and detect in both views (each still is seen once: no alternation).
        tracker_kwargs: passed to both :class:`HandTracker` s.
    """

    def __init__(self, cam: RectifiedStereo, models=None, *, smooth: bool = True, min_cutoff: float = 1.0,
                 beta: float = 5.0, T_head_from_left_rect: np.ndarray | None = None, alternate_idle: bool = True,
                 stills: bool = False, **tracker_kwargs):
        if models is None:
            from .models import load_sessions

            models = load_sessions()
        self.cam = cam
        self.models = models
        self.left = HandTracker(models, **tracker_kwargs)
        self.right = HandTracker(models, **tracker_kwargs)
        self.smooth = smooth
        self.T_head_from_left_rect = None if T_head_from_left_rect is None else np.asarray(T_head_from_left_rect)
        self._filters = {s: OneEuroFilter(min_cutoff, beta) for s in ("left", "right")}
        self._pinch = {s: PinchDetector() for s in ("left", "right")}
        self.alternate_idle = alternate_idle
        self.stills = stills
        self._idle_turn = 0  # which view detects on the next idle frame (0 left, 1 right)

    def reset(self) -> None:
        self.left.reset()
        self.right.reset()
        for f in self._filters.values():
            f.reset()
        for p in self._pinch.values():
            p.update(None)

    def _transfer(self, hand: Hand, rgb_other: np.ndarray, sign: float) -> Hand | None:
        """Find ``hand`` in the other rectified view: shift its ROI by -sign * disparity and run landmarks."""
        roi = landmarks_to_roi(hand.landmarks)
        palm_px = float(np.linalg.norm(hand.landmarks[9, :2] - hand.landmarks[0, :2]))
        if palm_px < 1:
            return None
        z_guess = self.cam.fx * TYPICAL_PALM_M / palm_px
        best = None
        # a hand new to this view: the landmark model for fresh hands (fp32 by default), as for a detection
        session = self.models.fresh_landmark
        for scale in (1.0, 0.6, 1.6):
            d = self.cam.fx * self.cam.baseline_m / (z_guess * scale) - self.cam.doffs
            cand = Roi(roi.cx - sign * d, roi.cy, roi.size, roi.rotation)
            res = run_landmarks(session, rgb_other, cand)
            if res.presence >= self.left.min_presence and (best is None or res.presence > best[0].presence):
                best = (res, cand)
            if best is not None and best[0].presence > 0.9:
                break
        if best is None:
            return None
        res, cand = best
        roi2 = landmarks_to_roi(res.landmarks)
        res2 = run_landmarks(session, rgb_other, roi2)
        if res2.presence >= self.left.min_presence:
            res, cand = res2, roi2
        right = res.right_score >= 0.5
        return Hand(res.landmarks, "right" if right else "left", res.right_score if right else 1 - res.right_score,
                    res.presence, cand, 0, False, res.world)

    def process(self, left_img: np.ndarray, right_img: np.ndarray, t_capture_ns: int | None = None,
                transfer: bool = True) -> StereoHandFrame:
        """Track hands in a rectified pair (uint8 gray (H, W) or BGR (H, W, 3) each)."""
        t0 = time.perf_counter()
        if self.stills:  # a new scene: no smoothing/pinch state from the last one, every detector view in both images
            self.reset()
            lh, rh = self.left.detect_still(left_img), self.right.detect_still(right_img)
        elif self.alternate_idle and transfer and not self.left._tracks and not self.right._tracks:
            turn = self._idle_turn
            self._idle_turn ^= 1
            lh = list(self.left.process(left_img, t_capture_ns).hands) if turn == 0 else []
            rh = list(self.right.process(right_img, t_capture_ns).hands) if turn == 1 else []
        else:
            lh = list(self.left.process(left_img, t_capture_ns).hands)
            rh = list(self.right.process(right_img, t_capture_ns).hands)
        pairs = match_hands(lh, rh, self.cam)
        used_l = {a for a, _ in pairs}
        used_r = {b for _, b in pairs}
        if transfer:
            rgb_l = rgb_r = None
            for i, h in enumerate(lh):
                if i in used_l:
                    continue
                rgb_r = to_rgb(right_img) if rgb_r is None else rgb_r
                other = self._transfer(h, rgb_r, +1.0)
                if other is not None and math.isfinite(_pair_cost(h, other, self.cam)):
                    rh.append(other)
                    pairs.append((i, len(rh) - 1))
                    used_l.add(i)
                    used_r.add(len(rh) - 1)
            for j, h in enumerate(list(rh)):
                if j in used_r:
                    continue
                rgb_l = to_rgb(left_img) if rgb_l is None else rgb_l
                other = self._transfer(h, rgb_l, -1.0)
                if other is not None and math.isfinite(_pair_cost(other, h, self.cam)):
                    lh.append(other)
                    pairs.append((len(lh) - 1, j))
                    used_l.add(len(lh) - 1)
                    used_r.add(j)
            # feed the transferred hands back so both trackers keep tracking them
            for tr, hs in ((self.left, lh), (self.right, rh)):
                for h in hs:
                    if h.track_id == 0:
                        h.track_id = tr._next_id
                        tr._next_id += 1
                tr._tracks = hs[: tr.max_hands]
        t_s = (t_capture_ns if t_capture_ns is not None else time.monotonic_ns()) * 1e-9
        hands: list[StereoHand] = []
        for a, b in pairs:
            h_l, h_r = lh[a], rh[b]
            label = "right" if right_probability(h_l, h_r) >= 0.5 else "left"
            joints = triangulate(h_l.landmarks, h_r.landmarks, self.cam)
            hands.append(StereoHand(label, min(h_l.score, h_r.score), ["left", "right"], joints, h_l, h_r))
        for i, h in enumerate(lh):
            if i not in used_l:
                hands.append(StereoHand(h.handedness, h.score, ["left"], None, h, None))
        for j, h in enumerate(rh):
            if j not in used_r:
                hands.append(StereoHand(h.handedness, h.score, ["right"], None, None, h))
        # two 3-D hands with the same label: the less confident one takes the other label
        relabel_same_handed([h for h in hands if h.joints_m is not None])
        seen = set()
        for h in hands:
            if h.joints_m is None or h.handedness in seen:
                continue
            seen.add(h.handedness)
            if self.smooth:
                h.joints_m = self._filters[h.handedness](h.joints_m, t_s)
            if self.T_head_from_left_rect is not None:
                from passthrough.geometry import transform_points

                h.joints_head_m = transform_points(self.T_head_from_left_rect, h.joints_m)
            h.pinch_distance_m = pinch_distance(h.joints_m)
            h.pinch = self._pinch[h.handedness].update(h.pinch_distance_m)
        for side in ("left", "right"):
            if side not in seen:
                self._filters[side].reset()
                self._pinch[side].update(None)
        return StereoHandFrame(hands, t_capture_ns, (time.perf_counter() - t0) * 1e3)
