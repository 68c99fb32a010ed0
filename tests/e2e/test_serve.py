"""End to end: real clients against ``firstmile serve``, then read what it stored.

segment-analytics-python 2.4.0 is used unmodified, as an app would use it (reference §9);
raw requests reproduce what analytics.js sends (text/plain, short routes, body writeKey).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from segment.analytics import Client
from segment.analytics.request import APIError

from .server import Server

pytestmark = pytest.mark.e2e

CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def assert_json_answer(response: httpx.Response) -> dict[str, Any]:
    """Never a 5xx for what a client sent, and always a JSON body."""
    assert response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict)
    return body


# -- segment-analytics-python ---------------------------------------------------------------


@pytest.mark.parametrize("use_gzip", [True, False], ids=["gzip", "plain"])
@pytest.mark.parametrize("sync_mode", [True, False], ids=["sync", "queued"])
def test_python_client_every_call_builds_one_profile(
    server: Server, use_gzip: bool, sync_mode: bool
) -> None:
    user, web, app = unique("user"), unique("anon-web"), unique("anon-app")
    errors: list[Any] = []
    client = Client(
        server.write_key,
        host=server.base_url,
        gzip=use_gzip,
        sync_mode=sync_mode,
        upload_interval=0.05,
        on_error=lambda error, batch: errors.append((error, batch)),
    )
    sent: list[dict[str, Any]] = []
    try:
        calls = [
            client.page(
                anonymous_id=web,
                name="Pricing",
                properties={"path": "/pricing"},
                context={"userAgent": CHROME, "locale": "en_us", "timezone": "europe/paris"},
            ),
            client.screen(
                anonymous_id=app,
                name="Welcome",
                context={"device": {"type": "ios"}, "os": {"name": "iOS", "version": "17.1"}},
            ),
            client.identify(
                user,
                {
                    "email": "  Ada@Example.COM ",
                    "plan": "pro",
                    "seats": "5",
                    "country": "france",
                    "zip": "02134",
                },
                anonymous_id=web,
            ),
            client.track(user, "Signed Up", {"plan": "pro"}),
            client.track(user, "Project Created", {"template": "blank"}),
            client.page(user, "Docs", "Quickstart", {"path": "/docs/quickstart"}),
            client.group(user, "acme", {"name": "Acme Inc"}),
            client.alias(app, user),
        ]
        for ok, msg in calls:
            assert ok
            sent.append(msg)
        if not sync_mode:
            client.flush()
    finally:
        if not sync_mode:
            client.join()

    assert errors == []
    with server.open() as fm:
        profile = fm.user(user, events=50)
        anonymous_profiles = {fm.find_profile_id(web), fm.find_profile_id(app)}

    assert anonymous_profiles == {profile["profile_id"]}
    assert profile["identities"]["user_id"] == [user]
    assert sorted(profile["identities"]["anonymous_id"]) == sorted([web, app])
    assert profile["traits"] == {
        "email": "ada@example.com",
        "plan": "pro",
        "seats": 5,
        "country": "FR",
        "zip": "02134",
    }
    computed = profile["computed"]
    assert computed["event_count"] == 8
    assert computed["type_counts"] == {
        "page": 2,
        "screen": 1,
        "identify": 1,
        "track": 2,
        "group": 1,
        "alias": 1,
    }
    assert computed["event_counts"] == {"Signed Up": 1, "Project Created": 1}
    assert computed["events_1d"] == 8
    assert computed["groups"] == ["acme"]
    assert computed["last_pages"][0] == "/docs/quickstart"
    assert "/pricing" in computed["last_pages"]
    assert computed["browser"] == "Chrome"
    assert computed["locale"] == "en-US"
    assert computed["timezone"] == "Europe/Paris"
    assert [merge["outcome"] for merge in profile["merges"]] == ["merged"]
    assert {event["message_id"] for event in profile["recent_events"]} == {
        msg["messageId"] for msg in sent
    }


def test_python_client_reads_our_error_code_and_message(server: Server) -> None:
    client = Client("fm_wk_not-a-key", host=server.base_url, sync_mode=True)

    with pytest.raises(APIError) as raised:
        client.track("someone", "Signed Up")

    assert raised.value.status == 401
    assert raised.value.code == "invalid_write_key"
    assert "write key" in raised.value.message


def test_python_client_reports_a_refused_batch_through_on_error(server: Server) -> None:
    errors: list[tuple[Exception, list[dict[str, Any]]]] = []
    client = Client(
        "fm_wk_not-a-key",
        host=server.base_url,
        upload_interval=0.05,
        on_error=lambda error, batch: errors.append((error, batch)),
    )
    try:
        client.track("someone", "Signed Up")
        client.flush()
    finally:
        client.join()

    [(error, batch)] = errors
    assert isinstance(error, APIError)
    assert (error.status, error.code) == (401, "invalid_write_key")
    assert [msg["event"] for msg in batch] == ["Signed Up"]


# -- raw requests ---------------------------------------------------------------------------


def library_batch(user: str, count: int) -> dict[str, Any]:
    """A batch body as segment-analytics-python builds it, explicit nulls included."""
    now = datetime.now(UTC)
    return {
        "batch": [
            {
                "integrations": {},
                "anonymousId": None,
                "properties": {"step": i},
                "timestamp": (now - timedelta(seconds=count - i)).isoformat(
                    timespec="milliseconds"
                ),
                "context": {"library": {"name": "analytics-python", "version": "2.4.0"}},
                "userId": user,
                "type": "track",
                "event": "Step Completed",
                "messageId": str(uuid.uuid4()),
            }
            for i in range(count)
        ],
        "sentAt": now.isoformat(),
    }


@pytest.mark.parametrize("use_gzip", [True, False], ids=["gzip", "plain"])
def test_a_retried_batch_is_deduplicated(
    server: Server, http: httpx.Client, use_gzip: bool
) -> None:
    user = unique("retry")
    body = library_batch(user, 5)
    raw = json.dumps({**body, "writeKey": server.write_key}).encode()
    headers = {**basic(server.write_key), "Content-Type": "application/json"}
    if use_gzip:
        raw, headers["Content-Encoding"] = gzip.compress(raw), "gzip"

    first = http.post("/v1/batch", content=raw, headers=headers)
    retry = http.post("/v1/batch", content=raw, headers={**headers, "X-Retry-Count": "1"})
    body["sentAt"] = datetime.now(UTC).isoformat()  # a later retry with a new sentAt
    again = http.post("/v1/batch", json=body, headers=basic(server.write_key))

    assert (first.status_code, first.json()["accepted"], first.json()["duplicates"]) == (200, 5, 0)
    assert (retry.status_code, retry.json()["accepted"], retry.json()["duplicates"]) == (200, 0, 5)
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 5)
    with server.open() as fm:
        profile = fm.user(user)
        counters = fm.store.counters()
    assert profile["computed"]["event_count"] == 5
    assert profile["computed"]["event_counts"] == {"Step Completed": 5}
    assert len(profile["recent_events"]) == 5
    assert counters["duplicate"] >= 10


def test_analytics_js_style_requests(server: Server, http: httpx.Client) -> None:
    anonymous = unique("ajs")
    browser = {"Content-Type": "text/plain", "User-Agent": CHROME, "Origin": "https://app.test"}
    context = {
        "library": {"name": "analytics.js", "version": "next-1.70.0"},
        "page": {"path": "/signup", "url": "https://app.test/signup", "title": "Sign up"},
        "locale": "fr-FR",
        "userAgent": CHROME,
    }

    def send(route: str, **fields: Any) -> dict[str, Any]:
        message = {
            "anonymousId": anonymous,
            "messageId": f"ajs-next-{uuid.uuid4().hex}",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "context": context,
            "writeKey": server.write_key,
            "sentAt": datetime.now(UTC).isoformat(timespec="milliseconds"),
            **fields,
        }
        response = http.post(f"/v1/{route}", content=json.dumps(message), headers=browser)
        body = assert_json_answer(response)
        assert response.status_code == 200, body
        assert response.headers["access-control-allow-origin"] in ("*", "https://app.test")
        assert body["accepted"] == 1
        return message

    settings = http.get(f"/v1/projects/{server.write_key}/settings")
    page = send("p", type="page", name="Sign up", properties={"path": "/signup"})
    track = send("t", type="track", event="Form Started", properties={"form": "signup"})
    identify = send("i", type="identify", userId=unique("ajs-user"), traits={"plan": "free"})
    batch = http.post(
        "/v1/b",
        content=json.dumps(
            {
                "writeKey": server.write_key,
                "sentAt": datetime.now(UTC).isoformat(),
                "batch": [
                    {
                        "type": "track",
                        "event": "Form Submitted",
                        "anonymousId": anonymous,
                        "messageId": f"ajs-next-{uuid.uuid4().hex}",
                        "context": context,
                    }
                ],
            }
        ),
        headers=browser,
    )

    assert settings.status_code == 200
    assert settings.json()["integrations"]["Segment.io"]["apiKey"] == server.write_key
    assert settings.json()["integrations"]["Segment.io"]["apiHost"].endswith("/v1")
    assert (batch.status_code, batch.json()["accepted"]) == (200, 1)
    with server.open() as fm:
        profile = fm.user(anonymous)
        events = fm.store.events(profile["profile_id"])
    assert profile["user_id"] == identify["userId"]
    assert profile["traits"] == {"plan": "free"}
    assert profile["computed"]["event_counts"] == {"Form Started": 1, "Form Submitted": 1}
    assert profile["computed"]["browser"] == "Chrome"
    assert profile["computed"]["locale"] == "fr-FR"
    assert profile["computed"]["last_pages"] == ["/signup"]
    assert {page["messageId"], track["messageId"]} <= {e.message_id for e in events}
    for event in events:
        # Browser traffic: the IP comes from the request, as Segment's servers do.
        assert event.payload["context"]["ip"] == "127.0.0.1"
        assert event.payload["context"]["library"]["name"] == "analytics.js"


def test_cors_preflight_for_a_browser(http: httpx.Client) -> None:
    response = http.options(
        "/v1/t",
        headers={
            "Origin": "https://app.test",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "https://app.test")


# -- quarantine -----------------------------------------------------------------------------


def test_bad_items_are_quarantined_verbatim(server: Server, http: httpx.Client) -> None:
    tag = unique("bad")
    valid = {"type": "track", "userId": tag, "event": "Fine", "messageId": f"{tag}-ok"}
    bad = [
        {"type": "track", "event": "Nobody", "messageId": f"{tag}-1"},
        {"type": "purchase", "userId": tag, "messageId": f"{tag}-2"},
        {
            "type": "track",
            "userId": tag,
            "event": "E",
            "timestamp": "soon",
            "messageId": f"{tag}-3",
        },
        {"userId": tag, "event": "No type", "messageId": f"{tag}-4"},
    ]
    response = http.post(
        "/v1/batch", json={"batch": [valid, *bad]}, headers=basic(server.write_key)
    )
    broken = f'{{"userId": "{tag}", "event": '
    not_json = http.post("/v1/track", content=broken, headers=basic(server.write_key))

    assert response.status_code == 200
    assert response.json()["accepted"] == 1
    assert [q["reason"] for q in response.json()["quarantined"]] == [
        "missing_id",
        "unknown_type",
        "bad_timestamp",
        "missing_type",
    ]
    assert not_json.status_code == 400
    with server.open() as fm:
        records = fm.quarantine(limit=1000)
        stored = fm.store.events(fm.find_profile_id(tag))
    mine = {r.entry.message_id: r for r in records if r.entry.message_id}
    for item in bad:
        record = mine[item["messageId"]]
        assert record.status == "pending"
        assert record.entry.payload == item
        assert record.entry.request_ip == "127.0.0.1"
    [raw] = [r for r in records if r.entry.reason == "invalid_json" and r.entry.payload == broken]
    assert raw.entry.source_id == "default"
    assert [e.message_id for e in stored] == [f"{tag}-ok"]


# -- robustness -----------------------------------------------------------------------------


def test_bad_input_never_logs_a_traceback(server: Server, http: httpx.Client) -> None:
    key = basic(server.write_key)
    oversized = json.dumps({"batch": [], "pad": "x" * 600_000})

    def chunked() -> Any:
        for _ in range(70):
            yield b" " * 10_000

    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/v1/batch", {"content": os.urandom(2048), "headers": key}),
        (
            "POST",
            "/v1/t",
            {"content": b"\xff\xfe\x00garbage", "headers": {"Content-Type": "text/plain"}},
        ),
        ("POST", "/v1/batch", {"content": b"[" * 100_000, "headers": key}),
        ("POST", "/v1/batch", {"content": b"{}" * 10, "headers": key}),
        ("POST", "/v1/batch", {"content": b'{"batch": 1}', "headers": key}),
        ("POST", "/v1/batch", {"content": b'{"batch": [1, null, "x", [], {}]}', "headers": key}),
        ("POST", "/v1/track", {"content": b'{"userId": {"$gt": ""}, "event": []}', "headers": key}),
        ("POST", "/v1/batch", {"content": oversized, "headers": key}),
        ("POST", "/v1/batch", {"content": chunked(), "headers": key}),
        (
            "POST",
            "/v1/batch",
            {
                "content": gzip.compress(b" " * 4_000_000),
                "headers": {**key, "Content-Encoding": "gzip"},
            },
        ),
        (
            "POST",
            "/v1/batch",
            {"content": b"not gzip", "headers": {**key, "Content-Encoding": "gzip"}},
        ),
        ("POST", "/v1/batch", {"content": b"{}", "headers": {**key, "Content-Encoding": "zstd"}}),
        (
            "POST",
            "/v1/track",
            {"json": {"userId": "u", "event": "E"}, "headers": basic("fm_wk_nope")},
        ),
        (
            "POST",
            "/v1/track",
            {"json": {"userId": "u", "event": "E"}, "headers": {"Authorization": "Basic %%%"}},
        ),
        (
            "POST",
            "/v1/track",
            {"json": {"userId": "u", "event": "E", "timestamp": 1e300}, "headers": key},
        ),
        ("POST", "/v1/identify", {"json": {"userId": "u", "traits": {"n": 2**70}}, "headers": key}),
        ("GET", "/v1/track", {}),
        ("PUT", "/v1/batch", {"content": b"{}"}),
        ("GET", "/v1/projects/%00/settings", {}),
        ("POST", "/v1/%ff", {"content": b"{}"}),
        ("GET", "/nope", {}),
    ]

    for method, path, options in requests:
        response = http.request(method, path, **options)
        assert_json_answer(response)
        assert 400 <= response.status_code < 500 or response.status_code == 200, (path, options)

    assert http.get("/healthz").status_code == 200
    log = server.stderr()
    assert "Traceback" not in log
    assert "Exception in ASGI application" not in log
    assert "ERROR" not in log


def test_the_server_logged_no_traceback_all_along(server: Server) -> None:
    # Runs last in this module: everything above went through the same process.
    assert server.process.poll() is None
    log = server.stderr()
    assert "Traceback" not in log
    assert "ERROR" not in log
    assert "Application startup complete" in log
