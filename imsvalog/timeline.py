"""Everything the appliance logged about one message, in time order.

IMSVA sits between two Postfix passes, and each part of the appliance writes its
own file.  :func:`trace` follows one message through all of them, the way support
engineers do it by hand (grep the Message-ID, cut the thread's scan, follow
``queued as``), and says for every line which link brought it in:

====================  ========================================================
stage                 lines
====================  ========================================================
``postfix-in``        maillog, the first pass: queue A (``client=``,
                      ``message-id=``, ``from=``), relayed to the scanner at
                      127.0.0.1:10025 (``status=sent ... queued as B``)
``scan``              log.imss: every line of the scanning thread between the
                      session's boundaries (its ``Accept connection`` or the
                      thread's previous ``Scan finished``, to its own ``Scan
                      finished`` or the thread's next ``Accept``), across
                      rotated and gzipped files
``policy``            polevt.imss: the events of the message's internal ID
``tracking``          msgtra.imss: the transactions of the message
``postfix-out``       maillog, the second pass: queue B, delivery, bounces
====================  ========================================================

The ID may be an internal message ID, a Message-ID (with or without ``<>``), a
Postfix queue ID, or an envelope address (then every message from or to it in
``since``..``until`` is traced, the matching messages listed first).

Reading is lazy: small files (polevt, msgtra, maillog) are searched for the IDs
with ``bytes.find`` over big blocks and only the matching lines are parsed; in
log.imss the first pass looks for one ID with ``bytes.find`` and counts line
breaks with numpy, then only the scanning thread's lines around each hit are
read (``rfind`` of the thread tag), reaching into the previous or next rotated
file when the scan crosses a rotation.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .bundles import one_run
from .errors import InputError, ReadError
from .grammars.maillog import QUEUE_ID, queue_key
from .grammars.received import id_word
from .readers import PathsLike, as_path_list, maillog_hint, parse_line, unread_reason
from .records import (AcceptConnection, MailLogEntry, MessageIdLine, PolicyEvent, ReceivedHeaderLine, Reject,
                      ScanFinished, Source, Transaction)
from .scan_sessions import not_read_to_end, unread_words
from .sources import KIND_NAMES, LogFile, decode, discover, file_size, sort_files

if TYPE_CHECKING:
    import pandas as pd

    from .correlation.result import Row
    from .rotation import Break
    from .scan_sessions import ScanSession

#: stages in the order a message passes through them
STAGES: tuple[str, ...] = ("postfix-in", "scan", "policy", "tracking", "postfix-out")
_RANK = {s: i for i, s in enumerate(STAGES)}

INTERNAL_ID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_THREAD = re.compile(rb"[ \t]\[(\d+):(\d+)\]")
_ACCEPT = b"Accept connection from client"
_FINISHED = b"Scan finished for "
#: how many lines of one thread a scan may have before the cut gives up looking for its boundary
MAX_SESSION_LINES = 20_000
#: the most messages an envelope-address search traces; more asks for a narrower --since/--until
MAX_MESSAGES = 20


@dataclass(frozen=True)
class TraceLine:
    """One line of the timeline: where it is, what stage, and why it is here."""

    stage: str
    time: datetime | None
    file: str
    line: int
    text: str  # as read, undecodable bytes kept as surrogate escapes
    link: str

    @property
    def raw_bytes(self) -> bytes:
        return self.text.encode("utf-8", "surrogateescape")

    def ref(self) -> str:
        return f"{self.file}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "time": self.time, "file": self.file, "line": self.line,
                "link": self.link, "text": self.text}


@dataclass(frozen=True)
class Candidate:
    """A message that matched an envelope-address search."""

    time: datetime | None
    sender: str | None
    recipients: tuple[str, ...]
    subject: str | None
    internal_id: str | None
    message_id: str | None
    queue_id: str | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time, "sender": self.sender, "recipients": list(self.recipients),
                "subject": self.subject, "internal_id": self.internal_id, "message_id": self.message_id,
                "queue_id": self.queue_id, "source": self.source}


@dataclass
class Trace:
    """The timeline of one message (or of the messages an address search found)."""

    query: str
    id_kind: str  # internal-id | message-id | queue-id | address
    internal_ids: list[str] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)
    queue_ids: list[str] = field(default_factory=list)
    lines: list[TraceLine] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def stages(self) -> dict[str, int]:
        """Lines per stage, in pipeline order (stages with no line included, as 0)."""
        out = {s: 0 for s in STAGES}
        for ln in self.lines:
            out[ln.stage] += 1
        return out

    @property
    def frame(self) -> pd.DataFrame:
        """The timeline as a DataFrame, one row per line (see :func:`imsvalog.display.trace_frame`)."""
        from .display import trace_frame

        return trace_frame(self)

    def to_frame(self) -> pd.DataFrame:
        return self.frame

    def __repr__(self) -> str:  # short: the dataclass repr would print every line
        return f"<Trace of {self.query} ({self.id_kind}): {len(self.lines)} line{'s' if len(self.lines) != 1 else ''}>"

    def _repr_html_(self) -> str:  # Jupyter
        from .display import trace_html

        return trace_html(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "id_kind": self.id_kind,
            "internal_ids": self.internal_ids,
            "message_ids": self.message_ids,
            "queue_ids": self.queue_ids,
            "candidates": [c.to_dict() for c in self.candidates],
            "stages": self.stages,
            "notes": self.notes,
            "lines": [ln.to_dict() for ln in self.lines],
        }


# ---------------------------------------------------------------------------
# What the ID is
# ---------------------------------------------------------------------------


def id_kind(text: str) -> str:
    """Which kind of ID a user typed.

    >>> [id_kind(x) for x in ("87BDADC9-87B8-3D05-A958-0267A8088406", "<a@b>", "a@b.example", "DDDFC11FB0C")]
    ['internal-id', 'message-id', 'message-id-or-address', 'queue-id']
    """
    t = _query(text)
    if INTERNAL_ID.fullmatch(t):
        return "internal-id"
    if t.startswith("<") and t.endswith(">") and len(t) > 2:
        return "message-id"
    if "@" in t:
        return "message-id-or-address"
    if QUEUE_ID.fullmatch(t):
        return "queue-id"
    raise InputError(
        f"{text!r} is not an internal message ID (8-4-4-4-12 hex digits), a Message-ID, "
        "a Postfix queue ID or an envelope address"
    )


def _query(text: str) -> str:
    """The ID as typed, without spaces around it and without the colon of a queue ID copied from a maillog line.

    >>> _query(" 5B5B5B5B5B: "), _query("4XyZ1m2nQpz8abc:"), _query("<a@b>")
    ('5B5B5B5B5B', '4XyZ1m2nQpz8abc', '<a@b>')
    """
    t = text.strip()
    return t[:-1] if t.endswith(":") and QUEUE_ID.fullmatch(t[:-1]) else t


def _strip_brackets(mid: str | None) -> str | None:
    if mid is None:
        return None
    mid = mid.strip()
    if mid.startswith("<") and mid.endswith(">"):
        mid = mid[1:-1]
    return mid or None


# ---------------------------------------------------------------------------
# Keys that identify the message, grown until nothing new is found
# ---------------------------------------------------------------------------


@dataclass
class _Keys:
    iids: set[str] = field(default_factory=set)  # upper case
    mids: set[str] = field(default_factory=set)  # without <>
    qids: set[str] = field(default_factory=set)  # queue_key(): short hex ones upper case, long ones as logged
    why: dict[str, str] = field(default_factory=dict)  # key -> how it was learnt

    def add(self, kind: str, value: str | None, why: str) -> bool:
        if not value:
            return False
        value = value.strip()
        target = {"iid": self.iids, "mid": self.mids, "qid": self.qids}[kind]
        if kind == "iid":
            value = value.upper()
        elif kind == "qid":
            value = queue_key(value)
        if value in target:
            return False
        target.add(value)
        self.why.setdefault(value, why)
        return True

    def size(self) -> int:
        return len(self.iids) + len(self.mids) + len(self.qids)


def _link_name(kind: str, value: str) -> str:
    if kind == "qid-in-mid":
        return f"queue ID {value} (named by the scan's Received header and held in the Message-ID, as correlate links them)"
    return {"iid": "internal ID", "mid": "Message-ID", "qid": "queue ID"}[kind] + f" {value}"


# ---------------------------------------------------------------------------
# Small files: polevt, msgtra, maillog
# ---------------------------------------------------------------------------


def _needle_lines(f: LogFile, needles: Sequence[bytes]) -> Iterator[tuple[int, str]]:
    """Lines of ``f`` holding any needle (case-sensitive bytes), with their numbers."""
    from .sources import iter_matching_lines

    yield from iter_matching_lines(f, needles)


def _needles(keys: _Keys, *, iid: bool = True, mid: bool = True, qid: bool = True) -> list[bytes]:
    out: list[bytes] = []
    if iid:
        for k in keys.iids:
            out += [k.encode(), k.lower().encode()]
    if mid:
        out += [m.encode("utf-8", "surrogateescape") for m in keys.mids]
    if qid:
        out += [q.encode() for q in keys.qids]
    return sorted(set(out))


class _Small:
    """The matching records of polevt, msgtra and maillog, found by their keys."""

    def __init__(self, files: dict[str, list[LogFile]], tz: tzinfo | None, rejects: list[Reject]) -> None:
        self.files = files
        self.tz = tz
        self.rejects = rejects
        #: what is said of a file read to its end whose check at its end failed (:func:`unchecked_note`)
        self.notes: list[str] = []
        self.events: dict[tuple[str, int], PolicyEvent] = {}
        self.event_links: dict[tuple[str, int], str] = {}  # events found by a queue ID in their Message-ID
        self.tx: dict[tuple[str, int], Transaction] = {}
        self.mail: dict[tuple[str, int], MailLogEntry] = {}
        self._seen: set[tuple[str, int]] = set()

    def _records(self, kind: str, needles: Sequence[bytes]) -> Iterator[Any]:
        if not needles:
            return
        for f in self.files.get(kind, []):
            hint = maillog_hint(f, self.tz) if kind == "maillog" else None
            try:
                for lineno, text in _needle_lines(f, needles):
                    item = parse_line(kind, Source(str(f.path), lineno, text), hint)
                    if isinstance(item, Reject):
                        if (item.source.file, lineno) not in self._seen:
                            self._seen.add((item.source.file, lineno))
                            self.rejects.append(item)
                        continue
                    yield item
            except ReadError as exc:  # once per file, however often the file is searched
                if (str(f.path), -1) not in self._seen:
                    self._seen.add((str(f.path), -1))
                    if exc.whole:
                        self.notes.append(unchecked_note(f, exc))
                    else:
                        self.rejects.append(unread_reject(f, kind, exc))

    def grow(self, keys: _Keys) -> bool:
        """Search the small files for the keys; add what the matches tell. True if keys grew."""
        before = keys.size()
        for e in self._records("polevt", _needles(keys, qid=False)):
            mid = _strip_brackets(e.message_id)
            if e.internal_id.upper() in keys.iids or (mid and mid in keys.mids):
                self.events[(e.source.file, e.source.line)] = e
                keys.add("iid", e.internal_id, f"policy event {e.source.ref()}")
                keys.add("mid", mid, f"policy event {e.source.ref()}")
        for t in self._records("msgtra", _needles(keys)):
            mid = _strip_brackets(t.message_id)
            if ((t.internal_id or "").upper() in keys.iids or (mid and mid in keys.mids)
                    or queue_key(t.queue_id or "") in keys.qids):
                self.tx[(t.source.file, t.source.line)] = t
                keys.add("iid", t.internal_id, f"msgtra {t.source.ref()}")
                keys.add("mid", mid, f"msgtra {t.source.ref()}")
                keys.add("qid", t.queue_id, f"msgtra {t.source.ref()}")
        for m in self._records("maillog", _needles(keys, iid=False)):
            q = queue_key(m.queue_id or "")
            mid = _strip_brackets(m.message_id)
            b = queue_key(m.queued_as or "")
            if q in keys.qids or (mid and mid in keys.mids) or (b and b in keys.qids):
                self.mail[(m.source.file, m.source.line)] = m
                keys.add("qid", q, f"maillog {m.source.ref()}")
                keys.add("qid", b, f"maillog {m.source.ref()} (queued as)")
        return keys.size() > before

    def events_holding_queues(self, named: dict[str, str]) -> dict[tuple[str, int], tuple[PolicyEvent, str]]:
        """Policy events not yet found whose Message-ID holds a queue ID the scans' Received headers name
        (``named``: queue key -> as written): correlate's queue-ID evidence; (file, line) -> (event, queue key)."""
        out: dict[tuple[str, int], tuple[PolicyEvent, str]] = {}
        needles = sorted({form.encode() for q in named for form in (q, q.lower())})
        for e in self._records("polevt", needles):
            key = (e.source.file, e.source.line)
            if key in self.events:
                continue
            held = [q for q in map(queue_key, _MID_TOKEN.findall(e.message_id or "")) if q in named]
            if held:
                out[key] = (e, held[0])
        return out

    def take_event(self, key: tuple[str, int], e: PolicyEvent, held: str, keys: _Keys) -> None:
        """A policy event correlate links to the message's scan by a queue ID its Message-ID holds."""
        self.events[key] = e
        self.event_links[key] = _link_name("qid-in-mid", held)
        keys.add("iid", e.internal_id, f"policy event {e.source.ref()} (its Message-ID holds {held})")
        keys.add("mid", _strip_brackets(e.message_id), f"policy event {e.source.ref()}")

    def all_queue_lines(self, keys: _Keys) -> None:
        """Every maillog line of the message's queues (connect/disconnect lines carry no queue ID)."""
        for m in self._records("maillog", _needles(keys, iid=False, mid=False)):
            if queue_key(m.queue_id or "") in keys.qids or queue_key(m.queued_as or "") in keys.qids:
                self.mail[(m.source.file, m.source.line)] = m


