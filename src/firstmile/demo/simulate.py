"""Send a simulated population through the real HTTP API of a running firstmile server.

Traffic goes the way it would in production, with real clients:

* **segment-analytics-python 2.4.0**, unmodified, for everything the app's backend
  tracks (sign-ups, onboarding steps, groups, aliases): several clients, some with
  gzip, each with its own background consumer that posts batches to ``/v1/batch``;
* **raw HTTP in the shape analytics.js sends** for browser traffic the Python client
  cannot produce: single events to the short routes (``/v1/p``, ``/v1/t``, ``/v1/i``)
  or batches to ``/v1/b``, as ``Content-Type: text/plain`` with ``writeKey`` in the
  body, the user's address in ``X-Forwarded-For`` (as a reverse proxy adds it), and
  identical re-posts when the browser retries;
* **raw ``/v1/batch`` bodies** for the malformed messages of a buggy integration: the
  Python client validates calls before sending, so it could not send them.

:func:`simulate` returns a :class:`SimulationReport` of what was sent, which the demo
reconciles with what the server stored.
"""

from __future__ import annotations

import atexit
import base64
import copy
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import segment.analytics.request as segment_request
from segment.analytics import Client

from firstmile.demo.population import (
    SDK_CLIENT_COUNT,
    BrowserRequest,
    Malformed,
    Message,
    Population,
)

__all__ = ["ProgressHook", "SdkClientInfo", "SimulationReport", "simulate"]

#: ``progress(phase, done, total)``: called as each phase advances (``done`` is messages).
ProgressHook = Callable[[str, int, int], None]

PHASE_BROWSER = "browser: anonymous visits before sign-up"
PHASE_SDK = "python SDK: sign-ups and onboarding"
PHASE_SECOND_DEVICE = "browser: logins on a second device"
PHASE_MALFORMED = "buggy integration: malformed messages"
PHASES = (PHASE_BROWSER, PHASE_SDK, PHASE_SECOND_DEVICE, PHASE_MALFORMED)

# The app servers that track server side; half compress their batches.
SDK_CLIENTS: tuple[tuple[str, bool], ...] = (
    ("app-server-1", True),
    ("app-server-2", False),
    ("app-server-3", True),
    ("app-server-4", False),
)
assert len(SDK_CLIENTS) == SDK_CLIENT_COUNT

_BROWSER_ROUTES = {"p": "/v1/p", "t": "/v1/t", "i": "/v1/i", "b": "/v1/b"}
_ORIGIN = "https://www.example.com"
_MAX_RAW_BATCH_BYTES = 300_000  # well under the 500 KB request limit
_RATE_LIMIT_ATTEMPTS = 5
# segment-analytics-python's own queue holds 10,000 messages and drops beyond; stay under.
_SDK_QUEUE_HIGH_WATER = 8_000


@dataclass(frozen=True, slots=True)
class SdkClientInfo:
    """One segment-analytics-python client: its name, gzip, and messages it sent."""

    name: str
    gzip: bool
    messages: int


