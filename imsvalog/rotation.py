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

import contextlib
import gzip
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from .errors import InputError
from .grammars.common import BadTime, make_time
from .sources import _GZIP_MAGIC, _NAME_RE, KIND_NAMES, LogFile, open_log

#: the kinds whose rotated files are numbered (syslog views and files named by their content are not)
NUMBERED = ("imss", "polevt", "msgtra", "maillog")
#: how much of a file's start and end is searched for a line's time
_EDGE = 1 << 16
#: a log.imss, polevt.imss or msgtra.imss line's time at a line start
_TIME = re.compile(rb"(?m)^(\d{4}/\d{2}/\d{2})[ \t]+(\d{2}:\d{2}:\d{2})[ \t]+GMT([+-]\d{1,2}:?\d{2})")


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


def _time_in(data: bytes, last: bool) -> datetime | None:
    found = list(_TIME.finditer(data))
    for m in reversed(found) if last else found:
        with contextlib.suppress(BadTime, UnicodeDecodeError):
            return make_time(m[1].decode(), m[2].decode(), m[3].decode())
    return None


@lru_cache(maxsize=64)
def edge_times(f: LogFile) -> tuple[datetime | None, datetime | None]:
    """The time of a file's first and last timed line (None where none is in its first or last 64 KiB, or the file
    cannot be read). A plain file's end is read by seeking; a gzip or bundle member is read through."""
    first = last = None
    try:
        plain = False
        if f.member is None:
            with open(f.path, "rb") as raw:
                plain = raw.read(2) != _GZIP_MAGIC
        with open(f.path, "rb") if plain else open_log(f) as fh:
            head = fh.read(_EDGE)
            first = _time_in(head, last=False)
            tail = head
            if plain:
                end = fh.seek(0, 2)
                if end > _EDGE:
                    fh.seek(max(end - _EDGE, _EDGE))
                    tail = fh.read()
            else:
                while chunk := fh.read(1 << 20):
                    tail = (tail + chunk)[-_EDGE:]
            last = _time_in(tail, last=True)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile, ValueError, InputError):  # unknown: None
        pass
    return first, last


Holes = Callable[[str, datetime], "str | None"]


def holes(files: Iterable[LogFile]) -> Holes:
    """``hole(kind, t)``: when time ``t`` falls in a missing rotated file of that kind (between the last line of
    the given file before it and the first line of the one after it), that file's words; else None."""
    spans: list[tuple[str, datetime, datetime, Gap]] = []
    for g in gaps(files):
        if g.kind == "maillog":  # syslog times carry no year or zone here: not compared
            continue
        start, end = edge_times(g.after)[1], edge_times(g.before)[0]
        if start is not None and end is not None and start <= end:
            spans.append((g.kind, start, end, g))

    def hole(kind: str, t: datetime) -> str | None:
        for k, start, end, g in spans:
            if k == kind and start <= t <= end:
                return (f"its time falls in {g.named()} (not among the files given; between the last line of "
                        f"{g.after.path}, {start.isoformat(sep=' ')}, and the first of {g.before.path}, "
                        f"{end.isoformat(sep=' ')})")
        return None

    return hole
