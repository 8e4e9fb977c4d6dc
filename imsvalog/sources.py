"""Find IMSVA log files and read their lines, with provenance.

Accepts any mix of file paths, globs and directories.  A directory is searched
recursively for files whose names say what they are (a Case Diagnostic Tool
bundle unpacked: ``IMSVA/LogFile/Event3/log.imss.*``, ``IMSVA/Logfile/Event5/maillog*``).
A file named on its own whose name says nothing is recognised from its first
lines.  Files are read as bytes, never written; gzip is detected by its magic
bytes, whatever the name.

Rotated files are ordered by kind, date and sequence number so that a scan that
crosses a rotation reads in order:

>>> [f.name for f in sort_files([
...     LogFile(Path("log.imss.20190430.0002.gz"), "imss"),
...     LogFile(Path("log.imss.20190430.0001"), "imss"),
...     LogFile(Path("log.imss.20190429.0007"), "imss")])]
['log.imss.20190429.0007', 'log.imss.20190430.0001', 'log.imss.20190430.0002.gz']
"""

from __future__ import annotations

import contextlib
import errno
import glob
import gzip
import hashlib
import io
import itertools
import os
import stat
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

from . import bundles, syslog
from .errors import InputError, ReadError

#: Kinds of log, in the order files of different kinds are read.
KINDS: tuple[str, ...] = ("imss", "polevt", "msgtra", "maillog")

KIND_NAMES = {
    "imss": "log.imss",
    "polevt": "polevt.imss",
    "msgtra": "msgtra.imss",
    "maillog": "maillog",
}
#: why a file found in a folder or bundle is passed over (the only "other file" of :func:`what_was_found`)
NOT_A_LOG_NAME = "name is not that of an IMSVA log"

_NAME_RE = re.compile(
    r"(?P<kind>log\.imss|polevt\.imss|msgtra\.imss|maillog)"
    r"(?:[.\-_](?P<date>[0-9]{8}))?"
    r"(?:\.(?P<seq>[0-9]{1,6}))?"
    r"(?:\.gz)?$",
    re.IGNORECASE,
)
_KIND_OF_NAME = {"log.imss": "imss", "polevt.imss": "polevt", "msgtra.imss": "msgtra", "maillog": "maillog"}
_GLOB_CHARS = re.compile(r"[*?\[]")
_GZIP_MAGIC = b"\x1f\x8b"
CHUNK_SIZE = 1 << 22

#: Longest line read as a line (bytes, without its line ending).  A real IMSVA line is at
#: most a few hundred KB; a longer one (a gzip bomb of NUL bytes, a corrupt file) becomes
#: one reject holding its first :data:`LONG_LINE_HEAD` bytes and its full length, and
#: memory stays bounded by this.  ``parse --max-line-length`` changes it.
MAX_LINE_BYTES = 1 << 20
#: how much of an over-long line is kept in its reject
LONG_LINE_HEAD = 1024


class LongLine(str):
    """The head of a line longer than the limit; ``length`` is the line's full length in bytes.

    Readers turn it into a reject, never into a record.
    """

    length: int
    limit: int

    def __new__(cls, head: str, length: int, limit: int) -> LongLine:
        self = super().__new__(cls, head)
        self.length = length
        self.limit = limit
        return self

    def __getnewargs__(self) -> tuple[str, int, int]:  # pickled with its length (a reject sent by a worker process)
        return str(self), self.length, self.limit

    @property
    def reason(self) -> str:
        return (
            f"line of {self.length:,} bytes, over the limit of {self.limit:,} (--max-line-length); "
            f"only its first {min(self.length, LONG_LINE_HEAD):,} bytes are kept"
        )


@dataclass(frozen=True, slots=True)
class LogFile:
    """One input file and what kind of log it holds."""

    path: Path
    kind: str
    date: str | None = None
    seq: int | None = None
    #: the bundle member this is (``path`` is then its label, ``BUNDLE!MEMBER``)
    member: bundles.Member | None = None
    #: which appliance wrote it: bundle (and appliance folder) or syslog host; None for loose files
    appliance: str | None = None
    #: a file of syslog-forwarded lines: the host and kind read from it (see :mod:`imsvalog.syslog`)
    syslog: syslog.View | None = None
    #: maillog: a log.imss line of the same appliance (its time gives year and zone), and where it is
    reference: tuple[datetime, str] | None = None
    #: files given whose bytes are this one's: not read (:func:`discover` reads one of them, the first given)
    copies: tuple[LogFile, ...] = ()

    @property
    def name(self) -> str:
        return self.path.name

    def __str__(self) -> str:
        return str(self.path)


@dataclass(slots=True)
class Discovery:
    """The files found for a list of paths, and the ones passed over (with why)."""

    files: list[LogFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: what is read twice perhaps: a log of one appliance that is the start of another's, both read (see :func:`discover`)
    notes: list[str] = field(default_factory=list)


def kind_from_name(name: str) -> tuple[str, str | None, int | None] | None:
    """``(kind, date, seq)`` when the file name says what the file is, else None.

    >>> kind_from_name("polevt.imss.20190430.0001")
    ('polevt', '20190430', 1)
    >>> kind_from_name("maillog.2")
    ('maillog', None, -2)
    >>> kind_from_name("notes.txt") is None
    True
    """
    m = _NAME_RE.search(name)
    if not m:
        return None
    kind = _KIND_OF_NAME[m["kind"].lower()]
    seq = int(m["seq"]) if m["seq"] else None
    if kind == "maillog" and seq is not None:
        # maillog.1 is newer than maillog.2: read the larger number first
        seq = -seq
    return kind, m["date"], seq


def sniff_kind(path: Path) -> str | None:
    """Recognise a log kind from the first lines of a file whose name says nothing."""
    from .grammars import sniff  # grammars know their own line prefixes

    try:
        with open_binary(path) as fh:
            head = fh.read(8192)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile):
        return None
    every = [ln.rstrip(b"\r").decode("utf-8", "surrogateescape") for ln in head.split(b"\n")]
    if syslog.sniff(every):  # any IMSVA line in the head, though other programs' lines come first
        return "syslog"  # IMSVA logs forwarded by syslog: split into views by discover()
    lines = every[:5]
    return sniff([ln for ln in lines if ln.strip()])


def _forwarded(path: Path, head: int = 1 << 16) -> bool:
    """Whether the first ``head`` bytes of a file hold IMSVA lines forwarded by syslog."""
    try:
        with open_binary(path) as fh:
            data = fh.read(head)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile):
        return False
    return b".imss" in data and syslog.sniff(
        ln.rstrip(b"\r").decode("utf-8", "surrogateescape") for ln in data.split(b"\n")
    )


def sort_key(f: LogFile) -> tuple:
    undated = f.date is None
    return (KINDS.index(f.kind), f.appliance or "", undated, f.date or "", f.seq is None, f.seq or 0, f.name)


