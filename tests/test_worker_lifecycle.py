"""The second process of correlate's scan and of read_log_imss (workers.StreamedPart) never outlives this one,
and however it dies, this one says so in one line (attack s19 F1-F3)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import imsvalog
from imsvalog import columns
from imsvalog.errors import InputError
from imsvalog.workers import StreamedPart, WorkerDied


def _big_piece_then_die(emit, size: int):  # type: ignore[no-untyped-def]
    emit(b"x" * size)  # far more than a pipe holds: its writer is in the middle of it ...
    time.sleep(0.3)
    os.kill(os.getpid(), signal.SIGKILL)  # ... when the process dies


def test_a_worker_that_dies_in_the_middle_of_a_message_is_worker_died() -> None:
    # F1: Connection.recv raises OSError ("got end of file during message"), not EOFError: it was an internal error
    part = StreamedPart.start("a test file", _big_piece_then_die, 32 << 20)
    assert part is not None
    try:
        time.sleep(1.0)  # read nothing until it is dead: the pipe holds the start of the piece only
        with pytest.raises(WorkerDied, match=r"^the second process reading a test file stopped before it finished "
                                             r"\(killed by signal 9\); run again, or with IMSVALOG_WORKERS=1"):
            list(part)
    finally:
        part.close()
    assert multiprocessing.active_children() == []


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return any(line.split()[:2] == ["State:", "Z"] for line in fh)  # dead, not yet reaped by its new parent
    except FileNotFoundError:
        return True


def _kill_parent_and_watch_worker(script: str, sig: int, settle: float, within: float) -> None:
    """Run ``script`` (it starts a StreamedPart and prints its worker's pid), send ``sig`` to it alone after
    ``settle`` seconds, and require the worker to be gone ``within`` seconds later."""
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(p.stdout.readline())  # type: ignore[union-attr]
        time.sleep(settle)
        assert not _gone(pid)
        p.send_signal(sig)
        p.wait(10)
        deadline = time.monotonic() + within
        while not _gone(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(pid), f"worker {pid} outlived its parent"
    finally:
        p.kill()
        p.wait()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (Linux) to see another process's state")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_worker_whose_parent_is_killed_stops(sig: int) -> None:
    # F2: the worker held its own copy of the pipe's read end, so its writes to a full pipe waited for ever:
    # an orphan, holding its memory, after `kill PID` or the OOM killer took the parent
    script = textwrap.dedent("""
        import sys, time
        from imsvalog.workers import StreamedPart

        def pieces(emit):
            for _ in range(600):
                emit(b"y" * (1 << 16))
                time.sleep(0.01)

        part = StreamedPart.start("a test", pieces)
        print(part._proc.pid, flush=True)
        time.sleep(60)  # never reads: the worker's pipe fills
    """)
    _kill_parent_and_watch_worker(script, sig, settle=0.5, within=10)  # settle: the pipe is full by then


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (Linux) to see another process's state")
def test_a_worker_that_writes_nothing_stops_when_its_parent_is_killed() -> None:
    # attack s19b: read_log_imss's second process sends its result only at the end of its part: it worked on
    # for the rest of its part (7-9 s at 1 GB, ~300 MB) after its parent was killed
    script = textwrap.dedent("""
        import time
        from imsvalog.workers import StreamedPart

        def quiet(emit):
            time.sleep(60)
            return "done"

        part = StreamedPart.start("a test", quiet)
        print(part._proc.pid, flush=True)
        time.sleep(60)
    """)
    _kill_parent_and_watch_worker(script, signal.SIGKILL, settle=0.3, within=5)


def _split_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, part) -> Path:  # type: ignore[no-untyped-def]
    """A small log.imss that read_log_imss cuts in two, its second process running ``part``."""
    lines = [b"2024/03/12 09:15:%02d GMT+09:00 [1:2] [INFO] Scanner: message %d" % (i % 60, i) for i in range(200)]
    p = tmp_path / "log.imss.20240312.0001"
    p.write_bytes(b"\n".join(lines) + b"\n")
    monkeypatch.setenv("IMSVALOG_WORKERS", "2")
    monkeypatch.setattr(columns, "PARALLEL_FROM", 1)
    monkeypatch.setattr(columns, "_imss_part", part)
    return p


def _suicide(*_args):  # type: ignore[no-untyped-def]
    os.kill(os.getpid(), signal.SIGKILL)


def test_read_log_imss_with_a_worker_killed_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # F3: read_log_imss used a process pool: a killed worker was BrokenProcessPool, and one blocked writing its
    # result outlived a killed parent; now it is the scan's StreamedPart, said as the scan says it
    p = _split_log(tmp_path, monkeypatch, _suicide)
    with pytest.raises(InputError, match=rf"^the second process reading {p} stopped before it finished \(killed by signal 9\)"):
        imsvalog.read_log_imss(p)
    assert multiprocessing.active_children() == []


def _sleepy(*_args):  # type: ignore[no-untyped-def]
    time.sleep(30)


def test_read_log_imss_interrupted_stops_its_worker_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # F3: an interrupt in this process waited for the pool's worker to finish its part (pool.shutdown)
    p = _split_log(tmp_path, monkeypatch, _sleepy)
    real_units = columns._units

    def units(*a, **k):  # type: ignore[no-untyped-def]
        yield from real_units(*a, **k)
        raise KeyboardInterrupt

    monkeypatch.setattr(columns, "_units", units)
    t = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        imsvalog.read_log_imss(p)
    assert time.monotonic() - t < 10
    assert multiprocessing.active_children() == []
