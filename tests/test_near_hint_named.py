"""Attack s23c: the wider --time-window offered to a policy event without trace (pairing it with the nearest trace
without policy event) must not lead to a wrong link. It was offered, and at that window correlate linked the two,
when maillog's ``Q: message-id=<...>`` line (the line correlate links by) gave the trace's Received queue ID another
message's Message-ID; when the trace's own row said its policy event may be in a polevt.imss file not given (before
the first given, or after the last: 'add the polevt.imss file of that time'); and its words contradicted themselves
about the files left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from imsvalog.correlation import correlate

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
