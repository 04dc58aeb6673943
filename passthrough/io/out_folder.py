"""Output folders that never overwrite what the user has: one check for every command that writes a
folder of results (``replay``, ``demo``, ``synth``; ``record`` refuses any non-empty folder), and one for
the single files a command is told to write (``--json``, ``--plot``, ``--frame-log``, ``--overlay``):
:func:`prepare_out_file`, which also refuses to write over or into the command's own inputs.

A command names what it writes (file names, glob patterns, sub-folders and the files in them); its output
folder may be new, empty, or hold only such names (a previous run of the same command, whose files it
removes before writing its own: nothing stale is left). Anything else in it (the dataset being replayed,
the user's own files) makes the command stop with one line before it writes or removes anything.
"""

from __future__ import annotations

import os
from fnmatch import fnmatch
from pathlib import Path
from typing import Iterable, Mapping, Optional

from ..errors import InputError


def prepare_out_folder(path, writes: Iterable[str], sub_writes: Iterable[str] = (),
                       folders: Optional[Mapping[str, Iterable[str]]] = None, reads: Iterable = ()) -> Path:
    """Create the folder ``path`` (with parents) and return it, cleared of the command's own earlier
    outputs: a run rewrites what an earlier one wrote, and leaves none of its files behind (e.g. frames
    past the new run's last one).

    Args:
        path: the output folder.
        writes: the top-level names the command writes into it: file names or glob patterns
            (``"preview_*.png"``), and sub-folders it owns.
        sub_writes: patterns of the files the command writes into sub-folders of any name (one per
            dataset, say): a sub-folder holding only such files is the command's own too.
        folders: for owned sub-folders named in ``writes``, the patterns of the files they hold (a
            sub-folder not listed here may hold any file).
        reads: the files and folders the command reads (:func:`input_paths`,
            :meth:`~passthrough.datasets.base.FrameSource.input_files`): an earlier output that is one of
            them, lies inside one or holds one is never removed (a rig-v1 set may name the images an
            earlier run wrote).

    Raises:
        InputError: ``path`` is an existing file, or an existing folder holding a name not in ``writes``,
            or an owned sub-folder holding a file the command does not write there (the message names up
            to three of them), or an earlier output the command reads. Nothing is removed then.
    """
    out = Path(path)
    if out.is_symlink() and not out.exists():
        raise InputError(out, f"output folder is a link to a missing location ({os.readlink(out)})")
    if out.exists() and not out.is_dir():
        raise InputError(out, "output path exists and is not a folder")
    if out.is_dir():
        patterns, sub, inside = tuple(writes), tuple(sub_writes), dict(folders or {})
        matches = lambda p, pats: any(fnmatch(p.name, w) for w in pats)
        own_file = lambda q, pats: q.is_file() and not q.is_symlink() and matches(q, pats)  # never a link
        in_sub = lambda p: bool(sub) and p.is_dir() and all(own_file(q, sub) for q in p.iterdir())
        other, earlier = [], []
        for p in sorted(out.iterdir()):
            if p.is_symlink():  # what it points to is not this command's to rewrite
                other.append(p.name)
            elif matches(p, patterns) and not p.is_dir():
                earlier.append(p)
            elif matches(p, patterns):
                pats = tuple(inside.get(p.name, ("*",)))
                strays = sorted(q for q in p.iterdir() if not own_file(q, pats))
                other += [f"{p.name}/{q.name}" for q in strays]
                earlier += [q for q in p.iterdir() if q.is_file()] + [p]  # the folder too: made again if written
            elif in_sub(p):
                earlier += list(p.iterdir()) + [p]
            else:
                other.append(p.name)
        if other:
            more = ", ..." if len(other) > 3 else ""
            raise InputError(out, f"output folder holds files this command does not write ({', '.join(other[:3])}{more}); "
                                  "nothing is overwritten: choose a new or empty folder")
        read = [Path(r).resolve() for r in reads if Path(r).exists()]

        def holds_input(p: Path) -> bool:  # is one of the inputs, lies inside one, or holds one
            q = p.resolve()
            return any(q == r or r in q.parents or q in r.parents for r in read)

        held = [p for p in earlier if holds_input(p)]
        if held:
            names = [str(p.relative_to(out)) for p in held if not p.is_dir()] or [str(held[0].relative_to(out))]
            more = ", ..." if len(names) > 3 else ""
            raise InputError(out, f"output folder holds files this command reads ({', '.join(names[:3])}{more}); "
                                  "nothing is removed: choose a new or empty folder")
        for p in earlier:  # files first, then the sub-folders they emptied
            p.rmdir() if p.is_dir() else p.unlink()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(out, f"cannot create the output folder here ({exc.strerror})") from None
    return out


