"""The ``imsvalog`` command: thin adapters over the library.

Each command reads its inputs, calls one public function, hands the result to
:mod:`imsvalog.render`, and maps errors to exit codes (:class:`ExitStatus`).
No parsing or policy logic lives here.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from enum import Enum, IntEnum
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar

import typer

from .errors import InputError
from .outputs import Inputs, OutputError, check_key_file, check_output_folder, check_outputs, output_file, output_folder, silence_stdout
from .readers import FileSummary, ReadReport, iter_found, plan
from .records import Reject, to_row
from .render import (
    cells,
    clean_terminal,
    count,
    clean_text_block,
    json_document,
    json_line,
    MIN_WRAP_ROOM,
    plain,
    table_width,
    tail_cells,
    text_lines,
    write_csv,
    write_json,
    write_jsonl,
    write_markdown,
)
from .sources import MAX_LINE_BYTES, LogFile
from .usage import Command, Group


class ExitStatus(IntEnum):
    """Exit codes: 0 success, 1 ``--strict`` found rejects (``trace``: nothing found), 2 usage, input or output
    error, 3 a bug, 130 Ctrl-C."""

    OK = 0
    REJECTS = 1
    NOT_FOUND = 1  # trace: no line of the logs is about the message (as grep: 1 for "no match")
    ERROR = 2
    INTERNAL = 3
    INTERRUPTED = 130


class Format(str, Enum):
    table = "table"
    jsonl = "jsonl"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class Kind(str, Enum):
    imss = "imss"
    polevt = "polevt"
    msgtra = "msgtra"
    maillog = "maillog"


app = typer.Typer(
    name="imsvalog",
    cls=Group,
    help="Triage Trend Micro IMSVA tickets from the appliance's logs "
    "(log.imss, polevt.imss, msgtra.imss, Postfix maillog).",
    epilog="Examples:\n\n\b\n"
    "  imsvalog correlate fixtures/kb000239719/* --explain\n"
    "  imsvalog spoof-check fixtures/messages/cloud-relay-hairpin.eml --trusted 198.51.100.25\n"
    "  imsvalog parse fixtures/busy-day --format jsonl\n\n"
    "Exit status: 0 success, 1 --strict found rejected lines, 2 usage, input or output error, "
    "3 a bug in imsvalog, 130 interrupted.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])

#: exceptions that are the CLI framework's own way of exiting: never reported as bugs
_PASS_THROUGH: tuple[type[BaseException], ...] = (typer.Exit, typer.Abort) + tuple(
    t for t in (getattr(getattr(typer, "exceptions", None), "TyperException", None),) if isinstance(t, type)
)


def fail(message: str) -> typer.Exit:
    """Print a one-line error on stderr and return the exit to raise (code 2)."""
    sys.stderr.write(f"imsvalog: error: {clean_terminal(message)}\n")
    return typer.Exit(ExitStatus.ERROR)


def warn(message: str) -> None:
    """One warning line on stderr: the command goes on."""
    say(f"imsvalog: warning: {clean_terminal(message)}\n")


def trusted_warnings(tl: Any, also: bool = False) -> None:
    """Warn about a trusted list's entries with host bits set and its empty entries (the list is used as read)."""
    if tl is None:
        return
    for w in tl.warnings:
        if also and w.startswith("the trusted list has no entry"):
            continue  # the what-if list adds to a given list
        warn(w)


def cli_errors(func: F) -> F:
    """Turn input errors into one line on stderr and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            raise fail(str(exc)) from None
        except BrokenPipeError:
            # the reader of our output went away (| head): stop quietly, with success
            silence_stdout()
            raise typer.Exit(ExitStatus.OK) from None
        except KeyboardInterrupt:
            raise typer.Exit(interrupted()) from None
        except _PASS_THROUGH:
            raise
        except OSError as exc:
            if not _printing(exc):
                _internal(exc)
            # a command's own echo to standard output failed (> /dev/full): as its other writes say it
            silence_stdout()
            raise fail(f"standard output: cannot write: {exc.strerror or exc}") from None
        except Exception as exc:  # a bug: say so in one line, keep the traceback for those who ask
            _internal(exc)

    return wrapper  # type: ignore[return-value]


def _internal(exc: Exception) -> NoReturn:
    """A bug (called while ``exc`` is handled): say so in one line, keep the traceback for those who ask."""
    if os.environ.get("IMSVALOG_DEBUG"):
        raise  # noqa: PLE0704 - the exception being handled, with its own traceback
    sys.stderr.write(
        f"imsvalog: internal error: {type(exc).__name__}: {clean_terminal(str(exc))}\n"
        "This is a bug in imsvalog. Run again with IMSVALOG_DEBUG=1 for the traceback, and report it.\n"
    )
    raise typer.Exit(ExitStatus.INTERNAL) from None


def interrupted() -> int:
    """Say so in one line (no traceback) and return exit status 130."""
    with contextlib.suppress(Exception):
        sys.stderr.write("imsvalog: interrupted\n")
    return ExitStatus.INTERRUPTED


def _version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"imsvalog {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", help="Show the version and exit.", callback=_version, is_eager=True),
) -> None:
    """Triage Trend Micro IMSVA tickets from the appliance's logs."""


def stderr_is_tty() -> bool:
    return sys.stderr.isatty()


def stderr_width() -> int | None:
    """The terminal's width when stderr is one, else None (piped: notes stay one line each, for grep)."""
    if not stderr_is_tty():
        return None
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns or 80
    except (OSError, ValueError, AttributeError):
        return 80


def say_reading(verb: str, path: str) -> None:
    """The per-file progress line on a terminal (``reading PATH ...``): one line at any width, like the bar; a
    path too long loses its start (``…`` + its end, the file name kept), the summary after it names it whole."""
    from .render import cells, head_cells, tail_cells

    width = stderr_width() or 80
    shown = clean_terminal(path)
    room = width - cells(verb) - 5  # 'VERB ' and ' ...'
    if cells(shown) > room:
        shown = "…" + tail_cells(shown, max(room - 1, 1))
    sys.stderr.write(head_cells(f"{verb} {shown} ...", width) + "\n")


def say(text: str) -> None:
    """Notes on stderr (rejects, absent kinds, warnings, skipped files): on a terminal each line is folded to
    its width, never cut (:func:`imsvalog.render.wrap_prose`); piped, written as they are."""
    width = stderr_width()
    if width is not None:
        from .render import wrap_prose

        text = wrap_prose(text, width)
    sys.stderr.write(text)


