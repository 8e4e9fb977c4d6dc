"""``imsvalog parse`` of a big plain log.imss by two processes: the second part's output made by a second process.

The file is cut at a line start near its middle (:func:`split_of`); a forked second process
(:class:`~imsvalog.workers.StreamedPart`) parses the second part exactly as this process would
(:func:`~imsvalog.readers.iter_file` from that byte, lines numbered on from the first part's count)
and writes its records and rejects, already formatted (``--format jsonl`` or ``csv``, by the
same writers), to two unlinked temporary files (``TMPDIR``; nothing is held in memory, nothing is
left behind); this process parses and writes the first part meanwhile, then copies the second
process's text after it: the output is byte for byte that of one process, in the same order.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from .readers import UNCHECKED_END, UNREADABLE_REST, UNREADABLE_START, FileSummary, iter_file
from .records import Reject, to_row
from .render import json_line, write_csv, write_jsonl
from .sources import LogFile

#: the share of the file this process parses (it also copies the second process's text after its own part)
PARENT_SHARE = 0.5
#: records per piece of text the second process formats at once
PIECE_RECORDS = 5_000
#: text read back from the second process's files at once
COPY_CHARS = 1 << 22


@dataclass(slots=True)
class Split:
    """Where a file is cut: byte ``at`` (a line start), ``lines`` lines before it."""

    at: int
    lines: int


def split_of(f: LogFile, limit: int) -> Split | None:
    """Where to cut ``f`` for two processes: a plain log.imss (not gzip, not a bundle member, LF line ends) of
    :data:`~imsvalog.columns.PARALLEL_FROM` bytes or more, when ``IMSVALOG_WORKERS`` allows two; else None.

    The lines before the cut are counted here (``bytes.count``, some GB/s) so that both processes number
    lines as one would.  Not cut where a line of ``limit`` bytes or more without a newline holds a CR at
    the file's start or at the cut (:func:`~imsvalog.sources.iter_lines` would split such a first line at CR)."""
    from .blocks import seekable, split_point
    from .columns import PARALLEL_FROM
    from .errors import InputError
    from .sources import file_size
    from .workers import bad_workers_message, workers_of

    workers = workers_of(os.environ.get("IMSVALOG_WORKERS"), os.cpu_count())
    if workers is None:
        raise InputError(bad_workers_message())
    if f.kind != "imss" or workers < 2 or f.member is not None or f.syslog is not None:
        return None
    size = file_size(f)
    if size < PARALLEL_FROM or not seekable(f):
        return None
    at = split_point(f, int(size * PARENT_SHARE))
    if not 0 < at < size:
        return None
    lines = 0
    with open(f.path, "rb") as fh:
        for start in (0, at):
            fh.seek(start)
            first = fh.readline(limit + 2)
            if not first.endswith(b"\n") and b"\r" in first:
                return None
        fh.seek(0)
        left = at
        while left > 0:
            piece = fh.read(min(left, 1 << 24))
            if not piece:
                return None  # the file shrank: read in one process
            lines += piece.count(b"\n")
            left -= len(piece)
    return Split(at, lines)


@dataclass(slots=True)
class _PartDone:
    """What the second process sends back: its counts (its text is in the temporary files)."""

    lines: int
    records: int
    rejects: int


def _open_temp() -> IO[str]:
    """An unlinked temporary text file: any text, lone surrogates included, comes back as it went in."""
    return tempfile.TemporaryFile("w+", encoding="utf-8", errors="surrogatepass", newline="")


def _second_part(_emit: Any, f: LogFile, split: Split, tz: Any, limit: int, fmt: str, columns: list[str],
                 out: IO[str], rejects: IO[str] | None) -> _PartDone:
    """The second process: the part of ``f`` from ``split`` parsed, its records written to ``out`` in ``fmt``
    and its rejects to ``rejects`` (JSON lines; None: among the records, as REJECT rows in their places, as one
    process writes them), a piece of records at a time."""
    from .errors import InputError

    summary = FileSummary(str(f.path), f.kind)
    rows: list[dict[str, Any]] = []

    def flush() -> None:
        if fmt == "jsonl":
            write_jsonl(rows, out)
        else:  # csv: the rows without the header (written once, by this process's writer)
            buf = io.StringIO()
            write_csv(rows, buf, columns)
            text = buf.getvalue()
            out.write(text[text.index("\n") + 1 :])
        rows.clear()

    try:
        for item in iter_file(f, summary, tz, limit, split.at, split.lines):
            if isinstance(item, Reject) and rejects is not None:
                rejects.write(json_line(to_row(item)) + "\n")
                continue
            rows.append(to_row(item))  # without --rejects a reject is a REJECT row in its place, as in one process
            if len(rows) >= PIECE_RECORDS:
                flush()
        flush()
        out.flush()
        if rejects is not None:
            rejects.flush()
    except OSError as exc:  # the temporary files (reading errors are rejects)
        raise InputError(
            f"the second process reading {f.path} could not write its output to the temporary folder "
            f"({exc.strerror or exc}); free room there (TMPDIR), or run with IMSVALOG_WORKERS=1"
        ) from None
    return _PartDone(summary.lines, summary.records, summary.rejects)


def _copy(src: IO[str], write: Callable[[str], Any]) -> None:
    """``src`` from its start, written in pieces of whole lines (``write`` may restore paths line by line)."""
    src.seek(0)
    while lines := src.readlines(COPY_CHARS):
        write("".join(lines))


def parse_in_two(
    f: LogFile, split: Split, summary: FileSummary, tz: Any, limit: int, fmt: str, columns: list[str],
    out: IO[str], rout: IO[str] | None,
) -> Iterator[Any]:
    """The items of ``f``'s first part, parsed by this process, as :func:`~imsvalog.readers.iter_file` gives
    them (write each record before asking for the next: the second part's text follows the last one); then the
    second process's records are written to ``out`` and its rejects to ``rout`` (None: they are among its records), as text."""
    from .errors import InputError
    from .workers import StreamedPart

    with _open_temp() as part_out, (_open_temp() if rout is not None else contextlib.nullcontext()) as part_rejects:
        worker = StreamedPart.start(str(f.path), _second_part, f, split, tz, limit, fmt, columns, part_out, part_rejects)
        if worker is None:  # no fork here: one process
            yield from iter_file(f, summary, tz, limit)
            return
        try:
            items = iter_file(f, summary, tz, limit)
            n = 0
            for item in items:
                yield item
                if isinstance(item, Reject) and item.reason.startswith(_UNREADABLE):
                    return  # the file cannot be read on: its end, as in one process
                n += 1
                if n == split.lines:
                    break
            items.close()  # type: ignore[attr-defined]  # a generator
            if n < split.lines:
                raise InputError(f"{f.path}: the file changed while it was read; run again")
            (done,) = worker
        finally:
            worker.close()
        summary.lines += done.lines
        summary.records += done.records
        summary.rejects += done.rejects
        _copy(part_out, out.write)
        if rout is not None and part_rejects is not None:
            _copy(part_rejects, rout.write)


#: how :func:`~imsvalog.readers.unreadable_rest` starts its reason
_UNREADABLE = (UNREADABLE_REST, UNREADABLE_START, UNCHECKED_END)
