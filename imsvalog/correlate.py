"""Link AntiSpoofFilter traces to policy events, re-run the policy, explain each verdict.

:func:`correlate` reads log.imss (only the lines that carry session markers, found
with a byte-level prefilter), builds scan sessions (:mod:`imsvalog.sessions`),
reads polevt.imss, msgtra.imss and maillog, and produces one :class:`Row` per
spoof-related scan: a session with an AntiSpoofFilter trace, a spoof policy event,
or both linked.

Links and their confidence:

==============  ===============================================================  ============
basis           evidence                                                         confidence
==============  ===============================================================  ============
internal_id     ``Scan finished for X`` = the policy event's internal ID          high
message_id      ``>>> Message-ID`` = the policy event's Message-ID               high
queue_id        a Postfix queue ID from a recovered Received header (``id Q``)    medium-high
                appears in the event's Message-ID, or is msgtra's queue ID for
                the event's internal ID (or its first pass: maillog's
                ``A: ... queued as B``), or is the queue maillog gives the
                event's Message-ID (``Q: message-id=<...>``)
time            within ``time_window`` seconds, spoof rule ("Others" condition),  low
                compatible final action; only when unambiguous both ways
==============  ===============================================================  ============

Candidates that tie at the best confidence are reported as ambiguous, never chosen.
"""

from __future__ import annotations

import gc
import ipaddress
import os
import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

from .errors import InputError, ReadError
from .frames import frame
from .grammars import imss
from .grammars.common import ParseFailure, make_time
from .grammars.received import parse_received
from .readers import PathsLike, as_path_list, files_of, parse_line, records_of, unreadable_rest
from .records import (
    AcceptConnection,
    ImssRecord,
    MailLogEntry,
    MessageIdLine,
    PolicyEvent,
    Reject,
    ScanFinished,
    Source,
    Transaction,
)
from .sessions import MARKER_NEEDLES, ScanSession, SessionBuilder, SpoofTrace
from .sources import LogFile, ScanStats, discover, file_size, iter_matching_lines
from .spoof import (
    DOCUMENTED,
    MessageInput,
    MissingTrusted,
    Profile,
    SpoofResult,
    VerdictChange,
    evaluate,
    get_profile,
    show_ip,
)
from .spoof import missing_trusted as spoof_missing_trusted
from .spoof import what_if as spoof_what_if
from .trusted import TrustedList

#: link bases, strongest first, and the confidence each gives
BASES = ("internal_id", "message_id", "queue_id", "time")
CONFIDENCE = {"internal_id": "high", "message_id": "high", "queue_id": "medium-high", "time": "low"}
_RANK = {"high": 3, "medium-high": 2, "low": 1}
_CONFIDENCE_OF_RANK = {v: k for k, v in _RANK.items()}


def _rank(bases: Sequence[str]) -> int:
    return max(_RANK[CONFIDENCE[b]] for b in bases)
#: scanner final actions and the polevt action names they correspond to
FINAL_ACTIONS = {
    "QuarantineAction": "quarantine",
    "DeleteAction": "delete",
    "DeliverAction": "deliver",
    "ArchiveAction": "archive",
    "NotifyAction": "notify",
    "TagSubjectAction": "tag-subject",
    "StampAction": "stamp-body",
    "BccAction": "add-bcc",
    "ChangeRecipientAction": "change-recipient",
    "PostponeAction": "postpone",
    "HandOffAction": "hand-off",
    "XHeaderAction": "insert-x-header",
}
_TOKEN = re.compile(r"[A-Za-z0-9]{6,}")

#: the columns of :meth:`Row.flat` (the DataFrame adds ``result``, the Row itself)
FLAT_COLUMNS = [
    "time", "thread", "internal_id", "message_id", "sender", "recipients", "subject", "rule", "actions", "status",
    "link_basis", "link_confidence", "logged_ips", "logged_count", "logged_triggered", "recomputed_ips",
    "recomputed_count", "skipped", "domain_match", "recomputed_triggered", "agrees", "findings", "explanation", "source",
]

ProgressFn = Callable[[int, int], None]


def is_spoof_event(e: PolicyEvent) -> bool:
    """A policy event of the spoofed-internal-messages kind: the "Others" condition, or a rule named so."""
    return "others" in e.conditions or (e.rule is not None and "spoof" in e.rule.lower())


def normalize_message_id(mid: str | None) -> str | None:
    if not mid:
        return None
    return mid.strip().strip("<>").strip().lower() or None


def _ips_equal(a: Sequence[str], b: Sequence[str]) -> bool:
    return [_norm_ip(x) for x in a] == [_norm_ip(x) for x in b]


def _norm_ip(text: str) -> str:
    try:
        return show_ip(ipaddress.ip_address(text.strip().strip("[]").removeprefix("IPv6:")))
    except ValueError:
        return text.strip()


# ---------------------------------------------------------------------------
# Result types
# ---------------------------------------------------------------------------


@dataclass
class Link:
    """How a trace and a policy event were linked (or why they could not be)."""

    basis: list[str]
    confidence: str  # high | medium-high | low | ambiguous
    detail: str
    candidates: list[str] = field(default_factory=list)  # internal IDs, when ambiguous

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"basis": self.basis, "confidence": self.confidence, "detail": self.detail}
        if self.candidates:
            d["candidates"] = self.candidates
        return d


