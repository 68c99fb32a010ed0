"""Validate one raw message and turn it into an :class:`~firstmile.events.model.Event`.

:func:`to_event` is the per-item stage of the pipeline: validate, normalize, enrich.
It never raises for bad input; it returns a :class:`~firstmile.events.model.Rejection`
naming the reason, the field and what to send instead, and the caller quarantines it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from firstmile.events.consent import stated_consent
from firstmile.events.enrich import enrich
from firstmile.events.model import EVENT_TYPES, Event, EventType, QuarantineReason, Rejection
from firstmile.events.normalize import normalize_properties, normalize_traits, parse_timestamp

MAX_MESSAGE_ID_LENGTH = 100


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What the server knows about the request that carried a message."""

    received_at: datetime
    ip: str | None = None
    user_agent: str | None = None
    browser: bool = False  # analytics.js-style traffic: take context.ip from the request
    max_message_bytes: int = 32 * 1024
    coerce: bool = True


class _Invalid(Exception):
    def __init__(self, reason: QuarantineReason, message: str, field: str | None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.field = field


def _id(item: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = item.get(key)
    if value is None or value == "":
        if required:
            raise _Invalid(
                QuarantineReason.MISSING_FIELD, f"`{key}` is required for this call.", key
            )
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Invalid(
            QuarantineReason.BAD_TYPE,
            f"`{key}` must be a string (got {type(value).__name__}).",
            key,
        )
    # Client libraries send numeric ids as strings; accept numbers the same way.
    return value if isinstance(value, str) else str(value)


def _object(item: dict[str, Any], key: str) -> dict[str, Any]:
    value = item.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Invalid(
            QuarantineReason.BAD_TYPE,
            f"`{key}` must be a JSON object (got {type(value).__name__}).",
            key,
        )
    return value


def _text(item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid(
            QuarantineReason.BAD_TYPE,
            f"`{key}` must be a string (got {type(value).__name__}).",
            key,
        )
    return value


def _time(item: dict[str, Any], key: str) -> datetime | None:
    value = item.get(key)
    if value is None or value == "":
        return None
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise _Invalid(QuarantineReason.BAD_TIMESTAMP, f"`{key}`: {exc}", key) from exc


def _json_bytes(value: Any) -> bytes:
    """Canonical JSON (sorted keys) of a message, for its size and its derived id."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        # orjson refuses integers beyond 64 bits, which JSON (and Python callers) allow.
        try:
            text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise _Invalid(
                QuarantineReason.BAD_TYPE, f"The message is not JSON data ({exc}).", None
            ) from exc
        return text.encode()


def _json_size(value: Any) -> int:
    """The length of :func:`_json_bytes`: sorting keys moves bytes but never adds any."""
    try:
        return len(orjson.dumps(value))  # unsorted: sorting every message's keys costs
    except orjson.JSONEncodeError:
        return len(_json_bytes(value))


def derived_message_id(item: dict[str, Any]) -> str:
    """A stable id for a message sent without ``messageId``.

    Derived from the content (minus ``sentAt``, which changes on retries), so a client
    that retries the same message still gets deduplicated.
    """
    content = {key: value for key, value in item.items() if key not in ("sentAt", "writeKey")}
    digest = hashlib.blake2b(_json_bytes(content), digest_size=16)
    return f"fm-{digest.hexdigest()}"


def _validated(item: Any, facts: RequestFacts) -> Event:
    if not isinstance(item, dict):
        raise _Invalid(
            QuarantineReason.NOT_AN_OBJECT,
            f"Each message must be a JSON object (got {type(item).__name__}).",
            None,
        )
    size = _json_size(item)
    if size > facts.max_message_bytes:
        raise _Invalid(
            QuarantineReason.TOO_LARGE,
            f"The message is {size} bytes; the limit is {facts.max_message_bytes}. "
            "Send fewer properties or traits.",
            None,
        )
    kind = item.get("type")
    if kind is None or kind == "":
        raise _Invalid(QuarantineReason.MISSING_TYPE, "`type` is required in a batch.", "type")
    if kind not in EVENT_TYPES:
        raise _Invalid(
            QuarantineReason.UNKNOWN_TYPE,
            f"`type` {kind!r} is not one of {', '.join(EVENT_TYPES)}.",
            "type",
        )
    event_type: EventType = kind
    user_id = _id(item, "userId")
    anonymous_id = _id(item, "anonymousId")
    previous_id = group_id = event_name = None
    if event_type == "alias":
        previous_id = _id(item, "previousId", required=True)
        user_id = _id(item, "userId", required=True)
    elif user_id is None and anonymous_id is None:
        raise _Invalid(
            QuarantineReason.MISSING_ID,
            "Every message needs `userId` or `anonymousId`.",
            "userId",
        )
    if event_type == "track":
        event_name = _text(item, "event")
        if not event_name:
            raise _Invalid(
                QuarantineReason.MISSING_EVENT, "A track call needs `event`: its name.", "event"
            )
    elif event_type == "group":
        group_id = _id(item, "groupId", required=True)

    message_id = _id(item, "messageId") or derived_message_id(item)
    if len(message_id) > MAX_MESSAGE_ID_LENGTH:
        raise _Invalid(
            QuarantineReason.BAD_TYPE,
            f"`messageId` is {len(message_id)} characters; the limit is {MAX_MESSAGE_ID_LENGTH}.",
            "messageId",
        )
    context = _object(item, "context")
    properties = _object(item, "properties")
    traits = _object(item, "traits")
    integrations = _object(item, "integrations")
    name = _text(item, "name")
    category = _text(item, "category")

    client_timestamp = _time(item, "timestamp")
    sent_at = _time(item, "sentAt")
    # Clock-skew correction (Segment spec): sentAt and receivedAt are the same instant,
    # so their difference is the device clock's error.
    if client_timestamp is not None and sent_at is not None:
        timestamp = facts.received_at - (sent_at - client_timestamp)
    else:
        timestamp = client_timestamp or facts.received_at
    # Nothing happened after we received it: a future time is a wrong device clock (sent
    # without `sentAt` to correct it). The client's value stays in `original_timestamp`.
    timestamp = min(timestamp, facts.received_at)

    if facts.ip and not context.get("ip") and (facts.browser or context.get("direct") is True):
        context = {**context, "ip": facts.ip}
    return Event(
        message_id=message_id,
        type=event_type,
        user_id=user_id,
        anonymous_id=anonymous_id,
        timestamp=timestamp,
        received_at=facts.received_at,
        original_timestamp=client_timestamp,
        sent_at=sent_at,
        event=event_name,
        name=name,
        category=category,
        group_id=group_id,
        previous_id=previous_id,
        properties=normalize_properties(properties, coerce=facts.coerce),
        traits=normalize_traits(traits, coerce=facts.coerce) if traits else {},
        context=context,
        integrations=integrations,
        # A server-side library's request says nothing about the user's device or place:
        # only browser traffic lends its request address and user agent to the user.
        enrichment=enrich(
            context,
            request_ip=facts.ip if facts.browser else None,
            request_user_agent=facts.user_agent if facts.browser else None,
        ),
        consent=stated_consent(context, traits),
    )


def to_event(item: Any, facts: RequestFacts) -> Event | Rejection:
    """Validate, normalize and enrich one message, or say why it is rejected.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> facts = RequestFacts(received_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    >>> to_event({"type": "track", "userId": "u1", "event": "Signed Up"}, facts).event
    'Signed Up'
    >>> to_event({"type": "track", "event": "Signed Up"}, facts).reason
    <QuarantineReason.MISSING_ID: 'missing_id'>
    """
    try:
        return _validated(item, facts)
    except _Invalid as invalid:
        message_id = item.get("messageId") if isinstance(item, dict) else None
        return Rejection(
            reason=invalid.reason,
            message=invalid.message,
            payload=item if isinstance(item, dict) else {"item": item},
            field=invalid.field,
            message_id=message_id if isinstance(message_id, str) else None,
        )
