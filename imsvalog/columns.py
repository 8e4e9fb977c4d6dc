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
from .frames import CATEGORY, COLUMNS, LIST, _imss_classes, _series, column, format_offset, frame, offset_column, record_columns
from .grammars import imss, polevt
from .grammars.common import ParseFailure, integer, make_time
from .readers import parse_line, unreadable_rest
from .records import ImssGeneric, ImssRecord, PolicyEvent, Reject, Source
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


#: lines per regex pass (bounds the memory of the joined text and its matches)
CHUNK_LINES = 50_000


def _chunks(f: LogFile, rejects: list[Reject] | None):
    """Lists of ``(line, text)`` of at most :data:`CHUNK_LINES`."""
    chunk: list[tuple[int, Any]] = []
    for item in _lines(f, rejects):
        chunk.append(item)
        if len(chunk) >= CHUNK_LINES:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _ImssColumns:
    """Column lists of log.imss rows, filled a chunk of lines at a time."""

    def __init__(self, rejects: list[Reject] | None) -> None:
        self.rejects = rejects
        self.n = 0
        self.base: dict[str, list[Any]] = {name: [] for name in (*_BASE, "thread")}
        self.extra: dict[str, list[tuple[int, Any]]] = {}
        self.shapes: dict[type[ImssRecord], tuple[str, ...]] = {}
        self.times: dict[tuple[str, str, str], int | None] = {}  # time strings -> index in distinct_times
        self.distinct_times: list[Any] = []
        self.threads: dict[tuple[str, str], tuple[int, int, str] | None] = {}
        self.locations: dict[tuple[str, str, str], str | None] = {}

    def _time(self, key: tuple[str, str, str]) -> int | None:
        try:
            self.distinct_times.append(make_time(*key))
            t: int | None = len(self.distinct_times) - 1
        except ParseFailure:
            t = None
        self.times[key] = t
        return t

    def _thread(self, key: tuple[str, str]) -> tuple[int, int, str] | None:
        try:
            pid, tid = integer(key[0], "pid"), integer(key[1], "tid")
            th: tuple[int, int, str] | None = (pid, tid, f"{pid}:{tid}")
        except ParseFailure:
            th = None
        self.threads[key] = th
        return th

    def _location(self, key: tuple[str, str, str]) -> str | None:
        try:
            where: str | None = f"{key[0]}:{key[1]}:{integer(key[2], 'source line number')}"
        except ParseFailure:
            where = None
        self.locations[key] = where
        return where

    def add(self, name: str, chunk: list[tuple[int, Any]]) -> None:
        texts = ["" if isinstance(text, LongLine) else text for _, text in chunk]
        found = imss.LINES_RE.findall("\n".join(texts))
        assert len(found) == len(chunk), "one match per line"
        b = self.base
        kind_c, shape_c, file_c, line_c, time_c = b["kind"], b["shape"], b["file"], b["line"], b["time"]
        pid_c, tid_c, thread_c, level_c, comp_c = b["pid"], b["tid"], b["thread"], b["level"], b["component"]
        method_c, body_c, loc_c = b["method"], b["body"], b["location"]
        extra, shapes, times, threads, locations = self.extra, self.shapes, self.times, self.threads, self.locations
        shape_of, not_components, location_re = imss.shape_of, imss.NOT_COMPONENTS, imss.LOCATION_RE
        n = self.n
        for (lineno, text), g in zip(chunk, found):
            date, clock, offset, pid, tid, level, level_word, component, method, message = g
            if not date:
                _reject("imss", name, lineno, text, self.rejects)
                continue
            key = (date, clock, offset)
            t = times[key] if key in times else self._time(key)
            tkey = (pid, tid)
            th = threads[tkey] if tkey in threads else self._thread(tkey)
            where = None
            if message.endswith("]") or message.rstrip(" \t").endswith("]"):
                locm = location_re.search(message)
                if locm:
                    lkey = locm.group("loc_file", "loc_function", "loc_line")
                    where = locations[lkey] if lkey in locations else self._location(lkey)
                    if where is None:
                        th = None
                    message = message[: locm.start()]
            if t is None or th is None:
                _reject("imss", name, lineno, text, self.rejects)
                continue
            if not method:
                method = None
                if component in not_components:
                    message = f"{component}: {message}"
                    component = None
            component = component or None
            try:
                variant, got = shape_of(component, message)
            except ParseFailure:
                _reject("imss", name, lineno, text, self.rejects)
                continue
            cls = ImssGeneric if variant is None else variant.record
            if cls not in shapes:
                shapes[cls] = _shape_fields(cls)
            for k, v in got.items():
                extra.setdefault(k, []).append((n, list(v) if isinstance(v, tuple) else v))
            kind_c.append("imss")
            shape_c.append(cls.shape)
            file_c.append(name)
            line_c.append(lineno)
            time_c.append(t)
            pid_c.append(th[0])
            tid_c.append(th[1])
            thread_c.append(th[2])
            level_c.append(level or level_word or None)
            comp_c.append(component)
            method_c.append(method)
            body_c.append(message)
            loc_c.append(where)
            n += 1
        self.n = n

    def frame(self) -> pd.DataFrame:
        n = self.n
        if n == 0:
            return frame([], columns=record_columns(*_imss_classes()))
        names = dict.fromkeys(_BASE)
        for i, added in enumerate(self.shapes.values()):
            names.update(dict.fromkeys(added))
            if i == 0:
                names["thread"] = None
        data = dict(self.base)
        data["time"] = _TimeCodes(self.distinct_times, data["time"])  # type: ignore[assignment]
        for k, pairs in self.extra.items():
            col: list[Any] = [None] * n
            for i, v in pairs:
                col[i] = v
            data[k] = col
        for k in names:
            data.setdefault(k, [None] * n)
        return _build(list(names), data, n)


def imss_frame(files: list[LogFile], rejects: list[Reject] | None = None) -> pd.DataFrame:
    """log.imss lines of ``files`` as the DataFrame of :func:`imsvalog.frames.read_log_imss`.

    Each chunk of lines is joined and cut by one compiled regex (:data:`imsvalog.grammars.imss.LINES_RE`,
    the head, message and location tokens of the grammar); times, thread IDs and location tags are
    converted once per distinct string; only the body shape is tried per line.
    """
    cols = _ImssColumns(rejects)
    for f in files:
        name = str(f.path)
        for chunk in _chunks(f, rejects):
            cols.add(name, chunk)
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
