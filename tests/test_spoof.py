"""The spoofed-internal-messages model, pinned table by table."""

from __future__ import annotations

import ipaddress

import pytest

from imsvalog.errors import InputError
from imsvalog.grammars.received import parse_received, unfold
from imsvalog.spoof import (
    DOCUMENTED,
    SPECIAL_PURPOSE_REGISTRY,
    STRICT,
    MessageInput,
    domain_of,
    evaluate,
    message_from_bytes,
    missing_trusted,
    registry_block,
    unallocated,
    variant,
    what_if,
)
from imsvalog.trusted import TrustedList, parse_entry

KB_HEADERS = [
    "by ie-test057.test.test (Postfix, from userid 0)id DDDFC11FB0C; Tue, 27 Apr 2019 13:57:42 +0900 (JST)",
    "from mail.example.com (unknown [1111:2222:3333:444::5555])        by test-test200.ie.test (Postfix) with ESMTPS "
    "id A581B13803D        for <test@test.test>; Mon,  6 Jun 2016 13:43:08 +0900 (JST)",
]


def hdr(addr: str) -> str:
    return f"from host.example.net (host.example.net [{addr}]) by imsva.example.com (Postfix) with ESMTP id ABCDEF1234"


def one(addr: str, profile: str = "documented"):
    r = evaluate([hdr(addr)], "a@example.com", ["b@example.com"], profile=profile)
    return r


# --- range boundaries -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("addr", "counted", "reason"),
    [
        ("172.15.255.255", True, None),
        ("172.16.0.0", False, "private"),
        ("172.31.255.255", False, "private"),
        ("172.32.0.0", True, None),
        ("10.0.0.0", False, "private"),
        ("10.255.255.255", False, "private"),
        ("11.0.0.0", True, None),
        ("9.255.255.255", True, None),
        ("192.167.255.255", True, None),
        ("192.168.0.0", False, "private"),
        ("192.168.255.255", False, "private"),
        ("192.169.0.0", True, None),
        ("127.0.0.1", False, "loopback"),
        ("127.0.0.2", True, None),
        ("169.254.1.1", True, None),
        ("100.64.0.1", True, None),
        # documentation ranges: Python calls them private, IMSVA counts them
        ("192.0.2.1", True, None),
        ("198.51.100.1", True, None),
        ("203.0.113.1", True, None),
        ("IPv6:2001:db8::1", True, None),
    ],
)
def test_documented_range_boundaries(addr: str, counted: bool, reason: str | None) -> None:
    r = one(addr)
    if counted:
        assert r.count == 1 and not r.skipped
    else:
        assert r.count == 0 and [s.reason for s in r.skipped] == [reason]


@pytest.mark.parametrize(
    ("addr", "flag_part"),
    [
        ("127.0.0.2", "127.0.0.0/8"),
        ("IPv6:::1", "::1"),
        ("IPv6:fd00::5", "fc00::/7"),
        ("IPv6:fe80::1", "fe80::/10"),
        ("169.254.10.1", "169.254.0.0/16"),
        ("100.64.3.4", "100.64.0.0/10"),
    ],
)
def test_special_purpose_addresses_are_counted_and_flagged_then_skipped_by_strict(addr: str, flag_part: str) -> None:
    r = one(addr)
    assert r.count == 1
    assert any(flag_part in w for w in r.warnings)
    assert "counted although special-purpose" in r.explanation
    s = one(addr, "strict")
    assert s.count == 0 and s.skipped[0].reason in {"loopback", "private", "link-local", "special-purpose"}
    assert flag_part.split("/")[0] in s.skipped[0].range


# --- literal forms --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "counted", "form"),
    [
        ("2001:db8:1::25", "2001:db8:1::25", "ipv6"),
        ("IPv6:2001:db8:1::25", "2001:db8:1::25", "ipv6-tagged"),
        ("ipv6:2001:DB8:1:0:0:0:0:25", "2001:db8:1::25", "ipv6-tagged"),
        ("1111:2222:3333:444::5555", "1111:2222:3333:444::5555", "ipv6"),
        ("IPv6:::ffff:198.51.100.7", "::ffff:198.51.100.7", "ipv4-mapped"),
    ],
)
def test_ipv6_literal_forms(literal: str, counted: str, form: str) -> None:
    r = one(literal)
    assert r.counted == [counted]
    assert r.headers[0].taken.form == form


