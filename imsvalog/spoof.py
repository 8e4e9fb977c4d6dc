"""The "spoofed internal messages" filter (AntiSpoofFilter), re-run and explained.

What IMSVA documents (KB 000239719, KA-0008015), and so what this model does:

1. Read the Received headers top (newest) to bottom (oldest).
2. From each, take the bracketed address of the ``from`` clause
   (``from host (rdns [ADDR])``).  A header without one (a local submission such
   as ``by host (Postfix, from userid 0)``) gives nothing.  Addresses in ``by``
   clauses, or bare addresses used as HELO names, are visible but not taken.
3. Skip 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 and 127.0.0.1.  What remains is
   what IMSVA logs as ``Get N IP address from received header. a,b,``.
4. Fire when the sender and recipient domains are identical and not every
   remaining address is in the Trusted Internal IP List.

What is *not* documented is said so in every explanation: the other blocks of
IANA's special-purpose registries (:data:`SPECIAL_PURPOSE_REGISTRY`: 127.0.0.0/8
beyond .1, ::1, fc00::/7, fe80::/10, 169.254.0.0/16, 100.64.0.0/10, 2002::/16, ...)
are counted by the documented profile and flagged "counted although
special-purpose"; the ``strict`` profile skips them for a what-if.  Documentation
ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20),
which Python's ``is_private`` calls private, are counted like any public address.
IPv6 space IANA has not allocated (``1000::/4`` etc.) is not special-purpose: it is
counted, with a note.  Repeated addresses are counted once (an assumption).

>>> r = evaluate(["by ie-test057.test.test (Postfix, from userid 0)id DDDFC11FB0C; Tue, 27 Apr 2019 13:57:42 +0900 (JST)",
...               "from mail.example.com (unknown [1111:2222:3333:444::5555])        by test-test200.ie.test (Postfix) with ESMTPS id A581B13803D        for <test@test.test>; Mon,  6 Jun 2016 13:43:08 +0900 (JST)"],
...              sender="test@test", recipients=["test@test.test"])
>>> r.counted, [(s.header, s.reason) for s in r.skipped], r.domain_match, r.verdict
(['1111:2222:3333:444::5555'], [(1, 'no-address')], False, 'unknown')
"""

from __future__ import annotations

import functools
import ipaddress
import itertools
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from email.utils import parseaddr
from typing import Any, Literal

from .errors import InputError
from .grammars.received import (
    AddressLiteral,
    IPAddress,
    ReceivedHeader,
    parse_received,
)
from .trusted import TrustedList

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _net(text: str) -> Network:
    return ipaddress.ip_network(text)


#: what the model says the filter does with a message
Verdict = Literal["fires", "does-not-fire", "unknown"]
#: why an address or header was not counted
SkipReason = Literal["private", "loopback", "link-local", "special-purpose", "no-address", "duplicate", "unparsable"]


@dataclass(frozen=True)
class Range:
    """A named address range and the reason code an address in it is skipped with."""

    network: Network
    reason: SkipReason
    label: str


SpecialPurpose = Literal["flag", "skip"]


@dataclass(frozen=True)
class Profile:
    """Which ranges are skipped, and what happens to the other special-purpose addresses.

    ``skip`` is IMSVA's documented table. Every other special-purpose address (IANA's special-purpose
    registries, see :data:`SPECIAL_PURPOSE_REGISTRY` and :func:`special_purpose`; documentation ranges
    excepted) is counted with a warning (``special="flag"``) or skipped (``special="skip"``).
    """

    name: str
    skip: tuple[Range, ...]
    special: SpecialPurpose = "flag"
    description: str = ""
    #: the model's other uncertain choices (see :data:`SWITCHES`); the defaults are the documented behaviour
    addresses: Literal["bracketed", "unbracketed"] = "bracketed"
    per_header: Literal["first", "every"] = "first"
    duplicates: Literal["once", "each"] = "once"
    order: Literal["newest-first", "oldest-first"] = "newest-first"

    def switches(self) -> dict[str, str]:
        """This profile's value of every switch in :data:`SWITCHES`."""
        return {name: getattr(self, name) for name in SWITCHES}

    @property
    def flag(self) -> tuple[Range, ...]:
        """The blocks counted with a warning: the special-purpose registry (see :data:`SPECIAL`) when ``special="flag"``."""
        return SPECIAL if self.special == "flag" else ()

    def skipped_by(self, ip: IPAddress) -> Range | None:
        return _first(self.skip, ip) or (special_purpose(ip) if self.special == "skip" else None)

    def flagged_by(self, ip: IPAddress) -> Range | None:
        if self.special != "flag" or _first(self.skip, ip) is not None:
            return None
        return special_purpose(ip)


def _first(ranges: Iterable[Range], ip: IPAddress) -> Range | None:
    for r in ranges:
        if ip.version == r.network.version and ip in r.network:
            return r
    return None


_DOCUMENTED_SKIP = (
    Range(_net("10.0.0.0/8"), "private", "10.0.0.0/8 (RFC 1918)"),
    Range(_net("172.16.0.0/12"), "private", "172.16.0.0/12 (RFC 1918)"),
    Range(_net("192.168.0.0/16"), "private", "192.168.0.0/16 (RFC 1918)"),
    Range(_net("127.0.0.1/32"), "loopback", "127.0.0.1 (local address)"),
)

_DOCUMENTED_LABELS = frozenset(r.label for r in _DOCUMENTED_SKIP)

