"""Rotated log files: which ones are missing between the files given, which rotation is given twice, and the time
a missing file held.

IMSVA rotates ``log.imss``, ``polevt.imss`` and ``msgtra.imss`` by size into ``KIND.YYYYMMDD.NNNN`` files numbered
from 0001 each day; syslog rotates ``maillog`` into ``maillog.1``, ``maillog.2``, ... (``maillog`` itself being the
newest). A number missing between two given files of the same kind, appliance and day is a file left out (and so
are a later day's first numbers when a higher one of that day is given after an earlier day): a trace
or a policy event of its time has no partner in the files given, and correlate says so instead of "the policy
events read span its time". The time it held is known from its neighbours: from the last line of the file before
it to the first line of the file after it. Files before the first or after the last one given are not counted as
missing: the hour of the ticket may be all that was sent. A file given that holds nothing of its rotation (empty, a
gzip of nothing, a log.imss or polevt.imss file without a line that begins with a time, a copy of another file read
once under another number: :func:`hollows`) counts as missing, and is said. A scan read across files is cut where
the next file does not continue the one before (:func:`breaks`).
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import InputError
from .grammars.common import OFFSET_PATTERN, BadTime, make_time
from .readers import UNREADABLE_START
from .bundles import is_gzipped
from .sources import _GZIP_MAGIC, _NAME_RE, KIND_NAMES, LogFile, _open_salvaging, grew, same_as, sort_key, where

#: the kinds whose rotated files are numbered (syslog views and files named by their content are not)
NUMBERED = ("imss", "polevt", "msgtra", "maillog")
#: a log.imss, polevt.imss or msgtra.imss line's time at a line start (``_TIME_AT.match(buf, pos)``: at ``pos``)
#: (the offset as the grammars take it: ``GMT+9`` too)
_TIME_AT = re.compile(rb"(\d{4}/\d{2}/\d{2})[ \t]+(\d{2}:\d{2}:\d{2})[ \t]+GMT(" + OFFSET_PATTERN.encode()
                      + rb")(?=[ \t\r\n])")
_TIME = re.compile(rb"(?m)^" + _TIME_AT.pattern)


@dataclass(frozen=True)
class Gap:
    """Rotated files of one kind, appliance and day missing between two given ones (a file given empty, holding no
    line with a time, or holding the same bytes as another counts as missing: what that rotation held is not here)."""

    kind: str
    appliance: str | None
    after: LogFile
    before: LogFile
    #: the missing files' names
    names: tuple[str, ...]
    #: those given but holding nothing of their rotation: name -> why (:func:`hollow`), in words
    given: tuple[tuple[str, str], ...] = ()

    def named(self) -> str:
        """``polevt.imss.20240312.0002``, ``... .0002 and .0003``, ``... .0002 to .0009 (8 files)``."""
        first = self.names[0]
        if len(self.names) == 1:
            return first
        if len(self.names) == 2:
            return f"{first} and {_short(first, self.names[1])}"
        return f"{first} to {_short(first, self.names[-1])} ({len(self.names)} files)"

    @property
    def absent(self) -> tuple[str, ...]:
        """The names not given at all."""
        given = dict(self.given)
        return tuple(n for n in self.names if n not in given)

    def _short(self, name: str) -> str:
        """The number alone (``.0003``) when the names are of one day, else the whole name."""
        return _tail(name) if all(_short(self.names[0], n) != n for n in self.names[1:]) else name

    def status(self) -> str:
        """Why what the files held is not read: ``not among the files given``, ``given, but empty``, or per file."""
        if not self.given:
            return "not among the files given"
        given = dict(self.given)
        if len(self.names) == 1:
            return f"given, but it {given[self.names[0]]}"
        absent = self.absent
        short = self._short
        said = [f"{short(n)} {why}" for n, why in self.given]
        if absent:
            said.append(f"{', '.join(map(short, absent))} {'is' if len(absent) == 1 else 'are'} not among the files given")
        return "; ".join(said)

    def state(self) -> str:
        """What became of the missing files, as the rest of a sentence whose subject is :meth:`named`: ``is (are)
        not among the files given``, ``was given but is empty``, or for several given hollow or a mix, ``are not read
        (.0002 is empty; .0003 is not among the files given)``."""
        one = len(self.names) == 1
        if not self.given:
            return f"{'is' if one else 'are'} not among the files given"
        if one:
            return f"was given but {self.given[0][1]}"
        return f"are not read ({self.status()})"

    def words(self) -> str | None:
        """The note on the names not given at all (those given hollow have their own: :func:`notes`)."""
        absent = self.absent
        if not absent:
            return None
        one = len(absent) == 1
        named = self.named() if absent == self.names else ", ".join([absent[0], *map(self._short, absent[1:])])
        return (f"{named} {'is' if one else 'are'} not among the files given (between {self.after.path} and "
                f"{self.before.path}): what {'it' if one else 'they'} held is not read")


def _tail(name: str) -> str:
    return name[name.rindex(".") :]


def _short(first: str, name: str) -> str:
    """``name`` after ``first`` in a list: its number alone when it is of the same day (``.0003``)."""
    return _tail(name) if name[: name.rindex(".")] == first[: first.rindex(".")] else name


#: why a given rotated file holds nothing of its rotation (:func:`hollow`)
EMPTY = "is empty"
TIMELESS = "holds no line that begins with a time (its lines, if any, are rejects)"


def _seq(f: LogFile) -> int | None:
    """The rotation number as a count from the newest: maillog's current file is 0 (``maillog.1`` is older)."""
    if f.seq is not None:
        return abs(f.seq)
    if f.kind == "maillog" and f.date is None and f.syslog is None and _NAME_RE.search(f.name):
        return 0
    return None


