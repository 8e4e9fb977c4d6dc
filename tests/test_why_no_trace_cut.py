"""'Why has this policy event no trace' for a scan whose start is not among the lines read: its header lines come
before the line that names it, so they may be in what was not read, and the log level then is not known (h24a: it
said 'has no AntiSpoofFilter header lines: log.imss was not at debug level when it was scanned')."""

from __future__ import annotations

import shutil
from pathlib import Path

import imsvalog

from .test_read_error_cut import BUSY, JUDY, OTHER, _cut_case

NOT_DEBUG = "log.imss was not at debug level when it was scanned"


def _why(case: Path, iid: str) -> str:
    (row,) = [r for r in imsvalog.correlate(case).rows if r.event is not None and r.event.internal_id == iid]
    assert row.status == "event-without-trace"
    return row.explanation


def test_a_scan_named_after_a_file_read_only_in_part_may_have_its_header_lines_there(tmp_path: Path) -> None:
    why = _why(_cut_case(tmp_path), OTHER)
    assert "log.imss.20240312.0003:2 names it), but the scan began before the lines read (the file before it, " \
           "log.imss.20240312.0002.gz, could not be read to its end (after line 14: " in why
    assert "its AntiSpoofFilter header lines, logged before that line, may be in what was not read" in why
    assert NOT_DEBUG not in why


def test_a_scan_named_after_a_file_left_out_may_have_its_header_lines_there(tmp_path: Path) -> None:
    case = _cut_case(tmp_path)
    (case / "log.imss.20240312.0002.gz").unlink()
    why = _why(case, OTHER)
    assert "but the scan began before the lines read (the file before, log.imss.20240312.0002" in why
    assert NOT_DEBUG not in why


def test_a_scan_named_before_its_threads_first_accept_in_the_first_file_given(tmp_path: Path) -> None:
    case = _cut_case(tmp_path)
    for name in ("log.imss.20240312.0001", "log.imss.20240312.0002.gz"):
        (case / name).unlink()
    why = _why(case, OTHER)
    assert "(it is in log.imss.20240312.0003, the first log.imss file given)" in why
    assert NOT_DEBUG not in why


def test_a_whole_scan_without_header_lines_is_still_said_not_at_debug_level(tmp_path: Path) -> None:
    """The same scan with its Accept line before it in the same file: read whole, its lack of header lines is known."""
    case = _cut_case(tmp_path)
    third = case / "log.imss.20240312.0003"
    third.write_bytes(b"2024/03/12 09:19:59 GMT+01:00 [4242:139872] Info: Accept connection from client "
                      b"[127.0.0.1]\n" + third.read_bytes())
    why = _why(case, OTHER)
    assert NOT_DEBUG in why and "began before" not in why
    shutil.rmtree(case)


def test_a_scan_finished_line_of_its_thread_before_it_also_shows_its_scan_began_in_the_file(tmp_path: Path) -> None:
    """A log.imss without Accept lines is cut at Scan finished lines: the thread's scan before it ended there, so the
    one that names the event began in the file and was read whole."""
    case = _cut_case(tmp_path)
    third = case / "log.imss.20240312.0003"
    third.write_bytes(b"2024/03/12 09:19:58 GMT+01:00 [4242:139872] Scan finished for 0000AAAA-0000-4000-8000-000000000001,"
                      b" scanned 1 times\n" + third.read_bytes())
    why = _why(case, OTHER)
    assert NOT_DEBUG in why and "began before" not in why


def test_a_scan_named_after_an_empty_file_given_may_have_its_header_lines_there(tmp_path: Path) -> None:
    """attack s24d F1: the empty file is no break between two files (nothing comes before it), so the file after it
    was taken as continuing a file read whole."""
    case = tmp_path / "q"
    shutil.copytree(BUSY, case)
    (case / "log.imss.20240312.0001").write_bytes(b"")  # judy's scan began there; .0002.gz names it on line 2
    why = _why(case, JUDY)
    assert "(the file before it, log.imss.20240312.0001, is empty: what that rotation held is not here)" in why
    assert NOT_DEBUG not in why
