"""Grammar for Postfix ``maillog`` (files ``maillog``, ``maillog-YYYYMMDD``, ``maillog.N``), the MTA side of IMSVA.

Line layout (syslog)::

    Nov  5 13:12:19 imsva postfix/smtp[24767]: 935162C03E: to=<user@example.com>, relay=localhost[127.0.0.1]:10025, delay=3.5, delays=0.86/0.2/0.37/2.1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as D89812C044)
    |month day time |host |program     [pid]: |queue ID  | body

or with an RFC 3339 timestamp (rsyslog's high-precision format), which carries
its year and zone: ``2021-11-05T13:12:19.123456+01:00 imsva postfix/smtp[24767]: ...``.

A classic syslog timestamp has no year and no zone: the year comes from the
file (its ``-YYYYMMDD`` rotation date, else its modification time; a line whose
month is later than the file's is from the year before), the zone from the user
(``--tz``); without one, UTC is assumed and the record says so (``zone_assumed``).

Body shapes (each one named Regex whose groups are the record's fields, as in
:mod:`.imss`): ``message_id``, ``delivery`` (``to=..., relay=..., status=...``),
``sender`` (``from=<...>, size=, nrcpt=``), ``client``, ``removed``, ``connect``,
``disconnect``; any other body is ``generic`` and keeps its text (and its queue ID
when it starts with one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from typing import Any

import pyparsing as pp

from ..records import MailLogEntry, Source
from .common import OFFSET_PATTERN, BadTime, ParseFailure, check_year, finite, integer, offset_tz, shape

KIND = "maillog"
MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}

SYSLOG_PREFIX = (
    pp.Regex(
        r"(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(?P<day>[0-9]{1,2}) (?P<clock>[0-9][0-9]:[0-9][0-9]:[0-9][0-9]) "
        r"(?P<host>\S+) (?P<program>[^\s\[\]:]+)(?:\[(?P<pid>[0-9]+)\])?: ?"
    )
    .set_name("syslog prefix")
    .leave_whitespace()
)
ISO_PREFIX = (
    pp.Regex(
        r"(?P<iso>[0-9]{4}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9](?:\.[0-9]+)?(?:Z|" + OFFSET_PATTERN + r")) "
        r"(?P<host>\S+) (?P<program>[^\s\[\]:]+)(?:\[(?P<pid>[0-9]+)\])?: ?"
    )
    .set_name("RFC 3339 syslog prefix")
    .leave_whitespace()
)

_QID = r"(?P<queue_id>[0-9A-Za-z]{5,20})"
#: a short Postfix queue ID: upper-case hex (``935162C03E``); the same ID typed in lower case is the same ID
SHORT_QUEUE_ID = re.compile(r"[0-9A-Fa-f]{5,12}")
#: a long one (``enable_long_queue_ids = yes``): base-52 time, ``z``, inode (``4XyZ1m2nQpz8abc``); case-sensitive
QUEUE_ID = re.compile(r"[0-9A-Za-z]{5,20}")


def queue_key(queue_id: str) -> str:
    """The form in which two queue IDs are compared: short hex ones upper-cased, long ones as they are.

    >>> queue_key("935162c03e"), queue_key("4XyZ1m2nQpz8abc")
    ('935162C03E', '4XyZ1m2nQpz8abc')
    """
    q = queue_id.strip()
    return q.upper() if SHORT_QUEUE_ID.fullmatch(q) else q



@dataclass(frozen=True)
class Variant:
    name: str
    grammar: pp.Regex
    samples: tuple[tuple[str, dict[str, Any]], ...] = field(default=())

    def fields(self, body: str) -> dict[str, Any] | None:
        m = self.grammar.re.fullmatch(body)  # type: ignore[attr-defined]
        return m.groupdict() if m else None

    def fields_full(self, body: str) -> dict[str, Any] | None:
        try:
            found = self.grammar.parse_string(body, parse_all=True).as_dict()
        except pp.ParseBaseException:
            return None
        return {name: found.get(name) for name in self.grammar.re.groupindex}  # type: ignore[attr-defined]


_P = "Nov  5 13:12:19 imsva postfix/smtp[24767]: "

VARIANTS: tuple[Variant, ...] = (
    Variant(
        "message_id",
        shape("message-id", _QID + r": message-id=(?P<message_id><[^>]*>|\S*)"),
        ((_P.replace("smtp", "cleanup") + "935162C03E: message-id=<20211105181218.ABC@mx.example.org>",
          {"queue_id": "935162C03E", "message_id": "<20211105181218.ABC@mx.example.org>"}),
         (_P.replace("smtp", "cleanup") + "4XyZ1m2nQpz8abc: message-id=<20211105181218.ABC@mx.example.org>",
          {"queue_id": "4XyZ1m2nQpz8abc", "message_id": "<20211105181218.ABC@mx.example.org>"})),
    ),
    Variant(
        "delivery",
        shape(
            "delivery",
            _QID + r": to=<(?P<recipient>[^>]*)>,(?: orig_to=<(?P<orig_recipient>[^>]*)>,)? relay=(?P<relay>[^,\s]*),"
            r"(?: conn_use=[0-9]+,)? delay=(?P<delay>[0-9.]+), delays=[0-9./]+, dsn=(?P<dsn>[0-9.]+), status=(?P<status>\w+)"
            r"(?: \((?P<status_text>.*)\))?",
        ),
        ((_P + "935162C03E: to=<user@example.com>, relay=localhost[127.0.0.1]:10025, delay=3.5, "
          "delays=0.86/0.2/0.37/2.1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as D89812C044)",
          {"queue_id": "935162C03E", "recipient": "user@example.com", "relay_host": "localhost",
           "relay_address": "127.0.0.1", "relay_port": 10025, "delay": 3.5, "dsn": "2.0.0", "status": "sent",
           "queued_as": "D89812C044"}),
         (_P + "4XyZ1m2nQpz8abc: to=<user@example.com>, relay=localhost[127.0.0.1]:10025, delay=0.9, "
          "delays=0.1/0/0.1/0.7, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4YbC2d3fGh9jkl)",
          {"queue_id": "4XyZ1m2nQpz8abc", "recipient": "user@example.com", "relay_port": 10025, "status": "sent",
           "queued_as": "4YbC2d3fGh9jkl"})),
    ),
    Variant(
        "sender",
        shape("sender", _QID + r": from=<(?P<sender>[^>]*)>, size=(?P<size>[0-9]+), nrcpt=(?P<nrcpt>[0-9]+)(?: .*)?"),
        ((_P.replace("smtp", "qmgr") + "935162C03E: from=<alice@example.com>, size=4211, nrcpt=1 (queue active)",
          {"sender": "alice@example.com", "size": 4211, "nrcpt": 1}),),
    ),
    Variant(
        "client",
        shape("client", _QID + r": client=(?P<client_host>[^\[\s]*)\[(?P<client_address>[^\]]*)\](?:.*)"),
        ((_P.replace("smtp", "smtpd") + "935162C03E: client=mx1.example.com[198.51.100.25]",
          {"client_host": "mx1.example.com", "client_address": "198.51.100.25"}),
         (_P.replace("smtp", "smtpd") + "4XyZ1m2nQpz8abc: client=mx1.example.com[198.51.100.25], sasl_method=PLAIN",
          {"queue_id": "4XyZ1m2nQpz8abc", "client_address": "198.51.100.25"})),
    ),
    Variant(
        "removed",
        shape("removed", _QID + r": removed"),
        ((_P.replace("smtp", "qmgr") + "935162C03E: removed", {"queue_id": "935162C03E"}),
         (_P.replace("smtp", "qmgr") + "4XyZ1m2nQpz8abc: removed", {"queue_id": "4XyZ1m2nQpz8abc"})),
    ),
    Variant(
        "connect",
        shape("connect", r"connect from (?P<client_host>[^\[\s]*)\[(?P<client_address>[^\]]*)\]"),
        ((_P.replace("smtp", "smtpd") + "connect from mx1.example.com[198.51.100.25]",
          {"client_host": "mx1.example.com", "client_address": "198.51.100.25", "queue_id": None}),),
    ),
    Variant(
        "disconnect",
        shape("disconnect", r"disconnect from (?P<client_host>[^\[\s]*)\[(?P<client_address>[^\]]*)\](?: .*)?"),
        ((_P.replace("smtp", "smtpd") + "disconnect from mx1.example.com[198.51.100.25] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5",
          {"client_address": "198.51.100.25"}),),
    ),
)
GENERIC_SAMPLES = ((_P + "warning: hostname x does not resolve to address 192.0.2.1", {"shape": "generic", "queue_id": None}),
                   (_P + "D89812C044: lost connection with mx[192.0.2.21] while sending RCPT TO", {"queue_id": "D89812C044"}),
                   (_P + "4YbC2d3fGh9jkl: lost connection with mx[192.0.2.21] while sending RCPT TO",
                    {"queue_id": "4YbC2d3fGh9jkl"}))

_SYSLOG_RE = SYSLOG_PREFIX.re  # type: ignore[attr-defined]
_ISO_RE = ISO_PREFIX.re  # type: ignore[attr-defined]
_GENERIC_QID = re.compile(r"([0-9A-Z]{6,12}|[0-9A-Za-z]{12,20}): ")
_RELAY = re.compile(r"(?P<host>[^\[\]]*)\[(?P<addr>[^\]]*)\](?::(?P<port>[0-9]+))?")
_QUEUED_AS = re.compile(r"queued as (\w+)")
EMPTY = {
    "queue_id": None, "message_id": None, "sender": None, "recipient": None, "orig_recipient": None,
    "relay_host": None, "relay_address": None, "relay_port": None, "delay": None, "dsn": None, "status": None,
    "status_text": None, "queued_as": None, "size": None, "nrcpt": None, "client_host": None, "client_address": None,
}


@dataclass(frozen=True)
class YearHint:
    """Where a syslog line's missing year and zone come from."""

    year: int
    month: int
    tz: tzinfo | None = None  # None: UTC assumed
    #: the year and month are of a time inside the log (log.imss of the same appliance), not its end:
    #: a line's year is the one that puts it within six months of it (forward across New Year as well as back)
    nearest: bool = False

    def time(self, mon: str, day: str, clock: str) -> tuple[datetime, bool]:
        month = MONTHS[mon]
        if self.nearest:
            year = self.year - 1 if month - self.month > 6 else self.year + 1 if self.month - month > 6 else self.year
        else:
            year = self.year - 1 if month > self.month else self.year
        try:
            t = datetime(year, month, int(day), int(clock[:2]), int(clock[3:5]), int(clock[6:8]),
                         tzinfo=self.tz or timezone.utc)
        except ValueError as exc:
            raise BadTime(f"not a real time: {mon} {day} {clock} in {year} ({exc})") from None
        return check_year(t), True


