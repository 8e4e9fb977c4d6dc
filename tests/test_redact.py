"""imsvalog redact: pseudonyms keep every class, block, link and verdict; nothing of the original leaks."""

from __future__ import annotations

import gzip
import ipaddress
import os
import re
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.grammars.received import parse_received
from imsvalog.readers import iter_records
from imsvalog.records import PolicyEvent, Reject, Transaction
from imsvalog.redact import (
    PROTECTED_V4,
    PROTECTED_V6,
    ROLE_LOCAL_PARTS,
    Redactor,
    load_key,
    redact_files,
    verify,
)
from imsvalog.sources import kind_from_name
from imsvalog.spoof import PROFILES, _is_documentation, evaluate, read_message
from imsvalog.trusted import TrustedList

from .conftest import FIXTURES, ROOT

KEY = bytes.fromhex((FIXTURES / "redaction-example.key").read_text().strip())
PSEUDONYMS = Redactor(KEY)
#: every shipped fixture folder that holds logs (bundles have their own test)
LOG_FOLDERS = sorted(
    d.name for d in FIXTURES.iterdir()
    if d.is_dir() and any(k in p.name for p in d.iterdir() for k in ("log.imss", "polevt.imss", "msgtra.imss", "maillog"))
)
MESSAGES = sorted(str(p.relative_to(ROOT)) for p in (FIXTURES / "messages").iterdir() if p.suffix in (".eml", ".txt") and "trusted" not in p.name)
TRUSTED = "fixtures/messages/trusted-example.txt"


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "100", "TERM": "dumb", **(env or {})})


def output_text(folder: Path) -> str:
    """Every byte of every file under folder (gzip members decompressed), as text."""
    parts = []
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            parts.append(data.decode("utf-8", "surrogateescape"))
    return "\n".join(parts)


# ---------------------------------------------------------------------------
# What the input holds, found without the redactor: the readers and the Received parser
# ---------------------------------------------------------------------------

_EMAIL = re.compile(r"([^\s<>\"';,\t\[\]]+)@([A-Za-z0-9.-]+[A-Za-z0-9])")
_HOST_CLAUSE = re.compile(r"^\s*([^\s()\[\];]+)")
_IP_TOKEN = re.compile(r"(?<![\w.])[0-9A-Fa-f:.]{2,}(?!\w)")  # after a colon too: IP:198.51.100.23
_SINGLE = {ipaddress.ip_network(n).network_address for n in ("127.0.0.1/32", "::1/128", "::/128", "255.255.255.255/32")}


def _fixed_by_design(ip) -> bool:
    nets = PROTECTED_V4 if ip.version == 4 else PROTECTED_V6
    return any(n.num_addresses == 1 and ip == n.network_address for n in nets)


class Tokens:
    def __init__(self) -> None:
        self.addresses: set[str] = set()
        self.domains: set[str] = set()
        self.locals: set[str] = set()
        self.message_ids: set[str] = set()
        self.subjects: set[str] = set()
        self.ids: set[str] = set()

    def email(self, text: str | None) -> None:
        for m in _EMAIL.finditer(text or ""):
            if m.group(1).lower() not in ROLE_LOCAL_PARTS:
                self.locals.add(m.group(1))
            self.domain(m.group(2))

    def domain(self, text: str | None) -> None:
        text = (text or "").strip(".")
        if text and re.search(r"[A-Za-z]", text) and text.lower() not in ("localhost", "unknown", "userid"):
            self.domains.add(text)

    def addresses_in(self, text: str) -> None:
        for m in _IP_TOKEN.finditer(text):
            t = m.group(0)
            # the token, without a final dot, without a port; else what follows a colon (IP:198.51.100.23)
            for group in ((t, t.strip(".:"), t.rsplit(":", 1)[0]), (t.partition(":")[2], t.strip(".:").partition(":")[2])):
                found = False
                for cand in group:
                    try:
                        ip = ipaddress.ip_address(cand)
                    except ValueError:
                        continue
                    found = True
                    if not _fixed_by_design(ip.ipv4_mapped if ip.version == 6 and ip.ipv4_mapped else ip):
                        self.addresses.add(cand)
                if found:
                    break

    def received(self, header: str) -> None:
        h = parse_received(header)
        for c in h.clauses:
            if c.name in ("from", "by"):
                m = _HOST_CLAUSE.match(c.text)
                if m:
                    self.domain(m.group(1))
        self.email(header)
        self.ids.update(q for q in h.queue_ids if len(q) >= 5)

    def message_id(self, mid: str | None) -> None:
        if mid and mid.strip("<> "):
            inner = mid.strip().strip("<>")
            self.message_ids.add(inner)
            self.email(inner)


