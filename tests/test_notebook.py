"""The triage notebook runs top to bottom against the shipped fixtures."""

from __future__ import annotations

import json

from .conftest import ROOT


def test_notebook_code_cells_run_in_order(capsys) -> None:
    nb = json.loads((ROOT / "notebooks" / "triage.ipynb").read_text())
    ns: dict = {}
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(cells) >= 5
    for cell in cells:
        src = "".join(cell["source"])
        exec(compile(src, "triage.ipynb", "exec"), ns)  # noqa: S102 - our own notebook
    out = capsys.readouterr().out
    assert "IMSVA counted 192.0.2.44" in out
    assert "203.0.113.45" in out  # a missing trusted address from the busy day
    assert "198.51.100.25 trusted" in out  # read off a scan that did not fire
    assert len(ns["events"]) == 9
