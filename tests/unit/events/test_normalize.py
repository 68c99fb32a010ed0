"""Tests for firstmile.events.normalize: tables for each rule, properties for the rest."""

from __future__ import annotations

import copy
import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmile.events.normalize import (
    coerce_scalar,
    normalize_country,
    normalize_email,
    normalize_locale,
    normalize_properties,
    normalize_traits,
    parse_timestamp,
)
from firstmile.types import JSON, JSONObject


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


# --- parse_timestamp ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # what segment-analytics-python sends
        ("2026-11-25T02:25:57.967+00:00", utc(2026, 11, 25, 2, 25, 57, 967000)),
        ("2026-11-25T02:25:57.967123+00:00", utc(2026, 11, 25, 2, 25, 57, 967123)),
        # what the Segment docs show, including their one-digit month
        ("2015-02-02T00:30:08.276Z", utc(2015, 2, 2, 0, 30, 8, 276000)),
        ("2015-2-02T00:30:08.276Z", utc(2015, 2, 2, 0, 30, 8, 276000)),
        ("2015-2-2T0:30:8.276Z", utc(2015, 2, 2, 0, 30, 8, 276000)),
        ("2015-12-2 3:04:05", utc(2015, 12, 2, 3, 4, 5)),
        ("2015-2-02T00:30:08.276z", utc(2015, 2, 2, 0, 30, 8, 276000)),
        # offsets in every spelling
        ("2024-05-01T14:30:00+02:00", utc(2024, 5, 1, 12, 30)),
        ("2024-05-01T14:30:00+0200", utc(2024, 5, 1, 12, 30)),
        ("2024-05-01T14:30:00+02", utc(2024, 5, 1, 12, 30)),
        ("2024-05-01T07:00:00-05:30", utc(2024, 5, 1, 12, 30)),
        ("2024-5-1T07:00:00-0530", utc(2024, 5, 1, 12, 30)),
        ("2024-5-1T14:30:00+02", utc(2024, 5, 1, 12, 30)),
        ("2024-01-01T00:30:00+01:00", utc(2023, 12, 31, 23, 30)),
        # fractional precision: none, short, long (truncated, not rounded)
        ("2024-05-01T12:30:00Z", utc(2024, 5, 1, 12, 30)),
        ("2024-05-01T12:30:00.1Z", utc(2024, 5, 1, 12, 30, 0, 100000)),
        ("2024-05-01T12:30:00.1234567Z", utc(2024, 5, 1, 12, 30, 0, 123456)),
        ("2024-05-01T12:30:00.999999999Z", utc(2024, 5, 1, 12, 30, 0, 999999)),
        ("2024-5-01T12:30:00.999999999Z", utc(2024, 5, 1, 12, 30, 0, 999999)),
        ("2024-05-01T12:30:00,5Z", utc(2024, 5, 1, 12, 30, 0, 500000)),
        # separators, date only, naive, trailing UTC, whitespace
        ("2024-05-01 12:30:00", utc(2024, 5, 1, 12, 30)),
        ("2024-05-01", utc(2024, 5, 1)),
        ("2024-5-1", utc(2024, 5, 1)),
        ("2024-05-01T12:30:00", utc(2024, 5, 1, 12, 30)),
        ("2024-05-01 12:30:00 UTC", utc(2024, 5, 1, 12, 30)),
        ("  2024-05-01T12:30:00Z\n", utc(2024, 5, 1, 12, 30)),
        # range edges
        ("1970-01-01T00:00:00Z", utc(1970, 1, 1)),
        ("1969-12-31T23:30:00-01:00", utc(1970, 1, 1, 0, 30)),
        ("2200-12-31T23:59:59.999999Z", utc(2200, 12, 31, 23, 59, 59, 999999)),
        # epoch seconds and milliseconds
        (0, utc(1970, 1, 1)),
        (1714566600, utc(2024, 5, 1, 12, 30)),
        (1714566600.5, utc(2024, 5, 1, 12, 30, 0, 500000)),
        (1714566600250, utc(2024, 5, 1, 12, 30, 0, 250000)),
        (1714566600250.0, utc(2024, 5, 1, 12, 30, 0, 250000)),
        (100_000_000_001, utc(1973, 3, 3, 9, 46, 40, 1000)),
        (99_999_999, utc(1973, 3, 3, 9, 46, 39)),
        # values that are already dates
        (
            datetime(2024, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2))),
            utc(2024, 5, 1, 12, 30),
        ),
        (date(2024, 5, 1), utc(2024, 5, 1)),
    ],
)
def test_parse_timestamp_accepts(value: object, expected: datetime) -> None:
    parsed = parse_timestamp(value)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty string"),
        ("   ", "empty string"),
        ("yesterday", "not a valid ISO-8601"),
        ("2024-13-01T00:00:00Z", "not a valid ISO-8601"),
        ("2024-02-30", "not a valid ISO-8601"),
        ("2024-05-01T25:00:00Z", "not a valid ISO-8601"),
        ("2024-05-01T12:30:00+24:00", "not a valid ISO-8601"),
        ("2024-05-01T12:30:00 PST", "not a valid ISO-8601"),
        ("05/01/2024", "not a valid ISO-8601"),
        ("1714566600", "not a valid ISO-8601"),
        ("2024-05-01T12:30:00Z" * 5, "too long"),
        ("1900-01-01T00:00:00Z", "out of range"),
        ("1969-12-31T23:59:59Z", "out of range"),
        ("2201-01-01T00:00:00Z", "out of range"),
        ("0001-01-01T00:00:00+01:00", "out of range"),
        ("9999-12-31T23:59:59-01:00", "out of range"),
        (-1, "out of range"),
        (7_289_654_400, "out of range"),  # 2201-01-01 in seconds
        (99_999_999_999, "out of range"),  # still seconds: the year 5138
        (7_289_654_400_000, "out of range"),  # 2201-01-01 in milliseconds
        (10**400, "out of range"),
        (-(10**400), "out of range"),
        (float("nan"), "not a finite number"),
        (float("inf"), "not a finite number"),
        (float("-inf"), "not a finite number"),
        (True, "boolean"),
        (False, "boolean"),
        (None, "null"),
        ([2024, 5, 1], "is a list"),
        ({"date": "2024-05-01"}, "is a dict"),
    ],
)
def test_parse_timestamp_rejects_with_a_helpful_message(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        parse_timestamp(value)
    assert "2024-05-01T12:30:00.000Z" in str(caught.value)  # every message says what to send


_OFFSETS = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
_SECOND_OFFSETS = st.integers(min_value=-86399, max_value=86399).map(
    lambda seconds: timezone(timedelta(seconds=seconds))
)
# One day of margin on each side keeps the UTC instant inside 1970..2200 for any offset.
_AWARE = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(2200, 12, 30),
    timezones=st.one_of(st.just(UTC), _OFFSETS, _SECOND_OFFSETS),
)
_TRUNCATE = {
    "auto": lambda dt: dt,
    "microseconds": lambda dt: dt,
    "milliseconds": lambda dt: dt.replace(microsecond=dt.microsecond // 1000 * 1000),
    "seconds": lambda dt: dt.replace(microsecond=0),
    "minutes": lambda dt: dt.replace(second=0, microsecond=0),
    "hours": lambda dt: dt.replace(minute=0, second=0, microsecond=0),
}


@given(_AWARE, st.sampled_from(sorted(_TRUNCATE)))
def test_parse_timestamp_round_trips_isoformat(dt: datetime, timespec: str) -> None:
    parsed = parse_timestamp(dt.isoformat(timespec=timespec))
    assert parsed == _TRUNCATE[timespec](dt)
    assert parsed.tzinfo is UTC


@given(_AWARE)
def test_parse_timestamp_round_trips_z_suffix(dt: datetime) -> None:
    text = dt.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert parse_timestamp(text) == dt


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 12, 30)), _OFFSETS)
def test_parse_timestamp_round_trips_compact_offsets(naive: datetime, tz: timezone) -> None:
    dt = naive.replace(tzinfo=tz)
    text = dt.isoformat()
    compact = text[:-3] + text[-2:]  # "+05:30" -> "+0530"
    assert re.search(r"[+-][0-9]{4}$", compact)
    assert parse_timestamp(compact) == dt


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 12, 30)))
def test_parse_timestamp_reads_epoch_numbers(naive: datetime) -> None:
    dt = naive.replace(tzinfo=UTC)
    seconds = (dt - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1)
    assert parse_timestamp(seconds) == dt.replace(microsecond=0)
    millis = (dt - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    if millis > 100_000_000_000:
        assert parse_timestamp(millis) == dt.replace(microsecond=dt.microsecond // 1000 * 1000)


_TIMESTAMPISH = st.from_regex(
    r"[0-9]{1,5}-[0-9]{1,3}-[0-9]{1,3}"
    r"([Tt ][0-9]{1,3}(:[0-9]{1,3}(:[0-9]{1,3}([.,][0-9]{0,12})?)?)?)?"
    r" ?(Z|z|UTC|[+-][0-9]{1,2}(:?[0-9]{1,3})?)?",
    fullmatch=True,
)


@given(st.one_of(st.text(), _TIMESTAMPISH))
def test_parse_timestamp_returns_utc_or_raises_value_error(text: str) -> None:
    try:
        parsed = parse_timestamp(text)
    except ValueError:
        return
    assert parsed.tzinfo is UTC
    assert 1970 <= parsed.year <= 2200


@given(st.one_of(st.integers(), st.floats(), st.booleans(), st.none()))
def test_parse_timestamp_on_numbers_returns_utc_or_raises_value_error(value: object) -> None:
    try:
        parsed = parse_timestamp(value)
    except ValueError:
        return
    assert parsed.tzinfo is UTC
    assert 1970 <= parsed.year <= 2200


# --- normalize_email ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada.Lovelace@Example.COM\t", "ada.lovelace@example.com"),
        ("", ""),
    ],
)
def test_normalize_email(value: str, expected: str) -> None:
    assert normalize_email(value) == expected


