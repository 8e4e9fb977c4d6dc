"""The byte-level cutter of log.imss blocks (imsvalog.imss_cut) against the grammar's regex (imss.BLOCK_RE).

For every line the cutter takes, the head's time, the thread, the lead (tokens and variant start), the
message and whether the message ends where a location tag could be must be what BLOCK_RE cuts; lines
it leaves go to BLOCK_RE itself.  The frames built from both are compared in tests/test_columns.py.
"""

from __future__ import annotations

import re
import re._parser as sre_parse  # the stdlib's own regex parser (3.11+)
import string

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imsvalog import imss_cut
from imsvalog.grammars import imss


def _consumed(pattern: str) -> set[int]:
    """The ASCII bytes that a match of ``pattern`` can consume or look at (a lookahead looks)."""
    out: set[int] = set()

    def member(op: object, av: object, c: int) -> bool:
        if op is sre_parse.LITERAL:
            return av == c
        if op is sre_parse.RANGE:
            return av[0] <= c <= av[1]  # type: ignore[index]
        if op is sre_parse.CATEGORY:
            probe = {sre_parse.CATEGORY_WORD: r"\w", sre_parse.CATEGORY_DIGIT: r"\d", sre_parse.CATEGORY_SPACE: r"\s"}
            assert av in probe, av
            return re.fullmatch(probe[av], chr(c)) is not None
        raise AssertionError(op)

    def walk(parsed: object) -> None:
        for op, av in parsed:  # type: ignore[attr-defined]
            if op is sre_parse.LITERAL:
                out.add(av)
            elif op is sre_parse.IN:
                negate = av and av[0][0] is sre_parse.NEGATE
                items = av[1:] if negate else av
                for c in range(128):
                    if any(member(o, a, c) for o, a in items) != bool(negate):
                        out.add(c)
            elif op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT):
                walk(av[2])
            elif op is sre_parse.SUBPATTERN:
                walk(av[3])
            elif op is sre_parse.BRANCH:
                for branch in av[1]:
                    walk(branch)
            elif op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
                walk(av[1])
            elif op is sre_parse.NOT_LITERAL or op is sre_parse.ANY:
                raise AssertionError("a token that takes almost any byte: the cut rule would not hold")
            else:
                assert op is sre_parse.AT, op

    walk(sre_parse.parse(pattern))
    return out


def test_token_bytes_are_what_the_thread_and_lead_tokens_can_match() -> None:
    assert _consumed(imss.THREAD_TAG_RE.pattern) == set(imss_cut.TOKEN_BYTES)


def test_the_head_layout_is_the_grammars_prefix() -> None:
    head = imss_cut.HEAD_LAYOUT.decode().replace("0", "1") + "2:3] "
    m = imss.PREFIX.re.match(head)  # type: ignore[attr-defined]
    assert m is not None and (m["date"], m["clock"], m["offset"], m["pid"], m["tid"]) == ("1111/11/11", "11:11:11", "+11:11", "2", "3")
    assert imss.THREAD_TAG_RE.match(head[imss_cut.HEAD_LAYOUT.index(b"[") - 1 :])


def _expected(line: str) -> tuple | None:
    """What BLOCK_RE cuts of a line: (date, clock, offset, pid, tid, lead, message, tail empty), None if no head."""
    m = imss.BLOCK_RE.fullmatch(line)
    assert m is not None
    head, lead, rest, tail, other = m.groups()
    if other is not None:
        return None
    p = imss.PREFIX.re.fullmatch(head)  # type: ignore[attr-defined]
    return (p["date"], p["clock"], p["offset"], p["pid"], p["tid"], lead, rest + tail, tail == "")


def _check(lines: list[bytes]) -> int:
    """Cut ``lines`` and compare each line the cutter takes with BLOCK_RE; the number it took."""
    data = b"".join(x + b"\n" for x in lines)
    c = imss_cut.cut(data)
    assert c.lines == len(lines)
    for i, raw in enumerate(lines):
        line = raw.decode("utf-8", "surrogateescape")
        assert imss_cut.line_text(data, c, i) == line
        if not c.fast[i]:
            continue
        pid, tid, tags = c.tokens[c.token[i]]
        start = imss.STARTS[c.start[i]] if c.start[i] >= 0 else ""
        t = c.times[c.time[i]]
        got = (t[0:10], t[11:19], t[23:29], pid, tid, tags + start, c.message[i], bool(c.tail_empty[i]))
        assert got == _expected(line), line
    return int(c.fast.sum())


