"""Linking AntiSpoofFilter traces to spoof policy events, with the basis and confidence of each link.

==============  ===============================================================  ============
basis           evidence                                                         confidence
==============  ===============================================================  ============
internal_id     ``Scan finished for X`` = the policy event's internal ID          high
                (decisive: settled before any Message-ID)
message_id      ``>>> Message-ID`` = the policy event's Message-ID               high
                (IMSVA splits a message by recipient: several scans share it)
queue_id        a Postfix queue ID from a recovered Received header (``id Q``)    medium-high
                appears in the event's Message-ID, or is msgtra's queue ID for
                the event's internal ID (or its first pass: maillog's
                ``A: ... queued as B``), or is the queue maillog gives the
                event's Message-ID (``Q: message-id=<...>``)
time            within ``time_window`` seconds, spoof rule ("Others" condition),  low
                compatible final action, a trace that did not say 'Not
                triggered', a scan that names no other message (its
                internal ID, Message-ID, msgtra's internal ID or maillog's
                (or msgtra's) Message-ID for its queue ID); only when
                unambiguous both ways
==============  ===============================================================  ============

The bases are settled one after the other in this order (the high tier is split: a unique
internal-ID match settles before Message-IDs are looked at, since a Message-ID is shared by
every scan of one message). Candidates that tie at one basis are reported as ambiguous, never chosen.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Generic, Literal, TypeVar

from ..grammars.maillog import queue_key
from ..grammars.received import parse_received
from ..records import MailLogEntry, PolicyEvent, Transaction
from ..rotation import Hole, Holes, Unread
from ..scan_sessions import ScanSession, SpoofTrace
from .result import Basis, Link, Row
from .scan import ScanIndex, ScanRef, internal_key, normalize_message_id
from .unpaired import (
    UNNAMED,
    Named,
    _actions,
    _scan,
    _when,
    may_be,
    near_words,
    nearest_unpaired,
    same_internal,
    same_maillog,
    same_msgtra,
    trace_words,
)

#: link bases, strongest first, and the confidence (tier) each gives
BASES: tuple[Basis, ...] = ("internal_id", "message_id", "queue_id", "time")
Tier = Literal["high", "medium-high", "low"]
#: the tiers, strongest first: each is settled before the next is looked at
TIERS: tuple[Tier, ...] = ("high", "medium-high", "low")
CONFIDENCE: dict[Basis, Tier] = {"internal_id": "high", "message_id": "high", "queue_id": "medium-high", "time": "low"}
#: each basis in words
_WORDS: dict[Basis, str] = {"internal_id": "internal ID", "message_id": "Message-ID", "queue_id": "queue ID", "time": "time"}


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


#: the order in which bases are settled: each tier in turn, and within the high tier the internal ID
#: (unique to one scan) before the Message-ID (shared by every scan of one message split by recipient)
STAGES: tuple[Basis, ...] = BASES

T = TypeVar("T", bound=Hashable)
E = TypeVar("E", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Evidence(Generic[T, E]):
    """One reason to pair trace ``trace`` with event ``event`` (both plain, sortable keys)."""

    trace: T
    event: E
    basis: Basis
    why: str = ""
    #: for time evidence: seconds apart (a tie is broken by the strictly closest pair, unique both ways)
    distance: float | None = None


@dataclass(frozen=True)
class Ambiguity(Generic[T, E]):
    """A trace that could not be linked: the events that fit it, the traces that compete for them, at which tier."""

    tier: Tier
    events: tuple[E, ...]
    rivals: tuple[T, ...]
    #: the basis at which the candidates tied
    basis: Basis = "time"


@dataclass
class LinkDecision(Generic[T, E]):
    """The outcome of :func:`decide_links`: who is linked to whom, who is ambiguous, and why."""

    #: trace -> (event, tier at which the pair was settled)
    links: dict[T, tuple[E, Tier]] = field(default_factory=dict)
    #: trace -> its ambiguity
    ambiguous: dict[T, Ambiguity[T, E]] = field(default_factory=dict)
    #: event -> the traces that contest it (an event named by an ambiguous trace, and not linked)
    contested: dict[E, tuple[T, ...]] = field(default_factory=dict)
    #: trace -> events it had evidence for that a stronger tier gave to another trace
    taken: dict[T, tuple[E, ...]] = field(default_factory=dict)
    #: trace -> what broke its tie (a weaker basis, or ``distance``), for links chosen among tied candidates
    broken_by: dict[T, str] = field(default_factory=dict)
    #: trace -> the basis at which its link was settled (within the high tier: internal ID or Message-ID)
    stage: dict[T, Basis] = field(default_factory=dict)
    #: trace -> (traces that fit its event, events that fit it) at that basis, for links chosen among tied candidates
    tied: dict[T, tuple[int, int]] = field(default_factory=dict)


def _unique_pairs(pairs: set[tuple[T, E]]) -> list[tuple[T, E]]:
    """The pairs whose trace has no other pair and whose event has no other pair."""
    n_t: dict[T, int] = defaultdict(int)
    n_e: dict[E, int] = defaultdict(int)
    for t, e in pairs:
        n_t[t] += 1
        n_e[e] += 1
    return [(t, e) for t, e in pairs if n_t[t] == 1 and n_e[e] == 1]


def _closest_pairs(open_t: dict[T, set[E]], distance: dict[tuple[T, E], float]) -> list[tuple[T, E]]:
    """Pairs that are each other's strictly closest (every candidate on both sides with a known distance)."""
    claims: dict[E, set[T]] = defaultdict(set)
    for t, es in open_t.items():
        for e in es:
            claims[e].add(t)

    def strict_min(keys: list[tuple[T, E]]) -> tuple[T, E] | None:
        if not keys or any(k not in distance for k in keys):
            return None
        ds = sorted(distance[k] for k in keys)
        if len(ds) > 1 and ds[0] == ds[1]:
            return None
        return next(k for k in keys if distance[k] == ds[0])

    out = []
    for t, es in open_t.items():
        best = strict_min([(t, e) for e in es])
        if best is not None and strict_min([(r, best[1]) for r in claims[best[1]]]) == best:
            out.append(best)
    return out


def _outranked(
    pair: tuple[T, E], open_t: dict[T, set[E]], between: Sequence[Basis | None], by_stage: dict[Basis, set[tuple[T, E]]]
) -> bool:
    """Whether a rival of ``pair`` (an open pair sharing its trace or its event) has evidence at one of the
    bases ``between`` that ``pair`` lacks."""
    if not any(b is not None for b in between):  # the common case: a pair unique at its own basis
        return False
    t, e = pair
    rivals = [(t, o) for o in open_t.get(t, ()) if o != e] + [(r, e) for r, es in open_t.items() if r != t and e in es]
    return any(b is not None and pair not in by_stage[b] and q in by_stage[b] for b in between for q in rivals)


