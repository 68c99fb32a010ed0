"""Property tests of the tracking API: no input is a server error, and nothing valid is lost.

A 5xx tells Segment clients to retry (reference §6), so bad input must always get a 4xx
(or a 200 with the bad items quarantined) and a JSON body.
"""

from __future__ import annotations

import gzip
import json
import uuid
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firstmile.clock import FixedClock
from firstmile.service import Firstmile

from .support import EVENT_TYPES, LONG_ROUTES, SHORT_ROUTES, TestClient, basic

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one app per test; examples don't share ids
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

ROUTES = sorted(LONG_ROUTES | SHORT_ROUTES)
ENDPOINTS = [f"/v1/{route}{slash}" for route in ROUTES for slash in ("", "/")]
BATCH_ENDPOINTS = [
    f"/v1/{route}{slash}"
    for route, kind in sorted((LONG_ROUTES | SHORT_ROUTES).items())
    if kind == "batch"
    for slash in ("", "/")
]
SINGLE_ROUTES: dict[str, list[str]] = {
    kind: [f"/v1/{route}{slash}" for route in (kind, kind[0]) for slash in ("", "/")]
    for kind in EVENT_TYPES
}

SPEC_KEYS = (
    "type",
    "userId",
    "anonymousId",
    "previousId",
    "groupId",
    "event",
    "name",
    "category",
    "messageId",
    "timestamp",
    "sentAt",
    "context",
    "traits",
    "properties",
    "integrations",
    "batch",
    "writeKey",
)


def assert_not_a_server_error(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict)
    if response.status_code == 200:
        assert body["success"] is True
    else:
        assert isinstance(body["code"], str)
        assert isinstance(body["message"], str)
        assert body["status"] == response.status_code
    return body


def pending_quarantine(fm: Firstmile) -> int:
    return sum(fm.store.quarantine_reasons().values())


def refill(clock: FixedClock) -> None:
    """Move the fixed clock so the rate limiter never refuses a fuzzing request."""
    clock.advance(timedelta(seconds=5))


# -- arbitrary input ----------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["", "2026-11-25T12:00:00Z", "track", "u1", "1e400", "-0"])
)
json_documents = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=6)
        | st.dictionaries(st.sampled_from(SPEC_KEYS) | st.text(max_size=8), children, max_size=8)
    ),
    max_leaves=30,
)


@FUZZ
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    raw=st.binary(max_size=600),
    content_type=st.sampled_from([None, "application/json", "text/plain", "application/x-www"]),
    encoding=st.sampled_from([None, "gzip", "gzip-valid", "deflate", "deflate-valid", "br"]),
    authenticated=st.booleans(),
)
def test_arbitrary_bytes_never_make_a_server_error(
    client: TestClient,
    write_key: str,
    clock: FixedClock,
    endpoint: str,
    raw: bytes,
    content_type: str | None,
    encoding: str | None,
    authenticated: bool,
) -> None:
    refill(clock)
    headers = basic(write_key) if authenticated else {}
    if content_type:
        headers["Content-Type"] = content_type
    if encoding == "gzip-valid":
        raw, encoding = gzip.compress(raw), "gzip"
    elif encoding == "deflate-valid":
        raw, encoding = zlib.compress(raw), "deflate"
    if encoding:
        headers["Content-Encoding"] = encoding

    assert_not_a_server_error(client.post(endpoint, content=raw, headers=headers))


@FUZZ
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    document=json_documents
    | st.fixed_dictionaries({"batch": st.lists(json_documents, max_size=8)}, optional={
        "context": json_documents, "integrations": json_documents, "sentAt": json_documents,
    }),
    key_in=st.sampled_from(["header", "body", "none"]),
)  # fmt: skip
def test_arbitrary_json_documents_never_make_a_server_error(
    client: TestClient,
    fm: Firstmile,
    write_key: str,
    clock: FixedClock,
    endpoint: str,
    document: Any,
    key_in: str,
) -> None:
    refill(clock)
    headers = basic(write_key) if key_in == "header" else {}
    if key_in == "body" and isinstance(document, dict):
        document = {**document, "writeKey": write_key}
    quarantined_before = pending_quarantine(fm)

    # json.dumps writes NaN and Infinity, which are not JSON: those must be a 400 too.
    response = client.post(endpoint, content=json.dumps(document), headers=headers)
    body = assert_not_a_server_error(response)

    if response.status_code == 200:
        items = document["batch"] if endpoint in BATCH_ENDPOINTS else [document]
        counted = body["accepted"] + body["duplicates"] + len(body["quarantined"])
        assert counted == len(items)
        assert pending_quarantine(fm) == quarantined_before + len(body["quarantined"])
    elif response.status_code in (400, 401, 413):
        # Only a whole message refused on a single-message endpoint is quarantined.
        assert pending_quarantine(fm) - quarantined_before in (0, 1)


