"""Hologram scene: meshes from files (open3d), primitives, the rasteriser's depth, pinch-to-grab."""

import base64
import json
import struct

import numpy as np
import pytest

from passthrough.errors import InputError
from passthrough.geometry import make_T
from passthrough.holograms import Scene, composite_eye, composite_layer, load_mesh, render_eye, render_eye_layer
from passthrough.holograms.composite import occlusion_weight
from passthrough.holograms.scene import box, sphere
from passthrough.pipeline.interaction import GrabController

K = np.array([[400.0, 0, 319.5], [0, 400.0, 239.5], [0, 0, 1]])


def _gltf_to_glb(gltf_path, glb_path):
    """Pack a glTF with an embedded base64 buffer into binary glTF (GLB 2.0): header, JSON chunk, BIN chunk.
    (open3d's own GLB writer produces files its reader rejects, so the test makes a valid one.)"""
    doc = json.loads(gltf_path.read_text())
    blob = base64.b64decode(doc["buffers"][0]["uri"].split(",", 1)[1])
    doc["buffers"] = [{"byteLength": len(blob)}]
    js = json.dumps(doc).encode()
    js += b" " * (-len(js) % 4)
    blob += b"\0" * (-len(blob) % 4)
    chunks = struct.pack("<I4s", len(js), b"JSON") + js + struct.pack("<I4s", len(blob), b"BIN\0") + blob
    glb_path.write_bytes(struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks)


def test_mesh_files_load_with_open3d(tmp_path):
    import open3d as o3d

    m = o3d.geometry.TriangleMesh.create_cone(0.1, 0.2)
    for ext in ("ply", "obj", "gltf"):
        o3d.io.write_triangle_mesh(str(tmp_path / f"cone.{ext}"), m)
    _gltf_to_glb(tmp_path / "cone.gltf", tmp_path / "cone.glb")
    for ext in ("ply", "obj", "gltf", "glb"):
        h = load_mesh(tmp_path / f"cone.{ext}")
        assert len(h.triangles) == len(m.triangles) and h.vertices.shape[1] == 3, ext
    (tmp_path / "bad.ply").write_text("ply\nnot really\n")
    with pytest.raises(InputError, match="bad.ply"):
        load_mesh(tmp_path / "bad.ply")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="unsupported"):
        load_mesh(tmp_path / "notes.txt")


def test_rasteriser_depth_is_eye_z():
    scene = Scene([box((0.2, 0.2, 0.2), T_world_from_object=make_T(np.eye(3), [0, 0, 2.0]))])
    color, alpha, depth = render_eye(scene, np.eye(4), K, (640, 480))
    # the box's front face is at z = 1.9 m, seen in the image centre, 0.2 m * 400 / 1.9 = 42 px wide
    assert depth[240, 320] == pytest.approx(1.9, abs=1e-4)
    cols = np.nonzero(alpha[240] > 0)[0]
    assert 40 <= cols.size <= 45
    assert np.isinf(depth[0, 0]) and alpha[0, 0] == 0


def test_compositing_the_holograms_box_equals_compositing_the_whole_eye():
    scene = Scene([box((0.2, 0.2, 0.2), T_world_from_object=make_T(np.eye(3), [0.1, 0.05, 1.5])),
                   sphere(0.1, T_world_from_object=make_T(np.eye(3), [-0.3, 0.0, 2.0]))])
    rng = np.random.default_rng(3)
    room = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
    real = np.full((480, 640), 1.8, np.float32)  # a wall between the box (1.4-1.6 m) and the sphere (2 m)
    real[:, :100] = np.nan
    hands = np.full((480, 640), np.inf, np.float32)
    hands[200:260, 300:340] = 1.0  # a hand in front of part of the box
    full, full_w = composite_eye(room, real, *render_eye(scene, np.eye(4), K, (640, 480)), hands)
    layer = render_eye_layer(scene, np.eye(4), K, (640, 480))
    rows, cols = layer.slices
    assert layer.depth.size < 0.25 * real.size  # only the box is rendered
    eye = room.copy()
    w = composite_layer(eye, real, layer, hands)
    np.testing.assert_array_equal(eye, full)
    np.testing.assert_array_equal(w, full_w[rows, cols])
    assert full_w[rows, cols].sum() == full_w.sum() > 0  # nothing outside the box
    assert render_eye_layer(scene, make_T(np.eye(3), [0, 0, -5.0]), K, (640, 480)) is None  # all behind the eye


