"""Ingest benchmark: Segment batches over HTTP into the embedded SQLite store.

What it measures, in one run:

1. **Raw ceiling**: the same events written straight into the ``events`` table of a
   fresh database migrated by firstmile's own store (identical schema and indexes), with
   the ``sqlite3`` module's ``executemany`` in transactions of 1,000 rows and the
   server's pragmas (WAL, ``synchronous=NORMAL``). Rows are built before timing; the
   figure is the median of 3 runs, each into a fresh database.
2. **End to end**: a real ``python -m firstmile serve`` subprocess on a fresh workspace
   (``init_workspace`` in a temporary folder, a free port), fed with batches exactly as
   segment-analytics-python 2.4.0 posts them to ``/v1/batch`` (Basic auth, ``batch`` /
   ``sentAt`` / ``writeKey``, uuid4 ``messageId``, explicit ``null`` fields), by 2-4
   keep-alive client threads. Bodies are generated before the clock starts. Events/s is
   measured on a window (the first 100,000 events after a short warm-up); the rest of
   the events are sent afterwards, in pre-generated segments.
3. **Memory**: the server's peak RSS (``VmHWM`` in ``/proc/<pid>/status``) after all
   events (1,000,000 by default).

Every response must be 200 and accept its whole batch, and the event count in the
database (``Firstmile.summary()``) must equal the number sent. Human-readable figures
go to stdout; the last line is one JSON object with all figures.

Run: ``.venv/bin/python -m bench.ingest`` (``--quick`` for a 50,000-event smoke run).
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import json
import os
import platform
import random
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.harness import (
    Server,
    cpu_model,
    free_port,
    proc_status_mb,
)
from firstmile.events.enrich import enrich
from firstmile.service import Firstmile
from firstmile.settings import load_settings
from firstmile.storage import open_store
from firstmile.workspace import init_workspace

GOAL_EVENTS_PER_S = 10_000
GOAL_RSS_MB = 400
LIBRARY = {"name": "analytics-python", "version": "2.4.0"}
CLIENT_HEADERS = {
    "Content-Type": "application/json",
    "User-Agent": "analytics-python/2.4.0",
}
SOURCE_ID = "default"  # the source `init_workspace`'s write key belongs to
RAW_TXN_ROWS = 1_000
RAW_RUNS = 3
WARMUP_BATCHES = 20

# Real browser user agents (desktop, mobile, tablet; a few years of versions).
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) CriOS/124.0.6367.111 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.6422.165 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 12; moto g(60)) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/123.0.6312.118 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Android 14; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0",
)

# (locale, IANA time zone, country as users type it in a form)
LOCALES = (
    ("en-US", "America/New_York", "United States"),
    ("en-US", "America/Los_Angeles", "USA"),
    ("en-US", "America/Chicago", "US"),
    ("en-GB", "Europe/London", "United Kingdom"),
    ("de-DE", "Europe/Berlin", "Germany"),
    ("fr-FR", "Europe/Paris", "France"),
    ("es-ES", "Europe/Madrid", "Spain"),
    ("nl-NL", "Europe/Amsterdam", "Netherlands"),
    ("pt-BR", "America/Sao_Paulo", "Brazil"),
    ("ja-JP", "Asia/Tokyo", "JP"),
    ("en-IN", "Asia/Kolkata", "India"),
    ("en-AU", "Australia/Sydney", "AU"),
    ("en-CA", "America/Toronto", "Canada"),
    ("pl-PL", "Europe/Warsaw", "Poland"),
)
FIRST_NAMES = (
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Lucas",
    "Mia",
    "Mateo",
    "Sofia",
    "Elias",
    "Hana",
    "Yuki",
    "Priya",
    "Arjun",
    "Chloe",
    "Louis",
    "Lena",
    "Jonas",
    "Camila",
    "Diego",
)
LAST_NAMES = (
    "Smith",
    "Garcia",
    "Müller",
    "Martin",
    "Rossi",
    "Nowak",
    "Silva",
    "Tanaka",
    "Patel",
    "Kim",
    "Jones",
    "Dubois",
    "Jansen",
    "Kowalski",
    "Santos",
    "Brown",
    "Schmidt",
    "Sato",
)
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne")
INDUSTRIES = ("software", "retail", "finance", "healthcare", "education", "media")
PLANS = ("free", "starter", "pro", "business")
FEATURES = ("dashboards", "alerts", "exports", "sso", "api", "comments", "templates")
PAGES = (
    ("Dashboard", "App", "/app/dashboard"),
    ("Settings", "App", "/app/settings"),
    ("Projects", "App", "/app/projects"),
    ("Billing", "App", "/app/settings/billing"),
    ("Pricing", "Marketing", "/pricing"),
    ("Home", "Marketing", "/"),
    ("Docs", None, "/docs/getting-started"),
    ("Blog", None, "/blog/onboarding-that-converts"),
)
REFERRERS = ("https://www.google.com/", "https://news.ycombinator.com/", "", "https://t.co/")


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    anonymous_id: str
    first_name: str
    last_name: str
    email: str
    company: str
    locale: str
    timezone: str
    country: str
    ip: str
    user_agent: str
    signed_up: str


@dataclass(slots=True)
class Batch:
    body: bytes
    size: int


@dataclass(slots=True)
class SendStats:
    requests: int = 0
    accepted: int = 0
    failures: list[str] = field(default_factory=list)


def _public_ip(rng: random.Random) -> str:
    while True:
        if rng.random() < 0.1:
            # Native IPv6 from the RIRs' big allocations (2a00::/12 RIPE, 2600::/12 ARIN).
            prefix = rng.choice((0x2A00, 0x2600)) | rng.getrandbits(4)
            address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv6Address(
                (prefix << 112) | rng.getrandbits(112)
            )
        else:
            address = ipaddress.IPv4Address(rng.getrandbits(32))
        if address.is_global and not (address.is_multicast or address.is_reserved):
            return str(address)


def make_users(count: int, rng: random.Random) -> list[User]:
    users = []
    for n in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        locale, zone, country = rng.choice(LOCALES)
        company = rng.choice(COMPANIES)
        signed_up = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(800_000))
        users.append(
            User(
                user_id=f"usr_{n:06d}",
                anonymous_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                first_name=first,
                last_name=last,
                email=f"{first}.{last}{n}@{company.lower()}.example".lower(),
                company=company,
                locale=locale,
                timezone=zone,
                country=country,
                ip=_public_ip(rng),
                user_agent=rng.choice(USER_AGENTS),
                signed_up=signed_up.isoformat(),
            )
        )
    return users


def _track(rng: random.Random, user: User) -> tuple[str, dict[str, Any]]:
    kind = rng.randrange(9)
    if kind == 0:
        return "Signed Up", {
            "method": rng.choice(("email", "google", "github")),
            "plan": rng.choice(PLANS),
            "referrer": rng.choice(REFERRERS),
            "utm_source": rng.choice(("newsletter", "google", "twitter", None)),
        }
    if kind == 1:
        return "Project Created", {
            "project_id": f"prj_{rng.getrandbits(40):x}",
            "template": rng.choice(("blank", "kanban", "crm", "roadmap")),
            "collaborators": rng.randrange(1, 12),
        }
    if kind == 2:
        return "Invite Sent", {
            "invitee_role": rng.choice(("member", "admin", "viewer")),
            "invite_count": rng.randrange(1, 6),
            "channel": "email",
        }
    if kind == 3:
        return "Onboarding Step Completed", {
            "step": rng.randrange(1, 7),
            "step_name": rng.choice(("profile", "team", "integrations", "first_project")),
            "skipped": rng.random() < 0.15,
            "duration_s": round(rng.uniform(2, 300), 1),
        }
    if kind == 4:
        price = rng.choice((12.0, 29.0, 49.0, 99.0))
        return "Order Completed", {
            "order_id": f"ord_{rng.getrandbits(48):x}",
            "total": price,
            "revenue": round(price / 1.2, 2),
            "tax": round(price - price / 1.2, 2),
            "currency": "USD",
            "coupon": rng.choice((None, None, "SPRING24")),
            "products": [
                {
                    "product_id": f"plan_{rng.choice(PLANS)}",
                    "sku": f"SKU-{rng.randrange(1000, 9999)}",
                    "name": f"{user.company} seat",
                    "price": price,
                    "quantity": rng.randrange(1, 4),
                }
            ],
        }
    if kind == 5:
        return "Plan Upgraded", {
            "from_plan": "free",
            "to_plan": rng.choice(PLANS[1:]),
            "mrr": rng.choice((29.0, 99.0, 499.0)),
            "billing_cycle": rng.choice(("monthly", "annual")),
        }
    if kind == 6:
        return "Search Performed", {
            "query": rng.choice(("invoice", "roadmap q3", "api key", "export csv", "sso")),
            "results": rng.randrange(0, 60),
        }
    if kind == 7:
        return "File Uploaded", {
            "file_type": rng.choice(("pdf", "png", "csv", "docx")),
            "size_bytes": rng.randrange(2_000, 20_000_000),
        }
    return "Feature Used", {
        "feature": rng.choice(FEATURES),
        "duration_ms": rng.randrange(50, 90_000),
        "success": rng.random() < 0.95,
    }


def _context(user: User, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {
        "ip": user.ip,
        "userAgent": user.user_agent,
        "locale": user.locale,
        "timezone": user.timezone,
    }
    if extra:
        context.update(extra)
    # segment-analytics-python sets context.library last (client.py, _enqueue).
    context["library"] = LIBRARY
    return context


def _ids(rng: random.Random, user: User) -> tuple[str | None, str | None]:
    """(userId, anonymousId) of a track or page call: mostly known users."""
    draw = rng.random()
    if draw < 0.75:
        return user.user_id, None
    if draw < 0.95:
        return None, user.anonymous_id  # before sign-up / logged out
    return user.user_id, user.anonymous_id


def make_message(rng: random.Random, user: User, now: datetime) -> dict[str, Any]:
    """One message, with the keys, order and nulls segment-analytics-python sends."""
    timestamp = (now - timedelta(milliseconds=rng.randrange(0, 5_000))).isoformat(
        timespec="milliseconds"
    )
    message_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    draw = rng.random()
    if draw < 0.10:
        return {
            "integrations": {},
            "anonymousId": user.anonymous_id if rng.random() < 0.5 else None,
            "timestamp": timestamp,
            "context": _context(user),
            "type": "identify",
            "userId": user.user_id,
            "traits": {
                "email": user.email,
                "name": f"{user.first_name} {user.last_name}",
                "first_name": user.first_name,
                "last_name": user.last_name,
                "plan": rng.choice(PLANS),
                "logins": rng.randrange(1, 500),
                "country": user.country,
                "created_at": user.signed_up,
                "company": {
                    "name": user.company,
                    "industry": rng.choice(INDUSTRIES),
                    "employee_count": rng.choice((5, 25, 120, 800)),
                },
            },
            "messageId": message_id,
        }
    user_id, anonymous_id = _ids(rng, user)
    if draw < 0.40:
        name, category, path = rng.choice(PAGES)
        referrer = rng.choice(REFERRERS)
        url = f"https://app.example.com{path}"
        return {
            "integrations": {},
            "anonymousId": anonymous_id,
            "properties": {
                "path": path,
                "url": url,
                "title": f"{name} | Example",
                "referrer": referrer,
                "search": "",
            },
            "timestamp": timestamp,
            "category": category,
            "context": _context(user, {"page": {"path": path, "url": url, "referrer": referrer}}),
            "userId": user_id,
            "type": "page",
            "name": name,
            "messageId": message_id,
        }
    event, properties = _track(rng, user)
    return {
        "integrations": {},
        "anonymousId": anonymous_id,
        "properties": properties,
        "timestamp": timestamp,
        "context": _context(user),
        "userId": user_id,
        "type": "track",
        "event": event,
        "messageId": message_id,
    }


class EventSource:
    """Deterministic stream of batches: users picked with a skewed (Pareto) activity."""

    def __init__(self, users: int, batch: int, write_key: str, seed: int = 20260101) -> None:
        self.rng = random.Random(seed)
        self.users = make_users(users, self.rng)
        self.batch = batch
        self.write_key = write_key
        weights = [self.rng.paretovariate(1.2) for _ in self.users]
        total = 0.0
        self.cumulative: list[float] = []
        for weight in weights:
            total += weight
            self.cumulative.append(total)

    def batches(self, events: int) -> list[Batch]:
        out: list[Batch] = []
        while events > 0:
            size = min(self.batch, events)
            now = datetime.now(UTC)
            chosen = self.rng.choices(self.users, cum_weights=self.cumulative, k=size)
            items = [make_message(self.rng, user, now) for user in chosen]
            # The client's request.post(): body = {"batch": [...]}, then sentAt, then
            # writeKey, serialized with json.dumps' default separators.
            body = {
                "batch": items,
                "sentAt": datetime.now(UTC).isoformat(),
                "writeKey": self.write_key,
            }
            out.append(Batch(json.dumps(body).encode(), size))
            events -= size
        return out


# -- raw ceiling ----------------------------------------------------------------------------


def _sql_time(value: str | None) -> str | None:
    # How SQLAlchemy's SQLite DateTime stores a UTC time (firstmile's UTCDateTime).
    if value is None:
        return None
    parsed = datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)
    return parsed.isoformat(sep=" ", timespec="microseconds")


_EVENT_INSERT = (
    "INSERT INTO events (source_id, message_id, profile_id, type, name, user_id, anonymous_id, "
    "timestamp, received_at, sent_at, original_timestamp, payload, consent) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_CONSENT = orjson.dumps(
    {"necessary": True, "analytics": True, "personalization": True, "marketing": False}
).decode()


def raw_rows(batches: Sequence[Batch], users: Sequence[User]) -> list[tuple[Any, ...]]:
    """The ``events`` rows the server would write for these batches (built untimed)."""
    profile_of: dict[str, str] = {}
    for user in users:
        profile = uuid.uuid5(uuid.NAMESPACE_URL, user.user_id).hex
        profile_of[user.user_id] = profile_of[user.anonymous_id] = profile
    received = _sql_time(datetime.now(UTC).isoformat())
    rows: list[tuple[Any, ...]] = []
    for batch in batches:
        document = orjson.loads(batch.body)
        sent_at = _sql_time(document["sentAt"])
        for item in document["batch"]:
            kind = item["type"]
            # The payload firstmile.pipeline stores: the message's objects plus the
            # enrichment (computed here with firstmile's own function, untimed).
            enrichment = enrich(item["context"])
            payload = {
                "properties": item.get("properties") or {},
                "traits": item.get("traits") or {},
                "context": item["context"],
                "integrations": item["integrations"],
                "enrichment": {k: v for k, v in asdict(enrichment).items() if v is not None},
            }
            if item.get("category") is not None:
                payload["category"] = item["category"]
            rows.append(
                (
                    SOURCE_ID,
                    item["messageId"],
                    profile_of[item["userId"] or item["anonymousId"]],
                    kind,
                    item.get("event") if kind == "track" else item.get("name"),
                    item["userId"],
                    item["anonymousId"],
                    _sql_time(item["timestamp"]),
                    received,
                    sent_at,
                    _sql_time(item["timestamp"]),
                    orjson.dumps(payload).decode(),
                    _CONSENT,
                )
            )
    return rows


def raw_ceiling(path: Path, rows: Sequence[tuple[Any, ...]]) -> float:
    """Rows/s of executemany into a freshly migrated ``events`` table, txn of 1,000."""
    store = open_store(f"sqlite:///{path}")
    try:
        store.migrate()  # the project's own schema and indexes
    finally:
        store.close()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")  # as firstmile's engine sets them
        conn.execute("PRAGMA synchronous=NORMAL")
        start = time.perf_counter()
        for offset in range(0, len(rows), RAW_TXN_ROWS):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(_EVENT_INSERT, rows[offset : offset + RAW_TXN_ROWS])
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - start
        (stored,) = conn.execute("SELECT count(*) FROM events").fetchone()
    finally:
        conn.close()
    if stored != len(rows):
        raise RuntimeError(f"raw ceiling stored {stored} rows, expected {len(rows)}")
    return len(rows) / elapsed


# -- server -------------------------------------------------------------------------------


class Sender:
    """``workers`` threads, each with its own keep-alive ``httpx.Client``."""

    def __init__(self, url: str, write_key: str, workers: int) -> None:
        token = base64.b64encode(f"{write_key}:".encode()).decode()
        headers = {**CLIENT_HEADERS, "Authorization": f"Basic {token}"}
        self.clients = [
            httpx.Client(base_url=url, headers=headers, timeout=120.0) for _ in range(workers)
        ]
        self.stats = SendStats()
        self._lock = threading.Lock()

    def close(self) -> None:
        for client in self.clients:
            client.close()

    def send(self, batches: Sequence[Batch]) -> float:
        """Post every batch; returns the wall time in seconds."""
        position = iter(range(len(batches)))

        def work(client: httpx.Client) -> None:
            requests = accepted = 0
            failures: list[str] = []
            while True:
                with self._lock:
                    index = next(position, None)
                if index is None:
                    break
                batch = batches[index]
                try:
                    response = client.post("/v1/batch", content=batch.body)
                except httpx.HTTPError as exc:
                    failures.append(f"transport error: {exc!r}")
                    continue
                requests += 1
                if response.status_code != 200:
                    failures.append(f"HTTP {response.status_code}: {response.text[:300]}")
                    continue
                result = orjson.loads(response.content)
                accepted += int(result.get("accepted", 0))
                if result.get("accepted") != batch.size or result.get("quarantined"):
                    failures.append(f"batch not fully accepted: {response.text[:300]}")
            with self._lock:
                self.stats.requests += requests
                self.stats.accepted += accepted
                self.stats.failures.extend(failures)

        threads = [threading.Thread(target=work, args=(client,)) for client in self.clients]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - start


# -- main ---------------------------------------------------------------------------------


def _segments(total: int, size: int) -> Iterator[int]:
    while total > 0:
        yield min(size, total)
        total -= size


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1_000_000, help="events to send in all")
    parser.add_argument("--users", type=int, default=10_000, help="distinct users")
    parser.add_argument("--batch", type=int, default=100, help="messages per request")
    parser.add_argument("--workers", type=int, default=3, help="concurrent client threads")
    parser.add_argument(
        "--window", type=int, default=100_000, help="events in the timed throughput window"
    )
    parser.add_argument(
        "--segment", type=int, default=100_000, help="events generated at a time after it"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 50,000 events")
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspace")
    args = parser.parse_args(argv)
    if args.quick:
        args.events = min(args.events, 50_000)
    if min(args.events, args.users, args.batch, args.workers, args.window, args.segment) < 1:
        parser.error("--events, --users, --batch, --workers, --window, --segment must be > 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    for name in [k for k in os.environ if k.startswith("FIRSTMILE_")]:
        del os.environ[name]  # init_workspace and summary() read the environment too
    folder = Path(tempfile.mkdtemp(prefix="firstmile-bench-"))
    print(
        f"firstmile ingest benchmark: {args.events:,} events, {args.users:,} users, "
        f"batches of {args.batch}, {args.workers} client threads"
    )
    print(f"work folder: {folder}")
    server: Server | None = None
    sender: Sender | None = None
    try:
        workspace = init_workspace(folder / "workspace")
        source = EventSource(args.users, args.batch, workspace.write_key)
        warmup = min(WARMUP_BATCHES * args.batch, args.events // 10)
        window = min(args.window, args.events - warmup)
        gen_start = time.perf_counter()
        warmup_batches = source.batches(warmup)
        window_batches = source.batches(window)
        generation_s = time.perf_counter() - gen_start
        body_bytes = sum(len(b.body) for b in window_batches)
        print(
            f"generated {warmup + window:,} events in {generation_s:.1f} s "
            f"(mean body {body_bytes / max(len(window_batches), 1) / 1024:.1f} KiB, "
            f"{body_bytes / max(window, 1):.0f} B/event)"
        )

        rows = raw_rows(window_batches, source.users)
        # Median of RAW_RUNS runs, each into a fresh database (the machine is noisy).
        raw_runs = [raw_ceiling(folder / f"raw-{n}.db", rows) for n in range(RAW_RUNS)]
        raw_eps = statistics.median(raw_runs)
        del rows
        print(
            f"raw ceiling: {raw_eps:,.0f} events/s, median of "
            + " / ".join(f"{r:,.0f}" for r in raw_runs)
            + f" (sqlite3 executemany of {window:,} rows into `events`, txn {RAW_TXN_ROWS:,})"
        )

        server = Server(workspace.home, free_port())
        server.wait_ready()
        pid = server.process.pid
        sender = Sender(server.url, workspace.write_key, args.workers)
        sender.send(warmup_batches)
        del warmup_batches
        window_s = sender.send(window_batches)
        del window_batches
        http_eps = window / window_s
        sent = warmup + window
        send_s = window_s
        print(
            f"end to end: {http_eps:,.0f} events/s over {window:,} events "
            f"({window_s:.2f} s, {window / args.batch / window_s:,.0f} req/s); "
            f"server RSS {proc_status_mb(pid, 'VmRSS'):.0f} MB"
        )
        rss_trail = [(sent, round(proc_status_mb(pid, "VmRSS"), 1))]
        for size in _segments(args.events - sent, args.segment):
            batches = source.batches(size)
            elapsed = sender.send(batches)
            sent += size
            send_s += elapsed
            rss = proc_status_mb(pid, "VmRSS")
            rss_trail.append((sent, round(rss, 1)))
            print(f"  {sent:>9,} sent: {size / elapsed:>8,.0f} events/s, server RSS {rss:.0f} MB")
        peak_rss = proc_status_mb(pid, "VmHWM")
        sustained_eps = (sent - warmup) / send_s
        print(f"server peak RSS (VmHWM) after {sent:,} events: {peak_rss:.0f} MB")
        stats = sender.stats
        sender.close()
        sender = None
        server.stop()
        if server.process.returncode not in (0, -signal.SIGTERM):
            stats.failures.append(f"server exited with {server.process.returncode}")

        with Firstmile.open(load_settings(home=workspace.home)) as fm:
            summary = fm.summary()
        stored = int(summary["profiles"]["events"])
        accepted = int(summary["ingest"].get("accepted", 0))
        if stored != sent:
            stats.failures.append(f"stored {stored:,} events, sent {sent:,}")
        if accepted != sent or stats.accepted != sent:
            stats.failures.append(
                f"accepted counter {accepted:,}, responses {stats.accepted:,}, sent {sent:,}"
            )
        duration = time.perf_counter() - started
        ratio = http_eps / raw_eps
        print(
            f"stored {stored:,} events in {summary['profiles']['profiles']:,} profiles; "
            f"{stats.requests:,} requests, {len(stats.failures)} failures"
        )
        print(f"ratio end to end / raw: {ratio:.3f} ({ratio * 100:.1f}% of the raw ceiling)")
        print(
            f"goals: >= {GOAL_EVENTS_PER_S:,} events/s "
            f"{'MET' if http_eps >= GOAL_EVENTS_PER_S else 'MISSED'}; "
            f"RSS < {GOAL_RSS_MB} MB {'MET' if peak_rss < GOAL_RSS_MB else 'MISSED'}"
        )
        for failure in stats.failures[:10]:
            print(f"FAILURE: {failure}")
        if server.process.returncode not in (0, -signal.SIGTERM) or stats.failures:
            print(server.log_tail())
        figures = {
            "events_per_s_http": round(http_eps, 1),
            "events_per_s_raw": round(raw_eps, 1),
            "events_per_s_raw_runs": [round(r, 1) for r in raw_runs],
            "ratio": round(ratio, 4),
            "server_peak_rss_mb": round(peak_rss, 1),
            "events_sent": sent,
            "events_stored": stored,
            "events_per_s_http_sustained": round(sustained_eps, 1),
            "window_events": window,
            "window_s": round(window_s, 3),
            "rss_mb_by_events_sent": rss_trail,
            "users": args.users,
            "profiles": int(summary["profiles"]["profiles"]),
            "batch": args.batch,
            "workers": args.workers,
            "requests": stats.requests,
            "failures": len(stats.failures),
            "goal_events_per_s_met": http_eps >= GOAL_EVENTS_PER_S,
            "goal_rss_met": peak_rss < GOAL_RSS_MB,
            "duration_s": round(duration, 1),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "cpus": os.cpu_count(),
            "cpu": cpu_model(),
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        print(json.dumps(figures))
        return 1 if stats.failures else 0
    finally:
        if sender is not None:
            sender.close()
        if server is not None:
            server.stop()
        if args.keep:
            print(f"kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
