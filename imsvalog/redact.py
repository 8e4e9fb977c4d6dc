"""Redact a case so it can be shared, while every verdict, count and link stays the same.

What changes, and how (all pseudonyms are keyed: the same key gives the same
pseudonym in every file, run and appliance of a case; another key, another case):

* **Addresses**: a prefix-preserving permutation (Crypto-PAn style: bit *i* of the
  pseudonym is bit *i* of the address XOR a keyed bit of the address's first *i*
  bits, HMAC-SHA256) that maps every block of :data:`PROTECTED_V4` /
  :data:`PROTECTED_V6` onto itself.  So private stays private in the same RFC 1918
  block, 127.0.0.1 stays 127.0.0.1 and other loopback stays loopback, link-local,
  carrier-grade NAT, documentation and every other special-purpose block (and every
  range of every profile in :data:`imsvalog.spoof.PROFILES`) stays in its block, and
  public stays public.  IPv4 stays IPv4, IPv6 stays IPv6, an IPv4-mapped address
  stays mapped (its IPv4 part is redacted as IPv4).  Because it is prefix-preserving,
  a CIDR block maps onto a CIDR block of the same length: a trusted list redacted
  with the same key still holds the same addresses (:meth:`Redactor.trusted_entry`).
  The price: leading bits shared with a special block are kept (a public address
  keeps roughly its first octet).
* **Domains**: label by label, each label permuted among the labels of its shape under
  its parent (``mail.example.com`` becomes ``<x>.<y>.<z>`` where ``<y>.<z>`` is the
  pseudonym of ``example.com``), so equality and hierarchy survive.  Domains are keyed and
  written in lower case, as IMSVA compares them case-insensitively; local parts and
  IDs keep their case pattern (a local part is case-sensitive, IDs keep their shape).
  ``localhost`` and ``localhost.localdomain`` are kept.
* **Local parts**: each run of letters/digits gets a same-shape pseudonym (letters
  for letters, digits for digits, case kept; punctuation kept).  Role names are kept:
  :data:`ROLE_LOCAL_PARTS`.
* **Message-IDs, queue IDs, internal IDs**: every run of letters/digits in an ID is
  mapped the same way wherever it occurs (a Postfix queue ID inside a Message-ID and
  in a Received ``id`` clause gets the same pseudonym; all-hex stays hex, length and
  case kept); a UUID-shaped internal ID keeps its shape.
* **One-to-one, whatever the order**: every pseudonym of a run, label or UUID is a pure
  function of (key, original) and two originals never share one: each is the original's
  successor on a keyed cycle through all strings of its shape (:mod:`imsvalog.pseudonym`),
  and addresses are a keyed permutation too.  So a second batch of a case (other files,
  another run, another appliance) with the same key gives every original the same
  pseudonym, and no pseudonym of another one.
* **Subjects, attachment names**: a keyed token of the same length (an attachment
  keeps its extension); ``keep_subjects=True`` keeps them.
* **Kept**: times, thread IDs, rule names, bit codes, numbers, IMSVA's own message
  texts, file names and rotation, line endings, gzip.

The files (which input goes where, the learning pass, the copies) are
:mod:`imsvalog.redact_files`, ``redact --verify`` is :mod:`imsvalog.redact_verify`, the
case key :mod:`imsvalog.redact_keys`; their public names can also be imported from here.

Each line is split with the grammars (``log.imss`` prefix and body shapes, polevt
and msgtra fields, the syslog prefix); only data fields are rewritten.  Text
without a known shape is redacted conservatively: every address, e-mail address,
domain-looking token, UUID, hex ID, and every domain, subject or attachment name
seen elsewhere in the case.

>>> r = Redactor(b"k" * 32)
>>> ipaddress.ip_address(r.ip_text("10.1.2.3")) in ipaddress.ip_network("10.0.0.0/8"), r.ip_text("127.0.0.1")
(True, '127.0.0.1')
>>> r.domain("mail.example.com").endswith("." + r.domain("example.com"))
True
>>> r.addr_spec("postmaster@example.com").split("@")[0]
'postmaster'
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from . import syslog as syslog_wrapper
from .errors import InputError
from .grammars import imss as imss_grammar
from .grammars import maillog as maillog_grammar
from .grammars.received import BRACKETED
from .pseudonym import DIGITS, HEX, LOWER, UPPER, Permuter
from .sources import _NAME_RE as _LOG_NAME

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

KEY_ENV = "IMSVALOG_REDACT_KEY"

#: local parts kept as they are (RFC 2142 role mailboxes, the bounce sender, root)
ROLE_LOCAL_PARTS = frozenset(
    {"postmaster", "abuse", "hostmaster", "webmaster", "mailer-daemon", "root", "noc", "security"}
)
#: host names kept as they are
KEEP_HOSTS = frozenset({"localhost", "localhost.localdomain", "unknown"})

# ---------------------------------------------------------------------------
# Address classes: every block that any profile, Python's ipaddress or IANA's
# special-purpose registries single out.  Each maps onto itself.
# ---------------------------------------------------------------------------

_IANA_V4 = (
    "0.0.0.0/8", "0.0.0.0/32", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "127.0.0.1/32", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.0.0/29", "192.0.0.8/32", "192.0.0.9/32", "192.0.0.10/32", "192.0.0.170/31",
    "192.0.0.170/32", "192.0.0.171/32", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24",
    "192.168.0.0/16", "192.175.48.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",
    "240.0.0.0/4", "255.255.255.255/32",
)
_IANA_V6 = (
    "::/128", "::1/128", "::ffff:0:0/96", "::/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23",
    "2001::/32", "2001:1::1/128", "2001:1::2/128", "2001:2::/48", "2001:3::/32", "2001:4:112::/48",
    "2001:10::/28", "2001:20::/28", "2001:30::/28", "2001:db8::/32", "2002::/16", "2620:4f:8000::/48",
    "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    # ipaddress's is_reserved blocks
    "::/8", "100::/8", "200::/7", "400::/6", "800::/5", "1000::/4", "4000::/3", "6000::/3", "8000::/3",
    "a000::/3", "c000::/3", "e000::/4", "f000::/5", "f800::/6", "fe00::/9",
)


def _protected() -> tuple[tuple[Network, ...], tuple[Network, ...]]:
    from .spoof import _DOC_NETS, PROFILES

    nets: set[Network] = {ipaddress.ip_network(t) for t in _IANA_V4 + _IANA_V6}
    nets.update(_DOC_NETS)
    for p in PROFILES.values():
        nets.update(r.network for r in p.skip + p.flag)
    v4 = tuple(sorted((n for n in nets if n.version == 4), key=lambda n: (n.network_address, n.prefixlen)))
    v6 = tuple(sorted((n for n in nets if n.version == 6), key=lambda n: (n.network_address, n.prefixlen)))
    return v4, v6  # type: ignore[return-value]


PROTECTED_V4, PROTECTED_V6 = _protected()


def _forced(nets: Iterable[Network], bits: int) -> frozenset[tuple[int, int]]:
    """(i, first i bits) for every proper prefix of every block: those bits are never flipped."""
    out = set()
    for n in nets:
        v = int(n.network_address)
        for i in range(n.prefixlen):
            out.add((i, v >> (bits - i)))
    return frozenset(out)


_FORCED = {4: _forced(PROTECTED_V4, 32), 6: _forced(PROTECTED_V6, 128)}
_BITS = {4: 32, 6: 128}
_MAPPED = ipaddress.ip_network("::ffff:0:0/96")

# ---------------------------------------------------------------------------
# Patterns
# ---------------------------------------------------------------------------

_UUID = r"(?<![0-9A-Fa-f-])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![0-9A-Fa-f-])"
_UUID_RE = re.compile(_UUID)
#: a local part: RFC 5322 atom characters and dots, and any letter or digit (RFC 6531: ``jürgen``)
_LOCAL = r"[\w!#$%&'*+/=?^`{|}~.\[\]-]+"
#: a domain: labels of letters, digits (any script: ``bücher.example``), ``_`` and inner ``-``
_LABEL = r"\w(?:[\w-]*\w)?"
#: a dot between labels: ``.`` and the ones IDNA reads as it (ideographic ``。``, full-width ``．``,
#: half-width ``｡``): IMSVA's domains are compared in IDNA form (:func:`imsvalog.spoof.idna_form`), so
#: ``a．example`` and ``a.example`` are one domain there, and get one pseudonym here
DOTS = ".\u3002\uff0e\uff61"
_DOT = f"[{DOTS}]"
_DOT_SPLIT = re.compile(f"({_DOT})")
_DOMAIN = rf"{_LABEL}(?:{_DOT}{_LABEL})*"
#: an e-mail address; the local part may be missing (``header.i=@example.lu``, ``"john doe"@example.lu``)
_ADDR = rf"(?<![\w.+=-])(?:{_LOCAL})?@{_DOMAIN}"
#: an e-mail address whose local part is a quoted string (RFC 5321 ``Quoted-string``: ``"Jean Dupont"@example.lu``,
#: ``"jo\\"hn"@example.lu``): the whole quoted local part is redacted as one local part
_QUOTED_LOCAL = r'"(?:[^"\\\r\n]|\\.)*"'
_QADDR = rf"{_QUOTED_LOCAL}@{_DOMAIN}"
#: a quoted local part and whatever domain text follows (a field holding one address)
_QADDR_ANY = rf'{_QUOTED_LOCAL}@[^\s()"]*'
#: where the context makes a host name certain (task rd): after ``from``/``by`` (a Received clause, also
#: quoted in free text), ``helo=``/``ehlo=``, or alone in ``[...]``
_CTX_KW = r"(?:\b(?:[Ff]rom|FROM|[Bb]y|BY)[ \t]+|\b(?:[Hh]elo|HELO|[Ee]hlo|EHLO)=<?|\[)"
#: file extensions that end dotted words which are no host names there (``from TmIsScan.cpp``)
_NOT_HOST_ENDS = (
    "c|cc|cpp|cxx|h|hh|hpp|hxx|o|so|a|dll|exe|sys|py|pyc|java|class|jar|js|sh|pl|pm|rb|php|xml|ini|conf|cfg|log|txt|csv|"
    "json|sql|htm|html|png|jpg|jpeg|gif|bmp|pdf|doc|docx|xls|xlsx|ppt|pptx|zip|gz|tgz|tar|bz2|xz|7z|eml|msg|dat|tmp|bak|db"
)
_CTX_LABEL = r"[A-Za-z0-9](?:[\w-]*[A-Za-z0-9])?"
#: in that context: a dotted name starting with a letter under any last label that holds one (``mail.intern``,
#: ``srv.firma.priv``; not a version ``9.1.0``, an address, nor a file ``TmIsScan.cpp``), or a word with an IPv4 address glued to it
#: (``host198.51.100.23``)
#: a word with an IPv4 address glued to it (``host198.51.100.23``)
_GLUED_V4 = r"[A-Za-z](?:[\w-]*[A-Za-z_-])?[0-9]{1,3}(?:\.[0-9]{1,3}){3}"
_GLUED_SPLIT = re.compile(r"(.*[^0-9.])([0-9.]+)")
_CTX_HOST = (
    rf"(?P<glued>[A-Za-z](?:[\w-]*[A-Za-z_-])?)(?P<gip>[0-9]{{1,3}}(?:\.[0-9]{{1,3}}){{3}})(?![\w@-]|\.[0-9])"
    rf"|(?=[A-Za-z])(?:{_CTX_LABEL}\.)+(?!(?i:{_NOT_HOST_ENDS})(?![\w-]))(?=[\w-]*[A-Za-z]){_CTX_LABEL}(?![\w@-]|\.\w)"
)
#: an RFC 2047 encoded word (``=?utf-8?B?R2VoZWlt?=``): a subject's or a name's text, wherever it stands
_ENCODED_WORD = r"=\?[\w.*-]+\?[BbQq]\?[^?\s]*\?="
#: a DKIM selector: ``s=`` of a DKIM-Signature's tag list (after ``;`` or first), ``header.s=`` of
#: Authentication-Results; it often names the customer or its mail provider
_DKIM_SELECTOR = r"(?P<dkimkw>(?:;[ \t]*|^[ \t]*|\bheader\.)s[ \t]*=[ \t]*)(?P<dkimsel>[A-Za-z0-9](?:[\w.-]*[A-Za-z0-9])?)(?=[;\s]|$)"
#: a percent-encoded address (``mailto:jdoe%40example.lu``, ``?email=jdoe%40example.lu``)
_PCT_ADDR = rf"(?<![\w.+%-])(?P<pctlocal>(?:[\w.+-]|%[0-9A-Fa-f]{{2}})+?)%40(?P<pctdom>{_LABEL}(?:{_DOT}{_LABEL})+)"
#: a run of a percent-encoded local part: an escape is kept, a run of letters/digits mapped
_PCT_OR_RUN = re.compile(r"%[0-9A-Fa-f]{2}|[^\W_]+")
#: ``key=`` glued to an address (``smtp.mailfrom=jdoe@…``, ``sasl_username=jdoe@…``): kept as it is
_KEY_PREFIX = re.compile(r"[a-z][a-z0-9_.-]*=")
#: a dotted word ending in a top-level domain (:func:`is_tld` decides in free text); ``*.`` before it
#: (a wildcard) and a final dot after it (a rooted name, a sentence's end) are not part of it; one followed by
#: ``=`` is a key (``header.d=``, ``smtp.mailfrom=`` of Authentication-Results), not a domain
_DOTTED = (
    r"(?:(?<![\w.@-])|(?<=[\s\"'()<>\[=,;:]\*\.)|(?<=^\*\.))(?:\w(?:[\w-]*\w)?" + _DOT + ")+"
    r"(?P<tld>[^\W\d_](?:[\w-]*\w)?)(?![\w=-]|\.\w)"
)
_HEXID = r"(?<![\w-])(?=[0-9A-F]*[A-F])(?=[0-9A-F]*[0-9])[0-9A-F]{8,20}(?![\w-])"
_RUN = re.compile(r"[A-Za-z0-9]+")
#: a run of letters/digits in any script (a local part's ``jürgen``)
_RUN_ANY = re.compile(r"[^\W_]+")
#: log.imss body shapes: the components some are bound to, the starts of the others
_COMPONENTS = frozenset(v.component for v in imss_grammar.VARIANTS if v.component is not None)
_PLAIN_STARTS = tuple(v.starts for v in imss_grammar.VARIANTS if v.component is None)
#: free text, word by word: no pattern holds these delimiters, so matching words one by one is matching the text
_WORD = re.compile(r"[^\s<>(),;\"]+")
_CANDIDATE = re.compile(f"[@:=]|{_DOT}|[0-9A-Fa-f]{{8}}")
_LWORD = re.compile(r"[\w-]+")

#: what is learned and then searched for in free text: names of hosts and domains, Postfix queue IDs
#: (a long one, ``4XyZ1m2nQpz8abc``, has no shape free text could be searched for).  Subjects, attachment
#: names and display names (chosen by whoever sends the mail) are replaced only where they stand (a
#: subject field, ``Subject=``, ``get entity filename:``): searched for everywhere, a subject such as
#: ``Triggered`` would rewrite IMSVA's own texts and so what it says about a message
_SEARCHED_KINDS = frozenset({"domain", "host", "id"})

#: special-use and internal names that end domains in logs but are in no public suffix list
SPECIAL_TLDS = frozenset(
    "test example invalid localhost local localdomain lan internal intranet corp home private onion alt".split()
)

#: words kept in the folder and file names ``redact --to`` writes (a number after them too: ``imsva01``,
#: ``Event3``): the folders IMSVA, its bundles and rotation give logs (``IMSVA/LogFile/Event3``, ``CDT-…``)
#: and generic words that name no one (every other word becomes a pseudonym: :meth:`Redactor.path_part`)
PATH_WORDS = frozenset(
    "imsva logfile logfiles event cdt log logs imss polevt msgtra maillog messages message syslog rotated var opt"
    " trend micro trendmicro siem export trusted list ip headers header eml mail case ticket bundle appliance"
    " backup old new copy debug".split()
)
#: a file's extensions: kept in names (``.zip``, ``.py`` and ``.md`` are top-level domains too)
_FILE_EXT = re.compile(
    r"(?:\.(?:gz|zip|tgz|tar|bz2|xz|7z|log|txt|eml|msg|csv|tsv|json|jsonl|xml|key|list|conf|cf|ini|sql|out|dat|md|py))+$",
    re.IGNORECASE,
)
_PATH_LABEL = r"[^\W_]+(?:-+[^\W_]+)*"
#: a folder or file name, piece by piece: a percent-escape (:func:`imsvalog.redact_files.safe_part`), a dotted name (its last label letters, or an A-label), or a word
_PATH_NAME = re.compile(rf"(?P<pct>%[0-9A-Fa-f]{{2}})|(?P<pdomain>(?:{_PATH_LABEL}{_DOT})+(?P<ptld>xn--[a-z0-9-]+|[^\W\d_]+)(?![^\W_]))|[^\W_]+")
_PATH_WORD = re.compile(r"[^\W_]+")


def _a_label(label: str) -> str:
    """A domain label in ASCII: an IDN label (``bücher``) as its A-label (``xn--bcher-kva``), so both
    forms get one pseudonym (IMSVA's domains are compared in that form: :func:`imsvalog.spoof.idna_form`)
    and no letter of the original is kept."""
    if label.isascii():
        return label
    try:
        return label.encode("idna").decode("ascii")
    except UnicodeError:
        return "xn--" + label.encode("punycode").decode("ascii")


#: where a subject or an attachment name follows in free text (``Subject: ``, ``subject=``, IMSVA's
#: ``get entity filename: ``, a MIME ``filename=``): the rest of the field is free text
_SUBJECT_AFTER = r"(?:(?<=[Ss]ubject: )|(?<=[Ss]ubject=)|(?<=SUBJECT: )|(?<=SUBJECT=))"
#: where a sender's display name follows in free text (``X-Sender-Name: Jean Dupont``): the rest of the field
_SENDER_NAME = r"(?:[Ss]ender-[Nn]ame|SENDER-NAME)(?:: |=)"
_FILENAME_AFTER = r"(?:(?<=[Ff]ilename: )|(?<=[Ff]ilename=)|(?<=FILENAME: )|(?<=FILENAME=))"
#: free text holding one of these is matched with the whole pattern (the word-by-word path misses them:
#: they span the words' delimiters, like ``orig_to=<jdoe>``)
_SLOW_TEXT = re.compile(r"queued as|=<|(?:[Ss]ubject|SUBJECT|[Ff]ilename|FILENAME)(?:: |=)")
#: what a text must hold for the shapes added for task rd to find anything in it (quoted and percent-encoded
#: addresses, encoded words, DKIM selectors, X-Sender-Name, hosts where the context says host): a text
#: without is matched without them (:meth:`Redactor._compiled`; the same result, faster), and free text with
#: one by the whole pattern (the word-by-word path cannot see them).  Every alternative starts with a literal:
#: this search costs a fraction of the pattern's
_RARE = re.compile(
    r'"@|=\?|%40|;[ \t]*s[ \t]*=|header\.s=|[Ss]ender-[Nn]ame|SENDER-NAME'
    r"|(?:[Ff]rom|FROM|[Bb]y|BY)[ \t]+[A-Za-z][\w-]*\.|(?:[Hh]elo|HELO|[Ee]hlo|EHLO)=<?[A-Za-z][\w-]*\.|\[[A-Za-z][\w-]*\."
)
#: ... or start with (a DKIM tag list's ``s=``)
_RARE_START = re.compile(r"[ \t]*s[ \t]*=")


def _may_be_rare(text: str, mode: str) -> bool:
    """A cheap superset of :data:`_RARE` and :data:`_RARE_START` (substring tests; hosts where the context
    says host only in ``text`` mode): most texts hold none."""
    if "=" in text:
        if "=?" in text or ";" in text or "header.s" in text or text.lstrip(" \t")[:1] == "s":
            return True
        if mode == "text" and ("elo=" in text or "ELO=" in text or "hlo=" in text or "HLO=" in text):
            return True
    if '"@' in text or "%40" in text or "ender-" in text or "ENDER-" in text:
        return True
    return mode == "text" and "." in text and ("rom" in text or "ROM" in text or "y" in text or "Y" in text or "[" in text)


#: keys of key=value pairs whose value is a mailbox, with or without ``@`` (Postfix ``orig_to=<jdoe>``,
#: SASL ``sasl_username=jdoe``, Dovecot ``user=<jdoe>``)
_LOCAL_KEYS = ("sasl_username", "sasl_sender", "orig_to", "to", "from", "user", "username", "login", "mailbox")

#: a mailbox list, one mailbox a match (quoted strings, comments and <...> may hold separators)
_MAILBOX_LIST = re.compile(r'(?:"(?:[^"\\]|\\.)*"?|\((?:[^()\\]|\\.)*\)?|<[^<>]*>?|[^,;"(<])+')
#: ``display name <address> (comment)``
_ANGLED = re.compile(r'(?P<lead>\s*)(?P<name>(?:"(?:[^"\\]|\\.)*"|\((?:[^()\\]|\\.)*\)|[^<"(])*)<(?P<addr>[^<>]*)>(?P<tail>.*)', re.S)
#: a mailbox without <...>: comments, quoted strings and words
_MAILBOX_PART = re.compile(r'"(?:[^"\\]|\\.)*"@[^\s()"]*|\((?:[^()\\]|\\.)*\)?|"(?:[^"\\]|\\.)*"?|[^\s()"]+')

#: message headers whose value is a list of mailboxes (display names and comments are tokens)
_ADDRESS_HEADERS = frozenset(
    "from to cc bcc reply-to sender return-path delivered-to x-original-to envelope-to resent-from resent-to "
    "resent-cc resent-sender disposition-notification-to x-sender x-receiver".split()
)

#: RFC 5424 structured data: one ``name="value"`` (``\\"``, ``\\\\`` and ``\\]`` escaped in values)
_SD_PARAM = re.compile(r'(?P<name>[^\s=\]"\[]+)="(?P<value>(?:[^"\\]|\\.)*)"')
#: RFC 5424's registered parameters that hold no one's data (``origin ip`` is redacted as an address)
_SD_KEEP = frozenset({"tzKnown", "isSynced", "syncAccuracy", "sequenceId", "sysUpTime", "language", "enterpriseId", "software", "swVersion"})
_SD_NUMBER = re.compile(r"[0-9.:+-]*")

_ZERO_PADDED = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")


@lru_cache(maxsize=4096)
def is_tld(label: str) -> bool:
    """Whether ``label`` ends domains: an ICANN top-level domain of the Public Suffix List (the
    snapshot the ``publicsuffixlist`` package ships; nothing is fetched), as U-label or A-label, or
    one of :data:`SPECIAL_TLDS`.  In free text only a dotted word whose last label is one counts as
    a domain (``TmIsScan.cpp`` and ``image315.png`` are not; ``example.lu`` and ``example.pl`` are).

    >>> is_tld("lu"), is_tld("PL"), is_tld("xn--p1ai"), is_tld("рф"), is_tld("test"), is_tld("cpp"), is_tld("png")
    (True, True, True, True, True, False, False)
    """
    low = label.lower()
    if low in SPECIAL_TLDS:
        return True
    return _psl().is_public(low)


@lru_cache(maxsize=1)
def _psl() -> Any:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(accept_unknown=False, only_icann=True)


#: IPv4 in text: after a colon too (``IP:198.51.100.23``), before a final dot (a sentence's end) or a
#: port; octets with leading zeros (``198.051.100.023``) are read as decimal (:meth:`Redactor.ipv4_loose`)
_IPV4_P = r"(?<![\w.])(?P<ip4>[0-9]{1,3}(?:\.[0-9]{1,3}){3})(?!\w|\.[0-9])"
#: IPv6 in text: not glued to a word (``CMsgScanner::checkSpoof`` is a C++ name), but after a word and
#: one colon (``IP:2001:db8::1``); before a final dot; only what :mod:`ipaddress` accepts is replaced
_IPV6_P = (
    r"(?:(?<![\w:.])|(?<=\w:)(?<!::))"
    r"(?P<ip6>(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|[0-9]{1,3}(?:\.[0-9]{1,3}){3})?)(?![\w:]|\.[0-9])"
)

#: words a domain label pseudonym must not become (Received keywords, kept names)
_RESERVED_LABELS = frozenset({"from", "by", "via", "with", "id", "for", "localhost", "unknown", "localdomain"}) | ROLE_LOCAL_PARTS

_BRACKET_P = BRACKETED.re.pattern.replace("?P<addr>", "?P<bip>").replace("?P<v6tag>", "?:")  # type: ignore[attr-defined]

_FREE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
HEXDIGITS = DIGITS + HEX


def _stream(key: bytes, label: bytes, n: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < n:
        out += hmac.new(key, label + b"\0" + counter.to_bytes(4, "big"), hashlib.sha256).digest()
        counter += 1
    return out[:n]


def _trie_pattern(items: Iterable[str]) -> str:
    """A regex matching exactly ``items``, longest first where one is a prefix of another.

    >>> print(_trie_pattern(["ab", "abc", "b.d"]))
    (?:abc?|b\\.d)
    """
    root: dict[str, Any] = {}
    for item in items:
        node = root
        for ch in item:
            node = node.setdefault(ch, {})
        node[""] = True

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in node.items() if ch != ""]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:  # an item ends here: the longer ones first, then this one
            return body + "?" if len(branches) == 1 and len(body) == len(re.escape(body)) == 1 else f"(?:{body})?"
        return body

    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        out = emit(root)
    finally:
        sys.setrecursionlimit(limit)
    return out if out.startswith("(?:") else "(?:" + out + ")"


def _is_hex(run: str) -> bool:
    return bool(re.fullmatch(r"[0-9A-Fa-f]+", run))


#: the runs of the role names: no other run's pseudonym may be one (a local part would become a role name)
_ROLE_RUNS = frozenset(r for name in ROLE_LOCAL_PARTS for r in re.findall(r"[a-z0-9]+", name))


def _token_allowed(up: str) -> bool:
    """A pseudonym for a run that is not all-hex: not all-hex either, and no run of a role name."""
    return not _is_hex(up) and up.lower() not in _ROLE_RUNS


def _label_allowed(label: str) -> bool:
    return label not in _RESERVED_LABELS


# ---------------------------------------------------------------------------
# The redactor
# ---------------------------------------------------------------------------


@dataclass
class Redactor:
    """Keyed pseudonyms for everything a log can give away.  One per case and key."""

    key: bytes = field(repr=False)  # never shown (a repr in a traceback or a notebook)
    keep_subjects: bool = False
    #: what was seen, lower-cased -> kind ("domain", "host", "free", "file"); hunted in free text
    learned: dict[str, str] = field(default_factory=dict)
    _flip: dict[tuple[int, int, int], int] = field(default_factory=dict, repr=False)
    #: after the first pass over a case nothing more is learned (and the patterns stay compiled)
    frozen: bool = False
    #: during the first pass: text of no known shape is not searched (nothing there is learned)
    learning: bool = False
    _learned_size: int = field(default=-1, repr=False)
    #: learned items by their first word (lower case); those that start with no word character
    _by_first: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _odd: list[str] = field(default_factory=list, repr=False)
    _cache: dict[str, re.Pattern[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if len(self.key) < 16:
            raise InputError("the redaction key must be at least 16 bytes")
        self.ip = lru_cache(maxsize=1 << 16)(self._ip)  # type: ignore[method-assign]
        # pseudonyms are pure functions of (key, original): bounded caches only save time
        self._perm = Permuter(self.key)
        self._token = lru_cache(maxsize=1 << 18)(self._token_upper)
        self._label_of = lru_cache(maxsize=1 << 16)(self._label_lower)
        self._uuid = lru_cache(maxsize=1 << 16)(self._uuid_upper)

    def _mac(self, *parts: bytes) -> bytes:
        return hmac.new(self.key, b"\0".join(parts), hashlib.sha256).digest()

    # -- addresses ---------------------------------------------------------

    def _permute(self, value: int, version: int) -> int:
        bits, forced = _BITS[version], _FORCED[version]
        out = 0
        for i in range(bits):
            prefix = value >> (bits - i)
            bit = (value >> (bits - 1 - i)) & 1
            if (i, prefix) in forced:
                flip = 0
            elif i == bits - 1 and out == prefix:
                flip = 1  # no fixed points: an address whose other bits all stayed changes its last bit
            else:
                k = (version, i, prefix)
                flip = self._flip.get(k)  # type: ignore[assignment]
                if flip is None:
                    flip = self._mac(b"ip", bytes([version, i]), prefix.to_bytes(16, "big"))[0] & 1
                    self._flip[k] = flip
            out = (out << 1) | (bit ^ flip)
        return out

    def _ip(self, ip: IPAddress) -> IPAddress:
        if isinstance(ip, ipaddress.IPv6Address):
            if ip.scope_id:
                ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
            if ip in _MAPPED:
                v4 = self.ip(ip.ipv4_mapped)
                return ipaddress.IPv6Address(int(_MAPPED.network_address) | int(v4))
            return ipaddress.IPv6Address(self._permute(int(ip), 6))
        return ipaddress.IPv4Address(self._permute(int(ip), 4))

    def ip_text(self, text: str) -> str:
        """An address as text -> its pseudonym as text (IPv4-mapped keeps ``::ffff:a.b.c.d``); not an address: unchanged."""
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            return text
        out = self.ip(ip)
        if isinstance(out, ipaddress.IPv6Address) and out.ipv4_mapped is not None:
            return f"::ffff:{out.ipv4_mapped}"
        return str(out)

    def network(self, net: Network) -> Network:
        """A CIDR block -> the block its addresses map into (same prefix length)."""
        if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96 and net.subnet_of(_MAPPED):
            v4 = ipaddress.IPv4Network((int(net.network_address) & 0xFFFFFFFF, net.prefixlen - 96))
            m = self.network(v4)
            return ipaddress.IPv6Network((int(_MAPPED.network_address) | int(m.network_address), net.prefixlen))
        mapped = self.ip(net.network_address)
        return ipaddress.ip_network((int(mapped), net.prefixlen), strict=False) if net.version == 4 else \
            ipaddress.IPv6Network((int(mapped), net.prefixlen), strict=False)

    def trusted_entry(self, text: str) -> list[str]:
        """One Trusted Internal IP List entry -> redacted entries holding the same (redacted) addresses.

        An address stays an address and a CIDR block a block; a range ``a-b`` becomes
        the CIDR blocks that make it up (a prefix-preserving map keeps blocks, not ranges).
        """
        from .trusted import parse_entry

        e = parse_entry(text, "trusted list")
        entry = text.strip()
        if "-" in entry:
            return [self._net_text(self.network(n)) for n in e.networks]
        if "/" in entry:
            return [self._net_text(self.network(e.networks[0]))]
        return [self.ip_text(entry)]

    @staticmethod
    def _net_text(net: Network) -> str:
        if isinstance(net, ipaddress.IPv6Network) and net.network_address.ipv4_mapped is not None and net.prefixlen >= 96:
            return f"::ffff:{net.network_address.ipv4_mapped}/{net.prefixlen}"
        return str(net)

    # -- names ---------------------------------------------------------------

    def _label(self, label: str, suffix: str) -> str:
        """One label of a domain (``suffix``: the domain it ends) -> a label of the same shape (letters for
        letters, digits for digits, ``-`` and ``_`` kept), keyed by its parent domain: a pure function, and
        labels under one parent never share a pseudonym (:mod:`imsvalog.pseudonym`).  Never a word of
        :data:`_RESERVED_LABELS`; such a label is kept."""
        return self._label_of(label.lower(), suffix.partition(".")[2])

    def _label_lower(self, label: str, parent: str) -> str:
        alphabets = [DIGITS if c in DIGITS else LOWER if c.isascii() and c.isalpha() else None for c in label]
        tweak = b"label\0" + parent.encode("utf-8", "surrogateescape")
        return self._perm.text(label, alphabets, tweak, _label_allowed)  # lower case: IMSVA compares domains case-insensitively

    def domain(self, text: str, learn: bool = True) -> str:
        """A domain or host name -> its pseudonym; ``a.b`` of ``x.a.b`` is the pseudonym of ``a.b``.
        ``learn=False``: not searched for in the case's free text (a DKIM selector, a folder's word)."""
        body = text.rstrip(DOTS)
        if not text or body.lower() in KEEP_HOSTS:
            return text
        # labels split at every dot IDNA reads as one (each dot written as it was), so the pseudonym is
        # one function of the domain as IMSVA compares it
        parts = _DOT_SPLIT.split(body)
        labels = [_a_label(x) for x in parts[::2]]
        lower = [x.lower() for x in labels]
        out = []
        for i, lab in enumerate(labels):
            out.append(self._label(lab, ".".join(lower[i:])) if lab else lab)
            if 2 * i + 1 < len(parts):
                out.append(parts[2 * i + 1])
        if learn:
            self._learn(body, "domain" if len(labels) > 1 else "host")
        return "".join(out) + text[len(body):]

    def token(self, run: str) -> str:
        """One run of letters/digits of an ID -> a run of the same shape: digits for digits, letters for
        letters (an all-hex run stays hex, one that is not all-hex never becomes all-hex), length and case
        kept; keyed case-insensitively.  A pure function of (key, run), one-to-one, never the run itself
        when its shape has fewer than 2^32 strings (:mod:`imsvalog.pseudonym`); a run of a role name (:data:`ROLE_LOCAL_PARTS`) is kept and no other
        run becomes one.
        """
        got = self._token(run.upper() if run.isascii() else "".join(c.upper() if c.isascii() else c for c in run))
        return "".join(ch.lower() if o.islower() else ch for ch, o in zip(got, run, strict=True))

    def _token_upper(self, up: str) -> str:
        hex_run = _is_hex(up)
        alphabets = [
            DIGITS if c in DIGITS else (HEX if hex_run else UPPER) if c.isascii() and c.isalpha() else None for c in up
        ]
        if hex_run:
            return self._perm.text(up, alphabets, b"token")
        return self._perm.text(up, alphabets, b"token", _token_allowed)

    def id_text(self, text: str) -> str:
        """An ID (queue ID, internal ID, Message-ID part): every run of letters/digits mapped; a UUID keeps its shape."""
        if _UUID_RE.fullmatch(text):
            return self.uuid(text)
        return _RUN.sub(lambda m: self.token(m.group(0)), text)

    def uuid(self, text: str) -> str:
        """A UUID -> a UUID: its 32 hex digits permuted as one number (keyed, one-to-one), case kept."""
        got = self._uuid(text.upper())
        if not any(c.isupper() for c in text):
            return got.lower()
        return "".join(ch.lower() if o.islower() else ch for ch, o in zip(got, text, strict=True))

    def _uuid_upper(self, up: str) -> str:
        return self._perm.text(up, [None if c == "-" else HEXDIGITS for c in up], b"uuid")

    def local(self, text: str) -> str:
        """A local part: role names kept (:data:`ROLE_LOCAL_PARTS`), else each run of letters/digits mapped
        (a quoted one, ``"Jean Dupont"``, too: quotes, spaces and ``\\"`` kept, every run mapped)."""
        if text.lower() in ROLE_LOCAL_PARTS or (text[:1] == '"' and text[1:-1].lower() in ROLE_LOCAL_PARTS):
            return text
        return _RUN_ANY.sub(lambda m: self.token(_a_label(m.group(0)).replace("-", "")), text)

    def addr_spec(self, text: str) -> str:
        """``local@domain`` (an e-mail address or a Message-ID without brackets)."""
        if "@" not in text:
            return self.local(text)
        local, domain = text.rsplit("@", 1)
        return f"{self.local(local)}@{self.domain(domain)}"

    def message_id(self, text: str) -> str:
        """A Message-ID, with or without angle brackets."""
        m = re.fullmatch(r"(\s*<?)(.*?)(>?\s*)", text, re.S)
        assert m is not None
        inner = m.group(2)
        body = self.addr_spec(inner) if "@" in inner else self.id_text(inner)
        return m.group(1) + body + m.group(3)

    def address_field(self, text: str) -> str:
        """A sender/recipient field: an address (with or without <>), empty, a mailbox with a display
        name or a comment (``"Doe, John" <jdoe@example.lu>``, ``a@b.lu (Comment)``), or a bare local part.

        The address comes out as the pseudonym it has everywhere else (so ``b.lu`` of ``a@b.lu
        (Comment)`` stays the domain ``b.lu`` is: the domain verdict is kept); display names and
        comments become :meth:`display_name` tokens.
        """
        if not text or text == "#null#":
            return text
        m = re.fullmatch(r"(\s*<?)([^<>\s\"()]*@[^<>@\s\"()]*)(>?\s*)", text) or re.fullmatch(
            rf"(\s*<?)({_QUOTED_LOCAL}@[^<>@\s\"()]*)(>?\s*)", text
        )
        if m:
            return m.group(1) + self.addr_spec(m.group(2)) + m.group(3)
        return self.mailbox(text)

    def address_list(self, text: str) -> str:
        """A header's list of mailboxes (``From``, ``To``, ``Cc``...): each one as :meth:`mailbox`,
        separators kept."""
        return _MAILBOX_LIST.sub(lambda m: self.mailbox(m.group(0)), text)

    def mailbox(self, text: str) -> str:
        """One mailbox: ``Name <addr>``, ``"Name" <addr>``, ``addr (Comment)``, or a bare word."""
        m = _ANGLED.fullmatch(text)
        if m:
            inner = m["addr"]
            addr = self.addr_spec(inner) if "@" in inner else (self.local(inner) if inner.strip() else inner)
            return m["lead"] + self._phrase(m["name"]) + "<" + addr + ">" + self._phrase(m["tail"])
        return _MAILBOX_PART.sub(self._mailbox_part, text)

    def _mailbox_part(self, m: re.Match[str]) -> str:
        t = m.group(0)
        if t[0] == '"' and '"@' in t and re.fullmatch(_QADDR_ANY, t):  # ``"Jean Dupont"@example.lu``
            return self.addr_spec(t)
        if t[0] in "\"(":
            return self._phrase(t)
        if "@" in t:
            return self.addr_spec(t)
        return self.local(t)

    def _phrase(self, text: str) -> str:
        """A display name or comment: quotes, parentheses and spacing kept, the words a token."""
        if not text.strip():
            return text
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()):]
        body = text.strip()
        for a, b in ('""', "()"):
            if len(body) >= 2 and body[0] == a and body[-1] == b:
                return lead + a + self.display_name(body[1:-1]) + b + trail
        return lead + self.display_name(body) + trail

    def display_name(self, text: str) -> str:
        """A person's or sender's name (display name, address comment): a keyed token of the same
        length, ``~`` first; kept by no option (``--keep-subjects`` keeps subjects, not names)."""
        if not text.strip():
            return text
        self._learn(text, "name")
        s = _stream(self.key, b"free\0" + text.encode("utf-8", "surrogateescape"), len(text))
        return "~" + "".join(_FREE_ALPHABET[b % len(_FREE_ALPHABET)] for b in s[1:])

    def free(self, text: str) -> str:
        """Free text (a subject): a keyed token of the same length, ``~`` first."""
        if self.keep_subjects or not text:
            return text
        self._learn(text, "free")
        s = _stream(self.key, b"free\0" + text.encode("utf-8", "surrogateescape"), len(text))
        return "~" + "".join(_FREE_ALPHABET[b % len(_FREE_ALPHABET)] for b in s[1:])

    def filename(self, text: str) -> str:
        """An attachment name: the stem as free text, the extension kept."""
        if self.keep_subjects or not text:
            return text
        m = re.fullmatch(r"(.+?)(\.[A-Za-z0-9]{1,5})", text)
        if not m:
            return self.free(text)
        self._learn(text, "free")
        return self.free(m.group(1)) + m.group(2)

    def _learn(self, text: str, kind: str) -> None:
        low = text.lower()
        if self.frozen or len(low.strip()) < 4 or low in KEEP_HOSTS or low in self.learned:
            return
        self.learned[low] = kind
        if kind not in _SEARCHED_KINDS:
            return
        first = _LWORD.match(low)
        if first is None:
            self._odd.append(low)  # starts with no word character: every text is searched for it
        else:
            self._by_first.setdefault(first.group(0), []).append(low)

    def _relevant(self, text: str) -> bool:
        """Whether a learned item could occur in ``text``: it holds the first word of one."""
        if self._odd:
            return True
        by_first = self._by_first
        return any(w in by_first for w in _LWORD.findall(text.lower()))

    # -- names of folders and files -------------------------------------------

    def path_part(self, name: str, is_file: bool) -> str:
        """One folder or file name of a path ``redact --to`` writes (``geheimfirma.lu-imsva01``, a
        bundle's folder ``Geheimfirma-CDT-20240312-101500``): a dotted name ending in a top-level
        domain becomes its domain pseudonym (as in the logs), every other word its pseudonym as a
        one-label host name (case pattern kept); kept are numbers and dates, IMSVA's folder words and
        a few generic ones (:data:`PATH_WORDS`, ``imsva01`` too), a log's name from its kind on
        (``log.imss.20240312.0001.gz``, ``maillog-20240313``) and a file's extension, so the copy is read
        as the same kinds.  A pure function of (key, name).

        >>> r = Redactor(b"k" * 32)
        >>> out = r.path_part("geheimfirma.lu-Geheimfirma-imsva01", False)
        >>> out.startswith(r.domain("geheimfirma.lu") + "-") and out.endswith("-imsva01") and "eheim" not in out
        True
        >>> r.path_part("geheimfirma-log.imss.20240312.0001.gz", True)[-26:], r.path_part("IMSVA", False)
        ('-log.imss.20240312.0001.gz', 'IMSVA')
        """
        tail = ""
        if is_file:
            m = _LOG_NAME.search(name) or _FILE_EXT.search(name)  # a log's name from its kind on: kept
            if m is not None and m.start() > 0:
                name, tail = name[: m.start()], name[m.start():]
            elif m is not None:
                return name
        return _PATH_NAME.sub(self._path_name, name) + tail

    def _path_name(self, m: re.Match[str]) -> str:
        t = m.group(0)
        if m["pct"] is not None:
            return t
        if m["pdomain"] is None:
            return self._path_word(m)
        if is_tld(m["ptld"]):
            return self.domain(t, learn=False)
        return _PATH_WORD.sub(self._path_word, t)

    def _path_word(self, m: re.Match[str]) -> str:
        t = m.group(0)
        low = t.lower()
        if low.rstrip(DIGITS) in PATH_WORDS or low.isdigit():
            return t
        got = self.domain(low, learn=False)  # its pseudonym as a one-label host name (as in a log: ``imsva01``)
        if len(got) != len(t):  # a non-ASCII word: its A-label's pseudonym
            return got
        return "".join(ch.upper() if o.isupper() else ch for ch, o in zip(got, t, strict=True))

    # -- free text -----------------------------------------------------------

    @staticmethod
    def _learned_pattern(items: Sequence[str]) -> str | None:
        """The learned items as one alternation: a trie (``ab(?:c|de)?``), so matching costs the
        text's length, not the number of items; longer items are tried first, as in a flat
        alternation sorted longest first."""
        if not items:
            return None
        return "(?P<learned>(?<![\\w.@-])(?i:" + _trie_pattern(items) + ")(?![\\w@-]|\\.[A-Za-z0-9]))"

    def _compiled(self, mode: str, learned: bool = False, rare: bool = True) -> re.Pattern[str]:
        """The whole pattern of ``mode``; with ``learned``, searching for every learned item too
        (compiled once per mode: one trie of all of them); without ``rare``, without the shapes
        only a text :data:`_RARE` finds something in can hold (the same result there, faster)."""
        if self.learning:
            learned = False  # the first pass only collects (searching it for what it collects made learning quadratic)
        elif learned and self._learned_size != len(self.learned):
            # the learned patterns are built once per mode after the first pass (``frozen``); a redactor
            # used without one rebuilds them when it has learned something new
            self._learned_size = len(self.learned)
            self._cache = {k: v for k, v in self._cache.items() if not k[1]}
        cache = self._cache
        key = (mode, learned, rare)
        if key not in cache:
            alts = [] if mode == "word" else [
                # first: where a subject or a file name starts, the rest of the field is one (a learned
                # word or a dotted name inside it must not take it apart)
                rf"(?P<subject>{_SUBJECT_AFTER}.+?(?= from [\w.-]+\[|$))",
                rf"(?P<fname>{_FILENAME_AFTER}(?:\"[^\"]*\"|.+?(?=\s*$)))",
            ]
            if mode != "word" and rare:
                alts.append(rf"(?P<snamekw>{_SENDER_NAME})(?P<sname>.+)")
            alts += [
                rf"(?P<uuid>{_UUID})",
            ]
            if mode != "word" and rare:  # free text with these takes the whole pattern (:data:`_SLOW_TEXT`)
                alts += [rf"(?P<qaddr>{_QADDR})", rf"(?P<ew>{_ENCODED_WORD})", _DKIM_SELECTOR, rf"(?P<pctaddr>{_PCT_ADDR})"]
            alts += [
                rf"(?P<addr>{_ADDR})",
                rf"(?P<bracket>{_BRACKET_P})",
                rf"(?P<ipv4>{_IPV4_P})",
                rf"(?P<ipv6>{_IPV6_P})",
                # key=value pairs (Postfix, Dovecot, SASL, URLs) whose value is a mailbox without @
                rf"(?P<lockw>\b(?:{'|'.join(_LOCAL_KEYS)})=<?)(?P<lockv>(?![0-9/.]+(?:[\s<>(),;\"&]|$))[^\s<>(),;\"@\[\]&?]+)(?=[\s<>(),;\"&]|$)",
            ]
            searched = [k for k, v in self.learned.items() if v in _SEARCHED_KINDS]
            pattern = self._learned_pattern(searched) if learned and mode != "word" else None
            if pattern:
                alts.append(pattern)
            alts += [rf"(?P<dotted>{_DOTTED})", rf"(?P<hexid>{_HEXID})"]
            if mode != "word":
                alts += [
                    r"(?P<queued>(?<=queued as )\w+)",
                ]
            if mode in ("received", "hosts"):
                # a host word before [address], after from/by/helo=
                alts.append(r"(?P<host>(?<=[\s=(])[A-Za-z0-9][\w-]*(?=\[))")
                # Postfix's ``host[address]`` with the address glued to a word (``host198.51.100.23[...]``)
                alts.append(rf"(?<=[\s=(])(?P<hglued>{_GLUED_V4})(?=\[)")
                alts.append(r"(?P<host2>(?<=\()[^\s()\[\]<>@]+(?= \[))")
                # key=value pairs of Postfix, Dovecot, SASL holding a mailbox or a host without @
                alts.append(r"(?P<helokw>\bhelo=<)(?P<helov>[^\s<>,;@\[\]\"]+)(?=>)")
            if mode == "received":
                # the whole host word, whatever it holds (a hostile ``evil\x1b]0;pwned\x07.example``), but
                # not ``[address]`` nor a final ``;`` or ``,``
                alts.append(r"(?P<kw>\b(?:from|by)[ \t]+|\bhelo=)(?P<kwhost>[^\s()<>\[\];,][^\s()<>\[]*?)(?=[;,]?(?:[\s()<>\[]|$))")
                alts.append(r"(?P<idkw>\bid[ \t]+)(?P<qid>[\w.-]+)")
            if mode == "text" and rare:
                # a host name where the context makes it one (``received`` has its keywords' own, ``hosts``
                # takes every dotted word for a host name)
                alts.append(rf"(?P<ctxkw>{_CTX_KW})(?P<ctxhost>{_CTX_HOST})")
            cache[key] = re.compile("|".join(alts))
        return cache[key]

    def _sub(self, m: re.Match[str], mode: str) -> str:
        g = m.lastgroup
        t = m.group(0)
        if g == "learned":
            kind = self.learned.get(t.lower(), "free")
            if kind == "name":
                return self.display_name(t)
            if kind == "id":
                return self.id_text(t)
            return self.domain(t) if kind in ("domain", "host") else self.free(t)  # free() keeps it with keep_subjects
        if g == "uuid":
            return self.uuid(t)
        if g == "qaddr":
            return self.addr_spec(t)
        if g == "ew":
            return self.free(t)
        if g == "sname":
            return m["snamekw"] + self._phrase(m["sname"])
        if g == "dkimsel":
            return m.group("dkimkw") + self.domain(m.group("dkimsel"), learn=False)
        if g == "pctaddr":
            local = _PCT_OR_RUN.sub(lambda r: r.group(0) if r.group(0)[0] == "%" else self.local(r.group(0)), m.group("pctlocal"))
            return local + "%40" + self.domain(m.group("pctdom"))
        if g == "ctxhost":  # a glued address becomes the address's pseudonym, its word kept
            if m["gip"] is not None:
                return m["ctxkw"] + m["glued"] + self.ipv4_loose(m["gip"])
            return m["ctxkw"] + self.domain(t[len(m["ctxkw"]):])
        if g == "addr":
            k = _KEY_PREFIX.match(t)
            if k is not None and "@" in t[k.end():]:
                return k.group(0) + self.addr_spec(t[k.end():])
            return self.addr_spec(t)
        if g == "bracket":
            inner = m.group("bip")
            return t.replace(inner, self.ipv4_loose(inner), 1)
        if g == "ipv4":
            return self.ipv4_loose(t)
        if g == "ipv6":
            return self.ip_text(t)
        if g == "dotted":
            if mode == "text" and not is_tld(m.group("tld")):
                return t
            return self.domain(t)
        if g in ("hexid", "queued"):
            return self.id_text(t)
        if g == "qid":
            return m.group("idkw") + self.id_text(m.group("qid"))
        if g == "kwhost":
            return m.group("kw") + self._host(m.group("kwhost"))
        if g == "subject":
            return self.free(t)
        if g == "fname":
            return f'"{self.filename(t[1:-1])}"' if t.startswith('"') and len(t) > 1 else self.filename(t)
        if g == "lockv":
            return m.group("lockw") + self.local(m.group("lockv"))
        if g == "helov":
            return m.group("helokw") + self._host(m.group("helov"))
        if g == "hglued":
            word, ip = _GLUED_SPLIT.fullmatch(t).groups()  # type: ignore[union-attr]
            return word + self.ipv4_loose(ip)
        if g in ("host", "host2"):
            return self._host(t)
        return t  # pragma: no cover

    def ipv4_loose(self, text: str) -> str:
        """:meth:`ip_text`, and an IPv4 address written with leading zeros (``198.051.100.023``) read as
        decimal, its pseudonym written with the same widths (``203.007.113.044``)."""
        out = self.ip_text(text)
        if out != text or not _ZERO_PADDED.fullmatch(text):
            return out
        octets = text.split(".")
        if any(int(o) > 255 for o in octets):
            return text
        mapped = self.ip_text(".".join(str(int(o)) for o in octets)).split(".")
        return ".".join(x.zfill(len(o)) for x, o in zip(mapped, octets, strict=True))

    def _host(self, word: str) -> str:
        """A host word (after from/by/helo=, before [address]): an address, a kept word, or a name."""
        ip = self.ipv4_loose(word)
        if ip != word or word.lower() in ("userid", "unknown", "localhost") or word.isdigit():
            return ip
        return self.domain(word)

    def text(self, text: str, mode: str = "text") -> str:
        """Conservative redaction of text of no known shape (``mode``: text, received, hosts).

        Free text (``mode="text"``, most of a debug log) takes a fast path that gives the
        same result as the whole pattern (a test keeps them equal): unless a learned word,
        ``queued as`` or ``Subject:`` occurs, only words that could hold an address, a
        domain or an ID (``@ : .`` or 8 hex digits) are matched, one by one.
        """
        if not text:
            return text
        if mode == "text" and self.learning:
            return text
        learned = self._relevant(text)
        rare = _may_be_rare(text, mode) and (_RARE.search(text) is not None or _RARE_START.match(text) is not None)
        if mode == "text" and not learned and not rare and _SLOW_TEXT.search(text) is None:
            return _WORD.sub(self._word, text)
        return self._compiled(mode, learned, rare).sub(lambda m: self._sub(m, mode), text)

    def text_full(self, text: str, mode: str = "text") -> str:
        """:meth:`text` by the whole pattern with every learned item (the definition)."""
        return self._compiled(mode, bool(self._by_first or self._odd)).sub(lambda m: self._sub(m, mode), text)

    def _word(self, m: re.Match[str]) -> str:
        w = m.group(0)
        if _CANDIDATE.search(w) is None:
            return w
        return self._compiled("word").sub(lambda mm: self._sub(mm, "text"), w)

    def received(self, header: str) -> str:
        """A Received header: addresses, host names, e-mail addresses and the ``id`` clause; keywords and date kept."""
        return self.text(header, "received")

    # -- lines ---------------------------------------------------------------

    def imss_line(self, text: str) -> str:
        m = imss_grammar._HEAD_RE.match(text)
        if m is None:
            return self.text(text)
        pos = m.end()
        end = len(text)
        if text.rstrip(" \t").endswith("]"):
            locm = imss_grammar._LOCATION_RE.search(text, pos)
            if locm:
                end = locm.start()
        message = text[pos:end]
        component = m["component"]
        if component in imss_grammar._NOT_COMPONENTS and m["method"] is None:
            component = None
        if component not in _COMPONENTS and not message.startswith(_PLAIN_STARTS):
            return text[:pos] + self.text(message) + text[end:]  # no body shape starts so: generic
        for starts, comp, v in imss_grammar._DISPATCH:
            if (comp is None or comp == component) and message.startswith(starts):
                mm = v.grammar.re.match(message)  # type: ignore[attr-defined]
                if mm is None or message[mm.end():].strip():
                    continue
                return text[:pos] + self._groups(message, mm) + text[end:]
        return text[:pos] + self.text(message) + text[end:]

    _GROUPS = {
        "header": "received", "address": "ip", "ips": "text", "client": "text", "client_bare": "hosts",
        "message_id": "message_id", "internal_id": "id", "detail": "text", "text": "text",
    }

    def _groups(self, message: str, mm: re.Match[str]) -> str:
        spans = []
        for name in mm.re.groupindex:
            how = self._GROUPS.get(name)
            if how is None or mm.group(name) is None:
                continue
            spans.append((mm.start(name), mm.end(name), how))
        spans.sort()
        out, last = [], 0
        for a, b, how in spans:
            if a < last:
                continue
            out.append(message[last:a])
            value = message[a:b]
            if how == "received":
                out.append(self.received(value))
            elif how == "ip":
                out.append(self.ip_text(value))
            elif how == "message_id":
                out.append(self.message_id(value))
            elif how == "id":
                out.append(self.id_text(value))
            else:
                out.append(self.text(value, how))
            last = b
        out.append(message[last:])
        return "".join(out)

    _POLEVT_TIME = re.compile(r"\d{4}/\d\d/\d\d[ \t]+\d\d:\d\d:\d\d")
    _KEEP_FIELD = re.compile(r"[\d.+-]*|#null#")

    def polevt_line(self, text: str) -> str:
        f = text.split("\t")
        if len(f) < 2 or not self._POLEVT_TIME.match(f[0]):
            return self.text(text)
        out = list(f)
        for i, v in enumerate(f):
            if i == 0 or i in (5, 6, 7, 8, 10, 15):
                continue  # time, direction, rule, bit codes, attachment type
            if i == 1:
                out[i] = self.id_text(v)
            elif i == 2:
                out[i] = self.address_field(v)
            elif i == 3:
                out[i] = ";".join(self.address_field(x) for x in v.split(";"))
            elif i == 4:
                out[i] = self.free(v)
            elif i == 14:
                out[i] = self.filename(v)
            elif v.startswith("<") and v.rstrip().endswith(">"):
                out[i] = self.message_id(v)
            elif not self._KEEP_FIELD.fullmatch(v):
                out[i] = self.text(v)
        return "\t".join(out)

    def msgtra_line(self, text: str) -> str:
        f = text.split("\t")
        if len(f) < 2 or not re.fullmatch(r"\w*Transac\w*", f[0]):
            return self.text(text)
        out = list(f)
        for i, v in enumerate(f):
            if v == "#null#" or i in (0, 1, 2, 3, 7, 14, 15):
                continue
            if i == 4:
                out[i] = self.message_id(v)
            elif i in (5, 6):
                out[i] = self.id_text(v)
            elif i == 8:
                out[i] = self.address_field(v)
            elif i == 9:
                out[i] = ";".join(self.address_field(x) for x in v.split(";"))
            elif i == 10:
                out[i] = self.free(v)
            elif not self._KEEP_FIELD.fullmatch(v):
                out[i] = self.text(v, "hosts")
        return "\t".join(out)

    _MAILLOG_PREFIX = re.compile(
        "|".join(
            p.re.pattern.replace("?P<", f"?P<{n}_")  # type: ignore[attr-defined]
            for n, p in (("s", maillog_grammar.SYSLOG_PREFIX), ("i", maillog_grammar.ISO_PREFIX))
        )
    )
    #: a Postfix queue ID at the start of the body, as the maillog grammar reads one: the short form (hex,
    #: in either case) or the long form of ``enable_long_queue_ids`` (10 to 20 letters and digits, at least
    #: one digit: Postfix writes the time first, and an edited or odd ID with a vowel is still an ID), so
    #: Postfix's literals (``NOQUEUE: reject``, ``warning:``, ``statistics:``) are kept
    _QID_START = re.compile(r"([0-9A-F]{5,20}|(?=[a-f]*[0-9])[0-9a-f]{5,20}|(?=[A-Za-z]*[0-9])[0-9A-Za-z]{10,20})(?=: )")

    def maillog_line(self, text: str) -> str:
        m = self._MAILLOG_PREFIX.match(text)
        if m is None:
            return self.text(text, "hosts")
        g = "s_host" if m.group("s_host") is not None else "i_host"
        a, b = m.span(g)
        head = text[:a] + self.domain(text[a:b]) + text[b : m.end()]
        return head + self._maillog_body(text[m.end():])

    def _maillog_body(self, body: str) -> str:
        q = self._QID_START.match(body)
        if q:
            self._learn(q.group(1), "id")
            return self.id_text(q.group(1)) + self.text(body[q.end():], "hosts")
        return self.text(body, "hosts")

    def syslog_line(self, text: str) -> str:
        """A line forwarded by syslog (:mod:`imsvalog.syslog`): the sending host redacted, the wrapped
        record redacted as the log its program tag names, ``#011`` for TAB kept."""
        m = syslog_wrapper._PREFIX.match(text)
        if m is None:
            return self.text(text, "hosts")
        a, b = m.span("host")
        head = text[:a] + self.domain(text[a:b]) + text[b : m.end()]
        tag = (syslog_wrapper._TAG5424 if m["rfc5424"] else syslog_wrapper._TAG).match(text, m.end())
        if tag is None:
            return head + self.text(text[m.end():], "hosts")
        msg = text[tag.end():]
        kind = syslog_wrapper.kind_of_program(tag["prog"])
        if m["rfc5424"] and tag["sd"] != "-":
            a, b = tag.span("sd")
            head += text[m.end() : a] + _SD_PARAM.sub(self._sd_param, text[a:b]) + text[b : tag.end()]
        else:
            head += text[m.end() : tag.end()]
        if kind == "maillog":
            return head + self._maillog_body(msg)
        if kind is None:
            return head + self.text(msg, "hosts")
        escaped = "#011" in msg and "\t" not in msg
        out = self.line_function(kind)(msg.replace("#011", "\t") if escaped else msg)
        return head + (out.replace("\t", "#011") if escaped else out)

    def _sd_param(self, m: re.Match[str]) -> str:
        """One ``name="value"`` of RFC 5424 structured data: SD-IDs and names kept, values redacted
        (registered fields of meta/timeQuality/origin and numbers kept)."""
        name, value = m["name"], m["value"]
        if not value or name in _SD_KEEP:
            return m.group(0)
        if _SD_NUMBER.fullmatch(value):
            out = self.ipv4_loose(value) if value.count(".") == 3 else self.ip_text(value)
            return m.group(0)[: m.start("value") - m.start()] + out + '"'

        if name.lower() in _LOCAL_KEYS or name.lower() in ("account", "sender", "recipient"):
            out = self.address_field(value)
        else:
            out = self.text(value, "hosts")
            if out == value and re.search(r"[^\W\d_]", value):
                out = self.comment(value)
        return m.group(0)[: m.start("value") - m.start()] + out + '"'

    def line(self, kind: str, text: str) -> str:
        """One line of a log of that kind (``imss``, ``polevt``, ``msgtra``, ``maillog``), redacted."""
        return self.line_function(kind)(text)

    def line_function(self, kind: str) -> Callable[[str], str]:
        return {"imss": self.imss_line, "polevt": self.polevt_line, "msgtra": self.msgtra_line,
                "maillog": self.maillog_line, "syslog": self.syslog_line}.get(kind, self.text)

    # -- messages and trusted lists -------------------------------------------

    _HEADER = re.compile(r"([!-9;-~]+)(:[ \t]*)(.*)", re.S)

    def message_lines(self, lines: Iterable[str]) -> Iterator[str]:
        """An .eml or headers file, line by line: header values by name, the body as same-length tokens."""
        in_body = False
        current = ""
        for line in lines:
            if in_body:
                yield self.free(line) if line.strip() else line
                continue
            if not line.strip():
                in_body = True
                yield line
                continue
            if line[:1] in (" ", "\t"):
                yield self._header_value(current, line)
                continue
            m = self._HEADER.fullmatch(line)
            if m is None:
                yield self.text(line)
                continue
            current = m.group(1).lower()
            yield m.group(1) + m.group(2) + self._header_value(current, m.group(3))

    def _header_value(self, name: str, value: str) -> str:
        if name == "received":
            return self.received(value)
        if name in ("subject", "thread-topic"):
            return self.free(value)
        if name in ("x-sender-name", "x-display-name"):
            return self._phrase(value)
        if name in _ADDRESS_HEADERS:
            return self.address_list(value)
        if name in ("message-id", "in-reply-to", "references"):
            return re.sub(r"<[^<>]*>", lambda m: self.message_id(m.group(0)), value) if "<" in value else self.message_id(value)
        return self.text(value, "hosts")

    def trusted_list(self, tl: Any) -> Any:
        """A :class:`~imsvalog.trusted.TrustedList` (or None) with every entry redacted."""
        from .trusted import TrustedList, parse_entry

        if tl is None:
            return None
        return TrustedList(tuple(parse_entry(x, e.origin) for e in tl.entries for x in self.trusted_entry(e.text)))

    def message_input(self, m: Any) -> Any:
        """A :class:`~imsvalog.spoof.MessageInput` with its headers, sender and recipients redacted."""
        from dataclasses import replace

        return replace(
            m,
            received=tuple(self.received(h) for h in m.received),
            sender=self.address_field(m.sender) if m.sender else m.sender,
            recipients=tuple(self.address_field(x) for x in m.recipients),
            header_from=self.address_list(m.header_from) if m.header_from else m.header_from,
        )

    def comment(self, text: str) -> str:
        """A comment someone wrote (a trusted list's ``# Head office Luxembourg``): free text, spacing
        kept; with ``keep_subjects`` its addresses, domains and IDs still redacted."""
        body = text.strip()
        if not body:
            return text
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()):]
        return lead + (self.text(body, "hosts") if self.keep_subjects else self.free(body)) + trail

    def trusted_lines(self, lines: Iterable[str]) -> Iterator[str]:
        """A trusted-list file: each entry redacted (a range becomes its CIDR blocks), comments redacted."""
        for line in lines:
            entry, hash_, comment = line.partition("#")
            body = entry.strip()
            tail = (hash_ + self.comment(comment)) if hash_ else ""
            if not body:
                yield line if not hash_ else entry + tail
                continue
            parts = self.trusted_entry(body)
            lead = entry[: len(entry) - len(entry.lstrip())]
            pad = entry[len(entry.rstrip()) :]
            yield lead + parts[0] + pad + tail
            for extra in parts[1:]:
                yield lead + extra


# ---------------------------------------------------------------------------
# The rest of redaction lives in its own modules; their public names stay importable from here
# ---------------------------------------------------------------------------

_MOVED = {
    "imsvalog.redact_keys": ("KEY_ENV", "MIN_PASSPHRASE", "new_key", "key_from_text", "read_key_file", "load_key"),
    "imsvalog.redact_files": (
        "Planned", "FileReport", "RedactReport", "member_path", "plan", "log_arguments", "learn", "redact_files",
        "redacted_inputs",
    ),
    "imsvalog.redact_verify": ("SAME_COLUMNS", "RowCheck", "VerifyRun", "VerifyReport", "verify"),
}
_WHERE = {name: module for module, names in _MOVED.items() for name in names}


def __getattr__(name: str) -> Any:
    """``imsvalog.redact.plan`` and the like: the names that moved to :mod:`imsvalog.redact_files`,
    :mod:`imsvalog.redact_verify` and :mod:`imsvalog.redact_keys` (imported when first asked for)."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
