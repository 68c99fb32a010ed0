"""``$regex`` and ``$regexi`` on RE2, a regular-expression engine without backtracking.

A pattern comes from whoever writes a segment, so it must not be able to stall the server:
with a backtracking engine (Python's ``re``, JavaScript's ``RegExp``), ``(a+)+$`` against
``"a" * 30 + "b"`` runs for minutes. RE2 (the ``google-re2`` package) matches in time linear
in the text, whatever the pattern. The price is RE2's syntax: no lookahead, lookbehind or
back-references; such a pattern is rejected when the condition is compiled.

Patterns are written in JavaScript's dialect (GrowthBook's ``new RegExp(pattern)``), so the
few places where RE2 reads a pattern differently are translated first: ``\\uXXXX``,
``\\s`` and ``.`` (Unicode spaces and line terminators as JavaScript defines them),
``[\\b]`` (backspace), ``[^]`` (any character) and ``[]`` (nothing).

>>> compile_js_regex("(a+)+$", ignore_case=False)("a" * 30 + "b")
False
>>> compile_js_regex("^caf\\\\u00e9", ignore_case=True)("CAFÉ au lait")
True
>>> compile_js_regex("(?=x)", ignore_case=False)
Traceback (most recent call last):
...
firstmile.conditions.regex.RegexSyntaxError: invalid perl operator: (?=
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

import re2  # type: ignore[import-untyped]

# The low-level binding: one call per test instead of re2.search's span bookkeeping (~5x).
_RE2: Final[Any] = re2._re2.RE2
_UNANCHORED: Final[Any] = re2._re2.RE2.Anchor.UNANCHORED

_JS_SPACES: Final = (
    r"\t\n\x{b}\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}"
)
_NOT_LINE_END: Final = r"[^\n\r\x{2028}\x{2029}]"
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")

MEMO_ENTRIES: Final = 1024
"""How many answers each compiled pattern remembers (see :func:`compile_js_regex`)."""
MEMO_TEXT_LENGTH: Final = 128
"""Longer texts are matched every time, not remembered."""

Matcher = Callable[[str], bool]


class RegexSyntaxError(ValueError):
    """The pattern is not valid, or uses syntax RE2 does not support."""


def translate(source: str) -> str:
    r"""Rewrite a JavaScript pattern into RE2 syntax with the same meaning.

    >>> translate(r"\u00e9[^]|[]")
    '\\x{00e9}(?s:.)|\\b\\B'
    """
    out: list[str] = []
    i = 0
    in_class = False
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source):
            escaped = source[i + 1]
            if escaped == "u" and _HEX4.fullmatch(source, i + 2, i + 6):
                out.append("\\x{" + source[i + 2 : i + 6] + "}")
                i += 6
                continue
            if escaped == "s":
                out.append(_JS_SPACES if in_class else "[" + _JS_SPACES + "]")
            elif escaped == "S" and not in_class:
                out.append("[^" + _JS_SPACES + "]")
            elif escaped == "b" and in_class:
                out.append(r"\x08")
            else:
                out.append(source[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
            out.append(char)
        elif char == "[" and source.startswith("[^]", i):
            out.append("(?s:.)")
            i += 2
        elif char == "[" and source.startswith("[]", i):
            out.append(r"\b\B")  # JavaScript's empty class matches nothing
            i += 1
        elif char == "[":
            in_class = True
            out.append(char)
            if source.startswith("^", i + 1):
                out.append("^")
                i += 1
        elif char == ".":
            out.append(_NOT_LINE_END)
        else:
            out.append(char)
        i += 1
    return "".join(out)


def compile_js_regex(source: str, *, ignore_case: bool) -> Matcher:
    """A test ``text -> bool`` like JavaScript's ``new RegExp(source, "i"?).test(text)``.

    Raises :class:`RegexSyntaxError` with RE2's message when the pattern cannot be compiled.
    """
    options = re2.Options()
    options.log_errors = False
    options.never_capture = True
    options.case_sensitive = not ignore_case
    try:
        encoded = translate(source).encode("utf-8")
    except UnicodeEncodeError:
        raise RegexSyntaxError("the pattern contains an unpaired surrogate") from None
    program = _RE2(encoded, options)
    if not program.ok():
        raise RegexSyntaxError(program.error().decode("utf-8", "replace"))
    match = program.Match
    # A call into RE2 costs about 0.8 us, mostly the binding's own overhead, while the
    # texts a pattern meets repeat a lot (company names, pages, plans, the same user's
    # email at each of their updates): remember recent answers. The memo is bounded in
    # entries and in the length of the texts it keeps, and starts over when full; the
    # answer is a pure function of the text, so sharing it between threads is safe.
    memo: dict[str, bool] = {}

    def test(text: str) -> bool:
        known = memo.get(text)
        if known is not None:
            return known
        data = text.encode("utf-8", "surrogatepass")
        found = bool(match(_UNANCHORED, data, 0, len(data))[0][0] >= 0)
        if len(text) <= MEMO_TEXT_LENGTH:
            if len(memo) >= MEMO_ENTRIES:
                memo.clear()
            memo[text] = found
        return found

    return test
