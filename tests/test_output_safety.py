"""Hostile log text (ANSI escapes, rich markup, spreadsheet formulas) goes through every format inert."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.render import clean_terminal, csv_cell, markdown_cell

from .conftest import FIXTURES

runner = CliRunner()
HOSTILE = str(FIXTURES / "hostile")
ESC = "\x1b"


def _no_raw_controls(text: str) -> None:
    assert ESC not in text and "\x07" not in text and "\u202e" not in text and "\x9b" not in text


@pytest.mark.parametrize("fmt", ["table", "jsonl", "json", "csv", "markdown"])
@pytest.mark.parametrize("command", ["correlate", "parse"])
def test_every_format_is_inert(command: str, fmt: str) -> None:
    args = [command, HOSTILE, "--format", fmt] + (["--explain"] if command == "correlate" else [])
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    out = r.stdout
    _no_raw_controls(out)
    if fmt in ("table", "markdown"):
        # the markup is printed as text, not interpreted (rich would have swallowed the tags)
        assert "[bold red]" in out.replace("\\[", "[").replace("\\]", "]")
    if fmt == "csv":
        for row in csv.reader(io.StringIO(out)):
            for cell in row:
                assert not cell.lstrip().startswith(("=", "+", "-", "@")), cell
        assert "'=cmd|" in out
    if fmt == "jsonl":
        for line in out.splitlines():
            json.loads(line)
    if fmt == "json":
        json.loads(out)


def test_json_round_trips_the_hostile_text_exactly() -> None:
    out = runner.invoke(app, ["correlate", HOSTILE, "--format", "json"]).stdout
    row = json.loads(out)["rows"][0]
    assert row["subject"].startswith("\x1b[31mURGENT\x1b[0m =HYPERLINK(")
    assert row["sender"] == "=cmd|'/c calc'!A1@example.com"


def test_explain_shows_escapes_visibly() -> None:
    out = runner.invoke(app, ["correlate", HOSTILE, "--explain"]).stdout
    assert "evil\\x1b]0;pwned\\x07.example" in out


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("\x1b[2J", "\\x1b[2J"),
        ("a\x9bb", "a\\x9bb"),
        ("x\u202eexe.pdf", "x\\u202eexe.pdf"),
        ("tab\there", "tab here"),
        ("bad\udcffbyte", "bad\\xffbyte"),
        ("日本語", "日本語"),
    ],
)
def test_clean_terminal(text: str, want: str) -> None:
    assert clean_terminal(text) == want


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=x", "\r=x"])
def test_csv_formula_guard(text: str) -> None:
    cell = csv_cell(text)
    assert not cell.lstrip().startswith(("=", "+", "-", "@")), cell


def test_csv_numbers_stay_numbers() -> None:
    assert csv_cell(-1) == -1 and csv_cell(0.5) == 0.5


def test_markdown_cell_escapes_html_and_table_breaks() -> None:
    assert markdown_cell("<script>|x*") == "&lt;script&gt;\\|x\\*"
