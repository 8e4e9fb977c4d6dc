"""Explanations in words: one paragraph per row, ready to paste into a ticket."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .compare import LIST_KINDS, OWN_KINDS

if TYPE_CHECKING:
    from .result import Row


def _refs(places: Sequence[tuple[str, int]]) -> str:
    """Lines as ``file:first-last`` per file, from (file, line) pairs."""
    if not places:
        return ""
    by_file: dict[str, list[int]] = defaultdict(list)
    for file, line in places:
        by_file[file].append(line)  # the whole provenance (BUNDLE!member/path), as in JSON
    return ", ".join(f"{f}:{min(ls)}-{max(ls)}" if len(ls) > 1 else f"{f}:{ls[0]}" for f, ls in by_file.items())


def explain_row(row: Row, scan_places: Sequence[tuple[str, int]] | None = None) -> str:
    """A paragraph, then the header-by-header explanation, ready to paste into a ticket.  ``scan_places``: the
    session's lines as (file, line) pairs (``row.session.sources``), when the caller has them already."""
    s, t, e, r = row.session, row.trace, row.event, row.recomputed
    lines: list[str] = []
    block = -1  # the model's own multi-line explanation (Received header texts: no line break in them)
    if s is not None and t is not None:
        lines.append(
            f"Scan on thread {s.thread} at {t.time.isoformat(sep=' ')} "
            f"({_refs(s.sources if scan_places is None else scan_places)}), cut {s.boundaries}."
        )
    if e is not None:
        where = e.source.ref()
        lines.append(
            f"Policy event {e.internal_id} ({where}): rule '{e.rule or ''}', actions {', '.join(e.actions) or 'none'}, "
            f"sender {e.sender or '(empty)'} -> {', '.join(e.recipients) or '(none)'}."
        )
    if row.status == "linked" and row.link is not None:
        lines.append(f"Linked by {', '.join(row.link.basis)} ({row.link.confidence} confidence): {row.link.detail}.")
    elif row.status == "ambiguous" and row.link is not None and t is not None:
        lines.append(f"Not linked: ambiguous. {row.link.detail}; none is chosen.")
    elif row.status == "ambiguous" and row.link is not None:
        lines.append(f"Not linked: ambiguous. This policy event {row.link.detail}; none is chosen.")
    elif row.status == "trace-without-event":
        if t is not None and t.triggered is False:
            lines.append("No policy event: the filter did not fire, so none is expected.")
        else:
            # fired (IMSVA said so) or unknown (its verdict line is not in the log): never "fired" when not logged
            fired = "although the filter fired" if t is not None and t.triggered else "(whether the filter fired is not logged)"
            if row.linked_elsewhere:
                lines.append(f"No policy event linked to this trace {fired}: "
                             "the ones that fit it are linked to other traces (see the notes).")
            else:
                lines.append(f"No policy event found for this trace {fired}.")
    elif row.status == "event-without-trace" and row.linked_elsewhere:
        lines.append("No AntiSpoofFilter trace linked to this policy event: "
                     "the traces that fit it are linked to other policy events (see the notes).")
    elif row.status == "event-without-trace":
        lines.append("No AntiSpoofFilter trace for this policy event.")
    if t is not None:
        if t.logged_ips is not None:
            lines.append(
                f"IMSVA logged: 'Get {t.logged_count} IP address from received header. "
                f"{''.join(a + ',' for a in t.logged_ips)}' ({t.ip_list_ref})"
                + (f", matched strings: {', '.join(t.matched_addresses)}" if t.matched_addresses else "")
                + "."
            )
        if t.triggered is not None:
            said = t.verdict_text if t.verdict_text is not None else f"isTriggered returned {str(t.triggered).lower()}"
            lines.append(f"IMSVA {'fired' if t.triggered else 'did not fire'} ('{said}').")
    if r is not None:
        if (t is not None and t.logged_ips is not None and r.headers_logged
                and not any(f.kind in LIST_KINDS for f in row.findings)):
            lines.append(f"The model reproduces IMSVA's list: {', '.join(r.counted) or 'no address'}.")
        if row.fired_on is not None:
            basis = "IMSVA's logged list" if t is not None and t.logged_ips is not None else "the recomputed list (IMSVA logged none)"
            lines.append(
                f"Why it fired, by {basis}: "
                + (f"{', '.join(row.fired_on)} not in the given trusted list." if row.fired_on
                   else "every address is in the given trusted list, so the appliance's list must have differed.")
            )
        own = [f for f in row.findings if f.kind in OWN_KINDS]  # their texts say "IMSVA's own line(s) ..."
        if own:
            lines.append("DISAGREEMENT: " + " ".join(f.text + "." for f in own))
        if len(own) < len(row.findings):
            lines.append("DISAGREEMENT with the model: " + " ".join(f.text + "." for f in row.findings if f not in own))
        lines.append("")
        block = len(lines)
        lines.append(r.explanation)
    for n in row.notes:
        lines.append(f"Note: {n}.")
    # each other line is one line: a line break in a file or bundle member name (hostile) is shown as \x0a, as
    # everywhere else, never starts a line of its own
    return "\n".join(x if i == block else x.replace("\n", "\\x0a") for i, x in enumerate(lines))
