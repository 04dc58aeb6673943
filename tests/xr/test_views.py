"""The XR app's geometry and stages without a runtime: eye views, K <-> GL projection, depth encoding, the
projected-image stage, hologram files and screen dumps. Runs everywhere (no root, no OpenXR runtime)."""

from __future__ import annotations

import math
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from openxr_app.app import eye_views_from
from openxr_app.capture import parse_xwd
from openxr_app.display import (EyeView, depth_m_to_window_depth, gl_projection_from_fov, intrinsics_from_fov)
from openxr_app.hologram import load_holograms, parse_holograms
from openxr_app.stages import ProjectedImageStage, RawCameraStage, backproject, splat
from passthrough.errors import InputError

PROJECT = Path(__file__).resolve().parents[2]
# Monado's simulated HMD reports an asymmetric fov like this one (outer side wider).
FOV = (-0.95, 0.70, 0.80, -0.85)


def _gl_pixel(P, p_xr, w, h):
    clip = P @ np.append(p_xr, 1.0)
    ndc = clip[:3] / clip[3]
    x = (ndc[0] + 1) / 2 * w - 0.5          # GL window x, pixel centres at integers
    y_up = (ndc[1] + 1) / 2 * h - 0.5
    return x, h - 1 - y_up, (ndc[2] + 1) / 2  # top-down row, window depth


def test_K_from_fov_maps_fov_edges_to_image_edges():
    w, h = 300, 340
    K = intrinsics_from_fov(FOV, w, h)
    left, right, up, down = FOV
    # Rays along the fov edges (OpenCV eye: +x right, +y down) hit the outer pixel borders.
    assert K[0, 0] * math.tan(left) + K[0, 2] == pytest.approx(-0.5)
    assert K[0, 0] * math.tan(right) + K[0, 2] == pytest.approx(w - 0.5)
    assert K[1, 1] * -math.tan(up) + K[1, 2] == pytest.approx(-0.5)
    assert K[1, 1] * -math.tan(down) + K[1, 2] == pytest.approx(h - 0.5)


def test_K_and_gl_projection_agree_on_pixels_and_depth():
    """A point seen through K (OpenCV) and through the GL projection (OpenXR eye) lands on the same pixel, and
    the window depth the compositor writes for real depth equals what GL computes for a hologram there."""
    w, h, near, far = 320, 360, 0.05, 100.0
    K = intrinsics_from_fov(FOV, w, h)
    P = gl_projection_from_fov(FOV, near, far)
    rng = np.random.default_rng(1)
    for _ in range(20):
        p_cv = np.array([rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(0.3, 20)])
        p_xr = p_cv * np.array([1, -1, -1])
        u, v = (K @ p_cv)[:2] / p_cv[2]
        x, y, d = _gl_pixel(P, p_xr, w, h)
        assert (x, y) == pytest.approx((u, v), abs=1e-6)
        assert depth_m_to_window_depth(np.array([p_cv[2]], np.float32), near, far)[0] == pytest.approx(d, abs=1e-6)


def test_window_depth_limits():
    d = depth_m_to_window_depth(np.array([0.01, 0.05, 100.0, 500.0, np.inf, np.nan], np.float32), 0.05, 100.0)
    assert d.dtype == np.float32
    assert d.tolist() == pytest.approx([0.0, 0.0, 1.0, 1.0, 1.0, 1.0], abs=1e-6)


def test_eye_views_from_openxr_poses_use_opencv_eye_axes():
    # Identity OpenXR orientation: the eye looks down world -z with +y up.
    poses = [np.array([-0.03, 1.6, 0.0, 0, 0, 0, 1.0]), np.array([0.03, 1.6, 0.0, 0, 0, 0, 1.0])]
    views = eye_views_from(poses, [FOV, FOV], [(320, 360), (320, 360)])
    T = views[0].T_world_from_eye
    assert T[:3, 3] == pytest.approx([-0.03, 1.6, 0.0])
    assert T[:3, :3] @ np.array([0, 0, 1.0]) == pytest.approx([0, 0, -1.0])  # OpenCV forward = world -z
    assert T[:3, :3] @ np.array([0, 1.0, 0]) == pytest.approx([0, -1.0, 0])  # OpenCV down = world -y
    assert views[1].K == pytest.approx(intrinsics_from_fov(FOV, 320, 360))


