"""Broken dataset files: every one is one line ``error: <file>: <problem>``, exit status 2, no traceback,
and the input is left as it was. Each case copies a few small real files into tmp_path and corrupts the
copy (calibration geometry, image sizes, timestamps, ground truth, annotation field types)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from passthrough.datasets import open_source
from passthrough.datasets.kitti import Kitti2015Source
from passthrough.errors import InputError
from passthrough.testing import assert_one_line_error, tree_digest

MOTORCYCLE = "stereo/middlebury2014-Motorcycle-Q"
KITTI = "sequences/kitti-odometry-excerpt-frames000-025"
EUROC = "sequences/euroc-MH_01_easy-first5"
OAKD = "stereo/oakd-pairs"
TSUKUBA = "views/middlebury2001-tsukuba"


# ------------------------------------------------------------------------------------------- helpers
def _sub(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


def _edit_json(path: Path, fn) -> None:
    d = json.loads(path.read_text())
    d = fn(d) or d
    path.write_text(json.dumps(d))  # allow_nan: writes NaN / Infinity as Python's json does


def _middlebury(shared_data, tmp_path) -> Path:
    root = tmp_path / "motorcycle"
    root.mkdir()
    for f in ("im0.png", "im1.png", "calib.txt"):
        shutil.copy(shared_data / MOTORCYCLE / f, root)
    return root


def _kitti(shared_data, tmp_path, n=3) -> Path:
    src, root = shared_data / KITTI, tmp_path / "kitti"
    for side in ("image_l", "image_r"):
        (root / side).mkdir(parents=True)
        for i in range(n):
            shutil.copy(src / side / f"{i:06d}.png", root / side)
    shutil.copy(src / "calib.txt", root)
    (root / "poses.txt").write_text("".join((src / "poses.txt").read_text().splitlines(True)[:n]))
    return root


def _kitti_P(root: Path):
    return [np.array(l.split(), dtype=np.float64) for l in (root / "calib.txt").read_text().splitlines() if l.strip()]


def _write_kitti_P(root: Path, P0, P1) -> None:
    (root / "calib.txt").write_text("\n".join(" ".join(repr(float(v)) for v in P) for P in (P0, P1)) + "\n")


def _oakd(shared_data, tmp_path) -> Path:
    root = tmp_path / "oakd"
    root.mkdir()
    for f in ("desk_left.png", "desk_right.png", "stereodemo_calibration.json"):
        shutil.copy(shared_data / OAKD / f, root)
    return root


def _euroc(shared_data, tmp_path) -> Path:
    root = tmp_path / "euroc"
    shutil.copytree(shared_data / EUROC, root)
    return root


def _hands(shared_data, tmp_path) -> Path:
    root = tmp_path / "hands"
    shutil.copytree(shared_data / "hands", root)
    return root


def _tsukuba(shared_data, tmp_path) -> Path:
    root = tmp_path / "tsukuba"
    shutil.copytree(shared_data / TSUKUBA, root)
    return root


# ------------------------------------------------------------------ 1, 2: calibration geometry and sizes
MIDDLEBURY_CALIB = {
    "baseline0": ("baseline=193.001", "baseline=0", "baseline"),
    "baseline_nan": ("baseline=193.001", "baseline=nan", "baseline"),
    "baseline_neg": ("baseline=193.001", "baseline=-193.001", "baseline"),
    "f0": ("cam0=[999.421 0 294.182; 0 999.421", "cam0=[0 0 294.182; 0 0", "focal length"),
    "f_neg": ("cam0=[999.421 0 294.182; 0 999.421", "cam0=[-999.421 0 294.182; 0 -999.421", "focal length"),
    "f_nan": ("cam1=[999.421", "cam1=[nan", "cam1"),
    "width_nan": ("width=741", "width=nan", "width"),
    "width_inf": ("width=741", "width=inf", "width"),
    "height0": ("height=497", "height=0", "height"),
}


@pytest.mark.parametrize("case", sorted(MIDDLEBURY_CALIB))
def test_middlebury_bad_calibration(cli, shared_data, tmp_path, case):
    root = _middlebury(shared_data, tmp_path)
    old, new, word = MIDDLEBURY_CALIB[case]
    _sub(root / "calib.txt", old, new)
    before = tree_digest(root)
    assert_one_line_error(cli("info", root), "calib.txt", word)
    assert tree_digest(root) == before


def _P1_baseline0(P):
    P[1][3] = 0.0


def _P1_nan(P):
    P[1][3] = np.nan


def _P1_f0(P):
    P[1][0] = 0.0


def _P0_fneg(P):
    P[0][0] = P[0][5] = -P[0][0]


def _P1_swapped(P):
    P[1][3] = -P[1][3]


def _P1_inf(P):
    P[1][3] = -1e300


KITTI_CALIB = {
    "baseline0": (_P1_baseline0, "zero baseline"),
    "nan": (_P1_nan, "P1"),
    "p1_f0": (_P1_f0, "P1"),
    "f_neg": (_P0_fneg, "focal length"),
    "swapped": (_P1_swapped, "negative baseline"),
    "huge_baseline": (_P1_inf, "baseline"),
}


@pytest.mark.parametrize("case", sorted(KITTI_CALIB))
def test_kitti_bad_projection_rows(cli, shared_data, tmp_path, case):
    root = _kitti(shared_data, tmp_path)
    P = _kitti_P(root)
    edit, word = KITTI_CALIB[case]
    edit(P)
    _write_kitti_P(root, *P)
    before = tree_digest(root)
    assert_one_line_error(cli("info", root), "calib.txt", word)
    assert tree_digest(root) == before


def test_kitti_projection_row_with_too_few_values(cli, shared_data, tmp_path):
    root = _kitti(shared_data, tmp_path)
    P0, P1 = _kitti_P(root)
    _write_kitti_P(root, P0, P1[:8])
    assert_one_line_error(cli("info", root), "calib.txt", "P1", "8 values")


STEREODEMO = {
    "b0": ("baseline_meters", 0.0, "baseline_meters"),
    "bnan": ("baseline_meters", float("nan"), "baseline_meters"),
    "binf": ("baseline_meters", float("inf"), "baseline_meters"),
    "bneg": ("baseline_meters", -0.075, "baseline_meters"),
    "bhuge": ("baseline_meters", 1e300, "baseline_meters"),
    "bbool": ("baseline_meters", True, "baseline_meters"),
    "fx0": ("fx", 0.0, "focal length"),
    "fxneg": ("fx", -451.0, "focal length"),
    "fxnan": ("fx", float("nan"), "fx"),
    "w_inf": ("width", float("inf"), "width"),
    "w0": ("width", 0, "width"),
    "w_neg": ("width", -640, "width"),
    "w_huge": ("width", 1e30, "width"),
    "w_float": ("width", 640.5, "width"),
}


@pytest.mark.parametrize("case", sorted(STEREODEMO))
def test_stereodemo_bad_calibration(cli, shared_data, tmp_path, case):
    root = _oakd(shared_data, tmp_path)
    key, value, word = STEREODEMO[case]
    _edit_json(root / "stereodemo_calibration.json", lambda d: d.__setitem__(key, value))
    before = tree_digest(root)
    assert_one_line_error(cli("info", root), "stereodemo_calibration.json", word)
    assert tree_digest(root) == before


def _own_format(shared_data, tmp_path, name: str) -> Path:
    """An OAK-D pair with its calibration in the project's own format (StereoRig.to_dict) as ``name``."""
    from passthrough.datasets.pairs import load_calibration

    root = _oakd(shared_data, tmp_path)
    rig = load_calibration(root / "stereodemo_calibration.json")
    (root / "stereodemo_calibration.json").unlink()
    (root / name).write_text(json.dumps(rig.to_dict()))
    return root


