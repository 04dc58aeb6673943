"""Rectification of EuRoC's distorted stereo pair: corresponding features end up on the same row."""

import cv2
import numpy as np

from passthrough.datasets import open_source


def _row_offsets(left, right):
    """Sub-pixel vertical offsets of tracked corners between left and right images."""
    pts = cv2.goodFeaturesToTrack(left, maxCorners=600, qualityLevel=0.01, minDistance=8)
    nxt, status, err = cv2.calcOpticalFlowPyrLK(left, right, pts, None, winSize=(21, 21), maxLevel=4)
    ok = status.ravel() == 1
    d = (nxt - pts).reshape(-1, 2)[ok]
    back, st2, _ = cv2.calcOpticalFlowPyrLK(right, left, nxt[ok], None, winSize=(21, 21), maxLevel=4)
    consistent = (np.linalg.norm((back - pts[ok]).reshape(-1, 2), axis=1) < 0.5) & (st2.ravel() == 1)
    return d[consistent]


def test_euroc_rectified_rows_match(shared_data):
    src = open_source(shared_data / "sequences/euroc-MH_01_easy-first5")
    dys_rect, dys_raw = [], []
    for frame in src:
        left, right = frame.rectified()
        d = _row_offsets(left, right)
        assert len(d) > 50
        assert np.median(d[:, 0]) < 0  # the scene shifts left in the right camera
        dys_rect.append(np.abs(d[:, 1]))
        dys_raw.append(np.abs(_row_offsets(frame.left, frame.right)[:, 1]))
    assert np.median(np.concatenate(dys_rect)) < 0.5
    assert np.median(np.concatenate(dys_raw)) > 2 * np.median(np.concatenate(dys_rect))


def test_rectification_maps_are_cached(shared_data):
    src = open_source(shared_data / "sequences/euroc-MH_01_easy-first5")
    rig = src.rig
    frame = next(iter(src))
    frame.rectified()
    maps = rig._rect["maps"]
    next(iter(src)).rectified()
    assert rig._rect["maps"] is maps
