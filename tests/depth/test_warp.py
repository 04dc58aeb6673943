"""Moving a depth map to another pose of the same camera (the camera stage's image-first mode)."""

import numpy as np

from passthrough.depth.warp import source_pixels, warp_depth
from passthrough.geometry import make_T

K = np.array([[100.0, 0.0, 79.5], [0.0, 100.0, 59.5], [0.0, 0.0, 1.0]])


def _wall(z=2.0, shape=(120, 160)):
    return np.full(shape, z, np.float32)


def test_the_identity_returns_the_same_map_without_a_copy():
    d = _wall()
    d[3, 4] = np.nan
    assert warp_depth(d, K, np.eye(4)) is d


def test_stepping_back_from_a_wall_adds_the_step_to_its_depth():
    # the camera moves 0.5 m back (-z): points of the old frame are 0.5 m farther in the new one
    T_new_from_old = make_T(np.eye(3), [0.0, 0.0, 0.5])
    out = warp_depth(_wall(2.0), K, T_new_from_old)
    # the wall shrinks in view: its old image covers the centre, the rim is filled along rows
    assert np.allclose(out[30:90, 40:120], 2.5)
    assert np.isfinite(out).all()


def test_a_sideways_step_shifts_by_the_disparity_and_the_near_surface_wins():
    d = _wall(4.0)
    d[40:80, 70:90] = 1.0  # a near box
    # the camera moves 0.1 m to the right: a point at z shifts left by f * 0.1 / z px (2.5 px wall, 10 px box)
    out = warp_depth(d, K, make_T(np.eye(3), [-0.1, 0.0, 0.0]), fill=False)
    assert np.all(out[45:75, 61:79] == 1.0)  # the box, 10 px to the left, in front of the wall
    # beside the box's right edge the new pose sees wall the old one did not: nothing lands there
    assert np.isnan(out[45:75, 81:86]).all()
    filled = warp_depth(d, K, make_T(np.eye(3), [-0.1, 0.0, 0.0]))
    assert np.all(filled[45:75, 81:86] == 4.0)  # filled from the background side, not with the box


def test_unknown_pixels_move_nowhere():
    d = np.full((120, 160), np.nan, np.float32)
    d[60, 80] = 2.0
    out = warp_depth(d, K, make_T(np.eye(3), [0.02, 0.0, 0.0]), fill=False)
    assert np.isfinite(out).sum() <= 4 and np.nanmin(out) == 2.0  # one point's 2x2 footprint
    assert np.isnan(warp_depth(np.full((8, 8), np.nan, np.float32), K, make_T(np.eye(3), [0.1, 0, 0]))).all()


def test_each_warped_pixel_knows_the_source_pixel_it_shows():
    d = _wall(4.0)
    d[40:80, 70:90] = 1.0  # a near box
    T_new_from_old = make_T(np.eye(3), [-0.1, 0.0, 0.0])  # 0.1 m to the right: box 10 px left, wall 2.5
    out = warp_depth(d, K, T_new_from_old, fill=False)
    ys, xs = np.array([60, 60, 10, 60]), np.array([65, 30, 30, 83])
    sy, sx = source_pixels(out, K, np.linalg.inv(T_new_from_old), ys, xs)
    assert list(sy[:3]) == [60, 60, 10] and sx[0] == 75  # the box: 10 px back to the right
    assert abs(sx[1] - 32.5) <= 0.5 and abs(sx[2] - 32.5) <= 0.5  # the wall: 2.5 px
    assert sy[3] == -1 and sx[3] == -1  # nothing landed there (unknown depth): no source
    # points that fall outside the source image have none either
    far = source_pixels(_wall(4.0), K, make_T(np.eye(3), [5.0, 0.0, 0.0]), np.array([60]), np.array([80]))
    assert far == (-1, -1)