def test_soft_depth_edge():
    holo = np.full((1, 5), 1.0, np.float32)
    real = np.array([[0.9, 0.99, 1.0, 1.01, 1.2]], np.float32)
    w = occlusion_weight(holo, real, softness=0.03)[0]
    assert w[0] == 0 and w[-1] == 1 and 0 < w[1] < w[2] < w[3] < 1
    assert occlusion_weight(holo, np.full((1, 5), np.nan, np.float32))[0].min() == 1  # unknown = far


def test_pinch_grabs_and_moves_a_hologram():
    s = sphere(0.1, T_world_from_object=make_T(np.eye(3), [0, 0, 0.5]))
    scene = Scene([s])
    grab = GrabController(scene)
    joints = np.zeros((21, 3))
    joints[4] = joints[8] = [0.02, 0.0, 0.45]  # pinch point inside the sphere's reach
    grab.update([{"handedness": "right", "joints_world": joints, "pinch": True}])
    assert grab.held == {"right": s.name}
    moved = joints + [0.1, -0.05, 0.0]
    grab.update([{"handedness": "right", "joints_world": moved, "pinch": True}])
    assert np.allclose(s.T_world_from_object[:3, 3], [0.1, -0.05, 0.5])
    grab.update([{"handedness": "right", "joints_world": moved, "pinch": False}])
    assert grab.held == {}
    far = joints + [1.0, 0, 0]
    grab.update([{"handedness": "right", "joints_world": far, "pinch": True}])
    assert grab.held == {}  # a pinch away from every hologram grabs nothing
    # ... and swept onto one while still closed, it still grabs nothing (it did: accidental pick-ups)
    grab.update([{"handedness": "right", "joints_world": moved, "pinch": True}])
    assert grab.held == {}
    grab.update([{"handedness": "right", "joints_world": moved, "pinch": False}])
    grab.update([{"handedness": "right", "joints_world": moved, "pinch": True}])  # reopened and closed on it
    assert grab.held == {"right": s.name}


def test_a_hologram_held_by_one_hand_is_not_taken_by_the_other():
    s = sphere(0.1, T_world_from_object=make_T(np.eye(3), [0, 0, 0.5]))
    grab = GrabController(Scene([s]))
    joints = np.zeros((21, 3))
    joints[4] = joints[8] = [0.02, 0.0, 0.45]
    grab.update([{"handedness": "right", "joints_world": joints, "pinch": True}])
    both = [{"handedness": "right", "joints_world": joints + [0.1, 0, 0], "pinch": True},
            {"handedness": "left", "joints_world": joints, "pinch": True}]
    grab.update(both)
    assert grab.held == {"right": s.name}  # the left hand's pinch on it grabs nothing
    assert np.allclose(s.T_world_from_object[:3, 3], [0.1, 0.0, 0.5])  # it follows the right hand only


def test_closed_meshes_skip_back_faces_without_changing_the_image():
    from passthrough.holograms.scene import Hologram, default_scene, is_closed_outward, torus

    scene = default_scene()
    assert all(h.closed for h in scene.holograms)  # the primitives are closed and wound outward
    flat = Scene([Hologram(h.name, h.vertices, h.triangles, h.color_rgb, h.alpha, h.T_world_from_object)
                  for h in scene.holograms])
    for h in flat.holograms:  # the same meshes, rendered with every face rasterised
        h.closed = False
    rng = np.random.default_rng(0)
    for _ in range(20):  # head poses around the start, all outside the holograms
        import cv2

        T = make_T(cv2.Rodrigues(rng.normal(0, 0.2, 3))[0], rng.normal(0, 0.2, 3))
        for a, b in zip(render_eye(scene, T, K, (640, 480)), render_eye(flat, T, K, (640, 480))):
            np.testing.assert_array_equal(a, b)
    t = torus(0.1, 0.03)
    assert not is_closed_outward(t.vertices, t.triangles[:, ::-1])  # wound inward: not culled
    assert not is_closed_outward(t.vertices, t.triangles[:-1])  # a hole: not culled


