"""Decide benchmark: the onboarding plan per call in-process, and over HTTP under load.

What it measures, in one run, on a generated config of 100 rules, 20 segments (16 rule
segments and 4 score thresholds), 10 scores and 30 content items (every action kind,
templates reading traits with ``default`` filters, locales, frequency caps), written as
``firstmile.yaml`` in a fresh workspace (``init_workspace`` in a temporary folder) and
checked with ``parse_config``:

0. **Profiles** (untimed): 10,000 users are ingested in-process through
   ``Firstmile.ingest_items``: an identify with traits and 2-8 track events each, with
   real browser user agents, public IPs, locales, and the content events decide reads
   (``Content Shown``, ``Content Dismissed``, ``Step Completed`` with
   ``properties.item_id``). The config file is written after them (decide evaluates
   segments and scores itself and reads no stored membership).
1. **In-process**: a fresh ``Firstmile.open(load_settings(home=...))``, popular-in-segment
   recommendations counted once, then ``fm.decide`` of ``{"userId", "context"}`` for
   random known users and ~10% unknown ones (cold start), 20% of the known ones from an
   IP address they never used; each call timed with ``perf_counter_ns``: median, p99,
   mean. After each call, the same-run baseline: a plain read of the same profile
   (``store.find_profile_id`` + ``store.get_profile``); the ratio of the medians is the
   figure to compare across machines.
2. **HTTP**: a real ``python -m firstmile serve`` subprocess on the same workspace (a free
   port, ``FIRSTMILE_*`` removed), ``POST /v1/decide`` with the server key:

   * **open loop**: requests scheduled at a fixed rate (500/s for 10 s), sent by a pool
     of keep-alive client threads; latency runs from the *scheduled* time to the
     response, so a stalled server is not hidden by a stalled client (no coordinated
     omission): p50, p99, max;
   * **closed loop**: N threads, each with its own keep-alive ``httpx.Client``, send
     back to back, alternately ``POST /v1/decide`` and ``GET /healthz`` on the same
     server (same clients, same windows), 3 rounds each: req/s of both and the ratio
     decide / healthz (the same-run figure), with the server's CPU time per request
     (``/proc/<pid>/stat``) and the ratio of those, which holds even when the Python
     client, not the server, is what saturates (as it does for ``/healthz`` on 2 cores).

Every plan (in-process and over HTTP) must come back (HTTP 200) with the config's
version, its slots, non-empty steps and checklist, and ``known``/``profile_id`` as
expected for the user; in-process plans must have no fallback (over HTTP, under load, a
slot may run over the 50 ms budget: those are counted, not failed). The exit status is 1
otherwise. Human-readable figures go to stdout; the last line is one JSON object with
all figures.

Run: ``.venv/bin/python -m bench.decide`` (``--quick`` for a ~20 s smoke run).
"""

from __future__ import annotations

import argparse
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
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import yaml

from bench.harness import (
    Server,
    cpu_model,
    free_port,
    proc_status_mb,
    process_cpu_s,
)
from firstmile.config import OnboardingConfig, parse_config
from firstmile.service import Firstmile
from firstmile.settings import load_settings
from firstmile.workspace import init_workspace

GOAL_MEDIAN_US = 200.0
GOAL_P99_MS = 5.0
GOAL_RATE = 500.0  # requests/s of the open-loop run
GOAL_THROUGHPUT_RATIO = 0.40  # decide req/s at least 40% of /healthz's
SEED = 20261126
UNKNOWN_SHARE = 0.10  # decide calls for users never seen (cold start)
ROAMING_SHARE = 0.20  # decide calls from an IP address the user never used before
INGEST_BATCH = 200
WARMUP_CALLS = 300
CLOSED_ROUNDS = 3
CLIENT_HEADERS = {"Content-Type": "application/json", "User-Agent": "firstmile-bench/decide"}

# Real browser user agents: desktop, phone and tablet.
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.6422.165 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
)
# (locale, IANA time zone)
LOCALES = (
    ("en-US", "America/New_York"),
    ("en-US", "America/Los_Angeles"),
    ("en-GB", "Europe/London"),
    ("de-DE", "Europe/Berlin"),
    ("fr-FR", "Europe/Paris"),
    ("fr-CA", "America/Toronto"),
    ("es-ES", "Europe/Madrid"),
    ("pt-BR", "America/Sao_Paulo"),
    ("ja-JP", "Asia/Tokyo"),
    ("nl-NL", "Europe/Amsterdam"),
)
FIRST_NAMES = ("Olivia", "Liam", "Emma", "Noah", "Hana", "Yuki", "Priya", "Lucas", "Léa", "Mateo")
LAST_NAMES = ("Smith", "Garcia", "Müller", "Tanaka", "Patel", "Kim", "Nowak", "Dubois", "Silva")
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne")
INDUSTRIES = ("software", "retail", "finance", "healthcare", "education", "media")
PLANS = ("free", "trial", "starter", "pro", "business")
ROLES = ("owner", "admin", "member", "viewer")
USE_CASES = ("analytics", "reporting", "project_management", "crm", "marketing")
COUNTRIES = ("US", "GB", "DE", "FR", "ES", "NL", "BR", "JP", "CA", "CN", "KR", "IN", "AU")
APP_VERSIONS = ("2.9.1", "3.0.0", "3.1.4", "3.2.0", "3.4.1", "4.0.0-beta.2")
PAGES = (
    "/app/welcome",
    "/app/dashboard",
    "/app/projects",
    "/app/projects/new",
    "/app/settings/team",
    "/app/settings/billing",
    "/app/integrations",
    "/app/reports",
)
CAMPAIGNS = ("newsletter", "google", "partner", "webinar", "product_hunt")
EVENTS = (
    "Signed Up",
    "Project Created",
    "Data Connected",
    "Invite Sent",
    "Feature Used",
    "Dashboard Created",
    "Report Exported",
    "Avatar Added",
    "Email Verified",
)

# -- config ---------------------------------------------------------------------------------

# The 30 content items of the catalog, by kind.
MESSAGES = ("welcome", "welcome_mobile", "welcome_admin", "welcome_pro", "welcome_back")
MESSAGES_ALL = (*MESSAGES, "welcome_trial")
STEPS = (
    "create_project",
    "connect_data",
    "invite_team",
    "import_csv",
    "setup_billing",
    "install_sdk",
    "configure_sso",
    "create_dashboard",
    "set_alerts",
)
TUTORIALS = ("watch_intro", "advanced_tour", "api_walkthrough", "mobile_tour", "dashboards_101")
CHECKLIST_ITEMS = ("add_avatar", "verify_email", "enable_2fa", "join_community")
TIPS = ("shortcuts", "dark_mode", "templates_tip", "integrations_tip", "holiday_promo", "app_tip")
FLOWS = ("beginner", "advanced", "mobile", "admin_setup")
CHECKLISTS = ("getting_started", "team_setup", "power_user")
DEPTHS = ("none", "light", "standard", "guided")
STEP_EVENTS = {
    "create_project": "Project Created",
    "connect_data": "Data Connected",
    "invite_team": "Invite Sent",
    "create_dashboard": "Dashboard Created",
    "add_avatar": "Avatar Added",
    "verify_email": "Email Verified",
}
RULE_SEGMENTS = (
    "new_this_week",
    "new_today",
    "mobile_first",
    "desktop_users",
    "team_admins",
    "paying",
    "free_plan",
    "enterprise",
    "europe",
    "stalled",
    "project_creators",
    "inviters",
    "power_users",
    "data_teams",
    "french_speakers",
    "mobile_newcomers",
)
THRESHOLD_SEGMENTS = ("engaged", "at_risk", "activated", "champions")
SEGMENT_KEYS = (*RULE_SEGMENTS, *THRESHOLD_SEGMENTS)
SCORE_KEYS = tuple(f"score_{n}" for n in range(10))


