"""Inputs are only ever read; outputs are written safely; exit codes say what happened (issue 8, items 1 and 6)."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import imsvalog
from imsvalog.cli import app

from .conftest import FIXTURES, KB, ROOT

runner = CliRunner()
BUSY = FIXTURES / "busy-day"
SCRIPT = Path(sys.executable).parent / "imsvalog"


def run(*args: str):
    return runner.invoke(app, list(args))


def sh(*args: str, **kw):
    return subprocess.run([str(SCRIPT), *args], capture_output=True, cwd=ROOT, **kw)


@pytest.fixture()
def case(tmp_path: Path) -> Path:
    """A copy of the busy-day case folder: the only copy of a customer's logs."""
    d = tmp_path / "case"
    shutil.copytree(BUSY, d)
    return d


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# --- item 1: output destroys input -----------------------------------------------------------


@pytest.mark.parametrize("command", ["parse", "correlate"])
def test_output_naming_an_input_inside_a_folder_is_refused_and_nothing_is_written(case: Path, command: str) -> None:
    before = snapshot(case)
    target = case / "polevt.imss.20240312.0001"
    r = run(command, str(case), "-o", str(target))
    assert r.exit_code == 2, r.output
    assert str(target) in r.stderr and "input" in r.stderr and "Traceback" not in r.output
    assert snapshot(case) == before


@pytest.mark.parametrize("command", ["parse", "correlate"])
def test_a_new_log_like_name_inside_an_input_folder_is_refused(case: Path, command: str) -> None:
    target = case / "log.imss.20990101.0001"
    r = run(command, str(case), "-o", str(target))
    assert r.exit_code == 2 and "would be read as input" in r.stderr
    assert not target.exists() and not list(case.glob(".*"))


def test_a_log_like_name_matched_by_an_input_glob_is_refused(case: Path) -> None:
    r = run("parse", f"{case}/log.imss.*", "-o", str(case / "log.imss.20990101.0001"))
    assert r.exit_code == 2 and "input pattern" in r.stderr


@pytest.mark.parametrize("link", ["hard", "symbolic"])
@pytest.mark.parametrize("command", ["parse", "correlate"])
def test_a_link_to_an_input_is_refused(case: Path, tmp_path: Path, link: str, command: str) -> None:
    before = snapshot(case)
    alias = tmp_path / "out.txt"
    (os.link if link == "hard" else os.symlink)(case / "polevt.imss.20240312.0001", alias)
    r = run(command, str(case), "-o", str(alias))
    assert r.exit_code == 2 and "same file as the input" in r.stderr, r.output
    assert snapshot(case) == before


def test_trusted_file_as_output_is_refused(case: Path, tmp_path: Path) -> None:
    t = tmp_path / "t.txt"
    t.write_text("198.51.100.25\n")
    r = run("correlate", str(case), "--trusted-file", str(t), "-o", str(t))
    assert r.exit_code == 2 and str(t) in r.stderr
    assert t.read_text() == "198.51.100.25\n"
    msg = FIXTURES / "messages" / "cloud-relay-hairpin.eml"
    r = run("spoof-check", str(msg), "--trusted-file", str(t), "-o", str(t))
    assert r.exit_code == 2 and t.read_text() == "198.51.100.25\n"


def test_spoof_check_output_may_not_be_the_message(tmp_path: Path) -> None:
    msg = tmp_path / "m.eml"
    shutil.copy(FIXTURES / "messages" / "cloud-relay-hairpin.eml", msg)
    before = msg.read_bytes()
    r = run("spoof-check", str(msg), "-o", str(msg))
    assert r.exit_code == 2 and msg.read_bytes() == before


def test_a_bad_input_path_leaves_an_existing_output_untouched(tmp_path: Path) -> None:
    keep = tmp_path / "keep.csv"
    keep.write_text("precious\n")
    r = run("parse", "/nonexistent", "-f", "csv", "-o", str(keep))
    assert r.exit_code == 2 and keep.read_text() == "precious\n"


