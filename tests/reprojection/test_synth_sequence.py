"""``passthrough synth --sequence``: a recorded-like stereo stream with a hand-sized plate moving in front of
a static rig (what the image-first mode's early frames cost is measured on it)."""

import json

import numpy as np
import pytest

from passthrough.datasets import open_source
from reprojection.synth import HAND_DEPTH, HAND_SIZE, HAND_SWEEP, SEQUENCE_MARKER, SWAY_PERIOD_S, hand_x, head_pose


def test_head_sways_sideways_and_turns_with_it():
    assert np.array_equal(head_pose(0.7, 0.0), np.eye(4)) and np.allclose(head_pose(0.0, 0.05), np.eye(4))
    quarter = head_pose(SWAY_PERIOD_S / 4, 0.05)  # the far end of the sway: 5 cm right, turned 5 deg
    assert np.isclose(quarter[0, 3], 0.05) and np.isclose(np.degrees(np.arctan2(quarter[0, 2], quarter[2, 2])), 5.0)
    assert np.allclose(head_pose(SWAY_PERIOD_S / 2, 0.05), np.eye(4), atol=1e-12)


def test_a_swaying_sequence_records_the_rig_poses(tmp_path, cli):
    out = tmp_path / "seq"
    r = cli("synth", "--sequence", "3", "--hand-speed", "0", "--head-sway", "0.05", "--out", out, "--width", "64",
            "--height", "48", "--supersample", "1")
    assert r.returncode == 0, r.stderr
    src = open_source(out)
    assert src.rate_hz == 30.0  # the rate its times.txt says (a KITTI layout was always read as 10 Hz)
    T_head_from_cam = np.eye(4)
    T_head_from_cam[0, 3] = -0.035
    for i, P in enumerate(src.poses):
        assert np.allclose(P, head_pose(i / 30, 0.05) @ T_head_from_cam)
    assert json.loads((out / SEQUENCE_MARKER).read_text())["head_sway_m"] == 0.05


def test_hand_sweeps_back_and_forth_at_constant_speed():
    ts = np.arange(0, 4 * HAND_SWEEP / 0.5, 1 / 300)
    xs = np.array([hand_x(t, 0.5) for t in ts])
    assert hand_x(0.0, 0.5) == 0.0 and hand_x(1.0, 0.0) == 0.0
    assert np.isclose(xs.max(), HAND_SWEEP, atol=2e-3) and np.isclose(xs.min(), -HAND_SWEEP, atol=2e-3)
    assert np.allclose(np.abs(np.diff(xs)), 0.5 / 300, atol=1e-9)  # the same speed everywhere, also at the turns


def test_sequence_is_a_kitti_odometry_stream_with_a_moving_hand(tmp_path, cli):
    out = tmp_path / "seq"
    r = cli("synth", "--sequence", "4", "--hand-speed", "0.6", "--out", out, "--width", "160", "--height", "120",
            "--supersample", "1")
    assert r.returncode == 0, r.stderr
    src = open_source(out)
    assert src.format == "kitti-odometry" and len(src) == 4 and not src.stills
    assert np.allclose(np.diff(src.timestamps), 1e9 / 30)
    assert np.isclose(src.rig.baseline_m, 0.07)
    cam_x = -0.035  # the left camera (the head of a KITTI stream) sits half the baseline left of the room's axis
    assert np.allclose(src.poses, np.array([[1, 0, 0, cam_x], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]))  # static
    marker = json.loads((out / SEQUENCE_MARKER).read_text())
    assert np.allclose(np.diff(marker["hand_x_m"]), 0.6 / 30)
    frames = list(src)
    assert frames[0].left.shape == (120, 160, 3)
    # the rig is static: only pixels the hand covers in one of two frames change between them
    K = src.rig.left.K
    changed = np.abs(frames[1].left.astype(int) - frames[0].left).max(axis=2) > 0
    cols = np.nonzero(changed.any(axis=0))[0]
    rows = np.nonzero(changed.any(axis=1))[0]
    u = lambda x: K[0, 0] * (x - cam_x) / HAND_DEPTH + K[0, 2]
    lo, hi = u(marker["hand_x_m"][0] - HAND_SIZE[0] / 2), u(marker["hand_x_m"][1] + HAND_SIZE[0] / 2)
    assert changed.any() and lo - 1.5 <= cols.min() and cols.max() <= hi + 1.5
    v = lambda y: K[1, 1] * y / HAND_DEPTH + K[1, 2]
    assert v(0.05 - HAND_SIZE[1] / 2) - 1.5 <= rows.min() and rows.max() <= v(0.05 + HAND_SIZE[1] / 2) + 1.5
    # a second run rewrites its own sequence (fewer frames: no stale frame left)
    r = cli("synth", "--sequence", "2", "--hand-speed", "0", "--out", out, "--width", "64", "--height", "48",
            "--supersample", "1")
    assert r.returncode == 0, r.stderr
    assert len(open_source(out)) == 2 and sorted(p.name for p in (out / "image_r").iterdir()) == ["000000.png", "000001.png"]


