"""Figures for a triage: matplotlib ``Figure`` objects from a correlation and policy events.

Install the extra: ``pip install 'imsvalog[plot]'``.  Every function returns a
``matplotlib.figure.Figure`` (built without pyplot, so no global state and no
display needed); Jupyter shows it, ``fig.savefig("x.png")`` saves it, and
``imsvalog correlate --plot DIR`` writes the same figures as PNGs
(:func:`save_figures`).  The data behind each figure is a DataFrame helper
(:func:`trigger_frame`, :func:`what_if_frame`, :func:`verdict_table`) that a
notebook can inspect too.

IMSVA's own lines are the ground truth: "the filter fired" means IMSVA logged
``Triggered`` (or wrote a spoof policy event when no trace was logged), and the
addresses shown are the ones IMSVA listed (``Get N IP address``), not the model's.
Label text from the logs goes through :func:`imsvalog.render.plot_label`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from .errors import InputError
from .render import count, plot_label

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .correlation import Correlation, Row
    from .outputs import OutputFolder
    from .spoof import VerdictChange
    from .trusted import TrustedList

NO_TRACE = "(no trace: log level)"
ALL_TRUSTED = "(all listed addresses trusted)"
OTHER = "other"
WHAT_IF_ORDER = ("prevented", "still quarantined", "unknown", "in doubt", "unknown (no trace)")
#: the columns of :func:`trigger_frame` and :func:`what_if_frame` (also when there are no rows)
TRIGGER_COLUMNS = ["time", "untrusted_address", "internal_id", "sender"]
WHAT_IF_COLUMNS = ["time", "internal_id", "sender", "logged_ips", "verdict_before", "verdict_after", "outcome"]
#: every figure :func:`figures` may make, by file stem (``--plot DIR`` writes ``STEM.png``)
FIGURE_NAMES = ("triggers-per-hour", "top-untrusted", "calibration", "verdicts", "policy-events", "what-if")
WHAT_IF_COLOURS = {"prevented": "#2ca02c", "still quarantined": "#d62728", "unknown": "#bcbd22", "in doubt": "#ff7f0e",
                   "unknown (no trace)": "#7f7f7f"}


#: the longest label a figure shows (longer text is elided in the middle, so legends and axes stay on the figure)
LABEL_WIDTH = 40


def label(value: object, width: int = LABEL_WIDTH) -> str:
    """Log text as a figure label: at most ``width`` characters (elided in the middle), then made inert
    (:func:`imsvalog.render.plot_label`).

    >>> label("x" * 300)
    'xxxxxxxxxxxxxxxxxxxx…xxxxxxxxxxxxxxxxxxx'
    >>> print(label("_rule"), label("$x$ rule"))
     _rule \\$x\\$ rule
    """
    from .render import plain

    text = plain(value)
    if len(text) > width:
        text = text[: width // 2] + "…" + text[len(text) - (width - width // 2 - 1):]
    return plot_label(text)


def group_label(value: str, width: int = LABEL_WIDTH) -> str:
    """A group of addresses (``a + b + c``) as a label: the first and how many more when there are over two.

    >>> group_label("198.51.100.1 + 198.51.100.2 + 198.51.100.3")
    '198.51.100.1 + 2 more addresses'
    """
    parts = value.split(" + ")
    if len(parts) > 2:
        value = f"{parts[0]} + {count(len(parts) - 1, 'more address', 'more addresses')}"
    return label(value, width)


def require_matplotlib() -> None:
    """:class:`InputError` (one line, exit 2 in the CLI) when the ``plot`` extra is not installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise InputError("plots need matplotlib: pip install 'imsvalog[plot]'") from None


def _figure(width: float = 9.0, height: float = 4.0) -> Figure:
    require_matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


# ---------------------------------------------------------------------------
# data behind the figures
# ---------------------------------------------------------------------------


def _fired(r: Row) -> bool:
    """IMSVA's own word: a trace that says triggered, else a spoof policy event."""
    if r.trace is not None and r.trace.triggered is not None:
        return r.trace.triggered
    return r.event is not None


def _trusted_test(c: Correlation) -> Callable[[str], bool]:
    """Is an address trusted: the correlation's list when given, else what IMSVA's verdicts reveal."""
    if c.trusted is not None:
        tl = c.trusted
        return lambda a: tl.match(a) is not None
    known = {a.address for a in c.inferred_trusted() if a.status == "trusted"}
    return lambda a: a in known


