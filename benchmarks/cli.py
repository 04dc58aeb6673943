"""``passthrough bench [pipeline|depth|reprojection|hands]``: latency against baselines in the same run.

* ``pipeline`` (default): the real-time pipeline (camera thread, hand worker, display loop paced at
  ``--display-hz``) on the embedded demo data, then the naive OpenCV pipeline and ours interleaved frame
  by frame on the same frames (throughput ratio), and the image quality of both from the reprojection
  eval on the public Tsukuba rig (``../shared/data``) when it is there.
* ``depth``: the default depth method vs full-resolution OpenCV StereoSGBM, interleaved.
* ``reprojection``: the ONNX model (both eyes) vs a ``cv2.remap`` warp of both eyes, interleaved.
* ``hands``: detection + landmarks and tracking per camera image; MediaPipe's own runtime figures are
  external (measured outside this project) and printed as such.

Warm-up frames are excluded. ``--threads 1`` pins OpenCV, numba and onnxruntime to one thread;
``--threads 0`` uses every core. The JSON layout is documented in the README ("Benchmarks").
"""

from __future__ import annotations

import argparse
import json
import itertools
import os
import time
from typing import Dict, List, NamedTuple

import numpy as np

from .latency_model import LatencyConstants, photon_to_photon_ms
from .stats import machine_info, set_threads, summarize_ms

#: MediaPipe Hands' own runtime on this machine class, measured outside this project (issue 5): ms per image
MEDIAPIPE_EXTERNAL_MS = {"detection_plus_landmarks_ms": 12.7, "tracking_ms": 5.6}
TARGETS = {"display_p99_ms": 8.3, "capture_to_ready_p99_ms": 20.0, "photon_to_photon_ms": 20.0, "speedup_vs_naive": 10.0}


def add_arguments(parser) -> None:
    parser.add_argument("target", nargs="?", default="pipeline", choices=["pipeline", "depth", "reprojection", "hands"],
                        help="what to benchmark (default: pipeline)")
    parser.add_argument("--dataset", help="frames to use (default: the embedded OAK-D demo pairs)")
    parser.add_argument("--display-hz", type=float, default=90.0, choices=[72.0, 90.0, 120.0], help="display rate")
    parser.add_argument("--camera-hz", type=float, default=30.0, help="camera rate for the pipeline run (default 30)")
    parser.add_argument("--frames", type=int, default=300, help="measured display frames / stage runs (default 300)")
    parser.add_argument("--warmup", type=int, default=30, help="frames run first and excluded (default 30)")
    parser.add_argument("--baseline-frames", type=int, default=20, help="interleaved naive-vs-ours frames (default 20)")
    parser.add_argument("--threads", type=int, default=1, help="threads per stage: 1 = single core, 0 = all cores")
    parser.add_argument("--provider", default="auto", choices=["auto", "cpu", "cuda"], help="onnxruntime provider")
    parser.add_argument("--no-hands", action="store_true", help="pipeline without the hand worker")
    parser.add_argument("--early-image", action="store_true",
                        help="pipeline in the image-first mode (new images shown with the previous frame's depth "
                             "until their own is done; see `passthrough replay --help`)")
    parser.add_argument("--early-depth", default="refresh", choices=["refresh", "previous"],
                        help="image-first mode's depth: the previous frame's re-chosen where the new pair "
                             "contradicts it (default), or as it is (both are measured in quality.early_image)")
    parser.add_argument("--exposure-ms", type=float, default=LatencyConstants.exposure_ms, help="camera exposure (model)")
    parser.add_argument("--readout-ms", type=float, default=LatencyConstants.readout_ms, help="sensor readout (model)")
    parser.add_argument("--scanout-ms", type=float, default=None, help="display scan-out (model; default one period)")
    parser.add_argument("--json", help="write the report here")
    parser.add_argument("--plot", help="write a timeline + latency histogram PNG here")


# ------------------------------------------------------------------------------------------- helpers
def _source(args):
    from passthrough.datasets import open_source
    from passthrough.datasets.pairs import PairsFolderSource
    from passthrough.demo import DEMO_PAIRS
    from passthrough.demo_data import demo_source_path

    if args.dataset:
        return open_source(args.dataset)
    return PairsFolderSource(demo_source_path(), only=DEMO_PAIRS)


def _pipeline_args(args, **extra):
    from passthrough.pipeline.factory import add_pipeline_arguments

    p = argparse.ArgumentParser()
    add_pipeline_arguments(p)
    a = p.parse_args([])
    a.display_hz, a.provider, a.no_hands, a.head_path = args.display_hz, args.provider, args.no_hands, "sway"
    a.early_image = bool(getattr(args, "early_image", False))
    a.early_depth = getattr(args, "early_depth", "refresh")
    for k, v in extra.items():
        setattr(a, k, v)
    return a


class CameraTiming(NamedTuple):
    """What the benchmark keeps of a camera frame: its timestamps (ns) and stage times (ms)."""

    t_capture_ns: int
    t_done_ns: int
    rectify_ms: float
    depth_ms: float
    prepare_ms: float
    early_ms: float = 0.0

    @classmethod
    def of(cls, cam) -> "CameraTiming":
        return cls(cam.t_capture_ns, cam.t_done_ns, cam.rectify_ms, cam.depth_ms, cam.prepare_ms, cam.early_ms)


