"""A whole kind of file missing (or a log.imss without any AntiSpoofFilter line) is said once, and rows say so."""

from __future__ import annotations

import json
import shutil

import pytest

from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.correlation import correlate
from imsvalog.sentence import row_sentence

from .conftest import FIXTURES

BUSY = FIXTURES / "busy-day"
POLEVT = BUSY / "polevt.imss.20240312.0001"
IMSS = BUSY / "log.imss.20240312.0001"


def test_only_polevt_rows_say_no_log_imss_was_given() -> None:
    c = correlate(POLEVT)
    assert c.summary.missing == ["no log.imss was given"]
    assert c.rows and all(r.missing == "no log.imss was given" for r in c.rows)
    assert all("no log.imss was given" in row_sentence(r.to_dict()) for r in c.rows)


def test_only_log_imss_rows_say_no_polevt_was_given() -> None:
    c = correlate(IMSS)
    assert c.summary.missing == ["no polevt.imss was given"]
    rows = [r for r in c.rows if r.status == "trace-without-event"]
    assert rows and all(r.missing == "no polevt.imss was given" for r in rows)
    assert all("what it did with the mail is not known because no polevt.imss was given" in row_sentence(r.to_dict())
               for r in rows if r.trace and r.trace.triggered)


def test_both_kinds_given_nothing_missing() -> None:
    c = correlate(BUSY)
    assert c.summary.missing == [] and all(r.missing is None for r in c.rows)


def test_cli_says_it_once_on_stderr_and_in_table_json_and_summary() -> None:
    run = CliRunner().invoke
    res = run(app, ["correlate", str(POLEVT)])
    assert res.exit_code == 0
    assert res.stderr.count("no log.imss was given") == 1
    assert "Note: no log.imss was given." in res.stdout
    table_rows = [line for line in res.stdout.splitlines() if "→" in line and line[:2].isdigit()]
    assert table_rows and all(line.rstrip().endswith("no log.imss") for line in table_rows)
    d = json.loads(run(app, ["correlate", str(POLEVT), "--format", "json"]).stdout)
    assert d["summary"]["missing"] == ["no log.imss was given"]
    assert all(r["missing"] == "no log.imss was given" and "no log.imss was given" in r["summary"] for r in d["rows"])


def test_log_imss_without_antispoof_lines_says_the_debug_level_is_needed(tmp_path) -> None:
    lines = IMSS.read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / IMSS.name).write_text("".join(x for x in lines if "AntiSpoofFilter" not in x), encoding="utf-8")
    shutil.copy(POLEVT, tmp_path / POLEVT.name)
    c = correlate(tmp_path)
    assert len(c.summary.missing) == 1 and "no AntiSpoofFilter line at all" in c.summary.missing[0]
    assert "debug" in c.summary.missing[0]
    gone = [r for r in c.rows if r.status == "event-without-trace"]
    assert gone and all("no AntiSpoofFilter line at all" in row_sentence(r.to_dict()) for r in gone)


def test_missing_is_one_column_alike_in_csv_json_and_jsonl() -> None:
    import csv
    import io

    run = CliRunner().invoke
    for path, words in ((POLEVT, "no log.imss was given"), (IMSS, "no polevt.imss was given"), (BUSY, None)):
        rows = list(csv.DictReader(io.StringIO(run(app, ["correlate", str(path), "--format", "csv"]).stdout)))
        jsonl = [json.loads(x) for x in run(app, ["correlate", str(path), "--format", "jsonl"]).stdout.splitlines()]
        doc = json.loads(run(app, ["correlate", str(path), "--format", "json"]).stdout)["rows"]
        assert rows and len(rows) == len(jsonl) == len(doc)
        assert [r["missing"] or None for r in rows] == [r["missing"] for r in jsonl] == [r["missing"] for r in doc]
        if words is None:
            assert all(r["missing"] == "" for r in rows)
        else:
            assert any(r["missing"] == words for r in rows)
            assert all(r["missing"] in ("", words) for r in rows)


