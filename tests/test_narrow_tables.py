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


def _wide_case(tmp_path):
    """busy-day with a CJK sender, and CJK, emoji and combining marks in a subject and in a log.imss line."""
    import shutil

    d = tmp_path / "cjk"
    shutil.copytree(BUSY, d)
    p = d / "polevt.imss.20240312.0001"
    lines = p.read_text(encoding="utf-8").split("\n")
    f = lines[0].split("\t")
    f[4] = "請求書の確認をお願いします😀 e\u0301e\u0301e\u0301 " + "X" * 150
    f[2] = "日本語の長い名前@例え.jp"
    lines[0] = "\t".join(f)
    p.write_text("\n".join(lines), encoding="utf-8")
    p = d / "log.imss.20240312.0001"
    s = p.read_text(encoding="utf-8").split("\n")
    i = next(i for i, x in enumerate(s) if ">>> Message-ID" in x and "[4242:139871]" in x)
    s.insert(i + 1, s[i].split("]")[0] + "] [DEBUG]Subject: " + "請求書の確認をお願いします" * 3 + "😀😀😀 " + "Y" * 200 + " end")
    p.write_text("\n".join(s), encoding="utf-8")
    return d


@pytest.mark.parametrize(("command", "cols"), [("correlate", 80), ("trace", 80), ("trace", 200), ("parse", 80)])
def test_wide_characters_are_measured_in_terminal_cells(tmp_path, command: str, cols: int) -> None:
    """Attack F3/F4: widths were counted in characters, so CJK rows ran to 87 (correlate), 120 (trace) and
    94 (parse) cells on an 80-column terminal."""
    from wcwidth import wcswidth

    d = _wide_case(tmp_path)
    args = {"correlate": ["correlate", str(d)], "trace": ["trace", "5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C", str(d)],
            "parse": ["parse", str(d)]}[command]
    out = run_in_pty(args, cols)
    lines = out.splitlines()
    assert len(lines) > 5, out
    wide = [(wcswidth(x), x) for x in lines if wcswidth(x) > cols or wcswidth(x) < 0]
    assert not wide, wide
    flat = "".join(out.split())
    if command == "correlate":
        assert "日本" in out and "…" in out  # the CJK sender elided in the middle, by cells
    else:
        assert "請求書の確認をお願いします" * 3 in flat and "Y" * 200 in flat  # wrapped, nothing lost


_PROGRESS = """
import time
from imsvalog.cli import progress_bar
with progress_bar() as update:
    assert update is not None
    for i in (1, 2, 3):
        update(604_500 * i // 3, 604_500, "case-2024-06-04.zip!var/app_data/imss/log/log.imss.20240604.0004")
        time.sleep(0.25)
"""


@pytest.mark.parametrize("cols", [100, 80, 60, 40, 36, 34, 30, 24, 20])
def test_the_progress_bar_stays_one_line_of_the_terminal(cols: int) -> None:
    """A long member path made the byte count wrap onto a second line at 80 columns (a line per refresh);
    at 36 columns or fewer the bar itself wrapped."""
    import sys

    text = run_in_pty([], cols, stderr=True, command=[sys.executable, "-c", _PROGRESS])
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)  # cursor moves and line clears take no columns either
    lines = [x for x in re.split(r"[\r\n]", text) if x.strip()]
    tail = "log.imss.20240604.0004" if cols >= 60 else "0004"  # the file name's tail is kept, as much as fits
    assert any(tail in x for x in lines), lines
    assert max(len(x) for x in lines) <= cols, [x for x in lines if len(x) > cols]
    if cols >= 34:
        assert any("604.5/604.5 kB" in x for x in lines), lines
    else:
        assert any("100%" in x for x in lines), lines
    # 0.75 s of reading: no speed or time left yet (a first sample's rate means nothing)
    assert not any("/s" in x or re.search(r"\d:\d\d:\d\d", x) for x in lines), lines


def test_the_speed_and_time_left_show_once_they_mean_something() -> None:
    import sys

    script = _PROGRESS.replace("for i in (1, 2, 3):", "for i in (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3):")
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", run_in_pty([], 100, stderr=True, command=[sys.executable, "-c", script]))
    lines = [x for x in re.split(r"[\r\n]", text) if x.strip()]
    assert any("kB/s" in x for x in lines), lines  # after 2 s of reading
    assert not any("kB/s" in x for x in lines[:2]), lines  # not in the first refreshes


def test_the_progress_bar_counts_a_wide_member_name_in_cells() -> None:
    """A CJK member name takes two cells a character: cut by characters, the line overflowed 80 columns."""
    import sys

    from imsvalog.render import cells

    name = "顧客.zip!保管/" + "記録" * 20 + "-0004"
    script = _PROGRESS.replace("case-2024-06-04.zip!var/app_data/imss/log/log.imss.20240604.0004", name)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", run_in_pty([], 80, stderr=True, command=[sys.executable, "-c", script]))
    lines = [x for x in re.split(r"[\r\n]", text) if x.strip()]
    assert any("記録-0004 " in x for x in lines), lines
    assert any("604.5/604.5 kB" in x for x in lines), lines  # the byte counts are not squeezed by the name
    assert max(cells(x) for x in lines) <= 80, [x for x in lines if cells(x) > 80]