TIMES = [b"2019/04/30 13:57:43 GMT+09:00", b"2024/03/12 09:15:01 GMT-05:00", b"2024/02/30 25:61:61 GMT+99:99", b"0000/00/00 00:00:00 GMT-00:00",
         b"2024-03-12 09:15:01 GMT+01:00", b"2024/03/12 09:15:01 GMT+1:000", b"2024/03/12 09:15:01 GMT*01:00", b"2024/03/12 09:15:01 UTC+01:00",
         b"2024/03/12\t09:15:01 GMT+01:00"]
THREADS = [b" [28639:4098483968]", b" [1:2]", b" [007:0]", b" [1:99999999999999999999999]", b" [1:2]\t \t", b" [:2]", b" [1:2", b" [a:2]",
           b" [1:2] ", b"\t[1:2] "]
#: bytes the lead tokens are made of, and a few that end them
TOKENISH = "[]:_~ \t" + "AIDEWFNCiox09" + "é-.>=/"
LEAD_WORDS = ["[DEBUG]", "[INFO]", "[X_Y]", "[]", "[a]", "Info:", "Information:", "Warning:", "Warn:", "Error:", "Debug:", "Fatal:",
              "AntiSpoofFilter:", "AntiSpoofFilter::parseSendIPFromOneRecvHeader:", "A::~B:", "A::B::C:", "A:::", "Info::x:", "X1::2y:",
              "Comp\u00e9::x:", "_:", "::", " ", "\t", "  ", "5", "Info:5", ":"]
STARTS = [s for s in imss.STARTS] + ["Get", "Running ruleId", ">>", "Final action:", "filter\t"]


lead = st.lists(st.sampled_from(LEAD_WORDS) | st.text(alphabet=TOKENISH, max_size=6), max_size=5).map("".join)
tail = st.sampled_from(["", " x", "x ", "]", " [/a.cpp:f:1]", "\t", "y]  ", " \u00e9", " \udcff", "x" * 90])
line = st.builds(
    lambda t, th, le, s, m, ta: t + th + (le + s + m + ta).encode("utf-8", "surrogateescape"),
    st.sampled_from(TIMES), st.sampled_from(THREADS), lead, st.sampled_from(["", *STARTS]),
    st.text(alphabet=TOKENISH + "xyz", max_size=12), tail,
)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(line, min_size=1, max_size=20))
def test_every_line_the_cutter_takes_is_cut_as_block_re_cuts_it(lines: list[bytes]) -> None:
    _check(lines)


def test_usual_lines_are_taken_and_others_left() -> None:
    samples = [s.line.encode() for v in imss.VARIANTS for s in v.samples] + [s.line.encode() for s in imss.GENERIC_SAMPLES]
    others = [b"", b"junk", b"[DEBUG]AntiSpoofFilter: Get \xc2\x80", b"2024/03/12  09:15:01 GMT+09:00 [1:2] two blanks", b"2024/03/12 09:15:01 GMT+9 [1:2] short offset",
              b"2024/03/12 09:15:01 GMT+01:00 [1:2] Comp\xc3\xa9::x: non-ASCII where the tokens could go on",
              b"2024/03/12 09:15:01 GMT+01:00 [1:2] " + b"A" * 200 + b": a component longer than the window"]
    lines = samples + others
    assert _check(lines) == len(samples)
    c = imss_cut.cut(b"".join(x + b"\n" for x in lines))
    assert not c.fast[len(samples):].any()


