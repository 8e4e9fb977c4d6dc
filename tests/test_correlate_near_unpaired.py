"""fx5: correlate's words for a spoof policy event without trace when a scan without policy event is near it but
outside the time window. IMSVA logs no internal ID or Message-ID in such a scan, so whether it is the event's scan
is not known: correlate must not say "holds no scan of it at all" or "its scan is not in the log.imss files given";
it names the nearest trace without policy event (thread, lines, distance, earlier/later) and the --time-window that
would let time alone pair them, decided over all events and scans at once (as trace does, tests/test_trace_s18b.py)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.correlation import correlate
from imsvalog.sentence import row_sentence

from .test_correlate_table import run_in_pty

LOG = "log.imss.20240315.0001"
POLEVT = "polevt.imss.20240315.0001"
#: the unknowns correlate must not claim when a scan without policy event is near
FALSE_CLAIMS = ("holds no scan of it at all", "not in the log.imss files given")


def _iid(n: int) -> str:
    return f"11111111-0000-4000-8000-{n:012d}"


def _scan(hms: str, thread: str, ip: int, action: str = "QuarantineAction", finished: str | None = None) -> list[str]:
    """One scan as IMSVA logs it at debug level, with no Message-ID line and (unless ``finished``) no
    'Scan finished' line: nothing in it names the message."""
    p = f"2024/03/15 {hms} GMT-05:00 [{thread}]"
    lines = [
        f"{p} Running ruleId:12; version:2, numFilters:1, numActions:1",
        f"{p} [DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:from relay.example.net "
        f"(relay.example.net [203.0.113.{ip}]) by imsva.example.com (Postfix) with ESMTP id CCCC{ip:06d}; "
        "Fri, 15 Mar 2024 10:00:04 -0500",
        f"{p} [DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader:get matched string:203.0.113.{ip}",
        f"{p} [DEBUG]AntiSpoofFilter: Get 1 IP address from received header. 203.0.113.{ip},",
        f"{p} [DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered.",
        f"{p} Final action 0: {action}",
    ]
    if finished:
        lines.append(f"{p} Scan finished for {finished}, scanned 1 times")
    return lines


def _event(hms: str, n: int, action: str = "01000000000000000") -> str:
    """A spoof policy event (rule 'Spoofing message', "Others" condition); action bits: quarantine by default,
    '10000000000000000' is deliver."""
    return (f"2024/03/15 {hms} GMT-05:00\t{_iid(n)}\tsender{n}@example.com\trcpt{n}@example.com\thello\t1\t"
            f"Spoofing message\t0000010000000000\t\t1.5\t{action}\t0.000000\t0\t0\t\t\t\t\t1\t15\t0\t0\t<x{n}@laptop>\t0")


def _logs(folder: Path, scans: list[list[str]], events: list[str]) -> Path:
    # a scan an hour earlier, so that log.imss covers the events' time whatever the test puts near them
    first = _scan("09:00:00", "900:99", 199)
    (folder / LOG).write_text("\n".join(first + [x for s in scans for x in s]) + "\n")
    (folder / POLEVT).write_text("\n".join(events) + "\n")
    return folder


def _spanned(folder: Path, scans: list[list[str]], events: list[str]) -> Path:
    """:func:`_logs`, with the policy events read spanning every trace: an event at 09:00:00 (the first scan's, the
    same second) and a scan and its event at 11:00:00. A trace outside their span may have its policy event in a
    polevt.imss file not given, and is offered to no event (attack s23c)."""
    return _logs(folder, [*scans, _scan("11:00:00", "900:98", 198)], [_event("09:00:00", 99), *events,
                                                                      _event("11:00:00", 98)])


def _row(folder: Path, n: int, **kw):
    (row,) = [r for r in correlate(folder, **kw).rows if r.event is not None and r.event.internal_id == _iid(n)]
    return row


def _note(folder: Path, n: int, **kw) -> str:
    row = _row(folder, n, **kw)
    assert row.status == "event-without-trace", row.status
    (note,) = row.notes
    for claim in FALSE_CLAIMS:
        assert claim not in note
    return note


def _where(folder: Path, first: int, last: int) -> str:
    return f"({folder / LOG}:{first}-{last})"


HEAD = (f"log.imss covers its time but no line names its internal ID {_iid(3)} or its Message-ID <x3@laptop>; "
        "no AntiSpoofFilter trace is within correlate's time window (1 s) of it; ")


def test_a_scan_3_s_earlier_is_named_with_the_window_that_pairs_them(tmp_path: Path) -> None:
    _logs(tmp_path, [_scan("10:02:40", "900:1", 103)], [_event("10:02:43", 3)])
    assert _note(tmp_path, 3) == HEAD + (
        f"the nearest trace without a policy event: thread 900:1 at 2024-03-15 10:02:40-05:00 {_where(tmp_path, 7, 12)}, "
        "3 s earlier (outside the window: with --time-window 3 time alone may pair them, low confidence); "
        "the logs do not tell whether it is this event's trace")
    # the words are true: with that window, time alone pairs them
    row = _row(tmp_path, 3, time_window=3)
    assert row.status == "linked" and row.link.basis == ["time"] and row.session.thread == "900:1"


def test_a_scan_3_s_later(tmp_path: Path) -> None:
    _logs(tmp_path, [_scan("10:02:46", "900:1", 103)], [_event("10:02:43", 3)])
    note = _note(tmp_path, 3)
    assert "the nearest trace without a policy event: thread 900:1 at 2024-03-15 10:02:46-05:00" in note
    assert "3 s later (outside the window: with --time-window 3 time alone may pair them, low confidence)" in note


def test_two_scans_at_equal_distance_are_both_named_and_time_cannot_choose(tmp_path: Path) -> None:
    _logs(tmp_path, [_scan("10:02:40", "900:1", 103), _scan("10:02:46", "900:2", 104)], [_event("10:02:43", 3)])
    assert _note(tmp_path, 3) == HEAD + (
        "the 2 nearest traces without a policy event, equally near: "
        f"thread 900:1 at 2024-03-15 10:02:40-05:00 {_where(tmp_path, 7, 12)}, 3 s earlier; "
        f"thread 900:2 at 2024-03-15 10:02:46-05:00 {_where(tmp_path, 13, 18)}, 3 s later "
        "(outside the window: with --time-window 3 each fits it by time alone, equally near, so time cannot choose "
        "between them); the logs do not tell whether one of them is this event's trace")
    # true: with --time-window 3 both fit and none is chosen
    assert _row(tmp_path, 3, time_window=3).status == "ambiguous"


def test_only_the_nearest_is_named(tmp_path: Path) -> None:
    _logs(tmp_path, [_scan("10:02:38", "900:1", 103), _scan("10:02:47", "900:2", 104)], [_event("10:02:43", 3)])
    note = _note(tmp_path, 3)
    assert "the nearest trace without a policy event: thread 900:2 at 2024-03-15 10:02:47-05:00" in note
    assert "4 s later" in note and "--time-window 4 " in note and "900:1" not in note


def test_a_scan_with_another_messages_id_is_not_named(tmp_path: Path) -> None:
    """A scan whose 'Scan finished' line names another internal ID is that message's scan, not this event's (it has
    no policy event of its own here): the note must not offer it; with no other scan near, the old words stand."""
    _logs(tmp_path, [_scan("10:02:40", "900:1", 103, finished="22222222-0000-4000-8000-000000000009")],
          [_event("10:02:43", 3)])
    row = _row(tmp_path, 3)
    (note,) = row.notes
    assert "nearest trace" not in note and "900:1" not in note
    assert "holds no scan of it at all" in note and "logging at debug level then" in note


def test_no_scan_near_keeps_the_old_words(tmp_path: Path) -> None:
    _logs(tmp_path, [_scan("10:30:00", "900:1", 103)], [_event("10:02:43", 3)])
    row = _row(tmp_path, 3)
    (note,) = row.notes
    assert note == (f"log.imss covers its time but holds no scan of it (no line names its internal ID {_iid(3)} or its "
                    "Message-ID <x3@laptop>) and no AntiSpoofFilter line within 15 min of it: log.imss was probably "
                    "not at debug level then")


def test_a_scan_within_the_window_linked_to_another_event_by_its_id(tmp_path: Path) -> None:
    """900:2, in the event's second, is policy event 5's scan (its 'Scan finished' line names it): another message's
    scan, so time does not offer it to event 3 (stop 21: the note said it 'fits it by time, but is linked to policy
    event 5'); the note names 900:1, 3 s earlier, as the nearest trace without event."""
    _logs(tmp_path, [_scan("10:02:40", "900:1", 103), _scan("10:02:43", "900:2", 105, finished=_iid(5))],
          [_event("10:02:43", 3), _event("10:02:43", 5)])
    row = _row(tmp_path, 3)
    assert row.status == "event-without-trace" and row.linked_elsewhere == []
    (note,) = row.notes
    assert "900:2" not in note, note
    assert ("no AntiSpoofFilter trace without a policy event is within correlate's time window (1 s) of it; the nearest "
            "trace without a policy event: thread 900:1 at 2024-03-15 10:02:40-05:00") in note, note
    assert not any(c in note for c in FALSE_CLAIMS)


def test_a_scan_within_the_window_linked_to_another_event_and_not_fitting_this_one(tmp_path: Path) -> None:
    """900:2, in the event's second, is policy event 5's scan and ended in DeliverAction (event 3 quarantined): it
    gives event 3 no evidence. 900:1, 3 s earlier, has no policy event: "no trace is within the window" would be
    false, "its scan is not in log.imss" unknown."""
    _logs(tmp_path, [_scan("10:02:40", "900:1", 103),
                     _scan("10:02:43", "900:2", 105, action="DeliverAction", finished=_iid(5))],
          [_event("10:02:43", 3), _event("10:02:43", 5, action="10000000000000000")])
    assert _row(tmp_path, 5).status == "linked"
    note = _note(tmp_path, 3)
    assert ("no AntiSpoofFilter trace without a policy event is within correlate's time window (1 s) of it; the "
            "nearest trace without a policy event: thread 900:1 at 2024-03-15 10:02:40-05:00") in note
    assert "no AntiSpoofFilter trace is within" not in note
    assert "3 s earlier (outside the window: with --time-window 3 time alone may pair them, low confidence)" in note


def test_an_unpaired_scan_within_the_window_with_another_final_action(tmp_path: Path) -> None:
    _logs(tmp_path, [_scan("10:02:43", "900:1", 103, action="DeliverAction")], [_event("10:02:43", 3)])
    note = _note(tmp_path, 3)
    assert note == (
        f"log.imss covers its time but no line names its internal ID {_iid(3)} or its Message-ID <x3@laptop>; the "
        f"nearest trace without a policy event: thread 900:1 at 2024-03-15 10:02:43-05:00 {_where(tmp_path, 7, 12)}, "
        "the same second (within correlate's time window (1 s), but that trace's scan ended in DeliverAction, not the policy event's "
        "action (quarantine), so time alone does not pair them); the logs do not tell whether it is this event's trace")


def test_outside_the_window_with_another_final_action_no_window_is_offered(tmp_path: Path) -> None:
    _logs(tmp_path, [_scan("10:02:40", "900:1", 103, action="DeliverAction")], [_event("10:02:43", 3)])
    note = _note(tmp_path, 3)
    assert "--time-window" not in note
    assert ("3 s earlier (outside the window; that trace's scan ended in DeliverAction, not the policy event's action (quarantine), "
            "so time alone does not pair them)") in note
    assert _row(tmp_path, 3, time_window=3).status == "event-without-trace"


def test_several_events_near_one_scan_do_not_each_claim_it(tmp_path: Path) -> None:
    """Events 3 (3 s after the scan) and 4 (5 s after) have the same nearest scan: one decision over both. Only
    the nearer is offered a --time-window; each sentence names the other event."""
    _logs(tmp_path, [_scan("10:02:40", "900:1", 103)], [_event("10:02:43", 3), _event("10:02:45", 4)])
    three, four = _note(tmp_path, 3), _note(tmp_path, 4)
    assert ("3 s earlier (outside the window: with --time-window 3 time alone may pair them, low confidence); it is "
            f"also policy event {_iid(4)}'s nearest trace without a policy event (5 s from it, farther than this one), "
            "and that event has no trace either; the logs do not tell whether it is this event's trace") in three
    assert "--time-window" not in four
    assert (f"5 s earlier (outside the window; it is also policy event {_iid(3)}'s nearest trace without a policy "
            "event (3 s from it, nearer than this one), and that event has no trace either: time alone may pair it "
            "with that one first)") in four
    # true at every window: time alone pairs the scan with event 3, never event 4
    for window in (3, 5):
        rows = correlate(tmp_path, time_window=window).rows
        (linked,) = [r for r in rows if r.status == "linked"]
        assert linked.event.internal_id == _iid(3)


def test_two_events_equally_near_one_scan(tmp_path: Path) -> None:
    _logs(tmp_path, [_scan("10:02:40", "900:1", 103)], [_event("10:02:37", 3), _event("10:02:43", 4)])
    for n, other in ((3, 4), (4, 3)):
        note = _note(tmp_path, n)
        assert "--time-window" not in note
        assert (f"3 s {'later' if n == 3 else 'earlier'} (outside the window; it is also policy event {_iid(other)}'s "
                "nearest trace without a policy event (3 s from it, as near as this one), and that event has no trace "
                "either: time alone cannot choose between the two)") in note
    assert [r.status for r in correlate(tmp_path, time_window=3).rows if r.event is not None] == ["ambiguous"] * 2


def test_the_time_window_changes_the_sentence(tmp_path: Path) -> None:
    _logs(tmp_path, [_scan("10:02:40", "900:1", 103)], [_event("10:02:43", 3)])
    note = _note(tmp_path, 3, time_window=2)
    assert "no AntiSpoofFilter trace is within correlate's time window (2 s) of it" in note and "--time-window 3 " in note
    note = _note(tmp_path, 3, time_window=0.5)
    assert "no AntiSpoofFilter trace is within correlate's time window (0.5 s) of it" in note and "--time-window 3 " in note
    assert _row(tmp_path, 3, time_window=3).status == "linked"
    # further than trace and correlate look for a scan without policy event (15 min): the old words
    _logs(tmp_path, [_scan("10:18:00", "900:1", 103)], [_event("10:02:43", 3)])
    assert "nearest trace" not in _row(tmp_path, 3).notes[0]


def test_every_format_carries_the_same_sentence(tmp_path: Path) -> None:
    _logs(tmp_path, [_scan("10:02:40", "900:1", 103)], [_event("10:02:43", 3)])
    (note,) = _row(tmp_path, 3).notes

    def run(*args: str) -> str:
        res = CliRunner().invoke(app, ["correlate", str(tmp_path), *args])
        assert res.exit_code == 0, res.output
        return res.stdout

    (doc,) = [r for r in json.loads(run("-f", "json"))["rows"] if r["internal_id"] == _iid(3)]
    (line,) = [r for r in map(json.loads, run("-f", "jsonl").splitlines()) if r["internal_id"] == _iid(3)]
    (rec,) = [r for r in csv.DictReader(io.StringIO(run("-f", "csv"))) if r["internal_id"] == _iid(3)]
    for d in (doc, line):
        assert d["notes"] == [note] and note in d["explanation"]
        assert d["summary"] == row_sentence(d) and f"; {note};" in d["summary"]
    assert note in rec["explanation"] and f"; {note};" in rec["summary"]
    # --explain, unwrapped when piped
    assert f"Note: {note}" in run("--explain")


def test_the_table_and_explain_fit_80_columns(tmp_path: Path) -> None:
    _logs(tmp_path, [_scan("10:02:40", "900:1", 103)], [_event("10:02:43", 3), _event("10:02:45", 4)])
    for args in ([], ["--explain"]):
        out = run_in_pty(["correlate", str(tmp_path), *args], 80)
        lines = out.splitlines()
        assert max(len(x) for x in lines) <= 80, "\n".join(x for x in lines if len(x) > 80)
    folded = " ".join(x.strip() for x in out.splitlines())
    assert "with --time-window 3 time alone may pair them, low confidence" in folded
    assert "time alone may pair it with that one first" in folded


def test_trace_says_correlates_words_for_each_event(tmp_path: Path) -> None:
    """trace, for an event no ID leads to a scan of, says correlate's note for it: the same decision over all events
    (trace's own per-event look offered the one scan to both events, each with its --time-window)."""
    from imsvalog.timeline import trace

    _logs(tmp_path, [_scan("10:02:40", "900:1", 103)], [_event("10:02:43", 3), _event("10:02:45", 4)])
    for n in (3, 4):
        (note,) = [x for x in trace(_iid(n), [tmp_path]).notes if "correlate" in x]
        assert note.endswith(f"pairs no scan with policy event {_iid(n)}: {_note(tmp_path, n)}")
        assert ("--time-window" in note) == (n == 3)


def _trace_note(folder: Path, thread: str) -> str:
    (row,) = [r for r in correlate(folder).rows if r.status == "trace-without-event" and r.session.thread == thread]
    (note,) = row.notes
    return note


def test_the_trace_row_names_the_events_it_is_nearest_to(tmp_path: Path) -> None:
    """The other side of the same decision: the trace without event says which events without trace have it as
    their nearest, instead of only 'holds no matching spoof event'."""
    _logs(tmp_path, [_scan("10:02:40", "900:1", 103)], [_event("10:02:43", 3)])
    assert _trace_note(tmp_path, "900:1") == (
        "the policy events read span its time, but no spoof event among them fits it; it is the nearest AntiSpoofFilter trace "
        f"without a policy event of policy event {_iid(3)} (3 s later), which has no trace (see its row): the logs do "
        "not tell whether it is that event's trace")
    _logs(tmp_path, [_scan("10:02:40", "900:1", 103)], [_event("10:02:43", 3), _event("10:02:37", 4)])
    assert _trace_note(tmp_path, "900:1").endswith(
        f"of policy events {_iid(3)} (3 s later), {_iid(4)} (3 s earlier), which have no trace (see their rows): the "
        "logs do not tell whether it is the trace of one of them")


def test_a_trace_no_event_is_near_keeps_its_words(tmp_path: Path) -> None:
    _logs(tmp_path, [_scan("10:02:40", "900:1", 103), _scan("10:30:00", "900:2", 104)],
          [_event("10:02:43", 3), _event("10:50:00", 6)])
    # 900:2 is the nearest trace of no event (27 min from event 3, 20 min from event 6): its words stay as they were
    assert _trace_note(tmp_path, "900:2") == "the policy events read span its time, but no spoof event among them fits it"
    assert "(3 s later)" in _trace_note(tmp_path, "900:1")


def test_nearest_unpaired_is_every_fitting_scan_at_the_least_distance() -> None:
    """The outward search agrees with looking at every scan: the fitting scans (filter not cleared, no other
    message's ID) within reach at the least distance, ties both sides."""
    from datetime import datetime, timedelta, timezone
    from types import SimpleNamespace as NS

    from hypothesis import given
    from hypothesis import strategies as st

    from imsvalog.correlation.unpaired import nearest_unpaired

    t0 = datetime(2024, 3, 15, 10, tzinfo=timezone(timedelta(hours=-5)))
    scan = st.tuples(st.integers(0, 2400), st.sampled_from([True, None, False]),
                     st.sampled_from([None, "E1", "E9"]), st.sampled_from([None, "<x1@a>", "<y@b>"]))
    event = st.tuples(st.integers(0, 2400), st.sampled_from(["E1", "E2"]), st.sampled_from([None, "<x1@a>"]))

    @given(st.lists(scan, max_size=12), st.lists(event, max_size=5))
    def check(scans, events) -> None:
        ss = [(NS(internal_id=i, message_id=m), NS(time=t0 + timedelta(seconds=s), triggered=tr))
              for s, tr, i, m in scans]
        es = [NS(time=t0 + timedelta(seconds=s), internal_id=i, message_id=m) for s, i, m in events]
        got = nearest_unpaired(es, ss, timedelta(seconds=900))  # type: ignore[arg-type]
        for ei, (at, iid, mid) in enumerate(events):
            fit = [(s - at, si) for si, (s, tr, i, m) in enumerate(scans)
                   if tr is not False and abs(s - at) <= 900 and i in (None, iid) and (m is None or mid is None or m == mid)]
            if not fit:
                assert ei not in got.nearest
                continue
            least = min(abs(d) for d, _ in fit)
            want = sorted((d, si) for d, si in fit if abs(d) == least)
            near = got.nearest[ei]
            assert sorted(zip(near.seconds, near.scans)) == [(float(d), si) for d, si in want]
            assert all(ei in got.claims[si] for _, si in want)

    check()


# --- fx6: the offered --time-window is correlate's own decision at that window; true words for what is in it ---

def test_a_window_is_not_offered_when_correlate_would_link_the_trace_to_another_event_at_it(tmp_path: Path) -> None:
    """Attack s20 F2: event 1 at 10:02:43, scan 900:1 100 s later, event 2 90 s after that scan (its own nearest
    scan ended in DeliverAction). At --time-window 100 the scan fits both events by time; event 2 is nearer."""
    _spanned(tmp_path, [_scan("10:04:23", "900:1", 101), _scan("10:06:43", "900:2", 102, action="DeliverAction")],
             [_event("10:02:43", 1), _event("10:05:53", 2)])
    note = _note(tmp_path, 1)
    assert "--time-window 100 time alone may pair them" not in note
    assert (f"100 s later (outside the window; with --time-window 100 correlate would link that trace to policy "
            f"event {_iid(2)} instead (90 s from it))") in note
    rows = correlate(tmp_path, time_window=100).rows
    (linked,) = [r for r in rows if r.status == "linked" and r.session.thread.startswith("900:") and
                 r.session.thread not in ("900:98", "900:99")]
    assert linked.event.internal_id == _iid(2) and linked.session.thread == "900:1"
    # the other event's nearest trace: "that trace's scan", not the event's own (unknown) scan
    assert ("50 s later (outside the window; that trace's scan ended in DeliverAction, not the policy event's action "
            "(quarantine), so time alone does not pair them)") in _note(tmp_path, 2)


OFFER = re.compile(r"the nearest trace without a policy event: thread (\S+) at [^;]*?"
                   r"\(outside the window: with --time-window (\d+) time alone may pair them")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scans=st.lists(st.tuples(st.integers(0, 100), st.booleans()), min_size=1, max_size=4),
       events=st.lists(st.integers(0, 100), min_size=1, max_size=4))
