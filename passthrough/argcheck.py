"""Range checks of the numeric options shared by several commands, in one table.

argparse checks types (``--display-hz abc``); the values it lets through (``--display-hz 0``, ``nan``,
``-90``, ``inf``; ``--ipd-mm nan``; ``--threads 99999999999``) would otherwise fail deep inside a run, hang
the scheduler or reach the ONNX model as NaN geometry. :func:`check_arguments` runs before any command
(both CLI entry points) and turns them into one line: ``error: --flag: must be ..., got VALUE``.

Each rule applies wherever a command has the option (by its argparse destination); a command checks
itself only what depends on other options (``bench --plot`` needs the pipeline target, say).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from .errors import InputError

__all__ = ["RULES", "check_arguments", "empty_argument", "OneLineErrorParser"]


class OneLineErrorParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors (a wrong type, an unknown choice, a missing or unknown option)
    are one line, ``error: --flag: problem (see PROG --help)``, exit status 2, like every other bad input
    (argparse itself prints the whole usage first). Sub-parsers made with ``add_subparsers`` inherit it."""

    def error(self, message: str):
        if message.startswith("argument "):  # "argument --stride: invalid choice: ..." -> "--stride: ..."
            message = message[len("argument "):]
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")

def empty_argument(argv) -> "str | None":
    """The complaint about the first empty command-line argument in ``argv`` (``--out ''``, ``--out=``, a
    positional ``''``), or None. No option of these commands takes an empty value, and argparse would turn
    an empty path into ``Path('.')``, the current folder. Checked before parsing, by both entry points."""
    for i, tok in enumerate(argv):
        if tok.startswith("--") and tok.endswith("=") and len(tok) > 3:
            return f"{tok[:-1]}: an empty value (give a path or a value)"
        if not tok.strip():
            prev = argv[i - 1] if i > 0 else ""
            if prev.startswith("-") and "=" not in prev:
                return f"{prev}: an empty value (give a path or a value)"
            return f"argument {i + 1} is empty (give a path)"
    return None


#: the most threads any option may ask for (0 means "all cores" where an option documents it)
MAX_THREADS = 1024


def _finite_in(lo: float, hi: float):
    return lambda v: isinstance(v, (int, float)) and math.isfinite(v) and lo <= v <= hi


def _int_in(lo: int, hi: int):
    return lambda v: isinstance(v, int) and lo <= v <= hi


#: destination -> (flag, check, what a good value is); ``None`` values (option not given) are not checked
RULES = {
    "display_hz": ("--display-hz", _finite_in(1.0, 1000.0), "a rate from 1 to 1000 Hz"),
    "camera_hz": ("--camera-hz", _finite_in(0.1, 1000.0), "a rate from 0.1 to 1000 Hz"),
    "ipd_mm": ("--ipd-mm", _finite_in(30.0, 120.0), "an interpupillary distance from 30 to 120 mm"),
    "eye_relief_mm": ("--eye-relief-mm", _finite_in(-100.0, 300.0),
                      "from -100 to 300 mm (eyes behind the camera plane; negative: in front)"),
    "threads": ("--threads", _int_in(0, MAX_THREADS), f"from 0 to {MAX_THREADS}"),
    "frames": ("--frames", _int_in(1, 10 ** 9), "a positive number of frames"),
    "previews": ("--previews", _int_in(0, 10 ** 6), "zero or more"),
    "warmup": ("--warmup", _int_in(0, 10 ** 9), "zero or more frames"),
    "baseline_frames": ("--baseline-frames", _int_in(1, 10 ** 9), "a positive number of frames"),
    "exposure_ms": ("--exposure-ms", _finite_in(0.0, 1000.0), "from 0 to 1000 ms"),
    "readout_ms": ("--readout-ms", _finite_in(0.0, 1000.0), "from 0 to 1000 ms"),
    "scanout_ms": ("--scanout-ms", _finite_in(0.01, 1000.0), "from 0.01 to 1000 ms"),
    "repeat": ("--repeat", _int_in(1, 10 ** 6), "a positive number of timed runs"),
    "repeats": ("--repeats", _int_in(1, 10 ** 6), "a positive number of timed runs"),
    "crop": ("--crop", _int_in(0, 10 ** 6), "zero or more pixels"),
}


def check_arguments(args) -> None:
    """Raise :class:`InputError` for the first option of the parsed ``args`` that breaks its rule, or for a
    ``--calibration`` that is no file (a calibration the data does not need is refused by the reader)."""
    cal = getattr(args, "calibration", None)
    if cal is not None and str(cal) and not Path(cal).is_file():
        raise InputError(Path(cal), "--calibration: " + ("a folder, not a calibration file" if Path(cal).is_dir()
                                                         else "no such file"))
    for dest, (flag, ok, what) in RULES.items():
        value = getattr(args, dest, None)
        if value is None or isinstance(value, bool):
            continue
        if not ok(value):
            raise InputError(None, f"{flag}: must be {what}, got {value}")
