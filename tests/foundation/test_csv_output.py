"""``passthrough.io.csvfile.write_csv``: the CSV logs the commands write (frames.csv, --frame-log)."""

import csv
import os

import pytest

from passthrough.errors import InputError
from passthrough.io.csvfile import write_csv


def test_rows_become_a_header_and_one_line_each_in_first_seen_column_order(tmp_path):
    path = write_csv(tmp_path / "new" / "frames.csv", [{"index": 0, "ms": 1.23456}, {"index": 1, "extra": "x", "ms": 2.0}],
                     float_digits=3)
    assert path == tmp_path / "new" / "frames.csv"  # the folder is made
    rows = list(csv.DictReader(open(path)))
    assert list(rows[0]) == ["index", "ms", "extra"]
    assert rows == [{"index": "0", "ms": "1.235", "extra": ""}, {"index": "1", "ms": "2.000", "extra": "x"}]


def test_no_rows_give_the_header_of_the_columns_asked_for_or_an_empty_file(tmp_path):
    assert write_csv(tmp_path / "a.csv", [], columns=["index"]).read_text().strip() == "index"
    assert write_csv(tmp_path / "b.csv", []).read_text() == ""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (a device that is always full)")
def test_a_write_the_system_refuses_names_the_file():
    with pytest.raises(InputError) as err:
        write_csv("/dev/full", [{"index": i, "ms": 0.5} for i in range(10000)])
    assert "/dev/full" in str(err.value) and "cannot write" in str(err.value)