# -- mutated valid messages: nothing valid is lost ----------------------------------------

text = st.text(st.characters(codec="utf-8"), max_size=12)
values = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
fields = st.dictionaries(st.from_regex(r"p_[a-z]{1,6}", fullmatch=True), values, max_size=4)
times = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2199, 1, 1), timezones=st.just(UTC)
).map(lambda moment: moment.isoformat(timespec="milliseconds"))


@st.composite
def valid_messages(draw: st.DrawFn, people: str) -> dict[str, Any]:
    """A valid message of any type; ids come from a small pool so profiles merge."""
    kind = draw(st.sampled_from(EVENT_TYPES))
    user_ids = st.sampled_from([f"{people}-u{i}" for i in range(3)])
    anonymous_ids = st.sampled_from([f"{people}-a{i}" for i in range(3)])
    item: dict[str, Any] = {"type": kind, "messageId": str(uuid.uuid4())}
    if kind == "alias":
        item["userId"] = draw(user_ids)
        item["previousId"] = draw(anonymous_ids | user_ids)
    else:
        who = draw(st.sampled_from(["user", "anonymous", "both"]))
        item["userId"] = draw(user_ids) if who != "anonymous" else None
        item["anonymousId"] = draw(anonymous_ids) if who != "user" else None
    if kind == "track":
        item["event"] = draw(text.filter(bool))
        item["properties"] = draw(st.none() | fields)
    elif kind in ("page", "screen"):
        item["name"] = draw(st.none() | text)
        item["category"] = draw(st.none() | text)
        item["properties"] = draw(st.none() | fields)
    elif kind == "group":
        item["groupId"] = draw(st.sampled_from(["acme", "globex", "42"]))
        item["traits"] = draw(st.none() | fields)
    elif kind == "identify":
        item["traits"] = draw(st.none() | fields)
    item["timestamp"] = draw(st.none() | times)
    item["sentAt"] = draw(st.none() | times)
    item["context"] = draw(st.none() | st.fixed_dictionaries({}, optional={"p_x": values}))
    item["integrations"] = draw(st.none() | st.just({}) | st.just({"All": True}))
    return item


def _drop(*keys: str) -> Callable[[dict[str, Any]], Any]:
    return lambda item: {key: value for key, value in item.items() if key not in keys}


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda item: {**item, key: value}


def _missing_required(item: dict[str, Any]) -> Any:
    required = {"alias": ("previousId",), "track": ("event",), "group": ("groupId",)}
    return _drop(*required.get(item["type"], ("userId", "anonymousId")))(item)


# Each mutation makes a valid message invalid, whatever the message.
MUTATIONS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "no ids": _drop("userId", "anonymousId", "previousId"),
    "missing required field": _missing_required,
    "user id is an object": _set("userId", {"id": 1}),
    "user id is a boolean": _set("userId", True),
    "bad timestamp": _set("timestamp", "the day after tomorrow"),
    "timestamp out of range": _set("sentAt", "1900-01-01T00:00:00Z"),
    "properties is a list": _set("properties", [1, 2]),
    "traits is a string": _set("traits", "vip"),
    "context is a number": _set("context", 7),
    "message id too long": _set("messageId", "m" * 101),
    "name is a number": _set("name", 3),
    "too large": _set("properties", {"pad": "x" * 33_000}),
}
BATCH_ONLY_MUTATIONS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "no type": _drop("type"),
    "unknown type": _set("type", "purchase"),
    "type is a number": _set("type", 1),
    "not an object": lambda item: item["messageId"],
    "a list": lambda item: [item],
    "null": lambda item: None,
}


