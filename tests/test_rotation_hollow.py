"""Attack s22f: a rotated file given empty (or holding no timed line), one given twice under two numbers, and an
unpacked CDT bundle whose rotated.tar.gz was taken as an appliance named "rotated"."""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imsvalog import bundles
from imsvalog.cli import app
from imsvalog.correlation import correlate
from imsvalog.readers import iter_records
from imsvalog.records import Reject
from imsvalog.sentence import row_sentence
from imsvalog.sources import discover

from .conftest import FIXTURES

BUSY = FIXTURES / "busy-day"
POLEVT = BUSY / "polevt.imss.20240312.0001"
IMSS = BUSY / "log.imss.20240312.0001"
CDT = FIXTURES / "bundles" / "CDT-20240312-101500.zip"

HOLLOW = {
    "empty": (b"", "is empty"),
    "gzip of nothing": (gzip.compress(b""), "is empty"),
    "no timed line": (b"\0" * 4096 + b"\n", "holds no line that begins with a time"),
}


def _cut_log(folder: Path, middle: bytes) -> Path:
    """busy-day's log.imss cut into .0001 (to 09:15:40) and .0003 (from 09:16:10), .0002 given as ``middle``."""
    log = IMSS.read_text().splitlines(keepends=True)
    folder.mkdir()
    (folder / "log.imss.20240312.0001").write_text("".join(log[:60]))
    (folder / "log.imss.20240312.0002").write_bytes(middle)
    (folder / "log.imss.20240312.0003").write_text("".join(log[99:]))
    shutil.copy(POLEVT, folder)
    return folder / "log.imss.20240312.0002"


@pytest.mark.parametrize("case", list(HOLLOW))
def test_a_hollow_rotated_log_imss_is_said_and_its_time_is_that_of_a_missing_file(tmp_path: Path, case: str) -> None:
    """An empty .0002 between .0001 and .0003 was counted as read: the events of its time said 'log.imss covers its
    time but holds no scan of it' (false: with .0002 absent they say its scan may be in it), and nothing said it was
    empty. Now it is a missing file for the time words, said once in the summary and on stderr."""
    data, why = HOLLOW[case]
    middle = _cut_log(tmp_path / "case", data)
    c = correlate(tmp_path / "case")
    assert c.summary.rotation == [f"{middle} {why}" + (" (its lines, if any, are rejects)" if case == "no timed line"
                                                       else "") + ": what that rotation held is not here"]
    events = [r for r in c.rows if r.status == "event-without-trace" and "09:16:10" in str(r.time)]
    assert len(events) == 2
    for r in events:
        (note,) = r.notes
        assert f"its time falls in log.imss.20240312.0002 (given, but it {why}" in note, note
        # attack s23c (ei): 'may be in it' of a file given empty; it is in what that rotation held
        assert note.endswith(": its scan may be in what that rotation held") and "covers its time" not in note, note
    r = CliRunner().invoke(app, ["correlate", str(tmp_path / "case"), "--format", "json"])
    assert r.exit_code in (0, 1), r.output
    assert f"imsvalog: warning: {middle} {why}" in r.stderr
    # nothing lost: an empty file gives no line and no reject; the NUL line is a reject naming it
    rejects = [x for x in iter_records([middle]) if isinstance(x, Reject)]
    assert len(rejects) == (1 if case == "no timed line" else 0)
    assert all(x.source.file == str(middle) for x in rejects)


def test_an_empty_rotated_polevt_is_a_missing_file_for_the_traces_of_its_time(tmp_path: Path) -> None:
    lines = POLEVT.read_text().splitlines(keepends=True)
    folder = tmp_path / "case"
    folder.mkdir()
    (folder / "polevt.imss.20240312.0001").write_text("".join(lines[:4]))
    (folder / "polevt.imss.20240312.0002").write_bytes(b"")
    (folder / "polevt.imss.20240312.0003").write_text("".join(lines[6:]))
    shutil.copy(IMSS, folder)
    shutil.copy(BUSY / "log.imss.20240312.0002.gz", folder)
    c = correlate(folder)
    assert c.summary.rotation == [f"{folder / 'polevt.imss.20240312.0002'} is empty: what that rotation held is not here"]
    gone = [r for r in c.rows if r.status == "trace-without-event" and r.trace.triggered and "09:16:10" in str(r.time)]
    assert len(gone) == 2
    for r in gone:
        (note,) = r.notes
        assert note.startswith("its policy event may be in a rotated polevt.imss file left out: its time falls in "
                               "polevt.imss.20240312.0002 (given, but it is empty; between the last line of "), note
        sentence = row_sentence(r.to_dict())
        assert sentence.endswith("(its time falls in polevt.imss.20240312.0002, which was given but is empty: its "
                                 "policy event may be in what that rotation held)."), sentence


