"""The DataFrame readers' fast path: whole blocks of lines into columns, no record and no Python step per line.

:func:`imss_frame` and :func:`polevt_frame` build the same DataFrame as the
record-by-record path (``iter_log_imss`` → :func:`~imsvalog.records.to_row` →
:func:`~imsvalog.frames.frame`): same columns in the same order, same values,
same dtypes, same rejects (``tests/test_columns.py`` holds the two equal on every
fixture line and on hypothesis-generated lines).

* Files are read in big blocks of whole lines (:func:`imsvalog.blocks.iter_blocks`),
  each decoded once; over-long lines and read errors become the record path's rejects.
* log.imss: one regex derived from the grammar's tokens
  (:data:`imsvalog.grammars.imss.BLOCK_RE`) cuts every line of a block in C; heads
  (time, thread) and leads (level, component) are converted once per distinct
  string; a line that may have a body shape or a location tag is worked out once
  per distinct text by the grammar's own functions; every other line is a generic
  record.  Columns are numpy codes into tables of distinct values.
* polevt.imss: lines split at tabs in C, then each field converted column by column:
  once per distinct value (times by numpy, bit codes, direction), or checked for the
  whole column by one C pass before a plain conversion (decimals, Message-IDs,
  recipients), with the grammar's functions for anything else.
* A reject is made by the record path itself (:func:`imsvalog.readers.parse_line`),
  so its reason is the same.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import zlib
from dataclasses import fields as dc_fields
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from .errors import ReadError
from .gc_pause import gc_paused as _gc_paused  # frames: lists of fields, recipients, bit names, no cycles
from .frames import BOOL, CATEGORY, COLUMNS, FLOAT, INT, LIST, OBJECT, STRING, _imss_classes, _series, column, format_offset, frame, offset_column, record_columns
from .grammars import imss, polevt
from .grammars.common import MAX_YEAR, MIN_YEAR, ParseFailure, finite, integer, make_time
from .readers import parse_line, unreadable_rest
from .records import ImssGeneric, ImssRecord, PolicyEvent, Reject, Source, to_row
from .sources import LogFile, LongLine, iter_lines

if TYPE_CHECKING:
    import pandas as pd

_BASE = ("kind", "shape", "file", "line", "time", "pid", "tid", "level", "component", "method", "body", "location")
_BASE_FIELDS = frozenset(f.name for f in dc_fields(ImssRecord))


def _shape_fields(cls: type[ImssRecord]) -> tuple[str, ...]:
    """The columns a record type adds, in :func:`~imsvalog.records.to_row` order."""
    return tuple(f.name for f in dc_fields(cls) if f.name not in _BASE_FIELDS)


def _reject(kind: str, name: str, lineno: int, text: Any, rejects: list[Reject] | None) -> None:
    if rejects is not None:
        item = parse_line(kind, Source(name, lineno, text))
        assert isinstance(item, Reject), "the fast path rejected a line the record path accepts"
        rejects.append(item)


def _lines(f: LogFile, rejects: list[Reject] | None):
    """``(line, text)`` of a file; a read error becomes the same reject as in :func:`~imsvalog.readers.iter_file`."""
    lines = iter_lines(f)
    while True:
        try:
            yield next(lines)
        except StopIteration:
            return
        except ReadError as exc:
            if rejects is not None:
                rejects.append(unreadable_rest(f, exc))


class _TimeCodes:
    """A time column as distinct times (UTC microseconds, UTC offset in seconds) and one index into them per row."""

    def __init__(self, distinct: list[tuple[int, int]], codes: Any) -> None:
        self.distinct, self.codes = distinct, codes  # codes: one array, or its pieces (a list of arrays)

    def columns(self, name: str) -> dict[str, pd.Series]:
        """What :func:`~imsvalog.frames.time_columns` makes of the rows' datetimes (distinct ones given as UTC
        microseconds and offset seconds)."""
        import numpy as np

        table = np.array(self.distinct, dtype="int64").reshape(-1, 2)
        micros, offsets = table[:, 0], table[:, 1]
        pieces = self.codes if isinstance(self.codes, list) else [np.asarray(self.codes, dtype="intp")]
        present = sum(np.bincount(c, minlength=len(self.distinct)) for c in pieces) > 0
        used = np.unique(offsets[present])
        # one offset (the usual case): the column's zone says it, no offset per row is taken
        return time_columns_of(name, _taken(micros, pieces), None if len(used) == 1 else _taken(offsets, pieces), used)


def _taken(values: Any, pieces: list[Any]) -> Any:
    """``values[codes]`` for the codes given as pieces: taken piece by piece into one array (no array of
    all the codes is made)."""
    import numpy as np

    out = np.empty(sum(map(len, pieces)), dtype=values.dtype)
    at = 0
    for c in pieces:
        np.take(values, c, out=out[at : at + len(c)])
        at += len(c)
    return out


def time_columns_of(name: str, micros: Any, offsets: Any, used: Any = None) -> dict[str, pd.Series]:
    """What :func:`~imsvalog.frames.time_columns` makes of aware datetimes given as UTC microseconds
    and UTC offsets in seconds (numpy arrays, one per row); ``used``: the distinct offsets, sorted, if known
    (``offsets`` may then be None when there is one).  ``micros`` becomes the column's data (not copied: the
    caller gives an array nothing else holds)."""
    import numpy as np
    import pandas as pd

    utc = _dt.timezone.utc
    if used is None:
        used = np.unique(offsets)
    if len(used) == 1:
        tz = _dt.timezone(_dt.timedelta(seconds=int(used[0])))
        if tz.utcoffset(None) == _dt.timedelta(0):
            tz = utc
        return {name: pd.Series(_datetimes(micros, tz), copy=False)}
    names = [format_offset(_dt.timedelta(seconds=int(o))) for o in used.tolist()]
    coded = _Coded(np.searchsorted(used, offsets), names)
    return {name: pd.Series(_datetimes(micros, utc), copy=False), offset_column(name): coded.series(CATEGORY)}


def _datetimes(micros: Any, tz: _dt.tzinfo) -> Any:
    """UTC microseconds (int64) as a ``datetime64[us, tz]`` array over the same memory: what
    ``DatetimeIndex(...).tz_localize(utc).tz_convert(tz)`` gives, without its two copies (64 MB each per
    8 million rows)."""
    import pandas as pd

    return pd.arrays.DatetimeArray._simple_new(micros.view("datetime64[us]"), dtype=pd.DatetimeTZDtype("us", tz))


def _instant(t: _dt.datetime) -> tuple[int, int]:
    """An aware datetime as (UTC microseconds, UTC offset in seconds)."""
    return (t - _EPOCH) // _US, t.utcoffset() // _SECOND  # type: ignore[operator]


_SECOND = _dt.timedelta(seconds=1)
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_US = _dt.timedelta(microseconds=1)


class _Lead:
    """What a distinct ``lead`` of :data:`~imsvalog.grammars.imss.BLOCK_RE` says: level, component
    and method of the record (as :func:`~imsvalog.grammars.imss.split_line` makes them), the variant
    start it holds, and whether lines with it (and without a tail) are simple generic records."""

    __slots__ = ("level", "component", "cut_component", "method", "start", "simple", "id", "_candidates")

    def __init__(self, lead: str, id: int) -> None:
        m = imss.TAG_RE.match(lead)
        assert m is not None  # every part is optional
        level, word, component, method = m.group("level", "level_word", "component", "method")
        self.level = level or word or None
        self.start = start = lead[m.end() :]
        self.method = method or None
        self.cut_component = component
        self.component, _ = imss.fix_component(component, self.method, "")
        self.component = self.component or None
        fixed = component in imss.NOT_COMPONENTS and not method  # a level word taken for a component
        # simple: no variant start, no variant that starts anywhere for this component, component as cut
        self.simple = not start and not fixed and None not in imss.ANY_START and self.component not in imss.ANY_START
        self.id = id
        self._candidates: list[Any] | None = None

    def candidates(self) -> list[Any]:
        """The variants a message of this lead may have, in the grammar's order: those of its component
        whose literal start is a start of the message's known beginning (a level word taken for a
        component, then the variant start of the lead), or begins with it.  Cutting a location tag off
        the end only shortens the message, so no other variant can fit it (a superset, tried in order)."""
        if self._candidates is None:
            known = self.start
            if self.cut_component in imss.NOT_COMPONENTS and self.method is None:  # imss.fix_component
                known = f"{self.cut_component}: {known}"
            self._candidates = [
                v for v in imss.VARIANTS
                if (v.component is None or v.component == self.component) and (known.startswith(v.starts) or v.starts.startswith(known))
            ]
        return self._candidates


class _Table:
    """Distinct values of a column and their index (for columns made from codes)."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def extend(self, values: list[Any]) -> int:
        """Append; the index of the first appended value."""
        base = len(self.values)
        self.values.extend(values)
        return base