def test_own_format_calibration_with_identical_poses(cli, shared_data, tmp_path):
    root = _own_format(shared_data, tmp_path, "calibration.json")
    _edit_json(root / "calibration.json", lambda d: d.__setitem__("T_head_from_right", d["T_head_from_left"]))
    assert_one_line_error(cli("info", root), "calibration.json", "zero baseline")


def test_own_format_calibration_with_infinite_size(cli, shared_data, tmp_path):
    root = _own_format(shared_data, tmp_path, "calibration.json")
    _edit_json(root / "calibration.json", lambda d: d["left"].__setitem__("size", [float("inf"), 480]))
    assert_one_line_error(cli("info", root), "calibration.json", "width")


def _own_format_distortion(shared_data, tmp_path, model, dist, K=None) -> Path:
    """An OAK-D pair whose own-format calibration.json gives both cameras ``model`` and ``dist`` (and K)."""
    root = _own_format(shared_data, tmp_path, "calibration.json")

    def edit(d):
        for side in ("left", "right"):
            d[side].update(model=model, dist=list(dist), **({} if K is None else {"K": K}))
    _edit_json(root / "calibration.json", edit)
    return root


@pytest.mark.parametrize("model, dist, word", [
    ("radtan", [0, 0, 0, 0, float("nan")], "not finite"),
    ("fisheye", [1e6, 0, 0, 0], "not finite"),  # cv2.fisheye.stereoRectify returns NaN
    ("radtan", [-50, 0, 0, 0, 0], "86% from outside the 640x480 camera image"),
    ("radtan", [-3, 0, 0, 0, 0], "folds the image over itself"),  # r (1 - 3 r^2) turns back inside the image
    ("radtan", [1e6, 0, 0, 0, 0], "magnifies a 1x1 px patch"),  # stereoRectify zooms onto one source pixel
])
def test_own_format_calibration_with_unusable_distortion(cli, shared_data, tmp_path, model, dist, word):
    root = _own_format_distortion(shared_data, tmp_path, model, dist)
    before = tree_digest(root)
    assert_one_line_error(cli("info", root), "calibration.json", "distortion", word)
    assert tree_digest(root) == before


def test_wide_lens_with_large_rational_coefficients_still_opens(cli, shared_data, tmp_path):
    """Large coefficients are not refused as such: OpenCV's 8-coefficient rational model of a 130-degree
    lens, written as real calibrations often come out (numerator and denominator share a factor close to
    1 + 25 r^2, so k1 and k4 are about 25), rectifies to a usable image."""
    K = [[300.0, 0, 319.5], [0, 300.0, 239.5], [0, 0, 1]]
    root = _own_format_distortion(shared_data, tmp_path, "radtan", [25.37, 9.277, 0, 0, 0.2128, 25.68, 17.07, 1.485], K)
    r = cli("info", root)
    assert r.returncode == 0, r.stderr
    assert "distortion radtan (rectified on load)" in r.stdout


def test_rectifying_images_of_another_size_names_the_calibration_file(shared_data, tmp_path):
    """A rig read from a file names that file when it is given images of another size (a camera that does
    not match it); a rig built in code keeps the programmer's ValueError."""
    from passthrough.calibration import CameraModel, StereoRig
    from passthrough.datasets.pairs import load_calibration
    from passthrough.geometry import make_T

    calib = shared_data / OAKD / "stereodemo_calibration.json"
    small = np.zeros((240, 320), np.uint8)
    with pytest.raises(InputError) as exc:
        load_calibration(calib).rectify(small, small)
    assert exc.value.path == calib and "320x240" in exc.value.message and "640x480" in exc.value.message
    cam = CameraModel.pinhole(400.0, 400.0, 319.5, 239.5, (640, 480))
    with pytest.raises(ValueError):
        StereoRig(cam, cam, np.eye(4), make_T(np.eye(3), [0.1, 0, 0])).rectify(small, small)


