"""Temporal filtering: a static scene settles, a real change comes through at once."""

import numpy as np
import pytest

from passthrough.datasets import open_source
from passthrough.depth import DepthEstimator, TemporalFilter, frame_to_frame_change


def test_static_noisy_input_becomes_stable():
    rng = np.random.default_rng(0)
    truth = np.tile(np.linspace(10, 40, 64, dtype=np.float32), (48, 1))
    frames = [truth + rng.normal(0, 0.3, truth.shape).astype(np.float32) for _ in range(12)]
    f = TemporalFilter()
    out = [f.update(d, np.ones_like(d))[0] for d in frames]
    raw_change = frame_to_frame_change(frames)["mean_abs_px"]
    filt_change = frame_to_frame_change(out[4:])["mean_abs_px"]
    assert filt_change < 0.35 * raw_change
    # and it converges to the truth, not somewhere else
    assert np.abs(out[-1] - truth).mean() < 0.5 * np.abs(frames[-1] - truth).mean()


def test_step_change_passes_without_lag():
    f = TemporalFilter()
    a = np.full((20, 30), 10.0, np.float32)
    b = a.copy()
    b[:, 15:] = 25.0  # an object moves in front of the right half
    conf = np.ones_like(a)
    for _ in range(8):
        f.update(a, conf)
    out, c = f.update(b, conf)
    np.testing.assert_allclose(out, b)  # the very first frame after the step already shows it
    assert (c == 1).all()
    out2, _ = f.update(a, conf)  # and back
    np.testing.assert_allclose(out2, a)


def test_low_confidence_contradiction_is_held_one_frame_only():
    f = TemporalFilter(hold_frames=1)
    a = np.full((4, 4), 10.0, np.float32)
    b = np.full((4, 4), 20.0, np.float32)
    for _ in range(3):
        f.update(a, np.ones_like(a))
    low = np.full_like(a, 0.1)
    out, c = f.update(b, low)  # a filled (low-confidence) value contradicting a confident one
    np.testing.assert_allclose(out, a)
    assert (c < 1).all()
    out, _ = f.update(b, low)  # it persists: accepted on the next frame
    np.testing.assert_allclose(out, b)


def test_nan_measurements_keep_previous_estimate():
    f = TemporalFilter()
    a = np.full((3, 3), 5.0, np.float32)
    f.update(a)
    holes = a.copy()
    holes[1, 1] = np.nan
    out, c = f.update(holes)
    assert out[1, 1] == pytest.approx(5.0) and c[1, 1] < 1.0


@pytest.fixture(scope="module")
def euroc_frames(shared_data):
    src = open_source(shared_data / "sequences" / "euroc-MH_01_easy-first5")
    frames = list(src)
    assert len(frames) == 5
    return frames


def test_static_camera_on_real_images_is_stable(euroc_frames):
    """A static camera (the first EuRoC pair repeated with fresh sensor noise each frame): the filtered
    depth changes far less from frame to frame than the per-frame estimate."""
    rng = np.random.default_rng(3)
    left, right = euroc_frames[0].rectified()
    rig = euroc_frames[0].rig
    plain = DepthEstimator("sgm_half")
    filtered = DepthEstimator("sgm_half", temporal=True)
    raw, out = [], []
    for _ in range(6):
        nl = np.clip(left + rng.normal(0, 2.0, left.shape), 0, 255).astype(np.uint8)
        nr = np.clip(right + rng.normal(0, 2.0, right.shape), 0, 255).astype(np.uint8)
        raw.append(plain.compute(nl, nr, rig).disparity)
        out.append(filtered.compute(nl, nr, rig).disparity)
    c_raw = frame_to_frame_change(raw)
    c_out = frame_to_frame_change(out[1:])
    assert c_out["mean_abs_px"] < 0.6 * c_raw["mean_abs_px"], (c_raw, c_out)
    assert c_out["share_over_1px"] < 0.6 * c_raw["share_over_1px"], (c_raw, c_out)


def test_moving_camera_is_followed_without_lag(euroc_frames):
    """The EuRoC frames move (hand-held MAV): the filtered maps must track each new frame's
    estimate, not the old one. Compared before the final cleaning (``median=0``): a pixel without a match
    keeps its last value in the filter (by design) where the cleaning of a single frame fills it from its
    neighbours, which would count as lag here."""
    plain = DepthEstimator("sgm_half", median=0)
    filtered = DepthEstimator("sgm_half", temporal=True, median=0)
    raw = [plain.compute_frame(fr).disparity for fr in euroc_frames]
    out = [filtered.compute_frame(fr).disparity for fr in euroc_frames]
    assert raw[0].shape == (480, 752)
    for t in range(1, len(raw)):
        to_new = np.abs(out[t] - raw[t])
        to_old = np.abs(out[t] - raw[t - 1])
        changed = np.abs(raw[t] - raw[t - 1]) > 3.0  # where the scene really moved by > 3 px
        assert changed.mean() > 0.05
        assert np.median(to_new[changed]) < 0.25 * np.median(to_old[changed])
    filtered.reset()
    np.testing.assert_allclose(filtered.compute_frame(euroc_frames[0]).disparity, raw[0])
