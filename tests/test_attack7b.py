"""Regressions from the hostile tester's report on the issue-7 leftovers (findings 3 to 10; 1 and 2 are in
tests/test_linking.py)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from imsvalog.cli import app

from .test_correlate import _pe, _write_case
from .test_linking import _trace


def test_finding5_imsvas_logged_address_is_never_called_not_checked(tmp_path) -> None:
    """IMSVA logged 100.64.0.1 (Shared Address Space), checked it and fired on it; --profile strict skips it.

    False output before: "100.64.0.1 is special-purpose and not checked; it quarantined the mail because
    100.64.0.1 is not in the Trusted Internal IP List", contradicting IMSVA's own line.
    """
    _write_case(tmp_path, _trace("09:00:05", "1", "100.64.0.1", finished="ID-E"), [_pe("09:00:05", "ID-E")])
    run = CliRunner().invoke
    (row,) = json.loads(run(app, ["correlate", str(tmp_path), "--profile", "strict", "-f", "json"]).output)["rows"]
    assert "not checked" not in row["summary"]
    assert "100.64.0.1 is special-purpose: the strict profile skips it, but IMSVA counted it" in row["summary"]
    assert row["recomputed"]["profile"] == "strict"
    out = run(app, ["correlate", str(tmp_path), "--profile", "strict", "--explain"]).output
    assert "not checked" not in out and "the strict profile skips it, but IMSVA counted it" in out
    # a skip IMSVA did not contradict is still said as before
    (row,) = json.loads(run(app, ["correlate", str(tmp_path), "-f", "json"]).output)["rows"]
    assert row["summary"].startswith("IMSVA counted the only address in the Received headers (100.64.0.1)")


def _with_message_id(lines: list[str], mid: str) -> list[str]:
    return [lines[0], lines[0].split("] ", 1)[0] + f"] >>> Message-ID : {mid}", *lines[1:]]


def test_finding3_internal_id_before_message_id_is_not_called_stronger(tmp_path) -> None:
    """Scan 1:1 names ID-E by internal ID, scan 1:2 carries its Message-ID (both the high tier).

    False output before: "by stronger evidence: internal ID (high) outranks Message-ID (high)".
    """
    c = _write_case(
        tmp_path,
        _trace("09:00:05", "1", "203.0.113.7", finished="ID-E")
        + _with_message_id(_trace("09:00:20", "2", "203.0.113.8"), "<x1@example.com>"),
        [_pe("09:00:05", "ID-E", "<x1@example.com>")],
    )
    (lost,) = [r for r in c.rows if r.session is not None and r.session.thread == "1:2"]
    assert "stronger" not in lost.explanation and "outranks" not in lost.explanation
    assert ("policy event ID-E fits it by Message-ID, but is linked to thread 1:1 at 2024-03-12 09:00:05+01:00 by "
            "internal ID, which is settled before Message-ID within the high tier") in lost.explanation


def test_finding4_two_traces_of_one_thread_in_one_second_are_told_apart(tmp_path) -> None:
    """Two scans on thread 1:1 in the same second; only the second names ID-E.

    False output before: the losing row's note said ID-E "is linked to thread 1:1 at 2024-03-12 09:00:05+01:00",
    which is also how that row names itself.
    """
    c = _write_case(
        tmp_path,
        _trace("09:00:05", "1", "203.0.113.7") + _trace("09:00:05", "1", "203.0.113.8", finished="ID-E"),
        [_pe("09:00:05", "ID-E")],
    )
    (lost,) = [r for r in c.rows if r.status == "trace-without-event"]
    assert (f"is linked to thread 1:1 at 2024-03-12 09:00:05+01:00 ({tmp_path}/log.imss.20240312.0001:10) by stronger "
            "evidence") in lost.explanation
    assert lost.linked_elsewhere == ["ID-E"]