@dataclass
class SimulationReport:
    """What the simulation sent, to reconcile with what the server stored.

    Attributes
    ----------
    sent_by_type
        Distinct well-formed messages by call type (``identify``, ``track``, ...).
    sent_by_channel
        Distinct well-formed messages by the way they were sent.
    malformed_by_reason
        Malformed messages by the quarantine reason they are made to trigger.
    retried_messages
        Messages posted a second time with the same ``messageId`` (browser retries).
    retried_requests
        Requests re-posted with an identical body.
    http_requests
        Raw HTTP requests made (browser, malformed and retries; not the SDK's batches).
    sdk_clients
        The segment-analytics-python clients used.
    server_said
        Totals of the server's answers to the raw requests (``accepted``,
        ``duplicates``, ``suppressed``, ``quarantined``); the SDK does not expose them.
    errors
        Anything that went wrong while sending: SDK ``on_error`` calls, unexpected
        HTTP statuses. Empty when all went through.
    seconds
        Wall time of the simulation.
    """

    sent_by_type: dict[str, int] = field(default_factory=dict)
    sent_by_channel: dict[str, int] = field(default_factory=dict)
    malformed_by_reason: dict[str, int] = field(default_factory=dict)
    retried_messages: int = 0
    retried_requests: int = 0
    http_requests: int = 0
    sdk_clients: list[SdkClientInfo] = field(default_factory=list)
    server_said: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (what ``demo.json`` in the workspace holds)."""
        data = asdict(self)
        data["well_formed"] = self.well_formed
        data["malformed"] = self.malformed
        return data

    @property
    def well_formed(self) -> int:
        """Distinct well-formed messages sent."""
        return sum(self.sent_by_type.values())

    @property
    def malformed(self) -> int:
        """Malformed messages sent."""
        return sum(self.malformed_by_reason.values())


class _Tally:
    """Thread-safe counters filled while sending."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_type: Counter[str] = Counter()
        self.by_channel: Counter[str] = Counter()
        self.server_said: Counter[str] = Counter()
        self.errors: list[str] = []
        self.http_requests = 0
        self.retried_messages = 0
        self.retried_requests = 0
        self.progress_done: Counter[str] = Counter()

    def sent(self, channel: str, messages: Iterable[Message]) -> None:
        with self._lock:
            for message in messages:
                self.by_type[message.type] += 1
                self.by_channel[channel] += 1

    def answer(self, body: Any) -> None:
        if not isinstance(body, dict):
            return
        with self._lock:
            for key in ("accepted", "duplicates", "suppressed"):
                value = body.get(key)
                if isinstance(value, int):
                    self.server_said[key] += value
            quarantined = body.get("quarantined")
            if isinstance(quarantined, list):
                self.server_said["quarantined"] += len(quarantined)

    def error(self, text: str) -> None:
        with self._lock:
            self.errors.append(text)

    def request(self) -> None:
        with self._lock:
            self.http_requests += 1

    def retried(self, messages: int) -> None:
        with self._lock:
            self.retried_requests += 1
            self.retried_messages += messages

    def advance(self, phase: str, count: int) -> int:
        with self._lock:
            self.progress_done[phase] += count
            return self.progress_done[phase]


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _retry_after(response: httpx.Response) -> float:
    """Seconds to wait after a 429 (firstmile sends seconds; anything else waits 1 s)."""
    try:
        return min(max(float(response.headers.get("retry-after", "1")), 0.0), 10.0)
    except ValueError:
        return 1.0


def _basic(write_key: str) -> str:
    return "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()


class _Raw:
    """Raw HTTP, as browsers and hand-written integrations send it."""

    def __init__(self, http: httpx.Client, write_key: str, tally: _Tally) -> None:
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
        document["sentAt"] = _now_iso()
        body = orjson.dumps(document)
        headers = {
            # text/plain spares the browser a CORS preflight; the body is JSON all the same.
            "Content-Type": "text/plain;charset=UTF-8",
            "User-Agent": request.user_agent,
            "Origin": _ORIGIN,
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
        body = orjson.dumps({"batch": [item.payload for item in items], "sentAt": _now_iso()})
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


def _run_browser_phase(
    raw: _Raw,
    phase: str,
    per_person: Sequence[Sequence[BrowserRequest]],
    progress: ProgressHook | None,
    concurrency: int,
) -> None:
    total = sum(len(r.messages) for requests in per_person for r in requests)
    if progress:
        progress(phase, 0, total)

    def one_person(requests: Sequence[BrowserRequest]) -> None:
        # A person's requests go in order (one browser); people run side by side.
        for request in requests:
            raw.browser(request)
            done = raw.tally.advance(phase, len(request.messages))
            if progress:
                progress(phase, done, total)

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="browser") as pool:
        for future in [pool.submit(one_person, r) for r in per_person if r]:
            future.result()


def _sdk_call(client: Any, message: Message) -> tuple[bool, Any]:
    """One call of segment-analytics-python's public API for ``message``."""
    # The library adds `context.library` to the dict it is given: hand it a copy.
    context = copy.deepcopy(message.context)
    common: dict[str, Any] = {
        "context": context,
        "timestamp": message.timestamp,
        "message_id": message.message_id,
    }
    if message.type == "identify":
        return client.identify(  # type: ignore[no-any-return]
            message.user_id,
            copy.deepcopy(message.traits),
            anonymous_id=message.anonymous_id,
            **common,
        )
    if message.type == "track":
        return client.track(  # type: ignore[no-any-return]
            message.user_id,
            message.event,
            copy.deepcopy(message.properties),
            anonymous_id=message.anonymous_id,
            **common,
        )
    if message.type == "page":
        return client.page(  # type: ignore[no-any-return]
            message.user_id,
            name=message.name,
            properties=copy.deepcopy(message.properties),
            anonymous_id=message.anonymous_id,
            **common,
        )
    if message.type == "group":
        return client.group(  # type: ignore[no-any-return]
            message.user_id,
            message.group_id,
            copy.deepcopy(message.traits),
            anonymous_id=message.anonymous_id,
            **common,
        )
    return client.alias(message.previous_id, message.user_id, **common)  # type: ignore[no-any-return]


