"""`imsvalog trace` imports only what it needs (issue 10: start-up dominated the trace benchmark)."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import FIXTURES, ROOT

HEAVY = ("pandas", "pyarrow", "matplotlib", "imsvalog.correlation", "imsvalog.spoof", "imsvalog.frames", "rich")


def _modules_after(args: list[str]) -> set[str]:
    code = (
        "import sys, io, contextlib, json\n"
        f"sys.argv = ['imsvalog', *{args!r}]\n"
        "from imsvalog_launcher import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit as e:\n"
        "        assert not e.code, e.code\n"
        "sys.__stdout__.write(json.dumps(sorted(sys.modules)))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    return set(json.loads(r.stdout))


def test_trace_by_internal_id_imports_no_dataframe_plot_or_correlation_library() -> None:
    mods = _modules_after(["trace", "4C4C4C4C-5D5D-46E6-97F7-A8A8B9B9CACA", str(FIXTURES / "busy-day"), "--format", "jsonl"])
    assert "imsvalog.timeline" in mods
    assert not [m for m in HEAVY if m in mods]


def test_trace_help_imports_less_still() -> None:
    mods = _modules_after(["trace", "--help"])
    assert not [m for m in (*HEAVY, "imsvalog.timeline") if m in mods]


def test_the_package_still_offers_every_public_name() -> None:
    import imsvalog

    assert all(getattr(imsvalog, n) is not None for n in imsvalog.__all__)
    assert imsvalog.correlate.__module__ == "imsvalog.correlation.entry"
    assert imsvalog.__version__