def original_tokens(paths: list[str]) -> Tokens:
    t = Tokens()
    logs = [p for p in paths if not p.endswith((".eml", ".txt"))]
    for rec in iter_records(logs) if logs else ():
        raw = rec.source.text
        t.addresses_in(raw)
        t.email(raw)
        if isinstance(rec, Reject):
            continue
        if isinstance(rec, (PolicyEvent, Transaction)):
            t.email(rec.sender)
            for r in rec.recipients:
                t.email(r)
            if rec.subject and rec.subject.strip():
                t.subjects.add(rec.subject)
            t.message_id(rec.message_id)
            if rec.internal_id:
                t.ids.add(rec.internal_id)
        if isinstance(rec, Transaction):
            t.domain(rec.client_host)
            if rec.queue_id:
                t.ids.add(rec.queue_id)
        header = getattr(rec, "header", None)
        if header:
            t.received(header)
        for name in ("message_id",):
            if type(rec).__name__ in ("MessageIdLine", "MailLogEntry"):
                t.message_id(getattr(rec, name, None))
        if type(rec).__name__ == "MailLogEntry":
            t.domain(rec.host)  # type: ignore[attr-defined]
            t.domain(rec.relay_host)  # type: ignore[attr-defined]
            t.domain(rec.client_host)  # type: ignore[attr-defined]
            for q in (rec.queue_id, rec.queued_as):  # type: ignore[attr-defined]
                if q and q != "NOQUEUE":  # Postfix's literal for "no queue file yet", kept
                    t.ids.add(q)
    for p in paths:
        if p.endswith((".eml", ".txt")):
            text = Path(p).read_text(errors="surrogateescape")
            t.addresses_in(text)
            t.email(text)
            m = read_message(p)
            for h in m.received:
                t.received(h)
            subj = re.search(r"(?mi)^Subject:[ \t]*(.*)$", text)
            if subj and subj.group(1).strip():
                t.subjects.add(subj.group(1).strip())
            mid = re.search(r"(?mi)^Message-ID:[ \t]*(.*)$", text)
            if mid:
                t.message_id(mid.group(1))
    return t


def found(token: str, text: str, *, case: bool) -> bool:
    """token in text: as a substring when 4+ characters long, else as a whole word."""
    flags = 0 if case else re.IGNORECASE
    if len(token) >= 4:
        return re.search(re.escape(token), text, flags) is not None
    return re.search(r"(?<![A-Za-z0-9])" + re.escape(token) + r"(?![A-Za-z0-9])", text, flags) is not None


def leaks(tokens: Tokens, text: str) -> list[str]:
    out = []
    for a in tokens.addresses:
        if re.search(r"(?<![0-9A-Fa-f:.])" + re.escape(a) + r"(?![0-9A-Fa-f:]|\.\d)", text, re.IGNORECASE):
            out.append(f"address {a}")
    # domains compare case-insensitively; a one-label host name ("imsva") as written (IMSVA is also the product)
    out += [f"domain {d}" for d in tokens.domains if found(d, text, case="." not in d)]
    # a one- or two-letter local part is an English word too ("a"): looked for where it is a local part.
    # A pseudonym keeps the length, so a short local part may be the pseudonym of another one of the case
    # (every output checked here is made with KEY); that one is no leak (and never its own: test_redact_keys.py)
    others = {PSEUDONYMS.local(y): y for y in tokens.locals}
    locals_ = [x for x in tokens.locals if others.get(x, x) == x]
    out += [f"local part {x}" for x in locals_ if len(x) >= 3 and found(x, text, case=True)]
    out += [f"local part {x}" for x in locals_ if len(x) < 3 and re.search(r"(?<![\w.])" + re.escape(x) + "@", text)]
    out += [f"Message-ID {x}" for x in tokens.message_ids if found(x, text, case=False)]
    out += [f"subject {x!r}" for x in tokens.subjects if found(x, text, case=True)]
    out += [f"ID {x}" for x in tokens.ids if found(x, text, case=False)]
    return out


def test_every_fixture_folder_is_covered() -> None:
    assert {"kb000239719", "busy-day", "time-only", "ugly", "hostile"} <= set(LOG_FOLDERS)


def test_the_token_finder_finds_what_the_kb_example_holds() -> None:
    t = original_tokens(["fixtures/kb000239719"])
    assert {"1111:2222:3333:444::5555"} <= t.addresses
    assert {"test", "test.test", "ie-test057.test.test", "mail.example.com", "test-test200.ie.test"} <= t.domains
    assert "test" in t.locals and "Test" in t.subjects
    assert "20190430045742.DDDFC11FB0C@ie-test057.test.test" in t.message_ids
    assert {"DDDFC11FB0C", "A581B13803D", "87BDADC9-87B8-3D05-A958-0267A8088406"} <= t.ids
    # and the leak check sees them in the original
    text = output_text(FIXTURES / "kb000239719")
    assert len(leaks(t, text)) == len(t.addresses) + len(t.domains) + len(t.locals) + len(t.message_ids) + len(t.subjects) + len(t.ids)


