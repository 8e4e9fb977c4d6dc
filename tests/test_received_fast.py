"""parse_received's compiled forms are the grammar's, and ``id_word`` splits a keyword glued to any short queue ID.

The address and keyword regexes were rewritten for speed (issue 11: a shared lookbehind tested once a position,
a first-letter lookahead): they must find exactly what the plain union of the named pyparsing Regexes finds, on
every header of the fixtures and on generated text.  Finding s18b-5: a fold whose whitespace vanished glues the
next clause's keyword to the queue ID; Postfix's short IDs can be longer than 12 hex digits (inode above 2^28)
and some setups write them in lower case.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from imsvalog.grammars import received
from imsvalog.grammars.received import IPV4, IPV6, KEYWORDS, id_word, parse_received

from .conftest import FIXTURES

#: the forms the fast regexes replace, written as plainly as the grammar states them
PLAIN_BARE = re.compile(IPV4.re.pattern + "|" + IPV6.re.pattern.replace("?P<addr>", "?P<addr6>"))
PLAIN_KEYWORD = re.compile(r"(?i)(?<![^\s)\]>;])(" + "|".join(KEYWORDS) + r")(?=\s|$)")


def _matches(rx: re.Pattern[str], text: str) -> list[tuple[tuple[int, int], dict[str, str | None]]]:
    return [(m.span(), m.groupdict()) for m in rx.finditer(text)]


def _fixture_headers() -> list[str]:
    out = []
    for path in sorted(FIXTURES.rglob("log.imss.*")):
        if path.suffix == ".gz":
            continue
        for line in path.read_text("utf-8", "replace").splitlines():
            _, sep, header = line.partition("parse received header string:")
            if sep:
                out.append(header)
    return out


HEADERS = _fixture_headers()
SAMPLES = [
    "from x ([IPv6:::ffff:10.1.1.1]) by y", "::1 1.2.3.4 a1.2.3.4 1.2.3.4.5 fe80::1%eth0 13:43:08 :::: 1:2:3:4:5:6:7:8",
    "wıth WITH Wİth id İd FOR by\tBY;from", "x(from y)by z", "by h (Postfix, from userid 0)id DDDFC11FB0C; Tue",
]


def test_the_fixtures_hold_received_headers() -> None:
    assert len(HEADERS) > 20


def test_fast_regexes_find_what_the_plain_grammar_finds_on_every_fixture_header() -> None:
    for text in HEADERS + SAMPLES:
        assert _matches(received._BARE_RE, text) == _matches(PLAIN_BARE, text), text
        assert _matches(received._KEYWORD_RE, text) == _matches(PLAIN_KEYWORD, text), text


address_like = st.text(alphabet="0123456789abcdefABCDEF:.[] ()xyzIPv6;%\t", max_size=80)
keyword_like = st.lists(
    st.sampled_from(["from", "by", "via", "with", "id", "for", "FROM", "wıth", "İd", "Id", "byx", "xid", " ", "\t", "(",
                     ")", "]", ">", ";", "a", "x", "1"]), max_size=20,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=address_like | st.text(max_size=60))
def test_fast_address_regex_equals_the_union_of_ipv4_and_ipv6(text: str) -> None:
    assert _matches(received._BARE_RE, text) == _matches(PLAIN_BARE, text)


@settings(max_examples=400, deadline=None)
@given(text=keyword_like | st.text(max_size=60))
def test_fast_keyword_regex_equals_the_plain_one(text: str) -> None:
    assert _matches(received._KEYWORD_RE, text) == _matches(PLAIN_KEYWORD, text)


def test_a_keyword_glued_to_a_long_short_queue_id_is_split() -> None:
    # 13 hex digits: Postfix's 5 of microseconds and 8 of an inode above 2^28
    assert id_word("3F2A1B0C9D8E7for <a@b>") == "3F2A1B0C9D8E7"
    assert id_word("3F2A1B0C9D8E71Afrom x") == "3F2A1B0C9D8E71A"
    h = parse_received("from r (r [192.0.2.9]) by h (Postfix) with ESMTP id 3F2A1B0C9D8E7for <a@b>; Tue, 30 Apr 2019")
    assert h.queue_ids == ("3F2A1B0C9D8E7",)


def test_a_keyword_glued_to_a_lower_case_queue_id_is_split() -> None:
    assert id_word("ddfc11fb0cfor <a@b>") == "ddfc11fb0c"
    assert id_word("abcdeffor<a@b>") == "abcdef"  # the hex digit f before the keyword for
    assert id_word("ddfc11fb0cid x") == "ddfc11fb0c"
    assert parse_received("by h (Postfix) id ddfc11fb0cwith SMTP; Tue").queue_ids == ("ddfc11fb0c",)


def test_ambiguous_words_are_never_split() -> None:
    # by has no vowel: a long queue ID may end in it; lower-case b is a hex digit; 13+ digits may be a long ID
    assert id_word("ddfc11fb0cby x") == "ddfc11fb0cby"
    assert id_word("3F2A1B0C9D8E7by x") == "3F2A1B0C9D8E7by"
    assert id_word("DDDFC11FB0Cby x") == "DDDFC11FB0C"  # as before: 5-12 upper-case digits
    # mixed case is no short queue ID; a long queue ID (no vowel) holds no for/from/with/id/via
    assert id_word("DDDFc11fb0cfor x") == "DDDFc11fb0cfor"
    assert id_word("4XyZ1m2nQpz8bcd") == "4XyZ1m2nQpz8bcd"
    assert id_word("DDDFC11FB0Cforward") == "DDDFC11FB0Cforward"
    assert id_word("abcd for") == "abcd"
    assert id_word("abcdfor") == "abcdfor"  # 4 digits: not a queue ID
