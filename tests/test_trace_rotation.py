"""trace around a rotation gap (attack s23a on 72574a0): the Message-ID looked for because the scan found by its
internal ID starts after a gap took another message's scan of the same Message-ID (F4); a debug line whose Subject
holds 'Scan finished for <ID>' was taken for that message's Scan finished (F5); the earlier piece was numbered
'scan 2'; with two appliances a note named a file without its appliance."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

from imsvalog.sources import discover
from imsvalog.timeline import trace

from .test_rotation_continuity import BUSY, JUDY, JUDY_MID, _second


def test_trace_takes_by_message_id_only_the_piece_cut_at_the_gap(tmp_path: Path) -> None:
    """F4: .0002 left out; after the gap another message with judy's Message-ID is scanned (its Scan finished names
    5A5A...): it is not judy's. Her two pieces are numbered in time order."""
    case = tmp_path / "resent"
    shutil.copytree(BUSY, case)
    gz = case / "log.imss.20240312.0002.gz"
    p = "2024/03/12 09:25:00 GMT+01:00 [4242:139875]"
    again = (f"{p} Info: Accept connection from client [127.0.0.1]\n{p} >>> Message-ID : <{JUDY_MID}>\n"
             f"{p} Final action 0: DeliverAction\n{p} Scan finished for 5A5A5A5A-0000-4000-8000-00000000AAAA, "
             "scanned 1 times\n").encode()
    (case / "log.imss.20240312.0003.gz").write_bytes(gzip.compress(gzip.decompress(gz.read_bytes()) + again))
    gz.unlink()
    t = trace(JUDY, case)
    assert "5A5A5A5A-0000-4000-8000-00000000AAAA" not in t.internal_ids
    assert not [ln for ln in t.lines if "4242:139875" in ln.text]
    notes = [n for n in t.notes if n.startswith("scan ")]
    assert len(notes) == 2
    assert notes[0].startswith(f"scan 1: Message-ID {JUDY_MID}: starts at its Accept connection line (log.imss.20240312.0001:93)")
    assert notes[1].startswith(f"scan 2: internal ID {JUDY}: starts at the start of log.imss.20240312.0003.gz")
    scans = [ln.link for ln in t.lines if ln.stage == "scan"]
    assert scans[0].endswith("(scan 1)") and scans[-1].endswith("(scan 2)")


def test_trace_ends_a_scan_only_at_a_line_the_grammar_reads_as_scan_finished(tmp_path: Path) -> None:
    """F5: a debug line whose Subject holds 'Scan finished for <ID>, ...' is neither the scan of that ID nor the end
    of its own thread's scan."""
    iid = "1A2B3C4D-0000-4000-8000-000000000009"
    p = "2024/03/12 09:00:05 GMT+01:00"
    (tmp_path / "log.imss.20240312.0001").write_text(
        f"{p} [900:3] Info: Accept connection from client [127.0.0.1]\n"
        f"{p} [900:3] >>> Message-ID : <m3@x.example>\n"
        f"{p} [900:3] [DEBUG]TmIsScan::scanMessage: Subject=Re: [ops] Scan finished for {iid}, scanned 1 times\n"
        f"{p} [900:3] Final action 0: DeliverAction\n"
        f"{p} [900:3] Scan finished for 1A2B3C4D-0000-4000-8000-000000000003, scanned 1 times\n"
        f"{p} [900:4] Info: Accept connection from client [127.0.0.1]\n"
        f"{p} [900:4] >>> Message-ID : <m9@x.example>\n"
        f"{p} [900:4] Scan finished for {iid}, scanned 1 times\n")
    t = trace(iid, tmp_path)
    assert [(ln.line, ln.text.split("] ", 1)[0][-5:]) for ln in t.lines if ln.stage == "scan"] == [
        (6, "900:4"), (7, "900:4"), (8, "900:4")]
    assert t.message_ids == ["m9@x.example"]
    other = trace("1A2B3C4D-0000-4000-8000-000000000003", tmp_path)
    assert [ln.line for ln in other.lines if ln.stage == "scan"] == [1, 2, 3, 4, 5]
    assert iid not in other.internal_ids


