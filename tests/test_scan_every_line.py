"""correlate's every-line check (``scan._unsure_lines``) and pass 1 agree with ``parse`` on numbers
near the integer limit: a number of 19 or 20 digits may already be past a signed 64-bit integer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from imsvalog.correlation.scan import _unsure_lines
from imsvalog.readers import ReadReport, iter_records, parse_line
from imsvalog.records import Reject, Source

from .conftest import FIXTURES

_GOOD = "2024/03/12 09:15:01 GMT+01:00 [4242:139871] "
_BIG = [
    "2024/03/12 09:15:01 GMT+01:00 [" + "9" * 20 + ":139871] Info: Accept connection from client [127.0.0.1]",
    "2024/03/12 09:15:01 GMT+01:00 [4242:" + "9" * 19 + "] [DEBUG]AntiSpoofFilter: Get 1 IP address from received header. 1.2.3.4,",
    "2024/03/12 09:15:01 GMT+01:00 [4242:" + "9" * 19 + "] [DEBUG]x",
    _GOOD + "Running ruleId:" + "9" * 20 + "; version:3, numFilters:1, numActions:1",
    _GOOD + "Final action " + "9" * 19 + ": QuarantineAction",
    _GOOD + "[DEBUG]x [/src/a.cpp:f:" + "9" * 19 + "]",
    # fits: the largest signed 64-bit number, and one of 18 digits
    "2024/03/12 09:15:01 GMT+01:00 [9223372036854775807:1] [DEBUG]x",
    _GOOD + "Final action " + "9" * 18 + ": QuarantineAction",
]


@pytest.mark.parametrize("line", _BIG)
def test_a_line_taken_as_sure_parses(line: str) -> None:
    raw = line.encode() + b"\n"
    before = (_GOOD + "x\n").encode() * 3
    data = before + raw + (_GOOD + "y\n").encode()
    unsure = _unsure_lines(data, 0, len(data), 1 << 20)
    parsed = parse_line("imss", Source("f", 1, line))
    assert "9" * 19 not in line or unsure == [len(before)]  # every long number is looked at
    if isinstance(parsed, Reject):
        assert unsure == [len(before)], parsed.reason


def test_correlate_rejects_what_parse_rejects_near_the_integer_limit(tmp_path: Path) -> None:
    """Before: a [pid:tid] of 20 digits past the limit was a reject for parse and a record for correlate."""
    from imsvalog import correlate

    good = (FIXTURES / "busy-day" / "log.imss.20240312.0001").read_bytes().splitlines(keepends=True)
    lines = []
    for i, line in enumerate(good):
        lines.append(line)
        if i % 5 == 2:
            lines.append(_BIG[(i // 5) % len(_BIG)].encode() + b"\n")
    d = tmp_path / "case"
    d.mkdir()
    log = d / "log.imss.20240312.0001"
    log.write_bytes(b"".join(lines))
    shutil.copy(FIXTURES / "busy-day" / "polevt.imss.20240312.0001", d)
    report = ReadReport()
    want = [(r.source.line, r.reason) for r in iter_records([log], report=report) if isinstance(r, Reject)]
    assert len(want) >= 6
    c = correlate(d)
    assert [(r.source.line, r.reason) for r in c.rejects if r.source.file == str(log)] == want


# --- pass 2's parser of marker lines: the records of parse_line, line for line ----------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from imsvalog.correlation.scan import _MarkerParser  # noqa: E402

from .conftest import LOG_FIXTURES  # noqa: E402
from .test_attack8 import _DAMAGED  # noqa: E402
from .test_columns import imss_line  # noqa: E402


def _same(parser: _MarkerParser, text: str, line: int = 1) -> None:
    src = Source("log.imss.20240312.0001", line, text)
    want, got = parse_line("imss", src), parser(src)
    assert got == want
    assert type(got) is type(want)


def test_every_fixture_line_and_damaged_line_parses_as_parse_line_parses_it() -> None:
    parser = _MarkerParser()
    texts = [
        t.decode("utf-8", "surrogateescape")
        for p in LOG_FIXTURES if "log.imss" in p.name and not p.name.endswith(".gz")
        for t in p.read_bytes().splitlines()
    ]
    assert len(texts) > 1000
    for round_ in range(2):  # the second time from the caches
        for i, text in enumerate([*texts, *_DAMAGED, *_BIG]):
            _same(parser, text, i + round_)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(imss_line, min_size=1, max_size=8), heads=st.lists(st.sampled_from([
    "2024/03/12 09:15:01 GMT+01:00 [4242:139871]", "2024/03/12 09:15:01 GMT+01:00 [4242:139871] ",
    "2024/02/30 09:15:01 GMT+01:00 [4242:139871]", "2024/03/12 09:15:01 GMT+01:00 [4242:139871]\t ",
]), min_size=1, max_size=3))
def test_generated_lines_parse_as_parse_line_parses_them(lines: list[str], heads: list[str]) -> None:
    parser = _MarkerParser()
    for text in lines:
        _same(parser, text)
        cut = text.find("]") + 1
        for head in heads:  # the same rest behind other heads, and the same head before other rests
            _same(parser, head + text[cut:])
            _same(parser, text[:cut] + head[head.find("]") + 1 :])


# --- long numbers in big blocks (numpy) and small ones (translate): the same lines -------------------

from imsvalog.correlation.scan import _long_numbers, _long_numbers_small  # noqa: E402

_piece = st.one_of(
    st.integers(1, 45).map(lambda n: b"7" * n), st.sampled_from([b"\n", b" ", b":", b"]", b"x", b"\r\n", b"\xff"]),
    st.binary(max_size=9),
)


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(_piece, max_size=60), pad=st.integers(0, 7), cut=st.integers(0, 7))
def test_long_numbers_found_with_numpy_are_those_found_with_translate(pieces: list[bytes], pad: int, cut: int) -> None:
    import imsvalog.correlation.scan as scan

    data = b"\n" * pad + b"".join(pieces) * 3 + b"\n"
    start, end = pad, len(data)
    want = sorted(set(_long_numbers_small(data, start, end)))
    for piece in (scan._PIECE, 64, 76):  # one piece, and many that overlap
        saved = scan._PIECE
        try:
            scan._PIECE = piece
            scan._BUFFERS.clear()
            assert sorted(set(_long_numbers(data, start, end))) == want
            head = data[: start + cut] + b"\n"  # a window that does not start at the buffer's start
            assert sorted(set(_long_numbers(head, start, len(head)))) == sorted(set(_long_numbers_small(head, start, len(head))))
        finally:
            scan._PIECE = saved
            scan._BUFFERS.clear()


def test_a_number_at_every_offset_and_length_is_found() -> None:
    for length in range(15, 25):
        for at in range(0, 12):
            data = b"a" * at + b"1" * length + b"b\n" + b"2024 4098504448 x\n" * 50
            got = list(_long_numbers(data, 0, len(data)))
            assert got == ([0] if length > 18 else []), (length, at)
            data = b"2024 4098504448 x\n" * 50 + b"a" * at + b"1" * length + b"\n"
            assert sorted(set(_long_numbers(data, 0, len(data)))) == ([900] if length > 18 else []), (length, at)


# --- the every-line check with the first line's date, offset and pid as literals: the same lines --------

import re  # noqa: E402

from imsvalog.correlation import scan as _scan  # noqa: E402

_HEADS = [
    "2024/03/12 09:15:01 GMT+01:00 [4242:139871]", "2024/03/12 23:59:59 GMT+01:00 [4242:7]",
    "2024/03/13 00:00:00 GMT+01:00 [4242:139871]", "2024/03/12 09:15:01 GMT-05:00 [4242:139871]",
    "2024/03/12 09:15:01 GMT+01:00 [4243:139871]", "2024/03/12 09:15:01 GMT+01:00 [42:1]",
    "2024/02/29 09:15:01 GMT+01:00 [4242:1]", "2024/03/12 24:15:01 GMT+01:00 [4242:1]",
    "2024/03/12 09:15:01 GMT+01:00 [4242:" + "1" * 19 + "]", "2024/03/12 09:15:01 GMT+01:00 [4242]",
    "2024/03/12 09:15:01 GMT+1 [4242:1]", "x", "",
]


def _reference(data: bytes, start: int, end: int, limit: int) -> set[int]:
    """The check as it was: every line start tried against the general regex."""
    lines = [start] + [m.end() for m in re.compile(b"\n").finditer(data, start, end - 1)]
    out = {p for p in lines if _scan._SURE_START.match(data, p) is None}
    out |= set(_scan._long_numbers_small(data, start, end))
    return out


@settings(max_examples=300, deadline=None)
@given(heads=st.lists(st.sampled_from(_HEADS), min_size=1, max_size=30), bodies=st.lists(imss_line, max_size=5),
       many=st.booleans())
def test_unsure_lines_with_literal_heads_are_those_of_the_general_regex(heads: list[str], bodies: list[str], many: bool) -> None:
    texts = [h + " " + (bodies[i % len(bodies)] if bodies else "Info: x") for i, h in enumerate(heads)]
    if many:  # more lines unlike the first than are checked one by one
        texts += [_HEADS[4] + " x"] * (_scan._OTHERS_CHECKED + 1)
    data = ("\n".join(texts) + "\n").encode("utf-8", "surrogateescape").replace(b"\r", b"")
    assert set(_scan._unsure_lines(data, 0, len(data), 1 << 20)) == _reference(data, 0, len(data), 1 << 20)


# --- the same checks done for all lines at once (numpy, as in blocks of at least _NUMPY_FROM bytes) -------


@settings(max_examples=300, deadline=None)
@given(heads=st.lists(st.sampled_from(_HEADS + [
    "2024/03/12 09:15:01 GMT+01:00 [4242:" + "1" * 18 + "]", "2024/03/12 09:15:01 GMT+01:00 [4242:" + "1" * 16 + "]",
    "2024/03/12 09:15:01 GMT+01:00 [4242:" + "1" * 8 + "]", "2024/03/12 09:15:01 GMT+01:00 [4242:]",
    "2024/03/12 19:59:60 GMT+01:00 [4242:1]", "2024/03/12 09:15:01 GMT+01:00 [4242:12x]",
    "2024/03/12 09:15:01 GMT+01:00 [4242:1]]", "2024/03/12 20:5:01 GMT+01:00 [4242:1]",
]), min_size=1, max_size=30), bodies=st.lists(imss_line, max_size=5), pad=st.integers(0, 80),
       rows=st.sampled_from([1, 3, 1 << 13]))
def test_unsure_lines_checked_with_numpy_are_those_of_the_general_regex(
    heads: list[str], bodies: list[str], pad: int, rows: int
) -> None:
    """Every line's head checked at once (rows of 64-bit words, ``rows`` lines at a time) finds the lines the
    general regex finds, also for lines too near the end of the data for a whole row and for data after the
    last line end."""
    texts = [h + " " + (bodies[i % len(bodies)] if bodies else "Info: x") for i, h in enumerate(heads)]
    data = ("\n".join(texts) + "\n").encode("utf-8", "surrogateescape").replace(b"\r", b"")
    data = b"x" * pad + b"\n" + data + b"2024/03/12 09:15:01 GMT+01:00 [4242:1] cut"  # a window inside the data
    start, end = pad + 1, len(data) - len(b"2024/03/12 09:15:01 GMT+01:00 [4242:1] cut")
    nl = _scan.newlines(data, start, end)
    assert nl.tolist() == [i for i in range(start, end) if data[i] == 10]
    default, _scan._ROWS = _scan._ROWS, rows
    try:
        assert set(_scan._unsure_lines(data, start, end, 1 << 20, nl)) == _reference(data, start, end, 1 << 20)
    finally:
        _scan._ROWS = default


def test_every_clock_field_checked_in_the_numpy_rows_is_judged_as_the_general_regex_judges_it() -> None:
    """The clock's fields are looked up in tables of two bytes (hours, minutes and seconds): every two-digit
    value, a field with a blank, a colon, a letter or a byte with the high bit, in each of the three fields."""
    fields = [f"{n:02d}" for n in range(100)] + [" 1", "1 ", ":0", "0:", "a0", "0a", "\u00b0", "/0", "0/"]
    clocks = [f"{v}:15:01" for v in fields] + [f"09:{v}:01" for v in fields] + [f"09:15:{v}" for v in fields]
    first = "2024/03/12 09:15:01 GMT+01:00 [4242:139871] Info: x"
    lines = [first] + [f"2024/03/12 {c} GMT+01:00 [4242:139871] Info: x" for c in clocks]
    data = ("\n".join(lines) + "\n").encode()
    nl = _scan.newlines(data, 0, len(data))
    got = set(_scan._unsure_lines(data, 0, len(data), 1 << 20, nl))
    assert got == _reference(data, 0, len(data), 1 << 20)
    assert len(got) == 3 * len(fields) - 24 - 60 - 60  # the real times are sure, every other one is not


@pytest.mark.parametrize("pid", ["1", "12", "123", "1234", "12345", "123456", "1234567", "12345678", "123456789"])
def test_thread_numbers_after_a_prefix_ending_anywhere_in_a_word_are_judged_as_the_general_regex_judges_them(
    pid: str,
) -> None:
    """The thread number is read from the row's 64-bit words, shifted together from three (or taken as two
    when the prefix ends a word): every length of the pid puts its start at another byte of a word."""
    tids = ["", "1", "12", "1234567", "12345678", "123456789", "1" * 15, "1" * 16, "1" * 17, "12x", "1]", "\u00e91"]
    lines = [f"2024/03/12 09:15:01 GMT+01:00 [{pid}:777] x"]
    lines += [f"2024/03/12 09:15:01 GMT+01:00 [{pid}:{t}] Info: y" for t in tids for _ in range(2)]
    data = ("\n".join(lines) + "\n").encode()
    nl = _scan.newlines(data, 0, len(data))
    got = set(_scan._unsure_lines(data, 0, len(data), 1 << 20, nl))
    assert got == _reference(data, 0, len(data), 1 << 20)
    assert len(got) == 2 * 3  # no digit, a letter after digits, a first byte that is no digit (16 or 17 digits: sure)
    # the rows' check itself: it passes every line of up to 15 digits and "]", and no other (16 or more: the regex)
    starts = nl[:-1] + 1
    like = _scan._sure_like(b"2024/03/12", b"+01:00", pid.encode()).match
    unlike = set(_scan._unlike_first(data, starts, b"2024/03/12", b"+01:00", pid.encode()))
    long_tid = re.compile(rb"\[[0-9]+:[0-9]{16,}\]")
    assert unlike == {p for p in starts.tolist() if like(data, p) is None or long_tid.match(data, p + 30)}


def test_newlines_over_many_pieces_are_those_of_bytes_find() -> None:
    import random

    rnd = random.Random(11)
    data = bytes(rnd.choice(b"ab\n") if rnd.random() < 0.1 else 97 for _ in range(3 * _scan._PIECE + 123))
    for start, end in [(0, len(data)), (5, len(data) - 7), (_scan._PIECE - 1, 2 * _scan._PIECE + 1), (9, 9)]:
        assert _scan.newlines(data, start, end).tolist() == [i for i in range(start, end) if data[i] == 10]


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.one_of(imss_line, st.sampled_from(["x", "", "Accept connection", "AntiSpoofFilter: x"])),
                      min_size=1, max_size=40),
       tags=st.lists(st.sampled_from([b"Accept connection", b"AntiSpoofFilter:", b"x"]), min_size=1, max_size=3))
def test_hit_lines_with_numpy_are_those_found_one_by_one(lines: list[str], tags: list[bytes]) -> None:
    data = b"pad\n" + ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape") + b"tail"
    start, end = 4, len(data) - 4
    assert _scan._hit_lines(data, tags, start, end, _scan.newlines(data, start, end)) == _scan._hit_lines(data, tags, start, end)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.one_of(imss_line, st.sampled_from([
    "[4242:1] x", "[4242:1] Accept connection from client", "Scan finished for [4242:1]", "[4242:1]", "",
    "[4242:12] Final action 0: x", "x [4242:1] [4242:1] Message-ID", "[4242:1] \r Running ruleId:",
])), min_size=1, max_size=30))
def test_a_threads_marker_lines_are_those_a_line_by_line_check_finds(lines: list[str]) -> None:
    """``_take_lines`` (the thread's tag, then a marker on the same line) takes exactly the lines that hold the
    tag with a marker after it, never a marker of the next line."""
    from array import array

    from imsvalog.scan_sessions import MARKER_NEEDLES

    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")
    tag = b"[4242:1]"
    numbers: array[int] = array("q")
    raws: list[bytes] = []
    _scan._take_lines(data, 0, len(data), 1, tag, numbers, raws)
    want = [(i, raw) for i, raw in enumerate(data.split(b"\n")[:-1], 1)
            if tag in raw and any(n in raw[raw.index(tag) + len(tag):] for n in MARKER_NEEDLES)]
    assert list(zip(numbers, raws)) == want
    # numbered from the newlines of the window (as in a big block), from any line of it on
    window = b"x\n" + data
    for skip in range(min(3, len(lines)) + 1):
        lo = len(b"x\n") + sum(len(x) + 1 for x in data.split(b"\n")[:skip])
        numbers, raws = array("q"), []
        _scan._take_lines(window, lo, len(window), 7 + skip, tag, numbers, raws, _scan.newlines(window, 0, len(window)))
        assert list(zip(numbers, raws)) == [(i + 6, raw) for i, raw in want if i > skip]


@settings(max_examples=300, deadline=None)
@given(raws=st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")) | st.sampled_from(
    [b"", b"\r", b"x\r", b"\r\r", b"\xe2\x82", b"\xe2\x82\xac\r", b"\xff\xfe", b"\x82\xac", b"a\rb"]), max_size=8))
def test_a_runs_lines_decoded_at_once_are_those_decoded_one_by_one(raws: list[bytes]) -> None:
    """``_sources`` decodes a run's joined lines at once: the same texts as ``_text`` line by line (undecodable
    bytes escaped, a final CR dropped), the same numbers, the same Source objects."""
    from imsvalog.records import Source

    numbers = list(range(5, 5 + 3 * len(raws), 3))
    got = _scan._sources("log.imss", numbers, b"\n".join(raws), 2)
    assert got == [Source("log.imss", n + 2, _scan._text(raw)) for n, raw in zip(numbers, raws)]
    assert all(type(s) is Source for s in got)
