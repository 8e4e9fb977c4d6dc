"""imsvalog redact, text recognition: what a hostile review leaked (issue 13), each put in the input and
searched for in every output byte (gzip members decompressed); IMSVA's own texts and Postfix's literals kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.redact import Redactor, is_tld
from imsvalog.spoof import check_domains, domain_of

from .conftest import FIXTURES
from .test_redact import output_text  # every output byte, gzip members decompressed

KEY = bytes.fromhex((FIXTURES / "redaction-example.key").read_text().strip())
LEAKS = FIXTURES / "redact-leaks"
H = "2024/03/15 10:00:01 GMT+01:00 [4242:139871] [DEBUG]CMsgScanner::checkSpoof: "
M = "Mar 15 10:00:00 imsva postfix/smtpd[24750]: "


def run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "100", "TERM": "dumb"})


def absent(token: str, text: str) -> bool:
    """No occurrence of token as a whole (not inside a longer address, word or number)."""
    return re.search(r"(?<![\w.:-])" + re.escape(token) + r"(?![\w:-]|\.\w)", text, re.IGNORECASE) is None


def r() -> Redactor:
    return Redactor(KEY, frozen=True)


# ---------------------------------------------------------------------------
# 1. Addresses glued to punctuation, leading zeros, IPv6 with a port; C++ names are no IPv6
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("before", "ip", "after"), [
    ("connect IP:", "198.51.100.23", " refused"),
    ("peer was ", "198.51.100.23", "."),
    ("relay [", "198.51.100.23", "]:25 refused"),
    ("relay (", "198.51.100.23", ") refused"),
    ("rip=", "203.0.113.9", ", lip=10.1.2.3"),
    ("relay [", "2001:db8:4:5::6", "]:25"),
    ("relay [IPv6:", "2001:db8:7::8", "]:587"),
    ("IP:", "2001:db8:9::a", " seen"),
    ("and ", "2001:db8:b::c", "."),
])
def test_an_address_glued_to_punctuation_becomes_its_pseudonym(before: str, ip: str, after: str) -> None:
    red = r()
    out = red.imss_line(H + before + ip + after)
    assert out.startswith(H + before) and out.endswith(after.replace("10.1.2.3", red.ip_text("10.1.2.3")))
    assert red.ip_text(ip) in out and absent(ip, out)


def test_leading_zeros_are_read_as_decimal_and_keep_their_width() -> None:
    red = r()
    out = red.imss_line(H + "legacy 198.051.100.023 seen")
    pseudonym = red.ip_text("198.51.100.23")
    assert out == H + "legacy " + ".".join(x.zfill(3) for x in pseudonym.split(".")) + " seen"
    assert "051.100.023" not in out


@pytest.mark.parametrize("text", [
    "CMsgScanner::checkSpoof: start", "Class::cxxx done", "Foo::add and Bar::cafe:1 and X::dead",
    "TmIsScan::_ruleIsTriggered:4260", "at 10:00:01 and 00:1a:2b:3c:4d:5e",
])
def test_cxx_names_times_and_macs_are_not_addresses(text: str) -> None:
    assert r().imss_line(H + text) == H + text


# ---------------------------------------------------------------------------
# 2. Domains under any top-level domain, wildcards, IDNs, trailing dots
# ---------------------------------------------------------------------------


def test_every_icann_tld_counts_and_file_names_do_not() -> None:
    assert all(is_tld(t) for t in ("lu", "pl", "museum", "xn--p1ai", "рф", "example", "test", "local"))
    assert not any(is_tld(t) for t in ("cpp", "png", "pdf", "txt", "log", "gz", "ruleVer"))


@pytest.mark.parametrize("domain", ["mail.kanzlei.lu", "poczta.sklep-przyklad.pl", "x.example.museum", "a.b.co.uk"])
def test_a_domain_under_any_tld_is_redacted_in_free_text(domain: str) -> None:
    red = r()
    out = red.imss_line(H + f"mail from {domain} refused")
    assert out == H + f"mail from {red.domain(domain)} refused" and absent(domain, out)


def test_wildcards_trailing_dots_and_idns() -> None:
    red = r()
    out = red.imss_line(H + "wildcard *.wild.kanzlei.lu matched, also mail.kanzlei.lu. and bücher.example and xn--brse-5qa.example")
    assert f"*.{red.domain('wild.kanzlei.lu')} matched" in out
    assert f"also {red.domain('mail.kanzlei.lu')}. and" in out
    for original in ("wild.kanzlei", "mail.kanzlei", "bücher", "xn--brse-5qa", "kanzlei"):
        assert original not in out
    assert out.isascii()  # no letter of an IDN survives
    # one domain, one pseudonym, whichever form IMSVA logged (it compares them in IDNA form)
    assert red.domain("bücher.example") == red.domain("xn--bcher-kva.example") == red.domain("BÜCHER.example")
    assert red.domain("börse.example") == red.domain("xn--brse-5qa.example")


def test_source_files_and_image_names_are_kept() -> None:
    text = "filter returned [/home/autobuild/IMSx-TW_9.1/src/TmIsScan.cpp:TmIsScan::_ruleIsTriggered:4260] image315.png"
    assert r().imss_line(H + text) == H + text


# ---------------------------------------------------------------------------
# 3. Local parts: non-ASCII, stand-alone in maillog, display names
# ---------------------------------------------------------------------------


def test_a_non_ascii_local_part_is_redacted_whole() -> None:
    red = r()
    out = red.maillog_line(M + "4C0FFEE042: to=<jürgen@kanzlei.lu>, status=sent")
    assert red.addr_spec("jürgen@kanzlei.lu") in out
    assert "jürgen" not in out and "rgen@" not in out and out.isascii()


@pytest.mark.parametrize(("body", "original"), [
    ("4C0FFEE042: client=mx1.kanzlei.lu[10.20.30.40], sasl_method=PLAIN, sasl_username=jdoe", "jdoe"),
    ("4C0FFEE042: to=<jdoe@localhost>, orig_to=<jgeheim>, relay=local, status=sent", "jgeheim"),
    ("NOQUEUE: reject: RCPT from unknown[198.51.100.99]: 554 5.7.1 Relay access denied; proto=ESMTP helo=<jdoe-laptop>", "jdoe-laptop"),
    ("4C0FFEE042: sasl_sender=jsender, user=jlogin", "jsender"),
])
def test_stand_alone_local_parts_and_helo_names_in_maillog(body: str, original: str) -> None:
    out = r().maillog_line(M + body)
    assert absent(original, out) and "jdoe" not in out


def test_dovecot_user_and_counts_after_keys() -> None:
    red = r()
    out = red.maillog_line("Mar 15 10:00:03 imsva dovecot: imap-login: Login: user=<jlogin>, method=PLAIN, rip=198.51.100.98")
    assert f"user=<{red.local('jlogin')}>, method=PLAIN" in out
    kept = M + "disconnect from unknown[198.51.100.99] ehlo=1 mail=1 rcpt=0/1 data=1 quit=1 commands=3/4"
    assert red.maillog_line(kept).endswith("ehlo=1 mail=1 rcpt=0/1 data=1 quit=1 commands=3/4")


@pytest.mark.parametrize(("text", "original", "kept"), [
    ("spf=pass smtp.mailfrom=jdoe@kanzlei.lu; header.i=@kanzlei.lu", "jdoe", "smtp.mailfrom="),
    ("sasl_username=jdoe@kanzlei.lu from=jdoe@kanzlei.lu", "jdoe", "sasl_username="),
    ("url https://portal.kanzlei.lu/login?user=jdoe&x=1", "jdoe", "/login?user="),
    ("quoted stranger@ and @kanzlei.lu alone", "kanzlei", "stranger@"),
])
def test_addresses_after_keys_in_urls_and_without_local_part(text: str, original: str, kept: str) -> None:
    for mode in ("text", "hosts"):
        out = r().text(text, mode)
        assert original not in out and kept in out, (mode, out)


def test_a_hostile_host_name_in_received_is_redacted_whole() -> None:
    red = r()
    out = red.received("from evil\x1b]0;pwned\x07.example ([bold red]x[/bold red] [198.51.100.66]) by mx.kanzlei.lu; Thu")
    assert "evil" not in out and "pwned" not in out and "kanzlei" not in out
    assert f"[{red.ip_text('198.51.100.66')}]) by {red.domain('mx.kanzlei.lu')}; Thu" in out


def test_postfix_literals_are_not_queue_ids() -> None:
    red = r()
    for lit in ("NOQUEUE: reject: RCPT from unknown[198.51.100.99]: 554", "warning: hostname does not resolve"):
        assert red.maillog_line(M + lit).split(": ", 1)[1].startswith(lit.split(":")[0] + ":")
    out = red.maillog_line(M + "4C0FFEE042: removed")
    assert "4C0FFEE042" not in out and red.id_text("4C0FFEE042") in out


@pytest.mark.parametrize("field", [
    '"Doe, John" <jdoe@kanzlei.lu>', "John Doe <jdoe@kanzlei.lu>", "jdoe@kanzlei.lu (John Doe)",
    '"Müller, Jürgen" <jürgen@kanzlei.lu>', "<jdoe@kanzlei.lu> (John Doe)",
])
def test_display_names_and_comments_are_tokens_and_the_address_its_pseudonym(field: str) -> None:
    red = r()
    out = red.address_field(field)
    assert "Doe" not in out and "John" not in out and "Müller" not in out and "kanzlei" not in out
    # the address inside comes out as it does everywhere (so the domain verdict stays)
    assert domain_of(out) == red.domain(domain_of(field) or "")
    assert out.count("<") == field.count("<") and out.count('"') == field.count('"') and out.count("(") == field.count("(")


def test_headers_with_display_names_in_a_message() -> None:
    red = r()
    lines = ['From: "Doe, Jean" <jdoe@kanzlei.lu>', "To: Anna Schmit <aschmit@kanzlei.lu>, jdoe@kanzlei.lu (Jean)", ""]
    out = "\n".join(red.message_lines(lines))
    for original in ("Doe", "Jean", "Anna", "Schmit", "aschmit", "jdoe", "kanzlei"):
        assert original not in out
    assert out.startswith('From: "~') and ">, " in out


# ---------------------------------------------------------------------------
# 4. log.imss free text, RFC 5424 structured data, trusted-list comments
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "original", "kept"), [
    ("[NORMAL]get entity filename: Rechnung Mai 2024.pdf", "Rechnung Mai 2024", "[NORMAL]get entity filename: ~"),
    ("[NORMAL]get entity filename: Gehaltsliste_2024.xlsx", "Gehaltsliste_2024", ".xlsx"),
    ("[DEBUG]TmIsScan::scanMessage: subject=Quartalszahlen vertraulich", "Quartalszahlen", "TmIsScan::scanMessage: subject=~"),
    ("[DEBUG]Subject=Fusion geheim", "Fusion", "[DEBUG]Subject=~"),
    ("[DEBUG]header Subject: Fusion geheim", "geheim", "Subject: ~"),
])
def test_subjects_and_attachment_names_in_log_imss(body: str, original: str, kept: str) -> None:
    head = "2024/03/15 10:00:01 GMT+01:00 [4242:139871] "
    out = r().imss_line(head + body)
    assert original not in out and kept in out and len(out) == len(head + body)


def test_rfc5424_structured_data_values_are_redacted_ids_and_names_kept() -> None:
    red = r()
    line = ('<134>1 2024-03-15T10:00:01+01:00 imsva.kanzlei.lu log.imss 4242 - [origin ip="10.20.30.42" software="IMSVA"]'
            '[case@32473 user="jsdlogin" note="Head office" peer="mx1.kanzlei.lu" n="7"] '
            "2024/03/15 10:00:01 GMT+01:00 [4242:139871] [DEBUG]x")
    out = red.syslog_line(line)
    for original in ("10.20.30.42", "jsdlogin", "Head office", "kanzlei"):
        assert original not in out
    assert f'[origin ip="{red.ip_text("10.20.30.42")}" software="IMSVA"][case@32473 user="' in out and ' n="7"]' in out


def test_trusted_list_comments_are_free_text() -> None:
    red = r()
    out = list(red.trusted_lines(["10.0.0.0/8 # Head office Luxembourg", "# contact jdoe@kanzlei.lu"]))
    assert out[0].startswith("10.0.0.0/8 # ~") and len(out[0]) == len("10.0.0.0/8 # Head office Luxembourg")
    assert "Luxembourg" not in "".join(out) and "jdoe" not in "".join(out)
    kept = Redactor(KEY, keep_subjects=True, frozen=True)
    out = list(kept.trusted_lines(["10.0.0.0/8 # Head office, jdoe@kanzlei.lu"]))
    assert "Head office" in out[0] and "jdoe" not in out[0]  # --keep-subjects: words kept, addresses not


# ---------------------------------------------------------------------------
# 5. A comment in a polevt sender keeps the domain verdict
# ---------------------------------------------------------------------------


def test_a_comment_in_the_sender_keeps_the_domain_verdict() -> None:
    red = r()
    sender, rcpt = "jdoe@kanzlei.lu (Comment)", "aschmit@kanzlei.lu"
    before = check_domains("polevt", sender, [rcpt])
    after = check_domains("polevt", red.address_field(sender), [red.address_field(rcpt)])
    assert [x.match for x in before.recipients] == [x.match for x in after.recipients] == [True]


# ---------------------------------------------------------------------------
# All of it: the hostile fixture, as a user runs it
# ---------------------------------------------------------------------------

#: every original the hostile fixture holds (addresses, domains and labels, local parts, names, subjects,
#: file names, IDs) — none may occur in any output byte
ORIGINALS = [
    "198.51.100.23", "198.51.100.61", "198.51.100.62", "198.51.100.63", "198.51.100.64", "198.051.100.065",
    "198.51.100.66", "198.51.100.98", "198.51.100.99", "203.0.113.77", "10.20.30.40", "10.20.30.41",
    "10.20.30.42", "2001:db8:4:5::6", "2001:db8:7::8", "2001:db8:9::a", "2001:db8:b::c", "2001:db8:c::d",
    "kanzlei", "sklep-przyklad", "poczta", "beispiel", "bücher", "xn--brse-5qa", "gzip-only",
    "jdoe", "jürgen", "aschmit", "jgeheim", "jlogin", "jsdlogin", "jsasl5424", "jdoe-laptop", "spam@",
    "Doe", "Jean", "Müller", "Jürgen", "Schmit", "Anna", "Luxembourg", "Head office", "Przykład",
    "Quartalszahlen", "vertraulich", "Fusion", "geheim", "Rechnung", "Gehaltsliste", "Hallo",
    "Pierre", "Wagner", "brien",  # quoted local parts in log.imss free text, X-Sender-Name (task rd)
    "relay.firma.intern", "pc7.firma.priv", "198.51.100.67", "kanzsel2024", "pwagner", "R2VoYWx0c2xpc3Rl", "M=C3=A4rz",  # task rd, items 2 and 4
    "4C0FFEE042", "7BADC0DE99", "9FEDCBA987", "6B1E2C3D-4F50-4A61-8B72-9C8D7E6F5A41", "20240315090001",
]
#: the same originals spelled otherwise (decimal, A-label, U-label): not in the input, not in the output either
OTHER_FORMS = ["198.51.100.65", "xn--bcher-kva", "börse"]


def test_the_hostile_fixture_holds_every_original() -> None:
    text = output_text(LEAKS)
    assert [t for t in ORIGINALS if absent(t, text) and t not in text] == []


def test_the_hostile_fixture_leaks_nothing_and_verify_passes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = run("redact", str(LEAKS), str(LEAKS / "message.eml"), str(LEAKS / "siem-5424.log"),
              "--trusted-file", str(LEAKS / "trusted.txt"), "--to", str(out), "--key-file", "fixtures/redaction-example.key",
              "--verify")
    assert res.exit_code == 0, res.output
    assert "verify: PASSED" in res.stdout and "DIFFERENT" not in res.stdout
    assert (out / "log.imss.20240315.0002.gz").read_bytes()[:2] == b"\x1f\x8b"
    text = output_text(out)
    leaked = [t for t in ORIGINALS + OTHER_FORMS if not absent(t, text) or (len(t) > 6 and t.lower() in text.lower())]
    assert leaked == []
    # kept: IMSVA's own texts, Postfix's literals, counts, extensions, RFC 5424 names
    for kept in ("CMsgScanner::checkSpoof: connect IP:", "TmIsScan::scanMessage: subject=~", "NOQUEUE: reject: RCPT from unknown[",
                 "rcpt=0/1 quit=1 commands=3/4", ".pdf\tAdobe PDF", "filename: ~", ".xlsx", 'software="IMSVA"',
                 "Not all sender IP in Trusted Internal IP List. Triggered.", "10.0.0.0/8 # ~"):
        assert kept in text, kept
