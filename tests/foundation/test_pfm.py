"""PFM files: bottom-up rows, negative scale = little-endian, inf = unknown."""

import numpy as np
import pytest

from passthrough.errors import InputError
from passthrough.io.pfm import read_pfm, write_pfm


def test_reads_middlebury_ground_truth(shared_data):
    d = read_pfm(shared_data / "stereo/middlebury2014-Motorcycle-Q/disp0GT.pfm")
    assert d.shape == (497, 741) and d.dtype == np.float32
    known = np.isfinite(d)
    assert 0.5 < known.mean() < 1.0  # inf marks unknown pixels
    # calib.txt: vmin=7, vmax=65 (disparity range of the scene)
    assert 5 < np.percentile(d[known], 1) and np.percentile(d[known], 99) < 70


def test_roundtrip_keeps_orientation_and_inf(tmp_path):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    a[0, 0] = np.inf
    write_pfm(tmp_path / "a.pfm", a)
    b = read_pfm(tmp_path / "a.pfm")
    assert np.array_equal(a, b)
    raw = (tmp_path / "a.pfm").read_bytes()
    # rows are stored bottom-up: the file ends with the image's top row
    assert np.frombuffer(raw[-16:], dtype="<f4")[1:].tolist() == [1.0, 2.0, 3.0]
    assert np.frombuffer(raw[-48:-32], dtype="<f4").tolist() == [8.0, 9.0, 10.0, 11.0]


def test_big_endian_and_truncated(tmp_path):
    a = np.array([[1.5, -2.0]], dtype=np.float32)
    (tmp_path / "be.pfm").write_bytes(b"Pf\n2 1\n1.0\n" + a.astype(">f4").tobytes())
    assert np.array_equal(read_pfm(tmp_path / "be.pfm"), a)
    (tmp_path / "t.pfm").write_bytes(b"Pf\n2 2\n-1.0\n" + a.astype("<f4").tobytes())
    with pytest.raises(InputError, match="truncated"):
        read_pfm(tmp_path / "t.pfm")
