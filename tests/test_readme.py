"""The README is the manual: its command outputs and --help texts must be what the code prints.

Regenerate the blocks after a deliberate change with::

    IMSVALOG_UPDATE_README=1 python -m pytest tests/test_readme.py
"""

from __future__ import annotations

import os
import re
import shlex

import pytest
from typer.testing import CliRunner

from imsvalog.cli import app

from .conftest import ROOT

README = ROOT / "README.md"
BLOCK = re.compile(r"(<!-- BEGIN (output|help): (.+?) -->\n```text\n)(.*?)(```\n<!-- END -->)", re.S)


def produce(kind: str, what: str) -> str:
    runner = CliRunner()
    if kind == "help":
        args = ([] if what == "imsvalog" else [what]) + ["--help"]
    else:
        args = shlex.split(what)[1:]
    r = runner.invoke(app, args, env={"COLUMNS": "100", "TERM": "dumb"}, terminal_width=100)
    assert r.exit_code == 0, r.output
    return r.stdout


def blocks() -> list[tuple[str, str, str]]:
    return [(m.group(2), m.group(3), m.group(4)) for m in BLOCK.finditer(README.read_text())]


def test_readme_has_the_blocks() -> None:
    kinds = {(k, w) for k, w, _ in blocks()}
    for cmd in ("imsvalog", "parse", "spoof-check", "correlate"):
        assert ("help", cmd) in kinds
    assert sum(k == "output" for k, _ in kinds) >= 2


@pytest.mark.parametrize(("kind", "what", "shown"), blocks(), ids=[f"{k}:{w}" for k, w, _ in blocks()])
def test_readme_block_matches_the_program(kind: str, what: str, shown: str) -> None:
    if os.environ.get("IMSVALOG_UPDATE_README"):
        text = README.read_text()
        text = BLOCK.sub(lambda m: m.group(1) + produce(m.group(2), m.group(3)) + m.group(5), text)
        README.write_text(text)
        return
    assert shown == produce(kind, what)


def test_readme_setup_commands_are_the_ci_commands() -> None:
    readme = README.read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    setup = re.search(r"<!-- BEGIN setup -->\n```sh\n(.*?)```\n<!-- END setup -->", readme, re.S)
    assert setup is not None
    commands = [ln for ln in setup.group(1).splitlines() if ln.strip() and not ln.startswith("#")]
    assert len(commands) == 2
    for c in commands:
        assert c in ci
