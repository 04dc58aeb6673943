"""Output folders that never overwrite what the user has: one check for every command that writes a
folder of results (``replay``, ``demo``, ``synth``; ``record`` refuses any non-empty folder), and one for
the single files a command is told to write (``--json``, ``--plot``, ``--frame-log``): :func:`prepare_out_file`.

A command names what it writes (file names, glob patterns, sub-folders); its output folder may be new,
empty, or hold only such names (a previous run of the same command, whose files it rewrites). Anything
else in it (the dataset being replayed, the user's own files) makes the command stop with one line
before it writes anything.
"""

from __future__ import annotations

import os
from fnmatch import fnmatch
from pathlib import Path
from typing import Iterable

from ..errors import InputError


def prepare_out_folder(path, writes: Iterable[str], sub_writes: Iterable[str] = ()) -> Path:
    """Create the folder ``path`` (with parents) and return it.

    Args:
        path: the output folder.
        writes: the top-level names the command writes into it: file names or glob patterns
            (``"preview_*.png"``), and sub-folders it owns (their contents are its own).
        sub_writes: patterns of the files the command writes into sub-folders of any name (one per
            dataset, say): a sub-folder holding only such files is the command's own too.

    Raises:
        InputError: ``path`` is an existing file, or an existing folder holding a name not in ``writes``
            (the message names up to three of them).
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise InputError(out, "output path exists and is not a folder")
    if out.is_dir():
        patterns, sub = tuple(writes), tuple(sub_writes)
        ours = lambda p: any(fnmatch(p.name, w) for w in patterns) or (
            bool(sub) and p.is_dir() and all(q.is_file() and any(fnmatch(q.name, w) for w in sub) for q in p.iterdir()))
        other = sorted(p.name for p in out.iterdir() if not ours(p))
        if other:
            more = ", ..." if len(other) > 3 else ""
            raise InputError(out, f"output folder holds files this command does not write ({', '.join(other[:3])}{more}); "
                                  "nothing is overwritten: choose a new or empty folder")
    out.mkdir(parents=True, exist_ok=True)
    return out


def prepare_out_file(path, flag: str) -> Path:
    """Check, before any work, an output *file* given with ``flag`` (e.g. ``--json``): it must not be a
    folder, and its folder is created now, so that a bad path fails with one line before a long run
    rather than after it. Returns the path.

    Raises:
        InputError: ``path`` is a folder, or its folder cannot be created.
    """
    out = Path(path)
    if out.is_dir():
        raise InputError(out, f"{flag} names a folder (this path is a folder); give the file to write")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(out.parent, f"cannot create the folder for {flag}: {exc.strerror}") from None
    return out


#: argparse destinations of single output files, with their flags (every command's, one check for all)
OUTPUT_FILE_ARGS = (("json", "--json"), ("plot", "--plot"), ("frame_log", "--frame-log"))


def check_output_files(args) -> None:
    """:func:`prepare_out_file` for each of :data:`OUTPUT_FILE_ARGS` the parsed ``args`` carry as a path
    (``passthrough info --json`` is a switch, not a file): the CLI entry points call it before running any
    command."""
    for dest, flag in OUTPUT_FILE_ARGS:
        value = getattr(args, dest, None)
        if isinstance(value, (str, os.PathLike)) and str(value):
            prepare_out_file(value, flag)
