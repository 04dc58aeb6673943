"""The demo's embedded default data: real first-person OAK-D stereo from the ``stereodemo`` wheel.

``stereodemo==0.7`` on PyPI (MIT licence) ships 12 rectified 640x480 grayscale OAK-D pairs (including
``pov_hands`` and ``pov_controllers``) with their calibration under ``stereodemo/datasets/oak-d/``.
:func:`build` downloads the pinned wheel (``pip download --no-deps``), checks its sha256, and extracts
only those data files into ``<cache>/demo-data/oak-d``; the result is a stereo-pairs folder that
:func:`passthrough.datasets.open_source` reads.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import List

from .wheels import fetch_wheel

REQUIREMENT = "stereodemo==0.7"
WHEEL_SHA256 = "effd07da657295e834aa1b0c89cc962e953d66b506a75365ad32a1114f2389ec"
PREFIX = "stereodemo/datasets/oak-d/"


def demo_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / "demo-data" / "oak-d"


def build(cache_dir, download: bool = True) -> List[Path]:
    """Fetch and extract the OAK-D pairs into ``<cache_dir>/demo-data/oak-d``; returns ``[folder]``.
    ``download=False``: only from a wheel already in the cache (see :func:`passthrough.wheels.fetch_wheel`)."""
    out = demo_dir(cache_dir)
    if (out / "stereodemo_calibration.json").is_file() and (out / ".complete").is_file():
        return [out]
    wheel = fetch_wheel(REQUIREMENT, Path(cache_dir) / "wheels", WHEEL_SHA256, download=download)
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            if info.filename.startswith(PREFIX) and not info.is_dir():
                (out / Path(info.filename).name).write_bytes(zf.read(info))
    (out / ".complete").write_text(WHEEL_SHA256 + "\n")
    return [out]


def demo_source_path() -> Path:
    """The extracted demo folder in the model cache, extracting it from the cached wheel if needed (no
    download: a cache without the wheel is a one-line error saying to run ``passthrough build-models``)."""
    from .cache import model_dir

    return build(model_dir(), download=False)[0]
