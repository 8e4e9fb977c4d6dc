"""What users are told about the trusted lists they give, and --also-trust (issue 10 item 6)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.trusted import TrustedList, load_trusted, parse_entry

from .conftest import FIXTURES

runner = CliRunner()
BUSY = str(FIXTURES / "busy-day")
HAIRPIN = str(FIXTURES / "messages" / "cloud-relay-hairpin.eml")


@pytest.mark.parametrize(
    ("entry", "block"),
    [("10.1.1.5/8", "10.0.0.0/8"), ("198.51.100.1/24", "198.51.100.0/24"), ("2001:db8::1/48", "2001:db8::/48"),
     ("192.0.2.130/25", "192.0.2.128/25")],
)
def test_host_bits_set_is_a_note_naming_the_block_it_is_taken_as(entry: str, block: str) -> None:
    e = parse_entry(entry)
    assert e.note == f"trusted list entry '{entry}' (--trusted) has host bits set: taken as {block} (the whole block)"
    assert e.networks[0].with_prefixlen == block  # still used: a warning, not an error


@pytest.mark.parametrize("entry", ["10.0.0.0/8", "198.51.100.7/32", "198.51.100.7", "2001:db8::/48", "10.0.0.1-10.0.0.9"])
def test_clean_entries_carry_no_note(entry: str) -> None:
    assert parse_entry(entry).note is None
    assert TrustedList.parse([entry]).warnings == []


def test_empty_entries_are_said_and_an_empty_list_says_what_it_means() -> None:
    assert TrustedList.parse(["", "10.0.0.0/8"]).warnings == ["an empty entry (--trusted '') is ignored"]
    assert TrustedList.parse(["", " "]).warnings == [
        "2 empty entries (--trusted '') are ignored",
        "the trusted list has no entry: every address the filter counts is taken as untrusted",
    ]
    both = load_trusted(["", "203.0.113.0/24"], [])
    assert both is not None and both.texts() == ["203.0.113.0/24"]
    assert TrustedList.combine(TrustedList.parse([""]), TrustedList.parse(["1.2.3.4"])).warnings == [  # type: ignore[union-attr]
        "an empty entry (--trusted '') is ignored"]


def test_file_entries_name_their_line(tmp_path) -> None:
    f = tmp_path / "trusted.txt"
    f.write_text("# ours\n198.51.100.25\n10.1.1.5/8  # the LAN\n")
    assert TrustedList.from_file(f).warnings == [
        f"trusted list entry '10.1.1.5/8' ({f}:3) has host bits set: taken as 10.0.0.0/8 (the whole block)"]


@pytest.mark.parametrize("command", [["correlate", BUSY], ["spoof-check", HAIRPIN]])
def test_cli_warns_once_per_entry_and_keeps_going(command: list[str]) -> None:
    r = runner.invoke(app, [*command, "--trusted", "198.51.100.1/24", "--trusted", ""])
    assert r.exit_code == 0 and r.stdout
    assert r.stderr.count("imsvalog: warning: trusted list entry '198.51.100.1/24' (--trusted) has host bits set: "
                          "taken as 198.51.100.0/24 (the whole block)\n") == 1
    assert r.stderr.count("imsvalog: warning: an empty entry (--trusted '') is ignored\n") == 1
    same = runner.invoke(app, [*command, "--trusted", "198.51.100.0/24"])
    assert same.stdout == r.stdout.replace("198.51.100.1/24", "198.51.100.0/24")  # the block it was taken as
    assert "warning" not in same.stderr


def test_cli_empty_trusted_alone_says_the_list_is_empty() -> None:
    r = runner.invoke(app, ["spoof-check", HAIRPIN, "--trusted", ""])
    assert r.exit_code == 0
    assert "imsvalog: warning: the trusted list has no entry: every address the filter counts is taken as untrusted" in r.stderr


def _what_if(*args: str) -> list[dict]:
    r = runner.invoke(app, ["correlate", BUSY, "--format", "json", *args])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)["what_if"]


def test_also_trust_adds_to_the_given_list_what_if_trusted_replaces_it() -> None:
    added = _what_if("--trusted", "198.51.100.25", "--also-trust", "198.51.100.26")
    spelled_out = _what_if("--trusted", "198.51.100.25", "--what-if-trusted", "198.51.100.25", "--what-if-trusted", "198.51.100.26")
    replaced = _what_if("--trusted", "198.51.100.25", "--what-if-trusted", "198.51.100.26")
    assert added == spelled_out and added != replaced
    assert [c["name"] for c in added] == ["6F2D1E0B-4C3E-4D7F-8B9C-2E3F4A5B6C7D"]  # only the mail 198.51.100.26 fired on


def test_also_trust_errors_name_their_option() -> None:
    r = runner.invoke(app, ["correlate", BUSY, "--also-trust", "300.1.1.1"])
    assert r.exit_code == 2 and "trusted list entry '300.1.1.1' (--also-trust)" in r.stderr


def test_help_says_which_option_replaces_and_which_adds() -> None:
    h = " ".join(runner.invoke(app, ["correlate", "--help"]).stdout.split())
    assert "INSTEAD of --trusted/--trusted-file (replaces the list)" in h
    assert "--also-trust ENTRY" in h and "PLUS this entry (adds to it)" in h
