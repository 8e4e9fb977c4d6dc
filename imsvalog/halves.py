"""A long output's texts made in two processes: this one from the first item on, a forked one from the last item
back, until they meet.

``correlate --format jsonl`` at 1 GB writes about 5,000 rows (27 MB); building each row's dict,
explanation and JSON is about 0.6 s of CPU, done after the scan, when this process works alone
and the other core is idle.  :func:`texts` gives the same texts in the same order as
``map(make, items)``: this process makes them from the front and gives each at once, while a
process made by ``fork`` (it shares every item already in memory: nothing is pickled or sent
but the finished texts, through an unnamed temporary file, so that it never waits for this
process to read) makes them from the back.  Each takes its next item under a lock, so they
meet wherever their speeds bring them: on a busy machine, where the second process gets
little or no CPU, this one simply makes more of them (all of them, if it must), never waiting
for half of the work to be done elsewhere.

The second process only makes texts: it writes no output of the command, and it dies with this
process.  Should it fail (an exception in ``make``, killed, out of memory), this process makes
the texts it had taken: the output is the same either way, and an exception ``make`` raises is
raised here as it would be without the second process.
"""

from __future__ import annotations

import os
import signal
import tempfile
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any, TypeVar

from .workers import _die_with, workers_of

T = TypeVar("T")

#: fewer items than this: one process (forking and reading back cost more than the second process saves)
LEAST = 2000


def texts(items: Sequence[T], make: Callable[[T], str], least: int | None = None) -> Iterator[str]:
    """``make(item)`` for each item, in order; with at least ``least`` items (default :data:`LEAST`), where the
    system can fork and ``IMSVALOG_WORKERS`` allows a second process, one makes them from the back meanwhile.

    >>> list(texts(range(5), str, least=2))
    ['0', '1', '2', '3', '4']
    """
    n = len(items)
    if n < (LEAST if least is None else least) or not hasattr(os, "fork") or _one_process():
        yield from map(make, items)
        return
    try:
        import multiprocessing

        lock = multiprocessing.Lock()
        # [0]: the next item this process takes; [1]: the first item the second process has taken
        ends = multiprocessing.RawArray("q", [0, n])
        spill = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, in both processes
    except (OSError, ImportError):  # no semaphores (sem_open) or no temporary file: one process
        yield from map(make, items)
        return
    with spill:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the second process (its output is checked by the tests)
            _back(spill, items, make, lock, ends, parent)
        try:
            while True:
                with lock:
                    i = ends[0]
                    if i >= ends[1]:
                        break
                    ends[0] = i + 1
                yield make(items[i])
            met = ends[1]  # the second process takes no more: [met, n) are its
            if met == n:  # it took none (it got no CPU, or was too late): not waited for
                os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            pid = 0
            if met < n and os.waitstatus_to_exitcode(status) == 0:
                yield from _read_back(spill, met, n)
            else:
                yield from map(make, items[met:])
        finally:
            if pid:  # given up on early (the reader went away, Ctrl-C): the second process is stopped
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)


def _back(spill: IO[bytes], items: Sequence[T], make: Callable[[T], str], lock: Any, ends: Any,
          parent: int) -> None:  # pragma: no cover - runs in the second process
    """The second process: texts from the last item back until it meets this process, each written to ``spill``
    as it is made; then where each one is (offset, size, in item order) and which items they are; exit status 0
    when all are written.  Nothing else of this process runs on (no ``finally`` or exit handler of the command)."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is its parent's to handle
        _die_with(parent)
        places = array("q")
        offset = 0
        while True:
            with lock:
                j = ends[1] - 1
                if j < ends[0]:
                    break
                ends[1] = j
            data = make(items[j]).encode("utf-8", "surrogateescape")
            spill.write(data)
            places.extend((offset, len(data)))
            offset += len(data)
        first = j + 1
        pairs = array("q")
        for k in range(len(places) - 2, -1, -2):  # item order
            pairs.extend((places[k], places[k + 1]))
        spill.write(pairs.tobytes())
        spill.write(array("q", [offset, first, len(pairs) // 2]).tobytes())
        spill.flush()
        code = 0
    except BaseException:  # noqa: BLE001,S110 - this process then makes them itself, raising what make raises
        pass
    finally:
        os._exit(code)


def _read_back(spill: IO[bytes], met: int, n: int) -> Iterator[str]:
    """The texts of items ``met`` to ``n`` that the second process wrote to ``spill``, in item order."""
    spill.seek(-24, os.SEEK_END)
    tail = array("q")
    tail.frombytes(spill.read(24))
    index_at, first, count = tail
    if first != met or count != n - met:  # pragma: no cover - its own bookkeeping, checked before use
        raise RuntimeError(f"the second process wrote items {first} to {first + count}, not {met} to {n}")
    spill.seek(index_at)
    pairs = array("q")
    pairs.frombytes(spill.read(16 * count))
    for k in range(0, len(pairs), 2):
        spill.seek(pairs[k])
        yield spill.read(pairs[k + 1]).decode("utf-8", "surrogateescape")


def _one_process() -> bool:
    """``IMSVALOG_WORKERS`` asks for one process (or is no number: the command has said so already)."""
    n = workers_of(os.environ.get("IMSVALOG_WORKERS"), os.cpu_count())
    return n is None or n < 2
