"""Stereo hands on the first-person OAK-D pair pov_hands (rectified, grayscale 640x480)."""

import json

import cv2
import numpy as np
import pytest

from hand_tracking.stereo import RectifiedStereo, StereoHandTracker, bone_lengths, match_hands, triangulate
from passthrough.errors import InputError


@pytest.fixture(scope="module")
def pov(oakd, hand_models):
    cam = RectifiedStereo.from_stereodemo_json(oakd / "stereodemo_calibration.json")
    left = cv2.imread(str(oakd / "pov_hands_left.png"), cv2.IMREAD_GRAYSCALE)
    right = cv2.imread(str(oakd / "pov_hands_right.png"), cv2.IMREAD_GRAYSCALE)
    frame = StereoHandTracker(cam, hand_models, smooth=False).process(left, right, 123)
    return cam, left, right, frame


def test_both_hands_found_in_both_views(pov):
    _, _, _, frame = pov
    assert frame.t_capture_ns == 123
    assert len(frame.hands) == 2
    assert sorted(h.handedness for h in frame.hands) == ["left", "right"]
    for h in frame.hands:
        assert h.found_in == ["left", "right"]


def test_triangulated_hands_have_human_size_at_arm_length(pov):
    _, _, _, frame = pov
    for h in frame.hands:
        depth = float(np.median(h.joints_m[:, 2]))
        palm = bone_lengths(h.joints_m)["wrist-middle_mcp"]
        assert 0.2 <= depth <= 0.8
        assert 0.07 <= palm <= 0.11, palm


def test_left_hand_is_left_of_right_hand_in_first_person_view(pov):
    _, _, _, frame = pov
    x = {h.handedness: h.joints_m[0, 0] for h in frame.hands}
    assert x["left"] < x["right"]


def test_triangulate_recovers_a_synthetic_point():
    cam = RectifiedStereo(450.0, 450.0, 300.0, 310.0, 250.0, 0.075)
    P = np.array([[0.1, -0.05, 0.5], [-0.2, 0.1, 0.7]])
    xl = cam.fx * P[:, 0] / P[:, 2] + cam.cx0
    xr = cam.fx * (P[:, 0] - cam.baseline_m) / P[:, 2] + cam.cx1
    y = cam.fy * P[:, 1] / P[:, 2] + cam.cy
    got = triangulate(np.column_stack([xl, y]), np.column_stack([xr, y]), cam, outlier_ratio=10)
    np.testing.assert_allclose(got, P, atol=1e-9)


def test_matching_pairs_hands_by_row_and_positive_disparity(pov):
    cam, _, _, frame = pov
    lh = [h.left for h in frame.hands]
    rh = [h.right for h in frame.hands][::-1]
    pairs = match_hands(lh, rh, cam)
    assert sorted(pairs) == [(0, 1), (1, 0)]


def test_bad_calibration_file_is_a_one_line_input_error(tmp_path):
    bad = tmp_path / "calib.json"
    bad.write_text(json.dumps({"fx": 1.0}))
    with pytest.raises(InputError, match="calib.json"):
        RectifiedStereo.from_stereodemo_json(bad)
    with pytest.raises(InputError, match="not found"):
        RectifiedStereo.from_stereodemo_json(tmp_path / "missing.json")