# bundle options shared by the commands that read logs (bundles.py does the work)
_PASSWORD_HELP = "Password of encrypted bundles (else $IMSVALOG_PASSWORD, else the CDT default 'trend', else a prompt)."
_MAX_MEMBER_HELP = "Stop reading a bundle member or .gz file that inflates past this size (e.g. 16G); the rest is a reject."
_MAX_TOTAL_HELP = "Stop reading bundles and .gz files after this much inflated data in all (e.g. 256G)."
_VERBOSE_HELP = "List every file passed over, one per line (default: one line with a count)."
#: one definition for every command that reads logs (parse, correlate, trace, export, redact)
PASSWORD_OPTION = typer.Option(None, "--password", metavar="PASSWORD", help=_PASSWORD_HELP, show_default=False)
MAX_MEMBER_OPTION = typer.Option("16G", "--max-member-size", metavar="SIZE", help=_MAX_MEMBER_HELP)
MAX_TOTAL_OPTION = typer.Option("256G", "--max-total-size", metavar="SIZE", help=_MAX_TOTAL_HELP)


#: with --redact, the bundle notices held until the redacted names are known (they name bundles as given)
_HELD_NOTICES: list[str] | None = None


def _notice(message: str) -> None:
    if _HELD_NOTICES is not None:
        _HELD_NOTICES.append(message)
    else:
        say(f"imsvalog: {clean_terminal(message)}\n")


@contextlib.contextmanager
def held_notices(redact: bool) -> Iterator[None]:
    """With --redact, hold the bundle notices (they name bundles as given: maybe customer names) for
    :func:`redacted_run` to say with the redacted names."""
    global _HELD_NOTICES
    if not redact:
        yield
        return
    _HELD_NOTICES = []
    try:
        yield
    finally:
        _HELD_NOTICES = None


@contextlib.contextmanager
def bundle_settings(password: str | None, max_member: str, max_total: str) -> Iterator[None]:
    """Read bundles with the command's password and limits; the password is never echoed."""
    from . import bundles

    sizes = []
    for name, text in (("--max-member-size", max_member), ("--max-total-size", max_total)):
        try:
            sizes.append(bundles.parse_size(text))
        except ValueError as exc:
            raise InputError(f"{name}: {exc}") from None
    member, total = sizes
    with bundles.options(password, member, total, notice=_notice):
        yield


def reads_bundles(func: F) -> F:
    """Run a command whose parameters end in ``password``, ``max_member_size``, ``max_total_size``
    (:data:`PASSWORD_OPTION` ...) inside :func:`bundle_settings`."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        with bundle_settings(kwargs["password"], kwargs["max_member_size"], kwargs["max_total_size"]):
            return func(*args, **kwargs)

    return run  # type: ignore[return-value]


def report_maillog_times(files: list[LogFile], zone: Any, restore: Callable[[str], str] | None = None) -> None:
    """One stderr line per maillog file: where the year and the zone of its syslog times came from (``restore``:
    with --redact, the files are the redacted copies, named as the output names them)."""
    from .readers import maillog_sources

    for f in files:
        if f.kind == "maillog":
            _, year, where = maillog_sources(f, zone)
            line = f"{clean_terminal(str(f.path))}: maillog {year}; {clean_terminal(where)}\n"
            say(restore(line) if restore is not None else line)


def report_skipped(skipped: list[tuple[str, str]], verbose: bool) -> None:
    """Files passed over: each on its own line with --verbose, else one line per reason with a count."""
    if verbose:
        for path, why in skipped:
            say(f"{clean_terminal(path)}: skipped: {why}\n")
        return
    by_reason: dict[str, list[str]] = {}
    for path, why in skipped:
        by_reason.setdefault(why, []).append(path)
    for why, paths in by_reason.items():
        if len(paths) == 1:
            say(f"{clean_terminal(paths[0])}: skipped: {why}\n")
            continue
        names = ", ".join(clean_terminal(Path(p.rsplit("!", 1)[-1]).name) for p in paths[:3])
        more = ", ..." if len(paths) > 3 else ""
        say(f"skipped {len(paths)} files ({names}{more}): {why}; --verbose lists them\n")


# ---------------------------------------------------------------------------
# --redact on other commands (redact.py and redact_files.py do the work)
# ---------------------------------------------------------------------------

REDACT_OPTION = typer.Option(
    False, "--redact", help="Redact addresses, domains, IDs and subjects first, for sharing (as 'imsvalog redact' does)."
)
KEY_FILE_OPTION = typer.Option(
    None, "--key-file", metavar="FILE",
    help="The case's redaction key (created, mode 0600, if absent; default $IMSVALOG_REDACT_KEY, else a one-off key).",
)


class Restoring:
    """A text stream that writes through ``restore`` (temporary paths back to the paths as given)."""

    def __init__(self, inner: IO[str], restore: Callable[[str], str]) -> None:
        self.inner, self.restore = inner, restore

    def write(self, text: str | bytes) -> int:
        if isinstance(text, bytes):  # --raw output
            return self.inner.write(self.restore(text.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape"))
        return self.inner.write(self.restore(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _same(text: str) -> str:
    return text


def redactor_for(redact: bool, key_file: Path | None) -> Any:
    """The case's :class:`~imsvalog.redact.Redactor` for ``--redact`` (None without it)."""
    if not redact:
        return None
    from .redact import Redactor
    from .redact_keys import load_key

    key, origin = load_key(key_file)
    say(f"redacting with {clean_terminal(origin)}\n")
    return Redactor(key)


def redaction_changed_answers(
    paths: list[str], original: tuple[list[str], list[Path]], result: Any, red: Any, profile: str, time_window: float
) -> None:
    """``correlate --redact``: correlate the original too and say so, on stderr, when the redacted copy
    gives other answers (verdicts, counts, links, agreement, IMSVA's own verdicts, calibration): a
    redacted output never quietly says something else than the logs."""
    from .correlation import correlate as run_correlate
    from .redact_verify import differences
    from .trusted import load_trusted

    first = run_correlate(paths, trusted=load_trusted(*original), profile=profile, time_window=time_window)
    found = differences(first, result, red)
    if found:
        shown = "; ".join(clean_terminal(d) for d in found[:3]) + (f"; and {len(found) - 3} more" if len(found) > 3 else "")
        say(
            f"imsvalog: warning: the redacted copy does NOT give the same answers as the original logs "
            f"({count(len(found), 'difference')}): {shown}. Do not share this output as the case's answer; "
            "'imsvalog redact PATH... --to DIR --verify' shows every difference.\n"
        )


