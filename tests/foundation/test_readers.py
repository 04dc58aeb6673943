"""Every reader on the real sets in ../shared/data (formats as published)."""

import json

import cv2
import numpy as np
import pytest

from passthrough.datasets import detect_format, open_source
from passthrough.datasets.kitti import Kitti2015Source
from passthrough.datasets.video import LiveCameraSource, SideBySideVideoSource


def test_middlebury_scene_with_ground_truth(shared_data):
    src = open_source(shared_data / "stereo/middlebury2014-Motorcycle-Q")
    assert src.format == "middlebury" and len(src) == 1
    frame = next(iter(src))
    assert frame.left.shape == (497, 741, 3) and frame.right.shape == frame.left.shape
    assert frame.gt_disparity.shape == (497, 741) and np.isnan(frame.gt_disparity).any()
    assert frame.gt_mask_nonocc.dtype == bool and 0.7 < frame.gt_mask_nonocc.mean() < 1.0
    rig = src.rig
    # calib.txt: f = 999.421 px, baseline = 193.001 mm, doffs = 32.778 px
    assert rig.focal_px == pytest.approx(999.421) and rig.baseline_m == pytest.approx(0.193001)
    assert rig.doffs == pytest.approx(32.778)
    z = rig.disparity_to_depth(np.array([40.0]))
    assert z[0] == pytest.approx(0.193001 * 999.421 / (40 + 32.778), rel=1e-5)
    assert rig.depth_to_disparity(z)[0] == pytest.approx(40.0, rel=1e-5)
    # already rectified: no resampling
    left, right = frame.rectified()
    assert left is frame.left and right is frame.right


def test_eth3d_reports_unusable_ndisp(shared_data):
    src = open_source(shared_data / "stereo/eth3d-terrace_2s")
    assert src.ndisp is None and any("ndisp" in n for n in src.notes)
    assert src.rig.baseline_m == pytest.approx(0.0599432)
    frame = next(iter(src))
    assert 0.4 < np.isfinite(frame.gt_disparity).mean() < 0.7  # ~53 % valid


def test_folder_of_scenes_without_calibration(shared_data):
    src = open_source(shared_data / "stereo/middlebury2014-trainingQ-images")
    assert len(src) == 15 and "calib.txt" in src.missing[0]
    names = [f.name for f in src]
    assert names[0] == "Adirondack" and len(set(names)) == 15


def test_kitti_odometry_with_unlabelled_projection_rows(shared_data):
    src = open_source(shared_data / "sequences/kitti-odometry-excerpt-frames000-025")
    assert src.format == "kitti-odometry" and len(src) == 26
    assert src.rig.focal_px == pytest.approx(718.856) and src.rig.baseline_m == pytest.approx(386.1448 / 718.856)
    frames = list(src)
    assert frames[0].left.shape == (376, 1241)
    # poses: T_world_from_cam0; the car drives ~1 m per frame along +z
    step = np.linalg.norm(frames[1].T_world_from_head[:3, 3] - frames[0].T_world_from_head[:3, 3])
    assert 0.5 < step < 2.0
    assert [f.t_left_ns for f in frames[:2]] == [0, 100_000_000]


def test_kitti2015_layout_reports_missing_calibration(shared_data, tmp_path):
    # A KITTI 2015 copy lacking calib_cam_to_cam/: built from real KITTI frames, GT as uint16 * 256.
    root = tmp_path / "kitti2015"
    for d in ("image_2", "image_3", "disp_occ_0"):
        (root / d).mkdir(parents=True)
    seq = shared_data / "sequences/kitti-odometry-excerpt-frames000-025"
    disp = np.zeros((376, 1241), np.uint16)
    disp[200:300, 100:400] = 25 * 256 + 128  # 25.5 px
    for i in range(2):
        for side, sub in (("image_l", "image_2"), ("image_r", "image_3")):
            img = cv2.imread(str(seq / side / f"{i:06d}.png"), cv2.IMREAD_UNCHANGED)
            cv2.imwrite(str(root / sub / f"{i:06d}_10.png"), img)
        cv2.imwrite(str(root / "disp_occ_0" / f"{i:06d}_10.png"), disp)
    src = open_source(root)
    assert isinstance(src, Kitti2015Source) and len(src) == 2
    assert any("calib_cam_to_cam" in m for m in src.missing)
    f = next(iter(src))
    assert f.gt_disparity[250, 200] == pytest.approx(25.5) and np.isnan(f.gt_disparity[0, 0])


