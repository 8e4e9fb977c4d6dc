"""Files in big blocks of whole lines: the grep-speed way to read a log, bounded in memory.

:func:`iter_blocks` reads a file (plain or gzip, whatever its name) in blocks of
about :data:`BLOCK_SIZE` bytes that end at a line end, each with the number of its
first line and its byte offset, so that a caller can search a block with
``bytes.find`` (C speed) and turn positions into line numbers with ``bytes.count``.

* Memory is bounded by the block size: a line that does not end within a read and
  is longer than ``max_line`` bytes (default :data:`imsvalog.sources.MAX_LINE_BYTES`
  when defined) is not held: it comes as a block of its own with ``long`` set to its
  length and the window holding only its first :data:`LONG_HEAD` bytes.  A shorter
  over-limit line inside a block is in the block; callers reject those they would
  parse.  A gzip bomb is decompressed piece by piece.
* A truncated gzip gives every complete line that can be read, the same lines as
  :func:`imsvalog.sources.iter_lines`, then raises :class:`~imsvalog.errors.ReadError`.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from . import bundles
from .errors import ReadError
from .sources import LogFile

BLOCK_SIZE = 1 << 23
#: compressed bytes handed to zlib at once, and the most it may give back per call
_GZ_IN = 1 << 18
_GZ_OUT = 1 << 22
#: how much of an over-long line is kept
LONG_HEAD = 1024
_GZIP_MAGIC = b"\x1f\x8b"


def default_max_line() -> int:
    """The line-length limit of :mod:`imsvalog.sources` (``MAX_LINE_BYTES``), else 1 MiB."""
    from . import sources

    return int(getattr(sources, "MAX_LINE_BYTES", 1 << 20))


@dataclass(slots=True)
class Block:
    """Whole lines of a file: ``data[start:end]``, ending with ``\\n``, its first line numbered ``line`` (1-based).

    The window saves copying a read buffer: search it with ``data.find(x, start, end)``.
    ``lines`` is the number of lines in it; ``offset`` is where ``data[start]`` is in the
    (decompressed) file.  For an over-long line, ``long`` is its length and the window its head.
    """

    data: bytes
    start: int
    end: int
    line: int
    offset: int
    lines: int
    long: int = 0
    #: the offsets of the window's newlines (:func:`newlines`), when asked for (``iter_blocks(with_newlines=True)``)
    #: and the window is big: its ``lines`` is their number, counted once
    nl: Any = None


_LIBC: list[object] = []


def give_back_free_memory() -> bool:
    """Return the free pages of glibc's heap to the system (``malloc_trim(0)``); True when done (glibc),
    False elsewhere.  Called by readers that hold many records once they have let go of big buffers.

    glibc raises its mapping threshold to the biggest buffer freed so far, so after the first 8 MB
    block the blocks are carved from the heap; the records made meanwhile settle between them, and the
    freed blocks (and the bytes a second process sent) stay in the process as free heap.  ``malloc_trim``
    hands those pages back without moving anything (measured at 1 GB of log.imss with 27 % marker
    lines: ~20 MB of the peak RSS of ``correlate``).
    """
    if not _LIBC:
        fn = None
        try:
            import ctypes

            libc = ctypes.CDLL(None)
            if getattr(libc, "gnu_get_libc_version", None) is not None:
                fn = libc.malloc_trim
                fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
        except (OSError, AttributeError):
            fn = None
        _LIBC.append(fn)
    trim = _LIBC[0]
    if trim is None:
        return False
    trim(0)  # type: ignore[operator]
    return True


#: blocks at least this big count their newlines with numpy (twice as fast as ``bytes.count``)
_NUMPY_FROM = 1 << 20


def count_lines(data: bytes, start: int = 0, end: int | None = None) -> int:
    """Newlines in ``data[start:end]``."""
    end = len(data) if end is None else end
    if end - start < _NUMPY_FROM:
        return data.count(b"\n", start, end)
    import numpy as np  # a pandas dependency; imported only for big inputs

    return int(np.count_nonzero(np.frombuffer(data, np.uint8, end - start, start) == 10))


#: the piece of a block :func:`newlines` looks at at once (its buffer stays in the cache)
_PIECE = 1 << 18
#: blocks at least this big get their newlines' offsets when asked for (``iter_blocks(with_newlines=True)``)
NEWLINES_FROM = 1 << 16
_NEWLINE_BUFFER: list[Any] = []


def newlines(data: bytes, start: int, end: int) -> Any:
    """Offsets of the newlines in ``data[start:end]``, in order, as a numpy array (C speed; a piece at a time
    into a small buffer kept for the next block: a new array as big as a block would settle between the
    records kept)."""
    import numpy as np  # a pandas dependency; imported only for big inputs

    if not _NEWLINE_BUFFER or len(_NEWLINE_BUFFER[0]) != _PIECE:
        _NEWLINE_BUFFER[:] = [np.empty(_PIECE, np.bool_)]
    buf = _NEWLINE_BUFFER[0]
    parts = []
    for at in range(start, end, _PIECE):
        n = min(_PIECE, end - at)
        np.equal(np.frombuffer(data, np.uint8, n, at), 10, out=buf[:n])
        parts.append(np.flatnonzero(buf[:n]) + at)
    return parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.empty(0, np.intp)


class _Truncated(EOFError):
    pass


class WholeUnchecked(zlib.error):
    """A gzip whose deflate data ended properly (zlib reached the end of its last block), after which nothing follows,
    but whose 8-byte trailer (CRC-32 and length) does not match the bytes inflated or is cut off: nothing of it is
    left unread, but its lines may be garbled (a corrupt block can still inflate to the end).  Not a cut in its last
    deflate block (that is :class:`_Truncated`: lines are lost)."""


def gzip_pieces(  # type: ignore[no-untyped-def]
    fh, first: bytes = b"", piece: int | None = None, read: Callable[[int], bytes] | None = None,
) -> Iterator[bytes]:
    """Decompressed bytes of a gzip file (several members allowed), bounded per piece; ``first``: its bytes already
    read from ``fh``; ``piece``: the most bytes in one (:data:`_GZ_OUT`); ``read``: how ``fh`` is read (a bundle
    member's ``read1``: a read that fails loses nothing read before it).  Every reader of gzip logs decompresses with it (correlate's blocks, and the line reader of
    parse, trace and the rotation checks, :func:`imsvalog.sources._open_salvaging`), so all read the same lines.

    A stream that ends early gives everything that could be decompressed, then raises
    :class:`_Truncated`; one whose deflate data ended properly, with only its trailer bad or cut off and nothing
    after it, gives every byte, then raises :class:`WholeUnchecked`.
    """
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    inflated = False  # has the member being read given bytes? (a bad header of a next member garbles nothing)
    comp = first
    piece = _GZ_OUT if piece is None else piece
    read = fh.read if read is None else read
    while True:
        comp = comp or read(_GZ_IN)
        if not comp:
            if not d.eof:
                if _in_trailer(d):  # the data ended properly; the file was cut in its 8-byte trailer
                    raise WholeUnchecked(TRAILER_CUT)
                raise _Truncated("Compressed file ended before the end-of-stream marker was reached")
            return
        while comp:
            before = d.copy()
            try:
                out = d.decompress(comp, piece)
            except zlib.error as exc:  # bad data (a CRC, a corrupt block): what comes out before it, then the error
                failed: list[int] = []
                for salvaged in _before_the_error(before, comp, failed):
                    inflated = True
                    yield salvaged
                check = _CHECK_FAILED.search(str(exc))
                if check and failed and _nothing_after(comp[failed[0] + 1 :], read, 4 if check[1] == "data" else 0):
                    raise WholeUnchecked(f"its data check failed: {exc} ({CORRUPT_WORDS})") from None
                if inflated or check:
                    raise zlib.error(f"{exc} ({CORRUPT_WORDS})") from None
                raise
            if out:
                inflated = True
                yield out
            comp = d.unconsumed_tail
            if d.eof:
                rest = d.unused_data
                if rest.strip(b"\0"):  # another member follows (zeros before it, or at the end, are padding)
                    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    inflated = False
                    comp = rest.lstrip(b"\0")
                else:
                    comp = b""
        comp = b""


#: zlib's words for a member whose data does not match its trailer (CRC-32 or length): found only at its end
_CHECK_FAILED = re.compile(r"incorrect (data|length) check")
#: what bad data found after some of a member was inflated means for the lines read, said after zlib's words: zlib
#: may inflate garbage for a while before it finds a bad block or the data check (attack s24c F1: a flipped byte
#: inflated to garbled lines that made an 'IMSVA fired' row; s24d F3: 90 garbled lines before 'invalid distance')
CORRUPT_WORDS = "the file is corrupt: the lines read from it may be garbled from an unknown line on"
#: a gzip cut in its 8-byte trailer, after its deflate data ended properly (:class:`WholeUnchecked`)
TRAILER_CUT = ("it ends inside its 8-byte gzip trailer: the data check could not be made, so whether the lines "
               "are as written is not known")


def _in_trailer(d: Any) -> bool:
    """Is the gzip decompressor ``d``, which has used all its input without reaching the member's end, inside the
    member's 8-byte trailer (its deflate data ended properly: every byte was given)?  Asked of copies fed two probes
    whose every bit differs, a byte at a time: inside the trailer, both give no byte and end in a failed data check
    (or, by a chance of 2**-32, match it); inside the deflate data, the two bits that follow lead to different
    symbols, so at most one probe can end the last block with no byte given."""
    for probe in (b"\0" * 8, b"\xff" * 8):
        t = d.copy()
        try:
            for i in range(len(probe)):
                if t.decompress(probe[i : i + 1]) or t.unconsumed_tail:
                    return False
                if t.eof:
                    break
        except zlib.error as exc:
            if not _CHECK_FAILED.search(str(exc)):
                return False
            continue
        if not t.eof:
            return False
    return True


def _nothing_after(rest: bytes, read: Callable[[int], bytes], skip: int = 0) -> bool:
    """Do ``rest`` and what is left to ``read``, past their first ``skip`` bytes (the trailer's length field after a
    failed CRC), hold nothing but zeros (padding)?  Read until a byte that is not zero, in bounded pieces."""
    while len(rest) < skip and (more := read(_GZ_IN)):
        rest += more
    if rest[skip:].strip(b"\0"):
        return False
    while piece := read(_GZ_IN):
        if piece.strip(b"\0"):
            return False
    return True


def _before_the_error(d: Any, comp: bytes, failed: list[int] | None = None) -> Iterator[bytes]:
    """What the decompressor ``d`` gives of ``comp`` (on which it raises an error) before the error: fed a KiB at a
    time, the KiB that fails then a byte at a time.  One call on the whole chunk gives nothing when it fails (up to
    :data:`_GZ_OUT` bytes of good lines lost, where ``imsvalog parse``'s stream keeps them).  ``failed`` is given the
    offset in ``comp`` of the byte on which it fails."""
    step, at = 1024, 0
    while at < len(comp) and not d.eof:
        piece = comp[at : at + step]
        keep = d.copy()
        try:
            out = d.decompress(piece)  # a KiB inflates to at most ~1 MiB
        except zlib.error:
            if step == 1:
                if failed is not None:
                    failed.append(at)
                return
            d, step = keep, 1
            continue
        if out:
            yield out
        at += len(piece)


def seekable(f: LogFile) -> bool:
    """Can parts of the file be read by offset (a plain file, not gzip, not a bundle member)?"""
    if getattr(f, "member", None) is not None or _by_lines(f, default_max_line()):
        return False
    with open(f.path, "rb") as fh:
        return fh.read(2) != _GZIP_MAGIC


def _by_lines(f: LogFile, limit: int) -> bool:
    """Lines that only :func:`imsvalog.sources.iter_lines` knows how to cut: a view of a
    syslog-forwarded file (unwrapped lines of one host and kind), or CR-only line ends."""
    if getattr(f, "syslog", None) is not None:
        return True
    try:
        with _open(f) as fh:
            head = fh.read(min(limit + 2, 1 << 16))
    except OSError:
        return False
    if head[:2] == _GZIP_MAGIC:
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 1 << 16)
        except zlib.error:
            return False
    return b"\n" not in head and b"\r" in head


def _line_blocks(f: LogFile, limit: int) -> Iterator[Block]:
    """Blocks built from :func:`imsvalog.sources.iter_lines` (slower; for what only it can read)."""
    from .sources import iter_lines

    parts: list[bytes] = []
    size = n = 0
    line, offset = 1, 0
    lines = iter_lines(f, max_line=limit)
    while True:
        try:
            lineno, text = next(lines)
        except StopIteration:
            break
        except ReadError:
            if parts:
                data = b"".join(parts)
                yield Block(data, 0, len(data), line, offset, n)
            raise
        length = getattr(text, "length", None)
        if length is not None:  # an over-long line: its head and length
            if parts:
                data = b"".join(parts)
                yield Block(data, 0, len(data), line, offset, n)
                offset += len(data)
                parts, size, n = [], 0, 0
            head = str(text).encode("utf-8", "surrogateescape")
            yield Block(head, 0, len(head), lineno, offset, 1, length)
            offset += len(head) + 1
            line = lineno + 1
            continue
        if parts and lineno != line + n:  # a gap (a view of a syslog-forwarded file): blocks hold consecutive lines
            data = b"".join(parts)
            yield Block(data, 0, len(data), line, offset, n)
            offset += len(data)
            parts, size, n = [], 0, 0
        if not parts:
            line = lineno
        raw = text.encode("utf-8", "surrogateescape") + b"\n"
        parts.append(raw)
        size += len(raw)
        n += 1
        if size >= BLOCK_SIZE:
            data = b"".join(parts)
            yield Block(data, 0, len(data), line, offset, n)
            offset += len(data)
            line += n
            parts, size, n = [], 0, 0
    if parts:
        data = b"".join(parts)
        yield Block(data, 0, len(data), line, offset, n)


def _open(f: LogFile):  # type: ignore[no-untyped-def]
    member = getattr(f, "member", None)
    return member.open() if member is not None else open(f.path, "rb")


def _pieces(f: LogFile) -> Iterator[bytes]:
    with _open(f) as fh:
        if getattr(f, "member", None) is not None:  # a bundle member: its stream may raise at any block (a bad CRC)
            if fh.peek(2)[:2] == _GZIP_MAGIC:
                yield from bundles.limited(gzip_pieces(fh, read=fh.read1), str(f.path))
            else:
                yield from _gathered(fh)
            return
        first = fh.read(BLOCK_SIZE)
        if first[:2] == _GZIP_MAGIC:  # held to --max-member-size/--max-total-size (bundles.limited)
            yield from bundles.limited(gzip_pieces(fh, first), str(f.path))
            return
        piece = first
        while piece:
            yield piece
            piece = fh.read(BLOCK_SIZE)


def _gathered(fh: Any) -> Iterator[bytes]:
    """Pieces of :data:`BLOCK_SIZE` bytes of a buffered stream gathered one read of its own at a time (``read1``): when
    a read fails (a zip member's bad CRC, found at its end), the bytes before it are given, then the error (``read(n)``
    would lose all it had gathered; attack s24b F2: a 6 MB zip member with one bad byte gave correlate no line, parse
    42,240)."""
    parts: list[bytes] = []
    size = 0
    while True:
        try:
            got = fh.read1(BLOCK_SIZE - size)
        except BaseException:
            if parts:
                yield b"".join(parts)
            raise
        if not got:
            break
        parts.append(got)
        size += len(got)
        if size >= BLOCK_SIZE:
            yield b"".join(parts)
            parts, size = [], 0
    if parts:
        yield b"".join(parts)


def _range_pieces(f: LogFile, start: int, stop: int) -> Iterator[bytes]:
    with open(f.path, "rb") as fh:
        fh.seek(start)
        pos = start
        while pos < stop:
            piece = fh.read(min(BLOCK_SIZE, stop - pos))
            if not piece:
                return
            pos += len(piece)
            yield piece


def split_point(f: LogFile, at: int) -> int:
    """The start of the first line at or after byte ``at`` of a plain file (its size if none)."""
    with open(f.path, "rb") as fh:
        if at <= 0:
            return 0
        fh.seek(at - 1)
        pos = at - 1
        while True:
            piece = fh.read(1 << 16)
            if not piece:
                return pos
            i = piece.find(b"\n")
            if i != -1:
                return pos + i + 1
            pos += len(piece)


def iter_blocks(
    f: LogFile, max_line: int | None = None, start: int = 0, stop: int | None = None, with_newlines: bool = False
) -> Iterator[Block]:
    """Blocks of whole lines of ``f``, in order; see the module docstring.

    A last line without a final newline is given one.  Raises :class:`ReadError` (with the
    number of lines read) when the file cannot be read on; the blocks before it stand,
    and a line cut off by the end of a truncated gzip is not one.  ``start``/``stop`` read
    one part of a plain file (both at line starts, see :func:`split_point`); offsets then
    count from ``start`` and lines from 1.  ``with_newlines``: blocks of at least
    :data:`NEWLINES_FROM` bytes carry their newlines' offsets (``Block.nl``; lines are counted from them).
    """
    limit = default_max_line() if max_line is None else max_line
    if start or stop is not None:
        state = _State(limit, with_newlines)
        try:
            for piece in _range_pieces(f, start, stop if stop is not None else 1 << 62):
                yield from state.feed(piece)
            yield from state.finish()
        except OSError as exc:
            raise ReadError(str(f.path), state.line - 1, str(exc) or type(exc).__name__) from None
        return
    if _by_lines(f, limit):
        yield from _line_blocks(f, limit)
        return
    state = _State(limit, with_newlines)
    try:
        for piece in _pieces(f):
            yield from state.feed(piece)
        yield from state.finish()
    except _Truncated as exc:  # the cut line's readable bytes go with it (as iter_lines does)
        cut = state.head if state.long else state.carry
        raise ReadError(str(f.path), state.line - 1, str(exc), cut.decode("utf-8", "surrogateescape")) from None
    except WholeUnchecked as exc:  # every line was given: a last one without newline is a line, not a cut one
        yield from state.finish()
        raise ReadError(str(f.path), state.line - 1, str(exc), whole=True) from None
    except (OSError, EOFError, zlib.error) as exc:
        raise ReadError(str(f.path), state.line - 1, str(exc) or type(exc).__name__) from None


class _State:
    """Cutting pieces into blocks: a piece's whole lines in place, the line that straddles two pieces
    on its own, an over-long line skipped."""

    def __init__(self, limit: int, with_newlines: bool = False) -> None:
        self.limit = limit
        self.with_newlines = with_newlines
        self.carry = b""
        self.line = 1
        self.offset = 0
        self.long = 0  # > 0 while skipping the rest of an over-long line: its length so far
        self.head = b""
        self.cr = False  # the over-long line's bytes so far end in CR (not counted when LF follows, as iter_lines)

    def _block(self, data: bytes, start: int, end: int) -> Block:
        nl = newlines(data, start, end) if self.with_newlines and end - start >= NEWLINES_FROM else None
        n = count_lines(data, start, end) if nl is None else len(nl)
        b = Block(data, start, end, self.line, self.offset, n, 0, nl)
        self.line += n
        self.offset += end - start
        return b

    def _end_long(self, cr: bool = False) -> Block:
        b = Block(self.head, 0, len(self.head), self.line, self.offset, 1, self.long - cr)
        self.offset += self.long + 1
        self.line += 1
        self.long, self.head = 0, b""
        return b

    def _start_long(self, text: bytes) -> None:
        self.long, self.head, self.cr = len(text), text[:LONG_HEAD], text.endswith(b"\r")

    def feed(self, piece: bytes) -> Iterator[Block]:
        start = 0
        if self.long or self.carry:
            i = piece.find(b"\n")
            if i == -1:
                if self.long:
                    self.long += len(piece)
                    self.cr = piece.endswith(b"\r")
                else:
                    self.carry += piece
                    if len(self.carry) > self.limit:
                        self._start_long(self.carry)
                        self.carry = b""
                return
            if self.long:
                self.long += i
                yield self._end_long(piece[i - 1 : i] == b"\r" if i else self.cr)
            else:
                line = self.carry + piece[: i + 1]
                self.carry = b""
                if len(line) - 1 > self.limit:
                    self._start_long(line[:-1])
                    self.long = len(line) - 1
                    yield self._end_long(self.cr)
                else:
                    yield self._block(line, 0, len(line))
            start = i + 1
        cut = piece.rfind(b"\n", start) + 1
        if cut > start:
            yield self._block(piece, start, cut)
        else:
            cut = start
        rest = piece[cut:]
        if len(rest) > self.limit:
            self._start_long(rest)
        else:
            self.carry = rest

    def finish(self) -> Iterator[Block]:
        if self.long:
            yield self._end_long()
        elif self.carry:
            line, self.carry = self.carry + b"\n", b""
            yield self._block(line, 0, len(line))


__all__ = ["BLOCK_SIZE", "Block", "count_lines", "iter_blocks", "newlines", "seekable", "split_point"]
