"""Side-by-side stereo video files and live cameras (OpenCV capture devices).

A side-by-side frame holds the left image in its left half and the right image in its right half.
Calibration comes from a JSON file (see :mod:`.pairs`): ``--calibration FILE`` or ``<video>.json`` /
``calibration.json`` beside the video. Video timestamps come from the container
(``CAP_PROP_POS_MSEC``); live timestamps are host ``time.monotonic_ns()`` taken when each grab returns.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from ..calibration import StereoRig
from ..errors import InputError
from ..frames import StereoFrame
from .base import FrameSource

# FFmpeg's own log lines ("moov atom not found" for a truncated MP4) would precede the reader's one-line
# error; OpenCV reads this when its FFmpeg backend first opens a file. A user's own setting wins.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
from .pairs import load_calibration

VIDEO_EXTS = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v")


def split_side_by_side(frame: np.ndarray):
    """(H, 2W[, 3]) side-by-side image -> (left, right) views (no copy)."""
    w = frame.shape[1] // 2
    return frame[:, :w], frame[:, w:2 * w]


def calibration_candidates(video: Path) -> Tuple[Path, Path, Path]:
    """Where a video's calibration may lie beside it, in the order they are tried: ``VIDEO.json``,
    ``calibration.json``, ``rig.json``."""
    video = Path(video)
    return video.with_suffix(".json"), video.parent / "calibration.json", video.parent / "rig.json"


def _calibration_beside(video: Path) -> Optional[Path]:
    for cand in calibration_candidates(video):
        if cand.is_file():
            return cand
    return None


class SideBySideVideoSource(FrameSource):
    """A side-by-side stereo video file."""

    format = "side-by-side-video"

    def __init__(self, path, calibration: Optional[Path] = None):
        path = Path(path)
        cap = cv2.VideoCapture(str(path))
        if not cap.isOpened():
            raise InputError(path, "cannot open video (corrupt or unsupported codec)")
        ok, frame = cap.read()
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = cap.get(cv2.CAP_PROP_FPS)
        cap.release()
        if not ok:
            raise InputError(path, "video has no readable frames")
        calib = Path(calibration) if calibration else _calibration_beside(path)
        if calib is None:
            raise InputError(path, "no calibration (pass --calibration FILE or put <video>.json beside it)")
        rig = load_calibration(calib)
        half = (frame.shape[1] // 2, frame.shape[0])
        if rig.left.size != half:
            raise InputError(calib, f"calibration is {rig.left.size[0]}x{rig.left.size[1]}, video halves are {half[0]}x{half[1]}")
        super().__init__(path, rig)
        self.rate_hz = fps if fps and fps > 0 else None
        self._n = max(n, 1)

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[StereoFrame]:
        cap = cv2.VideoCapture(str(self.path))
        i = 0
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                t = int(round(cap.get(cv2.CAP_PROP_POS_MSEC) * 1e6))
                left, right = split_side_by_side(frame)
                yield StereoFrame(np.ascontiguousarray(left), np.ascontiguousarray(right), t, t, i, self.rig, name=f"{i:06d}")
                i += 1
        finally:
            cap.release()


class LiveCameraSource(FrameSource):
    """Live stereo from two OpenCV capture devices, or one side-by-side device.

    ``devices`` is one or two items, each a device index (``0``) or a path/URL OpenCV can open (a video
    file stands in for a device in tests). Timestamps are host monotonic ns at grab time; the two
    cameras are grabbed back to back (``grab`` both, then ``retrieve`` both) to keep them close.
    ``max_frames`` bounds the stream (None = until the device ends).
    """

    format = "live"

    def __init__(self, devices: Sequence[Union[int, str]], rig: StereoRig, max_frames: Optional[int] = None):
        if len(devices) not in (1, 2):
            raise InputError(None, "live source needs one side-by-side device or two devices")
        super().__init__(Path(str(devices[0])), rig)
        self.devices = list(devices)
        self.max_frames = max_frames

    def __len__(self) -> int:
        return self.max_frames or 0

    def _open(self, dev):
        from ..io.images import opencv_log_silenced

        with opencv_log_silenced():  # a device that does not open: one line below, not V4L2's warnings too
            cap = cv2.VideoCapture(dev)
        if not cap.isOpened():
            raise InputError(None, f"camera:{dev}: cannot open the capture device")
        return cap

    def __iter__(self) -> Iterator[StereoFrame]:
        caps = [self._open(d) for d in self.devices]
        i = 0
        try:
            while self.max_frames is None or i < self.max_frames:
                if not all(c.grab() for c in caps):
                    break
                t = time.monotonic_ns()
                imgs = [c.retrieve()[1] for c in caps]
                if any(im is None for im in imgs):
                    break
                if len(imgs) == 1:
                    left, right = (np.ascontiguousarray(v) for v in split_side_by_side(imgs[0]))
                else:
                    left, right = imgs
                if left.shape[:2] != right.shape[:2]:
                    raise InputError(Path(str(self.devices[-1])), "left/right size mismatch")
                yield StereoFrame(left, right, t, t, i, self.rig, name=f"{i:06d}")
                i += 1
        finally:
            for c in caps:
                c.release()