def test_euroc_sequence(shared_data):
    src = open_source(shared_data / "sequences/euroc-MH_01_easy-first5")
    assert src.format == "euroc-asl" and len(src) == 5 and src.rate_hz == 20
    assert src.rig.left.model == "radtan" and not src.rig.is_prerectified
    assert "imu" in src.ground_truth and src.imu.shape[1] == 7
    frames = list(src)
    assert frames[0].t_left_ns == 1403636579763555584
    assert np.all(np.diff([f.t_left_ns for f in frames]) == pytest.approx(50e6, abs=1e3))
    # EuRoC's cameras are ~11 cm apart
    assert src.rig.baseline_m == pytest.approx(0.110, abs=0.002)


def test_euroc_imu_and_leica_are_read_and_checked(shared_data):
    src = open_source(shared_data / "sequences/euroc-MH_01_easy-first5")
    assert src.imu.shape == (5, 7) and src.leica.shape == (5, 4)
    assert "positions (leica0)" in src.ground_truth
    assert np.all(np.diff(src.imu[:, 0]) > 0) and np.all(np.isfinite(src.imu))


def test_numeric_text_readers_name_1_based_file_lines(tmp_path):
    """The EuRoC/TUM/KITTI text readers report the file line (comments and blank lines counted), never
    numpy's 0-based row of the data lines; exact int64 timestamps are kept."""
    from passthrough.datasets.euroc import read_asl_csv, read_numeric_csv, read_tum_poses
    from passthrough.datasets.kitti import load_text_table, read_times_kitti
    from passthrough.errors import InputError

    def error(fn, text, name="f.csv"):
        p = tmp_path / name
        p.write_text(text)
        with pytest.raises(InputError) as exc:
            fn(p)
        assert exc.value.path == p
        return exc.value.message

    head = "#timestamp,a,b\n"
    assert error(lambda p: read_asl_csv(p, "CSV", 3), head + "10,1,2\n\n20,xyz,2\n").startswith("line 4: ")
    assert error(lambda p: read_asl_csv(p, "CSV", 3), head + "10,1,2\n# c\n20,1\n").startswith("line 4: ")
    assert error(read_numeric_csv, head + "10,1,2\n20,nan,2\n").startswith("line 3: value nan in column 2")
    assert error(read_numeric_csv, head + "10,1,2\n30,1,2\n20,1,2\n") == \
        "timestamps not increasing at line 4: 30 then 20"
    assert "line 3" in error(read_numeric_csv, head + "10,1,2\n10,1,2\n") and "repeated" in \
        error(read_numeric_csv, head + "10,1,2\n10,1,2\n")
    assert "line 2: timestamp out of range" in error(read_numeric_csv, head + "-5,1,2\n")
    assert error(read_tum_poses, "# t x y z qx qy qz qw\n0 0 0 0 0 0 0 1\n1 0 0 0 0 0 0\n",
                 "p.txt").startswith("line 3: ")
    assert error(read_tum_poses, "0 0 0 0 0 0 0 1\n\n0 0 0 0 0 0 0 1\n", "p.txt") == \
        "timestamps not increasing at line 3: 0 then 0 (repeated)"
    assert error(read_times_kitti, "0.0\n\n0.1\nfoo\n", "times.txt").startswith("line 4: bad timestamp file")
    assert error(lambda p: load_text_table(p, "table"), "1 2\n3\n", "t.txt").startswith("line 2: bad table")
    p = tmp_path / "ok.csv"
    p.write_text(head + "1403636579758555392,1,2\n# c\n1403636579758555393,1,2\n")
    t, d = read_asl_csv(p, "CSV", 3)
    assert t.tolist() == [1403636579758555392, 1403636579758555393] and d.shape == (2, 3)


def test_euroc_yaml_with_opencv_header(copy_of):
    root = copy_of("sequences/euroc-MH_01_easy-first5")
    for cam in ("cam0", "cam1"):
        p = root / "mav0" / cam / "sensor.yaml"
        p.write_text("%YAML:1.0\n" + p.read_text())
    assert len(open_source(root)) == 5