def _body_fields(name: str | None, got: dict[str, Any] | None, body: str) -> dict[str, Any]:
    d = dict(EMPTY)
    if got:
        for k, v in got.items():
            if k in d:
                d[k] = v
    if name == "delivery" and got:
        rm = _RELAY.fullmatch(got["relay"] or "")
        if rm:
            d["relay_host"], d["relay_address"] = rm["host"] or None, rm["addr"] or None
            d["relay_port"] = integer(rm["port"], "relay port") if rm["port"] else None
        else:
            d["relay_host"] = got["relay"] or None
        d["delay"] = finite(got["delay"], "delay=")
        qm = _QUEUED_AS.search(got["status_text"] or "")
        d["queued_as"] = qm.group(1) if qm else None
    if name == "sender" and got:
        d["size"], d["nrcpt"] = integer(got["size"], "size="), integer(got["nrcpt"], "nrcpt=")
    if name is None:
        gm = _GENERIC_QID.match(body)
        d["queue_id"] = gm.group(1) if gm else None
    return d


def _split(text: str, hint: YearHint) -> tuple[datetime, bool, str, str, int | None, str]:
    m = _ISO_RE.match(text)
    if m:
        iso = m["iso"].replace("Z", "+00:00")
        try:
            t = datetime.fromisoformat(iso)
        except ValueError as exc:
            raise BadTime(f"not a real time: {m['iso']} ({exc})") from None
        if t.tzinfo is None:  # pragma: no cover - the pattern requires a zone
            raise BadTime(f"no zone in {m['iso']}")
        check_year(t)
        assumed = False
    else:
        m = _SYSLOG_RE.match(text)
        if m is None:
            raise ParseFailure("expected a syslog prefix 'Mon DD HH:MM:SS host program[pid]:' at column 1")
        t, _ = hint.time(m["mon"], m["day"], m["clock"])
        assumed = hint.tz is None
    return t, assumed, m["host"], m["program"], integer(m["pid"], "[pid]") if m["pid"] else None, text[m.end():]


