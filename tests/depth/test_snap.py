"""``passthrough.depth.snap``: depth edges snapped to where the stereo pair puts them (a matcher's edge
fattening undone), on an exactly rendered pair: a textured near square (30 px) on a far wall (10 px)."""

import cv2
import numpy as np
import pytest

from passthrough.depth import DEFAULT_METHOD, DepthEstimator
from passthrough.depth.snap import snap_edges

H, W = 96, 160
ROWS, COLS = slice(30, 70), (70, 110)  # the square, in the left image
NEAR, FAR = 30.0, 10.0


@pytest.fixture(scope="module")
def pair():
    """(left gray, right gray, true left disparity) of the scene, rendered exactly (integer disparities)."""
    rng = np.random.default_rng(7)
    tex = lambda: cv2.GaussianBlur(rng.uniform(0, 255, (H, W + 64)).astype(np.float32), (0, 0), 1.0)  # noqa: E731
    wall, square = tex(), tex()
    x = np.arange(W)
    in_square = np.zeros((H, W), bool)
    in_square[ROWS, COLS[0]:COLS[1]] = True
    left = np.where(in_square, square[:, :W], wall[:, :W])
    seen_near = np.zeros((H, W), bool)  # right pixels that see the square: x + 30 inside it
    seen_near[ROWS] = (x + NEAR >= COLS[0]) & (x + NEAR < COLS[1])
    right = np.where(seen_near, square[:, x + int(NEAR)], wall[:, x + int(FAR)])
    truth = np.where(in_square, NEAR, FAR).astype(np.float32)
    return left.clip(0, 255).astype(np.uint8), right.clip(0, 255).astype(np.uint8), truth


def fattened(truth, px=3):
    """The square's disparity drawn ``px`` pixels into the wall around it (what a coarse matcher does)."""
    near = cv2.dilate((truth == NEAR).astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)).astype(bool)
    return np.where(near, NEAR, FAR).astype(np.float32)


def test_a_fattened_edge_goes_back_to_the_wall(pair):
    left, right, truth = pair
    fat = fattened(truth)
    out, changed = snap_edges(left, right, fat)
    # left of the square is wall only the left camera sees (20 px: no disparity explains it), so the rim
    # can be told from the wall above, below and right of the square
    seen = np.ones(truth.shape, bool)
    seen[:, COLS[0] - int(NEAR - FAR):COLS[0]] = False
    wrong_before, wrong_after = (fat != truth) & seen, (out != truth) & seen
    assert wrong_before.sum() > 300
    assert wrong_after.sum() < 0.6 * wrong_before.sum()
    # the rim moved to the wall's disparity; what was right stays right, but for a few pixels at its
    # corners (a block of 2x2 pixels takes one disparity)
    assert changed.any() and (out[changed] == FAR).mean() > 0.95
    assert (changed & (fat == truth)).sum() <= 0.05 * changed.sum()


def test_a_right_map_is_left_as_it_is(pair):
    left, right, truth = pair
    out, changed = snap_edges(left, right, truth)
    # the pixels beside the square that only the left camera sees are contradicted by any disparity;
    # neither candidate halves their error
    assert changed.mean() < 0.005 and np.array_equal(out[~changed], truth[~changed])


def test_inputs_are_left_as_they_were_and_unknown_stays_unknown(pair):
    left, right, truth = pair
    fat = fattened(truth)
    fat[:8, :8] = np.nan
    before = [a.copy() for a in (left, right, fat)]
    out, changed = snap_edges(left, right, fat)
    for a, b in zip((left, right, fat), before):
        assert np.array_equal(a, b, equal_nan=True)
    assert np.isnan(out[:8, :8]).all() and not changed[:8, :8].any()


def test_the_default_depth_method_snaps_its_edges(pair):
    left, right, _ = pair
    assert DepthEstimator().spec.snap and DEFAULT_METHOD == "sgm_aniso_snap"
    res = DepthEstimator(num_disparities=48).compute(left, right)
    assert "snap_ms" in res.timings
    assert "snap_ms" not in DepthEstimator(num_disparities=48, snap=False).compute(left, right).timings


def test_bad_inputs_are_refused_with_the_problem():
    img = np.zeros((8, 8), np.uint8)
    with pytest.raises(ValueError, match="differ in size"):
        snap_edges(img, img, np.zeros((8, 9), np.float32))
    with pytest.raises(ValueError, match="right image: expected a uint8"):
        snap_edges(img, np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.float32))
