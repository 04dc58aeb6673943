"""The ONNX reprojection model: deterministic build, hash check, parity with the numpy reference,
identity pose, nearest-surface-wins and background-side hole filling."""

from __future__ import annotations

import cv2
import numpy as np
import onnx
import pytest

from passthrough.errors import InputError
from reprojection.build import MAPS_INPUT_NAMES, MODEL_VERSION, OPSET, ModelParams, build, model_bytes, model_filename
from reprojection.reference import reproject
from reprojection.runtime import ModelIntegrityError, Reprojector


def _T(R=np.eye(3), t=(0, 0, 0)):
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = t
    return T


def test_build_is_deterministic_versioned_and_opset_18(tmp_path):
    paths = build(tmp_path)
    assert [p.name for p in paths] == [model_filename(s, b, m) for m in (False, True) for s in (1, 2, 4)
                                       for b in (True, False)]
    assert paths[4].read_bytes() == model_bytes(4) == model_bytes(4)
    assert paths[10].read_bytes() == model_bytes(4, True, True) != model_bytes(4)
    assert "-maps-" in paths[10].name and "-maps-" not in paths[4].name
    # an earlier build of this version (other bytes) is replaced; another version's models are kept, so
    # checkouts of two versions can share a cache
    stale = tmp_path / f"reprojection-v{MODEL_VERSION}-s4-000000000000.onnx"
    other = tmp_path / f"reprojection-v{MODEL_VERSION + 1}-s4-000000000000.onnx"
    stale.write_bytes(b"old")
    other.write_bytes(b"newer")
    assert build(tmp_path) == paths and not stale.exists() and other.read_bytes() == b"newer"
    m = onnx.load(str(paths[4]))
    assert m.opset_import[0].version == OPSET >= 18
    assert [i.name for i in m.graph.output] == ["eye_images", "eye_depth", "eye_holes"]
    m = onnx.load(str(paths[10]))
    assert [i.name for i in m.graph.output] == ["cell_fields", "cell_depth", "cell_holes"]
    # no full-resolution stage: no colour GridSample, and the only Resize nodes are the hole pyramid's
    # (cell resolution)
    assert not {"GridSample", "Resize"} & {n.op_type for n in m.graph.node
                                           if not n.name.startswith(("visibility/", "holes/"))}
    assert not any(n.op_type == "GridSample" for n in m.graph.node)
    assert sum(n.op_type == "Resize" for n in m.graph.node) == ModelParams().hole_levels


@pytest.mark.parametrize("resample", ["onnx", "remap"])
def test_tampered_model_is_rejected_with_clear_error(tmp_path, resample):
    (path,) = [p for p in build(tmp_path) if p.name == model_filename(4, True, resample == "remap")]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError) as e:
        Reprojector(stride=4, cache_dir=tmp_path, provider="cpu", resample=resample)
    assert isinstance(e.value, InputError)
    assert "hash mismatch" in str(e.value) and path.name in str(e.value)


def test_onnx_matches_numpy_reference_on_tsukuba(tsukuba, tsukuba_depth, model_cache):
    left, right, zl, zr = tsukuba_depth
    ln, rn = tsukuba.inputs
    K = tsukuba.cameras[ln].K
    Ts = [tsukuba.T_a_from_b(t, ln) for t in ("tsukuba2.png", "tsukuba4.png")]
    Tr = [tsukuba.T_a_from_b(t, rn) for t in ("tsukuba2.png", "tsukuba4.png")]
    for stride, blend in ((2, True), (4, True), (4, False)):
        rp = Reprojector(stride=stride, cache_dir=model_cache, provider="cpu", blend=blend, resample="onnx")
        f = rp.feeds(left, right, zl, zr, K, K, np.stack([K, K]), np.stack(Ts), np.stack(Tr))
        img, depth, holes = rp.run_feeds(f)
        r_img, r_depth, r_holes = reproject(
            {"left": f["left_image"][0], "right": f["right_image"][0]},
            {"left": f["left_depth"][0, 0], "right": f["right_depth"][0, 0]},
            {"left": f["left_valid"][0, 0], "right": f["right_valid"][0, 0]},
            {"left": f["K_left"], "right": f["K_right"]}, f["K_eyes"],
            {"left": f["T_eye_from_left"], "right": f["T_eye_from_right"]}, ModelParams(stride=stride, blend=blend))
        diff = np.abs(img - r_img)
        assert np.mean(diff > 1.0) < 0.002, f"stride {stride}: {np.mean(diff > 1.0):.4f} of values differ > 1"
        assert np.mean(holes != r_holes) < 0.002
        ok = (depth > 0) & (r_depth > 0)
        assert np.median(np.abs(depth[ok] - r_depth[ok]) / r_depth[ok]) < 1e-4


