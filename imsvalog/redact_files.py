"""Redacting files: which inputs go where (:func:`plan`), the first pass that learns a case
(:func:`learn`), and the copies (:func:`redact_files`, :func:`redacted_inputs` for ``--redact``).

The pseudonyms and the line-by-line rewriting are :class:`imsvalog.redact.Redactor`'s.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import os
import re
import shutil
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .redact import Redactor
from .sources import LogFile, discover, open_binary, open_log

@dataclass(frozen=True)
class Planned:
    """One input (a file, or a bundle member: ``log``) and the file its redacted copy goes to."""

    source: Path
    target: Path
    kind: str  # imss | polevt | msgtra | maillog | syslog | message | trusted
    gzipped: bool
    log: LogFile | None = None

    def open(self) -> Any:
        if self.log is not None and self.log.member is not None:
            return open_log(self.log)
        return open_binary(self.source)

    def mtime_ns(self) -> int | None:
        if self.log is not None and self.log.member is not None:
            m = self.log.member.mtime
            return None if m is None else int(m * 1e9)
        return self.source.stat().st_mtime_ns


_BUNDLE_EXT = re.compile(r"\.(zip|tar\.gz|tgz|tar|7z|tar\.bz2|tar\.xz)$", re.IGNORECASE)


def safe_part(part: str) -> str:
    """One path component of a member name, made harmless to write under a folder: ``..``, a
    drive letter and backslashes are percent-encoded (``%2E%2E``, ``C%3A``, ``%5C``; ``%`` itself
    becomes ``%25``); ``.`` and empty parts (``./x``, a leading ``/``) are dropped by the caller."""
    text = part.replace("%", "%25").replace("\\", "%5C").replace(":", "%3A").replace("\0", "%00")
    return "%2E%2E" if text == ".." else text


def member_path(f: LogFile) -> tuple[Path, Path]:
    """A bundle member's bundle on disk, and the path it takes once unpacked:
    ``CDT-x.zip!IMSVA/LogFile/Event3/log.imss...`` -> ``CDT-x/IMSVA/LogFile/Event3/log.imss...``
    (a nested bundle becomes a folder named like it, without its extension). The member's own
    names never leave that folder: see :func:`safe_part`."""
    assert f.member is not None
    chain = list(f.member.chain)
    parts = [_BUNDLE_EXT.sub("", f.member.bundle.name)]
    for c in [_BUNDLE_EXT.sub("", c) for c in chain[:-1]] + [chain[-1]]:
        parts += [safe_part(p) for p in c.split("/") if p not in ("", ".")]
    if f.member.occurrence:  # the second entry of one name in a zip (``...#2``): a folder of its own, nothing lost
        parts[-1:] = [f"{parts[-1]}#{f.member.occurrence + 1}", parts[-1]]
    return f.member.bundle, Path(*parts)


def _check_inside(target: Path, folder: Path) -> None:
    """Refuse a target that (through ``..`` or a link) would be written outside ``folder``."""
    from .outputs import OutputError

    if not target.resolve().is_relative_to(folder.resolve()):
        raise OutputError(f"{target}: refusing to write outside {folder}")


def _distinct(target: Path, source: str, seen: dict[Path, str]) -> Path | None:
    """``target``, or ``name#2``... when another input (``./x`` and ``x`` in one archive) already
    goes there; None when this very input is already planned (a syslog file's views)."""
    candidate, n = target, 1
    while candidate in seen:
        if seen[candidate] == source:
            return None
        n += 1
        candidate = target.with_name(f"{target.name}#{n}")
    seen[candidate] = source
    return candidate


def _member_gzipped(f: LogFile) -> bool:
    assert f.member is not None
    with f.member.open() as fh:
        return fh.peek(2)[:2] == b"\x1f\x8b"


@dataclass
class FileReport:
    source: str
    target: str
    kind: str
    lines: int = 0
    error: str | None = None


@dataclass
class RedactReport:
    files: list[FileReport] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    key_origin: str = ""


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _looks_like_message(path: Path) -> bool:
    try:
        with open_binary(path) as fh:
            first = fh.readline(4096)
    except OSError:
        return False
    return bool(re.match(rb"[!-9;-~]+:", first.lstrip(b"\r\n"))) and not first.startswith(b"From ")



def plan(
    paths: Sequence[str | os.PathLike[str]],
    to: str | os.PathLike[str],
    trusted_files: Sequence[str | os.PathLike[str]] = (),
    key_file: str | os.PathLike[str] | None = None,
    redactor: Redactor | None = None,
) -> tuple[list[Planned], list[tuple[str, str]]]:
    """Every input file (and bundle member) and its target under ``to``, mirroring the inputs'
    layout below their common folder; a bundle's members go to a folder named like the bundle.
    With ``redactor``, the folder and file names below ``to`` are redacted
    (:meth:`Redactor.path_part`: domains as in the logs; kinds, dates and IMSVA's folders kept).

    Raises :class:`InputError` (before anything is written) when ``to`` is or holds an input,
    when a target would be read as an input (:mod:`imsvalog.outputs`), or already exists.
    """
    from .outputs import Inputs, OutputError, check_key_file

    logs: list[tuple[Path, str, LogFile | None]] = []
    skipped: list[tuple[str, str]] = []
    found_files: list[LogFile] = []
    for p in paths:
        path = Path(p)
        if path.is_file() and not _log_name(path) and _looks_like_message(path):
            logs.append((path, "message", None))
            continue
        d = discover([p], read_once=False)
        found_files += d.files
        logs += [(f.path, "syslog" if f.syslog is not None else f.kind, f) for f in d.files]
        skipped += d.skipped
    logs += [(Path(t), "trusted", None) for t in trusted_files]
    for path, _, f in logs:
        if f is None or f.member is None:
            if not path.is_file():
                raise InputError(f"{path}: no such file")
    if not logs:
        raise InputError("no log files among the inputs")
    inputs = Inputs.of(paths, found_files, extra=[p for p, k, _ in logs if k in ("message", "trusted")])
    check_key_file(key_file, inputs)  # the key would be copied (or read) as a log
    why = inputs.why_not_folder(to)
    if why is not None:
        raise OutputError(f"{to}: refusing to write here: it {why}; input files are only read")
    out = Path(to).resolve()
    on_disk: list[tuple[Path, Path, str, LogFile | None]] = []  # (file on disk, path below the common folder, ...)
    for path, kind, f in logs:
        if f is not None and f.member is not None:
            bundle, inside = member_path(f)
            on_disk.append((bundle.resolve(), inside, kind, f))
        else:
            on_disk.append((path.resolve(), Path(path.name), kind, f))
    base = Path(os.path.commonpath([str(d.parent) for d, _, _, _ in on_disk]))
    seen: dict[Path, str] = {}
    planned = []
    for disk, inside, kind, f in on_disk:
        label = str(f.path) if f is not None else str(disk)
        target = _distinct(out / disk.parent.relative_to(base) / inside, label, seen)
        if target is None:
            continue
        if f is not None and f.member is not None:
            planned.append(Planned(f.path, target, kind, _member_gzipped(f), f))
        else:
            planned.append(Planned(f.path if f is not None else disk, target, kind, _is_gzip(disk), f))
    if redactor is not None:
        planned = _redacted_names(redactor, planned, out)
    for one in planned:
        _check_inside(one.target, out)
        why = inputs.why_input(one.target)
        if why is not None:
            raise OutputError(f"{one.target}: refusing to write here: it {why}; input files are only read")
    exists = [str(x.target) for x in planned if x.target.exists()]
    if exists:
        more = f" (and {len(exists) - 1} more)" if len(exists) > 1 else ""
        raise InputError(f"{exists[0]}{more}: already exists; redact writes new files only (choose an empty --to folder)")
    return planned, skipped


def _redacted_names(r: Redactor, planned: list[Planned], out: Path) -> list[Planned]:
    """``planned`` with every folder and file name below ``out`` redacted; two that meet get ``#2``."""
    seen: dict[Path, str] = {}
    renamed = []
    for p in planned:
        parts = p.target.relative_to(out).parts
        target = out.joinpath(*(r.path_part(x, i == len(parts) - 1) for i, x in enumerate(parts)))
        got = _distinct(target, str(p.target), seen)
        assert got is not None  # every planned target is distinct
        renamed.append(dataclasses.replace(p, target=got))
    return renamed


def log_arguments(paths: Sequence[str | os.PathLike[str]]) -> list[str]:
    """The paths that are logs, folders, globs or bundles (not messages)."""
    out = []
    for p in paths:
        path = Path(p)
        if not (path.is_file() and not _log_name(path) and _looks_like_message(path)):
            out.append(os.fspath(p))
    return out


def _log_name(path: Path) -> bool:
    from .sources import kind_from_name

    return kind_from_name(path.name) is not None


def _raw_lines(p: Planned) -> Iterator[bytes]:
    with p.open() as fh:
        yield from fh


def _split_eol(raw: bytes) -> tuple[str, bytes]:
    body = raw
    eol = b""
    if body.endswith(b"\n"):
        body, eol = body[:-1], b"\n"
        if body.endswith(b"\r"):
            body, eol = body[:-1], b"\r\n"
    return body.decode("utf-8", "surrogateescape"), eol


def _redacted_lines(r: Redactor, p: Planned, report: FileReport | None = None) -> Iterator[bytes]:
    """The redacted lines of one file as bytes, line endings as they were."""

    def texts() -> Iterator[tuple[str, bytes]]:
        n = 0
        try:
            for raw in _raw_lines(p):
                n += 1
                yield _split_eol(raw)
        except (OSError, EOFError, zlib.error) as exc:
            if report is not None:
                report.error = f"line {n + 1} onwards unreadable ({exc}); not copied"

    if p.kind == "message":
        pairs = list(texts())
        for (_, eol), out in zip(pairs, r.message_lines([t for t, _ in pairs]), strict=True):
            yield out.encode("utf-8", "surrogateescape") + eol
        if report is not None:
            report.lines = len(pairs)
        return
    if p.kind == "trusted":
        for t, eol in texts():
            outs = list(r.trusted_lines([t]))
            for i, o in enumerate(outs):
                yield o.encode("utf-8", "surrogateescape") + (eol if i == len(outs) - 1 else (eol or b"\n"))
            if report is not None:
                report.lines += 1
        return
    redact_line = r.line_function(p.kind)
    n = 0
    for t, eol in texts():
        yield redact_line(t).encode("utf-8", "surrogateescape") + eol
        n += 1
    if report is not None:
        report.lines += n


#: what a log.imss line must hold for the first pass to learn anything from it
_LEARN_IMSS = (b"received header", b"Message-ID", b"Accept connection")


def learn(r: Redactor, planned: Sequence[Planned]) -> None:
    """First pass: see every domain, subject and attachment name of the case, so that text of no
    known shape anywhere in it can be searched for them."""
    r.learning = True
    try:
        for p in planned:
            if p.kind == "imss":  # most of a debug log is free text: nothing there to learn
                with contextlib.suppress(OSError, EOFError, zlib.error):  # the copy says where it could not be read
                    with p.open() as fh:
                        for raw in fh:
                            if any(k in raw for k in _LEARN_IMSS):
                                r.imss_line(_split_eol(raw)[0])
                continue
            for _ in _redacted_lines(r, p):
                pass
    finally:
        r.learning = False
    r.frozen = True


def redact_files(
    paths: Sequence[str | os.PathLike[str]],
    to: str | os.PathLike[str],
    redactor: Redactor,
    trusted_files: Sequence[str | os.PathLike[str]] = (),
    on_file: Callable[[Planned], None] | None = None,
) -> RedactReport:
    """Write a redacted copy of every log (and trusted-list / message file) under ``to``.

    Same layout below the inputs' common folder, names redacted (:meth:`Redactor.path_part`: log
    kinds, dates, extensions and IMSVA's folders kept), gzip stays gzip, line
    endings and modification times are kept (maillog's year may come from it).
    Every input is resolved and every target checked before anything is written;
    each file is written to a temporary name and renamed. A run that fails or is interrupted
    (an error on a later file, Ctrl-C) removes the copies and folders it made: ``to`` is left as it was.
    """
    planned, skipped = plan(paths, to, trusted_files, redactor=redactor)  # the copies' names redacted
    learn(redactor, planned)
    report = RedactReport(skipped=skipped)
    made: list[Path] = []  # what this run made under (and as) ``to``: folders, then each file once it is in place
    try:
        for p in planned:
            if on_file is not None:
                on_file(p)
            fr = FileReport(str(p.source), str(p.target), p.kind)
            report.files.append(fr)
            made += _missing_folders(p.target.parent)
            p.target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".redact-", dir=p.target.parent)
            try:
                with os.fdopen(fd, "wb") as raw:
                    sink: Any = gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) if p.gzipped else raw
                    with sink if p.gzipped else contextlib.nullcontext(sink):
                        for b in _redacted_lines(redactor, p, fr):
                            sink.write(b)
                mtime = p.mtime_ns()
                if mtime is not None:
                    os.utime(tmp, ns=(mtime, mtime))
                os.chmod(tmp, 0o644)
                if p.target.exists():
                    raise InputError(f"{p.target}: appeared while redacting; not overwritten")
                made.append(p.target)
                os.replace(tmp, p.target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
    except BaseException:
        _undo(made)
        raise
    return report


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet, outermost first."""
    missing = []
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    return missing[::-1]


def _undo(made: list[Path]) -> None:
    """A failed or interrupted run leaves ``--to`` as it was: the copies it put in place and the folders it
    created go (newest first; a folder only when empty, so nothing another hand put there); Ctrl-C waits."""
    import signal
    import threading

    block = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM}) if block else None
    try:
        for path in reversed(made):
            with contextlib.suppress(OSError):
                if path.is_dir() and not path.is_symlink():
                    path.rmdir()
                else:
                    path.unlink()
    finally:
        if held is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


@contextlib.contextmanager
def redacted_inputs(
    paths: Sequence[str | os.PathLike[str]], redactor: Redactor, trusted_files: Sequence[str | os.PathLike[str]] = ()
) -> Iterator[tuple[list[str], list[str], Callable[[str], str]]]:
    """Redacted copies of ``paths`` in a temporary folder, for ``--redact`` on other commands.

    Yields the paths to give the command instead, the redacted trusted files, a function
    that turns the temporary paths in its output back into the paths as given (``BUNDLE!MEMBER``
    for a bundle's members), and one that names a path or bundle label as given the way the
    output names its copy (for notices written before the copies existed).
    """
    tmp = Path(tempfile.mkdtemp(prefix="imsvalog-redact-"))
    back: list[tuple[str, str]] = []  # temporary prefix -> prefix as given, most specific first

    def mirrored(text: str, is_file: bool = True) -> Path:
        """The copy's place: the path as given below the temporary folder, each folder and file name
        redacted as ``redact --to`` names its copies (:meth:`Redactor.path_part`), so that the paths the
        command shows (the given ones, once ``restore`` drops the temporary folder) name no one either."""
        if ".." in Path(text).parts:  # ``../x`` must not leave the temporary folder
            text = os.path.abspath(text)
        parts = Path(text.lstrip("/")).parts
        named = [redactor.path_part(x, is_file and i == len(parts) - 1) for i, x in enumerate(parts)]
        return tmp / (Path("a") if os.path.isabs(text) else Path("r")).joinpath(*named)

    try:
        planned: list[Planned] = []
        given: list[str] = []
        for p in paths:
            text = os.fspath(p)
            src = Path(text)
            if src.is_file() and not _log_name(src) and _looks_like_message(src):
                planned.append(Planned(src, mirrored(text), "message", _is_gzip(src)))
                given.append(str(mirrored(text)))
                continue
            files = discover([text], read_once=False).files
            if src.is_dir():
                given.append(str(mirrored(text, is_file=False)))
            for f in files:
                if f.member is not None:
                    bundle, inside = member_path(f)
                    root = mirrored(str(bundle))
                    inside = Path(*(redactor.path_part(x, i == len(inside.parts) - 1) for i, x in enumerate(inside.parts)))
                    planned.append(Planned(f.path, root.parent / inside, f.kind, _member_gzipped(f), f))
                    back.append((f"{root.parent / inside.parts[0]}/", f"{root}!"))
                    given.append(str(root.parent / inside.parts[0]))
                elif src.is_dir():
                    planned.append(Planned(f.path, mirrored(str(f.path)), f.kind, _is_gzip(f.path), f))
                else:
                    kind = "syslog" if f.syslog is not None else f.kind
                    planned.append(Planned(f.path, mirrored(str(f.path)), kind, _is_gzip(f.path), f))
                    given.append(str(mirrored(str(f.path))))
        trusted_given = []
        for t in trusted_files:
            text = os.fspath(t)
            planned.append(Planned(Path(text), mirrored(text), "trusted", _is_gzip(Path(text))))
            trusted_given.append(str(mirrored(text)))
        seen: dict[Path, str] = {}
        distinct = []
        for p in planned:  # a syslog file's views are one file; two members of one path are two
            target = _distinct(p.target, str(p.log.path if p.log is not None else p.source), seen)
            if target is not None:
                distinct.append(dataclasses.replace(p, target=target))
        planned = distinct
        learn(redactor, planned)
        for p in planned:
            _check_inside(p.target, tmp)
            p.target.parent.mkdir(parents=True, exist_ok=True)
            with open(p.target, "wb") as fh:
                for b in _redacted_lines(redactor, p):
                    fh.write(b)
            mtime = p.mtime_ns()
            if mtime is not None:
                os.utime(p.target, ns=(mtime, mtime))
        replacements = sorted(set(back), key=lambda x: -len(x[0])) + [(f"{tmp}/r/", ""), (f"{tmp}/a/", "/")]
        # a bundle's copy named as a folder (where its logs were given: 'the same bytes as logs in FOLDER'): the
        # bundle, as a member's path names it (FOLDER/x is BUNDLE!x); not a longer name that begins the same
        whole = [(re.compile(re.escape(old[:-1]) + r"(?=$|[\s:;,()'\"])"), new[:-1])
                 for old, new in sorted(set(back), key=lambda x: -len(x[0]))]

        def restore(text: str) -> str:
            for pattern, bundle in whole:
                text = pattern.sub(lambda _: bundle, text)
            for old, new in replacements:
                text = text.replace(old, new)
            return text

        def shown(label: str) -> str:
            """``BUNDLE`` or ``BUNDLE!NESTED...`` as given -> as the output names its copy."""
            outer, *inner = label.split("!")
            pieces = [p.split("/") for p in inner]
            return "!".join([restore(str(mirrored(outer)))] + [
                "/".join(redactor.path_part(x, i == len(parts) - 1) for i, x in enumerate(parts)) for parts in pieces])

        yield list(dict.fromkeys(given)), trusted_given, restore, shown
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
