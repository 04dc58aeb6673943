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