# ---------------------------------------------------------------------------
# log.imss: find, then cut the thread's session
# ---------------------------------------------------------------------------


class _ImssFile:
    """One log.imss file's bytes, mapped (plain) or decompressed (gzip), and its line count."""

    def __init__(self, f: LogFile) -> None:
        self.file = f
        self._data: Any = None
        self._lines: int | None = None
        self.plain = False
        #: why the file could not be read to its end (its lines before are read)
        self.read_error: ReadError | None = None
        #: where a scan is cut between this list's files (:func:`_break_after`), shared by the list, once worked out
        self.breaks: dict[int, Break] | None = None
        if f.member is None and getattr(f, "syslog", None) is None:
            try:
                with open(f.path, "rb") as fh:
                    self.plain = fh.read(2) != b"\x1f\x8b"
            except OSError:
                self.plain = False

    @property
    def data(self) -> Any:
        """Plain files are mapped; gzip, bundle members and syslog-forwarded files are read as their lines."""
        if self._data is None:
            f = self.file
            plain = f.member is None and getattr(f, "syslog", None) is None
            if plain:
                with open(f.path, "rb") as fh:
                    gz = fh.read(2) == b"\x1f\x8b"
                    fh.seek(0, 2)
                    if not gz:
                        self._data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if fh.tell() else b""
            if self._data is None:
                from .sources import iter_lines

                parts: list[bytes] = []
                try:
                    for _, text in iter_lines(f):
                        parts.append(text.encode("utf-8", "surrogateescape") + b"\n")
                except ReadError as exc:  # a gzip cut short: its lines before the break are read, as parse and correlate do
                    self.read_error = exc
                self._data = b"".join(parts)
        return self._data

    @property
    def lines(self) -> int:
        if self._lines is None:
            d = self.data
            n = _newlines_in_file(self.file.path, len(d)) if self.plain else _count_newlines(d, 0, len(d))
            self._lines = n + (1 if len(d) and d[len(d) - 1:len(d)] != b"\n" else 0)
        return self._lines


def _count_newlines(data: Any, start: int, end: int) -> int:
    """Line breaks in ``data[start:end]``; numpy over 1 MB slices for big spans (bytes.count is 4x slower)."""
    if end - start < (1 << 20):
        return bytes(data[start:end]).count(b"\n") if not isinstance(data, bytes) else data.count(b"\n", start, end)
    import numpy as np

    n = 0
    view = memoryview(data)
    step = 1 << 20
    for i in range(start, end, step):
        n += int(np.count_nonzero(np.frombuffer(view[i:min(i + step, end)], np.uint8) == 10))
    view.release()
    return n


@dataclass(frozen=True)
class _Hit:
    fi: int  # index of the file in the log.imss list
    start: int  # offset of the line's first byte
    lineno: int
    key: str
    kind: str


_BLOCK = 1 << 24


def _offsets_in_file(path: Any, needles: Sequence[bytes]) -> list[tuple[int, bytes]]:
    """Byte offsets of every needle in a plain file: 16 MB blocks read into one buffer, ``find`` in C."""
    found: list[tuple[int, bytes]] = []
    longest = max(len(n) for n in needles)
    buf = bytearray(_BLOCK + longest)
    base, keep = 0, 0  # file offset of buf[0]; bytes carried over from the previous block
    with open(path, "rb", buffering=0) as fh:
        view = memoryview(buf)
        while True:
            n = fh.readinto(view[keep:keep + _BLOCK])
            if not n:
                break
            end = keep + n
            for needle in needles:
                i = buf.find(needle, 0, end)
                while i != -1:
                    found.append((base + i, needle))
                    i = buf.find(needle, i + 1, end)
            # carry the last (longest - 1) bytes so that a needle across blocks is found once
            keep = min(longest - 1, end)
            buf[:keep] = buf[end - keep:end]
            base += end - keep
        view.release()
    return sorted(set(found))


def _newlines_in_file(path: Any, end: int) -> int:
    """Line breaks in the first ``end`` bytes of a plain file (numpy over 1 MB slices: 4x bytes.count)."""
    import numpy as np

    n, done = 0, 0
    buf = bytearray(1 << 20)
    arr = np.frombuffer(buf, np.uint8)
    with open(path, "rb", buffering=0) as fh:
        while done < end:
            k = fh.readinto(memoryview(buf)[:min(len(buf), end - done)])
            if not k:
                break
            n += int(np.count_nonzero(arr[:k] == 10))
            done += k
    return n


