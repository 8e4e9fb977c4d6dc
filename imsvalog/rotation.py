"""Rotated log files: which ones are missing between the files given, which rotation is given twice, and the time
a missing file held.

IMSVA rotates ``log.imss``, ``polevt.imss`` and ``msgtra.imss`` by size into ``KIND.YYYYMMDD.NNNN`` files numbered
from 0001 each day; syslog rotates ``maillog`` into ``maillog.1``, ``maillog.2``, ... (``maillog`` itself being the
newest). A number missing between two given files of the same kind, appliance and day is a file left out: a trace
or a policy event of its time has no partner in the files given, and correlate says so instead of "the policy
events read span its time". The time it held is known from its neighbours: from the last line of the file before
it to the first line of the file after it. Files before the first or after the last one given are not counted as
missing: the hour of the ticket may be all that was sent.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import InputError
from .grammars.common import OFFSET_PATTERN, BadTime, make_time
from .sources import _GZIP_MAGIC, _NAME_RE, KIND_NAMES, LogFile, _open_salvaging

#: the kinds whose rotated files are numbered (syslog views and files named by their content are not)
NUMBERED = ("imss", "polevt", "msgtra", "maillog")
#: a log.imss, polevt.imss or msgtra.imss line's time at a line start (``_TIME_AT.match(buf, pos)``: at ``pos``)
#: (the offset as the grammars take it: ``GMT+9`` too)
_TIME_AT = re.compile(rb"(\d{4}/\d{2}/\d{2})[ \t]+(\d{2}:\d{2}:\d{2})[ \t]+GMT(" + OFFSET_PATTERN.encode()
                      + rb")(?=[ \t\r\n])")
_TIME = re.compile(rb"(?m)^" + _TIME_AT.pattern)


@dataclass(frozen=True)
class Gap:
    """Rotated files of one kind, appliance and day missing between two given ones."""

    kind: str
    appliance: str | None
    after: LogFile
    before: LogFile
    #: the missing files' names
    names: tuple[str, ...]

    def named(self) -> str:
        """``polevt.imss.20240312.0002``, ``... .0002 and .0003``, ``... .0002 to .0009 (8 files)``."""
        first = self.names[0]
        if len(self.names) == 1:
            return first
        tail = lambda n: n[n.rindex(".") :]  # noqa: E731
        if len(self.names) == 2:
            return f"{first} and {tail(self.names[1])}"
        return f"{first} to {tail(self.names[-1])} ({len(self.names)} files)"

    def words(self) -> str:
        one = len(self.names) == 1
        return (f"{self.named()} {'is' if one else 'are'} not among the files given (between {self.after.path} and "
                f"{self.before.path}): what {'it' if one else 'they'} held is not read")


def _seq(f: LogFile) -> int | None:
    """The rotation number as a count from the newest: maillog's current file is 0 (``maillog.1`` is older)."""
    if f.seq is not None:
        return abs(f.seq)
    if f.kind == "maillog" and f.date is None and f.syslog is None and _NAME_RE.search(f.name):
        return 0
    return None


def _groups(files: Iterable[LogFile]) -> list[dict[int, list[LogFile]]]:
    groups: dict[tuple[str, str, str | None], dict[int, list[LogFile]]] = {}
    for f in files:
        n = _seq(f)
        if n is not None and f.syslog is None and f.kind in NUMBERED:
            groups.setdefault((f.kind, f.appliance or "", f.date), {}).setdefault(n, []).append(f)
    return list(groups.values())


def _name(f: LogFile, n: int, width: int) -> str:
    m = _NAME_RE.search(f.name)
    assert m is not None  # a rotation number comes from the name
    if m["seq"] is None:  # maillog
        return f"{f.name[: m.end('kind')]}.{n}"
    return f"{f.name[: m.start('seq')]}{n:0{width}d}"


