"""A trace whose scan's lines end before IMSVA logged its count ('Get N IP address ...'): a Received header after the
last one logged may be in what was not read, so the model's count is unknown, not the headers it has (attack s24b F3:
a gzip cut after the first of 9E9E9E9E's two headers made the model count one, say 'every address is in the given
trusted list, so the appliance's list must have differed', and a what-if turn it to 'does-not-fire')."""

from __future__ import annotations

import gzip
import shutil
import zlib
from pathlib import Path

import imsvalog

from .conftest import FIXTURES

BUSY = FIXTURES / "busy-day"
LEE = "9E9E9E9E-9F9F-49A9-89B9-C9D9E9F9A9B9"


def _cut_after_first_header(tmp_path: Path) -> Path:
    case = tmp_path / "c2"
    shutil.copytree(BUSY, case)
    lines = gzip.decompress((BUSY / "log.imss.20240312.0002.gz").read_bytes()).splitlines(keepends=True)
    first = next(i for i, ln in enumerate(lines) if b"parse received header string" in ln and b"09:21:30" in ln)
    assert b"Get 2 IP address" in b"".join(lines[first:])
    co = zlib.compressobj(6, zlib.DEFLATED, -15)  # flushed after the first header line, then cut (no trailer)
    (case / "log.imss.20240312.0002.gz").write_bytes(
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + co.compress(b"".join(lines[: first + 1])) + co.flush(zlib.Z_SYNC_FLUSH))
    return case


def test_a_trace_cut_before_imsvas_count_has_an_unknown_count_and_draws_nothing_from_it(tmp_path: Path) -> None:
    case = _cut_after_first_header(tmp_path)
    trusted = imsvalog.TrustedList.parse(["198.51.100.25"])
    c = imsvalog.correlate(case, trusted=trusted)
    (row,) = [r for r in c.rows if r.event is not None and r.event.internal_id == LEE]
    assert row.trace is not None and row.trace.logged_ips is None and len(row.trace.header_texts) == 1
    assert row.recomputed is not None and row.recomputed.verdict == "unknown"
    assert row.recomputed.to_dict()["counted"] is None
    assert "must have differed" not in row.explanation
    assert "maybe incomplete: the scan's lines end before IMSVA logged how many addresses it counted (the rest of " \
           "log.imss.20240312.0002.gz could not be read" in row.explanation
    assert row.fired_on is None
    assert not [ch for ch in c.what_if(imsvalog.TrustedList.parse(["198.51.100.25"])) if LEE[:8] in ch.name]


def test_without_a_trusted_list_a_cut_trace_says_nothing_of_what_the_list_must_hold(tmp_path: Path) -> None:
    """attack s24d F4: the verdict was unknown for want of the headers, yet the sentence went on 'IMSVA fired: if it
    counted as the model does, 198.51.100.25 is missing from its Trusted Internal IP List'."""
    c = imsvalog.correlate(_cut_after_first_header(tmp_path))
    (row,) = [r for r in c.rows if r.event is not None and r.event.internal_id == LEE]
    assert "The model's verdict: unknown (the scan's lines end before IMSVA logged its count" in row.explanation
    assert "if it counted as the model does" not in row.explanation
