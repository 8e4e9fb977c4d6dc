"""Reading log.imss for correlation: the marker lines, the scan sessions that matter, and an index of every scan.

:func:`read_spoof_sessions` finds the lines that carry session markers with a
byte-level prefilter, parses in full only the scans that hold an AntiSpoofFilter
evaluation, and indexes the others (:class:`ScanIndex`) for the "why no trace"
evidence. :func:`read_sessions` builds every session (the reference the fast path
is tested against).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from ..errors import ReadError
from ..grammars import imss
from ..grammars.common import ParseFailure, make_time
from ..readers import parse_line, unreadable_rest
from ..records import AcceptConnection, MessageIdLine, Reject, ScanFinished, Source
from ..scan_sessions import MARKER_NEEDLES, ScanSession, SessionBuilder
from ..sources import LogFile, ScanStats, iter_matching_lines

#: progress callback: bytes read so far, bytes in all
ProgressFn = Callable[[int, int], None]


def normalize_message_id(mid: str | None) -> str | None:
    if not mid:
        return None
    return mid.strip().strip("<>").strip().lower() or None


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
            s = builder.close(thread, end)
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