def decide_links(evidence: Iterable[Evidence[T, E]]) -> LinkDecision[T, E]:
    """Link traces to events over all of them at once, tier by tier.

    For each basis in :data:`STAGES` (internal ID, Message-ID, queue ID, time: the tiers
    high, medium-high, low, with the high tier's internal ID settled before its
    Message-ID), among the traces and events not yet settled, a pair is linked when
    the trace's only candidate at that basis is the event and the event's only
    candidate is the trace (unique both ways). Every
    other trace with evidence at that basis is ambiguous (its candidates named),
    and the events it names are contested. Settled pairs leave the pool (a linked
    trace and its event; an ambiguous trace and the events it contests), so an event
    is linked at most once, and a weaker tier never reopens what a stronger one
    settled; evidence that never becomes a link (its trace linked to another event,
    or its event to another trace) leaves its event in the pool for weaker tiers.
    The result does not depend on the order of ``evidence``.

    >>> d = decide_links([Evidence("A", "E", "internal_id"), Evidence("B", "E", "time")])
    >>> d.links, d.taken
    ({'A': ('E', 'high')}, {'B': ('E',)})
    >>> d = decide_links([Evidence("A", "E", "time", distance=0), Evidence("B", "E", "time", distance=1)])
    >>> d.links, d.broken_by, d.tied, d.taken
    ({'A': ('E', 'low')}, {'A': 'distance'}, {'A': (2, 1)}, {'B': ('E',)})
    """
    by_stage: dict[Basis, set[tuple[T, E]]] = {basis: set() for basis in STAGES}
    distance: dict[tuple[T, E], float] = {}
    pair_of: dict[tuple[T, E], tuple[T, E]] = {}  # one tuple per pair, however many bases it has (memory)
    for ev in evidence:
        key = (ev.trace, ev.event)
        key = pair_of.setdefault(key, key)
        by_stage[ev.basis].add(key)
        if ev.distance is not None:
            distance[key] = min(distance.get(key, ev.distance), ev.distance)
    del pair_of
    settled_t: set[T] = set()
    settled_e: set[E] = set()
    out: LinkDecision[T, E] = LinkDecision()
    taken: dict[T, set[E]] = defaultdict(set)
    for stage in STAGES:
        tier = CONFIDENCE[stage]
        # lists, not sets: each pair is in by_stage once, and most traces and events have one candidate (a list of
        # one costs a third of a set of one; a big correlation has thousands)
        cands: dict[T, list[E]] = defaultdict(list)
        claims: dict[E, list[T]] = defaultdict(list)
        for t, e in by_stage[stage]:
            if t in settled_t:
                continue
            if e in settled_e:
                taken[t].add(e)
                continue
            cands[t].append(e)
            claims[e].append(t)
        # unique both ways at this basis; a tie is broken by weaker evidence among the tied candidates only,
        # when that makes the pair unique both ways there: the weaker bases in order, then (for time evidence)
        # the strictly closest pair. What is linked leaves the pool, and the pool is looked at again.
        # the pairs unique both ways at this basis are linked at once (the first round below would choose exactly
        # these, and their events are no other trace's candidates); sets are made for the others only (memory)
        for t, found in cands.items():
            if len(found) == 1 and len(claims[found[0]]) == 1:
                out.links[t] = (found[0], tier)
                out.stage[t] = stage
        open_t: dict[T, set[E]] = {t: set(found) for t, found in cands.items() if t not in out.links}
        while open_t:
            chosen: list[tuple[T, E]] = []
            bases = (stage, *STAGES[STAGES.index(stage) + 1:], None)
            for i, weaker in enumerate(bases):
                if weaker is None:
                    chosen = _closest_pairs(open_t, distance)
                else:
                    chosen = _unique_pairs(
                        {(t, e) for t, es in open_t.items() for e in es if (t, e) in by_stage[weaker]}
                    )
                # a pair lacking evidence at a basis in between that one of its rivals has is not chosen by a
                # still weaker one (bases are taken in order, lexicographically)
                chosen = [p for p in chosen if not _outranked(p, open_t, bases[1:i], by_stage)]
                if chosen:
                    break
            if not chosen:
                break
            for t, e in chosen:
                out.links[t] = (e, tier)
                out.stage[t] = stage
                if weaker != stage:
                    out.broken_by[t] = weaker or "distance"
                    out.tied[t] = (len(claims[e]), len(cands[t]))
                del open_t[t]
            gone = {e for _, e in chosen}
            for es in open_t.values():
                es -= gone
        holders: dict[E, list[T]] = defaultdict(list)  # each open event's open traces (rivals at once, not pairwise)
        for t, es in open_t.items():
            for e in es:
                holders[e].append(t)
        for t, es in open_t.items():
            if not es:  # every tied candidate went to another trace by weaker evidence
                taken[t].update(cands[t])
                continue
            rivals = {r for e in es for r in holders[e] if r != t}
            out.ambiguous[t] = Ambiguity(tier, tuple(sorted(es)), tuple(sorted(rivals)), stage)  # type: ignore[type-var]
        linked_events = {e for e, _ in out.links.values()}
        for e, ts in claims.items():
            if e not in linked_events and (open_ts := set(ts) - out.links.keys()):
                out.contested[e] = tuple(sorted(open_ts))  # type: ignore[type-var]
        # settled pairs leave the pool: a linked trace and its event, and an ambiguous trace with the events it
        # contests (a stronger claim that is not resolved is never overridden by weaker evidence). An event whose
        # only claimants here were linked to other events stays, and so does a trace whose candidates all went to
        # other traces: evidence that never becomes a link changes nothing for the weaker tiers.
        settled_t |= out.links.keys() | out.ambiguous.keys()
        settled_e |= {e for e, _ in out.links.values()} | out.contested.keys()
        by_stage[stage].clear()  # later stages look at weaker bases only
    out.taken = {t: tuple(sorted(es)) for t, es in taken.items() if t not in out.links and t not in out.ambiguous}  # type: ignore[type-var]
    return out


#: scanner final actions and the polevt action names they correspond to (BCC, hand-off and X-header actions
#: are left out: their polevt bit positions are uncertain, so they never make a time link incompatible)
FINAL_ACTIONS = {
    "QuarantineAction": "quarantine",
    "DeleteAction": "delete",
    "DeliverAction": "deliver",
    "ArchiveAction": "archive",
    "NotifyAction": "notify",
    "TagSubjectAction": "tag-subject",
    "StampAction": "stamp-body",
    "ChangeRecipientAction": "change-recipient",
    "PostponeAction": "postpone",
}
_TOKEN = re.compile(r"[A-Za-z0-9]{6,}")


def is_spoof_event(e: PolicyEvent) -> bool:
    """A policy event of the spoofed-internal-messages kind: the "Others" condition, or a rule named so."""
    return "others" in e.conditions or (e.rule is not None and "spoof" in e.rule.lower())


