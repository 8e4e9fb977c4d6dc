"""Case bundles read in place: zip (ZipCrypto or AES), tar, tar.gz/tgz, 7z.

A Case Diagnostic Tool bundle (``CDT-YYYYMMDD-HHMMSS.zip``) is a password-protected
zip of an appliance's logs.  Members are streamed straight out of the archive by
libarchive (through ``libarchive-c``), never extracted to disk; bundles inside a
bundle are followed :data:`MAX_NESTING` (2) levels down (a ticket zip holding a CDT zip
holding a tar.gz of rotated logs); deeper ones are passed over, each named with the
reason.  Every member is named ``BUNDLE!MEMBER`` (nested: ``OUTER!INNER!MEMBER``; the
second entry of one name in a zip ``BUNDLE!MEMBER#2``; ``!`` and ``#`` inside a name written ``%21``
and ``%23``: :func:`label_part`), and that name is the ``file``
of every record and reject read from it:

>>> member_label(Path("CDT-20240312-101500.zip"), ("IMSVA/LogFile/Event3/log.imss.20240312.0001",))
'CDT-20240312-101500.zip!IMSVA/LogFile/Event3/log.imss.20240312.0001'

Passwords: the one given (``--password``, ``IMSVALOG_PASSWORD`` or :func:`options`),
else the CDT tool's default ``trend`` (FORMATS.md) and then, when stdin is a
terminal, a prompt.  Every encrypted member is checked with it before anything is
read (its first bytes decrypted): a wrong password is an
:class:`~imsvalog.errors.InputError` naming the bundle and the member that revealed
it.  A member whose data is damaged (bad CRC or authentication code, data that does
not inflate) is an :class:`ArchiveDamagedError`: a reject naming it, the run goes on.
A truncated zip is said to be truncated.  The password is held in a :class:`Secret` whose ``repr`` and
``str`` hide it, so it cannot reach output, logs or tracebacks by accident.

Decompression is bounded: a member that inflates past ``max_member_bytes``, or a
run past ``max_total_bytes`` in all, stops being read with an
:class:`ArchiveLimitError`; readers turn that into a reject naming the member and
go on with the others.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import getpass
import io
import os
import re
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, TypeVar

from .errors import InputError

#: names that are read as bundles (matched case-insensitively)
BUNDLE_SUFFIXES: tuple[str, ...] = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".7z")
#: the password Trend Micro's Case Diagnostic Tool sets by default (FORMATS.md, "Case Diagnostic Tool bundles")
CDT_DEFAULT_PASSWORD = "trend"
PASSWORD_ENV = "IMSVALOG_PASSWORD"
GiB = 1 << 30
DEFAULT_MAX_MEMBER_BYTES = 16 * GiB
DEFAULT_MAX_TOTAL_BYTES = 256 * GiB
_ZIP_MAGIC = b"PK\x03\x04"
_GZIP_MAGIC = b"\x1f\x8b"
#: bytes asked of libarchive per read (its default, a page, costs a Python iteration per 4 KiB)
_BLOCK = 1 << 20
_CDT_NAME = re.compile(r"CDT-(?P<date>\d{8})-(?P<time>\d{6})", re.IGNORECASE)
#: the folder that starts an appliance's logs inside a bundle: ``.../IMSVA/LogFile/...`` (any case)
_APPLIANCE_DIR = re.compile(r"(?:^|/)IMSVA/Log ?file(?:/|$)", re.IGNORECASE)
#: how deep bundles inside bundles are followed: a ticket zip -> a CDT zip -> a tar.gz of rotated logs
MAX_NESTING = 2
#: bytes read from each encrypted member to check the password (past the encryption header, into the data)
_PROBE = 1 << 16


class Secret:
    """A password that does not show itself: ``repr``/``str`` say ``'<hidden>'``.

    >>> s = Secret("hunter2"); s, str(s), s.reveal()
    (<hidden>, '<hidden>', 'hunter2')
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<hidden>"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class ArchiveReadError(OSError):
    """A member that cannot be read (corrupt data, wrong password found late, vanished member)."""


class ArchiveLimitError(ArchiveReadError):
    """A member, or the whole run, inflated past its uncompressed-size limit."""


class ArchiveDamagedError(ArchiveReadError):
    """A member whose data fails the archive's own checks (CRC, authentication code, decompression)."""


@dataclass(slots=True)
class Options:
    """How bundles are opened: password, size limits, what to say on stderr."""

    password: Secret | None = None
    max_member_bytes: int = DEFAULT_MAX_MEMBER_BYTES
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES
    #: ask on the terminal when the password is wrong or missing (default: when stdin is a terminal)
    prompt: bool | None = None
    #: where notices go ("default password used"); default: stderr
    notice: Callable[[str], None] | None = None
    # state of one run
    read_bytes: int = 0
    #: uncompressed bytes counted per member (by its label): a member read again (correlate reads log.imss
    #: twice) counts only past what it counted before, so the total is what the run inflated once
    counted: dict[str, int] = field(default_factory=dict, repr=False)
    passwords: dict[str, Secret | None] = field(default_factory=dict, repr=False)
    #: top-level entries whose decryption was checked: (bundle, entry name, occurrence)
    probed: set[tuple[str, str, int]] = field(default_factory=set, repr=False)
    #: member label -> whether its data starts like gzip (its uncompressed size is then unknown)
    gzipped: dict[str, bool] = field(default_factory=dict, repr=False)

    def say(self, message: str) -> None:
        if self.notice is not None:
            self.notice(message)
        else:
            sys.stderr.write(f"imsvalog: {message}\n")


_OPTIONS: ContextVar[Options | None] = ContextVar("imsvalog_bundle_options", default=None)


def current() -> Options:
    """The options in force (set by :func:`options`; else defaults with ``IMSVALOG_PASSWORD``)."""
    opts = _OPTIONS.get()
    if opts is None:
        env = os.environ.get(PASSWORD_ENV)
        opts = Options(password=Secret(env) if env else None)
        _OPTIONS.set(opts)
    return opts