def test_a_rotated_file_given_under_two_numbers_is_read_once_and_said(tmp_path: Path) -> None:
    """polevt .0001 copied to .0002: every link turned ambiguous (each event twice), with no note. Now the copy is
    read once, said in the summary (what the real .0002 held is not here) and as a file passed over."""
    for f in (IMSS, POLEVT, BUSY / "log.imss.20240312.0002.gz"):
        shutil.copy(f, tmp_path)
    alone = correlate(tmp_path)
    shutil.copy(POLEVT, tmp_path / "polevt.imss.20240312.0002")
    twice = correlate(tmp_path)
    assert twice.summary.ambiguous == alone.summary.ambiguous == 0
    assert twice.summary.linked == alone.summary.linked > 0
    assert twice.summary.policy_events == alone.summary.policy_events
    assert twice.summary.rotation == [
        f"{tmp_path / 'polevt.imss.20240312.0002'} holds the same bytes as {tmp_path / POLEVT.name}, which is read "
        "instead; what the rotation polevt.imss.20240312.0002 held is not here"]
    assert (str(tmp_path / "polevt.imss.20240312.0002"),
            f"the same bytes as {tmp_path / POLEVT.name}, which is read instead") in discover([tmp_path]).skipped
    # a file differing in one byte is no copy
    (tmp_path / "polevt.imss.20240312.0002").write_bytes(POLEVT.read_bytes().replace(b"09:15:01", b"09:15:02", 1))
    assert len(discover([tmp_path]).files) == 4
    # redaction copies every file given
    assert len(discover([tmp_path], read_once=False).files) == 4


def _unpack(zip_path: Path, to: Path) -> Path:
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(to, pwd=bundles.CDT_DEFAULT_PASSWORD.encode())
    return to


def test_an_unpacked_cdt_bundle_is_read_as_the_zip_is(tmp_path: Path) -> None:
    """The unpacked folder's rotated.tar.gz (older rotations inside the bundle) was another appliance named
    "rotated": its trace said 'no polevt.imss policy events were read at all', events said 'add the log.imss file
    of that time'. Now the folder reads as the zip does."""
    folder = _unpack(CDT, tmp_path / "unz")
    zipped, unpacked = correlate(CDT), correlate(folder)
    assert {r.appliance for r in unpacked.rows} == {"imsva"}
    assert [(r.status, r.internal_id) for r in unpacked.rows] == [(r.status, r.internal_id) for r in zipped.rows]
    assert not any("were read at all" in n or "add the log.imss file" in n for r in unpacked.rows for n in r.notes)


def test_a_bundle_and_its_unpacked_folder_given_together_are_read_once(tmp_path: Path) -> None:
    """Given together, every log was read twice (every link ambiguous) and nothing said why."""
    folder = _unpack(CDT, tmp_path / "unz")
    zipped = correlate(CDT)
    both = correlate([CDT, folder])
    assert [(r.status, r.internal_id) for r in both.rows] == [(r.status, r.internal_id) for r in zipped.rows]
    assert both.summary.rotation == [
        f"the 5 logs given in {folder} hold the same bytes as logs in {CDT} (log.imss.20240312.0001, "
        "rotated.tar.gz!log.imss.20240312.0002.gz, polevt.imss.20240312.0001 and 2 more): each is read once, from "
        "there (the same logs given twice: give one of them)"]
    r = CliRunner().invoke(app, ["parse", str(CDT), str(folder), "--format", "jsonl"])
    assert "skipped 5 files (" in r.stderr and f"the same bytes as a log in {CDT}: read once, from there" in r.stderr
    alone = CliRunner().invoke(app, ["parse", str(CDT), "--format", "jsonl"])
    assert r.stdout.count("\n") == alone.stdout.count("\n")


def test_a_folder_holding_the_unpacked_bundle_and_one_rotation_more_is_one_appliance(tmp_path: Path) -> None:
    """Its copies are read once from the zip; its one file more is the same appliance's (not a stream of its own,
    whose traces would lack the events of the zip's polevt.imss)."""
    folder = _unpack(CDT, tmp_path / "unz")
    later = IMSS.read_text().replace("2024/03/12 09:", "2024/03/12 11:")  # a later rotation: the same scans 2 h on
    (folder / "IMSVA" / "LogFile" / "Event3" / "log.imss.20240312.0003").write_text(later)
    both = correlate([CDT, folder])
    assert {r.appliance for r in both.rows} == {"imsva"}
    assert both.summary.files["imss"] == 3
    (note,) = both.summary.rotation
    assert note.startswith(f"the 5 logs given in {folder} hold the same bytes as logs in {CDT} ")
    late = [r for r in both.rows if r.trace is not None and r.trace.time.hour == 11 and r.trace.triggered]
    assert late and all(r.status == "trace-without-event" for r in late)
    assert not any("were read at all" in n for r in late for n in r.notes)


def test_an_empty_file_beside_a_missing_one_each_said_as_what_it_is(tmp_path: Path) -> None:
    """.0002 given empty, .0003 not given, between .0001 and .0004: one note each, and the time words name both."""
    from datetime import datetime, timedelta, timezone

    from imsvalog import rotation

    lines = POLEVT.read_text().splitlines(keepends=True)
    (tmp_path / "polevt.imss.20240312.0001").write_text("".join(lines[:4]))
    (tmp_path / "polevt.imss.20240312.0002").write_bytes(b"")
    (tmp_path / "polevt.imss.20240312.0004").write_text("".join(lines[6:]))
    files = discover([tmp_path]).files
    assert rotation.notes(files) == [
        f"polevt.imss.20240312.0003 is not among the files given (between {tmp_path / 'polevt.imss.20240312.0001'} and "
        f"{tmp_path / 'polevt.imss.20240312.0004'}): what it held is not read",
        f"{tmp_path / 'polevt.imss.20240312.0002'} is empty: what that rotation held is not here"]
    hole = rotation.holes(files)("polevt", datetime(2024, 3, 12, 9, 18, tzinfo=timezone(timedelta(hours=1))))
    assert hole is not None
    words = hole.words()
    assert words.startswith(
        "its time falls in polevt.imss.20240312.0002 and .0003 (.0002 is empty; .0003 is not among the files given; "
        "between the last line of "), words
