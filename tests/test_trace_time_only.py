"""trace of a policy event that log.imss names by no ID (fixtures/time-only): trace shows what correlate decides
for it (a full correlate pass over the same logs): the scan it pairs by time alone, with the words and the link
saying so; or the scans that fit when no pair is chosen; or that it pairs none."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.correlation import correlate
from imsvalog.timeline import trace

from .conftest import FIXTURES

TIME_ONLY = FIXTURES / "time-only"
LINK = "paired by time alone (low confidence), as correlate links them"


def _iid(n: int) -> str:
    return f"11111111-0000-4000-8000-00000000000{n}"


def test_a_time_only_pairing_shows_the_scan_correlate_pairs() -> None:
    (row,) = [r for r in correlate(TIME_ONLY).rows if r.event is not None and r.event.internal_id == _iid(3)]
    assert row.status == "linked" and row.link.basis == ["time"]
    t = trace(_iid(3), [TIME_ONLY])
    scan = [ln for ln in t.lines if ln.stage == "scan"]
    assert [ln.line for ln in scan] == list(range(13, 19))
    assert {ln.line for ln in scan} >= {s[1] for s in row.session.sources}  # every line correlate read, and more
    assert all(ln.link == LINK for ln in scan)
    assert any("pairs policy event " + _iid(3) + " with the scan on thread 900:1 at 2024-03-15 10:02:40-05:00 "
               "(log.imss.20240315.0001:13) by time alone (low confidence): same second" in n for n in t.notes)
    assert not any("may still pair" in n for n in t.notes)


def test_the_cli_says_it_in_every_format() -> None:
    run = lambda *a: CliRunner().invoke(app, ["trace", _iid(3), str(TIME_ONLY), *a])  # noqa: E731
    table = run()
    assert table.exit_code == 0, table.output
    assert f"-- scan {LINK}" in table.stdout and "a full pass" in table.stderr
    doc = json.loads(run("-f", "json").stdout)
    assert doc["stages"]["scan"] == 6 and {ln["link"] for ln in doc["lines"] if ln["stage"] == "scan"} == {LINK}
    assert any("by time alone (low confidence)" in n for n in doc["notes"])
    jl = [json.loads(x) for x in run("-f", "jsonl").stdout.splitlines()]
    assert sum(1 for x in jl if x.get("stage") == "scan" and x.get("link") == LINK) == 6
    assert f"| {LINK} |" in run("-f", "markdown").stdout


def test_an_ambiguous_event_names_the_scans_that_fit_and_shows_none() -> None:
    t = trace(_iid(1), [TIME_ONLY])
    assert [ln.stage for ln in t.lines] == ["policy"]
    (note,) = [n for n in t.notes if "correlate" in n]
    assert f"pairs no scan with policy event {_iid(1)}: it fits 2 AntiSpoofFilter traces, none uniquely: thread 900:1 " \
           "at 2024-03-15 10:00:05-05:00 (0 s apart); thread 900:2 at 2024-03-15 10:00:05-05:00 (0 s apart); no pair " \
           "is chosen (a tie at time)" in note


def test_an_event_correlate_pairs_with_no_scan_says_so(tmp_path: Path) -> None:
    log = (TIME_ONLY / "log.imss.20240315.0001").read_text().splitlines(keepends=True)
    (tmp_path / "log.imss.20240315.0001").write_text("".join(log[:12]))  # the 10:02:40 scan is not in the log
    (tmp_path / "polevt.imss.20240315.0001").write_text((TIME_ONLY / "polevt.imss.20240315.0001").read_text())
    t = trace(_iid(3), [tmp_path])
    assert [ln.stage for ln in t.lines] == ["policy"]
    (note,) = [n for n in t.notes if "correlate" in n]
    assert f"pairs no scan with policy event {_iid(3)}: " in note and "time" in note
    assert "may still pair" not in note


def test_an_event_that_is_not_a_spoof_event_says_correlate_does_not_pair_such_events(tmp_path: Path) -> None:
    (tmp_path / "log.imss.20240315.0001").write_text((TIME_ONLY / "log.imss.20240315.0001").read_text())
    ev = (TIME_ONLY / "polevt.imss.20240315.0001").read_text().splitlines(keepends=True)
    ev[2] = ev[2].replace("Spoofing message\t0000010000000000", "Attachment block\t1000000000000000")
    (tmp_path / "polevt.imss.20240315.0001").write_text("".join(ev))
    t = trace(_iid(3), [tmp_path])
    assert [ln.stage for ln in t.lines] == ["policy"]
    (note,) = [n for n in t.notes if "correlate" in n]
    assert note.endswith(f"pairs no scan with policy event {_iid(3)}: it pairs AntiSpoofFilter scans with spoof policy "
                         "events only, and this one is not (rule 'Attachment block')")
