"""The OpenXR frame loop: runtime-paced frames, eye poses in, composited frames out.

Per frame: ``xrWaitFrame`` (the runtime paces us and predicts the display time) -> ``xrBeginFrame`` ->
``xrLocateViews`` at the predicted display time -> the display stage renders one RGB-D image per eye ->
:class:`~openxr_app.gl_render.EyeCompositor` uploads them into the acquired swapchain images and draws the
holograms depth-tested against the real depth -> ``xrEndFrame`` with a projection layer (+ depth info).
``shouldRender == False`` -> no work, ``xrEndFrame`` with no layers.

Measured per frame: the wall-clock period between successive ``xrWaitFrame`` returns, and the app's own work
from ``xrWaitFrame`` returning to ``xrEndFrame`` returning, both as wall-clock time and as the CPU time of the
frame-loop thread (``time.thread_time``: the stage, the GL calls and the OpenXR calls it makes; the camera and
hand stages run on threads of their own). A frame whose own work (CPU time) exceeds
the display's refresh period is a deadline miss: the app could not have made that frame on a free core. It is
counted and the loop goes on (the runtime paces the next ``xrWaitFrame``), never blocks. Frames whose
wall-clock work overran (which includes time the process was preempted by other processes, the CPU
compositor among them) are counted too and logged as ``wall_overruns``; the frame period shows whether frames
actually reached the display at the runtime's rate.

Runtime death: any OpenXR call failing with instance/session loss or a runtime failure, or no progress for
``stall_timeout_s`` (a watchdog thread: a dead IPC peer can block a call forever), ends the process with one
line on stderr and exit status 3, without touching the runtime again.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional

import numpy as np

from passthrough.geometry import xr_pose_to_T_world_from_eye_cv

from .display import DisplayStage, EyeView, intrinsics_from_fov
from .hologram import HologramScene
from .session import XrRuntimeLostError, XrSession, is_runtime_loss

EXIT_RUNTIME_LOST = 3


@dataclass
class RunStats:
    """What one session measured (see :meth:`report`). Times in seconds, one entry per frame."""

    runtime: str = ""
    system: str = ""
    frames_submitted: int = 0
    frames_skipped: int = 0  # shouldRender false or views not valid
    wait_returns_s: List[float] = field(default_factory=list)
    work_s: List[float] = field(default_factory=list)
    periods_ns: List[int] = field(default_factory=list)
    misses: int = 0
    wall_overruns: int = 0
    cpu_s: List[float] = field(default_factory=list)
    session_states: List[str] = field(default_factory=list)
    eye_poses_first: Optional[List[List[float]]] = None
    depth_layer: bool = False
    eye_size: Optional[List[int]] = None
    phase_s: dict = field(default_factory=dict)  # phase name -> list of seconds per submitted frame
    refresh_hz: Optional[float] = None
    passthrough: str = "app"  # "runtime" (XR_FB_passthrough layer) or "app" (the stage's images)
    hands: str = "app"  # "runtime" (XR_EXT_hand_tracking) or "app"
    hands_tracked_frames: int = 0
    pose_changes: int = 0  # submitted frames whose eye poses differ from the previous frame's
    frame_rows: List[dict] = field(default_factory=list)  # one per frame-loop iteration (:meth:`frame_log`)
    camera_to_frame_s: List[float] = field(default_factory=list)  # grab -> xrEndFrame, once per camera frame
    _last_grab_ns: Optional[int] = None
    _phases: dict = field(default_factory=dict)  # the current frame's phases

    def add_phase(self, name: str, seconds: float) -> None:
        self.phase_s.setdefault(name, []).append(seconds)
        self._phases[name] = seconds

    def end_frame_row(self, submitted: bool) -> None:
        """Close the current frame's row of :meth:`frame_log` (call after its times were appended)."""
        t0 = self.wait_returns_s[0] if self.wait_returns_s else 0.0
        self.frame_rows.append({"frame": len(self.frame_rows), "t_wait_return_ms": (self.wait_returns_s[-1] - t0) * 1e3,
                                "work_ms": self.work_s[-1] * 1e3, "cpu_ms": self.cpu_s[-1] * 1e3,
                                "predicted_period_ms": self.periods_ns[-1] / 1e6, "submitted": int(submitted),
                                **{f"{k}_ms": v * 1e3 for k, v in self._phases.items()}})
        self._phases = {}

    def camera_frame_shown(self, t_grab_ns: Optional[int], t_now_ns: int) -> None:
        """Note a submitted frame built from the camera frame grabbed at ``t_grab_ns`` (monotonic ns; None:
        the stage has no camera clock): the first frame showing each new camera frame adds one latency."""
        if t_grab_ns is not None and (self._last_grab_ns is None or t_grab_ns > self._last_grab_ns):
            self._last_grab_ns = t_grab_ns
            self.camera_to_frame_s.append((t_now_ns - t_grab_ns) / 1e9)

    def frame_log(self) -> List[dict]:
        """Per frame-loop iteration: ``frame``, ``t_wait_return_ms`` (since the first ``xrWaitFrame`` return),
        ``work_ms`` (wall clock, ``xrWaitFrame`` return to ``xrEndFrame`` return), ``cpu_ms`` (the loop
        thread's CPU time over the same span), ``predicted_period_ms``, ``submitted`` (0/1) and one
        ``<phase>_ms`` column per phase of :meth:`details` (empty for frames without it)."""
        return list(self.frame_rows)

    def report(self) -> dict:
        """The run JSON: runtime, system, frames_submitted, frame_period_ms {p50, p99}, deadline_miss_rate,
        session_states, eye_poses_first, camera_to_frame_ms {p50, p99, n} (None without a camera clock)."""
        periods = np.diff(np.asarray(self.wait_returns_s)) * 1000.0
        p50 = float(np.percentile(periods, 50)) if len(periods) else None
        p99 = float(np.percentile(periods, 99)) if len(periods) else None
        rate = self.misses / len(self.work_s) if self.work_s else None
        c2f = np.asarray(self.camera_to_frame_s) * 1000.0
        return {
            "runtime": self.runtime,
            "system": self.system,
            "frames_submitted": self.frames_submitted,
            "frame_period_ms": {"p50": p50, "p99": p99},
            "deadline_miss_rate": rate,
            "session_states": list(self.session_states),
            "eye_poses_first": self.eye_poses_first,
            "camera_to_frame_ms": {"p50": float(np.percentile(c2f, 50)), "p99": float(np.percentile(c2f, 99)),
                                   "n": int(c2f.size)} if c2f.size else None,
        }

    def details(self) -> dict:
        """Extra numbers for logs (not part of the run JSON)."""
        work = np.asarray(self.work_s) * 1000.0
        per = np.asarray(self.periods_ns) / 1e6
        return {
            "frames_skipped": self.frames_skipped,
            "deadline_misses": self.misses,
            "wall_overruns": self.wall_overruns,
            "app_cpu_ms": {"p50": float(np.percentile(np.asarray(self.cpu_s) * 1e3, 50)),
                           "p99": float(np.percentile(np.asarray(self.cpu_s) * 1e3, 99))} if self.cpu_s else None,
            "app_work_ms": {"p50": float(np.percentile(work, 50)), "p99": float(np.percentile(work, 99)),
                            "max": float(work.max())} if len(work) else None,
            "predicted_display_period_ms": float(np.median(per)) if len(per) else None,
            "depth_layer": self.depth_layer,
            "eye_size": self.eye_size,
            "refresh_hz": self.refresh_hz,
            "passthrough": self.passthrough,
            "hands": self.hands,
            "hands_tracked_frames": self.hands_tracked_frames,
            "pose_changes": self.pose_changes,
            "phase_ms_p50": {k: float(np.median(v) * 1000.0) for k, v in self.phase_s.items()},
        }


