"""Replay outputs: depth colours fit the scene, and what a replay or a benchmark keeps in memory stays
bounded on sequences of any length."""

import cv2
import numpy as np

from passthrough.pipeline.outputs import EvenlySpaced, depth_colormap, depth_display_range


def test_depth_colours_fit_a_road_as_well_as_a_room():
    rng = np.random.default_rng(0)
    room = rng.uniform(0.5, 5.0, (120, 160)).astype(np.float32)
    road = rng.uniform(5.0, 80.0, (120, 160)).astype(np.float32)
    road[:10] = np.nan  # sky without depth
    for depth in (room, road):
        near, far = depth_display_range(depth)
        assert near < np.nanpercentile(depth, 5) and far > np.nanpercentile(depth, 95)
        colours = np.unique(depth_colormap(depth, near, far).reshape(-1, 3), axis=0)
        assert len(colours) > 100  # many shades, not one saturated colour
    assert len(np.unique(depth_colormap(road).reshape(-1, 3), axis=0)) < 60  # the old fixed 0.3-6 m range
    assert depth_display_range(np.full((50, 50), np.nan, np.float32)) == (0.3, 6.0)


def test_contact_sheet_candidates_stay_bounded_and_evenly_spaced():
    kept = EvenlySpaced(cap=8)
    made = []
    for i in range(1000):  # a long replay: one candidate per camera frame
        kept.offer(lambda i=i: made.append(i) or i)
    assert len(kept.items) <= 8
    assert kept.items[0] == 0  # the first frame always stays
    steps = np.diff(kept.items)
    assert len(set(steps)) == 1 and steps[0] * len(kept.items) >= 500  # even spacing over the whole run
    assert len(made) < 100  # thumbnails are only made for candidates that are kept


def test_short_streams_keep_everything():
    kept = EvenlySpaced(cap=8)
    for i in range(5):
        kept.offer(lambda i=i: i)
    assert kept.items == [0, 1, 2, 3, 4]


def test_benchmark_reads_only_the_frames_it_uses():
    from benchmarks.cli import MAX_DISTINCT_FRAMES, _first_frames

    class Endless:
        path = "endless"
        read = 0

        def __iter__(self):
            while True:
                Endless.read += 1
                yield Endless.read

    frames = _first_frames(Endless(), 10 ** 6)
    assert len(frames) == MAX_DISTINCT_FRAMES and Endless.read == MAX_DISTINCT_FRAMES


def test_contact_sheet_shows_different_camera_frames_first():
    from passthrough.pipeline.outputs import sheet_rows

    # the demo: four stills, each shown at several head poses (one candidate per new camera frame and
    # every 45th display frame); the sheet shows each still once, whatever the frame timing
    cands = [(0, "a"), (1, "b"), (1, "c"), (2, "d"), (2, "e"), (3, "f"), (3, "g")]
    assert sheet_rows(cands) == ["a", "b", "d", "f"]
    assert sheet_rows([(0, "a"), (1, "b"), (2, "c"), (2, "d"), (3, "e"), (3, "f")]) == ["a", "b", "c", "e"]
    # fewer camera frames than rows: the same frame at other head poses fills the sheet
    assert sheet_rows([(0, "a"), (0, "b"), (1, "c"), (1, "d")]) == ["a", "b", "c", "d"]
    assert sheet_rows([]) == []


def test_an_odd_sized_video_keeps_every_column(tmp_path):
    """MPEG-4 part 2 takes even sizes only; a 1241 px wide frame (KITTI) is padded, not cropped."""
    from passthrough.pipeline.outputs import _Video

    img = np.zeros((375, 1241, 3), np.uint8)
    img[:, -8:] = 255  # a white stripe at the right edge
    v = _Video(tmp_path / "odd.mp4", 10.0)
    for _ in range(3):
        v.write(img)
    v.close()
    cap = cv2.VideoCapture(str(tmp_path / "odd.mp4"))
    ok, frame = cap.read()
    assert ok and frame.shape == (376, 1242, 3)
    assert frame[:375, 1236:1241].mean() > 200 and frame[:375, :1200].mean() < 20  # the last columns are there
