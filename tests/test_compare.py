"""Comparing the model with IMSVA: unknown stays unknown, lists compared as multisets (issue 7, items 3 and 4)."""

from __future__ import annotations

from imsvalog.correlation.compare import list_findings
from imsvalog.spoof import evaluate
from imsvalog.trusted import TrustedList

from .test_correlate import _pe, _write_case

H = "from relay{n}.example.net (relay{n}.example.net [{ip}]) by imsva.example.com (Postfix) with ESMTP id Q{n}Q{n}Q{n}"


def test_a_recipient_without_domain_is_unknown_never_different() -> None:
    r = evaluate([H.format(n=1, ip="203.0.113.5")], "alice@example.com", ["postmaster"], TrustedList.parse(["192.0.2.1"]))
    assert r.domains[0].recipients[0].match is None
    assert r.domain_match is None and r.verdict == "unknown"
    assert "postmaster (no domain: unknown)" in r.explanation
    assert "different domain" not in r.explanation
    # with another recipient of a different domain, the unknown one still keeps the answer open
    r2 = evaluate([H.format(n=1, ip="203.0.113.5")], "alice@example.com", ["postmaster", "bob@other.org"])
    assert r2.domain_match is None
    # one known match settles it
    r3 = evaluate([H.format(n=1, ip="203.0.113.5")], "alice@example.com", ["postmaster", "bob@example.com"])
    assert r3.domain_match is True


def _headers(*ips: str) -> list[str]:
    return [H.format(n=i, ip=ip) for i, ip in enumerate(ips, 1)]


def test_duplicates_are_their_own_finding_not_a_reordering() -> None:
    r = evaluate(_headers("198.51.100.25", "203.0.113.9", "198.51.100.25"), "a@example.com", ["b@example.com"])
    assert r.counted == ["198.51.100.25", "203.0.113.9"]
    got = list_findings(["198.51.100.25", "203.0.113.9", "198.51.100.25"], r, 3)
    assert [f.kind for f in got] == ["count", "duplicates"]
    assert got[1].text.startswith("IMSVA lists 198.51.100.25 twice, the model once: IMSVA counts a repeated address each time")
    assert not any("order" in f.text for f in got)


def test_order_count_and_addresses_are_separate_findings() -> None:
    r = evaluate(_headers("198.51.100.25", "203.0.113.9"), "a@example.com", ["b@example.com"])
    assert [f.kind for f in list_findings(["203.0.113.9", "198.51.100.25"], r, 2)] == ["order"]
    assert list_findings(["198.51.100.25", "203.0.113.9"], r, 2) == []
    kinds = [f.kind for f in list_findings(["198.51.100.25", "192.0.2.7"], r, 2)]
    assert kinds == ["logged-not-counted", "counted-not-logged"]


def test_duplicates_in_a_correlated_trace(tmp_path) -> None:
    p = "2024/03/12 09:00:05 GMT+01:00 [1:2] "
    hdr = "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:"
    log = [
        p + "Running ruleId:12; version:2, numFilters:1, numActions:1",
        *(p + hdr + h for h in _headers("198.51.100.25", "203.0.113.9", "198.51.100.25")),
        p + "[DEBUG]AntiSpoofFilter: Get 3 IP address from received header. 198.51.100.25,203.0.113.9,198.51.100.25,",
        p + "[DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered.",
        p + "Final action 0: QuarantineAction",
        p + "Scan finished for ID-1, scanned 1 times",
    ]
    c = _write_case(tmp_path, log, [_pe("09:00:05", "ID-1")])
    (row,) = c.rows
    assert [f.kind for f in row.findings] == ["count", "duplicates"]
    assert "different order" not in row.explanation and "twice" in row.explanation
    assert c.summary.findings == {"count": 1, "duplicates": 1}
