"""The CLI: every subcommand documents itself with an example; info works on every shared folder."""

import json

import pytest

from passthrough.cli import COMMANDS, EVAL_COMMANDS, _available


def test_top_level_help_lists_commands(cli):
    r = cli("--help")
    assert r.returncode == 0
    for name in ("info", "replay", "record", "eval"):
        assert name in r.stdout


@pytest.mark.parametrize("name", [n for n, c in COMMANDS.items() if _available(c[2])])
def test_subcommand_help_has_example(cli, name):
    r = cli(name, "--help")
    assert r.returncode == 0, r.stderr
    assert "example:" in r.stdout and f"passthrough {name}" in r.stdout


@pytest.mark.parametrize("name", [n for n, c in EVAL_COMMANDS.items() if _available(c[2])])
def test_eval_help_has_example(cli, name):
    r = cli("eval", name, "--help")
    assert r.returncode == 0, r.stderr
    assert "example:" in r.stdout


def _all_folders(root):
    return [p for p in sorted(root.glob("*/*")) if p.is_dir()]


def test_info_on_every_shared_folder(cli, shared_data):
    folders = [p for p in sorted(shared_data.rglob("*")) if p.is_dir()]
    folders = [shared_data] + [p for p in folders if "middlebury2014-trainingQ-images/" not in str(p) and p.name != "mav0"
                               and p.parent.name != "mav0" and p.name not in ("image_l", "image_r", "data")]
    assert len(folders) >= 14
    for folder in folders:
        r = cli("info", folder, "--json")
        assert r.returncode == 0, (folder, r.stderr)
        facts = json.loads(r.stdout)
        assert facts["frames"] >= 1 and facts["format"]


def test_info_on_a_collection_of_different_datasets_lists_each(cli, shared_data):
    """EuRoC (752x480, 20 Hz) beside KITTI (1241x376, 10 Hz): no single resolution or rate is claimed."""
    facts = json.loads(cli("info", shared_data / "sequences", "--json").stdout)
    assert facts["resolution"] == facts["rate_hz"] == facts["calibration"] == "varies (see datasets)"
    rows = facts["datasets"]
    assert len(rows) == 2 and "752x480, 20 Hz" in rows[0] and "1241x376, 10 Hz" in rows[1]
