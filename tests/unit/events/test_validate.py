"""Tests for firstmile.events.validate: rejections, ids, timestamps, IPs and consent."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmile.events.model import Event, Purpose, QuarantineReason, Rejection
from firstmile.events.validate import (
    MAX_MESSAGE_ID_LENGTH,
    RequestFacts,
    derived_message_id,
    to_event,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FACTS = RequestFacts(received_at=NOW)

TRACK: dict[str, Any] = {"type": "track", "userId": "u1", "event": "Signed Up"}
VALID: dict[str, dict[str, Any]] = {
    "identify": {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}},
    "track": TRACK,
    "page": {"type": "page", "anonymousId": "a1", "name": "Home"},
    "screen": {"type": "screen", "anonymousId": "a1", "name": "Home"},
    "group": {"type": "group", "userId": "u1", "groupId": "g1"},
    "alias": {"type": "alias", "previousId": "a1", "userId": "u1"},
}


def accepted(item: Any, facts: RequestFacts = FACTS) -> Event:
    outcome = to_event(item, facts)
    assert isinstance(outcome, Event), outcome
    return outcome


def rejected(item: Any, facts: RequestFacts = FACTS) -> Rejection:
    outcome = to_event(item, facts)
    assert isinstance(outcome, Rejection), outcome
    return outcome


# --- rejections -----------------------------------------------------------------------------

R = QuarantineReason
REJECTIONS: list[tuple[str, Any, QuarantineReason, str | None]] = [
    ("a string item", "junk", R.NOT_AN_OBJECT, None),
    ("a list item", [TRACK], R.NOT_AN_OBJECT, None),
    ("a null item", None, R.NOT_AN_OBJECT, None),
    ("too large", {**TRACK, "properties": {"pad": "x" * 40_000}}, R.TOO_LARGE, None),
    ("no type", {"userId": "u1", "event": "A"}, R.MISSING_TYPE, "type"),
    ("null type", {**TRACK, "type": None}, R.MISSING_TYPE, "type"),
    ("empty type", {**TRACK, "type": ""}, R.MISSING_TYPE, "type"),
    ("unknown type", {**TRACK, "type": "click"}, R.UNKNOWN_TYPE, "type"),
    ("capitalized type", {**TRACK, "type": "Track"}, R.UNKNOWN_TYPE, "type"),
    ("numeric type", {**TRACK, "type": 3}, R.UNKNOWN_TYPE, "type"),
    ("list type", {**TRACK, "type": ["track"]}, R.UNKNOWN_TYPE, "type"),
    ("no ids", {"type": "track", "event": "A"}, R.MISSING_ID, "userId"),
    (
        "null ids (python lib)",
        {"type": "page", "userId": None, "anonymousId": None},
        R.MISSING_ID,
        "userId",
    ),
    ("empty ids", {"type": "identify", "userId": "", "anonymousId": ""}, R.MISSING_ID, "userId"),
    ("track without event", {"type": "track", "userId": "u1"}, R.MISSING_EVENT, "event"),
    ("track with null event", {**TRACK, "event": None}, R.MISSING_EVENT, "event"),
    ("track with empty event", {**TRACK, "event": ""}, R.MISSING_EVENT, "event"),
    ("track with numeric event", {**TRACK, "event": 5}, R.BAD_TYPE, "event"),
    ("group without groupId", {"type": "group", "userId": "u1"}, R.MISSING_FIELD, "groupId"),
    ("group with empty groupId", {**VALID["group"], "groupId": ""}, R.MISSING_FIELD, "groupId"),
    ("group with bool groupId", {**VALID["group"], "groupId": True}, R.BAD_TYPE, "groupId"),
    ("alias without previousId", {"type": "alias", "userId": "u1"}, R.MISSING_FIELD, "previousId"),
    (
        "alias without userId",
        {"type": "alias", "previousId": "a1", "anonymousId": "a1"},
        R.MISSING_FIELD,
        "userId",
    ),
    ("bool userId", {**TRACK, "userId": True}, R.BAD_TYPE, "userId"),
    ("false anonymousId", {**TRACK, "anonymousId": False}, R.BAD_TYPE, "anonymousId"),
    ("object userId", {**TRACK, "userId": {"id": 1}}, R.BAD_TYPE, "userId"),
    ("list anonymousId", {**TRACK, "anonymousId": ["a"]}, R.BAD_TYPE, "anonymousId"),
    ("bool previousId", {**VALID["alias"], "previousId": True}, R.BAD_TYPE, "previousId"),
    ("bool messageId", {**TRACK, "messageId": True}, R.BAD_TYPE, "messageId"),
    ("long messageId", {**TRACK, "messageId": "m" * 101}, R.BAD_TYPE, "messageId"),
    ("string context", {**TRACK, "context": "ctx"}, R.BAD_TYPE, "context"),
    ("list properties", {**TRACK, "properties": [1]}, R.BAD_TYPE, "properties"),
    ("string traits", {**VALID["identify"], "traits": "t"}, R.BAD_TYPE, "traits"),
    ("numeric integrations", {**TRACK, "integrations": 1}, R.BAD_TYPE, "integrations"),
    ("numeric name", {**VALID["page"], "name": 5}, R.BAD_TYPE, "name"),
    ("object category", {**VALID["page"], "category": {}}, R.BAD_TYPE, "category"),
    ("bad timestamp", {**TRACK, "timestamp": "yesterday"}, R.BAD_TIMESTAMP, "timestamp"),
    ("bool timestamp", {**TRACK, "timestamp": True}, R.BAD_TIMESTAMP, "timestamp"),
    ("old timestamp", {**TRACK, "timestamp": "1900-01-01"}, R.BAD_TIMESTAMP, "timestamp"),
    ("bad sentAt", {**TRACK, "sentAt": "2026-13-45"}, R.BAD_TIMESTAMP, "sentAt"),
]


@pytest.mark.parametrize(
    ("item", "reason", "field"),
    [case[1:] for case in REJECTIONS],
    ids=[case[0] for case in REJECTIONS],
)
def test_rejections_name_their_reason_and_field(
    item: Any, reason: QuarantineReason, field: str | None
) -> None:
    rejection = rejected(item)
    assert rejection.reason is reason
    assert rejection.field == field
    assert rejection.message  # says what to fix
    assert rejection.payload == (item if isinstance(item, dict) else {"item": item})


def test_every_per_item_reason_is_covered() -> None:
    # INVALID_JSON and BATCH_OVERFLOW are decided for the request, not one item: see
    # tests/unit/test_pipeline.py.
    request_level = {R.INVALID_JSON, R.BATCH_OVERFLOW}
    assert {case[2] for case in REJECTIONS} == set(QuarantineReason) - request_level


def test_a_rejection_keeps_the_message_id_when_it_is_a_string() -> None:
    assert rejected({"type": "track", "userId": "u1", "messageId": "m1"}).message_id == "m1"
    assert rejected({"type": "track", "userId": "u1", "messageId": 7}).message_id is None
    assert rejected({"type": "track", "userId": "u1"}).message_id is None


def test_message_size_limit_is_inclusive() -> None:
    limit = 2_000
    facts = RequestFacts(received_at=NOW, max_message_bytes=limit)
    item = {**TRACK, "properties": {"pad": ""}}
    padding = limit - len(orjson.dumps(item))
    item["properties"] = {"pad": "x" * padding}
    assert len(orjson.dumps(item)) == limit
    accepted(item, facts)
    item["properties"] = {"pad": "x" * (padding + 1)}
    assert rejected(item, facts).reason is R.TOO_LARGE


# --- ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "attribute", "expected"),
    [
        ({**TRACK, "userId": 42}, "user_id", "42"),
        ({**TRACK, "userId": 0}, "user_id", "0"),
        ({**TRACK, "anonymousId": 1.5}, "anonymous_id", "1.5"),
        ({**VALID["group"], "groupId": 7}, "group_id", "7"),
        ({**VALID["alias"], "previousId": 3, "userId": 4}, "previous_id", "3"),
        ({**VALID["alias"], "previousId": 3, "userId": 4}, "user_id", "4"),
        ({**TRACK, "messageId": 123}, "message_id", "123"),
    ],
)
def test_numeric_ids_become_strings(item: dict[str, Any], attribute: str, expected: str) -> None:
    assert getattr(accepted(item), attribute) == expected


def test_message_id_is_kept_up_to_its_limit() -> None:
    message_id = "m" * MAX_MESSAGE_ID_LENGTH
    assert accepted({**TRACK, "messageId": message_id}).message_id == message_id


def test_a_missing_message_id_is_derived_from_the_content() -> None:
    first = accepted(dict(TRACK)).message_id
    assert first.startswith("fm-")
    assert len(first) <= MAX_MESSAGE_ID_LENGTH
    assert accepted(dict(TRACK)).message_id == first  # deterministic
    assert accepted({**TRACK, "messageId": None}).message_id.startswith("fm-")
    assert accepted({**TRACK, "messageId": ""}).message_id.startswith("fm-")
    assert accepted({**TRACK, "event": "Other"}).message_id != first


@pytest.mark.parametrize(
    "extra",
    [
        {"sentAt": "2026-11-25T11:59:00Z"},
        {"sentAt": "2026-11-25T11:59:59.999Z"},
        {"writeKey": "wk"},
        {"sentAt": None, "writeKey": None},
    ],
)
def test_derived_message_id_ignores_what_changes_on_retries(extra: dict[str, Any]) -> None:
    # A client that retries sends a new sentAt; the retry must deduplicate.
    assert accepted({**TRACK, **extra}).message_id == accepted(dict(TRACK)).message_id


@given(
    st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=4),
    st.text(max_size=30),
    st.text(max_size=30),
)
def test_derived_message_id_depends_on_content_not_key_order_or_sent_at(
    content: dict[str, Any], sent_a: str, sent_b: str
) -> None:
    item = {**content, "type": "track"}
    reordered = dict(reversed(list(item.items())))
    assert derived_message_id({**item, "sentAt": sent_a}) == derived_message_id(
        {**reordered, "sentAt": sent_b}
    )


def test_integers_beyond_64_bits_are_accepted() -> None:
    # JSON has no integer limit; a library caller may pass Python ints of any size.
    event = accepted({**TRACK, "properties": {"big": 2**70}})
    assert event.properties == {"big": 2**70}
    assert event.message_id.startswith("fm-")


# --- timestamps -----------------------------------------------------------------------------

T = "2026-11-25T13:00:00Z"  # the device clock runs an hour fast
S = "2026-11-25T13:05:00Z"


@pytest.mark.parametrize(
    ("timestamp", "sent_at", "expected", "original", "sent"),
    [
        # timestamp = receivedAt - (sentAt - timestamp)
        (T, S, NOW - timedelta(minutes=5), datetime(2026, 11, 25, 13, tzinfo=UTC), True),
        # a device clock that is behind
        (
            "2026-11-25T10:00:00Z",
            "2026-11-25T10:01:00Z",
            NOW - timedelta(minutes=1),
            datetime(2026, 11, 25, 10, tzinfo=UTC),
            True,
        ),
        # a historical import sent now keeps its time
        (
            "2020-01-01T00:00:00Z",
            "2026-11-25T12:00:00Z",
            datetime(2020, 1, 1, tzinfo=UTC),
            datetime(2020, 1, 1, tzinfo=UTC),
            True,
        ),
        # no sentAt: the timestamp is kept as sent
        (
            "2026-11-25T11:00:00Z",
            None,
            datetime(2026, 11, 25, 11, tzinfo=UTC),
            datetime(2026, 11, 25, 11, tzinfo=UTC),
            False,
        ),
        # no sentAt and a time after receipt: a wrong device clock, clamped to receivedAt
        (T, None, NOW, datetime(2026, 11, 25, 13, tzinfo=UTC), False),
        # no timestamp: the server's time, whatever sentAt says
        (None, S, NOW, None, True),
        (None, None, NOW, None, False),
        ("", "", NOW, None, False),
    ],
)
def test_clock_skew_correction(
    timestamp: str | None,
    sent_at: str | None,
    expected: datetime,
    original: datetime | None,
    sent: bool,
) -> None:
    event = accepted({**TRACK, "timestamp": timestamp, "sentAt": sent_at})
    assert event.timestamp == expected
    assert event.original_timestamp == original
    assert event.received_at == NOW
    assert (event.sent_at is not None) is sent


def test_timestamps_in_any_offset_are_utc() -> None:
    event = accepted(
        {**TRACK, "timestamp": "2026-11-25T14:00:00+02:00", "sentAt": "2026-11-25T14:00:00+02:00"}
    )
    assert event.timestamp == NOW
    assert event.timestamp.utcoffset() == timedelta(0)


# --- context.ip -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("context", "browser", "request_ip", "expected"),
    [
        ({}, True, "8.8.8.8", "8.8.8.8"),
        ({"ip": "1.1.1.1"}, True, "8.8.8.8", "1.1.1.1"),  # never overwrites a sent ip
        ({}, False, "8.8.8.8", None),  # server-side: the request IP is the customer's server
        ({"direct": True}, False, "8.8.8.8", "8.8.8.8"),
        ({"direct": True, "ip": "1.1.1.1"}, False, "8.8.8.8", "1.1.1.1"),
        ({"direct": False}, False, "8.8.8.8", None),
        ({"direct": "true"}, False, "8.8.8.8", None),  # the spec's flag is a boolean
        ({}, True, None, None),
        ({"direct": True}, False, None, None),
    ],
)
def test_context_ip_comes_from_the_request_only_when_asked(
    context: dict[str, Any], browser: bool, request_ip: str | None, expected: str | None
) -> None:
    facts = RequestFacts(received_at=NOW, ip=request_ip, browser=browser)
    event = accepted({**TRACK, "context": context}, facts)
    assert event.context.get("ip") == expected
    assert context.get("ip") == (expected if "ip" in context else None)  # input untouched


@pytest.mark.parametrize(
    ("browser", "context", "country"),
    [
        (True, {}, "US"),
        (False, {"direct": True}, "US"),  # through the filled context.ip
        # a server-side library's request address is the customer's server, not the user
        (False, {}, None),
    ],
)
def test_the_request_ip_places_the_user_only_for_their_own_traffic(
    browser: bool, context: dict[str, Any], country: str | None
) -> None:
    facts = RequestFacts(received_at=NOW, ip="8.8.8.8", browser=browser)
    assert accepted({**TRACK, "context": context}, facts).enrichment.country == country


# --- optional fields and nulls --------------------------------------------------------------

OPTIONAL = [
    "anonymousId",
    "messageId",
    "timestamp",
    "sentAt",
    "context",
    "integrations",
    "traits",
    "properties",
    "name",
    "category",
    "version",
]


@pytest.mark.parametrize("kind", list(VALID))
def test_explicit_nulls_are_accepted_for_every_optional_field(kind: str) -> None:
    # segment-analytics-python sends `null` for everything it does not know.
    item = {**dict.fromkeys(OPTIONAL), **VALID[kind]}
    event = accepted(item)
    assert event.type == kind
    assert event.context == {}
    assert event.integrations == {}
    assert event.properties == {}
    assert event.timestamp == NOW


def test_python_library_identify_is_accepted() -> None:
    item = {
        "integrations": {},
        "anonymousId": None,
        "timestamp": "2026-11-25T02:25:57.967+00:00",
        "context": {"library": {"name": "analytics-python", "version": "2.4.0"}},
        "type": "identify",
        "userId": "u1",
        "traits": {"email": " A@B.c ", "plan": "pro"},
        "messageId": "ae122067-0000-4000-8000-000000000000",
        "sentAt": "2026-11-25T02:25:58.100000+00:00",
        "category": None,
    }
    event = accepted(item)
    assert event.user_id == "u1"
    assert event.anonymous_id is None
    assert event.traits == {"email": "a@b.c", "plan": "pro"}
    assert event.context == item["context"]


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("track", {"event": "Signed Up"}),
        ("page", {"name": "Home", "category": "Docs"}),
        ("screen", {"name": "Home"}),
        ("group", {"group_id": "g1"}),
        ("alias", {"previous_id": "a1", "user_id": "u1"}),
    ],
)
def test_call_specific_fields_are_read(kind: str, fields: dict[str, str]) -> None:
    item = {**VALID[kind], "category": "Docs"} if kind == "page" else VALID[kind]
    event = accepted(item)
    for attribute, value in fields.items():
        assert getattr(event, attribute) == value


def test_traits_and_properties_are_normalized_and_coercion_follows_the_facts() -> None:
    item = {
        "type": "identify",
        "userId": "u1",
        "traits": {"email": " Ada@Example.COM", "age": "36"},
        "properties": {"count": "3"},
    }
    event = accepted(item)
    assert event.traits == {"email": "ada@example.com", "age": 36}
    assert event.properties == {"count": 3}
    raw = accepted(item, RequestFacts(received_at=NOW, coerce=False))
    assert raw.traits == {"email": "ada@example.com", "age": "36"}
    assert raw.properties == {"count": "3"}


def test_to_event_does_not_modify_its_input() -> None:
    item = {
        **TRACK,
        "context": {"direct": True, "traits": {"a": "1"}},
        "properties": {"n": "1"},
        "traits": {"email": "A@B.C"},
    }
    before = copy.deepcopy(item)
    accepted(item, RequestFacts(received_at=NOW, ip="8.8.8.8"))
    assert item == before


# --- consent --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            {**TRACK, "context": {"consent": {"categoryPreferences": {"Analytics": False}}}},
            {Purpose.ANALYTICS: False},
        ),
        (
            {"type": "identify", "userId": "u1", "traits": {"consent_marketing": True}},
            {Purpose.MARKETING: True},
        ),
        (
            {
                "type": "identify",
                "userId": "u1",
                "traits": {"consent": {"analytics": "granted"}},
                "context": {"consent": {"categoryPreferences": {"analytics": False}}},
            },
            {Purpose.ANALYTICS: True},  # traits win
        ),
        ({**TRACK}, {}),
    ],
)
def test_consent_is_read_from_context_and_traits(
    item: dict[str, Any], expected: dict[Purpose, bool]
) -> None:
    assert accepted(item).consent == expected


# --- properties of the whole function -------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=12,
)
messages = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from([*VALID, "", "other"]) | json_values,
        "userId": st.sampled_from(["u1", "", 5]) | json_values,
        "anonymousId": st.sampled_from(["a1", None]) | json_values,
        "event": st.sampled_from(["A", None]) | json_values,
        "groupId": json_values,
        "previousId": json_values,
        "messageId": json_values,
        "timestamp": st.sampled_from(["2026-01-01T00:00:00Z", "2026-1-1", 1_700_000_000])
        | json_values,
        "sentAt": json_values,
        "context": json_values,
        "traits": json_values,
        "properties": json_values,
        "integrations": json_values,
        "name": json_values,
        "category": json_values,
    },
)


@given(st.one_of(messages, json_values))
def test_to_event_never_raises(item: Any) -> None:
    outcome = to_event(item, RequestFacts(received_at=NOW, ip="8.8.8.8", browser=True))
    assert isinstance(outcome, Event | Rejection)
    if isinstance(outcome, Event):
        assert outcome.user_id is not None or outcome.anonymous_id is not None
        assert len(outcome.message_id) <= MAX_MESSAGE_ID_LENGTH
        assert outcome.timestamp.tzinfo is not None
