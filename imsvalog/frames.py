"""pandas DataFrames for notebooks: one row per record, one set of dtypes for every frame.

A column name means the same dtype in every frame imsvalog builds (the readers,
:func:`records_frame`, scan sessions, correlation rows), so frames concatenate
and merge.  :data:`COLUMNS` is that table; the README lists it.  The dtypes are
the same under pandas 2.x and 3.x:

* times: ``datetime64[us, UTC+09:00]``, a fixed-offset zone, when every value of
  the column has the same UTC offset (``datetime64[us, UTC]`` for offset zero).
  When offsets are mixed (two appliances, a change of daylight-saving time, an
  assumed zone) the column is ``datetime64[us, UTC]`` and a ``offset`` column
  (``logged_offset`` for ``logged_time``, ...) keeps each row's logged offset as
  ``+09:00``.  The unit is microseconds under both pandas versions (pandas 2
  would pick nanoseconds, which cannot hold year 9999).
* counts, line numbers and IDs: ``Int64`` (nullable; a missing value is ``<NA>``);
* yes/no/unknown: ``boolean`` (nullable: unknown stays ``<NA>``, never False);
* repeated strings (kind, shape, level, file, rule, thread, status, ...): ``category``; an undecodable
  byte (a lone surrogate) cannot be a category and is the text ``\\xNN`` there (:func:`categorical`);
* other text: ``string`` (pandas' nullable string, Python storage: undecodable
  bytes, kept as lone surrogates, survive);
* measures: ``float64``;
* lists (recipients, decoded bit codes, IP lists) stay lists in an ``object`` column.

:func:`concat` concatenates frames whose time columns have different zones (it
moves them all to UTC plus offset columns first) and keeps categoricals.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported when a frame is built: the CLI starts faster without it
    import pandas as pd

from .bundles import one_run
from .readers import PathsLike, files_of, iter_maillog, iter_msgtra
from .records import Record, Reject, to_row

TIME, INT, BOOL, FLOAT, CATEGORY, STRING, LIST, OBJECT = (
    "time", "Int64", "boolean", "float64", "category", "string", "list", "object",
)


def _kinds(kind: str, names: str) -> dict[str, str]:
    return dict.fromkeys(names.split(), kind)


#: every column of every frame and its dtype kind (one table, so the same name has the same dtype everywhere)
COLUMNS: dict[str, str] = {
    **_kinds(TIME, "time logged_time delivery_time start_time end_time"),
    **_kinds(
        INT,
        "line pid tid rule_id rule_version num_filters num_actions count index direction relay_port size nrcpt"
        " spoof_traces lines logged_count recomputed_count",
    ),
    **_kinds(BOOL, "triggered result zone_assumed logged_triggered recomputed_triggered domain_match agrees in_imsva_list"),
    **_kinds(FLOAT, "size_kb spam_score delay"),
    **_kinds(
        CATEGORY,
        "kind shape level component method file rule thread log_kind transaction status filter_name action"
        " conditions_code actions_code host program link_confidence start end appliance missing"
        " untrusted_address outcome verdict_before verdict_after skip_reason stage"
        " offset logged_offset delivery_offset start_offset end_offset",
    ),
    **_kinds(
        STRING,
        "body location client message_id detail header address text internal_id sender subject attachment"
        " attachment_type queue_id number client_host client_address next_hop response response_internal_id"
        " recipient orig_recipient relay_host relay_address dsn status_text queued_as session first_line"
        " explanation reason raw taken counted range trusted_by link",
    ),
    **_kinds(
        LIST,
        "ips recipients conditions actions extra rules final_actions logged_ips received_headers files"
        " link_basis link_candidates recomputed_ips skipped findings source linked_elsewhere",
    ),
}


def offset_column(name: str) -> str:
    """The column that keeps the logged offsets of time column ``name`` when they are mixed.

    >>> offset_column("time"), offset_column("logged_time")
    ('offset', 'logged_offset')
    """
    return "offset" if name == "time" else name.removesuffix("_time") + "_offset"


def format_offset(delta: _dt.timedelta) -> str:
    """``+09:00`` / ``-05:00`` / ``+05:45``.

    >>> format_offset(_dt.timedelta(hours=-5)), format_offset(_dt.timedelta(hours=5, minutes=45))
    ('-05:00', '+05:45')
    """
    sign = "-" if delta < _dt.timedelta(0) else "+"
    minutes = abs(int(delta.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def time_columns(name: str, values: Sequence[Any]) -> dict[str, pd.Series]:
    """Aware datetimes (or None) as a fixed-offset ``datetime64[us, ...]`` column when they share one
    offset, else as UTC plus the offset column.  Zones are normalised to :class:`datetime.timezone`
    whatever built them (dateutil's ``tzoffset`` would make a zone no other frame concatenates with)."""
    import pandas as pd

    offsets = {v.utcoffset() for v in values if v is not None}
    if len(offsets) == 1:
        tz = _dt.timezone(offsets.pop())
        if tz.utcoffset(None) == _dt.timedelta(0):
            tz = _dt.timezone.utc
        col = pd.array([None if v is None else v.replace(tzinfo=tz) for v in values], dtype=pd.DatetimeTZDtype("us", tz))
        return {name: pd.Series(col, copy=False)}
    utc = _dt.timezone.utc
    col = pd.array([None if v is None else v.astimezone(utc) for v in values], dtype=pd.DatetimeTZDtype("us", utc))
    out = {name: pd.Series(col, copy=False)}
    if offsets:  # all None: an empty UTC column, no offsets to keep
        out[offset_column(name)] = _series(CATEGORY, [None if v is None else format_offset(v.utcoffset()) for v in values])
    return out


def _series(kind: str, values: list[Any]) -> pd.Series:
    import pandas as pd

    if kind in (LIST, OBJECT):
        return pd.Series(values, dtype=object, copy=False)
    if kind == CATEGORY:  # string categories always (all-missing would infer float64 ones, which no concat takes)
        return pd.Series(categorical(values), copy=False)
    if kind == STRING:
        return pd.Series(pd.array(values, dtype=pd.StringDtype("python")), copy=False)
    if kind == FLOAT:
        if getattr(values, "dtype", None) == "float64":  # already floats, missing as NaN
            return pd.Series(values, dtype="float64", copy=False)
        return pd.Series([float("nan") if v is None else v for v in values], dtype="float64")
    return pd.Series(pd.array(values, dtype=kind), copy=False)  # Int64, boolean


def _has_surrogate(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate (an undecodable byte): :mod:`imsvalog.render` imported only
    for text that is not ASCII, so reading an ASCII log does not import it (30-60 ms)."""
    from .render import _SURROGATE

    return _SURROGATE.search(text) is not None


def categorical(values: Sequence[Any]) -> pd.Categorical:
    """``values`` as a Categorical whose categories are the distinct non-missing values, sorted
    (string-typed even when there are none): hashed once in C (``pandas.factorize``), the
    distinct values sorted, the codes renumbered.

    >>> c = categorical(["b", None, "a", "b"])
    >>> list(c.categories), c.codes.tolist()
    (['a', 'b'], [1, -1, 0, 1])
    """
    import numpy as np
    import pandas as pd

    if not isinstance(values, np.ndarray):
        arr = np.empty(len(values), dtype=object)
        arr[:] = list(values)
        values = arr
    codes, uniques = pd.factorize(values)  # None and NaN are -1
    text = "\0".join(u for u in uniques.tolist() if isinstance(u, str)) if len(uniques) else ""
    if not text.isascii() and _has_surrogate(text):
        # an undecodable byte (a lone surrogate) cannot be a category (pandas 3 keeps them as UTF-8):
        # it becomes the ``\xNN`` text of render.clean_bytes; two values that now read alike are one
        cleaned = np.empty(len(uniques), dtype=object)
        from .render import clean_bytes

        cleaned[:] = [clean_bytes(u) if isinstance(u, str) else u for u in uniques.tolist()]
        recodes, uniques = pd.factorize(cleaned)
        codes = np.where(codes >= 0, recodes[codes], -1)
    if len(uniques) == 0:
        return pd.Categorical.from_codes(codes, categories=pd.Index(["x"])[:0])  # the string dtype pandas gives strings
    distinct = list(uniques)
    order = sorted(range(len(distinct)), key=distinct.__getitem__)
    rank = np.empty(len(order) + 1, dtype=codes.dtype)
    rank[order] = np.arange(len(order))
    rank[-1] = -1
    return pd.Categorical.from_codes(rank[codes], categories=pd.Index([distinct[i] for i in order]))


def frame(
    rows: Iterable[Mapping[str, Any]], dtypes: Mapping[str, str] | None = None, columns: Sequence[str] = ()
) -> pd.DataFrame:
    """A DataFrame from flat rows with the dtypes of :data:`COLUMNS`; columns in order of first appearance.

    ``dtypes`` overrides the table for this frame (a column of Python objects is ``object``).  A column
    the table does not know gets the dtype pandas infers (a test keeps every reader's columns in the table).
    ``columns`` are the frame's columns when there are no rows: an empty input gives an empty frame
    with every column and its dtype, not a frame without columns.

    >>> df = frame([], columns=["time", "count", "kind"])
    >>> df.shape, [str(t) for t in df.dtypes]
    ((0, 3), ['datetime64[us, UTC]', 'Int64', 'category'])
    """
    import pandas as pd

    rows = list(rows)
    names: dict[str, None] = {} if rows else dict.fromkeys(columns)
    for r in rows:
        names.update(dict.fromkeys(r))
    table = {**COLUMNS, **(dtypes or {})}
    out: dict[str, pd.Series] = {}
    for name in names:
        out.update(column(name, [r.get(name) for r in rows], table.get(name)))
    return pd.DataFrame(out, index=pd.RangeIndex(len(rows)))


def record_columns(*classes: type) -> list[str]:
    """The columns :func:`imsvalog.records.to_row` gives records of these classes (the union, in order)."""
    from dataclasses import fields

    from .records import ImssRecord, MailLogEntry

    names: dict[str, None] = dict.fromkeys(["kind"])
    if any(issubclass(c, (ImssRecord, MailLogEntry)) for c in classes):
        names["shape"] = None
    names.update(dict.fromkeys(["file", "line", "time"]))
    for c in classes:
        names.update(dict.fromkeys(f.name for f in fields(c) if f.name not in ("source", "time", "shape")))
    if any(issubclass(c, ImssRecord) for c in classes):
        names["thread"] = None
    return list(names)


def _imss_classes() -> list[type]:
    from .records import ImssRecord

    out: list[type] = []
    todo = [ImssRecord]
    while todo:
        c = todo.pop(0)
        out.append(c)
        todo += c.__subclasses__()
    return out


def column(name: str, values: list[Any], kind: str | None) -> dict[str, pd.Series]:
    """One column of dtype kind ``kind`` (``None``: what pandas infers); a time column may bring its offset column."""
    import pandas as pd

    if kind == TIME:
        return time_columns(name, values)
    if kind is None:
        return {name: pd.Series(values, dtype=object if not values else None)}
    return {name: _series(kind, values)}


def to_utc(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose fixed-offset time columns are in UTC, each with its offset column (as for mixed offsets)."""
    import pandas as pd

    out = df.copy()
    for name in [c for c in df.columns if COLUMNS.get(c) == TIME]:
        tz = getattr(df[name].dtype, "tz", None)
        off = offset_column(name)
        if tz is None or off in df.columns:
            continue
        out[name] = df[name].dt.tz_convert("UTC")
        offset = format_offset(tz.utcoffset(None))
        col = pd.Categorical([None if pd.isna(t) else offset for t in df[name]])
        out.insert(out.columns.get_loc(name) + 1, off, col)
    return out


def concat(frames: Sequence[pd.DataFrame], **kwargs: Any) -> pd.DataFrame:
    """``pd.concat`` that keeps datetime and categorical dtypes across frames of different zones and categories.

    When a time column's zone differs between frames, every frame's times move to UTC with an offset
    column first (:func:`to_utc`); categorical columns get the union of the categories.
    """
    import pandas as pd
    from pandas.api.types import union_categoricals

    frames = list(frames)
    zones = {str(f[c].dtype) for f in frames for c in f.columns if COLUMNS.get(c) == TIME}
    if len(zones) > 1:
        frames = [to_utc(f) for f in frames]
    for name in {c for f in frames for c in f.columns}:
        cats = [f[name] for f in frames if name in f.columns]
        if len(cats) > 1 and all(isinstance(c.dtype, pd.CategoricalDtype) for c in cats):
            union = union_categoricals([c.array for c in cats]).categories
            frames = [f.assign(**{name: f[name].cat.set_categories(union)}) if name in f.columns else f for f in frames]
    return pd.concat(frames, **kwargs)


def records_frame(items: Iterable[Record | Reject]) -> pd.DataFrame:
    """Any records (and rejects) as one DataFrame; columns are the union of the fields."""
    return frame(to_row(i) for i in items)


@one_run
def read_log_imss(paths: PathsLike, rejects: list[Reject] | None = None) -> pd.DataFrame:
    """log.imss lines as a DataFrame: one row per line that parsed (rejects go to ``rejects``).

    >>> df = read_log_imss("fixtures/kb000239719")
    >>> list(df["shape"])[:2], int(df.loc[df["shape"] == "ip_list", "count"].iloc[0])
    (['rule_run', 'received_header'], 1)
    >>> str(df["time"].dtype), str(df["rule_id"].dtype)
    ('datetime64[us, UTC+09:00]', 'Int64')
    """
    from .columns import imss_frame

    return imss_frame(files_of("imss", paths), rejects)  # the same frame as records_frame(iter_log_imss(...)), faster


@one_run
def read_polevt(paths: PathsLike, rejects: list[Reject] | None = None) -> pd.DataFrame:
    """polevt.imss policy events as a DataFrame (``recipients``, ``conditions``, ``actions`` are lists)."""
    from .columns import polevt_frame

    return polevt_frame(files_of("polevt", paths), rejects)  # the same frame as records_frame(iter_polevt(...)), faster


@one_run
def read_msgtra(paths: PathsLike, rejects: list[Reject] | None = None) -> pd.DataFrame:
    """msgtra.imss transactions as a DataFrame."""
    from .records import Transaction

    return frame((to_row(i) for i in iter_msgtra(paths, rejects)), columns=record_columns(Transaction))


@one_run
def read_maillog(paths: PathsLike, rejects: list[Reject] | None = None, tz: Any = None) -> pd.DataFrame:
    """Postfix maillog entries as a DataFrame; ``tz`` (a tzinfo) is the zone of syslog timestamps (UTC if None)."""
    from .records import MailLogEntry

    return frame((to_row(i) for i in iter_maillog(paths, rejects, tz)), columns=record_columns(MailLogEntry))


@one_run
def read_logs(paths: PathsLike, rejects: list[Reject] | None = None, tz: Any = None) -> dict[str, pd.DataFrame]:
    """Every kind of log under ``paths`` (folders, files, bundles) as DataFrames, by name: ``log.imss``,
    ``polevt.imss``, ``msgtra.imss``, ``maillog``.  A kind the case has no file of is an empty frame with
    every column (a case without message tracking is still a case), where each reader alone would raise
    :class:`~imsvalog.errors.InputError`.

    >>> logs = read_logs("fixtures/kb000239719")
    >>> {name: len(df) for name, df in logs.items()}
    {'log.imss': 10, 'polevt.imss': 1, 'msgtra.imss': 0, 'maillog': 0}
    """
    from .records import MailLogEntry, PolicyEvent, Transaction
    from .sources import KIND_NAMES, discover
    from .readers import as_path_list

    present = {f.kind for f in discover(as_path_list(paths)).files}
    readers = {
        "imss": (lambda: read_log_imss(paths, rejects), _imss_classes()),
        "polevt": (lambda: read_polevt(paths, rejects), [PolicyEvent]),
        "msgtra": (lambda: read_msgtra(paths, rejects), [Transaction]),
        "maillog": (lambda: read_maillog(paths, rejects, tz), [MailLogEntry]),
    }
    return {
        KIND_NAMES[kind]: read() if kind in present else frame([], columns=record_columns(*classes))
        for kind, (read, classes) in readers.items()
    }