#: distinct frames a stage benchmark reads from its dataset (it cycles through them for more runs)
MAX_DISTINCT_FRAMES = 64


def _first_frames(source, n: int) -> list:
    """The first ``min(n, MAX_DISTINCT_FRAMES)`` frames of ``source``, read lazily: a long sequence is
    never loaded whole (the benchmarks cycle through these for more runs)."""
    frames = list(itertools.islice(iter(source), max(1, min(n, MAX_DISTINCT_FRAMES))))
    if not frames:
        from passthrough.errors import InputError

        raise InputError(getattr(source, "path", None), "the dataset has no frames")
    return frames


def _threads(args) -> int:
    return args.threads if args.threads > 0 else (os.cpu_count() or 1)


def _ratio(base: dict, ours: dict) -> float:
    return round(base["p50_ms"] / ours["p50_ms"], 2) if ours["p50_ms"] > 0 else float("nan")


def _p50_ratio(ours: dict, base: dict) -> float:
    """ours / base of two :func:`summarize_ms` p50s, 2 decimals; NaN where either was not measured."""
    a, b = ours["p50_ms"], base["p50_ms"]
    if a is None or b is None or not (np.isfinite(a) and np.isfinite(b)) or b <= 0:
        return float("nan")
    return round(a / b, 2)


def _verdict(name: str, value: float, limit: float, higher_is_better: bool = False, judged: bool = True) -> dict:
    """``{target, value, limit, holds}``; ``holds`` is None where the value was not measured (None, NaN) or
    the run is not what the target is set for (``judged`` False: another resolution, say)."""
    measured = value is not None and bool(np.isfinite(value))
    if not (measured and judged):
        return {"target": name, "value": value, "limit": limit, "holds": None}
    holds = bool(value >= limit) if higher_is_better else bool(value <= limit)
    return {"target": name, "value": value, "limit": limit, "holds": holds}


#: the eye size the display-rate targets are set for (the reprojection and benchmarks issues)
TARGET_EYE_SIZE = (640, 480)


def _at_size(w: int, h: int) -> tuple:
    """A target label's resolution and whether the run is at :data:`TARGET_EYE_SIZE`."""
    ok = (w, h) == TARGET_EYE_SIZE
    return (f" at {w}x{h}" + ("" if ok else f", not the target's {TARGET_EYE_SIZE[0]}x{TARGET_EYE_SIZE[1]}")), ok


