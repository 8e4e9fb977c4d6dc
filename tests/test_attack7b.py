"""Regressions from the hostile tester's report on the issue-7 leftovers (findings 3 to 10; 1 and 2 are in
tests/test_linking.py)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from imsvalog.cli import app

from .test_correlate import _pe, _write_case
from .test_linking import _trace


def test_finding5_imsvas_logged_address_is_never_called_not_checked(tmp_path) -> None:
    """IMSVA logged 100.64.0.1 (Shared Address Space), checked it and fired on it; --profile strict skips it.

    False output before: "100.64.0.1 is special-purpose and not checked; it quarantined the mail because
    100.64.0.1 is not in the Trusted Internal IP List", contradicting IMSVA's own line.
    """
    _write_case(tmp_path, _trace("09:00:05", "1", "100.64.0.1", finished="ID-E"), [_pe("09:00:05", "ID-E")])
    run = CliRunner().invoke
    (row,) = json.loads(run(app, ["correlate", str(tmp_path), "--profile", "strict", "-f", "json"]).output)["rows"]
    assert "not checked" not in row["summary"]
    assert "100.64.0.1 is special-purpose: the strict profile skips it, but IMSVA counted it" in row["summary"]
    assert row["recomputed"]["profile"] == "strict"
    out = run(app, ["correlate", str(tmp_path), "--profile", "strict", "--explain"]).output
    assert "not checked" not in out and "the strict profile skips it, but IMSVA counted it" in out
    # a skip IMSVA did not contradict is still said as before
    (row,) = json.loads(run(app, ["correlate", str(tmp_path), "-f", "json"]).output)["rows"]
    assert row["summary"].startswith("IMSVA counted the only address in the Received headers (100.64.0.1)")
