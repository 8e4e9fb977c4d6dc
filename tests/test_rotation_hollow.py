"""Attack s22f: an unpacked CDT bundle whose rotated.tar.gz was taken as an appliance named "rotated"."""

from __future__ import annotations

import zipfile
from pathlib import Path

from imsvalog import bundles
from imsvalog.correlation import correlate

from .conftest import FIXTURES

CDT = FIXTURES / "bundles" / "CDT-20240312-101500.zip"


def _unpack(zip_path: Path, to: Path) -> Path:
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(to, pwd=bundles.CDT_DEFAULT_PASSWORD.encode())
    return to


def test_an_unpacked_cdt_bundle_is_read_as_the_zip_is(tmp_path: Path) -> None:
    """The unpacked folder's rotated.tar.gz (older rotations inside the bundle) was another appliance named
    "rotated": its trace said 'no polevt.imss policy events were read at all', events said 'add the log.imss file
    of that time'. Now the folder reads as the zip does."""
    folder = _unpack(CDT, tmp_path / "unz")
    zipped, unpacked = correlate(CDT), correlate(folder)
    assert {r.appliance for r in unpacked.rows} == {"imsva"}
    assert [(r.status, r.internal_id) for r in unpacked.rows] == [(r.status, r.internal_id) for r in zipped.rows]
    assert not any("were read at all" in n or "add the log.imss file" in n for r in unpacked.rows for n in r.notes)
