"""Camera stage: the right camera's depth comes from the left disparity, forward-warped and hole-filled."""

import numpy as np

from passthrough.pipeline.camera_stage import right_disparity_from_left, right_disparity_rows


def _scene():
    """Left disparity of a far wall (10 px) with a near square (30 px) at columns 60..79."""
    d = np.full((20, 160), 10.0, np.float32)
    d[5:15, 60:80] = 30.0
    return d


def test_near_surface_wins_and_lands_where_the_right_camera_sees_it():
    dr = right_disparity_from_left(_scene())
    assert np.all(dr[5:15, 31:49] == 30.0)  # the square, shifted left by its 30 px disparity
    assert np.all(dr[0, 10:140] == 10.0)  # rows without the square: the wall, shifted by 10 px


def test_what_only_the_right_camera_sees_gets_the_background_not_the_occluder():
    d = _scene()
    dr = right_disparity_from_left(d)
    assert np.isfinite(dr).all()
    # right of the square the right camera sees wall the left camera's square hides (columns 50..69):
    # filled with the wall's disparity, not smeared from the square
    assert np.all(dr[5:15, 51:69] == 10.0)
    # the right border (columns 150..159: beyond the left image) continues the wall
    assert np.all(dr[:, 150:] == 10.0)


def test_unfilled_warp_marks_the_holes_nan():
    dr = right_disparity_from_left(_scene(), fill=False)
    assert np.isnan(dr[5:15, 51:69]).all() and np.isnan(dr[:, 151:]).all()
    assert np.isfinite(dr[5:15, 31:49]).all()


def test_invalid_left_pixels_write_nothing():
    d = np.full((1, 40), np.nan, np.float32)
    d[0, 30] = 5.0  # one valid pixel: right columns 25 and 26
    dr = right_disparity_from_left(d, fill=False)
    assert np.nonzero(np.isfinite(dr[0]))[0].tolist() == [25, 26] and dr[0, 25] == 5.0


def test_unrelated_stills_are_not_filtered_into_each_other(make_pipeline, oakd):
    """A folder of stills has no rate: its frames are different scenes, so the camera stage must not
    carry one's depth into the next (the temporal filter is for sequences). Depth of the second still
    equals that of the still on its own."""
    from passthrough.datasets.pairs import PairsFolderSource

    camera = make_pipeline(pairs=("pov_hands", "desk")).camera_stage
    after_hands = [camera.process(f) for f in PairsFolderSource(oakd, only=("pov_hands", "desk"))][1]
    alone = make_pipeline(pairs=("desk",)).camera_stage.process(next(iter(PairsFolderSource(oakd, only=("desk",)))))
    np.testing.assert_array_equal(np.nan_to_num(after_hands.depth_left, nan=-1), np.nan_to_num(alone.depth_left, nan=-1))


def test_early_output_refreshes_the_depth_of_what_moved(tmp_path, cli, make_pipeline):
    """Image-first mode on a static rig: the early output's depth is the previous frame's, re-chosen where
    the new pair contradicts it (a plate moving at 1.5 m/s, 5 cm per frame): closer to the frame's own
    depth there, the rest untouched, and the right map follows the left on the rows that changed."""
    from passthrough.datasets import open_source

    out = tmp_path / "seq"
    r = cli("synth", "--sequence", "2", "--hand-speed", "1.5", "--out", out, "--width", "320", "--height", "240",
            "--supersample", "1")
    assert r.returncode == 0, r.stderr
    src = open_source(out)
    cs = make_pipeline(source=src, early_image=True).camera_stage
    assert cs.refresh  # the default (--early-depth refresh)
    f0, f1 = list(src)
    prev = cs.finish(cs.rectify(f0))
    rect = cs.rectify(f1)
    plain, fresh, own = cs.early(rect, prev, refresh=False), cs.early(rect, prev), cs.finish(rect)
    assert plain.depth_left is prev.depth_left and plain.depth_right is prev.depth_right  # as it was
    rig = src.rig
    d_plain, d_fresh, d_own = (rig.depth_to_disparity(c.depth_left) for c in (plain, fresh, own))
    moved = np.abs(d_plain - d_own) > 2  # where the plate was or is now
    assert moved.sum() > 500
    err = lambda d: np.nanmean(np.abs(d - d_own)[moved])  # noqa: E731
    assert err(d_fresh) < 0.6 * err(d_plain)
    touched = ~(d_fresh == d_plain)
    assert touched.any() and (touched & ~moved).sum() < 0.2 * touched.sum()
    rows = np.zeros(len(touched), bool)  # the rows the refresh touched and those between them
    lo, hi = np.flatnonzero(touched.any(axis=1))[[0, -1]]
    rows[lo:hi + 1] = True
    expect_r = rig.disparity_to_depth(right_disparity_from_left(d_fresh))
    np.testing.assert_allclose(fresh.depth_right[rows], expect_r[rows], rtol=1e-5)
    np.testing.assert_array_equal(fresh.depth_right[~rows], prev.depth_right[~rows])
    for lo, hi in ((0, 3), (100, 140), (230, 240)):  # any band of rows is the full map's
        np.testing.assert_array_equal(right_disparity_rows(d_own, lo, hi), right_disparity_from_left(d_own)[lo:hi])
    assert fresh.depth_index == prev.index and fresh.disparity is prev.disparity


