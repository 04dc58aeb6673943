"""Fixtures for the hand tests: the ONNX hand models, built once per session into the model cache
(``passthrough.cache.model_dir()``; the first build downloads the pinned mediapipe wheel from PyPI)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def hand_model_files():
    from hand_tracking.models import build
    from passthrough.cache import model_dir

    return build(model_dir())


@pytest.fixture(scope="session")
def hand_models(hand_model_files):
    from hand_tracking.models import load_sessions

    return load_sessions(variant="full", threads=1)


@pytest.fixture(scope="session")
def oakd(shared_data):
    return shared_data / "stereo" / "oakd-pairs"
