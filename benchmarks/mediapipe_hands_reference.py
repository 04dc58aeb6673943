"""MediaPipe's own hand pipeline on a ``hands.json`` photo set, scored with this project's metrics.

The reference for ``passthrough eval hands`` (issue 5): the same photos, the same PCK@0.2 / detection /
mean-error definitions (:mod:`hand_tracking.metrics`), but MediaPipe's complete runtime
(``mediapipe.solutions.hands``: its palm detector, landmark model, crop logic and thresholds) instead of
this project's tracker. It needs the ``mediapipe==0.10.21`` wheel (the one the project's models are
built from), which pins ``numpy<2`` and so lives in its own environment::

    make mediapipe-reference            # creates .venv-mediapipe, runs colour and grayscale

or by hand, from the repository root::

    PYTHONPATH=. .venv-mediapipe/bin/python benchmarks/mediapipe_hands_reference.py \\
        --dataset ../shared/data/hands [--gray] [--json OUT]
    ... --images ../shared/data/stereo/oakd-pairs/pov_hands_left.png ...   # no annotations: times only

Per image: ``detection + landmarks`` = one ``Hands(static_image_mode=True)`` call (palm detector and
landmarks every call); ``tracking`` = a second call of a ``static_image_mode=False`` instance on the same
image with ``max_num_hands`` = the hands found (landmarks from the previous landmarks, no detector),
divided by the hands found, as
``passthrough eval hands`` reports its own ``ms_track_median``. Images are decoded with OpenCV as this project
decodes them (grayscale copies are given to MediaPipe as three equal channels). Times are wall-clock on whatever
machine runs it; compare them with ``passthrough eval hands`` run next to it, not across machines.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import NoReturn

import numpy as np


def _fail(msg: str) -> NoReturn:
    print(f"mediapipe_hands_reference: error: {msg}", file=sys.stderr)
    raise SystemExit(2)


def _mp_hands():
    try:
        import mediapipe as mp
    except ImportError:
        _fail("mediapipe is not installed in this Python; run `make mediapipe-reference` "
              "(it creates .venv-mediapipe with mediapipe==0.10.21)")
    return mp, mp.solutions.hands


def _landmarks_px(result, width: int, height: int) -> list[np.ndarray]:
    """MediaPipe's normalised landmarks -> list of float64 (21, 2) pixel arrays (x right, y down)."""
    out = []
    for hand in result.multi_hand_landmarks or []:
        out.append(np.array([[p.x * width, p.y * height] for p in hand.landmark], np.float64))
    return out


def _read_rgb(path: Path, gray: bool) -> np.ndarray:
    """uint8 (H, W, 3) RGB of an image file (grayscale files and ``gray`` copies: three equal channels).
    cv2 directly: mediapipe pins opencv 4.x, older than the project's own image reader needs."""
    import cv2

    img = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_UNCHANGED)
    if img is None:
        _fail(f"{path}: corrupt or unsupported image")
    if img.dtype != np.uint8:
        img = cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if img.ndim == 2:
        return np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_GRAY2RGB))
    code = cv2.COLOR_BGRA2RGB if img.shape[2] == 4 else cv2.COLOR_BGR2RGB
    return np.ascontiguousarray(cv2.cvtColor(img, code))


def _run_image(mp_hands, static, opts: dict, rgb: np.ndarray, repeat: int):
    """One image through MediaPipe: ``(landmarks px list, detection + landmarks ms, tracking ms)``, medians
    over ``repeat`` calls. Tracking: a video-mode instance's second call on the same image, with
    ``max_num_hands`` = the hands found (with fewer tracked than the maximum, MediaPipe runs its palm
    detector again on every video frame); NaN when no hand was found."""
    times, result = [], None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        result = static.process(rgb)
        times.append((time.perf_counter() - t0) * 1e3)
    lms = _landmarks_px(result, rgb.shape[1], rgb.shape[0])
    t_track = float("nan")
    if lms:
        tt = []
        for _ in range(max(1, repeat)):
            with mp_hands.Hands(static_image_mode=False, **dict(opts, max_num_hands=len(lms))) as video:
                video.process(rgb)
                t0 = time.perf_counter()
                video.process(rgb)
                tt.append((time.perf_counter() - t0) * 1e3)
        t_track = float(np.median(tt))
    return lms, float(np.median(times)), t_track


def _runtime(mp, complexity: int, min_conf: float) -> dict:
    return {"mediapipe": mp.__version__, "solution": "mediapipe.solutions.hands", "model_complexity": complexity,
            "min_detection_confidence": min_conf, "max_num_hands": 2, "python": platform.python_version(),
            "cpu": platform.processor() or platform.machine()}


