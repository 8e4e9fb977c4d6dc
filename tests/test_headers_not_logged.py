"""A trace with IMSVA's 'Get N IP address' line but none of the Received headers it counted from: the headers
are not in the log (cut off, another log level), not absent. Unknown stays unknown: the model's list cannot be
checked, in every output, in the counts and in the calibration."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.correlation import correlate
from imsvalog.sentence import row_sentence

KB = Path(__file__).resolve().parent.parent / "fixtures" / "kb000239719"


def _case(folder: Path, same_domain: bool) -> Path:
    """The KB case with its 'parse received header string' and 'get matched string' lines cut out (IMSVA's
    own 'Get 1 IP address' line, verdict and filter result kept); ``same_domain``: the envelope sender shares
    the recipient's domain, so only the address list is in question."""
    log = (KB / "log.imss.20190430.0001").read_text()
    kept = [ln for ln in log.splitlines(keepends=True) if "parseSendIPFromOneRecvHeader" not in ln]
    assert len(kept) == len(log.splitlines()) - 3
    (folder / "log.imss.20190430.0001").write_text("".join(kept))
    polevt = (KB / "polevt.imss.20190430.0001").read_text()
    if same_domain:
        polevt = polevt.replace("\ttest@test\t", "\ttest@test.test\t")
    (folder / "polevt.imss.20190430.0001").write_text(polevt)
    return folder


def _run(*args: str) -> str:
    res = CliRunner().invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res.stdout


def test_the_agreement_is_unknown_in_the_library_and_the_dataframe(tmp_path: Path) -> None:
    c = correlate(_case(tmp_path, same_domain=True))
    (row,) = c.rows
    assert row.status == "linked"
    assert row.agrees is None
    assert row.findings == []
    assert row.recomputed is not None and not row.recomputed.headers_logged
    assert row.recomputed.verdict == "unknown"
    assert c.summary.disagreements == 0
    assert any("not in the log" in n for n in row.notes)
    df = c.frame if hasattr(c, "frame") else c.to_frame()
    assert df["agrees"].isna().all()
    assert df["recomputed_ips"].isna().all() and df["recomputed_count"].isna().all()
    assert list(df["logged_ips"].iloc[0]) == ["1111:2222:3333:444::5555"]


def test_the_words_say_the_headers_are_not_in_the_log_never_that_the_message_has_none(tmp_path: Path) -> None:
    (row,) = correlate(_case(tmp_path, same_domain=True)).rows
    text = row.explanation
    assert "the message has no Received header" not in text
    assert "not in the log" in text
    assert "DISAGREEMENT" not in text
    assert "The model reproduces IMSVA's list" not in text
    assert "IMSVA counts 0 addresses" not in text
    sentence = row_sentence(row.to_dict())
    assert "not in the log" in sentence
    assert "disagree" not in sentence and "the only address in the Received headers" not in sentence


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_the_tables_show_the_agreement_and_the_models_count_as_unknown(tmp_path: Path, fmt: str) -> None:
    out = _run("correlate", str(_case(tmp_path, same_domain=True)), "--format", fmt)
    (line,) = [ln for ln in out.splitlines() if "87BDADC9" in ln and "test@test.test" in ln]
    if fmt == "table":  # IPs logged/recomputed, fired, agrees
        assert line.split()[-4:-1] == ["1/-", "yes", "-"]
    else:  # logged, recomputed, agrees
        assert [c.strip() for c in line.split("|")][-5:-2] == ["1: 1111:2222:3333:444::5555", "-", "-"]
    assert "0 disagreements with the model" in out
    assert "DISAGREEMENT" not in out


def test_json_jsonl_and_csv_carry_unknown(tmp_path: Path) -> None:
    case = str(_case(tmp_path, same_domain=True))
    (row,) = json.loads(_run("correlate", case, "--format", "json"))["rows"]
    assert row["agrees"] is None and row["findings"] == []
    assert row["recomputed"]["ips"] is None and row["recomputed"]["verdict"] == "unknown"
    (line,) = [json.loads(x) for x in _run("correlate", case, "--format", "jsonl").splitlines()]
    assert line["agrees"] is None and line["recomputed"]["ips"] is None
    assert "not in the log" in line["summary"] and "not in the log" in line["explanation"]
    (rec,) = csv.DictReader(io.StringIO(_run("correlate", case, "--format", "csv")))
    assert rec["agrees"] == "" and rec["recomputed_count"] == "" and rec["findings"] == ""
    assert rec["logged_ips"] == "1111:2222:3333:444::5555"


def test_explain_says_why_the_model_cannot_be_checked(tmp_path: Path) -> None:
    out = _run("correlate", str(_case(tmp_path, same_domain=True)), "--explain", "--trusted", "10.0.0.0/8")
    assert "the message has no Received header" not in out
    assert "(not in the log: IMSVA counted addresses from them" in out
    assert "The model's verdict: unknown (the Received headers are not in the log" in out
    # IMSVA's own verdict still answers why it fired, from its logged list
    assert "Why it fired, by IMSVA's logged list: 1111:2222:3333:444::5555 not in the given trusted list." in out
    assert "verdict differs" not in out and "CONTRADICTION" not in out


def test_a_known_disagreement_still_counts_when_the_list_is_unknown(tmp_path: Path) -> None:
    """The KB case's envelope domains differ although IMSVA fired: that finding needs no Received header, so
    the row disagrees (a known 'no' outweighs an unknown), but only on the domain, never on the list."""
    (row,) = correlate(_case(tmp_path, same_domain=False)).rows
    assert row.agrees is False
    assert [f.kind for f in row.findings] == ["domain"]
    assert "the message has no Received header" not in row.explanation


def test_calibration_does_not_score_a_trace_without_its_headers(tmp_path: Path) -> None:
    case = _case(tmp_path, same_domain=True)
    c = correlate(case, profile="auto")
    assert c.calibration is not None
    assert c.calibration.traces == 0
    assert c.calibration.unscored == ["87BDADC9-87B8-3D05-A958-0267A8088406"]
    assert c.calibration.chosen.failing == ()
    out = _run("correlate", str(case), "--profile", "auto")
    assert "Received headers are not all in the log, so no variant can be scored on it" in out
    assert "still does not reproduce" not in out
