"""Parquet export: records and correlate rows as a hive-partitioned dataset for DuckDB, Spark or any Parquet engine.

Layout under the output folder, one folder per case (a re-export replaces it)::

    DIR/case_name=CDT-20240312-101010/appliance=imsva01/kind=imss/date=2024-03-12/part-0.parquet
    DIR/case_name=.../appliance=.../kind=correlate/date=.../part-0.parquet

* ``case_name``: the Case Diagnostic Tool bundle's name (``CDT-YYYYMMDD-HHMMSS``, found among the
  path's folders), else the name of the folder given (for a file: its folder), else ``--case``.
* ``appliance``: the appliance that wrote the line, as ``imsvalog correlate`` names it in its
  ``appliance`` column: each bundle, appliance folder (``NAME/IMSVA/LogFile``) and syslog host is
  its own; loose files (none of those) are the host of their first maillog line, else ``unknown``.
  ``--appliance`` renames the case's appliance when it has only one (several: an error).
  The name before unsafe characters were replaced is in every row's ``appliance_name``.
* ``kind``: ``imss``, ``polevt``, ``msgtra``, ``maillog``, ``reject`` (lines that did not parse)
  and ``correlate`` (one row per spoof-related scan, as ``imsvalog correlate`` gives them).
* ``date``: the day as the appliance logged it (local date of ``time``); for rejects the
  file name's date, else ``unknown``.

Partition values keep letters, digits, ``.``, ``_``, ``-``; other characters become ``_``.

The schema of each kind is written out in :data:`COLUMNS` (``imsvalog export --schema``
prints it). It is stable: columns are only ever added; renaming, removing or retyping
one, or changing what its values mean (partition keys included), bumps
:data:`SCHEMA_VERSION`, which every row carries in ``schema_version``. Versions:

* 1: ``appliance`` was one name per case (``--appliance``, else the case's first maillog host).
* 2: ``appliance`` is each line's own appliance (bundle, appliance folder, syslog host);
  ``appliance_name`` added to every kind.
``time`` is UTC (``timestamp[us, UTC]``) with the logged offset in ``utc_offset_min``.

pyarrow is an optional dependency: ``pip install 'imsvalog[parquet]'``.
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError
from .outputs import Inputs, output_folder
from .readers import PathsLike, as_path_list, iter_file
from .records import Reject, to_row
from .sources import LogFile, discover

if TYPE_CHECKING:
    import pyarrow as pa

    from .correlation import Correlation
    from .trusted import TrustedList

#: bumped when a column is renamed, removed, retyped or changes meaning (adding a column keeps it)
SCHEMA_VERSION = 2
#: rows buffered per partition before a row group is written
BATCH_ROWS = 65_536
PARTITION_KEYS = ("case_name", "appliance", "kind", "date")

_S, _I, _F, _B, _T, _L = "string", "int64", "float64", "bool", "timestamp", "list<string>"

#: columns of every kind after ``schema_version``: name -> type
_COMMON = {"file": _S, "line": _I, "time": _T, "utc_offset_min": _I}
#: the columns of each kind, in order (the common ones first)
COLUMNS: dict[str, dict[str, str]] = {
    "imss": {
        **_COMMON,
        "thread": _S, "pid": _I, "tid": _I, "shape": _S, "level": _S, "component": _S, "method": _S, "body": _S,
        "location": _S, "rule_id": _I, "rule_version": _I, "num_filters": _I, "num_actions": _I, "header": _S,
        "address": _S, "count": _I, "ips": _L, "text": _S, "triggered": _B, "filter_name": _S, "result": _B,
        "index": _I, "action": _S, "client": _S, "detail": _S, "message_id": _S, "internal_id": _S,
    },
    "polevt": {
        **_COMMON,
        "internal_id": _S, "sender": _S, "recipients": _L, "subject": _S, "direction": _I, "rule": _S,
        "conditions_code": _S, "conditions": _L, "size_kb": _F, "actions_code": _S, "actions": _L,
        "spam_score": _F, "attachment": _S, "attachment_type": _S, "message_id": _S, "extra": _L,
    },
    "msgtra": {
        **_COMMON,
        "transaction": _S, "logged_time": _T, "delivery_time": _T, "message_id": _S, "internal_id": _S,
        "queue_id": _S, "number": _S, "sender": _S, "recipients": _L, "subject": _S, "client_host": _S,
        "client_address": _S, "next_hop": _S, "response": _S, "response_internal_id": _S, "status": _S,
        "actions_code": _S, "actions": _L, "extra": _L,
    },
    "maillog": {
        **_COMMON,
        "zone_assumed": _B, "host": _S, "program": _S, "pid": _I, "shape": _S, "body": _S, "queue_id": _S,
        "message_id": _S, "sender": _S, "recipient": _S, "orig_recipient": _S, "relay_host": _S,
        "relay_address": _S, "relay_port": _I, "delay": _F, "dsn": _S, "status": _S, "status_text": _S,
        "queued_as": _S, "size": _I, "nrcpt": _I, "client_host": _S, "client_address": _S,
    },
    "reject": {"file": _S, "line": _I, "log_kind": _S, "reason": _S, "raw": _S},
    "correlate": {
        "time": _T, "utc_offset_min": _I, "thread": _S, "internal_id": _S, "message_id": _S, "sender": _S,
        "recipients": _L, "subject": _S, "rule": _S, "actions": _L, "status": _S, "link_basis": _L,
        "link_confidence": _S, "link_candidates": _L, "logged_ips": _L, "logged_count": _I, "logged_triggered": _B,
        "recomputed_ips": _L, "recomputed_count": _I, "untrusted_ips": _L, "domain_match": _B,
        "recomputed_triggered": _B, "verdict": _S, "agrees": _B, "findings": _L, "explanation": _S,
        "source": _L, "missing": _S, "linked_elsewhere": _L,
    },
}
for _cols in COLUMNS.values():  # added in version 2, last so that no column moves
    _cols["appliance_name"] = _S
KINDS = tuple(COLUMNS)


_SHOWN = {_T: "timestamp[us,UTC]", _L: "list<string>"}


def _arrow_type(name: str) -> pa.DataType:
    import pyarrow as pa

    return {
        _S: pa.string(), _I: pa.int64(), _F: pa.float64(), _B: pa.bool_(),
        _T: pa.timestamp("us", tz="UTC"), _L: pa.list_(pa.string()),
    }[name]


def schema(kind: str) -> pa.Schema:
    """The pyarrow schema of one kind's files (partition columns are in the folder names, not here)."""
    import pyarrow as pa

    fields = [pa.field("schema_version", pa.int16(), nullable=False)]
    fields += [pa.field(n, _arrow_type(t)) for n, t in COLUMNS[kind].items()]
    return pa.schema(fields, metadata={"imsvalog.schema_version": str(SCHEMA_VERSION), "imsvalog.kind": kind})