def sort_files(files: Iterable[LogFile]) -> list[LogFile]:
    """Order by kind, then date, then rotation number (files without a date last: they are current)."""
    return sorted(files, key=sort_key)


def _log_file(path: Path, forced_kind: str | None, explicit: bool | None) -> LogFile | str:
    """A LogFile, or the reason the path is passed over."""
    named = kind_from_name(path.name)
    date = seq = None
    if named:
        kind, date, seq = named
    else:
        kind = None
    if kind is None and explicit is False:
        return NOT_A_LOG_NAME
    if forced_kind:
        kind = forced_kind
    elif kind == "maillog" and _forwarded(path):
        # a syslog server's maillog that also holds IMSVA lines forwarded to it (log.imss:, polevt.imss:, ...):
        # unwrapped into its streams like any forwarded file, Postfix lines staying maillog
        kind = "syslog"
    elif kind is None:
        kind = sniff_kind(path)
        if kind is None:
            if explicit is None:
                return "neither its name nor its first lines are those of an IMSVA log"
            raise InputError(
                f"{path}: cannot tell what kind of log this is from its name or first lines; "
                f"use --kind ({'|'.join(KINDS)})"
            )
    if not os.access(path, os.R_OK):
        if explicit is False:
            return "file is not readable"
        raise InputError(f"{path}: file is not readable")
    return LogFile(path, kind, date, seq)


def discover(paths: Iterable[str | os.PathLike[str]], kind: str | None = None, read_once: bool = True) -> Discovery:
    """Expand paths, globs and directories into ordered :class:`LogFile` entries.

    Logs of the same kind and the same bytes (a rotated file copied under another number, a bundle given with the
    folder it was unpacked to) are read once, the first given (``read_once``; redaction copies every one of them):
    the others are passed over, said with the name read, and kept in its :attr:`LogFile.copies`.

    Raises :class:`InputError` for a path that does not exist, a glob that matches
    nothing, an unreadable file, or a named file whose kind cannot be told.
    """
    if kind is not None and kind not in KINDS:
        raise InputError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    found: dict[Path, LogFile] = {}
    result = Discovery()
    listings: dict[Path, bundles.Listing] = {}
    files_seen: dict[tuple[int, int], Path] = {}  # (st_dev, st_ino) -> the first name a file was given by
    for raw in paths:
        text = os.fspath(raw)
        p = Path(text)
        inside = None if p.exists() else _in_bundle(text)
        if inside is not None:  # BUNDLE!MEMBER (or BUNDLE!FOLDER), as records name their file
            if inside[0] not in listings:
                listings[inside[0]] = bundles.list_bundle(inside[0])
            if not _add_bundle(inside[0], kind, found, result, listings[inside[0]], only=text):
                raise InputError(f"{text}: no such member in {inside[0]}{_escape_hint(inside[0], inside[1], listings[inside[0]])}")
            continue
        if p.exists():
            candidates = [(p, True)]
        elif _GLOB_CHARS.search(text):
            matched = sorted(glob.glob(text, recursive=True))
            if not matched:
                raise InputError(f"{text}: no file matches this pattern")
            # what a glob matches is taken like a directory's files: logs by name, others sniffed
            candidates = [(Path(m), None) for m in matched]
        elif os.path.islink(text):
            raise InputError(f"{text}: {not_regular(p)}")
        else:
            raise InputError(f"{text}: no such file or directory")
        for cand, explicit in candidates:  # explicit: True named, None globbed, False in a directory
            if cand.is_dir():
                for sub in sorted(cand.rglob("*")):
                    if sub.is_file():
                        if _read_already(sub, files_seen, result):
                            continue
                        before = len(found)
                        if bundles.is_bundle_name(sub.name):
                            _add_bundle(sub, kind, found, result)
                        else:
                            _add(sub, kind, False, found, result)
                        _taken(sub, len(found) > before, files_seen)
                    elif not sub.is_dir():
                        result.skipped.append((str(sub), f"not a regular file: {not_regular(sub)}"))
            elif cand.is_file():
                if _read_already(cand, files_seen, result):
                    continue
                # a zip by its magic bytes is a bundle, unless its name says it is a log (then
                # its bytes are log lines, however odd: every line a record or a reject)
                before = len(found)
                if bundles.is_bundle_name(cand.name) or (
                    explicit and kind is None and kind_from_name(cand.name) is None and bundles.looks_like_bundle(cand)
                ):
                    _add_bundle(cand, kind, found, result)
                else:
                    _add(cand, kind, explicit, found, result)
                _taken(cand, len(found) > before, files_seen)
            elif explicit is None:  # matched by a glob: report it, read the rest
                result.skipped.append((str(cand), f"not a regular file: {not_regular(cand)}"))
            else:
                raise InputError(f"{cand}: not a regular file: {not_regular(cand)}")
    bundles.verify_password([f.member for f in sort_files(found.values()) if f.member is not None])
    given = _beside_logs(list(found.values()))
    files, merged = _read_once(given, result) if read_once else (given, set())
    result.files = _with_references(sort_files(_named_by_host(_distinct_appliances(sort_files(files), merged))))
    return result


#: bytes hashed first of files of the same kind and size; the whole file only when those are the same too
_HEAD_BYTES = 1 << 16


def _stored_size(f: LogFile) -> int | None:
    """The bytes a file holds as stored (a gzip's compressed bytes; a member's as its archive gives them)."""
    if f.syslog is not None:
        return None  # one of several streams of one file
    if f.member is not None:
        return f.member.size
    try:
        return f.path.stat().st_size
    except OSError:
        return None


def _digest(f: LogFile, limit: int | None = None, unpacked: bool = False) -> bytes | None:
    """A hash of the file's stored bytes (the first ``limit`` of them; ``unpacked``: of its bytes once decompressed,
    streamed); None when it cannot be read through."""
    h = hashlib.blake2b(digest_size=20)
    left = limit
    try:
        with (open_log(f) if unpacked else f.member.open() if f.member is not None else open(f.path, "rb")) as fh:
            while left is None or left > 0:
                chunk = fh.read(1 << 20 if left is None else min(1 << 20, left))
                if not chunk:
                    break
                h.update(chunk)
                if left is not None:
                    left -= len(chunk)
    except (OSError, EOFError, InputError, ValueError):
        return None
    return h.digest()


