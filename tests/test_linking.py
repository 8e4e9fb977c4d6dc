"""Linking is one decision over all traces and events, tier by tier (issue 7, items 1 and 2)."""

from __future__ import annotations

import json
import random

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.correlation.link import BASES, Evidence, decide_links

from .test_correlate import _pe, _write_case


def _trace(t: str, thread: str, ip: str, finished: str | None = None) -> list[str]:
    p = f"2024/03/12 {t} GMT+01:00 [1:{thread}] "
    lines = [
        p + "Info: Accept connection from client [127.0.0.1]",
        p + "Running ruleId:12; version:2, numFilters:1, numActions:1",
        p + "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:"
        f"from relay.example.net (relay.example.net [{ip}]) by imsva.example.com (Postfix) with ESMTP",
        p + f"[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader:get matched string:{ip}",
        p + f"[DEBUG]AntiSpoofFilter: Get 1 IP address from received header. {ip},",
        p + "[DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered.",
        p + "Final action 0: QuarantineAction",
    ]
    if finished:
        lines.append(p + f"Scan finished for {finished}, scanned 1 times")
    return lines


def _case_one_event_two_traces(tmp_path):
    """Item 1: thread 1 names E by Scan finished; thread 2, same second, no IDs."""
    return _write_case(
        tmp_path,
        _trace("09:00:05", "1", "203.0.113.7", finished="ID-E") + _trace("09:00:05", "2", "203.0.113.8"),
        [_pe("09:00:05", "ID-E")],
    )


def test_an_event_is_never_linked_to_two_traces(tmp_path) -> None:
    c = _case_one_event_two_traces(tmp_path)
    linked = [r for r in c.rows if r.status == "linked"]
    assert [(r.session.thread, r.event.internal_id, r.link.confidence) for r in linked] == [("1:1", "ID-E", "high")]
    (other,) = [r for r in c.rows if r.session is not None and r.session.thread == "1:2"]
    assert other.status == "trace-without-event" and other.event is None
    assert "policy event ID-E fits it by time, but is linked to thread 1:1 at" in other.explanation
    assert c.summary.linked == 1 and c.summary.traces_without_event == 1


def test_a_trace_settled_by_a_stronger_tier_is_no_rival(tmp_path) -> None:
    """Item 2: T1's only time candidate is E; T2 is 1 s from E but is linked to F by internal ID."""
    c = _write_case(
        tmp_path,
        _trace("09:00:05", "1", "203.0.113.7") + _trace("09:00:06", "2", "203.0.113.8", finished="ID-F"),
        [_pe("09:00:05", "ID-E"), _pe("09:00:07", "ID-F")],
    )
    by_thread = {r.session.thread: r for r in c.rows if r.session is not None}
    t1, t2 = by_thread["1:1"], by_thread["1:2"]
    assert (t2.status, t2.event.internal_id, t2.link.basis[0]) == ("linked", "ID-F", "internal_id")
    assert (t1.status, t1.event.internal_id, t1.link.basis, t1.link.confidence) == ("linked", "ID-E", ["time"], "low")
    assert "another trace" not in t1.explanation
    assert c.summary.ambiguous == 0


def test_ambiguity_names_its_candidates_in_every_format(tmp_path) -> None:
    _write_case(
        tmp_path,
        _trace("09:00:05", "1", "203.0.113.7") + _trace("09:00:05", "2", "203.0.113.8"),
        [_pe("09:00:05", "ID-A"), _pe("09:00:05", "ID-B")],
    )
    run = CliRunner().invoke
    table = run(app, ["correlate", str(tmp_path)]).output
    assert "ambiguous: ID-A, ID-B" in table
    assert "ambiguous: 1:1 09:00:05, 1:2 09:00:05" in table
    rows = [json.loads(x) for x in run(app, ["correlate", str(tmp_path), "--format", "jsonl"]).output.splitlines()]
    traces = [r for r in rows if r["thread"]]
    assert [r["link_problem"]["candidates"] for r in traces] == [["ID-A", "ID-B"], ["ID-A", "ID-B"]]
    assert "they also fit thread 1:2 at 2024-03-12 09:00:05+01:00" in traces[0]["explanation"]
    csv = run(app, ["correlate", str(tmp_path), "--format", "csv"]).output
    assert "link_candidates" in csv.splitlines()[0] and "ID-A" in csv.splitlines()[1]