# ------------------------------------------------------------------------- 1, 2, 3, 6: EuRoC sensor.yaml
EUROC_YAML = {
    "same_T": ("cam1", None, "zero baseline"),
    "intr_nan": ("cam0", ("intrinsics: [458.654,", "intrinsics: [.nan,"), "intrinsics"),
    "intr_zero": ("cam0", ("intrinsics: [458.654, 457.296,", "intrinsics: [0, 0,"), "focal length"),
    "intr_neg": ("cam0", ("intrinsics: [458.654,", "intrinsics: [-458.654,"), "focal length"),
    "res_neg": ("cam0", ("resolution: [752, 480]", "resolution: [-752, 480]"), "resolution"),
    "res_inf": ("cam1", ("resolution: [752, 480]", "resolution: [.inf, 480]"), "resolution"),
    "dist_mixed": ("cam1", ("distortion_model: radial-tangential", "distortion_model: equidistant"), "fisheye"),
    "rate_str": ("cam0", ("rate_hz: 20", "rate_hz: fast"), "rate_hz"),
    "rate_neg": ("cam0", ("rate_hz: 20", "rate_hz: -20"), "rate_hz"),
    # distortion: non-finite coefficients, and coefficients whose rectification maps are unusable
    "dist_nan": ("cam0", ("distortion_coefficients: [-0.28340811", "distortion_coefficients: [.nan"),
                 "distortion_coefficients"),
    "dist_inf": ("cam1", ("distortion_coefficients: [-0.28368365", "distortion_coefficients: [.inf"),
                 "distortion_coefficients"),
    "dist_k1_huge": ("cam0", ("distortion_coefficients: [-0.28340811", "distortion_coefficients: [1e6"),
                     "75% from outside the 752x480 camera image"),
    "dist_k1_negative": ("cam1", ("distortion_coefficients: [-0.28368365", "distortion_coefficients: [-50"),
                         "right camera"),
    "dist_k2_huge": ("cam0", ("[-0.28340811, 0.07395907", "[-0.28340811, 1e4"), "magnifies"),
}


@pytest.mark.parametrize("case", sorted(EUROC_YAML))
def test_euroc_bad_sensor_yaml(cli, shared_data, tmp_path, case):
    root = _euroc(shared_data, tmp_path)
    cam, edit, word = EUROC_YAML[case]
    if edit is None:  # cam1 placed exactly where cam0 is
        shutil.copy(root / "mav0/cam0/sensor.yaml", root / "mav0/cam1/sensor.yaml")
    else:
        _sub(root / "mav0" / cam / "sensor.yaml", *edit)
    before = tree_digest(root)
    assert_one_line_error(cli("info", root), "sensor.yaml", word)
    assert tree_digest(root) == before


# ------------------------------------------------------------------- 6, 11: EuRoC CSVs, empty text files
def _csv_binary(root):
    (root / "mav0/cam0/data.csv").write_bytes(bytes(range(256)) * 4)


def _csv_huge_ts(root):
    with open(root / "mav0/cam0/data.csv", "a") as f:
        f.write("99999999999999999999999,x.png\n")


def _gt_rows(root):
    p = root / "mav0/state_groundtruth_estimate0/data.csv"
    return p, p.read_text().splitlines()


def _gt_backwards(root):
    p, lines = _gt_rows(root)
    lines[2], lines[3] = lines[3], lines[2]
    p.write_text("\n".join(lines) + "\n")


def _gt_nan_quaternion(root):
    p, lines = _gt_rows(root)
    v = lines[2].split(",")
    v[4:8] = ["nan"] * 4
    lines[2] = ",".join(v)
    p.write_text("\n".join(lines) + "\n")


def _gt_empty(root):
    p, lines = _gt_rows(root)
    p.write_text(lines[0] + "\n")  # header only


EUROC_CSV = {
    "cam0_binary": (_csv_binary, "cam0/data.csv", "not a text file"),
    "cam0_huge_timestamp": (_csv_huge_ts, "cam0/data.csv", "out of range"),
    "gt_backwards": (_gt_backwards, "state_groundtruth_estimate0/data.csv", "not increasing"),
    "gt_nan_quaternion": (_gt_nan_quaternion, "state_groundtruth_estimate0/data.csv", "not a finite"),
    "gt_empty": (_gt_empty, "state_groundtruth_estimate0/data.csv", "no data rows"),
}


@pytest.mark.parametrize("case", sorted(EUROC_CSV))
def test_euroc_bad_csv(cli, shared_data, tmp_path, case):
    root = _euroc(shared_data, tmp_path)
    edit, name, word = EUROC_CSV[case]
    edit(root)
    before = tree_digest(root)
    assert_one_line_error(cli("info", root), name, word)
    assert tree_digest(root) == before


@pytest.mark.parametrize("content", ["", "#timestamp [ns],w_x,w_y,w_z,a_x,a_y,a_z\n"])
def test_euroc_empty_imu_is_ignored_quietly(cli, shared_data, tmp_path, content):
    """imu0 is optional and unused by the pipeline: a copy without samples is noted, not refused, and no
    numpy warning reaches stderr."""
    root = _euroc(shared_data, tmp_path)
    (root / "mav0/imu0/data.csv").write_text(content)
    r = cli("info", root)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == ""
    assert "imu0/data.csv has no samples" in r.stdout


