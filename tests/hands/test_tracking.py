"""Video mode: tracking from the previous landmarks, One Euro smoothing, pinch hysteresis, hand mask."""

import cv2
import numpy as np
import pytest

from hand_tracking.filters import OneEuroFilter
from hand_tracking.gestures import PinchDetector, pinch_distance
from hand_tracking.mask import hand_mask
from hand_tracking.tracker import HandTracker


@pytest.fixture(scope="module")
def pov_left(oakd):
    return cv2.imread(str(oakd / "pov_hands_left.png"), cv2.IMREAD_GRAYSCALE)


def test_second_frame_tracks_without_the_detector_and_follows_motion(hand_models, pov_left):
    tr = HandTracker(hand_models, max_hands=2)
    f0 = tr.process(pov_left, 0)
    assert f0.ran_detector and len(f0.hands) == 2
    f1 = tr.process(pov_left, 1)  # same image, now tracked from the previous landmarks
    assert not f1.ran_detector and len(f1.hands) == 2
    shifted = cv2.warpAffine(pov_left, np.float32([[1, 0, 12], [0, 1, -8]]), pov_left.shape[::-1],
                             borderMode=cv2.BORDER_REPLICATE)
    f2 = tr.process(shifted, 2)
    assert not f2.ran_detector and f2.t_capture_ns == 2
    assert len(f2.hands) == 2
    ids1 = {h.track_id: h for h in f1.hands}
    for h in f2.hands:
        assert not h.detected
        prev = ids1[h.track_id]
        motion = np.median(h.landmarks[:, :2] - prev.landmarks[:, :2], axis=0)
        np.testing.assert_allclose(motion, [12, -8], atol=3.0)
        assert h.handedness == prev.handedness


def test_tracker_reports_at_most_max_hands(hand_models, pov_left):
    frame = HandTracker(hand_models, max_hands=1).process(pov_left)
    assert len(frame.hands) == 1
    assert 0.5 <= frame.hands[0].score <= 1.0


@pytest.mark.parametrize("scene", ["corridor", "bedroom_chair", "desk", "kid_bedroom", "living_room", "stairs",
                                   "cycles", "donkey_toy", "toy"])
def test_no_hands_in_scenes_without_people(hand_models, oakd, scene):
    tracker = HandTracker(hand_models)
    for side in ("left", "right"):
        img = cv2.imread(str(oakd / f"{scene}_{side}.png"), cv2.IMREAD_GRAYSCALE)
        assert tracker.detect(img) == []
        assert tracker.process(img).hands == []


def test_one_euro_removes_jitter_at_rest_and_follows_fast_motion():
    rng = np.random.default_rng(0)
    t = np.arange(200) / 60.0
    noisy = 0.3 + rng.normal(0, 0.005, size=(200, 3))
    f = OneEuroFilter(min_cutoff=1.0, beta=5.0)
    out = np.array([f(x, ti) for x, ti in zip(noisy, t)])
    assert out[50:].std(axis=0).max() < 0.35 * noisy[50:].std(axis=0).min()
    # a fast ramp (1 m/s): adaptive cutoff lags much less than a plain low-pass (beta = 0)
    ramp = np.column_stack([t, t, t])
    lag = {}
    for beta in (0.0, 5.0):
        f = OneEuroFilter(min_cutoff=1.0, beta=beta)
        out = np.array([f(x, ti) for x, ti in zip(ramp, t)])
        lag[beta] = float(np.abs(out[-1] - ramp[-1]).max())
    assert lag[5.0] < 0.25 * lag[0.0]
    # constant input passes unchanged; repeated timestamps do not divide by zero
    f = OneEuroFilter()
    for ti in (0.0, 0.1, 0.1, 0.2):
        np.testing.assert_allclose(f(np.ones(3), ti), 1.0)


