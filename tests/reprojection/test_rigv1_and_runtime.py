"""rig-v1 reader errors, provider selection and the synth command's own arguments."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from passthrough.errors import InputError
from passthrough.datasets.rigv1 import RigV1Source, find_rig_sets
from reprojection.runtime import Reprojector, select_providers


def _copy_tsukuba(shared_data, tmp_path):
    dst = tmp_path / "tsukuba"
    shutil.copytree(shared_data / "views" / "middlebury2001-tsukuba", dst)
    return dst


def test_broken_rig_json_gives_one_line_errors(shared_data, tmp_path):
    d = _copy_tsukuba(shared_data, tmp_path)
    rig = json.loads((d / "rig.json").read_text())
    cases = {
        "missing target": lambda r: r["targets"].append("nope.png"),
        "bad K": lambda r: r["cameras"]["tsukuba1.png"].__setitem__("K", [[1, 0], [0, 1]]),
        "not rigid": lambda r: r["cameras"]["tsukuba1.png"].__setitem__(
            "T_world_from_camera", [[2, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]),
        "no inputs": lambda r: r.pop("inputs"),
    }
    for name, edit in cases.items():
        r = json.loads(json.dumps(rig))
        edit(r)
        (d / "rig.json").write_text(json.dumps(r))
        with pytest.raises(InputError) as e:
            RigV1Source(d)
        assert "rig.json" in str(e.value), name
    (d / "rig.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        RigV1Source(d)
    (d / "rig.json").write_text(json.dumps(rig))
    (d / "tsukuba2.png").unlink()
    with pytest.raises(InputError, match="tsukuba2.png"):
        RigV1Source(d)


def test_find_rig_sets_accepts_a_set_or_a_folder_of_sets(shared_data, tmp_path):
    views = shared_data / "views"
    assert find_rig_sets(views / "middlebury2001-tsukuba") == [views / "middlebury2001-tsukuba"]
    assert views / "middlebury2001-tsukuba" in find_rig_sets(views)
    with pytest.raises(InputError):
        find_rig_sets(tmp_path)


def test_provider_selection():
    assert select_providers("cpu") == ["CPUExecutionProvider"]
    auto = select_providers("auto")
    assert auto[-1] == "CPUExecutionProvider"
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        assert auto[0] == "CUDAExecutionProvider"
    else:
        assert auto == ["CPUExecutionProvider"]
        with pytest.raises(InputError, match="onnxruntime-gpu"):
            select_providers("cuda")
    with pytest.raises(InputError):
        select_providers("tpu")


def test_missing_model_is_built_on_first_use(tmp_path):
    rp = Reprojector(stride=4, cache_dir=tmp_path, provider="cpu", blend=False)
    assert rp.path.is_file() and rp.path.parent == tmp_path
    K = np.array([[50.0, 0, 31.5], [0, 50.0, 23.5], [0, 0, 1]])
    img = np.full((48, 64, 3), 100, np.uint8)
    z = np.full((48, 64), 2.0, np.float32)
    T = np.eye(4)
    out, depth, holes = rp.render(img, img, z, z, K, K, np.stack([K, K]), np.stack([T, T]), np.stack([T, T]))
    assert out.shape == (2, 48, 64, 3) and np.all(out == 100)
    assert np.allclose(depth, 2.0) and not holes.any()


def test_synth_command_writes_a_readable_rig(tmp_path, cli):
    out = tmp_path / "rig"
    r = cli("synth", "--out", out, "--width", "160", "--height", "128", "--supersample", "1")
    assert r.returncode == 0, r.stderr
    src = RigV1Source(out)
    assert src.size == (160, 128) and src.inputs == ("cam_left", "cam_right")
    # 90 degree horizontal field of view, cameras 7 cm apart, eyes 9 cm behind
    K = src.cameras["cam_left"].K
    assert np.isclose(2 * np.degrees(np.arctan(80 / K[0, 0])), 90.0)
    assert np.isclose(src.T_a_from_b("cam_left", "cam_right")[0, 3], 0.07)
    assert np.isclose(src.cameras["eye_left"].centre[2], -0.09)
    bad = cli("synth", "--out", tmp_path / "x", "--width", "4")
    assert bad.returncode == 2 and "error" in bad.stderr
    # writing again into its own set is fine; a folder with anything else in it is never overwritten
    again = cli("synth", "--out", out, "--width", "32", "--height", "32", "--supersample", "1")
    assert again.returncode == 0, again.stderr
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "cam_left.png").write_bytes(b"user's file")
    (mine / "notes.txt").write_text("keep")
    r = cli("synth", "--out", mine, "--width", "32", "--height", "32", "--supersample", "1")
    assert r.returncode == 2 and "notes.txt" in r.stderr and "Traceback" not in r.stderr
    assert (mine / "cam_left.png").read_bytes() == b"user's file" and sorted(p.name for p in mine.iterdir()) == [
        "cam_left.png", "notes.txt"]
    r = cli("synth", "--out", mine / "notes.txt")
    assert r.returncode == 2 and "not a folder" in r.stderr


@pytest.mark.parametrize("resample", ["onnx", "remap"])
def test_eye_that_sees_no_surface_gives_holes_not_a_crash(tmp_path, resample):
    """Eyes turned away from everything the cameras saw: every pixel is a hole (no cell is covered, the
    graph's fields are NaN there), the CPU gather must still index inside the images."""
    rp = Reprojector(stride=4, cache_dir=tmp_path, provider="cpu", resample=resample)
    K = np.array([[50.0, 0, 31.5], [0, 50.0, 23.5], [0, 0, 1]])
    img = np.full((48, 64, 3), 100, np.uint8)
    z = np.full((48, 64), 2.0, np.float32)
    back = np.diag([-1.0, 1.0, -1.0, 1.0])  # eye yawed 180 degrees
    out, depth, holes = rp.render(img, img, z, z, K, K, np.stack([K, K]), np.stack([back, back]),
                                  np.stack([back, back]))
    assert out.shape == (2, 48, 64, 3) and holes.all()
