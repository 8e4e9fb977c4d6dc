"""Streaming readers: files in, records and rejects out, one per line, nothing lost.

Every line of every file becomes exactly one item: a record of its kind or a
:class:`~imsvalog.records.Reject` with file, line number and reason.  The
iterators hold one line at a time; memory does not grow with file size.

>>> [type(r).__name__ for r in iter_records(["fixtures/kb000239719/polevt.imss.20190430.0001"])]
['PolicyEvent']
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo

from .errors import InputError, ReadError
from .grammars import imss, maillog, msgtra, polevt
from .grammars.common import ParseFailure
from .records import ImssRecord, MailLogEntry, PolicyEvent, Reject, Source, Transaction
from .sources import KIND_NAMES, Discovery, LogFile, LongLine, discover, iter_lines, what_was_found

PathsLike = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]
Item = ImssRecord | PolicyEvent | Transaction | MailLogEntry | Reject


def as_path_list(paths: PathsLike) -> list[str | os.PathLike[str]]:
    if isinstance(paths, (str, os.PathLike)):
        return [paths]
    return list(paths)


def parse_line(kind: str, source: Source, hint: maillog.YearHint | None = None) -> Item:
    """One line of a given kind to its record, or a Reject saying why not.

    ``hint`` gives maillog lines their missing year and zone (see :func:`maillog_hint`).
    """
    text = source.text
    if isinstance(text, LongLine):
        return Reject(source, kind, text.reason)
    if not text.strip():
        return Reject(source, kind, "blank line")
    try:
        if kind == "imss":
            cls, fields = imss.parse(text)
            return cls(source=source, **fields)
        if kind == "polevt":
            return polevt.to_record(source, polevt.parse(text))
        if kind == "msgtra":
            return msgtra.to_record(source, msgtra.parse(text))
        if kind == "maillog":
            return maillog.to_record(source, maillog.parse(text, hint or maillog.YearHint(datetime.now().year, 12)))
    except ParseFailure as exc:  # BadTime included
        return Reject(source, kind, exc.reason)
    raise InputError(f"{source.file}: {KIND_NAMES.get(kind, kind)} files are not parsed")


def maillog_hint(f: LogFile, tz: tzinfo | None = None) -> maillog.YearHint:
    """A maillog file's year, month and zone; see :func:`maillog_sources`."""
    return maillog_sources(f, tz)[0]


def maillog_sources(f: LogFile, tz: tzinfo | None = None) -> tuple[maillog.YearHint, str, str]:
    """Year and zone for a maillog's syslog times, and in words where each came from.

    Year (with the month, for rolling back a year when months run past it): the file
    name's ``-YYYYMMDD``, else the bundle's name ``CDT-YYYYMMDD-HHMMSS``, else a log.imss
    line of the same appliance, else the archive member's or file's modification time.
    Zone: ``tz`` (``--tz``), else the offset of that log.imss line (the same host writes
    both), else UTC (flagged ``zone_assumed``).
    """
    from .bundles import cdt_date

    ref = f.reference
    if tz is not None:
        zone, zone_why = tz, "zone from --tz"
    elif ref is not None:
        zone, zone_why = ref[0].tzinfo, f"zone {ref[0].strftime('%z')[:3]}:{ref[0].strftime('%z')[3:]} from log.imss of the same appliance ({ref[1]})"
    else:
        zone, zone_why = None, "syslog timestamps carry no zone; UTC assumed (zone_assumed=true; give it with --tz +HH:MM)"
    bundle_date = None
    if f.member is not None:
        for name in reversed([f.member.bundle.name, *f.member.chain[:-1]]):
            bundle_date = bundle_date or cdt_date(name)
    if f.date:
        year, month, why = int(f.date[:4]), int(f.date[4:6]), "the file name"
    elif bundle_date is not None:
        (year, month), why = bundle_date, "the bundle's name"
    elif ref is not None:
        year, month, why = ref[0].year, ref[0].month, f"log.imss of the same appliance ({ref[1]})"
        return maillog.YearHint(year, month, zone, nearest=True), f"year {year} from {why}", zone_why
    else:
        try:
            stamp = f.member.mtime if f.member is not None else f.path.stat().st_mtime
            mtime = datetime.fromtimestamp(stamp or 0, zone or timezone.utc)
            why = "the member's modification time" if f.member is not None else "the file's modification time"
        except OSError:
            mtime, why = datetime.now(zone or timezone.utc), "today (no other source)"
        year, month = mtime.year, mtime.month
    return maillog.YearHint(year, month, zone), f"year {year} from {why}", zone_why


