"""A read error in the same words wherever it is said (attack s24d W2, W3): a gzip of which no line can be read was
rejected 'the rest of the file cannot be read after line 0', and the scans open before it said 'the rest of X could
not be read (after line 0: ...)'; trace said 'cannot read further: <zlib's words>' where parse says 'the rest of the
file cannot be read after line N: <zlib's words>'."""

from __future__ import annotations

import shutil
from pathlib import Path

import imsvalog
from imsvalog.readers import iter_records
from imsvalog.timeline import trace

from .conftest import FIXTURES
from .test_read_error_cut import JUDY, _cut_case

BUSY = FIXTURES / "busy-day"
ENDED = "Compressed file ended before the end-of-stream marker was reached"
FROM_START = f"the file cannot be read from its start: {ENDED}"


def _header_only(tmp_path: Path) -> tuple[Path, Path]:
    """busy-day with its .0002.gz cut to its 10-byte gzip header and 2 bytes: no line of it can be read."""
    case = tmp_path / "cut"
    shutil.copytree(BUSY, case)
    gz = case / "log.imss.20240312.0002.gz"
    gz.write_bytes(gz.read_bytes()[:12])
    return case, gz


def test_a_gzip_unreadable_from_its_start_is_said_so_everywhere(tmp_path: Path) -> None:
    case, gz = _header_only(tmp_path)
    [rej] = list(iter_records([gz]))
    assert (rej.source.line, rej.reason) == (1, FROM_START)
    c = imsvalog.correlate(case)
    assert [r.reason for r in c.rejects if r.source.file == str(gz)] == [FROM_START]
    # judy's scan, open at the end of .0001, ends there: with .0001's end, not 'what could be read' of the gzip
    said = f"log.imss.20240312.0002.gz could not be read from its start ({ENDED})"
    for sessions in (c.sessions, imsvalog.sessions(case)):
        [s] = [s for s in sessions if s.message_id == "<rot.1710231598@ws-judy.corp.example.com>"]
        assert s.boundaries == f"from its Accept connection line to the end of its file (no Scan finished line; {said})"
    t = trace(JUDY, case)
    assert [r.reason for r in t.rejects] == [f"cannot read further: {FROM_START}"]
    [note] = [n for n in t.notes if n.startswith("scan ")]
    assert note.endswith("ends at the end of log.imss.20240312.0001 (no Scan finished line of its thread after it; "
                         f"{said})")
    assert "after line 0" not in repr((c.rejects, [s.boundaries for s in c.sessions], t.notes, t.rejects))


def test_trace_words_a_read_error_as_parse_does(tmp_path: Path) -> None:
    case = _cut_case(tmp_path)
    gz = case / "log.imss.20240312.0002.gz"
    [parsed] = [r for r in iter_records([gz]) if r.__class__.__name__ == "Reject"]
    assert parsed.reason == f"the rest of the file cannot be read after line 14: {ENDED}"
    t = trace(JUDY, case)
    assert [(r.source.line, r.reason) for r in t.rejects] == [(15, f"cannot read further: {parsed.reason}")]
