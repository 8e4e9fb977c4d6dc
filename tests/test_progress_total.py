"""The progress bar's total (attack s24b): a gzip cut short ends in deflate data, not its trailer, and its last 4
bytes were taken as its size: 525 bytes read as 4.3 GB, and the bar said '4.3/4.3 GB' for 17 kB of logs. Its first
frame, before a byte was read, said '0/? bytes'."""

from __future__ import annotations

import gzip
import re
import shutil
import sys
from pathlib import Path

import pytest

from imsvalog.sources import discover, file_size

from .conftest import FIXTURES
from .test_correlate_table import run_in_pty

BUSY = FIXTURES / "busy-day"
GZ = BUSY / "log.imss.20240312.0002.gz"


def _size(path: Path) -> int:
    return file_size(discover([path]).files[0])


def _cut(tmp_path: Path, keep: int, tail: bytes = b"") -> Path:
    out = tmp_path / "log.imss.20240312.0002.gz"
    out.write_bytes(GZ.read_bytes()[:keep] + tail)
    return out


def test_a_gzip_cut_short_has_no_size_rather_than_its_last_bytes(tmp_path: Path) -> None:
    data = GZ.read_bytes()
    assert _size(GZ) == len(gzip.decompress(data))
    # the last 4 bytes of the cut file: ff ff 00 00 is 4,294,901,760 read as a size
    assert _size(_cut(tmp_path, len(data) // 2, b"\x00\x00\xff\xff")) == 0


@pytest.mark.parametrize("text", [b"", b"x\n", b"2024/03/12 09:15:01 GMT+01:00 [1:2] short\n"])
def test_a_gzip_smaller_than_its_file_keeps_its_size(tmp_path: Path, text: bytes) -> None:
    """A few bytes take more room gzipped: the trailer was taken as wrapped past 4 GiB (4 GiB and a few bytes)."""
    f = tmp_path / "log.imss.20240312.0009.gz"
    f.write_bytes(gzip.compress(text))
    assert f.stat().st_size > len(text)
    assert _size(f) == len(text)  # 0 for the empty one: no size is as good as its size there


def test_a_big_gzip_keeps_the_smallest_size_its_trailer_allows(tmp_path: Path) -> None:
    """The trailer holds the size mod 2**32: 1 GiB (or 5, 9...) in 10 MB is taken as 1 GiB, as before."""
    f = tmp_path / "log.imss.20240312.0009.gz"
    with open(f, "wb") as fh:
        fh.write(GZ.read_bytes()[:10])
        fh.seek(10_000_000)
        fh.write((5 << 30).to_bytes(8, "little")[:4] + ((5 << 30) & 0xFFFFFFFF).to_bytes(4, "little"))
    assert _size(f) == 1 << 30  # the smallest size that fits, as before
    g = tmp_path / "log.imss.20240312.0008.gz"
    with open(g, "wb") as fh:  # a trailer that says less than the file holds: the wrapped size
        fh.write(GZ.read_bytes()[:10])
        fh.seek(10_000_000)
        fh.write(b"\0\0\0\0" + (1000).to_bytes(4, "little"))
    assert _size(g) == (1 << 32) + 1000


def _bar_lines(text: str) -> list[str]:
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    return [x for x in re.split(r"[\r\n]", text) if x.strip()]


def test_the_bar_of_a_run_over_a_cut_gzip_shows_bytes_read_not_its_garbage_size(tmp_path: Path) -> None:
    d = tmp_path / "cut"
    d.mkdir()
    for f in BUSY.iterdir():
        shutil.copy(f, d / f.name)
    _cut(d, 525, b"\x00\x00\xff\xff")
    lines = _bar_lines(run_in_pty(["correlate", str(d)], 80, stderr=True))
    bar = [x for x in lines if x.startswith("reading ")]
    assert bar, lines
    assert not any("GB" in x or "/?" in x for x in bar), bar
    assert all(re.search(r"━ [\d.]+ kB$", x.rstrip()) for x in bar), bar
    assert max(len(x) for x in lines) <= 80


def test_the_bar_shows_nothing_before_the_first_bytes() -> None:
    script = ("import time\nfrom imsvalog.cli import progress_bar\nwith progress_bar() as update:\n"
              "    time.sleep(0.4)\n    update(1000, 0, 'x.zip!log.imss.20240604.0004')\n    time.sleep(0.3)\n")
    lines = _bar_lines(run_in_pty([], 80, stderr=True, command=[sys.executable, "-c", script]))
    assert lines and not any("/?" in x or "0/" in x for x in lines), lines
    assert any(x.rstrip().endswith("1.0 kB") and "log.imss.20240604.0004" in x for x in lines), lines
