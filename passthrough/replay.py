"""``passthrough replay``: run a recorded source through the pipeline stages and write what they made.

Outputs in ``--out DIR``:

* ``frames.csv``: one row per frame: index, capture timestamps (ns), per-stage times (ms).
* ``preview_<index>.png``: rectified left|right side by side with horizontal guide lines (rows of a
  well-rectified pair line up along them), for up to ``--previews`` frames spread over the sequence.
* ``preview.mp4``: every frame's preview when the source has more than ``MP4_MIN_FRAMES`` frames.

``--realtime`` paces frames at their recorded timestamps; otherwise frames run as fast as possible.
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import cv2
import numpy as np

from .errors import InputError
from .io.images import to_bgr

MP4_MIN_FRAMES = 10


def add_arguments(parser) -> None:
    parser.add_argument("path", help="dataset folder or video to replay")
    parser.add_argument("--out", required=True, help="output folder (created; existing files in it are kept)")
    parser.add_argument("--realtime", action="store_true", help="pace frames at their recorded timestamps")
    parser.add_argument("--frames", type=int, default=None, help="stop after N frames")
    parser.add_argument("--previews", type=int, default=8, help="how many preview PNGs to write (default 8)")
    parser.add_argument("--calibration", help="calibration JSON for a video or pairs folder without one")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def side_by_side_preview(left: np.ndarray, right: np.ndarray, line_every: int = 32) -> np.ndarray:
    """uint8 left|right (H, 2W, 3) BGR with green horizontal lines every ``line_every`` rows."""
    sbs = np.hstack([to_bgr(left), to_bgr(right)])
    sbs[::line_every] = (0, 200, 0)
    return sbs


def output_dir(path) -> Path:
    """Create the output folder; refuse a path that is an existing file."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise InputError(out, "output path exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    return out


def replay(source, out: Path, realtime: bool = False, max_frames: Optional[int] = None, previews: int = 8,
           progress: bool = True) -> List[Dict[str, float]]:
    """Rectify every frame of ``source``, write previews/CSV/MP4 into ``out``; returns the CSV rows."""
    from tqdm import tqdm

    n = len(source) if max_frames is None else min(len(source), max_frames)
    preview_at = set(np.linspace(0, max(n - 1, 0), num=min(previews, n)).round().astype(int).tolist()) if n else set()
    rows: List[Dict[str, float]] = []
    writer = None
    t_wall0 = time.monotonic_ns()
    t_src0 = None
    bar = tqdm(total=n, unit="frame", disable=not progress, file=sys.stderr, desc="replay")
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
    with open(out / "frames.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()) if rows else ["index"])
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.3f}" if isinstance(v, float) else v) for k, v in r.items()})
    return rows


def main(args) -> int:
    from .datasets import open_source

    source = open_source(args.path, args.calibration)
    out = output_dir(args.out)
    rows = replay(source, out, realtime=args.realtime, max_frames=args.frames, previews=args.previews,
                  progress=not args.no_progress)
    if rows:
        med = float(np.median([r["rectify_ms"] for r in rows]))
        print(f"replayed {len(rows)} frames of {source.format} ({source.rig.summary()}); "
              f"rectify median {med:.2f} ms; outputs in {out}")
    return 0
