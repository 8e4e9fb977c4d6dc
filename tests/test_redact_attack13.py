"""imsvalog redact: what the second hostile review of issue 13 found (attack13-report.md), each a
regression test that failed before its fix."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.redact import Redactor

from .conftest import FIXTURES
from .test_redact import output_text  # every output byte, gzip members decompressed

KEY = bytes.fromhex((FIXTURES / "redaction-example.key").read_text().strip())
LEAKS = FIXTURES / "redact-leaks"
KEY_FILE = str(FIXTURES / "redaction-example.key")
M = "Mar 15 10:00:00 imsva postfix/smtpd[24750]: "


def absent(token: str, text: str) -> bool:
    """Not anywhere in text, in any case (a queue ID is glued to its ``:``)."""
    return token.lower() not in text.lower()


def run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "100", "TERM": "dumb"})


def case_copy(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    """A copy of the redact-leaks case's logs, each ``(old, new)`` of ``changes`` replaced."""
    case = tmp_path / "case"
    case.mkdir()
    for p in LEAKS.iterdir():
        if p.suffix == ".gz" or p.name in ("message.eml", "trusted.txt", "siem-5424.log"):
            continue
        text = p.read_text(encoding="utf-8")
        for old, new in changes:
            text = text.replace(old, new)
        (case / p.name).write_text(text, encoding="utf-8")
    return case


# ---------------------------------------------------------------------------
# 1. Postfix long queue IDs (enable_long_queue_ids = yes) are queue IDs everywhere
# ---------------------------------------------------------------------------

LONG = "4XyZ1m2nQpz8abc"


def test_a_long_queue_id_starting_a_maillog_line_is_redacted_like_in_received() -> None:
    red = Redactor(KEY, frozen=True)
    out = red.maillog_line(M + LONG + ": client=mx1.kanzlei.lu[10.20.30.40]")
    assert absent(LONG, out)
    assert red.id_text(LONG) in out
    received = red.received("from x (x [10.20.30.40]) by imsva (Postfix) with ESMTP id " + LONG + " for <a@b.lu>")
    assert red.id_text(LONG) in received and absent(LONG, received)
    # a real long ID (no vowels, 'z' between time and inode) and a lower-case short one
    for qid in ("3nJFhK0pNyz7Lg5", "4c0ffee042"):
        assert absent(qid, red.maillog_line(M + qid + ": removed"))
    for literal in ("NOQUEUE: reject: RCPT", "warning: hostname x", "statistics: max connection rate 1/60s"):
        assert red.maillog_line(M + literal).endswith(literal)


def test_long_queue_ids_keep_the_queue_id_link_and_leak_nowhere(tmp_path: Path) -> None:
    # the queue ID only in Received's id clause and maillog's first field (not in the Message-ID): the
    # queue_id link then goes through maillog, so a queue ID redacted in one place only breaks it
    case = case_copy(tmp_path, ("ESMTP id 4C0FFEE042", "ESMTP id " + LONG), ("]: 4C0FFEE042: ", "]: " + LONG + ": "))
    assert LONG in (case / "maillog-20240316").read_text(encoding="utf-8")
    out = tmp_path / "out"
    r = run("redact", str(case), "--to", str(out), "--key-file", KEY_FILE, "--verify")
    assert r.exit_code == 0, r.output
    assert "verify: PASSED" in r.stdout and "DIFFERENT" not in r.stdout
    assert absent(LONG, output_text(out))
    assert absent(LONG.upper(), output_text(out))