def warm_up_swapchains(sess, compositor, sizes, colors, meshes, log: Callable[[str], None] = print) -> None:
    """Before the first frame: every colour (and depth) swapchain image once through the frame's GL path
    (black eye images, no real depth, each hologram mesh drawn small 1 m ahead), then ``glFinish``, so that
    first-use costs (the driver touching the runtime's image memory, first draws) are not paid by displayed
    frames. Acquiring and releasing images outside a frame is allowed by OpenXR; every frame then acquires
    an image and overwrites both eyes, so nothing drawn here is ever shown. A runtime that refuses it (other
    than by dying) gets one ``log`` line and the session goes on."""
    from OpenGL import GL

    from .display import EyeImage

    black = [EyeImage(np.zeros((h, w, 3), np.uint8), np.full((h, w), np.inf, np.float32)) for (w, h) in sizes]
    pose = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
    fov = (-0.7, 0.7, 0.7, -0.7)
    small = np.diag([0.01, 0.01, 0.01, 1.0])
    small[2, 3] = -1.0
    try:
        for _ in range(len(sess.color.textures)):
            try:
                color_tex, depth_tex = sess.acquire()
                compositor.compose_eyes(color_tex, depth_tex, sess.eye_rects, black, [pose] * 2, [fov] * 2,
                                        [small] * len(colors), colors, transparent=sess.runtime_passthrough,
                                        hologram_meshes=meshes)
            finally:
                sess.release()  # whatever was acquired
        GL.glFinish()
    except Exception as exc:  # an optimisation only: a runtime that refuses it still runs the session
        if is_runtime_loss(exc) or isinstance(exc, XrRuntimeLostError):
            raise
        log(f"openxr_app: swapchain warm-up skipped ({type(exc).__name__}: {exc})")


