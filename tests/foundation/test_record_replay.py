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


def test_a_recording_from_a_collection_keeps_its_first_data_sets_rate(shared_data, tmp_path):
    """EuRoC (20 Hz) first in a folder beside KITTI: its frames are recorded at 20 Hz, not as stills."""
    src = open_source(shared_data / "sequences")
    assert src.rate_hz is None and record(src, tmp_path / "rec", max_frames=3, progress=False) == 3
    assert open_source(tmp_path / "rec").rate_hz == 20.0


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


class _Source:
    """A frame source wrapper for the failure cases: ``frames`` replace the wrapped source's frames."""

    def __init__(self, src, frames):
        self.rig, self.rate_hz, self.path, self._frames = src.rig, src.rate_hz, src.path, frames

    def __len__(self):
        return len(self._frames)

    def __iter__(self):
        return iter(self._frames)


def test_a_source_failing_part_way_leaves_no_recording(shared_data, tmp_path):
    import dataclasses

    import pytest

    from passthrough.errors import InputError

    src = open_source(shared_data / "sequences/euroc-MH_01_easy-first5")
    frames = list(src)
    # the third frame repeats a timestamp: two frames were written when it fails
    bad = _Source(src, frames[:2] + [dataclasses.replace(frames[2], t_left_ns=frames[1].t_left_ns)])
    with pytest.raises(InputError, match="timestamps not increasing"):
        record(bad, tmp_path / "rec", progress=False)
    assert list(tmp_path.iterdir()) == []  # no half-written recording, no staging folder
    # an empty folder the user made stays, empty
    (tmp_path / "mine").mkdir()
    with pytest.raises(InputError):
        record(bad, tmp_path / "mine", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"] and not any((tmp_path / "mine").iterdir())
    # and the same folder takes a good recording
    assert record(_Source(src, frames[:2]), tmp_path / "mine", progress=False) == 2
    assert len(list(open_source(tmp_path / "mine"))) == 2


def test_frames_of_another_size_than_the_calibration_are_refused(shared_data, tmp_path):
    import dataclasses

    import pytest

    from passthrough.errors import InputError

    src = open_source(shared_data / "sequences/euroc-MH_01_easy-first5")
    frames = list(src)
    small = dataclasses.replace(frames[1], left=frames[1].left[::2, ::2].copy())
    w, h = src.rig.left.size
    with pytest.raises(InputError, match=f"frame 1: the cam0 image is {w // 2}x{h // 2}, the calibration is for {w}x{h}"):
        record(_Source(src, [frames[0], small]), tmp_path / "rec", progress=False)
    assert not (tmp_path / "rec").exists()


def test_ctrl_c_keeps_the_frames_recorded_so_far(shared_data, tmp_path):
    """Ending a live recording early with Ctrl-C leaves a complete, shorter recording."""
    import pytest

    src = open_source(shared_data / "sequences/euroc-MH_01_easy-first5")
    frames = list(src)

    def interrupted():
        yield from frames[:3]
        raise KeyboardInterrupt

    class _Interrupted(_Source):
        def __iter__(self):
            return interrupted()

    with pytest.raises(KeyboardInterrupt):
        record(_Interrupted(src, frames), tmp_path / "rec", progress=False)
    _same_frames(frames[:3], open_source(tmp_path / "rec"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec"]
