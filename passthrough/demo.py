"""``passthrough demo``: the main job. Runs the whole pipeline on the embedded default data (real
first-person OAK-D stereo from the pinned ``stereodemo`` wheel, see :mod:`passthrough.demo_data`) with a
scripted head path (``sway``) and the default holograms, and writes the replay outputs to ``./demo-out``."""

from __future__ import annotations

from pathlib import Path

#: The first-person pairs the demo plays, in order (each is shown for 1 / STILL_RATE_HZ seconds).
DEMO_PAIRS = ("pov_hands", "pov_controllers", "desk", "living_room")


def add_arguments(parser) -> None:
    from .pipeline.factory import add_pipeline_arguments

    parser.add_argument("--out", default="demo-out", help="output folder (default ./demo-out)")
    parser.add_argument("--source", default=None, help="replay this dataset instead of the embedded OAK-D pairs")
    parser.add_argument("--all-pairs", action="store_true", help="play all 12 OAK-D pairs, not only the first-person ones")
    parser.add_argument("--frames", type=int, default=None, help="stop after N display frames")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (one is drawn only on a terminal)")
    parser.add_argument("--no-png", action="store_true", help="write eye videos only, no per-frame PNGs")
    parser.add_argument("--preview", action="store_true", help="show the eyes in a live window (needs a display)")
    add_pipeline_arguments(parser)
    parser.set_defaults(head_path="sway")


def main(args) -> int:
    from .datasets import open_source
    from .datasets.pairs import PairsFolderSource
    from .demo_data import demo_source_path
    from .replay import output_dir, run_pipeline_replay, summarize

    if args.source:
        source = open_source(args.source)
    else:
        source = PairsFolderSource(demo_source_path(), only=None if args.all_pairs else DEMO_PAIRS)
    out = output_dir(args.out)
    args.realtime = False
    records = run_pipeline_replay(source, out, args)
    print(summarize(records, out, source))
    print(f"demo outputs: {Path(out).resolve()} (left_eye.mp4, right_eye.mp4, depth.mp4, hands.mp4, "
          f"contact_sheet.png, frames.csv)")
    return 0
