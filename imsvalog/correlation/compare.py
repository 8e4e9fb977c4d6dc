"""Comparing the model with IMSVA: the re-run, the findings, and the trusted list read off IMSVA's verdicts."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, get_args

from ..spoof import MessageInput, MissingTrusted, Profile, SpoofResult, VerdictChange, evaluate, get_profile, public_warning, show_ip
from ..spoof import what_if as spoof_what_if
from ..trusted import TrustedList

if TYPE_CHECKING:
    from ..scan_sessions import SpoofTrace
    from .result import Row


FindingKind = Literal[
    "trace-vs-event", "inconsistent-log", "count", "logged-not-counted", "counted-not-logged", "duplicates", "order", "verdict", "domain",
    "trusted-list",
]
#: every kind of finding, in the order they are reported
FINDING_KINDS: tuple[FindingKind, ...] = get_args(FindingKind)
#: the kinds that say IMSVA's own lines disagree (with each other, or a line with itself), not the model with IMSVA
OWN_KINDS = frozenset({"trace-vs-event", "inconsistent-log"})
#: the kinds that say the model's address list is not IMSVA's
LIST_KINDS = frozenset({"inconsistent-log", "count", "logged-not-counted", "counted-not-logged", "duplicates", "order"})


@dataclass(frozen=True, slots=True)
class Finding:
    """One way the model and IMSVA disagree on a scan, or IMSVA's own lines on it (``trace-vs-event``), in words,
    with its kind (for counting)."""

    kind: FindingKind
    text: str

    def __str__(self) -> str:
        return self.text

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "text": self.text}


@lru_cache(maxsize=1 << 14)
def normalize_ip(text: str) -> str:
    """An address in one form for comparing IMSVA's list with the model's; an IPv6 zone ID is dropped
    (``fe80::1%eth0`` is ``fe80::1``: the zone names the receiving interface, not another address).

    >>> normalize_ip("fe80::1%eth0"), normalize_ip("[IPv6:2001:DB8::1]"), normalize_ip("localhost")
    ('fe80::1', '2001:db8::1', 'localhost')
    """
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]").removeprefix("IPv6:"))
    except ValueError:
        return text.strip()
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id is not None:
        ip = ipaddress.IPv6Address(int(ip))
    return show_ip(ip)


@lru_cache(maxsize=1 << 14)
def is_address(text: str) -> bool:
    """An IP address (what a trusted list can be asked about); IMSVA's list may hold other tokens (``unknown``),
    whose membership is unknown, never "untrusted".

    >>> is_address("198.51.100.66"), is_address("2001:db8::1"), is_address("unknown")
    (True, True, False)
    """
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def recompute(row: Row, trusted: TrustedList | None, profile: str | Profile) -> None:
    """Re-run the model on the row's trace and record how it compares with what IMSVA logged."""
    t = row.trace
    if t is None:
        return
    e = row.event
    sender = e.sender if e else (row.transaction.sender if row.transaction else None)
    recipients = tuple(e.recipients) if e else ()
    # what IMSVA did: the trace's own verdict line; without one, the linked spoof event says it fired, unless time
    # alone linked them (a hypothesis: then it stays unknown, attack s21a F2)
    by_id = e is not None and row.link is not None and row.link.confidence != "low"
    observed = t.triggered if t.triggered is not None else (True if by_id else None)
    unlogged = headers_not_logged(t)
    missing = [] if unlogged else addresses_in_no_header(t)
    # a 'Not triggered' verdict that the spoof policy event linked to the same scan contradicts: IMSVA's own lines
    # disagree, so the verdict is in doubt and nothing is drawn from it (neither the model's verdict against it, nor
    # the appliance's list: as infer_trusted leaves it out)
    doubted = t.triggered is False and by_id
    # a scan whose lines end before IMSVA logged its count (no 'Get N IP address' line, no Scan finished line): the
    # headers after the last one logged may be in what was not read (attack s24b F3: a gzip cut after the first of
    # two headers made the model count one and say the appliance's list 'must have differed')
    s = row.session
    cut = None
    if t.logged_ips is None and s is not None and s.end == "end_of_input":
        cut = s.next_file or "the log.imss files given end there"
    r = evaluate(list(t.header_texts), sender, recipients, trusted, profile, observed=observed,
                 headers_logged=not unlogged and not missing, observed_doubt=DOUBTED_VERDICT if doubted else None,
                 headers_cut=cut)
    row.recomputed = r
    findings: list[Finding] = []
    if doubted:  # the model cannot reproduce both: a disagreement, though not the model's
        from .link import _WORDS

        text = (
            f"IMSVA's own lines disagree: this trace says its filter did not fire ('Not triggered'), yet spoof policy "
            f"event {e.internal_id} (linked by {', '.join(_WORDS[b] for b in row.link.basis)}) says the mail was "  # type: ignore[union-attr]
            "handled as spoofed; another AntiSpoofFilter evaluation of the message (another rule, or another pass of "
            "it) may have fired, and its lines are not in this trace"
        )
        if trusted is not None and r.triggered is not None:
            text += (
                "; so its verdict is in doubt: it is not compared with the model's (with the given trusted list the "
                f"model {'fires, as the policy event says' if r.triggered else 'does not fire, as the trace says'}), "
                "nor taken as evidence of what the appliance's list held"
            )
        findings.append(Finding("trace-vs-event", text))
    logged = t.logged_ips
    if logged is None:
        row.notes.append("the trace has no 'Get N IP address' line to compare with (cut off or other log level)")
    elif unlogged:
        row.notes.append(UNLOGGED_NOTE)
    elif missing:
        row.notes.append(missing_header_note(missing))
    else:
        if t.logged_count != len(logged):
            findings.append(Finding(
                "inconsistent-log", f"IMSVA's own line is inconsistent: it says {t.logged_count} but lists {len(logged)} "
                f"address{'es' if len(logged) != 1 else ''}"
            ))
        findings += list_findings(logged, r, t.logged_count)
    if observed is True and r.domain_match is False:
        findings.append(Finding(
            "domain",
            "IMSVA fired although no sender domain the model knows matches a recipient's domain: "
            "the documented domain criterion does not hold here",
        ))
    if (trusted is not None and r.triggered is not None and t.triggered is not None and r.triggered != t.triggered
            and not doubted):
        findings.append(Finding(
            "verdict",
            f"verdict differs: IMSVA {'fired' if t.triggered else 'did not fire'}, the model with the given trusted list "
            f"{'fires' if r.triggered else 'does not fire'}",
        ))
    if trusted is not None and logged is not None:
        findings += _given_list_findings(None if doubted else t.triggered, t.verdict_text or "", logged, trusted)
    row.findings = findings
    # three-valued: a finding is a disagreement; without one, a list that cannot be compared leaves it unknown
    row.agrees = False if findings else None if logged is None or unlogged or missing else True
    sl = scan_list(row)
    if trusted is not None and sl is not None and sl.fired:
        row.fired_on = sl.untrusted(trusted)