def _text(title: str, body: str) -> dict[str, str]:
    return {"title": title, "body": body}


def make_catalog() -> list[dict[str, Any]]:
    name = "{{ traits.first_name | default('there') }}"
    # A missing object trait is undefined: `traits.company.name | default(...)` would raise
    # for users without `company` (the filter applies to the whole path), so test it first.
    company = "{{ traits.company.name if traits.company else 'your team' }}"
    catalog: list[dict[str, Any]] = [
        {
            "id": "welcome",
            "kind": "message",
            "title": "Welcome to Acme",
            "body": f"Hi {name}, let's get you set up in three steps.",
            "locales": {
                "fr": _text("Bienvenue chez Acme", f"Bonjour {name}, c'est parti !"),
                "de": _text("Willkommen bei Acme", f"Hallo {name}, los geht's."),
                "es": _text("Bienvenido a Acme", f"Hola {name}, empecemos."),
                "pt-br": _text("Boas-vindas à Acme", f"Olá {name}, vamos começar."),
                "ja": _text("Acmeへようこそ", f"{name}さん、始めましょう。"),
            },
        },
        {
            "id": "welcome_mobile",
            "kind": "message",
            "title": "Acme in your pocket",
            "body": f"{name}, set-up takes two minutes on your phone.",
            "once": True,
            "locales": {"fr": _text("Acme dans la poche", "Deux minutes sur votre téléphone.")},
        },
        {
            "id": "welcome_admin",
            "kind": "message",
            "title": f"Set up {company}",
            "body": "{{ traits.first_name | default('You') }}, invite your team first.",
            "locales": {"de": _text(f"{company} einrichten", "Laden Sie zuerst Ihr Team ein.")},
        },
        {
            "id": "welcome_pro",
            "kind": "message",
            "title": "Welcome to Acme Pro",
            "body": f"{name}, {{{{ traits.company.seats if traits.company else 'your' }}}} seats "
            "are ready.",
        },
        {
            "id": "welcome_back",
            "kind": "message",
            "title": "Welcome back",
            "body": f"Good to see you again, {name}.",
            "frequency": {"max": 3, "per": "7d"},
        },
        {
            "id": "welcome_trial",
            "kind": "message",
            "title": "Your trial has started",
            "body": "{% if traits.plan == 'trial' %}14 days of everything.{% else %}"
            "Explore at your pace.{% endif %}",
            "start": "2024-01-01T00:00:00Z",
        },
    ]
    for step in STEPS:
        item: dict[str, Any] = {
            "id": step,
            "kind": "step",
            "title": step.replace("_", " ").capitalize(),
            "body": f"{name}, this takes about two minutes.",
        }
        if step in STEP_EVENTS:
            item["completion_event"] = STEP_EVENTS[step]
        if step == "connect_data":
            item["prerequisites"] = ["create_project"]
        if step == "create_dashboard":
            item["prerequisites"] = ["connect_data"]
        if step in ("create_project", "invite_team"):
            item["locales"] = {"fr": _text(f"Étape : {step}", f"{name}, deux minutes.")}
        catalog.append(item)
    for tutorial in TUTORIALS:
        catalog.append(
            {
                "id": tutorial,
                "kind": "tutorial",
                "title": tutorial.replace("_", " ").capitalize(),
                "body": "A short guided tour.",
                "tags": ["video"] if tutorial == "watch_intro" else ["tour"],
            }
        )
    for entry in CHECKLIST_ITEMS:
        item = {"id": entry, "kind": "checklist_item", "title": entry.replace("_", " ")}
        if entry in STEP_EVENTS:
            item["completion_event"] = STEP_EVENTS[entry]
        catalog.append(item)
    tips: list[dict[str, Any]] = [
        {
            "id": "shortcuts",
            "kind": "feature_tip",
            "title": "Keyboard shortcuts",
            "body": "Press ? anywhere.",
            "frequency": {"max": 2, "per": "7d"},
        },
        {"id": "dark_mode", "kind": "feature_tip", "title": "Dark mode", "body": "Easy on eyes."},
        {
            "id": "templates_tip",
            "kind": "feature_tip",
            "title": "Start from a template",
            "body": f"{company} can reuse any project as a template.",
            "frequency": {"max": 1, "per": "1d"},
        },
        {
            "id": "integrations_tip",
            "kind": "feature_tip",
            "title": "Connect your tools",
            "body": "Slack, GitHub and 40 more.",
            "locales": {"fr": _text("Connectez vos outils", "Slack, GitHub et 40 autres.")},
        },
        {
            "id": "holiday_promo",
            "kind": "feature_tip",
            "title": "Holiday templates",
            "start": "2026-12-01T00:00:00Z",
            "end": "2027-01-01T00:00:00Z",
        },
        {
            "id": "app_tip",
            "kind": "feature_tip",
            "title": "Get the mobile app",
            "body": "Scan the code on your laptop.",
            "once": True,
        },
    ]
    catalog.extend(tips)
    return catalog


def make_flows() -> list[dict[str, Any]]:
    return [
        {
            "key": "beginner",
            "name": "Beginner set-up",
            "steps": [
                {"item": "watch_intro", "skippable": True},
                {"item": "create_project"},
                {"item": "connect_data", "condition": {"device_type": {"$ne": "mobile"}}},
                {"item": "invite_team", "skippable": True},
                {"item": "create_dashboard"},
            ],
        },
        {
            "key": "advanced",
            "name": "Advanced set-up",
            "steps": [
                {"item": "create_project"},
                {"item": "connect_data"},
                {"item": "install_sdk", "condition": {"use_case": {"$in": ["analytics"]}}},
                {"item": "api_walkthrough", "skippable": True},
                {"item": "set_alerts"},
                {"item": "advanced_tour", "skippable": True},
            ],
        },
        {
            "key": "mobile",
            "name": "On the phone",
            "steps": [
                {"item": "mobile_tour", "skippable": True},
                {"item": "create_project"},
                {"item": "invite_team", "skippable": True},
            ],
        },
        {
            "key": "admin_setup",
            "name": "Team set-up",
            "steps": [
                {"item": "invite_team"},
                {"item": "configure_sso", "condition": {"company.seats": {"$gte": 20}}},
                {"item": "setup_billing", "completion_event": "Plan Upgraded"},
                {"item": "create_project"},
                {"item": "import_csv", "skippable": True},
            ],
        },
    ]


