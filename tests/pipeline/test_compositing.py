"""Holograms against the real, reprojected room: nearer than the real surface shows, behind it hides,
and a tracked hand in front hides it too. Real data: OAK-D pairs (desk, pov_hands)."""

import numpy as np

from passthrough.geometry import invert_T, make_T, transform_points
from passthrough.holograms.scene import box
from passthrough.pipeline.scheduler import hands_to_world


def _first_output(pipe):
    frame = next(iter(pipe.source))
    cam = pipe.camera_stage.process(frame)
    views = pipe.eye_fn(frame.t_left_ns)
    return cam, views


def _place_box_on_ray(scene, view, pixel, depth_m, size=0.08):
    """A box centred on the ray through ``pixel`` of the eye, ``depth_m`` ahead of the eye."""
    K = view.K
    ray = np.array([(pixel[0] - K[0, 2]) / K[0, 0], (pixel[1] - K[1, 2]) / K[1, 1], 1.0])
    centre_world = transform_points(view.T_world_from_eye, ray * depth_m)
    scene.holograms[:] = [box((size, size, size), T_world_from_object=make_T(np.eye(3), centre_world),
                              color_rgb=(1.0, 0.0, 1.0))]


def test_hologram_behind_real_surface_is_hidden_and_in_front_is_shown(make_pipeline):
    pipe = make_pipeline(("desk",))
    cam, views = _first_output(pipe)
    out = pipe.display_stage.render(cam, views)
    # the back wall above the desk (upper middle of the left eye): a well-textured, known real depth
    depth = out.eye_depth[0]
    y, x = 120, 330
    patch = depth[y - 8:y + 9, x - 8:x + 9]
    assert np.isfinite(patch).mean() > 0.9
    real_z = float(np.nanmedian(patch))
    assert 0.8 < real_z < 6.0
    scene = pipe.display_stage.scene
    for factor, expect_visible in ((0.6, True), (1.6, False)):
        _place_box_on_ray(scene, views[0], (x, y), real_z * factor, size=0.03 * real_z)
        res = pipe.display_stage.render(cam, views)
        w = res.holo_weight[0][y - 2:y + 3, x - 2:x + 3]
        if expect_visible:
            assert w.mean() > 0.95, factor
            # and the pixels are magenta
            b, g, r = res.eyes_bgr[0][y, x].astype(int)
            assert r > 150 and b > 150 and g < 80
        else:
            assert w.max() == 0.0, factor
            assert np.array_equal(res.eyes_bgr[0][y, x], out.eyes_bgr[0][y, x])


def test_tracked_hand_hides_a_hologram_behind_it(make_pipeline):
    from hand_tracking.models import load_sessions
    from hand_tracking.stereo import RectifiedStereo, StereoHandTracker

    pipe = make_pipeline(("pov_hands",))
    cam, views = _first_output(pipe)
    tracker = StereoHandTracker(RectifiedStereo.from_rig(pipe.source.rig), load_sessions(build_if_missing=False))
    snap = hands_to_world(tracker.process(cam.left_gray, cam.right_gray, cam.t_capture_ns), cam.T_world_from_left)
    assert len(snap.hands) >= 1
    joints = snap.hands[0]["joints_world"]
    palm_world = joints[[0, 5, 9, 13, 17]].mean(0)
    view = views[0]
    palm_eye = transform_points(invert_T(view.T_world_from_eye), palm_world)
    K = view.K
    px = (K[0, 0] * palm_eye[0] / palm_eye[2] + K[0, 2], K[1, 1] * palm_eye[1] / palm_eye[2] + K[1, 2])
    # a hologram 25 cm behind the palm; real depth made unknown so only the hand can hide it
    _place_box_on_ray(pipe.display_stage.scene, view, px, palm_eye[2] + 0.25, size=0.05)
    cam.depth_left[:] = np.nan
    cam.depth_right[:] = np.nan
    x, y = int(round(px[0])), int(round(px[1]))
    shown = pipe.display_stage.render(cam, views, hands_world=None).holo_weight[0][y - 2:y + 3, x - 2:x + 3]
    hidden = pipe.display_stage.render(cam, views, hands_world=[h["joints_world"] for h in snap.hands])
    assert shown.mean() > 0.95
    assert hidden.holo_weight[0][y - 2:y + 3, x - 2:x + 3].max() == 0.0


def test_far_hologram_in_the_periphery_past_the_cameras_is_shown(make_pipeline):
    """The eyes sit 9 cm behind the cameras with the cameras' field of view, so the bottom rows of an eye
    look past both camera images: no real depth there (not the depth fill's extrapolation), and a
    hologram far behind the room shows instead of being hidden behind a guessed surface."""
    pipe = make_pipeline(("desk",))
    cam, views = _first_output(pipe)
    out = pipe.display_stage.render(cam, views)
    h, w = out.eye_depth[0].shape
    x, y = int(0.75 * w), h - 3
    assert np.isnan(out.eye_depth[0][y - 1:y + 2, x - 1:x + 2]).all()
    assert np.isfinite(out.eye_depth[0][h // 2]).mean() > 0.95  # the middle row sees the room
    scene = pipe.display_stage.scene
    _place_box_on_ray(scene, views[0], (x, y), 20.0, size=1.0)
    res = pipe.display_stage.render(cam, views)
    assert res.holo_weight[0][y - 1:y + 2, x - 1:x + 2].min() > 0.95
