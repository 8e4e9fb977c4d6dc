"""Errors that reach users as a one-line message and exit code 2, never a traceback."""

from __future__ import annotations


class InputError(Exception):
    """Bad input named by the user: missing path, unreadable file, unknown kind, bad list entry."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ReadError(InputError):
    """A file that stops being readable part-way (a truncated or corrupt gzip, an I/O error).

    ``lines`` is how many lines were read before it; readers turn this into a reject
    for the unreadable rest of the file and go on with the next file.  ``raw`` is the
    readable start of the line that was cut (a truncated gzip ends mid-line), kept in
    that reject.
    """

    def __init__(self, file: str, lines: int, reason: str, raw: str = "") -> None:
        super().__init__(f"{file}: cannot read past line {lines}: {reason}")
        self.file = file
        self.lines = lines
        self.reason = reason
        self.raw = raw