#: IANA's IPv4 and IPv6 Special-Purpose Address Registries (iana-ipv4-special-registry,
#: iana-ipv6-special-registry), every entry as (block, the registry's name, RFC), plus the multicast
#: blocks of IANA's address-space registries (224.0.0.0/4, ff00::/8), which the special-purpose
#: registries leave to their own registries.  Python's :mod:`ipaddress` knows most of these but not
#: all (192.0.0.8/32, 192.88.99.0/24, 2002::/16, ...), and names none, so the table is kept here.
#: Blocks nest (192.0.0.0/24 holds 192.0.0.8/32): the most specific block names an address.
SPECIAL_PURPOSE_REGISTRY: tuple[tuple[str, str, str], ...] = (
    # IPv4 Special-Purpose Address Registry
    ("0.0.0.0/8", '"This network"', "RFC 791, section 3.2"),
    ("0.0.0.0/32", '"This host on this network"', "RFC 1122, section 3.2.1.3"),
    ("10.0.0.0/8", "Private-Use", "RFC 1918"),
    ("100.64.0.0/10", "Shared Address Space", "RFC 6598"),
    ("127.0.0.0/8", "Loopback", "RFC 1122, section 3.2.1.3"),
    ("169.254.0.0/16", "Link Local", "RFC 3927"),
    ("172.16.0.0/12", "Private-Use", "RFC 1918"),
    ("192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890, section 2.1"),
    ("192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335"),
    ("192.0.0.8/32", "IPv4 dummy address", "RFC 7600"),
    ("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723"),
    ("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155"),
    ("192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050"),
    ("192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050"),
    ("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737"),
    ("192.31.196.0/24", "AS112-v4", "RFC 7535"),
    ("192.52.193.0/24", "AMT", "RFC 7450"),
    ("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526"),
    ("192.88.99.2/32", "6a44-relay anycast address", "RFC 6751"),
    ("192.168.0.0/16", "Private-Use", "RFC 1918"),
    ("192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534"),
    ("198.18.0.0/15", "Benchmarking", "RFC 2544"),
    ("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737"),
    ("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737"),
    ("240.0.0.0/4", "Reserved", "RFC 1112, section 4"),
    ("255.255.255.255/32", "Limited Broadcast", "RFC 8190, RFC 919, section 7"),
    # IPv4 Multicast Address Space Registry
    ("224.0.0.0/4", "Multicast", "RFC 5771"),
    # IPv6 Special-Purpose Address Registry
    ("::1/128", "Loopback Address", "RFC 4291"),
    ("::/128", "Unspecified Address", "RFC 4291"),
    ("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291"),
    ("64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052"),
    ("64:ff9b:1::/48", "IPv4-IPv6 Translat.", "RFC 8215"),
    ("100::/64", "Discard-Only Address Block", "RFC 6666"),
    ("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780"),
    ("2001::/23", "IETF Protocol Assignments", "RFC 2928"),
    ("2001::/32", "TEREDO", "RFC 4380, RFC 8190"),
    ("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723"),
    ("2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155"),
    ("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665"),
    ("2001:2::/48", "Benchmarking", "RFC 5180"),
    ("2001:3::/32", "AMT", "RFC 7450"),
    ("2001:4:112::/48", "AS112-v6", "RFC 7535"),
    ("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843"),
    ("2001:20::/28", "ORCHIDv2", "RFC 7343"),
    ("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374"),
    ("2001:db8::/32", "Documentation", "RFC 3849"),
    ("2002::/16", "6to4", "RFC 3056"),
    ("2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534"),
    ("3fff::/20", "Documentation", "RFC 9637"),
    ("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602"),
    ("fc00::/7", "Unique-Local", "RFC 4193, RFC 8190"),
    ("fe80::/10", "Link-Local Unicast", "RFC 4291"),
    # IPv6 Address Space registry
    ("ff00::/8", "Multicast", "RFC 4291"),
)

#: the IPv6 Address Space registry's "Reserved by IETF" blocks: space IANA has not allocated (unicast
#: is given out from 2000::/3 only).  Not special-purpose: nothing in the special-purpose registry
#: covers it, so every profile counts such an address (IMSVA does: the KB's 1111:2222:3333:444::5555
#: is in 1000::/4) and says where it lies in a note.  fec0::/10 is the deprecated site-local block.
UNALLOCATED_V6: tuple[tuple[str, str], ...] = (
    *((b, "RFC 4291") for b in ("::/8", "100::/8")),
    ("200::/7", "RFC 4048"),
    *((b, "RFC 4291") for b in ("400::/6", "800::/5", "1000::/4", "4000::/3", "6000::/3", "8000::/3",
                                "a000::/3", "c000::/3", "e000::/4", "f000::/5", "f800::/6", "fe00::/9")),
    ("fec0::/10", "RFC 3879"),
)
#: blocks of :data:`UNALLOCATED_V6` that were allocated once and withdrawn: "not allocated today", not "yet"
DEPRECATED_V6: dict[str, str] = {
    "fec0::/10": "deprecated: site-local addresses, withdrawn by RFC 3879",
    "200::/7": "deprecated: formerly NSAP addresses, withdrawn by RFC 4048",
}


def _reason(name: str) -> SkipReason:
    if name.startswith("Loopback"):
        return "loopback"
    if name.startswith("Link"):
        return "link-local"
    return "special-purpose"


def _most_specific_first(ranges: Iterable[Range]) -> tuple[Range, ...]:
    return tuple(sorted(ranges, key=lambda r: (r.network.version, -r.network.prefixlen)))


