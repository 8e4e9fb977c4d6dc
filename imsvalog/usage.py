"""The command line's own words: usage lines, argument names and usage errors.

typer shows arguments with their Python types (``PATH <list[str]>``) and passes
its validation library's wording through to users (``Value error, 'xml' is not
one of 'table', ...``, ``Input should be a valid integer, unable to parse
string as an integer``).  :class:`Command` and :class:`Group` keep the
framework and put imsvalog's words on top:

* arguments are shown by their metavar only (``PATH...``, ``MESSAGE``);
* a bad value names the option and what it accepts, in one line on stderr,
  exit status 2: ``imsvalog: error: --format must be one of: table, jsonl,
  json, csv, markdown (see imsvalog parse --help)``.

>>> choice_message("--format", ["table", "jsonl", "json"])
'--format must be one of: table, jsonl, json'
>>> number_message("--time-window", float, 0, None)
'--time-window must be a number of at least 0'
>>> number_message("--max-line-length", int, 1, None)
'--max-line-length must be a whole number of at least 1'
"""

from __future__ import annotations

import re
import sys
from typing import IO, Any

import typer
import typer.core

from .render import clean_terminal

try:  # typer >= 0.2x carries its own copy of click
    from typer._click import exceptions as _click_exceptions
except ImportError:  # pragma: no cover - older typer on click
    import click.exceptions as _click_exceptions  # type: ignore[no-redef]

UsageError = _click_exceptions.UsageError
BadParameter = _click_exceptions.BadParameter
MissingParameter = _click_exceptions.MissingParameter
#: "no arguments: show the help" travels as a usage error; it must stay the help
_HELP_ERRORS: tuple[type[BaseException], ...] = tuple(
    t for t in (getattr(_click_exceptions, "NoArgsIsHelpError", None),) if isinstance(t, type)
)


def choice_message(option: str, choices: list[str]) -> str:
    return f"{option} must be one of: {', '.join(choices)}"


def number_message(option: str, kind: type, low: float | None, high: float | None) -> str:
    what = "a whole number" if kind is int else "a number"
    if low is not None and high is not None:
        return f"{option} must be {what} from {low:g} to {high:g}"
    if low is not None:
        return f"{option} must be {what} of at least {low:g}"
    if high is not None:
        return f"{option} must be {what} of at most {high:g}"
    return f"{option} must be {what}"


def _name(param: Any) -> str:
    """The option as users type it (its long form), or an argument's metavar."""
    opts = [o for o in getattr(param, "opts", []) or [] if o.startswith("-")]
    if opts:
        return max(opts, key=len)
    return str(getattr(param, "metavar", None) or getattr(param, "name", "") or "value").upper()


def _choices(param: Any) -> list[str]:
    desc = getattr(param, "type_descriptor", None)
    values = getattr(desc, "choices", None) if getattr(desc, "is_choice", False) else None
    if values is None:
        values = getattr(getattr(param, "type", None), "choices", None)  # click.Choice
    return [str(getattr(v, "value", v)) for v in values or ()]


def _number(param: Any) -> type | None:
    desc = getattr(param, "type_descriptor", None)
    annotation = getattr(desc, "annotation", None)
    if annotation in (int, float):
        return annotation  # type: ignore[no-any-return]
    name = str(getattr(getattr(param, "type", None), "name", ""))
    return int if name.startswith("integer") else float if name.startswith("float") else None


#: the validation library's phrases, in plain words
_PLAIN = [
    (re.compile(r"^Value error, "), ""),
    (re.compile(r"^Input should be "), "must be "),
]


def plain_message(exc: Any) -> str:
    """The one-line message for a usage error, without the framework's internals."""
    param = getattr(exc, "param", None)
    if isinstance(exc, _click_exceptions.NoSuchOption):
        # click guesses loosely ('--bogus': "Possible options: --verbose"); name a guess only when it is close
        import difflib

        close = difflib.get_close_matches(exc.option_name, list(exc.possibilities or ()), n=1, cutoff=0.8)
        return f"No such option: {exc.option_name}" + (f". Did you mean {close[0]}?" if close else "")
    if isinstance(exc, _click_exceptions.BadOptionUsage) and "requires an argument" in str(exc.message):
        return f"{exc.option_name} needs a value"
    if isinstance(exc, MissingParameter) or param is None:
        return str(exc.format_message())
    name = _name(param)
    choices = _choices(param)
    if choices:
        return choice_message(name, choices)
    kind = _number(param)
    if kind is not None:
        low = getattr(param, "min", getattr(getattr(param, "type", None), "min", None))
        high = getattr(param, "max", getattr(getattr(param, "type", None), "max", None))
        return number_message(name, kind, low, high)
    text = str(getattr(exc, "message", exc))
    for pattern, repl in _PLAIN:
        text = pattern.sub(repl, text)
    return f"{name}: {text}" if not text.startswith("must ") else f"{name} {text}"


