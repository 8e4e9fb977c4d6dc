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


# ---------------------------------------------------------------------------
# 2. Glued addresses and private top-level labels, where the context makes them certain
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("before", "host", "after"), [
    ("connect from ", "mail.intern", " refused"),
    ("Received: from ", "srv01.firma.priv", " (unknown)"),
    ("relayed by ", "gw.geheim.intern", "."),
    ("helo=", "pc7.firma.intern", " rejected"),
    ("helo=<", "pc7.firma.intern", ">"),
    ("peer [", "mx.firma.intern", "]:25"),
    ("from ", "mail.geheim.home.arpa", ","),
])
def test_a_host_under_a_private_top_level_label_is_redacted_where_the_context_says_host(before: str, host: str, after: str) -> None:
    red = r()
    for mode in ("text", "hosts"):
        out = red.text(before + host + after, mode)
        assert out == before + red.domain(host) + after, mode
    assert red.imss_line(H + before + host + after) == H + before + red.domain(host) + after


@pytest.mark.parametrize(("before", "after"), [("mail from ", " ok"), ("[", "]"), ("helo=", ";"), ("by ", ".")])
def test_an_address_glued_to_a_word_is_redacted_where_the_context_says_host(before: str, after: str) -> None:
    red = r()
    out = red.imss_line(H + before + "host198.51.100.23" + after)
    assert out == H + before + "host" + red.ip_text("198.51.100.23") + after
    assert "198.51.100.23" not in out


def test_an_address_glued_to_a_word_in_postfix_host_brackets_is_redacted() -> None:
    red = r()
    line = "Mar 15 10:00:00 imsva postfix/smtpd[24750]: connect from host198.51.100.23[198.51.100.23]"
    out = red.maillog_line(line)
    assert out.endswith(": connect from host" + red.ip_text("198.51.100.23") + "[" + red.ip_text("198.51.100.23") + "]")
    assert "198.51.100.23" not in out


@pytest.mark.parametrize("text", [
    "loaded from TmIsScan.cpp ok", "version 9.1.0.1234 by setup.exe", "from 10:00:01 to 10:00:02",
    "called by CMsgScanner::checkSpoof", "[DEBUG] from IMSVA 9.1", "from mail.intern.cpp x",
    "upgraded from 9.1.0 by setup", "[libTmIsScan.so.1]",
])
def test_cxx_names_files_times_and_versions_stay_where_a_host_could_stand(text: str) -> None:
    red = r()
    assert red.text(text) == red.text_full(text)
    words = [w for w in re.findall(r"[\w.:]+", text) if not re.search(r"\.(?:lu|so)\b|@", w)]
    out = red.imss_line(H + text)
    assert [w for w in words if w not in out] == []


def test_an_address_after_from_stays_one_address() -> None:
    red = r()
    for text in ("mail from jdoe.x@example.lu ok", "by jdoe@mail.intern"):
        addr = re.search(r"\S+@\S+", text).group(0)
        assert red.imss_line(H + text) == H + text.replace(addr, red.addr_spec(addr))


def test_a_private_top_level_label_in_arbitrary_words_is_still_kept() -> None:
    # the documented gap: without from/by/helo=/[...] a dotted word under a label of no public list stays
    red = r()
    assert red.imss_line(H + "cache mail.intern refreshed") == H + "cache mail.intern refreshed"


# ---------------------------------------------------------------------------
# 4. X-Sender-Name, DKIM selectors, mailto:x%40..., RFC 2047 encoded words
# ---------------------------------------------------------------------------


def test_x_sender_name_is_a_display_name_token_in_free_text_and_in_a_message() -> None:
    red = r()
    out = red.imss_line(H + "X-Sender-Name: Jean Dupont")
    assert out == H + "X-Sender-Name: " + red.display_name("Jean Dupont") and "Dupont" not in out
    lines = list(red.message_lines(["From: a@example.lu\n", 'X-Sender-Name: "Jean Dupont"\n', "\n"]))
    assert lines[1] == 'X-Sender-Name: "' + red.display_name("Jean Dupont") + '"\n'


def test_a_dkim_selector_is_redacted_and_the_signing_domain_too() -> None:
    red = r()
    sig = "v=1; a=rsa-sha256; c=relaxed/relaxed; d=geheimfirma.lu; s=geheim2024; h=from:to; bh=abc=; b=def="
    out = red.text(sig, "hosts")
    assert "geheim" not in out and f"s={red.domain('geheim2024', learn=False)};" in out and "h=from:to" in out
    lines = list(red.message_lines(["DKIM-Signature: " + sig + "\n", "\ts=geheim2024; d=x.geheimfirma.lu;\n", "\n"]))
    assert "geheim" not in "".join(lines)
    ar = red.imss_line(H + "dkim=pass header.d=geheimfirma.lu header.s=geheim2024 header.b=abc")
    assert "geheim" not in ar and "header.s=" + red.domain("geheim2024", learn=False) in ar
    assert "header.d=" + red.domain("geheimfirma.lu") in ar  # a dotted key before = is no domain
    auth = list(red.message_lines(["Authentication-Results: mx.geheimfirma.lu; dkim=pass header.d=geheimfirma.lu header.s=sel1\n"]))
    assert " header.d=" + red.domain("geheimfirma.lu") + " header.s=" in auth[0]
    assert red.imss_line(H + "times 3 s=5") == H + "times 3 s=5"  # no tag list, no header.: no selector


