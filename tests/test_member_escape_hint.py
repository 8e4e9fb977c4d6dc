"""A member path given to parse with a literal '#', '!' or '%' (the member's name as the zip holds it) says
how such characters are written in member paths (%23, %21, %25), and names the member when it exists."""

from __future__ import annotations

import zipfile
from pathlib import Path

from typer.testing import CliRunner

from imsvalog.cli import app

from .conftest import FIXTURES

LOG = (FIXTURES / "kb000239719" / "log.imss.20190430.0001").read_bytes()


def _bundle(tmp_path: Path) -> Path:
    z = tmp_path / "b.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("IMSVA/log.imss.20190430.0001", LOG)
        f.writestr("IMSVA/odd#name/log.imss.20190430.0002", LOG)
    return z


def test_a_literal_hash_in_a_member_path_names_the_escaped_member(tmp_path: Path) -> None:
    z = _bundle(tmp_path)
    res = CliRunner().invoke(app, ["parse", f"{z}!IMSVA/odd#name"])
    assert res.exit_code == 2
    assert f"no such member in {z}; did you mean {z}!IMSVA/odd%23name (a ! # % inside a member's name" in res.stderr
    ok = CliRunner().invoke(app, ["parse", f"{z}!IMSVA/odd%23name", "--format", "jsonl"])
    assert ok.exit_code == 0 and ok.stdout.count("\n") == 10


def test_a_hash_with_no_such_member_still_says_how_it_is_written(tmp_path: Path) -> None:
    z = _bundle(tmp_path)
    res = CliRunner().invoke(app, ["parse", f"{z}!IMSVA/none#2"])
    assert res.exit_code == 2
    assert "no such member" in res.stderr and "written %21 %23 %25" in res.stderr
    plain = CliRunner().invoke(app, ["parse", f"{z}!IMSVA/none"])
    assert plain.exit_code == 2 and "%23" not in plain.stderr
