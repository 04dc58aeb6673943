"""``passthrough.depth.refresh``: an earlier frame's disparity re-chosen where a new pair contradicts it (the
image-first mode's early frames, with a hand-sized plate moving in front of a static rig)."""

import cv2
import numpy as np
import pytest

from passthrough.depth.refresh import STEP, refresh_disparity
from reprojection.synth import load_textures, make_views, raycast, sequence_room

W, H, BASELINE = 320, 240, 0.07


@pytest.fixture(scope="module")
def plate_frames(shared_data):
    """Two frames of the synthetic room, the plate 5 cm (20 px) further right in the second: (left gray,
    right gray, true left disparity) each."""
    K, T = make_views(W, H, baseline=BASELINE)
    textures = load_textures(shared_data)

    def frame(x):
        room = sequence_room(x)
        (left, z), (right, _) = (raycast(K, T[n], W, H, textures, room) for n in ("cam_left", "cam_right"))
        gray = lambda img: cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)  # noqa: E731
        return gray(left), gray(right), (K[0, 0] * BASELINE / z).astype(np.float32)

    return frame(0.0), frame(0.05)


def test_moved_plate_gets_its_new_disparity(plate_frames):
    (l0, r0, d0), (l1, r1, d1) = plate_frames
    out, changed = refresh_disparity(l1, r1, d0, matched_on=(l0, r0, d0))
    wrong_before = np.abs(d0 - d1) > 1  # the plate's old and new places
    wrong_after = np.abs(out - d1) > 1
    assert wrong_before.sum() > 1000
    assert wrong_after.sum() < 0.6 * wrong_before.sum()
    # only what moved is touched: every change lies on the plate's old or new place (or its edge)
    near = d0 > 20  # the plate is 0.4 m away (28 px), the room beyond 1.5 m (< 8 px)
    plate = cv2.dilate((near | (d1 > 20)).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert changed.any() and not (changed & ~plate).any()
    assert np.array_equal(out[~changed], d0[~changed])
    assert (changed & ~wrong_before).sum() < 0.1 * changed.sum()  # it rarely breaks what was right


def test_the_pair_the_map_was_matched_on_changes_nothing(plate_frames):
    (l0, r0, d0), _ = plate_frames
    out, changed = refresh_disparity(l0, r0, d0, matched_on=(l0, r0, d0))
    assert not changed.any() and np.array_equal(out, d0) and out is not d0


def test_inputs_are_left_as_they_were(plate_frames):
    (l0, r0, d0), (l1, r1, _) = plate_frames
    d = d0.copy()
    d[:10, :10] = np.nan  # unknown stays unknown
    before = [a.copy() for a in (l0, r0, l1, r1, d)]
    out, changed = refresh_disparity(l1, r1, d, matched_on=(l0, r0, d))
    for a, b in zip((l0, r0, l1, r1, d), before):
        assert np.array_equal(a, b, equal_nan=True)
    assert np.isnan(out[:10, :10]).all() and not changed[:10, :10].any()


def test_at_most_max_share_of_the_pixels_is_re_chosen(plate_frames):
    (l0, r0, d0), (l1, r1, _) = plate_frames
    _, changed = refresh_disparity(l1, r1, d0, matched_on=(l0, r0, d0), max_share=0.002)
    blocks = (H // STEP) * (W // STEP)
    assert 0 < changed.sum() <= int(0.002 * blocks) * STEP * STEP


def test_bad_inputs_are_refused_with_the_problem():
    img = np.zeros((8, 8), np.uint8)
    with pytest.raises(ValueError, match="differ in size"):
        refresh_disparity(img, img, np.zeros((8, 9), np.float32))
    with pytest.raises(ValueError, match="left image: expected a uint8"):
        refresh_disparity(img.astype(np.float32), img, np.zeros((8, 8), np.float32))