def test_every_offered_time_window_links_that_pair_when_tried(tmp_path: Path, scans, events) -> None:
    """Small random layouts of scans (some ending in DeliverAction) and events: every --time-window a note offers,
    when tried, links that event to that trace."""
    def hms(s: int) -> str:
        return f"10:{2 + s // 60:02d}:{s % 60:02d}"
    for f in tmp_path.iterdir():
        f.unlink()
    _logs(tmp_path, [_scan(hms(s), f"900:{i + 1}", 101 + i, action="DeliverAction" if d else "QuarantineAction")
                     for i, (s, d) in enumerate(scans)], [_event(hms(s), n + 1) for n, s in enumerate(events)])
    for r in correlate(tmp_path).rows:
        if r.status != "event-without-trace" or not r.notes or not (m := OFFER.search(r.notes[0])):
            continue
        thread, n = m.group(1), int(m.group(2))
        (row,) = [x for x in correlate(tmp_path, time_window=n).rows
                  if x.event is not None and x.event.internal_id == r.event.internal_id]
        assert row.status == "linked" and row.session.thread == thread, (r.notes[0], row.status)


def test_a_trace_in_the_window_that_did_not_fire_is_named_with_why_it_does_not_count(tmp_path: Path) -> None:
    """Attack s20 F3: a scan in the same second as the event whose filter did not fire (no policy event): the note
    must not say that no trace without a policy event is within the window; it names it and why."""
    quiet = _scan("10:02:43", "900:5", 105, action="DeliverAction")
    quiet[4] = quiet[4].replace("Not all sender IP in Trusted Internal IP List. Triggered.",
                                "All sender IP in Trusted Internal IP List. Not triggered.")
    _logs(tmp_path, [quiet, _scan("10:04:23", "900:1", 101)], [_event("10:02:43", 1)])
    note = _note(tmp_path, 1)
    assert "no AntiSpoofFilter trace without a policy event is within" not in note
    assert (f"no AntiSpoofFilter trace within correlate's time window (1 s) of it fits it by time: thread 900:5 at "
            f"2024-03-15 10:02:43-05:00 {_where(tmp_path, 7, 12)}, the same second: its filter did not fire "
            "('Not triggered'); the nearest trace without a policy event: thread 900:1") in note
    (quiet_row,) = [r for r in correlate(tmp_path).rows if r.session is not None and r.session.thread == "900:5"]
    assert quiet_row.status == "trace-without-event"


