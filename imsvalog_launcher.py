"""Entry point of the ``imsvalog`` command: Ctrl-C at any moment ends it with status 130, no traceback.

Importing the program (pandas, pyparsing, rich, typer) takes a noticeable part of a
second, and Python's default handler would print a ``KeyboardInterrupt`` traceback
from the middle of some import.  This module lives outside the ``imsvalog`` package
so that importing it runs nothing heavy: it first installs a SIGINT handler that
exits at once (nothing has been written yet), then imports :mod:`imsvalog.cli`
and hands Ctrl-C back to it, where it becomes a clean exit that also removes
temporary output files.
"""

from __future__ import annotations

import os
import signal


def _exit_now(signum: int, frame: object) -> None:
    try:
        os.write(2, b"imsvalog: interrupted\n")
    finally:
        os._exit(130)


def _install(handler: object) -> None:
    # only where Python's own KeyboardInterrupt handler is in place: a SIGINT ignored
    # by whoever started us (a background job of a script) stays ignored
    try:
        if signal.getsignal(signal.SIGINT) in (signal.default_int_handler, _exit_now):
            signal.signal(signal.SIGINT, handler)  # type: ignore[arg-type]
    except ValueError:  # not the main thread
        pass


def main() -> None:
    _install(_exit_now)
    from imsvalog.cli import main as cli_main

    _install(signal.default_int_handler)
    try:
        cli_main()
    finally:
        # the command is done (or exiting): a late Ctrl-C must not print a traceback either
        _install(_exit_now)


if __name__ == "__main__":
    main()
