"""Attack s18b on trace: a queue ID's scan whose policy event correlate links to another scan by internal ID
(s18b-1: trace must say what correlate decides over all scans and events at once), and a policy event with a
scan without event 3 s away, outside correlate's 1 s window (s18b-4: no "holds no scan of it at all")."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.correlation import correlate
from imsvalog.timeline import trace

from .conftest import FIXTURES

KB = FIXTURES / "kb000239719"
TIME_ONLY = FIXTURES / "time-only"
IID = "87BDADC9-87B8-3D05-A958-0267A8088406"
QID = "DDDFC11FB0C"
EVENT3 = "11111111-0000-4000-8000-000000000003"
LOG = "log.imss.20190430.0001"


def _qsub(folder: Path) -> Path:
    """The KB scan (its Received header names queue ID DDDFC11FB0C, no Message-ID or Scan finished line), and a
    second scan on another thread whose Scan finished names the policy event's internal ID (and whose Message-ID
    is the event's): correlate links the event to the second scan by internal ID."""
    p2 = "2019/04/30 13:57:43 GMT+09:00 [28639:1111]"
    extra = [
        f"{p2} Info: Accept connection from client [127.0.0.1]",
        f"{p2} >>> Message-ID : <20190430045742.DDDFC11FB0C@ie-test057.test.test>",
        f"{p2} Running ruleId:12; version:2, numFilters:1, numActions:1",
        f"{p2} [DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:from a.example "
        "(a [198.51.100.7]) by b (Postfix) with ESMTP id 1234ABCDEF; Tue, 30 Apr 2019 13:57:42 +0900",
        f"{p2} [DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader:get matched string:198.51.100.7",
        f"{p2} [DEBUG]AntiSpoofFilter: Get 1 IP address from received header. 198.51.100.7,",
        f"{p2} [DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered.",
        f"{p2} Final action 0: QuarantineAction",
        f"{p2} Scan finished for {IID}, scanned 1 times",
    ]
    log = (KB / LOG).read_text()
    assert log.endswith("\n") and len(log.splitlines()) == 10
    (folder / LOG).write_text(log + "\n".join(extra) + "\n")
    (folder / "polevt.imss.20190430.0001").write_bytes((KB / "polevt.imss.20190430.0001").read_bytes())
    return folder


def _near(folder: Path) -> Path:
    """fixtures/time-only with policy event 3 at 10:02:43: its only scan candidate (10:02:40) is 3 s away."""
    (folder / "log.imss.20240315.0001").write_bytes((TIME_ONLY / "log.imss.20240315.0001").read_bytes())
    ev = (TIME_ONLY / "polevt.imss.20240315.0001").read_text().splitlines(keepends=True)
    assert ev[2].startswith("2024/03/15 10:02:40 ")
    ev[2] = ev[2].replace("10:02:40", "10:02:43", 1)
    (folder / "polevt.imss.20240315.0001").write_text("".join(ev))
    return folder


def _scan_lines(t) -> list[int]:
    return [ln.line for ln in t.lines if ln.stage == "scan"]


def _policy_lines(t) -> list[int]:
    return [ln.line for ln in t.lines if ln.stage == "policy"]


# --- s18b-1 -----------------------------------------------------------------------------------------------------


def test_correlate_links_the_event_to_the_scan_naming_its_internal_id(tmp_path: Path) -> None:
    rows = correlate(_qsub(tmp_path)).rows
    (linked,) = [r for r in rows if r.status == "linked"]
    assert linked.event.internal_id == IID and linked.session.thread == "28639:1111"
    assert linked.link.basis[0] == "internal_id"
    (alone,) = [r for r in rows if r.status == "trace-without-event"]
    assert alone.session.thread == "28639:4098483968"


def test_trace_by_queue_id_shows_what_correlate_decides(tmp_path: Path) -> None:
    t = trace(QID, [_qsub(tmp_path)])
    # the scan holding the queue ID, without the policy event correlate links elsewhere
    assert _scan_lines(t) == list(range(1, 11))
    assert _policy_lines(t) == []
    assert t.internal_ids == [] and t.queue_ids == [QID]
    (note,) = [n for n in t.notes if n.startswith(f"policy event {IID}")]
    assert f"holds queue ID {QID} in its Message-ID" in note
    assert "correlate links it to another scan by internal ID" in note
    assert "the scan on thread 28639:1111 at 2019-04-30 13:57:43+09:00 (log.imss.20190430.0001:11-19)" in note
    assert f"not to the scan holding queue ID {QID} (thread 28639:4098483968, log.imss.20190430.0001:1-10)" in note
    assert f"trace {IID} shows it" in note


