"""A gzip whose only damage is its 8-byte trailer (a bad CRC-32 or length, or the trailer cut off) was read to its end:
its deflate data ended properly, so nothing of it is left unread. It counted as read only in part, and a scan open
across it into the next file was cut in two (attack s24d W1): judy's scan, open at the end of .0002.gz, lost its Scan
finished line in .0003 and with it the internal ID link. The reject still says the check failed or could not be made.
A cut in the last deflate block is not this case: lines may be lost there, and the scan is still cut."""

from __future__ import annotations

import gzip
import io
import random
import shutil
import zlib
from pathlib import Path

import pytest

import imsvalog
import imsvalog.correlation.scan as scan
from imsvalog.blocks import WholeUnchecked, gzip_pieces
from imsvalog.readers import iter_records
from imsvalog.records import Reject
from imsvalog.timeline import trace

from .conftest import FIXTURES, rows_both_ways

BUSY = FIXTURES / "busy-day"
JUDY = "7F7F7F7F-7A7A-47B7-87C7-D7E7F7A7B7C7"
JUDY_MID = "<rot.1710231598@ws-judy.corp.example.com>"
GZ = "log.imss.20240312.0002.gz"


def _damaged(good: bytes, damage: str) -> bytes:
    gz = bytearray(good)
    if damage == "crc":
        gz[-8] ^= 1
    elif damage == "length":
        gz[-4] ^= 1
    elif damage.startswith("cut"):  # cut1 .. cut8: the trailer's last n bytes cut off
        del gz[-int(damage[3:]):]
    elif damage == "last-block":  # the deflate data's last byte cut off too: lines may be lost
        del gz[-9:]
    return bytes(gz)


def _case(tmp_path: Path, damage: str) -> Path:
    """busy-day's 132 log.imss lines: 1-92 as .0001, 93-104 (judy's Accept to her trace) as .0002.gz, 105-132 (her
    Scan finished line among them) as .0003; the gzip damaged as ``damage`` says."""
    case = tmp_path / damage
    case.mkdir()
    for name in ("maillog-20240313", "msgtra.imss.20240312.0001", "polevt.imss.20240312.0001"):
        shutil.copy(BUSY / name, case / name)
    lines = ((BUSY / "log.imss.20240312.0001").read_bytes()
             + gzip.decompress((BUSY / GZ).read_bytes())).splitlines(keepends=True)
    assert len(lines) == 132 and JUDY.encode() in lines[110]
    (case / "log.imss.20240312.0001").write_bytes(b"".join(lines[:92]))
    (case / GZ).write_bytes(_damaged(gzip.compress(b"".join(lines[92:104]), mtime=0), damage))
    (case / "log.imss.20240312.0003").write_bytes(b"".join(lines[104:]))
    return case


CHECK_FAILED = ("the file was read to its end (through line 12), but its data check failed: Error -3 while "
                "decompressing data: incorrect {} check (the file is corrupt: the lines read from it may be garbled "
                "from an unknown line on)")
TRAILER_CUT = ("the file was read to its end (through line 12), but it ends inside its 8-byte gzip trailer: the data "
               "check could not be made, so whether the lines are as written is not known")


