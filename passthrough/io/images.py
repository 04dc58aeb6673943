"""Image reading with clear errors (a corrupt or truncated file names itself, never a cv2 traceback)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError


def read_image(path, grayscale: bool = False) -> np.ndarray:
    """Read an image file. Returns uint8 (H, W) grayscale or (H, W, 3) BGR (OpenCV order); 16-bit files
    keep uint16. Raises :class:`InputError` for a missing, unreadable, corrupt or truncated file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    data = np.fromfile(path, dtype=np.uint8)
    if data.size == 0:
        raise InputError(path, "empty image file")
    if _looks_truncated(path, data):
        raise InputError(path, "truncated or corrupt image")
    flags = cv2.IMREAD_GRAYSCALE if grayscale else cv2.IMREAD_UNCHANGED
    with opencv_log_silenced():  # our one-line error replaces its log
        img = cv2.imdecode(data, flags)
    if img is None:
        raise InputError(path, "corrupt or unsupported image")
    if img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return img


@contextlib.contextmanager
def opencv_log_silenced():
    """OpenCV's own log lines (``[ WARN:0@0.2] global cap_v4l.cpp ...``) off while the block runs: the caller
    reports a failure as one line of its own."""
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(level)


def _looks_truncated(path: Path, data: np.ndarray) -> bool:
    """OpenCV decodes truncated PNG/JPEG files silently (grey fill); check the end markers instead."""
    head = data[:8].tobytes()
    if head.startswith(b"\x89PNG"):
        return b"IEND" not in data[-16:].tobytes()
    if head.startswith(b"\xff\xd8"):
        return b"\xff\xd9" not in data[-64:].tobytes()
    return False


def as_uint8(image: np.ndarray) -> np.ndarray:
    """The image as uint8 with the same shape: uint8 as is, uint16 (16-bit PNGs: :func:`read_image` keeps
    them) scaled by 1/257, float taken as [0, 1]. Other dtypes raise ``ValueError``."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return (image // 257).astype(np.uint8)
    if image.dtype.kind == "f":
        return np.clip(np.nan_to_num(image) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    raise ValueError(f"unsupported image dtype {image.dtype}")


def to_gray(img: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, 3) BGR, any :func:`as_uint8` dtype -> uint8 (H, W)."""
    img = as_uint8(img)
    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def to_bgr(img: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, 3), any :func:`as_uint8` dtype -> uint8 (H, W, 3) BGR."""
    img = as_uint8(img)
    return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR) if img.ndim == 2 else img


def to_rgb(image: np.ndarray) -> np.ndarray:
    """uint8 RGB (H, W, 3) from a grayscale (H, W) / (H, W, 1) or BGR (H, W, 3) / BGRA image.
    uint16 images are scaled by 1/257, float images are taken as [0, 1] (:func:`as_uint8`)."""
    image = as_uint8(image)
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        return cv2.cvtColor(np.ascontiguousarray(image.reshape(image.shape[:2])), cv2.COLOR_GRAY2RGB)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    raise ValueError(f"expected a (H, W) or (H, W, 3) image, got shape {image.shape}")