#: why a 'Not triggered' verdict is in doubt (:attr:`~imsvalog.spoof.SpoofResult.observed_doubt`): the spoof policy
#: event linked to the same scan by an ID contradicts it (a ``trace-vs-event`` finding)
DOUBTED_VERDICT = ("this trace says its filter did not fire, yet the spoof policy event linked to it says the mail was "
                   "handled as spoofed (IMSVA's own lines disagree)")


#: the note on a trace whose Received headers IMSVA read but did not log
UNLOGGED_NOTE = ("the Received headers IMSVA counted from are not in the log (no 'parse received header string' line "
                 "of this scan), so the model's address list cannot be checked against IMSVA's (unknown, not different)")


def missing_header_note(missing: Sequence[str]) -> str:
    """The note on a trace where IMSVA counted an address that none of the logged Received headers holds."""
    return (f"IMSVA counted {', '.join(missing)}, which none of the Received headers in the log holds: a header line "
            "is missing from the log, so the model's address list cannot be checked against IMSVA's (unknown, not "
            "different)")


def addresses_in_no_header(t: SpoofTrace) -> list[str]:
    """The addresses of IMSVA's 'Get N IP address' line that none of the trace's logged Received headers holds
    (in any clause, any form): IMSVA counted from a header line the log lost, so the model's list is unknown."""
    if not t.header_texts or not t.logged_ips:
        return []
    logged = [a for a in dict.fromkeys(normalize_ip(x) for x in t.logged_ips) if is_address(a)]
    text = " ".join(t.header_texts).lower()
    if all(_holds_whole(text, a.lower()) for a in logged):  # the common case, without parsing the headers again
        return []
    from ..grammars.received import parse_received

    held = set()
    for h in t.header_texts:
        for a in parse_received(h).addresses:
            if a.address is not None:
                held.add(show_ip(a.address))
                mapped = getattr(a.address, "ipv4_mapped", None)
                if mapped is not None:  # ::ffff:10.1.1.1 holds 10.1.1.1 (the model checks it as that)
                    held.add(str(mapped))
    return [a for a in logged if a not in held]