def test_trace_by_internal_id_agrees_with_trace_by_queue_id(tmp_path: Path) -> None:
    _qsub(tmp_path)
    t = trace(IID, [tmp_path])
    assert _scan_lines(t) == list(range(11, 20)) and _policy_lines(t) == [1]
    by_queue = trace(QID, [tmp_path])
    # the policy event is shown with one scan only, the one correlate links it to
    assert not set(_scan_lines(t)) & set(_scan_lines(by_queue))


def test_the_cli_says_it_in_every_format_and_at_80_columns(tmp_path: Path) -> None:
    _qsub(tmp_path)
    run = lambda *a: CliRunner().invoke(app, ["trace", QID, str(tmp_path), *a], env={"COLUMNS": "80"})  # noqa: E731
    table = run()
    assert table.exit_code == 0, table.output
    assert "-- policy event" not in table.stdout
    assert "correlate links it to another scan by internal ID" in table.stderr
    doc = json.loads(run("-f", "json").stdout)
    assert doc["stages"]["policy"] == 0 and doc["stages"]["scan"] == 10
    assert any("the scan on thread 28639:1111" in n for n in doc["notes"])
    jl = [json.loads(x) for x in run("-f", "jsonl").stdout.splitlines()]
    assert not any(x.get("stage") == "policy" for x in jl)


def test_kb_trace_still_links_by_the_queue_id_when_correlate_does(tmp_path: Path) -> None:
    """Without the second scan, correlate links the event to the KB scan by queue ID: trace shows both."""
    t = trace(QID, [KB])
    assert _scan_lines(t) == list(range(1, 11)) and _policy_lines(t) == [1]
    assert not any("another scan" in n for n in t.notes)


# --- s18b-4 -----------------------------------------------------------------------------------------------------


def test_an_event_with_a_scan_outside_the_window_names_it(tmp_path: Path) -> None:
    _near(tmp_path)
    t = trace(EVENT3, [tmp_path])
    assert _scan_lines(t) == [] and _policy_lines(t) == [3]
    (note,) = [n for n in t.notes if "correlate" in n]
    assert "holds no scan of it at all" not in note and "not in the log.imss files given" not in note
    # correlate's own words for it (fx5: the same sentence as correlate's row, decided over all events at once)
    assert "no AntiSpoofFilter trace is within correlate's time window (1 s) of it" in note
    assert ("the nearest trace without a policy event: thread 900:1 at 2024-03-15 10:02:40-05:00 "
            f"({tmp_path / 'log.imss.20240315.0001'}:13-18), 3 s earlier") in note
    assert "--time-window 3" in note
    (row,) = [r for r in correlate(tmp_path).rows if r.event is not None and r.event.internal_id == EVENT3]
    assert note.endswith(f"pairs no scan with policy event {EVENT3}: {row.notes[0]}")


def test_the_window_is_said_as_used_not_as_typed(tmp_path: Path) -> None:
    # attack s19 F5: --time-window 1e-320 was said as '9.99989e-321 s' (a float's repr) while 0 s was used
    _near(tmp_path)
    (note,) = [n for n in trace(EVENT3, [tmp_path], time_window=1e-320).notes if "time window" in n]
    assert "correlate's time window (0 s) of it" in note
    (note,) = [n for n in trace(EVENT3, [tmp_path], time_window=0.5).notes if "time window" in n]
    assert "correlate's time window (0.5 s) of it" in note


