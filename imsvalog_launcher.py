"""Entry point of the ``imsvalog`` command: Ctrl-C at any moment ends it with status 130, no traceback.

Importing the program (pandas, pyparsing, rich, typer) takes a noticeable part of a
second, and Python's default handler would print a ``KeyboardInterrupt`` traceback
from the middle of some import.  This module lives outside the ``imsvalog`` package
so that importing it runs nothing heavy, and its first statement installs a SIGINT
handler that exits at once (nothing has been written yet).  ``main`` then imports
:mod:`imsvalog.cli` and hands Ctrl-C back to it, where it becomes a clean exit that
also removes temporary output files.  (A Ctrl-C while the interpreter itself is
still starting, before any line of this file runs, is Python's own business, and so
are the few lines of the wrapper script pip generates, which import this module.)

Ctrl-C during this module's own imports, before the handler is in place, arrives as
``KeyboardInterrupt``: the ``try`` around them turns it into the same clean exit.
"""

try:
    import atexit
    import os
    import signal
    import sys
except KeyboardInterrupt:  # pragma: no cover - exercised by a test in a child process
    import sys

    sys.stderr.write("imsvalog: interrupted\n")
    raise SystemExit(130) from None


def _exit_now(signum, frame):  # type: ignore[no-untyped-def]
    try:
        os.write(2, b"imsvalog: interrupted\n")
    finally:
        os._exit(130)


def _install(handler) -> None:  # type: ignore[no-untyped-def]
    # only where Python's own KeyboardInterrupt handler is in place: a SIGINT ignored
    # by whoever started us (a background job of a script) stays ignored
    try:
        if signal.getsignal(signal.SIGINT) in (signal.default_int_handler, _exit_now):
            signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread
        pass


try:
    _install(_exit_now)
except KeyboardInterrupt:  # pragma: no cover - between the imports and the handler
    os.write(2, b"imsvalog: interrupted\n")
    os._exit(130)


#: the exit status of the finished command, once it is known to be a plain status (see :func:`_skip_teardown`)
_status: int | None = None


def _skip_teardown() -> None:
    """The last exit handler (registered before any other): once the command has finished with a plain status,
    exit without the interpreter's teardown, which frees every object and module one by one (about 0.2 s of CPU
    after ``correlate`` of 1 GB, 0.06 s after a small one), as mypy's ``hard_exit`` does.

    It runs after Python's own shutdown steps (non-daemon threads joined) and every other exit handler
    (temporary folders removed, ...); standard output and error are flushed first.  A flush that fails (the
    reader went away), or a command that ended otherwise (an exception, ``sys.exit("text")``): the interpreter's
    own exit, as always.  The files the command wrote are closed by then (they are written in ``with`` blocks).
    """
    if _status is None:
        return
    try:
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            if stream is not None:
                stream.flush()
    except Exception:  # noqa: BLE001 - reported by the interpreter's own exit, as without this handler
        return
    os._exit(_status)


atexit.register(_skip_teardown)  # before anything else is imported: so it runs last


def main() -> None:
    global _status
    _install(_exit_now)
    from imsvalog.cli import main as cli_main

    try:
        _install(signal.default_int_handler)
        cli_main()
        _status = 0
    except SystemExit as done:
        if done.code is None or (isinstance(done.code, int) and not isinstance(done.code, bool)):
            _status = done.code or 0
        raise
    except KeyboardInterrupt:
        # between the hand-over and the command's own handler (cli.main's first lines): nothing written yet
        os.write(2, b"imsvalog: interrupted\n")
        raise SystemExit(130) from None
    finally:
        # the command is done (or exiting): a late Ctrl-C must not print a traceback either
        _install(_exit_now)


if __name__ == "__main__":
    main()
