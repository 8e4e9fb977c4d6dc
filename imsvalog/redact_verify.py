"""``redact --verify``: correlate the original and the redacted copy and compare them row by row."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .redact import Redactor

#: columns of :meth:`imsvalog.correlate.Row.flat` that must be equal as they are
SAME_COLUMNS = (
    "time", "thread", "rule", "actions", "status", "link_basis", "link_confidence", "logged_count",
    "logged_triggered", "recomputed_count", "recomputed_triggered", "agrees", "domain_match",
)


@dataclass
class RowCheck:
    """One correlate row, original against redacted."""

    index: int
    time: str
    internal_id: str | None  # the redacted one (shareable)
    verdict: str
    differences: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not self.differences


@dataclass
class VerifyRun:
    """Correlate under one profile and trusted list, original against redacted."""

    profile: str
    trusted: str
    rows: list[RowCheck] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)  # summary and case-wide findings

    @property
    def same(self) -> bool:
        return not self.differences and all(r.same for r in self.rows)


@dataclass
class VerifyReport:
    runs: list[VerifyRun] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return all(r.same for r in self.runs)

    def lines(self) -> list[str]:
        out = []
        for run in self.runs:
            out.append(f"profile {run.profile}, {run.trusted}: {len(run.rows)} row{'s' if len(run.rows) != 1 else ''}")
            for rc in run.rows:
                state = "identical" if rc.same else "DIFFERENT: " + "; ".join(rc.differences)
                out.append(f"  row {rc.index}: {rc.time} {rc.internal_id or '-'} ({rc.verdict}): {state}")
            for d in run.differences:
                out.append(f"  DIFFERENT: {d}")
        n = sum(len(r.rows) for r in self.runs)
        bad = sum(1 for r in self.runs for rc in r.rows if not rc.same) + sum(len(r.differences) for r in self.runs)
        out.append(
            f"verify: {'PASSED' if self.same else 'FAILED'}: {n} row{'s' if n != 1 else ''} in {len(self.runs)} "
            f"run{'s' if len(self.runs) != 1 else ''} compared; "
            f"{bad} difference{'s' if bad != 1 else ''} (verdicts, counts, link bases, agreement, summary, "
            "IMSVA's own verdicts on its trusted list, candidates for the list)"
        )
        return out


def _norm_ip(text: str) -> str:
    from .spoof import show_ip

    try:
        return show_ip(ipaddress.ip_address(text.strip().strip("[]").removeprefix("IPv6:")))
    except ValueError:
        return text.strip()


def _norm(ips: Sequence[str] | None) -> list[str] | None:
    return None if ips is None else [_norm_ip(x) for x in ips]


def _compare_row(r: Redactor, a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    diffs = [f"{c}: {a[c]!r} -> {b[c]!r}" for c in SAME_COLUMNS if a[c] != b[c]]
    mapped = {
        "internal_id": (r.id_text(a["internal_id"]) if a["internal_id"] else a["internal_id"]),
        "message_id": (r.message_id(a["message_id"]) if a["message_id"] else a["message_id"]),
        "sender": (r.address_field(a["sender"]) if a["sender"] else a["sender"]),
        "recipients": [r.address_field(x) for x in a["recipients"]],
        "subject": (r.free(a["subject"]) if a["subject"] else a["subject"]),
        "logged_ips": None if a["logged_ips"] is None else _norm([r.ip_text(x) for x in a["logged_ips"]]),
        "recomputed_ips": None if a["recomputed_ips"] is None else _norm([r.ip_text(x) for x in a["recomputed_ips"]]),
    }
    got = {**b, "logged_ips": _norm(b["logged_ips"]), "recomputed_ips": _norm(b["recomputed_ips"])}
    for c, want in mapped.items():
        if want != got[c]:
            diffs.append(f"{c}: expected the pseudonym {want!r}, found {got[c]!r}")
    sa = [(s["header"], s["reason"], s["range"]) for s in a["skipped"] or []]
    sb = [(s["header"], s["reason"], s["range"]) for s in b["skipped"] or []]
    if sa != sb:
        diffs.append(f"skipped addresses: {sa!r} -> {sb!r}")
    return diffs


def _compare_calibration(r: Redactor, a: Any, b: Any) -> list[str]:
    """``--profile auto``: the same variant chosen, the same scores, the same failing traces (pseudonymised)."""
    if a is None and b is None:
        return []
    if a is None or b is None:
        return [f"calibration: {'none' if a is None else 'made'} -> {'none' if b is None else 'made'}"]
    da, db = a.to_dict(), b.to_dict()
    diffs = [f"calibration {k}: {da.get(k)!r} -> {db.get(k)!r}"
             for k in ("chosen", "chosen_switches", "weak", "tied", "traces_with_logged_list") if da.get(k) != db.get(k)]
    score = lambda t: {k: v for k, v in t.items() if k != "failing"}  # noqa: E731
    if [score(t) for t in da.get("table", [])] != [score(t) for t in db.get("table", [])]:
        diffs.append("calibration table: the variants' scores differ")
    fa = [[_norm([r.ip_text(x) for x in f.get("logged", [])]), _norm([r.ip_text(x) for x in f.get("model", [])])]
          for f in da.get("failing", [])]
    fb = [[_norm(f.get("logged", [])), _norm(f.get("model", []))] for f in db.get("failing", [])]
    if fa != fb:
        diffs.append(f"calibration failing traces: {fa!r} -> {fb!r}")
    return diffs


def _verdict(row: dict[str, Any]) -> str:
    v = {True: "fires", False: "does not fire", None: "unknown"}[row["recomputed_triggered"]]
    return f"{row['status']}, {v}, agrees {row['agrees']}"


def verify(
    original: Sequence[str | os.PathLike[str]],
    redacted: Sequence[str | os.PathLike[str]],
    redactor: Redactor,
    trusted: tuple[Any, Any] | None = None,
    profiles: Sequence[str] | None = None,
) -> VerifyReport:
    """Correlate ``original`` and ``redacted`` under every profile (and with ``trusted`` =
    (original list, redacted list) when given) and compare them row by row."""
    from . import spoof
    from .correlation import correlate

    report = VerifyReport()
    lists: list[tuple[str, Any, Any]] = [("no trusted list", None, None)]
    if trusted is not None:
        lists.append(("with the trusted list", trusted[0], trusted[1]))
    if profiles is None:
        # every named profile, and the calibration over every variant where the model has one
        profiles = list(spoof.PROFILES) + (["auto"] if hasattr(spoof, "variants") else [])
    for name in profiles:
        for label, ta, tb in lists:
            ca = correlate(list(original), trusted=ta, profile=name)
            cb = correlate(list(redacted), trusted=tb, profile=name)
            run = VerifyRun(name, label)
            report.runs.append(run)
            compare(ca, cb, redactor, run)
    return report


def compare(ca: Any, cb: Any, redactor: Redactor, run: VerifyRun) -> None:
    """Compare a correlation of the original (``ca``) with one of the redacted copy (``cb``): the rows
    and the differences go into ``run``."""
    sa, sb = ca.summary.to_dict(), cb.summary.to_dict()
    for k in sa:
        if k == "rotation":  # file names, which redaction changes: how many notes (the words would show the names)
            if len(sa[k]) != len(sb.get(k) or []):
                run.differences.append(f"summary rotation: {len(sa[k])} notes on rotated files -> {len(sb.get(k) or [])}")
        elif sa[k] != sb.get(k):
            run.differences.append(f"summary {k}: {sa[k]!r} -> {sb.get(k)!r}")
    fa = [x.flat() for x in ca.rows]
    fb = [x.flat() for x in cb.rows]
    if len(fa) != len(fb):
        run.differences.append(f"number of rows: {len(fa)} -> {len(fb)}")
    fa.sort(key=lambda d: (d["time"], d["thread"] or "", redactor.id_text(d["internal_id"] or "")))
    fb.sort(key=lambda d: (d["time"], d["thread"] or "", d["internal_id"] or ""))
    for i, (a, b) in enumerate(zip(fa, fb, strict=False), 1):
        run.rows.append(RowCheck(i, b["time"].isoformat(sep=" "), b["internal_id"], _verdict(b), _compare_row(redactor, a, b)))
    ia = [(redactor.ip_text(x.address), x.status, len(x.trusted_evidence), len(x.untrusted_evidence)) for x in ca.inferred_trusted()]
    ib = [(x.address, x.status, len(x.trusted_evidence), len(x.untrusted_evidence)) for x in cb.inferred_trusted()]
    if sorted(map(str, ia)) != sorted(map(str, ib)):
        run.differences.append(f"IMSVA's own verdicts on its trusted list: {ia!r} -> {ib!r}")
    run.differences += _compare_calibration(redactor, getattr(ca, "calibration", None), getattr(cb, "calibration", None))
    ma = sorted((redactor.ip_text(x.address), x.count, x.public) for x in ca.missing_trusted())
    mb = sorted((x.address, x.count, x.public) for x in cb.missing_trusted())
    if ma != mb:
        run.differences.append(f"candidates for the trusted list: {ma!r} -> {mb!r}")


def differences(ca: Any, cb: Any, redactor: Redactor) -> list[str]:
    """What differs between a correlation of the original and one of its redacted copy (each row's
    differences prefixed with its number and time); empty when verdicts, counts, links, agreement,
    IMSVA's own verdicts and calibration are the same.  ``correlate --redact`` says so when not."""
    run = VerifyRun("", "")
    compare(ca, cb, redactor, run)
    return run.differences + [f"row {c.index} ({c.time}): {d}" for c in run.rows for d in c.differences]
