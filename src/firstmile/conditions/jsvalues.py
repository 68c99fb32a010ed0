"""JavaScript's view of Python values, as GrowthBook's JavaScript SDK would see them.

The condition language follows the JavaScript reference (``mongrule.ts``), whose operators
lean on JavaScript coercions: ``String(value)``, ``value * 1``, ``!!value``, ``===``,
``JSON.stringify`` and the relational operators. This module reproduces those on the values
that ``json.loads`` produces (``None``, ``bool``, ``int``, ``float``, ``str``, ``list``,
``dict``). A ``datetime`` or ``date`` is read as its ISO-8601 string, as it would be once
written to JSON; any other Python object behaves like an empty JavaScript object.

>>> js_string([1, None, [2.5, True]])
'1,,2.5,true'
>>> js_number(" 0x1F "), js_number(""), js_number("1_000")
(31.0, 0.0, nan)
>>> js_less_than("AZL", "alphabet"), js_less_than(None, 1), js_less_than("x", 1)
(True, True, None)
>>> js_json({"b": 1, "1": [1.0, float("nan")]})
'{"1":[1,null],"b":1}'
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

MAX_SAFE_INTEGER: Final = 2**53
"""Integers up to this size are exact in a JavaScript number."""

NAN: Final = math.nan
TIME_TYPES: Final = frozenset({datetime, date})

# ECMAScript WhiteSpace and LineTerminator, which StringToNumber trims. Python's str.strip()
# would also trim U+001C..U+001F and U+0085, which JavaScript does not.
_JS_WHITESPACE: Final = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_RADIX = {"x": 16, "X": 16, "o": 8, "O": 8, "b": 2, "B": 2}
_RADIX_DIGITS = {16: re.compile(r"[0-9a-fA-F]+"), 8: re.compile(r"[0-7]+"), 2: re.compile(r"[01]+")}


def is_nan(value: Any) -> bool:
    """Whether ``value`` is a float NaN."""
    return type(value) is float and math.isnan(value)


def int_to_float(value: int) -> float:
    """The JavaScript number for a Python int (huge ones become +/- Infinity)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def number_to_string(value: float) -> str:
    """``String(number)`` in JavaScript (ECMAScript ``Number::toString``).

    >>> [number_to_string(x) for x in (1.0, -0.0, 1e21, 1e-7, 123.456, 2.0**53 + 2)]
    ['1', '0', '1e+21', '1e-7', '123.456', '9007199254740994']
    """
    if math.isnan(value):
        return "NaN"
    if value == 0:
        return "0"
    if value < 0:
        return "-" + number_to_string(-value)
    if value == math.inf:
        return "Infinity"
    # value = 0.d1...dk x 10^n, with repr's shortest round-tripping digits.
    mantissa, _, exponent = repr(value).partition("e")
    whole, _, fraction = mantissa.partition(".")
    padded = (whole + fraction).lstrip("0")
    digits = padded.rstrip("0")
    k = len(digits)
    n = int(exponent or "0") - len(fraction) + len(padded)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return head + "e" + ("+" if n > 0 else "-") + str(abs(n - 1))


def string_to_number(text: str) -> float:
    """``Number(text)`` in JavaScript: trimmed decimal, ``0x``/``0o``/``0b``, or NaN."""
    text = text.strip(_JS_WHITESPACE)
    if not text:
        return 0.0
    if _DECIMAL.fullmatch(text):
        return float(text)
    if len(text) > 2 and text[0] == "0" and text[1] in _RADIX:
        radix = _RADIX[text[1]]
        if _RADIX_DIGITS[radix].fullmatch(text, 2):
            return int_to_float(int(text[2:], radix))
    return NAN


