"""Reading the message a customer sends: .eml, Outlook .msg, or pasted headers.

What arrives in a ticket is rarely a clean RFC 5322 file:

* an ``.eml`` (or mbox with a ``From `` separator line);
* an Outlook ``.msg`` (an OLE compound file; the Internet headers are the
  ``PR_TRANSPORT_MESSAGE_HEADERS`` property), read with the extract-msg library;
* header text pasted into a file or piped on stdin (``-``), often with blank
  lines or spaces before it, the line ``Microsoft Mail Internet Headers
  Version 2.0`` that Outlook's "Internet headers" box starts with, or the
  summary that a web mail's "show original" page puts above the headers
  (``Message ID``, ``Created at:``, ``SPF:``, ``Download Original``, ...);
* continuation lines that lost their indentation in the paste.

:func:`open_message` finds the header block in all of these, says in
``notes`` what it passed over or repaired, and returns the
:class:`~imsvalog.spoof.MessageInput` the spoof model needs.  Header text is
decoded as UTF-8 with ``surrogateescape``: bytes in another charset are kept
and shown as ``\\xNN`` by :mod:`imsvalog.render`.

>>> m = message_from_bytes(b"\\n\\nMicrosoft Mail Internet Headers Version 2.0\\r\\n"
...     b"Received: from a.example.org (a.example.org [203.0.113.5])\\r\\n by b.example.com; Tue, 12 Mar 2024 09:15:01 +0100\\r\\n"
...     b"From: alice@example.com\\r\\nTo: bob@example.com\\r\\n")
>>> m.received
('from a.example.org (a.example.org [203.0.113.5]) by b.example.com; Tue, 12 Mar 2024 09:15:01 +0100',)
"""

from __future__ import annotations

import io
import os
import re
import sys
from dataclasses import dataclass, field
from email import policy as email_policy
from email.parser import Parser
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import IO, Any

from .errors import InputError
from .grammars.received import unfold
from .spoof import MessageInput

#: the first bytes of an OLE compound file (Outlook .msg)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

#: the line Outlook's "Internet headers" box starts with
OUTLOOK_PREFIX = "Microsoft Mail Internet Headers Version 2.0"

_FIELD = re.compile(r"[!-9;-~]+:")  # an RFC 5322 field name and its colon
_ENVELOPE_FIELDS = ("received", "return-path", "delivered-to", "x-original-to", "envelope-to")


@dataclass(frozen=True)
class CustomerMessage:
    """A message as read from what the customer sent, and how it was read."""

    message: MessageInput
    form: str  # eml | msg | headers
    name: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "form": self.form, "notes": list(self.notes)}


def open_message(source: str | os.PathLike[str] | IO[bytes], name: str | None = None) -> CustomerMessage:
    """Read a message from a path, ``"-"`` (stdin) or a binary file object.

    Raises :class:`~imsvalog.errors.InputError` (one line) when it cannot be read
    or holds no mail headers.
    """
    if isinstance(source, (str, os.PathLike)) and os.fspath(source) == "-":
        source = sys.stdin.buffer
        name = name or "<stdin>"
    if isinstance(source, (str, os.PathLike)):
        name = name or os.fspath(source)
        if os.path.exists(source) and not os.path.isfile(source) and not os.path.isdir(source):
            from .sources import not_regular  # a FIFO would be waited on forever

            raise InputError(f"{name}: not a regular file: {not_regular(Path(source))}; give a file, or - for standard input")
        try:
            with open(source, "rb") as fh:
                data = fh.read()
        except IsADirectoryError:
            raise InputError(f"{name}: is a directory, not a message") from None
        except OSError as exc:
            raise InputError(f"{name}: cannot read: {exc.strerror}") from None
    else:
        name = name or getattr(source, "name", None) or "<message>"
        data = source.read()
    return customer_message_from_bytes(data, str(name))


def read_message(source: str | os.PathLike[str] | IO[bytes], name: str | None = None) -> MessageInput:
    """Received headers, envelope sender (Return-Path), header From and recipients of what the customer sent."""
    return open_message(source, name).message


def message_from_bytes(data: bytes, name: str = "<message>") -> MessageInput:
    """Like :func:`read_message`, from bytes."""
    return customer_message_from_bytes(data, name).message


def customer_message_from_bytes(data: bytes, name: str = "<message>") -> CustomerMessage:
    """The message in ``data``: an Outlook .msg (by its magic bytes) or mail/header text."""
    if data.startswith(OLE_MAGIC):
        text, notes = _msg_headers(data, name)
        message, more = _from_text(text, name)
        return CustomerMessage(message, "msg", name, tuple(notes + more))
    text = data.decode("utf-8", "surrogateescape")
    message, notes = _from_text(text, name)
    form = "eml" if not notes and name.lower().endswith(".eml") else "headers"
    return CustomerMessage(message, form, name, tuple(notes))