def test_a_trace_outside_polevts_span_still_names_the_events_it_is_nearest_to(tmp_path: Path) -> None:
    """Attack s20 F4: event 2's nearest trace 900:2 is 50 s after the last policy event (outside polevt.imss's
    span): its row says that, and also names event 2 (as its row names the trace). Attack s23c: its own policy
    event may be in a polevt.imss file of its time not given, so no wider window is offered to event 2 (following
    such an offer linked another message's trace)."""
    _logs(tmp_path, [_scan("10:04:23", "900:1", 101), _scan("10:06:43", "900:2", 102)],
          [_event("10:02:43", 1), _event("10:05:53", 2)])
    note = _note(tmp_path, 2)
    assert "--time-window 50" not in note
    assert ("thread 900:2 at 2024-03-15 10:06:43-05:00" in note and "50 s later (outside the window; no wider "
            "--time-window is offered: that trace is outside the span of the policy events read (2024-03-15 "
            "10:02:43-05:00 to 2024-03-15 10:05:53-05:00): its own policy event may be in a polevt.imss file of its "
            "time not given)") in note
    assert _trace_note(tmp_path, "900:2") == (
        "the policy events read span 2024-03-15 10:02:43-05:00 to 2024-03-15 10:05:53-05:00; this trace is "
        "outside that span: add the polevt.imss file of that time if there is one; it is the nearest AntiSpoofFilter trace without a "
        f"policy event of policy event {_iid(2)} (50 s earlier), which has no trace (see its row): the logs do not "
        "tell whether it is that event's trace")
    row = _row(tmp_path, 2, time_window=50)
    assert row.status == "linked" and row.session.thread == "900:2"


