"""log.imss lines -> one scan session per scanned message, by thread.

A scanner thread (``[pid:tid]``) scans many messages one after another, and the
lines of different threads interleave.  Per thread, the lines are in order, so
a session is cut from the thread's stream at its markers:

==================  ===========================================================
marker              effect
==================  ===========================================================
accept_connection   always starts a new session
rule_set_start      starts a new session unless the current one has only seen
                    its start (accept connection, Message-ID)
message_id          joins the current session unless it has finished, reached
                    its final action, or already has another Message-ID
rule lines, trace   join the current session; after a final action or a
                    ``Scan finished`` they start a new one (logs at a lower
                    level lack the start markers)
final_action        joins the current session (``Final action 0``, ``1``...)
scan_finished       joins and closes the session, giving its internal ID
==================  ===========================================================

Each session says which boundaries it saw (``start``: the marker that opened it;
``end``: ``scan_finished``, ``next_scan`` or ``end_of_input``).  Files are read in
rotation order, so a session that crosses ``.0001`` -> ``.0002`` (or a day's last file
-> the next day's ``.0001``) is one session; but never into a file that does not
continue the one before (:func:`gap_after`: a rotated file missing or given empty
between them, the same rotation given twice, a day jumped) nor past a read error (a
gzip cut short or corrupt: the lines lost after it may hold one scan's end and the
next one's start, :func:`cut_words`): a session open at the end of what was read of
the file before ends there, as at the end of the input (``end_of_input``,
:attr:`ScanSession.next_file` saying why), and the thread's lines after it start a
new one.
Generic lines do not move boundaries and are not kept.
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import ReadError
from .grammars import imss
from .grammars.common import required_literal
from .records import (
    FilterResult,
    FinalAction,
    ImssGeneric,
    ImssRecord,
    IpList,
    MatchedAddress,
    ReceivedHeaderLine,
    Reject,
    RuleExecuted,
    RuleRun,
    ScanFinished,
    Source,
    SpoofVerdict,
)
from .sources import LogFile

SPOOF_FILTER = "AntiSpoofFilter"

#: the body shapes that move session boundaries (every line of a trace names the filter)
BOUNDARY_SHAPES = (
    imss.ACCEPT_CONNECTION, imss.RULE_SET_START, imss.MESSAGE_ID, imss.RULE_RUN,
    imss.RULE_EXECUTED, imss.FINAL_ACTION, imss.SCAN_FINISHED,
)
#: text that every marker line contains, derived from the shapes: the byte-level prefilter.
#: The trace shapes, the filter's result and its other wording all carry the component name.
MARKER_NEEDLES: tuple[bytes, ...] = (SPOOF_FILTER.encode(),) + tuple(
    required_literal(v.grammar.re.pattern).encode() for v in BOUNDARY_SHAPES  # type: ignore[attr-defined]
)


@dataclass(slots=True)  # thousands of them live through a correlation
class SpoofTrace:
    """The AntiSpoofFilter lines of one evaluation: headers, matches, logged list, verdict."""

    headers: list[ReceivedHeaderLine] = field(default_factory=list)
    matched: list[MatchedAddress] = field(default_factory=list)
    ip_list: IpList | None = None
    verdict: SpoofVerdict | None = None
    filter_result: FilterResult | None = None
    other: list[ImssRecord] = field(default_factory=list)

    #: every record of the trace in the order it was fed (file order: rotations in reading order)
    fed: list[ImssRecord] = field(default_factory=list, repr=False, compare=False)

    @property
    def records(self) -> list[ImssRecord]:
        """The trace's lines in file order (the order they were read, not the text of their paths)."""
        if self.fed:
            return list(self.fed)
        recs: list[ImssRecord] = [*self.headers, *self.matched, *self.other]
        recs += [r for r in (self.ip_list, self.verdict, self.filter_result) if r is not None]
        return sorted(recs, key=lambda r: r.source.line)  # built by hand, not fed: one file assumed

    @property
    def logged_ips(self) -> list[str] | None:
        return list(self.ip_list.ips) if self.ip_list is not None else None

    @property
    def logged_count(self) -> int | None:
        return self.ip_list.count if self.ip_list is not None else None

    @property
    def triggered(self) -> bool | None:
        """What IMSVA decided: from the verdict line, else from ``isTriggered returned``."""
        if self.verdict is not None and self.verdict.triggered is not None:
            return self.verdict.triggered
        if self.filter_result is not None:
            return self.filter_result.result
        return None

    @property
    def time(self) -> datetime:
        return self.records[-1].time

    @property
    def evaluated_addresses(self) -> bool:
        """Did the filter get as far as the Received headers (and not stop at the domain check)?"""
        return bool(self.headers or self.matched or self.ip_list is not None or self.verdict is not None)

    @property
    def complete(self) -> bool:
        return self.ip_list is not None and (self.verdict is not None or self.filter_result is not None)

    # what rows read of a trace, as plain values (a HeldTrace has them without parsing its lines again)

    @property
    def header_texts(self) -> tuple[str, ...]:
        """The Received headers IMSVA logged, as text, in the order logged."""
        return tuple(h.header for h in self.headers)

    @property
    def matched_addresses(self) -> tuple[str, ...]:
        return tuple(m.address for m in self.matched)

    @property
    def verdict_text(self) -> str | None:
        return self.verdict.text if self.verdict is not None else None

    @property
    def first_line(self) -> tuple[datetime, str] | None:
        """The first line's time and ``file:line``; None for a trace of no lines."""
        recs = self.records
        return (recs[0].time, recs[0].source.ref()) if recs else None

    @property
    def ip_list_ref(self) -> str | None:
        return self.ip_list.source.ref() if self.ip_list is not None else None

    @property
    def verdict_ref(self) -> str | None:
        return self.verdict.source.ref() if self.verdict is not None else None


