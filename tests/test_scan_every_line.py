"""correlate's every-line check (``scan._unsure_lines``) and pass 1 agree with ``parse`` on numbers
near the integer limit: a number of 19 or 20 digits may already be past a signed 64-bit integer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from imsvalog.correlation.scan import _unsure_lines
from imsvalog.readers import ReadReport, iter_records, parse_line
from imsvalog.records import Reject, Source

from .conftest import FIXTURES

_GOOD = "2024/03/12 09:15:01 GMT+01:00 [4242:139871] "
_BIG = [
    "2024/03/12 09:15:01 GMT+01:00 [" + "9" * 20 + ":139871] Info: Accept connection from client [127.0.0.1]",
    "2024/03/12 09:15:01 GMT+01:00 [4242:" + "9" * 19 + "] [DEBUG]AntiSpoofFilter: Get 1 IP address from received header. 1.2.3.4,",
    "2024/03/12 09:15:01 GMT+01:00 [4242:" + "9" * 19 + "] [DEBUG]x",
    _GOOD + "Running ruleId:" + "9" * 20 + "; version:3, numFilters:1, numActions:1",
    _GOOD + "Final action " + "9" * 19 + ": QuarantineAction",
    _GOOD + "[DEBUG]x [/src/a.cpp:f:" + "9" * 19 + "]",
    # fits: the largest signed 64-bit number, and one of 18 digits
    "2024/03/12 09:15:01 GMT+01:00 [9223372036854775807:1] [DEBUG]x",
    _GOOD + "Final action " + "9" * 18 + ": QuarantineAction",
]


@pytest.mark.parametrize("line", _BIG)
def test_a_line_taken_as_sure_parses(line: str) -> None:
    raw = line.encode() + b"\n"
    before = (_GOOD + "x\n").encode() * 3
    data = before + raw + (_GOOD + "y\n").encode()
    unsure = _unsure_lines(data, 0, len(data), 1 << 20)
    parsed = parse_line("imss", Source("f", 1, line))
    assert "9" * 19 not in line or unsure == [len(before)]  # every long number is looked at
    if isinstance(parsed, Reject):
        assert unsure == [len(before)], parsed.reason


def test_correlate_rejects_what_parse_rejects_near_the_integer_limit(tmp_path: Path) -> None:
    """Before: a [pid:tid] of 20 digits past the limit was a reject for parse and a record for correlate."""
    from imsvalog import correlate

    good = (FIXTURES / "busy-day" / "log.imss.20240312.0001").read_bytes().splitlines(keepends=True)
    lines = []
    for i, line in enumerate(good):
        lines.append(line)
        if i % 5 == 2:
            lines.append(_BIG[(i // 5) % len(_BIG)].encode() + b"\n")
    d = tmp_path / "case"
    d.mkdir()
    log = d / "log.imss.20240312.0001"
    log.write_bytes(b"".join(lines))
    shutil.copy(FIXTURES / "busy-day" / "polevt.imss.20240312.0001", d)
    report = ReadReport()
    want = [(r.source.line, r.reason) for r in iter_records([log], report=report) if isinstance(r, Reject)]
    assert len(want) >= 6
    c = correlate(d)
    assert [(r.source.line, r.reason) for r in c.rejects if r.source.file == str(log)] == want
