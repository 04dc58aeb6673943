"""The app-side rendering interface between the OpenXR frame loop and the pipeline's display stage.

Every frame the loop builds one :class:`EyeView` per eye from ``xrLocateViews`` (pose + field of view at the
predicted display time) and the eye's swapchain size, and asks a :class:`DisplayStage` for one
:class:`EyeImage` per eye. Conventions:

* ``T_world_from_eye`` (4, 4) float64 maps points of the eye frame with **OpenCV axes** (+x right, +y down,
  +z forward) to the world frame, which is the OpenXR reference space of the session (metres, **OpenXR
  axes**: +y up). Conversion is done by :func:`passthrough.geometry.xr_pose_to_T_world_from_eye_cv`.
* ``K`` (3, 3) float64 pinhole intrinsics of the eye image in pixels (OpenCV: pixel centres at integer
  coordinates, row 0 at the top), derived from the view's (asymmetric) field of view and the image size.
* Images are top-down (row 0 = top of the view) like every image in the project; the GL upload flips them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Protocol, Sequence, Tuple, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class EyeView:
    """One eye's view for one displayed frame.

    Attributes:
        index: 0 = left eye, 1 = right eye.
        T_world_from_eye: (4, 4) float64, eye with OpenCV axes -> world (OpenXR reference space).
        K: (3, 3) float64 intrinsics for an image of ``width`` x ``height`` pixels.
        width, height: eye image size in pixels (the swapchain size).
        fov: ``(angle_left, angle_right, angle_up, angle_down)`` in radians as OpenXR reports them
            (left and down are negative for a centred view).
        pose_xr: (7,) float64 ``[x, y, z, qx, qy, qz, qw]``: the raw OpenXR eye pose in the reference space.
    """

    index: int
    T_world_from_eye: np.ndarray
    K: np.ndarray
    width: int
    height: int
    fov: Tuple[float, float, float, float]
    pose_xr: np.ndarray


@dataclass
class EyeImage:
    """What the display stage gives for one eye.

    Attributes:
        rgb: uint8 (H, W, 3), RGB order, row 0 = top of the view. H, W = the eye view's height, width.
        depth_m: float32 (H, W) depth along the eye's optical axis (OpenCV +z) in metres; ``inf`` where
            nothing real is seen (holograms are then drawn over it).
    """

    rgb: np.ndarray
    depth_m: np.ndarray


@runtime_checkable
class DisplayStage(Protocol):
    """The pipeline stage that produces what each eye sees of the real world.

    ``render(eye_views, t_display_ns)`` is called once per rendered frame with the eye views for the
    predicted display time ``t_display_ns`` (runtime clock, nanoseconds) and must return one
    :class:`EyeImage` per eye view, in the same order, sized ``(view.height, view.width)``.
    It must not block for longer than a frame: a stage that is not ready returns its latest images.
    """

    def render(self, eye_views: Sequence[EyeView], t_display_ns: int) -> List[EyeImage]:
        ...


@runtime_checkable
class HandsConsumer(Protocol):
    """Optional for a display stage: take hand joints from the runtime (``XR_EXT_hand_tracking``).

    When the runtime tracks hands, ``update_hands(hands, t_display_ns)`` is called before each ``render`` with
    ``{"left": (26, 8) float64 or None, "right": ...}``: rows ``[x, y, z, qx, qy, qz, qw, radius]`` per
    ``XrHandJointEXT`` joint in the world frame (OpenXR reference space and axes), None for an untracked hand.
    A stage that gets these may skip its own hand tracker.
    """

    def update_hands(self, hands: dict, t_display_ns: int) -> None:
        ...


def intrinsics_from_fov(fov, width: int, height: int) -> np.ndarray:
    """Pinhole ``K`` (3, 3) float64 of an image of ``width`` x ``height`` covering an OpenXR field of view.

    Args:
        fov: ``(angle_left, angle_right, angle_up, angle_down)`` radians (OpenXR ``XrFovf`` order).
        width, height: image size in pixels.

    OpenCV convention: pixel centres at integer coordinates, so the image spans ``[-0.5, width - 0.5]``;
    +y down, so the top edge (``angle_up``) maps to ``v = -0.5``.
    """
    left, right, up, down = (float(a) for a in fov)
    tl, tr, tu, td = math.tan(left), math.tan(right), math.tan(up), math.tan(down)
    fx = width / (tr - tl)
    fy = height / (tu - td)
    cx = -tl * fx - 0.5
    cy = tu * fy - 0.5
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])


def gl_projection_from_fov(fov, near: float, far: float) -> np.ndarray:
    """OpenGL projection (4, 4) float64 (column-vector convention, clip z in [-1, 1]) for an OpenXR fov.

    Eye space is OpenXR/OpenGL (+y up, -z forward). Rendering with it into a swapchain image gives the
    OpenGL row order OpenXR expects (row 0 = bottom).
    """
    left, right, up, down = (float(a) for a in fov)
    tl, tr, tu, td = math.tan(left), math.tan(right), math.tan(up), math.tan(down)
    w, h = tr - tl, tu - td
    return np.array([
        [2.0 / w, 0.0, (tr + tl) / w, 0.0],
        [0.0, 2.0 / h, (tu + td) / h, 0.0],
        [0.0, 0.0, -(far + near) / (far - near), -2.0 * far * near / (far - near)],
        [0.0, 0.0, -1.0, 0.0],
    ])


def window_depth_coefficients(near: float, far: float):
    """``(a, b)`` float32 with window depth ``= a - b / z`` for metric depth z under
    :func:`gl_projection_from_fov` (before clamping to [0, 1])."""
    return np.float32(0.5 * (far + near) / (far - near) + 0.5), np.float32(far * near / (far - near))


def depth_m_to_window_depth(depth_m: np.ndarray, near: float, far: float, out: np.ndarray = None) -> np.ndarray:
    """Metric depth z (OpenCV +z, metres) -> OpenGL window depth in [0, 1] for :func:`gl_projection_from_fov`.

    ``0 <= z <= near`` -> 0; ``z >= far``, ``z < 0`` (behind the eye), ``±inf`` and NaN -> 1. Returns float32
    with the input's shape (into ``out`` when given).
    """
    z = np.asarray(depth_m, dtype=np.float32)
    a, b = window_depth_coefficients(near, far)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.divide(b, z, out=out)
        np.subtract(a, d, out=d)
    np.fmin(d, np.float32(1.0), out=d)  # NaN -> 1 (fmin ignores NaN), beyond far -> 1
    np.fmax(d, np.float32(0.0), out=d)  # closer than near (and z = 0) -> 0
    return d