# ---------------------------------------------------------------------------
# Every shipped fixture: --verify passes and nothing leaks
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("folder", LOG_FOLDERS)
def test_redact_verify_passes_and_nothing_leaks(folder: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = run("redact", f"fixtures/{folder}", "--to", str(out), "--key-file", "fixtures/redaction-example.key", "--verify")
    assert r.exit_code == 0, r.output
    assert "verify: PASSED" in r.stdout and " 0 differences" in r.stdout
    assert "DIFFERENT" not in r.stdout
    src = sorted(p.name for p in (FIXTURES / folder).iterdir() if kind_from_name(p.name))  # the logs (not .eml, lists)
    assert sorted(p.name for p in out.iterdir()) == src  # same names and rotation
    tokens = original_tokens([f"fixtures/{folder}"])
    assert tokens.addresses and tokens.domains
    text = output_text(out)
    assert leaks(tokens, text) == []
    assert KEY.hex() not in text.lower()


def test_messages_and_trusted_list_nothing_leaks(tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = run("redact", *MESSAGES, "--trusted-file", TRUSTED, "--to", str(out), "--key-file", "fixtures/redaction-example.key")
    assert r.exit_code == 0, r.output
    tokens = original_tokens(MESSAGES)
    tokens.addresses_in(Path(TRUSTED).read_text())
    assert len(tokens.addresses) >= 5 and tokens.subjects
    text = output_text(out)
    assert leaks(tokens, text) == []
    for m in MESSAGES:  # spoof-check on the copy gives the same verdict and count
        a = read_message(m).evaluate(TrustedList.from_file(TRUSTED))
        name = PSEUDONYMS.path_part  # the copies' names are redacted too (extensions kept)
        b = read_message(out / name(Path(m).name, True)).evaluate(TrustedList.from_file(out / name("trusted-example.txt", True)))
        assert (a.verdict, a.count, [s.reason for s in a.skipped]) == (b.verdict, b.count, [s.reason for s in b.skipped])


BUNDLE = "fixtures/bundles/CDT-20240312-101500.zip"


def shown(path: str) -> str:
    """A path as --redact shows it: each folder and file name as 'redact --to' names its copies."""
    parts = Path(path).parts
    return "/".join(Redactor(KEY).path_part(x, i == len(parts) - 1 and "." in x) for i, x in enumerate(parts))


def test_bundle_members_are_redacted_unpacked_verify_passes_and_nothing_leaks(tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = run("redact", BUNDLE, "--to", str(out), "--key-file", "fixtures/redaction-example.key", "--verify")
    assert r.exit_code == 0, r.output
    assert "verify: PASSED" in r.stdout and "DIFFERENT" not in r.stdout
    event3 = out / "CDT-20240312-101500" / "IMSVA" / "LogFile" / "Event3"
    assert sorted(p.name for p in event3.iterdir()) == [
        "log.imss.20240312.0001", "msgtra.imss.20240312.0001", "polevt.imss.20240312.0001", "rotated"]
    assert (event3 / "rotated" / "log.imss.20240312.0002.gz").read_bytes()[:2] == b"\x1f\x8b"  # gzip member stays gzip
    assert "Policy.xml: not copied" in r.output  # the bundle's other files are named, not copied
    tokens = original_tokens([BUNDLE])
    assert tokens.addresses and tokens.domains and tokens.subjects
    assert leaks(tokens, output_text(out)) == []


SYSLOG = "fixtures/syslog/siem-export.log"


def test_syslog_forwarded_logs_keep_their_wrapper_verify_passes_and_nothing_leaks(tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = run("redact", SYSLOG, "--to", str(out), "--key-file", "fixtures/redaction-example.key", "--verify")
    assert r.exit_code == 0, r.output
    assert "verify: PASSED" in r.stdout and "profile documented" in r.stdout
    a = Path(SYSLOG).read_text().splitlines()
    b = (out / "siem-export.log").read_text().splitlines()
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):  # the wrapper's time and tag and rsyslog's #011 stay
        assert x.split(" ")[0] == y.split(" ")[0] and x.count("#011") == y.count("#011")
    tokens = original_tokens([SYSLOG])
    assert tokens.subjects and tokens.domains and tokens.addresses and tokens.message_ids
    assert leaks(tokens, output_text(out)) == []


def test_correlate_redact_on_a_bundle_names_members_as_given() -> None:
    r = run("correlate", BUNDLE, "--redact", "--key-file", "fixtures/redaction-example.key", "--format", "jsonl")
    assert r.exit_code == 0, r.output
    assert f"{shown(BUNDLE)}!IMSVA/LogFile/Event3/log.imss.20240312.0001" in r.stdout
    assert shown(BUNDLE) == "rkjgiwzl/ibihogq/CDT-20240312-101500.zip"  # folder names redacted, the bundle's kept
    assert "imsvalog-redact-" not in r.stdout and "fixtures/" not in r.stdout
    assert leaks(original_tokens([BUNDLE]), r.stdout) == []


def test_bad_fixture_is_refused(tmp_path: Path) -> None:
    r = run("redact", "fixtures/bad", "--to", str(tmp_path / "out"))
    assert r.exit_code == 2 and "no log files" in r.output
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------
# Files: formats, gzip, line endings, rotation, mtimes; outputs never touch inputs
# ---------------------------------------------------------------------------


def test_copies_keep_format_gzip_line_endings_and_mtime(tmp_path: Path) -> None:
    r = Redactor(KEY)
    rep = redact_files(["fixtures/busy-day", "fixtures/ugly"], tmp_path / "o", r)
    assert not rep.skipped
    for f in rep.files:
        src, dst = Path(f.source), Path(f.target)
        a, b = src.read_bytes(), dst.read_bytes()
        assert (a[:2] == b"\x1f\x8b") == (b[:2] == b"\x1f\x8b")
        if a[:2] == b"\x1f\x8b":
            a, b = gzip.decompress(a), gzip.decompress(b)
        assert a.count(b"\n") == b.count(b"\n") and a.count(b"\r\n") == b.count(b"\r\n")
        assert a.endswith(b"\n") == b.endswith(b"\n")  # the cut-off last line stays cut off
        assert src.stat().st_mtime_ns == dst.stat().st_mtime_ns  # maillog's year may come from it
    # folder names redacted (:meth:`Redactor.path_part`), log names kept
    assert (tmp_path / "o" / r.path_part("busy-day", False) / "log.imss.20240312.0002.gz").exists()
    assert (tmp_path / "o" / r.path_part("ugly", False) / "polevt.imss.20240313.0001").exists()
    assert r.path_part("busy-day", False) != "busy-day"


def test_imsva_texts_times_threads_rules_and_codes_are_kept() -> None:
    r = Redactor(KEY)
    for src in ("fixtures/kb000239719/log.imss.20190430.0001", "fixtures/kb000239719/polevt.imss.20190430.0001"):
        kind = "imss" if "log.imss" in src else "polevt"
        for line in Path(src).read_text().splitlines():
            out = r.line(kind, line)
            assert out[:29] == line[:29]  # date, time, offset
            if kind == "imss":
                assert out.split(" ")[3] == line.split(" ")[3]  # [pid:tid]
    line = Path("fixtures/kb000239719/polevt.imss.20190430.0001").read_text().rstrip("\n")
    a, b = line.split("\t"), r.line("polevt", line).split("\t")
    assert [a[i] for i in (0, 5, 6, 7, 9, 10, 11)] == [b[i] for i in (0, 5, 6, 7, 9, 10, 11)]
    assert len(b[4]) == len(a[4]) and b[4] != a[4]  # subject: a same-length token
    for keep in ("Not all sender IP in Trusted Internal IP List. Triggered.", "in convertUnicodeToString, source.length = 46",
                 "filter AntiSpoofFilter isTriggered returned true [/home/autobuild/IMSx-TW_9.1/Application/src/daemon/src/TmIsScan.cpp:TmIsScan::_ruleIsTriggered:4260]",
                 "push ruleID.ruleVer=12.2 into executed rule list", "Final action 0: QuarantineAction"):
        text = Path("fixtures/kb000239719/log.imss.20190430.0001").read_text()
        line = next(x for x in text.splitlines() if keep in x)
        assert r.line("imss", line) == line


def test_keep_subjects(tmp_path: Path) -> None:
    r = run("redact", "fixtures/kb000239719", "--to", str(tmp_path / "o"), "--keep-subjects")
    assert r.exit_code == 0, r.output
    fields = (tmp_path / "o" / "polevt.imss.20190430.0001").read_text().split("\t")
    assert fields[4] == "Test" and fields[2] != "test@test"


def test_lines_of_no_known_shape_are_redacted_conservatively() -> None:
    r = Redactor(KEY)
    junk = ("garbage alice@example.com said 198.51.100.7 and [2001:db8::5] via relay.example.net "
            "id 87BDADC9-87B8-3D05-A958-0267A8088406 queue 4A1F3C0042 source.length TmIsScan.cpp")
    out = r.line("imss", junk)
    for secret in ("alice", "example.com", "198.51.100.7", "2001:db8::5", "relay.example.net", "87BDADC9", "4A1F3C0042"):
        assert secret not in out, out
    assert "source.length" in out and "TmIsScan.cpp" in out  # dotted words that are not domains stay
    assert out.startswith("garbage ") and " said " in out
    # a subject is a token where a line says it is one (Postfix's header_checks), learned or not; it is not
    # hunted down in other text: whoever sends the mail chooses it, and it could be IMSVA's own words
    r.line("polevt", "2024/03/12 09:15:01 GMT+01:00\tID\ta@example.com\tb@example.com\tQuarterly figures\t1\tr")
    warned = r.line("maillog", "Mar 12 09:15:00 imsva postfix/cleanup[1]: 4A1F3C0042: warning: header Subject: "
                    "Quarterly figures from x.example.net[198.51.100.7]; from=<a@example.com> to=<b@example.com>")
    assert "Quarterly figures" not in warned and r.free("Quarterly figures") in warned
    assert r.line("maillog", "Mar 12 09:15:00 imsva postfix/cleanup[1]: Q: note Quarterly figures").endswith(": note Quarterly figures")


def test_outputs_never_touch_inputs(tmp_path: Path) -> None:
    r = run("redact", "fixtures/kb000239719", "--to", "fixtures/kb000239719/out")
    assert r.exit_code == 2 and "input files are only read" in r.output
    assert not Path("fixtures/kb000239719/out").exists()
    r = run("redact", "fixtures/kb000239719", "--to", "fixtures")
    assert r.exit_code == 2
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "polevt.imss.20190430.0001").write_text("mine")
    r = run("redact", "fixtures/kb000239719", "--to", str(tmp_path / "o"), "--key-file", str(tmp_path / "k"))
    assert r.exit_code == 2 and "already exists" in r.output
    assert (tmp_path / "o" / "polevt.imss.20190430.0001").read_text() == "mine"
    assert not (tmp_path / "o" / "log.imss.20190430.0001").exists()  # nothing written
    assert not (tmp_path / "k").exists()  # not even the key file
    r = run("redact", "fixtures/kb000239719", "--to", str(tmp_path / "p"), "--key-file", str(tmp_path / "p" / "k"))
    assert r.exit_code == 2 and "key file may not be inside" in r.output


# ---------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------


def test_key_file_is_created_private_and_makes_pseudonyms_stable(tmp_path: Path) -> None:
    key_file = tmp_path / "case.key"
    k1, origin = load_key(key_file, env={})
    assert "new key file" in origin
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    k2, _ = load_key(key_file, env={})
    assert k1 == k2
    a, b = Redactor(k1), Redactor(k2)
    assert a.ip_text("198.51.100.7") == b.ip_text("198.51.100.7")
    assert a.domain("example.com") == b.domain("example.com")
    other = Redactor(load_key(None, env={"IMSVALOG_REDACT_KEY": "another case"})[0])
    assert other.domain("example.com") != a.domain("example.com")
    assert other.id_text("DDDFC11FB0C") != a.id_text("DDDFC11FB0C")
    assert load_key(None, env={"IMSVALOG_REDACT_KEY": "x" * 10})[0] == load_key(None, env={"IMSVALOG_REDACT_KEY": "x" * 10})[0]


def test_same_key_same_pseudonyms_across_runs_and_appliances(tmp_path: Path) -> None:
    r1 = run("redact", "fixtures/kb000239719/log.imss.20190430.0001", "--to", str(tmp_path / "a"), "--key-file", str(tmp_path / "k"))
    r2 = run("redact", "fixtures/kb000239719/polevt.imss.20190430.0001", "--to", str(tmp_path / "b"), "--key-file", str(tmp_path / "k"))
    assert r1.exit_code == r2.exit_code == 0
    # two separate runs, and the queue ID still links the trace and the event
    log = (tmp_path / "a" / "log.imss.20190430.0001").read_text()
    ev = (tmp_path / "b" / "polevt.imss.20190430.0001").read_text()
    qid = re.search(r"\)id (\w+);", log).group(1)  # type: ignore[union-attr]
    assert qid != "DDDFC11FB0C" and qid in ev
    r = run("correlate", str(tmp_path / "a"), str(tmp_path / "b"), "--format", "jsonl")
    assert '"basis": ["queue_id", "time"]' in r.stdout


def test_env_key(tmp_path: Path) -> None:
    env = {"IMSVALOG_REDACT_KEY": "case 1234 passphrase"}
    a = run("correlate", "fixtures/kb000239719", "--redact", "--format", "jsonl", env=env)
    b = run("correlate", "fixtures/kb000239719", "--redact", "--format", "jsonl", env=env)
    assert a.exit_code == 0 and a.stdout == b.stdout
    assert "case 1234 passphrase" not in a.stdout


# ---------------------------------------------------------------------------
# --verify finds differences; --redact on other commands
# ---------------------------------------------------------------------------


def test_verify_reports_a_changed_verdict(tmp_path: Path) -> None:
    r = Redactor(KEY)
    redact_files(["fixtures/busy-day"], tmp_path / "o", r)
    target = tmp_path / "o" / "log.imss.20240312.0001"
    text = target.read_text()
    pub = r.ip_text("198.51.100.26")
    assert pub in text
    target.write_text(text.replace(f"[{pub}]", "[10.9.9.9]"))  # what a class-blind anonymiser would do
    rep = verify(["fixtures/busy-day"], [tmp_path / "o"], r)
    assert not rep.same
    assert any("DIFFERENT" in line and "recomputed_count" in line for line in rep.lines())
    assert rep.lines()[-1].startswith("verify: FAILED")


def test_verify_cli_exit_status_on_difference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import imsvalog.redact as red

    real = red.Redactor.ip_text
    monkeypatch.setattr(red.Redactor, "ip_text", lambda self, t: "10.0.0.1" if t == "203.0.113.45" else real(self, t))
    r = run("redact", "fixtures/busy-day", "--to", str(tmp_path / "o"), "--verify")
    assert r.exit_code == 1 and "verify: FAILED" in r.stdout


def test_correlate_redact_equals_correlate_on_the_redacted_copy(tmp_path: Path) -> None:
    key = ["--key-file", "fixtures/redaction-example.key"]
    assert run("redact", "fixtures/busy-day", "--to", str(tmp_path / "busy-day"), *key).exit_code == 0
    a = run("correlate", "fixtures/busy-day", "--redact", *key, "--explain")
    b = run("correlate", str(tmp_path / "busy-day"), "--explain")
    assert a.exit_code == 0
    assert a.stdout == b.stdout.replace(str(tmp_path / "busy-day"), shown("fixtures/busy-day"))
    assert "fixtures/busy-day" not in a.stdout
    assert leaks(original_tokens(["fixtures/busy-day"]), a.stdout) == []


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "table"])
def test_parse_redact_leaks_nothing(fmt: str) -> None:
    r = run("parse", "fixtures/busy-day", "--redact", "--key-file", "fixtures/redaction-example.key", "--format", fmt)
    assert r.exit_code == 0
    assert f"{shown('fixtures/busy-day')}/" in r.stdout or fmt == "table"
    assert "fixtures/busy-day" not in r.stdout  # folder names may be customer names
    assert leaks(original_tokens(["fixtures/busy-day"]), r.stdout) == []


