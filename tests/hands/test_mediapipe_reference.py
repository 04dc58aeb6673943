"""The MediaPipe reference script (``benchmarks/mediapipe_hands_reference.py``, run by ``make
mediapipe-reference`` in its own environment): its plumbing, with a stand-in for ``mediapipe`` that
answers with the annotated joints, and its error when mediapipe is missing."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import types
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "mediapipe_hands_reference.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("mediapipe_hands_reference", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _fake_mediapipe(answers: dict):
    """A ``mediapipe`` stand-in whose ``Hands.process`` returns the normalised landmarks stored for the
    image's shape in ``answers`` ({(h, w): (21, 2) px array})."""
    calls = {"static": 0, "video": 0}

    class Hands:
        def __init__(self, static_image_mode, max_num_hands, model_complexity, min_detection_confidence):
            self.static = static_image_mode

        def process(self, rgb):
            assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
            calls["static" if self.static else "video"] += 1
            h, w = rgb.shape[:2]
            px = answers.get((h, w))
            if px is None:
                return types.SimpleNamespace(multi_hand_landmarks=None)
            pts = [types.SimpleNamespace(x=x / w, y=y / h, z=0.0) for x, y in px]
            return types.SimpleNamespace(multi_hand_landmarks=[types.SimpleNamespace(landmark=pts)])

        def close(self):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.close()

    mp = types.ModuleType("mediapipe")
    mp.__version__ = "fake"
    mp.solutions = types.SimpleNamespace(hands=types.SimpleNamespace(Hands=Hands))
    return mp, calls


def _photo_set(root: Path):
    """Two non-square photos with one annotated hand each."""
    rng = np.random.default_rng(0)
    entries, answers = [], {}
    for i, (h, w) in enumerate([(120, 200), (90, 160)]):
        cv2.imwrite(str(root / f"img{i}.png"), rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
        kp = np.column_stack([rng.uniform(20, w - 20, 21), rng.uniform(20, h - 20, 21)])
        entries.append({"dataset": "toy", "image": f"img{i}.png", "kp2d": kp.tolist(),
                        "bbox_xyxy": [10, 10, w - 10, h - 10]})
        if i == 0:
            answers[(h, w)] = kp + [1.0, 0.0]  # one pixel off in x; the second photo: no hand found
    (root / "hands.json").write_text(json.dumps(entries))
    return answers


def test_reference_scores_mediapipe_output_with_the_project_metrics(tmp_path, monkeypatch):
    answers = _photo_set(tmp_path)
    mp, calls = _fake_mediapipe(answers)
    monkeypatch.setitem(sys.modules, "mediapipe", mp)
    ref = _load_script()

    res = ref.evaluate(tmp_path, gray=False, repeat=2, complexity=1, min_conf=0.5)

    assert res["n_hands"] == 2 and res["detection_rate"] == 0.5
    assert res["pck02"] == pytest.approx(21 / 42)          # the missed hand counts as wrong
    assert res["mean_px"] == pytest.approx(1.0)            # normalised -> px with the right axes
    assert [p["found"] for p in res["per_image"]] == [True, False]
    assert calls == {"static": 4, "video": 4}              # 2 timed static calls per photo, 2x2 video calls
    assert res["runtime"]["mediapipe"] == "fake" and res["input"] == "color"

    gray = ref.evaluate(tmp_path, gray=True, repeat=1, complexity=1, min_conf=0.5)
    assert gray["input"] == "gray" and gray["mean_px"] == pytest.approx(1.0)


def test_reference_without_mediapipe_says_how_to_get_it(tmp_path, shared_data):
    if importlib.util.find_spec("mediapipe") is not None:
        pytest.skip("mediapipe is installed here")
    r = subprocess.run([sys.executable, str(SCRIPT), "--dataset", str(shared_data / "hands")],
                       capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "make mediapipe-reference" in r.stderr


def test_reference_refuses_to_write_into_the_dataset(tmp_path):
    _photo_set(tmp_path)
    before = (tmp_path / "hands.json").read_bytes()
    r = subprocess.run([sys.executable, str(SCRIPT), "--dataset", str(tmp_path), "--json",
                        str(tmp_path / "hands.json")], capture_output=True, text=True, cwd=ROOT,
                       env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert r.returncode == 2 and "refusing" in r.stderr and r.stderr.strip().count("\n") == 0
    assert (tmp_path / "hands.json").read_bytes() == before


def test_reference_times_unannotated_images(tmp_path, monkeypatch):
    answers = _photo_set(tmp_path)
    mp, calls = _fake_mediapipe(answers)
    monkeypatch.setitem(sys.modules, "mediapipe", mp)
    ref = _load_script()

    res = ref.time_images([tmp_path / "img0.png", tmp_path / "img1.png"], gray=True, repeat=3, complexity=1,
                          min_conf=0.5)

    assert [r["hands"] for r in res["images"]] == [1, 0]
    assert res["images"][0]["ms_median"] >= 0 and res["images"][0]["ms_track_median"] >= 0
    assert res["images"][1]["ms_track_median"] is None     # nothing to track
    assert calls == {"static": 6, "video": 6}
