"""The demo's onboarding config, its segment sizes, and one user moving between segments.

:func:`write_demo_config` puts a ``firstmile.yaml`` in the demo workspace before the
server starts; its segments and score read what the simulated population sends
(``createdAt`` and ``role``/``team_size`` traits, the device from the user agent,
``Completed Step`` / ``Invited Teammate`` / ``Used Feature`` events). Its ``models:``
section (personas, two predictions) is trained only after the server stopped
(:mod:`firstmile.demo.models`), so the rule that reads a prediction matches nobody before.
:func:`segment_sizes` reads the sizes the server kept, next to a recount made by
evaluating every profile afresh, and :func:`journey` sends one person a few more events
through the HTTP API, one at a time, reading their memberships after each.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from firstmile.config import OnboardingConfig, load_config
from firstmile.demo.devices import MOBILE_DEVICES, Device
from firstmile.demo.model import Person, Population
from firstmile.demo.personas import Persona
from firstmile.segments.attributes import profile_attributes
from firstmile.segments.engine import SegmentEngine
from firstmile.service import Firstmile
from firstmile.types import JSONObject

__all__ = [
    "CONFIG_FILE",
    "DEMO_CONFIG",
    "Journey",
    "JourneyStep",
    "SegmentSize",
    "choose_traveller",
    "journey",
    "segment_sizes",
    "write_demo_config",
]

CONFIG_FILE = "firstmile.yaml"
SCORE = "engaged"

DEMO_CONFIG = """\
# firstmile.yaml written by `firstmile demo` (docs/config.md describes every field).
# Edit it while `firstmile serve` runs: the server reloads it within seconds.
version: 1

# The identify traits the demo app sends; a condition reading any other name is refused.
traits:
  email: string
  name: string
  plan: string
  role: string
  country: string
  createdAt: timestamp
  company: object
  team_size:               # a form field, sent as a numeric string
  signup_campaign: string  # set at sign-up by the launch-week landing page (the trials below)

segments:
  - key: new_this_week
    name: New this week
    description: Signed up in the last 7 days.
    condition:
      createdAt: {$within: 7d}

  - key: mobile_first
    name: Mobile-first
    description: Most recent activity came from a phone or a tablet.
    condition:
      device_type: {$in: [mobile, tablet]}

  - key: stalled_after_signup
    name: Stalled after signup
    description: Signed up over 2 days ago and used no feature this week.
    condition:
      createdAt: {$olderThan: 2d}
      $or:
        - events.Used Feature.count_7d: {$exists: false}
        - events.Used Feature.count_7d: 0

  - key: team_admins
    name: Team admins
    description: Admins of a team of two or more.
    condition:
      role: Admin
      team_size: {$gte: 2}

scores:
  - key: engaged
    name: Engaged
    description: Onboarding steps, invitations and feature use, fading when the user goes quiet.
    terms:
      - event: Completed Step
        window: 7d
        weight: 10
        cap: 5
      - event: Invited Teammate
        window: all
        weight: 15
        cap: 2
      - event: Used Feature
        window: 7d
        weight: 5
        cap: 4
    decay:
      half_life: 3d
    thresholds:
      - segment: engaged_users
        min: 50
      - segment: warming_up
        min: 20
        max: 50

# -- what decide composes plans from (docs/decide.md) ---------------------------------------