@dataclass
class Row:
    """One spoof-related scan: a trace, a policy event, or both, with the re-run and the comparison."""

    session: ScanSession | None
    trace: SpoofTrace | None
    event: PolicyEvent | None
    link: Link | None
    status: str  # linked | ambiguous | trace-without-event | event-without-trace
    recomputed: SpoofResult | None = None
    agrees: bool | None = None
    findings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    transaction: Transaction | None = None

    @property
    def time(self) -> datetime:
        if self.trace is not None:
            return self.trace.time
        assert self.event is not None
        return self.event.time

    @property
    def internal_id(self) -> str | None:
        if self.event is not None:
            return self.event.internal_id
        return self.session.internal_id if self.session else None

    @property
    def message_id(self) -> str | None:
        if self.event is not None and self.event.message_id:
            return self.event.message_id
        return self.session.message_id if self.session else None

    @property
    def disagreement(self) -> bool:
        return self.agrees is False

    @property
    def sources(self) -> list[Source]:
        out = []
        if self.session is not None:
            out += [r.source for r in self.session.records]
        if self.event is not None:
            out.append(self.event.source)
        if self.transaction is not None:
            out.append(self.transaction.source)
        return out

    @property
    def explanation(self) -> str:
        return explain_row(self)

    def flat(self) -> dict[str, Any]:
        """The row as flat columns (:data:`FLAT_COLUMNS`), for DataFrames and CSV; lists stay lists."""
        d = self.to_dict()
        link = d["link"] or d["link_problem"] or {}
        logged = d["logged"] or {}
        rec = d["recomputed"] or {}
        flat = {
            **{k: d[k] for k in FLAT_COLUMNS[:9]},
            "status": self.status,
            "link_basis": link.get("basis", []),
            "link_confidence": link.get("confidence"),
            "logged_ips": logged.get("ips"),
            "logged_count": logged.get("ip_count"),
            "logged_triggered": logged.get("triggered"),
            "recomputed_ips": rec.get("ips"),
            "recomputed_count": len(rec["ips"]) if rec else None,
            "skipped": rec.get("skipped"),
            "domain_match": rec.get("domain_match"),
            "recomputed_triggered": rec.get("triggered"),
            "agrees": self.agrees,
            "findings": self.findings,
            "explanation": d["explanation"],
            "source": [f"{x['file']}:{x['line']}" for x in d["source"]],
        }
        assert list(flat) == FLAT_COLUMNS
        return flat

    def to_dict(self) -> dict[str, Any]:
        e, t, r = self.event, self.trace, self.recomputed
        return {
            "time": self.time,
            "thread": self.session.thread if self.session else None,
            "internal_id": self.internal_id,
            "message_id": self.message_id,
            "sender": e.sender if e else None,
            "recipients": list(e.recipients) if e else [],
            "subject": e.subject if e else None,
            "rule": e.rule if e else None,
            "actions": list(e.actions) if e else [],
            "final_actions": list(self.session.final_actions) if self.session else [],
            "status": self.status,
            "link": self.link.to_dict() if self.link and self.status == "linked" else None,
            "link_problem": self.link.to_dict() if self.link and self.status == "ambiguous" else None,
            "logged": (
                {"ips": t.logged_ips, "ip_count": t.logged_count, "triggered": t.triggered} if t is not None else None
            ),
            "recomputed": (
                {
                    "ips": r.counted,
                    "skipped": [s.to_dict() for s in r.skipped],
                    "domain_match": r.domain_match,
                    "triggered": r.triggered,
                    "verdict": r.verdict,
                }
                if r is not None
                else None
            ),
            "agrees": self.agrees,
            "findings": self.findings,
            "notes": self.notes,
            "explanation": self.explanation,
            "source": [{"file": s.file, "line": s.line} for s in self.sources],
        }


@dataclass
class Summary:
    files: dict[str, int] = field(default_factory=dict)  # kind -> number of files
    lines: int = 0
    scans: int = 0
    spoof_traces: int = 0
    policy_events: int = 0
    spoof_events: int = 0
    linked: int = 0
    ambiguous: int = 0
    traces_without_event: int = 0
    events_without_trace: int = 0
    disagreements: int = 0
    rejects: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Correlation:
    """What :func:`correlate` found: rows, a summary, rejects, and a DataFrame for notebooks.

    ``sessions`` holds the scan sessions that :func:`read_spoof_sessions` parsed in full
    (those with an AntiSpoofFilter evaluation, and their thread-mates between two Accept
    lines); :func:`sessions` gives every scan session of a log.
    """

    rows: list[Row]
    summary: Summary
    rejects: list[Reject]
    sessions: list[ScanSession]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    trusted: TrustedList | None = None
    profile: str = "documented"

    def messages(self) -> list[MessageInput]:
        """Each trace's recovered headers with its event's sender and recipients, named for the row."""
        out = []
        for r in self.rows:
            if r.trace is None:
                continue
            e = r.event
            name = r.internal_id or (f"{r.session.thread} {r.time.isoformat(sep=' ')}" if r.session else "?")
            out.append(
                MessageInput(
                    tuple(h.header for h in r.trace.headers),
                    e.sender if e else None,
                    tuple(e.recipients) if e else (),
                    name=name,
                )
            )
        return out

    def what_if(
        self, trusted: TrustedList | None | str = "same", profile: str | Profile | None = None
    ) -> list[VerdictChange]:
        """Verdicts that change from this correlation's trusted list and profile to the given ones, and why.

        ``trusted="same"`` (the default) keeps this correlation's list; None means no list.
        """
        after_trusted = self.trusted if isinstance(trusted, str) else trusted
        after_profile = profile if profile is not None else self.profile
        return spoof_what_if(self.messages(), (self.trusted, self.profile), (after_trusted, after_profile))

    def missing_trusted(self) -> list[MissingTrusted]:
        """Untrusted addresses behind 'fires' verdicts, most frequent first (needs a trusted list)."""
        return spoof_missing_trusted(r.recomputed for r in self.rows if r.recomputed is not None)

    def inferred_trusted(self) -> list[InferredAddress]:
        """What IMSVA's own verdicts reveal about its Trusted Internal IP List.  See :func:`infer_trusted`."""
        return infer_trusted(self.rows)

    @property
    def frame(self) -> pd.DataFrame:
        """One row per spoof-related scan, lists kept as lists."""
        return frame(_frame_row(r) for r in self.rows)

    def sessions_frame(self) -> pd.DataFrame:
        return frame(s.to_row() for s in self.sessions)

    def explanations(self) -> list[str]:
        return [r.explanation for r in self.rows]

    def only(self, which: str | None) -> list[Row]:
        if which is None:
            return self.rows
        if which == "disagreements":
            return [r for r in self.rows if r.disagreement]
        if which == "unlinked":
            return [r for r in self.rows if r.status != "linked"]
        raise InputError(f"unknown filter {which!r}; expected disagreements or unlinked")