@dataclass(slots=True)
class FileSummary:
    """Records and rejects per file, for the one-line summary on stderr."""

    file: str
    kind: str
    lines: int = 0
    records: int = 0
    rejects: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ReadReport:
    """What a read saw: per-file counts and files passed over."""

    files: list[FileSummary] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(f.records for f in self.files)

    @property
    def rejects(self) -> int:
        return sum(f.rejects for f in self.files)


def unreadable_rest(f: LogFile, exc: ReadError) -> Reject:
    """The reject that stands for the part of a file that could not be read (:func:`unread_reason`)."""
    return Reject(
        Source(str(f.path), exc.lines + 1, exc.raw),  # the readable start of the cut line
        f.kind,
        unread_reason(exc),
    )


#: how :func:`unread_reason` begins, by case: lines lost after some were read, none read, read to the end but unchecked
UNREADABLE_REST, UNREADABLE_START, UNCHECKED_END = (
    "the rest of the file cannot be read after line", "the file cannot be read from its start", "the file was read to its end")


def unread_reason(exc: ReadError) -> str:
    """Why a file could not be read (to its end), in the same words wherever it is said: ``the rest of the file
    cannot be read after line 23: ...``; ``the file cannot be read from its start: ...`` (no line read);
    ``the file was read to its end (through line 23), but ...`` when only the check at its end failed
    (:attr:`ReadError.whole`: its deflate data ended properly, so nothing is left unread, but its lines may be garbled)."""
    if exc.whole:
        return f"{UNCHECKED_END} (through line {exc.lines}), but {exc.reason}"
    if exc.lines == 0:
        return f"{UNREADABLE_START}: {exc.reason}"
    return f"{UNREADABLE_REST} {exc.lines}: {exc.reason}"


def iter_file(
    f: LogFile, summary: FileSummary | None = None, tz: tzinfo | None = None, max_line: int | None = None,
    start: int = 0, lineno: int = 0,
) -> Iterator[Item]:
    """Records and rejects of one file, in line order.

    A file that stops being readable (a truncated gzip) ends with one reject
    saying so; the reader then goes on with the next file.  A line longer than
    ``max_line`` bytes (default :data:`~imsvalog.sources.MAX_LINE_BYTES`) is a reject
    holding its head and length.  ``start``, ``lineno``: see :func:`~imsvalog.sources.iter_lines`.
    """
    name = str(f.path)
    hint = maillog_hint(f, tz) if f.kind == "maillog" else None
    lines = iter_lines(f, max_line, summary.notes.append if summary is not None else None, start, lineno)
    while True:
        try:
            lineno, text = next(lines)
        except StopIteration:
            return
        except ReadError as exc:
            item: Item = unreadable_rest(f, exc)
        else:
            item = parse_line(f.kind, Source(name, lineno, text), hint)
        if summary is not None:
            summary.lines += 1
            if isinstance(item, Reject):
                summary.rejects += 1
            else:
                summary.records += 1
        yield item


def plan(paths: PathsLike, kind: str | None = None, only: str | None = None) -> Discovery:
    """Find the files; with ``only``, keep files of that kind (others are reported as skipped)."""
    found = discover(as_path_list(paths), kind)
    kept = []
    for f in found.files:
        if only is not None and f.kind != only:
            found.skipped.append((str(f.path), f"not a {KIND_NAMES[only]} file"))
        else:
            kept.append(f)
    found.files = kept
    return found


