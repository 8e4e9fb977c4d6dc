"""parse and trace tables on a narrow terminal: they fit, and the log text is wrapped, never cut (issue 10 item 5)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.render import wrap_row

from .conftest import FIXTURES
from .test_correlate_table import run_in_pty

runner = CliRunner()
BUSY = FIXTURES / "busy-day"
IID = "4C4C4C4C-5D5D-46E6-97F7-A8A8B9B9CACA"


def _words(text: str) -> list[str]:
    return text.split()


def _no_word_lost(table: str, texts: list[str]) -> None:
    """Every word of every log text is in the table, in order (wrapping may split a word longer than the room)."""
    flat = "".join(table.split())
    pos = 0
    for t in texts:
        for w in _words(t):
            at = flat.find(w, pos)
            assert at >= 0, w
            pos = at + len(w)


@pytest.mark.parametrize("cols", [80, 100, 60])
def test_trace_table_fits_the_terminal_and_keeps_every_word(cols: int) -> None:
    out = run_in_pty(["trace", IID, str(BUSY)], cols)
    lines = out.splitlines()
    assert len(lines) > 23
    assert max(len(x) for x in lines) <= cols, "\n".join(x for x in lines if len(x) > cols)
    assert len(runner.invoke(app, ["trace", IID, str(BUSY), "--format", "jsonl"]).stdout.splitlines()) == 23
    piped = runner.invoke(app, ["trace", IID, str(BUSY)], env={"COLUMNS": ""}).stdout.splitlines()
    # the provenance (file:line) may lose the middle or start of its path to fit, never its file name and line
    where = re.compile(re.escape(str(BUSY)) + r"/(\S+)")
    shown = re.findall(r"^\d\d:\d\d:\d\d  .{12}  \S*/(\S+)", out, re.M)
    assert [m[1].rsplit("/", 1)[-1] for x in piped if (m := where.search(x))] == shown
    _no_word_lost(out, [where.sub("", x) for x in piped])  # the same words as the one-line-per-record table, in order
    assert re.search(r"^09:20:00  scan  ", out, re.M)  # the fixed columns stay on the first line


@pytest.mark.parametrize("cols", [80, 120])
def test_parse_table_fits_the_terminal_and_keeps_every_word(cols: int) -> None:
    kb = FIXTURES / "kb000239719"
    out = run_in_pty(["parse", str(kb)], cols)
    lines = out.splitlines()
    assert max(len(x) for x in lines) <= cols, "\n".join(x for x in lines if len(x) > cols)
    assert len(re.findall(r"^(log|polevt)\.imss\.20190430\.0001:\d+ ", out, re.M)) == 11  # every record starts a line
    piped = runner.invoke(app, ["parse", str(kb)]).stdout.splitlines()[1:]
    _no_word_lost(out, [x for x in piped])


def test_piped_tables_stay_one_line_per_record_for_grep() -> None:
    out = runner.invoke(app, ["trace", IID, str(BUSY)], env={"COLUMNS": ""}).stdout
    assert sum(1 for x in out.splitlines() if re.match(r"\d\d:\d\d:\d\d  ", x)) == 23
    assert any(len(x) > 200 for x in out.splitlines())


def test_raw_is_never_wrapped_even_on_a_narrow_terminal() -> None:
    out = run_in_pty(["trace", IID, str(BUSY), "--raw"], 60)
    assert any(len(x) > 100 for x in out.splitlines())


def test_wrap_row_shapes() -> None:
    assert wrap_row("a  ", "b c", None, 4) == "a  b c"
    long = "word " * 30
    fitted = wrap_row("12345678  stage  ", long.strip(), 80, 10).splitlines()
    assert fitted[0].startswith("12345678  stage  word") and all(len(x) <= 80 for x in fitted)
    assert all(x.startswith(" " * 17) for x in fitted[1:])  # wrapped in its column
    narrow = wrap_row("x" * 60 + "  ", long.strip(), 80, 10).splitlines()
    assert narrow[0] == "x" * 60 and all(x.startswith(" " * 10 + "word") for x in narrow[1:])
