"""What customers send as 'the quarantined mail': .eml, Outlook .msg, pasted headers, stdin."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from extract_msg.ole_writer import OleWriter
from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.errors import InputError
from imsvalog.messages import OUTLOOK_PREFIX, open_message, message_from_bytes

from .conftest import FIXTURES

runner = CliRunner()
MSG = FIXTURES / "messages"

HEADERS = (
    "Return-Path: <alice@example.com>\r\n"
    "Received: from edge1.example.org (edge1.example.org [203.0.113.5])\r\n"
    "\tby imsva.example.com (Postfix) with ESMTP id 4A1F3C0042\r\n"
    "\tfor <bob@example.com>; Tue, 12 Mar 2024 09:15:01 +0100 (CET)\r\n"
    "Received: from mail.corp.example.com (mail.corp.example.com [10.1.1.5])\r\n"
    "\tby edge1.example.org (Postfix) with ESMTPS id 77AB12C0DE; Tue, 12 Mar 2024 09:15:00 +0100 (CET)\r\n"
    "Received: from ws-alice (unknown [192.168.1.20])\r\n"
    "\tby mail.corp.example.com with ESMTPSA id 1C2D3E4F5A; Tue, 12 Mar 2024 09:14:59 +0100 (CET)\r\n"
    "From: Alice Example <alice@example.com>\r\n"
    "To: Bob <bob@example.com>\r\n"
    "Subject: Invoice\r\n"
)
COUNTED = ["203.0.113.5"]
RECEIVED_1 = (
    "from edge1.example.org (edge1.example.org [203.0.113.5])\tby imsva.example.com (Postfix) with ESMTP id 4A1F3C0042"
    "\tfor <bob@example.com>; Tue, 12 Mar 2024 09:15:01 +0100 (CET)"
)


def make_msg(headers: str | None, subject: str = "Invoice") -> bytes:
    """A small Outlook .msg (OLE compound file) written with extract-msg's own OLE writer.

    The properties an Outlook-saved mail carries for our purpose: the message class,
    the subject and PR_TRANSPORT_MESSAGE_HEADERS (0x007D, UTF-16LE string 0x001F).
    """
    w = OleWriter()
    w.addEntry("__properties_version1.0", b"\0" * 32)
    w.addEntry("__substg1.0_001A001F", "IPM.Note".encode("utf-16-le"))
    w.addEntry("__substg1.0_0037001F", subject.encode("utf-16-le"))
    if headers is not None:
        w.addEntry("__substg1.0_007D001F", headers.encode("utf-16-le"))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def spoof_check(*args: str, stdin: bytes | None = None):
    return runner.invoke(app, ["spoof-check", *args], input=stdin)


def check(m) -> None:
    assert m.received[0] == RECEIVED_1
    assert len(m.received) == 3
    assert m.sender == "alice@example.com"
    assert m.recipients == ("bob@example.com",)
    assert m.header_from == "Alice Example <alice@example.com>"


# --- Outlook .msg ---------------------------------------------------------------------------------


def test_outlook_msg_headers_are_read(tmp_path: Path) -> None:
    p = tmp_path / "quarantined.msg"
    p.write_bytes(make_msg(HEADERS + "\r\n"))
    got = open_message(p)
    assert got.form == "msg"
    check(got.message)
    assert any("Outlook .msg" in n for n in got.notes)


def test_spoof_check_reads_a_msg_file(tmp_path: Path) -> None:
    p = tmp_path / "quarantined.msg"
    p.write_bytes(make_msg(HEADERS))
    r = spoof_check(str(p), "--trusted", "198.51.100.25", "--format", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["counted"] == COUNTED
    assert d["verdict"] == "fires"
    assert d["input"]["form"] == "msg"


def test_msg_without_internet_headers_says_what_to_ask_for(tmp_path: Path) -> None:
    p = tmp_path / "draft.msg"
    p.write_bytes(make_msg(None))
    r = spoof_check(str(p))
    assert r.exit_code == 2
    assert "no Internet headers" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_damaged_msg_is_one_line_error(tmp_path: Path) -> None:
    p = tmp_path / "cut.msg"
    p.write_bytes(make_msg(HEADERS)[:700])
    r = spoof_check(str(p))
    assert r.exit_code == 2
    assert r.stderr.startswith("imsvalog: error:") and "Outlook .msg" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


# --- pasted text ----------------------------------------------------------------------------------


def test_stdin_dash_is_read() -> None:
    r = spoof_check("-", "--format", "json", stdin=HEADERS.encode())
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["counted"] == COUNTED and d["message"] == "<stdin>"


def test_stdin_with_leading_blank_lines_and_spaces() -> None:
    r = spoof_check("-", "--format", "json", stdin=b"\n\n   \r\n" + HEADERS.encode())
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["counted"] == COUNTED
    assert "passed over 3 lines before the headers (blank)" in r.stderr


def test_outlook_internet_headers_box_paste() -> None:
    got = message_from_bytes(f"{OUTLOOK_PREFIX}\r\n{HEADERS}".encode(), "paste.txt")
    check(got)
    r = spoof_check("-", stdin=f"{OUTLOOK_PREFIX}\r\n{HEADERS}".encode())
    assert r.exit_code == 0, r.output
    assert "Outlook's 'Microsoft Mail Internet Headers Version 2.0' line" in r.stderr
    assert "counted 203.0.113.5" in r.stdout


GMAIL_SHOW_ORIGINAL = (
    "Original Message\n"
    "Message ID\t<CAF+abc123@mail.gmail.com>\n"
    "Created at:\tTue, Mar 12, 2024 at 9:15 AM (Delivered after 2 seconds)\n"
    "From:\tMallory <ceo@example.com>\n"
    "To:\tbob@example.com\n"
    "Subject:\tUrgent\n"
    "SPF:\tPASS with IP 203.0.113.5 Learn more\n"
    "DKIM:\t'PASS' with domain example.com Learn more\n"
    "\n"
    "Download Original\tCopy to clipboard\n"
    "Delivered-To: bob@example.com\n"
) + HEADERS.replace("\r\n", "\n") + "\nHello Bob,\nplease pay.\n"


def test_web_mail_show_original_page_paste() -> None:
    got = open_message(io.BytesIO(GMAIL_SHOW_ORIGINAL.encode()), "gmail.txt")
    check(got.message)
    assert got.form == "headers"
    assert any("web mail page's summary" in n and "Original Message" in n for n in got.notes)


def test_continuation_lines_that_lost_their_indentation_are_joined() -> None:
    flat = HEADERS.replace("\r\n\t", "\r\n")
    got = open_message(io.BytesIO(flat.encode()), "flattened.txt")
    assert got.message.received[0].replace("\t", " ") == " ".join(RECEIVED_1.split("\t"))
    assert got.message.received[0] == RECEIVED_1.replace("\t", " ")
    assert any("4 lines inside the headers" in n for n in got.notes)


def test_mbox_separator_line_is_passed_over() -> None:
    got = open_message(io.BytesIO(b"From alice@example.com Tue Mar 12 09:15:01 2024\n" + HEADERS.encode()), "x.mbox")
    check(got.message)
    assert any("mbox 'From ' separator" in n for n in got.notes)


def test_non_utf8_header_bytes_are_shown_as_escapes() -> None:
    raw = HEADERS.encode().replace(b"(unknown [192.168.1.20])", b"(caf\xe9 [192.168.1.20])")
    r = spoof_check("-", stdin=raw)
    assert r.exit_code == 0, r.output
    assert "caf\\xe9" in r.stdout
    j = spoof_check("-", "--format", "json", stdin=raw)
    assert "caf\\\\xe9" in j.stdout  # JSON keeps the text \xe9 (escaped backslash)
    assert "caf\\xe9" in json.loads(j.stdout)["headers"][2]["header"]


@pytest.mark.parametrize("name", ["cloud-relay-hairpin.eml", "two-edges-private-hops.eml", "ipv6-only.eml", "kb000239719-headers.txt"])
def test_shipped_messages_read_without_notes(name: str) -> None:
    got = open_message(MSG / name)
    assert got.notes == ()
    assert got.message.received and got.message.recipients


@pytest.mark.parametrize(
    "raw",
    [b"", b"\n\n\n", b"\x00\x01\x02binary", b"just some text\nmore\n", b"Subject: x\n\nno from, no received\n",
     b"Microsoft Mail Internet Headers Version 2.0\n"],
)
def test_what_is_not_mail_is_an_input_error(raw: bytes) -> None:
    with pytest.raises(InputError, match="does not look like a mail message"):
        message_from_bytes(raw, "x.txt")


def test_a_directory_is_a_one_line_error(tmp_path: Path) -> None:
    r = spoof_check(str(tmp_path))
    assert r.exit_code == 2 and "is a directory" in r.stderr