def schema_text() -> str:
    """The schema of every kind, as ``imsvalog export --schema`` prints it."""
    lines = [
        f"schema_version {SCHEMA_VERSION}",
        f"folders: {'/'.join(f'{k}=...' for k in PARTITION_KEYS)}/part-0.parquet",
        "first column of every file: schema_version int16",
    ]
    for kind, cols in COLUMNS.items():
        shown = ", ".join(f"{n}\0{_SHOWN.get(t, t)}" for n, t in cols.items())  # a column never splits
        wrapped = textwrap.wrap(shown, 78, initial_indent=f"kind={kind}: ", subsequent_indent="  ")
        lines += [w.replace("\0", " ") for w in wrapped]
    return "\n".join(lines) + "\n"


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise InputError("export needs pyarrow: pip install 'imsvalog[parquet]'") from None
    return pa


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_BUNDLE = re.compile(r"CDT-\d{8}-\d{6}", re.IGNORECASE)


def partition_value(text: str) -> str:
    """A partition value that is safe as one folder name (``a=b`` folders are parsed by every engine)."""
    value = _UNSAFE.sub("_", text).strip(".") or "_"
    return value[:120]


def case_name(path: str | os.PathLike[str]) -> str:
    """The case a path belongs to: a ``CDT-YYYYMMDD-HHMMSS`` bundle among its folders, else its folder's name.

    >>> case_name("/cases/1234/CDT-20240312-101010/IMSVA/LogFile/Event3")
    'CDT-20240312-101010'
    >>> case_name("fixtures/busy-day"), case_name("fixtures/kb000239719/log.imss.20190430.0001")
    ('busy-day', 'kb000239719')
    """
    p = Path(os.path.abspath(path))
    for part in reversed(p.parts):
        m = _BUNDLE.match(part)
        if m:
            return m.group(0)
    folder = p if p.is_dir() else p.parent
    return folder.name or "case"


