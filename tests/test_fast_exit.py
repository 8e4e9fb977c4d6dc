"""The command exits without the interpreter's teardown once it has finished with a plain status (imsvalog_launcher):
its whole output written, its status kept, every other exit handler run; the teardown itself skipped."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import FIXTURES, ROOT

SCRIPT = """
import atexit, sys
import imsvalog_launcher

class Late:
    def __del__(self):
        sys.stderr.write("teardown ran\\n")

late = Late()  # freed only by the interpreter's teardown
atexit.register(lambda: sys.stderr.write("other exit handler ran\\n"))
sys.argv = ["imsvalog", *sys.argv[1:]]
imsvalog_launcher.main()
"""


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_a_finished_command_keeps_its_output_and_status_runs_the_exit_handlers_and_skips_the_teardown() -> None:
    from imsvalog.correlation import correlate

    done = _run("correlate", str(FIXTURES / "two-days"), "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == len(correlate(str(FIXTURES / "two-days")).rows) == 100  # every line written, none cut
    assert "other exit handler ran" in done.stderr
    assert "teardown ran" not in done.stderr


def test_an_input_error_keeps_its_status_and_message() -> None:
    done = _run("correlate", str(FIXTURES / "no-such-folder"), "--format", "jsonl")
    assert done.returncode == 2
    assert "no such file or directory" in done.stderr
    assert "other exit handler ran" in done.stderr and "teardown ran" not in done.stderr


def test_a_reader_that_went_away_still_exits_as_before() -> None:
    # the reader reads one line and closes the pipe: the status and stderr are what they were without the handler
    cmd = f"{sys.executable} -m imsvalog correlate {FIXTURES / 'two-days'} --format jsonl | head -1"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('{"summary": ')
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
