"""The real pipeline as the OpenXR display stage, without a runtime: eye views as xrLocateViews would give
them (OpenXR poses converted once by passthrough.geometry) in, RGB + depth per eye out."""


import cv2
import numpy as np
import pytest

from openxr_app.display import EyeView, intrinsics_from_fov
from openxr_app.pipeline_stage import PipelineXRStage
from passthrough.datasets import open_source
from passthrough.datasets.pairs import PairsFolderSource
from passthrough.geometry import xr_pose_to_T_world_from_eye_cv

FOV = (-0.8, 0.8, 0.7, -0.7)


def _views(ipd_m, size=(160, 140), head_x=0.0):
    out = []
    for i, side in enumerate((-1, 1)):
        pos = [head_x + side * ipd_m / 2, 1.6, 0.0]
        T = xr_pose_to_T_world_from_eye_cv(pos, [0, 0, 0, 1])
        out.append(EyeView(i, T, intrinsics_from_fov(FOV, *size), size[0], size[1], FOV, np.array(pos + [0, 0, 0, 1.0])))
    return out


def test_a_still_has_no_camera_clock(stage):
    stage.render(_views(0.063), 0)
    assert stage.last_grab_ns is None  # its one frame was read before any session


@pytest.fixture(scope="module")
def stage(shared_data):
    # one still pair: its depth is computed once, so every render sees the same camera output
    s = PipelineXRStage(PairsFolderSource(shared_data / "stereo/oakd-pairs", only=("desk",)), scale=0.5)
    yield s
    s.close()


def test_the_stage_is_warm_before_the_first_frame(shared_data):
    """The reprojection has run once at the canvas size when the stage is built (before any session), and
    that warm-up does not fix the rig's place in the world: the first real eye views still do."""
    s = PipelineXRStage(PairsFolderSource(shared_data / "stereo/oakd-pairs", only=("desk",)), scale=0.5)
    try:
        assert np.isfinite(s.reprojector.last_ms)
        assert s._T_xr_from_rig is None
        s.render(_views(0.063, head_x=0.3), 0)
        assert s._T_xr_from_rig is not None
    finally:
        s.close()


def test_eye_images_have_the_view_size_and_real_depth(stage):
    """Real depth wherever the cameras see; the eye's field of view (92 x 80 degrees) is wider than the
    OAK-D's, and beyond the cameras' images depth is unknown (inf: holograms show there)."""
    views = _views(0.063)
    imgs = stage.render(views, 0)
    assert len(imgs) == 2
    cam = stage.box.get()
    h, w = cam.left_bgr.shape[:2]
    K = cam.K  # the cameras' share of the eye's view (rays through both frusta; the rig looks ahead)
    cam_tan_x, cam_tan_y = (w / 2) / K[0, 0], (h / 2) / K[1, 1]
    seen = min(1.0, cam_tan_x / np.tan(FOV[1])) * min(1.0, cam_tan_y / np.tan(FOV[2]))
    for im in imgs:
        assert im.rgb.shape == (140, 160, 3) and im.rgb.dtype == np.uint8
        assert im.depth_m.shape == (140, 160) and im.depth_m.dtype == np.float32
        finite = np.isfinite(im.depth_m)
        assert finite.mean() == pytest.approx(seen, abs=0.08) and 0.3 < np.median(im.depth_m[finite]) < 10
        assert np.isposinf(im.depth_m[~finite]).all()


def test_ipd_and_head_motion_change_the_images(stage):
    a = stage.render(_views(0.055), 0)
    b = stage.render(_views(0.075), 0)
    again = stage.render(_views(0.055), 0)
    assert np.array_equal(a[0].rgb, again[0].rgb)  # same poses, same images
    assert np.abs(a[0].rgb.astype(int) - b[0].rgb).mean() > 1.0  # a wider IPD moves each eye's view
    moved = stage.render(_views(0.055, head_x=0.05), 0)
    assert np.abs(a[0].rgb.astype(int) - moved[0].rgb).mean() > 1.0