def test_missing_is_a_dataframe_column() -> None:
    frame = correlate(POLEVT).frame
    assert set(frame["missing"].dropna()) == {"no log.imss was given"}


def test_a_rotated_file_missing_between_two_given_is_said(tmp_path) -> None:
    """Stop 21 (attack s21a F5): polevt .0001 and .0003 given, .0002 not: nothing said it. Now the summary says which
    rotated files are missing between given ones (once per gap; not those before the first or after the last one
    given), in the library, JSON and on stderr."""
    shutil.copy(IMSS, tmp_path / IMSS.name)
    shutil.copy(BUSY / "log.imss.20240312.0002.gz", tmp_path / "log.imss.20240312.0005.gz")
    shutil.copy(POLEVT, tmp_path / POLEVT.name)
    c = correlate(tmp_path)
    assert c.summary.rotation == [
        f"log.imss.20240312.0002 to .0004 (3 files) are not among the files given (between {tmp_path / IMSS.name} and "
        f"{tmp_path / 'log.imss.20240312.0005.gz'}): what they held is not read"]
    assert c.summary.missing == []
    r = CliRunner().invoke(app, ["correlate", str(tmp_path), "--format", "json"])
    assert r.exit_code == 0
    assert json.loads(r.stdout)["summary"]["rotation"] == c.summary.rotation
    assert "imsvalog: warning: log.imss.20240312.0002 to .0004 (3 files) are not among the files given" in r.stderr
    # the files as IMSVA wrote them (no gap), or only later ones of the day: nothing to say
    assert correlate(BUSY).summary.rotation == []
    (tmp_path / IMSS.name).unlink()
    assert correlate(tmp_path).summary.rotation == []


def test_rows_of_a_missing_rotated_files_time_say_it(tmp_path) -> None:
    """Attack s22a F2: busy-day's polevt cut into .0001 (to 09:15:50) and .0003 (from 09:20:00): the traces of
    09:16:10 said 'the policy events read span its time, but no spoof event among them fits it'; they fall in the
    missing .0002. Likewise log.imss cut into .0001 and .0003: the events of the cut-out time say their scan may be
    in the file left out, not that log.imss covers their time."""
    lines = POLEVT.read_text().splitlines(keepends=True)
    (tmp_path / "polevt.imss.20240312.0001").write_text("".join(lines[:4]))
    (tmp_path / "polevt.imss.20240312.0003").write_text("".join(lines[6:]))
    shutil.copy(IMSS, tmp_path / IMSS.name)
    shutil.copy(BUSY / "log.imss.20240312.0002.gz", tmp_path)
    rows = [r for r in correlate(tmp_path).rows if r.status == "trace-without-event" and r.trace.triggered]
    gone = [r for r in rows if "09:16:10" in str(r.time)]
    assert len(gone) == 2
    for r in gone:
        (note,) = r.notes
        assert note.startswith("its policy event may be in a rotated polevt.imss file left out: its time falls in "
                               "polevt.imss.20240312.0002 (not among the files given; between the last line of "), note
        s = row_sentence(r.to_dict())
        assert s.endswith("(its time falls in polevt.imss.20240312.0002, which is not among the files given: its "
                          "policy event may be there)."), s
        assert "span its time" not in s
    log = IMSS.read_text().splitlines(keepends=True)
    folder = tmp_path / "cut"
    folder.mkdir()
    (folder / "log.imss.20240312.0001").write_text("".join(log[:60]))
    (folder / "log.imss.20240312.0003").write_text("".join(log[99:]))
    shutil.copy(POLEVT, folder)
    events = [r for r in correlate(folder).rows if r.status == "event-without-trace" and "09:16:10" in str(r.time)]
    assert len(events) == 2
    for r in events:
        (note,) = r.notes
        assert "its time falls in log.imss.20240312.0002 (not among the files given;" in note, note
        assert note.endswith(": its scan may be in it") and "covers its time" not in note, note