@pytest.mark.parametrize("stride,blend", [(2, True), (4, True), (4, False)])
def test_remap_path_matches_the_full_onnx_graph(tsukuba, tsukuba_depth, model_cache, stride, blend):
    """The ``maps`` graph + CPU gather renders what the full graph (GridSample) renders."""
    left, right, zl, zr = tsukuba_depth
    ln, rn = tsukuba.inputs
    K = tsukuba.cameras[ln].K
    views = ("tsukuba2.png", "tsukuba3.png")
    args = (left, right, zl, zr, K, K, np.stack([K, K]), np.stack([tsukuba.T_a_from_b(t, ln) for t in views]),
            np.stack([tsukuba.T_a_from_b(t, rn) for t in views]))
    full = Reprojector(stride=stride, cache_dir=model_cache, provider="cpu", blend=blend, resample="onnx")
    fast = Reprojector(stride=stride, cache_dir=model_cache, provider="cpu", blend=blend, resample="remap")
    assert fast.resample == "remap" and "-maps-" in fast.path.name and "-maps-" not in full.path.name
    img_a, depth_a, holes_a = full.render(*args)
    img_b, depth_b, holes_b = fast.render(*args)
    assert img_b.shape == img_a.shape == (2,) + left.shape and img_b.dtype == np.uint8
    diff = np.abs(img_a.astype(int) - img_b.astype(int))
    assert diff.mean() < 0.05 and np.mean(diff > 1) < 1e-4, (diff.mean(), np.mean(diff > 1))
    assert np.array_equal(holes_a, holes_b)
    ok = depth_a > 0
    assert np.array_equal(ok, depth_b > 0)
    assert np.median(np.abs(depth_a[ok] - depth_b[ok]) / depth_a[ok]) < 1e-5
    # run_feeds keeps its shapes: images [2,3,H,W] (uint8, already rounded), depth and holes [2,1,H,W]
    imgs, depth, holes = fast.run_feeds(fast.feeds(*args))
    assert imgs.shape == (2, 3) + left.shape[:2] and depth.shape == holes.shape == (2, 1) + left.shape[:2]
    assert np.array_equal(imgs.transpose(0, 2, 3, 1), img_b) and fast.last_ms > 0


def test_camera_key_converts_a_camera_frame_once(tsukuba, tsukuba_depth, model_cache):
    """A display loop renders one camera frame at several head poses: with a ``camera_key`` the camera
    inputs are converted once, and the images are those of an uncached render."""
    left, right, zl, zr = tsukuba_depth
    ln, rn = tsukuba.inputs
    K = tsukuba.cameras[ln].K
    rp = Reprojector(stride=4, cache_dir=model_cache, provider="cpu")
    first = rp.camera_feeds(left, right, zl, zr, key=("frame", 7))
    assert rp.camera_feeds(left, right, zl, zr, key=("frame", 7)) is first
    assert rp.camera_feeds(left, right, zl, zr, key=("frame", 8)) is not first
    assert rp.camera_feeds(left, right, zl, zr) is not rp.camera_feeds(left, right, zl, zr)  # no key: no cache
    again = rp.camera_feeds(left, right, zl, zr, key=("frame", 8))
    assert rp.camera_feeds(left, right, zl.copy(), zr, key=("frame", 8)) is not again  # same key, other arrays
    for view in ("tsukuba2.png", "tsukuba4.png"):
        poses = (np.stack([tsukuba.T_a_from_b(view, ln)] * 2), np.stack([tsukuba.T_a_from_b(view, rn)] * 2))
        cached = rp.render(left, right, zl, zr, K, K, np.stack([K, K]), *poses, camera_key=("frame", 9))
        plain = rp.render(left, right, zl, zr, K, K, np.stack([K, K]), *poses)
        for a, b in zip(cached, plain):
            np.testing.assert_array_equal(a, b)