def test_a_busy_log_of_scans_in_another_action_keeps_the_offer(tmp_path: Path, monkeypatch) -> None:
    """Attack s20b F1: scans near the event that ended in another action (most mail: delivered) cannot be linked
    to it by time; they are no part of the decision at a wider window and must not push it past the limit (the
    offer was withheld as 'too many', though correlate at that window links the pair)."""
    from imsvalog.correlation import link

    monkeypatch.setattr(link, "AT_WINDOW_LIMIT", 10)
    busy = [_scan(f"10:02:{s:02d}", f"800:{s}", 10 + s, action="DeliverAction") for s in range(30, 59)]
    for scan in busy:  # their filter did not fire (most mail)
        scan[4] = scan[4].replace("Not all sender IP in Trusted Internal IP List. Triggered.",
                                  "All sender IP in Trusted Internal IP List. Not triggered.")
    _spanned(tmp_path, [*busy, _scan("10:03:43", "900:1", 103)], [_event("10:02:43", 3)])
    note = _note(tmp_path, 3)
    assert "60 s later (outside the window: with --time-window 60 time alone may pair them" in note
    assert "too many" not in note
    row = _row(tmp_path, 3, time_window=60)
    assert row.status == "linked" and row.trace is not None


def test_the_limit_is_said_as_what_it_is(tmp_path: Path, monkeypatch) -> None:
    """Past the limit no window is offered, and the words say why without claiming other events are near."""
    from imsvalog.correlation import link

    monkeypatch.setattr(link, "AT_WINDOW_LIMIT", 3)
    busy = [_scan(f"10:02:{s:02d}", f"800:{s}", 10 + s) for s in range(50, 55)]
    events = [_event(f"10:02:{s:02d}", 100 + s) for s in range(50, 55)]
    _spanned(tmp_path, [*busy, _scan("10:03:43", "900:1", 103)], [_event("10:02:43", 3), *events])
    note = _note(tmp_path, 3)
    assert "more than 3 traces and policy events would be weighed together at that window" in note
    assert "other traces and policy events are near" not in note


