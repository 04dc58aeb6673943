"""What a replay or a benchmark keeps in memory stays bounded on sequences of any length."""

import numpy as np

from passthrough.pipeline.outputs import EvenlySpaced


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