def trigger_frame(c: Correlation) -> pd.DataFrame:
    """One row per message on which IMSVA's spoof filter fired: ``time``, ``untrusted_address`` (the untrusted
    addresses IMSVA listed, joined with ``+``; or why there are none), ``internal_id``, ``sender``."""
    from .frames import frame

    trusted = _trusted_test(c)
    rows = []
    for r in c.rows:
        if not _fired(r):
            continue
        if r.trace is None or r.trace.logged_ips is None:
            culprit = NO_TRACE
        else:
            untrusted = [a for a in r.trace.logged_ips or [] if not _safe(trusted, a)]
            culprit = " + ".join(dict.fromkeys(untrusted)) or ALL_TRUSTED
        rows.append({"time": r.time, "untrusted_address": culprit, "internal_id": r.internal_id,
                     "sender": r.event.sender if r.event else None})
    return frame(rows, columns=TRIGGER_COLUMNS)


def _safe(test: Callable[[str], bool], address: str) -> bool:
    try:
        return bool(test(address))
    except (ValueError, TypeError):
        return False


def _quarantined(r: Row) -> bool:
    if r.event is not None and "quarantine" in r.event.actions:
        return True
    return r.session is not None and "QuarantineAction" in r.session.final_actions


def what_if_frame(c: Correlation, trusted: TrustedList | None | str = "same", profile: str | None = None) -> pd.DataFrame:
    """Every spoof quarantine IMSVA made, and what it would have done with ``trusted`` (and ``profile``),
    as :meth:`Correlation.what_if` judges it (on IMSVA's logged list where the trace has one):
    ``outcome`` is one of :data:`WHAT_IF_ORDER`: ``unknown`` where the what-if's verdict is, ``in doubt`` where the
    trace says 'Not triggered' and its own spoof policy event quarantined the mail (what IMSVA did is in doubt, so
    whether the list would have prevented it is not known, whatever the what-if's verdict)."""
    from .frames import frame

    traced = [r for r in c.rows if r.trace is not None]
    messages = c.messages()
    name_of = {id(r): m.name for r, m in zip(traced, messages, strict=True)}
    changes = {ch.name: ch for ch in c.what_if(trusted, profile)}
    verdicts: dict[str, VerdictChange] = {}
    if any(r.trace is not None and r.trace.logged_ips is None and r.name not in changes for r in c.rows):
        from .correlation.compare import what_if_of

        # a trace without IMSVA's count (cut before it was logged): no change listed is no evidence that IMSVA would
        # still fire; the model's verdict says whether it is known
        after_trusted = c.trusted if isinstance(trusted, str) else trusted
        after_profile = profile if profile is not None else c.profile
        verdicts = {v.name: v for v in what_if_of(c.rows, messages, (c.trusted, c.profile),
                                                  (after_trusted, after_profile), every=True)}
    rows = []
    for r in c.rows:
        doubted = r.recomputed is not None and r.recomputed.observed_doubt is not None
        if not ((_fired(r) or doubted) and _quarantined(r)):
            continue
        name = name_of.get(id(r), "")
        change = changes.get(name)
        if r.trace is None:
            outcome, before, after = "unknown (no trace)", None, None
        elif change is not None:
            before, after = change.before, change.after
            outcome = ("in doubt" if doubted else "prevented" if after == "does-not-fire"
                       else "still quarantined" if after == "fires" else "unknown")
        elif doubted:  # the model's verdicts the same both ways (another profile): what IMSVA did is still in doubt
            outcome, before, after = "in doubt", None, None
        elif r.trace.logged_ips is None and (v := verdicts.get(name)) is not None and v.after == "unknown":
            outcome, before, after = "unknown", v.before, v.after
        else:
            outcome, before, after = "still quarantined", "fires", "fires"
        rows.append({"time": r.time, "internal_id": r.internal_id, "sender": r.event.sender if r.event else None,
                     "logged_ips": r.trace.logged_ips if r.trace else None, "verdict_before": before,
                     "verdict_after": after, "outcome": outcome})
    return frame(rows, columns=WHAT_IF_COLUMNS)


