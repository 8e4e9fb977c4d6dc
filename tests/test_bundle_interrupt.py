"""Ctrl-C while an archive inside an archive is read (a CDT zip's rotated.tar.gz, read by libarchive through
libarchive-c's ctypes read callback) ends the run as every Ctrl-C does: "imsvalog: interrupted", exit 130.

Before (attack s24a): the KeyboardInterrupt was raised inside the callback, ctypes printed "Exception ignored on
calling ctypes callback function ... KeyboardInterrupt", handed libarchive an undefined byte count, and the run went
on to exit 0 or died of SIGSEGV (on the bundle below: 6 of 7 Ctrl-Cs lost)."""

from __future__ import annotations

import gzip
import importlib.util
import os
import random
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from imsvalog import bundles

from .conftest import FIXTURES, ROOT

_spec = importlib.util.spec_from_file_location("make_bundles", FIXTURES / "make_bundles.py")
make_bundles = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(make_bundles)  # type: ignore[union-attr]

BUSY = FIXTURES / "busy-day"
_CHUNK = 64 << 20
_CHUNKS = 120  # 7.5 GiB: under the 8 GiB a plain tar header can hold


@pytest.fixture(scope="module")
def slow_nested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """busy-day as a CDT zip whose rotated.tar.gz holds 7.5 GiB of filler (filler.dat) before its log: each pass
    over it spends seconds in libarchive, skipping the filler through the read callback (13 MB on disk: a gzip of
    concatenated members, each the same 64 MiB)."""
    members = make_bundles.cdt_members(BUSY)
    filler = tarfile.TarInfo("filler.dat")
    filler.size = _CHUNKS * _CHUNK
    log = (BUSY / "log.imss.20240312.0002.gz").read_bytes()
    info = tarfile.TarInfo("log.imss.20240312.0002.gz")
    info.size = len(log)
    rest = info.tobuf() + log + b"\0" * (-len(log) % 512) + b"\0" * 10240
    # a 4 KiB pattern over and over (zeros inflate 1000 times: libarchive would inflate a GiB from the MiB the
    # callback last gave before it asks again, and sees the interrupt, seconds later)
    chunk = gzip.compress(random.Random(0).randbytes(4096) * (_CHUNK // 4096), 1, mtime=0)
    tgz = gzip.compress(filler.tobuf(), mtime=0) + chunk * _CHUNKS + gzip.compress(rest, mtime=0)
    members["IMSVA/LogFile/Event3/rotated.tar.gz"] = tgz
    folder = tmp_path_factory.mktemp("interrupt")
    return make_bundles.write_cdt_zip(folder / "CDT-20240312-120000.zip", members, None)


def test_the_bundle_is_read_whole_when_not_interrupted(slow_nested: Path) -> None:
    """The filler is there and skipped: the log after it is listed and read (what the sweep below interrupts)."""
    with bundles.options():
        listing = bundles.list_bundle(slow_nested)
        log = [m for m in listing.members if m.chain[-1] == "log.imss.20240312.0002.gz"]
        assert [m.chain[0] for m in log] == ["IMSVA/LogFile/Event3/rotated.tar.gz"]
        with log[0].open() as fh:
            assert fh.read() == (BUSY / "log.imss.20240312.0002.gz").read_bytes()


def _default_sigint() -> None:  # a SIGINT ignored by whoever started the tests would stay ignored in the child
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _reading(pid: int, bundle: Path) -> bool:
    """Has the program the bundle open (it is listing or reading it)?"""
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == str(bundle):
                return True
        except OSError:  # gone meanwhile
            pass
    return False


@pytest.mark.parametrize("after", [0.0, 0.3, 0.7, 1.2, 2.0])
def test_ctrl_c_while_a_nested_archive_is_read_exits_130(slow_nested: Path, tmp_path: Path, after: float) -> None:
    """A real SIGINT at several moments after the bundle is opened (the listing, the passes that read the nested
    archive): every one ends the run with 130 and one line, none is lost, none crashes.  (``python -m imsvalog`` from
    this checkout, through the same launcher as the installed script, which imports the installed package.)"""
    out = tmp_path / "x.jsonl"
    p = subprocess.Popen(
        [sys.executable, "-m", "imsvalog", "correlate", str(slow_nested), "--format", "jsonl", "-o", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, preexec_fn=_default_sigint,
    )
    end = time.monotonic() + 120
    while p.poll() is None and time.monotonic() < end:
        try:
            if _reading(p.pid, slow_nested):
                break
        except OSError:  # /proc/PID/fd while the program starts or ends
            pass
        time.sleep(0.001)
    time.sleep(after)
    p.send_signal(signal.SIGINT)
    assert p.stderr is not None
    err = p.stderr.read().decode()
    rc = p.wait()
    assert "Exception ignored" not in err and "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert rc == 130, (rc, err)  # not 0 (the interrupt lost), not -11 (SIGSEGV)
    assert err.endswith("imsvalog: interrupted\n"), err
    assert not out.exists()  # nothing half-written left behind


def _kill_on_each_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Ctrl-C at every read of libarchive's callback (deterministic: the signal is delivered in that very call)."""
    real = bundles._Source.readinto

    def readinto(self, b):  # type: ignore[no-untyped-def]
        os.kill(os.getpid(), signal.SIGINT)
        return real(self, b)

    monkeypatch.setattr(bundles._Source, "readinto", readinto)


def test_a_programs_own_ctrl_c_handler_loses_nothing_of_a_nested_archive(monkeypatch: pytest.MonkeyPatch) -> None:
    """Attack s25c F1: a script whose SIGINT handler only notes the Ctrl-C (it stops later, on its own) lost whole
    rotations of rotated.tar.gz, read as 'the member is damaged: Truncated input file': the held Ctrl-C made the
    callback give libarchive no more bytes. Only Python's own handler, which raises, cuts the read."""
    from imsvalog import read_log_imss

    cdt = FIXTURES / "bundles" / "CDT-20240312-101500.zip"
    clean_rejects: list = []
    clean = read_log_imss(cdt, clean_rejects)
    got: list[int] = []
    rejects: list = []
    old = signal.signal(signal.SIGINT, lambda signum, frame: got.append(signum))
    try:
        _kill_on_each_read(monkeypatch)
        again = read_log_imss(cdt, rejects)
    finally:
        signal.signal(signal.SIGINT, old)
    assert got and set(got) == {signal.SIGINT}
    assert len(again) == len(clean) and list(again["line"]) == list(clean["line"])
    assert [(r.source.line, r.reason) for r in rejects] == [(r.source.line, r.reason) for r in clean_rejects]
    # over Python's own handler the same Ctrl-C ends the read with KeyboardInterrupt, at once
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            read_log_imss(cdt)
    finally:
        signal.signal(signal.SIGINT, old)