def gaps(files: Iterable[LogFile]) -> list[Gap]:
    """The rotated files missing between two given ones of the same kind, appliance and day.

    >>> from pathlib import Path
    >>> [g.words() for g in gaps([LogFile(Path(n), "polevt", "20240312", s) for n, s in
    ...                           [("polevt.imss.20240312.0001", 1), ("polevt.imss.20240312.0004.gz", 4)]])]
    ['polevt.imss.20240312.0002 and .0003 are not among the files given (between polevt.imss.20240312.0001 and polevt.imss.20240312.0004.gz): what they held is not read']
    """
    out = []
    for by_seq in _groups(files):
        seqs = sorted(by_seq)
        for a, b in zip(seqs, seqs[1:]):
            if b - a < 2:
                continue
            fa, fb = by_seq[a][-1], by_seq[b][0]
            widths = [len(m["seq"]) for f in (fa, fb) if (m := _NAME_RE.search(f.name)) and m["seq"]]
            width = max(widths, default=1)  # IMSVA's four digits, also when one file was named .1
            names = tuple(_name(fa if fa.seq is not None else fb, n, width) for n in range(a + 1, b))
            out.append(Gap(fa.kind, fa.appliance, fa, fb, names))
    return out


def repeats(files: Iterable[LogFile]) -> list[str]:
    """One rotation given twice (``log.imss.20240312.0001`` and ``log.imss.20240312.0001.gz``): both are read, so
    if one is a copy of the other, each of its lines counts twice; said, in words, once per rotation."""
    out = []
    for by_seq in _groups(files):
        for _, same in sorted(by_seq.items()):
            if len(same) > 1:
                names = ", ".join(str(f.path) for f in same[:-1]) + f" and {same[-1].path}"
                out.append(f"{names} are the same rotated {KIND_NAMES.get(same[0].kind, same[0].kind)} file: both are "
                           "read, so if one is a copy of the other each of its lines counts twice (give one of them)")
    return out


def notes(files: Iterable[LogFile]) -> list[str]:
    """What the rotated files given lack or repeat, in words (correlate's ``summary.rotation``)."""
    files = list(files)
    return [g.words() for g in gaps(files)] + repeats(files)


def _at(m: re.Match[bytes] | None) -> datetime | None:
    if m is None:
        return None
    try:
        return make_time(m[1].decode(), m[2].decode(), m[3].decode())
    except (BadTime, UnicodeDecodeError):
        return None


#: errors that end reading a file early: what was read until then is kept
_READ_ERRORS = (OSError, EOFError, zlib.error, gzip.BadGzipFile, ValueError, InputError)


def _plain(f: LogFile) -> bool:
    """A file on disk that is not gzip (its end can be read by seeking)."""
    if f.member is not None:
        return False
    try:
        with open(f.path, "rb") as raw:
            return raw.read(2) != _GZIP_MAGIC
    except OSError:
        return False


def first_time(f: LogFile, limit: int = 1 << 23) -> datetime | None:
    """The time of the file's first line that begins with one (None when none is in its first ``limit`` bytes, or
    it cannot be read)."""
    buf = b""
    try:
        with _open_salvaging(f)[0] as fh:  # a gzip cut short: its readable bytes, then the end
            while len(buf) < limit and (chunk := fh.read(1 << 20)):
                buf += chunk
                t = _first_in(buf)
                if t is not None:
                    return t
    except _READ_ERRORS:
        return _first_in(buf)
    return None


def _first_in(buf: bytes) -> datetime | None:
    """The first time at a line start of ``buf`` that is a real time (``2024/13/45 ...`` is not)."""
    return next((t for m in _TIME.finditer(buf) if (t := _at(m)) is not None), None)


#: a plain file is read back at most this far from its end for its last time
BACK_LIMIT = 1 << 26
#: how much of a line's start is held to read its time (the grammar allows any run of blanks between date, clock and
#: offset; a time not within it is not taken, never taken cut short)
_HEAD = 1 << 12


def _last_in_block(data: bytes, after: bytes, at_start: bool) -> datetime | None:
    """The last time at a line start inside ``data`` (``after``: the first :data:`_HEAD` bytes that follow it in
    the file, to finish a time that crosses the block's end); the block's own first byte counts as a line start only at the
    file's start."""
    buf = data + after
    pos = len(data)
    while True:
        nl = data.rfind(b"\n", 0, pos)
        if nl < 0:
            return _at(_TIME_AT.match(buf, 0)) if at_start else None
        t = _at(_TIME_AT.match(buf, nl + 1)) if nl + 1 < len(data) or after else None
        if t is not None:
            return t
        pos = nl


