"""Two processes scanning halves of a big log.imss give exactly the one-process result."""

from __future__ import annotations

from pathlib import Path

import pytest

import imsvalog
import imsvalog.correlation.scan as scan

from .conftest import FIXTURES
from .test_rotation import _generator


@pytest.mark.parametrize("name", ["busy-day", "kb000239719", "ugly", "hostile", "gen"])
def test_two_halves_give_the_rows_of_one_pass(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    where = FIXTURES / name
    if name == "gen":
        _generator().generate(tmp_path, 2, density=0.27, spoof_share=0.05)
        where = tmp_path
    monkeypatch.setattr(scan, "WORKERS", 1)
    one = imsvalog.correlate(where)
    monkeypatch.setattr(scan, "WORKERS", 2)
    monkeypatch.setattr(scan, "PARALLEL_FROM", 1)  # every plain file is cut in two
    two = imsvalog.correlate(where)
    assert [r.to_dict() for r in two.rows] == [r.to_dict() for r in one.rows]
    assert two.summary.to_dict() == one.summary.to_dict()
    assert [s.to_row() for s in two.sessions] == [s.to_row() for s in one.sessions]
    assert [(r.source.file, r.source.line, r.reason) for r in two.rejects] == [
        (r.source.file, r.source.line, r.reason) for r in one.rejects
    ]
    if name == "gen":
        assert len(one.rows) > 5


@pytest.mark.parametrize("value", ["abc", "1.5", "\x1b[31mtwo"])
def test_a_workers_variable_that_is_no_number_is_a_plain_input_error(value: str) -> None:
    import os
    import subprocess
    import sys

    from .conftest import ROOT

    env = {**os.environ, "IMSVALOG_WORKERS": value}
    r = subprocess.run([sys.executable, "-m", "imsvalog", "correlate", str(FIXTURES / "kb000239719"), "-f", "jsonl"],
                       capture_output=True, env=env, cwd=ROOT)
    err = r.stderr.decode()
    assert r.returncode == 2 and "internal error" not in err and "Traceback" not in err, err
    assert err.startswith("imsvalog: error: IMSVALOG_WORKERS=") and "is not a number of processes" in err
    assert "\x1b" not in err and r.stdout == b""


def test_a_bad_workers_variable_is_no_error_when_no_log_imss_is_scanned() -> None:
    import os
    import subprocess
    import sys

    from .conftest import ROOT

    env = {**os.environ, "IMSVALOG_WORKERS": "abc"}
    r = subprocess.run([sys.executable, "-m", "imsvalog", "correlate", str(FIXTURES / "kb000239719" / "polevt.imss.20190430.0001"),
                        "-f", "jsonl"], capture_output=True, env=env, cwd=ROOT)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 1 and b"IMSVALOG_WORKERS" not in r.stderr, r.stderr


@pytest.mark.parametrize("share", [0.2, 0.45, 0.7])
def test_the_workers_sessions_are_the_ones_this_process_would_build(
    share: float, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker cuts the lines of the marked runs it scanned (numbered from its start, shifted here),
    this process builds their sessions in the order runs end: the same rows, sessions, records, index and
    rejects as one process, wherever the file is cut."""
    _generator().generate(tmp_path, 2, density=0.27, spoof_share=0.05)
    monkeypatch.setattr(scan, "WORKERS", 1)
    one = imsvalog.correlate(tmp_path)
    monkeypatch.setattr(scan, "WORKERS", 2)
    monkeypatch.setattr(scan, "PARALLEL_FROM", 1)
    monkeypatch.setattr(scan, "PARENT_SHARE", share)
    fed = {"cut there": 0, "cut here": 0}
    settle = scan._Marker._settle

    def counting(self: scan._Marker, run: scan._Run) -> None:
        if not self.worker and run.evaluated:
            fed["cut there" if run.got is not None else "cut here"] += 1
        settle(self, run)

    monkeypatch.setattr(scan._Marker, "_settle", counting)
    two = imsvalog.correlate(tmp_path)
    assert [r.to_dict() for r in two.rows] == [r.to_dict() for r in one.rows]
    assert two.summary.to_dict() == one.summary.to_dict()
    assert [s.to_row() for s in two.sessions] == [s.to_row() for s in one.sessions]
    assert [list(s.records) for s in two.sessions] == [list(s.records) for s in one.sessions]
    assert [s.records.sources() for s in two.sessions] == [s.records.sources() for s in one.sessions]
    assert [(r.source.file, r.source.line, r.reason) for r in two.rejects] == [
        (r.source.file, r.source.line, r.reason) for r in one.rejects
    ]
    assert fed["cut here"] > 0 and fed["cut there"] > 0


def test_the_index_of_built_sessions_is_the_index_of_parsed_ones() -> None:
    sessions = imsvalog.sessions(FIXTURES / "busy-day")
    by_session = scan.ScanIndex.of(sessions)
    by_marks = scan.ScanIndex()
    for s in sessions:
        by_marks.add_marks(s.thread, scan.ScanIndex.marks_of(s))
    assert by_marks == by_session and by_session.by_internal and by_session.by_message


def test_rejects_inside_the_workers_runs_keep_their_line_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A damaged marker line inside an evaluated scan of the worker's part is a reject at its own line."""
    src = (FIXTURES / "busy-day" / "log.imss.20240312.0001").read_text()
    scan_lines = [ln for ln in src.splitlines()[:43] if "[4242:139872]" in ln]
    assert any("Accept connection" in ln for ln in scan_lines) and any("AntiSpoofFilter" in ln for ln in scan_lines)
    out = []
    for i in range(40):
        for ln in scan_lines:
            out.append(ln)
            out.append(f"2024/03/12 09:15:02 GMT+01:00 [4242:139871] Engine: unrelated line {i}")
            if "Running ruleId" in ln:  # seconds 99: the line does not parse
                out.append(ln.replace("09:15:02", "09:15:99", 1))
    (tmp_path / "log.imss.20240312.0001").write_text("\n".join(out) + "\n")
    monkeypatch.setattr(scan, "WORKERS", 1)
    one = imsvalog.correlate(tmp_path)
    monkeypatch.setattr(scan, "WORKERS", 2)
    monkeypatch.setattr(scan, "PARALLEL_FROM", 1)
    shifted = []
    real = scan._shifted
    monkeypatch.setattr(scan, "_shifted", lambda run, shift: (
        shifted.append(run.got[1].count(b"09:15:99") if run.got is not None and shift else 0), real(run, shift))[1])
    two = imsvalog.correlate(tmp_path)
    assert len(one.rejects) == 40 and all("09:15:99" in r.source.text for r in one.rejects)
    assert [(r.source.file, r.source.line, r.source.text, r.reason) for r in two.rejects] == [
        (r.source.file, r.source.line, r.source.text, r.reason) for r in one.rejects
    ]
    assert [s.to_row() for s in two.sessions] == [s.to_row() for s in one.sessions]
    assert [r.to_dict() for r in two.rows] == [r.to_dict() for r in one.rows]
    assert sum(shifted) > 5  # the worker cut runs that held rejects


# --- the cut anywhere, in any interleaving of threads: the worker's part gives what one pass gives --------

import gzip  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from imsvalog.sources import LogFile, ScanStats  # noqa: E402

_BODIES = [
    "Info: Accept connection from client [127.0.0.1]",
    "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:from mx1.example.com "
    "(mx1.example.com [198.51.100.25]) by mail.corp.example.com",
    "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader:get matched string:198.51.100.25",
    "[DEBUG]AntiSpoofFilter: Get 1 IP address from received header. 198.51.100.25,",
    "[DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered.",
    "AntiSpoofFilter: sender domain and recipient domain are different",
    ">>> Message-ID : <m{n}@mail.example.com>",
    "Running ruleId:12; version:2, numFilters:1, numActions:1",
    "Final action 0: QuarantineAction",
    "Scan finished for 9D8C7B6A-5F4E-4D3C-8B2A-{n:012d}, scanned 1 times",
    "Engine: an unrelated line",
]
_THREADS = ["4242:139871", "4242:139872", "4242:4098504448", "17:1"]


@st.composite
def _logs(draw: st.DrawFn) -> list[str]:
    n = draw(st.integers(1, 70))
    lines = []
    for i in range(n):
        thread = draw(st.sampled_from(_THREADS))
        body = draw(st.sampled_from(_BODIES)).format(n=i)
        second = "99" if draw(st.integers(0, 30)) == 0 else f"{i % 60:02d}"  # now and then a line that does not parse
        # times rise line by line, as IMSVA writes them (the span is the first and last marker line's of each piece)
        lines.append(f"2024/03/12 09:{15 + i // 60}:{second} GMT+01:00 [{thread}] {body}")
    return lines


def _pass(files: list[LogFile]) -> tuple:
    rejects: list = []
    stats = ScanStats()
    sessions, index = scan.read_spoof_sessions(files, rejects, stats)
    return (
        [(s.id, s.to_row(), list(s.records), s.records.sources()) for s in sessions],
        (index.by_internal, index.by_message, index.first, index.last, index.scans),
        [(r.source.file, r.source.line, r.source.text, r.reason) for r in rejects],
        (stats.lines, stats.bytes),
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=_logs(), second=st.one_of(st.none(), _logs()), gz=st.booleans(), share=st.floats(0.0, 1.0),
       block=st.sampled_from([None, 200, 1000, 4096]))
def test_a_part_scanned_by_the_worker_gives_what_one_pass_gives(
    first: list[str], second: list[str] | None, gz: bool, share: float, block: int | None,
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Runs that straddle the cut, a thread whose first line in the worker's part is an evaluation, a thread
    with no Accept line there, runs open at the end of the worker's part going on in the next rotated file
    (plain or gzip): sessions, their ids and records, index, rejects and counts equal one process's."""
    d = tmp_path_factory.mktemp("cut")
    files = [d / "log.imss.20240312.0001"]
    files[0].write_text("\n".join(first) + "\n")
    if second is not None:
        data = ("\n".join(second) + "\n").encode()
        files.append(d / ("log.imss.20240312.0002" + (".gz" if gz else "")))
        files[1].write_bytes(gzip.compress(data) if gz else data)
    logs = [LogFile(p, "imss") for p in files]
    monkeypatch.setattr(scan, "WORKERS", 1)
    one = _pass(logs)
    monkeypatch.setattr(scan, "WORKERS", 2)
    monkeypatch.setattr(scan, "PARALLEL_FROM", 1)
    monkeypatch.setattr(scan, "PARENT_SHARE", share)
    if block is not None:  # the worker's runs come in pieces, one per block: of any size, in any interleaving
        monkeypatch.setattr(blocks, "BLOCK_SIZE", block)
    two = _pass(logs)
    if any(":99 GMT" in line for line in first + (second or [])):  # the span comes from each piece's first and last marker line
        one, two = [(s, (i[0], i[1], i[4]), r, n) for s, i, r, n in (one, two)]  # (as from 8 MB blocks): known gap
    assert two == one


def test_this_process_takes_less_of_a_file_the_more_evaluations_it_holds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cut follows the Received header lines in samples of the file (this process builds the sessions of
    both parts); between _LEAST_SHARE and a half; PARENT_SHARE, when set, decides."""
    head = "2024/03/12 09:15:01 GMT+01:00 [4242:139871] "
    header = head + _BODIES[1] + "\n"
    other = head + "Engine: an unrelated line of some length to fill the file up\n"
    shares = []
    for every in (None, 2000, 800, 2):  # a header line every N lines (None: none; 800: about 10 per MB)
        p = tmp_path / f"log.imss.{every}"
        with open(p, "w") as fh:
            for i in range(60_000):
                fh.write(header if every and i % every == 0 else other)
        shares.append(scan._parent_share(LogFile(p, "imss"), p.stat().st_size))
    assert shares[0] == 0.5 and shares[-1] == scan._LEAST_SHARE
    assert shares == sorted(shares, reverse=True) and shares[1] > shares[2]
    monkeypatch.setattr(scan, "PARENT_SHARE", 0.7)
    assert scan._parent_share(LogFile(p, "imss"), p.stat().st_size) == 0.7


# --- the worker's result in pieces: built here as they come, the same whatever their size ----------------

from imsvalog import blocks  # noqa: E402
from imsvalog.errors import InputError  # noqa: E402
from imsvalog.workers import StreamedPart, WorkerDied  # noqa: E402


def _counting_pieces(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of ends in each piece this process takes from the worker."""
    taken: list[int] = []
    take = scan._Marker.take_ends

    def counting(self: scan._Marker, ends: list, shift: int) -> None:
        taken.append(len(ends))
        take(self, ends, shift)

    monkeypatch.setattr(scan._Marker, "take_ends", counting)
    return taken


@pytest.mark.parametrize("block", [1 << 10, 1 << 14, 1 << 23])
def test_pieces_of_any_size_give_the_rows_of_one_pass(block: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker sends its runs after every block it scans (small blocks: many small pieces, one run or
    none in most); this process settles and builds them as they come: rows, sessions, records, rejects
    and summary are one process's."""
    _generator().generate(tmp_path, 2, density=0.27, spoof_share=0.05)
    monkeypatch.setattr(scan, "WORKERS", 1)
    one = imsvalog.correlate(tmp_path)
    monkeypatch.setattr(scan, "WORKERS", 2)
    monkeypatch.setattr(scan, "PARALLEL_FROM", 1)
    monkeypatch.setattr(scan, "PARENT_SHARE", 0.3)
    monkeypatch.setattr(blocks, "BLOCK_SIZE", block)
    taken = _counting_pieces(monkeypatch)
    two = imsvalog.correlate(tmp_path)
    assert [r.to_dict() for r in two.rows] == [r.to_dict() for r in one.rows]
    assert two.summary.to_dict() == one.summary.to_dict()
    assert [list(s.records) for s in two.sessions] == [list(s.records) for s in one.sessions]
    assert [s.records.sources() for s in two.sessions] == [s.records.sources() for s in one.sessions]
    assert [(r.source.file, r.source.line, r.reason) for r in two.rejects] == [
        (r.source.file, r.source.line, r.reason) for r in one.rejects
    ]
    pieces = len(taken) - 1  # the last is the result's own ends
    assert pieces >= 10 if block < 1 << 20 else pieces == 1  # one block: one piece, sent once it is scanned
    assert sum(taken) > 20


def _failing_part(after: int, how: str):  # type: ignore[no-untyped-def]
    """The worker's real scan, which fails once it has sent ``after`` pieces: raises, or is killed."""
    real = scan._scan_part

    def part(emit, *args):  # type: ignore[no-untyped-def]
        sent = [0]

        def send(piece) -> None:  # type: ignore[no-untyped-def]
            if sent[0] == after:
                if how == "kill":
                    import signal

                    os.kill(os.getpid(), signal.SIGKILL)
                raise InputError("log.imss.20240312.0001: cannot read past line 7: Input/output error")
            sent[0] += 1
            emit(piece)

        return real(send, *args)

    return part


import os  # noqa: E402


@pytest.mark.parametrize("how", ["raise", "kill"])
def test_a_worker_that_fails_mid_way_is_a_clear_error_and_leaves_no_process(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pieces already built here do not hide a worker's failure: its error is raised here (an input error
    stays one, for its one-line message); a worker that dies says so, and how."""
    import multiprocessing

    _generator().generate(tmp_path, 2, density=0.27, spoof_share=0.05)
    monkeypatch.setattr(scan, "WORKERS", 2)
    monkeypatch.setattr(scan, "PARALLEL_FROM", 1)
    monkeypatch.setattr(scan, "PARENT_SHARE", 0.3)
    monkeypatch.setattr(blocks, "BLOCK_SIZE", 1 << 12)
    monkeypatch.setattr(scan, "_scan_part", _failing_part(3, how))
    taken = _counting_pieces(monkeypatch)
    if how == "raise":
        with pytest.raises(InputError, match=r"cannot read past line 7: Input/output error$"):
            imsvalog.correlate(tmp_path)
    else:
        with pytest.raises(WorkerDied, match=r"stopped before it finished \(killed by signal 9\); run again, or with "
                                             r"IMSVALOG_WORKERS=1"):
            imsvalog.correlate(tmp_path)
    assert len(taken) == 3 if how == "raise" else len(taken) <= 3  # built here before the failure came (a killed
    # worker's last pieces may die with it, still queued)
    assert multiprocessing.active_children() == []


def _emit_then(emit, n: int, then: str):  # type: ignore[no-untyped-def]
    for i in range(n):
        emit([i] * i)
    if then == "odd":
        class Odd(Exception):
            def __init__(self, a: int, b: int) -> None:
                super().__init__(f"{a} and {b}")

        raise Odd(1, 2)  # its __init__ takes other arguments than its args: it would not unpickle
    return "done"


def test_a_streamed_part_gives_its_pieces_in_order_then_its_result() -> None:
    part = StreamedPart.start("a test", _emit_then, 500, "return")
    assert part is not None
    try:
        assert list(part) == [[i] * i for i in range(500)] + ["done"]
    finally:
        part.close()
    part = StreamedPart.start("a test", _emit_then, 2, "odd")
    assert part is not None
    got = []
    with pytest.raises(RuntimeError, match=r"^Odd: 1 and 2$"):
        for piece in part:
            got.append(piece)
    part.close()
    assert got == [[], [1]]


def test_a_streamed_part_given_up_is_stopped() -> None:
    """This process stops reading (an error of its own, an interrupt): close() stops the worker, even one
    blocked on a full pipe."""
    import multiprocessing

    part = StreamedPart.start("a test", _emit_then, 10_000, "return")
    assert part is not None
    assert next(iter(part)) == []
    part.close()
    assert multiprocessing.active_children() == []


def test_a_worker_killed_mid_way_is_a_one_line_error_of_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In the CLI: one line on stderr naming the file and how the worker stopped, exit 2, no traceback, no row."""
    from typer.testing import CliRunner

    from imsvalog.cli import app

    _generator().generate(tmp_path, 2, density=0.27, spoof_share=0.05)
    monkeypatch.setattr(scan, "WORKERS", 2)
    monkeypatch.setattr(scan, "PARALLEL_FROM", 1)
    monkeypatch.setattr(scan, "PARENT_SHARE", 0.3)
    monkeypatch.setattr(blocks, "BLOCK_SIZE", 1 << 12)
    monkeypatch.setattr(scan, "_scan_part", _failing_part(2, "kill"))
    r = CliRunner().invoke(app, ["correlate", str(tmp_path), "-f", "jsonl"])
    log = tmp_path / "log.imss.20240312.0001"
    assert r.exit_code == 2, r.output
    assert r.stderr == (
        f"imsvalog: error: the second process reading {log} stopped before it finished (killed by signal 9); "
        "run again, or with IMSVALOG_WORKERS=1 to read it in one process\n"
    )
    assert r.stdout == ""


# --- pass 1's quick way with IMSVA's own Accept lines: what the head regex, line by line, gives -------------

_ACCEPT_LIKE = [
    "Info: Accept connection from client [127.0.0.1]", "Info: Accept connection from client 10.0.0.7",
    "Info: Accept connection from client", "Info: Accept connection from client [127.0.0.1",
    "Info: Accept connection from client []", "Info:  Accept connection from client [127.0.0.1]",
    "Info:\tAccept connection from client [127.0.0.1]", "[INFO] Accept connection from client [127.0.0.1]",
    "Warning: Accept connection from client [127.0.0.1]", "Debug: Accept connection from client [127.0.0.1]",
    "Info: x Accept connection from client [127.0.0.1]", "Accept connection from client [127.0.0.1]",
    "Info: Accept connection from client [1.2.3.4] AntiSpoofFilter: parse received header string:from x",
    "Info: Accept connection from client [1.2.3.4]\r", "Info: Accept connection from client [\u00e9]",
]
_HEADS_LIKE = [
    "2024/03/12 09:15:{s} GMT+01:00 [4242:139871]", "2024/03/12 09:15:{s} GMT+01:00 [04242:0139871]",
    "2024/03/12 09:15:{s} GMT+01:00 [17:1]", "2024/03/12 24:15:{s} GMT+01:00 [17:1]",
    "2024/03/12 09:15:{s} GMT+1 [17:1]", "2024/03/12\t09:15:{s} GMT+01:00 [17:1]",
    "2024/03/12 09:15:{s} GMT+01:00 [17:" + "9" * 20 + "]", "2024/02/29 09:15:{s} GMT+01:00 [17:1]",
]


def _one_by_one(self: scan._Marker, data: bytes, hits: tuple, fi: int, offset: int, line: int, name: str,
                unsure: set[int]) -> None:
    """``_Marker.block_lines`` without its quick way: every line through ``_Marker.line``."""
    for s, e, n in zip(*hits):
        self.line(data[s:e], fi, offset + s, line + n, name)


@pytest.mark.parametrize("big", [False, True])
def test_every_head_with_every_accept_like_line_gives_what_the_head_regex_gives(
    big: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each head (sure or not) with each Accept-like body, each after an Accept line of no evaluation with the
    thread's tag spelled otherwise and followed by an evaluation and its scan's end: the quick way gives what
    the head regex gives."""
    lines = []
    for i, head in enumerate(_HEADS_LIKE):
        for j, body in enumerate(_ACCEPT_LIKE):
            h = head.format(s=f"{(i + j) % 60:02d}")
            other = h.replace("[4242:139871]", "[04242:0139871]") if "[4242:" in h else h.replace("[17:", "[017:")
            lines += [f"{other} {_ACCEPT_LIKE[0]}",  # a run of no evaluation, its tag spelled otherwise
                      f"{h} {body}", f"{h} {_BODIES[1]}", f"{h} {_BODIES[3]}", f"{h} {_BODIES[9].format(n=i * 100 + j)}"]
    raw = ("\n".join(lines) + "\n").encode()
    log = tmp_path / "log.imss.20240312.0001"
    log.write_bytes(raw * (blocks.NEWLINES_FROM // len(raw) + 1 if big else 1))
    logs = [LogFile(log, "imss")]
    monkeypatch.setattr(scan, "WORKERS", 1)
    quick = _pass(logs)
    assert len(quick[0]) > 2 * len(_HEADS_LIKE)  # sessions of many threads and heads were built
    monkeypatch.setattr(scan._Marker, "block_lines", _one_by_one)
    assert _pass(logs) == quick


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(st.sampled_from(_HEADS_LIKE), st.sampled_from(_ACCEPT_LIKE + _BODIES)), min_size=1,
                      max_size=60), block=st.sampled_from([None, 300]))
def test_accept_lines_taken_the_quick_way_give_what_the_head_regex_gives(
    lines: list[tuple[str, str]], block: int | None, tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sure Accept lines as IMSVA writes them skip the head regex (``_Marker.block_lines``), and their thread's
    unmarked run object is opened again: sessions, ids, index, rejects and counts equal those of every line
    through ``_Marker.line``, for Accept lines of every other form, with unsure heads, two spellings of a
    thread's tag, and in blocks as big as the numpy path wants or small ones."""
    d = tmp_path_factory.mktemp("quick")
    log = d / "log.imss.20240312.0001"
    text = "\n".join(h.format(s=f"{i % 60:02d}") + " " + b.format(n=i) for i, (h, b) in enumerate(lines)) + "\n"
    raw = text.encode("utf-8", "surrogateescape")
    log.write_bytes(raw * (1 if block else blocks.NEWLINES_FROM // len(raw) + 1))  # big enough for the numpy path
    logs = [LogFile(log, "imss")]
    monkeypatch.setattr(scan, "WORKERS", 1)
    if block is not None:
        monkeypatch.setattr(blocks, "BLOCK_SIZE", block)
    quick = _pass(logs)
    monkeypatch.setattr(scan._Marker, "block_lines", _one_by_one)
    assert _pass(logs) == quick
