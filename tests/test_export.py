"""imsvalog export: Parquet files that DuckDB reads, with the documented schema, and the README's query."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.export import COLUMNS, SCHEMA_VERSION, export, schema
from imsvalog.records import ImssRecord, MailLogEntry, PolicyEvent, Transaction
from imsvalog.correlation import FLAT_COLUMNS

from .conftest import ROOT

README = ROOT / "README.md"
DUCKDB_BLOCK = re.compile(
    r"(<!-- BEGIN duckdb -->\n```sh\n)(.*?)(\n```\n\n```sql\n)(.*?)(```\n\n```text\n)(.*?)(```\n<!-- END duckdb -->)", re.S
)


def run_cli(args: list[str]) -> str:
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    return r.output


def test_readme_duckdb_query_matches_the_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = README.read_text()
    m = DUCKDB_BLOCK.search(text)
    assert m is not None, "README lacks the DuckDB block"
    command, sql, shown = m.group(2), m.group(4), m.group(6)
    args = shlex.split(command)[1:]
    # fixture paths relative to the repository, the output relative to a scratch folder
    args = [str(ROOT / a) if (ROOT / a).exists() and a.startswith("fixtures") else a for a in args]
    monkeypatch.chdir(tmp_path)
    run_cli(args)
    result = str(duckdb.sql(sql))
    if os.environ.get("IMSVALOG_UPDATE_README"):
        README.write_text(text[: m.start(6)] + result + text[m.end(6):])
        return
    assert shown == result
    # two cases, and the query saw both
    assert {p.name for p in (tmp_path / "lake").iterdir()} == {"case_name=busy-day", "case_name=kb000239719"}
    assert "1111:2222:3333:444::5555" in result and "203.0.113.45" in result


def test_every_record_field_has_a_column() -> None:
    """The schema is written out by hand; this keeps it complete when a record gains a field."""
    from dataclasses import fields

    imss_fields = {f.name for cls in ImssRecord.__subclasses__() for f in fields(cls)}
    for kind, names in (
        ("imss", imss_fields | {"thread"}),
        ("polevt", {f.name for f in fields(PolicyEvent)}),
        ("msgtra", {f.name for f in fields(Transaction)}),
        ("maillog", {f.name for f in fields(MailLogEntry)}),
        ("correlate", set(FLAT_COLUMNS) - {"skipped", "appliance"}),  # appliance: the partition key; its name is appliance_name
    ):
        missing = names - {"source"} - set(COLUMNS[kind])
        assert not missing, f"kind={kind}: add columns {sorted(missing)} to imsvalog/export.py"


def test_files_carry_the_documented_schema_and_every_line(tmp_path: Path) -> None:
    report = export(ROOT / "fixtures" / "busy-day", tmp_path)
    counts = report.rows["busy-day"]
    files = sorted(tmp_path.rglob("*.parquet"))
    kinds = {f.parent.parent.name.removeprefix("kind=") for f in files}
    assert kinds == {"imss", "polevt", "msgtra", "maillog", "reject", "correlate"}
    for f in files:
        kind = f.parent.parent.name.removeprefix("kind=")
        t = pq.read_table(f)
        assert t.schema.equals(schema(kind), check_metadata=False)
        assert set(t.column("schema_version").to_pylist()) == {SCHEMA_VERSION}
    # every line is a record or a reject: as many rows as lines in the files
    lines = sum(len(p.read_bytes().splitlines()) for p in (ROOT / "fixtures" / "busy-day").iterdir() if not p.name.endswith(".gz"))
    import gzip

    lines += sum(len(gzip.decompress(p.read_bytes()).splitlines()) for p in (ROOT / "fixtures" / "busy-day").glob("*.gz"))
    assert sum(n for k, n in counts.items() if k != "correlate") == lines
    # times are UTC in the file, the logged offset beside them; the date partition is the logged day
    con = duckdb.connect()
    (row,) = con.sql(
        f"SELECT time AT TIME ZONE 'UTC', utc_offset_min, date FROM read_parquet('{tmp_path}/*/*/kind=polevt/*/*.parquet', "
        "hive_partitioning=true) ORDER BY line LIMIT 1"
    ).fetchall()
    assert row[1] == 60 and str(row[2]) == "2024-03-12"


def test_reexport_replaces_the_case_and_keeps_others(tmp_path: Path) -> None:
    export(ROOT / "fixtures" / "busy-day", tmp_path)
    export(ROOT / "fixtures" / "kb000239719", tmp_path)
    first = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.parquet"))
    export(ROOT / "fixtures" / "kb000239719", tmp_path, case="kb000239719")
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.parquet")) == first
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".imsvalog-tmp")]


def test_bundle_name_is_the_case(tmp_path: Path) -> None:
    event3 = tmp_path / "in" / "CDT-20240312-101010" / "IMSVA" / "LogFile" / "Event3"
    event3.mkdir(parents=True)
    for f in (ROOT / "fixtures" / "kb000239719").iterdir():
        (event3 / f.name).write_bytes(f.read_bytes())
    export(tmp_path / "in" / "CDT-20240312-101010", tmp_path / "out", appliance="imsva 01/../x")
    (case,) = (tmp_path / "out").iterdir()
    assert case.name == "case_name=CDT-20240312-101010"
    (app_dir,) = case.iterdir()
    assert app_dir.name == "appliance=imsva_01_.._x"  # one safe folder name, never a path


def test_output_that_holds_an_input_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "case"
    src.mkdir()
    log = src / "polevt.imss.20190430.0001"
    log.write_bytes((ROOT / "fixtures" / "kb000239719" / "polevt.imss.20190430.0001").read_bytes())
    before = sorted(p.name for p in src.iterdir())
    r = CliRunner().invoke(app, ["export", str(src), "--to", str(tmp_path)])
    assert r.exit_code == 2
    assert "refusing to write here" in r.output
    assert sorted(p.name for p in src.iterdir()) == before
    assert not list(tmp_path.glob("case_name=*"))


def test_cli_needs_a_target() -> None:
    r = CliRunner().invoke(app, ["export", "fixtures/kb000239719"])
    assert r.exit_code == 2
    assert "--to DIR" in r.output


# ---------------------------------------------------------------------------
# several appliances: each line and each correlate row under its own appliance
# ---------------------------------------------------------------------------


def _cdt_of_two_appliance_folders(tmp_path: Path) -> Path:
    """One CDT zip holding two appliance folders (imsva01/IMSVA/LogFile/..., imsva02/IMSVA/Logfile/...)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_bundles", ROOT / "fixtures" / "make_bundles.py")
    make_bundles = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(make_bundles)  # type: ignore[union-attr]
    two = ROOT / "fixtures" / "two-appliances"
    members = {
        f"{host}/{p.relative_to(two / host)}": p.read_bytes()
        for host in ("imsva01", "imsva02") for p in sorted((two / host).rglob("*")) if p.is_file()
    }
    out = tmp_path / "in"
    out.mkdir()
    return make_bundles.write_cdt_zip(out / "CDT-20190430-120000.zip", members, "trend")


