"""Where built artefacts (ONNX models, downloaded registry wheels) are cached."""

from __future__ import annotations

import os
from pathlib import Path


def model_dir() -> Path:
    """Directory for built models: ``$PASSTHROUGH_CACHE`` or ``$XDG_CACHE_HOME/passthrough/models``
    (default ``~/.cache/passthrough/models``). Created if missing."""
    env = os.environ.get("PASSTHROUGH_CACHE")
    if env:
        path = Path(env)
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        path = base / "passthrough" / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path