def _read_once(files: list[LogFile], result: Discovery) -> tuple[list[LogFile], set[str | None]]:
    """Files of the same kind whose stored bytes are the same (a rotated file copied under another number, a bundle
    given with the folder it was unpacked to): the first given is read, the others are passed over (said with the
    name read) and kept in its :attr:`LogFile.copies`. Only files of the same size are hashed (their first 64 KiB,
    then the whole only when those match): files that differ cost a ``stat``. Empty files are never copies.

    The same logs are the same appliance's: the other files of an appliance (a folder, a bundle) some of whose logs
    are copies of another's (a folder holding the unpacked bundle and one rotation more) are read as that other
    appliance's (the names it was given are returned), so its streams are not cut in two."""
    by_size: dict[tuple[str, int], list[LogFile]] = {}
    for f in files:
        size = _stored_size(f)
        if size:
            by_size.setdefault((f.kind, size), []).append(f)
    kept: dict[LogFile, LogFile] = {}  # a copy -> the file read instead
    # each pass reads its files in the order given (a bundle's members in the archive's order: read on from the one
    # before, not from the archive's start, see bundles._Cursor); the copies are then found group by group, as before
    heads = {f: _digest(f, _HEAD_BYTES) for f in files if len(by_size.get((f.kind, _stored_size(f) or 0), ())) > 1}
    groups = []
    for (_, size), same in by_size.items():
        alike: dict[bytes, list[LogFile]] = {}
        for f in same if len(same) > 1 else ():
            if (head := heads[f]) is not None:
                alike.setdefault(head, []).append(f)
        groups += [(size, head, fs) for head, fs in alike.items() if len(fs) > 1]
    again = {f for size, _, fs in groups if size > _HEAD_BYTES for f in fs}  # else the head was all of it
    wholes = {f: _digest(f) for f in files if f in again}
    for size, head, same in groups:
        whole: dict[bytes, LogFile] = {}
        for f in same:
            d = wholes[f] if size > _HEAD_BYTES else head
            if d is None:
                continue
            if d in whole:
                kept[f] = whole[d]
            else:
                whole[d] = f
    _gzipped_copies(files, kept)
    grown = _grown_copies(files, kept)
    kept.update((c, f) for c, f in grown.items() if c.appliance == f.appliance)
    across = {c: f for c, f in grown.items() if c.appliance != f.appliance}
    if not kept and not across:
        return files, set()
    into: dict[str | None, set[str | None]] = {}
    for a, b in _one_appliance(files, kept, across):
        into.setdefault(a, set()).add(b)
    rename = {a: next(iter(b)) for a, b in into.items() if len(b) == 1 and not (b & into.keys())}
    # a log of one appliance that is the start of another's is a copy only where the two are one (else both are read)
    for c, f in across.items():
        if rename.get(c.appliance, c.appliance) == rename.get(f.appliance, f.appliance):
            kept[c] = f
        else:
            result.notes.append(
                f"{f.path} begins with all {_stored_size(c):,} bytes of {c.path}: both are read, as two appliances' "
                "(no log of the same bytes proves them one), so if they are one appliance collected twice, the lines "
                "of the shorter count twice (give the later collection alone)")
    of: dict[LogFile, list[LogFile]] = {}
    pairs = Counter((where(c), where(f)) for c, f in kept.items() if not grew(c, f))
    for c, f in kept.items():
        of.setdefault(f, []).append(c)
        w = (where(c), where(f))
        result.skipped.append((str(c.path), f"{same_as(c, f)}, which is read instead"
                               if w[0] == w[1] or pairs[w] < 2 or grew(c, f)
                               else f"the same bytes as a log in {w[1]}: read once, from there"))
    out = []
    for f in files:
        if f in kept:
            continue
        if f in of:
            f = replace(f, copies=tuple(of[f]))
        out.append(replace(f, appliance=rename[f.appliance]) if f.appliance in rename else f)
    return out, set(rename.values())


def same_as(copy: LogFile, read: LogFile) -> str:
    """``the same bytes as X`` (``the same lines as X, once decompressed`` for a gzip and a plain file; ``the first N
    bytes of X`` for a copy taken before X grew, :func:`_grown_copies`)."""
    if gzipped(copy) != gzipped(read):
        return f"the same lines, once decompressed, as {read.path}"
    if grew(copy, read):
        return f"the first {_stored_size(copy):,} bytes of {read.path} (a copy taken before it grew)"
    return f"the same bytes as {read.path}"


def grew(copy: LogFile, read: LogFile) -> bool:
    """Whether ``copy`` (one of ``read``'s :attr:`LogFile.copies`) is the start of it, taken before it grew
    (:func:`_grown_copies`), not the same bytes."""
    size, longer = _stored_size(copy), _stored_size(read)
    return size is not None and longer is not None and size < longer and gzipped(copy) == gzipped(read)


def gzipped(f: LogFile) -> bool:
    """Whether a file on disk (not a bundle member) is a gzip, by its magic bytes."""
    if f.member is not None or f.syslog is not None:
        return False
    try:
        with open(f.path, "rb") as fh:
            return fh.read(2) == _GZIP_MAGIC
    except OSError:
        return False


def _gzipped_copies(files: list[LogFile], kept: dict[LogFile, LogFile]) -> None:
    """A gzip file on disk whose lines are a plain file's of the same kind under another number (``.0001`` and a
    ``.0002.gz`` made of it):
    the first given is read, the other is a copy (added to ``kept``). Only where the gzip's trailer gives the plain
    file's size (ISIZE, mod 2**32) are the two compared: the first 64 KiB, then the whole, decompressed as it streams
    (memory stays bounded, and the time is that of reading it once)."""
    plain: dict[tuple[str, int], list[LogFile]] = {}
    packed: list[tuple[LogFile, int]] = []
    for f in files:
        if f in kept or f.member is not None or f.syslog is not None:
            continue
        try:
            with open(f.path, "rb") as fh:
                if fh.read(2) != _GZIP_MAGIC:
                    if (size := fh.seek(0, 2)) > 0:
                        plain.setdefault((f.kind, size % (1 << 32)), []).append(f)
                elif fh.seek(0, 2) >= 18:
                    fh.seek(-4, 2)
                    if (isize := int.from_bytes(fh.read(4), "little")) > 0:
                        packed.append((f, isize))
        except OSError:
            continue
    order = {id(f): i for i, f in enumerate(files)}
    for g, isize in packed:
        # under its own number: said as one rotation given twice (rotation.repeats), both read as before
        alike = [p for p in plain.get((g.kind, isize), ()) if p not in kept and (p.date, p.seq) != (g.date, g.seq)]
        if not alike:
            continue
        head = _digest(g, _HEAD_BYTES, unpacked=True)
        alike = [p for p in alike if head is not None and _digest(p, _HEAD_BYTES) == head]
        whole = _digest(g, unpacked=True) if alike else None
        for p in alike:
            if whole is not None and _digest(p) == whole:
                first, other = (p, g) if order[id(p)] < order[id(g)] else (g, p)
                kept[other] = first
                break


def _packed(f: LogFile) -> bool:
    """A gzip, by its magic bytes on disk or its name in a bundle."""
    return f.name.endswith(".gz") or gzipped(f)


