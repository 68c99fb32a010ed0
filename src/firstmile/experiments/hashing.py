"""GrowthBook's hash: FNV-1a 32-bit over UTF-16 code units, in versions 1 and 2.

Every assignment starts here, so a user lands in the same variation in firstmile as in any
GrowthBook SDK given the same seed, value and version (``conditions-and-bucketing.md`` §1).

>>> fnv1a32("a")
3826002220
>>> fnv_hash("", "a", 1), fnv_hash("seed", "a", 2), fnv_hash("abc", "def", 99)
(0.22, 0.0505, None)
>>> in_namespace("1", ("namespace1", 0.4, 1.0))
True
"""

from __future__ import annotations

from typing import Final, Literal

HashVersion = Literal[1, 2]
"""1: ``fnv(value + seed) % 1000 / 1000`` (legacy, biased); 2: unbiased, 10,000 buckets."""

HASH_VERSIONS: Final[tuple[HashVersion, ...]] = (1, 2)

_OFFSET_BASIS: Final = 0x811C9DC5
_PRIME: Final = 0x01000193
_MASK: Final = 0xFFFFFFFF
_BMP_END: Final = 0xFFFF


def fnv1a32(text: str) -> int:
    """FNV-1a 32-bit of ``text`` read as UTF-16 code units, like JavaScript's ``charCodeAt``.

    A character outside the Basic Multilingual Plane counts as its two surrogates, as in
    JavaScript; for ASCII and other BMP text this is the hash of each ``ord(c)``.

    >>> fnv1a32(""), fnv1a32(chr(0x1F600)) == fnv1a32(chr(0xD83D) + chr(0xDE00))
    (2166136261, True)
    """
    h = _OFFSET_BASIS
    if text.isascii():
        for byte in text.encode("ascii"):
            h = ((h ^ byte) * _PRIME) & _MASK
        return h
    for char in text:
        code = ord(char)
        if code > _BMP_END:
            code -= 0x10000
            h = ((h ^ (0xD800 | (code >> 10))) * _PRIME) & _MASK
            code = 0xDC00 | (code & 0x3FF)
        h = ((h ^ code) * _PRIME) & _MASK
    return h


def fnv_hash(seed: str, value: str, version: int) -> float | None:
    """GrowthBook's ``hash(seed, value, version)``: a number in [0, 1), or None.

    Version 1 has 1,000 buckets (``fnv(value + seed)``), version 2 has 10,000 (the hash of
    the decimal string of ``fnv(seed + value)``). Any other version gives None, which every
    caller treats as "not in the experiment". ``firstmile.experiments.hash`` is this function.

    >>> fnv_hash("ef", "d", 1), fnv_hash("foo", "ab", 2), fnv_hash("foo", "ab", 3)
    (0.652, 0.2575, None)
    """
    if version == 2:
        return fnv1a32(str(fnv1a32(seed + value))) % 10000 / 10000
    if version == 1:
        return fnv1a32(value + seed) % 1000 / 1000
    return None


def in_namespace(hash_value: str, namespace: tuple[str, float, float]) -> bool:
    """Whether a user is in ``(name, start, end)`` of a namespace: ``start <= n < end``.

    ``n`` is ``hash("__" + name, hash_value, 1)``: the same for every experiment in the
    namespace, so experiments given disjoint slices of it never share a user.

    >>> [in_namespace(user, ("namespace2", 0.0, 0.4)) for user in ("1", "2", "3", "4")]
    [False, False, True, True]
    """
    name, start, end = namespace
    n = fnv_hash("__" + name, hash_value, 1)
    return n is not None and start <= n < end
