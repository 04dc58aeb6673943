"""Record any source as EuRoC ASL; replaying the recording gives the same frames bit for bit."""

import csv

import numpy as np

from passthrough.datasets import open_source
from passthrough.record import record
from passthrough.replay import replay


def _same_frames(a, b):
    fa, fb = list(a), list(b)
    assert len(fa) == len(fb) > 0
    for x, y in zip(fa, fb):
        assert x.t_left_ns == y.t_left_ns and x.t_right_ns == y.t_right_ns
        assert x.left.dtype == y.left.dtype and np.array_equal(x.left, y.left)
        assert np.array_equal(x.right, y.right)


def test_euroc_recording_replays_bit_for_bit(shared_data, tmp_path):
    src = open_source(shared_data / "sequences/euroc-MH_01_easy-first5")
    assert record(src, tmp_path / "rec", progress=False) == 5
    again = open_source(tmp_path / "rec")
    _same_frames(src, again)
    # the calibration survives: same distortion, extrinsics and rectification
    assert np.allclose(again.rig.K_rect, src.rig.K_rect) and np.isclose(again.rig.baseline_m, src.rig.baseline_m)
    a, b = next(iter(src)).rectified(), next(iter(again)).rectified()
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    # a recording of the recording is identical too
    record(again, tmp_path / "rec2", progress=False)
    _same_frames(again, open_source(tmp_path / "rec2"))


def test_rectified_colour_source_stays_rectified(shared_data, tmp_path):
    src = open_source(shared_data / "stereo/middlebury2014-Motorcycle-Q")
    record(src, tmp_path / "rec", progress=False)
    again = open_source(tmp_path / "rec")
    _same_frames(src, again)
    assert again.rig.is_prerectified and np.isclose(again.rig.doffs, src.rig.doffs)


def test_replay_writes_previews_video_and_csv(shared_data, tmp_path):
    src = open_source(shared_data / "sequences/kitti-odometry-excerpt-frames000-025")
    rows = replay(src, tmp_path, previews=3, progress=False)
    assert len(rows) == 26
    assert len(list(tmp_path.glob("preview_*.png"))) == 3 and (tmp_path / "preview.mp4").stat().st_size > 10_000
    with open(tmp_path / "frames.csv") as f:
        table = list(csv.DictReader(f))
    assert [int(r["t_left_ns"]) for r in table[:3]] == [0, 100_000_000, 200_000_000]
    assert all(float(r["rectify_ms"]) >= 0 for r in table)


def test_cli_replay_of_euroc(cli, shared_data, tmp_path):
    r = cli("replay", shared_data / "sequences/euroc-MH_01_easy-first5", "--out", tmp_path, "--no-progress",
            "--rectify-only")
    assert r.returncode == 0, r.stderr
    assert "replayed 5 frames" in r.stdout
    assert (tmp_path / "frames.csv").is_file() and len(list(tmp_path.glob("preview_*.png"))) == 5