def test_a_trace_that_did_not_fire_is_not_paired_by_time(tmp_path: Path) -> None:
    """Attack s20b F3: a scan whose filter did not fire ('Not triggered': it makes no spoof policy event) ended in
    quarantine (another filter's action) in the same second as a spoof event; the scan that fired is 60 s away.
    Time alone must not pair the quiet trace with the event (it was linked, low confidence, while the fired trace
    stayed unpaired); the event's note names the fired trace and the window that pairs them, and that window
    does."""
    quiet = _scan("10:02:43", "900:5", 105)
    quiet[4] = quiet[4].replace("Not all sender IP in Trusted Internal IP List. Triggered.",
                                "All sender IP in Trusted Internal IP List. Not triggered.")
    _spanned(tmp_path, [quiet, _scan("10:03:43", "900:1", 101)], [_event("10:02:43", 1)])
    rows = correlate(tmp_path).rows
    (quiet_row,) = [r for r in rows if r.session is not None and r.session.thread == "900:5"]
    assert quiet_row.status == "trace-without-event" and quiet_row.event is None
    note = _note(tmp_path, 1)
    assert "thread 900:5" in note and "its filter did not fire ('Not triggered')" in note
    assert "nearest trace without a policy event: thread 900:1" in note
    assert "with --time-window 60 time alone may pair them" in note
    row = _row(tmp_path, 1, time_window=60)
    assert row.status == "linked" and row.session.thread == "900:1"