# ------------------------------------------------------------------------------------------ pipeline
def bench_pipeline(args) -> dict:
    from passthrough.pipeline.factory import build_pipeline

    threads = _threads(args)
    source = _source(args)
    # the demo stills are played as a camera stream at --camera-hz: depth filtering and hand tracking run
    # as on video (as in every earlier run of this benchmark), not re-detected from scratch per frame
    pipe = build_pipeline(source, _pipeline_args(args), threads=threads, stills=False)
    # each camera frame's timestamps only: its images and depth maps are not held (a long run kept ~10 MB
    # per camera frame alive: 2 GB resident for 300 display frames)
    cams: List[CameraTiming] = []
    hands_ms: List[tuple] = []  # (capture ns, ms) of each hand result
    total = args.warmup + args.frames
    t0 = time.monotonic()
    records = pipe.run_realtime(total, camera_hz=args.camera_hz, on_camera=lambda c: cams.append(CameraTiming.of(c)),
                                on_hands=lambda r: hands_ms.append((int(r.t_capture_ns or 0), float(r.ms))))
    wall = time.monotonic() - t0
    recs = records[args.warmup:]
    t_first = recs[0].t_frame_start_ns
    cams_m = [c for c in cams if c.t_capture_ns >= t_first]
    cam_period_ms = 1000.0 / args.camera_hz
    def first_shown_ms(capture_of) -> List[float]:
        """Per camera frame (capture time ``capture_of(record)``; negative: none): capture -> composite end
        of the first display frame using it, ms."""
        first: Dict[int, int] = {}
        for r in recs:
            if capture_of(r) >= 0:
                first.setdefault(capture_of(r), r.t_composite_end_ns)
        return [(t_end - t_cap) / 1e6 for t_cap, t_end in first.items() if t_cap >= t_first]

    c2r = first_shown_ms(lambda r: r.t_capture_ns)  # capture -> ready: the frame's image first shown
    c2h = first_shown_ms(lambda r: r.hands_t_capture_ns)  # capture -> its hand result first shown
    # a frame ready after its slot's vsync is shown at the next vsync: wait until the next slot boundary
    period_ns = 1e9 / args.display_hz
    wait = [((r.t_predicted_display_ns - r.t_composite_end_ns) % period_ns) / 1e6 for r in recs]
    stages = {
        "rectify": summarize_ms(c.rectify_ms for c in cams_m),
        "depth": summarize_ms(c.depth_ms for c in cams_m),
        "camera_prepare": summarize_ms(c.prepare_ms for c in cams_m),
        **({"camera_early": summarize_ms(c.early_ms for c in cams_m)} if pipe.early_image else {}),
        "camera_stage": summarize_ms(c.rectify_ms + c.depth_ms + c.prepare_ms + c.early_ms for c in cams_m),
        # hand results of frames captured in the measured window only (warm-up excluded, as everywhere)
        **({} if args.no_hands else {"hands": summarize_ms(ms for t, ms in hands_ms if t >= t_first)}),
        "reproject": summarize_ms(r.reproject_ms for r in recs),
        "holograms": summarize_ms(r.holograms_ms for r in recs),
        "composite": summarize_ms(r.composite_ms for r in recs),
        "display": summarize_ms(r.display_ms for r in recs),
        # the display thread's CPU time per display frame, and the rest of the frame's display time, which
        # it spent waiting (another thread on its core, the GIL held by the camera or hand thread, the
        # hypervisor)
        "display_cpu": summarize_ms(r.display_cpu_ms for r in recs),
        "display_wait": summarize_ms(max(0.0, r.display_ms - r.display_cpu_ms) for r in recs),
    }
    span_s = (recs[-1].t_frame_start_ns - recs[0].t_frame_start_ns) / 1e9
    display = {"hz": args.display_hz, "fps": round((len(recs) - 1) / span_s, 2) if span_s > 0 else float("nan"),
               "deadline_miss_rate": round(float(np.mean([r.deadline_missed for r in recs])), 4),
               "stale_frame_rate": round(float(np.mean([r.camera_age_ms > 2 * cam_period_ms + stages["camera_stage"]["p50_ms"]
                                                        for r in recs])), 4),
               "frames": len(recs), "camera_hz": args.camera_hz,
               "camera_frames": len(cams_m),
               "early_image": pipe.early_image,
               # display frames whose depth is an earlier camera frame's (the image-first mode's early outputs)
               "reused_depth_rate": round(float(np.mean([r.depth_camera_index != r.camera_index for r in recs])), 4)}
    c2r_s = summarize_ms(c2r)
    wait_s = summarize_ms(wait)
    c2h_s = summarize_ms(c2h)
    const = LatencyConstants(args.exposure_ms, args.readout_ms, args.scanout_ms)
    p2p = photon_to_photon_ms(c2r_s["p50_ms"], wait_s["p50_ms"], args.display_hz, const)
    latency = {"capture_to_ready_p50_ms": c2r_s["p50_ms"], "capture_to_ready_p99_ms": c2r_s["p99_ms"],
               "wait_for_display_slot_p50_ms": wait_s["p50_ms"], "photon_to_photon_model_ms": p2p["total_ms"],
               # null without hands (--no-hands) or when no hand result reached the display
               "capture_to_hands_p50_ms": c2h_s["p50_ms"] if c2h else None,
               "capture_to_hands_p99_ms": c2h_s["p99_ms"] if c2h else None,
               "photon_to_photon_terms": p2p}
    base = bench_naive_interleaved(pipe, source, args, threads)
    quality = reprojection_quality(threads)
    if pipe.early_image:
        quality["early_image"] = early_image_cost(args, source, threads)
    display["display_core"] = pipe.display_cpus  # the display loop's own core, if pinned
    report = {"benchmark": "pipeline", "dataset": str(source.path), "wall_s": round(wall, 2),
              "providers": pipe.display_stage.reprojector.providers, "stages": stages,
              "display": display, "latency": latency, "baseline": base["baseline"],
              "speedup_vs_naive": base["speedup_vs_naive"], "quality": quality,
              "_records": recs, "_cams": cams_m}
    speed_ok = base["speedup_vs_naive"]
    size_txt, at_size = _at_size(*source.rig.rectified_size)  # the eyes are the cameras' size
    report["targets"] = [
        _verdict("display stage p99 <= 8.3 ms (120 Hz budget)" + size_txt + (" [one core]" if threads == 1 else " [not one core]"),
                 stages["display"]["p99_ms"], TARGETS["display_p99_ms"], judged=at_size),
        _verdict("camera -> frame-ready p99 <= 20 ms", c2r_s["p99_ms"], TARGETS["capture_to_ready_p99_ms"]),
        _verdict("modeled photon-to-photon <= 20 ms", p2p["total_ms"], TARGETS["photon_to_photon_ms"]),
        _verdict(">= 10x the naive pipeline's throughput", speed_ok, TARGETS["speedup_vs_naive"], True),
    ]
    if quality.get("psnr") is not None:
        report["targets"].append(_verdict("image quality >= naive (PSNR dB, Tsukuba)", quality["psnr"],
                                          quality["baseline_splat_psnr"], True))
    return report


