"""read_log_imss with a big file cut in two (the second part read by a second process) gives exactly
the frame and rejects of the record path, wherever the cut falls."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import imsvalog
from imsvalog import blocks, columns, sources
from imsvalog.errors import InputError
from imsvalog.readers import files_of

from .test_columns import FIXTURES, _both, _edge_lines, raw_imss
from .test_rotation import _generator


@pytest.fixture
def split_every_file(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("IMSVALOG_WORKERS", "2")
    monkeypatch.setattr(columns, "PARALLEL_FROM", 1)  # every plain file is cut in two
    return monkeypatch


def _parts_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records the lines of this process's part each time a second process's part is joined to it."""
    seen: list[int] = []
    real = columns._ImssColumns.join

    def join(self, s, shift, *file_and_start):  # type: ignore[no-untyped-def]
        seen.append(shift)
        return real(self, s, shift, *file_and_start)

    monkeypatch.setattr(columns._ImssColumns, "join", join)
    return seen


@pytest.mark.parametrize("share", [0.0001, 0.3, 0.5, 0.9, 0.97])
def test_every_fixture_file_cut_in_two_gives_the_record_paths_frame(split_every_file: pytest.MonkeyPatch, share: float) -> None:
    split_every_file.setattr(columns, "PARENT_SHARE", share)
    seen = _parts_read(split_every_file)
    paths = [f.path for f in files_of("imss", [FIXTURES]) if f.member is None]
    _both("imss", paths)
    for p in paths:  # file by file too: the first shape of each part fixes the column order
        _both("imss", [p])
    assert seen, "no file was cut"


@pytest.mark.parametrize("eol", [b"\n", b"\r\n"])
@pytest.mark.parametrize("share", [0.05, 0.37, 0.5, 0.61, 0.95])
def test_edge_lines_long_lines_and_many_blocks_in_two_parts(
    tmp_path: Path, split_every_file: pytest.MonkeyPatch, eol: bytes, share: float
) -> None:
    split_every_file.setattr(sources, "MAX_LINE_BYTES", 300)
    split_every_file.setattr(blocks, "BLOCK_SIZE", 1000)
    split_every_file.setattr(columns, "PARENT_SHARE", share)
    seen = _parts_read(split_every_file)
    lines = _edge_lines()
    lines[3:3] = [b"2024/03/12 09:15:01 GMT+01:00 [1:2] long " + b"x" * 400, b"2024/03/12 09:15:01 GMT+09:00 [1:2] " + b"y" * 2500]
    p = tmp_path / "log.imss.20240312.0001"
    p.write_bytes(eol.join(lines + lines[::-1] + lines) + eol + lines[0])
    _both("imss", [p])
    assert len(seen) == 1 and 0 < seen[0] < 3 * len(lines)


def test_a_generated_day_in_two_parts(tmp_path: Path, split_every_file: pytest.MonkeyPatch) -> None:
    _generator().generate(tmp_path, 2, density=0.27, spoof_share=0.05)
    seen = _parts_read(split_every_file)
    _both("imss", sorted(tmp_path.glob("log.imss*")))
    assert seen


def test_the_workers_plain_bodies_come_as_places_in_the_file_and_are_read_again(
    tmp_path: Path, split_every_file: pytest.MonkeyPatch
) -> None:
    """The second process sends a simple line's body as where its bytes are, not as a string; this
    process reads those bytes again: the same frame, and most bodies of the part came that way."""
    _generator().generate(tmp_path, 2, density=0.27, spoof_share=0.05)
    sent: list[int] = []
    real = columns._ImssColumns._read_spans

    def read_spans(self, s, f, at):  # type: ignore[no-untyped-def]
        sent.append(int((s["columns"]["sbegin"] >= 0).sum()))
        assert (s["columns"]["body"][s["columns"]["sbegin"] >= 0] == None).all()  # noqa: E711 - no string sent
        return real(self, s, f, at)

    split_every_file.setattr(columns._ImssColumns, "_read_spans", read_spans)
    paths = sorted(tmp_path.glob("log.imss*"))
    _both("imss", paths)
    total = sum(len(p.read_bytes().splitlines()) for p in paths)
    assert sent and sum(sent) > 0.2 * total  # the second process reads 45 % of the lines, some half of them simple