@given(st.text())
def test_normalize_email_is_idempotent(text: str) -> None:
    once = normalize_email(text)
    assert normalize_email(once) == once


# --- normalize_country --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("US", "US"),
        ("us", "US"),
        (" gb ", "GB"),
        ("DEU", "DE"),
        ("fra", "FR"),
        ("Germany", "DE"),
        ("germany", "DE"),
        ("  FRANCE  ", "FR"),
        ("United States", "US"),
        ("United States of America", "US"),
        ("united   states", "US"),
        ("Russian Federation", "RU"),
        ("Korea, Republic of", "KR"),
        ("Côte d'Ivoire", "CI"),
        ("Cote d'Ivoire", "CI"),
        ("Cote d\u2019Ivoire", "CI"),
        ("Czechia", "CZ"),
        ("Bolivia", "BO"),
        # the alias table
        ("UK", "GB"),
        ("U.K.", "GB"),
        ("England", "GB"),
        ("Scotland", "GB"),
        ("Wales", "GB"),
        ("Great Britain", "GB"),
        ("USA", "US"),
        ("U.S.", "US"),
        ("U.S.A.", "US"),
        ("Russia", "RU"),
        ("South Korea", "KR"),
        ("Korea", "KR"),
        ("North Korea", "KP"),
        ("Vietnam", "VN"),
        ("Iran", "IR"),
        ("Czech Republic", "CZ"),
        ("Holland", "NL"),
        ("The Netherlands", "NL"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("Ivory Coast", "CI"),
        ("UAE", "AE"),
        ("EL", "GR"),
        # unknown
        ("Atlantis", None),
        ("", None),
        ("   ", None),
        ("XX", None),
        ("EU", None),
        ("Deutschland", None),
    ],
)
def test_normalize_country(value: str, expected: str | None) -> None:
    assert normalize_country(value) == expected