def make_checklists() -> list[dict[str, Any]]:
    return [
        {
            "key": "getting_started",
            "name": "Getting started",
            "items": ["create_project", "invite_team", "add_avatar", "verify_email"],
        },
        {
            "key": "team_setup",
            "name": "Team set-up",
            "items": ["invite_team", "configure_sso", "enable_2fa", "setup_billing"],
        },
        {
            "key": "power_user",
            "name": "Power user",
            "items": ["create_dashboard", "set_alerts", "join_community", "dashboards_101"],
        },
    ]


def make_segments() -> list[dict[str, Any]]:
    conditions: dict[str, dict[str, Any]] = {
        "new_this_week": {"signed_up_at": {"$within": "7d"}},
        "new_today": {"signed_up_at": {"$within": "1d"}},
        "mobile_first": {"device_type": {"$in": ["mobile", "tablet"]}},
        "desktop_users": {"device_type": "desktop"},
        "team_admins": {"role": {"$in": ["owner", "admin"]}, "company.seats": {"$gt": 1}},
        "paying": {"plan": {"$in": ["starter", "pro", "business"]}},
        "free_plan": {"plan": {"$in": ["free", "trial"]}},
        "enterprise": {"company.seats": {"$gte": 50}},
        "europe": {"country": {"$in": ["GB", "DE", "FR", "ES", "NL", "PL", "IT", "SE"]}},
        "stalled": {
            "signed_up_at": {"$olderThan": "3d"},
            "$or": [
                {"events.Step Completed.count_7d": {"$exists": False}},
                {"events.Step Completed.count_7d": 0},
            ],
        },
        "project_creators": {"events.Project Created.count": {"$gte": 1}},
        "inviters": {"events.Invite Sent.count": {"$gte": 1}},
        "power_users": {"sessions": {"$gte": 2}, "events_7d": {"$gte": 4}},
        "data_teams": {"use_case": {"$in": ["analytics", "reporting"]}},
        "french_speakers": {"locale": {"$regex": "^fr"}},
        "mobile_newcomers": {"segments.new_this_week": True, "segments.mobile_first": True},
    }
    return [
        {"key": key, "name": key.replace("_", " ").capitalize(), "condition": conditions[key]}
        for key in RULE_SEGMENTS
    ]


def make_scores(rng: random.Random) -> list[dict[str, Any]]:
    thresholds: dict[int, list[dict[str, Any]]] = {
        0: [{"segment": "engaged", "min": 50}, {"segment": "at_risk", "min": 0, "max": 15}],
        1: [{"segment": "activated", "min": 40}],
        2: [{"segment": "champions", "min": 70}],
    }
    scored = (*EVENTS[1:], "Step Completed", "Content Shown")
    scores = []
    for n, key in enumerate(SCORE_KEYS):
        terms: list[dict[str, Any]] = [
            {
                "event": event,
                "window": rng.choice(("1d", "7d", "all")),
                "weight": rng.choice((5, 10, 15, 20)),
                "cap": rng.randrange(2, 6),
            }
            for event in rng.sample(scored, rng.randrange(2, 5))
        ]
        terms.append({"attribute": "profile_complete", "weight": rng.choice((5, 10, 20))})
        score: dict[str, Any] = {
            "key": key,
            "name": f"Score {n}",
            "terms": terms,
            "scale": {"max": sum(t["weight"] * t.get("cap", 1) for t in terms)},
        }
        if rng.random() < 0.5:
            score["decay"] = {"half_life": rng.choice(("3d", "7d", "14d"))}
        if n in thresholds:
            score["thresholds"] = thresholds[n]
        scores.append(score)
    return scores


Leaf = Callable[[random.Random], dict[str, Any]]


def _trait_leaf(rng: random.Random) -> dict[str, Any]:
    return rng.choice(
        (
            {"plan": rng.choice(PLANS)},
            {"role": {"$in": rng.sample(ROLES, 2)}},
            {"use_case": rng.choice(USE_CASES)},
            {"company.seats": {rng.choice(("$gte", "$lt")): rng.choice((5, 10, 20, 50))}},
            {"company.industry": {"$in": rng.sample(INDUSTRIES, 2)}},
            {"profile_complete": rng.random() < 0.5},
            {"signed_up_at": {"$within": rng.choice(("1d", "2d", "3d"))}},
            {"email": {"$regex": f"@{rng.choice(COMPANIES).lower()}\\.example$"}},
        )
    )


