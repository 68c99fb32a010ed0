"""The stored form of a profile: profile_to_json, profile_document and the round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from firstmile.events.model import Purpose
from firstmile.profiles.content import ContentState
from firstmile.profiles.model import (
    Computed,
    ConsentDecision,
    Profile,
    profile_document,
    profile_from_json,
    profile_to_json,
)

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

# UTC (the usual case, left to orjson), other zones, and an offset with seconds, which
# orjson would round to a whole minute.
zones = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=2)),
        timezone(-timedelta(hours=5, minutes=30)),
        timezone(timedelta(seconds=30)),
    ]
)
times = st.builds(
    lambda minutes, micros, zone: (T0 + timedelta(minutes=minutes, microseconds=micros)).astimezone(
        zone
    ),
    st.integers(-(10**6), 10**6),
    st.sampled_from([0, 1, 250_000]),
    zones,
)
optional_times = st.none() | times
names = st.text(max_size=8)
json_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | names
traits = st.dictionaries(
    names,
    st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=6),
    max_size=4,
)
counts = st.dictionaries(names, st.integers(0, 1000), max_size=3)
computed = st.builds(
    Computed,
    first_seen=optional_times,
    last_seen=optional_times,
    event_count=st.integers(0, 10**6),
    type_counts=counts,
    event_counts=counts,
    sessions=st.integers(0, 1000),
    session_started_at=optional_times,
    active_days=st.lists(st.dates().map(lambda d: d.isoformat()), max_size=3).map(tuple),
    hourly=st.dictionaries(st.integers(0, 10**6), counts, max_size=3),
    last_pages=st.lists(names, max_size=3).map(tuple),
    device_type=st.none() | names,
    country=st.none() | st.just("FR"),
    groups=st.lists(names, max_size=2).map(tuple),
)
content = st.dictionaries(
    names,
    st.builds(
        ContentState,
        shown_count=st.integers(0, 60),
        shown=st.lists(times, max_size=3).map(tuple),
        dismissed_at=optional_times,
        completed_at=optional_times,
    ),
    max_size=2,
)
profiles = st.builds(
    Profile,
    profile_id=names,
    user_id=st.none() | names,
    created_at=times,
    updated_at=times,
    version=st.integers(0, 10**6),
    traits=traits,
    consent=st.dictionaries(
        st.sampled_from(list(Purpose)),
        st.builds(ConsentDecision, granted=st.booleans(), at=times, source=names),
        max_size=3,
    ),
    computed=computed,
    content=content,
)


@given(profiles)
def test_profiles_round_trip_through_json(profile: Profile) -> None:
    data = orjson.loads(orjson.dumps(profile_to_json(profile)))
    assert profile_from_json(data) == profile


@given(profiles)
def test_orjson_writes_the_document_as_the_text_of_profile_to_json(profile: Profile) -> None:
    assert orjson.dumps(profile_document(profile)) == orjson.dumps(profile_to_json(profile))


def test_a_time_offset_with_seconds_keeps_its_exact_text() -> None:
    odd = datetime(2026, 1, 1, tzinfo=timezone(timedelta(seconds=30)))
    document: dict[str, Any] = orjson.loads(
        orjson.dumps(profile_document(Profile("p", None, odd, odd)))
    )
    assert document["created_at"] == odd.isoformat() == "2026-01-01T00:00:00+00:00:30"
