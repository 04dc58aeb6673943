"""Camera and stereo-rig calibration: intrinsics, distortion, extrinsics and rectification.

Conventions (see :mod:`passthrough.geometry`): camera frames use OpenCV axes (+x right, +y down,
+z forward); extrinsics are 4x4 ``T_head_from_camera`` (float64) in metres; image sizes are
``(width, height)`` in pixels; ``K`` is the 3x3 pinhole matrix ``[[fx, 0, cx], [0, fy, cy], [0, 0, 1]]``.

Distortion models
-----------------
* ``"pinhole"``: no distortion (``dist`` empty).
* ``"radtan"``: OpenCV / Kalibr radial-tangential ``(k1, k2, p1, p2[, k3])``.
* ``"fisheye"``: equidistant (Kalibr ``equidistant``, OpenCV ``cv2.fisheye``) ``(k1, k2, k3, k4)``.

Rectification is computed once per rig (``cv2.stereoRectify`` or ``cv2.fisheye.stereoRectify``) and
cached as fixed-point remap tables. After rectification both cameras share the rotation of the
*rectified left* frame, rows correspond, and a pixel ``(x, y)`` in the left rectified image matches
``(x - d, y)`` in the right one, with depth ``z = focal * baseline / (d + doffs)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Tuple

import cv2
import numpy as np

from .errors import InputError
from .geometry import invert_T, make_T

DISTORTION_MODELS = ("pinhole", "radtan", "fisheye")

#: Largest image side accepted from a calibration file: ``cv2.remap``'s fixed-point maps address at most
#: 32767 pixels, and nothing this project reads comes near it.
MAX_IMAGE_SIDE = 32767
#: Largest stereo baseline accepted (metres, or a format's nominal units): anything longer is not a head
#: or vehicle rig but a corrupt number.
MAX_BASELINE = 1000.0
#: Least share of a rectified image that must be usable: sampled from inside the source camera's image,
#: where the map does not fold the image over (step backwards against its own direction). Real
#: calibrations' maps (``stereoRectify`` with ``alpha=0``, fisheye ``balance=0``) are usable nearly
#: everywhere (EuRoC 100 %; a strong barrel polynomial that turns back in the image corners 97 %); absurd
#: coefficients send most of the image outside the source or fold it (EuRoC cam0 with k1 = -50: 86 %
#: outside; k1 = 1e6: 75 % outside).
MIN_RECTIFIED_USABLE = 0.5
#: Largest magnification from a source image to its rectified image, along either axis (the part of the
#: source the rectified image draws on, against the image size): real rigs stay well below (EuRoC 1.2x, a
#: wide-angle pair toed out by 46 degrees 3x, a fisheye pair toed out as much 5x); huge coefficients
#: shrink the rectified view to a few source pixels (k2 = 1e4: a 15x12 px patch of 752x480).
MAX_RECTIFY_ZOOM = 10.0


def scale_intrinsics(K: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """(3, 3) intrinsics of an image resized by ``sx`` horizontally and ``sy`` vertically (OpenCV pixel
    convention: pixel centres at integer coordinates, so ``c' = (c + 0.5) * s - 0.5``). Returns float64."""
    K2 = np.array(K, dtype=np.float64)
    K2[0, 0] *= sx
    K2[0, 2] = (K2[0, 2] + 0.5) * sx - 0.5
    K2[1, 1] *= sy
    K2[1, 2] = (K2[1, 2] + 0.5) * sy - 0.5
    return K2


def check_image_size(width, height, path, what: str = "image size") -> Tuple[int, int]:
    """``(width, height)`` from a calibration file as positive whole numbers of pixels (ints, integral
    floats or their strings; at most :data:`MAX_IMAGE_SIDE`). Raises :class:`InputError` naming ``path``."""
    out = []
    for name, v in (("width", width), ("height", height)):
        try:
            if isinstance(v, (bool, np.bool_)):
                raise TypeError
            f = float(v)
        except (TypeError, ValueError):
            raise InputError(path, f"{what}: {name} {v!r} is not a number") from None
        if not np.isfinite(f) or f != round(f) or f < 1:
            raise InputError(path, f"{what}: {name} must be a positive whole number of pixels, got {v!r}")
        if f > MAX_IMAGE_SIDE:
            raise InputError(path, f"{what}: implausible {name} {v!r} (more than {MAX_IMAGE_SIDE} px)")
        out.append(int(f))
    return out[0], out[1]


def check_intrinsics(K, path, what: str = "camera") -> np.ndarray:
    """A pinhole matrix from a calibration file: finite, positive focal lengths, last row ``[0, 0, 1]``.
    Returns it as (3, 3) float64; raises :class:`InputError` naming ``path``."""
    K = np.asarray(K, dtype=np.float64).reshape(3, 3)
    if not np.all(np.isfinite(K)):
        raise InputError(path, f"{what}: intrinsics are not finite numbers")
    fx, fy = float(K[0, 0]), float(K[1, 1])
    if fx <= 0 or fy <= 0:
        raise InputError(path, f"{what}: focal length must be positive, got fx={fx:g}, fy={fy:g}")
    if not np.allclose(K[2], [0, 0, 1]):
        raise InputError(path, f"{what}: intrinsics' last row must be [0, 0, 1], got {K[2].tolist()}")
    return K


def check_rig(rig: "StereoRig", path, right_path=None) -> "StereoRig":
    """Refuse a rig built from a calibration file whose geometry cannot be used: non-finite or
    non-positive focal lengths, a principal point more than an image size outside the image, bad image
    sizes or distortion, non-rigid or non-finite poses, a zero,
    non-finite or implausible (> :data:`MAX_BASELINE`) baseline, a right camera that lies to the left of
    the left one (a swapped pair) or mostly above, below, in front of or behind it (not side by side), a fisheye camera paired with a non-fisheye one, or distortion whose
    rectification maps cannot be used (:func:`check_rectification`).

    Every reader calls this where it builds the rig, with the calibration file's path (``right_path``:
    the right camera's own file, where it has one). Returns ``rig``; raises :class:`InputError`."""
    right_path = path if right_path is None else right_path
    rig.calibration_files = (Path(path), Path(right_path))
    for cam, side, where in ((rig.left, "left", path), (rig.right, "right", right_path)):
        K = check_intrinsics(cam.K, where, f"{side} camera")
        w, h = check_image_size(cam.size[0], cam.size[1], where, f"{side} camera image size")
        if not (-w <= K[0, 2] <= 2 * w and -h <= K[1, 2] <= 2 * h):  # far outside: a corrupt number
            raise InputError(where, f"{side} camera: principal point ({K[0, 2]:g}, {K[1, 2]:g}) lies far outside "
                                    f"the {w}x{h} image")
        if not np.all(np.isfinite(cam.dist)):
            raise InputError(where, f"{side} camera: distortion coefficients are not finite")
    if (rig.left.model == "fisheye") != (rig.right.model == "fisheye"):
        raise InputError(right_path, f"left camera is {rig.left.model}, right is {rig.right.model}: "
                                     "mixed fisheye / non-fisheye rigs are not supported")
    for T, side, where in ((rig.T_head_from_left, "left", path), (rig.T_head_from_right, "right", right_path)):
        T = np.asarray(T, dtype=np.float64)
        if T.shape != (4, 4) or not np.all(np.isfinite(T)):
            raise InputError(where, f"{side} camera pose is not a finite 4x4 matrix")
        if not np.allclose(T[3], [0, 0, 0, 1]) or not np.allclose(T[:3, :3] @ T[:3, :3].T, np.eye(3), atol=1e-5):
            raise InputError(where, f"{side} camera pose is not a rigid transform")
    with np.errstate(over="ignore", invalid="ignore"):
        c = (invert_T(rig.T_head_from_left) @ rig.T_head_from_right)[:3, 3]  # right centre, left frame
    if not np.all(np.isfinite(c)):
        raise InputError(path, "stereo baseline is not finite")
    if np.max(np.abs(c)) > MAX_BASELINE:
        raise InputError(path, f"implausible stereo baseline {np.max(np.abs(c)):g} (more than {MAX_BASELINE:g} m)")
    b = float(np.linalg.norm(c))
    if b < 1e-6:
        raise InputError(path, "left and right cameras are at the same position (zero baseline)")
    if c[0] < 0 and abs(c[0]) >= max(abs(c[1]), abs(c[2])):
        raise InputError(path, f"right camera lies {-c[0]:g} m to the left of the left camera "
                               "(negative baseline: left and right swapped?)")
    if abs(c[0]) < max(abs(c[1]), abs(c[2])):  # rectification would make rows of a vertical / forward pair
        axis = "above or below" if abs(c[1]) >= abs(c[2]) else "in front of or behind"
        raise InputError(path, f"right camera lies {axis} the left one (offset {c[0]:+.3g}, {c[1]:+.3g}, {c[2]:+.3g} m "
                               "in the left camera's axes): a side-by-side pair is needed")
    check_rectification(rig, path, right_path)
    return rig


def _dist_text(cam: "CameraModel") -> str:
    return f"{cam.model} distortion [{', '.join(f'{v:.4g}' for v in cam.dist)}]"


def _map_usability(xy: np.ndarray, w: int, h: int):
    """Measure a remap table ``xy`` (H, W, 2: source pixel of each rectified pixel) on cells of 8 px (well
    above the fixed-point maps' 1/32 px): the share of cells sampling outside the ``w`` x ``h`` source, the
    share folded over (inside, but stepping backwards against the map's median direction), and the size
    ``(pw, ph)`` in source pixels of the patch the usable cells draw on."""
    s = 8 if min(xy.shape[:2]) >= 64 else 1
    g = xy[::s, ::s]
    gx, gy = g[..., 0], g[..., 1]
    inside = (gx >= -0.5) & (gx <= w - 0.5) & (gy >= -0.5) & (gy <= h - 0.5)
    du, dv = g[:-1, 1:] - g[:-1, :-1], g[1:, :-1] - g[:-1, :-1]
    cells_in = inside[:-1, :-1] & inside[:-1, 1:] & inside[1:, :-1]
    n = cells_in.size
    if n == 0:  # an image under two cells wide or high: nothing to measure
        return 0.0, 0.0, (float(w), float(h))
    if not cells_in.any():
        return 1.0, 0.0, (1.0, 1.0)
    # folded over: a step along the rectified row or column goes backwards against the image's own (median)
    # direction (a radial fold turns both; a huge zoom that collapses a cell to a point is not counted here)
    du_ref, dv_ref = np.median(du[cells_in], axis=0), np.median(dv[cells_in], axis=0)
    back = ((du @ du_ref) < 0) | ((dv @ dv_ref) < 0)
    outside, folded = 1 - cells_in.sum() / n, (cells_in & back).sum() / n
    usable = cells_in & ~back
    if not usable.any():
        return float(outside), float(folded), (1.0, 1.0)
    ux, uy = gx[:-1, :-1][usable], gy[:-1, :-1][usable]
    return float(outside), float(folded), (float(ux.max() - ux.min()) + 1, float(uy.max() - uy.min()) + 1)


def check_rectification(rig: "StereoRig", path, right_path=None) -> "StereoRig":
    """Refuse a rig whose rectification cannot be used, measured on its undistort/rectify maps (not on the
    coefficients, which are legitimately large in some lens models): the rectification is not finite, more
    than half of a rectified image (:data:`MIN_RECTIFIED_USABLE`) would sample outside its camera's image
    or where the maps fold the image over itself, or the rectified image shows a patch of the source
    magnified more than :data:`MAX_RECTIFY_ZOOM` times.

    Called by :func:`check_rig` (after the geometry checks); computes and caches the rectification. An
    already rectified rig passes at no cost. Returns ``rig``; raises :class:`InputError` naming the
    calibration file of the camera at fault (``right_path`` for the right camera)."""
    right_path = path if right_path is None else right_path
    sides = ((rig.left, "left", path), (rig.right, "right", right_path))
    # a joint failure is blamed on the distorted camera (the left one's file where both are)
    blame = right_path if rig.right.distorted and not rig.left.distorted else path
    try:
        with np.errstate(all="ignore"):
            rect = rig._rectification()
    except cv2.error as exc:
        rig._rect = None
        what = ((getattr(exc, "err", "") or str(exc)).strip().splitlines() or ["OpenCV error"])[0]
        raise InputError(blame, f"cannot rectify this calibration ({what})") from None
    if rect["maps"] is None:
        return rig
    if not (np.all(np.isfinite(rect["K"])) and np.all(np.isfinite(rect["R1"])) and np.isfinite(rect["baseline"])
            and rect["K"][0, 0] > 0 and rect["baseline"] > 0):
        rig._rect = None
        dist = "; ".join(f"{side} {_dist_text(cam)}" for cam, side, _ in sides if cam.distorted)
        raise InputError(blame, f"rectification of this calibration is not finite ({dist or 'no distortion'}): "
                                "not a usable calibration")
    for (m1, m2), (cam, side, where) in zip(rect["maps"], sides):
        w, h = cam.size
        outside, folded, (pw, ph) = _map_usability(cv2.convertMaps(m1, m2, cv2.CV_32FC2)[0], w, h)
        if outside + folded > 1 - MIN_RECTIFIED_USABLE:
            rig._rect = None
            parts = [f"{100 * outside:.0f}% from outside the {w}x{h} camera image"] if outside >= 0.005 else []
            parts += [f"{100 * folded:.0f}% where the distortion folds the image over itself"] if folded >= 0.005 else []
            raise InputError(where, f"{side} camera: {100 * (outside + folded):.0f}% of the rectified image would be "
                                    f"unusable ({' and '.join(parts)}; {_dist_text(cam)}): not a usable calibration")
        if max(w / pw, h / ph) > MAX_RECTIFY_ZOOM:
            rig._rect = None
            raise InputError(where, f"{side} camera: the rectified image magnifies a {pw:.0f}x{ph:.0f} px patch of "
                                    f"the {w}x{h} camera image (more than {MAX_RECTIFY_ZOOM:g}x; "
                                    f"{_dist_text(cam)}): not a usable calibration")
    return rig


@dataclass
class CameraModel:
    """One camera's intrinsics.

    Attributes:
        K: (3, 3) float64 pinhole matrix in pixels.
        dist: (N,) float64 distortion coefficients for ``model`` (empty for ``"pinhole"``).
        model: one of ``"pinhole"``, ``"radtan"``, ``"fisheye"``.
        size: ``(width, height)`` in pixels.
    """

    K: np.ndarray
    dist: np.ndarray
    model: str
    size: Tuple[int, int]

    def __post_init__(self) -> None:
        self.K = np.asarray(self.K, dtype=np.float64).reshape(3, 3)
        self.dist = np.asarray(self.dist, dtype=np.float64).reshape(-1)
        if self.model not in DISTORTION_MODELS:
            raise ValueError(f"unknown distortion model {self.model!r} (expected one of {DISTORTION_MODELS})")
        if self.model == "fisheye" and self.dist.size != 4:
            raise ValueError(f"fisheye distortion needs 4 coefficients, got {self.dist.size}")
        if self.model == "radtan" and self.dist.size not in (4, 5, 8):
            raise ValueError(f"radial-tangential distortion needs 4, 5 or 8 coefficients, got {self.dist.size}")
        self.size = (int(self.size[0]), int(self.size[1]))

    @property
    def distorted(self) -> bool:
        return self.model != "pinhole" and bool(np.any(self.dist != 0))

    @classmethod
    def pinhole(cls, fx: float, fy: float, cx: float, cy: float, size) -> "CameraModel":
        """Undistorted camera from focal lengths and principal point (pixels)."""
        return cls(np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1.0]]), np.zeros(0), "pinhole", size)

    def to_dict(self) -> dict:
        return {"K": self.K.tolist(), "dist": self.dist.tolist(), "model": self.model, "size": list(self.size)}

    @classmethod
    def from_dict(cls, d: dict) -> "CameraModel":
        return cls(np.array(d["K"]), np.array(d["dist"]), d["model"], tuple(d["size"]))