def time_images(paths: list, gray: bool, repeat: int, complexity: int, min_conf: float) -> dict:
    """Images without annotations (e.g. the first-person ``pov_hands`` pair): hands found, detection +
    landmarks ms and tracking ms per image (not per hand: as ``passthrough bench hands`` reports)."""
    mp, mp_hands = _mp_hands()
    opts = dict(max_num_hands=2, model_complexity=complexity, min_detection_confidence=min_conf)
    rows = []
    with mp_hands.Hands(static_image_mode=True, **opts) as static:
        for path in paths:
            lms, t_det, t_track = _run_image(mp_hands, static, opts, _read_rgb(path, gray), repeat)
            rows.append({"image": str(path), "hands": len(lms), "ms_median": t_det,
                         "ms_track_median": t_track if lms else None})
    return {"images": rows, "runtime": _runtime(mp, complexity, min_conf)}


def evaluate(dataset: Path, gray: bool, repeat: int, complexity: int, min_conf: float) -> dict:
    from hand_tracking.metrics import score_hand, summarize_photo_set
    from passthrough.datasets.handkp import load_hand_annotations
    from passthrough.errors import InputError

    mp, mp_hands = _mp_hands()
    try:
        entries = load_hand_annotations(dataset)
    except InputError as e:
        _fail(str(e))
    by_image: dict[Path, list[dict]] = {}
    for e in entries:
        by_image.setdefault(Path(e["image"]), []).append(e)

    opts = dict(max_num_hands=2, model_complexity=complexity, min_detection_confidence=min_conf)
    scores, ms, ms_track, per_ds_ms = [], [], [], {}
    with mp_hands.Hands(static_image_mode=True, **opts) as static:
        for image_path, anns in by_image.items():
            lms, t_det, t_track = _run_image(mp_hands, static, opts, _read_rgb(image_path, gray), repeat)
            ms.append(t_det)
            if lms:
                ms_track.append(t_track / len(lms))
            for e in anns:
                ds = str(e.get("dataset", "default"))
                scores.append(score_hand(lms, e["kp2d"], e["bbox_xyxy"], 0.2, ds))
                per_ds_ms.setdefault(ds, []).append(ms[-1])
    out = summarize_photo_set(scores, ms, ms_track, per_ds_ms, gray)
    out["per_image"] = [
        {"image": str(Path(e["image"]).name), "found": s.found,
         "pck02": float((s.errors_px < s.threshold_px).sum() / s.n_joints) if s.n_joints else None,
         "mean_px": float(s.errors_px.mean()) if s.errors_px.size else None}
        for e, s in zip([a for anns in by_image.values() for a in anns], scores)]
    out["runtime"] = _runtime(mp, complexity, min_conf)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--dataset", type=Path, help="folder with hands.json")
    src.add_argument("--images", type=Path, nargs="+", metavar="IMAGE",
                     help="images without annotations: hands found and times per image")
    p.add_argument("--gray", action="store_true", help="grayscale copies of the photos")
    p.add_argument("--repeat", type=int, default=3, help="timed calls per image (median)")
    p.add_argument("--model-complexity", type=int, default=1, choices=(0, 1),
                   help="1 = the full models (the ones this project converts), 0 = lite")
    p.add_argument("--min-detection-confidence", type=float, default=0.5,
                   help="MediaPipe's own default 0.5")
    p.add_argument("--json", type=Path, help="write the result here")
    a = p.parse_args(argv)
    if a.images is not None:
        for path in a.images:
            if not path.is_file():
                _fail(f"{path}: no such file")
            if a.json is not None and a.json.resolve() == path.resolve():
                _fail(f"{a.json}: refusing to overwrite an input image")
        res = time_images(a.images, a.gray, a.repeat, a.model_complexity, a.min_detection_confidence)
        for row in res["images"]:
            track = "-" if row["ms_track_median"] is None else f"{row['ms_track_median']:.1f}"
            print(f"MediaPipe {res['runtime']['mediapipe']}: {row['image']}: {row['hands']} hands, detection + "
                  f"landmarks {row['ms_median']:.1f} ms, tracking {track} ms per image")
        _write_json(a.json, res)
        return 0
    if not a.dataset.exists():
        _fail(f"{a.dataset}: no such file or folder")
    if a.json is not None and a.json.resolve().is_relative_to(a.dataset.resolve()):
        _fail(f"{a.json}: refusing to write inside the dataset folder {a.dataset}")
    res = evaluate(a.dataset, a.gray, a.repeat, a.model_complexity, a.min_detection_confidence)
    line = (f"MediaPipe {res['runtime']['mediapipe']} ({res['input']}): detection {res['detection_rate']:.3f}, "
            f"PCK@0.2 {res['pck02']:.3f}, mean {res['mean_px']:.2f} px, detection + landmarks "
            f"{res['ms_median']:.1f} ms, tracking {res['ms_track_median']:.1f} ms per hand "
            f"(median per image, {res['n_hands']} hands)")
    print(line)
    for name, d in res["per_dataset"].items():
        print(f"  {name}: detection {d['detection_rate']:.3f}, PCK@0.2 {d['pck02']:.3f}, mean {d['mean_px']:.2f} px")
    _write_json(a.json, res)
    return 0


def _write_json(path, res: dict) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
