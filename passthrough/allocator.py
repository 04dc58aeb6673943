"""Keep freed large buffers in the process heap: glibc ``malloc`` tuned for a frame loop.

Every frame allocates the same multi-megabyte numpy arrays (rectified images, depth maps, the
reprojection's eye images and depth) and frees them a frame later. glibc serves blocks above its mmap
threshold (128 KiB at start, adjusted upwards only as blocks are freed) with ``mmap`` and hands them back
to the kernel on ``free``, so each frame's arrays arrive as fresh pages: a page fault per 4 KiB on first
touch, zeroed by the kernel. On this project's VMs that was a third of the reprojection gather's time
(below). :func:`keep_freed_memory` raises the mmap threshold to :data:`MMAP_THRESHOLD` and the trim
threshold to :data:`TRIM_THRESHOLD`, so freed blocks stay in the heap and the next frame reuses them (the
process keeps its peak working set, as a real-time loop should). The command-line entry points
(``passthrough``, ``python -m openxr_app``) call it first; ``PASSTHROUGH_KEEP_FREED_MEMORY=0`` turns it
off (for an A/B run). Other C libraries (musl, macOS): nothing is changed.

Measured (2026-12-03, 2-core AMD EPYC VM, *one-off*: one process, :func:`reprojection.gather.gather_eyes`
on the demo frame, both 640x480 eyes, three figures of 30 calls each before and after the call):
12.8-13.0 ms with glibc's own thresholds, 8.2-8.7 ms kept. ``passthrough bench reprojection`` shows no
difference (its loop already gets glibc's dynamic threshold); ``passthrough bench pipeline`` does, in
four alternated pairs (``docs/measurements.md``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

#: Blocks up to this size come from the heap (glibc's ``M_MMAP_THRESHOLD``; its upper limit on 64-bit).
MMAP_THRESHOLD = 32 * 1024 * 1024
#: Free memory at the top of the heap is returned to the kernel only beyond this (``M_TRIM_THRESHOLD``).
TRIM_THRESHOLD = 1024 * 1024 * 1024
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
ENV = "PASSTHROUGH_KEEP_FREED_MEMORY"

_state = {"applied": False}


def keep_freed_memory() -> bool:
    """Tune glibc's allocator as the module docstring says (once per process; idempotent). Returns
    whether the thresholds are set (False: not glibc, turned off by :data:`ENV`, or refused)."""
    if _state["applied"]:
        return True
    if os.environ.get(ENV, "1") == "0" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(libc.mallopt(_M_TRIM_THRESHOLD,
                                                                                         TRIM_THRESHOLD))
    except (OSError, AttributeError):
        return False
    _state["applied"] = ok
    return ok


def allocator_info() -> dict:
    """What :func:`keep_freed_memory` did in this process (for benchmark reports)."""
    return {"keep_freed_memory": _state["applied"],
            "mmap_threshold_bytes": MMAP_THRESHOLD if _state["applied"] else None,
            "trim_threshold_bytes": TRIM_THRESHOLD if _state["applied"] else None}
