"""Dataset readers: ``open_source(path)`` detects the format and returns a frame source.

Supported (see each module): Middlebury 2014 / ETH3D two-view (:mod:`.middlebury`), KITTI 2015 and
KITTI odometry (:mod:`.kitti`), EuRoC ASL (:mod:`.euroc`), rig-v1 multi-view sets (:mod:`.rigv1`),
folders of stereo pairs incl. the OAK-D stereodemo layout (:mod:`.pairs`), side-by-side videos and live
cameras (:mod:`.video`). A folder whose sub-folders are all Middlebury scenes is a collection.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..errors import InputError
from .base import CollectionSource, FrameSource


def detect_format(path: Path) -> Optional[str]:
    """Short format name of the dataset at ``path``, or None."""
    from .euroc import euroc_root
    from .kitti import is_kitti2015, is_kitti_odometry
    from .middlebury import is_middlebury_scene
    from .pairs import find_calibration, find_pairs, is_own_rig_json
    from .video import VIDEO_EXTS

    if path.is_file():
        if path.suffix.lower() in VIDEO_EXTS:
            return "video"
        if path.name == "rig.json":
            # a rig.json in this project's own stereo format is a pairs folder's calibration
            return "pairs" if is_own_rig_json(path) else "rig-v1"
        return None
    if not path.is_dir():
        return None
    if euroc_root(path) is not None:
        return "euroc"
    if (path / "rig.json").is_file():
        return "pairs" if is_own_rig_json(path / "rig.json") else "rig-v1"
    if is_middlebury_scene(path):
        return "middlebury"
    if is_kitti2015(path):
        return "kitti2015"
    if is_kitti_odometry(path):
        return "kitti-odometry"
    if find_calibration(path) is not None and find_pairs(path):
        return "pairs"
    subs = [p for p in sorted(path.iterdir()) if p.is_dir()]
    if subs and all(detect_format(p) is not None for p in subs):
        return "collection"
    return None


def open_source(path, calibration=None) -> FrameSource:
    """Open the dataset, video or folder at ``path`` as a :class:`FrameSource`.

    ``calibration``: a calibration file for data without one of its own (a folder of stereo pairs, a
    video); given for data that carries its own, it is refused rather than silently unused.

    Raises :class:`~passthrough.errors.InputError` (one line naming the path) if the path does not
    exist or its format is not recognised or is broken.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file or folder")
    fmt = detect_format(path)
    if fmt is None and calibration is not None and path.is_dir():
        from .pairs import find_pairs

        if find_pairs(path):  # a folder of pairs whose calibration the user gives (--calibration)
            fmt = "pairs"
    if calibration is not None and fmt in ("euroc", "rig-v1", "middlebury", "kitti2015", "kitti-odometry", "collection"):
        raise InputError(Path(calibration), f"--calibration is for stereo-pair folders and videos; the {fmt} data "
                                            f"at {path} carries its own calibration (nothing would use this file)")
    if fmt == "euroc":
        from .euroc import EurocSource
        return EurocSource(path)
    if fmt == "rig-v1":
        from .rigv1 import RigV1Source
        return RigV1Source(path if path.is_dir() else path.parent)
    if fmt == "middlebury":
        from .middlebury import MiddleburySource
        return MiddleburySource(path)
    if fmt == "kitti2015":
        from .kitti import Kitti2015Source
        return Kitti2015Source(path)
    if fmt == "kitti-odometry":
        from .kitti import KittiOdometrySource
        return KittiOdometrySource(path)
    if fmt == "pairs":
        from .pairs import PairsFolderSource
        if path.is_file():  # the pairs folder's own-format rig.json itself
            return PairsFolderSource(path.parent, calibration or path)
        return PairsFolderSource(path, calibration)
    if fmt == "video":
        from .video import SideBySideVideoSource
        return SideBySideVideoSource(path, calibration)
    if fmt == "collection":
        children = [open_source(p) for p in sorted(path.iterdir()) if p.is_dir()]
        return CollectionSource(path, children)
    if path.is_dir():
        from .pairs import find_pairs

        if find_pairs(path):
            raise InputError(path, "stereo pairs (*_left/*_right images) but no calibration file: give "
                                   "--calibration FILE")
    raise InputError(path, "unknown dataset layout (expected Middlebury/ETH3D, KITTI, EuRoC ASL, rig-v1, "
                           "a stereo-pairs folder with calibration, or a side-by-side video)")


__all__ = ["open_source", "detect_format", "FrameSource", "CollectionSource"]
