"""A log.imss that ends in a read error (a gzip cut short, or corrupt in its middle) cuts the scans open where
reading stopped, as a missing file does (stop 23 left it open): the lines lost after the error may hold one scan's
end and the next one's start, so the thread's lines in the next file are never joined to it. busy-day's log as
.0001, a .0002.gz cut in its middle while judy's scan is open and .0003, whose first lines are the end of the
thread's next scan (mallory's Scan finished): joined, judy's trace took mallory's internal ID."""

from __future__ import annotations

import gzip
import shutil
import zlib
from pathlib import Path

import pytest

import imsvalog
import imsvalog.correlation.scan as scan
from imsvalog.readers import iter_records
from imsvalog.records import Reject
from imsvalog.timeline import trace

from .conftest import FIXTURES, rows_both_ways

BUSY = FIXTURES / "busy-day"
JUDY = "7F7F7F7F-7A7A-47B7-87C7-D7E7F7A7B7C7"
JUDY_MID = "rot.1710231598@ws-judy.corp.example.com"
OTHER = "ABCDEF01-2345-4678-9ABC-DEF012345678"  # mallory's: the Scan finished line after the cut names it
LOST = ("the rest of log.imss.20240312.0002.gz could not be read (after line 14: Compressed file ended before the "
        "end-of-stream marker was reached)")