def _grown_copies(files: list[LogFile], kept: dict[LogFile, LogFile]) -> dict[LogFile, LogFile]:
    """The logs (not gzips: a gzip does not grow) whose stored bytes are the start of a longer one's of the same kind
    and name (the live file of one appliance collected twice: a bundle, then a folder taken later), each with the
    longest such one: that one is to be read, the shorter is its copy. Only where the shorter holds a line that begins
    with a time. The files of one name are compared by their first bytes, as many as the shortest holds (at most 64
    KiB); only those alike are read on, each once, in the order given (a bundle's members in its archive's order),
    hashed up to the size of each shorter one (two appliances' logs differ in their first line)."""
    from .rotation import first_time  # rotation reads files this module finds

    named: dict[tuple[str, str], list[tuple[int, LogFile]]] = {}
    for f in files:
        if f not in kept and f.syslog is None and (size := _stored_size(f)) and not _packed(f):
            named.setdefault((f.kind, f.name), []).append((size, f))
    limit = {f: min(_HEAD_BYTES, *(size for size, _ in same)) for same in named.values()
             if len({size for size, _ in same}) > 1 for _, f in same}
    heads = {f: _digest(f, limit[f]) for f in files if f in limit}
    alike: dict[tuple[str, str, bytes], list[tuple[int, LogFile]]] = {}
    for key, same in named.items():
        for size, f in same:
            if (head := heads.get(f)) is not None:
                alike.setdefault((*key, head), []).append((size, f))
    groups = [sorted(g, key=lambda sf: -sf[0]) for g in alike.values() if len({size for size, _ in g}) > 1]
    at: dict[LogFile, set[int]] = {}  # the sizes each file is hashed up to: those of the shorter ones beside it
    for g in groups:
        for i, (size, f) in enumerate(g):
            at[f] = {s for s, _ in g[i:] if s > limit[f]}
    hashed = {f: _prefix_digests(f, at[f]) for f in files if at.get(f)}
    grown: dict[LogFile, LogFile] = {}
    for g in groups:
        for i, (size, short) in enumerate(g):
            longer = next((f for s, f in g[:i] if s > size and (size <= limit[short] or (
                (mine := hashed.get(short, {}).get(size)) is not None and hashed.get(f, {}).get(size) == mine))), None)
            if longer is not None and first_time(short) is not None:
                grown[short] = longer
    return grown


def _prefix_digests(f: LogFile, sizes: set[int]) -> dict[int, bytes]:
    """Hashes of the file's first ``n`` stored bytes for each ``n`` in ``sizes`` (read once, streamed); those it does
    not reach (it cannot be read so far) are left out."""
    h = hashlib.blake2b(digest_size=20)
    out: dict[int, bytes] = {}
    marks = sorted(sizes)
    done = 0
    try:
        with f.member.open() if f.member is not None else open(f.path, "rb") as fh:
            for mark in marks:
                while done < mark and (chunk := fh.read(min(1 << 20, mark - done))):
                    h.update(chunk)
                    done += len(chunk)
                if done < mark:
                    break
                out[mark] = h.copy().digest()
    except (OSError, EOFError, InputError, ValueError):
        pass
    return out


def _one_appliance(files: list[LogFile], kept: dict[LogFile, LogFile],
                   grown: dict[LogFile, LogFile] | None = None) -> set[tuple[str | None, str | None]]:
    """The pairs ``(a, b)`` of appliances that are certainly one (a bundle and the folder it was unpacked to, or one
    collected later): every file name both hold is read once for the two (a file of ``a`` and ``b``'s single file of
    that name hold the same bytes, or one holds the start of the other: ``grown``, a live log that grew), a rotation
    is not given under two names (``.0001`` in one, ``.0001.gz`` in the other: both would be read), and one of the
    files of the same bytes holds a line that begins with a time (a file of NUL bytes, or one line both machines
    wrote, proves nothing; nor does the start of another log). ``a`` is the appliance more of whose files are passed
    over for ``b``'s. Two appliances that merely share a file (a copy, or the same bytes by chance) stay two: only
    that file is read once."""
    from .rotation import first_time  # rotation reads files this module finds

    grown = grown or {}

    def read(f: LogFile, links: dict[LogFile, LogFile]) -> LogFile:
        while f in links:
            f = links[f]
        return f

    both = {**grown, **kept}
    names: dict[str | None, dict[str, list[LogFile]]] = {}
    for f in files:
        names.setdefault(f.appliance, {}).setdefault(f.name, []).append(f)
    links = Counter((c.appliance, f.appliance) for c, f in kept.items() if c.appliance != f.appliance)
    out = set()
    for a, b in links:
        if (b, a) in out or links[(b, a)] > links[(a, b)] or links[(b, a)] == links[(a, b)] and str(a) < str(b):
            continue  # the other way round: a's files are read more (or as much: one way, whichever)
        common = names.get(a, {}).keys() & names.get(b, {}).keys()
        if not common or any(len(names[b][n]) != 1 for n in common):
            continue
        rotations = {n.removesuffix(".gz") for n in names.get(a, {})} & {n.removesuffix(".gz") for n in names[b]}
        if len(rotations) != len({n.removesuffix(".gz") for n in common}):
            continue  # one rotation under two names (plain and gzipped): it would be read twice as one appliance's
        pairs = [(x, names[b][n][0]) for n in common for x in names[a][n]]
        if all(read(x, both) is read(y, both) for x, y in pairs) and any(
                read(x, kept) is read(y, kept) and first_time(read(x, kept)) is not None for x, y in pairs):
            out.add((a, b))
    return out


def where(f: LogFile) -> str:
    """Where a file was given, in words: the unpacked bundle's folder it lies in (also a bundle of older logs
    there), else its bundle on disk, else its folder."""
    path = f.member.bundle if f.member is not None else f.path
    folder = bundles.unpacked_folder(path.as_posix())
    if folder is not None and (f.member is None or _folder_of_bundle(f.member)):
        return folder
    return str(f.member.bundle) if f.member is not None else str(f.path.parent)


def _origin(f: LogFile) -> str | None:
    """Where a file's appliance stream comes from: the bundle on disk (resolved), or the unpacked folder."""
    if f.member is not None:
        return _folder_of_bundle(f.member) or str(f.member.bundle.resolve())
    if f.appliance is not None and f.syslog is None:
        folder = bundles.appliance_folder(f.path.resolve().as_posix())
        return folder or None
    return None