def test_images_and_depth_of_different_sizes_are_refused(model_cache):
    rp = Reprojector(stride=4, cache_dir=model_cache, provider="cpu")
    img = np.zeros((48, 64, 3), np.uint8)
    with pytest.raises(ValueError, match="left depth 60x48"):
        rp.camera_feeds(img, img, np.ones((48, 60), np.float32), np.ones((48, 64), np.float32))


def test_resample_auto_picks_remap_on_cpu(model_cache):
    assert Reprojector(stride=4, cache_dir=model_cache, provider="cpu").resample == "remap"
    with pytest.raises(InputError, match="resample"):
        Reprojector(stride=4, cache_dir=model_cache, provider="cpu", resample="gpu")


def test_identity_pose_reproduces_the_camera_image(tsukuba, tsukuba_depth, model_cache):
    left, right, zl, zr = tsukuba_depth
    ln, rn = tsukuba.inputs
    K = tsukuba.cameras[ln].K
    rp = Reprojector(stride=4, cache_dir=model_cache, provider="cpu")
    T_r = tsukuba.T_a_from_b(ln, rn)
    imgs, depth, holes = rp.render(left, right, zl, zr, K, K, np.stack([K, K]), np.stack([np.eye(4)] * 2),
                                   np.stack([T_r] * 2))
    diff = np.abs(imgs[0].astype(int) - left.astype(int)).max(axis=2)
    assert np.mean(diff <= 1) > 0.995, "an eye at the left camera's pose must see the left image"
    assert holes[0].mean() < 0.01
    valid = np.isfinite(zl)
    assert np.median(np.abs(depth[0][valid] - zl[valid]) / zl[valid]) < 0.02


def _outside_both_cameras(K, T_eye_from_cams, z_eye, shape):
    """bool (H, W): eye pixels whose point at eye depth ``z_eye`` projects outside every camera's image
    (cameras share ``K`` and the eye's image size ``shape``)."""
    h, w = shape
    v, u = np.mgrid[0:h, 0:w].astype(float)
    X = np.linalg.inv(K) @ np.stack([u.ravel(), v.ravel(), np.ones(u.size)]) * z_eye
    out = np.ones(u.size, bool)
    for T in T_eye_from_cams:
        Tc = np.linalg.inv(T)
        p = K @ (Tc[:3, :3] @ X + Tc[:3, 3:4])
        x, y = p[0] / p[2], p[1] / p[2]
        out &= ~((p[2] > 0) & (x >= -0.5) & (x <= w - 0.5) & (y >= -0.5) & (y <= h - 0.5))
    return out.reshape(h, w)


def _check_hole_depths(depth, holes, outside, stride, background=3.0):
    """Holes where a camera looks (disocclusions) take the background's depth; depth is unknown (0) only
    beyond both cameras' images (the periphery), give or take the cells on its edge."""
    band = np.ones((2 * stride + 3,) * 2, np.uint8)
    near_outside = cv2.dilate(outside.astype(np.uint8), band) > 0
    well_outside = cv2.erode(outside.astype(np.uint8), band) > 0
    unknown = ~(depth > 0)
    assert not (unknown & ~near_outside).any(), "unknown depth inside the cameras' view"
    assert unknown[well_outside].all(), "the periphery beyond the cameras must be unknown, not extrapolated"
    inner = holes & ~unknown
    if inner.any():
        assert np.mean(depth[inner] > background) > 0.9


