"""Which onnxruntime execution providers a session runs on: one choice for every model of the project
(the reprojection model, the hand models)."""

from __future__ import annotations

from .errors import InputError


def select_providers(provider: str = "auto") -> list:
    """onnxruntime execution providers for ``"auto"`` (CUDA where onnxruntime has it, else the CPU),
    ``"cpu"`` or ``"cuda"`` (an :class:`InputError` where onnxruntime has no CUDA provider)."""
    import onnxruntime as ort

    avail = ort.get_available_providers()
    if provider == "cpu":
        return ["CPUExecutionProvider"]
    if provider == "cuda":
        if "CUDAExecutionProvider" not in avail:
            raise InputError(None, "CUDA requested but onnxruntime has no CUDAExecutionProvider (install onnxruntime-gpu)")
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if provider != "auto":
        raise InputError(None, f"unknown provider {provider!r} (auto, cpu, cuda)")
    return (["CUDAExecutionProvider", "CPUExecutionProvider"] if "CUDAExecutionProvider" in avail
            else ["CPUExecutionProvider"])
