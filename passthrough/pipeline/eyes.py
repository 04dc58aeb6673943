"""Where the user's eyes are relative to the cameras, and what each eye's view is.

Head frame: the camera rig's frame (OpenCV axes, metres). On a Quest-class headset the outward
cameras sit in front of the eyes; by default the eyes are centred between the rectified cameras,
``ipd`` apart (63 mm, the adult median) and ``eye_relief`` (90 mm) behind the camera plane. A live
OpenXR session replaces these with the runtime's measured per-eye poses (``xrLocateViews``).
Each eye renders a pinhole view with the cameras' rectified intrinsics unless told otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple

import numpy as np

from ..calibration import StereoRig
from ..geometry import make_T

DEFAULT_IPD_M = 0.063
DEFAULT_EYE_RELIEF_M = 0.09


@dataclass
class EyeView:
    """One eye for one display frame: ``T_world_from_eye`` (4x4, OpenCV eye axes), ``K`` (3x3 pixels)
    and ``size`` ``(width, height)``."""

    T_world_from_eye: np.ndarray
    K: np.ndarray
    size: Tuple[int, int]


def T_head_from_eyes(rig: StereoRig, ipd_m: float = DEFAULT_IPD_M,
                     eye_relief_m: float = DEFAULT_EYE_RELIEF_M) -> List[np.ndarray]:
    """(left, right) eye poses in the head frame, oriented like the rectified left camera: ``ipd_m`` apart
    along its x axis, centred on :func:`T_head_from_eye_centre`."""
    T_c = T_head_from_eye_centre(rig, eye_relief_m)
    return [T_c @ make_T(np.eye(3), [side * ipd_m / 2, 0.0, 0.0]) for side in (-1.0, 1.0)]


def T_head_from_eye_centre(rig: StereoRig, eye_relief_m: float = DEFAULT_EYE_RELIEF_M) -> np.ndarray:
    """The eyes' midpoint in the rig's head frame (4x4), oriented like the rectified left camera (OpenCV
    axes): halfway between the cameras along its x axis and ``eye_relief_m`` behind them (-z)."""
    return rig.T_head_from_left_rect @ make_T(np.eye(3), [rig.baseline_m / 2, 0.0, -eye_relief_m])


def eye_views(T_world_from_head: np.ndarray, T_head_from_eye: List[np.ndarray], K: np.ndarray,
              size) -> List[EyeView]:
    """Per-eye views for a head pose."""
    return [EyeView(T_world_from_head @ T, np.asarray(K, np.float64), tuple(size)) for T in T_head_from_eye]
