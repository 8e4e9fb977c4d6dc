"""Attack s23b: two appliances sharing one file of the same bytes were joined into one; an Event3 folder given alone
read its rotated.tar.gz as an appliance named "rotated"."""

from __future__ import annotations

import gzip
import shutil
import tarfile
import zipfile
from pathlib import Path

from imsvalog import bundles
from imsvalog.correlation import correlate
from imsvalog.sources import LogFile, discover

from .conftest import FIXTURES

TWO = FIXTURES / "two-appliances"
CDT = FIXTURES / "bundles" / "CDT-20240312-101500.zip"
BUSY = FIXTURES / "busy-day"
MSGTRA = "IMSVA/{}/Event3/msgtra.imss.20190430.0001"


def _two(tmp_path: Path, data: bytes) -> Path:
    case = shutil.copytree(TWO, tmp_path / "ta2")
    (case / MSGTRA.format("LogFile").replace("IMSVA", "imsva01/IMSVA")).write_bytes(data)
    (case / MSGTRA.format("Logfile").replace("IMSVA", "imsva02/IMSVA")).write_bytes(data)
    return case


def test_two_appliances_sharing_one_file_of_the_same_bytes_stay_two(tmp_path: Path) -> None:
    """4096 NUL bytes as both appliances' msgtra: the two were read as one (one scan from two machines' logs, no
    appliance column, 'the same rotated log.imss file' warned for their two different log.imss). Now only that one
    file is read once; each appliance keeps its own logs."""
    case = _two(tmp_path, b"\0" * 4096)
    apart = correlate([case / "imsva01", case / "imsva02"])
    assert sorted(r.appliance or "" for r in apart.rows) == ["imsva01", "imsva02"]
    assert not any("same rotated" in n for n in apart.summary.rotation)
    assert [n for n in apart.summary.rotation if "same bytes" in n] == [
        f"{case / MSGTRA.format('Logfile').replace('IMSVA', 'imsva02/IMSVA')} holds the same bytes as "
        f"{case / MSGTRA.format('LogFile').replace('IMSVA', 'imsva01/IMSVA')}, which is read instead"]
    files = discover([case / "imsva01", case / "imsva02"]).files
    assert sorted({f.appliance or "" for f in files}) == ["imsva01", "imsva02"] and len(files) == 5


def test_an_appliance_whose_every_file_in_common_with_another_is_the_same_but_proves_nothing_stays_apart(
        tmp_path: Path) -> None:
    """imsva02 given only the NUL file both hold (its other logs not given): nothing in common holds a time, so it is
    not certain that they are one appliance."""
    case = _two(tmp_path, b"\0" * 4096)
    for f in (case / "imsva02").rglob("*.imss.*"):
        if "msgtra" not in f.name:
            f.rename(f.with_name(f.name.replace("20190430", "20190501")))
    files = discover([case / "imsva01", case / "imsva02"]).files
    assert sorted({f.appliance or "" for f in files}) == ["imsva01", "imsva02"]


def _unpack(to: Path) -> Path:
    with zipfile.ZipFile(CDT) as z:
        z.extractall(to, pwd=bundles.CDT_DEFAULT_PASSWORD.encode())
    return to


def test_a_bundle_and_its_unpacked_folder_still_read_as_one_appliance(tmp_path: Path) -> None:
    """Every file both name holds the same bytes, timed lines among them: one appliance (the other way round)."""
    folder = _unpack(tmp_path / "unz")
    files = discover([CDT, folder]).files
    assert {f.appliance for f in files} == {"imsva"}
    # one file of the folder differing from the zip's: two appliances, each read whole
    log = next(folder.rglob("log.imss.20240312.0001"))
    log.write_bytes(log.read_bytes().replace(b"09:15:01", b"09:15:02", 1))
    assert len({f.appliance for f in discover([CDT, folder]).files}) == 2


