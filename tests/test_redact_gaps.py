"""imsvalog redact: the gaps task rd closed (quoted local parts, glued addresses and private top-level
labels where the context makes them certain, folder and bundle names in the paths ``redact --to``
writes, X-Sender-Name, DKIM selectors, ``mailto:`` local parts, RFC 2047 subjects, bundle labels with
``!``).  Each test fails on the code before (main 056e356)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.redact import Redactor
from imsvalog.sources import kind_from_name

from .conftest import FIXTURES

LEAKS = FIXTURES / "redact-leaks"
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


# ---------------------------------------------------------------------------
# 3. Folder and bundle names in the paths redact --to writes
# ---------------------------------------------------------------------------


def _case_with_customer_names(root: Path) -> Path:
    """The redact-leaks case (domain kanzlei.lu) as a customer sends it: an appliance folder and a
    bundle named after the customer, a log renamed with the customer's name in front."""
    from fixtures.make_bundles import cdt_members, write_cdt_zip

    case = root / "Kanzlei case"
    event3 = case / "kanzlei.lu-imsva01" / "IMSVA" / "LogFile" / "Event3"
    event3.mkdir(parents=True)
    for p in LEAKS.iterdir():
        if kind_from_name(p.name):
            shutil.copy2(p, event3 / p.name)
    (event3 / "maillog-20240316").rename(event3 / "kanzlei-maillog-20240316")
    write_cdt_zip(case / "Kanzlei_mx1.kanzlei.lu-CDT-20240315-101500.zip", cdt_members(LEAKS))
    return case


def test_folder_bundle_and_file_names_are_redacted_kinds_and_dates_kept(tmp_path: Path) -> None:
    case = _case_with_customer_names(tmp_path)
    out = tmp_path / "out"
    res = run("redact", str(case), "--to", str(out), "--key-file", str(FIXTURES / "redaction-example.key"),
              "--password", "trend", "--verify")
    assert res.exit_code == 0, res.output
    assert "verify: PASSED" in res.stdout
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert names and [n for n in names if re.search("kanzlei", n, re.IGNORECASE)] == []
    red = r()
    dom, mx, word = red.domain("kanzlei.lu"), red.domain("mx1.kanzlei.lu"), red.domain("kanzlei")
    folder = f"{dom}-imsva01/IMSVA/LogFile/Event3"
    bundle = f"{word.capitalize()}_{mx}-CDT-20240315-101500/IMSVA/LogFile/Event3"
    for where in (folder, bundle):  # the same pseudonyms as in the logs; IMSVA's folders, kinds, dates kept
        assert f"{where}/log.imss.20240315.0001" in names
        assert f"{where}/polevt.imss.20240315.0001" in names and f"{where}/msgtra.imss.20240315.0001" in names
    assert f"{folder}/log.imss.20240315.0002.gz" in names and f"{folder}/{word}-maillog-20240316" in names
    # read back as the same kinds: correlate on the copy finds every kind the original has
    assert dom in (out / folder / "polevt.imss.20240315.0001").read_text()


def test_path_names_keep_imsva_words_kinds_dates_and_extensions_and_redact_every_other_word() -> None:
    red = r()
    kept = ["IMSVA", "LogFile", "Logfile", "Event3", "CDT-20240312-101500", "imsva02", "rotated", "20240312",
            "siem-export.log", "log.imss.20240312.0001.gz", "maillog-20240313", "trusted.txt", "%2E%2E", "#2"]
    assert [x for x in kept if red.path_part(x, "." in x) != x] == []
    assert red.path_part("Kanzlei-Trusted.TXT", True) == red.domain("kanzlei").capitalize() + "-Trusted.TXT"
    assert red.path_part("kanzlei.lu", False) == red.domain("kanzlei.lu")
    assert red.path_part("imsva01.kanzlei.lu.log", True) == red.domain("imsva01.kanzlei.lu") + ".log"
    assert red.path_part("srv.corp", False) == red.domain("srv.corp")  # a special-use top-level domain
    assert red.path_part("Jean Dupont_2024", False) == f"{red.domain('jean').capitalize()} {red.domain('dupont').capitalize()}_2024"
    assert red.path_part("Müller", False) == red.domain("müller")  # a non-ASCII word: its A-label's pseudonym
    assert red.path_part("Müller", False) == Redactor(KEY).path_part("Müller", False)  # pure: nothing learned needed
