"""Two processes scanning halves of a big log.imss give exactly the one-process result."""

from __future__ import annotations

from pathlib import Path

import pytest

import imsvalog
import imsvalog.correlation.scan as scan

from .conftest import FIXTURES
from .test_rotation import _generator


@pytest.mark.parametrize("name", ["busy-day", "kb000239719", "ugly", "hostile", "gen"])
def test_two_halves_give_the_rows_of_one_pass(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    where = FIXTURES / name
    if name == "gen":
        _generator().generate(tmp_path, 2, density=0.27, spoof_share=0.05)
        where = tmp_path
    monkeypatch.setattr(scan, "WORKERS", 1)
    one = imsvalog.correlate(where)
    monkeypatch.setattr(scan, "WORKERS", 2)
    monkeypatch.setattr(scan, "PARALLEL_FROM", 1)  # every plain file is cut in two
    two = imsvalog.correlate(where)
    assert [r.to_dict() for r in two.rows] == [r.to_dict() for r in one.rows]
    assert two.summary.to_dict() == one.summary.to_dict()
    assert [s.to_row() for s in two.sessions] == [s.to_row() for s in one.sessions]
    assert [(r.source.file, r.source.line, r.reason) for r in two.rejects] == [
        (r.source.file, r.source.line, r.reason) for r in one.rejects
    ]
    if name == "gen":
        assert len(one.rows) > 5


@pytest.mark.parametrize("value", ["abc", "1.5", "\x1b[31mtwo"])
def test_a_workers_variable_that_is_no_number_is_a_plain_input_error(value: str) -> None:
    import os
    import subprocess
    import sys

    from .conftest import ROOT

    env = {**os.environ, "IMSVALOG_WORKERS": value}
    r = subprocess.run([sys.executable, "-m", "imsvalog", "correlate", str(FIXTURES / "kb000239719"), "-f", "jsonl"],
                       capture_output=True, env=env, cwd=ROOT)
    err = r.stderr.decode()
    assert r.returncode == 2 and "internal error" not in err and "Traceback" not in err, err
    assert err.startswith("imsvalog: error: IMSVALOG_WORKERS=") and "is not a number of processes" in err
    assert "\x1b" not in err and r.stdout == b""


def test_a_bad_workers_variable_is_no_error_when_no_log_imss_is_scanned() -> None:
    import os
    import subprocess
    import sys

    from .conftest import ROOT

    env = {**os.environ, "IMSVALOG_WORKERS": "abc"}
    r = subprocess.run([sys.executable, "-m", "imsvalog", "correlate", str(FIXTURES / "kb000239719" / "polevt.imss.20190430.0001"),
                        "-f", "jsonl"], capture_output=True, env=env, cwd=ROOT)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 1 and b"IMSVALOG_WORKERS" not in r.stderr, r.stderr