# ------------------------------------------- EuRoC timestamped CSVs: order, finite values, 1-based lines
def _swap_data_rows(rel, a=1, b=3):
    """Swap data rows ``a`` and ``b`` (1-based, after the header) of a CSV: file lines a + 1 and b + 1;
    the timestamps then first go backwards at file line 3."""
    def edit(root):
        p = root / "mav0" / rel
        lines = p.read_text().splitlines()
        lines[a], lines[b] = lines[b], lines[a]
        p.write_text("\n".join(lines) + "\n")
    return edit


def _set_value(rel, line, col, value):
    """Put ``value`` in column ``col`` (0-based) of file line ``line`` (1-based) of a CSV."""
    def edit(root):
        p = root / "mav0" / rel
        lines = p.read_text().splitlines()
        v = lines[line - 1].split(",")
        v[col] = value
        lines[line - 1] = ",".join(v)
        p.write_text("\n".join(lines) + "\n")
    return edit


def _repeat_timestamp(rel):
    def edit(root):
        p = root / "mav0" / rel
        lines = p.read_text().splitlines()
        lines[2] = lines[1].split(",")[0] + "," + lines[2].split(",", 1)[1]
        p.write_text("\n".join(lines) + "\n")
    return edit


def _comment_then(edit):
    """``edit``, then a comment line inserted after the header: the faulty line moves down by one."""
    def both(root):
        edit(root)
        for rel in ("imu0/data.csv", "leica0/data.csv", "state_groundtruth_estimate0/data.csv"):
            p = root / "mav0" / rel
            lines = p.read_text().splitlines()
            p.write_text("\n".join(lines[:1] + ["# a comment", ""] + lines[1:]) + "\n")
    return both


EUROC_CSV_LINES = {
    "imu_backwards": (_swap_data_rows("imu0/data.csv"), "imu0/data.csv", "not increasing", "line 3"),
    "leica_backwards": (_swap_data_rows("leica0/data.csv"), "leica0/data.csv", "not increasing", "line 3"),
    "gt_backwards": (_swap_data_rows("state_groundtruth_estimate0/data.csv"),
                     "state_groundtruth_estimate0/data.csv", "not increasing", "line 3"),
    "imu_repeated": (_repeat_timestamp("imu0/data.csv"), "imu0/data.csv", "not increasing", "line 3", "repeated"),
    "leica_repeated": (_repeat_timestamp("leica0/data.csv"), "leica0/data.csv", "not increasing", "line 3"),
    "imu_nan": (_set_value("imu0/data.csv", 3, 1, "nan"), "imu0/data.csv", "line 3", "not a finite number"),
    "imu_inf": (_set_value("imu0/data.csv", 4, 6, "inf"), "imu0/data.csv", "line 4", "column 7", "not a finite"),
    "leica_nan": (_set_value("leica0/data.csv", 2, 2, "nan"), "leica0/data.csv", "line 2", "not a finite"),
    "gt_velocity_nan": (_set_value("state_groundtruth_estimate0/data.csv", 5, 9, "nan"),
                        "state_groundtruth_estimate0/data.csv", "line 5", "column 10", "not a finite"),
    "gt_nan_quaternion": (_set_value("state_groundtruth_estimate0/data.csv", 3, 4, "nan"),
                          "state_groundtruth_estimate0/data.csv", "line 3", "not a finite"),
    "imu_text": (_set_value("imu0/data.csv", 3, 1, "xyz"), "imu0/data.csv", "line 3", "'xyz'", "column 2"),
    "imu_short_row": (_set_value("imu0/data.csv", 4, 6, "1,2"), "imu0/data.csv", "line 4", "8 values"),
    "imu_backwards_after_comment": (_comment_then(_swap_data_rows("imu0/data.csv")), "imu0/data.csv",
                                    "not increasing", "line 5"),
    "imu_text_after_comment": (_comment_then(_set_value("imu0/data.csv", 3, 1, "xyz")), "imu0/data.csv",
                               "line 5", "'xyz'"),
}


@pytest.mark.parametrize("case", sorted(EUROC_CSV_LINES))
def test_euroc_timestamped_csv_errors_name_the_file_line(cli, shared_data, tmp_path, case):
    """imu0, leica0 and the ground-truth CSV: timestamps going backwards or repeated, non-finite values
    and text are refused, naming the file and the 1-based file line (comments and blank lines count)."""
    root = _euroc(shared_data, tmp_path)
    edit, name, *words = EUROC_CSV_LINES[case]
    edit(root)
    before = tree_digest(root)
    line = assert_one_line_error(cli("info", root), name, *words)
    assert "row" not in line, line
    assert tree_digest(root) == before


def test_euroc_tum_ground_truth_errors_name_the_file_line(cli, shared_data, tmp_path):
    root = _euroc(shared_data, tmp_path)
    shutil.rmtree(root / "mav0/state_groundtruth_estimate0")
    rows = ["# t x y z qx qy qz qw", "1403636579.7 0 0 0 0 0 0 1", "1403636579.8 0 0 0 0 0 0 1",
            "1403636579.75 0 0 0 0 0 0 1"]
    for text, words in (("\n".join(rows), ("line 4", "not increasing")),
                        ("\n".join(rows[:3] + ["xyz 0 0 0 0 0 0 1"]), ("line 4", "'xyz'")),
                        ("\n".join(rows[:2] + ["1403636579.8 0 0 0 0 0 0 0"]), ("line 3", "quaternion is zero"))):
        (root / "mav0/groundtruth.txt").write_text(text + "\n")
        before = tree_digest(root)
        assert_one_line_error(cli("info", root), "groundtruth.txt", *words)
        assert tree_digest(root) == before


