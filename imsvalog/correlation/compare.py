"""Comparing the model with IMSVA: the re-run, the findings, and the trusted list read off IMSVA's verdicts."""

from __future__ import annotations

import ipaddress
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from ..spoof import Profile, SpoofResult, evaluate, show_ip
from ..trusted import TrustedList

if TYPE_CHECKING:
    from .result import Row


FindingKind = Literal[
    "inconsistent-log", "count", "logged-not-counted", "counted-not-logged", "duplicates", "order", "verdict", "domain",
    "trusted-list",
]
#: every kind of finding, in the order they are reported
FINDING_KINDS: tuple[FindingKind, ...] = get_args(FindingKind)
#: the kinds that say the model's address list is not IMSVA's
LIST_KINDS = frozenset({"inconsistent-log", "count", "logged-not-counted", "counted-not-logged", "duplicates", "order"})


@dataclass(frozen=True)
class Finding:
    """One way the model and IMSVA disagree on a scan, in words, with its kind (for counting)."""

    kind: FindingKind
    text: str

    def __str__(self) -> str:
        return self.text

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "text": self.text}


def _norm_ip(text: str) -> str:
    try:
        return show_ip(ipaddress.ip_address(text.strip().strip("[]").removeprefix("IPv6:")))
    except ValueError:
        return text.strip()


def recompute(row: Row, trusted: TrustedList | None, profile: str | Profile) -> None:
    """Re-run the model on the row's trace and record how it compares with what IMSVA logged."""
    t = row.trace
    if t is None:
        return
    e = row.event
    sender = e.sender if e else (row.transaction.sender if row.transaction else None)
    recipients = tuple(e.recipients) if e else ()
    observed = t.triggered if t.triggered is not None else (True if e is not None else None)
    r = evaluate([h.header for h in t.headers], sender, recipients, trusted, profile, observed=observed)
    row.recomputed = r
    findings: list[Finding] = []
    logged = t.logged_ips
    if logged is None:
        row.notes.append("the trace has no 'Get N IP address' line to compare with (cut off or other log level)")
    else:
        if t.logged_count != len(logged):
            findings.append(Finding(
                "inconsistent-log", f"IMSVA's own line is inconsistent: it says {t.logged_count} but lists {len(logged)} addresses"
            ))
        findings += list_findings(logged, r, t.logged_count)
    if observed is True and r.domain_match is False:
        findings.append(Finding(
            "domain",
            "IMSVA fired although no sender domain the model knows matches a recipient's domain: "
            "the documented domain criterion does not hold here",
        ))
    if trusted is not None and r.triggered is not None and t.triggered is not None and r.triggered != t.triggered:
        findings.append(Finding(
            "verdict",
            f"verdict differs: IMSVA {'fired' if t.triggered else 'did not fire'}, the model with the given trusted list "
            f"{'fires' if r.triggered else 'does not fire'}",
        ))
    row.findings = findings
    row.agrees = None if logged is None and not findings else not findings


def list_findings(logged: Sequence[str], r: SpoofResult, logged_count: int | None = None) -> list[Finding]:
    """IMSVA's logged list against the model's, as multisets: count, addresses, duplicates and order are
    separate findings (a repeated address is evidence about how IMSVA counts, never "a different order")."""
    out: list[Finding] = []
    theirs = [_norm_ip(x) for x in logged]
    ours = [_norm_ip(x) for x in r.counted]
    n_theirs = logged_count if logged_count is not None else len(theirs)
    if n_theirs != len(ours):
        out.append(Finding("count", f"IMSVA counted {n_theirs} addresses, the model {len(ours)}"))
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
            if a.address is not None and show_ip(a.address) == addr:
                if h.skip is not None and h.skip.address == addr:
                    return f"header {h.index} has it, skipped as {h.skip.reason} ({h.skip.detail})"
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
    status: str  # trusted | untrusted | conflict
    trusted_evidence: list[str] = field(default_factory=list)
    untrusted_evidence: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def infer_trusted(rows: Sequence[Row]) -> list[InferredAddress]:
    """Read IMSVA's Trusted Internal IP List off its own verdicts, without the administrator's list.

    * ``All sender IP in Trusted Internal IP List`` with a logged list: every listed
      address is trusted.
    * ``Not all sender IP in Trusted Internal IP List`` with one logged address: that
      address is not trusted (with several, the one not shown trusted elsewhere).
    * An address with both kinds of evidence is a ``conflict``: the list changed
      during the span of the logs, or IMSVA's check is not what is documented.
    """
    trusted: dict[str, list[str]] = defaultdict(list)
    untrusted: dict[str, list[str]] = defaultdict(list)
    firing: list[tuple[list[str], str]] = []
    for r in rows:
        t = r.trace
        if t is None or t.ip_list is None or t.verdict is None:
            continue
        ips = [_norm_ip(x) for x in t.ip_list.ips]
        name = r.internal_id or (r.session.thread if r.session else "?")
        where = f"{name} at {t.time.isoformat(sep=' ')} ({t.verdict.source.ref()})"
        text = t.verdict.text.lower()
        if t.triggered is False and "all sender ip in trusted internal ip list" in text and not text.startswith("not all"):
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
        status = "conflict" if a in trusted and a in untrusted else ("trusted" if a in trusted else "untrusted")
        out.append(InferredAddress(a, status, trusted.get(a, []), untrusted.get(a, [])))
    return out
