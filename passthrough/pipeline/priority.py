"""CPU priority of the pipeline's threads: the display loop first, then the camera stage, then hand
tracking.

A headset's compositor runs at real-time priority and everything else yields to it. Here the display
loop keeps the process's normal priority and the worker threads lower their own (a higher Linux *nice*
value per thread: no privileges needed, and nothing else on the machine is affected). On two cores the
display loop, the camera stage and the hand worker compete for the CPU. Measured with ``passthrough
bench pipeline`` (90 Hz, 30 Hz cameras, hands on, one run each): display stage p50 44 -> 30 ms, 19.7 ->
26.6 display frames/s, capture -> ready p50 127 -> 86 ms; hand results p50 120 -> 126 ms (nice +5; +10
made them 242 ms for no display gain).

``PASSTHROUGH_HANDS_IDLE=1`` runs the hand worker under Linux's ``SCHED_IDLE`` policy instead of nice
+5: it gets the CPU only when neither the camera stage nor the display loop wants it (a thread may always
lower its own policy; no privileges), so a camera frame never waits behind a hand frame. It is not the
default, because on this project's 2-core VM it also cost display frames. ``passthrough bench pipeline
--frames 300 --baseline-frames 2``, hands on, 2-core Xeon VM, 2026-12-02, pairs alternated (nice +5 ->
``SCHED_IDLE``):

* 90 Hz (two pairs): depth p50 26.5 / 27.5 -> 18.8 / 18.8 ms (``--no-hands``: 18.5 ms), capture -> ready
  p50 54.8 / 54.9 -> 48.7 / 47.7 ms and p99 67.1 / 68.7 -> 61.3 / 54.4 ms; the display stage unchanged
  (p50 12.9-13.4 ms, 45 frames/s either way: it misses the 11.1 ms slot); hand results p50 60 / 127 -> 98 /
  98 ms, p99 236 / 311 -> 392 / 368 ms.
* 72 Hz (two pairs, the ``SCHED_IDLE`` run first in each): display 67.1 / 61.7 -> 55.2 / 50.4 frames/s (deadline
  misses 7 / 17 -> 30 / 42 %; display stage p50 12.3 / 12.4 -> 12.8 / 13.2 ms: the depth stage running
  unhindered on the other core slows the display core more than the hand worker does), capture -> ready
  p50 50.8 / 51.8 -> 43.3 / 42.3 ms, p99 70.0 / 73.5 -> 63.0 / 60.5 ms; hand results p50 77 / 54 -> 115 / 181
  ms, p99 302 / 248 -> 560 / 601 ms.

So ``SCHED_IDLE`` buys 7-10 ms of camera latency with display frames and hand latency; the default keeps
the frame rate.

Only Linux has per-thread nice values and ``SCHED_IDLE``; elsewhere these calls do nothing.

Cores (:class:`DisplayCore`): a compositor also owns its core. While :meth:`Pipeline.run_realtime
<passthrough.pipeline.scheduler.Pipeline.run_realtime>` runs with one thread per stage on a machine with
at least two cores, the display loop is pinned to the first core it may use and the camera and hand
threads to the others (Linux ``sched_setaffinity`` per thread; the display thread's own affinity is
restored afterwards). Nice values alone let the camera and hand threads take turns on the display's
core. Measured with ``passthrough bench pipeline --frames 300 --baseline-frames 2`` (90 Hz, hands on,
three runs each, alternated, 2026-12-02): display stage p50 24.7-26.5 -> 20.4-21.3 ms, p99 41.2-42.5 ->
27.6-29.4 ms, 29.7-31.6 -> 36.6-38.2 frames/s, capture -> ready p50 62.9-67.7 -> 59.7-62.3 ms and p99
98.8-106 -> 84-87 ms, depth p50 22.4 -> 25.5-27.2 ms; hand results came later (p50 76-80 -> 91-162 ms:
they share one core with the camera stage). ``PASSTHROUGH_PIN_CORES=0`` turns it off.
"""

from __future__ import annotations

import os
import threading

#: nice increments of the stage threads (the display loop keeps 0). ``PASSTHROUGH_THREAD_NICE=0``
#: disables the adjustment (every thread at the process's priority).
NICE = {"camera": 2, "hands": 5}
#: stages that may run under ``SCHED_IDLE`` instead of their ``NICE`` increment: with
#: ``PASSTHROUGH_HANDS_IDLE=1``, where Linux grants it (see the module docstring for the trade)
IDLE_STAGES = frozenset({"hands"})


#: the cores the stage threads run on while a :class:`DisplayCore` is held (None: any core)
_worker_cpus = None


class DisplayCore:
    """Context manager: pin the calling (display) thread to one core and have stage threads started
    meanwhile (:func:`lower_this_thread`) run on the remaining cores; a no-op unless ``enabled``, on Linux,
    with at least two usable cores and ``PASSTHROUGH_PIN_CORES`` not ``0``. ``cpus`` holds the display's
    core set while active (None otherwise)."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled and os.environ.get("PASSTHROUGH_PIN_CORES", "1") != "0" \
            and hasattr(os, "sched_setaffinity")
        self.cpus = None
        self._saved = None

    def __enter__(self) -> "DisplayCore":
        global _worker_cpus
        if not self.enabled:
            return self
        try:
            allowed = sorted(os.sched_getaffinity(0))
            if len(allowed) < 2 or _worker_cpus is not None:  # one core, or already held (nested run)
                return self
            self._saved = set(allowed)
            os.sched_setaffinity(0, {allowed[0]})
        except OSError:
            self._saved = None
            return self
        self.cpus = {allowed[0]}
        _worker_cpus = set(allowed[1:])
        return self

    def __exit__(self, *exc) -> None:
        global _worker_cpus
        if self._saved is not None:
            _worker_cpus = None
            try:
                os.sched_setaffinity(0, self._saved)
            except OSError:
                pass
            self._saved, self.cpus = None, None


def lower_this_thread(stage: str) -> str:
    """Lower the calling thread's CPU priority (Linux): a nice increment of ``NICE[stage]``, or
    ``SCHED_IDLE`` for the stages in :data:`IDLE_STAGES` with ``PASSTHROUGH_HANDS_IDLE=1``; and move it off
    the display's core while a :class:`DisplayCore` is held. Returns what was applied: ``"idle"``, ``"nice+N"``, or ``""`` (disabled,
    unsupported, refused, or a stage without an entry)."""
    if _worker_cpus is not None:
        try:
            os.sched_setaffinity(0, _worker_cpus)
        except OSError:
            pass
    if os.environ.get("PASSTHROUGH_THREAD_NICE", "1") == "0" or not hasattr(os, "setpriority"):
        return ""
    if stage in IDLE_STAGES and os.environ.get("PASSTHROUGH_HANDS_IDLE", "0") == "1" \
            and hasattr(os, "SCHED_IDLE"):
        try:  # pid 0: the calling thread
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return "idle"
        except OSError:
            pass  # fall back to the nice increment
    inc = NICE.get(stage, 0)
    if inc <= 0:
        return ""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + inc)
    except OSError:
        return ""
    return f"nice+{inc}"