def _device_leaf(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.6:
        return {"device_type": rng.choice(("mobile", "desktop", "tablet"))}
    return {"device_type": {"$ne": "desktop"}, "os": {"$in": ["iOS", "Android"]}}


def _country_leaf(rng: random.Random) -> dict[str, Any]:
    return {"country": {"$in": rng.sample(COUNTRIES, rng.randrange(1, 4))}}


def _segment_leaf(rng: random.Random) -> dict[str, Any]:
    return {f"segments.{rng.choice(SEGMENT_KEYS)}": rng.random() < 0.95}


def _score_leaf(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.15:
        return {f"scores.{rng.choice(SCORE_KEYS)}": {"$lt": rng.choice((5, 10))}}
    return {f"scores.{rng.choice(SCORE_KEYS)}": {"$gte": rng.choice((30, 40, 50, 60, 70))}}


def _context_leaf(rng: random.Random) -> dict[str, Any]:
    return rng.choice(
        (
            {"context.page.path": {"$regex": f"^{rng.choice(PAGES)}"}},
            {"context.app.version": {rng.choice(("$vgte", "$vlt")): rng.choice(APP_VERSIONS)}},
            {"context.campaign.source": rng.choice(CAMPAIGNS)},
            {"context.locale": {"$regex": rng.choice(("^fr", "^de", "^ja", "^pt", "^en"))}},
            {"context.page.referrer": {"$regex": "google|bing"}},
        )
    )


def _event_leaf(rng: random.Random) -> dict[str, Any]:
    event = rng.choice((*EVENTS, "Step Completed", "Content Shown"))
    window = rng.choice(("count", "count_7d", "count_1d"))
    return {f"events.{event}.{window}": {"$gte": rng.randrange(1, 4)}}


def _computed_leaf(rng: random.Random) -> dict[str, Any]:
    return rng.choice(
        (
            {"sessions": {"$gte": rng.randrange(3, 6)}},
            {"event_count": {"$lt": rng.choice((3, 4))}},
            {"active_days": {"$gte": 4}},
            {"browser": {"$in": ["Safari", "Mobile Safari"]}},
            {"last_seen": {"$within": "6h"}},
        )
    )


# (leaf, weight): what rules read, roughly as a product team writes them.
LEAVES: tuple[tuple[Leaf, int], ...] = (
    (_trait_leaf, 24),
    (_device_leaf, 12),
    (_country_leaf, 8),
    (_segment_leaf, 22),
    (_score_leaf, 12),
    (_context_leaf, 14),
    (_event_leaf, 8),
    (_computed_leaf, 8),
)


def _leaf(rng: random.Random) -> dict[str, Any]:
    leaves, weights = zip(*LEAVES, strict=True)
    chosen: Leaf = rng.choices(leaves, weights=weights)[0]
    return chosen(rng)


def make_condition(rng: random.Random) -> dict[str, Any]:
    draw = rng.random()
    if draw < 0.35:
        return _leaf(rng)
    if draw < 0.85:
        condition: dict[str, Any] = {}
        for _ in range(rng.randrange(2, 4)):
            condition.update(_leaf(rng))
        return condition
    if draw < 0.93:
        return {"$or": [_leaf(rng) for _ in range(rng.randrange(2, 4))]}
    return {**_leaf(rng), "$not": _leaf(rng)}


def make_action(rng: random.Random) -> dict[str, Any]:
    kind = rng.choices(
        (
            "set_welcome",
            "set_flow",
            "set_tutorial_depth",
            "set_checklist",
            "insert_step",
            "remove_step",
            "move_step",
            "pin_tip",
            "suppress",
        ),
        weights=(14, 12, 10, 8, 12, 12, 10, 12, 10),
    )[0]
    steps = (*STEPS, *TUTORIALS)
    if kind == "set_welcome":
        return {kind: rng.choice(MESSAGES_ALL)}
    if kind == "set_flow":
        return {kind: rng.choice(FLOWS)}
    if kind == "set_tutorial_depth":
        return {kind: rng.choice(DEPTHS)}
    if kind == "set_checklist":
        return {kind: rng.choice(CHECKLISTS)}
    if kind == "remove_step":
        return {kind: rng.choice(steps)}
    if kind == "pin_tip":
        return {kind: rng.choice(TIPS)}
    if kind == "suppress":
        return {kind: rng.choice((*TIPS, *MESSAGES_ALL, *CHECKLIST_ITEMS))}
    item = rng.choice(steps)
    placement: dict[str, Any] = {"item": item}
    where = rng.random()
    if where < 0.4 or kind == "move_step":
        placement["position"] = rng.randrange(0, 3)
    elif where < 0.7:
        placement["after"] = rng.choice([s for s in STEPS if s != item])
    else:
        placement["before"] = rng.choice([s for s in STEPS if s != item])
    return {kind: placement}


def make_rules(rng: random.Random, count: int) -> list[dict[str, Any]]:
    rules = []
    # Distinct priorities: two rules writing one slot at the same priority are refused
    # when one user can match both (only the file order would pick the winner).
    priorities = rng.sample(range(1, 10 * count), count)
    for n in range(count):
        rule: dict[str, Any] = {
            "key": f"rule_{n:03d}",
            "description": f"Generated rule {n}",
            "priority": priorities[n],
            "when": make_condition(rng),
            "then": make_action(rng),
        }
        if n in (17, 71):  # two narrow rules that end the evaluation
            rule["when"] = {"plan": "business", "company.seats": {"$gte": 50}, "role": "owner"}
            rule["stop"] = True
        rules.append(rule)
    return rules


def config_text(rng: random.Random, rules: int) -> str:
    document = {
        "version": 1,
        "traits": {
            "first_name": "string",
            "last_name": "string",
            "email": "string",
            "plan": "string",
            "role": "string",
            "use_case": "string",
            "company": "object",
            "signed_up_at": "timestamp",
            "profile_complete": "boolean",
        },
        "segments": make_segments(),
        "scores": make_scores(rng),
        "catalog": make_catalog(),
        "flows": make_flows(),
        "checklists": make_checklists(),
        "rules": make_rules(rng, rules),
        "defaults": {
            "welcome": "welcome",
            "flow": "beginner",
            "tutorial_depth": "standard",
            "checklist": "getting_started",
            "tips": ["holiday_promo", "templates_tip", "dark_mode"],
        },
        "limits": {"max_shown": 5, "per": "1d", "tips": 2, "recommendations": 2},
    }
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


# -- users and their events ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    anonymous_id: str
    traits: dict[str, Any]
    locale: str
    timezone: str
    ip: str
    user_agent: str
    signed_up: datetime


def public_ip(rng: random.Random) -> str:
    while True:
        address = ipaddress.IPv4Address(rng.getrandbits(32))
        if address.is_global and not (address.is_multicast or address.is_reserved):
            return str(address)


def make_users(count: int, rng: random.Random, now: datetime) -> list[User]:
    users = []
    for n in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = rng.choice(COMPANIES)
        locale, zone = rng.choice(LOCALES)
        # Most users are recent: onboarding is about the first weeks.
        signed_up = now - timedelta(minutes=int(rng.expovariate(1 / (60 * 24 * 6))) + 5)
        traits: dict[str, Any] = {
            "email": f"{first}.{last}{n}@{company.lower()}.example".lower(),
            "plan": rng.choices(PLANS, weights=(35, 25, 20, 15, 5))[0],
            "role": rng.choices(ROLES, weights=(15, 20, 50, 15))[0],
            "use_case": rng.choice(USE_CASES),
            "company": {
                "name": company,
                "industry": rng.choice(INDUSTRIES),
                "seats": rng.choice((1, 3, 8, 15, 40, 120)),
            },
            "signed_up_at": signed_up.isoformat(timespec="seconds"),
            "profile_complete": rng.random() < 0.5,
        }
        if rng.random() < 0.85:  # some apps do not know the name yet
            traits["first_name"], traits["last_name"] = first, last
        users.append(
            User(
                user_id=f"usr_{n:06d}",
                anonymous_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                traits=traits,
                locale=locale,
                timezone=zone,
                ip=public_ip(rng),
                user_agent=rng.choice(USER_AGENTS),
                signed_up=signed_up,
            )
        )
    return users


def _context(user: User, path: str) -> dict[str, Any]:
    return {
        "ip": user.ip,
        "userAgent": user.user_agent,
        "locale": user.locale,
        "timezone": user.timezone,
        "page": {"path": path, "url": f"https://app.example.com{path}"},
        "library": {"name": "analytics.js", "version": "next-1.70.0"},
    }


def _content_event(rng: random.Random) -> tuple[str, dict[str, Any]]:
    draw = rng.random()
    if draw < 0.45:
        item = rng.choice((*MESSAGES, *TIPS))
        return "Content Shown", {"item_id": item, "slot": "tips" if item in TIPS else "welcome"}
    if draw < 0.60:
        return "Content Dismissed", {"item_id": rng.choice((*TIPS, *TUTORIALS, "invite_team"))}
    item = rng.choice((*STEPS, *TUTORIALS, *CHECKLIST_ITEMS))
    if rng.random() < 0.3:
        return "Step Completed", {"step_id": item}  # the spelling onboarding tools use
    return "Step Completed", {"item_id": item, "duration_s": rng.randrange(5, 600)}


def _event(rng: random.Random) -> tuple[str, dict[str, Any]]:
    if rng.random() < 0.45:
        return _content_event(rng)
    name = rng.choice(EVENTS)
    properties: dict[str, Any] = {}
    if name == "Project Created":
        properties = {"template": rng.choice(("blank", "kanban", "crm")), "collaborators": 2}
    elif name == "Feature Used":
        properties = {"feature": rng.choice(("filters", "exports", "alerts", "comments"))}
    elif name == "Invite Sent":
        properties = {"invitee_role": rng.choice(("member", "admin")), "invite_count": 2}
    return name, properties


def user_messages(rng: random.Random, user: User, now: datetime) -> list[dict[str, Any]]:
    """An identify with traits and 2-8 track events, spread from sign-up to now."""
    span = max(1.0, (now - user.signed_up).total_seconds())
    times = sorted(
        user.signed_up + timedelta(seconds=rng.random() * span) for _ in range(rng.randrange(2, 9))
    )
    messages: list[dict[str, Any]] = [
        {
            "type": "identify",
            "userId": user.user_id,
            "anonymousId": user.anonymous_id,
            "traits": user.traits,
            "context": _context(user, "/app/welcome"),
            "timestamp": user.signed_up.isoformat(timespec="milliseconds"),
            "messageId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        }
    ]
    for at in times:
        name, properties = _event(rng)
        messages.append(
            {
                "type": "track",
                "event": name,
                "userId": user.user_id,
                "properties": properties,
                "context": _context(user, rng.choice(PAGES)),
                "timestamp": at.isoformat(timespec="milliseconds"),
                "messageId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            }
        )
    return messages


def store_profiles(fm: Firstmile, users: Sequence[User], rng: random.Random) -> int:
    """Ingest every user's events in-process (untimed); returns the events accepted."""
    now = datetime.now(UTC)
    pending: list[dict[str, Any]] = []
    accepted = 0
    for user in users:
        pending.extend(user_messages(rng, user, now))
        if len(pending) >= INGEST_BATCH:
            accepted += fm.ingest_items(pending).accepted
            pending = []
    if pending:
        accepted += fm.ingest_items(pending).accepted
    return accepted


# -- decide requests -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Call:
    body: dict[str, Any]
    known: bool
    user_id: str | None


def decide_context(rng: random.Random, user: User | None) -> dict[str, Any]:
    """What an app sends with a decision: the device, the page, the app version."""
    path = rng.choice(PAGES)
    if user is None or rng.random() < ROAMING_SHARE:
        ip, agent = public_ip(rng), rng.choice(USER_AGENTS)
        locale, zone = rng.choice(LOCALES) if user is None else (user.locale, user.timezone)
    else:
        ip, agent, locale, zone = user.ip, user.user_agent, user.locale, user.timezone
    context: dict[str, Any] = {
        "ip": ip,
        "userAgent": agent,
        "locale": locale,
        "timezone": zone,
        "page": {"path": path, "url": f"https://app.example.com{path}", "title": "Acme"},
        "app": {"name": "acme-web", "version": rng.choice(APP_VERSIONS)},
    }
    if rng.random() < 0.3:
        context["page"]["referrer"] = "https://www.google.com/"
    if rng.random() < 0.2:
        context["campaign"] = {"source": rng.choice(CAMPAIGNS), "medium": "email"}
    return context


def make_calls(rng: random.Random, users: Sequence[User], count: int) -> list[Call]:
    calls = []
    for _ in range(count):
        if rng.random() < UNKNOWN_SHARE:
            visitor = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            body = {"anonymousId": visitor, "context": decide_context(rng, None)}
            calls.append(Call(body, known=False, user_id=None))
        else:
            user = rng.choice(users)
            body = {"userId": user.user_id, "context": decide_context(rng, user)}
            calls.append(Call(body, known=True, user_id=user.user_id))
    return calls


def check_plan(plan: Any, call: Call, version_id: str) -> str | None:
    """What is wrong with a plan, or ``None``."""
    if not isinstance(plan, dict):
        return f"not a plan: {str(plan)[:200]}"
    for name in ("welcome", "steps", "checklist", "tips", "reasons", "tutorial_depth"):
        if name not in plan:
            return f"plan without `{name}`: {json.dumps(plan)[:200]}"
    if plan.get("config_version") != version_id:
        return f"config_version {plan.get('config_version')!r}, expected {version_id!r}"
    if plan.get("known") is not call.known:
        return f"known={plan.get('known')!r} for {'a known' if call.known else 'an unknown'} user"
    if bool(plan.get("profile_id")) is not call.known:
        return f"profile_id {plan.get('profile_id')!r} for known={call.known}"
    if not plan["steps"] or plan["checklist"] is None:
        return f"empty steps or checklist: {json.dumps(plan)[:200]}"
    return None


# -- part 1: in-process --------------------------------------------------------------------


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: Sequence[float], digits: int = 1) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), digits),
        "p99": round(_percentile(values, 0.99), digits),
        "mean": round(statistics.fmean(values), digits),
        "max": round(max(values), digits),
    }