def _distinct_appliances(files: list[LogFile], merged: Iterable[str | None] = ()) -> list[LogFile]:
    """Bundles (or unpacked bundles) of the same name in different folders are different appliances:
    their names get the parent folder in front (``x/CDT-20190430-000000``), else the full folder (not those
    ``merged``: one appliance's logs given in two places, some the same, :func:`_read_once`)."""
    merged = set(merged)
    origins: dict[str, set[str]] = {}
    for f in files:
        o = _origin(f)
        if f.appliance is not None and o is not None and f.appliance not in merged:
            origins.setdefault(f.appliance, set()).add(o)
    clashing = {a for a, o in origins.items() if len(o) > 1}
    if not clashing:
        return files

    def labels(a: str, o: str) -> list[str]:
        """Ever longer names: the parent folder in front, the bundle's full name, the whole path."""
        p = Path(o)
        stem = bundles.bundle_stem(p.name)
        rest = a[len(stem):] if a.startswith(stem) else "/" + a
        return [f"{p.parent.name}/{a}", p.name + rest, str(p) + rest]

    names: dict[tuple[str, str], str] = {}
    for a in clashing:
        for level in range(3):
            chosen = {o: labels(a, o)[level] for o in origins[a]}
            if len(set(chosen.values())) == len(chosen) or level == 2:
                break
        for o, name in chosen.items():
            names[(a, o)] = name
    out = []
    for f in files:
        o = _origin(f)
        key = (f.appliance or "", o or "")
        out.append(replace(f, appliance=names[key]) if key in names else f)
    return out


def not_regular(path: Path) -> str:
    """What a path that is neither a regular file nor a folder is, in words."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if os.path.islink(path):
            return "a symbolic link that loops" if exc.errno == errno.ELOOP else "a symbolic link to nothing"
        return exc.strerror or "cannot be read"
    if stat.S_ISFIFO(st.st_mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(st.st_mode):
        return "a socket"
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        return "a device"
    return "not a regular file"


def _with_references(files: list[LogFile]) -> list[LogFile]:
    """Give each maillog a log.imss line of its appliance near its date: syslog times have no year or zone,
    and the same host writes both (FORMATS.md, "Postfix maillog around IMSVA")."""
    imss_of: dict[str | None, list[LogFile]] = {}
    for f in files:
        if f.kind == "imss":
            imss_of.setdefault(f.appliance, []).append(f)
    cache: dict[LogFile, tuple[datetime, str] | None] = {}
    out = []
    for f in files:
        candidates = imss_of.get(f.appliance) if f.kind == "maillog" else None
        if candidates:
            # the log.imss file of the maillog's date (else the latest dated one, else the current file)
            chosen = min(candidates, key=lambda c: (abs(int(c.date or "0") - int(f.date or "99999999")), c.date is None))
            if chosen not in cache:
                cache[chosen] = _first_time(chosen)
            if cache[chosen] is not None:
                f = replace(f, reference=cache[chosen])
        out.append(f)
    return out


def _first_time(f: LogFile) -> tuple[datetime, str] | None:
    """The time of the first parsable line among a log.imss file's first lines, and where it is."""
    from .grammars import imss
    from .grammars.common import ParseFailure

    with contextlib.suppress(OSError, EOFError, zlib.error, ReadError):
        for lineno, text in itertools.islice(iter_lines(f), 50):
            try:
                t = imss.parse(text)[1].get("time")
            except ParseFailure:
                continue
            if isinstance(t, datetime) and t.tzinfo is not None:
                return t, f"{f.path}:{lineno}"  # the whole provenance: BUNDLE!member:line for a member
    return None


def _named_by_host(files: list[LogFile]) -> list[LogFile]:
    """Appliances of bundles and unpacked bundles named by their host (from their maillog's first lines).

    Two bundles of the same host keep their bundle name beside it, so they stay apart.
    """
    from .grammars import maillog

    hosts: dict[str, str] = {}
    for f in files:
        if f.appliance is None or f.syslog is not None or f.kind != "maillog" or f.appliance in hosts:
            continue
        with contextlib.suppress(OSError, EOFError, zlib.error, ReadError, StopIteration):
            for _, text in itertools.islice(iter_lines(f), 5):
                m = maillog.SYSLOG_PREFIX.re.match(text) or maillog.ISO_PREFIX.re.match(text)
                if m:
                    hosts[f.appliance] = m["host"]
                    break
    if not hosts:
        return files
    taken = Counter(hosts.values())
    names = {a: (h if taken[h] == 1 else f"{h} ({a})") for a, h in hosts.items()}
    return [replace(f, appliance=names[f.appliance]) if f.appliance in names else f for f in files]


def what_was_found(files: Iterable[LogFile], skipped: Iterable[tuple[str, str]]) -> str:
    """What the inputs hold, in words, for an error that a needed kind is missing.

    Files passed over for their name are counted; anything else that was not read (a
    bundle that does not open, a link not followed) is named with the reason, since
    the needed files may be in it.

    >>> what_was_found([LogFile(Path("maillog"), "maillog")], [("a.zip!ReadmeFirst.txt", NOT_A_LOG_NAME)])
    'found 1 maillog file and 1 other file'
    >>> what_was_found([], [("t.zip!CDT.zip", "cannot read this archive: Truncated ZIP file header")])
    'found 0 other files; not read: t.zip!CDT.zip (cannot read this archive: Truncated ZIP file header)'
    """
    from collections import Counter as _Counter

    kinds = _Counter(KIND_NAMES[f.kind] for f in files)
    skipped = list(skipped)
    others = sum(1 for _, why in skipped if why == NOT_A_LOG_NAME)
    unread = [f"{label} ({why})" for label, why in skipped if why != NOT_A_LOG_NAME]
    parts = [f"{n} {k} file{'s' if n != 1 else ''}" for k, n in kinds.items()]
    if others or not parts:
        parts.append(f"{others} other file{'s' if others != 1 else ''}")
    said = "found " + " and ".join(parts)
    if unread:
        more = f" and {len(unread) - 3} more" if len(unread) > 3 else ""
        said += "; not read: " + "; ".join(unread[:3]) + more
    return said


#: how a member's name is written in a BUNDLE!MEMBER path (bundles.label_part), in words
_ESCAPE_RULE = "a member's name holding ! or # is written with %21 and %23, and its % then as %25; other names as they are"
_UNESCAPE = re.compile(r"%2[135]", re.IGNORECASE)


def _raw(label_rest: str) -> str:
    """A member path's names as the archive holds them, joined by ``!`` (escapes undone; one-to-one: a name
    written as it is never holds %21 %23 %25)."""
    return _UNESCAPE.sub(lambda m: {"1": "!", "3": "#", "5": "%"}[m.group()[2]], label_rest)


