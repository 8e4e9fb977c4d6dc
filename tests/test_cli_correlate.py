"""`imsvalog correlate`: the main job, as a user runs it."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from imsvalog.cli import app

from .conftest import FIXTURES, KB

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["correlate", *args])


def test_kb_table_and_explain() -> None:
    r = run(*map(str, sorted(KB.iterdir())), "--explain", "--wide")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "queue_id, time (medium-high)" in out
    assert "1: 1111:2222:3333:444::5555" in out
    assert "1 linked, 0 ambiguous" in out
    assert "no address taken: the header has no from clause" in out
    assert "The model reproduces IMSVA's list: 1111:2222:3333:444::5555." in out
    assert "test.test: different domain" in out and "Yet IMSVA fired" in out


def test_jsonl_rows_have_the_documented_keys() -> None:
    r = run(str(FIXTURES / "busy-day"), "--format", "jsonl")
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 9
    keys = {"time", "thread", "internal_id", "message_id", "sender", "recipients", "rule", "actions", "link", "logged",
            "recomputed", "agrees", "explanation", "source"}
    for row in rows:
        assert keys <= row.keys()
    linked = [x for x in rows if x["link"]]
    assert all({"basis", "confidence"} <= x["link"].keys() for x in linked)
    x = next(x for x in rows if x["internal_id"] == "5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C")
    assert x["logged"] == {"ips": ["198.51.100.25", "203.0.113.45"], "ip_count": 2, "triggered": True}
    assert x["recomputed"]["ips"] == ["198.51.100.25", "203.0.113.45"]
    assert x["recomputed"]["skipped"] == [{"header": 3, "address": "192.168.10.23", "reason": "private",
                                           "range": "192.168.0.0/16 (RFC 1918)", "detail": "in 192.168.0.0/16 (RFC 1918)"}]
    assert x["recomputed"]["triggered"] is None
    assert {"file", "line"} == set(x["source"][0])


def test_json_has_summary_and_rows() -> None:
    d = json.loads(run(str(FIXTURES / "busy-day"), "--format", "json").stdout)
    assert d["summary"]["linked"] == 7 and len(d["rows"]) == 9


def test_csv_one_row_per_scan() -> None:
    rows = list(csv.DictReader(io.StringIO(run(str(FIXTURES / "busy-day"), "--format", "csv").stdout)))
    assert len(rows) == 9 and rows[0]["time"].startswith("2024-03-12T09:15:01")


@pytest.mark.parametrize(("only", "n"), [("disagreements", 1), ("unlinked", 2)])
def test_only(only: str, n: int) -> None:
    rows = run(str(FIXTURES / "busy-day"), "--only", only, "--format", "jsonl").stdout.splitlines()
    assert len(rows) == n


def test_trusted_options_make_verdicts_recomputable(tmp_path) -> None:
    f = tmp_path / "trusted.txt"
    f.write_text("198.51.100.25\n")
    r = run(str(FIXTURES / "busy-day"), "--trusted-file", str(f), "--trusted", "198.51.100.26", "--format", "jsonl")
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    verdicts = {x["internal_id"]: x["recomputed"]["verdict"] for x in rows if x["recomputed"]}
    assert verdicts["5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C"] == "fires"


def test_disagreement_is_prominent_in_the_table() -> None:
    out = run(str(FIXTURES / "busy-day")).stdout
    assert "DISAGREEMENT 9E9E9E9E-9F9F-49A9-89B9-C9D9E9F9A9B9: IMSVA counted 2 addresses, the model 1; IMSVA counted 192.0.2.44" in out


def test_output_file(tmp_path) -> None:
    out = tmp_path / "rows.jsonl"
    r = run(str(KB), "--format", "jsonl", "--output", str(out))
    assert r.exit_code == 0 and r.stdout == ""
    assert json.loads(out.read_text())["internal_id"] == "87BDADC9-87B8-3D05-A958-0267A8088406"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/nope"], "no such file or directory"),
        ([str(FIXTURES / "messages")], "needs log.imss or polevt.imss"),
        ([str(KB), "--trusted", "300.1.1.1"], "trusted list entry '300.1.1.1'"),
        ([str(KB), "--only", "everything"], "--only must be one of: disagreements, unlinked"),
        ([str(KB), "--time-window", "-1"], "--time-window must be a number from 0 to 86400"),
    ],
)
def test_errors_exit_2(args: list[str], message: str) -> None:
    r = run(*args)
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output


def test_what_if_and_untrusted_addresses() -> None:
    args = [str(FIXTURES / "busy-day"), "--trusted", "198.51.100.25",
            "--what-if-trusted", "198.51.100.25", "--what-if-trusted", "203.0.113.45"]
    out = run(*args).stdout
    assert "203.0.113.45: 1 message (from IMSVA's logged list); warning: 203.0.113.45 is a public address" in out
    assert (
        "5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C: fires -> does-not-fire (IMSVA's logged list: IMSVA fired with "
        "198.51.100.25, 203.0.113.45 counted; untrusted with the new list: none)"
    ) in out
    d = json.loads(run(*args, "--format", "json").stdout)
    assert [c["name"] for c in d["what_if"]] == ["5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C"]
    assert d["untrusted_addresses"][0] == {
        "address": "198.51.100.26", "count": 2, "public": True,
        "warning": "198.51.100.26 is a public address: trust it only if it is one of your own MTAs or relays",
        "logged": 2,
    }


def test_what_if_profile_alone() -> None:
    out = run(str(FIXTURES / "busy-day"), "--what-if-profile", "strict").stdout
    assert "What-if: no verdict changes." in out


def test_what_if_profile_keeps_the_base_trusted_list() -> None:
    """Regression: --what-if-profile alone compared against *no* list and reported every verdict as changed."""
    out = run(str(FIXTURES / "busy-day"), "--trusted", "198.51.100.25", "--what-if-profile", "strict").stdout
    assert "What-if: no verdict changes." in out


def test_rejected_lines_are_named_on_stderr() -> None:
    r = run(str(FIXTURES / "busy-day"))
    assert "1 line could not be parsed or read:" in r.stderr
    assert "maillog-20240313:12: expected a syslog prefix" in r.stderr