def test_spoof_check_redact_keeps_the_verdict() -> None:
    m = "fixtures/messages/cloud-relay-hairpin.eml"
    a = run("spoof-check", m, "--trusted-file", TRUSTED, "--format", "json")
    b = run("spoof-check", m, "--trusted-file", TRUSTED, "--format", "json", "--redact", "--key-file", "fixtures/redaction-example.key")
    assert a.exit_code == b.exit_code == 0
    import json

    ja, jb = json.loads(a.stdout), json.loads(b.stdout)
    assert (ja["verdict"], ja["count"], [s["reason"] for s in ja["skipped"]]) == (jb["verdict"], jb["count"], [s["reason"] for s in jb["skipped"]])
    assert leaks(original_tokens([m]), b.stdout) == []


# ---------------------------------------------------------------------------
# Properties: class, CIDR membership, trusted lists, verdicts
# ---------------------------------------------------------------------------

R = Redactor(KEY)
_settings = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _in(net):
    return st.integers(0, net.num_addresses - 1).map(lambda k: net.network_address + k)


addresses = st.one_of(
    st.ip_addresses(v=4),
    st.ip_addresses(v=6),
    st.sampled_from(PROTECTED_V4 + PROTECTED_V6).flatmap(_in),
    st.sampled_from(PROTECTED_V4).flatmap(_in).map(lambda a: ipaddress.IPv6Address(int(a) | 0xFFFF00000000)),
)


