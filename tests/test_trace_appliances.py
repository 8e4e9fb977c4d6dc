"""trace cuts a scan from its own appliance's log.imss only: another appliance's scanner may use the same
[pid:tid] (attack s18b-2); correlate keeps appliances apart, and trace does the same."""

from __future__ import annotations

import shutil
from pathlib import Path

from imsvalog.timeline import trace

KB = Path(__file__).resolve().parent.parent / "fixtures" / "kb000239719"
IID = "87BDADC9-87B8-3D05-A958-0267A8088406"
OTHER = "2019/04/30 13:57:44 GMT+09:00 [28639:4098483968] [DEBUG]in convertUnicodeToString, source.length = 46\n"


def _two_appliances(root: Path) -> Path:
    for a in ("imsva01", "imsva02"):
        (root / a / "IMSVA" / "LogFile").mkdir(parents=True)
    for f in KB.iterdir():
        shutil.copy(f, root / "imsva01" / "IMSVA" / "LogFile" / f.name)
    (root / "imsva02" / "IMSVA" / "LogFile" / "log.imss.20190430.0001").write_text(OTHER)
    (root / "imsva02" / "IMSVA" / "LogFile" / "polevt.imss.20190430.0001").write_text("")
    return root


def test_a_scan_takes_no_line_of_another_appliance_with_the_same_thread_tag(tmp_path: Path) -> None:
    t = trace(IID, _two_appliances(tmp_path))
    scan = [ln for ln in t.lines if ln.stage == "scan"]
    assert scan, t.notes
    assert all("imsva01" in ln.file for ln in scan), [ln.file for ln in scan if "imsva02" in ln.file]
    alone = trace(IID, KB)
    assert [ln.text for ln in scan] == [ln.text for ln in alone.lines if ln.stage == "scan"]
    assert not any("imsva02" in n for n in t.notes), t.notes