class _Unit:
    """Consecutive lines of one file as one text (``\\n``-separated), with lines to reject as they are.

    ``raw``: the same lines as bytes, each ending with ``\\n`` and none holding ``\\r``, when they came
    so from the file (the byte-level cutter's input); ``text`` is then decoded when asked for.  ``ends``:
    the offsets of ``raw``'s newlines when the block reader found them (counted once, not again by the cutter)."""

    __slots__ = ("name", "first", "_text", "lines", "special", "raw", "offset", "ends")

    def __init__(self, name: str, first: int, text: str | None, lines: int, special: dict[int, Any], raw: bytes | None = None,
                 offset: int = -1, ends: Any = None) -> None:
        self.name, self.first, self._text, self.lines, self.special, self.raw = name, first, text, lines, special, raw
        self.offset = offset  # where ``raw`` is in the file (from the part's start), when known
        self.ends = ends

    @property
    def text(self) -> str:
        if self._text is None:
            assert self.raw is not None
            self._text = self.raw[:-1].decode("utf-8", "surrogateescape")
        return self._text


def _units(f: LogFile, rejects: list[Reject] | None, start: int = 0, stop: int | None = None, failed: list[ReadError] | None = None):
    """The file as :class:`_Unit` s: big blocks of whole lines (:func:`imsvalog.blocks.iter_blocks`),
    decoded at once; lines longer than the limit become :class:`~imsvalog.sources.LongLine` (the
    record path's reject); a read error ends the file with the record path's reject.  What only
    :func:`~imsvalog.sources.iter_lines` cuts (a syslog view, CR-only line ends) comes from it.
    ``start``/``stop``: one part of a plain file (both at line starts), lines numbered from 1 at ``start``;
    ``failed`` gets the read error that ended the file, if any."""
    from .blocks import _by_lines, iter_blocks
    from .sources import LONG_LINE_HEAD, MAX_LINE_BYTES, decode

    name = str(f.path)
    limit = MAX_LINE_BYTES
    ranged = bool(start) or stop is not None
    if not ranged and _by_lines(f, limit):
        yield from _line_units(f, rejects)
        return
    # the blocks' newlines found once (their count numbers the lines, their offsets end the cutter's lines)
    blocks = iter_blocks(f, limit, start=start, stop=stop, with_newlines=True) if ranged else iter_blocks(f, limit, with_newlines=True)
    while True:
        try:
            b = next(blocks)
        except StopIteration:
            return
        except ReadError as exc:
            if rejects is not None:
                rejects.append(unreadable_rest(f, exc))
            if failed is not None:
                failed.append(exc)
            return
        if b.long:
            head = b.data[b.start : b.end]
            yield _Unit(name, b.line, "", 1, {0: LongLine(decode(head[: min(LONG_LINE_HEAD, b.long, limit + 2)]), b.long, limit)})
            continue
        special: dict[int, Any] = {}
        if b.end - b.start > limit + 1 and _may_hold_a_long_line(b.data, b.start, b.end, limit):
            special = _long_lines(b.data[b.start : b.end - 1], limit)
        if b.data.find(b"\r", b.start, b.end) == -1:
            yield _Unit(name, b.line, None, b.lines, special, b.data[b.start : b.end], b.offset,
                        None if b.nl is None else b.nl - b.start)
            continue
        raw = b.data[b.start : b.end - 1]  # the last line's newline off: one match per line
        text = raw.decode("utf-8", "surrogateescape")
        text = text.replace("\r\n", "\n")
        if text.endswith("\r"):  # a last line without its newline (given one by iter_blocks)
            text = text[:-1]
        yield _Unit(name, b.line, text, b.lines, special)


#: lines per unit when lines come one by one
CHUNK_LINES = 50_000


def _line_units(f: LogFile, rejects: list[Reject] | None):
    """Units from :func:`~imsvalog.sources.iter_lines`; a line holding a newline is given to the
    record path as it is (``special``), an over-long line as its LongLine."""
    name = str(f.path)
    texts: list[str] = []
    special: dict[int, Any] = {}
    first = 1
    for lineno, text in _lines(f, rejects):
        if not texts:
            first = lineno
        if isinstance(text, LongLine) or "\n" in text:
            special[len(texts)] = text
            text = ""
        texts.append(text)
        if len(texts) >= CHUNK_LINES:
            yield _Unit(name, first, "\n".join(texts), len(texts), special)
            texts, special = [], {}
    if texts:
        yield _Unit(name, first, "\n".join(texts), len(texts), special)


