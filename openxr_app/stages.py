"""Display stages for the OpenXR app.

:class:`ProjectedImageStage` shows one fixed RGB-D image (a real photo with its real depth) as a 3-D point
set placed in the world where the head was at the first frame, reprojected into each eye every frame with
the eye's pose and a pinhole model. It is a complete, cheap stage for testing the XR path before the real
pipeline stage is plugged in: eye poses from ``xrLocateViews`` change what each eye sees (parallax with the
IPD, head motion), and the depth goes to the depth test of holograms.

:class:`RawCameraStage` shows each eye its camera's rectified image raw, as-is (no depth, no reprojection): the
"camera as-is" baseline of ``passthrough eval reprojection`` in the headset, and the lightest stage there is
(its images are made once), so a run with it shows what the runtime and the machine can pace on their own.

``STAGE_FACTORIES`` maps ``passthrough run --stage NAME`` to a factory ``f(source_path) -> DisplayStage``;
the real pipeline registers itself there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from passthrough.calibration import scale_intrinsics
from passthrough.errors import InputError
from passthrough.geometry import invert_T, transform_points
from passthrough.io.images import to_rgb

from .display import DisplayStage, EyeImage, EyeView


def head_pose_from_eyes(eye_views: Sequence[EyeView]) -> np.ndarray:
    """Head pose ``T_world_from_head`` (4, 4, OpenCV axes): midpoint of the eyes, orientation of eye 0."""
    T = np.array(eye_views[0].T_world_from_eye, dtype=np.float64)
    T[:3, 3] = np.mean([v.T_world_from_eye[:3, 3] for v in eye_views], axis=0)
    return T


def backproject(depth_m: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Pixels with finite positive depth -> 3-D points (N, 3) float64 in the camera frame (OpenCV axes).

    Args:
        depth_m: (H, W) depth along +z in metres; non-finite or <= 0 pixels are skipped.
        K: (3, 3) intrinsics of that image.
    Returns the points in row-major pixel order of the valid pixels.
    """
    h, w = depth_m.shape
    v, u = np.mgrid[0:h, 0:w]
    ok = np.isfinite(depth_m) & (depth_m > 0)
    z = depth_m[ok].astype(np.float64)
    x = (u[ok] - K[0, 2]) / K[0, 0] * z
    y = (v[ok] - K[1, 2]) / K[1, 1] * z
    return np.stack([x, y, z], axis=1)


def splat(points_eye: np.ndarray, colors: np.ndarray, K: np.ndarray, width: int, height: int,
          near: float = 0.05, T_eye_from_points: np.ndarray = None) -> EyeImage:
    """Forward-project points into an image with painter's order (later points overwrite earlier ones).

    Args:
        points_eye: (N, 3) float32/float64 points in the eye frame (OpenCV axes), or in another frame when
            ``T_eye_from_points`` (4, 4) is given; ordered far to near as seen from roughly this viewpoint so
            that nearer points win where several land on one pixel.
        colors: (N, 3) uint8 RGB per point.
        K: (3, 3) eye intrinsics (pixel centres at integer coordinates); width, height: eye image size.
        near: points closer than this (metres) are dropped.
    Returns an :class:`EyeImage`: black / ``inf`` where no point lands.
    """
    pts = np.asarray(points_eye, dtype=np.float32)
    K = np.asarray(K, dtype=np.float64)
    # Pixel-homogeneous coordinates straight from the points' frame: P = K [R | t]. (The matmul goes to BLAS:
    # run with OPENBLAS_NUM_THREADS=1, as scripts/xr-runtime and openxr_app.cli do, or BLAS worker threads
    # spin after each call and take CPU from a CPU compositor.)
    T = np.eye(4) if T_eye_from_points is None else np.asarray(T_eye_from_points, dtype=np.float64)
    P = (K @ T[:3, :4]).astype(np.float32)
    uvw = pts @ np.ascontiguousarray(P[:, :3].T)
    uvw += P[:, 3]
    z = uvw[:, 2]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inv = np.float32(1.0) / z
        # +0.5 then truncation = rounding for u >= -0.5; negatives become huge as uint32 and are masked.
        uf = uvw[:, 0] * inv + np.float32(0.5)
        vf = uvw[:, 1] * inv + np.float32(0.5)
    ok = (z > near) & (uf >= 0) & (uf < width) & (vf >= 0) & (vf < height)
    idx = np.flatnonzero(ok)
    lin = vf[idx].astype(np.intp) * width + uf[idx].astype(np.intp)
    cols = np.ascontiguousarray(colors, dtype=np.uint8).view("V3").reshape(-1)
    rgb = np.zeros(height * width, "V3")
    depth = np.full(height * width, np.inf, np.float32)
    # NumPy assigns a 1-D fancy index in order, so the last (nearest) point per pixel is what remains.
    rgb[lin] = cols[idx]
    depth[lin] = z[idx]
    return EyeImage(rgb.view(np.uint8).reshape(height, width, 3), depth.reshape(height, width))


