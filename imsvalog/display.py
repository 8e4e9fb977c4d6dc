"""How results show in Jupyter: HTML for ``_repr_html_`` and the DataFrames behind it.

Log text is attacker-controlled, so every value goes through
:func:`imsvalog.render.html_text` (render.py is the one place that escapes); this
module only arranges escaped text into tables.  Long results show their first
:data:`MAX_ROWS` rows; the ``.frame`` / ``.to_frame()`` DataFrame has them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .render import count, html_block, html_text

if TYPE_CHECKING:
    import pandas as pd

    from .correlation import Correlation, Row

MAX_ROWS = 30

#: the columns of a correlation's HTML table: (heading, row attribute or flat column)
CORRELATION_COLUMNS = (
    ("time", "time"), ("thread", "thread"), ("internal ID", "internal_id"), ("sender", "sender"),
    ("recipients", "recipients"), ("subject", "subject"), ("status", "status"), ("IMSVA counted", "logged_ips"),
    ("IMSVA fired", "logged_triggered"), ("model counts", "recomputed_ips"), ("model fires", "recomputed_triggered"),
    ("agrees", "agrees"),
)

_STYLE = "border-collapse:collapse;font-size:90%"
_CELL = "border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top"


def _cell(value: Any, tag: str = "td") -> str:
    if value is None:
        text = "–"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = html_text(value)
    return f'<{tag} style="{_CELL}">{text}</{tag}>'


def table(headings: Sequence[str], rows: Iterable[Sequence[Any]], total: int | None = None) -> str:
    """An HTML table of escaped cells; with ``total`` larger than the rows shown, a note says how many more."""
    rows = list(rows)
    out = [f'<table style="{_STYLE}"><thead><tr>', *(_cell(h, "th") for h in headings), "</tr></thead><tbody>"]
    for r in rows:
        out += ["<tr>", *(_cell(v) for v in r), "</tr>"]
    out.append("</tbody></table>")
    if total is not None and total > len(rows):
        out.append(f"<p><i>{total - len(rows)} more rows: see <code>.frame</code></i></p>")
    return "".join(out)


def correlation_html(c: Correlation) -> str:
    """The summary sentence, then one line per row (the first :data:`MAX_ROWS`)."""
    from .render import summary_text

    flat = [r.flat() for r in c.rows[:MAX_ROWS]]
    body = table([h for h, _ in CORRELATION_COLUMNS], ([f[k] for _, k in CORRELATION_COLUMNS] for f in flat), len(c.rows))
    listed = "no trusted list" if c.trusted is None else f"trusted list of {count(len(c.trusted), 'entry', 'entries')}"
    head = f"<p><b>Correlation</b> ({html_text(c.profile)} profile, {listed}): {html_text(summary_text(c.summary))}</p>"
    return head + body


def row_frame(r: Row) -> pd.DataFrame:
    """One row per Received header of a row's trace: what the model took, counted or skipped, and whether
    IMSVA listed the address."""
    from .frames import frame

    logged = set(r.trace.logged_ips or []) if r.trace is not None else set()
    rows = []
    if r.recomputed is not None:
        for h in r.recomputed.headers:
            rows.append({
                "index": h.index,
                "header": h.text,
                "taken": h.taken.text if h.taken else None,
                "counted": h.counted,
                "skip_reason": h.skip.reason if h.skip else None,
                "range": h.skip.range if h.skip else None,
                "trusted_by": h.trusted_by,
                "in_imsva_list": (h.counted in logged) if h.counted is not None and r.trace is not None else None,
            })
    return frame(rows)


def row_html(r: Row) -> str:
    """A row's identity, its explanation as text, and its headers table."""
    title = " ".join(html_text(x) for x in (r.time, r.internal_id or "(no internal ID)", r.status))
    parts = [f"<p><b>{title}</b></p>", f'<pre style="white-space:pre-wrap">{html_block(r.explanation)}</pre>']
    df = row_frame(r)
    if not df.empty:
        parts.append(table(list(df.columns), df.astype(object).where(df.notna(), None).itertuples(index=False)))
    return "".join(parts)


def trace_frame(trace: Any) -> pd.DataFrame:
    """A message's timeline (:class:`imsvalog.trace.Trace`), one row per log line: stage, time, file,
    line, why the line belongs to the message (``link``) and its text."""
    from .frames import frame

    return frame({"stage": ln.stage, "time": ln.time, "file": ln.file, "line": ln.line, "link": ln.link,
                  "text": ln.text} for ln in trace.lines)


def trace_html(trace: Any) -> str:
    """The query, the IDs found, notes, then the timeline (the first :data:`MAX_ROWS` lines)."""
    ids = [*trace.internal_ids, *trace.message_ids, *trace.queue_ids]
    head = (f"<p><b>Trace of {html_text(trace.query)}</b> ({html_text(trace.id_kind)}): "
            f"{count(len(trace.lines), 'line')}; IDs {html_text(ids) or 'none found'}</p>")
    notes = "".join(f"<p><i>{html_text(n)}</i></p>" for n in trace.notes)
    rows = ((ln.stage, ln.time, f"{ln.file}:{ln.line}", ln.link, ln.text) for ln in trace.lines[:MAX_ROWS])
    return head + notes + table(["stage", "time", "where", "why here", "line"], rows, len(trace.lines))


__all__ = ["MAX_ROWS", "correlation_html", "row_frame", "row_html", "table", "trace_frame", "trace_html"]
