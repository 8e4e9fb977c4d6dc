"""The trusted-list section (what IMSVA's own verdicts say about its Trusted Internal IP List): a count and the scans
named agree, and a 'Not triggered' verdict that IMSVA's own policy event contradicts (a trace-vs-event finding) is
no evidence of the list (attack s22f)."""

from __future__ import annotations

import io
import json
import shutil

import pytest

from imsvalog.correlation import correlate
from imsvalog.render import render_correlation

from .conftest import FIXTURES

BUSY = FIXTURES / "busy-day"
NOT_FIRED = "All sender IP in Trusted Internal IP List. Not triggered."
FIRED = "Not all sender IP in Trusted Internal IP List. Triggered."


def _trace(t: str, th: str, verdict: str) -> list[str]:
    p = f"2024/03/12 {t} GMT+01:00 [1:{th}] "
    return [
        p + "Info: Accept connection from client [127.0.0.1]",
        p + "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:"
            "from a (a [198.51.100.9]) by b with ESMTP id QQQQQQ" + th,
        p + "[DEBUG]AntiSpoofFilter: Get 1 IP address from received header. 198.51.100.9,",
        p + f"[DIAGNOSTIC]AntiSpoofFilter: {verdict}",
    ]


def _case(tmp_path, verdicts: list[str]):
    lines = [x for i, v in enumerate(verdicts) for x in _trace(f"09:0{i}:00", str(i + 1), v)]
    (tmp_path / "log.imss.20240312.0001").write_text("".join(x + "\n" for x in lines))
    (tmp_path / "polevt.imss.20240312.0001").write_text("")
    return correlate(tmp_path)


def _table(c) -> str:
    out = io.StringIO()
    render_correlation(c, c.rows, "table", out)
    return out.getvalue()


def _markdown(c) -> str:
    out = io.StringIO()
    render_correlation(c, c.rows, "markdown", out)
    return out.getvalue()


@pytest.mark.parametrize("n", [2, 3])
def test_every_scan_counted_is_named(tmp_path, n) -> None:
    """Was '198.51.100.25: in the list (2 scans not fired: <one ID>)': a count of 2 and one scan named."""
    c = _case(tmp_path, [NOT_FIRED] * n)
    text = " ".join(_table(c).split())
    assert f"198.51.100.9: in the list ({n} scans not fired: 1:1 at 2024-03-12 09:00:00+01:00" in text
    for i in range(n):
        assert f"1:{i + 1} at 2024-03-12 09:0{i}:00+01:00" in text


def test_past_three_scans_the_words_say_which_are_named(tmp_path) -> None:
    c = _case(tmp_path, [FIRED] * 5)
    text = " ".join(_table(c).split())
    assert "198.51.100.9: NOT in the list (5 scans fired on it, the first 3: 1:1 at" in text
    assert "1:3 at 2024-03-12 09:02:00" in text and "1:4 at" not in text


def test_conflict_names_the_count_of_each_side(tmp_path) -> None:
    c = _case(tmp_path, [NOT_FIRED, NOT_FIRED, FIRED])
    text = " ".join(_table(c).split())
    assert "198.51.100.9: CONFLICT: trusted in 2 scans not fired: 1:1 at" in text
    assert "untrusted in 1 scan fired on it: 1:3 at 2024-03-12 09:02:00" in text


@pytest.fixture(scope="module")
def contradicted_dir(tmp_path_factory):
    """busy-day with the 09:15:01 trace saying 'Not triggered' while its policy event (linked by internal ID and
    queue ID) says the mail was quarantined as spoofed: IMSVA's own lines disagree."""
    d = tmp_path_factory.mktemp("tv")
    for f in BUSY.iterdir():
        shutil.copy(f, d / f.name)
    log = d / "log.imss.20240312.0001"
    text = log.read_text()
    line = "2024/03/12 09:15:01 GMT+01:00 [4242:139871] [DIAGNOSTIC]AntiSpoofFilter: " + FIRED
    assert line in text
    log.write_text(text.replace(line, line.replace(FIRED, NOT_FIRED)))
    return d


@pytest.fixture(scope="module")
def contradicted(contradicted_dir):
    return correlate(contradicted_dir)


