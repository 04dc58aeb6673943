"""``passthrough record``: write any frame source as a EuRoC ASL recording.

Layout written (``--out DIR``)::

    mav0/cam0/data.csv        #timestamp [ns],filename
    mav0/cam0/data/<t>.png    lossless PNG of the image exactly as the source gave it
    mav0/cam0/sensor.yaml     T_BS, rate_hz, resolution, intrinsics, distortion (Kalibr names)
    mav0/cam1/...

Replaying the recording (``open_source(DIR)``) gives back the same pixels and timestamps bit for bit,
and the same rig (a pre-rectified source stays pre-rectified: zero distortion, pure baseline shift).
The output folder must be new or empty: nothing already there is ever overwritten, and it appears only
once the recording is complete (staged beside it; a source that fails part-way leaves nothing behind).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Optional

import cv2
import numpy as np

from .calibration import CameraModel, StereoRig
from .errors import InputError

KALIBR_DISTORTION = {"pinhole": "radial-tangential", "radtan": "radial-tangential", "fisheye": "equidistant"}


def add_arguments(parser) -> None:
    parser.add_argument("source", help="dataset folder, video file, or 'camera:0' / 'camera:0,1' for live devices")
    parser.add_argument("--out", required=True, help="new (or empty) folder for the ASL recording")
    parser.add_argument("--frames", type=int, default=None, help="stop after N frames (required for cameras)")
    parser.add_argument("--calibration", help="calibration JSON (needed for cameras and bare videos)")


def sensor_yaml(cam: CameraModel, T_body_from_cam: np.ndarray, rate_hz: Optional[float], comment: str) -> str:
    """Kalibr/ASL camera ``sensor.yaml`` text for one camera."""
    K = cam.K
    dist = list(cam.dist) if cam.model != "pinhole" else [0.0, 0.0, 0.0, 0.0]
    rows = ",\n         ".join(", ".join(repr(float(v)) for v in r) for r in T_body_from_cam)
    return (
        "# General sensor definitions.\nsensor_type: camera\n"
        f"comment: {comment}\n\n# Sensor extrinsics wrt. the body-frame.\nT_BS:\n  cols: 4\n  rows: 4\n"
        f"  data: [{rows}]\n\n# Camera specific definitions.\nrate_hz: {rate_hz or 0}\n"
        f"resolution: [{cam.size[0]}, {cam.size[1]}]\ncamera_model: pinhole\n"
        f"intrinsics: [{float(K[0, 0])!r}, {float(K[1, 1])!r}, {float(K[0, 2])!r}, {float(K[1, 2])!r}] #fu, fv, cu, cv\n"
        f"distortion_model: {KALIBR_DISTORTION[cam.model]}\n"
        f"distortion_coefficients: [{', '.join(repr(float(v)) for v in dist)}]\n"
    )


def record(source, out: Path, max_frames: Optional[int] = None, progress: bool = True) -> int:
    """Write ``source`` to ``out`` in ASL layout; returns the number of frames written.

    The recording is written into a hidden staging folder beside ``out`` and moved into place once
    complete, so ``out`` never holds a half-written recording: when the source turns out to be bad
    part-way (frames of another size than the calibration, a second calibration, timestamps going
    back) the staged frames are deleted and the :class:`InputError` names the source. Ctrl-C (e.g. to
    end a live recording early) keeps the frames written so far as a complete, shorter recording.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(out, "output path is a file, not a folder (record never overwrites)")
    if out.is_dir() and any(out.iterdir()):
        raise InputError(out, "output folder exists and is not empty (record never overwrites)")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    except OSError as e:
        raise InputError(out, f"cannot write there ({e.strerror or e})") from None
    written = [0]
    interrupted = False
    try:
        try:
            _write(source, stage, max_frames, progress, written)
        except KeyboardInterrupt:
            interrupted = True  # the frames so far form a complete recording: kept
        if out.is_dir():
            out.rmdir()  # the empty folder the user named
        stage.rename(out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    if interrupted:
        print(f"record: interrupted; the {written[0]} frames recorded so far are in {out}", file=sys.stderr)
        raise KeyboardInterrupt
    return written[0]


def _write(source, out: Path, max_frames: Optional[int], progress: bool, written: list) -> None:
    """The ASL recording of ``source`` in the (new, empty) folder ``out``; ``written[0]`` counts the
    frames completely written (both images and both CSV rows)."""
    from .datasets.base import CollectionSource
    from .io.progress import progress_bar

    rig: StereoRig = source.rig
    # a collection has no rate of its own (its data sets are separate captures); the recording holds the
    # frames of its first data set (one rig: a second rig ends the recording), so it takes that one's
    rate = source.children[0].rate_hz if isinstance(source, CollectionSource) else source.rate_hz
    cams = {"cam0": (rig.left, rig.T_head_from_left), "cam1": (rig.right, rig.T_head_from_right)}
    for name, (cam, T) in cams.items():
        (out / "mav0" / name / "data").mkdir(parents=True, exist_ok=True)
        (out / "mav0" / name / "sensor.yaml").write_text(sensor_yaml(cam, T, rate, f"recorded {name}"))
    csvs = {n: open(out / "mav0" / n / "data.csv", "w") for n in cams}
    last_t = None
    total = len(source) if max_frames is None else min(len(source) or max_frames, max_frames)
    try:
        for f in csvs.values():
            f.write("#timestamp [ns],filename\n")
        for frame in progress_bar(source, total=total or None, enabled=progress, desc="record"):
            if max_frames is not None and written[0] >= max_frames:
                break
            if frame.rig is not rig:
                raise InputError(source.path, "frames have different calibrations (one ASL recording holds one rig)")
            if last_t is not None and frame.t_left_ns <= last_t:
                raise InputError(source.path, f"timestamps not increasing at frame {frame.index}")
            last_t = frame.t_left_ns
            images = (("cam0", frame.left, frame.t_left_ns), ("cam1", frame.right, frame.t_right_ns))
            for name, img, _t in images:  # the recording's sensor.yaml states the calibration's size
                w, h = cams[name][0].size
                if img.shape[:2] != (h, w):
                    raise InputError(source.path, f"frame {frame.index}: the {name} image is "
                                                  f"{img.shape[1]}x{img.shape[0]}, the calibration is for {w}x{h}")
            for name, img, t in images:
                if not cv2.imwrite(str(out / "mav0" / name / "data" / f"{t}.png"), img):
                    raise InputError(out, f"cannot write {t}.png")
            for name, _img, t in images:  # the rows once both images exist: an interrupted frame is not listed
                csvs[name].write(f"{t},{t}.png\n")
            written[0] += 1
    finally:
        for f in csvs.values():
            f.close()


def open_record_source(spec: str, calibration: Optional[str], max_frames: Optional[int]):
    """A dataset path, or ``camera:0`` (side by side) / ``camera:0,1`` (two devices) with a calibration."""
    from .datasets import open_source
    from .datasets.pairs import load_calibration
    from .datasets.video import LiveCameraSource

    if spec.startswith("camera:"):
        if not calibration:
            raise InputError(None, "live cameras need --calibration FILE")
        if not max_frames:
            raise InputError(None, "live cameras need --frames N")
        devs = [int(d) if d.isdigit() else d for d in spec[len("camera:"):].split(",")]
        return LiveCameraSource(devs, load_calibration(Path(calibration)), max_frames)
    return open_source(spec, calibration)


def main(args) -> int:
    source = open_record_source(args.source, args.calibration, args.frames)
    n = record(source, Path(args.out), args.frames)
    print(f"recorded {n} frames to {args.out} (EuRoC ASL layout)")
    return 0