def _two_plane_scene(w=160, h=120, f=100.0, B=0.1, z_bg=4.0, z_fg=1.0):
    """Rectified cameras at x=0 and x=B looking at a textured wall (z_bg) and a red square (z_fg)
    centred in front of the midpoint. Returns images, depths, K and the square's x-extent."""
    K = np.array([[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1.0]])
    rng = np.random.default_rng(1)
    wall = rng.integers(0, 120, (h, 4 * w, 3)).astype(np.uint8)  # dark random texture in world x
    half = 0.15  # square half size (m)
    imgs, depths = {}, {}
    for name, cx in (("left", 0.0), ("right", B)):
        v, u = np.mgrid[0:h, 0:w].astype(float)
        x_fg = (u - K[0, 2]) / f * z_fg + cx
        y_fg = (v - K[1, 2]) / f * z_fg
        in_sq = (np.abs(x_fg - B / 2) < half) & (np.abs(y_fg) < half)
        x_bg = (u - K[0, 2]) / f * z_bg + cx
        wx = np.clip(np.rint(x_bg * f / z_bg + 2 * w).astype(int), 0, 4 * w - 1)
        img = wall[v.astype(int), wx]
        img[in_sq] = (0, 0, 255)  # BGR red
        imgs[name] = img
        depths[name] = np.where(in_sq, z_fg, z_bg).astype(np.float32)
    return imgs, depths, K


@pytest.mark.parametrize("resample", ["onnx", "remap"])
@pytest.mark.parametrize("stride", [1, 2, 4])
def test_nearest_surface_wins_and_holes_fill_from_background(stride, resample, model_cache):
    B = 0.1
    imgs, depths, K = _two_plane_scene(B=B)
    rp = Reprojector(stride=stride, cache_dir=model_cache, provider="cpu", resample=resample)
    # both eyes at the midpoint, 0.3 m behind (any pose: the right eye also yaws 2 degrees)
    a = np.deg2rad(2.0)
    R = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    T_world_from_eye = [_T(t=(B / 2, 0, -0.3)), _T(R, (B / 2, 0, -0.3))]
    T_l = [np.linalg.inv(T) @ _T() for T in T_world_from_eye]
    T_r = [np.linalg.inv(T) @ _T(t=(B, 0, 0)) for T in T_world_from_eye]
    out, depth, holes = rp.render(imgs["left"], imgs["right"], depths["left"], depths["right"], K, K,
                                  np.stack([K, K]), np.stack(T_l), np.stack(T_r))
    h, w = depths["left"].shape
    # eye 0: the square (z=1.3 from the eye) projects to the centre, |x| < 0.15/1.3*f px
    half_px = 0.15 / 1.3 * K[0, 0]
    c = (w - 1) / 2
    inner = out[0][int(h / 2 - half_px) + 3:int(h / 2 + half_px) - 3, int(c - half_px) + 3:int(c + half_px) - 3]
    red = (inner[..., 2] > 200) & (inner[..., 1] < 40) & (inner[..., 0] < 40)
    assert red.mean() > 0.98, "the near square must cover the far wall (nearest surface wins)"
    d_in = depth[0][int(h / 2) - 3:int(h / 2) + 3, int(c) - 3:int(c) + 3]
    assert np.allclose(d_in, 1.3, rtol=0.02)
    # outside the square (beyond one cell of its edge) nothing is red: no foreground smear
    ring = np.ones((h, w), bool)
    m = int(half_px) + stride + 2
    ring[int(h / 2) - m:int(h / 2) + m + 1, int(c) - m:int(c) + m + 1] = False
    o = out[0][ring]
    assert np.mean((o[:, 2] > 200) & (o[:, 1] < 40)) < 0.001
    # the wall behind keeps its depth (4.3 m), holes get the background's depth, never the square's; the
    # eye, 0.3 m behind the cameras, sees past their edges: unknown depth there (0), not the wall's
    assert np.median(depth[0][ring & (depth[0] > 0)]) == pytest.approx(4.3, rel=0.02)
    outside = _outside_both_cameras(K, [T_l[0], T_r[0]], 4.3, (h, w))
    assert outside.mean() > 0.05
    _check_hole_depths(depth[0], holes[0], outside, stride)
    # the yawed eye also sees the square, shifted left by ~f*tan(2 deg) px
    shift = K[0, 0] * np.tan(a)
    col = int(round(c - shift))
    assert (out[1][int(h / 2), col, 2] > 200) and (out[1][int(h / 2), col, 1] < 40)
    # a caller that wants unknown depth as NaN (or inf) gets it written directly, the rest unchanged
    out_n, depth_n, holes_n = rp.render(imgs["left"], imgs["right"], depths["left"], depths["right"], K, K,
                                        np.stack([K, K]), np.stack(T_l), np.stack(T_r), unknown_depth=np.nan)
    np.testing.assert_array_equal(np.isnan(depth_n), depth == 0)
    np.testing.assert_array_equal(depth_n[depth > 0], depth[depth > 0])
    np.testing.assert_array_equal(out_n, out)
    np.testing.assert_array_equal(holes_n, holes)


