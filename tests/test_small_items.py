"""Issue 7, item 8: the smaller ones (each failed on the old main)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.correlation import correlate

from .conftest import FIXTURES
from .test_correlate import _pe, _write_case


def test_trace_lines_are_in_file_order_across_folders(tmp_path) -> None:
    """A rotation continued in another folder: the trace's last line (its time) is the one read last."""
    p = "2024/03/12 09:00:{s} GMT+01:00 [1:2] "
    first, second = tmp_path / "b-earlier", tmp_path / "a-later"
    first.mkdir()
    second.mkdir()
    (first / "log.imss.20240312.0001").write_text(
        p.format(s="05") + "Running ruleId:12; version:2, numFilters:1, numActions:1\n"
        + p.format(s="05") + "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:"
        "from a.example.net (a.example.net [203.0.113.5]) by imsva.example.com (Postfix) with ESMTP id QQQQQQ1\n"
    )
    (second / "log.imss.20240312.0002").write_text(
        p.format(s="07") + "[DEBUG]AntiSpoofFilter: Get 1 IP address from received header. 203.0.113.5,\n"
        + p.format(s="07") + "[DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered.\n"
    )
    c = correlate([first, second])
    (row,) = c.rows
    assert [r.source.line for r in row.trace.records] == [2, 1, 2]
    assert row.trace.records[-1].source.file.endswith("a-later/log.imss.20240312.0002")
    assert row.time.second == 7


def test_spoof_check_says_when_the_observation_contradicts_the_verdict() -> None:
    run = CliRunner().invoke
    args = ["spoof-check", str(FIXTURES / "messages" / "cloud-relay-hairpin.eml"), "--trusted", "198.51.100.25"]
    out = run(app, [*args, "--observed", "not-fired"]).stdout
    assert "CONTRADICTION: IMSVA did not fire, but the model with the given trusted list fires." in out
    assert "203.0.113.45" in out.split("CONTRADICTION")[1]
    assert "CONTRADICTION" not in run(app, [*args, "--observed", "fired"]).stdout
    doc = json.loads(run(app, [*args, "--observed", "not-fired", "--format", "json"]).stdout)
    assert doc["observed_contradiction"].startswith("CONTRADICTION: IMSVA did not fire")


def test_polevt_notify_is_bit_10_in_correlate_rows(tmp_path) -> None:
    pe = _pe("09:00:05", "ID-1").replace("01000000000000000", "01000000001000000")
    c = _write_case(tmp_path, ["2024/03/12 09:00:05 GMT+01:00 [1:2] Info: Accept connection from client [127.0.0.1]"], [pe])
    (row,) = c.rows
    assert row.event.actions == ("quarantine", "notify")