@pytest.mark.parametrize("size", [1, 7, 127, 128, 129, 300])
def test_lines_near_the_end_of_a_block(size: int) -> None:
    """The windows of the last lines reach past the block's end (read as zero bytes)."""
    lines = [b"2024/03/12 09:15:01 GMT+01:00 [1:2] [DEBUG]X::y: a " + b"z" * size, b"2024/03/12 09:15:01 GMT+01:00 [1:2] Get "]
    assert _check(lines) == 2
    assert _check(lines[1:]) == 1


def _no_arrow_groups(*args: object) -> None:
    raise NotImplementedError("no view types")


def test_a_hash_collision_is_checked_byte_by_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    """Groups come from a hash of the bytes; rows unlike their group's first row are left to the regex
    (the times always; the threads and leads where pyarrow cannot group them)."""
    monkeypatch.setattr(imss_cut, "_MULT", np.zeros_like(imss_cut._MULT))  # every row hashes alike
    monkeypatch.setattr(imss_cut, "_token_groups_arrow", _no_arrow_groups)
    lines = [b"2024/03/12 09:15:01 GMT+01:00 [1:2] [DEBUG]X::y: a", b"2024/03/12 09:15:02 GMT+01:00 [3:4] Info: b",
             b"2024/03/12 09:15:01 GMT+01:00 [1:2] [DEBUG]X::y: a"]
    assert _check(lines) == 2  # the first and the third: like the first row


def test_digits_and_blanks_that_end_the_tokens() -> None:
    base = b"2024/03/12 09:15:01 GMT+01:00 [1:2] "
    leads = [b"Info:5 x", b"Info: 5 x", b"A::5b: x", b"[A]5", b"X::y:  Get 1 IP address from received header. 1.2.3.4",
             b"Running ruleId:12; version:2", b"Info:Warning: x", b"[DEBUG] \t X::y:\tz", b"A::B::C: m", b"filter x isTriggered returned true"]
    assert _check([base + x for x in leads]) == len(leads)
    assert all(c in string.printable.encode() for c in imss_cut.TOKEN_BYTES)


def test_messages_without_string_views_come_from_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyarrow builds the messages from views of the block; where it cannot, Python does, line by line."""
    lines = [b"2024/03/12 09:15:01 GMT+01:00 [1:2] [DEBUG]X::y: short", b"2024/03/12 09:15:01 GMT+01:00 [1:2] a longer message, r\xc3\xa9sum\xc3\xa9 \xff"]
    data = b"".join(x + b"\n" for x in lines)
    want = list(imss_cut.cut(data).message)

    def broken(*args: object) -> None:
        raise NotImplementedError("no string views")

    monkeypatch.setattr(imss_cut, "_from_views", broken)
    assert list(imss_cut.cut(data).message) == want == ["short", "a longer message, r\u00e9sum\u00e9 \udcff"]
    assert _check(lines) == 2


def _taken(c: imss_cut.Cut) -> list[tuple | None]:
    """What a cut says of each line: None for a line left to the regex, else its time, tokens, start and message."""
    return [(c.times[c.time[i]], c.tokens[c.token[i]], int(c.start[i]), c.message[i], bool(c.tail_empty[i])) if c.fast[i] else None
            for i in range(c.lines)]


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(line, min_size=1, max_size=20))
def test_threads_and_leads_grouped_by_numpy_where_pyarrow_cannot(lines: list[bytes]) -> None:
    """pyarrow groups the lines' thread and lead bytes; without it (no view types) numpy's hash groups do, alike."""
    data = b"".join(x + b"\n" for x in lines)
    want = _taken(imss_cut.cut(data))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(imss_cut, "_token_groups_arrow", _no_arrow_groups)
        assert _taken(imss_cut.cut(data)) == want


@pytest.mark.parametrize("head", [b"2024/03/12 09:15:01 GMT+01:00", b"2024/03/12 09:15:01 GMT+01:00 ", b"2024/03/12 09:15:01 GMT+01:00 ["])
def test_a_line_ending_where_the_thread_would_start(head: bytes) -> None:
    """The window of a line ending at column 29 or 30 holds the next line: it is left to the regex (a reject)."""
    lines = [head, b"2024/03/12 09:15:01 GMT+01:00 [1:2] [DEBUG]X::y: a", head]
    assert _check(lines) == 1
