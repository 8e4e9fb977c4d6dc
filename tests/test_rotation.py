"""A log cut into rotated files (some gzipped) correlates exactly like the single file (issue 11)."""

from __future__ import annotations

import gzip
import importlib.util
import shutil
from pathlib import Path

import imsvalog

from .conftest import ROOT


def _generator():
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _global(rows: list[dict], offsets: dict[str, int]) -> list[dict]:
    """Rows with every source as a line number of the whole log (and no file names in the text)."""
    out = []
    for r in rows:
        r = dict(r)
        r["source"] = [(Path(s["file"]).name.startswith("log.imss"), offsets.get(s["file"], 0) + s["line"]) for s in r["source"]]
        r.pop("explanation")
        out.append(r)
    return out


def test_ten_rotated_files_some_gzipped_give_the_rows_of_the_single_file(tmp_path: Path) -> None:
    gen = _generator()
    single = tmp_path / "single"
    log, pol, spoofs = gen.generate(single, 3, density=0.27, spoof_share=0.05)
    parts = gen.rotate(log, tmp_path / "rotated", 10, gzipped=3)
    shutil.copy(pol, tmp_path / "rotated" / pol.name)
    assert len(parts) == 10 and sum(p.suffix == ".gz" for p in parts) == 3

    offsets, seen = {}, 0
    for p in parts:
        offsets[str(p)] = seen
        raw = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
        seen += raw.count(b"\n")
    a, b = imsvalog.correlate(single), imsvalog.correlate(tmp_path / "rotated")
    rows_a = _global([r.to_dict() for r in a.rows], {})
    rows_b = _global([r.to_dict() for r in b.rows], offsets)
    assert len(rows_a) >= spoofs > 5
    assert rows_b == rows_a
    sa, sb = a.summary.to_dict(), b.summary.to_dict()
    assert sb.pop("files") != sa.pop("files")
    assert sb == sa
    # scans do cross the cuts: some session holds lines of two files
    assert any(len(s.files) > 1 for s in b.sessions)
