"""Content state: what was shown, dismissed and completed, from the three content events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from firstmile.events.model import Event
from firstmile.profiles.content import (
    SHOWN_KEPT,
    ContentState,
    apply_content_event,
    content_from_json,
    content_to_json,
    merge_content,
)
from firstmile.profiles.model import Profile, profile_from_json, profile_to_json
from firstmile.profiles.reduce import apply_event

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)


def event(name: str, at: datetime = T0, **properties: Any) -> Event:
    return Event("m", "track", "u1", None, at, at, event=name, properties=dict(properties))


def test_shown_dismissed_completed_update_the_item() -> None:
    states = apply_content_event({}, event("Content Shown", item_id="tip"))
    states = apply_content_event(
        states, event("Content Shown", T0 + timedelta(hours=1), item_id="tip")
    )
    states = apply_content_event(states, event("Content Dismissed", item_id="tip"))
    states = apply_content_event(states, event("Step Completed", step_id="setup"))
    assert states["tip"].shown_count == 2
    assert states["tip"].shown_since(T0 + timedelta(minutes=30)) == 1
    assert states["tip"].dismissed_at == T0
    assert states["setup"].completed_at == T0


def test_other_events_and_bad_ids_change_nothing() -> None:
    states: dict[str, ContentState] = {}
    for e in (
        event("Clicked", item_id="x"),
        event("Content Shown"),
        event("Content Shown", item_id=""),
        event("Content Shown", item_id=["x"]),
        event("Content Shown", item_id="x" * 201),
    ):
        assert apply_content_event(states, e) is states


def test_show_times_are_bounded() -> None:
    states: dict[str, ContentState] = {}
    for minute in range(SHOWN_KEPT + 10):
        states = apply_content_event(
            states, event("Content Shown", T0 + timedelta(minutes=minute), item_id="a")
        )
    assert states["a"].shown_count == SHOWN_KEPT + 10
    assert len(states["a"].shown) == SHOWN_KEPT
    assert states["a"].shown[0] == T0 + timedelta(minutes=SHOWN_KEPT + 9)


def test_merge_adds_counts_and_keeps_first_completion() -> None:
    a = {"x": ContentState(1, (T0,), completed_at=T0 + timedelta(days=1))}
    b = {"x": ContentState(2, (T0 - timedelta(hours=1),), completed_at=T0), "y": ContentState(1)}
    merged = merge_content(a, b)
    assert merged["x"].shown_count == 3
    assert merged["x"].completed_at == T0
    assert "y" in merged


def test_content_state_round_trips_and_old_profiles_have_none() -> None:
    states = {"x": ContentState(1, (T0,), dismissed_at=T0, completed_at=None)}
    assert content_from_json(content_to_json(states)) == states
    profile = Profile("p", "u", T0, T0, content=states)
    assert profile_from_json(profile_to_json(profile)) == profile
    stored = profile_to_json(profile)
    del stored["content"]
    assert profile_from_json(stored).content == {}


def test_content_events_count_even_without_analytics_consent() -> None:
    profile = Profile("p", "u", T0, T0)
    update = apply_event(profile, event("Content Shown", item_id="tip"), behavioural=False)
    assert update.profile.content["tip"].shown_count == 1
    assert update.profile.computed.event_count == 0
