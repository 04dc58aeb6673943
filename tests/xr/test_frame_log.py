"""The per-frame log of ``passthrough run --frame-log``: one CSV row per frame-loop iteration."""

import csv

from openxr_app.app import RunStats
from openxr_app.cli import write_frame_log


def test_frame_log_has_one_row_per_frame_with_its_phases(tmp_path):
    stats = RunStats()
    for i, (submitted, cpu) in enumerate([(False, 0.0002), (True, 0.004), (True, 0.013)]):
        stats.wait_returns_s.append(10.0 + i / 90)
        if submitted:
            stats.add_phase("stage", cpu / 2)
            stats.add_phase("gl", cpu / 4)
        stats.cpu_s.append(cpu)
        stats.work_s.append(cpu * 1.2)
        stats.periods_ns.append(11_111_111)
        stats.end_frame_row(submitted)
    path = tmp_path / "frames.csv"  # (run's --frame-log folder is made before the session, with the other outputs')
    write_frame_log(path, stats.frame_log())
    rows = list(csv.DictReader(open(path)))
    assert [r["frame"] for r in rows] == ["0", "1", "2"]
    assert [r["submitted"] for r in rows] == ["0", "1", "1"]
    assert rows[0]["stage_ms"] == "" and float(rows[2]["stage_ms"]) == 6.5  # a skipped frame has no phases
    assert float(rows[2]["cpu_ms"]) == 13.0 and float(rows[2]["t_wait_return_ms"]) == 22.2222
    assert float(rows[1]["predicted_period_ms"]) == 11.1111


def test_camera_to_frame_latency_counts_each_camera_frame_once():
    stats = RunStats()
    assert stats.report()["camera_to_frame_ms"] is None  # no camera clock (stills, other stages)
    ms = 1_000_000
    for grab, now in [(None, 5 * ms), (100 * ms, 130 * ms), (100 * ms, 141 * ms), (133 * ms, 150 * ms),
                      (133 * ms, 161 * ms), (166 * ms, 190 * ms)]:
        stats.camera_frame_shown(grab, now)
    c2f = stats.report()["camera_to_frame_ms"]
    assert c2f["n"] == 3 and c2f["p50"] == 24.0  # 30, 17, 24 ms: the first frame showing each grab
