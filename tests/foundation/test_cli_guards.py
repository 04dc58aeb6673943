"""Guards every command shares, before any work: numeric options in range, output files that neither
overwrite nor land inside the inputs and can be written, system refusals as one line, and a few inputs
that used to crash deep inside (16-bit images, head paths, unknown depth methods)."""

import hashlib
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from passthrough.testing import assert_one_line_error, tree_digest

KITTI = "sequences/kitti-odometry-excerpt-frames000-025"
MOTORCYCLE = "stereo/middlebury2014-Motorcycle-Q"
HANDS = "hands/"  # the trailing slash keeps it apart from the subcommand's name
TSUKUBA = "views/middlebury2001-tsukuba"


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("args, flag", [
    (["replay", KITTI, "--display-hz", "0"], "--display-hz"),
    (["replay", KITTI, "--display-hz", "-90"], "--display-hz"),  # used to hang the scheduler
    (["replay", KITTI, "--display-hz", "inf"], "--display-hz"),  # used to hang too
    (["replay", KITTI, "--ipd-mm", "nan"], "--ipd-mm"),  # used to reach the ONNX model as NaN geometry
    (["replay", KITTI, "--eye-relief-mm", "-1000"], "--eye-relief-mm"),
    (["replay", KITTI, "--rectify-only", "--previews", "-2"], "--previews"),
    (["replay", KITTI, "--frames", "-5"], "--frames"),
    (["demo", "--frames", "0"], "--frames"),
    (["record", KITTI, "--frames", "0"], "--frames"),
    (["eval", "depth", "--dataset", MOTORCYCLE, "--threads", "99999999999"], "--threads"),
    (["bench", "pipeline", "--camera-hz", "inf"], "--camera-hz"),
    (["bench", "pipeline", "--exposure-ms", "nan"], "--exposure-ms"),
    (["eval", "hands", "--dataset", HANDS, "--repeat", "0"], "--repeat"),  # used to report times of no run
    (["eval", "reprojection", "--dataset", TSUKUBA, "--repeats", "0"], "--repeats"),
    (["eval", "reprojection", "--dataset", TSUKUBA, "--crop", "-1"], "--crop"),
    (["run", "--source", KITTI, "--near", "10", "--far", "1"], "--far"),  # near >= far: a singular projection
    (["run", "--source", KITTI, "--near", "nan"], "--near"),
    (["run", "--source", KITTI, "--stall-timeout", "0"], "--stall-timeout"),
])
def test_out_of_range_numbers_are_one_line_before_any_work(cli, shared_data, tmp_path, args, flag):
    args = [str(shared_data / a) if a in (KITTI, MOTORCYCLE, HANDS, TSUKUBA) else a for a in args]
    if args[0] in ("replay", "demo", "record"):
        args += ["--out", str(tmp_path / "out")]
    r = cli(*args, timeout=120)
    assert_one_line_error(r, flag)
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_json_never_overwrites_or_lands_in_the_input(cli, copy_of):
    hands = copy_of("hands")
    before = _md5(hands / "hands.json")
    r = cli("eval", "hands", "--dataset", hands, "--json", hands / "hands.json")
    assert_one_line_error(r, "--json", "input")
    r = cli("eval", "hands", "--dataset", hands, "--json", hands / "new" / "results.json")
    assert_one_line_error(r, "--json", "input folder")
    assert _md5(hands / "hands.json") == before and not (hands / "new").exists()


def test_overlay_never_overwrites_an_input_image_and_needs_an_image_format(cli, shared_data, tmp_path):
    oakd = shared_data / "stereo/oakd-pairs"
    left = tmp_path / "left.png"
    shutil.copy(oakd / "pov_hands_left.png", left)
    before = _md5(left)
    base = ["eval", "hands", "--stereo", left, oakd / "pov_hands_right.png",
            "--calibration", oakd / "stereodemo_calibration.json"]
    assert_one_line_error(cli(*base, "--overlay", left), "--overlay", "input file")
    assert_one_line_error(cli(*base, "--overlay", tmp_path / "overlay.txt"), "--overlay", ".txt")
    assert _md5(left) == before


def test_plot_format_is_checked_before_the_run(cli, tmp_path):
    r = cli("bench", "pipeline", "--plot", tmp_path / "timeline.xyz", timeout=120)
    assert_one_line_error(r, "--plot", ".xyz")


