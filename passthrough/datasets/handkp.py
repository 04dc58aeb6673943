"""Hand-keypoint photo sets (``hands.json`` + images), as in ``../shared/data/hands``.

``hands.json`` is a list of ``{dataset, image, kp2d: [[x, y] or null] * 21, bbox_xyxy}`` with image
paths relative to the folder; joints follow MediaPipe's 21-joint order. :func:`load_hand_annotations`
checks every entry's field types (a joint ``[null, null]`` or with a null coordinate counts as null, i.e.
no ground truth; some null joints are a partly visible hand, all 21 null is refused; a NaN or infinite
coordinate is refused, as it would silently drop the joint from the metrics), and that every image path
stays inside the folder (no absolute paths, no ``..`` leading out of it).
"""

from __future__ import annotations

import json
import math
import posixpath
from pathlib import Path, PurePosixPath, PureWindowsPath
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
    if not entries:
        raise InputError(jf, "no annotations (empty list)")
    out = []
    for i, e in enumerate(entries):
        entry = f"entry {i + 1} of {len(entries)}"
        _check_entry(e, entry, jf)
        img = jf.parent / e["image"]
        if not img.is_file():
            raise InputError(img, f"image named in {jf.name} {entry} not found")
        out.append({**e, "image": img})
    return out


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _short(v) -> str:
    return json.dumps(v)[:40]


def _is_null_joint(k) -> bool:
    """A (type-checked) joint without ground truth: null, or a null coordinate."""
    return k is None or any(v is None for v in k)


def _check_image_path(name: str, entry: str, jf: Path) -> None:
    """An entry's image path must be relative to the folder of ``hands.json`` and stay inside it
    (checked on the text, so a folder that links its images from elsewhere still opens)."""
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).root:  # "/x", and "C:\\x", "\\x" from Windows
        raise InputError(jf, f"{entry}: image {json.dumps(name)} is an absolute path "
                             f"(image paths are relative to the folder of {jf.name})")
    norm = posixpath.normpath(name.replace("\\", "/"))
    if norm == ".." or norm.startswith("../"):
        raise InputError(jf, f"{entry}: image {json.dumps(name)} lies outside the folder of {jf.name} "
                             "(image paths are relative to it and stay inside it)")


def _check_entry(e, entry: str, jf: Path) -> None:
    """Field types of one ``hands.json`` entry; :class:`InputError` naming the file and the entry (``entry N of M``, counted from 1; joints keep MediaPipe's 0-20 numbering).
    A joint is ``[x, y]`` (finite pixels) or null (no ground truth; ``[null, null]``, as some converted
    sets write it, counts as null; NaN is refused: JSON has no NaN, and it would drop the joint unseen)."""
    if not isinstance(e, dict):
        raise InputError(jf, f"{entry}: expected an object {{dataset, image, kp2d, bbox_xyxy}}, got {_short(e)}")
    missing = [k for k in ("image", "kp2d", "bbox_xyxy") if k not in e]
    if missing:
        raise InputError(jf, f"{entry}: missing {', '.join(missing)}")
    if not isinstance(e["image"], str) or not e["image"]:
        raise InputError(jf, f"{entry}: image must be a file name, got {_short(e['image'])}")
    _check_image_path(e["image"], entry, jf)
    if "dataset" in e and not isinstance(e["dataset"], str):
        raise InputError(jf, f"{entry}: dataset must be a name, got {_short(e['dataset'])}")
    kp = e["kp2d"]
    if not isinstance(kp, list):
        raise InputError(jf, f"{entry}: kp2d must be a list of {NUM_JOINTS} joints, got {_short(kp)}")
    if len(kp) != NUM_JOINTS:
        raise InputError(jf, f"{entry}: kp2d has {len(kp)} joints, expected {NUM_JOINTS}")
    for j, k in enumerate(kp):
        if k is None:
            continue
        if not isinstance(k, list) or len(k) != 2 or not all(v is None or _is_number(v) for v in k):
            raise InputError(jf, f"{entry}: kp2d joint {j} must be [x, y] or null, got {_short(k)}")
        if any(v is not None and not math.isfinite(v) for v in k):
            raise InputError(jf, f"{entry}: kp2d joint {j} is not finite: {_short(k)}")
    if all(_is_null_joint(k) for k in kp):
        raise InputError(jf, f"{entry}: kp2d has no annotated joint (all {NUM_JOINTS} are null): "
                             "remove the entry or annotate at least one joint")
    b = e["bbox_xyxy"]
    if not isinstance(b, list) or len(b) != 4 or not all(_is_number(v) for v in b):
        raise InputError(jf, f"{entry}: bbox_xyxy must be [x0, y0, x1, y1], got {_short(b)}")
    if not all(math.isfinite(v) for v in b):
        raise InputError(jf, f"{entry}: bbox_xyxy is not finite: {_short(b)}")
    x0, y0, x1, y1 = b
    if x1 < x0 or y1 < y0 or max(x1 - x0, y1 - y0) <= 0:
        raise InputError(jf, f"{entry}: bbox_xyxy {_short(b)} is empty or inverted (needs x0 <= x1, y0 <= y1)")


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