def verdict_table(c: Correlation) -> pd.DataFrame:
    """IMSVA's verdict (rows) against the model's (columns), counted over every row of the correlation."""
    import pandas as pd

    imsva, model = [], []
    for r in c.rows:
        if r.trace is None or r.trace.triggered is None:
            imsva.append("fired, no trace" if r.event is not None else "no verdict logged")
        else:
            imsva.append("fired" if r.trace.triggered else "did not fire")
        model.append(r.recomputed.verdict if r.recomputed is not None else "not re-run")
    table = pd.crosstab(pd.Series(imsva, name="IMSVA"), pd.Series(model, name="model"))
    order_rows = [x for x in ("fired", "did not fire", "fired, no trace", "no verdict logged") if x in table.index]
    order_cols = [x for x in ("fires", "does-not-fire", "unknown", "not re-run") if x in table.columns]
    return table.loc[order_rows, order_cols]


# ---------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------


def _hourly(times: pd.Series, groups: pd.Series, freq: str, span: pd.Series | None = None) -> pd.DataFrame:
    """Counts per time bin and group, with every bin from the first to the last time of ``span``
    (the whole case, so quiet hours show as quiet) or of ``times``."""
    import pandas as pd

    bins = times.dt.floor(freq)
    table = pd.crosstab(bins, groups.astype(str))
    edges = (span if span is not None and not span.empty else times).dt.floor(freq)
    full = pd.date_range(min(edges.min(), bins.min()), max(edges.max(), bins.max()), freq=freq)
    return table.reindex(full, fill_value=0)


def _span(c: Correlation) -> pd.Series:
    """The times of every row (traces that did not fire too): the time the logs cover."""
    from .frames import time_columns

    return time_columns("time", [r.time for r in c.rows])["time"]


def _stacked_bars(ax: Axes, table: pd.DataFrame, freq: str, colours: dict[str, str] | None = None,
                  labeller: Callable[[str], str] = label) -> None:
    import pandas as pd
    from matplotlib.ticker import MaxNLocator

    zone = str(table.index.tz) if table.index.tz is not None else ""
    x = table.index.tz_localize(None).to_pydatetime()
    width = pd.tseries.frequencies.to_offset(freq).nanos / 86400e9 * 0.9
    bottom = [0] * len(table)
    for col in table.columns:
        values = table[col].tolist()
        kw = {"color": colours[col]} if colours and col in colours else {}
        ax.bar(x, values, width=width, bottom=bottom, align="edge", label=labeller(col), **kw)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xlabel(f"time ({zone})" if zone else "time")
    ax.set_ylim(0, max(max(bottom, default=0), 1) * 1.15)  # headroom above the tallest bar
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of messages
    _date_axis(ax)


def _date_axis(ax: Axes) -> None:
    """Ticks that say their day: the first tick and each tick on a new day carry the date under the time
    (a corner date, as matplotlib's concise formatter writes it, names only the last day)."""
    import matplotlib.dates as mdates
    from matplotlib.ticker import Formatter

    class DayAware(Formatter):
        def __call__(self, x: float, pos: int | None = None) -> str:
            return self.format_ticks([x])[0]

        def format_ticks(self, values: Sequence[float]) -> list[str]:
            times = [mdates.num2date(v).replace(tzinfo=None) for v in values]
            all_midnight = all(t.hour == 0 and t.minute == 0 for t in times)
            out, day = [], None
            for t in times:
                if all_midnight:
                    out.append(t.strftime("%a %d %b" if t.date() != day else "%d %b"))
                elif t.date() != day:
                    out.append(t.strftime("%H:%M\n%a %d %b"))
                else:
                    out.append(t.strftime("%H:%M"))
                day = t.date()
            return out

    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=12))
    ax.xaxis.set_major_formatter(DayAware())


def _top(values: Iterable[str], n: int) -> list[str]:
    return [a for a, _ in Counter(values).most_common(n)]