def _holds_whole(text: str, address: str) -> bool:
    """``address`` stands in ``text`` as a whole token: no address character (hex digit, '.', ':') next to it
    (10.1.1.1 inside 10.1.1.10 is not held; an address written after 'IPv6:' is left to the parser).

    >>> _holds_whole("from x ([10.1.1.10])", "10.1.1.1"), _holds_whole("from x ([10.1.1.1])", "10.1.1.1")
    (False, True)
    """
    i = text.find(address)
    while i != -1:
        before = text[i - 1:i]
        after = text[i + len(address):i + len(address) + 1]
        if not (before and before in _ADDRESS_CHARS) and not (after and after in _ADDRESS_CHARS):
            return True
        i = text.find(address, i + 1)
    return False


_ADDRESS_CHARS = frozenset("0123456789abcdef.:")


def headers_incomplete(t: SpoofTrace) -> bool:
    """The model's address list for this trace is unknown: IMSVA counted from Received headers the log does not
    show (none of them, or not the one holding an address it counted)."""
    return headers_not_logged(t) or bool(addresses_in_no_header(t))


def headers_not_logged(t: SpoofTrace) -> bool:
    """IMSVA counted addresses from Received headers (its 'Get N IP address' line) but the log shows none of
    them: the headers are unknown, not absent (a message without Received headers gives IMSVA nothing to count)."""
    if t.header_texts or t.logged_ips is None:
        return False
    return bool(t.logged_ips) or bool(t.logged_count)


def _given_list_findings(fired: bool | None, said: str, logged: Sequence[str], trusted: TrustedList) -> list[Finding]:
    """What IMSVA's verdict on its own logged list says about the given trusted list (``fired``: None when the logs
    do not say, or the verdict is in doubt: then only an entry that is no address is said)."""
    ips = list(dict.fromkeys(normalize_ip(a) for a in logged))
    unparsable = [a for a in ips if not is_address(a)]
    outside = [a for a in ips if is_address(a) and trusted.match(a) is None]
    if unparsable:
        return [Finding(
            "trusted-list",
            f"IMSVA logged {', '.join(repr(a) for a in unparsable)}, which is not an IP address: whether your trusted "
            "list covers it is unknown",
        )]
    if fired is True and ips and not outside:
        return [Finding(
            "trusted-list",
            f"your trusted list covers every address IMSVA logged ({', '.join(ips)}), yet IMSVA fired: the appliance's "
            f"list evidently lacked {'it' if len(ips) == 1 else 'one of them'} when this mail was scanned",
        )]
    if fired is False and _says_all_trusted(said) and outside:
        return [Finding(
            "trusted-list",
            f"IMSVA found every address it logged in its list, but your trusted list lacks {', '.join(outside)}",
        )]
    return []


def _says_all_trusted(text: str) -> bool:
    low = text.lower()
    return "all sender ip in trusted internal ip list" in low and not low.startswith("not all")


