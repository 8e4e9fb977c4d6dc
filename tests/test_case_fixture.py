"""The two-days case: the committed files are the generator's output, and they cover what the notebook plots."""

from __future__ import annotations

import gzip
import importlib.util
import sys
from pathlib import Path

import imsvalog
from imsvalog.records import Reject

from .conftest import FIXTURES

CASE = FIXTURES / "two-days"


def _generator():
    spec = importlib.util.spec_from_file_location("make_case", FIXTURES / "make_case.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules["make_case"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def test_committed_case_is_the_seeded_generators_output(tmp_path: Path) -> None:
    gen = _generator()
    case = gen.Case()
    case.build()
    case.write(tmp_path / "two-days")
    made = {p.name: _content(p) for p in (tmp_path / "two-days").iterdir()}
    committed = {p.name: _content(p) for p in CASE.iterdir()}
    assert sorted(made) == sorted(committed)
    assert [n for n in made if made[n] != committed[n]] == []
    assert sum(p.stat().st_size for p in CASE.iterdir()) < 1_000_000  # well under 5 MB


def _content(path: Path) -> bytes:
    """A file's bytes; a gzip file's content (compressed bytes may differ between zlib builds)."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def test_every_line_parses_and_the_case_covers_two_days_of_threads_rotations_and_gzip() -> None:
    items = list(imsvalog.iter_records(CASE))
    assert [i for i in items if isinstance(i, Reject)] == []
    names = [p.name for p in CASE.iterdir()]
    assert sum(n.startswith("log.imss.") for n in names) >= 6 and sum(n.endswith(".gz") for n in names) >= 6
    df = imsvalog.read_log_imss(CASE)
    assert df["time"].dt.date.nunique() == 2 and df["thread"].nunique() == 6
    assert 250 <= (df["shape"] == "scan_finished").sum() <= 400  # a few hundred messages
    # a scan that crosses a rotation: its thread's Accept line and Scan finished line are in different files
    starts = df[df["shape"].isin(["accept_connection", "scan_finished"])]
    crossing = starts.groupby("thread", observed=True)["file"].apply(lambda f: (f != f.shift()).sum()).sum()
    assert crossing > 8
    # the level was NORMAL until Monday 08:00: no DEBUG lines before
    debug = df[df["level"] == "DEBUG"]
    assert str(debug["time"].min()) >= "2024-06-03 08:00:00+09:00"


def test_the_case_holds_spoof_triggers_from_several_untrusted_edges_spam_and_graymail() -> None:
    events = imsvalog.read_polevt(CASE)
    assert set(events["rule"]) == {"Spoofing message", "Inbound Spam", "Graymail"}
    assert (events["rule"] == "Graymail").sum() >= 10 and (events["rule"] == "Inbound Spam").sum() >= 10
    gen = _generator()
    c = imsvalog.correlate(CASE, trusted=imsvalog.TrustedList.parse(gen.TRUSTED))
    fired_on = {m.address: m.count for m in c.missing_trusted()}
    assert {"203.0.113.45", "192.0.2.77", "198.51.100.40"} <= set(fired_on)
    assert c.summary.disagreements == 3 and c.summary.rejects == 0
    assert c.summary.events_without_trace == 2  # before debug logging was switched on
    mx3 = c.frame[c.frame["logged_ips"].map(lambda ips: bool(ips) and "198.51.100.40" in ips)]
    assert str(mx3["time"].min()) >= "2024-06-04 13:00:00+09:00"  # the new edge since Tuesday 13:00
