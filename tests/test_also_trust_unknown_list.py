"""`--also-trust X` without `--trusted` (attack s24b): the what-if list was X alone, so a scan IMSVA did not fire on
read 'does-not-fire -> unknown' ("untrusted with the new list: 198.51.100.25"), and one whose list IMSVA did not log
read 'unknown -> fires'. The list is the appliance's own (not known) plus X: an entry added can only make fewer
addresses untrusted, so a known answer is never lost, and what the entries do not decide stays unknown."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.correlation import correlate
from imsvalog.spoof import evaluate
from imsvalog.trusted import TrustedList

from .conftest import FIXTURES

runner = CliRunner()
BUSY = FIXTURES / "busy-day"
NOT_FIRED = "9D8C7B6A-5F4E-4D3C-8B2A-1F0E9D8C7B6A"  # IMSVA did not fire, 198.51.100.25 counted
TWO = "5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C"  # IMSVA fired, 198.51.100.25 and 203.0.113.45 counted
ONE = "6F2D1E0B-4C3E-4D7F-8B9C-2E3F4A5B6C7D"  # IMSVA fired, 198.51.100.26 counted
MIXED = "7F7F7F7F-7A7A-47B7-87C7-D7E7F7A7B7C7"  # IMSVA fired, 198.51.100.26 and 2001:db8:4:7::25 counted


def _what_if(path: Path, *also: str) -> list[dict]:
    r = runner.invoke(app, ["correlate", str(path), "--format", "json", *[a for x in also for a in ("--also-trust", x)]])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)["what_if"]


def test_an_entry_that_covers_none_of_a_scans_addresses_changes_nothing() -> None:
    assert _what_if(BUSY, "192.0.2.99") == []  # before: NOT_FIRED 'does-not-fire -> unknown'


def test_a_scan_imsva_did_not_fire_on_still_does_not_whatever_is_added() -> None:
    for entries in (["192.0.2.99"], ["198.51.100.25"], ["0.0.0.0/0", "::/0"], ["203.0.113.0/24"]):
        assert [c for c in _what_if(BUSY, *entries) if c["name"] == NOT_FIRED] == [], entries


def test_entries_that_cover_every_counted_address_prevent_it() -> None:
    c, other = _what_if(BUSY, "198.51.100.26")
    assert (c["name"], c["before"], c["after"], c["basis"]) == (ONE, "fires", "does-not-fire", "logged")
    assert c["why"] == ("IMSVA fired with 198.51.100.26 counted; IMSVA's own list (not given) plus the added entries, "
                        "which cover 198.51.100.26")
    # 198.51.100.26 and 2001:db8:4:7::25 counted, nothing shows whether IMSVA's list held the other one
    assert (other["name"], other["before"], other["after"]) == (MIXED, "fires", "unknown")
    assert "untrusted with the new list" not in other["why"]
    assert other["why"].endswith("which cover 198.51.100.26; whether IMSVA's list held 2001:db8:4:7::25 for this scan "
                                 "is not known")


def test_an_address_imsvas_verdicts_show_in_its_list_is_taken_as_there_and_said() -> None:
    """TWO fired with 198.51.100.25 and 203.0.113.45; NOT_FIRED shows 198.51.100.25 in the list (as the section on
    IMSVA's own verdicts says, which also pins 203.0.113.45 as the untrusted one)."""
    (c,) = _what_if(BUSY, "203.0.113.45")
    assert (c["name"], c["before"], c["after"]) == (TWO, "fires", "does-not-fire")
    assert c["why"].endswith("which cover 203.0.113.45; IMSVA's verdicts on other scans show 198.51.100.25 in its list")
    assert [x for x in _what_if(BUSY, "198.51.100.25") if x["name"] == TWO] == []  # covers only what was trusted


@pytest.fixture(scope="module")
def unlogged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """busy-day with TWO's 'Get 2 IP address' line taken out: the what-if reads the model's list for it."""
    d = tmp_path_factory.mktemp("noget")
    for f in BUSY.iterdir():
        shutil.copy(f, d / f.name)
    log = d / "log.imss.20240312.0001"
    line = ("2024/03/12 09:15:01 GMT+01:00 [4242:139871] [DEBUG]AntiSpoofFilter: Get 2 IP address from received header. "
            "198.51.100.25,203.0.113.45,\n")
    assert line in log.read_text()
    log.write_text(log.read_text().replace(line, ""))
    return d


def test_without_imsvas_list_it_starts_from_what_imsva_did_on_the_models_list(unlogged: Path) -> None:
    assert _what_if(unlogged, "192.0.2.99") == []  # before: TWO 'unknown -> fires'
    (c,) = _what_if(unlogged, "203.0.113.45")
    assert (c["name"], c["before"], c["after"], c["basis"]) == (TWO, "fires", "does-not-fire", "recomputed")
    assert c["why"].startswith("IMSVA fired; no list logged; the model counts 198.51.100.25, 203.0.113.45; ")
    assert [x for x in _what_if(unlogged, "198.51.100.25") if x["name"] == TWO] == []


def test_a_doubted_verdict_is_judged_on_the_entries_alone(tmp_path: Path) -> None:
    for f in BUSY.iterdir():
        shutil.copy(f, tmp_path / f.name)
    log = tmp_path / "log.imss.20240312.0001"
    fired = "[4242:139871] [DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered."
    log.write_text(log.read_text().replace(fired, fired.replace("Not all", "All").replace("Triggered", "Not triggered")))
    c = correlate(tmp_path)
    both = c.what_if(TrustedList.parse(["198.51.100.25", "203.0.113.45"]).plus_unknown())
    none = c.what_if(TrustedList.parse(["192.0.2.99"]).plus_unknown())
    assert [(ch.before, ch.after) for ch in both if ch.name == TWO] == [("in-doubt", "does-not-fire")]
    # an entry that covers none of its addresses cannot change it: it stays in doubt, not listed (attack as25b F2;
    # it was 'in-doubt -> unknown')
    assert [(ch.before, ch.after) for ch in none if ch.name == TWO] == []


def test_the_model_with_a_partial_list_fires_only_when_told() -> None:
    received = ["from mx.example.net (mx.example.net [203.0.113.9]) by mx.example.com"]
    partial = TrustedList.parse(["192.0.2.1"]).plus_unknown()
    r = evaluate(received, "a@example.com", ["b@example.com"], partial)
    assert r.verdict == "unknown" and "not covered by the entries added to the appliance's list" in r.reasons[-1]
    assert evaluate(received, "a@example.com", ["b@example.com"], TrustedList.parse(["192.0.2.1"])).verdict == "fires"
    covered = TrustedList.parse(["203.0.113.9"]).plus_unknown()
    assert evaluate(received, "a@example.com", ["b@example.com"], covered).verdict == "does-not-fire"
    assert evaluate(received, "a@example.com", ["b@other.example"], partial).verdict == "does-not-fire"  # domains


def test_with_a_given_list_also_trust_still_adds_to_it() -> None:
    r = runner.invoke(app, ["correlate", str(BUSY), "-f", "json", "--trusted", "198.51.100.25", "--also-trust", "192.0.2.99"])
    assert json.loads(r.stdout)["what_if"] == []
    r = runner.invoke(app, ["correlate", str(BUSY), "-f", "json", "--trusted", "198.51.100.25", "--also-trust", "203.0.113.45"])
    assert [(c["name"], c["after"]) for c in json.loads(r.stdout)["what_if"]] == [(TWO, "does-not-fire")]


def test_an_empty_also_trust_alone_is_no_empty_list() -> None:
    r = runner.invoke(app, ["correlate", str(BUSY), "-f", "json", "--also-trust", ""])
    assert r.exit_code == 0 and json.loads(r.stdout)["what_if"] == []
    assert "an empty entry (--also-trust '') is ignored" in r.stderr
    assert "the trusted list has no entry" not in r.stderr  # the appliance's own list plus nothing


def test_help_says_what_the_list_is_without_trusted() -> None:
    h = " ".join(runner.invoke(app, ["correlate", "--help"], env={"COLUMNS": "200"}).stdout.split())
    assert "Without --trusted, IMSVA's own list (not known) plus this entry" in h
