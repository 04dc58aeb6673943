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
