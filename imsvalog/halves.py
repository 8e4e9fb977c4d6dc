"""A long output's texts made in two processes: this one makes the first half's, a forked one the second half's.

``correlate --format jsonl`` at 1 GB writes about 5,000 rows (27 MB); building each row's dict,
explanation and JSON is about 0.6 s of CPU, done after the scan, when this process works alone
and the other core is idle.  :func:`texts` gives the same texts in the same order as
``map(make, items)``, the second half's made meanwhile by a process made by ``fork`` (it shares
every row already in memory: nothing is pickled or sent but the finished texts, through an
unnamed temporary file, so that it never waits for this process to read).

The second process only makes texts: it writes no output of the command, and it dies with this
process.  Should it fail (an exception in ``make``, killed, out of memory), this process makes the
second half's texts itself: the output is the same either way, and an exception ``make`` raises is
raised here as it would be without the second process.
"""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import IO, TypeVar

from .workers import _die_with, workers_of

T = TypeVar("T")

#: fewer items than this: one process (forking and reading back cost more than the second half saves)
LEAST = 2000


def texts(items: Sequence[T], make: Callable[[T], str], least: int | None = None) -> Iterator[str]:
    """``make(item)`` for each item, in order; with at least ``least`` items (default :data:`LEAST`), where the
    system can fork and ``IMSVALOG_WORKERS`` allows a second process, the second half's are made by one.

    >>> list(texts(range(5), str, least=2))
    ['0', '1', '2', '3', '4']
    """
    n = len(items)
    if n < (LEAST if least is None else least) or not hasattr(os, "fork") or _one_process():
        yield from map(make, items)
        return
    half = (n + 1) // 2
    try:
        spill = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, in both processes
    except OSError:
        yield from map(make, items)
        return
    with spill:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the second process (its output is checked by the tests)
            _second(spill, items, half, make, parent)
        try:
            yield from map(make, items[:half])
            _, status = os.waitpid(pid, 0)
            pid = 0
            if os.waitstatus_to_exitcode(status) != 0:
                yield from map(make, items[half:])
                return
            spill.seek(0)
            for _ in range(half, n):
                size = int(spill.readline())
                yield spill.read(size).decode("utf-8", "surrogateescape")
        finally:
            if pid:  # given up on early (the reader went away, Ctrl-C): the second process is stopped
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)


def _second(spill: IO[bytes], items: Sequence[T], half: int, make: Callable[[T], str], parent: int) -> None:  # pragma: no cover - runs in the second process
    """The second process: the second half's texts into ``spill``, each after its length; exit status 0 when all
    are written.  Nothing else of this process runs on (no ``finally`` or exit handler of the command)."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is this process's parent's to handle
        _die_with(parent)
        write = spill.write
        for item in items[half:]:
            data = make(item).encode("utf-8", "surrogateescape")
            write(b"%d\n" % len(data))
            write(data)
        spill.flush()
        code = 0
    except BaseException:  # noqa: BLE001,S110 - this process then makes them itself, raising what make raises
        pass
    finally:
        os._exit(code)


def _one_process() -> bool:
    """``IMSVALOG_WORKERS`` asks for one process (or is no number: the command has said so already)."""
    n = workers_of(os.environ.get("IMSVALOG_WORKERS"), os.cpu_count())
    return n is None or n < 2
