"""The benchmark runs from the CLI and its JSON is well-formed and internally consistent (no timing
assertions: speed is judged by running the benchmark, not by tests)."""

import json
import platform

import pytest

STAGE_KEYS = {"p50_ms", "p95_ms", "p99_ms", "max_ms"}


def _check_stage(s):
    assert STAGE_KEYS <= set(s) and s["n"] > 0
    assert 0 <= s["p50_ms"] <= s["p95_ms"] <= s["p99_ms"] <= s["max_ms"]


def test_bench_pipeline_json(cli, tmp_path):
    out = tmp_path / "bench.json"
    plot = tmp_path / "bench.png"
    r = cli("bench", "pipeline", "--frames", "30", "--warmup", "5", "--baseline-frames", "2", "--display-hz", "72",
            "--json", out, "--plot", plot, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    rep = json.loads(out.read_text())
    for name in ("rectify", "depth", "reproject", "holograms", "composite", "display", "display_cpu", "display_wait"):
        _check_stage(rep["stages"][name])
    st = rep["stages"]  # a thread's CPU time within a frame is part of the frame's wall time
    # hand results of the measured camera frames only (the warm-up's were counted too)
    assert st["hands"]["n"] <= rep["display"]["camera_frames"]
    assert rep["providers"][0] in rep["machine"]["onnxruntime_providers"]
    assert st["display_cpu"]["n"] == st["display_wait"]["n"] == st["display"]["n"]
    assert 0 < st["display_cpu"]["p50_ms"] <= st["display"]["p50_ms"] + 0.01
    assert st["display_wait"]["max_ms"] <= st["display"]["max_ms"]
    d = rep["display"]
    assert d["hz"] == 72 and d["frames"] == 30 and 0 <= d["deadline_miss_rate"] <= 1 and d["fps"] > 0
    lat = rep["latency"]
    assert 0 < lat["capture_to_ready_p50_ms"] <= lat["capture_to_ready_p99_ms"]
    assert {"capture_to_hands_p50_ms", "capture_to_hands_p99_ms"} <= set(lat)
    if lat["capture_to_hands_p50_ms"] is not None:  # a hand result is shown only after its capture
        assert 0 < lat["capture_to_hands_p50_ms"] <= lat["capture_to_hands_p99_ms"]
    terms = lat["photon_to_photon_terms"]
    parts = [terms[k] for k in ("half_exposure_ms", "readout_ms", "pipeline_ms", "wait_for_display_slot_ms", "half_scanout_ms")]
    assert lat["photon_to_photon_model_ms"] == pytest.approx(sum(parts), abs=0.01)
    assert terms["constants"]["scanout_ms"] == pytest.approx(1000 / 72, abs=0.01)
    naive = rep["baseline"]["naive_opencv"]["frame"]
    ours = rep["baseline"]["ours_interleaved"]["frame"]
    assert rep["speedup_vs_naive"] == pytest.approx(naive["p50_ms"] / ours["p50_ms"], rel=0.02)
    assert rep["machine"]["cores"] >= 1 and "CPUExecutionProvider" in rep["machine"]["onnxruntime_providers"]
    # the command kept freed frame buffers in the heap (passthrough.allocator), on glibc
    assert rep["machine"]["allocator"]["keep_freed_memory"] is (platform.libc_ver()[0] == "glibc")
    assert all({"target", "value", "limit", "holds"} <= set(t) for t in rep["targets"])
    assert plot.stat().st_size > 10_000
    assert "photon-to-photon (model)" in r.stdout and "target " in r.stdout


@pytest.mark.parametrize("target,stage", [("depth", "depth"), ("reprojection", "reproject_both_eyes"),
                                          ("hands", "detection_plus_landmarks")])
def test_bench_stage_json(cli, tmp_path, target, stage):
    out = tmp_path / f"{target}.json"
    r = cli("bench", target, "--frames", "5", "--warmup", "2", "--json", out, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    rep = json.loads(out.read_text())
    _check_stage(rep["stages"][stage])
    assert rep["baseline"]
    assert rep["targets"] and all({"target", "value", "limit", "holds"} <= set(t) for t in rep["targets"])
    assert all(t["holds"] == (t["value"] <= t["limit"]) for t in rep["targets"])
    if target == "reprojection":  # the CPU path's two parts add up to (at most) the whole
        parts = rep["stages"]["reproject_graph"]["p50_ms"] + rep["stages"]["reproject_gather"]["p50_ms"]
        assert 0 < parts <= rep["stages"]["reproject_both_eyes"]["p50_ms"] * 1.25
        # the yardstick, GridSample of each eye, measured in the same run
        grid = rep["baseline"]["onnxruntime_gridsample_both_eyes"]
        _check_stage(grid)
        assert rep["ratio_vs_gridsample"] == pytest.approx(
            rep["stages"]["reproject_both_eyes"]["p50_ms"] / grid["p50_ms"], abs=0.01)
    if target == "hands":  # the fp32 landmark model, interleaved, and the ratios to it
        base = rep["baseline"]["fp32_landmarks"]
        for k in ("detection_plus_landmarks", "tracking"):
            _check_stage(base[k])
            assert rep["ratio_vs_fp32_landmarks"][k] == pytest.approx(
                rep["stages"][k]["p50_ms"] / base[k]["p50_ms"], abs=0.01)
        assert rep["landmark_model"].startswith("full")
        # MediaPipe's own engine (LiteRT + XNNPACK) on the same frames, where it is installed (make test: yes)
        pytest.importorskip("ai_edge_litert")
        lite = rep["baseline"]["mediapipe_litert"]
        assert "XNNPACK" in lite["runtime"] and lite["hands_per_image"] >= 1
        for k in ("detection_plus_landmarks", "tracking"):
            _check_stage(lite[k])
            assert rep["ratio_vs_mediapipe_litert"][k] == pytest.approx(
                rep["stages"][k]["p50_ms"] / lite[k]["p50_ms"], abs=0.01)


def test_bench_hands_on_a_photo_set(cli, shared_data, tmp_path):
    """``--dataset`` may name a hands.json photo set: its photos in turn, tracking = the same photo again
    from the landmarks just found."""
    out = tmp_path / "hands.json"
    r = cli("bench", "hands", "--dataset", shared_data / "hands", "--frames", "3", "--warmup", "0", "--json", out,
            timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    rep = json.loads(out.read_text())
    assert rep["images"] == 3 and "photos" in rep["image"]
    _check_stage(rep["stages"]["detection_plus_landmarks"])
    _check_stage(rep["stages"]["tracking"])  # every photo's hand is tracked on the second pass


@pytest.mark.parametrize("args, message", [
    (["reprojection", "--frames", "0"], "--frames"),
    (["depth", "--warmup", "-1"], "--warmup"),
    (["pipeline", "--camera-hz", "0"], "--camera-hz"),
    (["hands", "--threads", "-2"], "--threads"),
    (["pipeline", "--scanout-ms", "0"], "--scanout-ms"),
])
def test_bad_arguments_fail_at_once_with_one_line(cli, args, message):
    r = cli("bench", *args, timeout=120)
    assert r.returncode == 2 and message in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_json_into_a_folder_is_refused_and_a_missing_folder_is_made(cli, tmp_path):
    r = cli("bench", "depth", "--json", tmp_path, timeout=120)
    assert r.returncode == 2 and "is a folder" in r.stderr and "Traceback" not in r.stderr
    out = tmp_path / "new" / "sub" / "depth.json"
    r = cli("bench", "depth", "--frames", "3", "--warmup", "1", "--json", out, timeout=600)
    assert r.returncode == 0, r.stderr
    stages = json.loads(out.read_text())["stages"]
    assert stages["depth"]["n"] == 3
    # the default method's edge snap, a part of its time
    assert stages["depth_snap"]["n"] == 3 and 0 < stages["depth_snap"]["p50_ms"] < stages["depth"]["p50_ms"]


def test_a_value_that_could_not_be_measured_is_null_in_standard_json(cli, shared_data, tmp_path):
    """EuRoC's first frames show no hand, so no frame is tracked: the tracking figures are null (the
    file is standard JSON, no NaN), the detection figures are numbers, and the tracking target is not
    judged (holds null; it was reported as missed)."""
    out = tmp_path / "hands.json"
    r = cli("bench", "hands", "--dataset", shared_data / "sequences/euroc-MH_01_easy-first5", "--frames", "3",
            "--warmup", "1", "--json", out, timeout=600)
    assert r.returncode == 0, r.stderr

    def no_constants(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    rep = json.loads(out.read_text(), parse_constant=no_constants)
    assert rep["stages"]["tracking"]["n"] == 0 and rep["stages"]["tracking"]["p50_ms"] is None
    assert rep["stages"]["detection_plus_landmarks"]["p50_ms"] > 0
    tracking = [t for t in rep["targets"] if "tracking" in t["target"]]
    assert tracking and tracking[0]["value"] is None and tracking[0]["holds"] is None
    assert "NOT JUDGED" in r.stdout and rep["hands_per_image"] == 0


def test_bench_pipeline_measures_what_the_image_first_mode_costs(cli, shared_data, tmp_path):
    """On a recorded sequence with ground-truth poses (KITTI: the rig moves ~1 m per frame), the early
    frames (previous depth moved to the new pose) are compared with the same frames on their own depth."""
    out = tmp_path / "bench.json"
    r = cli("bench", "pipeline", "--dataset", shared_data / "sequences/kitti-odometry-excerpt-frames000-025",
            "--early-image", "--no-hands", "--frames", "20", "--warmup", "3", "--baseline-frames", "1",
            "--json", out, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    rep = json.loads(out.read_text())
    assert rep["display"]["early_image"] is True
    cost = rep["quality"]["early_image"]
    assert cost["measured"] and cost["rig_poses"] == "ground truth" and cost["frames"] == 12
    assert cost["eyes"] == 2 * cost["frames"]
    assert 0.5 < cost["rig_motion_m"]["p50"] <= cost["rig_motion_m"]["max"] < 2.0
    p = cost["psnr_early_vs_own_depth_db"]
    # the same images: close, but not identical (the depth differs)
    assert 25 < p["min"] <= p["p50"] < 80 and p["identical"] < cost["eyes"]
    changed = cost["changed_share"]
    assert changed["levels"] == 16 and 0.0 <= changed["p50"] <= changed["max"] < 0.05
    # both --early-depth modes on the same frames; the top-level figures are the chosen mode's
    assert cost["early_depth"] == "refresh" and set(cost["modes"]) == {"refresh", "previous"}
    fresh, prev = cost["modes"]["refresh"], cost["modes"]["previous"]
    assert fresh["psnr_early_vs_own_depth_db"] == p and fresh["changed_share"] == changed
    assert fresh["early_ms"] == cost["early_ms"]
    for m in (fresh, prev):
        assert m["early_ms"]["n"] == 3 * cost["frames"] and 0 < m["early_ms"]["p50"] <= m["early_ms"]["max"]
        q = m["psnr_early_vs_own_depth_db"]
        assert 25 < q["min"] <= q["p50"] < 80 and 0.0 <= m["changed_share"]["p50"] <= m["changed_share"]["max"] < 0.05


def test_a_target_is_judged_only_when_measured_and_at_its_eye_size():
    from benchmarks.cli import _at_size, _verdict

    assert _verdict("x", 7.9, 8.0)["holds"] is True and _verdict("x", 8.1, 8.0)["holds"] is False
    assert _verdict("x", None, 8.0)["holds"] is None and _verdict("x", float("nan"), 8.0)["holds"] is None
    label, ok = _at_size(384, 288)
    assert not ok and "not the target's 640x480" in label
    assert _verdict("x" + label, 3.0, 8.0, judged=ok)["holds"] is None  # Tsukuba's eyes are a third of the pixels
    assert _at_size(640, 480) == (" at 640x480", True)


def test_runs_that_cannot_measure_a_target_are_refused_up_front(cli):
    from passthrough.testing import assert_one_line_error

    assert_one_line_error(cli("bench", "pipeline", "--frames", "1", timeout=60), "--frames", "at least 2")
    assert_one_line_error(cli("bench", "depth", "--provider", "cuda", timeout=60), "--provider cuda", "no onnxruntime")
