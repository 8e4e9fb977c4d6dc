"""Member names are attacker-controlled: ``..``, absolute paths, drive letters, backslashes and
links in a bundle never make ``redact --to`` or ``--redact`` write outside their folder."""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
import warnings
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imsvalog.cli import app

from .conftest import FIXTURES

runner = CliRunner()
MAILLOG = (FIXTURES / "busy-day" / "maillog-20240313").read_bytes()
POLEVT = (FIXTURES / "busy-day" / "polevt.imss.20240312.0001").read_bytes()
HOSTILE = [
    "UP/escaped/maillog",  # UP: ``../`` up to ``/``, then down to the test's own folder (harmless before the fix too)
    "/abs/escaped/maillog-20240313",
    "IMSVA/./LogFile/../../../up/maillog",
    "C:/Windows/Temp/maillog",
    "..\\..\\back\\polevt.imss.20240312.0001",
    "IMSVA/LogFile/Event3/polevt.imss.20240312.0001",
    "./IMSVA/LogFile/Event3/polevt.imss.20240312.0001",  # cleans to the name above: a file of its own
]


def _data(name: str) -> bytes:
    return POLEVT if "polevt" in name else MAILLOG


def hostile(up: str) -> list[str]:
    return [n.replace("UP/", up) for n in HOSTILE]


def make_zip(path: Path, up: str) -> Path:
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as z:
        warnings.simplefilter("ignore")
        for name in hostile(up):
            z.writestr(name, _data(name))
    return path


def make_tar(path: Path, up: str, escape_to: Path) -> Path:
    with tarfile.open(path, "w") as t:
        for name in hostile(up):
            info = tarfile.TarInfo(name)
            info.size = len(_data(name))
            t.addfile(info, io.BytesIO(_data(name)))
        for name, kind in (("IMSVA/LogFile/link", tarfile.SYMTYPE), ("IMSVA/LogFile/hard", tarfile.LNKTYPE)):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, str(escape_to)
            t.addfile(info)
        info = tarfile.TarInfo("IMSVA/LogFile/link/maillog")  # through the link, were it followed
        info.size = len(MAILLOG)
        t.addfile(info, io.BytesIO(MAILLOG))
    return path


KEY_FILE = FIXTURES / "redaction-example.key"


