"""CPU priority of the pipeline's threads: the display loop first, then the camera stage, then hand
tracking.

A headset's compositor runs at real-time priority and everything else yields to it. Here the display
loop keeps the process's normal priority and the worker threads lower their own (a higher Linux *nice*
value per thread: no privileges needed, and nothing else on the machine is affected). On two cores the
display loop, the camera stage and the hand worker compete for the CPU. Measured with ``passthrough
bench pipeline`` (90 Hz, 30 Hz cameras, hands on, one run each): display stage p50 44 -> 30 ms, 19.7 ->
26.6 display frames/s, capture -> ready p50 127 -> 86 ms; hand results p50 120 -> 126 ms (nice +5; +10
made them 242 ms for no display gain).

Only Linux has per-thread nice values; elsewhere these calls do nothing.
"""

from __future__ import annotations

import os
import threading

#: nice increments of the stage threads (the display loop keeps 0). ``PASSTHROUGH_THREAD_NICE=0``
#: disables the adjustment (every thread at the process's priority).
NICE = {"camera": 2, "hands": 5}


def lower_this_thread(stage: str) -> int:
    """Lower the calling thread's CPU priority by ``NICE[stage]`` (Linux). Returns the increment applied
    (0 where disabled, unsupported or refused)."""
    if os.environ.get("PASSTHROUGH_THREAD_NICE", "1") == "0" or not hasattr(os, "setpriority"):
        return 0
    inc = NICE.get(stage, 0)
    if inc <= 0:
        return 0
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + inc)
    except OSError:
        return 0
    return inc
