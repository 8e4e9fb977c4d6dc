"""A scan session is never joined across a rotated log.imss file that is missing (attack s22f: busy-day with
log.imss.20240312.0002 left out and .0003 given joined a thread's lines at the end of .0001 and at the start of
.0003 into one scan spanning the gap, linked by internal ID to another message's policy event)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

import imsvalog
import imsvalog.correlation.scan as scan
from imsvalog.sources import ScanStats, discover

from .conftest import FIXTURES, rows_both_ways

BUSY = FIXTURES / "busy-day"
#: the scan that crosses .0001 -> .0002 in busy-day: its Accept and trace in .0001, its Scan finished in .0002
CROSSING = "7F7F7F7F-7A7A-47B7-87C7-D7E7F7A7B7C7"
JUDY_MID = "rot.1710231598@ws-judy.corp.example.com"
#: why a session open at the end of .0001 ends there when .0002 is left out
GONE = "the next file, log.imss.20240312.0002, is not among the files given"


def _gap_case(tmp_path: Path, plain: bool = False, other_id: str | None = None) -> Path:
    """busy-day with its second log.imss given as .0003 (so .0002 is missing); ``plain``: un-gzipped;
    ``other_id``: the Scan finished line after the gap names this ID, and a policy event of it exists."""
    case = tmp_path / "case"
    shutil.copytree(BUSY, case)
    gz = case / "log.imss.20240312.0002.gz"
    data = gzip.decompress(gz.read_bytes())
    gz.unlink()
    if other_id is not None:
        assert data.count(CROSSING.encode()) == 1
        data = data.replace(CROSSING.encode(), other_id.encode())
        pol = case / "polevt.imss.20240312.0001"
        lines = pol.read_text().splitlines(keepends=True)
        judy = next(x for x in lines if x.startswith("2024/03/12 09:20:00") and CROSSING in x)
        other = judy.replace(CROSSING, other_id).replace("judy@", "mallory@").replace(f"<{JUDY_MID}>", "<m.1@x.example>")
        pol.write_text("".join(lines + [other]))
    if plain:
        (case / "log.imss.20240312.0003").write_bytes(data)
    else:
        (case / "log.imss.20240312.0003.gz").write_bytes(gzip.compress(data))
    return case


def _crossing_sessions(sessions: list) -> list:
    return [s for s in sessions if s.thread == "4242:139872" and (s.message_id == f"<{JUDY_MID}>" or s.internal_id == CROSSING
                                                                  or s.start == "final_action")]


def test_files_that_follow_each_other_still_join_a_scan() -> None:
    fast = [s for s in imsvalog.correlate(BUSY).sessions if s.internal_id == CROSSING]
    slow = [s for s in imsvalog.sessions(BUSY) if s.internal_id == CROSSING]
    for s in fast + slow:
        assert [Path(f).name for f in s.files] == ["log.imss.20240312.0001", "log.imss.20240312.0002.gz"]
        assert (s.start, s.end, s.next_file) == ("accept_connection", "scan_finished", None)
    assert len(fast) == len(slow) == 1


@pytest.mark.parametrize("plain", [False, True])
def test_a_scan_open_before_a_missing_file_ends_there(tmp_path: Path, plain: bool) -> None:
    case = _gap_case(tmp_path, plain)
    c = imsvalog.correlate(case)
    assert not [s for s in c.sessions if s.internal_id == CROSSING]
    cut = [s for s in c.sessions if s.message_id == f"<{JUDY_MID}>"]
    assert len(cut) == 1
    s = cut[0]
    assert [Path(f).name for f in s.files] == ["log.imss.20240312.0001"]
    assert (s.end, s.internal_id, s.next_file) == ("end_of_input", None, GONE)
    assert s.boundaries.endswith("to the end of its file (no Scan finished line; the next file, "
                                 "log.imss.20240312.0002, is not among the files given)")
    row = next(r for r in c.rows if r.session is s)
    assert "internal_id" not in row.link.basis and "message_id" in row.link.basis
    # the library's sessions: the same cut, and the thread's first lines after the gap are a scan of their own
    slow = _crossing_sessions(imsvalog.sessions(case))
    assert [(x.start, x.end, x.internal_id, x.next_file, [Path(f).name for f in x.files]) for x in slow] == [
        ("accept_connection", "end_of_input", None, GONE, ["log.imss.20240312.0001"]),
        ("final_action", "scan_finished", CROSSING, None, [case.glob("log.imss.20240312.0003*").__next__().name]),
    ]


def test_the_scan_cut_at_a_gap_is_not_linked_to_the_id_after_it(tmp_path: Path) -> None:
    """The attack's gap3: the Scan finished line after the gap names another message that has a policy event."""
    other = "ABCDEF01-2345-4678-9ABC-DEF012345678"
    c = imsvalog.correlate(_gap_case(tmp_path, other_id=other))
    mine = next(r for r in c.rows if r.trace is not None and r.session.message_id == f"<{JUDY_MID}>")
    assert mine.event is not None and mine.event.internal_id == CROSSING
    theirs = next(r for r in c.rows if r.event is not None and r.event.internal_id == other)
    assert theirs.trace is None and theirs.status == "event-without-trace"


