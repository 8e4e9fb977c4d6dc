"""`imsvalog parse` of a big plain log.imss by two processes (imsvalog.parse_parts): the same bytes as one
process (records, rejects, the per-file summary) wherever the file is cut, and a second process that never
outlives a parse that stops early (an error, Ctrl-C, `| head`)."""

from __future__ import annotations

import gzip
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imsvalog import columns, parse_parts
from imsvalog.cli import app
from imsvalog.sources import LogFile

from .conftest import FIXTURES, ROOT
from .test_worker_lifecycle import _gone

runner = CliRunner()

#: ugly real-looking lines: every plain log.imss fixture, then lines that are rejects or edge cases
_UGLY_TAIL = [
    b"2024/03/12 09:15:01 GMT+09:00 [1234:5678] [INFO] Scanner: a line whose body holds \xfe\xff, not UTF-8",
    b"2024/03/12 09:15:02 GMT+09:00 [1234:5678] [INFO] Scanner: a CRLF line\r",
    b"not a log.imss line at all",
    b"2024/13/45 99:99:99 GMT+09:00 [1:2] [INFO] Scanner: an impossible time",
    b"2024/03/12 09:15:03 GMT+09:00 [1234:5678] [INFO] Scanner: a long line " + b"x" * 400,
    b"2024/03/12 09:15:04 GMT+09:00 [1234:5678] [INFO] Scanner: a cell =HYPERLINK(\"x\") and a \"quote\"",
    b"",
]


def _ugly_log(tmp_path: Path) -> Path:
    lines: list[bytes] = []
    for p in sorted(FIXTURES.rglob("log.imss.*")):
        if p.suffix != ".gz":
            lines += p.read_bytes().splitlines()
    lines += _UGLY_TAIL
    lines = lines * 3
    p = tmp_path / "log.imss.20240312.0001"
    p.write_bytes(b"\n".join(lines) + b"\n")
    return p


def _parse(monkeypatch: pytest.MonkeyPatch, workers: str, *args: str) -> tuple[bytes, bytes, str]:
    monkeypatch.setenv("IMSVALOG_WORKERS", workers)
    out, rej = args[-2], args[-1]
    r = runner.invoke(app, ["parse", *args[:-2], "-o", out, "--rejects", rej])
    assert r.exit_code == 0, r.output
    return Path(out).read_bytes(), Path(rej).read_bytes(), r.stderr


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("share", [0.01, 0.3, 0.5, 0.77, 0.99])
def test_two_processes_write_the_bytes_of_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, share: float) -> None:
    log = _ugly_log(tmp_path)
    monkeypatch.setattr(columns, "PARALLEL_FROM", 1)
    monkeypatch.setattr(parse_parts, "PARENT_SHARE", share)
    monkeypatch.setattr(parse_parts, "PIECE_RECORDS", 7)  # many pieces
    monkeypatch.setattr(parse_parts, "COPY_CHARS", 100)  # read back in many pieces of whole lines
    split = parse_parts.split_of(LogFile(log, "imss"), 300)
    assert split is not None and 0 < split.at < log.stat().st_size
    assert split.lines == log.read_bytes()[: split.at].count(b"\n")
    args = [str(log), "--format", fmt, "--max-line-length", "300"]
    one = _parse(monkeypatch, "1", *args, str(tmp_path / "o1"), str(tmp_path / "r1"))
    two = _parse(monkeypatch, "2", *args, str(tmp_path / "o2"), str(tmp_path / "r2"))
    assert one[:2] == two[:2]
    assert one[2] == two[2].replace(str(tmp_path / "r2"), str(tmp_path / "r1"))  # the summary
    assert b"a long line" in one[1] and b"not a log.imss line at all" in one[1]  # rejects of both parts
    assert one[1].count(b"not a log.imss line at all") == 3
    assert "rejects" in one[2]
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("share", [0.01, 0.5, 0.99])
def test_without_rejects_file_the_second_parts_rejects_are_reject_rows_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, share: float
) -> None:
    """Without --rejects every reject is a REJECT row of the output, in its place: the second process's too
    (attack s20 F1: they were dropped, while the summary still counted them)."""
    log = _ugly_log(tmp_path)
    monkeypatch.setattr(columns, "PARALLEL_FROM", 1)
    monkeypatch.setattr(parse_parts, "PARENT_SHARE", share)
    monkeypatch.setattr(parse_parts, "PIECE_RECORDS", 7)
    outs = []
    for workers in ("1", "2"):
        monkeypatch.setenv("IMSVALOG_WORKERS", workers)
        out = tmp_path / f"o{workers}"
        r = runner.invoke(app, ["parse", str(log), "--format", fmt, "--max-line-length", "300", "-o", str(out)])
        assert r.exit_code == 0, r.output
        assert "as REJECT rows" in r.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert outs[1].count(b"not a log.imss line at all") == 3  # one per copy of the ugly tail: both parts
    assert multiprocessing.active_children() == []


