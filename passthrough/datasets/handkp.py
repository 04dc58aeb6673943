"""Hand-keypoint photo sets (``hands.json`` + images), as in ``../shared/data/hands``.

``hands.json`` is a list of ``{dataset, image, kp2d: [[x, y] or null] * 21, bbox_xyxy}`` with image
paths relative to the folder; joints follow MediaPipe's 21-joint order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List

from ..errors import InputError
from ..io.jsonfile import read_json

NUM_JOINTS = 21


def hand_dataset_root(path: Path):
    """The folder holding ``hands.json`` for ``path`` (that folder, the file itself, or an image folder up
    to two levels below it), or None."""
    path = Path(path)
    if path.is_file():
        return path.parent if path.name == "hands.json" else None
    for cand in (path, path.parent, path.parent.parent):
        if (cand / "hands.json").is_file():
            return cand
    return None


def is_hand_dataset(path: Path) -> bool:
    return hand_dataset_root(path) is not None


def load_hand_annotations(path) -> List[Dict]:
    """Read and validate ``hands.json`` (folder or file). Returns the entries with ``image`` resolved to
    an absolute :class:`Path`. Raises :class:`InputError` naming the file for malformed entries."""
    path = Path(path)
    jf = path if path.is_file() else path / "hands.json"
    entries = read_json(jf, expect=list)
    out = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or "image" not in e or "kp2d" not in e:
            raise InputError(jf, f"entry {i}: needs 'image' and 'kp2d'")
        if len(e["kp2d"]) != NUM_JOINTS:
            raise InputError(jf, f"entry {i}: kp2d has {len(e['kp2d'])} joints, expected {NUM_JOINTS}")
        img = jf.parent / e["image"]
        if not img.is_file():
            raise InputError(img, f"image named in {jf.name} entry {i} not found")
        out.append({**e, "image": img})
    return out


def describe_hand_dataset(path) -> Dict[str, object]:
    """Facts for ``passthrough info``; ``path`` may be the set's folder, its ``hands.json`` or an image
    folder inside it (then only the hands whose images lie under that folder are counted)."""
    path = Path(path).resolve()
    root = hand_dataset_root(path)
    entries = load_hand_annotations(root)
    if path.is_dir() and path != root.resolve():
        entries = [e for e in entries if path in Path(e["image"]).resolve().parents]
    per = {}
    for e in entries:
        per[e.get("dataset", "?")] = per.get(e.get("dataset", "?"), 0) + 1
    images = {e["image"] for e in entries}
    return {
        "path": str(path),
        "format": "hand-keypoints (hands.json)",
        "frames": len(images),
        "hands": len(entries),
        "datasets": [f"{k}: {v}" for k, v in sorted(per.items())],
        "ground_truth": ["2-D keypoints (21 joints, MediaPipe order)", "hand bounding boxes"],
    }
