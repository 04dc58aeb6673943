"""``passthrough info PATH``: what a dataset holds."""

from __future__ import annotations

import json
from pathlib import Path


def add_arguments(parser) -> None:
    parser.add_argument("path", help="dataset folder, rig.json, video file or hands.json folder")
    parser.add_argument("--calibration", help="calibration JSON for a video or pairs folder without one")
    parser.add_argument("--json", action="store_true", help="print the facts as JSON")


def describe(path, calibration=None) -> dict:
    """Facts about the dataset at ``path`` (any supported stereo layout, or a hand-keypoint set)."""
    from .datasets.handkp import is_hand_dataset, describe_hand_dataset

    path = Path(path)
    if is_hand_dataset(path):
        return describe_hand_dataset(path)
    from .datasets import open_source

    return open_source(path, calibration).describe()


def main(args) -> int:
    facts = describe(args.path, args.calibration)
    if args.json:
        print(json.dumps(facts, indent=2))
        return 0
    for key, value in facts.items():
        if isinstance(value, list):
            if not value:
                continue
            value = "; ".join(str(v) for v in value)
        if value is None:
            value = "n/a (stills)" if key == "rate_hz" else "n/a"
        print(f"{key:>13}: {value}")
    return 0
