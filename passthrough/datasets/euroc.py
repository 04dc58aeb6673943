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
import warnings
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import numpy as np
import yaml

from ..calibration import CameraModel, StereoRig, check_image_size, check_intrinsics, check_rig
from ..errors import InputError
from ..frames import StereoFrame
from ..geometry import make_T, quat_xyzw_to_R
from ..io.images import read_image
from .base import FrameSource, check_monotonic, load_numeric_lines, read_data_lines

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
        res = d["resolution"]
        if not isinstance(res, (list, tuple)) or len(res) != 2:
            raise ValueError(f"resolution must be [width, height], got {res!r}")
        dist = np.asarray(d.get("distortion_coefficients", []), dtype=np.float64)
    except (TypeError, ValueError, KeyError) as exc:
        raise InputError(path, f"bad calibration value ({exc})") from None
    w, h = check_image_size(res[0], res[1], path, "resolution")
    K = check_intrinsics([[fu, 0, cu], [0, fv, cv], [0, 0, 1.0]], path, "intrinsics")
    if not np.all(np.isfinite(T)):
        raise InputError(path, "T_BS is not finite numbers")
    if not np.all(np.isfinite(dist)):
        raise InputError(path, "distortion_coefficients are not finite numbers")
    dname = str(d.get("distortion_model", "none"))
    if dname not in DISTORTION_NAMES:
        raise InputError(path, f"unknown distortion_model {dname!r}")
    model = DISTORTION_NAMES[dname]
    if model == "pinhole":
        dist = np.zeros(0)
    try:
        cam = CameraModel(K, dist, model, (w, h))
    except ValueError as exc:
        raise InputError(path, str(exc)) from None
    rate = d.get("rate_hz", 0)
    try:
        if isinstance(rate, bool):
            raise ValueError
        rate = float(rate or 0)
    except (TypeError, ValueError):
        raise InputError(path, f"rate_hz {rate!r} is not a number") from None
    if not np.isfinite(rate) or rate < 0:
        raise InputError(path, f"rate_hz must be a positive frame rate, got {rate:g}")
    return cam, T, rate


def read_image_list(csv_path: Path) -> Tuple[np.ndarray, List[str]]:
    """``data.csv`` -> (timestamps int64 ns, file names). Checks strictly increasing timestamps."""
    if not csv_path.is_file():
        raise InputError(csv_path, "file not found")
    try:
        text = csv_path.read_text()
    except UnicodeDecodeError:
        raise InputError(csv_path, "not a text file (expected 'timestamp,filename' lines)") from None
    except OSError as exc:
        raise InputError(csv_path, f"cannot read ({exc.strerror or exc})") from None
    ts, names, numbers = [], [], []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 2:
            raise InputError(csv_path, f"line {n}: expected 'timestamp,filename'")
        try:
            t = int(parts[0])
        except ValueError:
            raise InputError(csv_path, f"line {n}: bad timestamp {parts[0]!r}") from None
        if not 0 <= t < 2 ** 63:
            raise InputError(csv_path, f"line {n}: timestamp {parts[0]} out of range (nanoseconds, 0 to 2^63 - 1)")
        ts.append(t)
        names.append(parts[1])
        numbers.append(n)
    if not ts:
        raise InputError(csv_path, "no frames listed (expected 'timestamp,filename' lines)")
    check_monotonic(ts, csv_path, numbers)
    return np.asarray(ts, dtype=np.int64), names


def _check_finite(d: np.ndarray, numbers: List[int], path: Path) -> None:
    """Every value of the table ``d`` (rows from file lines ``numbers``) finite, else :class:`InputError`
    naming the first offending line and column."""
    bad = np.nonzero(~np.all(np.isfinite(d), axis=1))[0]
    if bad.size:
        r = int(bad[0])
        c = int(np.nonzero(~np.isfinite(d[r]))[0][0])
        raise InputError(path, f"line {numbers[r]}: value {d[r, c]} in column {c + 1} is not a finite number")


def read_asl_table(path: Path, what: str, min_cols: int) -> Tuple[np.ndarray, np.ndarray, List[int]]:
    """:func:`read_asl_csv` plus the 1-based file line of every row."""
    lines, numbers = read_data_lines(path, what)
    if not lines:
        raise InputError(path, f"no data rows (empty {what})")
    return _asl_table(lines, numbers, path, what, min_cols)