def list_findings(logged: Sequence[str], r: SpoofResult, logged_count: int | None = None) -> list[Finding]:
    """IMSVA's logged list against the model's, as multisets: count, addresses, duplicates and order are
    separate findings (a repeated address is evidence about how IMSVA counts, never "a different order")."""
    out: list[Finding] = []
    theirs = [normalize_ip(x) for x in logged]
    ours = [normalize_ip(x) for x in r.counted]
    n_theirs = logged_count if logged_count is not None else len(theirs)
    if theirs == ours and n_theirs == len(ours):  # the common case: the same list, so no finding below can arise
        return out
    if n_theirs != len(ours):
        out.append(Finding("count", f"IMSVA counted {n_theirs} address{'es' if n_theirs != 1 else ''}, the model {len(ours)}"))
    ct, co = Counter(theirs), Counter(ours)
    for a in dict.fromkeys(theirs):
        if a not in co:
            out.append(Finding("logged-not-counted", f"IMSVA counted {a}, which the model did not count: {_where_seen(a, r)}"))
    for a in dict.fromkeys(ours):
        if a not in ct:
            out.append(Finding("counted-not-logged", f"the model counted {a}, which IMSVA did not: {_why_counted(a, r)}"))
    for a in dict.fromkeys(theirs + ours):
        if a in ct and a in co and ct[a] != co[a]:
            text = f"IMSVA lists {a} {_times(ct[a])}, the model {_times(co[a])}"
            if ct[a] > co[a]:
                text += ": IMSVA counts a repeated address each time, not once as the model assumes (undocumented)"
            out.append(Finding("duplicates", text))
    common_theirs = [a for a in dict.fromkeys(theirs) if a in co]
    common_ours = [a for a in dict.fromkeys(ours) if a in ct]
    if common_theirs != common_ours:
        out.append(Finding(
            "order", f"the addresses both count are in a different order: IMSVA {', '.join(common_theirs)}; "
            f"model {', '.join(common_ours)}"
        ))
    return out


def findings_by_kind(rows: Sequence[Row]) -> dict[str, int]:
    """How many findings of each kind the rows hold (kinds without findings left out)."""
    counts = Counter(f.kind for r in rows for f in r.findings)
    return {k: counts[k] for k in FINDING_KINDS if counts[k]}


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _where_seen(addr: str, r: SpoofResult) -> str:
    for h in r.headers:
        for a in h.parsed.addresses:
            if a.address is None:
                continue
            shown = show_ip(a.address)
            mapped = getattr(a.address, "ipv4_mapped", None)
            if addr in (shown, str(mapped) if mapped is not None else None):
                written = "" if shown == addr else f" as {shown}"  # IPv4-mapped: IMSVA logged its IPv4 form
                if h.skip is not None and h.skip.address in (addr, shown):
                    return f"header {h.index} has it{written}, skipped as {h.skip.reason} ({h.skip.detail})"
                if not a.bracketed and a.clause == "from":
                    return (
                        f"header {h.index} has it in its from clause without brackets; the documented filter takes only "
                        "bracketed addresses, so IMSVA also reads unbracketed ones (undocumented)"
                    )
                return f"header {h.index} has it in its {a.clause} clause, which the documented filter does not read"
    return "it is in none of the recovered headers (the trace may be missing a header line)"


def _why_counted(addr: str, r: SpoofResult) -> str:
    for h in r.headers:
        if h.counted == addr:
            flag = [n for n in h.notes if n.startswith("counted although special-purpose")]
            if flag:
                return f"header {h.index}; {flag[0]} -- IMSVA apparently skips it (undocumented)"
            return f"header {h.index}, the bracketed address of its from clause"
    return "not found"


@dataclass
class InferredAddress:
    """An address whose place in IMSVA's Trusted Internal IP List the logs reveal, with the evidence."""

    address: str
    status: Literal["trusted", "untrusted", "conflict"]
    trusted_evidence: list[str] = field(default_factory=list)
    untrusted_evidence: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class DoubtedVerdict:
    """A scan's 'Not triggered' verdict that the spoof policy event linked to the same scan contradicts (a
    ``trace-vs-event`` finding: IMSVA's own lines disagree): no evidence of the Trusted Internal IP List, so
    :func:`infer_trusted` leaves it out."""

    scan: str
    addresses: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"scan": self.scan, "addresses": list(self.addresses), "why": "trace-vs-event"}