@pytest.mark.parametrize("damage", ["crc", "length", "cut1", "cut4", "cut8"])
def test_a_gzip_damaged_only_in_its_trailer_does_not_cut_a_scan(tmp_path: Path, damage: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    case = _case(tmp_path, damage)
    reason = CHECK_FAILED.format("data" if damage == "crc" else "length") if damage in ("crc", "length") \
        else TRAILER_CUT
    items = list(iter_records([case / GZ]))
    assert not any(isinstance(i, Reject) for i in items[:-1])
    assert (len(items), items[-1].source.line, items[-1].reason) == (13, 13, reason)
    lazy, full, c, full_sessions = rows_both_ways(case)
    assert lazy == full
    for sessions in (c.sessions, full_sessions, imsvalog.sessions(case)):
        [s] = [s for s in sessions if s.message_id == JUDY_MID]
        assert ([Path(f).name for f in s.files], s.internal_id, s.end) == (
            [GZ, "log.imss.20240312.0003"], JUDY, "scan_finished")
    [row] = [r for r in c.rows if r.event is not None and r.event.internal_id == JUDY]
    assert row.status == "linked" and "internal_id" in row.link.basis
    assert [r.reason for r in c.rejects if r.source.file.endswith(GZ)] == [reason]
    # the note that names a corrupt file stays for a failed check (a cut trailer proves no corruption)
    assert any(GZ in n and "garbled" in n for n in c.summary.rotation) is (damage in ("crc", "length"))
    monkeypatch.setattr(scan, "WORKERS", 2)
    monkeypatch.setattr(scan, "PARALLEL_FROM", 1)
    two = imsvalog.correlate(case)
    assert [r.to_dict() for r in two.rows] == [r.to_dict() for r in c.rows]
    t = trace(JUDY, case)
    assert {Path(ln.file).name for ln in t.lines if ln.stage == "scan"} == {GZ, "log.imss.20240312.0003"}
    assert f"{case / GZ}: {reason}" in t.notes and not t.rejects  # searched to its end: not 'cannot read further'


def test_a_cut_in_the_last_deflate_block_still_cuts_the_scan(tmp_path: Path) -> None:
    case = _case(tmp_path, "last-block")
    [rej] = [i for i in iter_records([case / GZ]) if isinstance(i, Reject)]
    assert rej.reason == ("the rest of the file cannot be read after line 12: Compressed file ended before the "
                          "end-of-stream marker was reached")
    for sessions in (imsvalog.correlate(case).sessions, imsvalog.sessions(case)):
        [s] = [s for s in sessions if s.message_id == JUDY_MID]
        assert ([Path(f).name for f in s.files], s.end) == ([GZ], "end_of_input")


def test_more_data_after_a_failed_check_is_left_unread(tmp_path: Path) -> None:
    """A member whose check fails with another member after it: zlib stops there, so the rest is unread."""
    case = _case(tmp_path, "crc")
    gz = case / GZ
    gz.write_bytes(gz.read_bytes() + gzip.compress(b"2024/03/12 09:17:00 GMT+01:00 [1:2] more\n"))
    [rej] = [i for i in iter_records([gz]) if isinstance(i, Reject)]
    assert rej.reason.startswith("the rest of the file cannot be read after line 12: Error -3 while decompressing data: "
                                 "incorrect data check")
    gz.write_bytes(_damaged(gzip.compress(b"2024/03/12 09:17:00 GMT+01:00 [1:2] more\n", mtime=0), "crc") + b"\0" * 512)
    [rej] = [i for i in iter_records([gz]) if isinstance(i, Reject)]  # zeros after the trailer are padding
    assert rej.reason.startswith("the file was read to its end (through line 1), but its data check failed")


def test_the_trailer_is_told_from_the_deflate_data_at_every_cut() -> None:
    """Cut at every byte near its end, streams of every flush kind and strategy: a cut is said to be in the trailer
    exactly when the deflate data before it is whole (zlib gives no state; two opposite probes decide)."""
    rnd = random.Random(7)
    for _ in range(60):
        co = zlib.compressobj(rnd.choice([1, 6, 9]), zlib.DEFLATED, 31, strategy=rnd.choice(range(5)))
        parts = []
        for _ in range(rnd.randint(1, 5)):
            parts.append(co.compress(bytes(rnd.choice(b"ab\n ") for _ in range(rnd.randint(0, 300)))))
            parts.append(co.flush(rnd.choice([zlib.Z_SYNC_FLUSH, zlib.Z_FULL_FLUSH, zlib.Z_NO_FLUSH, zlib.Z_BLOCK])))
        good = b"".join([*parts, co.flush()])
        for cut in range(max(1, len(good) - 40), len(good)):
            try:
                b"".join(gzip_pieces(io.BytesIO(good[:cut])))
            except WholeUnchecked:
                got = "trailer"
            except (EOFError, zlib.error):
                got = "data"
            assert got == ("trailer" if cut >= len(good) - 8 else "data"), (cut, len(good))
