"""Reconciliation: what the simulation implies against what the server stored.

:func:`observe` reads the workspace after the server stopped; :func:`build_checks` pairs
each stored number with the one derived from the population and the
:class:`~firstmile.demo.tally.SimulationReport`. Printing them is
:mod:`firstmile.demo.report`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from firstmile.demo.devices import Device
from firstmile.demo.model import Person, Population
from firstmile.demo.personas import Persona
from firstmile.demo.plans import PlanShown
from firstmile.demo.tally import SimulationReport
from firstmile.errors import NotFound
from firstmile.events.model import Purpose
from firstmile.segments.updates import SEGMENT_SOURCE
from firstmile.service import Firstmile

__all__ = ["PURPOSES", "Check", "Observed", "build_checks", "expected_consent_counts", "observe"]

PURPOSES = (Purpose.ANALYTICS, Purpose.PERSONALIZATION, Purpose.MARKETING)


# -- what the server stored ------------------------------------------------------------------


@dataclass
class Observed:
    """What the workspace holds after the simulation."""

    counters: dict[str, int]
    quarantined: dict[str, int]
    profiles: dict[str, int]
    consent: dict[str, dict[str, int]]
    stitched: int  # identified profiles that carry an anonymous id
    merged: int  # anonymous profiles merged into a known one
    denied_events_stored: int  # events stored for people who denied analytics
    country_matches: int  # people whose behaviour is kept and whose country is right
    device_matches: int  # ... and whose latest device, OS and browser are right
    examples: dict[Persona, dict[str, Any]] = field(default_factory=dict)
    quarantine_example: int | None = None
    segment_events: int = 0  # Segment Entered / Exited events in the event log
    segment_changes_logged: int = 0  # membership changes of users who allow analytics


def observe(
    fm: Firstmile,
    population: Population,
    example_people: dict[Persona, Person],
    *,
    latest_devices: Mapping[str, Device] | None = None,
) -> Observed:
    """Read what the workspace holds, and the profile views of ``example_people``.

    ``latest_devices``: people (by display id) whose last device is not the
    population's (the segment journey sent them events from another one).
    """
    summary = fm.summary()
    stitched = merged = segment_events = segment_changes = 0
    for profile in fm.store.iter_profiles():
        segment_events += sum(
            1
            for event in fm.store.events(profile.profile_id, limit=1_000_000)
            if event.source_id == SEGMENT_SOURCE
        )
        if fm.policy.state(profile.consent)[Purpose.ANALYTICS.value]:
            segment_changes += len(fm.store.segment_history(profile.profile_id, limit=1_000_000))
        if profile.user_id is not None and any(
            identity.kind == "anonymous_id" for identity in fm.store.identities(profile.profile_id)
        ):
            stitched += 1
        merged += sum(
            1
            for record in fm.store.merges(profile.profile_id)
            if record.outcome == "merged" and record.into_profile_id == profile.profile_id
        )
    denied_events = country_matches = device_matches = 0
    for person in population.people:
        try:
            profile_id = fm.find_profile_id(person.display_id)
        except NotFound:
            continue  # the profile counts above will not reconcile
        if person.denies_analytics:
            denied_events += len(fm.store.events(profile_id, limit=1_000_000))
            continue
        kept = fm.store.get_profile(profile_id)
        if kept is None:
            continue  # the enrichment counts will not reconcile
        computed = kept.computed
        country_matches += computed.country == person.country.code
        last_device = (latest_devices or {}).get(person.display_id) or (
            person.second_device or person.device
        )
        device_matches += (computed.device_type, computed.os, computed.browser) == (
            last_device.kind,
            last_device.os,
            last_device.browser,
        )
    examples = {
        persona: fm.user(person.display_id, events=5) for persona, person in example_people.items()
    }
    first_quarantined = fm.quarantine(limit=1)
    return Observed(
        counters=summary["ingest"],
        quarantined=summary["quarantine_by_reason"],
        profiles=summary["profiles"],
        consent=summary["consent"],
        stitched=stitched,
        merged=merged,
        denied_events_stored=denied_events,
        country_matches=country_matches,
        device_matches=device_matches,
        examples=examples,
        quarantine_example=first_quarantined[0].id if first_quarantined else None,
        segment_events=segment_events,
        segment_changes_logged=segment_changes,
    )


# -- reconciliation --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    """One number (or a short answer, such as a recommendation): what the simulation
    implies, what the server stored."""

    group: str
    label: str
    expected: int | str
    observed: int | str

    @property
    def ok(self) -> bool:
        return self.expected == self.observed


def expected_consent_counts(
    fm: Firstmile, population: Population, *, unstated: int = 0
) -> dict[str, dict[str, int]]:
    """Profiles per purpose and state, from what people stated and the workspace policy.

    ``unstated``: profiles beyond the population whose people stated no consent (the
    trials' sign-ups): the workspace default applies to them.
    """
    expected: dict[str, dict[str, int]] = {}
    statements: list[tuple[dict[Purpose, bool], int]] = [
        ({Purpose(name): granted for name, granted in person.consent.items()}, 1)
        for person in population.people
    ]
    if unstated:
        statements.append(({}, unstated))
    for stated, count in statements:
        for purpose in PURPOSES:
            bucket = expected.setdefault(purpose.value, {"granted": 0, "denied": 0})
            bucket["granted" if fm.policy.granted(purpose, stated) else "denied"] += count
    return expected


def build_checks(
    population: Population,
    report: SimulationReport,
    observed: Observed,
    expected_consent: dict[str, dict[str, int]],
    *,
    extra_sent: int = 0,
    signups: int = 0,
) -> list[Check]:
    """Every number the demo checks, grouped as the report prints them.

    ``extra_sent``: well-formed messages sent after the simulation (the segment journey,
    the trials). ``signups``: people who signed up after the simulation, with a user id
    and no anonymous history (the trials' cohort): one identified profile each.
    """
    counters = observed.counters
    accepted = report.well_formed + extra_sent
    suppressed = population.denied_analytics_message_count
    checks = [
        Check("events", "accepted (new messageIds)", accepted, counters.get("accepted", 0)),
        Check(
            "events",
            "deduplicated (client retries)",
            report.retried_messages,
            counters.get("duplicate", 0),
        ),
        Check(
            "events",
            "not kept: the user denied analytics",
            suppressed,
            counters.get("suppressed", 0),
        ),
        Check(
            "events",
            "kept in the event log",
            accepted - suppressed,
            observed.profiles["events"] - observed.segment_events,
        ),
        Check(
            "events",
            "Segment Entered/Exited logged (one per membership change)",
            observed.segment_changes_logged,
            observed.segment_events,
        ),
        Check("events", "quarantined", report.malformed, counters.get("quarantined", 0)),
    ]
    for reason in sorted(set(report.malformed_by_reason) | set(observed.quarantined)):
        checks.append(
            Check(
                "quarantine",
                reason,
                report.malformed_by_reason.get(reason, 0),
                observed.quarantined.get(reason, 0),
            )
        )
    people = population.people
    identified = sum(p.identified for p in people)
    kept = sum(not p.denies_analytics for p in people)
    checks += [
        Check(
            "profiles",
            "profiles (one per person" + (", and per trial sign-up)" if signups else ")"),
            len(people) + signups,
            observed.profiles["profiles"],
        ),
        Check(
            "profiles",
            "identified (signed up)",
            identified + signups,
            observed.profiles["identified"],
        ),
        Check(
            "profiles",
            "anonymous (never signed up)",
            len(people) - identified,
            observed.profiles["anonymous"],
        ),
        Check(
            "profiles",
            "anonymous history joined at sign-up or login",
            sum(p.identified and bool(p.anonymous_ids) for p in people),
            observed.stitched,
        ),
        Check(
            "profiles",
            "merged into a known user (login on a 2nd device)",
            sum(p.merges for p in people),
            observed.merged,
        ),
        Check(
            "profiles",
            "events stored for people who denied analytics",
            0,
            observed.denied_events_stored,
        ),
        Check(
            "enrichment",
            "country from the IP address matches",
            kept,
            observed.country_matches,
        ),
        Check(
            "enrichment",
            "device, OS and browser from the user agent match",
            kept,
            observed.device_matches,
        ),
    ]
    for purpose in PURPOSES:
        want = expected_consent.get(purpose.value, {})
        got = observed.consent.get(purpose.value, {})
        for state in ("granted", "denied"):
            checks.append(
                Check("consent", f"{purpose.value} {state}", want.get(state, 0), got.get(state, 0))
            )
    return checks


def plan_checks(
    plans: Sequence[PlanShown], journey: Sequence[PlanShown], *, asked: int
) -> list[Check]:
    """The decisions the demo asked for: each persona's plan, and the new user's progress.

    The journey's user completes three steps and skips one, in that order; each plan must
    already count the events sent with its own request (read-your-writes).
    """
    checks = [Check("decide", "personal plans served", asked, len(plans))]
    if journey:
        checks.append(
            Check(
                "decide",
                "steps done, summed over the plan journey's plans",
                # opens the app, creates a project, skips the video, invites, uses a template
                sum((0, 1, 1, 2, 3)),
                sum(shown.steps_done for shown in journey),
            )
        )
    return checks