#: every registry block as a :class:`Range`, most specific first; the label is "block name (RFC)"
REGISTRY: tuple[Range, ...] = _most_specific_first(
    Range(_net(block), _reason(name), f"{block} {name} ({rfc})") for block, name, rfc in SPECIAL_PURPOSE_REGISTRY
)
#: the registry's documentation blocks: IMSVA counts them like public addresses (they are the fixtures' addresses)
DOCUMENTATION: tuple[Range, ...] = tuple(r for r in REGISTRY if " Documentation" in r.label)
#: the blocks the profiles treat as special-purpose: the registry without its documentation blocks
SPECIAL: tuple[Range, ...] = tuple(r for r in REGISTRY if r not in DOCUMENTATION)
_UNALLOCATED: tuple[Range, ...] = _most_specific_first(
    Range(_net(b), "special-purpose", f"{b} Reserved by IETF ({rfc})") for b, rfc in UNALLOCATED_V6
)


@functools.lru_cache(maxsize=4096)
def registry_block(ip: IPAddress) -> Range | None:
    """The most specific block of :data:`SPECIAL_PURPOSE_REGISTRY` holding an address, documentation included."""
    return _first(REGISTRY, ip)


def special_purpose(ip: IPAddress) -> Range | None:
    """The special-purpose block an address is in (the most specific registry entry), or None.

    Documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20)
    are not special here: IMSVA counts them like any public address.

    >>> [special_purpose(ipaddress.ip_address(a)).label for a in ("198.18.0.1", "192.0.0.8", "ff02::1")]
    ['198.18.0.0/15 Benchmarking (RFC 2544)', '192.0.0.8/32 IPv4 dummy address (RFC 7600)', 'ff00::/8 Multicast (RFC 4291)']
    >>> special_purpose(ipaddress.ip_address("192.0.2.1")) is None
    True
    """
    block = registry_block(ip)
    return None if block is None or block in DOCUMENTATION else block


def unallocated(ip: IPAddress) -> Range | None:
    """The IPv6 block IANA has not allocated ("Reserved by IETF") that holds an address outside every
    special-purpose block, or None.  Not a reason to skip it: a note that it is not an Internet address today.

    >>> unallocated(ipaddress.ip_address("1111:2222:3333:444::5555")).label
    '1000::/4 Reserved by IETF (RFC 4291)'
    >>> unallocated(ipaddress.ip_address("::1")) is None  # the Loopback Address, special-purpose
    True
    """
    if ip.version != 6 or registry_block(ip) is not None:
        return None
    return _first(_UNALLOCATED, ip)


#: IMSVA's documented behaviour (the default)
DOCUMENTED = Profile(
    "documented",
    skip=_DOCUMENTED_SKIP,
    special="flag",
    description="skips 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 and 127.0.0.1, as documented",
)
#: what-if: also skip every special-purpose address (IANA's registries, :data:`SPECIAL_PURPOSE_REGISTRY`)
STRICT = Profile(
    "strict",
    skip=_DOCUMENTED_SKIP,
    special="skip",
    description="also skips every other address in IANA's special-purpose registries (loopback, link-local, "
    "shared, benchmarking, 6to4, NAT64, ...) and multicast (224.0.0.0/4, ff00::/8: IANA's multicast registries, "
    "not the special-purpose ones); documentation ranges stay counted",
)
PROFILES = {p.name: p for p in (DOCUMENTED, STRICT)}

#: the model's uncertain choices, each with its values, the documented one first
SWITCHES: dict[str, tuple[str, ...]] = {
    # only bracketed addresses of the from clause, or also unbracketed ones (Exchange/qmail "(192.0.2.44)", HELO literals)
    "addresses": ("bracketed", "unbracketed"),
    # the first address of the from clause, or every one
    "per_header": ("first", "every"),
    # an address seen in several headers counted once, or each time
    "duplicates": ("once", "each"),
    # special-purpose addresses beyond the documented table counted (with a warning) or skipped
    "special": ("flag", "skip"),
    # headers read newest (top) first, as documented, or oldest first
    "order": ("newest-first", "oldest-first"),
}


def variant(**switches: str) -> Profile:
    """The documented model with some switches changed, named after them.

    >>> variant(addresses="unbracketed").name
    'documented+addresses=unbracketed'
    >>> variant(special="skip").skipped_by(ipaddress.ip_address("169.254.1.1")).reason
    'link-local'
    """
    for k, v in switches.items():
        if k not in SWITCHES or v not in SWITCHES[k]:
            choices = "; ".join(f"{n}={'|'.join(vs)}" for n, vs in SWITCHES.items())
            raise InputError(f"unknown model switch {k}={v}; expected {choices}")
    changed = {k: v for k, v in switches.items() if v != SWITCHES[k][0]}
    name = "+".join(["documented", *(f"{k}={changed[k]}" for k in SWITCHES if k in changed)])
    words = ", ".join(f"{k}={v}" for k, v in changed.items()) or "the documented choices"
    return replace(DOCUMENTED, name=name, description=f"the documented model with {words}", **changed)  # type: ignore[arg-type]


def variants() -> list[Profile]:
    """Every combination of the switches, the documented model first."""
    return [variant(**dict(zip(SWITCHES, values, strict=True))) for values in itertools.product(*SWITCHES.values())]


def get_profile(name: str | Profile) -> Profile:
    """A profile by name: ``documented``, ``strict``, or a variant's name (``documented+addresses=unbracketed``)."""
    if isinstance(name, Profile):
        return name
    if name in PROFILES:
        return PROFILES[name]
    if name.startswith("documented+"):
        pairs = [p.partition("=") for p in name.split("+")[1:]]
        if all(eq for _, eq, _ in pairs):
            return variant(**{k: v for k, _, v in pairs})
    raise InputError(f"unknown profile {name!r}; expected one of {', '.join(PROFILES)} or a variant (documented+SWITCH=VALUE...)")


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)  # thousands live in a correlation's rows
class Skip:
    """An address or header that was not counted, and why."""

    header: int  # 1-based, top (newest) first
    address: str | None
    reason: SkipReason
    range: str | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"header": self.header, "address": self.address, "reason": self.reason, "range": self.range, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class HeaderResult:
    """What the filter does with one Received header."""

    index: int
    text: str
    parsed: ReceivedHeader
    taken: AddressLiteral | None
    counted: str | None
    skip: Skip | None
    notes: tuple[str, ...]
    trusted_by: str | None = None  # the trusted-list entry that covers the counted address


