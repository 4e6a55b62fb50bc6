"""API key material: generate a key, hash it, recognise one.

A key is `aig_` followed by 40 random letters and digits (about 238 bits),
so a plain SHA-256 is enough to store it: there is nothing to brute-force,
and unlike a slow password hash it costs microseconds per request. Only the
hash and the first 12 characters (the prefix, for people to tell keys apart
in lists and audit entries) are ever stored; the key itself is shown once.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from aiguillage.store.hashing import sha256_hex

KEY_MARKER = "aig_"
_ALPHABET = string.ascii_letters + string.digits
_SECRET_LENGTH = 40
#: How many leading characters of a key are kept in clear, marker included.
PREFIX_LENGTH = 12


@dataclass(frozen=True)
class KeyMaterial:
    """A freshly generated key: the plaintext (show once), its prefix and its hash (store)."""

    plaintext: str
    prefix: str
    secret_hash: str


def generate_key() -> KeyMaterial:
    """A new random key with its prefix and hash."""
    plaintext = KEY_MARKER + "".join(secrets.choice(_ALPHABET) for _ in range(_SECRET_LENGTH))
    return KeyMaterial(plaintext, plaintext[:PREFIX_LENGTH], hash_key(plaintext))


def hash_key(plaintext: str) -> str:
    """The stored form of a key."""
    return sha256_hex(plaintext)


def looks_like_key(candidate: str) -> bool:
    """Cheap shape check before any database work: marker, length, alphabet."""
    body = candidate[len(KEY_MARKER) :]
    return (
        candidate.startswith(KEY_MARKER)
        and len(body) == _SECRET_LENGTH
        and all(ch in _ALPHABET for ch in body)
    )