def fill_cracks(image: EyeImage) -> EyeImage:
    """Close one-pixel cracks of a splatted image in place (from the right, then from below).

    Where the source is sparser than the eye's pixels, forward splatting leaves a regular grid of one-pixel
    gaps; an empty pixel (``inf`` depth) whose right (then lower) neighbour is filled takes its colour and
    depth. Larger holes (disocclusions, unknown depth) stay empty. Returns ``image``.
    """
    d, c = image.depth_m, image.rgb
    for axis in (1, 0):
        if axis == 1:
            dst_d, src_d, dst_c, src_c = d[:, :-1], d[:, 1:], c[:, :-1], c[:, 1:]
        else:
            dst_d, src_d, dst_c, src_c = d[:-1], d[1:], c[:-1], c[1:]
        m = np.isinf(dst_d) & np.isfinite(src_d)
        dst_d[m] = src_d[m]
        dst_c[m] = src_c[m]
    return image


def _first_frame(source, stage: str):
    """The first frame of the dataset at ``source`` for a stage that shows one fixed frame; one-line
    :class:`InputError` for a live camera, a bad path or a source without frames."""
    from passthrough.datasets import open_source

    if str(source) == "camera":
        raise InputError(None, f"--source camera needs the live pipeline stage; the '{stage}' stage shows "
                               "a fixed frame from a dataset path")
    frame = next(iter(open_source(Path(source))), None)
    if frame is None:
        raise InputError(Path(source), "the source has no frames")
    return frame


class ProjectedImageStage:
    """A fixed RGB-D image reprojected to each eye with a pinhole model.

    The image's camera is placed at the head pose of the first rendered frame (OpenCV axes: it looks where
    the head looks). Every call projects the image's 3-D points into each eye with that eye's
    ``T_world_from_eye`` and ``K``, so the two eyes differ by the runtime's IPD and follow head motion.

    Args:
        rgb: uint8 (H, W, 3) RGB image.
        depth_m: float (H, W) depth along the camera's +z in metres; NaN/inf/<=0 = unknown (not drawn).
        K: (3, 3) intrinsics of the image.
        density: source points per eye pixel along each axis (the source is downsampled to about this many
            times the eye's focal length, so that splatting leaves no holes but stays cheap).
        max_points: upper bound on the number of points (further downsampling; the per-frame cost is linear
            in it: about 40k points keep both eyes near 2-4 ms on one core).
    """

    def __init__(self, rgb: np.ndarray, depth_m: np.ndarray, K: np.ndarray, density: float = 1.5,
                 max_points: int = 40000):
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError("rgb must be uint8 (H, W, 3)")
        if depth_m.shape != rgb.shape[:2]:
            raise ValueError("depth_m must be (H, W) like rgb")
        self.rgb = rgb
        self.depth_m = np.asarray(depth_m, dtype=np.float32)
        self.K = np.asarray(K, dtype=np.float64)
        self.density = float(density)
        self.max_points = int(max_points)
        self.T_world_from_source: Optional[np.ndarray] = None
        self._points_world: Optional[np.ndarray] = None
        self._colors: Optional[np.ndarray] = None

    def _prepare(self, eye_views: Sequence[EyeView]) -> None:
        import cv2

        f_eye = max(v.K[0, 0] for v in eye_views)
        s = min(1.0, self.density * f_eye / self.K[0, 0])
        valid = int(np.count_nonzero(np.isfinite(self.depth_m) & (self.depth_m > 0)))
        if valid * s * s > self.max_points:
            s = float(np.sqrt(self.max_points / valid))
        h, w = self.depth_m.shape
        ws, hs = max(2, int(round(w * s))), max(2, int(round(h * s)))
        sx, sy = ws / w, hs / h
        rgb = cv2.resize(self.rgb, (ws, hs), interpolation=cv2.INTER_AREA) if s < 1 else self.rgb
        depth = cv2.resize(self.depth_m, (ws, hs), interpolation=cv2.INTER_NEAREST) if s < 1 else self.depth_m
        pts = backproject(depth, scale_intrinsics(self.K, sx, sy))
        ok = np.isfinite(depth) & (depth > 0)
        cols = rgb[ok]
        order = np.argsort(-pts[:, 2], kind="stable")  # far to near: nearer points are drawn last
        self.T_world_from_source = head_pose_from_eyes(eye_views)
        self._points_world = transform_points(self.T_world_from_source, pts[order]).astype(np.float32)
        self._colors = np.ascontiguousarray(cols[order])

    def render(self, eye_views: Sequence[EyeView], t_display_ns: int) -> List[EyeImage]:
        """One :class:`EyeImage` per eye view (sized like the view); see the class doc."""
        if self._points_world is None:
            self._prepare(eye_views)
        out = []
        for view in eye_views:
            T = invert_T(view.T_world_from_eye)  # eye <- world
            out.append(fill_cracks(splat(self._points_world, self._colors, view.K, view.width, view.height,
                                         T_eye_from_points=T)))
        return out

    # ------------------------------------------------------------------------------------------ sources
    @classmethod
    def from_source(cls, source, density: float = 1.5) -> "ProjectedImageStage":
        """The first frame of a dataset (``passthrough.datasets.open_source``) as an RGB-D image.

        Colour: the rectified left image. Depth: the frame's ground-truth disparity where the dataset has
        it, else the depth stage's full-resolution OpenCV SGBM reference on the rectified pair; converted
        with the rig (``disparity_to_depth``).
        Raises :class:`InputError` for a bad path or a live camera (which needs the real pipeline stage).
        """
        frame = _first_frame(source, "projected")
        left, right = frame.rectified()
        rgb = to_rgb(left)
        disp = frame.gt_disparity
        if disp is None or not np.isfinite(disp).any():
            from passthrough.depth import DepthEstimator, REFERENCE_METHOD

            disp = DepthEstimator(REFERENCE_METHOD).compute(left, right, frame.rig).disparity
        depth = frame.rig.disparity_to_depth(disp)
        if not np.isfinite(depth).any():
            raise InputError(Path(source), "no valid depth in the first frame")
        return cls(rgb, depth, frame.rig.K_rect, density=density)


