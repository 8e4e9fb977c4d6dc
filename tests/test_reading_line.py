"""The per-file progress line of `parse -o FILE` (and `redact --to`) on a terminal is one line at any width,
like the progress bar: a long path loses its start, the file name's end is kept (it wrapped at 20 columns)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import FIXTURES
from .test_correlate_table import run_in_pty

KB = FIXTURES / "kb000239719"


@pytest.mark.parametrize("cols", [80, 40, 24, 20, 12])
def test_the_reading_line_of_parse_stays_one_line(tmp_path: Path, cols: int) -> None:
    out = tmp_path / "rows.jsonl"
    text = run_in_pty(["parse", str(KB), "-o", str(out), "--format", "jsonl"], cols, stderr=True)
    lines = text.splitlines()
    reading = [x for x in lines if x.startswith("reading ")]
    assert len(reading) == 2, lines  # one line per file, nothing of it on the next line
    assert all(len(x) <= cols for x in reading), reading
    if cols >= 20:
        assert all(x.endswith(" ...") for x in reading), reading
        assert any(x.endswith("0001 ...") for x in reading), reading
    if cols >= 80:
        assert any(str(KB / "log.imss.20190430.0001") in x for x in reading), reading
    assert out.read_text().count("\n") == 11


def test_the_redacting_line_stays_one_line(tmp_path: Path) -> None:
    text = run_in_pty(["redact", str(KB), "--to", str(tmp_path / "out"), "--key-file", str(tmp_path / "k")], 20,
                      stderr=True)
    redacting = [x for x in text.splitlines() if x.startswith("redacting ")]
    assert len(redacting) == 2 and all(len(x) <= 20 and x.endswith(" ...") for x in redacting), text
