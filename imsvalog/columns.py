"""The DataFrame readers' fast path: lines parsed straight into columns, no record per line.

:func:`imss_frame` and :func:`polevt_frame` build the same DataFrame as the
record-by-record path (``iter_log_imss`` → :func:`~imsvalog.records.to_row` →
:func:`~imsvalog.frames.frame`): same columns in the same order, same values,
same dtypes (a hypothesis test and every fixture line hold the two equal).  They
use the grammars' compiled fast path (:func:`imsvalog.grammars.imss.split_line`,
:func:`imsvalog.grammars.polevt.parse`), convert times, thread IDs and location
tags once per distinct string, and fill column lists instead of creating a frozen
record and a row dict per line.  Every line still ends as a row or as a
:class:`~imsvalog.records.Reject` (made by the record path itself, so the reason
is the same).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import fields as dc_fields
from typing import TYPE_CHECKING, Any

from .errors import ReadError
from .frames import BOOL, CATEGORY, COLUMNS, FLOAT, INT, LIST, OBJECT, STRING, _imss_classes, _series, column, format_offset, frame, offset_column, record_columns
from .grammars import imss, polevt
from .grammars.common import ParseFailure, integer, make_time
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
    """A time column as distinct aware datetimes and one index into them per row."""

    def __init__(self, distinct: list[Any], codes: list[int]) -> None:
        self.distinct, self.codes = distinct, codes

    def columns(self, name: str) -> dict[str, pd.Series]:
        """What :func:`~imsvalog.frames.time_columns` makes of the rows' datetimes, converted once per distinct time."""
        import numpy as np
        import pandas as pd

        offsets = [d.utcoffset() for d in self.distinct]
        utc = _dt.timezone.utc
        micros = np.array([(d - _EPOCH) // _US for d in self.distinct], dtype="int64")
        codes = np.array(self.codes, dtype="intp")
        utc_times = pd.DatetimeIndex(micros[codes].view("datetime64[us]")).tz_localize(utc)
        used = {offsets[c] for c in np.unique(codes).tolist()}  # times of rejected lines do not count
        if len(used) == 1:
            tz = _dt.timezone(used.pop())
            if tz.utcoffset(None) == _dt.timedelta(0):
                tz = utc
            return {name: pd.Series(utc_times.tz_convert(tz).array)}
        names = np.array([format_offset(o) for o in offsets], dtype=object)
        return {name: pd.Series(utc_times.array), offset_column(name): _series(CATEGORY, list(names[codes]))}


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_US = _dt.timedelta(microseconds=1)


def _build(names: list[str], data: dict[str, list[Any]], n: int) -> pd.DataFrame:
    import pandas as pd

    columns: dict[str, pd.Series] = {}
    for name in names:
        values = data[name]
        if isinstance(values, _TimeCodes):
            columns.update(values.columns(name))
        else:
            columns.update(column(name, values, COLUMNS.get(name)))
    return pd.DataFrame(columns, index=pd.RangeIndex(n))


class _Lead:
    """What a distinct ``lead`` of :data:`~imsvalog.grammars.imss.BLOCK_RE` says: level, component
    and method of the record (as :func:`~imsvalog.grammars.imss.split_line` makes them), the variant
    start it holds, and whether lines with it (and without a tail) are simple generic records."""

    __slots__ = ("level", "component", "cut_component", "method", "start", "simple", "id")

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
    """Consecutive lines of one file as one text (``\\n``-separated), with lines to reject as they are."""

    __slots__ = ("name", "first", "text", "lines", "special")

    def __init__(self, name: str, first: int, text: str, lines: int, special: dict[int, Any]) -> None:
        self.name, self.first, self.text, self.lines, self.special = name, first, text, lines, special


def _units(f: LogFile, rejects: list[Reject] | None):
    """The file as :class:`_Unit` s: big blocks of whole lines (:func:`imsvalog.blocks.iter_blocks`),
    decoded at once; lines longer than the limit become :class:`~imsvalog.sources.LongLine` (the
    record path's reject); a read error ends the file with the record path's reject.  What only
    :func:`~imsvalog.sources.iter_lines` cuts (a syslog view, CR-only line ends) comes from it."""
    from .blocks import _by_lines, iter_blocks
    from .sources import LONG_LINE_HEAD, MAX_LINE_BYTES, decode

    name = str(f.path)
    limit = MAX_LINE_BYTES
    if _by_lines(f, limit):
        yield from _line_units(f, rejects)
        return
    blocks = iter_blocks(f, limit)
    while True:
        try:
            b = next(blocks)
        except StopIteration:
            return
        except ReadError as exc:
            if rejects is not None:
                rejects.append(unreadable_rest(f, exc))
            return
        if b.long:
            head = b.data[b.start : b.end]
            yield _Unit(name, b.line, "", 1, {0: LongLine(decode(head[: min(LONG_LINE_HEAD, b.long, limit + 2)]), b.long, limit)})
            continue
        raw = b.data[b.start : b.end - 1]  # the last line's newline off: one match per line
        special: dict[int, Any] = {}
        if b.end - b.start > limit + 1:
            special = _long_lines(raw, limit)
        text = raw.decode("utf-8", "surrogateescape")
        if "\r" in text:
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


class _ImssColumns:
    """Columns of log.imss rows, filled a block of lines at a time with per-distinct work only.

    :data:`~imsvalog.grammars.imss.BLOCK_RE` cuts every line of a block (a C loop); heads
    (time and thread) and leads (level, component, method) are converted once per distinct string;
    lines that may have a body shape or a location tag are worked out once per distinct
    (lead, rest, tail) with the grammar's own functions (:func:`~imsvalog.grammars.imss.shape_of`);
    all other lines are generic records whose body is the regex's ``rest``.  Columns are kept as
    numpy codes into tables of distinct values and become categoricals and extension arrays at the end.
    """

    def __init__(self, rejects: list[Reject] | None) -> None:
        self.rejects = rejects
        self.n = 0
        self.parts: list[dict[str, Any]] = []
        self.shapes: dict[type[ImssRecord], tuple[str, ...]] = {}
        self.times: dict[tuple[str, str, str], int | None] = {}  # time strings -> index in distinct_times
        self.distinct_times: list[Any] = []
        self.heads: dict[str, tuple[int, int, int, int] | None] = {}  # -> time index, pid, tid, thread index
        self.threads: dict[str, int] = {}
        self.leads: dict[Any, _Lead] = {}
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
        got = self.leads[lead] = _Lead(lead, len(self.leads))
        return got

    def _time(self, key: tuple[str, str, str]) -> int | None:
        try:
            self.distinct_times.append(make_time(*key))
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
        try:
            variant, got = imss.shape_of(lead.component, message)
        except ParseFailure:
            return None
        return (ImssGeneric if variant is None else variant.record), where, message, got

    def _extra(self, name: str) -> tuple[_Table, list[tuple[Any, Any]]]:
        if name not in self.extra:
            self.extra[name] = (_Table(), [])
        return self.extra[name]

    def add(self, unit: _Unit) -> None:
        import numpy as np
        import pandas as pd

        found = imss.BLOCK_RE.findall(unit.text)
        assert len(found) == unit.lines, "one match per line"
        k = len(found)
        table = np.array(found, dtype=object)  # (lines, 5): one C pass
        heads, leads, rests, tails, others = (np.ascontiguousarray(table[:, j]) for j in range(5))
        hcodes, huniq = pd.factorize(heads)
        hinfo = [self.heads[h] if h in self.heads else self._head(h) for h in huniq.tolist()]
        hinfo_ = [h or (-1, 0, 0, -1) for h in hinfo]
        htab = np.array(hinfo_, dtype="int64").reshape(-1, 4)[hcodes]
        keep = htab[:, 0] >= 0
        t_of, pid, tid, thread = htab[:, 0].copy(), htab[:, 1].copy(), htab[:, 2].copy(), htab[:, 3].copy()
        lcodes, luniq = pd.factorize(leads)
        linfo = [self.leads[x] if x in self.leads else self._lead(x) for x in luniq.tolist()]
        simple = np.array([x.simple for x in linfo], dtype=bool)[lcodes] & (tails == "")
        lead = np.array([x.id for x in linfo], dtype="int64")[lcodes]
        body = rests
        shapes, locations = self.tables["shape"], self.tables["location"]
        shape = np.full(k, shapes.extend([ImssGeneric.shape]), dtype="int64")
        location = np.full(k, -1, dtype="int64")
        first_row: dict[type[ImssRecord], int] = {}
        extra: list[tuple[str, Any, list[Any], Any]] = []  # name, rows, table values, codes
        exact = {i: t for i, t in unit.special.items() if not isinstance(t, LongLine)}
        for i in unit.special:
            keep[i] = False
        hard = np.flatnonzero(keep & ~simple)
        if len(hard):
            # one key per distinct (lead, rest, tail), numbered in order of first appearance
            key = lcodes[hard].astype("int64")
            for col in (rests[hard], tails[hard]):
                c, u = pd.factorize(col)
                key, _ = pd.factorize(key * len(u) + c)
            firsts = hard[np.unique(key, return_index=True)[1]].tolist()
            protos = [self._complex(linfo[lcodes[i]], rests[i] + tails[i]) for i in firsts]
            good = np.array([p is not None for p in protos], dtype=bool)[key]
            keep[hard[~good]] = False
            rows, pk = hard[good], key[good]
            if len(rows):
                blank = (ImssGeneric, None, None, {})
                cls_, where_, msg_, got_ = zip(*(blank if p is None else p for p in protos))
                shape[rows] = shapes.extend([c.shape for c in cls_]) + pk
                location[rows] = np.where(np.array([w is None for w in where_])[pk], -1, locations.extend(list(where_)) + pk)
                body = rests.copy()
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
            self.distinct_times.append(item.time)
            t_of[i] = len(self.distinct_times) - 1
            pid[i], tid[i], thread[i] = row["pid"], row["tid"], self._thread(row["thread"])
            key_ = ("exact", row["level"], row["component"], row["method"])
            lead_ = self.leads.get(key_)
            if lead_ is None:
                lead_ = self.leads[key_] = _Lead("", len(self.leads))
                lead_.level, lead_.component, lead_.method = key_[1:]
            lead[i] = lead_.id
            if body is rests:
                body = rests.copy()
            body[i] = row["body"]
            location[i] = locations.extend([row["location"]])
            shape[i] = shapes.extend([row["shape"]])
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
                    text = others[i] or heads[i] + leads[i] + rests[i] + tails[i]
                _reject("imss", unit.name, unit.first + i, text, self.rejects)
        renumber = np.cumsum(keep) - 1 + self.n
        for name, rows, values, codes in extra:
            table, pieces = self._extra(name)
            pieces.append((renumber[rows], table.extend(values) + codes))
        idx = np.flatnonzero(keep)
        self.parts.append({
            "file": np.full(len(idx), self.tables["file"].extend([unit.name])), "line": idx + unit.first,
            "time": t_of[idx], "pid": pid[idx], "tid": tid[idx], "thread": thread[idx], "lead": lead[idx],
            "body": body[idx], "location": location[idx], "shape": shape[idx],
        })
        self.n += len(idx)

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
        parts = self.parts
        cat = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
        leads = sorted(self.leads.values(), key=lambda x: x.id)
        data: dict[str, Any] = {
            "kind": _Coded(np.zeros(n, dtype="int64"), ["imss"]),
            "file": _Coded(cat["file"], self.tables["file"].values),
            "line": cat["line"],
            "time": _TimeCodes(self.distinct_times, cat["time"]),
            "pid": cat["pid"],
            "tid": cat["tid"],
            "thread": _Coded(cat["thread"], list(self.threads)),
            "level": _Coded(cat["lead"], [x.level for x in leads]),
            "component": _Coded(cat["lead"], [x.component for x in leads]),
            "method": _Coded(cat["lead"], [x.method for x in leads]),
            "body": cat["body"],
            "location": _Coded(cat["location"], self.tables["location"].values),
            "shape": _Coded(cat["shape"], self.tables["shape"].values),
        }
        for name, (table, pieces) in self.extra.items():
            codes = np.full(n, -1, dtype="int64")
            for rows, c in pieces:
                codes[rows] = c
            data[name] = _Coded(codes, table.values)
        columns: dict[str, pd.Series] = {}
        for name in names:
            values = data.get(name)
            if values is None:
                values = _Coded(np.full(n, -1, dtype="int64"), [])
            if isinstance(values, _TimeCodes):
                columns.update(values.columns(name))
            elif isinstance(values, _Coded):
                columns[name] = values.series(COLUMNS.get(name))
            else:
                columns.update(column(name, values, COLUMNS.get(name)))
        return pd.DataFrame(columns, index=pd.RangeIndex(n))


_ABSENT = object()


class _Coded:
    """A column as codes into a table of values (-1: missing), made into its dtype without a
    Python step per row (except lists, which are new lists per row as :func:`~imsvalog.records.to_row` makes)."""

    def __init__(self, codes: Any, table: list[Any]) -> None:
        self.codes, self.table = codes, table

    def series(self, kind: str | None) -> pd.Series:
        import numpy as np
        import pandas as pd

        from .frames import categorical

        codes, table = self.codes, self.table
        if kind == CATEGORY:  # categories: the distinct values rows use, sorted
            used = np.flatnonzero(np.bincount(codes + 1, minlength=len(table) + 1)[1:])
            t = categorical([table[i] for i in used.tolist()])
            remap = np.full(len(table) + 1, -1, dtype=t.codes.dtype)  # code -1 -> the last slot: missing
            remap[used] = t.codes
            return pd.Series(pd.Categorical.from_codes(remap[codes], dtype=t.dtype))
        if kind == LIST:
            out = np.full(len(codes), None, dtype=object)
            rows = np.flatnonzero(codes >= 0)
            out[rows] = [None if table[c] is None else list(table[c]) for c in codes[rows].tolist()]
            return pd.Series(out, dtype=object)
        if kind in (INT, BOOL, STRING, FLOAT) or kind is None:
            base = _series(kind or OBJECT, table).array
            return pd.Series(base.take(codes, allow_fill=True))
        raise AssertionError(f"no coded column of kind {kind}")


def _object_array(values: Any) -> Any:
    """A 1-d object array of ``values`` (never a 2-d one, whatever the values are)."""
    import numpy as np

    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def imss_frame(files: list[LogFile], rejects: list[Reject] | None = None) -> pd.DataFrame:
    """log.imss lines of ``files`` as the DataFrame of :func:`imsvalog.frames.read_log_imss`.

    Each block of lines is cut by one compiled regex (:data:`imsvalog.grammars.imss.BLOCK_RE`, the
    grammar's tokens); heads, leads and lines that may have a shape are converted once per distinct
    string; every other line is a generic record without a Python step of its own.
    """
    cols = _ImssColumns(rejects)
    for f in files:
        for unit in _units(f, rejects):
            cols.add(unit)
    return cols.frame()


_POLEVT_LISTS = tuple(k for k in ("recipients", "conditions", "actions", "extra") if COLUMNS[k] == LIST)


def polevt_frame(files: list[LogFile], rejects: list[Reject] | None = None) -> pd.DataFrame:
    """polevt.imss lines of ``files`` as the DataFrame of :func:`imsvalog.frames.read_polevt`."""
    parse = polevt.parse
    rows: list[dict[str, Any]] = []
    file_c: list[str] = []
    line_c: list[int] = []
    for f in files:
        name = str(f.path)
        for lineno, text in _lines(f, rejects):
            if isinstance(text, LongLine) or not text.strip():
                _reject("polevt", name, lineno, text, rejects)
                continue
            try:
                rows.append(parse(text))
            except ParseFailure:
                _reject("polevt", name, lineno, text, rejects)
                continue
            file_c.append(name)
            line_c.append(lineno)
    n = len(rows)
    if n == 0:
        return frame([], columns=record_columns(PolicyEvent))
    keys = list(rows[0])
    data: dict[str, list[Any]] = {"kind": ["polevt"] * n, "file": file_c, "line": line_c}
    for k in keys:
        if k == "time":  # one datetime object per distinct time string (make_time is cached): convert those once
            ids: dict[int, int] = {}
            distinct: list[Any] = []
            codes = []
            for r in rows:
                t = r["time"]
                c = ids.get(id(t))
                if c is None:
                    c = ids[id(t)] = len(distinct)
                    distinct.append(t)
                codes.append(c)
            data[k] = _TimeCodes(distinct, codes)  # type: ignore[assignment]
        elif k in _POLEVT_LISTS:
            data[k] = [list(r[k]) for r in rows]
        else:
            data[k] = [r[k] for r in rows]
    return _build(["kind", "file", "line", *keys], data, n)
