"""The depth stage's final cleaning: no zero-disparity band, a median, and the same cleaning for the eval."""

import cv2
import numpy as np
import pytest

from passthrough.datasets import open_source
from passthrough.depth import DepthEstimator
from passthrough.depth.upsample import clean_disparity, median_disparity


def test_fixed_point_median_matches_the_float_median():
    d = (np.random.default_rng(0).random((48, 64)) * 90).astype(np.float32)
    np.testing.assert_allclose(median_disparity(d), cv2.medianBlur(d, 5), atol=1 / 64 + 1e-6)
    np.testing.assert_allclose(median_disparity(d, 3), cv2.medianBlur(d, 3), atol=1 / 64 + 1e-6)


def test_clean_fills_no_match_values_from_the_background_side():
    d = np.full((20, 40), 30.0, np.float32)
    d[:, 20:] = 10.0  # a near surface left, the background right
    d[5, 18:23] = np.nan  # a gap across the edge: the background (10) fills it
    d[:, :3] = 0.0  # the left border band without a match
    out = clean_disparity(d, median=0)
    assert np.isfinite(out).all() and (out > 0).all()
    assert np.all(out[5, 18:23] == 10.0) and np.all(out[:, :3] == 30.0)


def test_stage_output_has_no_zero_disparity_band(shared_data):
    """The first-person OAK-D pair: the search cannot cover the left border band, whose matches were 0."""
    frame = next(iter(open_source(shared_data / "stereo" / "oakd-pairs")))
    cleaned = DepthEstimator("sgm_aniso", num_disparities=96).compute_frame(frame)
    raw = DepthEstimator("sgm_aniso", num_disparities=96, median=0).compute_frame(frame)
    assert (raw.disparity <= 0).mean() > 0.001  # the uncleaned map has a band of zeros
    assert (cleaned.disparity > 0).all() and "median_ms" in cleaned.timings
    with pytest.raises(ValueError, match="median window"):
        DepthEstimator("sgm_aniso", median=4)
