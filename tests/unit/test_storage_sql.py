"""The SQL store's own encoders: what the driver-level ingest writes is what Core would write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from firstmile.profiles.model import Computed, Profile, profile_to_json
from firstmile.storage.engine import json_dumps
from firstmile.storage.sql import _Dialect, _profile_data, _sqlite_time
from firstmile.types import JSONObject

T0 = datetime(2026, 11, 25, 12, 30, 15, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    "traits",
    [
        {},
        {"plan": "pro", "seats": 3, "nested": {"a": [1, None, "é"]}},
        {"big": 2**70},  # beyond orjson: written by the standard library, with its mark
    ],
)
def test_profile_data_is_the_text_of_profile_to_json(traits: JSONObject) -> None:
    profile = Profile(
        "p1",
        "u1",
        T0.astimezone(timezone(timedelta(hours=2))),
        T0,
        version=3,
        traits=traits,
        computed=Computed(first_seen=T0, last_seen=T0, hourly={493_000: {"*": 1}}),
    )
    assert _profile_data(profile) == json_dumps(profile_to_json(profile))


@pytest.mark.parametrize(
    "value",
    [
        T0,
        T0.replace(microsecond=0),
        T0.astimezone(timezone(timedelta(hours=-7))),
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(seconds=30))),
        None,
    ],
)
def test_sqlite_time_is_naive_utc_text_with_microseconds(value: datetime | None) -> None:
    expected = (
        None
        if value is None
        else value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    )
    assert _sqlite_time(value) == expected


def test_sqlite_time_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="Naive datetime"):
        _sqlite_time(datetime(2026, 1, 1))  # naive on purpose


def test_membership_queries_bind_each_value_on_sqlite_and_one_array_on_postgresql() -> None:
    template = "SELECT v FROM t WHERE s = ? AND k {} AND v {}"
    sql, params = _Dialect("sqlite").in_query(template, ("web",), ["a"], ["x", "y"])
    assert sql == "SELECT v FROM t WHERE s = ? AND k IN (?) AND v IN (?, ?)"
    assert params == ("web", "a", "x", "y")
    sql, params = _Dialect("postgresql").in_query(template, ("web",), ["a"], ("x", "y"))
    assert sql == "SELECT v FROM t WHERE s = %s AND k = ANY(%s::text[]) AND v = ANY(%s::text[])"
    assert params == ("web", ["a"], ["x", "y"])
