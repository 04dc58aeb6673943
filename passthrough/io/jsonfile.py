"""JSON files given by the user, read with one-line errors."""

from __future__ import annotations

import json
from pathlib import Path


def read_json(path, expect=None):
    """Parse the JSON file at ``path``. ``expect`` (``dict`` or ``list``) checks the top-level type.
    Raises :class:`~passthrough.errors.InputError` naming the file for a missing, unreadable or invalid file."""
    from ..errors import InputError

    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise InputError(path, f"invalid JSON ({exc})") from None
    if expect is not None and not isinstance(data, expect):
        raise InputError(path, f"expected a JSON {'object' if expect is dict else 'list'} at the top level")
    return data


def json_safe(value):
    """``value`` with every non-finite float (NaN, +-inf: a metric that could not be measured, e.g.
    tracking time when no hand was found) replaced by None, so the result is standard JSON (RFC 8259
    has no NaN or Infinity; many parsers reject them). Dicts, lists and tuples are copied, numpy scalars
    become Python numbers."""
    import math

    import numpy as np

    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path, data, indent: int = 2) -> Path:
    """Write ``data`` as standard JSON (non-finite numbers as null, see :func:`json_safe`) to ``path``,
    creating its folder. Returns the path; a write the system refuses is an
    :class:`~passthrough.errors.InputError` naming it."""
    from ..errors import InputError

    path = Path(path)
    text = json.dumps(json_safe(data), indent=indent, allow_nan=False) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError as exc:  # e.g. a full disk: the write fails only now
        raise InputError(path, f"cannot write this file ({exc.strerror})") from None
    return path
