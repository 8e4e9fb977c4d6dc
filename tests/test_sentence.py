"""One sentence per correlate row, for every row kind, checked for what it says."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.correlation import correlate
from imsvalog.sentence import row_sentence
from imsvalog.trusted import TrustedList

from .conftest import FIXTURES

BUSY = FIXTURES / "busy-day"


def by_id(path):
    return {r.to_dict()["internal_id"]: row_sentence(r.to_dict()) for r in correlate(path).rows}


def test_linked_and_fired_on_one_address_says_which_and_how_it_is_known() -> None:
    s = by_id(BUSY)["6F2D1E0B-4C3E-4D7F-8B9C-2E3F4A5B6C7D"]
    assert s == ("IMSVA counted 1 of the 3 addresses in the Received headers (198.51.100.26); 10.20.0.5 and 172.16.4.7 "
                 "are private and not checked; it quarantined the mail because 198.51.100.26 is not in the Trusted "
                 "Internal IP List (read from IMSVA's own verdict: it fired on the only address it counted).")


def test_linked_with_several_addresses_says_it_is_not_logged_which() -> None:
    s = by_id(BUSY)["5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C"]
    assert s.startswith("IMSVA counted 2 of the 3 addresses in the Received headers (198.51.100.25, 203.0.113.45); "
                        "192.168.10.23 is private and not checked; it quarantined the mail because not all of them")
    assert "IMSVA does not log which" in s


def test_not_fired_no_event() -> None:
    rows = {r.status: row_sentence(r.to_dict()) for r in correlate(BUSY).rows}
    assert rows["trace-without-event"] == (
        "IMSVA counted 1 of the 2 addresses in the Received headers (198.51.100.25); 10.20.0.5 is private and not "
        "checked; every counted address is in the Trusted Internal IP List, so the filter did not fire (IMSVA's own verdict).")


def test_no_trace_says_what_is_known_and_what_is_not() -> None:
    s = by_id(BUSY)["8A8A8A8A-8B8B-48C8-88D8-E8F8A8B8C8D8"]
    assert s.startswith("A policy event says IMSVA quarantined the mail from ceo@example.com to finance@example.com as spoofed")
    assert "which addresses it counted is not known" in s
    # attack F1: log.imss was at debug level then (AntiSpoofFilter lines nearby); the message's scan is simply absent
    assert "holds no scan of it at all (no line names its internal ID 8A8A8A8A-8B8B-48C8-88D8-E8F8A8B8C8D8" in s
    assert "logging at debug level then (AntiSpoofFilter lines at " in s and "log.imss.20240312.0001:97, 31 s earlier" in s
    assert "debug log level is needed" not in s and "probably not at debug" not in s


def test_no_trace_where_the_scan_exists_without_antispoof_lines_blames_the_log_level() -> None:
    s = by_id(FIXTURES / "two-days")["A3CE50A5-40A8-4E39-ABE8-61E6CE56B19A"]
    assert "its scan is in log.imss (thread 28639:4123662080" in s and "was not at debug level when it was scanned" in s


def test_ambiguous_names_the_candidates() -> None:
    rows = [r.to_dict() for r in correlate(FIXTURES / "time-only").rows if r.status == "ambiguous"]
    texts = [row_sentence(d) for d in rows]
    assert ("the scan fits 2 policy events by time (11111111-0000-4000-8000-000000000001 0 s and "
            "11111111-0000-4000-8000-000000000002 0 s apart, both equally close), but so do other scans (900:2 10:00:05)"
            ) in texts[2]
    assert "it fits 2 scans by time (900:1 10:00:05 0 s and 900:2 10:00:05 0 s apart, both equally close)" in texts[0]
    assert all("not settled" in t for t in texts)


def test_summary_is_in_json_csv_and_first_in_explain() -> None:
    run = CliRunner().invoke
    rows = [json.loads(x) for x in run(app, ["correlate", str(BUSY), "--format", "jsonl"]).stdout.splitlines()]
    assert all(r["summary"] for r in rows) and len(rows) == 9
    csv = run(app, ["correlate", str(BUSY), "--format", "csv"]).stdout.splitlines()
    assert csv[0].startswith("summary,")
    out = run(app, ["correlate", str(BUSY), "--explain"]).stdout
    i = out.index("── 2.")
    assert out[out.index("\n", i) + 1:].startswith("IMSVA counted 1 of the 3 addresses")


def test_when_imsva_and_the_model_count_differently_the_sentence_does_not_claim_a_header_total() -> None:
    s = by_id(BUSY)["9E9E9E9E-9F9F-49A9-89B9-C9D9E9F9A9B9"]
    assert s.startswith("IMSVA counted 2 addresses (198.51.100.25, 192.0.2.44) where the model reads 1 from the Received "
                        "headers (198.51.100.25), so the two disagree")
    assert "of the 2 addresses" not in s


def test_a_single_counted_address_reads_as_the_only_one() -> None:
    s = by_id(FIXTURES / "kb000239719")["87BDADC9-87B8-3D05-A958-0267A8088406"]
    assert s.startswith("IMSVA counted the only address in the Received headers (1111:2222:3333:444::5555); it quarantined")


def test_with_a_trusted_list_the_summary_names_the_untrusted_addresses() -> None:
    """Attack s21d F1: with --trusted the summary still said 'not all of them are in the list (IMSVA does not log
    which...)': the row's dict never carried the untrusted addresses the sentence reads."""
    rows = {r.to_dict()["internal_id"]: r for r in correlate(BUSY, trusted=TrustedList.parse(["198.51.100.25"])).rows}
    s = row_sentence(rows["5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C"].to_dict())
    assert s.endswith("because 203.0.113.45 is not in the Trusted Internal IP List given."), s
    assert "IMSVA does not log which" not in s