def test_time_window_on_trace_has_correlates_meaning(tmp_path: Path) -> None:
    _near(tmp_path)
    rows = correlate(tmp_path, time_window=3).rows
    (row,) = [r for r in rows if r.event is not None and r.event.internal_id == EVENT3]
    assert row.status == "linked" and row.link.basis == ["time"]
    t = trace(EVENT3, [tmp_path], time_window=3)
    assert _scan_lines(t) == list(range(13, 19))
    assert any("by time alone (low confidence): 3 s apart" in n for n in t.notes)
    res = CliRunner().invoke(app, ["trace", EVENT3, str(tmp_path), "--time-window", "3", "-f", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["stages"]["scan"] == 6


def test_a_bad_time_window_is_a_usage_error(tmp_path: Path) -> None:
    _near(tmp_path)
    for bad in ("-1", "inf", "nan", "86401", "abc"):
        res = CliRunner().invoke(app, ["trace", EVENT3, str(tmp_path), "--time-window", bad])
        assert res.exit_code == 2, (bad, res.output)
        assert re.search(r"--time-window must be a number from 0 to 86400", res.stderr), res.stderr


def test_a_far_scan_is_not_named_as_near(tmp_path: Path) -> None:
    """Without any scan without event near it, the note says what correlate's evidence says (no nearest scan)."""
    log = (TIME_ONLY / "log.imss.20240315.0001").read_text().splitlines(keepends=True)
    (tmp_path / "log.imss.20240315.0001").write_text("".join(log[:12]))
    (tmp_path / "polevt.imss.20240315.0001").write_bytes((TIME_ONLY / "polevt.imss.20240315.0001").read_bytes())
    t = trace(EVENT3, [tmp_path])
    (note,) = [n for n in t.notes if "correlate" in n]
    assert "nearest scan without a policy event" not in note


def test_a_scan_of_another_appliance_is_not_named(tmp_path: Path) -> None:
    """Appliance 1 logs event 3 and no scan near it; appliance 2 logs a scan without event 3 s before it: correlate
    keeps appliances apart, and so does the note."""
    one, two = (tmp_path / a / "IMSVA" / "LogFile" for a in ("imsva01", "imsva02"))
    one.mkdir(parents=True)
    two.mkdir(parents=True)
    _near(one)
    log = (one / "log.imss.20240315.0001").read_text().splitlines(keepends=True)
    (one / "log.imss.20240315.0001").write_text("".join(log[:12]))  # appliance 1: no 10:02:40 scan
    (two / "log.imss.20240315.0001").write_text("".join(log[12:]))  # appliance 2: only the 10:02:40 scan
    (two / "polevt.imss.20240315.0001").write_text("")
    rows = correlate(tmp_path).rows
    assert [r.appliance for r in rows if r.status == "trace-without-event"] == ["imsva02"]
    t = trace(EVENT3, [tmp_path])
    (note,) = [n for n in t.notes if "correlate" in n]
    assert "nearest scan without a policy event" not in note and "900:1" not in note


def test_the_library_refuses_a_bad_time_window_before_reading(tmp_path: Path) -> None:
    import pytest

    from imsvalog.errors import InputError

    for bad in (float("inf"), float("nan"), -1.0, 86401.0):
        with pytest.raises(InputError, match="--time-window"):
            trace(EVENT3, [tmp_path / "absent"], time_window=bad)


def test_when_correlate_cannot_run_the_decision_is_over_what_trace_found_and_said(tmp_path: Path, monkeypatch) -> None:
    import imsvalog.correlation as correlation
    from imsvalog.errors import InputError

    def refuse(*args, **kwargs):
        raise InputError("cannot read this today")

    monkeypatch.setattr(correlation, "correlate", refuse)
    t = trace(QID, [_qsub(tmp_path)])
    # over the scans holding the queue ID only, the KB scan is the event's (the old, partial decision), said so
    assert _scan_lines(t) == list(range(1, 11)) and _policy_lines(t) == [1]
    assert any(n.startswith("correlate could not run over the logs (cannot read this today)") for n in t.notes)


def test_a_scan_within_the_window_that_correlate_did_not_pair_is_not_called_outside_it(tmp_path: Path) -> None:
    """The 10:02:40 scan ended in another final action than the event's: correlate gives it no time evidence though
    it is within the window; the note must not say no scan is within the window."""
    log = (TIME_ONLY / "log.imss.20240315.0001").read_text()
    assert log.count("Final action 0: QuarantineAction") == 3
    head, _, tail = log.rpartition("Final action 0: QuarantineAction")
    (tmp_path / "log.imss.20240315.0001").write_text(head + "Final action 0: DeliverAction" + tail)
    (tmp_path / "polevt.imss.20240315.0001").write_bytes((TIME_ONLY / "polevt.imss.20240315.0001").read_bytes())
    rows = correlate(tmp_path).rows
    (row,) = [r for r in rows if r.event is not None and r.event.internal_id == EVENT3]
    assert row.status == "event-without-trace"
    assert [r.trace.time.second for r in rows if r.status == "trace-without-event"] == [40]
    t = trace(EVENT3, [tmp_path])
    (note,) = [n for n in t.notes if "correlate" in n]
    assert "no AntiSpoofFilter trace is within correlate's time window" not in note
    # correlate's evidence (fx5): that scan is named as within the window, with why time alone does not pair them
    assert ("the nearest trace without a policy event: thread 900:1 at 2024-03-15 10:02:40-05:00 "
            f"({tmp_path / 'log.imss.20240315.0001'}:13-18), the same second (within correlate's time window (1 s), "
            "but that trace's scan ended in DeliverAction, not the policy event's action (quarantine), so time alone does not "
            "pair them)") in note
    assert "holds no scan of it at all" not in note and "not in the log.imss files given" not in note
