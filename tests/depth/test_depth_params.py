"""Invalid parameters and inputs give clear errors (ValueError from the API, exit 2 from the CLI)."""

import numpy as np
import pytest

from passthrough.depth import METHODS, DepthEstimator, SGMParams, census_sgm

RNG = np.random.default_rng(1)
LEFT = RNG.integers(0, 255, (40, 64), dtype=np.uint8)
RIGHT = np.roll(LEFT, -3, axis=1)


@pytest.mark.parametrize("n", [-16, 0, 2.5])
def test_non_positive_disparity_range_raises(n):
    with pytest.raises(ValueError, match="disparity range"):
        DepthEstimator("sgm_half", num_disparities=n)


@pytest.mark.parametrize("method", ["opencv_sgbm", "opencv_bm", "sgm_half"])
def test_even_block_size_raises(method):
    with pytest.raises(ValueError, match="odd"):
        DepthEstimator(method, block_size=6)


def test_unequal_image_sizes_raise():
    with pytest.raises(ValueError, match="differ in size"):
        DepthEstimator("sgm_half").compute(LEFT, RIGHT[:, :60])
    with pytest.raises(ValueError, match="equal size"):
        census_sgm(LEFT, RIGHT[:39], 8)


def test_bad_sgm_params_and_method_names_raise():
    with pytest.raises(ValueError, match="unknown depth method"):
        DepthEstimator("nope")
    with pytest.raises(ValueError, match="p1"):
        census_sgm(LEFT, RIGHT, 8, SGMParams(p1=10, p2=5))
    with pytest.raises(ValueError, match="paths"):
        census_sgm(LEFT, RIGHT, 8, SGMParams(paths=5))
    with pytest.raises(ValueError, match="scale"):
        DepthEstimator("sgm_half", scale=1.5)
    with pytest.raises(ValueError, match="uint8"):
        DepthEstimator("sgm_half").compute(LEFT.astype(np.float32), RIGHT.astype(np.float32))


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_runs_on_a_small_pair(name):
    res = DepthEstimator(name, num_disparities=16).compute(LEFT, RIGHT)
    assert res.disparity.shape == LEFT.shape and res.method == name
    assert res.depth_m is None  # no rig given
    assert res.timings["total_ms"] > 0


def test_cli_rejects_bad_parameters(cli, shared_data, tmp_path):
    scene = shared_data / "stereo" / "middlebury2014-Motorcycle-Q"
    r = cli("eval", "depth", "--dataset", scene, "--num-disparities", "-5", "--out", tmp_path)
    assert r.returncode == 2 and "error:" in r.stderr and "Traceback" not in r.stderr
    r = cli("eval", "depth", "--dataset", scene, "--method", "nope", "--out", tmp_path)
    assert r.returncode == 2 and "unknown depth method" in r.stderr
    r = cli("eval", "depth", "--dataset", shared_data / "hands", "--out", tmp_path)
    assert r.returncode == 2 and "error:" in r.stderr