def _raster_every_pixel(v_eye, tris, fx, fy, cx, cy, H, W):
    """The rasteriser's test done on every pixel of each triangle's box (numpy, the same float64 maths in
    the same order): the reference for its row spans, which must only skip pixels this rejects."""
    depth = np.full((H, W), np.inf, np.float32)
    face = np.full((H, W), -1)
    v = v_eye.astype(np.float64)
    for t, (i0, i1, i2) in enumerate(tris):
        (x0, y0), (x1, y1), (x2, y2) = [(fx * v[i, 0] / v[i, 2] + cx, fy * v[i, 1] / v[i, 2] + cy)
                                        for i in (i0, i1, i2)]
        area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
        if min(v[i0, 2], v[i1, 2], v[i2, 2]) < 0.05 or abs(area) < 1e-12:
            continue
        xa, xb = max(int(np.floor(min(x0, x1, x2))), 0), min(int(np.ceil(max(x0, x1, x2))), W - 1)
        ya, yb = max(int(np.floor(min(y0, y1, y2))), 0), min(int(np.ceil(max(y0, y1, y2))), H - 1)
        if xa > xb or ya > yb:
            continue
        y, x = np.mgrid[ya:yb + 1, xa:xb + 1].astype(np.float64)
        inv_area = 1.0 / area
        w0 = ((x1 - x) * (y2 - y) - (x2 - x) * (y1 - y)) * inv_area
        w1 = ((x2 - x) * (y0 - y) - (x0 - x) * (y2 - y)) * inv_area
        w2 = 1.0 - w0 - w1
        z = 1.0 / (w0 * (1.0 / v[i0, 2]) + w1 * (1.0 / v[i1, 2]) + w2 * (1.0 / v[i2, 2]))
        box = depth[ya:yb + 1, xa:xb + 1]
        wins = (w0 >= 0) & (w1 >= 0) & (w2 >= 0) & (z < box)
        box[wins] = z[wins]
        face[ya:yb + 1, xa:xb + 1][wins] = t
    return depth, face


def test_rasteriser_row_spans_draw_exactly_the_pixels_of_the_per_pixel_test():
    from passthrough.holograms.raster import _raster

    rng = np.random.default_rng(3)
    H, W = 120, 160
    fx = fy = 100.0
    cx, cy = 79.5, 59.5
    for trial in range(40):
        n = 60
        v = np.column_stack([rng.uniform(-1.2, 1.2, n), rng.uniform(-1, 1, n), rng.uniform(0.3, 3, n)])
        if trial % 4 == 0:  # edges exactly on rows and columns (axis-aligned faces seen head-on)
            v[:, :2] = np.round(v[:, :2] * 8) / 8
            v[:, 2] = 1.0
        tris = rng.integers(0, n, (80, 3)).astype(np.int32)
        if trial % 4 == 1:  # slivers: the third vertex nearly on the line through the first two
            a, b = v[tris[:, 0]], v[tris[:, 1]]
            v[tris[:, 2]] = a + rng.uniform(-0.5, 1.5, (80, 1)) * (b - a) + rng.normal(0, 1e-5, (80, 3))
        v = v.astype(np.float32)
        depth = np.full((H, W), np.inf, np.float32)
        color = np.zeros((H, W, 3), np.float32)
        alpha = np.zeros((H, W), np.float32)
        ids = np.arange(len(tris), dtype=np.float32)
        face_bgr = np.repeat(ids[:, None], 3, 1)  # each triangle "coloured" with its own index
        _raster(v, tris, np.ones(len(tris), bool), face_bgr, np.ones(len(tris), np.float32), fx, fy, cx, cy,
                depth, color, alpha)
        ref_depth, ref_face = _raster_every_pixel(v, tris, fx, fy, cx, cy, H, W)
        np.testing.assert_array_equal(depth, ref_depth)
        drawn = np.isfinite(ref_depth)
        np.testing.assert_array_equal(color[..., 0][drawn], ref_face[drawn].astype(np.float32))