def test_wide_disocclusions_are_filled_by_the_pyramid_as_in_the_reference(model_cache):
    """Holes wider than the one 5x5 pass reaches are filled by the push-pull pyramid, in the graph as in
    the numpy reference, with the wall's depth."""
    B = 0.1
    imgs, depths, K = _two_plane_scene(B=B)
    # eyes 0.6 m to the left / right of the rig: wide strips beside the square that neither camera sees
    T_l = [np.linalg.inv(_T(t=(x, 0, 0))) @ _T() for x in (-0.6, B + 0.6)]
    T_r = [np.linalg.inv(_T(t=(x, 0, 0))) @ _T(t=(B, 0, 0)) for x in (-0.6, B + 0.6)]
    rp = Reprojector(stride=4, cache_dir=model_cache, provider="cpu", resample="onnx")
    f = rp.feeds(imgs["left"], imgs["right"], depths["left"], depths["right"], K, K, np.stack([K, K]),
                 np.stack(T_l), np.stack(T_r))
    img, depth, holes = rp.run_feeds(f)
    # hole pixels more than 2 cells (8 px) inside a hole, away from the image border: the 5x5 pass
    # cannot reach them, the pyramid must
    deep = cv2.erode(holes[0, 0].astype(np.uint8), np.ones((2 * 9 + 1, 2 * 9 + 1), np.uint8)) > 0
    assert deep[:, 12:].sum() > 40, "the scene must have holes wider than the 5x5 pass reaches"
    r_img, r_depth, r_holes = reproject(
        {"left": f["left_image"][0], "right": f["right_image"][0]},
        {"left": f["left_depth"][0, 0], "right": f["right_depth"][0, 0]},
        {"left": f["left_valid"][0, 0], "right": f["right_valid"][0, 0]},
        {"left": f["K_left"], "right": f["K_right"]}, f["K_eyes"],
        {"left": f["T_eye_from_left"], "right": f["T_eye_from_right"]}, ModelParams(stride=4))
    assert np.array_equal(holes, r_holes)
    assert np.mean(np.abs(img - r_img) > 1.0) < 0.001
    assert np.array_equal(depth > 0, r_depth > 0)
    # the wall's depth (4 m), never the square's (1 m), where a camera looks; unknown past both cameras
    assert np.mean(depth[holes & (depth > 0)] > 3.0) > 0.95
    for e in range(2):
        outside = _outside_both_cameras(K, [T_l[e], T_r[e]], 4.0, holes.shape[-2:])
        _check_hole_depths(depth[e, 0], holes[e, 0], outside, 4)


