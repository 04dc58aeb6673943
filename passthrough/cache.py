"""Where built artefacts (ONNX models, downloaded registry wheels) are cached, and where the real datasets
beside the project are."""

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


def shared_data_dir() -> Path:
    """The read-only real datasets: ``$PASSTHROUGH_SHARED_DATA``, else ``../shared/data`` beside the
    project root (not created, not checked)."""
    env = os.environ.get("PASSTHROUGH_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"