def _find(files: list[_ImssFile], needles: dict[bytes, tuple[str, str]], progress: Callable[[int, int], None] | None,
          longer: set[str] | None = None) -> list[_Hit]:
    """Lines of log.imss holding a needle, found with ``find`` over big blocks; line numbers counted up to each hit.

    A queue ID is matched whole: ``id DDDFC`` inside ``id DDDFC11FB0C`` is no hit; the longer ID goes to ``longer``
    (so that the trace can say which queue IDs start with what was asked)."""
    hits: list[_Hit] = []
    total = sum(file_size(f.file) for f in files)
    done = 0
    for fi, f in enumerate(files):
        if f.plain:
            found = _offsets_in_file(f.file.path, list(needles))
        else:
            data = f.data
            found = []
            for needle in needles:
                i = data.find(needle)
                while i != -1:
                    found.append((i, needle))
                    i = data.find(needle, i + 1)
            found.sort()
        if found:
            data = f.data
            counted_to, lineno = 0, 1
            seen: set[int] = set()
            for i, needle in found:
                if needles[needle][0] in ("qid", "qid-in-mid"):
                    # the needle is 'id Q' or 'id<TAB>Q'; the word there read as the Received grammar reads it
                    word = _ALNUM.match(id_word(bytes(data[i + 3:i + 3 + _LONGEST_WORD]).decode("ascii", "replace"))).group()
                    if len(word) > len(needle) - 3:
                        if longer is not None and QUEUE_ID.fullmatch(word):
                            longer.add(word)
                        continue
                s = data.rfind(b"\n", 0, i) + 1
                if s in seen:
                    continue
                seen.add(s)
                if f.plain and counted_to == 0 and s > (1 << 22):
                    lineno += _newlines_in_file(f.file.path, s)
                else:
                    lineno += _count_newlines(data, counted_to, s)
                counted_to = s
                kind, key = needles[needle]
                hits.append(_Hit(fi, s, lineno, key, kind))
        done += file_size(f.file)
        if progress is not None:
            progress(done, total)
    return hits


#: how far after ``id `` the word is read (a queue ID is at most 20 characters; a glued keyword and more follow)
_LONGEST_WORD = 64
_ALNUM = re.compile(r"[A-Za-z0-9]*")


def _line_at(data: Any, s: int) -> tuple[bytes, int]:
    """The line starting at ``s`` (without its ending) and the offset after its line break."""
    e = data.find(b"\n", s)
    if e == -1:
        e = len(data)
        nxt = e
    else:
        nxt = e + 1
    raw = bytes(data[s:e])
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    return raw, nxt


def _thread_tag(raw: bytes) -> bytes | None:
    m = _THREAD.search(raw, 0, 80)
    return None if m is None else raw[m.start() + 1:m.end()]


def _is_thread_line(raw: bytes, tag: bytes) -> bool:
    i = raw.find(tag, 0, 80)
    return i > 0 and raw[i - 1:i] in (b" ", b"\t")


@dataclass
class _Session:
    lines: list[tuple[int, int, bytes]]  # (file index, line number, raw)
    tag: bytes
    start_note: str
    end_note: str
    #: found by a queue ID that a Message-ID of the message holds (correlate's queue-ID evidence, to be decided)
    via_mid_queue: bool = False
    #: the link text of its lines when correlate paired it with the message without an ID (time alone)
    link: str | None = None
    #: cut at the start, or the end, of a file because a rotated file before, or after, it is missing (not given, or
    #: given hollow), a day boundary is not proven (:data:`_PIECE_BEFORE`), or the file before (or this one) could not
    #: be read to its end: the scan's other piece may be on the other side (a rotation given again, a day jumped: not)
    gap_start: bool = False
    gap_end: bool = False


def _cut(files: list[_ImssFile], hit: _Hit) -> _Session:
    """The thread's lines around a hit, from the scan's start to its end, across rotated files."""
    data = files[hit.fi].data
    raw, after = _line_at(data, hit.start)
    tag = _thread_tag(raw)
    if tag is None:
        return _Session([(hit.fi, hit.lineno, raw)], b"", "the line carries no [pid:tid] thread tag", "")
    lines: list[tuple[int, int, bytes]] = [(hit.fi, hit.lineno, raw)]
    name = lambda fi: _file_name(files, fi)  # noqa: E731

    # backwards: to the Accept line (kept) or the thread's previous Scan finished (not kept)
    start_note = ""
    gap_start = gap_end = False
    back: list[tuple[int, int, bytes]] = []
    if _is_accept(raw):
        start_note = f"starts at its Accept connection line ({name(hit.fi)}:{hit.lineno})"
    else:
        fi, pos, ln = hit.fi, hit.start, hit.lineno
        while not start_note:
            d = files[fi].data
            j = d.rfind(tag, 0, pos)
            while j != -1:
                s = d.rfind(b"\n", 0, j) + 1
                r, _ = _line_at(d, s)
                if _is_thread_line(r, tag):
                    break
                j = d.rfind(tag, 0, s)
            if j == -1:
                prev = _same_appliance(files, fi, -1)
                if prev is None:
                    start_note = "starts before the first log.imss given (no Accept connection line of its thread before it)"
                    break
                cut = _break_after(files, prev, fi)
                lost = _unread(files, prev) if cut is None else None  # (a file not next is not read for it)
                said = (cut.previous_words() if cut is not None else None if lost is None else
                        f"the file before it, {name(prev)}, could not be read {not_read_to_end(lost)}")
                if said is not None:
                    start_note = (f"starts at the start of {name(fi)} (no Accept connection line of its thread before "
                                  f"it; {said})")
                    # the piece before may be in the file before (or in the part of it that could not be read)
                    gap_start = cut.why in _PIECE_BEFORE if cut is not None else True
                    break
                fi = prev
                pos = len(files[fi].data)
                ln = files[fi].lines + 1
                continue
            ln -= _count_newlines(d, s, pos)
            pos = s
            if _finished_id(r) is not None:
                start_note = f"starts after its thread's previous scan ended ({name(fi)}:{ln}; no Accept connection line between)"
                break
            back.append((fi, ln, r))
            if _is_accept(r):
                start_note = f"starts at its Accept connection line ({name(fi)}:{ln})"
            elif len(back) >= MAX_SESSION_LINES:
                start_note = f"start not found within {MAX_SESSION_LINES} lines of its thread; cut there"
    back.reverse()

    # forwards: to the thread's Scan finished (kept) or its next Accept line (not kept)
    end_note = ""
    fwd: list[tuple[int, int, bytes]] = []
    if _finished_id(raw) is not None:
        end_note = f"ends at its Scan finished line ({name(hit.fi)}:{hit.lineno})"
    else:
        fi, pos, ln = hit.fi, after, hit.lineno + 1
        came = fi  # the file the thread's lines were last followed in
        while not end_note:
            d = files[fi].data
            j = d.find(tag, pos)
            while j != -1:
                s = d.rfind(b"\n", 0, j) + 1
                r, nxt = _line_at(d, s)
                if _is_thread_line(r, tag):
                    break
                j = d.find(tag, nxt)
            if j == -1:
                nxt_file = _same_appliance(files, fi, 1)
                lost = _unread(files, fi)
                cut = _break_after(files, fi, nxt_file) if nxt_file is not None else None
                if lost is not None:  # the lines lost after the error may hold its end and the next scan's start
                    said = "; ".join([unread_words(files[fi].file, lost), *([cut.next_words()] if cut is not None else [])])
                    # (a file of which no line could be read: the scan ends with the file before it)
                    end = f"the end of {name(came)}" if not lost.lines else f"the end of what could be read of {name(fi)}"
                    end_note = f"ends at {end} (no Scan finished line of its thread after it; {said})"
                    gap_end = True
                    break
                if nxt_file is None:
                    end_note = "ends with the last log.imss given (no Scan finished line of its thread after it)"
                    break
                if cut is not None:
                    end_note = (f"ends at the end of {name(fi)} (no Scan finished line of its thread after it; "
                                f"{cut.next_words()})")
                    gap_end = cut.why in _PIECE_BEFORE
                    break
                came, fi, pos, ln = fi, nxt_file, 0, 1
                continue
            ln += _count_newlines(d, pos, s)
            pos = nxt
            if _is_accept(r):
                end_note = f"ends before its thread's next Accept connection line ({name(fi)}:{ln}; no Scan finished line)"
                break
            fwd.append((fi, ln, r))
            ln += 1
            if _finished_id(r) is not None:
                end_note = f"ends at its Scan finished line ({name(fi)}:{ln - 1})"
            elif len(fwd) >= MAX_SESSION_LINES:
                end_note = f"end not found within {MAX_SESSION_LINES} lines of its thread; cut there"
    return _Session(back + lines + fwd, tag, start_note, end_note, gap_start=gap_start, gap_end=gap_end)


def _read_as(raw: bytes, needle: bytes, kind: type[Any]) -> Any:
    """The line's record when it holds ``needle`` and the grammar reads it as a ``kind`` record, else None (a Subject
    or header logged at debug level that quotes those words is not such a line; as correlate reads them)."""
    if needle not in raw:
        return None
    item = parse_line("imss", Source("", 0, decode(raw)))
    return item if isinstance(item, kind) else None


def _is_accept(raw: bytes) -> bool:
    """Whether the line is an ``Accept connection from client`` line (it starts and ends scans)."""
    return _read_as(raw, _ACCEPT, AcceptConnection) is not None


def _message_id_of(raw: bytes) -> str | None:
    """The Message-ID (without ``<>``) of a ``>>> Message-ID : <m>`` line."""
    item = _read_as(raw, b">>> Message-ID", MessageIdLine)
    m = re.search(r"<([^>]*)>", item.message_id) if item is not None else None
    return m.group(1) if m else None


