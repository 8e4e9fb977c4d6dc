"""A scan session joins across a file boundary only where the next file continues the one before (same kind and
appliance; the same day's next number, or the next day's .0001). Attack s23a on 72574a0: an empty or unreadable
rotated file between two given ones (F1: cut since ec98703, but said as 'not among the files given'), one rotation
given twice (F2) and a later day's first file left out (F3, not counted as missing either) still joined a thread's
lines across the boundary."""

from __future__ import annotations

import gzip
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import imsvalog
import imsvalog.correlation.scan as scan
from imsvalog.rotation import breaks, gaps, holes
from imsvalog.sources import LogFile, discover
from imsvalog.timeline import trace

from .conftest import FIXTURES, rows_both_ways

BUSY = FIXTURES / "busy-day"
JUDY = "7F7F7F7F-7A7A-47B7-87C7-D7E7F7A7B7C7"  # its scan crosses .0001 -> .0002 in busy-day
JUDY_MID = "rot.1710231598@ws-judy.corp.example.com"
OTHER = "ABCDEF01-2345-4678-9ABC-DEF012345678"  # mallory's: names the end of judy's scan after the boundary
ALICE = "5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C"


def _second(tmp_path: Path, name: str = "case") -> tuple[Path, bytes]:
    """busy-day without its second log.imss; that file's lines name mallory's ID instead of judy's, and mallory has a
    policy event at the time of judy's (as the attack's repro.sh builds it)."""
    case = tmp_path / name
    shutil.copytree(BUSY, case)
    gz = case / "log.imss.20240312.0002.gz"
    data = gzip.decompress(gz.read_bytes()).replace(JUDY.encode(), OTHER.encode())
    gz.unlink()
    pol = case / "polevt.imss.20240312.0001"
    lines = pol.read_text().splitlines(keepends=True)
    judy = next(x for x in lines if x.startswith("2024/03/12 09:20:00") and JUDY in x)
    pol.write_text("".join([*lines, judy.replace(JUDY, OTHER).replace("judy@", "mallory@")
                            .replace(f"<{JUDY_MID}>", "<m.1@x.example>")]))
    return case, data


def _judy_not_joined(case: Path) -> None:
    """Judy's scan is cut at the boundary: her trace row is linked by Message-ID (not by mallory's internal ID),
    mallory's event has no trace, no session holds both judy's Message-ID and mallory's ID; the fast reader (one
    process) and the full one agree."""
    lazy, full, c, full_sessions = rows_both_ways(case)
    assert lazy == full
    for sessions in (c.sessions, full_sessions, imsvalog.sessions(case)):
        assert not [s for s in sessions if s.message_id == f"<{JUDY_MID}>" and s.internal_id is not None]
        cut = [s for s in sessions if s.message_id == f"<{JUDY_MID}>"]
        assert len(cut) == 1 and cut[0].end == "end_of_input" and cut[0].next_file
    mine = next(r for r in c.rows if r.trace is not None and r.session.message_id == f"<{JUDY_MID}>")
    assert mine.event is not None and mine.event.internal_id == JUDY and "internal_id" not in mine.link.basis
    theirs = next(r for r in c.rows if r.event is not None and r.event.internal_id == OTHER)
    assert theirs.trace is None
    t = trace(JUDY, case)
    assert OTHER not in t.internal_ids
    assert {Path(ln.file).name for ln in t.lines if ln.stage == "scan"} == {"log.imss.20240312.0001"}


@pytest.mark.parametrize("hollow", ["empty", "cut-gzip"])
def test_an_empty_or_unreadable_rotated_file_cuts_like_a_missing_one(tmp_path: Path, hollow: str) -> None:
    """F1: .0001, a 0-byte .0002 (or a .0002.gz cut after 12 bytes: no line can be read), .0003."""
    case, data = _second(tmp_path)
    (case / "log.imss.20240312.0003.gz").write_bytes(gzip.compress(data))
    if hollow == "empty":
        (case / "log.imss.20240312.0002").write_bytes(b"")
        why = "the next file, log.imss.20240312.0002, was given but is empty"
    else:
        (case / "log.imss.20240312.0002.gz").write_bytes(gzip.compress(b"x\n")[:12])
        why = "the next file, log.imss.20240312.0002, was given but holds no line that begins with a time"
    _judy_not_joined(case)
    s = next(s for s in imsvalog.correlate(case).sessions if s.message_id == f"<{JUDY_MID}>")
    assert s.next_file is not None and s.next_file.startswith(why)
    assert f"(no Scan finished line; {why}" in s.boundaries


