"""``passthrough eval hands``: accuracy and speed of the hand tracker on real data.

Photo set (``hands.json`` layout, e.g. ``../shared/data/hands``)::

    passthrough eval hands --dataset DIR [--json OUT] [--gray]

prints and writes ``{"detection_rate", "pck02", "mean_px", "ms_median", "per_dataset": {NAME: {same keys}}}``
(+ ``ms_track_median``: one tracking step from the previous landmarks, and ``input``).

Rectified stereo pair::

    passthrough eval hands --stereo LEFT RIGHT --calibration stereodemo_calibration.json [--json OUT]
    passthrough eval hands --stereo FOLDER [--json OUT]          # every pair of a stereo folder

writes ``{"hands": [{"handedness", "joints_m": [[x, y, z] * 21], "found_in": ["left", "right"], ...}],
"ms_median"}`` with joints in metres in the left rectified camera frame (OpenCV axes), plus bone lengths,
hands found per view and an overlay PNG (``--overlay``, default next to ``--json``).
Timing uses one thread (onnxruntime intra-op threads = 1).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from passthrough.errors import InputError

from .mask import BONES
from .metrics import score_hand, summarize_photo_set

__all__ = ["add_arguments", "main", "evaluate_dataset", "evaluate_stereo", "draw_hands"]

_COLORS = {"left": (255, 160, 0), "right": (0, 120, 255)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``passthrough eval hands``."""
    parser.add_argument("--dataset", type=Path, help="folder with hands.json (2-D keypoint photos)")
    parser.add_argument("--stereo", nargs="+", metavar="PATH",
                        help="LEFT RIGHT rectified images (with --calibration), or one stereo folder")
    parser.add_argument("--calibration", type=Path, help="stereodemo_calibration.json for --stereo LEFT RIGHT")
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument("--overlay", type=Path, help="overlay PNG (stereo; default: next to --json)")
    parser.add_argument("--gray", action="store_true", help="evaluate on grayscale copies of the photos")
    parser.add_argument("--variant", choices=("full", "lite"), default="full", help="model size")
    parser.add_argument("--landmark-variant", choices=("full", "int8", "lite"),
                        help="one landmark model throughout: full (fp32), int8 (full quantized) or lite; default: "
                             "int8 for tracking, fp32 on freshly detected palms (--variant full)")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads (timing: 1)")
    parser.add_argument("--repeat", type=int, default=3, help="timing repetitions per image / pair")
    parser.add_argument("--models", type=Path, help="model cache dir (default: passthrough.cache.model_dir())")


def _load_image(path: Path, gray: bool = False) -> np.ndarray:
    """The project's image reader (one-line errors for missing, corrupt or truncated files), as uint8."""
    from passthrough.io.images import read_image

    img = read_image(path, grayscale=gray)
    if img.dtype != np.uint8:
        img = cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return img


def _models(args):
    from .models import load_sessions

    return load_sessions(args.models, variant=args.variant, threads=args.threads,
                         landmark_variant=args.landmark_variant)


def evaluate_dataset(path: Path, models, gray: bool = False, repeat: int = 3) -> dict:
    """Detection rate, PCK@0.2, mean px error and ms per image on a ``hands.json`` folder."""
    from passthrough.datasets.handkp import load_hand_annotations

    from .tracker import HandTracker

    entries = load_hand_annotations(path)
    tracker = HandTracker(models)
    by_image: dict[Path, list[dict]] = {}
    for e in entries:
        by_image.setdefault(Path(e["image"]), []).append(e)
    scores, ms, ms_track, per_ds_ms = [], [], [], {}
    for image_path, anns in by_image.items():
        img = _load_image(image_path, gray)
        times = []
        for _ in range(max(1, repeat)):
            t0 = time.perf_counter()
            hands = tracker.detect(img)
            times.append((time.perf_counter() - t0) * 1e3)
        ms.append(float(np.median(times)))
        if hands:  # tracking step: landmarks from the previous landmarks, no detector (per hand)
            times = []
            for _ in range(max(1, repeat)):
                tracker.reset()
                tracker._tracks = hands
                tracker._since_detect = -10 ** 9
                t0 = time.perf_counter()
                tracker.process(img)
                times.append((time.perf_counter() - t0) * 1e3 / len(hands))
            ms_track.append(float(np.median(times)))
            tracker.reset()
        lms = [h.landmarks for h in hands]
        for e in anns:
            ds = str(e.get("dataset", "default"))
            scores.append(score_hand(lms, e["kp2d"], e["bbox_xyxy"], 0.2, ds))
            per_ds_ms.setdefault(ds, []).append(ms[-1])
    return summarize_photo_set(scores, ms, ms_track, per_ds_ms, gray)