def _received_header_of(raw: bytes) -> str | None:
    """The header of AntiSpoofFilter's ``parse received header string:`` line."""
    item = _read_as(raw, b"parse received header string:", ReceivedHeaderLine)
    return item.header if item is not None else None


def _finished_id(raw: bytes) -> str | None:
    """The internal ID of a ``Scan finished for <id>`` line (the scan's end)."""
    item = _read_as(raw, _FINISHED, ScanFinished)
    return item.internal_id if item is not None else None


def _file_name(files: list[_ImssFile], fi: int) -> str:
    """The file's name, with its appliance's when the log.imss files given are of more than one (two appliances
    write files of the same names)."""
    f = files[fi].file
    if f.appliance is not None and len({g.file.appliance for g in files}) > 1:
        return f"{f.appliance}'s {f.name}"
    return f.name


#: the cuts across which the scan's other piece may be on the other side: files missing between them, or a day's
#: last file and the next day's .0001 whose edge times are not near midnight (``apart``: later files of the day, or
#: the next day's first lines, may not be given; the boundary is not proven, so a piece on each side on the same
#: thread, the one before with the message's Message-ID and no Scan finished line, may be one scan). The Message-ID is
#: then looked for in the piece before (:func:`_scan_sessions`). Not across a rotation given again (its lines are the
#: same rotation's) or a day jumped (no scan spans a whole day)
_PIECE_BEFORE = ("missing", "apart")


def _unread(files: list[_ImssFile], fi: int) -> ReadError | None:
    """The error that stopped reading ``files[fi]`` (a gzip cut short or corrupt), if any: a scan open where it stopped
    ends there, as correlate ends it (:func:`~imsvalog.scan_sessions.cut_words`).  Not one after the file was read to its end
    (a gzip whose only fault is its trailer: ``ReadError.whole``)."""
    files[fi].data  # noqa: B018 - read (once): the error is found while reading
    lost = files[fi].read_error
    return None if lost is None or lost.whole else lost


#: how trace's reason for a file's unread rest begins (the CLI lists such rejects apart from lines that did not parse)
READ_ERROR = "cannot read further"


def unread_reject(f: LogFile, kind: str, exc: ReadError) -> Reject:
    """trace's reject for a file it could not read to its end: ``cannot read further: `` and the words ``parse`` says it
    in (:func:`~imsvalog.readers.unread_reason`)."""
    return Reject(Source(str(f.path), exc.lines + 1, ""), kind, f"{READ_ERROR}: {unread_reason(exc)}")


def unchecked_note(f: LogFile, exc: ReadError) -> str:
    """trace's note for a file whose every line was searched but whose check at its end failed (its lines may be
    garbled): said as ``parse`` says it."""
    return f"{f.path}: {unread_reason(exc)}"


def _break_after(files: list[_ImssFile], fi: int, nxt: int) -> Break | None:
    """Why ``files[nxt]`` (the next log.imss of the same appliance) does not continue ``files[fi]``, if so: a scan is
    never followed across it (correlate cuts its sessions there too, :func:`~imsvalog.scan_sessions.gap_after`).
    Worked out once for the whole list (:func:`imsvalog.rotation.breaks`)."""
    from .rotation import breaks

    if files[0].breaks is None:
        found = breaks([f.file for f in files])
        for f in files:
            f.breaks = found
    b = files[0].breaks.get(fi) if files[0].breaks is not None else None
    return b if b is not None and b.before is files[nxt].file else None


def _same_appliance(files: list[_ImssFile], fi: int, step: int) -> int | None:
    """The previous (``step`` -1) or next (+1) log.imss of the same appliance as ``files[fi]``: a thread tag
    ``[pid:tid]`` of another appliance is another scanner's (correlate keeps appliances apart too)."""
    appliance = files[fi].file.appliance
    j = fi + step
    while 0 <= j < len(files):
        if files[j].file.appliance == appliance:
            return j
        j += step
    return None


def _as_correlate_cuts(files: list[_ImssFile], s: _Session, at: tuple[int, int]) -> _Session:
    """The part of a cut session that correlate reads as one scan with the line ``at`` (file index, line number).

    The thread's lines between an Accept connection line (or the previous Scan finished) and the next may hold
    several scans when the log lacks those lines (as the KB log does): correlate's session builder starts a new
    scan at a rule run after a final action, for instance.  The lines are fed to the same builder and only the
    scan holding ``at`` is kept (lines that move no boundary stay with the scan before them)."""
    from .scan_sessions import SessionBuilder

    if len(s.lines) < 2:
        return s
    b = SessionBuilder()
    owner: list[str | None] = []
    for fi, ln, raw in s.lines:
        item = parse_line("imss", Source(str(files[fi].file.path), ln, decode(raw)))
        sid = None
        if not isinstance(item, Reject):
            closed = b.feed(item)
            cur = b.open.get(item.thread)
            if cur is not None and cur.records and cur.records[-1] is item:
                sid = cur.id
            elif closed and closed[-1].records and closed[-1].records[-1] is item:
                sid = closed[-1].id
        if sid is None:
            sid = owner[-1] if owner else None
        owner.append(sid)
    first = next((o for o in owner if o is not None), None)
    owner = [first if o is None else o for o in owner]
    mine = owner[[(fi, ln) for fi, ln, _ in s.lines].index(at)]
    keep = [i for i, o in enumerate(owner) if o == mine]
    if len(keep) == len(s.lines):
        return s
    lo, hi = keep[0], keep[-1]
    name = lambda i: f"{_file_name(files, s.lines[i][0])}:{s.lines[i][1]}"  # noqa: E731

    def span(i: int, j: int) -> str:
        return name(i) + ("" if i == j else f"-{s.lines[j][1]}" if s.lines[i][0] == s.lines[j][0] else f" to {name(j)}")

    start_note, end_note = s.start_note, s.end_note
    if lo > 0:
        start_note = (f"starts at {name(lo)}, where correlate starts its scan (the thread's lines before it are "
                      f"its previous scan, {span(0, lo - 1)})")
    if hi < len(s.lines) - 1:
        end_note = (f"ends at {name(hi)}, where correlate ends its scan (the thread's lines after it are its next "
                    f"scan, from {name(hi + 1)})")
    return _Session(s.lines[lo:hi + 1], s.tag, start_note, end_note, s.via_mid_queue,
                    gap_start=s.gap_start and lo == 0, gap_end=s.gap_end and hi == len(s.lines) - 1)


# ---------------------------------------------------------------------------
# The entry point
# ---------------------------------------------------------------------------


_IID_SHAPE = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"


def is_internal_id_prefix(text: str) -> bool:
    """Whether ``text`` is the start of an internal ID (at least 6 characters; as the correlate table shows IDs).

    >>> [is_internal_id_prefix(x) for x in ("5E1C0F7A", "2C3D4E5F-5", "5E1C0", "5E1C0F7G", "<a@b>")]
    [True, True, False, False, False]
    """
    if not 6 <= len(text) <= len(_IID_SHAPE):
        return False
    return all(c == "-" if s == "-" else c in "0123456789abcdefABCDEF" for c, s in zip(text, _IID_SHAPE, strict=False))


def complete_internal_id(prefix: str, paths: PathsLike) -> list[str]:
    """The internal IDs in the logs under ``paths`` that start with ``prefix`` (case-insensitive), sorted.

    Reads polevt.imss, msgtra.imss and log.imss (a byte search): an ID only log.imss holds (a scan without
    policy event) counts as much as one the small files name.
    """
    disc = discover(as_path_list(paths))
    needles = sorted({prefix.encode(), prefix.upper().encode(), prefix.lower().encode()})
    found: set[str] = set()
    for f in sort_files(disc.files):
        if f.kind in ("polevt", "msgtra", "imss"):
            try:
                for _, text in _needle_lines(f, needles):
                    found |= {m.upper() for m in INTERNAL_ID.findall(text) if m.upper().startswith(prefix.upper())}
            except ReadError:
                continue  # a file cut short: what it holds before the break is searched (trace reports the break)
    return sorted(found)


@one_run
def trace(
    id: str,
    paths: PathsLike,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    tz: tzinfo | None = None,
    progress: Callable[[int, int], None] | None = None,
    time_window: float = 1.0,
) -> Trace:
    """Everything the logs under ``paths`` say about the message ``id``, in time order.

    ``since``/``until`` bound an envelope-address search (and are required for it when
    the logs hold many messages of that address).  ``tz`` is the zone of maillog's
    syslog timestamps; by default the offset log.imss or polevt lines of the message
    carry is used, and the trace says so.  The start of an internal ID (as the correlate
    table shows it, at least 6 characters) is completed from the logs when exactly one
    internal ID starts with it and nothing else (a Postfix queue ID) is known by it;
    several such IDs are an :class:`InputError` naming them.

    Where the message's scan and policy events are tied by no ID of theirs (a queue ID a Message-ID holds, or
    time alone), the trace shows what :func:`~imsvalog.correlation.correlate` decides over the same logs (a
    full pass); ``time_window`` is its ``time_window`` (seconds within which time alone may link them).
    """
    from .time_window import time_window_of

    time_window_of(time_window)  # an InputError before anything is read
    query = _query(id)
    if INTERNAL_ID.fullmatch(query) or not is_internal_id_prefix(query):
        return _trace(id, paths, since=since, until=until, tz=tz, progress=progress, time_window=time_window)
    as_queue_id = None
    if QUEUE_ID.fullmatch(query):
        as_queue_id = _trace(id, paths, since=since, until=until, tz=tz, progress=progress, time_window=time_window)
        if as_queue_id.lines:
            return as_queue_id
    full = complete_internal_id(query, paths)
    if len(full) > 1:
        shown = ", ".join(full[:5]) + (f" and {len(full) - 5} more" if len(full) > 5 else "")
        raise InputError(f"{query} is the start of {len(full)} internal IDs ({shown}): give more of it")
    if not full:
        if as_queue_id is not None:
            return as_queue_id
        raise InputError(f"no internal ID in the logs given starts with {query}")
    result = _trace(full[0], paths, since=since, until=until, tz=tz, progress=progress, time_window=time_window)
    result.notes.insert(0, f"{query} is the start of internal ID {full[0]} (the only one in the logs given): traced that")
    return result