def _thirds(tmp_path: Path, name: str) -> Path:
    """busy-day's 132 log.imss lines as three rotations of 44 lines (.0001 to .0003): erin's scan, on alice's
    thread, is open at the end of .0002, whose first line is alice's Scan finished."""
    case = tmp_path / name
    shutil.copytree(BUSY, case)
    lines = ((case / "log.imss.20240312.0001").read_bytes()
             + gzip.decompress((case / "log.imss.20240312.0002.gz").read_bytes())).splitlines(keepends=True)
    assert len(lines) == 132
    for f in case.glob("log.imss.*"):
        f.unlink()
    for i in range(3):
        (case / f"log.imss.20240312.000{i + 1}").write_bytes(b"".join(lines[44 * i:44 * (i + 1)]))
    return case


def _alice_once(case: Path) -> None:
    """Alice's Scan finished, the first line of .0002, ends her scan only: the scan open at the end of the first
    copy of .0002 (erin's, on alice's thread) is cut there, not given alice's ID from the copy's first line."""
    lazy, full, c, _ = rows_both_ways(case)
    assert lazy == full
    for sessions in (c.sessions, imsvalog.sessions(case)):
        mine = [s for s in sessions if s.internal_id == ALICE and s.message_id is not None]
        assert [s.message_id for s in mine] == ["<a1b2c3.1710231299@ws-alice.corp.example.com>"]
        erin = [s for s in sessions if s.thread == "4242:139871" and s.start == "accept_connection"
                and s.first_time.minute == 15 and s.first_time.second == 50]
        assert erin and all(s.internal_id is None for s in erin)
        assert any(s.next_file and "is the same rotation again" in s.next_file for s in erin)
    assert [r.link.basis for r in c.rows if r.event is not None and r.event.internal_id == ALICE and r.link] == [
        ["internal_id", "queue_id", "time"]]  # one row, not a tie of two scans
    t = trace(ALICE, case)
    assert [n for n in t.notes if n.startswith("scan ")][0].endswith("ends at its Scan finished line (log.imss.20240312.0002:1)")
    assert not [ln for ln in t.lines if ln.stage == "scan" and "09:15:50" in ln.text]  # erin's lines are not alice's


def test_one_rotation_given_twice_is_not_joined_to_its_copy(tmp_path: Path) -> None:
    """F2: .0002 and .0002.gz (the same lines) both given: a scan open at the end of the first is cut there."""
    case = _thirds(tmp_path, "twice")
    (case / "log.imss.20240312.0002.gz").write_bytes(gzip.compress((case / "log.imss.20240312.0002").read_bytes()))
    _alice_once(case)


def test_one_rotation_in_two_folders_is_not_joined_to_its_copy(tmp_path: Path) -> None:
    """F2: two folders each holding log.imss.20240312.0002 (the second with a blank more at the end of its last line,
    so both are read: one line longer, it would be the same file grown, read once, see test_read_once_appliances)."""
    case = _thirds(tmp_path, "a")
    other = tmp_path / "b"
    other.mkdir()
    data = (case / "log.imss.20240312.0002").read_bytes()
    (other / "log.imss.20240312.0002").write_bytes(data + b"2024/03/12 09:16:00 GMT+01:00 [1:1] Info: one more line\n")
    assert [f.path.parent.name for f in discover([case, other]).files if f.kind == "imss"] == ["a", "b", "a"]
    (other / "log.imss.20240312.0002").write_bytes(data[:-1] + b" \n")
    files = [f for f in discover([case, other]).files if f.kind == "imss"]
    assert [f.path.parent.name for f in files] == ["a", "a", "b", "a"]
    assert {i: b.why for i, b in breaks(files).items()} == {1: "repeat"}
    c = imsvalog.correlate([case, other])
    assert not [s for s in c.sessions if s.internal_id == ALICE and s.message_id is None and s.traces]
    erin = [s for s in c.sessions if s.thread == "4242:139871" and s.first_time.second == 50]
    assert erin and all(s.internal_id is None for s in erin)


