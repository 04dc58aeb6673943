"""KITTI readers: the 2015 stereo benchmark layout and the odometry layout.

KITTI 2015 (``image_2/`` left, ``image_3/`` right, ``disp_occ_0/`` and ``disp_noc_0/`` uint16 PNG ground
truth = disparity * 256, 0 = unknown; ``calib_cam_to_cam/*.txt`` with ``P_rect_02``/``P_rect_03``).
Only frames ``*_10.png`` have ground truth.

KITTI odometry (``image_0|image_l`` left, ``image_1|image_r`` right, ``calib.txt`` with rows ``P0: ...``
and ``P1: ...`` (3x4 row-major; some redistributions drop the labels), optional ``times.txt`` (seconds)
and ``poses.txt`` (3x4 row-major ``T_world_from_cam0`` per frame)). Images are rectified already:
baseline = ``-P1[0, 3] / P1[0, 0]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import numpy as np

from ..calibration import StereoRig, check_intrinsics, check_rig
from ..errors import InputError
from ..frames import StereoFrame
from ..io.images import read_image
from .base import FrameSource, check_monotonic, load_numeric_lines, nominal_timestamps, read_data_lines

KITTI_RATE_HZ = 10.0


def _first_dir(root: Path, names) -> Optional[Path]:
    for n in names:
        if (root / n).is_dir():
            return root / n
    return None


def is_kitti_odometry(path: Path) -> bool:
    return _first_dir(path, ("image_0", "image_l")) is not None and _first_dir(path, ("image_1", "image_r")) is not None


def is_kitti2015(path: Path) -> bool:
    return (path / "image_2").is_dir() and (path / "image_3").is_dir()


def parse_projection_rows(path: Path) -> dict:
    """Read a KITTI calib file into ``{label: (3, 4) array}``. Unlabelled rows get ``P0``, ``P1``, ...
    in order (the redistributed odometry excerpt stores P0 and P1 without labels). A labelled row that is
    not numbers is left out, unless it is a projection row (``P...``): the official KITTI 2015
    ``calib_cam_to_cam`` files start with ``calib_time: 09-Jan-2012 13:57:47``."""
    out = {}
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read calibration ({exc})") from None
    numbered = [(n, l.strip()) for n, l in enumerate(text.splitlines(), 1) if l.strip()]
    for k, (n, line) in enumerate(numbered):
        label = None
        if ":" in line:
            label, line = (s.strip() for s in line.split(":", 1))
        try:
            vals = np.array(line.split(), dtype=np.float64)
        except ValueError:
            if label is not None and not label.startswith("P"):
                continue  # a note such as calib_time
            raise InputError(path, f"line {n}: not numbers") from None
        if label is None:
            label = f"P{k}"
        if vals.size == 12:
            out[label] = vals.reshape(3, 4)
        else:
            out[label] = vals
    return out


def _text_table(path: Path, what: str, ndmin: int = 2) -> Tuple[np.ndarray, List[int]]:
    """:func:`load_text_table` plus the 1-based file line of every row."""
    lines, numbers = read_data_lines(path, what)
    if not lines:
        raise InputError(path, f"empty {what}")
    return load_numeric_lines(lines, numbers, path, what, ndmin=ndmin), numbers


def load_text_table(path: Path, what: str, ndmin: int = 2) -> np.ndarray:
    """A whitespace-separated numeric text file (``times.txt``, ``poses.txt``) as float64, with one-line
    errors: an empty file, a non-numeric row or ragged rows raise :class:`InputError` naming ``path`` and
    the 1-based file line (and numpy's "input contained no data" warning is never printed)."""
    return _text_table(path, what, ndmin)[0]


def read_poses_kitti(path: Path) -> np.ndarray:
    """``poses.txt``: one 3x4 row-major ``T_world_from_cam0`` per line -> (N, 4, 4) float64."""
    data, numbers = _text_table(path, "pose file")
    if data.shape[1] != 12:
        raise InputError(path, f"expected 12 numbers per line, got {data.shape[1]}")
    bad = np.nonzero(~np.all(np.isfinite(data), axis=1))[0]
    if bad.size:
        raise InputError(path, f"line {numbers[int(bad[0])]}: pose is not finite numbers")
    T = np.tile(np.eye(4), (data.shape[0], 1, 1))
    T[:, :3, :4] = data.reshape(-1, 3, 4)
    return T


def read_times_kitti(path: Path) -> np.ndarray:
    """``times.txt``: one time in seconds per line -> int64 ns. Refuses non-finite or absurd times
    (beyond the int64 nanosecond range) and times that do not increase."""
    data, numbers = _text_table(path, "timestamp file")
    if data.shape[1] != 1:
        raise InputError(path, f"expected one number per line, got {data.shape[1]}")
    t = data[:, 0]
    bad = np.nonzero(~(np.abs(t) < 9e9))[0]  # catches NaN and inf too
    if bad.size:
        raise InputError(path, f"line {numbers[int(bad[0])]}: bad time {float(t[bad[0]])} (expected finite seconds)")
    ts = np.round(t * 1e9).astype(np.int64)
    check_monotonic(ts, path, numbers)
    return ts


def _projection(P, label: str, path: Path) -> np.ndarray:
    """A KITTI ``P`` row as a finite (3, 4) matrix with a usable intrinsic part, else :class:`InputError`."""
    P = np.asarray(P, dtype=np.float64)
    if P.size != 12:
        raise InputError(path, f"{label} has {P.size} values, expected 12 (3x4 row-major)")
    P = P.reshape(3, 4)
    if not np.all(np.isfinite(P)):
        raise InputError(path, f"{label} is not finite numbers")
    check_intrinsics(P[:, :3], path, label)
    return P


def _rig_from_P(P_left: np.ndarray, P_right: np.ndarray, size, name: str, path: Path,
                labels=("P0", "P1")) -> StereoRig:
    P_left, P_right = _projection(P_left, labels[0], path), _projection(P_right, labels[1], path)
    fx, fy, cx0, cy = P_left[0, 0], P_left[1, 1], P_left[0, 2], P_left[1, 2]
    # P_right[0, 3] = -fx * baseline (relative to P_left's own translation)
    baseline = -(P_right[0, 3] - P_left[0, 3]) / P_right[0, 0]
    if baseline < 0:
        raise InputError(path, f"{labels[1]} gives a negative baseline ({baseline:g} m): the right camera's "
                               f"P[0, 3] must be -fx * baseline (left and right swapped?)")
    rig = StereoRig.rectified_pair(fx, fy, cx0, P_right[0, 2], cy, size, baseline, name=name)
    return check_rig(rig, path)


class KittiOdometrySource(FrameSource):
    """KITTI odometry sequence folder."""

    format = "kitti-odometry"
    rate_hz = KITTI_RATE_HZ

    def __init__(self, path):
        path = Path(path)
        self.left_dir = _first_dir(path, ("image_0", "image_l"))
        self.right_dir = _first_dir(path, ("image_1", "image_r"))
        self.left_files = sorted(self.left_dir.glob("*.png"))
        if not self.left_files:
            raise InputError(self.left_dir, "no PNG frames")
        first = read_image(self.left_files[0])
        size = (first.shape[1], first.shape[0])
        missing: List[str] = []
        calib = path / "calib.txt"
        if calib.is_file():
            P = parse_projection_rows(calib)
            if "P0" not in P or "P1" not in P:
                raise InputError(calib, "missing P0/P1 projection rows")
            rig = _rig_from_P(P["P0"], P["P1"], size, path.name, calib)
        else:
            missing.append("calib.txt")
            rig = StereoRig.rectified_pair(718.856, 718.856, size[0] / 2, size[0] / 2, size[1] / 2, size, 0.54, path.name)
            rig.calibrated = False
        super().__init__(path, rig)
        self.missing = missing
        n = len(self.left_files)
        times = path / "times.txt"
        if times.is_file():
            self.timestamps = read_times_kitti(times)
            if self.timestamps.size != n:
                raise InputError(times, f"{self.timestamps.size} timestamps for {n} frames")
            if n >= 2:  # the rate its times say (KITTI's own: ~10 Hz; synth --sequence writes 30 Hz)
                self.rate_hz = round(1e9 / float(np.median(np.diff(self.timestamps))), 3)
        else:
            self.timestamps = nominal_timestamps(n, KITTI_RATE_HZ)
            self.notes.append("no times.txt: nominal 10 Hz timestamps")
        self.poses = None
        if (path / "poses.txt").is_file():
            self.poses = read_poses_kitti(path / "poses.txt")
            self.ground_truth.append("poses")
            if len(self.poses) < n:
                raise InputError(path / "poses.txt", f"{len(self.poses)} poses for {n} frames")

    def __len__(self) -> int:
        return len(self.left_files)

    def frame_poses(self):
        """Ground-truth ``(t_ns, T_world_from_head)`` per frame from ``poses.txt`` (no image is read)."""
        if self.poses is None or len(self) < 2:
            return None
        return self.timestamps.copy(), self.poses[: len(self)].copy()

    def __iter__(self) -> Iterator[StereoFrame]:
        for i, lf in enumerate(self.left_files):
            rf = self.right_dir / lf.name
            if not rf.is_file():
                raise InputError(rf, "right frame missing")
            left, right = read_image(lf), read_image(rf)
            if (left.shape[1], left.shape[0]) != self.rig.left.size:
                w, h = self.rig.left.size
                raise InputError(lf, f"size {left.shape[1]}x{left.shape[0]} differs from the first frame "
                                     f"{self.left_files[0].name} ({w}x{h})")
            if left.shape[:2] != right.shape[:2]:
                raise InputError(rf, f"size {right.shape[1]}x{right.shape[0]} differs from left {left.shape[1]}x{left.shape[0]}")
            t = int(self.timestamps[i])
            T = self.poses[i] if self.poses is not None else None  # cam0 = head for KITTI
            yield StereoFrame(left, right, t, t, i, self.rig, T_world_from_head=T, name=lf.stem)


class Kitti2015Source(FrameSource):
    """KITTI 2015 stereo benchmark folder (training layout)."""

    format = "kitti2015"

    def __init__(self, path):
        path = Path(path)
        self.left_files = sorted((path / "image_2").glob("*_10.png")) or sorted((path / "image_2").glob("*.png"))
        if not self.left_files:
            raise InputError(path / "image_2", "no PNG frames")
        first = read_image(self.left_files[0])
        size = (first.shape[1], first.shape[0])
        missing = []
        calib_dir = path / "calib_cam_to_cam"
        self._calibs = {}
        if calib_dir.is_dir():
            for f in sorted(calib_dir.glob("*.txt")):
                self._calibs[f.stem] = f
        else:
            missing.append("calib_cam_to_cam/ (nominal focal 721 px, baseline 0.54 m used)")
        rig = self._rig_for(self.left_files[0].stem.split("_")[0], size)
        super().__init__(path, rig)
        self.missing = missing
        self.gt_dir = _first_dir(path, ("disp_occ_0", "disp_occ"))
        self.noc_dir = _first_dir(path, ("disp_noc_0", "disp_noc"))
        if self.gt_dir is not None:
            self.ground_truth.append("disparity")
        else:
            self.missing.append("disp_occ_0/")
        if self.noc_dir is not None:
            self.ground_truth.append("nonocc_mask")

    def _rig_for(self, scene: str, size) -> StereoRig:
        f = self._calibs.get(scene)
        if f is None:
            rig = StereoRig.rectified_pair(721.5377, 721.5377, 609.5593, 609.5593, 172.854, size, 0.5372, scene)
            rig.calibrated = False
            return rig
        P = parse_projection_rows(f)
        if "P_rect_02" not in P or "P_rect_03" not in P:
            raise InputError(f, "missing P_rect_02/P_rect_03")
        return _rig_from_P(P["P_rect_02"], P["P_rect_03"], size, scene, f, ("P_rect_02", "P_rect_03"))

    @staticmethod
    def _read_gt(path: Path, shape) -> np.ndarray:
        """A KITTI disparity PNG (uint16, single channel, disparity * 256, 0 = unknown) of image size
        ``shape`` (H, W) with at least one known pixel; :class:`InputError` naming the file otherwise."""
        raw = read_image(path)
        if raw.ndim != 2:
            raise InputError(path, f"disparity ground truth must be a single-channel image, got {raw.shape[2]} channels")
        if raw.dtype != np.uint16:
            raise InputError(path, f"disparity ground truth must be a 16-bit PNG (disparity * 256), got {raw.dtype}")
        if raw.shape != tuple(shape):
            raise InputError(path, f"size {raw.shape[1]}x{raw.shape[0]} differs from the image ({shape[1]}x{shape[0]})")
        if not np.any(raw > 0):
            raise InputError(path, "disparity ground truth has no valid pixels (all 0 = unknown)")
        return raw

    def __len__(self) -> int:
        return len(self.left_files)

    def __iter__(self) -> Iterator[StereoFrame]:
        for i, lf in enumerate(self.left_files):
            rf = self.path / "image_3" / lf.name
            if not rf.is_file():
                raise InputError(rf, "right frame missing")
            left, right = read_image(lf), read_image(rf)
            if left.shape[:2] != right.shape[:2]:
                raise InputError(rf, "left/right size mismatch")
            gt = mask = None
            if self.gt_dir is not None and (self.gt_dir / lf.name).is_file():
                raw = self._read_gt(self.gt_dir / lf.name, left.shape[:2])
                gt = np.where(raw > 0, raw.astype(np.float32) / 256.0, np.nan).astype(np.float32)
                if self.noc_dir is not None and (self.noc_dir / lf.name).is_file():
                    mask = self._read_gt(self.noc_dir / lf.name, left.shape[:2]) > 0
            rig = self._rig_for(lf.stem.split("_")[0], (left.shape[1], left.shape[0]))
            t = int(nominal_timestamps(i + 1)[-1])
            yield StereoFrame(left, right, t, t, i, rig, gt_disparity=gt, gt_mask_nonocc=mask, name=lf.stem)