def test_ipv4_mapped_private_address_is_checked_as_ipv4() -> None:
    r = one("IPv6:::ffff:10.1.2.3")
    assert r.count == 0 and r.skipped[0].reason == "private" and "checked as 10.1.2.3" in r.skipped[0].detail


# --- what is taken ----------------------------------------------------------------------------


def test_kb_example() -> None:
    r = evaluate(KB_HEADERS, "test@test", ["test@test.test"], observed=True)
    assert r.counted == ["1111:2222:3333:444::5555"] and r.count == 1
    assert [(s.header, s.reason) for s in r.skipped] == [(1, "no-address")]
    assert r.domain_match is False
    assert r.verdict == "unknown"
    assert "test has domain test" in r.explanation.replace("test@", "")
    assert "Yet IMSVA fired: this disagrees with the documented domain criterion" in r.explanation
    assert "'Get 1 IP address from received header. 1111:2222:3333:444::5555,'" in r.explanation


def test_by_clause_and_bare_helo_addresses_are_visible_but_not_taken() -> None:
    r = evaluate(["from 192.0.2.10 (mail.example.net [198.51.100.7]) by mx.example.com ([198.51.100.9]) with ESMTP"])
    h = r.headers[0]
    assert r.counted == ["198.51.100.7"]
    assert {a.text for a in h.parsed.addresses} == {"192.0.2.10", "198.51.100.7", "198.51.100.9"}
    assert any("192.0.2.10 in the from clause is not in brackets" in n for n in h.notes)
    assert any("198.51.100.9 in the by clause" in n for n in h.notes)


def test_exchange_style_unbracketed_address_is_no_address() -> None:
    r = evaluate(["from EXCH01.corp.example.com (192.0.2.44) by mx1.example.com (Postfix) with ESMTPS id 9D9D9D9D9D"])
    assert r.count == 0 and r.skipped[0].reason == "no-address"
    assert "not in brackets" in r.explanation


def test_duplicates_are_counted_once() -> None:
    r = evaluate([hdr("198.51.100.7"), hdr("203.0.113.5"), hdr("198.51.100.7")])
    assert r.counted == ["198.51.100.7", "203.0.113.5"]
    assert [(s.header, s.reason) for s in r.skipped] == [(3, "duplicate")]


def test_unparsable_bracketed_address() -> None:
    r = evaluate(["from x (x [999.1.1.1]) by y"])
    assert r.skipped[0].reason == "unparsable"


def test_folded_header_with_vanished_whitespace_is_split_into_clauses() -> None:
    h = parse_received(KB_HEADERS[0])
    assert h.clause("by") == "ie-test057.test.test (Postfix, from userid 0)"
    assert h.queue_ids == ("DDDFC11FB0C",)
    assert h.clause("from") is None
    h2 = parse_received(KB_HEADERS[1])
    assert h2.clause("with") == "ESMTPS" and h2.clause("for") == "<test@test.test>"
    assert h2.date is not None and h2.date.utcoffset().total_seconds() == 9 * 3600


@pytest.mark.parametrize(
    ("header", "from_addr", "clauses"),
    [
        # Sendmail
        ("from mail.example.org (mail.example.org [198.51.100.3]) by mx.example.com (8.15.2/8.15.2) with ESMTPS id 2AB3c4De012345 "
         "(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NOT) for <u@example.com>; Mon, 1 Jan 2024 10:00:00 +0100",
         "198.51.100.3", ["from", "by", "with", "id", "for"]),
        # Exim: the address in brackets inside the comment, with helo=
        ("from [203.0.113.8] (helo=laptop) by mx.example.com with esmtpsa (TLS1.3) tls TLS_AES_256_GCM_SHA384 (Exim 4.96) "
         "(envelope-from <a@example.com>) id 1rXyZa-000Abc-2B for b@example.com; Mon, 01 Jan 2024 10:00:00 +0000",
         "203.0.113.8", ["from", "by", "with", "id", "for"]),
        # qmail: unbracketed address, nothing taken
        ("from unknown (HELO mail.example.org) (198.51.100.4) by mx.example.com with SMTP; 1 Jan 2024 10:00:00 -0000", None, ["from", "by", "with"]),
        # qmail local
        ("(qmail 12345 invoked by uid 0); 1 Jan 2024 10:00:00 -0000", None, ["pre"]),
        # Exchange internal hop with via
        ("from EXCH01.corp.example.com (10.1.2.3) by EXCH02.corp.example.com (10.1.2.4) with Microsoft SMTP Server "
         "(version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.1.2176.2 via Frontend Transport; Mon, 1 Jan 2024 10:00:00 +0000",
         None, ["from", "by", "with", "id", "via"]),
        # missing parts
        ("from x", None, ["from"]),
        ("", None, []),
    ],
)
def test_mta_styles(header: str, from_addr: str | None, clauses: list[str]) -> None:
    h = parse_received(header)
    assert [c.name for c in h.clauses] == clauses
    r = evaluate([header])
    assert r.counted == ([from_addr] if from_addr and not from_addr.startswith("10.") else [])