def test_a_trace_that_did_not_fire_still_links_by_internal_id(tmp_path: Path) -> None:
    """Only time is withheld from a 'Not triggered' trace: its internal ID still ties it to the event (IMSVA's own
    lines say so; the row then shows the contradiction rather than hiding the pair)."""
    quiet = _scan("10:02:43", "900:5", 105, finished=_iid(1))
    quiet[4] = quiet[4].replace("Not all sender IP in Trusted Internal IP List. Triggered.",
                                "All sender IP in Trusted Internal IP List. Not triggered.")
    _logs(tmp_path, [quiet], [_event("10:02:43", 1)])
    row = _row(tmp_path, 1)
    assert row.status == "linked" and row.session.thread == "900:5" and row.link.basis == ["internal_id"]


def _summary(folder: Path, thread: str) -> str:
    (row,) = [r for r in correlate(folder).rows if r.status == "trace-without-event" and r.session.thread == thread]
    return row_sentence(row.to_dict())


def test_the_one_line_summary_of_a_trace_without_event_says_whether_polevt_covers_it(tmp_path: Path) -> None:
    """Stop 20: the summary asked '(is polevt.imss of that time among the files?)' although the note knew the
    answer. 900:2 is inside polevt.imss's span and near event 2 (outside the window); 900:3 is after the span."""
    _logs(tmp_path, [_scan("10:02:43", "900:1", 101), _scan("10:04:00", "900:2", 102), _scan("10:30:00", "900:3", 103)],
          [_event("10:02:43", 1), _event("10:03:30", 2), _event("10:05:00", 3, action="10000000000000000")])
    inside, after = _summary(tmp_path, "900:2"), _summary(tmp_path, "900:3")
    assert inside.endswith("IMSVA fired, but no policy event was found for this scan (the policy events read span "
                           "its time, but no spoof event among them fits it). Policy events without a trace are near "
                           "it: see the notes."), inside
    assert after.endswith("IMSVA fired, but no policy event was found for this scan (it is outside the span of the "
                          "policy events read: add the polevt.imss file of that time if there is one)."), after
    assert "among the files?" not in inside + after


