"""Attack s23c: the wider --time-window offered to a policy event without trace (pairing it with the nearest trace
without policy event) must not lead to a wrong link. It was offered, and at that window correlate linked the two,
when maillog's ``Q: message-id=<...>`` line (the line correlate links by) gave the trace's Received queue ID another
message's Message-ID; when the trace's own row said its policy event may be in a polevt.imss file not given (before
the first given, or after the last: 'add the polevt.imss file of that time'); and its words contradicted themselves
about the files left out."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from imsvalog.correlation import correlate
from imsvalog.render import render_correlation

CEO = "<ceo@fraud.example>"


def _scan(t: str, th: int, q: str, ip: str, fin: str | None = None) -> list[str]:
    p = f"2024/03/12 {t} GMT+01:00 [1:{th}] "
    lines = [p + "Info: Accept connection from client [127.0.0.1]",
             p + "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:"
                 f"from mx1.example.com (mx1.example.com [{ip}]) by imsva.example.com (Postfix) with ESMTP id {q}",
             p + f"[DEBUG]AntiSpoofFilter: Get 1 IP address from received header. {ip},",
             p + "[DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered.",
             p + "Final action 0: QuarantineAction"]
    if fin:
        lines.append(p + f"Scan finished for {fin}, scanned 1 times")
    return lines


def _event(t: str, iid: str, mid: str) -> str:
    return "\t".join([f"2024/03/12 {t} GMT+01:00", iid, "c@example.com", "d@example.com", "s", "1",
                      "Spoofing message", "0000010000000000", "", "1.0", "01000000000000000", "0", "0", "0", "", "",
                      "", "", "1", "15", "0", "0", mid])


def _crm_and_ceo(d: Path) -> Path:
    """The CRM mail's trace at 09:00:05 (queue 4A4A4A4A4A, no ID logged), the CEO mail's spoof policy event ID-9 at
    09:04:00 (235 s later) without trace, and a later scan linked by its internal ID; an event at 08:40:00 (far from
    both) keeps the trace inside the policy events' span (its row: 'the policy events read span its time')."""
    log = _scan("09:00:05", 1, "4A4A4A4A4A", "198.51.100.25") + _scan("09:10:00", 2, "5B5B5B5B5B", "198.51.100.26",
                                                                      "ID-LATER")
    (d / "log.imss.20240312.0001").write_text("".join(x + "\n" for x in log))
    (d / "polevt.imss.20240312.0001").write_text(
        "".join(x + "\n" for x in [_event("08:40:00", "ID-6", "<early@x>"), _event("09:04:00", "ID-9", CEO),
                                    _event("09:10:00", "ID-LATER", "<later@x>")]))
    return d


def _id9(c):
    (row,) = [r for r in c.rows if r.event is not None and r.event.internal_id == "ID-9"]
    return row


@pytest.mark.parametrize("kind", ["maillog", "msgtra"])
def test_a_trace_whose_queue_id_another_logs_line_gives_another_message_id_is_never_offered_nor_linked(
        tmp_path, kind) -> None:
    """maillog's '4A4A4A4A4A: message-id=<crm-weekly@...>' (or msgtra's line for that queue) names the trace's
    message: it is not the CEO mail's. It was offered ('with --time-window 235 time alone may pair them') and at
    235 s correlate linked the CRM trace to the CEO event."""
    d = _crm_and_ceo(tmp_path)
    if kind == "maillog":
        (d / "maillog-20240313").write_text(
            "Mar 12 09:00:04 imsva postfix/cleanup[9]: 4A4A4A4A4A: message-id=<crm-weekly@saas.example.net>\n")
    else:
        (d / "msgtra.imss.20240312.0001").write_text("\t".join([
            "QuarantineTransac", "2024 Mar 12 09:00:05 +01:00", "#null#", "#null#", "crm-weekly@saas.example.net",
            "#null#", "4A4A4A4A4A", "2", "a@example.com", "b@example.com", "s", "#null#", "#null#", "#null#",
            "#null#", "01000000000000000"]) + "\n")
    (note,) = _id9(correlate(d)).notes
    assert "time-window 235" not in note and "thread 1:1" not in note
    for w in (235, 300):
        c = correlate(d, time_window=w)
        assert _id9(c).status == "event-without-trace", w
        (trace,) = [r for r in c.rows if r.trace is not None and r.session.thread == "1:1"]
        assert trace.status == "trace-without-event"


def test_without_maillog_the_same_trace_is_offered(tmp_path) -> None:
    """The control: nothing names the trace's message, so the wider window is offered, and links them."""
    d = _crm_and_ceo(tmp_path)
    (note,) = _id9(correlate(d)).notes
    assert "with --time-window 235 time alone may pair them, low confidence" in note
    assert _id9(correlate(d, time_window=235)).status == "linked"


