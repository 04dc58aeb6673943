"""``passthrough replay``: run a recorded source through the pipeline and write what it made.

By default the whole pipeline runs (depth, reprojection to the eyes along a head path, hand tracking,
holograms); the outputs are described in :mod:`passthrough.pipeline.outputs`. With ``--rectify-only``
only rectification runs, and ``--out DIR`` gets:

* ``frames.csv``: one row per frame: index, capture timestamps (ns), per-stage times (ms).
* ``preview_<index>.png``: rectified left|right side by side with horizontal guide lines (rows of a
  well-rectified pair line up along them), for up to ``--previews`` frames spread over the sequence.
* ``preview.mp4``: every frame's preview when the source has more than ``MP4_MIN_FRAMES`` frames.

``--realtime`` paces frames at their recorded timestamps; otherwise frames run as fast as possible.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Dict, List, Optional

import cv2
import numpy as np

from .io.csvfile import write_csv
from .io.images import to_bgr

MP4_MIN_FRAMES = 10


def add_arguments(parser) -> None:
    from .pipeline.factory import add_pipeline_arguments

    parser.add_argument("path", help="dataset folder or video to replay")
    parser.add_argument("--out", required=True, help="output folder: new, empty, or an earlier replay's (its outputs are replaced)")
    parser.add_argument("--realtime", action="store_true",
                        help="run on the wall clock with threads (camera at its recorded rate); default: a "
                             "replay on the source clock using measured stage times (every display slot is "
                             "rendered; which camera frame a slot shows near a frame's completion can differ by "
                             "one between runs). With --realtime the outputs "
                             "are written on the display loop, so they set its pace (on a 2-core VM, 2026-12-04: "
                             "a display frame every 67 ms with PNGs, 33 ms with --no-png; `passthrough bench "
                             "pipeline` times the loop without writing)")
    parser.add_argument("--frames", type=int, default=None, help="stop after N display frames")
    parser.add_argument("--rectify-only", action="store_true",
                        help="only rectify: write side-by-side previews, preview.mp4 and frames.csv")
    parser.add_argument("--previews", type=int, default=8, help="how many rectified preview PNGs (--rectify-only)")
    parser.add_argument("--no-png", action="store_true", help="write eye videos only, no per-frame PNGs")
    parser.add_argument("--preview", action="store_true", help="show the eyes in a live window (needs a display)")
    parser.add_argument("--calibration", help="calibration JSON for a video or pairs folder without one")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (one is drawn only on a terminal)")
    add_pipeline_arguments(parser)


def side_by_side_preview(left: np.ndarray, right: np.ndarray, line_every: int = 32) -> np.ndarray:
    """uint8 left|right (H, 2W, 3) BGR with green horizontal lines every ``line_every`` rows."""
    sbs = np.hstack([to_bgr(left), to_bgr(right)])
    sbs[::line_every] = (0, 200, 0)
    return sbs


#: What ``--rectify-only`` writes besides ``frames.csv`` (:func:`replay`).
RECTIFY_ONLY_WRITES = ("preview.mp4", "preview_*.png")


def output_dir(path, reads=()) -> Path:
    """Create the output folder; refuse a path that is an existing file or a folder holding anything
    else than a previous replay's outputs (:class:`~passthrough.pipeline.outputs.ReplayWriter.WRITES` and
    :data:`RECTIFY_ONLY_WRITES`, see :func:`passthrough.io.out_folder.prepare_out_folder`) or holding what
    the run ``reads`` (files and folders), and remove those outputs (a shorter run leaves no stale frame
    behind)."""
    from .io.out_folder import prepare_out_folder
    from .pipeline.outputs import ReplayWriter

    frames = ("[0-9]*.png",)  # the eye folders hold the display frames, 000000.png, ...
    return prepare_out_folder(path, ReplayWriter.WRITES + RECTIFY_ONLY_WRITES,
                              folders={"left_eye": frames, "right_eye": frames}, reads=reads)


def replay(source, out: Path, realtime: bool = False, max_frames: Optional[int] = None, previews: int = 8,
           progress: bool = True) -> List[Dict[str, float]]:
    """Rectify every frame of ``source``, write previews/CSV/MP4 into ``out``; returns the CSV rows."""
    from .io.progress import progress_bar

    n = len(source) if max_frames is None else min(len(source), max_frames)
    preview_at = set(np.linspace(0, max(n - 1, 0), num=min(previews, n)).round().astype(int).tolist()) if n else set()
    rows: List[Dict[str, float]] = []
    writer = None
    t_wall0 = time.monotonic_ns()
    t_src0 = None
    bar = progress_bar(total=n, unit="frame", enabled=progress, desc="replay")
    try:
        for frame in source:
            if frame.index >= n:
                break
            if t_src0 is None:
                t_src0 = frame.t_left_ns
            if realtime:
                wait = (frame.t_left_ns - t_src0) - (time.monotonic_ns() - t_wall0)
                if wait > 0:
                    time.sleep(wait / 1e9)
            t0 = time.perf_counter_ns()
            left, right = frame.rectified()
            t1 = time.perf_counter_ns()
            sbs = side_by_side_preview(left, right)
            if frame.index in preview_at:
                cv2.imwrite(str(out / f"preview_{frame.index:06d}.png"), sbs)
            if n > MP4_MIN_FRAMES:
                if writer is None:
                    fps = source.rate_hz or 10.0
                    writer = cv2.VideoWriter(str(out / "preview.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), fps,
                                             (sbs.shape[1], sbs.shape[0]))
                writer.write(sbs)
            t2 = time.perf_counter_ns()
            rows.append({"index": frame.index, "t_left_ns": frame.t_left_ns, "t_right_ns": frame.t_right_ns,
                         "rectify_ms": (t1 - t0) / 1e6, "write_ms": (t2 - t1) / 1e6,
                         "wall_ns": time.monotonic_ns() - t_wall0})
            bar.update(1)
    finally:
        bar.close()
        if writer is not None:
            writer.release()
    write_csv(out / "frames.csv", rows, float_digits=3, columns=None if rows else ["index"])
    return rows


def run_pipeline_replay(source, out: Path, args) -> list:
    """Run the whole pipeline over ``source`` and write every output (see :mod:`.pipeline.outputs`)."""
    from .io.progress import progress_bar

    from .pipeline.factory import build_pipeline
    from .pipeline.outputs import ReplayWriter
    from .pipeline.scheduler import STILL_RATE_HZ, HandsSnapshot

    pipe = build_pipeline(source, args)
    cam_hz = source.rate_hz or STILL_RATE_HZ
    writer = ReplayWriter(out, args.display_hz, cam_hz, write_png=not args.no_png, preview=args.preview)
    est = args.frames or int(len(source) / cam_hz * args.display_hz) + 1
    bar = progress_bar(total=est, unit="frame", enabled=not args.no_progress, desc="replay")
    try:
        if args.realtime:
            def on_frame(*a):
                writer.on_frame(*a)
                bar.update(1)

            newest_hands = [None]  # the hand worker's newest result, drawn on the camera frames that follow it

            def on_hands(res):  # the display thread
                newest_hands[0] = HandsSnapshot([], int(res.t_capture_ns or 0), res)

            def on_camera(cam):  # the camera thread: depth.mp4, hands.mp4, camera_frames.csv
                writer.on_camera(cam, newest_hands[0])

            pipe.run_realtime(est, on_frame=on_frame, on_camera=on_camera, on_hands=on_hands, loop_source=False)
        else:
            pipe.run_virtual(args.frames, on_frame=writer.on_frame, on_camera=writer.on_camera, progress=bar)
        bar.total = bar.n  # the estimate was from the source's length; the bar ends at the frames made
        bar.refresh()
    finally:
        bar.close()
        writer.close()
    return pipe.records


def summarize(records, out: Path, source) -> str:
    disp = np.array([r["display_ms"] if isinstance(r, dict) else r.display_ms for r in records])
    rep = np.array([r.reproject_ms for r in records])
    miss = np.mean([r.deadline_missed for r in records])
    cams = len({r.camera_index for r in records})
    return (f"replayed {cams} camera frames of {source.format} into {len(records)} display frames; "
            f"display stage median {np.median(disp):.1f} ms (p99 {np.percentile(disp, 99):.1f}), reprojection "
            f"median {np.median(rep):.1f} ms, deadline misses {miss:.0%}; outputs in {out}")


def main(args) -> int:
    from .datasets import open_source

    from .io.out_folder import input_paths

    source = open_source(args.path, args.calibration)
    out = output_dir(args.out, reads=input_paths(args) + source.input_files())
    if args.rectify_only:
        rows = replay(source, out, realtime=args.realtime, max_frames=args.frames, previews=args.previews,
                      progress=not args.no_progress)
        if rows:
            med = float(np.median([r["rectify_ms"] for r in rows]))
            print(f"replayed {len(rows)} frames of {source.format} ({source.rig.summary()}); "
                  f"rectify median {med:.2f} ms; outputs in {out}")
        return 0
    records = run_pipeline_replay(source, out, args)
    if records:
        print(summarize(records, out, source))
    return 0