def parse(text: str, hint: YearHint) -> dict[str, Any]:
    """Fields of one maillog line (fast path).  Raises :class:`ParseFailure`.

    >>> f = parse("Nov  5 13:12:19 imsva postfix/cleanup[24760]: 935162C03E: message-id=<a@b>", YearHint(2021, 11))
    >>> f["shape"], f["queue_id"], f["message_id"], f["time"].isoformat(), f["zone_assumed"]
    ('message_id', '935162C03E', '<a@b>', '2021-11-05T13:12:19+00:00', True)
    """
    t, assumed, host, program, pid, body = _split(text, hint)
    name, got = None, None
    for v in VARIANTS:
        got = v.fields(body)
        if got is not None:
            name = v.name
            break
    return {"time": t, "zone_assumed": assumed, "host": host, "program": program, "pid": pid,
            "shape": name or "generic", "body": body, **_body_fields(name, got, body)}


def parse_full(text: str, hint: YearHint) -> dict[str, Any]:
    """The same with pyparsing (the definition; a test keeps the two in agreement)."""
    t, assumed, host, program, pid, body = _split(text, hint)
    matches = [(v.name, g) for v in VARIANTS if (g := v.fields_full(body)) is not None]
    name, got = matches[0] if matches else (None, None)
    return {"time": t, "zone_assumed": assumed, "host": host, "program": program, "pid": pid,
            "shape": name or "generic", "body": body, **_body_fields(name, got, body)}


def matching_variants(body: str) -> list[str]:
    return [v.name for v in VARIANTS if v.fields_full(body) is not None]


def to_record(source: Source, fields: dict[str, Any]) -> MailLogEntry:
    return MailLogEntry(source=source, **fields)


def sniff(line: str) -> bool:
    """Does this look like a Postfix syslog line?"""
    m = _SYSLOG_RE.match(line) or _ISO_RE.match(line)
    return m is not None and m["program"].startswith("postfix")


def tz_from_text(text: str) -> tzinfo:
    """``+09:00`` / ``-0500`` / ``UTC`` to a fixed offset (for ``--tz``)."""
    if text.strip().upper() in ("UTC", "Z", "GMT"):
        return timezone.utc
    if not re.fullmatch(OFFSET_PATTERN, text.strip()):
        raise ValueError(f"not a UTC offset: {text!r} (expected +HH:MM or UTC)")
    return offset_tz(text.strip())