import imsvalog.spoof as _spoof  # noqa: E402

#: every profile, and every variant of the model where it has them (calibration)
ALL_PROFILES = list(PROFILES.values()) + (list(_spoof.variants()) if hasattr(_spoof, "variants") else [])


def _class(ip):
    eff = ip.ipv4_mapped if ip.version == 6 and ip.ipv4_mapped is not None else ip
    out = [ip.version, ip.version == 6 and ip.ipv4_mapped is not None]
    for p in ALL_PROFILES:
        s, f = p.skipped_by(eff), p.flagged_by(eff)
        out += [s.label if s else None, f.label if f else None]
    out += [eff.is_private, eff.is_global, eff.is_loopback, eff.is_link_local, eff.is_multicast, eff.is_reserved,
            eff.is_unspecified, _is_documentation(eff)]
    out += [n for n in (PROTECTED_V4 if eff.version == 4 else PROTECTED_V6) if eff in n]
    return out


@_settings
@given(ip=addresses)
def test_address_keeps_its_class_under_every_profile(ip) -> None:
    red = ipaddress.ip_address(R.ip_text(str(ip)))
    assert _class(red) == _class(ip)
    eff = ip.ipv4_mapped if ip.version == 6 and ip.ipv4_mapped is not None else ip
    nets, bits = (PROTECTED_V4, 32) if eff.version == 4 else (PROTECTED_V6, 128)
    v = int(eff)
    # bit i stays when the first i bits are a proper prefix of a block; an address none of whose bits
    # may change (127.0.0.1, ::1, 0.0.0.0, their last-bit neighbours) is the only fixed point
    pinned = all(any(n.prefixlen > i and v >> (bits - i) == int(n.network_address) >> (bits - i) for n in nets) for i in range(bits))
    assert (red == ip) == pinned