@pytest.mark.parametrize("rows, words", [
    (["0.0 0 0 0 0 0 0 1", "0.1 0 0 0 0 0 0 1", "xyz 0 0 0 0 0 0 1"], ("line 3", "'xyz'")),
    (["xyz 0 0 0 0 0 0 1", "0.1 0 0 0 0 0 0 1"], ("line 1", "'xyz'")),
    (["# t x y z qx qy qz qw", "0.0 0 0 0 0 0 0 1", "0.1 0 0 0 0 0 0 1", "0.1 0 0 0 0 0 0 1"],
     ("line 4", "not increasing")),
])
def test_tum_head_path_file_errors_name_the_file_line(cli, shared_data, tmp_path, rows, words):
    path = tmp_path / "poses.txt"
    path.write_text("\n".join(rows) + "\n")
    r = cli("replay", shared_data / KITTI, "--out", tmp_path / "out", "--frames", "2", "--no-hands",
            "--head-path", path, timeout=300)
    line = assert_one_line_error(r, "poses.txt", *words)
    assert "row" not in line, line


# -------------------------------------------- EuRoC: cameras whose sensor.yaml resolutions disagree
def _euroc_resolution(root, cam, res):
    _sub(root / "mav0" / cam / "sensor.yaml", "resolution: [752, 480]", f"resolution: [{res[0]}, {res[1]}]")


@pytest.mark.parametrize("cam, other", [("cam0", "cam1"), ("cam1", "cam0")])
def test_euroc_resolution_mismatch_names_the_yaml_that_disagrees_with_the_images(cli, shared_data, tmp_path,
                                                                                 cam, other):
    root = _euroc(shared_data, tmp_path)
    _euroc_resolution(root, cam, (640, 480))
    before = tree_digest(root)
    line = assert_one_line_error(cli("info", root), f"{cam}/sensor.yaml:", "640x480", "752x480")
    assert f"{other}/sensor.yaml:" not in line
    assert tree_digest(root) == before


def test_euroc_resolution_mismatch_names_both_yamls_when_both_disagree(cli, shared_data, tmp_path):
    root = _euroc(shared_data, tmp_path)
    _euroc_resolution(root, "cam0", (640, 480))
    _euroc_resolution(root, "cam1", (320, 240))
    assert_one_line_error(cli("info", root), "mav0:", "cam0/sensor.yaml", "cam1/sensor.yaml", "640x480", "320x240")


def test_euroc_cameras_whose_stored_images_differ_in_size(cli, shared_data, tmp_path):
    """Both sensor.yaml files match their own images, but the images differ in size: a rig this reader
    cannot use; the message says so rather than blaming one file."""
    root = _euroc(shared_data, tmp_path)
    for p in (root / "mav0/cam1/data").glob("*.png"):
        cv2.imwrite(str(p), cv2.imread(str(p), cv2.IMREAD_UNCHANGED)[:480, :640])
    _euroc_resolution(root, "cam1", (640, 480))
    assert_one_line_error(cli("info", root), "mav0:", "images differ in size", "752x480", "640x480")


# ------------------------------------------------------------------------- 5, 11: KITTI times and poses
KITTI_TEXT = {
    "times_garbage": ("times.txt", "0.0\n0.1\nfoo\n", "bad timestamp file"),
    "times_nan": ("times.txt", "nan\nnan\nnan\n", "bad time"),
    "times_inf": ("times.txt", "0.0\n0.1\ninf\n", "bad time"),
    "times_empty": ("times.txt", "", "empty"),
    "times_backwards": ("times.txt", "0.0\n0.2\n0.1\n", "not increasing"),
    "poses_empty": ("poses.txt", "\n", "empty"),
    "poses_nan": ("poses.txt", None, "line 2: pose is not finite"),
}


@pytest.mark.parametrize("case", sorted(KITTI_TEXT))
def test_kitti_bad_times_and_poses(cli, shared_data, tmp_path, case):
    root = _kitti(shared_data, tmp_path)
    name, text, word = KITTI_TEXT[case]
    if text is None:
        lines = (root / name).read_text().splitlines()
        lines[1] = " ".join(["nan"] * 12)
        text = "\n".join(lines) + "\n"
    (root / name).write_text(text)
    before = tree_digest(root)
    assert_one_line_error(cli("info", root), name, word)
    assert tree_digest(root) == before


KITTI_TEXT_LINES = {
    "times_garbage": ("times.txt", "0.0\n0.1\nfoo\n", ("line 3", "'foo'")),
    "times_garbage_after_comment": ("times.txt", "# seconds\n0.0\n\n0.1\nfoo\n", ("line 5", "'foo'")),
    "times_nan": ("times.txt", "0.0\n0.1\nnan\n", ("line 3", "bad time")),
    "times_backwards": ("times.txt", "0.0\n0.2\n0.1\n", ("line 3", "not increasing")),
    "times_two_columns": ("times.txt", "0.0 1\n0.1 1\n0.2 1\n", ("one number per line",)),
    "poses_ragged": ("poses.txt", None, ("line 2", "11 values", "line 1 has 12")),
}


@pytest.mark.parametrize("case", sorted(KITTI_TEXT_LINES))
def test_kitti_times_and_poses_errors_name_the_file_line(cli, shared_data, tmp_path, case):
    root = _kitti(shared_data, tmp_path)
    name, text, words = KITTI_TEXT_LINES[case]
    if text is None:
        lines = (root / name).read_text().splitlines()
        lines[1] = " ".join(lines[1].split()[:11])
        text = "\n".join(lines) + "\n"
    (root / name).write_text(text)
    before = tree_digest(root)
    line = assert_one_line_error(cli("info", root), name, *words)
    assert "row" not in line, line
    assert tree_digest(root) == before


def test_kitti_calibration_error_names_the_file_line(cli, shared_data, tmp_path):
    root = _kitti(shared_data, tmp_path)
    P0, P1 = (root / "calib.txt").read_text().splitlines()[:2]
    (root / "calib.txt").write_text(f"\n{P0}\n\n{P1.replace(P1.split()[2], 'x', 1)}\n")
    assert_one_line_error(cli("info", root), "calib.txt", "line 4", "not numbers")


