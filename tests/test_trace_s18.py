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


MSG2 = "11111111-2222-3333-4444-555555555555"


def _second_message(log: str, ev: str, when: str, qid: str, iid: str, day: str | None = None) -> tuple[str, str]:
    """The KB message again at ``when``: another internal ID, another relay queue, the given queue ID."""
    log2 = (log.replace("13:57:43", when).replace("DDDFC11FB0C", qid).replace("A581B13803D", "B7E2C44F01A")
            .replace("1111:2222:3333:444::5555", "2001:db8::77"))
    ev2 = (ev.replace("13:57:43", when).replace("DDDFC11FB0C", qid).replace(IID, iid)
           .replace("\ttest@test\t", "\tother@test\t"))
    if day is not None:
        log2, ev2 = log2.replace("2019/04/30", day), ev2.replace("2019/04/30", day).replace("20190430045742", "20190507001204")
    return log2, ev2


def _twomsg(folder: Path) -> Path:
    """The KB log (no Accept / Scan finished lines) and a second message on the same thread a minute later."""
    log, ev = (KB / "log.imss.20190430.0001").read_text(), (KB / "polevt.imss.20190430.0001").read_text()
    log2, ev2 = _second_message(log, ev, "13:58:10", "CCCCC22222C", MSG2)
    (folder / "log.imss.20190430.0001").write_text(log + log2)
    (folder / "polevt.imss.20190430.0001").write_text(ev + ev2)
    return folder


def _lines(t) -> list[tuple[str, str, int]]:
    return [(ln.stage, Path(ln.file).name, ln.line) for ln in t.lines]


def test_the_newest_header_of_the_messages_own_scan_is_this_appliances_queue(tmp_path: Path) -> None:
    t = trace("CCCCC22222C", [_twomsg(tmp_path)])
    assert _lines(t) == [("scan", "log.imss.20190430.0001", n) for n in range(11, 21)] + [
        ("policy", "polevt.imss.20190430.0001", 2)]
    assert t.queue_ids == ["CCCCC22222C"] and t.internal_ids == [MSG2]
    assert t.message_ids == ["20190430045742.CCCCC22222C@ie-test057.test.test"]
    assert not any("older Received header" in n or "another host" in n for n in t.notes)
    assert any("starts at log.imss.20190430.0001:11, where correlate starts its scan" in n for n in t.notes)
    # the other way round: the first message's queue ID gives the first message only
    t1 = trace("DDDFC11FB0C", [tmp_path])
    assert _lines(t1) == [("scan", "log.imss.20190430.0001", n) for n in range(1, 11)] + [
        ("policy", "polevt.imss.20190430.0001", 1)]
    assert t1.internal_ids == [IID]


def test_trace_by_internal_id_brings_no_other_message_of_the_thread(tmp_path: Path) -> None:
    t = trace(MSG2, [_twomsg(tmp_path)])
    assert _lines(t) == [("scan", "log.imss.20190430.0001", n) for n in range(11, 21)] + [
        ("policy", "polevt.imss.20190430.0001", 2)]
    assert t.internal_ids == [MSG2] and t.queue_ids == ["CCCCC22222C"]
    res = CliRunner().invoke(app, ["trace", MSG2, str(tmp_path), "-f", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["internal_ids"] == [MSG2] and "DDDFC11FB0C" not in res.stdout


def _reuse(folder: Path) -> Path:
    """The KB message on 04-30 and another on 05-07 whose newest header names the same queue ID DDDFC11FB0C."""
    log, ev = (KB / "log.imss.20190430.0001").read_text(), (KB / "polevt.imss.20190430.0001").read_text()
    log2, ev2 = _second_message(log, ev, "09:12:05", "DDDFC11FB0C", MSG2, day="2019/05/07")
    (folder / "log.imss.20190430.0001").write_text(log)
    (folder / "polevt.imss.20190430.0001").write_text(ev)
    (folder / "log.imss.20190507.0001").write_text(log2)
    (folder / "polevt.imss.20190507.0001").write_text(ev2)
    return folder


def test_a_queue_id_reused_a_week_later_brings_in_only_what_correlate_links(tmp_path: Path) -> None:
    _reuse(tmp_path)
    rows = {r.event.internal_id: r for r in correlate(tmp_path).rows}
    assert rows[MSG2].trace is not None and rows[MSG2].trace.time.day == 7  # correlate pairs each with its own day
    t = trace(IID, [tmp_path])
    assert _lines(t) == [("scan", "log.imss.20190430.0001", n) for n in range(1, 11)] + [
        ("policy", "polevt.imss.20190430.0001", 1)]
    assert t.internal_ids == [IID] and t.message_ids == ["20190430045742.DDDFC11FB0C@ie-test057.test.test"]
    assert any(n.startswith("the scan at log.imss.20190507.0001:1 names a queue ID a Message-ID of the message holds, "
                            f"but correlate links it to policy event {MSG2}") for n in t.notes)
    assert any(n.startswith(f"policy event {MSG2} (") and "correlate links it to the scan at log.imss.20190507.0001:1"
               in n for n in t.notes)
    t2 = trace(MSG2, [tmp_path])
    assert _lines(t2) == [("scan", "log.imss.20190507.0001", n) for n in range(1, 11)] + [
        ("policy", "polevt.imss.20190507.0001", 1)]
