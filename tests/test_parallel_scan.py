"""Two processes scanning halves of a big log.imss give exactly the one-process result."""

from __future__ import annotations

from pathlib import Path

import pytest

import imsvalog
import imsvalog.correlation.scan as scan

from .conftest import FIXTURES
from .test_rotation import _generator


@pytest.mark.parametrize("name", ["busy-day", "kb000239719", "ugly", "hostile", "gen"])
def test_two_halves_give_the_rows_of_one_pass(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    where = FIXTURES / name
    if name == "gen":
        _generator().generate(tmp_path, 2, density=0.27, spoof_share=0.05)
        where = tmp_path
    monkeypatch.setattr(scan, "WORKERS", 1)
    one = imsvalog.correlate(where)
    monkeypatch.setattr(scan, "WORKERS", 2)
    monkeypatch.setattr(scan, "PARALLEL_FROM", 1)  # every plain file is cut in two
    two = imsvalog.correlate(where)
    assert [r.to_dict() for r in two.rows] == [r.to_dict() for r in one.rows]
    assert two.summary.to_dict() == one.summary.to_dict()
    assert [s.to_row() for s in two.sessions] == [s.to_row() for s in one.sessions]
    assert [(r.source.file, r.source.line, r.reason) for r in two.rejects] == [
        (r.source.file, r.source.line, r.reason) for r in one.rejects
    ]
    if name == "gen":
        assert len(one.rows) > 5