@_settings
@given(a=addresses, b=addresses, length=st.integers(0, 128))
def test_cidr_membership_is_kept(a, b, length) -> None:
    if a.version != b.version:
        b = a
    net = ipaddress.ip_network((a, min(length, a.max_prefixlen)), strict=False)
    red = R.network(net)
    assert red.prefixlen == net.prefixlen and red.version == net.version
    assert (b in net) == (ipaddress.ip_address(R.ip_text(str(b))) in red)


entries = st.one_of(
    addresses.map(str),
    st.tuples(addresses, st.integers(0, 128)).map(lambda t: str(ipaddress.ip_network((t[0], min(t[1], t[0].max_prefixlen)), strict=False))),
    st.tuples(addresses, st.integers(0, 300)).map(
        lambda t: f"{t[0]}-{t[0] + min(t[1], int(ipaddress.ip_address(2**t[0].max_prefixlen - 1)) - int(t[0]) if t[0].version == 6 else (2**32 - 1) - int(t[0]))}"
    ),
)


@_settings
@given(listed=st.lists(entries, max_size=5), probes=st.lists(addresses, min_size=1, max_size=5))
def test_trusted_list_holds_the_same_addresses(listed, probes) -> None:
    original = TrustedList.parse(listed)
    redacted = TrustedList.parse([x for e in listed for x in R.trusted_entry(e)])
    for p in probes:
        assert (original.match(p) is not None) == (redacted.match(R.ip_text(str(p))) is not None)
    lines = list(R.trusted_lines([f"{e}   # entry {i}" for i, e in enumerate(listed)]))
    assert TrustedList.parse([ln.split("#")[0] for ln in lines]).entries == redacted.entries