def bench_naive_interleaved(pipe, source, args, threads: int) -> dict:
    """Ours (camera stage + one display frame = both eyes) and the naive OpenCV pipeline, alternating on
    the same frames."""
    from passthrough.geometry import invert_T

    from .naive import NaivePipeline

    frames = _first_frames(source, args.baseline_frames + 2)
    rig = frames[0].rig
    naive = NaivePipeline(rig, _num_disp(rig))
    ours_ms, naive_ms, naive_d = [], [], []
    for i in range(args.baseline_frames + 2):
        f = frames[i % len(frames)]
        views = pipe.eye_fn(f.t_left_ns)
        t0 = time.perf_counter()
        cam = pipe.camera_stage.process(f)
        pipe.display_stage.render(cam, views)
        t1 = time.perf_counter()
        T = [invert_T(v.T_world_from_eye) @ cam.T_world_from_left for v in views]
        t2 = time.perf_counter()
        naive.render(cam.left_bgr, cam.left_gray, cam.right_gray, T, views[0].K, views[0].size)
        t3 = time.perf_counter()
        naive.disparity(cam.left_gray, cam.right_gray)
        t4 = time.perf_counter()
        if i >= 2:  # first two: warm-up
            ours_ms.append((t1 - t0) * 1e3)
            naive_ms.append((t3 - t2) * 1e3)
            naive_d.append((t4 - t3) * 1e3)
    o, n = summarize_ms(ours_ms), summarize_ms(naive_ms)
    return {"baseline": {"naive_opencv": {"description": "full-res StereoSGBM + reprojectImageTo3D + point splat per eye",
                                          "frame": n, "sgbm_only": summarize_ms(naive_d)},
                         "ours_interleaved": {"description": "camera stage + display stage (both eyes)", "frame": o}},
            "speedup_vs_naive": _ratio(n, o)}


def _num_disp(rig) -> int:
    from passthrough.depth import default_num_disparities
    from passthrough.pipeline.camera_stage import NEAR_M

    return default_num_disparities(rig.rectified_size[0], rig.focal_px, rig.baseline_m, near_m=NEAR_M)


def reprojection_quality(threads: int) -> dict:
    """PSNR of ours vs the naive splat on the public Tsukuba rig, from the reprojection eval with the
    pipeline's own depth path (``--right-depth warped``: the left map forward-warped into the right view,
    as the camera stage does)."""
    from reprojection.evaluate import evaluate_set
    from reprojection.runtime import Reprojector

    from passthrough.cache import shared_data_dir

    rig_dir = shared_data_dir() / "views" / "middlebury2001-tsukuba"
    if not (rig_dir / "rig.json").is_file():
        return {"note": f"{rig_dir} not found: quality not measured"}
    rows = evaluate_set(rig_dir, Reprojector(stride=4, provider="cpu", threads=threads), None, 8, repeats=1,
                        right_depth="warped")
    return {"dataset": str(rig_dir), "right_depth": "warped",
            "psnr": round(float(np.mean([r["psnr"] for r in rows])), 2),
            "baseline_splat_psnr": round(float(np.mean([r["baseline_splat_psnr"] for r in rows])), 2),
            "targets": len(rows)}


#: A pixel of an early output counts as visibly changed where a channel differs from the full output by more.
CHANGED_LEVELS = 16