def test_trace_names_the_appliance_of_a_file_when_two_appliances_are_given(tmp_path: Path) -> None:
    """Two appliances write files of the same names: a trace note says whose file it means."""
    case, data = _second(tmp_path, "imsva01")
    (case / "log.imss.20240312.0003.gz").write_bytes(gzip.compress(data))
    ev = case / "IMSVA" / "LogFile" / "Event3"
    ev.mkdir(parents=True)
    for f in case.glob("*imss*"):
        shutil.move(str(f), ev)
    other = tmp_path / "imsva02" / "IMSVA" / "LogFile" / "Event3"
    other.mkdir(parents=True)
    (other / "log.imss.20240312.0001").write_bytes(b"2024/03/12 09:00:00 GMT+01:00 [1:1] Info: nothing\n")
    files = [f for f in discover([tmp_path / "imsva01", tmp_path / "imsva02"]).files if f.kind == "imss"]
    assert len({f.appliance for f in files}) == 2
    notes = [n for n in trace(JUDY, [tmp_path / "imsva01", tmp_path / "imsva02"]).notes if n.startswith("scan ")]
    assert len(notes) == 1
    assert "starts at its Accept connection line (imsva01's log.imss.20240312.0001:93)" in notes[0]
    assert "ends at the end of imsva01's log.imss.20240312.0001 (no Scan finished line" in notes[0]


def _debug_text_log(tmp_path: Path) -> str:
    """Two messages on two threads; the second's debug lines quote the first's Message-ID, an Accept line and a
    Received header naming queue 4A4A4A4A4A, as a Subject or a header logged at debug level can."""
    p = "2024/03/12 09:00:05 GMT+01:00"
    first, second = "1A2B3C4D-0000-4000-8000-000000000001", "1A2B3C4D-0000-4000-8000-000000000002"
    (tmp_path / "log.imss.20240312.0001").write_text(
        f"{p} [900:3] Info: Accept connection from client [127.0.0.1]\n"
        f"{p} [900:3] >>> Message-ID : <m1@x.example>\n"
        f"{p} [900:3] [DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:from a.example "
        "(a.example [192.0.2.1])\tby imsva.example.com (Postfix) with ESMTP id 1B1B1B1B1B\tfor <x@example.com>; "
        "Tue, 12 Mar 2024 09:00:04 +0100 (CET)\n"
        f"{p} [900:3] [DEBUG]TmIsScan::scanMessage: Subject=Fwd: Info: Accept connection from client [127.0.0.1]\n"
        f"{p} [900:3] Scan finished for {first}, scanned 1 times\n"
        f"{p} [900:4] Info: Accept connection from client [127.0.0.1]\n"
        f"{p} [900:4] >>> Message-ID : <m2@x.example>\n"
        f"{p} [900:4] [DEBUG]TmIsScan::scanMessage: Subject=Re: >>> Message-ID : <m1@x.example>\n"
        f"{p} [900:4] [DEBUG]TmIsScan::scanMessage: X-Note=parse received header string:by h with ESMTP id 4A4A4A4A4A\n"
        f"{p} [900:4] Scan finished for {second}, scanned 1 times\n")
    return first


def test_trace_takes_a_message_id_or_a_received_header_only_from_lines_the_grammar_reads_as_such(tmp_path: Path) -> None:
    """A Subject logged at debug level that quotes '>>> Message-ID : <m1>' is not a scan of m1, and one that quotes
    'parse received header string: ... id Q' names no queue of its scan."""
    first = _debug_text_log(tmp_path)
    t = trace("m1@x.example", tmp_path)
    assert {ln.text.split("] ", 1)[0][-5:] for ln in t.lines if ln.stage == "scan"} == {"900:3"}
    assert t.internal_ids == [first]
    t = trace("4A4A4A4A4A", tmp_path)
    assert not [ln for ln in t.lines if ln.stage == "scan"]


def test_trace_starts_a_scan_only_at_a_line_the_grammar_reads_as_accept_connection(tmp_path: Path) -> None:
    """A Subject holding 'Info: Accept connection from client' inside a scan neither starts nor ends it: the scan of
    the first message keeps its Message-ID line and its Received header."""
    first = _debug_text_log(tmp_path)
    t = trace(first, tmp_path)
    assert [ln.line for ln in t.lines if ln.stage == "scan"] == [1, 2, 3, 4, 5]
    assert t.message_ids == ["m1@x.example"]


def test_trace_finds_the_piece_before_an_empty_file_given(tmp_path: Path) -> None:
    """Attack s23d (3): with .0002 given empty between .0001 and .0003.gz the piece of judy's scan in .0001 (her Accept
    line, Message-ID and AntiSpoofFilter lines) was not shown; with .0002 left out it was."""
    for name, empty in (("empty", True), ("missing", False)):
        case = tmp_path / name
        case.mkdir()
        for f in ("log.imss.20240312.0001", "polevt.imss.20240312.0001", "msgtra.imss.20240312.0001"):
            shutil.copy(BUSY / f, case / f)
        shutil.copy(BUSY / "log.imss.20240312.0002.gz", case / "log.imss.20240312.0003.gz")
        if empty:
            (case / "log.imss.20240312.0002").write_bytes(b"")
        t = trace(JUDY, case)
        notes = [n for n in t.notes if n.startswith("scan ")]
        assert len(notes) == 2, (name, notes)
        assert notes[0].startswith(f"scan 1: Message-ID {JUDY_MID}: starts at its Accept connection line"), name
        assert [ln.line for ln in t.lines if ln.stage == "scan" and ln.file.endswith(".0001")][0] == 93