@pytest.mark.parametrize("plain", [False, True])
def test_fast_and_full_readers_cut_at_the_gap_alike(tmp_path: Path, plain: bool) -> None:
    lazy, full, c, full_sessions = rows_both_ways(_gap_case(tmp_path, plain))
    assert lazy == full
    built = {(s.thread, s.sources[0]): (s.end, s.next_file, s.boundaries) for s in full_sessions}
    assert all(built[(s.thread, s.sources[0])] == (s.end, s.next_file, s.boundaries) for s in c.sessions)
    assert any(s.next_file for s in c.sessions)


@pytest.mark.parametrize("share", [0.2, 0.5, 0.8])
def test_two_processes_cut_at_the_gap_as_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, share: float) -> None:
    case = _gap_case(tmp_path, plain=True)
    monkeypatch.setattr(scan, "WORKERS", 1)
    one = imsvalog.correlate(case)
    monkeypatch.setattr(scan, "WORKERS", 2)
    monkeypatch.setattr(scan, "PARALLEL_FROM", 1)
    monkeypatch.setattr(scan, "PARENT_SHARE", share)
    two = imsvalog.correlate(case)
    assert [r.to_dict() for r in two.rows] == [r.to_dict() for r in one.rows]
    assert two.summary.to_dict() == one.summary.to_dict()
    assert [(s.to_row(), s.boundaries) for s in two.sessions] == [(s.to_row(), s.boundaries) for s in one.sessions]
    assert any(s.next_file for s in one.sessions)


def test_read_spoof_sessions_cuts_runs_at_the_gap_from_the_blocks_held(tmp_path: Path) -> None:
    """The run open at the end of the file before the gap is cut from the blocks pass 1 holds, not read again."""
    files = [f for f in discover([_gap_case(tmp_path, plain=True)]).files if f.kind == "imss"]
    read: list[int] = []
    orig = scan._read_runs

    def counting(files_, runs, *a, **k):  # type: ignore[no-untyped-def]
        read.extend(1 for r in runs if r.missing)
        return orig(files_, runs, *a, **k)

    import unittest.mock

    with unittest.mock.patch.object(scan, "_read_runs", counting):
        sessions, _ = scan.read_spoof_sessions(files, [], ScanStats())
    assert any(s.next_file for s in sessions) and not read


def test_trace_does_not_follow_a_scan_across_a_missing_file(tmp_path: Path) -> None:
    """Its two pieces are two scans, each cut at the gap and saying so; the piece before the gap (no Scan finished
    line there) is found by its Message-ID."""
    from imsvalog.timeline import trace

    case = _gap_case(tmp_path)
    for query in (CROSSING, JUDY_MID):
        notes = [n for n in trace(query, case).notes if n.startswith("scan ")]
        assert len(notes) == 2, notes
        assert any(("starts at the start of log.imss.20240312.0003.gz (no Accept connection line of its thread before "
                    "it; the file before, log.imss.20240312.0002, is not among the files given)") in n for n in notes)
        assert any(("ends at the end of log.imss.20240312.0001 (no Scan finished line of its thread after it; the next "
                    "file, log.imss.20240312.0002, is not among the files given)") in n for n in notes)
    other = "ABCDEF01-2345-4678-9ABC-DEF012345678"  # gap3: the piece after the gap names another message
    case3 = _gap_case(tmp_path / "3", other_id=other)
    assert {Path(ln.file).name for ln in trace(other, case3).lines if ln.stage == "scan"} == {"log.imss.20240312.0003.gz"}
    assert {Path(ln.file).name for ln in trace(CROSSING, case3).lines if ln.stage == "scan"} == {"log.imss.20240312.0001"}
    whole = trace(CROSSING, BUSY)  # without a gap the scan is followed across the two files, as before
    assert {Path(ln.file).name for ln in whole.lines if ln.stage == "scan"} == {
        "log.imss.20240312.0001", "log.imss.20240312.0002.gz"}
    assert len([n for n in whole.notes if n.startswith("scan ")]) == 1
