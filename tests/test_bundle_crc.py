"""A zip member whose CRC check fails (found by libarchive with its last block) gives every byte it holds, as
``unzip -p`` does, then a reject saying the check failed and that the lines read may be garbled.

Before (h25a, README Known gaps): libarchive's ``archive_read_data`` gave the warning in place of the member's last
block and of all it had copied before it in that call: up to a MiB before the error was lost, a small gzipped
member entirely (a rotation's 23 lines read as none)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from imsvalog.blocks import CORRUPT_WORDS
from imsvalog.cli import app

from .conftest import FIXTURES

BUSY = FIXTURES / "busy-day"
LOG = "IMSVA/LogFile/Event3/log.imss.20240312.0001"
GZ = "IMSVA/LogFile/Event3/log.imss.20240312.0002.gz"
POL = "IMSVA/LogFile/Event3/polevt.imss.20240312.0001"


def _bundle(tmp_path: Path, bad: str) -> Path:
    """busy-day's logs in a zip (stored), ``bad`` (a member's name) with a CRC that does not match its data: the
    plain log with one byte of its data flipped, the gzipped one with its CRC fields changed (its data intact)."""
    members = {LOG: (BUSY / LOG.rsplit("/", 1)[1]).read_bytes(), GZ: (BUSY / GZ.rsplit("/", 1)[1]).read_bytes(),
               POL: (BUSY / POL.rsplit("/", 1)[1]).read_bytes()}
    z = tmp_path / "CDT-20240312-120000.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        info = zf.getinfo(bad)
    raw = bytearray(z.read_bytes())
    if bad == LOG:
        raw[raw.find(members[LOG][:40]) + len(members[LOG]) // 2] ^= 0x01
    else:
        raw[info.header_offset + 14] ^= 0x01  # the CRC in the local header and in the central directory
        central = raw.find(b"PK\x01\x02")
        while central >= 0:
            if raw[central + 46:central + 46 + len(bad)] == bad.encode():
                raw[central + 16] ^= 0x01
            central = raw.find(b"PK\x01\x02", central + 4)
    z.write_bytes(bytes(raw))
    return z


def _parse(z: Path) -> tuple[list[dict], list[dict]]:
    r = CliRunner().invoke(app, ["parse", str(z), "--format", "jsonl"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    return [x for x in rows if x["kind"] != "reject"], [x for x in rows if x["kind"] == "reject"]


def test_a_gzipped_member_with_a_bad_crc_gives_its_lines_then_a_reject(tmp_path: Path) -> None:
    z = _bundle(tmp_path, GZ)
    records, rejects = _parse(z)
    lines = [x["line"] for x in records if x["file"] == f"{z}!{GZ}"]
    assert lines == list(range(1, 24))  # the rotation's 23 lines (before: none)
    [bad] = [x for x in rejects if x["file"] == f"{z}!{GZ}"]
    assert bad["line"] == 24 and "the member is damaged: ZIP bad CRC" in bad["reason"], bad
    assert CORRUPT_WORDS in bad["reason"]
    r = CliRunner().invoke(app, ["correlate", str(z), "--format", "jsonl"])
    assert r.exit_code == 0, r.output
    assert f"{z}!{GZ}:24: the rest of the file cannot be read after line 23: the member is damaged: ZIP bad CRC" in r.stderr
    assert f"{z}!{GZ}: {CORRUPT_WORDS}; rows that cite its lines may rest on garbled ones" in r.stderr


def test_a_plain_member_with_a_flipped_byte_gives_every_line_and_says_they_may_be_garbled(tmp_path: Path) -> None:
    z = _bundle(tmp_path, LOG)
    records, rejects = _parse(z)
    total = len((BUSY / LOG.rsplit("/", 1)[1]).read_bytes().splitlines())
    mine = [x for x in records if x["file"] == f"{z}!{LOG}"]
    garbled = [x for x in rejects if x["file"] == f"{z}!{LOG}" and x["line"] <= total]
    assert len(mine) + len(garbled) == total  # every line: a record or, where the flipped byte is, a reject
    [end] = [x for x in rejects if x["file"] == f"{z}!{LOG}" and x["line"] == total + 1]
    assert "ZIP bad CRC" in end["reason"] and CORRUPT_WORDS in end["reason"], end
