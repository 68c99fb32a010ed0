"""Version strings for ``$veq $vne $vgt $vgte $vlt $vlte``, as GrowthBook compares them.

Each side becomes a padded string and the two strings are compared (by UTF-16 code units):

1. a number is written as JavaScript would (``2`` -> ``"2"``); anything else that is not a
   non-empty string counts as ``"0"``;
2. a leading ``v`` and a ``+build`` suffix are dropped;
3. the rest is split on ``-`` and ``.``;
4. exactly three parts (a release) get a ``~`` part, so a release sorts after its
   pre-releases (``~`` is the highest printable ASCII character);
5. numeric parts are left-padded with spaces to 5 characters, and the parts are joined
   with ``-``.

So ``1.0.0-rc.1 < 1.0.0``, ``1.2.3.4 == 1.2.3-4`` and ``1-2-3 == 1.2.3``; pre-release
tags compare as text (``1.2.3-r2 > 1.2.3-r100``), and numbers of six or more digits do not
compare numerically.

>>> padded_version("v1.2.3+build.7")
'    1-    2-    3-~'
>>> padded_version("1.0.0-rc.1") < padded_version("1.0.0")
True
>>> padded_version(None), padded_version(2)
('    0', '    2')
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from firstmile.conditions.jsvalues import js_string

_STRIP = re.compile(r"^v|\+[^\n\r\u2028\u2029]*\Z")
_SPLIT = re.compile(r"[-.]")


@lru_cache(maxsize=4096)
def _padded(text: str) -> str:
    parts = _SPLIT.split(_STRIP.sub("", text))
    if len(parts) == 3:
        parts.append("~")
    return "-".join(
        part.rjust(5, " ") if part.isascii() and part.isdigit() else part for part in parts
    )


def padded_version(value: Any) -> str:
    """The comparable form of a version (see the module documentation)."""
    kind = type(value)
    if kind is int or kind is float:
        value = js_string(value)
    elif kind is not str or not value:
        value = "0"
    return _padded(value)


@lru_cache(maxsize=4096)
def text_version_key(text: str) -> bytes:
    """A version string in a form that compares with ``<`` and ``==`` (``""`` is ``"0"``).

    That is the padded version as UTF-16 code units, so bytes order is JavaScript's order
    of the padded strings, and a comparison is one operation on cached keys.

    >>> text_version_key("1.0.0-rc.1") < text_version_key("1.0.0") == text_version_key("v1.0.0")
    True
    """
    return _padded(text or "0").encode("utf-16-be", "surrogatepass")


def version_key(value: Any) -> bytes:
    """:func:`text_version_key` of any value, as :func:`padded_version` reads it.

    Numbers are written as text; anything else that is not a string counts as ``"0"``.
    """
    kind = type(value)
    if kind is str:
        return text_version_key(value)
    if kind is int or kind is float:
        return text_version_key(js_string(value))
    return _ZERO


_ZERO = text_version_key("0")