_DOMAINS = st.sampled_from(["example.com", "corp.example.com", "EXAMPLE.com", "example.net", "test", "test.test"])


@_settings
@given(
    hops=st.lists(st.tuples(addresses, st.booleans(), st.sampled_from(["", "IPv6:"])), max_size=5),
    listed=st.lists(entries, max_size=4),
    with_list=st.booleans(),
    sender_domain=_DOMAINS,
    rcpt_domain=_DOMAINS,
)
def test_model_verdict_is_kept(hops, listed, with_list, sender_domain, rcpt_domain) -> None:
    headers = []
    for i, (ip, bracketed, tag) in enumerate(hops):
        lit = f"[{tag if ip.version == 6 else ''}{ip}]" if bracketed else str(ip)
        headers.append(f"from h{i}.{sender_domain} (h{i}.{sender_domain} {lit}) by mx{i}.example.net (Postfix) "
                       f"with ESMTP id 4A1F3C00{i}{i}; Tue, 12 Mar 2024 09:15:00 +0100")
    trusted = TrustedList.parse(listed) if with_list else None
    sender, rcpts = f"alice@{sender_domain}", [f"bob@{rcpt_domain}"]
    for profile in ALL_PROFILES:
        a = evaluate(headers, sender, rcpts, trusted, profile)
        b = evaluate([R.received(h) for h in headers], R.address_field(sender), [R.address_field(x) for x in rcpts],
                     R.trusted_list(trusted), profile)
        assert (a.verdict, a.count, a.domain_match) == (b.verdict, b.count, b.domain_match)
        assert [R.ip_text(x) for x in a.counted] == b.counted
        assert [(s.header, s.reason, s.range) for s in a.skipped] == [(s.header, s.reason, s.range) for s in b.skipped]
        assert [R.ip_text(x) for x in a.untrusted] == b.untrusted


def test_readme_shows_the_kb_example_redacted_next_to_the_original() -> None:
    readme = (ROOT / "README.md").read_text()
    plain = readme.index("<!-- BEGIN output: imsvalog correlate fixtures/kb000239719/* -->")
    redacted = readme.index("<!-- BEGIN output: imsvalog correlate fixtures/kb000239719/* --redact --key-file fixtures/redaction-example.key -->")
    assert 0 < redacted - plain < 3000  # next to each other; tests/test_readme.py checks both against the program
    assert "<!-- BEGIN help: redact -->" in readme


# ---------------------------------------------------------------------------
# The fast path for free text is the whole pattern
# ---------------------------------------------------------------------------


def _case_redactor() -> Redactor:
    from imsvalog.redact_files import learn, plan

    r = Redactor(KEY)
    planned, _ = plan(["fixtures/busy-day", "fixtures/hostile"], "/nonexistent/redact-out")
    learn(r, planned)
    assert r.frozen and r.learned
    return r


def test_fast_free_text_path_equals_the_whole_pattern_on_every_fixture_line() -> None:
    r = _case_redactor()
    n = 0
    for p in sorted(FIXTURES.rglob("*")):
        if p.is_file() and p.suffix not in (".zip", ".key", ".py"):
            data = p.read_bytes()
            data = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
            for line in data.decode("utf-8", "surrogateescape").splitlines():
                for mode in ("text", "received", "hosts"):
                    assert r.text(line, mode) == r.text_full(line, mode), line
                n += 1
    assert n > 300


_PIECES = st.sampled_from([
    " ", ",", ";", "(", ")", "<", ">", "=", ":", ".", "@", "-", "[", "]", "\t", "queued as ", "Subject: ",
    "alice@example.com", "198.51.100.7", "[2001:db8::5]", "::ffff:10.1.2.3", "13:43:08", "mx1.example.com",
    "relay.cloudmail.example.net", "imsva", "Q1 figures", "source.length", "TmIsScan.cpp", "4A1F3C0042",
    "87BDADC9-87B8-3D05-A958-0267A8088406", "test", "EXAMPLE.COM", "x", "ab12", "é",
    # what issue 13's hostile review leaked: glued, zero-padded, any TLD, IDN, wildcard, key=value, subject=
    "IP:", "*.", "198.051.100.023", "kanzlei.lu", "bücher.example", "CMsgScanner::checkSpoof", "jürgen", "user=",
    "orig_to=<", "sasl_username=", "subject=", "filename: ", "&", "?", "NOQUEUE", "smtp.mailfrom=",
    # task rd: quoted local parts (with escapes), glued addresses, private top-level labels, encoded words
    '"', '\\"', '"Jean Dupont"', "host", "mail.intern", "srv.corp", "helo=", "from ", "by ", "Received: ",
    "=?utf-8?B?R2VoZWlt?=", "mailto:", "%40", "s=", "X-Sender-Name: ", "header.s=", "=?", "?=", "setup.exe", "9.1.0",
    "host198.51.100.7", "Helo=", "EHLO=<", "s  =", "From\t", "BY ", "Sender-Name=", "[mx.firma.intern]",
])


