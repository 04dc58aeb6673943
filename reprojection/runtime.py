"""Load the reprojection ONNX model (hash-checked) and run it with onnxruntime.

``Reprojector(stride=4)`` loads ``reprojection-v{N}-s{stride}[-select][-maps]-{hash}.onnx`` from the model cache
(:func:`passthrough.cache.model_dir`, filled by ``passthrough build-models``; built on first use if
absent), checks its sha256 against a fresh deterministic build of the same graph and refuses a file
that differs (:class:`ModelIntegrityError`). Provider: ``"auto"`` picks CUDA when onnxruntime-gpu and a
GPU are present, else CPU; ``"cpu"`` / ``"cuda"`` force one. Session options are chosen for latency on
small core counts: one intra-op thread by default, thread spinning off, full graph optimisation.

Resampling (``resample``): ``"onnx"`` runs the full graph (colour resampled by onnxruntime's
``GridSample``; the reference, and the path for CUDA); ``"remap"`` runs the ``maps`` variant (the same
graph without its full-resolution stage) and upsamples the cell fields and gathers colour on the CPU
(:func:`reprojection.gather.gather_eyes`, numba kernels with integer taps: ~6x cheaper than ``GridSample``);
``"auto"`` = ``"onnx"`` with the CUDA provider, ``"remap"`` on the CPU.

Images are uint8 (H, W, 3) BGR or (H, W) gray as read; depth maps float32 (H, W) z-depth in the unit of
the poses' translations; poses ``T_eye_from_camera`` (4, 4) OpenCV axes.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from numba import njit

from passthrough.errors import InputError
from passthrough.onnx_providers import select_providers

from .build import (BIG, MAPS_INPUT_NAMES, ModelParams, build, model_bytes, model_filename, subsample_depth,
                    usable_depth)
from .gather import gather_eyes, spread_image


@njit(cache=True, nogil=True)
def _usable_depth(depth, out, valid):
    """``valid`` = :func:`reprojection.build.usable_depth` (0 < z < BIG) and ``out = depth`` where valid, else
    0 (float32 (H, W)), in one pass."""
    h, w = depth.shape
    big = np.float32(BIG)
    for y in range(h):
        for x in range(w):
            z = depth[y, x]
            ok = z > 0 and z < big  # NaN compares False
            valid[y, x] = ok
            out[y, x] = z if ok else np.float32(0.0)


class ModelIntegrityError(InputError):
    """The model file on disk is not the one this code builds (tampered, truncated or stale)."""


def expected_sha256(stride: int, blend: bool = True, maps: bool = False) -> str:
    """sha256 of a fresh deterministic build of the model variant."""
    return hashlib.sha256(model_bytes(stride, blend, maps)).hexdigest()


def verify_model(path, stride: int, blend: bool = True, maps: bool = False) -> bytes:
    """Read ``path`` and return its bytes if its sha256 matches a fresh build, else raise
    :class:`ModelIntegrityError` naming the file and both hashes."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "reprojection model not found (run `passthrough build-models`)")
    data = path.read_bytes()
    got, want = hashlib.sha256(data).hexdigest(), expected_sha256(stride, blend, maps)
    if got != want:
        raise ModelIntegrityError(path, f"model hash mismatch: file sha256 {got[:16]}..., expected {want[:16]}... "
                                        "(file modified or built by other code; rebuild with `passthrough build-models`)")
    return data


def to_chw(img: np.ndarray) -> np.ndarray:
    """uint8 (H, W) or (H, W, 3) -> float32 (1, 3, H, W), values 0..255 (channel order kept)."""
    a = np.asarray(img)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    return np.ascontiguousarray(a.transpose(2, 0, 1)[None], dtype=np.float32)


def to_hwc3(img: np.ndarray) -> np.ndarray:
    """uint8 (H, W) or (H, W, 3) -> contiguous float32 (H, W, 3), values 0..255 (gray repeated; channel
    order kept). float32 pixels save the CPU gather a conversion per tap (~15 % of its time)."""
    a = np.asarray(img)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    return np.ascontiguousarray(a, dtype=np.float32)