def prepare_out_file(path, flag: str, inputs: Iterable = (), kind: str = "") -> Path:
    """Check, before any work, an output *file* given with ``flag`` (e.g. ``--json``), so that a bad path
    fails with one line before a long run rather than after it: it must not be a folder or a link to a
    missing location, nor one of the ``inputs`` (files or folders the command reads: the file itself, or
    any file inside such a folder, which would overwrite or add to the user's data), its folder (or the
    nearest one that exists: the rest is made when the file is written) must take a new file (a probe
    file is made and removed), and for ``kind`` ``"plot"`` / ``"image"`` its extension must be one
    matplotlib / OpenCV can write. Nothing is left behind. Returns the path.

    Raises:
        InputError: any of the above fails.
    """
    out = Path(path)
    if out.is_dir():
        raise InputError(out, f"{flag} names a folder (this path is a folder); give the file to write")
    if out.is_symlink() and not out.exists():
        raise InputError(out, f"{flag} is a link to a missing location ({os.readlink(out)}); give a file to write")
    given = input_holding(out, inputs)
    if given is not None:
        what = "an input file" if out.resolve() == Path(given).resolve() else f"inside the input folder {given}"
        raise InputError(out, f"{flag} would write {what}; nothing the command reads is overwritten: "
                              "choose a path outside the data")
    if kind == "plot":
        from matplotlib.backend_bases import FigureCanvasBase

        ext = out.suffix.lower().lstrip(".")
        if ext not in FigureCanvasBase.get_supported_filetypes():
            raise InputError(out, f"{flag}: cannot write a {out.suffix or 'extension-less'} plot "
                                  f"(use .png, .pdf or .svg)")
    elif kind == "image":
        import cv2

        if not cv2.haveImageWriter(str(out)):
            raise InputError(out, f"{flag}: cannot write a {out.suffix or 'extension-less'} image (use .png or .jpg)")
    # its folder is made when the file is written (a refused run leaves nothing behind): here the nearest
    # folder that exists must be one a new file (or folder) can be made in
    base = out.parent
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        raise InputError(base, f"cannot make the folder for {flag}: this path is not a folder")
    _probe_writable(base, flag)
    return out


def input_holding(path, inputs: Iterable):
    """The first of ``inputs`` that ``path`` is, or lies inside (an input folder), else None."""
    target = Path(path).resolve()
    for given in inputs:
        src = Path(given).resolve()
        if target == src or (src.is_dir() and src in target.parents):
            return given
    return None


def _probe_writable(folder: Path, flag: str) -> None:
    """Make and remove a file in ``folder`` (``os.access`` says yes to root on read-only mounts and on
    pseudo file systems such as /sys and /proc)."""
    import tempfile

    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".passthrough-probe-"):
            pass
    except OSError as exc:
        raise InputError(folder, f"{flag}: this folder takes no new files ({exc.strerror})") from None


#: argparse destinations of single output files: flag and kind (every command's, one check for all)
OUTPUT_FILE_ARGS = (("json", "--json", ""), ("plot", "--plot", "plot"), ("frame_log", "--frame-log", ""),
                    ("overlay", "--overlay", "image"))
