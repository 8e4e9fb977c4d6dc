"""trace by a Postfix queue ID: the policy event whose Message-ID holds the queue ID the scan's Received header
names comes in as correlate links it (and says so); a queue ID is matched whole (a prefix is no hit, the longer
IDs are named); a queue ID only an older Received header names is another host's, not listed as the message's."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.timeline import trace

from .conftest import FIXTURES

KB = FIXTURES / "kb000239719"
IID = "87BDADC9-87B8-3D05-A958-0267A8088406"
BASIS = "queue ID DDDFC11FB0C (named by the scan's Received header and held in the Message-ID, as correlate links them)"


def _stages(t) -> list[tuple[str, str, int]]:
    return [(ln.stage, Path(ln.file).name, ln.line) for ln in t.lines]


def test_trace_by_queue_id_shows_the_policy_event_whose_message_id_holds_it() -> None:
    by_qid, by_iid = trace("DDDFC11FB0C", [KB]), trace(IID, [KB])
    assert _stages(by_qid) == _stages(by_iid)  # the same 11 lines either way
    (event,) = [ln for ln in by_qid.lines if ln.stage == "policy"]
    assert (Path(event.file).name, event.line) == ("polevt.imss.20190430.0001", 1)
    assert event.link == BASIS
    assert by_qid.internal_ids == [IID] and by_qid.queue_ids == ["DDDFC11FB0C"]


def test_the_cli_says_the_basis_of_the_event_found_by_queue_id() -> None:
    res = CliRunner().invoke(app, ["trace", "dddfc11fb0c", str(KB), "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    assert f'"link": "{BASIS}"' in res.stdout and '"stage": "policy"' in res.stdout


def test_an_event_whose_message_id_does_not_hold_the_queue_id_is_not_brought_in(tmp_path: Path) -> None:
    (tmp_path / "log.imss.20190430.0001").write_bytes((KB / "log.imss.20190430.0001").read_bytes())
    ev = (KB / "polevt.imss.20190430.0001").read_text()
    # the queue ID only as part of a longer token, and in another field: no evidence
    (tmp_path / "polevt.imss.20190430.0001").write_text(
        ev.replace("<20190430045742.DDDFC11FB0C@", "<20190430045742.DDDFC11FB0CX@").replace("| Test |", "| DDDFC11FB0C |"))
    t = trace("DDDFC11FB0C", [tmp_path])
    assert [ln.stage for ln in t.lines] == ["scan"] * 10
    assert t.internal_ids == []


@pytest.mark.parametrize("prefix", ["DDDFC", "DDDFC11FB0", "dddfc11"])
def test_a_prefix_of_a_queue_id_is_no_match_and_the_longer_id_is_named(prefix: str) -> None:
    t = trace(prefix, [KB])
    assert t.lines == []
    assert "DDDFC11FB0C" not in t.queue_ids
    (note,) = [n for n in t.notes if "matched whole" in n]
    assert "queue ID DDDFC11FB0C starts with it" in note


def test_the_cli_exits_1_for_a_queue_id_prefix_and_says_why() -> None:
    res = CliRunner().invoke(app, ["trace", "DDDFC11FB0", str(KB)])
    assert res.exit_code == 1, res.output
    assert "queue ID DDDFC11FB0C starts with it (a queue ID is matched whole: give it whole)" in res.stderr


def test_a_queue_id_of_an_older_hop_is_that_hosts_not_the_messages() -> None:
    t = trace("A581B13803D", [KB])
    assert [ln.stage for ln in t.lines].count("scan") == 10  # the scan holding that header is still shown
    assert t.queue_ids == ["DDDFC11FB0C"]  # this appliance's queue, named by the newest header
    assert any("A581B13803D is the queue ID of host test-test200.ie.test" in n and "not listed" in n for n in t.notes)
    (scan,) = [n for n in t.notes if n.startswith("scan 1:")]
    assert "of host test-test200.ie.test (in an older Received header: a hop before this appliance)" in scan


def test_the_newest_headers_queue_id_is_the_messages() -> None:
    t = trace("DDDFC11FB0C", [KB])
    assert not any("not listed" in n for n in t.notes)
    assert t.queue_ids == ["DDDFC11FB0C"]