def test_oakd_pairs(shared_data):
    src = open_source(shared_data / "stereo/oakd-pairs")
    assert src.format == "oakd-stereodemo"
    assert "pov_hands" in src.names() and "pov_controllers" in src.names()
    assert src.rig.baseline_m == pytest.approx(0.075) and src.rig.rectified_size == (640, 480)
    frame = next(iter(src))
    assert frame.left.ndim == 2 and frame.left.shape == (480, 640)


def test_rig_v1_tsukuba(shared_data):
    src = open_source(shared_data / "views/middlebury2001-tsukuba")
    assert len(src) >= 1 and src.rig.left.size == (384, 288)


def _write_sbs_video(shared_data, path, n=6):
    src = open_source(shared_data / "stereo/oakd-pairs")
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15.0, (1280, 480))
    frames = list(src)[:n]
    for f in frames:
        writer.write(cv2.cvtColor(np.hstack([f.left, f.right]), cv2.COLOR_GRAY2BGR))
    writer.release()
    calib = json.loads((shared_data / "stereo/oakd-pairs/stereodemo_calibration.json").read_text())
    path.with_suffix(".json").write_text(json.dumps(calib))
    return frames


def test_side_by_side_video(shared_data, tmp_path):
    frames = _write_sbs_video(shared_data, tmp_path / "sbs.avi")
    src = open_source(tmp_path / "sbs.avi")
    assert isinstance(src, SideBySideVideoSource) and src.rate_hz == pytest.approx(15.0)
    got = list(src)
    assert len(got) == len(frames)
    assert got[0].left.shape[:2] == (480, 640)
    # MJPG is lossy: compare loosely with the originals
    err = np.abs(cv2.cvtColor(got[2].left, cv2.COLOR_BGR2GRAY).astype(int) - frames[2].left).mean()
    assert err < 6
    assert got[1].t_left_ns > got[0].t_left_ns


def test_live_source_with_a_video_standing_in_for_the_device(shared_data, tmp_path):
    _write_sbs_video(shared_data, tmp_path / "dev.avi")
    src = open_source(tmp_path / "dev.avi")
    live = LiveCameraSource([str(tmp_path / "dev.avi")], src.rig, max_frames=4)
    got = list(live)
    assert len(got) == 4 and got[0].left.shape[:2] == (480, 640)
    assert all(b.t_left_ns > a.t_left_ns for a, b in zip(got, got[1:]))  # host monotonic clock


@pytest.mark.parametrize("rel", ["stereo/middlebury2014-Motorcycle-Q", "stereo/eth3d-terrace_2s",
                                 "stereo/sceneflow-flyingthings3d-A-0032-0006", "stereo/oakd-pairs",
                                 "sequences/euroc-MH_01_easy-first5", "views/middlebury2001-tsukuba",
                                 "sequences/kitti-odometry-excerpt-frames000-025"])
def test_formats_detected(shared_data, rel):
    assert detect_format(shared_data / rel) is not None


def test_euroc_poses_from_tum_text(copy_of):
    # EuRoC's own ground truth does not overlap these 5 frames: write a TUM trajectory that does
    root = copy_of("sequences/euroc-MH_01_easy-first5")
    import shutil

    shutil.rmtree(root / "mav0" / "state_groundtruth_estimate0")
    src0 = open_source(root)
    t = np.array([f.t_left_ns for f in src0])
    lines = ["# t x y z qx qy qz qw"]
    for i, tn in enumerate(np.linspace(t[0] - 1e7, t[-1] + 1e7, 8).astype(np.int64)):
        lines.append(f"{tn / 1e9:.9f} {0.1 * i} 0 0 0 0 {np.sin(0.01 * i)} {np.cos(0.01 * i)}")
    (root / "mav0" / "groundtruth.txt").write_text("\n".join(lines) + "\n")
    src = open_source(root)
    assert any("TUM" in g for g in src.ground_truth)
    ts, T = src.frame_poses()
    assert len(ts) == 5 and np.all(np.diff(T[:, 0, 3]) > 0)  # moving along +x
    assert open_source(copy_of("sequences/kitti-odometry-excerpt-frames000-025")).frame_poses()[1].shape == (26, 4, 4)
