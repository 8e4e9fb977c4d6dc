"""Rendering apart from data: text table, JSON lines, JSON, CSV, Markdown.

Log lines carry attacker-controlled text (subjects, headers, addresses).  This
module is the one place that makes such text inert for each medium:

* terminal: every character of the Unicode categories Cc (controls: C0, DEL, C1,
  so every escape sequence), Cf (format: bidi overrides and marks, zero-width
  characters, the BOM), Zl and Zp (line and paragraph separators), Cn
  (unassigned) and undecodable bytes become visible escapes (``\\x1b``,
  ``\\u200b``, ``\\U000e0001`` above U+FFFF); rich markup in the text is never interpreted (cells are
  :class:`rich.text.Text`).
* CSV: the same, and a cell that starts with ``= + - @`` (or tab/CR) gets a
  leading ``'`` so spreadsheets do not run it as a formula.
* JSON: ``ensure_ascii`` output, so every control and non-ASCII character is a
  ``\\uXXXX`` escape; undecodable bytes become the text ``\\xNN``; a number that
  is not finite becomes ``null`` (standard JSON has no NaN or Infinity).
* Markdown: HTML-escaped, table and emphasis characters backslash-escaped.

>>> clean_terminal("\\x1b[31mred\\x1b[0m [bold]x[/bold]")
'\\\\x1b[31mred\\\\x1b[0m [bold]x[/bold]'
>>> csv_cell("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
"""

from __future__ import annotations

import contextlib
import csv
import html
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from datetime import datetime
from enum import Enum
from typing import IO, TYPE_CHECKING, Any

from .gc_pause import gc_paused
from .sources import KIND_NAMES

#: Unicode categories shown as escapes: controls, format characters (bidi, zero-width,
#: BOM), line and paragraph separators, unassigned code points, and surrogates (which
#: is how undecodable bytes are kept)
ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cn", "Cs"})
# candidates only (everything but printable ASCII); each is then judged by its category
_UNSAFE = re.compile("[^\x20-\x7e]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escape_char(m: re.Match[str]) -> str:
    c = m.group()
    if c.isprintable() or unicodedata.category(c) not in ESCAPED_CATEGORIES:
        return c  # letters, marks, symbols, spaces such as U+00A0, private use
    o = ord(c)
    if 0xDC80 <= o <= 0xDCFF:  # an undecodable byte kept by surrogateescape
        return f"\\x{o - 0xDC00:02x}"
    if c == "\t":
        return " "
    if o <= 0xFF:
        return f"\\x{o:02x}"
    if o <= 0xFFFF:
        return f"\\u{o:04x}"
    return f"\\U{o:08x}"  # never \\u plus a digit that reads as the next character


def clean_terminal(text: str) -> str:
    """Text safe to print on a terminal: nothing in it can move the cursor, recolour, re-title,
    reorder or hide text.

    >>> print(clean_terminal("a\\u200bb\\u061c\\ufeff\\u2028\\u2029\\u0378 caf\\xe9"))
    a\\u200bb\\u061c\\ufeff\\u2028\\u2029\\u0378 café
    """
    if text.isprintable():
        return text
    return _UNSAFE.sub(_escape_char, text)


_SURROGATE = re.compile("[\udc80-\udcff]")


def clean_bytes(text: str) -> str:
    """Undecodable bytes as ``\\xNN`` text (for JSON and CSV, which need valid Unicode)."""
    return _SURROGATE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)


#: the columns whose text is a block of lines (kept as line breaks inside the quoted CSV cell); a line break
#: anywhere else (a file or member name, a subject) is written as ``\\x0a`` like any other control character,
#: so ``grep`` or ``less`` never show a forged line
BLOCK_COLUMNS = frozenset({"explanation"})