def _verdicts(rows: Sequence[Row]) -> Iterator[tuple[Row, list[str], str, str]]:
    """The rows whose trace logged both a list and a verdict: (row, its addresses, where, the verdict lowercased)."""
    for r in rows:
        t = r.trace
        if t is None or t.logged_ips is None or t.verdict_text is None:
            continue
        name = r.internal_id or (r.session.thread if r.session else "?")
        yield (r, [normalize_ip(x) for x in t.logged_ips], f"{name} at {t.time.isoformat(sep=' ')} ({t.verdict_ref})",
               t.verdict_text.lower())


def _in_doubt(r: Row) -> bool:
    return any(f.kind == "trace-vs-event" for f in r.findings)


def doubted_verdicts(rows: Sequence[Row]) -> list[DoubtedVerdict]:
    """The 'Not triggered' verdicts :func:`infer_trusted` leaves out: the spoof policy event linked to the same
    scan says the mail was handled as spoofed (IMSVA's own lines disagree), so the verdict is in doubt."""
    return [DoubtedVerdict(where, tuple(ips)) for r, ips, where, text in _verdicts(rows)
            if r.trace is not None and r.trace.triggered is False and _says_all_trusted(text) and _in_doubt(r)]


def infer_trusted(rows: Sequence[Row]) -> list[InferredAddress]:
    """Read IMSVA's Trusted Internal IP List off its own verdicts, without the administrator's list.

    * ``All sender IP in Trusted Internal IP List`` with a logged list: every listed
      address is trusted, unless a spoof policy event linked to the same scan says the mail was handled
      as spoofed (a ``trace-vs-event`` finding): such a verdict is in doubt and left out
      (:func:`doubted_verdicts`).
    * ``Not all sender IP in Trusted Internal IP List`` with one logged address: that
      address is not trusted (with several, the one not shown trusted elsewhere).
    * An address with both kinds of evidence is a ``conflict``: the list changed
      during the span of the logs, or IMSVA's check is not what is documented.
    """
    trusted: dict[str, list[str]] = defaultdict(list)
    untrusted: dict[str, list[str]] = defaultdict(list)
    firing: list[tuple[list[str], str]] = []
    for r, ips, where, text in _verdicts(rows):
        t = r.trace
        assert t is not None
        if t.triggered is False and _says_all_trusted(text) and not _in_doubt(r):
            for a in ips:
                trusted[a].append(where)
        elif t.triggered is True and text.startswith("not all sender ip") and ips:
            firing.append((ips, where))
    for ips, where in firing:
        suspects = [a for a in ips if a not in trusted] or ips
        if len(suspects) == 1:
            untrusted[suspects[0]].append(where)
    out = []
    for a in sorted(set(trusted) | set(untrusted)):
        status: Literal["trusted", "untrusted", "conflict"] = (
            "conflict" if a in trusted and a in untrusted else ("trusted" if a in trusted else "untrusted")
        )
        out.append(InferredAddress(a, status, trusted.get(a, []), untrusted.get(a, [])))
    return out


# ---------------------------------------------------------------------------
# IMSVA's logged list as ground truth: candidates, what-if, why it fired, the given list checked
# ---------------------------------------------------------------------------

ListBasis = Literal["logged", "recomputed"]