@dataclass
class InferredAddress:
    """An address whose place in IMSVA's Trusted Internal IP List the logs reveal, with the evidence."""

    address: str
    status: str  # trusted | untrusted | conflict
    trusted_evidence: list[str] = field(default_factory=list)
    untrusted_evidence: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def infer_trusted(rows: Sequence[Row]) -> list[InferredAddress]:
    """Read IMSVA's Trusted Internal IP List off its own verdicts, without the administrator's list.

    * ``All sender IP in Trusted Internal IP List`` with a logged list: every listed
      address is trusted.
    * ``Not all sender IP in Trusted Internal IP List`` with one logged address: that
      address is not trusted (with several, the one not shown trusted elsewhere).
    * An address with both kinds of evidence is a ``conflict``: the list changed
      during the span of the logs, or IMSVA's check is not what is documented.
    """
    trusted: dict[str, list[str]] = defaultdict(list)
    untrusted: dict[str, list[str]] = defaultdict(list)
    firing: list[tuple[list[str], str]] = []
    for r in rows:
        t = r.trace
        if t is None or t.ip_list is None or t.verdict is None:
            continue
        ips = [_norm_ip(x) for x in t.ip_list.ips]
        name = r.internal_id or (r.session.thread if r.session else "?")
        where = f"{name} at {t.time.isoformat(sep=' ')} ({t.verdict.source.ref()})"
        text = t.verdict.text.lower()
        if t.triggered is False and "all sender ip in trusted internal ip list" in text and not text.startswith("not all"):
            for a in ips:
                trusted[a].append(where)
        elif t.triggered is True and text.startswith("not all sender ip") and ips:
            firing.append((ips, where))
    for ips, where in firing:
        suspects = [a for a in ips if a not in trusted] or ips
        if len(suspects) == 1:
            untrusted[suspects[0]].append(where)
    out = []
    for a in sorted(set(trusted) | set(untrusted)):
        status = "conflict" if a in trusted and a in untrusted else ("trusted" if a in trusted else "untrusted")
        out.append(InferredAddress(a, status, trusted.get(a, []), untrusted.get(a, [])))
    return out


def _frame_row(r: Row) -> dict[str, Any]:
    return {**r.flat(), "result": r}


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def _marker_lines(
    files: Sequence[LogFile],
    rejects: list[Reject],
    stats: ScanStats,
    progress: ProgressFn | None,
    total: int,
) -> Iterator[Source]:
    """The lines that carry session markers, file after file; a file that stops being readable
    ends with a reject; ``stats`` counts every line; ``progress`` hears about bytes read."""
    done_bytes = 0
    for f in files:
        name = str(f.path)
        fstats = ScanStats()
        try:
            for lineno, text in iter_matching_lines(f, MARKER_NEEDLES, fstats):
                yield Source(name, lineno, text)
                if progress is not None and lineno % 4096 == 0:
                    progress(done_bytes + fstats.bytes, total)
        except ReadError as exc:
            rejects.append(unreadable_rest(f, exc))
        done_bytes += fstats.bytes
        stats.lines += fstats.lines
        stats.bytes += fstats.bytes
        if progress is not None:
            progress(done_bytes, total)


def read_sessions(
    files: Sequence[LogFile],
    rejects: list[Reject],
    stats: ScanStats,
    progress: ProgressFn | None = None,
    total: int = 0,
) -> list[ScanSession]:
    """Sessions from log.imss files in order, parsing only the lines that carry markers."""
    with _no_gc():
        return _read_sessions(files, rejects, stats, progress, total)


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while records pile up (they form no cycles).

    With hundreds of thousands of live records, the collector's repeated full passes
    cost about a third of the run; reference counting still frees everything.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read_sessions(
    files: Sequence[LogFile],
    rejects: list[Reject],
    stats: ScanStats,
    progress: ProgressFn | None,
    total: int,
) -> list[ScanSession]:
    builder = SessionBuilder()
    sessions: list[ScanSession] = []
    for src in _marker_lines(files, rejects, stats, progress, total):
        item = parse_line("imss", src)
        if isinstance(item, Reject):
            rejects.append(item)
            continue
        sessions.extend(builder.feed(item))  # type: ignore[arg-type]
    sessions.extend(builder.flush())
    return _in_file_order(sessions, files)