def draw_hands(image: np.ndarray, hands, label: bool = True) -> np.ndarray:
    """BGR copy of ``image`` with each hand's skeleton (objects with ``landmarks`` (21, >=2) px and
    ``handedness``) drawn; left hands blue, right hands orange."""
    vis = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    for h in hands:
        if h is None:
            continue
        col = _COLORS.get(h.handedness, (0, 255, 0))
        p = np.round(np.asarray(h.landmarks)[:, :2]).astype(int)
        for a, b in BONES:
            cv2.line(vis, tuple(p[a]), tuple(p[b]), col, 2, cv2.LINE_AA)
        for q in p:
            cv2.circle(vis, tuple(q), 3, (255, 255, 255), -1, cv2.LINE_AA)
        if label:
            cv2.putText(vis, f"{h.handedness} {h.score:.2f}", (int(p[:, 0].min()), int(p[:, 1].min()) - 6),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.5, col, 1, cv2.LINE_AA)
    return vis


def _hand_json(h) -> dict:
    from .stereo import bone_lengths

    d = {"handedness": h.handedness, "joints_m": None if h.joints_m is None else np.round(h.joints_m, 5).tolist(),
         "found_in": list(h.found_in), "score": round(float(h.score), 4)}
    if h.joints_m is not None:
        bl = bone_lengths(h.joints_m)
        d["wrist_to_middle_mcp_m"] = round(bl.pop("wrist-middle_mcp"), 5)
        d["bone_lengths_m"] = {k: round(v, 5) for k, v in bl.items()}
        d["depth_m"] = round(float(np.median(h.joints_m[:, 2])), 4)
        d["pinch_distance_m"] = round(float(h.pinch_distance_m), 5) if h.pinch_distance_m is not None else None
    return d


def evaluate_stereo(left: np.ndarray, right: np.ndarray, cam, models, repeat: int = 3):
    """Stereo hands on one rectified pair. Returns ``(result_dict, StereoHandFrame)``; ``ms_median`` is a
    full detection pass (fresh tracker), ``ms_track_median`` a tracking pass on the same pair."""
    from .stereo import StereoHandTracker

    ms, frame = [], None
    for _ in range(max(1, repeat)):
        st = StereoHandTracker(cam, models, smooth=False)
        t0 = time.perf_counter()
        frame = st.process(left, right, 0)
        ms.append((time.perf_counter() - t0) * 1e3)
    ms_track = []
    for i in range(max(1, repeat)):
        t0 = time.perf_counter()
        st.process(left, right, (i + 1) * 33_000_000)
        ms_track.append((time.perf_counter() - t0) * 1e3)
    res = {
        "hands": [_hand_json(h) for h in frame.hands],
        "hands_per_view": {"left": sum("left" in h.found_in for h in frame.hands),
                           "right": sum("right" in h.found_in for h in frame.hands)},
        "ms_median": float(np.median(ms)),
        "ms_track_median": float(np.median(ms_track)),
        "frame": "left rectified camera, OpenCV axes (+x right, +y down, +z forward), metres",
    }
    return res, frame


def _overlay(left, right, frame) -> np.ndarray:
    lv = draw_hands(left, [h.left for h in frame.hands])
    rv = draw_hands(right, [h.right for h in frame.hands])
    if lv.shape[0] != rv.shape[0]:
        rv = cv2.resize(rv, (int(rv.shape[1] * lv.shape[0] / rv.shape[0]), lv.shape[0]))
    vis = np.hstack([lv, rv])
    y = 20
    for h in frame.hands:
        if h.joints_m is not None:
            palm = float(np.linalg.norm(h.joints_m[9] - h.joints_m[0]))
            txt = f"{h.handedness}: z={np.median(h.joints_m[:, 2]):.2f} m, wrist-MCP {palm * 100:.1f} cm"
            cv2.putText(vis, txt, (10, y), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 255, 0), 1, cv2.LINE_AA)
            y += 20
    return vis


