"""Folders of left/right image pairs with a calibration file (the OAK-D ``stereodemo`` layout and others).

Recognised pair names: ``<name>_left.<ext>`` / ``<name>_right.<ext>`` (also ``_L``/``_R``), or
sub-folders ``left/`` and ``right/`` with equal file names. Calibration files, first found wins:

* ``stereodemo_calibration.json`` (OAK-D): ``width, height, fx, fy, cx0, cx1, cy, baseline_meters``;
  the images are rectified already.
* ``rig.json`` / ``calibration.json``: this project's own format, :meth:`StereoRig.to_dict`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

from ..calibration import StereoRig
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


def load_calibration(path: Path, size=None) -> StereoRig:
    """Load a stereodemo or own-format JSON calibration file into a :class:`StereoRig`."""
    d = read_json(path, expect=dict)
    if "left" in d and "right" in d:
        try:
            return StereoRig.from_dict(d)
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(path, f"bad rig calibration ({exc})") from None
    keys = ("width", "height", "fx", "cx0", "cy", "baseline_meters")
    missing = [k for k in keys if k not in d]
    if missing:
        raise InputError(path, f"missing calibration key(s): {', '.join(missing)}")
    try:
        rig = StereoRig.rectified_pair(float(d["fx"]), float(d.get("fy", d["fx"])), float(d["cx0"]),
                                       float(d.get("cx1", d["cx0"])), float(d["cy"]),
                                       (int(d["width"]), int(d["height"])), float(d["baseline_meters"]), path.parent.name)
    except (TypeError, ValueError) as exc:
        raise InputError(path, f"bad calibration value ({exc})") from None
    return rig


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
