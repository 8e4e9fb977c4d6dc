"""Safe output: inputs are only ever read, whatever the arguments.

Every command resolves all of its inputs first (paths, globs, folders, trusted
lists, messages) into one :class:`Inputs`, and only then opens its outputs
through this module:

* an output that *is* an input (the same file by device and inode, so hard
  links and symlinks count), or that *would be picked up as one* (a log-like
  name inside an input folder or matched by an input glob), is refused with
  :class:`OutputError` (exit status 2) before anything is written;
* a file is written to a temporary file beside the target and renamed into
  place only when the run succeeds, so a failed or interrupted run leaves an
  existing file untouched (devices and FIFOs such as ``/dev/stdout`` are written
  directly: they cannot be replaced);
* a write error (``/dev/full``, disk full, a closed pipe aside) is an
  :class:`OutputError` naming the path, never a traceback.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> log = d / "polevt.imss.20240312.0001"; _ = log.write_text("x\\n")
>>> inputs = Inputs.of([d], [log])
>>> inputs.why_input(log)
'is one of the input files'
>>> inputs.why_input(d / "log.imss.20990101.0001")
'is inside the input folder ... and named like a log, so it would be read as input'
>>> inputs.why_input(d / "report.csv") is None
True
>>> with output_file(d / "report.csv", inputs) as out:
...     _ = out.write("a,b\\n")
>>> (d / "report.csv").read_text()
'a,b\\n'
"""

from __future__ import annotations

import contextlib
import fnmatch
import glob
import os
import stat
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .errors import InputError
from .bundles import is_bundle_name
from .sources import kind_from_name

PathLike = str | os.PathLike[str]

#: suffix of the temporary files written beside a target (never a log-like name)
TEMP_SUFFIX = ".imsvalog-tmp"


class OutputError(InputError):
    """An output that may not or cannot be written: exit status 2 with a one-line message naming the path."""


def _file_id(path: PathLike) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _real(path: PathLike) -> str:
    return os.path.realpath(os.path.abspath(os.fspath(path)))


