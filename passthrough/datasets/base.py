"""The frame-source interface: every dataset reader, a replay, a live camera is a :class:`FrameSource`.

A source is opened from a path (see :func:`passthrough.datasets.open_source`), knows its rig, and yields
:class:`~passthrough.frames.StereoFrame` objects in capture order. Readers never modify their input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterator, List, Optional

import numpy as np

from ..calibration import StereoRig
from ..frames import StereoFrame


class FrameSource:
    """Base class of all frame sources.

    Subclasses set ``format`` (short name), ``path``, ``rig`` and ``rate_hz`` (None for stills) and
    implement :meth:`__len__` and :meth:`__iter__`. ``missing`` lists files a complete copy of the format
    would have but this one lacks (reported by ``passthrough info``, never fatal when the frames can
    still be read). ``ground_truth`` names what ground truth is present (``"disparity"``,
    ``"nonocc_mask"``, ``"poses"``, ``"imu"``, ...).
    """

    format: str = "?"
    rate_hz: Optional[float] = None

    @property
    def stills(self) -> bool:
        """True for a set of unrelated captures (no rate): successive frames are different scenes, so
        nothing (temporal depth filtering, hand tracking) may carry from one to the next."""
        return self.rate_hz is None

    def __init__(self, path, rig: StereoRig):
        self.path = Path(path)
        self.rig = rig
        self.missing: List[str] = []
        self.ground_truth: List[str] = []
        self.notes: List[str] = []

    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def __iter__(self) -> Iterator[StereoFrame]:  # pragma: no cover - abstract
        raise NotImplementedError

    def frame_poses(self):
        """``(t_ns (N,) int64, T_world_from_head (N, 4, 4))`` ground-truth poses at the frames' capture times,
        or None when the source has none covering every frame. This generic version reads the frames
        (stopping at the first without a pose); readers whose poses are metadata override it."""
        ts, Ts = [], []
        for f in self:
            if f.T_world_from_head is None:
                return None
            ts.append(f.t_left_ns)
            Ts.append(f.T_world_from_head)
        if len(ts) < 2:
            return None
        return np.asarray(ts, dtype=np.int64), np.stack(Ts)

    @property
    def resolution(self):
        """``(width, height)`` of the raw images."""
        return self.rig.left.size

    def describe(self) -> Dict[str, object]:
        """Facts for ``passthrough info``: format, frames, resolution, rate, calibration, ground truth."""
        w, h = self.resolution
        return {
            "path": str(self.path),
            "format": self.format,
            "frames": len(self),
            "resolution": f"{w}x{h}",
            "rate_hz": self.rate_hz,
            "calibration": self.rig.summary() if getattr(self.rig, "calibrated", True) else "none (nominal values used)",
            "ground_truth": list(self.ground_truth) or ["none"],
            "missing": list(self.missing),
            "notes": list(self.notes),
        }


class CollectionSource(FrameSource):
    """Several sources of one format in sub-folders (e.g. a folder of Middlebury scenes): yields every
    frame of every child in order, re-indexed; each frame keeps its own scene's rig."""

    def __init__(self, path, children: List[FrameSource]):
        super().__init__(path, children[0].rig)
        self.children = children
        kinds = sorted({c.format.split(" collection")[0] for c in children})
        self.format = f"{'/'.join(kinds)} collection ({len(children)} datasets)"
        self.rate_hz = None
        for c in children:
            for g in c.ground_truth:
                if g not in self.ground_truth:
                    self.ground_truth.append(g)
            self.missing += [f"{c.path.name}/{m}" for m in c.missing]

    def __len__(self) -> int:
        return sum(len(c) for c in self.children)

    def __iter__(self) -> Iterator[StereoFrame]:
        i = 0
        for c in self.children:
            for f in c:
                f.index = i
                if c.rate_hz is None:  # stills: give each scene its own slot on a nominal 10 Hz clock
                    f.t_left_ns = f.t_right_ns = int(nominal_timestamps(i + 1)[-1])
                yield f
                i += 1


def nominal_timestamps(n: int, rate_hz: float = 10.0) -> np.ndarray:
    """Timestamps (int64 ns) for sources without a clock: ``i / rate_hz`` seconds."""
    return (np.arange(n, dtype=np.int64) * int(round(1e9 / rate_hz))).astype(np.int64)


def check_monotonic(timestamps_ns, path) -> None:
    """Raise :class:`InputError` naming ``path`` if timestamps are not strictly increasing."""
    from ..errors import InputError

    try:
        ts = np.asarray(timestamps_ns, dtype=np.int64)
    except (OverflowError, ValueError, TypeError):
        raise InputError(path, "timestamps are not whole nanosecond counts within the int64 range") from None
    bad = np.nonzero(np.diff(ts) <= 0)[0]
    if bad.size:
        i = int(bad[0])
        raise InputError(path, f"timestamps not increasing at row {i + 2}: {ts[i]} then {ts[i + 1]}")