def test_one_event_two_traces_rows_in_every_format(tmp_path) -> None:
    _case_one_event_two_traces(tmp_path)
    run = CliRunner().invoke
    rows = [json.loads(x) for x in run(app, ["correlate", str(tmp_path), "--format", "jsonl"]).output.splitlines()]
    assert sorted((r["thread"], r["status"], r["internal_id"]) for r in rows) == [
        ("1:1", "linked", "ID-E"),
        ("1:2", "trace-without-event", None),
    ]
    doc = json.loads(run(app, ["correlate", str(tmp_path), "--format", "json"]).output)
    assert [r["status"] for r in doc["rows"]] == ["linked", "trace-without-event"]
    assert run(app, ["correlate", str(tmp_path), "--format", "csv"]).output.count(",ID-E,") == 1


# ---------------------------------------------------------------------------
# decide_links, as a pure function (hypothesis)
# ---------------------------------------------------------------------------

N = 6
STRONG = ("internal_id", "message_id", "queue_id")


@st.composite
def cases(draw):
    """A ground truth (a partial matching of traces to events) and evidence for it.

    IDs and queue IDs are exact, so strong evidence only joins true pairs; time is noise.
    """
    n_t, n_e = draw(st.integers(0, N)), draw(st.integers(0, N))
    events = draw(st.permutations(range(n_e)))
    truth = {t: e for t, e in zip(range(n_t), events, strict=False) if draw(st.booleans())}
    ev = [Evidence(t, e, b) for t, e in truth.items() for b in draw(st.sets(st.sampled_from(BASES)))]
    if n_t and n_e:
        noise = draw(st.lists(st.tuples(st.integers(0, n_t - 1), st.integers(0, n_e - 1)), max_size=8))
        ev += [Evidence(t, e, "time") for t, e in noise]
    return truth, ev


@settings(max_examples=300, deadline=None)
@given(cases(), st.randoms())
def test_decide_links_properties(case, rnd: random.Random) -> None:
    truth, ev = case
    d = decide_links(ev)
    # an event is linked at most once, and never both linked and contested
    events = [e for e, _ in d.links.values()]
    assert len(events) == len(set(events))
    assert not set(events) & set(d.contested)
    assert not set(d.links) & set(d.ambiguous)
    # every link has evidence at its tier, and strong links are correct
    for t, (e, tier) in d.links.items():
        assert any(x.trace == t and x.event == e for x in ev)
        if tier != "low":
            assert truth.get(t) == e
    # the order of the evidence does not matter
    shuffled = list(ev)
    rnd.shuffle(shuffled)
    assert decide_links(shuffled) == d


@settings(max_examples=300, deadline=None)
@given(cases(), st.data())
def test_a_stronger_link_never_removes_a_correct_weaker_one_elsewhere(case, data) -> None:
    truth, ev = case
    if not truth:
        return
    t_new = data.draw(st.sampled_from(sorted(truth)))
    basis = data.draw(st.sampled_from(STRONG))
    before = decide_links(ev)
    after = decide_links([*ev, Evidence(t_new, truth[t_new], basis)])
    for t, (e, _) in before.links.items():
        if t != t_new and truth.get(t) == e:
            assert after.links.get(t, (None,))[0] == e
    assert after.links[t_new][0] == truth[t_new]


def test_decide_links_settles_tier_by_tier() -> None:
    d = decide_links(
        [
            Evidence("T1", "E", "time"),
            Evidence("T2", "E", "time"),
            Evidence("T2", "F", "internal_id"),
            Evidence("T3", "G", "time"),
            Evidence("T3", "H", "time"),
        ]
    )
    assert d.links == {"T2": ("F", "high"), "T1": ("E", "low")}
    assert d.ambiguous["T3"].events == ("G", "H") and d.contested == {"G": ("T3",), "H": ("T3",)}


def _with_message_id(lines: list[str], mid: str) -> list[str]:
    """Insert the scan's ``>>> Message-ID`` line after its Accept line."""
    return [lines[0], lines[0].split("] ", 1)[0] + f"] >>> Message-ID : {mid}", *lines[1:]]


