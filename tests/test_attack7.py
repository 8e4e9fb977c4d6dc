"""Regressions from the hostile tester's report on issue 7 (attack7-report.md), one test per item."""

from __future__ import annotations

from imsvalog.correlation import correlate
from imsvalog.trusted import TrustedList

from .test_correlate import _pe


def test_item8_ipv4_mapped_matched_both_ways() -> None:
    """Item 8. False output before: --trusted ::ffff:198.51.100.0/120 did not cover the logged
    198.51.100.25 ("your list lacks 198.51.100.25")."""
    mapped = TrustedList.parse(["::ffff:198.51.100.0/120"])
    assert mapped.match("198.51.100.25") is not None
    assert mapped.match("198.51.101.25") is None
    assert mapped.match("::ffff:198.51.100.25") is not None
    plain = TrustedList.parse(["198.51.100.0/24"])
    assert plain.match("::ffff:198.51.100.25") is not None
    assert TrustedList.parse(["::ffff:198.51.100.25"]).match("198.51.100.25") is not None


def test_item3_ipv6_zone_id_compared_without_the_zone(tmp_path) -> None:
    """Item 3. False output before: "IMSVA counted fe80::1%eth0 ... it is in none of the recovered headers ...
    the model counted fe80::1, which IMSVA did not ... IMSVA apparently skips it (undocumented)"."""
    p = "2024/03/15 10:00:05 GMT+01:00 [9:1] "
    (tmp_path / "log.imss.20240315.0001").write_text("".join(x + "\n" for x in [
        p + "Info: Accept connection from client [127.0.0.1]",
        p + "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:from r.example.net "
        "(r.example.net [fe80::1%eth0]) by imsva.example.com (Postfix) with ESMTP id AAAA111111; "
        "Fri, 15 Mar 2024 10:00:04 +0100",
        p + "[DEBUG]AntiSpoofFilter: Get 1 IP address from received header. fe80::1%eth0,",
        p + "[DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered.",
        p + "Final action 0: QuarantineAction",
        p + "Scan finished for E1-0001, scanned 1 times",
    ]))
    (tmp_path / "polevt.imss.20240315.0001").write_text(
        _pe("10:00:05", "E1-0001").replace("2024/03/12", "2024/03/15") + "\n")
    c = correlate(tmp_path)
    (row,) = [r for r in c.rows if r.status == "linked"]
    assert row.agrees is True, row.explanation
    assert "apparently skips" not in row.explanation and "none of the recovered headers" not in row.explanation


def test_item7_idn_domains_compared_in_idna_form() -> None:
    """Item 7. False output before: sender a@exämple.com, recipient b@xn--exmple-cua.com -> "different domain",
    "The model's verdict: does not fire"."""
    from imsvalog.spoof import check_domains

    (rd,) = check_domains("envelope", "a@exämple.com", ["b@xn--exmple-cua.com"]).recipients
    assert rd.match is True
    (rd,) = check_domains("envelope", "a@exämple.com", ["b@example.com"]).recipients
    assert rd.match is False


def test_item5_explanation_names_the_order_the_variant_reads() -> None:
    """Item 5. False output before: "Received headers, newest first, as IMSVA reads them
    (documented+order=oldest-first profile):" followed by header 2, then header 1."""
    from dataclasses import replace

    from imsvalog.spoof import DOCUMENTED, evaluate, explain

    received = [
        "from a.example.net (a.example.net [203.0.113.1]) by imsva.example.com (Postfix) with ESMTP id AAAA111111",
        "from b.example.net (b.example.net [203.0.113.2]) by a.example.net (Postfix) with ESMTP id BBBB222222",
    ]
    oldest = explain(evaluate(received, profile=replace(DOCUMENTED, order="oldest-first")))
    assert "Received headers, oldest first, as IMSVA reads them" in oldest
    assert "newest first" not in oldest
    assert "Received headers, newest first" in explain(evaluate(received))