def _in_file_order(sessions: list[ScanSession], files: Sequence[LogFile]) -> list[ScanSession]:
    """Sessions by where they start (they close, and so arrive, in another order)."""
    order = {str(f.path): i for i, f in enumerate(files)}
    sessions.sort(key=lambda s: (order.get(s.records[0].source.file, 0), s.records[0].source.line))
    return sessions


#: substrings of the AntiSpoofFilter component lines that show an evaluation of Received headers
#: (a superset of what the received_header, matched_address, ip_list and spoof_verdict shapes need)
_EVALUATION_HINTS = ("parse received header string", "get matched string", "IP address", "Trusted Internal IP List", "riggered")
#: a thread fed line by line when this many of its marker lines pass without an Accept connection
BUFFER_LIMIT = 5000


def read_spoof_sessions(
    files: Sequence[LogFile],
    rejects: list[Reject],
    stats: ScanStats,
    progress: ProgressFn | None = None,
    total: int = 0,
) -> tuple[list[ScanSession], ScanIndex]:
    """The scan sessions that matter to spoof triage, parsing in full only the scans that need it.

    Marker lines are kept raw per thread until the thread's next ``Accept connection``
    (a session never spans one). A run that holds an AntiSpoofFilter evaluation is then
    parsed and cut into sessions exactly as :func:`read_sessions` would; from the others
    only the ``Scan finished`` and ``Message-ID`` lines are parsed, into the
    :class:`ScanIndex`. A thread that logs no Accept lines (a lower log level) is fed line
    by line after :data:`BUFFER_LIMIT` lines. A test keeps the rows equal to those built
    from :func:`read_sessions`.
    """
    with _no_gc():
        return _read_spoof_sessions(files, rejects, stats, progress, total)


def _read_spoof_sessions(
    files: Sequence[LogFile],
    rejects: list[Reject],
    stats: ScanStats,
    progress: ProgressFn | None,
    total: int,
) -> tuple[list[ScanSession], ScanIndex]:
    builder = SessionBuilder()
    index = ScanIndex()
    sessions: list[ScanSession] = []
    buffers: dict[str, list[Source]] = {}
    evaluated: set[str] = set()  # threads whose buffer holds an evaluation
    direct: set[str] = set()  # threads fed line by line until their next Accept
    accepted: set[str] = set()  # threads whose buffer began with an Accept connection line
    prefix = imss.PREFIX.re  # type: ignore[attr-defined]

    def feed(src: Source) -> None:
        item = parse_line("imss", src)
        if isinstance(item, Reject):  # pragma: no cover - bad prefixes and times are caught before
            rejects.append(item)
            return
        for s in builder.feed(item):  # type: ignore[arg-type]
            sessions.append(s)
            index.add_session(s)

    def settle(thread: str, end: str) -> None:
        """The thread's run of lines is complete: parse it if it matters, index it if not."""
        lines = buffers.pop(thread, [])
        opened = thread in accepted
        accepted.discard(thread)
        if thread in evaluated or thread in direct:
            evaluated.discard(thread)
            direct.discard(thread)
            for src in lines:
                feed(src)
            s = builder._close(thread, end)  # noqa: SLF001 - the builder's own close
            if s is not None:
                sessions.append(s)
                index.add_session(s)
        elif lines:
            # a run opened by an Accept connection is one scan (SMTP connection reuse can make it
            # more; the count is then low); a run without one is a tail from before the logs began
            if opened:
                index.scans += 1
            for src in lines:
                if "Scan finished" in src.text or "Message-ID" in src.text:
                    item = parse_line("imss", src)
                    ref = ScanRef(thread, src.file, src.line)
                    if isinstance(item, ScanFinished):
                        index.add(ref, internal_id=item.internal_id)
                    elif isinstance(item, MessageIdLine):
                        index.add(ref, message_id=item.message_id)

    for src in _marker_lines(files, rejects, stats, progress, total):
        text = src.text
        m = prefix.match(text)
        if m is None:
            rejects.append(parse_line("imss", src))  # type: ignore[arg-type]
            continue
        try:
            index.see(make_time(m["date"], m["clock"], m["offset"]))
        except ParseFailure:
            rejects.append(parse_line("imss", src))  # type: ignore[arg-type]
            continue
        thread = f"{int(m['pid'])}:{int(m['tid'])}"
        if "Accept connection" in text and isinstance(parse_line("imss", src), AcceptConnection):
            settle(thread, "next_scan")
            accepted.add(thread)
        if thread in direct:
            feed(src)
            continue
        buf = buffers.setdefault(thread, [])
        buf.append(src)
        # the component form ("AntiSpoofFilter:" / "AntiSpoofFilter::method:"), not "filter AntiSpoofFilter isTriggered"
        if "AntiSpoofFilter:" in text and any(h in text for h in _EVALUATION_HINTS):
            evaluated.add(thread)
        if len(buf) > BUFFER_LIMIT:
            direct.add(thread)
            for early in buffers.pop(thread):
                feed(early)
    for thread in list(buffers) + [t for t in direct if t not in buffers]:
        settle(thread, "end_of_input")
    return _in_file_order(sessions, files), index


# ---------------------------------------------------------------------------
# Linking
# ---------------------------------------------------------------------------


