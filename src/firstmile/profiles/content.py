"""What a user has been shown, dismissed and completed: the state decide reads (pure).

Three track events are first-class (``docs/decide.md``):

* ``Content Shown`` — the app displayed a content item; frequency caps and "show once"
  count these;
* ``Content Dismissed`` — the user closed it (or skipped a skippable step);
* ``Step Completed`` — the user finished a step or checklist item.

Each names its item in ``properties.item_id`` (``properties.step_id`` is accepted for
``Step Completed``, the spelling onboarding tools use). The state is kept per item on the
profile and is updated whatever the user's ``analytics`` consent: it is what the service
needs to avoid showing the same thing again, not a behavioural trait.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

from firstmile.events.model import Event

CONTENT_SHOWN: Final = "Content Shown"
CONTENT_DISMISSED: Final = "Content Dismissed"
STEP_COMPLETED: Final = "Step Completed"
CONTENT_EVENTS: Final = frozenset({CONTENT_SHOWN, CONTENT_DISMISSED, STEP_COMPLETED})

# Show times kept per item: enough for any "at most N per period" cap a config can
# declare (the config loader refuses caps above this).
SHOWN_KEPT: Final = 50
ITEM_ID_MAX: Final = 200


@dataclass(frozen=True, slots=True)
class ContentState:
    """One item's history for one user."""

    shown_count: int = 0
    shown: tuple[datetime, ...] = ()  # most recent first, at most SHOWN_KEPT
    dismissed_at: datetime | None = None
    completed_at: datetime | None = None

    def shown_since(self, since: datetime) -> int:
        """How many times the item was shown at or after ``since``."""
        return sum(1 for at in self.shown if at >= since)


ContentStates = dict[str, ContentState]


def content_item_id(event: Event) -> str | None:
    """The item a content event is about, or ``None`` if it is not one (or names none)."""
    if event.type != "track" or event.event not in CONTENT_EVENTS:
        return None
    props = event.properties
    value = props.get("item_id")
    if value is None and event.event == STEP_COMPLETED:
        value = props.get("step_id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value or len(value) > ITEM_ID_MAX:
        return None
    return value


def apply_content_event(states: ContentStates, event: Event) -> ContentStates:
    """``states`` after ``event``; the same object when the event is not a content event.

    >>> from datetime import UTC
    >>> at = datetime(2026, 1, 1, tzinfo=UTC)
    >>> e = Event("m1", "track", "u1", None, at, at, event="Content Shown",
    ...           properties={"item_id": "welcome"})
    >>> apply_content_event({}, e)["welcome"].shown_count
    1
    """
    item = content_item_id(event)
    if item is None:
        return states
    state = states.get(item, ContentState())
    at = event.timestamp
    if event.event == CONTENT_SHOWN:
        shown = tuple(sorted((*state.shown, at), reverse=True)[:SHOWN_KEPT])
        state = replace(state, shown_count=state.shown_count + 1, shown=shown)
    elif event.event == CONTENT_DISMISSED:
        state = replace(state, dismissed_at=_latest(state.dismissed_at, at))
    else:
        state = replace(state, completed_at=_earliest(state.completed_at, at))
    return {**states, item: state}


def merge_content(a: ContentStates, b: ContentStates) -> ContentStates:
    """Both users' histories, as if one person had done both (for identity merges)."""
    merged = dict(a)
    for item, other in b.items():
        mine = merged.get(item)
        if mine is None:
            merged[item] = other
            continue
        merged[item] = ContentState(
            shown_count=mine.shown_count + other.shown_count,
            shown=tuple(sorted((*mine.shown, *other.shown), reverse=True)[:SHOWN_KEPT]),
            dismissed_at=_latest(mine.dismissed_at, other.dismissed_at),
            completed_at=_earliest(mine.completed_at, other.completed_at),
        )
    return merged


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def content_to_json(
    states: ContentStates, *, time: Callable[[datetime | None], Any] = _iso
) -> dict[str, Any]:
    """JSON-ready form (round-trips through :func:`content_from_json`).

    ``time`` writes datetimes: ISO text by default;
    :func:`firstmile.profiles.model.profile_document` passes one that leaves some for
    orjson to write as the same text.
    """
    return {
        item: {
            "shown_count": s.shown_count,
            "shown": [time(at) for at in s.shown],
            "dismissed_at": time(s.dismissed_at),
            "completed_at": time(s.completed_at),
        }
        for item, s in states.items()
    }


def content_from_json(data: Mapping[str, Any] | None) -> dict[str, ContentState]:
    """Inverse of :func:`content_to_json`; a profile stored before content state has none."""
    if not data:
        return {}
    return {
        item: ContentState(
            shown_count=int(s.get("shown_count", 0)),
            shown=tuple(datetime.fromisoformat(at) for at in s.get("shown") or ()),
            dismissed_at=_parse(s.get("dismissed_at")),
            completed_at=_parse(s.get("completed_at")),
        )
        for item, s in data.items()
    }


def _parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