# ------------------------------------------------------------------------------------ 7: frame sizes
def test_kitti_frame_of_another_size_names_the_image(cli, shared_data, tmp_path):
    root = _kitti(shared_data, tmp_path)
    for side in ("image_l", "image_r"):
        p = root / side / "000001.png"
        cv2.imwrite(str(p), cv2.imread(str(p), cv2.IMREAD_UNCHANGED)[:300, :1000])
    before = tree_digest(root)
    r = cli("replay", root, "--rectify-only", "--out", tmp_path / "out", "--no-progress")
    assert_one_line_error(r, "image_l/000001.png", "differs from the first frame")
    assert tree_digest(root) == before


# --------------------------------------------------------------------------------- 8: hands.json fields
def _hand(i=0, **fields):
    def edit(d):
        for k, v in fields.items():
            if v is KeyError:
                del d[i][k]
            else:
                d[i][k] = v
    return edit


def _joint(value, j=3):
    def edit(d):
        d[0]["kp2d"][j] = value
    return edit


HANDS = {
    "image_int": (_hand(image=5), "entry 1 of 11", "image"),
    "image_null": (_hand(image=None), "entry 1 of 11", "image"),
    "kp2d_int": (_hand(kp2d=5), "entry 1 of 11", "kp2d"),
    "kp2d_str": (_hand(kp2d="a" * 21), "entry 1 of 11", "kp2d"),
    "joint_short": (_joint([1]), "entry 1 of 11", "joint 3"),
    "joint_str": (_joint(["a", "b"]), "entry 1 of 11", "joint 3"),
    "joint_inf": (_joint([float("inf"), 1.0]), "entry 1 of 11", "joint 3"),
    "joint_nan": (_joint([float("nan"), 1.0]), "entry 1 of 11", "joint 3", "not finite"),
    "joint_nan_y": (_joint([5.0, float("nan")], j=7), "entry 1 of 11", "joint 7", "not finite"),
    "joint_nan_null": (_joint([float("nan"), None], j=0), "entry 1 of 11", "joint 0", "not finite"),
    "no_bbox": (_hand(2, bbox_xyxy=KeyError), "entry 3 of 11", "bbox_xyxy"),
    "bbox_short": (_hand(bbox_xyxy=[1, 2]), "entry 1 of 11", "bbox_xyxy"),
    "bbox_str": (_hand(bbox_xyxy="abc"), "entry 1 of 11", "bbox_xyxy"),
    "bbox_nan": (_hand(bbox_xyxy=[float("nan")] * 4), "entry 1 of 11", "bbox_xyxy"),
    "bbox_inverted": (_hand(bbox_xyxy=[100, 100, 50, 50]), "entry 1 of 11", "inverted"),
    "dataset_list": (_hand(dataset=[1]), "entry 1 of 11", "dataset"),
    "entry_str": (lambda d: d.__setitem__(1, "hello"), "entry 2 of 11", "object"),
    "empty_list": (lambda d: d.clear(), "no annotations", "empty"),
    "kp2d_all_null": (_hand(kp2d=[None] * 21), "entry 1 of 11", "no annotated joint"),
    "kp2d_all_null_pairs": (_hand(4, kp2d=[[None, None]] * 21), "entry 5 of 11", "no annotated joint"),
    "kp2d_all_nan": (_hand(kp2d=[[float("nan"), float("nan")]] * 21), "entry 1 of 11", "joint 0", "not finite"),
}


@pytest.mark.parametrize("case", sorted(HANDS))
def test_hands_json_bad_fields(cli, shared_data, tmp_path, case):
    root = _hands(shared_data, tmp_path)
    edit, *words = HANDS[case]
    _edit_json(root / "hands.json", edit)
    before = tree_digest(root)
    assert_one_line_error(cli("info", root), "hands.json", *words)
    assert tree_digest(root) == before


def test_hands_json_null_pair_joint_is_a_missing_joint(shared_data, tmp_path):
    """``[null, null]`` (as the OneHand10K entries write a joint without ground truth) is accepted."""
    from hand_tracking.metrics import gt_array
    from passthrough.datasets.handkp import load_hand_annotations

    root = _hands(shared_data, tmp_path)
    _edit_json(root / "hands.json", _joint([None, None], j=0))
    e = load_hand_annotations(root)[0]
    gt = gt_array(e["kp2d"])
    assert gt.shape == (21, 2) and np.isnan(gt[0]).all() and np.isfinite(gt[1:]).all()


def test_hands_json_hand_with_one_annotated_joint_is_accepted(cli, shared_data, tmp_path):
    """Partial visibility stays legitimate: only a hand with no annotated joint at all is refused."""
    root = _hands(shared_data, tmp_path)
    _edit_json(root / "hands.json", lambda d: d[0].__setitem__("kp2d", [d[0]["kp2d"][0]] + [None] * 20))
    r = cli("info", root)
    assert r.returncode == 0, r.stderr
    assert "hands: 11" in r.stdout


def test_hands_json_image_paths_stay_inside_the_folder(cli, shared_data, tmp_path):
    """Image paths are relative to the folder of hands.json: an absolute path, or one whose ``..`` leads
    out of the folder, is refused even where the file exists; a ``..`` that stays inside is fine."""
    root = _hands(shared_data, tmp_path)
    outside = tmp_path / "elsewhere.jpg"
    shutil.copy(root / "images/freihand/00050180.jpg", outside)
    original = (root / "hands.json").read_text()
    for image, word in ((str(outside), "absolute path"), ("../elsewhere.jpg", "outside the folder"),
                        ("images/../../elsewhere.jpg", "outside the folder")):
        (root / "hands.json").write_text(original)
        _edit_json(root / "hands.json", _hand(1, image=image))
        before = tree_digest(root)
        assert_one_line_error(cli("info", root), "hands.json", "entry 2 of 11", word, image)
        assert tree_digest(root) == before
    (root / "hands.json").write_text(original)
    _edit_json(root / "hands.json", _hand(1, image="images/../images/freihand/00050180.jpg"))
    r = cli("info", root)
    assert r.returncode == 0, r.stderr


