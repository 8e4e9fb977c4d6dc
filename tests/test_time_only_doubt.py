"""A --time-window set by hand where the hint is withheld (stop 23 left open): correlate links by time as asked, but
the link said only '280 s apart' although the trace's own policy event (or the event's own scan) may be in a file
not given, the reason the hint was withheld. The link's detail now says that doubt."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.correlation import correlate

from .conftest import FIXTURES
from .test_correlate_near_unpaired import LOG, _event, _iid, _logs, _scan
from .test_near_hint_gaps import _FIRST_OF_DAY_CASE, BUSY, CEO, _split_polevt

DOUBT = "linked by time only, though "


def _row(c, iid: str):
    return next(r for r in c.rows if r.event is not None and r.event.internal_id == iid)


def test_a_time_link_whose_traces_own_policy_event_may_be_in_a_file_not_given_says_so(tmp_path: Path) -> None:
    """busy-day without msgtra, polevt .0002 (the CRM mail's event) left out: at --time-window 280 the CRM trace is
    linked to the CEO's event, 280 s away."""
    gap = tmp_path
    for f in BUSY.iterdir():
        if not f.name.startswith(("polevt", "msgtra")):
            shutil.copy(f, gap / f.name)
    _split_polevt(gap)
    row = _row(correlate(gap, time_window=280), CEO)
    assert row.status == "linked" and row.link is not None and row.link.basis == ["time"]
    assert row.link.detail == (
        "280 s apart; linked by time only, though that trace's time falls in polevt.imss.20240312.0002, which is "
        "not among the files given: its own policy event may be there (the two may be two messages)")
    assert "Linked by time (low confidence): 280 s apart; linked by time only, though that trace's time" in row.explanation
    r = CliRunner().invoke(app, ["correlate", str(gap), "--time-window", "280", "--format", "json"])
    (d,) = [x for x in json.loads(r.stdout)["rows"] if x["internal_id"] == CEO]
    assert d["link"]["detail"] == row.link.detail


def test_a_time_link_whose_events_own_scan_may_be_in_a_log_imss_file_not_given_says_so(tmp_path: Path) -> None:
    """log.imss .0001 ends at 10:00:10, .0003 begins at 10:10:00; the event at 10:05:00 falls in the .0002 left out."""
    _logs(tmp_path, [_scan("10:00:10", "900:1", 103)], [_event("10:05:00", 3), _event("10:10:00", 4)])
    (tmp_path / LOG.replace("0001", "0003")).write_text(
        "\n".join(_scan("10:10:00", "900:2", 104, finished=_iid(4))) + "\n")
    row = _row(correlate(tmp_path, time_window=290), _iid(3))
    assert row.status == "linked" and row.link is not None and row.link.basis == ["time"]
    assert row.link.detail.startswith("290 s apart; linked by time only, though this event's time falls in "
                                      "log.imss.20240315.0002, which is not among the files given: its own scan may be")


def test_a_time_link_outside_the_span_of_the_policy_events_read_says_so(tmp_path: Path) -> None:
    """The first spoof event's scan is 40 s before it: with the day's first polevt.imss (.0001) given no file before
    can hold its event (no doubt); given as .0004 (the .0001 not given), its own event may be in a file not given."""
    for name, text in _FIRST_OF_DAY_CASE.items():
        (tmp_path / name).write_text(text)
    first = "11111111-0000-4000-8000-000000000000"
    row = _row(correlate(tmp_path, time_window=40), first)
    assert row.status == "linked" and row.link is not None and row.link.detail == "40 s apart"
    (tmp_path / "polevt.imss.20240312.0001").rename(tmp_path / "polevt.imss.20240312.0004")
    row = _row(correlate(tmp_path, time_window=40), first)
    assert row.status == "linked" and row.link is not None
    assert row.link.detail.startswith("40 s apart; linked by time only, though that trace is outside the span of the "
                                      "policy events read (2024-03-12 09:05:40+01:00 to ")
    assert row.link.detail.endswith("its own policy event may be in a polevt.imss file of its time not given (the "
                                    "two may be two messages)")


def test_a_time_link_with_nothing_left_out_says_no_doubt(tmp_path: Path) -> None:
    case = tmp_path / "t"
    shutil.copytree(FIXTURES / "time-only", case)
    c = correlate(case)
    linked = [r for r in c.rows if r.status == "linked" and r.link is not None and r.link.basis == ["time"]]
    assert linked and not [r for r in linked if DOUBT in r.link.detail]
