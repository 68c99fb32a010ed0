"""The population as frozen values: people, the messages their apps send, bad messages.

:class:`Message` is one Segment-spec call; :class:`BrowserRequest` is how analytics.js
carries it; :class:`Person` holds everything about one simulated person;
:class:`Population` is the whole draw of :func:`firstmile.demo.population.build_population`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from firstmile.demo.countries import Country
from firstmile.demo.devices import Device
from firstmile.demo.personas import Persona
from firstmile.events.model import QuarantineReason
from firstmile.types import JSONObject

__all__ = [
    "BrowserEndpoint",
    "BrowserRequest",
    "Malformed",
    "Message",
    "MessageType",
    "Person",
    "Population",
    "iso",
]

MessageType = Literal["identify", "track", "page", "group", "alias"]
BrowserEndpoint = Literal["p", "t", "i", "b"]


def iso(at: datetime) -> str:
    """A timestamp as analytics.js sends it: UTC with milliseconds and a Z.

    >>> iso(datetime(2026, 11, 25, 9, 30, tzinfo=UTC))
    '2026-11-25T09:30:00.000Z'
    """
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Message:
    """One well-formed Segment-spec call, before a client library adds its own fields.

    ``context`` holds what the sending client knows about the user's device and
    place (``userAgent``, ``locale``, ``timezone``, ``ip`` for server-side calls) and
    the consent banner's answer (``consent.categoryPreferences``).
    """

    type: MessageType
    message_id: str
    timestamp: datetime  # aware, UTC
    user_id: str | None = None
    anonymous_id: str | None = None
    event: str | None = None  # track
    name: str | None = None  # page
    properties: JSONObject = field(default_factory=dict)
    traits: JSONObject = field(default_factory=dict)
    group_id: str | None = None
    previous_id: str | None = None  # alias
    context: JSONObject = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The message as the tracking API's JSON (camelCase; unset fields left out)."""
        body: dict[str, Any] = {
            "type": self.type,
            "messageId": self.message_id,
            "timestamp": iso(self.timestamp),
        }
        for key, value in (
            ("userId", self.user_id),
            ("anonymousId", self.anonymous_id),
            ("event", self.event),
            ("name", self.name),
            ("groupId", self.group_id),
            ("previousId", self.previous_id),
        ):
            if value is not None:
                body[key] = value
        if self.type in ("track", "page"):
            body["properties"] = dict(self.properties)
        if self.type in ("identify", "group"):
            body["traits"] = dict(self.traits)
        body["context"] = dict(self.context)
        return body


@dataclass(frozen=True, slots=True)
class BrowserRequest:
    """One request analytics.js sends: a single event or a batch (``/v1/b``).

    ``ip`` is the user's address as a reverse proxy in front of firstmile reports it
    (``X-Forwarded-For``); analytics.js itself never puts the address in the message.
    ``retried`` means the browser posts the identical body a second time, as it does
    when the first response was lost.
    """

    endpoint: BrowserEndpoint
    messages: tuple[Message, ...]
    ip: str
    user_agent: str
    retried: bool = False


@dataclass(frozen=True, slots=True)
class Person:
    """One simulated person and everything their apps send about them."""

    index: int
    persona: Persona
    user_id: str | None  # the final user id; None for visitors who never sign up
    previous_user_id: str | None  # the id before an alias (a rename), if any
    anonymous_ids: tuple[str, ...]  # browser cookies, in the order they appeared
    country: Country
    ip: str
    locale: str
    timezone: str
    device: Device
    second_device: Device | None  # logged in later on another device (a profile merge)
    consent: Mapping[str, bool]  # purpose -> granted, as stated; empty when said nothing
    sdk_client: int  # which segment-analytics-python client sends their server-side calls
    browser_requests: tuple[BrowserRequest, ...]  # before sign-up (anonymous)
    sdk_messages: tuple[Message, ...]  # server side, from sign-up on
    second_device_requests: tuple[BrowserRequest, ...]  # the later login on another device

    @property
    def identified(self) -> bool:
        """Whether the person ever signed up (has a user id)."""
        return self.user_id is not None

    @property
    def denies_analytics(self) -> bool:
        """Whether they said no to ``analytics``: none of their events may be kept."""
        return self.consent.get("analytics") is False

    @property
    def merges(self) -> bool:
        """Whether an anonymous profile of theirs is merged into their known one."""
        return bool(self.second_device_requests)

    @property
    def display_id(self) -> str:
        """The id to look them up by (user id, else their anonymous id)."""
        return self.user_id or self.anonymous_ids[0]

    def messages(self) -> Iterator[Message]:
        """Every distinct well-formed message about this person, in sending order."""
        for request in self.browser_requests:
            yield from request.messages
        yield from self.sdk_messages
        for request in self.second_device_requests:
            yield from request.messages


@dataclass(frozen=True, slots=True)
class Malformed:
    """A message a buggy integration sends, made to be quarantined for ``reason``."""

    reason: QuarantineReason
    description: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Population:
    """The whole simulated population, reproducible from ``seed``, size and ``now``."""

    seed: int
    now: datetime
    people: tuple[Person, ...]
    malformed: tuple[Malformed, ...]

    def messages(self) -> Iterator[Message]:
        """Every distinct well-formed message (retries not repeated)."""
        for person in self.people:
            yield from person.messages()

    @property
    def well_formed_count(self) -> int:
        """Distinct well-formed messages: what the server should accept."""
        return sum(1 for _ in self.messages())

    @property
    def retried_message_count(self) -> int:
        """Messages posted a second time with the same ``messageId`` (to be deduplicated)."""
        return sum(
            len(request.messages)
            for person in self.people
            for request in (*person.browser_requests, *person.second_device_requests)
            if request.retried
        )

    @property
    def denied_analytics_message_count(self) -> int:
        """Messages from people who denied ``analytics``: accepted, but not kept."""
        return sum(
            1 for person in self.people if person.denies_analytics for _ in person.messages()
        )

    def persona_counts(self) -> Counter[Persona]:
        """How many people per persona."""
        return Counter(person.persona for person in self.people)

    def malformed_by_reason(self) -> Counter[str]:
        """How many malformed messages per expected quarantine reason."""
        return Counter(item.reason.value for item in self.malformed)
