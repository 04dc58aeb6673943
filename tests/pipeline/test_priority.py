"""Stage threads yield the CPU to the display loop: they raise their own nice value (or, on request, the
hand worker switches itself to ``SCHED_IDLE``), nothing else's, and while a real-time run holds a core for
the display loop they run on the other cores."""

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


def test_hand_worker_can_run_only_when_the_core_is_otherwise_idle(monkeypatch):
    monkeypatch.delenv("PASSTHROUGH_THREAD_NICE", raising=False)
    monkeypatch.setenv("PASSTHROUGH_HANDS_IDLE", "1")
    main_policy = os.sched_getscheduler(0)
    out = _in_thread(lambda: (lower_this_thread("hands"), os.sched_getscheduler(0)))
    applied, policy = out["applied"]
    assert applied == "idle" and policy == os.SCHED_IDLE  # runs only when nothing else wants the core
    assert os.sched_getscheduler(0) == main_policy  # the caller's thread is untouched


def test_hand_worker_thread_lowers_only_itself(monkeypatch):
    monkeypatch.delenv("PASSTHROUGH_THREAD_NICE", raising=False)
    monkeypatch.delenv("PASSTHROUGH_HANDS_IDLE", raising=False)  # default: a nice increment
    main_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    out = _in_thread(lambda: lower_this_thread("hands"))
    expected = min(NICE["hands"], 19 - main_before)  # nice saturates at 19
    if expected <= 0:
        pytest.skip(f"this process already runs at nice {main_before}")
    assert out["applied"] == f"nice+{NICE['hands']}" and out["delta"] == expected
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_before


def test_priorities_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("PASSTHROUGH_THREAD_NICE", "0")
    assert _in_thread(lambda: lower_this_thread("camera")) == {"applied": "", "delta": 0}
    monkeypatch.setenv("PASSTHROUGH_HANDS_IDLE", "1")
    assert _in_thread(lambda: lower_this_thread("hands")) == {"applied": "", "delta": 0}
    monkeypatch.delenv("PASSTHROUGH_HANDS_IDLE")
    monkeypatch.delenv("PASSTHROUGH_THREAD_NICE")
    assert _in_thread(lambda: lower_this_thread("display")) == {"applied": "", "delta": 0}  # no entry: unchanged


def _affinity_in_thread(fn=lambda: None):
    out = {}

    def run():
        fn()
        out["cpus"] = os.sched_getaffinity(0)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    return out["cpus"]


def test_display_loop_gets_a_core_of_its_own_while_it_runs(monkeypatch):
    from passthrough.pipeline.priority import DisplayCore

    monkeypatch.delenv("PASSTHROUGH_PIN_CORES", raising=False)
    allowed = os.sched_getaffinity(0)
    if len(allowed) < 2:
        pytest.skip("one usable core: nothing to pin")
    with DisplayCore() as core:
        assert os.sched_getaffinity(0) == core.cpus and len(core.cpus) == 1
        stage = _affinity_in_thread(lambda: lower_this_thread("camera"))
        assert stage == allowed - core.cpus  # stage threads run on the other cores
    assert os.sched_getaffinity(0) == allowed  # restored afterwards
    assert _affinity_in_thread(lambda: lower_this_thread("camera")) == allowed  # and stage threads roam again


def test_core_pinning_can_be_switched_off(monkeypatch):
    from passthrough.pipeline.priority import DisplayCore

    allowed = os.sched_getaffinity(0)
    monkeypatch.setenv("PASSTHROUGH_PIN_CORES", "0")
    with DisplayCore() as core:
        assert core.cpus is None and os.sched_getaffinity(0) == allowed
    monkeypatch.delenv("PASSTHROUGH_PIN_CORES")
    with DisplayCore(enabled=False) as core:  # e.g. --threads 0: the display stage uses every core
        assert core.cpus is None and os.sched_getaffinity(0) == allowed
