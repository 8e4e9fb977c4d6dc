"""Attack s23b on the rotation notes: a gzipped copy under another number read twice; a file of 72 MiB said to hold
no timed line though its line at 8 MiB is one; an empty newest file warned; a missing member named with its bundle;
the emptiness of every bundle member worked out three times per run, each opening its member."""

from __future__ import annotations

import gzip
import shutil
import tarfile
import zipfile
from pathlib import Path

from imsvalog import bundles, rotation
from imsvalog.correlation import correlate
from imsvalog.sources import LogFile, discover

from .conftest import FIXTURES

BUSY = FIXTURES / "busy-day"
POLEVT = BUSY / "polevt.imss.20240312.0001"
IMSS = BUSY / "log.imss.20240312.0001"
CDT = FIXTURES / "bundles" / "CDT-20240312-101500.zip"


def test_a_gzipped_copy_under_another_number_is_read_once(tmp_path: Path) -> None:
    """busy-day with polevt .0002.gz made of .0001: 24 rows, nearly all ambiguous, no note. Now read once, said."""
    case = shutil.copytree(BUSY, tmp_path / "c2")
    alone = correlate(case)
    (case / "polevt.imss.20240312.0002.gz").write_bytes(gzip.compress(POLEVT.read_bytes()))
    c = correlate(case)
    assert [(r.status, r.internal_id) for r in c.rows] == [(r.status, r.internal_id) for r in alone.rows]
    assert c.summary.rotation == [
        f"{case / 'polevt.imss.20240312.0002.gz'} holds the same lines, once decompressed, as {case / POLEVT.name}, "
        "which is read instead; what the rotation polevt.imss.20240312.0002.gz held is not here"]
    # one line differing: both read
    (case / "polevt.imss.20240312.0002.gz").write_bytes(gzip.compress(POLEVT.read_bytes().replace(b"09:15", b"09:25", 1)))
    assert len([f for f in discover([case]).files if f.kind == "polevt"]) == 2


def test_a_line_at_the_edge_of_what_is_searched_counts(tmp_path: Path) -> None:
    """72 MiB of rejects with one timed line at byte 8 MiB (line 8193): 'holds no line that begins with a time'
    though parse reads it; first_time stopped before it, last_time did not take its block's start as a line start."""
    line = IMSS.read_bytes().split(b"\n")[0] + b"\n"
    reject = b"x" * 1023 + b"\n"
    big = tmp_path / "log.imss.20240312.0002"
    with big.open("wb") as fh:
        fh.write(reject * 8192)
        fh.write(line)
        fh.write(b"y" * (1024 - len(line) - 1) + b"\n")
        fh.write(reject * (64 * 1024 - 1))
    assert big.stat().st_size == 72 << 20
    f = LogFile(big, "imss", "20240312", 2)
    assert rotation.hollow(f) is None
    assert rotation.last_time(f) == rotation.first_time(IMSS_FILE := LogFile(IMSS, "imss")) and IMSS_FILE
    # a line begun just before 8 MiB: its time is read whole by first_time
    with big.open("r+b") as fh:
        fh.seek((8 << 20) - 10)
        fh.write(b"\n" + line[:-1])
    assert rotation.first_time(f) == rotation.first_time(LogFile(IMSS, "imss"))


def test_an_empty_newest_file_is_said_as_such(tmp_path: Path) -> None:
    """An empty last log.imss (or live maillog) is how a file looks right after a rotation: not 'is empty: what that
    rotation held is not here', but said (attack s23f 3: dropping the note hid a file the policy events show should
    hold scans). An empty one between two given is said as lost."""
    for f in (IMSS, POLEVT):
        shutil.copy(f, tmp_path)
    (tmp_path / "log.imss.20240312.0002").write_bytes(b"")
    (tmp_path / "maillog").write_bytes(b"")
    shutil.copy(BUSY / "maillog-20240313", tmp_path / "maillog.1")
    newest = ("is empty: the newest of its kind given, as a file is right after a rotation; if lines were logged after "
              "the file before it ends, they are not here")
    assert sorted(correlate(tmp_path).summary.rotation) == [f"{tmp_path / n} {newest}" for n in ("log.imss.20240312.0002", "maillog")]
    (tmp_path / "log.imss.20240312.0003").write_bytes(IMSS.read_bytes().replace(b"09:1", b"10:1"))
    assert correlate(tmp_path).summary.rotation == [
        f"{tmp_path / 'log.imss.20240312.0002'} is empty: what that rotation held is not here", f"{tmp_path / 'maillog'} {newest}"]


