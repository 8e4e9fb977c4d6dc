"""One Received header line lost from the log (the KB case without log.imss lines 3-4: the second header and
its 'get matched string' line) while IMSVA's 'Get 1 IP address' line names an address of that header: the
model's list is unknown, not different, as when all headers are missing (tests/test_headers_not_logged.py).
Unknown stays unknown in every output, in the counts, in the words and in the calibration."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.correlation import correlate
from imsvalog.correlation.compare import addresses_in_no_header
from imsvalog.sentence import row_sentence

KB = Path(__file__).resolve().parent.parent / "fixtures" / "kb000239719"
IID = "87BDADC9-87B8-3D05-A958-0267A8088406"
ADDR = "1111:2222:3333:444::5555"


def _case(folder: Path, same_domain: bool = True) -> Path:
    log = (KB / "log.imss.20190430.0001").read_text().splitlines(keepends=True)
    assert "parse received header string:from mail.example.com" in log[2] and "get matched string" in log[3]
    (folder / "log.imss.20190430.0001").write_text("".join(log[:2] + log[4:]))
    polevt = (KB / "polevt.imss.20190430.0001").read_text()
    if same_domain:
        polevt = polevt.replace("\ttest@test\t", "\tsomeone@test.test\t")
    (folder / "polevt.imss.20190430.0001").write_text(polevt)
    return folder


def _run(*args: str) -> str:
    res = CliRunner().invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res.stdout


def test_the_agreement_is_unknown_in_the_library_and_the_dataframe(tmp_path: Path) -> None:
    c = correlate(_case(tmp_path))
    (row,) = c.rows
    assert row.status == "linked" and len(row.trace.headers) == 1
    assert addresses_in_no_header(row.trace) == [ADDR]
    assert row.agrees is None and row.findings == []
    assert row.recomputed is not None and row.recomputed.verdict == "unknown"
    assert c.summary.disagreements == 0
    assert any("a header line is missing from the log" in n for n in row.notes)
    df = c.to_frame()
    assert df["agrees"].isna().all() and df["recomputed_count"].isna().all()


def test_the_words_never_say_it_disagrees(tmp_path: Path) -> None:
    (row,) = correlate(_case(tmp_path)).rows
    assert "DISAGREEMENT" not in row.explanation and "missing a header line" not in row.explanation
    assert "(incomplete: IMSVA counted an address that none of the headers below holds" in row.explanation
    assert "The model's verdict: unknown (a Received header line is missing from the log" in row.explanation
    sentence = row_sentence(row.to_dict())
    assert "disagree" not in sentence
    assert f"IMSVA counted 1 address ({ADDR}) from Received headers of which the log lost a line" in sentence


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_the_tables_show_unknown(tmp_path: Path, fmt: str) -> None:
    out = _run("correlate", str(_case(tmp_path)), "--format", fmt)
    (line,) = [ln for ln in out.splitlines() if "87BDADC9" in ln and "someone@test.test" in ln]
    if fmt == "table":
        assert line.split()[-4:-1] == ["1/-", "yes", "-"]
    else:
        assert [c.strip() for c in line.split("|")][-5:-2] == [f"1: {ADDR}", "-", "-"]
    assert "0 disagreements with the model" in out and "DISAGREEMENT" not in out


def test_json_jsonl_and_csv_carry_unknown(tmp_path: Path) -> None:
    case = str(_case(tmp_path))
    (row,) = json.loads(_run("correlate", case, "--format", "json"))["rows"]
    assert row["agrees"] is None and row["findings"] == [] and row["recomputed"]["ips"] is None
    (line,) = [json.loads(x) for x in _run("correlate", case, "--format", "jsonl").splitlines()]
    assert line["agrees"] is None
    (rec,) = csv.DictReader(io.StringIO(_run("correlate", case, "--format", "csv")))
    assert rec["agrees"] == "" and rec["findings"] == "" and rec["logged_ips"] == ADDR


def test_calibration_leaves_it_out(tmp_path: Path) -> None:
    c = correlate(_case(tmp_path), profile="auto")
    assert c.calibration is not None and c.calibration.traces == 0 and c.calibration.unscored == [IID]
    out = _run("correlate", str(_case(tmp_path)), "--profile", "auto")
    assert "Received headers are not all in the log, so no variant can be scored on it" in out


def test_a_header_free_finding_still_disagrees(tmp_path: Path) -> None:
    """Envelope domains that differ while IMSVA fired need no Received header: that NO stays, on the domain only."""
    (row,) = correlate(_case(tmp_path, same_domain=False)).rows
    assert row.agrees is False and [f.kind for f in row.findings] == ["domain"]


def test_all_headers_kept_still_compares_the_lists() -> None:
    (row,) = correlate(KB).rows
    assert addresses_in_no_header(row.trace) == []
    assert row.recomputed is not None and row.recomputed.headers_logged


H = "2019/04/30 13:57:43 GMT+09:00 [28639:4098483968] "


@pytest.mark.parametrize("lost", ["10.1.1.1", "10.1.1.2"])
def test_a_lost_address_that_is_part_of_a_kept_one_is_still_lost(tmp_path: Path, lost: str) -> None:
    """IMSVA counted 10.1.1.10 and 10.1.1.1; only the header with 10.1.1.10 is logged: 10.1.1.1 is held by no
    header (a substring of 10.1.1.10 is not the address), so the agreement is unknown, as with 10.1.1.2."""
    log = (KB / "log.imss.20190430.0001").read_text().splitlines(keepends=True)
    log = [log[0],
           H + "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:from mx.example.net "
           "(mx.example.net [10.1.1.10])        by ie-test057.test.test (Postfix) with ESMTP id DDDFC11FB0C; "
           "Tue, 30 Apr 2019 13:57:42 +0900 (JST)\n",
           H + "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader:get matched string:10.1.1.10\n",
           H + f"[DEBUG]AntiSpoofFilter: Get 2 IP address from received header. 10.1.1.10,{lost},\n"] + log[5:]
    (tmp_path / "log.imss.20190430.0001").write_text("".join(log))
    (tmp_path / "polevt.imss.20190430.0001").write_text(
        (KB / "polevt.imss.20190430.0001").read_text().replace("\ttest@test\t", "\tsomeone@test.test\t"))
    (row,) = correlate(tmp_path).rows
    assert addresses_in_no_header(row.trace) == [lost]
    assert row.agrees is None and row.findings == []
    out = _run("correlate", str(tmp_path), "-f", "jsonl")
    assert json.loads(out.splitlines()[0])["agrees"] is None
    table = _run("correlate", str(tmp_path))
    assert "2/-" in table and "DISAGREEMENT" not in table and "NO" not in table.split()


def test_an_ipv4_mapped_address_in_a_header_holds_its_ipv4_form(tmp_path: Path) -> None:
    """IMSVA logged 10.1.1.1; the header writes it IPv4-mapped ([IPv6:::ffff:10.1.1.1], which the model checks
    as 10.1.1.1): no header line is lost, so nothing says one is (attack s18b-3)."""
    log = (KB / "log.imss.20190430.0001").read_text().splitlines(keepends=True)
    log = [log[0],
           H + "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:from mx.example.net "
           "(mx.example.net [IPv6:::ffff:10.1.1.1])        by ie-test057.test.test (Postfix) with ESMTP id DDDFC11FB0C; "
           "Tue, 30 Apr 2019 13:57:42 +0900 (JST)\n",
           H + "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader:get matched string:10.1.1.1\n",
           H + "[DEBUG]AntiSpoofFilter: Get 1 IP address from received header. 10.1.1.1,\n"] + log[5:]
    (tmp_path / "log.imss.20190430.0001").write_text("".join(log))
    (tmp_path / "polevt.imss.20190430.0001").write_text((KB / "polevt.imss.20190430.0001").read_text())
    (row,) = correlate(tmp_path).rows
    assert addresses_in_no_header(row.trace) == []
    explained = _run("correlate", str(tmp_path), "--explain")
    assert "missing from the log" not in explained and "none of the Received headers" not in explained
    assert "in none of the recovered headers" not in explained
    assert "header 1 has it as ::ffff:10.1.1.1" in explained  # where the model saw it, in the form written
