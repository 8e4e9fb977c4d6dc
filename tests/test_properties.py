"""No input crashes a reader, and every line is accounted for (hypothesis)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imsvalog.grammars.received import parse_received
from imsvalog.errors import InputError
from imsvalog.readers import ReadReport, iter_records
from imsvalog.spoof import evaluate

PREFIXES = ["2019/04/30 13:57:43 GMT+09:00 [28639:4098483968] ", "2024/03/12\t09:15:01\tGMT-05:00 [1:2]", ""]
BODIES = [
    "Running ruleId:", "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:",
    "[DEBUG]AntiSpoofFilter: Get ", "filter AntiSpoofFilter isTriggered returned ", "Final action ",
    "Scan finished for ", ">>> Message-ID : ", "Info: Accept connection from client [", "push ruleID.ruleVer=",
]

log_like = st.builds(
    lambda p, b, t: p + b + t,
    st.sampled_from(PREFIXES),
    st.sampled_from(BODIES + [""]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
)
polevt_like = st.lists(st.text(max_size=12), max_size=45).map(lambda fs: "\t".join(["2019/04/30 13:57:43 GMT+09:00", *fs]))


def _check(tmp_path: Path, name: str, data: bytes) -> None:
    p = tmp_path / name
    p.write_bytes(data)
    report = ReadReport()
    if data.startswith(b"\x1f\x8b"):
        # gzip magic: a broken compressed file is a clear input error, not a crash
        try:
            list(iter_records([p], report=report))
        except InputError as exc:
            assert "cannot read past line" in str(exc)
        return
    items = list(iter_records([p], report=report))
    expected = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    assert len(items) == expected == report.records + report.rejects


settings_ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings_
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_never_crash_any_reader(tmp_path: Path, data: bytes) -> None:
    for name in ("log.imss.20240101.0001", "polevt.imss.20240101.0001", "msgtra.imss.20240101.0001"):
        _check(tmp_path, name, data)


@settings_
@given(lines=st.lists(log_like, max_size=8))
def test_log_like_lines_never_crash_the_log_imss_reader(tmp_path: Path, lines: list[str]) -> None:
    _check(tmp_path, "log.imss.20240101.0001", "\n".join(lines).encode("utf-8", "surrogatepass"))


@settings_
@given(lines=st.lists(polevt_like, max_size=5))
def test_polevt_like_lines_never_crash_the_polevt_reader(tmp_path: Path, lines: list[str]) -> None:
    _check(tmp_path, "polevt.imss.20240101.0001", "\n".join(lines).encode("utf-8", "surrogatepass"))


@settings(max_examples=300, deadline=None)
@given(headers=st.lists(st.text(max_size=120) | st.sampled_from([
    "from a (b [10.0.0.1]) by c", "from x ([IPv6:::1])", "by y (Postfix, from userid 0)id Q", "from (([[[", "from z [999.1.1.1]",
]), max_size=6))
def test_any_header_text_is_counted_or_skipped_with_a_reason(headers: list[str]) -> None:
    for h in headers:
        parse_received(h)
    r = evaluate(headers, "a@example.com", ["b@example.com"])
    assert len(r.headers) == len(headers)
    for h in r.headers:
        assert (h.counted is None) != (h.skip is None)
        if h.skip is not None:
            assert h.skip.reason in {"private", "loopback", "link-local", "special-purpose", "no-address", "duplicate", "unparsable"}
    assert r.explanation