def _numbered(f: LogFile) -> bool:
    """A rotated file numbered by its name (one of a kind, appliance and day's sequence)."""
    return _seq(f) is not None and f.syslog is None and f.kind in NUMBERED


def _key(f: LogFile) -> tuple[str, str, str | None]:
    return f.kind, f.appliance or "", f.date


def _groups(files: Iterable[LogFile]) -> list[dict[int, list[LogFile]]]:
    groups: dict[tuple[str, str, str | None], dict[int, list[LogFile]]] = {}
    for f in files:
        if _numbered(f):
            groups.setdefault(_key(f), {}).setdefault(_seq(f), []).append(f)  # type: ignore[arg-type]
    return list(groups.values())


def _name(f: LogFile, n: int, width: int) -> str:
    """The name of rotation ``n`` of ``f``'s sequence: a file name to ask for (a member's, without the bundle
    around it: ``log.imss.20240312.0003``, not ``rotated.tar.gz!log.imss.20240312.0003``)."""
    name = f.name.rsplit("!", 1)[-1]
    m = _NAME_RE.search(name)
    assert m is not None  # a rotation number comes from the name
    if m["seq"] is None:  # maillog
        return f"{name[: m.end('kind')]}.{n}"
    return f"{name[: m.start('seq')]}{n:0{width}d}"


def gaps(files: Iterable[LogFile], why: dict[LogFile, str] | None = None) -> list[Gap]:
    """The rotated files missing between two given ones of the same kind, appliance and day; a file given hollow
    (``why``, default :func:`hollows`: empty, no line with a time, a copy of another) counts as missing.

    >>> from pathlib import Path
    >>> [g.words() for g in gaps([LogFile(Path(n), "polevt", "20240312", s) for n, s in
    ...                           [("polevt.imss.20240312.0001", 1), ("polevt.imss.20240312.0004.gz", 4)]], {})]
    ['polevt.imss.20240312.0002 and .0003 are not among the files given (between polevt.imss.20240312.0001 and polevt.imss.20240312.0004.gz): what they held is not read']
    """
    files = list(files)
    why = hollows(files) if why is None else why
    out = []
    days: dict[tuple[str, str], list[tuple[str, dict[int, list[LogFile]], dict[int, list[LogFile]]]]] = {}
    for by_seq in _groups([*files, *(c for f in files for c in f.copies if c in why)]):
        real = {n: [f for f in fs if f not in why] for n, fs in by_seq.items()}
        seqs = sorted(n for n, fs in real.items() if fs)
        for a, b in zip(seqs, seqs[1:]):
            if b - a >= 2:
                out.append(_gap(real[a][-1], real[b][0], a, b, by_seq, why))
        one = next(f for fs in by_seq.values() for f in fs)
        if one.date is not None:
            days.setdefault((one.kind, one.appliance or ""), []).append((one.date, by_seq, real))
    # across days (within the days given only): a later day's first files not given while a higher number of it is
    # (that number proves they were written), an earlier day's last files given hollow, and a day given only hollow
    # are missing between the last file of the day given before and the first of the day given after
    for group in days.values():
        group.sort(key=lambda d: d[0])
        width = max(_width(f) for _, by_seq, _ in group for fs in by_seq.values() for f in fs)
        last: LogFile | None = None
        names: list[str] = []
        given: list[tuple[str, str]] = []
        for _, by_seq, real in group:
            seqs = sorted(n for n, fs in real.items() if fs)
            model = next(f for fs in by_seq.values() for f in fs)
            top = max(by_seq)
            if last is not None:  # this day's numbers before its first file that holds something
                names += [_name(model, n, width) for n in range(1, seqs[0] if seqs else top + 1)]
                given += [(_name(model, n, width), why[by_seq[n][0]])
                          for n in range(1, seqs[0] if seqs else top + 1) if n in by_seq]
                if seqs and names:
                    out.append(Gap(model.kind, model.appliance, last, real[seqs[0]][0], tuple(names), tuple(given)))
            if seqs:  # the numbers after its last file that holds something, up to the last one given (hollow)
                last = real[seqs[-1]][-1]
                names = [_name(model, n, width) for n in range(seqs[-1] + 1, top + 1)]
                given = [(_name(model, n, width), why[by_seq[n][0]]) for n in range(seqs[-1] + 1, top + 1)
                         if n in by_seq]
    return sorted(out, key=lambda g: (sort_key(g.after), sort_key(g.before)))