@dataclass(frozen=True, slots=True)
class RecipientDomain:
    recipient: str
    domain: str | None
    match: bool | None


@dataclass(frozen=True, slots=True)
class DomainCheck:
    """Sender domain against each recipient domain (case-insensitive, trailing dot ignored)."""

    source: str  # "envelope" or "header-from"
    sender: str | None
    sender_domain: str | None
    recipients: tuple[RecipientDomain, ...]

    @property
    def match(self) -> bool | None:
        """True if some recipient shares the sender's domain; False if every recipient's domain is known
        and differs; None (unknown) otherwise: a recipient without a domain is unknown, never "different"."""
        if self.sender_domain is None or not self.recipients:
            return None
        return any_known(r.match for r in self.recipients)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sender": self.sender,
            "sender_domain": self.sender_domain,
            "match": self.match,
            "recipients": [{"recipient": r.recipient, "domain": r.domain, "match": r.match} for r in self.recipients],
        }


@dataclass(frozen=True, slots=True)
class SpoofResult:
    """The filter re-run on one message: counted addresses, skips, domains, verdict, explanation."""

    headers: tuple[HeaderResult, ...]
    counted: list[str]
    skipped: list[Skip]
    domains: tuple[DomainCheck, ...]
    profile: str
    trusted_given: bool
    untrusted: list[str]
    verdict: Verdict
    reasons: list[str]
    warnings: list[str] = field(default_factory=list)
    observed: bool | None = None  # what IMSVA did, when known
    #: the order in which the profile reads the Received headers (``headers`` is in that order)
    order: str = "newest-first"
    #: False when IMSVA read Received headers that its log does not show (it counted addresses, no header line
    #: was logged): the model then cannot count, and ``counted`` is empty for want of headers, not of addresses
    headers_logged: bool = True
    #: why IMSVA's own lines put ``observed`` in doubt (a 'Not triggered' verdict that the spoof policy event linked
    #: to the scan contradicts), in words; None when they do not. The explanation then draws nothing from it
    observed_doubt: str | None = None
    #: why the headers may be incomplete: the scan's lines end before IMSVA logged its count (a file not given or not
    #: read to its end, the end of the log), so a header after the last one logged may be missing; None when not so
    headers_cut: str | None = None

    @property
    def count(self) -> int:
        return len(self.counted)

    @property
    def domain_match(self) -> bool | None:
        return any_known(d.match for d in self.domains) if self.domains else None

    @property
    def triggered(self) -> bool | None:
        """The verdict as a boolean: None when unknown."""
        return {"fires": True, "does-not-fire": False}.get(self.verdict)

    @property
    def explanation(self) -> str:
        return explain(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "counted": self.counted if self.headers_logged else None,  # unknown without the headers
            "count": self.count if self.headers_logged else None,
            "skipped": [s.to_dict() for s in self.skipped],
            "headers": [
                {
                    "index": h.index,
                    "header": h.text,
                    "clauses": {c.name: c.text for c in h.parsed.clauses},
                    "addresses": [
                        {"address": a.text, "clause": a.clause, "bracketed": a.bracketed, "form": a.form, "valid": a.valid}
                        for a in h.parsed.addresses
                    ],
                    "taken": h.taken.text if h.taken else None,
                    "counted": h.counted,
                    "trusted_by": h.trusted_by,
                    "notes": list(h.notes),
                }
                for h in self.headers
            ],
            "domain_match": self.domain_match,
            "domains": [d.to_dict() for d in self.domains],
            "profile": self.profile,
            "trusted_list_given": self.trusted_given,
            "untrusted": self.untrusted,
            "verdict": self.verdict,
            "reasons": self.reasons,
            "warnings": self.warnings,
            "observed": self.observed,
            "observed_contradiction": observed_contradiction(self),
            "explanation": self.explanation,
        }


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------


def any_known(values: Iterable[bool | None]) -> bool | None:
    """OR over values that may be unknown: True if one is True, else None if one is unknown, else False.

    >>> any_known([False, None]), any_known([None, True]), any_known([False, False])
    (None, True, False)
    """
    out: bool | None = False
    for v in values:
        if v is True:
            return True
        if v is None:
            out = None
    return out


@functools.lru_cache(maxsize=1 << 14)
def domain_of(address: str | None) -> str | None:
    """Domain of an address, lower-cased, trailing dot removed.

    >>> domain_of("Bob <bob@Example.COM.>")
    'example.com'
    """
    if not address:
        return None
    _, addr = parseaddr(address)
    addr = addr or address
    if "@" not in addr:
        return None
    domain = addr.rsplit("@", 1)[1].strip().strip(">").rstrip(".").lower()
    return domain or None


@functools.lru_cache(maxsize=1 << 14)
def idna_form(domain: str) -> str:
    """A domain in its IDNA (punycode) lower-case form, so that ``exämple.com`` and ``xn--exmple-cua.com``
    compare equal; a domain the IDNA codec refuses is kept as given (lower-cased).

    >>> idna_form("exämple.com"), idna_form("XN--EXMPLE-CUA.com")
    ('xn--exmple-cua.com', 'xn--exmple-cua.com')
    """
    try:
        return domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return domain.lower()


def check_domains(source: str, sender: str | None, recipients: Sequence[str]) -> DomainCheck:
    sd = domain_of(sender)
    rows = []
    for r in recipients:
        rd = domain_of(r)
        rows.append(RecipientDomain(r, rd, None if sd is None or rd is None else idna_form(sd) == idna_form(rd)))
    return DomainCheck(source, sender, sd, tuple(rows))


