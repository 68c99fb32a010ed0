"""The profile reducer: ``apply_event(profile, event) -> ProfileUpdate``, a pure function.

Declared traits (identify) are applied for every user: they are what the user or the
app told us, and the service needs them (``necessary``). Behavioural traits
(:class:`~firstmile.profiles.model.Computed`) are only computed when the event may be
kept under the user's ``analytics`` consent.

Sessions end after ``session_timeout`` of inactivity. Events arriving late (older than
the last one seen) count in every total and window but do not open a session:
sessions are counted in arrival order of the latest activity.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from firstmile.events.model import Event
from firstmile.profiles.content import apply_content_event, merge_content
from firstmile.profiles.model import Computed, Profile

HOURS_KEPT = 7 * 24
LAST_PAGES_KEPT = 5
ALL_EVENTS = "*"


@dataclass(frozen=True, slots=True)
class TraitDelta:
    """One declared trait that changed."""

    trait: str
    old_value: Any
    new_value: Any


@dataclass(frozen=True, slots=True)
class ProfileUpdate:
    """The new profile and the declared traits that changed to make it."""

    profile: Profile
    trait_changes: tuple[TraitDelta, ...] = ()


def _page_path(event: Event) -> str | None:
    return page_path(event.properties, event.context)


def page_path(properties: Mapping[str, Any], context: Mapping[str, Any]) -> str | None:
    """A page call's path: ``properties.path``, else ``context.page.path``."""
    path = properties.get("path")
    if isinstance(path, str) and path:
        return path
    page = context.get("page")
    if isinstance(page, dict):
        path = page.get("path")
        if isinstance(path, str) and path:
            return path
    return None


def _add(counts: dict[str, int], key: str) -> dict[str, int]:
    added = dict(counts)  # copies the table at once; {**counts, key: n} re-inserts each key
    added[key] = counts.get(key, 0) + 1
    return added


def _hourly(hourly: dict[int, dict[str, int]], event: Event) -> dict[int, dict[str, int]]:
    hour = int(event.timestamp.timestamp()) // 3600
    # Prune against the arrival time, not the newest event time: one event dated in the
    # future (a device clock that is wrong) must not push the real recent history out.
    horizon = int(event.received_at.timestamp()) // 3600 - HOURS_KEPT
    if hour <= horizon:
        return hourly  # older than any window we answer for
    bucket = _add(hourly.get(hour, {}), ALL_EVENTS)
    if event.type == "track" and event.event:
        bucket[event.event] = bucket.get(event.event, 0) + 1
    if hourly and min(hourly) <= horizon:
        kept = {h: counts for h, counts in hourly.items() if h > horizon}
    else:
        kept = dict(hourly)  # the usual case, nothing to prune: a copy made in C
    kept[hour] = bucket
    return kept


def _computed(computed: Computed, event: Event, session_timeout: timedelta) -> Computed:
    at = event.timestamp
    last = computed.last_seen
    newest = last is None or at >= last
    new_session = last is None or (newest and at - last > session_timeout)
    day = at.date().isoformat()
    active_days = computed.active_days
    if day not in active_days:
        position = bisect.bisect(active_days, day)
        active_days = (*active_days[:position], day, *active_days[position:])
    last_pages = computed.last_pages
    path = _page_path(event) if event.type == "page" else None
    if path is not None and (not last_pages or last_pages[0] != path) and newest:
        last_pages = (path, *last_pages)[:LAST_PAGES_KEPT]
    groups = computed.groups
    if event.group_id is not None and event.group_id not in groups:
        groups = (*groups, event.group_id)
    e = event.enrichment
    # Device and place follow the newest event that states them (spelled out rather than
    # through a helper: six calls per event add up).
    return Computed(
        first_seen=at if computed.first_seen is None else min(computed.first_seen, at),
        last_seen=at if last is None else max(last, at),
        event_count=computed.event_count + 1,
        type_counts=_add(computed.type_counts, event.type),
        event_counts=(
            _add(computed.event_counts, event.event)
            if event.type == "track" and event.event
            else computed.event_counts
        ),
        sessions=computed.sessions + (1 if new_session else 0),
        session_started_at=at if new_session else computed.session_started_at,
        active_days=active_days,
        hourly=_hourly(computed.hourly, event),
        last_pages=last_pages,
        device_type=e.device_type if newest and e.device_type is not None else computed.device_type,
        os=e.os if newest and e.os is not None else computed.os,
        browser=e.browser if newest and e.browser is not None else computed.browser,
        country=e.country if newest and e.country is not None else computed.country,
        locale=e.locale if newest and e.locale is not None else computed.locale,
        timezone=e.timezone if newest and e.timezone is not None else computed.timezone,
        groups=groups,
    )


def _same(old: Any, new: Any) -> bool:
    # Python says 1 == True == 1.0; a trait that changes type is a change worth recording.
    return type(old) is type(new) and bool(old == new)


def declared_traits(event: Event) -> dict[str, Any]:
    """The profile traits an event sets (identify traits, minus consent statements)."""
    if event.type != "identify":
        return {}
    return {
        key: value
        for key, value in event.traits.items()
        if key != "consent" and not key.startswith("consent_")
    }