@contextlib.contextmanager
def options(
    password: str | Secret | None = None,
    max_member_bytes: int = DEFAULT_MAX_MEMBER_BYTES,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    prompt: bool | None = None,
    notice: Callable[[str], None] | None = None,
) -> Iterator[Options]:
    """Read bundles with these settings inside the ``with`` block.

    ``password`` None falls back to ``IMSVALOG_PASSWORD``, then to the CDT default.
    """
    if password is None and os.environ.get(PASSWORD_ENV):
        password = os.environ[PASSWORD_ENV]
    secret = Secret(password) if isinstance(password, str) else password
    token = _OPTIONS.set(Options(secret, max_member_bytes, max_total_bytes, prompt, notice))
    try:
        with reading():  # the run's archives kept open till it ends (the bundles may change before the next run)
            yield _OPTIONS.get()  # type: ignore[misc]
    finally:
        _OPTIONS.reset(token)


def parse_size(text: str) -> int:
    """``'8G'``, ``'500M'``, ``'1024'`` -> bytes (binary multiples).

    >>> parse_size("8G"), parse_size("500m"), parse_size("1024")
    (8589934592, 524288000, 1024)
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", text, re.IGNORECASE)
    if not m:
        raise ValueError(f"not a size: {text!r} (examples: 8G, 500M, 1048576)")
    mult = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[m[2].upper()]
    return int(float(m[1]) * mult)


def is_bundle_name(name: str) -> bool:
    """Whether a file name says it is an archive imsvalog reads as a bundle.

    >>> is_bundle_name("CDT-20240312-101500.ZIP"), is_bundle_name("logs.tgz"), is_bundle_name("log.imss.1.gz")
    (True, True, False)
    """
    low = name.lower()
    return low.endswith(BUNDLE_SUFFIXES)


def looks_like_bundle(path: Path) -> bool:
    """A bundle by name, or a zip by its magic bytes."""
    if is_bundle_name(path.name):
        return True
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == _ZIP_MAGIC
    except OSError:
        return False


def _entry_name(entry: Any) -> str:
    """An entry's name as text: libarchive gives bytes for a name that is not UTF-8 (Latin-1,
    Shift_JIS zips without the UTF-8 flag); those bytes are kept as surrogates (shown ``\\xNN``)."""
    name = entry.pathname
    return name.decode("utf-8", "surrogateescape") if isinstance(name, bytes) else name


#: a name in a member's chain that must be written escaped in its label: it holds ``!`` or ``#`` (which
#: separate the names and mark a second entry of one name) or an escape's own spelling
_LABEL_ESCAPED = re.compile(r"[!#]|%2[135]", re.IGNORECASE)


def label_part(name: str) -> str:
    """One name of a member's chain as its label writes it: a name holding ``!`` or ``#`` gets them as
    ``%21`` and ``%23`` (and ``%`` as ``%25``), so ``a.zip!b`` (member ``b`` of a nested ``a.zip``) and a
    member literally named ``a.zip!b`` get two labels, and ``parse BUNDLE!LABEL`` reads the one named.
    Other names are written as they are (one-to-one: an escaped name always holds ``%21``, ``%23`` or
    ``%25``, and an unescaped one never does).

    >>> label_part("IMSVA/LogFile/Event3/log.imss.20240312.0001"), label_part("odd!name#2%21")
    ('IMSVA/LogFile/Event3/log.imss.20240312.0001', 'odd%21name%232%2521')
    """
    if _LABEL_ESCAPED.search(name) is None:
        return name
    return name.replace("%", "%25").replace("!", "%21").replace("#", "%23")


def member_label(bundle: Path | str, chain: tuple[str, ...]) -> str:
    return "!".join([str(bundle), *map(label_part, chain)])


def cdt_date(name: str) -> tuple[int, int] | None:
    """``(year, month)`` from a CDT bundle name.

    >>> cdt_date("case/CDT-20240312-101500.zip")
    (2024, 3)
    """
    m = _CDT_NAME.search(name)
    return (int(m["date"][:4]), int(m["date"][4:6])) if m else None


def appliance_folder(member: str) -> str:
    """The part of a member path before ``IMSVA/LogFile`` (any case): one appliance per such folder.

    >>> appliance_folder("imsva02/IMSVA/Logfile/Event3/log.imss.20240312.0001")
    'imsva02'
    >>> appliance_folder("IMSVA/LogFile/Event3/log.imss.20240312.0001")
    ''
    """
    m = _APPLIANCE_DIR.search(member)
    return member[: m.start()].strip("/") if m else ""


def unpacked_folder(path: str) -> str | None:
    """The folder of an unpacked bundle a path on disk lies in, as the path writes it (``.`` when the path starts
    at its ``IMSVA/LogFile``); None when the path is in none.

    >>> unpacked_folder("case/unz/IMSVA/Logfile/Event5/maillog"), unpacked_folder("IMSVA/LogFile/x"), unpacked_folder("a/b")
    ('case/unz', '.', None)
    """
    m = _APPLIANCE_DIR.search(path)
    if m is None:
        return None
    return path[: m.start()].rstrip("/") or ("/" if path.startswith("/") and m.start() == 0 else ".")


@dataclass(frozen=True, slots=True)
class Member:
    """One file inside a bundle: the archive on disk and the names leading to it."""

    bundle: Path
    chain: tuple[str, ...]
    size: int | None = None
    mtime: float | None = None
    appliance: str = ""
    #: its entry in the bundle on disk (``chain[0]``) is encrypted
    encrypted: bool = False
    #: a zip may hold several entries of one name: this is the (n+1)-th; its label ends ``#n+1``
    occurrence: int = 0

    @property
    def label(self) -> str:
        base = member_label(self.bundle, self.chain)
        return f"{base}#{self.occurrence + 1}" if self.occurrence else base

    @property
    def top(self) -> tuple[str, str, int]:
        """Its entry in the bundle on disk: (bundle, name, occurrence)."""
        return (str(self.bundle), self.chain[0], self.occurrence if len(self.chain) == 1 else 0)

    @property
    def name(self) -> str:
        return PurePosixPath(self.chain[-1]).name

    @property
    def archive_label(self) -> str:
        """The bundle on disk holding this member: one password per bundle (nested ones share it)."""
        return str(self.bundle)

    def open(self) -> BinaryIO:
        """A buffered binary stream of the member's uncompressed bytes (limits enforced)."""
        return io.BufferedReader(_BlockStream(_member_blocks(self), self.label, current()), 1 << 20)