def _under(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or inside it (both real paths)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _parent_ids(path: PathLike) -> Iterator[tuple[str, tuple[int, int]]]:
    """The folders above ``path`` (nearest first, those that exist) with their device and inode:
    a bind mount or any other alias of a folder has another path but the same identity."""
    p = os.path.dirname(_real(path))
    while True:
        fid = _file_id(p)
        if fid is not None:
            yield p, fid
        up = os.path.dirname(p)
        if up == p:
            return
        p = up


def _is_log_like(name: str) -> bool:
    return kind_from_name(name) is not None or is_bundle_name(name)


#: the name standard input is shown under when it is a file read as input
STDIN = "standard input"


@dataclass(slots=True)
class Inputs:
    """Everything a run reads: files (by device and inode), folders searched (by device and
    inode too), glob patterns.

    Build it with :meth:`of` from the paths as given and the files they resolved to,
    before any output is opened.
    """

    files: dict[tuple[int, int], str] = field(default_factory=dict)
    folders: list[str] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)
    folder_ids: dict[tuple[int, int], str] = field(default_factory=dict)

    @classmethod
    def of(cls, paths: Iterable[PathLike] = (), files: Iterable[Any] = (), extra: Iterable[PathLike] = ()) -> Inputs:
        """``paths`` as typed (files, folders, globs; ``-`` is standard input), the files they
        resolved to (:class:`~imsvalog.sources.LogFile` or paths), and ``extra`` files read as
        well (a trusted list, a message)."""
        inputs = cls()
        for p in paths:
            text = os.fspath(p)
            if text == "-":
                inputs.add_stdin()
            elif os.path.isdir(text):
                inputs.add_folder(text)
            elif os.path.lexists(text):
                inputs.add_file(text)
            elif glob.has_magic(text):
                inputs.patterns.append(os.path.abspath(text))
        for f in files:
            member = getattr(f, "member", None)  # a bundle member: the bundle is the file read
            inputs.add_file(member.bundle if member is not None else getattr(f, "path", f))
        for p in extra:
            inputs.add_file(p)
        return inputs

    def add_file(self, path: PathLike) -> None:
        fid = _file_id(path)
        if fid is not None:
            self.files.setdefault(fid, os.fspath(path))

    def add_folder(self, path: PathLike) -> None:
        real = _real(path)
        self.folders.append(real)
        fid = _file_id(real)
        if fid is not None:
            self.folder_ids.setdefault(fid, real)

    def add_stdin(self) -> None:
        """Standard input is an input when it is a file (``< message.eml``): never write over it."""
        with contextlib.suppress(OSError, ValueError, AttributeError):
            st = os.fstat(sys.stdin.fileno() if sys.stdin is not None else 0)
            if stat.S_ISREG(st.st_mode):
                self.files.setdefault((st.st_dev, st.st_ino), STDIN)

    def why_input(self, path: PathLike) -> str | None:
        """Why writing ``path`` would touch an input, or None when it would not."""
        fid = _file_id(path)
        if fid is not None and fid in self.files:
            same = self.files[fid]
            if same == STDIN:
                return "is the file standard input reads from (an input)"
            if os.path.abspath(same) == os.path.abspath(os.fspath(path)):
                return "is one of the input files"
            return f"is the same file as the input {same} (a hard or symbolic link)"
        real = _real(path)
        name = os.path.basename(real)
        log_like = _is_log_like(name)
        if fid is not None and fid in self.folder_ids:
            return "is an input folder"
        for folder in self.folders:
            if real == folder:
                return "is an input folder"
            if log_like and _under(real, folder):
                return f"is inside the input folder {folder} and named like a log, so it would be read as input"
        if log_like:
            # the same folder under another path (a bind mount, an alias): compared by identity
            for parent, pid in _parent_ids(real):
                if pid in self.folder_ids:
                    folder = self.folder_ids[pid]
                    return (f"is inside the input folder {folder} (seen as {parent}) and named like a log, "
                            "so it would be read as input")
            for pattern in self.patterns:
                if fnmatch.fnmatch(real, _real(pattern)) or fnmatch.fnmatch(os.path.abspath(os.fspath(path)), pattern):
                    return f"matches the input pattern {pattern} and is named like a log, so it would be read as input"
                folder = os.path.dirname(pattern)
                if not glob.has_magic(folder) and fnmatch.fnmatch(name, os.path.basename(pattern)):
                    ffid = _file_id(folder)
                    if ffid is not None and ffid == _file_id(os.path.dirname(real)):
                        return f"matches the input pattern {pattern} and is named like a log, so it would be read as input"
        return None

    def why_not_folder(self, folder: PathLike) -> str | None:
        """Why ``folder`` may not receive output: it is or contains an input (else None)."""
        real = _real(folder)
        for f in self.folders:
            if _under(f, real):
                return "is an input folder" if f == real else f"contains the input folder {f}"
        for name in self.files.values():
            if name != STDIN and _under(_real(name), real):
                return f"contains the input {name}"
        fid = _file_id(real)
        if fid is not None:  # the same folder under another path (a bind mount, an alias)
            if fid in self.folder_ids:
                return f"is the input folder {self.folder_ids[fid]}"
            for name in [*self.folder_ids.values(), *(n for n in self.files.values() if n != STDIN)]:
                if any(pid == fid for _, pid in _parent_ids(name)):
                    return f"contains the input {name}"
        return None

    def why_key_file(self, key_file: PathLike) -> str | None:
        """Why ``key_file`` (the redaction key, secret) may not be used: it is, or would be
        read as, an input, so the key would end up in the output."""
        why = self.why_input(key_file)
        if why is not None:
            return why
        real = _real(key_file)
        for parent, _ in _parent_ids(real):
            if is_bundle_name(os.path.basename(parent)):
                return f"is inside the bundle {parent}"
        return None


def check_outputs(
    outputs: Sequence[PathLike | None], inputs: Inputs, folders: Sequence[tuple[PathLike | None, Iterable[str]]] = ()
) -> None:
    """Refuse (:class:`OutputError`) any output that is or would become an input, or that is given twice.

    ``folders`` are output folders with the names of the files they will receive (``--plot DIR``
    writes ``verdicts.png``, ...): an output file that one of them would replace is refused too.
    """
    seen: dict[str, str] = {}
    seen_ids: dict[tuple[int, int], str] = {}
    for folder, names in folders:
        if folder is None:
            continue
        for name in names:
            path = os.path.join(os.fspath(folder), name)
            seen[_real(path)] = f"a file the output folder {os.fspath(folder)} receives"
            fid = _file_id(path)
            if fid is not None:
                seen_ids[fid] = f"{path}, a file the output folder {os.fspath(folder)} receives"
    for out in outputs:
        if out is None:
            continue
        text = os.fspath(out)
        why = inputs.why_input(text)
        if why is not None:
            raise OutputError(f"{text}: refusing to write here: it {why}; input files are only read")
        if os.path.isdir(text):
            raise OutputError(f"{text}: is a directory; give a file name")
        real = _real(text)
        if real in seen:
            raise OutputError(f"{text}: given as two outputs (also as {seen[real]})")
        seen[real] = text
        fid = _file_id(text)
        if fid is not None:
            if fid in seen_ids:  # hard links to one file: the second would replace the first
                raise OutputError(f"{text}: given as two outputs (the same file as {seen_ids[fid]})")
            seen_ids[fid] = text
    check_stdout(inputs)


