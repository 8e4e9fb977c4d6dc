"""The default correlate table: one line per row, fits the terminal, IDs never broken."""

from __future__ import annotations

import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import fcntl

from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.render import unique_prefixes

from .conftest import FIXTURES, ROOT

runner = CliRunner()
BUSY = FIXTURES / "busy-day"
IDS = re.compile(r"^\d\d:\d\d:\d\d  (\S+)", re.M)


def run_in_pty(args: list[str], cols: int, *, stderr: bool = False, command: list[str] | None = None) -> str:
    """Run the CLI (or ``command``) with its stdout (and with ``stderr``, its stderr too) on a pseudo-terminal
    of ``cols`` columns; return what it printed (colours removed)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm"
    p = subprocess.Popen(command or [sys.executable, "-m", "imsvalog", *args], stdout=slave,
                         stderr=slave if stderr else subprocess.DEVNULL, stdin=subprocess.DEVNULL, cwd=ROOT, env=env)
    os.close(slave)
    chunks = []
    while True:
        r, _, _ = select.select([master], [], [], 30)
        if not r:
            break
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    p.wait(30)
    os.close(master)
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    return re.sub(r"\x1b\[[0-9;]*m", "", text)  # colours take no columns


def test_correlate_fits_an_80_column_terminal_one_line_per_row() -> None:
    out = run_in_pty(["correlate", str(BUSY)], 80)
    lines = out.splitlines()
    assert lines, out
    assert max(len(x) for x in lines) <= 80, "\n".join(x for x in lines if len(x) > 80)
    rows = IDS.findall(out)
    assert len(rows) == 9  # one line per row
    ids = [r for r in rows if r != "-"]
    assert len(set(ids)) == len(ids)  # unique prefixes
    assert "9E9E9E9E" in ids and "NO" in out  # the disagreement is visible


def test_ambiguous_rows_and_near_identical_ids_still_fit_80_columns() -> None:
    """Regression: on fixtures/time-only the table ran to 167 columns at 80 ('ambiguous: 11111111-0000-4000-8000-
    000000000001, 11111111-...-000000000002'; the IDs' shortest unique prefixes were the whole 36 characters)."""
    out = run_in_pty(["correlate", str(FIXTURES / "time-only")], 80)
    lines = out.splitlines()
    assert max(len(x) for x in lines) <= 80, "\n".join(x for x in lines if len(x) > 80)
    rows = IDS.findall(out)
    assert len(rows) == 5  # one line per row
    ids = [r for r in rows if r != "-"]
    assert len(set(ids)) == len(ids) == 3  # still tell the three events apart
    assert out.count("ambiguous") >= 4  # every ambiguous row still says so


def test_prefixes_grow_until_unique_and_full_ids_are_never_broken(tmp_path) -> None:
    got = unique_prefixes(["9E9E9E9E-9F9F-49A9-89B9-C9D9E9F9A9B9", "9E9E9E9E-9F00-49A9-89B9-C9D9E9F9A9B9", "1B2C3D4E-5F60"])
    assert got["9E9E9E9E-9F9F-49A9-89B9-C9D9E9F9A9B9"] == "9E9E9E9E-9F9"
    assert got["1B2C3D4E-5F60"] == "1B2C3D4E"
    wide = runner.invoke(app, ["correlate", str(BUSY), "--wide"], env={"COLUMNS": "400"})
    assert "9E9E9E9E-9F9F-49A9-89B9-C9D9E9F9A9B9" in wide.stdout  # --wide keeps the full IDs, unbroken


def test_piped_output_uses_the_content_width_or_columns() -> None:
    r = runner.invoke(app, ["correlate", str(BUSY)], env={"COLUMNS": ""})
    widths = [len(x) for x in r.stdout.splitlines()[:11]]
    assert max(widths) < 120 and not any(x.endswith(" ") for x in r.stdout.splitlines())  # the content's width
    assert "carol.manager@example.com → carol@example.com" in r.stdout  # nothing elided without a width to fit
    narrow = runner.invoke(app, ["correlate", str(BUSY)], env={"COLUMNS": "70"})
    assert max(len(x) for x in narrow.stdout.splitlines()[:11]) <= 70  # the table; paragraphs stay one line when piped
    assert "…" in narrow.stdout


def test_empty_only_says_no_rows_match() -> None:
    r = runner.invoke(app, ["correlate", str(FIXTURES / "time-only"), "--only", "disagreements"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("no rows match")


def test_empty_only_says_no_rows_match_in_the_wide_table_and_markdown_too() -> None:
    args = ["correlate", str(FIXTURES / "kb000239719"), "--only", "unlinked"]
    wide = runner.invoke(app, [*args, "--wide"])
    assert wide.exit_code == 0 and wide.stdout.startswith("no rows match\n") and "┏" not in wide.stdout
    md = runner.invoke(app, [*args, "--format", "markdown"])
    assert md.exit_code == 0 and md.stdout.startswith("No rows match.\n") and "|---|" not in md.stdout
    csv_out = runner.invoke(app, [*args, "--format", "csv"]).stdout
    assert csv_out.splitlines()[0].startswith("summary,time,") and len(csv_out.splitlines()) == 1  # machines get the header


def test_several_appliances_get_an_appliance_column() -> None:
    r = runner.invoke(app, ["correlate", str(FIXTURES / "two-appliances")])
    assert r.exit_code == 0, r.output
    head, *rows = r.stdout.splitlines()[1:4]
    assert head.startswith("appliance  time")
    assert {x.split()[0] for x in rows} == {"imsva01", "imsva02"}


def test_narrow_widths_give_up_columns_instead_of_overflowing() -> None:
    """Attack F5: at COLUMNS=60 rows ran to 67 cells and at 40 to 69; 'who' shrank to 'al…m → bo…om' while
    the link column kept 'ID,MsgID,time' whole.  Now the link shows its strongest basis (+ how many more),
    who shows the sender alone, and then IPs, fired and who go; time, ID, agreement and link stay."""
    for fixture in ("busy-day", "time-only"):
        for cols in (60, 50, 40):
            out = runner.invoke(app, ["correlate", str(FIXTURES / fixture)], env={"COLUMNS": str(cols)}).stdout
            table = out.split("\nWhat IMSVA")[0].split("\n10 scans")[0].split("\n3 scans")[0].splitlines()
            assert max(len(x) for x in table) <= cols, (cols, [x for x in table if len(x) > cols])
            rows = re.findall(r"^\d\d:\d\d:\d\d (\S+)", "\n".join(table), re.M)
            ids = [r for r in rows if r != "-"]
            assert len(rows) == (9 if fixture == "busy-day" else 5) and len(set(ids)) == len(ids)
            head = next(x for x in table if x.startswith("time "))
            assert "agrees" in head and "link" in head
    out = runner.invoke(app, ["correlate", str(BUSY)], env={"COLUMNS": "60"}).stdout
    assert "ID+2" in out and "alice@ex…ple.com" in out and "…m → " not in out


def test_wide_on_an_80_column_terminal_keeps_cells_whole_and_folds_the_prose() -> None:
    """Stop 21: `correlate -w` on an 80-column terminal squeezed the full table into 80 cells (each ID folded into a
    column of two letters, one row 18 lines tall) and left the prose under it unfolded (one summary line 351 cells).
    Now the table is as wide as it needs (the terminal wraps its lines; `less -S` shows them) and the prose is
    folded to the terminal."""
    out = run_in_pty(["correlate", str(BUSY), "-w"], 80)
    lines = out.splitlines()
    row = next(ln for ln in lines if "5E1C0F7A-3B2D-4C6E-9A8B-1D2E3F4A5B6C" in ln)  # the full ID, whole, on one line
    assert "4242:139871" in row and "alice@example.com → bob@example.com" in row, row
    prose = lines[lines.index(next(ln for ln in lines if ln.startswith("└"))) + 1:]
    assert prose and prose[0].startswith("10 scans in 132 log.imss lines"), prose[:2]
    assert all(len(ln) <= 80 for ln in prose), max(prose, key=len)
