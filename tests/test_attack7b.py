"""Regressions from the hostile tester's report on the issue-7 leftovers (findings 3 to 10; 1 and 2 are in
tests/test_linking.py)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from imsvalog.cli import app

from .test_correlate import _pe, _write_case
from .test_linking import _trace, _with_message_id


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


def test_finding3_internal_id_before_message_id_is_not_called_stronger(tmp_path) -> None:
    """Scan 1:1 names ID-E by internal ID, scan 1:2 carries its Message-ID (both the high tier).

    False output before: "by stronger evidence: internal ID (high) outranks Message-ID (high)".
    """
    c = _write_case(
        tmp_path,
        _trace("09:00:05", "1", "203.0.113.7", finished="ID-E")
        + _with_message_id(_trace("09:00:20", "2", "203.0.113.8"), "<x1@example.com>"),
        [_pe("09:00:05", "ID-E", "<x1@example.com>")],
    )
    (lost,) = [r for r in c.rows if r.session is not None and r.session.thread == "1:2"]
    assert "stronger" not in lost.explanation and "outranks" not in lost.explanation
    assert ("policy event ID-E fits it by Message-ID, but is linked to thread 1:1 at 2024-03-12 09:00:05+01:00 by "
            "internal ID, which is settled before Message-ID within the high tier") in lost.explanation


def test_finding4_two_traces_of_one_thread_in_one_second_are_told_apart(tmp_path) -> None:
    """Two scans on thread 1:1 in the same second; only the second names ID-E.

    False output before: the losing row's note said ID-E "is linked to thread 1:1 at 2024-03-12 09:00:05+01:00",
    which is also how that row names itself.
    """
    c = _write_case(
        tmp_path,
        _trace("09:00:05", "1", "203.0.113.7") + _trace("09:00:05", "1", "203.0.113.8", finished="ID-E"),
        [_pe("09:00:05", "ID-E")],
    )
    (lost,) = [r for r in c.rows if r.status == "trace-without-event"]
    assert (f"is linked to thread 1:1 at 2024-03-12 09:00:05+01:00 ({tmp_path}/log.imss.20240312.0001:10) by stronger "
            "evidence") in lost.explanation
    assert lost.linked_elsewhere == ["ID-E"]


def test_finding7_an_ipv4_mapped_skip_says_it_is_assumed() -> None:
    """False output before: "skipped ::ffff:10.0.0.1: in 10.0.0.0/8 (RFC 1918) (IPv4-mapped; checked as 10.0.0.1),
    which IMSVA does not count (private)": IMSVA documents the IPv4 ranges only; the mapped form is the model's."""
    from .test_spoof import one

    text = one("IPv6:::ffff:10.0.0.1").explanation
    assert "which IMSVA does not count" not in text
    assert ("skipped ::ffff:10.0.0.1: in 10.0.0.0/8 (RFC 1918) (IPv4-mapped; checked as 10.0.0.1); IMSVA documents not "
            "counting 10.0.0.0/8 (RFC 1918) (private) for IPv4 addresses, and that it checks the IPv4-mapped form the "
            "same way is assumed (undocumented).") in text
    assert "skipped 10.0.0.1: in 10.0.0.0/8 (RFC 1918), which IMSVA does not count (private)." in one("10.0.0.1").explanation


def test_finding8_withdrawn_ipv6_blocks_are_not_called_not_allocated_yet() -> None:
    """False output before: fec0::/10 (site-local, RFC 3879) and 200::/7 (NSAP, RFC 4048) were "IPv6 space IANA has
    not allocated yet"; both were allocated once and withdrawn."""
    from .test_spoof import one

    for addr, why in (("fec0::1", "site-local addresses, withdrawn by RFC 3879"),
                      ("200::1", "formerly NSAP addresses, withdrawn by RFC 4048")):
        text = one(f"IPv6:{addr}").explanation
        assert "not allocated yet" not in text, addr
        assert f"IPv6 space not allocated today (deprecated: {why})" in text, addr
    assert "IPv6 space IANA has not allocated yet" in one("IPv6:1111::1").explanation


def test_finding9_strict_does_not_put_multicast_in_the_special_purpose_registries() -> None:
    """False before: strict's description listed multicast among "IANA's special-purpose registries"."""
    from imsvalog.spoof import PROFILES, SPECIAL_PURPOSE_REGISTRY

    text = PROFILES["strict"].description
    registries, _, rest = text.partition(")")
    assert "multicast" not in registries and "multicast (224.0.0.0/4, ff00::/8: IANA's multicast registries" in rest
    # and the table itself still has them (strict skips them)
    assert {"224.0.0.0/4", "ff00::/8"} <= {block for block, _, _ in SPECIAL_PURPOSE_REGISTRY}


def test_finding10_linked_elsewhere_is_a_column_in_csv_dataframe_and_parquet(tmp_path) -> None:
    """False before: JSON had linked_elsewhere, the CSV (and the DataFrame, and the Parquet export) did not."""
    import csv
    import io

    from imsvalog.export import COLUMNS

    c = _write_case(
        tmp_path,
        _trace("09:00:05", "1", "203.0.113.7", finished="ID-E") + _trace("09:00:05", "2", "203.0.113.8"),
        [_pe("09:00:05", "ID-E")],
    )
    out = CliRunner().invoke(app, ["correlate", str(tmp_path), "-f", "csv"]).output
    rows = {r["thread"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["1:2"]["linked_elsewhere"] == "ID-E" and rows["1:1"]["linked_elsewhere"] == ""
    frame = c.frame
    assert frame.set_index("thread").loc["1:2", "linked_elsewhere"] == ["ID-E"]
    assert "linked_elsewhere" in COLUMNS["correlate"]
