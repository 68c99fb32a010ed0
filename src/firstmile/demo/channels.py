"""How one person's messages are made and sent: by the browser, and by the app's backend.

The browser runs analytics.js, which posts single events (``/v1/p``, ``/v1/t``,
``/v1/i``) or batches (``/v1/b``) and sometimes re-posts a request whose response was
lost. The backend tracks server side with segment-analytics-python. Each stamps its
messages with what it knows (user agent, locale, time zone, address) and with the
consent banner's answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from firstmile.demo.catalog import REFERRERS, SITE
from firstmile.demo.devices import Device
from firstmile.demo.model import BrowserEndpoint, BrowserRequest, Message, MessageType
from firstmile.demo.world import World
from firstmile.types import JSONObject

__all__ = ["RETRY_SHARE", "SDK_CLIENT_COUNT", "Channels", "Session"]

#: How many segment-analytics-python clients (app servers) share the server-side traffic.
SDK_CLIENT_COUNT = 4

RETRY_SHARE = 0.06  # of the browser requests, re-posted as if the response was lost


@dataclass(frozen=True, slots=True)
class Session:
    """A browser visit: when it starts, on which device, under which cookie."""

    start: datetime
    device: Device
    anonymous_id: str


class Channels:
    """The messages about one person, as their browser and the app's backend make them.

    ``user_id`` is who the backend's calls are about; :meth:`alias` changes it.
    """

    def __init__(
        self,
        world: World,
        *,
        ip: str,
        locale: str,
        timezone: str,
        device: Device,
        preferences: JSONObject,
    ) -> None:
        self.world = world
        self.rng = world.rng
        self.ip = ip
        self.locale = locale
        self.timezone = timezone
        self.device = device
        self.preferences = preferences
        # analytics-next either posts each event (/v1/p, /v1/t) or batches (/v1/b).
        self.batching = self.rng.random() < 0.35
        self.sdk_client = self.rng.randrange(SDK_CLIENT_COUNT)
        self.user_id: str | None = None
        self.sdk_messages: list[Message] = []

    # -- contexts ----------------------------------------------------------------------------

    def _consent_context(self, context: JSONObject) -> JSONObject:
        if self.preferences:
            # A consent tool stamps every event with the banner's answer.
            context["consent"] = {"categoryPreferences": dict(self.preferences)}
        return context

    def browser_context(self, device: Device, path: str, title: str) -> JSONObject:
        referrer = self.rng.choice(REFERRERS)
        return self._consent_context(
            {
                "library": {"name": "analytics.js", "version": "npm:next-1.70.0"},
                "userAgent": device.user_agent,
                "locale": self.locale,
                "timezone": self.timezone,
                "page": {
                    "path": path,
                    "url": SITE + path,
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

    # -- the browser -------------------------------------------------------------------------

    def browser_session(
        self,
        session: Session,
        pages: Sequence[tuple[str, str]],
        *,
        tracks: Sequence[tuple[str, JSONObject]] = (),
        login: str | None = None,
        spacing: tuple[float, float] = (0.5, 4.0),
    ) -> tuple[list[BrowserRequest], datetime]:
        """Page views, then (optionally) a login identify, then tracks: one browser visit.

        Returns the requests analytics.js sends for it and the time the visit ends.
        """
        last_page = pages[-1] if pages else ("/", "Home")
        # Each call: the route it goes to, the page it is made on, its type and fields.
        calls: list[tuple[BrowserEndpoint, tuple[str, str], MessageType, dict[str, Any]]] = [
            (
                "p",
                (path, title),
                "page",
                {"name": title, "properties": {"path": path, "url": SITE + path, "title": title}},
            )
            for path, title in pages
        ]
        if login is not None:
            calls.append(("i", last_page, "identify", {"user_id": login}))
        calls += [
            ("t", last_page, "track", {"user_id": login, "event": event, "properties": properties})
            for event, properties in tracks
        ]
        at = session.start
        messages: list[tuple[BrowserEndpoint, Message]] = []
        for endpoint, (path, title), kind, fields in calls:
            message_id = self.world.browser_message_id()
            context = self.browser_context(session.device, path, title)
            message = Message(
                kind, message_id, at, anonymous_id=session.anonymous_id, context=context, **fields
            )
            messages.append((endpoint, message))
            at += self.world.minutes(*spacing)
        batches = [messages] if self.batching else [[sent] for sent in messages]
        requests = [
            BrowserRequest(
                "b" if self.batching else batch[0][0],
                tuple(message for _, message in batch),
                self.ip,
                session.device.user_agent,
                retried=self.rng.random() < RETRY_SHARE,
            )
            for batch in batches
        ]
        return requests, at

    # -- the backend -------------------------------------------------------------------------

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
        self.sdk("page", at, name=title, properties={"path": path, "url": SITE + path})
        return at + self.world.minutes(0.5, 4)

    def alias(self, at: datetime, user_id: str) -> None:
        """Rename the user: from now on, the backend's calls are about ``user_id``."""
        self.sdk("alias", at, user_id=user_id, previous_id=self.user_id)
        self.user_id = user_id
