"""trace's rejects in its JSON output (stop 23 left open): `--format json`/`jsonl` carried none, so a machine reader
could not tell a trace of a partly unreadable log from a whole one; stderr said 'matching line could not be parsed'
also for a gzip whose rest could not be read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from imsvalog.cli import app

from .test_rotation_continuity import BUSY, JUDY

IID = "4C4C4C4C-5D5D-46E6-97F7-A8A8B9B9CACA"  # busy-day's newsletter: its policy event is polevt line 8


def _cut(tmp_path: Path) -> tuple[Path, Path]:
    case = tmp_path / "cut"
    shutil.copytree(BUSY, case)
    gz = case / "log.imss.20240312.0002.gz"
    gz.write_bytes(gz.read_bytes()[:12])  # a gzip cut short: its header only
    return case, gz


def test_trace_json_and_jsonl_carry_a_read_error(tmp_path: Path) -> None:
    case, gz = _cut(tmp_path)
    runner = CliRunner()
    r = runner.invoke(app, ["trace", JUDY, str(case), "--format", "json"])
    assert r.exit_code == 0, r.output
    rejects = json.loads(r.stdout)["rejects"]
    assert [(x["kind"], x["file"], x["line"], x["log_kind"]) for x in rejects] == [("reject", str(gz), 1, "imss")]
    assert rejects[0]["reason"].startswith("cannot read further: ")
    rows = [json.loads(x) for x in runner.invoke(app, ["trace", JUDY, str(case), "--format", "jsonl"]).stdout.splitlines()]
    assert rows[-1] == rejects[0] and all("stage" in x and "kind" not in x for x in rows[:-1])
    # stderr says what happened: the file's rest was not read, not that a matching line did not parse
    assert "1 file could not be read to the end" in r.stderr and "could not be parsed" not in r.stderr, r.stderr


def test_trace_json_carries_a_matching_line_that_does_not_parse(tmp_path: Path) -> None:
    case = tmp_path / "bad"
    shutil.copytree(BUSY, case)
    pol = case / "polevt.imss.20240312.0001"
    pol.write_bytes(pol.read_bytes() + f"2024/03/12 09:20:01 GMT+01:00\t{IID}\tx@y\tz@y\ts\tnot-a-direction\n".encode())
    r = CliRunner().invoke(app, ["trace", IID, str(case), "--format", "json"])
    assert r.exit_code == 0, r.output
    n = len(pol.read_bytes().splitlines())
    assert [(x["file"], x["line"], x["log_kind"]) for x in json.loads(r.stdout)["rejects"]] == [(str(pol), n, "polevt")]
    assert "1 matching line could not be parsed:" in r.stderr and "could not be read" not in r.stderr, r.stderr


def test_trace_json_of_a_whole_log_has_no_rejects() -> None:
    runner = CliRunner()
    assert json.loads(runner.invoke(app, ["trace", IID, str(BUSY), "--format", "json"]).stdout)["rejects"] == []
    rows = [json.loads(x) for x in runner.invoke(app, ["trace", IID, str(BUSY), "--format", "jsonl"]).stdout.splitlines()]
    assert len(rows) == 23 and all(x["stage"] for x in rows)


def test_a_log_imss_line_that_names_the_id_but_does_not_parse_is_a_reject(tmp_path: Path) -> None:
    """attack s24b F5: a log.imss line holding the ID with a bad head (a time of 09:2X:00) was dropped without a word;
    parse --rejects lists it, so trace does too."""
    case = tmp_path / "bd"
    shutil.copytree(BUSY, case)
    log = case / "log.imss.20240312.0001"
    text = log.read_text()
    log.write_text(text + f"2024/03/12 09:2X:00 GMT+01:00 [4242:139872] Scan finished for {JUDY}, scanned 1 times\n")
    line = text.count("\n") + 1
    r = CliRunner().invoke(app, ["trace", JUDY, str(case), "--format", "json"])
    assert r.exit_code == 0, r.output
    rejects = json.loads(r.stdout)["rejects"]
    assert [(x["file"], x["line"], x["log_kind"]) for x in rejects] == [(str(log), line, "imss")]
    assert "expected time HH:MM:SS" in rejects[0]["reason"] and "1 matching line could not be parsed" in r.stderr