def _stereo_main(args, models) -> dict:
    from .stereo import RectifiedStereo

    overlays = []
    if len(args.stereo) == 2:
        if args.calibration is None:
            raise InputError(None, "--stereo LEFT RIGHT needs --calibration FILE")
        cam = RectifiedStereo.from_stereodemo_json(args.calibration)
        left, right = _load_image(Path(args.stereo[0])), _load_image(Path(args.stereo[1]))
        if left.shape[:2] != right.shape[:2]:
            raise InputError(Path(args.stereo[1]), f"size {right.shape[:2]} differs from the left image")
        if cam.size is not None and tuple(cam.size) != (left.shape[1], left.shape[0]):
            raise InputError(Path(args.calibration), f"calibration is for {cam.size[0]}x{cam.size[1]} images, "
                                                     f"the pair is {left.shape[1]}x{left.shape[0]}")
        out, frame = evaluate_stereo(left, right, cam, models, args.repeat)
        overlays.append(_overlay(left, right, frame))
    elif len(args.stereo) == 1:
        from passthrough.datasets import open_source

        src = open_source(Path(args.stereo[0]))
        cam = RectifiedStereo.from_rig(src.rig)
        pairs, ms = [], []
        for fr in src:
            left, right = fr.rectified()
            res, frame = evaluate_stereo(left, right, cam, models, args.repeat)
            res["name"] = getattr(fr, "name", None) or str(fr.index)
            pairs.append(res)
            ms.append(res["ms_median"])
            if frame.hands:
                overlays.append(_overlay(left, right, frame))
        out = {"pairs": pairs, "ms_median": float(np.median(ms)) if ms else float("nan")}
    else:
        raise InputError(None, "--stereo takes LEFT RIGHT images or one stereo folder")
    overlay_path = args.overlay or (args.json.with_name(args.json.stem + "_overlay.png") if args.json else None)
    if overlay_path is not None and overlays:
        w = max(o.shape[1] for o in overlays)
        sheet = np.vstack([cv2.copyMakeBorder(o, 0, 0, 0, w - o.shape[1], cv2.BORDER_CONSTANT) for o in overlays])
        overlay_path.parent.mkdir(parents=True, exist_ok=True)  # checked writable before the run (--overlay)
        if not cv2.imwrite(str(overlay_path), sheet):
            raise InputError(overlay_path, "the overlay image could not be written")
        out["overlay"] = str(overlay_path)
    return out


def _print_stereo(out: dict) -> None:
    pairs = out.get("pairs") or [dict(out, name="pair")]
    for p in pairs:
        print(f"{p['name']}: hands per view {p['hands_per_view']}, {p['ms_median']:.1f} ms "
              f"(tracking {p['ms_track_median']:.1f} ms)")
        for h in p["hands"]:
            size = f", wrist-middle MCP {h['wrist_to_middle_mcp_m'] * 100:.1f} cm at {h['depth_m']:.2f} m" \
                if h.get("joints_m") else ""
            print(f"  {h['handedness']:5s} found in {'+'.join(h['found_in'])}{size}")
    if "overlay" in out:
        print(f"overlay: {out['overlay']}")


def main(args) -> int:
    """Run ``passthrough eval hands``; returns the exit status (InputError propagates to the CLI)."""
    if (args.dataset is None) == (args.stereo is None):
        raise InputError(None, "give either --dataset DIR or --stereo LEFT RIGHT --calibration FILE")
    if args.dataset is not None and not Path(args.dataset).exists():
        raise InputError(args.dataset, "dataset folder not found")
    models = _models(args)
    if args.dataset is not None:
        out = evaluate_dataset(Path(args.dataset), models, args.gray, args.repeat)
        print(f"hands ({out['input']}): detection {out['detection_rate']:.3f}, PCK@0.2 {out['pck02']:.3f}, "
              f"mean {out['mean_px']:.2f} px, {out['ms_median']:.1f} ms/image "
              f"(tracking {out['ms_track_median']:.1f} ms/hand)")
        for name, d in out["per_dataset"].items():
            print(f"  {name}: detection {d['detection_rate']:.3f}, PCK@0.2 {d['pck02']:.3f}, "
                  f"mean {d['mean_px']:.2f} px, n={d['n_hands']}")
    else:
        out = _stereo_main(args, models)
        _print_stereo(out)
    if args.json is not None:
        from passthrough.io.jsonfile import write_json

        write_json(args.json, out, indent=1)
    return 0
