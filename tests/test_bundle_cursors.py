"""Members of one archive read one after another go on from where the read before stopped (bundles._Cursor): a
.tar.gz, or an archive inside a CDT zip, is decompressed once for all its members, not from its start for each,
and every read still gives exactly the member's bytes, whatever the order, however much of each is read."""

from __future__ import annotations

import gzip
import io
import importlib.util
import os
import random
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import imsvalog
from imsvalog import bundles
from imsvalog.correlation import correlate
from imsvalog.sources import discover

from .conftest import FIXTURES

_spec = importlib.util.spec_from_file_location("make_bundles", FIXTURES / "make_bundles.py")
make_bundles = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(make_bundles)  # type: ignore[union-attr]


def _contents(n: int, seed: int = 0) -> dict[str, bytes]:
    rnd = random.Random(seed)
    out = {}
    for k in range(1, n + 1):
        size = rnd.choice([0, 10, 3000, (1 << 20) - 7, (1 << 20) + 5, 2 * (1 << 20) + 99])  # around the 1 MiB block
        out[f"log.imss.20240312.{k:04d}"] = bytes(rnd.getrandbits(8) for _ in range(64)) * (size // 64) + b"x" * (size % 64)
    return out


@pytest.fixture(scope="module")
def nested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A zip holding a rotated.tar.gz of 12 members (two of one name: the second is read as #2)."""
    contents = _contents(12)
    entries = list(contents.items())
    entries.insert(6, ("log.imss.20240312.0002", b"the second entry of this name\n" * 5000))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    tar = buf.getvalue()
    contents["log.imss.20240312.0002#2"] = entries[6][1]
    folder = tmp_path_factory.mktemp("cursor")
    zpath = make_bundles.write_cdt_zip(folder / "CDT-20240312-120000.zip",
                                       {"IMSVA/LogFile/Event3/rotated.tar.gz": tar}, None)
    return zpath, contents


def _members(path: Path) -> list[bundles.Member]:
    listing = bundles.list_bundle(path)
    return sorted(listing.members, key=lambda m: (m.chain, m.occurrence))


def _name(m: bundles.Member) -> str:
    return m.chain[-1] + (f"#{m.occurrence + 1}" if m.occurrence else "")


def _read(m: bundles.Member, limit: int | None) -> bytes:
    with m.open() as fh:
        return fh.read() if limit is None else fh.read(limit)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_every_read_of_a_member_is_its_bytes_in_any_order(nested: tuple[Path, dict[str, bytes]], data: st.DataObject) -> None:
    path, contents = nested
    with bundles.options():
        members = _members(path)
        assert [_name(m) for m in members] == sorted(contents)
        steps = data.draw(st.lists(st.tuples(st.integers(0, len(members) - 1),
                                             st.sampled_from([None, 0, 1, 100, 1 << 20, (1 << 20) + 1])), max_size=25))
        for i, limit in steps:
            want = contents[_name(members[i])]
            assert _read(members[i], limit) == (want if limit is None else want[:limit])
    assert bundles._CURSORS == {}  # closed at the end of the run


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    opened: list[str] = []
    real = bundles._open_cursor

    def counted(member: bundles.Member, password: object, key: object) -> bundles._Cursor:
        opened.append(member.chain[-1])
        return real(member, password, key)  # type: ignore[arg-type]

    monkeypatch.setattr(bundles, "_open_cursor", counted)
    return opened


def test_members_read_in_order_open_the_archive_once(nested: tuple[Path, dict[str, bytes]],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path, contents = nested
    opened = _counting(monkeypatch)
    with bundles.options():
        members = _members(path)
        opened.clear()  # listing read the archive once
        in_order = [m for m in members if m.occurrence == 0]  # the archive's order but for the second 0002
        for m in in_order:
            assert _read(m, 2) == contents[_name(m)][:2]  # a look at its head (gzip?) ...
            assert _read(m, None) == contents[_name(m)]  # ... then the whole: from the block kept
        assert opened == [in_order[0].chain[-1]]
        assert _read(in_order[3], None) == contents[_name(in_order[3])]  # behind: opened again, from the start
        assert opened == [in_order[0].chain[-1], in_order[3].chain[-1]]


def test_a_bundle_replaced_between_reads_is_read_anew(tmp_path: Path) -> None:
    path = tmp_path / "rotated.tar.gz"
    path.write_bytes(make_bundles.tar_gz({"log.imss.20240312.0001": b"old\n", "log.imss.20240312.0002": b"old 2\n"}))
    with bundles.options():
        first = _members(path)
        assert _read(first[0], None) == b"old\n"
        path.write_bytes(make_bundles.tar_gz({"log.imss.20240312.0001": b"new\n", "log.imss.20240312.0002": b"new 2\n"}))
        os.utime(path, ns=(1, 1))
        assert _read(_members(path)[1], None) == b"new 2\n"


def test_a_member_missing_from_the_archive_is_said_and_the_next_read_works(tmp_path: Path) -> None:
    path = tmp_path / "rotated.tar.gz"
    path.write_bytes(make_bundles.tar_gz({"log.imss.20240312.0001": b"a\n", "log.imss.20240312.0002": b"b\n"}))
    with bundles.options():
        members = _members(path)
        ghost = bundles.Member(path, ("log.imss.20240312.0009",))
        with pytest.raises(bundles.ArchiveReadError, match="no longer in the archive"):
            _read(ghost, None)
        assert [_read(m, None) for m in members] == [b"a\n", b"b\n"]


def test_correlate_of_a_cdt_zip_with_rotated_logs_is_that_of_the_logs_unpacked(tmp_path: Path) -> None:
    """busy-day's log.imss cut in 9 rotated files, gzipped in a rotated.tar.gz inside a CDT zip (as IMSVA's Case
    Diagnostic Tool packs older rotations), the current file and polevt beside it."""
    busy = FIXTURES / "busy-day"
    lines = (busy / "log.imss.20240312.0001").read_bytes().splitlines(keepends=True)
    cut = [lines[k * len(lines) // 10:(k + 1) * len(lines) // 10] for k in range(10)]
    plain = tmp_path / "plain"
    plain.mkdir()
    rotated = {}
    for k, part in enumerate(cut, 1):
        name = f"log.imss.20240312.{k:04d}"
        if k < 10:
            rotated[name + ".gz"] = gzip.compress(b"".join(part), mtime=0)
        (plain / name).write_bytes(b"".join(part))
    for other in busy.iterdir():
        if not other.name.startswith("log.imss"):
            (plain / other.name).write_bytes(other.read_bytes())
    event3 = "IMSVA/LogFile/Event3/"
    members = {event3 + "rotated.tar.gz": make_bundles.tar_gz(rotated),
               event3 + "log.imss.20240312.0010": (plain / "log.imss.20240312.0010").read_bytes()}
    members.update({event3 + p.name: p.read_bytes() for p in plain.iterdir() if not p.name.startswith("log.imss")})
    zpath = make_bundles.write_cdt_zip(tmp_path / "CDT-20240312-120000.zip", members, "trend")
    with bundles.options():
        assert len([f for f in discover([zpath]).files if f.kind == "imss"]) == 10
        got = correlate(zpath)
    want = correlate(plain)
    assert [r.to_dict(explanation=False)["internal_id"] for r in got.rows] == [
        r.to_dict(explanation=False)["internal_id"] for r in want.rows]
    assert [(r.status, r.link.basis if r.link else None) for r in got.rows] == [
        (r.status, r.link.basis if r.link else None) for r in want.rows]
    assert got.summary.lines == want.summary.lines and got.summary.scans == want.summary.scans


def test_a_library_call_closes_its_archives_and_python_exits_quietly(tmp_path: Path) -> None:
    """attack s24a 1-2: archives kept open after a library call (no options() block) made Python print tracebacks
    when it tore them down at exit, and a bundle deleted after the call kept its disk space (its file still open).
    A reader of the library is one run (bundles.reading): what it kept open is closed when it returns."""
    zpath = FIXTURES / "bundles" / "CDT-20240312-101500.zip"
    code = (
        "import os, imsvalog\n"
        f"c = imsvalog.correlate({str(zpath)!r})\n"
        "s = imsvalog.sessions_frame(" + repr(str(zpath)) + ")\n"
        "from imsvalog import bundles\n"
        "assert bundles._CURSORS == {}, bundles._CURSORS\n"
        "def link(n):\n"
        "    try:\n"
        "        return os.readlink(f'/proc/self/fd/{n}')\n"
        "    except OSError:\n"
        "        return ''\n"
        "fds = [link(n) for n in os.listdir('/proc/self/fd')]\n"
        "assert not any(x.endswith('.zip') for x in fds), fds\n"
        "print(len(c.rows), len(s))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(FIXTURES.parent)}  # this checkout's code, wherever the venv points
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr and "Exception ignored" not in p.stderr, p.stderr
    assert p.stdout.split()[0] == "9"


def test_outside_a_run_a_member_read_keeps_nothing_open(nested: tuple[Path, dict[str, bytes]]) -> None:
    path, contents = nested
    members = _members(path)
    assert _read(members[0], None) == contents[_name(members[0])]
    assert bundles._CURSORS == {}


def test_threads_reading_one_archive_each_get_their_members_bytes(nested: tuple[Path, dict[str, bytes]]) -> None:
    """attack s24a 3: the kept archives were a dict without a lock (RuntimeError: dictionary changed size during
    iteration, from two threads ending reads at once)."""
    import threading

    path, contents = nested
    errors: list[BaseException] = []
    with bundles.reading():
        members = _members(path)

        def work(seed: int) -> None:
            rnd = random.Random(seed)
            try:
                for _ in range(15):
                    m = rnd.choice(members)
                    limit = rnd.choice([None, 10, 1 << 20])
                    want = contents[_name(m)]
                    assert _read(m, limit) == (want if limit is None else want[:limit])
            except BaseException as exc:  # noqa: BLE001 - collected, asserted below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
        old = sys.getswitchinterval()
        sys.setswitchinterval(1e-5)
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            sys.setswitchinterval(old)
    assert errors == []
    assert bundles._CURSORS == {}


def test_a_bundle_rewritten_in_place_with_its_size_and_times_put_back_is_read_anew(tmp_path: Path) -> None:
    """attack s24a 4: `cp -p` / `rsync --inplace -t` keep the size and the mtime; the change time tells."""
    def tar(fill: bytes) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tf:  # no compression: the same size whatever the bytes
            for k in (1, 2, 3):
                info = tarfile.TarInfo(f"log.imss.20240312.{k:04d}")
                info.size = 40000
                tf.addfile(info, io.BytesIO(fill * 40000))
        return buf.getvalue()

    path = tmp_path / "rotated.tar"
    path.write_bytes(tar(b"A"))
    st = path.stat()
    with bundles.reading():
        members = _members(path)
        assert _read(members[0], None) == b"A" * 40000
        with path.open("r+b") as fh:  # in place: the same inode
            fh.write(tar(b"B"))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
        assert _read(members[1], None) == b"B" * 40000
        assert _read(members[2], None) == b"B" * 40000


def test_a_zip_member_with_a_bad_crc_gives_correlate_its_lines_as_parse_reads_them(tmp_path: Path) -> None:
    """attack s24b F2: a stored zip member is checked at its end; correlate's reader asked for 8 MiB at once and lost
    every byte it had gathered when that read failed (0 lines, where parse read 42,240)."""
    import zipfile

    from imsvalog.readers import iter_records
    from imsvalog.records import Reject

    text = b"".join(
        b"2024/03/12 09:15:%02d GMT+01:00 [1:%d] [DEBUG]TmIsScan::scanMessage: step %d\n" % (i % 60, i % 7, i)
        for i in range(60000))
    zpath = tmp_path / "bundle.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("IMSVA/LogFile/log.imss.20240312.0001", text)
    raw = bytearray(zpath.read_bytes())
    at = raw.find(text[:40]) + len(text) // 2
    raw[at] ^= 0x01  # one byte of the data: the member's CRC no longer matches
    zpath.write_bytes(bytes(raw))
    items = list(iter_records([zpath]))
    records = [i for i in items if not isinstance(i, Reject)]
    # libarchive finds the bad CRC with the member's last block: every line is read (h25a: archive_read_data gave the
    # error in place of that block and of all it had copied before it in that call), then one reject that says so
    assert len(records) == 60000
    c = imsvalog.correlate(zpath)
    assert c.summary.lines == len(records)
    assert [r.source.line for r in c.rejects] == [r.source.line for r in items if isinstance(r, Reject)] == [
        len(records) + 1]
    assert "ZIP bad CRC" in c.rejects[0].reason
