"""Segments benchmark: cost per profile update, and freshness over HTTP.

What it measures, in one run:

1. **Cost per profile update** with 100 rule segments and 10 scores (one threshold
   segment each), on 10,000 generated profiles (``firstmile.profiles.model.Profile`` with
   traits, computed traits, hourly event counters and consent):

   * ``full``: firstmile's whole path for one profile: ``profile_attributes`` then
     ``SegmentEngine.evaluate`` of every segment (100 conditions, 10 scores);
   * ``incremental``: a single-trait change (``plan``) as ``segment_updates`` does it:
     attributes of the old and the new profile, ``changed_roots``, ``engine.affected``,
     then ``evaluate(..., only=affected)``; and that ``evaluate`` call alone;
   * ``conditions``: firstmile's 100 compiled conditions on the prebuilt attribute dicts;
   * ``growthbook``: the official ``growthbook`` SDK's ``growthbook.core.evalCondition``
     on the same 100 conditions and the same attribute dicts.

   ``$within`` is a firstmile extension; the SDK gets the equivalent ``$gte`` on an
   ISO-8601 text bound (``now - duration``; every timestamp here has the same format,
   so text order is time order). Every (profile, condition) answer of firstmile and the
   SDK is compared; disagreements must be 0. Each figure is the median of 3 runs.
2. **Freshness**: a real ``python -m firstmile serve`` on a fresh workspace with a segment
   ``{events.Completed Step.count: {$gte: 3}}``; 1,000 users get 2 ``Completed Step``
   events each (untimed), then each gets its 3rd, posted alone (Segment batch format,
   Basic auth with the write key); the time from the ingest HTTP response to the new
   membership being visible is measured, p50/p99, against the round trip of
   ``GET /healthz`` in the same run. Visibility is read through ``GET /v1/users/{id}``
   (``Authorization: Bearer <server key>``) when the server has that route, otherwise
   through a ``Firstmile`` opened on the same workspace (SQLite WAL), and the output
   says which.

Human-readable figures go to stdout; the last line is one JSON object with all figures.

Run: ``.venv/bin/python -m bench.segments`` (``--quick`` for a smaller smoke run).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from growthbook import __version__ as growthbook_version
from growthbook.core import evalCondition, getPath

from bench.harness import (
    Server,
    cpu_model,
    free_port,
)
from firstmile.config import OnboardingConfig, parse_config
from firstmile.events.consent import ConsentPolicy
from firstmile.events.model import Purpose
from firstmile.profiles.model import Computed, ConsentDecision, Profile
from firstmile.segments.attributes import profile_attributes
from firstmile.segments.engine import SegmentEngine, changed_roots
from firstmile.service import Firstmile
from firstmile.settings import load_settings
from firstmile.workspace import init_workspace

GOAL_RATIO = 2.0  # firstmile at least 2x faster than the SDK
GOAL_P99_MS = 20.0
RUNS = 3
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SEGMENT_KEY = "completed_3_steps"
STEPS_TO_ENTER = 3

EVENTS = (
    "Signed Up",
    "Project Created",
    "Invite Sent",
    "Completed Step",
    "Order Completed",
    "Plan Upgraded",
    "Search Performed",
    "File Uploaded",
    "Feature Used",
    "Invited Teammate",
)
PLANS = ("free", "starter", "pro", "business")
ROLES = ("owner", "admin", "member", "viewer")
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne")
INDUSTRIES = ("software", "retail", "finance", "healthcare", "education", "media")
DEVICES = ("desktop", "mobile", "tablet")
OSES = ("Windows", "Mac OS X", "Linux", "iOS", "Android", "Chrome OS")
BROWSERS = ("Chrome", "Firefox", "Safari", "Edge", "Samsung Internet")
COUNTRIES = ("US", "GB", "DE", "FR", "ES", "NL", "BR", "JP", "IN", "AU", "CA", "PL")
LOCALES = ("en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "nl-NL", "pt-BR", "ja-JP")
ZONES = ("America/New_York", "Europe/London", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney")
TEMPLATES = ("blank", "kanban", "crm", "roadmap")
PAGES = ("/app/dashboard", "/app/settings", "/app/projects", "/app/settings/billing", "/pricing")
TAGS = ("trial", "enterprise-lead", "churn-risk", "champion", "webinar", "partner")
GROUPS = ("grp_acme", "grp_globex", "grp_initech", "grp_hooli", "grp_wayne")
VERSIONS = ("1.9.4", "2.0.0", "2.3.1", "2.10.0", "2.14.1", "3.0.0-rc.2", "3.0.0", "3.1.2")


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


# -- config -------------------------------------------------------------------------------

Template = Callable[[random.Random], dict[str, Any]]


def _event_count(rng: random.Random) -> dict[str, Any]:
    window = rng.choice(("count", "count_7d", "count_1d"))
    op = rng.choice(("$gt", "$gte", "$lt", "$lte"))
    return {f"events.{rng.choice(EVENTS)}.{window}": {op: rng.randrange(0, 8)}}


def _trait_eq(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.5:
        return {"plan": rng.choice(PLANS)}
    return {"role": {"$eq": rng.choice(ROLES)}}


def _in(rng: random.Random) -> dict[str, Any]:
    attribute, values = rng.choice(
        (("device_type", DEVICES), ("country", COUNTRIES), ("browser", BROWSERS), ("os", OSES))
    )
    op = "$in" if rng.random() < 0.8 else "$nin"
    return {attribute: {op: rng.sample(values, rng.randrange(1, 4))}}


def _numeric(rng: random.Random) -> dict[str, Any]:
    attribute, top = rng.choice(
        (
            ("logins", 200),
            ("seats", 40),
            ("company.employee_count", 900),
            ("sessions", 60),
            ("active_days", 40),
            ("events_7d", 80),
            ("event_count", 400),
            ("invited_teammates", 6),
        )
    )
    return {attribute: {rng.choice(("$gt", "$gte", "$lt", "$lte")): rng.randrange(0, top)}}


def _regex(rng: random.Random) -> dict[str, Any]:
    return rng.choice(
        (
            {"email": {"$regex": f"@({rng.choice(COMPANIES).lower()}|hooli)\\.example$"}},
            {"last_page": {"$regex": "^/app/settings"}},
            {"name": {"$regex": "^(Olivia|Noah|Hana) "}},
            {"company.name": {"$regex": "^[A-H]"}},
        )
    )


def _exists(rng: random.Random) -> dict[str, Any]:
    attribute = rng.choice(
        (
            "company.industry",
            "app_version",
            f"events.{rng.choice(EVENTS)}.count",
            "profile_complete",
            "referrer",
        )
    )
    return {attribute: {"$exists": rng.random() < 0.5}}


def _version(rng: random.Random) -> dict[str, Any]:
    op = rng.choice(("$vgte", "$vgt", "$vlt", "$veq"))
    return {"app_version": {op: rng.choice(VERSIONS)}}


def _elem_match(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.6:
        item: dict[str, Any] = {"template": rng.choice(TEMPLATES)}
        if rng.random() < 0.5:
            item["collaborators"] = {"$gte": rng.randrange(2, 8)}
        return {"projects": {"$elemMatch": item}}
    return {"last_pages": {"$elemMatch": {"$regex": "billing|pricing"}}}


def _within(rng: random.Random) -> dict[str, Any]:
    attribute = rng.choice(("last_seen", "signed_up_at", "first_seen"))
    return {attribute: {"$within": rng.choice(("1d", "3d", "7d", "14d", "30d"))}}


def _list(rng: random.Random) -> dict[str, Any]:
    return rng.choice(
        (
            {"tags": {"$in": rng.sample(TAGS, 2)}},
            {"tags": {"$all": rng.sample(TAGS, 2)}},
            {"groups": {"$in": rng.sample(GROUPS, 2)}},
            {"consent.marketing": True},
            {"anonymous": False},
        )
    )


LEAVES: tuple[Template, ...] = (
    _event_count,
    _trait_eq,
    _in,
    _numeric,
    _regex,
    _exists,
    _version,
    _elem_match,
    _list,
)


def _and(rng: random.Random) -> dict[str, Any]:
    return {"$and": [rng.choice(LEAVES)(rng) for _ in range(rng.randrange(2, 4))]}


def _or(rng: random.Random) -> dict[str, Any]:
    return {"$or": [rng.choice(LEAVES)(rng) for _ in range(rng.randrange(2, 4))]}


def _combined(rng: random.Random) -> dict[str, Any]:
    # Several attributes side by side (an implicit AND), sometimes with $not or $or inside.
    condition: dict[str, Any] = {}
    for _ in range(rng.randrange(2, 4)):
        condition.update(rng.choice(LEAVES)(rng))
    if rng.random() < 0.3:
        condition["$not"] = rng.choice(LEAVES)(rng)
    if rng.random() < 0.3:
        condition["$or"] = [_within(rng), rng.choice(LEAVES)(rng)]
    return condition


# (template, how many of the 100 conditions)
MIX: tuple[tuple[Template, int], ...] = (
    (_event_count, 12),
    (_trait_eq, 8),
    (_in, 8),
    (_numeric, 8),
    (_regex, 6),
    (_exists, 6),
    (_version, 6),
    (_elem_match, 6),
    (_within, 8),
    (_list, 6),
    (_and, 8),
    (_or, 8),
    (_combined, 10),
)


def make_conditions(rng: random.Random) -> list[dict[str, Any]]:
    conditions = [template(rng) for template, count in MIX for _ in range(count)]
    rng.shuffle(conditions)
    return conditions


def make_scores(rng: random.Random) -> list[dict[str, Any]]:
    scores = []
    for n in range(10):
        terms: list[dict[str, Any]] = []
        for event in rng.sample(EVENTS, rng.randrange(2, 5)):
            terms.append(
                {
                    "event": event,
                    "window": rng.choice(("1d", "7d", "all")),
                    "weight": rng.choice((5, 10, 15, 20)),
                    "cap": rng.randrange(2, 6),
                }
            )
        attribute = rng.choice(("profile_complete", "invited_teammates", "seats", "logins"))
        terms.append({"attribute": attribute, "weight": rng.choice((5, 10, 20)), "cap": 5})
        raw_max = sum(t["weight"] * t["cap"] for t in terms)
        score: dict[str, Any] = {
            "key": f"score_{n}",
            "name": f"Score {n}",
            "terms": terms,
            "scale": {"max": raw_max},
            "thresholds": [{"segment": f"score_{n}_high", "min": rng.choice((30, 50, 70))}],
        }
        if rng.random() < 0.5:
            score["decay"] = {"half_life": rng.choice(("3d", "7d", "14d"))}
        scores.append(score)
    return scores


def config_text(conditions: Sequence[Mapping[str, Any]], scores: Sequence[Any]) -> str:
    document = {
        "version": 1,
        "segments": [
            {"key": f"seg_{n:03d}", "name": f"Segment {n}", "condition": dict(condition)}
            for n, condition in enumerate(conditions)
        ],
        "scores": list(scores),
    }
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def for_growthbook(condition: Any, now: datetime) -> Any:
    """The same condition without firstmile's ``$within``: ``$gte`` on an ISO text bound."""
    if isinstance(condition, list):
        return [for_growthbook(item, now) for item in condition]
    if not isinstance(condition, dict):
        return condition
    out: dict[str, Any] = {}
    for key, value in condition.items():
        if key == "$within":
            unit = {"d": 86400, "h": 3600, "m": 60, "s": 1}[value[-1]]
            out["$gte"] = _iso(now - timedelta(seconds=int(value[:-1]) * unit))
        else:
            out[key] = for_growthbook(value, now)
    return out


