"""The GL side of a frame without a runtime: what ends up in the swapchain images (read back from GL).

Needs an EGL OpenGL context (Mesa: llvmpipe works headless); skipped where none can be made.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

W, H = 64, 48
FOV = (-0.5, 0.5, 0.4, -0.4)  # radians, symmetric
NEAR, FAR = 0.05, 100.0


@pytest.fixture(scope="module")
def gl():
    os.environ.setdefault("EGL_PLATFORM", "surfaceless")
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    pytest.importorskip("OpenGL")
    import OpenGL.platform

    if "EGL" not in type(OpenGL.platform.PLATFORM).__name__.upper():
        pytest.fail(f"PyOpenGL was imported with the {type(OpenGL.platform.PLATFORM).__name__} before these tests "
                    f"set PYOPENGL_PLATFORM=egl (tests/xr/conftest.py sets it at collection)")
    egl_util = pytest.importorskip("xr.utils.gl.egl_util", reason="pyopenxr is not installed")
    try:
        ctx = egl_util.EGLOffscreenContextProvider()
        ctx.make_current()
    except Exception as exc:  # no EGL / Mesa here
        pytest.skip(f"no headless EGL OpenGL context: {exc}")
    from OpenGL import GL

    if GL.glGetString(GL.GL_VERSION) is None:
        pytest.skip("EGL context without OpenGL")
    yield GL
    ctx.destroy()


def _targets(GL):
    color = GL.glGenTextures(1)
    GL.glBindTexture(GL.GL_TEXTURE_2D, color)
    GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_SRGB8_ALPHA8, 2 * W, H, 0, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE, None)
    depth = GL.glGenTextures(1)
    GL.glBindTexture(GL.GL_TEXTURE_2D, depth)
    GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_DEPTH_COMPONENT32F, 2 * W, H, 0, GL.GL_DEPTH_COMPONENT, GL.GL_FLOAT,
                    None)
    return color, depth


def _read(GL, color, depth):
    GL.glFinish()
    GL.glBindTexture(GL.GL_TEXTURE_2D, color)
    c = np.frombuffer(GL.glGetTexImage(GL.GL_TEXTURE_2D, 0, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE), np.uint8)
    GL.glBindTexture(GL.GL_TEXTURE_2D, depth)
    d = np.frombuffer(GL.glGetTexImage(GL.GL_TEXTURE_2D, 0, GL.GL_DEPTH_COMPONENT, GL.GL_FLOAT), np.float32)
    # GL rows are bottom-up: flip to the project's top-down convention.
    return c.reshape(H, 2 * W, 4)[::-1], d.reshape(H, 2 * W)[::-1]


def _box(center_xr, size):
    M = np.diag([size, size, size, 1.0])
    M[:3, 3] = center_xr
    return M


def test_real_image_depth_and_holograms_land_in_the_swapchain_images(gl):
    from openxr_app.display import EyeImage, depth_m_to_window_depth, intrinsics_from_fov
    from openxr_app.gl_render import EyeCompositor

    comp = EyeCompositor(NEAR, FAR)
    color, depth = _targets(gl)
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[:, : W // 2] = (200, 30, 30)
    rgb[:, W // 2:] = (50, 60, 70)
    rgb[0, :] = (1, 2, 3)  # top row marker: checks the row order
    real = np.full((H, W), np.inf, np.float32)
    real[:, : W // 2] = 2.0  # a real wall 2 m away on the left half; nothing on the right half
    eye = EyeImage(rgb, real)
    pose = np.array([0, 0, 0, 0, 0, 0, 1.0])  # eye at the origin looking down -z (OpenXR)
    green = _box([0.0, -0.25, -3.0], 1.0)  # front face at 2.5 m: behind the wall, in front of "nothing"
    magenta = _box([0.0, 0.2, -1.0], 0.1)  # front face at 0.95 m: in front of everything
    models, colors = [green, magenta], [(0, 255, 0), (255, 0, 255)]
    comp.compose(color, depth, (0, 0, W, H), eye, pose, FOV, models, colors)
    comp.compose(color, depth, (W, 0, W, H), eye, pose, FOV, [], [])  # right half: no holograms
    c, d = _read(gl, color, depth)
    K = intrinsics_from_fov(FOV, W, H)

    def px(p_cv):
        u, v = (K @ p_cv)[:2] / p_cv[2]
        return int(round(v)), int(round(u))

    wd = lambda z: float(depth_m_to_window_depth(np.array([z], np.float32), NEAR, FAR)[0])  # noqa: E731
    # The green box's centre row, left of centre: hidden by the real wall (2 m < 2.5 m).
    v, u = px(np.array([-0.3, 0.25, 2.5]))
    assert c[v, u, :3].tolist() == [200, 30, 30] and d[v, u] == pytest.approx(wd(2.0), abs=1e-6)
    # Right of centre: nothing real, so the green box shows and its depth is written.
    v, u = px(np.array([0.3, 0.25, 2.5]))
    assert c[v, u, :3].tolist() == [0, 255, 0] and d[v, u] == pytest.approx(wd(2.5), abs=1e-5)
    # The magenta box is in front of everything.
    v, u = px(np.array([0.0, -0.2, 0.95]))
    assert c[v, u, :3].tolist() == [255, 0, 255] and d[v, u] == pytest.approx(wd(0.95), abs=1e-5)
    # Away from holograms: the real image and its depth (inf -> 1), top row where it belongs.
    assert c[H - 1, W - 1, :3].tolist() == [50, 60, 70] and d[H - 1, W - 1] == 1.0
    assert c[0, 5, :3].tolist() == [1, 2, 3] and d[0, 5] == pytest.approx(wd(2.0), abs=1e-6)
    # The second eye's rectangle got the plain real image, the first eye's was not touched by it.
    assert np.array_equal(c[:, W:, :3], rgb)
    assert np.allclose(d[:, W:], depth_m_to_window_depth(real, NEAR, FAR), atol=1e-6)
    assert (c[..., :3][:, :W] == (0, 255, 0)).all(axis=2).sum() > 20
    comp.destroy()


def test_transparent_mode_leaves_only_holograms_opaque(gl):
    from openxr_app.display import EyeImage
    from openxr_app.gl_render import EyeCompositor

    comp = EyeCompositor(NEAR, FAR)
    color, depth = _targets(gl)
    eye = EyeImage(np.full((H, W, 3), 90, np.uint8), np.full((H, W), np.inf, np.float32))
    comp.compose(color, depth, (0, 0, W, H), eye, np.array([0, 0, 0, 0, 0, 0, 1.0]), FOV,
                 [_box([0.0, 0.0, -1.0], 0.2)], [(255, 0, 255)], transparent=True)
    c, _ = _read(gl, color, depth)
    opaque = c[:, :W, 3] == 255
    assert opaque[H // 2, W // 2] and c[H // 2, W // 2, :3].tolist() == [255, 0, 255]
    assert (c[:, :W, 3][~opaque] == 0).all() and 0 < opaque.mean() < 0.5
    comp.destroy()


def test_meshes_are_drawn_and_depth_tested(gl):
    """A triangle-mesh hologram (a 1 m quad facing the eye, 3 m away) is hidden by the real wall on the
    left half (2 m) and drawn with its depth on the right half (nothing real)."""
    from openxr_app.display import EyeImage, depth_m_to_window_depth, intrinsics_from_fov
    from openxr_app.gl_render import EyeCompositor

    comp = EyeCompositor(NEAR, FAR)
    color, depth = _targets(gl)
    real = np.full((H, W), np.inf, np.float32)
    real[:, : W // 2] = 2.0
    eye = EyeImage(np.full((H, W, 3), 90, np.uint8), real)
    quad_v = np.array([[-0.5, -0.5, 0], [0.5, -0.5, 0], [0.5, 0.5, 0], [-0.5, 0.5, 0]], np.float32)
    quad_t = np.array([[0, 1, 2], [0, 2, 3]], np.int32)
    mesh = comp.mesh(quad_v, quad_t)
    M = np.eye(4)
    M[:3, 3] = [0.0, 0.0, -3.0]  # OpenXR world: 3 m ahead
    comp.compose(color, depth, (0, 0, W, H), eye, np.array([0, 0, 0, 0, 0, 0, 1.0]), FOV, [M], [(10, 20, 250)],
                 hologram_meshes=[mesh])
    c, d = _read(gl, color, depth)
    K = intrinsics_from_fov(FOV, W, H)
    wd = float(depth_m_to_window_depth(np.array([3.0], np.float32), NEAR, FAR)[0])
    u_right = int(round(K[0, 0] * 0.3 / 3.0 + K[0, 2]))
    u_left = int(round(K[0, 0] * -0.3 / 3.0 + K[0, 2]))
    v = int(round(K[1, 2]))
    assert c[v, u_right, :3].tolist() == [10, 20, 250] and d[v, u_right] == pytest.approx(wd, abs=1e-5)
    assert c[v, u_left, :3].tolist() == [90, 90, 90]
    comp.destroy()


def test_compose_eyes_matches_per_eye_compose(gl):
    """Both eyes in one upload (side by side) give the same swapchain contents as one eye at a time."""
    from openxr_app.display import EyeImage
    from openxr_app.gl_render import EyeCompositor

    comp = EyeCompositor(NEAR, FAR)
    rng = np.random.default_rng(5)
    eyes = [EyeImage(rng.integers(0, 255, (H, W, 3), dtype=np.uint8),
                     rng.uniform(0.5, 5.0, (H, W)).astype(np.float32)) for _ in range(2)]
    poses = [np.array([-0.03, 0, 0, 0, 0, 0, 1.0]), np.array([0.03, 0, 0, 0, 0, 0, 1.0])]
    models, colors = [_box([0.0, 0.0, -1.0], 0.3)], [(255, 0, 255)]
    rects = [(0, 0, W, H), (W, 0, W, H)]
    results = []
    for together in (True, False):
        color, depth = _targets(gl)
        if together:
            comp.compose_eyes(color, depth, rects, eyes, poses, [FOV, FOV], models, colors)
        else:
            for r, e, p in zip(rects, eyes, poses):
                comp.compose(color, depth, r, e, p, FOV, models, colors)
        results.append(_read(gl, color, depth))
    assert np.array_equal(results[0][0], results[1][0]) and np.array_equal(results[0][1], results[1][1])
    assert (results[0][0][..., :3] == (255, 0, 255)).all(axis=2).sum() > 50
    comp.destroy()


class _FakeSession:
    """Swapchains of ``n`` images over GL textures made here; counts acquire/release like the runtime."""

    def __init__(self, gl, n=3, fail_on=None):
        self.targets = [_targets(gl) for _ in range(n)]
        self.color = type("Swapchain", (), {"textures": [c for c, _ in self.targets]})()
        self.eye_rects = [(0, 0, W, H), (W, 0, W, H)]
        self.runtime_passthrough = False
        self.acquired, self.released, self.fail_on = 0, 0, fail_on
        self.held = False

    def acquire(self):
        if self.acquired == self.fail_on:
            raise RuntimeError("XR_ERROR_CALL_ORDER_INVALID")
        self.held = True
        t = self.targets[self.acquired % len(self.targets)]
        self.acquired += 1
        return t

    def release(self):
        if self.held:
            self.released += 1
            self.held = False


def test_swapchain_warm_up_touches_every_image_once_and_survives_a_refusal(gl):
    from openxr_app.app import warm_up_swapchains
    from openxr_app.gl_render import EyeCompositor

    comp = EyeCompositor(NEAR, FAR)
    sess = _FakeSession(gl)
    for c, _ in sess.targets:  # not black yet
        gl.glBindTexture(gl.GL_TEXTURE_2D, c)
        gl.glTexSubImage2D(gl.GL_TEXTURE_2D, 0, 0, 0, 2 * W, H, gl.GL_RGBA, gl.GL_UNSIGNED_BYTE,
                           np.full((H, 2 * W, 4), 200, np.uint8))
    lines = []
    warm_up_swapchains(sess, comp, [(W, H), (W, H)], [(255, 0, 255)], [None], lines.append)
    assert sess.acquired == sess.released == 3 and not lines
    for c, d in sess.targets:
        col, dep = _read(gl, c, d)
        assert not (col[..., :3] == 200).all(axis=2).any()  # the old content is overwritten everywhere
        assert (col[..., :3] == 0).all(axis=2).mean() > 0.9 and (dep == 1.0).mean() > 0.9  # black, no depth
        # (a small hologram box may cover a pixel or two in the middle)
    refusing = _FakeSession(gl, fail_on=1)
    warm_up_swapchains(refusing, comp, [(W, H), (W, H)], [], [], lines.append)
    assert refusing.acquired == refusing.released == 1
    assert len(lines) == 1 and "warm-up skipped" in lines[0] and "CALL_ORDER_INVALID" in lines[0]
    comp.destroy()