@pytest.mark.parametrize("text", ["mailto:jdoe%40geheimfirma.lu", "href=mailto:Jean.Dupont%40geheimfirma.lu?subject=x",
                                  "https://x.example/unsub?email=jdoe%40geheimfirma.lu&id=1"])
def test_a_percent_encoded_address_keeps_its_encoding_and_gets_the_address_pseudonym(text: str) -> None:
    red = r()
    out = red.imss_line(H + text)[len(H):]
    local = re.search(r"[:=]([\w.]+)%40", text).group(1)
    assert red.addr_spec(local + "@geheimfirma.lu").replace("@", "%40") in out
    assert local not in out and "geheimfirma" not in out


@pytest.mark.parametrize("text", [
    "Subject:=?utf-8?B?R2VoYWx0c2xpc3Rl?=", "Subject:\t=?utf-8?B?R2VoYWx0c2xpc3Rl?=",
    "scanMessage: =?UTF-8?Q?Gehaltsliste_M=C3=A4rz?= =?UTF-8?Q?_vertraulich?= queued",
    'From: =?iso-8859-1?Q?J=FCrgen_M=FCller?= <jm@example.lu>',
])
def test_rfc2047_encoded_words_are_tokens_wherever_they_stand(text: str) -> None:
    red = r()
    out = red.imss_line(H + text)
    assert re.search(r"=\?[\w-]+\?[BbQq]\?", out) is None
    assert not any(w in out for w in ("R2VoYWx0c2xpc3Rl", "Gehaltsliste", "vertraulich", "J=FCrgen"))
    assert red.text(text) == red.text_full(text)


# ---------------------------------------------------------------------------
# 5. Bundle member labels: ``!`` and ``#`` inside a member's name
# ---------------------------------------------------------------------------


def _odd_bundles(root: Path) -> tuple[Path, Path, bytes, bytes]:
    """Z.zip: a nested a.zip holding log.imss..., and a member literally named ``a.zip!log.imss...``
    (the same label before); Y.zip: one member named ``x!log.imss...`` and no member or folder ``x``."""
    import io
    import zipfile

    kb = (FIXTURES / "kb000239719" / "log.imss.20190430.0001").read_bytes().split(b"\n")
    first, rest = b"\n".join(kb[:5]) + b"\n", b"\n".join(kb[5:])
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("log.imss.20190430.0001", first)
    with zipfile.ZipFile(root / "Z.zip", "w") as z:
        z.writestr("IMSVA/LogFile/Event3/a.zip", inner.getvalue())
        z.writestr("IMSVA/LogFile/Event3/a.zip!log.imss.20190430.0001", rest)
    with zipfile.ZipFile(root / "Y.zip", "w") as z:
        z.writestr("IMSVA/LogFile/Event3/x!log.imss.20190430.0001", first)
    return root / "Z.zip", root / "Y.zip", first, rest


def test_a_member_name_holding_bang_gets_its_own_label_and_nothing_is_lost(tmp_path: Path) -> None:
    import json

    z, y, first, rest = _odd_bundles(tmp_path)
    res = run("parse", str(z), "--format", "jsonl")
    assert res.exit_code == 0, res.output
    files = [json.loads(x)["file"] for x in res.stdout.splitlines()]
    nested = f"{z}!IMSVA/LogFile/Event3/a.zip!log.imss.20190430.0001"
    literal = f"{z}!IMSVA/LogFile/Event3/a.zip%21log.imss.20190430.0001"
    assert files.count(nested) == len(first.splitlines()) and files.count(literal) == len(rest.splitlines())  # every line read
    for label, lines in ((nested, len(first.splitlines())), (literal, len(rest.splitlines()))):  # read back by its label
        one = run("parse", label, "--format", "jsonl")
        assert one.exit_code == 0, one.output
        assert [json.loads(x)["file"] for x in one.stdout.splitlines()] == [label] * lines


def test_a_label_prefix_that_names_no_member_or_folder_is_refused(tmp_path: Path) -> None:
    _, y, _, _ = _odd_bundles(tmp_path)
    res = run("parse", f"{y}!IMSVA/LogFile/Event3/x", "--format", "jsonl")
    assert res.exit_code == 2 and "no such member" in res.output
    assert run("parse", f"{y}!IMSVA/LogFile/Event3/x%21log.imss.20190430.0001", "--format", "jsonl").exit_code == 0