@_settings
@given(parts=st.lists(_PIECES, max_size=14))
@example(parts=[")", "*.", "kanzlei.lu"])  # a wildcard after ")": the word path redacted it, the whole pattern did not
@example(parts=[">", "*.", "kanzlei.lu"])
def test_fast_free_text_path_equals_the_whole_pattern(parts) -> None:
    text = "".join(parts)
    for mode in ("text", "received", "hosts"):  # only the learned items a text can hold are searched for
        assert R_CASE.text(text, mode) == R_CASE.text_full(text, mode)  # after a case's first pass
        assert R_NEW.text(text, mode) == R_NEW.text_full(text, mode)  # nothing learned


R_CASE = _case_redactor()
R_NEW = Redactor(KEY, frozen=True)


def test_case_kept_only_where_it_can_matter() -> None:
    r = Redactor(KEY)
    # domains: IMSVA compares them case-insensitively, so the pseudonym is one lower-case name
    assert r.domain("EXCH01.Corp.Example.COM") == r.domain("exch01.corp.example.com") == r.domain("exch01.corp.example.com").lower()
    # local parts are case-sensitive: the same letters, the case pattern kept
    a, b = r.addr_spec("Alice@example.com"), r.addr_spec("alice@example.com")
    assert a != b and a.lower() == b.lower() and a[0].isupper()
    # IDs keep shape and case; the same queue ID in any case maps alike (correlate compares them so)
    assert r.id_text("dddfc11fb0c").upper() == r.id_text("DDDFC11FB0C")
    assert [role for role in ("postmaster", "MAILER-DAEMON") if r.local(role) == role] == ["postmaster", "MAILER-DAEMON"]


def test_verify_compares_the_calibration() -> None:
    from imsvalog.redact_verify import _compare_calibration

    class Cal:  # what Correlation.calibration.to_dict() gives with --profile auto
        def __init__(self, chosen: str, reproduced: int, failing: list) -> None:
            self.d = {"chosen": chosen, "chosen_switches": {}, "weak": False, "tied": [], "traces_with_logged_list": 8,
                      "table": [{"variant": chosen, "reproduced": reproduced, "traces": 8}], "failing": failing}

        def to_dict(self) -> dict:
            return self.d

    r = Redactor(KEY)
    fail = [{"trace": "x", "logged": ["198.51.100.25", "192.0.2.44"], "model": ["198.51.100.25"]}]
    red = [{"trace": "y", "logged": [r.ip_text("198.51.100.25"), r.ip_text("192.0.2.44")], "model": [r.ip_text("198.51.100.25")]}]
    assert _compare_calibration(r, Cal("documented", 7, fail), Cal("documented", 7, red)) == []
    assert _compare_calibration(r, None, None) == []
    assert _compare_calibration(r, Cal("documented", 7, fail), Cal("documented+addresses=unbracketed", 7, red))
    assert _compare_calibration(r, Cal("documented", 7, fail), Cal("documented", 6, red))
    assert _compare_calibration(r, Cal("documented", 7, fail), Cal("documented", 7, fail))  # not the pseudonyms
    assert _compare_calibration(r, Cal("documented", 7, fail), None)


@_settings
@given(
    items=st.lists(st.text(alphabet="ab.-c é", min_size=1, max_size=6), min_size=1, max_size=12, unique=True),
    text=st.text(alphabet="ab.-c é@x", max_size=30),
)
def test_learned_trie_matches_like_a_flat_alternation_longest_first(items, text) -> None:
    from imsvalog.redact import _trie_pattern

    tail = r"(?![\w@-]|\.[A-Za-z0-9])"
    flat = re.compile("(?:" + "|".join(re.escape(i) for i in sorted(items, key=lambda x: (-len(x), x))) + ")" + tail)
    trie = re.compile(_trie_pattern(items) + tail)
    assert [m.span() for m in flat.finditer(text)] == [m.span() for m in trie.finditer(text)]


@pytest.mark.parametrize("what", ["4C4C4C4C-5D5D-46E6-97F7-A8A8B9B9CACA", "<nl-0312.77@news.partner.example.org>", "5B5B5B5B5B"])
def test_trace_redact_finds_the_message_by_its_pseudonym_and_leaks_nothing(what: str, tmp_path: Path) -> None:
    key = ["--key-file", "fixtures/redaction-example.key"]
    assert run("redact", "fixtures/busy-day", "--to", str(tmp_path / "busy-day"), *key).exit_code == 0
    a = run("trace", what, "fixtures/busy-day", "--redact", *key, "--format", "jsonl")
    r = Redactor(KEY)
    mapped = r.message_id(what) if "@" in what else r.id_text(what)
    b = run("trace", mapped, str(tmp_path / "busy-day"), "--format", "jsonl")
    assert a.exit_code == 0 and a.stdout.count("\n") > 5
    assert a.stdout == b.stdout.replace(str(tmp_path / "busy-day"), shown("fixtures/busy-day"))
    assert leaks(original_tokens(["fixtures/busy-day"]), a.stdout) == []
    raw = run("trace", what, "fixtures/busy-day", "--redact", *key, "--raw")
    assert raw.exit_code == 0 and f"{shown('fixtures/busy-day')}/log.imss.20240312.0001:" in raw.stdout
    assert leaks(original_tokens(["fixtures/busy-day"]), raw.stdout) == []
