"""A 'Not triggered' verdict in doubt (its own spoof policy event says the mail was quarantined as spoofed; h24b):
the what-if lines start it from 'in-doubt', but the what-if figure left that quarantine out (it counted the scans
whose trace says they fired) and the candidates for the trusted list left its addresses out without a word."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from imsvalog import plot
from imsvalog.correlation import correlate
from imsvalog.render import missing_lines, render_correlation
from imsvalog.trusted import TrustedList

from .conftest import FIXTURES

BUSY = FIXTURES / "busy-day"
DOUBTED = "5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C"  # its trace logs 198.51.100.25, 203.0.113.45; its event quarantines
FIRED = "2024/03/12 09:15:01 GMT+01:00 [4242:139871] [DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered."


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("doubt")
    for f in BUSY.iterdir():
        shutil.copy(f, d / f.name)
    log = d / "log.imss.20240312.0001"
    assert FIRED in log.read_text()
    log.write_text(log.read_text().replace(FIRED, FIRED.replace("Not all", "All").replace("Triggered", "Not triggered")))
    return d


def test_the_candidates_say_which_doubted_scan_they_leave_out(case: Path) -> None:
    c = correlate(case, trusted=TrustedList.parse(["198.51.100.25"]))
    assert "203.0.113.45" not in [m.address for m in c.missing_trusted()]  # not a candidate: IMSVA may not have fired
    lines = missing_lines(c)
    (left,) = [x for x in lines if x.startswith("  left out:")]
    assert left.startswith("  left out: 1 scan whose 'Not triggered' verdict the spoof policy event linked to it "
                           "contradicts (IMSVA's own lines disagree: see the findings), so whether IMSVA fired on its "
                           "addresses outside the list is not known: " + DOUBTED + " at 2024-03-12 09:15:01+01:00 (")
    assert left.endswith("log.imss.20240312.0001:37), outside the list 203.0.113.45")
    out = io.StringIO()
    render_correlation(c, c.rows, "json", out)
    (d,) = json.loads(out.getvalue())["untrusted_addresses_left_out"]
    assert d["addresses"] == ["203.0.113.45"] and d["scan"].startswith(DOUBTED) and d["why"] == "trace-vs-event"


def test_nothing_is_said_left_out_where_the_list_covers_its_addresses(case: Path) -> None:
    c = correlate(case, trusted=TrustedList.parse(["198.51.100.25", "203.0.113.45"]))
    assert not [x for x in missing_lines(c) if "left out" in x]
    assert not [x for x in missing_lines(correlate(BUSY, trusted=TrustedList.parse(["198.51.100.25"]))) if "left out" in x]


def test_the_what_if_figure_counts_the_doubted_quarantine_as_in_doubt(case: Path) -> None:
    pytest.importorskip("matplotlib")
    c = correlate(case, trusted=TrustedList.parse(["198.51.100.25"]))
    proposed = TrustedList.parse(["198.51.100.0/24", "203.0.113.0/24"])
    df = plot.what_if_frame(c, proposed)
    (row,) = df[df["internal_id"] == DOUBTED].to_dict("records")
    assert (row["outcome"], row["verdict_before"], row["verdict_after"]) == ("in doubt", "in-doubt", "does-not-fire")
    fig = plot.what_if(c, proposed)
    title = fig.axes[0].get_title()
    assert f"of {len(df)} spoof quarantines (1 in doubt)" in title
    assert "in doubt" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    # another profile: the model's verdicts, no change listed, still in doubt
    strict = plot.what_if_frame(c, "same", "strict")
    assert strict[strict["internal_id"] == DOUBTED]["outcome"].tolist() == ["in doubt"]


def test_an_unknown_what_if_verdict_is_not_counted_as_still_quarantined() -> None:
    pytest.importorskip("matplotlib")
    c = correlate(BUSY)
    df = plot.what_if_frame(c, TrustedList.parse(["198.51.100.26"]).plus_unknown())
    # 198.51.100.26 and 2001:db8:4:7::25 counted: whether IMSVA's own list held the second is not known
    assert df[df["internal_id"] == "7F7F7F7F-7A7A-47B7-87C7-D7E7F7A7B7C7"]["outcome"].tolist() == ["unknown"]
    assert df["outcome"].value_counts().to_dict() == {"still quarantined": 5, "prevented": 1, "unknown": 1,
                                                      "unknown (no trace)": 1}
