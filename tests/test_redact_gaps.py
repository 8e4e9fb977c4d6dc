"""imsvalog redact: the gaps task rd closed (quoted local parts, glued addresses and private top-level
labels where the context makes them certain, folder and bundle names in the paths ``redact --to``
writes, X-Sender-Name, DKIM selectors, ``mailto:`` local parts, RFC 2047 subjects, bundle labels with
``!``).  Each test fails on the code before (main 056e356)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.redact import Redactor

from .conftest import FIXTURES

KEY = bytes.fromhex((FIXTURES / "redaction-example.key").read_text().strip())
H = "2024/03/15 10:00:01 GMT+01:00 [4242:139871] [DEBUG]CMsgScanner::checkSpoof: "
POLEVT = "2024/03/15 10:00:01 GMT+01:00\t6B1E2C3D-4F50-4A61-8B72-9C8D7E6F5A41\t{sender}\tjdoe@kanzlei.lu\tHallo\t1\tSpoofing message\t0000010000000000\t\t0.612305\t01000000000000000\t0.000000\t0\t0\t\t"


def run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "100", "TERM": "dumb"})


def r() -> Redactor:
    return Redactor(KEY, frozen=True)


# ---------------------------------------------------------------------------
# 1. Quoted local parts
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("local", "words"), [
    ('"Jean Dupont"', ["Jean", "Dupont"]),
    ('"john doe"', ["john", "doe"]),
    ('"jo\\"hn d\\"oe"', ["jo", "hn", "oe"]),
    ('"Müller, Jürgen"', ["Müller", "Jürgen"]),
])
@pytest.mark.parametrize(("before", "after"), [("envelope from ", " refused"), ("from=<", ">"), ("rcpt ", ".")])
def test_a_quoted_local_part_in_log_imss_free_text_is_redacted_whole(local: str, words: list[str], before: str, after: str) -> None:
    red = r()
    out = red.imss_line(H + before + local + "@example.lu" + after)
    expected = red.local(local) + "@" + red.domain("example.lu")
    assert out == H + before + expected + after
    assert expected.startswith('"') and expected.count('"') == local.count('"')  # quotes and escapes kept
    assert [w for w in words if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", out)] == []


def test_a_quoted_local_part_gets_one_pseudonym_in_log_imss_polevt_msgtra_and_headers() -> None:
    red = r()
    addr = '"Jean Dupont"@example.lu'
    want = red.addr_spec(addr)
    assert want != addr and "Jean" not in want and "Dupont" not in want
    assert want in red.imss_line(H + "sender " + addr)
    assert red.polevt_line(POLEVT.format(sender=addr)).split("\t")[2] == want
    assert red.address_field("<" + addr + ">") == "<" + want + ">"
    assert red.address_list('"Doe, J" <' + addr + ">, " + addr).endswith("<" + want + ">, " + want)


def test_a_quoted_role_name_stays_a_role_name_and_quotes_in_other_text_stay() -> None:
    red = r()
    assert red.local('"postmaster"') == '"postmaster"'
    assert red.imss_line(H + 'said "hi" and "ok" then') == H + 'said "hi" and "ok" then'
