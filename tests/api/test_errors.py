"""Every error path of the API answers with one JSON shape (datasette's test_error_shape).

``{"code": str, "message": str, "status": <the HTTP status>, "field": str | null}`` —
``code`` and ``message`` are what Segment's client libraries read.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from firstmile.api.app import create_app
from firstmile.clock import FixedClock
from firstmile.service import Firstmile
from firstmile.settings import Settings, load_settings
from firstmile.storage import open_store

from .support import TestClient, basic, make_client, message


def assert_error_shape(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    """The one assertion every error response must pass; returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict)
    assert isinstance(body.get("code"), str)
    assert body["code"]
    assert isinstance(body.get("message"), str)
    assert body["message"].strip()
    assert body.get("status") == status
    assert "field" in body
    assert body["field"] is None or isinstance(body["field"], str)
    assert "Traceback" not in body["message"]
    if code is not None:
        assert body["code"] == code
    return body


@dataclass(frozen=True)
class Ctx:
    client: TestClient
    key: str
    fm: Firstmile


Send = Callable[[Ctx], httpx.Response]
UNKNOWN_KEY = "fm_wk_" + "0" * 32


def _post(path: str, raw: bytes | str, **headers: str) -> Send:
    def send(ctx: Ctx) -> httpx.Response:
        auth = {} if "Authorization" in headers else basic(ctx.key)
        response: httpx.Response = ctx.client.post(path, content=raw, headers=auth | headers)
        return response

    return send


def _json(path: str, body: Any, *, auth: str = "valid") -> Send:
    def send(ctx: Ctx) -> httpx.Response:
        headers = {
            "valid": basic(ctx.key),
            "unknown": basic(UNKNOWN_KEY),
            "none": {},
            "bearer": {"Authorization": "Bearer token"},
        }[auth]
        response: httpx.Response = ctx.client.post(path, json=body, headers=headers)
        return response

    return send


def _request(method: str, path: str) -> Send:
    def send(ctx: Ctx) -> httpx.Response:
        response: httpx.Response = ctx.client.request(method, path)
        return response

    return send


def _server_key(ctx: Ctx) -> httpx.Response:
    key = ctx.fm.create_key("server", label="backend")
    response: httpx.Response = ctx.client.post(
        "/v1/track", json=message("track"), headers=basic(key)
    )
    return response


def _streamed_too_large(ctx: Ctx) -> httpx.Response:
    def chunks() -> Iterator[bytes]:
        yield b'{"batch": ['
        for _ in range(60):
            yield b" " * 10_000
        yield b"]}"

    response: httpx.Response = ctx.client.post(
        "/v1/batch", content=chunks(), headers=basic(ctx.key)
    )
    return response


BIG = json.dumps({"batch": [], "pad": "x" * (500 * 1024)})
BOMB = gzip.compress(b'{"batch": [' + b" " * 3_000_000 + b"]}")