@dataclass
class _Index:
    by_internal: dict[str, list[PolicyEvent]] = field(default_factory=lambda: defaultdict(list))
    by_message: dict[str, list[PolicyEvent]] = field(default_factory=lambda: defaultdict(list))
    by_token: dict[str, list[PolicyEvent]] = field(default_factory=lambda: defaultdict(list))
    tx_by_internal: dict[str, Transaction] = field(default_factory=dict)
    spoof_by_time: list[PolicyEvent] = field(default_factory=list)
    spoof_times: list[float] = field(default_factory=list)
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
            if m.queued_as and m.queue_id:
                first_pass.setdefault(m.queued_as.upper(), m)
        idx.spoof_by_time = sorted((e for e in events if is_spoof_event(e)), key=lambda e: e.time)
        idx.spoof_times = [e.time.timestamp() for e in idx.spoof_by_time]
        for t in transactions:
            if t.internal_id:
                idx.tx_by_internal.setdefault(t.internal_id, t)
        for e in events:
            idx.by_internal[e.internal_id].append(e)
            mid = normalize_message_id(e.message_id)
            if mid:
                idx.by_message[mid].append(e)
            for tok in set(_TOKEN.findall(e.message_id or "")):
                idx.by_token[tok.upper()].append(e)
            tx = idx.tx_by_internal.get(e.internal_id)
            if tx is not None and tx.queue_id:
                idx.by_token[tx.queue_id.upper()].append(e)
                hop = first_pass.get(tx.queue_id.upper())
                if hop is not None:  # msgtra names the second Postfix pass; maillog gives the first
                    q = hop.queue_id.upper()  # type: ignore[union-attr]
                    idx.by_token[q].append(e)
                    idx.mail_evidence.setdefault((id(e), q), hop)
            for m in queues_of_message.get(mid or "", []):
                q = m.queue_id.upper()  # type: ignore[union-attr]
                idx.by_token[q].append(e)
                idx.mail_evidence.setdefault((id(e), q), m)
        return idx


def _queue_ids(trace: SpoofTrace) -> list[tuple[int, str]]:
    out = []
    for i, h in enumerate(trace.headers, 1):
        for q in parse_received(h.header).queue_ids:
            if len(q) >= 6:
                out.append((i, q))
    return out


def _action_compatible(session: ScanSession, event: PolicyEvent) -> bool:
    mine = {FINAL_ACTIONS.get(a) for a in session.final_actions} - {None}
    if not mine or not event.actions:
        return True
    return bool(mine & set(event.actions))


def _candidates(
    session: ScanSession, trace: SpoofTrace, idx: _Index, window: timedelta
) -> dict[int, tuple[PolicyEvent, list[str], list[str]]]:
    """Candidate events (by id()) with their bases and the evidence sentences."""
    found: dict[int, tuple[PolicyEvent, list[str], list[str]]] = {}

    def add(e: PolicyEvent, basis: str, why: str) -> None:
        if not is_spoof_event(e):
            return
        ev, bases, whys = found.setdefault(id(e), (e, [], []))
        if basis not in bases:
            bases.append(basis)
            whys.append(why)

    if session.internal_id:
        for e in idx.by_internal.get(session.internal_id, []):
            add(e, "internal_id", f"'Scan finished for {session.internal_id}' is the policy event's internal ID")
    mid = normalize_message_id(session.message_id)
    if mid:
        for e in idx.by_message.get(mid, []):
            add(e, "message_id", f"the scan's Message-ID {session.message_id} is the policy event's Message-ID")
    for hi, q in _queue_ids(trace):
        for e in idx.by_token.get(q.upper(), []):
            tx = idx.tx_by_internal.get(e.internal_id)
            mail = idx.mail_evidence.get((id(e), q.upper()))
            if q.upper() in (e.message_id or "").upper():
                where = "in the policy event's Message-ID"
            elif tx is not None and (tx.queue_id or "").upper() == q.upper():
                where = f"msgtra's queue ID for {e.internal_id} ({tx.source.ref()})"
            elif mail is not None and mail.shape == "delivery":
                where = (
                    f"the first Postfix pass of msgtra's queue ID {mail.queued_as} for {e.internal_id} "
                    f"(maillog: {q} ... queued as {mail.queued_as}, {mail.source.ref()})"
                )
            elif mail is not None:
                where = f"the Postfix queue that maillog gives the policy event's Message-ID ({mail.source.ref()})"
            else:  # pragma: no cover - by_token is only filled from the three sources above
                where = "tied to the policy event"
            add(e, "queue_id", f"Postfix queue ID {q} from Received header {hi} is {where}")
    t = trace.time
    lo = bisect_left(idx.spoof_times, (t - window).timestamp())
    hi = bisect_right(idx.spoof_times, (t + window).timestamp())
    for e in idx.spoof_by_time[lo:hi]:
        if _action_compatible(session, e):
            delta = abs((e.time - t).total_seconds())
            add(e, "time", "same second" if delta < 1 else f"{delta:.0f} s apart")
    return found


def _span(times: list[datetime]) -> tuple[datetime, datetime] | None:
    return (min(times), max(times)) if times else None


@dataclass(frozen=True)
class ScanRef:
    """A log.imss line that names a scan (its Scan finished or Message-ID line), and the scan's thread."""

    thread: str
    file: str
    line: int


