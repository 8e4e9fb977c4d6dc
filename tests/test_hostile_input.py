"""Nothing lost on hostile or damaged files, bounded memory (issue 8, items 3, 4, 5, 7, 8)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.readers import ReadReport, iter_records
from imsvalog.records import Reject
from imsvalog.render import clean_terminal, csv_cell, json_line, markdown_cell

from .conftest import FIXTURES

runner = CliRunner()
BUSY = FIXTURES / "busy-day"
IMSS_OK = "2024/03/12 09:15:01 GMT+01:00 [4242:139871] Final action 0: QuarantineAction"
POLEVT_OK = "2024/03/12 09:15:01 GMT+01:00\tID-2\ta@example.com\tb@example.com\tHi\t1\tSpoofing message\t0000010000000000\t\t0.5\t01000000000000000"
MSGTRA_OK = (BUSY / "msgtra.imss.20240312.0001").read_text().splitlines()[0]
MAILLOG_OK = "Mar 12 09:15:00 imsva postfix/qmgr[1180]: 4A1F3C0042: from=<alice@example.com>, size=4211, nrcpt=1 (queue active)"
NAMES = {"imss": "log.imss.20240312.0001", "polevt": "polevt.imss.20240312.0001",
         "msgtra": "msgtra.imss.20240312.0001", "maillog": "maillog-20240313"}
HUGE = "9" * 4301


def read(tmp_path: Path, kind: str, lines: list[str], **kw) -> list:
    p = tmp_path / NAMES[kind]
    p.write_bytes("\n".join(lines).encode("utf-8", "surrogateescape") + b"\n")
    report = ReadReport()
    items = list(iter_records([p], report=report, **kw))
    assert len(items) == len(lines) == report.records + report.rejects  # nothing lost
    return items


# --- item 3: odd numbers and dates are rejects naming the field, the run goes on ----------


@pytest.mark.parametrize(
    ("kind", "line", "field"),
    [
        ("imss", f"2024/03/12 09:15:01 GMT+01:00 [{HUGE}:139871] Final action 0: QuarantineAction", "pid"),
        ("imss", f"2024/03/12 09:15:01 GMT+01:00 [4242:{HUGE}] Final action 0: QuarantineAction", "tid"),
        ("imss", f"2024/03/12 09:15:01 GMT+01:00 [4242:139871] Running ruleId:{HUGE}; version:2", "ruleId"),
        ("imss", f"2024/03/12 09:15:01 GMT+01:00 [4242:139871] [DEBUG]AntiSpoofFilter: Get {HUGE} IP address from received header. 192.0.2.1,", "Get N IP"),
        ("imss", f"2024/03/12 09:15:01 GMT+01:00 [4242:139871] push ruleID.ruleVer={HUGE}.2 into executed rule list", "ruleID"),
        ("maillog", f"Mar 12 09:15:00 imsva postfix/qmgr[{HUGE}]: 4A1F3C0042: removed", "[pid]"),
        ("maillog", f"Mar 12 09:15:00 imsva postfix/qmgr[1180]: 4A1F3C0042: from=<a@example.com>, size={HUGE}, nrcpt=1 (queue active)", "size="),
        ("maillog", f"Mar 12 09:15:01 imsva postfix/smtp[24767]: 4A1F3C0042: to=<b@example.com>, relay=localhost[127.0.0.1]:{HUGE}, delay=1.2, delays=0.1/0.01/0.05/1.0, dsn=2.0.0, status=sent (250 Ok)", "relay port"),
        ("polevt", POLEVT_OK.replace("\tHi\t1\t", f"\tHi\t{HUGE}\t"), "field 5 (direction)"),
    ],
)
def test_huge_integers_are_rejects_naming_the_field(tmp_path: Path, kind: str, line: str, field: str) -> None:
    ok = {"imss": IMSS_OK, "polevt": POLEVT_OK, "msgtra": MSGTRA_OK, "maillog": MAILLOG_OK}[kind]
    first, second = read(tmp_path, kind, [line, ok])
    assert isinstance(first, Reject) and field in first.reason and "4301 digits" in first.reason, first
    assert not isinstance(second, Reject)  # the lines after it are read


@pytest.mark.parametrize(
    ("kind", "line"),
    [
        ("msgtra", MSGTRA_OK.replace("2024 Mar 12 09:15:01 +01:00", "2024 Mar 12 09:15:01 +99:99", 1)),
        ("msgtra", MSGTRA_OK.replace("2024 Mar 12 09:15:01 +01:00", "9999 Dec 31 23:59:59 -12:00", 1)),
        ("msgtra", MSGTRA_OK.replace("2024/03/12 09:15:01 +01:00", "2024/03/12 09:15:01 +24:00", 1)),
        ("imss", IMSS_OK.replace("2024/03/12", "9999/12/31")),
        ("imss", IMSS_OK.replace("2024/03/12", "0001/01/01")),
        ("polevt", POLEVT_OK.replace("2024/03/12", "0001/01/01")),
        ("maillog", "9999-12-31T23:59:59+09:00 imsva postfix/qmgr[1180]: 4A1F3C0042: removed"),
        ("maillog", "0001-01-01T00:00:00-09:00 imsva postfix/qmgr[1180]: 4A1F3C0042: removed"),
    ],
)
def test_impossible_offsets_and_years_are_rejects_and_every_format_still_works(tmp_path: Path, kind: str, line: str) -> None:
    items = read(tmp_path, kind, [line])
    assert isinstance(items[0], Reject) and ("offset" in items[0].reason or "year" in items[0].reason), items[0]
    for fmt in ("table", "jsonl", "json", "csv", "markdown"):
        r = runner.invoke(app, ["parse", str(tmp_path / NAMES[kind]), "-f", fmt])
        assert r.exit_code == 0, (fmt, r.output)


# --- item 5: polevt nan/inf/1e999 never produce non-standard JSON ----------------------------


@pytest.mark.parametrize("number", ["nan", "inf", "-inf", "1e999", "Infinity", "NaN"])
def test_non_finite_numbers_are_rejects_and_json_stays_standard(tmp_path: Path, number: str) -> None:
    size = POLEVT_OK.replace("\t\t0.5\t", f"\t\t{number}\t")
    score = POLEVT_OK + f"\t{number}"
    items = read(tmp_path, "polevt", [size, score, POLEVT_OK])
    assert [type(i).__name__ for i in items] == ["Reject", "Reject", "PolicyEvent"]
    assert "field 9 (size_kb) is not a finite number" in items[0].reason
    assert "field 11 (spam_score) is not a finite number" in items[1].reason
    for fmt in ("jsonl", "json"):
        out = runner.invoke(app, ["parse", str(tmp_path / NAMES["polevt"]), "-f", fmt]).stdout
        # a strict parser: NaN/Infinity are not JSON
        strict = json.JSONDecoder(parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
        docs = [strict.decode(ln) for ln in out.splitlines()] if fmt == "jsonl" else [strict.decode(out)]
        assert docs


def test_json_writers_turn_any_non_finite_float_into_null() -> None:
    assert json.loads(json_line({"a": float("nan"), "b": [float("inf")], "c": 1.5})) == {"a": None, "b": [None], "c": 1.5}


# --- item 4: line-length cap, gzip bomb, bounded memory ---------------------------------


def test_an_over_long_line_is_one_reject_with_its_head_and_length_and_reading_goes_on(tmp_path: Path) -> None:
    long = IMSS_OK + " " + "x" * 5000
    items = read(tmp_path, "imss", [IMSS_OK, long, IMSS_OK], max_line=4096)
    assert [isinstance(i, Reject) for i in items] == [False, True, False]
    r = items[1]
    assert f"line of {len(long):,} bytes, over the limit of 4,096" in r.reason and "first 1,024 bytes" in r.reason
    assert r.source.text == long[:1024]


def test_the_default_cap_is_one_mib_and_parse_has_an_option(tmp_path: Path) -> None:
    p = tmp_path / NAMES["polevt"]
    long = POLEVT_OK.replace("\tHi\t", "\tHi" + "A" * (1 << 20) + "\t")
    p.write_bytes(long.encode() + b"\r\n" + POLEVT_OK.encode() + b"\n")
    r = runner.invoke(app, ["parse", str(p), "-f", "jsonl"])
    rows = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert [x["kind"] for x in rows] == ["reject", "polevt"]
    assert "over the limit of 1,048,576" in rows[0]["reason"]
    assert f"line of {len(long):,} bytes" in rows[0]["reason"]
    r = runner.invoke(app, ["parse", str(p), "-f", "jsonl", "--max-line-length", str(2 << 20)])
    assert [json.loads(ln)["kind"] for ln in r.stdout.splitlines()] == ["polevt", "polevt"]


def test_a_gzip_bomb_of_nul_bytes_is_one_reject_in_bounded_memory(tmp_path: Path) -> None:
    p = tmp_path / "log.imss.20240312.0001.gz"
    with gzip.open(p, "wb") as fh:
        chunk = bytes(1 << 20)
        for _ in range(64):  # 64 MiB of NUL bytes, no newline; the file is ~64 KB
            fh.write(chunk)
    tracemalloc.start()
    try:
        report = ReadReport()
        items = list(iter_records([p], report=report))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(items) == 1 and isinstance(items[0], Reject) and "67,108,864 bytes" in items[0].reason
    assert peak < 8 << 20, peak  # the limit (1 MiB) bounds it, not the 64 MiB line


def test_memory_does_not_grow_with_the_length_of_a_line(tmp_path: Path) -> None:
    peaks = []
    for size in (4 << 20, 32 << 20):
        p = tmp_path / f"polevt.imss.2024031{size >> 22}.0001"
        p.write_bytes(POLEVT_OK.encode() + b"A" * size + b"\n" + POLEVT_OK.encode() + b"\n")
        tracemalloc.start()
        try:
            n = sum(1 for _ in iter_records([p], max_line=1 << 16))
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert n == 2
    assert peaks[1] < 1 << 20 and peaks[1] < 2 * peaks[0], peaks


# --- item 8: CR-only line endings --------------------------------------------------------


def test_cr_only_line_endings_are_split_with_a_note(tmp_path: Path) -> None:
    p = tmp_path / NAMES["imss"]
    p.write_bytes((IMSS_OK + "\r").encode() * 3)
    report = ReadReport()
    items = list(iter_records([p], report=report))
    assert len(items) == 3 and not any(isinstance(i, Reject) for i in items)
    assert report.files[0].notes == ["lines end in CR alone (no LF): split at CR"]
    r = runner.invoke(app, ["parse", str(p)])
    assert "lines end in CR alone (no LF): split at CR" in r.stderr


# --- item 8: bit codes of the wrong length ------------------------------------------------


@pytest.mark.parametrize("code", ["1", "0" * 1000, "0" * 16])
def test_action_codes_of_the_wrong_length_are_rejects(tmp_path: Path, code: str) -> None:
    items = read(tmp_path, "polevt", [POLEVT_OK.replace("\t01000000000000000", f"\t{code}")])
    assert isinstance(items[0], Reject) and f"field 10 (actions) has {len(code)} digit" in items[0].reason
    assert "17 are documented" in items[0].reason


def test_condition_codes_of_the_wrong_length_are_rejects(tmp_path: Path) -> None:
    items = read(tmp_path, "polevt", [POLEVT_OK.replace("\t0000010000000000\t", "\t1\t")])
    assert isinstance(items[0], Reject) and "field 7 (conditions) has 1 digit; 16 are documented" in items[0].reason


# --- item 7: terminal safety by Unicode category --------------------------------------------

SNEAKY = {"\u061c": "\\u061c", "\u200b": "\\u200b", "\ufeff": "\\ufeff", "\u2028": "\\u2028", "\u2029": "\\u2029",
          "\u0378": "\\u0378", "\u202e": "\\u202e", "\x1b": "\\x1b", "\x85": "\\x85"}


@pytest.mark.parametrize(("char", "shown"), SNEAKY.items())
def test_format_separator_and_unassigned_characters_are_escaped_everywhere(char: str, shown: str) -> None:
    text = f"Subject{char}here"
    assert clean_terminal(text) == f"Subject{shown}here"
    assert char not in markdown_cell(text) and shown.replace("\\", "\\\\") in markdown_cell(text)
    assert csv_cell(text) == f"Subject{shown}here"
    assert clean_terminal("日本語 café\u00a0x") == "日本語 café\u00a0x"  # letters and spaces stay


def test_parse_outputs_carry_no_raw_format_characters(tmp_path: Path) -> None:
    subject = "Invoice\u061c\u200b\ufeff\u2028\u2029\u0378 due"
    p = tmp_path / NAMES["polevt"]
    p.write_text(POLEVT_OK.replace("\tHi\t", f"\t{subject}\t") + "\n", encoding="utf-8")
    for fmt in ("table", "csv", "markdown", "jsonl"):
        out = runner.invoke(app, ["parse", str(p), "-f", fmt]).stdout
        assert not any(c in out for c in SNEAKY), fmt
        if fmt == "csv":
            row = next(csv.DictReader(io.StringIO(out)))
            assert row["subject"] == "Invoice\\u061c\\u200b\\ufeff\\u2028\\u2029\\u0378 due"