def test_a_unique_internal_id_settles_before_a_shared_message_id(tmp_path) -> None:
    """Attack 7, item 1: two scans of one message split by recipient share a Message-ID.

    False output before: all 4 rows ambiguous, "0 linked", each trace read
    "2 policy events fit it equally well by internal_id, message_id (high)".
    """
    m = "<same.1@ws.example.com>"
    c = _write_case(
        tmp_path,
        _with_message_id(_trace("09:00:05", "1", "203.0.113.1", finished="E1-0001"), m)
        + _with_message_id(_trace("09:00:09", "2", "203.0.113.1", finished="E2-0002"), m),
        [_pe("09:00:05", "E1-0001", m), _pe("09:00:09", "E2-0002", m)],
    )
    linked = sorted((r.session.thread, r.event.internal_id, r.link.confidence) for r in c.rows if r.status == "linked")
    assert linked == [("1:1", "E1-0001", "high"), ("1:2", "E2-0002", "high")]
    assert c.summary.linked == 2 and c.summary.ambiguous == 0


def test_decide_links_internal_id_before_message_id() -> None:
    d = decide_links(
        [
            Evidence("T1", "E1", "internal_id"),
            Evidence("T1", "E1", "message_id"),
            Evidence("T1", "E2", "message_id"),
            Evidence("T2", "E2", "internal_id"),
            Evidence("T2", "E1", "message_id"),
            Evidence("T3", "E1", "message_id"),
        ]
    )
    assert d.links == {"T1": ("E1", "high"), "T2": ("E2", "high")}
    assert d.taken == {"T3": ("E1",)}


def test_a_trace_whose_event_went_elsewhere_does_not_say_no_matching_event(tmp_path) -> None:
    """Attack 7, item 9: contradicting notes on one row.

    False output before: "Note: policy event ID-E fits it by time, but is linked to thread 1:1 ... by
    stronger evidence" followed by "Note: polevt.imss covers its time but holds no matching spoof event".
    """
    c = _case_one_event_two_traces(tmp_path)
    (other,) = [r for r in c.rows if r.session is not None and r.session.thread == "1:2"]
    assert "policy event ID-E fits it by time, but is linked to thread 1:1" in other.explanation
    assert "holds no matching spoof event" not in other.explanation


def test_a_tie_is_broken_by_weaker_evidence_among_the_tied_only(tmp_path) -> None:
    """Attack 7, item 2: two traces with one queue ID, 5 minutes apart; events at those two times.

    False output before: nothing linked ("2 policy events fit it equally well by queue_id"),
    although time separates them.
    """
    d = decide_links(
        [
            Evidence("T1", "E1", "queue_id"), Evidence("T1", "E2", "queue_id"),
            Evidence("T2", "E1", "queue_id"), Evidence("T2", "E2", "queue_id"),
            Evidence("T1", "E1", "time", distance=0), Evidence("T2", "E2", "time", distance=0),
        ]
    )
    assert d.links == {"T1": ("E1", "medium-high"), "T2": ("E2", "medium-high")}
    assert d.broken_by == {"T1": "time", "T2": "time"}
    # weaker evidence that does not make the pair unique both ways breaks nothing
    d = decide_links(
        [
            Evidence("T1", "E1", "queue_id"), Evidence("T1", "E2", "queue_id"),
            Evidence("T2", "E1", "queue_id"), Evidence("T2", "E2", "queue_id"),
            Evidence("T1", "E1", "time", distance=0), Evidence("T2", "E1", "time", distance=3),
        ]
    )
    assert d.links == {} and d.ambiguous["T1"].events == ("E1", "E2")


def test_the_strictly_closest_pair_is_preferred_only_when_unique_both_ways(tmp_path) -> None:
    """Attack 7, item 2 (a, b, c): one trace, events 0 s and 1 s away.

    False output before: the trace read "2 policy events fit it equally well by time", each event row
    "This policy event fits 1 AntiSpoofFilter traces equally well", and the summary "0 linked, 1 ambiguous"
    with the ambiguous event rows counted nowhere.
    """
    c = _write_case(tmp_path, _trace("09:00:05", "1", "203.0.113.7"), [_pe("09:00:05", "ID-A"), _pe("09:00:06", "ID-B")])
    (t,) = [r for r in c.rows if r.session is not None]
    assert (t.status, t.event.internal_id, t.link.confidence) == ("linked", "ID-A", "low")
    assert "the closest in time, and this scan is the closest to it" in t.explanation
    # equally close: no choice, and the rows say so from their own side
    c = _write_case(
        tmp_path, _trace("09:00:05", "1", "203.0.113.7"), [_pe("09:00:04", "ID-A"), _pe("09:00:06", "ID-B")]
    )
    (t,) = [r for r in c.rows if r.session is not None]
    assert t.status == "ambiguous" and "equally well" not in t.explanation
    assert "ID-A (1 s apart), ID-B (1 s apart)" in t.explanation
    events = [r for r in c.rows if r.session is None]
    assert [r.status for r in events] == ["ambiguous", "ambiguous"]
    assert "This policy event fits only thread 1:1 at 2024-03-12 09:00:05+01:00, but that trace fits other " \
           "policy events as well: ID-B" in events[0].explanation
    assert (c.summary.ambiguous, c.summary.ambiguous_events) == (1, 2)
    assert "0 linked, 1 ambiguous (and 2 ambiguous policy events)," in CliRunner().invoke(
        app, ["correlate", str(tmp_path)]).output


# --- what decided a link, said from every side (issue 7 leftovers, item 2) ---------------------------


def _thread_row(c, thread: str):
    (row,) = [r for r in c.rows if r.session is not None and r.session.thread == thread]
    return row


def test_a_trace_that_lost_a_time_tie_says_the_tie_not_stronger_evidence(tmp_path) -> None:
    """Two scans 0 s and 1 s from one event, no IDs: the closer one gets it at the same (time) tier.

    False output before: "policy event ID-E fits it by time, but is linked to thread 1:1 ... by stronger evidence".
    """
    c = _write_case(
        tmp_path, _trace("09:00:05", "1", "203.0.113.7") + _trace("09:00:06", "2", "203.0.113.8"), [_pe("09:00:05", "ID-E")]
    )
    won, lost = _thread_row(c, "1:1"), _thread_row(c, "1:2")
    assert won.status == "linked" and won.link.confidence == "low"
    assert ("chosen from a tie among 2 scans at time (low), broken by time distance: the closest in time, "
            "and this scan is the closest to it") in won.link.detail
    assert lost.status == "trace-without-event" and "stronger evidence" not in lost.explanation
    assert ("Note: policy event ID-E fits it by time, but is linked to thread 1:1 at 2024-03-12 09:00:05+01:00 after a "
            "tie among 2 scans at time (low), broken by time distance: that pair is 0 s apart, this one 1 s.") in lost.explanation
    assert "the ones that fit it are linked to other traces" in lost.explanation
    d = json.loads(CliRunner().invoke(app, ["correlate", str(tmp_path), "-f", "json"]).output)
    (row,) = [r for r in d["rows"] if r["thread"] == "1:2"]
    assert row["linked_elsewhere"] == ["ID-E"]
    assert row["summary"].endswith("and the policy event that fits this scan (ID-E) was linked to another scan (see the notes).")


def test_an_event_that_lost_a_time_tie_names_the_scan_that_went_elsewhere(tmp_path) -> None:
    """One scan, events 0 s and 1 s from it: the closer event gets the scan.

    False output before: the other event read "log.imss covers its time but holds no scan of it with
    AntiSpoofFilter lines: log.imss was probably not at debug level then", although its scan is right there.
    """
    c = _write_case(tmp_path, _trace("09:00:05", "1", "203.0.113.7"), [_pe("09:00:05", "ID-A"), _pe("09:00:06", "ID-B")])
    (event,) = [r for r in c.rows if r.session is None]
    assert (event.status, event.internal_id) == ("event-without-trace", "ID-B")
    assert "holds no scan of it" not in event.explanation and "debug level" not in event.explanation
    assert ("Note: thread 1:1 at 2024-03-12 09:00:05+01:00 fits it by time, but is linked to policy event ID-A after "
            "a tie among 2 policy events at time (low), broken by time distance: that pair is 0 s apart, this one 1 s."
            ) in event.explanation
    assert "No AntiSpoofFilter trace linked to this policy event: the traces that fit it" in event.explanation
    assert event.linked_elsewhere == ["thread 1:1 at 2024-03-12 09:00:05+01:00"]
    for fmt in ("json", "jsonl", "csv"):
        out = CliRunner().invoke(app, ["correlate", str(tmp_path), "-f", fmt]).output
        assert "(thread 1:1 at 2024-03-12 09:00:05+01:00) was linked to another policy event" in out, fmt


def _queue_trace(t: str, thread: str, ip: str, queue: str) -> list[str]:
    lines = _trace(t, thread, ip)
    lines[2] += f" id {queue}"
    return lines


def test_a_queue_id_tie_broken_by_time_says_so(tmp_path) -> None:
    """Two scans carry the event's queue ID (medium-high); only one is also at its time: a tie at the queue-ID
    tier broken by time, not "stronger evidence"."""
    c = _write_case(
        tmp_path,
        _queue_trace("09:00:05", "1", "203.0.113.7", "4F1A2B3C4D") + _queue_trace("09:00:30", "2", "203.0.113.8", "4F1A2B3C4D"),
        [_pe("09:00:05", "ID-E", "<4F1A2B3C4D.1@mx.example.com>")],
    )
    won, lost = _thread_row(c, "1:1"), _thread_row(c, "1:2")
    assert won.status == "linked" and won.link.confidence == "medium-high"
    assert "chosen from a tie among 2 scans at queue ID (medium-high), broken by time: the only pair that also fits by time" \
        in won.link.detail
    assert ("policy event ID-E fits it by queue ID, but is linked to thread 1:1 at 2024-03-12 09:00:05+01:00 after a tie "
            "among 2 scans at queue ID (medium-high), broken by time: only that pair also fits by time.") in lost.explanation


def test_a_trace_that_lost_to_a_stronger_tier_names_both_tiers(tmp_path) -> None:
    c = _case_one_event_two_traces(tmp_path)
    other = _thread_row(c, "1:2")
    assert ("policy event ID-E fits it by time, but is linked to thread 1:1 at 2024-03-12 09:00:05+01:00 by stronger "
            "evidence: internal ID (high) outranks time (low).") in other.explanation


# --- evidence that never becomes a link (attack on the leftovers, finding 1) -----------------------------------


@st.composite
def noisy_cases(draw):
    """A ground truth and evidence for it, plus misleading evidence at every basis (a queue ID in two events'
    Message-IDs, an internal ID logged twice, scans close in time), and one more piece of evidence ``x``."""
    n_t, n_e = draw(st.integers(1, N)), draw(st.integers(1, N))
    events = draw(st.permutations(range(n_e)))
    truth = {t: e for t, e in zip(range(n_t), events, strict=False) if draw(st.booleans())}
    seconds = st.sampled_from([0, 1, 2])
    ev = [
        Evidence(t, e, b, distance=draw(seconds) if b == "time" else None)
        for t, e in truth.items()
        for b in draw(st.sets(st.sampled_from(BASES)))
    ]
    pieces = st.tuples(st.integers(0, n_t - 1), st.integers(0, n_e - 1), st.sampled_from(BASES), seconds)
    ev += [Evidence(t, e, b, distance=d if b == "time" else None) for t, e, b, d in draw(st.lists(pieces, max_size=8))]
    t, e, b, d = draw(pieces)
    return truth, ev, Evidence(t, e, b, distance=d if b == "time" else None)


@settings(max_examples=1000, deadline=None)
@given(noisy_cases())
def test_evidence_that_never_becomes_a_link_never_removes_a_correct_weaker_link(case) -> None:
    """Adding evidence ``x`` that is not linked (its trace is linked to another event, or loses its event to another
    trace) changes no correct link elsewhere, weaker or not. The one exception is honest: when ``x`` leaves its trace
    ambiguous, the events it contests are not given to weaker evidence (a test below pins that)."""
    truth, ev, x = case
    before, after = decide_links(ev), decide_links([*ev, x])
    if after.links.get(x.trace, (None,))[0] == x.event or x.trace in after.ambiguous:
        return
    for t, (e, _) in before.links.items():
        if t != x.trace and truth.get(t) == e:
            assert after.links.get(t, (None,))[0] == e, (t, e)


