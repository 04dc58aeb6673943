"""The numba census SGM (int16 path sweeps, packed horizontal paths, fused winner-take-all) equals a
plain numpy transcription of the textbook recursion, path by path."""

import numpy as np
import pytest

from passthrough.depth import SGMParams, census_sgm
from passthrough.depth import _kernels as K


def _reference_paths(cost, img, p1, p2, directions):
    """Sum over ``directions`` (dy, dx) of Hirschmüller's path costs, in int64.

    ``cost``: (H, D, W) uint8; ``L_r(p, d) = C(p, d) + min(L_r(p-r, d), L_r(p-r, d±1) + P1,
    min_k L_r(p-r, k) + P2') - min_k L_r(p-r, k)``, ``P2'`` from the kernels' own table; a path
    restarts (``L = C``) where ``p - r`` is outside the image.
    """
    h, nd, w = cost.shape
    table = K.p2_table(float(p1), float(p2)).astype(np.int64)
    c = cost.astype(np.int64)
    total = np.zeros((h, nd, w), np.int64)
    for dy, dx in directions:
        L = np.zeros((h, nd, w), np.int64)
        ys = range(h) if dy >= 0 else range(h - 1, -1, -1)
        xs = list(range(w) if dx >= 0 else range(w - 1, -1, -1))
        for y in ys:
            for x in xs:
                py, px = y - dy, x - dx
                if not (0 <= py < h and 0 <= px < w):
                    L[y, :, x] = c[y, :, x]
                    continue
                prev = L[py, :, px]
                m = prev.min()
                pen2 = table[abs(int(img[y, x]) - int(img[py, px]))]
                up = np.concatenate([prev[1:], [10 ** 9]])
                down = np.concatenate([[10 ** 9], prev[:-1]])
                best = np.minimum(np.minimum(prev, m + pen2), np.minimum(up, down) + int(round(p1)))
                L[y, :, x] = c[y, :, x] + best - m
        total += L
    return total


@pytest.mark.parametrize("paths, directions", [
    (4, [(0, 1), (0, -1), (1, 0), (-1, 0)]),
    (8, [(0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1)]),
])
def test_aggregated_winner_equals_numpy_reference(paths, directions):
    rng = np.random.default_rng(7)
    left = rng.integers(0, 255, (14, 23), dtype=np.uint8)
    left[:, 11:] //= 3  # an intensity edge, so the adaptive P2 varies
    right = np.roll(left, -2, axis=1)
    nd = 6
    params = SGMParams(census_radius=(1, 2), p1=8.0, p2=60.0, paths=paths, uniqueness=0, lr_max_diff=-1.0,
                       subpixel="none", border_check=False)
    disp, _status = census_sgm(left, right, nd, params)

    ry, rx = params.census_radius
    border = np.uint8((2 * ry + 1) * (2 * rx + 1) - 1)
    cost = K.census_cost_volume(K.census_transform(left, ry, rx), K.census_transform(right, ry, rx), nd, border,
                                np.empty((left.shape[0], nd, left.shape[1]), np.uint8))
    total = _reference_paths(cost, left, params.p1, params.p2, directions)
    wta = total.argmin(axis=1)
    best = total.min(axis=1)
    d = np.arange(nd)[None, :, None]
    far = np.abs(d - wta[:, None, :]) > 1
    second = np.where(far, total, np.iinfo(np.int64).max).min(axis=1)
    expected = np.where(best >= second, -1.0, wta.astype(np.float32))  # uniqueness 0: ties are not unique
    np.testing.assert_array_equal(disp, expected)
