"""Running the stages at their own rates.

Three activities exchange data only through latest-value mailboxes (:class:`passthrough.mailbox.Mailbox`):

* **camera rate**: rectify + depth for each captured frame (:class:`.camera_stage.CameraStage`);
* **hand tracking**: its own worker (:class:`hand_tracking.worker.HandWorker`), fed each rectified pair
  as soon as it is rectified (before depth: the tracker needs none);
* **display rate**: for each display slot, the eye poses at the *predicted display time* (late
  correction), reprojection of the newest camera output, holograms, compositing
  (:class:`.display_stage.DisplayStage`). It never waits for the other two.

Two drivers share those stages:

* :meth:`Pipeline.run_realtime`: threads and the wall clock (``time.monotonic_ns``), as on a headset.
  Display slots are paced at ``display_hz``; work that overruns its slot is a *deadline miss* and the
  next slot is the next one in the future (no backlog).
* :meth:`Pipeline.run_virtual`: a replay on a virtual clock (the source's timestamps): every stage runs
  once, in order, and its *measured* duration advances the virtual time of its output, so each display
  frame sees the camera output the real-time pipeline would have finished by then with those stage
  times. Every display slot is rendered, one after another (a slot is not skipped when the one before
  overran it, as in real time, so frames' timestamps may overlap), and no stage waits for another
  thread. The stage times are measured, so which camera frame a display frame shows near a camera
  frame's completion can differ between runs and machines (by one camera frame); everything else is
  the same from run to run.

Every display frame produces a :class:`FrameRecord` with the per-stage timestamps.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from typing import Callable, Iterator, List, Optional

import numpy as np

from ..mailbox import Mailbox
from .camera_stage import CameraOutput, CameraStage, _same_time
from .display_stage import DisplayStage
from .priority import DisplayCore, lower_this_thread
from .eyes import EyeView
from .interaction import GrabController

#: Still images (no capture clock) are shown as a camera running at this rate.
STILL_RATE_HZ = 2.0


@dataclass
class FrameRecord:
    """Timestamps (ns, one clock per run: monotonic in real time, the source clock in virtual time)."""

    display_index: int
    camera_index: int
    t_capture_ns: int
    t_depth_done_ns: int
    t_frame_start_ns: int
    t_reproject_start_ns: int
    t_reproject_end_ns: int
    t_composite_end_ns: int
    t_predicted_display_ns: int
    hands_t_capture_ns: int
    display_ms: float
    reproject_ms: float
    holograms_ms: float
    composite_ms: float
    deadline_missed: bool  # not finished within one display period of its slot's start (work + any delay before it)
    camera_age_ms: float
    depth_camera_index: int = -1  # the camera frame the depth came from (< camera_index: image-first output)
    display_cpu_ms: float = float("nan")  # the display thread's CPU time in display_ms (the rest it waited)

    def as_row(self) -> dict:
        return asdict(self)


@dataclass
class HandsSnapshot:
    """Hand results converted to the world frame: ``hands`` = list of dicts with handedness,
    joints_world (21, 3), pinch; ``t_capture_ns``; ``raw`` the tracker's own result."""

    hands: list
    t_capture_ns: int
    raw: object = None


def hands_to_world(result, T_world_from_left: np.ndarray) -> HandsSnapshot:
    """Convert a :class:`hand_tracking.stereo.StereoHandFrame` (joints in the left rectified camera
    frame) to world-frame dicts."""
    from ..geometry import transform_points

    hands = []
    for h in result.hands:
        if h.joints_m is None:
            continue
        hands.append({"handedness": h.handedness, "pinch": bool(h.pinch),
                      "joints_world": transform_points(T_world_from_left, h.joints_m)})
    return HandsSnapshot(hands, int(result.t_capture_ns or 0), result)


def _newness(cam: CameraOutput) -> tuple:
    """Order of camera outputs by what they show: a later frame, then a frame's full output after its early one."""
    return cam.index, not cam.early