def test_splat_keeps_the_nearest_point_per_pixel():
    K = np.array([[100.0, 0, 49.5], [0, 100.0, 39.5], [0, 0, 1]])
    pts = np.array([[0.0, 0.0, 4.0], [0.0, 0.0, 2.0], [0.5, 0.0, 5.0]])  # far to near order for the first two
    cols = np.array([[10, 10, 10], [200, 0, 0], [0, 0, 250]], np.uint8)
    im = splat(pts, cols, K, 100, 80)
    assert im.rgb.shape == (80, 100, 3) and im.depth_m.dtype == np.float32
    assert im.rgb[40, 50].tolist() == [200, 0, 0] and im.depth_m[40, 50] == pytest.approx(2.0)
    assert im.depth_m[40, 60] == pytest.approx(5.0)  # 0.5 / 5 * 100 = 10 px right of centre
    assert np.isinf(im.depth_m).sum() == 80 * 100 - 2


def _eye(index, x, f=200.0, w=240, h=200):
    K = np.array([[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1]])
    T = np.diag([1.0, -1.0, -1.0, 1.0])  # eye with OpenCV axes looking down world -z (OpenXR world)
    T[0, 3] = x
    return EyeView(index, T, K, w, h, (0, 0, 0, 0), np.zeros(7))


