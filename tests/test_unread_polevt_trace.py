"""A trace without policy event whose time falls in the unread rest of a polevt.imss gzip cut short (attack as25b F3):
time-only's polevt.imss gzipped and cut after its second line said of the 10:02:40 trace 'it is outside the span of
the policy events read: add the polevt.imss file of that time if there is one', and cut before any line could be
read, 'no polevt.imss policy events were read at all: add the polevt.imss files', of a file that was given. Its
policy event may be in what was not read, as an event's scan is said to be since 9bee2ff; the one-line summary says
so from the note."""

from __future__ import annotations

import shutil
import zlib
from pathlib import Path

import imsvalog
from imsvalog.correlation.link import NO_EVENTS_READ, NO_EVENT_OUTSIDE
from imsvalog.sentence import row_sentence

from .conftest import FIXTURES

TIME_ONLY = FIXTURES / "time-only"
PE = "polevt.imss.20240315.0001"
ENDED = "Compressed file ended before the end-of-stream marker was reached"
MAY_BE = "its policy event may be in what was not read"


def _case(tmp_path: Path, readable: int, after: bytes = b"") -> Path:
    """time-only's log.imss, and its polevt.imss as a gzip of which the first ``readable`` lines can be read (the
    stream flushed after them, the rest cut in its middle).  ``before``: a polevt.imss .0001 given before it (the cut
    one is then .0002.gz)."""
    case = tmp_path / "case"
    case.mkdir()
    shutil.copy(TIME_ONLY / "log.imss.20240315.0001", case)
    lines = (TIME_ONLY / PE).read_bytes().splitlines(keepends=True)
    assert len(lines) == 3 and b" 10:02:40 " in lines[2]
    co = zlib.compressobj(6, zlib.DEFLATED, 31)
    head = co.compress(b"".join(lines[:readable])) + co.flush(zlib.Z_FULL_FLUSH)
    rest = co.compress(b"".join(lines[readable:]) * 50) + co.flush()
    if after:
        (case / PE.replace("0001", "0002")).write_bytes(after)
    (case / f"{PE}.gz").write_bytes((head + rest[:4]) if readable else head[:12])  # (no byte of the rest inflated)
    return case


def _fired(c: imsvalog.Correlation) -> list[imsvalog.Row]:
    rows = [r for r in c.rows if r.status == "trace-without-event"]
    assert rows and all(r.trace is not None and r.trace.triggered for r in rows)
    return rows


def test_a_trace_after_the_lines_read_of_a_cut_polevt_may_have_its_event_in_the_unread_rest(tmp_path: Path) -> None:
    case = _case(tmp_path, 2)
    c = imsvalog.correlate(case)
    [cut] = [r for r in c.rejects if r.source.file.endswith(".gz")]
    assert cut.reason == f"the rest of the file cannot be read after line 2: {ENDED}"
    [row] = _fired(c)
    assert row.trace is not None and f"{row.trace.time:%H:%M:%S}" == "10:02:40"
    assert row.notes[0] == (
        f"its time may fall in what could not be read of {PE}.gz ({cut.reason}; after the last line read of "
        f"{case / (PE + '.gz')}, 2024-03-15 10:00:05-05:00; no later polevt.imss file is given): {MAY_BE}")
    assert NO_EVENT_OUTSIDE not in row.notes[0]
    assert row_sentence(row.to_dict()).endswith(
        f"IMSVA fired, but no policy event was found for this scan (its time may fall in what could not be read of "
        f"{PE}.gz: {MAY_BE}).")


def test_a_polevt_of_which_no_line_can_be_read_was_given(tmp_path: Path) -> None:
    case = _case(tmp_path, 0)
    c = imsvalog.correlate(case)
    [cut] = [r for r in c.rejects if r.source.file.endswith(".gz")]
    assert cut.reason.startswith("the file cannot be read from its start: ")
    rows = _fired(c)
    assert len(rows) == 3
    for row in rows:
        assert row.notes[0] == (f"its time may fall in what could not be read of {PE}.gz ({cut.reason}; no other "
                                f"polevt.imss file is given): {MAY_BE}")
        assert NO_EVENTS_READ not in " ".join(row.notes) and "add the polevt.imss files" not in row_sentence(row.to_dict())


def test_a_first_polevt_of_which_no_line_can_be_read_holds_the_time_before_the_next_one(tmp_path: Path) -> None:
    """.0001.gz cannot be read at all, .0002 holds the 10:02:40 event: the two 10:00:05 traces, before its first line,
    may have their events in .0001.gz (they were said outside the span of the events read)."""
    last = (TIME_ONLY / PE).read_bytes().splitlines(keepends=True)[2]
    case = _case(tmp_path, 0, after=last)
    c = imsvalog.correlate(case)
    [cut] = [r for r in c.rejects if r.source.file.endswith(".gz")]
    rows = _fired(c)
    assert [f"{r.trace.time:%H:%M:%S}" for r in rows if r.trace is not None] == ["10:00:05", "10:00:05"]
    for row in rows:
        assert row.notes[0] == (
            f"its time may fall in what could not be read of {PE}.gz ({cut.reason}; before the first line of "
            f"{case / PE.replace('0001', '0002')}, 2024-03-15 10:02:40-05:00; no earlier polevt.imss file is given): "
            f"{MAY_BE}")


def test_a_first_log_imss_of_which_no_line_can_be_read_holds_the_events_before_the_next_one(tmp_path: Path) -> None:
    """The same for log.imss: busy-day's .0001 as a gzip of which no line can be read, its .0002 plain; an event
    before .0002's first line was said 'outside that span: add the log.imss file of that time'."""
    import gzip

    case = tmp_path / "busy"
    case.mkdir()
    busy = FIXTURES / "busy-day"
    for name in ("polevt.imss.20240312.0001", "msgtra.imss.20240312.0001", "maillog-20240313"):
        shutil.copy(busy / name, case)
    (case / "log.imss.20240312.0001.gz").write_bytes(gzip.compress((busy / "log.imss.20240312.0001").read_bytes())[:12])
    (case / "log.imss.20240312.0002").write_bytes(gzip.decompress((busy / "log.imss.20240312.0002.gz").read_bytes()))
    c = imsvalog.correlate(case)
    [cut] = [r for r in c.rejects if r.source.file.endswith(".gz")]
    [row] = [r for r in c.rows if r.event is not None and r.event.internal_id.startswith("5E1C0F7A-")]
    assert row.status == "event-without-trace"
    assert row.notes[0] == (
        f"no line of the log.imss files given names its internal ID {row.event.internal_id}, and its time may fall in "
        f"what could not be read of log.imss.20240312.0001.gz ({cut.reason}; before the first line of "
        f"{case / 'log.imss.20240312.0002'}, 2024-03-12 09:20:00+01:00; no earlier log.imss file is given): its scan "
        "may be in what was not read")
