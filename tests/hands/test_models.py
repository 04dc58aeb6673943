"""Model build: pinned hashes, caching, and ONNX-vs-TFLite parity of the project's own converter."""

import hashlib
import json

import numpy as np
import pytest

from hand_tracking.models import MODELS, build, make_session, model_paths
from passthrough.cache import model_dir


def test_build_produces_four_onnx_models_from_pinned_tflite_and_the_int8_landmarks(hand_model_files):
    assert len(hand_model_files) == 5 and hand_model_files[-1].name == "hand_landmark_int8.onnx"
    out = model_dir() / "hands"
    for member, sha in MODELS.items():
        stem = member.rsplit("/", 1)[-1][:-len(".tflite")]
        assert hashlib.sha256((out / f"{stem}.tflite").read_bytes()).hexdigest() == sha
        assert (out / f"{stem}.onnx").stat().st_size > 100_000
    assert json.loads((out / "manifest.json").read_text())["sources"]["palm_detection_full"] == \
        MODELS["mediapipe/modules/palm_detection/palm_detection_full.tflite"]


def test_second_build_is_a_no_op(hand_model_files):
    before = {p: p.stat().st_mtime_ns for p in hand_model_files}
    assert build(model_dir()) == hand_model_files
    assert {p: p.stat().st_mtime_ns for p in hand_model_files} == before


def test_converted_palm_model_has_no_prelu_op(hand_model_files):
    import onnx

    model = onnx.load(str(model_paths(model_dir())["palm_detection_full"]))
    ops = {n.op_type for n in model.graph.node}
    # per-channel PReLU is s*x + (1-s)*Relu(x) with 1x1 depthwise Convs: no Min/Mul that would leave NCHWc
    assert "PRelu" not in ops and "Min" not in ops and "Mul" not in ops and {"Relu", "Conv", "Resize"} <= ops
    depthwise_1x1 = [n for n in model.graph.node if n.op_type == "Conv" and
                     [a.ints for a in n.attribute if a.name == "kernel_shape"] == [[1, 1]] and
                     [a.i for a in n.attribute if a.name == "group"] != [1]]
    assert len(depthwise_1x1) == 2 * 31  # two per PReLU of BlazePalm (full)


@pytest.mark.parametrize("stem", ["palm_detection_full", "palm_detection_lite", "hand_landmark_full",
                                  "hand_landmark_lite"])
def test_onnx_matches_tflite_reference(hand_model_files, stem):
    from ai_edge_litert import interpreter as litert  # test-only dependency: the TFLite reference runtime

    onnx_path = model_paths(model_dir())[stem]
    interp = litert.Interpreter(model_path=str(onnx_path.with_suffix(".tflite")), num_threads=1)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    sess = make_session(onnx_path)
    rng = np.random.default_rng(7)
    # fixed inputs: uniform noise, a smooth gradient and a constant grey image
    h, w = inp["shape"][1:3]
    gy, gx = np.mgrid[0:h, 0:w] / max(h, w)
    inputs = [rng.random(inp["shape"], dtype=np.float32),
              np.stack([gx, gy, 1 - gx], -1)[None].astype(np.float32),
              np.full(inp["shape"], 0.5, np.float32)]
    for x in inputs:
        interp.set_tensor(inp["index"], x)
        interp.invoke()
        got = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {sess.get_inputs()[0].name: x})))
        for od in interp.get_output_details():
            ref = interp.get_tensor(od["index"])
            out = got[od["name"]]
            assert out.shape == ref.shape
            scale = max(1.0, float(np.abs(ref).max()))
            assert np.abs(out - ref).max() <= 1e-4 * scale + 1e-5, od["name"]


def test_download_failure_is_a_one_line_error(tmp_path, monkeypatch):
    from hand_tracking.models import ModelBuildError
    from passthrough.errors import InputError

    monkeypatch.setenv("PIP_NO_INDEX", "1")  # no package index reachable
    with pytest.raises(ModelBuildError) as info:
        build(tmp_path / "cache")
    assert isinstance(info.value, InputError) and isinstance(info.value, RuntimeError)
    msg = str(info.value)
    assert "mediapipe==0.10.21" in msg and "\n" not in msg


def test_rebuild_from_the_cached_wheel_needs_no_network(hand_model_files, tmp_path, monkeypatch):
    import shutil

    (tmp_path / "wheels").mkdir()
    # the mediapipe wheel (the models) and the stereodemo wheel (the int8 model's calibration images)
    for pattern in ("mediapipe-0.10.21-*.whl", "stereodemo-0.7-*.whl"):
        wheel = next((model_dir() / "wheels").glob(pattern))
        shutil.copy(wheel, tmp_path / "wheels" / wheel.name)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    paths = build(tmp_path)
    assert [p.name for p in paths] == [p.name for p in hand_model_files]
    for new, ref in zip(paths, hand_model_files):
        assert new.read_bytes() == ref.read_bytes()  # the conversion and the quantization are deterministic


