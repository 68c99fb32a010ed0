"""The Segment-compatible tracking API over HTTP (reference §10 checklist, item by item).

Every test posts through the real ASGI app into a real SQLite file, then reads back what
was stored through the service.
"""

from __future__ import annotations

import gzip
import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from firstmile import __version__
from firstmile.api.app import create_app
from firstmile.clock import FixedClock
from firstmile.service import Firstmile
from firstmile.settings import Settings, load_settings
from firstmile.storage import open_store
from firstmile.storage.base import StoredEvent

from .support import (
    CLIENT_IP,
    LONG_ROUTES,
    SHORT_ROUTES,
    TestClient,
    basic,
    make_client,
    message,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # the `clock` fixture's time


def stored(fm: Firstmile, any_id: str) -> list[StoredEvent]:
    """Every stored event of the profile that ``any_id`` belongs to."""
    return fm.store.events(fm.find_profile_id(any_id), limit=10_000)


def by_message_id(fm: Firstmile, any_id: str) -> dict[str, StoredEvent]:
    return {event.message_id: event for event in stored(fm, any_id)}


def body_for(kind: str, **fields: Any) -> dict[str, Any]:
    """A request body for a route: one message, or a batch with one of each type."""
    if kind == "batch":
        return {
            "batch": [
                {"type": t, **message(t, **fields)}
                for t in ("identify", "track", "page", "screen", "group", "alias")
            ]
        }
    return message(kind, **fields)


ROUTES = sorted((LONG_ROUTES | SHORT_ROUTES).items())


# -- routes -------------------------------------------------------------------------------


@pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])
@pytest.mark.parametrize(("route", "kind"), ROUTES, ids=[route for route, _ in ROUTES])
def test_every_route_accepts_its_messages_without_redirect(
    client: TestClient, fm: Firstmile, write_key: str, route: str, kind: str, slash: str
) -> None:
    body = body_for(kind)
    response = client.post(f"/v1/{route}{slash}", json=body, headers=basic(write_key))

    assert response.status_code == 200, response.text
    assert not response.history  # answered in place, never a redirect
    sent = body["batch"] if kind == "batch" else [{"type": kind, **body}]
    assert response.json() == {
        "success": True,
        "accepted": len(sent),
        "duplicates": 0,
        "suppressed": 0,
        "quarantined": [],
    }
    events = by_message_id(fm, "u1")
    assert {events[m["messageId"]].type for m in sent} == {m["type"] for m in sent}