@dataclass(slots=True)
class Listing:
    """What a bundle holds: its files (nested bundles followed once) and what was passed over."""

    members: list[Member] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _libarchive() -> Any:
    try:
        import libarchive  # type: ignore[import-untyped]
    except (ImportError, OSError) as exc:  # OSError: libarchive-c is there, the C library is not
        raise InputError(
            "reading bundles needs the libarchive C library (Debian/Ubuntu: apt-get install libarchive13; "
            f"see README 'Set-up'): {exc}"
        ) from None
    return libarchive


def _archive_error() -> type[Exception]:
    return _libarchive().ArchiveError


def bundle_stem(name: str) -> str:
    """A bundle's name without its archive suffix (``CDT-1.tar.gz`` -> ``CDT-1``)."""
    for suffix in sorted(BUNDLE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def appliance_of(bundle: str, chain: tuple[str, ...]) -> str:
    """The appliance a member belongs to: its bundle, or the appliance folder inside it.

    A nested bundle is an appliance of its own when it is named like a CDT bundle or
    holds an ``IMSVA/LogFile`` folder (a ticket zip of several CDT bundles); otherwise
    (a tar.gz of older logs inside a CDT bundle) it belongs to the bundle around it.

    >>> appliance_of("ticket.zip", ("CDT-20240312-101500.zip", "IMSVA/LogFile/Event3/log.imss.20240312.0001"))
    'CDT-20240312-101500'
    >>> appliance_of("CDT-1.zip", ("IMSVA/LogFile/Event3/old.tar.gz", "log.imss.20240312.0002.gz"))
    'CDT-1'
    >>> appliance_of("ticket.tgz", ("child1/IMSVA/Logfile/Event3/log.imss.20240312.0001",))
    'ticket/child1'
    """
    name = bundle_stem(PurePosixPath(bundle).name)
    folder = appliance_folder(chain[0])
    if folder:
        name = f"{name}/{folder}"
    for part, inner in zip(chain, chain[1:]):
        base = PurePosixPath(part).name
        if _APPLIANCE_DIR.search(inner) or _CDT_NAME.search(base):
            name = bundle_stem(base)
            folder = appliance_folder(inner)
            if folder:
                name = f"{name}/{folder}"
    return name


def list_bundle(path: Path) -> Listing:
    """The files in a bundle, bundles inside it followed down to :data:`MAX_NESTING` levels.

    Reads the bundle's headers; checks its password (see :func:`verify_password`)
    when a nested bundle must be opened to list what it holds.  Raises
    :class:`InputError` for an archive that cannot be read (truncated, damaged, not
    an archive) and for a wrong password of a nested bundle.
    """
    la = _libarchive()
    out = Listing()
    nested: list[Member] = []
    try:
        with la.file_reader(str(path)) as arc:
            _list_entries(arc, path, (), 0, False, out, nested)
    except la.ArchiveError as exc:
        raise InputError(f"{path}: {_unreadable(path, _clean(exc))}") from None
    if nested:
        verify_password(nested)
    for inner in nested:
        _list_nested(path, inner, out)
    return out


@dataclass
class _Probe:
    """What reading the first bytes of a nested archive's encrypted entries showed so far."""

    #: an encrypted entry opened with the password
    opened: bool = False
    #: the first encrypted entry the password does not open: its label and libarchive's reason
    refused: tuple[str, str] | None = None
    #: the first encrypted entry whose data failed otherwise (damaged, or a wrong ZipCrypto
    #: password that passed the one-byte check: 1 in 256 do): its label and the reason
    failed: tuple[str, str] | None = None
    #: the encrypted entry being read (an error libarchive raises on the next entry is its)
    reading: str | None = None

    def verdict(self, reason: str | None = None) -> tuple[str, str] | None:
        """The entry and reason that say the password is wrong, if the probe shows it.

        As for a bundle on disk (:func:`_refusal`): data that fails to decrypt while no
        encrypted entry opens is taken as the password's fault, saying it may be damage.
        """
        if self.refused is not None:
            return self.refused
        if reason is not None and self.reading is not None and self.failed is None:
            self.failed = (self.reading, reason)
        if self.failed is not None and not self.opened:
            label, why = self.failed
            return label, _unopened(why, "the bundle is damaged")
        return None


def _unopened(reason: str, otherwise: str) -> str:
    """Why a password is taken as wrong when its check passed but no encrypted member's data decrypts."""
    reason = reason.removeprefix("the member is damaged: ")
    return f"{reason}; no encrypted member opens with it, so the password is the likelier cause (else {otherwise})"


def _list_entries(
    arc: Any, bundle: Path, chain: tuple[str, ...], depth: int, encrypted: bool, out: Listing, nested: list[Member],
    probe: _Probe | None = None,
) -> None:
    """Files of one archive level: logs and others to ``out.members``, bundles to ``nested``
    (or, past :data:`MAX_NESTING`, to ``out.skipped``).

    With ``probe`` (a nested archive, read once as a stream), the first bytes of each
    encrypted entry are read as it passes and what they show is kept in ``probe``; the
    listing stops at the first entry the password does not open.
    """
    la = _libarchive()
    seen: Counter[str] = Counter()
    streamed = depth > 0 or not (bundle.name.lower().endswith((".zip", ".7z")) or looks_like_bundle(bundle) and
                                 not is_bundle_name(bundle.name))
    for entry in arc:
        if entry.issym or entry.islnk:  # a link's data is elsewhere (or outside the archive): said, never followed
            full = (*chain, _entry_name(entry))
            link = Member(bundle, full, None, entry.mtime, appliance_of(str(bundle), full), encrypted, 0)
            what = "symbolic link" if entry.issym else "hard link"
            out.skipped.append((link.label, f"a {what} in the archive is not followed (unpack it to read it)"))
            continue
        if not entry.isfile:
            continue
        name = _entry_name(entry)
        occurrence = seen[name]
        seen[name] += 1
        full = (*chain, name)
        m = Member(
            bundle, full, entry.size if entry.size else None, entry.mtime, appliance_of(str(bundle), full),
            encrypted or (depth == 0 and _entry_encrypted(entry)), occurrence,
        )
        if not is_bundle_name(name):
            out.members.append(m)
            if streamed and not _entry_encrypted(entry):  # the data streams past anyway: look at its first bytes
                _note_head(m, entry)
        elif occurrence:
            out.skipped.append((m.label, "a second bundle of this name in the same archive is not opened (unpack it to read it)"))
        elif depth >= MAX_NESTING:
            out.skipped.append((m.label, f"a bundle nested deeper than {MAX_NESTING} levels is not followed (unpack it to read it)"))
        else:
            nested.append(m)
        if probe is not None and _entry_encrypted(entry):
            probe.reading = m.label
            try:
                for block in _entry_blocks(entry, _PROBE):
                    current().gzipped.setdefault(m.label, block[:2] == _GZIP_MAGIC)
                probe.opened = True
            except (la.ArchiveError, ArchiveReadError) as exc:
                if _refused(_clean(exc)):
                    probe.refused = (m.label, _clean(exc))
                    return
                if probe.failed is None:
                    probe.failed = (m.label, _clean(exc))


def _list_nested(path: Path, inner: Member, out: Listing) -> None:
    """List a bundle inside a bundle (and, within :data:`MAX_NESTING`, the bundles inside it),
    checking that its password opens its encrypted entries."""
    la = _libarchive()
    opts = current()
    before = len(out.members)
    deeper: list[Member] = []
    outer = opts.passwords.get(inner.archive_label)
    password = _nested_password(outer)
    probe = _Probe()
    try:
        with _open_nested(_raw_blocks(inner, outer), inner.label, password) as iarc:
            _list_entries(iarc, path, inner.chain, len(inner.chain), inner.encrypted, out, deeper, probe)
    except (la.ArchiveError, OSError) as exc:
        del out.members[before:]
        reason = _clean(exc)
        if _refused(reason):
            raise _wrong_password(inner.label, inner.label, reason) from None
        bad = probe.verdict(reason)
        if bad is not None:
            raise _wrong_password(inner.label, *bad) from None
        out.skipped.append((inner.label, _unreadable(None, reason)))
        return
    bad = probe.verdict()
    if bad is not None:
        raise _wrong_password(inner.label, *bad)
    if probe.opened and outer is None and opts.password is None:
        opts.say(f"{inner.label}: opened with the Case Diagnostic Tool's default password "
                 f"'{CDT_DEFAULT_PASSWORD}' (give another with --password or {PASSWORD_ENV})")
    for m in deeper:
        _list_nested(path, m, out)


def _note_head(m: Member, entry: Any) -> None:
    la = _libarchive()
    try:
        for block in _entry_blocks(entry, 2):
            current().gzipped[m.label] = block[:2] == _GZIP_MAGIC
            return
        current().gzipped[m.label] = False
    except (la.ArchiveError, ArchiveReadError):
        pass  # reading it later reports it


def is_gzipped(member: Member) -> bool | None:
    """Whether a member's data starts like gzip (seen while listing or checking the password,
    else looked at once: cheap in an indexed zip or 7z); None when it cannot be read."""
    opts = current()
    if member.label not in opts.gzipped:
        try:
            with member.open() as fh:
                opts.gzipped[member.label] = fh.read(2) == _GZIP_MAGIC
        except (OSError, InputError):
            return None
    return opts.gzipped[member.label]


def _entry_encrypted(entry: Any) -> bool:
    """Whether libarchive says this entry's data (or metadata) is encrypted."""
    fn = _is_encrypted()
    return bool(fn(entry._entry_p)) if fn is not None else True


_ENCRYPTED_FN: list[Any] = []


def _is_encrypted() -> Any:
    if not _ENCRYPTED_FN:
        try:
            fn = _libarchive().ffi.libarchive["archive_entry_is_encrypted"]
            fn.argtypes, fn.restype = [ctypes.c_void_p], ctypes.c_int
        except (AttributeError, KeyError):  # libarchive < 3.2: every entry is checked
            fn = None
        _ENCRYPTED_FN.append(fn)
    return _ENCRYPTED_FN[0]


def _unreadable(path: Path | None, reason: str) -> str:
    """Why an archive cannot be read, said so a user knows what to do: a truncated zip says so."""
    if path is not None and (path.name.lower().endswith(".zip") or looks_like_bundle(path)):
        try:
            with open(path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(0, size - (1 << 16) - 22))
                tail = fh.read()
        except OSError:
            tail = b"PK\x05\x06"
        if b"PK\x05\x06" not in tail:
            # (libarchive then reads on from the local headers and says something misleading, e.g. "Passphrase required")
            return "the archive is truncated or damaged (no end-of-central-directory record: was the copy or download cut short?)"
    low = reason.lower()
    if "truncat" in low or "premature" in low or "unexpected end" in low:
        return f"the archive is truncated or damaged: {reason}"
    return f"cannot read this archive: {reason}"


class _Source(io.RawIOBase):
    """What libarchive reads a nested archive from.  Errors are kept, not raised through
    libarchive's C callback (which would print them); :func:`_open_nested` re-raises them."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        super().__init__()
        self._stream = _BlockStream(blocks, "", None)
        self.error: BaseException | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:  # type: ignore[override]
        if self.error is not None or _HELD.stops_reads():  # Ctrl-C held: libarchive is made to stop at once
            return 0
        try:
            return self._stream.readinto(b)
        except Exception as exc:  # noqa: BLE001 - handed back to the caller after libarchive gives up
            self.error = exc
            return 0

    def close(self) -> None:
        self._stream.close()
        super().close()


def _nested_password(outer: Secret | None) -> Secret:
    """The password for a bundle inside a bundle: the outer one's, else the given one, else the CDT default.

    (A ticket zip without password may hold encrypted CDT zips.)
    """
    opts = current()
    return outer or opts.password or Secret(CDT_DEFAULT_PASSWORD)


@contextlib.contextmanager
def _open_nested(blocks: Iterator[bytes], label: str, password: Secret | None) -> Iterator[Any]:
    la = _libarchive()
    source = _Source(blocks)
    try:
        reader = la.stream_reader(source, passphrase=password.reveal() if password else None, block_size=1 << 20)
        with _guarded(reader) as arc:
            yield _Checked(arc, source)
    except la.ArchiveError:
        if source.error is not None:
            raise source.error from None
        raise
    finally:
        source.close()


class _Checked:
    """Entries of a nested archive; an error of the outer stream surfaces as itself."""

    def __init__(self, arc: Any, source: _Source) -> None:
        self._arc = arc
        self._source = source

    def __iter__(self) -> Iterator[Any]:
        entries = iter(self._arc)
        while True:
            with _into_libarchive():  # the next header: libarchive reads (and skips) through the Python callback
                entry = next(entries, None)
            if entry is None:
                break
            yield entry
        if self._source.error is not None:
            raise self._source.error


class _Held:
    """A Ctrl-C (SIGINT) that came while libarchive was called (:func:`_into_libarchive`), held till it returns."""

    __slots__ = ("depth", "signal", "raises")

    def __init__(self) -> None:
        #: calls into libarchive in progress in the main thread (nested: a callback calls it again)
        self.depth = 0
        #: the ``(signum, frame)`` held, None while there is none
        self.signal: tuple[int, Any] | None = None
        #: the handler it is handed to is Python's own, which raises KeyboardInterrupt (the command's, a script's
        #: that left it): what libarchive reads meanwhile is thrown away
        self.raises = False

    def hold(self, signum: int, frame: Any) -> None:
        self.signal = (signum, frame)

    def stops_reads(self) -> bool:
        """Is a Ctrl-C held for this thread (the main one) that will raise KeyboardInterrupt?  A program's own handler
        may not raise (it sets a flag to stop later): then libarchive reads on, and nothing is lost (attack s25c: every
        Ctrl-C cut a rotation short, read as damaged)."""
        return self.signal is not None and self.raises and threading.current_thread() is threading.main_thread()


_HELD = _Held()


@contextlib.contextmanager
def _into_libarchive() -> Iterator[None]:
    """A call into libarchive, which may call back into Python (an archive inside an archive is read through
    libarchive-c's ctypes read callback): a Ctrl-C meanwhile is held and handed to the handler that was in place once
    the call has returned, never raised inside the callback.  (Raised there, ctypes printed "Exception ignored on
    calling ctypes callback function ... KeyboardInterrupt", handed libarchive an undefined byte count and the run
    went on: attack s24a, 8 of 8 Ctrl-Cs lost, 3 of them a crash, SIGSEGV.)  While one is held the callback gives
    libarchive no more bytes (:class:`_Source`), so a long skip through a nested archive stops at once, where that
    handler is Python's own (it raises KeyboardInterrupt; a program's own handler may not, and the read goes on).  Only the
    main thread, which Python runs signal handlers in, and only over a handler of Python's (one ignored, or the
    system default, is left as it is)."""
    if threading.current_thread() is not threading.main_thread():  # a Ctrl-C is never raised in this thread
        yield
        return
    if _HELD.depth:
        _HELD.depth += 1
        try:
            yield
        finally:
            _HELD.depth -= 1
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous):
        yield
        return
    _HELD.signal = None
    _HELD.raises = previous is signal.default_int_handler
    _HELD.depth = 1
    try:
        signal.signal(signal.SIGINT, _HELD.hold)
        yield
    finally:
        _HELD.depth = 0
        signal.signal(signal.SIGINT, previous)
        held, _HELD.signal = _HELD.signal, None
        if held is not None:
            previous(*held)  # Python's own handler raises KeyboardInterrupt here, in place of any error of the call


@contextlib.contextmanager
def _guarded(reader: Any) -> Iterator[Any]:
    """``reader`` (a libarchive-c context manager) opened and closed within :func:`_into_libarchive`."""
    with _into_libarchive():
        arc = reader.__enter__()
    try:
        yield arc
    except BaseException:
        with _into_libarchive():
            if not reader.__exit__(*sys.exc_info()):
                raise
    else:
        with _into_libarchive():
            reader.__exit__(None, None, None)


def _clean(exc: BaseException) -> str:
    """libarchive's message without its ``(errno=..., archive_p=...)`` tail."""
    return re.sub(r"\s*\(errno=.*$", "", str(exc)) or type(exc).__name__


