"""A long output's texts made in two processes (imsvalog.halves): this one from the front, a forked one from the
back until they meet; the same texts in the same order as one process, the second process's part really made
there, its failure made good here, a second process that never gets to work not waited for, nothing left running."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest

from imsvalog import halves
from imsvalog.correlation import correlate
from imsvalog.render import render_correlation

from .conftest import FIXTURES


def _pid_of(text: str) -> int:
    return int(text.split(":")[1].split("\n")[0])


def test_the_texts_are_those_of_one_process_in_order_the_back_ones_made_by_the_second(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("IMSVALOG_WORKERS", raising=False)
    here = os.getpid()

    def made_by(item: int) -> str:
        if os.getpid() != here:
            (tmp_path / str(item)).touch()
        elif item == 0:  # this process waits on its first item until the second one has made one
            deadline = time.monotonic() + 60
            while not any(tmp_path.iterdir()) and time.monotonic() < deadline:
                time.sleep(0.01)
        # a line break, an undecodable byte and a non-ASCII character come back whole
        return f"{item}:{os.getpid()}\n\udc80é"

    for n in (2, 3, 10, 101):
        for f in tmp_path.iterdir():
            f.unlink()
        got = list(halves.texts(list(range(n)), made_by, least=2))
        assert [t.split(":")[0] for t in got] == [str(i) for i in range(n)]
        assert all(t.endswith("\n\udc80é") for t in got)
        pids = [_pid_of(t) for t in got]
        mine = pids.index(next(p for p in pids if p != here))
        assert 1 <= mine < n  # a front part made here, the back part there
        assert set(pids[:mine]) == {here} and len(set(pids[mine:])) == 1


def test_below_the_threshold_or_with_one_worker_one_process_makes_them_all(monkeypatch) -> None:
    here = os.getpid()

    def made_by(item: int) -> str:
        return f"{item}:{os.getpid()}"

    monkeypatch.delenv("IMSVALOG_WORKERS", raising=False)
    assert {_pid_of(t) for t in halves.texts(range(5), made_by, least=6)} == {here}
    monkeypatch.setenv("IMSVALOG_WORKERS", "1")
    assert {_pid_of(t) for t in halves.texts(list(range(50)), made_by, least=2)} == {here}


def test_a_second_process_that_fails_is_made_good_here(monkeypatch) -> None:
    monkeypatch.delenv("IMSVALOG_WORKERS", raising=False)
    here = os.getpid()

    def fails_there(item: int) -> str:
        if os.getpid() != here:
            raise MemoryError("the second process ran out of memory")
        time.sleep(0.001)
        return f"<{item}>"

    assert list(halves.texts(list(range(50)), fails_there, least=2)) == [f"<{i}>" for i in range(50)]


def test_a_second_process_that_never_gets_to_work_is_not_waited_for(monkeypatch) -> None:
    monkeypatch.delenv("IMSVALOG_WORKERS", raising=False)
    monkeypatch.setattr(halves, "_back", lambda *args: time.sleep(3600))  # forked with it: takes no item, ever
    start = time.monotonic()
    assert list(halves.texts(list(range(20)), str, least=2)) == [str(i) for i in range(20)]
    assert time.monotonic() - start < 60  # not an hour: stopped, not waited for


def test_an_exception_of_make_is_raised_here_as_with_one_process(monkeypatch) -> None:
    monkeypatch.delenv("IMSVALOG_WORKERS", raising=False)

    def bad(item: int) -> str:
        if item == 7:
            raise ValueError("row 7 cannot be written")
        return str(item)

    with pytest.raises(ValueError, match="row 7"):
        list(halves.texts(list(range(10)), bad, least=2))


def test_given_up_on_early_the_second_process_is_stopped_and_reaped(monkeypatch) -> None:
    monkeypatch.delenv("IMSVALOG_WORKERS", raising=False)
    made: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            made.append(pid)
        return pid

    monkeypatch.setattr(halves.os, "fork", fork)
    gen = halves.texts(list(range(10)), str, least=2)
    assert next(gen) == "0"
    gen.close()  # the reader went away (| head)
    assert len(made) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(made[0], os.WNOHANG)  # gone and reaped: no zombie left


@pytest.mark.parametrize("folder", ["two-days", "busy-day", "bundles"])
def test_correlate_jsonl_in_two_processes_is_byte_identical_to_one(monkeypatch, folder: str) -> None:
    c = correlate(str(FIXTURES / folder))
    assert len(c.rows) > 2
    outs = []
    for workers, least in (("1", halves.LEAST), ("2", 2)):
        monkeypatch.setenv("IMSVALOG_WORKERS", workers)
        monkeypatch.setattr(halves, "LEAST", least)
        out = io.StringIO()
        render_correlation(c, c.rows, "jsonl", out)
        outs.append(out.getvalue())
    assert outs[0] == outs[1]
    assert outs[0].count("\n") == len(c.rows)