def test_output_and_rejects_may_not_be_the_same_file(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    r = run("parse", str(KB), "-o", str(out), "--rejects", str(out))
    assert r.exit_code == 2 and "two outputs" in r.stderr and not out.exists()


def test_output_is_renamed_into_place_and_keeps_the_file_mode(tmp_path: Path) -> None:
    out = tmp_path / "o.csv"
    out.write_text("old\n")
    out.chmod(0o640)
    r = run("parse", str(KB), "-f", "csv", "-o", str(out))
    assert r.exit_code == 0 and out.read_text().startswith("kind,shape")
    assert out.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.csv"]


def test_a_failed_run_leaves_the_existing_file_and_no_temporary_file(tmp_path: Path) -> None:
    from imsvalog.outputs import Inputs, output_file

    out = tmp_path / "report.csv"
    out.write_text("yesterday's report\n")
    for exc in (RuntimeError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(exc)), output_file(out, Inputs()) as fh:
            fh.write("half a report")
            raise exc
        assert out.read_text() == "yesterday's report\n"
        assert [p.name for p in tmp_path.iterdir()] == ["report.csv"]


def test_output_folder_refuses_a_folder_that_is_or_contains_an_input(case: Path, tmp_path: Path) -> None:
    from imsvalog.outputs import Inputs, OutputError, check_output_folder, output_folder

    inputs = Inputs.of([case])
    for bad in (case, case.parent, tmp_path):
        with pytest.raises(OutputError, match="input"):
            check_output_folder(bad, inputs)
    inputs = Inputs.of([case / "polevt.imss.20240312.0001"], [case / "polevt.imss.20240312.0001"])
    with pytest.raises(OutputError, match="contains the input"):
        check_output_folder(case, inputs)
    out = output_folder(tmp_path / "plots", Inputs.of([case]))
    with out.open("a.txt") as fh:
        fh.write("x")
    assert (tmp_path / "plots" / "a.txt").read_text() == "x"
    inside = output_folder(case / "plots", Inputs.of([case / "polevt.imss.20240312.0001"]))
    with pytest.raises(OutputError):
        inside.open("../escape.txt")


# --- item 6: exit codes --------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "jsonl", "csv", "markdown", "json"])
def test_reader_of_the_pipe_going_away_is_success(fmt: str) -> None:
    p = subprocess.Popen([str(SCRIPT), "correlate", str(BUSY), "-f", fmt], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    p.stdout.readline()  # like `| head -1`
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait() == 0 and "Traceback" not in err and "error" not in err.lower()


@pytest.mark.parametrize("fmt", ["table", "jsonl", "csv", "markdown", "json"])
def test_notes_reach_stderr_when_the_reader_of_the_rows_went_away(fmt: str) -> None:
    """`correlate ... | head -1`: the reject count and the assumptions are still said (the pipe broke on the rows)."""
    cmd = [str(SCRIPT), "correlate", str(FIXTURES / "ugly"), str(FIXTURES / "two-days"), "-f", fmt]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    p.stdout.close()  # gone before the first row is written
    err = p.stderr.read().decode()
    assert p.wait() == 0 and "Traceback" not in err
    assert "5 lines could not be parsed or read:" in err and "maillog year 2024 from the file name" in err, err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_notes_reach_stderr_when_the_rows_cannot_be_written() -> None:
    """A full disk is an error (exit 2), and the reject count and the absent kinds are still said."""
    r = sh("correlate", str(FIXTURES / "ugly"), "-f", "jsonl", "-o", "/dev/full")
    err = r.stderr.decode()
    assert r.returncode == 2 and "/dev/full: cannot write: No space left on device" in err, err
    assert "5 lines could not be parsed or read:" in err, err


def test_parse_into_a_closed_pipe_is_success() -> None:
    p = subprocess.Popen([str(SCRIPT), "parse", str(BUSY)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    p.stdout.close()
    assert p.wait() == 0 and b"Traceback" not in p.stderr.read()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("command", [["parse", str(BUSY)], ["correlate", str(BUSY)], ["spoof-check", str(FIXTURES / "messages" / "cloud-relay-hairpin.eml")]])
def test_write_errors_are_plain_errors_naming_the_path(command: list[str]) -> None:
    r = sh(*command, "-o", "/dev/full")
    err = r.stderr.decode()
    assert r.returncode == 2 and "/dev/full: cannot write: No space left on device" in err and "bug" not in err, err
    with open("/dev/full", "w") as full:
        r = subprocess.run([str(SCRIPT), *command], stdout=full, stderr=subprocess.PIPE, cwd=ROOT)
    err = r.stderr.decode()
    assert r.returncode == 2 and "standard output: cannot write: No space left on device" in err and "Traceback" not in err, err


def test_standard_output_redirected_into_an_input_is_refused(case: Path) -> None:
    victim = case / "maillog-20240313"
    with open(victim, "a") as fh:  # `imsvalog parse case >> case/maillog-20240313`
        r = subprocess.run([str(SCRIPT), "parse", str(case)], stdout=fh, stderr=subprocess.PIPE, cwd=ROOT)
    assert r.returncode == 2 and b"standard output: is the input" in r.stderr
    assert victim.read_bytes() == (BUSY / "maillog-20240313").read_bytes()


def test_rejects_without_strict_say_so_in_one_line_and_exit_0() -> None:
    r = run("parse", str(FIXTURES / "ugly"))
    assert r.exit_code == 0
    lines = [ln for ln in r.stderr.splitlines() if "rejected" in ln]
    assert len(lines) == 1 and "exit status 0 (--strict makes it 1)" in lines[0]
    assert run("parse", str(FIXTURES / "ugly"), "--strict").exit_code == 1


def test_parse_on_a_folder_without_logs_exits_2(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    r = run("parse", str(tmp_path))
    assert r.exit_code == 2 and "no IMSVA log file" in r.stderr and "notes.txt: skipped" in r.stderr


#: imsvalog's own files, by exact path: the package directory and the launcher module (a substring such as
#: "/imsvalog" would also match a checkout folder named imsvalog, git clone's default, and the venv inside it)
PACKAGE_DIR = Path(imsvalog.__file__).resolve().parent
LAUNCHER = Path(str(importlib.util.find_spec("imsvalog_launcher").origin)).resolve()  # not imported: it sets SIGINT
_FRAME = re.compile(r'^\s*File "([^"]+)", line \d+, in (.*)$', re.M)


def before_first_line(err: str, script: Path = SCRIPT, package: Path = PACKAGE_DIR, launcher: Path = LAUNCHER) -> bool:
    """The signal came while the interpreter was still starting or looking for imsvalog's entry
    module: no line of imsvalog had run yet (Python's own handling, out of any program's reach)."""
    frames = _FRAME.findall(err)

    def ours(file: str) -> bool:  # a file of imsvalog itself, compared as paths, never as substrings
        path = Path(file)
        return path.is_absolute() and (path.resolve() == launcher or package in path.resolve().parents)

    # "Fatal Python error: init_import_site: ..." or "init_sys_streams: ..." (seen under load): the interpreter's
    # own initialisation, no file of imsvalog among the frames
    if re.search(r"^Fatal Python error: init_\w+: ", err, re.M):
        return not any(ours(f) for f, _ in frames)
    # "Error processing line 1 of .../__editable__....pth" (seen under load): site.py runs a .pth of the editable
    # install before any program, reports the interrupt itself, and goes on ("Remainder of file ignored")
    if re.match(r"Error processing line \d+ of \S+\.pth:", err) and "Remainder of file ignored" in err:
        head = err[: err.index("Remainder of file ignored")]
        return not any(ours(f) for f, _ in _FRAME.findall(head))
    return (
        bool(frames)
        and Path(frames[0][0]).resolve() == script.resolve()  # pip's wrapper script itself
        and frames[0][1] == "<module>"
        and "sys.exit(main())" not in err  # the script had not called main() yet
        and not any(ours(f) for f, _ in frames)
    )


def _default_sigint() -> None:
    # in the child before exec: a SIGINT ignored by whoever started the tests (a background job of a
    # non-interactive shell ignores it) would stay ignored, by design, and no moment would give 130
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([str(SCRIPT), *args], stderr=subprocess.PIPE, cwd=ROOT, preexec_fn=_default_sigint, **kw)


def _wait_for(p: subprocess.Popen, ready, what: str, deadline: float = 120.0) -> None:
    """Poll until ``ready(pid)`` holds: a moment the program has certainly reached, however slow the machine."""
    end = time.monotonic() + deadline
    while p.poll() is None and time.monotonic() < end:
        try:
            if ready(p.pid):
                return
        except OSError:  # /proc entries come and go while the program opens and closes files
            pass
        time.sleep(0.001)
    p.kill()
    raise AssertionError(f"never saw the program {what} (exit status {p.poll()}): {p.stderr.read().decode()[-2000:]}")


def _has_open_file_under(folder: Path):
    return lambda pid: any(
        os.readlink(f"/proc/{pid}/fd/{fd}").startswith(f"{folder}{os.sep}") for fd in os.listdir(f"/proc/{pid}/fd")
    )


def _interrupted(p: subprocess.Popen) -> tuple[int, str]:
    p.send_signal(signal.SIGINT)
    err = p.stderr.read().decode()
    return p.wait(), err


def test_ctrl_c_at_any_moment_exits_130_without_traceback() -> None:
    """SIGINT at several moments of start-up and run: never a traceback, always 130 (or done)."""
    for delay in (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5):
        p = _start("correlate", str(BUSY), "--explain", stdout=subprocess.DEVNULL)
        time.sleep(delay)
        rc, err = _interrupted(p)
        if before_first_line(err):
            continue
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, (delay, err)
        # -SIGINT: killed before Python started (a shell shows 130 too); 0: finished before the signal
        assert rc in (130, -signal.SIGINT, 0), (delay, rc, err)
    # Under load (load average > 7) start-up alone can outlast every delay above, so 130 is checked at
    # a moment the program has certainly reached instead: it has a file of the case open.
    p = _start("correlate", str(BUSY), "--explain", stdout=subprocess.DEVNULL)
    _wait_for(p, _has_open_file_under(BUSY), "open a file of the case")
    rc, err = _interrupted(p)
    assert rc == 130 and "Traceback" not in err and "KeyboardInterrupt" not in err, (rc, err)
    assert "interrupted" in err


def test_ctrl_c_while_waiting_for_standard_input_exits_130_without_traceback() -> None:
    """spoof-check reading a message from a pipe that is still open: blocked in read(), fully started."""
    p = _start("spoof-check", "-", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert p.stdin is not None
    p.stdin.write(b"Received: from mx (mx [192.0.2.1]) by gw; Mon, 6 Jun 2016 13:43:08 +0900\r\n")
    p.stdin.flush()
    _wait_for(p, lambda pid: "pipe" in Path(f"/proc/{pid}/wchan").read_text(), "wait for more of standard input")
    rc, err = _interrupted(p)
    p.stdin.close()
    assert rc == 130 and "Traceback" not in err and "KeyboardInterrupt" not in err, (rc, err)
    assert p.stdout is not None and p.stdout.read() == b""  # nothing half-written


def test_ctrl_c_between_the_launchers_hand_over_and_the_commands_handler_exits_130() -> None:
    """The window the start-up sweep hits only by luck under load: the launcher has handed Ctrl-C back to
    Python, the command's own ``except KeyboardInterrupt`` is not reached yet (``cli.main``'s first lines).
    Before: a ``KeyboardInterrupt`` traceback from the launcher."""
    code = (
        "import signal, sys\n"
        "sys.argv = ['imsvalog', '--version']\n"
        "import imsvalog_launcher, imsvalog.cli\n"
        "real = imsvalog.cli.main\n"
        "def early():\n"
        "    signal.raise_signal(signal.SIGINT)\n"
        "    real()\n"
        "imsvalog.cli.main = early\n"
        "imsvalog_launcher.main()\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, preexec_fn=_default_sigint)
    err = r.stderr.decode()
    assert r.returncode == 130 and "Traceback" not in err and "KeyboardInterrupt" not in err, (r.returncode, err)
    assert err == "imsvalog: interrupted\n" and r.stdout == b""


# --- item 8: FIFOs, symlink loops, empty folders ------------------------------------------


def test_a_fifo_inside_a_folder_is_listed_as_skipped_and_the_rest_is_read(case: Path) -> None:
    os.mkfifo(case / "log.imss.20240312.0009")
    r = run("parse", str(case), "-f", "jsonl", "--verbose")
    assert r.exit_code == 0, r.output
    assert "log.imss.20240312.0009: skipped: not a regular file: a FIFO (named pipe)" in r.stderr
    assert "polevt.imss.20240312.0001: " in r.stderr


def test_a_looping_symlink_matched_by_a_glob_is_reported_not_fatal(case: Path) -> None:
    os.symlink("log.imss.loop-b", case / "log.imss.loop-a")
    os.symlink("log.imss.loop-a", case / "log.imss.loop-b")
    r = run("parse", f"{case}/log.imss.*", "-f", "jsonl", "--verbose")
    assert r.exit_code == 0, r.output
    assert "log.imss.loop-a: skipped: not a regular file: a symbolic link that loops" in r.stderr
    assert "log.imss.20240312.0001: " in r.stderr
    r = run("parse", str(case / "log.imss.loop-a"))
    assert r.exit_code == 2 and "a symbolic link that loops" in r.stderr


def test_spoof_check_on_a_fifo_does_not_wait(tmp_path: Path) -> None:
    fifo = tmp_path / "headers.txt"
    os.mkfifo(fifo)
    r = sh("spoof-check", str(fifo), timeout=60)  # would block forever in open() before
    assert r.returncode == 2 and b"not a regular file: a FIFO" in r.stderr


def test_undecodable_bytes_in_eml_headers_are_shown_as_escapes(tmp_path: Path) -> None:
    eml = tmp_path / "latin1.eml"
    eml.write_bytes(
        b"Received: from mx (mx [192.0.2.1]) by gw; Mon, 6 Jun 2016 13:43:08 +0900\r\n"
        b"From: Caf\xe9 <a@example.com>\r\nTo: b@example.com\r\nSubject: \xff\xfe\r\n\r\nbody\r\n"
    )
    r = run("spoof-check", str(eml))
    assert r.exit_code == 0 and "Caf\\xe9 <a@example.com>" in r.stdout and "\ufffd" not in r.stdout
    r = run("spoof-check", str(eml), "-f", "json")
    assert "Caf\\\\xe9" in r.stdout and "\\ufffd" not in r.stdout


# --- item 3: --time-window and times at the ends of the calendar ----------------------------


@pytest.mark.parametrize("window", ["inf", "1e308", "nan", "86401"])
def test_time_windows_that_are_no_number_of_seconds_exit_2(window: str) -> None:
    r = run("correlate", str(KB), "--time-window", window)
    assert r.exit_code == 2 and "Traceback" not in r.output and "time-window" in r.output


@pytest.mark.parametrize("stamp", ["9999/12/31 23:59:59", "0001/01/01 00:00:00"])
def test_traces_at_the_ends_of_the_calendar_do_not_crash_correlate(tmp_path: Path, stamp: str) -> None:
    for f in KB.iterdir():
        (tmp_path / f.name).write_text(f.read_text().replace("2019/04/30 13:57:43", stamp))
    r = run("correlate", str(tmp_path), "--time-window", "86400")
    assert r.exit_code == 0, r.output
    assert "rejected line" in r.stdout and "year outside 1970-2199" in r.stderr


def test_an_output_in_a_missing_folder_or_naming_a_folder_is_a_plain_error(tmp_path: Path) -> None:
    r = run("parse", str(KB), "-o", str(tmp_path / "nowhere" / "x.csv"))
    assert r.exit_code == 2 and "nowhere/x.csv: cannot write: No such file or directory" in r.stderr
    r = run("parse", str(KB), "-o", str(tmp_path))
    assert r.exit_code == 2 and "is a directory" in r.stderr


# the stderr of a SIGINT ~50 ms after start, while site imports the editable install's finder, and while pip's
# wrapper script runs its own first line: captured from real runs, the checkout path put in as CLONE
_SITE_INIT = '''Fatal Python error: init_import_site: Failed to import the site module
Python runtime state: initialized
Traceback (most recent call last):
  File "<frozen importlib._bootstrap>", line 1176, in _find_and_load
  File "<frozen site>", line 186, in addpackage
  File "<string>", line 1, in <module>
  File "CLONE/.venv/lib/python3.11/site-packages/__editable___imsvalog_0_1_0_finder.py", line 7, in <module>
    from pathlib import Path
  File "/usr/lib/python3.11/pathlib.py", line 14, in <module>
KeyboardInterrupt
'''
# the same moment seen once more under load (stop 24): site reports the interrupt in the .pth and goes on
_SITE_PTH = '''Error processing line 1 of CLONE/.venv/lib/python3.11/site-packages/__editable__.imsvalog-0.1.0.pth:

  Traceback (most recent call last):
    File "/root/.pyenv/versions/3.11.7/lib/python3.11/functools.py", line 972, in __set_name__
      def __set_name__(self, owner, name):

  KeyboardInterrupt

  The above exception was the direct cause of the following exception:

  Traceback (most recent call last):
    File "<frozen site>", line 186, in addpackage
    File "<string>", line 1, in <module>
    File "CLONE/.venv/lib/python3.11/site-packages/__editable___imsvalog_0_1_0_finder.py", line 7, in <module>
      from pathlib import Path
  RuntimeError: Error calling __set_name__ on 'cached_property' instance 'hostmask' in 'IPv4Interface'

Remainder of file ignored
'''
_WRAPPER = '''Traceback (most recent call last):
  File "CLONE/.venv/bin/imsvalog", line 5, in <module>
    from imsvalog_launcher import main
  File "<frozen importlib._bootstrap>", line 1176, in _find_and_load
KeyboardInterrupt
'''


@pytest.mark.parametrize("clone", ["/home/dev/imsvalog", "/work/wt/i7", "/srv/imsvalog/imsvalog"])
def test_before_first_line_does_not_depend_on_the_checkout_folder_name(clone: str) -> None:
    """Attack on the leftovers, finding 6: the check looked for "/imsvalog" anywhere in a frame, so in a default
    clone (folder imsvalog, venv inside it) Python's own start-up was taken for imsvalog's code and the Ctrl-C test
    failed under load. Now imsvalog's files are its package directory and launcher, compared as paths."""
    root = Path(clone)
    where = {"script": root / ".venv/bin/imsvalog", "package": root / "imsvalog", "launcher": root / "imsvalog_launcher.py"}
    assert before_first_line(_SITE_INIT.replace("CLONE", clone), **where)
    assert before_first_line(_WRAPPER.replace("CLONE", clone), **where)
    assert before_first_line(_SITE_PTH.replace("CLONE", clone), **where)
    assert not before_first_line(_SITE_PTH.replace("CLONE", clone).replace(
        "    File \"<string>\"", f"    File \"{clone}/imsvalog/cli.py\", line 3, in <module>\n    File \"<string>\""), **where)
    # once a line of imsvalog has run, it is imsvalog's business (and must not show a traceback)
    ran = _WRAPPER.replace("CLONE", clone).replace(
        '  File "<frozen', f'  File "{clone}/imsvalog_launcher.py", line 40, in <module>\n  File "<frozen'
    )
    assert not before_first_line(ran, **where)
    ran = _SITE_INIT.replace("CLONE", clone).replace('  File "/usr/lib', f'  File "{clone}/imsvalog/cli.py", line 3, in <module>\n  File "/usr/lib')
    assert not before_first_line(ran, **where)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["--version"], ["--help"], ["correlate", "--help"], ["redact", "--verify"]])
def test_help_and_version_into_a_full_disk_are_one_line_errors(args: list[str], tmp_path: Path) -> None:
    """Stop 20: `imsvalog --help > /dev/full` was a traceback (click's echo failed outside any command); attack s21a
    F8: `redact --verify > /dev/full` was an 'internal error' (exit 3): the command's own echo failed."""
    if args[0] == "redact":
        args = ["redact", str(BUSY), "--to", str(tmp_path / "out"), "--verify"]
    with open("/dev/full", "wb") as full:
        r = subprocess.run([str(SCRIPT), *args], stdout=full, stderr=subprocess.PIPE, cwd=ROOT)
    whole = r.stderr.decode()
    assert r.returncode == 2 and "Traceback" not in whole and "internal error" not in whole, whole
    err = whole.splitlines()[-1] + "\n" if args[0] == "redact" else whole  # redact says what it wrote first
    assert err == "imsvalog: error: standard output: cannot write: No space left on device\n", err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(("args", "stderr", "status"), [
    (["correlate", "/nonexistent-imsvalog-input"], "full", 2),  # the input error's line is lost: still 2
    (["--bogus-option"], "full", 2),  # a usage error: 2, as click says
    (["correlate", str(BUSY), "--format", "jsonl"], "full", 2),  # its reject report owed on stderr is lost
    (["correlate", str(BUSY), "--format", "jsonl"], "closed", 2),  # 2>&-: the same
    (["correlate", str(KB)], "full", 0),  # nothing to say on stderr: nothing lost
])
def test_notes_that_cannot_reach_stderr_are_an_output_error(args: list[str], stderr: str, status: int) -> None:
    """Stop 21 (attack s21a F8): with standard error on a full disk, a usage error or a command whose notes (rejects,
    warnings) could not be written ended with status 1 and a traceback into the void; now status 2 (an output error,
    as for standard output), unless nothing was to be said, or its reader went away (as `| head` on stdout)."""
    if stderr == "full":
        with open("/dev/full", "wb") as full:
            r = subprocess.run([str(SCRIPT), *args], stdout=subprocess.DEVNULL, stderr=full, cwd=ROOT)
    elif stderr == "closed":
        r = subprocess.run(["sh", "-c", '"$0" "$@" 2>&-', str(SCRIPT), *args], stdout=subprocess.DEVNULL, cwd=ROOT)
    else:
        r = subprocess.run(["sh", "-c", '"$0" "$@" 2>&-', str(SCRIPT), *args], stdout=subprocess.DEVNULL, cwd=ROOT)
    assert r.returncode == status


@pytest.mark.parametrize(("error", "lost"), [(OSError(28, "No space left on device"), True),
                                             (BrokenPipeError(32, "Broken pipe"), False)])
def test_guarded_stderr_never_raises_and_says_what_was_lost(error: OSError, lost: bool, tmp_path: Path) -> None:
    """The guard behind the test above: a write that fails is swallowed; a full disk loses the notes, a reader that
    went away (`2>&1 | head`) does not count as an error (as on stdout); the descriptor then points at /dev/null."""
    from imsvalog.outputs import GuardedStderr

    class Failing:
        def __init__(self) -> None:
            self.file = open(tmp_path / "fd", "w")  # noqa: SIM115 - closed below
            self.writes = 0

        def write(self, text: str) -> int:
            self.writes += 1
            raise error

        def flush(self) -> None:
            raise error

        def fileno(self) -> int:
            return self.file.fileno()

        def isatty(self) -> bool:
            return False

    stream = Failing()
    g = GuardedStderr(stream)
    assert g.write("1 line could not be parsed\n") == len("1 line could not be parsed\n")
    g.flush()
    assert g.write("more\n") == 5 and stream.writes == 1  # gone: never tried again
    assert g.lost is lost and g.isatty() is False
    os.write(stream.fileno(), b"x")  # the descriptor is /dev/null now: the file stays empty
    stream.file.close()
    assert (tmp_path / "fd").read_bytes() == b""
    closed = GuardedStderr(None)  # 2>&-
    assert not closed.lost and closed.write("") == 0 and not closed.lost
    assert closed.write("note\n") == 5 and closed.lost
