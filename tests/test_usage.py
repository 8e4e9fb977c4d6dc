"""Usage errors and help in imsvalog's words, on every command (issue 10 item 6).

No validation-library text (``Value error, 'xml' is not one of ...``, ``Input should be ...``)
reaches users; arguments are shown by name, never by Python type (``PATH <list[str]>``).
"""

from __future__ import annotations

import re

import pytest
import typer.main
from typer.testing import CliRunner

from imsvalog.cli import app

runner = CliRunner()
GROUP = typer.main.get_command(app)
COMMANDS = sorted(GROUP.commands.items())  # type: ignore[attr-defined]
INTERNALS = re.compile(r"Value error|Input should|Invalid value|<str>|<list|<int>|<float>|<path>|Traceback")


def _choice_params():
    for name, cmd in COMMANDS:
        for p in cmd.params:
            desc = getattr(p, "type_descriptor", None)
            if getattr(desc, "is_choice", False):
                yield name, cmd, p, [str(getattr(c, "value", c)) for c in desc.choices]


CHOICES = list(_choice_params())


def _args(cmd) -> list[str]:
    """A value for every argument (never checked before the bad option is)."""
    return ["x" for p in cmd.params if p.param_type_name == "argument"]


def test_every_choice_option_is_found() -> None:
    found = {(name, max(p.opts, key=len)) for name, _, p, _ in CHOICES}
    assert {("parse", "--format"), ("parse", "--kind"), ("correlate", "--format"), ("correlate", "--only"),
            ("correlate", "--profile"), ("correlate", "--what-if-profile"), ("trace", "--format"),
            ("spoof-check", "--format"), ("spoof-check", "--observed"), ("spoof-check", "--profile")} <= found


@pytest.mark.parametrize(("name", "cmd", "param", "choices"), CHOICES, ids=[f"{c[0]}{max(c[2].opts, key=len)}" for c in CHOICES])
def test_a_bad_choice_names_the_option_and_its_values_in_one_line(name, cmd, param, choices) -> None:
    option = max(param.opts, key=len)
    r = runner.invoke(app, [name, option, "xml", *_args(cmd)])
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr == f"imsvalog: error: {option} must be one of: {', '.join(choices)} (see imsvalog {name} --help)\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["parse", "--format", "xml", "x"], "--format must be one of: table, jsonl, json, csv, markdown"),
        (["trace", "--format", "csv", "ID", "x"], "--format must be one of: table, jsonl, json, markdown"),
        (["parse", "--max-line-length", "abc", "x"], "--max-line-length must be a whole number of at least 1"),
        (["parse", "--max-line-length", "0", "x"], "--max-line-length must be a whole number of at least 1"),
        (["correlate", "--time-window", "soon", "x"], "--time-window must be a number from 0 to 86400"),
        (["correlate"], "Missing argument 'PATH'"),
        (["trace", "ID"], "Missing argument 'PATH'"),
        (["redact", "x"], "Missing option '--to'"),
        (["correlate", "x", "--formt", "json"], "No such option: --formt"),
        (["corelate"], "No such command 'corelate'. Did you mean 'correlate'?"),
        # attack F7: click's loose guess, a missing value without the help pointer, both sizes named, 'inf' echoed
        (["parse", "x", "--bogus"], "No such option: --bogus (see imsvalog parse --help)"),
        (["correlate", "x", "--formt", "json"], "No such option: --formt. Did you mean --format? (see imsvalog correlate"),
        (["parse", "x", "--format"], "--format needs a value (see imsvalog parse --help)"),
        (["correlate", "x", "--time-window", "1e400"], "--time-window must be a number from 0 to 86400 (see"),
        (["correlate", "x", "--time-window", "-1"], "--time-window must be a number from 0 to 86400 (see"),
        # attack F8: a single-valued option given twice kept the last silently
        (["parse", "x", "-f", "json", "-f", "csv"], "--format given more than once (json, then csv): give it once"),
        (["parse", "x", "--format=json", "--format", "csv"], "--format given more than once (json, then csv)"),
        (["correlate", "x", "--profile", "strict", "--profile", "documented"], "--profile given more than once"),
    ],
)
def test_usage_errors_are_one_plain_line_with_exit_2(args: list[str], message: str) -> None:
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith(f"imsvalog: error: {message}") and r.stderr.count("\n") == 1
    assert not INTERNALS.search(r.stderr)


def test_hostile_option_values_are_not_echoed_raw() -> None:
    r = runner.invoke(app, ["correlate", "x", "--\x1b]0;pwned\x07"])
    assert r.exit_code == 2 and "\x1b" not in r.stderr and "\x07" not in r.stderr


