"""Normalization: how firstmile cleans up the values a client sends.

Every rule here is a pure function of its input: no clock, no network, no files
(beyond the country table that ``pycountry`` ships, read once on first use).

Timestamps
    ``timestamp``, ``sentAt`` and ``originalTimestamp`` may be sent as

    - an ISO-8601 string: ``2024-05-01T12:30:00.000Z``, ``2024-05-01T14:30:00+02:00``,
      ``+0200`` or ``+02`` offsets, a space instead of ``T``, any number of
      fractional-second digits (anything beyond microseconds is dropped, not rounded),
      a date alone (midnight UTC), or no offset at all (read as UTC);
    - the lenient forms some clients produce, with one-digit month, day or hour, as
      in Segment's own example ``2015-2-02T00:30:08.276Z``, a lower-case ``z``, or a
      trailing `` UTC``;
    - a JSON number of seconds since the Unix epoch, or of milliseconds when it is
      larger than 100,000,000,000.

    Times are stored as UTC. Years before 1970 or after 2200, booleans, ``NaN``,
    empty strings and anything else are refused with a message that says what to send.

Emails
    ``traits.email`` is trimmed and lower-cased.

Countries
    ``traits.country`` and ``traits.address.country`` become ISO 3166-1 alpha-2 codes
    (``"US"``) when they are recognized: alpha-2 or alpha-3 codes in any case, English
    names (short, official and common, ignoring case, accents and dots), and common
    informal names such as ``"UK"``, ``"England"``, ``"USA"``, ``"Russia"`` or
    ``"Holland"``. An unrecognized value is kept exactly as sent.

Locales
    ``context.locale`` is rewritten as a BCP-47 tag: ``en_us`` becomes ``en-US`` and
    ``zh-hant-tw`` becomes ``zh-Hant-TW``. POSIX suffixes (``.UTF-8``, ``@euro``) and
    BCP-47 extensions (``-u-…``, ``-x-…``) are dropped. Anything else is not a locale.

Coercion of trait and property values
    Some sources send every value as a string. With coercion on, a top-level string
    value that is *exactly* a boolean or a number in its usual spelling becomes that
    boolean or number: ``"true"``/``"false"`` in any case, integers such as ``"42"``
    or ``"-7"`` (within 64 bits), and decimals such as ``"3.5"`` (at most 15
    significant digits, so no precision is lost). Surrounding whitespace is ignored.
    Values that only look like numbers stay strings: leading zeros (``"007"``,
    ``"02134"``), a leading ``+``, thousands separators, exponents, ``"nan"`` and
    ``"inf"``, ``"-0"``.

    Identifier-like keys are never coerced, so a ZIP code or an id keeps its leading
    zeros: ``id`` and any key ending in ``id`` (``userId``, ``account_id``, ``ID``),
    and any key containing ``zip``, ``postal``, ``phone`` or ``code``. The rule is
    deliberately broad, so a key such as ``paid`` also keeps its string value. ``email``
    and ``country`` are never coerced either. Nested objects and lists are left alone.

Keys are always kept exactly as sent, and the input is never modified.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache, lru_cache

import pycountry

from firstmile.types import JSON, JSONObject

__all__ = [
    "coerce_scalar",
    "normalize_country",
    "normalize_email",
    "normalize_locale",
    "normalize_properties",
    "normalize_traits",
    "parse_timestamp",
]

# --- timestamps ---------------------------------------------------------------------------

_MIN_YEAR = 1970
_MAX_YEAR = 2200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_EPOCH_SECONDS = int((datetime(_MAX_YEAR + 1, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds())
# 1e11 seconds is the year 5138, so a number this large can only be milliseconds.
_MILLIS_THRESHOLD = 100_000_000_000
# Longer than any sensible timestamp; keeps the regex fallback cheap on junk.
_MAX_TIMESTAMP_CHARS = 64
_HINT = (
    "send an ISO-8601 string such as '2024-05-01T12:30:00.000Z' "
    "or a number of seconds (or milliseconds) since the Unix epoch"
)

_LENIENT_TIMESTAMP = re.compile(
    r"""
    (?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})
    (?:[Tt\ ]
        (?P<hour>[0-9]{1,2})
        (?::(?P<minute>[0-9]{1,2})
            (?::(?P<second>[0-9]{1,2})(?:[.,](?P<fraction>[0-9]+))?)?
        )?
    )?
    \ ?
    (?P<tz>[Zz]|UTC|GMT|(?P<sign>[+-])(?P<tzh>[0-9]{2})(?::?(?P<tzm>[0-9]{2}))?)?
    """,
    re.VERBOSE | re.ASCII,
)


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _out_of_range(value: object) -> ValueError:
    return ValueError(
        f"timestamp {_describe(value)} is out of range: "
        f"only years {_MIN_YEAR} to {_MAX_YEAR} are accepted; {_HINT}"
    )


def _from_epoch(value: int | float) -> datetime:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"timestamp {_describe(value)} is not a finite number; {_HINT}")
    millis = value > _MILLIS_THRESHOLD or value < -_MILLIS_THRESHOLD
    limit = _MAX_EPOCH_SECONDS * 1000 if millis else _MAX_EPOCH_SECONDS
    if value < 0 or value >= limit:
        raise _out_of_range(value)
    if millis:
        return _EPOCH + timedelta(milliseconds=value)
    return _EPOCH + timedelta(seconds=value)


def _parse_lenient(text: str) -> datetime | None:
    match = _LENIENT_TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    tz: timezone = UTC
    if match["sign"] is not None:
        hours, minutes = int(match["tzh"]), int(match["tzm"] or 0)
        if hours > 23 or minutes > 59:
            return None
        offset = timedelta(hours=hours, minutes=minutes)
        tz = timezone(-offset if match["sign"] == "-" else offset)
    fraction = match["fraction"] or ""
    try:
        return datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"] or 0),
            int(match["minute"] or 0),
            int(match["second"] or 0),
            int(fraction[:6].ljust(6, "0")),
            tzinfo=tz,
        )
    except ValueError:
        return None


def _from_string(value: str) -> datetime:
    text = value.strip()
    if not text:
        raise ValueError(f"timestamp is an empty string; {_HINT}")
    if len(text) > _MAX_TIMESTAMP_CHARS:
        raise ValueError(f"timestamp {_describe(value)} is too long to be a date-time; {_HINT}")
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = _parse_lenient(text)
    if parsed is None:
        raise ValueError(f"timestamp {_describe(value)} is not a valid ISO-8601 date-time; {_HINT}")
    # An offset moves the UTC year by at most one; refuse far-off years before converting
    # so that astimezone cannot overflow near year 1 or 9999.
    if not _MIN_YEAR - 1 <= parsed.year <= _MAX_YEAR + 1:
        raise _out_of_range(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    elif parsed.tzinfo is not UTC:
        parsed = parsed.astimezone(UTC)
    if not _MIN_YEAR <= parsed.year <= _MAX_YEAR:
        raise _out_of_range(value)
    return parsed


def parse_timestamp(value: object) -> datetime:
    """Parse a client-sent timestamp into an aware UTC :class:`~datetime.datetime`.

    Accepts ISO-8601 strings (with ``Z``, ``±hh:mm``, ``±hhmm`` or ``±hh`` offsets, any
    fractional precision, ``T`` or a space, date only, or no offset, read as UTC), the
    lenient one-digit forms some clients send, and epoch seconds or milliseconds as
    numbers. See the module documentation for the full rules.

    Raises:
        ValueError: the value is not a timestamp, or its year is before 1970 or after
            2200. The message says what was wrong and what to send instead.

    Examples:
        >>> parse_timestamp("2026-11-25T02:25:57.967+00:00")
        datetime.datetime(2026, 11, 25, 2, 25, 57, 967000, tzinfo=datetime.timezone.utc)
        >>> parse_timestamp("2015-2-02T00:30:08.276Z").isoformat()
        '2015-02-02T00:30:08.276000+00:00'
        >>> parse_timestamp("2024-05-01T14:30:00+0200").isoformat()
        '2024-05-01T12:30:00+00:00'
        >>> parse_timestamp("2024-05-01").isoformat()
        '2024-05-01T00:00:00+00:00'
        >>> parse_timestamp(1714566600).isoformat()
        '2024-05-01T12:30:00+00:00'
        >>> parse_timestamp(1714566600250).isoformat()
        '2024-05-01T12:30:00.250000+00:00'
        >>> parse_timestamp("1900-01-01T00:00:00Z")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: timestamp '1900-01-01T00:00:00Z' is out of range: only years 1970 to 2200 ...
    """
    if isinstance(value, str):
        return _from_string(value)
    if isinstance(value, bool):
        raise ValueError(f"timestamp is a boolean ({value!r}); {_HINT}")
    if isinstance(value, int | float):
        return _from_epoch(value)
    if isinstance(value, datetime):
        return _from_string(value.isoformat())
    if isinstance(value, date):
        return _from_string(value.isoformat())
    if value is None:
        raise ValueError(f"timestamp is null; {_HINT}")
    raise ValueError(f"timestamp is a {type(value).__name__}, not a string or number; {_HINT}")


# --- emails -------------------------------------------------------------------------------


def normalize_email(value: str) -> str:
    """Trim and lower-case an email address.

    Examples:
        >>> normalize_email("  Ada.Lovelace@Example.COM ")
        'ada.lovelace@example.com'
    """
    return value.strip().lower()


# --- countries ----------------------------------------------------------------------------

# Informal or outdated names people actually type. Real ISO codes always win over an
# alias (see _country_index), so "UK" and "EL" can be listed safely.
_COUNTRY_ALIASES: dict[str, str] = {
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "usa": "US",
    "us": "US",
    "america": "US",
    "united states of america": "US",
    "the united states": "US",
    "russia": "RU",
    "south korea": "KR",
    "korea": "KR",
    "republic of korea": "KR",
    "north korea": "KP",
    "vietnam": "VN",
    "iran": "IR",
    "czech republic": "CZ",
    "holland": "NL",
    "the netherlands": "NL",
    "turkey": "TR",
    "turkiye": "TR",
    "syria": "SY",
    "laos": "LA",
    "moldova": "MD",
    "tanzania": "TZ",
    "venezuela": "VE",
    "bolivia": "BO",
    "taiwan": "TW",
    "macedonia": "MK",
    "ivory coast": "CI",
    "cape verde": "CV",
    "swaziland": "SZ",
    "burma": "MM",
    "brunei": "BN",
    "uae": "AE",
    "vatican": "VA",
    "vatican city": "VA",
    "palestine": "PS",
    "micronesia": "FM",
    "east timor": "TL",
    "dr congo": "CD",
    "drc": "CD",
    "democratic republic of the congo": "CD",
    "congo-kinshasa": "CD",
    "congo-brazzaville": "CG",
    "republic of the congo": "CG",
    "el": "GR",  # the European Union's code for Greece
}


def _country_key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.replace(".", "").replace("\u2019", "'").split())


@cache
def _country_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for country in pycountry.countries:
        code = str(country.alpha_2)
        for attribute in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            label = getattr(country, attribute, None)
            if isinstance(label, str):
                index.setdefault(_country_key(label), code)
    for alias, code in _COUNTRY_ALIASES.items():
        index.setdefault(_country_key(alias), code)
    return index


# Caches are bounded in entries, not bytes: long strings, which are never a country,
# locale or short key anyway, are answered without being cached.
_MAX_CACHED_CHARS = 100


@lru_cache(maxsize=4096)
def _country_code(value: str) -> str | None:
    return _country_index().get(_country_key(value))


def normalize_country(value: str) -> str | None:
    """Return the ISO 3166-1 alpha-2 code for a country code or name, or ``None``.

    Case, surrounding whitespace, accents and dots are ignored.

    Examples:
        >>> normalize_country("us"), normalize_country("DEU"), normalize_country(" france ")
        ('US', 'DE', 'FR')
        >>> normalize_country("United States of America"), normalize_country("U.K.")
        ('US', 'GB')
        >>> normalize_country("Türkiye"), normalize_country("Cote d'Ivoire")
        ('TR', 'CI')
        >>> normalize_country("Atlantis") is None
        True
    """
    if len(value) > _MAX_CACHED_CHARS:
        return None
    return _country_code(value)


# --- locales ------------------------------------------------------------------------------

_LOCALE_SEPARATOR = re.compile(r"[-_]")
_MAX_LOCALE_CHARS = 35


def _is_ascii_alpha(text: str) -> bool:
    return text.isascii() and text.isalpha()


def _is_variant(subtag: str) -> bool:
    if not (subtag.isascii() and subtag.isalnum()):
        return False
    return 5 <= len(subtag) <= 8 or (len(subtag) == 4 and subtag[0].isdigit())


def normalize_locale(value: str) -> str | None:
    """Return a BCP-47 language tag in canonical case, or ``None`` if it is not one.

    Examples:
        >>> normalize_locale("en_us"), normalize_locale("EN"), normalize_locale("zh-hant-tw")
        ('en-US', 'en', 'zh-Hant-TW')
        >>> normalize_locale("de_DE.UTF-8"), normalize_locale("es-419")
        ('de-DE', 'es-419')
        >>> normalize_locale("not a locale") is None
        True
    """
    return None if len(value) > _MAX_CACHED_CHARS else _locale_tag(value)


@lru_cache(maxsize=1024)
def _locale_tag(value: str) -> str | None:
    text = value.strip().split(".", 1)[0].split("@", 1)[0]
    if not text or len(text) > _MAX_LOCALE_CHARS:
        return None
    subtags = _LOCALE_SEPARATOR.split(text)
    language = subtags[0]
    if not (2 <= len(language) <= 3 and _is_ascii_alpha(language)):
        return None
    canonical = [language.lower()]
    rest = subtags[1:]
    if rest and len(rest[0]) == 4 and _is_ascii_alpha(rest[0]):
        canonical.append(rest.pop(0).capitalize())
    if rest and (
        (len(rest[0]) == 2 and _is_ascii_alpha(rest[0]))
        or (len(rest[0]) == 3 and rest[0].isascii() and rest[0].isdigit())
    ):
        canonical.append(rest.pop(0).upper())
    for subtag in rest:
        if len(subtag) == 1 and subtag.isascii() and subtag.isalnum():
            break  # an extension or private-use section: dropped
        if not _is_variant(subtag):
            return None
        canonical.append(subtag.lower())
    return "-".join(canonical)


# --- scalar coercion ----------------------------------------------------------------------

_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)", re.ASCII)
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+", re.ASCII)
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
# A double holds any decimal of up to 15 significant digits exactly enough to print it back.
_MAX_DECIMAL_DIGITS = 15
_NUMBER_START = frozenset("-0123456789")


def coerce_scalar(value: str) -> JSON:
    """Turn a string holding a boolean or a plain number into that value.

    Anything that is not exactly ``true``/``false`` (any case) or a number in its usual
    spelling is returned unchanged; see the module documentation.

    Examples:
        >>> coerce_scalar("true"), coerce_scalar(" FALSE "), coerce_scalar("42")
        (True, False, 42)
        >>> coerce_scalar("-7"), coerce_scalar("3.5"), coerce_scalar("-0.25")
        (-7, 3.5, -0.25)
        >>> coerce_scalar("007"), coerce_scalar("+1"), coerce_scalar("1,000"), coerce_scalar("1e3")
        ('007', '+1', '1,000', '1e3')
        >>> coerce_scalar("nan"), coerce_scalar("   ")
        ('nan', '   ')
    """
    text = value.strip()
    if not text:
        return value
    if text[0] in _NUMBER_START:
        if _INTEGER.fullmatch(text):
            number = int(text)
            if text == "-0" or not _INT64_MIN <= number <= _INT64_MAX:
                return value
            return number
        if _DECIMAL.fullmatch(text):
            digits = text.lstrip("-").replace(".", "").lstrip("0")
            if len(digits) > _MAX_DECIMAL_DIGITS:
                return value
            decimal = float(text)
            if decimal == 0 and text[0] == "-":
                return value
            return decimal
        return value
    if len(text) in (4, 5):
        lowered = text.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
    return value


# --- traits and properties ----------------------------------------------------------------

_NEVER_COERCED = frozenset({"email", "country"})
_ID_FRAGMENTS = ("zip", "postal", "phone", "code")


def _id_like(key: str) -> bool:
    lowered = key.lower()
    return lowered.endswith("id") or any(fragment in lowered for fragment in _ID_FRAGMENTS)


def _coercible(key: str) -> bool:
    """Whether a string under ``key`` may be coerced: not email, country or an id-like key."""
    return key not in _NEVER_COERCED and not _id_like(key)


# Every property and trait key of every message asks: keys repeat, so memoize.
_coercible_cached = lru_cache(maxsize=4096)(_coercible)


def _is_coercible(key: str) -> bool:
    return _coercible(key) if len(key) > _MAX_CACHED_CHARS else _coercible_cached(key)


def _coerce_value(key: str, value: JSON) -> JSON:
    if isinstance(value, str) and _is_coercible(key):
        return coerce_scalar(value)
    return value


def _normalize_address(address: dict[str, JSON]) -> dict[str, JSON]:
    country = address.get("country")
    if isinstance(country, str):
        code = normalize_country(country)
        if code is not None and code != country:
            return {**address, "country": code}
    return address


def normalize_traits(traits: JSONObject, *, coerce: bool) -> JSONObject:
    """Return a normalized copy of an identify/group ``traits`` object.

    ``email`` is trimmed and lower-cased, ``country`` and ``address.country`` become
    alpha-2 codes when recognized, and with ``coerce=True`` top-level string values are
    passed through :func:`coerce_scalar` unless their key is identifier-like. The input
    is not modified; nested objects that need no change are shared with it, not copied.

    Examples:
        >>> normalize_traits(
        ...     {"email": " Ada@Example.com", "country": "uk", "age": "36", "zip": "02134"},
        ...     coerce=True,
        ... )
        {'email': 'ada@example.com', 'country': 'GB', 'age': 36, 'zip': '02134'}
        >>> normalize_traits({"address": {"country": "Deutschland"}, "plan": "pro"}, coerce=True)
        {'address': {'country': 'Deutschland'}, 'plan': 'pro'}
        >>> normalize_traits({"address": {"country": "germany"}, "vip": "TRUE"}, coerce=False)
        {'address': {'country': 'DE'}, 'vip': 'TRUE'}
    """
    normalized: JSONObject = {}
    for key, value in traits.items():
        if key == "email" and isinstance(value, str):
            normalized[key] = normalize_email(value)
        elif key == "country" and isinstance(value, str):
            normalized[key] = normalize_country(value) or value
        elif key == "address" and isinstance(value, dict):
            normalized[key] = _normalize_address(value)
        elif coerce:
            normalized[key] = _coerce_value(key, value)
        else:
            normalized[key] = value
    return normalized


def normalize_properties(properties: JSONObject, *, coerce: bool) -> JSONObject:
    """Return a copy of a track/page/screen ``properties`` object, coerced if asked.

    With ``coerce=True`` top-level string values go through :func:`coerce_scalar` unless
    their key is identifier-like, ``email`` or ``country``. The input is not modified.

    Examples:
        >>> normalize_properties(
        ...     {"revenue": "19.90", "orderId": "0042", "gift": "false"}, coerce=True
        ... )
        {'revenue': 19.9, 'orderId': '0042', 'gift': False}
        >>> normalize_properties({"revenue": "19.90"}, coerce=False)
        {'revenue': '19.90'}
    """
    if not coerce:
        return dict(properties)
    # _coerce_value inlined: this runs for every property of every message.
    return {
        key: coerce_scalar(value) if isinstance(value, str) and _is_coercible(key) else value
        for key, value in properties.items()
    }