@dataclass
class ScanIndex:
    """Every scan's internal ID and Message-ID, the time span log.imss covers, and how many scans it holds.

    Built for all scans, also those whose lines :func:`read_spoof_sessions` did not parse in full.
    """

    by_internal: dict[str, ScanRef] = field(default_factory=dict)
    by_message: dict[str, ScanRef] = field(default_factory=dict)
    first: datetime | None = None
    last: datetime | None = None
    #: scans seen: sessions parsed in full, plus one per unparsed run opened by an Accept connection
    scans: int = 0

    def see(self, t: datetime) -> None:
        if self.first is None or t < self.first:
            self.first = t
        if self.last is None or t > self.last:
            self.last = t

    def add(self, ref: ScanRef, internal_id: str | None = None, message_id: str | None = None) -> None:
        """Index the line that names a scan's internal ID or Message-ID (the earliest line wins)."""
        for table, key in ((self.by_internal, internal_id), (self.by_message, normalize_message_id(message_id))):
            if key:
                old = table.get(key)
                if old is None or (ref.file, ref.line) < (old.file, old.line):
                    table[key] = ref

    def add_session(self, s: ScanSession) -> None:
        for rec in s.records:
            if isinstance(rec, ScanFinished):
                self.add(ScanRef(s.thread, rec.source.file, rec.source.line), internal_id=rec.internal_id)
            elif isinstance(rec, MessageIdLine):
                self.add(ScanRef(s.thread, rec.source.file, rec.source.line), message_id=rec.message_id)
        self.see(s.first_time)
        self.see(s.last_time)
        self.scans += 1

    @classmethod
    def of(cls, sessions: Sequence[ScanSession]) -> ScanIndex:
        idx = cls()
        for s in sessions:
            idx.add_session(s)
        return idx

    @property
    def span(self) -> tuple[datetime, datetime] | None:
        return (self.first, self.last) if self.first is not None and self.last is not None else None


def _why_no_trace(e: PolicyEvent, sx: ScanIndex) -> str:
    """The evidence for why a spoof policy event has no AntiSpoofFilter trace."""
    mid = normalize_message_id(e.message_id)
    ref = sx.by_internal.get(e.internal_id) or (sx.by_message.get(mid) if mid else None)
    if ref is not None:
        return (
            f"its scan is in log.imss (thread {ref.thread}, {os.path.basename(ref.file)}:{ref.line} names it) but has "
            "no AntiSpoofFilter header lines: log.imss was not at debug level when it was scanned"
        )
    span = sx.span
    if span is None:
        return "no log.imss scan sessions were read at all"
    if not span[0] - timedelta(seconds=5) <= e.time <= span[1] + timedelta(seconds=5):
        return (
            f"the log.imss files read cover {span[0].isoformat(sep=' ')} to {span[1].isoformat(sep=' ')}; "
            "this event is outside that span: add the log.imss file of that time"
        )
    return (
        "log.imss covers its time but holds no scan of it with AntiSpoofFilter lines: "
        "log.imss was probably not at debug level then"
    )


def _why_no_event(t: datetime, coverage: tuple[datetime, datetime] | None) -> str:
    if coverage is None:
        return "no polevt.imss policy events were read at all: add the polevt.imss files"
    if not coverage[0] - timedelta(seconds=5) <= t <= coverage[1] + timedelta(seconds=5):
        return (
            f"the polevt.imss files read cover {coverage[0].isoformat(sep=' ')} to {coverage[1].isoformat(sep=' ')}; "
            "this trace is outside that span: add the polevt.imss file of that time"
        )
    return "polevt.imss covers its time but holds no matching spoof event"


def link_rows(
    sessions: list[ScanSession],
    events: list[PolicyEvent],
    transactions: list[Transaction],
    window: timedelta,
    mail: Sequence[MailLogEntry] = (),
    scans: ScanIndex | None = None,
) -> list[Row]:
    """Rows from sessions and events.  ``scans`` indexes every scan (default: built from ``sessions``)."""
    idx = _Index.build(events, transactions, mail)
    spoof_events = [e for e in events if is_spoof_event(e)]
    pairs = [(s, t) for s in sessions for t in s.spoof_traces]
    cands = {id(t): _candidates(s, t, idx, window) for s, t in pairs}
    # how many traces each event is a time-only candidate of (for "unambiguous both ways")
    time_claims: dict[int, int] = defaultdict(int)
    for c in cands.values():
        for key, (_, bases, _) in c.items():
            if bases == ["time"]:
                time_claims[key] += 1

    rows: list[Row] = []
    used: set[int] = set()
    for s, t in pairs:
        c = cands[id(t)]
        if not c:
            rows.append(Row(s, t, None, None, "trace-without-event"))
            continue
        best = max(_rank(bases) for _, bases, _ in c.values())
        top = [(e, bases, whys) for e, bases, whys in c.values() if _rank(bases) == best]
        if len(top) == 1 and not (best == _RANK["low"] and time_claims[id(top[0][0])] > 1):
            e, bases, whys = top[0]
            evidence = sorted(zip(bases, whys, strict=True), key=lambda p: BASES.index(p[0]))
            link = Link([b for b, _ in evidence], _CONFIDENCE_OF_RANK[best], "; ".join(w for _, w in evidence))
            rows.append(Row(s, t, e, link, "linked", transaction=idx.tx_by_internal.get(e.internal_id)))
            used.add(id(e))
        else:
            ids = sorted({e.internal_id for e, _, _ in top})
            if len(top) == 1:
                detail = f"time alone points at {ids[0]}, but another trace is as close to it"
            else:
                detail = f"{len(top)} policy events fit equally well: " + ", ".join(ids)
            rows.append(Row(s, t, None, Link([], "ambiguous", detail, ids), "ambiguous"))
    # ambiguous candidates are not "without trace": they are named in the ambiguous row
    named = {i for r in rows if r.link and r.link.confidence == "ambiguous" for i in r.link.candidates}
    sx = scans if scans is not None else ScanIndex.of(sessions)
    for e in spoof_events:
        if id(e) not in used:
            tx = idx.tx_by_internal.get(e.internal_id)
            if e.internal_id in named:
                link = Link([], "ambiguous", "a candidate of an ambiguous trace (see the trace's row)", [e.internal_id])
                rows.append(Row(None, None, e, link, "ambiguous", transaction=tx))
            else:
                row = Row(None, None, e, None, "event-without-trace", transaction=tx)
                row.notes.append(_why_no_trace(e, sx))
                rows.append(row)
    coverage = _span([e.time for e in events])
    for row in rows:
        if row.status == "trace-without-event" and row.trace is not None and row.trace.triggered is not False:
            row.notes.append(_why_no_event(row.trace.time, coverage))
    rows.sort(key=lambda r: (r.time, r.session.thread if r.session else "", r.internal_id or ""))
    return rows


