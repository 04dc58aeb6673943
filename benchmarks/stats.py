"""Summary statistics and machine facts for benchmark reports."""

from __future__ import annotations

import os
import platform
from typing import Dict, Iterable

import numpy as np


def summarize_ms(values: Iterable[float]) -> Dict[str, float]:
    """``{p50_ms, p95_ms, p99_ms, max_ms, mean_ms, n}`` of durations in milliseconds (NaN if empty)."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=np.float64)
    if v.size == 0:
        return {"p50_ms": float("nan"), "p95_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan"),
                "mean_ms": float("nan"), "n": 0}
    p50, p95, p99 = np.percentile(v, [50, 95, 99])
    return {"p50_ms": round(float(p50), 3), "p95_ms": round(float(p95), 3), "p99_ms": round(float(p99), 3),
            "max_ms": round(float(v.max()), 3), "mean_ms": round(float(v.mean()), 3), "n": int(v.size)}


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(threads: int) -> dict:
    import cv2
    import numba
    import onnxruntime as ort

    from passthrough.allocator import allocator_info

    return {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "onnxruntime_version": ort.__version__,
        "onnxruntime_providers": ort.get_available_providers(),
        # onnxruntime's sessions are made with ``threads`` intra-op threads (one inter-op thread, no spinning)
        "threads": {"requested": threads, "cv2": cv2.getNumThreads(), "numba": numba.get_num_threads(),
                    "onnxruntime_intra_op": threads, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")},
        "python": platform.python_version(),
        "allocator": allocator_info(),
    }


def set_threads(threads: int) -> None:
    """Limit OpenCV and numba to ``threads`` (onnxruntime sessions take it at construction)."""
    import cv2
    import numba

    cv2.setNumThreads(threads)
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