# --- trusted list -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "inside", "outside"),
    [
        ("198.51.100.25", "198.51.100.25", "198.51.100.26"),
        ("203.0.113.0/28", "203.0.113.15", "203.0.113.16"),
        ("192.0.2.10-192.0.2.20", "192.0.2.20", "192.0.2.21"),
        ("192.0.2.10 - 192.0.2.20", "192.0.2.10", "192.0.2.9"),
        ("2001:db8:25::/48", "2001:db8:25:ffff::1", "2001:db8:26::1"),
        ("2001:db8::10-2001:db8::1f", "2001:db8::1f", "2001:db8::20"),
        ("198.51.100.7", "::ffff:198.51.100.7", "::ffff:198.51.100.8"),
    ],
)
def test_trusted_membership(entry: str, inside: str, outside: str) -> None:
    t = TrustedList.parse([entry])
    assert t.match(inside) is not None
    assert t.match(outside) is None


@pytest.mark.parametrize(
    ("entry", "why"),
    [("10.0.0.300", "not an address"), ("10.0.0.9-10.0.0.1", "ends before it starts"), ("10.0.0.1-::1", "mixes IPv4 and IPv6"), ("mx1", "not an address")],
)
def test_bad_trusted_entries_are_named(entry: str, why: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_entry(entry)
    assert entry in str(exc.value) and why in str(exc.value)


def test_trusted_file_comments_and_line_numbers(tmp_path) -> None:
    f = tmp_path / "trusted.txt"
    f.write_text("# edge\n198.51.100.25  # mx1\n\n2001:db8::/32\nnot-an-ip\n")
    with pytest.raises(InputError) as exc:
        TrustedList.from_file(f)
    assert f"{f}:5" in str(exc.value) and "'not-an-ip'" in str(exc.value)
    f.write_text("# edge\n198.51.100.25  # mx1\n\n2001:db8::/32\n")
    assert TrustedList.from_file(f).texts() == ["198.51.100.25", "2001:db8::/32"]


def test_verdicts_with_a_trusted_list() -> None:
    headers = [hdr("198.51.100.25"), hdr("203.0.113.45"), hdr("10.0.0.5")]
    fires = evaluate(headers, "a@example.com", ["b@example.com"], TrustedList.parse(["198.51.100.25"]))
    assert fires.verdict == "fires" and fires.untrusted == ["203.0.113.45"]
    ok = evaluate(headers, "a@example.com", ["b@example.com"], TrustedList.parse(["198.51.100.0/24", "203.0.113.45"]))
    assert ok.verdict == "does-not-fire"
    other_domain = evaluate(headers, "a@example.com", ["b@example.org"], TrustedList.parse(["198.51.100.25"]))
    assert other_domain.verdict == "does-not-fire" and "domains differ" in other_domain.reasons[0]


# --- domains -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "recipient", "match"),
    [
        ("Alice@Example.COM", "bob@example.com", True),
        ("alice@example.com.", "bob@EXAMPLE.com", True),
        ("alice@example.com", "bob@sub.example.com", False),
        ("Alice <alice@example.com>", "Bob <bob@example.com>", True),
        ("test@test", "test@test.test", False),
    ],
)
def test_domain_comparison(sender: str, recipient: str, match: bool) -> None:
    r = evaluate([], sender, [recipient])
    assert r.domain_match is match


def test_multiple_recipients_each_get_a_result() -> None:
    r = evaluate([hdr("203.0.113.5")], "a@example.com", ["b@example.com", "c@partner.example.org"])
    d = r.domains[0]
    assert [(x.recipient, x.match) for x in d.recipients] == [("b@example.com", True), ("c@partner.example.org", False)]
    assert r.domain_match is True