def test_a_folder_the_system_refuses_is_one_line(cli, shared_data, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    r = cli("eval", "depth", "--dataset", shared_data / MOTORCYCLE, "--out", afile / "sub", timeout=120)
    assert_one_line_error(r, "afile")
    r = cli("build-models", "--cache-dir", afile, timeout=120)
    assert_one_line_error(r, "afile")
    assert afile.read_text() == "mine\n"


def test_a_refused_run_leaves_no_folder_and_output_paths_are_checked_first(cli, shared_data, tmp_path):
    """A --json/--plot folder is made when the file is written: a run refused for another reason leaves
    none; a link to a missing location, or a folder that takes no files, is refused before the run; a
    write the system refuses at the end names the file."""
    r = cli("bench", "depth", "--frames", "2", "--plot", tmp_path / "nodir" / "x.png", timeout=120)
    assert_one_line_error(r, "--plot")
    r = cli("eval", "reprojection", "--dataset", shared_data / TSUKUBA, "--json", tmp_path / "nd" / "x.json",
            "--crop", "1000", timeout=120)
    assert_one_line_error(r, "--crop")
    assert not (tmp_path / "nodir").exists() and not (tmp_path / "nd").exists()
    dangling = tmp_path / "dang.json"
    dangling.symlink_to(tmp_path / "missing" / "x.json")
    assert_one_line_error(cli("bench", "depth", "--frames", "2", "--json", dangling), "dang.json", "missing location")
    out = tmp_path / "dangout"
    out.symlink_to(tmp_path / "missing_out")
    assert_one_line_error(cli("replay", shared_data / KITTI, "--out", out, "--frames", "2"), "dangout",
                          "missing location")
    assert_one_line_error(cli("bench", "depth", "--frames", "2", "--json", "/proc/x.json"), "/proc", "--json",
                          "takes no new files")
    if os.path.exists("/dev/full"):  # a full disk: the write itself fails, after the run
        assert_one_line_error(cli("bench", "depth", "--frames", "2", "--warmup", "1", "--json", "/dev/full",
                                  timeout=300), "/dev/full", "cannot write")
    assert not (tmp_path / "missing").exists() and not (tmp_path / "missing_out").exists()


def test_empty_out_is_refused_instead_of_writing_into_the_current_folder(cli, shared_data, tmp_path):
    mine = tmp_path / "x_sgm_aniso_disparity.png"
    mine.write_bytes(b"user data")
    r = cli("eval", "depth", "--dataset", shared_data / MOTORCYCLE, "--out", "", cwd=tmp_path, timeout=120)
    assert_one_line_error(r, "--out")
    assert mine.read_bytes() == b"user data" and sorted(p.name for p in tmp_path.iterdir()) == [mine.name]


def test_disparity_range_must_fit_the_image(cli, shared_data):
    r = cli("eval", "depth", "--dataset", shared_data / MOTORCYCLE, "--num-disparities", "100000", timeout=300)
    assert_one_line_error(r, "disparity range", "width")


def test_unknown_depth_method_in_the_pipeline_is_one_line(cli, shared_data, tmp_path):
    r = cli("replay", shared_data / KITTI, "--out", tmp_path / "out", "--frames", "2", "--no-hands",
            "--depth-method", "foo", timeout=300)
    assert_one_line_error(r, "--depth-method", "foo", "sgm_aniso")


@pytest.mark.parametrize("rows, words", [
    (["1.0 0 0 0 0 0 0 1", "0.5 0 0 0 0 0 0 1"], ("timestamps not increasing",)),  # backwards
    (["0.0 0 0 0 0 0 0 1", "0.1 0 0 0 0 0 0 0"], ("pose 2", "quaternion")),  # zero quaternion
    (["0.0 0 0 0 0 0 0 1", "0.1 nan 0 0 0 0 0 1"], ("pose 2", "finite")),
    # ASL CSV (timestamp ns, p_xyz, q_wxyz): the file line is named too
    (["#t,px,py,pz,qw,qx,qy,qz", "0,0,0,0,1,0,0,0", "100,0,0,0,0,0,0,0"], ("line 3 (pose 2)", "quaternion is zero")),
])
def test_bad_head_path_files_are_one_line(cli, shared_data, tmp_path, rows, words):
    path = tmp_path / ("poses.csv" if rows[0].startswith("#") else "poses.txt")
    path.write_text("\n".join(rows) + "\n")
    r = cli("replay", shared_data / KITTI, "--out", tmp_path / "out", "--frames", "2", "--no-hands",
            "--head-path", path, timeout=300)
    assert_one_line_error(r, path.name, *words)


def test_bad_stereo_calibration_for_eval_hands_is_one_line(cli, shared_data, tmp_path):
    oakd = shared_data / "stereo/oakd-pairs"
    import json

    calib = json.loads((oakd / "stereodemo_calibration.json").read_text())
    calib["baseline_meters"] = 0.0
    bad = tmp_path / "calib.json"
    bad.write_text(json.dumps(calib))
    r = cli("eval", "hands", "--stereo", oakd / "pov_hands_left.png", oakd / "pov_hands_right.png",
            "--calibration", bad, timeout=300)
    assert_one_line_error(r, "calib.json", "baseline")


def test_run_dump_dir_that_is_a_file_is_one_line_before_the_stage_starts(shared_data, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    r = subprocess.run([sys.executable, "-m", "openxr_app", "run", "--source", str(shared_data / KITTI),
                        "--dump-frame", "3", "--dump-dir", str(afile)], capture_output=True, text=True, timeout=300)
    assert_one_line_error(r, "afile")
    assert afile.read_text() == "mine\n"


def test_run_early_image_needs_the_pipeline_stage(shared_data):
    r = subprocess.run([sys.executable, "-m", "openxr_app", "run", "--source", str(shared_data / KITTI),
                        "--stage", "raw", "--early-image"], capture_output=True, text=True, timeout=300)
    assert_one_line_error(r, "--early-image", "pipeline")


def test_16_bit_pairs_replay_like_their_8_bit_copies(cli, shared_data, tmp_path):
    """16-bit PNGs (kept as uint16 by the reader) are matched and shown at 8 bits, not refused deep inside."""
    oakd = shared_data / "stereo/oakd-pairs"
    src = tmp_path / "pairs16"
    src.mkdir()
    shutil.copy(oakd / "stereodemo_calibration.json", src)
    for side in ("left", "right"):
        img = cv2.imread(str(oakd / f"desk_{side}.png"), cv2.IMREAD_UNCHANGED)
        cv2.imwrite(str(src / f"desk_{side}.png"), img.astype(np.uint16) * 257)
    r = cli("replay", src, "--out", tmp_path / "out", "--frames", "2", "--no-hands", "--no-png", timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Traceback" not in r.stderr


def test_more_bad_arguments_are_one_line(cli, shared_data, tmp_path):
    tsukuba = shared_data / "views/middlebury2001-tsukuba"
    assert_one_line_error(cli("eval", "reprojection", "--dataset", tsukuba, "--crop", "144", timeout=120), "--crop", "384x288")
    assert_one_line_error(cli("eval", "depth", "--dataset", shared_data / MOTORCYCLE, "--method", ",", timeout=120), "--method")
    assert_one_line_error(cli("bench", "depth", "--plot", tmp_path / "p.png", timeout=120), "--plot")
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    assert_one_line_error(cli("record", shared_data / KITTI, "--out", afile, timeout=120), "is a file")
    assert afile.read_text() == "mine\n"


def test_bad_hologram_files_are_one_line(cli, shared_data, tmp_path):
    ply = tmp_path / "bad.ply"
    ply.write_text("garbage\n")  # open3d's reader would print its own line first
    folder = tmp_path / "dir.obj"
    folder.mkdir()
    for mesh, words in ((ply, ("bad.ply", "PLY")), (folder, ("dir.obj", "folder"))):
        r = cli("replay", shared_data / KITTI, "--out", tmp_path / "out", "--frames", "2", "--no-hands",
                "--hologram", mesh, timeout=300)
        assert_one_line_error(r, *words)
    yml = tmp_path / "bad.yaml"
    yml.write_text("boxes:\n  - [1, 2\n  x: }\n")  # PyYAML's message spans four lines
    r = subprocess.run([sys.executable, "-m", "openxr_app", "run", "--source", str(shared_data / KITTI),
                        "--hologram", str(yml)], capture_output=True, text=True, timeout=300)
    assert_one_line_error(r, "bad.yaml", "cannot parse")


def test_a_grey_and_a_colour_view_are_matched_and_scored(cli, shared_data, tmp_path):
    """Middlebury with a grey right image, rig-v1 with a grey input view: they run (as grey), not crash."""
    mb = tmp_path / "mb"
    shutil.copytree(shared_data / MOTORCYCLE, mb)
    im1 = mb / "im1.png"
    cv2.imwrite(str(im1), cv2.imread(str(im1), cv2.IMREAD_GRAYSCALE))
    r = cli("eval", "depth", "--dataset", mb, "--out", tmp_path / "d", "--repeat", "1", timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    rig = tmp_path / "tsukuba"
    shutil.copytree(shared_data / "views/middlebury2001-tsukuba", rig)
    view = rig / "tsukuba1.png"
    cv2.imwrite(str(view), cv2.imread(str(view), cv2.IMREAD_GRAYSCALE))
    r = cli("eval", "reprojection", "--dataset", rig, "--out", tmp_path / "r", "--repeats", "1", timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]


def test_a_pairs_folder_without_calibration_takes_calibration(cli, shared_data, tmp_path):
    oakd = shared_data / "stereo/oakd-pairs"
    pairs = tmp_path / "pairs"
    pairs.mkdir()
    for side in ("left", "right"):
        shutil.copy(oakd / f"desk_{side}.png", pairs)
    assert_one_line_error(cli("info", pairs), "no calibration", "--calibration")
    r = cli("info", pairs, "--calibration", oakd / "stereodemo_calibration.json")
    assert r.returncode == 0 and "baseline 75.0 mm" in r.stdout, r.stderr


def test_a_corrupt_video_is_one_line_without_ffmpeg_chatter(shared_data, tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)  # an MP4 header, no moov atom
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_FFMPEG_LOGLEVEL"}  # FFmpeg's default logging
    r = subprocess.run([sys.executable, "-m", "passthrough", "info", str(video), "--calibration",
                        str(shared_data / "stereo/oakd-pairs/stereodemo_calibration.json")],
                       capture_output=True, text=True, env=env, timeout=120)
    assert_one_line_error(r, "clip.mp4")


def test_a_calibration_for_another_image_size_and_a_nan_mesh_are_one_line(cli, shared_data, tmp_path):
    import json

    oakd = shared_data / "stereo/oakd-pairs"
    calib = json.loads((oakd / "stereodemo_calibration.json").read_text())
    calib.update(width=1280, height=720)
    other = tmp_path / "calib720.json"
    other.write_text(json.dumps(calib))
    r = cli("eval", "hands", "--stereo", oakd / "pov_hands_left.png", oakd / "pov_hands_right.png",
            "--calibration", other, timeout=300)
    assert_one_line_error(r, "calib720.json", "1280x720", "640x480")
    mesh = tmp_path / "nan.obj"
    mesh.write_text("v 0 0 0\nv 1 0 nan\nv 0 1 0\nf 1 2 3\n")
    r = cli("replay", shared_data / KITTI, "--out", tmp_path / "out", "--frames", "2", "--no-hands",
            "--hologram", mesh, timeout=300)
    assert_one_line_error(r, "nan.obj", "not finite")


def test_an_output_folder_inside_the_input_is_refused(cli, copy_of, shared_data):
    kitti = copy_of(KITTI)
    before = tree_digest(kitti)
    r = cli("replay", kitti, "--out", kitti / "out", "--frames", "2", timeout=120)
    assert_one_line_error(r, "--out", "inside the input folder")
    assert tree_digest(kitti) == before and not (kitti / "out").exists()


def test_a_data_set_named_by_its_file_protects_its_folder(cli, copy_of, tmp_path):
    """A rig-v1 set named by its rig.json, the hand photos by hands.json: outputs never land beside them."""
    tsukuba, hands = copy_of("views/middlebury2001-tsukuba"), copy_of("hands")
    before = tree_digest(tsukuba), tree_digest(hands)
    r = cli("replay", tsukuba / "rig.json", "--out", tsukuba / "out", "--frames", "2", timeout=120)
    assert_one_line_error(r, "--out", "inside the input folder")
    r = cli("eval", "reprojection", "--dataset", tsukuba / "rig.json", "--json", tsukuba / "r.json", timeout=120)
    assert_one_line_error(r, "--json", "inside the input folder")
    r = cli("eval", "hands", "--dataset", hands / "hands.json", "--json", hands / "x.json", timeout=120)
    assert_one_line_error(r, "--json", "inside the input folder")
    assert (tree_digest(tsukuba), tree_digest(hands)) == before


@pytest.mark.parametrize("command", ["info", "replay"])
def test_a_missing_or_unused_calibration_file_is_one_line(cli, shared_data, tmp_path, command):
    out = ["--out", tmp_path / "out"] if command == "replay" else []
    r = cli(command, shared_data / TSUKUBA, *out, "--calibration", tmp_path / "nonexistent.json")
    assert_one_line_error(r, "nonexistent.json", "--calibration", "no such file")
    # a real calibration file for data that carries its own would be silently unused
    cal = shared_data / "stereo/oakd-pairs/stereodemo_calibration.json"
    assert_one_line_error(cli(command, shared_data / KITTI, *out, "--calibration", cal), "its own calibration")
    assert not (tmp_path / "out").exists()


def test_synth_never_writes_into_its_texture_data(cli, copy_of, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copytree(copy_of("stereo/middlebury2014-Motorcycle-Q"), data / "stereo" / "middlebury2014-Motorcycle-Q")
    before = tree_digest(data)
    r = cli("synth", "--data", data, "--out", data / "stereo" / "new", "--width", "96", "--height", "64",
            "--supersample", "1", timeout=120)
    assert_one_line_error(r, "--out", "inside the input folder")
    assert tree_digest(data) == before


def test_a_principal_point_far_outside_the_image_is_one_line(cli, copy_of):
    import json

    pairs = copy_of("stereo/oakd-pairs")
    calib_path = pairs / "stereodemo_calibration.json"
    calib = json.loads(calib_path.read_text())
    calib["cx0"] = 1e6
    calib_path.write_text(json.dumps(calib))
    assert_one_line_error(cli("info", pairs), "stereodemo_calibration.json", "principal point")


def _side_by_side_device(shared_data, path, frames=2):
    """A side-by-side MJPG video standing in for a live stereo camera (OpenCV opens it as a device)."""
    oakd = shared_data / "stereo/oakd-pairs"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15.0, (1280, 480))
    for _ in range(frames):
        pair = [cv2.imread(str(oakd / f"desk_{side}.png")) for side in ("left", "right")]
        w.write(np.hstack(pair))
    w.release()
    return path


def test_a_camera_that_does_not_match_its_calibration_is_one_line(cli, shared_data, tmp_path):
    """``run --source camera:`` with a calibration made for another image size: the first frame's
    rectification ended in a bare ValueError traceback from calibration.rectify."""
    import json

    dev = _side_by_side_device(shared_data, tmp_path / "dev.avi")
    calib = json.loads((shared_data / "stereo/oakd-pairs/stereodemo_calibration.json").read_text())
    calib.update(width=320, height=240)
    other = tmp_path / "calib320.json"
    other.write_text(json.dumps(calib))
    r = cli("run", "--source", f"camera:{dev}", "--calibration", other, timeout=300)
    assert_one_line_error(r, "calib320.json", "640x480", "320x240")



def test_a_rerun_never_removes_the_images_it_reads(cli, copy_of, tmp_path):
    """A rig-v1 set may name images anywhere (``../ev0/...``): one naming an earlier run's outputs must not
    lose them when that run's folder is given as ``--out`` again (the earlier outputs are removed first)."""
    import json

    tsukuba = copy_of("views/middlebury2001-tsukuba")
    first = tmp_path / "ev0"
    r = cli("eval", "reprojection", "--dataset", tsukuba, "--out", first, "--repeats", "1", timeout=300)
    assert r.returncode == 0, r.stderr
    made = sorted((first / tsukuba.name).iterdir())
    rig = json.loads((tsukuba / "rig.json").read_text())
    for c in rig["cameras"].values():  # the set's own images, from beside it ...
        c["image"] = f"../{tsukuba.name}/{c['image']}"
    # ... except its left input: the first run's rendering of view 2 (a real image of the right size)
    rig["cameras"][rig["inputs"]["left"]]["image"] = f"../ev0/{tsukuba.name}/tsukuba2_real.png"
    (tmp_path / "rerig").mkdir()
    rig.pop("ground_truth_disparity", None)
    (tmp_path / "rerig" / "rig.json").write_text(json.dumps(rig))
    before = tree_digest(first)
    r = cli("eval", "reprojection", "--dataset", tmp_path / "rerig", "--out", first, "--repeats", "1", timeout=300)
    assert_one_line_error(r, "ev0", "holds files this command reads", "_real.png")
    r = cli("replay", tmp_path / "rerig", "--out", first, "--frames", "2", "--no-hands", timeout=300)
    assert_one_line_error(r, "ev0", "files this command")  # not a replay's outputs either
    assert tree_digest(first) == before and sorted((first / tsukuba.name).iterdir()) == made
    # the same set evaluated into a new folder works: its inputs are only read
    r = cli("eval", "reprojection", "--dataset", tmp_path / "rerig", "--out", tmp_path / "ev1", "--repeats", "1",
            timeout=300)
    assert r.returncode == 0, r.stderr


def test_a_video_in_the_current_folder_is_one_input_not_the_whole_folder(cli, shared_data, tmp_path):
    """A video named as the data set is an input file with its calibration beside it, not a data-set
    folder: results go into a new sub-folder of the folder it lies in."""
    _side_by_side_device(shared_data, tmp_path / "sbs.avi")
    shutil.copy(shared_data / "stereo/oakd-pairs/stereodemo_calibration.json", tmp_path / "sbs.json")
    r = cli("record", "sbs.avi", "--out", "rec", "--frames", "2", cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "rec").is_dir()
    r = cli("record", "sbs.avi", "--out", "sbs.json", "--frames", "2", cwd=tmp_path, timeout=300)
    assert r.returncode != 0 and (tmp_path / "sbs.json").is_file()  # its calibration is an input: kept
    (tmp_path / "notes.txt").write_text("not a data set")
    r = cli("eval", "reprojection", "--dataset", "notes.txt", "--out", "e2", cwd=tmp_path, timeout=120)
    assert_one_line_error(r, "notes.txt")  # the real problem, not "--out is inside the input folder ."
    assert "inside the input folder" not in r.stderr


def test_a_camera_that_does_not_open_is_one_line_without_opencv_warnings(cli, shared_data, tmp_path):
    cal = shared_data / "stereo/oakd-pairs/stereodemo_calibration.json"
    r = cli("record", "camera:97", "--out", tmp_path / "rec", "--frames", "2", "--calibration", cal, timeout=120)
    assert_one_line_error(r, "camera:97", "cannot open")  # not V4L2's "[ WARN:0@0.2] ... can't open camera" first


@pytest.mark.parametrize("argv, flag", [
    (["info", ""], "argument 2"),
    (["build-models", "--cache-dir", "", "--only", "demo-data"], "--cache-dir"),
    (["eval", "reprojection", "--dataset="], "--dataset"),
    (["info", "DATA/stereo/oakd-pairs", "--calibration", ""], "--calibration"),
])
def test_an_empty_argument_is_refused_not_taken_for_the_current_folder(cli, shared_data, tmp_path, argv, flag):
    argv = [a.replace("DATA", str(shared_data)) for a in argv]
    r = cli(*argv, cwd=tmp_path, timeout=60)
    assert_one_line_error(r, flag, "empty")
    assert list(tmp_path.iterdir()) == []


def test_a_json_file_that_names_the_out_folder_is_refused_before_the_run(cli, shared_data, tmp_path):
    out = tmp_path / "e8"
    r = cli("eval", "reprojection", "--dataset", shared_data / TSUKUBA, "--out", out, "--json", out, timeout=120)
    assert_one_line_error(r, "--json", "--out")
    assert not out.exists()  # refused before anything was made
    # inside it: the next run into that folder would stop at the file it did not write
    r = cli("eval", "reprojection", "--dataset", shared_data / TSUKUBA, "--out", out, "--json", out / "r.json", timeout=120)
    assert_one_line_error(r, "--json", "inside the --out folder")
    assert not out.exists()