catalog:
  - id: welcome
    kind: message
    title: Welcome to Acme
    body: "Hi {{ traits.name | default('there') }}, three steps and your first project is live."
    locales:
      fr:
        title: Bienvenue chez Acme
        body: "Bonjour {{ traits.name | default('') }}, trois étapes et votre projet est en ligne."
      de:
        title: Willkommen bei Acme
        body: "Hallo {{ traits.name | default('') }}, drei Schritte bis zu Ihrem ersten Projekt."
      es:
        title: Bienvenido a Acme
        body: "Hola {{ traits.name | default('') }}, tres pasos y tu primer proyecto está listo."
  - id: welcome_mobile
    kind: message
    title: Acme in your pocket
    body: Everything works on your phone; set-up takes two minutes.
    once: true
  - id: welcome_team
    kind: message
    title: Set up your team
    body: >-
      {{ traits.name | default('You') }}, a team of {{ traits.team_size | default('several') }}
      is waiting: invite them first.
  - id: welcome_friendly
    kind: message
    title: Glad you're here!
    body: >-
      Hey {{ traits.name | default('there') }}! Let's get your first project live together;
      it takes about three minutes.
  - id: welcome_back
    kind: message
    title: Pick up where you left off
    body: Your trial is still running; templates get you to a first result in a minute.
    frequency: {max: 1, per: 3d}
  - id: intro_video
    kind: tutorial
    title: Watch the 2-minute intro
    tags: [video, basics]
    completion_event: Viewed Tutorial
  - id: create_project
    kind: step
    title: Create your first project
    completion_event: Completed Step
  - {id: invite_team, kind: step, title: Invite a teammate, completion_event: Invited Teammate}
  - id: try_templates
    kind: step
    title: Start from a template
    completion_event: Used Feature
    prerequisites: [create_project]
  - id: power_tour
    kind: tutorial
    title: Tour of automations and the API
    tags: [advanced, integrations]
    completion_event: Connected Integration
  - {id: connect_api, kind: step, title: Connect the API, prerequisites: [create_project]}
  - {id: verify_email, kind: checklist_item, title: Verify your email}
  - {id: add_avatar, kind: checklist_item, title: Add a profile picture}
  - id: shortcuts
    kind: feature_tip
    title: Keyboard shortcuts
    body: Press ? anywhere to see them.
    frequency: {max: 3, per: 7d}
  - id: mobile_widgets
    kind: feature_tip
    title: Home-screen widget
    body: Add the Acme widget to see today at a glance.
  - id: templates_tip
    kind: feature_tip
    title: Templates
    body: Fifty ready-made projects to start from.
    completion_event: Created Project
  - id: quick_add_tip
    kind: feature_tip
    title: Quick Add
    body: Press N anywhere to add a task, a note or a project in one line.

flows:
  - key: beginner
    name: Guided set-up
    steps:
      - {item: intro_video, skippable: true}
      - {item: create_project}
      - {item: invite_team, skippable: true}
      - {item: try_templates}
  - key: advanced
    name: Fast track
    steps:
      - {item: create_project}
      - {item: connect_api, skippable: true, condition: {device_type: desktop}}
      - {item: power_tour, skippable: true}
      - {item: invite_team, skippable: true}

checklists:
  - key: getting_started
    name: Getting started
    items: [verify_email, create_project, invite_team, add_avatar]

rules:
  - key: team_admin_welcome
    description: Admins of a team invite their teammates before anything else.
    priority: 100
    when: {segments.team_admins: true}
    then: {set_welcome: welcome_team}
  - key: team_admin_invite_first
    priority: 100
    when: {segments.team_admins: true}
    then: {move_step: {item: invite_team, position: 0}}
  - key: engaged_fast_track
    description: Users already engaged skip the hand-holding.
    priority: 80
    when: {segments.engaged_users: true}
    then: {set_flow: advanced}
  - key: engaged_light_tutorial
    priority: 80
    when: {segments.engaged_users: true}
    then: {set_tutorial_depth: light}
  - key: stalled_welcome_back
    priority: 60
    when: {segments.stalled_after_signup: true}
    then: {set_welcome: welcome_back}
  - key: stalled_templates
    priority: 60
    when: {segments.stalled_after_signup: true}
    then: {pin_tip: templates_tip}
  - key: mobile_welcome
    priority: 50
    when: {segments.mobile_first: true}
    then: {set_welcome: welcome_mobile}
  - key: mobile_guided
    priority: 50
    when: {segments.mobile_first: true}
    then: {set_tutorial_depth: guided}
  - key: mobile_widget_tip
    priority: 50
    when: {segments.mobile_first: true}
    then: {pin_tip: mobile_widgets}
  - key: desktop_shortcuts
    priority: 10
    when: {device_type: desktop}
    then: {pin_tip: shortcuts}
  # Reads a model: nothing until `firstmile train` promotes `creates_project`, hence the
  # `$exists` guard (a missing prediction compares as null).
  - key: guide_unlikely_creators
    description: Users the model does not expect to create a project get the guided set-up.
    priority: 70
    when: {predictions.creates_project: {$exists: true, $lt: 0.3}}
    then: {set_tutorial_depth: guided}

defaults:
  welcome: welcome
  flow: beginner
  tutorial_depth: standard
  checklist: getting_started

limits:
  max_shown: 6
  per: 1d
  tips: 2
  recommendations: 2

# -- experiments and bandits (docs/experiments.md, docs/bandits.md) -------------------------
# Both run on the launch-week sign-ups only (`signup_campaign`), so the plans of everyone
# else stay what the rules above make them. Each measures its own outcome: the welcome copy
# is judged on projects created, the tips on tips used, so neither trial's effect leaks
# into the other's numbers.

