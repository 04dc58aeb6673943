"""int8 landmark model: static post-training quantization of ``hand_landmark_full`` for frame-to-frame tracking.

On this project's 2-core AMD EPYC (AVX-512 VNNI) onnxruntime runs the QDQ int8 landmark model in about
half the time of the fp32 one (4.6 vs 9.2 ms per 224x224 crop, one thread); the palm detector gains
nothing from the same treatment (its residual Adds and Resizes keep re-quantizing), so it stays fp32.

How it is built (:func:`build_int8_landmark`, called by :func:`hand_tracking.models.build`):

1. **Calibration crops** (:func:`calibration_crops`): the fp32 models find the hands in the demo's real
   OAK-D pairs (:mod:`passthrough.demo_data`, from the pinned ``stereodemo`` wheel; grayscale first-person
   views), and every hand's ROI gives :data:`JITTERS` crops jittered in position (5 % of the ROI),
   scale (10 %) and rotation (0.2 rad) with a fixed seed; every other crop is tinted with a skin-like
   channel gain so colour inputs are covered. No evaluation data is used.
2. **Quantization** with ``onnxruntime.quantization.quantize_static``: QDQ format, uint8 activations,
   int8 per-channel weights, percentile (99.99) calibration. The four output heads (``Gemm``) and the
   global average pool stay float, so landmarks are not rounded to the activation grid (~1 px steps).

Deterministic on a given machine (fixed crops, fixed seed): a rebuild writes the same bytes.

Where it runs (:func:`int8_dot_product_safe`): onnxruntime multiplies uint8 activations by int8 weights
with ``VPMADDUBSW`` on x86 CPUs without VNNI, whose 16-bit intermediate sums can saturate, so accuracy
there is not what was measured here. The tracker therefore uses the int8 model only on CPUs with VNNI
(AVX512-VNNI / AVX-VNNI) or ARM dot-product instructions, and the fp32 model elsewhere. The usual
workaround, 7-bit weights (``reduce_range``), cost too much here: PCK@0.2 0.76 instead of 0.85.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

__all__ = ["JITTERS", "calibration_crops", "build_int8_landmark", "int8_dot_product_safe"]

#: jittered crops per hand found in the calibration images
JITTERS = 8
_SEED = 20261201


def calibration_crops(images, palm_session, landmark_session, jitters: int = JITTERS) -> np.ndarray:
    """float32 (N, 224, 224, 3) RGB crops in [0, 1] around the hands the fp32 models find in ``images``
    (uint8 (H, W) gray or (H, W, 3) BGR arrays)."""
    from .landmarks import crop_roi
    from .models import HandModels
    from .palm import Roi
    from .tracker import HandTracker, to_rgb

    tracker = HandTracker(HandModels(palm_session, landmark_session, "full"))
    rng = np.random.default_rng(_SEED)
    crops = []
    for image in images:
        rgb = to_rgb(image)
        for hand in tracker.detect(image):
            r = hand.roi
            for k in range(jitters):
                roi = Roi(r.cx + rng.normal() * 0.05 * r.size, r.cy + rng.normal() * 0.05 * r.size,
                          r.size * math.exp(rng.normal() * 0.1), r.rotation + rng.normal() * 0.2)
                crop = crop_roi(rgb, roi).astype(np.float32)
                gains = np.array([1.0, 0.8 + 0.15 * rng.random(), 0.65 + 0.2 * rng.random()]) * (0.8 + 0.4 * rng.random())
                if k % 2:
                    crop = np.clip(crop * gains.astype(np.float32), 0, 255)
                crops.append(crop / 255.0)
    if not crops:
        raise RuntimeError("no hands found in the calibration images")
    return np.asarray(crops, np.float32)


def int8_dot_product_safe(cpuinfo: str | None = None) -> bool:
    """True if this CPU multiplies uint8 x int8 without intermediate saturation (x86 VNNI: flags
    ``avx512_vnni`` / ``avx_vnni`` / ``amx_int8``; ARM: ``asimddp``), read from ``/proc/cpuinfo`` (or the
    given text). False when it cannot tell (other systems)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:
            return False
    flags = set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):
            flags.update(value.split())
    return bool(flags & {"avx512_vnni", "avx_vnni", "amx_int8", "asimddp"})


def build_int8_landmark(fp32_path: Path, out_path: Path, crops: np.ndarray) -> Path:
    """Quantize the fp32 landmark ONNX model at ``fp32_path`` with ``crops`` into ``out_path``."""
    import tempfile

    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quant_pre_process, quantize_static)

    input_name = onnx.load(str(fp32_path), load_external_data=False).graph.input[0].name

    class _Reader(CalibrationDataReader):
        def __init__(self):
            self._it = iter(crops)

        def get_next(self):
            x = next(self._it, None)
            return None if x is None else {input_name: x[None]}

    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
        keep_float = [n.name for n in onnx.load(str(pre)).graph.node if n.op_type in ("Gemm", "ReduceMean")]
        tmp_out = Path(tmp) / "int8.onnx"
        quantize_static(str(pre), str(tmp_out), _Reader(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                        calibrate_method=CalibrationMethod.Percentile, nodes_to_exclude=keep_float,
                        extra_options={"CalibPercentile": 99.99})
        out_path.write_bytes(tmp_out.read_bytes())
    return out_path
