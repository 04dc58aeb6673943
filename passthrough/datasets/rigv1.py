"""rig-v1 multi-view sets (``rig.json``): calibrated views of one static scene for view synthesis.

Format (``../shared/data/README.md``): ``width``, ``height``; ``cameras`` maps a name to
``{image, K (3x3 pixels), T_world_from_camera (4x4, OpenCV axes)}``; ``inputs`` ``{left, right}``;
``targets`` (camera names); optional ``ground_truth_disparity`` ``{image, view, scale, baseline,
invalid}`` (integer-coded disparity of ``view`` divided by ``scale``, for a horizontal shift of
``baseline``; ``invalid`` marks unknown pixels). Translations are metres or nominal units (``note``).

:class:`RigV1Source` is a one-frame :class:`~passthrough.datasets.base.FrameSource` of the two input
views (the rig: left input = head frame), and also exposes every camera, the targets and the ground
truth for ``passthrough eval reprojection``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np

from ..calibration import CameraModel, StereoRig, check_image_size, check_intrinsics, check_rig
from ..errors import InputError
from ..frames import StereoFrame
from ..geometry import invert_T
from ..io.images import read_image
from .base import FrameSource
from .pairs import is_own_rig_dict


@dataclass
class RigCamera:
    """One view of a rig-v1 set.

    Attributes:
        name: camera name (key in ``cameras``).
        image: path of its photo.
        K: (3, 3) float64 intrinsics in pixels.
        T_world_from_camera: (4, 4) float64 pose, OpenCV camera axes.
    """

    name: str
    image: Path
    K: np.ndarray
    T_world_from_camera: np.ndarray

    @property
    def centre(self) -> np.ndarray:
        """(3,) camera centre in world coordinates."""
        return self.T_world_from_camera[:3, 3]


def _is_number(v) -> bool:
    """A JSON number (not a boolean, not a string of digits)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _matrix(value, shape, where: Path, what: str) -> np.ndarray:
    """A ``rows x cols`` matrix written as a list of rows of JSON numbers, finite; else :class:`InputError`."""
    rows, cols = shape
    need = f"{what} must be a {rows}x{cols} matrix (a list of {rows} rows of {cols} numbers)"
    if not isinstance(value, list):
        raise InputError(where, f"{need}, got {json.dumps(value)[:40]}")
    if len(value) != rows:
        raise InputError(where, f"{need}, got {len(value)} rows")
    for r, row in enumerate(value):
        if not isinstance(row, list) or len(row) != cols:
            got = f"{len(row)} values" if isinstance(row, list) else json.dumps(row)[:40]
            raise InputError(where, f"{need}, row {r + 1} has {got}")
        for v in row:
            if not _is_number(v):
                raise InputError(where, f"{need}, row {r + 1} holds {json.dumps(v)[:40]}")
    arr = np.array(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise InputError(where, f"{what} must be a finite {shape[0]}x{shape[1]} matrix, has non-finite values")
    return arr


def read_rig_json(path) -> dict:
    """Parse and validate ``rig.json`` (or the folder holding it). Raises :class:`InputError`."""
    path = Path(path)
    if path.is_dir():
        path = path / "rig.json"
    if not path.is_file():
        raise InputError(path, "rig.json not found")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(path, f"not valid JSON ({e})") from None
    except OSError as e:
        raise InputError(path, f"cannot read ({e.strerror or e})") from None
    if not isinstance(data, dict):
        raise InputError(path, "rig.json must hold an object")
    if is_own_rig_dict(data):
        raise InputError(path, "holds a stereo-pairs calibration (left/right cameras), not a rig-v1 set")
    missing = [k for k in ("width", "height", "cameras", "inputs", "targets") if k not in data]
    if missing:
        raise InputError(path, f"missing key(s): {', '.join(missing)}")
    if data.get("format", "rig-v1") != "rig-v1":
        raise InputError(path, f"format {data.get('format')!r} is not rig-v1")
    return data


class RigV1Source(FrameSource):
    """A rig-v1 set (folder with ``rig.json``) as a one-frame stereo source plus its extra views.

    Attributes:
        cameras: name -> :class:`RigCamera`.
        inputs: ``(left_name, right_name)``.
        targets: names of the views to synthesise.
        size: ``(width, height)``.
        note: the set's ``note`` (units etc.).
    """

    format = "rig-v1"

    def __init__(self, path):
        path = Path(path)
        if path.is_file():
            path = path.parent
        data = read_rig_json(path)
        jpath = path / "rig.json"
        for k in ("width", "height"):
            if not _is_number(data[k]):
                raise InputError(jpath, f"{k} must be a number of pixels, got {json.dumps(data[k])[:40]}")
        self.size = check_image_size(data["width"], data["height"], jpath, "width/height")
        self.note = str(data.get("note", ""))
        cams = data["cameras"]
        if not isinstance(cams, dict) or not cams:
            raise InputError(jpath, "cameras must be a non-empty object")
        self.cameras: Dict[str, RigCamera] = {}
        for name, c in cams.items():
            if not isinstance(c, dict) or "image" not in c or "K" not in c or "T_world_from_camera" not in c:
                raise InputError(jpath, f"camera {name!r} needs image, K and T_world_from_camera")
            if not isinstance(c["image"], str) or not c["image"]:
                raise InputError(jpath, f"cameras.{name}.image must be a file name, got {json.dumps(c['image'])[:40]}")
            K = check_intrinsics(_matrix(c["K"], (3, 3), jpath, f"cameras.{name}.K"), jpath, f"cameras.{name}.K")
            T = _matrix(c["T_world_from_camera"], (4, 4), jpath, f"cameras.{name}.T_world_from_camera")
            if not np.allclose(T[3], [0, 0, 0, 1]) or not np.allclose(T[:3, :3] @ T[:3, :3].T, np.eye(3), atol=1e-5):
                raise InputError(jpath, f"cameras.{name}.T_world_from_camera is not a rigid transform")
            self.cameras[name] = RigCamera(name, path / c["image"], K, T)
        inp = data["inputs"]
        if not isinstance(inp, dict) or "left" not in inp or "right" not in inp:
            raise InputError(jpath, "inputs must be {left, right}")
        if not all(isinstance(inp[k], str) for k in ("left", "right")):
            raise InputError(jpath, "inputs.left and inputs.right must be camera names")
        if inp["left"] == inp["right"]:
            raise InputError(jpath, f"inputs.left and inputs.right are the same camera {inp['left']!r}")
        self.inputs: Tuple[str, str] = (inp["left"], inp["right"])
        targets = data["targets"]
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise InputError(jpath, f"targets must be a list of camera names, got {json.dumps(targets)[:40]}")
        if not targets:
            raise InputError(jpath, "targets is empty (no view to score)")
        self.targets: List[str] = list(targets)
        for n in list(self.inputs) + self.targets:
            if n not in self.cameras:
                raise InputError(jpath, f"camera {n!r} named in inputs/targets is not in cameras")
        for n in set(list(self.inputs) + self.targets):
            if not self.cameras[n].image.is_file():
                raise InputError(self.cameras[n].image, "image named in rig.json not found")
        self.gt = data.get("ground_truth_disparity")
        if self.gt is not None:
            need = ("image", "view", "scale", "baseline")
            if not isinstance(self.gt, dict) or any(k not in self.gt for k in need):
                raise InputError(jpath, "ground_truth_disparity needs image, view, scale, baseline")
            g = self.gt
            if not isinstance(g["image"], str) or not g["image"]:
                raise InputError(jpath, "ground_truth_disparity.image must be a file name")
            if not isinstance(g["view"], str) or g["view"] not in self.cameras:
                raise InputError(jpath, f"ground_truth_disparity.view {json.dumps(g['view'])[:40]} is not a camera")
            for k in ("scale", "baseline"):
                v = g[k]
                if not _is_number(v) or not np.isfinite(v) or v <= 0:
                    raise InputError(jpath, f"ground_truth_disparity.{k} must be a positive number, got {json.dumps(v)[:40]}")
            inv = g.get("invalid")
            if inv is not None and not _is_number(inv):
                raise InputError(jpath, f"ground_truth_disparity.invalid must be a number or null, got {json.dumps(inv)[:40]}")

        L, R = (self.cameras[n] for n in self.inputs)
        T_left_from_right = invert_T(L.T_world_from_camera) @ R.T_world_from_camera
        rig = StereoRig(CameraModel(L.K, np.zeros(0), "pinhole", self.size),
                        CameraModel(R.K, np.zeros(0), "pinhole", self.size),
                        np.eye(4), T_left_from_right, name=path.name)
        check_rig(rig, jpath)
        rig.calibrated = True
        super().__init__(path, rig)
        if self.gt is not None:
            self.ground_truth.append(f"disparity ({self.gt['view']})")
        self.ground_truth.append(f"target photos ({len(self.targets)})")
        if self.note:
            self.notes.append(self.note)
        self.notes.append(f"{len(self.cameras)} cameras, inputs {self.inputs[0]} + {self.inputs[1]}, "
                          f"targets {', '.join(self.targets)}")

    # ----------------------------------------------------------------------------------- access
    def read(self, name: str) -> np.ndarray:
        """The photo of camera ``name`` (uint8 BGR or gray as stored). Checks its size."""
        cam = self.cameras[name]
        img = read_image(cam.image)
        if img.shape[:2] != (self.size[1], self.size[0]):
            raise InputError(cam.image, f"size {img.shape[1]}x{img.shape[0]} differs from rig.json {self.size[0]}x{self.size[1]}")
        if img.dtype != np.uint8:
            raise InputError(cam.image, f"expected an 8-bit image, got {img.dtype}")
        return img

    def T_a_from_b(self, a: str, b: str) -> np.ndarray:
        """(4, 4) pose mapping points in camera ``b`` to camera ``a``."""
        return invert_T(self.cameras[a].T_world_from_camera) @ self.cameras[b].T_world_from_camera

    @property
    def inputs_rectified(self) -> bool:
        """True when the two inputs are a rectified horizontal pair: same rotation, the right camera along
        +x of the left, equal ``fx, fy, cy`` and skew (the principal points' x may differ:
        :attr:`inputs_doffs`)."""
        L, R = (self.cameras[n] for n in self.inputs)
        T = self.T_a_from_b(self.inputs[0], self.inputs[1])
        same_k = np.allclose([L.K[0, 0], L.K[1, 1], L.K[1, 2], L.K[0, 1]],
                             [R.K[0, 0], R.K[1, 1], R.K[1, 2], R.K[0, 1]], rtol=1e-6, atol=1e-9)
        return bool(same_k and np.allclose(T[:3, :3], np.eye(3), atol=1e-6)
                    and np.allclose(T[1:3, 3], 0, atol=1e-9 + 1e-6 * abs(T[0, 3])) and T[0, 3] > 0)

    @property
    def inputs_doffs(self) -> float:
        """``cx_right - cx_left`` of the inputs (px): depth ``z = f * B / (d + doffs)``."""
        L, R = (self.cameras[n] for n in self.inputs)
        return float(R.K[0, 2] - L.K[0, 2])

    def gt_disparity(self) -> Optional[Tuple[str, np.ndarray, float]]:
        """``(view, disparity float32 (H, W) in pixels with NaN unknown, baseline)`` or None."""
        if self.gt is None:
            return None
        p = self.path / str(self.gt["image"])
        raw = read_image(p, grayscale=False)
        if raw.ndim == 3:
            raw = raw[..., 0]
        if raw.shape != (self.size[1], self.size[0]):
            raise InputError(p, f"size {raw.shape[1]}x{raw.shape[0]} differs from rig.json")
        d = raw.astype(np.float32) / float(self.gt["scale"])
        inv = self.gt.get("invalid")
        if inv is not None:
            d[raw == inv] = np.nan
        return str(self.gt["view"]), d, float(self.gt["baseline"])

    def gt_depth(self) -> Optional[Tuple[str, np.ndarray]]:
        """``(view, z-depth float32 (H, W), NaN unknown)`` from the ground-truth disparity, or None."""
        g = self.gt_disparity()
        if g is None:
            return None
        view, d, baseline = g
        with np.errstate(divide="ignore", invalid="ignore"):
            z = self.cameras[view].K[0, 0] * baseline / d
        z[~(d > 0)] = np.nan
        return view, z.astype(np.float32)

    # ----------------------------------------------------------------------------------- FrameSource
    def input_files(self) -> List[Path]:
        """The set's folder, every camera's image and the ground-truth image (``rig.json`` may name files
        outside the folder, e.g. ``../other/view.png``)."""
        files = [self.path] + [c.image for c in self.cameras.values()]
        if self.gt is not None:
            files.append(self.path / str(self.gt["image"]))
        return files

    def __len__(self) -> int:
        return 1

    def __iter__(self) -> Iterator[StereoFrame]:
        left, right = self.read(self.inputs[0]), self.read(self.inputs[1])
        gt = None
        g = self.gt_disparity()
        if g is not None and g[0] == self.inputs[0]:
            base = np.linalg.norm(self.T_a_from_b(self.inputs[0], self.inputs[1])[:3, 3])
            gt = g[1] * float(base / g[2])
        yield StereoFrame(left, right, 0, 0, 0, self.rig, gt_disparity=gt, name=self.path.name)


def find_rig_sets(path) -> List[Path]:
    """The rig-v1 set folders at ``path``: the folder itself if it holds ``rig.json`` (or is one), else
    its sub-folders that do (sorted). Raises :class:`InputError` if there are none."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file or folder")
    if path.is_file():
        if path.name == "rig.json":
            return [path.parent]
        raise InputError(path, "expected a rig-v1 folder or rig.json")
    if (path / "rig.json").is_file():
        return [path]
    sets = sorted(p for p in path.iterdir() if p.is_dir() and (p / "rig.json").is_file())
    if not sets:
        raise InputError(path, "no rig.json here or in its sub-folders (not a rig-v1 set)")
    return sets