def js_type(value: Any) -> str:
    """GrowthBook's ``getType``: null, boolean, number, string, array or object."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is bool:
        return "boolean"
    if kind is int or kind is float:
        return "number"
    if kind is str or kind in TIME_TYPES:
        return "string"
    if kind is list:
        return "array"
    return "object"


def js_truthy(value: Any) -> bool:
    """``!!value``: null, false, 0, NaN and "" are false; every array and object is true."""
    if value is None:
        return False
    kind = type(value)
    if kind is bool:
        return bool(value)
    if kind is int:
        return bool(value != 0)
    if kind is float:
        return not math.isnan(value) and value != 0
    if kind is str:
        return bool(value != "")
    return True


def js_string(value: Any) -> str:
    """``String(value)``: arrays join with commas, objects are ``[object Object]``."""
    kind = type(value)
    if kind is str:
        return str(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return (
            str(value)
            if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
            else js_string(int_to_float(value))
        )
    if kind is float:
        return number_to_string(value)
    if kind is list:
        return ",".join("" if item is None else js_string(item) for item in value)
    if kind in TIME_TYPES:
        return str(value.isoformat())
    return "[object Object]"


def js_number(value: Any) -> float:
    """``value * 1``: null is 0, booleans are 0/1, strings parse, arrays go via their string."""
    kind = type(value)
    if kind is float:
        return float(value)
    if kind is int:
        return int_to_float(value)
    if value is None:
        return 0.0
    if kind is bool:
        return 1.0 if value else 0.0
    if kind is str:
        return string_to_number(value)
    if kind is list or kind in TIME_TYPES:
        return string_to_number(js_string(value))
    return NAN


def to_primitive(value: Any) -> Any:
    """ToPrimitive for comparisons: arrays and objects become strings, the rest stay."""
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is float or kind is str:
        return value
    return js_string(value)


def code_unit_less(left: str, right: str) -> bool:
    """``left < right`` by UTF-16 code units, as JavaScript orders strings."""
    if left.isascii() and right.isascii():
        return left < right
    return left.encode("utf-16-be", "surrogatepass") < right.encode("utf-16-be", "surrogatepass")


def js_less_than(left: Any, right: Any) -> bool | None:
    """The abstract relational comparison ``left < right``; None when a side is NaN.

    ``a > b`` is ``js_less_than(b, a) is True``; ``a >= b`` is ``js_less_than(a, b) is False``.
    """
    left = to_primitive(left)
    right = to_primitive(right)
    if type(left) is str and type(right) is str:
        return code_unit_less(left, right)
    x = js_number(left)
    y = js_number(right)
    if math.isnan(x) or math.isnan(y):
        return None
    return x < y


class _Unmatched:
    """A key that no attribute value is strictly equal to (arrays and objects)."""

    __slots__ = ()


_TRUE: Final = ("boolean", True)
_FALSE: Final = ("boolean", False)
_NAN_KEY: Final = ("number", "NaN")


def same_value_key(value: Any) -> Any:
    """A hashable key such that equal keys mean ``[a].includes(b)`` in JavaScript.

    Numbers compare as numbers (``1`` and ``1.0`` and ``-0.0`` and ``0`` agree, NaN equals
    NaN), booleans never equal numbers, and an array or object equals nothing, since
    JavaScript compares those by reference.
    """
    kind = type(value)
    if kind is str or value is None:
        return value
    if kind is bool:
        return _TRUE if value else _FALSE
    if kind is int:
        return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else int_to_float(value)
    if kind is float:
        return _NAN_KEY if math.isnan(value) else value
    if kind in TIME_TYPES:
        return value.isoformat()
    return _Unmatched()


def strict_equal(left: Any, right: Any) -> bool:
    """``left === right`` (arrays and objects are never equal: different references)."""
    key = same_value_key(left)
    if isinstance(key, _Unmatched) or key is _NAN_KEY:
        return False
    return bool(key == same_value_key(right))


def _is_index_key(key: str) -> bool:
    return (
        key.isascii()
        and key.isdigit()
        and (key == "0" or key[0] != "0")
        and len(key) <= 10
        and int(key) < 2**32 - 1
    )


def js_json(value: Any) -> str:
    """``JSON.stringify(value)``, in JavaScript's property order (index-like keys first)."""
    kind = type(value)
    if kind is str:
        return json.dumps(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return (
            js_string(value)
            if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
            else js_json(int_to_float(value))
        )
    if kind is float:
        return number_to_string(value) if math.isfinite(value) else "null"
    if kind is list:
        return "[" + ",".join(js_json(item) for item in value) + "]"
    if kind in TIME_TYPES:
        return json.dumps(value.isoformat())
    if isinstance(value, Mapping):
        keys = [js_string(key) for key in value]
        pairs = dict(zip(keys, value.values(), strict=True))
        ordered = sorted((k for k in keys if _is_index_key(k)), key=int)
        ordered += [k for k in keys if not _is_index_key(k)]
        return "{" + ",".join(json.dumps(k) + ":" + js_json(pairs[k]) for k in ordered) + "}"
    return "{}"