def test_single_routes_imply_the_type_whatever_the_body_says(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    body = message("track", type="identify")
    response = client.post("/v1/t", json=body, headers=basic(write_key))

    assert response.status_code == 200
    assert by_message_id(fm, "u1")[body["messageId"]].type == "track"


# -- authentication -----------------------------------------------------------------------


def test_basic_auth_with_colon(client: TestClient, fm: Firstmile, write_key: str) -> None:
    response = client.post("/v1/track", json=message("track"), headers=basic(write_key))
    assert response.status_code == 200
    assert response.json()["accepted"] == 1


def test_basic_auth_without_colon_is_accepted_too(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    headers = basic(write_key, colon=False)
    response = client.post("/v1/track", json=message("track"), headers=headers)
    assert response.status_code == 200
    assert response.json()["accepted"] == 1


def test_write_key_in_the_body_without_header(client: TestClient, write_key: str) -> None:
    response = client.post("/v1/track", json={**message("track"), "writeKey": write_key})
    assert response.status_code == 200
    assert response.json()["accepted"] == 1


def test_write_key_in_a_batch_body(client: TestClient, write_key: str) -> None:
    body = {"batch": [{"type": "track", **message("track")}], "writeKey": write_key}
    response = client.post("/v1/batch", json=body)
    assert response.status_code == 200
    assert response.json()["accepted"] == 1


def test_bearer_token_with_write_key_in_the_body(client: TestClient, write_key: str) -> None:
    headers = {"Authorization": "Bearer some-oauth-token"}
    response = client.post(
        "/v1/track", json={**message("track"), "writeKey": write_key}, headers=headers
    )
    assert response.status_code == 200
    assert response.json()["accepted"] == 1


def test_the_write_key_is_not_stored_with_the_message(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    body = {**message("track"), "writeKey": write_key}
    client.post("/v1/track", json=body)

    event = by_message_id(fm, "u1")[body["messageId"]]
    assert write_key not in json.dumps(event.payload)


@pytest.mark.parametrize(
    "how",
    ["basic", "basic-no-colon", "body", "bearer+body"],
)
def test_unknown_write_key_is_401_and_nothing_is_stored(
    client: TestClient, fm: Firstmile, write_key: str, how: str
) -> None:
    unknown = "fm_wk_" + "x" * 32
    body: dict[str, Any] = message("track")
    headers: dict[str, str] = {}
    if how == "basic":
        headers = basic(unknown)
    elif how == "basic-no-colon":
        headers = basic(unknown, colon=False)
    elif how == "body":
        body["writeKey"] = unknown
    else:
        headers = {"Authorization": "Bearer token"}
        body["writeKey"] = unknown

    response = client.post("/v1/track", json=body, headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_write_key"
    assert isinstance(response.json()["message"], str)
    assert fm.summary()["profiles"]["profiles"] == 0


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer token"}, {"Authorization": "Basic !!not-base64!!"}],
    ids=["no-header", "bearer-without-body-key", "garbage-basic"],
)
def test_no_usable_write_key_is_401(
    client: TestClient, fm: Firstmile, headers: dict[str, str]
) -> None:
    response = client.post("/v1/track", json=message("track"), headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_write_key"
    assert fm.store.counters().get("accepted", 0) == 0


def test_a_server_key_is_not_a_write_key(client: TestClient, fm: Firstmile) -> None:
    server_key = fm.create_key("server", label="backend")
    response = client.post("/v1/track", json=message("track"), headers=basic(server_key))
    assert response.status_code == 401


# -- content types and encodings ----------------------------------------------------------


def test_application_json_does_not_take_the_ip_from_the_request(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    body = message("track")
    response = client.post("/v1/track", json=body, headers=basic(write_key))

    assert response.status_code == 200
    assert "ip" not in by_message_id(fm, "u1")[body["messageId"]].payload["context"]


def test_text_plain_is_parsed_as_json_and_fills_context_ip(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    # What analytics.js sends: text/plain (no CORS preflight), key in the body, no header.
    body = {**message("track", anonymousId="anon-1"), "writeKey": write_key}
    body["context"] = {"library": {"name": "analytics.js", "version": "next-1.70.0"}}
    response = client.post(
        "/v1/t", content=json.dumps(body), headers={"Content-Type": "text/plain;charset=UTF-8"}
    )

    assert response.status_code == 200, response.text
    context = by_message_id(fm, "u1")[body["messageId"]].payload["context"]
    assert context["ip"] == CLIENT_IP
    assert context["library"]["name"] == "analytics.js"


def test_context_direct_takes_the_ip_from_the_request(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    body = message("track", context={"direct": True})
    client.post("/v1/track", json=body, headers=basic(write_key))

    assert by_message_id(fm, "u1")[body["messageId"]].payload["context"]["ip"] == CLIENT_IP


def test_an_ip_sent_in_context_is_kept(client: TestClient, fm: Firstmile, write_key: str) -> None:
    body = {**message("track", context={"ip": "8.8.8.8"}), "writeKey": write_key}
    client.post("/v1/track", content=json.dumps(body), headers={"Content-Type": "text/plain"})

    event = by_message_id(fm, "u1")[body["messageId"]]
    assert event.payload["context"]["ip"] == "8.8.8.8"
    assert event.payload["enrichment"]["country"] == "US"


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "GZIP"])
def test_gzip_bodies_are_decompressed(
    client: TestClient, fm: Firstmile, write_key: str, encoding: str
) -> None:
    batch = [{"type": "identify", **message("identify")}, {"type": "track", **message("track")}]
    raw = gzip.compress(json.dumps({"batch": batch}).encode())
    headers = {**basic(write_key), "Content-Encoding": encoding, "Content-Type": "application/json"}

    response = client.post("/v1/batch", content=raw, headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 2
    assert fm.user("u1")["traits"]["email"] == "ada@example.com"


def test_a_corrupt_gzip_body_is_400(client: TestClient, write_key: str) -> None:
    headers = {**basic(write_key), "Content-Encoding": "gzip"}
    response = client.post("/v1/batch", content=b"\x1f\x8b not gzip at all", headers=headers)
    assert response.status_code == 400


def test_a_truncated_gzip_body_is_400(client: TestClient, write_key: str) -> None:
    raw = gzip.compress(json.dumps({"batch": [message("track")]}).encode())
    headers = {**basic(write_key), "Content-Encoding": "gzip"}
    response = client.post("/v1/batch", content=raw[: len(raw) // 2], headers=headers)
    assert response.status_code == 400


# -- size limits (§5) ---------------------------------------------------------------------

LIMIT = 500 * 1024


def big_batch_body(size: int) -> bytes:
    """A valid batch body of at least ``size`` bytes (each message under 32 KB)."""
    padding = "x" * 20_000
    items: list[dict[str, Any]] = []
    while len(json.dumps({"batch": items})) < size:
        items.append({"type": "track", **message("track", properties={"pad": padding})})
    return json.dumps({"batch": items}).encode()


def test_a_body_just_under_500kb_is_accepted(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    body = big_batch_body(LIMIT - 25_000)
    assert len(body) <= LIMIT
    response = client.post("/v1/batch", content=body, headers=basic(write_key))
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == len(json.loads(body)["batch"])


def test_over_500kb_with_content_length_is_413(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    body = big_batch_body(LIMIT + 1)
    response = client.post("/v1/batch", content=body, headers=basic(write_key))

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert fm.store.counters().get("accepted", 0) == 0


def test_over_500kb_streamed_without_content_length_is_413(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    body = big_batch_body(LIMIT + 1)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 16_384):
            yield body[start : start + 16_384]

    response = client.post("/v1/batch", content=chunks(), headers=basic(write_key))

    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 413
    assert fm.store.counters().get("accepted", 0) == 0


def test_a_decompression_bomb_is_413(client: TestClient, fm: Firstmile, write_key: str) -> None:
    inflated = b'{"batch": [' + b" " * 5_000_000 + b"]}"
    bomb = gzip.compress(inflated, compresslevel=9)
    assert len(bomb) < 10_000  # tiny on the wire, 5 MB once inflated
    headers = {**basic(write_key), "Content-Encoding": "gzip"}

    response = client.post("/v1/batch", content=bomb, headers=headers)

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_500kb_applies_after_decompression(client: TestClient, write_key: str) -> None:
    # Random padding barely compresses: under the ratio cap, over the size limit.
    items = [
        {"type": "track", **message("track", properties={"pad": os.urandom(10_000).hex()})}
        for _ in range(30)
    ]
    raw = json.dumps({"batch": items}).encode()
    assert len(raw) > LIMIT
    compressed = gzip.compress(raw)
    assert len(compressed) < LIMIT
    headers = {**basic(write_key), "Content-Encoding": "gzip"}

    response = client.post("/v1/batch", content=compressed, headers=headers)

    assert response.status_code == 413


def test_more_than_2500_items_quarantines_the_extra_ones_with_200(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    items = [
        {"type": "track", "userId": "u1", "event": "E", "messageId": f"m{i}"} for i in range(2503)
    ]

    response = client.post("/v1/batch", json={"batch": items}, headers=basic(write_key))

    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 2500
    assert [(q["index"], q["reason"]) for q in body["quarantined"]] == [
        (2500, "batch_overflow"),
        (2501, "batch_overflow"),
        (2502, "batch_overflow"),
    ]
    kept = fm.quarantine(reason="batch_overflow")
    assert sorted(record.entry.payload["messageId"] for record in kept) == [
        "m2500",
        "m2501",
        "m2502",
    ]
    assert fm.user("u1")["computed"]["event_count"] == 2500


def test_a_single_message_over_32kb_is_400_and_quarantined(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    body = message("track", properties={"pad": "x" * 33_000})
    response = client.post("/v1/track", json=body, headers=basic(write_key))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_event"
    [record] = fm.quarantine(reason="too_large")
    assert record.entry.payload["messageId"] == body["messageId"]
    assert record.entry.payload["properties"]["pad"] == "x" * 33_000


def test_a_batch_item_over_32kb_is_quarantined_and_the_rest_accepted(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    small = {"type": "track", **message("track")}
    large = {"type": "track", **message("track", properties={"pad": "x" * 33_000})}

    response = client.post("/v1/batch", json={"batch": [small, large]}, headers=basic(write_key))

    assert response.status_code == 200
    assert response.json()["accepted"] == 1
    assert [(q["index"], q["reason"]) for q in response.json()["quarantined"]] == [(1, "too_large")]
    assert set(by_message_id(fm, "u1")) == {small["messageId"]}


# -- invalid items and documents ----------------------------------------------------------


def test_a_batch_with_invalid_items_stores_the_valid_ones_and_quarantines_the_rest(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    identify = {"type": "identify", **message("identify")}
    track = {"type": "track", **message("track")}
    page = {"type": "page", **message("page", userId=None, anonymousId="anon-9")}
    cases: list[tuple[Any, str | None]] = [
        (identify, None),
        ({"userId": "u1", "event": "No Type"}, "missing_type"),
        ({"type": "purchase", "userId": "u1"}, "unknown_type"),
        ({"type": "track", "event": "Anonymous"}, "missing_id"),
        ({"type": "track", "userId": "u1"}, "missing_event"),
        (track, None),
        ({"type": "group", "userId": "u1"}, "missing_field"),
        ({"type": "alias", "userId": "u1"}, "missing_field"),
        ({"type": "track", "userId": {"id": 1}, "event": "E"}, "bad_type"),
        ({"type": "track", "userId": "u1", "event": "E", "properties": [1]}, "bad_type"),
        ({"type": "track", "userId": "u1", "event": "E", "messageId": "m" * 101}, "bad_type"),
        ({"type": "track", "userId": "u1", "event": "E", "timestamp": "soon"}, "bad_timestamp"),
        (42, "not_an_object"),
        ("track", "not_an_object"),
        (None, "not_an_object"),
        (page, None),
    ]

    response = client.post(
        "/v1/batch", json={"batch": [item for item, _ in cases]}, headers=basic(write_key)
    )

    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 3
    expected = [(index, reason) for index, (_, reason) in enumerate(cases) if reason]
    assert [(q["index"], q["reason"]) for q in body["quarantined"]] == expected
    assert set(by_message_id(fm, "u1")) == {identify["messageId"], track["messageId"]}
    assert [e.message_id for e in stored(fm, "anon-9")] == [page["messageId"]]
    pending = {record.id: record for record in fm.quarantine(limit=100)}
    assert {q["id"] for q in body["quarantined"]} == set(pending)
    for q in body["quarantined"]:
        entry = pending[q["id"]].entry
        assert entry.reason == q["reason"]
        sent = cases[q["index"]][0]
        assert entry.payload == (sent if isinstance(sent, dict) else {"item": sent})


def test_a_single_invalid_message_is_400_with_its_field_and_quarantined(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    response = client.post("/v1/track", json={"userId": "u1"}, headers=basic(write_key))

    assert response.status_code == 400
    assert response.json()["field"] == "event"
    [record] = fm.quarantine()
    assert record.entry.reason == "missing_event"
    assert record.entry.request_ip == CLIENT_IP


def test_invalid_json_is_400_and_quarantined_when_the_key_is_in_the_header(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    raw = '{"type": "track", "userId": "u1", "event": '
    response = client.post("/v1/track", content=raw, headers=basic(write_key))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"
    [record] = fm.quarantine(reason="invalid_json")
    assert record.entry.payload == raw


def test_invalid_json_without_a_header_key_is_400_and_not_kept(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    raw = f'{{"writeKey": "{write_key}", "userId": '
    response = client.post("/v1/t", content=raw, headers={"Content-Type": "text/plain"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"
    assert fm.quarantine() == []


@pytest.mark.parametrize(
    ("route", "raw"),
    [
        ("track", b""),
        ("track", b"   "),
        ("track", b"[1, 2]"),
        ("track", b'"a string"'),
        ("batch", b"{}"),
        ("batch", b'{"batch": {"type": "track"}}'),
        ("batch", b"null"),
    ],
)
def test_documents_of_the_wrong_shape_are_400(
    client: TestClient, write_key: str, route: str, raw: bytes
) -> None:
    response = client.post(f"/v1/{route}", content=raw, headers=basic(write_key))
    assert response.status_code == 400
    assert response.json()["code"] in ("invalid_json", "invalid_request")


# -- explicit nulls (what segment-analytics-python sends) ---------------------------------

NULLABLE = (
    "anonymousId",
    "timestamp",
    "sentAt",
    "context",
    "integrations",
    "properties",
    "traits",
    "name",
    "category",
    "messageId",
    "originalTimestamp",
    "receivedAt",
    "version",
    "channel",
)


@pytest.mark.parametrize("kind", ["identify", "track", "page", "screen", "group", "alias"])
def test_explicit_nulls_in_every_optional_field(
    client: TestClient, fm: Firstmile, write_key: str, kind: str
) -> None:
    item = message(kind) | {field: None for field in NULLABLE if field != "messageId"}
    single = {**item, "messageId": None, "writeKey": None}  # the id is then derived
    batch = {
        "batch": [{"type": kind, **item, "messageId": str(uuid.uuid4())}],
        "context": None,
        "integrations": None,
        "sentAt": None,
        "writeKey": None,
    }

    one = client.post(f"/v1/{kind}", json=single, headers=basic(write_key))
    many = client.post("/v1/batch", json=batch, headers=basic(write_key))

    assert (one.status_code, one.json()["accepted"]) == (200, 1), one.text
    assert (many.status_code, many.json()["accepted"]) == (200, 1), many.text
    assert len(stored(fm, "u1")) == 2


def test_null_user_id_with_an_anonymous_id(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    body = message("track", userId=None, anonymousId="anon-1")
    response = client.post("/v1/track", json=body, headers=basic(write_key))

    assert response.status_code == 200
    [event] = stored(fm, "anon-1")
    assert (event.user_id, event.anonymous_id) == (None, "anon-1")


def test_numeric_ids_are_read_as_strings(client: TestClient, fm: Firstmile, write_key: str) -> None:
    body = message("track", userId=42)
    response = client.post("/v1/track", json=body, headers=basic(write_key))

    assert response.status_code == 200
    assert stored(fm, "42")[0].user_id == "42"


# -- deduplication ------------------------------------------------------------------------


def test_a_replayed_message_id_is_counted_as_duplicate_and_stored_once(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    body = message("track")
    first = client.post("/v1/track", json=body, headers=basic(write_key))
    again = client.post("/v1/t/", json=body, headers={**basic(write_key), "X-Retry-Count": "1"})

    assert (first.json()["accepted"], first.json()["duplicates"]) == (1, 0)
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 1)
    assert [e.message_id for e in stored(fm, "u1")] == [body["messageId"]]
    assert fm.user("u1")["computed"]["event_count"] == 1
    assert fm.store.counters()["duplicate"] == 1


def test_duplicates_within_one_batch_are_stored_once(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    item = {"type": "track", **message("track")}
    response = client.post(
        "/v1/batch", json={"batch": [item, item, item]}, headers=basic(write_key)
    )

    assert (response.json()["accepted"], response.json()["duplicates"]) == (1, 2)
    assert len(stored(fm, "u1")) == 1


def test_a_retry_with_a_new_sent_at_is_still_a_duplicate(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    item = {"type": "track", **message("track")}
    item.pop("messageId")  # the id is then derived from the content, minus sentAt
    first = {"batch": [item], "sentAt": "2026-11-25T12:00:00.000001+00:00"}
    retry = {"batch": [item], "sentAt": "2026-11-25T12:00:05.000001+00:00"}

    client.post("/v1/batch", json=first, headers=basic(write_key))
    response = client.post("/v1/batch", json=retry, headers=basic(write_key))

    assert response.json()["duplicates"] == 1
    assert len(stored(fm, "u1")) == 1


def test_deduplication_is_per_source(client: TestClient, fm: Firstmile, write_key: str) -> None:
    other_key = fm.create_key("write", label="mobile", source_id="mobile")
    body = message("track")

    client.post("/v1/track", json=body, headers=basic(write_key))
    response = client.post("/v1/track", json=body, headers=basic(other_key))

    assert response.json()["accepted"] == 1
    assert len(stored(fm, "u1")) == 2


# -- batch-level fields -------------------------------------------------------------------


def test_batch_context_integrations_and_sent_at_are_merged_into_each_item(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    plain = {"type": "track", **message("track")}
    own = {
        "type": "track",
        **message(
            "track",
            context={"locale": "fr-FR", "app": {"name": "mobile"}},
            integrations={"Mixpanel": True},
        ),
    }
    nulls = {"type": "track", **message("track", context=None, integrations=None)}
    body = {
        "batch": [plain, own, nulls],
        "context": {"app": {"name": "web"}, "timezone": "Europe/Paris"},
        "integrations": {"All": True, "Mixpanel": False},
        "sentAt": "2026-11-25T12:00:00Z",
    }

    response = client.post("/v1/batch", json=body, headers=basic(write_key))

    assert response.json()["accepted"] == 3
    events = by_message_id(fm, "u1")
    for item in (plain, nulls):
        event = events[item["messageId"]]
        assert event.payload["context"] == {"app": {"name": "web"}, "timezone": "Europe/Paris"}
        assert event.payload["integrations"] == {"All": True, "Mixpanel": False}
        assert event.sent_at == NOW
    mixed = events[own["messageId"]]
    # The item's own keys win; the batch fills in the rest.
    assert mixed.payload["context"] == {
        "app": {"name": "mobile"},
        "locale": "fr-FR",
        "timezone": "Europe/Paris",
    }
    assert mixed.payload["integrations"] == {"All": True, "Mixpanel": True}
    assert mixed.payload["enrichment"]["timezone"] == "Europe/Paris"


# -- timestamps and clock skew (§7) -------------------------------------------------------


def test_clock_skew_is_corrected_from_sent_at(
    client: TestClient, fm: Firstmile, clock: FixedClock, write_key: str
) -> None:
    # The device clock is 1 h fast; the event happened 90 s before it was sent.
    item = {"type": "track", **message("track", timestamp="2026-11-25T12:58:30.000+00:00")}
    body = {"batch": [item], "sentAt": "2026-11-25T13:00:00.000000+00:00"}

    client.post("/v1/batch", json=body, headers=basic(write_key))

    event = by_message_id(fm, "u1")[item["messageId"]]
    assert event.received_at == clock.now() == NOW
    assert event.timestamp == NOW - timedelta(seconds=90)
    assert event.original_timestamp == datetime(2026, 11, 25, 12, 58, 30, tzinfo=UTC)
    assert event.sent_at == datetime(2026, 11, 25, 13, 0, tzinfo=UTC)


def test_an_item_sent_at_wins_over_the_batch_sent_at(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    item = {
        "type": "track",
        **message("track", timestamp="2026-11-25T09:00:00Z", sentAt="2026-11-25T09:00:10Z"),
    }
    body = {"batch": [item], "sentAt": "2026-11-25T20:00:00Z"}

    client.post("/v1/batch", json=body, headers=basic(write_key))

    assert by_message_id(fm, "u1")[item["messageId"]].timestamp == NOW - timedelta(seconds=10)


def test_without_sent_at_the_timestamp_is_kept(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    # A historical import: an old timestamp and no sentAt is taken as it is.
    body = message("track", timestamp="2015-2-02T00:30:08.276Z")
    client.post("/v1/track", json=body, headers=basic(write_key))

    event = by_message_id(fm, "u1")[body["messageId"]]
    assert event.timestamp == datetime(2015, 2, 2, 0, 30, 8, 276000, tzinfo=UTC)
    assert event.sent_at is None


def test_without_timestamp_the_receive_time_is_used(
    client: TestClient, fm: Firstmile, clock: FixedClock, write_key: str
) -> None:
    clock.advance(timedelta(minutes=7))
    body = message("track", sentAt="2026-11-25T12:00:00+02:00")
    client.post("/v1/track", json=body, headers=basic(write_key))

    event = by_message_id(fm, "u1")[body["messageId"]]
    assert event.timestamp == event.received_at == NOW + timedelta(minutes=7)
    assert event.original_timestamp is None


def test_python_library_timestamp_formats_are_read(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    item = {"type": "identify", **message("identify", timestamp="2026-11-25T02:25:57.967+00:00")}
    body = {"batch": [item], "sentAt": "2026-11-25T02:25:58.012345+00:00"}

    response = client.post("/v1/batch", json=body, headers=basic(write_key))

    assert response.json()["accepted"] == 1
    event = by_message_id(fm, "u1")[item["messageId"]]
    assert event.timestamp == NOW - timedelta(microseconds=45345)


# -- analytics.js settings ----------------------------------------------------------------


def test_project_settings_point_analytics_js_at_this_server(
    client: TestClient, write_key: str
) -> None:
    response = client.get(f"/v1/projects/{write_key}/settings")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    segment_io = response.json()["integrations"]["Segment.io"]
    assert segment_io["apiKey"] == write_key
    assert segment_io["apiHost"] == "testserver/v1"  # analytics-next prepends the scheme
    assert segment_io.get("protocol", "http") == "http"


def test_project_settings_for_an_unknown_key_is_401(client: TestClient) -> None:
    response = client.get("/v1/projects/fm_wk_unknown/settings")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_write_key"


# -- health -------------------------------------------------------------------------------


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


def test_readyz(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "store": "sqlite",
        "config": None,
        "config_error": None,
    }


def unreachable_service(tmp_path: Path, clock: FixedClock) -> Firstmile:
    """A service whose SQLite path is a folder: every connection fails."""
    folder = tmp_path / "not-a-database"
    folder.mkdir()
    settings = load_settings(home=tmp_path, environ={}, database_url=f"sqlite:///{folder}")
    return Firstmile(settings, open_store(settings.resolved_database_url), clock=clock)


def test_readyz_is_503_json_when_the_store_is_unreachable(
    tmp_path: Path, clock: FixedClock
) -> None:
    with (
        unreachable_service(tmp_path, clock) as broken,
        make_client(create_app(broken.settings, service=broken)) as client,
    ):
        ready = client.get("/readyz")
        alive = client.get("/healthz")

    assert ready.status_code == 503
    assert ready.json()["code"] == "storage_unavailable"
    assert alive.status_code == 200


def test_readyz_is_503_json_once_the_store_is_closed(settings: Settings, clock: FixedClock) -> None:
    service = Firstmile.open(settings, clock=clock)
    with make_client(create_app(settings, service=service)) as client:
        before = client.get("/readyz")
        service.close()
        after = client.get("/readyz")

    assert before.status_code == 200
    assert after.status_code == 503
    assert after.json()["code"] == "storage_unavailable"


def test_ingest_is_503_not_500_when_the_store_is_unreachable(
    tmp_path: Path, clock: FixedClock
) -> None:
    # 5xx tells clients to retry later, which is right for an outage (and only for it).
    with (
        unreachable_service(tmp_path, clock) as broken,
        make_client(create_app(broken.settings, service=broken)) as client,
    ):
        response = client.post("/v1/track", json={**message("track"), "writeKey": "fm_wk_x"})

    assert response.status_code == 503
    assert response.json()["code"] == "storage_unavailable"


# -- rate limits --------------------------------------------------------------------------


@pytest.fixture
def limited(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[TestClient, Firstmile]]:
    """An app allowing 1 request/s per key with bursts of 2, on the fixed clock."""
    settings = load_settings(
        home=tmp_path / "limited", environ={}, rate_limit_per_second=1, rate_limit_burst=2
    )
    with (
        Firstmile.open(settings, clock=clock) as service,
        make_client(create_app(settings, service=service)) as client,
    ):
        yield client, service


def test_over_the_rate_limit_is_429_with_retry_after(
    limited: tuple[TestClient, Firstmile], clock: FixedClock
) -> None:
    client, service = limited
    key = service.create_key("write", label="t")

    statuses = [
        client.post("/v1/track", json=message("track"), headers=basic(key)).status_code
        for _ in range(2)
    ]
    refused = client.post("/v1/track", json=message("track"), headers=basic(key))

    assert statuses == [200, 200]
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limit"
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["X-RateLimit-Reset"] == "1"
    assert service.store.counters()["accepted"] == 2

    clock.advance(timedelta(seconds=1))
    assert client.post("/v1/track", json=message("track"), headers=basic(key)).status_code == 200


def test_rate_limits_are_per_write_key(limited: tuple[TestClient, Firstmile]) -> None:
    client, service = limited
    first, second = (service.create_key("write", label=str(i)) for i in range(2))
    for _ in range(2):
        client.post("/v1/track", json=message("track"), headers=basic(first))

    assert client.post("/v1/track", json=message("track"), headers=basic(first)).status_code == 429
    assert client.post("/v1/track", json=message("track"), headers=basic(second)).status_code == 200


# -- unknown paths, methods, CORS ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/v2/track", "/v1/projects", "/nope", "/v1/track/extra"])
def test_unknown_paths_are_404_json(client: TestClient, path: str) -> None:
    response = client.post(path, json={})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_unknown_tracking_endpoint_is_404_naming_the_real_ones(
    client: TestClient, write_key: str
) -> None:
    response = client.post("/v1/purchase", json=message("track"), headers=basic(write_key))
    assert response.status_code == 404
    assert "/v1/track" in response.json()["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/track"),
        ("GET", "/v1/t/"),
        ("PUT", "/v1/batch"),
        ("DELETE", "/v1/identify"),
        ("POST", "/healthz"),
        ("POST", "/readyz"),
        ("POST", "/v1/projects/abc/settings"),
    ],
)
def test_wrong_methods_are_405_json(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/v1/t", "/v1/batch", "/v1/projects/abc/settings"])
def test_cors_preflight_from_a_browser_origin(client: TestClient, path: str) -> None:
    response = client.options(
        path,
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "https://app.example.com")
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed
    assert "authorization" in allowed


def test_cross_origin_posts_get_cors_headers(client: TestClient, write_key: str) -> None:
    body = {**message("track"), "writeKey": write_key}
    response = client.post(
        "/v1/t",
        content=json.dumps(body),
        headers={"Origin": "https://app.example.com", "Content-Type": "text/plain"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "https://app.example.com")


# -- what a tracked person looks like ----------------------------------------------------


def test_identify_then_alias_joins_anonymous_history_into_the_profile(
    client: TestClient, fm: Firstmile, write_key: str
) -> None:
    auth = basic(write_key)
    client.post("/v1/page", json=message("page", userId=None, anonymousId="anon-web"), headers=auth)
    client.post(
        "/v1/screen", json=message("screen", userId=None, anonymousId="anon-app"), headers=auth
    )
    client.post("/v1/identify", json=message("identify", anonymousId="anon-web"), headers=auth)
    client.post("/v1/alias", json=message("alias", previousId="anon-app"), headers=auth)

    user = fm.user("u1")
    assert sorted(user["identities"]["anonymous_id"]) == ["anon-app", "anon-web"]
    assert fm.find_profile_id("anon-app") == fm.find_profile_id("anon-web") == user["profile_id"]
    assert user["traits"] == {"email": "ada@example.com", "plan": "pro"}
    assert user["computed"]["type_counts"] == {"page": 1, "screen": 1, "identify": 1, "alias": 1}
    assert [m["outcome"] for m in user["merges"]] == ["merged"]