ORDERING = frozenset(
    ("$gt", "$gte", "$lt", "$lte", "$veq", "$vne", "$vgt", "$vgte", "$vlt", "$vlte")
)


def orders_null(condition: Mapping[str, Any], attributes: dict[str, Any]) -> bool:
    """Whether an ordering or version operator in ``condition`` meets a missing value.

    There the two sides differ by design: firstmile follows GrowthBook's JavaScript SDK
    (null and missing compare as ``0``, a missing version is ``"0"``; docs/conditions.md),
    while the Python SDK 4.0.0 orders only two numbers or two strings.
    """
    for key, value in condition.items():
        if key in ("$and", "$or", "$nor"):
            if any(orders_null(item, attributes) for item in value):
                return True
        elif key == "$not":
            if orders_null(value, attributes):
                return True
        elif (
            isinstance(value, dict)
            and ORDERING.intersection(value)
            and getPath(attributes, key) is None
        ):
            return True
    return False


# -- profiles -----------------------------------------------------------------------------


def make_profile(n: int, rng: random.Random, now: datetime) -> Profile:
    first = rng.choice(("Olivia", "Liam", "Emma", "Noah", "Hana", "Yuki", "Priya", "Lucas"))
    last = rng.choice(("Smith", "Garcia", "Müller", "Tanaka", "Patel", "Kim", "Nowak"))
    company = rng.choice(COMPANIES)
    signed_up = now - timedelta(minutes=rng.randrange(10, 60 * 24 * 90))
    last_seen = min(now, signed_up + timedelta(minutes=rng.randrange(0, 60 * 24 * 90)))
    counts = {
        event: rng.randrange(1, 30) for event in rng.sample(EVENTS, rng.randrange(1, len(EVENTS)))
    }
    hourly: dict[int, dict[str, int]] = {}
    now_hour = int(now.timestamp()) // 3600
    for _ in range(rng.randrange(0, 12)):
        hour = now_hour - rng.randrange(0, 7 * 24)
        bucket = hourly.setdefault(hour, {})
        event = rng.choice(list(counts))
        bucket[event] = bucket.get(event, 0) + 1
        bucket["*"] = bucket.get("*", 0) + 1
    traits: dict[str, Any] = {
        "email": f"{first}.{last}{n}@{company.lower()}.example".lower(),
        "name": f"{first} {last}",
        "plan": rng.choice(PLANS),
        "role": rng.choice(ROLES),
        "signed_up_at": _iso(signed_up),
        "logins": rng.randrange(1, 300),
        "seats": rng.randrange(1, 50),
        "invited_teammates": rng.randrange(0, 8),
        "profile_complete": rng.random() < 0.6,
        "tags": rng.sample(TAGS, rng.randrange(0, 3)),
        "projects": [
            {"template": rng.choice(TEMPLATES), "collaborators": rng.randrange(1, 10)}
            for _ in range(rng.randrange(0, 4))
        ],
        "company": {"name": company, "employee_count": rng.choice((5, 25, 120, 800))},
    }
    if rng.random() < 0.8:
        traits["company"]["industry"] = rng.choice(INDUSTRIES)
    if rng.random() < 0.85:
        traits["app_version"] = rng.choice(VERSIONS)
    if rng.random() < 0.3:
        traits["referrer"] = rng.choice(("google", "newsletter", "partner"))
    consent = {}
    if rng.random() < 0.3:
        consent[Purpose.MARKETING] = ConsentDecision(True, signed_up, "traits")
    days = sorted({_iso(last_seen - timedelta(days=d))[:10] for d in range(rng.randrange(1, 30))})
    return Profile(
        profile_id=uuid.UUID(int=rng.getrandbits(128), version=4).hex,
        user_id=None if rng.random() < 0.1 else f"usr_{n:06d}",
        created_at=signed_up,
        updated_at=last_seen,
        version=sum(counts.values()),
        traits=traits,
        consent=consent,
        computed=Computed(
            first_seen=signed_up.replace(microsecond=0),
            last_seen=last_seen.replace(microsecond=0),
            event_count=sum(counts.values()) + rng.randrange(0, 50),
            type_counts={"track": sum(counts.values())},
            event_counts=counts,
            sessions=rng.randrange(1, 60),
            active_days=tuple(days),
            hourly=hourly,
            last_pages=tuple(rng.sample(PAGES, rng.randrange(0, 4))),
            device_type=rng.choice(DEVICES),
            os=rng.choice(OSES),
            browser=rng.choice(BROWSERS),
            country=rng.choice(COUNTRIES),
            locale=rng.choice(LOCALES),
            timezone=rng.choice(ZONES),
            groups=tuple(rng.sample(GROUPS, rng.randrange(0, 2))),
        ),
    )


