"""MediaPipe's own inference engine for the same hand models, for same-run baselines.

MediaPipe runs its hand models with TFLite (now LiteRT) and the XNNPACK delegate on the CPU. The pinned
wheel's ``.tflite`` files are kept beside the converted ONNX files (:func:`hand_tracking.models.build`),
so ``passthrough bench hands`` can run the tracker once with onnxruntime and once with LiteRT on the same
frames, interleaved, instead of quoting an external figure. :class:`LiteRTSession` offers the part of
onnxruntime's ``InferenceSession`` interface the tracker uses (``get_inputs``, ``get_outputs``, ``run``),
so :class:`hand_tracking.tracker.HandTracker` runs on it unchanged.

``ai-edge-litert`` is a test-only dependency (``pip install -e '.[test]'``, which ``make`` runs); without
it :func:`load_litert_models` returns None and the baseline is left out.

Tensors: the same as the ONNX models (float32 NHWC RGB in [0, 1]; outputs named like the TFLite file's,
which the converter keeps: ``Identity``, ``Identity_1``, ...).
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["LiteRTSession", "litert_available", "load_litert_models"]


@dataclass(frozen=True)
class TensorInfo:
    """``name`` and ``shape`` of a model input or output (like onnxruntime's ``NodeArg``)."""

    name: str
    shape: tuple


def litert_available() -> bool:
    """True if the LiteRT runtime (``ai_edge_litert``) can be imported."""
    import importlib.util

    try:
        return importlib.util.find_spec("ai_edge_litert.interpreter") is not None
    except ImportError:  # the parent package itself is missing or broken
        return False


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence file descriptor 2 for the block: the TFLite runtime prints an ``INFO: Created TensorFlow Lite
    XNNPACK delegate`` line from C++ when an interpreter is made. Python errors are raised after it is
    restored, so none is lost."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (embedded interpreters): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class LiteRTSession:
    """One ``.tflite`` model in a LiteRT interpreter (XNNPACK, ``threads`` threads) with onnxruntime's
    ``run(output_names, {input_name: array})`` call. Not thread-safe (like the tracker that uses it)."""

    def __init__(self, path: Path | str, threads: int = 1):
        from ai_edge_litert import interpreter as litert

        self.path = Path(path)
        with _quiet_native_stderr():
            self._interp = litert.Interpreter(model_path=str(self.path), num_threads=max(1, int(threads)))
            self._interp.allocate_tensors()
        self._inputs = self._interp.get_input_details()
        self._outputs = self._interp.get_output_details()

    def get_inputs(self) -> list[TensorInfo]:
        return [TensorInfo(d["name"], tuple(int(v) for v in d["shape"])) for d in self._inputs]

    def get_outputs(self) -> list[TensorInfo]:
        return [TensorInfo(d["name"], tuple(int(v) for v in d["shape"])) for d in self._outputs]

    def run(self, output_names, feeds: dict) -> list[np.ndarray]:
        """Outputs (copies) in ``output_names`` order, or all in :meth:`get_outputs` order if None."""
        for d in self._inputs:
            if d["name"] not in feeds:
                raise KeyError(f"{self.path.name}: missing input {d['name']!r}")
            self._interp.set_tensor(d["index"], np.ascontiguousarray(feeds[d["name"]], d["dtype"]))
        self._interp.invoke()
        by_name = {d["name"]: d for d in self._outputs}
        names = [d["name"] for d in self._outputs] if output_names is None else list(output_names)
        return [np.array(self._interp.get_tensor(by_name[n]["index"])) for n in names]


def load_litert_models(cache_dir: Path | str | None = None, *, threads: int = 1):
    """:class:`hand_tracking.models.HandModels` with the full palm detector and the full landmark model
    (MediaPipe's default pair) in LiteRT, or None when LiteRT is not installed. The ``.tflite`` files
    come from the model cache (:func:`hand_tracking.models.build` puts them there); missing files raise
    :class:`hand_tracking.models.ModelBuildError`."""
    if not litert_available():
        return None
    from .models import HandModels, ModelBuildError, model_paths

    if cache_dir is None:
        from passthrough.cache import model_dir

        cache_dir = model_dir()
    paths = model_paths(Path(cache_dir))
    palm = paths["palm_detection_full"].with_suffix(".tflite")
    landmark = paths["hand_landmark_full"].with_suffix(".tflite")
    for p in (palm, landmark):
        if not p.is_file():
            raise ModelBuildError(p, "TFLite hand model missing: run `passthrough build-models`")
    return HandModels(LiteRTSession(palm, threads), LiteRTSession(landmark, threads), "litert-full")