def test_envelope_and_header_from_are_both_evaluated() -> None:
    r = evaluate([hdr("203.0.113.5")], "bounce@mailer.example.net", ["b@example.com"], TrustedList.parse(["198.51.100.1"]),
                 header_from="Alice <alice@example.com>")
    assert [d.match for d in r.domains] == [False, True]
    assert r.verdict == "fires"
    assert "Only the header From shares a recipient's domain" in r.explanation


def test_domain_of_edge_cases() -> None:
    assert domain_of(None) is None and domain_of("nodomain") is None and domain_of("") is None


# --- what-if and suggestions -------------------------------------------------------------------


def test_what_if_between_two_lists_and_profiles() -> None:
    msgs = [
        MessageInput((hdr("198.51.100.25"), hdr("203.0.113.45")), "a@example.com", ("b@example.com",), name="m1"),
        MessageInput((hdr("198.51.100.25"),), "a@example.com", ("b@example.com",), name="m2"),
        MessageInput((hdr("198.51.100.25"), hdr("100.64.1.1")), "a@example.com", ("b@example.com",), name="m3"),
    ]
    before = TrustedList.parse(["198.51.100.25"])
    after = TrustedList.parse(["198.51.100.25", "203.0.113.45"])
    changes = what_if(msgs, (before, "documented"), (after, "documented"))
    assert [(c.name, c.before, c.after) for c in changes] == [("m1", "fires", "does-not-fire")]
    strict = what_if(msgs, (before, "documented"), (before, "strict"))
    assert [(c.name, c.before, c.after) for c in strict] == [("m3", "fires", "does-not-fire")]
    assert "100.64.1.1" in strict[0].why


def test_missing_trusted_counts_and_warns_on_public() -> None:
    t = TrustedList.parse(["198.51.100.25"])
    results = [evaluate([hdr("198.51.100.25"), hdr(a)], "a@example.com", ["b@example.com"], t)
               for a in ("203.0.113.45", "203.0.113.45", "100.64.1.1")]
    got = missing_trusted(results)
    assert [(m.address, m.count, m.public) for m in got] == [("203.0.113.45", 2, True), ("100.64.1.1", 1, False)]
    assert "public address" in got[0].warning and got[1].warning is None


# --- messages -------------------------------------------------------------------------------------


def test_message_from_bytes_unfolds_received_and_finds_addresses() -> None:
    raw = (b"Return-Path: <a@example.com>\r\nReceived: from x (x [198.51.100.1])\r\n\tby y; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
           b"From: A <a@example.com>\r\nTo: b@example.com, C <c@example.com>\r\n\r\nbody\r\n")
    m = message_from_bytes(raw)
    assert m.received == ("from x (x [198.51.100.1])\tby y; Mon, 1 Jan 2024 00:00:00 +0000",)
    assert m.sender == "a@example.com" and m.header_from == "A <a@example.com>"
    assert m.recipients == ("b@example.com", "c@example.com")


@pytest.mark.parametrize("raw", [b"", b"\x00\x01\x02binary", b"just some text\nmore\n", b"Subject: x\n\nno from, no received\n"])
def test_non_mail_is_an_input_error(raw: bytes) -> None:
    with pytest.raises(InputError):
        message_from_bytes(raw)


def test_unfold_keeps_continuation_whitespace() -> None:
    assert unfold("a\r\n  b\n\tc") == "a  b\tc"


@pytest.mark.parametrize(
    ("addr", "block"),
    [
        ("198.18.0.1", "198.18.0.0/15"),
        ("224.0.0.5", "224.0.0.0/4"),
        ("240.0.0.1", "240.0.0.0/4"),
        ("255.255.255.255", "255.255.255.255/32"),  # Limited Broadcast, more specific than 240.0.0.0/4
        ("IPv6:64:ff9b::c000:201", "64:ff9b::/96"),
        ("IPv6:ff02::1", "ff00::/8"),
        ("192.0.0.1", "192.0.0.0/29"),
    ],
)
def test_strict_skips_every_special_purpose_address_ipaddress_knows(addr: str, block: str) -> None:
    """Issue 7, item 7: strict skipped only a hand-made table; these were still counted."""
    s = one(addr, "strict")
    assert s.count == 0 and s.skipped[0].reason in {"loopback", "link-local", "special-purpose"}
    assert s.skipped[0].range.startswith(block + " ")
    d = one(addr)  # documented: counted, with the warning
    assert d.count == 1 and any(w.startswith(d.counted[0]) and block in w for w in d.warnings)


