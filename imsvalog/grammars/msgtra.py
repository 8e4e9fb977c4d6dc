"""Grammar for ``msgtra.imss`` (files ``msgtra.imss.YYYYMMDD.NNNN[.gz]``): one line per message transaction.

Line layout (tab-separated, ``#null#`` marks an absent value)::

    0 type  1 time (2019 Oct 18 12:04:29 +02:00)  2 time (2019/10/18 12:04:30 +02:00)  3 delivery time
    4 Message-ID (no brackets)  5 internal ID  6 Postfix queue ID  7 ?  8 sender  9 recipients (;)
    10 subject  11 client host[addr]  12 next hop  13 delivery response ([InternalId=N])  14 status
    15 action code (17 x 0/1)  16- more fields

The month-name time is read with python-dateutil's parser (its offsets here are
``+02:00`` without ``GMT``, which dateutil reads with the sign as written).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pyparsing as pp
from dateutil import parser as dateparser

from ..records import Source, Transaction
from .common import FIELD, TAB, ParseFailure, check_year, offset_tz
from .polevt import ACTION_BITS, check_code_length, decode_bits

KIND = "msgtra"
NULL = "#null#"

TRANSACTION = pp.Regex(r"[A-Za-z][A-Za-z_]*").set_name("transaction type").leave_whitespace()
MONTH_TIME = (
    pp.Regex(r"(?P<year>[0-9]{4}) (?P<mon>[A-Z][a-z]{2}) +(?P<day>[0-9]{1,2}) (?P<clock>[0-9]{2}:[0-9]{2}:[0-9]{2}) (?P<offset>[+-][0-9]{2}:?[0-9]{2})")
    .set_name("time YYYY Mon DD HH:MM:SS +HH:MM")
    .leave_whitespace()
)
SLASH_TIME = (
    pp.Regex(r"[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{2}:?[0-9]{2}").set_name("time YYYY/MM/DD HH:MM:SS +HH:MM").leave_whitespace()
)
CLIENT = pp.Regex(r"(?P<host>[^\[\]\t]*)\[(?P<addr>[^\[\]\t]*)\](?::[0-9]+)?").set_name("client host[addr]")
INTERNAL_ID_IN_RESPONSE = pp.Regex(r"\[InternalId=(?P<n>[0-9]+)\]").set_name("[InternalId=N]")

#: the whole line: type, time, then any number of tab-separated fields
LINE = (
    TRANSACTION("transaction")
    + TAB.leave_whitespace()
    + MONTH_TIME("time")
    + pp.Group(pp.ZeroOrMore(TAB.copy().leave_whitespace() + FIELD.copy().leave_whitespace()))("rest")
    + pp.StringEnd()
).set_name("msgtra line").parse_with_tabs()

_TRANSACTION_RE = TRANSACTION.re  # type: ignore[attr-defined]
_MONTH_RE = MONTH_TIME.re  # type: ignore[attr-defined]
_SLASH_RE = SLASH_TIME.re  # type: ignore[attr-defined]
_CLIENT_RE = CLIENT.re  # type: ignore[attr-defined]
_INTERNAL_RE = INTERNAL_ID_IN_RESPONSE.re  # type: ignore[attr-defined]


def _val(fields: list[str], i: int) -> str | None:
    if i < len(fields):
        v = fields[i]
        if v != "" and v != NULL:
            return v
    return None


def _time(text: str | None, i: int, required: bool = False) -> datetime | None:
    if text is None:
        if required:
            raise ParseFailure(f"field {i} (time) is missing")
        return None
    if not (_MONTH_RE.fullmatch(text) or _SLASH_RE.fullmatch(text)):
        raise ParseFailure(f"field {i} is not a time: {text[:40]!r}")
    offset_tz(text.rsplit(" ", 1)[1])  # +99:99 is no offset (BadTime); dateutil would take it
    try:
        t = dateparser.parse(text)
    except (ValueError, OverflowError) as exc:
        raise ParseFailure(f"field {i} is not a real time: {text[:40]!r} ({exc})") from None
    if t.tzinfo is None:  # pragma: no cover - the patterns above require an offset
        raise ParseFailure(f"field {i} has no UTC offset: {text[:40]!r}")
    return check_year(t, f"field {i}")


def parse(text: str) -> dict[str, Any]:
    """Fields of one msgtra line.  Raises :class:`ParseFailure` with the reason.

    >>> f = parse("NormalTransac\\t2019 Oct 18 12:04:29 +02:00\\t#null#\\t#null#\\tAYGD798@example.org\\tID-1\\t13768B0986\\t2\\ta@example.org\\tb@example.com\\tHi\\tmail.example.org[198.51.100.7]")
    >>> f["time"].isoformat(), f["queue_id"], f["client_host"], f["client_address"], f["logged_time"]
    ('2019-10-18T12:04:29+02:00', '13768B0986', 'mail.example.org', '198.51.100.7', None)
    """
    fields = text.split("\t")
    if not _TRANSACTION_RE.fullmatch(fields[0]):
        raise ParseFailure(f"field 0 is not a transaction type: {fields[0][:40]!r}")
    if len(fields) < 2:
        raise ParseFailure("line ends after the transaction type (no tabs)")
    client_host = client_addr = None
    client = _val(fields, 11)
    if client is not None:
        cm = _CLIENT_RE.fullmatch(client)
        if cm:
            client_host, client_addr = cm["host"] or None, cm["addr"] or None
        else:
            client_host = client
    response = _val(fields, 13)
    im = _INTERNAL_RE.search(response) if response else None
    actions_code = _val(fields, 15)
    actions: tuple[str, ...] = ()
    if actions_code is not None:
        if not re.fullmatch(r"[01]+", actions_code):
            raise ParseFailure(f"field 15 (actions) is not a 0/1 code: {actions_code[:40]!r}")
        check_code_length(actions_code, 17, "field 15 (actions)")
        actions = decode_bits(actions_code, ACTION_BITS)
    return {
        "transaction": fields[0],
        "time": _time(_val(fields, 1), 1, required=True),
        "logged_time": _time(_val(fields, 2), 2),
        "delivery_time": _time(_val(fields, 3), 3),
        "message_id": _val(fields, 4),
        "internal_id": _val(fields, 5),
        "queue_id": _val(fields, 6),
        "number": _val(fields, 7),
        "sender": _val(fields, 8),
        "recipients": tuple(r.strip() for r in (_val(fields, 9) or "").split(";") if r.strip()),
        "subject": _val(fields, 10),
        "client_host": client_host,
        "client_address": client_addr,
        "next_hop": _val(fields, 12),
        "response": response,
        "response_internal_id": im["n"] if im else None,
        "status": _val(fields, 14),
        "actions_code": actions_code,
        "actions": actions,
        "extra": tuple(fields[16:]),
    }


def parse_full(text: str) -> list[str]:
    """The fields as the pyparsing grammar :data:`LINE` sees them (must equal ``text.split("\\t")``)."""
    r = LINE.parse_string(text, parse_all=True)
    return [r["transaction"], r["time"], *list(r["rest"])]


def to_record(source: Source, fields: dict[str, Any]) -> Transaction:
    return Transaction(source=source, **fields)


def sniff(line: str) -> bool:
    """Does this look like a msgtra line?"""
    parts = line.split("\t", 2)
    return len(parts) > 2 and bool(_TRANSACTION_RE.fullmatch(parts[0])) and bool(_MONTH_RE.fullmatch(parts[1]))
