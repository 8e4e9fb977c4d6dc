"""Errors that reach users as a one-line message and exit code 2, never a traceback."""

from __future__ import annotations


class InputError(Exception):
    """Bad input named by the user: missing path, unreadable file, unknown kind, bad list entry."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