@dataclass(slots=True)
class PlanStats:
    plans: int = 0
    matched_rules: int = 0
    with_fallback: int = 0
    rule_slots: int = 0
    welcome: Counter[str] = field(default_factory=Counter)
    flows: Counter[str] = field(default_factory=Counter)
    withheld: int = 0
    recommended: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, plan: dict[str, Any], call: Call, version_id: str) -> None:
        problem = check_plan(plan, call, version_id)
        if problem is not None:
            self.failures.append(problem)
            return
        self.plans += 1
        self.matched_rules += len(plan["matched_rules"])
        self.with_fallback += bool(plan["fallbacks"])
        self.rule_slots += sum(1 for r in plan["reasons"].values() if r["source"] == "rule")
        welcome = plan["welcome"]
        self.welcome[welcome["item_id"] if welcome else "-"] += 1
        self.flows[str(plan["flow"])] += 1
        self.withheld += len(plan["withheld"])
        self.recommended += len(plan["recommendations"])

    def to_json(self) -> dict[str, Any]:
        n = max(self.plans, 1)
        return {
            "plans": self.plans,
            "matched_rules_mean": round(self.matched_rules / n, 2),
            "rule_slots_mean": round(self.rule_slots / n, 2),
            "withheld_mean": round(self.withheld / n, 2),
            "recommendations_mean": round(self.recommended / n, 2),
            "with_fallback": self.with_fallback,
            "welcome_items": len(self.welcome),
            "flows": dict(self.flows.most_common()),
        }


