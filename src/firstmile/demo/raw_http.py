"""Raw HTTP, as browsers and hand-written integrations send it.

Browser traffic goes in the shape analytics.js sends: single events to the short
routes (``/v1/p``, ``/v1/t``, ``/v1/i``) or batches to ``/v1/b``, as
``Content-Type: text/plain`` with ``writeKey`` in the body, the user's address in
``X-Forwarded-For`` (as a reverse proxy adds it), and identical re-posts when the
browser retries. A buggy integration posts its malformed messages to ``/v1/batch``
itself: a client library would have refused to send them.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from firstmile.demo.catalog import SITE
from firstmile.demo.model import BrowserRequest, Malformed, iso
from firstmile.demo.tally import Tally

__all__ = ["RawClient", "malformed_batches"]

_BROWSER_ROUTES = {"p": "/v1/p", "t": "/v1/t", "i": "/v1/i", "b": "/v1/b"}
_MAX_RAW_BATCH_BYTES = 300_000  # well under the 500 KB request limit
_RATE_LIMIT_ATTEMPTS = 5


def _retry_after(response: httpx.Response) -> float:
    """Seconds to wait after a 429 (firstmile sends seconds; anything else waits 1 s)."""
    try:
        return min(max(float(response.headers.get("retry-after", "1")), 0.0), 10.0)
    except ValueError:
        return 1.0


def _basic(write_key: str) -> str:
    return "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()


class RawClient:
    """Raw HTTP, as browsers and hand-written integrations send it."""

    def __init__(self, http: httpx.Client, write_key: str, tally: Tally) -> None:
        self.http = http
        self.write_key = write_key
        self.tally = tally

    def post(self, path: str, body: bytes, headers: dict[str, str], what: str) -> Any:
        """POST ``body``; wait out 429s as clients do. Returns the JSON answer or None."""
        for _ in range(_RATE_LIMIT_ATTEMPTS):
            self.tally.request()
            try:
                response = self.http.post(path, content=body, headers=headers)
            except httpx.HTTPError as exc:
                self.tally.error(f"{what}: {path} failed: {exc}")
                return None
            if response.status_code == 429:
                # The request was refused, not processed: sending it again is no retry.
                time.sleep(_retry_after(response))
                continue
            if response.status_code != 200:
                self.tally.error(
                    f"{what}: {path} answered {response.status_code}: {response.text[:300]}"
                )
                return None
            try:
                answer = response.json()
            except ValueError:
                self.tally.error(f"{what}: {path} answered 200 with a body that is not JSON")
                return None
            self.tally.answer(answer)
            return answer
        self.tally.error(f"{what}: {path} still rate limited after {_RATE_LIMIT_ATTEMPTS} tries")
        return None

    def browser(self, request: BrowserRequest) -> None:
        """One analytics.js request, then its identical re-post if the browser retries."""
        messages = [message.to_json() for message in request.messages]
        if request.endpoint == "b":
            document: dict[str, Any] = {"batch": messages}
        else:
            document = messages[0]
        document["writeKey"] = self.write_key
        document["sentAt"] = iso(datetime.now(UTC))
        body = orjson.dumps(document)
        headers = {
            # text/plain spares the browser a CORS preflight; the body is JSON all the same.
            "Content-Type": "text/plain;charset=UTF-8",
            "User-Agent": request.user_agent,
            "Origin": SITE,
            # The user's address, as a reverse proxy in front of firstmile reports it.
            # uvicorn trusts this header from 127.0.0.1 only (its --forwarded-allow-ips
            # default), which is where the simulated proxy is.
            "X-Forwarded-For": request.ip,
        }
        path = _BROWSER_ROUTES[request.endpoint]
        answer = self.post(path, body, headers, "browser")
        if answer is None:
            return
        channel = "browser batch (/v1/b)" if request.endpoint == "b" else "browser single event"
        self.tally.sent(channel, request.messages)
        if request.retried:
            self.tally.retried(len(request.messages))
            self.post(path, body, headers, "browser retry")

    def malformed(self, items: Sequence[Malformed]) -> None:
        """One batch from a buggy server-side integration (Basic auth, JSON)."""
        body = orjson.dumps(
            {"batch": [item.payload for item in items], "sentAt": iso(datetime.now(UTC))}
        )
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "billing-sync/0.3.1",
            "Authorization": _basic(self.write_key),
        }
        answer = self.post("/v1/batch", body, headers, "malformed batch")
        if isinstance(answer, dict):
            quarantined = answer.get("quarantined")
            count = len(quarantined) if isinstance(quarantined, list) else 0
            if count != len(items):
                self.tally.error(
                    f"malformed batch: {len(items)} bad messages sent, {count} quarantined"
                )


def malformed_batches(items: Sequence[Malformed]) -> list[list[Malformed]]:
    """``items`` in order, cut into batches of at most 20 and well under the size limit."""
    batches: list[list[Malformed]] = []
    current: list[Malformed] = []
    size = 0
    for item in items:
        item_size = len(orjson.dumps(item.payload))
        if current and (size + item_size > _MAX_RAW_BATCH_BYTES or len(current) >= 20):
            batches.append(current)
            current, size = [], 0
        current.append(item)
        size += item_size
    if current:
        batches.append(current)
    return batches
