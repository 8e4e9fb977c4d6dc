"""``imsvalog redact``: a zip member whose data fails its CRC is copied as far as it can be read.

Before (attack as25c F3): a CDT zip with a bad CRC in a log.imss member ended redact with exit 3, "internal error:
ArchiveDamagedError ... This is a bug in imsvalog", from the first pass (:func:`imsvalog.redact_files.learn`).
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imsvalog.cli import app

from .conftest import FIXTURES

BUSY = FIXTURES / "busy-day"


def _bad_crc_zip(folder: Path, method: int) -> Path:
    """A CDT zip whose log.imss member has one byte of its data changed (its CRC fails)."""
    body = (BUSY / "log.imss.20240312.0001").read_bytes() * 20
    z = folder / f"CDT-20240312-120000-{method}.zip"
    with zipfile.ZipFile(z, "w", method) as zf:
        zf.writestr("IMSVA/LogFile/Event3/log.imss.20240312.0001", body)
        zf.writestr("IMSVA/LogFile/Event3/polevt.imss.20240312.0001", (BUSY / "polevt.imss.20240312.0001").read_bytes())
    data = bytearray(z.read_bytes())
    with zipfile.ZipFile(z) as zf:
        info = zf.getinfo("IMSVA/LogFile/Event3/log.imss.20240312.0001")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    at = start + info.compress_size // 2
    data[at] ^= 0x01 if method == zipfile.ZIP_STORED else 0x20
    z.write_bytes(bytes(data))
    return z


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_zip_member_with_a_bad_crc_is_copied_as_far_as_it_is_read(tmp_path: Path, method: int) -> None:
    """Exit 0, not 3: each member copied, and stderr says where the log.imss could not be read and that what
    was read may be garbled (as parse's reject says it)."""
    z = _bad_crc_zip(tmp_path, method)
    to = tmp_path / "to"
    res = CliRunner().invoke(app, ["redact", str(z), "--to", str(to)], env={"COLUMNS": "100", "TERM": "dumb"})
    assert res.exit_code == 0, res.output
    assert "internal error" not in res.output
    assert "onwards unreadable (the member is damaged: ZIP " in res.output
    assert "may be garbled from an unknown line on" in res.output
    copies = sorted(p.name for p in to.rglob("*") if p.is_file())
    assert copies == ["log.imss.20240312.0001", "polevt.imss.20240312.0001"]
    assert os.path.getsize(next(to.rglob("polevt.imss.20240312.0001"))) > 0