@dataclass
class StereoRig:
    """A calibrated stereo pair mounted on a head (or body) frame.

    Attributes:
        left, right: :class:`CameraModel` of each camera.
        T_head_from_left, T_head_from_right: (4, 4) float64 camera poses in the head frame, metres,
            OpenCV camera axes.
        doffs_px: for rigs that are already rectified with different principal points (Middlebury's
            ``doffs = cx1 - cx0``): disparity offset added before converting to depth. Recomputed as 0
            when the rig is rectified here (``cv2.CALIB_ZERO_DISPARITY``).
        name: free text used in summaries.
        calibrated: False when the source had no calibration and nominal values stand in for it.
        calibration_files: ``(left, right)`` paths of the calibration file(s) the rig was read from (set by
            :func:`check_rig`); None for a rig built in code. Errors about the user's data name them.
        rectify_alpha: ``cv2.stereoRectify``'s free scaling where a pinhole pair is rectified here: 0 (the
            readers' default) keeps only pixels both views fill, 1 keeps every camera pixel (black borders).

    The rig is *already rectified* when both cameras are undistorted pinholes with equal ``fx, fy, cy``,
    and the right camera is a pure +x translation of the left; then :meth:`rectify` returns the
    images unchanged (no resampling).
    """

    left: CameraModel
    right: CameraModel
    T_head_from_left: np.ndarray = field(default_factory=lambda: np.eye(4))
    T_head_from_right: np.ndarray = field(default_factory=lambda: np.eye(4))
    doffs_px: float = 0.0
    name: str = ""
    calibrated: bool = True
    calibration_files: Optional[Tuple[Path, Path]] = field(default=None, repr=False, compare=False)
    rectify_alpha: float = 0.0
    _rect: Optional[dict] = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.T_head_from_left = np.asarray(self.T_head_from_left, dtype=np.float64)
        self.T_head_from_right = np.asarray(self.T_head_from_right, dtype=np.float64)
        if self.left.size != self.right.size:
            raise ValueError(f"left and right cameras differ in size: {self.left.size} vs {self.right.size}")

    # ----------------------------------------------------------------------------------------- extrinsics
    @property
    def T_right_from_left(self) -> np.ndarray:
        """(4, 4) pose mapping left-camera points to the right camera."""
        return invert_T(self.T_head_from_right) @ self.T_head_from_left

    @property
    def is_prerectified(self) -> bool:
        """True if images from this rig need no resampling to be row-aligned."""
        L, R = self.left, self.right
        if L.distorted or R.distorted:
            return False
        T = self.T_right_from_left
        same_rows = np.allclose([L.K[0, 0], L.K[1, 1], L.K[1, 2]], [R.K[0, 0], R.K[1, 1], R.K[1, 2]], rtol=1e-6)
        pure_x = np.allclose(T[:3, :3], np.eye(3), atol=1e-9) and np.allclose(T[1:3, 3], 0, atol=1e-9) and T[0, 3] < 0
        return bool(same_rows and pure_x)

    # ------------------------------------------------------------------------------------- rectification
    def _rectification(self) -> dict:
        if self._rect is not None:
            return self._rect
        size = self.left.size
        if self.is_prerectified:
            K = self.left.K.copy()
            R1 = np.eye(3)
            baseline = -float(self.T_right_from_left[0, 3])
            doffs = float(self.right.K[0, 2] - self.left.K[0, 2]) if self.doffs_px == 0 else self.doffs_px
            self._rect = {"K": K, "R1": R1, "baseline": baseline, "doffs": doffs, "maps": None}
            return self._rect
        T = self.T_right_from_left
        R, t = T[:3, :3].copy(), T[:3, 3].reshape(3, 1).copy()
        L, Rc = self.left, self.right
        if L.model == "fisheye" or Rc.model == "fisheye":
            if L.model != Rc.model:
                raise ValueError("mixed fisheye / non-fisheye rigs are not supported")
            R1, R2, P1, P2, _Q = cv2.fisheye.stereoRectify(
                L.K, L.dist, Rc.K, Rc.dist, size, R, t, flags=cv2.CALIB_ZERO_DISPARITY,
                newImageSize=size, balance=0.0, fov_scale=1.0,
            )
            init = cv2.fisheye.initUndistortRectifyMap
        else:
            R1, R2, P1, P2, _Q, _r1, _r2 = cv2.stereoRectify(
                L.K, L.dist, Rc.K, Rc.dist, size, R, t, flags=cv2.CALIB_ZERO_DISPARITY, alpha=self.rectify_alpha
            )
            init = cv2.initUndistortRectifyMap
        maps = []
        for cam, Ri, Pi in ((L, R1, P1), (Rc, R2, P2)):
            m1, m2 = init(cam.K, cam.dist, Ri, Pi[:3, :3], size, cv2.CV_16SC2)
            maps.append((m1, m2))
        baseline = -float(P2[0, 3]) / float(P2[0, 0])
        self._rect = {"K": P1[:3, :3].copy(), "R1": R1, "baseline": baseline, "doffs": 0.0, "maps": maps}
        return self._rect

    def rectify(self, left: np.ndarray, right: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Rectify a raw pair (uint8 (H, W) or (H, W, 3), each of this rig's size). Returns new arrays
        (or the inputs themselves for a pre-rectified rig). Uses cached fixed-point remap tables.

        Images of another size than the calibration's (a camera or video that does not match the user's
        calibration file) raise :class:`InputError` naming that file; for a rig built in code without one,
        ``ValueError``."""
        for i, (img, cam, side) in enumerate(((left, self.left, "left"), (right, self.right, "right"))):
            if (img.shape[1], img.shape[0]) != cam.size:
                msg = f"{side} image is {img.shape[1]}x{img.shape[0]}, calibration says {cam.size[0]}x{cam.size[1]}"
                if self.calibration_files is None:
                    raise ValueError(msg)
                raise InputError(self.calibration_files[i], f"{side} image is {img.shape[1]}x{img.shape[0]}, but this "
                                                            f"calibration is for {cam.size[0]}x{cam.size[1]} images")
        rect = self._rectification()
        if rect["maps"] is None:
            return left, right
        (l1, l2), (r1, r2) = rect["maps"]
        return (
            cv2.remap(left, l1, l2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT),
            cv2.remap(right, r1, r2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT),
        )

    @property
    def K_rect(self) -> np.ndarray:
        """(3, 3) intrinsics of the rectified left camera (pixels)."""
        return self._rectification()["K"].copy()

    @property
    def K_rect_right(self) -> np.ndarray:
        """(3, 3) intrinsics of the rectified right camera: :attr:`K_rect` with the principal point
        :attr:`doffs` px further right (the same matrix when ``doffs`` is 0, as for rigs rectified here)."""
        K = self.K_rect
        K[0, 2] += self.doffs
        return K

    @property
    def focal_px(self) -> float:
        """Rectified focal length fx in pixels."""
        return float(self._rectification()["K"][0, 0])

    @property
    def baseline_m(self) -> float:
        """Distance between the rectified camera centres, metres (positive)."""
        return float(self._rectification()["baseline"])

    @property
    def doffs(self) -> float:
        """Disparity offset in pixels (``cx_right - cx_left`` of the rectified pair)."""
        return float(self._rectification()["doffs"])

    @property
    def rectified_size(self) -> Tuple[int, int]:
        """``(width, height)`` of rectified images."""
        return self.left.size

    @property
    def T_head_from_left_rect(self) -> np.ndarray:
        """(4, 4) pose of the rectified left camera in the head frame (OpenCV axes)."""
        R1 = self._rectification()["R1"]
        return self.T_head_from_left @ make_T(R1.T, np.zeros(3))

    @property
    def T_head_from_right_rect(self) -> np.ndarray:
        """(4, 4) pose of the rectified right camera: the rectified left shifted by +baseline along x."""
        return self.T_head_from_left_rect @ make_T(np.eye(3), [self.baseline_m, 0.0, 0.0])

    # ------------------------------------------------------------------------------ disparity <-> depth
    def disparity_to_depth(self, disparity: np.ndarray) -> np.ndarray:
        """Disparity (float, pixels, left rectified image) -> depth z in metres along the left rectified
        optical axis. Pixels with non-finite disparity or ``d + doffs <= 0`` get NaN. Returns float32."""
        d = np.asarray(disparity, dtype=np.float32) + np.float32(self.doffs)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.float32(self.focal_px * self.baseline_m) / d
        z[~(d > 0)] = np.nan
        return z

    def depth_to_disparity(self, depth_m: np.ndarray) -> np.ndarray:
        """Depth z (metres, left rectified frame) -> disparity in pixels; NaN where depth is not > 0."""
        z = np.asarray(depth_m, dtype=np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.float32(self.focal_px * self.baseline_m) / z - np.float32(self.doffs)
        d[~(z > 0)] = np.nan
        return d

    # ------------------------------------------------------------------------------------------ summary
    def summary(self) -> str:
        """One line: size, focal, baseline, distortion model."""
        w, h = self.left.size
        return (
            f"{w}x{h}, focal {self.focal_px:.1f} px, baseline {self.baseline_m * 1000:.1f} mm, "
            f"distortion {self.left.model if self.left.distorted else 'none'}"
            f"{'' if self.is_prerectified else ' (rectified on load)'}"
            + (f", doffs {self.doffs:.2f} px" if self.doffs else "")
        )

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "left": self.left.to_dict(),
            "right": self.right.to_dict(),
            "T_head_from_left": self.T_head_from_left.tolist(),
            "T_head_from_right": self.T_head_from_right.tolist(),
            "doffs_px": self.doffs_px,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "StereoRig":
        return cls(
            CameraModel.from_dict(d["left"]), CameraModel.from_dict(d["right"]),
            np.array(d["T_head_from_left"]), np.array(d["T_head_from_right"]), float(d.get("doffs_px", 0.0)),
            d.get("name", ""),
        )

    @classmethod
    def rectified_pair(cls, fx: float, fy: float, cx0: float, cx1: float, cy: float, size, baseline_m: float,
                       name: str = "") -> "StereoRig":
        """A rig whose images are already rectified (Middlebury, KITTI, OAK-D). ``cx1 - cx0`` is ``doffs``."""
        left = CameraModel.pinhole(fx, fy, cx0, cy, size)
        right = CameraModel.pinhole(fx, fy, cx1, cy, size)
        T_right = make_T(np.eye(3), [baseline_m, 0.0, 0.0])
        return cls(left, right, np.eye(4), T_right, doffs_px=float(cx1 - cx0), name=name)