def _taken_addresses(h: ReceivedHeader, prof: Profile) -> tuple[list[AddressLiteral], list[str]]:
    """The from-clause addresses the model takes (documented: the first bracketed one), and notes on the rest."""
    notes: list[str] = []
    from_addrs = h.in_clause("from")
    usable = [a for a in from_addrs if a.bracketed or prof.addresses == "unbracketed"]
    taken = usable if prof.per_header == "every" else usable[:1]
    bracketed = [a for a in from_addrs if a.bracketed]
    first = bracketed[0] if bracketed else None
    # the same address twice (``[172.16.4.7] (unknown [172.16.4.7])``) leaves no choice to note
    differing = list(dict.fromkeys(a.text for a in bracketed[1:] if (a.address or a.text) != (first.address or first.text))) if first else []
    if differing and prof.per_header == "first":
        others = ", ".join(differing)
        notes.append(
            f"the from clause holds more than one bracketed address; the first ({bracketed[0].text}) is taken, "
            f"not {others} (IMSVA's choice here is not documented)"
        )
    for a in from_addrs:
        if not a.bracketed and a in taken:
            notes.append(f"{a.text} in the from clause is not in brackets: taken (this profile reads unbracketed addresses)")
        elif not a.bracketed:
            notes.append(
                f"{a.text} in the from clause is not in brackets (a HELO name or an Exchange/qmail-style comment): "
                "visible but not taken"
            )
    for a in h.addresses:
        if a.clause != "from":
            notes.append(f"{a.text} in the {a.clause} clause: visible but not taken (only the from clause counts)")
    return taken, notes


def show_ip(ip: IPAddress) -> str:
    """An address as text; IPv4-mapped IPv6 keeps its dotted tail.

    >>> show_ip(ipaddress.ip_address("::ffff:198.51.100.7")), show_ip(ipaddress.ip_address("2001:DB8::0:1"))
    ('::ffff:198.51.100.7', '2001:db8::1')
    """
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return f"::ffff:{ip.ipv4_mapped}"
    return str(ip)


#: per profile (by identity, the profile kept so that its id is not reused): address literal text -> facts
_FACTS: dict[int, tuple[Profile, dict[str, tuple[Any, ...]]]] = {}


def _address_facts(
    prof: Profile, taken: AddressLiteral
) -> tuple[IPAddress, tuple[int, int], str, Range | None, Range | None, Range | None]:
    """What the model needs of a valid address literal under ``prof``: the address ranges are checked
    on (IPv4 for an IPv4-mapped one), its identity for the duplicate check, how it is shown, the range
    that skips it, the special-purpose block it is flagged for, the unallocated IPv6 block it is in.

    A pure function of the profile and the literal's text (its address is parsed from the text), so
    kept per distinct text: a log repeats few addresses, and range checks with :mod:`ipaddress` cost.
    """
    entry = _FACTS.get(id(prof))
    if entry is None or entry[0] is not prof:
        if len(_FACTS) >= 64:
            _FACTS.clear()
        entry = _FACTS[id(prof)] = (prof, {})
    table = entry[1]
    facts = table.get(taken.text)
    if facts is None:
        ip = taken.effective
        assert ip is not None and taken.address is not None
        facts = (ip, (ip.version, int(ip)), show_ip(taken.address), prof.skipped_by(ip), prof.flagged_by(ip), unallocated(ip))
        if len(table) >= 1 << 14:
            table.clear()
        table[taken.text] = facts
    return facts  # type: ignore[return-value]