def test_sequence_never_writes_over_a_users_recording(tmp_path, cli):
    """A KITTI folder of the user's holds the very names a sequence writes: without the marker it is
    not this command's, and nothing in it is touched."""
    mine = tmp_path / "kitti"
    (mine / "image_l").mkdir(parents=True)
    (mine / "image_l" / "000000.png").write_bytes(b"user's frame")
    (mine / "poses.txt").write_text("keep\n")
    r = cli("synth", "--sequence", "2", "--out", mine, "--width", "32", "--height", "32", "--supersample", "1")
    assert r.returncode == 2 and SEQUENCE_MARKER in r.stderr and "Traceback" not in r.stderr
    assert (mine / "image_l" / "000000.png").read_bytes() == b"user's frame"
    assert (mine / "poses.txt").read_text() == "keep\n" and sorted(p.name for p in mine.iterdir()) == ["image_l", "poses.txt"]
    for bad in (["--sequence", "1"], ["--sequence", "3", "--hand-speed", "nan"], ["--sequence", "3", "--camera-yaw-deg", "2", "0"],
                ["--sequence", "3", "--head-sway", "0.5"], ["--head-sway", "0.05"], ["--sequence", "0"],
                ["--hand-speed", "1"]):  # 0 frames is no sequence either; a hand speed needs one
        r = cli("synth", *bad, "--out", tmp_path / "new", "--width", "32", "--height", "32")
        assert r.returncode == 2 and "error" in r.stderr and "Traceback" not in r.stderr, bad


@pytest.mark.parametrize("speed", [0.0, 1.0])
def test_early_frames_cost_only_where_the_hand_moves(tmp_path, cli, speed):
    """The image-first mode shows each camera frame first on the previous frame's depth: with a still
    scene that is the same picture; with a hand moving at 1 m/s its edges are visibly wrong."""
    seq = tmp_path / "seq"
    r = cli("synth", "--sequence", "14", "--hand-speed", str(speed), "--out", seq, "--width", "160", "--height",
            "120", "--supersample", "1")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "bench.json"
    r = cli("bench", "pipeline", "--dataset", seq, "--early-image", "--no-hands", "--frames", "10", "--warmup", "2",
            "--baseline-frames", "1", "--json", out, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    cost = json.loads(out.read_text())["quality"]["early_image"]
    assert cost["measured"] and cost["rig_poses"] == "ground truth" and cost["rig_motion_m"]["max"] == 0.0
    changed, p = cost["changed_share"], cost["psnr_early_vs_own_depth_db"]
    if speed == 0:
        assert p["identical"] == cost["eyes"] and changed["max"] == 0.0
    else:
        assert p["identical"] == 0 and 10 < p["min"] <= p["p50"] < 45
        assert 0.002 < changed["p50"] <= changed["max"] < 0.2  # the hand's edges, not the room
