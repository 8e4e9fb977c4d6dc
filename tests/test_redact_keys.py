"""imsvalog redact: pseudonyms are a pure function of (key, original) and one-to-one; keys are checked."""

from __future__ import annotations

import gzip
import random
import re
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from imsvalog.cli import app
from imsvalog.errors import InputError
from imsvalog.pseudonym import DIGITS, Permuter
from imsvalog.redact import ROLE_LOCAL_PARTS, Redactor
from imsvalog.redact_keys import load_key

from .conftest import FIXTURES

KEY = bytes.fromhex((FIXTURES / "redaction-example.key").read_text().strip())
_settings = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "100", "TERM": "dumb", **(env or {})})


# ---------------------------------------------------------------------------
# The permutation underneath
# ---------------------------------------------------------------------------


def test_successor_is_one_cycle_through_every_value_for_small_and_odd_sizes() -> None:
    p = Permuter(KEY)
    for n in (2, 3, 7, 10, 26, 36, 100, 257, 1000, 4097):
        nxt = [p.successor(x, n, b"t") for x in range(n)]
        x, steps = 0, 0
        while True:  # one cycle through all n values: a permutation without a fixed point
            x, steps = nxt[x], steps + 1
            if x == 0:
                break
        assert steps == n
        assert sorted(nxt) == list(range(n))


def test_feistel_inverts_at_every_width() -> None:
    p = Permuter(KEY)
    rng = random.Random(5)
    for k in (2, 3, 4, 9, 40, 64, 65, 128, 129, 600):  # 600 bits: round functions longer than one hash
        for _ in range(20):
            x = rng.getrandbits(k)
            y = p._feistel(x, k, b"w", False)
            assert 0 <= y < 1 << k and p._feistel(y, k, b"w", True) == x


def test_every_one_and_two_character_run_has_its_own_pseudonym_never_itself() -> None:
    r = Redactor(KEY)
    alnum = string.ascii_uppercase + DIGITS
    runs = list(alnum) + [a + b for a in alnum for b in alnum]
    out = {x: r.token(x) for x in runs}
    assert len(set(out.values())) == len(runs)
    keep = {x for x in runs if x.lower() in {"noc"}}  # role-name runs are kept (none of length <= 2)
    assert [x for x, y in out.items() if x == y and x not in keep] == []
    for x, y in out.items():
        assert [c.isdigit() for c in x] == [c.isdigit() for c in y]  # digits for digits, letters for letters
        hexy = all(c in "0123456789ABCDEF" for c in x)
        assert all(c in "0123456789ABCDEF" for c in y) == hexy  # hex stays hex, non-hex never becomes hex


def test_no_pseudonym_is_a_role_name_or_a_received_keyword() -> None:
    r = Redactor(KEY)
    rng = random.Random(3)
    for _ in range(3000):
        w = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.choice((2, 3, 4, 5))))
        if w not in ROLE_LOCAL_PARTS:
            assert r.local(w).lower() not in ROLE_LOCAL_PARTS
        if w not in ("by", "id", "for", "from", "via", "with"):
            assert r.domain(w) not in ("by", "id", "for", "from", "via", "with")


# ---------------------------------------------------------------------------
# Pure and one-to-one: order, batches and runs do not matter
# ---------------------------------------------------------------------------

_RUN = st.text(alphabet=string.ascii_letters + DIGITS, min_size=1, max_size=14)
_ID = st.from_regex(r"[A-Za-z0-9]{1,8}([.$=_+-][A-Za-z0-9]{1,8}){0,3}", fullmatch=True)
_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,5}[a-z0-9])?", fullmatch=True)
_DOMAIN = st.lists(_LABEL, min_size=1, max_size=4).map(".".join)
_UUID = st.uuids().map(str).flatmap(lambda u: st.sampled_from([u, u.upper()]))
_LOCAL = st.from_regex(r"[A-Za-z0-9]{1,8}([._+-][A-Za-z0-9]{1,8}){0,2}", fullmatch=True)