@given(st.text())
def test_normalize_country_returns_none_or_an_alpha_2_code(text: str) -> None:
    code = normalize_country(text)
    assert code is None or re.fullmatch(r"[A-Z]{2}", code)


# --- normalize_locale ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("en-US", "en-US"),
        ("en_us", "en-US"),
        ("EN", "en"),
        ("en", "en"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("ZH_HANS", "zh-Hans"),
        ("sr-latn", "sr-Latn"),
        ("es-419", "es-419"),
        ("fil-PH", "fil-PH"),
        ("de_DE.UTF-8", "de-DE"),
        ("de_DE@euro", "de-DE"),
        ("  fr-ca ", "fr-CA"),
        ("de-CH-1901", "de-CH-1901"),
        ("sl-rozaj", "sl-rozaj"),
        ("en-US-u-ca-gregory", "en-US"),
        ("en-x-private", "en"),
        # garbage
        ("", None),
        ("C", None),
        ("POSIX", None),
        ("english", None),
        ("en-", None),
        ("en--US", None),
        ("en-USA-x", None),
        ("12-34", None),
        ("not a locale", None),
        ("ün-DE", None),
        ("en-" + "a" * 40, None),
    ],
)
def test_normalize_locale(value: str, expected: str | None) -> None:
    assert normalize_locale(value) == expected