# ---------------------------------------------------------------------------
# Re-run and compare
# ---------------------------------------------------------------------------


def recompute(row: Row, trusted: TrustedList | None, profile: str | Profile) -> None:
    t = row.trace
    if t is None:
        return
    e = row.event
    sender = e.sender if e else (row.transaction.sender if row.transaction else None)
    recipients = tuple(e.recipients) if e else ()
    observed = t.triggered if t.triggered is not None else (True if e is not None else None)
    r = evaluate([h.header for h in t.headers], sender, recipients, trusted, profile, observed=observed)
    row.recomputed = r
    logged = t.logged_ips
    if logged is None:
        row.agrees = None
        row.notes.append("the trace has no 'Get N IP address' line to compare with (cut off or other log level)")
        return
    same_list = _ips_equal(logged, r.counted)
    same_count = t.logged_count == len(r.counted)
    row.agrees = same_list and same_count
    if t.logged_count != len(logged):
        row.findings.append(f"IMSVA's own line is inconsistent: it says {t.logged_count} but lists {len(logged)} addresses")
        row.agrees = False
    if not same_list:
        row.findings.extend(_list_differences(logged, r))
    if trusted is not None and r.triggered is not None and t.triggered is not None and r.triggered != t.triggered:
        row.findings.append(
            f"verdict differs: IMSVA {'fired' if t.triggered else 'did not fire'}, the model with the given trusted list "
            f"{'fires' if r.triggered else 'does not fire'}"
        )
        row.agrees = False


def _list_differences(logged: list[str], r: SpoofResult) -> list[str]:
    out = []
    ours = [_norm_ip(x) for x in r.counted]
    theirs = [_norm_ip(x) for x in logged]
    for a in theirs:
        if a in ours:
            continue
        where = _where_seen(a, r)
        out.append(f"IMSVA counted {a}, which the model did not count: {where}")
    for a in ours:
        if a in theirs:
            continue
        out.append(f"the model counted {a}, which IMSVA did not: {_why_counted(a, r)}")
    if not out and theirs != ours:
        out.append(f"same addresses in a different order: IMSVA {', '.join(theirs)}; model {', '.join(ours)}")
    return out


def _where_seen(addr: str, r: SpoofResult) -> str:
    for h in r.headers:
        for a in h.parsed.addresses:
            if a.address is not None and show_ip(a.address) == addr:
                if h.skip is not None and h.skip.address == addr:
                    return f"header {h.index} has it, skipped as {h.skip.reason} ({h.skip.detail})"
                if not a.bracketed and a.clause == "from":
                    return (
                        f"header {h.index} has it in its from clause without brackets; the documented filter takes only "
                        "bracketed addresses, so IMSVA also reads unbracketed ones (undocumented)"
                    )
                return f"header {h.index} has it in its {a.clause} clause, which the documented filter does not read"
    return "it is in none of the recovered headers (the trace may be missing a header line)"


def _why_counted(addr: str, r: SpoofResult) -> str:
    for h in r.headers:
        if h.counted == addr:
            flag = [n for n in h.notes if n.startswith("counted although special-purpose")]
            if flag:
                return f"header {h.index}; {flag[0]} -- IMSVA apparently skips it (undocumented)"
            return f"header {h.index}, the bracketed address of its from clause"
    return "not found"


# ---------------------------------------------------------------------------
# Explanation
# ---------------------------------------------------------------------------


def _refs(records: Sequence[ImssRecord]) -> str:
    if not records:
        return ""
    by_file: dict[str, list[int]] = defaultdict(list)
    for r in records:
        by_file[os.path.basename(r.source.file)].append(r.source.line)
    return ", ".join(f"{f}:{min(ls)}-{max(ls)}" if len(ls) > 1 else f"{f}:{ls[0]}" for f, ls in by_file.items())


