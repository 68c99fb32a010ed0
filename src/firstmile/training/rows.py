"""Training rows from profiles and the event log, with a leakage-safe time split (pure).

For an outcome over the event log (``event`` or ``inactive``) each user gets a cut-off:
``first_seen + observe``. The features are what firstmile knew at the cut-off — the
profile's computed traits rebuilt from the stored events *before* it (counts, windows,
sessions, device and place), with the declared traits as they are now — and the label
is read from the events in ``[cut-off, cut-off + within)``. A user whose outcome window
has not ended yet (``cut-off + within > now``) has no label and is left out: counting
them as negatives would teach the model that recent users never convert. So is a user
who sent the outcome event before the cut-off (for an ``event`` outcome): they already
did what the model predicts, and counting them would teach it that early doers are not.

A ``trait`` outcome is a label the app records; its rows are the profiles as they are
now (there is no time to split on), so the features must not be derived from the label
(the config check refuses a feature that reads the label trait).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from firstmile.config.models import Outcome
from firstmile.profiles.model import Computed, Profile
from firstmile.profiles.reduce import LAST_PAGES_KEPT, page_path
from firstmile.storage.base import StoredEvent

SESSION_TIMEOUT = timedelta(minutes=30)
_ENRICHED = ("device_type", "os", "browser", "country", "locale", "timezone")


@dataclass(frozen=True, slots=True)
class LabelledUser:
    """One user's profile as of the cut-off, its label, and the cut-off time."""

    profile: Profile
    label: int
    cutoff: datetime


def _add(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


def computed_as_of(events: Sequence[StoredEvent], cutoff: datetime) -> Computed:
    """The computed traits of the events before ``cutoff`` (sorted by time), as the
    profile reducer would have built them then."""
    first: datetime | None = None
    last: datetime | None = None
    type_counts: dict[str, int] = {}
    event_counts: dict[str, int] = {}
    hourly: dict[int, dict[str, int]] = {}
    days: list[str] = []
    sessions = 0
    session_start: datetime | None = None
    place: dict[str, Any] = {}
    groups: list[str] = []
    pages: list[str] = []  # most recent first, as the reducer keeps them
    earliest_hour = int((cutoff - timedelta(days=7)).timestamp() // 3600)
    for event in events:
        at = event.timestamp
        if at >= cutoff:
            break
        if last is None or at - last > SESSION_TIMEOUT:
            sessions += 1
            session_start = at
        first = at if first is None else first
        last = at
        _add(type_counts, event.type)
        if event.type == "track" and event.name:
            _add(event_counts, event.name)
        day = at.date().isoformat()
        if not days or days[-1] != day:  # events come sorted: days only move forward
            days.append(day)
        hour = int(at.timestamp() // 3600)
        if hour >= earliest_hour:
            bucket = hourly.setdefault(hour, {})
            _add(bucket, "*")
            if event.type == "track" and event.name:
                _add(bucket, event.name)
        enrichment = event.payload.get("enrichment") or {}
        for key in _ENRICHED:
            if enrichment.get(key) is not None:
                place[key] = enrichment[key]
        if event.type == "page":
            path = page_path(
                event.payload.get("properties") or {}, event.payload.get("context") or {}
            )
            if path is not None and (not pages or pages[0] != path):
                pages.insert(0, path)
                del pages[LAST_PAGES_KEPT:]
        group = event.payload.get("groupId")
        if isinstance(group, str) and group not in groups:
            groups.append(group)
    return Computed(
        first_seen=first,
        last_seen=last,
        event_count=sum(type_counts.values()),
        type_counts=type_counts,
        event_counts=event_counts,
        sessions=sessions,
        session_started_at=session_start,
        active_days=tuple(days),
        hourly=hourly,
        last_pages=tuple(pages),
        device_type=place.get("device_type"),
        os=place.get("os"),
        browser=place.get("browser"),
        country=place.get("country"),
        locale=place.get("locale"),
        timezone=place.get("timezone"),
        groups=tuple(groups),
    )


def _happened(name: str | None, events: Sequence[StoredEvent], before: datetime) -> bool:
    return any(e.timestamp < before and e.type == "track" and e.name == name for e in events)


def _label(outcome: Outcome, events: Sequence[StoredEvent], start: datetime) -> int:
    end = start + outcome.within
    window = [e for e in events if start <= e.timestamp < end]
    if outcome.kind == "inactive":
        return int(not window)
    return int(any(e.type == "track" and e.name == outcome.event for e in window))


def event_outcome_rows(
    profiles: Iterable[Profile],
    events_of: dict[str, list[StoredEvent]],
    outcome: Outcome,
    *,
    observe: timedelta,
    now: datetime,
) -> list[LabelledUser]:
    """A labelled, as-of-cut-off profile for every user whose outcome window has ended.

    ``events_of`` maps profile ids to their stored events sorted by time.
    """
    out: list[LabelledUser] = []
    for profile in profiles:
        events = events_of.get(profile.profile_id, [])
        if not events:
            continue
        cutoff = events[0].timestamp + observe
        if cutoff + outcome.within > now:
            continue  # not observed long enough to know the answer
        if outcome.kind == "event" and _happened(outcome.event, events, cutoff):
            continue  # already did it before the cut-off: nothing left to predict
        past = replace(profile, computed=computed_as_of(events, cutoff))
        out.append(LabelledUser(past, _label(outcome, events, cutoff), cutoff))
    return out


def truthy(value: Any) -> int | None:
    """A label from a trait: booleans, 0/1, and "true"/"false"-like text; else ``None``."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "yes", "1"):
            return 1
        if text in ("false", "no", "0"):
            return 0
    return None