@contextlib.contextmanager
def redacted_run(
    redact: bool, key_file: Path | None, paths: list[str], trusted_files: Sequence[Path] = ()
) -> Iterator[tuple[list[str], list[str], Callable[[str], str], Any]]:
    """The inputs as given, or (``--redact``) redacted copies of them in a temporary folder."""
    if not redact:
        yield list(paths), [str(t) for t in trusted_files], _same, None
        return
    from .redact_files import redacted_inputs

    r = redactor_for(True, key_file)
    with redacted_inputs(paths, r, trusted_files) as (given, trusted_given, restore, shown):
        global _HELD_NOTICES
        held, _HELD_NOTICES = _HELD_NOTICES or [], None
        for m in dict.fromkeys(held):  # 'BUNDLE: opened with ...': the bundle as the output names it
            label, sep, rest = m.partition(": ")
            say(f"imsvalog: {clean_terminal(shown(label) + sep + rest if sep else m)}\n")
        yield given, trusted_given, restore, r


# ---------------------------------------------------------------------------
# parse
# ---------------------------------------------------------------------------

_PARSE_COMMON = ("kind", "shape", "file", "line", "time", "thread", "pid", "tid", "level", "component", "method", "body", "location")
_PARSE_HIDDEN_IN_TABLE = {"kind", "shape", "file", "line", "time", "thread", "pid", "tid", "source", "extra", "body"}


def _where(row: dict[str, Any]) -> str:
    return f"{Path(row['file']).name}:{row['line']}"


def _fields_summary(row: dict[str, Any]) -> str:
    parts = []
    if row.get("kind") == "imss":
        head = "/".join(x for x in (row.get("level"), row.get("component"), row.get("method")) if x)
        if head:
            parts.append(f"[{head}]")
    if row.get("shape") == "generic":
        parts.append(row.get("body") or "")
    for key, value in row.items():
        if key in _PARSE_HIDDEN_IN_TABLE or key in ("level", "component", "method") or value in (None, "", []):
            continue
        if key == "zone_assumed" and value is False:
            continue
        parts.append(f"{key}={plain(value)}")
    return " ".join(parts)


#: width of parse's fixed columns (where, time, what, thread and their gaps)
_PARSE_FIXED = 30 + 25 + 17 + 18 + 4 * 2


def _table_row(row: dict[str, Any], narrow: bool = False) -> dict[str, Any]:
    """A parse table row; ``narrow`` (a terminal too narrow for the thread column): the thread leads the fields."""
    time = row.get("time")
    fields = _fields_summary(row) if row["kind"] != "reject" else f"REJECT {row['reason']}: {row['raw']}"
    if narrow and row.get("thread"):
        fields = f"[{row['thread']}] {fields}"
    return {
        "where": _where(row).ljust(30),
        "time": (time.isoformat(sep=" ") if time is not None else "").ljust(25),
        "what": (row.get("shape") or row["kind"]).ljust(17),
        "thread": (row.get("thread") or "").ljust(18),
        "fields": fields,
    }


def parse_columns() -> list[str]:
    """CSV columns for ``parse``: common fields first, then every field of every record type."""
    from dataclasses import fields as dc_fields

    from .records import ImssRecord, MailLogEntry, PolicyEvent, Transaction

    cols = list(_PARSE_COMMON)

    def add(name: str) -> None:
        if name not in cols and name != "source":
            cols.append(name)

    for cls in ImssRecord.__subclasses__():
        for f in dc_fields(cls):
            add(f.name)
    for cls in (PolicyEvent, Transaction, MailLogEntry):
        for f in dc_fields(cls):
            add(f.name)
    add("reason")
    add("raw")
    return cols


def _zone(tz: str | None) -> Any:
    """The ``--tz`` zone for maillog lines, or None; a bad value is an input error naming the option."""
    from .grammars.maillog import tz_from_text

    try:
        return tz_from_text(tz) if tz is not None else None
    except ValueError as exc:
        raise InputError(f"--tz: {exc}") from None