metrics:
  - {key: activated, kind: conversion, event: Project Created, window: 7d}
  - {key: tip_used, kind: conversion, event: Tip Used, window: 7d}

experiments:
  - key: welcome_copy
    name: A friendlier welcome
    when: {signup_campaign: launch_week}
    variants:
      - {key: control, weight: 0.5}
      - {key: friendly, weight: 0.5, then: {set_welcome: welcome_friendly}}
    metrics: [activated]
    planned_users: 1000

bandits:
  - key: first_tip
    name: The first tip a new user sees
    when: {signup_campaign: launch_week}
    metric: tip_used
    min_samples: 50
    cadence: 1h
    arms:
      - {key: a, then: {pin_tip: templates_tip}}
      - {key: b, then: {pin_tip: quick_add_tip}}

# -- models (docs/models.md): `firstmile train` learns them from the stored users ------------
# The demo trains them after its server stopped; until then the rule reading
# `predictions.creates_project` above matches nobody.

models:
  features:
    # For the personas: what people do, not who they say they are. `anonymous` (never
    # signed up) is a number, so it is standardised: being rare, it sets people far apart.
    - {name: anonymous, path: anonymous}
    - {name: signed_up, event: Signed Up, kind: flag}
    - {name: steps, path: events.Completed Step.count, kind: category}  # 1, 2, none...
    - {name: used_features, event: Used Feature, kind: flag}
    - {name: sessions, path: sessions, scale: log}
    - {name: last_page, path: last_page, kind: category}          # /app, /signup, /pricing...
    - {name: has_company, path: company.employee_count, kind: flag, missing: zero}
    - {name: created_project, event: Created Project, kind: flag}
    - {name: invites, event: Invited Teammate, scale: log}
    - {name: viewed_tutorial, event: Viewed Tutorial, kind: flag}
    # For the predictions: what is known at the end of a user's first day.
    - {name: device, path: device_type, kind: category}
    - {name: feature_uses, event: Used Feature, scale: log}
    - {name: completed_steps, event: Completed Step}
  personas:
    algorithm: agglomerative  # Ward: suits these mostly yes/no features
    k_range: [3, 8]           # chosen by silhouette
    features: [anonymous, signed_up, steps, used_features, sessions, last_page, has_company,
               created_project, invites, viewed_tutorial]
  predictions:
    - key: creates_project
      name: Creates a project in the week after the first day
      outcome: {event: Created Project, within: 7d}
      observe: 1d
      features: [anonymous, device, sessions, feature_uses, completed_steps, has_company, invites]
    - key: goes_quiet
      name: No activity in the week after the first day
      outcome: {inactive: true, within: 7d}
      observe: 1d
      features: [anonymous, device, sessions, feature_uses, completed_steps, has_company, invites]
  recommendations: {}        # tutorials and tips, learnt from who completed which
  fairness: {protected: [country]}
"""


def write_demo_config(home: Path) -> OnboardingConfig:
    """Write the demo config into ``home`` and return it, validated."""
    path = home / CONFIG_FILE
    path.write_text(DEMO_CONFIG, encoding="utf-8")
    return load_config(path)


# -- sizes -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SegmentSize:
    """One segment: the size the server kept, and a fresh recount over every profile."""

    key: str
    name: str
    description: str
    size: int
    recount: int


def segment_sizes(fm: Firstmile) -> list[SegmentSize]:
    """Sizes read through :meth:`Firstmile.segments`, each with an independent recount.

    The recount evaluates every segment on every stored profile with a fresh
    :class:`SegmentEngine`, as of now; it must equal what the server kept up to date
    event by event.
    """
    config = fm.config
    if config is None:
        return []
    engine = SegmentEngine(config)
    now = fm.clock.now()
    recount: dict[str, int] = dict.fromkeys(engine.segment_keys, 0)
    thresholds = {
        t.key: f"{config.score(t.score).name} score {t.min:g} to {t.max or 100:g}"
        for t in config.threshold_segments
    }
    for profile in fm.store.iter_profiles():
        attributes = profile_attributes(profile, now=now, policy=fm.policy)
        for key in engine.evaluate(attributes, now).members:
            recount[key] += 1
    return [
        SegmentSize(
            key=segment["key"],
            name=segment["name"],
            description=thresholds.get(segment["key"], segment["description"] or ""),
            size=segment["size"],
            recount=recount.get(segment["key"], 0),
        )
        for segment in fm.segments()
    ]


# -- one user moving between segments --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JourneyStep:
    """One event sent, and the person's segments after it."""

    event: str
    segments: tuple[str, ...]
    entered: tuple[str, ...]
    exited: tuple[str, ...]
    score: float
    accepted: bool