def test_equally_near_scans_that_other_events_share_are_said_once_per_event(tmp_path: Path) -> None:
    """Three scans in one second, 20 s after three events without trace: each event's note names the other two
    events once each with all three threads (it said each thread and event pair: 2 KB of repeats in a busy log)."""
    _logs(tmp_path, [_scan("10:03:03", f"900:{k}", 100 + k) for k in (1, 2, 3)],
          [_event("10:02:43", n) for n in (1, 2, 3)])
    note = _note(tmp_path, 1)
    for other in (2, 3):
        said = (f"threads 900:1, 900:2 and 900:3 are also policy event {_iid(other)}'s nearest traces without a "
                "policy event (20 s from it, as near as this one), and that event has no trace either: time alone "
                "cannot choose between the two")
        assert note.count(said) == 1, note
    assert "thread 900:1 is also" not in note and "it is also" not in note


def _quiet(hms: str, thread: str, ip: int) -> list[str]:
    scan = _scan(hms, thread, ip)
    scan[4] = scan[4].replace("Not all sender IP in Trusted Internal IP List. Triggered.",
                              "All sender IP in Trusted Internal IP List. Not triggered.")
    return scan


def test_a_lone_scan_that_did_not_fire_is_never_called_no_scan_of_it(tmp_path: Path) -> None:
    """Attack s21a F1: a 'Not triggered' scan in the event's second and no scan that fired near: the note said
    'holds no scan of it at all ... its scan is not in the log.imss files given' (line 8 is that scan's own line)."""
    _logs(tmp_path, [_quiet("10:02:43", "900:5", 105)], [_event("10:02:43", 1)])
    note = _note(tmp_path, 1)
    assert note.endswith(
        "no AntiSpoofFilter trace within correlate's time window (1 s) of it fits it by time: thread 900:5 at "
        f"2024-03-15 10:02:43-05:00 {_where(tmp_path, 7, 12)}, the same second: its filter did not fire ('Not "
        "triggered'); the logs do not tell whether it is this message's scan"), note


def test_a_lone_scan_of_another_message_leaves_the_debug_level_words(tmp_path: Path) -> None:
    """A quiet scan that names another message's internal ID is not this message's: the note keeps saying that
    no scan of it is in the files (the scanner was at debug level)."""
    _logs(tmp_path, [_quiet("10:02:43", "900:5", 105) + [_scan("10:02:43", "900:5", 105, finished=_iid(9))[-1]]],
          [_event("10:02:43", 1)])
    (row,) = [r for r in correlate(tmp_path).rows if r.event is not None and r.event.internal_id == _iid(1)]
    assert "holds no scan of it at all" in row.notes[0] and "the logs do not tell" not in row.notes[0], row.notes


def test_a_trace_without_verdict_linked_by_time_alone_does_not_make_imsva_fire(tmp_path: Path) -> None:
    """Attack s21a F2: without a verdict line, a policy event linked by time alone does not tell what IMSVA did:
    the model's words must not say 'IMSVA fired' as a fact."""
    scan = _scan("10:02:43", "900:5", 105)
    del scan[4]
    _logs(tmp_path, [scan], [_event("10:02:43", 1)])
    row = _row(tmp_path, 1)
    assert row.status == "linked" and row.link.basis == ["time"]
    last = row.explanation.splitlines()[-1]
    assert "IMSVA fired" not in last and last.endswith(
        "It fires if any of 203.0.113.105 is missing from the list (and the domains match)."), last


def test_the_summary_names_near_events_when_the_trace_is_outside_their_span(tmp_path: Path) -> None:
    """Attack s21a F4: a fired scan 13 s before the only event (outside the events' span) is that event's nearest
    trace: the summary says so in both branches, and says the span as the events' (a file may begin before its first
    event)."""
    _logs(tmp_path, [_scan("10:02:30", "900:1", 101), _scan("10:30:00", "900:2", 102, action="DeliverAction")],
          [_event("10:02:43", 1)])
    s = _summary(tmp_path, "900:1")
    assert s.endswith("(it is outside the span of the policy events read: add the polevt.imss file of that time if "
                      "there is one). Policy events without a trace are near it: see the notes."), s


def test_the_summary_with_an_empty_polevt_says_none_were_read(tmp_path: Path) -> None:
    """Attack s21a F6: an empty polevt.imss: the note knows no event was read; the summary does not ask."""
    _logs(tmp_path, [_scan("10:02:30", "900:1", 101)], [])
    (tmp_path / POLEVT).write_text("")
    s = _summary(tmp_path, "900:1")
    assert s.endswith("(no polevt.imss policy events were read at all: add the polevt.imss files)."), s


def test_a_reused_thread_is_told_apart_by_its_time(tmp_path: Path) -> None:
    """Attack s21a F7: two scans on thread 900:1 (IMSVA reuses threads), 20 s either side of two events without
    trace: the note said 'threads 900:1 and 900:1'."""
    _logs(tmp_path, [_scan("10:02:23", "900:1", 101), _scan("10:03:03", "900:1", 102)],
          [_event("10:02:43", 1), _event("10:02:43", 2)])
    note = _note(tmp_path, 1)
    assert "900:1 and 900:1" not in note
    assert (f"the traces of thread 900:1 at 10:02:23 and thread 900:1 at 10:03:03 are also policy event {_iid(2)}'s "
            "nearest traces without a policy event") in note, note


