"""The administrator's Trusted Internal IP List: single addresses, CIDR blocks and ranges, IPv4 and IPv6.

>>> t = TrustedList.parse(["198.51.100.25", "203.0.113.0/28", "192.0.2.10-192.0.2.20", "2001:db8::/48"])
>>> [t.match(a) is not None for a in ("198.51.100.25", "203.0.113.15", "203.0.113.16", "192.0.2.20", "2001:db8:0:ffff::1")]
[True, True, False, True, True]
>>> TrustedList.parse(["10.0.0.300"])
Traceback (most recent call last):
...
imsvalog.errors.InputError: trusted list entry '10.0.0.300' (--trusted): not an address, CIDR block or range a-b
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from .errors import InputError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class TrustedEntry:
    """One entry as written, the networks it covers, and where it came from."""

    text: str
    networks: tuple[Network, ...]
    origin: str
    #: what the reader should be told about the entry (host bits set: the block it is taken as), else None
    note: str | None = None


_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def _with_ipv4_of_mapped(nets: Iterable[Network]) -> list[Network]:
    """``nets``, and for a block inside ``::ffff:0:0/96`` (IPv4-mapped) also the IPv4 block it maps."""
    out: list[Network] = []
    for n in nets:
        out.append(n)
        if isinstance(n, ipaddress.IPv6Network) and n.subnet_of(_MAPPED):
            v4 = n.network_address.ipv4_mapped
            assert v4 is not None  # inside ::ffff:0:0/96
            out.append(ipaddress.IPv4Network((v4, max(n.prefixlen - 96, 0))))
    return out


def parse_entry(text: str, origin: str = "--trusted") -> TrustedEntry:
    """``192.0.2.1``, ``192.0.2.0/24``, ``192.0.2.10-192.0.2.20`` or the IPv6 forms."""
    entry = text.strip()
    note = None
    bad = InputError(f"trusted list entry {entry!r} ({origin}): not an address, CIDR block or range a-b")
    try:
        if "-" in entry:
            a_text, b_text = (p.strip() for p in entry.split("-", 1))
            a, b = ipaddress.ip_address(a_text), ipaddress.ip_address(b_text)
            if a.version != b.version:
                raise InputError(f"trusted list entry {entry!r} ({origin}): range mixes IPv4 and IPv6")
            if int(a) > int(b):
                raise InputError(f"trusted list entry {entry!r} ({origin}): range ends before it starts")
            nets = tuple(ipaddress.summarize_address_range(a, b))  # type: ignore[arg-type]  # same version, checked
        elif "/" in entry:
            nets = (ipaddress.ip_network(entry, strict=False),)
            if ipaddress.ip_interface(entry).ip != nets[0].network_address:
                note = (f"trusted list entry {entry!r} ({origin}) has host bits set: taken as {nets[0].with_prefixlen} "
                        f"(the whole block)")
        else:
            addr = ipaddress.ip_address(entry)
            nets = (ipaddress.ip_network(addr),)
    except ValueError:
        raise bad from None
    return TrustedEntry(entry, tuple(_with_ipv4_of_mapped(nets)), origin, note)  # type: ignore[arg-type]  # networks of one version


@dataclass(frozen=True)
class TrustedList:
    """A parsed Trusted Internal IP List."""

    entries: tuple[TrustedEntry, ...] = field(default=())
    #: what was given but is not an entry (an empty ``--trusted ''``), in words; entries' own notes are in :attr:`warnings`
    ignored: tuple[str, ...] = field(default=())
    #: True: the appliance's own list, which is not known, plus these entries (``--also-trust`` without ``--trusted``):
    #: an address an entry covers is trusted, any other may or may not be (:meth:`plus_unknown`)
    partial: bool = False

    @classmethod
    def parse(cls, texts: Iterable[str], origin: str = "--trusted") -> TrustedList:
        """Entries given one by one; an empty one is ignored, and said in :attr:`warnings`.

        >>> TrustedList.parse(["10.1.1.5/8", " "]).warnings
        ["trusted list entry '10.1.1.5/8' (--trusted) has host bits set: taken as 10.0.0.0/8 (the whole block)", "an empty entry (--trusted '') is ignored"]
        """
        texts = list(texts)
        empty = sum(1 for t in texts if not t.strip())
        ignored = (f"{'an empty entry' if empty == 1 else f'{empty} empty entries'} ({origin} '') "
                   f"{'is' if empty == 1 else 'are'} ignored",) if empty else ()
        return cls(tuple(parse_entry(t, origin) for t in texts if t.strip()), ignored)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> TrustedList:
        """One entry per line; blank lines and ``#`` comments (whole-line or trailing) allowed."""
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                lines = fh.read().splitlines()
        except OSError as exc:
            raise InputError(f"{path}: cannot read trusted list: {exc.strerror}") from None
        entries = []
        for n, line in enumerate(lines, 1):
            text = line.split("#", 1)[0].strip()
            if text:
                entries.append(parse_entry(text, f"{path}:{n}"))
        return cls(tuple(entries))

    @classmethod
    def combine(cls, *lists: TrustedList | None) -> TrustedList | None:
        """Entries of all given lists; None when none was given (verdicts then stay unknown)."""
        given = [t for t in lists if t is not None]
        if not given:
            return None
        return cls(tuple(e for t in given for e in t.entries), tuple(w for t in given for w in t.ignored),
                   any(t.partial for t in given))

    def plus_unknown(self) -> TrustedList:
        """These entries added to a list that is not known (the appliance's own): :attr:`partial`.

        >>> t = TrustedList.parse(["198.51.100.25"]).plus_unknown()
        >>> t.partial, t.match("198.51.100.25") is not None, t.warnings
        (True, True, [])
        """
        return TrustedList(self.entries, self.ignored, True)

    @property
    def warnings(self) -> list[str]:
        """What to tell the user about the list: entries with host bits set, ignored empty entries, an empty list."""
        out = [e.note for e in self.entries if e.note] + list(self.ignored)
        if not self.entries and not self.partial:
            out.append("the trusted list has no entry: every address the filter counts is taken as untrusted")
        return out

    def match(self, address: IPAddress | str) -> TrustedEntry | None:
        """The first entry that covers the address (IPv4-mapped IPv6 also checked as IPv4, both ways)."""
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        candidates = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        for e in self.entries:
            for net in e.networks:
                if any(c.version == net.version and c in net for c in candidates):
                    return e
        return None

    def __len__(self) -> int:
        return len(self.entries)

    def texts(self) -> list[str]:
        return [e.text for e in self.entries]


def load_trusted(
    entries: Iterable[str] = (), files: Iterable[str | os.PathLike[str]] = (), origin: str = "--trusted"
) -> TrustedList | None:
    """A list from ``--trusted`` entries (``origin`` names the option in messages) and ``--trusted-file`` files;
    None when neither is given."""
    entries = list(entries)
    files = list(files)
    parts: list[TrustedList | None] = []
    if entries:
        parts.append(TrustedList.parse(entries, origin))
    for f in files:
        parts.append(TrustedList.from_file(f))
    return TrustedList.combine(*parts)
