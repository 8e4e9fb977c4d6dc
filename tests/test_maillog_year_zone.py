"""maillog's missing year and zone: file name, bundle name, the appliance's log.imss, modification time; --tz overrides."""

from __future__ import annotations

import importlib.util
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from typer.testing import CliRunner

from imsvalog.cli import app

from .conftest import FIXTURES

runner = CliRunner()
_spec = importlib.util.spec_from_file_location("make_bundles", FIXTURES / "make_bundles.py")
make_bundles = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(make_bundles)  # type: ignore[union-attr]

#: December lines, then January ones: the log runs across New Year
MAILLOG = (
    b"Dec 31 23:59:58 imsva01 postfix/smtpd[100]: connect from mx1.example.com[198.51.100.25]\n"
    b"Jan  1 00:00:02 imsva01 postfix/smtpd[100]: disconnect from mx1.example.com[198.51.100.25]\n"
)
IMSS = b"2022/01/01 00:00:01 GMT+09:00 [28639:4098483968] Info: Accept connection from client [127.0.0.1]\n"


def _times(*args: str) -> tuple[list[str], str]:
    r = runner.invoke(app, ["parse", *args, "--format", "jsonl"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    return [x["time"] for x in rows if x["kind"] == "maillog"], r.stderr


def test_year_from_the_bundle_name_and_zone_from_the_appliance_log_imss(tmp_path: Path) -> None:
    z = make_bundles.write_cdt_zip(tmp_path / "CDT-20220105-101500.zip", {
        "IMSVA/Logfile/Event5/maillog": MAILLOG,
        "IMSVA/LogFile/Event3/log.imss.20220101.0001": IMSS,
    }, "trend")
    times, err = _times(str(z))
    assert times == ["2021-12-31T23:59:58+09:00", "2022-01-01T00:00:02+09:00"]  # December rolled back a year
    assert (f"{z}!IMSVA/Logfile/Event5/maillog: maillog year 2022 from the bundle's name; "
            f"zone +09:00 from log.imss of the same appliance ({z}!IMSVA/LogFile/Event3/log.imss.20220101.0001:1)") in err
    times, err = _times(str(z), "--tz", "-05:00")
    assert times == ["2021-12-31T23:59:58-05:00", "2022-01-01T00:00:02-05:00"]
    assert "zone from --tz" in err


def test_year_from_the_file_name_first(tmp_path: Path) -> None:
    (tmp_path / "maillog-20220102").write_bytes(MAILLOG)
    times, err = _times(str(tmp_path / "maillog-20220102"))
    assert times == ["2021-12-31T23:59:58+00:00", "2022-01-01T00:00:02+00:00"]
    assert "maillog year 2022 from the file name; syslog timestamps carry no zone; UTC assumed" in err


def test_year_from_the_appliance_log_imss_before_the_modification_time(tmp_path: Path) -> None:
    (tmp_path / "maillog").write_bytes(MAILLOG)
    (tmp_path / "log.imss.20220101.0001").write_bytes(IMSS)
    os.utime(tmp_path / "maillog", (1_700_000_000, 1_700_000_000))  # 2023: a copy's time, not the log's
    times, err = _times(str(tmp_path))
    assert times == ["2021-12-31T23:59:58+09:00", "2022-01-01T00:00:02+09:00"]
    assert f"maillog year 2022 from log.imss of the same appliance ({tmp_path}/log.imss.20220101.0001:1)" in err


def test_year_from_the_modification_time_last(tmp_path: Path) -> None:
    (tmp_path / "maillog").write_bytes(MAILLOG)
    stamp = datetime(2021, 1, 3, tzinfo=timezone.utc).timestamp()
    os.utime(tmp_path / "maillog", (stamp, stamp))
    times, err = _times(str(tmp_path / "maillog"))
    assert times == ["2020-12-31T23:59:58+00:00", "2021-01-01T00:00:02+00:00"]
    assert "maillog year 2021 from the file's modification time" in err


def test_year_from_the_member_modification_time(tmp_path: Path) -> None:
    z = make_bundles.write_cdt_zip(tmp_path / "logs.zip", {"maillog": MAILLOG}, None)  # MTIME: 2024-03-12
    times, err = _times(str(z))
    assert times == ["2023-12-31T23:59:58+00:00", "2024-01-01T00:00:02+00:00"]
    assert "maillog year 2024 from the member's modification time" in err


def test_year_from_log_imss_rolls_forward_across_new_year(tmp_path: Path) -> None:
    """Tester's failure: log.imss 2024/12/31 + maillog "Dec 31 23:59:58" then "Jan  1 00:00:05" gave
    2024-01-01 for the second line (expected 2025-01-01): the year was only ever rolled back."""
    (tmp_path / "maillog").write_bytes(MAILLOG)
    (tmp_path / "log.imss.20241231.0001").write_bytes(
        b"2024/12/31 23:59:58 GMT+01:00 [1:2] Info: Accept connection from client [127.0.0.1]\n")
    times, err = _times(str(tmp_path))
    assert times == ["2024-12-31T23:59:58+01:00", "2025-01-01T00:00:02+01:00"]
    assert "maillog year 2024 from log.imss of the same appliance" in err
