"""Record types: every line of every log ends as one of these, or as a :class:`Reject`.

Records are frozen dataclasses, built once at the grammar boundary.  Sessions,
the correlator and the spoof model never see pyparsing results.  Every record
keeps its :class:`Source` (file, 1-based line number, raw text) so that every
verdict can point at the exact log lines behind it.

Text is decoded as UTF-8 with ``surrogateescape``: bytes that are not UTF-8
survive as lone surrogates, and ``source.raw_bytes`` gives back the exact bytes
that were read (without the line ending).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record came from: file path, 1-based line number, raw text."""

    file: str
    line: int
    text: str

    @property
    def raw_bytes(self) -> bytes:
        """The exact bytes of the line as read (line ending removed)."""
        return self.text.encode("utf-8", "surrogateescape")

    def ref(self) -> str:
        """``file:line``, the form engineers paste into tickets."""
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Reject:
    """A line that did not parse, with the reason.  Never silently dropped."""

    source: Source
    kind: str
    reason: str

    record_kind: ClassVar[str] = "reject"


# --------------------------------------------------------------------------
# log.imss
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Location:
    """The trailing ``[/path/File.cpp:Class::method:4260]`` tag of a log.imss line."""

    file: str
    function: str
    line: int


@dataclass(frozen=True, slots=True)
class ImssRecord:
    """One log.imss line.  Subclasses add the fields of known body shapes.

    ``shape`` names the grammar variant that produced the record
    (``generic`` for a body whose shape is not known; its text is in ``body``).
    """

    source: Source
    time: datetime
    pid: int
    tid: int
    level: str | None
    component: str | None
    method: str | None
    body: str
    location: Location | None

    shape: ClassVar[str] = "generic"

    @property
    def thread(self) -> str:
        return f"{self.pid}:{self.tid}"

    def shape_fields(self) -> dict[str, Any]:
        """The fields that this body shape adds to the common ones."""
        base = {f.name for f in fields(ImssRecord)}
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in base}


@dataclass(frozen=True, slots=True)
class ImssGeneric(ImssRecord):
    """A body of no known shape; the text is kept in ``body``."""

    shape: ClassVar[str] = "generic"


@dataclass(frozen=True, slots=True)
class RuleRun(ImssRecord):
    """``Running ruleId:12; version:2, numFilters:1, numActions:1``"""

    rule_id: int
    rule_version: int
    num_filters: int | None
    num_actions: int | None

    shape: ClassVar[str] = "rule_run"


@dataclass(frozen=True, slots=True)
class ReceivedHeaderLine(ImssRecord):
    """``AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:...``"""

    header: str

    shape: ClassVar[str] = "received_header"


@dataclass(frozen=True, slots=True)
class MatchedAddress(ImssRecord):
    """``AntiSpoofFilter::parseSendIPFromOneRecvHeader:get matched string:ADDR``"""

    address: str

    shape: ClassVar[str] = "matched_address"


@dataclass(frozen=True, slots=True)
class IpList(ImssRecord):
    """``AntiSpoofFilter: Get 1 IP address from received header. a,b,``"""

    count: int
    ips: tuple[str, ...]

    shape: ClassVar[str] = "ip_list"


@dataclass(frozen=True, slots=True)
class SpoofVerdict(ImssRecord):
    """``AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered.``

    ``triggered`` is None when the wording does not say either way.
    """

    text: str
    triggered: bool | None

    shape: ClassVar[str] = "spoof_verdict"


@dataclass(frozen=True, slots=True)
class FilterResult(ImssRecord):
    """``filter AntiSpoofFilter isTriggered returned true``"""

    filter_name: str
    result: bool

    shape: ClassVar[str] = "filter_result"


@dataclass(frozen=True, slots=True)
class RuleExecuted(ImssRecord):
    """``push ruleID.ruleVer=12.2 into executed rule list``"""

    rule_id: int
    rule_version: int

    shape: ClassVar[str] = "rule_executed"


@dataclass(frozen=True, slots=True)
class FinalAction(ImssRecord):
    """``Final action 0: QuarantineAction``"""

    index: int
    action: str

    shape: ClassVar[str] = "final_action"


@dataclass(frozen=True, slots=True)
class AcceptConnection(ImssRecord):
    """``Info: Accept connection from client [127.0.0.1]``"""

    client: str

    shape: ClassVar[str] = "accept_connection"


