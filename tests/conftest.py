from __future__ import annotations

from pathlib import Path

import pytest

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
