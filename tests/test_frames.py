"""DataFrames: one set of dtypes for every frame, pinned column by column, the same under pandas 2 and 3."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import imsvalog
from imsvalog.frames import COLUMNS, concat, frame, to_utc
from imsvalog.records import Reject

from .conftest import FIXTURES, KB

BUSY = FIXTURES / "busy-day"
TRUSTED = imsvalog.TrustedList.parse(["198.51.100.25"])

_COMMON = {"kind": "category", "file": "category", "line": "Int64"}
EXPECTED = {
    "read_log_imss": {
        **_COMMON, "shape": "category", "time": "datetime64[us, UTC+01:00]", "pid": "Int64", "tid": "Int64",
        "level": "category", "component": "category", "method": "category", "body": "string", "location": "string",
        "client": "string", "thread": "category", "message_id": "string", "detail": "string", "rule_id": "Int64",
        "rule_version": "Int64", "num_filters": "Int64", "num_actions": "Int64", "header": "string",
        "address": "string", "count": "Int64", "ips": "object", "text": "string", "triggered": "boolean",
        "filter_name": "category", "result": "boolean", "index": "Int64", "action": "category",
        "internal_id": "string",
    },
    "read_polevt": {
        **_COMMON, "time": "datetime64[us, UTC+01:00]", "internal_id": "string", "sender": "string",
        "recipients": "object", "subject": "string", "direction": "Int64", "rule": "category",
        "conditions_code": "category", "conditions": "object", "size_kb": "float64", "actions_code": "category",
        "actions": "object", "spam_score": "float64", "attachment": "string", "attachment_type": "string",
        "message_id": "string", "extra": "object",
    },
    "read_msgtra": {
        **_COMMON, "time": "datetime64[us, UTC+01:00]", "transaction": "category",
        "logged_time": "datetime64[us, UTC+01:00]", "delivery_time": "datetime64[us, UTC+01:00]",
        "message_id": "string", "internal_id": "string", "queue_id": "string", "number": "string",
        "sender": "string", "recipients": "object", "subject": "string", "client_host": "string",
        "client_address": "string", "next_hop": "string", "response": "string", "response_internal_id": "string",
        "status": "category", "actions_code": "category", "actions": "object", "extra": "object",
    },
    "read_maillog": {
        # the fixture mixes an assumed-UTC syslog stamp with an RFC 3339 +01:00 one: UTC plus offset
        **_COMMON, "shape": "category", "time": "datetime64[us, UTC]", "offset": "category",
        "zone_assumed": "boolean", "host": "category", "program": "category", "pid": "Int64", "body": "string",
        "queue_id": "string", "message_id": "string", "sender": "string", "recipient": "string",
        "orig_recipient": "string", "relay_host": "string", "relay_address": "string", "relay_port": "Int64",
        "delay": "float64", "dsn": "string", "status": "category", "status_text": "string", "queued_as": "string",
        "size": "Int64", "nrcpt": "Int64", "client_host": "string", "client_address": "string",
    },
    "sessions_frame": {
        "session": "string", "thread": "category", "start_time": "datetime64[us, UTC+01:00]",
        "end_time": "datetime64[us, UTC+01:00]", "start": "category", "end": "category", "message_id": "string",
        "internal_id": "string", "rules": "object", "final_actions": "object", "spoof_traces": "Int64",
        "logged_ips": "object", "logged_count": "Int64", "triggered": "boolean", "received_headers": "object",
        "files": "object", "first_line": "string", "lines": "Int64",
    },
    "correlate": {
        "time": "datetime64[us, UTC+01:00]", "thread": "category", "internal_id": "string", "message_id": "string",
        "sender": "string", "recipients": "object", "subject": "string", "rule": "category", "actions": "object",
        "status": "category", "link_basis": "object", "link_confidence": "category", "link_candidates": "object", "logged_ips": "object",
        "logged_count": "Int64", "logged_triggered": "boolean", "recomputed_ips": "object",
        "recomputed_count": "Int64", "skipped": "object", "domain_match": "boolean",
        "recomputed_triggered": "boolean", "agrees": "boolean", "findings": "object", "explanation": "string",
        "source": "object", "appliance": "category", "missing": "category", "linked_elsewhere": "object",
        "result": "object",
    },
}


def _frames() -> dict[str, pd.DataFrame]:
    return {
        "read_log_imss": imsvalog.read_log_imss(BUSY),
        "read_polevt": imsvalog.read_polevt(BUSY),
        "read_msgtra": imsvalog.read_msgtra(BUSY),
        "read_maillog": imsvalog.read_maillog(BUSY / "maillog-20240313"),  # alone: no log.imss to give the zone
        "sessions_frame": imsvalog.sessions_frame(BUSY),
        "correlate": imsvalog.correlate(BUSY, trusted=TRUSTED).frame,
    }


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return _frames()


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_frame_has_its_pinned_dtypes(frames: dict[str, pd.DataFrame], name: str) -> None:
    assert {c: str(t) for c, t in frames[name].dtypes.items()} == EXPECTED[name]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_column_is_in_the_one_table(frames: dict[str, pd.DataFrame], name: str) -> None:
    unknown = set(frames[name].columns) - set(COLUMNS) - {"result"}
    assert not unknown, f"add {sorted(unknown)} to imsvalog.frames.COLUMNS (one dtype per column name)"


def test_a_column_name_has_one_dtype_across_frames(frames: dict[str, pd.DataFrame]) -> None:
    seen: dict[str, set[str]] = {}
    for name, df in frames.items():
        for col, t in df.dtypes.items():
            if col == "result" and name == "correlate":
                continue  # the Row object itself, declared per frame
            seen.setdefault(col, set()).add("time" if col.endswith("time") else str(t))
    assert {c: t for c, t in seen.items() if len(t) > 1} == {}


def test_time_columns_of_the_three_scanner_logs_concatenate_as_datetimes(frames: dict[str, pd.DataFrame]) -> None:
    """msgtra's times came from dateutil (tzoffset) and polevt's from datetime.timezone: same dtype now."""
    times = pd.concat([frames[n]["time"] for n in ("read_polevt", "read_msgtra", "read_log_imss")])
    assert str(times.dtype) == "datetime64[us, UTC+01:00]"
    merged = frames["read_polevt"].merge(frames["read_msgtra"], on="internal_id", suffixes=("", "_tx"))
    assert len(merged) >= 1 and str(merged["time_tx"].dtype) == "datetime64[us, UTC+01:00]"


def test_mixed_offsets_give_utc_and_an_offset_column() -> None:
    df = imsvalog.read_log_imss([KB, FIXTURES / "time-only"])
    assert str(df["time"].dtype) == "datetime64[us, UTC]"
    assert set(df["offset"]) == {"+09:00", "-05:00"}
    kb = df[df["offset"] == "+09:00"].iloc[0]
    assert kb["time"] == pd.Timestamp("2019-04-30 04:57:43", tz="UTC")  # 13:57:43 GMT+09:00
    local = df["time"].dt.tz_localize(None) + pd.to_timedelta(df["offset"].astype(str).str.replace(":", "h") + "m")
    assert str(local[df["offset"] == "+09:00"].iloc[0]) == "2019-04-30 13:57:43"


def test_concat_of_frames_in_different_zones_keeps_datetimes_and_categories() -> None:
    kb, other = imsvalog.read_log_imss(KB), imsvalog.read_log_imss(FIXTURES / "time-only")
    assert pd.concat([kb, other])["time"].dtype == object  # what plain pandas does
    both = concat([kb, other], ignore_index=True)
    assert str(both["time"].dtype) == "datetime64[us, UTC]"
    assert both["offset"].value_counts().to_dict() == {"-05:00": len(other), "+09:00": len(kb)}
    assert isinstance(both["shape"].dtype, pd.CategoricalDtype)
    assert isinstance(both["file"].dtype, pd.CategoricalDtype) and both["file"].nunique() == 2


def test_to_utc_keeps_the_instant() -> None:
    kb = imsvalog.read_log_imss(KB)
    utc = to_utc(kb)
    assert (utc["time"] == kb["time"]).all() and set(utc["offset"]) == {"+09:00"}
    assert list(utc.columns[:6]) == ["kind", "shape", "file", "line", "time", "offset"]


def test_nullable_values_stay_unknown() -> None:
    df = frame(
        [
            {"count": 2, "agrees": True, "time": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), "rule_id": None},
            {"count": None, "agrees": None, "time": None, "rule_id": 12},
        ]
    )
    assert df["count"].tolist() == [2, pd.NA] and str(df["count"].dtype) == "Int64"
    assert df["agrees"].tolist() == [True, pd.NA]  # unknown, never False
    assert df["time"].isna().tolist() == [False, True] and str(df["time"].dtype) == "datetime64[us, UTC]"


def test_undecodable_bytes_survive_in_string_columns() -> None:
    events = imsvalog.read_polevt(FIXTURES / "ugly")
    subjects = [s for s in events["subject"] if s is not pd.NA]
    assert "請求書".encode("shift_jis") in [s.encode("utf-8", "surrogateescape") for s in subjects]
    assert str(events["subject"].dtype) == "string"


def test_year_9999_fits_the_time_unit() -> None:
    df = frame([{"time": dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=9)))}])
    assert str(df["time"].iloc[0]) == "9999-12-31 23:59:59+09:00"


def test_rejects_frame_dtypes() -> None:
    rejects = [i for i in imsvalog.iter_records(FIXTURES / "ugly") if isinstance(i, Reject)]
    df = imsvalog.records_frame(rejects)
    assert {c: str(t) for c, t in df.dtypes.items()} == {
        **_COMMON, "log_kind": "category", "reason": "string", "raw": "string",
    }
