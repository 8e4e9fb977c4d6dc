"""log.imss grammar: every body shape against its sample lines, and the fast path against the grammar."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from imsvalog.grammars import imss
from imsvalog.grammars.common import ParseFailure
from imsvalog.records import ImssGeneric, Location
from imsvalog.sources import LogFile, iter_lines, kind_from_name

from .conftest import KB, LOG_FIXTURES

SAMPLES = [(v.name, s) for v in imss.VARIANTS for s in v.samples] + [("generic", s) for s in imss.GENERIC_SAMPLES]


@pytest.mark.parametrize(("variant", "sample"), SAMPLES, ids=[f"{v}-{i}" for i, (v, _) in enumerate(SAMPLES)])
def test_sample_parses_to_its_fields(variant: str, sample: imss.Sample) -> None:
    cls, fields = imss.parse(sample.line)
    assert cls.shape == variant
    for key, want in sample.expect.items():
        assert fields[key] == want, key


def test_every_variant_has_a_sample() -> None:
    assert all(v.samples for v in imss.VARIANTS)
    assert imss.GENERIC_SAMPLES


@pytest.mark.parametrize(("variant", "sample"), SAMPLES)
def test_no_sample_matches_two_variants(variant: str, sample: imss.Sample) -> None:
    _, fields = imss.parse_full(sample.line)
    matches = [v.name for v, _ in imss.matching_variants(fields["component"], fields["body"])]
    assert matches == ([] if variant == "generic" else [variant])


def _fixture_lines() -> list[str]:
    out = []
    for p in LOG_FIXTURES:
        named = kind_from_name(p.name)
        if named and named[0] == "imss":
            out += [t for _, t in iter_lines(LogFile(p, "imss"))]
    return out


@pytest.mark.parametrize("line", [s.line for _, s in SAMPLES] + _fixture_lines())
def test_fast_path_agrees_with_full_grammar(line: str) -> None:
    """The readers' regex fast path and the pyparsing LINE grammar give the same record."""
    try:
        fast = imss.parse(line)
    except ParseFailure as exc:
        with pytest.raises(ParseFailure) as full_exc:
            imss.parse_full(line)
        assert full_exc.value.reason == exc.reason
        return
    assert imss.parse_full(line) == fast


def test_kb_example_field_by_field() -> None:
    lines = [t for _, t in iter_lines(LogFile(KB / "log.imss.20190430.0001", "imss"))]
    parsed = [imss.parse(t) for t in lines]
    shapes = [cls.shape for cls, _ in parsed]
    assert shapes == [
        "rule_run", "received_header", "received_header", "matched_address", "ip_list", "spoof_verdict",
        "generic", "filter_result", "rule_executed", "final_action",
    ]
    jst = timezone(timedelta(hours=9))
    for _, f in parsed:
        assert f["time"].isoformat() == "2019-04-30T13:57:43+09:00"
        assert f["time"].tzinfo == jst
        assert (f["pid"], f["tid"]) == (28639, 4098483968)
    rule = parsed[0][1]
    assert (rule["rule_id"], rule["rule_version"], rule["num_filters"], rule["num_actions"]) == (12, 2, 1, 1)
    h1, h2 = parsed[1][1], parsed[2][1]
    assert h1["header"].startswith("by ie-test057.test.test (Postfix, from userid 0)id DDDFC11FB0C;")
    assert "(unknown [1111:2222:3333:444::5555])        by test-test200" in h2["header"]
    assert h1["method"] == "parseSendIPFromOneRecvHeader" and h1["level"] == "DEBUG"
    assert parsed[3][1]["address"] == "1111:2222:3333:444::5555"
    assert parsed[4][1]["count"] == 1 and parsed[4][1]["ips"] == ("1111:2222:3333:444::5555",)
    assert parsed[5][1]["level"] == "DIAGNOSTIC" and parsed[5][1]["triggered"] is True
    assert parsed[6][1]["body"] == "in convertUnicodeToString, source.length = 46"
    fr = parsed[7][1]
    assert fr["filter_name"] == "AntiSpoofFilter" and fr["result"] is True
    assert fr["location"] == Location(
        "/home/autobuild/IMSx-TW_9.1/Application/src/daemon/src/TmIsScan.cpp", "TmIsScan::_ruleIsTriggered", 4260
    )
    assert (parsed[8][1]["rule_id"], parsed[8][1]["rule_version"]) == (12, 2)
    assert (parsed[9][1]["index"], parsed[9][1]["action"]) == (0, "QuarantineAction")


@pytest.mark.parametrize(
    ("line", "reason_part"),
    [
        ("hello world", "expected date YYYY/MM/DD at column 1"),
        ("2019/04/30 13:57 GMT+09:00 [1:2] x", "matched date YYYY/MM/DD, then expected time HH:MM:SS"),
        ("2019/04/30 13:57:43 JST [1:2] x", "then expected offset GMT+HH:MM at column 20"),
        ("2019/04/30 13:57:43 GMT+09:00 [1-2] x", "then expected [pid:tid]"),
    ],
)
def test_bad_prefix_says_how_far_it_matched(line: str, reason_part: str) -> None:
    with pytest.raises(ParseFailure) as exc:
        imss.parse(line)
    assert reason_part in exc.value.reason


def test_offsets_keep_their_sign_and_tabs_separate() -> None:
    """dateutil would read GMT+09:00 as UTC-9; we must not."""
    _, f = imss.parse("2024/01/02\t03:04:05\tGMT-05:00\t[1:2]\tFinal action 1: DeleteAction")
    assert f["time"].utcoffset() == timedelta(hours=-5)
    assert f["index"] == 1 and f["action"] == "DeleteAction"


def test_unknown_body_is_generic_and_keeps_text() -> None:
    cls, f = imss.parse("2024/01/02 03:04:05 GMT+00:00 [1:2] [WARNING]SomeNewThing::doIt: text with [brackets] kept")
    assert cls is ImssGeneric
    assert (f["level"], f["component"], f["method"]) == ("WARNING", "SomeNewThing", "doIt")
    assert f["body"] == "text with [brackets] kept"


def test_a_known_prefix_with_an_unknown_tail_stays_generic() -> None:
    """A truncated rule-run line must not be half-parsed into wrong numbers."""
    cls, f = imss.parse("2024/01/02 03:04:05 GMT+00:00 [1:2] Running ruleId:12; vers")
    assert cls is ImssGeneric and f["body"] == "Running ruleId:12; vers"


@pytest.mark.parametrize("tail", ["\x1f", "\x1c", "\x0b", "\x0c", "\x85", "\u2028", "\u3000"])
def test_only_pyparsings_whitespace_may_follow_a_shape(tail: str) -> None:
    """Python's str.strip() takes more than pyparsing's default whitespace (space, tab, CR, LF):
    a body that ends in another space-like character is a generic line on both paths (found by
    hypothesis: ``Scan finished for 0\\x1f`` was a scan end on the fast path, generic in the grammar)."""
    line = f"2024/03/12 09:15:02 GMT+01:00 [4242:139871] Scan finished for 0{tail}"
    assert imss.parse_full(line)[0].__name__ == "ImssGeneric"
    assert imss.parse(line) == imss.parse_full(line)