def early_image_cost(args, source, threads: int, max_frames: int = 12) -> dict:
    """What the image-first mode's early outputs cost in the picture: for each of the first ``max_frames``
    frames after the first, the display frame made from its early output (its images, the previous frame's
    depth moved to its pose) against the one made from its full output (its own depth), at the same eye
    poses; PSNR (dB) over the pixels a camera saw in both, holograms included (they are depth-tested
    against the real depth), and ``changed_share``: the share of those pixels where a channel differs by
    more than :data:`CHANGED_LEVELS` (of 255), i.e. how much of the picture an early frame gets visibly
    wrong (``passthrough synth --sequence`` makes a sequence with a hand-sized plate moving at a chosen
    speed to measure it on). Both ``--early-depth`` modes are measured on the same frames, each early
    output made three times per frame in alternating order for its camera-thread time (``early_ms``:
    :meth:`CameraStage.early` alone); the top-level figures are the chosen mode's. ``rig_motion_m``:
    camera travel between consecutive frames (0: a static rig, where only what moves in the scene
    differs). Not measured on stills: played as a stream they pair unrelated scenes. Its own pipeline (no
    hands): the rig follows the source's ground-truth poses where it has them (the timed run's head path
    only moves the eyes)."""
    from passthrough.pipeline.factory import build_pipeline
    from reprojection.evaluate import psnr

    if source.stills:
        return {"measured": False, "why": "stills: early frames would pair unrelated scenes"}
    pipe = build_pipeline(source, _pipeline_args(args, no_hands=True, head_path=None, early_image=True),
                          threads=threads)
    cs, ds = pipe.camera_stage, pipe.display_stage
    modes = {"refresh": True, "previous": False}
    values = {m: [] for m in modes}
    changed = {m: [] for m in modes}
    ms = {m: [] for m in modes}
    previous, motion = None, []
    for frame in itertools.islice(iter(source), max_frames + 1):
        rect = cs.rectify(frame)
        if previous is None:
            previous = ds.prepare(cs.finish(rect))
            continue
        if not motion:  # warm-up, untimed: the first call of each mode may compile
            for m in modes:
                cs.early(rect, previous, refresh=modes[m])
        early = {}
        for rep in range(3):
            for m in (modes if rep % 2 == 0 else reversed(list(modes))):
                t0 = time.perf_counter_ns()
                early[m] = cs.early(rect, previous, refresh=modes[m])
                ms[m].append((time.perf_counter_ns() - t0) / 1e6)
        full = ds.prepare(cs.finish(rect), previous)
        views = pipe.eye_fn(frame.t_left_ns)
        b = ds.render(full, views)
        for m in modes:
            a = ds.render(ds.prepare(early[m], previous), views)
            for e in range(a.eyes_bgr.shape[0]):
                seen = ~(a.holes[e] | b.holes[e])
                values[m].append(psnr(a.eyes_bgr[e], b.eyes_bgr[e], seen))
                off = np.abs(a.eyes_bgr[e].astype(np.int16) - b.eyes_bgr[e]).reshape(seen.shape + (-1,)).max(axis=-1)
                changed[m].append(float((off[seen] > CHANGED_LEVELS).mean()) if seen.any() else 0.0)
        motion.append(float(np.linalg.norm(rect.T_world_from_left[:3, 3] - previous.T_world_from_left[:3, 3])))
        previous = full

    def picture(m: str) -> dict:
        finite = [v for v in values[m] if np.isfinite(v)]
        return {"psnr_early_vs_own_depth_db": {"p50": round(float(np.median(finite)), 2) if finite else None,
                                               "min": round(float(np.min(finite)), 2) if finite else None,
                                               "identical": len(values[m]) - len(finite)},
                "changed_share": {"p50": round(float(np.median(changed[m])), 4) if changed[m] else None,
                                  "max": round(float(np.max(changed[m])), 4) if changed[m] else None,
                                  "levels": CHANGED_LEVELS},
                "early_ms": {"p50": round(float(np.median(ms[m])), 3) if ms[m] else None,
                             "max": round(float(np.max(ms[m])), 3) if ms[m] else None, "n": len(ms[m])}}

    chosen = "refresh" if cs.refresh else "previous"
    return {"measured": bool(motion), "frames": len(motion), "eyes": len(values[chosen]),
            "rig_poses": "ground truth" if pipe.head_path.name == "ground-truth" else "static",
            "early_depth": chosen, **picture(chosen), "modes": {m: picture(m) for m in modes},
            "rig_motion_m": {"p50": round(float(np.median(motion)), 4) if motion else None,
                             "max": round(float(np.max(motion)), 4) if motion else None}}


# ---------------------------------------------------------------------------------------- per stage
def bench_depth(args) -> dict:
    from passthrough.depth import DEFAULT_METHOD, DepthEstimator, REFERENCE_METHOD
    from passthrough.io.images import to_gray

    frames = _first_frames(_source(args), args.warmup + args.frames)
    rig = frames[0].rig
    n = _num_disp(rig)
    ours = DepthEstimator(DEFAULT_METHOD, num_disparities=n)
    ref = DepthEstimator(REFERENCE_METHOD, num_disparities=n)
    a, b, snap = [], [], []
    for i in range(args.warmup + args.frames):
        f = frames[i % len(frames)]
        l, r = (to_gray(x) for x in f.rectified())
        t0 = time.perf_counter()
        res = ours.compute(l, r, f.rig)
        t1 = time.perf_counter()
        ref.compute(l, r, f.rig)
        t2 = time.perf_counter()
        if i >= args.warmup:
            a.append((t1 - t0) * 1e3)
            b.append((t2 - t1) * 1e3)
            if "snap_ms" in res.timings:
                snap.append(res.timings["snap_ms"])
    so, sb = summarize_ms(a), summarize_ms(b)
    w, h = rig.rectified_size
    parts = {"depth_snap": summarize_ms(snap)} if snap else {}  # the edge snap, part of depth
    return {"benchmark": "depth", "stages": {"depth": so, **parts}, "baseline": {REFERENCE_METHOD: sb},
            "speedup_vs_reference": _ratio(sb, so), "method": DEFAULT_METHOD,
            "compile_ms": round(float(ours.compile_ms), 1), "resolution": [w, h],
            "num_disparities": n,
            "targets": [_verdict(f"depth ({DEFAULT_METHOD}) at {w}x{h} median <= 10 ms"
                                 + (" [one core]" if _threads(args) == 1 else " [not one core]"), so["p50_ms"], 10.0)]}


