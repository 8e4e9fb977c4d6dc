"""'Why has this policy event no trace' for a scan whose lines stop before its end, where what was read stops (attack
as25b F1): busy-day's .0002.gz cut between 9E9E9E9E's Message-ID line (11) and its AntiSpoofFilter lines (14-19) said
'its scan is in log.imss (...) but has no AntiSpoofFilter header lines: log.imss was not at debug level when it was
scanned'. Its header lines may be in what was not read (the unread rest of a gzip cut short, a file left out after
it, the end of the log given), so the log level then is not known; a scan read to its Scan finished line without
them is still said not at debug level."""

from __future__ import annotations

import gzip
import shutil
import zlib
from pathlib import Path

import pytest

import imsvalog
import imsvalog.correlation.scan as scan
from imsvalog.sentence import row_sentence

from .conftest import FIXTURES, rows_both_ways

BUSY = FIXTURES / "busy-day"
IID = "9E9E9E9E-9F9F-49A9-89B9-C9D9E9F9A9B9"
NOT_DEBUG = "log.imss was not at debug level when it was scanned"
ENDED = "Compressed file ended before the end-of-stream marker was reached"
MAY_BE = "its AntiSpoofFilter header lines may be in what was not read; whether log.imss was at debug level then is not known"


def _case(tmp_path: Path) -> Path:
    case = tmp_path / "case"
    case.mkdir()
    for name in ("log.imss.20240312.0001", "polevt.imss.20240312.0001", "msgtra.imss.20240312.0001", "maillog-20240313"):
        shutil.copy(BUSY / name, case / name)
    return case


def _second() -> list[bytes]:
    """busy-day's .0002.gz lines: 9E9E9E9E's scan is lines 10-23 (Message-ID 11, AntiSpoofFilter 14-19)."""
    lines = gzip.decompress((BUSY / "log.imss.20240312.0002.gz").read_bytes()).splitlines(keepends=True)
    assert b"Message-ID : <E1DISAGREE@" in lines[10] and b"AntiSpoofFilter" in lines[13] and IID.encode() in lines[22]
    return lines


def _why(case: Path) -> str:
    (row,) = [r for r in imsvalog.correlate(case).rows if r.event is not None and r.event.internal_id == IID]
    assert row.status == "event-without-trace" and row.trace is None
    assert row_sentence(row.to_dict()).endswith(f"; {row.notes[0]}; which addresses it counted is not known.")
    return row.notes[0]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_scan_cut_by_a_gzip_cut_short_may_have_its_header_lines_in_its_unread_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    monkeypatch.setattr(scan, "WORKERS", workers)
    monkeypatch.setattr(scan, "PARALLEL_FROM", 1)  # (2: the plain .0001 is cut in two)
    case = _case(tmp_path)
    (case / "log.imss.20240312.0002.gz").write_bytes((BUSY / "log.imss.20240312.0002.gz").read_bytes()[:700])
    why = _why(case)
    assert why == (
        f"its scan is in log.imss (thread 4242:139871, {case / 'log.imss.20240312.0002.gz'}:11 names it), but its "
        "lines read stop before its end, without a Scan finished line (the rest of log.imss.20240312.0002.gz could "
        f"not be read (after line 13: {ENDED})): {MAY_BE}")
    assert NOT_DEBUG not in why


def test_the_lazy_and_the_full_reading_say_it_alike(tmp_path: Path) -> None:
    case = _case(tmp_path)
    (case / "log.imss.20240312.0002.gz").write_bytes((BUSY / "log.imss.20240312.0002.gz").read_bytes()[:700])
    lazy, full, _, _ = rows_both_ways(case)
    assert lazy == full
    assert any(MAY_BE in n for r in full if r.get("internal_id") == IID for n in r["notes"])


def test_a_scan_cut_where_the_next_file_is_not_given(tmp_path: Path) -> None:
    """.0002 ends after line 13; .0003 is left out, .0004 given."""
    case = _case(tmp_path)
    lines = _second()
    (case / "log.imss.20240312.0002").write_bytes(b"".join(lines[:13]))
    (case / "log.imss.20240312.0004").write_bytes(b"".join(lines[23:]))
    why = _why(case)
    assert why.endswith("but its lines read stop before its end, without a Scan finished line (the next file given, "
                        "log.imss.20240312.0004, does not follow it (neither the next number of its day nor the first "
                        f"file of the next day)): {MAY_BE}")


def test_a_scan_cut_at_the_end_of_the_log_given(tmp_path: Path) -> None:
    case = _case(tmp_path)
    (case / "log.imss.20240312.0002").write_bytes(b"".join(_second()[:13]))
    assert _why(case).endswith(
        f"without a Scan finished line (the log.imss files given end there): {MAY_BE}")


def test_a_scan_read_on_into_the_next_file_that_is_cut_short(tmp_path: Path) -> None:
    """.0002 ends after its Message-ID line and is read whole; .0003.gz continues it and cannot be read at all."""
    case = _case(tmp_path)
    lines = _second()
    (case / "log.imss.20240312.0002").write_bytes(b"".join(lines[:11]))
    (case / "log.imss.20240312.0003.gz").write_bytes(gzip.compress(b"".join(lines[11:]), mtime=0)[:12])
    why = _why(case)
    assert "log.imss.20240312.0002:11 names it), but its lines read stop before its end, without a Scan finished " \
           "line (log.imss.20240312.0003.gz could not be read from its start (" in why
    assert why.endswith(MAY_BE)


@pytest.mark.parametrize("finished", [True, False])
def test_a_scan_read_to_its_end_without_header_lines_is_still_not_at_debug_level(tmp_path: Path, finished: bool) -> None:
    """Its Scan finished line (or the thread's next Accept line) read after it: the scan was read whole, in the cut
    gzip too."""
    case = _case(tmp_path)
    lines = _second()
    end = lines[22] if finished else lines[9].replace(b"09:21:30", b"09:21:31")
    co = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip, flushed after its end line, cut in what follows
    head = co.compress(b"".join([*lines[:13], end])) + co.flush(zlib.Z_FULL_FLUSH)
    rest = co.compress(b"".join([*lines[23:], *(f"2024/03/12 09:22:00 GMT+01:00 [4242:139875] Info: step {i} done\n"
                                                .encode() for i in range(400))])) + co.flush()
    (case / "log.imss.20240312.0002.gz").write_bytes(head + rest[: len(rest) // 2])
    [cut] = [r for r in imsvalog.correlate(case).rejects if r.reason.startswith("the rest of the file cannot be read")]
    assert cut.source.line > 14  # its end line (14) was read, what follows it only in part
    why = _why(case)
    assert NOT_DEBUG in why and "stop before its end" not in why
