"""Shared fixtures: the real data beside the project (``../shared/data``) and a scratch copy helper."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from passthrough.cache import shared_data_dir

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = shared_data_dir().resolve()  # $PASSTHROUGH_SHARED_DATA or ../shared/data


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the read-only real datasets. Tests fail loudly (not skip) when it is missing."""
    assert SHARED_DATA.is_dir(), f"real data not found at {SHARED_DATA} (set PASSTHROUGH_SHARED_DATA)"
    return SHARED_DATA


@pytest.fixture
def copy_of(shared_data, tmp_path):
    """``copy_of("stereo/middlebury2014-Motorcycle-Q")`` -> a writable copy in tmp_path."""

    def _copy(rel: str) -> Path:
        dst = tmp_path / Path(rel).name
        shutil.copytree(shared_data / rel, dst)
        return dst

    return _copy


def run_cli(*args, cwd=None, timeout=600):
    """Run ``python -m passthrough ARGS``; returns the CompletedProcess (text mode)."""
    return subprocess.run([sys.executable, "-m", "passthrough", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli
