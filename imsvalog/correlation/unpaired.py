"""The scans left without a policy event near each spoof policy event left without a trace, and the words for it.

When no line of log.imss names a policy event's internal ID or Message-ID, its scan may still be in log.imss:
IMSVA logs neither ID in every scan. A scan with an AntiSpoofFilter trace and no policy event that is near the
event, but outside ``--time-window``, may be it; the logs cannot tell. :func:`nearest_unpaired` names, for every
such event at once, the scans without policy event nearest to it, and :func:`near_words` says what is known: the
scan, how far and which way, what ``--time-window`` would let time alone pair them, and every other event without
trace that has the same scan as its nearest (so that no two events' sentences each offer the same scan as theirs).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from ..records import PolicyEvent
from ..scan_sessions import ScanSession, SpoofTrace
from .explain import _refs
from .scan import internal_key, normalize_message_id

#: how far from a policy event a scan without policy event is still named as its nearest (as trace does)
NEAR_SCANS = timedelta(minutes=15)


@dataclass(frozen=True)
class Near:
    """The scans without policy event nearest to one policy event without trace (several when equally near)."""

    #: indexes into the scans given to :func:`nearest_unpaired`
    scans: tuple[int, ...]
    #: seconds from the event to each of them (negative: the scan is earlier)
    seconds: tuple[float, ...]


def same_internal(s: ScanSession, e: PolicyEvent) -> bool:
    """Whether the scan's ``Scan finished`` internal ID leaves open that it is the event's (unknown: yes)."""
    return not s.internal_id or internal_key(s.internal_id) == internal_key(e.internal_id)


@dataclass(frozen=True)
class Named:
    """What the other logs say a scan is, from the Postfix queue IDs of its Received headers (empty: not known)."""

    #: the internal IDs (internal_key) msgtra gives them, directly or through their first Postfix pass
    internal: frozenset[str] = frozenset()
    #: the Message-IDs (normalised) maillog gives them (``Q: message-id=<...>``, the line correlate links by), or msgtra
    message: frozenset[str] = frozenset()


#: nothing known of a scan from msgtra or maillog
UNNAMED = Named()


def same_msgtra(named: Named, e: PolicyEvent) -> bool:
    """Whether the internal IDs msgtra gives a scan's queue IDs (``named.internal``; empty: none known) leave open
    that it is the event's scan."""
    return not named.internal or internal_key(e.internal_id) in named.internal


def same_maillog(named: Named, e: PolicyEvent) -> bool:
    """Whether the Message-IDs maillog (or msgtra) gives a scan's queue IDs (``named.message``; empty: none known) leave open
    that it is the event's scan (an event without Message-ID: yes)."""
    mid = normalize_message_id(e.message_id)
    return not named.message or not mid or mid in named.message


def may_be(s: ScanSession, e: PolicyEvent, named: Named = UNNAMED) -> bool:
    """Whether the scan's own IDs leave open that it is the event's scan: a scan whose ``Scan finished`` line
    names another internal ID, or whose Message-ID is not the event's, or one of whose Received headers' queue IDs
    msgtra gives other internal IDs only, or maillog (or msgtra) other Message-IDs only (``named``), is another
    message's."""
    if not same_internal(s, e) or not same_msgtra(named, e) or not same_maillog(named, e):
        return False
    mine, theirs = normalize_message_id(s.message_id), normalize_message_id(e.message_id)
    return not (mine and theirs and mine != theirs)


@dataclass
class NearScans:
    """For each policy event without trace (by index into ``events``), the scans without policy event nearest to
    it (:func:`nearest_unpaired`), and for each such scan the events it is nearest to."""

    events: Sequence[PolicyEvent]
    scans: Sequence[tuple[ScanSession, SpoofTrace]]
    nearest: dict[int, Near]
    #: scan index -> the events (indexes) it is a nearest scan of
    claims: dict[int, list[int]]


def trace_words(si: int, found: NearScans) -> str | None:
    """For scan ``si`` (a trace without policy event): the events without trace it is a nearest trace of, and their
    distance, or None when it is no such event's; their rows say what would pair them."""
    claimed = found.claims.get(si)
    if not claimed:
        return None
    away = {ei: -found.nearest[ei].seconds[found.nearest[ei].scans.index(si)] for ei in claimed}
    named = [f"{found.events[ei].internal_id} ({_when(away[ei])})" for ei in sorted(claimed, key=lambda x: (abs(away[x]), x))]
    one = len(named) == 1
    whose = "that event's trace" if one else "the trace of one of them"
    return (f"it is the nearest AntiSpoofFilter trace without a policy event of policy event{'' if one else 's'} "
            f"{', '.join(named)}, which {'has' if one else 'have'} no trace (see {'its row' if one else 'their rows'}): "
            f"the logs do not tell whether it is {whose}")


def nearest_unpaired(
    events: Sequence[PolicyEvent], scans: Sequence[tuple[ScanSession, SpoofTrace]], reach: timedelta = NEAR_SCANS,
    named: Callable[[int], Named] = lambda si: UNNAMED,
) -> NearScans:
    """For each event (by index), the scans without policy event nearest to it within ``reach``, decided over all
    events and scans at once: those at the least distance (all of them when several are equally near), among the
    scans whose filter did not clear the mail (``triggered`` is not False) and whose IDs do not make them another
    message's (``named(si)``: what msgtra and maillog say scan ``si`` is, :func:`may_be`). Events with
    no such scan within ``reach`` are left out."""
    ids = {internal_key(e.internal_id) for e in events}
    # a scan whose 'Scan finished' names an internal ID no event here has is another message's (most scans)
    kept = sorted(
        (t.time.timestamp(), i) for i, (s, t) in enumerate(scans)
        if t.triggered is not False and (not s.internal_id or internal_key(s.internal_id) in ids)
    )
    times = [k[0] for k in kept]
    nearest: dict[int, Near] = {}
    claims: dict[int, list[int]] = defaultdict(list)
    limit = reach.total_seconds()
    for ei, e in enumerate(events):
        at = e.time.timestamp()
        # outwards from the event's time, nearest first, until past the first fitting scan's distance (a busy
        # log has thousands of scans within reach of an event: they are not all looked at)
        right = bisect_left(times, at)
        left = right - 1
        found: list[tuple[float, int]] = []
        while True:
            d_left = at - times[left] if left >= 0 else math.inf
            d_right = times[right] - at if right < len(kept) else math.inf
            if d_left <= d_right:
                j, d = left, d_left
                left -= 1
            else:
                j, d = right, d_right
                right += 1
            if d > limit or (found and d > abs(found[0][0])):
                break
            si = kept[j][1]
            if may_be(scans[si][0], e, named(si)):
                found.append((times[j] - at, si))
        if found:
            best = sorted(found)
            nearest[ei] = Near(tuple(si for _, si in best), tuple(d for d, _ in best))
            for _, si in best:
                claims[si].append(ei)
    return NearScans(events, scans, nearest, claims)


def _when(secs: float) -> str:
    return "the same second" if abs(secs) < 1 else f"{abs(secs):.0f} s {'later' if secs > 0 else 'earlier'}"


def _apart(secs: float) -> str:
    return "the same second" if abs(secs) < 1 else f"{abs(secs):.0f} s"


def _scan(s: ScanSession, t: SpoofTrace) -> str:
    return f"thread {s.thread} at {t.time.isoformat(sep=' ')} ({_refs(s.sources)})"


def _actions(s: ScanSession, e: PolicyEvent, whose: str = "its") -> str:
    return f"{whose} scan ended in {', '.join(s.final_actions)}, not the policy event's action ({', '.join(e.actions)})"


def near_words(
    ei: int, found: NearScans, window: timedelta, none_within: str,
    compatible: Callable[[ScanSession, PolicyEvent], bool],
    at: Callable[[int, int, int], str | None],
    no_window: str | None = None,
) -> str:
    """What is known of the scans without policy event nearest to event ``ei`` (in ``found.nearest``): which, how
    far, whether time alone could pair them at a wider ``--time-window`` (``compatible``: whether a scan's final
    actions allow a time link to an event), and the other events without trace whose nearest scan is the same.
    ``none_within``: the words for no scan that may be the event's being within the window (said when the nearest
    is outside it). ``at(si, ei, n)``: None when correlate, run at ``--time-window n`` over the same traces and
    events, links scan ``si`` to event ``ei``, else what it would do instead: a window is offered only when true.
    ``no_window``: why no wider window is offered at all (the event's own scan, or the nearest scan's own policy
    event, may be in a rotated file left out: pairing them by time could be a wrong link), said instead."""
    events, scans, nearest = found.events, found.scans, found.nearest
    e, near = events[ei], nearest[ei]
    w = f"{window.total_seconds():g} s"
    secs = abs(near.seconds[0])
    within = secs <= window.total_seconds()
    parts: list[str] = []
    if not within:
        parts.append(none_within)
    named = [f"{_scan(*scans[si])}, {_when(d)}" for si, d in zip(near.scans, near.seconds)]
    what = "the nearest trace without a policy event" if len(named) == 1 else \
        f"the {len(named)} nearest traces without a policy event, equally near"
    said = f"{what}: {'; '.join(named)}"
    notes: list[str] = []
    pairable = True
    many = len(near.scans) > 1
    # the other events without trace whose nearest scan one of these is too (one decision over all of them), said
    # once per event and distance with every such scan named (equally near scans share their rivals)
    shared: dict[tuple[float, int], list[int]] = defaultdict(list)
    for si in near.scans:
        s = scans[si][0]
        if not compatible(s, e):
            pairable = False
            notes.append(f"thread {s.thread}: {_actions(s, e)}, so time alone does not pair them" if many else
                         _actions(s, e, "that trace's") + ", so time alone does not pair them")
            continue
        for other in found.claims[si]:
            if other != ei and compatible(s, events[other]):
                shared[abs(nearest[other].seconds[nearest[other].scans.index(si)]), other].append(si)
    for (theirs, other), sis in sorted(shared.items()):
        threads = [scans[si][0].thread for si in sis]
        kind = "threads"
        if len(set(threads)) < len(threads):  # IMSVA reuses a thread for the next message: its time tells them apart
            threads, kind = [f"thread {scans[si][0].thread} at {scans[si][1].time:%H:%M:%S}" for si in sis], "the traces of"
        rel = "nearer than" if theirs < secs else "as near as" if theirs == secs else "farther than"
        then = ": time alone may pair it with that one first" if theirs < secs else \
            ": time alone cannot choose between the two" if theirs == secs else ""
        who = "it is" if not many else f"thread {threads[0]} is" if len(threads) == 1 else \
            f"{kind} " + ", ".join(threads[:-1]) + f" and {threads[-1]} are"
        trace = "trace" if len(threads) == 1 else "traces"
        notes.append(f"{who} also policy event {events[other].internal_id}'s nearest {trace} without a policy "
                     f"event ({_apart(theirs)} from it, {rel} this one), and that event has no trace either{then}")
        if theirs <= secs:
            pairable = False
    if within:
        # within the window but not paired: correlate gave it no time evidence (its final action)
        head = f"{said} (within correlate's time window ({w})" + (", but " + "; ".join(notes) if notes else "") + ")"
    elif no_window is not None:
        head = said + f" (outside the window; no wider --time-window is offered: {no_window})" + (
            "; " + "; ".join(notes) if notes else "")
    elif pairable and len(named) == 1 and (instead := at(near.scans[0], ei, math.ceil(secs))) is not None:
        # correlate itself, run at that window over the same traces and events, would not pair them: say what it does
        head = said + f" (outside the window; {instead})" + ("; " + "; ".join(notes) if notes else "")
    elif pairable:
        n = math.ceil(secs)
        head = said + (f" (outside the window: with --time-window {n} time alone may pair them, low confidence)"
                       if len(named) == 1 else
                       f" (outside the window: with --time-window {n} each fits it by time alone, equally near, so "
                       "time cannot choose between them)")
        if notes:
            head += "; " + "; ".join(notes)
    else:
        head = said + " (outside the window; " + "; ".join(notes) + ")"
    parts.append(head)
    parts.append(f"the logs do not tell whether {'it is' if len(named) == 1 else 'one of them is'} this event's trace")
    return "; ".join(parts)


__all__ = ["NEAR_SCANS", "UNNAMED", "Named", "Near", "NearScans", "near_words", "nearest_unpaired", "trace_words"]
