"""Several appliances never share a session; syslog-forwarded logs read as the files they came from."""

from __future__ import annotations

import importlib.util
import json
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

import imsvalog
from imsvalog.cli import app
from imsvalog.correlation.scan import read_sessions
from imsvalog.readers import iter_file, iter_records
from imsvalog.records import Reject, to_row
from imsvalog.sources import ScanStats, discover
from imsvalog.syslog import unwrap_line

from .conftest import FIXTURES

runner = CliRunner()
TWO = FIXTURES / "two-appliances"
FORWARDED = FIXTURES / "syslog" / "siem-export.log"

_spec = importlib.util.spec_from_file_location("make_bundles", FIXTURES / "make_bundles.py")
make_bundles = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(make_bundles)  # type: ignore[union-attr]


def test_the_two_appliance_fixture_collides_when_read_as_one_stream() -> None:
    """The premise: the same [pid:tid] at the same second in both, imsva01's scan cut off before its final action."""
    imss = [f for f in discover([TWO]).files if f.kind == "imss"]
    assert [(f.date, f.seq) for f in imss] == [("20190430", 1), ("20190430", 1)]
    # read as one appliance's two rotations in a row (.0001 then .0002), one session swallows both scans
    merged = read_sessions([replace(f, appliance=None, seq=i + 1) for i, f in enumerate(imss)], [], ScanStats())
    assert len(merged) == 1 and len(merged[0].spoof_traces) == 2
    # as they are named (one rotation given twice) a session is never joined across them (rotation.breaks)
    assert len(read_sessions([replace(f, appliance=None) for f in imss], [], ScanStats())) == 2


def _rows(paths: list[Path]) -> list[dict]:
    r = runner.invoke(app, ["correlate", *map(str, paths), "--format", "jsonl"])
    assert r.exit_code == 0, r.output
    return [json.loads(x) for x in r.stdout.splitlines()]


def test_two_appliances_with_colliding_threads_give_separate_correct_rows() -> None:
    rows = _rows([TWO])
    assert [(r["appliance"], r["thread"], r["internal_id"], r["status"], r["logged"]["ips"]) for r in rows] == [
        ("imsva01", "28639:4098483968", "87BDADC9-87B8-3D05-A958-0267A8088406", "linked", ["1111:2222:3333:444::5555"]),
        ("imsva02", "28639:4098483968", "4C1D2E3F-5A6B-4C7D-8E9F-0A1B2C3D4E5F", "linked", ["203.0.113.77"]),
    ]
    assert [r["final_actions"] for r in rows] == [[], ["QuarantineAction"]]  # imsva01's log ends before its final action
    for r in rows:  # every line of a row, trace and policy event alike, is from its own appliance
        assert all(f"/{r['appliance']}/IMSVA/" in s["file"] for s in r["source"]), r["source"]
    # each appliance alone gives the same row
    for host in ("imsva01", "imsva02"):
        alone = _rows([TWO / host])
        assert [{**r, "source": None} for r in alone] == [{**r, "source": None} for r in rows if r["appliance"] == host]
    assert len(imsvalog.sessions(TWO)) == 2


def test_a_ticket_zip_of_two_cdt_bundles_is_two_appliances(tmp_path: Path) -> None:
    inner = {}
    for host in ("imsva01", "imsva02"):
        members = {str(p.relative_to(TWO / host)): p.read_bytes() for p in sorted((TWO / host).rglob("*")) if p.is_file()}
        z = make_bundles.write_cdt_zip(tmp_path / f"CDT-2019043{host[-1]}-100000.zip", members, "trend")
        inner[z.name] = z.read_bytes()
    ticket = make_bundles.write_cdt_zip(tmp_path / "ticket-4711.zip", inner, None)
    rows = _rows([ticket])
    assert [(r["appliance"], r["internal_id"], r["status"]) for r in rows] == [
        ("CDT-20190431-100000", "87BDADC9-87B8-3D05-A958-0267A8088406", "linked"),
        ("CDT-20190432-100000", "4C1D2E3F-5A6B-4C7D-8E9F-0A1B2C3D4E5F", "linked"),
    ]
    assert rows[0]["source"][0]["file"] == f"{ticket}!CDT-20190431-100000.zip!IMSVA/LogFile/Event3/log.imss.20190430.0001"