def _width(f: LogFile) -> int:
    m = _NAME_RE.search(f.name)
    return len(m["seq"]) if m and m["seq"] else 1


def _gap(fa: LogFile, fb: LogFile, a: int, b: int, by_seq: dict[int, list[LogFile]], why: dict[LogFile, str]) -> Gap:
    """The gap between ``fa`` (number ``a``; 0: the day before ``fb``'s) and ``fb`` (number ``b`` of ``by_seq``)."""
    widths = [len(m["seq"]) for f in (fa, fb) if (m := _NAME_RE.search(f.name)) and m["seq"]]
    width = max(widths, default=1)  # IMSVA's four digits, also when one file was named .1
    model = fb if a == 0 or fa.seq is None else fa  # the missing files are of fb's day when they begin it
    names = tuple(_name(model, n, width) for n in range(a + 1, b))
    given = tuple((_name(model, n, width), why[by_seq[n][0]]) for n in range(a + 1, b) if n in by_seq)
    return Gap(fa.kind, fa.appliance, fa, fb, names, given)


#: across a day boundary, the next day's ``.0001`` continues the day's last file only when the earlier file's last
#: timed line and the later file's first are this close (IMSVA starts the day's file at midnight: a busy appliance's
#: last line is seconds before it and the next day's first seconds after; a scan open across a longer silence, or
#: across later files of the day left out, is not followed)
MIDNIGHT = timedelta(minutes=5)


@dataclass(frozen=True)
class Break:
    """Where a scan read across rotated files is cut: ``before``, the file read next, does not continue ``after``
    (:func:`breaks`)."""

    after: LogFile
    before: LogFile
    #: ``missing``: files between them are missing (:attr:`gap`: not given, or given hollow); ``repeat``: ``before``
    #: is the same rotation as ``after`` again; ``jump``: ``before`` is not the next (a day or more later, another
    #: appliance's); ``apart``: ``before`` is the next day's first file, but ``after`` does not end near midnight or
    #: ``before`` does not begin near it (:data:`MIDNIGHT`; :attr:`ends`, :attr:`begins`: their times)
    why: str
    gap: Gap | None = None
    #: the days between them of which no file of that kind and appliance was given (``2024-03-13``)
    days: tuple[str, ...] = ()
    ends: datetime | None = None
    begins: datetime | None = None

    def _gap_is(self) -> str:
        g = self.gap
        assert g is not None
        one = len(g.names) == 1
        status = g.status()
        if status == "not among the files given":
            return f"{'is' if one else 'are'} {status}"
        if status.startswith("given, but it "):
            return f"was given but {status[len('given, but it '):]}"
        return f"{'is' if one else 'are'} missing ({status})"

    def _no_days(self) -> str:
        """``no log.imss of 2024-03-13 was given``."""
        d = [f"{x[:4]}-{x[4:6]}-{x[6:]}" for x in self.days]
        days = (d[0] if len(d) == 1 else f"{d[0]} or {d[1]}" if len(d) == 2
                else f"{d[0]} to {d[-1]} ({len(d)} days)")
        return f"no {KIND_NAMES.get(self.after.kind, self.after.kind)} of {days} was given"

    def _apart(self, seen_from_after: bool) -> str:
        a, b = self.after, self.before
        ends = _at_time(self.ends, a.date, "last")
        begins = _at_time(self.begins, b.date, "first")
        later = not _near_midnight(self.ends, b.date)
        day = a.date if later else b.date
        assert day is not None
        said = (f"later files of {_day(day)} may not be given" if later
                else f"the first lines of {_day(day)} may not be given")
        before = f"the file given before it, {a.name}, {ends}"
        if seen_from_after:
            mine, theirs = f"{a.name} {ends}", f"the next file given, {b.name}, {begins}"
        else:
            mine, theirs = before, f"it {begins}"
        return f"{said}: {mine} and {theirs}" if later else f"{said}: {theirs} and {mine}"

    def next_words(self) -> str:
        """Seen from the end of ``after``: ``the next file, log.imss.20240312.0002, is not among the files given``."""
        if self.gap is not None:
            many = len(self.gap.names) > 1
            said = f"the next file{'s' if many else ''}, {self.gap.named()}, {self._gap_is()}"
            return f"{said}; {self._no_days()}" if self.days else said
        if self.why == "repeat":
            return f"the next file given, {self.before.name}, is the same rotation again"
        if self.why == "apart":
            return self._apart(True)
        if self.days:
            return f"{self._no_days()} (the next file given is {self.before.name})"
        return f"the next file given, {self.before.name}, does not follow it ({_not_next(self.after, self.before)})"

    def previous_words(self) -> str:
        """Seen from the start of ``before``: ``the file before, log.imss.20240312.0002, is not among the files given``."""
        if self.gap is not None:
            many = len(self.gap.names) > 1
            said = f"the file{'s' if many else ''} before, {self.gap.named()}, {self._gap_is()}"
            return f"{said}; {self._no_days()}" if self.days else said
        if self.why == "repeat":
            return f"it is the same rotation as the file before it, {self.after.name}, again"
        if self.why == "apart":
            return self._apart(False)
        if self.days:
            return f"{self._no_days()} (the file given before it is {self.after.name})"
        return f"the file given before it, {self.after.name}, is not the one before it ({_not_next(self.after, self.before)})"


