"""No input crashes a reader, and every line is accounted for (hypothesis)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imsvalog.grammars.received import parse_received
from imsvalog.readers import ReadReport, iter_records

from .conftest import rows_both_ways
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
        # gzip magic: a broken compressed file ends with one reject for its unreadable rest
        items = list(iter_records([p], report=report))
        assert [i.source.line for i in items] == list(range(1, len(items) + 1))
        assert len(items) == report.records + report.rejects
        return
    items = list(iter_records([p], report=report))
    # lines end in LF, or in CR alone when the first line (up to the 1 MiB cap) holds a CR and no LF
    eol = b"\r" if b"\n" not in data and b"\r" in data else b"\n"
    expected = data.count(eol) + (0 if data.endswith(eol) or not data else 1)
    assert len(items) == expected == report.records + report.rejects


settings_ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings_
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_never_crash_any_reader(tmp_path: Path, data: bytes) -> None:
    for name in ("log.imss.20240101.0001", "polevt.imss.20240101.0001", "msgtra.imss.20240101.0001", "maillog-20240101"):
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


MARKERS = [
    "Info: Accept connection from client [127.0.0.1]",
    ">>> Message-ID : <m{n}@example.com>",
    "Start Rule Set Retrieval spent 0 ms",
    "Running ruleId:12; version:2, numFilters:1, numActions:1",
    "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:from h (h [198.51.100.{n}]) by x with ESMTP id ABCDEF{n:04d}",
    "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader:get matched string:198.51.100.{n}",
    "[DEBUG]AntiSpoofFilter: Get 1 IP address from received header. 198.51.100.{n},",
    "[DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered.",
    "filter AntiSpoofFilter isTriggered returned true",
    "Final action 0: QuarantineAction",
    "Scan finished for ID-{n}, scanned 1 times",
    "[DEBUG]TmIsScan::scanMessage: noise",
]
marker_lines = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 5), st.sampled_from(MARKERS), st.integers(0, 9)), max_size=40
)
events = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 9), st.booleans()), max_size=6)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=marker_lines, evs=events)
def test_any_marker_sequence_correlates_and_every_trace_is_accounted_for(tmp_path: Path, lines, evs) -> None:
    from imsvalog.correlation import correlate

    log = "".join(
        f"2024/03/12 09:15:{sec:02d} GMT+01:00 [1:{tid}] {body.format(n=n)}\n" for tid, sec, body, n in lines
    )
    pol = "".join(
        f"2024/03/12 09:15:{sec:02d} GMT+01:00\tID-{n}\ta@example.com\tb@example.com\ts\t1\t"
        f"{'Spoofing message' if spoof else 'Other'}\t{'0000010000000000' if spoof else '0100000000000000'}\t\t1.0\t"
        f"01000000000000000\t0\t0\t0\t\t\t\t\t1\t15\t0\t0\t<m{n}@example.com>\n"
        for sec, n, spoof in evs
    )
    (tmp_path / "log.imss.20240312.0001").write_text(log)
    (tmp_path / "polevt.imss.20240312.0001").write_text(pol)
    c = correlate(tmp_path)
    s = c.summary
    traced = [r for r in c.rows if r.trace is not None]
    assert len(traced) == s.spoof_traces == s.linked + s.ambiguous + s.traces_without_event
    # every spoof event is either linked (possibly to several traces) or a row of its own
    linked_events = {id(r.event) for r in c.rows if r.status == "linked"}
    untraced = [r for r in c.rows if r.trace is None]
    assert len(untraced) + len(linked_events) == s.spoof_events
    for r in c.rows:
        assert r.explanation
        r.to_dict()
    # the lazy reader correlate uses gives the rows of the full session reader
    lazy_rows, full_rows, _, _ = rows_both_ways(tmp_path)
    assert lazy_rows == full_rows


# --- hostile values in every grammar (issue 8): huge integers, impossible dates and offsets,
# --- non-finite numbers, control and format characters: no exception, nothing lost

_huge = st.integers(min_value=4290, max_value=4400).map(lambda n: "9" * n)
#: what int() and float() take but no log writes: underscores, Unicode digits (Arabic-Indic, full-width)
_odd = st.sampled_from(["1_000", "1_0", "\u0663", "\uff14.1", "\u0669\u0669", "\u0966", "2\u0660"])
_number = st.one_of(
    st.integers(0, 10**6).map(str), _huge, _odd,
    st.sampled_from(["nan", "inf", "-inf", "1e999", "1e-999", "-0", "1.2.3", ""]),
)
_date = st.tuples(st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99)).map(lambda t: "%04d/%02d/%02d" % t)
_clock = st.tuples(st.integers(0, 99), st.integers(0, 99), st.integers(0, 99)).map(lambda t: "%02d:%02d:%02d" % t)
_offset = st.tuples(st.sampled_from("+-"), st.integers(0, 99), st.integers(0, 99)).map(lambda t: "%s%02d:%02d" % t)
_nasty = st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Cn", "Co", "Lo"]), max_size=20)
_code = st.text(alphabet="01", max_size=40)

_imss_line = st.builds(
    lambda d, c, o, pid, tid, body: f"{d} {c} GMT{o} [{pid}:{tid}] {body}",
    _date, _clock, _offset, _number, _number,
    st.one_of(
        st.builds(lambda n, v: f"Running ruleId:{n}; version:{v}, numFilters:1, numActions:1", _number, _number),
        st.builds(lambda n, s: f"[DEBUG]AntiSpoofFilter: Get {n} IP address from received header. {s},", _number, _nasty),
        st.builds(lambda n, v: f"push ruleID.ruleVer={n}.{v} into executed rule list", _number, _number),
        st.builds(lambda n, s: f"Final action {n}: {s}", _number, _nasty),
        _nasty,
    ),
)
_polevt_line = st.builds(
    lambda d, c, o, subject, direction, cond, size, act, score: "\t".join(
        [f"{d} {c} GMT{o}", "ID-1", "a@example.com", "b@example.com", subject, direction, "Spoofing message", cond, "", size, act, score]
    ),
    _date, _clock, _offset, _nasty, _number, _code, _number, _code, _number,
)
_msgtra_line = st.builds(
    lambda y, o, t2, code, subject: "\t".join(
        ["QuarantineTransac", f"{y} Mar 12 09:15:01 {o}", t2, "#null#", "m@example.com", "ID-1", "4A1F3C0042", "2",
         "a@example.com", "b@example.com", subject, "mx[198.51.100.25]", "#null#", "#null#", "#null#", code]
    ),
    st.integers(0, 9999).map(lambda y: "%04d" % y), _offset, st.builds(lambda d, c, o: f"{d} {c} {o}", _date, _clock, _offset), _code, _nasty,
)
_maillog_line = st.one_of(
    st.builds(lambda pid, size, n: f"Mar 12 09:15:00 imsva postfix/qmgr[{pid}]: 4A1F3C0042: from=<a@example.com>, size={size}, nrcpt={n} (queue active)",
              _number, _number, _number),
    st.builds(lambda port, delay: f"Mar 12 09:15:01 imsva postfix/smtp[1]: 4A1F3C0042: to=<b@example.com>, relay=h[127.0.0.1]:{port}, delay={delay}, delays=0.1/0/0/1, dsn=2.0.0, status=sent (250 Ok)",
              _number, _number),
    st.builds(lambda y, o, s: f"{y}-12-31T23:59:59{o} imsva postfix/qmgr[1]: 4A1F3C0042: {s}", st.integers(0, 9999).map(lambda y: "%04d" % y), _offset, _nasty),
)


def _all_formats_work(tmp_path: Path, name: str) -> None:
    from typer.testing import CliRunner

    from imsvalog.cli import app

    for fmt in ("table", "jsonl", "json", "csv", "markdown"):
        r = CliRunner().invoke(app, ["parse", str(tmp_path / name), "-f", fmt])
        assert r.exit_code == 0, (fmt, r.output)
        assert "NaN" not in r.stdout and "Infinity" not in r.stdout
        if fmt != "jsonl" and fmt != "json":
            assert not any(c in r.stdout for c in "\x1b\u200b\u2028\u2029\u061c\ufeff")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    imss=st.lists(_imss_line, min_size=1, max_size=4),
    pol=st.lists(_polevt_line, min_size=1, max_size=4),
    msg=st.lists(_msgtra_line, min_size=1, max_size=4),
    mail=st.lists(_maillog_line, min_size=1, max_size=4),
)
def test_hostile_values_in_every_grammar_are_records_or_rejects(tmp_path: Path, imss, pol, msg, mail) -> None:
    for name, lines in (("log.imss.20240101.0001", imss), ("polevt.imss.20240101.0001", pol),
                        ("msgtra.imss.20240101.0001", msg), ("maillog-20240101", mail)):
        data = "\n".join(ln.replace("\n", " ").replace("\r", " ") for ln in lines).encode("utf-8", "surrogatepass")
        _check(tmp_path, name, data)
        _all_formats_work(tmp_path, name)


# --- numbers are ASCII digits only, in every grammar


@settings(max_examples=60, deadline=None)
@given(value=_odd, field=st.sampled_from([5, 9, 11]))
def test_a_polevt_number_field_with_odd_digits_is_a_reject_naming_the_field(value: str, field: int) -> None:
    from imsvalog.readers import parse_line
    from imsvalog.records import Reject, Source

    fields = ["2019/04/30 13:57:43 GMT+09:00", "ID-1", "a@example.com", "b@example.com", "s", "1", "Spoofing message",
              "0000010000000000", "", "0.5", "01000000000000000", "0.0"]
    fields[field] = value
    item = parse_line("polevt", Source("f", 1, "\t".join(fields)))
    assert isinstance(item, Reject) and f"field {field} (" in item.reason and "ASCII digits" in item.reason


# --- correlate's own reader: the same rejects as parse, line by line

_GOOD_IMSS = [
    "2024/03/12 09:15:01 GMT+01:00 [4242:139871] Info: Accept connection from client [127.0.0.1]",
    "2024/03/12 09:15:01 GMT+01:00 [4242:139871] [DEBUG]AntiSpoofFilter: Get 1 IP address from received header. 198.51.100.7,",
    "2024/03/12 09:15:02 GMT+01:00 [4242:139871] [DEBUG]TmIsScan::scanMessage [/src/scan.cpp:TmIsScan::scanMessage:120]",
]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lines=st.lists(st.one_of(_imss_line, st.sampled_from(_GOOD_IMSS)), min_size=1, max_size=12))
def test_correlate_rejects_exactly_the_log_imss_lines_parse_rejects(tmp_path: Path, lines: list[str]) -> None:
    from imsvalog import correlate
    from imsvalog.records import Reject

    d = tmp_path / "case"
    d.mkdir(exist_ok=True)
    p = d / "log.imss.20240312.0001"
    p.write_bytes("\n".join(ln.replace("\n", " ").replace("\r", " ") for ln in lines).encode("utf-8", "surrogatepass") + b"\n")
    report = ReadReport()
    want = [(r.source.line, r.reason) for r in iter_records([p], report=report) if isinstance(r, Reject)]
    c = correlate(d)
    assert [(r.source.line, r.reason) for r in c.rejects] == want
    assert c.summary.lines == report.files[0].lines
