"""Many threads whose runs overlap: their lines are cut in one pass (not one per run), with the same result.

correlate cuts each marked run's lines (one thread's, from an Accept line to its next) from the blocks pass 1
holds, or reads them again by offset, or in one more pass over a gzip file.  When many runs overlap, the runs
that end together are cut in one pass over the bytes they span (``scan._take_batch``).  These logs make it do so
in every place (held blocks, by offset, across rotated files, gzip, the worker's part) and compare the rows with
the full reader's (``read_sessions``) and the sessions, records and rejects with those cut one run at a time.
"""

from __future__ import annotations

import gzip
from array import array
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import imsvalog
import imsvalog.blocks as blocks
import imsvalog.correlation.scan as scan

from .conftest import rows_both_ways

HEAD = "2024/03/15 10:00:{:02d} GMT-05:00 "


def _scan(pid: int, tid: int, i: int, second: bool) -> list[str]:
    th = f"[{pid}:{tid}]"
    ip = f"203.0.{113 if second else 112}.{i % 250 + 1}"
    return [
        f"{th} Info: Accept connection from client [10.0.0.1]",
        f"{th} Running ruleId:12; version:2, numFilters:1, numActions:1",
        f"{th} [DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:from relay.example.net "
        f"(relay.example.net [{ip}]) by imsva.example.com (Postfix) with ESMTP id C{i:05d}{int(second)}; "
        "Fri, 15 Mar 2024 10:00:04 -0500",
        f"{th} [DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader:get matched string:{ip}",
        f"{th} [DEBUG]AntiSpoofFilter: Get 1 IP address from received header. {ip},",
        f"{th} [DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered.",
        f"{th} Final action 0: QuarantineAction",
    ]


