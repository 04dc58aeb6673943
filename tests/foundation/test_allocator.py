"""``passthrough.allocator``: freed frame buffers stay in the heap (glibc ``mallopt``), once per process."""

import platform

import pytest

from passthrough import allocator


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setitem(allocator._state, "applied", False)
    return allocator


def test_the_switch_turns_it_off(fresh, monkeypatch):
    monkeypatch.setenv(allocator.ENV, "0")
    assert fresh.keep_freed_memory() is False
    assert fresh.allocator_info() == {"keep_freed_memory": False, "mmap_threshold_bytes": None,
                                      "trim_threshold_bytes": None}


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator only")
def test_on_glibc_the_thresholds_are_set_and_reported(fresh, monkeypatch):
    monkeypatch.delenv(allocator.ENV, raising=False)
    assert fresh.keep_freed_memory() is True and fresh.keep_freed_memory() is True  # idempotent
    info = fresh.allocator_info()
    assert info["keep_freed_memory"] and info["mmap_threshold_bytes"] == 32 * 1024 * 1024