def in_process(home: Path, calls: Sequence[Call], version_id: str) -> dict[str, Any]:
    """``fm.decide`` per call, each followed by a plain read of the same profile."""
    decide_ns: list[int] = []
    known_ns: list[int] = []
    cold_ns: list[int] = []
    read_ns: list[int] = []
    stats = PlanStats()
    clock = time.perf_counter_ns
    with Firstmile.open(load_settings(home=home)) as fm:
        if fm.config is None or fm.config.version_id != version_id:
            raise RuntimeError(
                f"the workspace did not load the generated config: {fm.config_error}"
            )
        store = fm.store
        popular_profiles = fm.refresh_popularity()  # as serve does at start, untimed
        for call in calls[:WARMUP_CALLS]:
            fm.decide(call.body)
        for call in calls[WARMUP_CALLS:]:
            start = clock()
            plan = fm.decide(call.body)
            elapsed = clock() - start
            decide_ns.append(elapsed)
            (known_ns if call.known else cold_ns).append(elapsed)
            stats.add(plan, call, version_id)
            if call.user_id is not None:
                start = clock()
                profile_id = store.find_profile_id("user_id", call.user_id)
                profile = None if profile_id is None else store.get_profile(profile_id)
                read_ns.append(clock() - start)
                if profile is None:
                    stats.failures.append(f"no stored profile for {call.user_id}")
        cpu_start = time.process_time()
        exposures = fm.flush_exposures()
        flush_s = time.process_time() - cpu_start
    decide_us = [n / 1e3 for n in decide_ns]
    read_us = [n / 1e3 for n in read_ns]
    return {
        "decide_us": summary(decide_us),
        "known_us": summary([n / 1e3 for n in known_ns]),
        "cold_start_us": summary([n / 1e3 for n in cold_ns]) if cold_ns else {},
        "profile_read_us": summary(read_us),
        "ratio_decide_over_read": round(
            statistics.median(decide_us) / statistics.median(read_us), 2
        ),
        "calls": len(decide_ns),
        "cold_start_calls": len(cold_ns),
        "popularity_profiles": popular_profiles,
        "exposures_flushed": exposures,
        "exposure_flush_cpu_s": round(flush_s, 3),
        "plans": stats.to_json(),
        "failures": stats.failures,
    }


# -- part 2: HTTP --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prepared:
    call: Call
    content: bytes


class Load:
    """Client threads, each with its own keep-alive ``httpx.Client``, against one server."""

    def __init__(self, url: str, server_key: str, threads: int, version_id: str) -> None:
        headers = {**CLIENT_HEADERS, "Authorization": f"Bearer {server_key}"}
        self.clients = [
            httpx.Client(base_url=url, headers=headers, timeout=30.0) for _ in range(threads)
        ]
        self.version_id = version_id
        self.stats = PlanStats()
        self._lock = threading.Lock()

    def close(self) -> None:
        for client in self.clients:
            client.close()

    def _decide(self, client: httpx.Client, request: Prepared, failures: list[str]) -> None:
        try:
            response = client.post("/v1/decide", content=request.content)
        except httpx.HTTPError as exc:
            failures.append(f"transport error: {exc!r}")
            return
        if response.status_code != 200:
            failures.append(f"HTTP {response.status_code}: {response.text[:300]}")
            return
        plan = orjson.loads(response.content)
        with self._lock:
            self.stats.add(plan, request.call, self.version_id)

    def _healthz(self, client: httpx.Client, failures: list[str]) -> None:
        try:
            response = client.get("/healthz")
        except httpx.HTTPError as exc:
            failures.append(f"transport error: {exc!r}")
            return
        if response.status_code != 200 or orjson.loads(response.content).get("status") != "ok":
            failures.append(f"/healthz HTTP {response.status_code}: {response.text[:200]}")

    def warm_up(self, requests: Sequence[Prepared]) -> list[str]:
        """Every client sends a share of ``requests`` (connections open, caches filled)."""
        failures: list[str] = []
        for index, request in enumerate(requests):
            self._decide(self.clients[index % len(self.clients)], request, failures)
        self.stats = PlanStats()  # the warm-up plans are not counted
        return failures

    def open_loop(
        self, requests: Sequence[Prepared], rate: float, seconds: float
    ) -> dict[str, Any]:
        """``rate`` requests/s on a fixed schedule; latency from the scheduled send time."""
        total = int(rate * seconds)
        latencies: list[float] = []
        late_starts: list[float] = []
        failures: list[str] = []
        position = iter(range(total))
        start_at = time.perf_counter() + 0.2

        def work(client: httpx.Client) -> None:
            mine: list[float] = []
            late: list[float] = []
            errors: list[str] = []
            while True:
                with self._lock:
                    index = next(position, None)
                if index is None:
                    break
                scheduled = start_at + index / rate
                wait = scheduled - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                late.append(max(0.0, time.perf_counter() - scheduled))
                self._decide(client, requests[index % len(requests)], errors)
                mine.append(time.perf_counter() - scheduled)
            with self._lock:
                latencies.extend(mine)
                late_starts.extend(late)
                failures.extend(errors)

        threads = [threading.Thread(target=work, args=(client,)) for client in self.clients]
        cpu = time.process_time()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start_at
        client_cpu = time.process_time() - cpu
        ms = [s * 1e3 for s in latencies]
        return {
            "rate_target": rate,
            "rate_achieved": round(total / wall, 1),
            "requests": total,
            "seconds": round(wall, 2),
            "latency_ms": {
                "p50": round(_percentile(ms, 0.5), 3),
                "p90": round(_percentile(ms, 0.9), 3),
                "p99": round(_percentile(ms, 0.99), 3),
                "max": round(max(ms), 3),
            },
            "late_start_ms_p99": round(_percentile(late_starts, 0.99) * 1e3, 3),
            "client_cpu_share": round(client_cpu / wall, 3),
            "failures": failures,
        }

    def closed_loop(
        self, requests: Sequence[Prepared] | None, seconds: float, warmup: float, pid: int
    ) -> dict[str, Any]:
        """Back to back from every thread; ``requests=None``: ``GET /healthz``."""
        counter = iter(range(1 << 62))
        stop = threading.Event()
        done: list[tuple[float, float]] = []  # (finished at, latency)
        failures: list[str] = []

        def work(client: httpx.Client) -> None:
            mine: list[tuple[float, float]] = []
            errors: list[str] = []
            while not stop.is_set():
                with self._lock:
                    index = next(counter)
                start = time.perf_counter()
                if requests is None:
                    self._healthz(client, errors)
                else:
                    self._decide(client, requests[index % len(requests)], errors)
                end = time.perf_counter()
                mine.append((end, end - start))
            with self._lock:
                done.extend(mine)
                failures.extend(errors)

        threads = [threading.Thread(target=work, args=(client,)) for client in self.clients]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(warmup)
        window_start = time.perf_counter()
        cpu_server, cpu_client = process_cpu_s(pid), time.process_time()
        time.sleep(seconds)
        window_end = time.perf_counter()
        cpu_server = process_cpu_s(pid) - cpu_server
        cpu_client = time.process_time() - cpu_client
        stop.set()
        for thread in threads:
            thread.join()
        in_window = [lat for end, lat in done if window_start <= end < window_end]
        wall = window_end - window_start
        ms = [s * 1e3 for s in in_window]
        count = len(in_window)
        return {
            "rps": round(count / wall, 1),
            "requests": count,
            "latency_ms": {
                "p50": round(_percentile(ms, 0.5), 3),
                "p99": round(_percentile(ms, 0.99), 3),
            },
            "server_cpu_us_per_request": round(cpu_server / max(count, 1) * 1e6, 1),
            "server_cpu_share": round(cpu_server / wall, 3),
            "client_cpu_share": round(cpu_client / wall, 3),
            "total_s": round(time.perf_counter() - started, 2),
            "failures": failures,
        }