def _days(tmp_path: Path, second: str, midnight: bool = False) -> Path:
    """Day 12's .0001 at 23:1x, then ``second`` (a name of day 13 or later) holding busy-day's second log.imss
    (judy's scan's end, named as mallory's) at 10:2x of that day; ``midnight``: at 23:5x, then 00:0x (a rotation at
    midnight: the first file's last line 23:59:59, the next one's first 00:00:00)."""
    base, data = _second(tmp_path, "src")
    case = tmp_path / "days"
    case.mkdir()
    for f in base.glob("msgtra*"):
        shutil.copy(f, case)
    day = second.split(".")[2]
    late, early = (b"23:5", b"00:0") if midnight else (b"23:1", b"10:2")
    stamp = f"{day[:4]}/{day[4:6]}/{day[6:]} ".encode() + early
    (case / "log.imss.20240312.0001").write_bytes(
        (base / "log.imss.20240312.0001").read_bytes().replace(b"2024/03/12 09:1", b"2024/03/12 " + late))
    (case / second).write_bytes(gzip.compress(data.replace(b"2024/03/12 09:2", stamp)))
    pol = (base / "polevt.imss.20240312.0001").read_text()
    (case / "polevt.imss.20240312.0001").write_text(
        pol.replace("2024/03/12 09:1", "2024/03/12 " + late.decode()).replace("2024/03/12 09:2", stamp.decode()))
    return case


def test_a_later_days_first_file_left_out_is_missing_and_cuts(tmp_path: Path) -> None:
    """F3: 20240312.0001 then 20240313.0002.gz: .0002 proves 20240313.0001 was written; it is missing, said like
    the other gaps, and the scan open at the end of day 12 is not joined to day 13's lines."""
    case = _days(tmp_path, "log.imss.20240313.0002.gz")
    c = imsvalog.correlate(case)
    assert c.summary.rotation == [
        f"log.imss.20240313.0001 is not among the files given (between {case / 'log.imss.20240312.0001'} and "
        f"{case / 'log.imss.20240313.0002.gz'}): what it held is not read"]
    _judy_not_joined(case)
    s = next(s for s in c.sessions if s.message_id == f"<{JUDY_MID}>")
    assert s.next_file == "the next file, log.imss.20240313.0001, is not among the files given"
    # its time: from the end of day 12's file to the start of day 13's; day 12 may have had later files too
    hole = holes(discover([case]).files)
    at = datetime(2024, 3, 13, 5, 0, tzinfo=timezone(timedelta(hours=1)))
    assert str(hole("imss", at) or "").startswith(
        "its time may fall in log.imss.20240313.0001 (not among the files given; between the last line of ")


def test_the_next_days_first_file_continues_and_a_day_jumped_cuts(tmp_path: Path) -> None:
    """20240313.0001 continues 20240312's last file when it ends at 23:59:59 and the next begins at 00:00:00 (one
    scan, as IMSVA writes across midnight); 20240315.0001 after 20240312 does not (a day jump: cut, but no file is
    named missing: whether days 13 and 14 had files is unknown; said as the days of which nothing was given)."""
    joined = _days(tmp_path / "a", "log.imss.20240313.0001.gz", midnight=True)
    c = imsvalog.correlate(joined)
    assert c.summary.rotation == []
    assert [s.internal_id for s in c.sessions if s.message_id == f"<{JUDY_MID}>"] == [OTHER]
    jumped = _days(tmp_path / "b", "log.imss.20240315.0001.gz", midnight=True)
    c = imsvalog.correlate(jumped)
    assert c.summary.rotation == []
    s = next(s for s in c.sessions if s.message_id == f"<{JUDY_MID}>")
    assert (s.internal_id, s.end) == (None, "end_of_input")
    assert s.next_file == ("no log.imss of 2024-03-13 or 2024-03-14 was given (the next file given is "
                           "log.imss.20240315.0001.gz)")
    t = trace(OTHER, jumped)
    assert ("starts at the start of log.imss.20240315.0001.gz (no Accept connection line of its thread before it; "
            "no log.imss of 2024-03-13 or 2024-03-14 was given (the file given before it is log.imss.20240312.0001))"
            in " ".join(t.notes))


