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
    import os
    import signal
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


def main() -> None:
    _install(_exit_now)
    from imsvalog.cli import main as cli_main

    try:
        _install(signal.default_int_handler)
        cli_main()
    except KeyboardInterrupt:
        # between the hand-over and the command's own handler (cli.main's first lines): nothing written yet
        os.write(2, b"imsvalog: interrupted\n")
        raise SystemExit(130) from None
    finally:
        # the command is done (or exiting): a late Ctrl-C must not print a traceback either
        _install(_exit_now)


if __name__ == "__main__":
    main()