@app.command(
    cls=Command,
    epilog="Examples:\n\n\b\n"
    "  imsvalog parse fixtures/kb000239719/*\n"
    "  imsvalog parse /cases/1234/IMSVA --format jsonl -o records.jsonl --rejects rejects.jsonl\n"
    "  imsvalog parse unnamed.txt --kind polevt --format csv\n",
)
@cli_errors
def parse(
    paths: list[str] = typer.Argument(..., metavar="PATH", help="Log files, globs or directories (searched recursively)."),
    kind: Kind | None = typer.Option(None, "--kind", "-k", help="Force the log kind instead of detecting it."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    output: Path | None = typer.Option(None, "--output", "-o", metavar="FILE", help="Write records here instead of stdout."),
    rejects: Path | None = typer.Option(None, "--rejects", metavar="FILE", help="Also write rejected lines here as JSON lines."),
    strict: bool = typer.Option(False, "--strict", help="Exit with status 1 when any line is rejected."),
    tz: str | None = typer.Option(None, "--tz", metavar="OFFSET", help="Zone of maillog's syslog timestamps, e.g. +09:00 (default: UTC, flagged)."),
    password: str | None = PASSWORD_OPTION,
    max_member_size: str = MAX_MEMBER_OPTION,
    max_total_size: str = MAX_TOTAL_OPTION,
    verbose: bool = typer.Option(False, "--verbose", "-v", help=_VERBOSE_HELP),
    max_line_length: int = typer.Option(MAX_LINE_BYTES, "--max-line-length", min=1, metavar="BYTES", help="A longer line is a reject holding its first 1 KiB and its length (bounds memory)."),
    redact: bool = REDACT_OPTION,
    key_file: Path | None = KEY_FILE_OPTION,
) -> None:
    """Parse log files into typed records: one per line, or a reject with its reason."""
    zone = _zone(tz)
    report = ReadReport()
    progress = stderr_is_tty()
    with held_notices(redact), bundle_settings(password, max_member_size, max_total_size):
        if redact:  # the outputs are checked against the inputs as given, before they are copied
            from .sources import discover

            inputs = Inputs.of(paths, discover(paths).files)
            check_outputs([output, rejects], inputs)
            check_key_file(key_file, inputs, [output, rejects])  # before the key file is made
        with redacted_run(redact, key_file, paths) as (given, _, restore, _r):
            _parse(given, kind, fmt, output, rejects, strict, zone, report, progress, verbose, max_line_length, restore)


def _parse(paths: list[str], kind: Kind | None, fmt: Format, output: Path | None, rejects: Path | None, strict: bool,
           zone: Any, report: ReadReport, progress: bool, verbose: bool, max_line_length: int,
           restore: Callable[[str], str] = _same) -> None:
    found = plan(paths, kind.value if kind else None)  # every input resolved before any output is opened
    if not found.files:
        for path, why in found.skipped:
            say(f"{clean_terminal(path)}: skipped: {why}\n")
        raise InputError(f"no IMSVA log file among: {', '.join(paths)}")
    inputs = Inputs.of(paths, found.files)
    check_outputs([output, rejects], inputs)
    two = fmt in (Format.jsonl, Format.csv)  # a big plain log.imss: its second half by a second process
    if two:
        from .workers import bad_workers_message, workers_of

        if workers_of(os.environ.get("IMSVALOG_WORKERS"), os.cpu_count()) is None:
            raise InputError(bad_workers_message())

    def on_file(f: LogFile) -> None:
        if progress:
            say_reading("reading", restore(str(f.path)))

    with contextlib.ExitStack() as stack:
        out = Restoring(stack.enter_context(output_file(output, inputs)), restore)
        rout = Restoring(stack.enter_context(output_file(rejects, inputs)), restore) if rejects is not None else None

        def read(f: LogFile, summary: FileSummary) -> Iterator[Any]:
            from .parse_parts import parse_in_two, split_of
            from .readers import iter_file

            split = split_of(f, max_line_length)
            if split is None:
                return iter_file(f, summary, zone, max_line_length)
            return parse_in_two(f, split, summary, zone, max_line_length, fmt.value, parse_columns(), out, rout)

        def rows() -> Iterator[dict[str, Any]]:
            for item in iter_found(found, report, on_file, zone, max_line_length, read if two else None):
                if isinstance(item, Reject) and rout is not None:
                    rout.write(json_line(to_row(item)) + "\n")
                    continue
                yield to_row(item)

        if fmt is Format.table:
            fit = table_width(out)  # a terminal's width (or COLUMNS): fields wrap, never cut; piped: one line each
            narrow = fit is not None and fit < _PARSE_FIXED + MIN_WRAP_ROOM
            text_lines(
                (_table_row(r, narrow) for r in rows()),
                [("where", "where".ljust(30)), ("time", "time".ljust(25)), ("what", "what".ljust(17)),
                 *([] if narrow else [("thread", "thread".ljust(18))]), ("fields", "[thread] fields" if narrow else "fields")],
                out, fit,
            )
        elif fmt is Format.jsonl:
            write_jsonl(rows(), out)
        elif fmt is Format.json:
            write_json(rows(), out)
        elif fmt is Format.csv:
            write_csv(rows(), out, parse_columns())
        else:
            write_markdown(rows(), out, parse_columns())
    for s in report.files:
        say(
            restore(f"{clean_terminal(s.file)}: {count(s.lines, 'line')}, {count(s.records, 'record')}, "
                    f"{count(s.rejects, 'reject')}\n")
        )
        for note in s.notes:
            say(restore(f"{clean_terminal(s.file)}: {clean_terminal(note)}\n"))
    report_skipped([(restore(p), restore(why)) for p, why in report.skipped], verbose)
    report_maillog_times(found.files, zone, restore)
    if report.rejects:
        where = f"in {rejects}" if rejects is not None else "as REJECT rows"
        say(
            f"imsvalog: {count(report.rejects, 'line')} rejected ({clean_terminal(where)}); "
            + ("exit status 1 (--strict)\n" if strict else "exit status 0 (--strict makes it 1)\n")
        )
    if strict and report.rejects:
        raise typer.Exit(ExitStatus.REJECTS)


# ---------------------------------------------------------------------------
# spoof-check
# ---------------------------------------------------------------------------


class Profile(str, Enum):
    documented = "documented"
    strict = "strict"


class ModelProfile(str, Enum):
    documented = "documented"
    strict = "strict"
    auto = "auto"


class Observed(str, Enum):
    fired = "fired"
    not_fired = "not-fired"


class TextOrJson(str, Enum):
    text = "text"
    json = "json"


@app.command(
    "spoof-check",
    cls=Command,
    epilog="Examples:\n\n\b\n"
    "  imsvalog spoof-check fixtures/messages/cloud-relay-hairpin.eml\n"
    "  imsvalog spoof-check quarantined.msg --trusted 198.51.100.25 --trusted 203.0.113.0/28\n"
    "  imsvalog spoof-check - --observed fired --trusted-file trusted.txt < pasted-headers.txt\n"
    "  imsvalog spoof-check msg.eml --trusted-file trusted.txt --profile strict --format json\n",
)
@cli_errors
def spoof_check(
    message: str = typer.Argument(..., metavar="FILE|-", help="An .eml, an Outlook .msg, or a text file of pasted headers; - reads stdin."),
    trusted: list[str] = typer.Option([], "--trusted", "-t", metavar="ENTRY", help="Trusted Internal IP List entry: address, CIDR or a-b range. Repeatable."),
    trusted_file: list[Path] = typer.Option([], "--trusted-file", metavar="FILE", help="File with one trusted entry per line (# comments)."),
    sender: str | None = typer.Option(None, "--sender", metavar="ADDRESS", help="Envelope sender (default: Return-Path)."),
    recipient: list[str] = typer.Option([], "--recipient", "-r", metavar="ADDRESS", help="Recipient (default: To and Cc). Repeatable."),
    profile: Profile = typer.Option(Profile.documented, "--profile", help="Which ranges are skipped: as documented, or strict (every IANA special-purpose address; documentation ranges stay counted)."),
    observed: Observed | None = typer.Option(None, "--observed", help="What IMSVA did with the message, if known: the explanation then points out disagreements."),
    fmt: TextOrJson = typer.Option(TextOrJson.text, "--format", "-f", help="Output format."),
    output: Path | None = typer.Option(None, "--output", "-o", metavar="FILE", help="Write here instead of stdout."),
    redact: bool = REDACT_OPTION,
    key_file: Path | None = KEY_FILE_OPTION,
) -> None:
    """Re-run IMSVA's spoofed-internal-messages filter on one message and explain every address."""
    from .messages import open_message
    from .trusted import load_trusted

    inputs = Inputs.of([message], extra=trusted_file)  # "-": standard input, when a file, is an input too
    check_outputs([output], inputs)
    if redact:
        check_key_file(key_file, inputs, [output])  # before the key file is made
    tl = load_trusted(trusted, trusted_file)
    trusted_warnings(tl)
    got = open_message(message)  # every input is read before the output is opened
    msg, notes = got.message, got.notes
    r = redactor_for(redact, key_file)
    if r is not None:
        tl, msg = r.trusted_list(tl), r.message_input(msg)
        sender = r.address_field(sender) if sender else sender
        recipient = [r.address_field(x) for x in recipient]
        notes = tuple(r.text(n) for n in notes)
    for note in notes:
        say(f"{clean_terminal(got.name)}: {clean_terminal(note)}\n")
    msg = msg.override(sender=sender, recipients=recipient)
    result = msg.evaluate(tl, profile.value, None if observed is None else observed is Observed.fired)
    with output_file(output, inputs) as out:
        if fmt is TextOrJson.json:
            out.write(json_document({"message": got.name, "input": {**got.to_dict(), "notes": list(notes)}, **result.to_dict()}))
        else:  # on a terminal folded to its width, never cut; else one line per line of the explanation
            from .render import table_width, wrap_prose

            tty = hasattr(out, "isatty") and out.isatty()
            out.write(wrap_prose(clean_text_block(result.explanation), table_width(out) if tty else None) + "\n")


# ---------------------------------------------------------------------------
# correlate
# ---------------------------------------------------------------------------


class Only(str, Enum):
    disagreements = "disagreements"
    unlinked = "unlinked"


@app.command(
    cls=Command,
    epilog="Examples:\n\n\b\n"
    "  imsvalog correlate fixtures/bundles/CDT-*.zip --explain\n"
    "  imsvalog correlate fixtures/kb000239719/*\n"
    "  imsvalog correlate CDT-20240312-101500.zip --password 'the bundle password'\n"
    "  imsvalog correlate /cases/1234/IMSVA --trusted-file trusted.txt --only disagreements\n"
    "  imsvalog correlate /cases/1234/IMSVA --trusted-file trusted.txt --what-if-trusted 203.0.113.45\n"
    "  imsvalog correlate log.imss.* polevt.imss.* --format jsonl -o spoof.jsonl\n"
    "  imsvalog correlate fixtures/two-days --trusted 198.51.100.25 --trusted 198.51.100.26 --plot figures\n",
)
@cli_errors
def correlate(
    paths: list[str] = typer.Argument(..., metavar="PATH", help="log.imss, polevt.imss, msgtra.imss and maillog files, globs or directories, in any order."),
    trusted: list[str] = typer.Option([], "--trusted", "-t", metavar="ENTRY", help="Trusted Internal IP List entry (address, CIDR, a-b). Repeatable."),
    trusted_file: list[Path] = typer.Option([], "--trusted-file", metavar="FILE", help="File with one trusted entry per line (# comments)."),
    profile: ModelProfile = typer.Option(
        ModelProfile.documented, "--profile",
        help="The spoof model: documented, strict (skips every special-purpose address), or auto (every variant of the "
        "model scored against IMSVA's logged lists in these logs; the best is used and the scoring table shown).",
    ),
    only: Only | None = typer.Option(None, "--only", help="Show only disagreements or unlinked rows."),
    explain: bool = typer.Option(False, "--explain", "-e", help="Print the header-by-header explanation of each row."),
    wide: bool = typer.Option(False, "--wide", "-w", help="The full table: full IDs, thread, rule, action, logged and recomputed addresses."),
    time_window: float = typer.Option(1.0, "--time-window", min=0.0, max=86400.0, metavar="SECONDS", help="Seconds within which time alone may link a trace and an event."),
    what_if_trusted: list[str] = typer.Option([], "--what-if-trusted", metavar="ENTRY", help="What-if: a trusted list of these entries INSTEAD of --trusted/--trusted-file (replaces the list). Repeatable."),
    what_if_trusted_file: list[Path] = typer.Option([], "--what-if-trusted-file", metavar="FILE", help="What-if: this trusted list file instead of the given list (replaces it)."),
    also_trust: list[str] = typer.Option([], "--also-trust", metavar="ENTRY", help="What-if: the given trusted list PLUS this entry (adds to it). Without --trusted, IMSVA's own list (not known) plus this entry: a verdict changes only where the entries decide it. Repeatable."),
    what_if_profile: Profile | None = typer.Option(None, "--what-if-profile", help="What-if: another profile."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    output: Path | None = typer.Option(None, "--output", "-o", metavar="FILE", help="Write here instead of stdout."),
    plot: Path | None = typer.Option(None, "--plot", metavar="DIR", help="Also write the triage figures as PNGs here (needs the 'plot' extra)."),
    password: str | None = PASSWORD_OPTION,
    max_member_size: str = MAX_MEMBER_OPTION,
    max_total_size: str = MAX_TOTAL_OPTION,
    verbose: bool = typer.Option(False, "--verbose", "-v", help=_VERBOSE_HELP),
    redact: bool = REDACT_OPTION,
    key_file: Path | None = KEY_FILE_OPTION,
) -> None:
    """Link AntiSpoofFilter traces to policy events, re-run the spoof policy, explain each verdict."""
    from .correlation import correlate as run_correlate
    from .render import render_correlation
    from .sources import discover
    from .trusted import load_trusted

    if wide and fmt is not Format.table:
        warn(f"--wide changes only the table; --format {fmt.value} has every column in full anyway")
    if explain and fmt in (Format.jsonl, Format.json, Format.csv):
        warn(f"--explain changes only the table and markdown; --format {fmt.value} carries each row's explanation "
             "in its explanation field anyway")
    if (what_if_trusted or what_if_trusted_file or what_if_profile is not None) and fmt in (Format.jsonl, Format.csv):
        warn(f"--format {fmt.value} carries the rows only: the what-if changes are not in it "
             "(they are in the table, markdown and json)")
    with held_notices(redact), bundle_settings(password, max_member_size, max_total_size):
        files = discover(paths).files
        inputs = Inputs.of(paths, files, extra=[*trusted_file, *what_if_trusted_file])
        from . import plot as plots

        # before the long read: a refused output costs nothing (also -o naming a PNG that --plot writes)
        check_outputs([output], inputs, [(plot, [f"{n}.png" for n in plots.FIGURE_NAMES])])
        if redact:
            check_key_file(key_file, inputs, [output])  # before the key file is made
        if plot is not None:
            check_output_folder(plot, inputs)

            plots.require_matplotlib()
        original = (list(trusted), list(trusted_file))
        with redacted_run(redact, key_file, paths, [*trusted_file, *what_if_trusted_file]) as (given, tgiven, restore, red):
            if red is not None:
                trusted = [e for t in trusted for e in red.trusted_entry(t)]
                what_if_trusted = [e for t in what_if_trusted for e in red.trusted_entry(t)]
                also_trust = [e for t in also_trust for e in red.trusted_entry(t)]
                trusted_file, what_if_trusted_file = [Path(x) for x in tgiven[: len(trusted_file)]], [
                    Path(x) for x in tgiven[len(trusted_file):]
                ]
            tl = load_trusted(trusted, trusted_file)
            trusted_warnings(tl)
            what_if = None
            if what_if_trusted or what_if_trusted_file or also_trust or what_if_profile is not None:
                other: Any = "same"
                if what_if_trusted or what_if_trusted_file or also_trust:
                    from .trusted import TrustedList

                    replaced = what_if_trusted or what_if_trusted_file
                    base = load_trusted(what_if_trusted, what_if_trusted_file, "--what-if-trusted") if replaced else tl
                    added = load_trusted(also_trust, (), "--also-trust")
                    # --also-trust alone adds to a list (the given one, or the appliance's own): never an empty list
                    trusted_warnings(TrustedList.combine(base if replaced else None, added), also=tl is not None or not replaced)
                    # no list given: the appliance's own (not known) plus the entries, not the entries alone
                    other = TrustedList.combine(base, added) if base is not None or added is None else added.plus_unknown()
                what_if = (other, what_if_profile.value if what_if_profile else None)
            with progress_bar() as progress:
                result = run_correlate(given, trusted=tl, profile=profile.value, time_window=time_window, progress=progress)
            if red is not None:
                redaction_changed_answers(paths, original, result, red, profile.value, time_window)
            rows = result.only(only.value if only else None)
            changes = result.what_if(*what_if) if what_if is not None else None
            try:
                with output_file(output, inputs) as out:
                    render_correlation(result, rows, fmt.value, Restoring(out, restore), explain=explain, what_if=changes, wide=wide)
            except (BrokenPipeError, OutputError):  # the reader went away (| head) or a write failed (disk full):
                # the notes still reach the terminal
                _correlate_notes(result, restore, verbose, files if red is None else discover(given).files)
                raise
            if plot is not None:
                from .frames import read_polevt

                events = read_polevt(given) if result.summary.policy_events else None
                figs = plots.figures(result, events, *(what_if or (None, None)))
                for name in plots.save_figures(figs, output_folder(plot, inputs)):
                    say(f"wrote {clean_terminal(name)}\n")
            _correlate_notes(result, restore, verbose, files if red is None else discover(given).files)


def _correlate_notes(result: Any, restore: Callable[[str], str], verbose: bool, files: Any) -> None:
    """What correlate says on stderr after its rows: absent kinds of input, rejects, skipped files, assumed times."""
    for m in result.summary.missing:  # once, not per row: a whole kind of file is absent
        say(f"imsvalog: warning: {m}; rows that depend on it say so\n")
    for m in result.summary.rotation:  # a rotated file left out between two given, or given twice
        say(restore(f"imsvalog: warning: {clean_terminal(m)}\n"))
    n = result.summary.rejects
    if n:
        say(f"{count(n, 'line')} could not be parsed or read:\n")
        for r in result.rejects[:5]:
            say(restore(f"  {clean_terminal(r.source.ref())}: {clean_terminal(r.reason)}\n"))
        if n > 5:
            say("  ... all of them: imsvalog parse PATH... --rejects rejects.jsonl\n")
    report_skipped([(restore(p), restore(why)) for p, why in result.skipped], verbose)
    report_maillog_times(files, None, restore)


# ---------------------------------------------------------------------------
# trace
# ---------------------------------------------------------------------------


class TraceFormat(str, Enum):
    table = "table"
    jsonl = "jsonl"
    json = "json"
    markdown = "markdown"


def _when(text: str | None, option: str) -> Any:
    """``--since``/``--until``: ISO 8601, with or without an offset (without: wall-clock time as logged)."""
    if text is None:
        return None
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.strip().replace("/", "-"))
    except ValueError:
        raise InputError(f"{option}: {text!r} is not a time such as 2024-03-12T09:15 or '2024-03-12 09:15:00+01:00'") from None


@app.command(
    cls=Command,
    epilog="Examples:\n\n\b\n"
    "  imsvalog trace 4C4C4C4C-5D5D-46E6-97F7-A8A8B9B9CACA fixtures/busy-day\n"
    "  imsvalog trace '<nl-0312.77@news.partner.example.org>' fixtures/busy-day --format markdown\n"
    "  imsvalog trace 5B5B5B5B5B fixtures/busy-day --raw -o escalation.log\n"
    "  imsvalog trace bob@example.com /cases/1234/IMSVA --since 2024-03-12T09:00 --until 2024-03-12T10:00\n",
)
@cli_errors
def trace(
    message: str = typer.Argument(..., metavar="ID", help="Internal message ID, Message-ID (with or without <>), Postfix queue ID, or envelope address."),
    paths: list[str] = typer.Argument(..., metavar="PATH", help="log.imss, polevt.imss, msgtra.imss and maillog files, globs, folders or bundles."),
    since: str | None = typer.Option(None, "--since", metavar="TIME", help="With an address: only messages at or after this time (ISO 8601)."),
    until: str | None = typer.Option(None, "--until", metavar="TIME", help="With an address: only messages at or before this time (ISO 8601)."),
    tz: str | None = typer.Option(None, "--tz", metavar="OFFSET", help="Zone of maillog's syslog times, e.g. +01:00 (default: the zone of the message's log.imss lines)."),
    fmt: TraceFormat = typer.Option(TraceFormat.table, "--format", "-f", help="Output format (markdown pastes into a ticket as a table)."),
    raw: bool = typer.Option(False, "--raw", help="Print the original lines exactly, each after its file:line: (escaped only on a terminal)."),
    output: Path | None = typer.Option(None, "--output", "-o", metavar="FILE", help="Write here instead of stdout."),
    time_window: float = typer.Option(1.0, "--time-window", min=0.0, max=86400.0, metavar="SECONDS", help="As correlate's: seconds within which time alone may link a scan and a policy event (used where no ID ties them)."),
    password: str | None = PASSWORD_OPTION,
    max_member_size: str = MAX_MEMBER_OPTION,
    max_total_size: str = MAX_TOTAL_OPTION,
    verbose: bool = typer.Option(False, "--verbose", "-v", help=_VERBOSE_HELP),
    redact: bool = REDACT_OPTION,
    key_file: Path | None = KEY_FILE_OPTION,
) -> None:
    """Everything the appliance logged about one message, in time order: Postfix in, scan, policy events, msgtra, Postfix out.

    Exit status (as grep): 0 when lines about the message were found, 1 when none was (stderr says where it was
    looked for), 2 for a usage or input error.
    """
    from .render import render_trace, write_raw_lines
    from .sources import discover
    from .timeline import reversed_span
    from .timeline import trace as run_trace

    zone = _zone(tz)
    start, end = _when(since, "--since"), _when(until, "--until")
    if reversed_span(start, end):
        raise fail(f"--since {since} is after --until {until}: the time span is reversed (no message can be in it)")
    if raw and fmt is not TraceFormat.table:
        raise fail(f"--raw prints the original lines; it cannot be combined with --format {fmt.value}")
    with held_notices(redact), bundle_settings(password, max_member_size, max_total_size):
        files = discover(paths).files
        inputs = Inputs.of(paths, files)
        check_outputs([output], inputs)
        with redacted_run(redact, key_file, paths) as (given, _, restore, red):
            if red is not None:  # the ID as the redacted copy holds it
                message = red.message_id(message) if "@" in message else red.id_text(message.strip())
            with progress_bar() as progress:
                result = run_trace(message, given, since=start, until=end, tz=zone, progress=progress,
                                   time_window=time_window)
            if raw:
                terminal = output is None and sys.stdout.isatty()
                with output_file(output, inputs, binary=True) as out:
                    write_raw_lines(result, Restoring(out, restore), terminal)
            else:
                with output_file(output, inputs) as out:
                    render_trace(result, fmt.value, Restoring(out, restore))
            if (since or until) and result.id_kind != "address":
                what = {"internal-id": "an internal ID", "message-id": "a Message-ID", "queue-id": "a queue ID"}.get(
                    result.id_kind, result.id_kind)
                warn(f"--since/--until only narrow a search by envelope address; the ID given is {what}, "
                     "so every line about that message is shown")
            for note in result.notes:
                say(restore(f"trace: {clean_terminal(note)}\n"))
            _trace_rejects(result.rejects, restore)
            report_skipped([(restore(p), restore(why)) for p, why in result.skipped], verbose)
    if not result.lines:  # like grep: 1 for "nothing found", 2 for errors
        raise typer.Exit(ExitStatus.NOT_FOUND)


READ_ERROR = "cannot read further"  # the start of timeline's reason for a file's unreadable rest


def _trace_rejects(rejects: list[Any], restore: Callable[[str], str]) -> None:
    """trace's rejects on stderr, in two kinds: a matching line that did not parse, and a file whose rest could not
    be read (a gzip cut short: the lines after the break were not searched, so the trace may lack some)."""
    unread = [r for r in rejects if r.reason.startswith(READ_ERROR)]
    bad = [r for r in rejects if not r.reason.startswith(READ_ERROR)]
    for group, head in ((bad, f"{count(len(bad), 'matching line')} could not be parsed:"),
                        (unread, f"{count(len(unread), 'file')} could not be read to the end (what follows the "
                                 "line named was not searched; lines about the message may be there):")):
        if group:
            say(head + "\n")
            for r in group[:5]:
                say(restore(f"  {clean_terminal(r.source.ref())}: {clean_terminal(r.reason)}\n"))


# ---------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------


@app.command(
    cls=Command,
    epilog="Examples:\n\n\b\n"
    "  imsvalog export fixtures/busy-day fixtures/kb000239719 --to lake\n"
    "  imsvalog export /cases/*/CDT-* --to /data/imsva-lake --trusted-file trusted.txt\n"
    "  imsvalog export --schema\n\n"
    "Then, in DuckDB: SELECT kind, count(*) FROM read_parquet('lake/**/*.parquet', hive_partitioning=true,\n"
    "union_by_name=true) GROUP BY kind",
)
@cli_errors
@reads_bundles
def export(
    paths: list[str] = typer.Argument(None, metavar="PATH", help="Log files, globs or folders; each folder (or CDT bundle) is one case."),
    to: Path | None = typer.Option(None, "--to", metavar="DIR", help="Output folder (created; each case's folder in it is replaced)."),
    case: str | None = typer.Option(None, "--case", metavar="NAME", help="Case name for all PATHs (default: bundle or folder name)."),
    appliance: str | None = typer.Option(None, "--appliance", metavar="NAME", help="Rename the case's appliance, if it has only one (default: its bundle, appliance folder or syslog host; loose files: maillog's host, else unknown)."),
    trusted: list[str] = typer.Option([], "--trusted", "-t", metavar="ENTRY", help="Trusted Internal IP List entry for the correlate rows. Repeatable."),
    trusted_file: list[Path] = typer.Option([], "--trusted-file", metavar="FILE", help="File with one trusted entry per line."),
    no_correlate: bool = typer.Option(False, "--no-correlate", help="Write the records only, not the correlate rows."),
    show_schema: bool = typer.Option(False, "--schema", help="Print the columns of every kind and exit."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help=_VERBOSE_HELP),
    password: str | None = PASSWORD_OPTION,
    max_member_size: str = MAX_MEMBER_OPTION,
    max_total_size: str = MAX_TOTAL_OPTION,
) -> None:
    """Write records and correlate rows as Parquet, partitioned by case, appliance, kind and date."""
    from .export import export as run_export
    from .export import schema_text

    if show_schema:
        sys.stdout.write(schema_text())
        return
    if not paths or to is None:
        raise fail("export needs PATH... and --to DIR (or --schema)")
    from .trusted import load_trusted

    tl = load_trusted(trusted, trusted_file)
    trusted_warnings(tl)
    report = run_export(paths, to, case=case, appliance=appliance, trusted=tl, correlate=not no_correlate)
    say(f"wrote {clean_terminal(str(report.out))}: {clean_terminal(report.summary())}\n")
    report_skipped(report.skipped, verbose)


# ---------------------------------------------------------------------------
# redact
# ---------------------------------------------------------------------------


@app.command(
    cls=Command,
    epilog="Examples:\n\n\b\n"
    "  imsvalog redact fixtures/kb000239719 --to shared/ --key-file case-1234.key --verify\n"
    "  imsvalog redact /cases/1234/IMSVA --trusted-file trusted.txt --to /tmp/1234-redacted --key-file case-1234.key\n"
    "  imsvalog correlate /cases/1234/IMSVA --redact --key-file case-1234.key --explain\n\n"
    "Exit status: 0 success (and --verify found everything identical), 1 --verify found a difference,\n"
    "2 usage or input error (nothing is written then), 3 a bug in imsvalog.\n",
)
@cli_errors
@reads_bundles
def redact(
    paths: list[str] = typer.Argument(..., metavar="PATH", help="Log files, globs or folders (and .eml or headers files) to redact."),
    to: Path = typer.Option(..., "--to", metavar="DIR", help="Folder for the copies: same names and layout, gzip stays gzip. Never an input folder; existing files are not overwritten."),
    key_file: Path | None = KEY_FILE_OPTION,
    trusted_file: list[Path] = typer.Option([], "--trusted-file", metavar="FILE", help="Also redact this Trusted Internal IP List file: its blocks still hold the same (redacted) addresses."),
    keep_subjects: bool = typer.Option(False, "--keep-subjects", help="Keep subjects and attachment names (default: a keyed token of the same length)."),
    verify: bool = typer.Option(False, "--verify", help="Correlate original and copy under every profile and compare row by row; exit 1 on any difference."),
    password: str | None = PASSWORD_OPTION,
    max_member_size: str = MAX_MEMBER_OPTION,
    max_total_size: str = MAX_TOTAL_OPTION,
) -> None:
    """Write redacted copies of a case's logs that keep every verdict, count and link."""
    from .redact import Redactor
    from .redact_files import log_arguments, plan, redact_files
    from .redact_keys import load_key
    from .redact_verify import verify as run_verify
    from .trusted import TrustedList

    plan(paths, to, trusted_file, key_file)  # every input resolved, every target checked, before the key file is made
    if key_file is not None and (to.resolve() == key_file.resolve().parent or to.resolve() in key_file.resolve().parents):
        raise InputError(f"{key_file}: the key file may not be inside the --to folder (the key must never be shared)")
    key, origin = load_key(key_file)
    r = Redactor(key, keep_subjects=keep_subjects)
    progress = stderr_is_tty()
    report = redact_files(
        paths, to, r, trusted_file,
        on_file=(lambda p: say_reading("redacting", str(p.source))) if progress else None,
    )
    say(f"key: {clean_terminal(origin)}\n")
    for f in report.files:
        say(f"{clean_terminal(f.source)} -> {clean_terminal(f.target)}: {count(f.lines, 'line')}\n")
        if f.error:
            say(f"{clean_terminal(f.source)}: {clean_terminal(f.error)}\n")
    copied = {str(f.source) for f in report.files}
    for path, why in report.skipped:
        what = "copied, those lines redacted as free text" if path in copied else "not copied"
        say(f"{clean_terminal(path)}: {what}: {why}\n")
    if not verify:
        return
    orig = log_arguments(paths)
    red = [str(to)] + [f.target for f in report.files if f.kind == "syslog"]  # read by content: named, as given
    lists = [(f.source, f.target) for f in report.files if f.kind == "trusted"]
    trusted = None
    if lists:
        trusted = (
            TrustedList.combine(*(TrustedList.from_file(a) for a, _ in lists)),
            TrustedList.combine(*(TrustedList.from_file(b) for _, b in lists)),
        )
    if not orig:
        raise InputError("--verify: no log files among the inputs")
    result = run_verify(orig, red, r, trusted)
    for line in result.lines():
        typer.echo(clean_terminal(line))
    if not result.same:
        raise typer.Exit(ExitStatus.REJECTS)


@contextlib.contextmanager
def progress_bar() -> Iterator[Callable[[int, int, str], None] | None]:
    """A progress bar on stderr for big inputs, only when stderr is a terminal."""
    if not stderr_is_tty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    columns, fixed, verb = progress_columns(console.width)
    # the file name's tail in what is left of one line (a wrapped bar leaves a second line per refresh)
    room = max(1, console.width - fixed - cells(verb) - len(columns))
    with Progress(*columns, console=console, transient=True) as bar:
        # shown from the first bytes read (before them, only '0/? bytes' could be said)
        task = bar.add_task(f"{verb}log.imss", total=None, visible=False)

        from rich.markup import escape

        def update(done: int, total: int, name: str = "") -> None:
            # the file or bundle member being read: its tail, made inert (member names are archive content)
            shown = clean_terminal(name) if name else "log.imss"
            if cells(shown) > room:  # terminal cells: a CJK member name takes two a character
                shown = "…" + tail_cells(shown, room - 1)
            bar.update(task, completed=done, total=total or None, description=f"{verb}{escape(shown)}", visible=True)

        yield update


#: seconds of reading before the speed and the time left are shown (a first sample's rate means nothing)
SETTLE_SECONDS = 2.0


def progress_columns(width: int) -> tuple[list[Any], int, str]:
    """The progress bar's columns for a terminal ``width`` cells wide, the cells they take besides the
    description, and the description's verb. One line at any width from 20 on: speed and time left from 72
    columns, the bar from 48, the byte counts from 34, a percentage below; 'reading ' from 48."""
    from rich.progress import BarColumn, DownloadColumn, ProgressColumn, TaskProgressColumn, TimeRemainingColumn
    from rich import filesize
    from rich.progress import TransferSpeedColumn
    from rich.text import Text

    class Settled(ProgressColumn):
        """A column shown only once it means something: after :data:`SETTLE_SECONDS` of reading, with bytes
        read and a known total (before, a first sample's rate and time left are noise)."""

        def __init__(self, inner: ProgressColumn, cells: int) -> None:
            super().__init__()
            self.inner, self.cells = inner, cells

        def render(self, task: Any) -> Text:
            if task.total is None or not task.completed or (task.elapsed or 0.0) < SETTLE_SECONDS:
                return Text(" " * self.cells)
            text = self.inner.render(task)
            text.truncate(self.cells)
            return text

    class Bytes(DownloadColumn):
        """Bytes read of the total; without a total (a size not known: a gzip in a bundle, a gzip cut short), the
        bytes read alone, not 'N/? kB'."""

        def render(self, task: Any) -> Text:
            if task.total is None:
                return Text(filesize.decimal(int(task.completed)), style="progress.download")
            return super().render(task)

    description = "[progress.description]{task.description}"
    if width >= 72:
        return ([description, BarColumn(bar_width=10), Bytes(), Settled(TransferSpeedColumn(), 10),
                 Settled(TimeRemainingColumn(), 7)], 10 + 14 + 10 + 7, "reading ")
    if width >= 48:
        return [description, BarColumn(bar_width=10), Bytes()], 10 + 14, "reading "
    if width >= 34:
        return [description, Bytes()], 14, ""
    return [description, TaskProgressColumn()], 4, ""


def main() -> None:
    """Console-script entry point (see :mod:`imsvalog_launcher` for Ctrl-C during start-up)."""
    if sys.stdout is None:  # started with standard output closed (>&-): an output error, for every command
        with contextlib.suppress(Exception):
            sys.stderr.write("imsvalog: error: standard output is closed; give the output somewhere to go "
                             "(> FILE, a pipe, or -o FILE)\n")
        sys.exit(ExitStatus.ERROR)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    from .outputs import GuardedStderr

    guard = None
    if not isinstance(sys.stderr, GuardedStderr):
        guard = GuardedStderr(sys.stderr)
        sys.stderr = guard  # type: ignore[assignment]
    try:
        app()
    except SystemExit as done:
        # notes owed on stderr were lost (2>/dev/full): an output error, as with standard output, whatever the
        # command would have said (success, or 1: rejects under --strict, trace found nothing)
        if guard is not None and guard.lost and done.code in (None, 0, 1):
            sys.exit(ExitStatus.ERROR)
        raise
    except KeyboardInterrupt:  # outside a command (argument parsing, shutdown)
        sys.exit(interrupted())
    except BrokenPipeError:
        silence_stdout()
        sys.exit(ExitStatus.OK)
    except OSError as exc:
        if not _printing(exc):
            raise
        # --help or --version written to a full disk or a broken device (> /dev/full): one line, as commands say it
        silence_stdout()
        with contextlib.suppress(Exception):
            sys.stderr.write(f"imsvalog: error: standard output: cannot write: {exc.strerror or exc}\n")
        sys.exit(ExitStatus.ERROR)


def _printing(exc: OSError) -> bool:
    """Whether ``exc`` came from writing help or the version (click's ``echo``), outside any command's own
    output handling."""
    import traceback

    return any(frame.name == "echo" for frame in traceback.extract_tb(exc.__traceback__)[-2:])
