"""Reading log.imss for correlation: the marker lines, the scan sessions that matter, and an index of every scan.

:func:`read_spoof_sessions` finds the lines that carry session markers with a
byte-level prefilter, parses in full only the scans that hold an AntiSpoofFilter
evaluation, and indexes the others (:class:`ScanIndex`) for the "why no trace"
evidence. :func:`read_sessions` builds every session (the reference the fast path
is tested against).
"""

from __future__ import annotations

import os
import re
from array import array
from bisect import bisect_right
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import MISSING, dataclass, field, replace
from dataclasses import fields as dataclass_fields
from functools import lru_cache, partial
from datetime import datetime
from typing import TYPE_CHECKING, overload

from ..blocks import (
    BLOCK_SIZE, LONG_HEAD, Block, default_max_line, give_back_free_memory, iter_blocks, newlines, seekable, split_point,
)
from ..errors import InputError, ReadError
from ..grammars import imss
from ..grammars.received import PARSE_CACHE, parse_received
from ..grammars.common import (
    MAX_DIGITS, MAX_INTEGER, MAX_YEAR, MIN_YEAR, ParseFailure, integer, make_time, required_literal,
)
from ..readers import parse_line, unreadable_rest
from ..records import AcceptConnection, ImssRecord, MessageIdLine, Reject, ScanFinished, Source
from ..scan_sessions import MARKER_NEEDLES, SPOOF_FILTER, ScanSession, SessionBuilder, cut_words, gap_after, not_read_to_end
from ..sources import LogFile, LongLine, ScanStats, decode, file_size
from ..workers import bad_workers_message, workers_of
from ..workers import StreamedPart

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

#: progress callback: bytes read so far, bytes in all (uncompressed where known), the file being read
ProgressFn = Callable[[int, int, str], None]
#: what :class:`ScanIndex` takes of a session (:meth:`ScanIndex.marks_of`)
_Marks = tuple[list[tuple["str | None", "str | None", str, int]], datetime, datetime]


@overload
def internal_key(iid: str) -> str: ...
@overload
def internal_key(iid: str | None) -> str | None: ...
def internal_key(iid: str | None) -> str | None:
    """An internal ID as IDs are compared (IMSVA writes them in capitals; ``trace`` finds them in any case).

    >>> internal_key(" 87bdadc9-87b8-3d05-a958-0267a8088406 ")
    '87BDADC9-87B8-3D05-A958-0267A8088406'
    """
    return iid.strip().upper() if iid is not None else None


def normalize_message_id(mid: str | None) -> str | None:
    if not mid:
        return None
    return mid.strip().strip("<>").strip().lower() or None


def _marker_starts(data: bytes, needles: Sequence[bytes], start: int, end: int) -> list[int]:
    """Start offsets of the lines of ``data[start:end]`` (whole lines) that contain any of ``needles``,
    in order (``bytes.find``: C speed)."""
    starts: set[int] = set()
    find, rfind = data.find, data.rfind
    for needle in needles:
        i = find(needle, start, end)
        while i != -1:
            starts.add(rfind(b"\n", start, i) + 1 or start)
            i = find(needle, find(b"\n", i) + 1, end)
    return sorted(starts)


def _text(raw: bytes) -> str:
    return decode(raw[:-1] if raw.endswith(b"\r") else raw)


def _sources(name: str, numbers: Sequence[int], joined: bytes, shift: int = 0) -> list[Source]:
    """The lines ``joined`` by newlines, numbered ``numbers`` (plus ``shift``), as :func:`_text` makes each:
    decoded at once (a newline is never part of a longer UTF-8 sequence, so each line's bytes decode, or
    are escaped, as on their own), a final CR dropped only where there is one."""
    texts = decode(joined).split("\n")
    if b"\r" in joined:
        texts = [t[:-1] if t.endswith("\r") else t for t in texts]
    make = _make_source()
    return [make(name, n + shift, t) for n, t in zip(numbers, texts)]


def _make_source() -> Callable[[str, int, str], Source]:
    """:class:`Source` made as :func:`_maker` makes records (the same object, its slots set directly)."""
    return _maker(Source)  # type: ignore[arg-type, return-value]


# ---------------------------------------------------------------------------
# Every line accounted for: the lines that would not parse are rejects, as in ``parse``
# ---------------------------------------------------------------------------

_MONTH_DAY = (
    rb"(?:(?:0[1-9]|1[0-2])/(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])/(?:29|30)|(?:0[13578]|1[02])/31)"
)
#: the most digits a number surely fits an integer field with: one more may already be past
#: MAX_INTEGER (a reject, as a number of more than MAX_DIGITS digits is)
_SURE_DIGITS = len(str(MAX_INTEGER)) - 1
assert _SURE_DIGITS < MAX_DIGITS
#: the start of a line that surely parses: log.imss's usual layout with real values (a year
#: MIN_YEAR..MAX_YEAR, a real day of its month, but 29 February, which is checked in full;
#: hour, minute, second and offset in range) and a [pid:tid] of at most _SURE_DIGITS digits each
_SURE_DATE = rb"(?:19[7-9]|2[01][0-9])[0-9]/" + _MONTH_DAY
_SURE_CLOCK = rb"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
_SURE_OFFSET = rb"[+-](?:[01][0-9]|2[0-3]):[0-5][0-9]"
_SURE_NUMBER = rb"[0-9]{1,%d}" % _SURE_DIGITS


def _sure_head(date: bytes, offset: bytes, pid: bytes) -> bytes:
    """:data:`_SURE_HEAD` with the given patterns for date, offset and pid (each field is checked on its own)."""
    return date + b" " + _SURE_CLOCK + b" GMT" + offset + rb" \[" + pid + b":" + _SURE_NUMBER + rb"\]"


_SURE_HEAD = _sure_head(_SURE_DATE, _SURE_OFFSET, _SURE_NUMBER)
assert (MIN_YEAR, MAX_YEAR) == (1970, 2199), "_SURE_HEAD's year range follows grammars.common"
_SURE_START = re.compile(_SURE_HEAD)
#: a sure start, its date, offset and pid as groups
_SURE_PARTS = re.compile(_sure_head(b"(" + _SURE_DATE + b")", b"(" + _SURE_OFFSET + b")", b"(" + _SURE_NUMBER + b")"))
#: a line end not followed by a sure start (the regex engine finds them at C speed)
_UNSURE_START = re.compile(rb"\n(?!" + _SURE_HEAD + rb")")
#: a number that may not fit an integer field (a reject in the body shapes that hold one)
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_TOO_MANY_DIGITS = b"0" * (_SURE_DIGITS + 1)


#: a number of more digits than :data:`_SURE_DIGITS`
_LONG_NUMBER = re.compile(rb"[0-9]{%d}" % (_SURE_DIGITS + 1))
#: blocks at least this big are searched for long numbers with numpy (four times as fast)
_NUMPY_FROM = 1 << 16


def _long_numbers_small(data: bytes, start: int, end: int) -> Iterator[int]:
    """Start offsets of the lines of ``data[start:end]`` (whole lines) holding a number of more than
    :data:`_SURE_DIGITS` digits: every digit made ``0``, then ``bytes.find``."""
    digits = (data if start == 0 and end == len(data) else data[start:end]).translate(_DIGITS_AS_ZERO)
    i = digits.find(_TOO_MANY_DIGITS)
    while i != -1:
        yield start + digits.rfind(b"\n", 0, i) + 1
        e = digits.find(b"\n", i)
        i = digits.find(_TOO_MANY_DIGITS, e + 1) if e != -1 else -1


#: the piece of a block :func:`_long_numbers` looks at at once (its buffers stay in the cache)
_PIECE = 1 << 18