def _day(day: str) -> str:
    return f"{day[:4]}-{day[4:6]}-{day[6:]}"


def _near_midnight(t: datetime | None, day: str | None) -> bool:
    """``t`` (as its line prints it) is within :data:`MIDNIGHT` of the start of ``day`` (``YYYYMMDD``)."""
    if t is None or day is None:
        return False
    try:
        midnight = datetime.strptime(day, "%Y%m%d")
    except ValueError:
        return False
    return abs(t.replace(tzinfo=None) - midnight) <= MIDNIGHT


def _at_time(t: datetime | None, day: str | None, which: str) -> str:
    """``ends at 23:19:59`` / ``begins at 00:00:01`` (the date too when it is not the file's day)."""
    verb = "ends" if which == "last" else "begins"
    if t is None:
        return f"has no {which} time found"
    same = day is not None and t.strftime("%Y%m%d") == day
    return f"{verb} at {t.strftime('%H:%M:%S' if same else '%Y-%m-%d %H:%M:%S')}"


def _not_next(a: LogFile, b: LogFile) -> str:
    if (a.appliance or "") != (b.appliance or ""):
        return "another appliance's"
    return "neither the next number of its day nor the first file of the next day"


def _next_day(day: str) -> str | None:
    try:
        return (datetime.strptime(day, "%Y%m%d") + timedelta(days=1)).strftime("%Y%m%d")
    except ValueError:
        return None


def _days_between(a: LogFile, b: LogFile, given: set[tuple[str, str, str | None]]) -> tuple[str, ...]:
    """The days after ``a``'s and before ``b``'s of which no file of their kind and appliance is given."""
    out: list[str] = []
    day = a.date
    while day is not None and b.date is not None and len(out) < 4000:
        day = _next_day(day)
        if day is None or day >= b.date:
            break
        if (a.kind, a.appliance or "", day) not in given:
            out.append(day)
    return tuple(out)


