"""--profile auto: every variant of the model scored against IMSVA's logged lists (issue 7, calibration)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.correlation import correlate
from imsvalog.correlation.calibrate import MIN_TRACES, calibrate
from imsvalog.spoof import SWITCHES, get_profile, variant, variants

from .conftest import FIXTURES, KB


def test_every_combination_of_the_switches_is_a_named_variant() -> None:
    vs = variants()
    assert len(vs) == 2 ** len(SWITCHES) and vs[0].name == "documented"
    assert len({v.name for v in vs}) == len(vs)
    assert all(get_profile(v.name).switches() == v.switches() for v in vs)


def test_auto_on_busy_day_finds_that_imsva_reads_unbracketed_addresses() -> None:
    c = correlate(FIXTURES / "busy-day", profile="auto")
    cal = c.calibration
    assert cal.traces == 8 and not cal.weak
    assert cal.chosen.profile.name == "documented+addresses=unbracketed" == c.profile
    assert (cal.chosen.reproduced, cal.chosen.failing) == (8, ())
    documented = next(s for s in cal.scores if s.profile.name == "documented")
    assert documented.reproduced == 7 and documented.failing[0][0] == "9E9E9E9E-9F9F-49A9-89B9-C9D9E9F9A9B9"
    # the fixture's deliberate disagreement disappears under the chosen variant
    assert c.summary.disagreements == 0
    row = next(r for r in c.rows if r.internal_id == "9E9E9E9E-9F9F-49A9-89B9-C9D9E9F9A9B9")
    assert row.recomputed.counted == ["198.51.100.25", "192.0.2.44"] and row.agrees is True


def test_the_report_shows_the_scoring_table_in_table_and_json() -> None:
    run = CliRunner().invoke
    out = run(app, ["correlate", str(FIXTURES / "busy-day"), "--profile", "auto"]).stdout
    assert "Calibration (--profile auto): 8 traces carry IMSVA's 'Get N IP address' line" in out
    assert "     8/8    addresses=unbracketed   <- chosen" in out and "     7/8    documented" in out
    assert "Chosen: documented+addresses=unbracketed" in out
    doc = json.loads(run(app, ["correlate", str(FIXTURES / "busy-day"), "--profile", "auto", "--format", "json"]).stdout)
    cal = doc["calibration"]
    assert cal["chosen"] == "documented+addresses=unbracketed" and cal["traces_with_logged_list"] == 8
    assert len(cal["table"]) == len(variants()) and cal["table"][0]["reproduced"] == 8


def test_one_logged_trace_is_a_weak_calibration_and_says_so() -> None:
    c = correlate(sorted(KB.iterdir()), profile="auto")
    assert c.calibration.traces == 1 < MIN_TRACES and c.calibration.weak
    assert c.profile == "documented"  # nothing beats the documented model on this trace, so nothing changes
    out = CliRunner().invoke(app, ["correlate", *map(str, sorted(KB.iterdir())), "--profile", "auto"]).stdout
    assert "Warning: the calibration is weak: only 1 trace with IMSVA's logged list" in out


def test_traces_the_chosen_variant_still_fails_on_are_named() -> None:
    c = correlate(FIXTURES / "busy-day")
    cal = calibrate(c.rows, [get_profile("documented"), variant(order="oldest-first")])
    assert cal.chosen.profile.name == "documented"
    (name, logged, model), = cal.chosen.failing
    assert name == "9E9E9E9E-9F9F-49A9-89B9-C9D9E9F9A9B9"
    assert logged == ("198.51.100.25", "192.0.2.44") and model == ("198.51.100.25",)