def bench_reprojection(args) -> dict:
    import cv2

    from passthrough.pipeline.factory import build_pipeline
    from passthrough.geometry import invert_T

    from .naive import gridsample_reference, reference_float_maps

    threads = _threads(args)
    source = _source(args)
    pipe = build_pipeline(source, _pipeline_args(args, no_hands=True), threads=threads)
    frame = next(iter(source))
    cam = pipe.camera_stage.process(frame)
    views = pipe.eye_fn(frame.t_left_ns)
    # one smooth warp per eye: cv2.remap's fixed-point tables and, for GridSample, the float ones they come from
    float_maps = [reference_float_maps(cam.K, views[0].size, invert_T(v.T_world_from_eye) @ cam.T_world_from_left)
                  for v in views]
    maps = [cv2.convertMaps(mx, my, cv2.CV_16SC2) for mx, my in float_maps]
    rp = pipe.display_stage.reprojector
    feeds = rp.feeds(cam.left_bgr, cam.right_bgr, cam.depth_left, cam.depth_right, cam.K, cam.K_right,
                     np.stack([v.K for v in views]), [invert_T(v.T_world_from_eye) @ cam.T_world_from_left for v in views],
                     [invert_T(v.T_world_from_eye) @ cam.T_world_from_right for v in views])
    # the yardstick: onnxruntime GridSample of each eye's image on the same smooth grids
    gridsample = gridsample_reference([cam.left_bgr] * len(views), float_maps, threads)
    a, b, c = [], [], []
    split: Dict[str, List[float]] = {}
    for i in range(args.warmup + args.frames):
        t0 = time.perf_counter()
        rp.run_feeds(feeds)
        t1 = time.perf_counter()
        for m1, m2 in maps:
            cv2.remap(cam.left_bgr, m1, m2, cv2.INTER_LINEAR)
        t2 = time.perf_counter()
        if i >= args.warmup:
            a.append((t1 - t0) * 1e3)
            b.append((t2 - t1) * 1e3)
            for part, ms in rp.last_split_ms.items():  # the CPU path: low-resolution graph, then the gather
                split.setdefault(part, []).append(ms)
    # GridSample right after, not interleaved: its ~15 MB of float inputs and outputs per call would evict
    # the model's working set and slow the next model run by ~10 % (measured: 8.8-9.0 -> 9.6-9.8 ms)
    for i in range(3 + max(20, args.frames // 5)):
        t2 = time.perf_counter()
        gridsample()
        if i >= 3:
            c.append((time.perf_counter() - t2) * 1e3)
    so, sb, sg = summarize_ms(a), summarize_ms(b), summarize_ms(c)
    stages = {"reproject_both_eyes": so, **{f"reproject_{part}": summarize_ms(v) for part, v in split.items()}}
    w, h = views[0].size
    size_txt, at_size = _at_size(w, h)
    return {"benchmark": "reprojection", "stages": stages,
            "baseline": {"cv2_remap_both_eyes": sb, "onnxruntime_gridsample_both_eyes": sg},
            "ratio_vs_remap": round(so["p50_ms"] / sb["p50_ms"], 2),
            # the issue set 8 ms where GridSample of one eye took ~4 ms: a budget of 2 such calls, i.e. 1.0 here
            "ratio_vs_gridsample": round(so["p50_ms"] / sg["p50_ms"], 2),
            "resolution": [w, h], "providers": rp.providers,
            "targets": [_verdict("reprojection of both eyes p50 <= 8 ms" + size_txt
                                 + (" [one core]" if threads == 1 else " [not one core]"), so["p50_ms"], 8.0,
                                 judged=at_size)]}


def bench_hands(args) -> dict:
    """Issue 5's figures, per camera image on one core: ``detection_plus_landmarks`` is a frame on which the
    palm detector runs (a fresh tracker: detector views until the hands are found, landmarks of every hand
    found), ``tracking`` a frame tracked from the previous landmarks (only frames on which the detector did
    not run are counted). The per-hand figures divide by the hands found and are informational only.
    Both use the default models (tracking with the int8 landmark model where the CPU runs it safely,
    :func:`hand_tracking.models.default_landmark_variant`; freshly detected palms with the fp32 one); the
    same frames are also run, interleaved, with the fp32 landmark model throughout (``baseline.fp32_landmarks``)
    and, where LiteRT is installed, with MediaPipe's own inference engine on the same tracker
    (``baseline.mediapipe_litert``: the wheel's TFLite full palm + full landmark models, XNNPACK, the same
    thread count; :mod:`hand_tracking.litert_runtime`)."""
    import dataclasses

    from hand_tracking.models import load_sessions
    from hand_tracking.tracker import HandTracker

    threads = _threads(args)
    images, image_name = hand_bench_images(args, args.warmup + args.frames)
    from hand_tracking.litert_runtime import load_litert_models

    from passthrough.onnx_providers import select_providers

    dev = "cuda" if select_providers(args.provider)[0] == "CUDAExecutionProvider" else "cpu"
    configs = {"default": load_sessions(threads=threads, build_if_missing=False, device=dev),
               "fp32_landmarks": load_sessions(threads=threads, build_if_missing=False, landmark_variant="full",
                                               device=dev)}
    litert = load_litert_models(threads=max(1, threads))
    if litert is not None:
        configs["mediapipe_litert"] = litert
    runs = [0]

    def counting(models):
        palm = models.palm

        class _CountingPalm:  # counts detector runs without changing them
            def run(self, *a, **k):
                runs[0] += 1
                return palm.run(*a, **k)

            def __getattr__(self, name):
                return getattr(palm, name)

        return dataclasses.replace(models, palm=_CountingPalm())

    res = {k: {"det": [], "trk": [], "hands": [], "palm_runs": []} for k in configs}
    trackers = {k: HandTracker(m) for k, m in configs.items()}
    counted = {k: counting(m) for k, m in configs.items()}
    for i in range(args.warmup + args.frames):
        img = images[i % len(images)]
        for key in configs:  # interleaved: both configurations see the same load
            r = res[key]
            fresh = HandTracker(counted[key])
            runs[0] = 0
            t0 = time.perf_counter()
            found = fresh.process(img)
            t1 = time.perf_counter()
            # tracking: the next frame from the previous landmarks (one image: the long-lived tracker's
            # video; a set of photos: this photo again, from the landmarks just found)
            tracked = (trackers[key] if len(images) == 1 else fresh).process(img)
            t2 = time.perf_counter()
            if i >= args.warmup:
                r["det"].append((t1 - t0) * 1e3)
                r["palm_runs"].append(runs[0])
                r["hands"].append(len(found.hands))
                if not tracked.ran_detector:
                    r["trk"].append((t2 - t1) * 1e3)
    d = res["default"]
    found = int(np.median(d["hands"]))
    hands = max(1, found)  # the per-hand figures' divisor
    sd, st = summarize_ms(d["det"]), summarize_ms(d["trk"])
    f = res["fp32_landmarks"]
    fd, ft = summarize_ms(f["det"]), summarize_ms(f["trk"])
    measured = {}
    ratios = {}
    if "mediapipe_litert" in res:
        import ai_edge_litert

        m = res["mediapipe_litert"]
        md, mt = summarize_ms(m["det"]), summarize_ms(m["trk"])
        measured["mediapipe_litert"] = {
            "detection_plus_landmarks": md, "tracking": mt, "hands_per_image": int(np.median(m["hands"])),
            "runtime": f"LiteRT {getattr(ai_edge_litert, '__version__', '?')} (TFLite + XNNPACK), "
                       f"{max(1, threads)} thread(s), palm_detection_full + hand_landmark_full"}
        ratios["ratio_vs_mediapipe_litert"] = {"detection_plus_landmarks": _p50_ratio(sd, md),
                                               "tracking": _p50_ratio(st, mt)}
    return {"benchmark": "hands", "landmark_model": configs["default"].variant,
            "stages": {"detection_plus_landmarks": sd, "tracking": st,
                       "detection_plus_landmarks_per_hand": summarize_ms(np.array(d["det"]) / hands),
                       "tracking_per_hand": summarize_ms(np.array(d["trk"]) / hands)},
            "hands_per_image": found, "palm_detector_runs_per_detection_frame": float(np.median(d["palm_runs"])),
            "baseline": {"fp32_landmarks": {"detection_plus_landmarks": fd, "tracking": ft,
                                            "hands_per_image": int(np.median(f["hands"]))},
                         **measured,
                         "mediapipe_external": {**MEDIAPIPE_EXTERNAL_MS,
                                                "note": "MediaPipe's own runtime, measured outside this project (issue 5); not re-measured here"}},
            "ratio_vs_fp32_landmarks": {"detection_plus_landmarks": _p50_ratio(sd, fd),
                                        "tracking": _p50_ratio(st, ft)},
            **ratios,
            "targets": [_verdict("hand detection + landmarks per camera image p50 (ms)", sd["p50_ms"], 12.0),
                        _verdict("hand tracking per camera image p50 (ms)", st["p50_ms"], 5.0)],
            "image": image_name, "images": len(images)}


def hand_bench_images(args, n: int):
    """The images ``bench hands`` runs on, and a name for them: a hand-photo set (``hands.json``: its
    first ``n`` photos, at most :data:`MAX_DISTINCT_FRAMES`, in turn), else the left rectified image of
    the dataset's first stereo frame (default: the first-person ``pov_hands`` pair)."""
    from passthrough.datasets.handkp import hand_dataset_root, load_hand_annotations
    from passthrough.io.images import read_image

    root = hand_dataset_root(args.dataset) if args.dataset else None
    if root is not None:
        paths = list(dict.fromkeys(e["image"] for e in load_hand_annotations(root)))
        paths = paths[:max(1, min(n, MAX_DISTINCT_FRAMES))]
        return [read_image(p) for p in paths], f"{root.name} ({len(paths)} photos)"
    frame = next(iter(open_dataset_or_pov(args)))
    return [frame.rectified()[0]], frame.name


def open_dataset_or_pov(args):
    from passthrough.datasets import open_source
    from passthrough.datasets.pairs import PairsFolderSource
    from passthrough.demo_data import demo_source_path

    if args.dataset:
        return open_source(args.dataset)
    return PairsFolderSource(demo_source_path(), only=("pov_hands",))


# ------------------------------------------------------------------------------------------ output
def print_report(rep: dict) -> None:
    print(f"benchmark: {rep['benchmark']}")
    for name, s in rep.get("stages", {}).items():
        print(f"  {name:<26} p50 {s['p50_ms']:8.2f}  p95 {s['p95_ms']:8.2f}  p99 {s['p99_ms']:8.2f}  max {s['max_ms']:8.2f} ms  (n={s['n']})")
    for name, b in rep.get("baseline", {}).items():
        s = b.get("frame", b) if isinstance(b, dict) else b
        subs = {k: v for k, v in b.items() if isinstance(v, dict) and "p50_ms" in v} if isinstance(b, dict) else {}
        if isinstance(s, dict) and "p50_ms" in s:
            print(f"  baseline {name:<17} p50 {s['p50_ms']:8.2f}  p99 {s['p99_ms']:8.2f} ms")
        elif subs:
            for sub, v in subs.items():
                print(f"  baseline {name} {sub:<24} p50 {v['p50_ms']:8.2f}  p99 {v['p99_ms']:8.2f} ms")
        else:
            print(f"  baseline {name}: {json.dumps(b)}")
    for key in ("speedup_vs_naive", "speedup_vs_reference", "ratio_vs_remap", "ratio_vs_gridsample", "ratio_vs_fp32_landmarks",
                "ratio_vs_mediapipe_litert"):
        if key in rep:
            r = rep[key]
            print(f"  {key}: " + (", ".join(f"{k} {v}x" for k, v in r.items()) if isinstance(r, dict) else f"{r}x"))
    if "display" in rep:
        d = rep["display"]
        print(f"  display: {d['hz']} Hz, {d['fps']} fps, deadline misses {d['deadline_miss_rate']:.2%}, "
              f"stale camera frames {d['stale_frame_rate']:.2%}"
              + (f"; image-first mode: {d['reused_depth_rate']:.2%} shown with the previous frame's depth"
                 if d.get("early_image") else ""))
    if "latency" in rep:
        lat = rep["latency"]
        t = lat["photon_to_photon_terms"]
        print(f"  capture->ready p50 {lat['capture_to_ready_p50_ms']:.2f} ms, p99 {lat['capture_to_ready_p99_ms']:.2f} ms")
        if lat.get("capture_to_hands_p50_ms") is not None:
            print(f"  capture->hands shown p50 {lat['capture_to_hands_p50_ms']:.2f} ms, "
                  f"p99 {lat['capture_to_hands_p99_ms']:.2f} ms")
        print(f"  photon-to-photon (model) {lat['photon_to_photon_model_ms']:.2f} ms = half exposure {t['half_exposure_ms']} + "
              f"readout {t['readout_ms']} + pipeline {t['pipeline_ms']} + wait for slot {t['wait_for_display_slot_ms']} + "
              f"half scan-out {t['half_scanout_ms']}; constants {t['constants']}")
    if rep.get("quality"):
        q = dict(rep["quality"])
        early = q.pop("early_image", None)
        print(f"  quality: {q}")
        if early and early.get("measured"):
            print(f"  image-first early frames vs their own depth ({early['frames']} frames, rig poses "
                  f"{early['rig_poses']}, chosen --early-depth {early['early_depth']}):")
            for mode, m in early["modes"].items():
                p, c, t = m["psnr_early_vs_own_depth_db"], m["changed_share"], m["early_ms"]
                psnr = (f"PSNR p50 {p['p50']} / min {p['min']} dB" if p["p50"] is not None else "PSNR -")
                print(f"    {mode:<8} {psnr}, identical {p['identical']}; visibly changed p50 {c['p50']:.2%} / "
                      f"max {c['max']:.2%}; early step p50 {t['p50']} ms / max {t['max']} ms")
        elif early:
            print(f"  image-first early frames: not measured ({early.get('why', '')})")
    for v in rep.get("targets", []):
        word = {True: "HOLDS", False: "MISSED", None: "NOT JUDGED"}[v["holds"]]
        print(f"  target {word}: {v['target']} (measured {v['value']}, limit {v['limit']})")


def check_arguments(args) -> None:
    """Raise :class:`InputError` (one line, exit 2) for option combinations no benchmark can run, before any
    work. Single values (``--frames``, ``--threads``, ``--camera-hz``, the latency constants, ...) are
    range-checked for every command by :func:`passthrough.argcheck.check_arguments`."""
    from passthrough.errors import InputError

    if args.plot is not None and args.target != "pipeline":
        raise InputError(None, f"--plot draws the pipeline's timeline; `bench {args.target}` has none")
    if args.target == "pipeline" and args.frames < 2:
        raise InputError(None, f"--frames: the pipeline benchmark needs at least 2 display frames (a rate), got {args.frames}")
    if args.target == "depth" and args.provider == "cuda":
        raise InputError(None, "--provider cuda: the depth stage runs no onnxruntime model (numba and OpenCV on the CPU)")


def main(args) -> int:
    check_arguments(args)
    threads = _threads(args)
    set_threads(threads)
    fn = {"pipeline": bench_pipeline, "depth": bench_depth, "reprojection": bench_reprojection, "hands": bench_hands}[args.target]
    rep = fn(args)
    rep["machine"] = machine_info(threads)
    records, cams = rep.pop("_records", None), rep.pop("_cams", None)
    print_report(rep)
    if args.plot and records is not None:
        from .plot import plot_pipeline

        plot_pipeline(records, cams, rep, args.plot)
        print(f"plot: {args.plot}")
    if args.json:
        from passthrough.io.jsonfile import write_json

        write_json(args.json, rep)  # standard JSON: a value that could not be measured is null
        print(f"json: {args.json}")
    return 0
