"""Readers: every line accounted for, DataFrames with sensible dtypes, streaming memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

import imsvalog
from imsvalog.readers import ReadReport, iter_records
from imsvalog.records import Reject
from imsvalog.sources import LogFile, iter_lines, kind_from_name

from .conftest import FIXTURES, KB, LOG_FIXTURES


@pytest.mark.parametrize("path", LOG_FIXTURES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_records_plus_rejects_equal_lines_read(path: Path) -> None:
    kind = kind_from_name(path.name)[0]
    n_lines = sum(1 for _ in iter_lines(LogFile(path, kind)))
    report = ReadReport()
    items = list(iter_records([path], report=report))
    assert len(items) == n_lines
    assert report.records + report.rejects == n_lines
    assert [i.source.line for i in items] == list(range(1, n_lines + 1))


def test_ugly_fixture_rejects_say_where_and_why() -> None:
    rejects = [i for i in iter_records([FIXTURES / "ugly"]) if isinstance(i, Reject)]
    got = {(Path(r.source.file).name, r.source.line): r.reason for r in rejects}
    assert got[("log.imss.20240313.0001", 7)] == "blank line"
    assert got[("log.imss.20240313.0001", 9)].startswith("expected date YYYY/MM/DD at column 1")
    assert "not a real time" in got[("log.imss.20240313.0001", 10)]
    assert "field 7 (conditions) is not a 0/1 code" in got[("polevt.imss.20240313.0001", 4)]
    assert len(got) == 5


def test_cut_off_last_line_and_latin1_header_are_kept() -> None:
    items = list(iter_records([FIXTURES / "ugly" / "log.imss.20240313.0001"]))
    last = items[-1]
    assert last.source.line == 13 and last.body == "Running ruleId:12; vers"
    hdr = items[3]
    assert hdr.shape == "received_header"
    assert hdr.source.raw_bytes.count(b"\xe9") == 2  # the Latin-1 bytes survive exactly


def test_shift_jis_subject_survives_in_polevt() -> None:
    events = list(imsvalog.iter_polevt(FIXTURES / "ugly"))
    assert events[1].subject.encode("utf-8", "surrogateescape") == "請求書".encode("shift_jis")
    assert events[0].subject == "会議の件"


def test_log_imss_frame_dtypes() -> None:
    df = imsvalog.read_log_imss(KB)
    assert len(df) == 10
    assert isinstance(df["time"].dtype, pd.DatetimeTZDtype)
    assert str(df["time"].iloc[0]) == "2019-04-30 13:57:43+09:00"
    assert isinstance(df["shape"].dtype, pd.CategoricalDtype)
    assert df.loc[df["shape"] == "ip_list", "ips"].iloc[0] == ["1111:2222:3333:444::5555"]


def test_polevt_frame_keeps_lists() -> None:
    df = imsvalog.read_polevt(FIXTURES / "busy-day")
    spam = df[df["rule"] == "Inbound Spam"].iloc[0]
    assert spam["recipients"] == ["bob@example.com", "carol@example.com"]
    assert spam["actions"] == ["quarantine", "notify"]
    assert isinstance(df["rule"].dtype, pd.CategoricalDtype)


def test_mixed_offsets_keep_each_logged_offset() -> None:
    df = imsvalog.read_log_imss([FIXTURES / "kb000239719", FIXTURES / "time-only"])
    assert set(df["offset"]) == {"+09:00", "-05:00"}  # times in UTC, each row's logged offset kept


def test_rejects_collected_when_asked() -> None:
    rejects: list[Reject] = []
    events = list(imsvalog.iter_polevt(FIXTURES / "ugly", rejects=rejects))
    assert len(events) == 3 and len(rejects) == 2


def test_reader_of_a_kind_without_files_is_an_input_error() -> None:
    with pytest.raises(imsvalog.InputError, match="no msgtra.imss file"):
        list(imsvalog.iter_msgtra(KB))


def _peak(path: Path) -> int:
    for _ in iter_records([path]):  # warm caches (offsets, pyparsing internals) first
        pass
    tracemalloc.start()
    n = 0
    for _ in iter_records([path]):
        n += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def test_iterators_stream_memory_does_not_grow_with_file_size(tmp_path: Path) -> None:
    """Peak memory reading 8x the lines stays about the same (it would be ~8x if lines were kept)."""
    line = (KB / "log.imss.20190430.0001").read_bytes()
    small, big = tmp_path / "small" / "log.imss.20190430.0001", tmp_path / "big" / "log.imss.20190430.0001"
    small.parent.mkdir()
    big.parent.mkdir()
    small.write_bytes(line * 300)
    big.write_bytes(line * 2400)
    p_small, p_big = _peak(small), _peak(big)
    assert p_big < p_small * 1.5, (p_small, p_big)


def test_truncated_gzip_ends_with_a_reject_and_the_next_file_is_read(tmp_path: Path) -> None:
    import gzip

    data = gzip.compress((KB / "log.imss.20190430.0001").read_bytes() * 200)
    (tmp_path / "log.imss.20190430.0001.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "polevt.imss.20190430.0001").write_bytes((KB / "polevt.imss.20190430.0001").read_bytes())
    report = ReadReport()
    items = list(iter_records([tmp_path], report=report))
    gz = [i for i in items if i.source.file.endswith(".gz")]
    last = gz[-1]
    assert isinstance(last, Reject) and last.reason.startswith("the rest of the file cannot be read after line")
    assert last.source.line == len(gz) and report.files[0].rejects == 1
    assert report.files[1].records == 1  # the polevt file after it was still read


def test_msgtra_frame_with_missing_times() -> None:
    """Regression: 'NaTType does not support utcoffset' when a time column had gaps."""
    df = imsvalog.read_msgtra(FIXTURES / "busy-day")
    assert isinstance(df["delivery_time"].dtype, pd.DatetimeTZDtype)
    assert df["delivery_time"].isna().tolist() == [True, True, False, False]
    assert str(df["delivery_time"].iloc[2]) == "2024-03-12 09:15:03+01:00"


def test_maillog_frame_with_mixed_offsets_is_utc_with_offsets() -> None:
    df = imsvalog.read_maillog(FIXTURES / "busy-day" / "maillog-20240313")  # alone: no log.imss to give the zone
    assert str(df["time"].dtype) == "datetime64[us, UTC]"
    assert set(df["offset"]) == {"+00:00", "+01:00"}