class SourceClock:
    """The source's clock seen from the wall clock of a real-time run, for the head path and the rig's poses.

    :meth:`Pipeline.run_realtime` stamps each captured frame with ``time.monotonic_ns()``, but a head path
    (ground truth, a pose file, a named path) runs on the source's own timestamps. Each frame is
    :meth:`mark`-ed with both stamps; a wall time then maps to the newest frame's source time plus the wall
    time since, times ``scale`` (source time per wall time: the source's rate over the rate it is played
    at). A frame's own wall stamp maps to its own source stamp, so the rig's pose at capture is exact; a
    looped source starts its path over with its frames. Before the first mark: the wall time itself."""

    def __init__(self, scale: float = 1.0):
        self.scale = float(scale)
        self._ref = None  # (wall ns, source ns) of the newest frame: one tuple, swapped atomically

    def mark(self, t_wall_ns: int, t_source_ns: int) -> None:
        self._ref = (int(t_wall_ns), int(t_source_ns))

    def __call__(self, t_wall_ns: int) -> int:
        ref = self._ref
        if ref is None:
            return int(t_wall_ns)
        return ref[1] + int(round((t_wall_ns - ref[0]) * self.scale))


class Pipeline:
    """The passthrough pipeline over one frame source.

    Args:
        source: a frame source (:mod:`passthrough.datasets`).
        camera_stage: rectify + depth.
        display_stage: reprojection + holograms + compositing.
        eye_fn: ``eye_fn(t_display_ns) -> [EyeView, EyeView]`` (head path + eye offsets, or the runtime).
        display_hz: display refresh rate.
        hand_tracker_factory: builds a stereo hand tracker (None = no hand tracking).
        display_latency_ns: predicted display time = start of the slot + this (one frame by default:
            the frame being rendered is scanned out at the next vsync).
        early_image: image-first mode. Each camera frame is published twice: right after rectification
            with the previous frame's depth moved to the new camera pose (:meth:`.CameraStage.early`),
            then with its own depth. The display shows a new image one depth computation sooner; until
            the new depth arrives, what moved in the scene (not the head: the cameras' motion is
            compensated) is drawn with depth one camera frame old. Off by default, and meaningless for
            stills (unrelated scenes: :func:`.factory.build_pipeline` never turns it on for them).
    """

    def __init__(self, source, camera_stage: CameraStage, display_stage: DisplayStage,
                 eye_fn: Callable[[int], List[EyeView]], display_hz: float = 90.0,
                 hand_tracker_factory: Optional[Callable[[], object]] = None,
                 display_latency_ns: Optional[int] = None, grab: bool = True, early_image: bool = False):
        self.source = source
        self.camera_stage = camera_stage
        self.display_stage = display_stage
        self.eye_fn = eye_fn
        self.display_hz = float(display_hz)
        self.period_ns = int(round(1e9 / self.display_hz))
        self.display_latency_ns = self.period_ns if display_latency_ns is None else int(display_latency_ns)
        self.hand_tracker_factory = hand_tracker_factory
        self.early_image = bool(early_image)
        #: successive frames are unrelated scenes (the source's own :attr:`stills` unless the factory says
        #: otherwise): a display frame then shows only its own camera frame's hands
        self.stills = bool(getattr(source, "stills", False))
        self.grab = GrabController(display_stage.scene) if grab else None
        self.camera_box: Mailbox = Mailbox()
        self.hands_box: Mailbox = Mailbox()
        self.records: List[FrameRecord] = []
        self.display_cpus: Optional[List[int]] = None  # the display loop's own core during run_realtime
        #: maps the run's clock to the head path's (the source's): the identity in virtual time, a
        #: :class:`SourceClock` while :meth:`run_realtime` runs a sequence
        self.head_clock: Callable[[int], int] = _same_time

    # ------------------------------------------------------------------------------------------ shared
    def _display(self, k: int, t_start: int, cam: CameraOutput, hands: Optional[HandsSnapshot], clock) -> tuple:
        t_disp = t_start + self.display_latency_ns
        if hands is not None and self.stills and hands.t_capture_ns != cam.t_capture_ns:
            hands = None  # another still's hands: unrelated scenes share nothing
        views = self.eye_fn(self.head_clock(t_disp))
        hands_world = [h["joints_world"] for h in hands.hands] if hands else None
        if self.grab is not None and hands is not None:
            self.grab.update(hands.hands)
        t_r0 = clock()
        out = self.display_stage.render(cam, views, hands_world)
        tm = out.timings
        t_r1 = t_r0 + int(tm["reproject_ms"] * 1e6)
        t_end = t_r0 + int(tm["display_ms"] * 1e6)
        rec = FrameRecord(
            k, cam.index, cam.t_capture_ns, cam.t_done_ns, t_start, t_r0, t_r1, t_end, t_disp,
            hands.t_capture_ns if hands else -1, tm["display_ms"], tm["reproject_ms"], tm["holograms_ms"],
            tm["composite_ms"], (t_end - t_start) > self.period_ns, (t_disp - cam.t_capture_ns) / 1e6,
            cam.depth_index, tm.get("display_cpu_ms", float("nan")))
        self.records.append(rec)
        return rec, out, views

    def _camera_outputs(self, frame, previous: Optional[CameraOutput], clock=None,
                        on_rectified: Optional[Callable] = None) -> Iterator[CameraOutput]:
        """The prepared camera outputs of ``frame``, in the order they are published: with
        :attr:`early_image` and a ``previous`` output, first the early one (new images, previous depth),
        then the full one (sharing the early one's image inputs). ``clock``: stamps ``t_done_ns`` of each
        as it is yielded (real time); None leaves it to the caller (virtual time). ``on_rectified(rect)``
        is called with the rectified pair (:class:`.camera_stage.Rectified`) before depth runs: the hand
        worker needs no depth, so it starts one depth computation earlier."""
        cs, ds = self.camera_stage, self.display_stage
        rect = cs.rectify(frame)
        if on_rectified is not None:
            on_rectified(rect)
        early = None
        if self.early_image and previous is not None and previous.display_feeds is not None:
            early = ds.prepare(cs.early(rect, previous), previous)
            if clock is not None:
                early.t_done_ns = clock()
            yield early
        out = ds.prepare(cs.finish(rect), early)
        if early is not None:
            out.early_ms = early.depth_ms + early.prepare_ms
        if clock is not None:
            out.t_done_ns = clock()
        yield out

    def warmup(self) -> float:
        """Run every stage once on the source's first frame (numba compilation, onnxruntime's first run,
        model loading) so that no measured frame pays for it. Returns the seconds it took."""
        t0 = time.perf_counter()
        frame = next(iter(self.source), None)
        if frame is not None:
            cam = self.display_stage.prepare(self.camera_stage.process(frame))
            self.display_stage.render(cam, self.eye_fn(frame.t_left_ns), None)
            if self.hand_tracker_factory is not None:
                self.hand_tracker_factory().process(cam.left_gray, cam.right_gray, cam.t_capture_ns)
        return time.perf_counter() - t0

    # ---------------------------------------------------------------------------------- virtual clock
    def _timed_frames(self) -> Iterator:
        """Frames with capture times on the source clock (stills get STILL_RATE_HZ)."""
        still_period = int(1e9 / STILL_RATE_HZ)
        for f in self.source:
            if self.source.rate_hz is None:
                f.t_left_ns = f.t_right_ns = f.index * still_period
            yield f

    def run_virtual(self, max_display_frames: Optional[int] = None, on_frame: Optional[Callable] = None,
                    on_camera: Optional[Callable] = None, progress=None) -> List[FrameRecord]:
        """Replay on the source clock with measured stage times (see the module docstring). ``on_frame(record, output,
        camera_output, hands, views)`` is called for every display frame, ``on_camera(camera_output,
        hands)`` for every camera frame; ``progress`` is an optional tqdm-like bar."""
        self.warmup()
        tracker = self.hand_tracker_factory() if self.hand_tracker_factory else None
        frames = self._timed_frames()
        pending_cams: List[CameraOutput] = []  # finished on the virtual clock at their t_done_ns
        pending_hands: List[tuple] = []  # (t_ready_ns, HandsSnapshot)
        cam: Optional[CameraOutput] = None
        hands: Optional[HandsSnapshot] = None
        last_out: Optional[CameraOutput] = None  # the newest camera output (the early mode's depth source)
        next_frame = next(frames, None)
        if next_frame is None:
            return self.records
        t = next_frame.t_left_ns
        last_capture = t
        k = 0
        while max_display_frames is None or k < max_display_frames:
            # run every camera frame captured before this display slot starts
            while next_frame is not None and next_frame.t_left_ns <= t:
                t_cam = next_frame.t_left_ns  # the stage's virtual time: its outputs' work in order
                for n_out, out in enumerate(self._camera_outputs(next_frame, last_out)):
                    rect_ms = out.rectify_ms if n_out == 0 else 0.0  # rectified once per frame
                    if n_out == 0:
                        t_rectified = next_frame.t_left_ns + int(rect_ms * 1e6)
                    t_cam += int((rect_ms + out.depth_ms + out.prepare_ms) * 1e6)
                    out.t_done_ns = t_cam
                    pending_cams.append(out)
                    last_out = out
                snap = None
                if tracker is not None:
                    t_h0 = time.perf_counter_ns()
                    res = tracker.process(out.left_gray, out.right_gray, out.t_capture_ns)
                    snap = hands_to_world(res, out.T_world_from_left)
                    # the worker starts on the rectified pair, before depth (as in run_realtime)
                    pending_hands.append((t_rectified + time.perf_counter_ns() - t_h0, snap))
                last_capture = next_frame.t_left_ns
                if on_camera is not None:
                    on_camera(out, snap)
                next_frame = next(frames, None)
            ready = [c for c in pending_cams if c.t_done_ns <= t]
            if ready:  # the newest finished output (a frame's full one after its early one)
                pending_cams = [c for c in pending_cams if c.t_done_ns > t]
                best = max(ready, key=_newness)
                if cam is None or _newness(best) > _newness(cam):
                    cam = best
            while pending_hands and pending_hands[0][0] <= t:
                hands = pending_hands.pop(0)[1]
            if cam is not None:
                rec, disp, views = self._display(k, t, cam, hands, lambda: t)
                if on_frame is not None:
                    on_frame(rec, disp, cam, hands, views)
                if progress is not None:
                    progress.update(1)
                k += 1
            t += self.period_ns
            if next_frame is None and not pending_cams:
                period = (1e9 / self.source.rate_hz) if self.source.rate_hz else 1e9 / STILL_RATE_HZ
                if t > last_capture + period:
                    break
        return self.records

    # ------------------------------------------------------------------------------------- real time
    def run_realtime(self, max_display_frames: int, camera_hz: Optional[float] = None,
                     on_frame: Optional[Callable] = None, loop_source: bool = True,
                     stop_event: Optional[threading.Event] = None,
                     on_camera: Optional[Callable] = None, on_hands: Optional[Callable] = None,
                     pin_cores: Optional[bool] = None) -> List[FrameRecord]:
        """Run with threads on the wall clock for ``max_display_frames`` display slots.

        The camera thread plays the source at ``camera_hz`` (default: the source's rate, or
        :data:`STILL_RATE_HZ` for stills), looping it if ``loop_source``; captures are stamped with
        ``time.monotonic_ns()``. The hand worker (if any) gets every rectified pair. The display loop
        in the calling thread sleeps until each slot, then renders with the newest outputs.
        ``on_camera(camera_output)`` runs on the camera thread after each camera frame (keep it cheap);
        ``on_hands(result)`` on the display thread for each new hand result. ``pin_cores``: give the
        display loop a core of its own (:class:`.priority.DisplayCore`); None = when the display stage
        runs one thread (``--threads 1``).
        """
        if pin_cores is None:
            pin_cores = getattr(self.display_stage.reprojector, "threads", 1) == 1
        with DisplayCore(pin_cores) as core:
            self.display_cpus = sorted(core.cpus) if core.cpus else None  # reported by the benchmark
            return self._run_realtime(max_display_frames, camera_hz, on_frame, loop_source, stop_event, on_camera,
                                      on_hands)

    def _run_realtime(self, max_display_frames, camera_hz, on_frame, loop_source, stop_event, on_camera,
                      on_hands) -> List[FrameRecord]:
        self.warmup()
        clock = time.monotonic_ns
        rate = camera_hz or self.source.rate_hz or STILL_RATE_HZ
        stop = stop_event or threading.Event()
        worker = None
        if self.hand_tracker_factory is not None:
            from hand_tracking.worker import HandWorker

            worker = HandWorker(self.hand_tracker_factory).start()
        cam_T: dict = {}
        errors: List[BaseException] = []
        # a sequence's head path and rig poses run on its own clock (the source's stills have none: their
        # stamps say nothing about motion, so a named path runs on the wall clock, as before; this is the
        # source's own `stills`, not self.stills, which is False where stills are played as a stream)
        src_clock = None
        if not getattr(self.source, "stills", False):
            src_rate = self.source.rate_hz
            src_clock = SourceClock(src_rate / rate if src_rate else 1.0)
            self.head_clock = self.camera_stage.pose_clock = src_clock
        last: List[Optional[CameraOutput]] = [None]  # the camera thread's newest output

        def submit_hands(rect):  # the hand worker gets each pair as soon as it is rectified
            if worker is None:
                return
            t_capture = rect.frame.t_left_ns
            cam_T[t_capture] = rect.T_world_from_left
            if len(cam_T) > 64:
                cam_T.pop(next(iter(cam_T)))
            worker.submit(rect.left_gray, rect.right_gray, t_capture_ns=t_capture)

        def camera_loop():
            lower_this_thread("camera")  # the display loop (this thread's caller) comes first
            period = int(1e9 / rate)
            t_next = clock()
            try:
                while not stop.is_set():
                    for f in self.source:
                        if stop.is_set():
                            return
                        now = clock()
                        if t_next > now:
                            time.sleep((t_next - now) / 1e9)
                        t_next = max(t_next + period, clock() - period)
                        t_source = f.t_left_ns
                        f.t_left_ns = f.t_right_ns = clock()
                        if src_clock is not None:
                            src_clock.mark(f.t_left_ns, t_source)
                        for out in self._camera_outputs(f, last[0], clock, submit_hands):
                            self.camera_box.put(out)  # an early output first, in the image-first mode
                            last[0] = out
                        if on_camera is not None:
                            on_camera(out)
                    if not loop_source:
                        return
            except BaseException as exc:  # reported by the display loop
                errors.append(exc)

        th = threading.Thread(target=camera_loop, name="camera-stage", daemon=True)
        th.start()
        hands: Optional[HandsSnapshot] = None
        hands_seq = 0
        try:
            # wait for the first camera output (start-up only; the loop below never waits for it)
            t_wait = clock()
            while self.camera_box.get() is None:
                if errors:
                    raise errors[0]
                if clock() - t_wait > 120e9:
                    raise RuntimeError("camera stage produced no frame in 120 s")
                time.sleep(0.001)
            t_slot = clock()
            for k in range(max_display_frames):
                now = clock()
                if t_slot > now:
                    time.sleep((t_slot - now) / 1e9)
                if errors:
                    raise errors[0]
                cam = self.camera_box.get()
                if worker is not None:
                    res, seq = worker.results.get_newer(hands_seq)
                    if res is not None:
                        hands_seq = seq
                        if on_hands is not None:
                            on_hands(res)
                        T = cam_T.get(res.t_capture_ns)
                        if T is not None:
                            hands = hands_to_world(res, T)
                rec, disp, views = self._display(k, t_slot, cam, hands, clock)
                if on_frame is not None:
                    on_frame(rec, disp, cam, hands, views)
                # next slot: the next vsync in the future (a missed slot is skipped, not queued)
                t_slot += self.period_ns
                now = clock()
                if now > t_slot:
                    t_slot += ((now - t_slot) // self.period_ns + 1) * self.period_ns
        finally:
            stop.set()
            th.join(timeout=5)
            if worker is not None:
                worker.stop()
            self.head_clock = self.camera_stage.pose_clock = _same_time
        return self.records