class Watchdog:
    """Ends the process (one line, exit 3) when :meth:`beat` is not called for ``timeout_s`` seconds."""

    def __init__(self, timeout_s: float, what: Callable[[], str]):
        self.timeout_s = timeout_s
        self.what = what
        self.last = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="xr-watchdog", daemon=True)
        self._thread.start()

    def beat(self, timeout_s: Optional[float] = None) -> None:
        if timeout_s is not None:
            self.timeout_s = timeout_s
        self.last = time.monotonic()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            idle = time.monotonic() - self.last
            if idle > self.timeout_s:
                die_runtime_lost(f"the OpenXR runtime stopped responding ({self.what()}, no progress for "
                                 f"{idle:.1f} s)")


def restart_syscalls_on_signals() -> None:
    """Make every signal with a Python handler restart interrupted system calls (SA_RESTART).

    Python installs its handlers so that a signal interrupts blocking calls (EINTR). Monado's client library
    treats an interrupted ``recvmsg`` on its IPC socket as a dead runtime (XR_ERROR_INSTANCE_LOST), so a
    SIGTERM/SIGINT/SIGUSR1 meant for the app would otherwise kill the session.
    """
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2, signal.SIGCHLD):
        if callable(signal.getsignal(sig)):
            signal.siginterrupt(sig, False)


def die_runtime_lost(message: str) -> None:
    """Print ``error: <message>`` as one line and leave at once with status 3 (no OpenXR/GL teardown:
    the runtime is gone and calls into it could block or crash)."""
    try:
        sys.stdout.flush()
    except Exception:
        pass
    os.write(2, f"error: {message}\n".encode())
    os._exit(EXIT_RUNTIME_LOST)


def eye_views_from(poses, fovs, sizes) -> List[EyeView]:
    """Build :class:`EyeView` s from OpenXR poses (7,), fovs and swapchain sizes ``(w, h)``."""
    views = []
    for i, (p, f, (w, h)) in enumerate(zip(poses, fovs, sizes)):
        views.append(EyeView(index=i, T_world_from_eye=xr_pose_to_T_world_from_eye_cv(p[:3], p[3:]),
                             K=intrinsics_from_fov(f, w, h), width=w, height=h, fov=f, pose_xr=p))
    return views