def test_one_rotation_given_twice_is_said(tmp_path) -> None:
    """Attack s22a F3: log.imss.20240312.0001 and a gzip of it given together: every trace read twice turned
    ambiguous, and nothing said why."""
    import gzip

    shutil.copy(IMSS, tmp_path / IMSS.name)
    (tmp_path / (IMSS.name + ".gz")).write_bytes(gzip.compress(IMSS.read_bytes()))
    shutil.copy(POLEVT, tmp_path / POLEVT.name)
    assert correlate(tmp_path).summary.rotation == [
        f"{tmp_path / IMSS.name} and {tmp_path / (IMSS.name + '.gz')} are the same rotated log.imss file: both are "
        "read, so if one is a copy of the other each of its lines counts twice (give one of them)"]


def test_maillog_numbers_count_from_the_current_file(tmp_path) -> None:
    """Attack s22a F4: maillog and maillog.2 given: maillog.1 between them was not said missing (the current file
    has no number); and a file named .1 beside .0003 is said in IMSVA's four digits."""
    from imsvalog.rotation import gaps
    from imsvalog.sources import discover

    maillog = BUSY / "maillog-20240313"
    for name in ("maillog", "maillog.2"):
        shutil.copy(maillog, tmp_path / name)
    # (copies of one file: read_once=False keeps both, as if they differed; read once, see test_rotation_hollow)
    assert [g.named() for g in gaps(discover([tmp_path], read_once=False).files)] == ["maillog.1"]
    (tmp_path / "maillog").unlink()
    assert gaps(discover([tmp_path]).files) == []  # maillog.2 alone: nothing between
    other = tmp_path / "imss"
    other.mkdir()
    shutil.copy(IMSS, other / "log.imss.20240312.1")
    shutil.copy(IMSS, other / "log.imss.20240312.0003")
    assert [g.named() for g in gaps(discover([other], read_once=False).files)] == ["log.imss.20240312.0002"]


def _gap_case(folder, first: list[str] | None = None) -> None:
    """busy-day with its polevt cut into .0001 (lines 1-4, to 09:15:50, or ``first``) and .0003 (from 09:20:00)."""
    lines = POLEVT.read_text().splitlines(keepends=True)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "polevt.imss.20240312.0001").write_text("".join(first if first is not None else lines[:4]))
    (folder / "polevt.imss.20240312.0003").write_text("".join(lines[6:]))
    shutil.copy(IMSS, folder / IMSS.name)
    shutil.copy(BUSY / "log.imss.20240312.0002.gz", folder)


def _gap_sentences(folder) -> list[str]:
    return [row_sentence(r.to_dict()) for r in correlate(folder).rows
            if r.status == "trace-without-event" and "09:16:10" in str(r.time)]


