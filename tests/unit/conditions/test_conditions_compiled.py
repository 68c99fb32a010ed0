"""CompiledCondition: what it reads (.attributes), whether it depends on time, and `now`."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from firstmile.conditions import CompiledCondition, compile_condition, evaluate

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("condition", "paths"),
    [
        ({}, set()),
        ({"country": "FR", "age": {"$gte": 18}}, {"country", "age"}),
        ({"events.Completed Step.count_7d": {"$gte": 3}}, {"events.Completed Step.count_7d"}),
        (
            {"$or": [{"a": 1}, {"$and": [{"b.c": 2}, {"$not": {"d": 3}}]}], "$nor": [{"e": 4}]},
            {"a", "b.c", "d", "e"},
        ),
        # Paths inside $elemMatch are relative to the items of the list: only the list is read.
        ({"items": {"$elemMatch": {"sku": "a", "qty": {"$gt": 1}}}}, {"items"}),
        ({"$groups": {"$elemMatch": {"$eq": "a"}}}, {"$groups"}),
    ],
)
def test_attributes_lists_the_paths_read(condition: dict[str, Any], paths: set[str]) -> None:
    compiled = compile_condition(condition)
    assert compiled.attributes == frozenset(paths)
    assert isinstance(compiled.attributes, frozenset)


@pytest.mark.parametrize(
    ("condition", "uses_time"),
    [
        ({"plan": "pro"}, False),
        ({"signed_up_at": {"$within": "7d"}}, True),
        ({"signed_up_at": {"$olderThan": "2w"}}, True),
        ({"$or": [{"plan": "pro"}, {"$not": {"seen_at": {"$within": "1h"}}}]}, True),
        ({"logins": {"$elemMatch": {"$within": "1d"}}}, True),
        ({"d": {"$not": {"$olderThan": "1d"}}}, True),
        ({"d": {"$gte": "2026-01-01"}}, False),
    ],
)
def test_uses_time(condition: dict[str, Any], uses_time: bool) -> None:
    assert compile_condition(condition).uses_time is uses_time


def test_now_defaults_to_the_current_utc_time() -> None:
    recent = compile_condition({"seen_at": {"$within": "1h"}})
    just_now = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    long_ago = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    assert recent({"seen_at": just_now}) is True
    assert recent({"seen_at": long_ago}) is False


def test_now_is_a_keyword_and_a_naive_now_is_utc() -> None:
    recent = compile_condition({"seen_at": {"$within": "1h"}})
    attributes = {"seen_at": "2026-11-25T11:30:00Z"}
    assert recent(attributes, now=NOW) is True
    assert recent(attributes, now=NOW.replace(tzinfo=None)) is True
    assert recent(attributes, now=NOW + timedelta(hours=1)) is False
    with pytest.raises(TypeError):
        recent(attributes, NOW)  # type: ignore[call-arg]


def test_the_same_compiled_condition_moves_with_now() -> None:
    new_user = compile_condition({"signed_up_at": {"$within": "7d"}})
    profile = {"signed_up_at": "2026-11-20T09:00:00Z"}
    assert [new_user(profile, now=NOW + timedelta(days=d)) for d in (0, 1, 2)] == [
        True,
        True,
        False,
    ]


def test_datetime_attributes_are_read_as_iso_strings() -> None:
    moment = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    attributes = {"signed_up_at": moment, "birthday": date(1990, 5, 1)}
    assert evaluate({"signed_up_at": {"$within": "7d"}}, attributes, now=NOW)
    assert evaluate({"signed_up_at": {"$olderThan": "1d"}}, attributes, now=NOW)
    assert evaluate({"birthday": {"$olderThan": "52w"}}, attributes, now=NOW)
    assert evaluate({"signed_up_at": {"$gte": "2026-11-01", "$type": "string"}}, attributes)
    assert evaluate({"signed_up_at": "2026-11-20T09:00:00+00:00"}, attributes)
    assert evaluate({"birthday": {"$regex": "^1990-"}}, attributes)
    assert evaluate({"meta.at": {"$within": "7d"}}, {"meta": {"at": moment}}, now=NOW)


def test_naive_datetime_attributes_are_utc() -> None:
    attributes = {"at": datetime(2026, 11, 25, 11, 30)}
    assert evaluate({"at": {"$within": "1h"}}, attributes, now=NOW)


def test_a_compiled_condition_can_be_reused_and_keeps_its_source() -> None:
    condition = {"plan": {"$in": ["pro", "team"]}}
    compiled = compile_condition(condition)
    assert isinstance(compiled, CompiledCondition)
    assert compiled.condition is condition
    results = [compiled({"plan": plan}) for plan in ("pro", "free", "team")]
    assert results == [True, False, True]
    assert repr(compiled) == (
        'CompiledCondition({"plan": {"$in": ["pro", "team"]}}, attributes=[\'plan\'], '
        "uses_time=False)"
    )


def test_any_mapping_works_as_attributes() -> None:
    from types import MappingProxyType

    compiled = compile_condition({"a.b": 1, "c": "x"})
    assert compiled(MappingProxyType({"a": MappingProxyType({"b": 1}), "c": "x"})) is True


def test_catastrophic_backtracking_patterns_return_promptly() -> None:
    # With a backtracking engine, (a+)+$ on "a" * 30 + "b" takes about 2**30 steps (minutes in
    # Python's re); RE2 is linear. The bound is loose on purpose: it only catches a blow-up.
    evil = compile_condition({"name": {"$regex": "(a+)+$"}})
    started = time.perf_counter()
    assert evil({"name": "a" * 30 + "b"}) is False
    assert evil({"name": "a" * 100_000 + "b"}) is False
    assert evil({"name": "a" * 100_000}) is True
    assert time.perf_counter() - started < 1.0
    nested = compile_condition({"name": {"$regexi": "^(a|aa)*(b|ab)*c$"}})
    assert nested({"name": "a" * 5000 + "B"}) is False


def test_strings_with_unpaired_surrogates_are_matched_without_error() -> None:
    assert evaluate({"s": {"$regex": "a"}}, {"s": "\ud800a"}) is True
    assert evaluate({"s": {"$lt": "\uffff"}}, {"s": "\ud800"}) is True
