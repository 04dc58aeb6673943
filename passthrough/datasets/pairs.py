"""Folders of left/right image pairs with a calibration file (the OAK-D ``stereodemo`` layout and others).

Recognised pair names: ``<name>_left.<ext>`` / ``<name>_right.<ext>`` (also ``_L``/``_R``), or
sub-folders ``left/`` and ``right/`` with equal file names. Calibration files, first found wins:

* ``stereodemo_calibration.json`` (OAK-D): ``width, height, fx, fy, cx0, cx1, cy, baseline_meters``;
  the images are rectified already. ``_left`` is the left view, so ``baseline_meters`` is positive.
* ``rig.json`` / ``calibration.json``: this project's own format, :meth:`StereoRig.to_dict` (``left`` and
  ``right`` cameras, ``T_head_from_left``/``T_head_from_right``; the right camera lies to the right, +x,
  of the left). A ``rig.json`` of this kind (no ``"format": "rig-v1"``, no ``cameras``) makes its folder
  a pairs folder, not a rig-v1 set (:func:`is_own_rig_json`).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

from ..calibration import MAX_BASELINE, StereoRig, check_image_size, check_rig
from ..errors import InputError
from ..frames import StereoFrame
from ..io.images import read_image
from ..io.jsonfile import read_json
from .base import FrameSource, nominal_timestamps

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".pgm", ".ppm")
CALIB_NAMES = ("stereodemo_calibration.json", "rig.json", "calibration.json")
_PAIR_RE = re.compile(r"^(?P<name>.+?)[_-](?P<side>left|right|L|R)$")


def find_pairs(path: Path) -> List[Tuple[str, Path, Path]]:
    """(name, left_file, right_file) for every complete pair in ``path``, sorted by name."""
    if (path / "left").is_dir() and (path / "right").is_dir():
        out = []
        for lf in sorted(p for p in (path / "left").iterdir() if p.suffix.lower() in IMAGE_EXTS):
            rf = path / "right" / lf.name
            out.append((lf.stem, lf, rf))
        return out
    sides = {}
    for f in path.iterdir():
        if f.suffix.lower() not in IMAGE_EXTS:
            continue
        m = _PAIR_RE.match(f.stem)
        if m:
            side = "left" if m["side"].lower() in ("left", "l") else "right"
            sides.setdefault(m["name"], {})[side] = f
    return [(n, d["left"], d.get("right", d["left"].with_name(d["left"].name.replace("left", "right"))))
            for n, d in sorted(sides.items()) if "left" in d]


def find_calibration(path: Path) -> Optional[Path]:
    for n in CALIB_NAMES:
        if (path / n).is_file():
            return path / n
    return None


def is_own_rig_dict(d) -> bool:
    """True if parsed JSON ``d`` is this project's own stereo calibration (:meth:`StereoRig.to_dict`:
    ``left`` and ``right`` cameras) rather than a rig-v1 set (which has ``cameras`` and may say
    ``"format": "rig-v1"``)."""
    return isinstance(d, dict) and "left" in d and "right" in d and "cameras" not in d and "format" not in d


def is_own_rig_json(path: Path) -> bool:
    """:func:`is_own_rig_dict` of the JSON file at ``path``; unreadable or invalid files are not."""
    try:
        d = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return is_own_rig_dict(d)


def _number(d: dict, key: str, path: Path) -> float:
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise InputError(path, f"{key} must be a number, got {json.dumps(v)[:40]}")
    try:
        f = float(v)
    except ValueError:
        raise InputError(path, f"{key} must be a number, got {v!r}") from None
    if not math.isfinite(f):
        raise InputError(path, f"{key} is not a finite number ({v!r})")
    return f


def load_calibration(path: Path, size=None) -> StereoRig:
    """Load a stereodemo or own-format JSON calibration file into a :class:`StereoRig`. The geometry is
    checked (:func:`~passthrough.calibration.check_rig`); bad values raise :class:`InputError`."""
    path = Path(path)
    d = read_json(path, expect=dict)
    if "left" in d and "right" in d:
        for side in ("left", "right"):
            cam = d[side]
            if not isinstance(cam, dict):
                raise InputError(path, f"{side} must be a camera object {{K, dist, model, size}}")
            if "size" in cam:
                if not isinstance(cam["size"], list) or len(cam["size"]) != 2:
                    raise InputError(path, f"{side}.size must be [width, height], got {json.dumps(cam['size'])[:40]}")
                check_image_size(cam["size"][0], cam["size"][1], path, f"{side}.size")
        try:
            rig = StereoRig.from_dict(d)
        except (KeyError, ValueError, TypeError, OverflowError) as exc:
            raise InputError(path, f"bad rig calibration ({exc})") from None
        return check_rig(rig, path)
    keys = ("width", "height", "fx", "cx0", "cy", "baseline_meters")
    missing = [k for k in keys if k not in d]
    if missing:
        raise InputError(path, f"missing calibration key(s): {', '.join(missing)}")
    fx, cx0, cy = (_number(d, k, path) for k in ("fx", "cx0", "cy"))
    fy = _number(d, "fy", path) if "fy" in d else fx
    cx1 = _number(d, "cx1", path) if "cx1" in d else cx0
    w, h = check_image_size(d["width"], d["height"], path, "width/height")
    b = _number(d, "baseline_meters", path)
    if b <= 0:
        raise InputError(path, f"baseline_meters must be positive (the right camera's distance to the right "
                               f"of the left one), got {b:g}")
    if b > MAX_BASELINE:
        raise InputError(path, f"implausible baseline_meters {b:g} (more than {MAX_BASELINE:g} m)")
    rig = StereoRig.rectified_pair(fx, fy, cx0, cx1, cy, (w, h), b, path.parent.name)
    return check_rig(rig, path)


class PairsFolderSource(FrameSource):
    """A folder of rectified-or-raw stereo pairs plus a calibration file; each pair is one frame."""

    format = "stereo-pairs"

    def __init__(self, path, calibration: Optional[Path] = None, only: Optional[Sequence[str]] = None):
        path = Path(path)
        pairs = find_pairs(path)
        if only is not None:
            unknown = [n for n in only if n not in {p[0] for p in pairs}]
            if unknown:
                raise InputError(path, f"no pair named {', '.join(unknown)}")
            pairs = sorted((p for p in pairs if p[0] in only), key=lambda p: list(only).index(p[0]))
        if not pairs:
            raise InputError(path, "no left/right image pairs found")
        calib = Path(calibration) if calibration else find_calibration(path)
        if calib is None:
            raise InputError(path, f"no calibration file (expected one of {', '.join(CALIB_NAMES)})")
        rig = load_calibration(calib)
        super().__init__(path, rig)
        if calib.name == "stereodemo_calibration.json":
            self.format = "oakd-stereodemo"
        self.calibration_file = calib
        self.pairs = pairs

    def __len__(self) -> int:
        return len(self.pairs)

    def names(self) -> List[str]:
        return [n for n, _, _ in self.pairs]

    def __iter__(self) -> Iterator[StereoFrame]:
        ts = nominal_timestamps(len(self.pairs))
        for i, (name, lf, rf) in enumerate(self.pairs):
            if not rf.is_file():
                raise InputError(rf, f"right image of pair {name!r} missing")
            left, right = read_image(lf), read_image(rf)
            if left.shape[:2] != right.shape[:2]:
                raise InputError(rf, f"size {right.shape[1]}x{right.shape[0]} differs from {lf.name} ({left.shape[1]}x{left.shape[0]})")
            if (left.shape[1], left.shape[0]) != self.rig.left.size:
                raise InputError(lf, f"image is {left.shape[1]}x{left.shape[0]}, calibration {self.calibration_file.name} says "
                                     f"{self.rig.left.size[0]}x{self.rig.left.size[1]}")
            t = int(ts[i])
            yield StereoFrame(left, right, t, t, i, self.rig, name=name)
