"""Keyed format-preserving pseudonyms: a pure function of (key, original), one-to-one by construction.

:mod:`imsvalog.redact` gives every ID run, local-part run, domain label and internal ID
a pseudonym of the same shape (digits for digits, letters for letters, hex stays hex,
length kept).  Those pseudonyms must be the same in every file, run and appliance of a
case, and two originals must never share one.  A table of what was seen cannot give
both (a second batch would resolve a clash differently), so each pseudonym is computed
from the key and the original alone, by a keyed *permutation* of all strings of that
shape: distinct originals give distinct pseudonyms whatever the order they come in.

How (:class:`Permuter`):

* the string is read as a number in ``[0, n)``, ``n`` the number of strings of its shape
  (mixed radix: 10 per digit, 26 or 6 per letter; characters of no alphabet are kept);
* a keyed Feistel permutation ``π`` of that range: a balanced Feistel network over
  ``k = bit length of n - 1`` bits, eight rounds as in NIST SP 800-38G FF3-1, each round
  function keyed BLAKE2b over (tweak, round, half); ``π`` of ``[0, 2^k)`` is narrowed to
  ``[0, n)`` by cycle-walking (apply it again until the value is below ``n``: still a
  permutation, as every cycle of ``π`` that passes through ``[0, n)`` is walked in order);
* the pseudonym is ``π⁻¹(π(x) + 1 mod n)``: the successor of ``x`` on one keyed cycle
  through every string of the shape.  A conjugate of a single ``n``-cycle is a single
  ``n``-cycle, so no original is ever its own pseudonym (as long as the shape has two
  strings), and the map is one-to-one.  Shapes of 2^32 strings or more (a queue ID, a
  time stamp, a UUID) take ``π(x)``, half the work: one-to-one as well, and a string
  is its own pseudonym with a chance of ``1/n``;
* strings a pseudonym must not be (a keyword, an all-hex run for a run that is not
  all-hex) are skipped by walking on along the cycle: the map stays one-to-one on the
  strings that are allowed.

No library was used: the NIST modes (FF1, FF3-1) need AES and a single radix and
refuse domains below a million strings, while IDs here mix digits and letters position
by position and many runs are one to four characters long.

>>> p = Permuter(b"k" * 32)
>>> [p.successor(x, 10, b"t") for x in range(10)] != list(range(10))
True
>>> sorted(p.successor(x, 10, b"t") for x in range(10)) == list(range(10))
True
>>> any(p.successor(x, 10, b"t") == x for x in range(10))
False
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from typing import Any

DIGITS = "0123456789"
HEX = "ABCDEF"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = UPPER.lower()
#: Feistel rounds (FF3-1 has 8; FF1 10)
ROUNDS = 8
#: from this many strings of a shape on, the pseudonym is ``π(x)`` instead of ``π⁻¹(π(x) + 1)``
LARGE = 1 << 32


class Permuter:
    """Keyed permutations of ``[0, n)`` and of strings of one shape (see the module's text)."""

    def __init__(self, key: bytes) -> None:
        # a key of its own for this purpose, so nothing else keyed by the case key can relate to it
        sub = hmac.new(key, b"imsvalog-pseudonym-permutation", hashlib.sha256).digest()
        self._base = {size: hashlib.blake2b(key=sub, digest_size=size) for size in (8, 64)}
        self._tweaked: dict[tuple[bytes, int], Any] = {}

    def _hasher(self, tweak: bytes, bits: int) -> Any:
        """The keyed hash with the tweak already absorbed (one per tweak and output size)."""
        size = 8 if bits <= 64 else 64
        h = self._tweaked.get((tweak, size))
        if h is None:
            if len(self._tweaked) > 4096:
                self._tweaked.clear()
            h = self._base[size].copy()
            h.update(len(tweak).to_bytes(4, "big") + tweak)
            self._tweaked[(tweak, size)] = h
        return h

    def _round(self, h0: Any, i: int, value: int, bits: int) -> int:
        """Round ``i``'s function of ``value`` (``h0``: the keyed hash with the tweak absorbed): ``bits``
        keyed pseudo-random bits (more hash blocks for very long strings)."""
        data = bytes((i,)) + value.to_bytes((value.bit_length() + 7) // 8 + 1, "big")
        h = h0.copy()
        h.update(data)
        out = h.digest()
        c = 0
        while len(out) * 8 < bits:
            c += 1
            h = h0.copy()
            h.update(data + c.to_bytes(4, "big"))
            out += h.digest()
        return int.from_bytes(out, "big") & ((1 << bits) - 1)

    def _feistel(self, x: int, k: int, tweak: bytes, inverse: bool) -> int:
        """A keyed permutation of ``[0, 2^k)``, ``k >= 2``: halves of ``u`` and ``v`` bits, each round
        ``(a, b) -> (b, a + F(b) mod 2^|a|)``, so the halves' sizes swap every round (ROUNDS is even)."""
        u = (k + 1) // 2
        v = k - u
        h0 = self._hasher(tweak + b"\0" + k.to_bytes(4, "big"), u)
        a, b = x >> v, x & ((1 << v) - 1)
        sa, sb = u, v
        if u <= 56:  # the usual case, inlined: one 8-byte hash per round
            if not inverse:
                for i in range(ROUNDS):
                    h = h0.copy()
                    h.update(bytes((i,)) + b.to_bytes(8, "big"))
                    a, b = b, (a + int.from_bytes(h.digest(), "big")) & ((1 << sa) - 1)
                    sa, sb = sb, sa
            else:
                for i in range(ROUNDS - 1, -1, -1):
                    h = h0.copy()
                    h.update(bytes((i,)) + a.to_bytes(8, "big"))
                    a, b = (b - int.from_bytes(h.digest(), "big")) & ((1 << sb) - 1), a
                    sa, sb = sb, sa
            return (a << sb) | b
        rnd = self._round
        if not inverse:
            for i in range(ROUNDS):
                a, b = b, (a + rnd(h0, i, b, sa)) & ((1 << sa) - 1)
                sa, sb = sb, sa
        else:
            for i in range(ROUNDS - 1, -1, -1):
                # undo (a, b) = (b0, a0 + F(b0)) where a0 had sb bits
                a, b = (b - rnd(h0, i, a, sb)) & ((1 << sb) - 1), a
                sa, sb = sb, sa
        return (a << sb) | b

    def _walk(self, x: int, n: int, tweak: bytes, inverse: bool) -> int:
        """The Feistel permutation narrowed to ``[0, n)`` by cycle-walking."""
        k = max(2, (n - 1).bit_length())
        y = self._feistel(x, k, tweak, inverse)
        while y >= n:
            y = self._feistel(y, k, tweak, inverse)
        return y

    def successor(self, x: int, n: int, tweak: bytes) -> int:
        """``x``'s successor on one keyed cycle through ``[0, n)``: a permutation with no fixed point (n > 1).

        From :data:`LARGE` strings on, plain ``π(x)`` (half the work): a keyed permutation
        still, whose chance to map a given string onto itself is ``1/n`` (below 2^-32).
        """
        if n <= 1:
            return x
        if n >= LARGE:
            return self._walk(x, n, tweak, False)
        return self._walk((self._walk(x, n, tweak, False) + 1) % n, n, tweak, True)

    # -- strings ----------------------------------------------------------

    def text(
        self,
        text: str,
        alphabets: Sequence[str | None],
        tweak: bytes,
        allowed: Callable[[str], bool] | None = None,
    ) -> str:
        """``text``'s pseudonym among the strings of its shape: position ``i`` takes a character of
        ``alphabets[i]`` (``text[i]`` must be one of them), or is kept where that is None.
        With ``allowed``, strings it refuses are skipped; a ``text`` it refuses is its own pseudonym
        (so the map stays one-to-one: nothing else is mapped onto it)."""
        if allowed is not None and not allowed(text):
            return text
        radices = [len(a) for a in alphabets if a is not None]
        x = 0
        n = 1
        for ch, alpha in zip(text, alphabets, strict=True):
            if alpha is not None:
                x = x * len(alpha) + alpha.index(ch)
                n *= len(alpha)
        shape = b"".join(len(a).to_bytes(1, "big") if a is not None else b"\0" for a in alphabets)
        t = tweak + b"\0" + shape
        y = x
        for _ in range(n):
            y = self.successor(y, n, t)
            out = self._spell(text, alphabets, y, radices)
            if allowed is None or allowed(out):
                return out
        return text  # pragma: no cover (unreachable: the walk comes back to text, which is allowed)

    @staticmethod
    def _spell(text: str, alphabets: Sequence[str | None], y: int, radices: list[int]) -> str:
        digits = []
        for r in reversed(radices):
            y, d = divmod(y, r)
            digits.append(d)
        out = []
        for ch, alpha in zip(text, alphabets, strict=True):
            out.append(ch if alpha is None else alpha[digits.pop()])
        return "".join(out)