def explain_row(row: Row) -> str:
    """A paragraph, then the header-by-header explanation, ready to paste into a ticket."""
    s, t, e, r = row.session, row.trace, row.event, row.recomputed
    lines: list[str] = []
    if s is not None and t is not None:
        lines.append(
            f"Scan on thread {s.thread} at {t.time.isoformat(sep=' ')} ({_refs(s.records)}), cut {s.boundaries}."
        )
    if e is not None:
        where = e.source.ref()
        lines.append(
            f"Policy event {e.internal_id} ({where}): rule '{e.rule or ''}', actions {', '.join(e.actions) or 'none'}, "
            f"sender {e.sender or '(empty)'} -> {', '.join(e.recipients) or '(none)'}."
        )
    if row.status == "linked" and row.link is not None:
        lines.append(f"Linked by {', '.join(row.link.basis)} ({row.link.confidence} confidence): {row.link.detail}.")
    elif row.status == "ambiguous" and row.link is not None and t is not None:
        lines.append(f"Not linked: ambiguous. {row.link.detail}; none is chosen.")
    elif row.status == "ambiguous" and row.link is not None:
        lines.append("Not linked: this policy event is one of several that fit an AntiSpoofFilter trace equally well; none is chosen.")
    elif row.status == "trace-without-event":
        if t is not None and t.triggered is False:
            lines.append("No policy event: the filter did not fire, so none is expected.")
        else:
            lines.append("No policy event found for this trace although the filter fired.")
    elif row.status == "event-without-trace":
        lines.append("No AntiSpoofFilter trace for this policy event.")
    if t is not None:
        if t.ip_list is not None:
            lines.append(
                f"IMSVA logged: 'Get {t.ip_list.count} IP address from received header. "
                f"{''.join(a + ',' for a in t.ip_list.ips)}' ({t.ip_list.source.ref()})"
                + (f", matched strings: {', '.join(m.address for m in t.matched)}" if t.matched else "")
                + "."
            )
        if t.triggered is not None:
            said = t.verdict.text if t.verdict is not None else f"isTriggered returned {str(t.triggered).lower()}"
            lines.append(f"IMSVA {'fired' if t.triggered else 'did not fire'} ('{said}').")
    if r is not None:
        if row.agrees:
            lines.append(f"The model reproduces IMSVA's list: {', '.join(r.counted) or 'no address'}.")
        elif row.agrees is False:
            lines.append("DISAGREEMENT with the model: " + " ".join(f + "." for f in row.findings))
        lines.append("")
        lines.append(r.explanation)
    for n in row.notes:
        lines.append(f"Note: {n}.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# The entry point
# ---------------------------------------------------------------------------


def correlate(
    paths: PathsLike,
    trusted: TrustedList | None = None,
    profile: str | Profile = DOCUMENTED,
    time_window: float = 1.0,
    progress: ProgressFn | None = None,
) -> Correlation:
    """Correlate log.imss, polevt.imss, msgtra.imss and maillog files (any mix of paths, globs, directories).

    >>> c = correlate("fixtures/kb000239719")
    >>> [(r.status, r.link.basis, r.agrees) for r in c.rows]
    [('linked', ['queue_id', 'time'], True)]
    """
    found = discover(as_path_list(paths))
    by_kind: dict[str, list[LogFile]] = defaultdict(list)
    skipped = list(found.skipped)
    for f in found.files:
        by_kind[f.kind].append(f)
    if not by_kind.get("imss") and not by_kind.get("polevt"):
        raise InputError("correlate needs log.imss or polevt.imss files; none found among: " + ", ".join(map(str, as_path_list(paths))))
    rejects: list[Reject] = []
    stats = ScanStats()
    total = sum(file_size(f) for f in by_kind.get("imss", []))
    sessions, scans = read_spoof_sessions(by_kind.get("imss", []), rejects, stats, progress, total)
    events = list(records_of(by_kind.get("polevt", []), rejects))
    transactions = list(records_of(by_kind.get("msgtra", []), rejects))
    mail = [m for m in records_of(by_kind.get("maillog", []), rejects) if m.message_id or m.queued_as]
    rows = link_rows(sessions, events, transactions, timedelta(seconds=time_window), mail, scans)
    for row in rows:
        recompute(row, trusted, profile)
    summary = Summary(
        files={k: len(v) for k, v in by_kind.items()},
        lines=stats.lines,
        scans=scans.scans,
        spoof_traces=sum(len(s.spoof_traces) for s in sessions),
        policy_events=len(events),
        spoof_events=sum(1 for e in events if is_spoof_event(e)),
        linked=sum(1 for r in rows if r.status == "linked"),
        ambiguous=sum(1 for r in rows if r.status == "ambiguous" and r.trace is not None),
        traces_without_event=sum(1 for r in rows if r.status == "trace-without-event"),
        events_without_trace=sum(1 for r in rows if r.status == "event-without-trace"),
        disagreements=sum(1 for r in rows if r.disagreement),
        rejects=len(rejects),
    )
    return Correlation(rows, summary, rejects, sessions, skipped, trusted, get_profile(profile).name)


def sessions(paths: PathsLike, rejects: list[Reject] | None = None) -> list[ScanSession]:
    """All scan sessions of the log.imss files under ``paths``; marker lines that do not parse go to ``rejects``."""
    return read_sessions(files_of("imss", paths), rejects if rejects is not None else [], ScanStats())


def sessions_frame(paths: PathsLike, rejects: list[Reject] | None = None) -> pd.DataFrame:
    """Scan sessions as a DataFrame: one row per scanned message."""
    return frame(s.to_row() for s in sessions(paths, rejects))


__all__ = ["Correlation", "Link", "Row", "Summary", "correlate", "sessions", "sessions_frame", "is_spoof_event"]