def test_projected_image_stage_follows_the_eye_poses(shared_data):
    """The real Motorcycle RGB-D image: each eye sees it shifted by f * offset / Z (parallax), so a wider IPD
    gives a larger left/right shift; the same poses give the same images."""
    stage = ProjectedImageStage.from_source(shared_data / "stereo" / "middlebury2014-Motorcycle-Q")
    z_med = float(np.nanmedian(stage.depth_m[np.isfinite(stage.depth_m)]))
    shifts = []
    for ipd in (0.05, 0.10):
        st = ProjectedImageStage(stage.rgb, stage.depth_m, stage.K)
        eyes = [_eye(0, -ipd / 2, f=400.0, w=480, h=400), _eye(1, ipd / 2, f=400.0, w=480, h=400)]
        left, right = st.render(eyes, 0)
        again = st.render(eyes, 0)
        assert np.array_equal(left.rgb, again[0].rgb)
        assert left.rgb.dtype == np.uint8 and left.rgb.shape == (400, 480, 3)
        assert np.isfinite(left.depth_m).mean() > 0.2
        import cv2

        a = cv2.cvtColor(left.rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
        b = cv2.cvtColor(right.rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
        (dx, _), _ = cv2.phaseCorrelate(a, b, cv2.createHanningWindow(a.shape[::-1], cv2.CV_32F))
        shifts.append(dx)
    # Right eye sees the scene shifted left; about f * ipd / Z (the scene spans a range of depths).
    assert shifts[0] < 0 and shifts[1] < 0
    assert shifts[1] / shifts[0] == pytest.approx(2.0, rel=0.15)
    assert -shifts[1] == pytest.approx(400.0 * 0.10 / z_med, rel=0.5)


def test_raw_stage_shows_each_eye_its_camera_as_is(shared_data):
    """The baseline stage: left eye the left rectified camera, right eye the right one, scaled to the eye's
    view whatever the eye pose, with no real depth (holograms always show)."""
    import cv2

    from passthrough.datasets import open_source

    src = shared_data / "stereo" / "middlebury2014-Motorcycle-Q"
    stage = RawCameraStage.from_source(src)
    left_cam, right_cam = next(iter(open_source(src))).rectified()
    for ipd in (0.05, 0.10):
        left, right = stage.render([_eye(0, -ipd / 2, f=400.0, w=480, h=400), _eye(1, ipd / 2, f=400.0, w=480, h=400)], 0)
        for eye, cam in ((left, left_cam), (right, right_cam)):
            expected = cv2.cvtColor(cv2.resize(cam, (480, 400), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
            assert np.array_equal(eye.rgb, expected)
            assert eye.depth_m.shape == (400, 480) and np.isinf(eye.depth_m).all()
    with pytest.raises(InputError, match="camera"):
        RawCameraStage.from_source("camera")


def test_backproject_then_splat_reproduces_the_image():
    rng = np.random.default_rng(0)
    h, w = 60, 80
    K = np.array([[70.0, 0, 39.5], [0, 70.0, 29.5], [0, 0, 1]])
    depth = rng.uniform(1.0, 3.0, (h, w)).astype(np.float32)
    depth[5, 7] = np.nan
    rgb = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    pts = backproject(depth, K)
    ok = np.isfinite(depth)
    im = splat(pts, rgb[ok], K, w, h)
    assert np.array_equal(im.rgb[ok], rgb[ok]) and np.allclose(im.depth_m[ok], depth[ok], rtol=1e-5)
    assert np.isinf(im.depth_m[5, 7])


def test_fill_cracks_closes_one_pixel_gaps_only():
    from openxr_app.display import EyeImage
    from openxr_app.stages import fill_cracks

    depth = np.full((6, 8), 2.0, np.float32)
    rgb = np.full((6, 8, 3), 100, np.uint8)
    depth[:, 3] = np.inf  # a one-pixel crack column
    depth[4:, 5:] = np.inf  # a 2x3 hole at the bottom right: only its top-left edge can be reached
    rgb[:, 4] = 200
    im = fill_cracks(EyeImage(rgb, depth))
    assert np.isfinite(im.depth_m[:, 3]).all() and (im.rgb[:, 3] == 200).all()
    assert np.isinf(im.depth_m[5, 6:]).all()


def test_hologram_files(tmp_path):
    f = tmp_path / "h.yaml"
    f.write_text("anchor: head\nboxes:\n  - center: [0, 0, 1.5]\n    size: [0.2, 0.4, 0.2]\n    rgb: [255, 0, 255]\n")
    scene = load_holograms(f)
    T_w_head = np.eye(4)
    T_w_head[:3, :3] = np.diag([1.0, -1.0, -1.0])  # head with OpenCV axes in an OpenXR world
    T_w_head[:3, 3] = [0.0, 1.6, 0.0]
    (M,) = scene.model_matrices(T_w_head)
    assert (M @ [0, 0, 0, 1])[:3] == pytest.approx([0.0, 1.6, -1.5])  # 1.5 m ahead = world -z
    assert (M @ [0, 0.5, 0, 1])[:3] == pytest.approx([0.0, 1.4, -1.5])  # half the 0.4 m height, downwards
    assert scene.boxes[0].rgb == (255, 0, 255)
    world = parse_holograms({"anchor": "world", "boxes": [{"center": [1, 2, 3]}]})
    assert (world.model_matrices(T_w_head)[0] @ [0, 0, 0, 1])[:3] == pytest.approx([1, 2, 3])
    for bad in ({"boxes": []}, {"anchor": "eye", "boxes": [{"center": [0, 0, 1]}]},
                {"boxes": [{"center": [0, 0]}]}, {"boxes": [{"center": [0, 0, 1], "rgb": [300, 0, 0]}]}):
        with pytest.raises(InputError):
            parse_holograms(bad)
    with pytest.raises(InputError):
        load_holograms(tmp_path / "missing.yaml")


def test_hologram_meshes_from_obj_files_and_pipeline_objects(tmp_path):
    (tmp_path / "quad.obj").write_text("# a unit quad\nv -0.5 -0.5 0\nv 0.5 -0.5 0\nv 0.5 0.5 0\nv -0.5 0.5 0\n"
                                       "vt 0 0\nf 1/1 2/1 3/1 4/1\n")
    (tmp_path / "h.json").write_text('{"boxes": [{"mesh": "quad.obj", "center": [0, 0, 2], "size": 2.0, '
                                     '"rgb": [1, 2, 3]}]}')
    scene = load_holograms(tmp_path / "h.json")
    (b,) = scene.boxes
    assert b.vertices.shape == (4, 3) and b.triangles.tolist() == [[0, 1, 2], [0, 2, 3]]
    assert (scene.model_matrices(np.eye(4))[0] @ [0.5, 0.5, 0, 1])[:3] == pytest.approx([1.0, 1.0, 2.0])
    (tmp_path / "bad.obj").write_text("v 0 0 0\nf 1 2 3\n")
    with pytest.raises(InputError):
        parse_holograms({"boxes": [{"mesh": "bad.obj", "center": [0, 0, 1]}]}, tmp_path / "h.json")

    class Obj:  # the pipeline's hologram objects (passthrough.holograms.scene.Hologram) look like this
        vertices = np.zeros((3, 3), np.float32)
        triangles = np.array([[0, 1, 2]])
        color_rgb = np.array([1.0, 0.5, 0.0])
        T_world_from_object = np.eye(4)

    from openxr_app.hologram import HologramScene

    s2 = HologramScene.from_objects([Obj()])
    assert s2.anchor == "head" and s2.boxes[0].rgb == (255, 128, 0) and s2.boxes[0].triangles.shape == (1, 3)


def _xwd(rgb: np.ndarray) -> bytes:
    h, w = rgb.shape[:2]
    name = b"test\0"
    header_size = 100 + len(name)
    fields = [header_size, 7, 2, 24, w, h, 0, 0, 32, 0, 32, 32, w * 4, 4, 0xFF0000, 0xFF00, 0xFF, 8, 256, 0,
              w, h, 0, 0, 0]
    px = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) | rgb[..., 2]
    return struct.pack(">25I", *fields) + name + px.astype("<u4").tobytes()


def test_parse_xwd_roundtrip():
    rgb = np.random.default_rng(3).integers(0, 255, (7, 9, 3), dtype=np.uint8)
    assert np.array_equal(parse_xwd(_xwd(rgb)), rgb)
    with pytest.raises(ValueError):
        parse_xwd(b"nope")


def test_no_runtime_message_names_what_to_install(tmp_path):
    """Without any OpenXR runtime the app says what to install, in one line, exit status 4."""
    import importlib.util

    if importlib.util.find_spec("xr") is None:  # (not imported here: it would fix PyOpenGL's platform)
        pytest.skip("pyopenxr is not installed in this environment")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XR_RUNTIME_JSON": str(tmp_path / "none.json"),
           "PYTHONPATH": str(PROJECT)}
    r = subprocess.run([sys.executable, "-m", "openxr_app", "xr-info"], capture_output=True, text=True,
                       timeout=60, env=env, cwd=PROJECT)
    assert r.returncode == 4, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr  # not the OpenXR loader's own "Error [GENERAL | ...]" lines first
    assert lines[0].startswith("error:") and "Monado" in lines[0] and "scripts/xr-runtime setup" in lines[0]


def test_default_eye_scale_is_full_size_only_when_reprojecting_on_cuda():
    from types import SimpleNamespace

    from openxr_app.cli import CPU_EYE_SCALE, default_eye_scale

    on = lambda *providers: SimpleNamespace(reprojector=SimpleNamespace(providers=list(providers)))  # noqa: E731
    assert default_eye_scale(on("CUDAExecutionProvider", "CPUExecutionProvider")) == 1.0
    assert default_eye_scale(on("CPUExecutionProvider")) == CPU_EYE_SCALE
    assert default_eye_scale(RawCameraStage(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 3), np.uint8))) == CPU_EYE_SCALE


