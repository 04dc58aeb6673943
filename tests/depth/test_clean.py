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


def _wide_gap_rule_by_column_walk(disp, out):
    """The wide-gap rule written plainly (per gap pixel, walk up and down its column): the reference the
    sweeping kernel must match."""
    from passthrough.depth._kernels import VERTICAL_REACH, WIDE_GAP

    h, w = disp.shape
    out = out.copy()
    for y in range(h):
        x = 0
        while x < w:
            if disp[y, x] >= 0:
                x += 1
                continue
            x1 = x
            while x1 < w and disp[y, x1] < 0:
                x1 += 1
            if x > 0 and x1 < w and x1 - x > WIDE_GAP:
                for k in range(x, x1):
                    up = next((disp[y - dy, k] for dy in range(1, min(VERTICAL_REACH, y) + 1) if disp[y - dy, k] >= 0), -1)
                    down = next((disp[y + dy, k] for dy in range(1, min(VERTICAL_REACH, h - 1 - y) + 1)
                                 if disp[y + dy, k] >= 0), -1)
                    if up >= 0 and down >= 0 and max(up, down) < out[y, k]:
                        out[y, k] = max(up, down)
            x = x1
    return out


def test_a_row_gap_between_two_hands_takes_the_floor_above_and_below():
    from passthrough.depth.upsample import fill_holes

    d = np.full((9, 40), 10.0, np.float32)  # floor at disparity 10
    d[:, :8] = d[:, 30:] = 60.0  # two hands at 60
    d[4, 8:30] = -1  # one unmatched row between them: a 22 px gap bounded by the hands
    out = fill_holes(d)
    assert np.all(out[4, 8:30] == 10.0)  # the floor, not a bridge of hand disparity (60)
    d[:, 8:30] = -1  # the whole floor unmatched: nothing above or below, the row fill stands
    assert np.all(fill_holes(d)[4, 8:30] == 60.0)


def test_the_wide_gap_rule_matches_its_plain_definition():
    from passthrough.depth import _kernels as K

    rng = np.random.default_rng(3)
    for _ in range(30):
        h, w = int(rng.integers(1, 70)), int(rng.integers(1, 90))
        d = rng.uniform(0, 50, (h, w)).astype(np.float32)
        d[rng.random((h, w)) < rng.uniform(0, 0.9)] = -1
        for _ in range(int(rng.integers(0, 6))):  # long runs of holes
            y, x0 = int(rng.integers(0, h)), int(rng.integers(0, w))
            d[max(0, y - 30):y + 1, x0:x0 + int(rng.integers(5, 40))] = -1
        row_filled = d.copy()
        for y in range(h):  # the row fill the rule starts from (any dense map will do for the comparison)
            row_filled[y][row_filled[y] < 0] = 55.0
        got = row_filled.copy()
        K._fill_wide_gaps_from_above_and_below(d, got)
        np.testing.assert_array_equal(got, _wide_gap_rule_by_column_walk(d, row_filled))
