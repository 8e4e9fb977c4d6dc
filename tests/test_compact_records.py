"""Sessions that hold their records compactly read exactly like lists of the parsed records."""

from __future__ import annotations

import copy
import pickle

import pytest

import imsvalog
from imsvalog.scan_sessions import CompactRecords, HeldTrace, record_sources

from .conftest import FIXTURES


@pytest.mark.parametrize("name", ["busy-day", "ugly", "hostile", "kb000239719"])
def test_compact_records_equal_the_parsed_ones(name: str) -> None:
    full = imsvalog.sessions(FIXTURES / name)
    assert full
    for s in full:
        records = list(s.records)
        compact = copy.copy(s)
        compact.compact()
        got = compact.records
        assert isinstance(got, CompactRecords) and not isinstance(s.records, CompactRecords)
        assert len(got) == len(records)
        assert got == records and records == got  # both ways, element by element (text, fields, time)
        assert list(got) == records and got[:] == records and got[1:-1] == records[1:-1]
        assert got[-1] == records[-1] and got[0] == records[0]
        assert got.sources() == [r.source for r in records] == record_sources(records) == record_sources(got)
        assert compact.to_row() == s.to_row() and compact.sources == s.sources and compact.files == s.files
        # the traces keep no record objects: theirs are the session's lines at the same places, parsed
        # again, and what rows read of them is the same as the traces first built say
        assert len(compact.traces) == len(s.traces)
        for t, held in zip(s.traces, compact.traces, strict=True):
            assert isinstance(held, HeldTrace) == bool(t.fed)
            assert held == t and t == held and repr(held) == repr(t)
            assert held.fed == t.fed and held.records == t.records
            for r in held.fed:
                assert got[records.index(r)] == r and got[records.index(r)] is not r
            for name in ("header_texts", "matched_addresses", "logged_ips", "logged_count", "verdict_text",
                         "triggered", "first_line", "ip_list_ref", "verdict_ref", "evaluated_addresses",
                         "complete", "headers", "matched", "ip_list", "verdict", "filter_result", "other"):
                assert getattr(held, name) == getattr(t, name), name
            if t.fed:
                assert held.time == t.time
            assert pickle.loads(pickle.dumps(held)) == t
        assert compact.spoof_traces == s.spoof_traces
        with pytest.raises(IndexError):
            got[len(records)]
        assert got != records[:-1]
        assert repr(got) == f"<CompactRecords: {len(records)} records>"


def test_correlate_keeps_compact_sessions_equal_to_the_full_reader() -> None:
    c = imsvalog.correlate(FIXTURES / "busy-day")
    full = {s.id: s for s in imsvalog.sessions(FIXTURES / "busy-day")}
    assert c.sessions and all(isinstance(s.records, CompactRecords) for s in c.sessions)
    for s in c.sessions:
        same = [f for f in full.values() if f.thread == s.thread and f.internal_id == s.internal_id]
        assert len(same) == 1 and list(same[0].records) == list(s.records)


def test_repeated_head_fields_are_shared_and_the_sharing_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from imsvalog.grammars import imss

    line = "2019/04/30 13:57:43 GMT+09:00 [28639:4098483968] [INFO] Engine::scan: rule {i} run"
    _, a = imss.parse(line.format(i=1))
    _, b = imss.parse(line.format(i=2))
    assert (a["pid"], a["tid"], a["level"], a["component"], a["method"]) == (28639, 4098483968, "INFO", "Engine", "scan")
    assert a["tid"] is b["tid"] and a["component"] is b["component"] and a["method"] is b["method"]
    monkeypatch.setattr(imss, "_SHARED_STR", {})
    monkeypatch.setattr(imss, "_SHARED_MAX", 3)
    for i in range(10):
        imss.parse(f"2019/04/30 13:57:43 GMT+09:00 [1:2] [INFO] C{i}::m{i}: text")
    assert len(imss._SHARED_STR) == 3  # log text never grows the table past its bound
    with pytest.raises(imss.ParseFailure):
        imss._shared_int("9" * 5000, "pid")


def test_compact_records_keep_any_text_and_the_trace_records_text_once() -> None:
    """Undecodable bytes (lone surrogates), characters past the BMP and NUL come back as they were,
    though the texts are held compressed; a trace record's text is its own, not a second copy."""
    from imsvalog.readers import parse_line
    from imsvalog.records import Source

    texts = [
        "2019/04/30 13:57:43 GMT+09:00 [1:2] [INFO] Engine::scan: rule \udcff\udc80 caf\u00e9 \U0001f600 run",
        "2019/04/30 13:57:43 GMT+09:00 [1:2] [DEBUG] AntiSpoofFilter: parse received header string "
        "[from a (b [192.0.2.1]) by c; Tue, 30 Apr 2019 13:57:43 +0900]",
        "2019/04/30 13:57:44 GMT+09:00 [1:2] [INFO] Engine::scan: \x00 nul and \t tab",
    ]
    records = [parse_line("imss", Source("f\udcfe.log", i + 1, t)) for i, t in enumerate(texts)]
    compact = CompactRecords(records, keep=[records[1]])
    assert compact == records and compact.sources() == [r.source for r in records]
    assert compact[1] is records[1] and compact.source(1) is records[1].source
    assert compact.source(0).text == texts[0] and compact[2] == records[2]
    assert compact.places() == [("f\udcfe.log", 1), ("f\udcfe.log", 2), ("f\udcfe.log", 3)]
    assert pickle.loads(pickle.dumps(compact)) == records