def test_a_file_changed_before_the_workers_bodies_are_read_again_is_a_reject_not_other_text(
    tmp_path: Path, split_every_file: pytest.MonkeyPatch
) -> None:
    lines = [b"2024/03/12 09:15:%02d GMT+09:00 [1:2] [INFO] Scanner: message number %d" % (i % 60, i) for i in range(200)]
    p = tmp_path / "log.imss.20240312.0001"
    p.write_bytes(b"\n".join(lines) + b"\n")
    real = columns._ImssColumns._read_spans

    def read_spans(self, s, f, at):  # type: ignore[no-untyped-def]
        p.write_bytes(p.read_bytes().replace(b"message number", b"MESSAGE NUMBER"))  # same length, other bytes
        return real(self, s, f, at)

    split_every_file.setattr(columns._ImssColumns, "_read_spans", read_spans)
    rejects: list = []
    df = imsvalog.read_log_imss(p, rejects)
    assert 0 < len(df) < 200 and (df["body"].str.startswith("message number")).all()
    assert len(rejects) == 1 and rejects[0].source.line == len(df) + 1
    assert rejects[0].reason == f"the rest of the file cannot be read after line {len(df)}: the file changed while it was read"


def test_one_line_changed_in_the_middle_before_the_bodies_are_read_again_is_a_reject_not_other_text(
    tmp_path: Path, split_every_file: pytest.MonkeyPatch
) -> None:
    # attack s19 F4: only a unit's first and last 64 bytes were compared, so a line rewritten in the
    # middle (same length) got the old line's time and thread with the new line's body
    lines = [b"2024/03/12 09:15:%02d GMT+09:00 [1:2] [INFO] Scanner: sender=alice@example.com verdict=clean %03d" % (i % 60, i)
             for i in range(200)]
    p = tmp_path / "log.imss.20240312.0001"
    p.write_bytes(b"\n".join(lines) + b"\n")
    real = columns._ImssColumns._read_spans

    def read_spans(self, s, f, at):  # type: ignore[no-untyped-def]
        data = p.read_bytes()
        old = b"sender=alice@example.com verdict=clean 150"
        assert data.count(old) == 1
        new = b"sender=mallory@evil.tld verdict=SPAM!! 150"
        assert len(new) == len(old)
        p.write_bytes(data.replace(old, new))
        return real(self, s, f, at)

    split_every_file.setattr(columns._ImssColumns, "_read_spans", read_spans)
    rejects: list = []
    df = imsvalog.read_log_imss(p, rejects)
    assert not df["body"].str.contains("mallory").any()
    assert 0 < len(df) < 200 and len(rejects) == 1 and rejects[0].source.line == len(df) + 1
    assert rejects[0].reason.endswith("the file changed while it was read")


@pytest.mark.parametrize("last", [b"Warning:", b"Warning: ", b"[INFO] Scanner: "])
@pytest.mark.parametrize("eol", [b"", b"\n"])
@pytest.mark.parametrize("share", [0.1, 0.5])
def test_an_empty_body_that_ends_the_workers_part_is_empty_not_missing(
    tmp_path: Path, split_every_file: pytest.MonkeyPatch, last: bytes, eol: bytes, share: float
) -> None:
    # the last simple line of the worker's part with an empty body begins where the bytes read again end:
    # it was left out of the re-read and came out <NA>, where one process says "" (found by hypothesis)
    split_every_file.setattr(columns, "PARENT_SHARE", share)
    head = b"2024/01/01 00:00:0%d GMT+00:00 [1:2] "
    p = tmp_path / "log.imss.20240101.0001"
    p.write_bytes(b"\n".join([head % 0 + b"[INFO] Scanner: x", head % 1 + b"[INFO] Scanner: y", head % 2 + last]) + eol)
    _both("imss", [p])
    assert imsvalog.read_log_imss(p)["body"].tolist()[-1] == ""


