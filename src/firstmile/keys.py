"""API keys: generated here, shown once, stored only as a SHA-256 hash.

A write key (``fm_wk_…``) may sit in a browser: it can only send events. Keys carry a
prefix so a leaked one is easy to recognize in logs and secret scanners.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal

PREFIXES: dict[str, str] = {"write": "fm_wk_", "server": "fm_sk_"}


def generate_key(kind: Literal["write", "server"]) -> str:
    """A new random key of ``kind``.

    Examples
    --------
    >>> generate_key("write").startswith("fm_wk_")
    True
    """
    return PREFIXES[kind] + secrets.token_urlsafe(24)


def hash_key(key: str) -> str:
    """The stored form of a key.

    Examples
    --------
    >>> len(hash_key("fm_wk_abc"))
    64
    """
    return hashlib.sha256(key.encode()).hexdigest()
