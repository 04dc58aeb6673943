"""A small OpenXR session over pyopenxr that hides the ctypes.

:class:`XrSession` owns the instance, the system, a headless EGL OpenGL context (``XR_KHR_opengl_enable`` +
``XR_MNDX_egl_enable``), the session and its state machine, a reference space and one colour and one depth
swapchain per eye. The frame loop itself lives in :mod:`openxr_app.app`; this class gives it small calls:
``poll_events``, ``wait_frame``, ``begin_frame``, ``locate_views``, ``acquire``/``release`` and
``end_frame`` (projection layer, with ``XrCompositionLayerDepthInfoKHR`` when the runtime offers it).

Both eyes share one colour and one depth swapchain, side by side (eye ``i`` at ``eye_rects[i]``): each
swapchain call is a round trip to the runtime's process (Monado: IPC), so two swapchains instead of four
halve that per-frame cost.

Lifecycle rules learnt on Monado + Mesa llvmpipe (see issue 8): ``xrGetOpenGLGraphicsRequirementsKHR`` is
called before ``xrCreateSession``; every begun frame is ended; to quit, ``request_exit`` and keep looping
until the session reaches EXITING, then :meth:`XrSession.close` destroys everything. Destroying a session
with a frame open crashed inside llvmpipe.

Poses returned here are raw OpenXR (``[x, y, z, qx, qy, qz, qw]``, reference space, +y up). Conversion to
the project's OpenCV convention happens in :mod:`passthrough.geometry` only.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

#: Extensions the app uses when the runtime offers them. The first two are required (headless OpenGL).
REQUIRED_EXTENSIONS = ("XR_KHR_opengl_enable", "XR_MNDX_egl_enable")
OPTIONAL_EXTENSIONS = (
    "XR_KHR_composition_layer_depth",
    "XR_FB_passthrough",
    "XR_EXT_hand_tracking",
    "XR_FB_display_refresh_rate",
)

INSTALL_HINT = (
    "install an OpenXR runtime, e.g. Monado (Debian trixie: apt-get install monado-service libopenxr1-monado "
    "libopenxr-loader1; in this project: scripts/xr-runtime setup && scripts/xr-runtime start, then run the app "
    "with scripts/xr-runtime exec), or point XR_RUNTIME_JSON at a runtime's manifest"
)

# OpenGL internal formats (numeric, so that this module does not need PyOpenGL at import time).
GL_SRGB8_ALPHA8 = 0x8C43
GL_RGBA8 = 0x8058
GL_DEPTH_COMPONENT32F = 0x8CAC
GL_DEPTH_COMPONENT24 = 0x81A6
GL_DEPTH_COMPONENT16 = 0x81A5
COLOR_FORMATS = (GL_SRGB8_ALPHA8, GL_RGBA8)
DEPTH_FORMATS = (GL_DEPTH_COMPONENT32F, GL_DEPTH_COMPONENT24, GL_DEPTH_COMPONENT16)



def _set_sub_image(sub, swapchain, rect) -> None:
    """Fill an ``XrSwapchainSubImage``: ``rect`` = (x, y, width, height) in pixels, array layer 0."""
    x, y, w, h = rect
    sub.swapchain = swapchain
    sub.image_rect.offset.x = x
    sub.image_rect.offset.y = y
    sub.image_rect.extent.width = w
    sub.image_rect.extent.height = h
    sub.image_array_index = 0

class XrUnavailableError(RuntimeError):
    """No usable OpenXR runtime (or Python bindings): the message says what to install or start."""


class XrRuntimeLostError(RuntimeError):
    """The runtime went away during the session (instance lost, session lost, runtime failure, IPC gone)."""


@dataclass
class FrameTiming:
    """``xrWaitFrame``'s answer: predicted display time and period (ns, runtime clock) and shouldRender."""

    predicted_display_time: int
    predicted_display_period: int
    should_render: bool