def _cli_jsonl(args: list[str]) -> list[dict]:
    import json

    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    return [json.loads(x) for x in r.stdout.splitlines()]


@pytest.mark.parametrize("which", ["syslog", "two-appliances", "bundle"])
def test_every_row_is_under_its_own_appliance(tmp_path: Path, which: str) -> None:
    """Bug: every appliance of a case was written under one name (imsva02's syslog lines under
    appliance=imsva) and correlate rows lost their appliance. Read back with DuckDB and pyarrow."""
    from collections import Counter

    src = {
        "syslog": ROOT / "fixtures" / "syslog" / "siem-export.log",
        "two-appliances": ROOT / "fixtures" / "two-appliances",
        "bundle": _cdt_of_two_appliance_folders(tmp_path) if which == "bundle" else None,
    }[which]
    export(src, tmp_path / "lake")
    lake = f"{tmp_path}/lake/**/*.parquet"
    got = Counter(
        {(a, n, k): c for a, n, k, c in duckdb.sql(
            f"SELECT appliance, appliance_name, kind, count(*) FROM read_parquet('{lake}', hive_partitioning=true, "
            "union_by_name=true) GROUP BY ALL").fetchall()}
    )
    # correlate's own rows, by its appliance column
    rows = _cli_jsonl(["correlate", str(src), "--format", "jsonl"])
    want_correlate = Counter(r["appliance"] for r in rows)
    assert {n: c for (_, n, k), c in got.items() if k == "correlate"} == want_correlate
    assert len(want_correlate) == 2  # two appliances in every input here
    # parse's records, each counted under the appliance whose stream holds it
    want: Counter[tuple[str, str]] = Counter()
    if which == "syslog":  # the host field of each forwarded line, read straight from the file
        prefix = re.compile(r"(?:<\d+>1 \S+|\w{3} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\S+) (\S+) ([^\s\[:]+)")
        for line in src.read_text(errors="replace").splitlines():
            m = prefix.match(line)
            assert m, line
            host, prog = m.groups()
            kind = {"log.imss": "imss", "polevt.imss": "polevt", "msgtra.imss": "msgtra"}.get(prog)
            kind = kind or ("maillog" if prog.startswith("postfix/") else None)
            if kind:
                want[(host, kind)] += 1
    elif which == "two-appliances":  # each appliance folder parsed alone
        for host in ("imsva01", "imsva02"):
            for r in _cli_jsonl(["parse", str(src / host), "--format", "jsonl"]):
                want[(host, r["kind"])] += 1
    else:  # the bundle: parse's records by their member's appliance folder
        for r in _cli_jsonl(["parse", str(src), "--format", "jsonl"]):
            folder = r["file"].split("!")[1].split("/")[0]
            want[(f"CDT-20190430-120000/{folder}", r["kind"])] += 1
    assert {(n, k): c for (_, n, k), c in got.items() if k != "correlate"} == dict(want)
    # the folder is the name made safe; the column keeps it as correlate gives it
    for a, n, _ in got:
        assert a == n.replace("/", "_")
    # pyarrow reads the same partitions: each appliance folder holds only its own rows
    for folder in (tmp_path / "lake").glob("case_name=*/appliance=*"):
        names = {n for f in folder.rglob("*.parquet") for n in pq.read_table(f).column("appliance_name").to_pylist()}
        assert [n.replace("/", "_") for n in names] == [folder.name.removeprefix("appliance=")]


def test_appliance_renames_only_a_case_of_one_appliance(tmp_path: Path) -> None:
    two = ROOT / "fixtures" / "two-appliances"
    r = CliRunner().invoke(app, ["export", str(two), "--to", str(tmp_path / "lake"), "--appliance", "gw"])
    assert r.exit_code == 2
    assert "--appliance names one appliance, but case two-appliances holds 2: imsva01, imsva02" in r.output
    assert not (tmp_path / "lake").exists()  # refused before anything was written
    export(two / "imsva02", tmp_path / "lake", appliance="gw")
    names = duckdb.sql(f"SELECT DISTINCT appliance, appliance_name, kind FROM read_parquet('{tmp_path}/lake/**/*.parquet', "
                       "hive_partitioning=true, union_by_name=true) ORDER BY kind").fetchall()
    assert names == [("gw", "gw", "correlate"), ("gw", "gw", "imss"), ("gw", "gw", "polevt")]
