"""The time the unread rest of a log.imss gzip cut short held is missing, as a rotated file left out is (attack s24d
F2, s24b F4): a policy event of that time without a scan was said to have none with 'log.imss was probably not at
debug level then', and a --time-window link of that time got no doubt. Its scan may be in what was not read: the
time lost runs from the last line read of the cut file to the first line of the next file, or on past the end of
what was given when the cut file is the last."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

import imsvalog.correlation.scan as scan
from imsvalog.correlation import correlate
from imsvalog.timeline import trace

from .test_correlate_near_unpaired import LOG, _event, _iid, _logs, _scan

GZ = LOG.replace("0001", "0002") + ".gz"
ENDED = "Compressed file ended before the end-of-stream marker was reached"


def _case(folder: Path, last: bool = False, at: tuple[str, str, str, str, str] | None = None) -> Path:
    """log.imss .0001 ends with a scan at 10:00:10; .0002.gz holds a scan at 10:02:00 (event 5's), then is cut in the
    middle of a scan's debug lines at 10:03:00; .0003 (unless ``last``) begins at 10:10:00 (event 4's scan). Event 3,
    at 10:05:00, has no scan in what was read.  ``at``: other times for those five (``.0001``'s scan, then ``None``)."""
    first, head_t, rest_t, event_t, next_t = at or ("10:00:10", "10:02:00", "10:03:00", "10:05:00", "10:10:00")
    _logs(folder, [_scan(first, "900:1", 103)] if first else [],
          [_event(head_t, 5), _event(event_t, 3), _event(next_t, 4)])
    co = zlib.compressobj(6, zlib.DEFLATED, 31)
    head = co.compress(("\n".join(_scan(head_t, "900:3", 105, finished=_iid(5))) + "\n").encode())
    head += co.flush(zlib.Z_FULL_FLUSH)
    rest = co.compress("".join(f"2024/03/15 {rest_t} GMT-05:00 [900:4] Info: step {i} done\n"
                               for i in range(400)).encode()) + co.flush()
    (folder / GZ).write_bytes(head + rest[: len(rest) // 2])
    if not last:
        (folder / LOG.replace("0001", "0003")).write_text(
            "\n".join(_scan(next_t, "900:2", 104, finished=_iid(4))) + "\n")
    return folder


def _row(c, iid: str):
    return next(r for r in c.rows if r.event is not None and r.event.internal_id == iid)


def test_an_event_in_the_unread_rest_may_have_its_scan_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = _case(tmp_path)
    c = correlate(case)
    [cut] = [r for r in c.rejects if r.source.file.endswith(GZ)]
    assert cut.reason.startswith("the rest of the file cannot be read after line ") and cut.reason.endswith(ENDED)
    row = _row(c, _iid(3))
    assert row.status == "event-without-trace"
    [note] = row.notes
    assert note.startswith(
        f"no line of the log.imss files given names its internal ID {_iid(3)} or its Message-ID <x3@laptop>, and its "
        f"time falls in what could not be read of {GZ} ({cut.reason}; between the last line read of {case / GZ}, "
        f"2024-03-15 10:03:00-05:00 and the first line of {case / LOG.replace('0001', '0003')}, 2024-03-15 "
        "10:10:00-05:00): its scan may be in what was not read")
    assert "debug level" not in note
    monkeypatch.setattr(scan, "WORKERS", 2)
    monkeypatch.setattr(scan, "PARALLEL_FROM", 1)
    assert _row(correlate(case), _iid(3)).notes == [note]
    t = trace(_iid(3), case)
    assert any(note in n for n in t.notes), t.notes


def test_no_longer_put_down_to_the_log_level(tmp_path: Path) -> None:
    """No AntiSpoofFilter line within 15 minutes of event 3 (10:00:00): the scans read are at 09:00, 09:30 and 11:00.
    It was said 'log.imss was probably not at debug level then'; the log.imss lines read end at 09:31 in a gzip cut
    short, and the next file begins at 11:00."""
    case = _case(tmp_path, at=("", "09:30:00", "09:31:00", "10:00:00", "11:00:00"))
    c = correlate(case)
    [cut] = [r for r in c.rejects if r.source.file.endswith(GZ)]
    assert _row(c, _iid(3)).notes == [
        f"no line of the log.imss files given names its internal ID {_iid(3)} or its Message-ID <x3@laptop>, and its "
        f"time falls in what could not be read of {GZ} ({cut.reason}; between the last line read of {case / GZ}, "
        f"2024-03-15 09:31:00-05:00 and the first line of {case / LOG.replace('0001', '0003')}, 2024-03-15 "
        "11:00:00-05:00): its scan may be in what was not read"]


def test_an_event_after_the_last_line_read_of_the_last_file_may_have_its_scan_there(tmp_path: Path) -> None:
    case = _case(tmp_path, last=True)
    c = correlate(case)
    row = _row(c, _iid(4))  # 10:10:00, after the last line read (10:03:00) of the last file
    assert row.status == "event-without-trace"
    [note] = row.notes
    [cut] = [r for r in c.rejects if r.source.file.endswith(GZ)]
    assert (f"its time may fall in what could not be read of {GZ} ({cut.reason}; after the last line read of {case / GZ}, 2024-03-15 10:03:00-05:00; no later log.imss file is "
            "given): its scan may be in what was not read") in note
    assert "outside that span" not in note


def test_a_time_link_into_the_unread_rest_says_its_doubt(tmp_path: Path) -> None:
    case = _case(tmp_path)
    row = _row(correlate(case, time_window=290), _iid(3))
    assert row.status == "linked" and row.link is not None and row.link.basis == ["time"]
    assert row.link.detail.startswith(
        f"290 s apart; linked by time only, though this event's time falls in what could not be read of {GZ}, which "
        "is not here (the rest of the file cannot be read after line ")
    assert row.link.detail.endswith("its own scan may be in what was not read (the two may be two messages)")


def test_a_gzip_read_to_its_end_loses_no_time(tmp_path: Path) -> None:
    """The same gzip whole: no unread rest, and event 3 is said as before (log.imss covers its time; the nearest
    trace without a policy event)."""
    case = _case(tmp_path)
    co = zlib.compressobj(6, zlib.DEFLATED, 31)
    (case / GZ).write_bytes(co.compress(("\n".join(_scan("10:02:00", "900:3", 105, finished=_iid(5))) + "\n").encode())
                            + co.flush())
    [note] = _row(correlate(case), _iid(3)).notes
    assert "could not be read" not in note and note.startswith("log.imss covers its time but no line names")


def test_a_time_link_of_a_trace_in_the_unread_rest_of_a_polevt_gzip_says_its_doubt(tmp_path: Path) -> None:
    """polevt .0002.gz is cut after its event at 09:59:00; .0003 begins at 10:20:00. The trace at 10:00:10 is linked
    by time (70 s) to that event, though its own policy event may be in what was not read."""
    _logs(tmp_path, [_scan("10:00:10", "900:1", 103)], [_event("09:00:00", 99)])
    pol = "polevt.imss.20240315.000{}"
    co = zlib.compressobj(6, zlib.DEFLATED, 31)
    head = co.compress((_event("09:59:00", 6) + "\n").encode()) + co.flush(zlib.Z_FULL_FLUSH)
    rest = co.compress("".join(_event("10:10:00", 10 + i) + "\n" for i in range(200)).encode()) + co.flush()
    (tmp_path / (pol.format(2) + ".gz")).write_bytes(head + rest[:4])  # cut right after the first event
    (tmp_path / pol.format(3)).write_text(_event("10:20:00", 7) + "\n")
    row = _row(correlate(tmp_path, time_window=70), _iid(6))
    assert row.status == "linked" and row.link is not None and row.link.basis == ["time"]
    assert row.link.detail.startswith(
        f"70 s apart; linked by time only, though that trace's time falls in what could not be read of "
        f"{pol.format(2)}.gz, which is not here (the rest of the file cannot be read after line ")
    assert row.link.detail.endswith("its own policy event may be in what was not read (the two may be two messages)")
