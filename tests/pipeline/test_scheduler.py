"""The display stage keeps its rate whatever the camera and depth stages do (real-time scheduler)."""

import time
import types

import numpy as np

DISPLAY_HZ = 10.0
PERIOD_NS = int(round(1e9 / DISPLAY_HZ))


def _assert_paced_by_own_work_only(recs, slow_ms):
    """Display slots lie on the vsync grid; a slot is skipped only after a frame whose *own* work overran
    (a deadline miss), and no frame's work contains the slow stage's time."""
    for a, b in zip(recs, recs[1:]):
        gap = b.t_frame_start_ns - a.t_frame_start_ns
        assert gap % PERIOD_NS == 0 and gap > 0
        if gap > PERIOD_NS:
            assert a.deadline_missed, (a.display_index, gap)
    assert max(r.display_ms for r in recs) < slow_ms


def _slowed(depth_fn, seconds):
    def fn(l, r, f):
        time.sleep(seconds)
        return depth_fn(l, r, f)
    return fn


def _run(pipe, frames):
    t0 = time.monotonic()
    recs = pipe.run_realtime(frames)
    return recs, time.monotonic() - t0


def test_slow_depth_does_not_slow_the_display(make_pipeline):
    pipe = make_pipeline(("desk", "living_room"), display_hz=DISPLAY_HZ)
    pipe.camera_stage.depth_fn = _slowed(pipe.camera_stage.depth_fn, 1.0)  # 1 s per depth frame
    recs, wall = _run(pipe, 20)
    assert len(recs) == 20
    # no display frame waited for the 1 s depth stage: misses (if this machine is busy) are its own
    _assert_paced_by_own_work_only(recs, 1000)
    # the view was redrawn on time from older camera frames while depth was busy
    assert len({r.camera_index for r in recs}) <= 4
    assert max(r.camera_age_ms for r in recs) > 900


class _StallingSource:
    """Wraps a source: after ``after`` frames, the camera stops delivering for ``stall_s`` seconds."""

    def __init__(self, src, after, stall_s):
        self.src, self.after, self.stall_s = src, after, stall_s
        self.rig, self.rate_hz, self.path, self.format = src.rig, 5.0, src.path, src.format

    def __len__(self):
        return len(self.src)

    def __iter__(self):
        for i, f in enumerate(self.src):
            if i == self.after:
                time.sleep(self.stall_s)
            yield f


def test_camera_stall_keeps_frames_flowing_with_the_last_depth(make_pipeline):
    pipe = make_pipeline(("desk", "living_room", "corridor"), display_hz=DISPLAY_HZ)
    pipe.source = _StallingSource(pipe.source, after=1, stall_s=2.5)
    recs = pipe.run_realtime(30, camera_hz=5.0, loop_source=False)
    assert len(recs) == 30
    idx = [r.camera_index for r in recs]
    ages = np.array([r.camera_age_ms for r in recs])
    # during the stall the same camera frame is shown again and again, getting older, frames keep coming
    longest_run = max(sum(1 for _ in g) for _, g in __import__("itertools").groupby(idx))
    assert longest_run >= 12
    assert ages.max() > 1500
    _assert_paced_by_own_work_only(recs, 2500)


def _first_use_latency_ms(recs):
    """Per camera frame: the display frame that first shows its image, frame start - capture (ms)."""
    first = {}
    for r in recs:
        first.setdefault(r.camera_index, (r.t_frame_start_ns - r.t_capture_ns) / 1e6)
    return first


def test_image_first_mode_shows_a_new_image_before_its_depth_is_done(make_pipeline):
    normal = make_pipeline(("desk", "living_room", "corridor"), display_hz=DISPLAY_HZ)
    early = make_pipeline(("desk", "living_room", "corridor"), display_hz=DISPLAY_HZ)
    early.early_image = True  # build_pipeline leaves it off for stills; the mechanics are the same
    # stills pair unrelated scenes: the depth refresh would re-choose much of the previous frame's map
    # (tests/depth/test_refresh.py); without it the early output carries that map as it is
    early.camera_stage.refresh = False
    shown = []
    for pipe in (normal, early):
        pipe.camera_stage.depth_fn = _slowed(pipe.camera_stage.depth_fn, 0.3)  # depth takes > 0.3 s
    recs_n = normal.run_virtual()
    recs_e = early.run_virtual(on_frame=lambda rec, out, cam, hands, views: shown.append(cam))
    # normal: a frame's image appears only with its own depth, > 0.3 s after capture
    assert all(r.depth_camera_index == r.camera_index for r in recs_n)
    lat_n, lat_e = _first_use_latency_ms(recs_n), _first_use_latency_ms(recs_e)
    assert all(v > 300 for k, v in lat_n.items() if k > 0)
    # image-first: frames 1 and 2 appear at the first display slot after rectification, with the previous
    # frame's depth, then with their own
    for k in (1, 2):
        assert lat_e[k] < 300 - 1000 / DISPLAY_HZ, lat_e
        depths = [r.depth_camera_index for r in recs_e if r.camera_index == k]
        assert depths[0] == k - 1 and depths[-1] == k
    # the very first frame has no earlier depth: shown only with its own
    assert all(r.depth_camera_index == 0 for r in recs_e if r.camera_index == 0)
    # a static rig: the early output carries the previous frame's depth maps and model inputs as they are
    first_early = next(c for c in shown if c.early)
    prev = next(c for c in shown if c.index == first_early.depth_index and not c.early)
    assert first_early.depth_left is prev.depth_left and first_early.depth_right is prev.depth_right
    assert first_early.display_feeds["left_depth"] is prev.display_feeds["left_depth"]
    # and its full output shares its images' inputs
    full = next(c for c in shown if c.index == first_early.index and not c.early)
    assert full.display_feeds["left_pixels"] is first_early.display_feeds["left_pixels"]
    assert full.early_ms > 0