def test_two_bundles_of_the_same_name_in_different_folders_are_two_appliances(tmp_path: Path) -> None:
    """Tester's failure: x/CDT-20190430-000000.zip and y/CDT-20190430-000000.zip (imsva01, imsva02) were merged
    into one appliance, because appliances were grouped by the bundle's stem, not by the bundle."""
    for folder, host in (("x", "imsva01"), ("y", "imsva02")):
        members = {str(p.relative_to(TWO / host)): p.read_bytes() for p in sorted((TWO / host).rglob("*")) if p.is_file()}
        (tmp_path / folder).mkdir()
        make_bundles.write_cdt_zip(tmp_path / folder / "CDT-20190430-000000.zip", members, "trend")
    rows = _rows([tmp_path / "x", tmp_path / "y"])
    assert [(r["appliance"], r["internal_id"], r["status"]) for r in rows] == [
        ("x/CDT-20190430-000000", "87BDADC9-87B8-3D05-A958-0267A8088406", "linked"),
        ("y/CDT-20190430-000000", "4C1D2E3F-5A6B-4C7D-8E9F-0A1B2C3D4E5F", "linked"),
    ]
    assert [r["final_actions"] for r in rows] == [[], ["QuarantineAction"]]  # not one session swallowing both


# ---------------------------------------------------------------------------
# syslog-forwarded
# ---------------------------------------------------------------------------

#: (host, kind) -> the files the fixture's lines came from (fixtures/make_syslog.py)
ORIGINALS = {
    ("imsva", "imss"): ["busy-day/log.imss.20240312.0001", "busy-day/log.imss.20240312.0002.gz"],
    ("imsva", "polevt"): ["busy-day/polevt.imss.20240312.0001"],
    ("imsva", "msgtra"): ["busy-day/msgtra.imss.20240312.0001"],
    ("imsva", "maillog"): ["busy-day/maillog-20240313"],
    ("imsva02", "imss"): ["kb000239719/log.imss.20190430.0001"],
    ("imsva02", "polevt"): ["kb000239719/polevt.imss.20190430.0001"],
}


def _fields(item) -> dict:
    row = to_row(item)
    for k in ("file", "line"):
        row.pop(k, None)
    return row


def test_the_forwarded_fixture_has_what_it_claims() -> None:
    text = FORWARDED.read_text()
    assert "#011" in text and "\t" not in text
    hosts = {w.host for w in map(unwrap_line, text.splitlines()) if w is not None}
    assert hosts == {"imsva", "imsva02"}
    assert any(ln.startswith("<134>1 ") for ln in text.splitlines())  # RFC 5424
    assert any(ln[:4].isdigit() for ln in text.splitlines())  # RFC 3339 timestamps


def test_forwarded_lines_give_the_records_of_the_unwrapped_files() -> None:
    got: dict[tuple[str, str], list] = defaultdict(list)
    files = discover([FORWARDED]).files
    assert {(f.appliance, f.kind) for f in files} == set(ORIGINALS)
    for f in files:
        for item in iter_file(f):
            assert item.source.file == str(FORWARDED)
            got[(f.appliance, f.kind)].append(item)
    for key, rels in ORIGINALS.items():
        folder = FIXTURES / Path(rels[0]).parent  # read with its folder: maillog takes its zone from log.imss
        want = [x for x in iter_records([folder]) if x.source.file in {str(FIXTURES / rel) for rel in rels}]
        if key[1] == "maillog":  # only Postfix lines are forwarded as maillog (the fixture's other lines are not)
            want = [x for x in want if not isinstance(x, Reject) and x.program.startswith("postfix")]
        assert [_fields(x) for x in got[key]] == [_fields(x) for x in want], key
    # line numbers are those of the forwarded file
    first = got[("imsva02", "polevt")][0]
    assert FORWARDED.read_text().splitlines()[first.source.line - 1].startswith("Mar 12 09:15:06 imsva02 polevt.imss: ")


def test_correlate_on_the_forwarded_file_gives_the_rows_of_the_originals() -> None:
    rows = _rows([FORWARDED])
    busy = _rows([FIXTURES / "busy-day"])
    kb = _rows([FIXTURES / "kb000239719"])
    assert {r["appliance"] for r in rows} == {"imsva", "imsva02"}

    def key(r: dict) -> tuple:
        link = r["link"] and (r["link"]["basis"], r["link"]["confidence"])  # its detail names the lines
        return (r["internal_id"], r["thread"], r["status"], r["logged"] and r["logged"]["ips"], r["agrees"], link)

    assert sorted(map(key, (r for r in rows if r["appliance"] == "imsva"))) == sorted(map(key, busy))
    assert sorted(map(key, (r for r in rows if r["appliance"] == "imsva02"))) == sorted(map(key, kb))
    # every line a row cites is a forwarded line of its appliance (line numbers of the forwarded file)
    forwarded = FORWARDED.read_text().splitlines()
    for r in rows:
        for src in r["source"]:
            w = unwrap_line(forwarded[src["line"] - 1])
            assert w is not None and w.host == r["appliance"] and w.kind in ("imss", "polevt", "msgtra"), src