#: one tuple of file names for all the sessions that span the same files
_FILE_TUPLES: dict[tuple[str, ...], tuple[str, ...]] = {}


class _Lines:
    """A closed session's lines: each line's file and number, and all their texts zlib-compressed (a scan's
    rule and filter lines repeat: about 1/6 of their size).  ``pos`` holds three 64-bit integers a line
    (file number, line number, where its text ends), as bytes: one object, no spare room."""

    __slots__ = ("files", "pos", "blob")

    def __init__(self, sources: Sequence[Source]) -> None:
        files: dict[str, int] = {}
        pos = array("q")
        n = 0
        for src in sources:
            n += len(src.text)
            pos.extend((files.setdefault(src.file, len(files)), src.line, n))
        names = tuple(files)
        self.files = _FILE_TUPLES.setdefault(names, names)
        self.pos = pos.tobytes()
        # any str (lone surrogates of undecodable bytes included) comes back the same through surrogatepass
        self.blob = zlib.compress("".join(s.text for s in sources).encode("utf-8", "surrogatepass"), 1)

    def __len__(self) -> int:
        return len(self.pos) // 24

    def all(self) -> str:
        return zlib.decompress(self.blob).decode("utf-8", "surrogatepass")

    def file(self, i: int) -> str:
        return self.files[memoryview(self.pos).cast("q")[3 * i]]

    def line(self, i: int) -> int:
        return memoryview(self.pos).cast("q")[3 * i + 1]  # type: ignore[no-any-return]

    def text(self, i: int, text: str | None = None) -> str:
        """The ``i``-th line's text (``text``: :meth:`all`, when the caller has it)."""
        pos = memoryview(self.pos).cast("q")
        text = self.all() if text is None else text
        return text[pos[3 * i - 1] if i else 0 : pos[3 * i + 2]]

    def source(self, i: int, text: str | None = None) -> Source:
        pos = memoryview(self.pos).cast("q")
        return Source(self.files[pos[3 * i]], pos[3 * i + 1], self.text(i, text))

    def places(self) -> list[tuple[str, int]]:
        files, pos = self.files, memoryview(self.pos).cast("q")
        return [(files[pos[i]], pos[i + 1]) for i in range(0, len(pos), 3)]

    def shift_lines(self, shift: int) -> None:
        pos = array("q", self.pos)
        for i in range(1, len(pos), 3):
            pos[i] += shift
        self.pos = pos.tobytes()


