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
        ("correlate", set(FLAT_COLUMNS) - {"skipped", "appliance"}),  # appliance: a partition key
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
