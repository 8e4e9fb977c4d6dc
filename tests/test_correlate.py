"""The correlator: links with their basis, ambiguity, unlinked rows, re-run and disagreements."""

from __future__ import annotations

import pytest

import imsvalog
from imsvalog.correlation import correlate
from imsvalog.trusted import TrustedList

from .conftest import FIXTURES, KB, rows_both_ways


def rows_by_id(c):
    return {r.internal_id: r for r in c.rows if r.internal_id}


def test_kb_example_links_by_queue_id_and_time_and_counts_the_domain_finding() -> None:
    c = correlate(sorted(KB.iterdir()))
    (row,) = c.rows
    assert row.status == "linked"
    assert row.link.basis == ["queue_id", "time"] and row.link.confidence == "medium-high"
    assert "DDDFC11FB0C" in row.link.detail
    assert row.trace.logged_count == 1
    assert row.recomputed.counted == ["1111:2222:3333:444::5555"]
    assert [(s.header, s.reason) for s in row.recomputed.skipped] == [(1, "no-address")]
    # the model reproduces IMSVA's list, but IMSVA fired although the domains differ: one finding, counted
    assert [f.kind for f in row.findings] == ["domain"] and row.agrees is False
    assert c.summary.disagreements == 1 and c.summary.findings == {"domain": 1}
    text = row.explanation
    assert "The model reproduces IMSVA's list: 1111:2222:3333:444::5555." in text
    assert "test@test has domain test" in text and "test.test: different domain" in text
    assert "Yet IMSVA fired" in text


@pytest.fixture(scope="module")
def busy():
    return correlate(FIXTURES / "busy-day")


def test_links_by_internal_id_message_id_and_msgtra_queue_id(busy) -> None:
    by = rows_by_id(busy)
    m1 = by["5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C"]  # its polevt line ends before the Message-ID
    assert m1.link.basis[0] == "internal_id" and m1.link.confidence == "high"
    m2 = by["6F2D1E0B-4C3E-4D7F-8B9C-2E3F4A5B6C7D"]  # no Scan finished line in that session
    assert m2.link.basis == ["message_id", "time"]
    m4 = by["3D4E5F60-7182-4394-A5B6-C7D8E9F0A1B2"]  # only msgtra knows its queue ID
    assert m4.link.basis == ["queue_id", "time"] and "msgtra" in m4.link.detail


def test_two_spoof_events_in_the_same_second_on_different_threads(busy) -> None:
    by = rows_by_id(busy)
    a = by["1B2C3D4E-5F60-4172-8394-A5B6C7D8E9F0"]
    b = by["2C3D4E5F-6071-4283-94A5-B6C7D8E9F0A1"]
    assert a.time == b.time
    assert (a.session.thread, b.session.thread) == ("4242:139872", "4242:139873")
    assert a.status == b.status == "linked" and a.link.basis == b.link.basis == ["internal_id", "time"]
    assert a.recomputed.counted[1] == "203.0.113.61" and b.recomputed.counted[1] == "203.0.113.62"


def test_trace_without_event_when_the_filter_did_not_fire(busy) -> None:
    row = rows_by_id(busy)["9D8C7B6A-5F4E-4D3C-8B2A-1F0E9D8C7B6A"]
    assert row.status == "trace-without-event" and row.event is None
    assert row.trace.triggered is False
    assert "the filter did not fire, so none is expected" in row.explanation


def test_policy_event_without_trace(busy) -> None:
    row = rows_by_id(busy)["8A8A8A8A-8B8B-48C8-88D8-E8F8A8B8C8D8"]
    assert row.status == "event-without-trace" and row.trace is None and row.agrees is None
    # debug level was on (AntiSpoofFilter lines 31 s earlier): the scan itself is missing, no log-level guess
    assert "holds no scan of it at all" in row.explanation and "logging at debug level then" in row.explanation
    assert "probably not at debug level" not in row.explanation


def test_deliberate_disagreement_is_shown_with_its_reason(busy) -> None:
    row = rows_by_id(busy)["9E9E9E9E-9F9F-49A9-89B9-C9D9E9F9A9B9"]
    assert row.agrees is False and row.disagreement
    assert row.trace.logged_ips == ["198.51.100.25", "192.0.2.44"] and row.recomputed.counted == ["198.51.100.25"]
    assert [f.kind for f in row.findings] == ["count", "logged-not-counted"]
    assert "IMSVA counted 192.0.2.44" in row.findings[1].text and "without brackets" in row.findings[1].text
    assert "DISAGREEMENT" in row.explanation
    assert busy.summary.disagreements == 1


