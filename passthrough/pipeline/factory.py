"""Assemble a :class:`.scheduler.Pipeline` for a source from command-line style options (shared by
``replay``, ``demo``, ``bench`` and ``run``)."""

from __future__ import annotations

from typing import Optional

import numpy as np

from ..holograms import Scene, default_scene, load_mesh
from .camera_stage import CameraStage, default_depth_fn
from .display_stage import DisplayStage
from .eyes import DEFAULT_EYE_RELIEF_M, DEFAULT_IPD_M, T_head_from_eyes, eye_views
from .headpath import make_head_path
from .scheduler import Pipeline


def add_pipeline_arguments(parser) -> None:
    """Options every pipeline-running command shares."""
    parser.add_argument("--display-hz", type=float, default=90.0, help="display refresh rate (default 90)")
    parser.add_argument("--head-path", default=None,
                        help="static, sway, walk, ground-truth or a TUM/ASL pose file (default: the source's "
                             "ground truth if it has one, else sway)")
    parser.add_argument("--depth-method", default=None, help="depth method name (default: the depth stage's default)")
    parser.add_argument("--hologram", action="append", default=[],
                        help="mesh file (glTF/GLB/OBJ/PLY, Y-up as glTF defines it) to place upright 1 m ahead; repeatable "
                             "(default: the demo scene)")
    parser.add_argument("--no-hands", action="store_true", help="disable hand tracking")
    parser.add_argument("--ipd-mm", type=float, default=DEFAULT_IPD_M * 1000, help="interpupillary distance (mm)")
    parser.add_argument("--eye-relief-mm", type=float, default=DEFAULT_EYE_RELIEF_M * 1000,
                        help="eyes behind the camera plane (mm)")
    parser.add_argument("--provider", default="auto", choices=["auto", "cpu", "cuda"],
                        help="onnxruntime execution provider for the ONNX models")
    parser.add_argument("--stride", type=int, default=4, choices=[1, 2, 4],
                        help="reprojection warp-field cell size (pixels)")
    parser.add_argument("--early-image", action="store_true",
                        help="image-first mode: show each camera image as soon as it is rectified, with the previous "
                             "frame's depth moved to its pose, until its own depth is done (lower camera-to-display "
                             "latency; moving objects get depth one camera frame old); ignored for stills")
    parser.add_argument("--early-depth", default="refresh", choices=["refresh", "previous"],
                        help="image-first mode: the previous frame's depth (moved to the new pose) as it is, or "
                             "re-chosen where the new pair contradicts it (default refresh: less ghosting of moving "
                             "hands, 1.5-4 ms per 640x480 frame on one core; passthrough.depth.refresh)")


def make_scene(mesh_paths, T_world_from_viewer: Optional[np.ndarray] = None) -> Scene:
    """The holograms of a run: ``mesh_paths`` (spread 1 m ahead) or the default scene, placed in front of the
    viewer: their poses are made in the viewer's frame (OpenCV axes: the rectified left camera at the start)
    and mapped into the world by ``T_world_from_viewer`` (4x4; the pipeline's world is the rig's head frame
    at the start, so this is ``StereoRig.T_head_from_left_rect``; None = identity)."""
    scene = _scene_in_viewer_frame(mesh_paths)
    if T_world_from_viewer is not None:
        A = np.asarray(T_world_from_viewer, np.float64)
        for h in scene.holograms:
            h.T_world_from_object = A @ h.T_world_from_object
    return scene


def _scene_in_viewer_frame(mesh_paths) -> Scene:
    from ..geometry import make_T, mesh_points_to_cv

    if not mesh_paths:
        return default_scene()
    scene = Scene()
    for i, p in enumerate(mesh_paths):
        h = load_mesh(p)
        # upright in the viewer's OpenCV axes (mesh files are Y-up), scaled to ~30 cm, 1 m ahead, spread sideways
        v = mesh_points_to_cv(h.vertices)
        size = float(np.max(v.max(0) - v.min(0))) or 1.0
        h.vertices = ((v - (v.max(0) + v.min(0)) / 2) * (0.3 / size)).astype(np.float32)
        h.T_world_from_object = make_T(np.eye(3), [0.35 * (i - (len(mesh_paths) - 1) / 2), 0.0, 1.0])
        scene.add(h)
    return scene


def build_pipeline(source, args, depth_fn=None, reprojector=None, threads: int = 1,
                   stills: Optional[bool] = None) -> Pipeline:
    """A pipeline over ``source`` configured by ``args`` (see :func:`add_pipeline_arguments`).

    ``stills``: whether successive frames are unrelated scenes (no temporal depth filter, hands detected
    afresh per frame); None = the source's own :attr:`~passthrough.datasets.base.FrameSource.stills`."""
    from reprojection.runtime import Reprojector

    from ..depth import METHODS
    from ..errors import InputError

    if args.depth_method is not None and args.depth_method not in METHODS:
        raise InputError(None, f"--depth-method: unknown method {args.depth_method!r} (known: {', '.join(METHODS)})")
    rig = source.rig
    head = make_head_path(args.head_path, source)
    has_gt = head.name == "ground-truth"
    # The cameras move with the head when the source has ground-truth poses; still captures and
    # sequences without poses are treated as a static rig, the head path moves only the eyes.
    pose_fn = head if has_gt else (lambda t: np.eye(4))
    stills = source.stills if stills is None else bool(stills)
    depth_fn = depth_fn or default_depth_fn(args.depth_method, temporal=not stills)
    camera = CameraStage(depth_fn, pose_fn, refresh=getattr(args, "early_depth", "refresh") == "refresh")
    reprojector = reprojector or Reprojector(stride=args.stride, provider=args.provider, threads=threads)
    display = DisplayStage(reprojector, make_scene(args.hologram, rig.T_head_from_left_rect))
    T_he = T_head_from_eyes(rig, args.ipd_mm / 1000, args.eye_relief_mm / 1000)
    K, size = rig.K_rect, rig.rectified_size
    eye_fn = lambda t: eye_views(head(t), T_he, K, size)  # noqa: E731
    hands = None
    if not args.no_hands:
        from hand_tracking.models import load_sessions
        from hand_tracking.stereo import RectifiedStereo, StereoHandTracker

        models = load_sessions(threads=threads, build_if_missing=False)
        cam = RectifiedStereo.from_rig(rig)
        hands = lambda: StereoHandTracker(cam, models, stills=stills)  # noqa: E731
    # unrelated stills have no previous frame's depth to show a new image with
    early = bool(getattr(args, "early_image", False)) and not stills
    p = Pipeline(source, camera, display, eye_fn, args.display_hz, hands, early_image=early)
    p.head_path = head
    p.stills = stills
    return p
