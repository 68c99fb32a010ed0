"""A simulated onboarding population: who the users are and what their apps send.

Everything here is pure: :func:`build_population` draws from ``random.Random(seed)``
and a reference time ``now``, does no I/O, and returns frozen data. The same seed,
size and ``now`` always give the same population, down to every message id, so a
demo run can be reproduced and the tests can reason about exact counts.

The population has five personas (see :class:`Persona`):

* power users exploring advanced features on desktop (Chrome or Firefox on macOS,
  Windows or Linux), many sessions;
* casual mobile users (iPhone Safari, Android Chrome) with short sessions;
* team admins who create a workspace (a ``group`` call) and invite teammates;
* hesitant trialists who sign up, do little and come back days later, if at all;
* visitors who browse anonymously and never sign up.

Each person lives in one of :data:`COUNTRIES` (a public IP address that the offline
IP database maps to that country, a matching locale and IANA time zone) and has a
consent choice: most say nothing, some deny ``analytics`` (so firstmile must not
keep their behaviour), some deny ``personalization``, some grant ``marketing``.

What reaches the server, and how, mirrors a real deployment:

* anonymous browsing before sign-up is sent by the browser, analytics.js style
  (:class:`BrowserRequest`: single events to ``/v1/p``, ``/v1/t``, or batches to
  ``/v1/b``), sometimes re-posted by the browser when a response was lost;
* sign-up and everything after it is tracked server side with
  segment-analytics-python (:attr:`Person.sdk_messages`), the identify carrying the
  browser's ``anonymousId`` so the anonymous history joins the profile;
* some people later log in on a second device: anonymous page views, then an
  identify from that browser, which merges the two profiles;
* a buggy integration sends malformed messages (:class:`Malformed`), each made to
  fail validation for one known reason.

The parts live in their own modules: the tables of :mod:`~firstmile.demo.countries`,
:mod:`~firstmile.demo.devices`, :mod:`~firstmile.demo.catalog` and
:mod:`~firstmile.demo.consent`; the :mod:`~firstmile.demo.personas`; each person's
:mod:`~firstmile.demo.timeline`, whose messages :mod:`~firstmile.demo.channels` makes;
the :mod:`~firstmile.demo.malformed` messages; and the frozen values of
:mod:`~firstmile.demo.model`. This module draws them together, and its names are
the public ones.

Examples
--------
>>> from datetime import UTC, datetime
>>> population = build_population(50, seed=1, now=datetime(2026, 11, 25, tzinfo=UTC))
>>> len(population.people), population.well_formed_count > 0
(50, True)
>>> build_population(50, seed=1, now=population.now) == population
True
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from firstmile.demo.channels import SDK_CLIENT_COUNT, Channels
from firstmile.demo.consent import CONSENT_VOCABULARIES, draw_consent
from firstmile.demo.countries import COUNTRIES, Country
from firstmile.demo.devices import DESKTOP_DEVICES, MOBILE_DEVICES, Device
from firstmile.demo.malformed import MALFORMED_SHARE, draw_malformed
from firstmile.demo.model import BrowserRequest, Malformed, Message, Person, Population
from firstmile.demo.personas import PERSONA_WEIGHTS, Persona, draw_device
from firstmile.demo.timeline import Timeline
from firstmile.demo.world import LATEST, WINDOW, World
from firstmile.types import JSONObject

__all__ = [
    "COUNTRIES",
    "DESKTOP_DEVICES",
    "LATEST",
    "MOBILE_DEVICES",
    "PERSONA_WEIGHTS",
    "SDK_CLIENT_COUNT",
    "WINDOW",
    "BrowserRequest",
    "Country",
    "Device",
    "Malformed",
    "Message",
    "Person",
    "Persona",
    "Population",
    "build_population",
]


def build_population(users: int, *, seed: int, now: datetime) -> Population:
    """Draw a population of ``users`` people, reproducibly.

    Parameters
    ----------
    users
        How many people (at least 1).
    seed
        Seed of the random generator: the same seed, size and ``now`` give the same
        population, message ids included.
    now
        The reference time (aware). Every message is dated in the 14 days before it,
        and at least a few minutes before it.

    Returns
    -------
    Population
        The people, their messages, and the malformed messages.
    """
    if users < 1:
        raise ValueError(f"A population needs at least one person, not {users}.")
    if now.tzinfo is None:
        raise ValueError("`now` must be an aware datetime, for example datetime.now(UTC).")
    world = World(seed, now)
    # Every persona appears from 5 people on, so even small demos show each kind.
    personas = list(PERSONA_WEIGHTS)[: min(users, len(PERSONA_WEIGHTS))]
    personas += [_draw_persona(world) for _ in range(users - len(personas))]
    world.rng.shuffle(personas)
    people = tuple(_draw_person(world, index, persona) for index, persona in enumerate(personas))
    well_formed = sum(1 for person in people for _ in person.messages())
    malformed = draw_malformed(world, round(well_formed * MALFORMED_SHARE), people)
    population = Population(seed=seed, now=world.now, people=people, malformed=malformed)
    if population.retried_message_count == 0:
        # Tiny populations may draw no retry at all; the demo should still show one.
        population = _with_first_request_retried(population)
    return population


def _with_first_request_retried(population: Population) -> Population:
    people = list(population.people)
    for position, person in enumerate(people):
        if person.browser_requests:
            first, *rest = person.browser_requests
            requests = (replace(first, retried=True), *rest)
            people[position] = replace(person, browser_requests=requests)
            break
    return replace(population, people=tuple(people))


def _draw_persona(world: World) -> Persona:
    personas = list(PERSONA_WEIGHTS)
    return world.weighted(personas, [PERSONA_WEIGHTS[p] for p in personas])


def _draw_person(world: World, index: int, persona: Persona) -> Person:
    """Where someone lives, what they consented to, what they use; then their timeline."""
    # The order of the draws, here and in Channels and Timeline, is part of the output:
    # moving one changes the population every seed gives.
    rng = world.rng
    country = world.weighted(COUNTRIES, [c.weight for c in COUNTRIES])
    locale = rng.choice(country.locales)
    timezone = rng.choice(country.timezones)
    if rng.random() < 0.1:
        # Some clients send sloppy values; firstmile canonicalizes them.
        locale, timezone = locale.replace("-", "_").lower(), timezone.lower()
    consent = draw_consent(rng)
    vocabulary = rng.choice(CONSENT_VOCABULARIES)
    preferences: JSONObject = {vocabulary[p]: granted for p, granted in consent.items()}
    send = Channels(
        world,
        ip=rng.choice(country.ips),
        locale=locale,
        timezone=timezone,
        device=draw_device(rng, persona),
        preferences=preferences,
    )
    timeline = Timeline(
        world, index=index, persona=persona, country=country, consent=consent, send=send
    )
    return timeline.build()
