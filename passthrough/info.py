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
    from .datasets import detect_format, open_source

    if path.is_dir() and detect_format(path) is None:
        found = find_datasets(path)
        if found:
            return {"path": str(path), "format": "folder of datasets", "frames": len(found),
                    "datasets": [f"{p.relative_to(path)} ({fmt})" for p, fmt in found]}
    return open_source(path, calibration).describe()


def find_datasets(root: Path, depth: int = 3):
    """(path, format) of every dataset below ``root`` (not descending into a dataset), up to ``depth``."""
    from .datasets import detect_format
    from .datasets.handkp import hand_dataset_root

    out = []
    for p in sorted(q for q in root.iterdir() if q.is_dir()):
        if (p / "hands.json").is_file():
            out.append((p, "hand-keypoints"))
            continue
        fmt = detect_format(p)
        if fmt is not None:
            out.append((p, fmt))
        elif depth > 1 and hand_dataset_root(p) is None:
            out += find_datasets(p, depth - 1)
    return out


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
