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
    assert f"no such member in {z}; did you mean {z}!IMSVA/odd%23name (a member's name holding ! or # is written " \
           "with %21 and %23, and its % then as %25; other names as they are)?" in res.stderr
    ok = CliRunner().invoke(app, ["parse", f"{z}!IMSVA/odd%23name", "--format", "jsonl"])
    assert ok.exit_code == 0 and ok.stdout.count("\n") == 10


def test_a_hash_with_no_such_member_still_says_how_it_is_written(tmp_path: Path) -> None:
    z = _bundle(tmp_path)
    res = CliRunner().invoke(app, ["parse", f"{z}!IMSVA/none#2"])
    assert res.exit_code == 2
    assert "no such member" in res.stderr and "is written with %21 and %23" in res.stderr
    plain = CliRunner().invoke(app, ["parse", f"{z}!IMSVA/none"])
    assert plain.exit_code == 2 and "%23" not in plain.stderr


def _attack_bundle(tmp_path: Path) -> Path:
    """Members whose names hold # ! % (a literal %, a nested zip named with a !, a plain nested zip)."""
    import io

    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zi:
        zi.writestr("log.imss.20190430.0009", LOG)
    z = tmp_path / "CDT-20240312-101500.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("IMSVA/LogFile/Event#3/log.imss.20190430.0001", LOG)
        f.writestr("IMSVA/LogFile/100%/log.imss.20190430.0003", LOG)
        f.writestr("IMSVA/LogFile/nest!in.zip", inner.getvalue())
        f.writestr("IMSVA/LogFile/plain.zip", inner.getvalue())
    return z


def _error(path: str) -> str:
    res = CliRunner().invoke(app, ["parse", "--password", "trend", path])
    assert res.exit_code == 2, res.output
    return res.stderr


def test_the_hint_says_only_what_is_true_for_the_member_asked(tmp_path: Path) -> None:
    z = _attack_bundle(tmp_path)
    # a % in a name without ! or # is written as it is: %25 is not how it is listed
    err = _error(f"{z}!IMSVA/LogFile/100%25/log.imss.20190430.0003")
    assert f"did you mean {z}!IMSVA/LogFile/100%/log.imss.20190430.0003 (a name holding no ! or # is written as it " \
           "is, its % too)?" in err
    ok = CliRunner().invoke(app, ["parse", "--password", "trend", f"{z}!IMSVA/LogFile/100%/log.imss.20190430.0003",
                                  "-f", "jsonl"])
    assert ok.exit_code == 0 and ok.stdout.count("\n") == 10
    # a ! inside a nested archive's name: the member that exists
    err = _error(f"{z}!IMSVA/LogFile/nest!in.zip!log.imss.20190430.0009")
    assert f"did you mean {z}!IMSVA/LogFile/nest%21in.zip!log.imss.20190430.0009 (a member's name holding ! or # " in err
    # the ! after a nested archive is its separator: nothing about escapes, what the archive holds instead
    err = _error(f"{z}!IMSVA/LogFile/plain.zip!log.imss.20190430.0099")
    assert "%21" not in err and "inside a member's name" not in err
    assert f"the nested archive {z}!IMSVA/LogFile/plain.zip holds log.imss.20190430.0009" in err
    # a trailing slash after a folder
    err = _error(f"{z}!IMSVA/LogFile/Event#3/")
    assert f"did you mean {z}!IMSVA/LogFile/Event%233 (a folder is named without a trailing /; a member's name " in err
    err = _error(f"{z}!IMSVA/LogFile/Event%233/")
    assert f"did you mean {z}!IMSVA/LogFile/Event%233 (a folder is named without a trailing /)?" in err