@given(st.text())
def test_normalize_locale_is_idempotent(text: str) -> None:
    once = normalize_locale(text)
    if once is not None:
        assert normalize_locale(once) == once


# --- coerce_scalar ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("false", False),
        ("TRUE", True),
        (" False ", False),
        ("42", 42),
        ("0", 0),
        ("-7", -7),
        (" 42 ", 42),
        ("9223372036854775807", 2**63 - 1),
        ("-9223372036854775808", -(2**63)),
        ("3.5", 3.5),
        ("-0.25", -0.25),
        ("0.5", 0.5),
        ("19.90", 19.9),
        ("0.000001", 0.000001),
        ("123456789.012345", 123456789.012345),
    ],
)
def test_coerce_scalar_converts(value: str, expected: JSON) -> None:
    result = coerce_scalar(value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    "value",
    [
        "007",
        "02134",
        "00",
        "-0",
        "-01",
        "+1",
        "+1.5",
        "1,000",
        "1_000",
        "1e3",
        "1E3",
        "1.5e-3",
        "nan",
        "NaN",
        "inf",
        "-Infinity",
        "",
        "   ",
        "\t\n",
        ".5",
        "5.",
        "-.5",
        "00.5",
        "-0.0",
        "1.2.3",
        "0x1F",
        "١٢٣",  # Arabic-Indic digits
        "9223372036854775808",  # beyond 64 bits
        "1234567890.1234567",  # beyond double precision
        "yes",
        "no",
        "on",
        "t",
        "truee",
        "hello",
        "12 apples",
    ],
)
def test_coerce_scalar_leaves_non_canonical_strings_alone(value: str) -> None:
    assert coerce_scalar(value) is value


_CANONICAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?|true|false", re.ASCII | re.IGNORECASE)


@given(
    st.one_of(st.text(), st.from_regex(r"\s*[-+]?[0-9]{1,20}(\.[0-9]{0,20})?\s*", fullmatch=True))
)
def test_coerce_scalar_only_changes_canonical_strings(text: str) -> None:
    result = coerce_scalar(text)
    if isinstance(result, str):
        assert result is text
        assert coerce_scalar(result) is result
        return
    stripped = text.strip()
    assert _CANONICAL.fullmatch(stripped)
    if isinstance(result, bool):
        assert str(result).lower() == stripped.lower()
    elif isinstance(result, int):
        assert str(result) == stripped  # round-trips exactly
    else:
        assert isinstance(result, float)
        assert result == float(stripped)


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_coerce_scalar_reads_every_int64(number: int) -> None:
    assert coerce_scalar(str(number)) == number


@given(st.from_regex(r"0[0-9]+(\.[0-9]+)?", fullmatch=True))
def test_coerce_scalar_never_strips_leading_zeros(text: str) -> None:
    if not re.fullmatch(r"0\.[0-9]+", text):
        assert coerce_scalar(text) is text


# --- normalize_traits / normalize_properties ----------------------------------------------