def over_http(
    home: Path,
    server_key: str,
    calls: Sequence[Call],
    version_id: str,
    args: argparse.Namespace,
) -> dict[str, Any]:
    requests = [Prepared(c, json.dumps(c.body).encode()) for c in calls]
    server = Server(home, free_port())
    load: Load | None = None
    try:
        start = time.perf_counter()
        ready = server.wait_ready()
        ready_s = time.perf_counter() - start
        if (ready.get("config") or {}).get("version_id") != version_id:
            raise RuntimeError(f"the server runs another config: {ready}")
        idle_after = server.wait_idle()
        pid = server.process.pid
        load = Load(server.url, server_key, args.clients, version_id)
        warm_failures = load.warm_up(requests[:WARMUP_CALLS])
        opened = load.open_loop(requests, args.rate, args.open_seconds)
        rounds: list[dict[str, Any]] = []
        for _ in range(args.rounds):  # alternated, so drift on the machine hits both
            decide_run = load.closed_loop(requests, args.closed_seconds, 0.5, pid)
            health_run = load.closed_loop(None, args.closed_seconds, 0.5, pid)
            rounds.append({"decide": decide_run, "healthz": health_run})
        stats = load.stats
        peak_rss = proc_status_mb(pid, "VmHWM")
    finally:
        if load is not None:
            load.close()
        server.stop()
    failures = [*warm_failures, *opened["failures"], *stats.failures]
    for run in rounds:
        failures += run["decide"]["failures"] + run["healthz"]["failures"]
    if server.process.returncode not in (0, -signal.SIGTERM):
        failures.append(f"server exited with {server.process.returncode}")
    if failures:
        print(server.log_tail())
    return {
        "ready_s": round(ready_s, 1),
        "idle_after_ready_s": round(idle_after, 1),
        "open_loop": opened,
        "rounds": rounds,
        "plans": stats.to_json(),
        "server_peak_rss_mb": round(peak_rss, 1),
        "failures": failures,
    }


