"""A long output's second half made by a forked process (imsvalog.halves): the same texts in the same order as
one process, the second process's part really made there, its failure made good here, and nothing left running."""

from __future__ import annotations

import io
import os

import pytest

from imsvalog import halves
from imsvalog.correlation import correlate
from imsvalog.render import render_correlation

from .conftest import FIXTURES


def _made_by(item: int) -> str:
    return f"{item}:{os.getpid()}\n\udc80é"  # a line break, an undecodable byte and a non-ASCII character come back whole


def test_the_texts_are_those_of_one_process_in_order_and_the_second_half_is_made_by_another(monkeypatch) -> None:
    monkeypatch.delenv("IMSVALOG_WORKERS", raising=False)
    here = os.getpid()
    for n in (2, 3, 10, 101):
        got = list(halves.texts(list(range(n)), _made_by, least=2))
        assert [t.split(":")[0] for t in got] == [str(i) for i in range(n)]
        assert all(t.endswith("\n\udc80é") for t in got)
        pids = [int(t.split(":")[1].split("\n")[0]) for t in got]
        first = (n + 1) // 2
        assert set(pids[:first]) == {here}
        assert here not in pids[first:] and len(set(pids[first:])) == 1


def test_below_the_threshold_or_with_one_worker_one_process_makes_them_all(monkeypatch) -> None:
    here = os.getpid()
    monkeypatch.delenv("IMSVALOG_WORKERS", raising=False)
    assert {t.split(":")[1].split("\n")[0] for t in halves.texts(range(5), _made_by, least=6)} == {str(here)}
    monkeypatch.setenv("IMSVALOG_WORKERS", "1")
    assert {t.split(":")[1].split("\n")[0] for t in halves.texts(list(range(50)), _made_by, least=2)} == {str(here)}


def test_a_second_process_that_fails_is_made_good_here(monkeypatch) -> None:
    monkeypatch.delenv("IMSVALOG_WORKERS", raising=False)
    here = os.getpid()

    def fails_there(item: int) -> str:
        if os.getpid() != here:
            raise MemoryError("the second process ran out of memory")
        return f"<{item}>"

    assert list(halves.texts(list(range(9)), fails_there, least=2)) == [f"<{i}>" for i in range(9)]


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
