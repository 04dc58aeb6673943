"""CSV files the commands write (``frames.csv``, ``camera_frames.csv``, ``--frame-log``), with one-line errors."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable, List, Mapping, Optional, Sequence


def write_csv(path, rows: Iterable[Mapping], float_digits: Optional[int] = None,
              columns: Optional[Sequence[str]] = None) -> Path:
    """Write ``rows`` (dicts, one per CSV row) to ``path`` with a header row, creating its folder.

    Columns are ``columns`` if given, else every key in the order first seen over the rows (a row without
    a key gets an empty cell); no rows and no ``columns`` give an empty file. Floats are written with
    ``float_digits`` decimals when given (else as Python prints them). Returns the path; a write the system
    refuses (a full disk, a read-only folder) is an :class:`~passthrough.errors.InputError` naming the file.
    """
    from ..errors import InputError

    path = Path(path)
    rows = list(rows)
    cols: List[str] = list(columns) if columns is not None else []
    if columns is None:
        for r in rows:
            cols += [k for k in r if k not in cols]

    def cell(v):
        return f"{v:.{float_digits}f}" if float_digits is not None and isinstance(v, float) else v

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as f:
            if cols:
                w = csv.DictWriter(f, fieldnames=cols, restval="")
                w.writeheader()
                for r in rows:
                    w.writerow({k: cell(v) for k, v in r.items()})
    except OSError as exc:  # e.g. a full disk: often only when the file is flushed and closed
        raise InputError(path, f"cannot write this file ({exc.strerror})") from None
    return path
