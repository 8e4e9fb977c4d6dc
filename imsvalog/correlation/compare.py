"""Comparing the model with IMSVA: the re-run, the findings, and the trusted list read off IMSVA's verdicts."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..spoof import Profile, SpoofResult, evaluate, show_ip
from ..trusted import TrustedList

if TYPE_CHECKING:
    from .result import Row


def _ips_equal(a: Sequence[str], b: Sequence[str]) -> bool:
    return [_norm_ip(x) for x in a] == [_norm_ip(x) for x in b]


def _norm_ip(text: str) -> str:
    try:
        return show_ip(ipaddress.ip_address(text.strip().strip("[]").removeprefix("IPv6:")))
    except ValueError:
        return text.strip()


def recompute(row: Row, trusted: TrustedList | None, profile: str | Profile) -> None:
    t = row.trace
    if t is None:
        return
    e = row.event
    sender = e.sender if e else (row.transaction.sender if row.transaction else None)
    recipients = tuple(e.recipients) if e else ()
    observed = t.triggered if t.triggered is not None else (True if e is not None else None)
    r = evaluate([h.header for h in t.headers], sender, recipients, trusted, profile, observed=observed)
    row.recomputed = r
    logged = t.logged_ips
    if logged is None:
        row.agrees = None
        row.notes.append("the trace has no 'Get N IP address' line to compare with (cut off or other log level)")
        return
    same_list = _ips_equal(logged, r.counted)
    same_count = t.logged_count == len(r.counted)
    row.agrees = same_list and same_count
    if t.logged_count != len(logged):
        row.findings.append(f"IMSVA's own line is inconsistent: it says {t.logged_count} but lists {len(logged)} addresses")
        row.agrees = False
    if not same_list:
        row.findings.extend(_list_differences(logged, r))
    if trusted is not None and r.triggered is not None and t.triggered is not None and r.triggered != t.triggered:
        row.findings.append(
            f"verdict differs: IMSVA {'fired' if t.triggered else 'did not fire'}, the model with the given trusted list "
            f"{'fires' if r.triggered else 'does not fire'}"
        )
        row.agrees = False


def _list_differences(logged: list[str], r: SpoofResult) -> list[str]:
    out = []
    ours = [_norm_ip(x) for x in r.counted]
    theirs = [_norm_ip(x) for x in logged]
    for a in theirs:
        if a in ours:
            continue
        where = _where_seen(a, r)
        out.append(f"IMSVA counted {a}, which the model did not count: {where}")
    for a in ours:
        if a in theirs:
            continue
        out.append(f"the model counted {a}, which IMSVA did not: {_why_counted(a, r)}")
    if not out and theirs != ours:
        out.append(f"same addresses in a different order: IMSVA {', '.join(theirs)}; model {', '.join(ours)}")
    return out


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
