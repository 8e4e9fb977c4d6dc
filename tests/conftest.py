from __future__ import annotations

from pathlib import Path

import os

import pytest
from hypothesis import settings

# CI explores the same examples every run (a property that fails by chance on one run in
# hundreds must not turn an unrelated change red); locally every run draws new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
KB = FIXTURES / "kb000239719"

#: every fixture log file, for tests that must hold for all of them
LOG_FIXTURES = sorted(
    p for p in FIXTURES.rglob("*") if p.is_file() and any(k in p.name for k in ("log.imss", "polevt.imss", "msgtra.imss", "maillog"))
)


@pytest.fixture(autouse=True)
def _chdir_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests and doctests use paths relative to the repository root, as the README does."""
    monkeypatch.chdir(ROOT)


def rows_both_ways(path: Path):
    """Rows from correlate (lazy reader) and from the full session reader, as dicts."""
    from datetime import timedelta

    from imsvalog.correlation import correlate
    from imsvalog.correlation.compare import recompute
    from imsvalog.correlation.link import link_rows
    from imsvalog.correlation.scan import read_sessions
    from imsvalog.readers import records_of
    from imsvalog.sources import ScanStats, discover

    files = discover([path]).files
    kinds = lambda k: [f for f in files if f.kind == k]  # noqa: E731
    rejects: list = []
    full_sessions = read_sessions(kinds("imss"), rejects, ScanStats())
    events = list(records_of(kinds("polevt"), rejects))
    tx = list(records_of(kinds("msgtra"), rejects))
    mail = [m for m in records_of(kinds("maillog"), rejects) if m.message_id or m.queued_as]
    from imsvalog.rotation import holes

    # the same words for a time that falls in a rotated file left out, so only the readers are compared
    # and the same test of a scan begun before the lines read (start_unread takes the lines that name it, whoever found them)
    from functools import partial

    from imsvalog.correlation.entry import _unread
    from imsvalog.correlation.scan import end_unread, start_unread

    # (and the time the unread rest of a file cut short held, as correlate counts it)
    full_rows = link_rows(full_sessions, events, tx, timedelta(seconds=1), mail,
                          holes=holes(files, timedelta(seconds=1), _unread(rejects)),
                          starts=partial(start_unread, kinds("imss")), ends=partial(end_unread, kinds("imss")))
    for r in full_rows:
        recompute(r, None, "documented")
    lazy = correlate(path)
    from imsvalog.correlation.entry import missing_kinds

    missing_kinds(lazy.summary, full_rows)  # the same correlate-level note on both, so only the readers are compared
    return [r.to_dict() for r in lazy.rows], [r.to_dict() for r in full_rows], lazy, full_sessions