class _DigitBuffers:
    """Work buffers of :func:`_long_numbers`, made once per process (a new big array per block costs
    its page faults, as much as the work)."""

    def __init__(self) -> None:
        import numpy as np  # a pandas dependency; only for big blocks

        self.np = np
        self.byte = np.empty(_PIECE, np.uint8)
        self.digit = np.empty(_PIECE, np.bool_)
        self.word = np.empty(_PIECE // 4, np.bool_)
        self.four = np.empty(_PIECE // 4, np.bool_)


_BUFFERS: list[_DigitBuffers] = []


def _long_numbers(data: bytes, start: int, end: int) -> Iterator[int]:
    """:func:`_long_numbers_small` for big blocks, with numpy: a number of at least 19 digits covers
    four whole aligned 4-byte words, wherever it starts (19 - 3 = 16), which a 10-digit thread ID
    never does; each word of digits is one 32-bit compare.  Pieces of :data:`_PIECE` bytes overlap
    by more than such a number; only the places found (rare) are looked at in Python, and the last
    bytes, past the last whole word, by the regex."""
    assert _SURE_DIGITS + 1 >= 19 and (_PIECE - 2 * _SURE_DIGITS) % 4 == 0, "four whole words in every longer number"
    if not _BUFFERS:
        _BUFFERS.append(_DigitBuffers())
    b = _BUFFERS[0]
    np = b.np
    last = -1
    at = start
    while True:
        n = min(_PIECE, end - at) // 4 * 4
        if n < 16:
            break  # the regex below looks at it
        byte, digit, word, four = b.byte[:n], b.digit[:n], b.word[: n // 4], b.four[: n // 4 - 3]
        np.bitwise_xor(np.frombuffer(data, np.uint8, n, at), 48, out=byte)
        np.less(byte, 10, out=digit)
        np.equal(digit.view(np.uint32), 0x01010101, out=word)
        np.logical_and(word[:-3], word[1:-2], out=four)
        four &= word[2:-1]
        four &= word[3:]
        if four.any():
            for w in np.flatnonzero(four).tolist():
                p = at + 4 * w
                if p <= last:
                    continue  # in a line already looked at
                s = data.rfind(b"\n", start, p) + 1 or start
                e = data.find(b"\n", p, end)
                last = end if e == -1 else e
                if _LONG_NUMBER.search(data, s, last) is not None:
                    yield s
        if at + _PIECE >= end:
            break
        at += _PIECE - 2 * _SURE_DIGITS
    m = _LONG_NUMBER.search(data, max(start, at + n - 2 * _SURE_DIGITS), end)
    while m is not None:
        s = data.rfind(b"\n", start, m.start()) + 1 or start
        if s > last:
            yield s
        e = data.find(b"\n", m.end(), end)
        m = _LONG_NUMBER.search(data, e + 1, end) if e != -1 else None


#: the most lines of another date, offset or pid that :func:`_unsure_lines` checks one by one
_OTHERS_CHECKED = 256


@lru_cache(maxsize=64)
def _unsure_start_like(date: bytes, offset: bytes, pid: bytes) -> re.Pattern[bytes]:
    """:data:`_UNSURE_START` for lines of this (sure) date, offset and pid: the other lines it finds
    are checked against :data:`_SURE_START` one by one."""
    return re.compile(rb"\n(?!" + _sure_head(re.escape(date), re.escape(offset), re.escape(pid)) + rb")")


@lru_cache(maxsize=64)
def _sure_like(date: bytes, offset: bytes, pid: bytes) -> re.Pattern[bytes]:
    """:data:`_SURE_START` with this (sure) date, offset and pid as literals."""
    return re.compile(_sure_head(re.escape(date), re.escape(offset), re.escape(pid)))




#: a sure head's clock, as written ``HH:MM:SS``, and where it is after the date and a blank
_CLOCK_AT = 11


#: bytes repeated in a 64-bit word: "0", the high bits, the low seven bits, what takes 10..127 to the high bit, "]"
_ZEROS, _HIGH, _LOW7, _TO_HIGH, _CLOSE = (int(x * 8, 16) for x in ("30", "80", "7f", "76", "5d"))


def _unlike_first(data: bytes, starts: NDArray[np.intp], date: bytes, offset: bytes, pid: bytes) -> list[int]:
    """The line starts among ``starts`` whose line does not begin with a sure head of this date,
    offset and pid (``_sure_like(date, offset, pid)``), decided for all lines at once: each line's
    first bytes as one row of a matrix, read as 64-bit words: its literal bytes compared with the
    head's under a mask, its clock's fields looked up in tables (:func:`_clock_tables`), its thread number's digits found
    eight at a time (a byte is a digit when ``(b ^ 0x30) < 10``, tested in every byte of a word at
    once without carries).  The bytes after a line's own newline may be in its row; they never
    decide (a newline fails every column before them).  Lines too near the end of ``data`` for a
    whole row go through the regex."""
    import numpy as np

    prefix = date + b" 00:00:00 GMT" + offset + b" [" + pid + b":"
    assert len(date) + 1 == _CLOCK_AT == 11 and prefix[_CLOCK_AT - 1 : _CLOCK_AT + 12] == b" 00:00:00 GMT"
    head = -(-len(prefix) // 8) * 8  # the prefix in whole words
    q, r = divmod(len(prefix), 8)  # the word the thread number begins in, and its byte there
    # then up to 15 digits of the thread number and "]": two words from the prefix's end, made of three
    width = max(head, 8 * (q + (3 if r else 2)))  # a row is whole words: read as such where it was gathered
    a = np.frombuffer(data, np.uint8)
    top = len(a) - width  # the last start with a whole row
    whole = int(starts.searchsorted(top, side="right")) if top >= 0 else 0
    every = np.lib.stride_tricks.as_strided(a, shape=(max(top + 1, 0), width), strides=(1, 1), writeable=False)
    literal = bytearray(b"\xff" * len(prefix) + b"\0" * (head - len(prefix)))
    for c in (0, 1, 3, 4, 6, 7):
        literal[_CLOCK_AT + c] = 0  # the clock's digits, checked below
    mask = np.frombuffer(bytes(literal), "<u8")
    want = np.frombuffer(prefix.ljust(head, b"\0"), "<u8") & mask
    out: list[int] = []
    for at in range(0, whole, _ROWS):  # some thousands of rows at once: small arrays, made and freed in the cache
        body = starts[at : min(at + _ROWS, whole)]
        words = every[body].view("<u8")  # the only copy: each row's bytes, gathered
        ok = (words[:, 0] & mask[0]) == want[0]
        for k in range(1, len(mask)):
            ok &= (words[:, k] & mask[k]) == want[k]
        hours, sixty = _clock_tables()  # the clock's two-digit fields, each a 16-bit index into a table
        ok &= hours[(words[:, 1] >> np.uint64(24)) & np.uint64(0xFFFF)]  # bytes 11-12
        ok &= sixty[words[:, 1] >> np.uint64(48)]  # bytes 14-15
        ok &= sixty[(words[:, 2] >> np.uint64(8)) & np.uint64(0xFFFF)]  # bytes 17-18
        if r:  # the two words after the prefix, shifted together from three
            lo, hi = np.uint64(8 * r), np.uint64(64 - 8 * r)
            t0 = (words[:, q] >> lo) | (words[:, q + 1] << hi)
            t1 = (words[:, q + 1] >> lo) | (words[:, q + 2] << hi)
        else:
            t0, t1 = words[:, q], words[:, q + 1]
        x0, x1 = t0 ^ np.uint64(_ZEROS), t1 ^ np.uint64(_ZEROS)
        low7, to_high, high = np.uint64(_LOW7), np.uint64(_TO_HIGH), np.uint64(_HIGH)
        o0 = (((x0 & low7) + to_high) | x0) & high  # high bit: not a digit
        o1 = (((x1 & low7) + to_high) | x1) & high
        later = o0 == 0  # eight digits or more: the first byte that is not one is in the second word
        first = np.where(later, o1, o0)
        lowest = first & (~first + np.uint64(1))  # its high bit (none: sixteen digits, left to the regex)
        byte = (lowest >> np.uint64(7)) * np.uint64(0xFF)
        ends = ((np.where(later, t1, t0) ^ np.uint64(_CLOSE)) & byte) == 0  # it is "]"
        ok &= ends & (lowest != 0) & (later | (lowest != 0x80))  # and not the first byte: one digit at least
        out += body[~ok].tolist()
    if whole < len(starts):
        sure = _sure_like(date, offset, pid).match
        out += [p for p in starts[whole:].tolist() if sure(data, p) is None]
    return out


@lru_cache(maxsize=1)
def _clock_tables() -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Which two bytes (the first the low byte of a 16-bit number) are an hour ``00``-``23``, and which a
    minute or second ``00``-``59``: the clock's fields looked up in the 64-bit words of each line's head
    (:func:`_unlike_first`), three lookups for all lines at once."""
    import numpy as np

    hours, sixty = np.zeros(1 << 16, np.bool_), np.zeros(1 << 16, np.bool_)
    for n in range(60):
        tens, ones = divmod(n, 10)
        sixty[(48 + tens) | (48 + ones) << 8] = True
        hours[(48 + tens) | (48 + ones) << 8] = n < 24
    return hours, sixty


#: lines whose heads :func:`_unlike_first` checks at once
_ROWS = 1 << 13


def _unsure_lines(data: bytes, start: int, end: int, limit: int, nl: NDArray[np.intp] | None = None) -> list[int]:
    """Start offsets of the lines of ``data[start:end]`` (whole lines) that might not parse:
    not in the sure layout, holding a number of more than :data:`_SURE_DIGITS` digits (it may
    be past ``MAX_INTEGER``), or longer than ``limit``.  Every other line surely parses (a record), so only these are
    parsed to find the rejects.  ``nl``: the block's :func:`newlines`, when known (then, as in any
    block of at least :data:`_NUMPY_FROM` bytes, the heads are checked with numpy).
    """
    starts: set[int] = set()
    first = _SURE_PARTS.match(data, start) if start < end else None
    if first is None:
        starts.add(start)
        starts.update(m.start() + 1 for m in _UNSURE_START.finditer(data, start, end - 1))
    else:  # most lines share the first's date, offset and pid: checked for all lines at once (numpy),
        # or, in a small block, by a regex with these as literals
        if nl is None and end - start >= _NUMPY_FROM:
            nl = newlines(data, start, end)
        if nl is not None:
            inner = nl[: int(nl.searchsorted(end - 1))] + 1  # the starts of the lines after the first
            other = _unlike_first(data, inner, first[1], first[2], first[3])
        else:
            other = [m.start() + 1 for m in _unsure_start_like(*first.groups()).finditer(data, start, end - 1)]
        if len(other) > _OTHERS_CHECKED:
            other = [m.start() + 1 for m in _UNSURE_START.finditer(data, start, end - 1)]
        sure = _SURE_START.match
        starts.update(p for p in other if sure(data, p) is None)
    starts.update((_long_numbers if end - start >= _NUMPY_FROM else _long_numbers_small)(data, start, end))
    if end - start > limit:  # a line over the limit has a window of limit/2 bytes without a line end
        step = max(1, limit // 2)
        p = start
        while p + step <= end:
            if data.find(b"\n", p, p + step) != -1:
                p += step
                continue
            s = data.rfind(b"\n", start, p) + 1 or start
            e = data.find(b"\n", p + step, end)
            e = end - 1 if e == -1 else e
            if e - s > limit:
                starts.add(s)
            p = e + 1
    return sorted(starts)


def _account(
    data: bytes, start: int, end: int, line: int, name: str, rejects: list[Reject], limit: int,
    nl: NDArray[np.intp] | None = None,
) -> list[int]:
    """The rejects among the lines of ``data[start:end]`` (``line``: the first's number), as
    ``imsvalog parse`` finds them: only the lines :func:`_unsure_lines` gives are parsed.  Returns
    those lines' starts: every other line begins with a sure head (:data:`_SURE_START`)."""
    counted = start
    unsure = _unsure_lines(data, start, end, limit, nl)
    for s in unsure:
        line += data.count(b"\n", counted, s)
        counted = s
        e = data.find(b"\n", s, end)
        raw = data[s : end if e == -1 else e]
        if len(raw) > limit:
            rejects.append(_long_reject(name, line, raw, len(raw)))
            continue
        item = parse_line("imss", Source(name, line, _text(raw)))
        if isinstance(item, Reject):
            rejects.append(item)
    return unsure


def _unique_rejects(rejects: list[Reject], since: int, files: Sequence[LogFile]) -> None:
    """``rejects[since:]`` once per line (several passes may reject the same line), in file and line order."""
    order = {str(f.path): i for i, f in enumerate(files)}
    seen: dict[tuple[str, int], Reject] = {}
    for r in rejects[since:]:
        seen.setdefault((r.source.file, r.source.line), r)
    rejects[since:] = sorted(seen.values(), key=lambda r: (order.get(r.source.file, len(order)), r.source.line))


def _long_reject(name: str, line: int, head: bytes, length: int) -> Reject:
    """An over-long line's reject, worded as ``parse`` words it (:class:`~imsvalog.sources.LongLine`)."""
    long = LongLine(_text(head[:LONG_HEAD]), length, default_max_line())
    return Reject(Source(name, line, str(long)), "imss", long.reason)


def _blocks(
    files: Sequence[LogFile], rejects: list[Reject], stats: ScanStats, progress: ProgressFn | None, total: int,
    unread: dict[int, ReadError] | None = None,
) -> Iterator[tuple[int, str, Block]]:
    """``(file index, file name, block)`` over all files in order; over-long lines become rejects,
    a file that stops being readable ends with one (and its error in ``unread``, by file index, before the next
    file's blocks); ``stats`` counts every line and byte."""
    done = 0
    for fi, f in enumerate(files):
        name = str(f.path)
        on_error = None if unread is None else partial(unread.__setitem__, fi)
        for b in _file_blocks(f, rejects, stats, progress, total, done, unread=on_error):
            yield fi, name, b
        done += file_size(f)


def _marker_lines(
    files: Sequence[LogFile],
    rejects: list[Reject],
    stats: ScanStats,
    progress: ProgressFn | None,
    total: int,
    unread: dict[int, ReadError] | None = None,
) -> Iterator[tuple[int, Source]]:
    """The lines that carry session markers, file after file (see :func:`_blocks`), each with its file's index."""
    limit = default_max_line()
    for fi, name, b in _blocks(files, rejects, stats, progress, total, unread):
        data, line, counted = b.data, b.line, b.start
        _account(data, b.start, b.end, b.line, name, rejects, limit)
        for s in _marker_starts(data, MARKER_NEEDLES, b.start, b.end):
            line += data.count(b"\n", counted, s)
            counted = s
            raw = data[s : data.find(b"\n", s)]
            if len(raw) > limit:
                rejects.append(_long_reject(name, line, raw, len(raw)))
            else:
                yield fi, Source(name, line, _text(raw))


def read_sessions(
    files: Sequence[LogFile],
    rejects: list[Reject],
    stats: ScanStats,
    progress: ProgressFn | None = None,
    total: int = 0,
) -> list[ScanSession]:
    """Every scan session of log.imss files in order, parsing every line that carries a marker.

    The reference that :func:`read_spoof_sessions` is tested against; :func:`imsvalog.sessions` uses it.
    """
    since = len(rejects)
    builder = SessionBuilder()
    sessions: list[ScanSession] = []
    gaps = gap_after(files)
    unread: dict[int, ReadError] = {}  # a file's read error, known once its blocks are read
    at = 0  # the file of the lines fed so far: the sessions open at a gap or read error after it end there
    for fi, src in _marker_lines(files, rejects, stats, progress, total, unread):
        for i in range(at, fi) if gaps or unread else ():
            if (words := cut_words(files, i, gaps, unread)) is not None:
                sessions.extend(builder.flush(words))
        at = fi
        item = parse_line("imss", src)
        if isinstance(item, Reject):
            rejects.append(item)
            continue
        sessions.extend(builder.feed(item))  # type: ignore[arg-type]
    for i in range(at, len(files)):  # as pass 1 ends them (:meth:`_Marker.end_file`), past the last marker line too
        if (words := cut_words(files, i, gaps, unread)) is not None:
            sessions.extend(builder.flush(words))
    sessions.extend(builder.flush())
    _unique_rejects(rejects, since, files)
    return _in_file_order(sessions, files)


def _in_file_order(sessions: list[ScanSession], files: Sequence[LogFile]) -> list[ScanSession]:
    """Sessions by where they start (they close, and so arrive, in another order)."""
    order = {str(f.path): i for i, f in enumerate(files)}
    def first(s: ScanSession) -> tuple[int, int]:
        file, line = s.sources[0]  # a compact session's places, without its texts (a third of the time)
        return order.get(file, 0), line

    sessions.sort(key=first)
    return sessions


#: substrings of the AntiSpoofFilter component lines that show an evaluation of Received headers
#: (a superset of what the received_header, matched_address, ip_list and spoof_verdict shapes need)
_EVALUATION_HINTS = ("parse received header string", "get matched string", "IP address", "Trusted Internal IP List", "riggered")
#: the component form that every trace shape's line has ("AntiSpoofFilter:" / "AntiSpoofFilter::method:")
_EVALUATION_NEEDLE = (SPOOF_FILTER + ":").encode()
#: the line that always starts a new scan, as its shape's literal text
_ACCEPT_NEEDLE = required_literal(imss.ACCEPT_CONNECTION.grammar.re.pattern).encode()  # type: ignore[attr-defined]
_ACCEPT_RE = imss.ACCEPT_CONNECTION.grammar.re  # type: ignore[attr-defined]


@dataclass(slots=True)
class _Pos:
    """A line's place: file index, byte offset in the (decompressed) file, line number."""

    file: int
    offset: int
    line: int


@dataclass(slots=True)
class _Run:
    """One thread's lines from an Accept connection line (or the start of the input) to its next one."""

    thread: str
    tag: bytes  # the thread's ``[pid:tid]`` as logged
    start: _Pos | None  # None: the start of the input
    opened: bool  # began with an Accept connection line
    evaluated: bool = False
    end: _Pos | None = None  # None: the end of the input
    #: why the next file does not continue the run's last file (:func:`gap_after`): it ends with that file (``end``: the
    #: next file's start)
    missing: str | None = None
    lines: list[Source] = field(default_factory=list)
    cut: bool = False  # ``lines`` hold the run's lines
    #: the run's thread's marker lines as a second process cut them (see :func:`_scan_part`): their
    #: numbers and their bytes joined by newlines (two objects, quick to send), made ``lines`` here
    got: tuple[array[int], bytes] | None = None
    #: the run's lines as pass 2 read them again (file name, numbers, bytes joined by newlines: compact while
    #: other runs read with it wait), made ``lines`` when it is built
    read: list[tuple[str, array[int], bytes]] | None = None

    @property
    def end_kind(self) -> str:
        return "end_of_input" if self.end is None or self.missing is not None else "next_scan"

    def last_file(self, files: int) -> int:
        """The index of the last file the run has lines in (``files``: how many are read)."""
        if self.end is None:
            return files - 1
        return self.end.file - 1 if self.missing is not None else self.end.file


def _is_accept(text: str, m: re.Match[str]) -> bool:
    """Would the full parser make this line an Accept connection record?  (Its head is ``m``.)"""
    if m["component"] in imss._NOT_COMPONENTS and m["method"] is None:  # noqa: SLF001 - the parser's own rule
        return isinstance(parse_line("imss", Source("", 0, text)), AcceptConnection)
    return _ACCEPT_RE.match(text, m.end()) is not None


def read_spoof_sessions(
    files: Sequence[LogFile],
    rejects: list[Reject],
    stats: ScanStats,
    progress: ProgressFn | None = None,
    total: int = 0,
) -> tuple[list[ScanSession], ScanIndex]:
    """The scan sessions that matter to spoof triage, found from the AntiSpoofFilter lines.

    1. One pass over big blocks finds, with ``bytes.find``, the AntiSpoofFilter component
       lines and the ``Accept connection`` lines (a session never spans one); only these
       lines are looked at in Python. A thread's run from one Accept line to its next is
       marked when it holds an evaluation of Received headers; the others are only counted.
    2. As soon as a marked run ends, its thread's marker lines are cut from the blocks
       pass 1 still holds (a run is short next to a block), parsed, and cut into sessions
       by the same :class:`~imsvalog.scan_sessions.SessionBuilder` as :func:`read_sessions`
       (a second process cuts the runs of its part and sends their lines back as bytes, two
       objects a run, block by block; this one builds them in the order the runs end, as they come). A run
       the blocks do not hold (it spans files, or began long before) is read again by
       offset (plain files) or in one more pass (gzip, bundle members).

    The :class:`ScanIndex` gets the parsed sessions, the number of scans and the time
    span (from the first and last marker line of every block); the IDs of scans that were
    not parsed are found on demand by :func:`find_scans`. Rejects: the lines this reader
    parses (the marker lines of marked runs, Accept and AntiSpoofFilter lines) and
    over-long lines; ``imsvalog parse`` checks every line. Tests keep the rows equal to
    those built from :func:`read_sessions`.
    """
    index = ScanIndex()
    since = len(rejects)
    pass2 = _Pass2(files, [seekable(f) for f in files], index)
    unparsed_runs, finished_lines = _mark_runs(files, rejects, stats, progress, total, index, pass2)
    sessions, run_rejects = pass2.finish()
    rejects += run_rejects
    _unique_rejects(rejects, since, files)
    index.scans += _unparsed_scans(unparsed_runs, finished_lines, sum(1 for s in sessions if s.end == "scan_finished"))
    give_back_free_memory()
    return _in_file_order(sessions, files), index


#: a line head of real values whose [pid:tid] is short: the text after a line's own head is parsed
#: behind it (:class:`_MarkerParser`)
_CANON_HEAD = "2000/01/01 00:00:00 GMT+00:00 [1:1] "
_PREFIX_RE = imss.PREFIX.re  # type: ignore[attr-defined]


@lru_cache(maxsize=64)
def _maker(cls: type[ImssRecord]) -> Callable[..., ImssRecord]:
    """A constructor of ``cls`` (a frozen, slotted record) that sets its slots directly: the same object
    as ``cls(**fields)``, in half the time (the dataclass ``__init__`` goes through ``object.__setattr__``
    once per field).  Only for values a parse gave (no checks or defaults to run)."""
    names = [f.name for f in dataclass_fields(cls)]
    assert not any(f.default is not MISSING or f.default_factory is not MISSING for f in dataclass_fields(cls))
    assert "__post_init__" not in vars(cls) and all("__post_init__" not in vars(b) for b in cls.__mro__[1:-1])
    env: dict[str, object] = {"new": object.__new__, "cls": cls}
    env.update({f"set_{n}": getattr(cls, n).__set__ for n in names})
    body = "".join(f"    set_{n}(o, {n})\n" for n in names)
    exec(f"def make({', '.join(names)}):\n    o = new(cls)\n{body}    return o\n", env)  # noqa: S102 - built from field names
    return env["make"]  # type: ignore[return-value]


#: the fields of an imss record that a line's head gives (:class:`_MarkerParser`): the others come from its rest
_HEAD_FIELDS = ("source", "time", "pid", "tid")


@lru_cache(maxsize=64)
def _rest_maker(cls: type[ImssRecord]) -> tuple[Callable[..., ImssRecord], tuple[str, ...]]:
    """:func:`_maker` of ``cls`` that takes the head's fields (:data:`_HEAD_FIELDS`), then one tuple of the other
    fields' values in the order of the names it gives with it: a record made from its rest's cached values
    without a keyword dictionary built for each line (13 fields: 2.9 -> 1.8 us a record)."""
    names = [f.name for f in dataclass_fields(cls)]
    assert all(n in names for n in _HEAD_FIELDS)
    _maker(cls)  # its checks: setting the slots directly makes the same object only for such a class
    others = tuple(n for n in names if n not in _HEAD_FIELDS)
    env: dict[str, object] = {"new": object.__new__, "cls": cls}
    env.update({f"set_{n}": getattr(cls, n).__set__ for n in names})
    body = "".join(f"    set_{n}(o, {n if n in _HEAD_FIELDS else f'v[{others.index(n)}]'})\n" for n in names)
    exec(f"def make({', '.join(_HEAD_FIELDS)}, v):\n    o = new(cls)\n{body}    return o\n", env)  # noqa: S102 - built from field names
    return env["make"], others  # type: ignore[return-value]


class _MarkerParser:
    """``parse_line("imss", source)`` for the marker lines of pass 2, the same records, cheaper: a line's
    head (date, time, offset, ``[pid:tid]``) and its rest are each converted once per distinct text.
    Marker lines repeat their rest ("Start Rule Set Retrieval spent 0 ms", rule runs, filter results...)
    and a thread's lines of one second share their head, so most lines cost two dictionary lookups.

    Exact, because the fast path's head regex is :data:`imss.PREFIX` followed by optional tokens: what
    follows the prefix is cut the same whatever the prefix held, and a prefix ends at the first ``]``
    of the line (then blanks).  A line whose head or rest does not parse goes through
    :func:`parse_line` whole, so its reject says what ``parse`` says.
    """

    __slots__ = ("_heads", "_rests")
    _MAX = 1 << 14

    def __init__(self) -> None:
        self._heads: dict[str, tuple[datetime, int, int]] = {}
        #: a rest's record maker (:func:`_rest_maker` of its class) and the values of its other fields
        self._rests: dict[str, tuple[Callable[..., ImssRecord], tuple[object, ...]]] = {}

    def _head(self, head: str) -> tuple[datetime, int, int] | None:
        m = _PREFIX_RE.fullmatch(head)
        if m is None:
            return None
        try:
            got = (
                make_time(m["date"], m["clock"], m["offset"]),
                imss._shared_int(m["pid"], "pid"),  # noqa: SLF001 - the parser's own sharing
                imss._shared_int(m["tid"], "tid"),  # noqa: SLF001
            )
        except ParseFailure:
            return None
        if len(self._heads) >= self._MAX:
            self._heads.clear()
        self._heads[head] = got
        return got

    def _rest(self, rest: str) -> tuple[Callable[..., ImssRecord], tuple[object, ...]] | None:
        try:
            cls, fields = imss.parse(_CANON_HEAD + rest)
        except ParseFailure:
            return None
        make, others = _rest_maker(cls)
        if fields.keys() != {*others, *_HEAD_FIELDS[1:]}:  # never: a parse gives every field but the source
            raise AssertionError(f"{cls.__name__}: {sorted(fields)}")
        if len(self._rests) >= self._MAX:
            self._rests.clear()
        got = self._rests[rest] = (make, tuple(fields[n] for n in others))
        return got

    def __call__(self, src: Source) -> ImssRecord | Reject:
        text = src.text
        cut = text.find("]") + 1
        if cut == 0 or type(text) is not str:
            return parse_line("imss", src)  # type: ignore[return-value]
        head = text[:cut]
        h = self._heads.get(head) or self._head(head)
        rest = text[cut:].lstrip(" \t")
        r = self._rests.get(rest) or self._rest(rest) if h is not None else None
        if r is None:
            return parse_line("imss", src)  # type: ignore[return-value]
        make, values = r
        return make(src, h[0], h[1], h[2], values)


class _Pass2:
    """Pass 2, run by run in the order the marked runs end (as pass 1 settles them): their sessions
    (in the order they close) and rejects.

    A run is cut on its own: only its thread's lines are fed, and the thread is closed at its end.
    Each session is added to the index as it closes and then keeps its records compactly
    (:meth:`~imsvalog.scan_sessions.ScanSession.compact`): memory stays flat.  A run whose lines
    pass 1 did not cut is read by offset when its files are plain; otherwise it and the runs
    after it wait for one more pass over the files (:meth:`finish`), so the order never changes.
    """

    def __init__(self, files: Sequence[LogFile], plain: Sequence[bool], index: ScanIndex) -> None:
        self.files, self.plain, self.index = files, plain, index
        self.sessions: list[ScanSession] = []
        self.rejects: list[Reject] = []
        self.builder = SessionBuilder()
        self.parse = _MarkerParser()
        self.limit = default_max_line()
        self.waiting: deque[_Run] = deque()
        #: Received headers parsed ahead (see :meth:`_feed`), at most half of parse_received's cache
        self.headers_ahead = PARSE_CACHE // 2

    def _by_offset(self, run: _Run) -> bool:
        first = run.start.file if run.start else 0
        return all(self.plain[first : run.last_file(len(self.files)) + 1])

    def add(self, run: _Run) -> None:
        """A marked run (its lines cut or not), in the order runs end; the runs not cut are read by :meth:`flush`.
        A cut run never waits with its lines behind runs that plain files hold: those are read first (attack s21c:
        one long run read by offset ahead of hundreds of cut runs kept all their lines queued at once)."""
        if run.cut and self.waiting and not self.waiting[0].cut and self._by_offset(self.waiting[0]):
            self.flush()
        self.waiting.append(run)
        self._feed_cut()

    def flush(self) -> None:
        """Read the waiting runs whose lines were not cut, up to the first that plain files do not hold (it and the
        runs after it are read in :meth:`finish`, in one pass), and feed them: one at a time, each built before the
        next is read, or, when many overlap (:func:`_overlap_much`), all together (:func:`_read_runs`: one pass over
        the bytes they span) as long as the lines they hold stay under :data:`_READ_BUDGET` bytes, else one at a
        time)."""
        runs = []
        for run in self.waiting:
            if not run.cut:
                if not self._by_offset(run):
                    break
                runs.append(run)
        if _overlap_much(self.files, runs):
            try:
                _read_runs(self.files, runs, self.plain, [_READ_BUDGET])
            except _OverBudget:  # hostile lines (one naming many runs' tags): one run at a time, as always
                for run in runs:
                    run.read, run.cut = None, False
        while self.waiting:
            run = self.waiting[0]
            if not run.cut:
                if not self._by_offset(run):
                    return  # read in finish(), in one pass
                _read_runs(self.files, [run], self.plain)
            self._feed(self.waiting.popleft())

    def _feed_cut(self) -> None:
        while self.waiting and self.waiting[0].cut:
            self._feed(self.waiting.popleft())

    def finish(self) -> tuple[list[ScanSession], list[Reject]]:
        _read_runs(self.files, [r for r in self.waiting if not r.cut], self.plain)
        while self.waiting:
            self._feed(self.waiting.popleft())
        return self.sessions, self.rejects

    def _feed(self, run: _Run) -> None:
        lines, run.lines = run.lines, []
        if run.read is not None:
            for name, numbers, joined in run.read:
                lines += _sources(name, numbers, joined)
            run.read = None
        for s in _build_run(run, lines, self.builder, self.parse, self.limit, self.rejects):
            self.sessions.append(_closed(s, self.index))
            if self.headers_ahead > 0:
                # linking and the model read every trace's Received headers after the scan, when this process
                # works alone; parsed now (into parse_received's cache), while a second process still scans, the
                # work is shared: the same results, earlier (at most half the cache, so none is pushed out)
                for t in s.spoof_traces:
                    for h in t.header_texts:
                        parse_received(h)
                        self.headers_ahead -= 1


def _build_run(
    run: _Run, lines: list[Source], builder: SessionBuilder, parse: _MarkerParser, limit: int, rejects: list[Reject]
) -> Iterator[ScanSession]:
    """The sessions of one run's lines as they close (the thread is closed at the run's end)."""
    pid, tid = (int(x) for x in run.thread.split(":"))  # a record's thread is f"{pid}:{tid}": compared as numbers
    for src in lines:
        if len(src.text) > limit:
            continue  # pass 1 reported it when it mattered (an Accept or filter line); never parsed
        item = parse(src)
        if isinstance(item, Reject):
            rejects.append(item)
            continue
        if item.tid != tid or item.pid != pid:  # type: ignore[union-attr]
            continue  # the tag was in another thread's text
        yield from builder.feed(item)  # type: ignore[arg-type]
    s = builder.close(run.thread, run.end_kind)
    if s is not None:
        s.next_file = run.missing
        yield s


def _closed(s: ScanSession, index: ScanIndex | None) -> ScanSession:
    if index is not None:
        index.add_session(s)
        s.compact()
    return s


def _unparsed_scans(runs: int, finished_lines: int, parsed_finished: int) -> int:
    """The scans outside the parsed sessions, without parsing them: each ``Scan finished`` line ends
    one scan, and each run from an Accept line is at least one (its Scan finished line may be
    missing).  The larger count of the two; a log.imss without Accept lines counts its scans
    by their Scan finished lines (scans that lack both are not counted)."""
    return max(runs, finished_lines - parsed_finished)


#: byte forms of the head and Accept regexes (ASCII classes): the fast path; a line they do not
#: fit goes through the text forms, which decide
_HEAD_B = re.compile(imss.HEAD_RE.pattern.encode())
_ACCEPT_B = re.compile(_ACCEPT_RE.pattern.encode())
_HINTS_B = re.compile(b"|".join(re.escape(h.encode()) for h in _EVALUATION_HINTS))
_NOT_COMPONENTS_B = frozenset(c.encode() for c in imss._NOT_COMPONENTS)  # noqa: SLF001
#: where a sure head's ``[pid:tid]`` begins: its date, clock, ``GMT`` and offset are of fixed width
_TAG_AT = len("2024/03/12 09:15:01 GMT+01:00 ")
assert all(_SURE_PARTS.fullmatch(h) and h[_TAG_AT] == ord("[") for h in (
    b"1970/01/01 00:00:00 GMT-00:00 [1:2]", b"2199/12/31 23:59:59 GMT+23:59 [123456789012345678:1]"))
#: what follows the ``[pid:tid]`` of an Accept line as IMSVA writes it, and the length of its part that the
#: head regex takes (``] Info: ``)
_INFO_ACCEPT = b"] Info: " + _ACCEPT_NEEDLE
_INFO_ACCEPT_HEAD = len(b"] Info: ")


class _Marker:
    """Pass 1's state: each thread's current run, the runs that hold an evaluation, time checks."""

    def __init__(self, index: ScanIndex, rejects: list[Reject], worker: bool = False, pass2: _Pass2 | None = None) -> None:
        self.index = index
        self.rejects = rejects
        #: a worker scanning a part that the parent's part comes before (see :class:`_PartResult`)
        self.worker = worker
        #: in a worker: the threads' first Accept lines and its own marked runs, in the order they end
        self.ends: list[_Run | tuple[str, bytes, bool, _Pos]] = []
        #: in a worker: the threads that had an Accept line in its part
        self.accepted: set[str] = set()
        #: the parent's pass 2, handed each marked run as it ends
        self.pass2 = pass2
        #: the last blocks of the file being read, as ``(file index, offset of data[start], block)``
        self.held: list[tuple[int, int, Block]] = []
        #: the held blocks run to the end of the input
        self.held_to_end = False
        #: the file name of each file index seen
        self.names: dict[int, str] = {}
        self.current: dict[str, _Run] = {}
        self.marked: list[_Run] = []
        self.threads: dict[bytes, str] = {}  # [pid:tid] as logged -> pid:tid
        self.times: dict[bytes, bool] = {}  # date, time and offset as logged -> a real time?
        self.limit = default_max_line()
        #: runs opened by an Accept line and not parsed (each is at least one scan)
        self.unparsed_runs = 0
        #: ``Scan finished`` lines in the input (each ends one scan), counted at C speed
        self.finished_lines = 0
        #: the marked runs settled since the last :meth:`flush`, in order: their lines are cut there
        self.settled: list[_Run] = []
        #: where a thread's run without an Accept line before it begins: the input's start (None), or the start
        #: of the file after one it does not continue (a rotated file missing between them: :meth:`end_file`)
        self.origin: _Pos | None = None

    def block_lines(
        self, data: bytes, hits: tuple[list[int], list[int], list[int]], fi: int, offset: int, line: int, name: str,
        unsure: set[int],
    ) -> None:
        """The lines of a block that hold a needle (:func:`_hit_lines`: their starts, ends and lines before
        them; ``offset``, ``line``: the file offset of ``data[0]`` and the number of the block's first line),
        each as :meth:`line` takes it.  Most are Accept lines as IMSVA writes them: a line whose head is sure
        (not among the block's ``unsure`` line starts, see :func:`_account`: the head regex fits it, its
        time is real, its numbers short), ``] Info: Accept connection from client`` after its ``[pid:tid]``
        and no AntiSpoofFilter needle.  The head regex would end just before ``Accept`` (no component), so
        :data:`_ACCEPT_B` there decides, as in :meth:`line`; the tag begins at the sure head's fixed column.
        Such a line ends the thread's run and opens the next; when that run holds no evaluation, its
        object is opened again in place (nothing else holds it).  Every other line goes to :meth:`line`."""
        find, startswith, accept = data.find, data.startswith, _ACCEPT_B.match
        current, threads, limit, full = self.current, self.threads, self.limit, self.line
        worker, accepted = self.worker, self.accepted
        for s, e, n in zip(*hits):
            if e - s <= limit and s not in unsure and find(_EVALUATION_NEEDLE, s, e) == -1:
                j = find(b"]", s + _TAG_AT, e)
                if startswith(_INFO_ACCEPT, j) and accept(data, j + _INFO_ACCEPT_HEAD, e) is not None:
                    tag = data[s + _TAG_AT : j + 1]
                    thread = threads.get(tag)
                    if thread is None:
                        pid, tid = tag[1:-1].split(b":")
                        thread = threads[tag] = f"{int(pid)}:{int(tid)}"
                    run = current.get(thread)
                    if run is None or run.evaluated or not run.opened or worker and thread not in accepted:
                        self._step(thread, tag, True, False, fi, offset + s, line + n)
                    else:  # as _step: the run ends unmarked (counted), the thread's next one opens here
                        self.unparsed_runs += 1
                        pos = run.start
                        pos.file, pos.offset, pos.line = fi, offset + s, line + n  # type: ignore[union-attr]
                        run.tag = tag
                    continue
            full(data[s:e], fi, offset + s, line + n, name)
        self.flush()

    def line(self, raw: bytes, fi: int, offset: int, lineno: int, name: str) -> None:
        """One line that holds an Accept or an AntiSpoofFilter needle (``raw`` without its newline)."""
        is_eval = _EVALUATION_NEEDLE in raw and _HINTS_B.search(raw) is not None
        is_accept = _ACCEPT_NEEDLE in raw
        if not (is_eval or is_accept):
            return  # the filter's other wording ("sender domain and recipient domain are different")
        if len(raw) > self.limit:
            self.rejects.append(_long_reject(name, lineno, raw, len(raw)))
            return
        m = _HEAD_B.match(raw)
        if (
            m is None
            or (is_accept and m["component"] in _NOT_COMPONENTS_B and m["method"] is None)
            or m.end("pid") - m.start("pid") > _SURE_DIGITS
            or m.end("tid") - m.start("tid") > _SURE_DIGITS
        ):
            self._slow(raw, fi, offset, lineno, name)
            return
        when = raw[: m.end("offset")]
        ok = self.times.get(when)
        if ok is None:
            try:
                make_time(m["date"].decode(), m["clock"].decode(), m["offset"].decode())
                ok = True
            except ParseFailure:
                ok = False
            self.times[when] = ok
        if not ok:
            self.rejects.append(parse_line("imss", Source(name, lineno, _text(raw))))  # type: ignore[arg-type]
            return
        tag = raw[m.start("pid") - 1 : m.end("tid") + 1]
        thread = self.threads.get(tag)
        if thread is None:
            thread = self.threads[tag] = f"{int(m['pid'])}:{int(m['tid'])}"
        self._step(thread, tag, is_accept and _ACCEPT_B.match(raw, m.end()) is not None, is_eval, fi, offset, lineno)

    def _slow(self, raw: bytes, fi: int, offset: int, lineno: int, name: str) -> None:
        """The text path for lines the byte regexes do not fit (non-ASCII, a bad prefix, a level word twice)."""
        text = _text(raw)
        m = imss.HEAD_RE.match(text)
        if m is None:
            self.rejects.append(parse_line("imss", Source(name, lineno, text)))  # type: ignore[arg-type]
            return
        try:
            make_time(m["date"], m["clock"], m["offset"])
            thread = f"{integer(m['pid'], 'pid')}:{integer(m['tid'], 'tid')}"
        except ParseFailure:
            self.rejects.append(parse_line("imss", Source(name, lineno, text)))  # type: ignore[arg-type]
            return
        tag = text[m.start("pid") - 1 : m.end("tid") + 1].encode("utf-8", "surrogateescape")
        is_accept = "Accept connection" in text and _is_accept(text, m)
        is_eval = "AntiSpoofFilter:" in text and any(h in text for h in _EVALUATION_HINTS)
        self._step(thread, tag, is_accept, is_eval, fi, offset, lineno)

    def _step(self, thread: str, tag: bytes, is_accept: bool, is_eval: bool, fi: int, offset: int, lineno: int) -> None:
        run = self.current.get(thread)
        if is_accept:
            if self.worker and thread not in self.accepted:  # the run before it began in the parent's part
                self.accepted.add(thread)
                self.ends.append((thread, tag, run is not None and run.evaluated, _Pos(fi, offset, lineno)))
            elif run is not None:
                if run.evaluated:
                    run.end = _Pos(fi, offset, lineno)
                    self._settle(run)
                elif run.opened:  # as _settle counts it, without its end (most runs: no evaluation)
                    self.unparsed_runs += 1
            run = self.current[thread] = _Run(thread, tag, _Pos(fi, offset, lineno), True)
        if is_eval:
            if run is None:
                run = self.current[thread] = _Run(thread, tag, self._origin(), False)
            run.evaluated = True

    def _origin(self) -> _Pos | None:
        o = self.origin
        return None if o is None else _Pos(o.file, o.offset, o.line)

    def end_file(self, fi: int, missing: str) -> None:
        """File ``fi`` is read to its end and the next file does not continue it (``missing``: why): every run still open
        ends here (as at the input's end: its session is cut short), in the order they began, and a thread's lines
        in the next file begin a new one: no scan is joined across a gap."""
        held_to_end, self.held_to_end = self.held_to_end, True  # the held blocks run to the end of the file
        after = _Pos(fi + 1, 0, 1)
        for run in sorted(self.current.values(), key=lambda r: (r.start.file, r.start.offset) if r.start else (-1, 0)):
            run.end, run.missing = _Pos(after.file, after.offset, after.line), missing
            self._settle(run)
        self.current.clear()
        self.flush()
        self.held_to_end = held_to_end
        self.origin = after

    def _settle(self, run: _Run) -> None:
        """A run ends: one that holds an evaluation is cut at the next :meth:`flush`, with the others that end
        in the same block (or at the input's end, or in the same piece of the worker's)."""
        if run.evaluated:
            if self.worker:  # it cuts the runs of its part, the parent settles and builds them
                self.ends.append(run)
            else:
                self.marked.append(run)
            self.settled.append(run)
        elif run.opened:
            self.unparsed_runs += 1  # a run opened by an Accept line is one scan (connection reuse: more)

    def flush(self) -> None:
        """The runs settled since the last call: their lines cut from the held blocks, then (in this process)
        each handed to pass 2 in the order they ended.  Few runs that overlap little are each cut and handed on in
        turn, as they always were (a run's lines live only until it is built); many that overlap (their spans add
        up to more than :data:`_BATCH_FROM` times the bytes they cover together) are cut in one pass
        (:func:`_take_many`), and pass 2 reads those the held blocks do not hold together too."""
        runs, self.settled = self.settled, []
        if not runs:
            return
        if self.worker:
            for run, got in zip(runs, self._cut_many(runs, together=True)):
                run.got = got
            return
        cut = self._cut_many([r for r in runs if r.got is None])
        for run in runs:
            if run.got is not None:  # cut by the worker
                got, run.got = run.got, None
            else:
                got = next(cut)
            if got is not None:
                run.lines, run.cut = self._lines(run, got, 0), True
            if self.pass2 is not None:
                self.pass2.add(run)
        if self.pass2 is not None:
            self.pass2.flush()

    def take_part(self, part: _PartResult, shift: int) -> None:
        """The worker's part (its lines numbered from 1, ``shift`` less than here) after this one's:
        the runs open here end at their thread's first Accept line there, the worker's marked runs end
        in between, in the order of the input; its runs still open go on."""
        self.take_ends(part.ends, shift)  # flushed there
        for thread, tag in part.evaluated:  # an evaluation, and no Accept line after it there
            run = self.current.get(thread)
            if run is None:
                run = self.current[thread] = _Run(thread, tag, self._origin(), False)
            run.evaluated = True
        for run in part.open:  # cut only when the part ends the input (else it goes on in the next file)
            self.current[run.thread] = _shifted(run, shift)
        self.unparsed_runs += part.unparsed_runs
        self.finished_lines += part.finished_lines

    def take_ends(self, ends: list[_Run | tuple[str, bytes, bool, _Pos]], shift: int) -> None:
        """A piece of the worker's ``ends`` (see :class:`_PartResult`), in the order of the input: pieces
        taken in order settle the runs as the whole list would."""
        for end in ends:
            if isinstance(end, tuple):
                thread, tag, evaluated, pos = end
                run = self.current.pop(thread, None)
                if run is None and evaluated:
                    run = _Run(thread, tag, self._origin(), False)
                if run is not None:
                    run.evaluated |= evaluated
                    run.end = _Pos(pos.file, pos.offset, pos.line + shift)
                    self._settle(run)
            else:
                self._settle(_shifted(end, shift))
        self.flush()

    def _lines(self, run: _Run, got: tuple[array[int], bytes], shift: int) -> list[Source]:
        name = self.names[run.start.file]  # type: ignore[union-attr]
        numbers, joined = got
        return _sources(name, numbers, joined, shift) if numbers else []

    def hold(self, fi: int, name: str, base: int, b: Block) -> None:
        """The block being scanned (``base``: the offset of ``b.data[b.start]``), kept with the last
        :data:`_HOLD` bytes of the one before (a copy: the block's buffer is let go)."""
        self.names[fi] = name
        held = []
        if self.held and self.held[-1][0] == fi:
            _, base0, b0 = self.held[-1]
            keep = min(b0.end - b0.start, _HOLD)
            # its first line's number is never used: a run is cut from the held bytes only when it starts in them
            held.append((fi, base0 + b0.end - b0.start - keep, Block(b0.data[b0.end - keep : b0.end], 0, keep, -1, -1, -1)))
        held.append((fi, base, b))
        self.held = held
        self.held_to_end = False

    def _windows(self, run: _Run) -> list[tuple[int, _Take]] | None:
        """A run's window in each held block it spans: the block's index and what :func:`_take_many` takes (its
        lines go to one place for all blocks), if the held blocks hold all of it; else None (a run that began
        long before, or spans two files, is read again later)."""
        if run.start is None or not self.held:
            return None
        fi, lo = run.start.file, run.start.offset
        to_end = run.end is None or run.missing is not None  # to the input's end, or to its file's
        hi = None if to_end else run.end.offset  # type: ignore[union-attr]
        if fi != self.held[0][0] or lo < self.held[0][1]:
            return None
        if to_end and (not self.held_to_end or run.last_file(fi + 1) != fi) or not to_end and run.end.file != fi:  # type: ignore[union-attr]
            return None
        numbers: array[int] = array("q")
        raws: list[bytes] = []
        out = []
        for j, (_, base, b) in enumerate(self.held):
            top = base + b.end - b.start
            if top <= lo or (hi is not None and base >= hi):
                continue
            a = b.start + max(lo, base) - base
            z = b.start + (min(hi, top) if hi is not None else top) - base
            out.append((j, (a, z, run.start.line if lo >= base else b.line, run.tag, numbers, raws)))
        return out

    def _cut_many(self, runs: Sequence[_Run], together: bool | None = None) -> Iterator[tuple[array[int], bytes] | None]:
        """Each run's thread's marker lines from the held blocks, if they hold all of it (see :meth:`_windows`), in
        the runs' order.  ``together``: a held block that many of the runs overlap (:func:`_batched`) is cut for
        all of them in one pass (:func:`_take_batch`: the lines' places only), the others each run on its own
        (:func:`_take_lines`); None: together when some held block is batched, else (False) each run on its own.
        Either way a run's lines are copied only when it is given (the places of a batched block kept until then,
        the held blocks alive till the flush ends): one run's lines live at a time (until it is built), however
        many runs' tags a line names."""
        windows = [self._windows(run) for run in runs]
        found: dict[int, tuple[dict[int, array[int]], NDArray[np.intp]]] = {}  # block: each item's places, newlines
        if together is None or together:
            per_block: list[list[_Take]] = [[] for _ in self.held]
            for ws in windows:
                for j, t in ws or ():
                    per_block[j].append(t)
            for j, ((_, _, b), items) in enumerate(zip(self.held, per_block)):
                if _batched(items):
                    taken, nl = _take_batch(b.data, items, b.nl)
                    found[j] = ({id(t): got for t, got in zip(items, taken)}, nl)
        for ws in windows:
            if ws is None:
                yield None
                continue
            numbers: array[int] = array("q")
            raws: list[bytes] = []
            for j, t in ws:  # all of a run's windows share its numbers and raws
                b = self.held[j][2]
                if j in found:
                    places, nl = found[j]
                    _fill_take(b.data, t, places.pop(id(t)), nl)
                else:
                    _take_lines(b.data, *t, b.nl)
                numbers, raws = t[4], t[5]
            joined = b"\n".join(raws)
            raws.clear()  # the lines' bytes, each once: only joined from now on
            yield numbers, joined

    def finish(self) -> list[_Run]:
        """Runs still open end with the input, in the order they began."""
        for run in sorted(self.current.values(), key=lambda r: (r.start.file, r.start.offset) if r.start else (-1, 0)):
            self._settle(run)
        self.current.clear()
        self.flush()
        return self.marked


#: how much of the block before the one being scanned pass 1 keeps, to cut the runs that began in it
#: (a run, one thread's scan, spans ~100 KB; a longer one is read again by offset)
_HOLD = 1 << 20

#: a plain log.imss at least this big is scanned by two processes (one part each) when
#: :data:`WORKERS` allows; ``IMSVALOG_WORKERS=1`` keeps to one
PARALLEL_FROM = 64 << 20
#: the share of a split file that this process scans; None: :func:`_parent_share` decides from the file
PARENT_SHARE: float | None = None
#: the line of an evaluation that the share follows: one per Received header the filter looks at
_HEADER_NEEDLE = _EVALUATION_HINTS[0].encode()
assert _HEADER_NEEDLE == b"parse received header string"
#: how much less this process takes per such line per MB of the file.  This process scans its part and
#: builds the sessions of all marked runs: its own as they end, the worker's as their pieces come
#: (while the worker scans on).  Both finish together when p (S + B) + (1 - p) B = (1 - p) S, i.e.
#: p = 1/2 - B / 2S, with S the CPU seconds per GB of scanning (with cutting the runs' lines) and B of
#: building the runs' sessions.  Measured at 1 GB 28 % marker lines (~12 header lines per MB), CPU of each
#: process in the scan, twice each: at p = 0.15 the worker spent 0.3-0.5 s more, at p = 0.30 this process
#: 0.7-1.0 s more, at p = 0.22 the two were within 0.1 s: B / 2S ~0.0235 per header line per MB (5 %: ~2.9
#: per MB, p ~0.43; measured: 0.40 the worker 0.15-0.2 s more, 0.46 this process 0.25 s more).  Since pass 1
#: got cheaper (S smaller) this process scans less (it was 0.014, p ~0.335 at 28 %)
_SHARE_PER_HEADER_MB = 0.0235
#: the least share this process takes (a file of evaluations only: it mostly builds)
_LEAST_SHARE = 0.1
#: the samples of a file that :func:`_parent_share` counts header lines in: how many, of how many bytes
_SAMPLES, _SAMPLE_BYTES = 4, 1 << 20


def _parent_share(f: LogFile, size: int) -> float:
    """The share of a big plain file (``size`` bytes) that this process scans before it takes the
    worker's part.  This process scans its part and builds the sessions of its marked runs as they
    end; the worker only cuts its runs' lines (see :func:`_scan_part`), which this process builds
    as they come, once its own part is scanned: so it takes less than half, the less the more
    evaluations the file holds, estimated from the Received header lines in a few evenly spread
    samples (about 1 ms a sample).  Only the speed
    depends on it: the result is the same wherever the file is cut."""
    if PARENT_SHARE is not None:
        return PARENT_SHARE
    found = read = 0
    with open(f.path, "rb") as fh:
        for k in range(_SAMPLES):
            fh.seek(max(0, size * (2 * k + 1) // (2 * _SAMPLES) - _SAMPLE_BYTES // 2))
            data = fh.read(_SAMPLE_BYTES)
            found += data.count(_HEADER_NEEDLE)
            read += len(data)
    per_mb = found / max(read, 1) * 1e6
    return min(0.5, max(_LEAST_SHARE, 0.5 - _SHARE_PER_HEADER_MB * per_mb))


#: None: IMSVALOG_WORKERS is not a number (an input error when log.imss is scanned, not at import)
WORKERS: int | None = workers_of(os.environ.get("IMSVALOG_WORKERS"), os.cpu_count())


@lru_cache(maxsize=8)
def _either(needles: tuple[bytes, ...]) -> re.Pattern[bytes]:
    """A regex of any of ``needles`` (none holds a newline), their common start written once: the engine
    skips in C to each place of that start, so the two needles of pass 1 (both begin with ``A``) are
    found in one pass over a block, a third faster than ``bytes.find`` twice.  Its matches do not
    overlap, but a needle inside a match is on the match's line: every line holding one is found."""
    assert all(b"\n" not in n for n in needles)
    common = needles[0] if len(needles) > 1 else b""
    while not all(n.startswith(common) for n in needles):
        common = common[:-1]
    return re.compile(re.escape(common) + b"(?:" + b"|".join(re.escape(n[len(common):]) for n in needles) + b")")


def _hit_lines(
    data: bytes, needles: Sequence[bytes], start: int, end: int, nl: NDArray[np.intp] | None = None
) -> tuple[list[int], list[int], list[int]]:
    """The lines of ``data[start:end]`` (whole lines) that contain any of ``needles``, in order: their
    start and end offsets (the end at the newline) and how many lines come before each in the window.
    With ``nl`` (the window's :func:`newlines`) the lines are found from the needles' places all at
    once (numpy); else as :func:`_marker_starts` finds them."""
    if nl is None:
        starts = _marker_starts(data, needles, start, end)
        before, counted, n = [], start, 0
        for s in starts:
            n += data.count(b"\n", counted, s)
            counted = s
            before.append(n)
        return starts, [data.find(b"\n", s) for s in starts], before
    import numpy as np

    places = [m.start() for m in _either(tuple(needles)).finditer(data, start, end)]
    k = nl.searchsorted(np.array(places, np.intp))  # each place's line: the first newline at or after it
    if len(k) > 1:  # in order (the places are): a line with two places once, without np.unique's sort
        k = k[np.concatenate(([True], k[1:] != k[:-1]))]
    return np.where(k > 0, nl[k - 1] + 1, start).tolist(), nl[k].tolist(), k.tolist()


def _scan_blocks(marker: _Marker, fi: int, name: str, blocks: Iterator[Block], base: int, index: ScanIndex) -> None:
    needles = (_EVALUATION_NEEDLE, _ACCEPT_NEEDLE)
    for b in blocks:
        marker.hold(fi, name, base + b.offset, b)
        data = b.data
        _see_span(data, b.start, b.end, index)
        if b.nl is None and b.end - b.start >= _NUMPY_FROM:
            b.nl = newlines(data, b.start, b.end)  # kept with the block: its runs' lines are numbered from it
        nl = b.nl
        unsure = set(_account(data, b.start, b.end, b.line, name, marker.rejects, marker.limit, nl))
        marker.finished_lines += _finished_lines(data, b.start, b.end, unsure, marker.limit)
        marker.block_lines(data, _hit_lines(data, needles, b.start, b.end, nl), fi, base + b.offset - b.start, b.line,
                           name, unsure)


def _shifted(run: _Run, shift: int) -> _Run:
    """A worker's run with ``shift`` added to its line numbers, and to those of its sessions."""
    for pos in (run.start, run.end):
        if pos is not None:
            pos.line += shift
    if run.got is not None and shift:
        numbers, joined = run.got
        run.got = array("q", [n + shift for n in numbers]), joined
    return run


@dataclass
class _PartResult:
    """What a worker sends back of its part of a file (lines numbered from 1 at its start, offsets in the file).

    Only what the parent cannot know: in the order of the input, each thread's first Accept line (with
    whether an evaluation came before it: both belong to the run the parent has open) and the marked
    runs that began and ended in the part (their lines cut, when the worker held them);
    the threads evaluated there without an Accept line; the runs still open at its end; counts.
    """

    ends: list[_Run | tuple[str, bytes, bool, _Pos]]
    evaluated: list[tuple[str, bytes]]
    open: list[_Run]
    unparsed_runs: int
    finished_lines: int
    rejects: list[Reject]
    lines: int
    bytes: int
    times: tuple[datetime | None, datetime | None]


def _scan_part(
    emit: Callable[[tuple[list[_Run | tuple[str, bytes, bool, _Pos]], int]], None],
    f: LogFile, fi: int, start: int, stop: int, last: bool,
) -> _PartResult:
    """A worker's part of a plain file (see :class:`_PartResult`); ``last``: its end is the end of the
    input (the runs open there are cut too).  After each block it sends (``emit``) the ``ends`` found so far
    and the file offset it has read to (for progress); the result holds the rest."""
    rejects: list[Reject] = []
    index = ScanIndex()
    marker = _Marker(index, rejects, worker=True)
    name = str(f.path)
    counts = [0, 0]

    def blocks() -> Iterator[Block]:
        for b in iter_blocks(f, start=start, stop=stop, with_newlines=True):
            counts[0] += b.lines
            if b.long:
                rejects.append(_long_reject(name, b.line, b.data[b.start : b.end], b.long))
                continue
            counts[1] += b.end - b.start
            yield b
            if marker.ends:  # the block is scanned: its runs go to the parent while the next is
                emit((marker.ends, start + b.offset + b.end - b.start))
                marker.ends = []

    _scan_blocks(marker, fi, name, blocks(), start, index)
    marker.held_to_end = last
    evaluated = [(r.thread, r.tag) for r in marker.current.values() if r.start is None]
    still = sorted((r for r in marker.current.values() if r.start is not None), key=lambda r: r.start.offset)  # type: ignore[union-attr]
    if last:
        cut = [r for r in still if r.evaluated]
        for run, got in zip(cut, marker._cut_many(cut, together=True)):  # noqa: SLF001
            run.got = got
    return _PartResult(
        marker.ends, evaluated, still, marker.unparsed_runs, marker.finished_lines, rejects, counts[0], counts[1],
        (index.first, index.last),
    )


def _mark_runs(
    files: Sequence[LogFile],
    rejects: list[Reject],
    stats: ScanStats,
    progress: ProgressFn | None,
    total: int,
    index: ScanIndex,
    pass2: _Pass2 | None = None,
) -> tuple[int, int]:
    """Pass 1: the runs opened by an Accept line that hold no evaluation and the ``Scan finished``
    lines of the input (see :func:`_unparsed_scans`); each run that holds one goes to ``pass2``
    as it ends.

    A big plain file is cut at a line start before the middle (:func:`_parent_share`): a second process
    scans the second part while this one scans the first, and sends back only what this one cannot
    know (:class:`_PartResult`): the runs open at the cut end at their thread's first Accept line there,
    and are settled here in order with the worker's own marked runs (their lines cut there, built here).
    It sends them in pieces, one after each block it scans (:class:`~imsvalog.workers.StreamedPart`):
    once its own part is scanned this process settles and builds each piece as it comes, in order,
    while the worker scans on; the last piece is the rest of the :class:`_PartResult`.
    """
    if WORKERS is None and files:
        raise InputError(bad_workers_message())
    gaps = gap_after(files)
    unread: dict[int, ReadError] = {}  # a file's read error (a gzip cut short), found while reading it
    marker = _Marker(index, rejects, pass2=pass2)
    worker: StreamedPart | None = None
    done = 0
    try:
        for fi, f in enumerate(files):
            name = str(f.path)
            size = file_size(f)
            last_file = fi == len(files) - 1
            split = 0
            if WORKERS > 1 and size >= PARALLEL_FROM and seekable(f):
                split = split_point(f, int(size * _parent_share(f, size)))
            # the runs open at the end of the worker's part are cut there when they end with it (the input's end, a gap)
            worker = (StreamedPart.start(name, _scan_part, f, fi, split, size, last_file or fi in gaps)
                      if 0 < split < size else None)
            if worker is not None:
                before = stats.lines
                _scan_blocks(marker, fi, name, _file_blocks(f, rejects, stats, progress, total, done, stop=split,
                                                            unread=partial(unread.__setitem__, fi)), 0, index)
                marker.held.clear()  # the worker's part comes next: the blocks held are not at its end
                give_back_free_memory()  # before the worker's pieces come in
                shift = stats.lines - before
                part = None
                for piece in worker:  # its runs built here as they come, while it scans on
                    if isinstance(piece, _PartResult):
                        part = piece
                    else:
                        marker.take_ends(piece[0], shift)
                        if progress is not None:
                            progress(done + piece[1], total, name)
                    del piece  # the runs settled are built: let go of their lines
                worker.close()
                worker = None
                assert part is not None, "the worker's last piece is its result"
                marker.take_part(part, shift)
                marker.held_to_end = last_file
                rejects += [replace(r, source=replace(r.source, line=r.source.line + shift)) for r in part.rejects]
                stats.lines += part.lines
                stats.bytes += part.bytes
                for t in part.times:
                    if t is not None:
                        index.see(t)
                del part
                give_back_free_memory()  # the worker's bytes and the blocks, freed between the records kept
                if progress is not None:
                    progress(done + size, total, name)
            else:
                _scan_blocks(marker, fi, name, _file_blocks(f, rejects, stats, progress, total, done,
                                                            unread=partial(unread.__setitem__, fi)), 0, index)
                marker.held_to_end = last_file
            if (words := cut_words(files, fi, gaps, unread)) is not None:  # a gap, or reading stopped early
                marker.end_file(fi, words)
            done += size
        marker.finish()
    finally:
        if worker is not None:
            worker.close()  # this process gave up (an error, an interrupt): the worker is stopped
    return marker.unparsed_runs, marker.finished_lines


def _file_blocks(
    f: LogFile, rejects: list[Reject], stats: ScanStats, progress: ProgressFn | None, total: int,
    done: int = 0, stop: int | None = None, unread: Callable[[ReadError], None] | None = None,
) -> Iterator[Block]:
    """One file's blocks (up to ``stop``), counted into ``stats``; ``done``: bytes of the files before; a read error
    ends them with one reject and is handed to ``unread`` (the scans open there end there: :func:`cut_words`)."""
    name = str(f.path)
    try:
        for b in iter_blocks(f, stop=stop, with_newlines=True) if stop is not None else iter_blocks(f, with_newlines=True):
            stats.lines += b.lines
            if b.long:
                rejects.append(_long_reject(name, b.line, b.data[b.start : b.end], b.long))
                continue
            stats.bytes += b.end - b.start
            yield b
            if progress is not None:
                progress(done + b.offset + b.end - b.start, total, name)
    except ReadError as exc:
        rejects.append(unreadable_rest(f, exc))
        if unread is not None and not exc.whole:  # (a gzip whose only fault is its trailer gave every line)
            unread(exc)


def _see_span(data: bytes, start: int, end: int, index: ScanIndex) -> None:
    """The times of a block's first and last marker lines, for the span log.imss covers."""
    firsts = [i for i in (data.find(n, start, end) for n in MARKER_NEEDLES) if i != -1]
    if not firsts:
        return
    lasts = [data.rfind(n, start, end) for n in MARKER_NEEDLES]
    for i in (min(firsts), max(lasts)):
        s = data.rfind(b"\n", start, i) + 1 or start
        m = imss.HEAD_RE.match(_text(data[s : data.find(b"\n", s)]))
        if m is not None:
            try:
                index.see(make_time(m["date"], m["clock"], m["offset"]))
            except ParseFailure:
                pass


def _segments(files: Sequence[LogFile], runs: Sequence[_Run]) -> dict[int, list[tuple[int, int | None, int, _Run]]]:
    """Per file index: ``(start offset, end offset or None, line at start, run)`` for every part of a run in it."""
    out: dict[int, list[tuple[int, int | None, int, _Run]]] = defaultdict(list)
    for run in runs:
        first = run.start.file if run.start else 0
        for fi in range(first, run.last_file(len(files)) + 1):
            lo, line = (run.start.offset, run.start.line) if run.start and fi == run.start.file else (0, 1)
            hi = run.end.offset if run.end and fi == run.end.file else None
            if hi is None or hi > lo:
                out[fi].append((lo, hi, line, run))
    return out


def _overlap_much(files: Sequence[LogFile], runs: Sequence[_Run]) -> bool:
    """Do the runs overlap so much in some file (their spans there add up to more than :data:`_BATCH_FROM` times
    the bytes from the first one's start to the last one's end) that reading them in one pass is worth it (their
    lines then held together within :data:`_READ_BUDGET`)?"""
    if len(runs) < 2:
        return False
    for fi, segs in _segments(files, runs).items():
        size = file_size(files[fi])
        spans = [(lo, size if hi is None else hi) for lo, hi, _, _ in segs]
        if len(spans) > 1:
            lo, hi = min(a for a, _ in spans), max(z for _, z in spans)
            if sum(z - a for a, z in spans) > _BATCH_FROM * (hi - lo):
                return True
    return False


def _read_runs(
    files: Sequence[LogFile], runs: Sequence[_Run], plain: Sequence[bool] | None = None, budget: list[int] | None = None
) -> None:
    """Pass 2: each marked run's own marker lines, into ``run.read`` (made its ``lines`` when it is built) (plain
    files by offset, gzip in one pass).  ``budget``: the bytes of lines the runs may hold between them (one number
    in a list, spent as they are read); :class:`_OverBudget` is raised when they would hold more."""
    for fi, segs in sorted(_segments(files, runs).items()):
        f = files[fi]
        name = str(f.path)
        if plain[fi] if plain is not None else seekable(f):
            _read_segments_by_offset(f, name, segs, budget)
        else:
            _read_segments_streaming(f, name, segs, budget)
    for run in runs:
        run.cut = True


#: any marker: searched for in one line at a time (from after the thread's tag), the engine skipping
#: in C the bytes that begin none of them
_ANY_MARKER = re.compile(b"|".join(re.escape(n) for n in MARKER_NEEDLES))


def _take_lines(
    data: bytes, lo: int, hi: int, line: int, tag: bytes, numbers: array[int], raws: list[bytes],
    nl: NDArray[np.intp] | None = None,
) -> None:
    """The lines of ``data[lo:hi]`` (whole lines; ``line`` is the first's number) that carry the thread
    tag ``tag`` and a marker after it: their numbers and bytes (without the newline).  ``nl``: the offsets
    of the newlines of a window of ``data`` that holds ``data[lo:hi]`` (:func:`newlines`), when known: the
    lines' numbers are then found from it at once, not by counting the newlines between them.

    ``bytes.find`` gives the lines that hold the tag; each is searched for a marker after its first
    tag (a marker after a later one is after the first too).  A third faster than one regex of the tag,
    a lazy ``.*?`` and the markers (measured on 600 runs of a block of the 1 GB sample: 105 against
    150 ms), whose engine tried every marker at every byte of the thread's lines."""
    find, rfind, count, search = data.find, data.rfind, data.count, _ANY_MARKER.search
    counted, k = lo, len(tag)
    append = raws.append
    starts: list[int] = []
    start = starts.append if nl is not None else None
    i = find(tag, lo, hi)
    while i != -1:
        e = find(b"\n", i, hi)
        if e == -1:
            e = hi
        if search(data, i + k, e) is not None:
            s = rfind(b"\n", lo, i) + 1 or lo
            if start is not None:
                start(s)
            else:
                line += count(b"\n", counted, s)
                counted = s
                numbers.append(line)
            append(data[s:e])
        i = find(tag, e + 1, hi)
    if starts:  # each line's number: the newlines before it, from lo on
        assert nl is not None
        numbers.extend((nl.searchsorted(starts) + (line - int(nl.searchsorted(lo)))).tolist())


#: every occurrence of a thread's tag ``[X]`` (X holds no bracket or newline: as pass 1 takes it from a head) is
#: one of this regex's matches: none of them can cover another's ``[``
_BRACKETED = re.compile(rb"\[[^\[\]\n]*\]")
#: the runs of a piece of data are cut together (:func:`_take_batch`) when their spans add up to more than this
#: many times the bytes from the first one's start to the last one's end; else each on its own (:func:`_take_lines`,
#: a ``bytes.find`` of its tag, cheaper while few runs overlap)
_BATCH_FROM = 64
#: the bytes of whole lines whose marker lines :func:`_take_batch` finds at once
_BATCH_STRETCH = 1 << 20

#: what :func:`_take_many` takes of one run in one piece of data: its window ``lo``, ``hi``, the number of the line at
#: ``lo``, its tag, and where its lines' numbers and bytes go
_Take = tuple[int, int, int, bytes, "array[int]", list[bytes]]


def _batched(items: Sequence[_Take]) -> bool:
    """Are these runs' windows worth cutting in one pass (:data:`_BATCH_FROM`), and can they be (every tag a
    bracketed word, as :func:`_take_batch` finds them)?"""
    if len(items) < 2:
        return False
    lo, hi = min(t[0] for t in items), max(t[1] for t in items)
    return sum(t[1] - t[0] for t in items) > _BATCH_FROM * (hi - lo) and all(_BRACKETED.fullmatch(t[3]) for t in items)


def _take_many(data: bytes, items: Sequence[_Take], nl: NDArray[np.intp] | None = None) -> Iterator[_Take]:
    """:func:`_take_lines` for several runs in the same data (``nl`` as there), each item given as soon as its
    lines are in it: one run at a time, or, when many overlap (:func:`_batched`), the lines' places of all found in
    one pass (:func:`_take_batch`: the same lines) and each one's bytes copied only when it is given, so a caller
    that lets each go before the next holds one item's lines at a time."""
    if _batched(items):
        taken, nl = _take_batch(data, items, nl)
        for item, got in zip(items, taken):
            _fill_take(data, item, got, nl)
            yield item
        return
    for item in items:
        lo, hi, line, tag, numbers, raws = item
        _take_lines(data, lo, hi, line, tag, numbers, raws, nl)
        yield item


def _take_batch(
    data: bytes, items: Sequence[_Take], nl: NDArray[np.intp] | None = None
) -> tuple[list[array[int]], NDArray[np.intp] | None]:
    """:func:`_take_lines` for many runs at once, linear in the bytes they span together, not in the sum of their
    spans: the marker lines of that window are found once (a line that :func:`_take_lines` takes holds a
    marker); on each, every bracketed word (:data:`_BRACKETED`: every occurrence of every tag is one) that is a
    run's tag is checked as there (a marker after its first occurrence: a marker after a later one is after the
    first too), and the line goes to the runs of that tag whose window holds it.  Each run's lines are numbered
    from the window's newlines, from its own first line's number (as :func:`_take_lines` numbers them).

    Only the lines' places are found here: each run's ``(start, end)`` pairs, and the window's newlines; its
    numbers and bytes are filled in by :func:`_fill_take`, one run at a time (a line that names many runs' tags
    is copied once per run: never for all of them at once)."""
    lo_all, hi_all = min(t[0] for t in items), max(t[1] for t in items)
    if nl is None and hi_all - lo_all > _BATCH_STRETCH:  # else one stretch, numbered by counting (no numpy)
        nl = newlines(data, lo_all, hi_all)
    by_tag: dict[bytes, list[int]] = defaultdict(list)
    for k in sorted(range(len(items)), key=lambda k: items[k][0]):
        by_tag[items[k][3]].append(k)
    # a tag's runs one after another (a thread's runs are): the one that may hold a line is found by bisection
    apart = {tag: all(items[a][1] <= items[b][0] for a, b in zip(ks, ks[1:])) for tag, ks in by_tag.items()}
    los = {tag: [items[k][0] for k in ks] for tag, ks in by_tag.items()}
    taken = [array("q") for _ in items]  # each run's lines: start, end, start, end...
    tags, search, find, count = _BRACKETED.finditer, _ANY_MARKER.search, data.find, data.count
    known = list(by_tag)
    w = lo_all
    while w < hi_all:  # a stretch of whole lines at a time: its marker lines' places, not all the window's, at once
        if nl is None:
            wz = hi_all
        else:
            k = int(nl.searchsorted(min(w + _BATCH_STRETCH, hi_all) - 1))
            wz = int(nl[k]) + 1 if k < len(nl) else hi_all
        starts, ends, _ = _hit_lines(data, MARKER_NEEDLES, w, wz, nl)
        w = wz
        for s, e in zip(starts, ends):
            if count(b"[", s, e) > len(known):  # more bracketed words than tags: each tag's first place
                found = [(i, tag) for tag in known if (i := find(tag, s, e)) != -1]
            else:
                done: list[bytes] = []
                found = []
                for m in tags(data, s, e):
                    tag = m[0]
                    if tag in by_tag and tag not in done:
                        done.append(tag)
                        found.append((m.start(), tag))
            for i, tag in found:
                ks = by_tag[tag]
                if search(data, i + len(tag), e) is None:
                    continue
                if apart[tag]:
                    j = bisect_right(los[tag], s) - 1
                    if j >= 0 and s < items[ks[j]][1]:
                        taken[ks[j]].extend((s, e))
                else:
                    for j in ks:
                        if items[j][0] <= s < items[j][1]:
                            taken[j].extend((s, e))
    return taken, nl


def _fill_take(data: bytes, item: _Take, got: array[int], nl: NDArray[np.intp] | None) -> None:
    """One run's lines that :func:`_take_batch` found (``got``: their start and end offsets; ``nl``: the newlines
    it used, None when it counted them): their numbers and bytes, into ``item``."""
    if not got:
        return
    lo, _, line, _, numbers, raws = item
    raws += [data[s:e] for s, e in zip(got[::2], got[1::2])]
    if nl is None:
        count, counted = data.count, lo
        for s in got[::2]:
            line += count(b"\n", counted, s)
            counted = s
            numbers.append(line)
    else:
        import numpy as np

        numbers.extend((nl.searchsorted(np.frombuffer(got, np.int64)[::2]) + (line - int(nl.searchsorted(lo)))).tolist())


def _take_run_lines(
    data: bytes, pieces: Sequence[tuple[int, int, int, _Run]], name: str, nl: NDArray[np.intp] | None = None,
    budget: list[int] | None = None,
) -> None:
    """:func:`_take_many` into each run's ``read``: ``pieces`` are ``(lo, hi, line at lo, run)``.  Each run's
    lines are copied and joined in turn (a line that names many runs' tags is never copied for all of them
    at once); ``budget`` as :func:`_read_runs` spends it."""
    items: list[_Take] = [(lo, hi, line, run.tag, array("q"), []) for lo, hi, line, run in pieces]
    for (_, _, _, run), (_, _, _, _, numbers, raws) in zip(pieces, _take_many(data, items, nl)):
        if numbers:
            joined = b"\n".join(raws)
            raws.clear()
            if budget is not None:
                budget[0] -= len(joined) + 8 * len(numbers)
                if budget[0] < 0:
                    raise _OverBudget
            if run.read is None:
                run.read = []
            run.read.append((name, numbers, joined))


class _OverBudget(Exception):
    """Runs read together would hold more than their budget of lines (see :func:`_read_runs`)."""


#: the bytes of lines (and their numbers) that runs read together in pass 2 may hold before the first is built;
#: more (hostile lines that name many runs' tags: each run holds its own copy) and they are read one at a time
_READ_BUDGET = 16 << 20


#: a segment of a run in one file: its start offset, its end offset (None: the file's end), the number of the line
#: at its start, the run
_Segment = tuple[int, "int | None", int, _Run]


def _overlapping(segs: list[_Segment]) -> list[tuple[int, int | None, list[_Segment]]]:
    """The segments in groups that each span a stretch of the file no other group reaches into, by their start."""
    groups: list[tuple[int, int | None, list[_Segment]]] = []
    for seg in sorted(segs, key=lambda g: g[0]):
        lo, hi = seg[0], seg[1]
        if groups and (groups[-1][1] is None or lo < groups[-1][1]):
            glo, ghi, members = groups[-1]
            members.append(seg)
            groups[-1] = (glo, None if ghi is None or hi is None else max(ghi, hi), members)
        else:
            groups.append((lo, hi, [seg]))
    return groups


def _read_segments_by_offset(f: LogFile, name: str, segs: list[_Segment], budget: list[int] | None = None) -> None:
    """The runs' lines in a plain file, read by offset: each stretch that overlapping segments span is read once, a
    block at a time, and each block is cut for all its segments at once (:func:`_take_run_lines`), so runs that
    overlap do not each read and search what they share.  A segment's lines are numbered from its own first
    line's number and the newlines since its start."""
    with open(f.path, "rb") as fh:
        for lo, hi, group in _overlapping(segs):
            pos, counted = lo, 0  # counted: the newlines from lo to pos
            nxt, active = 0, []
            since: list[int] = []  # each active segment's newlines from lo to its start
            while hi is None or pos < hi:
                want = BLOCK_SIZE if hi is None else min(BLOCK_SIZE, hi - pos)
                fh.seek(pos)
                data = fh.read(want)
                if not data:
                    break
                if len(data) == want and (hi is None or pos + want < hi):  # more follows: whole lines only
                    cut = data.rfind(b"\n") + 1
                    if cut == 0:  # a line longer than a block (pass 1 reported it): skip past it
                        while nxt < len(group) and group[nxt][0] <= pos:  # a segment that starts with it
                            active.append(group[nxt])
                            since.append(counted)
                            nxt += 1
                        while data and b"\n" not in data:
                            pos += len(data)
                            data = fh.read(BLOCK_SIZE)
                        pos += data.find(b"\n") + 1
                        counted += 1
                        continue
                    data = data[:cut]
                if not data.endswith(b"\n"):
                    data += b"\n"
                top = pos + len(data)
                first = len(active)
                while nxt < len(group) and group[nxt][0] < top:
                    active.append(group[nxt])
                    nxt += 1
                nl = newlines(data, 0, len(data)) if len(active) > 1 else None
                for g in active[first:]:  # they start in this block
                    a = g[0] - pos
                    since.append(counted + (int(nl.searchsorted(a)) if nl is not None else data.count(b"\n", 0, a)))
                pieces = []
                for g, n in zip(active, since):
                    a = max(g[0], pos) - pos
                    z = (top if g[1] is None else min(g[1], top)) - pos
                    if z > a:
                        pieces.append((a, z, g[2] + counted - n if a == 0 else g[2], g[3]))
                _take_run_lines(data, pieces, name, nl, budget)
                counted += len(nl) if nl is not None else data.count(b"\n")
                pos = top
                keep = [k for k, g in enumerate(active) if g[1] is None or g[1] > pos]
                active, since = [active[k] for k in keep], [since[k] for k in keep]


def _read_segments_streaming(f: LogFile, name: str, segs: list[_Segment], budget: list[int] | None = None) -> None:
    """The runs' lines in one more pass over a file (gzip, a bundle's member): each block cut for all the segments
    in it at once (:func:`_take_run_lines`)."""
    try:
        for b in iter_blocks(f):
            if b.long:
                continue
            bstart, bend = b.offset, b.offset + b.end - b.start
            here = [g for g in segs if g[0] < bend and (g[1] is None or g[1] > bstart)]
            if not here:
                continue
            nl = newlines(b.data, b.start, b.end) if len(here) > 1 else None
            pieces = []
            for lo, hi, line, run in here:
                a = max(lo, bstart) - bstart + b.start
                z = (min(hi, bend) if hi is not None else bend) - bstart + b.start
                # from the file's start, the block knows its line (a syslog view's first line need not be 1)
                if not (lo >= bstart and lo > 0):
                    line = b.line + (b.data.count(b"\n", b.start, a) if nl is None
                                     else int(nl.searchsorted(a) - nl.searchsorted(b.start)))
                pieces.append((a, z, line, run))
            _take_run_lines(b.data, pieces, name, nl, budget)
    except ReadError:
        pass  # pass 1 reported it


#: the literal every line that ends a scan holds (the shape's)
_SCAN_FINISHED_NEEDLE = required_literal(imss.SCAN_FINISHED.grammar.re.pattern).encode()  # type: ignore[attr-defined]
#: a line that ends a scan as IMSVA writes it, from its thread tag's end: the internal ID (no bracket, so no location
#: tag begins before the comma) and a comma (the shape's detail takes any rest)
_SCAN_FINISHED_PLAIN = re.compile(rb"\] " + re.escape(_SCAN_FINISHED_NEEDLE) + rb" [^\s,<>\[\]]+, ")


def _finished_lines(data: bytes, start: int, end: int, unsure: set[int], limit: int) -> int:
    """How many lines of ``data[start:end]`` end a scan as the grammar reads them (a Scan finished record).  A line
    with a sure head (not among ``unsure``, see :func:`_account`) whose thread tag is followed by the shape as IMSVA
    writes it (:data:`_SCAN_FINISHED_PLAIN`) is one without parsing; any other line that holds the shape's literal
    (``Scan finished for`` in a Subject logged at debug level, after a [LEVEL] tag...) is parsed."""
    n = 0
    find, rfind, plain = data.find, data.rfind, _SCAN_FINISHED_PLAIN.match
    i = find(_SCAN_FINISHED_NEEDLE, start, end)
    while i != -1:
        s = rfind(b"\n", start, i) + 1 or start
        e = find(b"\n", i, end)
        e = end if e == -1 else e
        if e - s <= limit:  # a longer line is a reject
            if s not in unsure and find(b"]", s + _TAG_AT, i) == i - 2 and plain(data, i - 2, e) is not None:
                n += 1
            elif isinstance(parse_line("imss", Source("", 0, _text(data[s:e]))), ScanFinished):
                n += 1
        i = find(_SCAN_FINISHED_NEEDLE, e, end)
    return n
#: where a scan names itself, with the ID as the first group: prefilters derived from the two shapes
_SCAN_FINISHED_ID = re.compile(
    required_literal(imss.SCAN_FINISHED.grammar.re.pattern).encode() + rb"[ \t]+<?([^\s,<>]+)"  # type: ignore[attr-defined]
)
_MESSAGE_ID_VALUE = re.compile(
    required_literal(imss.MESSAGE_ID.grammar.re.pattern).encode() + rb"[ \t]*:[ \t]*<?([^\s<>]+)"  # type: ignore[attr-defined]
)


def find_scans(files: Sequence[LogFile], index: ScanIndex, internal_ids: set[str], message_ids: set[str]) -> None:
    """Index the ``Scan finished`` and ``Message-ID`` lines that name one of the given IDs.

    One byte-level pass (a regex with a literal start over big blocks); only the lines
    whose ID is wanted are parsed.  ``message_ids`` are normalised (:func:`normalize_message_id`).
    This answers "why has this policy event no trace" without indexing every scan.
    """
    if not internal_ids and not message_ids:
        return
    wanted = []
    if internal_ids:
        wanted.append((_SCAN_FINISHED_ID, internal_ids, False))
    if message_ids:
        wanted.append((_MESSAGE_ID_VALUE, message_ids, True))
    for _, name, b in _blocks(files, [], ScanStats(), None, 0):
        data = b.data
        starts = set()
        for rx, ids, is_mid in wanted:
            for m in rx.finditer(data, b.start, b.end):
                key = decode(m[1])
                if (key.lower() if is_mid else internal_key(key)) in ids:
                    starts.add(data.rfind(b"\n", b.start, m.start()) + 1 or b.start)
        line, counted = b.line, b.start
        for s in sorted(starts):
            line += data.count(b"\n", counted, s)
            counted = s
            item = parse_line("imss", Source(name, line, _text(data[s : data.find(b"\n", s)])))
            if isinstance(item, ScanFinished) and internal_key(item.internal_id) in internal_ids:
                index.add(ScanRef(item.thread, name, line), internal_id=item.internal_id)
            elif isinstance(item, MessageIdLine) and normalize_message_id(item.message_id) in message_ids:
                index.add(ScanRef(item.thread, name, line), message_id=item.message_id)


def start_unread(files: Sequence[LogFile], refs: Sequence[ScanRef]) -> dict[ScanRef, str]:
    """Of the lines that name a scan (``refs``, in ``files``), those whose scan began before the lines read, with why: its
    thread has no Accept or Scan finished line before it in its file (so the scan began before the file), and no file
    read whole continues into it (it is the first file given; the one before was left out or given empty, or could not
    be read to its end).  Such a scan's AntiSpoofFilter header lines come before that line: they may be in what was not
    read, so its lack of them says nothing of the log level.  One read of each file from its start (until each thread
    asked for shows its first such line), and of the file before it to its end only where that decides."""
    from ..rotation import breaks, hollows

    index = {str(f.path): i for i, f in enumerate(files)}
    by_file: dict[int, list[ScanRef]] = defaultdict(list)
    for r in refs:
        if r.file in index:
            by_file[index[r.file]].append(r)
    gaps = breaks(files) if by_file else {}
    empty = hollows(files) if by_file else {}
    out: dict[ScanRef, str] = {}
    for fi, asked in sorted(by_file.items()):
        first = _first_bounds(files[fi], {(r.thread, r.line) for r in asked})
        cut = [r for r in asked if first.get(r.thread, r.line) >= r.line]  # no scan of its thread began before it
        if not cut:
            continue
        if fi == 0:
            why: str | None = f"it is in {files[0].name}, the first log.imss file given"
        elif fi - 1 in gaps:
            why = gaps[fi - 1].previous_words()
        elif files[fi - 1] in empty:  # given, but it holds nothing of its rotation (attack s24d F1)
            why = f"the file before it, {files[fi - 1].name}, {empty[files[fi - 1]]}: what that rotation held is not here"
        else:  # the file before continues into it: read through once, to know whether it was read to its end
            lost = _read_error(files[fi - 1])
            why = None if lost is None else (f"the file before it, {files[fi - 1].name}, could not be read "
                                             f"{not_read_to_end(lost)}")
        if why is not None:
            out.update(dict.fromkeys(cut, why))
    return out


def _read_error(f: LogFile) -> ReadError | None:
    """The error that stops reading ``f`` before its end (a gzip cut short or corrupt), if any: the file read through."""
    try:
        for _ in iter_blocks(f):
            pass
    except ReadError as exc:
        return None if exc.whole else exc  # (every line read: only the check at its end failed)
    return None


#: why a scan open at the end of the last log.imss file given ends there (as compare.py says it)
LOG_ENDS = "the log.imss files given end there"


def end_unread(files: Sequence[LogFile], refs: Sequence[ScanRef]) -> dict[ScanRef, str]:
    """Of the lines that name a scan (``refs``, in ``files``), those whose scan's lines stop where what was read stops,
    with why (:func:`~imsvalog.scan_sessions.cut_words`, as its session's end says it; :data:`LOG_ENDS` past the last
    file): no Accept connection or Scan finished line of its thread comes at or after it, in its file or in the files
    read on into (a file read to its end that the next file given continues), before reading stopped at a read error
    (a gzip cut short) or at a file the next does not continue.  Such a scan was not read to its end: its
    AntiSpoofFilter header lines may be in what was not read, so its lack of them says nothing of the log level.
    One read of each file from its start, until each scan asked for has shown its end."""
    index = {str(f.path): i for i, f in enumerate(files)}
    by_file: dict[int, list[ScanRef]] = defaultdict(list)
    for r in refs:
        if r.file in index:
            by_file[index[r.file]].append(r)
    if not by_file:
        return {}
    gaps = gap_after(files)
    out: dict[ScanRef, str] = {}
    for fi, asked in sorted(by_file.items()):
        i, want = fi, {r: r.line for r in asked}
        while want:
            left, lost = _open_after(files[i], want)
            if not left:
                break
            if lost is not None or i in gaps or i == len(files) - 1:
                out.update(dict.fromkeys(left, cut_words(files, i, gaps, {i: lost} if lost is not None else {})
                                         or LOG_ENDS))
                break
            i, want = i + 1, dict.fromkeys(left, 0)  # the next file continues it: its thread's lines go on there
    return out


def _open_after(f: LogFile, want: dict[ScanRef, int]) -> tuple[list[ScanRef], ReadError | None]:
    """Of ``want`` (a line naming a scan -> the line of ``f`` from which its end is looked for), those whose thread has
    no Accept connection or Scan finished line in ``f`` from that line on, and the error that stopped reading ``f``
    before its end, if any (None: read to its end, or each scan's end found first).  Each is looked for from its own
    line, among its thread's lines only (a few lines on, most often): the other lines are not looked at one by one."""
    left = dict(want)
    ends = {t: re.compile(re.escape(f"[{t}]".encode()) + b"[^\n]*?(?:" + re.escape(_ACCEPT_NEEDLE) + b"|"
                          + re.escape(_SCAN_FINISHED_NEEDLE) + b")").search for t in {r.thread for r in want}}
    try:
        for b in iter_blocks(f):
            if not left:
                break
            if b.long:
                continue
            data, nl = b.data, None
            for r, at in sorted(left.items(), key=lambda x: x[1]):
                if at >= b.line + b.lines:
                    break  # (its line is in a later block)
                if at <= b.line:
                    pos = b.start
                else:
                    nl = newlines(data, b.start, b.end) if nl is None else nl
                    pos = int(nl[at - b.line - 1]) + 1
                m = ends[r.thread](data, pos, b.end)
                while m is not None:
                    s = data.rfind(b"\n", b.start, m.start()) + 1 or b.start
                    e = data.find(b"\n", m.start(), b.end)
                    e = b.end if e == -1 else e
                    item = parse_line("imss", Source("", 0, _text(data[s:e])))  # (the grammar decides what it is)
                    if isinstance(item, (AcceptConnection, ScanFinished)) and item.thread == r.thread:
                        del left[r]  # its scan ends here (its Scan finished line), or another began after it
                        break
                    m = ends[r.thread](data, e, b.end)
    except ReadError as exc:
        if not exc.whole:  # (every line read: only the check at its end failed)
            return list(left), exc
    return list(left), None


def _first_bounds(f: LogFile, asked: set[tuple[str, int]]) -> dict[str, int]:
    """The number of the first line in ``f`` that begins or ends a scan of each thread of ``asked`` (thread, line
    number): its Accept connection or Scan finished line, as the grammar reads them (a log.imss without Accept lines is
    cut at its Scan finished lines).  A line of that thread after such a line is of a scan begun in ``f``.  Read from
    the file's start until each is found or its line passed (a thread's first such line comes within its first scan)."""
    want = {t: max(n for u, n in asked if u == t) for t, _ in asked}
    out: dict[str, int] = {}
    bound = _either((_ACCEPT_NEEDLE, _SCAN_FINISHED_NEEDLE)).search
    try:
        for b in iter_blocks(f):
            if not want or b.line >= max(want.values()):
                break
            if b.long:
                continue
            data, line, counted = b.data, b.line, b.start
            m = bound(data, b.start, b.end)
            while m is not None and want:
                s = data.rfind(b"\n", b.start, m.start()) + 1 or b.start
                e = data.find(b"\n", m.start(), b.end)
                e = b.end if e == -1 else e
                line += data.count(b"\n", counted, s)
                counted = s
                item = parse_line("imss", Source("", 0, _text(data[s:e])))
                if isinstance(item, (AcceptConnection, ScanFinished)) and item.thread in want:
                    out[item.thread] = line
                    del want[item.thread]
                want = {t: n for t, n in want.items() if n > line}  # passed: none before it
                m = bound(data, e, b.end)
    except ReadError:
        pass
    return out


@dataclass(frozen=True)
class ScanRef:
    """A log.imss line that names a scan (its Scan finished or Message-ID line), and the scan's thread."""

    thread: str
    file: str
    line: int


@dataclass
class ScanIndex:
    """Every scan's internal ID and Message-ID, the time span log.imss covers, and how many scans it holds.

    Built for all scans, also those whose lines :func:`read_spoof_sessions` did not parse in full.
    """

    by_internal: dict[str, ScanRef] = field(default_factory=dict)
    by_message: dict[str, ScanRef] = field(default_factory=dict)
    first: datetime | None = None
    last: datetime | None = None
    #: scans seen: sessions parsed in full, plus the others as :func:`_unparsed_scans` counts them
    scans: int = 0

    def see(self, t: datetime) -> None:
        if self.first is None or t < self.first:
            self.first = t
        if self.last is None or t > self.last:
            self.last = t

    def add(self, ref: ScanRef, internal_id: str | None = None, message_id: str | None = None) -> None:
        """Index the line that names a scan's internal ID or Message-ID (the earliest line wins)."""
        for table, key in ((self.by_internal, internal_key(internal_id)), (self.by_message, normalize_message_id(message_id))):
            if key:
                old = table.get(key)
                if old is None or (ref.file, ref.line) < (old.file, old.line):
                    table[key] = ref

    def add_session(self, s: ScanSession) -> None:
        self.add_marks(s.thread, self.marks_of(s))

    @staticmethod
    def marks_of(s: ScanSession) -> _Marks:
        """What the index takes of a session: its lines that name it (internal ID, Message-ID, file, line),
        its first and last time."""
        names: list[tuple[str | None, str | None, str, int]] = []
        for rec in s.records:
            if isinstance(rec, ScanFinished):
                names.append((rec.internal_id, None, rec.source.file, rec.source.line))
            elif isinstance(rec, MessageIdLine):
                names.append((None, rec.message_id, rec.source.file, rec.source.line))
        return names, s.first_time, s.last_time

    def add_marks(self, thread: str, marks: _Marks) -> None:
        names, first, last = marks
        for internal_id, message_id, file, line in names:
            self.add(ScanRef(thread, file, line), internal_id=internal_id, message_id=message_id)
        self.see(first)
        self.see(last)
        self.scans += 1

    @classmethod
    def of(cls, sessions: Sequence[ScanSession]) -> ScanIndex:
        idx = cls()
        for s in sessions:
            idx.add_session(s)
        return idx

    @property
    def span(self) -> tuple[datetime, datetime] | None:
        return (self.first, self.last) if self.first is not None and self.last is not None else None