def test_a_trace_before_the_policy_events_read_is_offered_to_no_event(tmp_path) -> None:
    """Attack s23c, 1 (pv): only polevt .0002 given (the trace's own event, ID-8, was in the .0001 left out before
    it). The trace's row said 'add the polevt.imss file of that time', yet ID-9's row offered 'with --time-window 235
    time alone may pair them', and at 235 correlate linked the CRM trace to the CEO event."""
    log = _scan("09:00:05", 1, "4A4A4A4A4A", "198.51.100.25") + _scan("09:10:00", 2, "5B5B5B5B5B", "198.51.100.26",
                                                                      "ID-LATER")
    (tmp_path / "log.imss.20240312.0001").write_text("".join(x + "\n" for x in log))
    (tmp_path / "polevt.imss.20240312.0002").write_text(
        _event("09:04:00", "ID-9", CEO) + "\n" + _event("09:10:00", "ID-LATER", "<later@x>") + "\n")
    c = correlate(tmp_path)
    (note,) = _id9(c).notes
    assert "--time-window 235" not in note
    assert ("235 s earlier (outside the window; no wider --time-window is offered: that trace is outside the span of "
            "the policy events read (2024-03-12 09:04:00+01:00 to 2024-03-12 09:10:00+01:00): its own policy event "
            "may be in a polevt.imss file of its time not given)") in note
    (trace,) = [r for r in c.rows if r.session is not None and r.session.thread == "1:1"]
    assert "add the polevt.imss file of that time if there is one" in trace.notes[0]
    for fmt in ("table", "json", "jsonl", "csv", "markdown"):
        out = io.StringIO()
        render_correlation(c, c.rows, fmt, out, explain=fmt in ("table", "markdown"))
        text = " ".join(out.getvalue().replace("\\", "").split())
        assert "--time-window 235" not in text, fmt
        assert "no wider --time-window is offered: that trace is outside the span" in text, fmt


def _edge_case(d: Path, later: bool) -> Path:
    """fz/c020: polevt ends at 09:05:40 (ID-0, 40 s after its own trace at 09:05:00); the trace at 09:05:35 is 5 s
    before that end, its own policy event logged later into a .0003 not given; with ``later``, IMSVA fired at
    09:06:05 with no policy event read (a later polevt.imss file was written)."""
    d.mkdir()
    log = (_scan("09:05:00", 100, "AB00000000", "198.51.100.1") + _scan("09:05:30", 101, "AB00000001", "198.51.100.2")
           + _scan("09:05:35", 102, "AB00000002", "198.51.100.3")
           + (_scan("09:06:05", 103, "AB00000003", "198.51.100.4") if later else []))
    (d / "log.imss.20240312.0001").write_text("".join(x + "\n" for x in log))
    (d / "polevt.imss.20240312.0001").write_text(
        _event("09:04:00", "ID-A", "<a@x>") + "\n" + _event("09:05:30", "ID-1", "<m1@x>") + "\n")
    (d / "polevt.imss.20240312.0002").write_text(_event("09:05:40", "ID-0", "<m0@x>") + "\n")
    return d


def test_a_trace_at_the_end_of_the_policy_events_read_is_not_offered_when_imsva_fired_after_it(tmp_path) -> None:
    """Attack s23c, 1 (fz/c020): ID-0's row offered the trace 5 s before it ('with --time-window 5'), whose own
    policy event was in a later file not given: a wrong link. Decided: a trace within 5 s of the last policy event
    read (the slack by which the events' span counts as the files') is offered to no event when IMSVA fired after
    that end with no policy event read; without such a trace the offer stands."""
    (note,) = next(r for r in correlate(_edge_case(tmp_path / "a", True)).rows
                   if r.event is not None and r.event.internal_id == "ID-0").notes
    assert "--time-window 5" not in note
    assert ("5 s earlier (outside the window; no wider --time-window is offered: that trace is 5 s before the last "
            "policy event read (2024-03-12 09:05:40+01:00), and IMSVA fired after that with no policy event read (the "
            "trace at 2024-03-12 09:06:05+01:00): its own policy event may have been logged after it, in a later "
            "polevt.imss file not given)") in note
    (note,) = next(r for r in correlate(_edge_case(tmp_path / "b", False)).rows
                   if r.event is not None and r.event.internal_id == "ID-0").notes
    assert "with --time-window 5 time alone may pair them, low confidence" in note