def test_hand_metrics_refuse_malformed_annotations_with_value_error():
    from hand_tracking.metrics import bbox_size, gt_array

    for bad in (5, "a" * 21, [[1]] * 21, [["a", "b"]] * 21):
        with pytest.raises(ValueError):
            gt_array(bad)
    for bad in ([1, 2], "abc", None):
        with pytest.raises(ValueError):
            bbox_size(bad)


# ----------------------------------------------------------------------------------- 9: rig.json fields
def _gt_field(key, value):
    return lambda d: d["ground_truth_disparity"].__setitem__(key, value)


RIG = {
    "targets_int": (lambda d: d.__setitem__("targets", 5), "targets"),
    "targets_null": (lambda d: d.__setitem__("targets", None), "targets"),
    "targets_empty": (lambda d: d.__setitem__("targets", []), "targets is empty"),
    "gt_view_list": (_gt_field("view", ["x"]), "ground_truth_disparity.view"),
    "gt_scale_str": (_gt_field("scale", "x"), "ground_truth_disparity.scale"),
    "gt_baseline0": (_gt_field("baseline", 0), "ground_truth_disparity.baseline"),
    "width_inf": (lambda d: d.__setitem__("width", float("inf")), "width"),
    "width_str": (lambda d: d.__setitem__("width", "384"), "width must be a number"),
    "height_bool": (lambda d: d.__setitem__("height", True), "height must be a number"),
    "T_3rows": (lambda d: d["cameras"]["tsukuba2.png"].__setitem__(
        "T_world_from_camera", d["cameras"]["tsukuba2.png"]["T_world_from_camera"][:3]),
        "cameras.tsukuba2.png.T_world_from_camera must be a 4x4 matrix"),
    "T_short_row": (lambda d: d["cameras"]["tsukuba1.png"]["T_world_from_camera"].__setitem__(3, [0, 0, 1]),
                    "row 4 has 3 values"),
    "T_flat": (lambda d: d["cameras"]["tsukuba1.png"].__setitem__("T_world_from_camera", [1, 0, 0, 0] * 4),
               "T_world_from_camera must be a 4x4 matrix"),
    "T_str_value": (lambda d: d["cameras"]["tsukuba5.png"]["T_world_from_camera"][0].__setitem__(3, "0.4"),
                    "tsukuba5.png.T_world_from_camera"),
    "K_str_value": (lambda d: d["cameras"]["tsukuba1.png"]["K"][0].__setitem__(0, "400"), "tsukuba1.png.K"),
    "K_4x4": (lambda d: d["cameras"]["tsukuba1.png"].__setitem__("K", np.eye(4).tolist()),
              "tsukuba1.png.K must be a 3x3 matrix"),
    "K_number": (lambda d: d["cameras"]["tsukuba1.png"].__setitem__("K", 400), "tsukuba1.png.K"),
    "K_f0": (lambda d: d["cameras"]["tsukuba1.png"]["K"][0].__setitem__(0, 0.0), "focal length"),
    "inputs_same": (lambda d: d["inputs"].__setitem__("right", d["inputs"]["left"]), "same camera"),
    "inputs_swapped": (lambda d: d.__setitem__("inputs", {"left": d["inputs"]["right"], "right": d["inputs"]["left"]}),
                       "swapped"),
    # a vertical pair: the right input above the left one (rectified rows would be columns)
    "inputs_vertical": (lambda d: d["cameras"][d["inputs"]["right"]]["T_world_from_camera"][0].__setitem__(
        3, d["cameras"][d["inputs"]["left"]]["T_world_from_camera"][0][3]) or
        d["cameras"][d["inputs"]["right"]]["T_world_from_camera"][1].__setitem__(3, -0.1), "side-by-side"),
}


@pytest.mark.parametrize("case", sorted(RIG))
def test_rig_json_bad_fields(cli, shared_data, tmp_path, case):
    root = _tsukuba(shared_data, tmp_path)
    edit, word = RIG[case]
    _edit_json(root / "rig.json", edit)
    before = tree_digest(root)
    assert_one_line_error(cli("info", root), "rig.json", word)
    assert tree_digest(root) == before


def test_rig_json_without_targets_is_refused_by_eval(cli, shared_data, tmp_path):
    root = _tsukuba(shared_data, tmp_path)
    _edit_json(root / "rig.json", lambda d: d.__setitem__("targets", []))
    assert_one_line_error(cli("eval", "reprojection", "--dataset", root, "--repeats", "1", "--out", tmp_path / "o"),
                    "rig.json", "targets")