def _trace(
    id: str,
    paths: PathsLike,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    tz: tzinfo | None = None,
    progress: Callable[[int, int], None] | None = None,
    time_window: float = 1.0,
) -> Trace:
    if reversed_span(since, until):
        raise InputError(f"the time span is reversed: since {since} is after until {until}; no message can be in it")
    kind = id_kind(id)
    query = _query(id)
    disc = discover(as_path_list(paths))
    by_kind: dict[str, list[LogFile]] = {}
    for f in sort_files(disc.files):
        by_kind.setdefault(f.kind, []).append(f)
    if not disc.files:
        raise InputError("no log files found among the paths given")
    result = Trace(query, kind, skipped=list(disc.skipped))
    keys = _Keys()
    if kind == "internal-id":
        keys.add("iid", query, "the ID asked for")
    elif kind == "message-id":
        keys.add("mid", _strip_brackets(query), "the ID asked for")
    elif kind == "queue-id":
        keys.add("qid", query, "the ID asked for")
    else:
        keys.add("mid", _strip_brackets(query), "the ID asked for")
    small = _Small(by_kind, tz, result.rejects)

    # 1. the small files, until they tell nothing new
    for _ in range(6):
        if not small.grow(keys):
            break
    imss = [_ImssFile(f) for f in by_kind.get("imss", [])]
    finds = _QueueFinds()
    sessions = _scan_sessions(imss, keys, progress, finds) if imss else []
    result.rejects += finds.rejects.values()
    if kind == "message-id-or-address":
        if small.events or small.tx or small.mail or sessions:
            result.id_kind = "message-id"
        else:
            return _address_trace(query, by_kind, small, since, until, tz, result, progress)
    # 2. correlate's queue-ID evidence: a scan found by a queue ID the Message-ID holds, and the other way round a
    # policy event whose Message-ID holds a queue ID the scan's Received headers name, are taken only where
    # correlate links them (correlate over the same logs: a queue ID is reused, and another scan may name the
    # event's internal ID); an event whose internal ID or Message-ID a scan found names comes in by that ID
    named = {queue_key(q): q for s in sessions for q in _queues_in_headers(s)}
    candidates = small.events_holding_queues(named) if named else {}
    if candidates:
        by_id = _Keys()
        for s in sessions:
            _keys_from_session(s, imss, by_id)
        candidates = {k: (e, q) for k, (e, q) in candidates.items()
                      if e.internal_id.upper() not in by_id.iids and _strip_brackets(e.message_id) not in by_id.mids}
    taken: list[tuple[tuple[str, int], PolicyEvent, str]] = []
    decided = _Correlated(paths, time_window, progress)
    if candidates or any(s.via_mid_queue for s in sessions):
        sessions, taken = _as_correlate_links(imss, sessions, small, candidates, result.notes, decided)
    # 3. what log.imss told (an internal ID from Scan finished, a queue ID from a Received header) -> small files again
    for s in sessions:
        _keys_from_session(s, imss, keys)
    for where, e, held in taken:
        small.take_event(where, e, held, keys)
    for _ in range(6):
        if not small.grow(keys):
            break
    small.all_queue_lines(keys)
    paired = False
    if imss and not sessions and small.events:
        # 4. no ID leads to a scan: what correlate decides for the message's policy events (a full pass)
        sessions = _pair_as_correlate(imss, small, result.notes, decided)
        paired = True
    _assemble(result, keys, small, imss, sessions, tz, paired)
    if kind == "queue-id":
        _say_queue_finds(result, queue_key(query), finds, small)
    return result


def _queues_in_headers(s: _Session) -> list[str]:
    """The queue IDs (6 characters or more) the scan's Received headers name, as correlate reads them."""
    from .grammars.received import parse_received

    out = []
    for _, _, raw in s.lines:
        if _HEADER_MARK in raw:
            header = decode(raw).split(_HEADER_MARK.decode(), 1)[1]
            out += [q for q in parse_received(header).queue_ids if len(q) >= 6]
    return out


def _say_queue_finds(result: Trace, asked: str, finds: _QueueFinds, small: _Small) -> None:
    """A queue ID asked for is matched whole (say which longer ones start with it); one that only an older
    Received header names is another host's queue: not listed as the message's."""
    if not result.lines and finds.longer:
        shown = sorted(finds.longer)
        result.notes.append(
            f"{asked} is not a whole queue ID in log.imss; queue ID{'s' if len(shown) > 1 else ''} "
            f"{', '.join(shown[:5])}{' and more' if len(shown) > 5 else ''} start{'' if len(shown) > 1 else 's'} with it "
            "(a queue ID is matched whole: give it whole)")
    in_postfix = any(queue_key(m.queue_id or "") == asked or queue_key(m.queued_as or "") == asked
                     for m in small.mail.values()) or any(queue_key(t.queue_id or "") == asked for t in small.tx.values())
    if asked in finds.foreign and asked not in finds.own and not in_postfix:
        result.queue_ids = [q for q in result.queue_ids if q != asked]
        result.notes.append(
            f"{asked} is the queue ID of host {finds.foreign[asked]}, named by an older Received header (a hop before "
            "this appliance), not this appliance's: not listed as the message's queue ID")


#: a token of a Message-ID that may be a Postfix queue ID (as correlate's queue-ID evidence reads it)
_MID_TOKEN = re.compile(r"[A-Za-z0-9]{6,}")
_HEADER_MARK = b"parse received header string:"


def _mid_queue_needles(keys: _Keys) -> dict[bytes, tuple[str, str]]:
    """``id Q`` for every token of the message's Message-IDs that may be a Postfix queue ID: correlate links
    a scan whose Received header names queue Q to a policy event whose Message-ID holds Q
    (``20190430045742.DDDFC11FB0C@host``), so trace finds that scan the same way."""
    out: dict[bytes, tuple[str, str]] = {}
    for m in sorted(keys.mids):
        for tok in _MID_TOKEN.findall(m):
            if queue_key(tok) in keys.qids:
                continue  # already searched as a queue ID
            for form in dict.fromkeys((tok, queue_key(tok))):
                for sep in (" ", "\t"):
                    out.setdefault(f"id{sep}{form}".encode(), ("qid-in-mid", queue_key(tok)))
    return out


def _names_queue_in_header(files: list[_ImssFile], hit: _Hit) -> bool:
    """The hit is a Received header line of the AntiSpoofFilter whose parsed queue IDs hold the hit's key
    (``id Q`` in free text, or in another clause's comment, is no evidence)."""
    from .grammars.received import parse_received

    raw, _ = _line_at(files[hit.fi].data, hit.start)
    if _HEADER_MARK not in raw:
        return False
    header = decode(raw).split(_HEADER_MARK.decode(), 1)[1]
    return any(queue_key(q) == hit.key for q in parse_received(header).queue_ids if len(q) >= 6)


@dataclass
class _QueueFinds:
    """What the log.imss search learnt about queue IDs besides the scans."""

    longer: set[str] = field(default_factory=set)  # queue IDs that start with one asked for (not matched)
    foreign: dict[str, str] = field(default_factory=dict)  # queue ID -> host, named by an older Received header
    own: set[str] = field(default_factory=set)  # queue IDs found elsewhere than an older Received header
    #: lines of log.imss that hold a key but that the grammar cannot read (a bad head): said as rejects, as parse says
    #: them (attack s24b F5: a 'Scan finished for ID' line with a bad time was dropped without a word)
    rejects: dict[tuple[str, int], Reject] = field(default_factory=dict)


def _header_host(raw: bytes) -> str:
    """The ``by`` host of a logged Received header line ('?' when it names none)."""
    from .grammars.received import parse_received

    header = decode(raw).split(_HEADER_MARK.decode(), 1)[1]
    by = (parse_received(header).clause("by") or "").split()
    return by[0] if by else "?"


def _older_header(s: _Session, hit: _Hit, raw: bytes) -> bool:
    """The hit is a Received header line of the scan other than its newest (the first one IMSVA parses): that
    header is a hop before this appliance, so a queue ID in it is another host's."""
    if _HEADER_MARK not in raw:
        return False
    first = next(((fi, ln) for fi, ln, r in s.lines if _HEADER_MARK in r), None)
    return first is not None and first != (hit.fi, hit.lineno)