def test_pinch_has_hysteresis():
    p = PinchDetector(on_below=0.025, off_above=0.04)
    seq = [0.06, 0.03, 0.02, 0.03, 0.039, 0.045, 0.03, 0.024, None, 0.03]
    assert [p.update(d) for d in seq] == [False, False, True, True, True, False, False, True, False, False]
    with pytest.raises(ValueError):
        PinchDetector(0.05, 0.04)


def test_pinch_distance_of_a_real_open_hand_is_large(hand_models, pov_left):
    hand = HandTracker(hand_models).detect(pov_left)[0]
    assert pinch_distance(hand.landmarks[:, :2], normalize=True) > 0.45  # open hand: not pinching


def test_hand_mask_covers_the_hands_only(hand_models, pov_left):
    hands = HandTracker(hand_models).detect(pov_left)
    m = hand_mask(pov_left.shape, [h.landmarks for h in hands])
    assert m.shape == pov_left.shape and m.dtype == np.uint8
    for h in hands:
        for x, y in np.round(h.landmarks[:, :2]).astype(int):
            if 0 <= x < m.shape[1] and 0 <= y < m.shape[0]:
                assert m[y, x] == 255
    share = (m > 0).mean()
    assert 0.02 < share < 0.25
    assert m[20, 20] == 0 and m[240, 320] == 0  # background: top-left corner, the chair between the hands


def test_to_rgb_accepts_gray_bgr_16bit_and_float():
    from hand_tracking.tracker import is_gray, to_rgb

    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    assert to_rgb(gray).shape == (3, 4, 3) and is_gray(to_rgb(gray))
    bgr = np.zeros((2, 2, 3), np.uint8)
    bgr[..., 0] = 255  # blue
    assert to_rgb(bgr)[0, 0].tolist() == [0, 0, 255]
    np.testing.assert_array_equal(to_rgb(gray.astype(np.uint16) * 257), to_rgb(gray))
    np.testing.assert_array_equal(to_rgb(gray / 255.0), to_rgb(gray))
    with pytest.raises(ValueError):
        to_rgb(np.zeros((2, 2, 5), np.uint8))


class _CountingSession:
    """Wraps an onnxruntime session and counts its runs."""

    def __init__(self, sess):
        self.sess, self.runs = sess, 0

    def run(self, *a, **k):
        self.runs += 1
        return self.sess.run(*a, **k)

    def __getattr__(self, name):
        return getattr(self.sess, name)


def _counting(models):
    from hand_tracking.models import HandModels

    return HandModels(_CountingSession(models.palm), _CountingSession(models.landmark), models.variant)


@pytest.mark.parametrize("side", ["left", "right"])
def test_detection_frame_stops_once_both_hands_are_found(hand_models, oakd, side):
    img = cv2.imread(str(oakd / f"pov_hands_{side}.png"), cv2.IMREAD_GRAYSCALE)
    m = _counting(hand_models)
    f = HandTracker(m, max_hands=2).process(img)
    assert f.ran_detector and len(f.hands) == 2
    # plain view finds one hand, the tile away from it the other; the second tile and further views are skipped
    assert m.palm.runs == 2
    assert m.landmark.runs == 2 * (1 + 1)  # one landmark pass + one refine pass per hand


def test_redetection_skips_landmarks_on_the_tracked_hand(hand_models, pov_left):
    full = HandTracker(hand_models, max_hands=2).process(pov_left).hands
    m = _counting(hand_models)
    tr = HandTracker(m, max_hands=2, detect_every=1)
    tr._tracks = [full[0]]  # one hand tracked: the next frame tracks it and looks for the other
    f = tr.process(pov_left, 1)
    assert f.ran_detector and len(f.hands) == 2
    # 1 tracking pass + 2 for the new hand: the detector's palm of the tracked hand gets no landmark run
    assert m.landmark.runs == 1 + 2
    new = [h for h in f.hands if h.detected]
    assert len(new) == 1 and not np.allclose(new[0].bbox, f.hands[0].bbox)