# ---------------------------------------------------------------------------- 10: KITTI 2015 ground truth
def _kitti2015(tmp_path, occ=None, noc=None) -> Path:
    """A tiny KITTI 2015 folder (random 64x48 pair, valid 16-bit ground truth unless replaced)."""
    root = tmp_path / "kitti2015"
    for d in ("image_2", "image_3", "disp_occ_0", "disp_noc_0"):
        (root / d).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for d in ("image_2", "image_3"):
        cv2.imwrite(str(root / d / "000000_10.png"), rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    good = np.zeros((48, 64), np.uint16)
    good[10:40, 10:50] = 5 * 256
    cv2.imwrite(str(root / "disp_occ_0" / "000000_10.png"), good if occ is None else occ)
    cv2.imwrite(str(root / "disp_noc_0" / "000000_10.png"), good if noc is None else noc)
    return root


KITTI_GT = {
    "occ_wrong_size": ("occ", np.full((10, 10), 256, np.uint16), "differs from the image"),
    "occ_color": ("occ", np.full((48, 64, 3), 256, np.uint16), "single-channel"),
    "occ_8bit": ("occ", np.full((48, 64), 5, np.uint8), "16-bit"),
    "occ_all_zero": ("occ", np.zeros((48, 64), np.uint16), "no valid pixels"),
    "noc_wrong_size": ("noc", np.full((10, 10), 256, np.uint16), "differs from the image"),
}


@pytest.mark.parametrize("case", sorted(KITTI_GT))
def test_kitti2015_bad_ground_truth_names_the_png(tmp_path, case):
    which, img, word = KITTI_GT[case]
    root = _kitti2015(tmp_path, **{which: img})
    src = open_source(root)
    assert isinstance(src, Kitti2015Source)
    with pytest.raises(InputError) as exc:
        next(iter(src))
    sub = "disp_occ_0" if which == "occ" else "disp_noc_0"
    assert exc.value.path == root / sub / "000000_10.png" and word in exc.value.message


def test_kitti2015_bad_ground_truth_in_eval_depth_is_one_line(cli, tmp_path):
    root = _kitti2015(tmp_path, occ=np.full((48, 64, 3), 256, np.uint16))
    r = cli("eval", "depth", "--dataset", root, "--repeat", "1", "--num-disparities", "16", "--out", tmp_path / "o")
    assert_one_line_error(r, "disp_occ_0/000000_10.png", "single-channel")


def test_kitti2015_projection_row_with_too_few_values(cli, tmp_path):
    root = _kitti2015(tmp_path)
    (root / "calib_cam_to_cam").mkdir()
    (root / "calib_cam_to_cam" / "000000.txt").write_text("P_rect_02: 1 2 3\nP_rect_03: 1 2 3\n")
    assert_one_line_error(cli("info", root), "000000.txt", "P_rect_02", "3 values")


def test_disparity_metrics_refuse_mismatched_arrays_with_value_error():
    from passthrough.depth.metrics import disparity_metrics

    est = np.ones((4, 6), np.float32)
    with pytest.raises(ValueError, match="single-channel"):
        disparity_metrics(est, np.ones((4, 6, 3), np.float32))
    with pytest.raises(ValueError, match="mask"):
        disparity_metrics(est, np.ones((4, 6), np.float32), mask=np.ones((2, 2), bool))
    with pytest.raises(ValueError, match="no pixels"):
        disparity_metrics(est, np.full((4, 6), np.nan, np.float32))


# --------------------------------------------------------------------- 12: own-format rig.json in pairs
def test_pairs_folder_with_own_format_rig_json(cli, shared_data, tmp_path):
    """pairs.py documents ``rig.json`` (StereoRig.to_dict) as a pairs calibration: such a folder is a pairs
    folder, not a broken rig-v1 set; the file itself opens the folder too."""
    root = _own_format(shared_data, tmp_path, "rig.json")
    for target in (root, root / "rig.json"):
        src = open_source(target)
        assert src.format == "stereo-pairs" and len(src) == 1
        assert src.rig.baseline_m == pytest.approx(0.075)
    r = cli("info", root)
    assert r.returncode == 0, r.stderr
    assert "stereo-pairs" in r.stdout and "75.0 mm" in r.stdout
    assert_one_line_error(cli("eval", "reprojection", "--dataset", root, "--repeats", "1", "--out", tmp_path / "o"),
                    "rig.json", "not a rig-v1 set")


def test_real_datasets_still_open(shared_data):
    """The checks refuse none of the published sets."""
    for rel in (MOTORCYCLE, "stereo/eth3d-terrace_2s", "stereo/sceneflow-flyingthings3d-A-0032-0006", KITTI,
                EUROC, OAKD, TSUKUBA):
        src = open_source(shared_data / rel)
        assert src.rig.baseline_m > 0 and src.rig.focal_px > 0, rel


def test_kitti2015_reads_the_official_calibration_layout(tmp_path):
    """The official calib_cam_to_cam files start with a text line (calib_time) before the numbers."""
    from passthrough.datasets import open_source

    root = _kitti2015(tmp_path)
    (root / "calib_cam_to_cam").mkdir()
    # the KITTI 2015 rows scaled to the 64x48 test images (a tenth of the focal length and of fx * Tx)
    P2 = "7.215377e+01 0.000000e+00 3.200000e+01 4.485728e+00 0 7.215377e+01 2.400000e+01 2.163791e-02 0 0 1 2.745884e-03"
    P3 = "7.215377e+01 0.000000e+00 3.200000e+01 -3.395242e+01 0 7.215377e+01 2.400000e+01 2.199936e-01 0 0 1 2.729905e-03"
    (root / "calib_cam_to_cam" / "000000.txt").write_text(
        f"calib_time: 09-Jan-2012 13:57:47\ncorner_dist: 9.950000e-02\nS_00: 1.392000e+03 5.120000e+02\n"
        f"P_rect_02: {P2}\nP_rect_03: {P3}\n")
    rig = next(iter(open_source(root))).rig
    assert rig.baseline_m == pytest.approx((339.5242 + 44.85728) / 721.5377, rel=1e-6)
    (root / "calib_cam_to_cam" / "000000.txt").write_text(f"P_rect_02: {P2}\nP_rect_03: 09-Jan-2012\n")
    with pytest.raises(InputError, match="line 2: not numbers"):
        next(iter(open_source(root)))
