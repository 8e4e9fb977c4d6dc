"""One file given under two names through a hard link is read once (as a symbolic link always was), and stderr
names the name passed over; the same for a bundle."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.correlation import correlate
from imsvalog.sources import discover

from .conftest import FIXTURES

KB = FIXTURES / "kb000239719"
BUNDLE = FIXTURES / "bundles" / "CDT-20240312-101500.zip"


@pytest.fixture
def case(tmp_path: Path) -> Path:
    folder = tmp_path / "case"
    shutil.copytree(KB, folder)
    return folder


def test_a_polevt_hard_linked_under_another_name_is_read_once(case: Path) -> None:
    os.link(case / "polevt.imss.20190430.0001", case / "polevt.imss.20190430.0002")
    found = discover([case])
    assert [f.path.name for f in found.files if f.kind == "polevt"] == ["polevt.imss.20190430.0001"]
    assert (str(case / "polevt.imss.20190430.0002"),
            f"the same file as {case / 'polevt.imss.20190430.0001'} (a hard link): read once, under that name") in found.skipped
    c = correlate(case)
    assert (c.summary.linked, c.summary.ambiguous, c.summary.policy_events) == (1, 0, 1)


def test_the_cli_names_the_link_passed_over(case: Path, tmp_path: Path) -> None:
    alias = tmp_path / "polevt.imss.20190430.0009"
    os.link(case / "polevt.imss.20190430.0001", alias)
    res = CliRunner().invoke(app, ["correlate", str(case), str(alias)])
    assert res.exit_code == 0, res.output
    assert "1 linked, 0 ambiguous" in res.stdout
    assert f"{alias}: skipped: the same file as {case / 'polevt.imss.20190430.0001'} (a hard link)" in res.stderr


def test_a_symbolic_link_stays_silent_and_read_once(case: Path) -> None:
    os.symlink("polevt.imss.20190430.0001", case / "polevt.imss.20190430.0002")
    found = discover([case])
    assert sum(f.kind == "polevt" for f in found.files) == 1
    assert not any("same file" in why for _, why in found.skipped)


def test_a_bundle_given_twice_through_a_hard_link_is_read_once(tmp_path: Path) -> None:
    first = tmp_path / "CDT-a.zip"
    shutil.copy(BUNDLE, first)
    second = tmp_path / "CDT-b.zip"
    os.link(first, second)
    once = correlate([first])
    c = correlate([first, second])
    assert len(c.rows) == len(once.rows) and c.summary.ambiguous == once.summary.ambiguous
    assert (str(second), f"the same file as {first} (a hard link): read once, under that name") in c.skipped
    assert not any(str(second) in f for r in c.rows for f, _ in r._places())