def _threads_log(n: int) -> list[str]:
    """``n`` threads of pid 1000, each with two scans, their lines interleaved, every second scan after all
    first ones; thread 7000's text names thread 7001's tag (one line twice, with a marker after it); a line
    that does not parse; then a restarted IMSVA (pid 2000) whose short scans never close pid 1000's runs."""
    lines = [ln for k in range(7) for ln in (_scan(1000, 7000 + i, i, False)[k] for i in range(n))]
    lines[n:n] = [
        "[1000:7000] Info: Message-ID: <x@example.com> subject [1000:7001] Final action",
        "[1000:7000] [1000:7001] Running ruleId:3; version:1, numFilters:1, numActions:1",
        "[1000:7001] Final action noise [1000:7000] here",
        "[1000:7002] Message-ID: <[1000:7003]@example.com> [1000:7003] [1000:7003] Final action x",
    ]
    lines += [ln for k in range(7) for ln in (_scan(1000, 7000 + i, i, True)[k] for i in range(n // 2))]
    lines.insert(len(lines) // 3, "2024/13/45 99:99:99 GMT-05:00 [1000:7004] Final action 0: does not parse")
    for k in range(3 * n):
        lines += _scan(2000, 100 + k % 5, k, True)
    return [ln if ln.startswith("2024/13") else HEAD.format(j * 60 // len(lines)) + ln for j, ln in enumerate(lines)]


def _write(where: Path, lines: list[str], files: int, gz: bool = False) -> None:
    where.mkdir()
    per = -(-len(lines) // files)
    for f in range(files):
        data = ("\n".join(lines[f * per : (f + 1) * per]) + "\n").encode()
        name = where / f"log.imss.20240315.{f + 1:04d}"
        if gz:
            name.with_name(name.name + ".gz").write_bytes(gzip.compress(data))
        else:
            name.write_bytes(data)


@pytest.mark.parametrize("files, gz, small, workers", [
    (1, False, False, 1),  # all runs in the held block: cut at the input's end, and as they end
    (1, False, True, 1),  # small blocks: the runs are read again by offset
    (3, False, True, 1),  # pid 1000's last runs stay open across rotated files
    (2, True, True, 1),  # gzip: read in one more pass
    (1, False, True, 2),  # a second process scans the second half
])
def test_many_overlapping_runs_give_the_full_readers_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: int, gz: bool, small: bool, workers: int
) -> None:
    _write(tmp_path / "log", _threads_log(60), files, gz)
    monkeypatch.setattr(scan, "_BATCH_FROM", 16)  # 60 threads: batched at this threshold (the path under test)
    if small:
        monkeypatch.setattr(blocks, "BLOCK_SIZE", 1 << 12)
        monkeypatch.setattr(scan, "BLOCK_SIZE", 1 << 12)
        monkeypatch.setattr(scan, "_HOLD", 1 << 10)
    monkeypatch.setattr(scan, "WORKERS", workers)
    monkeypatch.setattr(scan, "PARALLEL_FROM", 1)
    monkeypatch.setattr(scan, "PARENT_SHARE", 0.4)
    batches = []
    batch = scan._take_batch

    def counting(data: bytes, items: list[scan._Take], nl: object = None) -> object:
        batches.append(len(items))
        return batch(data, items, nl)  # type: ignore[arg-type]

    monkeypatch.setattr(scan, "_take_batch", counting)
    lazy_rows, full_rows, lazy, full_sessions = rows_both_ways(tmp_path / "log")
    assert lazy_rows == full_rows and len(lazy_rows) == 60 + 30 + 180
    assert lazy.summary.scans == len(full_sessions)
    assert workers > 1 or max(batches) >= 30  # (the worker's batches are cut in its process)
    lines = _threads_log(60)
    bad = next(j for j, ln in enumerate(lines) if ln.startswith("2024/13"))
    per = -(-len(lines) // files)
    name = f"log.imss.20240315.{bad // per + 1:04d}" + (".gz" if gz else "")
    assert [(Path(r.source.file).name, r.source.line) for r in lazy.rejects] == [(name, bad % per + 1)]
    # one run at a time: the same sessions, records, places and rejects
    monkeypatch.setattr(scan, "_BATCH_FROM", 1 << 40)
    one = imsvalog.correlate(tmp_path / "log")
    assert [s.to_row() for s in lazy.sessions] == [s.to_row() for s in one.sessions]
    assert [list(s.records) for s in lazy.sessions] == [list(s.records) for s in one.sessions]
    assert [s.records.sources() for s in lazy.sessions] == [s.records.sources() for s in one.sessions]
    assert [(r.source.file, r.source.line, r.reason) for r in lazy.rejects] == [
        (r.source.file, r.source.line, r.reason) for r in one.rejects]


TAGS = [b"[4242:1]", b"[4242:2]", b"[4242:12]", b"[1:4242]"]
line_text = st.lists(st.sampled_from([
    "[4242:1]", "[4242:2]", "[4242:12]", "[1:4242]", "x", " ", "[", "]", "[[4242:1]]", "Final action", "Message-ID",
    "AntiSpoofFilter", "Accept connection from client", "\r", "é",
]), max_size=8).map("".join)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(line_text, min_size=1, max_size=40), cuts=st.lists(st.tuples(
    st.sampled_from(TAGS), st.integers(0, 40), st.integers(0, 40)), min_size=1, max_size=12), with_nl=st.booleans(),
    stretch=st.sampled_from([1, 10, 1 << 20]))
def test_the_runs_cut_together_take_the_lines_each_takes_alone(
    lines: list[str], cuts: list[tuple[bytes, int, int]], with_nl: bool, stretch: int
) -> None:
    """``_take_batch`` (all runs in one pass: bracketed words, then a marker after the first) takes for every run
    exactly the lines and numbers ``_take_lines`` takes for it alone: tags in other threads' text, a line with two
    tags, a tag inside brackets, windows that overlap or not, runs of the same tag; marker lines found a stretch
    of any size at a time."""
    data = ("\n".join(lines) + "\n").encode()
    starts = [0] + [i + 1 for i, c in enumerate(data) if c == 10]
    items, alone = [], []
    for tag, a, z in cuts:
        lo, hi = sorted((starts[min(a, len(starts) - 1)], starts[min(z, len(starts) - 1)]))
        line = 5 + data.count(b"\n", 0, lo)
        numbers: array[int] = array("q")
        raws: list[bytes] = []
        scan._take_lines(data, lo, hi, line, tag, numbers, raws)
        alone.append((list(numbers), raws))
        items.append((lo, hi, line, tag, array("q"), []))
    nl = scan.newlines(data, 0, len(data)) if with_nl else None
    kept, scan._BATCH_STRETCH = scan._BATCH_STRETCH, stretch
    try:
        taken, got_nl = scan._take_batch(data, items, nl)
        for item, got in zip(items, taken):
            scan._fill_take(data, item, got, got_nl)
    finally:
        scan._BATCH_STRETCH = kept
    assert [(list(t[4]), t[5]) for t in items] == alone


def _naming_log(n: int, lines: int) -> list[str]:
    """``n`` threads whose runs span the log, and ``lines`` lines of another thread whose text names every
    run's tag with a marker after them (a hostile subject): each is a marker line of every run."""
    tags = " ".join(f"[1000:{7000 + i}]" for i in range(n))
    out = [f"[1000:{7000 + i}] Info: Accept connection from client [10.0.0.1]" for i in range(n)]
    out += [f"[1000:{7000 + i}] [DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered."
            for i in range(n)]
    out += [f"[3000:1] Info: subject {tags} Final action"] * lines
    out += [f"[1000:{7000 + i}] Final action 0: QuarantineAction" for i in range(n)]
    return [HEAD.format(j * 60 // len(out)) + ln for j, ln in enumerate(out)]


def _peak(path: Path) -> tuple[int, list[dict[str, object]]]:
    import tracemalloc

    tracemalloc.start()
    try:
        result = imsvalog.correlate(path)
        return tracemalloc.get_traced_memory()[1], [s.to_row() for s in result.sessions]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("small", [False, True])  # the runs in the held blocks; read again by offset
def test_lines_that_name_many_runs_are_not_held_for_all_of_them_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small: bool
) -> None:
    """Attack s21b F1: 150 runs cut together, 100 lines (0.21 MB) each naming all 150 tags.  Each run's lines are
    copied for it alone (31 MB if all were copied before the first run is built, as they were: traced peak 29.7
    MB against 8.7 one run at a time in held blocks, 28.9 against 0.8 by offset); cutting them together now holds
    about what cutting one run at a time holds, plus at most pass 2's budget of lines read together (1 MiB here:
    past it the runs are read one at a time), with the same sessions."""
    _write(tmp_path / "log", _naming_log(150, 100), 1)
    if small:
        monkeypatch.setattr(blocks, "BLOCK_SIZE", 1 << 14)
        monkeypatch.setattr(scan, "BLOCK_SIZE", 1 << 14)
        monkeypatch.setattr(scan, "_HOLD", 1 << 12)
        monkeypatch.setattr(scan, "_READ_BUDGET", 1 << 20, raising=False)
    batches = []
    batch = scan._take_batch

    def counting(data: bytes, items: list[scan._Take], nl: object = None) -> object:
        batches.append(len(items))
        return batch(data, items, nl)  # type: ignore[arg-type]

    imsvalog.correlate(tmp_path / "log")  # imports and caches filled once, before either is measured
    monkeypatch.setattr(scan, "_take_batch", counting)
    together, rows = _peak(tmp_path / "log")
    assert batches and max(batches) == 150 and len(rows) == 150
    monkeypatch.setattr(scan, "_BATCH_FROM", 1 << 40)
    alone, rows_alone = _peak(tmp_path / "log")
    assert rows == rows_alone
    assert together < 1.2 * alone + (1 << 20), (together, alone)  # (the budget, by offset)
