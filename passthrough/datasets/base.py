"""The frame-source interface: every dataset reader, a replay, a live camera is a :class:`FrameSource`.

A source is opened from a path (see :func:`passthrough.datasets.open_source`), knows its rig, and yields
:class:`~passthrough.frames.StereoFrame` objects in capture order. Readers never modify their input.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

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

    def input_files(self) -> List[Path]:
        """The files and folders this source reads: its path (a folder, or a video or list file), and any file
        it names outside it (a rig-v1 set's images may lie anywhere). Output folders are checked against
        them, so that a command never removes what it is about to read."""
        return [self.path]

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

    def describe(self) -> Dict[str, object]:
        """As :meth:`FrameSource.describe`; resolution, rate and calibration are the children's where they
        all agree, else ``"varies (see datasets)"``, and ``datasets`` lists each child's own."""
        facts = super().describe()
        kids = [c.describe() for c in self.children]
        for key in ("resolution", "rate_hz", "calibration"):
            values = {repr(k[key]) for k in kids}
            facts[key] = kids[0][key] if len(values) == 1 else "varies (see datasets)"
        rate = lambda r: "stills" if r is None else f"{r:g} Hz"
        facts["datasets"] = [f"{Path(k['path']).name}: {k['format']}, {k['frames']} frames, {k['resolution']}, "
                             f"{rate(k['rate_hz'])}, {k['calibration']}" for k in kids]
        return facts

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


def check_monotonic(timestamps_ns, path, lines: Optional[Sequence[int]] = None) -> None:
    """Raise :class:`InputError` naming ``path`` if timestamps are not strictly increasing. ``lines``: the
    1-based file line of each timestamp, named in the message (without it, the 1-based entry number)."""
    from ..errors import InputError

    try:
        ts = np.asarray(timestamps_ns, dtype=np.int64)
    except (OverflowError, ValueError, TypeError):
        raise InputError(path, "timestamps are not whole nanosecond counts within the int64 range") from None
    bad = np.nonzero(np.diff(ts) <= 0)[0]
    if bad.size:
        i = int(bad[0])
        where = f"line {lines[i + 1]}" if lines is not None else f"row {i + 2}"
        how = " (repeated)" if ts[i] == ts[i + 1] else ""
        raise InputError(path, f"timestamps not increasing at {where}: {ts[i]} then {ts[i + 1]}{how}")


def numbered_data_lines(text: str) -> Tuple[List[str], List[int]]:
    """The lines of a numeric text file that hold data (not blank, not ``#`` comments) and their 1-based
    file line numbers."""
    lines, numbers = [], []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            lines.append(line)
            numbers.append(n)
    return lines, numbers


def read_data_lines(path: Path, what: str) -> Tuple[List[str], List[int]]:
    """The data lines of the numeric text file ``path`` and their 1-based file line numbers
    (:func:`numbered_data_lines`); a file that cannot be read or is not text raises :class:`InputError`
    naming it (``what``: what it should hold, for the message)."""
    from ..errors import InputError

    try:
        text = Path(path).read_text()
    except UnicodeDecodeError:
        raise InputError(path, f"not a text file ({what} expected)") from None
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror or exc})") from None
    return numbered_data_lines(text)


def _first_bad_line(lines: Sequence[str], numbers: Sequence[int],
                    delimiter: Optional[str]) -> Optional[Tuple[int, str]]:
    """``(file line, problem)`` of the first data line that is not all numbers or has another number of
    values than the first one; None if every line parses."""
    first = None
    for line, n in zip(lines, numbers):
        body = line.split("#", 1)[0]
        fields = [f.strip() for f in body.split(delimiter)] if delimiter else body.split()
        for c, f in enumerate(fields, 1):
            try:
                float(f)
            except ValueError:
                return n, f"{f'{f[:20]!r}' if f else 'empty value'} in column {c} is not a number"
        if first is None:
            first = (n, len(fields))
        elif len(fields) != first[1]:
            return n, f"{len(fields)} values, line {first[0]} has {first[1]}"
    return None


def load_numeric_lines(lines: Sequence[str], numbers: Sequence[int], path, what: str,
                       delimiter: Optional[str] = None, ndmin: int = 2) -> np.ndarray:
    """``np.loadtxt`` of the data lines of a text file (:func:`numbered_data_lines`) as float64; a bad value
    or a ragged row raises :class:`InputError` naming ``path`` and the 1-based file line (never numpy's
    0-based row of the data lines, nor its "no data" warning)."""
    from ..errors import InputError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return np.loadtxt(list(lines), delimiter=delimiter, dtype=np.float64, ndmin=ndmin)
    except ValueError as exc:
        bad = _first_bad_line(lines, numbers, delimiter)
        if bad is not None:
            raise InputError(path, f"line {bad[0]}: bad {what} ({bad[1]})") from None
        # numpy refused something Python's float() takes: its message, with its 0-based row as the file line
        why = str(exc).splitlines()[0].split(";")[0]
        why = re.sub(r"\bat row (\d+)", lambda m: f"at line {numbers[min(int(m[1]), len(numbers) - 1)]}", why)
        raise InputError(path, f"bad {what} ({why})") from None