class RawCameraStage:
    """Each eye sees one camera's rectified image as-is, scaled to the eye's view: no depth (holograms are
    never hidden), no reprojection, so the world looks wrong in scale and distance exactly as issue 4
    describes. Per frame it only hands over images made once per eye and view size.

    Args:
        left_rgb, right_rgb: uint8 (H, W, 3) RGB images of the left and right camera (left eye, right eye).
    """

    def __init__(self, left_rgb: np.ndarray, right_rgb: np.ndarray):
        for name, im in (("left_rgb", left_rgb), ("right_rgb", right_rgb)):
            if im.ndim != 3 or im.shape[2] != 3 or im.dtype != np.uint8:
                raise ValueError(f"{name} must be uint8 (H, W, 3)")
        self.images = (left_rgb, right_rgb)
        self._eyes: Dict[tuple, EyeImage] = {}

    def render(self, eye_views: Sequence[EyeView], t_display_ns: int) -> List[EyeImage]:
        """One :class:`EyeImage` per eye view: eye 0 the left camera, eye 1 the right one (depth inf)."""
        import cv2

        out = []
        for view in eye_views:
            key = (min(view.index, 1), view.width, view.height)
            if key not in self._eyes:
                rgb = cv2.resize(self.images[key[0]], (view.width, view.height), interpolation=cv2.INTER_AREA)
                self._eyes[key] = EyeImage(rgb, np.full((view.height, view.width), np.inf, np.float32))
            out.append(self._eyes[key])
        return out

    @classmethod
    def from_source(cls, source) -> "RawCameraStage":
        """The first frame of a dataset (``passthrough.datasets.open_source``): its rectified pair.
        Raises :class:`InputError` for a bad path or a live camera."""
        return cls(*(to_rgb(im) for im in _first_frame(source, "raw").rectified()))


def _pipeline_stage(source, early_image: bool = False):
    from .pipeline_stage import PipelineXRStage

    return PipelineXRStage.from_source(source, early_image=early_image)


STAGE_FACTORIES: Dict[str, Callable[[str], DisplayStage]] = {
    "projected": ProjectedImageStage.from_source,
    "raw": RawCameraStage.from_source,
    "pipeline": _pipeline_stage,
}
