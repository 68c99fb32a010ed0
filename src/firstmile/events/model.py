"""Value objects that flow through the ingest pipeline.

An :class:`Event` is one Segment-spec message after validation, normalization and
enrichment: ids are strings, times are aware UTC datetimes, and nothing in it needs
checking again. A :class:`Rejection` is a message that failed, with the reason it is
quarantined under.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from firstmile.types import JSONObject

EventType = Literal["identify", "track", "page", "screen", "group", "alias"]
EVENT_TYPES: tuple[EventType, ...] = ("identify", "track", "page", "screen", "group", "alias")


class Purpose(StrEnum):
    """Consent purposes. ``necessary`` is always granted."""

    NECESSARY = "necessary"
    ANALYTICS = "analytics"
    PERSONALIZATION = "personalization"
    MARKETING = "marketing"


class QuarantineReason(StrEnum):
    """Why a message was quarantined; stable codes for filters and dashboards."""

    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    MISSING_TYPE = "missing_type"
    UNKNOWN_TYPE = "unknown_type"
    MISSING_ID = "missing_id"
    MISSING_EVENT = "missing_event"
    MISSING_FIELD = "missing_field"
    BAD_TYPE = "bad_type"
    BAD_TIMESTAMP = "bad_timestamp"
    TOO_LARGE = "too_large"
    BATCH_OVERFLOW = "batch_overflow"


@dataclass(frozen=True, slots=True)
class Enrichment:
    """What the server derived from context: user agent, IP, locale, timezone."""

    device_type: str | None = None  # desktop | mobile | tablet | bot | tv | other
    os: str | None = None
    os_version: str | None = None
    browser: str | None = None
    browser_version: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2
    locale: str | None = None
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """One valid, normalized and enriched message."""

    message_id: str
    type: EventType
    user_id: str | None
    anonymous_id: str | None
    timestamp: datetime  # skew-corrected event time (UTC)
    received_at: datetime
    original_timestamp: datetime | None = None  # the client's own `timestamp`
    sent_at: datetime | None = None
    event: str | None = None  # track
    name: str | None = None  # page, screen
    category: str | None = None
    group_id: str | None = None  # group
    previous_id: str | None = None  # alias
    properties: JSONObject = field(default_factory=dict)
    traits: JSONObject = field(default_factory=dict)
    context: JSONObject = field(default_factory=dict)
    integrations: JSONObject = field(default_factory=dict)
    enrichment: Enrichment = field(default_factory=Enrichment)
    consent: dict[Purpose, bool] = field(default_factory=dict)  # stated with this message


@dataclass(frozen=True, slots=True)
class Rejection:
    """A message that failed validation, kept verbatim with its reason."""

    reason: QuarantineReason
    message: str
    payload: JSONObject | str
    field: str | None = None
    message_id: str | None = None
