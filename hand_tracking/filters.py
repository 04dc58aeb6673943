"""One Euro filter (Casiez, Roussel & Vogel, CHI 2012): low-lag smoothing of noisy joint positions.

The cutoff frequency adapts to the signal's speed: ``fc = min_cutoff + beta * |dx/dt|`` so slow motion
is smoothed strongly (jitter removed) and fast motion follows with little lag.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["OneEuroFilter"]


def _alpha(cutoff_hz: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Element-wise One Euro filter over arrays of any fixed shape (e.g. float (21, 3) joints in metres).

    Args:
        min_cutoff: cutoff (Hz) at rest; lower = smoother, more lag when slow.
        beta: speed coefficient; higher = less lag when moving fast.
        d_cutoff: cutoff (Hz) of the derivative estimate.

    ``__call__(x, t_s)`` takes the sample and its timestamp in seconds and returns the filtered array
    (float64, same shape). Timestamps must increase; a repeated timestamp returns the last output.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.5, d_cutoff: float = 1.0):
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.d_cutoff = float(d_cutoff)
        self.reset()

    def reset(self) -> None:
        """Forget the state (the next sample passes through unchanged)."""
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    def __call__(self, x, t_s: float) -> np.ndarray:
        x = np.asarray(x, np.float64)
        if self._x is None or x.shape != self._x.shape:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), float(t_s)
            return x.copy()
        dt = float(t_s) - self._t
        if dt <= 0:
            return self._x.copy()
        dx = (x - self._x) / dt
        a_d = _alpha(self.d_cutoff, dt)
        self._dx = a_d * dx + (1 - a_d) * self._dx
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx)
        a = _alpha(cutoff, dt)
        self._x = a * x + (1 - a) * self._x
        self._t = float(t_s)
        return self._x.copy()