#: argparse destinations of the paths commands read (positional datasets, sources, calibrations, ...)
INPUT_ARGS = ("path", "source", "dataset", "stereo", "calibration", "head_path", "hologram", "data")
#: those of them that name data sets: a JSON *file* given there stands for the folder it lies in (a rig-v1
#: set by its ``rig.json``, the hand photos by ``hands.json``), so that folder is an input folder too; any
#: other file (a video) is an input with the calibration files it may read beside it
#: (:func:`passthrough.datasets.video.calibration_candidates`), and results may
#: go beside it, like beside the two images of ``--stereo LEFT RIGHT``
DATASET_ARGS = ("path", "source", "dataset", "data")


def input_paths(args) -> list:
    """The existing files and folders the parsed ``args`` name as inputs (:data:`INPUT_ARGS`; lists are
    flattened, values that are not paths, such as ``camera:0``, are skipped), followed by the folder of
    each file given as a data set (:data:`DATASET_ARGS`)."""
    found, folders = [], []
    for dest in INPUT_ARGS:
        value = getattr(args, dest, None)
        for v in (value if isinstance(value, (list, tuple)) else [value]):
            if isinstance(v, (str, os.PathLike)) and str(v) and Path(v).exists():
                p = Path(v)
                found.append(p)
                if dest in DATASET_ARGS and p.is_file():
                    if p.suffix.lower() == ".json":
                        if p.parent not in folders:
                            folders.append(p.parent)
                    else:
                        from ..datasets.video import calibration_candidates

                        found += [c for c in calibration_candidates(p) if c.is_file()]
    return found + folders


#: argparse destinations of output folders, with their flags
OUTPUT_FOLDER_ARGS = (("out", "--out"), ("dump_dir", "--dump-dir"))


def check_output_files(args) -> None:
    """:func:`prepare_out_file` for each of :data:`OUTPUT_FILE_ARGS` the parsed ``args`` carry as a path
    (``passthrough info --json`` is a switch, not a file), against the command's inputs, and no output
    folder (:data:`OUTPUT_FOLDER_ARGS`) inside an input folder: the CLI entry points call it before
    running any command. (An output folder that *holds* the inputs is refused by
    :func:`prepare_out_folder`: it is not empty.)"""
    inputs = None
    folders = [(flag, Path(getattr(args, dest)).resolve()) for dest, flag in OUTPUT_FOLDER_ARGS
               if isinstance(getattr(args, dest, None), (str, os.PathLike)) and str(getattr(args, dest))]
    for dest, flag, kind in OUTPUT_FILE_ARGS:
        value = getattr(args, dest, None)
        if isinstance(value, (str, os.PathLike)) and str(value):
            target = Path(value).resolve()
            for folder_flag, folder in folders:
                if target == folder:  # the run would make that folder, then fail to write the file
                    raise InputError(Path(value), f"{flag} names the {folder_flag} folder; give a file to write")
                if folder_flag == "--out" and folder in target.parents:  # a later run would stop at a file it
                    # does not write there (a --dump-dir of frame dumps may hold the run's --json beside them)
                    raise InputError(Path(value), f"{flag} lies inside the {folder_flag} folder, which holds only "
                                                  "this command's own outputs: put it beside that folder")
            inputs = input_paths(args) if inputs is None else inputs
            prepare_out_file(value, flag, inputs, kind)
    for dest, flag in OUTPUT_FOLDER_ARGS:
        value = getattr(args, dest, None)
        if isinstance(value, (str, os.PathLike)) and str(value):
            inputs = input_paths(args) if inputs is None else inputs
            given = input_holding(value, [p for p in inputs if Path(p).is_dir()])
            if given is not None:
                raise InputError(Path(value), f"{flag} is inside the input folder {given}; results are "
                                              "never written into the data: choose a folder outside it")
