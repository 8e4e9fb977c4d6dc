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
        (["correlate", "--time-window", "soon", "x"], "--time-window must be a number of at least 0"),
        (["correlate"], "Missing argument 'PATH'"),
        (["trace", "ID"], "Missing argument 'PATH'"),
        (["redact", "x"], "Missing option '--to'"),
        (["correlate", "x", "--formt", "json"], "No such option: --formt"),
        (["corelate"], "No such command 'corelate'. Did you mean 'correlate'?"),
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