# -- main ---------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=10_000, help="stored profiles")
    parser.add_argument("--rules", type=int, default=100, help="rules in the config")
    parser.add_argument("--calls", type=int, default=20_000, help="timed in-process calls")
    parser.add_argument("--rate", type=float, default=GOAL_RATE, help="open loop: requests/s")
    parser.add_argument("--open-seconds", type=float, default=10.0, help="open loop: duration")
    parser.add_argument("--closed-seconds", type=float, default=5.0, help="closed loop: window")
    parser.add_argument("--rounds", type=int, default=CLOSED_ROUNDS, help="closed-loop rounds")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--quick", action="store_true", help="smoke run: about 20 s")
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspace")
    args = parser.parse_args(argv)
    if args.quick:
        args.users = min(args.users, 1_000)
        args.calls = min(args.calls, 1_500)
        args.open_seconds = min(args.open_seconds, 2.5)
        args.closed_seconds = min(args.closed_seconds, 1.0)
        args.rounds = min(args.rounds, 1)
    if min(args.users, args.rules, args.calls, args.rate, args.clients, args.rounds) <= 0:
        parser.error("--users, --rules, --calls, --rate, --clients, --rounds must be > 0")
    if min(args.open_seconds, args.closed_seconds) <= 0:
        parser.error("--open-seconds and --closed-seconds must be > 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    for name in [k for k in os.environ if k.startswith("FIRSTMILE_")]:
        del os.environ[name]  # init_workspace and Firstmile.open read the environment too
    rng = random.Random(SEED)
    text = config_text(rng, args.rules)
    load_start = time.perf_counter()
    config: OnboardingConfig = parse_config(text, source="bench/decide.py")
    config_load_s = time.perf_counter() - load_start
    onboarding = config.onboarding
    print(
        f"firstmile decide benchmark: {len(onboarding.rules)} rules, "
        f"{len(config.segment_keys)} segments ({len(config.segments)} rule, "
        f"{len(config.threshold_segments)} score thresholds), {len(config.scores)} scores, "
        f"{len(onboarding.catalog)} content items, {len(onboarding.flows)} flows, "
        f"{len(onboarding.checklists)} checklists; {args.users:,} users"
    )
    print(
        f"config: {len(text.encode()) / 1024:.0f} KiB of YAML, loaded by parse_config in "
        f"{config_load_s:.2f} s, version {config.version_id}, {len(config.warnings)} warnings"
    )
    folder = Path(tempfile.mkdtemp(prefix="firstmile-bench-decide-"))
    print(f"work folder: {folder}")
    try:
        workspace = init_workspace(folder / "workspace")
        users = make_users(args.users, rng, datetime.now(UTC))
        ingest_start = time.perf_counter()
        # The profiles are stored before the config is written: decide evaluates segments
        # and scores at decision time and reads no stored membership, so what it reads is
        # the same, and the run saves one load of the config.
        with Firstmile.open(load_settings(home=workspace.home)) as fm:
            accepted = store_profiles(fm, users, rng)
            profiles = int(fm.store.profile_stats()["profiles"])
        ingest_s = time.perf_counter() - ingest_start
        (workspace.home / "firstmile.yaml").write_text(text, encoding="utf-8")
        version_id = config.version_id
        print(
            f"stored {profiles:,} profiles from {accepted:,} events in {ingest_s:.1f} s "
            "(in-process ingest_items, untimed)"
        )
        failures: list[str] = []
        if profiles != args.users:
            failures.append(f"{profiles:,} profiles stored for {args.users:,} users")

        calls = make_calls(rng, users, WARMUP_CALLS + args.calls)
        local = in_process(workspace.home, calls, version_id)
        d, r = local["decide_us"], local["profile_read_us"]
        print(
            f"in-process decide over {local['calls']:,} calls "
            f"({local['cold_start_calls']:,} cold start): median {d['median']:.1f} µs, "
            f"p99 {d['p99']:.1f} µs, mean {d['mean']:.1f} µs"
        )
        print(
            f"  known users: median {local['known_us']['median']:.1f} µs; cold start: median "
            f"{local['cold_start_us'].get('median', 0.0):.1f} µs"
        )
        print(
            f"  baseline, a plain profile read (store.find_profile_id + store.get_profile): "
            f"median {r['median']:.1f} µs, p99 {r['p99']:.1f} µs; "
            f"ratio decide / read {local['ratio_decide_over_read']:.2f}x"
        )
        p = local["plans"]
        print(
            f"  plans: {p['matched_rules_mean']:.1f} rules matched and "
            f"{p['rule_slots_mean']:.1f} slots set by a rule on average, "
            f"{p['withheld_mean']:.1f} items withheld, {p['recommendations_mean']:.2f} "
            f"recommendations, {p['welcome_items']} distinct welcome messages, "
            f"{p['with_fallback']} with a fallback"
        )
        failures += local["failures"]
        if p["with_fallback"]:
            failures.append(f"{p['with_fallback']} in-process plans had a fallback")

        http = over_http(workspace.home, workspace.server_key, calls, version_id, args)
        o = http["open_loop"]
        lat = o["latency_ms"]
        print(
            f"HTTP open loop, {o['rate_target']:.0f} req/s scheduled for "
            f"{args.open_seconds:g} s ({o['requests']:,} requests, {args.clients} client "
            f"threads, achieved {o['rate_achieved']:.0f} req/s): p50 {lat['p50']:.2f} ms, "
            f"p90 {lat['p90']:.2f} ms, p99 {lat['p99']:.2f} ms, max {lat['max']:.1f} ms "
            f"(from the scheduled time; client CPU {o['client_cpu_share'] * 100:.0f}% of a core)"
        )
        decide_rps = [run["decide"]["rps"] for run in http["rounds"]]
        health_rps = [run["healthz"]["rps"] for run in http["rounds"]]
        ratios = [a / b for a, b in zip(decide_rps, health_rps, strict=True)]
        ratio = statistics.median(ratios)
        for n, run in enumerate(http["rounds"], start=1):
            dr, hr = run["decide"], run["healthz"]
            print(
                f"HTTP closed loop round {n}, {args.clients} keep-alive clients, "
                f"{args.closed_seconds:g} s each: decide {dr['rps']:,.0f} req/s "
                f"(p50 {dr['latency_ms']['p50']:.2f} ms, p99 {dr['latency_ms']['p99']:.2f} ms, "
                f"server {dr['server_cpu_us_per_request']:.0f} µs CPU/req, "
                f"{dr['server_cpu_share'] * 100:.0f}% server / "
                f"{dr['client_cpu_share'] * 100:.0f}% client CPU); "
                f"/healthz {hr['rps']:,.0f} req/s "
                f"(server {hr['server_cpu_us_per_request']:.0f} µs CPU/req, "
                f"{hr['server_cpu_share'] * 100:.0f}% server / "
                f"{hr['client_cpu_share'] * 100:.0f}% client CPU)"
            )
        # The same ratio from the server's CPU time per request: it does not depend on
        # whether the client or the server saturates first.
        cpu_ratios = [
            run["healthz"]["server_cpu_us_per_request"]
            / max(run["decide"]["server_cpu_us_per_request"], 1e-9)
            for run in http["rounds"]
        ]
        cpu_ratio = statistics.median(cpu_ratios)
        print(
            f"ratio decide / healthz throughput: {ratio:.3f} (median of "
            + " / ".join(f"{x:.3f}" for x in ratios)
            + f"); from server CPU per request (healthz / decide): {cpu_ratio:.3f}"
        )
        hp = http["plans"]
        print(
            f"  the server was ready {http['ready_s']:.1f} s after start (it loads the config "
            f"twice), then idle {http['idle_after_ready_s']:.1f} s later (popularity count)"
        )
        print(
            f"HTTP plans checked: {hp['plans']:,}, {hp['with_fallback']} with a fallback; "
            f"server peak RSS {http['server_peak_rss_mb']:.0f} MB"
        )
        failures += http["failures"]

        median_met = d["median"] < GOAL_MEDIAN_US
        p99_met = lat["p99"] < GOAL_P99_MS and o["rate_achieved"] >= 0.95 * args.rate
        ratio_met = ratio >= GOAL_THROUGHPUT_RATIO
        print(
            f"goals: in-process median < {GOAL_MEDIAN_US:.0f} µs "
            f"{'MET' if median_met else 'MISSED'} ({d['median']:.1f} µs); HTTP p99 < "
            f"{GOAL_P99_MS:.0f} ms at {args.rate:.0f} req/s {'MET' if p99_met else 'MISSED'} "
            f"({lat['p99']:.2f} ms); decide >= {GOAL_THROUGHPUT_RATIO:.0%} of /healthz "
            f"throughput {'MET' if ratio_met else 'MISSED'} ({ratio:.1%})"
        )
        for failure in failures[:10]:
            print(f"FAILURE: {failure}")
        closed = [
            {
                "decide_rps": run["decide"]["rps"],
                "healthz_rps": run["healthz"]["rps"],
                "decide_latency_ms": run["decide"]["latency_ms"],
                "decide_server_cpu_us": run["decide"]["server_cpu_us_per_request"],
                "healthz_server_cpu_us": run["healthz"]["server_cpu_us_per_request"],
                "decide_client_cpu_share": run["decide"]["client_cpu_share"],
                "healthz_client_cpu_share": run["healthz"]["client_cpu_share"],
            }
            for run in http["rounds"]
        ]
        figures = {
            "inprocess_decide_us": d,
            "inprocess_known_us": local["known_us"],
            "inprocess_cold_start_us": local["cold_start_us"],
            "inprocess_profile_read_us": r,
            "ratio_decide_over_profile_read": local["ratio_decide_over_read"],
            "inprocess_calls": local["calls"],
            "http_open_loop_rate": o["rate_target"],
            "http_open_loop_rate_achieved": o["rate_achieved"],
            "http_open_loop_ms": lat,
            "http_open_loop_late_start_ms_p99": o["late_start_ms_p99"],
            "http_decide_rps": statistics.median(decide_rps),
            "http_healthz_rps": statistics.median(health_rps),
            "ratio_decide_over_healthz": round(ratio, 4),
            "ratio_decide_over_healthz_runs": [round(x, 4) for x in ratios],
            "ratio_server_cpu_healthz_over_decide": round(cpu_ratio, 4),
            "closed_loop_rounds": closed,
            "server_peak_rss_mb": http["server_peak_rss_mb"],
            "plans_inprocess": p,
            "plans_http": hp,
            "config_load_s": round(config_load_s, 3),
            "config_warnings": len(config.warnings),
            "server_ready_s": http["ready_s"],
            "rules": len(onboarding.rules),
            "segments": len(config.segment_keys),
            "scores": len(config.scores),
            "content_items": len(onboarding.catalog),
            "users": args.users,
            "profiles": profiles,
            "events_ingested": accepted,
            "clients": args.clients,
            "failures": len(failures),
            "goal_median_met": median_met,
            "goal_p99_met": p99_met,
            "goal_throughput_ratio_met": ratio_met,
            "duration_s": round(time.perf_counter() - started, 1),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "cpus": os.cpu_count(),
            "cpu": cpu_model(),
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        print(json.dumps(figures, ensure_ascii=False))
        return 1 if failures else 0
    finally:
        if args.keep:
            print(f"kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