@dataclass
class ExportReport:
    """What an export wrote: rows per case and kind, and the files passed over."""

    out: Path
    rows: dict[str, Counter[str]] = field(default_factory=dict)  # case -> kind -> rows
    files: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        parts = []
        for case, counts in self.rows.items():
            kinds = ", ".join(f"{n:,} {k}" for k, n in counts.items() if n)
            parts.append(f"case {case}: {kinds or 'no rows'}")
        return "; ".join(parts)


class _Writer:
    """Rows per partition, buffered by column and written as row groups of one Parquet file per partition."""

    def __init__(self, root: Path) -> None:
        self.pa = _pyarrow()
        self.root = root
        self.buffers: dict[tuple[str, str, str], dict[str, list[Any]]] = {}
        self.writers: dict[tuple[str, str, str], Any] = {}
        self.counts: Counter[str] = Counter()

    def add(self, appliance: str, kind: str, date: str, row: dict[str, Any]) -> None:
        key = (appliance, kind, date)
        buf = self.buffers.get(key)
        if buf is None:
            buf = self.buffers[key] = {n: [] for n in COLUMNS[kind]}
        for n, values in buf.items():
            values.append(row.get(n))
        self.counts[kind] += 1
        if len(buf["file" if "file" in buf else "time"]) >= BATCH_ROWS:
            self._flush(key)

    def _flush(self, key: tuple[str, str, str]) -> None:
        pq = __import__("pyarrow.parquet").parquet
        pa = self.pa
        buf = self.buffers[key]
        kind = key[1]
        sch = schema(kind)
        n = len(next(iter(buf.values())))
        if n == 0:
            return
        arrays = [pa.array([SCHEMA_VERSION] * n, pa.int16())]
        arrays += [_arrow_array(pa, buf[name], sch.field(name).type) for name in COLUMNS[kind]]
        table = pa.Table.from_arrays(arrays, schema=sch)
        w = self.writers.get(key)
        if w is None:
            folder = self.root.joinpath(*(f"{k}={v}" for k, v in zip(PARTITION_KEYS[1:], key, strict=True)))
            folder.mkdir(parents=True, exist_ok=True)
            w = self.writers[key] = pq.ParquetWriter(folder / "part-0.parquet", sch, compression="zstd")
        w.write_table(table)
        for values in buf.values():
            values.clear()

    def close(self) -> None:
        for key in list(self.buffers):
            self._flush(key)
        for w in self.writers.values():
            w.close()


def _arrow_array(pa: Any, values: list[Any], typ: pa.DataType) -> pa.Array:
    """A column as Arrow; Parquet strings are UTF-8, so undecodable bytes (lone surrogates) become
    the ``\\xNN`` text imsvalog shows everywhere (:func:`imsvalog.render.clean_bytes`); the exact
    bytes stay in the input at the row's ``file`` and ``line``."""
    try:
        return pa.array(values, type=typ)
    except UnicodeEncodeError:
        from .render import clean_bytes

        def clean(v: Any) -> Any:
            if isinstance(v, str):
                return clean_bytes(v)
            if isinstance(v, (list, tuple)):
                return [clean(x) for x in v]
            return v

        return pa.array([clean(v) for v in values], type=typ)