@st.composite
def mixed_batches(draw: st.DrawFn) -> list[tuple[Any, bool]]:
    people = uuid.uuid4().hex[:8]  # fresh ids: each example starts with new profiles
    size = draw(st.integers(1, 12))  # 12 x 33 KB (too large) stays under 500 KB
    mutations = st.sampled_from(sorted(MUTATIONS | BATCH_ONLY_MUTATIONS))
    items: list[tuple[Any, bool]] = []
    for _ in range(size):
        item = draw(valid_messages(people))
        if draw(st.integers(0, 3)) == 0:
            items.append(((MUTATIONS | BATCH_ONLY_MUTATIONS)[draw(mutations)](item), False))
        else:
            items.append((item, True))
    return items


def stored_message_ids(fm: Firstmile, items: list[dict[str, Any]]) -> set[str]:
    """Every message id stored in the profiles the given messages' ids belong to."""
    ids = {
        value
        for item in items
        for value in (item.get("userId"), item.get("anonymousId"), item.get("previousId"))
        if value is not None
    }
    profiles = {fm.find_profile_id(value) for value in ids}
    return {
        event.message_id
        for profile_id in profiles
        for event in fm.store.events(profile_id, limit=100_000)
    }


@FUZZ
@given(
    batch=mixed_batches(),
    endpoint=st.sampled_from(BATCH_ENDPOINTS),
    compress=st.booleans(),
    envelope=st.fixed_dictionaries(
        {},
        optional={
            "context": st.none() | st.just({"app": {"name": "fuzz"}}),
            "integrations": st.none() | st.just({"All": False}),
            "sentAt": st.none() | times,
        },
    ),
)
def test_batches_lose_nothing_valid(
    client: TestClient,
    fm: Firstmile,
    write_key: str,
    clock: FixedClock,
    batch: list[tuple[Any, bool]],
    endpoint: str,
    compress: bool,
    envelope: dict[str, Any],
) -> None:
    refill(clock)
    quarantined_before = pending_quarantine(fm)
    raw = json.dumps({"batch": [item for item, _ in batch], **envelope}).encode()
    headers = basic(write_key)
    if compress:
        raw = gzip.compress(raw)
        headers["Content-Encoding"] = "gzip"

    response = client.post(endpoint, content=raw, headers=headers)

    body = assert_not_a_server_error(response)
    assert response.status_code == 200
    valid = [item for item, ok in batch if ok]
    invalid_indexes = [index for index, (_, ok) in enumerate(batch) if not ok]
    assert body["duplicates"] == 0
    assert body["accepted"] + len(body["quarantined"]) == len(batch)
    assert body["accepted"] == len(valid)
    assert [q["index"] for q in body["quarantined"]] == invalid_indexes
    assert pending_quarantine(fm) == quarantined_before + len(invalid_indexes)
    if valid:
        assert {item["messageId"] for item in valid} <= stored_message_ids(fm, valid)


@FUZZ
@given(
    item=valid_messages("single"),
    mutation=st.none() | st.sampled_from(sorted(MUTATIONS)),
    data=st.data(),
)
def test_single_messages_are_stored_or_quarantined(
    client: TestClient,
    fm: Firstmile,
    write_key: str,
    clock: FixedClock,
    item: dict[str, Any],
    mutation: str | None,
    data: st.DataObject,
) -> None:
    refill(clock)
    endpoint = data.draw(st.sampled_from(SINGLE_ROUTES[item["type"]]))
    sent = {key: value for key, value in item.items() if key != "type"}
    if mutation is not None:
        sent = MUTATIONS[mutation](item)
        sent.pop("type", None)
    quarantined_before = pending_quarantine(fm)

    response = client.post(endpoint, json=sent, headers=basic(write_key))

    body = assert_not_a_server_error(response)
    if mutation is None:
        assert response.status_code == 200
        assert body["accepted"] + body["duplicates"] == 1
        assert item["messageId"] in stored_message_ids(fm, [item])
        assert pending_quarantine(fm) == quarantined_before
    else:
        assert response.status_code == 400
        assert body["code"] == "invalid_event"
        assert pending_quarantine(fm) == quarantined_before + 1
