"""The stereo frame: what every frame source yields and every stage consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Tuple

import numpy as np

from .calibration import StereoRig


@dataclass
class StereoFrame:
    """One stereo capture.

    Attributes:
        left, right: images as captured (not rectified): uint8 (H, W) grayscale or (H, W, 3) BGR.
        t_left_ns, t_right_ns: capture timestamps in nanoseconds (source clock; host clock for live).
        index: 0-based frame index within its source.
        rig: the source's :class:`~passthrough.calibration.StereoRig`.
        gt_disparity: float32 (H, W) ground-truth disparity of the left rectified image in pixels,
            NaN where unknown, or None.
        gt_mask_nonocc: bool (H, W), True where the left pixel is visible in the right image, or None.
        T_world_from_head: (4, 4) ground-truth head pose at ``t_left_ns`` if the source has one.
        name: a label (file stem, scene name).
    """

    left: np.ndarray
    right: np.ndarray
    t_left_ns: int
    t_right_ns: int
    index: int
    rig: StereoRig
    gt_disparity: Optional[np.ndarray] = None
    gt_mask_nonocc: Optional[np.ndarray] = None
    T_world_from_head: Optional[np.ndarray] = None
    name: str = ""
    _rectified: Optional[Tuple[np.ndarray, np.ndarray]] = field(default=None, repr=False, compare=False)

    @property
    def t_ns(self) -> int:
        """The frame's timestamp: the left capture time."""
        return self.t_left_ns

    def rectified(self) -> Tuple[np.ndarray, np.ndarray]:
        """Left and right images rectified with the rig (computed once per frame)."""
        if self._rectified is None:
            self._rectified = self.rig.rectify(self.left, self.right)
        return self._rectified