def redacted_path(path: str) -> str:
    """A member's path as ``redact --to`` names it: folder and file names redacted (kinds and dates kept)."""
    from imsvalog.redact import Redactor

    red = Redactor(bytes.fromhex(KEY_FILE.read_text().strip()))
    parts = path.split("/")
    return "/".join(red.path_part(x, i == len(parts) - 1) for i, x in enumerate(parts))


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file() or p.is_symlink()}


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_redact_to_writes_every_hostile_member_inside_the_folder(tmp_path: Path, kind: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    cases = tmp_path / "a" / "b" / "c"
    cases.mkdir(parents=True)
    out = tmp_path / "a" / "b" / "c" / "out"
    up = "../" * (len((out / "case").parts) - 1) + str(tmp_path).lstrip("/") + "/"
    bundle = make_zip(cases / "case.zip", up) if kind == "zip" else make_tar(cases / "case.tar", up, outside)
    before = files_under(tmp_path)
    r = runner.invoke(app, ["redact", str(bundle), "--to", str(out), "--key-file", str(KEY_FILE)])
    assert r.exit_code == 0, r.output
    written = files_under(tmp_path) - before
    assert written and all(p.resolve().is_relative_to(out.resolve()) for p in written), written
    assert not any(p.is_symlink() for p in written) and not any(outside.iterdir())
    names = {p.relative_to(out / "case").as_posix() for p in written}
    assert "%2E%2E/" * (len((out / "case").parts) - 1) + redacted_path(str(tmp_path).lstrip("/") + "/escaped/maillog") in names
    assert redacted_path("abs/escaped/maillog-20240313") in names
    assert redacted_path("C%3A/Windows/Temp/maillog") in names
    # the two members that clean to one name both land, neither overwrites the other
    assert {"IMSVA/LogFile/Event3/polevt.imss.20240312.0001",
            "IMSVA/LogFile/Event3/polevt.imss.20240312.0001#2"} <= names
    if kind == "tar":
        link = redacted_path("IMSVA/LogFile/link")
        assert f"{link}/maillog" in names and (out / "case" / link).is_dir()


def test_redact_refuses_a_target_behind_a_link_in_the_output_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    bundle = make_zip(tmp_path / "case.zip", "")
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(outside, out / "case")
    r = runner.invoke(app, ["redact", str(bundle), "--to", str(out)])
    assert r.exit_code == 2 and "refusing to write outside" in r.stderr, r.output
    assert not any(outside.iterdir())


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_redact_option_keeps_every_copy_in_its_temporary_folder(tmp_path: Path, kind: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    deep = tmp_path / "x" / "y" / "z"
    deep.mkdir(parents=True)
    # the copy of deep/case.zip goes to TMP/imsvalog-redact-XXXX/a/<deep>/case/
    depth = len(Path(tempfile.gettempdir()).parts) + 2 + len(deep.parts)
    up = "../" * (depth - 1) + str(tmp_path).lstrip("/") + "/"
    bundle = make_zip(deep / "case.zip", up) if kind == "zip" else make_tar(deep / "case.tar", up, outside)
    before = files_under(tmp_path)
    r = runner.invoke(app, ["parse", str(bundle), "--redact", "--format", "jsonl"])
    assert r.exit_code == 0, r.output
    assert files_under(tmp_path) == before and not any(outside.iterdir())
    assert not (Path("/escaped").exists() or Path("/abs").exists() or Path("/up").exists())
    assert r.stdout.count("\n") > 10


def test_a_member_name_that_is_not_utf8_is_shown_escaped_not_a_crash(tmp_path: Path) -> None:
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("IMSVA/LogFile/Event3/polevt.imss.20240312.0001", POLEVT)
        z.writestr("Notes/Resume.txt", b"hello\n")
    bundle = tmp_path / "latin1.zip"
    bundle.write_bytes(b.getvalue().replace(b"Resume", b"R\xe9sum\xe9"))  # Latin-1, no UTF-8 flag
    r = runner.invoke(app, ["parse", str(bundle), "--format", "jsonl", "--verbose"])
    assert r.exit_code == 0, r.output
    assert f"{bundle}!Notes/R\\xe9sum\\xe9.txt: skipped" in r.stderr
    assert r.stdout.count("\n") == POLEVT.count(b"\n")


def test_link_members_of_a_tar_are_named_as_skipped_never_dropped_silently(tmp_path: Path) -> None:
    """A tar's hard link (``log.imss...0003`` -> ``...0001``) and symbolic link (``polevt.imss`` -> ``/etc/passwd``)
    were dropped without a word, and the user was told 'no polevt.imss was given' (attack on issue 9, item 8)."""
    tar = tmp_path / "links.tar"
    with tarfile.open(tar, "w") as t:
        info = tarfile.TarInfo("IMSVA/LogFile/Event3/maillog-20240313")
        info.size = len(MAILLOG)
        t.addfile(info, io.BytesIO(MAILLOG))
        for name, kind, target in (
            ("IMSVA/LogFile/Event3/maillog-20240314", tarfile.LNKTYPE, "IMSVA/LogFile/Event3/maillog-20240313"),
            ("IMSVA/LogFile/Event3/polevt.imss.20240312.0001", tarfile.SYMTYPE, "/etc/passwd"),
        ):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            t.addfile(info)
    r = runner.invoke(app, ["parse", str(tar), "--format", "jsonl"])
    assert r.exit_code == 0
    assert f"{tar}!IMSVA/LogFile/Event3/maillog-20240314: skipped: a hard link in the archive is not followed" in r.stderr
    assert f"{tar}!IMSVA/LogFile/Event3/polevt.imss.20240312.0001: skipped: a symbolic link" in r.stderr
    assert "root:" not in r.stdout  # never followed
