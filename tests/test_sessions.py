"""Scan sessions: threads interleave, threads are reused, scans cross rotations, markers go missing."""

from __future__ import annotations

from imsvalog.correlation import sessions, sessions_frame
from imsvalog.readers import iter_log_imss
from imsvalog.scan_sessions import build_sessions

from .conftest import FIXTURES, KB


def _by_id(sess):
    return {s.internal_id: s for s in sess if s.internal_id}


def test_interleaved_threads_give_one_session_per_message() -> None:
    sess = sessions(FIXTURES / "busy-day")
    assert len(sess) == 10
    first_three = sess[:3]
    assert sorted(s.thread for s in first_three) == ["4242:139871", "4242:139872", "4242:139873"]
    by = _by_id(sess)
    m1 = by["5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C"]
    assert m1.message_id == "<a1b2c3.1710231299@ws-alice.corp.example.com>"
    assert (m1.start, m1.end) == ("accept_connection", "scan_finished")
    assert m1.rules == [(12, 2)] and m1.final_actions == ["QuarantineAction"]
    t = m1.traces[0]
    assert len(t.headers) == 3 and [m.address for m in t.matched] == ["198.51.100.25", "203.0.113.45", "192.168.10.23"]
    assert t.logged_ips == ["198.51.100.25", "203.0.113.45"] and t.triggered is True
    # every line of the session belongs to its thread, none of the interleaved others
    assert {r.thread for r in m1.records} == {"4242:139871"}


def test_thread_reused_for_consecutive_messages() -> None:
    sess = [s for s in sessions(FIXTURES / "busy-day") if s.thread == "4242:139871"]
    assert len(sess) == 3
    assert sess[0].end == "scan_finished"
    # the second message on the thread has neither Message-ID nor Scan finished; the next Accept closes it
    assert sess[1].message_id is None and sess[1].internal_id is None
    assert sess[1].end == "next_scan"
    assert sess[1].final_actions == ["QuarantineAction", "NotifyAction"]


def test_session_crossing_a_rotation_is_one_session() -> None:
    by = _by_id(sessions(FIXTURES / "busy-day"))
    s = by["7F7F7F7F-7A7A-47B7-87C7-D7E7F7A7B7C7"]
    assert [f.rsplit("/", 1)[-1] for f in s.files] == ["log.imss.20240312.0001", "log.imss.20240312.0002.gz"]
    assert s.message_id == "<rot.1710231598@ws-judy.corp.example.com>"
    assert s.traces[0].logged_ips == ["198.51.100.26", "2001:db8:4:7::25"]


def test_sessions_form_without_start_markers() -> None:
    """Logs at a lower level: a run of rule lines ending in a final action is still a session."""
    sess = sessions(FIXTURES / "time-only")
    assert [(s.thread, s.start, s.end) for s in sess] == [
        ("900:1", "rule_run", "next_scan"), ("900:2", "rule_run", "end_of_input"), ("900:1", "rule_run", "end_of_input"),
    ]
    assert all(len(s.traces) == 1 and s.final_actions == ["QuarantineAction"] for s in sess)


def test_kb_session() -> None:
    (s,) = sessions(KB)
    assert (s.start, s.end) == ("rule_run", "end_of_input")
    assert s.executed == [(12, 2)] and len(s.records) == 9  # the generic convertUnicodeToString line is not kept
    assert s.traces[0].filter_result.result is True


def test_fast_path_and_full_reader_give_the_same_sessions() -> None:
    """correlate reads only marker lines; the sessions must equal those built from every record."""
    for d in ("busy-day", "kb000239719", "time-only", "ugly", "hostile"):
        full = sorted((s.to_row() for s in build_sessions(iter_log_imss(FIXTURES / d))), key=lambda r: r["first_line"])
        fast = sorted((s.to_row() for s in sessions(FIXTURES / d)), key=lambda r: r["first_line"])
        assert [{**r, "session": None} for r in full] == [{**r, "session": None} for r in fast], d


def test_sessions_frame() -> None:
    df = sessions_frame(FIXTURES / "busy-day")
    assert len(df) == 10
    assert set(df["end"]) == {"scan_finished", "next_scan"}
    assert df["start_time"].dt.tz is not None


def test_two_evaluations_in_one_scan_are_two_traces(tmp_path) -> None:
    """Two rules with the spoof filter: the second must not overwrite the first's result."""
    p = "2024/03/12 09:00:00 GMT+01:00 [1:2] "
    lines = [
        p + "Info: Accept connection from client [127.0.0.1]",
        p + "Running ruleId:12; version:2, numFilters:1, numActions:1",
        p + "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:from a (a [198.51.100.9]) by b",
        p + "[DEBUG]AntiSpoofFilter: Get 1 IP address from received header. 198.51.100.9,",
        p + "[DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered.",
        p + "filter AntiSpoofFilter isTriggered returned true",
        p + "Running ruleId:13; version:1, numFilters:1, numActions:1",
        p + "filter AntiSpoofFilter isTriggered returned false",
        p + "Final action 0: QuarantineAction",
    ]
    (tmp_path / "log.imss.20240312.0001").write_text("\n".join(lines) + "\n")
    (s,) = sessions(tmp_path)
    assert len(s.traces) == 2
    assert s.traces[0].triggered is True and s.traces[0].filter_result.result is True
    assert s.traces[1].filter_result.result is False and not s.traces[1].evaluated_addresses
    assert len(s.spoof_traces) == 1


def test_boundaries_read_as_words() -> None:
    by = _by_id(sessions(FIXTURES / "busy-day"))
    assert by["5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C"].boundaries == "from its Accept connection line to its Scan finished line"
    (kb,) = sessions(KB)
    assert kb.boundaries == (
        "from its first rule run (no Accept connection line before it) to the end of the log (no Scan finished line)"
    )