# ---------------------------------------------------------------------------
# Passwords
# ---------------------------------------------------------------------------


def _refused(reason: str) -> bool:
    """libarchive's reason says the password does not open the entry (not: the entry is damaged)."""
    low = reason.lower()
    return "passphrase" in low or "password" in low or "decryption is unsupported" in low


def _wrong_password(bundle: str, member: str, reason: str, tried: str | None = None) -> InputError:
    opts = current()
    if tried is None:
        tried = "the password given" if opts.password is not None else f"the CDT default '{CDT_DEFAULT_PASSWORD}'"
        tried = f"{tried} does not open it"
    where = "" if member == bundle else f" {member} does not decrypt:"
    return InputError(
        f"{bundle}: wrong password ({tried}):{where} {reason}; "
        f"give the bundle's password with --password or {PASSWORD_ENV}"
    )


def _refusal(todo: list[Member], password: Secret | None) -> tuple[Member, str] | None:
    """Read the first bytes of each of ``todo`` (entries of one bundle on disk) with ``password``:
    the first one it does not open, with libarchive's reason; None when it opens them.

    An entry that is damaged (its data fails to inflate, but the password check passed)
    is not a refusal, unless no entry opens at all: then the password is the likelier cause.
    """
    la = _libarchive()
    wanted = {m.top: m for m in todo}
    results: list[tuple[Member, str | None]] = []
    seen: Counter[str] = Counter()
    try:
        with la.file_reader(str(todo[0].bundle), passphrase=password.reveal() if password else None) as arc:
            for entry in arc:
                key = (str(todo[0].bundle), _entry_name(entry), seen[_entry_name(entry)])
                seen[_entry_name(entry)] += 1
                m = wanted.pop(key, None)
                if m is None:
                    continue
                try:
                    for block in _entry_blocks(entry, _PROBE):
                        if len(m.chain) == 1:
                            current().gzipped.setdefault(m.label, block[:2] == _GZIP_MAGIC)
                    results.append((m, None))
                except (la.ArchiveError, ArchiveReadError) as exc:
                    results.append((m, _clean(exc)))
                if not wanted:
                    break
    except la.ArchiveError as exc:
        reason = _clean(exc)
        results += [(m, reason) for m in wanted.values()]
    for m, reason in results:
        if reason is not None and _refused(reason):
            return m, reason
    failed = [(m, r) for m, r in results if r is not None]
    if results and len(failed) == len(results):
        return failed[0][0], _unopened(failed[0][1], "every one of them is damaged")
    return None