# -- part 1: cost per profile update -----------------------------------------------------


def _median_us(runs: Sequence[float], count: int) -> float:
    return statistics.median(runs) / count * 1e6


def cost_per_update(
    config: OnboardingConfig,
    profiles: Sequence[Profile],
    gb_conditions: Sequence[dict[str, Any]],
    policy: ConsentPolicy,
) -> dict[str, Any]:
    engine = SegmentEngine(config)
    now = NOW
    compiled = [segment.compiled for segment in config.segments]
    attributes = [profile_attributes(p, now=now, policy=policy) for p in profiles]
    count = len(profiles)

    # Agreement: every condition on every profile, firstmile against the SDK. The shared
    # set leaves out the pairs where an ordering operator meets a missing value.
    disagreements = outside_disagreements = outside = matches = 0
    examples: list[str] = []
    for p, attrs in zip(profiles, attributes, strict=True):
        for segment, condition, gb_condition in zip(
            config.segments, compiled, gb_conditions, strict=True
        ):
            ours = condition(attrs, now=now)
            theirs = evalCondition(attrs, gb_condition)
            matches += ours
            if orders_null(segment.condition, attrs):
                outside += 1
                outside_disagreements += ours != theirs
            elif ours != theirs:
                disagreements += 1
                if len(examples) < 5:
                    examples.append(f"{segment.key} on {p.profile_id}: {ours} vs {theirs}")

    # Single-trait change for the dependency index: the plan moves to another value.
    changed = [
        replace(
            p,
            traits={**p.traits, "plan": PLANS[(PLANS.index(p.traits["plan"]) + 1) % len(PLANS)]},
            version=p.version + 1,
        )
        for p in profiles
    ]
    previous = [engine.evaluate(dict(a), now).members for a in attributes]

    def full() -> float:
        start = time.perf_counter()
        for p in profiles:
            engine.evaluate(profile_attributes(p, now=now, policy=policy), now)
        return time.perf_counter() - start

    affected_sizes: list[int] = []

    def incremental() -> float:
        affected_sizes.clear()
        start = time.perf_counter()
        for old, new, members in zip(profiles, changed, previous, strict=True):
            new_attrs = profile_attributes(new, now=now, policy=policy)
            roots = changed_roots(profile_attributes(old, now=now, policy=policy), new_attrs)
            only = engine.affected(roots)
            engine.evaluate(new_attrs, now, previous=members, only=only)
            affected_sizes.append(len(only))
        return time.perf_counter() - start

    prepared = [profile_attributes(p, now=now, policy=policy) for p in changed]
    only_sets = [
        engine.affected(changed_roots(a, b)) for a, b in zip(attributes, prepared, strict=True)
    ]

    def evaluate_only() -> float:
        start = time.perf_counter()
        for attrs, only, members in zip(prepared, only_sets, previous, strict=True):
            engine.evaluate(attrs, now, previous=members, only=only)
        return time.perf_counter() - start

    def attributes_only() -> float:
        start = time.perf_counter()
        for p in profiles:
            profile_attributes(p, now=now, policy=policy)
        return time.perf_counter() - start

    def conditions_only() -> float:
        start = time.perf_counter()
        for attrs in attributes:
            for condition in compiled:
                condition(attrs, now=now)
        return time.perf_counter() - start

    def growthbook() -> float:
        start = time.perf_counter()
        for attrs in attributes:
            for gb_condition in gb_conditions:
                evalCondition(attrs, gb_condition)
        return time.perf_counter() - start

    timers = {
        "full": full,
        "incremental": incremental,
        "evaluate_only_affected": evaluate_only,
        "attributes": attributes_only,
        "conditions": conditions_only,
        "growthbook": growthbook,
    }
    runs: dict[str, list[float]] = {name: [] for name in timers}
    for _ in range(RUNS):  # interleaved, so drift on a noisy machine hits every figure
        for name, timer in timers.items():
            runs[name].append(timer())
    us = {name: _median_us(r, count) for name, r in runs.items()}
    return {
        "us": us,
        "runs_us": {name: [round(r / count * 1e6, 2) for r in rs] for name, rs in runs.items()},
        "disagreements": disagreements,
        "comparisons": count * len(compiled),
        "null_ordering_pairs": outside,
        "null_ordering_disagreements": outside_disagreements,
        "match_rate": matches / (count * len(compiled)),
        "examples": examples,
        "affected_mean": statistics.mean(affected_sizes),
        "segments_total": len(engine.segment_keys),
        "time_dependent": len(engine.time_dependent),
    }


