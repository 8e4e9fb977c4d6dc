"""trace finds the scan correlate links by a Postfix queue ID that a Received header names and the policy
event's Message-ID holds (the KB case: no Scan finished, no >>> Message-ID, no maillog or msgtra)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.correlation import correlate
from imsvalog.timeline import trace

from .conftest import FIXTURES

KB = FIXTURES / "kb000239719"
IID = "87BDADC9-87B8-3D05-A958-0267A8088406"


def _scan_places(t) -> list[tuple[str, int]]:
    return [(Path(ln.file).name, ln.line) for ln in t.lines if ln.stage == "scan"]


def test_trace_finds_the_scan_correlate_links_by_the_queue_id_in_the_message_id() -> None:
    (row,) = correlate(KB).rows
    assert row.status == "linked" and "queue_id" in row.link.basis
    linked = sorted((Path(f).name, n) for f, n in row.session.sources)
    t = trace(IID, [KB])
    # every line correlate's session holds, and the thread's other lines between (trace shows the whole scan)
    assert set(linked) <= set(_scan_places(t))
    assert _scan_places(t) == [("log.imss.20190430.0001", n) for n in range(1, 11)]
    assert t.queue_ids == ["DDDFC11FB0C"]
    (basis,) = [n for n in t.notes if n.startswith("scan 1:")]
    assert "queue ID DDDFC11FB0C (named by the scan's Received header and held in the Message-ID" in basis
    assert not any("holds no scan" in n for n in t.notes)


def test_the_cli_says_on_what_basis_the_scan_was_found() -> None:
    res = CliRunner().invoke(app, ["trace", "87BDADC9", str(KB)])
    assert res.exit_code == 0, res.output
    assert "scan 10" in res.stdout and "log.imss.20190430.0001:2" in res.stdout
    assert "named by the scan's Received header and held in the Message-ID" in res.stderr
    assert "log.imss holds no scan" not in res.stderr


def test_a_queue_id_outside_a_received_header_brings_no_scan_in(tmp_path: Path) -> None:
    """'id DDDFC11FB0C' in another line's free text (or another thread's) is no evidence: the KB scan's header
    lines are gone, and a line on another thread mentions the queue ID in passing."""
    log = (KB / "log.imss.20190430.0001").read_text().splitlines(keepends=True)
    kept = [ln for ln in log if "parse received header string" not in ln]
    kept.append("2019/04/30 13:57:44 GMT+09:00 [28639:1] [DEBUG]relay: resend id DDDFC11FB0C later\n")
    (tmp_path / "log.imss.20190430.0001").write_text("".join(kept))
    (tmp_path / "polevt.imss.20190430.0001").write_bytes((KB / "polevt.imss.20190430.0001").read_bytes())
    t = trace(IID, [tmp_path])
    # no scan by the queue ID; correlate pairs the KB scan by time alone, and trace shows that (said so), never
    # the other thread's line
    assert _scan_places(t) == [("log.imss.20190430.0001", n) for n in range(1, 9)]
    assert {ln.link for ln in t.lines if ln.stage == "scan"} == {
        "paired by time alone (low confidence), as correlate links them"}
    assert any("log.imss holds no scan of this message by its IDs" in n and "by time alone" in n for n in t.notes)