def test_a_trace_that_did_not_fire_linked_by_id_says_imsvas_lines_disagree(tmp_path: Path) -> None:
    """Attack s21a gap: a 'Not triggered' trace tied by internal ID to a spoof quarantine event: the summary said only
    'the filter did not fire' beside the event; it now says the two disagree, and the row's note why it may be."""
    _logs(tmp_path, [_quiet("10:02:43", "900:5", 105) + [_scan("10:02:43", "900:5", 105, finished=_iid(1))[-1]]],
          [_event("10:02:43", 1)])
    row = _row(tmp_path, 1)
    assert row.status == "linked" and row.link.basis == ["internal_id"]
    s = row_sentence(row.to_dict())
    assert s.endswith("IMSVA's verdict line says every counted address is in the Trusted Internal IP List and the "
                      "filter did not fire, yet the spoof policy event linked to it says IMSVA quarantined the mail as "
                      "spoofed: that verdict is in doubt, and another evaluation of the message may have fired (see the "
                      "findings)."), s
    assert "(IMSVA's own verdict)" not in s  # attack s23g: a verdict in doubt is not stated as fact
    # a disagreement (within IMSVA's own lines): never 'agrees yes', and --only disagreements shows it (stop 21)
    assert [f.kind for f in row.findings] == ["trace-vs-event"] and row.agrees is False
    assert row.findings[0].text.startswith(
        "IMSVA's own lines disagree: this trace says its filter did not fire ('Not triggered'), "
        f"yet spoof policy event {_iid(1)} (linked by internal ID)"), row.findings
    assert "DISAGREEMENT: IMSVA's own lines disagree: this trace says" in row.explanation
    assert "DISAGREEMENT with the model" not in row.explanation


def test_time_never_pairs_a_scan_that_names_another_message(tmp_path: Path) -> None:
    """Stop 21 (busy-day at --time-window 60): a scan whose 'Scan finished' names another internal ID fit event 1 by
    time; the event's summary said its scan 'was linked to another policy event'. Such a scan is another message's:
    time offers it to no event."""
    _logs(tmp_path, [_scan("10:02:43", "900:1", 101, finished=_iid(7))], [_event("10:02:43", 1)])
    rows = correlate(tmp_path).rows
    assert not [r for r in rows if r.status == "linked"], [(r.status, r.link) for r in rows]
    row = _row(tmp_path, 1)
    assert row.status == "event-without-trace" and row.linked_elsewhere == []
    s = row_sentence(row.to_dict())
    assert "linked to another" not in s and "fits it by time" not in s, s
    # the only scan near it is another message's: log.imss holds no scan that may be this one's
    assert "holds no scan of it at all" in s, s
    # the same scan naming the event's own ID links by it
    _logs(tmp_path, [_scan("10:02:43", "900:1", 101, finished=_iid(1))], [_event("10:02:43", 1)])
    assert _row(tmp_path, 1).link.basis[0] == "internal_id"


def test_an_internal_id_in_another_case_is_the_same_id(tmp_path: Path) -> None:
    """Attack s22a F1: 'Scan finished for' the event's internal ID in small letters: time no longer paired them
    (39c36a2), the ID did not (compared exactly), and the notes said 'no line names its internal ID' although
    `trace` finds that line. IDs are compared as `trace` compares them, in any case."""
    iid = "AAAAAAAA-0000-4000-8000-00000000000B"
    event = _event("10:02:43", 1).replace(_iid(1), iid)
    _logs(tmp_path, [_scan("10:02:43", "900:1", 101, finished=iid.lower())], [event])
    (row,) = [r for r in correlate(tmp_path).rows if r.event is not None]
    assert row.status == "linked" and row.link.basis == ["internal_id", "time"], (row.status, row.notes)
    # the byte-level search for the IDs of events without trace finds it too: a scan without AntiSpoofFilter lines
    p = "2024/03/15 10:02:43 GMT-05:00 [900:1]"
    _logs(tmp_path, [[f"{p} Running ruleId:12; version:2, numFilters:1, numActions:1",
                      f"{p} Scan finished for {iid.lower()}, scanned 1 times"]], [event])
    (row,) = [r for r in correlate(tmp_path).rows if r.event is not None]
    assert row.status == "event-without-trace"
    (note,) = row.notes
    assert "no line names its internal ID" not in note and "900:1" in note, note


def test_findings_within_imsvas_own_lines_are_not_filed_under_the_model(tmp_path: Path) -> None:
    """Attack s22a F5: a 'Get 2 IP address' line listing one address was 'DISAGREEMENT with the model: IMSVA's own
    line is inconsistent' and '1 disagreement with the model'; it is IMSVA's line that disagrees with itself."""
    from imsvalog.render import summary_text

    scan = [ln.replace("Get 1 IP address", "Get 2 IP address") for ln in _scan("10:02:43", "900:1", 101, finished=_iid(1))]
    _logs(tmp_path, [scan], [_event("10:02:43", 1)])
    c = correlate(tmp_path)
    (row,) = [r for r in c.rows if r.event is not None]
    assert "inconsistent-log" in [f.kind for f in row.findings] and row.agrees is False
    assert "DISAGREEMENT: IMSVA's own line is inconsistent: it says 2 but lists 1 address." in row.explanation
    assert "DISAGREEMENT with the model: IMSVA's own" not in row.explanation
    assert "1 disagreement with the model or within IMSVA's own lines (findings by kind: inconsistent-log 1" in \
        summary_text(c.summary)
