"""Reading what the runtime displays: X11 window dumps (``xwd -root``) of the Xvfb screen Monado draws into.

:func:`parse_xwd` decodes an XWD file (ZPixmap, 24/32 bits per pixel, as Xvfb writes) to an RGB array.
"""

from __future__ import annotations

import struct

import numpy as np


def parse_xwd(data: bytes) -> np.ndarray:
    """Decode an XWD dump (``xwd -root -silent``) into uint8 RGB (H, W, 3), row 0 = top of the screen.

    Supports ZPixmap images with 24 or 32 bits per pixel and true-colour masks (what Xvfb produces).
    Raises ValueError for anything else.
    """
    if len(data) < 100:
        raise ValueError("not an XWD file (too short)")
    h = struct.unpack(">25I", data[:100])
    (header_size, version, pixmap_format, _depth, width, height, _xoff, byte_order, _unit, _bit_order, _pad,
     bpp, bytes_per_line, _vclass, red_mask, green_mask, blue_mask, _bits_rgb, _cmap_entries, ncolors) = h[:20]
    if version != 7 or pixmap_format != 2 or bpp not in (24, 32):
        raise ValueError(f"unsupported XWD (version {version}, format {pixmap_format}, {bpp} bpp)")
    offset = header_size + 12 * ncolors
    need = offset + bytes_per_line * height
    if len(data) < need:
        raise ValueError(f"truncated XWD: {len(data)} bytes, need {need}")
    rows = np.frombuffer(data, np.uint8, count=bytes_per_line * height, offset=offset).reshape(height, bytes_per_line)
    bypp = bpp // 8
    px = rows[:, : width * bypp].reshape(height, width, bypp).astype(np.uint32)
    if byte_order == 0:  # LSBFirst
        value = sum(px[..., i] << (8 * i) for i in range(bypp))
    else:
        value = sum(px[..., i] << (8 * (bypp - 1 - i)) for i in range(bypp))
    out = np.empty((height, width, 3), np.uint8)
    for c, mask in enumerate((red_mask, green_mask, blue_mask)):
        shift = (mask & -mask).bit_length() - 1
        out[..., c] = ((value & mask) >> shift).astype(np.uint8)
    return out