class Reprojector:
    """The hash-checked reprojection model in an onnxruntime session.

    Args:
        stride: warp-field cell size (1, 2 or 4; 4 for 640x480 at display rate).
        blend: blend both cameras where both see a pixel (True) or take the nearer one only (False,
            one colour resampling per eye instead of two: faster).
        cache_dir: model folder (default :func:`passthrough.cache.model_dir`).
        provider: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        threads: onnxruntime intra-op threads (1 keeps other stages' cores free).
        resample: ``"auto"`` (``"onnx"`` with CUDA, else ``"remap"``), ``"onnx"`` (full graph, colour by
            ``GridSample``) or ``"remap"`` (``maps`` graph + CPU gather, :mod:`reprojection.gather`).
    """

    def __init__(self, stride: int = 4, cache_dir=None, provider: str = "auto", threads: int = 1,
                 blend: bool = True, resample: str = "auto"):
        import onnxruntime as ort

        from passthrough.cache import model_dir

        if resample not in ("auto", "onnx", "remap"):
            raise InputError(None, f"unknown resample {resample!r} (auto, onnx, remap)")
        self.providers = select_providers(provider)
        if resample == "auto":
            resample = "onnx" if self.providers[0] == "CUDAExecutionProvider" else "remap"
        self.resample = resample
        self.stride = int(stride)
        self.blend = bool(blend)
        maps = resample == "remap"
        self.params = ModelParams(stride=self.stride, blend=self.blend, maps=maps)
        cache = Path(cache_dir) if cache_dir is not None else model_dir()
        self.path = cache / model_filename(self.stride, self.blend, maps)
        if not self.path.is_file():
            build(cache)
        data = verify_model(self.path, self.stride, self.blend, maps)
        self.threads = int(threads)
        so = ort.SessionOptions()
        so.intra_op_num_threads = int(threads)
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self.session = ort.InferenceSession(data, so, providers=self.providers)
        self.last_ms = float("nan")
        self.last_split_ms: dict = {}
        self._camera_cache = None
        if self.resample == "remap":  # compile (or load from numba's cache) the gather now, not on frame 1
            px = spread_image(np.zeros((4, 4, 3), np.uint8)) if self.blend else np.zeros((4, 4, 3), np.float32)
            gather_eyes(np.zeros((2, 5, 2, 2), np.float32), np.zeros((2, 1, 2, 2), np.float32),
                        np.zeros((2, 1, 2, 2), bool), px, px, self.blend, np.ones(2, bool), self.params.gap)

    def camera_feeds(self, left_image, right_image, left_depth, right_depth, left_valid=None, right_valid=None,
                     key=None, reuse: Optional[dict] = None, reuse_images: bool = False,
                     reuse_depth: bool = False) -> dict:
        """The inputs that depend on the camera frame only (images, depth, validity), see :meth:`feeds`.

        ``key``: any hashable naming the camera frame (e.g. its capture time): a display loop that renders
        one camera frame at several head poses passes it, and the conversions run once per camera frame
        (the last key's result is kept; it is reused only for the same key *and* the same array objects).
        Without a key nothing is cached.

        ``reuse``: an earlier result of this method whose image entries (``reuse_images``: the caller passes
        the same images) or depth and validity entries (``reuse_depth``: the same depth maps) are taken
        as they are instead of being made again (the camera stage's image-first mode: a frame's early and
        full outputs share their images; an early output shares the previous frame's depth).
        """
        arrays = (left_image, right_image, left_depth, right_depth, left_valid, right_valid)
        if key is not None and self._camera_cache is not None:
            k, cached_arrays, cached = self._camera_cache
            if k == key and all(a is b for a, b in zip(arrays, cached_arrays)):
                return cached
        sizes = {name: tuple(np.shape(a)[:2]) for name, a in (("left image", left_image), ("right image", right_image),
                                                              ("left depth", left_depth), ("right depth", right_depth))}
        if len(set(sizes.values())) != 1:
            raise ValueError("camera images and depth maps must share one size (H, W): "
                             + ", ".join(f"{k} {v[1]}x{v[0]}" for k, v in sizes.items() if len(v) == 2))

        def depth_and_valid(depth, valid):
            """[1,1,H,W] depth with 0 where invalid or not :func:`usable_depth`, and the [1,1,H,W] validity."""
            d = np.asarray(depth, np.float32)
            if valid is None:  # one pass instead of four numpy passes
                out, v = np.empty(d.shape, np.float32), np.empty(d.shape, np.bool_)
                _usable_depth(np.ascontiguousarray(d), out, v)
                return out[None, None], v[None, None]
            v = np.asarray(valid, bool)
            return np.where(v & usable_depth(d), d, np.float32(0.0))[None, None], v[None, None]

        depth_keys = ("left_depth", "right_depth", "left_valid", "right_valid")
        if reuse is not None and reuse_depth and all(k in reuse for k in depth_keys):
            left_depth_feed, right_depth_feed, left_valid_feed, right_valid_feed = (reuse[k] for k in depth_keys)
        else:
            left_depth_feed, left_valid_feed = depth_and_valid(left_depth, left_valid)
            right_depth_feed, right_valid_feed = depth_and_valid(right_depth, right_valid)
        image_keys = ("left_pixels", "right_pixels") if self.resample == "remap" else ("left_image", "right_image")
        if reuse is not None and reuse_images and all(k in reuse for k in image_keys):
            images = {k: reuse[k] for k in image_keys}
        elif self.resample == "remap":
            pix = spread_image if self.blend else to_hwc3  # packed uint64 for the blend gather
            images = {"left_pixels": pix(left_image), "right_pixels": pix(right_image)}
        else:
            images = {"left_image": to_chw(left_image), "right_image": to_chw(right_image)}
        out = {
            **images,
            "left_depth": left_depth_feed, "right_depth": right_depth_feed,
            "left_valid": left_valid_feed, "right_valid": right_valid_feed,
        }
        if self.resample == "remap":  # the maps graph's per-camera-frame inputs (subsampled depth, size)
            sub_keys = ("left_depth_sub", "right_depth_sub", "image_size")
            if reuse is not None and reuse_depth and all(k in reuse for k in sub_keys):
                out.update({k: reuse[k] for k in sub_keys})
            else:
                out["left_depth_sub"] = subsample_depth(left_depth_feed[0, 0], self.stride)
                out["right_depth_sub"] = subsample_depth(right_depth_feed[0, 0], self.stride)
                out["image_size"] = np.array(left_depth_feed.shape[2:], np.int64)
        if key is not None:
            self._camera_cache = (key, arrays, out)  # holding the arrays keeps their identities unique
        return out

    def feeds(self, left_image, right_image, left_depth, right_depth, K_left, K_right, K_eyes,
              T_eye_from_left: Sequence[np.ndarray], T_eye_from_right: Sequence[np.ndarray],
              left_valid=None, right_valid=None, camera_key=None, camera_feeds=None) -> dict:
        """Model inputs from numpy arrays (see the class docstring for units and shapes). With
        ``resample="remap"`` the images become ``left_pixels`` / ``right_pixels`` for the CPU gather (uint64
        (H, W) packed by :func:`reprojection.gather.spread_image` with ``blend``, float32 (H, W, 3) with
        ``select``) instead of the float32 [1,3,H,W] ``left_image``/``right_image`` graph inputs.
        ``camera_key``: see :meth:`camera_feeds`. ``camera_feeds``: that method's result for these camera
        images, made beforehand (e.g. on the camera thread); then the images and depth are not read again."""
        if camera_feeds is None:
            camera_feeds = self.camera_feeds(left_image, right_image, left_depth, right_depth, left_valid,
                                             right_valid, camera_key)
        return {
            **camera_feeds,
            "K_left": np.asarray(K_left, np.float32), "K_right": np.asarray(K_right, np.float32),
            "K_eyes": np.asarray(K_eyes, np.float32).reshape(2, 3, 3),
            "T_eye_from_left": np.asarray(T_eye_from_left, np.float32).reshape(2, 4, 4),
            "T_eye_from_right": np.asarray(T_eye_from_right, np.float32).reshape(2, 4, 4),
        }

    def _remap(self, feeds: dict, unknown_depth: float = 0.0):
        """``maps`` graph + CPU gather: ``(images uint8 [2,H,W,3], depth [2,H,W], holes [2,H,W])`` (depth
        ``unknown_depth`` where unknown); the wall time of each part goes to ``last_split_ms`` (``graph``,
        ``gather``)."""
        t0 = time.perf_counter()
        fields, cdepth, choles = self.session.run(None, {k: feeds[k] for k in MAPS_INPUT_NAMES})
        t1 = time.perf_counter()
        t = {c: np.asarray(feeds[f"T_eye_from_{c}"], np.float32)[:, :3, 3] for c in ("left", "right")}
        prefer_left = (t["left"] ** 2).sum(axis=1) <= (t["right"] ** 2).sum(axis=1)
        out = gather_eyes(fields, cdepth, choles, feeds["left_pixels"], feeds["right_pixels"], self.blend,
                          prefer_left, self.params.gap, unknown_depth)
        self.last_split_ms = {"graph": (t1 - t0) * 1e3, "gather": (time.perf_counter() - t1) * 1e3}
        return out

    def run_feeds(self, feeds: dict):
        """Run on prepared feeds; returns ``(eye_images [2,3,H,W], eye_depth [2,1,H,W], eye_holes [2,1,H,W])``
        and stores the wall time of the call in ``last_ms``. ``eye_images`` is float32 (``"onnx"``) or
        uint8, already rounded (``"remap"``; a view of the [2,H,W,3] result)."""
        t0 = time.perf_counter()
        if self.resample == "remap":
            imgs, depth, holes = self._remap(feeds)
            out = (imgs.transpose(0, 3, 1, 2), depth[:, None], holes[:, None])
        else:
            out = tuple(self.session.run(None, feeds))
        self.last_ms = (time.perf_counter() - t0) * 1e3
        return out

    def render(self, *args, unknown_depth: float = 0.0, **kwargs):
        """Like :meth:`feeds` + :meth:`run_feeds`, returning ``(images uint8 [2,H,W,3] in the input channel
        order, depth float32 [2,H,W], holes bool [2,H,W])``; depth is ``unknown_depth`` where unknown (the
        model's 0 by default; NaN suits callers that test depth with comparisons)."""
        feeds = self.feeds(*args, **kwargs)
        if self.resample == "remap":
            t0 = time.perf_counter()
            out = self._remap(feeds, unknown_depth)
            self.last_ms = (time.perf_counter() - t0) * 1e3
            return out
        imgs, depth, holes = self.run_feeds(feeds)
        out = np.clip(np.rint(np.nan_to_num(imgs.transpose(0, 2, 3, 1))), 0, 255).astype(np.uint8)
        depth = depth[:, 0]
        if unknown_depth != 0.0:  # also NaN
            depth = np.where(depth > 0, depth, np.float32(unknown_depth))
        return out, depth, holes[:, 0]