def test_other_programs_are_one_skip_line() -> None:
    r = runner.invoke(app, ["parse", str(FORWARDED), "--format", "jsonl"])
    assert r.exit_code == 0, r.output
    assert "forwarded lines of other programs not read: tlsagent (15)" in r.stderr


@pytest.mark.parametrize(
    ("line", "host", "kind", "inner"),
    [
        ("Jul  9 11:49:16 imsva01 msgtra.imss: NormalTransac#0112019 Jul 09 11:49:16 +08:00", "imsva01", "msgtra",
         "NormalTransac\t2019 Jul 09 11:49:16 +08:00"),
        ("<134>1 2024-03-12T09:15:00.5+01:00 imsva02 log.imss - - - 2024/03/12 09:15:00 GMT+01:00 [1:2] x", "imsva02", "imss",
         "2024/03/12 09:15:00 GMT+01:00 [1:2] x"),
        ("<134>1 2024-03-12T09:15:00Z imsva02 polevt.imss 77 ID1 [origin ip=\"192.0.2.1\"] a#011b", "imsva02", "polevt", "a\tb"),
        ("2024-03-12T09:15:00+01:00 imsva03 log.imss: #null# stays, #0x not octal", "imsva03", "imss", "#null# stays, #0x not octal"),
        ("Mar 12 09:15:00 imsva postfix/smtpd[24750]: connect from x[192.0.2.1]", "imsva", "maillog",
         "Mar 12 09:15:00 imsva postfix/smtpd[24750]: connect from x[192.0.2.1]"),
        ("Mar 12 09:15:00 imsva tlsagent: handshake", "imsva", None, "handshake"),
    ],
)
def test_unwrap_shapes(line: str, host: str, kind: str | None, inner: str) -> None:
    w = unwrap_line(line)
    assert w is not None and (w.host, w.kind, w.line) == (host, kind, inner)


@pytest.mark.parametrize("line", ["-- MARK --", "2019/04/30 13:57:43 GMT+09:00 [28639:4098483968] Final action 0", ""])
def test_not_forwarded(line: str) -> None:
    assert unwrap_line(line) is None


def test_the_table_names_the_appliance_when_there_are_several() -> None:
    r = runner.invoke(app, ["correlate", str(TWO), "--wide"])
    assert r.exit_code == 0
    header, *rows = [ln for ln in r.stdout.splitlines() if "│" in ln or "┃" in ln]
    assert header.split("┃")[1].strip() == "appliance"
    assert [ln.split("│")[1].strip() for ln in rows] == ["imsva01", "imsva02"]
    r = runner.invoke(app, ["correlate", str(FIXTURES / "kb000239719")])
    assert "appliance" not in r.stdout.splitlines()[1]  # one appliance (or none): no column


@pytest.mark.parametrize("name", ["maillog-20240312", "maillog", "messages"])
def test_a_syslog_servers_file_holding_forwarded_imsva_lines_is_unwrapped_whatever_its_name(tmp_path: Path, name: str) -> None:
    """A syslog server writes IMSVA's forwarded lines into its own files (often maillog or messages):
    they are unwrapped (no literal #011 left), not read as Postfix lines of program 'polevt.imss'."""
    path = tmp_path / name
    # other programs' lines first: the IMSVA lines are found beyond the first few lines
    path.write_text("".join(f"Mar 12 09:14:{i:02} gw kernel: eth0 up {i}\n" for i in range(12)) + FORWARDED.read_text())
    r = runner.invoke(app, ["parse", str(path), "--format", "jsonl"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert "#011" not in r.stdout
    want = [json.loads(x) for x in runner.invoke(app, ["parse", str(FORWARDED), "--format", "jsonl"]).stdout.splitlines()]
    kinds = [x["kind"] for x in rows]
    assert kinds.count("polevt") == sum(x["kind"] == "polevt" for x in want) == 11
    assert {x["subject"] for x in rows if x["kind"] == "polevt"} == {x["subject"] for x in want if x["kind"] == "polevt"}


def test_every_octal_control_escape_is_unwrapped_and_other_hashes_stay() -> None:
    w = unwrap_line("Mar 12 09:15:02 imsva polevt.imss: 2024/03/12 09:15:01 GMT+01:00#011ID-1#011Re: order #4711#033[31m#015")
    assert w is not None and w.kind == "polevt"
    assert w.line == "2024/03/12 09:15:01 GMT+01:00\tID-1\tRe: order #4711\x1b[31m\r"
