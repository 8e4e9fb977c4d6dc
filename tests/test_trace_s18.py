"""Attack s18 on trace: a queue ID glued to 'for' by a fold whose whitespace vanished (S18-3), a cut session
that holds the thread's previous message (S18-1), a queue ID reused days later (S18-2). trace takes a scan and
an event as correlate reads and links them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.correlation import correlate
from imsvalog.grammars.received import parse_received
from imsvalog.timeline import trace

from .conftest import FIXTURES

KB = FIXTURES / "kb000239719"
IID = "87BDADC9-87B8-3D05-A958-0267A8088406"
NEWEST = "by ie-test057.test.test (Postfix, from userid 0)id DDDFC11FB0C; Tue"


def _fold(folder: Path) -> Path:
    """The KB case with the newest header folded after its queue ID, the fold's whitespace lost."""
    log = (KB / "log.imss.20190430.0001").read_text()
    assert NEWEST in log
    log = log.replace(NEWEST, "from relay.test.test (relay.test.test [192.0.2.9])        by ie-test057.test.test "
                              "(Postfix) with ESMTP id DDDFC11FB0Cfor <test@test.test>; Tue")
    (folder / "log.imss.20190430.0001").write_text(log)
    (folder / "polevt.imss.20190430.0001").write_text((KB / "polevt.imss.20190430.0001").read_text())
    return folder


def test_a_queue_id_glued_to_for_is_read_whole_by_the_received_grammar() -> None:
    h = parse_received("from r (r [192.0.2.9]) by h (Postfix) with ESMTP id DDDFC11FB0Cfor <a@b>; Tue, 30 Apr 2019")
    assert h.queue_ids == ("DDDFC11FB0C",)
    assert parse_received("by h with SMTP id DDDFC11FB0Cforward; Tue").queue_ids == ("DDDFC11FB0Cforward",)
    assert parse_received("by h with ESMTPS id 4XyZ1m2nQpz8abc for <a@b>; Tue").queue_ids == ("4XyZ1m2nQpz8abc",)


def test_trace_finds_the_scan_of_a_queue_id_glued_to_for(tmp_path: Path) -> None:
    t = trace("DDDFC11FB0C", [_fold(tmp_path)])
    assert [ln.stage for ln in t.lines].count("scan") == 10
    assert [ln.stage for ln in t.lines].count("policy") == 1
    assert t.internal_ids == [IID] and t.queue_ids == ["DDDFC11FB0C"]
    assert not any("for" in n and "start" in n and "with it" in n for n in t.notes)
    res = CliRunner().invoke(app, ["trace", "DDDFC11FB0C", str(tmp_path), "-f", "jsonl"])
    assert res.exit_code == 0, res.output
    assert "DDDFC11FB0Cfor" not in res.stderr


def test_correlate_links_the_glued_queue_id_as_trace_does(tmp_path: Path) -> None:
    (row,) = correlate(_fold(tmp_path)).rows
    assert row.link is not None and "queue_id" in row.link.basis
    assert "Postfix queue ID DDDFC11FB0C from Received header 1" in row.link.detail
