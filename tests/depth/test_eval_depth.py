"""``passthrough eval depth``: metrics as published, JSON shape as specified, PNGs per scene."""

import json
import shutil

import numpy as np
import pytest

from passthrough.depth.metrics import disparity_metrics

KEYS = {"bad1", "bad2", "bad4", "avgerr", "density"}


def test_metrics_follow_the_published_definitions():
    gt = np.array([[10.0, 20.0, np.inf, 40.0], [50.0, 60.0, 70.0, np.nan]], np.float32)
    est = np.array([[10.5, 21.5, 0.0, 43.0], [55.0, np.nan, 70.0, 1.0]], np.float32)
    # pixels with gt: 6; errors 0.5, 1.5, 3.0, 5.0, invalid, 0.0
    m = disparity_metrics(est, gt, kitti=True)
    assert m["bad1"] == pytest.approx(4 / 6)  # 1.5, 3, 5, invalid
    assert m["bad2"] == pytest.approx(3 / 6)
    assert m["bad4"] == pytest.approx(2 / 6)
    assert m["avgerr"] == pytest.approx((0.5 + 1.5 + 3.0 + 5.0 + 0.0) / 5)
    assert m["density"] == pytest.approx(5 / 6)
    # D1: > 3 px and > 5 %: 5.0 at 50 (10 %) yes; 3.0 at 40 no (not > 3); invalid yes
    assert m["d1"] == pytest.approx(2 / 6)
    mask = np.array([[True, True, True, False], [False, False, True, True]])
    mm = disparity_metrics(est, gt, mask)
    assert mm["bad1"] == pytest.approx(1 / 3) and mm["density"] == 1.0


def test_lower_resolution_estimates_are_scaled_to_gt_resolution():
    gt = np.full((8, 8), 6.0, np.float32)
    half = np.full((4, 4), 3.0, np.float32)  # the same scene at half resolution
    assert disparity_metrics(half, gt)["bad1"] == 0.0


def test_eval_depth_cli_on_motorcycle_and_terrace(cli, shared_data, tmp_path):
    out = tmp_path / "png"
    js = tmp_path / "depth.json"
    r = cli("eval", "depth", "--dataset", shared_data / "stereo" / "middlebury2014-Motorcycle-Q",
            "--json", js, "--out", out, "--repeat", "1")
    assert r.returncode == 0, r.stderr
    assert "opencv_sgbm_full" in r.stdout and "compile" in r.stdout
    data = json.loads(js.read_text())
    assert set(data) == {"default_method", "scenes"}
    scene = data["scenes"]["middlebury2014-Motorcycle-Q"]
    assert set(scene) == {data["default_method"], "opencv_sgbm_full"}
    for name, m in scene.items():
        assert set(m) == KEYS | {"ms_median", "nonocc"}
        assert set(m["nonocc"]) == KEYS
        assert all(0.0 <= m[k] <= 1.0 for k in ("bad1", "bad2", "bad4", "density"))
        assert (out / f"middlebury2014-Motorcycle-Q_{name}_disparity.png").is_file()
        assert (out / f"middlebury2014-Motorcycle-Q_{name}_error.png").is_file()
    default = scene[data["default_method"]]
    assert default["nonocc"]["bad2"] < 0.09 and default["density"] == 1.0
    assert scene["opencv_sgbm_full"]["density"] < 1.0  # the reference leaves invalid pixels

    r = cli("eval", "depth", "--dataset", shared_data / "stereo" / "eth3d-terrace_2s", "--json", js,
            "--out", out, "--repeat", "1", "--method", "sgm_third,opencv_bm")
    assert r.returncode == 0, r.stderr
    data = json.loads(js.read_text())
    assert data["default_method"] == "sgm_third"
    scene = data["scenes"]["eth3d-terrace_2s"]
    assert set(scene) == {"sgm_third", "opencv_bm", "opencv_sgbm_full"}
    assert all("nonocc" not in m for m in scene.values())  # ETH3D has no occlusion mask


def test_eval_depth_on_a_folder_of_scenes(cli, shared_data, tmp_path):
    root = tmp_path / "scenes"
    root.mkdir()
    for name in ("middlebury2014-Motorcycle-Q", "eth3d-terrace_2s"):
        (root / name).symlink_to(shared_data / "stereo" / name)
    js = tmp_path / "d.json"
    r = cli("eval", "depth", "--dataset", root, "--json", js, "--out", tmp_path / "png", "--repeat", "1",
            "--method", "sgm_quarter")
    assert r.returncode == 0, r.stderr
    assert set(json.loads(js.read_text())["scenes"]) == {"middlebury2014-Motorcycle-Q", "eth3d-terrace_2s"}


def test_eval_depth_on_kitti2015_layout_reports_d1(cli, shared_data, tmp_path):
    """A KITTI 2015 folder (built here from the Motorcycle pair: 16-bit disparity PNGs x256, 0 = unknown)."""
    import cv2

    from passthrough.io.pfm import read_pfm

    src = shared_data / "stereo" / "middlebury2014-Motorcycle-Q"
    root = tmp_path / "kitti"
    for sub in ("image_2", "image_3", "disp_occ_0", "disp_noc_0"):
        (root / sub).mkdir(parents=True)
    cv2.imwrite(str(root / "image_2" / "000000_10.png"), cv2.imread(str(src / "im0.png")))
    cv2.imwrite(str(root / "image_3" / "000000_10.png"), cv2.imread(str(src / "im1.png")))
    gt = read_pfm(src / "disp0GT.pfm")
    nocc = cv2.imread(str(src / "mask0nocc.png"), cv2.IMREAD_GRAYSCALE) == 255
    occ16 = np.where(np.isfinite(gt), np.round(gt * 256), 0).astype(np.uint16)
    cv2.imwrite(str(root / "disp_occ_0" / "000000_10.png"), occ16)
    cv2.imwrite(str(root / "disp_noc_0" / "000000_10.png"), np.where(nocc, occ16, 0).astype(np.uint16))
    js = tmp_path / "k.json"
    r = cli("eval", "depth", "--dataset", root, "--json", js, "--out", tmp_path / "png", "--repeat", "1",
            "--num-disparities", "80")
    assert r.returncode == 0, r.stderr
    scene = json.loads(js.read_text())["scenes"]["000000_10"]
    for m in scene.values():
        assert set(m) == KEYS | {"d1", "ms_median", "nonocc"}
        assert set(m["nonocc"]) == KEYS | {"d1"}
        assert m["d1"] <= m["bad2"] + 1e-9  # an outlier (> 3 px) is always a bad-2 pixel
    assert "d1" in r.stdout
    # a second frame without its ground truth is named, not silently left out
    for sub in ("image_2", "image_3"):
        shutil.copy(root / sub / "000000_10.png", root / sub / "000001_10.png")
    r = cli("eval", "depth", "--dataset", root, "--json", js, "--repeat", "1", "--num-disparities", "80",
            "--method", "sgm_aniso")
    assert r.returncode == 0, r.stderr
    assert list(json.loads(js.read_text())["scenes"]) == ["000000_10"]
    assert "1 frame(s) without ground-truth disparity, not scored: 000001_10" in r.stdout


def test_a_dataset_eval_depth_cannot_read_leaves_no_output_folder(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    r = cli("eval", "depth", "--dataset", tmp_path / "empty", "--out", tmp_path / "png", "--repeat", "1")
    assert r.returncode == 2 and "unknown dataset layout" in r.stderr, r.stderr
    assert not (tmp_path / "png").exists()
