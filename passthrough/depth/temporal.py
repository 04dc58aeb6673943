"""Temporal filtering of disparity maps from a video (left rectified camera, full resolution).

Per pixel, the filter keeps a running estimate and a weight (the effective number of frames averaged).
A new measurement within ``max(abs_tol, rel_tol * d)`` px of the estimate is averaged in
(confidence-weighted, weight capped at ``max_weight``): a static scene settles and stops flickering.
A measurement outside that band is a *change*: the estimate jumps to it at once (no lag behind real
motion). The only exception: a low-confidence new value (hole-filled, below ``low_conf``) that
contradicts an estimate at least as confident is held back for at most ``hold_frames`` frames, which
suppresses flicker of filled regions (a value alternating every frame never gets through; a real change
persists and does).
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np
from numba import njit


# fast-math without 'nnan'/'ninf': NaN marks "no measurement" / "no estimate yet" and must survive
_SAFE_FASTMATH = {"arcp", "contract", "afn", "reassoc", "nsz"}


@njit(cache=True, nogil=True, fastmath=_SAFE_FASTMATH)
def _update(state, weight, conf_state, held, disp, conf, abs_tol, rel_tol, max_weight, low_conf, hold_frames):
    """One filter step, in place on the state arrays; branch-free per row so that it vectorises."""
    h, w = disp.shape
    out = np.empty((h, w), dtype=np.float32)
    cout = np.empty((h, w), dtype=np.float32)
    half = np.float32(0.5)
    floor_w = np.float32(0.05)
    for y in range(h):
        st = state[y]
        wt = weight[y]
        cs = conf_state[y]
        hd = held[y]
        dr = disp[y]
        cr = conf[y]
        orow = out[y]
        crow = cout[y]
        for x in range(w):
            d = dr[x]
            c = cr[x]
            s = st[x]
            wo = wt[x]
            k = cs[x]
            fd = d == d  # not NaN (disparities are never infinite)
            fs = s == s
            tol = max(abs_tol, rel_tol * abs(d))
            wn = max(c, floor_w)
            same = fd & fs & (abs(d - s) <= tol)
            hold = fd & fs & (~same) & (c < low_conf) & (k >= c) & (hd[x] < hold_frames)
            reset = fd & (~same) & (~hold)
            blend = (wo * s + wn * d) / (wo + wn)
            s_new = blend if same else (d if reset else s)
            w_new = min(wo + wn, max_weight) if same else (wn if reset else wo)
            k_new = max(c, k) if same else (c if reset else k * half)
            st[x] = s_new
            wt[x] = w_new
            cs[x] = k_new
            hd[x] = np.uint8(hd[x] + 1) if hold else (np.uint8(0) if fd else hd[x])
            orow[x] = s_new
            crow[x] = k_new
    return out, cout


class TemporalFilter:
    """Stateful per-pixel confidence-weighted temporal filter with a change test.

    Args:
        abs_tol: change threshold in px (differences above ``max(abs_tol, rel_tol * d)`` reset).
        rel_tol: relative part of the change threshold.
        max_weight: cap of the accumulated weight (≈ frames averaged on a static scene).
        low_conf: confidence below which a contradicting new value may be held back.
        hold_frames: how many frames such a value is held back at most.
    """

    def __init__(self, abs_tol: float = 1.0, rel_tol: float = 0.04, max_weight: float = 6.0,
                 low_conf: float = 0.5, hold_frames: int = 1):
        if abs_tol < 0 or rel_tol < 0 or max_weight <= 0:
            raise ValueError("temporal filter tolerances must be >= 0 and max_weight > 0")
        self.abs_tol = float(abs_tol)
        self.rel_tol = float(rel_tol)
        self.max_weight = float(max_weight)
        self.low_conf = float(low_conf)
        self.hold_frames = int(hold_frames)
        self.reset()

    def reset(self) -> None:
        """Forget the history."""
        self._state: Optional[np.ndarray] = None

    def update(self, disparity: np.ndarray, confidence: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Feed one frame.

        Args:
            disparity: float32 (H, W) disparity in px (NaN = no measurement).
            confidence: float32 (H, W) 0..1, or None (all 1).

        Returns:
            (disparity, confidence): filtered float32 (H, W) maps (new arrays).
        """
        d = np.ascontiguousarray(disparity, dtype=np.float32)
        c = np.ones_like(d) if confidence is None else np.ascontiguousarray(confidence, dtype=np.float32)
        if c.shape != d.shape:
            raise ValueError(f"confidence shape {c.shape} differs from disparity shape {d.shape}")
        if self._state is None or self._state.shape != d.shape:
            self._state = np.full(d.shape, np.nan, dtype=np.float32)
            self._weight = np.zeros(d.shape, dtype=np.float32)
            self._conf = np.zeros(d.shape, dtype=np.float32)
            self._held = np.zeros(d.shape, dtype=np.uint8)
        return _update(self._state, self._weight, self._conf, self._held, d, c, np.float32(self.abs_tol),
                       np.float32(self.rel_tol), np.float32(self.max_weight), np.float32(self.low_conf),
                       self.hold_frames)


def frame_to_frame_change(maps) -> dict:
    """Stability of a sequence of disparity maps (float32 (H, W) each, same size).

    Returns:
        ``{"mean_abs_px": mean |d_t - d_{t-1}| over pixels finite in both, averaged over frame pairs,
        "share_over_1px": share of such pixels changing by more than 1 px, "pairs": count}``.
    """
    maps = list(maps)
    diffs, over = [], []
    for a, b in zip(maps[:-1], maps[1:]):
        m = np.isfinite(a) & np.isfinite(b)
        if not m.any():
            continue
        e = np.abs(b[m] - a[m])
        diffs.append(float(e.mean()))
        over.append(float((e > 1.0).mean()))
    return {"mean_abs_px": float(np.mean(diffs)) if diffs else float("nan"),
            "share_over_1px": float(np.mean(over)) if over else float("nan"), "pairs": len(diffs)}