def _cut_case(tmp_path: Path, last: bool = False) -> Path:
    """busy-day's 132 log.imss lines: 1-92 as .0001; 93-111 (judy's scan, lines 93-111, and the newsletter's start)
    as a .0002.gz whose deflate stream is flushed after line 104 and cut in the middle of the rest (lines 93-106
    can be read: judy's Accept, Message-ID and trace, not her Scan finished); .0003 begins with the end of the
    thread's next scan (Final action, Scan finished for mallory), whose start was lost too, then lines 112-132.
    ``last``: no .0003 (the cut file ends the input)."""
    case = tmp_path / "case"
    case.mkdir()
    for name in ("maillog-20240313", "msgtra.imss.20240312.0001"):
        shutil.copy(BUSY / name, case / name)
    lines = ((BUSY / "log.imss.20240312.0001").read_bytes()
             + gzip.decompress((BUSY / "log.imss.20240312.0002.gz").read_bytes())).splitlines(keepends=True)
    assert len(lines) == 132 and JUDY.encode() in lines[110]
    (case / "log.imss.20240312.0001").write_bytes(b"".join(lines[:92]))
    co = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip
    head = co.compress(b"".join(lines[92:104])) + co.flush(zlib.Z_FULL_FLUSH)
    rest = co.compress(b"".join(lines[104:111])) + co.flush()
    (case / "log.imss.20240312.0002.gz").write_bytes(head + rest[: len(rest) // 2])
    if not last:
        (case / "log.imss.20240312.0003").write_bytes(b"".join([
            b"2024/03/12 09:20:00 GMT+01:00 [4242:139872] Final action 0: DeliverAction\n",
            f"2024/03/12 09:20:00 GMT+01:00 [4242:139872] Scan finished for {OTHER}, scanned 1 times\n".encode(),
            *lines[111:]]))
    pol = (BUSY / "polevt.imss.20240312.0001").read_text().splitlines(keepends=True)
    judy = next(x for x in pol if x.startswith("2024/03/12 09:20:00") and JUDY in x)
    other = (judy.replace(JUDY, OTHER).replace("judy@", "mallory@").replace(f"<{JUDY_MID}>", "<m.1@x.example>"))
    (case / "polevt.imss.20240312.0001").write_text("".join([*pol, other]))
    return case


def test_a_scan_open_where_reading_stopped_ends_there(tmp_path: Path) -> None:
    case = _cut_case(tmp_path)
    lazy, full, c, full_sessions = rows_both_ways(case)
    assert lazy == full
    for sessions in (c.sessions, full_sessions, imsvalog.sessions(case)):
        assert not [s for s in sessions if s.message_id == f"<{JUDY_MID}>" and s.internal_id is not None]
        [s] = [s for s in sessions if s.message_id == f"<{JUDY_MID}>"]
        assert [Path(f).name for f in s.files] == ["log.imss.20240312.0002.gz"]
        assert (s.end, s.next_file) == ("end_of_input", LOST)
        assert s.boundaries == ("from its Accept connection line to the end of what could be read (no Scan finished "
                                f"line; {LOST})")
    # the thread's lines after the cut are a scan of their own (the library's sessions keep scans without trace)
    [after] = [s for s in imsvalog.sessions(case) if s.internal_id == OTHER]
    assert (after.start, after.message_id, [Path(f).name for f in after.files]) == (
        "final_action", None, ["log.imss.20240312.0003"])
    mine = next(r for r in c.rows if r.trace is not None and r.session.message_id == f"<{JUDY_MID}>")
    assert mine.event is not None and mine.event.internal_id == JUDY and "internal_id" not in mine.link.basis
    theirs = next(r for r in c.rows if r.event is not None and r.event.internal_id == OTHER)
    assert theirs.trace is None
    assert [r.source.line for r in c.rejects if r.source.file.endswith(".0002.gz")] == [15]  # one reject, as before


def test_the_last_file_cut_short_says_so(tmp_path: Path) -> None:
    case = _cut_case(tmp_path, last=True)
    lazy, full, c, _ = rows_both_ways(case)
    assert lazy == full
    [s] = [s for s in c.sessions if s.message_id == f"<{JUDY_MID}>"]
    assert (s.end, s.next_file) == ("end_of_input", LOST)
    [s] = [s for s in imsvalog.sessions(case) if s.message_id == f"<{JUDY_MID}>"]
    assert s.next_file == LOST


@pytest.mark.parametrize("share", [0.3, 0.7])
def test_two_processes_cut_at_the_read_error_as_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     share: float) -> None:
    """.0001 and .0003 (plain) are each scanned by two processes; the gzip between them by this one."""
    case = _cut_case(tmp_path)
    monkeypatch.setattr(scan, "WORKERS", 1)
    one = imsvalog.correlate(case)
    monkeypatch.setattr(scan, "WORKERS", 2)
    monkeypatch.setattr(scan, "PARALLEL_FROM", 1)
    monkeypatch.setattr(scan, "PARENT_SHARE", share)
    two = imsvalog.correlate(case)
    assert [r.to_dict() for r in two.rows] == [r.to_dict() for r in one.rows]
    assert two.summary.to_dict() == one.summary.to_dict()
    assert [(s.to_row(), s.boundaries) for s in two.sessions] == [(s.to_row(), s.boundaries) for s in one.sessions]
    assert [s.next_file for s in one.sessions if s.message_id == f"<{JUDY_MID}>"] == [LOST]


def test_trace_ends_a_scan_where_reading_stopped(tmp_path: Path) -> None:
    """trace followed judy's thread past the cut into .0003 (one scan of two messages, mallory's ID and Scan
    finished under judy's Message-ID); each piece now ends, or starts, at the cut and says so."""
    case = _cut_case(tmp_path)
    t = trace(JUDY, case)
    assert OTHER not in t.internal_ids
    assert {Path(ln.file).name for ln in t.lines if ln.stage == "scan"} == {"log.imss.20240312.0002.gz"}
    [note] = [n for n in t.notes if n.startswith("scan ")]
    assert note.endswith("ends at the end of what could be read of log.imss.20240312.0002.gz (no Scan finished line of "
                         f"its thread after it; {LOST})")
    t = trace(OTHER, case)
    assert JUDY_MID not in t.message_ids
    assert {Path(ln.file).name for ln in t.lines if ln.stage == "scan"} == {"log.imss.20240312.0003"}
    [note] = [n for n in t.notes if n.startswith("scan ")]
    assert ("starts at the start of log.imss.20240312.0003 (no Accept connection line of its thread before it; the file "
            "before it, log.imss.20240312.0002.gz, could not be read to its end (after line 14: Compressed file ended "
            "before the end-of-stream marker was reached))") in note


def test_trace_takes_the_piece_before_the_cut_by_its_message_id(tmp_path: Path) -> None:
    """The end of judy's own scan after the cut (its Scan finished names her ID): the piece before the cut, on the
    same thread with her Message-ID and no Scan finished line, is found by the Message-ID, as across a missing file;
    the two pieces stay two scans."""
    case = _cut_case(tmp_path)
    third = case / "log.imss.20240312.0003"
    third.write_bytes(third.read_bytes().replace(OTHER.encode(), JUDY.encode()))
    t = trace(JUDY, case)
    notes = [n for n in t.notes if n.startswith("scan ")]
    assert len(notes) == 2
    assert notes[0].startswith(f"scan 1: Message-ID {JUDY_MID}: starts at its Accept connection line "
                               "(log.imss.20240312.0002.gz:1); ends at the end of what could be read")
    assert notes[1].startswith(f"scan 2: internal ID {JUDY}: starts at the start of log.imss.20240312.0003")


def test_a_gzip_gone_bad_is_read_alike_by_parse_correlate_and_the_rotation_check(tmp_path: Path) -> None:
    """attack s24b F1: correlate's blocks read the lines inflated before a corrupt deflate block, parse's line reader
    (the rotation check's too) lost them with the step that failed: the rotation check said the file 'holds no line
    that begins with a time', and judy's scan was cut in two (a phantom trace without policy event).  Both now
    decompress alike (blocks.gzip_pieces)."""
    case = _cut_case(tmp_path)
    lines = ((BUSY / "log.imss.20240312.0001").read_bytes()
             + gzip.decompress((BUSY / "log.imss.20240312.0002.gz").read_bytes())).splitlines(keepends=True)
    co = zlib.compressobj(6, zlib.DEFLATED, -15)  # raw deflate after a gzip header, flushed, then a bad block
    gz = case / "log.imss.20240312.0002.gz"
    gz.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + co.compress(b"".join(lines[92:104]))
                   + co.flush(zlib.Z_SYNC_FLUSH) + b"\xff\xff\xff\xff\x00\x12garbage" * 4)
    parsed = [i for i in iter_records([gz]) if not isinstance(i, Reject)]
    assert len(parsed) >= 12
    c = imsvalog.correlate(case)
    assert "holds no line that begins with a time" not in " ".join(c.summary.rotation)
    assert [r.status for r in c.rows if r.event is not None and r.event.internal_id == JUDY] == ["linked"]
    assert c.summary.traces_without_event == 1  # busy-day's own (9D8C7B6A, not fired): no half of judy's scan
    read = [s for s in imsvalog.sessions(case) if any(rec.source.file == str(gz) for rec in s.records)]
    assert max(rec.source.line for s in read for rec in s.records if rec.source.file == str(gz)) <= len(parsed)