def test_summary_counts(busy) -> None:
    s = busy.summary
    assert (s.scans, s.spoof_traces, s.policy_events, s.spoof_events) == (10, 8, 10, 8)
    assert (s.linked, s.ambiguous, s.traces_without_event, s.events_without_trace) == (7, 0, 1, 1)
    assert s.lines == 132 and s.files == {"imss": 2, "polevt": 1, "msgtra": 1, "maillog": 1}
    assert s.rejects == 1 and busy.rejects[0].source.line == 12  # maillog's "-- MARK --" line


def test_ambiguous_time_only_case_is_reported_never_chosen() -> None:
    c = correlate(FIXTURES / "time-only")
    amb = [r for r in c.rows if r.status == "ambiguous" and r.trace is not None]
    assert len(amb) == 2
    for r in amb:
        assert r.event is None and r.link.confidence == "ambiguous"
        assert r.link.candidates == ["11111111-0000-4000-8000-000000000001", "11111111-0000-4000-8000-000000000002"]
        assert "none is chosen" in r.explanation
    lone = [r for r in c.rows if r.status == "linked"]
    assert len(lone) == 1 and lone[0].link.basis == ["time"] and lone[0].link.confidence == "low"
    assert c.summary.ambiguous == 2 and c.summary.events_without_trace == 0


def test_time_window_zero_still_links_the_same_second() -> None:
    c = correlate(FIXTURES / "time-only", time_window=0)
    assert sum(r.status == "linked" for r in c.rows) == 1


def test_trusted_list_makes_verdicts_recomputable(busy) -> None:
    t = TrustedList.parse(["198.51.100.25", "198.51.100.26"])
    c = correlate(FIXTURES / "busy-day", trusted=t)
    by = rows_by_id(c)
    assert by["5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C"].recomputed.verdict == "fires"
    m2 = by["6F2D1E0B-4C3E-4D7F-8B9C-2E3F4A5B6C7D"]
    # IMSVA fired on it, but with 198.51.100.26 trusted the model would not: a verdict disagreement
    assert m2.recomputed.verdict == "does-not-fire" and m2.agrees is False
    assert [f.kind for f in m2.findings] == ["verdict", "trusted-list"] and "verdict differs" in m2.findings[0].text


def test_frame_for_notebooks(busy) -> None:
    df = busy.frame
    assert len(df) == len(busy.rows)
    assert {"time", "internal_id", "link_basis", "logged_ips", "recomputed_ips", "agrees", "explanation", "result"} <= set(df.columns)
    row = df[df["internal_id"] == "9E9E9E9E-9F9F-49A9-89B9-C9D9E9F9A9B9"].iloc[0]
    assert row["agrees"] is False or row["agrees"] == False  # noqa: E712 - pandas may box the bool
    assert row["logged_ips"] == ["198.51.100.25", "192.0.2.44"]


def test_public_api() -> None:
    for name in ("correlate", "evaluate", "read_log_imss", "read_polevt", "read_msgtra", "TrustedList", "sessions"):
        assert name in imsvalog.__all__
        assert hasattr(imsvalog, name)


def test_no_public_function_shadows_a_module() -> None:
    """Issue 7, item 8: `import imsvalog.<module>` always gives a module (was a function for sessions/correlate)."""
    import importlib
    import pkgutil
    import types

    for info in pkgutil.walk_packages(imsvalog.__path__, "imsvalog."):
        module = importlib.import_module(info.name)
        parent, _, leaf = info.name.rpartition(".")
        assert isinstance(getattr(importlib.import_module(parent), leaf), types.ModuleType), info.name
        assert isinstance(module, types.ModuleType)
    # the public functions keep their names
    assert callable(imsvalog.correlate) and callable(imsvalog.sessions)
    assert imsvalog.sessions(FIXTURES / "busy-day")


def test_correlate_without_logs_is_an_input_error() -> None:
    with pytest.raises(imsvalog.InputError, match="needs log.imss or polevt.imss"):
        correlate(FIXTURES / "messages")


def _write_case(tmp_path, log_lines: list[str], polevt_lines: list[str]):
    (tmp_path / "log.imss.20240312.0001").write_text("".join(x + "\n" for x in log_lines))
    (tmp_path / "polevt.imss.20240312.0001").write_text("".join(x + "\n" for x in polevt_lines))
    return correlate(tmp_path)