def test_graph_ignores_nan_and_inf_depth_even_where_marked_valid(model_cache):
    """The model's inputs straight from a caller (not through Reprojector, which cleans them): depth that
    is NaN or inf where the validity mask says True is treated as unusable, in both graph variants."""
    import onnxruntime as ort

    from reprojection.build import subsample_depth

    B = 0.1
    imgs, depths, K = _two_plane_scene(B=B)
    T_l = [np.linalg.inv(_T(t=(x, 0, -0.2))) @ _T() for x in (0.0, B)]
    T_r = [np.linalg.inv(_T(t=(x, 0, -0.2))) @ _T(t=(B, 0, 0)) for x in (0.0, B)]
    bad = depths["left"].copy()
    bad[8:20, 8:20] = np.inf
    bad[40:52, 8:20] = np.nan
    rp = Reprojector(stride=4, cache_dir=model_cache, provider="cpu", resample="onnx")
    feeds = rp.feeds(imgs["left"], imgs["right"], depths["left"], depths["right"], K, K, np.stack([K, K]),
                     np.stack(T_l), np.stack(T_r))
    raw = dict(feeds, left_depth=bad[None, None], left_valid=np.ones((1, 1) + bad.shape, bool))
    images, depth, holes = rp.session.run(None, raw)
    assert np.isfinite(images).all() and np.isfinite(depth).all()
    # the maps variant's input maker drops them too (the graph does not test its input again)
    sub = subsample_depth(bad, 4)[0, 0]
    assert np.isfinite(sub).all() and (sub[2:5, 2:5] == 0).all() and (sub[10:13, 2:5] == 0).all()
    maps = ort.InferenceSession(model_bytes(4, True, True), providers=["CPUExecutionProvider"])
    fields = maps.run(None, {**{k: raw[k] for k in MAPS_INPUT_NAMES if k in raw},
                             "left_depth_sub": subsample_depth(bad, 4),
                             "right_depth_sub": subsample_depth(depths["right"], 4),
                             "image_size": np.array(bad.shape, np.int64)})[0]
    assert np.isfinite(fields).all()


def test_reprojector_and_graph_share_one_rule_for_usable_depth(model_cache):
    """Depth is usable where 0 < z < BIG (1e30, the splat's "empty"): the Reprojector's cleaning of the
    camera-frame inputs, with and without a validity mask, and the maps variant's subsampled input agree
    on every kind of value (a finite 1e31 included, which the graph would otherwise take as empty)."""
    from reprojection.build import BIG, subsample_depth

    z = np.array([[1.5, 0.0, -2.0, np.nan, np.inf, -np.inf, 1e31, np.float32(BIG), 9e29, 3e-8]], np.float32)
    z = np.repeat(np.repeat(z, 4, 0), 4, 1)  # 4x40: every value lands on a stride-4 splatted pixel
    usable = (z > 0) & (z < np.float32(BIG))
    assert usable[0].tolist()[::4] == [True, False, False, False, False, False, False, False, True, True]
    rp = Reprojector(stride=4, cache_dir=model_cache, provider="cpu", resample="remap")
    img = np.zeros(z.shape + (3,), np.uint8)
    plain = rp.camera_feeds(img, img, z, z)
    masked = rp.camera_feeds(img, img, z, z, np.ones(z.shape, bool), np.ones(z.shape, bool))
    for feeds in (plain, masked):
        np.testing.assert_array_equal(feeds["left_depth"][0, 0], np.where(usable, z, 0))
        np.testing.assert_array_equal(feeds["left_depth_sub"], subsample_depth(z, 4))
    np.testing.assert_array_equal(plain["left_valid"][0, 0], usable)
    np.testing.assert_array_equal(subsample_depth(z, 4)[0, 0] > 0, usable[::4, ::4])