def test_a_missing_member_is_named_as_the_file_to_ask_for(tmp_path: Path) -> None:
    """The zip and a folder with one rotation more (.0004): '.0003' was named
    'rotated.tar.gz!log.imss.20240312.0003', where it would never be."""
    with zipfile.ZipFile(CDT) as z:
        z.extractall(tmp_path / "unz", pwd=bundles.CDT_DEFAULT_PASSWORD.encode())
    event3 = next((tmp_path / "unz").rglob("Event3"))
    (event3 / "log.imss.20240312.0004").write_text(IMSS.read_text().replace("2024/03/12 09:", "2024/03/12 11:"))
    notes = correlate([CDT, tmp_path / "unz"]).summary.rotation
    assert any(n.startswith("log.imss.20240312.0003 is not among the files given (between ") for n in notes), notes
    assert not any("!log.imss.20240312.0003" in n for n in notes), notes


def test_the_emptiness_of_a_member_is_worked_out_once(tmp_path: Path, monkeypatch) -> None:
    """hollows() ran three times per correlate (gaps, time words, notes), each opening every numbered member (a
    tar.gz read again from its start for each: quadratic in members). Now once per file as it is on disk; a
    plain member of known size is not opened to learn it is not empty."""
    src = tmp_path / "src"
    src.mkdir()
    for n in range(1, 6):  # five rotations of different bytes (copies are read once)
        for f in (IMSS, BUSY / "msgtra.imss.20240312.0001"):
            (src / f.name.replace("0001", f"000{n}")).write_bytes(f.read_bytes().replace(b"09:1", f"0{n}:1".encode()))
    with tarfile.open(tmp_path / "rotated.tar.gz", "w:gz") as tar:
        for f in sorted(src.iterdir()):
            tar.add(f, f.name)
    files = discover([tmp_path / "rotated.tar.gz"]).files
    opened: list[str] = []
    real = bundles.Member.open
    monkeypatch.setattr(bundles.Member, "open", lambda self: (opened.append(self.name), real(self))[1])
    for _ in range(3):
        assert rotation.hollows(files) == {}
    assert sorted(opened) == [f"log.imss.20240312.000{n}" for n in range(1, 6)]
    # the bundle rewritten (one log emptied): asked again, not taken from what was found before
    with tarfile.open(tmp_path / "rotated.tar.gz", "w:gz") as tar:
        tar.add(src / "log.imss.20240312.0001", "log.imss.20240312.0001")
        tar.addfile(tarfile.TarInfo("log.imss.20240312.0002"))
        tar.add(src / "log.imss.20240312.0003", "log.imss.20240312.0003")
    files = discover([tmp_path / "rotated.tar.gz"]).files
    assert list(rotation.hollows(files).values()) == ["is empty"]



def test_an_empty_newest_gzip_is_said_as_lost(tmp_path: Path) -> None:
    """Final attack: a 0-byte log.imss.20240312.0002.gz (the newest given) was said to be 'as a file is right after a
    rotation': a gzip is a rotated file compressed after it was closed, so an empty one is a broken copy."""
    for f in (IMSS, POLEVT):
        shutil.copy(f, tmp_path)
    (tmp_path / "log.imss.20240312.0002.gz").write_bytes(b"")
    assert correlate(tmp_path).summary.rotation == [
        f"{tmp_path / 'log.imss.20240312.0002.gz'} is empty: what that rotation held is not here"]