class HeldSource(Source):
    """A :class:`~imsvalog.records.Source` that its session's :class:`CompactRecords` holds (file, line
    number and text, the text compressed, read on demand): the source of a kept AntiSpoofFilter trace
    record.  Equal to, hashed like and shown as the plain :class:`Source` of the same file, line and
    text; :func:`dataclasses.replace` gives a plain one."""

    __slots__ = ("_lines", "_i")

    def __new__(cls, file: str, line: int, text: str | None = None, *, lines: _Lines | None = None, i: int = 0):  # type: ignore[no-untyped-def]
        if lines is None:
            return Source(file, line, text)  # type: ignore[arg-type]  # e.g. dataclasses.replace
        self = object.__new__(cls)
        object.__setattr__(self, "_lines", lines)
        object.__setattr__(self, "_i", i)
        return self

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass  # set up by __new__ (the dataclass __init__ would set the slots this class reads on demand)

    @property  # type: ignore[override]
    def file(self) -> str:  # type: ignore[override]
        return self._lines.file(self._i)

    @property  # type: ignore[override]
    def line(self) -> int:  # type: ignore[override]
        return self._lines.line(self._i)

    @property  # type: ignore[override]
    def text(self) -> str:  # type: ignore[override]
        return self._lines.text(self._i)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Source):
            return (self.file, self.line, self.text) == (other.file, other.line, other.text)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.file, self.line, self.text))  # as the frozen dataclass Source hashes

    def __repr__(self) -> str:
        return f"Source(file={self.file!r}, line={self.line!r}, text={self.text!r})"

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (_held_source, (self._lines, self._i))


def _held_source(lines: _Lines, i: int) -> HeldSource:
    return HeldSource("", 0, lines=lines, i=i)


