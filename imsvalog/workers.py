"""How many processes read a big log.imss (``IMSVALOG_WORKERS``), and the one extra process that reads a part.

``correlate``'s scan (:mod:`imsvalog.correlation.scan`) and the DataFrame reader of log.imss
(:func:`imsvalog.columns.imss_frame`) cut a big plain file at a line start and give one part
to a second process, made by ``fork`` (the imports are shared, nothing is started again):
:class:`StreamedPart`, whose result comes back whole (the reader's columns) or in pieces as it goes (the
scan's marked runs, built here while it scans on).  The second process never outlives this one: it
holds no read end of the pipe, so its next write after this process is gone fails and it stops.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from .errors import InputError


def workers_of(text: str | None, cpus: int | None) -> int | None:
    """How many processes scan a big log.imss, from ``IMSVALOG_WORKERS``: 1 or 2 (more is 2, less than 0 is
    1; unset, empty or 0: as many as the cores, at most 2); None when the text is not a whole number.

    >>> workers_of(None, 8), workers_of("1", 8), workers_of(" 5 ", 8), workers_of("0", 1), workers_of("-3", 8)
    (2, 1, 2, 1, 1)
    >>> workers_of("abc", 8), workers_of("1.5", 8)
    (None, None)
    """
    try:
        n = int(text.strip() or 0) if text is not None else 0
    except ValueError:
        return None
    return max(1, min(2, n or cpus or 1))


def bad_workers_message() -> str:
    """The input error for an ``IMSVALOG_WORKERS`` that is not a whole number."""
    return (
        f"IMSVALOG_WORKERS={os.environ.get('IMSVALOG_WORKERS', '')!r} is not a number of processes "
        "(1 or 2; unset: as many as the cores, at most 2)"
    )


class WorkerDied(InputError):
    """The second process stopped before it sent its whole result (killed, out of memory): the input could
    not be read this way, said in one line (exit 2 in the CLI), as an unreadable input is."""


class StreamedPart:
    """A second process, made by ``fork``, that runs ``target(emit, *args)`` and sends back each piece
    it gives ``emit`` as it goes, then what ``target`` returns: iterate to get them in that order.

    Its pieces go through a pipe written by a thread of the second process (so its work never waits
    for this one to read) and are read here only when asked for: this process may do its own work
    first, then take the pieces one by one while the second process still works.  An exception
    raised by ``target`` is raised here; a second process that dies is :class:`WorkerDied`.
    None of this when the system cannot fork: :meth:`start` returns None.
    """

    def __init__(self, what: str, target: Callable[..., Any], *args: Any) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        self.what = what
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_run_streamed, args=(send, self._recv, os.getpid(), target, args), daemon=True)
        self._proc.start()
        send.close()  # the second process holds the only write end: its end (or death) is the end of the pipe

    @classmethod
    def start(cls, what: str, target: Callable[..., Any], *args: Any) -> StreamedPart | None:
        import multiprocessing

        if "fork" not in multiprocessing.get_all_start_methods():
            return None
        return cls(what, target, *args)

    def __iter__(self) -> Iterator[Any]:
        while True:
            try:
                kind, value = self._recv.recv()
            except (EOFError, OSError):  # OSError: it died in the middle of a message ("got end of file during message")
                self._proc.join()
                code = self._proc.exitcode
                how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}"
                raise WorkerDied(
                    f"the second process reading {self.what} stopped before it finished ({how}); "
                    "run again, or with IMSVALOG_WORKERS=1 to read it in one process"
                ) from None
            if kind == "error":
                raise value
            yield value
            if kind == "last":
                return

    def close(self) -> None:
        """Let go of the second process (stopped if it still runs: this process gave up on it)."""
        self._recv.close()
        if self._proc.is_alive():
            self._proc.kill()
        self._proc.join()


def _die_with(parent: int) -> None:
    """Linux: the kernel kills this process as soon as the one that made it (``parent``) dies
    (``prctl(PR_SET_PDEATHSIG, SIGKILL)``), also while it works on and writes nothing (read_log_imss's second
    process sends its result only at the end of its part); where there is no prctl, its next write fails."""
    import ctypes
    import signal

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return
    if prctl(1, signal.SIGKILL, 0, 0, 0) == 0 and os.getppid() != parent:  # 1: PR_SET_PDEATHSIG
        os._exit(1)  # it died before the call


def _run_streamed(send: Any, recv: Any, parent: int, target: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """The second process of :class:`StreamedPart`: ``target``'s pieces queued, a thread writing them out.

    Its copy of the read end (``recv``, inherited by the fork) is closed first: else a write to a full pipe
    whose reader is gone (this process killed) would wait for ever, an orphan holding its memory.  When the
    reader is gone, the second process stops at once (there is nobody to work for)."""
    import queue
    import threading

    recv.close()
    _die_with(parent)

    pieces: queue.SimpleQueue[tuple[str, Any] | None] = queue.SimpleQueue()

    def write() -> None:
        while (item := pieces.get()) is not None:
            try:
                send.send(item)
            except OSError:  # BrokenPipeError: the reader gave up or is gone
                os._exit(1)  # noqa: SLF001 - no cleanup to run: nothing of this process is wanted any more
            except Exception as exc:  # noqa: BLE001 - a piece that would not pickle: said, not lost
                send.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
                return

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        pieces.put(("last", target(lambda piece: pieces.put(("piece", piece)), *args)))
    except BaseException as exc:  # noqa: BLE001 - handed to the reader, which raises it
        pieces.put(("error", _sendable(exc)))
    pieces.put(None)
    writer.join()
    send.close()


def _sendable(exc: BaseException) -> BaseException:
    """``exc``, or a RuntimeError that says what it was when it would not come back from pickle whole
    (an exception whose ``__init__`` takes other arguments than its ``args``)."""
    import pickle

    try:
        back = pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes
    except Exception:  # noqa: BLE001
        back = None
    if type(back) is type(exc) and str(back) == str(exc):
        return exc
    if isinstance(exc, InputError):
        return InputError(str(exc))  # still the user's one-line error
    return RuntimeError(f"{type(exc).__name__}: {exc}")
