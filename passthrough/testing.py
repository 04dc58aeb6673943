"""Assertions for the command line's bad-input contract, shared by the tests (like ``numpy.testing``).

Bad input must end a command with exit status 2 and exactly one line on stderr, ``error: PATH: problem``,
never a traceback, and must leave the user's files as they were.
"""

from __future__ import annotations

import hashlib
import os

__all__ = ["assert_one_line_error", "tree_digest"]


def assert_one_line_error(result, *words: str) -> str:
    """``result`` (a ``subprocess.CompletedProcess`` in text mode) failed with status 2 and one stderr line
    starting ``error: `` that contains every one of ``words``. Returns that line."""
    assert result.returncode == 2, (result.returncode, result.stdout[-1000:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def tree_digest(root) -> str:
    """sha256 over the relative paths and bytes of every file under ``root`` (to show it is unchanged)."""
    h = hashlib.sha256()
    for dirpath, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            p = os.path.join(dirpath, f)
            h.update(os.path.relpath(p, root).encode())
            with open(p, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()
