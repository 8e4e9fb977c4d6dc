"""Grammar for ``log.imss`` (files ``log.imss.YYYYMMDD.NNNN[.gz]``), the scanner's debug trace.

Line layout::

    2019/04/30 13:57:43 GMT+09:00 [28639:4098483968] [DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: get matched string:1111:2222:3333:444::5555
    |date      |time    |offset   |[pid:tid]         |level  |component     ::method                      : message                       [/src/File.cpp:Class::method:4260]
                                                                                                                                      (optional location tag)

* ``PREFIX`` is one :class:`pyparsing.Regex` (date, time, offset, thread): the hot token.
* ``LEVEL`` (``[DEBUG]``), ``LEVEL_WORD`` (``Info:``), ``COMPONENT`` (``Class::method:``)
  and ``LOCATION`` (the trailing source tag) are optional.
* The message is then matched against the body shapes in :data:`VARIANTS`, most
  specific first; a message of no known shape becomes a ``generic`` record whose
  text is kept.

Two ways to parse one line, which a test keeps in agreement:

* :func:`parse_full` applies the pyparsing grammar :data:`LINE` and tries every
  variant: the definition.
* :func:`parse` (what the readers use) runs the same tokens' compiled regexes and
  dispatches on each variant's literal start, so that only lines with a known
  shape pay for a pyparsing parse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyparsing as pp

from ..records import (
    AcceptConnection,
    FilterResult,
    FinalAction,
    ImssGeneric,
    ImssRecord,
    IpList,
    Location,
    MatchedAddress,
    MessageIdLine,
    ReceivedHeaderLine,
    RuleExecuted,
    RuleRun,
    RuleSetStart,
    ScanFinished,
    Source,
    SpoofVerdict,
)
from .common import OFFSET_PATTERN, ParseFailure, how_far, integer, make_time, shape

KIND = "imss"

# --------------------------------------------------------------------------
# Line tokens
# --------------------------------------------------------------------------

_WS = r"[ \t]+"

DATE = pp.Regex(r"(?P<date>[0-9]{4}/[0-9]{2}/[0-9]{2})").set_name("date YYYY/MM/DD")
CLOCK = pp.Regex(_WS + r"(?P<clock>[0-9]{2}:[0-9]{2}:[0-9]{2})").set_name("time HH:MM:SS")
OFFSET = pp.Regex(_WS + r"GMT(?P<offset>" + OFFSET_PATTERN + r")").set_name("offset GMT+HH:MM")
THREAD = pp.Regex(_WS + r"\[(?P<pid>[0-9]+):(?P<tid>[0-9]+)\][ \t]*").set_name("[pid:tid]")
#: the parts of the prefix, one by one: used to say how far a bad line matched
PREFIX_PARTS = [p.leave_whitespace() for p in (DATE, CLOCK, OFFSET, THREAD)]

#: the common line prefix as one Regex: date, time, offset, thread
PREFIX = (
    pp.Regex("".join(p.pattern for p in PREFIX_PARTS))  # type: ignore[attr-defined]
    .set_name("log.imss prefix")
    .leave_whitespace()
)

LEVEL = pp.Regex(r"\[(?P<level>[A-Z][A-Z_]*)\][ \t]*").set_name("level tag").leave_whitespace()
LEVEL_WORD = (
    pp.Regex(r"(?P<level_word>Info|Information|Warning|Warn|Error|Debug|Diagnostic|Notice|Critical|Fatal):[ \t]*")
    .set_name("level word")
    .leave_whitespace()
)
COMPONENT = (
    pp.Regex(r"(?P<component>[A-Za-z_]\w*)(?:::(?P<method>~?\w+))?:(?!:)[ \t]*")
    .set_name("component")
    .leave_whitespace()
)
LOCATION = (
    pp.Regex(
        r"[ \t]*\[(?P<loc_file>/[^\[\]]*?):(?P<loc_function>[^:\[\]\s]+(?:::[^:\[\]\s]+)*):(?P<loc_line>[0-9]+)\][ \t]*$"
    )
    .set_name("location tag")
    .leave_whitespace()
)
MESSAGE = pp.SkipTo(LOCATION | pp.StringEnd()).set_name("message").leave_whitespace()("message")

#: the whole line as one grammar (the definition; the readers use :func:`parse`)
LINE = (
    PREFIX
    + pp.Opt(LEVEL)
    + pp.Opt(LEVEL_WORD)
    + pp.Opt(COMPONENT)
    + MESSAGE
    + pp.Opt(LOCATION)
    + pp.StringEnd()
).set_name("log.imss line").parse_with_tabs()

# A component is a class name; words that are levels are not components.
NOT_COMPONENTS = _NOT_COMPONENTS = frozenset({"Info", "Information", "Warning", "Warn", "Error", "Debug", "Diagnostic", "Notice"})

# --------------------------------------------------------------------------
# Body shapes
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Sample:
    """A line that must parse to ``expect`` (a subset of the record's fields)."""

    line: str
    expect: dict[str, Any]


class NoMatch(Exception):
    """The message does not have this shape."""


@dataclass(frozen=True)
class Variant:
    """One body shape: its grammar over the message, when to try it, and its record type."""

    name: str
    grammar: pp.Regex
    record: type[ImssRecord]
    starts: str
    component: str | None = None
    finish: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    samples: tuple[Sample, ...] = field(default=())

    def applies(self, component: str | None, message: str) -> bool:
        if self.component is not None and component != self.component:
            return False
        return message.startswith(self.starts)

    def fields(self, message: str) -> dict[str, Any]:
        """The fields, by the compiled regex (fast path).  Raises :class:`NoMatch`."""
        m = self.grammar.re.match(message)  # type: ignore[attr-defined]
        if m is None or message[m.end() :].strip(" \t\r\n"):
            raise NoMatch(self.name)
        got = m.groupdict()  # every group, None where it did not take part
        return self.finish(got) if self.finish else got

    def fields_full(self, message: str) -> dict[str, Any]:
        """The fields, by pyparsing (the definition).  Raises :class:`NoMatch`."""
        try:
            found = self.grammar.parse_string(message, parse_all=True).as_dict()
        except pp.ParseBaseException:
            raise NoMatch(self.name) from None
        got = {name: found.get(name) for name in self.grammar.re.groupindex}  # type: ignore[attr-defined]
        return self.finish(got) if self.finish else got


def _ip_list(d: dict[str, Any]) -> dict[str, Any]:
    ips = tuple(x.strip() for x in (d["ips"] or "").split(",") if x.strip())
    return {"count": integer(d["count"], "IP count (Get N IP)"), "ips": ips}


def _verdict(d: dict[str, Any]) -> dict[str, Any]:
    text = d["text"].strip()
    low = text.lower().rstrip(". ")
    if "not triggered" in low:
        triggered: bool | None = False
    elif low.endswith("triggered"):
        triggered = True
    else:
        triggered = None
    return {"text": text, "triggered": triggered}


def _strip(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def finish(d: dict[str, Any]) -> dict[str, Any]:
        return {**d, name: (d[name] or "").strip()}

    return finish


_P = "2019/04/30 13:57:43 GMT+09:00 [28639:4098483968] "

RULE_RUN = Variant(
    name="rule_run",
    grammar=shape(
        "rule run",
        r"Running ruleId:[ \t]*(?P<rule_id>[0-9]+)[ \t]*;[ \t]*version:[ \t]*(?P<rule_version>[0-9]+)"
        r"(?:[ \t]*,[ \t]*numFilters:[ \t]*(?P<num_filters>[0-9]+))?(?:[ \t]*,[ \t]*numActions:[ \t]*(?P<num_actions>[0-9]+))?",
    ),
    record=RuleRun,
    starts="Running ruleId:",
    finish=lambda d: {
        "rule_id": integer(d["rule_id"], "ruleId"),
        "rule_version": integer(d["rule_version"], "rule version"),
        "num_filters": integer(d["num_filters"], "numFilters") if d["num_filters"] is not None else None,
        "num_actions": integer(d["num_actions"], "numActions") if d["num_actions"] is not None else None,
    },
    samples=(
        Sample(
            _P + "Running ruleId:12; version:2, numFilters:1, numActions:1",
            {"rule_id": 12, "rule_version": 2, "num_filters": 1, "num_actions": 1, "level": None},
        ),
    ),
)

RECEIVED_HEADER = Variant(
    name="received_header",
    grammar=shape("received header string", r"parse received header string:[ \t]*(?P<header>.*)"),
    record=ReceivedHeaderLine,
    starts="parse received header string:",
    component="AntiSpoofFilter",
    samples=(
        Sample(
            _P + "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:"
            "by ie-test057.test.test (Postfix, from userid 0)id DDDFC11FB0C; Tue, 27 Apr 2019 13:57:42 +0900 (JST)",
            {
                "level": "DEBUG",
                "component": "AntiSpoofFilter",
                "method": "parseSendIPFromOneRecvHeader",
                "header": "by ie-test057.test.test (Postfix, from userid 0)id DDDFC11FB0C; "
                "Tue, 27 Apr 2019 13:57:42 +0900 (JST)",
            },
        ),
    ),
)

MATCHED_ADDRESS = Variant(
    name="matched_address",
    grammar=shape("matched string", r"get matched string:[ \t]*(?P<address>\S+)"),
    record=MatchedAddress,
    starts="get matched string:",
    component="AntiSpoofFilter",
    finish=_strip("address"),
    samples=(
        Sample(
            _P + "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader:get matched string:1111:2222:3333:444::5555",
            {"address": "1111:2222:3333:444::5555", "method": "parseSendIPFromOneRecvHeader"},
        ),
    ),
)

IP_LIST = Variant(
    name="ip_list",
    grammar=shape(
        "IP list",
        r"Get[ \t]+(?P<count>[0-9]+)[ \t]+IP address(?:es)?[ \t]+from received header\.?[ \t]*(?P<ips>.*)",
    ),
    record=IpList,
    starts="Get ",
    component="AntiSpoofFilter",
    finish=_ip_list,
    samples=(
        Sample(
            _P + "[DEBUG]AntiSpoofFilter: Get 1 IP address from received header. 1111:2222:3333:444::5555,",
            {"count": 1, "ips": ("1111:2222:3333:444::5555",), "method": None},
        ),
        Sample(
            _P + "[DEBUG]AntiSpoofFilter: Get 2 IP address from received header. 198.51.100.7,203.0.113.9,",
            {"count": 2, "ips": ("198.51.100.7", "203.0.113.9")},
        ),
        Sample(
            _P + "[DEBUG]AntiSpoofFilter: Get 0 IP address from received header. ",
            {"count": 0, "ips": ()},
        ),
    ),
)

SPOOF_VERDICT = Variant(
    name="spoof_verdict",
    grammar=shape("spoof verdict", r"(?P<text>.*(?:Trusted Internal IP List|[Tt]riggered).*)"),
    record=SpoofVerdict,
    starts="",
    component="AntiSpoofFilter",
    finish=_verdict,
    samples=(
        Sample(
            _P + "[DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered.",
            {"level": "DIAGNOSTIC", "triggered": True, "text": "Not all sender IP in Trusted Internal IP List. Triggered."},
        ),
        Sample(
            _P + "[DIAGNOSTIC]AntiSpoofFilter: All sender IP in Trusted Internal IP List. Not triggered.",
            {"triggered": False},
        ),
    ),
)

FILTER_RESULT = Variant(
    name="filter_result",
    grammar=shape(
        "filter result", r"filter[ \t]+(?P<filter_name>\S+)[ \t]+isTriggered returned[ \t]+(?P<result>(?i:true|false))"
    ),
    record=FilterResult,
    starts="filter ",
    finish=lambda d: {"filter_name": d["filter_name"], "result": d["result"].lower() == "true"},
    samples=(
        Sample(
            _P + "filter AntiSpoofFilter isTriggered returned true "
            "[/home/autobuild/IMSx-TW_9.1/Application/src/daemon/src/TmIsScan.cpp:TmIsScan::_ruleIsTriggered:4260]",
            {
                "filter_name": "AntiSpoofFilter",
                "result": True,
                "location": Location(
                    "/home/autobuild/IMSx-TW_9.1/Application/src/daemon/src/TmIsScan.cpp",
                    "TmIsScan::_ruleIsTriggered",
                    4260,
                ),
            },
        ),
        Sample(_P + "filter AntiSpoofFilter isTriggered returned false", {"result": False, "location": None}),
    ),
)

RULE_EXECUTED = Variant(
    name="rule_executed",
    grammar=shape(
        "rule executed", r"push ruleID\.ruleVer=(?P<rule_id>[0-9]+)\.(?P<rule_version>[0-9]+)[ \t]+into executed rule list"
    ),
    record=RuleExecuted,
    starts="push ruleID.ruleVer=",
    finish=lambda d: {"rule_id": integer(d["rule_id"], "ruleID"), "rule_version": integer(d["rule_version"], "ruleVer")},
    samples=(Sample(_P + "push ruleID.ruleVer=12.2 into executed rule list", {"rule_id": 12, "rule_version": 2}),),
)

FINAL_ACTION = Variant(
    name="final_action",
    grammar=shape("final action", r"Final action[ \t]+(?P<index>[0-9]+)[ \t]*:[ \t]*(?P<action>.*)"),
    record=FinalAction,
    starts="Final action ",
    finish=lambda d: {"index": integer(d["index"], "final action index"), "action": d["action"].strip()},
    samples=(Sample(_P + "Final action 0: QuarantineAction", {"index": 0, "action": "QuarantineAction"}),),
)

ACCEPT_CONNECTION = Variant(
    name="accept_connection",
    grammar=shape(
        "accept connection",
        r"Accept connection from client[ \t]+(?:\[(?P<client>[^\]]*)\]|(?P<client_bare>[^\s\[\]]+)).*",
    ),
    record=AcceptConnection,
    starts="Accept connection from client",
    finish=lambda d: {"client": d["client"] if d["client"] is not None else (d["client_bare"] or "")},
    samples=(
        Sample(
            "2024/03/12 09:15:01 GMT+01:00 [4242:139871] Info: Accept connection from client [127.0.0.1]",
            {"client": "127.0.0.1", "level": "Info", "component": None},
        ),
    ),
)

RULE_SET_START = Variant(
    name="rule_set_start",
    grammar=shape("rule set start", r"Start Rule Set Retrieval spent[ \t]*(?P<detail>.*)"),
    record=RuleSetStart,
    starts="Start Rule Set Retrieval spent",
    finish=_strip("detail"),
    samples=(
        Sample(
            "2024/03/12 09:15:01 GMT+01:00 [4242:139871] Start Rule Set Retrieval spent 0 ms",
            {"detail": "0 ms"},
        ),
    ),
)

MESSAGE_ID = Variant(
    name="message_id",
    grammar=shape("Message-ID line", r">>>[ \t]*Message-ID[ \t]*:[ \t]*(?P<message_id>.*)"),
    record=MessageIdLine,
    starts=">>>",
    finish=_strip("message_id"),
    samples=(
        Sample(
            "2024/03/12 09:15:01 GMT+01:00 [4242:139871] >>> Message-ID : <20240312081500.4A1F3C0042@mx1.example.com>",
            {"message_id": "<20240312081500.4A1F3C0042@mx1.example.com>"},
        ),
    ),
)

SCAN_FINISHED = Variant(
    name="scan_finished",
    grammar=shape(
        "scan finished", r"Scan finished for[ \t]+<?(?P<internal_id>[^\s,<>]+)>?(?:[ \t]*,[ \t]*(?P<detail>.*))?"
    ),
    record=ScanFinished,
    starts="Scan finished for",
    finish=lambda d: {"internal_id": d["internal_id"], "detail": (d["detail"] or "").strip()},
    samples=(
        Sample(
            "2024/03/12 09:15:02 GMT+01:00 [4242:139871] Scan finished for 5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C, "
            "scanned 1 times",
            {"internal_id": "5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C", "detail": "scanned 1 times"},
        ),
    ),
)

GENERIC_SAMPLES = (
    Sample(_P + "[DEBUG]in convertUnicodeToString, source.length = 46", {"body": "in convertUnicodeToString, source.length = 46", "level": "DEBUG"}),
    Sample(
        _P + "[DEBUG]AntiSpoofFilter: sender domain and recipient domain are different",
        {"component": "AntiSpoofFilter", "body": "sender domain and recipient domain are different"},
    ),
)

#: the body shapes, most specific first; a message that none fits is ``generic``
VARIANTS: tuple[Variant, ...] = (
    RECEIVED_HEADER,
    MATCHED_ADDRESS,
    IP_LIST,
    SPOOF_VERDICT,
    RULE_RUN,
    FILTER_RESULT,
    RULE_EXECUTED,
    FINAL_ACTION,
    ACCEPT_CONNECTION,
    RULE_SET_START,
    MESSAGE_ID,
    SCAN_FINISHED,
)
VARIANT_NAMES = tuple(v.name for v in VARIANTS) + ("generic",)

# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------

_PREFIX_RE = PREFIX.re  # type: ignore[attr-defined]
_LOCATION_RE = LOCATION.re  # type: ignore[attr-defined]
#: the fast path's one regex for prefix, level tag, level word and component: the same
#: tokens as LINE, in the same order, each optional as there (a test keeps them in agreement)
_HEAD_RE = re.compile(
    PREFIX.re.pattern  # type: ignore[attr-defined]
    + "".join(f"(?:{t.re.pattern})?" for t in (LEVEL, LEVEL_WORD, COMPONENT))  # type: ignore[attr-defined]
)

#: public name of the fast path's head regex: readers that classify lines at byte level use it
HEAD_RE = _HEAD_RE

_DISPATCH = tuple((v.starts, v.component, v) for v in VARIANTS)


def _shape(component: str | None, message: str) -> tuple[Variant | None, dict]:
    """The first variant (in :data:`VARIANTS` order) whose start and grammar fit (inlined ``applies``)."""
    for starts, comp, v in _DISPATCH:
        if (comp is None or comp == component) and message.startswith(starts):
            try:
                return v, v.fields(message)
            except NoMatch:
                continue
    return None, {}


#: one object per distinct value of the head's repeated fields (level, component, method, pid, tid), so
#: that the records a correlation holds share them (~110 of ~640 bytes per record); bounded, as the
#: values are log text: past the bound new values are simply not shared
_SHARED_MAX = 4096
_SHARED_STR: dict[str, str] = {}
_SHARED_INT: dict[str, int] = {}


def _shared(text: str | None) -> str | None:
    if text is None:
        return None
    got = _SHARED_STR.get(text)
    if got is None:
        got = text
        if len(_SHARED_STR) < _SHARED_MAX:
            _SHARED_STR[text] = text
    return got


def _shared_int(text: str, what: str) -> int:
    got = _SHARED_INT.get(text)
    if got is None:
        got = integer(text, what)  # raises on what is not a number: never cached
        if len(_SHARED_INT) < _SHARED_MAX:
            _SHARED_INT[text] = got
    return got


def _common(
    date: str, clock: str, offset: str, pid: str, tid: str, level: str | None, component: str | None,
    method: str | None, message: str, loc: tuple[str, str, str] | None,
) -> dict[str, Any]:
    component, message = fix_component(component, method, message)
    return {
        "time": make_time(date, clock, offset),
        "pid": _shared_int(pid, "pid"),
        "tid": _shared_int(tid, "tid"),
        "level": _shared(level),
        "component": _shared(component),
        "method": _shared(method),
        "body": message,
        "location": Location(loc[0], loc[1], integer(loc[2], "source line number")) if loc else None,
    }


def fix_component(component: str | None, method: str | None, message: str) -> tuple[str | None, str]:
    """A level word taken for a component goes back into the message."""
    if component in _NOT_COMPONENTS and method is None:
        # "Info: text" is a level word, and LEVEL_WORD took it already; a second one stays text
        return None, f"{component}: {message}"
    return component, message


def split_line(text: str) -> tuple[re.Match[str], str | None, str | None, str | None, str, tuple[str, str, str] | None]:
    """The fast path's cut of one line, before any conversion: head match, level, component,
    method, message and location tag (as strings).  Raises :class:`ParseFailure`.

    :func:`parse` converts these into fields; the DataFrame reader converts them once per distinct value.
    """
    m = _HEAD_RE.match(text)
    if m is None:
        raise ParseFailure(how_far(PREFIX_PARTS, text))
    pos = m.end()
    end = len(text)
    loc = None
    if text.endswith("]") or text.rstrip(" \t").endswith("]"):
        locm = _LOCATION_RE.search(text, pos)
        if locm:
            loc = (locm["loc_file"], locm["loc_function"], locm["loc_line"])
            end = locm.start()
    component, message = fix_component(m["component"], m["method"], text[pos:end])
    return m, m["level"] or m["level_word"], component, m["method"], message, loc


_STARTS = tuple(v.starts for v in VARIANTS if v.starts)
_ANY_START = frozenset(v.component for v in VARIANTS if not v.starts)  # None: every component


def shape_of(component: str | None, message: str) -> tuple[Variant | None, dict]:
    """The body shape of a message and its fields (``None, {}`` for a generic body).

    The same as trying every variant, with one check first: most bodies start like no variant.
    """
    if None in _ANY_START or component in _ANY_START or message.startswith(_STARTS):
        return _shape(component, message)
    return None, {}


#: public name of the location tag's compiled form
LOCATION_RE = _LOCATION_RE


def unnamed(pattern: str) -> str:
    r"""A token's pattern with its named groups made plain groups ``(?:...)`` (for a regex that
    captures bigger pieces).

    >>> unnamed(r"\[(?P<pid>[0-9]+):(?P<tid>[0-9]+)\]")
    '\\[(?:[0-9]+):(?:[0-9]+)\\]'
    """
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)


#: the optional tokens between the prefix and the message (level tag, level word, component),
#: as in :data:`LINE`: applied to the ``lead`` of :data:`BLOCK_RE` once per distinct lead
TAG_RE = re.compile("".join(f"(?:{t.re.pattern})?" for t in (LEVEL, LEVEL_WORD, COMPONENT)))  # type: ignore[attr-defined]

#: the DataFrame reader's regex over a whole block of lines (``re.M``, one match per line), derived
#: from the same tokens: groups ``head`` (:data:`PREFIX`: date, time, offset, thread), ``lead`` (the
#: tokens of :data:`TAG_RE`, then a variant's literal start if the message has one), ``rest`` (the
#: message up to its last character that is not ``]``, space or tab) and ``tail`` (those last
#: characters: where a location tag would end); a line the prefix does not fit has only ``other``.
#: Only heads and leads (few distinct strings) are parsed further; a line without a variant start,
#: without a tail and without a component whose variants start anywhere is a generic record whose
#: body is ``rest``.
BLOCK_RE = re.compile(
    r"^(?:(" + unnamed(PREFIX.re.pattern) + r")("  # type: ignore[attr-defined]
    + unnamed(TAG_RE.pattern)
    + r"(?:" + "|".join(re.escape(s) for s in _STARTS) + r")?)"
    + r"(.*[^\] \t\n]|)(.*)|(.*))$",
    re.MULTILINE,
)
#: the thread and lead tokens after the head's date, time and offset (:data:`THREAD`, then :data:`TAG_RE`
#: as group ``tags``): the byte-level cutter (:mod:`imsvalog.imss_cut`) runs it once per distinct string
THREAD_TAG_RE = re.compile(THREAD.re.pattern + "(?P<tags>" + unnamed(TAG_RE.pattern) + ")")  # type: ignore[attr-defined]
#: components whose variants match a message of any start (``None``: every component)
ANY_START = _ANY_START
STARTS = _STARTS


def parse(text: str) -> tuple[type[ImssRecord], dict[str, Any]]:
    """Parse one line (the fast path): record type and its fields.  Raises :class:`ParseFailure`.

    >>> cls, f = parse("2019/04/30 13:57:43 GMT+09:00 [28639:4098483968] Final action 0: QuarantineAction")
    >>> cls.__name__, f["index"], f["action"], f["time"].isoformat()
    ('FinalAction', 0, 'QuarantineAction', '2019-04-30T13:57:43+09:00')
    """
    m, level, component, method, message, loc = split_line(text)
    fields = _common(m["date"], m["clock"], m["offset"], m["pid"], m["tid"], level, component, method, message, loc)
    variant, extra = _shape(fields["component"], fields["body"])
    if variant is None:
        return ImssGeneric, fields
    fields.update(extra)
    return variant.record, fields


def parse_full(text: str) -> tuple[type[ImssRecord], dict[str, Any]]:
    """Parse one line with the whole pyparsing grammar :data:`LINE` (the definition).

    Must give the same result as :func:`parse`; a test checks this on every sample and fixture line.
    """
    try:
        r = LINE.parse_string(text, parse_all=True)
    except pp.ParseBaseException:
        raise ParseFailure(how_far(PREFIX_PARTS, text)) from None
    d = r.as_dict()
    loc = (d["loc_file"], d["loc_function"], d["loc_line"]) if "loc_file" in d else None
    level = d.get("level") or d.get("level_word")
    fields = _common(
        d["date"], d["clock"], d["offset"], d["pid"], d["tid"], level, d.get("component"), d.get("method"),
        d.get("message", ""), loc,
    )
    matches = matching_variants(fields["component"], fields["body"])
    if not matches:
        return ImssGeneric, fields
    fields.update(matches[0][1])
    return matches[0][0].record, fields


def matching_variants(component: str | None, message: str) -> list[tuple[Variant, dict[str, Any]]]:
    """Every variant whose grammar fits the message (for the "no sample matches two shapes" test)."""
    out = []
    for v in VARIANTS:
        if v.component is not None and component != v.component:
            continue
        try:
            out.append((v, v.fields_full(message)))
        except NoMatch:
            pass
    return out


def to_record(source: Source, cls: type[ImssRecord], fields: dict[str, Any]) -> ImssRecord:
    return cls(source=source, **fields)


def sniff(line: str) -> bool:
    """Does this look like a log.imss line?"""
    return _PREFIX_RE.match(line) is not None