def _run_sdk_phase(
    population: Population,
    base_url: str,
    write_key: str,
    tally: _Tally,
    progress: ProgressHook | None,
    max_retries: int,
) -> list[SdkClientInfo]:
    total = sum(len(person.sdk_messages) for person in population.people)
    if progress:
        progress(PHASE_SDK, 0, total)
    clients: list[Any] = []
    sent = [0] * len(SDK_CLIENTS)
    queued: list[Message] = []
    try:
        for name, use_gzip in SDK_CLIENTS:

            def on_error(error: Exception, batch: list[Any], name: str = name) -> None:
                tally.error(f"{name} (segment-analytics-python): {error} ({len(batch)} messages)")

            clients.append(
                Client(
                    write_key,
                    host=base_url,
                    gzip=use_gzip,
                    upload_size=100,
                    sync_mode=False,
                    max_retries=max_retries,
                    on_error=on_error,
                )
            )
        for person in population.people:
            client = clients[person.sdk_client]
            if client.queue.qsize() >= _SDK_QUEUE_HIGH_WATER:
                client.flush()
            for message in person.sdk_messages:
                ok, _ = _sdk_call(client, message)
                if not ok:
                    tally.error(f"{SDK_CLIENTS[person.sdk_client][0]}: queue full, message dropped")
                    continue
                sent[person.sdk_client] += 1
                queued.append(message)
        # Report progress while the consumers drain their queues, then flush for real.
        while True:
            pending = sum(client.queue.unfinished_tasks for client in clients)
            if progress:
                progress(PHASE_SDK, total - pending, total)
            if pending == 0:
                break
            time.sleep(0.1)
    finally:
        # Each consumer idles up to its upload interval before it notices the stop:
        # shut the clients down side by side rather than one after another.
        with ThreadPoolExecutor(max_workers=max(1, len(clients))) as pool:
            list(pool.map(lambda client: client.shutdown(), clients))
        for client in clients:
            # The library registers `join` at exit for every client; it is done already.
            atexit.unregister(client.join)
        # The library keeps one module-wide HTTP session; its keep-alive sockets point
        # at a server that is about to stop.
        segment_request._session.close()
    tally.sent("python SDK (/v1/batch)", queued)
    return [
        SdkClientInfo(name, use_gzip, count)
        for (name, use_gzip), count in zip(SDK_CLIENTS, sent, strict=True)
    ]


def _malformed_batches(items: Sequence[Malformed]) -> list[list[Malformed]]:
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


def simulate(
    population: Population,
    *,
    base_url: str,
    write_key: str,
    progress: ProgressHook | None = None,
    concurrency: int = 8,
    max_retries: int = 3,
    timeout: float = 30.0,
) -> SimulationReport:
    """Send ``population`` to the server at ``base_url`` and report what was sent.

    Parameters
    ----------
    population
        From :func:`firstmile.demo.population.build_population`.
    base_url
        The server, for example ``http://127.0.0.1:8300`` (no ``/v1``).
    write_key
        A write key of the server's workspace.
    progress
        Called as ``progress(phase, done, total)`` while sending (see :data:`PHASES`).
    concurrency
        Browsers sending at the same time (each person's requests stay in order).
    max_retries
        ``max_retries`` of the segment-analytics-python clients.
    timeout
        Seconds before a raw HTTP request is given up.

    Returns
    -------
    SimulationReport
        Counts of what was sent; ``errors`` lists anything that did not go through.

    Notes
    -----
    The phases run one after the other so that each person's messages reach the
    server in the order they happened: anonymous browsing, then the server-side
    sign-up that stitches it to the user, then a later login on another device.
    """
    started = time.monotonic()
    tally = _Tally()
    people = population.people
    with httpx.Client(base_url=base_url, timeout=timeout) as http:
        raw = _Raw(http, write_key, tally)
        _run_browser_phase(
            raw, PHASE_BROWSER, [p.browser_requests for p in people], progress, concurrency
        )
        sdk_clients = _run_sdk_phase(population, base_url, write_key, tally, progress, max_retries)
        _run_browser_phase(
            raw,
            PHASE_SECOND_DEVICE,
            [p.second_device_requests for p in people],
            progress,
            concurrency,
        )
        total = len(population.malformed)
        if progress:
            progress(PHASE_MALFORMED, 0, total)
        for batch in _malformed_batches(population.malformed):
            raw.malformed(batch)
            if progress:
                progress(PHASE_MALFORMED, tally.advance(PHASE_MALFORMED, len(batch)), total)
    return SimulationReport(
        sent_by_type=dict(tally.by_type),
        sent_by_channel=dict(tally.by_channel),
        malformed_by_reason=dict(population.malformed_by_reason()),
        retried_messages=tally.retried_messages,
        retried_requests=tally.retried_requests,
        http_requests=tally.http_requests,
        sdk_clients=sdk_clients,
        server_said=dict(tally.server_said),
        errors=list(tally.errors),
        seconds=time.monotonic() - started,
    )