def evaluate(
    received: Sequence[str],
    sender: str | None = None,
    recipients: Sequence[str] = (),
    trusted: TrustedList | None = None,
    profile: str | Profile = DOCUMENTED,
    header_from: str | None = None,
    observed: bool | None = None,
    headers_logged: bool = True,
    observed_doubt: str | None = None,
    headers_cut: str | None = None,
) -> SpoofResult:
    """Re-run the filter on Received headers (top, newest, first).  Never raises on header text.

    ``observed`` is what IMSVA did, when known (True: it fired); the explanation
    then says where the documented behaviour disagrees with it, unless IMSVA's own lines put it in doubt
    (``observed_doubt``: why, in words; then it says so and draws nothing from it). ``headers_logged=False``: the message's
    headers are not known (IMSVA read some, its log shows none), so what the model counts is unknown and
    only the domain criterion can decide the verdict.  ``headers_cut``: the scan's lines end before IMSVA logged how many
    addresses it counted (why, in words): a header after the last one given may be missing, so the same holds.
    """
    prof = get_profile(profile)
    if headers_cut is not None:
        headers_logged = False
    headers: list[HeaderResult] = []
    counted: list[str] = []
    seen: dict[tuple[int, int], int] = {}  # (version, address as an integer): the header that counted it first
    skipped: list[Skip] = []
    untrusted: list[str] = []
    warnings: list[str] = []
    numbered = list(enumerate(received, 1))
    if prof.order == "oldest-first":
        numbered.reverse()
    for i, text in numbered:
        parsed = parse_received(text)
        taken_all, notes = _taken_addresses(parsed, prof)
        if not taken_all:
            if parsed.clause("from") is None:
                why = "the header has no from clause (a local submission or a header cut short)"
            else:
                why = "the from clause has no bracketed address"
            none = Skip(i, None, "no-address", None, why)
            skipped.append(none)
            headers.append(HeaderResult(i, text, parsed, None, None, none, tuple(notes)))
            continue
        for taken in taken_all:
            notes_here = list(notes)
            skip = None
            counted_text = trusted_by = None
            if taken.address is None:
                skip = Skip(i, taken.text, "unparsable", None, f"[{taken.text}] is not a valid IPv4 or IPv6 address")
            else:
                ip, key, shown, rng, flag, spare = _address_facts(prof, taken)
                if rng is not None:
                    mapped = f" (IPv4-mapped; checked as {ip})" if ip != taken.address else ""
                    skip = Skip(i, shown, rng.reason, rng.label, f"in {rng.label}{mapped}")
                elif key in seen and prof.duplicates == "once":
                    skip = Skip(i, shown, "duplicate", None, f"already counted from header {seen[key]}")
                else:
                    if key in seen:
                        notes_here.append(f"already counted from header {seen[key]}; this profile counts it again")
                    seen.setdefault(key, i)
                    counted_text = shown
                    counted.append(shown)
                    if flag is not None:
                        notes_here.append(
                            f"counted although special-purpose: {flag.label}; IMSVA documents no exception for it"
                        )
                        warnings.append(f"{shown} (header {i}) is counted although it is in {flag.label}")
                    if spare is not None:
                        gone = DEPRECATED_V6.get(str(spare.network))
                        notes_here.append(
                            f"in {spare.label}: "
                            + (f"IPv6 space not allocated today ({gone})" if gone else "IPv6 space IANA has not allocated yet")
                            + "; no special-purpose registry lists it, so every profile counts it"
                        )
                    if ip != taken.address:
                        notes_here.append(f"IPv4-mapped IPv6 address; ranges checked as {ip}")
                    if trusted is not None:
                        entry = trusted.match(taken.address)
                        if entry is not None:
                            trusted_by = f"{entry.text} ({entry.origin})"
                        elif shown not in untrusted:
                            untrusted.append(shown)
            if skip is not None:
                skipped.append(skip)
            headers.append(HeaderResult(i, text, parsed, taken, counted_text, skip, tuple(notes_here), trusted_by))

    domains = [check_domains("envelope", sender, recipients)] if sender is not None or recipients else []
    if header_from is not None:
        domains.append(check_domains("header-from", header_from, recipients))
    domain_match = any_known(d.match for d in domains) if domains else None

    reasons: list[str] = []
    if domain_match is False:
        reasons.append("sender and recipient domains differ")
    if headers_cut is not None:
        reasons.append(f"the scan's lines end before IMSVA logged its count ({headers_cut}): a Received header after the "
                       "last one logged may be missing, so the counted addresses are unknown")
    elif not headers_logged:
        reasons.append("the Received headers are not in the log, so the counted addresses are unknown" if not received
                       else "a Received header line is missing from the log, so the counted addresses are unknown")
    elif not counted:
        reasons.append("no address is counted")
    verdict: Verdict
    if not headers_logged and domain_match is not False:
        verdict = "unknown"
    elif trusted is None:
        verdict = "unknown"
        reasons.append("no Trusted Internal IP List given")
    elif domain_match is None:
        verdict = "unknown"
        reasons.append("sender or recipients unknown, so the domain criterion cannot be checked")
    elif domain_match is False or not counted:
        verdict = "does-not-fire"
    elif untrusted and trusted.partial:  # the appliance's own list, not known, plus some entries
        verdict = "unknown"
        reasons.append("not covered by the entries added to the appliance's list, which is not known: "
                       + ", ".join(untrusted))
    elif untrusted:
        verdict = "fires"
        reasons.append("not in the trusted list: " + ", ".join(untrusted))
    else:
        verdict = "does-not-fire"
        reasons.append("every counted address is in the trusted list")
    return SpoofResult(
        tuple(headers), counted, skipped, tuple(domains), prof.name, trusted is not None, untrusted, verdict, reasons,
        warnings, observed, prof.order, headers_logged, observed_doubt, headers_cut,
    )


# ---------------------------------------------------------------------------
# Explanation
# ---------------------------------------------------------------------------


def _short(text: str, width: int = 300) -> str:
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 1] + "…"


def _addr_list(items: Sequence[str]) -> str:
    return ", ".join(items) if items else "none"


