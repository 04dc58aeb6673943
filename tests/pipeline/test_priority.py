"""Stage threads yield the CPU to the display loop: they raise their own nice value, nothing else's."""

import os
import sys
import threading

import pytest

from passthrough.pipeline.priority import NICE, lower_this_thread

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")


def _in_thread(fn):
    out = {}

    def run():
        tid = threading.get_native_id()
        before = os.getpriority(os.PRIO_PROCESS, tid)
        out["applied"] = fn()
        out["delta"] = os.getpriority(os.PRIO_PROCESS, tid) - before

    t = threading.Thread(target=run)
    t.start()
    t.join()
    return out


def test_hand_worker_thread_lowers_only_itself(monkeypatch):
    monkeypatch.delenv("PASSTHROUGH_THREAD_NICE", raising=False)
    main_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    out = _in_thread(lambda: lower_this_thread("hands"))
    expected = min(NICE["hands"], 19 - main_before)  # nice saturates at 19
    if expected <= 0:
        pytest.skip(f"this process already runs at nice {main_before}")
    assert out["applied"] == NICE["hands"] and out["delta"] == expected
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_before


def test_priorities_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("PASSTHROUGH_THREAD_NICE", "0")
    assert _in_thread(lambda: lower_this_thread("camera")) == {"applied": 0, "delta": 0}
    monkeypatch.delenv("PASSTHROUGH_THREAD_NICE")
    assert _in_thread(lambda: lower_this_thread("display")) == {"applied": 0, "delta": 0}  # no entry: unchanged
