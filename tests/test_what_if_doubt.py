"""What-if on a verdict in doubt (stop 23 left open): a 'Not triggered' trace whose own spoof policy event says the mail
was handled as spoofed (a trace-vs-event finding) was read as "did not fire": `--what-if-trusted` said
'does-not-fire -> fires (... IMSVA did not fire with ...)'. Unknown stays unknown: it starts from 'in-doubt'."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from imsvalog.correlation import correlate
from imsvalog.render import render_correlation, what_if_lines
from imsvalog.trusted import TrustedList

from .conftest import FIXTURES

BUSY = FIXTURES / "busy-day"
DOUBTED = "5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C"  # its trace logs 198.51.100.25, 203.0.113.45
FIRED = "Not all sender IP in Trusted Internal IP List. Triggered."
NOT_FIRED = "All sender IP in Trusted Internal IP List. Not triggered."


@pytest.fixture(scope="module")
def contradicted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """busy-day with the 09:15:01 trace saying 'Not triggered' while its policy event (linked by internal ID and
    queue ID) says the mail was quarantined as spoofed."""
    d = tmp_path_factory.mktemp("doubt")
    for f in BUSY.iterdir():
        shutil.copy(f, d / f.name)
    log = d / "log.imss.20240312.0001"
    line = "2024/03/12 09:15:01 GMT+01:00 [4242:139871] [DIAGNOSTIC]AntiSpoofFilter: " + FIRED
    assert line in log.read_text()
    log.write_text(log.read_text().replace(line, line.replace(FIRED, NOT_FIRED)))
    return d


def test_a_doubted_verdict_starts_the_what_if_in_doubt(contradicted: Path) -> None:
    c = correlate(contradicted, trusted=TrustedList.parse(["198.51.100.25", "203.0.113.45"]))
    (row,) = [r for r in c.rows if r.internal_id == DOUBTED]
    assert [f.kind for f in row.findings] == ["trace-vs-event"]
    (ch,) = [ch for ch in c.what_if(TrustedList.parse(["198.51.100.25"])) if ch.name == DOUBTED]
    assert (ch.before, ch.after, ch.basis) == ("in-doubt", "fires", "logged")
    assert "did not fire" not in ch.why
    assert ch.why.startswith("IMSVA's verdict is in doubt (its trace says 'Not triggered', the spoof policy event "
                             "linked to it says the mail was handled as spoofed), with 198.51.100.25, 203.0.113.45 "
                             "counted; untrusted with the new list: 203.0.113.45")
    # the JSON carries the same: a reader does not count it as a scan that did not fire
    out = io.StringIO()
    render_correlation(c, c.rows, "json", out, what_if=c.what_if(TrustedList.parse(["198.51.100.25"])))
    assert [w["before"] for w in json.loads(out.getvalue())["what_if"] if w["name"] == DOUBTED] == ["in-doubt"]


def test_a_doubted_verdict_is_listed_whatever_the_new_list_gives(contradicted: Path) -> None:
    """Whether it changes is unknown: the list that keeps both addresses trusted gives 'does-not-fire', which the
    policy event contradicts, so it is listed too (before, 'did not fire' made it no change)."""
    c = correlate(contradicted, trusted=TrustedList.parse(["198.51.100.25"]))
    changes = c.what_if(TrustedList.parse(["198.51.100.25", "203.0.113.45"]))
    assert [(ch.name, ch.before, ch.after) for ch in changes if ch.name == DOUBTED] == [(DOUBTED, "in-doubt", "does-not-fire")]
    assert f"  {DOUBTED}: in-doubt -> does-not-fire (IMSVA's logged list: IMSVA's verdict is in doubt" in "\n".join(
        what_if_lines(changes))


def test_a_recomputed_what_if_of_a_doubted_verdict_says_the_doubt(contradicted: Path) -> None:
    c = correlate(contradicted, trusted=TrustedList.parse(["198.51.100.25", "203.0.113.45"]))
    (ch,) = [ch for ch in c.what_if(TrustedList.parse(["198.51.100.25"]), "strict") if ch.name == DOUBTED]
    assert ch.basis == "recomputed" and ch.why.endswith(
        "; the model's verdicts: IMSVA's own is in doubt (its trace says 'Not triggered', the spoof policy event "
        "linked to it says the mail was handled as spoofed)")


def test_a_verdict_not_in_doubt_still_starts_from_what_imsva_did() -> None:
    c = correlate(BUSY, trusted=TrustedList.parse(["198.51.100.25"]))
    (ch,) = [ch for ch in c.what_if(TrustedList.parse(["198.51.100.25", "203.0.113.45"])) if ch.name == DOUBTED]
    assert (ch.before, ch.after) == ("fires", "does-not-fire") and ch.why.startswith("IMSVA fired with ")


@pytest.mark.parametrize(("given", "new"), [
    (None, TrustedList.parse(["10.9.9.9"]).plus_unknown()),  # --also-trust 10.9.9.9 (attack as25b F2)
    (None, TrustedList.parse(["192.0.2.44"]).plus_unknown()),  # covers another scan's address, none of this one's
    (None, TrustedList.parse(["198.51.100.25"]).plus_unknown()),  # covers only what IMSVA's verdicts show trusted
    (["198.51.100.25"], TrustedList.parse(["198.51.100.25", "10.9.9.9"])),  # --trusted with --also-trust 10.9.9.9
    (["198.51.100.25"], TrustedList.parse(["198.51.100.25"])),  # --what-if-trusted: the same list
])
def test_a_list_that_leaves_the_same_addresses_open_changes_no_doubted_verdict(
        contradicted: Path, given: list[str] | None, new: TrustedList) -> None:
    """An entry that covers none of a doubted scan's addresses cannot change its verdict: it stays in doubt, and is
    not listed as 'in-doubt -> unknown' (or '-> fires')."""
    c = correlate(contradicted, trusted=TrustedList.parse(given) if given else None)
    assert [ch for ch in c.what_if(new) if ch.name == DOUBTED] == []


def test_the_cli_says_no_change_for_an_entry_that_covers_none_of_the_doubted_scan(contradicted: Path) -> None:
    from typer.testing import CliRunner

    from imsvalog.cli import app

    for args in (["--also-trust", "10.9.9.9"], ["--trusted", "198.51.100.25", "--also-trust", "10.9.9.9"]):
        out = CliRunner().invoke(app, ["correlate", str(contradicted), *args]).stdout
        assert "What-if: no verdict changes." in out and "in-doubt" not in out, args
    # an entry that covers its address outside IMSVA's list does change it
    out = CliRunner().invoke(app, ["correlate", str(contradicted), "--also-trust", "203.0.113.45"]).stdout
    assert f"  {DOUBTED}: in-doubt -> does-not-fire (IMSVA's logged list:" in out