def test_gl_upload_pass_flips_rows_adds_alpha_and_converts_depth_exactly():
    """The upload pass gives what cv2.flip + RGBA + depth_m_to_window_depth give, bit for bit, special
    depths included (unknown, behind, at the eye, nearer than near, beyond far)."""
    import cv2

    from openxr_app.gl_render import flip_to_gl

    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (7, 9, 3), dtype=np.uint8)
    depth = rng.uniform(0.01, 200.0, (7, 9)).astype(np.float32)
    depth[0, :6] = [np.nan, np.inf, -np.inf, 0.0, -1.0, 0.01]
    rgba, window = np.empty((7, 9, 4), np.uint8), np.empty((7, 9), np.float32)
    flip_to_gl(rgb, depth, 0.05, 100.0, rgba, window)
    assert np.array_equal(rgba, cv2.flip(cv2.cvtColor(rgb, cv2.COLOR_RGB2RGBA), 0))
    assert np.array_equal(window, depth_m_to_window_depth(cv2.flip(depth, 0), 0.05, 100.0))
    assert window[-1, :6].tolist() == [1.0, 1.0, 1.0, 0.0, 1.0, 0.0]  # the top row, now at the bottom
    with pytest.raises(ValueError, match="must match"):  # numba does not check bounds: the wrapper does
        flip_to_gl(rgb[:, :8], depth, 0.05, 100.0, rgba, window)