class CompactRecords(Sequence[ImssRecord]):
    """A closed session's records, held compactly: the records of its AntiSpoofFilter traces as the very
    objects its :class:`SpoofTrace` holds, and every other record as its line's place and text, parsed
    again when asked for (equal to the one first parsed: the parse is a pure function of the line).
    All the lines' places and texts are held here (the texts zlib-compressed), the trace records' too:
    their sources become :class:`HeldSource` (same file, line and text, read from here on demand).
    A list of records costs ~640 bytes a line; this ~40.

    :func:`~imsvalog.correlation.scan.read_spoof_sessions` keeps its sessions' records this way, so
    that the memory of ``correlate`` does not grow with the records of every evaluated scan. It reads
    like a list (``len``, index, slice, iteration, ``==`` against a list); :meth:`sources` gives the
    lines' places without parsing.
    """

    __slots__ = ("_lines", "_kept_at", "_kept")

    def __init__(self, records: Sequence[ImssRecord], keep: Iterable[ImssRecord] = ()) -> None:
        kept_ids = {id(r) for r in keep}
        kept_at = tuple(i for i, r in enumerate(records) if id(r) in kept_ids)
        self._lines = lines = _Lines([r.source for r in records])
        self._kept_at = kept_at
        self._kept = tuple(records[i] for i in kept_at)
        for i, r in zip(kept_at, self._kept):
            # frozen, but held by this session only: its source is now read from here
            object.__setattr__(r, "source", HeldSource("", 0, lines=lines, i=i))

    def __len__(self) -> int:
        return len(self._lines)

    def _kept_record(self, i: int) -> ImssRecord | None:
        for j, at in enumerate(self._kept_at):  # a few trace records
            if at == i:
                return self._kept[j]
        return None

    def _source(self, i: int, text: str | None) -> Source:
        kept = self._kept_record(i)
        if kept is not None:
            return kept.source
        return self._lines.source(i, text)

    def source(self, i: int) -> Source:
        """The ``i``-th line's :class:`Source` (no parse)."""
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._source(i, None)

    def sources(self) -> list[Source]:
        text = self._lines.all()
        return [self._source(i, text) for i in range(len(self))]

    def shift_lines(self, shift: int) -> None:
        """Add ``shift`` to every line number held here (the kept records' sources read theirs from here)."""
        self._lines.shift_lines(shift)

    def places(self) -> list[tuple[str, int]]:
        """Each line's file and line number (no :class:`Source`, no text)."""
        return self._lines.places()

    def _record(self, i: int, text: str | None = None) -> ImssRecord:
        kept = self._kept_record(i)
        if kept is not None:
            return kept
        from .readers import parse_line

        rec = parse_line("imss", self._source(i, text))
        assert not isinstance(rec, Reject), rec  # it parsed when the session was built
        return rec  # type: ignore[return-value]

    def __getitem__(self, i):  # type: ignore[no-untyped-def,override]
        if isinstance(i, slice):
            text = self._lines.all()
            return [self._record(j, text) for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._record(i)

    def __iter__(self) -> Iterator[ImssRecord]:
        text = self._lines.all()
        return (self._record(i, text) for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple, CompactRecords)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like a list

    def __repr__(self) -> str:
        return f"<CompactRecords: {len(self)} records>"


class HeldTrace(SpoofTrace):
    """A closed session's :class:`SpoofTrace` that keeps no record objects: its records are the session's
    :class:`CompactRecords` at the places it names, parsed again when asked for (``headers``, ``matched``,
    ``ip_list``, ``verdict``, ``filter_result``, ``other``, ``fed``: equal to the ones first parsed), and
    what rows read of it is kept as plain values (the headers' text, IMSVA's logged list, count and
    verdict, its first and last line's time).  Equal to the :class:`SpoofTrace` of the same records."""

    __slots__ = ("_records", "_at", "_shapes", "_headers", "_matched", "_ips", "_count", "_verdict",
                 "_said", "_result", "_first", "_last")

    def __new__(cls, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if kwargs.get("_held") is None:
            return SpoofTrace(*args, **kwargs)  # type: ignore[arg-type]  # e.g. dataclasses.replace
        return object.__new__(cls)

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass  # set up by :meth:`of`

    @classmethod
    def of(cls, trace: SpoofTrace, records: CompactRecords, at: tuple[int, ...]) -> HeldTrace:
        """``trace`` held by ``records``: ``at`` is where each of its fed records is among them."""
        self = cls(_held=True)
        put = object.__setattr__
        put(self, "_records", records)
        put(self, "_at", at)
        put(self, "_shapes", "".join(_SHAPE_CODE[type(r)] for r in trace.fed))
        put(self, "_headers", tuple(h.header for h in trace.headers))
        put(self, "_matched", tuple(m.address for m in trace.matched))
        ip = trace.ip_list
        put(self, "_ips", ip.ips if ip is not None else None)
        put(self, "_count", ip.count if ip is not None else None)
        v = trace.verdict
        put(self, "_verdict", v.triggered if v is not None else None)
        put(self, "_said", v.text if v is not None else None)
        put(self, "_result", trace.filter_result.result if trace.filter_result is not None else None)
        put(self, "_first", trace.fed[0].time if trace.fed else None)
        put(self, "_last", trace.fed[-1].time if trace.fed else None)
        return self

    def _of_shape(self, code: str) -> list[ImssRecord]:
        recs = self._records
        return [recs[i] for i, c in zip(self._at, self._shapes) if c == code]

    def _one(self, code: str) -> ImssRecord | None:
        got = self._of_shape(code)
        return got[-1] if got else None  # a later line of a shape replaced an earlier one as it was fed

    headers = property(lambda self: self._of_shape("h"))  # type: ignore[assignment]
    matched = property(lambda self: self._of_shape("m"))  # type: ignore[assignment]
    other = property(lambda self: self._of_shape("o"))  # type: ignore[assignment]
    ip_list = property(lambda self: self._one("i"))  # type: ignore[assignment]
    verdict = property(lambda self: self._one("v"))  # type: ignore[assignment]
    filter_result = property(lambda self: self._one("r"))  # type: ignore[assignment]
    fed = property(lambda self: [self._records[i] for i in self._at])  # type: ignore[assignment]

    @property
    def header_texts(self) -> tuple[str, ...]:
        return self._headers

    @property
    def matched_addresses(self) -> tuple[str, ...]:
        return self._matched

    @property
    def logged_ips(self) -> list[str] | None:
        return list(self._ips) if self._ips is not None else None

    @property
    def logged_count(self) -> int | None:
        return self._count

    @property
    def verdict_text(self) -> str | None:
        return self._said

    @property
    def triggered(self) -> bool | None:
        if self._verdict is not None:
            return self._verdict
        return self._result

    @property
    def time(self) -> datetime:
        if self._last is None:
            raise IndexError("list index out of range")  # as records[-1] of no records
        return self._last

    @property
    def first_line(self) -> tuple[datetime, str] | None:
        if not self._at:
            return None
        return self._first, self._place(self._at[0])  # type: ignore[return-value]

    def _place(self, i: int) -> str:
        """``file:line`` of the session's ``i``-th line, as :meth:`Source.ref` gives it (its text not read)."""
        lines = self._records._lines  # noqa: SLF001 - the session's own compact lines
        return f"{lines.file(i)}:{lines.line(i)}"

    def _ref(self, code: str) -> str | None:
        at = [i for i, c in zip(self._at, self._shapes) if c == code]
        return self._place(at[-1]) if at else None

    @property
    def ip_list_ref(self) -> str | None:
        return self._ref("i")

    @property
    def verdict_ref(self) -> str | None:
        return self._ref("v")

    @property
    def evaluated_addresses(self) -> bool:
        return bool(self._headers or self._matched or self._count is not None or self._said is not None)

    @property
    def complete(self) -> bool:
        return self._count is not None and (self._said is not None or self._result is not None)

    def _fields(self) -> tuple[object, ...]:
        return (self.headers, self.matched, self.ip_list, self.verdict, self.filter_result, self.other)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SpoofTrace):
            theirs = other._fields() if isinstance(other, HeldTrace) else (
                other.headers, other.matched, other.ip_list, other.verdict, other.filter_result, other.other)
            return self._fields() == theirs
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like SpoofTrace

    def __repr__(self) -> str:
        return (f"SpoofTrace(headers={self.headers!r}, matched={self.matched!r}, ip_list={self.ip_list!r}, "
                f"verdict={self.verdict!r}, filter_result={self.filter_result!r}, other={self.other!r})")

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (_held_trace, tuple(getattr(self, a) for a in HeldTrace.__slots__))


def _held_trace(*values: object) -> HeldTrace:
    self = HeldTrace(_held=True)
    for name, v in zip(HeldTrace.__slots__, values):
        object.__setattr__(self, name, v)
    return self


#: each trace shape's letter in :attr:`HeldTrace._shapes`
_SHAPE_CODE: dict[type, str] = {
    ReceivedHeaderLine: "h", MatchedAddress: "m", IpList: "i", SpoofVerdict: "v", FilterResult: "r", ImssGeneric: "o",
}


def record_sources(records: Sequence[ImssRecord]) -> list[Source]:
    """The :class:`Source` of each record, without parsing compact ones."""
    if isinstance(records, CompactRecords):
        return records.sources()
    return [r.source for r in records]


@dataclass(slots=True)
class ScanSession:
    """One scanned message as far as log.imss shows it."""

    id: str
    thread: str
    records: list[ImssRecord] = field(default_factory=list)
    start: str = ""
    end: str = "end_of_input"
    message_id: str | None = None
    internal_id: str | None = None
    rules: list[tuple[int, int]] = field(default_factory=list)
    executed: list[tuple[int, int]] = field(default_factory=list)
    final_actions: list[str] = field(default_factory=list)
    traces: list[SpoofTrace] = field(default_factory=list)
    finished: bool = False
    #: why the session was cut at the end of its last file (``end`` is then ``end_of_input``): the next file given
    #: does not continue it (``the next file, log.imss.20240312.0002, is not among the files given``; a rotation given
    #: again, a day jumped: :func:`gap_after`), so what the thread logged next is not here
    next_file: str | None = None

    @property
    def first_time(self) -> datetime:
        return self.records[0].time

    @property
    def last_time(self) -> datetime:
        return self.records[-1].time

    @property
    def sources(self) -> list[tuple[str, int]]:
        if isinstance(self.records, CompactRecords):
            return self.records.places()
        return [(r.source.file, r.source.line) for r in self.records]

    @property
    def files(self) -> list[str]:
        seen: dict[str, None] = {}
        for s in record_sources(self.records):
            seen.setdefault(s.file, None)
        return list(seen)

    def compact(self) -> None:
        """Hold the records as :class:`CompactRecords` and the traces as :class:`HeldTrace` (the session is
        closed: nothing is added): no record object is kept."""
        if isinstance(self.records, CompactRecords):
            return
        where = {id(r): i for i, r in enumerate(self.records)}
        records = CompactRecords(self.records)
        traces = []
        for t in self.traces:
            n = len(t.headers) + len(t.matched) + len(t.other) + sum(
                x is not None for x in (t.ip_list, t.verdict, t.filter_result))
            if type(t) is SpoofTrace and t.fed and len(t.fed) == n and all(id(r) in where for r in t.fed):
                t = HeldTrace.of(t, records, tuple(where[id(r)] for r in t.fed))
            traces.append(t)
        self.records = records  # type: ignore[assignment]
        self.traces = traces

    @property
    def spoof_traces(self) -> list[SpoofTrace]:
        """The traces in which the filter read Received headers (the ones worth a row)."""
        return [t for t in self.traces if t.evaluated_addresses]

    @property
    def has_rules(self) -> bool:
        return bool(self.rules or self.traces or self.executed)

    @property
    def boundaries(self) -> str:
        """How the session was cut, in words: ``from its Accept connection line to its Scan finished line``."""
        start = _START_WORDS.get(self.start, f"its first {self.start.replace('_', ' ')} line")
        if self.end == "end_of_input" and self.next_file is not None:
            end = "what could be read" if self.next_file.startswith(UNREAD) else "its file"
            return f"from {start} to the end of {end} (no Scan finished line; {self.next_file})"
        return f"from {start} to {_END_WORDS[self.end]}"

    def to_row(self) -> dict[str, Any]:
        t = self.spoof_traces[0] if self.spoof_traces else None
        return {
            "session": self.id,
            "thread": self.thread,
            "start_time": self.first_time,
            "end_time": self.last_time,
            "start": self.start,
            "end": self.end,
            "message_id": self.message_id,
            "internal_id": self.internal_id,
            "rules": [f"{a}.{b}" for a, b in self.rules],
            "final_actions": list(self.final_actions),
            "spoof_traces": len(self.spoof_traces),
            "logged_ips": t.logged_ips if t else None,
            "logged_count": t.logged_count if t else None,
            "triggered": t.triggered if t else None,
            "received_headers": [h.header for h in t.headers] if t else [],
            "files": self.files,
            "first_line": record_sources(self.records[:1])[0].ref(),
            "lines": len(self.records),
        }


#: the columns of :meth:`Session.to_row` (a frame of no sessions has them too)
SESSION_COLUMNS = [
    "session", "thread", "start_time", "end_time", "start", "end", "message_id", "internal_id", "rules",
    "final_actions", "spoof_traces", "logged_ips", "logged_count", "triggered", "received_headers", "files",
    "first_line", "lines",
]

_START_WORDS = {
    "accept_connection": "its Accept connection line",
    "rule_set_start": "its Start Rule Set line",
    "message_id": "its Message-ID line",
    "rule_run": "its first rule run (no Accept connection line before it)",
}
_END_WORDS = {
    "scan_finished": "its Scan finished line",
    "next_scan": "the thread's next scan (no Scan finished line)",
    "end_of_input": "the end of the log (no Scan finished line)",
}

_TRACE_SHAPES = (ReceivedHeaderLine, MatchedAddress, IpList, SpoofVerdict)


#: one (rule ID, version) tuple for all sessions that ran or executed that rule
_PAIRS: dict[tuple[int, int], tuple[int, int]] = {}


def _pair(rule_id: int, version: int) -> tuple[int, int]:
    key = (rule_id, version)
    return _PAIRS.setdefault(key, key)


def _starts_new_trace(trace: SpoofTrace, rec: ImssRecord) -> bool:
    done = trace.ip_list is not None or trace.verdict is not None or trace.filter_result is not None
    if isinstance(rec, (ReceivedHeaderLine, MatchedAddress)):
        return done
    if isinstance(rec, IpList):
        return done
    if isinstance(rec, SpoofVerdict):
        return trace.verdict is not None or trace.filter_result is not None
    return trace.filter_result is not None  # FilterResult


class SessionBuilder:
    """Feed log.imss records in file order; get sessions as they close."""

    def __init__(self) -> None:
        self.open: dict[str, ScanSession] = {}
        self.counter = 0

    def _new(self, thread: str, start: str) -> ScanSession:
        self.counter += 1
        s = ScanSession(id=f"{thread}#{self.counter}", thread=thread, start=start)
        self.open[thread] = s
        return s

    def close(self, thread: str, end: str) -> ScanSession | None:
        s = self.open.pop(thread, None)
        if s is not None:
            s.end = end
        return s

    def _restart(self, thread: str, start: str, closed: list[ScanSession]) -> ScanSession:
        old = self.close(thread, "next_scan")
        if old is not None:
            closed.append(old)
        return self._new(thread, start)

    def feed(self, rec: ImssRecord) -> list[ScanSession]:
        """Add one record; returns the sessions this record closed (zero, one or two)."""
        if isinstance(rec, FilterResult) and rec.filter_name != SPOOF_FILTER:
            return []  # other filters' results carry no boundary (and the fast path does not read them)
        thread = rec.thread
        cur = self.open.get(thread)
        if isinstance(rec, ImssGeneric):
            # other AntiSpoofFilter wording is evidence for the current evaluation, not a boundary
            if rec.component == SPOOF_FILTER and cur is not None and cur.traces:
                cur.traces[-1].other.append(rec)
                cur.traces[-1].fed.append(rec)
                cur.records.append(rec)
            return []
        closed: list[ScanSession] = []
        shape = rec.shape
        if shape == "accept_connection":
            cur = self._restart(thread, shape, closed)
        elif shape == "rule_set_start":
            if cur is None or cur.has_rules or cur.final_actions or cur.finished:
                cur = self._restart(thread, shape, closed)
        elif shape == "message_id":
            mid = rec.message_id  # type: ignore[attr-defined]
            if (
                cur is None
                or cur.finished
                or cur.final_actions
                or (cur.message_id is not None and cur.message_id != mid)
            ):
                cur = self._restart(thread, shape, closed)
            cur.message_id = mid
        elif shape == "scan_finished":
            if cur is None or cur.finished:
                cur = self._restart(thread, shape, closed)
        elif cur is None or cur.finished or (cur.final_actions and shape != "final_action"):
            cur = self._restart(thread, shape, closed)
        cur.records.append(rec)
        self._apply(cur, rec)
        if shape == "scan_finished":
            cur.finished = True
            done = self.close(thread, "scan_finished")
            if done is not None:
                closed.append(done)
        return closed

    @staticmethod
    def _apply(s: ScanSession, rec: ImssRecord) -> None:
        if isinstance(rec, RuleRun):
            s.rules.append(_pair(rec.rule_id, rec.rule_version))
        elif isinstance(rec, RuleExecuted):
            s.executed.append(_pair(rec.rule_id, rec.rule_version))
        elif isinstance(rec, FinalAction):
            s.final_actions.append(rec.action)
        elif isinstance(rec, ScanFinished):
            s.internal_id = rec.internal_id
        elif isinstance(rec, _TRACE_SHAPES) or (isinstance(rec, FilterResult) and rec.filter_name == SPOOF_FILTER):
            trace = s.traces[-1] if s.traces else None
            # a line that belongs before what the evaluation already has starts a second
            # evaluation (another rule with the filter), never overwrites the first
            if trace is None or _starts_new_trace(trace, rec):
                trace = SpoofTrace()
                s.traces.append(trace)
            if isinstance(rec, ReceivedHeaderLine):
                trace.headers.append(rec)
            elif isinstance(rec, MatchedAddress):
                trace.matched.append(rec)
            elif isinstance(rec, IpList):
                trace.ip_list = rec
            elif isinstance(rec, SpoofVerdict):
                trace.verdict = rec
            elif isinstance(rec, FilterResult):
                trace.filter_result = rec
            trace.fed.append(rec)

    def flush(self, next_file: str | None = None) -> list[ScanSession]:
        """Close what is still open at the end of the input, or (``next_file``: why, :func:`gap_after`) at the end
        of a file that the next file given does not continue: no session is joined across it."""
        out = [s for s in self.open.values()]
        for s in out:
            s.end = "end_of_input"
            s.next_file = next_file
        self.open.clear()
        return sorted(out, key=lambda s: (s.records[0].source.file, s.records[0].source.line))


def gap_after(files: Sequence[LogFile]) -> dict[int, str]:
    """``{i: words}``: ``files[i + 1]`` (in reading order) does not continue ``files[i]`` (:func:`imsvalog.rotation.breaks`:
    a rotated file missing or given hollow between them, the same rotation given again, a day jumped), so no scan
    session is joined across it; ``words`` say why, seen from the end of ``files[i]`` (``the next file,
    log.imss.20240312.0002, is not among the files given``).  Files that follow each other (``.0001`` and ``.0002``,
    a day's last file and the next day's ``.0001``) join as before."""
    from .rotation import breaks

    return {i: b.next_words() for i, b in breaks(files).items()}


#: how :attr:`ScanSession.next_file` begins when the session ends where reading its file stopped (:func:`unread_words`)
UNREAD = "the rest of "


def unread_words(f: LogFile, exc: ReadError) -> str:
    """Why a session open where reading ``f`` stopped (a gzip cut short or corrupt, an I/O error) ends there: the
    lines lost after the error may hold its end and the next scan's start, so the thread's lines in the next file
    are not joined to it (``the rest of log.imss.20240312.0002.gz could not be read (after line 14: ...)``; a file of
    which no line could be read: ``log.imss.20240312.0002.gz could not be read from its start (...)``)."""
    if not exc.lines:
        return f"{f.name} could not be read {not_read_to_end(exc)}"
    return f"{UNREAD}{f.name} could not be read (after line {exc.lines}: {exc.reason})"


def not_read_to_end(exc: ReadError) -> str:
    """How a file was not read to its end, after ``could not be read``: ``to its end (after line 14: ...)``, or
    ``from its start (...)`` when no line of it could be read."""
    if not exc.lines:
        return f"from its start ({exc.reason})"
    return f"to its end (after line {exc.lines}: {exc.reason})"


def cut_words(files: Sequence[LogFile], i: int, gaps: dict[int, str], unread: dict[int, ReadError]) -> str | None:
    """Why the sessions open at the end of what was read of ``files[i]`` end there (None: the next file continues
    them): the rest of the file could not be read (``unread``: the error that stopped reading it, found only while
    reading), or the next file does not continue it (``gaps``: :func:`gap_after`); both said when both are so."""
    said = [w for w in (unread_words(files[i], unread[i]) if i in unread else None, gaps.get(i)) if w is not None]
    return "; ".join(said) if said else None


def build_sessions(records: Iterable[ImssRecord]) -> Iterator[ScanSession]:
    """Sessions from log.imss records (in file order), yielded as they close (not in start order)."""
    b = SessionBuilder()
    for rec in records:
        yield from b.feed(rec)
    yield from b.flush()