@dataclass
class Journey:
    """A person, their segments before, and each step after that."""

    user_id: str
    persona: Persona
    before: tuple[str, ...]
    score_before: float
    steps: list[JourneyStep] = field(default_factory=list)
    device: Device = MOBILE_DEVICES[0]  # the device of the journey's first event

    @property
    def sent(self) -> int:
        return len(self.steps)


def choose_traveller(fm: Firstmile, population: Population) -> Person | None:
    """A hesitant trialist who is stalled (best), else anyone signed up who allows analytics."""
    candidates = [p for p in population.people if p.identified and not p.denies_analytics]
    hesitant = [p for p in candidates if p.persona is Persona.HESITANT_TRIALIST]
    for person in hesitant:
        memberships = fm.store.memberships(fm.find_profile_id(person.display_id))
        if "stalled_after_signup" in memberships and "mobile_first" not in memberships:
            return person
    for person in hesitant:
        if "stalled_after_signup" in fm.store.memberships(fm.find_profile_id(person.display_id)):
            return person
    fallback = hesitant or candidates
    return fallback[0] if fallback else None


def _steps(user_id: str) -> Sequence[tuple[str, JSONObject]]:
    phone = MOBILE_DEVICES[0]

    def track(event: str, **properties: Any) -> JSONObject:
        return {"type": "track", "userId": user_id, "event": event, "properties": properties}

    page: JSONObject = {
        "type": "page",
        "userId": user_id,
        "name": "Home",
        "properties": {"path": "/app"},
        "context": {"userAgent": phone.user_agent},
    }
    return (
        ("opens the app on a phone", page),
        ("Completed Step 1", track("Completed Step", step=1)),
        ("Used Feature", track("Used Feature", feature="Templates")),
        ("Invited Teammate", track("Invited Teammate", invitee_role="member")),
        ("Invited Teammate", track("Invited Teammate", invitee_role="admin")),
        ("Completed Step 2", track("Completed Step", step=2)),
    )


def _state(fm: Firstmile, engine: SegmentEngine, profile_id: str) -> tuple[set[str], float]:
    members = set(fm.store.memberships(profile_id))
    profile = fm.store.get_profile(profile_id)
    if profile is None:
        return members, 0.0
    now = fm.clock.now()
    attributes = profile_attributes(profile, now=now, policy=fm.policy)
    score = engine.scores(attributes, now).get(SCORE)
    return members, 0.0 if score is None else score.value


def _ordered(keys: set[str], order: Sequence[str]) -> tuple[str, ...]:
    return tuple(key for key in order if key in keys)


def journey(fm: Firstmile, person: Person, base_url: str, write_key: str) -> Journey:
    """Send ``person`` a few events through ``POST /v1/batch``, one request each.

    ``fm`` is opened on the workspace the server writes to (SQLite in WAL mode lets it
    read while the server writes): after each response, the person's memberships are
    read from the store, as the server left them.
    """
    config = fm.config
    if config is None:
        raise ValueError("the demo workspace has no onboarding config")
    engine = SegmentEngine(config)
    order = engine.segment_keys
    profile_id = fm.find_profile_id(person.display_id)
    members, score = _state(fm, engine, profile_id)
    trip = Journey(person.display_id, person.persona, _ordered(members, order), score)
    auth = base64.b64encode(f"{write_key}:".encode()).decode()
    with httpx.Client(base_url=base_url, timeout=10.0) as http:
        for label, base in _steps(person.display_id):
            message = {
                **base,
                "messageId": f"demo-journey-{uuid.uuid4()}",
                "timestamp": datetime.now(UTC).isoformat(),
            }
            response = http.post(
                "/v1/batch",
                json={"batch": [message]},
                headers={"Authorization": f"Basic {auth}"},
            )
            now_members, score = _state(fm, engine, profile_id)
            trip.steps.append(
                JourneyStep(
                    event=label,
                    segments=_ordered(now_members, order),
                    entered=_ordered(now_members - members, order),
                    exited=_ordered(members - now_members, order),
                    score=score,
                    accepted=response.status_code == 200,
                )
            )
            members = now_members
    return trip
