"""Attack s23b on the rotation notes: a gzipped copy under another number read twice; a file of 72 MiB said to hold
no timed line though its line at 8 MiB is one; an empty newest file warned; a missing member named with its bundle;
the emptiness of every bundle member worked out three times per run, each opening its member."""

from __future__ import annotations

import tarfile
from pathlib import Path

from imsvalog import bundles, rotation
from imsvalog.sources import discover

from .conftest import FIXTURES

BUSY = FIXTURES / "busy-day"
POLEVT = BUSY / "polevt.imss.20240312.0001"
IMSS = BUSY / "log.imss.20240312.0001"
CDT = FIXTURES / "bundles" / "CDT-20240312-101500.zip"


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