class OneLineUsageError(UsageError):
    """A usage error printed as imsvalog prints every error: one line, ``imsvalog: error: ...``."""

    exit_code = 2

    def __init__(self, message: str, ctx: Any = None) -> None:
        super().__init__(message, ctx)

    def format_message(self) -> str:
        return self.message

    def show(self, file: IO[Any] | None = None) -> None:
        out = file if file is not None else sys.stderr
        where = f" (see {self.ctx.command_path} --help)" if self.ctx is not None else ""
        out.write(f"imsvalog: error: {clean_terminal(self.message.rstrip('.'))}{clean_terminal(where)}\n")


def one_line(exc: BaseException, ctx: Any = None) -> BaseException:
    """The usage error to raise instead of ``exc`` (help requests and our own errors pass unchanged);
    ``ctx`` is the command's, for errors raised without one (every message then ends in the same
    ``(see imsvalog CMD --help)``)."""
    if isinstance(exc, OneLineUsageError) or (_HELP_ERRORS and isinstance(exc, _HELP_ERRORS)):
        return exc
    if isinstance(exc, UsageError):
        return OneLineUsageError(plain_message(exc), getattr(exc, "ctx", None) or ctx)
    return exc


def repeated_option(params: list[Any], args: list[str]) -> str | None:
    """The message for an option that takes one value but was given more than once, else None
    (``-f json -f csv`` would silently keep the last).

    >>> from types import SimpleNamespace
    >>> fmt = SimpleNamespace(param_type_name="option", opts=["-f", "--format"], multiple=False, is_flag=False)
    >>> repeated_option([fmt], ["x", "-f", "json", "--format=csv"])
    '--format given more than once (json, then csv): give it once'
    >>> repeated_option([fmt], ["--", "-f", "-f"]) is None
    True
    """
    single = [p for p in params if getattr(p, "param_type_name", "") == "option" and not getattr(p, "multiple", False)
              and not getattr(p, "is_flag", False) and not getattr(p, "count", False)]
    for p in single:
        values: list[str] = []
        opts = list(p.opts)
        i = 0
        while i < len(args):
            a = args[i]
            if a == "--":
                break
            for o in opts:
                if a == o:
                    values.append(args[i + 1] if i + 1 < len(args) else "")
                    i += 1
                    break
                if o.startswith("--") and a.startswith(o + "="):
                    values.append(a[len(o) + 1:])
                    break
                if not o.startswith("--") and not a.startswith("--") and a.startswith(o) and len(a) > len(o):
                    values.append(a[len(o):])
                    break
            i += 1
        if len(values) > 1:
            return f"{_name(p)} given more than once ({', then '.join(values)}): give it once"
    return None


def _argument_name(param: Any) -> str:
    name = str(param.metavar or param.name or "").upper()
    return name if param.nargs == 1 or name.endswith("...") else name + "..."


class Command(typer.core.TyperCommand):
    """A command whose help shows arguments by name (``PATH...``), never by Python type, and whose
    usage errors are one plain line."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if getattr(param, "param_type_name", "") == "argument":
                name = _argument_name(param)
                pieces.append(name if param.required else f"[{name}]")
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        args, opts = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if getattr(param, "param_type_name", "") == "argument":
                args.append((_argument_name(param), record[1]))
            else:
                opts.append(record)
        if args:
            with formatter.section("Arguments"):
                formatter.write_dl(args)
        if opts:
            with formatter.section("Options"):
                formatter.write_dl(opts)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        twice = repeated_option(self.get_params(ctx), args)
        if twice is not None:
            raise OneLineUsageError(twice, ctx)
        try:
            return super().parse_args(ctx, args)  # type: ignore[no-any-return]
        except UsageError as exc:
            raise one_line(exc, ctx) from None


class Group(typer.core.TyperGroup):
    """The ``imsvalog`` group: its own usage errors (unknown command or option) in one plain line too."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)  # type: ignore[no-any-return]
        except UsageError as exc:
            raise one_line(exc) from None

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except UsageError as exc:
            raise one_line(exc) from None
