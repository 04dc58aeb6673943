"""Palm detector pieces: SSD anchors and weighted NMS."""

import numpy as np

from hand_tracking.palm import PalmDetection, palm_to_roi, ssd_anchors, weighted_nms


def test_ssd_anchors_match_blazepalm_layout():
    a = ssd_anchors()
    assert a.shape == (2016, 2)
    # stride 8: 24x24 cells x 2 anchors, then stride 16: 12x12 cells x 6 anchors
    np.testing.assert_allclose(a[0], [0.5 / 24, 0.5 / 24])
    np.testing.assert_allclose(a[1], a[0])
    np.testing.assert_allclose(a[1152], [0.5 / 12, 0.5 / 12])
    np.testing.assert_allclose(a[-1], [11.5 / 12, 11.5 / 12])


def test_weighted_nms_merges_overlapping_boxes_and_keeps_separate_ones():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], np.float32)
    kps = np.zeros((3, 7, 2), np.float32)
    scores = np.array([0.9, 0.6, 0.8], np.float32)
    out = weighted_nms(boxes, kps, scores, 0.3)
    assert len(out) == 2
    box, _, score = out[0]
    assert score == np.float32(0.9)
    np.testing.assert_allclose(box[0], 0.6 / 1.5, rtol=1e-5)  # score-weighted mean of x0 = 0 and 1
    np.testing.assert_allclose(out[1][0], boxes[2])


def test_palm_roi_points_fingers_up_in_the_crop():
    # wrist below the middle-finger MCP (upright hand): no rotation, ROI shifted towards the fingers
    kp = np.zeros((7, 2), np.float32)
    kp[0], kp[2] = [100, 200], [100, 150]
    roi = palm_to_roi(PalmDetection(np.array([75, 150, 125, 200], np.float32), kp, 0.9))
    assert abs(roi.rotation) < 1e-6
    assert roi.cy < 175 and abs(roi.size - 2.6 * 50) < 1e-3
    # hand pointing right (fingers towards +x): rotated by +90 degrees
    kp[0], kp[2] = [100, 200], [150, 200]
    roi = palm_to_roi(PalmDetection(np.array([100, 175, 150, 225], np.float32), kp, 0.9))
    assert abs(roi.rotation - np.pi / 2) < 1e-6
    assert roi.cx > 125