def test_eval_hands_stereo_on_a_truncated_image_is_one_line(oakd, tmp_path, hand_model_files, cli):
    left = tmp_path / "left.png"
    data = (oakd / "pov_hands_left.png").read_bytes()
    left.write_bytes(data[: len(data) // 3])
    r = cli("eval", "hands", "--stereo", left, oakd / "pov_hands_right.png", "--calibration",
            oakd / "stereodemo_calibration.json", "--json", tmp_path / "out.json")
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.returncode == 2 and len(lines) == 1 and "left.png" in lines[0] and "truncated" in lines[0], r.stderr
    assert left.read_bytes() == data[: len(data) // 3]


def test_eval_hands_stereo_command_writes_json_and_overlay(oakd, tmp_path, hand_model_files):
    import argparse

    from hand_tracking import evaluate

    p = argparse.ArgumentParser()
    evaluate.add_arguments(p)
    out = tmp_path / "pov.json"
    args = p.parse_args(["--stereo", str(oakd / "pov_hands_left.png"), str(oakd / "pov_hands_right.png"),
                         "--calibration", str(oakd / "stereodemo_calibration.json"), "--json", str(out),
                         "--repeat", "1"])
    assert evaluate.main(args) == 0
    res = json.loads(out.read_text())
    assert isinstance(res["ms_median"], float)
    assert len(res["hands"]) == 2
    for h in res["hands"]:
        assert h["handedness"] in ("left", "right")
        assert np.asarray(h["joints_m"]).shape == (21, 3)
        assert h["found_in"] == ["left", "right"]
    overlay = cv2.imread(res["overlay"])
    assert overlay.shape == (480, 1280, 3)


def test_joints_in_the_head_frame_via_the_rig(oakd, hand_models):
    from passthrough.datasets import open_source

    src = open_source(oakd)
    rig = src.rig
    frame = next(f for f in src if f.name == "pov_hands")
    left, right = frame.rectified()
    cam = RectifiedStereo.from_rig(rig)
    assert cam.fx == pytest.approx(451.0344, abs=1e-3) and cam.baseline_m == pytest.approx(0.075)
    st = StereoHandTracker(cam, hand_models, smooth=False, T_head_from_left_rect=rig.T_head_from_left_rect)
    hands = st.process(left, right, 5).hands
    assert len(hands) == 2
    for h in hands:
        expect = (rig.T_head_from_left_rect[:3, :3] @ h.joints_m.T).T + rig.T_head_from_left_rect[:3, 3]
        np.testing.assert_allclose(h.joints_head_m, expect, atol=1e-9)


def test_one_euro_smoothing_reduces_frame_to_frame_jitter_of_3d_joints(oakd, hand_models):
    cam = RectifiedStereo.from_stereodemo_json(oakd / "stereodemo_calibration.json")
    left = cv2.imread(str(oakd / "pov_hands_left.png"), cv2.IMREAD_GRAYSCALE)
    right = cv2.imread(str(oakd / "pov_hands_right.png"), cv2.IMREAD_GRAYSCALE)
    rng = np.random.default_rng(3)

    def noisy(im):
        return np.clip(im + rng.normal(0, 6, im.shape), 0, 255).astype(np.uint8)

    frames = [(noisy(left), noisy(right)) for _ in range(6)]  # a static scene with camera noise, 30 Hz
    jitter = {}
    for smooth in (False, True):
        st = StereoHandTracker(cam, hand_models, smooth=smooth)
        joints = []
        for i, (l_img, r_img) in enumerate(frames):
            hands = {h.handedness: h for h in st.process(l_img, r_img, i * 33_333_333).hands}
            joints.append(hands["right"].joints_m)
        jitter[smooth] = float(np.abs(np.diff(np.array(joints), axis=0)).mean())
    assert jitter[True] < 0.6 * jitter[False]


def test_stills_forget_the_previous_capture(oakd, hand_models):
    """With ``stills`` every pair is a new scene: a pair seen again gives the same hands as the first
    time (no tracking from, no smoothing with the previous pair), and a pair without hands right after
    one with hands shows none."""
    cam = RectifiedStereo.from_stereodemo_json(oakd / "stereodemo_calibration.json")
    read = lambda n: [cv2.imread(str(oakd / f"{n}_{s}.png"), cv2.IMREAD_GRAYSCALE) for s in ("left", "right")]
    hands, desk = read("pov_hands"), read("desk")
    st = StereoHandTracker(cam, hand_models, stills=True)
    first = st.process(*hands, 0)
    assert len(first.hands) == 2
    assert st.process(*desk, 1).hands == []
    again = st.process(*hands, 2)
    for a, b in zip(sorted(first.hands, key=lambda h: h.handedness), sorted(again.hands, key=lambda h: h.handedness)):
        np.testing.assert_array_equal(a.joints_m, b.joints_m)


def test_of_two_hands_labelled_alike_the_less_sure_one_is_relabelled():
    """Hand A: its views say right 0.9 and left 0.51 (right with p = 0.695); hand B: right 0.6 and 0.6
    (p = 0.6). B is the less sure right hand and becomes the left one. (Taking the smaller view score,
    0.51 against 0.6, relabelled A.)"""
    from types import SimpleNamespace as View

    from hand_tracking.stereo import relabel_same_handed, right_probability

    a = View(handedness="right", left=View(handedness="right", handedness_score=0.9),
             right=View(handedness="left", handedness_score=0.51))
    b = View(handedness="right", left=View(handedness="right", handedness_score=0.6),
             right=View(handedness="right", handedness_score=0.6))
    assert right_probability(a.left, a.right) == pytest.approx(0.695)
    relabel_same_handed([a, b])
    assert (a.handedness, b.handedness) == ("right", "left")