def breaks(files: Sequence[LogFile], why: dict[LogFile, str] | None = None) -> dict[int, Break]:
    """``{i: Break}``: a scan session open at the end of ``files[i]`` (files of one kind, in reading order) is not
    continued in ``files[i + 1]``, which does not continue that file: it is cut there.  ``files[i + 1]`` continues
    ``files[i]`` when both are numbered rotated files of the same kind and appliance and it is the same day's next
    number, or the next day's ``.0001`` with the earlier file's last timed line and its first within
    :data:`MIDNIGHT` of each other (a rotation at midnight; else the day may have had later files, or the next day's
    start is not given: ``apart``); otherwise there is a gap (files missing between them, or given hollow: see
    :func:`gaps`, wherever the hollow file falls), a repeat (the same day and number again: ``.0002`` and
    ``.0002.gz``, or one name in two folders) or a jump (a day or more later).  Files not numbered by their name
    (syslog views, files named by their content) join as before: their order cannot be told.

    >>> from pathlib import Path
    >>> fs = [LogFile(Path(n), "imss", d, s) for n, d, s in [("log.imss.20240312.0001", "20240312", 1),
    ...       ("log.imss.20240312.0002", "20240312", 2), ("log.imss.20240312.0002.gz", "20240312", 2),
    ...       ("log.imss.20240313.0001", "20240313", 1), ("log.imss.20240315.0001", "20240315", 1)]]
    >>> {i: b.why for i, b in breaks(fs, {}).items()}
    {1: 'repeat', 2: 'apart', 3: 'jump'}
    >>> breaks(fs, {})[3].next_words()
    'no log.imss of 2024-03-14 was given (the next file given is log.imss.20240315.0001)'
    """
    files = list(files)
    why = hollows(files) if why is None else why
    where = {id(f): i for i, f in enumerate(files)}
    given = {_key(f) for f in files if _numbered(f)}
    out: dict[int, Break] = {}
    for g in gaps(files, why):
        i, j = where.get(id(g.after)), where.get(id(g.before))
        if i is not None and j is not None:
            days = _days_between(g.after, g.before, given)
            for k in range(i, j):
                out[k] = Break(files[k], files[k + 1], "missing", g, days)
    for i, (a, b) in enumerate(zip(files, files[1:])):
        if i in out or not (_numbered(a) and _numbered(b)) or a.kind != b.kind or a.date is None or b.date is None:
            continue
        if (a.appliance or "") != (b.appliance or ""):
            out[i] = Break(a, b, "jump")
        elif a.date == b.date and _seq(a) == _seq(b):
            out[i] = Break(a, b, "repeat")
        elif a.date == b.date and _seq(b) == _seq(a) + 1:  # type: ignore[operator]
            continue
        elif b.date == _next_day(a.date) and _seq(b) == 1:
            if a in why or b in why:  # holds nothing: no scan is open across it
                continue
            ends, begins = last_time(a), first_time(b)
            if ends is None or begins is None or abs(begins - ends) > MIDNIGHT:
                out[i] = Break(a, b, "apart", ends=ends, begins=begins)
        else:
            out[i] = Break(a, b, "jump", days=_days_between(a, b, given))
    return dict(sorted(out.items()))


#: what :func:`hollow` found, by file and the state of the file on disk holding it (a file rewritten is asked again)
_HOLLOW: OrderedDict[tuple[object, ...], str | None] = OrderedDict()
_HOLLOW_KEPT = 4096


