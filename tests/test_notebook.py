"""notebooks/triage.ipynb: committed without outputs, and executed top to bottom by a Jupyter kernel
(nbclient) against the installed package; any cell error fails the suite."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "triage.ipynb"


def test_notebook_is_committed_without_outputs() -> None:
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    nbformat.validate(nbformat.reads(NOTEBOOK.read_text(), as_version=4))


def test_every_step_says_why_first() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = nb.cells
    for i, cell in enumerate(cells[2:], start=2):  # after the title and the cell that sets the case
        if cell.cell_type == "code" and cells[i - 1].cell_type == "markdown" and cells[i - 1].source.startswith("#"):
            assert len(cells[i - 1].source.splitlines()) >= 2, cells[i - 1].source  # a heading and a sentence


@pytest.fixture(scope="module")
def executed() -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    return nb


def _outputs(nb: nbformat.NotebookNode, mime: str) -> list[str]:
    return [o["data"][mime] for c in nb.cells if c.cell_type == "code" for o in c.outputs if mime in o.get("data", {})]


def _stdout(nb: nbformat.NotebookNode) -> str:
    return "".join(o["text"] for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("name") == "stdout")


def test_notebook_runs_and_shows_at_least_four_figures(executed: nbformat.NotebookNode) -> None:
    assert not [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert len(_outputs(executed, "image/png")) >= 6


def test_notebook_answers_the_case(executed: nbformat.NotebookNode) -> None:
    out = _stdout(executed)
    assert "0 lines could not be parsed" in out
    assert "18 of 309 scans ran before and have no trace" in out  # log level NORMAL until Monday 08:00
    assert "198.51.100.40 is not in the trusted list and made it fire on 11 messages, first at 2024-06-04 14:48." in out
    assert "3 disagreements" in out
    assert "13 still quarantined, 2 unknown (no trace)" in out  # those that stay include the scans without trace
    assert "0 contradictions between the ticket's list and IMSVA's verdicts" in out
    html = "".join(_outputs(executed, "text/html"))
    assert "<b>Correlation</b>" in html and "IMSVA counted 192.0.2.44" in html
    assert "<b>Trace of " in html and "postfix-in" in html
    plain = "".join(_outputs(executed, "text/plain"))
    assert "prevented             41" in plain


def _run_on(case: str) -> nbformat.NotebookNode:
    """The notebook executed on another case: the first cell reads ``IMSVALOG_CASE`` (the kernel inherits it)."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    mp = pytest.MonkeyPatch()
    mp.setenv("IMSVALOG_CASE", case)
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    finally:
        mp.undo()
    return nb


def test_notebook_runs_on_a_case_without_message_tracking_or_maillog() -> None:
    """Before: with CASE = fixtures/kb000239719 (the README's example) the notebook stopped at its fourth
    cell: InputError "no msgtra.imss file among: ..."; a folder of empty files ended in KeyError 'file'."""
    nb = _run_on(str(ROOT / "fixtures" / "kb000239719"))
    out = _stdout(nb)
    assert "no msgtra.imss records in this case" in out and "no maillog records in this case" in out
    assert "fired on 1 message from 2019-04-30 13:57" in out
    assert "made it fire on 1 message, first at 2019-04-30 13:57." in out
    assert len(_outputs(nb, "image/png")) >= 6


def test_notebook_runs_on_a_case_of_empty_files(tmp_path) -> None:
    for name in ("log.imss.20240314.0001", "polevt.imss.20240314.0001", "msgtra.imss.20240314.0001", "maillog"):
        (tmp_path / name).write_text("")
    out = _stdout(_run_on(str(tmp_path)))
    assert "no log.imss records in this case" in out and "none of the 0 scans has an AntiSpoofFilter trace" in out
    assert "fired on no message in these logs" in out and "none stay" in out