def _offset_min(t: datetime | None) -> int | None:
    off = t.utcoffset() if t is not None else None
    return int(off.total_seconds() // 60) if off is not None else None


def _record_row(item: Any) -> tuple[str, str, dict[str, Any]]:
    """(kind, date, row) for one record or reject."""
    row = to_row(item)
    if isinstance(item, Reject):
        return "reject", "", row
    t = row.get("time")
    row["utc_offset_min"] = _offset_min(t)
    kind = row["kind"]
    return kind, t.date().isoformat() if t is not None else "unknown", row


def _correlate_rows(result: Correlation) -> Iterator[dict[str, Any]]:
    for r in result.rows:
        row = r.flat()
        row["appliance_name"] = row.pop("appliance", None)  # "appliance" is the partition key's name
        rec = r.recomputed
        row["untrusted_ips"] = list(rec.untrusted) if rec is not None else None
        row["verdict"] = rec.verdict if rec is not None else None
        row["utc_offset_min"] = _offset_min(row["time"])
        yield row


def export(
    paths: PathsLike,
    to: str | os.PathLike[str],
    case: str | None = None,
    appliance: str | None = None,
    trusted: TrustedList | None = None,
    correlate: bool = True,
) -> ExportReport:
    """Write the records of every file under ``paths``, and their correlate rows, as Parquet under ``to``.

    Paths are grouped into cases by :func:`case_name` (or all into ``case``); each case's
    folder ``to/case_name=...`` is written beside the others and replaced as a whole.

    >>> import tempfile, duckdb
    >>> out = tempfile.mkdtemp()
    >>> export("fixtures/kb000239719", out).rows["kb000239719"]["correlate"]
    1
    >>> duckdb.sql(f"SELECT kind, count(*) FROM read_parquet('{out}/**/*.parquet', hive_partitioning=true, "
    ...            "union_by_name=true) GROUP BY kind ORDER BY kind").fetchall()
    [('correlate', 1), ('imss', 10), ('polevt', 1)]
    """
    _pyarrow()
    out = Path(to)
    given = as_path_list(paths)
    groups: dict[str, list[str | os.PathLike[str]]] = {}
    for p in given:
        groups.setdefault(partition_value(case or case_name(p)), []).append(p)
    # resolve every input before writing anything
    found = {name: discover(ps) for name, ps in groups.items()}
    for name, d in found.items():
        if not d.files:
            raise InputError(f"no log files among: {', '.join(map(str, groups[name]))}")
    names = {name: _appliance_names(name, d.files, appliance) for name, d in found.items()}
    inputs = Inputs.of(given, [f for d in found.values() for f in d.files])
    output_folder(out, inputs)  # refuses a folder that is or holds an input; creates it
    report = ExportReport(out)
    for name, d in found.items():
        report.skipped += d.skipped
        report.files += len(d.files)
        report.rows[name] = _export_case(out, name, groups[name], d.files, names[name], trusted, correlate)
    return report


def _appliance_names(case: str, files: list[LogFile], rename: str | None) -> dict[str | None, str]:
    """Each appliance of a case (``None``: loose files) -> its name in the output.

    An appliance keeps the name correlate gives it; loose files are named by their maillog's
    host; ``rename`` renames a case's only appliance (given for a case with several: an error).
    """
    names: dict[str | None, str] = {f.appliance: f.appliance for f in files if f.appliance is not None}
    if any(f.appliance is None for f in files):
        names[None] = _appliance_of(f for f in files if f.appliance is None)
    if rename is not None:
        if len(set(names.values())) > 1:
            raise InputError(
                f"--appliance names one appliance, but case {case} holds {len(set(names.values()))}: "
                + ", ".join(sorted(set(names.values()))) + " (each keeps its own name without --appliance)"
            )
        names = dict.fromkeys(names, rename)
    return names


def _appliance_of(files: Iterable[LogFile]) -> str:
    """The host name of the first maillog line that parses, else ``unknown``."""
    for f in files:
        if f.kind != "maillog":
            continue
        for item in iter_file(f):
            if not isinstance(item, Reject):
                return item.host
    return "unknown"


def _export_case(
    out: Path,
    name: str,
    paths: Sequence[str | os.PathLike[str]],
    files: list[LogFile],
    names: dict[str | None, str],
    trusted: TrustedList | None,
    correlate: bool,
) -> Counter[str]:
    tmp = out / f".imsvalog-tmp-{name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    w = _Writer(tmp)
    try:
        for f in files:
            shown = names[f.appliance]
            app = partition_value(shown)
            for item in iter_file(f):
                kind, date, row = _record_row(item)
                if kind == "reject":
                    d = f.date
                    date = f"{d[:4]}-{d[4:6]}-{d[6:8]}" if d else "unknown"
                row["appliance_name"] = shown
                w.add(app, kind, date, row)
        if correlate and any(f.kind in ("imss", "polevt") for f in files):
            from .correlation import correlate as run_correlate

            # the case's own paths: correlate finds the same files and names the same appliances
            for row in _correlate_rows(run_correlate(list(paths), trusted=trusted)):
                row["appliance_name"] = shown = names[row["appliance_name"]]
                w.add(partition_value(shown), "correlate", row["time"].date().isoformat(), row)
        w.close()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    final = out / f"case_name={name}"
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    return w.counts


__all__ = ["COLUMNS", "SCHEMA_VERSION", "ExportReport", "case_name", "export", "schema", "schema_text"]
