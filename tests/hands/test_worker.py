"""The hand worker: never blocks the caller, keeps only the latest frame, reports and survives crashes."""

import threading
import time

import cv2

from hand_tracking.tracker import HandTracker
from hand_tracking.worker import HandWorker


class GatedTracker:
    """Stand-in tracker that waits for a gate per frame and fails on request."""

    def __init__(self, gate: threading.Event, log: list, fail_on=()):
        self.gate, self.log, self.fail_on = gate, log, set(fail_on)

    def process(self, image, t_capture_ns=None):
        self.gate.wait(10)
        self.log.append(t_capture_ns)
        if t_capture_ns in self.fail_on:
            raise RuntimeError(f"boom at {t_capture_ns}")
        return {"t_capture_ns": t_capture_ns, "image": image}


def _wait_for(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.005)
    return False


def test_submit_never_waits_for_a_busy_worker_and_only_the_latest_frame_is_processed():
    gate, log = threading.Event(), []
    with HandWorker(lambda: GatedTracker(gate, log)) as w:
        w.submit("frame1", t_capture_ns=1)
        assert _wait_for(lambda: w._inbox.seq == 1)
        # the worker is now stuck inside frame 1; submitting from another thread must still return at once
        caller = threading.Thread(target=lambda: [w.submit(f"frame{i}", t_capture_ns=i) for i in (2, 3, 4)])
        caller.start()
        caller.join(5)
        assert not caller.is_alive()
        assert w.latest() is None  # nothing finished yet, and latest() did not block
        gate.set()
        assert _wait_for(lambda: w.latest() is not None and w.latest()["t_capture_ns"] == 4)
        assert 2 not in log and 3 not in log  # stale frames were dropped, not queued


def test_crash_is_reported_and_the_worker_restarts_the_tracker():
    gate, log = threading.Event(), []
    gate.set()
    made = []

    def factory():
        made.append(1)
        return GatedTracker(gate, log, fail_on={2})

    with HandWorker(factory) as w:
        w.submit("a", t_capture_ns=1)
        assert _wait_for(lambda: w.latest() is not None and w.latest()["t_capture_ns"] == 1)
        w.submit("b", t_capture_ns=2)
        assert _wait_for(lambda: len(w.errors) == 1)
        assert "boom at 2" in w.errors[0].message and w.errors[0].t_capture_ns == 2
        w.submit("c", t_capture_ns=3)
        assert _wait_for(lambda: w.latest()["t_capture_ns"] == 3)
        assert w.alive and w.restarts == 1 and len(made) == 2


def test_real_tracker_on_the_worker_returns_the_capture_timestamp(hand_models, oakd):
    img = cv2.imread(str(oakd / "pov_hands_left.png"), cv2.IMREAD_GRAYSCALE)
    with HandWorker(lambda: HandTracker(hand_models)) as w:
        w.submit(img, t_capture_ns=42_000)
        assert _wait_for(lambda: w.latest() is not None, timeout=60)
        res = w.latest()
        assert res.t_capture_ns == 42_000 and len(res.hands) == 2


def test_stereo_tracker_on_the_worker_gives_3d_hands_and_masks(hand_models, oakd):
    from hand_tracking.stereo import RectifiedStereo, StereoHandTracker

    cam = RectifiedStereo.from_stereodemo_json(oakd / "stereodemo_calibration.json")
    left = cv2.imread(str(oakd / "pov_hands_left.png"), cv2.IMREAD_GRAYSCALE)
    right = cv2.imread(str(oakd / "pov_hands_right.png"), cv2.IMREAD_GRAYSCALE)
    with HandWorker(lambda: StereoHandTracker(cam, hand_models)) as w:
        w.submit(left, right, t_capture_ns=7)
        assert _wait_for(lambda: w.latest() is not None, timeout=60)
        res = w.latest()
    assert res.t_capture_ns == 7
    assert [h.found_in for h in res.hands] == [["left", "right"]] * 2
    ml, mr = res.masks(left.shape)
    assert ml.shape == left.shape and 0.02 < (ml > 0).mean() < 0.25 and 0.02 < (mr > 0).mean() < 0.25
