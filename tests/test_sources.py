"""Finding files, ordering rotations, reading bytes: gzip, CRLF, bad bytes, cut-off lines."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from imsvalog.errors import InputError
from imsvalog.sources import LogFile, ScanStats, discover, iter_lines, iter_matching_lines, kind_from_name

from .conftest import FIXTURES


def test_rotated_files_are_ordered_by_kind_date_and_sequence(tmp_path: Path) -> None:
    names = [
        "polevt.imss.20190430.0001", "log.imss.20190430.0010", "log.imss.20190430.0002.gz",
        "log.imss.20190429.0001", "log.imss.20190430.0001", "msgtra.imss.20190430.0001", "log.imss",
    ]
    for n in names:
        (tmp_path / n).write_bytes(b"")
    got = [f.name for f in discover([tmp_path]).files]
    assert got == [
        "log.imss.20190429.0001", "log.imss.20190430.0001", "log.imss.20190430.0002.gz", "log.imss.20190430.0010",
        "log.imss", "polevt.imss.20190430.0001", "msgtra.imss.20190430.0001",
    ]


def test_maillog_rotations_oldest_first() -> None:
    keys = {n: kind_from_name(n) for n in ("maillog", "maillog.1", "maillog.2")}
    assert keys["maillog.2"][2] < keys["maillog.1"][2]


def test_case_bundle_directory_is_searched_recursively(tmp_path: Path) -> None:
    ev3 = tmp_path / "IMSVA" / "LogFile" / "Event3"
    ev5 = tmp_path / "IMSVA" / "Logfile" / "Event5"
    ev3.mkdir(parents=True)
    ev5.mkdir(parents=True)
    (ev3 / "log.imss.20240312.0001").write_text("x\n")
    (ev3 / "polevt.imss.20240312.0001").write_text("x\n")
    (ev5 / "maillog-20240312").write_text("x\n")
    (tmp_path / "notes.txt").write_text("hello\n")
    found = discover([tmp_path])
    assert [(f.name, f.kind) for f in found.files] == [
        ("log.imss.20240312.0001", "imss"), ("polevt.imss.20240312.0001", "polevt"), ("maillog-20240312", "maillog"),
    ]
    assert [Path(p).name for p, _ in found.skipped] == ["notes.txt"]


def test_kind_from_first_lines_when_the_name_says_nothing(tmp_path: Path) -> None:
    p = tmp_path / "export.txt"
    p.write_text((FIXTURES / "kb000239719" / "log.imss.20190430.0001").read_text())
    assert discover([p]).files[0].kind == "imss"
    q = tmp_path / "events.txt"
    q.write_bytes((FIXTURES / "kb000239719" / "polevt.imss.20190430.0001").read_bytes())
    assert discover([q]).files[0].kind == "polevt"


def test_globs_expand_and_take_what_they_match(tmp_path: Path) -> None:
    (tmp_path / "log.imss.20240101.0001").write_text("")
    (tmp_path / "README.md").write_text("# notes\n")
    found = discover([str(tmp_path / "*")])
    assert [f.name for f in found.files] == ["log.imss.20240101.0001"]
    assert len(found.skipped) == 1


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        (["/no/such/file"], "no such file or directory"),
        (["/no/such/*.imss"], "no file matches this pattern"),
        ([str(FIXTURES / "bad" / "not-a-log.txt")], "cannot tell what kind of log"),
    ],
)
def test_bad_paths_are_input_errors(paths: list[str], message: str) -> None:
    with pytest.raises(InputError) as exc:
        discover(paths)
    assert message in str(exc.value)


def test_unknown_forced_kind_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown kind"):
        discover([FIXTURES / "kb000239719"], kind="syslog")


def test_gzip_read_transparently_and_detected_by_magic(tmp_path: Path) -> None:
    p = tmp_path / "log.imss.20240101.0001"  # no .gz suffix, still compressed
    with gzip.open(p, "wb") as fh:
        fh.write(b"line one\nline two\n")
    assert list(iter_lines(LogFile(p, "imss"))) == [(1, "line one"), (2, "line two")]


def test_crlf_bad_bytes_and_cut_off_last_line(tmp_path: Path) -> None:
    p = tmp_path / "x"
    p.write_bytes(b"a\r\nb\xff\xfe\r\n\r\nlast without newline")
    lines = list(iter_lines(LogFile(p, "imss")))
    assert [n for n, _ in lines] == [1, 2, 3, 4]
    assert lines[0][1] == "a" and lines[2][1] == "" and lines[3][1] == "last without newline"
    # undecodable bytes are kept, recoverably
    assert lines[1][1].encode("utf-8", "surrogateescape") == b"b\xff\xfe"


def test_truncated_gzip_is_an_input_error_after_the_lines_it_had(tmp_path: Path) -> None:
    p = tmp_path / "log.imss.20240101.0001.gz"
    data = gzip.compress(b"".join(b"line %d\n" % i for i in range(5000)))
    p.write_bytes(data[: len(data) // 2])
    got = []
    with pytest.raises(InputError, match="cannot read past line"):
        for item in iter_lines(LogFile(p, "imss")):
            got.append(item)
    assert got and got[-1][0] == len(got)


@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
def test_matching_lines_have_exact_numbers_across_chunks(tmp_path: Path, chunk: int) -> None:
    lines = [f"{i} {'AntiSpoofFilter' if i % 7 == 0 else 'other'} {'x' * (i % 13)}" for i in range(1, 400)]
    p = tmp_path / "f"
    p.write_bytes(("\r\n".join(lines)).encode())  # CRLF, no final newline
    stats = ScanStats()
    got = list(iter_matching_lines(LogFile(p, "imss"), [b"AntiSpoofFilter", b"9 other"], stats, chunk_size=chunk))
    want = [(i, line) for i, line in enumerate(lines, 1) if "AntiSpoofFilter" in line or "9 other" in line]
    assert got == want
    assert stats.lines == len(lines)


def test_input_files_are_never_written(tmp_path: Path) -> None:
    src = FIXTURES / "busy-day"
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in src.iterdir()}
    for f in discover([src]).files:
        list(iter_lines(f))
    assert before == {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in src.iterdir()}


def test_forced_kind_in_a_directory_still_passes_over_non_logs(tmp_path: Path) -> None:
    (tmp_path / "events.0001").write_text("x\n")
    (tmp_path / "polevt.imss.20240101.0001").write_text("x\n")
    found = discover([tmp_path], kind="polevt")
    assert [f.name for f in found.files] == ["polevt.imss.20240101.0001"]
    assert [Path(p).name for p, _ in found.skipped] == ["events.0001"]
    # named on its own, the forced kind applies
    assert discover([tmp_path / "events.0001"], kind="polevt").files[0].kind == "polevt"


def test_unreadable_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Skipped with a reason inside a directory; an error when named.  (os.access is faked: CI runs as root.)"""
    p = tmp_path / "log.imss.20240101.0001"
    p.write_text("x\n")
    monkeypatch.setattr("imsvalog.sources.os.access", lambda path, mode: False)
    found = discover([tmp_path])
    assert found.files == [] and found.skipped == [(str(p), "file is not readable")]
    with pytest.raises(InputError, match="file is not readable"):
        discover([p])
