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

import random
import unicodedata
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, TypeVar

from firstmile.events.model import QuarantineReason
from firstmile.types import JSONObject

__all__ = [
    "COUNTRIES",
    "DESKTOP_DEVICES",
    "MOBILE_DEVICES",
    "SDK_CLIENT_COUNT",
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

T = TypeVar("T")
MessageType = Literal["identify", "track", "page", "group", "alias"]
BrowserEndpoint = Literal["p", "t", "i", "b"]

#: How many segment-analytics-python clients (app servers) share the server-side traffic.
SDK_CLIENT_COUNT = 4

WINDOW = timedelta(days=14)
# Nothing is dated in the last minutes before `now`: the events must already have
# happened when the simulation sends them, whatever the clock does meanwhile.
LATEST = timedelta(minutes=3)
# A gap that surely ends a session (firstmile's default session timeout is 30 min).
SESSION_BREAK = timedelta(minutes=45)

MALFORMED_SHARE = 0.04  # of the well-formed messages
# What goes wrong in real integrations, most common first; each reason appears at least once.
MALFORMED_MIX: Mapping[QuarantineReason, float] = {
    QuarantineReason.MISSING_ID: 0.25,
    QuarantineReason.MISSING_EVENT: 0.20,
    QuarantineReason.BAD_TIMESTAMP: 0.20,
    QuarantineReason.BAD_TYPE: 0.15,
    QuarantineReason.UNKNOWN_TYPE: 0.12,
    QuarantineReason.TOO_LARGE: 0.08,
}
RETRY_SHARE = 0.06  # of the browser requests, re-posted as if the response was lost


class Persona(StrEnum):
    """The kinds of people in the population."""

    POWER_USER = "power_user"
    CASUAL_MOBILE = "casual_mobile"
    TEAM_ADMIN = "team_admin"
    HESITANT_TRIALIST = "hesitant_trialist"
    VISITOR = "visitor"

    @property
    def description(self) -> str:
        """One line a newcomer understands."""
        return _PERSONA_DESCRIPTIONS[self]


_PERSONA_DESCRIPTIONS = {
    Persona.POWER_USER: "power user exploring advanced features on desktop",
    Persona.CASUAL_MOBILE: "casual mobile user with short sessions",
    Persona.TEAM_ADMIN: "team admin who creates a workspace and invites teammates",
    Persona.HESITANT_TRIALIST: "hesitant trialist who stalls after signing up",
    Persona.VISITOR: "visitor who browses anonymously and never signs up",
}

# Shares of the population; they sum to 1.
PERSONA_WEIGHTS: Mapping[Persona, float] = {
    Persona.POWER_USER: 0.22,
    Persona.CASUAL_MOBILE: 0.30,
    Persona.TEAM_ADMIN: 0.14,
    Persona.HESITANT_TRIALIST: 0.22,
    Persona.VISITOR: 0.12,
}


@dataclass(frozen=True, slots=True)
class Country:
    """Where a person is: addresses, locale, time zones, and how they type the name."""

    code: str  # ISO 3166-1 alpha-2, what firstmile should report
    ips: tuple[str, ...]  # public addresses the offline IP database maps to `code`
    locales: tuple[str, ...]
    timezones: tuple[str, ...]  # IANA names
    spellings: tuple[str, ...]  # what people type in a "country" field
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    weight: float


COUNTRIES: tuple[Country, ...] = (
    Country(
        "US",
        ("73.15.22.9", "98.207.44.12", "71.190.3.77", "24.16.80.5"),
        ("en-US",),
        ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
        ("United States", "us", "USA", "United States of America"),
        ("James", "Olivia", "Michael", "Emma", "Ethan", "Ava", "Noah", "Sophia"),
        ("Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis", "Wilson"),
        0.24,
    ),
    Country(
        "GB",
        ("81.2.69.142", "86.1.2.3", "2.96.5.6", "90.196.5.6"),
        ("en-GB",),
        ("Europe/London",),
        ("United Kingdom", "uk", "GBR", "gb"),
        ("Oliver", "Amelia", "Harry", "Isla", "George", "Poppy"),
        ("Taylor", "Jones", "Evans", "Thomas", "Roberts", "Walker"),
        0.10,
    ),
    Country(
        "DE",
        ("80.150.6.143", "91.64.1.2", "84.128.20.33", "87.123.4.5"),
        ("de-DE",),
        ("Europe/Berlin",),
        ("Germany", "de", "DEU"),
        ("Lukas", "Mia", "Leon", "Hannah", "Felix", "Lea"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner"),
        0.10,
    ),
    Country(
        "FR",
        ("88.160.1.2", "90.80.1.2", "86.246.7.8", "82.64.12.13"),
        ("fr-FR",),
        ("Europe/Paris",),
        ("France", "fr", "FRA"),
        ("Louis", "Chloé", "Gabriel", "Léa", "Hugo", "Manon"),
        ("Martin", "Bernard", "Dubois", "Laurent", "Moreau", "Lefèvre"),
        0.08,
    ),
    Country(
        "IN",
        ("49.36.1.2", "117.192.1.2", "106.205.4.5", "122.161.6.7"),
        ("en-IN", "hi-IN"),
        ("Asia/Kolkata",),
        ("India", "in", "IND"),
        ("Aarav", "Diya", "Vihaan", "Ananya", "Arjun", "Isha"),
        ("Sharma", "Patel", "Reddy", "Iyer", "Gupta", "Nair"),
        0.10,
    ),
    Country(
        "BR",
        ("177.12.1.2", "189.6.1.2", "179.216.8.9", "200.150.3.4"),
        ("pt-BR",),
        ("America/Sao_Paulo",),
        ("Brazil", "br", "BRA"),
        ("Miguel", "Alice", "Arthur", "Laura", "Heitor", "Valentina"),
        ("Silva", "Santos", "Oliveira", "Souza", "Costa", "Pereira"),
        0.07,
    ),
    Country(
        "JP",
        ("126.1.2.3", "153.150.1.2", "60.112.3.4", "133.106.5.6"),
        ("ja-JP",),
        ("Asia/Tokyo",),
        ("Japan", "jp", "JPN"),
        ("Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi"),
        ("Sato", "Suzuki", "Takahashi", "Tanaka", "Ito", "Watanabe"),
        0.06,
    ),
    Country(
        "CA",
        ("99.224.1.2", "24.114.1.2", "70.48.5.6", "142.112.7.8"),
        ("en-CA", "fr-CA"),
        ("America/Toronto", "America/Vancouver", "America/Montreal"),
        ("Canada", "ca", "CAN"),
        ("Liam", "Charlotte", "Lucas", "Chloe", "Logan", "Zoe"),
        ("Tremblay", "Roy", "Gagnon", "MacDonald", "Campbell", "Lee"),
        0.07,
    ),
    Country(
        "AU",
        ("1.120.1.2", "101.160.1.2", "49.180.3.4", "110.20.5.6"),
        ("en-AU",),
        ("Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane"),
        ("Australia", "au", "AUS"),
        ("Jack", "Matilda", "William", "Ruby", "Thomas", "Mia"),
        ("Nguyen", "Kelly", "Ryan", "Murphy", "Mitchell", "Clarke"),
        0.06,
    ),
    Country(
        "NL",
        ("145.53.1.2", "84.80.1.2", "77.160.3.4", "62.45.5.6"),
        ("nl-NL",),
        ("Europe/Amsterdam",),
        ("Netherlands", "nl", "Holland", "The Netherlands"),
        ("Daan", "Emma", "Sem", "Julia", "Finn", "Tess"),
        ("de Jong", "Jansen", "de Vries", "van Dijk", "Bakker", "Visser"),
        0.05,
    ),
    Country(
        "ES",
        ("83.32.1.2", "88.0.1.2", "79.152.3.4", "95.16.5.6"),
        ("es-ES",),
        ("Europe/Madrid",),
        ("Spain", "es", "ESP"),
        ("Hugo", "Lucía", "Martín", "Sofía", "Pablo", "Martina"),
        ("García", "Fernández", "González", "Rodríguez", "López", "Sánchez"),
        0.04,
    ),
    Country(
        "SE",
        ("81.224.1.2", "78.72.1.2", "90.224.3.4", "83.250.5.6"),
        ("sv-SE",),
        ("Europe/Stockholm",),
        ("Sweden", "se", "SWE"),
        ("William", "Alice", "Liam", "Maja", "Elias", "Elsa"),
        ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson"),
        0.03,
    ),
)


@dataclass(frozen=True, slots=True)
class Device:
    """A browser on a device, with what firstmile should derive from its user agent."""

    kind: Literal["desktop", "mobile"]
    os: str  # as firstmile reports it
    browser: str  # as firstmile reports it (uap-core's family)
    user_agent: str  # a real User-Agent header


# Real user agents of current browsers (early 2024 versions).
DESKTOP_DEVICES: tuple[Device, ...] = (
    Device(
        "desktop",
        "Windows",
        "Chrome",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
    ),
    Device(
        "desktop",
        "macOS",
        "Chrome",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
    ),
    Device(
        "desktop",
        "Linux",
        "Chrome",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
    ),
    Device(
        "desktop",
        "Windows",
        "Firefox",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    ),
    Device(
        "desktop",
        "macOS",
        "Firefox",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0",
    ),
    Device(
        "desktop",
        "Ubuntu",
        "Firefox",
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    ),
    Device(
        "desktop",
        "macOS",
        "Safari",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4.1 Safari/605.1.15",
    ),
    Device(
        "desktop",
        "Windows",
        "Edge",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
    ),
)

MOBILE_DEVICES: tuple[Device, ...] = (
    Device(
        "mobile",
        "iOS",
        "Mobile Safari",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
    ),
    Device(
        "mobile",
        "iOS",
        "Mobile Safari",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_7_8 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
    ),
    Device(
        "mobile",
        "Android",
        "Chrome Mobile",
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36",
    ),
    Device(
        "mobile",
        "Android",
        "Chrome Mobile",
        "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.6367.82 Mobile Safari/537.36",
    ),
    Device(
        "mobile",
        "Android",
        "Chrome Mobile",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.6367.113 Mobile Safari/537.36",
    ),
)

# Power users explore on Chrome or Firefox; Safari and Edge show up with the others.
_POWER_DEVICES = tuple(d for d in DESKTOP_DEVICES if d.browser in ("Chrome", "Firefox"))

# Consent-banner vocabularies: different consent tools name the same purposes
# differently; firstmile maps them all (see firstmile.events.consent.CATEGORY_ALIASES).
_CONSENT_VOCABULARIES: tuple[dict[str, str], ...] = (
    {"analytics": "Analytics", "personalization": "Functional", "marketing": "Advertising"},
    {"analytics": "performance", "personalization": "personalization", "marketing": "marketing"},
    {"analytics": "Statistics", "personalization": "Preferences", "marketing": "Targeting"},
)

_COMPANIES = (
    "Acme Analytics",
    "Northwind Traders",
    "Globex",
    "Initech",
    "Umbrella Labs",
    "Hooli",
    "Stark Logistics",
    "Tyrell Systems",
    "Vandelay Imports",
    "Pied Piper",
    "Aperture Science",
    "Massive Dynamic",
    "Wonka Industries",
    "Monarch Health",
    "Blue Sun Media",
    "Soylent Studio",
    "Gringotts Finance",
    "Oceanic Air",
)
_PERSONAL_DOMAINS = ("gmail.com", "outlook.com", "icloud.com", "yahoo.com", "proton.me")
_ROLES = ("Engineer", "Product Manager", "Founder", "Designer", "Data Analyst", "Marketer")

_STEPS = (
    "Create your profile",
    "Connect a data source",
    "Invite your team",
    "Build your first dashboard",
    "Set up alerts",
)
_ADVANCED_FEATURES = ("SQL Editor", "API Keys", "Webhooks", "Custom Dashboards", "Automations")
_BASIC_FEATURES = ("Templates", "Quick Add", "Search", "Mobile Capture", "Reminders")
_ADMIN_FEATURES = ("Permissions", "Billing", "Audit Log", "SSO Settings")
_INTEGRATIONS = ("Slack", "GitHub", "Google Drive", "Salesforce", "Jira")
_TUTORIALS = ("Getting started", "Your first dashboard", "Working with your team", "Using the API")
_MARKETING_PAGES = (
    ("/features", "Features"),
    ("/pricing", "Pricing"),
    ("/customers", "Customers"),
    ("/blog/onboarding-that-works", "Onboarding that works"),
    ("/docs/getting-started", "Getting started"),
)
_APP_PAGES = (("/app", "Home"), ("/app/dashboards", "Dashboards"), ("/app/settings", "Settings"))
_REFERRERS = ("https://www.google.com/", "https://news.ycombinator.com/", "", "", "")
_SITE = "https://www.example.com"
_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


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
            "timestamp": _iso(self.timestamp),
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


def _ascii(text: str) -> str:
    # Email local parts are ASCII in practice: "Lefèvre" signs up as "lefevre".
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _iso(at: datetime) -> str:
    # What analytics.js sends: UTC with milliseconds and a Z.
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Builder:
    """Draws one population; all randomness goes through ``self.rng``."""

    def __init__(self, seed: int, now: datetime) -> None:
        # Reproducible simulation data, not security: a seeded PRNG is what we want.
        self.rng = random.Random(seed)  # noqa: S311
        self.now = now.astimezone(UTC)
        self.start = self.now - WINDOW
        self.latest = self.now - LATEST
        self.user_ids: set[str] = set()

    # -- small draws -------------------------------------------------------------------------

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def sdk_message_id(self) -> str:
        return self.uuid4()  # segment-analytics-python uses uuid4

    def browser_message_id(self) -> str:
        return f"ajs-next-{self.rng.getrandbits(128):032x}"  # analytics-next's prefix

    def user_id(self) -> str:
        while True:
            candidate = "usr_" + "".join(self.rng.choice(_ID_ALPHABET) for _ in range(8))
            if candidate not in self.user_ids:
                self.user_ids.add(candidate)
                return candidate

    def minutes(self, low: float, high: float) -> timedelta:
        return timedelta(minutes=self.rng.uniform(low, high))

    def hours(self, low: float, high: float) -> timedelta:
        return timedelta(hours=self.rng.uniform(low, high))

    def weighted(self, options: Sequence[T], weights: Sequence[float]) -> T:
        return self.rng.choices(options, weights=weights, k=1)[0]

    # -- a person ----------------------------------------------------------------------------

    def persona(self) -> Persona:
        personas = list(PERSONA_WEIGHTS)
        return self.weighted(personas, [PERSONA_WEIGHTS[p] for p in personas])

    def device(self, persona: Persona) -> Device:
        if persona is Persona.POWER_USER:
            return self.rng.choice(_POWER_DEVICES)
        if persona is Persona.CASUAL_MOBILE:
            return self.rng.choice(MOBILE_DEVICES)
        if persona is Persona.TEAM_ADMIN:
            return self.rng.choice(DESKTOP_DEVICES)
        mobile_share = 0.5 if persona is Persona.HESITANT_TRIALIST else 0.4
        pool = MOBILE_DEVICES if self.rng.random() < mobile_share else DESKTOP_DEVICES
        return self.rng.choice(pool)

    def consent(self) -> dict[str, bool]:
        """Most people ignore the banner; the others answer all three purposes."""
        deny_analytics = self.rng.random() < 0.13
        deny_personalization = self.rng.random() < 0.10
        grant_marketing = self.rng.random() < 0.18
        if not (deny_analytics or deny_personalization or grant_marketing):
            return {}
        return {
            "analytics": not deny_analytics,
            "personalization": not deny_personalization,
            "marketing": grant_marketing,
        }

    def build_person(self, index: int, persona: Persona) -> Person:
        rng = self.rng
        country = self.weighted(COUNTRIES, [c.weight for c in COUNTRIES])
        locale = rng.choice(country.locales)
        timezone = rng.choice(country.timezones)
        if rng.random() < 0.1:
            # Some clients send sloppy values; firstmile canonicalizes them.
            locale, timezone = locale.replace("-", "_").lower(), timezone.lower()
        consent = self.consent()
        vocabulary = rng.choice(_CONSENT_VOCABULARIES)
        preferences: JSONObject = {vocabulary[p]: granted for p, granted in consent.items()}
        person = _PersonBuilder(
            self,
            index=index,
            persona=persona,
            country=country,
            ip=rng.choice(country.ips),
            locale=locale,
            timezone=timezone,
            device=self.device(persona),
            consent=consent,
            preferences=preferences,
        )
        return person.build()

    # -- malformed messages ------------------------------------------------------------------

    def malformed(self, count: int, people: Sequence[Person]) -> tuple[Malformed, ...]:
        known = [p.user_id for p in people if p.user_id is not None] or ["usr_unknown"]
        reasons = _malformed_reasons(count)
        self.rng.shuffle(reasons)
        return tuple(self.malformed_one(reason, self.rng.choice(known)) for reason in reasons)

    def malformed_one(self, reason: QuarantineReason, user_id: str) -> Malformed:
        at = self.start + (self.latest - self.start) * self.rng.random()
        base: dict[str, Any] = {
            "type": "track",
            "messageId": self.uuid4(),
            "timestamp": _iso(at),
            "userId": user_id,
            "anonymousId": None,
            "event": "Used Feature",
            "properties": {"feature": self.rng.choice(_BASIC_FEATURES)},
            "context": {"library": {"name": "billing-sync", "version": "0.3.1"}},
        }
        if reason is QuarantineReason.MISSING_ID:
            base["userId"] = None  # the integration lost track of who it was about
            return Malformed(reason, "track with neither userId nor anonymousId", base)
        if reason is QuarantineReason.MISSING_EVENT:
            if self.rng.random() < 0.5:
                del base["event"]
            else:
                base["event"] = ""
            return Malformed(reason, "track without an event name", base)
        if reason is QuarantineReason.BAD_TIMESTAMP:
            base["timestamp"] = self.rng.choice(
                ("31/12/2025 14:03", "2026-02-30T10:00:00Z", "yesterday", "Tue 3 Jun, 10am")
            )
            return Malformed(reason, "timestamp that is not a date-time", base)
        if reason is QuarantineReason.BAD_TYPE:
            base["properties"] = "feature=Templates&plan=pro"  # a query string, not an object
            return Malformed(reason, "properties sent as a string", base)
        if reason is QuarantineReason.TOO_LARGE:
            base["event"] = "Exported Report"
            # A whole report pasted into a property: over the 32 KB message limit.
            base["properties"] = {
                "format": "csv",
                "rows": "date,visits\n" + "2026-01-01,1\n" * 3200,
            }
            return Malformed(reason, "message over 32 KB", base)
        base["type"] = self.rng.choice(("purchase", "pageview", "event"))
        return Malformed(reason, "unknown message type", base)


@dataclass(frozen=True, slots=True)
class _Session:
    """A browser visit: when it starts, on which device, under which cookie."""

    start: datetime
    device: Device
    anonymous_id: str


class _PersonBuilder:
    """The timeline of one person: sessions, and the messages each sends."""

    def __init__(
        self,
        world: _Builder,
        *,
        index: int,
        persona: Persona,
        country: Country,
        ip: str,
        locale: str,
        timezone: str,
        device: Device,
        consent: dict[str, bool],
        preferences: JSONObject,
    ) -> None:
        self.world = world
        self.rng = world.rng
        self.index = index
        self.persona = persona
        self.country = country
        self.ip = ip
        self.locale = locale
        self.timezone = timezone
        self.device = device
        self.consent = consent
        self.preferences = preferences
        # analytics-next either posts each event (/v1/p, /v1/t) or batches (/v1/b).
        self.batching = self.rng.random() < 0.35
        self.sdk_client = self.rng.randrange(SDK_CLIENT_COUNT)
        self.anonymous_ids: list[str] = []
        self.browser_requests: list[BrowserRequest] = []
        self.sdk_messages: list[Message] = []
        self.second_requests: list[BrowserRequest] = []
        self.user_id: str | None = None
        self.previous_user_id: str | None = None
        self.second_device: Device | None = None

    # -- contexts ----------------------------------------------------------------------------

    def _consent_context(self, context: JSONObject) -> JSONObject:
        if self.preferences:
            # A consent tool stamps every event with the banner's answer.
            context["consent"] = {"categoryPreferences": dict(self.preferences)}
        return context

    def browser_context(self, device: Device, path: str, title: str) -> JSONObject:
        referrer = self.rng.choice(_REFERRERS)
        return self._consent_context(
            {
                "library": {"name": "analytics.js", "version": "npm:next-1.70.0"},
                "userAgent": device.user_agent,
                "locale": self.locale,
                "timezone": self.timezone,
                "page": {
                    "path": path,
                    "url": _SITE + path,
                    "title": title,
                    "referrer": referrer,
                    "search": "",
                },
            }
        )

    def server_context(self, device: Device) -> JSONObject:
        # A backend forwards what it knows about the user's request.
        return self._consent_context(
            {
                "ip": self.ip,
                "userAgent": device.user_agent,
                "locale": self.locale,
                "timezone": self.timezone,
            }
        )

    # -- browser traffic ---------------------------------------------------------------------

    def browser_session(
        self,
        session: _Session,
        pages: Sequence[tuple[str, str]],
        *,
        tracks: Sequence[tuple[str, JSONObject]] = (),
        login: str | None = None,
        spacing: tuple[float, float] = (0.5, 4.0),
    ) -> tuple[list[BrowserRequest], datetime]:
        """Page views, then (optionally) a login identify, then tracks: one browser visit.

        Returns the requests analytics.js sends for it and the time the visit ends.
        """
        at = session.start
        messages: list[tuple[BrowserEndpoint, Message]] = []
        last_page = pages[-1] if pages else ("/", "Home")
        user_id: str | None = None
        for path, title in pages:
            messages.append(
                (
                    "p",
                    Message(
                        "page",
                        self.world.browser_message_id(),
                        at,
                        anonymous_id=session.anonymous_id,
                        name=title,
                        properties={"path": path, "url": _SITE + path, "title": title},
                        context=self.browser_context(session.device, path, title),
                    ),
                )
            )
            at += self.world.minutes(*spacing)
        if login is not None:
            user_id = login
            messages.append(
                (
                    "i",
                    Message(
                        "identify",
                        self.world.browser_message_id(),
                        at,
                        user_id=login,
                        anonymous_id=session.anonymous_id,
                        context=self.browser_context(session.device, *last_page),
                    ),
                )
            )
            at += self.world.minutes(*spacing)
        for event, properties in tracks:
            messages.append(
                (
                    "t",
                    Message(
                        "track",
                        self.world.browser_message_id(),
                        at,
                        user_id=user_id,
                        anonymous_id=session.anonymous_id,
                        event=event,
                        properties=properties,
                        context=self.browser_context(session.device, *last_page),
                    ),
                )
            )
            at += self.world.minutes(*spacing)
        if self.batching:
            requests = [
                BrowserRequest(
                    "b",
                    tuple(message for _, message in messages),
                    self.ip,
                    session.device.user_agent,
                    retried=self.rng.random() < RETRY_SHARE,
                )
            ]
        else:
            requests = [
                BrowserRequest(
                    endpoint,
                    (message,),
                    self.ip,
                    session.device.user_agent,
                    retried=self.rng.random() < RETRY_SHARE,
                )
                for endpoint, message in messages
            ]
        return requests, at

    def new_anonymous_id(self) -> str:
        anonymous_id = self.world.uuid4()
        self.anonymous_ids.append(anonymous_id)
        return anonymous_id

    # -- server-side traffic -----------------------------------------------------------------

    def sdk(self, kind: MessageType, at: datetime, **fields: Any) -> None:
        fields.setdefault("user_id", self.user_id)
        self.sdk_messages.append(
            Message(
                kind,
                self.world.sdk_message_id(),
                at,
                context=self.server_context(self.device),
                **fields,
            )
        )

    def track(self, at: datetime, event: str, **properties: Any) -> datetime:
        self.sdk("track", at, event=event, properties=properties)
        return at + self.world.minutes(0.5, 5)

    def page(self, at: datetime, path: str, title: str) -> datetime:
        self.sdk("page", at, name=title, properties={"path": path, "url": _SITE + path})
        return at + self.world.minutes(0.5, 4)

    # -- the timeline ------------------------------------------------------------------------

    def build(self) -> Person:
        world, rng = self.world, self.rng
        if self.persona is Persona.VISITOR:
            self.visitor()
        else:
            # Sign-up a day or more into the window (room for an earlier visit) and two
            # hours or more before its end (room for the sign-up session).
            signup = (
                world.start
                + timedelta(days=1)
                + (world.latest - world.start - timedelta(days=1, hours=2)) * rng.random()
            )
            anonymous_id = self.before_signup(signup)
            self.user_id = world.user_id()
            self.signup(signup, anonymous_id)
        return Person(
            index=self.index,
            persona=self.persona,
            user_id=self.user_id,
            previous_user_id=self.previous_user_id,
            anonymous_ids=tuple(self.anonymous_ids),
            country=self.country,
            ip=self.ip,
            locale=self.locale,
            timezone=self.timezone,
            device=self.device,
            second_device=self.second_device,
            consent=dict(self.consent),
            sdk_client=self.sdk_client,
            browser_requests=tuple(self.browser_requests),
            sdk_messages=tuple(self.sdk_messages),
            second_device_requests=tuple(self.second_requests),
        )

    def visitor(self) -> None:
        world, rng = self.world, self.rng
        anonymous_id = self.new_anonymous_id()
        at = world.start + (world.latest - world.start) * rng.random() * 0.7
        for _ in range(rng.randint(1, 3)):
            if at >= world.latest:
                break
            pages = [("/", "Home"), *rng.sample(_MARKETING_PAGES, rng.randint(1, 3))]
            tracks: list[tuple[str, JSONObject]] = []
            if rng.random() < 0.4:
                tracks.append(("Viewed Pricing Calculator", {"seats": rng.randint(1, 50)}))
            requests, end = self.browser_session(
                _Session(at, self.device, anonymous_id), pages, tracks=tracks
            )
            if end >= world.latest:
                break
            self.browser_requests.extend(requests)
            at = end + self.hours_between_visits()
        if not self.browser_requests:
            # Always at least one visit, squeezed in before `now`.
            requests, _ = self.browser_session(
                _Session(world.latest - timedelta(minutes=30), self.device, anonymous_id),
                [("/", "Home"), ("/pricing", "Pricing")],
                spacing=(0.5, 2),
            )
            self.browser_requests.extend(requests)

    def hours_between_visits(self) -> timedelta:
        return self.world.hours(6, 96)

    def before_signup(self, signup: datetime) -> str | None:
        """Anonymous browsing by the browser that will sign up, if any."""
        rng, world = self.rng, self.world
        share = {
            Persona.POWER_USER: 0.7,
            Persona.CASUAL_MOBILE: 0.8,
            Persona.TEAM_ADMIN: 0.6,
            Persona.HESITANT_TRIALIST: 0.85,
        }[self.persona]
        if rng.random() >= share:
            return None  # signed up straight from an invitation or an ad landing page
        anonymous_id = self.new_anonymous_id()
        earlier = signup - timedelta(days=rng.uniform(1, 5))
        if rng.random() < 0.3 and earlier > world.start:
            requests, _ = self.browser_session(
                _Session(earlier, self.device, anonymous_id),
                [("/", "Home"), *rng.sample(_MARKETING_PAGES, 2)],
            )
            self.browser_requests.extend(requests)
        pages = [("/", "Home"), rng.choice(_MARKETING_PAGES[:2]), ("/signup", "Sign up")]
        # The same visit ends with the sign-up: it starts a few minutes before it.
        start = signup - timedelta(minutes=4 * len(pages) + 6)
        requests, _ = self.browser_session(
            _Session(start, self.device, anonymous_id),
            pages,
            tracks=[("Clicked Sign Up", {"location": pages[1][0]})],
            spacing=(0.5, 4),
        )
        self.browser_requests.extend(requests)
        return anonymous_id

    def traits(self, signup: datetime) -> JSONObject:
        rng = self.rng
        first = rng.choice(self.country.first_names)
        last = rng.choice(self.country.last_names)
        company = rng.choice(_COMPANIES)
        business = self.persona in (Persona.POWER_USER, Persona.TEAM_ADMIN) or rng.random() < 0.3
        local = _ascii(f"{first}.{last}".replace(" ", ""))
        domain = company.split()[0].lower() + ".com" if business else rng.choice(_PERSONAL_DOMAINS)
        # Forms deliver emails with stray spaces and capitals; firstmile trims and lowercases.
        email = rng.choice(
            (
                f"{local}@{domain}",
                f" {local}@{domain.upper()}",
                f"{local.lower()}@{domain} ",
                f"  {local.upper()}@{domain}",
            )
        )
        traits: JSONObject = {
            "email": email,
            "name": f"{first} {last}",
            "plan": "trial",
            "role": rng.choice(_ROLES),
            "country": rng.choice(self.country.spellings),
            "createdAt": _iso(signup),
        }
        if business:
            traits["company"] = {"name": company, "employee_count": rng.choice((8, 25, 120, 900))}
        if self.persona is Persona.TEAM_ADMIN:
            traits["role"] = "Admin"
            traits["team_size"] = str(rng.randint(3, 40))  # a form field: a numeric string
        return traits

    def signup(self, signup: datetime, anonymous_id: str | None) -> None:
        rng, world = self.rng, self.world
        traits = self.traits(signup)
        alias_later = (
            self.persona in (Persona.POWER_USER, Persona.TEAM_ADMIN) and rng.random() < 0.03
        )
        final_user_id = self.user_id
        if alias_later:
            # An older app version used the email as the user id; it is renamed later.
            self.previous_user_id = str(traits["email"]).strip().lower()
            self.user_id = self.previous_user_id
        self.sdk("identify", signup, anonymous_id=anonymous_id, traits=traits)
        at = signup + timedelta(seconds=rng.randint(2, 20))
        at = self.track(at, "Signed Up", method=rng.choice(("email", "google", "github")))
        at = self.signup_session(at)

        sessions = self.later_session_count()
        device_switch = (
            self.persona in (Persona.POWER_USER, Persona.CASUAL_MOBILE)
            and not alias_later
            and rng.random() < 0.18
        )
        done = 0
        while done < sessions:
            start = at + max(SESSION_BREAK, self.gap())
            # Room for the longest session (about 35 min) before `latest`.
            if start >= world.latest - timedelta(minutes=60):
                break
            if alias_later and done == sessions // 2:
                self.sdk("alias", start, user_id=final_user_id, previous_id=self.user_id)
                self.user_id = final_user_id
                start += timedelta(seconds=5)
            at = self.later_session(start, done)
            done += 1
        if alias_later and self.user_id != final_user_id:
            # No session came after sign-up: the rename happens on its own.
            rename_at = min(at + SESSION_BREAK, world.latest - timedelta(minutes=1))
            self.sdk("alias", rename_at, user_id=final_user_id, previous_id=self.user_id)
            self.user_id = final_user_id
        if device_switch:
            self.other_device(at)

    def later_session_count(self) -> int:
        rng = self.rng
        if self.persona is Persona.POWER_USER:
            return rng.randint(3, 7)
        if self.persona is Persona.CASUAL_MOBILE:
            return rng.randint(1, 4)
        if self.persona is Persona.TEAM_ADMIN:
            return rng.randint(2, 5)
        return 1 if rng.random() < 0.4 else 0

    def gap(self) -> timedelta:
        """Time between two sessions: hours for engaged people, days for hesitant ones."""
        world = self.world
        if self.persona is Persona.POWER_USER:
            return world.hours(2, 40)
        if self.persona is Persona.CASUAL_MOBILE:
            return world.hours(5, 72)
        if self.persona is Persona.TEAM_ADMIN:
            return world.hours(3, 48)
        return world.hours(72, 168)

    def signup_session(self, at: datetime) -> datetime:
        rng = self.rng
        if self.persona is Persona.POWER_USER:
            at = self.track(at, "Completed Step", step=1, step_name=_STEPS[0])
            at = self.track(at, "Completed Step", step=2, step_name=_STEPS[1])
            at = self.track(at, "Used Feature", feature=rng.choice(_ADVANCED_FEATURES))
            if rng.random() < 0.5:
                at = self.track(at, "Dismissed Checklist", steps_completed=2)
            return at
        if self.persona is Persona.CASUAL_MOBILE:
            at = self.track(at, "Completed Step", step=1, step_name=_STEPS[0])
            if rng.random() < 0.5:
                at = self.track(at, "Viewed Tutorial", tutorial=_TUTORIALS[0], percent=50)
            return at
        if self.persona is Persona.TEAM_ADMIN:
            company = self.sdk_messages[0].traits.get("company")
            name = company.get("name") if isinstance(company, dict) else None
            workspace = str(name or "My team")
            group_id = "grp_" + workspace.lower().replace(" ", "-") + f"-{self.index}"
            at = self.track(at, "Created Workspace", workspace_name=workspace)
            self.sdk(
                "group",
                at,
                group_id=group_id,
                traits={"name": workspace, "plan": "trial", "employees": str(rng.randint(5, 500))},
            )
            at += self.world.minutes(0.2, 1)
            at = self.track(at, "Completed Step", step=1, step_name=_STEPS[0])
            for _ in range(rng.randint(1, 4)):
                at = self.invite(at)
            return self.track(at, "Completed Step", step=3, step_name=_STEPS[2])
        # A hesitant trialist: signs up, looks around a little, leaves.
        if rng.random() < 0.5:
            at = self.track(at, "Completed Step", step=1, step_name=_STEPS[0])
        return at

    def invite(self, at: datetime) -> datetime:
        rng = self.rng
        colleague = _ascii(rng.choice(self.country.first_names)).lower()
        return self.track(
            at,
            "Invited Teammate",
            invitee_email=f"{colleague}@{rng.choice(_COMPANIES).split()[0].lower()}.com",
            invitee_role=rng.choice(("member", "member", "admin", "viewer")),
        )

    def later_session(self, at: datetime, number: int) -> datetime:
        rng = self.rng
        if self.persona is Persona.POWER_USER:
            at = self.page(at, *rng.choice(_APP_PAGES))
            for _ in range(rng.randint(1, 4)):
                at = self.track(at, "Used Feature", feature=rng.choice(_ADVANCED_FEATURES))
            if rng.random() < 0.3:
                at = self.track(at, "Created Project", template=rng.choice(("blank", "sales")))
            if number == 0 and rng.random() < 0.5:
                at = self.track(at, "Viewed Tutorial", tutorial=_TUTORIALS[3], percent=100)
            return at
        if self.persona is Persona.CASUAL_MOBILE:
            at = self.page(at, "/app", "Home")
            for _ in range(rng.randint(0, 2)):
                at = self.track(at, "Used Feature", feature=rng.choice(_BASIC_FEATURES))
            return at
        if self.persona is Persona.TEAM_ADMIN:
            at = self.page(at, *rng.choice(_APP_PAGES))
            if rng.random() < 0.5:
                at = self.invite(at)
            if rng.random() < 0.5:
                at = self.track(at, "Connected Integration", integration=rng.choice(_INTEGRATIONS))
            at = self.track(at, "Used Feature", feature=rng.choice(_ADMIN_FEATURES))
            if number == 1 and rng.random() < 0.4:
                at = self.track(at, "Upgraded Plan", from_plan="trial", to_plan="team", seats="5")
                self.sdk("identify", at, traits={"plan": "team"})
                at += self.world.minutes(0.1, 1)
            return at
        # Hesitant: one late look at the pricing page and a tutorial.
        at = self.page(at, "/pricing", "Pricing")
        return self.track(at, "Viewed Tutorial", tutorial=_TUTORIALS[0], percent=20)

    def other_device(self, last: datetime) -> None:
        """Browse anonymously on another device, then log in there (a profile merge)."""
        world, rng = self.world, self.rng
        start = last + max(SESSION_BREAK, self.gap())
        if start >= world.latest - timedelta(minutes=20):
            start = last + SESSION_BREAK
        if start >= world.latest - timedelta(minutes=20):
            return  # no time left for another visit
        device = (
            rng.choice(MOBILE_DEVICES)
            if self.device.kind == "desktop"
            else rng.choice(_POWER_DEVICES)
        )
        features = _ADVANCED_FEATURES if self.persona is Persona.POWER_USER else _BASIC_FEATURES
        requests, _ = self.browser_session(
            _Session(start, device, self.new_anonymous_id()),
            [("/", "Home"), ("/login", "Log in")],
            login=self.user_id,
            tracks=[("Used Feature", {"feature": rng.choice(features)})],
            spacing=(0.3, 2),
        )
        self.second_device = device
        self.second_requests.extend(requests)


def _malformed_reasons(count: int) -> list[QuarantineReason]:
    """``count`` reasons split by :data:`MALFORMED_MIX` (largest remainder, each at least 1)."""
    reasons = list(MALFORMED_MIX)
    count = max(count, len(reasons))
    spare = count - len(reasons)
    shares = {reason: spare * MALFORMED_MIX[reason] for reason in reasons}
    counts = {reason: 1 + int(shares[reason]) for reason in reasons}
    by_remainder = sorted(reasons, key=lambda r: shares[r] - int(shares[r]), reverse=True)
    for reason in by_remainder[: count - sum(counts.values())]:
        counts[reason] += 1
    return [reason for reason in reasons for _ in range(counts[reason])]


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
    world = _Builder(seed, now)
    # Every persona appears from 5 people on, so even small demos show each kind.
    personas = list(PERSONA_WEIGHTS)[: min(users, len(PERSONA_WEIGHTS))]
    personas += [world.persona() for _ in range(users - len(personas))]
    world.rng.shuffle(personas)
    people = tuple(world.build_person(index, persona) for index, persona in enumerate(personas))
    well_formed = sum(1 for person in people for _ in person.messages())
    malformed = world.malformed(round(well_formed * MALFORMED_SHARE), people)
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
