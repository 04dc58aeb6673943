"""EuRoC MAV / ASL dataset layout (``mav0/cam0``, ``mav0/cam1``, ...).

Each camera folder holds ``data.csv`` (``#timestamp [ns],filename``), ``data/<timestamp>.png`` and
``sensor.yaml`` with ``T_BS`` (4x4 row-major, body <- sensor), ``resolution [w, h]``, ``camera_model``
(``pinhole``), ``intrinsics [fu, fv, cu, cv]``, ``distortion_model`` (``radial-tangential`` or
``equidistant``) and ``distortion_coefficients``. Some copies start with ``%YAML:1.0``; OpenCV-style
``!!opencv-matrix`` tags are accepted. The body frame is used as the head frame.

IMU (``imu0/data.csv``) and ground truth (``state_groundtruth_estimate0/data.csv`` as ASL CSV, or a TUM
trajectory ``groundtruth.txt`` (``t x y z qx qy qz qw``, seconds) in ``mav0`` or beside it; Leica
positions in ``leica0/data.csv``) are exposed when present; ground-truth poses are interpolated to frame
times where they overlap.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import numpy as np
import yaml

from ..calibration import CameraModel, StereoRig
from ..errors import InputError
from ..frames import StereoFrame
from ..geometry import make_T, quat_xyzw_to_R
from ..io.images import read_image
from .base import FrameSource, check_monotonic

DISTORTION_NAMES = {"radial-tangential": "radtan", "radtan": "radtan", "equidistant": "fisheye",
                    "fisheye": "fisheye", "none": "pinhole"}


def euroc_root(path: Path) -> Optional[Path]:
    """The ``mav0`` folder of an ASL dataset at or directly under ``path``, or None."""
    for cand in (path, path / "mav0"):
        if (cand / "cam0" / "data.csv").is_file() or (cand / "cam0" / "sensor.yaml").is_file():
            return cand
    return None


def read_sensor_yaml(path: Path) -> dict:
    """Load a Kalibr/ASL ``sensor.yaml`` (tolerates ``%YAML:1.0`` and ``!!opencv-matrix`` tags)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read ({exc})") from None
    text = re.sub(r"^%YAML[: ]?\d\.\d\s*\n", "", text)
    text = text.replace("!!opencv-matrix", "")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise InputError(path, f"invalid YAML{f' at line {line + 1}' if line is not None else ''}") from None
    if not isinstance(data, dict):
        raise InputError(path, "not a YAML mapping")
    return data


def camera_from_sensor_yaml(path: Path) -> Tuple[CameraModel, np.ndarray, float]:
    """Parse a camera ``sensor.yaml`` -> (CameraModel, T_body_from_sensor (4, 4), rate_hz)."""
    d = read_sensor_yaml(path)
    for key in ("T_BS", "intrinsics", "resolution"):
        if key not in d:
            raise InputError(path, f"missing calibration key {key!r}")
    try:
        T = np.asarray(d["T_BS"]["data"] if isinstance(d["T_BS"], dict) else d["T_BS"], dtype=np.float64).reshape(4, 4)
        fu, fv, cu, cv = (float(v) for v in d["intrinsics"])
        w, h = (int(v) for v in d["resolution"])
        dist = np.asarray(d.get("distortion_coefficients", []), dtype=np.float64)
    except (TypeError, ValueError, KeyError) as exc:
        raise InputError(path, f"bad calibration value ({exc})") from None
    dname = str(d.get("distortion_model", "none"))
    if dname not in DISTORTION_NAMES:
        raise InputError(path, f"unknown distortion_model {dname!r}")
    model = DISTORTION_NAMES[dname]
    if model == "pinhole":
        dist = np.zeros(0)
    try:
        cam = CameraModel(np.array([[fu, 0, cu], [0, fv, cv], [0, 0, 1.0]]), dist, model, (w, h))
    except ValueError as exc:
        raise InputError(path, str(exc)) from None
    return cam, T, float(d.get("rate_hz", 0) or 0)