def _scan_sessions(imss: list[_ImssFile], keys: _Keys, progress: Callable[[int, int], None] | None,
                   finds: _QueueFinds | None = None) -> list[_Session]:
    """Find the message's scans: by internal ID (a line the grammar reads as its Scan finished) first, else
    Message-ID, else queue ID, else a queue ID that a Received header names and the Message-ID holds (correlate's
    queue-ID evidence).  A scan found by its internal ID and cut at the start of a file because the file before it
    does not lead to it (a file missing between them, a day boundary not proven, the file before not read to its
    end) may have its first lines (its Message-ID) in the file before: the Message-ID is then looked for too, and a
    scan found by it is taken only when it is that piece: on the same thread, cut at the end of that file, without a
    Scan finished line of its own (another scan of the same Message-ID, a message sent again, is another message's)."""
    finds = _QueueFinds() if finds is None else finds
    tiers: list[dict[bytes, tuple[str, str]]] = [
        {_FINISHED + k.encode(): ("iid", k) for k in keys.iids},  # IMSVA writes them upper case: one pass
        {_FINISHED + k.lower().encode(): ("iid", k) for k in keys.iids},
        {f": <{m}>".encode("utf-8", "surrogateescape"): ("mid", m) for m in keys.mids},  # '>>> Message-ID : <m>'
        {f"id {q}".encode(): ("qid", q) for q in keys.qids} | {f"id\t{q}".encode(): ("qid", q) for q in keys.qids},
        _mid_queue_needles(keys),
    ]
    found: list[_Session] = []
    seen: set[tuple[int, int]] = set()
    for ti, needles in enumerate(tiers):
        if found and (ti > 2 or not any(s.gap_start for s in found)):
            break
        if not needles:
            continue
        try:
            hits = _find(imss, needles, progress, finds.longer)
        except ReadError:
            hits = []
        for h in hits:
            name = str(imss[h.fi].file.path)
            if (name, h.lineno) not in finds.rejects:
                item = parse_line("imss", Source(name, h.lineno, decode(_line_at(imss[h.fi].data, h.start)[0])))
                if isinstance(item, Reject):
                    finds.rejects[(name, h.lineno)] = item
        hits = [h for h in hits if h.kind != "qid-in-mid" or _names_queue_in_header(imss, h)]
        hits = [h for h in hits if h.kind != "iid" or (_finished_id(_line_at(imss[h.fi].data, h.start)[0]) or "").upper() == h.key]
        # a Message-ID or queue ID found only in a Subject or another header logged at debug level names no scan
        hits = [h for h in hits if h.kind != "mid" or _message_id_of(_line_at(imss[h.fi].data, h.start)[0]) == h.key]
        hits = [h for h in hits if h.kind != "qid" or _received_header_of(_line_at(imss[h.fi].data, h.start)[0]) is not None]
        if not hits:
            continue
        sessions: list[_Session] = []
        covered = set(seen)
        for h in hits:
            if (h.fi, h.lineno) in covered:
                continue
            s = _as_correlate_cuts(imss, _cut(imss, h), (h.fi, h.lineno))
            name = _link_name(h.kind, h.key)
            raw, _ = _line_at(imss[h.fi].data, h.start)
            if h.kind == "qid" and _older_header(s, h, raw):
                host = _header_host(raw)
                finds.foreign.setdefault(h.key, host)
                name += f" of host {host} (in an older Received header: a hop before this appliance)"
            elif h.kind == "qid":
                finds.own.add(h.key)
            if found and not _piece_before(imss, s, found):
                continue  # looked for only for the piece before a gap: not it
            s.start_note = f"{name}: " + s.start_note
            s.via_mid_queue = h.kind == "qid-in-mid"
            covered.update((fi, ln) for fi, ln, _ in s.lines)
            sessions.append(s)
        found += sessions
        seen = covered
    return found


def _piece_before(imss: list[_ImssFile], s: _Session, found: list[_Session]) -> bool:
    """Whether ``s`` is the first piece of a scan in ``found`` that starts after a gap: on the same thread, cut at the
    end of the file just before that scan's first file, and with no Scan finished line of its own."""
    if not s.gap_end or not s.lines or any(_finished_id(raw) is not None for _, _, raw in s.lines):
        return False
    last = s.lines[-1][0]
    return any(f.gap_start and f.tag == s.tag and f.lines and _previous_with_lines(imss, f.lines[0][0]) == last
               for f in found)


def _previous_with_lines(files: list[_ImssFile], fi: int) -> int | None:
    """The previous log.imss of the same appliance as ``files[fi]`` that holds a line (an empty file given between
    them holds none: the piece before a gap is in the file before it)."""
    j = _same_appliance(files, fi, -1)
    while j is not None and not files[j].lines:
        j = _same_appliance(files, j, -1)
    return j


def _scan_of(imss: list[_ImssFile], s: _Session) -> list[ScanSession]:
    """The cut session as correlate reads it (its session builder over the same lines)."""
    from .scan_sessions import SessionBuilder

    b = SessionBuilder()
    out: list[ScanSession] = []
    for fi, ln, raw in s.lines:
        item = parse_line("imss", Source(str(imss[fi].file.path), ln, decode(raw)))
        if not isinstance(item, Reject):
            out += b.feed(item)
    return out + b.flush()


class _Correlated:
    """:func:`~imsvalog.correlation.correlate` over the trace's logs, run once when first asked (a full pass, on
    the trace's progress bar): what trace shows where only correlate's linking ties a scan to the message."""

    def __init__(self, paths: PathsLike, time_window: float, progress: Callable[[int, int], None] | None) -> None:
        self.paths = paths
        self.window = time_window
        self.progress = progress
        self.error: str | None = None
        self._rows: list[Row] | None = None
        self._ran = False

    def rows(self) -> list[Row] | None:
        """correlate's rows; None when it could not run (``error`` says why)."""
        if not self._ran:
            self._ran = True
            from .correlation import correlate

            progress = self.progress

            def step(done: int, total: int, name: str = "") -> None:
                if progress is not None:
                    progress(done, total)

            try:
                self._rows = correlate(self.paths, time_window=self.window,
                                       progress=step if progress is not None else None).rows
            except (InputError, ReadError) as exc:
                self.error = str(exc)
        return self._rows


_BASIS_WORDS = {"time": "time", "queue_id": "queue ID", "message_id": "Message-ID", "internal_id": "internal ID"}


def _basis_words(basis: Sequence[str]) -> str:
    """correlate's bases in words: ``time alone`` when time is the only one.

    >>> _basis_words(["time"]), _basis_words(["internal_id", "message_id", "time"])
    ('time alone', 'internal ID, Message-ID and time')
    """
    if list(basis) == ["time"]:
        return "time alone"
    words = [_BASIS_WORDS.get(b, b) for b in basis]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _places(sources: Sequence[tuple[str, int]]) -> str:
    """The lines of a scan as ``file:first-last`` (``file:first to file2:last`` across a rotation).

    >>> _places([("/x/log.imss.1", 11), ("/x/log.imss.1", 19)]), _places([("/x/a", 3), ("/x/b", 1)])
    ('log.imss.1:11-19', 'a:3 to b:1')
    """
    (f0, l0), (f1, l1) = sources[0], sources[-1]
    first = f"{Path(f0).name}:{l0}"
    if (f0, l0) == (f1, l1):
        return first
    return first + (f"-{l1}" if f0 == f1 else f" to {Path(f1).name}:{l1}")


def _scan_words(r: Row, lead: str = "the scan on ") -> str:
    """A row's scan as correlate names it: thread, time and lines."""
    assert r.session is not None
    when = f" at {r.trace.time.isoformat(sep=' ')}" if r.trace is not None else ""
    return f"{lead}thread {r.session.thread}{when} ({_places(r.session.sources)})"


def _as_correlate_links(
    imss: list[_ImssFile], sessions: list[_Session], small: _Small,
    candidates: dict[tuple[str, int], tuple[PolicyEvent, str]], notes: list[str], decided: _Correlated,
) -> tuple[list[_Session], list[tuple[tuple[str, int], PolicyEvent, str]]]:
    """Correlate's decision for the scans found and the policy events that fit them (those found by the message's
    IDs and those whose Message-ID holds a queue ID the scans name): a scan found by a queue ID the Message-ID
    holds stays only if correlate links it to one of the message's events; an event found by a queue ID comes in
    only if correlate links it to one of the message's scans.  The decision is correlate's own, over every scan
    and event of the logs at once (a full pass): a scan elsewhere in the logs may hold the event by a stronger
    basis (its ``Scan finished`` names the event's internal ID).  The rest is said in a note."""
    rows = decided.rows()
    if rows is None:
        notes.append(f"correlate could not run over the logs ({decided.error}): the scans and policy events tied by a "
                     "queue ID a Message-ID holds are decided over those found only")
        rows = _local_rows(imss, sessions, small, candidates, decided.window)
    where_of = {(str(imss[fi].file.path), ln): i for i, s in enumerate(sessions) for fi, ln, _ in s.lines}
    event_of: dict[int, PolicyEvent] = {}  # session index -> the event correlate links to it
    scan_of: dict[tuple[str, int], tuple[int | None, Row]] = {}  # event (file, line) -> (session index, its row)
    for r in rows:
        if r.status != "linked" or r.session is None or r.event is None:
            continue
        i = next((where_of[p] for p in r.session.sources if p in where_of), None)
        if i is not None:
            event_of[i] = r.event
        scan_of[(r.event.source.file, r.event.source.line)] = (i, r)
    mine = set(small.events)
    kept: list[_Session] = []
    for i, s in enumerate(sessions):
        e = event_of.get(i)
        if not s.via_mid_queue or (e is not None and (e.source.file, e.source.line) in mine):
            kept.append(s)
            continue
        notes.append(f"the scan at {_first_line(imss, s)} names a queue ID a Message-ID of the message holds, but correlate links "
                     + (f"it to policy event {e.internal_id} ({e.source.ref()})" if e is not None else "no policy event of "
                        "the message to it") + ": not shown")
    kept_ids = {i for i, s in enumerate(sessions) if s in kept}
    taken = []
    for where, (e, held) in candidates.items():
        got = scan_of.get(where)
        if got is not None and got[0] in kept_ids:
            taken.append((where, e, held))
            continue
        head = f"policy event {e.internal_id} ({e.source.ref()}) holds queue ID {held} in its Message-ID, but "
        if got is not None and got[0] is not None:
            notes.append(head + f"correlate links it to the scan at {_first_line(imss, sessions[got[0]])}: not shown")
        elif got is not None:
            r = got[1]
            assert r.link is not None
            holder = next((s for s in kept if held in map(queue_key, _queues_in_headers(s))), None)
            named = "" if holder is None else (
                f", not to the scan holding queue ID {held} (thread {holder.tag.decode()[1:-1]}, "
                f"{_places([(_file_name(imss, fi), ln) for fi, ln, _ in holder.lines])})")
            notes.append(head + f"correlate links it to another scan by {_basis_words(r.link.basis)} "
                         f"({r.link.confidence} confidence): {_scan_words(r)}{named}; the policy event is not shown "
                         f"here (trace {e.internal_id} shows it with that scan)")
        else:
            notes.append(head + "correlate does not link it to this message's scan: not shown")
    return kept, taken


