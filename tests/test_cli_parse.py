"""`imsvalog parse`, `--version`, `--help`, errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imsvalog import __version__
from imsvalog.cli import app

from .conftest import FIXTURES, KB, ROOT

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_parse_kb_prints_ten_imss_records_and_the_policy_event() -> None:
    r = run("parse", *map(str, sorted(KB.iterdir())))
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].split()[:5] == ["where", "time", "what", "thread", "fields"]
    body = lines[1:]
    assert len(body) == 11
    assert sum("log.imss.20190430.0001:" in ln for ln in body) == 10
    assert "polevt" in body[-1] and "rule=Spoofing message" in body[-1] and "actions=quarantine" in body[-1]
    assert "count=1 ips=1111:2222:3333:444::5555" in r.stdout
    assert "log.imss.20190430.0001: 10 lines, 10 records, 0 rejects" in r.stderr


def test_jsonl_loads_line_by_line_with_the_promised_keys() -> None:
    r = run("parse", str(KB), "--format", "jsonl")
    rows = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert len(rows) == 11
    for row in rows:
        assert {"kind", "file", "line", "time"} <= row.keys()
    assert rows[0]["time"] == "2019-04-30T13:57:43+09:00"
    ev = rows[-1]
    assert ev["kind"] == "polevt"
    assert ev["recipients"] == ["test@test.test"] and ev["conditions"] == ["others"] and ev["actions"] == ["quarantine"]
    for key in ("internal_id", "sender", "subject", "rule", "size_kb", "message_id"):
        assert key in ev


def test_rejects_go_to_their_own_file_and_strict_fails(tmp_path: Path) -> None:
    rej = tmp_path / "rejects.jsonl"
    out = tmp_path / "out.jsonl"
    r = run("parse", str(FIXTURES / "ugly"), "--format", "jsonl", "--output", str(out), "--rejects", str(rej), "--strict")
    assert r.exit_code == 1
    rejects = [json.loads(ln) for ln in rej.read_text().splitlines()]
    assert len(rejects) == 5 and all({"file", "line", "reason", "raw"} <= x.keys() for x in rejects)
    assert all(json.loads(ln)["kind"] != "reject" for ln in out.read_text().splitlines())
    assert "3 rejects" in r.stderr and "2 rejects" in r.stderr


def test_csv_and_markdown_have_headers() -> None:
    csv_out = run("parse", str(KB), "--format", "csv").stdout
    assert csv_out.splitlines()[0].startswith("kind,shape,file,line,time,thread")
    md = run("parse", str(KB), "--format", "markdown").stdout
    assert md.startswith("| kind | shape |")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["parse", "/no/such/file"], "no such file or directory"),
        (["parse", str(FIXTURES / "bad" / "not-a-log.txt")], "cannot tell what kind of log"),
        (["parse", str(KB), "--kind", "syslog"], "--kind must be one of: imss, polevt, msgtra, maillog"),
        (["parse", str(KB), "--format", "xml"], "--format must be one of: table, jsonl, json, csv, markdown"),
    ],
)
def test_usage_and_input_errors_exit_2_without_traceback(args: list[str], message: str) -> None:
    r = run(*args)
    assert r.exit_code == 2
    assert message in r.output
    assert "Traceback" not in r.output


def test_output_may_not_overwrite_an_input(tmp_path: Path) -> None:
    victim = tmp_path / "log.imss.20190430.0001"
    victim.write_bytes((KB / "log.imss.20190430.0001").read_bytes())
    r = run("parse", str(victim), "--output", str(victim))
    assert r.exit_code == 2 and "input files are only read" in r.output
    assert victim.read_bytes() == (KB / "log.imss.20190430.0001").read_bytes()


def test_version_and_help_examples() -> None:
    assert run("--version").stdout.strip() == f"imsvalog {__version__}"
    for cmd in ("parse", "spoof-check", "correlate"):
        h = run(cmd, "--help")
        assert h.exit_code == 0 and "Examples:" in h.stdout, cmd


def test_python_m_and_console_script_entry_point() -> None:
    r = subprocess.run([sys.executable, "-m", "imsvalog", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and r.stdout.startswith("imsvalog ")
    r = subprocess.run([sys.executable, "-m", "imsvalog", "parse", "/nope"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and r.stderr.startswith("imsvalog: error: /nope") and "Traceback" not in r.stderr


def test_kind_choices_are_the_parsed_kinds() -> None:
    from imsvalog.cli import Kind
    from imsvalog.grammars import GRAMMARS

    assert [k.value for k in Kind] == list(GRAMMARS)


def test_a_bug_is_one_line_and_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    import imsvalog.cli as cli

    def boom(*a, **k):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(cli, "iter_found", boom)
    r = run("parse", str(KB))
    assert r.exit_code == 3
    assert "internal error: ZeroDivisionError: boom" in r.stderr and "Traceback" not in r.output