def explain(r: SpoofResult) -> str:
    """Plain sentences, header by header, that an engineer can paste into a ticket."""
    order = r.order.replace("-", " ")
    lines = [f"Received headers, {order}, as IMSVA reads them ({r.profile} profile):"]
    if r.headers_cut is not None:
        lines.append(f"  (maybe incomplete: the scan's lines end before IMSVA logged how many addresses it counted "
                     f"({r.headers_cut}), so a header after these may be missing and the model cannot count them)")
    elif not r.headers_logged and r.headers:
        lines.append("  (incomplete: IMSVA counted an address that none of the headers below holds, so a header line "
                     "is missing from the log and the model cannot count them)")
    elif not r.headers_logged:
        lines.append("  (not in the log: IMSVA counted addresses from them, but no 'parse received header string' "
                     "line of this scan was logged, so the model cannot count them)")
    elif not r.headers:
        lines.append("  (none: the message has no Received header)")
    for h in r.headers:
        lines.append(f"  {h.index}. {_short(h.text)}")
        if h.counted is not None:
            how = f"counted {h.counted}: the bracketed address of the from clause"
            if h.trusted_by:
                how += f"; in the trusted list ({h.trusted_by})"
            elif r.trusted_given:
                how += "; NOT in the trusted list"
            lines.append(f"     {how}.")
        elif h.skip is not None:
            s = h.skip
            if s.reason == "no-address":
                lines.append(f"     no address taken: {s.detail}.")
            elif s.reason == "duplicate":
                lines.append(f"     {s.address} not counted again: {s.detail}.")
            elif s.reason == "unparsable":
                lines.append(f"     not counted: {s.detail}.")
            elif s.range in _DOCUMENTED_LABELS and ":" in (s.address or ""):  # an IPv4-mapped IPv6 address
                lines.append(
                    f"     skipped {s.address}: {s.detail}; IMSVA documents not counting {s.range} ({s.reason}) for "
                    "IPv4 addresses, and that it checks the IPv4-mapped form the same way is assumed (undocumented)."
                )
            elif s.range in _DOCUMENTED_LABELS:
                lines.append(f"     skipped {s.address}: {s.detail}, which IMSVA does not count ({s.reason}).")
            else:  # a special-purpose block: skipped by this profile's choice, not by IMSVA's documentation
                lines.append(
                    f"     skipped {s.address}: {s.detail}, which this profile skips ({s.reason}; "
                    "IMSVA documents no such exception)."
                )
        for note in h.notes:
            lines.append(f"     note: {note}.")
    n = r.count
    if r.headers_logged:
        lines.append(
            f"IMSVA counts {n} address{'es' if n != 1 else ''}: {_addr_list(r.counted)}"
            f" (it would log 'Get {n} IP address from received header. {''.join(a + ',' for a in r.counted)}')."
        )
    for d in r.domains:
        who = "envelope sender" if d.source == "envelope" else "header From"
        if d.sender is None:
            lines.append(f"Domains: the {who} is not known; the domain criterion cannot be checked with it.")
            continue
        if d.sender_domain is None:
            lines.append(f"Domains: the {who} {d.sender or '(empty)'} has no domain; the domain criterion cannot be checked with it.")
            continue
        parts = []
        for rd in d.recipients:
            if rd.match is None:
                parts.append(f"{rd.recipient} (no domain: unknown)")
            else:
                parts.append(f"{rd.recipient} ({rd.domain}: {'same domain' if rd.match else 'different domain'})")
        lines.append(
            f"Domains ({who}): {d.sender} has domain {d.sender_domain}; recipients: "
            + ("; ".join(parts) if parts else "none known")
            + "."
        )
    if r.domain_match is False:
        lines.append(
            "The filter is documented to fire only when sender and recipient domains are identical, "
            "so by the documentation it should not fire for this message."
        )
        if r.observed and any(d.source == "header-from" for d in r.domains):
            lines.append(
                "Yet IMSVA fired, although neither the envelope sender nor the header From shares a recipient's "
                "domain: IMSVA's domain check differs from its documentation here, or the addresses were anonymised."
            )
        elif r.observed:
            lines.append(
                "Yet IMSVA fired: this disagrees with the documented domain criterion. Either IMSVA compares "
                "the header From (RFC 5322), which polevt does not show, rather than the envelope sender, "
                "or the addresses in these logs were anonymised."
            )
    both = [d for d in r.domains if d.match is not None]
    if len(both) == 2 and both[0].match != both[1].match:
        firing = "envelope sender" if both[0].match else "header From"
        lines.append(f"Only the {firing} shares a recipient's domain: the filter fires only if IMSVA compares that one.")
    if r.verdict == "fires":
        lines.append(f"The model's verdict: fires. Not in the Trusted Internal IP List: {_addr_list(r.untrusted)}.")
    elif r.verdict == "does-not-fire":
        lines.append("The model's verdict: does not fire (" + "; ".join(r.reasons) + ").")
    else:
        tail = _unknown_tail(r) if r.counted and not r.trusted_given and r.headers_logged else ""  # count known
        lines.append("The model's verdict: unknown (" + "; ".join(r.reasons) + ")." + tail)
    contradiction = observed_contradiction(r)
    if contradiction:
        lines.append(contradiction)
    elif r.observed_doubt is not None and r.verdict in ("fires", "does-not-fire"):
        lines.append(_doubt(r))
    for w in r.warnings:
        lines.append(f"Warning: {w}; if IMSVA skips it, the logged count will be lower than ours.")
    return "\n".join(lines)


def _unknown_tail(r: SpoofResult) -> str:
    """After an unknown verdict for want of the trusted list: what the list would have to be, read with what IMSVA
    did when that is known (the model's condition must not read as a forecast against IMSVA's own outcome)."""
    one = len(r.counted) == 1
    them = r.counted[0] if one else f"at least one of {_addr_list(r.counted)}"
    if r.observed is None:
        return f" It fires if any of {_addr_list(r.counted)} is missing from the list (and the domains match)."
    if r.observed_doubt is not None:
        return f" IMSVA's verdict is in doubt: {r.observed_doubt}, so this scan does not tell its list."
    if r.observed:
        return (f" IMSVA fired: if it counted as the model does, {them} is missing from its Trusted "
                "Internal IP List.")
    if r.domain_match is False:
        return " IMSVA did not fire, as the documented domain criterion says: this scan does not tell its list."
    every = r.counted[0] if one else f"each of {_addr_list(r.counted)}"
    return (f" IMSVA did not fire: if it counted as the model does, {every} is in its Trusted Internal IP List"
            + (", or the domain criterion did not hold." if r.domain_match is not True else "."))


def _doubt(r: SpoofResult) -> str:
    """The sentence for a verdict computed with a trusted list when what IMSVA did is in doubt (``observed_doubt``)."""
    says = "fires" if r.verdict == "fires" else "does not fire"
    return (f"IN DOUBT: {r.observed_doubt[0].upper()}{r.observed_doubt[1:]}; the model with the given trusted list "  # type: ignore[index]
            f"{says}, so it is not compared with IMSVA's verdict, and this scan does not tell what the appliance's "
            "list held.")