def check_key_file(key_file: PathLike | None, inputs: Inputs, outputs: Sequence[PathLike | None] = ()) -> None:
    """Refuse (:class:`OutputError`) a redaction key file that is or would be read as an input,
    or that is also an output: the secret key must never reach an output.  Call it before the
    key file is created (:func:`imsvalog.redact_keys.load_key` creates an absent one)."""
    if key_file is None:
        return
    text = os.fspath(key_file)
    why = inputs.why_key_file(text)
    if why is not None:
        raise OutputError(f"{text}: refusing this key file: it {why}; the key must never be read as a log")
    kid = _file_id(text)
    for out in outputs:
        if out is None:
            continue
        if _real(out) == _real(text) or (kid is not None and kid == _file_id(out)):
            raise OutputError(f"{text}: refusing this key file: it is also an output; the key must never be written over")


def check_stdout(inputs: Inputs) -> None:
    """Refuse a standard output redirected into an input file (``> DIR/log.imss...``):
    reading it would never end."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        st = os.fstat(sys.stdout.fileno())
        if stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) in inputs.files:
            same = inputs.files[(st.st_dev, st.st_ino)]
            what = "the file standard input reads from" if same == STDIN else f"the input {same}"
            raise OutputError(f"standard output: is {what}; input files are only read")


def write_error(name: str, exc: OSError) -> OutputError:
    """The one-line error for a failed write to ``name``."""
    return OutputError(f"{name}: cannot write: {exc.strerror or exc}")


class GuardedWriter:
    """A text stream whose write errors become :class:`OutputError` naming the path.

    A closed pipe stays :class:`BrokenPipeError` (the reader went away: not an error).
    """

    def __init__(self, fh: IO[str], name: str) -> None:
        self._fh = fh
        self.name = name

    def write(self, text: str) -> int:
        try:
            return self._fh.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise write_error(self.name, exc) from None

    def flush(self) -> None:
        try:
            self._fh.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise write_error(self.name, exc) from None

    def isatty(self) -> bool:
        return self._fh.isatty()

    def fileno(self) -> int:
        return self._fh.fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)


def silence_stdout() -> None:
    """Point standard output at /dev/null, so Python's exit flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


class GuardedStderr:
    """``sys.stderr`` that never raises. When a note cannot be written (``2>/dev/full``), or standard error was
    closed from the start (``2>&-``), :attr:`lost` says that notes were lost: the command then ends with status 2,
    an output error, instead of a traceback and status 1 (the rejects and warnings it owed reached no one). A
    reader that went away (``2>&1 | head``) is no error, as on standard output. Either way the stream is then
    pointed at /dev/null, so no later note, progress bar or exit flush fails again."""

    def __init__(self, stream: Any) -> None:
        self._closed = stream is None
        self._stream = open(os.devnull, "w") if stream is None else stream  # noqa: SIM115 - lives as long as we do
        #: written to /dev/null from now on (closed from the start, broken, or its reader gone)
        self._gone = self._closed
        self.lost = False

    def _broken(self, exc: BaseException) -> None:
        self.lost = self.lost or not isinstance(exc, BrokenPipeError)
        self._gone = True
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)

    def write(self, text: str) -> int:
        if self._gone:
            self.lost = self.lost or (self._closed and bool(text))
            return len(text)
        try:
            return int(self._stream.write(text))
        except (OSError, ValueError) as exc:
            self._broken(exc)
        return len(text)

    def flush(self) -> None:
        if not self._gone:
            try:
                self._stream.flush()
            except (OSError, ValueError) as exc:
                self._broken(exc)

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, reconfigure, ...: the stream's own
        return getattr(self._stream, name)