def test_a_see_through_hologram_shows_the_hologram_behind_it():
    """Half-transparent red in front of a blue box: the pixel is half red, half blue and fully covered (the
    z-buffer kept only the nearer one, so the real world showed through and the blue box vanished)."""
    blue = box((0.4, 0.4, 0.1), name="blue", color_rgb=(0.0, 0.0, 1.0), T_world_from_object=make_T(np.eye(3), [0, 0, 1.0]))
    red = box((0.2, 0.2, 0.05), name="red", color_rgb=(1.0, 0.0, 0.0), alpha=0.5,
              T_world_from_object=make_T(np.eye(3), [0, 0, 0.6]))
    color, alpha, depth = render_eye(Scene([blue, red]), np.eye(4), K, (640, 480))
    b_alone, *_ = render_eye(Scene([blue]), np.eye(4), K, (640, 480))
    r_alone, *_ = render_eye(Scene([red]), np.eye(4), K, (640, 480))
    c = (240, 320)
    assert alpha[c] == pytest.approx(1.0) and depth[c] == pytest.approx(0.575, abs=1e-4)  # the red box's front
    np.testing.assert_allclose(color[c], 0.5 * r_alone[c] + 0.5 * b_alone[c], atol=1e-6)  # BGR: both show
    # behind an opaque hologram a see-through one is hidden; order in the scene does not matter
    color2, alpha2, _ = render_eye(Scene([red, blue]), np.eye(4), K, (640, 480))
    np.testing.assert_allclose(color2, color, atol=1e-6)
    np.testing.assert_allclose(alpha2, alpha, atol=1e-6)
    hidden = box((0.1, 0.1, 0.05), color_rgb=(0.0, 1.0, 0.0), alpha=0.5, T_world_from_object=make_T(np.eye(3), [0, 0, 1.5]))
    color3, alpha3, _ = render_eye(Scene([blue, hidden]), np.eye(4), K, (640, 480))
    np.testing.assert_allclose(color3, b_alone, atol=1e-6)
    # a see-through hologram alone keeps its colour and opacity over the real world
    _, a_red, _ = render_eye(Scene([red]), np.eye(4), K, (640, 480))
    assert a_red[c] == pytest.approx(0.5)


def test_a_y_up_mesh_file_stands_upright_in_the_opencv_world(tmp_path):
    """Mesh files are Y-up (glTF's convention): a spike pointing to +y in the file points up in the replay's
    world, whose +y is down (it was drawn upside down), and its front (+z) faces the viewer."""
    from passthrough.geometry import transform_points
    from passthrough.pipeline.factory import make_scene

    spike = tmp_path / "spike.obj"  # a tetrahedron: apex up (+y), tip of the base forward (+z)
    spike.write_text("v -0.1 0 0\nv 0.1 0 0\nv 0 0 0.1\nv 0 0.5 0\nf 1 3 2\nf 1 2 4\nf 2 3 4\nf 3 1 4\n")
    holo = make_scene([spike]).holograms[0]
    w = transform_points(holo.T_world_from_object, holo.vertices)  # (open3d may reorder the vertices)
    y, z = w[:, 1], w[:, 2]
    assert y.min() < np.median(y) - 0.1 and y.max() - np.median(y) < 0.01  # the apex is above (smaller y)
    assert z.min() < np.median(z) - 0.01 and z.max() - np.median(z) < 0.01  # the front tip nearer the viewer


def test_xr_head_anchored_meshes_stand_upright_and_world_anchored_ones_keep_their_axes(tmp_path):
    from openxr_app.hologram import parse_holograms

    spike = tmp_path / "spike.obj"
    spike.write_text("v -0.1 0 0\nv 0.1 0 0\nv 0 0 0.1\nv 0 0.5 0\nf 1 3 2\nf 1 2 4\nf 2 3 4\nf 3 1 4\n")
    for anchor, up in (("head", -1.0), ("world", 1.0)):  # head: OpenCV axes; world: OpenXR's (+y up)
        scene = parse_holograms({"anchor": anchor, "boxes": [{"mesh": str(spike), "center": [0, 0, 1]}]})
        v = scene.boxes[0].vertices
        assert np.sign(v[3, 1] - v[:3, 1].mean()) == up, anchor