def test_int8_landmarks_agree_with_fp32_on_real_hand_crops(hand_model_files, shared_data):
    """The int8 model is a quantization of the fp32 one: on crops of the real first-person hands
    (pov_hands, both views) its landmarks stay within a few pixels of the fp32 landmarks of the crop and
    it keeps presence and handedness."""
    import cv2

    from hand_tracking.landmarks import run_landmarks
    from hand_tracking.models import load_sessions
    from hand_tracking.tracker import HandTracker, to_rgb

    from hand_tracking.quantize import int8_dot_product_safe

    if not int8_dot_product_safe():
        pytest.skip("this CPU has no VNNI / dot-product instructions: int8 products may saturate here, "
                    "so the tracker uses the fp32 model (see hand_tracking.quantize)")
    fp32 = load_sessions(landmark_variant="full")
    int8 = make_session(model_paths(model_dir())["hand_landmark_int8"])
    assert {o.name for o in int8.get_outputs()} == {o.name for o in fp32.landmark.get_outputs()}
    errors = []
    for side in ("left", "right"):
        img = cv2.imread(str(shared_data / "stereo" / "oakd-pairs" / f"pov_hands_{side}.png"), cv2.IMREAD_GRAYSCALE)
        rgb = to_rgb(img)
        hands = HandTracker(fp32).detect(img)
        assert len(hands) == 2
        for h in hands:
            a, b = run_landmarks(fp32.landmark, rgb, h.roi), run_landmarks(int8, rgb, h.roi)
            errors.append(np.linalg.norm(a.landmarks[:, :2] - b.landmarks[:, :2], axis=1) / h.roi.size * 224)
            assert b.presence > 0.5 and (a.right_score > 0.5) == (b.right_score > 0.5)
    errors = np.concatenate(errors)  # in 224-px crop pixels
    # measured here: median 0.6, 95th percentile 4.8, max 11 crop pixels (the thumb of the left hand in the
    # left view, which the two models place differently)
    stats = np.median(errors), np.percentile(errors, 95), errors.max()
    assert stats[0] < 1.5 and stats[1] < 6.0 and stats[2] < 16.0, stats


def test_int8_is_used_only_where_int8_dot_products_do_not_saturate(monkeypatch):
    from hand_tracking import models, quantize

    amd = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_vnni\n"
    skylake = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512bw\n"
    arm = "processor\t: 0\nFeatures\t: fp asimd asimddp\n"
    assert quantize.int8_dot_product_safe(amd) and quantize.int8_dot_product_safe(arm)
    assert not quantize.int8_dot_product_safe(skylake) and not quantize.int8_dot_product_safe("")
    monkeypatch.setattr(quantize, "int8_dot_product_safe", lambda cpuinfo=None: False)
    assert models.default_landmark_variant("cpu") == "full"
    monkeypatch.setattr(quantize, "int8_dot_product_safe", lambda cpuinfo=None: True)
    assert models.default_landmark_variant("cpu") == "int8" and models.default_landmark_variant("cuda") == "full"


def test_run_time_commands_never_download(cli, shared_data, tmp_path, monkeypatch):
    """Only ``passthrough build-models`` downloads wheels. A run-time command whose model cache lacks them
    stops with one line saying what to run, and leaves the cache as it was (no wheels folder made)."""
    from passthrough.testing import assert_one_line_error

    empty = tmp_path / "cache"
    empty.mkdir()
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")  # would fail loudly, not fetch
    assert_one_line_error(cli("eval", "hands", "--dataset", shared_data / "hands", "--models", empty, "--repeat", "1"),
                          str(empty), "mediapipe==0.10.21", "nothing is downloaded at run time",
                          f"passthrough build-models --cache-dir {empty}")
    monkeypatch.setenv("PASSTHROUGH_CACHE", str(empty))
    for args in (("demo", "--out", tmp_path / "demo-out"), ("bench", "depth", "--frames", "3")):
        assert_one_line_error(cli(*args), "stereodemo==0.7", "nothing is downloaded at run time")
    assert not (tmp_path / "demo-out").exists()
    assert sorted(p.name for p in empty.iterdir()) == []


def test_a_damaged_hand_model_is_refused_by_its_recorded_hash(hand_model_files, shared_data, tmp_path, cli):
    """A model file that is not the one the build wrote (bytes flipped, truncated) is one line naming it, not
    an onnxruntime traceback or a detector that silently finds nothing."""
    import shutil

    from passthrough.testing import assert_one_line_error

    cache = tmp_path / "cache"
    shutil.copytree(hand_model_files[0].parent, cache / "hands")
    palm = cache / "hands" / "palm_detection_full.onnx"
    data = bytearray(palm.read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = bytes(64)  # 64 weight bytes zeroed: still a valid protobuf
    palm.write_bytes(bytes(data))
    r = cli("eval", "hands", "--dataset", shared_data / "hands", "--models", cache, "--repeat", "1", timeout=300)
    assert_one_line_error(r, "palm_detection_full.onnx", "hash mismatch", "build-models")
    (cache / "hands" / "hand_landmark_full.onnx").write_bytes(b"\x08\x01")  # truncated
    from hand_tracking.models import ModelBuildError, load_sessions

    with pytest.raises(ModelBuildError, match="hash mismatch"):
        load_sessions(cache, landmark_variant="full", build_if_missing=False)


def test_the_mediapipe_wheel_is_pinned_by_its_sha256(tmp_path):
    """A cached wheel that is not PyPI's file is removed and refused, like the demo data's wheel."""
    from hand_tracking.models import WHEEL, ModelBuildError, _fetch_wheel

    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / WHEEL).write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip, not the wheel
    with pytest.raises(ModelBuildError, match="does not match the pinned"):
        _fetch_wheel(tmp_path / "wheels", download=False)
    assert not (tmp_path / "wheels" / WHEEL).exists()
