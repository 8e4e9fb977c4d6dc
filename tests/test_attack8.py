"""The hostile tester's report on issue 8 ("inputs are sacred"), item by item.

Each test fails on the code the tester attacked and quotes the failure it guards.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imsvalog.readers import parse_line
from imsvalog.cli import app
from imsvalog.records import Reject, Source
from imsvalog.render import clean_terminal, csv_cell, markdown_cell

from .conftest import FIXTURES, KB, ROOT

runner = CliRunner()
SCRIPT = Path(sys.executable).parent / "imsvalog"
MESSAGE = FIXTURES / "messages" / "cloud-relay-hairpin.eml"


def sh(*args: str, **kw):
    kw.setdefault("capture_output", True)
    return subprocess.run([str(SCRIPT), *args], cwd=ROOT, **kw)


@pytest.fixture()
def case(tmp_path: Path) -> Path:
    d = tmp_path / "case"
    shutil.copytree(KB, d)
    return d


# 1 -------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["redact", "parse", "correlate"])
def test_1_key_file_that_would_be_read_as_input_is_refused(case: Path, tmp_path: Path, command: str) -> None:
    """"redact k2 --to rout --key-file k2/log.imss.20990101.0001  # rc 0; rout/log.imss.20990101.0001
    contains the key"; "parse k1 --redact --key-file k1/log.imss... -o shared.jsonl  # the reject "raw" is
    the 64-hex key"."""
    key = case / "log.imss.20990101.0001"
    out = tmp_path / "shared.jsonl"
    args = {
        "redact": ["redact", str(case), "--to", str(tmp_path / "rout"), "--key-file", str(key)],
        "parse": ["parse", str(case), "--redact", "--key-file", str(key), "-f", "jsonl", "-o", str(out)],
        "correlate": ["correlate", str(case), "--redact", "--key-file", str(key), "-f", "jsonl", "-o", str(out)],
    }[command]
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    assert "key file" in r.stderr and "refusing" in r.stderr
    assert not key.exists()  # never created
    assert not out.exists() and not (tmp_path / "rout").exists()


def test_1_existing_key_file_inside_the_inputs_or_as_output_is_refused(case: Path, tmp_path: Path) -> None:
    """The key must never reach an output: an existing key file among the inputs, or given as the output."""
    key = case / "polevt.imss.20990101.0001"
    key.write_text("ab" * 32 + "\n")
    r = runner.invoke(app, ["parse", str(case), "--redact", "--key-file", str(key), "-f", "jsonl"])
    assert r.exit_code == 2 and "refusing this key file" in r.stderr
    assert "ab" * 32 not in r.stdout
    out = tmp_path / "out.jsonl"
    r = runner.invoke(app, ["parse", str(KB), "--redact", "--key-file", str(out), "-f", "jsonl", "-o", str(out)])
    assert r.exit_code == 2 and "also an output" in r.stderr
    assert not out.exists()


# 2 -------------------------------------------------------------------------


def test_2_standard_input_that_is_a_file_is_an_input(tmp_path: Path) -> None:
    """"spoof-check - -o /dev/stdin < m.eml  # rc 0; m.eml overwritten" and
    "spoof-check - 1<>m.eml < m.eml  # rc 0; m.eml overwritten"."""
    m = tmp_path / "m.eml"
    shutil.copy(MESSAGE, m)
    before = m.read_bytes()
    with open(m, "rb") as fin:
        r = sh("spoof-check", "-", "-o", "/dev/stdin", stdin=fin)
    assert r.returncode == 2, r.stderr
    assert b"standard input" in r.stderr
    assert m.read_bytes() == before
    fd = os.open(m, os.O_RDWR)
    try:
        with open(m, "rb") as fin:
            r = subprocess.run([str(SCRIPT), "spoof-check", "-"], stdin=fin, stdout=fd, stderr=subprocess.PIPE, cwd=ROOT)
    finally:
        os.close(fd)
    assert r.returncode == 2, r.stderr
    assert m.read_bytes() == before