@pytest.mark.parametrize("addr", ["192.0.2.1", "198.51.100.7", "203.0.113.9", "IPv6:2001:db8::25", "8.8.8.8"])
def test_strict_still_counts_documentation_ranges_and_public_addresses(addr: str) -> None:
    assert one(addr, "strict").count == 1 and not one(addr).warnings


# --- the IANA special-purpose registries, block by block (issue 7 leftovers, item 1) ----------------

REGISTRY_NETS = [(ipaddress.ip_network(b), f"{b} {name} ({rfc})") for b, name, rfc in SPECIAL_PURPOSE_REGISTRY]


def _expected(ip) -> str | None:
    """The registry entry naming an address: of the blocks holding it, the longest prefix."""
    holding = [(net.prefixlen, label) for net, label in REGISTRY_NETS if net.version == ip.version and ip in net]
    return max(holding)[1] if holding else None


def _literal(ip) -> str:
    return f"IPv6:{ip}" if ip.version == 6 else str(ip)


def _edges():
    """First and last address of every block, and the neighbours just outside it."""
    for net, _ in REGISTRY_NETS:
        top = 2 ** net.max_prefixlen - 1
        for v in (int(net.network_address) - 1, int(net.network_address), int(net.broadcast_address),
                  int(net.broadcast_address) + 1):
            if 0 <= v <= top:
                yield ipaddress.ip_address(v) if net.version == 4 else ipaddress.IPv6Address(v)


EDGES = sorted(set(_edges()), key=lambda ip: (ip.version, int(ip)))


@pytest.mark.parametrize("ip", EDGES, ids=str)
def test_strict_skips_every_registry_block_by_its_registry_name_and_documented_flags_it(ip) -> None:
    eff = ip.ipv4_mapped if ip.version == 6 and ip.ipv4_mapped is not None else ip  # checked as its IPv4 address
    label = _expected(eff)
    strict, documented, switch = one(_literal(ip), "strict"), one(_literal(ip)), evaluate(
        [hdr(_literal(ip))], "a@example.com", ["b@example.com"], profile=variant(special="skip")
    )
    table = next((r.label for r in DOCUMENTED.skip if r.network.version == eff.version and eff in r.network), None)
    if table is not None:  # IMSVA's documented table comes first, in every profile
        assert [s.skipped[0].range for s in (strict, documented, switch)] == [table] * 3
        return
    if label is None or " Documentation" in label:
        # outside every block, or a documentation block: counted by every profile, no special-purpose warning
        assert strict.count == documented.count == switch.count == 1, (ip, strict.skipped)
        assert not documented.warnings and "counted although special-purpose" not in documented.explanation
        return
    assert strict.count == 0 and strict.skipped[0].range == label
    assert switch.count == 0 and switch.skipped[0].range == label  # the calibrated switch: the same table
    assert documented.count == 1 and documented.warnings == [f"{documented.counted[0]} (header 1) is counted although it is in {label}"]
    assert f"counted although special-purpose: {label};" in documented.explanation


@pytest.mark.parametrize(
    ("addr", "label"),
    [
        # Python's ipaddress lacks these (or names them only "reserved"): strict used to count them
        ("192.0.0.8", "192.0.0.8/32 IPv4 dummy address (RFC 7600)"),
        ("192.0.0.7", "192.0.0.0/29 IPv4 Service Continuity Prefix (RFC 7335)"),
        ("192.0.0.11", "192.0.0.0/24 IETF Protocol Assignments (RFC 6890, section 2.1)"),
        ("192.88.99.1", "192.88.99.0/24 Deprecated (6to4 Relay Anycast) (RFC 7526)"),
        ("192.88.99.2", "192.88.99.2/32 6a44-relay anycast address (RFC 6751)"),
        ("IPv6:2002:c000:201::1", "2002::/16 6to4 (RFC 3056)"),
        ("IPv6:64:ff9b::1", "64:ff9b::/96 IPv4-IPv6 Translat. (RFC 6052)"),
        ("IPv6:100::1", "100::/64 Discard-Only Address Block (RFC 6666)"),
        ("IPv6:2001:1::1", "2001:1::1/128 Port Control Protocol Anycast (RFC 7723)"),
        ("IPv6:2001:1::4", "2001::/23 IETF Protocol Assignments (RFC 2928)"),
        ("IPv6:5f00::1", "5f00::/16 Segment Routing (SRv6) SIDs (RFC 9602)"),
        ("IPv6:ff02::1", "ff00::/8 Multicast (RFC 4291)"),
        ("224.0.0.5", "224.0.0.0/4 Multicast (RFC 5771)"),
    ],
)
def test_strict_names_the_registry_entry(addr: str, label: str) -> None:
    s = one(addr, "strict")
    assert s.count == 0 and s.skipped[0].range == label and s.skipped[0].reason == "special-purpose"
    # skipped by the profile's choice: never "which IMSVA does not count", which only its documented table earns
    assert f"in {label}, which this profile skips (special-purpose; IMSVA documents no such exception)" in s.explanation
    assert "which IMSVA does not count (private)" in one("10.1.2.3", "strict").explanation