def _pseudonyms(r: Redactor, items: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    how = {"run": r.token, "id": r.id_text, "domain": r.domain, "uuid": r.uuid, "addr": r.addr_spec, "mid": r.message_id}
    return {(kind, x): how[kind](x) for kind, x in items}


_ITEMS = st.lists(
    st.one_of(
        _RUN.map(lambda x: ("run", x)),
        _ID.map(lambda x: ("id", x)),
        _DOMAIN.map(lambda x: ("domain", x)),
        _UUID.map(lambda x: ("uuid", x)),
        st.tuples(_LOCAL, _DOMAIN).map(lambda t: ("addr", f"{t[0]}@{t[1]}")),
        st.tuples(_ID, _DOMAIN).map(lambda t: ("mid", f"<{t[0]}@{t[1]}>")),
    ),
    min_size=1,
    max_size=40,
)


@_settings
@given(items=_ITEMS, seed=st.integers(0, 2**32), cut=st.integers(0, 40))
def test_two_runs_over_other_orders_and_splits_give_identical_pseudonyms(items, seed, cut) -> None:
    one = _pseudonyms(Redactor(KEY), items)
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    # a second batch: other order, split in two runs (two redactors with the same key)
    two = _pseudonyms(Redactor(KEY), shuffled[:cut]) | _pseudonyms(Redactor(KEY), shuffled[cut:])
    assert one == two


@_settings
@given(items=_ITEMS)
def test_distinct_originals_never_share_a_pseudonym(items) -> None:
    r = Redactor(KEY)
    got = _pseudonyms(r, items)
    by_kind: dict[str, dict[str, str]] = {}
    for (kind, x), y in got.items():
        # domains are compared case-insensitively (IMSVA does), everything else as written
        key = x.lower() if kind == "domain" else x
        if kind in ("addr", "mid"):
            local, _, dom = x.rpartition("@")
            key = local + "@" + dom.lower()
        seen = by_kind.setdefault(kind, {})
        assert seen.get(key, y) == y  # the same original: the same pseudonym
        seen[key] = y
    for kind, mapping in by_kind.items():
        assert len(set(mapping.values())) == len(mapping), kind
    ids = by_kind.get("run", {})
    for x, y in ids.items():
        assert len(x) == len(y)


def test_two_batches_of_a_case_with_one_key_file_give_the_same_copies(tmp_path: Path) -> None:
    """Redacting the two-days case at once, or file by file in separate runs, gives the same files
    for every kind whose lines have a known shape (free text searches what its own run learned)."""
    key = ["--key-file", str(tmp_path / "case.key")]
    case = FIXTURES / "two-days"
    assert run("redact", str(case), "--to", str(tmp_path / "all"), *key).exit_code == 0
    files = sorted(p for p in case.iterdir() if not p.name.startswith("log.imss"))
    random.Random(1).shuffle(files)
    for i, f in enumerate(files):
        r = run("redact", str(f), "--to", str(tmp_path / f"one{i}"), *key)
        assert r.exit_code == 0, r.output
        a = (tmp_path / "all" / f.name).read_bytes()
        b = (tmp_path / f"one{i}" / f.name).read_bytes()
        if f.name.endswith(".gz"):
            a, b = gzip.decompress(a), gzip.decompress(b)
        assert a == b, f.name


# ---------------------------------------------------------------------------
# Keys: a garbled, truncated or empty key is refused, naming where it came from, never quoting it
# ---------------------------------------------------------------------------

GOOD = "0f" * 32


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "it is empty"),
        (b"\n", "it is empty"),
        (GOOD[:40].encode() + b"\n", "40 hex digits where a key has 64"),  # cut short
        (GOOD.encode() + b"0\n", "65 hex digits where a key has 64"),
        (b"Zq" + GOOD[2:].encode(), "not all hex digits"),
        (GOOD.encode() + b"\n" + GOOD.encode() + b"\n", "2 lines"),
        (b"\x00\xff" * 16, "not text"),
        (b"case 1234 passphrase\n", "not all hex digits"),  # a passphrase belongs in $IMSVALOG_REDACT_KEY
        (b"2024/03/12 10:00:00 GMT+09:00 [1:2] log line\n" * 200, "bytes where a key file is 65"),  # another file
    ],
)
def test_a_bad_key_file_is_exit_2_naming_the_file_and_never_quoting_it(content: bytes, why: str, tmp_path: Path) -> None:
    key_file = tmp_path / "case.key"
    key_file.write_bytes(content)
    with pytest.raises(InputError, match=re.escape(why)) as exc:
        load_key(key_file, env={})
    assert str(key_file) in str(exc.value)
    secret = content.decode("latin-1").strip()
    for command in (["redact", "fixtures/kb000239719", "--to", str(tmp_path / "out")],
                    ["correlate", "fixtures/kb000239719", "--redact"]):
        r = run(*command, "--key-file", str(key_file))
        assert r.exit_code == 2, r.output
        assert f"{key_file}: not a redaction key file" in r.output and "Traceback" not in r.output
        assert len(r.output.strip().splitlines()) == 1
        if len(secret) >= 8:
            assert secret[:8] not in r.output and secret[-8:] not in r.output
    assert not (tmp_path / "out").exists()  # nothing written
    assert key_file.read_bytes() == content  # and the key file left as it was


def test_a_key_file_that_is_a_folder_or_unreadable_is_exit_2(tmp_path: Path) -> None:
    r = run("redact", "fixtures/kb000239719", "--to", str(tmp_path / "out"), "--key-file", str(tmp_path))
    assert r.exit_code == 2 and "not a regular file" in r.output and "Traceback" not in r.output


@pytest.mark.parametrize(
    ("value", "why"),
    [("", "the redaction key is empty"), ("   \n", "the redaction key is empty"), ("x9!q7", "passphrase is too short"),
     (GOOD[:63], "63 hex digits where a key has 64"), (GOOD + "00", "66 hex digits where a key has 64")],
)
def test_a_bad_env_key_is_exit_2_naming_the_variable(value: str, why: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=re.escape(why)):
        load_key(None, env={"IMSVALOG_REDACT_KEY": value})
    r = run("correlate", "fixtures/kb000239719", "--redact", env={"IMSVALOG_REDACT_KEY": value})
    assert r.exit_code == 2 and "$IMSVALOG_REDACT_KEY" in r.output and why in r.output
    if value.strip():
        assert value.strip() not in r.output


def test_good_keys_still_work_and_never_show(tmp_path: Path) -> None:
    key_file = tmp_path / "case.key"
    key_file.write_text(GOOD.upper() + "\r\n")  # written on Windows, upper case: still the key
    assert load_key(key_file, env={})[0] == bytes.fromhex(GOOD)
    assert load_key(None, env={"IMSVALOG_REDACT_KEY": GOOD})[0] == bytes.fromhex(GOOD)
    assert len(load_key(None, env={"IMSVALOG_REDACT_KEY": "case 1234 passphrase"})[0]) == 32
    r = Redactor(bytes.fromhex(GOOD))
    assert GOOD not in repr(r) and bytes.fromhex(GOOD).hex() not in repr(r) and repr(bytes.fromhex(GOOD)) not in repr(r)
    out = run("redact", "fixtures/kb000239719", "--to", str(tmp_path / "out"), "--key-file", str(key_file), "--verify")
    assert out.exit_code == 0 and GOOD not in out.output.lower()
    for p in (tmp_path / "out").rglob("*"):
        if p.is_file():
            assert GOOD.encode() not in p.read_bytes().lower()
