"""Fixtures for the reprojection tests: a model cache in tmp, Tsukuba, a small synthetic headset rig."""

from __future__ import annotations

from pathlib import Path

import pytest

from passthrough.datasets.rigv1 import RigV1Source
from reprojection.evaluate import estimate_depths
from reprojection.synth import render_set


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    from reprojection.build import build

    d = tmp_path_factory.mktemp("models")
    build(d)
    return d


@pytest.fixture(scope="session")
def tsukuba(shared_data) -> RigV1Source:
    return RigV1Source(shared_data / "views" / "middlebury2001-tsukuba")


@pytest.fixture(scope="session")
def tsukuba_depth(tsukuba):
    """SGBM depth of Tsukuba's two inputs (views 1 and 5): ``(left_img, right_img, z_left, z_right)``."""
    ln, rn = tsukuba.inputs
    left, right = tsukuba.read(ln), tsukuba.read(rn)
    zl, zr, _ = estimate_depths(left, right, tsukuba.cameras[ln].K[0, 0], tsukuba.T_a_from_b(ln, rn)[0, 3], 96)
    return left, right, zl, zr


@pytest.fixture(scope="session")
def synth_rig(shared_data, tmp_path_factory) -> Path:
    """A 320x256 headset-like rig-v1 set rendered with real-photo textures."""
    return render_set(tmp_path_factory.mktemp("synth") / "synth-rig", 320, 256, 2, shared_data)