@dataclass
class Swapchain:
    """One swapchain: handle, size, GL format and the GL texture names of its images."""

    handle: object
    width: int
    height: int
    format: int
    textures: List[int] = field(default_factory=list)


def _xr():
    """Import pyopenxr (lazily), turning a missing package into :class:`XrUnavailableError`."""
    os.environ.setdefault("XRT_LOG", "warning")  # Monado's client library logs at info level otherwise
    # the OpenXR loader prints 4-5 "Error [GENERAL | ... | OpenXR-Loader]" lines when it finds no runtime;
    # this module turns that into one error line of its own
    os.environ.setdefault("XR_LOADER_DEBUG", "none")
    # pyopenxr imports PyOpenGL, which picks its platform once, at import: headless EGL unless told otherwise.
    os.environ.setdefault("EGL_PLATFORM", "surfaceless")
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    try:
        import xr  # noqa: WPS433
    except Exception as exc:  # ImportError, or OSError when the bundled loader cannot load
        raise XrUnavailableError(f"the OpenXR Python bindings are missing ({exc}): pip install pyopenxr PyOpenGL; "
                                 f"and {INSTALL_HINT}") from exc
    return xr


def _result_name(exc: BaseException) -> str:
    name = type(exc).__name__
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{name}: {msg}" if msg else name


def is_runtime_loss(exc: BaseException) -> bool:
    """True for pyopenxr errors that mean the runtime is gone (not a programming error)."""
    xr = _xr()
    lost = (xr.InstanceLostError, xr.SessionLostError, xr.RuntimeFailureError)
    return isinstance(exc, lost) or isinstance(exc, XrRuntimeLostError)


def _pose7(pose) -> np.ndarray:
    return np.array([pose.position.x, pose.position.y, pose.position.z,
                     pose.orientation.x, pose.orientation.y, pose.orientation.z, pose.orientation.w],
                    dtype=np.float64)


def _fov4(fov) -> Tuple[float, float, float, float]:
    return (float(fov.angle_left), float(fov.angle_right), float(fov.angle_up), float(fov.angle_down))