def test_the_next_days_first_file_after_a_day_ending_early_cuts(tmp_path: Path) -> None:
    """Attack s23d (D): 20240312.0001 ends at 23:19:59, 20240313.0001.gz begins at 10:20:00: day 12 may have had later
    files (or day 13's start is not here), so judy's scan is not joined across 11 hours to mallory's Scan finished."""
    case = _days(tmp_path, "log.imss.20240313.0001.gz")
    _judy_not_joined(case)
    s = next(s for s in imsvalog.correlate(case).sessions if s.message_id == f"<{JUDY_MID}>")
    assert s.next_file == ("later files of 2024-03-12 may not be given: log.imss.20240312.0001 ends at 23:19:59 and the "
                           "next file given, log.imss.20240313.0001.gz, begins at 10:20:00")
    t = trace(OTHER, case)
    assert ("(no Accept connection line of its thread before it; later files of 2024-03-12 may not be given: the file "
            "given before it, log.imss.20240312.0001, ends at 23:19:59 and it begins at 10:20:00)") in " ".join(t.notes)


def test_a_day_boundary_is_joined_only_near_midnight() -> None:
    """The rule, on the times alone: within 5 minutes of each other across midnight (a day's file that ends early, or
    a next day's .0001 that begins late, is cut, and the side far from midnight is said)."""
    from imsvalog.rotation import Break

    a = LogFile(Path("log.imss.20240312.0001"), "imss", "20240312", 1)
    b = LogFile(Path("log.imss.20240313.0001.gz"), "imss", "20240313", 1)
    zone = timezone(timedelta(hours=9))
    late = Break(a, b, "apart", ends=datetime(2024, 3, 12, 23, 59, 58, tzinfo=zone),
                 begins=datetime(2024, 3, 13, 10, 20, tzinfo=zone))
    assert late.next_words() == ("the first lines of 2024-03-13 may not be given: the next file given, "
                                 "log.imss.20240313.0001.gz, begins at 10:20:00 and log.imss.20240312.0001 ends at 23:59:58")
    assert late.previous_words() == ("the first lines of 2024-03-13 may not be given: it begins at 10:20:00 and the file "
                                     "given before it, log.imss.20240312.0001, ends at 23:59:58")
    unknown = Break(a, b, "apart", ends=None, begins=datetime(2024, 3, 13, 0, 0, 1, tzinfo=zone))
    assert unknown.next_words().startswith("later files of 2024-03-12 may not be given: log.imss.20240312.0001 has no "
                                           "last time found")


def _hollow_at_days_end(tmp_path: Path, hollow: str) -> Path:
    """Attack s23d (A): busy-day moved to midnight; 20240312.0001, its day's .0002 given hollow, 20240313.0001.gz."""
    case = _days(tmp_path, "log.imss.20240313.0001.gz", midnight=True)
    if hollow == "empty":
        (case / "log.imss.20240312.0002").write_bytes(b"")
    elif hollow == "empty-gzip":
        (case / "log.imss.20240312.0002.gz").write_bytes(gzip.compress(b""))
    else:
        (case / "log.imss.20240312.0002.gz").write_bytes(gzip.compress(b"x\n")[:12])
    return case


@pytest.mark.parametrize("hollow", ["empty", "empty-gzip", "cut-gzip"])
def test_an_empty_or_unreadable_file_at_a_days_end_cuts(tmp_path: Path, hollow: str) -> None:
    """Attack s23d (A): the day's last file given hollow, then the next day's .0001: cut as within a day (it was
    joined: judy's closing lines gave her scan mallory's ID); the time it held lies between the two given."""
    case = _hollow_at_days_end(tmp_path, hollow)
    _judy_not_joined(case)
    s = next(s for s in imsvalog.correlate(case).sessions if s.message_id == f"<{JUDY_MID}>")
    assert s.next_file is not None and s.next_file.startswith("the next file, log.imss.20240312.0002, was given but ")
    [g] = gaps(discover([case]).files)
    assert (g.after.name, g.before.name, g.names) == (
        "log.imss.20240312.0001", "log.imss.20240313.0001.gz", ("log.imss.20240312.0002",))