def _escape_hint(bundle: Path, rest: str, listing: bundles.Listing) -> str:
    """What is true of a member path that names no member: the member or folder it most likely means (the same
    names written another way, or with a trailing ``/``), else how ``!`` and ``#`` in a name are written when the
    path holds them outside a nested archive's separator, else which members a nested archive named holds."""
    prefix = f"{bundle}!"
    labels = [m.label for m in listing.members] + [label for label, _ in listing.skipped]
    shown: dict[str, str] = {}  # raw form -> label (members, and their folders)
    for label in labels:
        if not label.startswith(prefix):
            continue
        inner = label[len(prefix):]
        shown.setdefault(_raw(inner), label)
        cut = inner.rfind("/")
        while cut > 0:
            shown.setdefault(_raw(inner[:cut]), prefix + inner[:cut])
            cut = inner.rfind("/", 0, cut)
    wanted = rest.rstrip("/")
    for form in dict.fromkeys((wanted, _raw(wanted))):
        if form in shown:
            why = []
            if rest != wanted:
                why.append("a folder is named without a trailing /")
            if shown[form][len(prefix):] != wanted:
                why.append(_ESCAPE_RULE if _raw(wanted) == wanted else "a name holding no ! or # is written as it is, "
                           "its % too")
            return f"; did you mean {shown[form]} ({'; '.join(why)})?"
    # a ! after the name of a nested archive is its separator; any other ! or a # is part of a name
    nested = [p for p in (rest[:i] for i, c in enumerate(rest) if c == "!") if _raw(p) in {
        _raw(label[len(prefix):].split("!")[0]) for label in labels if label.startswith(prefix) and "!" in label[len(prefix):]}]
    if "#" in rest or rest.count("!") > len(nested):
        return f"; {_ESCAPE_RULE} (as parse and correlate name members)"
    if nested:
        inside = sorted(label[len(prefix) + len(nested[-1]) + 1:] for label in labels
                        if label.startswith(prefix + nested[-1] + "!"))
        if inside:
            more = f" and {len(inside) - 5} more" if len(inside) > 5 else ""
            return f"; the nested archive {prefix}{nested[-1]} holds {', '.join(inside[:5])}{more}"
    return ""


def _in_bundle(text: str) -> tuple[Path, str] | None:
    """``(bundle, rest)`` for a path such as ``CDT.zip!IMSVA/LogFile/Event3/log.imss.x`` whose bundle exists."""
    cut = text.find("!")
    while cut != -1:
        bundle = Path(text[:cut])
        if bundle.is_file() and bundles.looks_like_bundle(bundle):
            return bundle, text[cut + 1:]
        cut = text.find("!", cut + 1)
    return None


def _add_bundle(
    path: Path, kind: str | None, found: dict, result: Discovery,
    listing: bundles.Listing | None = None, only: str | None = None,
) -> int:
    """The logs in a bundle (with ``only``: under that member path), recognised by their names
    (folder names in any case); others passed over.  Returns how many members were taken or passed over."""
    listing = listing or bundles.list_bundle(path)
    seen = 0
    for label, why in listing.skipped:
        if only is None or label == only or label.startswith((only + "/", only + "!")):
            result.skipped.append((label, why))
            seen += 1
    for m in listing.members:
        label = m.label
        if only is not None and not (label == only or label.startswith((only + "/", only + "!"))):
            continue
        seen += 1
        if label in found:
            continue
        named = kind_from_name(m.name)
        if named is None:
            result.skipped.append((label, NOT_A_LOG_NAME))
            continue
        k, date, seq = named
        folder = _folder_of_bundle(m)
        found[label] = LogFile(Path(label), kind or k, date, seq, member=m, appliance=Path(folder).name if folder else m.appliance)
    return seen


def _beside_logs(files: list[LogFile]) -> list[LogFile]:
    """A bundle of older rotations (no CDT bundle, nothing inside naming an appliance: ``rotated.tar.gz``) that lies
    beside logs given as files of one appliance (an Event3 folder given alone, a flat folder of a ticket) holds that
    appliance's older logs: its members are read as theirs, not as an appliance named after the bundle."""
    beside: dict[Path, set[str | None]] = {}
    for f in files:
        if f.member is None and f.syslog is None:
            with contextlib.suppress(OSError):
                beside.setdefault(f.path.parent.resolve(), set()).add(f.appliance)
    if not beside:
        return files
    out = []
    for f in files:
        m = f.member
        if (m is not None and f.appliance == m.appliance == bundles.bundle_stem(m.bundle.name)
                and bundles.cdt_date(m.bundle.name) is None):
            with contextlib.suppress(OSError):
                near = beside.get(m.bundle.parent.resolve())
                if near is not None and len(near) == 1:
                    f = replace(f, appliance=next(iter(near)))
        out.append(f)
    return out


def _folder_of_bundle(m: bundles.Member) -> str:
    """The unpacked bundle a bundle on disk lies in (``NAME/IMSVA/LogFile/Event3/rotated.tar.gz``), when its member
    belongs to it: the member's appliance is the bundle's own (nothing inside names another: no CDT bundle, no
    ``IMSVA/LogFile`` folder) and the bundle is not a CDT bundle itself. Its logs are then that folder's appliance's,
    as when the CDT zip is read whole (``rotated.tar.gz`` of older rotations is no appliance named "rotated")."""
    if m.appliance != bundles.bundle_stem(m.bundle.name) or bundles.cdt_date(m.bundle.name) is not None:
        return ""
    return bundles.appliance_folder(m.bundle.resolve().as_posix())


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None  # reported where it is opened
    return st.st_dev, st.st_ino


def _read_already(path: Path, seen: dict[tuple[int, int], Path], result: Discovery) -> bool:
    """True when ``path`` is a file (log or bundle) already taken under another name (the same ``st_dev`` and
    ``st_ino``). A hard link's name is said as passed over, with the name that is read; the same file reached
    again by its own path or a symbolic link (a file and its folder, ``a`` and ``./a``) is passed over silently."""
    key = _inode(path)
    first = seen.get(key) if key is not None else None
    if first is None:
        return False
    if first.resolve() != path.resolve():  # two names of one inode: a hard link (on the way)
        result.skipped.append((str(path), f"the same file as {first} (a hard link): read once, under that name"))
    return True


def _taken(path: Path, added: bool, seen: dict[tuple[int, int], Path]) -> None:
    """Remember a file that gave logs (a file passed over, e.g. for its name in a folder, may still be taken
    when it is named on its own)."""
    key = _inode(path)
    if added and key is not None:
        seen.setdefault(key, path)


def _add(path: Path, kind: str | None, explicit: bool | None, found: dict, result: Discovery) -> None:
    key = path.resolve()
    if key in found:
        return
    got = _log_file(path, kind, explicit)
    if isinstance(got, str):
        result.skipped.append((str(path), got))
    elif got.kind == "syslog":
        _add_forwarded(got, key, found, result)
    else:
        folder = bundles.appliance_folder(key.as_posix())  # an unpacked bundle: .../NAME/IMSVA/LogFile/...
        found[key] = replace(got, appliance=Path(folder).name) if folder else got


def _add_forwarded(f: LogFile, key: Path, found: dict, result: Discovery) -> None:
    """A file of syslog-forwarded lines: one stream per (host, kind), the host as appliance."""
    base = replace(f, kind="imss")
    try:
        c = syslog.census(iter_lines(base))
    except ReadError as exc:
        raise InputError(str(exc)) from None
    for view in syslog.views(c):
        found[(key, view)] = replace(f, kind=view.kind, appliance=view.host or None, syslog=view)
    if c.others:
        programs = ", ".join(f"{p} ({n})" for p, n in c.others.most_common())
        result.skipped.append((str(f.path), f"{sum(c.others.values())} forwarded lines of other programs not read: {programs}"))


