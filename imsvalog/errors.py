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
    that reject.  ``whole``: the file was read to its end after all, only the check at its end failed (a gzip
    whose deflate data ended properly but whose 8-byte trailer does not match it or is cut off): nothing of it is
    left unread, though its lines may be garbled.
    """

    def __init__(self, file: str, lines: int, reason: str, raw: str = "", whole: bool = False) -> None:
        super().__init__(f"{file}: cannot read past line {lines}: {reason}")
        self.file = file
        self.lines = lines
        self.reason = reason
        self.raw = raw
        self.whole = whole

    def __reduce__(self) -> tuple[type, tuple[str, int, str, str, bool]]:  # sent by a worker process whole
        return type(self), (self.file, self.lines, self.reason, self.raw, self.whole)
