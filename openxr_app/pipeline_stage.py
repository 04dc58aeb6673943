"""The real pipeline as the OpenXR app's display stage.

A camera thread plays the source at its rate through the pipeline's camera stage (rectify + depth, see
:mod:`passthrough.pipeline.camera_stage`) into a latest-value mailbox; every rendered frame reprojects
the newest camera output with the ONNX model to the eye poses ``xrLocateViews`` reported for the
predicted display time (late correction) and returns RGB + real depth per eye. Holograms are drawn by
the app with OpenGL and a depth test against that depth (:mod:`openxr_app.gl_render`).

Frames:

* *rig world*: the camera rig's head frame (``StereoRig``: the left camera for most rigs, the IMU body
  frame for EuRoC), where camera outputs live (a static rig: the camera stage runs at the identity pose).
* *XR world*: the session's reference space (OpenXR axes, +y up).
* On the first frame the rig is anchored to the head: the rig sits ``eye_relief`` ahead of the eyes'
  midpoint, the rectified left camera oriented like the (OpenCV-axes) left eye
  (:func:`passthrough.pipeline.eyes.T_head_from_eye_centre`), i.e. ``T_xrworld_from_rigworld`` is fixed then,
  and every later eye pose is expressed in the rig world with it.

The reprojection runs on a canvas of the camera images' size times ``scale`` (the model needs equal
camera and eye sizes); each eye's intrinsics are scaled onto that canvas and the result is resized to
the swapchain size.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from passthrough.calibration import scale_intrinsics
from passthrough.errors import InputError
from passthrough.geometry import invert_T
from passthrough.mailbox import Mailbox
from passthrough.pipeline.eyes import DEFAULT_EYE_RELIEF_M, T_head_from_eye_centre

from .display import EyeImage, EyeView
from .stages import head_pose_from_eyes

#: Reprojection canvas scale on the CPU: measured against Monado's CPU (lavapipe) compositor at 90 Hz on
#: the 2-core CI machine (Motorcycle-Q, 600 frames): 0.25 -> frame period p50 11.26 ms, 0.33 % misses;
#: 0.35 -> 2.99 % misses. With reprojection model v4 and the packed gather, 0.35 gave 0-0.17 % in runs on
#: their own but 1.16 % (twice) inside the full `make test` run, over the test's 1 %: 0.25 stays.
#: With CUDA the model runs at full camera resolution.
CPU_SCALE = 0.25
EYE_RELIEF_M = DEFAULT_EYE_RELIEF_M


class PipelineXRStage:
    """Camera stage on its own thread + ONNX reprojection per rendered frame.

    Args:
        source: a frame source (:func:`passthrough.datasets.open_source`).
        scale: reprojection canvas = camera image size x ``scale`` (default: ``$PASSTHROUGH_XR_SCALE``, else
            1 with CUDA and :data:`CPU_SCALE` on the CPU).
        depth_method: depth method name (default: the depth stage's default).
        threads: onnxruntime intra-op threads.
        early_image: the image-first mode (``passthrough run --early-image``; as
            :attr:`passthrough.pipeline.scheduler.Pipeline.early_image`): each camera frame is published
            right after rectification with the previous frame's depth, then again with its own. Never on
            for stills.
    """

    def __init__(self, source, scale: Optional[float] = None, depth_method: Optional[str] = None, threads: int = 1,
                 early_image: bool = False):
        from passthrough.pipeline.camera_stage import CameraStage, default_depth_fn
        from reprojection.runtime import Reprojector

        self.source = source
        self.camera = CameraStage(default_depth_fn(depth_method, temporal=not source.stills), lambda t: np.eye(4))
        self.reprojector = Reprojector(stride=4, provider="auto", threads=threads)
        if scale is None:
            env = os.environ.get("PASSTHROUGH_XR_SCALE")
            on_gpu = self.reprojector.providers[0] == "CUDAExecutionProvider"
            scale = float(env) if env else (1.0 if on_gpu else CPU_SCALE)
        self.scale = float(scale)
        self.box: Mailbox = Mailbox()
        self.early_image = bool(early_image) and not source.stills
        #: ``time.monotonic_ns()`` when the camera frame behind the last :meth:`render` was grabbed (None for
        #: stills: their one frame is grabbed before the session); the app turns it into ``camera_to_frame_ms``
        self.last_grab_ns: Optional[int] = None
        self.rate_hz = source.rate_hz or 10.0
        self._stop = threading.Event()
        self._T_xr_from_rig: Optional[np.ndarray] = None
        self.errors: List[BaseException] = []
        rig = source.rig
        # rig frame = the rig's head frame (the camera stage runs at the identity head pose); the eyes'
        # midpoint is eye_relief behind the cameras' midpoint, oriented like the rectified left camera
        self.T_rig_from_eyecentre = T_head_from_eye_centre(rig, EYE_RELIEF_M)
        first = next(iter(source), None)
        if first is None:
            raise InputError(source.path, "the source has no frames")
        self._publish(self.camera.process(first))  # ready before the session starts (and warms up numba)
        self._warm_up()
        self._thread = threading.Thread(target=self._loop, name="camera-stage", daemon=True)
        self._thread.start()

    def _warm_up(self) -> None:
        """One reprojection of the first camera output at its own canvas size, both eyes at the left camera,
        before the session: onnxruntime's first run at this size and the gather's tables are paid here, not
        by the first displayed frame (measured 9-12 ms for that frame's stage against ~4 ms later ones)."""
        cam = self.box.get()
        T_left_from_right = invert_T(cam.T_world_from_left) @ cam.T_world_from_right
        self.reprojector.render(cam.left_bgr, cam.right_bgr, cam.depth_left, cam.depth_right, cam.K, cam.K_right,
                                np.stack([cam.K, cam.K]), [np.eye(4)] * 2, [T_left_from_right] * 2,
                                camera_key=(cam.index, cam.t_capture_ns))

    def _canvas_images(self, left: np.ndarray, right: np.ndarray) -> tuple:
        """Both camera images resized onto the reprojection canvas (themselves at scale 1)."""
        if self.scale == 1.0:
            return left, right
        h, w = left.shape[:2]
        size = (max(8, int(round(w * self.scale))), max(8, int(round(h * self.scale))))
        return (cv2.resize(left, size, interpolation=cv2.INTER_AREA),
                cv2.resize(right, size, interpolation=cv2.INTER_AREA))

    def _publish(self, out, early=None, t_grab_ns: Optional[int] = None) -> None:
        """Put a camera output on the reprojection canvas (images, depth, K and K_right scaled) with its model inputs
        and publish it. ``early``: this frame's image-first output, already on the canvas: its images
        (and their model inputs) are taken as they are."""
        full_w, full_h = out.left_bgr.shape[1], out.left_bgr.shape[0]
        if early is not None:
            out.left_bgr, out.right_bgr = early.left_bgr, early.right_bgr
        else:
            out.left_bgr, out.right_bgr = self._canvas_images(out.left_bgr, out.right_bgr)
        size = (out.left_bgr.shape[1], out.left_bgr.shape[0])
        if size != (full_w, full_h):
            out.depth_left = cv2.resize(out.depth_left, size, interpolation=cv2.INTER_NEAREST)
            out.depth_right = cv2.resize(out.depth_right, size, interpolation=cv2.INTER_NEAREST)
            out.K = scale_intrinsics(out.K, size[0] / full_w, size[1] / full_h)
            out.K_right = scale_intrinsics(out.K_right, size[0] / full_w, size[1] / full_h)
        # the model's per-camera-frame inputs are made here, on the camera thread: no XR frame pays for them
        out.display_feeds = self.reprojector.camera_feeds(
            out.left_bgr, out.right_bgr, out.depth_left, out.depth_right,
            reuse=early.display_feeds if early is not None else None, reuse_images=early is not None)
        out.t_grab_ns = t_grab_ns
        self.box.put(out)

    def _publish_early(self, rect, previous, t_grab_ns: Optional[int] = None):
        """The image-first output of a rectified frame: its images on the canvas with ``previous``'s depth
        (already on the canvas; by :meth:`CameraStage.early`: the same arrays for this static rig unless
        the depth refresh re-chose some of it, which needs full-size maps). Returns it (published)."""
        # K and depth are previous's: on the canvas already; the depth refresh needs the full-size maps
        out = self.camera.early(rect, previous, refresh=self.scale == 1.0)
        out.left_bgr, out.right_bgr = self._canvas_images(out.left_bgr, out.right_bgr)
        same_depth = out.depth_left is previous.depth_left and out.depth_right is previous.depth_right
        out.display_feeds = self.reprojector.camera_feeds(out.left_bgr, out.right_bgr, out.depth_left,
                                                          out.depth_right, reuse=previous.display_feeds,
                                                          reuse_depth=same_depth)
        out.t_grab_ns = t_grab_ns
        self.box.put(out)
        return out

    def _loop(self) -> None:
        from passthrough.pipeline.priority import lower_this_thread

        lower_this_thread("camera")  # the XR frame loop comes first
        period = 1.0 / self.rate_hz
        if self.source.rate_hz is None and len(self.source) == 1:
            return  # a single still: its one camera output is already published
        try:
            while not self._stop.is_set():
                for frame in self.source:
                    t0 = time.monotonic()
                    if self._stop.is_set():
                        return
                    t_grab = time.monotonic_ns()  # the frame is read from the source (device) by now
                    rect = self.camera.rectify(frame)
                    previous = self.box.get()
                    early = None
                    if self.early_image and previous is not None and previous.display_feeds is not None:
                        early = self._publish_early(rect, previous, t_grab)
                    self._publish(self.camera.finish(rect), early, t_grab)
                    rest = period - (time.monotonic() - t0)
                    if rest > 0:
                        self._stop.wait(rest)
        except BaseException as exc:  # the render thread reports it
            self.errors.append(exc)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def eye_from_camera_poses(self, eye_views: Sequence[EyeView], cam) -> Tuple[List[np.ndarray], List[np.ndarray]]:
        """``(T_eye_from_left, T_eye_from_right)`` per eye view (4x4, OpenCV axes) for camera output ``cam``; the
        first call anchors the rig to the head (module docstring)."""
        if self._T_xr_from_rig is None:
            self._T_xr_from_rig = head_pose_from_eyes(eye_views) @ invert_T(self.T_rig_from_eyecentre)
        T_rig_from_xr = invert_T(self._T_xr_from_rig)
        T_l, T_r = [], []
        for v in eye_views:
            T_eye_from_rig = invert_T(T_rig_from_xr @ v.T_world_from_eye)
            T_l.append(T_eye_from_rig @ cam.T_world_from_left)
            T_r.append(T_eye_from_rig @ cam.T_world_from_right)
        return T_l, T_r

    def render(self, eye_views: Sequence[EyeView], t_display_ns: int) -> List[EyeImage]:
        if self.errors:
            raise self.errors[0]
        cam = self.box.get()
        self.last_grab_ns = getattr(cam, "t_grab_ns", None)
        T_l, T_r = self.eye_from_camera_poses(eye_views, cam)
        h, w = cam.left_bgr.shape[:2]
        Ks = [scale_intrinsics(v.K, w / v.width, h / v.height) for v in eye_views]
        # the camera frame's conversions (packed pixels, depth validity) were made once, by _publish
        imgs, depth, _holes = self.reprojector.render(cam.left_bgr, cam.right_bgr, cam.depth_left, cam.depth_right,
                                                      cam.K, cam.K_right, np.stack(Ks), T_l, T_r,
                                                      camera_key=(cam.index, cam.t_capture_ns, cam.early),
                                                      unknown_depth=np.inf,
                                                      camera_feeds=cam.display_feeds)
        out = []
        for e, v in enumerate(eye_views):  # colour order on the (smaller) canvas, then resize; unknown depth is inf
            rgb = cv2.cvtColor(imgs[e], cv2.COLOR_BGR2RGB)
            d = depth[e]
            if (v.width, v.height) != (w, h):
                rgb = cv2.resize(rgb, (v.width, v.height), interpolation=cv2.INTER_LINEAR)
                d = cv2.resize(d, (v.width, v.height), interpolation=cv2.INTER_NEAREST)
            out.append(EyeImage(rgb, d))
        return out

    @classmethod
    def from_source(cls, source, early_image: bool = False) -> "PipelineXRStage":
        """A dataset path (:func:`passthrough.datasets.open_source`)."""
        from passthrough.datasets import open_source

        return cls(open_source(Path(source)), early_image=early_image)

    @classmethod
    def from_camera(cls, spec: str, calibration, early_image: bool = False) -> "PipelineXRStage":
        """Live cameras: ``camera`` (devices 0 and 1), ``camera:N`` (one side-by-side device) or
        ``camera:A,B``; ``calibration`` a stereo calibration JSON (:mod:`passthrough.datasets.pairs`)."""
        from passthrough.datasets.pairs import load_calibration
        from passthrough.datasets.video import LiveCameraSource

        devs = ["0", "1"] if spec == "camera" else spec.split(":", 1)[1].split(",")
        source = LiveCameraSource([int(d) if d.isdigit() else d for d in devs], load_calibration(Path(calibration)))
        source.rate_hz = 1000.0  # the devices pace themselves: grab as fast as they deliver
        return cls(source, early_image=early_image)