def test_unused_queue_evidence_leaves_the_event_in_the_pool() -> None:
    """Finding 1, as a pure function: T1 takes E1 (a queue-ID tie broken by time); E2, which T1's queue ID also
    fits, stays in the pool and goes to T3, 0 s away. False before: {'T1': E1} only (E2 left with T1's tier)."""
    with_x = [
        Evidence("T1", "E1", "queue_id"), Evidence("T1", "E2", "queue_id"),
        Evidence("T1", "E1", "time", distance=0), Evidence("T3", "E2", "time", distance=0),
    ]
    without_x = [v for v in with_x if (v.trace, v.event, v.basis) != ("T1", "E2", "queue_id")]
    assert decide_links(with_x).links == decide_links(without_x).links == {
        "T1": ("E1", "medium-high"), "T3": ("E2", "low")
    }
    assert decide_links(with_x).taken == {} and decide_links(with_x).contested == {}


def test_an_unresolved_stronger_claim_is_not_overridden_by_weaker_evidence() -> None:
    """T1 fits E1 and E2 by queue ID, nothing breaks the tie: T1 is ambiguous, and E2 is not given to T3 by time
    (if E2 is T1's, a time link would be a confident wrong answer); T3 says who contests it."""
    d = decide_links(
        [Evidence("T1", "E1", "queue_id"), Evidence("T1", "E2", "queue_id"), Evidence("T3", "E2", "time", distance=0)]
    )
    assert d.links == {} and d.ambiguous["T1"].events == ("E1", "E2")
    assert d.contested == {"E1": ("T1",), "E2": ("T1",)} and d.taken == {"T3": ("E2",)}


def test_a_time_link_survives_queue_evidence_that_went_elsewhere_in_every_format(tmp_path) -> None:
    """Finding 1 (case A-pool): scan 1:1 carries queue ID Q; events E1 and E2 both carry Q in their Message-IDs;
    1:1 takes E1 (tie broken by time); E2 and scan 1:3 are 0 s apart and unique to each other.

    False output before: 1:3 and E2 unlinked; 1:3's note "policy event ID-E2 fits it by time, but is contested"
    (nothing contests it) and its summary "no policy event was found for this scan (is polevt.imss of that time
    among the files?)"; E2's row named only 1:1.
    """
    q = "4F1A2B3C4D"
    c = _write_case(
        tmp_path,
        _queue_trace("09:00:05", "1", "203.0.113.7", q) + _trace("09:00:50", "3", "203.0.113.9"),
        [_pe("09:00:05", "ID-E1", f"<{q}.1@mx.example.com>"), _pe("09:00:50", "ID-E2", f"<{q}.2@mx.example.com>")],
    )
    got = sorted((r.status, r.session.thread, r.event.internal_id, r.link.confidence) for r in c.rows)
    assert got == [("linked", "1:1", "ID-E1", "medium-high"), ("linked", "1:3", "ID-E2", "low")]
    assert c.summary.linked == 2 and c.summary.traces_without_event == 0 and c.summary.events_without_trace == 0
    # the time link says that a scan with stronger evidence for its event went elsewhere, and why
    assert ("Note: thread 1:1 at 2024-03-12 09:00:05+01:00 also fits this policy event, by queue ID, but is linked to "
            "policy event ID-E1 after a tie among 2 policy events at queue ID (medium-high), broken by time: only that "
            "pair also fits by time.") in _thread_row(c, "1:3").explanation
    run = CliRunner().invoke
    for fmt in ("json", "jsonl", "csv"):
        out = run(app, ["correlate", str(tmp_path), "-f", fmt]).output
        assert "contested" not in out and "no policy event was found" not in out, fmt
    rows = [json.loads(x) for x in run(app, ["correlate", str(tmp_path), "-f", "jsonl"]).output.splitlines()]
    assert sorted((r["thread"], r["status"], r["internal_id"]) for r in rows) == [
        ("1:1", "linked", "ID-E1"), ("1:3", "linked", "ID-E2")
    ]


