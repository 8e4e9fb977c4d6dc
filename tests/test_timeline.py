"""`imsvalog trace`: one message through Postfix, the scanner, polevt, msgtra and Postfix again."""

from __future__ import annotations

import gzip
import json
import re

import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.errors import InputError
from imsvalog.readers import iter_log_imss
from imsvalog.timeline import STAGES, id_kind, trace

from .conftest import FIXTURES

runner = CliRunner()
BUSY = FIXTURES / "busy-day"
IID = "4C4C4C4C-5D5D-46E6-97F7-A8A8B9B9CACA"
MID = "nl-0312.77@news.partner.example.org"


def refs(t):
    return [(ln.file.rsplit("/", 1)[-1], ln.line) for ln in t.lines]


@pytest.mark.parametrize("query", [IID, IID.lower(), f"<{MID}>", MID, "5B5B5B5B5B", "6C6C6C6C6C"])
def test_every_kind_of_id_gives_the_same_full_timeline(query: str) -> None:
    t = trace(query, [BUSY])
    assert t.internal_ids == [IID] and t.message_ids == [MID] and t.queue_ids == ["5B5B5B5B5B", "6C6C6C6C6C"]
    assert refs(t) == refs(trace(IID, [BUSY]))
    assert all(n > 0 for n in t.stages.values()), t.stages  # both Postfix passes, scan, policy event, msgtra
    # in time order, stages in pipeline order within a second
    times = [ln.time for ln in t.lines]
    assert times == sorted(times)
    first = {s: min(i for i, ln in enumerate(t.lines) if ln.stage == s) for s in STAGES}
    assert first["postfix-in"] < first["scan"] < first["policy"] <= first["tracking"] < first["postfix-out"]


def test_the_scan_is_every_line_of_its_thread_across_the_rotation_into_gz() -> None:
    t = trace(IID, [BUSY])
    scan = [ln for ln in t.lines if ln.stage == "scan"]
    # the full reader's lines of thread 4242:139874, from its Accept line to its Scan finished line
    want = [(r.source.file.rsplit("/", 1)[-1], r.source.line) for r in iter_log_imss([BUSY]) if r.tid == 139874]
    assert [(ln.file.rsplit("/", 1)[-1], ln.line) for ln in scan] == want
    assert want[0] == ("log.imss.20240312.0001", 105) and want[-1] == ("log.imss.20240312.0002.gz", 9)
    assert "Accept connection" in scan[0].text and "Scan finished for " + IID in scan[-1].text
    assert any("starts at its Accept connection line" in n and "ends at its Scan finished line" in n for n in t.notes)


def test_a_reused_thread_gives_only_its_own_message() -> None:
    # thread 4242:139872 scans 6F2D1E0B.. then 1B2C3D4E.. then 7F7F7F7F..: each trace gets its own run only
    t = trace("1B2C3D4E-5F60-4172-8394-A5B6C7D8E9F0", [BUSY])
    scan = [ln for ln in t.lines if ln.stage == "scan"]
    assert "Accept connection" in scan[0].text and "Scan finished for 1B2C3D4E" in scan[-1].text
    assert not any("6F2D1E0B" in ln.text or "7F7F7F7F" in ln.text or "rot.1710231598" in ln.text for ln in scan)
    assert {ln.text.split("[", 1)[1].split("]")[0] for ln in scan} == {"4242:139872"}


def test_each_line_says_the_link_that_brought_it_in() -> None:
    t = trace("6C6C6C6C6C", [BUSY])
    links = {(ln.stage, ln.link) for ln in t.lines}
    assert ("postfix-in", "queue ID 5B5B5B5B5B") in links  # found through 'queued as 6C6C6C6C6C'
    assert ("postfix-out", "queue ID 6C6C6C6C6C") in links
    assert ("scan", "scan on thread 4242:139874") in links
    assert ("policy", f"internal ID {IID}") in links


def test_raw_gives_the_original_bytes_with_their_source(tmp_path) -> None:
    out = tmp_path / "escalation.log"
    r = runner.invoke(app, ["trace", IID, str(BUSY), "--raw", "-o", str(out)])
    assert r.exit_code == 0, r.output
    got = out.read_bytes().splitlines()
    files = {p.name: (gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()).split(b"\n")
             for p in BUSY.iterdir()}
    assert len(got) == len(trace(IID, [BUSY]).lines) == 23
    for line in got:
        path, lineno, raw = line.split(b":", 2)
        assert files[path.decode().rsplit("/", 1)[-1]][int(lineno) - 1] == raw


def test_markdown_renders_as_a_table() -> None:
    r = runner.invoke(app, ["trace", MID, str(BUSY), "--format", "markdown"])
    assert r.exit_code == 0, r.output
    html = MarkdownIt("commonmark").enable("table").render(r.stdout)
    assert html.count("<table>") == 1
    assert html.count("<tr>") == 23 + 1  # one row per line and the header
    assert html.count("<td>") == 23 * 5
    assert "&lt;nl-0312.77@news.partner.example.org&gt;" in html