def observed_contradiction(r: SpoofResult) -> str | None:
    """The sentence that says the observation contradicts a verdict computed with a trusted list, or None (also when
    the observation is in doubt: :attr:`SpoofResult.observed_doubt`)."""
    if (r.observed is None or r.observed_doubt is not None or r.verdict not in ("fires", "does-not-fire")
            or (r.verdict == "fires") == r.observed):
        return None
    did = "fired" if r.observed else "did not fire"
    says = "fires" if r.verdict == "fires" else "does not fire"
    if r.observed and r.domain_match is False:
        because = "the domain criterion (see above)"
    elif r.observed:
        because = (f"the trusted list: every counted address ({_addr_list(r.counted)}) is in the given list, so the "
                   "appliance's list lacked one of them, or IMSVA counted an address the model does not") if r.counted \
            else "the counted addresses: the model counts none, IMSVA evidently counted one"
    else:
        because = (f"the trusted list: the appliance's list evidently held {_addr_list(r.untrusted)}, which the given "
                   "list lacks, or IMSVA did not count it")
    return (f"CONTRADICTION: IMSVA {did}, but the model with the given trusted list {says}. "
            f"The difference lies in {because}.")


# ---------------------------------------------------------------------------
# What-if and suggestions
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageInput:
    """What the filter needs to know about one message."""

    received: tuple[str, ...]
    sender: str | None = None
    recipients: tuple[str, ...] = ()
    header_from: str | None = None
    name: str = ""
    #: False when IMSVA read headers its log does not show; ``headers_cut``: why the headers may be incomplete (the
    #: scan's lines end before IMSVA logged its count): as :func:`evaluate` takes them, so a what-if keeps the unknown
    headers_logged: bool = True
    headers_cut: str | None = None

    def override(self, sender: str | None = None, recipients: Sequence[str] = ()) -> MessageInput:
        """The same message with the envelope sender and/or recipients given by the user."""
        return replace(
            self,
            sender=sender if sender is not None else self.sender,
            recipients=tuple(recipients) if recipients else self.recipients,
        )

    def evaluate(
        self, trusted: TrustedList | None = None, profile: str | Profile = DOCUMENTED, observed: bool | None = None
    ) -> SpoofResult:
        return evaluate(self.received, self.sender, self.recipients, trusted, profile, self.header_from, observed,
                        headers_logged=self.headers_logged, headers_cut=self.headers_cut)


@dataclass(frozen=True)
class VerdictChange:
    name: str
    before: str
    after: str
    why: str
    #: which address list the change was computed from: IMSVA's ``logged`` list or the model's ``recomputed`` one
    basis: str = "recomputed"


def what_if(
    messages: Iterable[MessageInput],
    before: tuple[TrustedList | None, str | Profile] = (None, DOCUMENTED),
    after: tuple[TrustedList | None, str | Profile] = (None, DOCUMENTED),
    every: bool = False,
) -> list[VerdictChange]:
    """Which verdicts change between two (trusted list, profile) settings, and why (also a verdict that stays the same
    where the addresses counted change: the verdict may then change). ``every=True``: one entry per message."""
    changes = []
    for m in messages:
        a = m.evaluate(*before)
        b = m.evaluate(*after)
        if a.verdict == b.verdict and a.counted == b.counted and not every:
            continue
        why = []
        if a.counted != b.counted:
            why.append(f"counted {_addr_list(a.counted)} -> {_addr_list(b.counted)}")
        if a.untrusted != b.untrusted:
            # a partial list (the appliance's own, not known, plus entries): an address no entry covers may be in it
            said = "not covered by the known entries" if any(t is not None and t.partial for t in (before[0], after[0])) \
                else "untrusted"
            why.append(f"{said} {_addr_list(a.untrusted)} -> {_addr_list(b.untrusted)}")
        changes.append(VerdictChange(m.name, a.verdict, b.verdict, "; ".join(why) or "; ".join(b.reasons)))
    return changes


@dataclass(frozen=True)
class MissingTrusted:
    """An untrusted address that made the filter fire, how often, and a caution."""

    address: str
    count: int
    public: bool
    warning: str | None
    #: of ``count``, how many messages had the address in IMSVA's own logged list (the rest: recomputed)
    logged: int = 0


def missing_trusted(results: Iterable[SpoofResult]) -> list[MissingTrusted]:
    """The untrusted addresses behind 'fires' verdicts, most frequent first: candidates for the list.

    A public address is flagged: add it only if it is one of your own edge MTAs
    (or a relay you operate); trusting someone else's relay lets spoofed mail through.
    """
    counts: Counter[str] = Counter()
    for r in results:
        if r.verdict == "fires":
            counts.update(r.untrusted)
    return [MissingTrusted(addr, n, *public_warning(addr)) for addr, n in counts.most_common()]


def public_warning(addr: str) -> tuple[bool, str | None]:
    """Is the address public (documentation ranges count as public), and the caution to give if so."""
    ip = ipaddress.ip_address(addr)
    public = bool(ip.is_global) or _is_documentation(ip)
    warning = f"{addr} is a public address: trust it only if it is one of your own MTAs or relays" if public else None
    return public, warning


_DOC_NETS = tuple(r.network for r in DOCUMENTATION)


def _is_documentation(ip: IPAddress) -> bool:
    return any(ip.version == n.version and ip in n for n in _DOC_NETS)


# ---------------------------------------------------------------------------
# Messages from files
# ---------------------------------------------------------------------------


def read_message(path: str | os.PathLike[str]) -> MessageInput:
    """The message in an .eml, Outlook .msg or pasted-headers file (see :mod:`imsvalog.messages`)."""
    from .messages import read_message as read

    return read(path)


def message_from_bytes(data: bytes, name: str = "<message>") -> MessageInput:
    """Like :func:`read_message`, from bytes.  Raises :class:`InputError` for something that is not mail."""
    from .messages import message_from_bytes as from_bytes

    return from_bytes(data, name)
