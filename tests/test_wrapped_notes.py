"""stderr notes and --explain prose fit the terminal's width when it is one (folded line by line, never cut), and
stay one line each when piped (for grep)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.render import cells, wrap_prose

from .conftest import FIXTURES
from .test_correlate_table import run_in_pty

runner = CliRunner()
UGLY = FIXTURES / "ugly"
KB = FIXTURES / "kb000239719"
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _screen(text: str) -> list[str]:
    """What the terminal shows, line by line, without the progress bar's refreshes."""
    lines = [x for x in re.split(r"[\r\n]", _CONTROL.sub("", text))]
    return [x for x in lines if x.strip() and not x.startswith("reading ")]


def _flat(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("cols", [80, 50])
def test_stderr_notes_fit_the_terminal_and_lose_nothing(tmp_path, cols: int) -> None:
    piped = runner.invoke(app, ["correlate", str(UGLY), "-o", str(tmp_path / "a.txt")])
    assert piped.exit_code == 0
    assert any(len(x) > cols for x in piped.stderr.splitlines())  # notes longer than the terminal: one line each
    shown = _screen(run_in_pty(["correlate", str(UGLY), "-o", str(tmp_path / "b.txt")], cols, stderr=True))
    assert shown and max(cells(x) for x in shown) <= cols, [x for x in shown if cells(x) > cols]
    assert _flat("\n".join(shown)) == _flat(piped.stderr)  # folded, never cut
    # a note's continuation is indented under it, so each note stays recognisable
    assert any(x.startswith("    ") for x in shown)


def test_explain_prose_fits_the_terminal_and_loses_nothing() -> None:
    piped = runner.invoke(app, ["correlate", *map(str, sorted(KB.iterdir())), "--explain"])
    assert piped.exit_code == 0
    assert any(len(x) > 80 for x in piped.stdout.splitlines())
    shown = _screen(run_in_pty(["correlate", *map(str, sorted(KB.iterdir())), "--explain"], 80))
    assert max(cells(x) for x in shown) <= 80, [x for x in shown if cells(x) > 80]
    assert _flat("\n".join(shown)) == _flat(piped.stdout)
    # a Received header's continuation lines sit under its text, past its number
    i = next(i for i, x in enumerate(shown) if x.startswith("  2. from mail.example.com"))
    assert shown[i + 1].startswith("     ") and not shown[i + 1].startswith("      ")


def test_trace_notes_are_one_line_each_when_piped() -> None:
    r = runner.invoke(app, ["trace", "87BDADC9", str(KB)])
    basis = [x for x in r.stderr.splitlines() if x.startswith("trace: scan 1:")]
    assert len(basis) == 1 and len(basis[0]) > 80 and "ends with the last log.imss given" in basis[0]


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("ab  -:/.\n") + ["請", "求", "é"]), max_size=200),
       width=st.integers(min_value=20, max_value=100))
def test_wrap_prose_never_drops_a_character_and_fits(text: str, width: int) -> None:
    out = wrap_prose(text, width)
    assert _flat(out) == _flat(text)
    assert all(cells(x) <= width for x in out.split("\n")), out
    assert wrap_prose(text, None) == text


def test_spoof_check_explanation_fits_the_terminal_and_loses_nothing() -> None:
    msg = str(FIXTURES / "messages" / "cloud-relay-hairpin.eml")
    piped = runner.invoke(app, ["spoof-check", msg])
    assert piped.exit_code == 0 and any(len(x) > 80 for x in piped.stdout.splitlines())
    shown = _screen(run_in_pty(["spoof-check", msg], 80))
    assert max(cells(x) for x in shown) <= 80, [x for x in shown if cells(x) > 80]
    assert _flat("\n".join(shown)) == _flat(piped.stdout)
