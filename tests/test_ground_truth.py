"""IMSVA's logged list is ground truth; the given trusted list is checked against it (issue 7, items 5 and 6)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.correlation import correlate
from imsvalog.trusted import TrustedList

from .conftest import FIXTURES, KB

DISAGREE = "9E9E9E9E-9F9F-49A9-89B9-C9D9E9F9A9B9"  # IMSVA fired on 198.51.100.25 and the unbracketed 192.0.2.44


def test_candidates_come_from_imsvas_logged_list() -> None:
    c = correlate(FIXTURES / "busy-day", trusted=TrustedList.parse(["198.51.100.25"]))
    got = {m.address: (m.count, m.logged) for m in c.missing_trusted()}
    assert got["192.0.2.44"] == (1, 1)  # the model never counts it; IMSVA did
    row = next(r for r in c.rows if r.internal_id == DISAGREE)
    assert row.fired_on == ["192.0.2.44"]
    assert "Why it fired, by IMSVA's logged list: 192.0.2.44 not in the given trusted list." in row.explanation


def test_what_if_starts_from_what_imsva_did() -> None:
    c = correlate(FIXTURES / "busy-day")
    changes = {ch.name: ch for ch in c.what_if(TrustedList.parse(["198.51.100.25"]))}
    # IMSVA fired on 198.51.100.25 + 192.0.2.44; with only .25 trusted it still fires: no change (was unknown -> does-not-fire)
    assert DISAGREE not in changes
    assert all(ch.before == "fires" and ch.basis == "logged" for ch in changes.values())
    # widening the list to 192.0.2.0/24 does change it, on IMSVA's list
    ch = {x.name: x for x in c.what_if(TrustedList.parse(["198.51.100.25", "192.0.2.0/24"]))}[DISAGREE]
    assert (ch.before, ch.after, ch.basis) == ("fires", "does-not-fire", "logged")
    # another profile is a question about the model: recomputed
    assert {x.basis for x in c.what_if(TrustedList.parse(["198.51.100.25"]), profile="strict")} <= {"recomputed"}


def test_kb_candidate_is_the_address_imsva_logged_in_every_format() -> None:
    run = CliRunner().invoke
    args = ["correlate", *map(str, sorted(KB.iterdir())), "--trusted", "192.0.2.1"]
    table = run(app, args).output
    assert "No address outside the trusted list" not in table and "made the filter fire" not in table
    assert "1111:2222:3333:444::5555: 1 message (from IMSVA's logged list)" in table
    md = run(app, [*args, "--format", "markdown"]).stdout
    assert "1111:2222:3333:444::5555: 1 message (from IMSVA's logged list)" in md
    doc = json.loads(run(app, [*args, "--format", "json"]).stdout)
    assert [(m["address"], m["logged"]) for m in doc["untrusted_addresses"]] == [("1111:2222:3333:444::5555", 1)]
    (row,) = [json.loads(x) for x in run(app, [*args, "--format", "jsonl"]).stdout.splitlines()]
    assert row["fired_on"] == ["1111:2222:3333:444::5555"]
    busy = run(app, ["correlate", str(FIXTURES / "busy-day"), "--trusted", "198.51.100.25", "--format", "json"]).stdout
    assert "192.0.2.44" in [m["address"] for m in json.loads(busy)["untrusted_addresses"]]


def test_the_given_list_is_checked_against_imsvas_verdicts() -> None:
    c = correlate(FIXTURES / "busy-day", trusted=TrustedList.parse(["198.51.100.26", "192.0.2.77"]))
    checks = {(x.kind, x.address): x for x in c.check_trusted()}
    contradicted = checks["contradicted", "198.51.100.26"]
    assert contradicted.entry == "198.51.100.26 (--trusted)"
    assert "your list has 198.51.100.26 (--trusted)" in contradicted.text
    assert "the appliance's list evidently did not when this mail was scanned" in contradicted.text
    assert "log.imss.20240312.0001:35" in contradicted.evidence[0]
    assert ("contradicted", "192.0.2.77") in checks
    lacking = checks["lacking", "198.51.100.25"]  # IMSVA logged 'All sender IP in Trusted Internal IP List' for it
    assert "your list lacks 198.51.100.25" in lacking.text and "log.imss.20240312.0001:30" in lacking.evidence[0]
    row = next(r for r in c.rows if r.internal_id == "6F2D1E0B-4C3E-4D7F-8B9C-2E3F4A5B6C7D")
    assert "trusted-list" in [f.kind for f in row.findings]
    out = CliRunner().invoke(
        app, ["correlate", str(FIXTURES / "busy-day"), "--trusted", "198.51.100.26", "--trusted", "192.0.2.77"]
    ).stdout
    assert "The given trusted list against IMSVA's own verdicts:" in out and "your list lacks 198.51.100.25" in out
