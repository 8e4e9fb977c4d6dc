"""Postfix maillog grammar: body shapes against samples, year and zone, the fast path against pyparsing."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

import imsvalog
from imsvalog.cli import app
from imsvalog.grammars import maillog
from imsvalog.grammars.common import ParseFailure
from imsvalog.readers import maillog_hint
from imsvalog.sources import LogFile, iter_lines

from .conftest import FIXTURES

HINT = maillog.YearHint(2021, 11)
SAMPLES = [(v.name, line, want) for v in maillog.VARIANTS for line, want in v.samples] + [
    ("generic", line, want) for line, want in maillog.GENERIC_SAMPLES
]


@pytest.mark.parametrize(("variant", "line", "want"), SAMPLES, ids=[f"{v}-{i}" for i, (v, _, _) in enumerate(SAMPLES)])
def test_sample_parses_to_its_fields(variant: str, line: str, want: dict) -> None:
    f = maillog.parse(line, HINT)
    assert f["shape"] == variant
    for k, v in want.items():
        assert f[k] == v, k


def test_every_variant_has_a_sample_and_no_sample_matches_two() -> None:
    assert all(v.samples for v in maillog.VARIANTS)
    for variant, line, _ in SAMPLES:
        body = maillog.parse(line, HINT)["body"]
        assert maillog.matching_variants(body) == ([] if variant == "generic" else [variant])


def _fixture_lines() -> list[str]:
    return [t for p in FIXTURES.rglob("maillog*") for _, t in iter_lines(LogFile(p, "maillog"))]


@pytest.mark.parametrize("line", [s[1] for s in SAMPLES] + _fixture_lines())
def test_fast_path_agrees_with_pyparsing(line: str) -> None:
    try:
        fast = maillog.parse(line, HINT)
    except ParseFailure as exc:
        with pytest.raises(ParseFailure) as full:
            maillog.parse_full(line, HINT)
        assert full.value.reason == exc.reason
        return
    assert maillog.parse_full(line, HINT) == fast


def test_year_comes_from_the_file_and_december_lines_in_january_are_last_year() -> None:
    hint = maillog.YearHint(2024, 1, timezone(timedelta(hours=9)))
    jan = maillog.parse("Jan  2 00:00:01 h postfix/qmgr[1]: ABCDEF: removed", hint)
    dec = maillog.parse("Dec 31 23:59:59 h postfix/qmgr[1]: ABCDEF: removed", hint)
    assert jan["time"].isoformat() == "2024-01-02T00:00:01+09:00"
    assert dec["time"].isoformat() == "2023-12-31T23:59:59+09:00"
    assert jan["zone_assumed"] is False


def test_rfc3339_lines_carry_their_own_year_and_zone() -> None:
    f = maillog.parse("2021-11-05T13:12:19.5-05:00 h postfix/qmgr[1]: ABCDEF: removed", maillog.YearHint(1999, 1))
    assert f["time"].isoformat() == "2021-11-05T13:12:19.500000-05:00" and f["zone_assumed"] is False


def test_hint_from_the_rotation_date_in_the_name(tmp_path: Path) -> None:
    p = tmp_path / "maillog-20240313"
    p.write_text("")
    assert maillog_hint(LogFile(p, "maillog", "20240313", None)) == maillog.YearHint(2024, 3)


def test_busy_day_maillog_links_the_two_postfix_passes() -> None:
    entries = list(imsvalog.iter_maillog(FIXTURES / "busy-day", tz=timezone(timedelta(hours=1))))
    relay = next(e for e in entries if e.shape == "delivery" and e.relay_port == 10025)
    assert (relay.queue_id, relay.queued_as, relay.relay_address) == ("4A1F3C0042", "C1A2B3C4D5", "127.0.0.1")
    assert relay.time.isoformat() == "2024-03-12T09:15:01+01:00"
    df = imsvalog.read_maillog(FIXTURES / "busy-day" / "maillog-20240313")
    assert list(df["zone_assumed"]).count(False) == 1  # alone, only the RFC 3339 line carries its zone
    assert set(df["shape"]) >= {"connect", "client", "message_id", "sender", "delivery", "removed", "generic"}


def test_parse_cli_tz_and_the_warning_without_it() -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["parse", str(FIXTURES / "busy-day" / "maillog-20240313"), "--format", "jsonl", "--tz", "+01:00"])
    assert r.exit_code == 0 and '"time": "2024-03-12T09:15:00+01:00"' in r.stdout
    assert "UTC assumed" not in r.stderr
    r = runner.invoke(app, ["parse", str(FIXTURES / "busy-day" / "maillog-20240313")])
    assert "syslog timestamps carry no zone; UTC assumed" in r.stderr
    r = runner.invoke(app, ["parse", str(FIXTURES / "busy-day" / "maillog-20240313"), "--tz", "JST"])
    assert r.exit_code == 2 and "--tz: not a UTC offset" in r.stderr


@pytest.mark.parametrize(("text", "hours"), [("+09:00", 9), ("-0500", -5), ("UTC", 0), ("+5", 5)])
def test_tz_from_text(text: str, hours: int) -> None:
    assert maillog.tz_from_text(text).utcoffset(None) == timedelta(hours=hours)
