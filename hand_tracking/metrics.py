"""Hand keypoint metrics (README of ../shared/data): PCK@alpha normalised by the hand bounding-box size,
mean pixel error over joints with ground truth, detection rate (hands found / hands annotated).

Bounding-box size = ``max(x1 - x0, y1 - y0)`` of ``bbox_xyxy`` (the MMPose convention for PCK with bbox
normalisation). A missed hand counts all its annotated joints as incorrect for PCK, and does not enter the
mean pixel error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["HandScore", "score_hand", "match_prediction", "summarize", "summarize_photo_set"]


@dataclass
class HandScore:
    """Per annotated hand: ``found``; ``errors_px`` float64 (K,) over the K joints with ground truth
    (empty if not found); ``n_joints`` = K; ``threshold_px`` = alpha * bbox size."""

    found: bool
    errors_px: np.ndarray
    n_joints: int
    threshold_px: float
    dataset: str = ""
    extra: dict = field(default_factory=dict)


def gt_array(kp2d) -> np.ndarray:
    """``[[x, y] or None] * 21`` -> float64 (21, 2) with NaN rows for missing joints (a joint with a None
    or NaN coordinate, e.g. ``[None, None]``, is missing as a whole). Malformed input (annotations are checked when ``hands.json`` is
    loaded) raises ``ValueError``."""
    if isinstance(kp2d, (str, bytes)) or not hasattr(kp2d, "__len__"):
        raise ValueError(f"kp2d must be a list of [x, y] or None, got {type(kp2d).__name__}")
    rows = []
    for j, k in enumerate(kp2d):
        if k is None:
            rows.append([np.nan, np.nan])
            continue
        try:
            xy = np.asarray([np.nan if v is None else v for v in k], dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"kp2d joint {j} must be [x, y] or None, got {k!r}") from None
        if xy.shape != (2,):
            raise ValueError(f"kp2d joint {j} must be [x, y] or None, got {k!r}")
        rows.append(xy if np.all(np.isfinite(xy)) else [np.nan, np.nan])
    return np.array(rows, np.float64).reshape(-1, 2)


def _bbox(bbox_xyxy):
    try:
        x0, y0, x1, y1 = (float(v) for v in bbox_xyxy)
    except (TypeError, ValueError):
        raise ValueError(f"bbox_xyxy must be [x0, y0, x1, y1], got {bbox_xyxy!r}") from None
    return x0, y0, x1, y1


def bbox_size(bbox_xyxy) -> float:
    """``max(x1 - x0, y1 - y0)`` of a ``[x0, y0, x1, y1]`` box; ``ValueError`` if malformed."""
    x0, y0, x1, y1 = _bbox(bbox_xyxy)
    return max(x1 - x0, y1 - y0)


def match_prediction(pred_landmarks: list[np.ndarray], gt: np.ndarray, bbox_xyxy) -> int | None:
    """Index of the predicted hand (list of (21, >=2) px arrays) that corresponds to the annotated hand:
    among predictions whose landmark centroid lies inside the annotated box, the one with the lowest mean
    error (for a hand without annotated joints: the centroid nearest the box centre); None if there is
    none."""
    x0, y0, x1, y1 = _bbox(bbox_xyxy)
    valid = np.isfinite(gt[:, 0])
    best, best_err = None, np.inf
    for i, lm in enumerate(pred_landmarks):
        c = np.asarray(lm)[:, :2].mean(0)
        if not (x0 <= c[0] <= x1 and y0 <= c[1] <= y1):
            continue
        if valid.any():
            err = float(np.linalg.norm(np.asarray(lm)[valid, :2] - gt[valid], axis=1).mean())
        else:
            err = float(np.hypot(c[0] - (x0 + x1) / 2, c[1] - (y0 + y1) / 2))
        if err < best_err:
            best, best_err = i, err
    return best


def score_hand(pred_landmarks: list[np.ndarray], kp2d, bbox_xyxy, alpha: float = 0.2,
               dataset: str = "") -> HandScore:
    """Score one annotated hand against the predictions for its image."""
    gt = gt_array(kp2d)
    valid = np.isfinite(gt[:, 0])
    thr = alpha * bbox_size(bbox_xyxy)
    i = match_prediction(pred_landmarks, gt, bbox_xyxy)
    if i is None:
        return HandScore(False, np.zeros(0), int(valid.sum()), thr, dataset)
    err = np.linalg.norm(np.asarray(pred_landmarks[i])[valid, :2] - gt[valid], axis=1)
    return HandScore(True, err, int(valid.sum()), thr, dataset)


def summarize(scores: list[HandScore], ms: list[float]) -> dict:
    """``{"detection_rate", "pck02", "mean_px", "ms_median", "n_hands"}`` over the given hands."""
    n = len(scores)
    correct = sum(int((s.errors_px < s.threshold_px).sum()) for s in scores if s.found)
    joints = sum(s.n_joints for s in scores)
    errs = np.concatenate([s.errors_px for s in scores if s.found] or [np.zeros(0)])
    return {
        "detection_rate": float(sum(s.found for s in scores) / n) if n else float("nan"),
        "pck02": float(correct / joints) if joints else float("nan"),
        "mean_px": float(errs.mean()) if errs.size else float("nan"),
        "ms_median": float(np.median(ms)) if len(ms) else float("nan"),
        "n_hands": n,
    }


def summarize_photo_set(scores: list[HandScore], ms: list[float], ms_track: list[float],
                        per_dataset_ms: dict, gray: bool) -> dict:
    """The result of a photo-set evaluation (``passthrough eval hands`` and the MediaPipe reference):
    :func:`summarize` over all hands plus ``ms_track_median`` (median of ``ms_track``, per hand),
    ``input`` (``"gray"`` / ``"color"``) and ``per_dataset`` ({name: :func:`summarize` of its hands,
    with its images' times ``per_dataset_ms[name]``})."""
    out = summarize(scores, ms)
    out["ms_track_median"] = float(np.median(ms_track)) if len(ms_track) else float("nan")
    out["input"] = "gray" if gray else "color"
    out["per_dataset"] = {ds: summarize([s for s in scores if s.dataset == ds], per_dataset_ms[ds])
                          for ds in sorted(per_dataset_ms)}
    return out