def _local_rows(imss: list[_ImssFile], sessions: list[_Session], small: _Small,
                candidates: dict[tuple[str, int], tuple[PolicyEvent, str]], window: float) -> list[Row]:
    """correlate's linking over the scans and events trace found only (when correlate cannot run over the logs)."""
    from functools import partial

    from .time_window import time_window_of
    from .correlation.link import link_rows
    from .correlation.scan import end_unread, start_unread

    scans = [x for s in sessions for x in _scan_of(imss, s)]
    pool = list(small.events.values()) + [e for e, _ in candidates.values()]
    files = [x.file for x in imss]
    return link_rows(scans, pool, list(small.tx.values()), time_window_of(window), list(small.mail.values()),
                     starts=partial(start_unread, files), ends=partial(end_unread, files))


def _why_not_paired(r: Row) -> str:
    """Why correlate pairs no scan with an event that log.imss names by no ID: correlate's own evidence, decided over
    every scan and event at once (the AntiSpoofFilter traces without policy event nearest to it, when any is near:
    :mod:`.correlation.unpaired`)."""
    return "; ".join(r.notes) if r.notes else (r.missing or "no scan fits it")


def _pair_as_correlate(imss: list[_ImssFile], small: _Small, notes: list[str], decided: _Correlated) -> list[_Session]:
    """What correlate decides for the message's policy events when no ID leads to a scan: it runs correlate over
    the same paths (a full pass) and shows the scan it pairs (by time alone, low confidence), or says which
    scans fit without a pair being chosen, or that it pairs none."""
    rows = decided.rows()
    if rows is None:
        notes.append(f"log.imss holds no scan of this message by its IDs, and correlate could not run to pair one by "
                     f"time: {decided.error}")
        return []
    mine = {(e.source.file, e.source.line): e for e in small.events.values()}
    index = {str(f.file.path): fi for fi, f in enumerate(imss)}
    out: list[_Session] = []
    head = "log.imss holds no scan of this message by its IDs (internal ID, Message-ID, queue ID); correlate (run over " \
           "the same logs, a full pass)"
    said: set[tuple[str, int]] = set()
    for r in rows:
        if r.event is None or (r.event.source.file, r.event.source.line) not in mine:
            continue
        e = r.event
        said.add((e.source.file, e.source.line))
        if r.status == "linked" and r.session is not None and r.link is not None:
            basis = _basis_words(r.link.basis)
            words = f"paired by {basis} ({r.link.confidence} confidence), as correlate links them"
            file, line = r.session.sources[0]
            where = f"{Path(file).name}:{line}"
            notes.append(f"{head} pairs policy event {e.internal_id} with the scan on thread {r.session.thread} at "
                         f"{r.trace.time.isoformat(sep=' ') if r.trace is not None else where} ({where}) by {basis} "
                         f"({r.link.confidence} confidence): {r.link.detail}")
            fi = index.get(file)
            if fi is None:
                continue
            data = imss[fi].data
            hit = _Hit(fi, _line_start(data, line), line, "", "time")
            s = _as_correlate_cuts(imss, _cut(imss, hit), (fi, line))
            s.link = words
            s.start_note = f"{words}: " + s.start_note
            out.append(s)
        elif r.status == "ambiguous" and r.link is not None:
            tie = f" (a tie at {r.link.tied_at})" if r.link.tied_at else ""
            notes.append(f"{head} pairs no scan with policy event {e.internal_id}: it {r.link.detail}; no pair is "
                         f"chosen{tie}")
        else:
            notes.append(f"{head} pairs no scan with policy event {e.internal_id}: {_why_not_paired(r)}")
    for where, e in sorted(mine.items()):
        if where not in said:  # correlate pairs AntiSpoofFilter scans with spoof events only
            notes.append(f"{head} pairs no scan with policy event {e.internal_id}: it pairs AntiSpoofFilter scans with "
                         f"spoof policy events only, and this one is not (rule {e.rule!r})")
    return out


def _line_start(data: Any, lineno: int) -> int:
    """The offset of line ``lineno`` (1-based) in ``data``: line breaks counted over 1 MB slices, then found."""
    pos, left, step = 0, lineno - 1, 1 << 20
    while left > 0:
        end = min(pos + step, len(data))
        n = _count_newlines(data, pos, end)
        if n < left and end < len(data):
            left, pos = left - n, end
            continue
        while left > 0:
            pos = data.find(b"\n", pos) + 1
            left -= 1
    return pos


def _first_line(imss: list[_ImssFile], s: _Session) -> str:
    return f"{_file_name(imss, s.lines[0][0])}:{s.lines[0][1]}"


def _keys_from_session(s: _Session, imss: list[_ImssFile], keys: _Keys) -> None:
    from .grammars.received import parse_received

    first_header = True
    for fi, ln, raw in s.lines:
        where = f"{_file_name(imss, fi)}:{ln}"
        if _FINISHED in raw:
            iid = _finished_id(raw)
            if iid is not None and INTERNAL_ID.fullmatch(iid):
                keys.add("iid", iid, f"log.imss {where}")
        elif (mid := _message_id_of(raw)) is not None:
            keys.add("mid", mid, f"log.imss {where}")
        elif first_header and (header := _received_header_of(raw)) is not None:
            first_header = False  # only the newest header names IMSVA's own Postfix queue (A)
            for q in parse_received(header).queue_ids:
                if QUEUE_ID.fullmatch(q):
                    keys.add("qid", q, f"Received header in log.imss {where}")


def _assemble(result: Trace, keys: _Keys, small: _Small, imss: list[_ImssFile], sessions: list[_Session],
              tz: tzinfo | None, paired: bool = False) -> None:
    lines: list[TraceLine] = []
    zone = tz
    for f in imss:  # a log.imss cut short (a gzip that ends early): its lines before the break were searched
        if f.read_error is not None and f.read_error.whole:
            result.notes.append(unchecked_note(f.file, f.read_error))
        elif f.read_error is not None:
            result.rejects.append(unread_reject(f.file, "imss", f.read_error))
    result.notes += small.notes
    sessions = sorted(sessions, key=lambda s: _session_order(imss, s))  # scan 1 is the earliest
    for si, s in enumerate(sessions):
        link = s.link or f"scan on thread {s.tag.decode()[1:-1]}" + (f" (scan {si + 1})" if len(sessions) > 1 else "")
        for fi, ln, raw in s.lines:
            text = decode(raw)
            item = parse_line("imss", Source(str(imss[fi].file.path), ln, text))
            t = None if isinstance(item, Reject) else item.time
            if zone is None and t is not None:
                zone = t.tzinfo
            lines.append(TraceLine("scan", t, str(imss[fi].file.path), ln, text, link))
        result.notes.append(f"scan {si + 1}: {s.start_note}; {s.end_note}")
    for where, e in small.events.items():
        lines.append(TraceLine("policy", e.time, e.source.file, e.source.line, e.source.text,
                               small.event_links.get(where) or _which(keys, iid=e.internal_id, mid=_strip_brackets(e.message_id))))
        if zone is None:
            zone = e.time.tzinfo
    for t in small.tx.values():
        lines.append(TraceLine("tracking", t.time, t.source.file, t.source.line, t.source.text,
                               _which(keys, iid=t.internal_id, mid=_strip_brackets(t.message_id), qid=t.queue_id)))
    # maillog: first pass = the queues relayed to the scanner (and their queue lines); second pass = the rest
    relayed = {queue_key(m.queue_id or "") for m in small.mail.values() if m.queued_as and _to_scanner(m)}
    handed_back = {queue_key(m.queued_as or "") for m in small.mail.values() if m.queued_as and _to_scanner(m)}
    zone_note = None
    for m in small.mail.values():
        q = queue_key(m.queue_id or "")
        stage = "postfix-in" if q in relayed or (q not in handed_back and not relayed and not _delivered_out(m)) else "postfix-out"
        when = m.time
        if m.zone_assumed and zone is not None and tz is None:
            when = m.time.replace(tzinfo=zone)
            zone_note = f"maillog has no zone; its times are read in the zone of log.imss/polevt ({_offset(zone)})"
        elif m.zone_assumed:
            zone_note = "maillog has no zone and nothing else gave one; its times are read as UTC (give --tz)"
        link = (f"queue ID {q}" if q in keys.qids else
                _which(keys, queued_as=m.queued_as, mid=_strip_brackets(m.message_id)))
        lines.append(TraceLine(stage, when, m.source.file, m.source.line, m.source.text, link))
    if zone_note:
        result.notes.append(zone_note)
    order = {f: i for i, f in enumerate(sorted({ln.file for ln in lines}))}
    lines.sort(key=lambda x: (x.time is None, _utc(x.time), _stage_rank(x), order[x.file], x.line))
    result.lines = lines
    result.internal_ids = sorted(keys.iids)
    result.message_ids = sorted(keys.mids)
    result.queue_ids = sorted(keys.qids)
    given = {k for k, fs in small.files.items() if fs}
    for k in STAGES_KIND:
        if k not in given:
            result.notes.append(f"no {KIND_NAMES[k]} was given: {STAGES_OF_KIND[k]} cannot be shown")
    if "imss" in given and not sessions and lines and not paired:  # with nothing found at all, the line below says it
        result.notes.append("log.imss holds no scan of this message (not by its internal ID, Message-ID or queue ID); "
                            "correlate may still pair a scan with it by time alone (low confidence)")
    if not lines:
        result.notes.append(f"nothing in the logs given mentions {result.query}")