def verify_password(members: list[Member]) -> None:
    """Find the password that opens every encrypted member among ``members`` (before any output is written).

    Each bundle's encrypted entries are read a little with, in order: the given
    password, else ``trend`` and, when stdin is a terminal, a prompt.  Raises
    :class:`InputError` naming the bundle (and the member that revealed it) when
    the password does not open one of them.  A member whose data is damaged (the
    password check passed, its data does not inflate) is not a wrong password: its
    read ends in a reject naming it.  Plain members need no password.
    """
    opts = current()
    by_archive: dict[str, list[Member]] = {}
    for m in members:
        if m.encrypted and m.top not in opts.probed:
            by_archive.setdefault(m.archive_label, []).append(m)
        else:
            opts.passwords.setdefault(m.archive_label, None)
    for label, ms in by_archive.items():
        todo = list({m.top: m for m in ms}.values())
        known = opts.passwords.get(label)
        if known is not None:
            bad = _refusal(todo, known)
            if bad is not None:
                raise _wrong_password(label, bad[0].label, bad[1])
        else:
            opts.passwords[label] = _find_password(label, todo)
        opts.probed.update(m.top for m in todo)


def _find_password(label: str, todo: list[Member]) -> Secret:
    opts = current()
    secret = opts.password if opts.password is not None else Secret(CDT_DEFAULT_PASSWORD)
    bad = _refusal(todo, secret)
    if bad is None:
        if opts.password is None:
            opts.say(f"{label}: opened with the Case Diagnostic Tool's default password "
                     f"'{CDT_DEFAULT_PASSWORD}' (give another with --password or {PASSWORD_ENV})")
        return secret
    prompt = opts.prompt if opts.prompt is not None else _stdin_is_tty()
    if prompt:
        tried = "the password given" if opts.password is not None else f"the CDT default '{CDT_DEFAULT_PASSWORD}'"
        try:
            typed = getpass.getpass(f"password for {label} ({tried} does not open it): ")
        except (EOFError, KeyboardInterrupt):
            raise _wrong_password(label, bad[0].label, bad[1], f"{tried} does not open it; no password typed") from None
        if typed:
            again = _refusal(todo, Secret(typed))
            if again is None:
                return Secret(typed)
            bad = again
        raise _wrong_password(label, bad[0].label, bad[1], f"neither {tried} nor the one typed opens it")
    raise _wrong_password(label, bad[0].label, bad[1])


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


