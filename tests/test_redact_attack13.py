"""imsvalog redact: what the second hostile review of issue 13 found (attack13-report.md), each a
regression test that failed before its fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.redact import Redactor
from imsvalog.spoof import idna_form

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


# ---------------------------------------------------------------------------
# 2. A subject (chosen by whoever sends the mail) never rewrites IMSVA's own texts
# ---------------------------------------------------------------------------

IMSVA_TEXT = "[DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered."
SUBJECT = "\tQuartalszahlen vertraulich\t"


@pytest.mark.parametrize("subject", ["Triggered", "Not all sender IP in Trusted Internal IP List", "AntiSpoofFilter"])
def test_a_subject_never_rewrites_imsvas_own_texts(subject: str, tmp_path: Path) -> None:
    case = case_copy(tmp_path, (SUBJECT, f"\t{subject}\t"))
    out = tmp_path / "out"
    r = run("redact", str(case), "--to", str(out), "--key-file", KEY_FILE, "--verify")
    assert r.exit_code == 0, r.output
    assert "verify: PASSED" in r.stdout
    copy = (out / "log.imss.20240315.0001").read_text(encoding="utf-8")
    assert IMSVA_TEXT in copy
    assert subject not in (out / "polevt.imss.20240315.0001").read_text(encoding="utf-8")  # its own field: a token


def test_a_subject_is_still_a_token_where_log_imss_says_it_is_one() -> None:
    red = Redactor(KEY)
    red.polevt_line((LEAKS / "polevt.imss.20240315.0001").read_text(encoding="utf-8").rstrip("\n"))
    red.frozen = True
    line = "2024/03/15 10:00:01 GMT+01:00 [4242:139871] [DEBUG]TmIsScan::scanMessage: Subject=Quartalszahlen vertraulich"
    assert "Quartalszahlen" not in red.imss_line(line)


def test_correlate_redact_says_so_when_the_redacted_copy_answers_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    key = ["--key-file", KEY_FILE]
    same = run("correlate", "fixtures/busy-day", "--redact", *key)
    assert same.exit_code == 0 and "NOT give the same answers" not in same.output
    import imsvalog.redact as red

    real = red.Redactor.ip_text  # what a class-blind anonymiser would do: a public sender made private
    monkeypatch.setattr(red.Redactor, "ip_text", lambda self, t: "10.0.0.1" if t == "203.0.113.45" else real(self, t))
    changed = run("correlate", "fixtures/busy-day", "--redact", *key)
    assert changed.exit_code == 0
    assert "warning: the redacted copy does NOT give the same answers as the original logs" in changed.stderr
    assert "recomputed_count" in changed.stderr and "203.0.113.45" not in changed.stderr


# ---------------------------------------------------------------------------
# 4. Dots IDNA reads as '.', so domains equal as IMSVA compares them get one pseudonym
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dot", ["\uff0e", "\u3002", "\uff61"])
def test_idna_dots_keep_domain_equality_as_imsva_sees_it(dot: str, tmp_path: Path) -> None:
    red = Redactor(KEY, frozen=True)
    wide = red.domain(f"mx1{dot}kanzlei{dot}lu")
    assert idna_form(wide) == idna_form(red.domain("mx1.kanzlei.lu"))
    assert "kanzlei" not in wide and wide.count(dot) == 2  # each dot as it was written
    assert "kanzlei" not in red.imss_line(f"2024/03/15 10:00:01 GMT+01:00 [4242:139871] Info: from a@kanzlei{dot}lu")
    # the sender's domain written with that dot, the recipients' with '.': one domain for the model
    case = case_copy(tmp_path, ("jdoe@kanzlei.lu (Jean", f"jdoe@kanzlei{dot}lu (Jean"))
    out = tmp_path / "out"
    r = run("redact", str(case), "--to", str(out), "--key-file", KEY_FILE, "--verify")
    assert r.exit_code == 0, r.output
    assert "verify: PASSED" in r.stdout
    assert "kanzlei" not in output_text(out).lower()


def test_queue_ids_maillog_holds_are_redacted_in_free_text_too() -> None:
    red = Redactor(KEY)
    red.learning = True
    for qid in (LONG, "4C0FFEE042"):
        red.maillog_line(M + qid + ": client=mx1.kanzlei.lu[10.20.30.40]")
    red.learning, red.frozen = False, True
    out = red.imss_line(f"2024/03/15 10:00:01 GMT+01:00 [4242:139871] Info: queue {LONG} and lower-case 4c0ffee042 seen")
    assert absent(LONG, out) and absent("4c0ffee042", out)
    assert red.id_text(LONG) in out and red.id_text("4c0ffee042") in out