# (id, status, code, request)
CASES: list[tuple[str, int, str, Send]] = [
    # 401: authentication (§2)
    ("no-key", 401, "invalid_write_key", _json("/v1/track", message("track"), auth="none")),
    ("unknown-basic", 401, "invalid_write_key", _json("/v1/t", message("track"), auth="unknown")),
    (
        "unknown-body-key",
        401,
        "invalid_write_key",
        _json("/v1/track", {**message("track"), "writeKey": UNKNOWN_KEY}, auth="none"),
    ),
    (
        "bearer-without-key",
        401,
        "invalid_write_key",
        _json("/v1/batch", {"batch": []}, auth="bearer"),
    ),
    ("server-key", 401, "invalid_write_key", _server_key),
    (
        "settings-unknown-key",
        401,
        "invalid_write_key",
        _request("GET", f"/v1/projects/{UNKNOWN_KEY}/settings"),
    ),
    # 400: the document cannot be read (§6)
    ("invalid-json", 400, "invalid_json", _post("/v1/track", '{"userId": ')),
    (
        "invalid-json-text-plain",
        400,
        "invalid_json",
        _post("/v1/t", "{writeKey: nope", **{"Content-Type": "text/plain", "Authorization": ""}),
    ),
    ("empty-body", 400, "invalid_json", _post("/v1/batch", b"")),
    ("not-an-object", 400, "invalid_request", _post("/v1/identify", b"[1, 2, 3]")),
    ("batch-missing", 400, "invalid_request", _post("/v1/batch", b'{"sentAt": null}')),
    ("batch-not-a-list", 400, "invalid_request", _post("/v1/b", b'{"batch": {"type": "track"}}')),
    (
        "corrupt-gzip",
        400,
        "invalid_request",
        _post("/v1/batch", b"garbage", **{"Content-Encoding": "gzip"}),
    ),
    # 400: one message on a single-message endpoint that breaks the spec (quarantined)
    ("missing-id", 400, "invalid_event", _json("/v1/track", {"event": "E"})),
    ("missing-event", 400, "invalid_event", _json("/v1/t", {"userId": "u1"})),
    ("bad-timestamp", 400, "invalid_event", _json("/v1/page", {"userId": "u1", "timestamp": "x"})),
    (
        "message-too-large",
        400,
        "invalid_event",
        _json("/v1/track", message("track", properties={"pad": "x" * 40_000})),
    ),
    # 413 / 415: size and encoding (§5, §8)
    ("too-large", 413, "payload_too_large", _post("/v1/batch", BIG)),
    ("too-large-streamed", 413, "payload_too_large", _streamed_too_large),
    (
        "gzip-bomb",
        413,
        "payload_too_large",
        _post("/v1/batch", BOMB, **{"Content-Encoding": "gzip"}),
    ),
    (
        "unsupported-encoding",
        415,
        "unsupported_media_type",
        _post("/v1/batch", b"{}", **{"Content-Encoding": "br"}),
    ),
    # 404 / 405: routing
    ("unknown-path", 404, "not_found", _request("GET", "/nope")),
    ("unknown-post-path", 404, "not_found", _request("POST", "/v2/batch")),
    ("unknown-tracking-endpoint", 404, "not_found", _json("/v1/purchase", message("track"))),
    ("unknown-tracking-endpoint-slash", 404, "not_found", _json("/v1/x/", message("track"))),
    ("get-track", 405, "method_not_allowed", _request("GET", "/v1/track")),
    ("put-batch", 405, "method_not_allowed", _request("PUT", "/v1/batch/")),
    ("post-healthz", 405, "method_not_allowed", _request("POST", "/healthz")),
    ("delete-settings", 405, "method_not_allowed", _request("DELETE", "/v1/projects/k/settings")),
]


@pytest.mark.parametrize(
    ("status", "code", "send"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_error_shape(
    client: TestClient, fm: Firstmile, write_key: str, status: int, code: str, send: Send
) -> None:
    assert_error_shape(send(Ctx(client, write_key, fm)), status, code)


def test_a_single_invalid_message_names_its_field(client: TestClient, write_key: str) -> None:
    response = client.post("/v1/group", json={"userId": "u1"}, headers=basic(write_key))
    assert assert_error_shape(response, 400, "invalid_event")["field"] == "groupId"


def test_a_batch_without_batch_names_the_field(client: TestClient, write_key: str) -> None:
    response = client.post("/v1/batch", json={"sentAt": None}, headers=basic(write_key))
    assert assert_error_shape(response, 400, "invalid_request")["field"] == "batch"


def test_rate_limited(tmp_path: Path, clock: FixedClock) -> None:
    settings = load_settings(home=tmp_path, environ={}, rate_limit_per_second=1, rate_limit_burst=2)
    with (
        Firstmile.open(settings, clock=clock) as service,
        make_client(create_app(settings, service=service)) as client,
    ):
        key = service.create_key("write", label="t")
        for _ in range(2):
            client.post("/v1/track", json=message("track"), headers=basic(key))
        clock.advance(timedelta(milliseconds=200))
        response = client.post("/v1/track", json=message("track"), headers=basic(key))

    assert_error_shape(response, 429, "rate_limit")
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["X-RateLimit-Reset"] == response.headers["Retry-After"]


@pytest.mark.parametrize("path", ["/readyz", "/v1/track", "/v1/projects/k/settings"])
def test_store_unreachable(tmp_path: Path, clock: FixedClock, path: str) -> None:
    folder = tmp_path / "a-folder-not-a-database"
    folder.mkdir()
    settings = load_settings(home=tmp_path, environ={}, database_url=f"sqlite:///{folder}")
    with (
        Firstmile(settings, open_store(settings.resolved_database_url), clock=clock) as broken,
        make_client(create_app(settings, service=broken)) as client,
    ):
        if path == "/v1/track":
            response = client.post(path, json={**message("track"), "writeKey": "fm_wk_x"})
        else:
            response = client.get(path)

    assert_error_shape(response, 503, "storage_unavailable")


def test_store_closed(settings: Settings, clock: FixedClock) -> None:
    service = Firstmile.open(settings, clock=clock)
    with make_client(create_app(settings, service=service)) as client:
        service.close()
        response = client.get("/readyz")

    assert_error_shape(response, 503, "storage_unavailable")