def test_an_event3_folder_given_alone_reads_its_rotated_bundle_as_its_own(tmp_path: Path) -> None:
    """rotated.tar.gz beside the logs was an appliance "rotated": 9E9E9E9E twice (its trace and its event apart),
    'no polevt.imss policy events were read at all' (false)."""
    event3 = next(_unpack(tmp_path / "unz").rglob("Event3"))
    alone = shutil.copytree(event3, tmp_path / "ev" / "Event3")
    zipped, got = correlate(CDT), correlate(tmp_path / "ev")
    assert {r.appliance for r in got.rows} == {None}
    assert [(r.status, r.internal_id) for r in got.rows] == [(r.status, r.internal_id) for r in zipped.rows]
    assert not any("were read at all" in n for r in got.rows for n in r.notes)
    assert {f.appliance for f in discover([alone]).files} == {None}


def test_a_flat_folder_with_a_bundle_of_older_rotations_is_one_appliance(tmp_path: Path) -> None:
    flat = tmp_path / "flat"
    flat.mkdir()
    shutil.copy(BUSY / "log.imss.20240312.0001", flat)
    shutil.copy(BUSY / "polevt.imss.20240312.0001", flat)
    with tarfile.open(flat / "rotated.tar.gz", "w:gz") as tar:
        tar.add(BUSY / "log.imss.20240312.0002.gz", "log.imss.20240312.0002.gz")
    c = correlate(flat)
    assert {r.appliance for r in c.rows} == {None}
    assert not any("were read at all" in n for r in c.rows for n in r.notes)
    # a bundle alone in its folder keeps its name as appliance
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(flat / "rotated.tar.gz", alone)
    assert {f.appliance for f in discover([alone, flat / "log.imss.20240312.0001"]).files} == {"rotated", None}


def test_a_folder_kept_apart_from_its_bundle_says_its_other_logs_may_count_twice(tmp_path: Path) -> None:
    """Attack s23f (1): the zip and its unpacked folder where one log differs (not only grown: a byte changed) are
    read as two appliances; the note says that their other logs may count twice."""
    folder = _unpack(tmp_path / "unz")
    log = next(folder.rglob("log.imss.20240312.0001"))
    log.write_bytes(log.read_bytes().replace(b"GMT+01:00 [", b"GMT+01:00  [", 1))
    notes = correlate([CDT, folder]).summary.rotation
    said = [n for n in notes if "hold the same bytes as logs in" in n]
    assert len(said) == 1 and "its other logs (log.imss.20240312.0001) differ" in said[0], notes
    assert "their lines count twice" in said[0]


ACCEPT = b"2024/03/12 10:14:00 GMT+01:00 [4242:139871] Info: Accept connection from client [127.0.0.1]\n"


def test_a_folder_taken_after_its_bundle_whose_live_log_grew_is_the_same_appliance_read_once(tmp_path: Path) -> None:
    """Attack s23f (1), stop 23's Known gap: the zip and its unpacked folder whose live log.imss grew by a line were
    read as two appliances, each scan counted twice. The longer log is read, the zip's is said to be its start, and
    the two are one appliance, in either order."""
    folder = _unpack(tmp_path / "unz")
    log = next(folder.rglob("log.imss.20240312.0001"))
    log.write_bytes(log.read_bytes() + ACCEPT)
    alone = correlate(CDT)
    for given in ([CDT, folder], [folder, CDT]):
        c = correlate(given)
        assert {r.appliance for r in c.rows} == {"imsva"}
        assert sorted(r.internal_id or "" for r in c.rows) == sorted(r.internal_id or "" for r in alone.rows)
        grown = [n for n in c.summary.rotation if "a copy taken before it grew" in n]
        assert grown == [f"{CDT}!IMSVA/LogFile/Event3/log.imss.20240312.0001 holds the first "
                         f"{len(log.read_bytes()) - len(ACCEPT):,} bytes of {log} (a copy taken before it grew), "
                         "which is read instead"], c.summary.rotation
        assert not any("count twice" in n for n in c.summary.rotation)
        files = discover(given).files
        assert [f.path for f in files if f.name == log.name and f.kind == "imss"] == [log]
        assert c.summary.lines == alone.summary.lines + 1 and c.summary.scans == alone.summary.scans + 1


