"""imsvalog.plot: the figures' data and what the figures draw, on the two-days case; `correlate --plot DIR`."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import imsvalog
from imsvalog import plot
from imsvalog.cli import app

from .conftest import FIXTURES

CASE = FIXTURES / "two-days"
TRUSTED = imsvalog.TrustedList.parse(["198.51.100.25", "198.51.100.26"])
PROPOSED = imsvalog.TrustedList.parse(["198.51.100.25", "198.51.100.26", "198.51.100.40", "203.0.113.45", "192.0.2.77"])


@pytest.fixture(scope="module")
def c() -> imsvalog.Correlation:
    return imsvalog.correlate(CASE, trusted=TRUSTED)


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return imsvalog.read_polevt(CASE)


def _bar_heights(fig) -> float:
    return sum(p.get_height() for p in fig.axes[0].patches)


def test_trigger_frame_counts_imsvas_own_firings_by_untrusted_address(c, events) -> None:
    df = plot.trigger_frame(c)
    assert len(df) == (events["rule"] == "Spoofing message").sum() == 56
    counts = df["untrusted_address"].value_counts()
    assert counts["192.0.2.77"] == 22 and counts["198.51.100.40"] == 11 and counts["203.0.113.45"] == 8
    assert counts["192.0.2.44"] == 3  # IMSVA's list, not the model's (which does not count it)
    assert counts[plot.NO_TRACE] == 2  # before debug logging was switched on
    assert "198.51.100.25" not in set(df["untrusted_address"])  # trusted addresses are never blamed


def test_triggers_over_time_stacks_every_firing_in_hourly_bars(c) -> None:
    fig = plot.triggers_over_time(c)
    ax = fig.axes[0]
    assert _bar_heights(fig) == 56
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:3] == ["192.0.2.77", "198.51.100.40", "203.0.113.45"] and labels[-1] == "other"
    assert ax.get_xlabel() == "time (UTC+09:00)"
    widths = {round(p.get_width(), 4) for p in ax.patches}
    assert widths == {round(0.9 / 24, 4)}  # hourly bins


def test_top_untrusted_ranks_addresses(c) -> None:
    fig = plot.top_untrusted(c, n=3)
    ax = fig.axes[0]
    bars = sorted(ax.patches, key=lambda p: -p.get_width())
    assert [b.get_width() for b in bars] == [22, 11, 8]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["203.0.113.45", "198.51.100.40", "192.0.2.77"]


def test_policy_events_by_rule_and_action(events) -> None:
    fig = plot.policy_events(events)
    ax = fig.axes[0]
    assert sum(p.get_width() for p in ax.patches) == len(events) == 104
    assert {t.get_text() for t in ax.get_yticklabels()} == {"Spoofing message", "Inbound Spam", "Graymail"}
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"quarantine", "deliver + tag-subject"}


def test_hostile_rule_names_are_inert_in_plots() -> None:
    df = pd.DataFrame({"rule": ["$\\mathrm{x}$\x1b[31m"], "actions": [["quarantine"]]})
    ax = plot.policy_events(df).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["\\$\\mathrm{x}\\$\\x1b[31m"]


def test_calibration_scores_the_model_variants_on_imsvas_logged_lists(c) -> None:
    fig = plot.calibration(c)
    ax = fig.axes[0]
    bars = dict(zip([t.get_text() for t in ax.get_yticklabels()], [p.get_width() for p in ax.patches], strict=True))
    assert bars["addresses=unbracketed"] == 98 and bars["documented"] == 95  # the Exchange headers settle it
    assert "chosen: addresses=unbracketed" in ax.get_title() and "98 logged lists" in ax.get_title()
    auto = imsvalog.correlate(CASE, trusted=TRUSTED, profile="auto")
    assert auto.calibration is not None and auto.calibration.chosen.changes == ["addresses=unbracketed"]
    assert [p.get_width() for p in plot.calibration(auto).axes[0].patches] == [p.get_width() for p in ax.patches]


def test_verdict_table_and_figure_agree(c) -> None:
    table = plot.verdict_table(c)
    assert table.loc["fired", "fires"] == 51 and table.loc["fired", "does-not-fire"] == 3  # the Exchange rows
    assert table.loc["fired, no trace", "not re-run"] == 2
    # no event means no sender: the model cannot check the domains, so it says unknown, never "does not fire"
    assert table.loc["did not fire", "unknown"] == 44
    fig = plot.verdicts(c)
    numbers = sorted(int(t.get_text()) for t in fig.axes[0].texts)
    assert numbers == sorted(table.to_numpy().ravel().tolist())


def test_what_if_counts_prevented_quarantines(c) -> None:
    df = plot.what_if_frame(c, PROPOSED)
    outcomes = df["outcome"].value_counts().to_dict()
    assert outcomes == {"prevented": 41, "still quarantined": 13, "unknown (no trace)": 2}
    still = df[df["outcome"] == "still quarantined"]
    # the real spoofs stay quarantined, and so does the Exchange mail: IMSVA counts its unbracketed 192.0.2.44
    assert still["sender"].value_counts().to_dict()["ceo@example.com"] == 10
    assert sum("192.0.2.44" in ips for ips in still["logged_ips"]) == 3
    assert (plot.what_if_frame(c)["outcome"] == "prevented").sum() == 0  # the same list prevents nothing
    fig = plot.what_if(c, PROPOSED)
    assert _bar_heights(fig) == len(df) and "prevents 41 of 56" in fig.axes[0].get_title()


def test_missing_matplotlib_is_a_one_line_input_error(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(imsvalog.InputError, match=r"pip install 'imsvalog\[plot\]'"):
        plot.require_matplotlib()


def test_cli_plot_writes_pngs_and_refuses_an_input_folder(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "figures"
    r = runner.invoke(app, ["correlate", str(CASE), "-t", "198.51.100.25", "-t", "198.51.100.26",
                            "--what-if-trusted-file", str(FIXTURES / "messages" / "trusted-example.txt"),
                            "--plot", str(out), "-f", "json", "-o", str(tmp_path / "c.json")])
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["calibration.png", "policy-events.png", "top-untrusted.png", "triggers-per-hour.png", "verdicts.png",
                     "what-if.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in out.iterdir())
    r = runner.invoke(app, ["correlate", str(CASE), "--plot", str(CASE)])
    assert r.exit_code == 2 and "refusing to write here" in r.output
    assert not any(p.suffix == ".png" for p in CASE.iterdir())


def test_a_trace_cut_before_imsva_logged_its_count_is_a_trace_not_no_trace(tmp_path: Path) -> None:
    """Attack as25b (minor): busy-day's second log cut at 736 bytes of its gzip leaves 9E9E9E9E's trace (linked by
    Message-ID and time) cut before its 'Get N IP address' line: the what-if figure put it under 'unknown (no trace)'.
    The trace exists; its count is not in the log, so what the list would do is 'unknown'."""
    busy = FIXTURES / "busy-day"
    for f in ("log.imss.20240312.0001", "polevt.imss.20240312.0001"):
        (tmp_path / f).write_bytes((busy / f).read_bytes())
    (tmp_path / "log.imss.20240312.0002.gz").write_bytes((busy / "log.imss.20240312.0002.gz").read_bytes()[:736])
    cut = imsvalog.correlate(tmp_path)
    (row,) = [r for r in cut.rows if r.internal_id == "9E9E9E9E-9F9F-49A9-89B9-C9D9E9F9A9B9"]
    assert row.trace is not None and row.trace.logged_ips is None and row.event is not None
    everything = imsvalog.TrustedList.parse(["0.0.0.0/0"])
    for proposed in (everything.plus_unknown(), everything, "same"):
        df = plot.what_if_frame(cut, proposed)
        assert df[df["internal_id"] == row.internal_id]["outcome"].tolist() == ["unknown"], proposed
        assert df["outcome"].tolist().count("unknown (no trace)") == 1  # 8A8A8A8A: its event alone, no trace
    # the full log: its count is logged, the list that trusts every IPv4 address prevents it
    full = imsvalog.correlate(busy)
    df = plot.what_if_frame(full, everything.plus_unknown())
    assert df[df["internal_id"] == row.internal_id]["outcome"].tolist() == ["prevented"]