@dataclass(frozen=True)
class ScanList:
    """The addresses that decide a scan's verdict: IMSVA's logged list when the trace has one, else the model's."""

    addresses: tuple[str, ...]
    basis: ListBasis
    #: what IMSVA did (None when the logs do not say)
    fired: bool | None
    #: the domain criterion: passed when IMSVA fired, else the model's check (None = unknown)
    domain_ok: bool | None

    def untrusted(self, trusted: TrustedList) -> list[str]:
        """The addresses ``trusted`` does not cover (an entry that is no address is in neither group)."""
        return [a for a in dict.fromkeys(self.addresses) if is_address(a) and trusted.match(a) is None]

    def verdict(self, trusted: TrustedList | None, shown: Collection[str] = ()) -> str:
        """The verdict this list gives with ``trusted`` (fires | does-not-fire | unknown).

        A :attr:`~imsvalog.trusted.TrustedList.partial` list is the appliance's own plus its entries, so it starts
        from what IMSVA did (:attr:`fired`): an entry added can only make fewer addresses untrusted, so a scan that did
        not fire still does not. Of one that fired, the addresses that may be untrusted are those IMSVA's verdicts on
        other scans do not show in its list (``shown``: :func:`infer_trusted`; all, when they show every one): it
        still fires when no entry covers any of them, does not when the entries cover all, and is unknown otherwise.
        """
        if trusted is None:
            return "unknown"
        untrusted = self.untrusted(trusted)
        if not untrusted:
            return "unknown" if not all(is_address(a) for a in self.addresses) else "does-not-fire"
        if trusted.partial:
            if self.fired is False or self.domain_ok is False:
                return "does-not-fire"
            suspects = self.suspects(shown)
            if self.fired and all(a in untrusted for a in suspects):
                return "fires"
            if not any(a in untrusted for a in suspects) and all(is_address(a) for a in self.addresses):
                return "does-not-fire"
            return "unknown"
        return {True: "fires", False: "does-not-fire", None: "unknown"}[self.domain_ok]

    def suspects(self, shown: Collection[str] = ()) -> list[str]:
        """The addresses that may be untrusted: those not ``shown`` in IMSVA's list (all, when every one is)."""
        addresses = [a for a in dict.fromkeys(self.addresses) if is_address(a)]
        return [a for a in addresses if a not in shown] or addresses


def scan_list(row: Row) -> ScanList | None:
    """The list that decides the row's verdict, and where it comes from (None for an event without trace, and where
    IMSVA logged none and the headers the model reads may not all be in the log)."""
    t, r = row.trace, row.recomputed
    if t is None or r is None:
        return None
    fired = r.observed
    domain_ok = True if fired else r.domain_match
    if t.logged_ips is not None:
        return ScanList(tuple(normalize_ip(a) for a in t.logged_ips), "logged", fired, domain_ok)
    if not r.headers_logged:
        return None  # the headers the model read are not all there: its list is not IMSVA's (unknown, not empty)
    return ScanList(tuple(r.counted), "recomputed", fired, domain_ok)