def _pe(t: str, iid: str, mid: str = "<m@example.com>") -> str:
    return "\t".join([f"2024/03/12 {t} GMT+01:00", iid, "a@example.com", "b@example.com", "s", "1", "Spoofing message",
                      "0000010000000000", "", "1.0", "01000000000000000", "0", "0", "0", "", "", "", "", "1", "15", "0",
                      "0", mid])


def test_event_whose_scan_has_no_trace_says_log_level(tmp_path) -> None:
    """Regression: 'policy event without trace' must say why when the scan itself is in log.imss."""
    c = _write_case(
        tmp_path,
        ["2024/03/12 09:00:00 GMT+01:00 [1:2] Info: Accept connection from client [127.0.0.1]",
         "2024/03/12 09:00:00 GMT+01:00 [1:2] Final action 0: QuarantineAction",
         "2024/03/12 09:00:00 GMT+01:00 [1:2] Scan finished for ID-1, scanned 1 times"],
        [_pe("09:00:00", "ID-1")],
    )
    (row,) = c.rows
    assert row.status == "event-without-trace"
    assert f"its scan is in log.imss (thread 1:2, {tmp_path}/log.imss.20240312.0001:3 names it)" in row.explanation
    assert "not at debug level" in row.explanation


def test_event_outside_the_log_span_says_which_file_is_missing(tmp_path) -> None:
    c = _write_case(
        tmp_path,
        ["2024/03/12 09:00:00 GMT+01:00 [1:2] Info: Accept connection from client [127.0.0.1]",
         "2024/03/12 09:00:01 GMT+01:00 [1:2] Scan finished for ID-1, scanned 1 times"],
        [_pe("17:45:00", "ID-9")],
    )
    (row,) = c.rows
    assert "this event is outside that span: add the log.imss file of that time" in row.explanation


def test_fired_trace_without_polevt_says_polevt_is_missing(tmp_path) -> None:
    (tmp_path / "log.imss.20240312.0001").write_text((KB / "log.imss.20190430.0001").read_text())
    c = correlate(tmp_path)
    (row,) = c.rows
    assert row.status == "trace-without-event"
    assert "no polevt.imss policy events were read at all" in row.explanation


def test_library_what_if_and_missing_trusted() -> None:
    c = correlate(FIXTURES / "busy-day", trusted=TrustedList.parse(["198.51.100.25", "198.51.100.26"]))
    changes = c.what_if(TrustedList.parse(["198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24", "2001:db8::/32"]))
    assert {ch.name for ch in changes} == {
        "5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C", "3D4E5F60-7182-4394-A5B6-C7D8E9F0A1B2",
        "1B2C3D4E-5F60-4172-8394-A5B6C7D8E9F0", "2C3D4E5F-6071-4283-94A5-B6C7D8E9F0A1",
        "7F7F7F7F-7A7A-47B7-87C7-D7E7F7A7B7C7",
        # IMSVA fired on these (its logged lists): the what-if starts from that, not from the model's verdict
        "6F2D1E0B-4C3E-4D7F-8B9C-2E3F4A5B6C7D", "9E9E9E9E-9F9F-49A9-89B9-C9D9E9F9A9B9",
    }
    assert all((ch.before, ch.after) == ("fires", "does-not-fire") for ch in changes)
    assert {"203.0.113.45", "192.0.2.44"} <= {m.address for m in c.missing_trusted()}


def test_a_corrupt_rotation_does_not_stop_the_correlation(tmp_path) -> None:
    import gzip

    for f in KB.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    data = gzip.compress(b"2019/04/30 13:58:00 GMT+09:00 [1:2] Final action 0: DeliverAction\n" * 5000)
    (tmp_path / "log.imss.20190430.0002.gz").write_bytes(data[:200])
    c = correlate(tmp_path)
    assert c.summary.linked == 1
    assert c.summary.rejects == 1 and "cannot be read after line" in c.rejects[0].reason


def test_trusted_list_inferred_from_imsva_verdicts(busy) -> None:
    got = {i.address: i.status for i in busy.inferred_trusted()}
    assert got["198.51.100.25"] == "trusted"  # a scan that did not fire counted it
    assert got["203.0.113.45"] == "untrusted"  # the only address besides a trusted one in a scan that fired
    # fired on [198.51.100.26, 2001:db8:4:7::25] and neither is shown trusted: no inference for either alone
    assert "2001:db8:4:7::25" not in got