def csv_cell(value: Any, block: bool = False) -> Any:
    """A value made inert for a spreadsheet cell; ``block``: its line breaks are kept (a multi-line text)."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = ";".join(str(v) for v in value)
    elif isinstance(value, datetime):
        return value.isoformat()
    elif isinstance(value, bool) or isinstance(value, (int, float)):
        return value
    text = clean_text_block(str(value)) if block else clean_terminal(str(value))
    if text.lstrip().startswith(_FORMULA_START):
        text = "'" + text
    return text


def markdown_cell(value: Any) -> str:
    """A value safe inside a Markdown table cell (no HTML, no table breaks, no emphasis)."""
    text = clean_terminal(plain(value))
    text = html.escape(text, quote=False)
    return re.sub(r"([\\`*_\[\]|#<>!~])", r"\\\1", text)


def html_text(value: Any) -> str:
    r"""A value as inert HTML text (notebooks' ``_repr_html_``): no tags, no entities, controls visible.

    >>> print(html_text('<img src=x onerror=alert(1)> "x" & \x1b[31m'))
    &lt;img src=x onerror=alert(1)&gt; &quot;x&quot; &amp; \x1b[31m
    """
    return html.escape(clean_terminal(plain(value)), quote=True)


def html_block(text: str) -> str:
    """Multi-line text as inert HTML text, line breaks kept (for ``<pre>``)."""
    return html.escape(clean_text_block(text), quote=True)


def plot_label(value: Any) -> str:
    r"""A value safe as matplotlib text: controls visible, ``$`` not read as mathtext, and a leading
    ``_`` kept visible (matplotlib leaves a label that starts with ``_`` out of the legend).

    >>> print(plot_label("$x^2$ \u202e"))
    \$x^2\$ \u202e
    >>> plot_label("_hidden")
    ' _hidden'
    """
    text = clean_terminal(plain(value)).replace("$", "\\$")
    return " " + text if text.startswith("_") else text


def plain(value: Any) -> str:
    """A value as short plain text (lists joined, times ISO 8601, None empty)."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(plain(v) for v in value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "to_dict"):
        return _json_safe(value.to_dict())
    return str(value)


def _json_safe(value: Any) -> Any:
    if isinstance(value, str):
        return clean_bytes(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def clean_text_block(text: str) -> str:
    """Like :func:`clean_terminal`, keeping line breaks (for multi-line explanations)."""
    return "\n".join(clean_terminal(line) for line in text.split("\n"))


def _dumps(obj: Any, indent: int | None = None) -> str:
    """``obj`` as ASCII-only JSON, as if every string had passed :func:`clean_bytes` and every
    non-finite float were null (:func:`_json_safe`).

    Most values need neither: they are encoded at once, and only when the encoded text shows
    a surrogate escape (an undecodable byte; ASCII-only output escapes every non-ASCII
    character) or a non-finite float refuses to encode is the value walked and cleaned.
    """
    try:
        text = json.dumps(obj, default=json_default, ensure_ascii=True, allow_nan=False, indent=indent)
    except ValueError:  # a non-finite float (null after cleaning)
        text = None
    if text is None or "\\ud" in text:
        text = json.dumps(_json_safe(obj), default=json_default, ensure_ascii=True, allow_nan=False, indent=indent)
    return text


def json_document(obj: Any) -> str:
    """One indented JSON document (ASCII only)."""
    return _dumps(obj, indent=2) + "\n"


def json_line(obj: dict[str, Any]) -> str:
    """One object as one line of JSON (ASCII only, so nothing in it is a control sequence)."""
    return _dumps(obj)


def write_jsonl(rows: Iterable[dict[str, Any]], out: IO[str]) -> int:
    n = 0
    for row in rows:
        out.write(json_line(row) + "\n")
        n += 1
    return n


def write_json(rows: Iterable[dict[str, Any]], out: IO[str], extra: dict[str, Any] | None = None) -> int:
    """One indented JSON document: the list of ``rows``, or ``extra``'s keys followed by ``"rows"``.

    Written row by row, byte for byte as ``json.dumps(..., indent=2)`` would write the whole,
    so a big correlation's rows are never all held at once.
    """
    if extra is None:
        head, tail, pad, close = "[", "]", "  ", "\n"
    else:
        doc = _dumps({**extra, "rows": []}, indent=2)
        if "rows" in extra or not doc.endswith('"rows": []\n}'):  # not the layout assumed below
            rows = list(rows)
            out.write(_dumps({**extra, "rows": rows}, indent=2) + "\n")
            return len(rows)
        head, tail, pad, close = doc[: -len("]\n}")], "]\n}", "    ", "\n  "
    out.write(head)
    n = 0
    for row in rows:
        out.write(("\n" if n == 0 else ",\n") + pad + _dumps(row, indent=2).replace("\n", "\n" + pad))
        n += 1
    out.write((close if n else "") + tail + "\n")
    return n


def write_csv(rows: Iterable[dict[str, Any]], out: IO[str], columns: Sequence[str]) -> int:
    """CSV with a fixed header; keys outside ``columns`` are dropped, missing ones empty."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(columns)
    n = 0
    for row in rows:
        w.writerow([csv_cell(_flatten(row.get(c)), c in BLOCK_COLUMNS) for c in columns])
        n += 1
    return n


def _flatten(value: Any) -> Any:
    if isinstance(value, dict):
        return _dumps(value)
    if isinstance(value, (list, tuple)) and any(isinstance(v, dict) for v in value):
        return _dumps(list(value))
    return value


def write_markdown(rows: Iterable[dict[str, Any]], out: IO[str], columns: Sequence[str]) -> int:
    out.write("| " + " | ".join(columns) + " |\n")
    out.write("|" + "---|" * len(columns) + "\n")
    n = 0
    for row in rows:
        out.write("| " + " | ".join(markdown_cell(row.get(c)) for c in columns) + " |\n")
        n += 1
    return n


if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


def _console_class() -> type[Console]:
    """rich's Console turns a closed pipe into ``SystemExit(1)``; ours lets the caller decide (exit 0).

    Made on first use: rich is imported only by the outputs that draw with it.
    """
    global _CONSOLE
    if _CONSOLE is None:
        from rich.console import Console

        class _Console(Console):
            def on_broken_pipe(self) -> None:
                self.quiet = True
                raise BrokenPipeError(32, "Broken pipe")

        _CONSOLE = _Console
    return _CONSOLE


_CONSOLE: type[Console] | None = None


def console(out: IO[str] | None = None, *, width: int | None = None) -> Console:
    """A console that never interprets markup, emoji codes or highlighting in data.

    Written to a file or a pipe, tables get a wide page instead of 80 columns.
    """
    if width is None and out is not None and not (hasattr(out, "isatty") and out.isatty()):
        width = 320
    return _console_class()(
        file=out,
        markup=False,
        emoji=False,
        highlight=False,
        width=width,
        soft_wrap=False,
    )


def rich_table(
    rows: Iterable[dict[str, Any]], columns: Sequence[tuple[str, str]], title: str | None = None,
    no_wrap: Sequence[str] = (),
) -> Table:
    """A rich Table whose cells are plain Text: nothing in the data is read as markup."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, show_lines=False, header_style="bold", expand=False)
    for key, label in columns:
        table.add_column(label, overflow="fold", no_wrap=key in no_wrap)
    for row in rows:
        table.add_row(*(Text(clean_terminal(plain(row.get(key)))) for key, _ in columns))
    return table


def cells(text: str) -> int:
    """How many terminal cells ``text`` (already cleaned: no control characters) takes: wide CJK and emoji 2,
    combining marks 0 (wcwidth; plain ASCII is counted without it, so the common case imports nothing)."""
    if text.isascii():
        return len(text)
    import wcwidth

    w = wcwidth.width(text)
    return w if w >= 0 else len(text)


def head_cells(text: str, room: int) -> str:
    """The longest start of ``text`` that fits ``room`` cells (whole characters with their combining marks)."""
    if text.isascii():
        return text[:max(room, 0)]
    import wcwidth

    out, used = [], 0
    for g in wcwidth.iter_graphemes(text):
        w = cells(g)
        if used + w > room:
            break
        out.append(g)
        used += w
    return "".join(out)


def tail_cells(text: str, room: int) -> str:
    """The longest end of ``text`` that fits ``room`` cells."""
    if text.isascii():
        return text[len(text) - room:] if room > 0 else ""
    import wcwidth

    out: list[str] = []
    used = 0
    for g in wcwidth.iter_graphemes_reverse(text):
        w = cells(g)
        if used + w > room:
            break
        out.append(g)
        used += w
    return "".join(reversed(out))


def ljust_cells(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` cells."""
    return text + " " * max(0, width - cells(text))


def text_lines(
    rows: Iterable[dict[str, Any]], columns: Sequence[tuple[str, str]], out: IO[str], width: int | None = None
) -> int:
    """A streaming plain-text table: one line per row, fields separated by two spaces.

    Used where a rich Table would have to hold every row (``parse`` on a big log).  With a
    ``width`` (a terminal's), the last column is wrapped to fit, never cut (:func:`wrap_row`).
    """
    out.write(wrap_row("  ".join(label for _, label in columns[:-1]) + "  ", columns[-1][1], width, 4) + "\n")
    n = 0
    for row in rows:
        fixed = "".join(clean_terminal(plain(row.get(key))) + "  " for key, _ in columns[:-1])
        out.write(wrap_row(fixed, clean_terminal(plain(row.get(columns[-1][0]))), width, 4) + "\n")
        n += 1
    return n


#: the least room beside the fixed columns in which a wrapped last column is still readable
MIN_WRAP_ROOM = 30


def _wrap(text: str, width: int, first: str = "", then: str = "", *, paths: bool = False) -> list[str]:
    """``text`` wrapped to ``width`` terminal cells (wide characters count 2), long words broken, nothing dropped
    (``first``/``then``: the first line's and the other lines' indents, counted in the width). ``paths``: a word
    too long for a line that holds ``/`` is broken after a ``/`` (a file path stays readable), mid-word only
    where one part between slashes is longer than a line."""
    import textwrap

    if text.isascii():
        base: type[textwrap.TextWrapper] = textwrap.TextWrapper
    else:
        import wcwidth

        base = wcwidth.SequenceTextWrapper
    wrapper = (_path_wrapper(base) if paths else base)(
        max(width, 8), break_on_hyphens=False, replace_whitespace=False, initial_indent=first, subsequent_indent=then)
    return wrapper.wrap(text) or [first]


@lru_cache(maxsize=None)
def _path_wrapper(base: type) -> type:
    """``base`` (a :class:`textwrap.TextWrapper`) breaking long words after a ``/`` where it can."""

    class PathWrapper(base):  # type: ignore[misc,valid-type]
        def _handle_long_word(self, reversed_chunks: list[str], cur_line: list[str], cur_len: int, width: int) -> None:
            chunk, had = reversed_chunks[-1], len(cur_line)
            super()._handle_long_word(reversed_chunks, cur_line, cur_len, width)
            if "/" not in chunk or len(cur_line) == had:
                return
            piece = cur_line[-1]
            if piece == chunk or piece.endswith("/"):
                return
            cut = piece.rfind("/")
            if cut >= 0:  # end the line after the last slash that fits
                cur_line[-1] = piece[:cut + 1]
                reversed_chunks[-1] = chunk[cut + 1:]
            elif had:  # no slash fits after the words already on the line: start the word on the next line
                cur_line.pop()
                reversed_chunks[-1] = chunk

    return PathWrapper


_ITEM = re.compile(r" *(?:\d+\. )?")


def wrap_prose(text: str, width: int | None) -> str:
    """Prose (notes, an explanation) folded to ``width`` terminal cells, line by line, never cut: a line's
    continuation is indented under its text (past its own indent and an item number such as ``1. ``, else by
    two), so each line of the original stays recognisable. No width: unchanged (piped, one line each, for grep).

    >>> print(wrap_prose("trace: log.imss holds no scan of this message (not by its internal ID)", 30))
    trace: log.imss holds no scan
      of this message (not by its
      internal ID)
    >>> print(wrap_prose("  1. by host.example (Postfix) id ABC; Tue, 27 Apr 2019", 30))
      1. by host.example (Postfix)
         id ABC; Tue, 27 Apr 2019
    """
    if width is None:
        return text
    out: list[str] = []
    for line in text.split("\n"):
        if cells(line) <= width:
            out.append(line)
            continue
        lead = _ITEM.match(line).end()  # type: ignore[union-attr]
        indent = lead if lead > len(line) - len(line.lstrip(" ")) else lead + 2
        if indent > width // 2:  # deep indents on a narrow terminal: the room goes to the text
            lead, indent = 0, 2
        out += _wrap(line[lead:], width, line[:lead], " " * indent, paths=True)
    return "\n".join(out)


def wrap_row(fixed: str, last: str, width: int | None, indent: int) -> str:
    """One table row, its last column (log text) wrapped to ``width`` terminal cells and never cut.

    No width (piped, no ``COLUMNS``), or the row fits: one line.  Room enough beside the fixed
    columns (and for its longest word): the text wraps in its column.  Else the fixed columns make
    the first line and the text follows on lines indented by ``indent``.

    >>> print(wrap_row("09:15:02  scan  ", "[4242:1] Info: Accept connection from client [127.0.0.1]", 40, 10))
    09:15:02  scan
              [4242:1] Info: Accept connection
              from client [127.0.0.1]
    >>> wrap_row("09:15:02  scan  ", "short", 40, 10)
    '09:15:02  scan  short'
    >>> print(wrap_row("09:15:02  scan  ", "Subject: 請求書の確認をお願いします 請求書の確認をお願いします", 50, 2))
    09:15:02  scan  Subject:
                    請求書の確認をお願いします
                    請求書の確認をお願いします
    """
    if width is None or cells(fixed) + cells(last) <= width:
        return fixed + last
    room = width - cells(fixed)
    longest = max((cells(w) for w in last.split()), default=0)
    if room >= MIN_WRAP_ROOM and (longest <= room or width - indent <= room):  # a word wider than the column: below
        parts = _wrap(last, room)
        return "\n".join([fixed + parts[0], *(" " * cells(fixed) + p for p in parts[1:])])
    head = fixed.rstrip()
    first = _wrap(head, width) if cells(head) > width else [head]
    return "\n".join([*first, *(" " * indent + p for p in _wrap(last, width - indent))])


# ---------------------------------------------------------------------------
# The correlation report
# ---------------------------------------------------------------------------

CORRELATE_COLUMNS: list[tuple[str, str]] = [
    ("time", "time"),
    ("thread", "thread"),
    ("internal_id", "internal ID"),
    ("who", "sender → recipients"),
    ("rule", "rule"),
    ("action", "action"),
    ("logged", "logged"),
    ("recomputed", "recomputed"),
    ("agrees", "agrees"),
    ("link", "link"),
]


def _table_cells(d: dict[str, Any]) -> dict[str, Any]:
    logged = d["logged"]
    rec = d["recomputed"]
    link = d["link"] or d["link_problem"]
    status = d["status"]
    if status == "linked":
        link_text = f"{', '.join(link['basis'])} ({link['confidence']})"
    elif status == "ambiguous":
        link_text = "ambiguous: " + ", ".join(link["candidates"])
    else:
        link_text = d.get("missing") or {"trace-without-event": "no policy event", "event-without-trace": "no trace"}[status]
    agrees = {True: "yes", False: "NO", None: "-"}[d["agrees"]]
    return {
        "appliance": d.get("appliance") or "-",
        "time": d["time"].isoformat(sep=" ") if isinstance(d["time"], datetime) else d["time"],
        "thread": d["thread"] or "-",
        "internal_id": d["internal_id"] or "-",
        "who": f"{d['sender'] or '-'} → {', '.join(d['recipients']) or '-'}" if (d["sender"] or d["recipients"]) else "-",
        "rule": d["rule"] or "-",
        "action": ", ".join(action_words(d)) or "-",
        "logged": f"{logged['ip_count']}: {', '.join(logged['ips'])}" if logged and logged["ips"] is not None else "-",
        "recomputed": f"{len(rec['ips'])}: {', '.join(rec['ips'])}" if rec and rec["ips"] is not None else "-",
        "agrees": agrees,
        "link": link_text,
    }


def scanner_action_word(name: str) -> str:
    """A scanner's ``Final action`` name in the policy events' words (one vocabulary for users).

    >>> [scanner_action_word(a) for a in ("QuarantineAction", "DeliverAction", "TagSubjectAction", "InsertXHeaderAction")]
    ['quarantine', 'deliver', 'tag-subject', 'insert-x-header']
    """
    from .correlation.link import FINAL_ACTIONS

    if name in FINAL_ACTIONS:
        return FINAL_ACTIONS[name]
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name.removesuffix("Action")).lower() or name


def action_words(d: dict[str, Any]) -> list[str]:
    """What IMSVA did, in the policy events' words: the event's actions, else the scanner's final actions."""
    return list(d.get("actions") or []) or [scanner_action_word(a) for a in d.get("final_actions") or []]


def count(n: int, one: str, many: str | None = None) -> str:
    """``1 scan``, ``2 scans``.

    >>> count(1, "scan"), count(2, "policy event"), count(0, "address", "addresses")
    ('1 scan', '2 policy events', '0 addresses')
    """
    return f"{n} {one if n == 1 else (many or one + 's')}"


def summary_text(s: Any) -> str:
    from .correlation.compare import OWN_KINDS

    files = ", ".join(count(n, KIND_NAMES.get(k, k) + " file") for k, n in s.files.items())
    return (
        f"{count(s.scans, 'scan')} in {count(s.lines, 'log.imss line')} (read from {files}); "
        f"{count(s.spoof_traces, 'AntiSpoofFilter trace')}; "
        f"{count(s.policy_events, 'policy event')} ({s.spoof_events} spoof); {s.linked} linked, {s.ambiguous} ambiguous"
        + (f" (and {count(s.ambiguous_events, 'ambiguous policy event')})" if getattr(s, "ambiguous_events", 0) else "")
        + ", "
        f"{count(s.traces_without_event, 'trace')} without policy event, "
        f"{count(s.events_without_trace, 'policy event')} without trace; "
        f"{count(s.disagreements, 'disagreement')} with the model"
        + (" or within IMSVA's own lines" if any(s.findings.get(k) for k in OWN_KINDS) else "")
        + (" (findings by kind: " + ", ".join(f"{kind} {n}" for kind, n in s.findings.items()) + ")" if s.findings else "")
        + f"; {count(s.rejects, 'rejected line')}."
        + "".join(f" Note: {m}." for m in (*getattr(s, "missing", []), *getattr(s, "rotation", [])))
    )


def what_if_lines(changes: list[Any]) -> list[str]:
    if not changes:
        return ["What-if: no verdict changes."]
    said = {"logged": "IMSVA's logged list", "recomputed": "recomputed list"}
    return ["What-if: verdicts that change:"] + [
        f"  {c.name}: {c.before} -> {c.after} ({said.get(c.basis, c.basis)}: {c.why})" for c in changes
    ]


def missing_lines(result: Any) -> list[str]:
    if result.trusted is None:
        return []
    out = [f"  {c.text}" for c in result.check_trusted()]
    if out:
        out.insert(0, "The given trusted list against IMSVA's own verdicts:")
    missing = result.missing_trusted()
    left_out = doubted_outside_lines(result)
    if not missing:
        return out + ["No address outside the trusted list is in a scan IMSVA fired on (IMSVA's logged lists, else "
                      "recomputed)."] + left_out
    out.append("Addresses outside the trusted list in scans IMSVA fired on (candidates for the list):")
    for m in missing:
        basis = "from IMSVA's logged list" if m.logged == m.count else (
            "recomputed: IMSVA logged no list" if not m.logged else f"{m.logged} from IMSVA's logged lists, the rest recomputed"
        )
        out.append(f"  {m.address}: {count(m.count, 'message')} ({basis})" + (f"; warning: {m.warning}" if m.warning else ""))
    return out + left_out


def doubted_outside_lines(result: Any) -> list[str]:
    """The scans the candidates leave out (IMSVA's verdict in doubt) that have addresses outside the given list."""
    from .correlation.compare import doubted_outside_of

    doubted = doubted_outside_of(result.rows, result.trusted)
    if not doubted:
        return []
    one = len(doubted) == 1
    return [
        f"  left out: {count(len(doubted), 'scan')} whose 'Not triggered' verdict the spoof policy event linked to "
        f"{'it' if one else 'each'} contradicts (IMSVA's own lines disagree: see the findings), so whether IMSVA fired "
        f"on {'its' if one else 'their'} addresses outside the list is not known: "
        + "; ".join(f"{d.scan}, outside the list {', '.join(d.addresses)}" for d in doubted)
    ]


def calibration_lines(result: Any) -> list[str]:
    """The --profile auto scoring table: variant, traces reproduced / traces with a logged list; the choice."""
    cal = getattr(result, "calibration", None)
    if cal is None:
        return []
    n = cal.traces
    k = len(cal.unscored)
    unscored = (f" (and {k} more whose Received headers are not all in the log, so no variant can be scored on "
                f"{'it' if k == 1 else 'them'}: {', '.join(cal.unscored)})") if k else ""
    out = [f"Calibration (--profile auto): {count(n, 'trace')} {'carries' if n == 1 else 'carry'} IMSVA's 'Get N IP "
           f"address' line{unscored}; each variant of the model (switches changed from the documented one) and the "
           "traces whose list it reproduces:"]
    for sc in cal.scores:
        mark = "   <- chosen" if sc is cal.chosen else ""
        out.append(f"  {sc.reproduced:>4}/{sc.traces:<4} {', '.join(sc.changes) or 'documented'}{mark}")
    tie = f" ({count(len(cal.tied), 'other variant')} reproduce as many; the one with the fewest changes is chosen)" if cal.tied else ""
    out.append(f"Chosen: {cal.chosen.profile.name}{tie}.")
    if cal.chosen.failing:
        out.append("Traces the chosen variant still does not reproduce:")
        out += [f"  {name}: IMSVA {', '.join(lg) or 'none'}; model {', '.join(md) or 'none'}" for name, lg, md in cal.chosen.failing]
    elif n:
        out.append("The chosen variant reproduces every logged list.")
    if cal.weak:
        out.append(f"Warning: the calibration is weak: only {count(n, 'trace')} with IMSVA's logged list (fewer than "
                   f"{cal.min_traces}); more of the customer's logs would settle it.")
    return out


#: at most this many scans are named as the evidence of one address in the trusted-list section
EVIDENCE_SHOWN = 3


def _evidence(ev: Sequence[str], said: str) -> str:
    """``2 scans not fired: A; B``; past :data:`EVIDENCE_SHOWN`, ``5 scans not fired, the first 3: A; B; C``
    (the count and the scans named always agree)."""
    head = f"{count(len(ev), 'scan')} {said}"
    if len(ev) <= EVIDENCE_SHOWN:
        return f"{head}: {'; '.join(ev)}"
    return f"{head}, the first {EVIDENCE_SHOWN}: {'; '.join(ev[:EVIDENCE_SHOWN])}"


def inferred_lines(result: Any) -> list[str]:
    inferred = result.inferred_trusted()
    doubted = result.doubted_verdicts()
    if not inferred and not doubted:
        return []
    out = ["What IMSVA's own verdicts say about its Trusted Internal IP List:"]
    for i in inferred:
        if i.status == "trusted":
            out.append(f"  {i.address}: in the list ({_evidence(i.trusted_evidence, 'not fired')})")
        elif i.status == "untrusted":
            out.append(f"  {i.address}: NOT in the list ({_evidence(i.untrusted_evidence, 'fired on it')})")
        else:
            out.append(
                f"  {i.address}: CONFLICT: trusted in {_evidence(i.trusted_evidence, 'not fired')}; untrusted in "
                f"{_evidence(i.untrusted_evidence, 'fired on it')} (the list changed, or IMSVA's check is not what is "
                "documented)"
            )
    if doubted:
        one = len(doubted) == 1
        out.append(
            f"  left out: {count(len(doubted), 'scan')} whose 'Not triggered' verdict the spoof policy event linked to "
            f"{'it' if one else 'each'} contradicts (IMSVA's own lines disagree: see the findings), so {'its' if one else 'their'} "
            "counted addresses are not taken as in the list: "
            + "; ".join(f"{d.scan}, counted {', '.join(d.addresses) or 'none'}" for d in doubted)
        )
    return out


def render_correlation(
    result: Any, rows: list[Any], fmt: str, out: IO[str], explain: bool = False, what_if: list[Any] | None = None,
    wide: bool = False,
) -> None:
    """Write a correlation in one of the formats: table, jsonl, json, csv, markdown.

    The what-if changes and the untrusted addresses appear in the table, Markdown and
    JSON (``what_if``, ``untrusted_addresses``) outputs; jsonl and csv carry rows only.
    """
    # each row's dicts and strings hold no cycles, and a collection would walk every row again; but json's
    # indented (pure-Python) encoder leaves a cycle of closures per call, so the collector stays on for json
    with gc_paused() if fmt != "json" else contextlib.nullcontext():
        _render_correlation(result, rows, fmt, out, explain, what_if, wide)


def _render_correlation(
    result: Any, rows: list[Any], fmt: str, out: IO[str], explain: bool, what_if: list[Any] | None, wide: bool,
) -> None:
    from .sentence import row_sentence

    if fmt == "csv":  # flat rows; the nested dicts below would be built for nothing
        from .correlation import FLAT_COLUMNS

        write_csv(({"summary": row_sentence(d), **r.flat(d)} for r, d in ((r, r.to_dict()) for r in rows)), out,
                  ["summary", *FLAT_COLUMNS])
        return
    if fmt == "jsonl":  # one row at a time: a big correlation's dicts are never all held at once
        write_jsonl(({"summary": row_sentence(d), **d} for d in (r.to_dict() for r in rows)), out)
        return
    if fmt == "json":  # row by row as well: only the document's head is built first
        extra: dict[str, Any] = {"summary": result.summary.to_dict()}
        if result.trusted is not None:
            extra["untrusted_addresses"] = [m.__dict__ for m in result.missing_trusted()]
            from .correlation.compare import doubted_outside_of

            extra["untrusted_addresses_left_out"] = [d.to_dict() for d in doubted_outside_of(result.rows, result.trusted)]
            extra["trusted_list_check"] = [c.to_dict() for c in result.check_trusted()]
        extra["inferred_trusted_list"] = [i.to_dict() for i in result.inferred_trusted()]
        extra["inferred_trusted_left_out"] = [d.to_dict() for d in result.doubted_verdicts()]
        if getattr(result, "calibration", None) is not None:
            extra["calibration"] = result.calibration.to_dict()
        if what_if is not None:
            extra["what_if"] = [c.__dict__ for c in what_if]
        write_json(({"summary": row_sentence(d), **d} for d in (r.to_dict() for r in rows)), out, extra=extra)
        return
    # the tables need every row before the first line (column widths, short IDs): each row's cells come from
    # its dict without the explanation and sources (the bulk of it); --explain builds each row's in full in turn
    dicts = [r.to_dict(explanation=False) for r in rows]
    # several appliances (their threads may collide): the table names each row's appliance first
    columns = ([("appliance", "appliance")] if len({d.get("appliance") for d in dicts}) > 1 else []) + CORRELATE_COLUMNS
    notes = (
        calibration_lines(result) + inferred_lines(result) + missing_lines(result)
        + (what_if_lines(what_if) if what_if is not None else [])
    )

    def explained() -> Iterator[dict[str, Any]]:
        for r in rows:
            d = r.to_dict()
            yield {"summary": row_sentence(d), **d}

    if fmt == "markdown":
        cells = [_table_cells(d) for d in dicts]
        if cells:
            write_markdown(cells, out, [k for k, _ in columns])
        else:
            out.write("No rows match.\n")
        out.write("\n" + markdown_cell(summary_text(result.summary)) + "\n")
        for line in notes:
            out.write("\n" + markdown_cell(line) + "  ")
        out.write("\n")
        if explain:
            for i, d in enumerate(explained(), 1):
                out.write(f"\n### {i}. {markdown_cell(d['internal_id'] or d['thread'] or '')}\n\n")
                for line in [d["summary"].replace("\n", "\\x0a"), *d["explanation"].split("\n")]:
                    out.write(markdown_cell(line) + "  \n")
    else:
        from rich.text import Text

        page = table_width(out)
        # --wide: the table as wide as it needs (up to 320 cells, as when piped), also on a terminal, where a
        # narrow console would fold every cell into a column of two letters; the prose under it is still folded
        fit = max(page or 0, 320) if wide else page
        con = console(out, width=fit)
        # paragraphs are folded to a terminal's width; piped, they stay one line each (grep-able)
        wrap = not (page is not None and hasattr(out, "isatty") and out.isatty())
        if wide and dicts:
            table = rich_table((_table_cells(d) for d in dicts), columns, no_wrap=("time", "agrees"))
            con.print(table)
        elif dicts:
            caption, *table_lines = compact_table(dicts, fit)
            con.print(Text(caption), soft_wrap=wrap)
            for line in table_lines:
                con.print(Text(line), soft_wrap=True)  # already fitted: never folded
        else:
            con.print(Text("no rows match"), soft_wrap=True)
        folded = None if wrap else page  # a terminal's width: prose folded line by line, never cut
        con.print(Text(wrap_prose(clean_terminal(summary_text(result.summary)), folded)), soft_wrap=True)
        for line in notes:
            con.print(Text(wrap_prose(clean_terminal(line), folded)), soft_wrap=True)
        disagreements = [d for d in dicts if d["agrees"] is False]
        for d in disagreements:
            said = clean_terminal(f"{d['internal_id'] or d['thread']}: " + "; ".join(f["text"] for f in d["findings"]))
            con.print(Text(wrap_prose("DISAGREEMENT " + said, folded), style="bold red"), soft_wrap=True)
        if explain:
            for i, d in enumerate(explained(), 1):
                head = clean_terminal(f"{d['time'].isoformat(sep=' ')}  {d['internal_id'] or d['thread']}")
                con.print(Text(f"\n── {i}. {head} ──", style="bold"), soft_wrap=True)
                # on a terminal folded to its width line by line, never cut, each continuation under its line's
                # text; piped, one line each (grep-able)
                text = clean_terminal(d["summary"]) + "\n" + clean_text_block(d["explanation"])
                con.print(Text(wrap_prose(text, folded)), soft_wrap=True)


# ---------------------------------------------------------------------------
# trace: one message's timeline
# ---------------------------------------------------------------------------

STAGE_NAMES = {
    "postfix-in": "Postfix in",
    "scan": "scan",
    "policy": "policy event",
    "tracking": "msgtra",
    "postfix-out": "Postfix out",
}
_OWN_TIME = re.compile(
    r"^(?:\d{4}/\d{2}/\d{2}[ \t]+\d{2}:\d{2}:\d{2}[ \t]+GMT[+-]\d{1,2}:?\d{2}[ \t]*"  # log.imss, polevt
    r"|[A-Z][a-z]{2}[ \t]+\d{1,2}[ \t]+\d{2}:\d{2}:\d{2}[ \t]+"  # classic syslog
    r"|\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:\d{2})[ \t]+)"  # RFC 3339
)


def _zone_label(t: datetime) -> str:
    off = t.utcoffset()
    if off is None:
        return "no zone"
    minutes = int(off.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


#: the folders every CDT bundle has between an appliance and its log files
_LOG_FOLDERS = re.compile(r"(?<=[/!])IMSVA/LogFile/Event\d+/", re.IGNORECASE)


def _where(file: str, line: int, width: int | None = None) -> str:
    """``file:line`` (a bundle member as ``BUNDLE!member:line``), at most ``width`` wide.

    Too wide: the bundle's ``IMSVA/LogFile/EventN/`` becomes ``…/`` (bundle, appliance folder,
    file name and line stay), then the start of the path is dropped (``…`` + its end).

    >>> member = "/cases/CDT-20240312-101500.zip!imsva02/IMSVA/LogFile/Event3/polevt.imss.20240312.0001"
    >>> _where(member, 7, 68), _where(member, 7, 39)
    ('/cases/CDT-20240312-101500.zip!imsva02/…/polevt.imss.20240312.0001:7', '…!imsva02/…/polevt.imss.20240312.0001:7')
    """
    full = f"{file}:{line}"
    if width is None or len(full) <= width:
        return full
    full = _LOG_FOLDERS.sub("…/", full, count=1)
    return full if len(full) <= width else "…" + full[len(full) - width + 1:]


def _trace_body(text: str) -> str:
    """A timeline line without its own timestamp (the time column shows it); fields apart by ' | '."""
    body = _OWN_TIME.sub("", text, count=1)
    return body.replace("\t", " | ") if "\t" in body else body


def render_trace(trace: Any, fmt: str, out: IO[str]) -> None:
    """The timeline of :func:`imsvalog.timeline.trace` as table, jsonl, json or markdown.

    json and jsonl carry the rejects too (``parse --rejects``'s rows: ``kind`` ``reject``, ``file``, ``line``,
    ``log_kind``, ``reason``, ``raw``): a reader can tell a trace of a partly unreadable log from a whole one.
    """
    from .records import to_row

    if fmt == "json":
        out.write(json_document({**trace.to_dict(), "rejects": [to_row(r) for r in trace.rejects]}))
        return
    if fmt == "jsonl":  # the lines, then the rejects (rows with ``kind`` ``reject``; a line's row has none)
        for ln in trace.lines:
            out.write(json_line(ln.to_dict()) + "\n")
        for r in trace.rejects:
            out.write(json_line(to_row(r)) + "\n")
        return
    if fmt == "markdown":
        _trace_markdown(trace, out)
        return
    _trace_table(trace, out)


def _trace_heading(trace: Any) -> list[str]:
    head = []
    if trace.candidates:
        head.append(f"{count(len(trace.candidates), 'message')} from or to {trace.query}:")
        for c in trace.candidates:
            when = c.time.isoformat(sep=" ") if c.time else "?"
            rc = ", ".join(c.recipients)
            head.append(f"  {when}  {c.internal_id or c.queue_id or '?'}  {c.sender or '<>'} -> {rc}  {c.subject or ''}".rstrip())
    ids = [*trace.internal_ids, *(f"<{m}>" for m in trace.message_ids)]
    if ids:
        head.append("Message " + "  ".join(ids))
    if trace.queue_ids:
        head.append("Postfix queue IDs " + ", ".join(trace.queue_ids))
    per = ", ".join(f"{STAGE_NAMES[s]} {n}" for s, n in trace.stages.items())
    head.append(f"{count(len(trace.lines), 'line')}: {per}")
    return head


def _trace_table(trace: Any, out: IO[str]) -> None:
    fit = table_width(out)  # a terminal's width (or COLUMNS): the log text wraps, never cut; piped: one line each
    lines = [wrap_row("", clean_terminal(h), fit, 2) for h in _trace_heading(trace)]
    times = [ln.time for ln in trace.lines if ln.time is not None]
    dates = {(t.date(), _zone_label(t)) for t in times}
    one_day = len(dates) == 1
    if one_day:
        d, z = next(iter(dates))
        lines.append(f"Times on {d.isoformat()}, {z}.")
    # the whole provenance, its middle dropped where the time and stage columns leave too little room
    room = None if fit is None else max(fit - (8 if one_day else 25) - 2 - 12 - 2, 20)
    wheres = [clean_terminal(_where(ln.file, ln.line, room)) for ln in trace.lines]
    width = max(map(cells, wheres), default=10)
    link = None
    for ln, shown in zip(trace.lines, wheres, strict=True):
        if (ln.stage, ln.link) != link:
            link = (ln.stage, ln.link)
            how = "" if ln.link.startswith("paired by ") else "via "  # correlate's pairing says its own verb
            lines.append(wrap_row("", f"-- {clean_terminal(STAGE_NAMES[ln.stage])} {how}{clean_terminal(ln.link)}", fit, 3))
        if ln.time is None:
            when = "?".ljust(8 if one_day else 25)
        else:
            when = ln.time.strftime("%H:%M:%S") if one_day else ln.time.isoformat(sep=" ")
        where = ljust_cells(shown, width)
        lines.append(wrap_row(f"{when}  {STAGE_NAMES[ln.stage]:<12}  {where}  ", clean_terminal(_trace_body(ln.text)), fit,
                              len(when) + 2 if one_day else 4))
    out.write("\n".join(lines) + "\n")


def _trace_markdown(trace: Any, out: IO[str]) -> None:
    for h in _trace_heading(trace):
        out.write(markdown_cell(h) + "  \n")
    out.write("\n| time | stage | where | link | line |\n|---|---|---|---|---|\n")
    for ln in trace.lines:
        cells = [ln.time.isoformat(sep=" ") if ln.time else "", STAGE_NAMES[ln.stage], _where(ln.file, ln.line),
                 ln.link, _trace_body(ln.text)]
        out.write("| " + " | ".join(markdown_cell(c) for c in cells) + " |\n")


def write_raw_lines(trace: Any, out: IO[bytes], terminal: bool) -> None:
    """``file:line:`` and the line's exact bytes, in time order (escaped only on a terminal)."""
    for ln in trace.lines:
        head = f"{ln.file}:{ln.line}:".encode("utf-8", "surrogateescape")
        body = ln.raw_bytes
        if terminal:
            head = clean_terminal(head.decode("utf-8", "surrogateescape")).encode()
            body = clean_terminal(ln.text).encode("utf-8", "backslashreplace")
        out.write(head + body + b"\n")


# ---------------------------------------------------------------------------
# correlate: the default table, one line per row, as wide as the terminal
# ---------------------------------------------------------------------------

_BASIS_SHORT = {"internal_id": "ID", "message_id": "MsgID", "queue_id": "queue", "time": "time"}
#: the narrowest the sender → recipient column gets before the table is allowed to be wider than asked
_MIN_WHO = 12


def unique_prefixes(ids: Sequence[str], shortest: int = 8) -> dict[str, str]:
    """The shortest prefix (at least ``shortest`` characters) that tells each ID apart from the others.

    >>> unique_prefixes(["9E9E9E9E-9F9F-49A9", "9E9E9E9E-1111-4000", "5E1C0F7A-3B2D"])
    {'5E1C0F7A-3B2D': '5E1C0F7A', '9E9E9E9E-1111-4000': '9E9E9E9E-1', '9E9E9E9E-9F9F-49A9': '9E9E9E9E-9'}
    """
    out: dict[str, str] = {}
    distinct = sorted(set(ids))
    for i, x in enumerate(distinct):
        n = min(shortest, len(x))
        for other in (distinct[i - 1] if i else None, distinct[i + 1] if i + 1 < len(distinct) else None):
            if other is None:
                continue
            common = 0
            while common < min(len(x), len(other)) and x[common] == other[common]:
                common += 1
            n = max(n, min(len(x), common + 1))
        out[x] = x[:n]
    return out


def elide_middle(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal cells by dropping its middle (wide characters count 2).

    >>> elide_middle("carol.manager@example.com → carol@example.com", 24)
    'carol.manage…example.com'
    >>> elide_middle("日本語の長い名前@例え.jp", 12)
    '日本語…え.jp'
    """
    if cells(text) <= width:
        return text
    if width <= 1:
        return head_cells(text, width)
    left = head_cells(text, (width - 1 + 1) // 2)
    right = tail_cells(text, width - 1 - cells(left))
    return left + "…" + right


#: the compact table's words for a missing kind of file (the full sentence is in the summary and --explain)
_SHORT_MISSING = {"no log.imss was given": "no log.imss", "no polevt.imss was given": "no polevt"}


def _compact_cells(d: dict[str, Any], short_id: dict[str, str], one_day: bool) -> dict[str, str]:
    logged, rec = d["logged"], d["recomputed"]
    status = d["status"]
    link = d["link"] or d["link_problem"] or {}
    if status == "linked":
        link_text = ",".join(_BASIS_SHORT.get(b, b) for b in link.get("basis", []))
    elif status == "ambiguous":  # the candidates are named in the row, as in every format
        link_text = "ambiguous: " + ", ".join(short_id.get(c, c) for c in link.get("candidates", []))
    else:
        link_text = _SHORT_MISSING.get(d.get("missing") or "", "") or {
            "trace-without-event": "no event", "event-without-trace": "no trace"}.get(status, status)
    t = d["time"]
    when = (t.strftime("%H:%M:%S") if one_day else t.strftime("%m-%d %H:%M:%S")) if isinstance(t, datetime) else "-"
    sender = d["sender"] or "-"
    rcpts = d["recipients"] or []
    who = f"{sender} → {rcpts[0]}" + (f" +{len(rcpts) - 1}" if len(rcpts) > 1 else "") if (d["sender"] or rcpts) else "-"
    n_logged = logged["ip_count"] if logged and logged.get("ip_count") is not None else None
    n_rec = len(rec["ips"]) if rec and rec["ips"] is not None else None
    ips = f"{'-' if n_logged is None else n_logged}/{'-' if n_rec is None else n_rec}"
    fired = logged.get("triggered") if logged else None
    if fired is None and (d.get("rule") or d.get("actions")):
        fired = True  # a spoof policy event is IMSVA saying it fired
    return {
        "time": when,
        "id": short_id.get(d["internal_id"] or "", "-") if d["internal_id"] else "-",
        "who": who,
        "ips": ips,
        "fired": {True: "yes", False: "no", None: "-"}[fired],
        "agrees": {True: "yes", False: "NO", None: "-"}[d["agrees"]],
        "link": link_text,
    }


_COMPACT_HEAD = {"appliance": "appliance", "time": "time", "id": "ID", "who": "sender → recipient", "ips": "IPs",
                 "fired": "fired", "agrees": "agrees", "link": "link"}


def table_width(out: IO[str]) -> int | None:
    """The width to fit: the terminal's, else ``COLUMNS`` when set, else None (the content's own width)."""
    import os
    import shutil

    if hasattr(out, "isatty") and out.isatty():
        return shutil.get_terminal_size((80, 24)).columns
    cols = os.environ.get("COLUMNS", "")
    return int(cols) if cols.isdigit() and int(cols) > 0 else None


def compact_table(dicts: list[dict[str, Any]], width: int | None) -> list[str]:
    """The correlate table, one line per row: short unique ID prefixes, sender → recipient elided to fit ``width``."""
    times = [d["time"] for d in dicts if isinstance(d["time"], datetime)]
    days = {(t.date(), t.utcoffset()) for t in times}
    one_day = len(days) <= 1
    ids = [d["internal_id"] for d in dicts if d["internal_id"]]
    short = unique_prefixes(ids)
    cells_ = [{k: clean_terminal(v) for k, v in _compact_cells(d, short, one_day).items()} for d in dicts]
    keys = [k for k in _COMPACT_HEAD if k != "appliance"]
    if len({d.get("appliance") for d in dicts}) > 1:  # several appliances: say whose row it is
        keys = ["appliance", *keys]
        for c, d in zip(cells_, dicts, strict=True):
            c["appliance"] = clean_terminal(d.get("appliance") or "-")
    widths = {k: max([cells(_COMPACT_HEAD[k])] + [cells(c[k]) for c in cells_]) for k in keys}
    gap = 2
    total = sum(widths.values()) + gap * (len(keys) - 1)
    natural_who = widths["who"]
    if width is not None and total > width:
        if widths["id"] > _HEAD_TAIL_ID:
            tails = head_tail_ids(ids)  # IDs alike up to their end: head…tail (full IDs in --wide, --explain, JSON)
            for c, d in zip(cells_, dicts, strict=True):
                if d["internal_id"]:
                    c["id"] = tails[d["internal_id"]]
            widths["id"] = max([cells(_COMPACT_HEAD["id"])] + [cells(c["id"]) for c in cells_])
        total = sum(widths.values()) + gap * (len(keys) - 1)
        widths["who"] = max(_MIN_WHO, widths["who"] - max(0, total - width))
        room = width - (sum(widths.values()) - widths["link"]) - gap * (len(keys) - 1)
        if widths["link"] > room:  # ambiguous rows name fewer candidates (all are in --wide, --explain, JSON)
            for c, d in zip(cells_, dicts, strict=True):
                if cells(c["link"]) > room and d["status"] == "ambiguous":
                    c["link"] = _ambiguous_in(d, short, room)
            widths["link"] = max([cells(_COMPACT_HEAD["link"])] + [cells(c["link"]) for c in cells_])
            spare = width - sum(widths.values()) - gap * (len(keys) - 1)  # what the shorter links gave back
            widths["who"] = min(natural_who, widths["who"] + max(0, spare))
    heads = dict(_COMPACT_HEAD)
    if width is not None and sum(widths.values()) + gap * (len(keys) - 1) > width:
        keys, gap = _narrow(cells_, dicts, widths, keys, heads, width)
    heads = {k: elide_middle(heads[k], widths[k]) for k in keys}
    if "who" in keys and cells(_COMPACT_HEAD["who"]) > widths["who"] and heads["who"] != "sender":
        heads["who"] = "sender → rcpt" if widths["who"] >= 13 else "who"
    lines = []
    if times:
        t0 = times[0]
        zone = _zone_label(t0)
        lines.append(wrap_row("", f"{count(len(dicts), 'row')}, {t0.date().isoformat() + ' ' if one_day else ''}{zone}"
                              + ("; IPs = logged/recomputed" if "ips" in keys else "")
                              + ("" if len({t.utcoffset() for t in times}) == 1 else " (offsets vary: --wide shows each)"),
                              width, 2))
    lines.append(_compact_line(heads, widths, keys, gap))
    for c in cells_:
        if "who" in keys:
            c["who"] = _elide_who(c["who"], widths["who"])
        lines.append(_compact_line(c, widths, keys, gap))
    return lines


#: below this many cells for ``sender → recipient``, the column shows the sender alone
_WHO_PAIR = 20
#: the narrowest sender column worth showing; below it the column goes
_MIN_SENDER = 10
#: columns given up, in this order, when a narrow terminal still has no room (all are in --wide and --explain)
_DROP_ORDER = ("ips", "fired", "who")


def _narrow(cells_: list[dict[str, str]], dicts: list[dict[str, Any]], widths: dict[str, int], keys: list[str],
            heads: dict[str, str], width: int) -> tuple[list[str], int]:
    """Make the table fit a narrow terminal, one step at a time until it fits: the link column shows its
    strongest basis and how many more (``ID+2``); columns stand one space apart; ``who`` shows the sender
    alone; then the IPs, fired and who columns go, in that order.  Time, ID, agreement and link always stay
    (narrower than that, lines are left to the terminal to wrap).  Returns the keys and the gap."""
    def total(g: int) -> int:
        return sum(widths[k] for k in keys) + g * (len(keys) - 1)

    for c, d in zip(cells_, dicts, strict=True):
        basis = (d["link"] or {}).get("basis") or [] if d["status"] == "linked" else []
        if len(basis) > 1:
            c["link"] = f"{_BASIS_SHORT.get(basis[0], basis[0])}+{len(basis) - 1}"
    widths["link"] = max([cells(heads["link"])] + [cells(c["link"]) for c in cells_])
    gap = 1
    natural = max([cells(c["who"]) for c in cells_] + [3])
    widths["who"] = min(natural, max(_MIN_WHO, width - (total(gap) - widths["who"])))
    if widths["who"] < _WHO_PAIR and total(gap) > width or widths["who"] < _WHO_PAIR and natural > widths["who"]:
        for c in cells_:
            c["who"] = c["who"].split(" → ", 1)[0]
        heads["who"] = "sender"
        natural = max([cells(c["who"]) for c in cells_] + [cells("sender")])
        widths["who"] = min(natural, max(_MIN_SENDER, width - (total(gap) - widths["who"])))
    order, dropped = list(keys), []
    for k in _DROP_ORDER:
        if total(gap) <= width:
            break
        keys = [x for x in keys if x != k]
        dropped.append(k)
        if "who" in keys:
            widths["who"] = min(natural, max(_MIN_SENDER, width - (total(gap) - widths["who"])))
    for k in reversed(dropped):  # a column dropped early may fit again once a wider one went
        again = [x for x in order if x in keys or x == k]
        if k != "who" and sum(widths[x] for x in again) + gap * (len(again) - 1) <= width:
            keys = again
    return keys, gap


#: an ID shown as head…tail is at most this wide when its tail is short
_HEAD_TAIL_ID = 14


def head_tail_ids(ids: Sequence[str]) -> dict[str, str]:
    """Each ID as its first 8 characters, ``…`` and the shortest tail that keeps it unique (whole when that is shorter).

    >>> head_tail_ids(["11111111-0000-4000-8000-000000000001", "11111111-0000-4000-8000-000000000002"])
    {'11111111-0000-4000-8000-000000000001': '11111111…1', '11111111-0000-4000-8000-000000000002': '11111111…2'}
    """
    distinct = sorted(set(ids))
    for k in range(1, max((len(x) for x in distinct), default=0) + 1):
        shown = {x: x if len(x) <= 9 + k else f"{x[:8]}…{x[-k:]}" for x in distinct}
        if len(set(shown.values())) == len(distinct):
            return shown
    return {x: x for x in distinct}


def _ambiguous_in(d: dict[str, Any], short: dict[str, str], room: int) -> str:
    """An ambiguous row's link cell in ``room`` characters: the first candidate and how many more, else the count.

    >>> _ambiguous_in({"link": None, "link_problem": {"candidates": ["900:1 10:00:05", "900:2 10:00:05"]}}, {}, 30)
    'ambiguous: 900:1 10:00:05 +1'
    >>> _ambiguous_in({"link": None, "link_problem": {"candidates": ["900:1 10:00:05", "900:2 10:00:05"]}}, {}, 20)
    'ambiguous (2)'
    """
    cands = [clean_terminal(short.get(c, c)) for c in ((d["link"] or d["link_problem"] or {}).get("candidates") or [])]
    first = f"ambiguous: {cands[0]} +{len(cands) - 1}" if len(cands) > 1 else ""
    return first if first and cells(first) <= room else f"ambiguous ({len(cands)})"


def _elide_who(who: str, width: int) -> str:
    """``sender → recipient`` in ``width``: each side loses its middle, so both ends stay readable."""
    if cells(who) <= width or " → " not in who:
        return elide_middle(who, width)
    left, right = who.split(" → ", 1)
    room = width - 3
    a = min(cells(left), max(room // 2, room - cells(right)))
    return elide_middle(left, a) + " → " + elide_middle(right, room - a)


def _compact_line(c: dict[str, str], widths: dict[str, int], keys: list[str], gap: int) -> str:
    parts = [ljust_cells(c[k], widths[k]) for k in keys]
    return (" " * gap).join(parts).rstrip()