def missing_trusted_of(rows: Sequence[Row], trusted: TrustedList | None) -> list[MissingTrusted]:
    """Addresses outside ``trusted`` in the scans IMSVA fired on, most frequent first: candidates for the list.

    IMSVA's logged list is used whenever the trace has one; the model's recomputed list only
    where IMSVA logged none (``MissingTrusted.logged`` says how many came from IMSVA's own lines).
    Where the logs do not say whether IMSVA fired, the model's verdict decides.
    """
    if trusted is None:
        return []
    counts: Counter[str] = Counter()
    logged: Counter[str] = Counter()
    for row in rows:
        sl = scan_list(row)
        if sl is None:
            continue
        fired = sl.fired if sl.fired is not None else sl.verdict(trusted) == "fires"
        if fired:
            for a in sl.untrusted(trusted):
                counts[a] += 1
                logged[a] += sl.basis == "logged"
    return [
        MissingTrusted(a, n, *public_warning(a), logged=logged[a])
        for a, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def doubted_outside_of(rows: Sequence[Row], trusted: TrustedList | None) -> list[DoubtedVerdict]:
    """The scans :func:`missing_trusted_of` leaves out that have addresses outside ``trusted`` (``addresses``: those):
    IMSVA's verdict is in doubt (a 'Not triggered' trace that the spoof policy event linked to it contradicts), so
    whether it fired on them is not known. IMSVA's logged list where the trace has one, else the model's."""
    if trusted is None:
        return []
    out = []
    for row in rows:
        sl = scan_list(row)
        t = row.trace
        if sl is None or t is None or row.recomputed is None or row.recomputed.observed_doubt is None:
            continue
        outside = sl.untrusted(trusted)
        if outside:
            name = row.internal_id or (row.session.thread if row.session else "?")
            ref = f" ({t.verdict_ref})" if t.verdict_ref else ""
            out.append(DoubtedVerdict(f"{name} at {t.time.isoformat(sep=' ')}{ref}", tuple(outside)))
    return out


def what_if_of(
    rows: Sequence[Row],
    messages: Sequence[MessageInput],
    before: tuple[TrustedList | None, str | Profile],
    after: tuple[TrustedList | None, str | Profile],
    every: bool = False,
) -> list[VerdictChange]:
    """Verdicts that change from ``before`` to ``after`` (trusted list, profile), and why (``every=True``: one entry
    per trace, its ``before`` the same as its ``after`` where nothing changes; a doubted one's ``before`` and
    ``after`` then both ``in-doubt`` where the new list cannot change it).

    When only the list changes, a scan with IMSVA's logged list starts from what IMSVA did and is
    judged on IMSVA's list (basis ``logged``); otherwise, and where IMSVA logged no list, the model
    re-runs (basis ``recomputed``). ``messages`` are the rows' traces as model inputs, in row order.

    A 'Not triggered' verdict that the spoof policy event linked to the same scan contradicts (a ``trace-vs-event``
    finding) is in doubt, not "did not fire": such a scan starts from ``in-doubt`` and is listed with what the new list
    gives wherever the new list leaves other addresses of it open than the old one did (an entry that covers none of
    them, or only ones IMSVA's verdicts show in its list, changes nothing: it stays in doubt, unlisted); a recomputed
    change of it says the doubt.

    An ``after`` list that is :attr:`~imsvalog.trusted.TrustedList.partial` (the appliance's own list, not given, plus
    entries) with no ``before`` list starts every scan from what IMSVA did, on IMSVA's logged list or else the
    model's (:meth:`ScanList.verdict`, with the addresses IMSVA's verdicts on other scans show in its list): a verdict
    changes only where the added entries decide it.
    """
    changes: list[VerdictChange] = []
    traced = [r for r in rows if r.trace is not None]
    same_profile = get_profile(before[1]).name == get_profile(after[1]).name
    # the appliance's own list plus some entries (--also-trust without --trusted): before is that list, not known
    partial = after[0] is not None and after[0].partial
    if partial and before[0] is None:
        before = (TrustedList(partial=True), before[1])
    shown = {i.address for i in infer_trusted(rows) if i.status == "trusted"} if partial else set()
    for row, msg in zip(traced, messages, strict=True):
        sl = scan_list(row)
        doubt = row.recomputed is not None and row.recomputed.observed_doubt is not None
        if same_profile and sl is not None and (sl.basis == "logged" or partial):
            counted = (f"{_addrs(sl.addresses)} counted" if sl.basis == "logged"
                       else f"no list logged; the model counts {_addrs(sl.addresses)}")
            if doubt:
                if before[0] is not None and after[0] is not None and _open(sl, before[0], shown) == _open(
                        sl, after[0], shown):
                    # the new list leaves the same of its addresses untrusted: it stays in doubt, unchanged
                    if every:
                        changes.append(VerdictChange(msg.name, IN_DOUBT, IN_DOUBT, "", sl.basis))
                    continue
                b, said = IN_DOUBT, f"IMSVA's verdict is in doubt ({DOUBT_WORDS}), with"
                sl = replace(sl, fired=None)  # what IMSVA did is not known
            else:
                b = {True: "fires", False: "does-not-fire", None: sl.verdict(before[0], shown)}[sl.fired]
                said = "IMSVA " + {True: "fired", False: "did not fire", None: "logged"}[sl.fired] + " with"
            if sl.basis != "logged":
                said = said.removesuffix(" with").replace("IMSVA logged", "what IMSVA did is not known") + ";"
            a = sl.verdict(after[0], shown)
            if a == b:
                if every:
                    changes.append(VerdictChange(msg.name, b, a, "", sl.basis))
                continue
            u_after = sl.untrusted(after[0]) if after[0] is not None else []
            if partial:
                covered = [x for x in dict.fromkeys(sl.addresses) if x not in u_after and is_address(x)]
                why = f"{said} {counted}; IMSVA's own list (not given) plus the added entries, which cover {_addrs(covered)}"
                suspects = sl.suspects(shown)
                seen = [x for x in u_after if x not in suspects]
                if seen:  # what the verdict rests on besides the entries
                    why += f"; IMSVA's verdicts on other scans show {_addrs(seen)} in its list"
                if a == "unknown" and (left := [x for x in u_after if x in suspects]):
                    why += f"; whether IMSVA's list held {_addrs(left)} for this scan is not known"
            else:
                why = f"{said} {counted}; untrusted with the new list: {_addrs(u_after)}"
            changes.append(VerdictChange(msg.name, b, a, why, sl.basis))
        else:
            changes.extend(replace(c, why=f"{c.why}; the model's verdicts: IMSVA's own is in doubt ({DOUBT_WORDS})")
                           if doubt else c for c in spoof_what_if([msg], before, after, every))
    return changes


def _open(sl: ScanList, trusted: TrustedList, shown: Collection[str]) -> list[str]:
    """The scan's addresses that may be untrusted with ``trusted`` (of a partial list: those its entries do not cover
    and IMSVA's verdicts on other scans do not show in its list): two lists that leave the same open give one verdict."""
    suspects = sl.suspects(shown) if trusted.partial else sl.addresses
    return [a for a in sl.untrusted(trusted) if a in suspects]


#: a what-if's verdict before the change where IMSVA's own verdict is in doubt (a ``trace-vs-event`` finding)
IN_DOUBT = "in-doubt"
#: why, in a what-if's words
DOUBT_WORDS = "its trace says 'Not triggered', the spoof policy event linked to it says the mail was handled as spoofed"


def _addrs(items: Sequence[str]) -> str:
    return ", ".join(items) if items else "none"


CheckKind = Literal["contradicted", "lacking"]


@dataclass(frozen=True)
class ListCheck:
    """An entry of the given trusted list that IMSVA's verdicts contradict, or an address the list lacks."""

    kind: CheckKind
    address: str
    entry: str | None
    evidence: tuple[str, ...]
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "address": self.address, "entry": self.entry, "evidence": list(self.evidence),
                "text": self.text}