def test_a_whole_day_given_as_one_empty_file_cuts(tmp_path: Path) -> None:
    """Attack s23d (C): 20240312.0001, an empty 20240313.0001, 20240314.0001.gz: no scan spans the day between."""
    case = _days(tmp_path, "log.imss.20240314.0001.gz", midnight=True)
    (case / "log.imss.20240313.0001").write_bytes(b"")
    _judy_not_joined(case)
    s = next(s for s in imsvalog.correlate(case).sessions if s.message_id == f"<{JUDY_MID}>")
    assert s.next_file == "the next file, log.imss.20240313.0001, was given but is empty"


def test_a_day_left_out_before_a_later_days_missing_files_is_said(tmp_path: Path) -> None:
    """Attack s23d (S): 20240312.0001 then 20240314.0003.gz: two files named ('are'), and day 13 of which nothing
    was given."""
    case = _days(tmp_path, "log.imss.20240314.0003.gz", midnight=True)
    s = next(s for s in imsvalog.correlate(case).sessions if s.message_id == f"<{JUDY_MID}>")
    assert s.next_file == ("the next files, log.imss.20240314.0001 and .0002, are not among the files given; no "
                           "log.imss of 2024-03-13 was given")
    t = trace(OTHER, case)
    assert ("the files before, log.imss.20240314.0001 and .0002, are not among the files given; no log.imss of "
            "2024-03-13 was given") in " ".join(t.notes)


def test_gaps_name_a_later_days_first_files_only_within_the_days_given() -> None:
    def f(name: str) -> LogFile:
        _, _, day, seq = name.split(".")[:4]
        return LogFile(Path(name), "imss", day, int(seq))

    assert [g.names for g in gaps([f("log.imss.20240312.0002"), f("log.imss.20240313.0003")], {})] == [
        ("log.imss.20240313.0001", "log.imss.20240313.0002")]
    assert gaps([f("log.imss.20240313.0003"), f("log.imss.20240313.0004")], {}) == []  # before the first given
    assert gaps([f("log.imss.20240312.0001"), f("log.imss.20240313.0001")], {}) == []
    # hollow ones at a day's end and a day given only hollow count as missing, with the later day's first files
    fs = [f("log.imss.20240312.0001"), f("log.imss.20240312.0003"), f("log.imss.20240313.0002"),
          f("log.imss.20240314.0002")]
    [g] = gaps(fs, {fs[1]: "is empty", fs[2]: "is empty"})
    assert (g.after, g.before) == (fs[0], fs[3])
    assert g.named() == "log.imss.20240312.0002 to log.imss.20240314.0001 (5 files)"
    assert g.status() == ("log.imss.20240312.0003 is empty; log.imss.20240313.0002 is empty; log.imss.20240312.0002, "
                          "log.imss.20240313.0001, log.imss.20240314.0001 are not among the files given")


@pytest.mark.parametrize("share", [0.3, 0.7])
def test_two_processes_cut_at_a_repeat_and_a_day_gap_as_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            share: float) -> None:
    twice = _thirds(tmp_path, "twice")
    (twice / "log.imss.20240312.0002.gz").write_bytes(gzip.compress((twice / "log.imss.20240312.0002").read_bytes()))
    for case in (twice, _days(tmp_path, "log.imss.20240313.0002.gz"),
                 _days(tmp_path / "apart", "log.imss.20240313.0001.gz"), _hollow_at_days_end(tmp_path / "hollow", "empty")):
        monkeypatch.setattr(scan, "WORKERS", 1)
        one = imsvalog.correlate(case)
        monkeypatch.setattr(scan, "WORKERS", 2)
        monkeypatch.setattr(scan, "PARALLEL_FROM", 1)
        monkeypatch.setattr(scan, "PARENT_SHARE", share)
        two = imsvalog.correlate(case)
        assert [r.to_dict() for r in two.rows] == [r.to_dict() for r in one.rows]
        assert [(s.to_row(), s.boundaries) for s in two.sessions] == [(s.to_row(), s.boundaries) for s in one.sessions]
        assert any(s.next_file for s in one.sessions)