@pytest.mark.parametrize(
    ("addr", "block"),
    [("IPv6:1111:2222:3333:444::5555", "1000::/4"), ("IPv6:4000::1", "4000::/3"), ("IPv6:fec0::1", "fec0::/10"),
     ("IPv6:101::1", "100::/8"), ("IPv6:64:ff9c::1", "::/8")],
)
def test_unallocated_ipv6_is_not_special_purpose_and_is_counted_by_every_profile(addr: str, block: str) -> None:
    """The KB address is in 1000::/4, which IANA's IPv6 address space registry lists as "Reserved by
    IETF": unallocated space, in no special-purpose registry. IMSVA counted it; so does every profile."""
    for profile in ("documented", "strict"):
        r = one(addr, profile)
        assert r.count == 1 and not r.warnings, (profile, r.warnings)
        assert "counted although special-purpose" not in r.explanation
        assert f"in {block} Reserved by IETF" in r.explanation
        # withdrawn blocks (site-local fec0::/10) are not allocated today; the rest never was
        assert ("IPv6 space not allocated today (deprecated" if block == "fec0::/10" else "IPv6 space IANA has not allocated") \
            in r.explanation


def test_kb_example_is_counted_without_a_special_purpose_warning() -> None:
    r = evaluate(KB_HEADERS, "test@test", ["test@test.test"])
    assert r.counted == ["1111:2222:3333:444::5555"] and not r.warnings
    assert "1000::/4 Reserved by IETF (RFC 4291)" in r.explanation and "::/3" not in r.explanation


@pytest.mark.parametrize(
    "net",
    [*ipaddress._IPv4Constants._private_networks, ipaddress._IPv4Constants._reserved_network,
     ipaddress._IPv4Constants._multicast_network, ipaddress._IPv4Constants._linklocal_network,
     *ipaddress._IPv6Constants._private_networks, *ipaddress._IPv6Constants._reserved_networks,
     ipaddress._IPv6Constants._multicast_network, ipaddress._IPv6Constants._linklocal_network,
     ipaddress._IPv6Constants._sitelocal_network],
    ids=str,
)
def test_every_block_pythons_ipaddress_singles_out_is_in_the_table_or_unallocated(net) -> None:
    for ip in (net.network_address, net.broadcast_address):
        assert registry_block(ip) is not None or unallocated(ip) is not None, ip


def test_the_table_names_every_block_once_and_parses() -> None:
    nets = [net for net, _ in REGISTRY_NETS]
    assert len(nets) == len(set(nets))
    assert {r.network for r in DOCUMENTED.flag} == {n for n, label in REGISTRY_NETS if " Documentation" not in label}
    assert STRICT.flag == ()


def test_the_same_bracketed_address_twice_needs_no_note_on_which_is_taken() -> None:
    """Attack F6: 'from [172.16.4.7] (unknown [172.16.4.7])' said 'the first (172.16.4.7) is taken, not 172.16.4.7'."""
    from imsvalog.spoof import explain

    same = evaluate(["from [172.16.4.7] (unknown [172.16.4.7]) by mx.example.com with ESMTP id A1; Tue, 12 Mar 2024 09:15:01 +0100"])
    assert not any("more than one bracketed" in n for h in same.headers for n in h.notes)
    assert "is taken, not" not in explain(same)
    two = evaluate(["from [172.16.4.7] (unknown [198.51.100.7]) by mx.example.com with ESMTP id A1; Tue, 12 Mar 2024 09:15:01 +0100"])
    assert "the first (172.16.4.7) is taken, not 198.51.100.7" in explain(two)