# 3 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["parse", str(KB)], ["correlate", str(KB), "-f", "csv"], ["correlate", str(KB)], ["spoof-check", str(MESSAGE)]],
)
def test_3_closed_standard_output_is_an_output_error(args: list[str]) -> None:
    """"parse c1 >&- -> 3 "internal error: AttributeError: 'NoneType' object has no attribute 'write'"";
    also correlate ('isatty') and spoof-check."""
    code = "import os, sys, subprocess; os.close(1); sys.exit(subprocess.call(sys.argv[1:], close_fds=False))"
    r = subprocess.run([sys.executable, "-c", code, str(SCRIPT), *args], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "standard output is closed" in r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr


# 4 -------------------------------------------------------------------------


def test_4_bind_mounted_view_of_an_input_folder_is_an_input_folder(case: Path, tmp_path: Path) -> None:
    """"mount --bind bm bm2; correlate bm -f jsonl -o bm2/log.imss.20990101.0001  # rc 0, file now in bm/"."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) to bind-mount in a private mount namespace")
    alias = tmp_path / "alias"
    alias.mkdir()
    target = alias / "log.imss.20990101.0001"
    script = 'mount --bind "$1" "$2" || exit 99; exec "$3" correlate "$1" -f jsonl -o "$4"'
    r = subprocess.run(
        ["unshare", "--mount", "sh", "-c", script, "sh", str(case), str(alias), str(SCRIPT), str(target)],
        capture_output=True, text=True, cwd=ROOT,
    )
    if r.returncode == 99 or "unshare failed" in r.stderr or "Operation not permitted" in r.stderr:
        pytest.skip(f"bind mounts are not permitted here: {r.stderr.strip()}")
    assert r.returncode == 2, r.stderr
    assert "input folder" in r.stderr and "refusing" in r.stderr
    assert not (case / "log.imss.20990101.0001").exists()


def test_4_folder_identity_is_compared_not_path_text(case: Path, tmp_path: Path) -> None:
    """The same check where mounting is not allowed: the folder is known only by its identity
    (the path text recorded for it names nothing), as an alias's text would differ."""
    from imsvalog.outputs import Inputs

    inputs = Inputs.of([case])
    # pretend the folder was given under another name: same identity, different text
    inputs.folders = ["/nonexistent/other-name"]
    why = inputs.why_input(case / "log.imss.20990101.0001")
    assert why is not None and "input folder" in why
    assert inputs.why_not_folder(case) is not None


# 5 -------------------------------------------------------------------------


def test_5_truncated_gzip_keeps_the_readable_bytes_of_its_cut_line(tmp_path: Path) -> None:
    """"parse gives the reject for the cut line with "raw": "" although zcat shows the readable bytes
    "...[4242:139871] [DEBUG]TmIsScan::scanMes"."""
    d = tmp_path / "gz"
    d.mkdir()
    data = (FIXTURES / "busy-day" / "log.imss.20240312.0001").read_bytes() * 40
    g = gzip.compress(data)
    (d / "log.imss.20240312.0001.gz").write_bytes(g[: len(g) * 2 // 3])
    readable = b""
    with gzip.open(d / "log.imss.20240312.0001.gz") as fh:
        try:
            while chunk := fh.read1(1 << 16):
                readable += chunk
        except EOFError:
            pass
    cut = readable[readable.rfind(b"\n") + 1 :]
    assert cut
    r = runner.invoke(app, ["parse", str(d), "-f", "jsonl", "--rejects", str(tmp_path / "rj.jsonl")])
    assert r.exit_code == 0, r.output
    rejects = [json.loads(x) for x in (tmp_path / "rj.jsonl").read_text().splitlines()]
    assert len(rejects) == 1 and "cannot be read" in rejects[0]["reason"]
    assert rejects[0]["raw"] == cut.decode()
    assert rejects[0]["line"] == readable.count(b"\n") + 1
    # correlate's own reader keeps them too
    (d / "polevt.imss.20240312.0001").write_bytes((FIXTURES / "busy-day" / "polevt.imss.20240312.0001").read_bytes())
    from imsvalog import correlate

    c = correlate(d)
    cut_rejects = [x for x in c.rejects if "cannot be read" in x.reason]
    assert [x.source.text for x in cut_rejects] == [cut.decode()]


# 7 -------------------------------------------------------------------------


def test_7_two_outputs_that_are_one_file_by_inode_are_refused(tmp_path: Path) -> None:
    """"echo a > ha; ln -f ha hb; parse c1 -f jsonl -o ha --rejects hb  # rc 0"."""
    ha, hb = tmp_path / "ha", tmp_path / "hb"
    ha.write_text("a\n")
    os.link(ha, hb)
    r = runner.invoke(app, ["parse", str(KB), "-f", "jsonl", "-o", str(ha), "--rejects", str(hb)])
    assert r.exit_code == 2, r.output
    assert "two outputs" in r.stderr
    assert ha.read_text() == "a\n"


# 8 -------------------------------------------------------------------------


def test_8_ctrl_c_during_the_launchers_own_imports_exits_130_without_traceback() -> None:
    """"Ctrl-C very early still prints a traceback through imsvalog_launcher.py line 14 `import signal`"."""
    code = textwrap.dedent(
        """
        import sys
        class Interrupt:
            def find_spec(self, name, path=None, target=None):
                if name == "signal":
                    raise KeyboardInterrupt
        sys.modules.pop("signal", None)
        sys.meta_path.insert(0, Interrupt())
        import imsvalog_launcher
        """
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 130, r.stderr
    assert "Traceback" not in r.stderr and r.stderr == "imsvalog: interrupted\n"


# 9 -------------------------------------------------------------------------


def test_9_characters_above_the_basic_plane_get_an_unambiguous_escape() -> None:
    """"U+E0001 shown as \\ue0001 (reads as U+E000 + "1") in table/CSV/Markdown. Use \\U000e0001"."""
    assert clean_terminal("a\U000e0001b") == "a\\U000e0001b"
    assert csv_cell("x\U000e0001") == "x\\U000e0001"
    assert "\\U000e0001" in markdown_cell("\U000e0001").replace("\\\\", "\\")
    assert clean_terminal("\u200b") == "\\u200b"  # the basic plane keeps \\uXXXX


# 10 ------------------------------------------------------------------------

_POLEVT = (KB / "polevt.imss.20190430.0001").read_text().splitlines()[0].split("\t")


def _polevt(i: int, value: str) -> str:
    fields = list(_POLEVT)
    fields[i] = value
    return "\t".join(fields)


@pytest.mark.parametrize(
    ("kind", "line", "want"),
    [
        ("polevt", _polevt(9, "1_000"), "field 9 (size_kb) is not a number of ASCII digits"),
        ("polevt", _polevt(5, "1_0"), "field 5 (direction) is not a number of ASCII digits"),
        ("polevt", _polevt(5, "\u0663"), "field 5 (direction) is not a number of ASCII digits"),
        ("polevt", _polevt(9, "\uff14.1"), "field 9 (size_kb) is not a number of ASCII digits"),
        ("imss", "2019/04/30 13:57:43 GMT+09:00 [2863\u0669:4098483968] Final action 0: QuarantineAction", "expected [pid:tid]"),
        ("imss", "2019/04/3\u0660 13:57:43 GMT+09:00 [28639:4098483968] Final action 0: QuarantineAction", "expected date"),
        ("maillog", "Nov  5 13:12:19 imsva postfix/qmgr[2\u0664760]: 935162C03E: from=<a@b>, size=1, nrcpt=1", "syslog prefix"),
        ("msgtra", "2019 Apr 3\u0660 13:57:43 +09:00\tx", "reject"),
        # in a body shape the odd number does not fit the shape: the line is kept as generic text, no number
        ("imss", "2019/04/30 13:57:43 GMT+09:00 [28639:4098483968] Final action \u0660: QuarantineAction", "ImssGeneric"),
        ("imss", "2019/04/30 13:57:43 GMT+09:00 [28639:4098483968] Get \uff12 IP address from received header", "ImssGeneric"),
        ("maillog", "Nov  5 13:12:19 imsva postfix/qmgr[24760]: 935162C03E: from=<a@b>, size=1_0, nrcpt=1", "generic"),
    ],
)
def test_10_numbers_are_ascii_digits_only(kind: str, line: str, want: str) -> None:
    """"polevt size `1_000` -> 1000.0, direction `1_0` -> 10, Arabic-Indic `٣` -> 3, full-width `４.1` -> 4.1"."""
    item = parse_line(kind, Source("f", 1, line))
    if want in ("ImssGeneric", "generic"):
        assert not isinstance(item, Reject), item
        assert type(item).__name__ == want or getattr(item, "shape", None) == want, item
        assert getattr(item, "size", None) is None and getattr(item, "index", None) is None
    else:
        assert isinstance(item, Reject), item
        assert want == "reject" or want in item.reason, item.reason


def test_10_integer_and_decimal_helpers_take_ascii_digits_only() -> None:
    """int() and float() take "1_000" and Unicode digits: the grammars' helpers must not."""
    from imsvalog.grammars.common import ParseFailure, finite, integer

    for text in ("1_000", "\u0663", "\uff14", "1\u200b0"):
        with pytest.raises(ParseFailure, match="ASCII digits"):
            integer(text, "pid")
    for text in ("1_000.5", "\uff14.1", "\u0663.0"):
        with pytest.raises(ParseFailure, match="ASCII digits"):
            finite(text, "size")
    with pytest.raises(ParseFailure, match="not a finite number"):
        finite("Infinity", "size")
    assert integer(" 42 ", "pid") == 42 and finite("-2.5e1", "score") == -25.0


# 6 -------------------------------------------------------------------------

_GOOD = "2024/03/12 09:15:01 GMT+01:00 [4242:139871] "
_DAMAGED = [
    "hello world",
    "\0\0garbage",
    "",
    "2024/03/12 09:15",  # a cut line
    "2024/13/12 09:15:01 GMT+01:00 [4242:139871] [DEBUG]TmIsScan::scanMessage",
    "2023/02/29 09:15:01 GMT+01:00 [4242:139871] [DEBUG]TmIsScan::scanMessage",  # no 29 February in 2023
    "2024/02/29 09:15:01 GMT+01:00 [4242:139871] [DEBUG]TmIsScan::scanMessage",  # a leap day: a record
    "2024/04/31 09:15:01 GMT+01:00 [4242:139871] [DEBUG]x",
    "2024/03/12 25:15:01 GMT+01:00 [4242:139871] [DEBUG]x",
    "2024/03/12 09:15:01 GMT+24:00 [4242:139871] [DEBUG]x",
    "1969/03/12 09:15:01 GMT+01:00 [4242:139871] [DEBUG]x",
    "2200/03/12 09:15:01 GMT+01:00 [4242:139871] [DEBUG]x",
    "2024/03/12 09:15:01 GMT+01:00 [" + "9" * 21 + ":139871] [DEBUG]x",
    "2024/03/12 09:15:01 GMT+01:00 [42a:139871] [DEBUG]x",
    _GOOD + "Final action " + "1" * 25 + ": QuarantineAction",
    _GOOD + "[DEBUG]x [/src/a.cpp:f:" + "7" * 30 + "]",
    "2024/03/12\t09:15:01\tGMT+1 [4242:139871] other layout, still a record",
    "2024/03/12 09:15:01 GMT+01:00 [4242:139871] caf\xe9 \udcff bytes",
    "2024/03/12 09:15:01 GMT+01:00 [4242:139871] Info: Accept connection from client [127.0.0.1]",
    "2024/03/1\u0662 09:15:01 GMT+01:00 [4242:139871] [DEBUG]x",
]


def test_6_correlate_rejects_every_line_parse_rejects(tmp_path: Path) -> None:
    """"correlate gb says "3 log.imss lines ... 0 rejected lines"; parse rejects 2. On a 3000-line damaged
    file parse 706 rejects, correlate 397"."""
    good = (FIXTURES / "busy-day" / "log.imss.20240312.0001").read_bytes().splitlines(keepends=True)
    lines: list[bytes] = []
    for i, line in enumerate(good * 3):
        lines.append(line)
        if i % 7 == 3:
            lines.append(_DAMAGED[(i // 7) % len(_DAMAGED)].encode("utf-8", "surrogateescape") + (b"\r\n" if i % 2 else b"\n"))
    lines.append(b"2024/03/12 09:15:01 GMT+01:00 [1:2] " + b"x" * (1 << 20) + b"\n")  # over the line-length limit
    lines.append(b"no final newline")
    d = tmp_path / "damaged"
    d.mkdir()
    log = d / "log.imss.20240312.0001"
    log.write_bytes(b"".join(lines))
    shutil.copy(FIXTURES / "busy-day" / "polevt.imss.20240312.0001", d)
    _same_rejects(d, log)
    gz = tmp_path / "gz"
    gz.mkdir()
    (gz / "log.imss.20240312.0001.gz").write_bytes(gzip.compress(log.read_bytes()))
    shutil.copy(FIXTURES / "busy-day" / "polevt.imss.20240312.0001", gz)
    _same_rejects(gz, gz / "log.imss.20240312.0001.gz")


def _same_rejects(folder: Path, log: Path) -> None:
    from imsvalog import correlate
    from imsvalog.readers import ReadReport, iter_records

    report = ReadReport()
    want = [(r.source.line, r.reason) for r in iter_records([log], report=report) if isinstance(r, Reject)]
    assert len(want) >= 30
    c = correlate(folder)
    got = [(r.source.line, r.reason) for r in c.rejects if r.source.file == str(log)]
    assert got == want
    assert c.summary.lines == report.files[0].lines


@pytest.mark.parametrize("line", _DAMAGED)
def test_6_a_line_correlate_takes_as_sure_parses(line: str) -> None:
    """The byte-level shortcut never passes a line that parse would reject."""
    from imsvalog.correlation.scan import _unsure_lines

    raw = line.encode("utf-8", "surrogateescape") + b"\n"
    before = b"\n".join([_GOOD.encode() + b"x"] * 3) + b"\n"
    data = before + raw + _GOOD.encode() + b"y\n"
    at = len(before)
    unsure = _unsure_lines(data, 0, len(data), 1 << 20)
    parsed = parse_line("imss", Source("f", 1, line))
    if isinstance(parsed, Reject):
        assert at in unsure, parsed.reason
    assert unsure == [at] or (not isinstance(parsed, Reject) and unsure == [])