# ---------------------------------------------------------------------------
# Streaming a member
# ---------------------------------------------------------------------------


def _raw_blocks(member: Member, password: Secret | None, limit: int | None = None) -> Iterator[bytes]:
    """Uncompressed blocks of a member; libarchive errors pass through.  A whole member (no ``limit``) is read
    through a :class:`_Cursor`: from where an earlier read of its archive stopped when the member comes after it."""
    if limit is None:
        yield from _cursor_blocks(member, password)
        return
    la = _libarchive()
    pw = password.reveal() if password else None
    with la.file_reader(str(member.bundle), passphrase=pw) as arc:
        yield from _descend(arc, member, 0, password, limit)


class _Cursor:
    """An archive's entries read up to one, kept open after that member was read (or its reader stopped): a
    member after it is read by going on from there, and the same member again, while no more than its first
    block was read (a reader that looked at its head, then the one that reads it), from that block kept.  A .tar.gz,
    and any archive inside another (a CDT zip's ``rotated.tar.gz``), is one compressed stream: opened again for each
    member, reading all n of them decompressed the stream's start n times (a 60-member ``rotated.tar.gz`` in a CDT
    zip: 150 s of CPU for 80 MB of log.imss).  Only the process that opened it uses it (a forked worker never
    reads through it)."""

    __slots__ = ("key", "stack", "entries", "seen", "pid", "entry", "at", "head", "reader")

    def __init__(self, key: tuple[Any, ...], stack: contextlib.ExitStack, entries: Iterator[Any]) -> None:
        self.key = key
        self.stack = stack
        #: the innermost archive's entries, from after the last one given
        self.entries = entries
        #: how many entries of each name it has given
        self.seen: Counter[str] = Counter()
        self.pid = os.getpid()
        #: the last entry given, as ``(name, occurrence)``, and the blocks of its data read so far while they are one
        #: (None: more were read, it cannot be read again from its start)
        self.entry: Any = None
        self.at: tuple[str, int] | None = None
        self.head: list[bytes] | None = None
        #: the entry's data read on from there: one reader for all who read it (an error found with its last block, a
        #: bad CRC, is given to the reader after the one that stopped at that block, not lost with it)
        self.reader: Iterator[bytes] = iter(())

    def serves(self, name: str, occurrence: int) -> bool:
        """Can it give this entry (``occurrence`` of ``name``): the one it is at, from its start, or one ahead?"""
        if self.pid != os.getpid():
            return False
        if self.at == (name, occurrence):
            return self.head is not None
        return self.seen[name] <= occurrence

    def blocks(self, member: Member) -> Iterator[bytes]:
        """The member's data from its start: the blocks kept, then read on; else its entry found further on."""
        want = (member.chain[-1], member.occurrence)
        if self.at != want:
            self.entry, self.at, self.head = self._advance(member), want, []
            self.reader = _entry_blocks(self.entry)
        assert self.head is not None
        yield from list(self.head)
        for block in self.reader:
            if self.head is not None:
                self.head = [block] if not self.head else None
            yield block

    def _advance(self, member: Member) -> Any:
        want, skip = member.chain[-1], member.occurrence
        self.at = self.head = None
        for entry in self.entries:
            name = _entry_name(entry)
            self.seen[name] += 1
            if name == want and self.seen[name] == skip + 1:
                return entry
        raise ArchiveReadError(f"{member.label}: no longer in the archive")

    def close(self, exc: BaseException | None = None) -> None:
        """Close its readers; ``exc``: the error it stopped on, which they may turn into the one to raise."""
        if exc is None:
            self.stack.close()
        elif not self.stack.__exit__(type(exc), exc, exc.__traceback__):
            raise exc


#: archives read up to an entry (:class:`_Cursor`), by bundle on disk (its identity and times: a bundle replaced is
#: opened anew), the names down to the archive and the password; at most :data:`_CURSORS_KEPT`, the oldest closed
_CURSORS: dict[tuple[Any, ...], _Cursor] = {}
_CURSORS_KEPT = 4


