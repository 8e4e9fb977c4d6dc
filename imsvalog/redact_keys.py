"""The redaction key of a case: made, read and checked (never shown).

A key is 32 random bytes, kept as 64 hex digits and a newline in a key file that
``imsvalog redact --key-file`` creates (mode 0600) when it is absent, or given as
``$IMSVALOG_REDACT_KEY`` (64 hex digits, or a passphrase of at least
:data:`MIN_PASSPHRASE` characters, hashed).  Anything else is refused with a
one-line :class:`~imsvalog.errors.InputError` naming the file or the variable, never
quoting its content: a truncated or garbled key would otherwise give other
pseudonyms, silently, and the pseudonyms of a case would no longer match.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import stat
from pathlib import Path

from .errors import InputError

KEY_ENV = "IMSVALOG_REDACT_KEY"
#: the fewest characters a passphrase may have
MIN_PASSPHRASE = 8
#: a key file is 64 hex digits and a line end: anything much longer is another file
_MAX_KEY_FILE = 4096
_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")


def new_key() -> bytes:
    """A new random key (32 bytes)."""
    return secrets.token_bytes(32)


def _hex_problem(text: str) -> str | None:
    """Why ``text`` (stripped) is not 64 hex digits, in words that do not quote it; None if it is."""
    if _HEX_KEY.fullmatch(text):
        return None
    if not text:
        return "it is empty"
    if re.fullmatch(r"[0-9a-fA-F]+", text):
        return f"it has {len(text)} hex digits where a key has 64 (truncated or padded?)"
    lines = text.splitlines()
    if len(lines) > 1:
        return f"it has {len(lines)} lines where a key file has one line of 64 hex digits"
    return f"it holds {len(text)} characters, not all hex digits, where a key file holds 64 hex digits"


def key_from_text(text: str, origin: str = f"${KEY_ENV}") -> bytes:
    """A key from its text form: 64 hex digits, or a passphrase of at least :data:`MIN_PASSPHRASE`
    characters (hashed).  Refuses (naming ``origin``) an empty text, a short passphrase, and a
    run of hex digits that is not 64 long (a key cut short or with extra digits).

    >>> len(key_from_text("a" * 64)), len(key_from_text("case 1234 passphrase"))
    (32, 32)
    >>> key_from_text("ab" * 20)
    Traceback (most recent call last):
    ...
    imsvalog.errors.InputError: $IMSVALOG_REDACT_KEY: not a redaction key: it has 40 hex digits where a key has 64 (truncated or padded?)
    """
    text = text.strip()
    if _HEX_KEY.fullmatch(text):
        return bytes.fromhex(text)
    if not text:
        raise InputError(f"{origin}: the redaction key is empty")
    if re.fullmatch(r"[0-9a-fA-F]{16,}", text):
        raise InputError(f"{origin}: not a redaction key: {_hex_problem(text)}")
    if len(text) < MIN_PASSPHRASE:
        raise InputError(f"{origin}: the passphrase is too short (at least {MIN_PASSPHRASE} characters)")
    return hashlib.sha256(b"imsvalog-redact-key\0" + text.encode("utf-8", "surrogateescape")).digest()


def read_key_file(path: Path) -> bytes:
    """The key in a key file: exactly 64 hex digits (and white space around them), else an error naming the file."""
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{path}: not a redaction key file: not a regular file")
        if st.st_size > _MAX_KEY_FILE:
            raise InputError(f"{path}: not a redaction key file: it is {st.st_size:,} bytes where a key file is 65")
        with open(path, "rb") as fh:
            data = fh.read(_MAX_KEY_FILE + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the key file: {exc.strerror}") from None
    try:
        text = data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a redaction key file: it holds bytes that are not text") from None
    why = _hex_problem(text)
    if why is not None:
        raise InputError(f"{path}: not a redaction key file: {why} (imsvalog redact --key-file writes a new one when the file does not exist)")
    return bytes.fromhex(text)


def load_key(key_file: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> tuple[bytes, str]:
    """The case key and where it came from: ``key_file`` (created with mode 0600 if absent), else
    ``$IMSVALOG_REDACT_KEY`` (set but empty is an error), else a new one-off key (pseudonyms then
    match nothing else)."""
    env = os.environ if env is None else env
    if key_file is not None:
        path = Path(key_file)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return read_key_file(path), f"key file {path}"
        except OSError as exc:
            raise InputError(f"{path}: cannot create the key file: {exc.strerror}") from None
        key = new_key()
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key.hex() + "\n")
        return key, f"new key file {path} (keep it with the case; use it again for this case's other files)"
    if KEY_ENV in env:
        return key_from_text(env[KEY_ENV]), f"${KEY_ENV}"
    return new_key(), "a one-off key (give --key-file to keep pseudonyms the same across runs)"