def run_session(stage_factory: Callable[[], DisplayStage], holograms: Optional[HologramScene] = None,
                frames: Optional[int] = None, eye_scale: float = 0.5, near: float = 0.05, far: float = 100.0,
                stall_timeout_s: float = 5.0, startup_timeout_s: float = 30.0,
                passthrough: str = "auto", hands: str = "auto",
                on_frame: Optional[Callable[[int, List[EyeView], list], None]] = None,
                log: Callable[[str], None] = lambda s: print(s, file=sys.stderr)) -> RunStats:
    """Run one OpenXR session until ``frames`` frames were submitted (None: until the runtime or SIGINT /
    SIGTERM ends it), then exit cleanly (request exit, loop to EXITING, destroy).

    Args:
        stage_factory: called once (after the session exists) to make the :class:`DisplayStage`.
        holograms: boxes drawn over the real images with a depth test, or None.
        frames: number of frames to submit with a projection layer.
        eye_scale: swapchain size as a fraction of the runtime's recommended size.
        near, far: depth range (metres) for holograms and the submitted depth.
        stall_timeout_s: watchdog limit for one loop iteration once frames flow.
        on_frame: optional callback ``(frame_index, eye_views, eye_images)`` after each submitted frame.
        passthrough: ``"auto"``: the runtime's own passthrough (``XR_FB_passthrough``) under the holograms
            when offered, else the stage's images; ``"app"``: always the stage's images.
        hands: ``"auto"``: hand joints from the runtime (``XR_EXT_hand_tracking``) go to a stage that has
            ``update_hands`` when the runtime tracks hands; ``"app"``: never (the stage's own tracker).
    Returns :class:`RunStats`. Raises :class:`~openxr_app.session.XrUnavailableError` when no runtime can be
    used; ends the process (status 3) when the runtime dies mid-session.
    """
    from .gl_render import EyeCompositor

    stats = RunStats()
    phase = ["creating the session"]
    dog = Watchdog(startup_timeout_s, lambda: phase[0])
    stop_requested = [False]

    def _on_signal(signum, _frame):
        stop_requested[0] = True

    old_handlers = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    restart_syscalls_on_signals()
    sess = XrSession(eye_scale=eye_scale, on_state=lambda st: log(f"openxr_app: session state {st}"))
    try:
        sess.open()
        stats.runtime = f"{sess.runtime_name}"
        stats.system = sess.system_name
        stats.depth_layer = sess.depth_layer
        sizes = [(w, h) for (_x, _y, w, h) in sess.eye_rects]
        stats.eye_size = list(sizes[0])
        compositor = EyeCompositor(near, far)
        stats.passthrough = "runtime" if passthrough == "auto" and sess.start_runtime_passthrough() else "app"
        stats.hands = "runtime" if hands == "auto" and sess.start_hand_tracking() else "app"
        log(f"openxr_app: passthrough from the {stats.passthrough}, hand joints from the {stats.hands}")
        phase[0] = "making the display stage"
        stage = stage_factory()
        models, colors, meshes = [], [], []
        if holograms is not None:  # the meshes do not depend on the head pose: uploaded before the first frame
            colors = [b.rgb for b in holograms.boxes]
            meshes = [None if b.vertices is None else compositor.mesh(b.vertices, b.triangles)
                      for b in holograms.boxes]
        warmed = False
        exit_requested = False
        t_last_wait = None
        last_poses = None
        # No garbage-collector pauses inside frames: collect now, freeze what exists, collect between frames
        # only when idle (numpy frames make no reference cycles, so nothing piles up).
        gc.collect()
        gc.freeze()
        gc.disable()
        rate = sess.current_refresh_rate()
        nominal_ns = int(round(1e9 / rate)) if rate else None
        stats.refresh_hz = rate
        while True:
            dog.beat()
            phase[0] = f"in state {sess.state}"
            sess.poll_events()
            if sess.exiting:
                break
            if (stop_requested[0] or (frames is not None and stats.frames_submitted >= frames)) and not exit_requested:
                sess.request_exit()
                exit_requested = True
            if not sess.running:
                time.sleep(0.005)
                continue
            if not warmed:
                phase[0] = "warming up the swapchain images"
                warm_up_swapchains(sess, compositor, sizes, colors, meshes, log)
                warmed = True
            phase[0] = "in xrWaitFrame"
            timing = sess.wait_frame()
            t0 = time.perf_counter()
            c0 = time.thread_time()  # the frame loop's own CPU time (camera/hand stages run on other threads)
            if t_last_wait is not None:
                dog.beat(stall_timeout_s)
            t_last_wait = t0
            phase[0] = "in the frame"
            sess.begin_frame()
            submitted = False
            if timing.should_render and not exit_requested:
                valid, poses, fovs = sess.locate_views(timing.predicted_display_time)
                t1 = time.perf_counter()
                stats.add_phase("begin+locate", t1 - t0)
                if valid:
                    if last_poses is not None and any(not np.array_equal(a, b) for a, b in zip(poses, last_poses)):
                        stats.pose_changes += 1
                    last_poses = poses
                    views = eye_views_from(poses, fovs, sizes)
                    if stats.eye_poses_first is None:
                        stats.eye_poses_first = [[float(x) for x in p] for p in poses]
                        if holograms is not None:
                            from .stages import head_pose_from_eyes

                            models = holograms.model_matrices(head_pose_from_eyes(views))
                    if stats.hands == "runtime":
                        hands_now = sess.locate_hands(timing.predicted_display_time)
                        stats.hands_tracked_frames += any(h is not None for h in hands_now.values())
                        if hasattr(stage, "update_hands"):
                            stage.update_hands(hands_now, timing.predicted_display_time)
                    images = stage.render(views, timing.predicted_display_time)
                    t2 = time.perf_counter()
                    stats.add_phase("stage", t2 - t1)
                    ta = time.perf_counter()
                    color_tex, depth_tex = sess.acquire()
                    tb = time.perf_counter()
                    try:
                        compositor.compose_eyes(color_tex, depth_tex, sess.eye_rects, images, poses, fovs, models,
                                                colors, transparent=sess.runtime_passthrough,
                                                hologram_meshes=meshes)
                    finally:
                        tc = time.perf_counter()
                        sess.release()
                    stats.add_phase("acquire", tb - ta)
                    stats.add_phase("gl", tc - tb)
                    stats.add_phase("release", time.perf_counter() - tc)
                    t3 = time.perf_counter()
                    stats.add_phase("compose", t3 - t2)
                    sess.end_frame(timing.predicted_display_time, poses, fovs, near, far)
                    stats.add_phase("end_frame", time.perf_counter() - t3)
                    stats.camera_frame_shown(getattr(stage, "last_grab_ns", None), time.monotonic_ns())
                    submitted = True
                    if on_frame is not None:
                        on_frame(stats.frames_submitted, views, images)
            if not submitted:
                sess.end_frame(timing.predicted_display_time)
                stats.frames_skipped += 1
            work = time.perf_counter() - t0
            cpu = time.thread_time() - c0
            stats.cpu_s.append(cpu)
            stats.wait_returns_s.append(t0)
            stats.work_s.append(work)
            stats.periods_ns.append(timing.predicted_display_period)
            stats.end_frame_row(submitted)
            if submitted:
                stats.frames_submitted += 1
            # A miss: the app's own work took longer than one display refresh. The runtime's predicted period
            # can grow to a multiple of the refresh when the app is slow, so the refresh rate is the yardstick.
            if timing.predicted_display_period > 0:
                nominal_ns = min(nominal_ns or timing.predicted_display_period, timing.predicted_display_period)
            if nominal_ns and cpu * 1e9 > nominal_ns:
                stats.misses += 1
            if nominal_ns and work * 1e9 > nominal_ns:
                stats.wall_overruns += 1
        phase[0] = "destroying the session"
        stats.session_states = list(sess.states)
        dog.beat(startup_timeout_s)
        compositor.destroy()
        sess.close()
        if sess.loss_pending:  # the runtime took the session away (LOSS_PENDING): not the clean end asked for
            lost = "INSTANCE_LOSS_PENDING" if "INSTANCE_LOSS_PENDING" in sess.states else "LOSS_PENDING"
            die_runtime_lost(f"the OpenXR runtime ended the session ({lost}) after {stats.frames_submitted} frames")
    except Exception as exc:
        if is_runtime_loss(exc) or isinstance(exc, XrRuntimeLostError):
            die_runtime_lost(f"the OpenXR runtime was lost during the session ({type(exc).__name__}) after "
                             f"{stats.frames_submitted} frames")
        if sess.session is not None and _is_xr_error(exc):
            die_runtime_lost(f"OpenXR call failed mid-session ({type(exc).__name__}: {exc}) after "
                             f"{stats.frames_submitted} frames")
        raise
    finally:
        gc.enable()
        gc.unfreeze()
        dog.stop()
        for s, h in old_handlers.items():
            signal.signal(s, h)
    stats.session_states = list(sess.states)
    return stats


def _is_xr_error(exc: BaseException) -> bool:
    try:
        import xr
    except Exception:
        return False
    return isinstance(exc, xr.XrException)
