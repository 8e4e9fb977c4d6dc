"""Received headers, clause by clause, with every address literal in them.

One header as IMSVA logs it (folded lines joined; the folding whitespace may
survive as a run of spaces/tabs or vanish)::

    from mail.example.com (unknown [1111:2222:3333:444::5555])   by mx.example.com (Postfix) with ESMTPS id A581B13803D   for <a@b>; Mon,  6 Jun 2016 13:43:08 +0900
    |from clause (host, comment with [address])                  |by clause                   |with         |id            |for     |date

Real headers are not a strict grammar (Postfix, Sendmail, Exchange, Exim and qmail
each have their own habits, and some are cut or garbled), so :func:`parse_received`
is a tolerant clause scanner: a keyword (``from by via with id for``) starts a clause
only outside parentheses, the date follows the last ``;`` outside parentheses, and
text that fits nothing is kept.  It never raises.  The address tokens are named
pyparsing Regexes (:data:`BRACKETED`, :data:`IPV4`, :data:`IPV6`), validated by
:mod:`ipaddress`.

>>> h = parse_received("by ie-test057.test.test (Postfix, from userid 0)id DDDFC11FB0C; Tue, 27 Apr 2019 13:57:42 +0900 (JST)")
>>> [c.name for c in h.clauses], h.clause("id"), h.date_text
(['by', 'id'], 'DDDFC11FB0C', 'Tue, 27 Apr 2019 13:57:42 +0900 (JST)')
"""

from __future__ import annotations

import ipaddress
import re
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from email.utils import parsedate_to_datetime
from datetime import datetime

import pyparsing as pp

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

KEYWORDS = ("from", "by", "via", "with", "id", "for")

#: an address literal in brackets: ``[192.0.2.1]``, ``[IPv6:2001:db8::1]``, ``[2001:db8::1]``, ``[IPv6:::ffff:192.0.2.1]``
BRACKETED = pp.Regex(r"\[(?P<v6tag>IPv6:)?(?P<addr>[0-9A-Fa-f:.]+)(?:%[\w.]+)?\]", flags=re.IGNORECASE).set_name(
    "bracketed address"
)
#: an IPv4 address not inside a longer dotted or word token
IPV4 = pp.Regex(r"(?<![\w.:])(?P<addr>[0-9]{1,3}(?:\.[0-9]{1,3}){3})(?![\w.])").set_name("IPv4 address")
#: an IPv6 address (candidates are checked by ipaddress: times like 13:43:08 are not addresses)
IPV6 = pp.Regex(r"(?<![\w:.])(?P<addr>(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|[0-9]{1,3}(?:\.[0-9]{1,3}){3})?)(?![\w:.])").set_name(
    "IPv6 address"
)

_BRACKETED_RE = BRACKETED.re  # type: ignore[attr-defined]
#: the character an address token must not follow: both IPV4 and IPV6 start with this lookbehind
_NOT_AFTER = r"(?<![\w.:])"


def _bare_pattern() -> str:
    """IPV4 or IPV6 (IPv6's ``addr`` named ``addr6``), with their shared lookbehind tested once a position,
    not once each: the same matches, three times faster (most positions of a header start no address)."""
    v4, v6 = IPV4.re.pattern, IPV6.re.pattern.replace("?P<addr>", "?P<addr6>")  # type: ignore[attr-defined]
    v6 = v6.replace(r"(?<![\w:.])", _NOT_AFTER, 1)  # the same set of characters, written in another order
    assert v4.startswith(_NOT_AFTER) and v6.startswith(_NOT_AFTER)
    return _NOT_AFTER + "(?:" + v4[len(_NOT_AFTER):] + "|" + v6[len(_NOT_AFTER):] + ")"


_BARE_RE = re.compile(_bare_pattern())
_PARENS_RE = re.compile(r"[()]")
#: the array type of :attr:`ReceivedHeader.cuts` (unsigned, at least 32 bits)
_CUT = "I" if array("I").itemsize >= 4 else "L"
#: each clause name once (a big correlation holds tens of thousands of parsed headers)
_KEYWORD_NAMES = {k: k for k in KEYWORDS}


def _name(keyword: str) -> str:
    """A clause keyword as its name: lower-cased (Unicode case-insensitive matching also takes ``wıth``)."""
    low = keyword.lower()
    return _KEYWORD_NAMES.get(low, low)


#: a clause keyword (the lookahead of the keywords' first letters only skips, at C speed, the positions where
#: none starts: under IGNORECASE it takes exactly the characters the keywords' first letters match, ``ı`` and ``İ`` too)
_KEYWORD_RE = re.compile(
    r"(?i)(?=[" + "".join(sorted({k[0] for k in KEYWORDS})) + r"])(?<![^\s)\]>;])(" + "|".join(KEYWORDS) + r")(?=\s|$)"
)