def _trait_changes(traits: dict[str, Any], event: Event) -> tuple[TraitDelta, ...]:
    """The declared traits of ``event`` that ``traits`` does not already hold as they are."""
    return tuple(
        TraitDelta(key, traits.get(key), value)
        for key, value in declared_traits(event).items()
        if key not in traits or not _same(traits[key], value)
    )


def apply_event(
    profile: Profile,
    event: Event,
    *,
    behavioural: bool,
    session_timeout: timedelta = timedelta(minutes=30),
) -> ProfileUpdate:
    """Fold one event into a profile.

    ``behavioural`` says whether the user's consent allows computing behavioural traits
    from this event. Content events (``Content Shown``, ...) update the content state
    whatever the consent (:mod:`firstmile.profiles.content`). Returns the same profile
    object when nothing changed.
    """
    changes = _trait_changes(profile.traits, event) if event.type == "identify" else ()
    # `context.active = false` means "update traits without marking the user active".
    active = event.context.get("active") is not False
    content = apply_content_event(profile.content, event)
    if not changes and not (behavioural and active) and content is profile.content:
        return ProfileUpdate(profile)
    traits = profile.traits
    if changes:
        traits = {**traits, **{change.trait: change.new_value for change in changes}}
    computed = profile.computed
    if behavioural and active:
        computed = _computed(computed, event, session_timeout)
    # Every field spelled out: dataclasses.replace costs several times more, per event.
    updated = Profile(
        profile_id=profile.profile_id,
        user_id=profile.user_id,
        created_at=profile.created_at,
        updated_at=max(profile.updated_at, event.received_at),
        version=profile.version + 1,
        traits=traits,
        consent=profile.consent,
        computed=computed,
        content=content,
    )
    return ProfileUpdate(updated, changes)


def window_counts(computed: Computed, now: datetime) -> dict[str, Any]:
    """Rolling-window counts as of ``now``: events in the last 1 and 7 days, by name.

    Exact to the hour: an event counts while its hour overlaps the window.
    """
    current_hour = int(now.timestamp()) // 3600
    totals = {"events_1d": 0, "events_7d": 0}
    by_name_1d: dict[str, int] = {}
    by_name_7d: dict[str, int] = {}
    for hour, counts in computed.hourly.items():
        age = current_hour - hour
        if age < 0 or age >= HOURS_KEPT:
            continue
        for name, count in counts.items():
            if name == ALL_EVENTS:
                totals["events_7d"] += count
                if age < 24:
                    totals["events_1d"] += count
                continue
            by_name_7d[name] = by_name_7d.get(name, 0) + count
            if age < 24:
                by_name_1d[name] = by_name_1d.get(name, 0) + count
    return {**totals, "event_counts_1d": by_name_1d, "event_counts_7d": by_name_7d}


def _merge_counts(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    merged = dict(a)
    for key, count in b.items():
        merged[key] = merged.get(key, 0) + count
    return merged


def merge_profiles(known: Profile, anonymous: Profile, *, at: datetime) -> Profile:
    """Fold an anonymous profile into a known one (the known one's traits win).

    Counts add up, first/last seen widen, and for each consent purpose the most recent
    decision wins.
    """
    a, b = known.computed, anonymous.computed
    known_newer = b.last_seen is None or (a.last_seen is not None and a.last_seen >= b.last_seen)
    newest = a if known_newer else b
    hourly: dict[int, dict[str, int]] = dict(a.hourly)
    for hour, counts in b.hourly.items():
        hourly[hour] = _merge_counts(hourly.get(hour, {}), counts)
    seen = [t for t in (a.first_seen, b.first_seen) if t is not None]
    last = [t for t in (a.last_seen, b.last_seen) if t is not None]
    computed = Computed(
        first_seen=min(seen, default=None),
        last_seen=max(last, default=None),
        event_count=a.event_count + b.event_count,
        type_counts=_merge_counts(a.type_counts, b.type_counts),
        event_counts=_merge_counts(a.event_counts, b.event_counts),
        sessions=a.sessions + b.sessions,
        session_started_at=newest.session_started_at,
        active_days=tuple(sorted(set(a.active_days) | set(b.active_days))),
        hourly=hourly,
        last_pages=(*newest.last_pages, *(p for p in (b if known_newer else a).last_pages))[
            :LAST_PAGES_KEPT
        ],
        device_type=newest.device_type or a.device_type or b.device_type,
        os=newest.os or a.os or b.os,
        browser=newest.browser or a.browser or b.browser,
        country=newest.country or a.country or b.country,
        locale=newest.locale or a.locale or b.locale,
        timezone=newest.timezone or a.timezone or b.timezone,
        groups=tuple(dict.fromkeys((*a.groups, *b.groups))),
    )
    consent = dict(anonymous.consent)
    for purpose, decision in known.consent.items():
        other = consent.get(purpose)
        if other is None or decision.at >= other.at:
            consent[purpose] = decision
    return replace(
        known,
        traits={**anonymous.traits, **known.traits},
        consent=consent,
        computed=computed,
        content=merge_content(known.content, anonymous.content),
        created_at=min(known.created_at, anonymous.created_at),
        updated_at=max(known.updated_at, at),
        version=max(known.version, anonymous.version) + 1,
    )
