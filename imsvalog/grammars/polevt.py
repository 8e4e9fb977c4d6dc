"""Grammar for ``polevt.imss`` (files ``polevt.imss.YYYYMMDD.NNNN[.gz]``): one line per policy rule that fired.

Line layout (tab-separated; 38 to 41 fields seen, a line may end early)::

    0 time  1 internal ID  2 sender  3 recipients (;)  4 subject  5 direction  6 rule name
    7 scanning-condition code (16 x 0/1)  8 (empty)  9 size KB  10 action code (17 x 0/1)
    11 spam score  12-13 ?  14 attachment  15 attachment type  16-21 ?  22 Message-ID  23- ?

The two bit codes are decoded into names (:data:`CONDITION_BITS`, :data:`ACTION_BITS`);
a set bit at a position of unknown meaning is kept as ``bitN``, never discarded.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import pyparsing as pp

from ..records import PolicyEvent, Source
from .common import FIELD, OFFSET_PATTERN, TAB, ParseFailure, finite, integer, make_time

KIND = "polevt"

TIME = (
    pp.Regex(r"(?P<date>[0-9]{4}/[0-9]{2}/[0-9]{2})[ \t]+(?P<clock>[0-9]{2}:[0-9]{2}:[0-9]{2})[ \t]+GMT(?P<offset>" + OFFSET_PATTERN + r")")
    .set_name("time YYYY/MM/DD HH:MM:SS GMT+HH:MM")
    .leave_whitespace()
)
INTERNAL_ID = pp.Regex(r"[^\t\s]+").set_name("internal message ID").leave_whitespace()

#: the whole line: time, internal ID, then any number of tab-separated fields
LINE = (
    TIME("time")
    + TAB.leave_whitespace()
    + INTERNAL_ID("internal_id")
    + pp.Group(pp.ZeroOrMore(TAB.copy().leave_whitespace() + FIELD.copy().leave_whitespace()))("rest")
    + pp.StringEnd().leave_whitespace()  # white space after the internal ID is part of the field, not skipped
).set_name("polevt line").parse_with_tabs()

#: scanning-condition code, bit position (0 = leftmost) to name
CONDITION_BITS: dict[int, str] = {
    0: "virus",
    1: "spam",
    2: "attachment",
    3: "content",
    4: "size",
    5: "others",
    6: "malformed",
    7: "unscannable",
    8: "spam2",
    9: "web-reputation",
    10: "dkim",
    14: "graymail",
}

#: action code, bit position (0 = leftmost) to name.  Bit 10 is "send notification" (FORMATS.md: the
#: Splunk add-on's combined codes and a real polevt line agree, against its single-bit list); positions
#: 9 and 11-13 are uncertain and named with a question mark until a real line settles them.
ACTION_BITS: dict[int, str] = {
    0: "delete",
    1: "quarantine",
    2: "deliver",
    3: "archive",
    4: "change-recipient",
    5: "stamp-body",
    6: "delete-attachment",
    7: "tag-subject",
    8: "postpone",
    9: "bit9 (clean virus?)",
    10: "notify",
    11: "bit11 (add BCC?)",
    12: "bit12 (hand off?)",
    13: "bit13 (insert X-header?)",
}

FIELD_NAMES = {
    0: "time",
    1: "internal_id",
    2: "sender",
    3: "recipients",
    4: "subject",
    5: "direction",
    6: "rule",
    7: "conditions",
    9: "size_kb",
    10: "actions",
    11: "spam_score",
    14: "attachment",
    15: "attachment_type",
    22: "message_id",
}

_BITS = re.compile(r"[01]+")
_MSGID = re.compile(r"<[^<>\s]*>")
_SPACE = re.compile(r"\s")  # the characters str.isspace() calls white space
_TIME_RE = TIME.re  # type: ignore[attr-defined]


def decode_bits(code: str, names: dict[int, str]) -> tuple[str, ...]:
    """Names of the set bits, leftmost first; unknown positions as ``bitN``.

    >>> decode_bits("01000000001000000", ACTION_BITS)
    ('quarantine', 'notify')
    >>> decode_bits("0000010000000001", CONDITION_BITS)
    ('others', 'bit15')
    """
    return tuple(names.get(i, f"bit{i}") for i, c in enumerate(code) if c == "1")


def _opt(fields: list[str], i: int) -> str | None:
    if i < len(fields) and fields[i] != "":
        return fields[i]
    return None


def _number(fields: list[str], i: int, conv: type) -> Any:
    """An integer or a finite decimal field; a huge integer or ``nan``/``inf``/``1e999`` is a reject."""
    text = _opt(fields, i)
    if text is None:
        return None
    what = f"field {i} ({FIELD_NAMES.get(i, '?')})"
    return integer(text, what) if conv is int else finite(text, what)


def _bits(fields: list[str], i: int, names: dict[int, str]) -> tuple[str | None, tuple[str, ...]]:
    code = _opt(fields, i)
    if code is None:
        return None, ()
    return code_names(code.strip(), i)


@lru_cache(maxsize=4096)
def code_names(code: str, i: int) -> tuple[str, tuple[str, ...]]:
    """Field ``i``'s bit code checked and decoded: once per distinct code (a busy log has a handful).

    Raises :class:`ParseFailure` for a code that is not 0/1 or has the wrong length.
    """
    if not _BITS.fullmatch(code):
        raise ParseFailure(f"field {i} ({FIELD_NAMES[i]}) is not a 0/1 code: {code[:40]!r}")
    check_code_length(code, CODE_LENGTHS[i], f"field {i} ({FIELD_NAMES[i]})")
    return code, decode_bits(code, CONDITION_BITS if i == 7 else ACTION_BITS)


#: documented lengths of the bit codes (FORMATS.md): field 7 conditions, field 10 actions
CODE_LENGTHS = {7: 16, 10: 17}


def check_code_length(code: str, length: int, what: str) -> None:
    """A bit code of another length than documented is a reject (decoding it would guess).

    >>> check_code_length("1", 17, "action code")
    Traceback (most recent call last):
    ...
    imsvalog.grammars.common.ParseFailure: action code has 1 digit; 17 are documented
    """
    if len(code) != length:
        raise ParseFailure(f"{what} has {len(code)} digit{'' if len(code) == 1 else 's'}; {length} are documented")


def find_message_id(fields: list[str]) -> str | None:
    """The Message-ID: field 22 when it looks like one, else the first ``<...>`` field after the subject."""
    if len(fields) > 22 and _MSGID.fullmatch(fields[22].strip()):
        return fields[22].strip()
    for i in range(16, len(fields)):
        if _MSGID.fullmatch(fields[i].strip()) and "@" in fields[i]:
            return fields[i].strip()
    return None


def split(text: str) -> list[str]:
    """The fields of a line (the fast path; :data:`LINE` is the definition)."""
    return text.split("\t")


def parse(text: str) -> dict[str, Any]:
    """Fields of one polevt line.  Raises :class:`ParseFailure` with the reason.

    >>> f = parse("2019/10/18 12:04:30 GMT+02:00\\tABC-1\\tbounce@example.org\\ta@example.com;b@example.com\\tHi\\t1\\tInbound Spam\\t0100000000000000\\t\\t2.5\\t01000000000000000")
    >>> f["recipients"], f["conditions"], f["actions"], f["size_kb"]
    (('a@example.com', 'b@example.com'), ('spam',), ('quarantine',), 2.5)
    """
    fields = split(text)
    m = _TIME_RE.fullmatch(fields[0])
    if m is None:
        raise ParseFailure(
            "field 0 is not a time 'YYYY/MM/DD HH:MM:SS GMT+HH:MM'" + ("" if len(fields) > 1 else " (and the line has no tabs)")
        )
    if len(fields) < 2 or not fields[1].strip():
        raise ParseFailure("line ends before the internal message ID (field 1)")
    if _SPACE.search(fields[1]):
        raise ParseFailure(f"field 1 (internal ID) contains white space: {fields[1][:40]!r}")
    conditions_code, conditions = _bits(fields, 7, CONDITION_BITS)
    actions_code, actions = _bits(fields, 10, ACTION_BITS)
    recipients = tuple(r.strip() for r in (_opt(fields, 3) or "").split(";") if r.strip())
    return {
        "time": make_time(m["date"], m["clock"], m["offset"]),
        "internal_id": fields[1],
        "sender": _opt(fields, 2),
        "recipients": recipients,
        "subject": _opt(fields, 4),
        "direction": _number(fields, 5, int),
        "rule": _opt(fields, 6),
        "conditions_code": conditions_code,
        "conditions": conditions,
        "size_kb": _number(fields, 9, float),
        "actions_code": actions_code,
        "actions": actions,
        "spam_score": _number(fields, 11, float),
        "attachment": _opt(fields, 14),
        "attachment_type": _opt(fields, 15),
        "message_id": find_message_id(fields),
        "extra": tuple(fields[23:]),
    }


def parse_full(text: str) -> list[str]:
    """The fields as the pyparsing grammar :data:`LINE` sees them (must equal :func:`split`)."""
    r = LINE.parse_string(text, parse_all=True)
    return [r["time"], r["internal_id"], *list(r["rest"])]


def to_record(source: Source, fields: dict[str, Any]) -> PolicyEvent:
    return PolicyEvent(source=source, **fields)


def sniff(line: str) -> bool:
    """Does this look like a polevt line?"""
    return "\t" in line and _TIME_RE.fullmatch(line.split("\t", 1)[0]) is not None
