"""The ``POST /v1/decide`` body, checked: who, the request context, events to ingest first.

Every problem is an :class:`~firstmile.errors.InvalidRequest` naming the field, so the
API answers 400 with what to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from firstmile.errors import InvalidRequest

MAX_ID_LENGTH: Final = 200
MAX_EVENTS: Final = 100  # events that ride along with one decision
MAX_CONTEXT_DEPTH: Final = 8
MAX_CONTEXT_KEYS: Final = 200
_FIELDS: Final = frozenset({"userId", "anonymousId", "context", "events", "forced", "writeKey"})
MAX_FORCED: Final = 50


@dataclass(frozen=True, slots=True)
class DecideRequest:
    """A checked decide request."""

    user_id: str | None
    anonymous_id: str | None
    context: Mapping[str, Any]
    events: tuple[dict[str, Any], ...] = ()
    # QA: experiment or bandit key -> the variant (or arm) to show; never measured.
    forced: Mapping[str, str] = field(default_factory=dict)


def _id(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # Segment accepts numeric ids; so do we
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"`{name}` must be a non-empty string.", field=name)
    if len(value) > MAX_ID_LENGTH:
        raise InvalidRequest(f"`{name}` is longer than {MAX_ID_LENGTH} characters.", field=name)
    return value


def _check_context(value: Any, depth: int, budget: list[int]) -> None:
    if depth > MAX_CONTEXT_DEPTH:
        raise InvalidRequest(
            f"`context` is nested deeper than {MAX_CONTEXT_DEPTH} levels.", field="context"
        )
    children = (
        value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    )
    for child in children:
        budget[0] -= 1
        if budget[0] < 0:
            raise InvalidRequest(
                f"`context` holds more than {MAX_CONTEXT_KEYS} values; send what rules read.",
                field="context",
            )
        _check_context(child, depth + 1, budget)


def parse_decide_request(body: Any) -> DecideRequest:
    """Check a parsed JSON body.

    >>> parse_decide_request({"userId": "u1", "context": {"locale": "fr-FR"}}).context
    {'locale': 'fr-FR'}
    """
    if not isinstance(body, dict):
        raise InvalidRequest(
            'The body must be a JSON object such as {"userId": "u1", "context": {...}}.'
        )
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise InvalidRequest(
            f"Unknown field `{unknown[0]}`; a decide request has "
            + ", ".join(f"`{f}`" for f in sorted(_FIELDS - {"writeKey"}))
            + ".",
            field=unknown[0],
        )
    user_id, anonymous_id = _id(body, "userId"), _id(body, "anonymousId")
    if user_id is None and anonymous_id is None:
        raise InvalidRequest("Send `userId` or `anonymousId` (or both).", field="userId")
    context = body.get("context")
    if context is None:
        context = {}
    if not isinstance(context, dict):
        raise InvalidRequest("`context` must be a JSON object.", field="context")
    _check_context(context, 1, [MAX_CONTEXT_KEYS])
    events = body.get("events")
    if events is None:
        events = []
    if not isinstance(events, list):
        raise InvalidRequest("`events` must be a list of Segment messages.", field="events")
    if len(events) > MAX_EVENTS:
        raise InvalidRequest(
            f"At most {MAX_EVENTS} events ride along with a decision; send the rest to /v1/batch.",
            field="events",
        )
    checked = []
    for index, raw in enumerate(events):
        if not isinstance(raw, dict):
            raise InvalidRequest("Each event must be a JSON object.", field=f"events[{index}]")
        # The events are this user's: fill the ids in when the app left them out.
        event = dict(raw)
        if user_id is not None:
            event.setdefault("userId", user_id)
        if anonymous_id is not None:
            event.setdefault("anonymousId", anonymous_id)
        event.setdefault("type", "track")
        checked.append(event)
    return DecideRequest(user_id, anonymous_id, context, tuple(checked), _forced(body))


def _forced(body: Mapping[str, Any]) -> dict[str, str]:
    """``forced``: ``{"experiment or bandit key": "variant"}`` for QA of one request."""
    raw = body.get("forced")
    if raw is None:
        return {}
    example = 'for example {"welcome_copy": "friendly"}'
    if not isinstance(raw, dict) or len(raw) > MAX_FORCED:
        raise InvalidRequest(
            f"`forced` maps experiment keys to variants (at most {MAX_FORCED}), {example}.",
            field="forced",
        )
    for key, value in raw.items():
        if not isinstance(value, str) or not value:
            raise InvalidRequest(
                f"`forced.{key}` must name a variant, {example}.", field=f"forced.{key}"
            )
    return dict(raw)