# ---------------------------------------------------------------------------
# Outlook .msg
# ---------------------------------------------------------------------------


def _msg_headers(data: bytes, name: str) -> tuple[str, list[str]]:
    """The Internet headers of an Outlook .msg (``PR_TRANSPORT_MESSAGE_HEADERS``)."""
    import extract_msg  # imported here: it is slow to import and only .msg files need it

    try:
        msg = extract_msg.openMsg(io.BytesIO(data), strict=False)
    except Exception as exc:  # noqa: BLE001 - the library raises many kinds for a damaged file
        raise InputError(f"{name}: not a readable Outlook .msg file: {type(exc).__name__}: {exc}") from None
    try:
        text = getattr(msg, "headerText", None)
        if not text:
            raise InputError(
                f"{name}: this Outlook .msg holds no Internet headers (it was never sent through a mail server, "
                "or was saved from a draft); ask the customer for the headers of the received copy"
            )
        return text, [f"read the Internet headers of an Outlook .msg ({_msg_kind(msg)})"]
    finally:
        close = getattr(msg, "close", None)
        if close is not None:
            close()


def _msg_kind(msg: Any) -> str:
    cls = getattr(msg, "classType", None) or type(msg).__name__
    return str(cls)


# ---------------------------------------------------------------------------
# Header text, as pasted
# ---------------------------------------------------------------------------


def _is_field(line: str) -> bool:
    return bool(_FIELD.match(line))


def _blocks(lines: list[str]) -> list[tuple[int, int]]:
    """Runs of header-looking lines (a field, then fields or continuations), as (start, end) indexes."""
    runs = []
    i = 0
    while i < len(lines):
        if _is_field(lines[i]):
            j = i + 1
            while j < len(lines) and lines[j].strip() and (_is_field(lines[j]) or lines[j][:1] in " \t"):
                j += 1
            runs.append((i, j))
            i = j
        else:
            i += 1
    return runs


def _from_text(text: str, name: str) -> tuple[MessageInput, list[str]]:
    notes: list[str] = []
    lines = text.splitlines()
    runs = _blocks(lines)
    # the header block is the first run that holds a Received (or other envelope) field;
    # without one, the first run that holds From
    start = None
    for wanted in (_ENVELOPE_FIELDS, ("from",)):
        for a, b in runs:
            if any(lines[k].split(":", 1)[0].strip().lower() in wanted for k in range(a, b) if _is_field(lines[k])):
                start = a
                break
        if start is not None:
            break
    if start is None:
        raise InputError(f"{name}: does not look like a mail message or its headers (no Received or From header field found)")
    skipped = lines[:start]
    if skipped:
        notes.append(_skipped_note(skipped))
    block, repaired = _header_block(lines[start:])
    if repaired:
        notes.append(
            f"{repaired} line{'s' if repaired != 1 else ''} inside the headers did not start with a field name or "
            "white space (folding lost in the paste?) and {0} read as continuation{1} of the field above".format(
                "were" if repaired != 1 else "was", "s" if repaired != 1 else ""
            )
        )
    msg = Parser(policy=email_policy.compat32).parsestr("\n".join(block) + "\n\n", headersonly=True)
    fields: dict[str, list[str]] = {}
    for k, v in msg.raw_items():  # raw text: undecodable bytes stay surrogate escapes
        fields.setdefault(k.strip().lower(), []).append(v)
    received = tuple(unfold(v) for v in fields.get("received", []))
    header_from = unfold(fields["from"][0]) if "from" in fields else None
    sender = parseaddr(fields["return-path"][0])[1] or None if "return-path" in fields else None
    rcpts = [a for _, a in getaddresses(fields.get("to", []) + fields.get("cc", [])) if a]
    if not rcpts:
        for k in ("delivered-to", "x-original-to", "envelope-to"):
            rcpts += [parseaddr(v)[1] for v in fields.get(k, [])]
    return MessageInput(received, sender, tuple(r for r in rcpts if r), header_from, name), notes


def _skipped_note(skipped: list[str]) -> str:
    content = [s.strip() for s in skipped if s.strip()]
    n = len(skipped)
    what = f"passed over {n} line{'s' if n != 1 else ''} before the headers"
    if not content:
        return what + " (blank)"
    if any(s.startswith(OUTLOOK_PREFIX) for s in content):
        return what + f" (Outlook's '{OUTLOOK_PREFIX}' line)"
    if content[0].startswith("From ") and len(content) == 1:
        return what + " (an mbox 'From ' separator)"
    return what + f" (a web mail page's summary? first: '{content[0][:60]}')"


def _header_block(lines: list[str]) -> tuple[list[str], int]:
    """Lines up to the first blank one; lines that are neither fields nor indented become continuations."""
    out: list[str] = []
    repaired = 0
    for line in lines:
        if not line.strip():
            break
        if _is_field(line) or line[:1] in " \t":
            out.append(line)
        else:
            out.append(" " + line)
            repaired += 1
    return out, repaired