def test_hole_cells_take_the_preferred_camera_and_keep_the_background_parallax(model_cache):
    """Cells no camera sees copy the preferred (nearer) camera's position from the background beside them;
    the other camera's position moves with it, so the two stay one background disparity apart."""
    B, f_px = 0.1, 100.0
    imgs, depths, K = _two_plane_scene(B=B, f=f_px)
    depths["left"][4, 8] = np.nan  # unusable depth at a splatted pixel: 0 in the subsampled input
    T_l = [np.linalg.inv(_T(t=(x, 0, 0))) @ _T() for x in (-0.6, B + 0.6)]  # eye 0 nearer the left camera
    T_r = [np.linalg.inv(_T(t=(x, 0, 0))) @ _T(t=(B, 0, 0)) for x in (-0.6, B + 0.6)]
    rp = Reprojector(stride=4, cache_dir=model_cache, provider="cpu", resample="remap")
    feeds = rp.feeds(imgs["left"], imgs["right"], depths["left"], depths["right"], K, K, np.stack([K, K]),
                     np.stack(T_l), np.stack(T_r))
    # the maps graph's per-camera-frame depth input: the splatted pixels only, 0 where unusable
    expect = np.nan_to_num(depths["left"][::4, ::4], nan=0.0)
    assert expect[1, 2] == 0
    np.testing.assert_array_equal(feeds["left_depth_sub"][0, 0], expect)
    assert feeds["left_depth_sub"][0, 0].shape == (30, 40)
    fields, cell_depth, cell_holes = rp.session.run(None, {k: feeds[k] for k in MAPS_INPUT_NAMES})
    h, w = depths["left"].shape
    for e, share in ((0, 1.0), (1, 0.0)):
        hole = cell_holes[e, 0]
        assert hole.sum() > 20, "the scene must have cells no camera sees"
        np.testing.assert_array_equal(fields[e, 4][hole], share)  # the preferred camera only
        xl, yl, xr, yr = fields[e, :4]
        inner = hole & (xl > 4) & (xl < w - 5) & (xr > 4) & (xr < w - 5)  # not clamped at an image edge
        assert inner.sum() > 10
        # the filled position is the wall's (4 m): the right camera sees it f B / 4 = 2.5 px further left
        np.testing.assert_allclose((xr - xl)[inner], -f_px * B / 4.0, atol=0.05)
        np.testing.assert_allclose(yr[inner], yl[inner], atol=1e-3)


@pytest.mark.parametrize("W,Wl", [(640, 161), (384, 97), (100, 26), (37, 10), (50, 50), (9, 2), (11, 3)])
def test_gather_x_upsampling_by_segments_is_the_align_corners_lerp(W, Wl):
    """The gather expands cell rows along x by segments of columns (both cells loaded once per segment);
    every column must still get the align-corners bilinear value, whatever the segment lengths."""
    from reprojection.gather import _expand, segment_tables, upsample_tables

    rng = np.random.default_rng(W * 1000 + Wl)
    Hl = 3
    fields = rng.uniform(0, 100, (5, Hl, Wl)).astype(np.float32)
    depth = rng.uniform(-1, 3, (1, Hl, Wl)).astype(np.float32)  # <= 0: unknown
    holes = rng.random((1, Hl, Wl)) < 0.3
    _, _, _, x0, x1, fx, _, nx = upsample_tables(2, W, 2, Wl)
    starts, upper, wa, wb, span = segment_tables(W, Wl)
    EX = np.full((Hl, 6, W + span), np.nan, np.float32)
    EW = np.empty((Hl, W), np.float32)
    EH = np.empty((Hl, W), np.bool_)
    _expand(fields, depth, holes, starts, upper, wa, wb, nx, EX, EW, EH)
    known = (depth[0] > 0).astype(np.float32)
    for k, src in enumerate([*fields[:4], depth[0], known]):
        want = src[:, x0] * (1 - fx) + src[:, x1] * fx
        np.testing.assert_allclose(EX[:, k, :W], want, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(EW, fields[4][:, nx])
    np.testing.assert_array_equal(EH, holes[0][:, nx])