def _session_order(imss: list[_ImssFile], s: _Session) -> tuple[bool, datetime, int, int]:
    """A scan's place in time: its first line's time that the grammar reads (UTC), then where it is."""
    t = None
    for fi, ln, raw in s.lines:
        item = parse_line("imss", Source(str(imss[fi].file.path), ln, decode(raw)))
        if not isinstance(item, Reject):
            t = item.time
            break
    fi, ln = s.lines[0][:2] if s.lines else (0, 0)
    return t is None, _utc(t), fi, ln


STAGES_KIND = ("maillog", "imss", "polevt", "msgtra")
STAGES_OF_KIND = {"maillog": "the Postfix passes", "imss": "the scan", "polevt": "policy events", "msgtra": "message tracking"}


def _to_scanner(m: MailLogEntry) -> bool:
    return m.relay_port == 10025 or (m.relay_address or "").startswith("127.")


def _delivered_out(m: MailLogEntry) -> bool:
    return m.relay_host is not None and not _to_scanner(m)


def _stage_rank(x: TraceLine) -> float:
    # the first pass's hand-over to the scanner is logged when the scanner answers, after the scan
    if x.stage == "postfix-in" and ("queued as" in x.text or ": removed" in x.text):
        return _RANK["tracking"] + 0.5
    return _RANK[x.stage]


def _utc(t: datetime | None) -> datetime:
    if t is None:
        return datetime.min
    if t.tzinfo is None:
        return t
    return (t - (t.utcoffset() or timedelta())).replace(tzinfo=None)


def _offset(zone: tzinfo) -> str:
    off = datetime(2000, 1, 1, tzinfo=zone).utcoffset() or timedelta()
    sign = "-" if off < timedelta() else "+"
    minutes = abs(int(off.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _which(keys: _Keys, *, iid: str | None = None, mid: str | None = None, qid: str | None = None,
           queued_as: str | None = None) -> str:
    """The link that brought a line in: the first of its IDs that belongs to the message."""
    if iid and iid.upper() in keys.iids:
        return f"internal ID {iid}"
    if mid and mid in keys.mids:
        return f"Message-ID <{mid}>"
    if qid and queue_key(qid) in keys.qids:
        return f"queue ID {queue_key(qid)}"
    if queued_as and queue_key(queued_as) in keys.qids:
        return f"queued as {queue_key(queued_as)}"
    return "time"


# ---------------------------------------------------------------------------
# Envelope address
# ---------------------------------------------------------------------------


def _address_trace(address: str, by_kind: dict[str, list[LogFile]], small: _Small, since: datetime | None,
                   until: datetime | None, tz: tzinfo | None, result: Trace,
                   progress: Callable[[int, int], None] | None) -> Trace:
    result.id_kind = "address"
    addr = address.strip().strip("<>").lower()
    needle = [addr.encode("utf-8", "surrogateescape")]
    seen: dict[str, Candidate] = {}

    def inside(t: datetime | None) -> bool:
        if t is None:
            return since is None and until is None
        return (since is None or _cmp(t, since) >= 0) and (until is None or _cmp(t, until) <= 0)

    for e in _lower_records(small, "polevt", needle):
        if (addr == (e.sender or "").lower() or addr in (r.lower() for r in e.recipients)) and inside(e.time):
            seen.setdefault(e.internal_id.upper(), Candidate(e.time, e.sender, e.recipients, e.subject, e.internal_id,
                                                               _strip_brackets(e.message_id), None, e.source.ref()))
    for t in _lower_records(small, "msgtra", needle):
        if (addr == (t.sender or "").lower() or addr in (r.lower() for r in t.recipients)) and inside(t.time):
            key = t.internal_id.upper() if t.internal_id else queue_key(t.queue_id) if t.queue_id else t.source.ref()
            seen.setdefault(key, Candidate(t.time, t.sender, t.recipients, t.subject, t.internal_id,
                                           _strip_brackets(t.message_id), t.queue_id, t.source.ref()))
    known_q = {queue_key(c.queue_id or "") for c in seen.values()}
    for c in list(seen.values()):  # the queues each message went through are the same message, not others
        k = _Keys()
        k.add("iid", c.internal_id, "")
        k.add("mid", c.message_id, "")
        k.add("qid", c.queue_id, "")
        probe = _Small(by_kind, tz, [])
        for _ in range(6):
            if not probe.grow(k):
                break
        known_q |= k.qids
    for m in _lower_records(small, "maillog", needle):
        if m.queued_as:
            if queue_key(m.queue_id or "") in known_q:
                known_q.add(queue_key(m.queued_as))
            elif queue_key(m.queued_as) in known_q:
                known_q.add(queue_key(m.queue_id or ""))
    for m in _lower_records(small, "maillog", needle):
        q = queue_key(m.queue_id or "")
        if q and q not in known_q and addr in ((m.sender or "").lower(), (m.recipient or "").lower()) and inside(m.time):
            known_q.add(q)
            seen.setdefault(q, Candidate(m.time, m.sender, (m.recipient,) if m.recipient else (), None, None, None, q,
                                         m.source.ref()))
    cands = sorted(seen.values(), key=lambda c: (c.time is None, _utc(c.time)))
    result.candidates = cands
    if not cands:
        result.notes.append(f"no message from or to {addr} in the policy events, message tracking or maillog given"
                            + (" in that time span" if since or until else ""))
        return result
    if len(cands) > MAX_MESSAGES:
        raise InputError(f"{len(cands)} messages from or to {addr}; narrow the search with --since/--until "
                         f"(at most {MAX_MESSAGES} are traced at once)")
    keys = _Keys()
    for c in cands:
        keys.add("iid", c.internal_id, f"address {addr}")
        keys.add("mid", c.message_id, f"address {addr}")
        keys.add("qid", c.queue_id, f"address {addr}")
    for _ in range(6):
        if not small.grow(keys):
            break
    imss = [_ImssFile(f) for f in by_kind.get("imss", [])]
    finds = _QueueFinds()
    sessions = _scan_sessions(imss, keys, progress, finds) if imss else []
    result.rejects += finds.rejects.values()
    for s in sessions:
        _keys_from_session(s, imss, keys)
    small.all_queue_lines(keys)
    _assemble(result, keys, small, imss, sessions, tz)
    return result


def _lower_records(small: _Small, kind: str, needles: Sequence[bytes]) -> Iterable[Any]:
    # addresses are matched case-insensitively: search the lower- and the as-typed form
    return small._records(kind, sorted(set(needles) | {n.upper() for n in needles} | {n.capitalize() for n in needles}))


def reversed_span(since: datetime | None, until: datetime | None) -> bool:
    """True when ``since`` is after ``until`` (a bound without zone is wall-clock time, as for the logged times).

    >>> reversed_span(datetime(2024, 3, 12, 10), datetime(2024, 3, 12, 9))
    True
    >>> from datetime import timezone
    >>> reversed_span(datetime(2024, 3, 12, 10, tzinfo=timezone(timedelta(hours=2))), datetime(2024, 3, 12, 9, tzinfo=timezone.utc))
    False
    >>> reversed_span(None, datetime(2024, 3, 12, 9)), reversed_span(datetime(2024, 3, 12, 9), datetime(2024, 3, 12, 9))
    (False, False)
    """
    if since is None or until is None:
        return False
    if (since.tzinfo is None) != (until.tzinfo is None):  # one of them as logged: compare wall clocks
        return since.replace(tzinfo=None) > until.replace(tzinfo=None)
    return _cmp(since, until) > 0


def _cmp(a: datetime, b: datetime) -> int:
    """Compare a logged time with a bound; a bound without zone is wall-clock time as logged."""
    if b.tzinfo is None:
        ua, ub = a.replace(tzinfo=None), b
    else:
        ua, ub = _utc(a), _utc(b)
    return (ua > ub) - (ua < ub)


__all__ = ["STAGES", "Candidate", "Trace", "TraceLine", "id_kind", "reversed_span", "trace"]
