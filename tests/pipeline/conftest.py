"""Fixtures for pipeline tests: real OAK-D first-person pairs, built models, a pipeline factory."""

import argparse

import pytest

from passthrough.datasets.pairs import PairsFolderSource
from passthrough.pipeline.factory import add_pipeline_arguments, build_pipeline


@pytest.fixture(scope="session")
def oakd(shared_data):
    return shared_data / "stereo/oakd-pairs"


def pipeline_args(**overrides):
    p = argparse.ArgumentParser()
    add_pipeline_arguments(p)
    args = p.parse_args([])
    for k, v in overrides.items():
        setattr(args, k.replace("-", "_"), v)
    return args


@pytest.fixture(scope="session")
def reprojector():
    from reprojection.runtime import Reprojector

    return Reprojector(stride=4, provider="cpu")


@pytest.fixture
def make_pipeline(oakd, reprojector):
    def _make(pairs=("desk",), source=None, **overrides):
        src = PairsFolderSource(oakd, only=pairs) if source is None else source
        args = pipeline_args(**{"no_hands": True, "head_path": "static", **overrides})
        return build_pipeline(src, args, reprojector=reprojector)

    return _make