@dataclass(frozen=True, slots=True)
class AddressLiteral:
    """An address seen in a header, where it stands, and how it is written."""

    text: str
    address: IPAddress | None
    clause: str
    start: int
    bracketed: bool
    in_comment: bool
    form: str  # "ipv4", "ipv6", "ipv6-tagged" ([IPv6:...]), "ipv4-mapped"

    @property
    def effective(self) -> IPAddress | None:
        """The address a range check should use: IPv4 for an IPv4-mapped IPv6 address."""
        if isinstance(self.address, ipaddress.IPv6Address) and self.address.ipv4_mapped is not None:
            return self.address.ipv4_mapped
        return self.address

    @property
    def valid(self) -> bool:
        return self.address is not None


@dataclass(frozen=True, slots=True)
class Clause:
    name: str
    text: str
    start: int


@dataclass(frozen=True, slots=True)
class ReceivedHeader:
    """One Received header: its clauses, date and address literals.

    The clauses are held as their names and the places of their text in ``raw`` (packed: a big
    correlation holds tens of thousands of parsed headers, and a :class:`Clause` with its own copy
    of the text costs ten times as much); :attr:`clauses` and :meth:`clause` cut them when asked.
    """

    raw: str
    #: each clause's name (a shared string)
    names: tuple[str, ...]
    #: where each clause starts in ``raw`` (its keyword; 0 for "pre"), then where the last one stops (the date's
    #: ``;`` or the end), packed as unsigned ints: a clause's text is what follows its keyword up to the next, stripped
    cuts: bytes
    date_text: str | None
    addresses: tuple[AddressLiteral, ...]

    def _text(self, k: int, cuts: memoryview) -> str:
        name = self.names[k]
        return self.raw[0 if name == "pre" else cuts[k] + len(name) : cuts[k + 1]].strip()

    @property
    def clauses(self) -> tuple[Clause, ...]:
        c = memoryview(self.cuts).cast(_CUT)
        return tuple(Clause(n, self._text(k, c), c[k]) for k, n in enumerate(self.names))

    def clause(self, name: str) -> str | None:
        """Text of the first clause of that name, or None."""
        for k, n in enumerate(self.names):
            if n == name:
                return self._text(k, memoryview(self.cuts).cast(_CUT))
        return None

    @property
    def date(self) -> datetime | None:
        if not self.date_text:
            return None
        try:
            return parsedate_to_datetime(self.date_text)
        except (TypeError, ValueError, IndexError):
            return None

    def in_clause(self, name: str) -> list[AddressLiteral]:
        return [a for a in self.addresses if a.clause == name]

    @property
    def queue_ids(self) -> tuple[str, ...]:
        """The ``id`` clause's first word (a Postfix queue ID, for instance; see :func:`id_word`)."""
        text = self.clause("id")
        if not text:
            return ()
        word = id_word(text)
        return (word,) if word else ()


#: a short (hex) queue ID with the next clause's keyword glued to it by a fold whose whitespace vanished:
#: ``DDDFC11FB0Cfor <a@b>``.  Postfix writes its short IDs in upper-case hex, 5 digits of microseconds then the
#: inode number (more than 12 digits in all when the inode is above 2^28); some setups write them in lower case.
#: A long queue ID (``enable_long_queue_ids``) has no vowel, so it never holds ``for``/``from``/``with``/``id``/``via``:
#: those are split from any run of 5 or more hex digits of one case.  ``by`` has no vowel: it is read as the keyword
#: only after 5 to 12 upper-case hex digits (a long queue ID could end in ``by``; lower-case ``b`` is a hex digit too).
_GLUED_KEYWORD = re.compile(r"(?:([0-9A-F]{5,}|[0-9a-f]{5,})(?:for|from|with|id|via)|([0-9A-F]{5,12})by)(?:<.*)?")


def id_word(text: str) -> str:
    """The first word of an ``id`` clause's text: up to whitespace, ``;`` or ``(``, and a short hex queue ID ends
    where a clause keyword glued to it by a lost fold starts (FORMATS.md: the fold's whitespace may vanish).

    >>> id_word("DDDFC11FB0C for <a@b>"), id_word("DDDFC11FB0Cfor <a@b>"), id_word("DDDFC11FB0Cfor<a@b>")
    ('DDDFC11FB0C', 'DDDFC11FB0C', 'DDDFC11FB0C')
    >>> id_word("4XyZ1m2nQpz8abc;"), id_word("DDDFC11FB0Cforward"), id_word("0123456789abcdef")
    ('4XyZ1m2nQpz8abc', 'DDDFC11FB0Cforward', '0123456789abcdef')
    >>> id_word("3F2A1B0C9D8E7for <a@b>"), id_word("ddfc11fb0cfor <a@b>"), id_word("ddfc11fb0cby x")
    ('3F2A1B0C9D8E7', 'ddfc11fb0c', 'ddfc11fb0cby')
    """
    word = re.split(r"[\s;(]", text.strip(), maxsplit=1)[0]
    m = _GLUED_KEYWORD.fullmatch(word)
    return (m.group(1) or m.group(2)) if m is not None else word


def _comment_spans(text: str) -> list[tuple[int, int]]:
    """Spans of balanced parentheses (outermost); an unmatched ``(`` is plain text."""
    spans = []
    stack: list[int] = []
    for m in _PARENS_RE.finditer(text):
        i, c = m.start(), m.group()
        if c == "(":
            stack.append(i)
        elif stack:
            start = stack.pop()
            if not stack:
                spans.append((start, i + 1))
    return spans