def iter_records(
    paths: PathsLike,
    kind: str | None = None,
    report: ReadReport | None = None,
    on_file: Callable[[LogFile], None] | None = None,
    tz: tzinfo | None = None,
    max_line: int | None = None,
) -> Iterator[Item]:
    """Every record and reject of every file under ``paths`` (kinds detected, rotations ordered).

    Files are found at once (so a bad path fails before any output); lines are read lazily.
    """
    return iter_found(plan(paths, kind), report, on_file, tz, max_line)


def iter_found(
    found: Discovery,
    report: ReadReport | None = None,
    on_file: Callable[[LogFile], None] | None = None,
    tz: tzinfo | None = None,
    max_line: int | None = None,
    read: Callable[[LogFile, FileSummary], Iterator[Item]] | None = None,
) -> Iterator[Item]:
    """Like :func:`iter_records` for files already found with :func:`plan` (resolve inputs, then read).
    ``read``: what reads one file instead of :func:`iter_file` (None for it), counting into its summary."""
    if report is not None:
        report.skipped.extend(found.skipped)
    return _records_of(found.files, report, on_file, tz, max_line, read)


def _records_of(
    files: list[LogFile], report: ReadReport | None, on_file: Callable[[LogFile], None] | None, tz: tzinfo | None,
    max_line: int | None = None, read: Callable[[LogFile, FileSummary], Iterator[Item]] | None = None,
) -> Iterator[Item]:
    for f in files:
        if on_file is not None:
            on_file(f)
        summary = FileSummary(str(f.path), f.kind)
        if report is not None:
            report.files.append(summary)
        yield from iter_file(f, summary, tz, max_line) if read is None else read(f, summary)


def files_of(kind: str, paths: PathsLike) -> list[LogFile]:
    """The files of one kind under ``paths``, in read order; :class:`InputError` when there are none."""
    found = plan(paths, kind=None, only=kind)
    if not found.files:
        everything = discover(as_path_list(paths))
        raise InputError(
            f"no {KIND_NAMES[kind]} file among: {', '.join(map(str, as_path_list(paths)))} "
            f"({what_was_found(everything.files, everything.skipped)})"
        )
    return found.files


def records_of(files: list[LogFile], rejects: list[Reject] | None = None, tz: tzinfo | None = None) -> Iterator:
    """The records of ``files`` in order; rejects go to ``rejects`` when a list is given."""
    for f in files:
        for item in iter_file(f, tz=tz):
            if isinstance(item, Reject):
                if rejects is not None:
                    rejects.append(item)
            else:
                yield item


def _iter_kind(kind: str, paths: PathsLike, rejects: list[Reject] | None, tz: tzinfo | None = None) -> Iterator:
    return records_of(files_of(kind, paths), rejects, tz)


def iter_log_imss(paths: PathsLike, rejects: list[Reject] | None = None) -> Iterator[ImssRecord]:
    """log.imss records, streaming; rejects go to ``rejects`` when a list is given."""
    return _iter_kind("imss", paths, rejects)


def iter_polevt(paths: PathsLike, rejects: list[Reject] | None = None) -> Iterator[PolicyEvent]:
    """polevt.imss records, streaming; rejects go to ``rejects`` when a list is given."""
    return _iter_kind("polevt", paths, rejects)


def iter_msgtra(paths: PathsLike, rejects: list[Reject] | None = None) -> Iterator[Transaction]:
    """msgtra.imss records, streaming; rejects go to ``rejects`` when a list is given."""
    return _iter_kind("msgtra", paths, rejects)


def iter_maillog(paths: PathsLike, rejects: list[Reject] | None = None, tz: tzinfo | None = None) -> Iterator[MailLogEntry]:
    """Postfix maillog entries, streaming; ``tz`` is the zone of classic syslog timestamps (UTC if None)."""
    return _iter_kind("maillog", paths, rejects, tz)