def test_json_and_jsonl() -> None:
    d = json.loads(runner.invoke(app, ["trace", IID, str(BUSY), "--format", "json"]).stdout)
    assert d["stages"] == {"postfix-in": 5, "scan": 11, "policy": 1, "tracking": 1, "postfix-out": 5}
    assert d["lines"][0]["time"] == "2024-03-12T09:19:58+01:00"  # maillog read in log.imss's zone
    rows = [json.loads(x) for x in runner.invoke(app, ["trace", IID, str(BUSY), "--format", "jsonl"]).stdout.splitlines()]
    assert len(rows) == 23 and {"stage", "time", "file", "line", "link", "text"} <= rows[0].keys()


def test_table_states_date_and_zone_once() -> None:
    r = runner.invoke(app, ["trace", IID, str(BUSY)])
    assert r.exit_code == 0, r.output
    assert "Times on 2024-03-12, UTC+01:00." in r.stdout
    assert f"09:20:00  scan          {BUSY}/log.imss.20240312.0002.gz:9" in r.stdout


def test_table_names_the_bundle_member_and_fits_80_columns() -> None:
    """Issue 9 item 1: BUNDLE!member:line in every output; the table showed only the member's base name.
    At 80 columns a long provenance loses its middle (IMSVA/LogFile/EventN, then its start), never its end."""
    bundle = FIXTURES / "bundles" / "CDT-20240312-101500.zip"
    lines = json.loads(runner.invoke(app, ["trace", IID, str(bundle), "--format", "json"]).stdout)["lines"]
    assert lines and all(f"{bundle}!IMSVA/" in ln["file"] for ln in lines)
    for env in ({"COLUMNS": "80"}, {"COLUMNS": ""}):
        r = runner.invoke(app, ["trace", IID, str(bundle)], env=env)
        assert r.exit_code == 0, r.output
        rows = [x for x in r.stdout.splitlines() if x[:2].isdigit() and x[2] == ":"]
        assert len(rows) == len(lines)
        for row, ln in zip(rows, lines, strict=True):
            where = row.split()[3 if row.split()[1] in ("Postfix", "policy") else 2]
            if env["COLUMNS"]:
                assert max(map(len, r.stdout.splitlines())) <= 80
                full = f"{ln['file']}:{ln['line']}"
                assert where.endswith(f"{re.split('[/!]', ln['file'])[-1]}:{ln['line']}") and "zip!" in where, where
                assert where.startswith("…") and where[1:] in re.sub(r"IMSVA/LogFile/Event\d+/", "…/", full, flags=re.I), where
            else:  # no width to fit: the whole provenance
                assert where == f"{ln['file']}:{ln['line']}"


def test_an_address_lists_its_messages_and_since_until_narrow_them() -> None:
    t = trace("bob@example.com", [BUSY])
    assert t.id_kind == "address"
    assert [c.internal_id for c in t.candidates] == [
        "5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C", "0A1B2C3D-4E5F-4A6B-9C7D-8E9F0A1B2C3D", IID]
    r = runner.invoke(app, ["trace", "BOB@example.com", str(BUSY), "--since", "2024-03-12T09:19", "--until", "2024-03-12 09:21"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("1 message from or to BOB@example.com:")
    assert IID in r.stdout and "5E1C0F7A" not in r.stdout


def test_a_missing_kind_is_said() -> None:
    t = trace(IID, [BUSY / "log.imss.20240312.0001", BUSY / "log.imss.20240312.0002.gz"])
    assert t.stages["scan"] == 11 and t.stages["policy"] == 0
    assert "no polevt.imss was given: policy events cannot be shown" in t.notes
    assert "no maillog was given: the Postfix passes cannot be shown" in t.notes


def test_unknown_id_says_nothing_mentions_it_and_exits_1_as_grep() -> None:
    r = runner.invoke(app, ["trace", "00000000-0000-4000-8000-000000000000", str(BUSY)])
    assert r.exit_code == 1
    assert "nothing in the logs given mentions 00000000-0000-4000-8000-000000000000" in r.stderr
    assert "holds no scan" not in r.stderr  # said once: nothing at all, not also "no scan"


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "markdown", "raw"])
def test_nothing_found_is_exit_1_in_every_format_and_something_found_is_0(fmt: str) -> None:
    how = ["--raw"] if fmt == "raw" else ["--format", fmt]
    nothing = runner.invoke(app, ["trace", "nobody@example.com", str(BUSY), *how])
    assert nothing.exit_code == 1, nothing.output
    assert "no message from or to nobody@example.com" in nothing.stderr
    found = runner.invoke(app, ["trace", IID, str(BUSY), *how])
    assert found.exit_code == 0 and IID in found.stdout


def test_the_help_says_what_the_exit_status_means() -> None:
    r = runner.invoke(app, ["trace", "--help"], env={"COLUMNS": "200"})
    assert "Exit status (as grep): 0 when lines about the message were found, 1 when none was" in " ".join(r.stdout.split())