def _asl_table(lines: List[str], numbers: List[int], path: Path, what: str,
               min_cols: int) -> Tuple[np.ndarray, np.ndarray, List[int]]:
    """:func:`read_asl_table` of the (non-empty) data lines of ``path``, already read."""
    d = load_numeric_lines(lines, numbers, path, what, delimiter=",")
    if d.shape[1] < min_cols:
        raise InputError(path, f"expected at least {min_cols} columns in a {what}, got {d.shape[1]}")
    _check_finite(d, numbers, path)
    bad = np.nonzero(~((d[:, 0] >= 0) & (d[:, 0] < 2 ** 63)))[0]
    if bad.size:
        raise InputError(path, f"line {numbers[int(bad[0])]}: timestamp out of range (nanoseconds, 0 to 2^63 - 1)")
    try:  # exact nanoseconds (float64 keeps only ~16 digits)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            t = np.loadtxt(lines, delimiter=",", usecols=0, dtype=np.int64, ndmin=1)
    except (ValueError, OverflowError):
        t = np.round(d[:, 0]).astype(np.int64)
    check_monotonic(t, path, numbers)
    return t, d, numbers


def read_asl_csv(path: Path, what: str, min_cols: int) -> Tuple[np.ndarray, np.ndarray]:
    """A numeric ASL CSV with a ``#`` header -> ``(t_ns int64 (N,) exact, values float64 (N, C))``: at
    least ``min_cols`` columns, every value finite, timestamps (column 0, ns) strictly increasing. Raises
    :class:`InputError` naming ``path`` and the 1-based file line ("no data rows" for a file without data
    rows, never numpy's warning)."""
    t, d, _ = read_asl_table(path, what, min_cols)
    return t, d


def read_numeric_csv(path: Path, what: str = "CSV", min_cols: int = 1) -> np.ndarray:
    """A timestamped ASL CSV -> float64 (N, C) (column 0 the timestamp in ns), checked as in
    :func:`read_asl_csv` (finite values, strictly increasing timestamps); use that for exact int64
    timestamps."""
    return read_asl_table(path, what, min_cols)[1]


def poses_from_rows(p_xyz: np.ndarray, q_xyzw: np.ndarray, path: Path,
                    lines: Optional[List[int]] = None) -> np.ndarray:
    """(N, 4, 4) poses from positions and quaternions; a non-finite or zero quaternion is an
    :class:`InputError` naming the pose (1-based) and, given ``lines`` (each pose's 1-based file line),
    its line."""
    norms = np.linalg.norm(q_xyzw, axis=1)
    for i in range(len(p_xyz)):
        where = f"line {lines[i]} (pose {i + 1})" if lines is not None else f"pose {i + 1}"
        if not (np.all(np.isfinite(p_xyz[i])) and np.all(np.isfinite(q_xyzw[i]))):
            raise InputError(path, f"{where}: position or quaternion is not finite")
        if norms[i] < 1e-12:
            raise InputError(path, f"{where}: quaternion is zero")
    return np.stack([make_T(quat_xyzw_to_R(q), p) for p, q in zip(p_xyz, q_xyzw)])


def read_tum_poses(path: Path) -> Tuple[np.ndarray, np.ndarray]:
    """TUM trajectory text (``t x y z qx qy qz qw``, t in seconds) -> (t_ns int64 (N,), T (N, 4, 4)).
    Checks finite values, non-zero quaternions and strictly increasing times; errors name the 1-based
    file line."""
    lines, numbers = read_data_lines(path, "TUM pose file")
    if not lines:
        raise InputError(path, "no poses (empty TUM pose file)")
    d = load_numeric_lines(lines, numbers, path, "TUM pose file")
    if d.shape[1] != 8:
        raise InputError(path, f"TUM poses need 8 columns, got {d.shape[1]}")
    bad = np.nonzero(~(np.abs(d[:, 0]) < 9e9))[0]
    if bad.size:
        i = int(bad[0])
        raise InputError(path, f"line {numbers[i]} (pose {i + 1}): bad time {float(d[i, 0])} (expected finite seconds)")
    T = poses_from_rows(d[:, 1:4], d[:, 4:8], path, numbers)
    t = np.round(d[:, 0] * 1e9).astype(np.int64)
    check_monotonic(t, path, numbers)
    return t, T


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