def read_image_list(csv_path: Path) -> Tuple[np.ndarray, List[str]]:
    """``data.csv`` -> (timestamps int64 ns, file names). Checks strictly increasing timestamps."""
    if not csv_path.is_file():
        raise InputError(csv_path, "file not found")
    ts, names = [], []
    for n, line in enumerate(csv_path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 2:
            raise InputError(csv_path, f"line {n}: expected 'timestamp,filename'")
        try:
            ts.append(int(parts[0]))
        except ValueError:
            raise InputError(csv_path, f"line {n}: bad timestamp {parts[0]!r}") from None
        names.append(parts[1])
    check_monotonic(ts, csv_path)
    return np.asarray(ts, dtype=np.int64), names


def read_numeric_csv(path: Path) -> np.ndarray:
    """A numeric ASL CSV with a ``#`` header -> float64 (N, C); column 0 is the timestamp in ns
    (kept exactly in a separate int64 array by callers that need it)."""
    try:
        return np.loadtxt(path, delimiter=",", comments="#", ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise InputError(path, f"bad CSV ({exc})") from None


def read_tum_poses(path: Path) -> Tuple[np.ndarray, np.ndarray]:
    """TUM trajectory text (``t x y z qx qy qz qw``, t in seconds) -> (t_ns int64 (N,), T (N, 4, 4))."""
    try:
        d = np.loadtxt(path, comments="#", ndmin=2)
    except ValueError as exc:
        raise InputError(path, f"bad TUM pose file ({exc})") from None
    if d.shape[1] != 8:
        raise InputError(path, f"TUM poses need 8 columns, got {d.shape[1]}")
    T = np.stack([make_T(quat_xyzw_to_R(r[4:8]), r[1:4]) for r in d])
    return np.round(d[:, 0] * 1e9).astype(np.int64), T


def interpolate_poses(t_query_ns: np.ndarray, t_ns: np.ndarray, T: np.ndarray) -> List[Optional[np.ndarray]]:
    """Interpolate poses (linear position, normalised-lerp rotation) at query times; None outside."""
    out: List[Optional[np.ndarray]] = []
    from ..geometry import R_to_quat_xyzw

    for tq in t_query_ns:
        if len(t_ns) == 0 or tq < t_ns[0] or tq > t_ns[-1]:
            out.append(None)
            continue
        j = int(np.searchsorted(t_ns, tq))
        if t_ns[j] == tq:
            out.append(T[j].copy())
            continue
        i = j - 1
        a = (tq - t_ns[i]) / float(t_ns[j] - t_ns[i])
        qa, qb = R_to_quat_xyzw(T[i][:3, :3]), R_to_quat_xyzw(T[j][:3, :3])
        if np.dot(qa, qb) < 0:
            qb = -qb
        q = (1 - a) * qa + a * qb
        out.append(make_T(quat_xyzw_to_R(q), (1 - a) * T[i][:3, 3] + a * T[j][:3, 3]))
    return out


class EurocSource(FrameSource):
    """A EuRoC/ASL recording (``mav0`` folder or its parent)."""

    format = "euroc-asl"

    def __init__(self, path):
        path = Path(path)
        root = euroc_root(path)
        if root is None:
            raise InputError(path, "not an ASL dataset (no mav0/cam0/data.csv)")
        self.root = root
        cams = []
        for cam in ("cam0", "cam1"):
            if not (root / cam).is_dir():
                raise InputError(root / cam, "camera folder missing (stereo needs cam0 and cam1)")
            cams.append(camera_from_sensor_yaml(root / cam / "sensor.yaml"))
        (cl, T_bl, rate), (cr, T_br, _) = cams
        try:
            rig = StereoRig(cl, cr, T_bl, T_br, name=path.name)
        except ValueError as exc:
            raise InputError(root / "cam1" / "sensor.yaml", str(exc)) from None
        super().__init__(path, rig)
        self.rate_hz = rate or None
        tl, nl = read_image_list(root / "cam0" / "data.csv")
        tr, nr = read_image_list(root / "cam1" / "data.csv")
        # pair left and right by timestamp (the VI-sensor triggers both cameras together)
        idx_r = {t: k for k, t in enumerate(tr)}
        pairs = []
        for k, t in enumerate(tl):
            j = idx_r.get(t)
            if j is None and len(tr):
                jj = int(np.argmin(np.abs(tr - t)))
                period = 1e9 / (self.rate_hz or 20.0)
                j = jj if abs(int(tr[jj]) - int(t)) < period / 2 else None
            if j is not None:
                pairs.append((int(t), nl[k], int(tr[j]), nr[j]))
        if not pairs:
            raise InputError(root / "cam1" / "data.csv", "no cam1 frame matches a cam0 timestamp")
        self.pairs = pairs
        self.imu = self.groundtruth = None
        if (root / "imu0" / "data.csv").is_file():
            self.imu = read_numeric_csv(root / "imu0" / "data.csv")
            self.ground_truth.append("imu")
        self._gt_t = self._gt_T = None
        gt = root / "state_groundtruth_estimate0" / "data.csv"
        if gt.is_file():
            g = read_numeric_csv(gt)
            if g.shape[1] < 8:
                raise InputError(gt, f"expected timestamp, p_xyz, q_wxyz columns, got {g.shape[1]} columns")
            self._gt_t = g[:, 0].astype(np.int64)
            self._gt_T = np.stack([make_T(quat_xyzw_to_R([r[5], r[6], r[7], r[4]]), r[1:4]) for r in g])
            self.ground_truth.append("poses (state_groundtruth_estimate0)")
        elif (root / "groundtruth.txt").is_file() or (root.parent / "groundtruth.txt").is_file():
            tum = root / "groundtruth.txt" if (root / "groundtruth.txt").is_file() else root.parent / "groundtruth.txt"
            self._gt_t, self._gt_T = read_tum_poses(tum)
            check_monotonic(self._gt_t, tum)
            self.ground_truth.append("poses (TUM groundtruth.txt)")
        if (root / "leica0" / "data.csv").is_file():
            self.ground_truth.append("positions (leica0)")
        if self._gt_T is not None:
            covered = sum(p is not None for p in interpolate_poses(np.array([p[0] for p in pairs]), self._gt_t, self._gt_T))
            if covered < len(pairs):
                self.notes.append(f"ground-truth poses cover {covered} of {len(pairs)} frames")

    def __len__(self) -> int:
        return len(self.pairs)

    def _poses_at_frames(self) -> List[Optional[np.ndarray]]:
        t_left = np.array([p[0] for p in self.pairs], dtype=np.int64)
        return interpolate_poses(t_left, self._gt_t, self._gt_T) if self._gt_T is not None else [None] * len(self.pairs)

    def frame_poses(self):
        """Ground-truth ``(t_ns, T_world_from_head)`` at every frame (interpolated; no image is read), or
        None when the ground truth does not cover every frame."""
        poses = self._poses_at_frames()
        if len(poses) < 2 or any(p is None for p in poses):
            return None
        return np.array([p[0] for p in self.pairs], dtype=np.int64), np.stack(poses)

    def __iter__(self) -> Iterator[StereoFrame]:
        poses = self._poses_at_frames()
        for i, (tl, nl, tr, nr) in enumerate(self.pairs):
            lf, rf = self.root / "cam0" / "data" / nl, self.root / "cam1" / "data" / nr
            left, right = read_image(lf), read_image(rf)
            for img, f, cam in ((left, lf, self.rig.left), (right, rf, self.rig.right)):
                if (img.shape[1], img.shape[0]) != cam.size:
                    raise InputError(f, f"image is {img.shape[1]}x{img.shape[0]}, sensor.yaml says {cam.size[0]}x{cam.size[1]}")
            yield StereoFrame(left, right, tl, tr, i, self.rig, T_world_from_head=poses[i], name=str(tl))
