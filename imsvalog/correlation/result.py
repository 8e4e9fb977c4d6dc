"""The result types of a correlation: :class:`Link`, :class:`Row`, :class:`Summary`, :class:`Correlation`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from ..errors import InputError
from ..frames import frame
from ..records import PolicyEvent, Reject, Source, Transaction
from ..scan_sessions import ScanSession, SpoofTrace, record_sources
from ..spoof import MessageInput, MissingTrusted, Profile, SpoofResult, VerdictChange
from ..trusted import TrustedList
from .compare import (
    DoubtedVerdict,
    Finding,
    InferredAddress,
    ListCheck,
    check_trusted,
    doubted_verdicts,
    infer_trusted,
    missing_trusted_of,
    what_if_of,
)
from .explain import explain_row

if TYPE_CHECKING:
    from .calibrate import Calibration

if TYPE_CHECKING:
    import pandas as pd

#: what a row is: a trace and an event linked, an ambiguous trace or event, or one without the other
Status = Literal["linked", "ambiguous", "trace-without-event", "event-without-trace"]
#: the evidence a link rests on (see :mod:`imsvalog.correlation.link`)
Basis = Literal["internal_id", "message_id", "queue_id", "time"]
#: a link's tier, or ``ambiguous``
Confidence = Literal["high", "medium-high", "low", "ambiguous"]

#: the columns of :meth:`Row.flat` (the DataFrame adds ``result``, the Row itself)
FLAT_COLUMNS = [
    "time", "thread", "internal_id", "message_id", "sender", "recipients", "subject", "rule", "actions", "status",
    "link_basis", "link_confidence", "link_candidates", "logged_ips", "logged_count", "logged_triggered", "recomputed_ips",
    "recomputed_count", "skipped", "domain_match", "recomputed_triggered", "agrees", "findings", "explanation", "source",
    "appliance", "missing", "linked_elsewhere",
]


@dataclass(slots=True)  # one per row: no __dict__
class Link:
    """How a trace and a policy event were linked (or why they could not be)."""

    basis: list[Basis]
    confidence: Confidence
    detail: str
    #: when ambiguous: the events that fit (internal IDs) for a trace, the traces that fit (thread and time) for an event
    candidates: list[str] = field(default_factory=list)
    #: when ambiguous: the basis at which the candidates tied
    tied_at: Basis | None = None
    #: when ambiguous at time: seconds between this row and each candidate, in ``candidates`` order
    apart: list[float] = field(default_factory=list)
    #: when ambiguous: the other side's rivals: the other scans that fit a trace's events (thread and time), or
    #: the other policy events that an event's only scan fits (internal IDs)
    rivals: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"basis": self.basis, "confidence": self.confidence, "detail": self.detail}
        if self.candidates:
            d["candidates"] = self.candidates
        if self.tied_at is not None:
            d["tied_at"] = self.tied_at
        if self.apart:
            d["apart"] = self.apart
        if self.rivals:
            d["rivals"] = self.rivals
        return d


@dataclass(slots=True)  # thousands of them live in a Correlation: no __dict__
class Row:
    """One spoof-related scan: a trace, a policy event, or both, with the re-run and the comparison."""

    session: ScanSession | None
    trace: SpoofTrace | None
    event: PolicyEvent | None
    link: Link | None
    status: Status
    recomputed: SpoofResult | None = None
    agrees: bool | None = None
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    transaction: Transaction | None = None
    #: with a trusted list, for a scan IMSVA fired on: the addresses outside the list (IMSVA's logged list, else recomputed)
    fired_on: list[str] | None = None
    #: the appliance whose logs the row comes from (bundle, appliance folder or syslog host); None for loose files
    appliance: str | None = None
    #: why the row lacks its other half when a whole kind of file is missing, e.g. "no log.imss was given"
    missing: str | None = None
    #: the other halves that fit this unlinked row but were linked elsewhere: policy events (internal IDs) for a
    #: trace, scans ("thread T at TIME") for a policy event; the notes say what decided each
    linked_elsewhere: list[str] = field(default_factory=list)

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
    def name(self) -> str:
        """The row's name in reports: the internal ID, else the thread and time of its trace."""
        if self.internal_id:
            return self.internal_id
        return f"{self.session.thread} {self.time.isoformat(sep=' ')}" if self.session else "?"

    @property
    def disagreement(self) -> bool:
        return self.agrees is False

    @property
    def sources(self) -> list[Source]:
        out = []
        if self.session is not None:
            out += record_sources(self.session.records)
        if self.event is not None:
            out.append(self.event.source)
        if self.transaction is not None:
            out.append(self.transaction.source)
        return out

    def _places(self, scan: list[tuple[str, int]] | None = None) -> list[tuple[str, int]]:
        """:attr:`sources` as (file, line) pairs, without building a :class:`Source` for each scan line
        (``scan``: the session's, when the caller has them already)."""
        out = (list(self.session.sources) if self.session is not None else []) if scan is None else list(scan)
        out += [(x.source.file, x.source.line) for x in (self.event, self.transaction) if x is not None]
        return out

    @property
    def explanation(self) -> str:
        return explain_row(self)

    @property
    def frame(self) -> pd.DataFrame:
        """The explanation as a table: one row per Received header (see :func:`imsvalog.display.row_frame`)."""
        from ..display import row_frame

        return row_frame(self)

    def to_frame(self) -> pd.DataFrame:
        return self.frame

    def __repr__(self) -> str:  # short: the dataclass repr would print every log line
        return f"<Row {self.time.isoformat(sep=' ')} {self.internal_id or '(no internal ID)'} {self.status}>"

    def _repr_html_(self) -> str:  # Jupyter
        from ..display import row_html

        return row_html(self)

    def flat(self, d: dict[str, Any] | None = None) -> dict[str, Any]:
        """The row as flat columns (:data:`FLAT_COLUMNS`), for DataFrames and CSV; lists stay lists.
        ``d``: the row's :meth:`to_dict`, when the caller has it already (it is built once, not twice)."""
        d = self.to_dict() if d is None else d
        link = d["link"] or d["link_problem"] or {}
        logged = d["logged"] or {}
        rec = d["recomputed"] or {}
        flat = {
            **{k: d[k] for k in FLAT_COLUMNS[:9]},
            "status": self.status,
            "link_basis": link.get("basis", []),
            "link_confidence": link.get("confidence"),
            "link_candidates": link.get("candidates", []),
            "logged_ips": logged.get("ips"),
            "logged_count": logged.get("ip_count"),
            "logged_triggered": logged.get("triggered"),
            "recomputed_ips": rec.get("ips"),
            "recomputed_count": len(rec["ips"]) if rec and rec["ips"] is not None else None,
            "skipped": rec.get("skipped"),
            "domain_match": rec.get("domain_match"),
            "recomputed_triggered": rec.get("triggered"),
            "agrees": self.agrees,
            "findings": [f.text for f in self.findings],
            "explanation": d["explanation"],
            "source": [f"{x['file']}:{x['line']}" for x in d["source"]],
            "appliance": self.appliance,
            "missing": self.missing,
            "linked_elsewhere": list(self.linked_elsewhere),
        }
        assert list(flat) == FLAT_COLUMNS
        return flat

    def to_dict(self, explanation: bool = True) -> dict[str, Any]:
        """The row as nested plain values (JSON's rows).  ``explanation=False``: without the explanation
        and the source lines (None; the tables show neither, and they are most of a row's size)."""
        e, t, r = self.event, self.trace, self.recomputed
        # the session's lines, read once for the explanation and the sources
        scan = self.session.sources if explanation and self.session is not None else None
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
                    "ips": r.counted if r.headers_logged else None,  # unknown: IMSVA's headers are not in the log
                    "skipped": [s.to_dict() for s in r.skipped],
                    "domain_match": r.domain_match,
                    "triggered": r.triggered,
                    "verdict": r.verdict,
                    # the counted addresses the given Trusted Internal IP List lacks (None: no list given)
                    "untrusted": list(r.untrusted) if r.trusted_given else None,
                    "profile": r.profile,
                }
                if r is not None
                else None
            ),
            "agrees": self.agrees,
            "fired_on": self.fired_on,
            "findings": [f.to_dict() for f in self.findings],
            "notes": self.notes,
            "explanation": explain_row(self, scan) if explanation else None,
            "source": [{"file": f, "line": n} for f, n in self._places(scan if scan is not None else [])]
            if explanation else None,
            "appliance": self.appliance,
            "missing": self.missing,
            "linked_elsewhere": self.linked_elsewhere,
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
    #: policy events contested by traces of which none is chosen (``ambiguous`` counts the traces)
    ambiguous_events: int = 0
    traces_without_event: int = 0
    events_without_trace: int = 0
    #: rows with at least one finding (``agrees`` is false)
    disagreements: int = 0
    #: findings by kind (a row can have several), kinds in :data:`~imsvalog.correlation.compare.FINDING_KINDS` order
    findings: dict[str, int] = field(default_factory=dict)
    rejects: int = 0
    #: kinds of file the rows depend on that the input lacks, said in words (e.g. "no polevt.imss was given")
    missing: list[str] = field(default_factory=list)
    #: what the rotated files given lack (missing between two given ones) or repeat, in words
    #: (:func:`imsvalog.rotation.notes`)
    rotation: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Correlation:
    """What :func:`correlate` found: rows, a summary, rejects, and a DataFrame for notebooks.

    ``sessions`` holds the scan sessions that :func:`~imsvalog.correlation.scan.read_spoof_sessions` parsed in full
    (those with an AntiSpoofFilter evaluation, and their thread-mates between two Accept
    lines); :func:`sessions` gives every scan session of a log. Their records are held compactly
    (:class:`~imsvalog.scan_sessions.CompactRecords`: read like a list, lines other than the
    AntiSpoofFilter trace's parsed again when asked for), so that memory stays small.
    """

    rows: list[Row]
    summary: Summary
    rejects: list[Reject]
    sessions: list[ScanSession]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    trusted: TrustedList | None = None
    profile: str = "documented"
    #: with ``profile="auto"``: how every variant of the model scored on this case, and the chosen one
    calibration: Calibration | None = None

    def messages(self) -> list[MessageInput]:
        """Each trace's recovered headers with its event's sender and recipients, named for the row."""
        out = []
        for r in self.rows:
            if r.trace is None:
                continue
            e = r.event
            name = r.name
            out.append(
                MessageInput(
                    tuple(r.trace.header_texts),
                    e.sender if e else None,
                    tuple(e.recipients) if e else (),
                    name=name,
                    headers_logged=r.recomputed.headers_logged if r.recomputed is not None else True,
                    headers_cut=r.recomputed.headers_cut if r.recomputed is not None else None,
                )
            )
        return out

    def what_if(
        self, trusted: TrustedList | None | str = "same", profile: str | Profile | None = None
    ) -> list[VerdictChange]:
        """Verdicts that change from this correlation's trusted list and profile to the given ones, and why.

        ``trusted="same"`` (the default) keeps this correlation's list; None means no list. A scan whose
        trace has IMSVA's logged list starts from what IMSVA did and is judged on IMSVA's list (each
        change says its ``basis``); see :func:`~imsvalog.correlation.compare.what_if_of`.
        """
        after_trusted = self.trusted if isinstance(trusted, str) else trusted
        after_profile = profile if profile is not None else self.profile
        return what_if_of(self.rows, self.messages(), (self.trusted, self.profile), (after_trusted, after_profile))

    def missing_trusted(self) -> list[MissingTrusted]:
        """Addresses outside the trusted list in scans IMSVA fired on, from IMSVA's logged lists where the
        traces have them (needs a trusted list).  See :func:`~imsvalog.correlation.compare.missing_trusted_of`."""
        return missing_trusted_of(self.rows, self.trusted)

    def check_trusted(self) -> list[ListCheck]:
        """The given trusted list checked against IMSVA's own verdicts: contradicted entries, lacking addresses."""
        return check_trusted(self.inferred_trusted(), self.trusted)

    def inferred_trusted(self) -> list[InferredAddress]:
        """What IMSVA's own verdicts reveal about its Trusted Internal IP List.  See :func:`infer_trusted`."""
        return infer_trusted(self.rows)

    def doubted_verdicts(self) -> list[DoubtedVerdict]:
        """The 'Not triggered' verdicts :meth:`inferred_trusted` leaves out: a spoof policy event linked to the same
        scan contradicts them (IMSVA's own lines disagree).  See :func:`~.compare.doubted_verdicts`."""
        return doubted_verdicts(self.rows)

    @property
    def frame(self) -> pd.DataFrame:
        """One row per spoof-related scan, lists kept as lists."""
        return frame((_frame_row(r) for r in self.rows), {"result": "object"}, [*FLAT_COLUMNS, "result"])  # the Row itself

    def to_frame(self) -> pd.DataFrame:
        return self.frame

    def __repr__(self) -> str:  # short: the dataclass repr would print every log line
        from ..render import count

        return (f"<Correlation of {count(len(self.rows), 'row')}: {self.summary.linked} linked, "
                f"{count(self.summary.disagreements, 'disagreement')}>")

    def _repr_html_(self) -> str:  # Jupyter
        from ..display import correlation_html

        return correlation_html(self)

    def sessions_frame(self) -> pd.DataFrame:
        from ..scan_sessions import SESSION_COLUMNS

        return frame((s.to_row() for s in self.sessions), columns=SESSION_COLUMNS)

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


def _frame_row(r: Row) -> dict[str, Any]:
    return {**r.flat(), "result": r}