@pytest.mark.parametrize("case", ["empty", "two"])
def test_the_words_for_a_polevt_file_left_out_say_what_became_of_it(tmp_path, case) -> None:
    """Attack s23c, 3 (g2, g3): busy-day with the CRM mail's polevt.imss .0002 given empty, the words were '(given,
    but it is empty; between ...), which is not among the files given'; with .0002 and .0003 left out, '.0002 and
    .0003, which is not among'. The words now come from rotation.Gap (its state), not from a sentence cut apart."""
    import shutil

    from imsvalog.sentence import row_sentence

    from .test_near_hint_gaps import BUSY, CEO, CRM_AT, _split_polevt

    for f in BUSY.iterdir():
        if not f.name.startswith("polevt") and not f.name.startswith("msgtra"):  # msgtra names the CRM trace
            shutil.copy(f, tmp_path / f.name)
    _split_polevt(tmp_path)
    if case == "empty":
        (tmp_path / "polevt.imss.20240312.0002").write_bytes(b"")
        said = ("that trace's time falls in polevt.imss.20240312.0002, which was given but is empty: its own policy "
                "event may be in what that rotation held")
        row_said = ("its time falls in polevt.imss.20240312.0002, which was given but is empty: its policy event may "
                    "be in what that rotation held")
    else:
        (tmp_path / "polevt.imss.20240312.0003").rename(tmp_path / "polevt.imss.20240312.0004")
        said = ("that trace's time falls in polevt.imss.20240312.0002 and .0003, which are not among the files given: "
                "its own policy event may be there")
        row_said = ("its time falls in polevt.imss.20240312.0002 and .0003, which are not among the files given: its "
                    "policy event may be there")
    c = correlate(tmp_path)
    (note,) = next(r for r in c.rows if r.event is not None and r.event.internal_id == CEO).notes
    assert f"280 s earlier (outside the window; no wider --time-window is offered: {said})" in note
    assert "which is not among the files given" not in note
    crm = next(r for r in c.rows if r.trace is not None and r.trace.time.isoformat(sep=" ") == CRM_AT)
    assert row_said in row_sentence(crm.to_dict())


@pytest.mark.parametrize("case", ["near", "empty"])
def test_the_words_for_a_log_imss_file_left_out_say_where_the_time_is(tmp_path, case) -> None:
    """Attack s23c, 3 (edge, ei): an event 1 s before a missing log.imss file's time was said to 'fall in' it ('this
    event's own scan may be in the log.imss file left out, whose time it falls in'); one whose time falls in a file
    given empty was said to be 'in the log.imss file left out'."""
    from .test_correlate_near_unpaired import LOG, _event, _iid, _logs, _scan

    at = "10:00:09" if case == "near" else "10:05:00"
    _logs(tmp_path, [_scan("09:58:00", "900:1", 103), _scan("10:00:10", "900:5", 105, finished=_iid(5))],
          [_event("09:00:00", 99), _event(at, 3), _event("10:00:10", 5), _event("10:10:00", 4)])
    (tmp_path / LOG.replace("0001", "0003")).write_text(
        "\n".join(_scan("10:10:00", "900:2", 104, finished=_iid(4))) + "\n")
    if case == "empty":
        (tmp_path / LOG.replace("0001", "0002")).write_bytes(b"")
    (row,) = [r for r in correlate(tmp_path).rows if r.event is not None and r.event.internal_id == _iid(3)]
    (note,) = row.notes
    if case == "near":
        assert ("no wider --time-window is offered: this event's time is 1 s before that of log.imss.20240315.0002, "
                "which is not among the files given: its own scan may be there)") in note
        assert "falls in" not in note
    else:
        assert ("no wider --time-window is offered: this event's time falls in log.imss.20240315.0002, which was "
                "given but is empty: its own scan may be in what that rotation held)") in note
        assert "(given, but it is empty; between" in note and ": its scan may be in what that rotation held;" in note
        assert "left out" not in note


@pytest.mark.parametrize("earlier", [True, False])
def test_an_event_at_the_start_of_log_imss_is_not_offered_when_events_were_logged_before_it(tmp_path, earlier) -> None:
    """The log.imss side of the rule above: an event 3 s after the first log.imss line read, while a policy event
    was logged half an hour before that (log.imss of its time is not given): the event's own scan may be in the
    earlier log.imss file, so the trace 57 s after it is named but not offered. Without the earlier event the offer
    stands."""
    from .test_correlate_near_unpaired import LOG, POLEVT, _event, _iid, _scan

    (tmp_path / LOG).write_text("\n".join(_scan("10:00:00", "900:1", 101, finished=_iid(1))
                                          + _scan("10:01:00", "900:2", 102)) + "\n")
    events = [_event("10:00:00", 1), _event("10:00:03", 3), _event("10:30:00", 8)]  # 10:30: the trace in their span
    (tmp_path / POLEVT).write_text("\n".join(([_event("09:30:00", 9)] if earlier else []) + events) + "\n")
    (row,) = [r for r in correlate(tmp_path).rows if r.event is not None and r.event.internal_id == _iid(3)]
    (note,) = row.notes
    if earlier:
        assert "--time-window 57" not in note
        assert ("57 s later (outside the window; no wider --time-window is offered: this event is 3 s after the first "
                "log.imss line read (2024-03-15 10:00:00-05:00), and policy events were logged before that (policy "
                f"event {_iid(9)} at 2024-03-15 09:30:00-05:00): its own scan may be in an earlier log.imss file not "
                "given)") in note
    else:
        assert "with --time-window 57 time alone may pair them, low confidence" in note