def test_loose_logs_one_the_start_of_the_other_are_read_once_the_longest(tmp_path: Path) -> None:
    """The same log collected three times as it grew, in three folders: only the longest is read."""
    data = (BUSY / "log.imss.20240312.0001").read_bytes()
    cut = [data[: len(data) // 3], data[: len(data) // 3 * 2 + 5], data]
    paths = []
    for k, part in enumerate(cut):
        (tmp_path / f"t{k}").mkdir()
        paths.append(tmp_path / f"t{k}" / "log.imss.20240312.0001")
        paths[-1].write_bytes(part)
    d = discover([paths[1], paths[0], paths[2]])
    assert [f.path for f in d.files] == [paths[2]]
    assert sorted(c.path for c in d.files[0].copies) == paths[:2]
    assert sorted(d.skipped) == sorted(
        (str(p), f"the first {len(part):,} bytes of {paths[2]} (a copy taken before it grew), which is read instead")
        for p, part in zip(paths[:2], cut[:2]))


def test_a_start_without_a_timed_line_or_of_another_name_is_no_copy(tmp_path: Path) -> None:
    """A few bytes both machines wrote (no line that begins with a time) prove nothing; nor does a file of another
    name whose bytes begin another's: both are read."""
    data = (BUSY / "log.imss.20240312.0001").read_bytes()
    for k, part in enumerate((b"\0" * 64, data)):
        (tmp_path / f"a{k}").mkdir()
        (tmp_path / f"a{k}" / "msgtra.imss.20240312.0001").write_bytes(part[:64] if k == 0 else b"\0" * 4096)
    assert len(discover([tmp_path / "a0", tmp_path / "a1"]).files) == 2
    (tmp_path / "b" ).mkdir()
    (tmp_path / "b" / "log.imss.20240312.0002").write_bytes(data[:5000])
    (tmp_path / "b" / "log.imss.20240312.0003").write_bytes(data)
    assert len(discover([tmp_path / "b"]).files) == 2


def test_two_appliances_are_not_one_for_a_log_that_is_the_start_of_the_others(tmp_path: Path) -> None:
    """Attack s25a (1): imsva01's log.imss cut to the first line of imsva02's (the same bytes: a hand-made case, or a
    cloned machine) made the two one appliance, imsva01's event linked to imsva02's scan of another mail, and parse
    dropped imsva01's line. The start of another appliance's log proves nothing: both are read, each its own."""
    case = shutil.copytree(TWO, tmp_path / "ta")
    first = (case / "imsva02/IMSVA/Logfile/Event3/log.imss.20190430.0001").read_bytes().split(b"\n")[0] + b"\n"
    (case / "imsva01/IMSVA/LogFile/Event3/log.imss.20190430.0001").write_bytes(first)
    assert len([f for f in discover([case]).files if f.kind == "imss"]) == 2
    (case / "imsva02/IMSVA/Logfile/Event3/polevt.imss.20190430.0001").unlink()
    c = correlate(case)
    assert sorted((r.appliance, r.status) for r in c.rows) == [("imsva01", "event-without-trace"), ("imsva02", "trace-without-event")]
    assert not [s for s in discover([case]).skipped if "bytes of" in s[1]]


def test_a_rotation_given_plain_in_one_collection_and_gzipped_in_the_other_keeps_them_two(tmp_path: Path) -> None:
    """Attack s25a (2): the folder collected later holds the live log grown and then gzipped (.0001.gz) and its
    polevt grown: made one appliance, both .0001 and .0001.gz were read as its own, every scan twice and ambiguous.
    A rotation under two names keeps the two apart (each read whole, with the note that lines may count twice)."""
    folder = _unpack(tmp_path / "unz")
    log = next(folder.rglob("log.imss.20240312.0001"))
    pol = next(folder.rglob("polevt.imss.20240312.0001"))
    pol.write_bytes(pol.read_bytes() + pol.read_bytes().splitlines(keepends=True)[-1])
    log.with_name(log.name + ".gz").write_bytes(gzip.compress(log.read_bytes() + ACCEPT))
    log.unlink()
    files = discover([CDT, folder]).files
    assert len({f.appliance for f in files}) == 2
    assert len([f for f in files if f.kind == "polevt"]) == 2
    c = correlate([CDT, folder])
    assert not [r for r in c.rows if r.status == "ambiguous"]


def test_copies_that_grew_are_said_one_by_one_and_each_log_is_read_once(tmp_path: Path, monkeypatch) -> None:
    """Attack s25a (3, 4): two grown copies from one place were said 'the same bytes as a log in X'; and each
    shorter log was hashed whole against each longer one (100 logs of 0.9 MB sharing their first 128 KiB: 9.5 s of
    discovery, 0.2 s before). Now each log is read at most once past its first 64 KiB."""
    from imsvalog import sources

    folder = _unpack(tmp_path / "unz")
    for name in ("log.imss.20240312.0001", "polevt.imss.20240312.0001"):
        f = next(folder.rglob(name))
        f.write_bytes(f.read_bytes() + f.read_bytes().splitlines(keepends=True)[-1])
    skipped = dict(discover([CDT, folder]).skipped)
    grown = [why for why in skipped.values() if "(a copy taken before it grew)" in why]
    assert len(grown) == 2 and all(why.startswith("the first ") for why in grown), skipped
    data = (BUSY / "log.imss.20240312.0001").read_bytes()
    for k in range(12):
        (tmp_path / f"h{k}").mkdir()
        (tmp_path / f"h{k}" / "log.imss.20240312.0001").write_bytes(data[: 3000 + 500 * k] + b"x" * (k + 1))
    seen: list[LogFile] = []
    real = sources._prefix_digests
    monkeypatch.setattr(sources, "_prefix_digests", lambda f, sizes: seen.append(f) or real(f, sizes))
    assert len(discover([tmp_path / f"h{k}" for k in range(12)]).files) == 12  # none the start of another
    assert len(seen) == len(set(seen)) == 11  # each hashed once, up to the sizes of the shorter ones


def test_a_bundle_and_a_later_folder_that_only_grew_are_said_to_count_twice(tmp_path: Path) -> None:
    """Attack s25b F4: the bundle and a flat folder collected later holding its log.imss and polevt.imss grown (no
    log of the same bytes in both) are two appliances, each read whole, and nothing said so: every scan counted
    twice. The start of another appliance's log does not prove them one (the note says so, and what to do)."""
    event3 = next(_unpack(tmp_path / "unz").rglob("Event3"))
    later = tmp_path / "later"
    later.mkdir()
    for name in ("log.imss.20240312.0001", "polevt.imss.20240312.0001"):
        data = (event3 / name).read_bytes()
        (later / name).write_bytes(data + (ACCEPT if name.startswith("log") else data.splitlines(keepends=True)[-1]))
    c = correlate([CDT, later])
    assert {r.appliance for r in c.rows} == {"imsva", None}
    said = [n for n in c.summary.rotation if "begins with all" in n]
    assert said == [
        f"{later / name} begins with all {len((event3 / name).read_bytes()):,} bytes of {CDT}!IMSVA/LogFile/Event3/{name}:"
        " both are read, as two appliances' (no log of the same bytes proves them one), so if they are one appliance "
        "collected twice, the lines of the shorter count twice (give the later collection alone)"
        for name in ("log.imss.20240312.0001", "polevt.imss.20240312.0001")], c.summary.rotation
