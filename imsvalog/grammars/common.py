"""Tokens and helpers shared by the grammars: timestamps with their offsets, numbers, tabs.

Offsets are parsed here, not by dateutil's parser: dateutil follows the POSIX
``TZ`` convention and reads ``GMT+09:00`` as nine hours *west* of UTC, while
IMSVA writes ``GMT+09:00`` for Japan (UTC+9).  The sign is taken as written:

>>> make_time("2019/04/30", "13:57:43", "+09:00").isoformat()
'2019-04-30T13:57:43+09:00'
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import pyparsing as pp

#: a UTC offset as IMSVA writes it after ``GMT``: ``+09:00``, ``-05:00``, ``+0530``, ``+9``
OFFSET_PATTERN = r"[+-][0-9]{1,2}(?::?[0-9]{2})?"

INTEGER = pp.Regex(r"[0-9]+").set_name("integer")
TAB = pp.Literal("\t").set_name("tab").suppress()
#: one tab-separated field; may be empty
FIELD = pp.Regex(r"[^\t]*").set_name("field")
#: the rest of a line (any text, possibly empty)
REST = pp.Regex(r"[\s\S]*").set_name("rest")


class ParseFailure(ValueError):
    """A line that does not fit its grammar; ``reason`` says what matched and how far."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadTime(ParseFailure):
    """A timestamp that has the right shape but names no real moment (2019/13/45)."""


#: an integer field with more digits than this is a reject (a pid, thread, size, port or
#: count never needs more than an unsigned 64-bit number, 20 digits; Python refuses
#: to convert more than 4,300 digits at all)
MAX_DIGITS = 20

#: the largest whole number a field may hold: a signed 64-bit value, what pandas' ``Int64`` columns
#: hold (a larger number is a reject naming its field, so every frame can hold every record)
MAX_INTEGER = 2**63 - 1

#: years outside this range are rejects: IMSVA did not exist before, and pandas'
#: nanosecond times end in 2262 (a year 1 or 9999 is a corrupt line, not a time)
MIN_YEAR, MAX_YEAR = 1970, 2199


#: numbers are ASCII digits only: Python's int() and float() also take ``1_000``,
#: Arabic-Indic or full-width digits, which no IMSVA log writes (a corrupt or forged field)
_ASCII_INTEGER = re.compile(r"[+-]?[0-9]+")
_ASCII_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NOT_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)


def integer(text: str, what: str) -> int:
    """A decimal integer field (ASCII digits only), or :class:`ParseFailure` naming the field.

    >>> integer("1_0", "direction")
    Traceback (most recent call last):
    ...
    imsvalog.grammars.common.ParseFailure: direction is not a number of ASCII digits: '1_0'

    >>> integer("4098483968", "tid")
    4098483968
    >>> integer("9" * 5000, "pid")
    Traceback (most recent call last):
    ...
    imsvalog.grammars.common.ParseFailure: pid is a number of 5000 digits; at most 20 are expected
    >>> integer("10000000000000000000", "IP count")
    Traceback (most recent call last):
    ...
    imsvalog.grammars.common.ParseFailure: IP count 10000000000000000000 does not fit a signed 64-bit integer (at most 9223372036854775807)
    """
    text = text.strip()
    if len(text) > MAX_DIGITS:
        raise ParseFailure(f"{what} is a number of {len(text)} digits; at most {MAX_DIGITS} are expected")
    if _ASCII_INTEGER.fullmatch(text) is None:
        raise ParseFailure(f"{what} is not a number of ASCII digits: {text[:40]!r}")
    value = int(text)
    if not -MAX_INTEGER - 1 <= value <= MAX_INTEGER:
        raise ParseFailure(f"{what} {text} does not fit a signed 64-bit integer (at most {MAX_INTEGER})")
    return value


def finite(text: str, what: str) -> float:
    """A decimal number field that is finite (not ``nan``, ``inf``, ``1e999``), or :class:`ParseFailure`.

    >>> finite("0.612305", "size"), finite("2.5e1", "score")
    (0.612305, 25.0)
    >>> finite("\uff14.1", "size")
    Traceback (most recent call last):
    ...
    imsvalog.grammars.common.ParseFailure: size is not a number of ASCII digits: '\uff14.1'
    >>> finite("1e999", "size")
    Traceback (most recent call last):
    ...
    imsvalog.grammars.common.ParseFailure: size is not a finite number: '1e999'
    """
    text = text.strip()
    if _NOT_FINITE.fullmatch(text):
        raise ParseFailure(f"{what} is not a finite number: {text[:40]!r}")
    if _ASCII_DECIMAL.fullmatch(text) is None:
        raise ParseFailure(f"{what} is not a number of ASCII digits: {text[:40]!r}")
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ParseFailure(f"{what} is not a finite number: {text[:40]!r}")
    return value


