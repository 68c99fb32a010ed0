"""The profile value object and its JSON form.

A profile is immutable; the reducer (:mod:`firstmile.profiles.reduce`) returns a new one
with ``version`` one higher for every change. Storage keeps the JSON form from
:func:`profile_to_json` and reads it back with :func:`profile_from_json`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from firstmile.events.model import Purpose
from firstmile.profiles.content import ContentState, content_from_json, content_to_json
from firstmile.types import JSONObject


@dataclass(frozen=True, slots=True)
class ConsentDecision:
    """One purpose's current answer, when it was given and where it was read."""

    granted: bool
    at: datetime
    source: str  # "context" (categoryPreferences) | "traits"


@dataclass(frozen=True, slots=True)
class Computed:
    """Behavioural traits kept up to date on every event (only with `analytics` consent)."""

    first_seen: datetime | None = None
    last_seen: datetime | None = None
    event_count: int = 0
    type_counts: dict[str, int] = field(default_factory=dict)
    event_counts: dict[str, int] = field(default_factory=dict)  # track events by name
    sessions: int = 0
    session_started_at: datetime | None = None
    active_days: tuple[str, ...] = ()  # sorted ISO dates (UTC)
    # Event counts per UTC hour for the last 7 days ({epoch hour: {name: n}}; "*" is all
    # events), so rolling windows are exact to the hour whatever the read time.
    hourly: dict[int, dict[str, int]] = field(default_factory=dict)
    last_pages: tuple[str, ...] = ()  # most recent first
    device_type: str | None = None
    os: str | None = None
    browser: str | None = None
    country: str | None = None
    locale: str | None = None
    timezone: str | None = None
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Profile:
    """One person: declared traits, consent, computed behaviour, and a version."""

    profile_id: str
    user_id: str | None
    created_at: datetime
    updated_at: datetime
    version: int = 0
    traits: JSONObject = field(default_factory=dict)
    consent: dict[Purpose, ConsentDecision] = field(default_factory=dict)
    computed: Computed = field(default_factory=Computed)
    # What decide showed and the user dismissed or completed, by content item id.
    content: dict[str, ContentState] = field(default_factory=dict)


def _dt(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _native_dt(value: datetime | None) -> datetime | str | None:
    # orjson writes a UTC datetime exactly as isoformat() does, and in C; any other zone
    # keeps the Python text (orjson rounds an offset with seconds to whole minutes).
    return value if value is None or value.tzinfo is UTC else value.isoformat()


def _parse_dt(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _document(
    profile: Profile, time: Callable[[datetime | None], Any], array: Callable[[Any], Any]
) -> dict[str, Any]:
    """The JSON form of a profile, with ``time`` and ``array`` writing datetimes and tuples."""
    c = profile.computed
    return {
        "profile_id": profile.profile_id,
        "user_id": profile.user_id,
        "created_at": time(profile.created_at),
        "updated_at": time(profile.updated_at),
        "version": profile.version,
        "traits": profile.traits,
        "consent": {
            purpose.value: {"granted": d.granted, "at": time(d.at), "source": d.source}
            for purpose, d in profile.consent.items()
        },
        "computed": {
            "first_seen": time(c.first_seen),
            "last_seen": time(c.last_seen),
            "event_count": c.event_count,
            "type_counts": c.type_counts,
            "event_counts": c.event_counts,
            "sessions": c.sessions,
            "session_started_at": time(c.session_started_at),
            "active_days": array(c.active_days),
            "hourly": {str(hour): counts for hour, counts in c.hourly.items()},
            "last_pages": array(c.last_pages),
            "device_type": c.device_type,
            "os": c.os,
            "browser": c.browser,
            "country": c.country,
            "locale": c.locale,
            "timezone": c.timezone,
            "groups": array(c.groups),
        },
        "content": content_to_json(profile.content, time=time),
    }


def profile_to_json(profile: Profile) -> dict[str, Any]:
    """The profile as JSON-ready data (round-trips through :func:`profile_from_json`)."""
    return _document(profile, _dt, list)


def profile_document(profile: Profile) -> dict[str, Any]:
    """The profile for ``orjson.dumps``, which writes it as the text of :func:`profile_to_json`.

    Storage writes every changed profile on every request. Here UTC datetimes and
    tuples are left for orjson to write (as ``isoformat()`` text and as arrays), which
    cuts the cost of serializing a profile by about a third. Only orjson may serialize
    this form: the standard library cannot write datetimes.
    """
    # tuple() of a tuple is that tuple: the arrays are handed over as they are.
    return _document(profile, _native_dt, tuple)


def profile_from_json(data: dict[str, Any]) -> Profile:
    """Inverse of :func:`profile_to_json`."""
    c = data.get("computed") or {}
    created = _parse_dt(data["created_at"])
    updated = _parse_dt(data["updated_at"])
    if created is None or updated is None:
        raise ValueError("a stored profile lacks created_at/updated_at")
    return Profile(
        profile_id=data["profile_id"],
        user_id=data.get("user_id"),
        created_at=created,
        updated_at=updated,
        version=int(data.get("version", 0)),
        traits=dict(data.get("traits") or {}),
        consent={
            Purpose(purpose): ConsentDecision(
                granted=bool(d["granted"]), at=_parse_dt(d["at"]) or created, source=d["source"]
            )
            for purpose, d in (data.get("consent") or {}).items()
        },
        computed=Computed(
            first_seen=_parse_dt(c.get("first_seen")),
            last_seen=_parse_dt(c.get("last_seen")),
            event_count=int(c.get("event_count", 0)),
            type_counts=dict(c.get("type_counts") or {}),
            event_counts=dict(c.get("event_counts") or {}),
            sessions=int(c.get("sessions", 0)),
            session_started_at=_parse_dt(c.get("session_started_at")),
            active_days=tuple(c.get("active_days") or ()),
            hourly={int(hour): dict(counts) for hour, counts in (c.get("hourly") or {}).items()},
            last_pages=tuple(c.get("last_pages") or ()),
            device_type=c.get("device_type"),
            os=c.get("os"),
            browser=c.get("browser"),
            country=c.get("country"),
            locale=c.get("locale"),
            timezone=c.get("timezone"),
            groups=tuple(c.get("groups") or ()),
        ),
        content=content_from_json(data.get("content")),
    )