def test_what_is_not_an_id_is_a_one_line_error() -> None:
    with pytest.raises(InputError):
        id_kind("not an id!")
    r = runner.invoke(app, ["trace", "not an id!", str(BUSY)])
    assert r.exit_code == 2 and r.stderr.startswith("imsvalog: error:") and len(r.stderr.splitlines()) == 1


def test_hostile_text_is_escaped_in_the_table_and_markdown() -> None:
    for fmt in ("table", "markdown"):
        r = runner.invoke(app, ["trace", "DEADBEEF-0000-4000-8000-00000000BEEF", str(FIXTURES / "hostile"), "--format", fmt])
        assert r.exit_code == 0, r.output
        assert "evil.1@attacker.example" in r.stdout
        assert "\x1b" not in r.stdout and "\u202e" not in r.stdout


@pytest.mark.parametrize("block", [40, 64, 1000])
def test_small_read_blocks_find_the_same_lines(monkeypatch: pytest.MonkeyPatch, tmp_path, block: int) -> None:
    """IDs that straddle two read blocks are found once, and line numbers stay exact."""
    import shutil

    import imsvalog.timeline as timeline

    for p in BUSY.iterdir():
        shutil.copy(p, tmp_path / p.name)
    want = refs(trace(IID, [tmp_path]))
    monkeypatch.setattr(timeline, "_BLOCK", block)
    assert refs(trace(IID, [tmp_path])) == want
    assert refs(trace(MID, [tmp_path])) == want


def test_a_queue_id_copied_with_its_maillog_colon_is_accepted() -> None:
    """A user copies ``5B5B5B5B5B:`` out of a maillog line; before, that was 'not ... a Postfix queue ID'."""
    assert id_kind("5B5B5B5B5B:") == "queue-id"
    assert refs(trace("5B5B5B5B5B:", [BUSY])) == refs(trace(IID, [BUSY]))
    r = runner.invoke(app, ["trace", "6C6C6C6C6C:", str(BUSY), "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["query"] == "6C6C6C6C6C"
    with pytest.raises(InputError):
        id_kind("a:b:")


def test_the_id_prefix_the_correlate_table_shows_is_traced_as_that_internal_id(tmp_path) -> None:
    """The 80-column correlate table shows a unique prefix of each internal ID (``5E1C0F7A``); before, tracing
    it said '0 lines' and 'nothing in the logs given mentions 5E1C0F7A' with exit 0 (attack on issue 10, F2)."""
    full = trace(IID, [BUSY])
    for prefix in (IID[:8], IID[:10].lower(), IID[:13]):
        t = trace(prefix, [BUSY])
        assert t.query == IID and refs(t) == refs(full)
        assert t.notes[0].startswith(f"{prefix} is the start of internal ID {IID}")
    r = runner.invoke(app, ["trace", IID[:8], str(BUSY), "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["query"] == IID
    # a real queue ID of the same shape is still a queue ID
    assert trace("4A1F3C0042", [BUSY]).queue_ids[0] == "4A1F3C0042"
    # two internal IDs start alike: exit 2 naming both; no ID starts so: exit 2 saying so
    case = tmp_path / "case"
    case.mkdir()
    src = (BUSY / "polevt.imss.20240312.0001").read_text()
    other = IID[:9] + "FFFF" + IID[13:]
    line = next(x for x in src.splitlines() if IID in x)
    (case / "polevt.imss.20240312.0001").write_text(src + line.replace(IID, other) + "\n")
    r = runner.invoke(app, ["trace", IID[:8], str(case)])
    assert r.exit_code == 2 and IID in r.output and other in r.output and "give more of it" in r.output
    assert runner.invoke(app, ["trace", IID[:10], str(case)]).exit_code == 0
    r = runner.invoke(app, ["trace", "5E1C0F7A-9", str(case)])
    assert r.exit_code == 2 and "no internal ID in the logs given starts with 5E1C0F7A-9" in r.output


def test_an_id_prefix_is_unique_only_if_log_imss_holds_no_other_id_so(tmp_path) -> None:
    """Attack: the prefix search stopped at polevt/msgtra when they named one ID, so a scan only log.imss holds
    (no policy event) was never seen, and trace said 'the only one in the logs given' of the wrong message."""
    case = tmp_path / "case"
    case.mkdir()
    imss_only = "9D8C7B6A-5F4E-"  # busy-day's scan without policy event
    assert imss_only in (BUSY / "log.imss.20240312.0001").read_text() + (
        gzip.decompress((BUSY / "log.imss.20240312.0002.gz").read_bytes()).decode())
    for f in BUSY.iterdir():
        if f.name.startswith("polevt"):
            (case / f.name).write_text(f.read_text().replace("5E1C0F7A-3B2D-", "9D8C7B6A-3B2D-"))
        elif f.name.startswith("log.imss"):
            (case / f.name).write_bytes(f.read_bytes())
    r = runner.invoke(app, ["trace", "9D8C7B6A", str(case)])
    assert r.exit_code == 2 and "9D8C7B6A-3B2D-" in r.output and imss_only in r.output