def test_a_gzipped_file_is_read_by_one_process(tmp_path: Path, split_every_file: pytest.MonkeyPatch) -> None:
    import gzip

    seen = _parts_read(split_every_file)
    p = tmp_path / "log.imss.20240312.0001.gz"
    p.write_bytes(gzip.compress(b"\n".join(_edge_lines())))
    _both("imss", [p])
    assert seen == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(raw_imss, min_size=2, max_size=10), share=st.floats(0.01, 0.99), eol=st.sampled_from([b"\n", b"\r\n"]))
def test_raw_lines_cut_anywhere_give_the_record_paths_frame(
    tmp_path: Path, split_every_file: pytest.MonkeyPatch, lines: list[bytes], share: float, eol: bytes
) -> None:
    split_every_file.setattr(columns, "PARENT_SHARE", share)
    p = tmp_path / "log.imss.20240101.0001"
    p.write_bytes(eol.join(lines))
    _both("imss", [p])


def test_a_workers_variable_that_is_no_number_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMSVALOG_WORKERS", "two")
    with pytest.raises(InputError, match="IMSVALOG_WORKERS='two' is not a number"):
        imsvalog.read_log_imss(FIXTURES / "kb000239719")
    monkeypatch.setenv("IMSVALOG_WORKERS", "1")
    assert len(imsvalog.read_log_imss(FIXTURES / "kb000239719")) == 10


@pytest.mark.parametrize("memory_file", [True, False])
def test_the_workers_columns_in_a_memory_file_or_pickled_give_the_record_paths_frame(
    split_every_file: pytest.MonkeyPatch, memory_file: bool
) -> None:
    # stop 22: the worker's numeric columns come through a memfd mapped here; where there is none, pickled as before
    placed: list[list[str]] = []
    if memory_file:
        fd = columns._memory_file()
        if fd is None:
            pytest.skip("no memfd_create on this system")
        import os

        os.close(fd)
        real = columns._columns_from_memory

        def spy(cols, fd):  # type: ignore[no-untyped-def]
            placed.append(sorted(n for n, c in cols.items() if isinstance(c, columns._InMemoryFile)))
            real(cols, fd)

        split_every_file.setattr(columns, "_columns_from_memory", spy)
    else:
        split_every_file.setattr(columns, "_memory_file", lambda: None)
    paths = [f.path for f in files_of("imss", [FIXTURES]) if f.member is None]
    for p in paths:
        _both("imss", [p])
    if memory_file:
        assert any(placed) and all({"time", "line", "pid", "lead"} <= set(names) for names in placed if names)
        assert not any("body" in names for names in placed)  # strings are pickled


def test_a_second_part_of_only_rejects_gives_the_record_paths_frame(tmp_path: Path, split_every_file: pytest.MonkeyPatch) -> None:
    # stop 22: the worker's columns then have no rows: an empty memory file, nothing to map
    lines = [b"2024/03/12 09:15:%02d GMT+09:00 [1:2] [INFO] Scanner: message %d" % (i % 60, i) for i in range(100)]
    p = tmp_path / "log.imss.20240312.0001"
    p.write_bytes(b"\n".join(lines + [b"not a log.imss line %d" % i for i in range(100)]) + b"\n")
    split_every_file.setattr(columns, "PARENT_SHARE", 0.9)  # the cut falls among the rejects
    seen = _parts_read(split_every_file)
    _both("imss", [p])
    assert seen and seen[0] > 100, seen  # this process read every good line and some rejects