def _cursor_key(member: Member, password: Secret | None) -> tuple[Any, ...]:
    st = os.stat(member.bundle)  # ctime too: a file rewritten in place with its size and mtime put back has a new one
    return (str(member.bundle), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, member.chain[:-1],
            password)


def _open_cursor(member: Member, password: Secret | None, key: tuple[Any, ...]) -> _Cursor:
    """The member's archive opened (the bundle on disk, then each archive inside down to it), before its first entry."""
    la = _libarchive()
    stack = contextlib.ExitStack()
    try:
        arc = stack.enter_context(la.file_reader(str(member.bundle), passphrase=password.reveal() if password else None))
        entries: Iterator[Any] = iter(arc)
        for depth, want in enumerate(member.chain[:-1]):
            for entry in entries:
                if _entry_name(entry) == want:
                    break
            else:
                raise ArchiveReadError(f"{member.label}: no longer in the archive")
            password = _nested_password(password)
            label = member_label(member.bundle, member.chain[: depth + 1])
            entries = iter(stack.enter_context(_open_nested(_entry_blocks(entry), label, password)))
    except BaseException as exc:
        _Cursor(key, stack, iter(())).close(exc)
        raise
    return _Cursor(key, stack, entries)


def _cursor_blocks(member: Member, password: Secret | None) -> Iterator[bytes]:
    """A member's blocks read through its archive's :class:`_Cursor` (one kept that can give it, else a new one), kept
    again when the member is read or its reader stops, closed on an error."""
    key = _cursor_key(member, password)
    with _LOCK:
        cursor = _CURSORS.pop(key, None)
    if cursor is not None and not cursor.serves(member.chain[-1], member.occurrence):
        if cursor.pid == os.getpid():
            cursor.close()
        cursor = None
    if cursor is None:
        cursor = _open_cursor(member, password, key)
    try:
        yield from cursor.blocks(member)
    except GeneratorExit:  # its reader stopped early: the rest of the entry is skipped when the next is asked for
        _keep(cursor)
        raise
    except BaseException as exc:
        cursor.close(exc)
        raise
    _keep(cursor)


def _keep(cursor: _Cursor) -> None:
    """Keep an archive read up to a member for the next read, while a run is in progress (:func:`reading`); else (a
    member read outside any run) close it, as each read did before."""
    drop = []
    with _LOCK:
        if not _RUNS[0] or cursor.pid != os.getpid():
            drop.append(cursor)
        else:
            old = _CURSORS.pop(cursor.key, None)
            if old is not None:
                drop.append(old)  # two readers of one archive at once: the one that ended last is kept
            _CURSORS[cursor.key] = cursor
            while len(_CURSORS) > _CURSORS_KEPT:
                drop.append(_CURSORS.pop(next(iter(_CURSORS))))
    for c in drop:
        if c.pid == os.getpid():
            c.close()


def close_cursors() -> None:
    """Close every archive kept open for the next member (:class:`_Cursor`): when the last run in progress ends
    (:func:`reading`), and at exit."""
    with _LOCK:
        cursors = list(_CURSORS.values())
        _CURSORS.clear()
    for cursor in cursors:
        if cursor.pid == os.getpid():
            with contextlib.suppress(Exception):
                cursor.close()


#: guards :data:`_CURSORS` and :data:`_RUNS` (a notebook may read bundles from several threads)
_LOCK = threading.Lock()
#: runs in progress in this process (:func:`reading`): archives are kept open only while there is one
_RUNS = [0]
atexit.register(close_cursors)  # a run cut short (an interrupt in a notebook) leaves none to the interpreter's teardown


@contextlib.contextmanager
def reading() -> Iterator[None]:
    """One run of reading (a command, one call of the library's readers): a bundle's archives read up to a member
    stay open for the next member till the last run in progress ends, then they are closed (their files let go)."""
    with _LOCK:
        _RUNS[0] += 1
    try:
        yield
    finally:
        with _LOCK:
            _RUNS[0] -= 1
            last = not _RUNS[0]
        if last:
            close_cursors()


_F = TypeVar("_F", bound=Callable[..., Any])