@pytest.mark.parametrize("name", [n for n, _ in COMMANDS] + [None])
def test_help_shows_arguments_by_name_never_by_python_type(name: str | None) -> None:
    r = runner.invoke(app, ([name] if name else []) + ["--help"], env={"COLUMNS": "100"})
    assert r.exit_code == 0
    assert not INTERNALS.search(r.stdout), r.stdout
    usage = r.stdout.splitlines()[0]
    assert "{" not in usage and "<" not in usage


def test_usage_lines_read_as_a_user_types_them() -> None:
    first = {n: runner.invoke(app, [n, "--help"]).stdout.splitlines()[0] for n, _ in COMMANDS}
    assert first["trace"] == "Usage: imsvalog trace [OPTIONS] ID PATH..."
    assert first["spoof-check"] == "Usage: imsvalog spoof-check [OPTIONS] FILE|-"
    assert first["parse"] == "Usage: imsvalog parse [OPTIONS] PATH..."
    assert first["export"] == "Usage: imsvalog export [OPTIONS] [PATH...]"


# --- option contradictions (issue 10 follow-up) -------------------------------------------------

BUSY = "fixtures/busy-day"
IID = "4C4C4C4C-5D5D-46E6-97F7-A8A8B9B9CACA"


def _at_root(args: list[str]):
    from .conftest import ROOT

    return runner.invoke(app, [str(ROOT / a) if a.startswith("fixtures/") else a for a in args])


@pytest.mark.parametrize(
    ("since", "until"),
    [("2024-03-12T10:00", "2024-03-12T09:00"), ("2024-03-12T10:00+01:00", "2024-03-12T09:00+01:00"),
     ("2024-03-12T10:00+01:00", "2024-03-12T09:00"), ("2024-03-12 10:00", "2024-03-12T09:59:59")],
)
def test_trace_with_since_after_until_names_the_reversed_span(since: str, until: str) -> None:
    r = _at_root(["trace", "bob@example.com", BUSY, "--since", since, "--until", until])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == (f"imsvalog: error: --since {since} is after --until {until}: the time span is reversed "
                        "(no message can be in it)\n")


def test_trace_library_refuses_a_reversed_span_too() -> None:
    from datetime import datetime

    from imsvalog.errors import InputError
    from imsvalog.timeline import trace

    with pytest.raises(InputError, match="time span is reversed"):
        trace("bob@example.com", BUSY, since=datetime(2024, 3, 12, 10), until=datetime(2024, 3, 12, 9))


def test_trace_with_a_span_that_holds_the_message_still_finds_it() -> None:
    r = _at_root(["trace", "bob@example.com", BUSY, "--since", "2024-03-12T09:19", "--until", "2024-03-12T09:21",
                  "--format", "jsonl"])
    assert r.exit_code == 0 and r.stdout.count("\n") > 5 and "reversed" not in r.stderr


def test_trace_since_with_an_internal_id_warns_that_it_is_not_used() -> None:
    r = _at_root(["trace", IID, BUSY, "--since", "2024-03-12T10:00", "--format", "jsonl"])
    assert r.exit_code == 0 and r.stdout  # the whole timeline, as without --since
    assert r.stdout == _at_root(["trace", IID, BUSY, "--format", "jsonl"]).stdout
    assert "imsvalog: warning: --since/--until only narrow a search by envelope address; the ID given is an internal ID" in r.stderr


@pytest.mark.parametrize("fmt", ["json", "jsonl", "markdown"])
def test_trace_raw_with_another_format_is_a_usage_error(fmt: str) -> None:
    r = _at_root(["trace", IID, BUSY, "--raw", "--format", fmt])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == f"imsvalog: error: --raw prints the original lines; it cannot be combined with --format {fmt}\n"


@pytest.mark.parametrize(
    ("args", "warning"),
    [
        (["--wide", "--format", "json"], "--wide changes only the table; --format json has every column in full anyway"),
        (["--wide", "--format", "csv"], "--wide changes only the table; --format csv has every column in full anyway"),
        (["--explain", "--format", "jsonl"], "--explain changes only the table and markdown; --format jsonl carries"),
        (["--what-if-trusted", "198.51.100.26", "--format", "csv"], "--format csv carries the rows only: the what-if"),
    ],
)
def test_correlate_options_that_do_nothing_in_a_format_say_so(args: list[str], warning: str) -> None:
    r = _at_root(["correlate", BUSY, *args])
    assert r.exit_code == 0 and r.stdout
    assert f"imsvalog: warning: {warning}" in r.stderr


def test_correlate_wide_table_and_json_without_wide_give_no_warning() -> None:
    assert "--wide" not in _at_root(["correlate", BUSY, "--wide"]).stderr
    assert "warning: --" not in _at_root(["correlate", BUSY, "--format", "json"]).stderr