def _comment_mask(text: str) -> bytearray:
    """1 at every position inside balanced parentheses (linear time, whatever the nesting)."""
    mask = bytearray(len(text))
    for a, b in _comment_spans(text):
        mask[a:b] = b"\x01" * (b - a)
    return mask


@lru_cache(maxsize=1 << 14)
def _to_ip(text: str) -> IPAddress | None:
    """The address a literal names, or None; cached (a log repeats few distinct addresses, and
    :mod:`ipaddress` parsing costs more than the rest of a header)."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _form(address: IPAddress | None, tagged: bool) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return "ipv4-mapped"
        return "ipv6-tagged" if tagged else "ipv6"
    return "ipv4"


#: headers held by :func:`parse_received`'s cache: linking reads every trace's headers, then the model
#: reads them all again, so the cache must outlast one pass over a big correlation's traces (the rows
#: hold the parsed headers anyway, in their re-run)
PARSE_CACHE = 1 << 16


#: one tuple per distinct sequence of clause names (a hostile header can make many: at most _MAX_NAMES kept)
_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}
_MAX_NAMES = 4096


@lru_cache(maxsize=PARSE_CACHE)
def parse_received(text: str) -> ReceivedHeader:
    """Split one Received header into clauses and find its address literals.  Never raises.

    Cached (the result is immutable): linking and the model read the same header.
    """
    text = text if isinstance(text, str) else str(text)
    inside = _comment_mask(text)
    # the date: after the last ';' outside comments
    date_text = None
    end = len(text)
    i = text.rfind(";")
    while i != -1:
        if not inside[i]:
            date_text = text[i + 1 :].strip() or None
            end = i
            break
        i = text.rfind(";", 0, i)
    # clause keywords outside comments (and outside <...> and [...] tokens)
    starts: list[tuple[int, str]] = []
    tokens = _token_mask(text)
    for m in _KEYWORD_RE.finditer(text, 0, end):
        at = m.start()
        if inside[at] or tokens[at]:
            continue
        starts.append((at, _name(m.group(1))))
    # the clauses: "pre" (text before the first keyword), then one per keyword; each runs to the next or the date
    pre = bool(text[: starts[0][0]].strip()) if starts else bool(text[:end].strip())
    names = (("pre",) if pre else ()) + tuple(name for _, name in starts)
    if len(_NAMES) < _MAX_NAMES or names in _NAMES:  # a log repeats few clause sequences: one tuple each
        names = _NAMES.setdefault(names, names)
    cuts = array(_CUT, ([0] if pre else []) + [pos for pos, _ in starts] + [end]).tobytes()

    positions = [p for p, _ in starts]

    def clause_at(pos: int) -> str:
        if pos >= end:
            return "date"
        k = bisect_right(positions, pos)
        return starts[k - 1][1] if k else "pre"

    found: list[AddressLiteral] = []
    taken = bytearray(len(text))
    for m in _BRACKETED_RE.finditer(text):
        addr_text = m["addr"]
        ip = _to_ip(addr_text)
        if ip is None and not re.search(r"[0-9]", addr_text):
            continue  # [unknown], [Postfix]... are not address literals
        found.append(
            AddressLiteral(addr_text, ip, clause_at(m.start()), m.start(), True, bool(inside[m.start()]), _form(ip, bool(m["v6tag"])))
        )
        taken[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
    for m in _BARE_RE.finditer(text):
        if taken[m.start()]:
            continue
        addr_text = m["addr"] or m["addr6"]
        ip = _to_ip(addr_text)
        if ip is None:
            continue  # times (13:43:08), version numbers (8.14.7.1 is kept only if it is an address)
        found.append(AddressLiteral(addr_text, ip, clause_at(m.start()), m.start(), False, bool(inside[m.start()]), _form(ip, False)))
    found.sort(key=lambda a: a.start)
    return ReceivedHeader(text, names, cuts, date_text, tuple(found))


def _token_mask(text: str) -> bytearray:
    """1 inside ``<...>`` and ``[...]`` tokens that are closed (linear time)."""
    mask = bytearray(len(text))
    for open_, close in (("<", ">"), ("[", "]")):
        i = text.find(open_)
        while i != -1:
            j = text.find(close, i + 1)
            if j == -1:
                break
            mask[i + 1 : j] = b"\x01" * (j - i - 1)
            i = text.find(open_, j + 1)
    return mask


def unfold(value: str) -> str:
    """Join a folded header the way IMSVA logs it: line breaks go, the whitespace after them stays.

    >>> unfold("from a (a [192.0.2.1])\\r\\n\\tby b; Mon, 1 Jan 2024 00:00:00 +0000")
    'from a (a [192.0.2.1])\\tby b; Mon, 1 Jan 2024 00:00:00 +0000'
    """
    return re.sub(r"\r?\n(?=[ \t])", "", value).replace("\r", "").replace("\n", " ")
