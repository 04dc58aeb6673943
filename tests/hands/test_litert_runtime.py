"""MediaPipe's own inference engine (LiteRT + XNNPACK) behind the session interface the tracker uses: the
same-run baseline of ``passthrough bench hands``."""

import cv2
import numpy as np
import pytest

from hand_tracking.models import load_sessions
from hand_tracking.tracker import HandTracker

pytest.importorskip("ai_edge_litert")


@pytest.fixture(scope="module")
def litert_models(hand_model_files):
    from hand_tracking.litert_runtime import load_litert_models

    return load_litert_models(threads=1)


def test_a_litert_session_answers_like_an_onnxruntime_session(litert_models, hand_models):
    lite, onnx = litert_models.landmark, hand_models.fresh_landmark  # both the fp32 full model
    assert [i.name for i in lite.get_inputs()] == [i.name for i in onnx.get_inputs()]
    assert [o.name for o in lite.get_outputs()] == [o.name for o in onnx.get_outputs()]
    x = np.random.default_rng(3).random((1, 224, 224, 3), dtype=np.float32)
    name = onnx.get_inputs()[0].name
    for a, b in zip(lite.run(None, {name: x}), onnx.run(None, {name: x})):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(b).max())))
    # named outputs come back in the order asked for
    presence, landmarks = lite.run(["Identity_1", "Identity"], {name: x})
    assert presence.shape == (1, 1) and landmarks.shape == (1, 63)
    with pytest.raises(KeyError, match="input_1"):
        lite.run(None, {"wrong": x})


def test_the_tracker_finds_the_same_hands_on_litert(litert_models, oakd):
    img = cv2.imread(str(oakd / "pov_hands_left.png"), cv2.IMREAD_GRAYSCALE)
    # onnxruntime with the fp32 models throughout: the same two models LiteRT runs
    ours = HandTracker(load_sessions(variant="full", landmark_variant="full")).detect(img)
    theirs = HandTracker(litert_models).detect(img)
    assert len(ours) == len(theirs) == 2
    for a, b in zip(sorted(ours, key=lambda h: h.bbox[0]), sorted(theirs, key=lambda h: h.bbox[0])):
        assert a.handedness == b.handedness
        assert np.abs(a.landmarks[:, :2] - b.landmarks[:, :2]).max() < 0.5  # px