def last_time(f: LogFile) -> datetime | None:
    """The time of the file's last line that begins with one (None when none does, or it cannot be read at all).
    A plain file is read back from its end 1 MiB at a time, at most :data:`BACK_LIMIT` bytes; a gzip or bundle
    member is read through (holding only the head of the line not yet ended), and when its end cannot be read (cut
    short), the last time read before is kept. Memory stays bounded either way."""
    step = 1 << 20
    if _plain(f):
        try:
            with open(f.path, "rb") as fh:
                size = end = fh.seek(0, 2)
                after = b""
                while end > 0 and size - end < BACK_LIMIT:
                    start = max(0, end - step)
                    fh.seek(start)
                    data = fh.read(end - start)
                    t = _last_in_block(data, after, start == 0)
                    if t is not None:
                        return t
                    after, end = data[:_HEAD], start
        except OSError:
            return None
        return None
    last: datetime | None = None
    head = b""  # the first bytes of the line not yet ended (enough for its time)
    try:
        with _open_salvaging(f)[0] as fh:  # a gzip cut short: its readable bytes, then the end
            while chunk := fh.read(step):
                nl = chunk.rfind(b"\n")
                if nl < 0:
                    head = (head + chunk[:_HEAD])[:_HEAD]
                    continue
                first = chunk.find(b"\n")
                t = _last_in_block(chunk[first + 1 : nl + 1], b"", True) if first < nl else None  # at a line start
                line = head + chunk[: min(first, _HEAD)]
                # the line that began before this chunk; its end known only when it was held whole (a line cut
                # at _HEAD bytes never yields a time cut short: 'GMT+100' of 'GMT+1000')
                ended = line[:_HEAD] + b"\n" if len(line) <= _HEAD else line[:_HEAD]
                last = t or _at(_TIME_AT.match(ended)) or last
                head = chunk[nl + 1 : nl + 1 + _HEAD]
    except _READ_ERRORS:
        pass
    return _at(_TIME_AT.match(head)) or last  # a last line without newline: as a plain file's


Holes = Callable[[str, datetime], "str | None"]


def holes(files: Iterable[LogFile], window: timedelta = timedelta(0)) -> Holes:
    """``hole(kind, t)``: words when time ``t`` falls in a missing rotated log.imss or polevt.imss file (the kinds
    rows are partnered across), or is within ``window`` of its time (correlate's --time-window: a partner may be that
    far); else None. The missing file held the time from the last timed line of the given file before it to the
    first of the one after it; where one of those is not found, the other end of that file bounds it (the time then
    "may fall" in it)."""
    spans: list[tuple[str, datetime | None, datetime | None, datetime | None, datetime | None, Gap]] = []
    for g in gaps(files):
        if g.kind not in ("imss", "polevt"):  # msgtra and maillog times are never asked about (maillog: no year)
            continue
        a_last, b_first = last_time(g.after), first_time(g.before)
        start = a_last if a_last is not None else first_time(g.after)
        end = b_first if b_first is not None else last_time(g.before)
        if start is None or end is None or start <= end:
            spans.append((g.kind, start, end, a_last, b_first, g))

    def edge(f: LogFile, t: datetime | None, which: str) -> str:
        return (f"the {which} line of {f.path}, {t.isoformat(sep=' ')}" if t is not None
                else f"{f.path}, whose {which} time was not found")

    def hole(kind: str, t: datetime) -> str | None:
        for k, start, end, a_last, b_first, g in spans:
            if k != kind or (start is not None and t < start - window) or (end is not None and t > end + window):
                continue
            where = (f"{g.named()} (not among the files given; between {edge(g.after, a_last, 'last')} and "
                     f"{edge(g.before, b_first, 'first')})")
            if start is not None and t < start:
                return f"its time is {(start - t).total_seconds():g} s before that of {where}"
            if end is not None and t > end:
                return f"its time is {(t - end).total_seconds():g} s after that of {where}"
            exact = a_last is not None and b_first is not None
            return f"its time {'falls' if exact else 'may fall'} in {where}"
        return None

    return hole
