"""Reading keys from ``Authorization``: Basic for write keys, Bearer for server keys."""

from __future__ import annotations

import base64
import binascii


def write_key_from_header(authorization: str | None) -> str | None:
    """The write key in a Basic header (user name; with or without the colon).

    Bearer tokens return ``None``: with OAuth the write key travels in the body.

    Examples
    --------
    >>> write_key_from_header("Basic YWJjMTIzOg==")  # base64("abc123:")
    'abc123'
    >>> write_key_from_header("Basic YWJjMTIz")  # base64("abc123"), no colon
    'abc123'
    >>> write_key_from_header("Bearer token") is None
    True
    """
    if not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "basic" or not credentials:
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, _, _ = decoded.partition(":")
    return user or None


def bearer_token(authorization: str | None) -> str | None:
    """The token of a Bearer header (how server keys travel).

    Examples
    --------
    >>> bearer_token("Bearer fm_sk_abc")
    'fm_sk_abc'
    >>> bearer_token("bearer  fm_sk_abc ")
    'fm_sk_abc'
    >>> bearer_token("Basic YWJjMTIzOg==") is None, bearer_token(None) is None
    (True, True)
    """
    if not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None
