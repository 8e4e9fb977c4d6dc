"""Reading in blocks: the correlation reader's way through big, truncated, gzipped and hostile files."""

from __future__ import annotations

import gzip
import tracemalloc
from pathlib import Path

import pytest

import imsvalog
from imsvalog.blocks import BLOCK_SIZE, count_lines, iter_blocks
from imsvalog.errors import ReadError
from imsvalog.readers import iter_records
from imsvalog.records import Reject
from imsvalog.sources import LogFile

from .conftest import FIXTURES

P = "2024/03/12 09:15:01 GMT+01:00 [4242:{t}] "


def _lines(n: int) -> bytes:
    out = []
    for i in range(n):
        t = 139871 + i % 3
        out.append(P.format(t=t) + ("Info: Accept connection from client [127.0.0.1]" if i % 40 == 0 else f"[DEBUG]step {i} done"))
    return ("\n".join(out) + "\n").encode()


def _lines_of_blocks(f: LogFile, **kw) -> list[bytes]:
    out = []
    for b in iter_blocks(f, **kw):
        if b.long:
            out.append(b"LONG %d" % b.long)
            continue
        assert b.data.count(b"\n", b.start, b.end) == b.lines
        out += b.data[b.start : b.end].split(b"\n")[:-1]
    return out


@pytest.mark.parametrize("compress", [False, True])
def test_blocks_give_every_line_in_order(tmp_path: Path, compress: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    import imsvalog.blocks as blocks

    monkeypatch.setattr(blocks, "BLOCK_SIZE", 4096)  # many pieces, lines straddling them
    monkeypatch.setattr(blocks, "_GZ_OUT", 3000)
    data = _lines(3000) + b"no newline at the end"
    p = tmp_path / "log.imss.20240312.0001"
    p.write_bytes(gzip.compress(data) if compress else data)
    got = _lines_of_blocks(LogFile(p, "imss"))
    assert got == data.split(b"\n")


@pytest.mark.parametrize(("compress", "ranged"), [(False, False), (True, False), (False, True)])  # parts: plain files only
def test_blocks_with_newlines_carry_their_newline_offsets(
    tmp_path: Path, compress: bool, ranged: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``with_newlines``: the same blocks, and each big one's ``nl`` is exactly its window's newline offsets
    (its line count taken from them); small windows (the line straddling two reads) carry none."""
    import imsvalog.blocks as blocks

    monkeypatch.setattr(blocks, "BLOCK_SIZE", 1 << 17)  # several pieces of at least NEWLINES_FROM bytes
    monkeypatch.setattr(blocks, "_GZ_OUT", 1 << 17)
    monkeypatch.setattr(blocks, "_PIECE", 5000)  # pieces of the newline search inside a block
    data = _lines(9000) + b"no newline at the end"
    p = tmp_path / "log.imss.20240312.0001"
    p.write_bytes(gzip.compress(data) if compress else data)
    f = LogFile(p, "imss")
    kw = {"start": 0, "stop": len(data)} if ranged else {}
    plain = [(b.data[b.start : b.end], b.line, b.offset, b.lines) for b in iter_blocks(f, **kw)]
    with_nl = list(iter_blocks(f, with_newlines=True, **kw))
    assert [(b.data[b.start : b.end], b.line, b.offset, b.lines) for b in with_nl] == plain
    big = [b for b in with_nl if b.end - b.start >= blocks.NEWLINES_FROM]
    assert len(big) >= 4 and all(b.nl is not None for b in big)
    assert all(b.nl is None for b in with_nl if b.end - b.start < blocks.NEWLINES_FROM)
    for b in big:
        assert b.nl.tolist() == [i for i in range(b.start, b.end) if b.data[i] == 10]
        assert len(b.nl) == b.lines


def test_truncated_gzip_correlate_reads_as_many_lines_as_parse(tmp_path: Path) -> None:
    """issue 8, item 2: the readable part of a cut-off gzip is read, by correlate as by parse."""
    gz = gzip.compress(_lines(60000))
    p = tmp_path / "log.imss.20240312.0001.gz"
    p.write_bytes(gz[: len(gz) * 2 // 3])
    items = list(iter_records([p]))
    (rest,) = [i for i in items if isinstance(i, Reject)]
    parsed = len(items) - 1
    assert 1000 < parsed < 60000
    c = imsvalog.correlate(tmp_path)
    assert c.summary.lines == parsed
    assert [r.source.line for r in c.rejects] == [rest.source.line]
    assert "cannot be read after line" in c.rejects[0].reason
    # and the session reader too
    rejects: list = []
    imsvalog.sessions(tmp_path, rejects)
    assert [r.source.line for r in rejects] == [rest.source.line]


def test_over_long_line_is_a_reject_and_memory_stays_bounded(tmp_path: Path) -> None:
    p = tmp_path / "log.imss.20240312.0001.gz"
    body = _lines(100) + b"x" * (5 * BLOCK_SIZE) + b"\n" + _lines(100)
    p.write_bytes(gzip.compress(body, 1))  # a gzip bomb: 40 MB of one line from a small file
    del body
    tracemalloc.start()
    try:
        c = imsvalog.correlate(tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * BLOCK_SIZE
    assert c.summary.lines == 201
    (r,) = c.rejects
    assert r.source.line == 101 and f"line of {5 * BLOCK_SIZE:,} bytes" in r.reason
    assert len(r.source.text) <= 1024


def test_plain_over_long_line_keeps_line_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import imsvalog.blocks as blocks

    monkeypatch.setattr(blocks, "BLOCK_SIZE", 4096)  # lines longer than a read are never held whole
    p = tmp_path / "log.imss.20240312.0001"
    p.write_bytes(b"a\n" + b"y" * 5000 + b"\nb\n" + b"z" * 5000)
    got = _lines_of_blocks(LogFile(p, "imss"), max_line=1000)
    assert got == [b"a", b"LONG 5000", b"b", b"LONG 5000"]


def test_over_long_marker_line_within_a_block_is_a_reject(tmp_path: Path) -> None:
    from imsvalog.blocks import default_max_line

    line = P.format(t=1) + "[DEBUG]AntiSpoofFilter: Get 1 IP address from received header. " + "9" * default_max_line()
    (tmp_path / "log.imss.20240312.0001").write_bytes(_lines(10) + line.encode() + b"\n" + _lines(10))
    c = imsvalog.correlate(tmp_path)
    (r,) = c.rejects
    assert r.source.line == 11 and "over the limit" in r.reason and len(r.source.text) <= 1024


def test_corrupt_gzip_is_a_read_error_after_the_good_lines(tmp_path: Path) -> None:
    gz = bytearray(gzip.compress(_lines(20000)))
    gz[len(gz) // 2 : len(gz) // 2 + 64] = b"\x00" * 64
    p = tmp_path / "log.imss.20240312.0001.gz"
    p.write_bytes(bytes(gz))
    seen = 0
    with pytest.raises(ReadError) as exc:
        for b in iter_blocks(LogFile(p, "imss")):
            seen += b.lines
    assert exc.value.lines == seen


def test_count_lines_numpy_and_bytes_agree() -> None:
    data = _lines(50000)
    assert count_lines(data) == data.count(b"\n") == 50000
    assert count_lines(data, 1000, len(data) - 7) == data.count(b"\n", 1000, len(data) - 7)


def test_fixture_blocks_match_lines() -> None:
    for p in sorted((FIXTURES / "busy-day").glob("log.imss*")):
        raw = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
        assert _lines_of_blocks(LogFile(p, "imss")) == raw.split(b"\n")[:-1]


def test_cr_only_log_correlates_like_lf(tmp_path: Path) -> None:
    lf, cr = tmp_path / "lf", tmp_path / "cr"
    for d, eol in ((lf, b"\n"), (cr, b"\r")):
        d.mkdir()
        for f in (FIXTURES / "busy-day").iterdir():
            if f.name.startswith(("log.imss", "polevt")):
                raw = gzip.decompress(f.read_bytes()) if f.suffix == ".gz" else f.read_bytes()
                (d / f.name.removesuffix(".gz")).write_bytes(raw.replace(b"\n", eol))
    a, b = imsvalog.correlate(lf), imsvalog.correlate(cr)
    assert a.summary.lines == b.summary.lines > 100
    assert [(r.internal_id, r.status, r.agrees) for r in a.rows] == [(r.internal_id, r.status, r.agrees) for r in b.rows]
    assert len(a.rows) > 5


def test_polevt_bit_codes_are_decoded_once_per_distinct_code(tmp_path: Path) -> None:
    from imsvalog.grammars import polevt

    line = "2024/03/12 09:15:01 GMT+01:00\tID-{n}\ta@example.com\tb@example.com\ts\t1\tr\t{c}\t\t1.0\t{a}"
    codes = [("0000010000000000", "01000000000000000"), ("0100000000000000", "10000000001000000")]
    text = "\n".join(line.format(n=n, c=codes[n % 2][0], a=codes[n % 2][1]) for n in range(2000)) + "\n"
    (tmp_path / "polevt.imss.20240312.0001").write_text(text)
    polevt.code_names.cache_clear()
    df = imsvalog.read_polevt(tmp_path)
    assert len(df) == 2000
    assert list(df["actions"][:2]) == [list(polevt.decode_bits(a, polevt.ACTION_BITS)) for _, a in codes]
    assert polevt.code_names.cache_info().misses == 4  # two codes per field, whatever the number of lines


def test_free_heap_is_given_back_on_glibc_and_nothing_happens_elsewhere() -> None:
    import platform

    from imsvalog.blocks import give_back_free_memory

    glibc = platform.libc_ver()[0] == "glibc"
    assert give_back_free_memory() is glibc
    assert give_back_free_memory() is glibc  # the function is looked up once and stays usable


@pytest.mark.parametrize("damage", ["crc", "block"])
def test_a_damaged_gzip_gives_correlate_every_line_parse_reads_before_the_damage(tmp_path: Path, damage: str) -> None:
    """h24a: a gzip whose data goes bad (its CRC, a corrupt block) lost the whole chunk being inflated when zlib
    raised (up to 4 MiB of good lines): parse read 13 records, correlate and sessions() none."""
    text = _lines(3000)
    gz = bytearray(gzip.compress(text))
    if damage == "crc":
        gz[-8] ^= 0xFF  # the trailer's CRC: every line inflates, then the check fails
    else:
        gz[len(gz) * 3 // 4 : len(gz) * 3 // 4 + 16] = b"\xff" * 16
    p = tmp_path / "log.imss.20240312.0001.gz"
    p.write_bytes(bytes(gz))
    items = list(iter_records([p]))
    parsed = [i for i in items if not isinstance(i, Reject)]
    assert len(parsed) > 1000
    got: list[bytes] = []
    with pytest.raises(ReadError) as exc:
        for b in iter_blocks(LogFile(p, "imss")):
            got += b.data[b.start : b.end].split(b"\n")[:-1]
    assert exc.value.lines == len(got) >= len(parsed)
    if damage == "crc":
        assert got == text.split(b"\n")[: len(got)] == text.split(b"\n")[:-1]
    # a corrupt block inflates to other bytes before zlib finds it bad: those lines are rejects, as in parse
    c = imsvalog.correlate(tmp_path)
    assert c.summary.lines == len(got)
    assert [r.source.line for r in c.rejects] == [r.source.line for r in items if isinstance(r, Reject)]
    assert c.rejects[-1].source.line == len(got) + 1
    # (the 16 bytes of 0xFF leave a deflate stream that still inflates to its end, to other bytes: the data check at
    # its end fails as for the CRC; no line is lost, though they are garbled)
    assert c.rejects[-1].reason.startswith(f"the file was read to its end (through line {len(got)}), but its data "
                                           "check failed: Error -3 while decompressing data: incorrect data check")


def test_a_gzip_whose_data_check_fails_is_said_corrupt_and_zeros_between_members_are_padding(tmp_path: Path) -> None:
    """attack s24c: F1 a flipped byte inflated to garbled lines, then zlib's 'incorrect data check' at the end: the
    reject now says the lines read may be garbled, and correlate says which file (its rows may rest on them); F3
    zeros between two gzip members were read as a bad header (30,000 of 60,000 lines)."""
    text = _lines(3000)
    gz = bytearray(gzip.compress(text))
    gz[-8] ^= 0xFF  # the trailer's CRC
    p = tmp_path / "log.imss.20240312.0001.gz"
    p.write_bytes(bytes(gz))
    (rest,) = [i for i in iter_records([p]) if isinstance(i, Reject)]
    assert rest.reason.endswith("incorrect data check (the file is corrupt: the lines read from it may be garbled from "
                                "an unknown line on)")
    c = imsvalog.correlate(tmp_path)
    assert [n for n in c.summary.rotation if "corrupt" in n] == [
        f"{p}: the file is corrupt: the lines read from it may be garbled from an unknown line on; rows that cite its "
        "lines may rest on garbled ones"]
    half = len(text) // 2
    cut = text.rfind(b"\n", 0, half) + 1
    p.write_bytes(gzip.compress(text[:cut]) + b"\0" * 1000 + gzip.compress(text[cut:]))
    items = list(iter_records([p]))
    assert len(items) == 3000 and not any(isinstance(i, Reject) for i in items)
    assert imsvalog.correlate(tmp_path).summary.lines == 3000


def test_a_gzip_bad_in_its_middle_says_the_lines_read_may_be_garbled(tmp_path: Path) -> None:
    """attack s24d F3: one flipped bit of two-days' .0003.gz inflates to 90 garbled lines before zlib finds an invalid
    distance; the reject said only 'the rest of the file cannot be read', as if the lines before were good."""
    src = FIXTURES / "two-days" / "log.imss.20240603.0003.gz"
    raw = bytearray(src.read_bytes())
    raw[695] ^= 0x80
    p = tmp_path / src.name
    p.write_bytes(bytes(raw))
    rest = [i for i in iter_records([p]) if isinstance(i, Reject)][-1]
    assert "invalid distance" in rest.reason and rest.reason.endswith(
        "(the file is corrupt: the lines read from it may be garbled from an unknown line on)")
    assert any(str(p) in n and "corrupt" in n for n in imsvalog.correlate(tmp_path).summary.rotation)
    # a bad header of a member after a whole one garbles nothing: said as it is
    p.write_bytes(gzip.compress(_lines(10)) + b"\x1f\x8bnot a gzip member")
    rest = [i for i in iter_records([p]) if isinstance(i, Reject)][-1]
    assert "corrupt" not in rest.reason
