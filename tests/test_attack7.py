"""Regressions from the hostile tester's report on issue 7 (attack7-report.md), one test per item."""

from __future__ import annotations

from imsvalog.trusted import TrustedList


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