def triggers_over_time(c: Correlation, freq: str = "h", top: int = 6) -> Figure:
    """Spoof-filter triggers per hour (``freq``), stacked by the untrusted address IMSVA counted
    (the ``top`` most frequent by name, the rest as ``other``)."""
    df = trigger_frame(c)
    fig = _figure()
    ax = fig.add_subplot()
    ax.set_title(f"Spoof filter fired on {count(len(df), 'message')} (per {'hour' if freq == 'h' else freq})")
    if df.empty:
        ax.text(0.5, 0.5, "IMSVA's spoof filter did not fire in these logs", ha="center", transform=ax.transAxes)
        return fig
    keep = _top(df["untrusted_address"].astype(str), top)
    groups = df["untrusted_address"].astype(str).where(df["untrusted_address"].astype(str).isin(keep), OTHER)
    table = _hourly(df["time"], groups, freq, _span(c))
    table = table[[k for k in keep if k in table.columns] + ([OTHER] if OTHER in table.columns else [])]
    _stacked_bars(ax, table, freq, labeller=lambda g: g if g == OTHER else group_label(g))
    ax.set_ylabel("messages")
    ax.legend(title="untrusted address\n(IMSVA's list)", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def top_untrusted(c: Correlation, n: int = 10) -> Figure:
    """The untrusted addresses that made the filter fire most often (each counted once per message)."""
    df = trigger_frame(c)
    counts: Counter[str] = Counter()
    for value in df["untrusted_address"].astype(str) if not df.empty else []:
        if value in (NO_TRACE, ALL_TRUSTED):
            continue
        counts.update(value.split(" + "))
    top = counts.most_common(n)
    fig = _figure(8, 0.45 * max(len(top), 2) + 1.4)
    ax = fig.add_subplot()
    more = len(counts) - len(top)
    ax.set_title("Untrusted addresses that made the filter fire"
                 + (f" (top {len(top)}; {count(more, 'more address', 'more addresses')} not shown)" if more else ""))
    if not top:
        ax.text(0.5, 0.5, "no untrusted address in IMSVA's lists", ha="center", transform=ax.transAxes)
        return fig
    labels = [label(a) for a, _ in reversed(top)]
    values = [v for _, v in reversed(top)]
    bars = ax.barh(range(len(values)), values, color="#d62728", tick_label=labels)  # by position: labels may repeat
    ax.bar_label(bars, padding=3)
    ax.set_xlim(0, max(values) * 1.15)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("messages the filter fired on")
    return fig


def policy_events(events: pd.DataFrame) -> Figure:
    """Policy events by rule and action (``events`` from :func:`imsvalog.read_polevt`)."""
    import pandas as pd

    fig = _figure(9, 3.6)
    ax = fig.add_subplot()
    ax.set_title(f"Policy events by rule and action ({count(len(events), 'event')})")
    if events.empty:
        ax.text(0.5, 0.5, "no policy events", ha="center", transform=ax.transAxes)
        return fig
    rules = events["rule"].astype(object).where(events["rule"].notna(), "(no rule name)").map(label)
    actions = events["actions"].map(lambda a: " + ".join(a) if a else "(no action)").map(label)
    table = pd.crosstab(rules, actions)
    table = table.loc[table.sum(axis=1).sort_values().index]
    left = [0] * len(table)
    for col in table.columns:
        values = table[col].tolist()
        ax.barh(table.index.tolist(), values, left=left, label=col)
        left = [a + b for a, b in zip(left, values, strict=True)]
    from matplotlib.ticker import MaxNLocator

    ax.set_xlim(0, max(left) * 1.1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("events")
    ax.legend(title="actions", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def calibration(c: Correlation, top: int = 12) -> Figure:
    """The calibration table of the spoof model: each variant (switches changed from the documented model)
    and how many of IMSVA's logged lists it reproduces, best first (the ``top`` best and the documented one).

    Uses ``c.calibration`` (``correlate(..., profile="auto")``); otherwise scores the variants on the
    correlation's rows the same way (:func:`imsvalog.correlation.calibrate.calibrate`).
    """
    from matplotlib.ticker import MaxNLocator

    from .correlation.calibrate import calibrate

    cal = c.calibration if c.calibration is not None else calibrate(c.rows)
    shown = cal.scores[:top]
    documented = next((s for s in cal.scores if not s.changes), None)
    if documented is not None and documented not in shown:
        shown.append(documented)
    fig = _figure(9, 0.32 * len(shown) + 1.6)
    ax = fig.add_subplot()
    ax.set_title(f"Calibration: model variants against IMSVA's {count(cal.traces, 'logged list')}\n"
                 f"(chosen: {plot_label(', '.join(cal.chosen.changes) or 'documented')}"
                 f"{'; weak: too few traces' if cal.weak else ''})")
    if not cal.traces:
        ax.text(0.5, 0.5, "no trace with IMSVA's 'Get N IP address' line", ha="center", transform=ax.transAxes)
        return fig
    labels = [label(", ".join(s.changes) or "documented", 60) for s in reversed(shown)]
    colours = ["#2ca02c" if s is cal.chosen else "#1f77b4" if not s.changes else "#aec7e8" for s in reversed(shown)]
    bars = ax.barh(labels, [s.reproduced for s in reversed(shown)], color=colours)
    ax.bar_label(bars, [f"{s.reproduced}/{s.traces}" for s in reversed(shown)], padding=3, fontsize="small")
    ax.set_xlim(0, cal.traces * 1.12)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("traces whose logged list the variant reproduces exactly")
    ax.tick_params(axis="y", labelsize="small")
    if len(cal.scores) > len(shown):
        ax.text(1, -0.5 / len(shown) - 0.12, f"{len(cal.scores) - len(shown)} more variants not shown",
                ha="right", transform=ax.transAxes, fontsize="small")
    return fig


def verdicts(c: Correlation) -> Figure:
    """How well the spoof model matches IMSVA: IMSVA's verdicts against the model's, as a count table."""
    table = verdict_table(c)
    fig = _figure(7, 3.4)
    ax = fig.add_subplot()
    listed = "the given trusted list" if c.trusted is not None else "no trusted list"
    ax.set_title(f"IMSVA's verdict vs the model\n({c.profile} profile, {listed})")
    if table.empty:
        ax.text(0.5, 0.5, "no AntiSpoofFilter rows", ha="center", transform=ax.transAxes)
        return fig
    values = table.to_numpy()
    ax.imshow(values, cmap="Blues", aspect="auto")
    ax.set_xticks(range(len(table.columns)), [label(x) for x in table.columns])
    ax.set_yticks(range(len(table.index)), [label(x) for x in table.index])
    ax.set_xlabel("the model (re-run on the logged Received headers)")
    ax.set_ylabel("IMSVA (its own log lines)")
    top = values.max() or 1
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            ax.text(j, i, str(values[i, j]), ha="center", va="center",
                    color="white" if values[i, j] > top / 2 else "black", fontsize="large")
    return fig


def what_if(c: Correlation, trusted: TrustedList | None | str = "same", profile: str | None = None,
            freq: str = "h") -> Figure:
    """IMSVA's spoof quarantines per hour, coloured by what the proposed ``trusted`` list would have done."""
    df = what_if_frame(c, trusted, profile)
    fig = _figure()
    ax = fig.add_subplot()
    prevented = int((df["outcome"] == "prevented").sum()) if not df.empty else 0
    doubted = int((df["outcome"] == "in doubt").sum()) if not df.empty else 0
    ax.set_title(f"What if: the proposed trusted list prevents {prevented} of {count(len(df), 'spoof quarantine')}"
                 + (f" ({doubted} in doubt)" if doubted else ""))
    if df.empty:
        ax.text(0.5, 0.5, "no spoof quarantines", ha="center", transform=ax.transAxes)
        return fig
    table = _hourly(df["time"], df["outcome"], freq, _span(c))
    table = table[[k for k in WHAT_IF_ORDER if k in table.columns]]
    _stacked_bars(ax, table, freq, WHAT_IF_COLOURS)
    ax.set_ylabel("quarantined messages")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def figures(c: Correlation, events: pd.DataFrame | None = None,
            what_if_trusted: TrustedList | None | str | None = None, what_if_profile: str | None = None) -> dict[str, Figure]:
    """The triage figures by file stem: the what-if one only when a what-if is asked for."""
    out = {
        "triggers-per-hour": triggers_over_time(c),
        "top-untrusted": top_untrusted(c),
        "calibration": calibration(c),
        "verdicts": verdicts(c),
    }
    if events is not None:
        out["policy-events"] = policy_events(events)
    if what_if_trusted is not None or what_if_profile is not None:
        out["what-if"] = what_if(c, "same" if what_if_trusted is None else what_if_trusted, what_if_profile)
    return out


def save_figures(figs: dict[str, Figure], folder: OutputFolder, dpi: int = 110) -> list[str]:
    """Write each figure as ``NAME.png`` into an output folder (temporary file + rename); returns the paths."""
    written = []
    for name, fig in figs.items():
        with folder.open(f"{name}.png", binary=True) as fh:
            fig.savefig(fh, format="png", dpi=dpi)
        written.append(str(folder.path / f"{name}.png"))
    return written


__all__: Sequence[str] = [
    "FIGURE_NAMES", "LABEL_WIDTH", "calibration", "group_label", "label", "figures", "policy_events", "require_matplotlib", "save_figures", "top_untrusted", "trigger_frame",
    "triggers_over_time", "verdict_table", "verdicts", "what_if", "what_if_frame",
]