def test_a_contested_event_names_who_contests_it(tmp_path) -> None:
    """Scan 1:1's queue ID is in the Message-IDs of E1 and E2, and 1:1 is 1 s from both (time does not break the
    tie); scan 1:3 fits E2 only by time (1 s; E1 is 3 s off). E2 is contested by 1:1's stronger claim, so 1:3 is not linked, and
    its note says by whom (before: a bare "but is contested")."""
    q = "4F1A2B3C4D"
    c = _write_case(
        tmp_path,
        _queue_trace("09:00:06", "1", "203.0.113.7", q) + _trace("09:00:08", "3", "203.0.113.9"),
        [_pe("09:00:05", "ID-E1", f"<{q}.1@mx.example.com>"), _pe("09:00:07", "ID-E2", f"<{q}.2@mx.example.com>")],
    )
    assert _thread_row(c, "1:1").status == "ambiguous"
    lost = _thread_row(c, "1:3")
    assert lost.status == "trace-without-event"
    assert ("Note: policy event ID-E2 fits it by time, but is contested by stronger evidence: thread 1:1 at "
            "2024-03-12 09:00:06+01:00 fits it by queue ID (medium-high) but also fits other policy events.") in lost.explanation


def test_a_three_scan_tie_says_who_is_equally_close_and_names_rival_scans(tmp_path) -> None:
    """Finding 2 (case B-3tie-identical): scans 1:1 and 1:2 at 09:00:05, 1:3 at 09:00:06, one event at 09:00:05.

    False output before: the event's summary said it "fits several scans (1:1 09:00:05, 1:2 09:00:05, 1:3 09:00:06)
    equally well" (1:3 is 1 s further off), and each scan's summary said "the scan fits several policy events (ID-E)
    equally well" (there is one event; the rivals are scans), in JSON, CSV and --explain.
    """
    _write_case(
        tmp_path,
        _trace("09:00:05", "1", "203.0.113.7") + _trace("09:00:05", "2", "203.0.113.8") + _trace("09:00:06", "3", "203.0.113.9"),
        [_pe("09:00:05", "ID-E")],
    )
    run = CliRunner().invoke
    event = ("it fits 3 scans by time (1:1 09:00:05 0 s, 1:2 09:00:05 0 s and 1:3 09:00:06 1 s apart; the closest two, "
             "1:1 09:00:05 and 1:2 09:00:05, are equally close), so which trace is its own is not settled.")
    scan3 = ("the scan fits policy event ID-E by time (1 s apart), but so do other scans (1:1 09:00:05 and 1:2 09:00:05), "
             "so which message it was is not settled.")
    for fmt in ("json", "csv"):
        out = run(app, ["correlate", str(tmp_path), "-f", fmt]).output
        assert "equally well" not in out and "several policy events" not in out, fmt
        assert event in out and scan3 in out, fmt
    out = run(app, ["correlate", str(tmp_path), "--explain"]).output
    assert event in out and scan3 in out and "equally well" not in out
    d = json.loads(run(app, ["correlate", str(tmp_path), "-f", "json"]).output)
    (ev,) = [r for r in d["rows"] if r["thread"] is None]
    assert ev["link_problem"]["apart"] == [0.0, 0.0, 1.0] and ev["link_problem"]["tied_at"] == "time"
    (s3,) = [r for r in d["rows"] if r["thread"] == "1:3"]
    assert s3["link_problem"]["candidates"] == ["ID-E"] and s3["link_problem"]["rivals"] == ["1:1 09:00:05", "1:2 09:00:05"]


def test_a_rival_without_a_basis_the_others_share_never_wins_by_a_weaker_one() -> None:
    """Found by the property above: three scans tie on one internal ID; two of them also carry the event's
    Message-ID, the third only its queue ID. False before: the third was linked ("tie broken by queue ID"),
    although it lacks the Message-ID both others have; the two left are tied, so nothing is linked."""
    ev = [
        Evidence(0, 0, "internal_id"), Evidence(1, 0, "internal_id"), Evidence(2, 0, "internal_id"),
        Evidence(0, 0, "message_id"), Evidence(2, 0, "message_id"), Evidence(1, 0, "queue_id"),
    ]
    d = decide_links(ev)
    assert d.links == {}
    assert set(d.ambiguous) == {0, 1, 2}
    # with one Message-ID only, it breaks the tie as before
    d = decide_links([x for x in ev if (x.trace, x.basis) != (2, "message_id")])
    assert d.links == {0: (0, "high")} and d.broken_by == {0: "message_id"}