@contextlib.contextmanager
def output_file(
    path: PathLike | None, inputs: Inputs, *, binary: bool = False, encoding: str = "utf-8"
) -> Iterator[Any]:
    """Open an output for writing: standard output when ``path`` is None.

    A file is written beside the target under a temporary name and renamed into
    place only when the block ends without an exception; on any exception
    (Ctrl-C included) the temporary file is removed and an existing target is
    left as it was.
    """
    if path is None:
        check_stdout(inputs)
        out = sys.stdout.buffer if binary else sys.stdout
        guarded = GuardedWriter(out, "standard output")  # type: ignore[arg-type]
        try:
            yield guarded
            guarded.flush()
        except OutputError:
            silence_stdout()
            raise
        return
    text = os.fspath(path)
    check_outputs([text], inputs)
    target = _real(text)
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise write_error(text, exc) from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        # a device or a FIFO (/dev/stdout, /dev/null, /dev/full): write to it directly
        try:
            fh = open(target, "wb" if binary else "w", **({} if binary else {"encoding": encoding, "newline": ""}))  # noqa: SIM115
        except OSError as exc:
            raise write_error(text, exc) from None
        guarded = GuardedWriter(fh, text)
        try:
            yield guarded
            guarded.flush()
        finally:
            with contextlib.suppress(OSError):
                fh.close()
        return
    tmp, fh = _open_temp(target, text, binary, encoding, st)
    guarded = GuardedWriter(fh, text)
    try:
        yield guarded
        guarded.flush()
        try:
            os.fsync(fh.fileno())
            fh.close()
            os.replace(tmp, target)
        except OSError as exc:
            raise write_error(text, exc) from None
    except BaseException:
        with contextlib.suppress(OSError):
            fh.close()
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _open_temp(target: str, shown: str, binary: bool, encoding: str, st: os.stat_result | None) -> tuple[str, Any]:
    folder, name = os.path.split(target)
    for attempt in range(100):
        tmp = os.path.join(folder, f".{name}.{os.getpid()}.{attempt}{TEMP_SUFFIX}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise write_error(shown, exc) from None
    else:  # pragma: no cover - a hundred stale temporary files
        raise OutputError(f"{shown}: cannot write: cannot create a temporary file beside it")
    if st is not None:
        with contextlib.suppress(OSError):
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
    if binary:
        return tmp, os.fdopen(fd, "wb")
    return tmp, os.fdopen(fd, "w", encoding=encoding, newline="")


@dataclass(slots=True)
class OutputFolder:
    """A folder that receives several output files (``--to DIR``, ``--plot DIR``).

    Each file is written with :meth:`open` (temporary file + rename); a name that
    would be picked up as an input is refused.
    """

    path: Path
    inputs: Inputs

    def open(self, name: str, *, binary: bool = False, encoding: str = "utf-8") -> contextlib.AbstractContextManager[Any]:
        if os.sep in name or (os.altsep and os.altsep in name) or name in ("", ".", ".."):
            raise OutputError(f"{name}: not a plain file name")
        return output_file(self.path / name, self.inputs, binary=binary, encoding=encoding)


def check_output_folder(folder: PathLike, inputs: Inputs) -> None:
    """Refuse a folder that is or contains an input, or an existing file where a folder is wanted."""
    text = os.fspath(folder)
    if os.path.exists(text) and not os.path.isdir(text):
        raise OutputError(f"{text}: exists and is not a folder")
    why = inputs.why_not_folder(text)
    if why is not None:
        raise OutputError(f"{text}: refusing to write here: it {why}; input files are only read")


def output_folder(folder: PathLike, inputs: Inputs) -> OutputFolder:
    """Check ``folder`` (see :func:`check_output_folder`), create it if needed, and return it."""
    check_output_folder(folder, inputs)
    text = os.fspath(folder)
    try:
        os.makedirs(text, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{text}: cannot create the folder: {exc.strerror or exc}") from None
    return OutputFolder(Path(text), inputs)


__all__ = [
    "Inputs",
    "OutputError",
    "OutputFolder",
    "GuardedWriter",
    "check_key_file",
    "check_outputs",
    "check_output_folder",
    "check_stdout",
    "output_file",
    "output_folder",
    "silence_stdout",
    "TEMP_SUFFIX",
]
