"""User-facing errors: one clear line naming the file and the problem.

Raise :class:`InputError` for anything the user supplied that cannot be used (a missing or corrupt file,
a wrong calibration key, a bad parameter). The CLI catches it, prints ``error: <path>: <message>`` and
exits with status 2; no traceback reaches the user.
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad user input. ``path`` names the offending file or folder (or None); ``message`` the problem."""

    def __init__(self, path, message: str):
        self.path = None if path is None else Path(path)
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path is not None else self.message


def run_command(fn) -> int:
    """Run a CLI command ``fn()`` (returning its exit status) the way every entry point does: bad input
    (:class:`InputError`) and paths the system refuses (``OSError``: an unwritable or vanished path, a full
    disk) become one line ``error: <path>: <problem>`` on stderr and status 2; a closed output pipe
    (``| head``) is status 0; Ctrl-C prints ``interrupted``, status 130."""
    import sys

    try:
        return int(fn() or 0)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except OSError as exc:
        what = exc.strerror or str(exc)
        print(f"error: {exc.filename}: {what}" if exc.filename is not None else f"error: {what}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