@pytest.mark.parametrize(
    ("traits", "coerce", "expected"),
    [
        (
            {"email": "  Ada@Example.COM ", "name": "Ada"},
            False,
            {"email": "ada@example.com", "name": "Ada"},
        ),
        ({"email": 42}, True, {"email": 42}),
        ({"email": "TRUE"}, True, {"email": "true"}),
        ({"Email": "Ada@Example.COM"}, False, {"Email": "Ada@Example.COM"}),
        ({"country": "uk"}, False, {"country": "GB"}),
        ({"country": "Atlantis"}, False, {"country": "Atlantis"}),
        ({"country": " atlantis "}, True, {"country": " atlantis "}),
        ({"country": 1}, True, {"country": 1}),
        (
            {"address": {"city": "Paris", "country": "france", "postalCode": "75001"}},
            True,
            {"address": {"city": "Paris", "country": "FR", "postalCode": "75001"}},
        ),
        ({"address": {"country": "Narnia"}}, False, {"address": {"country": "Narnia"}}),
        ({"address": "1 Main St"}, True, {"address": "1 Main St"}),
        ({"address": {"email": "A@B.C"}}, False, {"address": {"email": "A@B.C"}}),
        # coercion on and off
        (
            {"age": "36", "vip": "true", "score": "4.5", "plan": "pro"},
            True,
            {"age": 36, "vip": True, "score": 4.5, "plan": "pro"},
        ),
        ({"age": "36", "vip": "true"}, False, {"age": "36", "vip": "true"}),
        # id-like keys are never coerced
        (
            {
                "id": "42",
                "userId": "42",
                "account_id": "42",
                "ID": "42",
                "externalid": "42",
                "zip": "02134",
                "zipCode": "2134",
                "postal": "1234",
                "phone": "5551234",
                "mobilePhone": "5551234",
                "promoCode": "10",
                "Postcode": "1234",
                "paid": "true",
            },
            True,
            {
                "id": "42",
                "userId": "42",
                "account_id": "42",
                "ID": "42",
                "externalid": "42",
                "zip": "02134",
                "zipCode": "2134",
                "postal": "1234",
                "phone": "5551234",
                "mobilePhone": "5551234",
                "promoCode": "10",
                "Postcode": "1234",
                "paid": "true",
            },
        ),
        # nested values are left alone; keys kept as sent
        (
            {"prefs": {"dark": "true"}, "tags": ["1", "2"], "Weird Key ": "7"},
            True,
            {"prefs": {"dark": "true"}, "tags": ["1", "2"], "Weird Key ": 7},
        ),
        ({}, True, {}),
    ],
)
def test_normalize_traits(traits: JSONObject, coerce: bool, expected: JSONObject) -> None:
    before = copy.deepcopy(traits)
    result = normalize_traits(traits, coerce=coerce)
    assert result == expected
    assert result is not traits
    assert traits == before


@pytest.mark.parametrize(
    ("properties", "coerce", "expected"),
    [
        (
            {"revenue": "19.90", "quantity": "3", "gift": "FALSE", "currency": "USD"},
            True,
            {"revenue": 19.9, "quantity": 3, "gift": False, "currency": "USD"},
        ),
        ({"revenue": "19.90"}, False, {"revenue": "19.90"}),
        (
            {"orderId": "0042", "sku": "007", "couponCode": "10", "email": "true", "country": "1"},
            True,
            {"orderId": "0042", "sku": "007", "couponCode": "10", "email": "true", "country": "1"},
        ),
        ({"email": " A@B.C "}, True, {"email": " A@B.C "}),  # only traits normalize emails
        ({"country": "uk"}, True, {"country": "uk"}),
        ({"nested": {"n": "1"}, "list": ["1"]}, True, {"nested": {"n": "1"}, "list": ["1"]}),
    ],
)
def test_normalize_properties(properties: JSONObject, coerce: bool, expected: JSONObject) -> None:
    before = copy.deepcopy(properties)
    result = normalize_properties(properties, coerce=coerce)
    assert result == expected
    assert result is not properties
    assert properties == before


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["true", "False", "42", "007", "-3.25", " 7 ", "UK", "germany", "A@B.C"]),
)
_JSON = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=20,
)
_KEYS = st.one_of(
    st.sampled_from(
        ["email", "country", "address", "id", "userId", "zip", "phone", "age", "vip", "plan"]
    ),
    st.text(max_size=10),
)
_ADDRESS = st.dictionaries(st.sampled_from(["country", "city", "postalCode"]), _SCALARS, max_size=3)
_OBJECTS = st.dictionaries(_KEYS, st.one_of(_JSON, _ADDRESS), max_size=8)


@given(_OBJECTS, st.booleans())
def test_normalize_traits_never_mutates_and_is_idempotent(traits: JSONObject, coerce: bool) -> None:
    before = copy.deepcopy(traits)
    once = normalize_traits(traits, coerce=coerce)
    assert traits == before
    assert list(once) == list(traits)  # same keys, same order
    twice = normalize_traits(once, coerce=coerce)
    assert twice == once


@given(_OBJECTS, st.booleans())
def test_normalize_properties_never_mutates_and_is_idempotent(
    properties: JSONObject, coerce: bool
) -> None:
    before = copy.deepcopy(properties)
    once = normalize_properties(properties, coerce=coerce)
    assert properties == before
    assert list(once) == list(properties)
    assert normalize_properties(once, coerce=coerce) == once
