"""log.imss lines cut at byte level: a block of lines into per-line codes and messages, without a Python step per line.

:func:`cut` is the first step of :func:`imsvalog.frames.read_log_imss` (see :mod:`imsvalog.columns`).
It does what :data:`imsvalog.grammars.imss.BLOCK_RE` does to every line (head, lead, message), for
the lines IMSVA writes in its usual layout, with numpy over the block's bytes and the grammar's own
regexes once per distinct string:

* **head**: ``YYYY/MM/DD HH:MM:SS GMT+HH:MM`` is the first 29 bytes (:data:`HEAD_LAYOUT`); lines are
  grouped by them, and each distinct string is checked against the layout and read once (by
  :func:`~imsvalog.grammars.common.make_time`, in the caller).
* **thread and lead tokens** (``[pid:tid]``, level tag, level word, component): a window of
  :data:`WINDOW` bytes per line is cut after the last byte the grammar's regexes could look at
  (:func:`_cut_at`); the lines are grouped by the bytes before the cut, and
  :data:`imsvalog.grammars.imss.THREAD_TAG_RE` runs once per group, on one line of it.
* **variant start** (the literal start of a body shape, :data:`imsvalog.grammars.imss.STARTS`):
  compared as bytes at every line's end of tokens, first in the grammar's order wins (as in the regex).
* **message**: the rest of the line, made into Python strings by pyarrow from (offset, length) views of
  the block (no Python step per line); a line holding bytes above ASCII is decoded by Python.

A line that does not fit the usual layout (other spacing, offset ``GMT+9``, a thread or lead the
window does not hold, a non-ASCII byte where the tokens could go on) is left to the caller, who cuts it
with :data:`~imsvalog.grammars.imss.BLOCK_RE` as before.  ``tests/test_columns.py`` and
``tests/test_imss_cut.py`` hold the result equal to the record path and to the pyparsing grammar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from .grammars import imss

#: the head's fixed layout: ``0`` a digit, ``+`` the offset's sign, anything else itself
HEAD_LAYOUT = b"0000/00/00 00:00:00 GMT+00:00 ["
#: where the thread's ``[`` is; the thread starts one byte before it (the blank)
_BRACKET = HEAD_LAYOUT.index(b"[")
_THREAD = _BRACKET - 1
#: bytes per line looked at for the head, thread and lead tokens (longer leads go the regex's way)
WINDOW = 128
#: the cut is looked for in columns up to this one first, then in the rest of the window
_FIRST_PART = 96
#: bytes looked at where the lead tokens end: the longest variant start fits
_STARTS_WINDOW = 32

def _word_masks(select: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
    """Four uint64 words (little-endian, as ``view(np.uint64)`` reads 32 bytes) holding ``values`` (or 0xff)
    where ``select`` is true, 0 elsewhere."""
    out = np.where(select, 0xFF if values is None else values, 0).astype(np.uint8)
    return out.view(np.uint64)


#: the date, time and offset (columns 0..28) as the head's layout says, and in the four head words
_TIME_LAYOUT = re.compile(b"".join(
    b"[0-9]" if c == ord("0") else b"[+-]" if c == ord("+") else re.escape(bytes([c])) for c in HEAD_LAYOUT[:_THREAD]
))
_TIME_MASK = _word_masks(np.arange(32) < _THREAD)
#: in the word holding columns 24..31, the thread's columns (29..31)
_THREAD_MASK = _word_masks(np.arange(32) >= _THREAD)[3]
#: bytes 0..r of a word, by r
_LOW_BYTES = np.array([(1 << (8 * (r + 1))) - 1 for r in range(8)], dtype=np.uint64)


#: every byte the thread and lead tokens (:data:`imsvalog.grammars.imss.THREAD_TAG_RE`) can match,
#: as far as ASCII goes (a test derives it from the tokens' patterns)
TOKEN_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_:~[] \t"
#: classes of a byte, as bits (one ``bytes.translate`` classifies a window): bits 0-2 say what a byte
#: is, bits 3-5 what it allows after it, so that ``byte & (previous byte >> 3)`` is not 0 exactly where
#: the tokens cannot go on (see :func:`_cut_at`)
_NOT_TOKEN, _IS_BLANK, _IS_DIGIT = 1, 2, 4
_NOTHING_AFTER, _NO_BLANK_AFTER, _NO_DIGIT_AFTER = _NOT_TOKEN << 3, _IS_BLANK << 3, _IS_DIGIT << 3


def _classes() -> bytes:
    table = bytearray(256)
    for c in range(256):
        table[c] = (
            (c not in TOKEN_BYTES) * _NOT_TOKEN
            | (c in b" \t") * _IS_BLANK
            | (c in b"0123456789") * _IS_DIGIT
            | _NOTHING_AFTER  # a byte that is no token byte ends the tokens whatever comes before it
            | (c not in b"]: \t") * _NO_BLANK_AFTER  # a blank inside the tokens follows ], : or a blank
            | (c in b"] \t") * _NO_DIGIT_AFTER  # a token starts after these, and none with a digit (after : a method may)
        )
    return bytes(table)


_CLASSES = _classes()
#: what ``BLOCK_RE``'s ``tail`` holds: a message ending with one of these may end in a location tag
_TAIL = np.zeros(256, dtype=bool)
_TAIL[np.frombuffer(b"] \t", np.uint8)] = True

_STARTS = [s.encode("ascii") for s in imss.STARTS]
assert all(len(s) <= _STARTS_WINDOW for s in _STARTS), "a variant start longer than the window"
#: each start as (mask, value) words over :data:`_STARTS_WINDOW` bytes; its length (the last: no start)
_STARTS_WORDS = [
    (_word_masks(np.arange(32) < len(s)), _word_masks(np.arange(32) < len(s), np.frombuffer(s.ljust(32, b"\0"), np.uint8)))
    for s in _STARTS
]
_STARTS_LEN = np.array([len(s) for s in _STARTS] + [0], dtype=np.int64)

#: random odd multipliers for 8-byte words (a hash; groups are checked word by word after)
_MULT = np.random.default_rng(20240312).integers(1, 1 << 63, size=WINDOW // 8, dtype=np.uint64) | np.uint64(1)


@dataclass
class Cut:
    """One block's lines, by index: ``fast`` marks the lines cut here; the others are the caller's.

    For a fast line: ``time[i]`` indexes ``times`` (``YYYY/MM/DD HH:MM:SS GMT+HH:MM`` strings), ``token[i]`` indexes
    ``tokens`` (``(pid, tid, tags)`` strings),
    ``start[i]`` indexes :data:`~imsvalog.grammars.imss.STARTS` (-1: none), ``message[i]`` is the line's
    text after the lead (it starts at ``begin[i]``), and ``tail_empty[i]`` says that the message does not end with ``]``, a blank
    or a tab (``BLOCK_RE``'s ``tail`` is empty).
    """

    lines: int
    starts: np.ndarray
    ends: np.ndarray
    fast: np.ndarray
    time: np.ndarray
    times: list[str]
    token: np.ndarray
    tokens: list[tuple[str, str, str]]
    start: np.ndarray
    message: np.ndarray | None
    tail_empty: np.ndarray
    begin: np.ndarray


def _rows(a: np.ndarray, at: np.ndarray, width: int) -> np.ndarray:
    """``width`` bytes of ``a`` from each offset in ``at``, one row each (zeros past the end of ``a``).

    Rows are taken as one ``width``-byte item each (a view of ``a`` as overlapping void items): a copy of
    whole items, twice as fast as taking rows of a sliding window view byte by byte."""
    inside = len(a) - width
    if inside >= 0:
        items = np.ndarray((inside + 1,), dtype=np.dtype((np.void, width)), buffer=a, strides=(1,))
        out = items[np.minimum(at, inside)].view(np.uint8).reshape(len(at), width)
    else:
        out = np.empty((len(at), width), dtype=np.uint8)
    past = np.flatnonzero(at > inside)
    if len(past):
        base = max(int(at[past].min()), 0)
        tail = np.zeros(max(int(at[past].max()), len(a)) - base + width, dtype=np.uint8)  # offsets may be past the end
        tail[: max(len(a) - base, 0)] = a[base:]
        out[past] = np.lib.stride_tricks.sliding_window_view(tail, width)[at[past] - base]
    return out


def _all(*tests: np.ndarray) -> np.ndarray:
    """Elementwise and of 1-d boolean arrays (faster than ``.all(axis=1)`` over a few columns)."""
    out = tests[0].copy()
    for t in tests[1:]:
        out &= t
    return out


def _words_equal(words: np.ndarray, mask: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Rows of ``words`` (uint64 columns) equal to ``value`` under ``mask``, column by column."""
    return _all(*((words[:, j] & mask[j]) == value[j] for j in range(len(mask)) if mask[j]))


def _cut_at(a: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per line (``a`` from each of ``starts``), the column of the first byte the thread and lead
    tokens cannot go past (or :data:`WINDOW` when there is none in the line's first :data:`WINDOW` bytes).

    The tokens (``[pid:tid]``, ``[LEVEL]``, ``Word:``, ``Class::method:``, each with the blanks after it)
    are made of :data:`TOKEN_BYTES`; a blank in them only follows ``]``, ``:`` or a blank; none starts with
    a digit, and a token starts after ``]`` or a blank.  The regexes trying them stop at the first byte
    breaking one of these rules (a non-token byte, a blank after a letter or digit, a digit at a token
    start, the line's ``\\n``), so they look at no byte after it: the bytes up to and including it
    decide what they match.
    """
    at = np.full(len(starts), WINDOW, dtype=np.int64)
    todo = np.arange(len(starts))
    for lo, hi in ((_BRACKET, _FIRST_PART), (_FIRST_PART - 1, WINDOW)):  # most cuts fall in the first part
        part = _rows(a, (starts[todo] if lo != _BRACKET else starts) + lo, hi - lo)
        cls = np.frombuffer(part.tobytes().translate(_CLASSES), np.uint8).reshape(part.shape)
        hit = (cls[:, 1:] & (cls[:, :-1] >> 3)) != 0
        col = hit.argmax(axis=1)
        found = hit[np.arange(len(col)), col]
        at[todo[found]] = col[found] + lo + 1
        todo = todo[~found]
        if not len(todo):
            break
    return at


def _equal(a: np.ndarray, b: np.ndarray, of: np.ndarray | None = None) -> np.ndarray:
    """Rows of ``a`` (uint64 words) equal to rows of ``b`` (those at ``of`` if given): a few words column
    by column, more as rows taken whole and compared at once (comparing void items is several times slower)."""
    if a.shape[1] <= 4:
        out = a[:, 0] == (b[:, 0] if of is None else b[of, 0])
        for j in range(1, a.shape[1]):
            out &= a[:, j] == (b[:, j] if of is None else b[of, j])
        return out
    other = b if of is None else b[of]
    return (a == other).all(axis=1)


def _groups(words: np.ndarray, ok: np.ndarray, runs: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Rows of equal ``words`` (uint64, one row per line): (group per row, -1 where not ``ok``; the first
    row of each group).  Grouped by a hash, then checked word by word: a row unlike its group's first is not ok."""
    import pandas as pd

    code = np.full(len(words), -1, dtype=np.int64)
    rows = np.flatnonzero(ok)
    if not len(rows):
        return code, rows
    k = words if len(rows) == len(words) else words[rows]
    if runs:  # equal rows mostly follow each other: hash and check the first row of each run only
        new = np.ones(len(k), dtype=bool)
        new[1:] = ~_equal(k[1:], k[:-1])
        firsts = np.flatnonzero(new)
        kf = k[firsts]
        cf, _ = pd.factorize(kf @ _MULT[: k.shape[1]])
        first = _first_of_each(cf)
        same_f = _equal(kf, kf, first[cf])  # a run's rows are equal to its first row
        run = np.cumsum(new) - 1
        c, same, first = cf[run], same_f[run], firsts[first]
    else:
        c, _ = pd.factorize(k @ _MULT[: k.shape[1]])
        first = _first_of_each(c)
        same = _equal(k, k, first[c])
    code[rows[same]] = c[same]
    return code, rows[first]


def _first_of_each(c: np.ndarray) -> np.ndarray:
    """Where each code first appears, for codes numbered in order of first appearance (``pandas.factorize``)."""
    top = np.maximum.accumulate(c)
    return np.flatnonzero(np.concatenate(([True], top[1:] != top[:-1])))


def _messages(data: bytes, a: np.ndarray, starts: np.ndarray, begin: np.ndarray, end: np.ndarray,
              fast: np.ndarray) -> np.ndarray:
    """``data[begin:end]`` of each fast line as a Python string (surrogateescape as the record path),
    made by pyarrow from string views of ``data`` (no Python step per line); other lines None.

    Where pyarrow cannot (a version without string views), by Python, line by line.
    """
    n = len(begin)
    length = np.where(fast, end - begin, 0).astype(np.int32)
    begin = np.where(fast, begin, 4)  # a fast line's message starts after its head
    ascii_ = np.ones(n, dtype=bool)
    if not data.isascii():
        ascii_ = np.maximum.reduceat(a, starts) < 128
        length[~ascii_] = 0
    views = _views(a, begin, length)
    try:
        out = _from_views(n, views, data)
    except (ImportError, NotImplementedError, TypeError, ValueError, AttributeError):
        out = np.full(n, None, dtype=object)
        ascii_[:] = False
    out[~fast] = None
    for i in np.flatnonzero(fast & ~ascii_).tolist():
        out[i] = data[begin[i] : end[i]].decode("utf-8", "surrogateescape")
    return out


def _from_views(n: int, views: np.ndarray, data: bytes) -> np.ndarray:
    """Python strings of an Arrow string-view array over ``data``, as an object array."""
    import pyarrow as pa

    arr = pa.Array.from_buffers(pa.string_view(), n, [None, pa.py_buffer(views), pa.py_buffer(data)])
    return arr.to_numpy(zero_copy_only=False)


def _token_groups(data: bytes, a: np.ndarray, starts: np.ndarray, at: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, list[bytes]]:
    """The ``ok`` lines grouped by their bytes from the thread's column up to and including the cut ``at``:
    (group per line, -1 where not ``ok``; each group's bytes).  pyarrow's hash table over views of the
    block compares the bytes themselves; where pyarrow cannot (no view types), numpy hashes the lines' words
    and checks each group byte by byte (:func:`_groups`)."""
    try:
        return _token_groups_arrow(data, a, starts, at, ok)
    except (ImportError, NotImplementedError, TypeError, ValueError, AttributeError):
        pass
    rows = np.arange(len(at))
    w = _rows(a, starts, WINDOW)
    key = w.view(np.uint64)[:, 3:].copy()
    key[:, 0] &= _THREAD_MASK
    last = np.minimum(at // 8, len(_MULT) - 1)
    key[rows, last - 3] &= _LOW_BYTES[at % 8]
    key *= np.arange(3, WINDOW // 8) <= last[:, None]
    key[:, 0] |= at.astype(np.uint64)  # the cut's place belongs to the key (columns 24..28 are not in it)
    token, firsts = _groups(key, ok)
    return token, [w[r, _THREAD : int(at[r]) + 1].tobytes() for r in firsts.tolist()]


def _token_groups_arrow(data: bytes, a: np.ndarray, starts: np.ndarray, at: np.ndarray,
                        ok: np.ndarray) -> tuple[np.ndarray, list[bytes]]:
    import pyarrow as pa

    begin = np.where(ok, starts + _THREAD, 4)  # a line not ok: an empty view (and null)
    views = _views(a, begin, np.where(ok, at - _THREAD + 1, 0).astype(np.int32))
    valid = pa.py_buffer(np.packbits(ok, bitorder="little"))
    arr = pa.Array.from_buffers(pa.binary_view(), len(at), [valid, pa.py_buffer(views), pa.py_buffer(data)])
    enc = arr.dictionary_encode()
    token = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return token, enc.dictionary.to_pylist()


def _views(a: np.ndarray, begin: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Arrow view structs (16 bytes each) of ``a[begin:begin + length]`` per row, over one data buffer: the
    length, then up to 12 bytes inline (zero-padded), or a 4-byte prefix, buffer 0 and the offset."""
    views = _rows(a, begin - 4, 16)  # 4 bytes for the length, then the first 12 bytes of the text
    v32 = views.view(np.int32)
    v32[:, 0] = length
    short = np.flatnonzero(length < 12)
    views[short, 4:] *= np.arange(12) < length[short, None]  # inline strings are zero-padded
    long = length > 12
    v32[long, 2] = 0  # the one data buffer
    v32[long, 3] = begin[long]
    return views


def cut(data: bytes, messages: bool = True, ends: np.ndarray | None = None) -> Cut:
    """Cut the lines of ``data`` (whole lines, each ending with ``\\n``, no ``\\r``); see the module docstring.
    ``messages=False``: no message strings (``message`` None; :func:`messages_of` makes those wanted).
    ``ends``: the offsets of ``data``'s newlines, in order, when the caller has them (else found here)."""
    a = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(a == 10) if ends is None else ends
    n = len(ends)
    starts = np.empty(n, dtype=np.int64)
    starts[:1] = 0
    starts[1:] = ends[:-1] + 1

    # thread and lead tokens: grouped by the bytes from the thread up to and including the cut
    at = _cut_at(a, starts)
    ok = (at < WINDOW) & (starts + at <= ends)  # a cut past the line's end: its newline is at column 29 or 30
    token, keys = _token_groups(data, a, starts, at, ok)
    tokens: list[tuple[str, str, str]] = []
    tags_end = np.zeros(len(keys) + 1, dtype=np.int64)  # the last: for lines not cut here
    parsed = np.zeros(len(keys) + 1, dtype=bool)
    for g, key in enumerate(keys):
        m = None if key[-1] >= 128 else imss.THREAD_TAG_RE.match(key.decode("latin-1"))
        if m is None:  # the thread does not parse (the regex's way says why), or Python's \w may go on
            tokens.append(("", "", ""))
            continue
        tokens.append((m["pid"], m["tid"], m["tags"]))
        tags_end[g] = _THREAD + m.end()
        parsed[g] = True
    fits = parsed[token]

    # the date, time and offset: once per distinct string, checked against the layout then
    time, tfirst = _groups(_rows(a, starts, 32).view(np.uint64) & _TIME_MASK, fits, runs=True)
    times = []
    good = np.zeros(len(tfirst) + 1, dtype=bool)
    for g, r in enumerate(starts[tfirst].tolist()):
        head = data[r : r + _THREAD]  # a line cut here holds its head
        good[g] = _TIME_LAYOUT.fullmatch(head) is not None
        times.append(head.decode("ascii", "replace"))
    fits &= good[time]

    # the variant start where the tokens end: the first in the grammar's order that is there
    lead_end = starts + tags_end[token]
    there = _rows(a, lead_end, _STARTS_WINDOW).view(np.uint64)
    start = np.full(n, -1, dtype=np.int64)
    for j in range(len(_STARTS) - 1, -1, -1):
        mask, value = _STARTS_WORDS[j]
        cand = np.flatnonzero((there[:, 0] & mask[0]) == value[0])
        if len(cand):
            start[cand[_words_equal(there[cand], mask, value)]] = j
    begin = lead_end + _STARTS_LEN[start]
    tail_empty = (begin == ends) | ~_TAIL[a[np.maximum(ends - 1, 0)]]
    message = _messages(data, a, starts, begin, ends, fits) if messages else None
    return Cut(n, starts, ends, fits, time, times, token, tokens, start, message, tail_empty, begin)


def messages_of(data: bytes, c: Cut, rows: np.ndarray) -> np.ndarray:
    """The messages of the fast lines among ``rows`` (a boolean mask) of a block cut with ``messages=False``,
    as :func:`cut` makes them; every other line None."""
    a = np.frombuffer(data, np.uint8)
    return _messages(data, a, c.starts, c.begin, c.ends, c.fast & rows)


def byte_codes(data: bytes, begin: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, int] | None:
    """``data[begin:end]`` per row numbered by its bytes (equal bytes, equal number; in order of first appearance)
    and how many numbers there are: pyarrow's hash table over views of ``data`` (each ``begin`` at least 4), no
    Python object per row.  None where pyarrow cannot (no view types)."""
    try:
        import pyarrow as pa

        views = _views(np.frombuffer(data, np.uint8), begin, (end - begin).astype(np.int32))
        arr = pa.Array.from_buffers(pa.binary_view(), len(begin), [None, pa.py_buffer(views), pa.py_buffer(data)])
        enc = arr.dictionary_encode()
        return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), len(enc.dictionary)
    except (ImportError, NotImplementedError, TypeError, ValueError, AttributeError):
        return None


def ascii_lines(data: bytes, c: Cut) -> np.ndarray:
    """Per line of the block, whether it holds only ASCII bytes."""
    if data.isascii():
        return np.ones(c.lines, dtype=bool)
    return np.maximum.reduceat(np.frombuffer(data, np.uint8), c.starts) < 128


def strings_at(data: bytes, begin: np.ndarray, length: np.ndarray) -> np.ndarray:
    """``data[begin:begin + length]`` per row as Python strings (ASCII bytes, each ``begin`` at least 4), as an
    object array made by pyarrow from string views of ``data``."""
    return _from_views(len(begin), _views(np.frombuffer(data, np.uint8), begin, length.astype(np.int32)), data)


def views_work() -> bool:
    """Whether pyarrow here makes strings from string views (:func:`strings_at`)."""
    try:
        got = strings_at(b"....abc\n", np.array([4]), np.array([3]))
    except (ImportError, NotImplementedError, TypeError, ValueError, AttributeError):
        return False
    return got.tolist() == ["abc"]


def line_text(data: bytes, c: Cut, i: int) -> str:
    """Line ``i`` of the block as the record path decodes it."""
    return data[int(c.starts[i]) : int(c.ends[i])].decode("utf-8", "surrogateescape")


__all__: list[Any] = ["Cut", "cut", "line_text", "HEAD_LAYOUT", "TOKEN_BYTES", "WINDOW"]