# -- server (as in bench/ingest.py; bench/ is a package so mypy can tell this module from
# tests/unit/segments, and a script run cannot import its sibling as bench.ingest) ------

CLIENT_HEADERS = {"Content-Type": "application/json", "User-Agent": "analytics-python/2.4.0"}


# -- part 2: freshness over HTTP ---------------------------------------------------------

FRESHNESS_CONFIG = f"""\
version: 1
segments:
  - key: {SEGMENT_KEY}
    name: Completed {STEPS_TO_ENTER} steps
    condition:
      events.Completed Step.count: {{$gte: {STEPS_TO_ENTER}}}
"""


def _track(user_id: str, step: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "integrations": {},
        "anonymousId": None,
        "properties": {"step": step, "step_name": f"step_{step}"},
        "timestamp": now.isoformat(timespec="milliseconds"),
        "context": {"library": {"name": "analytics-python", "version": "2.4.0"}},
        "userId": user_id,
        "type": "track",
        "event": "Completed Step",
        "messageId": str(uuid.uuid4()),
    }


def _body(items: list[dict[str, Any]], write_key: str) -> bytes:
    document = {"batch": items, "sentAt": datetime.now(UTC).isoformat(), "writeKey": write_key}
    return json.dumps(document).encode()


def in_segments(document: Any, key: str) -> bool:
    """Whether a user document lists ``key`` among its segments (any reasonable shape)."""
    if isinstance(document, dict):
        segments = document.get("segments")
        if isinstance(segments, dict) and key in segments:
            return True
        if isinstance(segments, list):
            for item in segments:
                if item == key or (isinstance(item, dict) and item.get("key") == key):
                    return True
        return any(in_segments(value, key) for value in document.values())
    if isinstance(document, list):
        return any(in_segments(value, key) for value in document)
    return False


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def freshness(folder: Path, users: int) -> dict[str, Any]:
    home = folder / "workspace"
    workspace = init_workspace(home)
    (home / "firstmile.yaml").write_text(FRESHNESS_CONFIG, encoding="utf-8")
    server_key = getattr(workspace, "server_key", None)
    with Firstmile.open(load_settings(home=home)) as fm:
        if fm.config is None or not fm.config.segments:
            raise RuntimeError("the freshness config did not load")
        if server_key is None:
            server_key = fm.create_key("server", label="bench/segments.py")
    server = Server(home, free_port())
    reader: Firstmile | None = None
    try:
        server.wait_ready()
        token = base64.b64encode(f"{workspace.write_key}:".encode()).decode()
        client = httpx.Client(
            base_url=server.url,
            headers={**CLIENT_HEADERS, "Authorization": f"Basic {token}"},
            timeout=30.0,
        )
        api = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {server_key}"}, timeout=30.0
        )
        paths = client.get("/openapi.json").json().get("paths", {})
        has_users_route = any(path.startswith("/v1/users/") for path in paths)
        via = "GET /v1/users/{id}" if has_users_route else "Firstmile on the same workspace"
        if not has_users_route:
            reader = Firstmile.open(load_settings(home=home))
        user_ids = [f"usr_fresh_{n:05d}" for n in range(users)]

        def visible(user_id: str) -> bool:
            if has_users_route:
                response = api.get(f"/v1/users/{user_id}")
                if response.status_code == 404:
                    return False
                response.raise_for_status()
                return in_segments(response.json(), SEGMENT_KEY)
            assert reader is not None
            profile_id = reader.find_profile_id(user_id)
            return SEGMENT_KEY in reader.store.memberships(profile_id)

        # Untimed: each user gets all but the last step, in batches of 100.
        pending = [_track(u, s) for u in user_ids for s in range(1, STEPS_TO_ENTER)]
        for offset in range(0, len(pending), 100):
            response = client.post(
                "/v1/batch", content=_body(pending[offset : offset + 100], workspace.write_key)
            )
            response.raise_for_status()
        early = sum(visible(u) for u in user_ids[:50])
        if early:
            raise RuntimeError(f"{early} users are members before their last step")

        ingest_ms: list[float] = []
        fresh_ms: list[float] = []
        polls: list[int] = []
        health_ms: list[float] = []
        read_ms: list[float] = []
        failures: list[str] = []
        for user_id in user_ids:
            body = _body([_track(user_id, STEPS_TO_ENTER)], workspace.write_key)
            sent = time.perf_counter()
            response = client.post("/v1/batch", content=body)
            answered = time.perf_counter()
            if response.status_code != 200 or response.json().get("accepted") != 1:
                failures.append(f"{user_id}: HTTP {response.status_code} {response.text[:200]}")
                continue
            ingest_ms.append((answered - sent) * 1e3)
            tries = 0
            while True:
                tries += 1
                if visible(user_id):
                    break
                if time.perf_counter() - answered > 5.0:
                    failures.append(f"{user_id}: not a member 5 s after the response")
                    break
            seen = time.perf_counter()
            fresh_ms.append((seen - answered) * 1e3)
            polls.append(tries)
            # Baselines in the same run: one more read of the now-visible membership,
            # and the HTTP round trip of GET /healthz.
            start = time.perf_counter()
            visible(user_id)
            read_ms.append((time.perf_counter() - start) * 1e3)
            start = time.perf_counter()
            client.get("/healthz").raise_for_status()
            health_ms.append((time.perf_counter() - start) * 1e3)
        client.close()
        api.close()
    finally:
        if reader is not None:
            reader.close()
        server.stop()

    def summary(values: Sequence[float]) -> dict[str, float]:
        return {
            "p50": round(_percentile(values, 0.5), 3),
            "p99": round(_percentile(values, 0.99), 3),
            "max": round(max(values), 3),
        }

    return {
        "via": via,
        "events": len(fresh_ms),
        "freshness_ms": summary(fresh_ms),
        "ingest_post_ms": summary(ingest_ms),
        "visibility_read_ms": summary(read_ms),
        "healthz_ms": summary(health_ms),
        "polls_max": max(polls),
        "first_poll_visible": sum(1 for n in polls if n == 1),
        "failures": failures,
    }