def open_binary(path: Path) -> BinaryIO:
    """Open for reading bytes; gzip is recognised by its magic bytes."""
    fh = open(path, "rb")
    if fh.peek(2)[:2] == _GZIP_MAGIC:  # held to --max-member-size/--max-total-size like a bundle member
        return bundles.bounded(gzip.GzipFile(fileobj=fh, mode="rb"), str(path))  # type: ignore[arg-type]
    return fh


def open_log(f: LogFile) -> BinaryIO:
    """Open a log file or bundle member for reading bytes; gzip is recognised by its magic bytes."""
    if f.member is None:
        return open_binary(f.path)
    fh = f.member.open()
    if fh.peek(2)[:2] == _GZIP_MAGIC:
        return bundles.bounded(gzip.GzipFile(fileobj=fh, mode="rb"), f.member.label)  # type: ignore[arg-type]
    return fh


def decode(raw: bytes) -> str:
    """Bytes of one line (ending removed) to text; never raises, never loses a byte."""
    return raw.decode("utf-8", "surrogateescape")


def _strip_eol(raw: bytes) -> bytes:
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    return raw


def _read_error(f: LogFile, lineno: int, exc: Exception, raw: bytes = b"") -> ReadError:
    from .blocks import WholeUnchecked

    return ReadError(str(f.path), lineno, str(exc) or type(exc).__name__, decode(raw), isinstance(exc, WholeUnchecked))


class _Salvage(io.RawIOBase):
    """A gzip stream that, when the compressed data ends early or goes bad, gives every
    byte that could be decompressed and then ends, keeping the error in ``error``.

    Its bytes come from :func:`imsvalog.blocks.gzip_pieces`, as correlate's blocks do: every reader reads the
    same lines of a damaged gzip, each up to the byte where the data went bad.  (Read through a stream that
    raises, the error would take the bytes of the cut last line with it: a buffered ``readline`` drops what
    it had gathered.)
    """

    def __init__(self, pieces: Iterator[bytes], under: BinaryIO) -> None:
        super().__init__()
        self._pieces, self._under = pieces, under
        self._buf = memoryview(b"")
        self.error: Exception | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:  # type: ignore[override]
        while not self._buf:
            if self.error is not None:
                return 0
            try:
                self._buf = memoryview(next(self._pieces))
            except StopIteration:
                return 0
            except (OSError, EOFError, zlib.error) as exc:
                self.error = exc
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        with contextlib.suppress(OSError):
            close = getattr(self._pieces, "close", None)
            if close is not None:
                close()
            self._under.close()
        super().close()


def _open_salvaging(f: LogFile) -> tuple[BinaryIO, _Salvage | None]:
    """Like :func:`open_log`, but a gzip stream is a :class:`_Salvage` (also returned)."""
    fh = f.member.open() if f.member is not None else open(f.path, "rb")
    try:
        if fh.peek(2)[:2] != _GZIP_MAGIC:
            return fh, None
    except BaseException:
        fh.close()
        raise
    from .blocks import gzip_pieces

    # pieces of a line reader's buffer (memory stays small); read1: a member whose read fails at its end (a zip CRC)
    # gives the bytes before it (a read(n) that fails loses all it had gathered)
    salvage = _Salvage(gzip_pieces(fh, piece=1 << 17, read=fh.read1), fh)
    stream: BinaryIO = io.BufferedReader(salvage, 1 << 17)  # type: ignore[assignment]
    # a gzip bomb, in a bundle or not, stops at --max-member-size/--max-total-size
    stream = bundles.bounded(stream, str(f.path), 1 << 17)
    return stream, salvage


class _CutLine(Exception):
    """The last line was cut by a stream that ended early: its readable bytes."""

    def __init__(self, raw: bytes) -> None:
        super().__init__()
        self.raw = raw


def iter_lines(
    f: LogFile, max_line: int | None = None, on_note: Callable[[str], None] | None = None, start: int = 0, lineno: int = 0
) -> Iterator[tuple[int, str]]:
    """``(line_number, text)`` for every line of the file, 1-based, streaming.

    CR before LF is stripped; a cut-off last line (no final newline) is still a line.
    A file whose lines end in CR alone (its first line, read up to the limit, has a
    CR and no LF) is split at CR and ``on_note`` is told.  A line longer than
    ``max_line`` bytes (default :data:`MAX_LINE_BYTES`) comes as a :class:`LongLine`
    holding its head and length; memory stays bounded by the limit.  A compressed
    file that ends early raises :class:`~imsvalog.errors.ReadError` after the lines
    that could be read.  ``start``, ``lineno``: a plain file from byte ``start`` (a line start
    that is not the file's first), its lines numbered after ``lineno``.
    """
    limit = MAX_LINE_BYTES if max_line is None else max_line
    if limit < 1:
        raise InputError(f"line length limit must be at least 1 byte, not {limit}")
    if f.syslog is not None:
        yield from syslog.select(f.syslog, iter_lines(replace(f, syslog=None), max_line=max_line, on_note=on_note))
        return
    try:
        fh, salvage = _open_salvaging(f)
        with fh:
            if start:
                fh.seek(start)
            for raw in _bounded_lines(fh, limit, on_note, salvage):
                lineno += 1
                yield lineno, raw if isinstance(raw, LongLine) else decode(raw)
        if salvage is not None and salvage.error is not None:
            raise _read_error(f, lineno, salvage.error)
    except _CutLine as cut:
        assert salvage is not None and salvage.error is not None
        raise _read_error(f, lineno, salvage.error, cut.raw) from None
    except (OSError, EOFError, zlib.error) as exc:
        raise _read_error(f, lineno, exc) from None


def _bounded_lines(
    fh: BinaryIO, limit: int, on_note: Callable[[str], None] | None = None, salvage: _Salvage | None = None
) -> Iterator[bytes | LongLine]:
    """Lines without their endings; a line over ``limit`` bytes as a :class:`LongLine`.

    A last line without an ending from a stream that ended early (``salvage.error``)
    raises :class:`_CutLine` with its bytes instead.
    """
    readline = partial(fh.readline, limit + 2)  # C speed; never more than limit + 2 bytes
    first = readline()
    if first and not first.endswith(b"\n") and b"\r" in first:
        if on_note is not None:
            on_note("lines end in CR alone (no LF): split at CR")
        yield from _split_blocks(fh, b"\r", limit, first)
        return
    for raw in chain((first,) if first else (), iter(readline, b"")):
        line = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1] if raw.endswith((b"\n", b"\r")) else raw
        if salvage is not None and _cut(salvage.error) and not raw.endswith(b"\n") and len(raw) <= limit:
            raise _CutLine(raw)
        if len(line) <= limit:
            yield line
        else:
            yield _long_line(raw, fh.readline, limit)