def check_year(t: datetime, what: str = "time") -> datetime:
    """``t`` when its year is plausible for a log (:data:`MIN_YEAR`..:data:`MAX_YEAR`), else :class:`BadTime`."""
    if not MIN_YEAR <= t.year <= MAX_YEAR:
        raise BadTime(f"{what} {t.isoformat()}: year outside {MIN_YEAR}-{MAX_YEAR}")
    return t


@lru_cache(maxsize=256)
def offset_tz(offset: str) -> timezone:
    """``+09:00`` / ``-0530`` / ``+9`` to a fixed-offset timezone.

    >>> offset_tz("+09:00"), offset_tz("-0530"), offset_tz("+9")
    (datetime.timezone(datetime.timedelta(seconds=32400)), datetime.timezone(datetime.timedelta(days=-1, seconds=66600)), datetime.timezone(datetime.timedelta(seconds=32400)))
    """
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    if len(digits) <= 2:
        hours, minutes = int(digits), 0
    else:
        hours, minutes = int(digits[:-2]), int(digits[-2:])
    if hours > 23 or minutes > 59:
        raise BadTime(f"offset out of range: {offset}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


@lru_cache(maxsize=4096)
def make_time(date: str, clock: str, offset: str) -> datetime:
    """Aware datetime from ``YYYY/MM/DD``, ``HH:MM:SS`` and an offset, keeping the logged offset.

    Cached: consecutive lines share their second (datetimes are immutable).
    """
    year = int(date[0:4])
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise BadTime(f"not a plausible time: {date} {clock} {offset} (year outside {MIN_YEAR}-{MAX_YEAR})")
    try:
        return datetime(
            year,
            int(date[5:7]),
            int(date[8:10]),
            int(clock[0:2]),
            int(clock[3:5]),
            int(clock[6:8]),
            tzinfo=offset_tz(offset),
        )
    except ValueError as exc:
        raise BadTime(f"not a real time: {date} {clock} {offset} ({exc})") from None


def shape(name: str, pattern: str) -> pp.Regex:
    """A body shape as one named Regex whose named groups are the record's fields.

    One Regex per shape keeps the fast path and the grammar the same object: the
    readers call its compiled ``.re``, the ``parse_full`` functions call pyparsing.
    """
    return pp.Regex(pattern).set_name(name).leave_whitespace().parse_with_tabs()



def required_literal(pattern: str) -> str:
    r"""The longest run of literal text that every match of ``pattern`` contains (top level only).

    A byte-level prefilter derived from a shape: a line without it cannot have the shape.

    >>> required_literal(r">>>[ \t]*Message-ID[ \t]*:[ \t]*(?P<message_id>.*)")
    'Message-ID'
    >>> required_literal(r"push ruleID\.ruleVer=(?P<rule_id>[0-9]+)")
    'push ruleID.ruleVer='
    """
    import re._parser as sre_parse  # the stdlib's own regex parser (3.11+)

    best, run = "", []
    for op, arg in [*sre_parse.parse(pattern), (None, None)]:
        if op is sre_parse.LITERAL:
            run.append(chr(arg))  # type: ignore[arg-type]
            continue
        if len(run) > len(best):
            best = "".join(run)
        run = []
    return best


def how_far(parts: list[pp.ParserElement], text: str) -> str:
    """Explain a failure by matching named parts one after another.

    >>> how_far([pp.Regex(r"\\d+").set_name("number"), pp.Literal("x").set_name("'x'")], "12y")
    "matched number, then expected 'x' at column 3, found 'y'"
    """
    loc = 0
    done: list[str] = []
    for part in parts:
        try:
            loc, _ = part.parse_with_tabs()._parse(text, loc)  # noqa: SLF001 - pyparsing's own stepping API
        except pp.ParseBaseException:
            found = text[loc : loc + 20].encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            found_text = f"'{found}'" if found else "end of line"
            head = f"matched {', '.join(done)}, then expected" if done else "expected"
            return f"{head} {part.name} at column {loc + 1}, found {found_text}"
        done.append(part.name)
    return "matched " + ", ".join(done) + ", then found text the grammar does not allow"
