"""Replay and demo write every output the README promises."""

import csv

import cv2


def test_replay_euroc_runs_the_whole_pipeline(cli, shared_data, tmp_path):
    r = cli("replay", shared_data / "sequences/euroc-MH_01_easy-first5", "--out", tmp_path, "--no-progress",
            "--display-hz", "72", "--head-path", "sway")
    assert r.returncode == 0, r.stderr
    for name in ("left_eye.mp4", "right_eye.mp4", "depth.mp4", "hands.mp4", "contact_sheet.png",
                 "frames.csv", "camera_frames.csv"):
        assert (tmp_path / name).is_file() and (tmp_path / name).stat().st_size > 0, name
    with open(tmp_path / "frames.csv") as f:
        rows = list(csv.DictReader(f))
    # 5 frames at 20 Hz = 250 ms of camera time shown at 72 Hz
    assert 12 <= len(rows) <= 25
    for row in rows:
        assert int(row["t_capture_ns"]) <= int(row["t_depth_done_ns"]) <= int(row["t_frame_start_ns"])
        assert int(row["t_reproject_start_ns"]) <= int(row["t_reproject_end_ns"]) <= int(row["t_composite_end_ns"])
        assert int(row["t_predicted_display_ns"]) > int(row["t_frame_start_ns"])
    pngs = sorted((tmp_path / "left_eye").glob("*.png"))
    assert len(pngs) == len(rows)
    img = cv2.imread(str(pngs[0]))
    assert img.shape == (480, 752, 3)
    cap = cv2.VideoCapture(str(tmp_path / "left_eye.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == len(rows)


def test_replay_unknown_head_path_is_one_line(cli, shared_data, tmp_path):
    r = cli("replay", shared_data / "stereo/oakd-pairs", "--out", tmp_path, "--head-path", "cartwheel")
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "cartwheel" in r.stderr


def test_preview_without_a_display_is_one_clear_line(cli, shared_data, tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    r = cli("replay", shared_data / "sequences/euroc-MH_01_easy-first5", "--out", tmp_path, "--preview",
            "--no-progress", "--no-hands")
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "--preview needs a display" in r.stderr


def test_demo_runs_on_the_embedded_oakd_pairs(cli, tmp_path):
    r = cli("demo", "--out", tmp_path / "demo-out", "--frames", "12", "--no-progress", "--no-png")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "demo outputs:" in r.stdout and "oakd-stereodemo" in r.stdout
    out = tmp_path / "demo-out"
    assert (out / "left_eye.mp4").stat().st_size > 0 and (out / "contact_sheet.png").is_file()
    with open(out / "camera_frames.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows and int(rows[0]["hands"]) == 2  # the first pair is pov_hands: both hands tracked


def test_a_real_time_replay_writes_the_same_outputs(cli, shared_data, tmp_path):
    """--realtime writes depth.mp4, hands.mp4 and one camera_frames.csv row per camera frame too (it wrote
    only the eye outputs and an empty camera_frames.csv)."""
    r = cli("replay", shared_data / "sequences/euroc-MH_01_easy-first5", "--out", tmp_path, "--no-progress",
            "--realtime", "--frames", "20", "--no-png", timeout=300)
    assert r.returncode == 0, r.stderr
    for name in ("left_eye.mp4", "right_eye.mp4", "depth.mp4", "hands.mp4", "contact_sheet.png",
                 "frames.csv", "camera_frames.csv"):
        assert (tmp_path / name).is_file() and (tmp_path / name).stat().st_size > 0, name
    with open(tmp_path / "frames.csv") as f:
        shown = {int(row["camera_index"]) for row in csv.DictReader(f)}
    with open(tmp_path / "camera_frames.csv") as f:
        cams = [int(row["camera_index"]) for row in csv.DictReader(f)]
    assert shown <= set(cams) and cams == sorted(cams)
    cap = cv2.VideoCapture(str(tmp_path / "depth.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == len(cams)