# --- one action vocabulary ----------------------------------------------------------------------

def test_actions_read_in_the_policy_events_words_in_every_table() -> None:
    """IMSVA's polevt words (quarantine, deliver) everywhere users read; the scanner's DeliverAction only as logged."""
    for args in (["--wide"], ["--format", "markdown"], ["--explain"]):
        out = _at_root(["correlate", BUSY, *args]).stdout
        assert not re.search(r"\b[A-Z][a-z]+Action\b", out), args
    wide = _at_root(["correlate", BUSY, "--wide", "--format", "markdown"]).stdout
    row = next(line for line in wide.splitlines() if "9D8C7B6A" in line)  # a scan without policy event: its final action
    assert "| deliver |" in row
    assert "| quarantine |" in wide
    doc = __import__("json").loads(_at_root(["correlate", BUSY, "--format", "json"]).stdout)
    assert any(r["final_actions"] == ["DeliverAction"] for r in doc["rows"])  # the machine field keeps the log's name


def test_sentence_says_the_scanner_action_in_the_same_words() -> None:
    from imsvalog.sentence import row_sentence

    d = {"status": "linked", "logged": {"ips": ["203.0.113.5"], "ip_count": 1, "triggered": True},
         "recomputed": None, "actions": [], "final_actions": ["TagSubjectAction"], "trusted_given": False}
    assert "; it tagged the mail because 203.0.113.5 is not in the Trusted Internal IP List" in row_sentence(d)
    assert "; it quarantined the mail" in row_sentence({**d, "final_actions": ["QuarantineAction"]})


# --- counted nouns ------------------------------------------------------------------------------

_ONE_PLURAL = re.compile(
    r"(?<![\d.:/-])\b1 (lines|records|rejects|addresses|rows|files|scans|entries|messages|events|policy events|traces|"
    r"disagreements|bytes|members|candidates|variants|matching lines|rejected lines)\b|\((e)?s\)")


def test_one_thing_is_never_plural_in_any_output(tmp_path) -> None:
    from .conftest import FIXTURES

    one = tmp_path / "log.imss.20240312.0001"
    one.write_text((FIXTURES / "busy-day" / "log.imss.20240312.0001").read_text().splitlines(keepends=True)[0])
    runs = [["parse", str(one)], ["parse", str(FIXTURES / "kb000239719")]]
    for case in ("kb000239719", "busy-day", "time-only"):
        runs += [["correlate", str(FIXTURES / case), "--explain"], ["correlate", str(FIXTURES / case), "--trusted", "198.51.100.25"]]
    runs.append(["trace", IID, str(FIXTURES / "busy-day")])
    for args in runs:
        r = runner.invoke(app, args)
        assert r.exit_code == 0, (args, r.output)
        bad = _ONE_PLURAL.search(r.stdout + r.stderr)
        assert bad is None, (args, bad.group(0))
    assert f"{one}: 1 line, 1 record, 0 rejects" in runner.invoke(app, ["parse", str(one)]).stderr
    r = runner.invoke(app, ["redact", str(FIXTURES / "kb000239719"), "--to", str(tmp_path / "red"),
                            "--key-file", str(tmp_path / "k.key"), "--verify"])
    assert r.exit_code == 0, r.output
    assert "profile documented, no trusted list: 1 row\n" in r.stdout
    assert _ONE_PLURAL.search(r.stdout + r.stderr) is None


def test_a_count_finding_of_one_address_is_singular() -> None:
    from imsvalog.correlation.compare import list_findings

    from imsvalog.spoof import MessageInput

    msg = MessageInput(received=(
        "from a.example.org ([198.51.100.25]) by mx.example.com", "from b.example.org ([192.0.2.44]) by a.example.org"))
    r = msg.evaluate(None)
    assert r.counted == ["198.51.100.25", "192.0.2.44"]
    texts = [f.text for f in list_findings(["198.51.100.25"], r, 1)]
    assert "IMSVA counted 1 address, the model 2" in texts


@pytest.mark.parametrize("which", ["--max-member-size", "--max-total-size"])
def test_a_bad_size_names_the_option_that_was_wrong(which: str) -> None:
    r = runner.invoke(app, ["parse", "fixtures/busy-day", which, "-1"])
    assert r.exit_code == 2 and r.stderr.startswith(f"imsvalog: error: {which}: not a size: '-1'"), r.stderr
    assert "/" not in r.stderr.split(":")[2]


def test_repeatable_options_stay_repeatable() -> None:
    r = runner.invoke(app, ["correlate", "fixtures/busy-day", "--trusted", "10.0.0.0/8", "--trusted", "192.0.2.44",
                            "--format", "json"])
    assert r.exit_code == 0, r.stderr