def test_inferred_conflict_when_the_list_changed(tmp_path) -> None:
    def trace(t: str, th: str, verdict: str) -> list[str]:
        p = f"2024/03/12 {t} GMT+01:00 [1:{th}] "
        return [
            p + "Info: Accept connection from client [127.0.0.1]",
            p + "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:"
                "from a (a [198.51.100.9]) by b with ESMTP id QQQQQQ" + th,
            p + "[DEBUG]AntiSpoofFilter: Get 1 IP address from received header. 198.51.100.9,",
            p + f"[DIAGNOSTIC]AntiSpoofFilter: {verdict}",
        ]
    c = _write_case(
        tmp_path,
        trace("09:00:00", "1", "All sender IP in Trusted Internal IP List. Not triggered.")
        + trace("10:00:00", "2", "Not all sender IP in Trusted Internal IP List. Triggered."),
        [],
    )
    (only,) = c.inferred_trusted()
    assert only.address == "198.51.100.9" and only.status == "conflict"
    assert "09:00:00" in only.trusted_evidence[0] and "10:00:00" in only.untrusted_evidence[0]


def test_link_by_queue_id_through_maillog(tmp_path) -> None:
    """The queue ID of Received header 1 is tied to the event's Message-ID only by maillog's message-id= line."""
    p = "2024/03/12 09:00:05 GMT+01:00 [1:2] "
    log = [
        p + "Running ruleId:12; version:2, numFilters:1, numActions:1",
        p + "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:"
            "from mx1.example.com (mx1.example.com [198.51.100.25]) by imsva.example.com (Postfix) with ESMTP id 5F5F5F5F5F",
        p + "[DEBUG]AntiSpoofFilter: Get 1 IP address from received header. 198.51.100.25,",
        p + "[DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered.",
        p + "Final action 0: QuarantineAction",
    ]
    (tmp_path / "maillog-20240313").write_text(
        "Mar 12 09:00:04 imsva postfix/cleanup[1]: 5F5F5F5F5F: message-id=<opaque-1@app.example.com>\n"
    )
    # the event is 30 s away: time alone could not link it
    c = _write_case(tmp_path, log, [_pe("09:00:35", "ID-7", "<opaque-1@app.example.com>")])
    (row,) = [r for r in c.rows if r.trace is not None]
    assert row.status == "linked" and row.link.basis == ["queue_id"]
    assert "maillog gives the policy event's Message-ID (" in row.link.detail and "maillog-20240313:1" in row.link.detail


@pytest.mark.parametrize("name", ["kb000239719", "busy-day", "time-only", "ugly", "hostile"])
def test_lazy_reader_gives_the_rows_of_the_full_reader(name: str) -> None:
    lazy_rows, full_rows, lazy, full_sessions = rows_both_ways(FIXTURES / name)
    assert lazy_rows == full_rows
    assert lazy.summary.scans == len(full_sessions)


def test_scans_are_counted_in_a_log_without_accept_lines(tmp_path) -> None:
    """Regression: scans that hold no evaluation were counted only from Accept lines (0 here).

    Thread 900:3 logs two scans without AntiSpoofFilter and without Accept connection lines.
    The count equals the full reader's.
    """
    from imsvalog.correlation.scan import read_sessions
    from imsvalog.sources import ScanStats, discover

    p = "2024/03/12 09:00:05 GMT+01:00 "
    log = [
        p + "[900:1] Running ruleId:12; version:2, numFilters:1, numActions:1",
        p + "[900:1] [DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:"
            "from mx1.example.com (mx1.example.com [198.51.100.25]) by imsva.example.com (Postfix) with ESMTP id 5F5F5F5F5F",
        p + "[900:1] [DEBUG]AntiSpoofFilter: Get 1 IP address from received header. 198.51.100.25,",
        p + "[900:1] [DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered.",
        p + "[900:1] Final action 0: QuarantineAction",
        p + "[900:1] Scan finished for 1A2B3C4D-0000-4000-8000-000000000001, scanned 1 times",
        p + "[900:3] Running ruleId:3; version:1, numFilters:1, numActions:1",
        p + "[900:3] Final action 0: DeliverAction",
        p + "[900:3] Scan finished for 1A2B3C4D-0000-4000-8000-000000000003, scanned 1 times",
        p + "[900:3] Running ruleId:3; version:1, numFilters:1, numActions:1",
        p + "[900:3] Final action 0: DeliverAction",
        p + "[900:3] Scan finished for 1A2B3C4D-0000-4000-8000-000000000004, scanned 1 times",
    ]
    c = _write_case(tmp_path, log, [_pe("09:00:05", "1A2B3C4D-0000-4000-8000-000000000001")])
    files = [f for f in discover([tmp_path]).files if f.kind == "imss"]
    assert c.summary.scans == len(read_sessions(files, [], ScanStats())) == 3
    assert c.summary.rejects == 0