def test_image_first_mode_is_never_on_for_stills(oakd, reprojector):
    import argparse

    from passthrough.datasets.pairs import PairsFolderSource
    from passthrough.pipeline.factory import add_pipeline_arguments, build_pipeline

    parser = argparse.ArgumentParser()
    add_pipeline_arguments(parser)
    args = parser.parse_args(["--early-image", "--no-hands", "--head-path", "static"])
    src = PairsFolderSource(oakd, only=("desk", "living_room"))
    assert not build_pipeline(src, args, reprojector=reprojector).early_image  # unrelated scenes
    assert build_pipeline(src, args, reprojector=reprojector, stills=False).early_image


class _RecordingHandTracker:
    """A stand-in stereo hand tracker: records when each pair arrived (no hands found)."""

    arrivals: list = []

    def process(self, left, right, t_capture_ns=None):
        self.arrivals.append((t_capture_ns, time.monotonic_ns()))
        return types.SimpleNamespace(hands=[], t_capture_ns=t_capture_ns, ms=0.0)


def test_hand_worker_gets_each_pair_before_its_depth_is_done(make_pipeline):
    pipe = make_pipeline(("desk", "living_room"), display_hz=DISPLAY_HZ)
    depth_done = {}
    slow = _slowed(pipe.camera_stage.depth_fn, 0.5)

    def depth_fn(l, r, f):
        out = slow(l, r, f)
        depth_done[f.t_left_ns] = time.monotonic_ns()
        return out

    pipe.camera_stage.depth_fn = depth_fn
    _RecordingHandTracker.arrivals = []
    pipe.hand_tracker_factory = _RecordingHandTracker
    t_run = time.monotonic_ns()  # the camera loop stamps captures on this clock (the warm-up frame is not)
    recs = pipe.run_realtime(25)
    assert len(recs) == 25
    arrivals = [(t, t_arr) for t, t_arr in _RecordingHandTracker.arrivals if t is not None and t > t_run]
    assert arrivals and all(t in depth_done for t, _ in arrivals)
    # each pair reached the hand tracker while its 0.5 s depth was still running
    assert all(t_arr < depth_done[t] - 0.3e9 for t, t_arr in arrivals)
    # and the display frames carry the hand results' capture times
    assert any(r.hands_t_capture_ns in depth_done for r in recs)


def test_a_real_time_run_follows_the_sequences_ground_truth_on_its_own_clock(shared_data, make_pipeline):
    """Real time stamps frames with the wall clock, but the head path (KITTI's ground-truth poses) runs on the
    source's clock: each camera frame gets the pose of its own capture, and the eyes move with the car."""
    from passthrough.datasets import open_source

    src = open_source(shared_data / "sequences/kitti-odometry-excerpt-frames000-025")
    gt = src.frame_poses()  # (t_ns, T_world_from_head): the source's own stamps
    pipe = make_pipeline(source=src, head_path="ground-truth", display_hz=30.0)
    assert pipe.head_path.name == "ground-truth"
    cams, eyes = {}, []
    pipe.run_realtime(24, camera_hz=20.0, loop_source=False,
                      on_camera=lambda c: cams.setdefault(c.index, c.T_world_from_left),
                      on_frame=lambda rec, disp, cam, hands, views: eyes.append(views[0].T_world_from_eye[:3, 3]))
    assert len(cams) >= 3
    T0_inv = np.linalg.inv(gt[1][0])
    for i, T in cams.items():  # the pose at the frame's own capture (re-anchored to the first frame)
        np.testing.assert_allclose(T, T0_inv @ gt[1][i] @ src.rig.T_head_from_left_rect, atol=1e-5)
    travelled = np.linalg.norm(eyes[-1] - eyes[0])
    assert travelled > 0.3, travelled  # the car drives ~1 m per camera frame at this excerpt's 10 Hz
    assert pipe.head_clock(123) == 123 and pipe.camera_stage.pose_clock(123) == 123  # virtual time again


def test_a_still_never_shows_another_stills_hands(make_pipeline):
    """Unrelated stills (the demo's pairs): until a still's own hands are found, its display frames show none,
    not the previous still's (they cut a hand-shaped hole into the next scene's holograms)."""
    pipe = make_pipeline(pairs=("pov_hands", "pov_controllers", "desk"), no_hands=False)
    recs = pipe.run_virtual()
    assert {r.camera_index for r in recs} == {0, 1, 2}
    assert any(r.hands_t_capture_ns == r.t_capture_ns for r in recs)  # pov_hands' own hands are shown
    for r in recs:
        assert r.hands_t_capture_ns in (-1, r.t_capture_ns), (r.display_index, r.camera_index)