@dataclass(frozen=True, slots=True)
class RuleSetStart(ImssRecord):
    """``Start Rule Set Retrieval spent ...``"""

    detail: str

    shape: ClassVar[str] = "rule_set_start"


@dataclass(frozen=True, slots=True)
class MessageIdLine(ImssRecord):
    """``>>> Message-ID : <...>``"""

    message_id: str

    shape: ClassVar[str] = "message_id"


@dataclass(frozen=True, slots=True)
class ScanFinished(ImssRecord):
    """``Scan finished for <internal-id>, ...``"""

    internal_id: str
    detail: str

    shape: ClassVar[str] = "scan_finished"


# --------------------------------------------------------------------------
# polevt.imss and msgtra.imss
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PolicyEvent:
    """One polevt.imss line: one policy rule that fired on one message."""

    source: Source
    time: datetime
    internal_id: str
    sender: str | None
    recipients: tuple[str, ...]
    subject: str | None
    direction: int | None
    rule: str | None
    conditions_code: str | None
    conditions: tuple[str, ...]
    size_kb: float | None
    actions_code: str | None
    actions: tuple[str, ...]
    spam_score: float | None
    attachment: str | None
    attachment_type: str | None
    message_id: str | None
    extra: tuple[str, ...] = field(default=())

    record_kind: ClassVar[str] = "polevt"


@dataclass(frozen=True, slots=True)
class Transaction:
    """One msgtra.imss line: one message transaction (message tracking)."""

    source: Source
    transaction: str
    time: datetime
    logged_time: datetime | None
    delivery_time: datetime | None
    message_id: str | None
    internal_id: str | None
    queue_id: str | None
    number: str | None
    sender: str | None
    recipients: tuple[str, ...]
    subject: str | None
    client_host: str | None
    client_address: str | None
    next_hop: str | None
    response: str | None
    response_internal_id: str | None
    status: str | None
    actions_code: str | None
    actions: tuple[str, ...]
    extra: tuple[str, ...] = field(default=())

    record_kind: ClassVar[str] = "msgtra"


@dataclass(frozen=True, slots=True)
class MailLogEntry:
    """One Postfix maillog line.  ``shape`` names the body shape (``generic`` keeps its text in ``body``).

    A classic syslog timestamp has no year and no zone: the year comes from the file's
    date, the zone from the user; ``zone_assumed`` is True when none was given and UTC
    was assumed.
    """

    source: Source
    time: datetime
    zone_assumed: bool
    host: str
    program: str
    pid: int | None
    shape: str
    body: str
    queue_id: str | None
    message_id: str | None
    sender: str | None
    recipient: str | None
    orig_recipient: str | None
    relay_host: str | None
    relay_address: str | None
    relay_port: int | None
    delay: float | None
    dsn: str | None
    status: str | None
    status_text: str | None
    queued_as: str | None
    size: int | None
    nrcpt: int | None
    client_host: str | None
    client_address: str | None

    record_kind: ClassVar[str] = "maillog"


Record = ImssRecord | PolicyEvent | Transaction | MailLogEntry


def to_row(item: Record | Reject) -> dict[str, Any]:
    """A flat dict for one record or reject: ``kind``, ``file``, ``line``, ``time`` first, then its fields.

    Tuples become lists; a location tag becomes ``location`` as ``file:function:line``.
    """
    if isinstance(item, Reject):
        return {
            "kind": "reject",
            "file": item.source.file,
            "line": item.source.line,
            "log_kind": item.kind,
            "reason": item.reason,
            "raw": item.source.text,
        }
    row: dict[str, Any] = {}
    if isinstance(item, ImssRecord):
        row["kind"] = "imss"
        row["shape"] = item.shape
    else:
        row["kind"] = item.record_kind
        if isinstance(item, MailLogEntry):
            row["shape"] = item.shape
    row["file"] = item.source.file
    row["line"] = item.source.line
    row["time"] = item.time
    for f in fields(item):
        if f.name in ("source", "time", "shape"):
            continue
        value = getattr(item, f.name)
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Location):
            value = f"{value.file}:{value.function}:{value.line}"
        row[f.name] = value
    if isinstance(item, ImssRecord):
        row["thread"] = item.thread
    return row