def test_scan_finished_in_free_text_is_no_scan(tmp_path) -> None:
    """Regression: every line holding ``] Scan finished for `` counted one scan, also a Subject or header logged at
    debug level; only the lines the grammar reads as Scan finished count, as many as the full reader's sessions
    (a ``[LEVEL]`` tag or no blank before the shape is still one)."""
    from imsvalog.correlation.scan import read_sessions
    from imsvalog.sources import ScanStats, discover

    p = "2024/03/12 09:00:05 GMT+01:00 "
    log = [
        p + "[900:3] Running ruleId:3; version:1, numFilters:1, numActions:1",
        p + "[900:3] [DEBUG]TmIsScan::scanMessage: Subject=Re: [ops] Scan finished for all hosts, see log",
        p + "[900:3] Final action 0: DeliverAction",
        p + "[900:3] Scan finished for 1A2B3C4D-0000-4000-8000-000000000003, scanned 1 times",
        p + "[900:4] [DEBUG]TmIsScan::dumpHeader: X-Report: [q] Scan finished for 1A2B3C4D-0000-4000-8000-000000000009, "
            "scanned 1 times",
        p + "[900:4] Running ruleId:3; version:1, numFilters:1, numActions:1",
        p + "[900:4] Final action 0: DeliverAction",
        p + "[900:4] [DEBUG] Scan finished for 1A2B3C4D-0000-4000-8000-000000000004, scanned 1 times",
        p + "[900:5] Running ruleId:3; version:1, numFilters:1, numActions:1",
        p + "[900:5] Final action 0: DeliverAction",
        p + "[900:5]Scan finished for 1A2B3C4D-0000-4000-8000-000000000005, scanned 1 times",
    ]
    c = _write_case(tmp_path, log, [_pe("09:00:05", "1A2B3C4D-0000-4000-8000-000000000003")])
    files = [f for f in discover([tmp_path]).files if f.kind == "imss"]
    full = read_sessions(files, [], ScanStats())
    assert sorted(s.internal_id for s in full) == [f"1A2B3C4D-0000-4000-8000-00000000000{i}" for i in (3, 4, 5)]
    assert c.summary.scans == len(full) == 3
    assert c.summary.rejects == 0


def test_link_through_the_first_postfix_pass(tmp_path) -> None:
    """msgtra names queue B (after the scanner); the Received header names A; maillog's 'queued as' joins them."""
    p = "2024/03/12 09:00:05 GMT+01:00 [1:2] "
    log = [
        p + "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:"
            "from mx1.example.com (mx1.example.com [198.51.100.25]) by imsva.example.com (Postfix) with ESMTP id 4A4A4A4A4A",
        p + "[DEBUG]AntiSpoofFilter: Get 1 IP address from received header. 198.51.100.25,",
        p + "[DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered.",
        p + "Final action 0: QuarantineAction",
    ]
    (tmp_path / "maillog-20240313").write_text(
        "Mar 12 09:00:06 imsva postfix/smtp[9]: 4A4A4A4A4A: to=<b@example.com>, relay=localhost[127.0.0.1]:10025, "
        "delay=1, delays=0.1/0/0.1/0.8, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4B4B4B4B4B)\n"
    )
    (tmp_path / "msgtra.imss.20240312.0001").write_text("\t".join([
        "QuarantineTransac", "2024 Mar 12 09:00:40 +01:00", "#null#", "#null#", "opaque-2@app.example.com", "ID-8",
        "4B4B4B4B4B", "2", "a@example.com", "b@example.com", "s", "#null#", "#null#", "#null#", "#null#",
        "01000000000000000"]) + "\n")
    c = _write_case(tmp_path, log, [_pe("09:00:40", "ID-8", "<opaque-2@app.example.com>")])
    (row,) = [r for r in c.rows if r.trace is not None]
    assert row.status == "linked" and row.link.basis == ["queue_id"]
    assert "first Postfix pass of msgtra's queue ID 4B4B4B4B4B" in row.link.detail
    assert "maillog: 4A4A4A4A4A ... queued as 4B4B4B4B4B" in row.link.detail
