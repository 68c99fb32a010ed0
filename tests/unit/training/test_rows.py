"""The leakage-safe rows: what was known at the cut-off, and the label after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from firstmile.config.models import Outcome
from firstmile.profiles.model import Profile
from firstmile.storage.base import StoredEvent
from firstmile.training.rows import computed_as_of, event_outcome_rows, truthy

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def _event(minutes: float, kind: str, name: str | None, **payload: Any) -> StoredEvent:
    at = T0 + timedelta(minutes=minutes)
    return StoredEvent(
        "web", f"m{minutes}", "p1", kind, name, "u1", None, at, at, None, None,
        {"properties": {}, "context": {}, **payload}, {"analytics": True},
    )  # fmt: skip


EVENTS = [
    _event(0, "page", None, properties={"path": "/signup"},
           enrichment={"device_type": "mobile", "country": "FR"}),
    _event(5, "track", "Signed Up"),
    _event(10, "page", None, context={"page": {"path": "/app"}}),
    _event(70, "track", "Viewed Docs", enrichment={"device_type": "desktop"}),  # 2nd session
    _event(60 * 30, "track", "Created Project"),  # after a 1-day cut-off
    _event(60 * 24 * 10, "track", "Invited Teammate"),  # after the 7-day window too
]  # fmt: skip


def test_only_events_before_the_cut_off_count() -> None:
    computed = computed_as_of(EVENTS, T0 + timedelta(days=1))
    assert computed.event_count == 4
    assert computed.event_counts == {"Signed Up": 1, "Viewed Docs": 1}
    assert computed.sessions == 2
    assert computed.last_pages == ("/app", "/signup")
    assert computed.device_type == "desktop"  # the newest event that states it
    assert computed.country == "FR"
    assert computed.first_seen == T0
    assert computed.last_seen == T0 + timedelta(minutes=70)
    assert computed.active_days == ("2026-03-01",)
    assert sum(bucket["*"] for bucket in computed.hourly.values()) == 4


def test_labels_come_from_the_window_after_the_cut_off() -> None:
    profile = Profile("p1", "u1", T0, T0)
    created = Outcome("event", timedelta(days=7), event="Created Project")
    invited = Outcome("event", timedelta(days=7), event="Invited Teammate")
    quiet = Outcome("inactive", timedelta(days=7))
    now = T0 + timedelta(days=30)
    rows = {
        name: event_outcome_rows([profile], {"p1": EVENTS}, o, observe=timedelta(days=1), now=now)
        for name, o in (("created", created), ("invited", invited), ("quiet", quiet))
    }
    assert [u.label for u in rows["created"]] == [1]
    assert [u.label for u in rows["invited"]] == [0]  # day 10: outside the window
    assert [u.label for u in rows["quiet"]] == [0]  # active on day 1.25
    only = rows["created"][0]
    assert only.cutoff == T0 + timedelta(days=1)
    assert only.profile.computed.event_counts == {"Signed Up": 1, "Viewed Docs": 1}


def test_users_whose_window_has_not_ended_are_left_out() -> None:
    profile = Profile("p1", "u1", T0, T0)
    outcome = Outcome("event", timedelta(days=7), event="Created Project")
    early = T0 + timedelta(days=5)
    assert (
        event_outcome_rows([profile], {"p1": EVENTS}, outcome, observe=timedelta(days=1), now=early)
        == []
    )
    assert event_outcome_rows([profile], {}, outcome, observe=timedelta(days=1), now=early) == []


def test_truthy_labels() -> None:
    assert [truthy(v) for v in (True, 0, 1.0, "TRUE", " no ", "yes", "maybe", None, 2)] == [
        1, 0, 1, 1, 0, 1, None, None, None
    ]  # fmt: skip


def test_a_user_who_did_it_before_the_cut_off_is_left_out() -> None:
    early = [*EVENTS[:2], _event(30, "track", "Created Project"), *EVENTS[2:]]
    profile = Profile("p1", "u1", T0, T0)
    outcome = Outcome("event", timedelta(days=7), event="Created Project")
    now = T0 + timedelta(days=30)
    rows = event_outcome_rows([profile], {"p1": early}, outcome, observe=timedelta(days=1), now=now)
    assert rows == []