def test_the_time_of_a_file_is_read_from_its_last_timed_line_whatever_its_size(tmp_path) -> None:
    """Attack s22b F2/F3/F5: a 64-128 KiB file whose last line crosses the 64 KiB mark, a last line longer than 64 KiB,
    and a gzip cut short (no trailer) lost their end time (the rows fell back to 'the policy events read span its
    time'); a file rewritten in the same process kept its old time (cached by name)."""
    import gzip

    from imsvalog.rotation import first_time, last_time
    from imsvalog.sources import discover

    lines = POLEVT.read_text().splitlines(keepends=True)
    filler = lines[0].replace("5E1C0F7A", "00000000")
    pad = "".join([filler] * (65320 // len(filler)))
    last = lines[3]
    for body in (pad + " " * (65320 - len(pad)) + "\n" + last,  # the last line starts before 64 KiB, ends after
                 pad + last.rstrip("\n") + "\t" + "x" * 200_000 + "\n"):  # a last line longer than any window
        case = tmp_path / f"c{len(body)}"
        _gap_case(case, [body])
        (f,) = [f for f in discover([case]).files if f.name == "polevt.imss.20240312.0001"]
        assert str(last_time(f)) == "2024-03-12 09:15:50+01:00"
        assert all(s.endswith("(its time falls in polevt.imss.20240312.0002, which is not among the files given: its "
                              "policy event may be there).") for s in _gap_sentences(case)), _gap_sentences(case)
    cut = tmp_path / "cut"
    _gap_case(cut)
    raw = (cut / "polevt.imss.20240312.0001").read_bytes()
    (cut / "polevt.imss.20240312.0001").unlink()
    (cut / "polevt.imss.20240312.0001.gz").write_bytes(gzip.compress(raw)[:-8])  # its trailer cut off
    (f,) = [f for f in discover([cut]).files if f.name.startswith("polevt.imss.20240312.0001")]
    assert str(first_time(f)) == "2024-03-12 09:15:01+01:00" and str(last_time(f)) == "2024-03-12 09:15:50+01:00"
    assert all("its time falls in polevt.imss.20240312.0002" in s for s in _gap_sentences(cut))
    # rewritten in the same process: its new end is read (no cache by name)
    plain = tmp_path / "again"
    _gap_case(plain)
    (f,) = [f for f in discover([plain]).files if f.name == "polevt.imss.20240312.0001"]
    assert str(last_time(f)) == "2024-03-12 09:15:50+01:00"
    (plain / "polevt.imss.20240312.0001").write_text("".join(lines[:6]))
    assert str(last_time(f)) == "2024-03-12 09:16:10+01:00"


def test_a_partner_within_the_time_window_of_a_missing_file_may_be_in_it(tmp_path) -> None:
    """Attack s22b F4: the missing file's time began at 09:20:00, the trace was at 09:19:59: its event, 1 s away, may
    be in the missing file (correlate's --time-window is 1 s); the row said the events read span its time."""
    from datetime import datetime, timedelta, timezone

    from imsvalog.rotation import holes
    from imsvalog.sources import discover

    _gap_case(tmp_path)
    files = discover([tmp_path]).files
    tz = timezone(timedelta(hours=1))
    before = datetime(2024, 3, 12, 9, 15, 49, tzinfo=tz)  # 1 s before the missing file's time begins
    assert holes(files)("polevt", before) is None
    assert holes(files, timedelta(seconds=1))("polevt", before) is not None
    assert holes(files, timedelta(seconds=1))("imss", before) is None  # no log.imss file is missing


def test_redaction_does_not_count_rotation_notes_as_differences(tmp_path) -> None:
    """Attack s22b F1: a missing rotated file made `redact --verify` FAIL and `correlate --redact` warn 'do not
    share this output', with the real folder name in the warning: the notes hold file names, which redaction
    changes. Now the number of notes is compared."""
    case = tmp_path / "acme-bank.example.com" / "IMSVA"
    _gap_case(case)
    r = CliRunner().invoke(app, ["redact", str(tmp_path / "acme-bank.example.com"), "--to", str(tmp_path / "out"),
                                 "--key-file", str(FIXTURES / "redaction-example.key"), "--verify"])
    assert r.exit_code == 0 and "verify: PASSED" in r.stdout, r.stdout[-500:]
    r = CliRunner().invoke(app, ["correlate", str(tmp_path / "acme-bank.example.com"), "--redact", "--key-file",
                                 str(FIXTURES / "redaction-example.key"), "--format", "json"])
    assert r.exit_code == 0 and "does NOT give the same answers" not in r.stderr
    assert "acme-bank" not in r.stdout and "acme-bank" not in r.stderr


def test_a_line_break_in_a_file_name_never_starts_a_line_of_the_explanation(tmp_path) -> None:
    """Attack s22b F6: a folder named 'x<LF>imsvalog: warning: ...' forged whole lines in `correlate --explain`
    (the scan's provenance, the missing-file notes); a line break in a name is shown as \\x0a, as elsewhere."""
    case = tmp_path / "x\nimsvalog: warning: FORGED"
    _gap_case(case)
    for fmt in ("table", "markdown"):
        r = CliRunner().invoke(app, ["correlate", str(case), "--explain", "--format", fmt])
        assert r.exit_code == 0, r.output
        assert not [ln for ln in r.stdout.splitlines() if ln.lstrip(" #").startswith("imsvalog: warning: FORGED")]
        assert "\nimsvalog: warning: FORGED" not in r.stdout
        assert fmt == "markdown" or "x\\x0aimsvalog: warning: FORGED" in r.stdout


def test_a_line_break_in_a_file_name_is_no_line_break_in_a_csv_cell(tmp_path) -> None:
    """Attack s22c (minor): CSV kept a file name's line break raw inside the quoted `source` cell (a CSV reader got
    the right value, `grep` and `less` showed a forged line); only the explanation is a block of lines."""
    import csv
    import io

    case = tmp_path / "x\nimsvalog: warning: FORGED"
    _gap_case(case)
    r = CliRunner().invoke(app, ["correlate", str(case), "--explain", "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert not [ln for ln in r.stdout.splitlines() if ln.startswith("imsvalog: warning: FORGED")]
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert rows and all("x\\x0aimsvalog: warning: FORGED" in row["source"] for row in rows if row["source"])
    assert any(row["source"] for row in rows)
    assert any("\n" in row["explanation"] for row in rows)  # the explanation keeps its lines


def test_a_neighbours_end_is_read_in_bounded_memory(tmp_path) -> None:
    """Attack s22c N1/N2: a gzip neighbour ending in one long line without a newline was held whole and copied again
    and again (1.1 MB of gzip: 77 s, 581 MB); a plain neighbour with a NUL-filled tail was read back in windows
    growing to the whole file (1 GB: 1 GB of memory). Now a stream keeps only the head of the line not yet ended and
    a plain file is read back 1 MiB at a time, at most rotation.BACK_LIMIT bytes."""
    import gzip
    import tracemalloc

    from imsvalog.rotation import BACK_LIMIT, last_time
    from imsvalog.sources import LogFile

    body = POLEVT.read_bytes()[: POLEVT.read_bytes().index(b"\n2024/03/12 09:16:10") + 1]  # to 09:15:50
    gz = tmp_path / "polevt.imss.20240312.0001.gz"
    with gzip.open(gz, "wb", compresslevel=1) as fh:
        fh.write(body)
        for _ in range(32):
            fh.write(b"\0" * (1 << 20))  # 32 MiB more, no newline
    plain = tmp_path / "polevt.imss.20240312.0002"
    plain.write_bytes(body)
    with open(plain, "r+b") as fh:
        fh.truncate(len(body) + (8 << 20))  # 8 MiB of NULs after the last line
    far = tmp_path / "polevt.imss.20240312.0003"
    far.write_bytes(body)
    with open(far, "r+b") as fh:
        fh.truncate(len(body) + BACK_LIMIT + (1 << 20))  # its last line further back than the limit
    for path, want in ((gz, "2024-03-12 09:15:50+01:00"), (plain, "2024-03-12 09:15:50+01:00"), (far, "None")):
        tracemalloc.start()
        got = last_time(LogFile(path, "polevt", "20240312", 1))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert str(got) == want, path
        assert peak < 6 << 20, (path, peak)


def test_a_time_near_a_missing_file_is_not_said_to_fall_in_it(tmp_path) -> None:
    """Attack s22c N3/N4/N5: a trace 1 s before a missing file's time was said to 'fall in' it; a first timed line
    past 8 MiB was 'no time could be read from it' (the run had read it); msgtra neighbours were read for a time
    nothing asks about."""
    from datetime import datetime, timedelta, timezone

    from imsvalog import rotation
    from imsvalog.sources import discover

    _gap_case(tmp_path)
    tz = timezone(timedelta(hours=1))
    hole = rotation.holes(discover([tmp_path]).files, timedelta(seconds=1))
    words = str(hole("polevt", datetime(2024, 3, 12, 9, 15, 49, tzinfo=tz)))
    assert words.startswith("its time is 1 s before that of polevt.imss.20240312.0002 (not among"), words
    assert str(hole("polevt", datetime(2024, 3, 12, 9, 18, tzinfo=tz))).startswith("its time falls in polevt.imss.")
    assert str(hole("polevt", datetime(2024, 3, 12, 9, 20, 1, tzinfo=tz))).startswith("its time is 1 s after that of")
    assert hole("polevt", datetime(2024, 3, 12, 9, 20, 2, tzinfo=tz)) is None
    late = tmp_path / "late"
    _gap_case(late)
    third = late / "polevt.imss.20240312.0003"
    third.write_bytes((b"x" * 999_999 + b"\n") * 9 + third.read_bytes())  # its first time past 8 MiB
    words = str(rotation.holes(discover([late]).files)("polevt", datetime(2024, 3, 12, 9, 18, tzinfo=tz)))
    assert words.startswith("its time may fall in") and "whose first time was not found" in words
    assert "could be read" not in words
    asked = []
    m = tmp_path / "m"
    _gap_case(m)
    for f in ("msgtra.imss.20240312.0001", "msgtra.imss.20240312.0003"):
        shutil.copy(BUSY / "msgtra.imss.20240312.0001", m / f)
    real = rotation.last_time
    try:
        rotation.last_time = lambda f: asked.append(f.kind) or real(f)  # type: ignore[assignment]
        # (msgtra .0001 and .0003 are one file's copies: read_once=False keeps both, as if they differed)
        assert [g.kind for g in rotation.gaps(discover([m], read_once=False).files)] == ["polevt", "msgtra"]
        rotation.holes(discover([m], read_once=False).files)
    finally:
        rotation.last_time = real  # type: ignore[assignment]
    assert asked == ["polevt"]


@pytest.mark.parametrize("case", ["two timed lines", "timed then untimed", "zone GMT+1", "a time alone at the end",
                                  "wide blanks", "wide blanks across a block"])
def test_a_gzip_and_a_plain_file_give_the_same_last_time(tmp_path, case: str) -> None:
    """Attack s22d F1-F3: a gzip neighbour skipped the first whole line of each 1 MiB chunk (a 2-line gzip gave its
    first line's time); `GMT+1` (which the grammar reads) was no time to rotation; a last line that is only a time
    and no newline (a reject for the parser) counted in a gzip, not in a plain file."""
    import gzip

    from imsvalog.rotation import first_time, last_time
    from imsvalog.sources import LogFile

    a, b = "2024/03/12 10:00:00 GMT+08:00 [1:2] a\n", "2024/03/12 11:00:00 GMT+08:00 [1:2] b\n"
    wide = "2024/03/12" + " " * 60 + "11:00:00 GMT+08:00 b\n"
    data, want = {
        "two timed lines": (a + b, "2024-03-12 11:00:00+08:00"),
        "timed then untimed": (a + b + "  continued\n", "2024-03-12 11:00:00+08:00"),
        "zone GMT+1": (a.replace("+08:00", "+1") + b.replace("+08:00", "+1"), "2024-03-12 11:00:00+01:00"),
        "a time alone at the end": (a + "2024/03/12 11:00:00 GMT+08:00", "2024-03-12 10:00:00+08:00"),
        # attack s22e: blanks the grammar allows pushed the offset past the 64 bytes held: 'GMT+1000' read '+100'
        # (a one-line file: the line a gzip chunk begins with)
        "wide blanks": ("2024/03/12" + " " * 38 + "10:00:00 GMT+1000\t[1:2] b\n", "2024-03-12 10:00:00+10:00"),
        # the wide line 11 bytes before the 1 MiB block boundary counted back from the end, an untimed line after it
        "wide blanks across a block": (a + wide + "y" * ((1 << 20) + 11 - len(wide) - 1) + "\n",
                                       "2024-03-12 11:00:00+08:00"),
    }[case]
    plain, gz = tmp_path / "polevt.imss.20240312.0001", tmp_path / "polevt.imss.20240312.0002.gz"
    plain.write_text(data)
    gz.write_bytes(gzip.compress(data.encode()))
    for path in (plain, gz):
        f = LogFile(path, "polevt", "20240312", 1)
        assert str(last_time(f)) == want, path
        assert str(first_time(f)).startswith("2024-03-12 10:00:00"), path