def test_what_is_not_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _ugly_log(tmp_path)
    monkeypatch.setattr(columns, "PARALLEL_FROM", 1)
    monkeypatch.setenv("IMSVALOG_WORKERS", "2")
    assert parse_parts.split_of(LogFile(log, "imss"), 1 << 20) is not None
    assert parse_parts.split_of(LogFile(log, "polevt"), 1 << 20) is None  # log.imss only
    gz = tmp_path / "log.imss.20240312.0002.gz"
    gz.write_bytes(gzip.compress(log.read_bytes()))
    assert parse_parts.split_of(LogFile(gz, "imss"), 1 << 20) is None  # no offsets in a gzip stream
    cr = tmp_path / "log.imss.20240312.0003"
    cr.write_bytes(log.read_bytes().replace(b"\n", b"\r"))
    assert parse_parts.split_of(LogFile(cr, "imss"), 1 << 20) is None  # CR-only line ends
    monkeypatch.setenv("IMSVALOG_WORKERS", "1")
    assert parse_parts.split_of(LogFile(log, "imss"), 1 << 20) is None
    monkeypatch.setattr(columns, "PARALLEL_FROM", 1 << 40)
    monkeypatch.setenv("IMSVALOG_WORKERS", "2")
    assert parse_parts.split_of(LogFile(log, "imss"), 1 << 20) is None  # small


def test_a_bad_workers_value_is_a_usage_error_before_any_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _ugly_log(tmp_path)
    monkeypatch.setenv("IMSVALOG_WORKERS", "two")
    out = tmp_path / "out.jsonl"
    r = runner.invoke(app, ["parse", str(log), "--format", "jsonl", "-o", str(out)])
    assert r.exit_code == 2
    assert r.stderr.startswith("imsvalog: error: IMSVALOG_WORKERS='two' is not a number of processes")
    assert not out.exists()


def _suicide(*_args):  # type: ignore[no-untyped-def]
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_killed_second_process_is_one_line_and_no_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _ugly_log(tmp_path)
    monkeypatch.setattr(columns, "PARALLEL_FROM", 1)
    monkeypatch.setattr(parse_parts, "_second_part", _suicide)
    monkeypatch.setenv("IMSVALOG_WORKERS", "2")
    out = tmp_path / "out.jsonl"
    r = runner.invoke(app, ["parse", str(log), "--format", "jsonl", "-o", str(out)])
    assert r.exit_code == 2
    assert r.stderr.strip().splitlines() == [
        f"imsvalog: error: the second process reading {log} stopped before it finished (killed by signal 9); "
        "run again, or with IMSVALOG_WORKERS=1 to read it in one process"
    ]
    assert not out.exists()  # the output is only renamed into place when the parse ends well
    assert multiprocessing.active_children() == []


def test_a_second_process_that_cannot_write_its_output_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _ugly_log(tmp_path)
    monkeypatch.setattr(columns, "PARALLEL_FROM", 1)
    monkeypatch.setenv("IMSVALOG_WORKERS", "2")

    class Full:
        def write(self, _text: str) -> int:
            raise OSError(28, "No space left on device")

    real = parse_parts._second_part
    monkeypatch.setattr(parse_parts, "_second_part", lambda emit, f, split, tz, limit, fmt, cols, out, rej: real(emit, f, split, tz, limit, fmt, cols, Full(), rej))
    r = runner.invoke(app, ["parse", str(log), "--format", "jsonl", "-o", str(tmp_path / "out.jsonl")])
    assert r.exit_code == 2
    assert r.stderr.strip() == (
        f"imsvalog: error: the second process reading {log} could not write its output to the temporary folder "
        "(No space left on device); free room there (TMPDIR), or run with IMSVALOG_WORKERS=1"
    )


def _big_log(tmp_path: Path, mb: int) -> Path:
    line = b"2024/03/12 09:15:01 GMT+09:00 [1234:5678] [INFO] Scanner: a message of some length, one of many\n"
    p = tmp_path / "log.imss.20240312.0001"
    p.write_bytes(line * (mb * 1_000_000 // len(line)))
    return p


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except FileNotFoundError:
        return []


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (Linux) to see another process's children")
@pytest.mark.parametrize("how", ["head", "sigint", "sigkill"])
def test_a_parse_that_stops_early_leaves_no_second_process(tmp_path: Path, how: str) -> None:
    """`parse big.log --format jsonl | head -1`, Ctrl-C, `kill -9`: the second process is gone at once, and
    `| head` is no error."""
    log = _big_log(tmp_path, 40)  # over columns.PARALLEL_FROM: read by two processes
    env = {**os.environ, "IMSVALOG_WORKERS": "2", "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen([sys.executable, "-m", "imsvalog", "parse", str(log), "--format", "jsonl"], cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert p.stdout is not None and p.stderr is not None
        assert p.stdout.readline().startswith(b'{"kind": "imss"')  # the first part is being written
        deadline = time.monotonic() + 20
        while not (kids := _children(p.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert kids, "no second process"
        if how == "head":
            p.stdout.close()  # like `| head -1`
        else:
            p.send_signal(signal.SIGINT if how == "sigint" else signal.SIGKILL)
        p.wait(30)
        deadline = time.monotonic() + 10
        while not all(map(_gone, kids)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(map(_gone, kids)), f"second process {kids} outlived the parse"
        err = p.stderr.read().decode()
        if how == "head":
            assert p.returncode == 0, err
            assert "Traceback" not in err
        elif how == "sigint":
            assert p.returncode != 0 and "Traceback" not in err
    finally:
        p.kill()
        p.wait()


def test_the_default_cut_of_a_big_file_is_near_the_middle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _big_log(tmp_path, 36)
    monkeypatch.delenv("IMSVALOG_WORKERS", raising=False)
    if (os.cpu_count() or 1) < 2:
        monkeypatch.setenv("IMSVALOG_WORKERS", "2")
    split = parse_parts.split_of(LogFile(log, "imss"), 1 << 20)
    assert split is not None
    assert abs(split.at - log.stat().st_size * parse_parts.PARENT_SHARE) < 200
