"""``imsvalog redact`` that fails or is interrupted leaves ``--to`` as it was.

Before (attack as25c F2, main 85d4c22): Ctrl-C after some files left their finished copies (and the folders
made for them), so running again into the same folder was refused ("already exists; redact writes new files
only").
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imsvalog.errors import InputError
from imsvalog.redact import Redactor
from imsvalog.redact_files import Planned, redact_files

from .conftest import FIXTURES, ROOT

BUSY = FIXTURES / "busy-day"
KEY = bytes.fromhex((FIXTURES / "redaction-example.key").read_text().strip())


def _tree(folder: Path) -> list[str]:
    """Every file and folder below ``folder``, with file contents."""
    return sorted(
        f"{p.relative_to(folder)}/" if p.is_dir() else f"{p.relative_to(folder)}={p.read_bytes()!r}"
        for p in folder.rglob("*")
    )


def _case(folder: Path, copies: int) -> Path:
    """busy-day's log.imss (its 109 lines ``copies`` times over) as three rotated files, and its polevt.imss."""
    case = folder / "case"
    (case / "rotated").mkdir(parents=True)
    body = (BUSY / "log.imss.20240312.0001").read_bytes() * copies
    for n in (1, 2, 3):
        (case / "rotated" / f"log.imss.20240312.000{n}").write_bytes(body)
    (case / "polevt.imss.20240312.0001").write_bytes((BUSY / "polevt.imss.20240312.0001").read_bytes())
    return case


def _default_sigint() -> None:  # a SIGINT ignored by whoever started the tests would stay ignored in the child
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_after_some_copies_leaves_the_to_folder_as_it_was(tmp_path: Path) -> None:
    """A real SIGINT once a copy is in place and the next is being written: exit 130, the copies and the
    folder the run made are gone, the file and folder that were there before stay; a second run then works."""
    case = _case(tmp_path, 60)  # 6540 lines a file: each takes a while to redact
    to = tmp_path / "to"
    (to / "before").mkdir(parents=True)
    (to / "keep.txt").write_text("not imsvalog's\n")
    before = _tree(to)
    p = subprocess.Popen(
        [sys.executable, "-m", "imsvalog", "redact", str(case), "--to", str(to)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, preexec_fn=_default_sigint,
    )

    def writing_after_a_copy() -> bool:
        names = [x.name for x in to.rglob("*")]
        return any(n.startswith("log.imss.") for n in names) and any(n.startswith(".redact-") for n in names)

    end = time.monotonic() + 120
    while p.poll() is None and time.monotonic() < end and not writing_after_a_copy():
        time.sleep(0.001)
    assert p.poll() is None, "the run ended before a copy was in place and another being written"
    assert writing_after_a_copy()
    assert _tree(to) != before  # there was something to undo
    p.send_signal(signal.SIGINT)
    assert p.stderr is not None
    err = p.stderr.read().decode()
    rc = p.wait()
    assert rc == 130, (rc, err)
    assert err.endswith("imsvalog: interrupted\n"), err
    assert _tree(to) == before


def test_an_error_on_a_later_file_removes_the_copies_before_it(tmp_path: Path) -> None:
    """The second copy's name taken by another hand while it is written: the error names it, that file stays
    (it is not this run's), the first copy goes; the folder that now holds the other file stays with it."""
    case = _case(tmp_path, 1)
    to = tmp_path / "to"
    to.mkdir()
    (to / "keep.txt").write_text("not imsvalog's\n")
    seen: list[Planned] = []

    def on_file(p: Planned) -> None:
        seen.append(p)
        if len(seen) == 2:
            p.target.parent.mkdir(parents=True, exist_ok=True)
            p.target.write_text("someone else's\n")

    with pytest.raises(InputError, match="appeared while redacting; not overwritten"):
        redact_files([case], to, Redactor(KEY), on_file=on_file)
    assert len(seen) == 2 and seen[0].target.parent != to  # a folder was made for the first copy
    assert not seen[0].target.exists()
    assert _tree(to) == sorted([
        "keep.txt=b\"not imsvalog's\\n\"",
        f"{seen[1].target.parent.relative_to(to)}/",
        f"{seen[1].target.relative_to(to)}=b\"someone else's\\n\"",
    ])


def test_a_failed_run_removes_the_to_folder_it_made(tmp_path: Path) -> None:
    """--to not there before: a run that fails leaves it not there (every folder it made, --to too, goes)."""
    case = _case(tmp_path, 1)
    to = tmp_path / "new" / "to"

    def on_file(p: Planned) -> None:
        if p.kind == "polevt":
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        redact_files([case], to, Redactor(KEY), on_file=on_file)
    assert not (tmp_path / "new").exists()