# -- main ---------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--profiles", type=int, default=10_000, help="profiles to evaluate")
    parser.add_argument("--events", type=int, default=1_000, help="freshness: timed events")
    parser.add_argument("--quick", action="store_true", help="1,000 profiles, 200 events")
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspace")
    args = parser.parse_args(argv)
    if args.quick:
        args.profiles, args.events = min(args.profiles, 1_000), min(args.events, 200)
    if min(args.profiles, args.events) < 1:
        parser.error("--profiles and --events must be > 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    for name in [k for k in os.environ if k.startswith("FIRSTMILE_")]:
        del os.environ[name]
    rng = random.Random(20261125)
    conditions = make_conditions(rng)
    config = parse_config(config_text(conditions, make_scores(rng)), source="bench")
    gb_conditions = [for_growthbook(dict(s.condition), NOW) for s in config.segments]
    policy = ConsentPolicy.from_regimes("opt-out", "opt-out", "opt-in")
    profiles = [make_profile(n, rng, NOW) for n in range(args.profiles)]
    print(
        f"firstmile segments benchmark: {len(config.segments)} rule segments, "
        f"{len(config.scores)} scores ({len(config.threshold_segments)} threshold segments), "
        f"{len(profiles):,} profiles; growthbook {growthbook_version}; median of {RUNS} runs"
    )

    cost = cost_per_update(config, profiles, gb_conditions, policy)
    us = cost["us"]
    ratio_full = us["growthbook"] / us["full"]
    ratio_conditions = us["growthbook"] / us["conditions"]
    print(f"firstmile full path (attributes + evaluate all): {us['full']:8.1f} µs/profile")
    print(f"  profile_attributes alone:                       {us['attributes']:8.1f} µs/profile")
    print(
        f"firstmile single-trait change (dependency index): {us['incremental']:7.1f} µs/profile "
        f"(old+new attributes, changed_roots, affected, evaluate of "
        f"{cost['affected_mean']:.1f} of {cost['segments_total']} segments on average; "
        f"{cost['time_dependent']} are time-dependent)"
    )
    print(f"  evaluate(only=affected) alone:                  {us['evaluate_only_affected']:8.1f}")
    print(f"firstmile 100 compiled conditions:               {us['conditions']:8.1f} µs/profile")
    print(f"growthbook evalCondition, same 100 conditions:   {us['growthbook']:8.1f} µs/profile")
    print(
        f"ratio growthbook / firstmile full path: {ratio_full:.2f}x; "
        f"growthbook / firstmile conditions: {ratio_conditions:.2f}x"
    )
    shared = cost["comparisons"] - cost["null_ordering_pairs"]
    print(
        f"agreement: {cost['disagreements']} disagreements in the shared set of {shared:,} "
        f"(profile, condition) pairs ({cost['match_rate'] * 100:.1f}% of all pairs match); "
        f"outside it, {cost['null_ordering_disagreements']:,} of "
        f"{cost['null_ordering_pairs']:,} pairs where an ordering or version operator meets "
        "a missing value differ by design (firstmile: null counts as 0, as in the JS SDK; "
        "Python SDK: false)"
    )
    for example in cost["examples"]:
        print(f"  DISAGREEMENT: {example}")

    folder = Path(tempfile.mkdtemp(prefix="firstmile-bench-segments-"))
    try:
        fresh = freshness(folder, args.events)
    finally:
        if args.keep:
            print(f"kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    f = fresh["freshness_ms"]
    print(
        f"freshness over {fresh['events']:,} events (read via {fresh['via']}): "
        f"p50 {f['p50']:.2f} ms, p99 {f['p99']:.2f} ms, max {f['max']:.2f} ms; "
        f"visible at the first read for {fresh['first_poll_visible']:,}"
    )
    for label, name in (
        ("one visibility read", "visibility_read_ms"),
        ("GET /healthz round trip", "healthz_ms"),
        ("ingest POST round trip", "ingest_post_ms"),
    ):
        figure = fresh[name]
        print(f"  {label}: p50 {figure['p50']:.2f} ms, p99 {figure['p99']:.2f} ms")
    for failure in fresh["failures"][:10]:
        print(f"FAILURE: {failure}")
    ratio_met = ratio_full >= GOAL_RATIO
    p99_met = f["p99"] < GOAL_P99_MS
    print(
        f"goals: firstmile >= {GOAL_RATIO:.0f}x faster than the SDK "
        f"{'MET' if ratio_met else 'MISSED'} (full path {ratio_full:.2f}x, conditions "
        f"{ratio_conditions:.2f}x); freshness p99 < {GOAL_P99_MS:.0f} ms "
        f"{'MET' if p99_met else 'MISSED'}"
    )
    figures = {
        "us_per_profile_full": round(us["full"], 2),
        "us_per_profile_attributes": round(us["attributes"], 2),
        "us_per_profile_incremental": round(us["incremental"], 2),
        "us_per_profile_evaluate_affected": round(us["evaluate_only_affected"], 2),
        "us_per_profile_conditions": round(us["conditions"], 2),
        "us_per_profile_growthbook": round(us["growthbook"], 2),
        "runs_us": cost["runs_us"],
        "ratio_growthbook_over_full": round(ratio_full, 3),
        "ratio_growthbook_over_conditions": round(ratio_conditions, 3),
        "affected_mean": round(cost["affected_mean"], 2),
        "segments": cost["segments_total"],
        "rule_segments": len(config.segments),
        "scores": len(config.scores),
        "time_dependent_segments": cost["time_dependent"],
        "profiles": len(profiles),
        "disagreements": cost["disagreements"],
        "comparisons": cost["comparisons"],
        "shared_comparisons": shared,
        "null_ordering_pairs": cost["null_ordering_pairs"],
        "null_ordering_disagreements": cost["null_ordering_disagreements"],
        "freshness_via": fresh["via"],
        "freshness_events": fresh["events"],
        "freshness_ms": fresh["freshness_ms"],
        "visibility_read_ms": fresh["visibility_read_ms"],
        "healthz_ms": fresh["healthz_ms"],
        "ingest_post_ms": fresh["ingest_post_ms"],
        "freshness_failures": len(fresh["failures"]),
        "goal_ratio_met": ratio_met,
        "goal_p99_met": p99_met,
        "growthbook": growthbook_version,
        "duration_s": round(time.perf_counter() - started, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "cpu": cpu_model(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(figures))
    return 1 if cost["disagreements"] or fresh["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