def _video_camera(shared_data, tmp_path, frames: int):
    """``(spec, calibration)`` of a side-by-side video of the first OAK-D pairs standing in for a camera."""
    src = open_source(shared_data / "stereo/oakd-pairs")
    w = cv2.VideoWriter(str(tmp_path / "dev.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 15.0, (1280, 480))
    for f in list(src)[:frames]:
        w.write(cv2.cvtColor(np.hstack([f.left, f.right]), cv2.COLOR_GRAY2BGR))
    w.release()
    calib = tmp_path / "calib.json"
    calib.write_text((shared_data / "stereo/oakd-pairs/stereodemo_calibration.json").read_text())
    return f"camera:{tmp_path / 'dev.avi'}", calib


def test_live_camera_source_with_a_video_standing_in(shared_data, tmp_path):
    s = PipelineXRStage.from_camera(*_video_camera(shared_data, tmp_path, 4))
    try:
        imgs = s.render(_views(0.063), 0)
        assert imgs[0].rgb.shape == (140, 160, 3) and np.isfinite(imgs[0].depth_m).any()
        import time

        t_end = time.monotonic() + 5  # the camera thread's frames carry their grab time (the app's latency)
        while s.last_grab_ns is None and time.monotonic() < t_end:
            time.sleep(0.02)
            s.render(_views(0.063), 0)
        assert s.last_grab_ns is not None and 0 < time.monotonic_ns() - s.last_grab_ns < 10e9
    finally:
        s.close()


def test_image_first_mode_publishes_each_frame_before_its_depth(shared_data, tmp_path, monkeypatch):
    """``--early-image``: every camera frame is published twice, first with the previous frame's depth (the
    same arrays: a static rig) while its own depth is still running, then with its own depth and the early
    output's images. Every publication is recorded (a poller could miss an output that lives 1 ms)."""
    import time

    import openxr_app.pipeline_stage as pipeline_stage
    import passthrough.pipeline.camera_stage as camera_stage

    real = camera_stage.default_depth_fn
    depth_done = []  # monotonic ns at the end of each depth computation, in order

    def slowed(*a, **k):
        fn = real(*a, **k)

        def slow(left, right, frame):
            time.sleep(0.3)
            out = fn(left, right, frame)
            depth_done.append(time.monotonic_ns())
            return out
        return slow

    published = []  # (monotonic ns, output) of every put

    class RecordingMailbox(pipeline_stage.Mailbox):
        def put(self, value):
            published.append((time.monotonic_ns(), value))
            return super().put(value)

    monkeypatch.setattr(camera_stage, "default_depth_fn", slowed)
    monkeypatch.setattr(pipeline_stage, "Mailbox", RecordingMailbox)
    s = PipelineXRStage.from_camera(*_video_camera(shared_data, tmp_path, 3), early_image=True)
    try:
        t_end = time.monotonic() + 6.0
        while time.monotonic() < t_end and sum(o.early for _, o in published[:-1]) < 2:
            time.sleep(0.01)
        outs = list(published)
        early = [i for i, (_, o) in enumerate(outs[:-1]) if o.early]
        assert len(early) >= 2, [(o.index, o.early) for _, o in outs]
        for i in early:
            (t_e, e), (_, before), (t_f, full) = outs[i], outs[i - 1], outs[i + 1]
            assert e.depth_left is before.depth_left and e.depth_index == before.index < e.index
            assert e.left_bgr.shape == before.left_bgr.shape and e.K is before.K
            # next: the same frame with its own depth, sharing the early images and their model inputs
            assert full.index == e.index and not full.early and full.left_bgr is e.left_bgr
            assert full.display_feeds["left_pixels"] is e.display_feeds["left_pixels"]
            # the early output came before that frame's depth was done (0.3 s of it)
            done = [t for t in depth_done if t_e < t <= t_f]
            assert done and done[0] - t_e > 0.2e9
        imgs = s.render(_views(0.063), 0)
        assert imgs[0].rgb.shape == (140, 160, 3) and np.isfinite(imgs[0].depth_m).any()
    finally:
        s.close()


def test_the_eyes_sit_behind_the_cameras_whatever_the_rigs_head_frame(shared_data):
    """EuRoC's head frame is the IMU body, turned ~90 degrees from its left camera: the eyes still sit
    eye-relief behind the cameras' midpoint, oriented like the left camera, exactly as in a replay."""
    from passthrough.geometry import invert_T
    from passthrough.pipeline.eyes import T_head_from_eyes

    src = open_source(shared_data / "sequences/euroc-MH_01_easy-first5")
    s = PipelineXRStage(src, scale=0.25)
    try:
        views = _views(0.063, head_x=0.2)
        T_l, T_r = s.eye_from_camera_poses(views, s.box.get())
        rig = src.rig
        for e, T_head_from_eye in enumerate(T_head_from_eyes(rig, 0.063, 0.09)):  # what a replay shows
            np.testing.assert_allclose(T_l[e], invert_T(T_head_from_eye) @ rig.T_head_from_left_rect, atol=1e-9)
            np.testing.assert_allclose(T_r[e], invert_T(T_head_from_eye) @ rig.T_head_from_right_rect, atol=1e-9)
        np.testing.assert_allclose(T_l[0][:3, :3], np.eye(3), atol=1e-9)  # not turned by the IMU's axes
    finally:
        s.close()


def test_both_cameras_intrinsics_are_scaled_onto_the_canvas(stage, shared_data):
    """The stage reprojects on a canvas of half the camera size here: both cameras' intrinsics are scaled
    with it (the right camera's stayed at full size, drawing it twice too large)."""
    cam = stage.box.get()
    rig = PairsFolderSource(shared_data / "stereo/oakd-pairs", only=("desk",)).rig
    assert cam.left_bgr.shape[1] == rig.rectified_size[0] // 2
    np.testing.assert_allclose(cam.K_right[:2], rig.K_rect_right[:2] * 0.5, atol=0.5)
    np.testing.assert_allclose(cam.K_right, cam.K, atol=1e-9)  # this rig: doffs 0