def _may_hold_a_long_line(data: bytes, start: int, end: int, limit: int) -> bool:
    """Whether ``data[start:end]`` may hold a line longer than ``limit`` bytes: such a line holds a whole
    piece of ``limit // 2`` bytes (counted from ``start``) without a newline, so a few ``find`` calls tell."""
    step = max(limit // 2, 1)
    return any(data.find(b"\n", j, j + step) == -1 for j in range(start, end - step + 1, step))


def _long_lines(raw: bytes, limit: int) -> dict[int, Any]:
    """Lines of a block longer than ``limit`` bytes (line ending excluded), by index, as LongLine."""
    import numpy as np

    from .sources import LONG_LINE_HEAD, decode

    a = np.frombuffer(raw, np.uint8)
    ends = np.flatnonzero(a == 10)
    starts = np.concatenate(([0], ends + 1))
    ends = np.concatenate((ends, [len(raw)]))
    lengths = ends - starts
    out: dict[int, Any] = {}
    for i in np.flatnonzero(lengths > limit).tolist():
        s, e = int(starts[i]), int(ends[i])
        length = e - s - (1 if raw[e - 1 : e] == b"\r" else 0)
        if length > limit:
            # the head iter_lines keeps: what one bounded readline gave, up to LONG_LINE_HEAD
            out[i] = LongLine(decode(raw[s : s + min(LONG_LINE_HEAD, length, limit + 2)]), length, limit)
    return out


class _Rows:
    """Per line of a unit, what cutting gave: time index (-1: a reject), pid, tid, thread index, lead id,
    whether the line is a simple generic record (its body the message), the message after the lead,
    and the line's text by index (for rejects)."""

    __slots__ = ("time", "pid", "tid", "thread", "lead", "simple", "message", "line", "span", "begin", "end", "fast")

    def __init__(self, time: Any, pid: Any, tid: Any, thread: Any, lead: Any, simple: Any, message: Any, line: Any,
                 span: Any = None, begin: Any = None, end: Any = None, fast: Any = None) -> None:
        self.time, self.pid, self.tid, self.thread, self.lead = time, pid, tid, thread, lead
        self.simple, self.message, self.line = simple, message, line
        # spans (a worker's cut): lines whose body is their message's bytes ``begin:end`` of the unit, left None in ``message``
        self.span, self.begin, self.end = span, begin, end
        #: the lines cut at byte level: a message is the unit's bytes ``begin:end`` (decoded)
        self.fast = fast


def _message_codes(unit: _Unit, r: _Rows, rows: Any) -> tuple[Any, int]:
    """The messages of ``rows`` (indices) numbered (equal message, equal number) and how many numbers there are.
    Lines cut at byte level are numbered by their bytes in the unit (pyarrow hashes them: ~0.6x the CPU of
    hashing their Python strings with pandas), the others after them by their strings (a message in both has
    two numbers: worked out twice, the same way)."""
    import numpy as np
    import pandas as pd

    from . import imss_cut

    got = None
    if r.fast is not None and unit.raw is not None:
        fast = r.fast[rows]
        by_bytes = rows[fast]
        got = imss_cut.byte_codes(unit.raw, r.begin[by_bytes], r.end[by_bytes])
    if got is None:
        c, u = pd.factorize(r.message[rows])
        return c, len(u)
    codes = np.empty(len(rows), dtype=np.int64)
    codes[fast], m = got
    if not fast.all():
        c, u = pd.factorize(r.message[rows[~fast]])
        codes[~fast] = c + m
        m += len(u)
    return codes, m


class _ImssColumns:
    """Columns of log.imss rows, filled a block of lines at a time with per-distinct work only.

    :data:`~imsvalog.grammars.imss.BLOCK_RE` cuts every line of a block (a C loop); heads
    (time and thread) and leads (level, component, method) are converted once per distinct string;
    lines that may have a body shape or a location tag are worked out once per distinct
    (lead, rest, tail) with the grammar's own functions (:func:`~imsvalog.grammars.imss.shape_of`);
    all other lines are generic records whose body is the regex's ``rest``.  Columns are kept as
    numpy codes into tables of distinct values and become categoricals and extension arrays at the end.
    """

    def __init__(self, rejects: list[Reject] | None, spans: bool = False) -> None:
        self.rejects = rejects
        #: a worker's columns: a simple line's body is kept as where its bytes are in the file (the part's
        #: ``sbegin``/``slen`` columns, -1: a body of its own), not as a string; :meth:`join` reads them again
        self.spans = spans
        self.span_units: list[tuple[int, int, int]] = []  # (offset, bytes, CRC-32 of those bytes) of units with spans
        self.n = 0
        self.parts: list[dict[str, Any]] = []
        self.shapes: dict[type[ImssRecord], tuple[str, ...]] = {}
        self.times: dict[tuple[str, str, str], int | None] = {}  # time strings -> index in distinct_times
        self.head_times: dict[str, int | None] = {}  # the same, for the byte-level cut's "YYYY/MM/DD HH:MM:SS GMT+HH:MM"
        self.distinct_times: list[tuple[int, int]] = []  # (UTC microseconds, offset seconds)
        self.heads: dict[str, tuple[int, int, int, int] | None] = {}  # -> time index, pid, tid, thread index
        self.threads: dict[str, int] = {}
        self.leads: dict[Any, _Lead] = {}
        self.lead_list: list[_Lead] = []  # by id
        self.shape_codes: dict[str, int] = {}
        self.locations: dict[tuple[str, str, str], str | None] = {}
        self.tables: dict[str, _Table] = {name: _Table() for name in ("location", "shape", "file")}
        self.extra: dict[str, tuple[_Table, list[tuple[Any, Any]]]] = {}

    def _head(self, head: str) -> tuple[int, int, int, int] | None:
        """(time index, pid, tid, thread index) of a distinct head; None when the line is a reject."""
        got = None
        m = imss.PREFIX.re.fullmatch(head) if head else None  # type: ignore[attr-defined]
        if m is not None:
            key = m.group("date", "clock", "offset")
            t = self.times[key] if key in self.times else self._time(key)
            try:
                pid, tid = integer(m["pid"], "pid"), integer(m["tid"], "tid")
            except ParseFailure:
                t = None
            if t is not None:
                got = (t, pid, tid, self._thread(f"{pid}:{tid}"))
        self.heads[head] = got
        return got

    def _thread(self, thread: str) -> int:
        return self.threads.setdefault(thread, len(self.threads))

    def _lead(self, lead: Any) -> _Lead:
        got = self.leads[lead] = _Lead(lead, len(self.lead_list))
        self.lead_list.append(got)
        return got

    def _time(self, key: tuple[str, str, str]) -> int | None:
        try:
            self.distinct_times.append(_instant(make_time(*key)))
            t: int | None = len(self.distinct_times) - 1
        except ParseFailure:
            t = None
        self.times[key] = t
        return t

    def _location(self, key: tuple[str, str, str]) -> str | None:
        try:
            where: str | None = f"{key[0]}:{key[1]}:{integer(key[2], 'source line number')}"
        except ParseFailure:
            where = None
        self.locations[key] = where
        return where

    def _complex(self, lead: _Lead, message: str) -> tuple[type[ImssRecord], str | None, str, dict[str, Any]] | None:
        """(record class, location, body, fields) of a line that may have a shape or a location tag,
        as :func:`~imsvalog.grammars.imss.split_line` and :func:`~imsvalog.grammars.imss.shape_of`
        make them; None for a reject."""
        where = None
        message = lead.start + message
        if message.endswith("]") or message.rstrip(" \t").endswith("]"):
            locm = imss.LOCATION_RE.search(message)
            if locm:
                lkey = locm.group("loc_file", "loc_function", "loc_line")
                where = self.locations[lkey] if lkey in self.locations else self._location(lkey)
                if where is None:
                    return None
                message = message[: locm.start()]
        _, message = imss.fix_component(lead.cut_component, lead.method, message)
        variant, got = None, {}
        try:
            for v in lead.candidates():  # imss.shape_of, with the variants no message of this lead can have left out
                if message.startswith(v.starts):
                    try:
                        variant, got = v, v.fields(message)
                        break
                    except imss.NoMatch:
                        continue
        except ParseFailure:
            return None
        return (ImssGeneric if variant is None else variant.record), where, message, got

    def _shape_code(self, shape: str) -> int:
        """The index of a shape name in the shape column's table (one entry per name)."""
        got = self.shape_codes.get(shape)
        if got is None:
            got = self.shape_codes[shape] = self.tables["shape"].extend([shape])
        return got

    def _extra(self, name: str) -> tuple[_Table, list[tuple[Any, Any]]]:
        if name not in self.extra:
            self.extra[name] = (_Table(), [])
        return self.extra[name]

    def add(self, unit: _Unit) -> None:
        """The rows of a unit's lines: cut at byte level (:mod:`imsvalog.imss_cut`) when the unit came
        as bytes, by :data:`~imsvalog.grammars.imss.BLOCK_RE` otherwise and for what that cutter leaves."""
        rows = self._cut_bytes(unit) if unit.raw is not None and unit.lines else self._cut_text(unit.text, unit.lines)
        self._add_rows(unit, rows)

    def _lead_ids(self, leads: list[str]) -> tuple[Any, Any]:
        """Lead ids and whether lines with the lead (and an empty tail) are simple generic records."""
        import numpy as np

        linfo = [self.leads[x] if x in self.leads else self._lead(x) for x in leads]
        return np.array([x.id for x in linfo], dtype="int64"), np.array([x.simple for x in linfo], dtype=bool)

    def _cut_text(self, text: str, k: int) -> _Rows:
        """Rows of ``k`` lines (``\\n``-separated) cut by :data:`~imsvalog.grammars.imss.BLOCK_RE`: one C pass;
        heads and leads converted once per distinct string."""
        import numpy as np
        import pandas as pd

        found = imss.BLOCK_RE.findall(text)
        assert len(found) == k, "one match per line"
        table = np.array(found, dtype=object).reshape(k, 5)  # (lines, 5): one C pass
        heads, leads, rests, tails, others = (np.ascontiguousarray(table[:, j]) for j in range(5))
        hcodes, huniq = pd.factorize(heads)
        hinfo = [self.heads[h] if h in self.heads else self._head(h) for h in huniq.tolist()]
        htab = np.array([h or (-1, 0, 0, -1) for h in hinfo], dtype="int64").reshape(-1, 4)[hcodes]
        lcodes, luniq = pd.factorize(leads)
        ids, simple = self._lead_ids(luniq.tolist())
        full = tails != ""
        message = rests.copy()
        message[full] = rests[full] + tails[full]

        def line(i: int) -> str:
            return others[i] or heads[i] + leads[i] + rests[i] + tails[i]

        return _Rows(htab[:, 0].copy(), htab[:, 1].copy(), htab[:, 2].copy(), htab[:, 3].copy(), ids[lcodes],
                     simple[lcodes] & ~full, message, line)

    def _cut_bytes(self, unit: _Unit) -> _Rows:
        """Rows of a unit's bytes by :func:`imsvalog.imss_cut.cut`: times, threads and leads converted once
        per distinct string; the lines it leaves (other layouts, rejects) by :meth:`_cut_text`."""
        import numpy as np
        import pandas as pd

        from . import imss_cut

        raw = unit.raw
        assert raw is not None
        c = imss_cut.cut(raw, messages=not self.spans, ends=unit.ends)
        assert c.lines == unit.lines, "one row per line"
        new = [x for x in c.times if x not in self.head_times]
        if new:  # read as make_time does (its checks), with numpy, once per distinct string
            micros, offsets, ok = _stamps(new)
            for x, us, off, good in zip(new, micros.tolist(), offsets.tolist(), ok.tolist()):
                self.head_times[x] = len(self.distinct_times) if good else None
                if good:
                    self.distinct_times.append((us, off))
        tmap = np.array([self.head_times[x] for x in c.times] + [None], dtype=object)
        tmap[tmap == None] = -1  # noqa: E711 - elementwise
        t_of = tmap.astype("int64")[c.time]
        tok = np.zeros((len(c.tokens) + 1, 4), dtype="int64")  # time ok, pid, tid, thread
        for g, (p, t, _) in enumerate(c.tokens):
            try:
                pid, tid = integer(p, "pid"), integer(t, "tid")
            except ParseFailure:
                continue
            tok[g] = (1, pid, tid, self._thread(f"{pid}:{tid}"))
        per = tok[c.token]
        t_of[per[:, 0] == 0] = -1  # a thread that does not convert: a reject (said by the record path)
        pid, tid, thread = per[:, 1].copy(), per[:, 2].copy(), per[:, 3].copy()
        nstarts = len(imss.STARTS) + 1
        lcodes, luniq = pd.factorize(c.token * nstarts + c.start + 1)
        leads = [c.tokens[u // nstarts][2] + (imss.STARTS[u % nstarts - 1] if u % nstarts else "") if u >= 0 else ""
                 for u in luniq.tolist()]
        ids, simple = self._lead_ids(leads)
        lead = ids[lcodes]
        simple_ = simple[lcodes] & c.tail_empty
        span = None
        if c.message is None:  # strings only where the body may be other than the message's bytes
            span = c.fast & simple_ & imss_cut.ascii_lines(raw, c)
            message = imss_cut.messages_of(raw, c, ~span)
        else:
            message = c.message
        slow = np.flatnonzero(~c.fast).tolist()
        if slow:
            texts = [imss_cut.line_text(raw, c, i) for i in slow]
            other = self._cut_text("\n".join(texts), len(texts))
            for mine, theirs in ((t_of, other.time), (pid, other.pid), (tid, other.tid), (thread, other.thread),
                                 (lead, other.lead), (simple_, other.simple), (message, other.message)):
                mine[slow] = theirs
        return _Rows(t_of, pid, tid, thread, lead, simple_, message, lambda i: imss_cut.line_text(raw, c, i), span, c.begin, c.ends,
                     c.fast)

    def _add_rows(self, unit: _Unit, r: _Rows) -> None:
        import numpy as np
        import pandas as pd

        k = unit.lines
        t_of, pid, tid, thread, lead = r.time, r.pid, r.tid, r.thread, r.lead
        keep = t_of >= 0
        simple = r.simple
        body = r.message
        all_leads = self.lead_list
        locations = self.tables["location"]
        shape = np.full(k, self._shape_code(ImssGeneric.shape), dtype="int64")
        location = np.full(k, -1, dtype="int64")
        first_row: dict[type[ImssRecord], int] = {}
        extra: list[tuple[str, Any, list[Any], Any]] = []  # name, rows, table values, codes
        exact = {i: t for i, t in unit.special.items() if not isinstance(t, LongLine)}
        for i in unit.special:
            keep[i] = False
        hard = np.flatnonzero(keep & ~simple)
        if len(hard):
            # one key per distinct (lead, message), numbered in order of first appearance
            c, m = _message_codes(unit, r, hard)
            key, _ = pd.factorize(lead[hard] * m + c)
            firsts = hard[_firsts(key)].tolist()
            protos = [self._complex(all_leads[lead[i]], body[i]) for i in firsts]
            good = np.array([p is not None for p in protos], dtype=bool)[key]
            keep[hard[~good]] = False
            rows, pk = hard[good], key[good]
            if len(rows):
                blank = (ImssGeneric, None, None, {})
                cls_, where_, msg_, got_ = zip(*(blank if p is None else p for p in protos))
                shape[rows] = np.array([self._shape_code(c.shape) for c in cls_], dtype="int64")[pk]
                placed = [j for j, w in enumerate(where_) if w is not None]
                if placed:
                    at_ = np.full(len(protos), -1, dtype="int64")
                    at_[placed] = locations.extend([where_[j] for j in placed]) + np.arange(len(placed))
                    location[rows] = at_[pk]
                body = body.copy()
                body[rows] = _object_array(msg_)[pk]
                per_name: dict[str, tuple[list[int], list[Any]]] = {}
                for j, g in enumerate(got_):
                    for name, v in g.items():
                        at, values = per_name.get(name) or per_name.setdefault(name, ([], []))
                        at.append(j)
                        values.append(v)
                for name, (at, values) in per_name.items():
                    pos = np.full(len(protos), -1, dtype="int64")
                    pos[at] = np.arange(len(at))
                    codes = pos[pk]
                    has = codes >= 0
                    extra.append((name, rows[has], values, codes[has]))
                for j, i in enumerate(firsts):
                    p = protos[j]
                    if p is not None and p[0] not in first_row:
                        first_row[p[0]] = i
        for i, text in exact.items():  # a line holding a newline: the record path, line by line
            item = parse_line("imss", Source(unit.name, unit.first + i, text))
            if isinstance(item, Reject):
                continue
            row = to_row(item)
            keep[i] = True
            self.distinct_times.append(_instant(item.time))
            t_of[i] = len(self.distinct_times) - 1
            pid[i], tid[i], thread[i] = row["pid"], row["tid"], self._thread(row["thread"])
            key_ = ("exact", row["level"], row["component"], row["method"])
            lead_ = self.leads.get(key_)
            if lead_ is None:
                lead_ = self.leads[key_] = _Lead("", len(self.lead_list))
                self.lead_list.append(lead_)
                lead_.level, lead_.component, lead_.method = key_[1:]
            lead[i] = lead_.id
            if body is r.message:
                body = body.copy()
            body[i] = row["body"]
            location[i] = locations.extend([row["location"]])
            shape[i] = self._shape_code(row["shape"])
            for name in _shape_fields(type(item)):
                extra.append((name, np.array([i]), [row[name]], np.array([0])))
            first_row[type(item)] = min(first_row.get(type(item), k), i)
        plain = np.flatnonzero(keep & simple)
        if len(plain):
            first_row[ImssGeneric] = min(first_row.get(ImssGeneric, k), int(plain[0]))
        for cls in sorted(first_row, key=first_row.__getitem__):
            if cls not in self.shapes:
                self.shapes[cls] = _shape_fields(cls)
        if self.rejects is not None:
            for i in np.flatnonzero(~keep).tolist():
                text = unit.special.get(i)
                if text is None:
                    text = r.line(i)
                _reject("imss", unit.name, unit.first + i, text, self.rejects)
        renumber = np.cumsum(keep) - 1 + self.n
        for name, rows, values, codes in extra:
            table, pieces = self._extra(name)
            pieces.append((renumber[rows], table.extend(values) + codes))
        idx = np.flatnonzero(keep) if not keep.all() else slice(None)
        spans: dict[str, Any] = {}
        if self.spans:
            span = np.zeros(k, dtype=bool) if r.span is None else r.span.copy()
            span[list(unit.special)] = False
            sbegin = np.where(span, r.begin if r.span is not None else 0, -1)
            if span.any():
                sbegin[span] += unit.offset
                size = int(r.end[span].max())  # up to the last span's end: a last line's newline may not be in the file
                raw = unit.raw
                assert raw is not None
                self.span_units.append((unit.offset, size, zlib.crc32(memoryview(raw)[:size])))
            spans = {"sbegin": sbegin[idx], "slen": np.where(span, r.end - r.begin if r.span is not None else 0, 0)[idx]}
        self.parts.append({**spans,
            "file": np.full(int(keep.sum()), self.tables["file"].extend([unit.name])), "line": np.flatnonzero(keep) + unit.first,
            "time": t_of[idx], "pid": pid[idx], "tid": tid[idx], "thread": thread[idx], "lead": lead[idx],
            "body": body[idx], "location": location[idx], "shape": shape[idx],
        })
        self.n += int(keep.sum())

    def state(self, memfd: int | None = None) -> dict[str, Any]:
        """What :meth:`join` needs of these columns (sent from the worker: numpy arrays, lists of
        distinct values, rejects).  ``memfd``: a memory file the numeric columns are written into, piece by
        piece (no column of all the rows is made here), each replaced by where it is (:class:`_InMemoryFile`)."""
        import numpy as np

        parts, self.parts = self.parts, []
        cat: dict[str, Any] = {}
        at = 0
        for name in list(parts[0]) if parts else []:
            pieces = [p.pop(name) for p in parts]
            dtype = pieces[0].dtype
            if dtype == np.int64 and name not in ("pid", "tid"):
                full = [c for c in pieces if len(c)]
                if full and -1 <= min(int(c.min()) for c in full) and max(int(c.max()) for c in full) < 1 << 31:
                    dtype = np.dtype(np.int32)  # codes and line numbers: half the bytes to send
            if memfd is not None and dtype.kind in "iub":
                written = _pieces_to_memory(pieces, dtype, memfd, at)
                if written is not None:
                    cat[name], at = written
                    continue
                memfd = None  # a write failed: this column and the rest are pickled
            col = np.concatenate(pieces)
            cat[name] = col if col.dtype == dtype else col.astype(dtype)
        return {
            "n": self.n, "columns": cat, "shapes": list(self.shapes.items()),
            "times": np.array(self.distinct_times, dtype="int64").reshape(-1, 2), "threads": list(self.threads),
            "leads": [(x.level, x.component, x.method) for x in self.lead_list],
            "tables": {name: t.values for name, t in self.tables.items()},
            "extra": {name: (t.values, pieces) for name, (t, pieces) in self.extra.items()},
            "rejects": self.rejects, "span_units": self.span_units,
        }

    def join(self, s: dict[str, Any], shift: int, f: LogFile | None = None, at: int = 0) -> bool:
        """The rows of a later part of the input (``s``: :meth:`state` of its columns, its lines numbered
        from 1 where ``shift`` lines of this part end), as if this object had read them itself: their
        codes renumbered into this object's tables.  Bodies sent as where they are (a worker's ``spans``)
        are read again from ``f``, the part starting at byte ``at``; False (nothing joined) when those
        bytes are no longer what the worker read."""
        import numpy as np

        from dataclasses import replace

        if "sbegin" in s["columns"] and not self._read_spans(s, f, at):
            return False
        if self.rejects is not None:
            self.rejects += [replace(r, source=replace(r.source, line=r.source.line + shift)) for r in s["rejects"]]
        for cls, added in s["shapes"]:
            self.shapes.setdefault(cls, added)
        m, cols = s["n"], s.pop("columns")
        if not m:
            return True

        def col(name: str) -> Any:  # taken out of the part (freed once renumbered), as int64
            c = cols.pop(name)
            return c.astype(np.int64) if c.dtype == np.int32 else c

        base = len(self.distinct_times)
        self.distinct_times += list(map(tuple, s["times"].tolist()))
        lead_base = len(self.lead_list)
        for j, (level, component, method) in enumerate(s["leads"]):
            lead = _Lead("", lead_base + j)  # only its level, component and method are used from here on
            lead.level, lead.component, lead.method = level, component, method
            self.lead_list.append(lead)
        threads = np.array([self._thread(t) for t in s["threads"]] + [-1], dtype="int64")
        shapes = np.array([self._shape_code(x) for x in s["tables"]["shape"]] + [-1], dtype="int64")
        location = col("location")
        location = np.where(location >= 0, location + self.tables["location"].extend(s["tables"]["location"]), -1)
        for name, (values, pieces) in s["extra"].items():
            table, mine = self._extra(name)
            at = table.extend(values)
            mine += [(rows + self.n, codes + at) for rows, codes in pieces]
        self.parts.append({
            "file": col("file") + self.tables["file"].extend(s["tables"]["file"]), "line": col("line") + shift,
            "time": col("time") + base, "pid": col("pid"), "tid": col("tid"), "thread": threads[col("thread")],
            "lead": col("lead") + lead_base, "body": col("body"), "location": location, "shape": shapes[col("shape")],
        })
        self.n += m
        return True

    def _read_spans(self, s: dict[str, Any], f: LogFile | None, at: int) -> bool:
        """The bodies a worker sent as spans (``sbegin``/``slen``, from the part's start), read again from the
        file and made strings (by pyarrow, as the worker would have), put into the part's ``body`` column;
        False when a unit's bytes differ from what the worker read (the file changed: its CRC-32 differs, a check of
        ~3 GB/s; one changed line anywhere in a unit is found, not only at its edges)."""
        import numpy as np

        from . import imss_cut

        cols = s["columns"]
        sbegin, slen = cols.pop("sbegin").astype(np.int64), cols.pop("slen")
        rows = np.flatnonzero(sbegin >= 0)
        if not len(rows):
            return True
        assert f is not None, "spans need their file"
        body = cols["body"]
        begin = sbegin[rows]
        with open(f.path, "rb") as fh:
            for offset, size, crc in s["span_units"]:
                # an empty body that ends the unit begins at its end: the upper bound is inclusive (a body of
                # the next unit begins after that unit's first line's head, never at this unit's end)
                lo, hi = np.searchsorted(begin, offset), np.searchsorted(begin, offset + size, side="right")
                data = os.pread(fh.fileno(), size, at + offset)
                if len(data) != size or zlib.crc32(data) != crc:
                    return False
                got = rows[lo:hi]
                body[got] = imss_cut.strings_at(data, begin[lo:hi] - offset, slen[got])
        return True

    def frame(self) -> pd.DataFrame:
        import numpy as np
        import pandas as pd

        n = self.n
        if n == 0:
            return frame([], columns=record_columns(*_imss_classes()))
        names = dict.fromkeys(_BASE)
        for i, added in enumerate(self.shapes.values()):
            names.update(dict.fromkeys(added))
            if i == 0:
                names["thread"] = None
        parts, self.parts = self.parts, []
        cat = {}
        for name in list(parts[0]):  # each column's pieces freed as soon as they are joined
            pieces = [p.pop(name) for p in parts]
            # codes of categoricals and times: mapped piece by piece (no array of all the codes)
            cat[name] = pieces if name in ("file", "time", "thread", "lead", "shape") else np.concatenate(pieces)
        leads = self.lead_list
        data: dict[str, Any] = {
            "kind": _Coded(np.zeros(1, dtype="int64"), ["imss"], slice(None), n),
            "file": _Coded(cat["file"], self.tables["file"].values),
            "line": _int64(cat["line"]),
            "time": _TimeCodes(self.distinct_times, cat["time"]),
            "pid": _int64(cat["pid"]),
            "tid": _int64(cat["tid"]),
            "thread": _Coded(cat["thread"], list(self.threads)),
            "level": _Coded(cat["lead"], [x.level for x in leads]),
            "component": _Coded(cat["lead"], [x.component for x in leads]),
            "method": _Coded(cat["lead"], [x.method for x in leads]),
            "body": cat["body"],
            "location": _Coded(cat["location"], self.tables["location"].values),
            "shape": _Coded(cat["shape"], self.tables["shape"].values),
        }
        for name, (table, pieces) in self.extra.items():  # a shape's own fields: sparse
            at = np.concatenate([rows for rows, _ in pieces]) if pieces else np.zeros(0, dtype="int64")
            codes = np.concatenate([c for _, c in pieces]) if pieces else np.zeros(0, dtype="int64")
            data[name] = _Coded(codes, table.values, at, n)
        columns: dict[str, pd.Series] = {}
        for name in names:
            values = data.get(name)
            if values is None:
                values = _Coded(np.zeros(0, dtype="int64"), [], np.zeros(0, dtype="int64"), n)
            if isinstance(values, _TimeCodes):
                columns.update(values.columns(name))
            elif isinstance(values, _Coded):
                columns[name] = values.series(COLUMNS.get(name))
            elif isinstance(values, pd.api.extensions.ExtensionArray):
                columns[name] = pd.Series(values, copy=False)
            elif COLUMNS.get(name) == STRING and isinstance(values, np.ndarray) and values.dtype.kind == "O":
                columns[name] = _owned_strings(values)  # the body: an array made here, nothing else holds it
            else:
                columns.update(column(name, values, COLUMNS.get(name)))
        return pd.DataFrame(columns, index=pd.RangeIndex(n), copy=False)


_ABSENT = object()


def _owned_strings(values: Any) -> pd.Series:
    """An object array of str (and missing values) that nothing else holds, as the ``string`` column
    :func:`~imsvalog.frames.column` makes of it: pandas' own check and conversion of each value, in place,
    without the copy ``pandas.array`` makes first (8 million rows: 0.20 -> 0.09 s CPU, 64 MB less)."""
    import pandas as pd

    return pd.Series(pd.arrays.StringArray._from_sequence(values, dtype=pd.StringDtype("python"), copy=False), copy=False)


def _int64(values: Any) -> Any:
    """An int64 array (no missing value) as the Int64 array :func:`~imsvalog.frames.column` makes of it, without its copy."""
    import numpy as np
    import pandas as pd

    assert values.dtype == np.int64 and COLUMNS.get("line") == INT == "Int64"
    return pd.arrays.IntegerArray(values, np.zeros(len(values), dtype=bool))


class _Coded:
    """A column as codes into a table of values (-1: missing), made into its dtype without a
    Python step per row (except lists, which are new lists per row as :func:`~imsvalog.records.to_row` makes).

    With ``rows`` the column is sparse: ``n`` rows, ``codes`` those of ``rows`` only, every other row
    missing (a shape's own field: no column of ``n`` codes is made for it)."""

    def __init__(self, codes: Any, table: list[Any], rows: Any = None, n: int | None = None) -> None:
        #: codes given as pieces (a list of arrays; not with ``rows``): a categorical maps them piece by piece
        self.pieces = codes if isinstance(codes, list) else None
        self.codes, self.table, self.rows = codes, table, rows
        self.n = (sum(map(len, codes)) if self.pieces is not None else len(codes)) if n is None else n

    def series(self, kind: str | None) -> pd.Series:
        import numpy as np
        import pandas as pd

        from .frames import categorical

        codes, table, rows, n = self.codes, self.table, self.rows, self.n
        if self.pieces is not None and kind != CATEGORY:
            codes = np.concatenate(self.pieces) if self.pieces else np.zeros(0, dtype="int64")
        if kind == CATEGORY:  # categories: the distinct values rows use, sorted
            if self.pieces is not None:
                used = np.flatnonzero(sum(np.bincount(c + 1, minlength=len(table) + 1) for c in self.pieces)[1:])
            elif rows is None:
                used = np.flatnonzero(np.bincount(codes + 1, minlength=len(table) + 1)[1:])
            else:
                used = np.flatnonzero(np.bincount(codes, minlength=len(table)))
            t = categorical([table[i] for i in used.tolist()])
            remap = np.full(len(table) + 1, -1, dtype=t.codes.dtype)  # code -1 -> the last slot: missing
            remap[used] = t.codes
            if self.pieces is not None:
                out = _taken(remap, self.pieces)  # code -1 takes the last slot: missing
            elif rows is None:
                out = remap[codes]
            else:
                out = np.full(n, -1, dtype=t.codes.dtype)
                out[rows] = remap[codes]
            return pd.Series(pd.Categorical.from_codes(out, dtype=t.dtype, validate=False), copy=False)
        if kind in (LIST, INT, BOOL, STRING) and rows is None:
            rows = np.flatnonzero(codes >= 0)
            if kind != LIST and 4 * len(rows) >= n:  # mostly present: pandas' take
                return pd.Series(_series(kind, table).array.take(codes, allow_fill=True), copy=False)
            codes = codes[rows]
        if kind == LIST:
            out = np.full(n, None, dtype=object)
            out[rows] = [None if table[c] is None else list(table[c]) for c in codes.tolist()]
            return pd.Series(out, dtype=object, copy=False)
        if kind in (INT, BOOL, STRING):
            return pd.Series(_scatter(_series(kind, table).array, n, rows, codes), copy=False)
        if kind in (FLOAT, OBJECT) or kind is None:
            if rows is not None:
                dense = np.full(n, -1, dtype=codes.dtype)
                dense[rows] = codes
                codes = dense
            return pd.Series(_series(kind or OBJECT, table).array.take(codes, allow_fill=True), copy=False)
        raise AssertionError(f"no coded column of kind {kind}")


def _scatter(base: Any, n: int, rows: Any, have: Any) -> Any:
    """``n`` rows of a string, Int64 or boolean array: ``base[have]`` at ``rows``, missing elsewhere (the
    missing value filled in, then the rows scattered: a third of the time of pandas' take, which fills row
    by row).  Any other array: pandas' take."""
    import numpy as np

    if hasattr(base, "_mask") and hasattr(base, "_data"):  # Int64, boolean (masked arrays)
        data = np.zeros(n, dtype=base._data.dtype)
        data[rows] = base._data[have]
        mask = np.ones(n, dtype=bool)
        mask[rows] = base._mask[have]
        return type(base)(data, mask)
    values = getattr(base, "_ndarray", None)
    if values is not None and values.dtype == object and hasattr(base, "_from_backing_data"):  # string (Python)
        out = _filled(n, base.dtype.na_value)
        out[rows] = values[have]
        return base._from_backing_data(out)
    codes = np.full(n, -1, dtype=np.int64)
    codes[rows] = have
    return base.take(codes, allow_fill=True)


def _filled(n: int, value: Any) -> Any:
    """An object array of ``n`` times ``value``: a copy of a broadcast view (a third of ``numpy.full``'s time)."""
    import numpy as np

    one = np.empty(1, dtype=object)
    one[0] = value
    return np.broadcast_to(one, n).copy()


def _firsts(codes: Any) -> Any:
    """Where each code first appears, for codes numbered in order of first appearance (``pandas.factorize``)."""
    import numpy as np

    top = np.maximum.accumulate(codes)
    return np.flatnonzero(np.concatenate(([True], top[1:] != top[:-1])))


def _object_array(values: Any) -> Any:
    """A 1-d object array of ``values`` (never a 2-d one, whatever the values are)."""
    import numpy as np

    return np.fromiter(values, dtype=object, count=len(values))  # never a 2-d array, whatever the values are


#: a plain log.imss at least this big is read by two processes when ``IMSVALOG_WORKERS`` allows
PARALLEL_FROM = 32 << 20
#: the share of a split file that this process reads: a little over half, so that its part ends when the worker
#: has read and pickled the rest (joining and building the frame come after both, they overlap nothing).
#: Measured at 200 MB, CPU one after the other: this part 1.25 s, the worker's with pickling 1.26 s (0.35: 0.93 s
#: against 1.75 s, this process waiting)
PARENT_SHARE = 0.55


def imss_frame(files: list[LogFile], rejects: list[Reject] | None = None) -> pd.DataFrame:
    """log.imss lines of ``files`` as the DataFrame of :func:`imsvalog.frames.read_log_imss`.

    Each block of lines is cut at byte level (:mod:`imsvalog.imss_cut`); heads, leads and lines that
    may have a shape are converted once per distinct string; every other line is a generic record
    without a Python step of its own.  A big plain file is cut at a line start near the middle and its
    second part read by a second process (``fork``; :mod:`imsvalog.workers`), which sends back its
    columns as codes into its tables of distinct values; they are joined to this process's as if
    one process had read the whole file (the same frame, tested).
    """
    import os

    from .blocks import seekable, split_point
    from .errors import InputError
    from .sources import file_size
    from .workers import StreamedPart, bad_workers_message, workers_of

    workers = workers_of(os.environ.get("IMSVALOG_WORKERS"), os.cpu_count())
    if workers is None and files:
        raise InputError(bad_workers_message())
    cols = _ImssColumns(rejects)
    worker = None
    memfd = None
    try:
        with _gc_paused():
            for f in files:
                split = 0
                size = file_size(f) if workers and workers > 1 else 0
                if size >= PARALLEL_FROM and seekable(f):
                    split = split_point(f, int(size * PARENT_SHARE))
                if 0 < split < size:
                    import pandas  # noqa: F401 - imported once, before the fork, not in both processes

                    memfd = _memory_file()
                    worker = StreamedPart.start(str(f.path), _imss_part, f, split, rejects is not None, memfd)
                if worker is None:
                    for unit in _units(f, rejects):
                        cols.add(unit)
                    continue
                lines, failed = 0, []
                for unit in _units(f, rejects, 0, split, failed):
                    cols.add(unit)
                    lines = unit.first + unit.lines - 1
                (part,) = worker  # its one piece: the state of its columns (the part's arrays are freed as they are joined)
                worker.close()
                worker = None
                if memfd is not None:
                    _columns_from_memory(part["columns"], memfd)
                    os.close(memfd)
                    memfd = None
                if not failed and not cols.join(part, lines, f, split):  # the file changed under the worker
                    failed.append(ReadError(str(f.path), lines, "the file changed while it was read"))
                    if rejects is not None:
                        rejects.append(unreadable_rest(f, failed[-1]))
                del part
    finally:
        if worker is not None:  # an error or an interrupt here: the second process is stopped at once
            worker.close()
        if memfd is not None:
            os.close(memfd)
    return cols.frame()


def _imss_part(_emit: Any, f: LogFile, start: int, keep_rejects: bool, memfd: int | None = None) -> dict[str, Any]:
    """The worker's part of :func:`imss_frame` (a :class:`~imsvalog.workers.StreamedPart` that sends no
    pieces: ``_emit`` unused): the file from ``start`` (a line start) to its end, as
    :meth:`_ImssColumns.state` (lines numbered from 1 at ``start``); its numeric columns written into
    ``memfd`` when given."""
    from .imss_cut import views_work

    rejects: list[Reject] | None = [] if keep_rejects else None
    cols = _ImssColumns(rejects, spans=views_work())  # simple lines' bodies sent as spans of the file: read again there
    with _gc_paused():
        for unit in _units(f, rejects, start):
            cols.add(unit)
        return cols.state(memfd)


class _InMemoryFile:
    """Where the worker wrote a numeric column in the memory file: byte offset, dtype, length."""

    __slots__ = ("at", "dtype", "n")

    def __init__(self, at: int, dtype: str, n: int) -> None:
        self.at, self.dtype, self.n = at, dtype, n


def _memory_file() -> int | None:
    """A file in memory (Linux ``memfd_create``) for the worker's numeric columns, or None where there is none
    (they are then pickled with the rest).  Pickled, they were copied four times (the pickle, the pipe, the
    buffer the pipe is read into and its copy, the arrays unpickled); written there, once, and this process
    maps the very pages the worker wrote."""
    create = getattr(os, "memfd_create", None)
    if create is None:
        return None
    try:
        return int(create("imsvalog-part"))
    except OSError:
        return None


def _pieces_to_memory(pieces: list[Any], dtype: Any, fd: int, at: int) -> tuple[_InMemoryFile, int] | None:
    """One column given as pieces (numpy arrays) written as ``dtype`` one after the other into the memory file
    ``fd`` from byte ``at``: where it is, and where the next column goes (a multiple of 64 bytes).  None
    when a write fails."""
    import numpy as np

    start, n = at, 0
    try:
        for piece in pieces:
            data = memoryview(np.ascontiguousarray(piece, dtype=dtype)).cast("B")
            done = 0
            while done < len(data):
                done += os.pwrite(fd, data[done:], at + done)
            at += len(data)
            n += len(piece)
    except OSError:
        return None
    return _InMemoryFile(start, np.dtype(dtype).str, n), start + -(-(at - start) // 64) * 64


def _columns_from_memory(columns: dict[str, Any], fd: int) -> None:
    """The columns the worker wrote into the memory file ``fd``, as numpy arrays over its pages (mapped
    copy-on-write: writable, the file unchanged); the mapping lives as long as the arrays."""
    import mmap

    import numpy as np

    placed = {name: c for name, c in columns.items() if isinstance(c, _InMemoryFile)}
    size = os.fstat(fd).st_size
    mapped = mmap.mmap(fd, size, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE) if size else None
    for name, c in placed.items():  # a part whose every line was a reject: empty columns, an empty file
        got = np.zeros(0, dtype=np.dtype(c.dtype)) if not c.n else np.frombuffer(mapped, dtype=np.dtype(c.dtype), count=c.n, offset=c.at)  # type: ignore[arg-type]
        columns[name] = got


#: a column of plain decimals (no sign, exponent or blanks; at most 300 digits, so always finite), one a line:
#: ``float()`` of each is what :func:`~imsvalog.grammars.common.finite` gives
_PLAIN_DECIMALS = re.compile(r"(?:(?:[0-9]{1,300}(?:\.[0-9]{0,300})?)?\n)*")
#: a column of Message-IDs without blanks around them, one a line: each is its own stripped value
_PLAIN_MSGIDS = re.compile(r"(?:" + polevt._MSGID.pattern + r"\n)*")


def _joined(col: Any, empty: str = "") -> str:
    """The fields of ``col`` joined by newlines, a missing or empty one as ``empty`` (one C pass when there is none)."""
    if None in col or (empty and "" in col):
        return "\n".join(v or empty for v in col)
    return "\n".join(col)


#: ``str.translate`` tables: digits deleted; dots and newlines deleted
_NO_DIGITS = str.maketrans("", "", "0123456789")
_NO_DOTS = str.maketrans("", "", ".\n")


def _plain_decimals(col: Any) -> bool:
    """Whether every field of ``col`` is empty, missing or a plain decimal (:data:`_PLAIN_DECIMALS`).

    C passes first: only digits, dots and newlines; no two dots in a line (none is left between them once
    the digits are deleted); no line starting with a dot; no field over 300 characters (so no run of more
    than 300 digits): then the regex would match.  Where these do not tell, the regex decides."""
    text = _joined(col)
    rest = text.translate(_NO_DIGITS)
    if rest.translate(_NO_DOTS) or ".." in rest or text.startswith(".") or "\n." in text:
        return False  # the regex would not match either
    if None not in col and (not len(col) or max(map(len, col)) <= 300):
        return True
    return _PLAIN_DECIMALS.fullmatch(text + "\n") is not None


def _plain_message_ids(col: Any) -> bool:
    """Whether every field of ``col`` is a Message-ID without blanks around it (:data:`_PLAIN_MSGIDS`; an
    empty field counts as ``<>``, a missing one does not): each line starts with its only ``<`` and ends with
    its only ``>``, and no white space is left but the newlines (C passes)."""
    if None in col:
        return False
    n = len(col)
    text = _joined(col, "<>")
    return n == 0 or (
        text.startswith("<") and text.endswith(">") and text.count("<") == n and text.count(">") == n
        and text.count("\n<") == n - 1 and text.count(">\n") == n - 1 and _only_newlines(text, n - 1)
    )


#: the ASCII characters that are white space to ``str.isspace``, and so to the grammar's ``\s``
_ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _any_space(text: str) -> bool:
    """Whether ``text`` holds white space as :data:`imsvalog.grammars.polevt._SPACE` (``\\s``) sees it: for
    ASCII text (known without a pass) a ``find`` per white-space character, else one ``str.split`` in C (its
    white space is the regex's: both are ``str.isspace``; five times faster than the search)."""
    if text.isascii():
        return any(c in text for c in _ASCII_SPACE)
    pieces = text.split()
    return bool(text) and not (len(pieces) == 1 and len(pieces[0]) == len(text))


def _only_newlines(text: str, n: int) -> bool:
    """Whether the white space of ``text`` is ``n`` newlines and nothing else (C passes)."""
    if text.isascii():
        return text.count("\n") == n and not any(c in text for c in _ASCII_SPACE if c != "\n")
    return len("".join(text.split())) == len(text) - n


def _recipients(col: Any) -> list[list[str]]:
    """Field 3 of every row as the list :func:`~imsvalog.grammars.polevt.parse` makes (a new list per row)."""
    text = _joined(col)
    tidy = (  # no white space but the separating newlines, no empty item: nothing to strip (C passes)
        _only_newlines(text, len(col) - 1)
        and ";;" not in text and "\n;" not in text and ";\n" not in text and not text.startswith(";") and not text.endswith(";")
    )
    if tidy and None not in col and "" not in col:
        return list(map(str.split, col, repeat(";")))  # in C
    if tidy:
        return [v.split(";") if v else [] for v in col]
    return [[r.strip() for r in (v or "").split(";") if r.strip()] for v in col]


def _opt_column(col: list[str | None]) -> Any:
    """:func:`~imsvalog.grammars.polevt._opt` of a whole column: empty and missing fields are None."""
    out = _object_array(col)
    out[out == ""] = None
    return out


def _distinct(col: list[str | None], convert: Any, failed: Any = None) -> tuple[Any, list[Any], Any]:
    """``convert`` applied once per distinct value of ``col``: (codes per row into the list of converted
    values, that list, ok per row); a :class:`ParseFailure` makes its rows not ok (its value is ``failed``).
    A missing field (None) is the last value."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(_object_array(col))  # None is -1: the last slot below
    values: list[Any] = []
    ok: list[bool] = []
    for u in [*uniques.tolist(), None]:
        try:
            values.append(convert(u))
            ok.append(True)
        except ParseFailure:
            values.append(failed)
            ok.append(False)
    codes[codes < 0] = len(uniques)
    return codes, values, np.array(ok, dtype=bool)[codes]


def _per_distinct(col: list[str | None], convert: Any) -> tuple[Any, Any]:
    """``convert`` applied once per distinct value of ``col``: (values per row, ok per row); a
    :class:`ParseFailure` makes its rows not ok (None)."""
    codes, values, good = _distinct(col, convert)
    return _object_array(values)[codes], good


#: the usual way IMSVA writes a time (one space, ``GMT+HH:MM``): converted with numpy, all at once
_PLAIN_STAMPS = re.compile(r"(?:[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT[+-][0-9]{2}:[0-9]{2}\n)*")


def _stamps(col: list[str]) -> tuple[Any, Any, Any]:
    """polevt times as :func:`~imsvalog.grammars.common.make_time` reads them: UTC microseconds,
    offsets in seconds and ok, per row.  A column all in the usual layout (one C pass checks it) is
    converted with numpy row by row from its bytes; otherwise distinct times of the usual layout are
    converted with numpy.  Either way with make_time's checks (plausible year, real date and time, offset
    within 23:59); any other time goes through the grammar's own regex and make_time."""
    import numpy as np
    import pandas as pd

    n = len(col)
    rows = _plain_rows("\n".join(col) + "\n", n)
    if rows is not None:  # the usual case: no string per distinct time, no hashing
        micros, offsets, ok = _plain_stamps(rows)
        for i in np.flatnonzero(~ok).tolist():  # a check failed: make_time's way (it says the same, rarely)
            micros[i], offsets[i], ok[i] = _stamp_by_grammar(col[i])
        return micros, offsets, ok
    codes, uniques = pd.factorize(_object_array(col))
    distinct = uniques.tolist()
    m = len(distinct)
    micros = np.zeros(m + 1, dtype="int64")
    offsets = np.zeros(m + 1, dtype="int64")
    ok = np.zeros(m + 1, dtype=bool)  # the last slot: code -1 (never: every row has a field 0)
    plain = np.array([_PLAIN_STAMPS.fullmatch(x + "\n") is not None for x in distinct], dtype=bool)
    sel = np.flatnonzero(plain)
    if len(sel):
        text = "\n".join(distinct[i] for i in sel.tolist()) + "\n"
        micros[sel], offsets[sel], ok[sel] = _plain_stamps(np.frombuffer(text.encode("ascii"), np.uint8).reshape(len(sel), 30))
    for i in np.flatnonzero(~ok[:m]).tolist():
        micros[i], offsets[i], ok[i] = _stamp_by_grammar(distinct[i])
    return micros[codes], offsets[codes], ok[codes]


_LAYOUT = b"0000/00/00 00:00:00 GMT+00:00\n"  # 0: a digit, +: the sign, anything else itself


def _plain_rows(text: str, n: int) -> Any:
    """The bytes of ``text`` as ``n`` rows of 30 (a time and its newline) when every one of its ``n`` lines
    is a time in the usual layout (what :data:`_PLAIN_STAMPS` matches), else None."""
    import numpy as np

    if not n or len(text) != 30 * n or not text.isascii() or text.count("\n") != n:
        return None
    d = np.frombuffer(text.encode("ascii"), np.uint8).reshape(n, 30)  # n newlines, each line 29 characters
    layout = np.frombuffer(_LAYOUT, np.uint8)
    digit, sign = layout == ord("0"), layout == ord("+")
    same = ~digit & ~sign
    if not ((d[:, digit] - np.uint8(48)) <= 9).all() or not (d[:, same] == layout[same]).all():
        return None
    signs = d[:, 23]
    return d if ((signs == ord("+")) | (signs == ord("-"))).all() else None


def _plain_stamps(d: Any) -> tuple[Any, Any, Any]:
    """Rows of ASCII bytes ``YYYY/MM/DD HH:MM:SS GMT+HH:MM`` (each of the usual layout): UTC microseconds,
    offsets in seconds, and whether make_time's checks hold (plausible year, real date and time, offset
    within 23:59)."""
    import numpy as np

    def num(i: int, j: int) -> Any:
        v = d[:, i].astype("int64") - 48
        for k in range(i + 1, j):
            v = v * 10 + (d[:, k].astype("int64") - 48)
        return v

    year, month, day = num(0, 4), num(5, 7), num(8, 10)
    hh, mm, ss, oh, om = num(11, 13), num(14, 16), num(17, 19), num(24, 26), num(27, 29)
    sign = np.where(d[:, 23] == ord("-"), -1, 1)
    first = ((year - 1970) * 12 + np.clip(month, 1, 12) - 1).astype("datetime64[M]")
    start = first.astype("datetime64[D]").astype("int64")
    length = (first + 1).astype("datetime64[D]").astype("int64") - start
    ok = (
        (year >= MIN_YEAR) & (year <= MAX_YEAR) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= length)
        & (hh <= 23) & (mm <= 59) & (ss <= 59) & (oh <= 23) & (om <= 59)
    )
    off = sign * (oh * 3600 + om * 60)
    micros = ((start + day - 1) * 86400 + hh * 3600 + mm * 60 + ss - off) * 1_000_000
    return np.where(ok, micros, 0), np.where(ok, off, 0), ok


def _stamp_by_grammar(text: str) -> tuple[int, int, bool]:
    """A polevt time by the grammar's regex and make_time: (UTC microseconds, offset seconds, ok)."""
    found = polevt._TIME_RE.fullmatch(text)
    if found is None:
        return 0, 0, False
    try:
        t = make_time(found["date"], found["clock"], found["offset"])
    except ParseFailure:
        return 0, 0, False
    return (t - _EPOCH) // _US, t.utcoffset() // _SECOND, True


def _decimals(col: list[str | None], i: int) -> tuple[Any, Any]:
    """Field ``i`` as :func:`~imsvalog.grammars.polevt._number` (float) makes it, per row; (values, ok)."""
    import numpy as np

    if _plain_decimals(col):  # the usual case: C passes check the whole column
        # float() of each (in C); an empty field is missing: NaN, as the frame makes of None
        each = map(float, col) if None not in col and "" not in col else map(float, (v or "nan" for v in col))
        return np.fromiter(each, dtype=np.float64, count=len(col)), np.ones(len(col), dtype=bool)
    what = f"field {i} ({polevt.FIELD_NAMES.get(i, '?')})"
    return _per_distinct(col, lambda v: None if not v else finite(v, what))


def _polevt_unit(unit: _Unit, rejects: list[Reject] | None) -> dict[str, Any] | None:
    """The columns of one unit's polevt lines (rows that parse); rejects go to ``rejects``."""
    import numpy as np

    lines = unit.text.split("\n")
    assert len(lines) == unit.lines, "one line per line"
    exact = {i: t for i, t in unit.special.items() if not isinstance(t, LongLine)}
    for i in unit.special:
        lines[i] = ""  # a reject below (blank), or the record path's row
    rows = [ln.split("\t") for ln in lines]
    shortest = min(map(len, rows))

    def field(i: int) -> Any:
        """Field ``i`` of every row (None where a row is shorter)."""
        if i < shortest:
            return list(map(itemgetter(i), rows))  # in C
        return [r[i] if len(r) > i else None for r in rows]

    code = polevt.code_names
    micros, offsets, ok = _stamps(field(0))
    ids = _object_array(field(1))
    ok &= (ids != None) & (ids != "")  # noqa: E711 - elementwise
    if _any_space("\0".join(v or "" for v in ids.tolist()) if None in ids else "\0".join(ids.tolist())):  # rarely
        space = polevt._SPACE.search
        ok &= np.array([not v or space(v) is None for v in ids.tolist()], dtype=bool)
    out: dict[str, Any] = {"time": micros, "offset": offsets, "internal_id": ids}
    for name, i in (("conditions", 7), ("actions", 10)):
        codes, pairs, good = _distinct(field(i), lambda v, i=i: (None, ()) if not v else code(v.strip(), i), (None, ()))
        ok &= good
        out[name + "_code"] = _InTable(codes, [p[0] for p in pairs])  # a categorical made from the codes
        names = [p[1] for p in pairs]
        out[name] = _object_array(list(map(list, map(names.__getitem__, codes.tolist()))))  # a new list per row
    codes, values, good = _distinct(field(5), lambda v: None if not v else integer(v, "field 5 (direction)"))
    ok &= good
    out["direction"] = _InTable(codes, values)
    for name, i in (("size_kb", 9), ("spam_score", 11)):
        values, good = _decimals(field(i), i)
        ok &= good
        out[name] = values
    out["recipients"] = _object_array(_recipients(field(3)))
    for name, i in (("sender", 2), ("subject", 4), ("attachment", 14), ("attachment_type", 15)):
        out[name] = _opt_column(field(i))
    codes, values, _ = _distinct(field(6), lambda v: v or None)  # polevt._opt
    out["rule"] = _InTable(codes, values)
    mids = field(22)
    if _plain_message_ids(mids):
        out["message_id"] = _object_array(mids)
    else:
        out["message_id"] = _object_array([polevt.find_message_id(r) for r in rows])
    out["extra"] = _object_array(list(map(itemgetter(slice(23, None)), rows)))
    for i in np.flatnonzero(~ok).tolist():  # the record path says why
        if i in exact:
            continue
        _reject("polevt", unit.name, unit.first + i, unit.special.get(i, lines[i]), rejects)
    for i, text in exact.items():  # a line holding a newline: the record path's fields
        try:
            fields = polevt.parse(text)
        except ParseFailure:
            _reject("polevt", unit.name, unit.first + i, text, rejects)
            continue
        ok[i] = True
        for k, v in fields.items():
            if k == "time":
                out["time"][i], out["offset"][i] = (v - _EPOCH) // _US, v.utcoffset() // _SECOND
            elif isinstance(out[k], _InTable):
                out[k].set(i, v)
            else:
                out[k][i] = list(v) if isinstance(v, tuple) else float("nan") if v is None and out[k].dtype.kind == "f" else v
    keep = np.flatnonzero(ok)
    if not len(keep):
        return None
    cols = out if len(keep) == len(ok) else {k: v[keep] for k, v in out.items()}  # no copy when every row parsed
    cols["file"] = _InTable(np.zeros(len(keep), dtype=np.intp), [unit.name])
    cols["line"] = keep + unit.first
    return cols


class _InTable:
    """A column of one unit as codes (``numpy`` ints, each a row) into a list of values."""

    __slots__ = ("codes", "values")

    def __init__(self, codes: Any, values: list[Any]) -> None:
        self.codes, self.values = codes, values

    def __getitem__(self, rows: Any) -> _InTable:
        return _InTable(self.codes[rows], self.values)

    def set(self, row: int, value: Any) -> None:
        """Row ``row`` is ``value`` (a new value at the end of the list)."""
        self.codes[row] = len(self.values)
        self.values.append(value)

    @staticmethod
    def joined(parts: list[_InTable]) -> _Coded:
        """The parts as one column: their codes as pieces into all their values (a value may repeat)."""
        table: list[Any] = []
        pieces = []
        for p in parts:
            pieces.append(p.codes + len(table))
            table.extend(p.values)
        return _Coded(pieces, table)


def _strings(values: Any) -> pd.Series:
    """An object array of str and None that nothing else holds, as the ``string`` column
    :func:`~imsvalog.frames.column` makes of it: None becomes the missing value in place (no copy and
    no check per row)."""
    import pandas as pd

    base = pd.array([], dtype=pd.StringDtype("python"))
    values[pd.isna(values)] = base.dtype.na_value
    return pd.Series(base._from_backing_data(values), copy=False)


def polevt_frame(files: list[LogFile], rejects: list[Reject] | None = None) -> pd.DataFrame:
    """polevt.imss lines of ``files`` as the DataFrame of :func:`imsvalog.frames.read_polevt`.

    Blocks of lines are split at tabs in C; each field is converted column by column: once per
    distinct value (times, bit codes, recipients, direction) or checked for the whole column by one
    regex (decimals, Message-IDs) before a plain conversion; rows that fail are the record path's rejects.
    """
    import numpy as np
    import pandas as pd

    with _gc_paused():
        parts = [p for f in files for unit in _units(f, rejects) if (p := _polevt_unit(unit, rejects)) is not None]
    names = record_columns(PolicyEvent)
    if not parts:
        return frame([], columns=names)
    n = sum(len(p["line"]) for p in parts)
    columns: dict[str, pd.Series] = {}
    for name in names:
        if name == "kind":
            columns[name] = _Coded(np.zeros(1, dtype="int64"), ["polevt"], slice(None), n).series(CATEGORY)
            continue
        if isinstance(parts[0][name], _InTable):
            columns[name] = _InTable.joined([p[name] for p in parts]).series(COLUMNS[name])
            continue
        values = np.concatenate([p[name] for p in parts])
        if name == "time":
            columns.update(time_columns_of(name, values, np.concatenate([p["offset"] for p in parts])))
        elif COLUMNS.get(name) == STRING:
            columns[name] = _strings(values)
        else:
            columns.update(column(name, values, COLUMNS.get(name)))
    return pd.DataFrame(columns, index=pd.RangeIndex(n), copy=False)
