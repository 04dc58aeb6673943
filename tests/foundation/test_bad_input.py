"""Bad input: one clear line naming the file and the problem, exit code 2, input untouched."""

import shutil

import cv2
import pytest

from passthrough.testing import assert_one_line_error, tree_digest


def _euroc(copy_of):
    return copy_of("sequences/euroc-MH_01_easy-first5")


def _first_png(root):
    return sorted((root / "mav0/cam0/data").glob("*.png"))[0]


@pytest.mark.parametrize("command", ["info", "replay"])
def test_truncated_image(cli, copy_of, tmp_path, command):
    root = _euroc(copy_of)
    png = sorted((root / "mav0/cam1/data").glob("*.png"))[2]
    png.write_bytes(png.read_bytes()[: png.stat().st_size // 2])
    before = tree_digest(root)
    args = [command, root] + (["--out", tmp_path / "out", "--no-progress"] if command == "replay" else [])
    r = cli(*args)
    if command == "info":  # info only reads calibration and indexes: it must still work
        assert r.returncode == 0
    else:
        assert_one_line_error(r, png.name, "truncated")
    assert tree_digest(root) == before


def test_corrupt_image(cli, copy_of, tmp_path):
    root = copy_of("stereo/middlebury2014-Motorcycle-Q")
    (root / "im1.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 100 + b"IEND\xaeB`\x82")
    assert_one_line_error(cli("replay", root, "--out", tmp_path / "o", "--no-progress"), "im1.png", "corrupt")


def test_missing_file_named_in_data_csv(cli, copy_of, tmp_path):
    root = _euroc(copy_of)
    missing = _first_png(root)
    missing.unlink()
    assert_one_line_error(cli("replay", root, "--out", tmp_path / "o", "--no-progress"), missing.name, "not found")


def test_missing_calibration_key(cli, copy_of):
    root = _euroc(copy_of)
    y = root / "mav0/cam1/sensor.yaml"
    y.write_text("\n".join(l for l in y.read_text().splitlines() if not l.startswith("intrinsics")))
    assert_one_line_error(cli("info", root), "cam1/sensor.yaml", "intrinsics")


def test_wrong_calibration_value(cli, copy_of):
    root = _euroc(copy_of)
    y = root / "mav0/cam0/sensor.yaml"
    y.write_text(y.read_text().replace("distortion_model: radial-tangential", "distortion_model: banana"))
    assert_one_line_error(cli("info", root), "cam0/sensor.yaml", "banana")


def test_left_right_size_mismatch(cli, copy_of, tmp_path):
    root = copy_of("stereo/middlebury2014-Motorcycle-Q")
    im1 = cv2.imread(str(root / "im1.png"))
    cv2.imwrite(str(root / "im1.png"), im1[:-10])
    assert_one_line_error(cli("replay", root, "--out", tmp_path / "o", "--no-progress"), "im1.png", "differs")


def test_non_monotonic_timestamps(cli, copy_of):
    root = _euroc(copy_of)
    csvp = root / "mav0/cam0/data.csv"
    lines = csvp.read_text().splitlines()
    lines[2], lines[3] = lines[3], lines[2]
    csvp.write_text("\n".join(lines) + "\n")
    assert_one_line_error(cli("info", root), "cam0/data.csv", "not increasing")


def test_unknown_folder(cli, tmp_path):
    (tmp_path / "random").mkdir()
    (tmp_path / "random" / "notes.txt").write_text("hello")
    assert_one_line_error(cli("info", tmp_path / "random"), "random", "unknown dataset layout")
    assert_one_line_error(cli("info", tmp_path / "nope"), "nope", "no such file")


def test_run_output_paths_must_be_files(cli, shared_data, tmp_path):
    """``passthrough run`` checks its output paths before it looks for an OpenXR runtime."""
    src = shared_data / "stereo" / "middlebury2014-Motorcycle-Q"
    for opt in ("--json", "--frame-log"):
        assert_one_line_error(cli("run", "--source", src, opt, tmp_path), opt, "names a folder")


def test_eval_json_into_a_folder_is_one_line_before_the_run(cli, shared_data, tmp_path):
    """Every command's --json goes through the CLI's one check (it used to be a traceback after the run)."""
    for cmd in (["eval", "depth", "--dataset", shared_data / "stereo" / "middlebury2014-Motorcycle-Q"],
                ["eval", "reprojection", "--dataset", shared_data / "views" / "middlebury2001-tsukuba"],
                ["eval", "hands", "--dataset", shared_data / "hands"]):
        assert_one_line_error(cli(*cmd, "--json", tmp_path), "--json", "names a folder")


def test_record_never_overwrites(cli, shared_data, tmp_path):
    out = tmp_path / "rec"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert_one_line_error(cli("record", shared_data / "stereo/oakd-pairs", "--out", out), "not empty")
    assert (out / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("command", ["replay", "demo"])
def test_replay_and_demo_never_write_into_a_folder_of_other_files(cli, copy_of, tmp_path, command):
    """Pointing --out at the dataset itself (or any folder of the user's) stops before anything is
    written; a folder holding only a previous run's outputs is reused."""
    root = _euroc(copy_of)
    before = tree_digest(root)
    src = [root] if command == "replay" else ["--source", root]
    assert_one_line_error(cli(command, *src, "--out", root, "--no-progress", "--frames", "2"),
                          str(root), "input folder")
    assert tree_digest(root) == before
    out = tmp_path / "out"
    for _ in range(2):  # the second run rewrites the first run's files
        r = cli(command, *src, "--out", out, "--no-progress", "--frames", "2")
        assert r.returncode == 0, r.stderr
    (out / "notes.txt").write_text("mine")
    assert_one_line_error(cli(command, *src, "--out", out, "--no-progress", "--frames", "2"), "notes.txt")
    assert (out / "notes.txt").read_text() == "mine"


def test_a_rerun_leaves_none_of_the_earlier_runs_files(cli, copy_of, tmp_path):
    """Rewriting a folder of its own earlier outputs clears them first: a shorter run leaves no stale eye
    frames, a full replay no previews of an earlier --rectify-only; a stray file in an eye folder is
    the user's, and stops the run before anything is removed."""
    root = _euroc(copy_of)
    out = tmp_path / "out"
    frames = lambda: sorted(p.name for p in (out / "left_eye").iterdir())
    assert cli("replay", root, "--out", out, "--no-progress", "--frames", "4", "--no-hands").returncode == 0
    assert len(frames()) >= 4
    r = cli("replay", root, "--out", out, "--no-progress", "--frames", "2", "--no-hands")
    assert r.returncode == 0, r.stderr
    assert frames() == ["000000.png", "000001.png"]
    r = cli("replay", root, "--out", tmp_path / "rect", "--no-progress", "--frames", "2", "--rectify-only")
    assert r.returncode == 0 and list((tmp_path / "rect").glob("preview_*.png")), r.stderr
    r = cli("replay", root, "--out", tmp_path / "rect", "--no-progress", "--frames", "2", "--no-hands")
    assert r.returncode == 0, r.stderr
    assert not list((tmp_path / "rect").glob("preview*"))
    r = cli("replay", root, "--out", tmp_path / "rect", "--no-progress", "--frames", "2", "--rectify-only")
    assert r.returncode == 0 and not (tmp_path / "rect" / "left_eye").exists(), r.stderr  # no empty eye folders
    (out / "left_eye" / "notes.txt").write_text("mine")
    assert_one_line_error(cli("replay", root, "--out", out, "--no-progress", "--frames", "2"), "left_eye/notes.txt")
    assert (out / "left_eye" / "notes.txt").read_text() == "mine" and frames() == ["000000.png", "000001.png", "notes.txt"]
    # a link among the outputs points at something that is not the command's: it is never followed
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "000000.png").write_bytes(b"a user's photo")
    (out / "left_eye" / "notes.txt").unlink()
    shutil.rmtree(out / "right_eye")
    (out / "right_eye").symlink_to(photos)
    assert_one_line_error(cli("replay", root, "--out", out, "--no-progress", "--frames", "2"), "right_eye")
    assert (photos / "000000.png").read_bytes() == b"a user's photo"


def test_a_failure_mid_run_is_one_line_with_the_progress_bar_on(cli, copy_of, tmp_path):
    """The bar is drawn only on a terminal, so a captured stderr holds just the error line."""
    root = _euroc(copy_of)
    bad = sorted((root / "mav0/cam1/data").glob("*.png"))[2]
    bad.write_bytes(b"")
    for cmd in (["replay", root, "--out", tmp_path / "out", "--no-hands"], ["record", root, "--out", tmp_path / "rec"]):
        assert_one_line_error(cli(*cmd, timeout=300), bad.name)


@pytest.mark.parametrize("args, words", [
    (["replay", "--frames", "abc"], ["--frames", "invalid int value"]),
    (["eval", "reprojection", "--dataset", "x", "--stride", "3"], ["--stride", "invalid choice"]),
    (["bench", "--display-hz", "60"], ["--display-hz", "72.0, 90.0, 120.0"]),
    (["replay"], ["required", "--out"]),
    (["frobnicate"], ["COMMAND", "invalid choice"]),
    (["info", ".", "--bogus"], ["unrecognized arguments: --bogus"]),
])
def test_argument_errors_are_one_line(cli, args, words):
    assert_one_line_error(cli(*args), *words, "--help")


def test_evals_never_write_images_into_a_folder_of_other_files(cli, shared_data, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    tsukuba = shared_data / "views/middlebury2001-tsukuba"
    assert_one_line_error(cli("eval", "reprojection", "--dataset", tsukuba, "--out", mine, "--repeats", "1"), "notes.txt")
    assert_one_line_error(cli("eval", "depth", "--dataset", shared_data / "stereo/middlebury2014-Motorcycle-Q",
                            "--out", mine, "--repeat", "1"), "notes.txt")
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    out = tmp_path / "eval"
    for _ in range(2):  # a folder of its own earlier images is reused
        r = cli("eval", "reprojection", "--dataset", tsukuba, "--out", out, "--repeats", "1")
        assert r.returncode == 0, r.stderr
    assert {p.name for p in (out / tsukuba.name).iterdir()} >= {"tsukuba3_rendered.png", "tsukuba3_real.png"}
