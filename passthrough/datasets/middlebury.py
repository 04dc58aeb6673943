"""Middlebury 2014 / ETH3D two-view / SceneFlow-as-Middlebury layout.

A scene folder holds ``im0.png`` (left), ``im1.png`` (right) and ``calib.txt``; optionally
``disp0GT.pfm`` (left disparity, ``inf`` = unknown) and ``mask0nocc.png`` (255 = non-occluded).
``calib.txt`` lines: ``cam0=[f 0 cx0; 0 f cy; 0 0 1]``, ``cam1=[...]``, ``doffs=``, ``baseline=`` (mm),
``width=``, ``height=``, ``ndisp=``, ... Depth in metres: ``z = baseline_mm / 1000 * f / (d + doffs)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterator

import numpy as np

from ..calibration import StereoRig, check_image_size, check_intrinsics, check_rig
from ..errors import InputError
from ..frames import StereoFrame
from ..io.images import read_image
from ..io.pfm import read_pfm
from .base import FrameSource

REQUIRED_KEYS = ("cam0", "cam1", "baseline")


def is_middlebury_scene(path: Path) -> bool:
    return (path / "im0.png").is_file() and (path / "im1.png").is_file()


def parse_calib_txt(path: Path) -> Dict[str, object]:
    """Parse a Middlebury ``calib.txt``: matrices as (3, 3) float64 arrays, other values as float."""
    out: Dict[str, object] = {}
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read calibration ({exc})") from None
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if "=" not in line:
            raise InputError(path, f"line {n}: expected key=value, got {line[:40]!r}")
        key, value = (s.strip() for s in line.split("=", 1))
        try:
            if value.startswith("["):
                rows = [r.split() for r in value.strip("[]").split(";")]
                out[key] = np.array(rows, dtype=np.float64).reshape(3, 3)
            else:
                out[key] = float(value)
        except ValueError:
            raise InputError(path, f"line {n}: bad value for {key!r}: {value[:40]!r}") from None
    missing = [k for k in REQUIRED_KEYS if k not in out]
    if missing:
        raise InputError(path, f"missing calibration key(s): {', '.join(missing)}")
    return out


class MiddleburySource(FrameSource):
    """One Middlebury/ETH3D-layout scene as a one-frame source (``calib.txt`` may be missing: then a
    nominal rig with focal = width and a 1 m baseline is used and the lack is reported)."""

    format = "middlebury"

    def __init__(self, path):
        path = Path(path)
        calib_path = path / "calib.txt"
        left = read_image(path / "im0.png")
        h, w = left.shape[:2]
        self.calibration: Dict[str, object] = {}
        missing = []
        if calib_path.is_file():
            c = parse_calib_txt(calib_path)
            self.calibration = c
            K0 = check_intrinsics(c["cam0"], calib_path, "cam0")
            K1 = check_intrinsics(c["cam1"], calib_path, "cam1")
            cw, ch = check_image_size(c.get("width", w), c.get("height", h), calib_path, "width/height")
            if (cw, ch) != (w, h):
                raise InputError(calib_path, f"width/height {cw}x{ch} do not match im0.png ({w}x{h})")
            baseline_mm = float(c["baseline"])
            if not np.isfinite(baseline_mm) or baseline_mm <= 0:
                raise InputError(calib_path, f"baseline must be a positive distance in mm (im0 is the left "
                                             f"view), got {baseline_mm:g}")
            rig = StereoRig.rectified_pair(K0[0, 0], K0[1, 1], K0[0, 2], K1[0, 2], K0[1, 2], (w, h),
                                           baseline_mm / 1000.0, name=path.name)
            if "doffs" in c:
                if not np.isfinite(float(c["doffs"])):
                    raise InputError(calib_path, f"doffs is not a finite number: {c['doffs']!r}")
                if abs(float(c["doffs"]) - (K1[0, 2] - K0[0, 2])) > 1e-3:
                    rig.doffs_px = float(c["doffs"])
            check_rig(rig, calib_path)
            calibrated = True
        else:
            missing.append("calib.txt")
            rig = StereoRig.rectified_pair(w, w, (w - 1) / 2, (w - 1) / 2, (h - 1) / 2, (w, h), 1.0, name=path.name)
            calibrated = False
        rig.calibrated = calibrated
        super().__init__(path, rig)
        self.missing = missing
        self._left = left
        if (path / "disp0GT.pfm").is_file():
            self.ground_truth.append("disparity")
        if (path / "mask0nocc.png").is_file():
            self.ground_truth.append("nonocc_mask")
        ndisp = self.calibration.get("ndisp")
        if ndisp is not None and not self._usable_ndisp(ndisp):
            shown = int(ndisp) if np.isfinite(ndisp) else ndisp
            why = ">= width" if np.isfinite(ndisp) and ndisp >= w else "not a positive number"
            self.notes.append(f"ndisp={shown} is not a usable search range ({why})")

    def _usable_ndisp(self, n) -> bool:
        return n is not None and bool(np.isfinite(n)) and 1 <= n < self.rig.left.size[0]

    @property
    def ndisp(self):
        """Disparity search range from ``calib.txt`` if usable (1 <= ndisp < width), else None."""
        n = self.calibration.get("ndisp")
        return int(n) if self._usable_ndisp(n) else None

    def __len__(self) -> int:
        return 1

    def __iter__(self) -> Iterator[StereoFrame]:
        right = read_image(self.path / "im1.png")
        if right.shape[:2] != self._left.shape[:2]:
            raise InputError(self.path / "im1.png",
                             f"size {right.shape[1]}x{right.shape[0]} differs from im0.png ({self._left.shape[1]}x{self._left.shape[0]})")
        gt = mask = None
        if "disparity" in self.ground_truth:
            gt = read_pfm(self.path / "disp0GT.pfm")
            if gt.ndim != 2 or gt.shape != self._left.shape[:2]:
                raise InputError(self.path / "disp0GT.pfm", f"shape {gt.shape} does not match im0.png")
            gt = np.where(np.isfinite(gt), gt, np.nan).astype(np.float32)
        if "nonocc_mask" in self.ground_truth:
            m = read_image(self.path / "mask0nocc.png", grayscale=True)
            if m.shape != self._left.shape[:2]:
                raise InputError(self.path / "mask0nocc.png", f"shape {m.shape} does not match im0.png")
            mask = m == 255
        yield StereoFrame(self._left, right, 0, 0, 0, self.rig, gt_disparity=gt, gt_mask_nonocc=mask, name=self.path.name)