def _on_disk(f: LogFile) -> tuple[object, ...] | None:
    """The file on disk holding ``f`` (its bundle for a member), as it is now: device, inode, size, times."""
    try:
        st = os.stat(f.member.bundle if f.member is not None else f.path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def hollow(f: LogFile) -> str | None:
    """Why a given file holds nothing of what its rotation held, in words (:data:`EMPTY`: no byte, also a gzip of
    nothing; :data:`TIMELESS`: a log.imss or polevt.imss file no line of which begins with a time, read through); None
    when it holds something, or that cannot be told (a plain file too big to be searched whole, 72 MiB).

    Worked out once per file as it is on disk (correlate asks for the gaps, the time words and the notes: a bundle's
    members were each opened three times, a tar.gz re-read from its start for each)."""
    disk = _on_disk(f)
    key = (f.path, f.kind, f.member, disk)
    if disk is not None and key in _HOLLOW:
        _HOLLOW.move_to_end(key)
        return _HOLLOW[key]
    why = _hollow(f)
    if disk is not None:
        _HOLLOW[key] = why
        if len(_HOLLOW) > _HOLLOW_KEPT:
            _HOLLOW.popitem(last=False)
    return why


def _hollow(f: LogFile) -> str | None:
    timed = f.kind in ("imss", "polevt")
    if not timed and _sized(f):
        return None
    if timed and first_time(f) is not None:
        return None
    if _empty(f):
        return EMPTY
    if timed and _searched_whole(f) and last_time(f) is None:
        return TIMELESS
    return None


def _sized(f: LogFile) -> bool:
    """It holds a byte, known without reading it: a plain file's or a plain member's size (the archive's header), a
    gzip file's trailer (ISIZE, the size mod 2**32: not 0)."""
    try:
        if f.member is not None:
            return bool(f.member.size) and is_gzipped(f.member) is False
        with open(f.path, "rb") as fh:
            if fh.read(2) != _GZIP_MAGIC:
                return fh.seek(0, 2) > 0
            if fh.seek(0, 2) < 18:
                return False
            fh.seek(-4, 2)
            return int.from_bytes(fh.read(4), "little") != 0
    except _READ_ERRORS:
        return False


def _empty(f: LogFile) -> bool:
    """No byte can be read from it (a gzip cut short before its first byte is not empty: reading it says so)."""
    try:
        if f.member is None and f.path.stat().st_size == 0:
            return True
        if _sized(f):
            return False
        fh, salvage = _open_salvaging(f)
        with fh:
            return fh.read(1) == b"" and (salvage is None or salvage.error is None)
    except _READ_ERRORS:
        return False


def _searched_whole(f: LogFile) -> bool:
    """first_time and last_time together read every byte of it (a gzip or member is read through by last_time)."""
    if not _plain(f):
        return True
    try:
        return f.path.stat().st_size <= _FIRST_LIMIT + BACK_LIMIT
    except OSError:
        return False


def hollows(files: Iterable[LogFile]) -> dict[LogFile, str]:
    """The numbered rotated files given that hold nothing of their rotation, and why (:func:`hollow`); with the
    copies read once as another file of the same kind, appliance and day under another number (what their own
    rotation held is not here either)."""
    out: dict[LogFile, str] = {}
    for f in files:
        if not _numbered(f):
            continue
        w = hollow(f)
        if w is not None:
            out[f] = w
        for c in f.copies:
            if _numbered(c) and _key(c) == _key(f) and _seq(c) != _seq(f):
                out[c] = f"holds the same bytes as {f.path}"
    return out


def repeats(files: Iterable[LogFile], why: dict[LogFile, str] | None = None) -> list[str]:
    """One rotation given twice (``log.imss.20240312.0001`` and ``log.imss.20240312.0001.gz``): both are read, so
    if one is a copy of the other, each of its lines counts twice; said, in words, once per rotation. (Files of the
    same bytes are read once: :attr:`~imsvalog.sources.LogFile.copies`; a hollow one is said on its own.)"""
    files = list(files)
    why = why or {}
    out = []
    for by_seq in _groups(f for f in files if f not in why):
        for _, same in sorted(by_seq.items()):
            if len(same) > 1:
                names = ", ".join(str(f.path) for f in same[:-1]) + f" and {same[-1].path}"
                out.append(f"{names} are the same rotated {KIND_NAMES.get(same[0].kind, same[0].kind)} file: both are "
                           "read, so if one is a copy of the other each of its lines counts twice (give one of them)")
    return out


def copies(files: Iterable[LogFile], why: dict[LogFile, str] | None = None) -> list[str]:
    """Files given whose bytes are those of another (a copy under another rotation number, a bundle given with the
    folder it was unpacked to): each read once, under the first name given (:func:`imsvalog.sources.discover`).
    Several copies from one place of files of another (a bundle and its unpacked folder) are said once."""
    why = why or {}
    pairs: dict[tuple[str, str], list[tuple[LogFile, LogFile]]] = {}
    grown = []  # a copy taken before its file grew: said on its own (not "the same bytes")
    for f in files:
        for c in f.copies:
            (grown if grew(c, f) else pairs.setdefault((where(c), where(f)), [])).append((c, f))
    files = list(files)
    out = []
    for (w_copy, w_read), these in [*pairs.items(), *((("", ""), [g]) for g in grown)]:
        if w_copy != w_read and len(these) > 1:
            names = ", ".join(c.name for c, _ in these[:3]) + (f" and {len(these) - 3} more" if len(these) > 3 else "")
            # the copies' appliance kept apart (a file both name differs: a live file that grew between the two
            # collections, or two machines): its other logs are read as another appliance's
            apart = {c.appliance for c, f in these if c.appliance != f.appliance}
            rest = [g.name for g in files if g.appliance in apart and where(g) == w_copy]
            more = ""
            if rest:
                shown = ", ".join(rest[:3]) + (f" and {len(rest) - 3} more" if len(rest) > 3 else "")
                more = (f"; its other logs ({shown}) differ from those in {w_read}, so they are read as another "
                        "appliance's: if they are the same appliance's logs taken at another time (a live file grows), "
                        "their lines count twice")
            out.append(f"the {len(these)} logs given in {w_copy} hold the same bytes as logs in {w_read} "
                       f"({names}): each is read once, from there (the same logs given twice: give one of them){more}")
            continue
        for c, f in these:
            lost = f"; what the rotation {_asked(c)} held is not here" if c in why else ""
            out.append(f"{c.path} holds {same_as(c, f)}, which is read instead{lost}")
    return out


def _asked(f: LogFile) -> str:
    """A file's name as one would ask for it (a member's without the bundle around it)."""
    return f.name.rsplit("!", 1)[-1]


def _live(f: LogFile, files: Sequence[LogFile]) -> bool:
    """``f`` may be the file IMSVA or syslog still writes: the newest given of its kind and appliance, and not a gzip
    (a rotated file is compressed after it is closed: an empty ``.gz`` is a broken copy, never a fresh file)."""
    return not f.name.endswith(".gz") and _newest(f, files)


def _newest(f: LogFile, files: Sequence[LogFile]) -> bool:
    """``f`` is the newest file given of its kind and appliance (the live ``maillog``, the day's last number)."""
    return all(sort_key(g) <= sort_key(f) for g in files if g.kind == f.kind and (g.appliance or "") == (f.appliance or "")
               and g.syslog is None)


def notes(files: Iterable[LogFile]) -> list[str]:
    """What the rotated files given lack or repeat, in words (correlate's ``summary.rotation``): files missing
    between two given, files given that hold nothing of their rotation, one rotation given twice, files of the
    same bytes read once."""
    files = list(files)
    why = hollows(files)
    # the newest file empty is what a rotation leaves behind until the next line is written: said as such, since
    # what was logged after the file before it ends (the policy events may show it) is not here either way
    lost = [f"{f.path} {w}: " + ("the newest of its kind given, as a file is right after a rotation; if lines were "
                                 "logged after the file before it ends, they are not here" if w == EMPTY and _live(f, files)
                                 else "what that rotation held is not here")
            for f, w in why.items() if f in files]
    return [w for g in gaps(files, why) if (w := g.words())] + lost + repeats(files, why) + copies(files, why)


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


#: how far into a file its first time is looked for
_FIRST_LIMIT = 1 << 23


def first_time(f: LogFile, limit: int = _FIRST_LIMIT) -> datetime | None:
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
            if len(buf) >= limit:  # a line begun before the limit: its time, up to _HEAD bytes (as last_time holds)
                buf += fh.read(_HEAD)
                return _first_in(buf)
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
                    fh.seek(max(0, start - 1))
                    # the block's first byte starts a line at the file's start or after a line break (the last
                    # block read back: a line beginning there was missed, and the file said to hold no time)
                    lead = fh.read(1) if start else b"\n"
                    data = fh.read(end - start)
                    t = _last_in_block(data, after, lead == b"\n")
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


@dataclass(frozen=True)
class Unread:
    """The rest of a log.imss or polevt.imss file that could not be read (a gzip cut short or corrupt in its middle):
    the time it held, from its last line read to the next file's first (or the end of what was given), is missing as
    a rotated file left out is (:func:`holes`).  Said with the file's reject (``the rest of the file cannot be read
    after line 6: ...``)."""

    file: LogFile
    #: the reject's reason for the unread rest (:func:`imsvalog.readers.unread_reason`)
    reason: str
    #: the next file of its kind and appliance given (None: it is the last)
    next: LogFile | None = None
    #: the file whose last line read begins the time lost: ``file``, or the one before it when none of it was read
    #: (None: none of it was read and no file comes before it: the time lost has no known start)
    since: LogFile | None = None

    def named(self) -> str:
        """``what could not be read of log.imss.20240312.0002.gz``."""
        return f"what could not be read of {self.file.name}"

    def status(self) -> str:
        return self.reason

    def state(self) -> str:
        """After ``which``: ``is not here (the rest of the file cannot be read after line 6: ...)``."""
        return f"is not here ({self.reason})"


@dataclass(frozen=True)
class Hole:
    """Where a time stands against the time a missing rotated file held (:func:`holes`): in it, or near it; or the
    time the unread rest of a file cut short held (``gap`` an :class:`Unread`)."""

    gap: Gap | Unread
    #: ``falls``: in the missing file's time; ``may fall``: in it as far as known (an end of it was not found, or it
    #: begins a later day, whose earlier day may have had files after the one given); ``before``, ``after``: outside
    #: it, within the window
    how: str
    #: how far outside it (``before``, ``after``), in seconds; 0 in it
    seconds: float
    #: where its time is known from: ``between the last line of X, T and the first line of Y, T``
    between: str

    @property
    def inside(self) -> bool:
        """The time falls (or may fall) in the missing file's time, not only near it."""
        return self.how in ("falls", "may fall")

    def where(self) -> str:
        """``polevt.imss.20240312.0002 (not among the files given; between ...)``."""
        return f"{self.gap.named()} ({self.gap.status()}; {self.between})"

    def words(self) -> str:
        """``its time falls in X (...)``, ``its time is 1 s before that of X (...)``."""
        if self.inside:
            return f"its time {self.how} in {self.where()}"
        return f"its time is {self.seconds:g} s {self.how} that of {self.where()}"

    def __str__(self) -> str:
        return self.words()


Holes = Callable[[str, datetime], "Hole | None"]


def holes(files: Iterable[LogFile], window: timedelta = timedelta(0), unread: dict[str, str] | None = None) -> Holes:
    """``hole(kind, t)``: the :class:`Hole` when time ``t`` falls in a missing rotated log.imss or polevt.imss file
    (the kinds rows are partnered across), or is within ``window`` of its time (correlate's --time-window: a partner
    may be that far); else None. The missing file held the time from the last timed line of the given file before
    it to the first of the one after it; where one of those is not found, the other end of that file bounds it (the
    time then "may fall" in it).  ``unread``: the files (by path) whose rest could not be read, with their reject's
    reason: the rest held the time from the last line read to the next file's first, or, with no file after it, any
    time after (it "may fall" there); a first file of which no line was read held any time before the next file's
    first line (any time, with no next file); looked at, and the file read through for its last time, only when
    asked."""
    files = list(files)
    spans: list[tuple[str, datetime | None, datetime | None, datetime | None, datetime | None, Gap | Unread]] = []
    for g in gaps(files):
        if g.kind not in ("imss", "polevt"):  # msgtra and maillog times are never asked about (maillog: no year)
            continue
        a_last, b_first = last_time(g.after), first_time(g.before)
        start = a_last if a_last is not None else first_time(g.after)
        end = b_first if b_first is not None else last_time(g.before)
        if start is None or end is None or start <= end:
            spans.append((g.kind, start, end, a_last, b_first, g))
    cut = [f for f in files if unread and str(f.path) in unread and f.kind in ("imss", "polevt")]
    later: list[tuple[str, datetime | None, datetime | None, datetime | None, datetime | None, Gap | Unread]] = []
    worked_out: list[bool] = []

    def cut_spans() -> list[tuple[str, datetime | None, datetime | None, datetime | None, datetime | None, Gap | Unread]]:
        """The unread rests' spans, worked out the first time a time is asked about (each cut file read through)."""
        if cut and not worked_out:
            worked_out.append(True)
            for f in cut:
                same = sorted((g for g in files if g.kind == f.kind and (g.appliance or "") == (f.appliance or "")
                               and g.syslog is None), key=sort_key)
                at = same.index(f) if f in same else -1
                nxt = same[at + 1] if 0 <= at < len(same) - 1 else None
                since: LogFile | None = f
                # (a file of which no line could be read: the head of its first line, cut, is no line read)
                last = None if (unread or {})[str(f.path)].startswith(UNREADABLE_START) else last_time(f)
                if last is None:  # no timed line read of it: its time begins with the file before
                    since = same[at - 1] if at > 0 else None
                    if since is not None and nxt is not None:  # (between two files: a gap already, see hollows)
                        continue
                    # the first file given (none before it): any time before the next file's first line, or any
                    # time at all when it is the only one
                    last = last_time(since) if since is not None else None
                    if since is not None and last is None:
                        continue
                first = first_time(nxt) if nxt is not None else None
                if first is None or last is None or last <= first:
                    later.append((f.kind, last, first, last, first, Unread(f, (unread or {})[str(f.path)], nxt, since)))
        return later

    def edge(f: LogFile, t: datetime | None, which: str) -> str:
        return (f"the {which} line of {f.path}, {t.isoformat(sep=' ')}" if t is not None
                else f"{f.path}, whose {which} time was not found")

    def hole(kind: str, t: datetime) -> Hole | None:
        for k, start, end, a_last, b_first, g in (*spans, *cut_spans()):
            if k != kind or (start is not None and t < start - window) or (end is not None and t > end + window):
                continue
            if isinstance(g, Unread) and g.since is None:  # no line of it read, and no file before it
                between = (f"before {edge(g.next, b_first, 'first')}; no earlier {KIND_NAMES.get(kind, kind)} file is "
                           "given" if g.next is not None else f"no other {KIND_NAMES.get(kind, kind)} file is given")
            elif isinstance(g, Unread):
                read = (f"the last line {'read ' if g.since == g.file else ''}of {(g.since or g.file).path}, "
                        f"{a_last.isoformat(sep=' ') if a_last else '?'}")
                between = (f"between {read} and {edge(g.next, b_first, 'first')}" if g.next is not None
                           else f"after {read}; no later {KIND_NAMES.get(kind, kind)} file is given")
            else:
                between = f"between {edge(g.after, a_last, 'last')} and {edge(g.before, b_first, 'first')}"
            if start is not None and t < start:
                return Hole(g, "before", (start - t).total_seconds(), between)
            if end is not None and t > end:
                return Hole(g, "after", (t - end).total_seconds(), between)
            # a later day's first file: the earlier day may have had files after the one given too
            exact = a_last is not None and b_first is not None and (isinstance(g, Unread) or g.after.date == g.before.date)
            return Hole(g, "falls" if exact else "may fall", 0.0, between)
        return None

    return hole