def _stored_image_size(cam_dir: Path) -> Optional[Tuple[Tuple[int, int], str]]:
    """``((width, height), file name)`` of the first image listed in ``cam_dir/data.csv``, or None where
    that cannot be read."""
    try:
        _, names = read_image_list(cam_dir / "data.csv")
        img = read_image(cam_dir / "data" / names[0])
    except InputError:
        return None
    return (img.shape[1], img.shape[0]), names[0]


def _size_mismatch(root: Path, sizes) -> InputError:
    """The error for cam0 and cam1 ``sensor.yaml`` giving different resolutions: it names the file whose
    resolution disagrees with the images stored for its camera, or both files when that is not one of
    them (both disagree, the stored images differ in size themselves, or they cannot be read)."""
    cams = ("cam0", "cam1")
    stored = [_stored_image_size(root / c) for c in cams]
    wrong = [k for k in (0, 1) if stored[k] is not None and stored[k][0] != sizes[k]]
    yaml = [f"{c}/sensor.yaml" for c in cams]
    says = [f"{w}x{h}" for w, h in sizes]
    if len(wrong) == 1:
        k = wrong[0]
        (w, h), name = stored[k]
        return InputError(root / cams[k] / "sensor.yaml",
                          f"resolution {says[k]} disagrees with the stored images ({cams[k]}/data/{name} is "
                          f"{w}x{h}) and with {yaml[1 - k]} ({says[1 - k]})")
    if None not in stored and not wrong:
        return InputError(root, f"cam0 and cam1 images differ in size (cam0/data/{stored[0][1]} is {says[0]}, "
                                f"cam1/data/{stored[1][1]} is {says[1]}): stereo needs both cameras the same size")
    return InputError(root, f"{yaml[0]} and {yaml[1]} disagree on the resolution ({says[0]} vs {says[1]}); "
                            "stereo needs both cameras the same size")


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
        if cl.size != cr.size:
            raise _size_mismatch(root, (cl.size, cr.size))
        try:
            rig = StereoRig(cl, cr, T_bl, T_br, name=path.name)
        except ValueError as exc:
            raise InputError(root / "cam1" / "sensor.yaml", str(exc)) from None
        check_rig(rig, root / "cam0" / "sensor.yaml", root / "cam1" / "sensor.yaml")
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
        self.imu = self._optional_csv(root / "imu0" / "data.csv", "IMU CSV (timestamp, w_xyz, a_xyz)", 7, "imu")
        self._gt_t = self._gt_T = None
        gt = root / "state_groundtruth_estimate0" / "data.csv"
        if gt.is_file():
            self._gt_t, g, numbers = read_asl_table(gt, "ground-truth CSV (timestamp, p_xyz, q_wxyz, ...)", 8)
            self._gt_T = poses_from_rows(g[:, 1:4], g[:, [5, 6, 7, 4]], gt, numbers)
            self.ground_truth.append("poses (state_groundtruth_estimate0)")
        elif (root / "groundtruth.txt").is_file() or (root.parent / "groundtruth.txt").is_file():
            tum = root / "groundtruth.txt" if (root / "groundtruth.txt").is_file() else root.parent / "groundtruth.txt"
            self._gt_t, self._gt_T = read_tum_poses(tum)
            self.ground_truth.append("poses (TUM groundtruth.txt)")
        self.leica = self._optional_csv(root / "leica0" / "data.csv", "Leica CSV (timestamp, p_xyz)", 4,
                                        "positions (leica0)")
        if self._gt_T is not None:
            covered = sum(p is not None for p in interpolate_poses(np.array([p[0] for p in pairs]), self._gt_t, self._gt_T))
            if covered < len(pairs):
                self.notes.append(f"ground-truth poses cover {covered} of {len(pairs)} frames")

    def _optional_csv(self, path: Path, what: str, min_cols: int, label: str) -> Optional[np.ndarray]:
        """An optional CSV the pipeline does not use (``imu0``, ``leica0``), read once and checked as
        :func:`read_numeric_csv` does, its ``label`` added to the ground truth; None where there is no
        file, and a file without samples is listed in the notes, not refused."""
        if not path.is_file():
            return None
        lines, numbers = read_data_lines(path, what)
        if not lines:
            self.notes.append(f"{path.parent.name}/{path.name} has no samples (ignored)")
            return None
        values = _asl_table(lines, numbers, path, what, min_cols)[1]
        self.ground_truth.append(label)
        return values

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