class XrSession:
    """An OpenXR session with a headless OpenGL context and colour + depth swapchains per eye.

    Args:
        app_name: application name reported to the runtime.
        eye_scale: swapchain size as a fraction of the runtime's recommended per-eye size (clamped to the
            maximum). Smaller keeps the app's CPU work inside the frame on software renderers.
        reference_space: ``"LOCAL"`` or ``"STAGE"`` (falls back to LOCAL when STAGE is not offered).
        optional_extensions: extensions enabled when offered.

    Use :meth:`open` (instance, system, graphics, session, spaces, swapchains), then the frame calls, then
    :meth:`close`. ``states`` records every session state reached, in order (``"IDLE"``, ``"READY"``...).
    """

    def __init__(self, app_name: str = "passthrough", eye_scale: float = 1.0, reference_space: str = "LOCAL",
                 optional_extensions: Sequence[str] = OPTIONAL_EXTENSIONS, on_state=None):
        self.app_name = app_name
        self.eye_scale = float(eye_scale)
        self.reference_space_name = reference_space
        self.optional_extensions = tuple(optional_extensions)
        self.on_state = on_state  # optional callback(state_name) at every state change
        self.instance = None
        self.system_id = None
        self.session = None
        self.space = None
        self.enabled_extensions: List[str] = []
        self.available_extensions: Dict[str, int] = {}
        self.runtime_name = ""
        self.runtime_version = ""
        self.system_name = ""
        self.states: List[str] = []
        self.state: Optional[str] = None
        self.running = False  # between xrBeginSession and xrEndSession
        self.exiting = False  # EXITING reached (or LOSS_PENDING / instance loss): leave the loop
        self.loss_pending = False
        self.color: Optional[Swapchain] = None
        self.depth: Optional[Swapchain] = None
        self.eye_rects: List[Tuple[int, int, int, int]] = []  # (x, y, w, h) of each eye in the swapchains
        self.view_config_views = []
        self.gl_context = None
        self._gl_binding = None
        self._layer = None
        self._layer_views = None
        self._depth_infos = None
        self._acquired: Dict[str, bool] = {}
        self._hand_trackers: Dict[str, object] = {}
        self._hand_buffers: Dict[str, object] = {}
        self._passthrough = None
        self._passthrough_layer = None
        self._passthrough_comp = None

    # ------------------------------------------------------------------------------------------ instance
    def create_instance(self) -> None:
        """Create the instance with the required extensions and those optional ones the runtime offers.

        Raises :class:`XrUnavailableError` (no runtime, runtime not running, missing extension).
        """
        xr = _xr()
        try:
            props = xr.enumerate_instance_extension_properties()
        except xr.XrException as exc:
            raise XrUnavailableError(f"no OpenXR runtime available ({_result_name(exc)}): {INSTALL_HINT}") from exc
        self.available_extensions = {p.extension_name.decode(): int(p.extension_version) for p in props}
        missing = [e for e in REQUIRED_EXTENSIONS if e not in self.available_extensions]
        if missing:
            raise XrUnavailableError(f"the OpenXR runtime lacks {', '.join(missing)}, needed for headless OpenGL "
                                     f"rendering: use a runtime that offers it (Monado does): {INSTALL_HINT}")
        self.enabled_extensions = list(REQUIRED_EXTENSIONS) + [
            e for e in self.optional_extensions if e in self.available_extensions]
        try:
            self.instance = xr.create_instance(xr.InstanceCreateInfo(
                application_info=xr.ApplicationInfo(application_name=self.app_name, engine_name="passthrough"),
                enabled_extension_names=self.enabled_extensions))
        except xr.XrException as exc:
            raise XrUnavailableError(f"could not connect to the OpenXR runtime ({_result_name(exc)}); is it "
                                     f"running (Monado: monado-service; here: scripts/xr-runtime start)? "
                                     f"Otherwise {INSTALL_HINT}") from exc
        props = xr.get_instance_properties(self.instance)
        self.runtime_name = props.runtime_name.decode()
        self.runtime_version = str(xr.Version(props.runtime_version))
        try:
            self.system_id = xr.get_system(self.instance, xr.SystemGetInfo(
                form_factor=xr.FormFactor.HEAD_MOUNTED_DISPLAY))
        except xr.XrException as exc:
            raise XrUnavailableError(f"the OpenXR runtime {self.runtime_name} has no head-mounted display "
                                     f"({_result_name(exc)}): connect a headset or enable a simulated one "
                                     f"(Monado: SIMULATED_ENABLE=1)") from exc
        sp = xr.get_system_properties(self.instance, self.system_id)
        self.system_name = sp.system_name.decode()
        self.view_config_views = list(xr.enumerate_view_configuration_views(
            self.instance, self.system_id, xr.ViewConfigurationType.PRIMARY_STEREO))

    def info(self) -> dict:
        """The runtime's facts (instance-level; no session needed): a JSON-able dict."""
        xr = _xr()
        sp = xr.get_system_properties(self.instance, self.system_id)
        configs = []
        for vc in xr.enumerate_view_configurations(self.instance, self.system_id):
            vct = xr.ViewConfigurationType(vc)
            views = xr.enumerate_view_configuration_views(self.instance, self.system_id, vct)
            blends = xr.enumerate_environment_blend_modes(self.instance, self.system_id, vct)
            configs.append({
                "type": vct.name,
                "views": [{"recommended": [v.recommended_image_rect_width, v.recommended_image_rect_height],
                           "max": [v.max_image_rect_width, v.max_image_rect_height],
                           "recommended_samples": v.recommended_swapchain_sample_count} for v in views],
                "environment_blend_modes": [xr.EnvironmentBlendMode(b).name for b in blends],
            })
        return {
            "runtime": self.runtime_name,
            "runtime_version": self.runtime_version,
            "system": self.system_name,
            "vendor_id": int(sp.vendor_id),
            "max_swapchain_size": [int(sp.graphics_properties.max_swapchain_image_width),
                                   int(sp.graphics_properties.max_swapchain_image_height)],
            "max_layer_count": int(sp.graphics_properties.max_layer_count),
            "orientation_tracking": bool(sp.tracking_properties.orientation_tracking),
            "position_tracking": bool(sp.tracking_properties.position_tracking),
            "view_configurations": configs,
            "hand_tracking": self.system_supports_hand_tracking(),
            "runtime_passthrough": "XR_FB_passthrough" in self.available_extensions,
            "extensions": sorted(self.available_extensions),
            "enabled_extensions": list(self.enabled_extensions),
        }

    # ------------------------------------------------------------------------------------------ session
    def has(self, extension: str) -> bool:
        """True when ``extension`` is enabled on the instance."""
        return extension in self.enabled_extensions

    def create_session(self) -> None:
        """EGL surfaceless GL context, graphics requirements, session, reference space, swapchains."""
        xr = _xr()
        os.environ.setdefault("EGL_PLATFORM", "surfaceless")
        os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
        try:
            from OpenGL import GL
            from xr.utils.gl.egl_util import EGLGraphicsBinding, EGLOffscreenContextProvider
        except Exception as exc:
            raise XrUnavailableError(f"OpenGL/EGL is not usable ({exc}): pip install PyOpenGL and install "
                                     f"Mesa's EGL (Debian: libegl1 libegl-mesa0 libgl1-mesa-dri)") from exc
        # The spec requires this call before xrCreateSession.
        pfn = ctypes.cast(xr.get_instance_proc_addr(self.instance, "xrGetOpenGLGraphicsRequirementsKHR"),
                          xr.PFN_xrGetOpenGLGraphicsRequirementsKHR)
        req = xr.GraphicsRequirementsOpenGLKHR()
        res = xr.check_result(xr.Result(pfn(self.instance, self.system_id, ctypes.byref(req))))
        if res.is_exception():
            raise res
        try:
            self.gl_context = EGLOffscreenContextProvider()
        except Exception as exc:
            raise XrUnavailableError(f"could not create a headless EGL OpenGL context ({exc}): install Mesa "
                                     f"(libegl-mesa0 libgl1-mesa-dri) and set EGL_PLATFORM=surfaceless") from exc
        self.gl_context.make_current()
        major, minor = (int(x) for x in GL.glGetString(GL.GL_VERSION).decode().split()[0].split(".")[:2])
        have = (major << 48) | (minor << 32)
        if have < int(req.min_api_version_supported):
            raise XrUnavailableError(f"OpenGL {major}.{minor} is older than the runtime needs "
                                     f"({xr.Version(req.min_api_version_supported)})")
        self._gl_binding = EGLGraphicsBinding(self.gl_context)
        self.session = xr.create_session(self.instance, xr.SessionCreateInfo(
            system_id=self.system_id, next=self._gl_binding.pointer))
        spaces = [xr.ReferenceSpaceType(s) for s in xr.enumerate_reference_spaces(self.session)]
        want = getattr(xr.ReferenceSpaceType, self.reference_space_name, xr.ReferenceSpaceType.LOCAL)
        if want not in spaces:
            want = xr.ReferenceSpaceType.LOCAL
        self.reference_space_name = want.name
        self.space = xr.create_reference_space(self.session, xr.ReferenceSpaceCreateInfo(
            reference_space_type=want, pose_in_reference_space=xr.Posef()))
        self._create_swapchains()

    def _create_swapchains(self) -> None:
        xr = _xr()
        formats = [int(f) for f in xr.enumerate_swapchain_formats(self.session)]
        color_fmt = next((f for f in COLOR_FORMATS if f in formats), None)
        depth_fmt = next((f for f in DEPTH_FORMATS if f in formats), None)
        if color_fmt is None:
            raise XrUnavailableError(f"the runtime offers no RGBA8 colour swapchain format (offers {formats})")
        use_depth = depth_fmt is not None
        U = xr.SwapchainUsageFlags
        x = 0
        for v in self.view_config_views:
            w = max(16, min(int(round(v.recommended_image_rect_width * self.eye_scale)), v.max_image_rect_width))
            h = max(16, min(int(round(v.recommended_image_rect_height * self.eye_scale)), v.max_image_rect_height))
            self.eye_rects.append((x, 0, w, h))
            x += w
        total_w = x
        total_h = max(r[3] for r in self.eye_rects)
        self.color = self._swapchain(total_w, total_h, color_fmt,
                                     U.COLOR_ATTACHMENT_BIT | U.SAMPLED_BIT | U.TRANSFER_DST_BIT)
        if use_depth:
            self.depth = self._swapchain(total_w, total_h, depth_fmt,
                                         U.DEPTH_STENCIL_ATTACHMENT_BIT | U.SAMPLED_BIT | U.TRANSFER_DST_BIT)

    def _swapchain(self, w: int, h: int, fmt: int, usage) -> Swapchain:
        xr = _xr()
        handle = xr.create_swapchain(self.session, xr.SwapchainCreateInfo(
            usage_flags=usage, format=fmt, sample_count=1, width=w, height=h, face_count=1, array_size=1,
            mip_count=1))
        images = xr.enumerate_swapchain_images(handle, xr.SwapchainImageOpenGLKHR)
        return Swapchain(handle, w, h, fmt, [int(im.image) for im in images])

    @property
    def depth_layer(self) -> bool:
        """True when frames are submitted with ``XrCompositionLayerDepthInfoKHR``."""
        return self.depth is not None and self.has("XR_KHR_composition_layer_depth")

    def open(self) -> "XrSession":
        """:meth:`create_instance` + :meth:`create_session`."""
        self.create_instance()
        self.create_session()
        return self

    # ------------------------------------------------------------------------------------------ events
    def poll_events(self) -> None:
        """Drain the event queue and drive the state machine.

        READY -> ``xrBeginSession``; STOPPING -> ``xrEndSession``; EXITING / LOSS_PENDING / instance loss
        pending -> ``exiting``. Every state is appended to ``states``.
        """
        xr = _xr()
        while True:
            try:
                ev = xr.poll_event(self.instance)
            except xr.EventUnavailable:
                return
            etype = xr.StructureType(ev.type)
            if etype == xr.StructureType.EVENT_DATA_INSTANCE_LOSS_PENDING:
                self.exiting = True
                self.loss_pending = True
                self.states.append("INSTANCE_LOSS_PENDING")
            elif etype == xr.StructureType.EVENT_DATA_SESSION_STATE_CHANGED:
                e = ctypes.cast(ctypes.byref(ev), ctypes.POINTER(xr.EventDataSessionStateChanged)).contents
                st = xr.SessionState(e.state)
                self.state = st.name
                self.states.append(st.name)
                if self.on_state is not None:
                    self.on_state(st.name)
                if st == xr.SessionState.READY:
                    xr.begin_session(self.session, xr.SessionBeginInfo(
                        primary_view_configuration_type=xr.ViewConfigurationType.PRIMARY_STEREO))
                    self.running = True
                elif st == xr.SessionState.STOPPING:
                    xr.end_session(self.session)
                    self.running = False
                elif st == xr.SessionState.EXITING:
                    self.exiting = True
                elif st == xr.SessionState.LOSS_PENDING:
                    self.exiting = True
                    self.loss_pending = True

    def request_exit(self) -> None:
        """Ask the runtime to end the session (it answers with STOPPING, then EXITING)."""
        xr = _xr()
        if self.running:
            xr.request_exit_session(self.session)
        else:
            self.exiting = True

    # ------------------------------------------------------------------------------------------ frames
    def wait_frame(self) -> FrameTiming:
        """``xrWaitFrame``: blocks until the runtime wants the next frame."""
        xr = _xr()
        fs = xr.wait_frame(self.session, xr.FrameWaitInfo())
        return FrameTiming(int(fs.predicted_display_time), int(fs.predicted_display_period), bool(fs.should_render))

    def begin_frame(self) -> None:
        """``xrBeginFrame`` (a ``FrameDiscarded`` answer is normal after a skipped frame)."""
        xr = _xr()
        try:
            xr.begin_frame(self.session, xr.FrameBeginInfo())
        except xr.FrameDiscarded:
            pass

    def locate_views(self, display_time: int) -> Tuple[bool, List[np.ndarray], List[Tuple[float, float, float, float]]]:
        """Eye poses and fovs at ``display_time`` in the reference space.

        Returns ``(valid, poses, fovs)``: ``valid`` is True when position and orientation are valid;
        ``poses`` (7,) float64 ``[x, y, z, qx, qy, qz, qw]`` per eye (OpenXR axes); ``fovs`` per eye
        ``(left, right, up, down)`` radians.
        """
        xr = _xr()
        state, views = xr.locate_views(self.session, xr.ViewLocateInfo(
            view_configuration_type=xr.ViewConfigurationType.PRIMARY_STEREO, display_time=display_time,
            space=self.space))
        flags = int(state.view_state_flags)
        valid = bool(flags & int(xr.VIEW_STATE_POSITION_VALID_BIT)) and bool(
            flags & int(xr.VIEW_STATE_ORIENTATION_VALID_BIT))
        return valid, [_pose7(v.pose) for v in views], [_fov4(v.fov) for v in views]

    def acquire(self) -> Tuple[int, Optional[int]]:
        """Acquire and wait this frame's colour (and depth) swapchain images; returns their GL texture names."""
        xr = _xr()
        out = []
        for kind, sc in (("color", self.color), ("depth", self.depth)):
            if sc is None:
                out.append(None)
                continue
            idx = xr.acquire_swapchain_image(sc.handle, xr.SwapchainImageAcquireInfo())
            self._acquired[kind] = True
            xr.wait_swapchain_image(sc.handle, xr.SwapchainImageWaitInfo(timeout=xr.INFINITE_DURATION))
            out.append(sc.textures[idx])
        return out[0], out[1]

    def release(self) -> None:
        """Release the acquired swapchain images."""
        xr = _xr()
        for kind, sc in (("color", self.color), ("depth", self.depth)):
            if self._acquired.pop(kind, False):
                xr.release_swapchain_image(sc.handle, xr.SwapchainImageReleaseInfo())

    def end_frame(self, display_time: int, poses: Optional[Sequence[np.ndarray]] = None,
                  fovs: Optional[Sequence[Tuple[float, float, float, float]]] = None,
                  near: float = 0.05, far: float = 100.0) -> None:
        """``xrEndFrame``: with a projection layer (and depth info) when ``poses``/``fovs`` are given, else
        with no layers (a skipped frame). ``near``/``far`` are the depth range the depth images encode."""
        xr = _xr()
        layers = []
        if self._passthrough_comp is not None:
            layers.append(ctypes.byref(self._passthrough_comp))
        if poses is not None:
            layer = self._projection_layer(poses, fovs, near, far)
            layers.append(ctypes.byref(layer))
        xr.end_frame(self.session, xr.FrameEndInfo(
            display_time=display_time, environment_blend_mode=xr.EnvironmentBlendMode.OPAQUE, layers=layers))

    def _projection_layer(self, poses, fovs, near, far):
        xr = _xr()
        n = len(self.eye_rects)
        if self._layer is None:
            self._layer_views = (xr.CompositionLayerProjectionView * n)()
            self._depth_infos = (xr.CompositionLayerDepthInfoKHR * n)() if self.depth_layer else None
            for i, (x, y, w, h) in enumerate(self.eye_rects):
                lv = self._layer_views[i]
                lv.type = xr.StructureType.COMPOSITION_LAYER_PROJECTION_VIEW
                _set_sub_image(lv.sub_image, self.color.handle, (x, y, w, h))
                if self._depth_infos is not None:
                    di = self._depth_infos[i]
                    di.type = xr.StructureType.COMPOSITION_LAYER_DEPTH_INFO_KHR
                    di.next = None
                    _set_sub_image(di.sub_image, self.depth.handle, (x, y, w, h))
                    lv.next = ctypes.cast(ctypes.pointer(di), ctypes.c_void_p)
                else:
                    lv.next = None
            flags = xr.CompositionLayerFlags.NONE
            if self._passthrough_comp is not None:  # holograms over the runtime's passthrough: alpha blend
                flags = (xr.CompositionLayerFlags.BLEND_TEXTURE_SOURCE_ALPHA_BIT
                         | xr.CompositionLayerFlags.UNPREMULTIPLIED_ALPHA_BIT)
            self._layer = xr.CompositionLayerProjection(layer_flags=flags, space=self.space, views=self._layer_views)
        for i in range(n):
            lv = self._layer_views[i]
            p = poses[i]
            lv.pose.position.x, lv.pose.position.y, lv.pose.position.z = float(p[0]), float(p[1]), float(p[2])
            (lv.pose.orientation.x, lv.pose.orientation.y, lv.pose.orientation.z,
             lv.pose.orientation.w) = float(p[3]), float(p[4]), float(p[5]), float(p[6])
            (lv.fov.angle_left, lv.fov.angle_right, lv.fov.angle_up, lv.fov.angle_down) = fovs[i]
            if self._depth_infos is not None:
                di = self._depth_infos[i]
                di.min_depth, di.max_depth, di.near_z, di.far_z = 0.0, 1.0, float(near), float(far)
        return self._layer

    def refresh_rates(self) -> List[float]:
        """Refresh rates the display offers (``XR_FB_display_refresh_rate``), or [] without it."""
        if not self.has("XR_FB_display_refresh_rate") or self.session is None:
            return []
        xr = _xr()
        return [float(getattr(r, "value", r)) for r in xr.enumerate_display_refresh_rates_fb(self.session)]

    def current_refresh_rate(self) -> Optional[float]:
        """The display's current refresh rate (``XR_FB_display_refresh_rate``), or None without it."""
        if not self.has("XR_FB_display_refresh_rate") or self.session is None:
            return None
        xr = _xr()
        r = xr.get_display_refresh_rate_fb(self.session)
        return float(getattr(r, "value", r))

    # ------------------------------------------------------------------------------------------ hands
    def start_hand_tracking(self) -> bool:
        """Create ``XR_EXT_hand_tracking`` trackers for both hands. False when the runtime lacks it (or the
        system reports no hand tracking), in which case the app's own hand tracker is used."""
        if self.session is None or not self.system_supports_hand_tracking():
            return False
        xr = _xr()
        for name, hand in (("left", xr.HandEXT.LEFT), ("right", xr.HandEXT.RIGHT)):
            self._hand_trackers[name] = xr.create_hand_tracker_ext(self.session, xr.HandTrackerCreateInfoEXT(
                hand=hand, hand_joint_set=xr.HandJointSetEXT.DEFAULT))
            joints = (xr.HandJointLocationEXT * xr.HAND_JOINT_COUNT_EXT)()
            locs = xr.HandJointLocationsEXT(joint_locations=joints)
            self._hand_buffers[name] = (joints, locs)
        return True

    def system_supports_hand_tracking(self) -> bool:
        """``XrSystemHandTrackingPropertiesEXT.supportsHandTracking`` (False without the extension)."""
        if not self.has("XR_EXT_hand_tracking"):
            return False
        xr = _xr()
        from xr import raw_functions

        props = xr.SystemHandTrackingPropertiesEXT()
        sp = xr.SystemProperties(next=ctypes.cast(ctypes.pointer(props), ctypes.c_void_p))
        res = xr.check_result(xr.Result(raw_functions.xrGetSystemProperties(self.instance, self.system_id,
                                                                            ctypes.byref(sp))))
        return not res.is_exception() and bool(props.supports_hand_tracking)

    def locate_hands(self, display_time: int) -> Dict[str, Optional[np.ndarray]]:
        """Hand joints from the runtime at ``display_time``: ``{"left": (26, 8) or None, "right": ...}``.

        Each row is ``[x, y, z, qx, qy, qz, qw, radius]`` in the reference space (OpenXR axes, metres, joint
        order of ``XrHandJointEXT``: palm, wrist, thumb metacarpal...). None when the hand is not tracked.
        """
        xr = _xr()
        out: Dict[str, Optional[np.ndarray]] = {}
        for name, tracker in self._hand_trackers.items():
            joints, locs = self._hand_buffers[name]
            fn = ctypes.cast(xr.get_instance_proc_addr(self.instance, "xrLocateHandJointsEXT"),
                             xr.PFN_xrLocateHandJointsEXT)
            info = xr.HandJointsLocateInfoEXT(base_space=self.space, time=display_time)
            res = xr.check_result(xr.Result(fn(tracker, ctypes.byref(info), ctypes.byref(locs))))
            if res.is_exception():
                raise res
            if not locs.is_active:
                out[name] = None
                continue
            arr = np.empty((len(joints), 8), np.float64)
            for i, j in enumerate(joints):
                arr[i, :7] = _pose7(j.pose)
                arr[i, 7] = j.radius
            out[name] = arr
        return out

    # ------------------------------------------------------------------------------------------ passthrough
    def start_runtime_passthrough(self) -> bool:
        """Start the runtime's own passthrough (``XR_FB_passthrough``, e.g. Quest over Link) as a layer under
        the app's projection layer. False when the runtime lacks it: the app then shows its own images."""
        if not self.has("XR_FB_passthrough") or self.session is None:
            return False
        xr = _xr()
        F = xr.PassthroughFlagsFB
        self._passthrough = xr.create_passthrough_fb(self.session, xr.PassthroughCreateInfoFB(
            flags=F.IS_RUNNING_AT_CREATION_BIT))
        self._passthrough_layer = xr.create_passthrough_layer_fb(self.session, xr.PassthroughLayerCreateInfoFB(
            passthrough=self._passthrough, flags=F.IS_RUNNING_AT_CREATION_BIT,
            purpose=xr.PassthroughLayerPurposeFB.RECONSTRUCTION))
        self._passthrough_comp = xr.CompositionLayerPassthroughFB(
            flags=xr.CompositionLayerFlags.BLEND_TEXTURE_SOURCE_ALPHA_BIT, space=None,
            layer_handle=self._passthrough_layer)
        return True

    @property
    def runtime_passthrough(self) -> bool:
        """True while the runtime's passthrough layer is submitted under the app's layer."""
        return self._passthrough_comp is not None

    # ------------------------------------------------------------------------------------------ teardown
    def close(self) -> None:
        """Destroy swapchains, space, session, instance and the GL context (in that order).

        Call only once the session reached EXITING (or was never begun): see the module notes.
        """
        xr = _xr()
        for tracker in self._hand_trackers.values():
            xr.destroy_hand_tracker_ext(tracker)
        self._hand_trackers.clear()
        if self._passthrough_layer is not None:
            xr.destroy_passthrough_layer_fb(self._passthrough_layer)
            self._passthrough_layer = self._passthrough_comp = None
        if self._passthrough is not None:
            xr.destroy_passthrough_fb(self._passthrough)
            self._passthrough = None
        for sc in (self.color, self.depth):
            if sc is not None:
                xr.destroy_swapchain(sc.handle)
        self.color, self.depth = None, None
        if self.space is not None:
            xr.destroy_space(self.space)
            self.space = None
        if self.session is not None:
            xr.destroy_session(self.session)
            self.session = None
        if self.instance is not None:
            xr.destroy_instance(self.instance)
            self.instance = None
        if self.gl_context is not None:
            try:
                self.gl_context.destroy()
            finally:
                self.gl_context = None