def _cut(error: Exception | None) -> bool:
    """Did ``error`` end the stream before its last line was whole (not a gzip whose only fault is its trailer)?"""
    from .blocks import WholeUnchecked

    return error is not None and not isinstance(error, WholeUnchecked)


def _long_line(first: bytes, readline: Callable[[int], bytes], limit: int) -> LongLine:
    """Consume the rest of an over-long line in bounded pieces; its head and full length."""
    length = 0
    piece, prev = first, b""
    while piece:
        length += len(piece)
        if piece.endswith(b"\n"):
            length -= 2 if piece.endswith(b"\r\n") or (piece == b"\n" and prev.endswith(b"\r")) else 1
            break
        prev, piece = piece, readline(limit + 2)
    return LongLine(decode(first[: min(LONG_LINE_HEAD, length)]), length, limit)


def _split_blocks(fh: BinaryIO, eol: bytes, limit: int, prefix: bytes = b"") -> Iterator[bytes | LongLine]:
    """Lines ending in ``eol`` read in blocks (for CR-only files); bounded like :func:`_bounded_lines`."""
    carry = b""
    over = 0  # > 0: the current line is over the limit; its length so far
    head = b""
    pending = prefix
    while True:
        block, pending = (pending, b"") if pending else (fh.read(CHUNK_SIZE), b"")
        if not block:
            break
        start = 0
        while True:
            i = block.find(eol, start)
            piece = block[start:] if i == -1 else block[start:i]
            if over:
                over += len(piece)
            elif len(carry) + len(piece) > limit:
                head = (carry + piece[:LONG_LINE_HEAD])[:LONG_LINE_HEAD]
                over = len(carry) + len(piece)
                carry = b""
            else:
                carry += piece
            if i == -1:
                break
            if over:
                yield LongLine(decode(head), over, limit)
                over = 0
            else:
                yield carry
                carry = b""
            start = i + 1
    if over:
        yield LongLine(decode(head), over, limit)
    elif carry:
        yield carry


@dataclass(slots=True)
class ScanStats:
    """What :func:`iter_matching_lines` saw: all lines, and bytes read so far."""

    lines: int = 0
    bytes: int = 0


def iter_matching_lines(
    f: LogFile, needles: Sequence[bytes], stats: ScanStats | None = None, chunk_size: int = CHUNK_SIZE
) -> Iterator[tuple[int, str]]:
    """``(line_number, text)`` for the lines that contain any of ``needles``, and nothing else.

    Reads big blocks and finds each needle with ``bytes.find`` (C speed, the grep
    way), so lines that need no structure cost almost nothing.  Line numbers are
    exact; ``stats.lines`` counts every line, matched or not.
    """
    stats = stats if stats is not None else ScanStats()
    if f.syslog is not None:  # forwarded lines: unwrap each, then look
        yield from _matching_forwarded(f, [n.decode("utf-8", "surrogateescape") for n in needles], stats)
        return
    carry = b""
    lineno = 1  # number of the first line in the current block
    try:
        fh, salvage = _open_salvaging(f)  # a gzip cut short gives the lines before the break, then the error
        with fh:
            while True:
                block = fh.read(chunk_size)
                if not block:
                    break
                stats.bytes += len(block)
                buf = carry + block if carry else block
                cut = buf.rfind(b"\n") + 1
                if cut == 0:
                    carry = buf
                    continue
                carry = buf[cut:]
                yield from _scan_block(buf, cut, lineno, needles)
                n = buf.count(b"\n", 0, cut)
                lineno += n
                stats.lines += n
            if carry and (salvage is None or not _cut(salvage.error)):  # a last line cut by the break is no line
                stats.lines += 1
                yield from _scan_block(carry + b"\n", len(carry) + 1, lineno, needles)
        if salvage is not None and salvage.error is not None:
            raise _read_error(f, stats.lines, salvage.error)
    except (OSError, EOFError, zlib.error) as exc:
        raise _read_error(f, stats.lines, exc) from None


def _matching_forwarded(f: LogFile, needles: list[str], stats: ScanStats) -> Iterator[tuple[int, str]]:
    for lineno, text in iter_lines(f):
        stats.lines += 1
        stats.bytes += len(text) + 1
        if any(n in text for n in needles):
            yield lineno, text


def _scan_block(buf: bytes, end: int, lineno: int, needles: Sequence[bytes]) -> Iterator[tuple[int, str]]:
    starts: set[int] = set()
    find, rfind = buf.find, buf.rfind
    for needle in needles:
        i = find(needle, 0, end)
        while i != -1:
            s = rfind(b"\n", 0, i) + 1
            starts.add(s)
            e = find(b"\n", i, end)
            i = find(needle, e + 1, end)
    counted_to = 0
    for s in sorted(starts):
        lineno += buf.count(b"\n", counted_to, s)
        counted_to = s
        e = find(b"\n", s, end)
        yield lineno, decode(_strip_eol(buf[s:e]))


def file_size(f: LogFile) -> int:
    """Uncompressed size: a bundle member's, a gzip file's (its trailer), a file's on disk; 0 when unknown.

    Progress counts uncompressed bytes, so totals must too (a bar must not run past 100%).
    """
    if f.member is not None:  # a gzip member's own size is its compressed size: unknown then (by name or content)
        if f.name.lower().endswith(".gz") or bundles.is_gzipped(f.member) is not False:
            return 0
        return f.member.size or 0
    try:
        size = f.path.stat().st_size
        if size >= 18:
            with open(f.path, "rb") as fh:
                if fh.read(2) == _GZIP_MAGIC:
                    fh.seek(-4, os.SEEK_END)
                    isize = int.from_bytes(fh.read(4), "little")  # uncompressed size mod 2**32
                    # deflate stores at worst ~1.13 bytes a byte (fixed codes) plus headers: data this small
                    # cannot fill the file; past 4 GiB the trailer wraps: the smallest size that fits
                    while isize < (size - 1024) / 1.13:
                        isize += 1 << 32
                    # deflate packs at most 1032 bytes into one: more is no size (a file cut short ends in
                    # data, not its trailer: 525 bytes read as 4.3 GB)
                    return isize if isize <= 1032 * size + 1024 else 0
        return size
    except OSError:
        return 0


__all__ = [
    "KINDS",
    "KIND_NAMES",
    "LogFile",
    "Discovery",
    "ScanStats",
    "discover",
    "sort_files",
    "kind_from_name",
    "sniff_kind",
    "iter_lines",
    "LongLine",
    "MAX_LINE_BYTES",
    "LONG_LINE_HEAD",
    "iter_matching_lines",
    "open_binary",
    "open_log",
    "decode",
    "file_size",
]
