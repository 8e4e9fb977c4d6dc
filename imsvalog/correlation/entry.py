"""The entry points: :func:`correlate` (read, link, re-run, compare) and :func:`sessions`."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from ..bundles import one_run
from ..blocks import CORRUPT_WORDS, give_back_free_memory
from ..errors import InputError
from ..frames import frame
from ..gc_pause import gc_paused
from ..readers import UNREADABLE_REST, UNREADABLE_START, PathsLike, as_path_list, files_of, records_of
from ..records import Reject
from ..scan_sessions import ScanSession
from .. import rotation
from ..sources import LogFile, ScanStats, discover, file_size, what_was_found
from ..spoof import DOCUMENTED, Profile, get_profile
from ..time_window import MAX_TIME_WINDOW, time_window_of  # noqa: F401 (their home was here)
from ..trusted import TrustedList
from .calibrate import calibrate
from .compare import findings_by_kind, recompute
from .link import is_spoof_event, link_rows
from .result import Correlation, Row, Summary
from .scan import ProgressFn, end_unread, find_scans, read_sessions, read_spoof_sessions, start_unread

if TYPE_CHECKING:
    import pandas as pd


@one_run
def correlate(
    paths: PathsLike,
    trusted: TrustedList | None = None,
    profile: str | Profile = DOCUMENTED,
    time_window: float = 1.0,
    progress: ProgressFn | None = None,
) -> Correlation:
    """Correlate log.imss, polevt.imss, msgtra.imss and maillog files (any mix of paths, globs, directories).

    ``profile`` is the spoof model: ``documented`` (default), ``strict``, a variant's name, a
    :class:`~imsvalog.spoof.Profile`, or ``"auto"``: every variant is scored against the traces that
    carry IMSVA's logged list and the best is used (``Correlation.calibration`` holds the table).

    >>> c = correlate("fixtures/kb000239719")
    >>> [(r.status, r.link.basis, [f.kind for f in r.findings]) for r in c.rows]
    [('linked', ['queue_id', 'time'], ['domain'])]
    """
    with gc_paused():  # hundreds of thousands of records and rows, no reference cycles among them
        return _correlate(paths, trusted, profile, time_window_of(time_window), progress)


def _correlate(
    paths: PathsLike, trusted: TrustedList | None, profile: str | Profile, window: timedelta, progress: ProgressFn | None,
) -> Correlation:
    found = discover(as_path_list(paths))
    by_kind: dict[str, list[LogFile]] = defaultdict(list)
    skipped = list(found.skipped)
    for f in found.files:
        by_kind[f.kind].append(f)
    if not by_kind.get("imss") and not by_kind.get("polevt"):
        raise InputError(
            "correlate needs log.imss or polevt.imss files; none found among: "
            + ", ".join(map(str, as_path_list(paths))) + f" ({what_was_found(found.files, found.skipped)})"
        )
    rejects: list[Reject] = []
    stats = ScanStats()
    sizes = [file_size(f) for f in by_kind.get("imss", [])]
    total = 0 if 0 in sizes else sum(sizes)  # one unknown size (a gzip inside a bundle): no total
    rows: list[Row] = []
    sessions: list[ScanSession] = []
    scans = events = 0
    done = 0
    spoof_events = 0
    # each appliance is its own stream: [pid:tid] of two appliances may collide, and a policy
    # event links only to its own appliance's traces
    for appliance, files in by_appliance(found.files).items():
        group = defaultdict(list)
        for f in files:
            group[f.kind].append(f)
        before = stats.bytes
        shifted = None if progress is None else (lambda d, t, name, _o=done: progress(_o + d, t, name))
        g_sessions, g_scans = read_spoof_sessions(group.get("imss", []), rejects, stats, shifted, total)
        done += stats.bytes - before
        g_events = list(records_of(group.get("polevt", []), rejects))
        transactions = list(records_of(group.get("msgtra", []), rejects))
        mail = [m for m in records_of(group.get("maillog", []), rejects) if m.message_id or m.queued_as]
        # "why has this event no trace": only the IDs of the spoof events left without one are looked up
        # in log.imss (one byte-level pass, and none when every event has its trace)
        g_rows = link_rows(g_sessions, g_events, transactions, window, mail, g_scans,
                           find=partial(find_scans, group.get("imss", []), g_scans), holes=rotation.holes(files, window, _unread(rejects)),
                           starts=partial(start_unread, group.get("imss", [])),
                           ends=partial(end_unread, group.get("imss", [])))
        for row in g_rows:
            row.appliance = appliance
        rows += g_rows
        sessions += g_sessions
        scans += g_scans.scans
        events += len(g_events)
        spoof_events += sum(1 for e in g_events if is_spoof_event(e))
    calibration = None
    if isinstance(profile, str) and profile == "auto":
        calibration = calibrate(rows)
        profile = calibration.chosen.profile
    for row in rows:
        recompute(row, trusted, profile)
    summary = Summary(
        files={k: len(v) for k, v in by_kind.items()},
        lines=stats.lines,
        scans=scans,
        spoof_traces=sum(len(s.spoof_traces) for s in sessions),
        policy_events=events,
        spoof_events=spoof_events,
        linked=sum(1 for r in rows if r.status == "linked"),
        ambiguous=sum(1 for r in rows if r.status == "ambiguous" and r.trace is not None),
        ambiguous_events=sum(1 for r in rows if r.status == "ambiguous" and r.trace is None),
        traces_without_event=sum(1 for r in rows if r.status == "trace-without-event"),
        events_without_trace=sum(1 for r in rows if r.status == "event-without-trace"),
        disagreements=sum(1 for r in rows if r.disagreement),
        findings=findings_by_kind(rows),
        rejects=len(rejects),
    )
    summary.missing = missing_kinds(summary, rows)
    summary.rotation = rotation.notes(found.files) + found.notes + [
        f"{name}: {CORRUPT_WORDS}; rows that cite its lines may rest on garbled ones"
        for name in dict.fromkeys(r.source.file for r in rejects if CORRUPT_WORDS in r.reason)
    ]
    give_back_free_memory()  # what linking and the re-run freed, before the rows are written
    return Correlation(rows, summary, rejects, sessions, skipped, trusted, get_profile(profile).name, calibration)


#: what a log.imss without any AntiSpoofFilter line means (see FORMATS.md: those lines are [DEBUG]/[DIAGNOSTIC])
NO_ANTISPOOF = ("the log.imss given holds no AntiSpoofFilter line at all "
                "(the scanner's log level must be debug on the appliance for IMSVA to log them)")


def missing_kinds(summary: Summary, rows: list[Row]) -> list[str]:
    """Whole kinds of input that the rows depend on and that are absent, each said once; marks the rows it explains."""
    out = []
    if not summary.files.get("imss") and summary.spoof_events:
        out.append("no log.imss was given")
    elif summary.files.get("imss") and not summary.spoof_traces and summary.events_without_trace:
        out.append(NO_ANTISPOOF)
    if not summary.files.get("polevt") and summary.spoof_traces:
        out.append("no polevt.imss was given")
    for r in rows:
        if r.status == "event-without-trace" and out and out[0] in ("no log.imss was given", NO_ANTISPOOF):
            r.missing = out[0]
        elif r.status == "trace-without-event" and "no polevt.imss was given" in out:
            r.missing = "no polevt.imss was given"
    return out


def _unread(rejects: list[Reject]) -> dict[str, str]:
    """The files whose rest could not be read (a gzip cut short), by path, with their reject's reason: the time that
    rest held is missing (:func:`imsvalog.rotation.holes`).  Not one read to its end whose check failed."""
    return {r.source.file: r.reason for r in rejects if r.reason.startswith((UNREADABLE_REST, UNREADABLE_START))}


def by_appliance(files: list[LogFile]) -> dict[str | None, list[LogFile]]:
    """Files grouped by the appliance that wrote them (None: loose files), in read order."""
    groups: dict[str | None, list[LogFile]] = {}
    for f in files:
        groups.setdefault(f.appliance, []).append(f)
    return groups


@one_run
def sessions(paths: PathsLike, rejects: list[Reject] | None = None) -> list[ScanSession]:
    """All scan sessions of the log.imss files under ``paths``; marker lines that do not parse go to ``rejects``."""
    out: list[ScanSession] = []
    for files in by_appliance(files_of("imss", paths)).values():  # appliances never share a thread
        out += read_sessions(files, rejects if rejects is not None else [], ScanStats())
    return out


@one_run
def sessions_frame(paths: PathsLike, rejects: list[Reject] | None = None) -> pd.DataFrame:
    """Scan sessions as a DataFrame: one row per scanned message."""
    from ..scan_sessions import SESSION_COLUMNS

    return frame((s.to_row() for s in sessions(paths, rejects)), columns=SESSION_COLUMNS)