def test_trace_reads_a_log_imss_gzip_cut_short_as_far_as_it_goes(tmp_path: Path) -> None:
    """Attack s23d (4): a log.imss.gz cut short ended trace with 'imsvalog: error: ... cannot read past line 0' (exit 2)
    while correlate reports one reject and reads on; trace now does the same."""
    case = tmp_path / "cut"
    shutil.copytree(BUSY, case)
    gz = case / "log.imss.20240312.0002.gz"
    gz.write_bytes(gz.read_bytes()[:12])
    t = trace(JUDY[:8], case)
    assert [ln for ln in t.lines if ln.stage == "scan"]
    assert [r for r in t.rejects if r.source.file == str(gz) and "cannot read further" in r.reason]


def test_trace_reads_small_gzips_cut_short_as_far_as_they_go(tmp_path: Path) -> None:
    """Attack s23e (3): a polevt, msgtra or maillog gzip cut short gave trace none of its lines (the block read with
    the break was lost) and its reject twice, at line 1; correlate reads them as far as they go."""
    from imsvalog.sources import LogFile, iter_matching_lines

    two_days = Path(__file__).resolve().parents[1] / "fixtures" / "two-days"
    case = tmp_path / "td"
    shutil.copytree(two_days, case)
    iid = "45BA1845-F5F8-4E68-AA9E-5925484A64BD"
    whole = trace(iid, case)
    for name in ("polevt.imss.20240603.0001.gz", "msgtra.imss.20240603.0001.gz", "maillog-20240604.gz"):
        f = case / name
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    cut = trace(iid, case)
    stages = lambda t: sorted((ln.stage, ln.file.rsplit("/", 1)[-1], ln.line) for ln in t.lines)  # noqa: E731
    assert stages(cut) == [s for s in stages(whole) if s[1] != "polevt.imss.20240603.0001.gz" or s[2] < 19]
    assert {ln.stage for ln in cut.lines} == {"postfix-in", "postfix-out", "scan", "tracking"}
    reads = sorted((r.source.file.rsplit("/", 1)[-1], r.source.line) for r in cut.rejects if "cannot read further" in r.reason)
    assert reads == [("maillog-20240604.gz", 625), ("msgtra.imss.20240603.0001.gz", 71), ("polevt.imss.20240603.0001.gz", 19)]
    # the byte-level search: every matching line before the break, then the error
    f = LogFile(case / "msgtra.imss.20240603.0001.gz", "msgtra", "20240603", 1)
    got: list[int] = []
    try:
        for lineno, _ in iter_matching_lines(f, [b"\t"]):
            got.append(lineno)
    except Exception as exc:  # noqa: BLE001 - the ReadError is the point
        assert "cannot read past line 70" in str(exc)
    assert got == list(range(1, 71))


def test_trace_takes_the_piece_before_an_unproven_midnight_boundary_by_its_message_id(tmp_path: Path) -> None:
    """20240312.0001 ends at 23:19:59 and 20240313.0001.gz begins at 10:20:00 ('apart': later files of day 12 may
    not be given), and judy's Scan finished is the next day's file's second line: the piece before the boundary, on
    her thread with her Message-ID and no Scan finished line, is found by the Message-ID as across a missing file
    (it was not looked for); the two pieces stay two scans, each cut at the boundary."""
    from .test_rotation_continuity import OTHER, _days

    case = _days(tmp_path, "log.imss.20240313.0001.gz")
    gz = case / "log.imss.20240313.0001.gz"
    gz.write_bytes(gzip.compress(gzip.decompress(gz.read_bytes()).replace(OTHER.encode(), JUDY.encode())))
    t = trace(JUDY, case)
    notes = [n for n in t.notes if n.startswith("scan ")]
    assert len(notes) == 2, notes
    assert notes[0].startswith(f"scan 1: Message-ID {JUDY_MID}: starts at its Accept connection line "
                               "(log.imss.20240312.0001:93); ends at the end of log.imss.20240312.0001 (no Scan finished "
                               "line of its thread after it; later files of 2024-03-12 may not be given")
    assert notes[1].startswith(f"scan 2: internal ID {JUDY}: starts at the start of log.imss.20240313.0001.gz")
    assert {ln.file.rsplit("/", 1)[-1] for ln in t.lines if ln.stage == "scan"} == {
        "log.imss.20240312.0001", "log.imss.20240313.0001.gz"}