@dataclass
class _Index:
    by_internal: dict[str, list[PolicyEvent]] = field(default_factory=lambda: defaultdict(list))
    by_message: dict[str, list[PolicyEvent]] = field(default_factory=lambda: defaultdict(list))
    by_token: dict[str, list[PolicyEvent]] = field(default_factory=lambda: defaultdict(list))
    tx_by_internal: dict[str, Transaction] = field(default_factory=dict)
    spoof_by_time: list[PolicyEvent] = field(default_factory=list)
    spoof_times: list[float] = field(default_factory=list)
    #: queue ID (queue_key) -> the internal IDs (internal_key) msgtra gives it, directly or through its first Postfix
    #: pass (maillog's ``A: ... queued as B``, B msgtra's): the message a trace with that queue ID is
    internal_by_queue: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: queue ID (queue_key) -> the Message-IDs (normalised) maillog gives it (``Q: message-id=<...>``, the lines that
    #: link an event by its Message-ID's queue), or msgtra (directly or through the first Postfix pass, as above):
    #: the message a trace with that queue ID is
    #: (one Message-ID per queue ID, the common case, in ``message_of_queue``; any other in ``more_messages``: a set
    #: per queue ID took 235 MiB for a million of them, a string 29 MiB)
    message_of_queue: dict[str, str] = field(default_factory=dict)
    more_messages: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: (event id, queue ID) -> the maillog line that ties them (message-id= of that queue ID)
    mail_evidence: dict[tuple[int, str], MailLogEntry] = field(default_factory=dict)

    @classmethod
    def build(
        cls, events: list[PolicyEvent], transactions: list[Transaction], mail: Sequence[MailLogEntry] = ()
    ) -> _Index:
        idx = cls()
        queues_of_message: dict[str, list[MailLogEntry]] = defaultdict(list)
        first_pass: dict[str, MailLogEntry] = {}  # queue B -> "A: ... status=sent (... queued as B)"
        for m in mail:
            mid = normalize_message_id(m.message_id)
            if mid and m.queue_id:
                queues_of_message[mid].append(m)
                idx._add_message(queue_key(m.queue_id), mid)
            if m.queued_as and m.queue_id:
                first_pass.setdefault(queue_key(m.queued_as), m)
        idx.spoof_by_time = sorted((e for e in events if is_spoof_event(e)), key=lambda e: e.time)
        idx.spoof_times = [e.time.timestamp() for e in idx.spoof_by_time]
        for t in transactions:
            if t.internal_id:
                idx.tx_by_internal.setdefault(internal_key(t.internal_id), t)
                if t.queue_id:
                    idx.internal_by_queue[queue_key(t.queue_id)].add(internal_key(t.internal_id))
            if t.queue_id and (mid := normalize_message_id(t.message_id)):
                idx._add_message(queue_key(t.queue_id), mid)
        for b, first in first_pass.items():
            if first.queue_id:
                a = queue_key(first.queue_id)
                if b in idx.internal_by_queue:
                    idx.internal_by_queue[a] |= idx.internal_by_queue[b]
                for mid in idx._messages(b):
                    idx._add_message(a, mid)
        for e in events:
            idx.by_internal[internal_key(e.internal_id)].append(e)
            mid = normalize_message_id(e.message_id)
            if mid:
                idx.by_message[mid].append(e)
            for tok in set(_TOKEN.findall(e.message_id or "")):
                idx.by_token[queue_key(tok)].append(e)
            tx = idx.tx_by_internal.get(internal_key(e.internal_id))
            if tx is not None and tx.queue_id:
                idx.by_token[queue_key(tx.queue_id)].append(e)
                hop = first_pass.get(queue_key(tx.queue_id))
                if hop is not None:  # msgtra names the second Postfix pass; maillog gives the first
                    q = queue_key(hop.queue_id)  # type: ignore[arg-type]
                    idx.by_token[q].append(e)
                    idx.mail_evidence.setdefault((id(e), q), hop)
            for m in queues_of_message.get(mid or "", []):
                q = queue_key(m.queue_id)  # type: ignore[arg-type]
                idx.by_token[q].append(e)
                idx.mail_evidence.setdefault((id(e), q), m)
        return idx

    def named(self, trace: SpoofTrace, queues: Sequence[tuple[int, str]] | None = None) -> Named:
        """What msgtra and maillog say the trace's message is, from the queue IDs of its Received headers
        (``queues``: :func:`_queue_ids` of it, when at hand): the internal IDs msgtra gives them (internal_key), the
        Message-IDs maillog gives them (normalised); empty: not known."""
        if not self.internal_by_queue and not self.message_of_queue:  # neither msgtra.imss nor maillog given
            return UNNAMED
        internal: set[str] = set()
        message: set[str] = set()
        for _, q in (_queue_ids(trace) if queues is None else queues):
            k = queue_key(q)
            internal |= self.internal_by_queue.get(k, set())
            message.update(self._messages(k))
        return Named(frozenset(internal), frozenset(message)) if internal or message else UNNAMED

    def _add_message(self, queue: str, mid: str) -> None:
        if self.message_of_queue.setdefault(queue, mid) != mid:
            self.more_messages[queue].add(mid)

    def _messages(self, queue: str) -> list[str]:
        """The Message-IDs maillog or msgtra gives ``queue`` (queue_key)."""
        first = self.message_of_queue.get(queue)
        return [] if first is None else [first, *self.more_messages.get(queue, ())]

    def drop_lookups(self) -> None:
        """Let go of the lookups only :func:`_candidates` reads (a big correlation's are megabytes; the
        evidence sentences made later read the transactions and maillog evidence only)."""
        self.by_internal, self.by_message, self.by_token = defaultdict(list), defaultdict(list), defaultdict(list)


def _queue_ids(trace: SpoofTrace) -> list[tuple[int, str]]:
    out = []
    for i, h in enumerate(trace.header_texts, 1):
        for q in parse_received(h).queue_ids:
            if len(q) >= 6:
                out.append((i, q))
    return out


def _action_compatible(session: ScanSession, event: PolicyEvent) -> bool:
    mine = {FINAL_ACTIONS.get(a) for a in session.final_actions} - {None}
    if not mine or not event.actions:
        return True
    return bool(mine & set(event.actions))


def _time_may_link(session: ScanSession, trace: SpoofTrace, event: PolicyEvent, named: Named = UNNAMED) -> bool:
    """Whether time alone may pair a trace with a spoof policy event: its filter fired, or the log does not say
    (a 'Not triggered' evaluation makes no spoof event: an ID may still tie it to one, time never does), and its
    scan's final actions fit the event's, and its scan names no other message (:func:`.unpaired.may_be`: a
    'Scan finished for' internal ID or a Message-ID other than the event's, or a queue ID msgtra gives another
    internal ID or maillog another Message-ID: ``named``, :meth:`_Index.named`)."""
    return trace.triggered is not False and _action_compatible(session, event) and may_be(session, event, named)


#: what one piece of evidence holds beyond its basis, put into words only for the rows that show it
#: (:func:`_why_text`): the Received header's number and the queue ID for ``queue_id``, else None (the trace
#: and the event say the rest). A big correlation has tens of thousands of pieces; few are ever shown.
Why = tuple[int, str] | None
#: (basis, None): one tuple for all the evidence that holds nothing more
_PLAIN: dict[Basis, tuple[Basis, Why]] = {b: (b, None) for b in BASES}


def _candidates(
    session: ScanSession, trace: SpoofTrace, idx: _Index, window: timedelta
) -> dict[int, tuple[PolicyEvent, list[tuple[Basis, Why]]]]:
    """Candidate events (by id()) with their evidence: each basis once, with what it rests on (:func:`_why_text`
    says it), in the order found."""
    found: dict[int, tuple[PolicyEvent, list[tuple[Basis, Why]]]] = {}

    def add(e: PolicyEvent, basis: Basis, why: Why = None) -> None:
        if not is_spoof_event(e):
            return
        evidence = found.setdefault(id(e), (e, []))[1]
        if all(b != basis for b, _ in evidence):
            evidence.append(_PLAIN[basis] if why is None else (basis, why))

    if session.internal_id:
        for e in idx.by_internal.get(internal_key(session.internal_id), []):
            add(e, "internal_id")
    mid = normalize_message_id(session.message_id)
    if mid:
        for e in idx.by_message.get(mid, []):
            add(e, "message_id")
    queues = _queue_ids(trace)
    for hi, q in queues:
        for e in idx.by_token.get(queue_key(q), []):
            add(e, "queue_id", (hi, q))
    t = trace.time
    ts, w = t.timestamp(), window.total_seconds()  # in seconds: t - window could leave datetime's range
    lo = bisect_left(idx.spoof_times, ts - w)
    hi = bisect_right(idx.spoof_times, ts + w)
    if lo < hi:
        named = idx.named(trace, queues)
        for e in idx.spoof_by_time[lo:hi]:
            if _time_may_link(session, trace, e, named):
                add(e, "time")
    return found


def _why_text(basis: Basis, why: Why, session: ScanSession, trace: SpoofTrace, e: PolicyEvent, idx: _Index) -> str:
    """The evidence sentence of one piece of evidence between a trace and a policy event."""
    if basis == "internal_id":
        return f"'Scan finished for {session.internal_id}' is the policy event's internal ID"
    if basis == "message_id":
        return f"the scan's Message-ID {session.message_id} is the policy event's Message-ID"
    if basis == "queue_id":
        assert why is not None
        hi, q = why
        return f"Postfix queue ID {q} from Received header {hi} is {_queue_where(q, e, idx)}"
    delta = abs((e.time - trace.time).total_seconds())
    return "same second" if delta < 1 else f"{delta:.0f} s apart"


def _queue_where(q: str, e: PolicyEvent, idx: _Index) -> str:
    """Where the queue ID ``q`` ties to policy event ``e``: its Message-ID, msgtra, or maillog."""
    k = queue_key(q)
    tx = idx.tx_by_internal.get(internal_key(e.internal_id))
    mail = idx.mail_evidence.get((id(e), k))
    if k in {queue_key(tok) for tok in _TOKEN.findall(e.message_id or "")}:
        return "in the policy event's Message-ID"
    if tx is not None and queue_key(tx.queue_id or "") == k:
        return f"msgtra's queue ID for {e.internal_id} ({tx.source.ref()})"
    if mail is not None and mail.shape == "delivery":
        return (
            f"the first Postfix pass of msgtra's queue ID {mail.queued_as} for {e.internal_id} "
            f"(maillog: {q} ... queued as {mail.queued_as}, {mail.source.ref()})"
        )
    if mail is not None:
        return f"the Postfix queue that maillog gives the policy event's Message-ID ({mail.source.ref()})"
    return "tied to the policy event"  # pragma: no cover - by_token is only filled from the three sources above


#: how far outside the span of the files read a time still counts as in it (their first and last lines are not
#: their whole time)
SPAN_SLACK = timedelta(seconds=5)


def _near_span(t: datetime, span: tuple[datetime, datetime], slack: timedelta = SPAN_SLACK) -> bool:
    """``t`` within ``span`` give or take ``slack`` (differences only: safe at year 1 and 9999)."""
    return span[0] - t <= slack and t - span[1] <= slack


def _span(times: list[datetime]) -> tuple[datetime, datetime] | None:
    return (min(times), max(times)) if times else None


#: how far from a policy event an AntiSpoofFilter line still shows the scanner's log level then
DEBUG_NEARBY = timedelta(minutes=15)


def _debug_marks(sessions: Sequence[ScanSession]) -> list[tuple[datetime, str]]:
    """Every AntiSpoofFilter trace's first line as (time, 'file:line'), sorted: evidence of debug level."""
    marks = [m for s in sessions for t in s.spoof_traces if (m := t.first_line) is not None]
    return sorted(marks)


def _nearest_debug(t: datetime, marks: Sequence[tuple[datetime, str]]) -> tuple[datetime, str] | None:
    i = bisect_left(marks, (t, ""))
    near = [m for m in marks[max(0, i - 1): i + 1] if abs(m[0] - t) <= DEBUG_NEARBY]
    return min(near, key=lambda m: abs(m[0] - t)) if near else None


def _named_scan(e: PolicyEvent, sx: ScanIndex) -> ScanRef | None:
    """The line of log.imss that names the event's internal ID or Message-ID, if any."""
    mid = normalize_message_id(e.message_id)
    return sx.by_internal.get(internal_key(e.internal_id)) or (sx.by_message.get(mid) if mid else None)


def _why_no_trace(e: PolicyEvent, sx: ScanIndex, marks: Sequence[tuple[datetime, str]] = (),
                  near: Callable[[PolicyEvent], str | None] | None = None, hole: Hole | None = None,
                  unread: dict[ScanRef, str] | None = None, ended: dict[ScanRef, str] | None = None) -> str:
    """The evidence for why a spoof policy event has no AntiSpoofFilter trace. ``near(e)``: what is known of the
    scans without policy event nearest to it (:mod:`.unpaired`), None when there are none: then no scan it may be
    is near, and the log level says the rest.  ``unread``: the lines naming a scan begun before the lines read, with
    why (:func:`~imsvalog.correlation.scan.start_unread`); ``ended``: those naming a scan whose lines stop where
    what was read stops, before its end (:func:`~imsvalog.correlation.scan.end_unread`)."""
    mid = normalize_message_id(e.message_id)
    ref = _named_scan(e, sx)
    began = None if ref is None or unread is None else unread.get(ref)
    if ref is not None and began is not None:  # its header lines come before: they may be in what was not read
        return (
            f"its scan is in log.imss (thread {ref.thread}, {ref.file}:{ref.line} names it), but the scan began before "
            f"the lines read ({began}): its AntiSpoofFilter header lines, logged before that line, may be in what was "
            "not read; whether log.imss was at debug level then is not known"
        )
    cut = None if ref is None or ended is None else ended.get(ref)
    if ref is not None and cut is not None:  # its lines stop before its end: the header lines may come after
        return (
            f"its scan is in log.imss (thread {ref.thread}, {ref.file}:{ref.line} names it), but its lines read stop "
            f"before its end, without a Scan finished line ({cut}): its AntiSpoofFilter header lines may be in what "
            "was not read; whether log.imss was at debug level then is not known"
        )
    if ref is not None:
        return (
            f"its scan is in log.imss (thread {ref.thread}, {ref.file}:{ref.line} names it) but has "
            "no AntiSpoofFilter header lines: log.imss was not at debug level when it was scanned"
        )
    span = sx.span
    if span is None:
        return "no log.imss scan sessions were read at all"
    names = f"its internal ID {e.internal_id}" + (f" or its Message-ID {e.message_id}" if mid else "")
    scans = near(e) if near is not None else None
    if hole is not None and isinstance(hole.gap, Unread):  # past the lines read too: the unread rest may hold it
        return (f"no line of the log.imss files given names {names}, and {hole.words()}: its scan may be "
                f"{_in_what(hole)}" + (f"; {scans}" if scans is not None else ""))
    if not _near_span(e.time, span):
        return (
            f"the log.imss files read cover {span[0].isoformat(sep=' ')} to {span[1].isoformat(sep=' ')}; "
            "this event is outside that span: add the log.imss file of that time"
        )
    if hole is not None:  # a rotated log.imss file of its time was left out: its scan may be there
        return (f"no line of the log.imss files given names {names}, and {hole.words()}: its scan may be "
                f"{_in_it(hole) if isinstance(hole.gap, Unread) or not hole.gap.given else _in_what(hole)}"
                + (f"; {scans}" if scans is not None else ""))
    if scans is not None:  # a scan without policy event is near: it may be its scan (the logs cannot tell)
        return f"log.imss covers its time but no line names {names}; {scans}"
    debug = _nearest_debug(e.time, marks)
    if debug is not None:
        secs = (debug[0] - e.time).total_seconds()
        when = "the same second" if abs(secs) < 1 else f"{abs(secs):.0f} s {'later' if secs > 0 else 'earlier'}"
        return (
            f"log.imss covers its time but holds no scan of it at all (no line names {names}), although the "
            f"scanner was logging at debug level then (AntiSpoofFilter lines at {debug[1]}, {when}): "
            "its scan is not in the log.imss files given"
        )
    return (
        f"log.imss covers its time but holds no scan of it (no line names {names}) and no AntiSpoofFilter "
        f"line within {DEBUG_NEARBY.seconds // 60} min of it: log.imss was probably not at debug level then"
    )


#: at most this many traces and events are looked at to tell what a wider --time-window would link (else not said)
AT_WINDOW_LIMIT = 400


def _decided_at(
    pairs: Sequence[tuple[ScanSession, SpoofTrace]], spoof_events: Sequence[PolicyEvent],
    whys: dict[tuple[int, int], list[tuple[Basis, Why]]],
    named: Callable[[int], Named] = lambda ti: UNNAMED,
) -> Callable[[int, int, float], LinkDecision[int, int] | None]:
    """``at(ti, ei, n)``: decide_links over the traces and events connected to trace ``ti`` and event ``ei`` by
    evidence at ``--time-window n`` (the same evidence as correlate's, time evidence made at ``n``): what correlate
    run at that window decides for them (decide_links decides each connected group of evidence on its own). None
    when the group holds more than :data:`AT_WINDOW_LIMIT` traces and events. ``named(ti)``: what msgtra and maillog
    say trace ``ti``'s message is (:meth:`_Index.named`)."""
    ev = sorted((e.time.timestamp(), ei) for ei, e in enumerate(spoof_events))
    ev_ts = [x for x, _ in ev]
    tr = sorted((t.time.timestamp(), ti) for ti, (_, t) in enumerate(pairs))
    tr_ts = [x for x, _ in tr]
    by_trace: dict[int, list[int]] = defaultdict(list)  # evidence other than time, which the window does not change
    by_event: dict[int, list[int]] = defaultdict(list)
    for (ti, ei), found in whys.items():
        if any(b != "time" for b, _ in found):
            by_trace[ti].append(ei)
            by_event[ei].append(ti)

    def timed(ti: int, n: float) -> list[int]:  # as _candidates finds time evidence
        s, t = pairs[ti]
        ts = t.time.timestamp()
        return [ei for _, ei in ev[bisect_left(ev_ts, ts - n): bisect_right(ev_ts, ts + n)]
                if _time_may_link(s, t, spoof_events[ei], named(ti))]

    def at(ti: int, ei: int, n: float) -> LinkDecision[int, int] | None:
        traces, events, todo = {ti}, {ei}, [(True, ti), (False, ei)]
        while todo:
            is_trace, x = todo.pop()
            if is_trace:
                for o in (*timed(x, n), *by_trace[x]):
                    if o not in events:
                        events.add(o)
                        todo.append((False, o))
            else:
                ts = spoof_events[x].time.timestamp()
                near = tr[bisect_left(tr_ts, ts - n): bisect_right(tr_ts, ts + n)]
                # only the traces time could link to it (as timed() from their side): a busy log's scans that
                # ended in another action are no part of the decision and must not push it past the limit
                for o in (*(tj for _, tj in near if _time_may_link(*pairs[tj], spoof_events[x], named(tj))),
                          *by_event[x]):
                    if o not in traces:
                        traces.add(o)
                        todo.append((True, o))
            if len(traces) + len(events) > AT_WINDOW_LIMIT:
                return None

        def evidence() -> Iterator[Evidence[int, int]]:
            for tj in traces:
                t = pairs[tj][1]
                for ej in by_trace[tj]:
                    for basis, _ in whys[tj, ej]:
                        if basis != "time":
                            yield Evidence(tj, ej, basis)
                for ej in timed(tj, n):
                    yield Evidence(tj, ej, "time", distance=abs((spoof_events[ej].time - t.time).total_seconds()))

        return decide_links(evidence())

    return at


#: the subjects of :func:`_hole_clause`
THIS_EVENTS, THAT_TRACES = "this event's", "that trace's"


def _before(d: timedelta) -> str:
    return "at the time of" if abs(d.total_seconds()) < 1 else f"{d.total_seconds():g} s before"


def _after(d: timedelta) -> str:
    return "at the time of" if abs(d.total_seconds()) < 1 else f"{d.total_seconds():g} s after"


def _in_it(h: Hole) -> str:
    if isinstance(h.gap, Unread):
        return _in_what(h)
    return "in it" if len(h.gap.names) == 1 else "in one of them"


def _in_what(h: Hole) -> str:
    """Where a partner of a time in (or near) a missing rotated file may be: ``there`` (files not given), ``in what
    that rotation held`` (a file given that holds nothing of it), ``in what was not read`` (the unread rest of a file
    cut short)."""
    if isinstance(h.gap, Unread):
        return "in what was not read"
    if not h.gap.given:
        return "there"
    return "in what that rotation held" if len(h.gap.names) == 1 else "in what those rotations held"


def _hole_clause(h: Hole, whose: str) -> str:
    """``that trace's time falls in X, which is not among the files given`` (:meth:`.rotation.Gap.state`)."""
    at = f"{h.how} in" if h.inside else f"is {h.seconds:g} s {h.how} that of"
    return f"{whose} time {at} {h.gap.named()}, which {h.gap.state()}"


def _not_offered(
    e: PolicyEvent, traces: Sequence[SpoofTrace], holes: Holes | None,
    coverage: tuple[datetime, datetime] | None, span: tuple[datetime, datetime] | None,
    late: SpoofTrace | None, early: PolicyEvent | None, opening: str | None = None,
) -> str | None:
    """Why no wider --time-window is offered to pair event ``e`` with its nearest traces without policy event
    (``traces``), or None. A file not given may hold the event's own scan or a trace's own policy
    event, and time alone could then pair two messages:

    * the event's time falls in (or within the window of) a log.imss file missing between two given (its row says
      its scan may be there), or a trace's in a polevt.imss file missing so (:func:`imsvalog.rotation.holes`);
    * a trace is outside the span of the policy events read (its row says 'add the polevt.imss file of that time'),
      but not one before the first policy event read when that event's file is its day's first (``opening``, its
      date: ``.0001``; the first event's own scan comes before it, and no file before can hold that event);
    * a trace at the end of the policy events read (within :data:`SPAN_SLACK` of the last) while IMSVA fired after
      it (``late``: a trace without policy event past that span, so a later polevt.imss file was written): its own
      policy event, logged a few seconds after it, may be past that end, in a file not given. The same for an
      event at the start of the log.imss lines read while policy events were logged before them (``early``): its
      own scan may be in an earlier log.imss file not given."""
    hole = holes("imss", e.time) if holes is not None else None
    if hole is not None:
        return f"{_hole_clause(hole, THIS_EVENTS)}: its own scan may be {_in_what(hole)}"
    if span is not None and early is not None and e.time - span[0] <= SPAN_SLACK:
        return (f"this event is {_after(e.time - span[0])} the first log.imss line read ({span[0].isoformat(sep=' ')}), "
                f"and policy events were logged before that (policy event {early.internal_id} at "
                f"{early.time.isoformat(sep=' ')}): its own scan may be in an earlier log.imss file not given")
    for t in traces:
        hole = holes("polevt", t.time) if holes is not None and coverage is not None else None
        if hole is not None and (isinstance(hole.gap, Unread) or _near_span(t.time, coverage)):  # type: ignore[arg-type]
            return f"{_hole_clause(hole, THAT_TRACES)}: its own policy event may be {_in_what(hole)}"
        if coverage is None:
            continue
        if not _near_span(t.time, coverage) and not (t.time < coverage[0] and opening is not None
                                                     and t.time.astimezone(coverage[0].tzinfo).strftime("%Y%m%d") == opening):
            # (a trace before the first policy event of a day whose first polevt.imss file is given: no file before
            # it can hold its event, attack s23g)
            return (f"that trace is outside the span of the policy events read ({coverage[0].isoformat(sep=' ')} to "
                    f"{coverage[1].isoformat(sep=' ')}): its own policy event may be in a polevt.imss file of its time "
                    "not given")
        if late is not None and coverage[1] - t.time <= SPAN_SLACK:
            return (f"that trace is {_before(coverage[1] - t.time)} the last policy event read "
                    f"({coverage[1].isoformat(sep=' ')}), and IMSVA fired after that with no policy event read (the "
                    f"trace at {late.time.isoformat(sep=' ')}): its own policy event may have been logged after it, "
                    "in a later polevt.imss file not given")
    return None


def _beyond_the_files(
    unpaired: Sequence[SpoofTrace], spoof_events: Sequence[PolicyEvent], span: tuple[datetime, datetime] | None,
    coverage: tuple[datetime, datetime] | None,
) -> tuple[SpoofTrace | None, PolicyEvent | None]:
    """The first trace without policy event where IMSVA fired after the last policy event read (``coverage``: so a
    later polevt.imss file was written), and the last spoof policy event logged before the first log.imss line read
    (``span``: so an earlier log.imss file was written): either file is not given.  None where there is none."""
    late = min((t for t in unpaired if t.triggered is True and coverage is not None and t.time > coverage[1]
                and not _near_span(t.time, coverage)), key=lambda t: t.time, default=None)
    early = max((x for x in spoof_events if span is not None and x.time < span[0] and not _near_span(x.time, span)),
                key=lambda x: x.time, default=None)
    return late, early


def _doubt_time_only(rows: Sequence[Row], spoof_events: Sequence[PolicyEvent], span: tuple[datetime, datetime] | None,
                     coverage: tuple[datetime, datetime] | None, holes: Holes | None, opening: str | None) -> None:
    """A link by time alone where :func:`_not_offered` would withhold the --time-window hint (the trace's own policy
    event, or the event's own scan, may be in a file not given): the link stands, as the window asked, and its
    detail says the doubt."""
    late, early = _beyond_the_files(
        [r.trace for r in rows if r.status == "trace-without-event" and r.trace is not None], spoof_events, span, coverage)
    for row in rows:
        if row.status == "linked" and row.link is not None and row.link.basis == ["time"] and row.trace is not None \
                and row.event is not None:
            why = _not_offered(row.event, [row.trace], holes, coverage, span, late, early, opening)
            if why is not None:
                row.link.detail += f"; linked by time only, though {why} (the two may be two messages)"


_FIRST_OF_DAY = re.compile(r"polevt\.imss\.(\d{8})\.0*1(?:\.gz)?")


def _opening(events: Sequence[PolicyEvent]) -> str | None:
    """The date (``YYYYMMDD``) of the first policy event read when its file is its day's first rotation (``.0001``:
    no polevt.imss file of that day comes before it), else None."""
    if not events:
        return None
    first = min(events, key=lambda e: e.time)
    m = _FIRST_OF_DAY.fullmatch(re.split(r"[/\\!]", first.source.file)[-1])
    return m[1] if m else None


def _near_unpaired(
    events: list[PolicyEvent], sx: ScanIndex, pairs: Sequence[tuple[ScanSession, SpoofTrace]],
    decision: LinkDecision[int, int], window: timedelta, spoof_events: Sequence[PolicyEvent],
    whys: dict[tuple[int, int], list[tuple[Basis, Why]]],
    named: Callable[[int], Named] = lambda ti: UNNAMED,
    holes: Holes | None = None,
    coverage: tuple[datetime, datetime] | None = None,
    opening: str | None = None,
) -> tuple[Callable[[PolicyEvent], str | None], Callable[[SpoofTrace], str | None]]:
    """For the events left without trace that no line of log.imss names, what is known of the scans without
    policy event nearest to each, decided over all of them at once (:func:`.unpaired.nearest_unpaired`); and for
    each such scan, the events it is nearest to (:func:`.unpaired.trace_words`). A wider ``--time-window`` is
    offered only when decide_links over the same evidence at that window links the two (``spoof_events``, the
    events ``decision`` numbers, and ``whys``, the evidence at ``window``: :func:`_decided_at`). ``named(ti)``: what
    msgtra and maillog say trace ``ti``'s message is (a trace they give another message is not this event's).
    ``holes``: as :func:`link_rows` has it; ``coverage``: the span of the policy events read. No wider window is
    offered when a file not given may hold the event's own scan or the trace's own policy event (time alone would
    then pair what may be two messages, attacks s22f, s23c): :func:`_not_offered`."""
    span = sx.span
    mine = [e for e in events if span is not None and _named_scan(e, sx) is None and _near_span(e.time, span)]
    kept = [ti for ti in range(len(pairs)) if ti not in decision.links and ti not in decision.ambiguous] \
        if mine else []
    unpaired = [pairs[ti] for ti in kept]
    found = nearest_unpaired(mine, unpaired, named=lambda si: named(kept[si]))
    at = {id(e): i for i, e in enumerate(mine)}
    times = sorted((t.time.timestamp(), ti) for ti, (_, t) in enumerate(pairs)) if mine else []
    stamps = [x for x, _ in times]
    w = window.total_seconds()
    event_no = {id(e): i for i, e in enumerate(spoof_events)}
    decided = _decided_at(pairs, spoof_events, whys, named) if found.nearest else None

    def within(e: PolicyEvent) -> tuple[str, int]:
        """The traces within the window that time did not pair with the event, and why each did not; and how
        many of them name no other message (each may be this message's scan, the logs cannot tell)."""
        ts = e.time.timestamp()
        inside = [ti for _, ti in times[bisect_left(stamps, ts - w): bisect_right(stamps, ts + w)]]
        head = f"correlate's time window ({window.total_seconds():g} s) of it"
        free = [ti for ti in inside if ti not in decision.links and ti not in decision.ambiguous]
        if not inside or not free:
            return f"no AntiSpoofFilter trace {'without a policy event ' if inside else ''}is within {head}", 0
        said: list[str] = []
        unnamed = 0
        for ti in free:
            s, t = pairs[ti]
            if not may_be(s, e, named(ti)):
                why = ("its scan names another message's internal ID" if not same_internal(s, e)
                       else "msgtra gives its queue ID another message's internal ID" if not same_msgtra(named(ti), e)
                       else "maillog or msgtra gives its queue ID another message's Message-ID"
                       if not same_maillog(named(ti), e)
                       else "its scan names another message's Message-ID")
            else:
                unnamed += 1
                why = ("its filter did not fire ('Not triggered')" if t.triggered is False else
                       _actions(s, e) if not _action_compatible(s, e) else "correlate did not pair them")
            if len(said) < 3:
                said.append(f"{_scan(s, t)}, {_when((t.time - e.time).total_seconds())}: {why}")
        more = len(free) - len(said)
        return (f"no AntiSpoofFilter trace within {head} fits it by time: " + "; ".join(said)
                + (f"; and {more} more" if more else "")
                + ("; the others there have a policy event" if len(inside) > len(free) else "")), unnamed

    def none_within(e: PolicyEvent) -> str:
        return within(e)[0]

    def at_window(si: int, ei: int, n: int) -> str | None:
        """None when correlate at --time-window n links scan si to event ei; else what it would do."""
        e = mine[ei]
        ti, ej = kept[si], event_no.get(id(e))
        d = decided(ti, ej, float(n)) if decided is not None and ej is not None else None
        if d is None:
            return (f"with --time-window {n} time alone fits them, but more than {AT_WINDOW_LIMIT} traces and policy "
                    "events would be weighed together at that window: too many to tell here what correlate would then "
                    "pair")
        if d.links.get(ti, (None,))[0] == ej:
            return None
        if ti in d.links:
            other = spoof_events[d.links[ti][0]]
            apart = abs((other.time - pairs[ti][1].time).total_seconds())
            return (f"with --time-window {n} correlate would link that trace to policy event {other.internal_id} "
                    f"instead ({'the same second' if apart < 1 else f'{apart:.0f} s'} from it)")
        if ti in d.ambiguous:
            return (f"with --time-window {n} that trace would be ambiguous: it fits "
                    f"{len(d.ambiguous[ti].events)} policy events, none uniquely")
        mine_t = [tj for tj, (x, _) in d.links.items() if x == ej]
        if mine_t:
            s, t = pairs[mine_t[0]]
            return f"with --time-window {n} correlate would link this event to thread {s.thread} at " \
                f"{t.time.isoformat(sep=' ')} instead"
        return f"with --time-window {n} correlate would still not pair them"

    def words(e: PolicyEvent) -> str | None:
        ei = at.get(id(e))
        if ei is None:
            return None
        if ei not in found.nearest:
            # no scan that fired is near; one within the window that names no other message may still be this
            # message's scan (its filter did not fire, or it ended in another action): never "no scan of it"
            said, unnamed = within(e)
            if not unnamed:
                return None
            return said + (f"; the logs do not tell whether {'it is' if unnamed == 1 else 'one of them is'} this "
                           "message's scan")
        return near_words(ei, found, window, none_within(e), _action_compatible, at_window, no_window(e, ei))

    late, early = _beyond_the_files([t for _, t in unpaired], spoof_events, span, coverage)

    def no_window(e: PolicyEvent, ei: int) -> str | None:
        return _not_offered(e, [unpaired[si][1] for si in found.nearest[ei].scans], holes, coverage, span, late, early,
                            opening)

    scan_at = {id(t): si for si, (_, t) in enumerate(unpaired)}

    def events_near(t: SpoofTrace) -> str | None:
        si = scan_at.get(id(t))
        return trace_words(si, found) if si is not None else None

    return words, events_near


#: how a trace's note begins when the policy events read span its time, what it says when they do not, and when
#: none were read (the one-line summary, :func:`imsvalog.sentence.row_sentence`, says it from these). The events'
#: span is what is known of the files' time: a file may begin before its first event, a rotated file between two
#: may be missing, so it is said as the events' span, not as the files' coverage
NO_EVENT_COVERED = "the policy events read span its time, but no spoof event among them fits it"
NO_EVENT_OUTSIDE = "this trace is outside that span: add the polevt.imss file of that time if there is one"
NO_EVENTS_READ = "no polevt.imss policy events were read at all: add the polevt.imss files"
#: how a trace's note begins when its time falls in a rotated polevt.imss file left out (:mod:`imsvalog.rotation`)
NO_EVENT_IN_GAP = "its policy event may be in a rotated polevt.imss file left out"
#: how it begins when its time falls in the unread rest of a polevt.imss file cut short (a :class:`.Unread` hole):
#: ``its time (may) fall(s) in what could not be read of X (...)``, then :data:`NO_EVENT_UNREAD_END`
NO_EVENT_UNREAD = "its time "
NO_EVENT_UNREAD_END = "its policy event may be in what was not read"


def _why_no_event(t: datetime, coverage: tuple[datetime, datetime] | None, near: str | None = None,
                  hole: Hole | None = None) -> str:
    """Why a trace whose filter fired has no policy event; ``near``: the events without trace it is the nearest
    trace of (:func:`.unpaired.trace_words`), said whether or not polevt.imss covers its time."""
    if hole is not None and isinstance(hole.gap, Unread):  # the file of its time was given: its rest was not read
        return f"{hole.words()}: {NO_EVENT_UNREAD_END}" + (f"; {near}" if near else "")
    if coverage is None:
        return NO_EVENTS_READ
    if hole is not None and _near_span(t, coverage):  # a polevt.imss file left out
        return f"{NO_EVENT_IN_GAP}: {hole.words()}" + (f"; {near}" if near else "")
    if not _near_span(t, coverage):
        return (
            f"the policy events read span {coverage[0].isoformat(sep=' ')} to {coverage[1].isoformat(sep=' ')}; "
            + NO_EVENT_OUTSIDE
        ) + (f"; {near}" if near else "")
    return NO_EVENT_COVERED + (f"; {near}" if near else "")


def link_rows(
    sessions: list[ScanSession],
    events: list[PolicyEvent],
    transactions: list[Transaction],
    window: timedelta,
    mail: Sequence[MailLogEntry] = (),
    scans: ScanIndex | None = None,
    find: Callable[[set[str], set[str]], None] | None = None,
    holes: Holes | None = None,
    starts: Callable[[list[ScanRef]], dict[ScanRef, str]] | None = None,
    ends: Callable[[list[ScanRef]], dict[ScanRef, str]] | None = None,
) -> list[Row]:
    """Rows from sessions and events, linked by :func:`decide_links` over all of them at once.

    ``scans`` indexes every scan (default: built from ``sessions``). ``find(internal_ids,
    message_ids)``, when given, completes ``scans`` with every line that names one of the IDs
    (normalised Message-IDs) of the policy events left without a trace, before they are
    explained: an index built from some of the scans (those parsed in full) may lack the
    earliest line that names such an event (e.g. a message scanned twice), which is the one
    the explanation cites. ``holes(kind, t)``, when given, says when time ``t`` falls in a rotated file of that
    kind left out between two given ones (:func:`imsvalog.rotation.holes`, a :class:`~imsvalog.rotation.Hole`): a
    row without partner of that time says so rather than that the files read span it.  ``starts(refs)``, when given,
    tells which of the lines that name such an event's scan name one begun before the lines read
    (:func:`~imsvalog.correlation.scan.start_unread`): its lack of header lines then says nothing of the log level;
    ``ends(refs)`` the same of a scan whose lines stop before its end, where what was read of its file stops
    (:func:`~imsvalog.correlation.scan.end_unread`: a gzip cut short, a file the next given does not continue).
    """
    idx = _Index.build(events, transactions, mail)
    spoof_events = [e for e in events if is_spoof_event(e)]
    pairs = [(s, t) for s in sessions for t in s.spoof_traces]
    event_no = {id(e): i for i, e in enumerate(spoof_events)}
    whys: dict[tuple[int, int], list[tuple[Basis, Why]]] = defaultdict(list)
    for ti, (s, t) in enumerate(pairs):
        for e, found in _candidates(s, t, idx, window).values():
            whys[ti, event_no[id(e)]] = found  # each event once per trace
    idx.drop_lookups()

    @cache
    def named_of(ti: int) -> Named:
        """What msgtra and maillog say trace ``ti``'s message is (asked for the traces near events left unpaired)."""
        return idx.named(pairs[ti][1])

    def evidence() -> Iterator[Evidence[int, int]]:
        """Each piece of evidence as decide_links reads it (made one at a time: it keeps only the pairs)."""
        for (ti, ei), found in whys.items():
            for basis, _ in found:
                apart = abs((spoof_events[ei].time - pairs[ti][1].time).total_seconds()) if basis == "time" else None
                yield Evidence(ti, ei, basis, distance=apart)  # decide_links reads no sentence: none is made

    decision = decide_links(evidence())
    trace_of_event = {ei: ti for ti, (ei, _) in decision.links.items()}

    same_name: dict[tuple[str, datetime], int] = defaultdict(int)
    for s, t in pairs:
        same_name[s.thread, t.time] += 1

    def trace_name(ti: int) -> str:
        """A trace in words; two traces of one thread in one second are told apart by their first line."""
        s, t = pairs[ti]
        name = f"thread {s.thread} at {t.time.isoformat(sep=' ')}"
        if same_name[s.thread, t.time] > 1 and (first := t.first_line) is not None:
            name += f" ({first[1]})"
        return name

    def short_name(ti: int) -> str:
        return f"{pairs[ti][0].thread} {pairs[ti][1].time:%H:%M:%S}"

    def seconds(ti: int, ei: int) -> float:
        return abs((spoof_events[ei].time - pairs[ti][1].time).total_seconds())

    def seconds_apart(ti: int, ei: int) -> str:
        d = seconds(ti, ei)
        return "0 s" if d < 1 else f"{d:.0f} s"

    def bases_of(ti: int, ei: int) -> list[Basis]:
        return sorted({b for b, _ in whys[ti, ei]}, key=BASES.index)

    def tie_words(wt: int) -> str:
        """What settled a link chosen among tied candidates: how many tied, at which basis, broken by what."""
        n_traces, n_events = decision.tied[wt]
        among = " and ".join(
            ([_count(n_traces, "scan")] if n_traces > 1 else []) + ([_count(n_events, "policy event")] if n_events > 1 else [])
        )
        stage = decision.stage[wt]
        broken = decision.broken_by[wt]
        return f"a tie among {among} at {_WORDS[stage]} ({CONFIDENCE[stage]}), broken by " + (
            f"{_WORDS[broken]}" if broken != "distance" else "time distance"  # type: ignore[index]
        )

    def lost(ti: int, ei: int, wt: int, we: int) -> str:
        """Why trace ``ti`` and event ``ei`` (evidence between them) are not linked: trace ``wt`` got event ``we``
        (one of the two is the same on either side: a trace that lost its event, or an event that lost its trace)."""
        mine = bases_of(ti, ei)
        stage = decision.stage[wt]
        if BASES.index(stage) < BASES.index(mine[0]) and CONFIDENCE[stage] == CONFIDENCE[mine[0]]:
            return (  # the same tier: the internal ID is settled first, not "stronger"
                f"by {_WORDS[stage]}, which is settled before {_WORDS[mine[0]]} within the {CONFIDENCE[stage]} tier "
                f"(a Message-ID is shared by every scan of a message split by recipient)"
            )
        if BASES.index(stage) < BASES.index(mine[0]):
            return (
                f"by stronger evidence: {_WORDS[stage]} ({CONFIDENCE[stage]}) outranks "
                f"{', '.join(_WORDS[b] for b in mine)} ({CONFIDENCE[mine[0]]})"
            )
        if wt not in decision.broken_by:  # not reached by decide_links (a same-basis rival means a tie); said plainly
            return f"at the same basis, {_WORDS[stage]} ({CONFIDENCE[stage]})"
        words = "after " + tie_words(wt)
        if decision.broken_by[wt] == "distance":
            return f"{words}: that pair is {seconds_apart(wt, we)} apart, this one {seconds_apart(ti, ei)}"
        broken = decision.broken_by[wt]
        return f"{words}: only that pair also fits by {_WORDS[broken]}"  # type: ignore[index]

    rows: list[Row] = []
    #: trace rows whose matching event went to another trace (or is contested): "holds no matching event" is false
    fitted: set[int] = set()
    fits_event: dict[int, list[int]] = defaultdict(list)
    for ti, ei in whys:
        fits_event[ei].append(ti)
    for ti, (s, t) in enumerate(pairs):
        if ti in decision.links:
            ei, tier = decision.links[ti]
            e = spoof_events[ei]
            evidence_of_pair = sorted(whys[ti, ei], key=lambda p: BASES.index(p[0]))
            detail = "; ".join(_why_text(b, w, s, t, e, idx) for b, w in evidence_of_pair)
            broken = decision.broken_by.get(ti)
            if broken is not None:
                detail += f"; chosen from {tie_words(ti)}: " + (
                    f"the only pair that also fits by {_WORDS[broken]}"  # type: ignore[index]
                    if broken != "distance" else "the closest in time, and this scan is the closest to it"
                )
            link = Link([b for b, _ in evidence_of_pair], tier, detail)
            row = Row(s, t, e, link, "linked", transaction=idx.tx_by_internal.get(internal_key(e.internal_id)))
            # a scan that fits this event by stronger evidence than the link's own, but went to another event: say so
            for tj in sorted(fits_event[ei]):
                if tj == ti or tj not in decision.links or BASES.index(bases_of(tj, ei)[0]) >= BASES.index(decision.stage[ti]):
                    continue
                we = decision.links[tj][0]
                row.notes.append(
                    f"{trace_name(tj)} also fits this policy event, by {', '.join(_WORDS[b] for b in bases_of(tj, ei))}, "
                    f"but is linked to policy event {spoof_events[we].internal_id} {lost(tj, ei, tj, we)}"
                )
            rows.append(row)
        elif ti in decision.ambiguous:
            amb = decision.ambiguous[ti]
            ids = [spoof_events[ei].internal_id for ei in amb.events]
            how = amb.basis
            if len(ids) > 1:
                named = [
                    spoof_events[ei].internal_id
                    + "".join(f" ({_why_text(b, w, s, t, spoof_events[ei], idx)})"
                              for b, w in whys[ti, ei] if b == "time" and how == "time")
                    for ei in amb.events
                ]
                detail = f"{len(ids)} policy events fit it by {how} ({amb.tier}), none uniquely: " + ", ".join(named)
            else:
                detail = f"{how} ({amb.tier}) points at policy event {ids[0]} only"
            if amb.rivals:
                detail += "; " + ("it also fits " if len(ids) == 1 else "they also fit ") + "; ".join(
                    trace_name(r) for r in amb.rivals
                )
            link = Link([], "ambiguous", detail, ids, how, [seconds(ti, ei) for ei in amb.events] if how == "time" else [],
                        [short_name(r) for r in amb.rivals])
            rows.append(Row(s, t, None, link, "ambiguous"))
        else:
            row = Row(s, t, None, None, "trace-without-event")
            if decision.taken.get(ti):
                fitted.add(id(row))
            for ei in decision.taken.get(ti, ()):
                e = spoof_events[ei]
                other = trace_of_event.get(ei)
                if other is not None:
                    by = f"linked to {trace_name(other)} {lost(ti, ei, other, ei)}"
                else:  # an ambiguous trace claims it by stronger evidence (decide_links keeps it from weaker links)
                    by = "contested by stronger evidence: " + "; ".join(
                        f"{trace_name(r)} fits it by {_WORDS[decision.ambiguous[r].basis]} "
                        f"({decision.ambiguous[r].tier}) but also fits other policy events"
                        for r in decision.contested.get(ei, ()) if r in decision.ambiguous
                    )
                if other is not None:
                    row.linked_elsewhere.append(e.internal_id)
                mine = ", ".join(_WORDS[b] for b in bases_of(ti, ei))
                row.notes.append(f"policy event {e.internal_id} fits it by {mine}, but is {by}")
            rows.append(row)
    sx = scans if scans is not None else ScanIndex.of(sessions)
    #: event rows that are explained by what log.imss holds of their scan (after ``find``)
    unexplained: list[tuple[Row, PolicyEvent]] = []
    #: a trace without event -> the events without trace it is the nearest trace of, in words (:mod:`.unpaired`)
    events_near: Callable[[SpoofTrace], str | None] = lambda t: None  # noqa: E731

    for ei, e in enumerate(spoof_events):
        tx = idx.tx_by_internal.get(internal_key(e.internal_id))
        if ei in decision.contested:
            rivals = decision.contested[ei]
            tied = {decision.ambiguous[r].basis for r in rivals if r in decision.ambiguous}
            at = tied.pop() if len(tied) == 1 else None
            others: list[str] = []
            if len(rivals) > 1:
                detail = f"fits {len(rivals)} AntiSpoofFilter traces, none uniquely: " + "; ".join(
                    trace_name(r) + (f" ({seconds_apart(r, ei)} apart)" if at == "time" else "") for r in rivals
                )
            else:
                (rival,) = rivals
                others = [spoof_events[x].internal_id for x in decision.ambiguous[rival].events if x != ei] \
                    if rival in decision.ambiguous else []
                detail = f"fits only {trace_name(rival)}, but that trace fits other policy events as well" + (
                    ": " + ", ".join(others) if others else ""
                )
            names = [short_name(ti) for ti in rivals]
            link = Link([], "ambiguous", detail, names, at, [seconds(ti, ei) for ti in rivals] if at == "time" else [], others)
            rows.append(Row(None, None, e, link, "ambiguous", transaction=tx))
        elif ei not in trace_of_event:
            row = Row(None, None, e, None, "event-without-trace", transaction=tx)
            # scans with evidence for this event that were linked to another event: say so, by name
            went = sorted(ti for ti in fits_event.get(ei, ()) if ti in decision.links)
            for ti in went:
                we = decision.links[ti][0]
                row.linked_elsewhere.append(trace_name(ti))
                row.notes.append(
                    f"{trace_name(ti)} fits it by {', '.join(_WORDS[b] for b in bases_of(ti, ei))}, but is linked to policy event "
                    f"{spoof_events[we].internal_id} {lost(ti, ei, ti, we)}"
                )
            if not went:
                unexplained.append((row, e))
            rows.append(row)
    if unexplained:
        if find is not None:
            find({k for _, e in unexplained if (k := internal_key(e.internal_id))},
                 {m for _, e in unexplained if (m := normalize_message_id(e.message_id))})
        marks = _debug_marks(sessions)
        near, events_near = _near_unpaired([e for _, e in unexplained], sx, pairs, decision, window, spoof_events,
                                           whys, named_of, holes, _span([e.time for e in events]), _opening(events))
        refs = [ref for _, e in unexplained if (ref := _named_scan(e, sx)) is not None]
        unread = starts(refs) if starts is not None and refs else None
        ended = ends([r for r in refs if unread is None or r not in unread]) if ends is not None and refs else None
        for row, e in unexplained:
            row.notes.append(_why_no_trace(e, sx, marks, near, holes("imss", e.time) if holes else None, unread, ended))
    coverage = _span([e.time for e in events])
    _doubt_time_only(rows, spoof_events, sx.span, coverage, holes, _opening(events))
    for row in rows:
        if (
            row.status == "trace-without-event"
            and row.trace is not None
            and row.trace.triggered is not False
            and id(row) not in fitted
        ):
            row.notes.append(_why_no_event(row.trace.time, coverage, events_near(row.trace),
                                           holes("polevt", row.trace.time) if holes else None))
    rows.sort(key=lambda r: (r.time, r.session.thread if r.session else "", r.internal_id or ""))
    return rows