def test_a_verdict_its_own_policy_event_contradicts_is_no_evidence_of_the_list(contradicted) -> None:
    c = contradicted
    (row,) = [r for r in c.rows if r.internal_id and r.internal_id.startswith("5E1C0F7A")]
    assert [f.kind for f in row.findings] == ["trace-vs-event"]
    got = {i.address: i for i in c.inferred_trusted()}
    # 203.0.113.45 was 'in the list' on that verdict alone; 198.51.100.25 keeps the one scan that is not in doubt
    assert "203.0.113.45" not in got
    assert got["198.51.100.25"].status == "trusted"
    assert [e.split(" at ")[0] for e in got["198.51.100.25"].trusted_evidence] == ["9D8C7B6A-5F4E-4D3C-8B2A-1F0E9D8C7B6A"]
    (doubt,) = c.doubted_verdicts()
    assert doubt.scan.startswith("5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C at 2024-03-12 09:15:01+01:00")
    assert doubt.addresses == ("198.51.100.25", "203.0.113.45")


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_the_section_says_what_it_left_out(contradicted, fmt) -> None:
    text = " ".join((_table if fmt == "table" else _markdown)(contradicted).split())
    assert "198.51.100.25: in the list (1 scan not fired: 9D8C7B6A" in text
    assert "203.0.113.45: in the list" not in text
    assert ("left out: 1 scan whose 'Not triggered' verdict the spoof policy event linked to it contradicts "
            "(IMSVA's own lines disagree: see the findings)") in text
    assert "5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C at 2024-03-12 09:15:01+01:00" in text.split("left out:")[1]


def test_json_carries_what_was_left_out(contradicted) -> None:
    out = io.StringIO()
    render_correlation(contradicted, contradicted.rows, "json", out)
    doc = json.loads(out.getvalue())
    assert [i["address"] for i in doc["inferred_trusted_list"] if i["status"] == "trusted"] == ["198.51.100.25"]
    (left,) = doc["inferred_trusted_left_out"]
    assert left["addresses"] == ["198.51.100.25", "203.0.113.45"] and left["why"] == "trace-vs-event"


def test_a_linked_verdict_not_contradicted_still_counts() -> None:
    c = correlate(BUSY)
    assert c.doubted_verdicts() == []
    assert {i.address: i.status for i in c.inferred_trusted()}["198.51.100.25"] == "trusted"



def test_a_doubted_verdict_is_not_compared_with_the_model_nor_read_as_the_list(contradicted_dir) -> None:
    """Attack s23c, 4: with a trusted list lacking 203.0.113.45 the section left the doubted 'Not triggered' verdict
    out, yet its findings said 'verdict differs: IMSVA did not fire, the model ... fires' and 'IMSVA found every
    address it logged in its list, but your trusted list lacks 203.0.113.45' (a disagreement with the model drawn
    from a verdict IMSVA's own lines contradict), and the explanation 'the appliance's list evidently held' it."""
    from imsvalog.trusted import TrustedList

    c = correlate(contradicted_dir, trusted=TrustedList.parse(["198.51.100.25"]))
    (row,) = [r for r in c.rows if r.internal_id and r.internal_id.startswith("5E1C0F7A")]
    assert row.recomputed.verdict == "fires"
    assert [f.kind for f in row.findings] == ["trace-vs-event"]
    assert "so its verdict is in doubt: it is not compared with the model's (with the given trusted list the model " \
        "fires, as the policy event says)" in row.findings[0].text
    said = row.explanation
    assert "evidently held" not in said and "CONTRADICTION" not in said
    assert "IN DOUBT: This trace says its filter did not fire, yet the spoof policy event linked to it says" in said
    assert row.recomputed.to_dict()["observed_contradiction"] is None
    assert not [k for k in c.check_trusted() if k.address == "203.0.113.45"]


def test_without_a_list_the_explanation_does_not_read_the_doubted_verdict_as_the_list(contradicted) -> None:
    """Attack s23c, 4 (h23c): the row's explanation said 'IMSVA did not fire: if it counted as the model does, each
    of 198.51.100.25, 203.0.113.45 is in its Trusted Internal IP List' for the doubted verdict."""
    (row,) = [r for r in contradicted.rows if r.internal_id and r.internal_id.startswith("5E1C0F7A")]
    said = row.explanation
    assert "is in its Trusted Internal IP List" not in said
    assert ("IMSVA's verdict is in doubt: this trace says its filter did not fire, yet the spoof policy event linked "
            "to it says the mail was handled as spoofed (IMSVA's own lines disagree), so this scan does not tell its "
            "list.") in " ".join(said.split())
