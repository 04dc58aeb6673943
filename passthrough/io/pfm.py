"""PFM (portable float map) reading and writing, as used by Middlebury, ETH3D and SceneFlow.

Format: a header line ``PF`` (3 channels) or ``Pf`` (1 channel), a line ``width height``, a line with a
scale whose sign gives the byte order (negative = little-endian), then float32 rows stored
**bottom-up**. ``inf`` marks unknown disparities in Middlebury ground truth and is kept as ``inf``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError


def read_pfm(path) -> np.ndarray:
    """Read a PFM file. Returns float32, shape (H, W) or (H, W, 3), rows top-down, native byte order."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            header = f.readline().strip()
            if header not in (b"PF", b"Pf"):
                raise InputError(path, f"not a PFM file (header {header[:10]!r})")
            channels = 3 if header == b"PF" else 1
            dims = f.readline().split()
            while dims and dims[0].startswith(b"#"):
                dims = f.readline().split()
            if len(dims) != 2:
                raise InputError(path, "bad PFM size line")
            width, height = int(dims[0]), int(dims[1])
            scale = float(f.readline().strip())
            dtype = "<f4" if scale < 0 else ">f4"
            count = width * height * channels
            data = np.fromfile(f, dtype=dtype, count=count)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(path, f"bad PFM header ({exc})") from None
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror or exc})") from None
    if data.size != count:
        raise InputError(path, f"truncated PFM: {data.size} of {count} values")
    shape = (height, width, 3) if channels == 3 else (height, width)
    return np.flipud(data.reshape(shape)).astype(np.float32)


def write_pfm(path, array: np.ndarray) -> None:
    """Write float32 (H, W) or (H, W, 3) top-down ``array`` as little-endian PFM (rows bottom-up)."""
    arr = np.asarray(array, dtype=np.float32)
    if arr.ndim == 3 and arr.shape[2] == 3:
        header = b"PF"
    elif arr.ndim == 2:
        header = b"Pf"
    else:
        raise ValueError(f"PFM holds (H, W) or (H, W, 3) arrays, got shape {arr.shape}")
    h, w = arr.shape[:2]
    with open(path, "wb") as f:
        f.write(header + b"\n" + f"{w} {h}\n".encode() + b"-1.0\n")
        f.write(np.ascontiguousarray(np.flipud(arr)).astype("<f4").tobytes())