def test_on_a_moving_rig_the_early_depth_is_refreshed_too(tmp_path, cli, make_pipeline):
    """A head swaying 5 cm (and turning) while the plate moves: the previous depth is moved to the new
    pose, then refreshed where the new pair contradicts it (each new pixel compared with the old pixel it
    shows); the right map follows the left."""
    from passthrough.datasets import open_source

    out = tmp_path / "seq"
    r = cli("synth", "--sequence", "4", "--hand-speed", "1.5", "--head-sway", "0.05", "--out", out,
            "--width", "320", "--height", "240", "--supersample", "1")
    assert r.returncode == 0, r.stderr
    src = open_source(out)
    cs = make_pipeline(source=src, early_image=True, head_path=None).camera_stage  # the ground-truth poses
    frames = list(src)
    prev = cs.finish(cs.rectify(frames[2]))
    rect = cs.rectify(frames[3])
    assert not np.allclose(rect.T_world_from_left, prev.T_world_from_left)  # the rig moved
    plain, fresh, own = cs.early(rect, prev, refresh=False), cs.early(rect, prev), cs.finish(rect)
    rig = src.rig
    d_plain, d_fresh, d_own = (rig.depth_to_disparity(c.depth_left) for c in (plain, fresh, own))
    off = np.abs(d_plain - d_own) > 2  # the moved plate (and what the warp got wrong)
    assert off.sum() > 300
    err = lambda d: np.nanmean(np.abs(d - d_own)[off])  # noqa: E731
    assert err(d_fresh) < 0.8 * err(d_plain)
    np.testing.assert_allclose(fresh.depth_right, rig.disparity_to_depth(right_disparity_from_left(d_fresh)),
                               rtol=1e-5)


def test_each_camera_is_drawn_through_its_own_principal_point(shared_data, make_pipeline):
    """Middlebury's pairs are rectified with the right principal point ``doffs`` (32.8 px) further right: an
    eye at the right camera's own pose, with its intrinsics, sees exactly the right image (it was drawn
    through the left camera's principal point: 11.9 dB against the right image)."""
    from passthrough.datasets import open_source
    from passthrough.holograms import Scene
    from passthrough.pipeline.eyes import EyeView

    src = open_source(shared_data / "stereo/middlebury2014-Motorcycle-Q")
    pipe = make_pipeline(source=src)
    pipe.display_stage.scene = Scene()  # no holograms over the image
    cam = pipe.camera_stage.process(next(iter(src)))
    assert cam.K_right[0, 2] - cam.K[0, 2] == src.rig.doffs > 30
    size = src.rig.rectified_size
    for T, K, image in ((cam.T_world_from_left, cam.K, cam.left_bgr), (cam.T_world_from_right, cam.K_right, cam.right_bgr)):
        out = pipe.display_stage.render(cam, [EyeView(T, K, size)] * 2, None)
        err = np.abs(out.eyes_bgr[0].astype(np.int16) - image.astype(np.int16))[:, 60:-60]  # the cameras' overlap
        assert np.mean(err <= 1) > 0.99, np.mean(err)
