"""--redact on parse and correlate: nothing on stderr names the temporary copy or a path as given (folder and
bundle names may be customer names): the per-file 'reading' lines, the maillog year/zone notes and the rest name
the files as the redacted output names them (attack s18 S18-5)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import imsvalog.cli
from imsvalog.cli import app

from .conftest import FIXTURES
from .test_redact_gaps import _case_with_customer_names, r

KEY = str(FIXTURES / "redaction-example.key")


def _stderr(*args: str) -> str:
    res = CliRunner().invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res.stderr


def _clean(err: str) -> None:
    assert not re.search("kanzlei", err, re.IGNORECASE), err
    assert "imsvalog-redact-" not in err, err


@pytest.mark.parametrize("command", ["parse", "correlate"])
def test_the_maillog_notes_name_the_redacted_copies(tmp_path: Path, command: str) -> None:
    case = _case_with_customer_names(tmp_path)
    extra = ["-f", "jsonl", "-o", str(tmp_path / "out.jsonl")] if command == "parse" else []
    err = _stderr(command, str(case), "--redact", "--key-file", KEY, "--password", "trend", *extra)
    _clean(err)
    dom = r().domain("kanzlei.lu")
    notes = [ln for ln in err.splitlines() if "maillog year" in ln]
    assert notes and all(f"{dom}-imsva01/IMSVA/LogFile/Event3/" in ln or "-CDT-20240315-101500.zip!" in ln
                         for ln in notes), notes
    # the folder's logs are the bundle's bytes (the case holds the CDT zip and its unpacked folder): read once, from
    # the bundle, and the line that says so names the redacted copies too
    assert any("-CDT-20240315-101500.zip!IMSVA/Logfile/Event5/maillog-20240316: maillog year 2024" in ln
               for ln in notes), notes
    # the bundle named as the bundle (attack s23b, 5: its copy's folder was named, without .zip)
    assert any("the same bytes as a log in /" in ln and "-CDT-20240315-101500.zip: read once, from there" in ln
               for ln in err.splitlines()), err
    assert command == "parse" or any(" hold the same bytes as logs in /" in ln and "-CDT-20240315-101500.zip ("
                                     in ln for ln in err.splitlines()), err


def test_the_reading_lines_name_the_redacted_copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = _case_with_customer_names(tmp_path)
    monkeypatch.setattr(imsvalog.cli, "stderr_is_tty", lambda: True)
    err = _stderr("parse", str(case), "--redact", "--key-file", KEY, "--password", "trend", "-f", "jsonl",
                  "-o", str(tmp_path / "out.jsonl"))
    _clean(err)
    reading = [ln for ln in err.splitlines() if ln.startswith("reading ")]
    assert len(reading) >= 4
    assert any("CDT-20240315-101500.zip!IMSVA/LogFile/Event3/" in ln for ln in reading), reading


@pytest.mark.parametrize("command", ["parse", "correlate", "trace"])
def test_the_default_password_notice_names_the_bundle_as_the_output_does(tmp_path: Path, command: str) -> None:
    case = _case_with_customer_names(tmp_path)
    args = ["4C4C4C4C-5D5D-46E6-97F7-A8A8B9B9CACA"] if command == "trace" else []
    res = CliRunner().invoke(app, [command, *args, str(case), "--redact", "--key-file", KEY, "-f", "jsonl"])
    assert res.exit_code in (0, 1), res.output
    _clean(res.stderr)
    word, mx = r().domain("kanzlei"), r().domain("mx1.kanzlei.lu")
    (notice,) = [ln for ln in res.stderr.splitlines() if "opened with the Case Diagnostic Tool's default password" in ln]
    assert f"/{word.capitalize()}_{mx}-CDT-20240315-101500.zip: opened with" in notice, notice
