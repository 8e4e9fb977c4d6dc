"""`imsvalog spoof-check` on the shipped example messages."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from imsvalog.cli import app

from .conftest import FIXTURES

runner = CliRunner()
MSG = FIXTURES / "messages"
TRUSTED = str(MSG / "trusted-example.txt")


def run(*args: str):
    return runner.invoke(app, ["spoof-check", *args])


@pytest.mark.parametrize(
    ("name", "counted", "verdict"),
    [
        ("cloud-relay-hairpin.eml", ["198.51.100.25", "203.0.113.45"], "fires"),
        ("two-edges-private-hops.eml", ["198.51.100.26", "198.51.100.25"], "does-not-fire"),
        ("ipv6-only.eml", ["2001:db8:25::25", "fd00:10::5", "::1"], "fires"),
        ("kb000239719-headers.txt", ["1111:2222:3333:444::5555"], "does-not-fire"),
    ],
)
def test_json_output_for_each_example(name: str, counted: list[str], verdict: str) -> None:
    r = run(str(MSG / name), "--trusted-file", TRUSTED, "--format", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["counted"] == counted
    assert d["verdict"] == verdict
    assert {"skipped", "domain_match", "explanation"} <= d.keys()
    for s in d["skipped"]:
        assert {"header", "address", "reason"} <= s.keys()


def test_text_output_explains_header_by_header() -> None:
    r = run(str(MSG / "two-edges-private-hops.eml"))
    assert r.exit_code == 0
    out = r.stdout
    assert "skipped 172.20.1.10: in 172.16.0.0/12 (RFC 1918)" in out
    assert "5. by ws-carol.corp.example.com (Postfix, from userid 1000)" in out
    assert "no address taken: the header has no from clause" in out
    assert "The model's verdict: unknown (no Trusted Internal IP List given)" in out


def test_overrides_and_profile() -> None:
    r = run(str(MSG / "ipv6-only.eml"), "--trusted", "2001:db8:25::/48", "--profile", "strict", "--format", "json")
    d = json.loads(r.stdout)
    assert d["counted"] == ["2001:db8:25::25"] and d["verdict"] == "does-not-fire"
    r = run(str(MSG / "cloud-relay-hairpin.eml"), "--sender", "x@other.example", "--recipient", "y@example.com",
            "--trusted", "198.51.100.25", "--format", "json")
    d = json.loads(r.stdout)
    assert d["domains"][0]["sender"] == "x@other.example" and d["domains"][0]["match"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([str(MSG / "trusted-example.txt")], "does not look like a mail message"),
        (["/no/such.eml"], "cannot read"),
        ([str(MSG / "ipv6-only.eml"), "--trusted", "10.0.0.300"], "trusted list entry '10.0.0.300' (--trusted)"),
        ([str(MSG / "ipv6-only.eml"), "--trusted-file", "/no/list.txt"], "cannot read trusted list"),
        ([str(MSG / "ipv6-only.eml"), "--profile", "lenient"], "--profile must be one of: documented, strict"),
    ],
)
def test_errors_exit_2(args: list[str], message: str) -> None:
    r = run(*args)
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output