def one_run(fn: _F) -> _F:
    """``fn`` (a reader of the library) as one run (:func:`reading`)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        with reading():
            return fn(*args, **kwargs)

    return run  # type: ignore[return-value]


def _descend(arc: Any, member: Member, depth: int, password: Secret | None, limit: int | None) -> Iterator[bytes]:
    want = member.chain[depth]
    leaf = depth == len(member.chain) - 1
    skip = member.occurrence if leaf else 0
    for entry in arc:
        if _entry_name(entry) != want:
            continue
        if skip:
            skip -= 1
            continue
        if leaf:
            yield from _entry_blocks(entry, limit)
            return
        nested = _nested_password(password)
        with _open_nested(_entry_blocks(entry), member_label(member.bundle, member.chain[: depth + 1]), nested) as inner:
            yield from _descend(inner, member, depth + 1, nested, limit)
        return
    raise ArchiveReadError(f"{member.label}: no longer in the archive")


_READ_DATA_BLOCK: list[Any] = []


def _entry_pieces(entry: Any) -> Iterator[bytes]:
    """An entry's data as libarchive gives it (``archive_read_data_block``: its own blocks, a sparse entry's holes
    as zeros), then, when its data fails a check found at its end (a zip member's CRC, an AES authentication code:
    libarchive's warning), its last block and the error, an :class:`ArchiveDamagedError`.

    (``archive_read_data``, which copies those blocks into one buffer, gives the warning in place of all it copied
    in that call: the member's last block and up to a MiB before it were lost, a small gzipped member entirely.)
    """
    la = _libarchive()
    if not _READ_DATA_BLOCK:
        fn = la.ffi.libarchive["archive_read_data_block"]  # a fresh function object: no libarchive-c error hook
        fn.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t),
                       ctypes.POINTER(ctypes.c_longlong)]
        fn.restype = ctypes.c_int
        _READ_DATA_BLOCK.append(fn)
    read = _READ_DATA_BLOCK[0]
    archive_p = entry._archive_p
    buf, size, offset = ctypes.c_void_p(), ctypes.c_size_t(), ctypes.c_longlong()
    refs = (ctypes.byref(buf), ctypes.byref(size), ctypes.byref(offset))
    at = 0
    while True:
        with _into_libarchive():  # an entry of an archive inside another: libarchive reads through the Python callback
            r = read(archive_p, *refs)
        if r == la.ffi.ARCHIVE_EOF:
            return
        n = size.value
        if n and r >= la.ffi.ARCHIVE_WARN:
            if offset.value < at:
                raise ArchiveDamagedError("the member is damaged: its data comes in blocks out of order")
            while at < offset.value:  # a hole of a sparse entry
                hole = min(offset.value - at, _BLOCK)
                yield bytes(hole)
                at += hole
            yield ctypes.string_at(buf.value, n)
            at += n
        if r < la.ffi.ARCHIVE_OK:
            reason = _clean(la.ffi.archive_error(archive_p, r))
            if r == la.ffi.ARCHIVE_WARN and at:
                from .blocks import CORRUPT_WORDS  # (blocks imports this module)

                # the check of all its data failed: any of the lines read may be garbled, as a gzip's failed check
                raise ArchiveDamagedError(f"the member is damaged: {reason} ({CORRUPT_WORDS})")
            if r == la.ffi.ARCHIVE_WARN or not _refused(reason):
                raise ArchiveDamagedError(f"the member is damaged: {reason}")
            raise la.ArchiveError(reason)


def _entry_blocks(entry: Any, limit: int | None = None) -> Iterator[bytes]:
    """An entry's data in blocks of about :data:`_BLOCK` bytes, libarchive's own gathered (at most about ``limit``
    in all).  When it fails, the bytes gathered before the error are given, then the error (:func:`_entry_pieces`).

    Unlike libarchive-c's ``get_blocks``, a warning at the end of the data (a bad CRC,
    a bad AES authentication code) is an :class:`ArchiveDamagedError`, not a block of
    stale buffer bytes, and an error names what libarchive found.
    """
    la = _libarchive()
    parts: list[bytes] = []
    gathered = got = 0
    try:
        for piece in _entry_pieces(entry):
            parts.append(piece)
            gathered += len(piece)
            if gathered >= _BLOCK or limit is not None and got + gathered >= limit:
                block = parts[0] if len(parts) == 1 else b"".join(parts)
                parts, gathered = [], 0
                yield block
                got += len(block)
                if limit is not None and got >= limit:
                    return
    except (ArchiveReadError, la.ArchiveError):
        if parts:
            yield b"".join(parts)
        raise
    if parts:
        yield b"".join(parts)


def _member_blocks(member: Member) -> Iterator[bytes]:
    la = _libarchive()
    opts = current()
    if member.archive_label not in opts.passwords or (member.encrypted and member.top not in opts.probed):
        verify_password([member])
    password = opts.passwords.get(member.archive_label)
    try:
        yield from _raw_blocks(member, password)
    except la.ArchiveError as exc:
        reason = _clean(exc)
        if _refused(reason):
            raise _wrong_password(member.archive_label, member.label, reason) from None
        raise ArchiveDamagedError(f"the member is damaged: {reason}") from None


def bounded(fh: BinaryIO, label: str, chunk: int = 1 << 20) -> BinaryIO:
    """``fh``, a decompressing stream (gzip: a bundle member or a plain ``.gz`` file), held to the
    per-member and total limits; ``label`` names it in the error.  Read ``chunk`` bytes at a time."""

    def blocks() -> Iterator[bytes]:
        with fh:
            while block := fh.read(chunk):
                yield block

    return io.BufferedReader(_BlockStream(blocks(), label, current()), chunk)


def limited(pieces: Iterator[bytes], label: str) -> Iterator[bytes]:
    """``pieces`` of decompressed bytes, held to the per-member and total limits like :func:`bounded`.

    Raises :class:`ArchiveLimitError` (naming ``label``) before giving the piece that goes past a limit.
    """
    meter = _BlockStream(iter(()), label, current())
    try:
        for piece in pieces:
            meter._count(len(piece))
            yield piece
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()


class _BlockStream(io.RawIOBase):
    """A readable raw stream over an iterator of byte blocks, counting against the limits."""

    def __init__(self, blocks: Iterator[bytes], label: str, opts: Options | None) -> None:
        super().__init__()
        self._blocks = blocks
        self._label = label
        self._opts = opts
        self._buf = memoryview(b"")
        self._done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:  # type: ignore[override]
        while not self._buf:
            try:
                block = next(self._blocks)
            except StopIteration:
                return 0
            self._count(len(block))
            self._buf = memoryview(block)
        # through a memoryview: ``b`` is libarchive-c's ctypes buffer when libarchive reads a nested archive, and a
        # slice assigned to a ctypes array is copied a byte at a time (47 ms per MiB; 0.9 s of CPU for each pass
        # over an 18 MB rotated.tar.gz in a CDT zip, where inflating it costs 0.15 s)
        out = memoryview(b).cast("B")
        n = min(len(out), len(self._buf))
        out[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def _count(self, n: int) -> None:
        opts = self._opts
        if opts is None:
            return
        self._done += n
        before = opts.counted.get(self._label, 0)
        if self._done > before:
            opts.read_bytes += self._done - before
            opts.counted[self._label] = self._done
        if self._done > opts.max_member_bytes:
            raise ArchiveLimitError(
                f"{self._label} inflates past the per-member limit of {_size(opts.max_member_bytes)} "
                "uncompressed (raise it with --max-member-size)"
            )
        if opts.read_bytes > opts.max_total_bytes:
            raise ArchiveLimitError(
                f"{self._label}: the run read past the total limit of {_size(opts.max_total_bytes)} "
                "uncompressed from bundles (raise it with --max-total-size)"
            )

    def close(self) -> None:
        if not self.closed:
            close = getattr(self._blocks, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()
        super().close()


def _size(n: int) -> str:
    for unit, mult in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= mult:
            return f"{n / mult:g} {unit}"
    return f"{n} byte{'s' if n != 1 else ''}"


__all__ = [
    "ArchiveDamagedError",
    "ArchiveLimitError",
    "ArchiveReadError",
    "CDT_DEFAULT_PASSWORD",
    "Listing",
    "MAX_NESTING",
    "Member",
    "Options",
    "Secret",
    "cdt_date",
    "current",
    "bounded",
    "is_bundle_name",
    "is_gzipped",
    "limited",
    "list_bundle",
    "looks_like_bundle",
    "options",
    "parse_size",
    "verify_password",
]
