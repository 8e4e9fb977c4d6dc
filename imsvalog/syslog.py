"""IMSVA logs forwarded by syslog: recognise the wrapper, unwrap the original line.

A syslog server (or a SIEM) that receives IMSVA's logs writes each line as
``Mon DD HH:MM:SS host log.imss: <original line>`` with TABs as ``#011``
(rsyslog's escape of control characters), or with an RFC 3339 timestamp, or as
RFC 5424 (``<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG``).  The program tag is
the log file's base name (FORMATS.md, "Logs forwarded by syslog"); Postfix lines
(``postfix/...``) are maillog.  One file may mix kinds and hosts: it is read as one
stream per (host, kind), each host being an appliance.

>>> w = unwrap_line("Jul  9 11:49:16 imsva01 msgtra.imss: NormalTransac#0112019 Jul 09 11:49:16 +08:00#011x")
>>> w.host, w.kind, w.line
('imsva01', 'msgtra', 'NormalTransac\\t2019 Jul 09 11:49:16 +08:00\\tx')
>>> w = unwrap_line("<22>1 2024-03-12T09:15:00+01:00 imsva02 postfix/smtpd 24750 - - connect from x[192.0.2.1]")
>>> w.kind, w.line
('maillog', '2024-03-12T09:15:00+01:00 imsva02 postfix/smtpd[24750]: connect from x[192.0.2.1]')
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

#: program tag -> kind of log it carries
PROGRAM_KINDS = {"log.imss": "imss", "polevt.imss": "polevt", "msgtra.imss": "msgtra"}

_PREFIX = re.compile(
    r"(?:<\d{1,3}>)?"
    r"(?:"
    r"(?P<bsd>[A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d)"
    r"|1 (?P<rfc5424>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d))"
    r"|(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
    r") (?P<host>\S+) "
)
#: after the host: RFC 3164 style ``program[pid]: `` ...
_TAG = re.compile(r"(?P<prog>[^\s:\[\]]+)(?:\[(?P<pid>\d+)\])?: ?")
#: ... or RFC 5424 ``APP PROCID MSGID SD `` (SD ``-`` or bracketed elements)
_TAG5424 = re.compile(r"(?P<prog>\S+) (?P<pid>\S+) (?P<msgid>\S+) (?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+) ?(?:\ufeff)?")
#: rsyslog's escape of a control character: ``#`` and three octal digits (``#011`` is TAB)
_ESCAPE = re.compile(r"#([0-3][0-7][0-7])")


@dataclass(frozen=True, slots=True)
class Wrapped:
    """A forwarded line: the host that sent it, the program tag, the kind it carries, and the original line."""

    host: str
    program: str
    kind: str | None
    line: str


@dataclass(frozen=True, slots=True)
class View:
    """One stream of a forwarded file: the lines of one kind from one host.

    ``strays`` views also take the lines that carry no syslog wrapper (they become
    rejects of that kind, so no line goes unreported).
    """

    host: str
    kind: str
    strays: bool = False


def _unescape(text: str) -> str:
    if "#" not in text:
        return text
    return _ESCAPE.sub(lambda m: chr(int(m[1], 8)) if int(m[1], 8) < 0x20 or int(m[1], 8) == 0x7F else m[0], text)


def kind_of_program(program: str) -> str | None:
    """``log.imss`` -> ``imss``; ``postfix/smtpd`` -> ``maillog``; others None.

    >>> kind_of_program("polevt.imss"), kind_of_program("postfix/qmgr"), kind_of_program("tlsagent")
    ('polevt', 'maillog', None)
    """
    if program in PROGRAM_KINDS:
        return PROGRAM_KINDS[program]
    if program.startswith("postfix"):
        return "maillog"
    return None


def unwrap_line(text: str) -> Wrapped | None:
    """The forwarded line's parts, or None when ``text`` has no syslog wrapper."""
    m = _PREFIX.match(text)
    if m is None:
        return None
    rest = m.end()
    if m["rfc5424"]:
        t = _TAG5424.match(text, rest)
        stamp = m["rfc5424"]
    else:
        t = _TAG.match(text, rest)
        stamp = m["bsd"] or m["iso"]
    if t is None:
        return None
    program = t["prog"]
    kind = kind_of_program(program)
    msg = _unescape(text[t.end():])
    if kind == "maillog":
        pid = t["pid"] if t["pid"] and t["pid"] != "-" else None
        msg = f"{stamp} {m['host']} {program}{f'[{pid}]' if pid else ''}: {msg}"
    return Wrapped(m["host"], program, kind, msg)


def sniff(lines: Iterable[str]) -> bool:
    """Whether these first lines are IMSVA logs forwarded by syslog (at least one log.imss/polevt/msgtra tag).

    >>> sniff(["Jul  9 11:49:16 imsva01 log.imss: 2019/07/09 11:49:16 GMT+08:00 [1:2] x"])
    True
    >>> sniff(["Mar 12 09:15:00 imsva postfix/smtpd[24750]: connect from x[192.0.2.1]"])
    False
    """
    for ln in lines:
        w = unwrap_line(ln)
        if w is not None and w.kind in PROGRAM_KINDS.values():
            return True
    return False


@dataclass(slots=True)
class Census:
    """What a forwarded file holds: lines per (host, kind), other programs, and lines without a wrapper."""

    streams: Counter[tuple[str, str]]
    others: Counter[str]
    strays: int


def census(lines: Iterable[tuple[int, str]]) -> Census:
    streams: Counter[tuple[str, str]] = Counter()
    others: Counter[str] = Counter()
    strays = 0
    for _, text in lines:
        w = unwrap_line(text)
        if w is None:
            strays += 1 if text.strip() else 0
        elif w.kind is None:
            others[w.program] += 1
        else:
            streams[(w.host, w.kind)] += 1
    return Census(streams, others, strays)


def views(c: Census) -> list[View]:
    """One view per (host, kind); the first takes the lines without a wrapper."""
    keys = sorted(c.streams)
    if not keys and c.strays:
        return [View("", "imss", strays=True)]
    return [View(host, kind, strays=(i == 0)) for i, (host, kind) in enumerate(keys)]


def select(view: View, lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """The lines of one view, unwrapped, with their line numbers in the forwarded file."""
    for lineno, text in lines:
        w = unwrap_line(text)
        if w is None:
            if view.strays:
                yield lineno, text
        elif w.host == view.host and w.kind == view.kind:
            # a line past the length limit comes as a str subclass holding its head: kept so it becomes a reject
            yield lineno, (w.line if type(text) is str else text)


__all__ = ["Census", "View", "Wrapped", "census", "kind_of_program", "select", "sniff", "unwrap_line", "views"]
