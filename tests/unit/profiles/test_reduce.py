"""Tests for firstmile.profiles.reduce: traits, behaviour, windows and merges."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firstmile.events.model import Enrichment, Event, EventType, Purpose
from firstmile.profiles.content import ContentState
from firstmile.profiles.model import Computed, ConsentDecision, Profile
from firstmile.profiles.reduce import (
    HOURS_KEPT,
    LAST_PAGES_KEPT,
    TraitDelta,
    apply_event,
    declared_traits,
    merge_profiles,
    window_counts,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
_counter = iter(range(10**9))


def ev(
    kind: EventType = "track",
    at: datetime = NOW,
    *,
    name: str | None = "Clicked",
    received_at: datetime | None = None,
    traits: dict[str, Any] | None = None,
    properties: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    enrichment: Enrichment | None = None,
    group_id: str | None = None,
) -> Event:
    return Event(
        message_id=f"m{next(_counter)}",
        type=kind,
        user_id="u1",
        anonymous_id=None,
        timestamp=at,
        received_at=received_at or max(at, NOW),
        event=name if kind == "track" else None,
        name=name if kind in ("page", "screen") else None,
        group_id=group_id,
        properties=properties or {},
        traits=traits or {},
        context=context or {},
        enrichment=enrichment or Enrichment(),
    )


def identify(traits: dict[str, Any], at: datetime = NOW, **kw: Any) -> Event:
    return ev("identify", at, traits=traits, **kw)


def page(path: str | None, at: datetime = NOW) -> Event:
    return ev("page", at, name=None, properties={} if path is None else {"path": path})


def empty(**kw: Any) -> Profile:
    return Profile(profile_id="p1", user_id="u1", created_at=NOW - DAY, updated_at=NOW - DAY, **kw)


def fold(events: list[Event], profile: Profile | None = None, **kw: Any) -> Profile:
    profile = profile or empty()
    for event in events:
        profile = apply_event(profile, event, behavioural=kw.get("behavioural", True)).profile
    return profile


# --- declared traits and versions -----------------------------------------------------------


def test_identify_traits_produce_one_delta_per_new_key() -> None:
    update = apply_event(empty(), identify({"plan": "pro", "seats": 3}), behavioural=False)
    assert update.profile.traits == {"plan": "pro", "seats": 3}
    assert set(update.trait_changes) == {
        TraitDelta("plan", None, "pro"),
        TraitDelta("seats", None, 3),
    }
    assert update.profile.version == 1


@pytest.mark.parametrize("behavioural", [True, False])
def test_only_changed_keys_produce_deltas_and_the_version_moves_once(behavioural: bool) -> None:
    profile = empty(traits={"plan": "free", "seats": 3, "email": "a@b.c"}, version=4)
    update = apply_event(
        profile,
        identify({"plan": "pro", "seats": 3, "email": "a@b.c", "role": None}),
        behavioural=behavioural,
    )
    assert update.trait_changes == (
        TraitDelta("plan", "free", "pro"),
        TraitDelta("role", None, None),  # an explicit null is a trait that now exists
    )
    assert update.profile.traits == {"plan": "pro", "seats": 3, "email": "a@b.c", "role": None}
    assert update.profile.version == 5


@pytest.mark.parametrize(("old", "new"), [(1, True), (1, 1.0), (0, False), ("1", 1)])
def test_a_trait_that_changes_type_is_a_change(old: Any, new: Any) -> None:
    update = apply_event(empty(traits={"flag": old}), identify({"flag": new}), behavioural=False)
    assert update.trait_changes == (TraitDelta("flag", old, new),)
    assert type(update.profile.traits["flag"]) is type(new)


def test_an_unchanged_identify_returns_the_same_profile() -> None:
    profile = empty(traits={"plan": "pro"}, version=2)
    update = apply_event(profile, identify({"plan": "pro"}), behavioural=False)
    assert update.profile is profile
    assert update.trait_changes == ()


def test_an_unchanged_identify_counts_as_activity_but_changes_no_trait() -> None:
    profile = empty(traits={"plan": "pro"}, version=2)
    update = apply_event(profile, identify({"plan": "pro"}), behavioural=True)
    assert update.trait_changes == ()
    assert update.profile.traits == {"plan": "pro"}
    assert update.profile.computed.type_counts == {"identify": 1}
    assert update.profile.version == 3


@pytest.mark.parametrize(
    ("event", "declared"),
    [
        (
            identify({"plan": "pro", "consent": {"analytics": False}, "consent_marketing": True}),
            {"plan": "pro"},
        ),
        (ev("group", traits={"name": "Acme"}, group_id="g1"), {}),  # group traits are the group's
        (ev("track", traits={"plan": "pro"}), {}),
    ],
)
def test_declared_traits(event: Event, declared: dict[str, Any]) -> None:
    assert declared_traits(event) == declared


def test_updated_at_never_goes_back() -> None:
    profile = empty()
    update = apply_event(profile, identify({"a": 1}, received_at=NOW - 2 * DAY), behavioural=False)
    assert update.profile.updated_at == profile.updated_at
    later = apply_event(profile, identify({"a": 1}, received_at=NOW), behavioural=False)
    assert later.profile.updated_at == NOW


# --- consent gate and context.active --------------------------------------------------------


@pytest.mark.parametrize("kind", ["track", "page", "screen", "group", "alias", "identify"])
def test_without_behavioural_consent_nothing_is_computed(kind: EventType) -> None:
    profile = empty()
    update = apply_event(profile, ev(kind, group_id="g1"), behavioural=False)
    assert update.profile is profile


def test_without_behavioural_consent_declared_traits_still_apply() -> None:
    update = apply_event(empty(), identify({"plan": "pro"}), behavioural=False)
    assert update.profile.traits == {"plan": "pro"}
    assert update.profile.computed == Computed()


def test_inactive_events_update_traits_but_not_behaviour() -> None:
    profile = empty()
    inactive = {"active": False}
    assert apply_event(profile, ev(context=inactive), behavioural=True).profile is profile
    update = apply_event(profile, identify({"plan": "pro"}, context=inactive), behavioural=True)
    assert update.profile.traits == {"plan": "pro"}
    assert update.profile.computed == Computed()
    # only `false` means inactive
    active = apply_event(profile, ev(context={"active": True}), behavioural=True).profile
    assert active.computed.event_count == 1


# --- counts, sessions, days -----------------------------------------------------------------


def test_counts_by_type_and_by_event_name() -> None:
    profile = fold([ev(name="A"), ev(name="B"), ev(name="A"), page("/"), ev("identify")])
    c = profile.computed
    assert c.event_count == 5
    assert c.type_counts == {"track": 3, "page": 1, "identify": 1}
    assert c.event_counts == {"A": 2, "B": 1}


@pytest.mark.parametrize(
    ("gap", "sessions"),
    [
        (MINUTE, 1),
        (30 * MINUTE - timedelta(seconds=1), 1),
        (30 * MINUTE, 1),  # exactly the timeout: still the same session
        (30 * MINUTE + timedelta(seconds=1), 2),
        (DAY, 2),
    ],
)
def test_sessions_end_after_the_timeout(gap: timedelta, sessions: int) -> None:
    profile = fold([ev(at=NOW), ev(at=NOW + gap)])
    assert profile.computed.sessions == sessions
    expected_start = NOW + gap if sessions == 2 else NOW
    assert profile.computed.session_started_at == expected_start


def test_session_timeout_is_a_parameter() -> None:
    profile = empty()
    for at in (NOW, NOW + 10 * MINUTE):
        profile = apply_event(
            profile, ev(at=at), behavioural=True, session_timeout=5 * MINUTE
        ).profile
    assert profile.computed.sessions == 2


def test_a_chain_of_close_events_is_one_session() -> None:
    events = [ev(at=NOW + i * 20 * MINUTE) for i in range(10)]  # 3 hours, never 30 min apart
    assert fold(events).computed.sessions == 1


def test_late_events_count_but_do_not_open_sessions() -> None:
    profile = fold([ev(at=NOW)])
    late = apply_event(profile, ev(at=NOW - 5 * HOUR), behavioural=True).profile.computed
    assert late.sessions == 1
    assert late.session_started_at == NOW
    assert late.event_count == 2
    assert late.first_seen == NOW - 5 * HOUR
    assert late.last_seen == NOW


def test_active_days_are_sorted_and_unique() -> None:
    events = [ev(at=NOW), ev(at=NOW - 3 * DAY), ev(at=NOW + HOUR), ev(at=NOW - DAY), ev(at=NOW)]
    assert fold(events).computed.active_days == ("2026-11-22", "2026-11-24", "2026-11-25")


def test_groups_are_collected_once_each() -> None:
    events = [ev("group", group_id="g1"), ev("group", group_id="g2"), ev("group", group_id="g1")]
    assert fold(events).computed.groups == ("g1", "g2")


# --- last pages -----------------------------------------------------------------------------


def test_last_pages_keep_five_most_recent_first_without_consecutive_repeats() -> None:
    paths = ["/a", "/b", "/b", "/c", "/a", "/d", "/e", "/f"]
    events = [page(path, NOW + i * MINUTE) for i, path in enumerate(paths)]
    assert LAST_PAGES_KEPT == 5
    assert fold(events).computed.last_pages == ("/f", "/e", "/d", "/a", "/c")


def test_last_pages_read_the_path_from_properties_then_context() -> None:
    from_context = ev("page", context={"page": {"path": "/ctx"}}, name=None)
    both = ev(
        "page",
        NOW + MINUTE,
        properties={"path": "/props"},
        context={"page": {"path": "/ctx"}},
        name=None,
    )
    assert fold([from_context, both]).computed.last_pages == ("/props", "/ctx")


def test_last_pages_ignore_late_pages_other_types_and_pages_without_path() -> None:
    events = [
        page("/now", NOW),
        page("/late", NOW - HOUR),
        page(None, NOW + MINUTE),
        page("", NOW + MINUTE),
        ev("screen", NOW + MINUTE, properties={"path": "/screen"}),
        ev("track", NOW + MINUTE, properties={"path": "/track"}),
    ]
    assert fold(events).computed.last_pages == ("/now",)


# --- device, os, country ---------------------------------------------------------------------


def test_device_os_and_country_come_from_the_newest_event_that_has_them() -> None:
    mobile = Enrichment(device_type="mobile", os="iOS", country="FR", locale="fr-FR")
    desktop = Enrichment(device_type="desktop", os="Windows", country="US", browser="Chrome")
    profile = fold([ev(at=NOW, enrichment=mobile)])
    # a late event does not overwrite
    late = fold([ev(at=NOW - HOUR, enrichment=desktop)], profile).computed
    assert (late.device_type, late.os, late.country, late.browser) == ("mobile", "iOS", "FR", None)
    # a newer event without enrichment keeps what is known
    blank = fold([ev(at=NOW + HOUR)], profile).computed
    assert (blank.device_type, blank.os, blank.country, blank.locale) == (
        "mobile",
        "iOS",
        "FR",
        "fr-FR",
    )
    # a newer event with enrichment wins field by field
    newer = fold([ev(at=NOW + HOUR, enrichment=desktop)], profile).computed
    assert (newer.device_type, newer.os, newer.country, newer.browser, newer.locale) == (
        "desktop",
        "Windows",
        "US",
        "Chrome",
        "fr-FR",
    )


# --- hourly counts and rolling windows -------------------------------------------------------


@pytest.mark.parametrize(
    ("hours_back", "minute", "in_1d", "in_7d"),
    [
        (0, 0, True, True),
        (0, 59, True, True),
        (23, 0, True, True),
        (23, 59, True, True),
        (24, 59, False, True),  # its hour ended more than a day before the read's hour
        (24, 0, False, True),
        (167, 0, False, True),
        (167, 59, False, True),
        (168, 59, False, False),
        (24 * 30, 0, False, False),
        (-1, 0, False, False),  # in the future of the read
    ],
)
def test_window_boundaries_are_exact_to_the_hour(
    hours_back: int, minute: int, in_1d: bool, in_7d: bool
) -> None:
    now = NOW + 30 * MINUTE  # reads happen mid-hour too
    at = NOW - hours_back * HOUR + minute * MINUTE
    computed = fold([ev(at=at, name="A", received_at=now)]).computed
    windows = window_counts(computed, now)
    assert windows["events_1d"] == int(in_1d)
    assert windows["events_7d"] == int(in_7d)
    assert windows["event_counts_1d"] == ({"A": 1} if in_1d else {})
    assert windows["event_counts_7d"] == ({"A": 1} if in_7d else {})


def test_window_counts_by_name_count_track_events_only() -> None:
    computed = fold([ev(name="A"), ev(name="A"), ev(name="B"), page("/"), ev("identify")]).computed
    windows = window_counts(computed, NOW)
    assert windows == {
        "events_1d": 5,
        "events_7d": 5,
        "event_counts_1d": {"A": 2, "B": 1},
        "event_counts_7d": {"A": 2, "B": 1},
    }


def test_hours_older_than_the_longest_window_are_pruned() -> None:
    old = fold([ev(at=NOW - 10 * DAY, received_at=NOW - 10 * DAY)])
    assert old.computed.hourly  # kept while it was recent
    later = fold([ev(at=NOW)], old).computed
    newest_hour = int(NOW.timestamp()) // 3600
    assert all(hour > newest_hour - HOURS_KEPT for hour in later.hourly)
    assert later.event_count == 2  # totals are not windows: nothing is forgotten


def test_an_event_older_than_the_longest_window_is_not_bucketed() -> None:
    computed = fold([ev(at=NOW), ev(at=NOW - 8 * DAY)]).computed
    assert len(computed.hourly) == 1
    assert computed.event_count == 2


def test_a_future_dated_event_does_not_erase_recent_history() -> None:
    # A device with a wrong clock (and no sentAt) sends an event dated next month.
    profile = fold([ev(at=NOW - HOUR, received_at=NOW)])
    profile = fold([ev(at=NOW + 30 * DAY, received_at=NOW)], profile)
    profile = fold([ev(at=NOW - 2 * HOUR, received_at=NOW)], profile)
    assert window_counts(profile.computed, NOW)["events_1d"] == 2


hour_offsets = st.integers(min_value=-10 * 24, max_value=10 * 24)


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(hour_offsets, st.integers(0, 59), st.sampled_from(["A", "B", None])),
        max_size=25,
    ),
    st.integers(min_value=0, max_value=10 * 24 * 60),
)
def test_window_totals_equal_the_events_whose_hour_is_in_the_window(
    offsets: list[tuple[int, int, str | None]], read_after_minutes: int
) -> None:
    # Every event arrives at NOW, dated anywhere in the ten days around it; reads happen
    # at NOW or later.
    events = [
        ev(
            "track" if name else "page",
            NOW + hours * HOUR + minutes * MINUTE,
            name=name,
            received_at=NOW,
        )
        for hours, minutes, name in offsets
    ]
    now = NOW + read_after_minutes * MINUTE
    windows = window_counts(fold(events).computed, now)
    now_hour = int(now.timestamp()) // 3600

    def within(event: Event, hours: int) -> bool:
        return 0 <= now_hour - int(event.timestamp.timestamp()) // 3600 < hours

    for days, hours in ((1, 24), (7, 168)):
        inside = [event for event in events if within(event, hours)]
        assert windows[f"events_{days}d"] == len(inside)
        by_name: dict[str, int] = {}
        for event in inside:
            if event.event:
                by_name[event.event] = by_name.get(event.event, 0) + 1
        assert windows[f"event_counts_{days}d"] == by_name


# --- inputs are never modified --------------------------------------------------------------

enrichments = st.builds(
    Enrichment,
    device_type=st.sampled_from([None, "mobile", "desktop"]),
    os=st.sampled_from([None, "iOS"]),
    country=st.sampled_from([None, "FR", "US"]),
)
events = st.builds(
    ev,
    kind=st.sampled_from(["identify", "track", "page", "screen", "group"]),
    at=st.integers(-10 * 24 * 60, 10 * 24 * 60).map(lambda m: NOW + m * MINUTE),
    name=st.sampled_from(["A", "B", None]),
    traits=st.dictionaries(
        st.sampled_from(["plan", "seats", "consent_analytics"]),
        st.none() | st.integers(0, 3) | st.sampled_from(["pro", "free"]),
    ),
    properties=st.dictionaries(st.just("path"), st.sampled_from(["/a", "/b"])),
    context=st.sampled_from([{}, {"active": False}, {"page": {"path": "/c"}}]),
    enrichment=enrichments,
    group_id=st.sampled_from([None, "g1", "g2"]),
)


@given(st.lists(events, max_size=6), events, st.booleans())
def test_apply_event_never_modifies_its_inputs(
    history: list[Event], event: Event, behavioural: bool
) -> None:
    profile = fold(history)
    profile_before = copy.deepcopy(profile)
    event_before = copy.deepcopy(event)
    update = apply_event(profile, event, behavioural=behavioural)
    assert profile == profile_before
    assert event == event_before
    assert update.profile.version in (profile.version, profile.version + 1)
    if update.profile is not profile:
        assert update.profile.version == profile.version + 1


def test_apply_event_carries_every_field_it_does_not_change() -> None:
    decision = ConsentDecision(granted=False, at=NOW - DAY, source="traits")
    content = {"tip": ContentState(shown_count=1, shown=(NOW - DAY,))}
    profile = Profile(
        profile_id="p9",
        user_id="u9",
        created_at=NOW - 2 * DAY,
        updated_at=NOW - DAY,
        version=4,
        traits={"plan": "pro"},
        consent={Purpose.MARKETING: decision},
        computed=Computed(event_count=2),
        content=content,
    )
    update = apply_event(profile, identify({"seats": 3}), behavioural=False)
    assert update.profile == replace(
        profile, updated_at=NOW, version=5, traits={"plan": "pro", "seats": 3}
    )


# --- merge_profiles -------------------------------------------------------------------------


def consent(granted: bool, at: datetime) -> ConsentDecision:
    return ConsentDecision(granted=granted, at=at, source="traits")


def test_merge_profiles_known_traits_win_and_counts_add() -> None:
    known = fold(
        [ev(at=NOW - DAY, name="A"), page("/k", NOW - DAY), ev("group", NOW - DAY, group_id="g1")],
        empty(traits={"plan": "pro", "email": "k@x.y"}, version=7),
    )
    anonymous = fold(
        [page("/a1", NOW - 2 * DAY), ev(at=NOW, name="A"), ev(at=NOW, name="B")],
        Profile(
            profile_id="p2",
            user_id=None,
            created_at=NOW - 3 * DAY,
            updated_at=NOW,
            traits={"plan": "free", "utm": "ad"},
            version=3,
        ),
    )
    merged = merge_profiles(known, anonymous, at=NOW + HOUR)
    c, k, a = merged.computed, known.computed, anonymous.computed
    assert merged.profile_id == known.profile_id
    assert merged.user_id == "u1"
    assert merged.traits == {"plan": "pro", "email": "k@x.y", "utm": "ad"}
    assert c.event_count == k.event_count + a.event_count == 6
    assert c.type_counts == {"track": 3, "page": 2, "group": 1}
    assert c.event_counts == {"A": 2, "B": 1}
    assert c.sessions == k.sessions + a.sessions
    assert c.first_seen == NOW - 2 * DAY
    assert c.last_seen == NOW
    assert c.active_days == ("2026-11-23", "2026-11-24", "2026-11-25")
    assert c.groups == ("g1",)
    assert c.last_pages == ("/a1", "/k")  # the anonymous profile was seen last
    assert sum(counts["*"] for counts in c.hourly.values()) == 6
    assert window_counts(c, NOW)["events_7d"] == 6
    assert merged.created_at == NOW - 3 * DAY
    assert merged.updated_at == NOW + HOUR
    assert merged.version == max(known.version, anonymous.version) + 1


@pytest.mark.parametrize(
    ("known_at", "anonymous_at", "winner"),
    [
        (NOW, NOW - HOUR, "known"),
        (NOW - HOUR, NOW, "anonymous"),
        (NOW, NOW, "known"),  # a tie keeps the identified user's answer
    ],
)
def test_merge_profiles_newest_consent_wins(
    known_at: datetime, anonymous_at: datetime, winner: str
) -> None:
    known = empty(
        consent={Purpose.ANALYTICS: consent(True, known_at), Purpose.MARKETING: consent(True, NOW)}
    )
    anonymous = replace(
        empty(consent={Purpose.ANALYTICS: consent(False, anonymous_at)}), profile_id="p2"
    )
    merged = merge_profiles(known, anonymous, at=NOW)
    assert merged.consent[Purpose.ANALYTICS].granted is (winner == "known")
    assert merged.consent[Purpose.MARKETING].granted is True


def test_merge_profiles_keeps_the_newest_device_and_fills_gaps() -> None:
    known = fold([ev(at=NOW - DAY, enrichment=Enrichment(device_type="desktop", country="US"))])
    anonymous = replace(
        fold([ev(at=NOW, enrichment=Enrichment(device_type="mobile"))]), profile_id="p2"
    )
    merged = merge_profiles(known, anonymous, at=NOW).computed
    assert (merged.device_type, merged.country) == ("mobile", "US")


def test_merge_with_an_empty_profile_changes_only_bookkeeping() -> None:
    known = fold([ev(at=NOW)], empty(traits={"plan": "pro"}))
    blank = Profile(profile_id="p2", user_id=None, created_at=NOW, updated_at=NOW)
    merged = merge_profiles(known, blank, at=NOW)
    assert merged.computed == known.computed
    assert merged.traits == known.traits
    assert merged.version == known.version + 1