def check_trusted(inferred: Sequence[InferredAddress], trusted: TrustedList | None) -> list[ListCheck]:
    """The given trusted list against what IMSVA's own verdicts reveal (:func:`infer_trusted`).

    * an address IMSVA fired on as the only untrusted one, which the given list trusts: the entry is
      contradicted (the appliance's list did not have it when the mail was scanned);
    * an address IMSVA evidently trusted (it logged ``All sender IP in Trusted Internal IP List``),
      which the given list lacks.
    """
    if trusted is None:
        return []
    out: list[ListCheck] = []
    for i in inferred:
        if not is_address(i.address):
            continue  # a token IMSVA listed that is no address: whether a list covers it is unknown
        entry = trusted.match(i.address)
        shown = f"{entry.text} ({entry.origin})" if entry is not None else None
        if i.untrusted_evidence and entry is not None:
            out.append(ListCheck(
                "contradicted", i.address, shown, tuple(i.untrusted_evidence),
                f"your list has {shown}, which covers {i.address}, but the appliance's list evidently did not when "
                f"this mail was scanned: IMSVA fired with {i.address} its only untrusted address "
                f"({'; '.join(i.untrusted_evidence)})",
            ))
        if i.trusted_evidence and entry is None:
            out.append(ListCheck(
                "lacking", i.address, None, tuple(i.trusted_evidence),
                f"your list lacks {i.address}, but the appliance evidently trusted it: IMSVA found every address in "
                f"its list ({'; '.join(i.trusted_evidence)})",
            ))
    return out
