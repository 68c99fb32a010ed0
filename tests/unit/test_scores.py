"""Tests for firstmile.scores: bounded, monotonic, decaying, thresholds to segments."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmile.scores import (
    AttributeTerm,
    EventTerm,
    Scale,
    ScoreDefinition,
    ScoreResult,
    Threshold,
    compute_score,
    decay_factor,
    number,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def engaged(**overrides: Any) -> ScoreDefinition:
    fields: dict[str, Any] = {
        "key": "engaged",
        "name": "Engaged",
        "terms": (
            EventTerm("Completed Step", "7d", weight=10, cap=5),
            EventTerm("Invited Teammate", "all", weight=15, cap=2),
            AttributeTerm("profile_complete", weight=20),
        ),
        "scale": Scale(max=100),
        "half_life": WEEK,
        "thresholds": (
            Threshold("engaged_users", min=60),
            Threshold("at_risk", min=0, max=20),
            Threshold("middle", min=20, max=60),
        ),
    }
    fields.update(overrides)
    return ScoreDefinition(**fields)


def attrs(
    steps: Any = 0, invites: Any = 0, complete: Any = False, seen: Any = NOW
) -> dict[str, Any]:
    return {
        "events": {
            "Completed Step": {"count_7d": steps, "count_1d": 0, "count": 99},
            "Invited Teammate": {"count": invites},
        },
        "profile_complete": complete,
        "last_seen": seen,
    }


def test_contributions_explain_the_raw_value() -> None:
    result = compute_score(engaged(), attrs(steps=3, invites=5, complete=True), NOW)
    assert [(c.label, c.value, c.contribution) for c in result.contributions] == [
        ("events.Completed Step.count_7d", 3.0, 30.0),
        ("events.Invited Teammate.count", 2.0, 30.0),  # capped at 2
        ("profile_complete", 1.0, 20.0),
    ]
    assert result.raw == 80.0
    assert result.value == 80.0
    assert result.key == "engaged"
    assert result.segments == ("engaged_users",)


@pytest.mark.parametrize(
    ("steps", "segments"),
    [(0, ("at_risk",)), (1, ("at_risk",)), (2, ("middle",)), (5, ("middle",))],
)
def test_thresholds_map_values_to_segments(steps: int, segments: tuple[str, ...]) -> None:
    # 10 per step: 0 and 10 are under 20; 20 (min inclusive) and 50 are in [20, 60)
    assert compute_score(engaged(), attrs(steps=steps), NOW).segments == segments


def test_threshold_boundaries() -> None:
    hi = Threshold("hi", min=60)
    band = Threshold("band", min=20, max=60)
    assert hi.contains(60)
    assert hi.contains(100)
    assert not hi.contains(59.999)
    assert band.contains(20)
    assert not band.contains(60)


def test_overlapping_thresholds_give_every_segment() -> None:
    score = engaged(thresholds=(Threshold("a", min=10), Threshold("b", min=30)))
    assert compute_score(score, attrs(steps=4), NOW).segments == ("a", "b")


def test_decay_halves_event_terms_after_one_half_life() -> None:
    score = engaged()
    fresh = compute_score(score, attrs(steps=4, invites=1, complete=True), NOW)
    later = compute_score(score, attrs(steps=4, invites=1, complete=True), NOW + WEEK)
    for before, after in zip(fresh.contributions, later.contributions, strict=True):
        if isinstance(before.term, EventTerm):
            assert after.contribution == pytest.approx(before.contribution / 2)
            assert after.decay == pytest.approx(0.5)
        else:
            assert after.contribution == before.contribution  # attribute terms do not decay
    two = compute_score(score, attrs(steps=4), NOW + 2 * WEEK)
    assert two.contributions[0].contribution == pytest.approx(40 / 4)


def test_decay_reads_iso_text_and_treats_naive_times_as_utc() -> None:
    assert decay_factor(WEEK, "2026-11-18T12:00:00Z", NOW) == pytest.approx(0.5)
    assert decay_factor(WEEK, datetime(2026, 11, 18, 12, 0), NOW) == pytest.approx(0.5)
    naive_now = NOW.replace(tzinfo=None)
    assert decay_factor(WEEK, "2026-11-18T12:00:00Z", naive_now) == pytest.approx(0.5)


@pytest.mark.parametrize("seen", [None, "yesterday", 12, NOW + WEEK])
def test_no_decay_without_a_readable_past_last_seen(seen: Any) -> None:
    assert decay_factor(WEEK, seen, NOW) == 1.0


def test_without_half_life_nothing_decays() -> None:
    score = engaged(half_life=None)
    old = compute_score(score, attrs(steps=4, seen=NOW - 10 * WEEK), NOW)
    assert old.raw == 40.0
    assert "last_seen" not in score.attributes
    assert "last_seen" in engaged().attributes


def test_attributes_lists_what_the_score_reads() -> None:
    assert engaged().attributes == {
        "events.Completed Step.count_7d",
        "events.Invited Teammate.count",
        "profile_complete",
        "last_seen",
    }


@pytest.mark.parametrize(
    ("value", "read"),
    [(True, 1.0), (False, 0.0), (None, 0.0), ("7", 0.0), (7, 7.0), (2.5, 2.5), ([1], 0.0)],
)
def test_what_counts_as_a_number(value: Any, read: float) -> None:
    score = engaged(terms=(AttributeTerm("x", weight=1),), half_life=None)
    assert compute_score(score, {"x": value}, NOW).raw == read


def test_dotted_attributes_and_missing_parts() -> None:
    score = engaged(terms=(AttributeTerm("company.seats", weight=1),), half_life=None)
    assert compute_score(score, {"company": {"seats": 4}}, NOW).raw == 4.0
    assert compute_score(score, {"company": "acme"}, NOW).raw == 0.0
    assert compute_score(score, {}, NOW).raw == 0.0


def test_event_names_may_contain_dots() -> None:
    score = engaged(terms=(EventTerm("Order.Completed", "1d", weight=1),), half_life=None)
    assert compute_score(score, {"events": {"Order.Completed": {"count_1d": 2}}}, NOW).raw == 2.0


def test_scale_maps_linearly_and_clamps() -> None:
    scale = Scale(min=-10, max=30)
    assert [scale.apply(x) for x in (-20, -10, 0, 10, 30, 99)] == [0, 0, 25, 50, 100, 100]
    assert scale.apply(math.nan) == 0.0
    with pytest.raises(ValueError, match="min < max"):
        Scale(min=5, max=5)
    with pytest.raises(ValueError, match="half_life"):
        engaged(half_life=timedelta(0))


counts = st.one_of(
    st.integers(0, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.booleans(),
    st.integers(-(10**400), 10**400),
)
ages = st.integers(-(10**7), 10**9).map(lambda s: NOW - timedelta(seconds=s))


@given(counts, counts, counts, ages)
def test_score_is_bounded(steps: Any, invites: Any, complete: Any, seen: datetime) -> None:
    result = compute_score(engaged(), attrs(steps, invites, complete, seen), NOW)
    assert 0.0 <= result.value <= 100.0
    assert not math.isnan(result.raw)


@given(
    st.sampled_from([0, 1, 2]),
    st.lists(st.floats(-1e6, 1e6), min_size=3, max_size=3),
    st.floats(0, 1e6),
    ages,
)
def test_score_is_monotonic_in_each_positive_weight_term(
    which: int, values: list[float], more: float, seen: datetime
) -> None:
    score = engaged(
        terms=(
            EventTerm("Completed Step", "7d", weight=10, cap=5),
            EventTerm("Invited Teammate", "all", weight=0.5),
            AttributeTerm("seats", weight=3, cap=50),
        ),
        scale=Scale(min=-50, max=150),
    )

    def at(numbers: list[float]) -> float:
        attributes = {
            "events": {
                "Completed Step": {"count_7d": numbers[0]},
                "Invited Teammate": {"count": numbers[1]},
            },
            "seats": numbers[2],
            "last_seen": seen,
        }
        return compute_score(score, attributes, NOW).value

    bigger = list(values)
    bigger[which] += more
    assert at(bigger) >= at(values)


@given(st.floats(0, 1e6), st.floats(0, 1e6))
def test_a_negative_weight_never_raises_the_score(tickets: float, more: float) -> None:
    score = engaged(
        terms=(AttributeTerm("base", weight=1, cap=10), AttributeTerm("tickets", weight=-2)),
        scale=Scale(max=10),
        half_life=None,
    )
    low = compute_score(score, {"base": 10, "tickets": tickets + more}, NOW)
    high = compute_score(score, {"base": 10, "tickets": tickets}, NOW)
    assert low.value <= high.value


# -- the compiled fast path: same results as the definition, explanation on demand --------


def reference(definition: ScoreDefinition, attributes: dict[str, Any], now: datetime) -> float:
    """The raw sum as the module docstring defines it, term by term."""
    raw = 0.0
    for term in definition.terms:
        if isinstance(term, EventTerm):
            window = {"1d": "count_1d", "7d": "count_7d", "all": "count"}[term.window]
            found = attributes.get("events", {}).get(term.event, {}).get(window)
        else:
            found = attributes.get(term.attribute)
        value = min(number(found), math.inf if term.cap is None else term.cap)
        decays = definition.half_life is not None and isinstance(term, EventTerm)
        factor = (
            decay_factor(definition.half_life, attributes.get("last_seen"), now)
            if (decays and definition.half_life is not None)
            else 1.0
        )
        raw += term.weight * value * factor
    return raw


@given(
    steps=st.integers(min_value=-3, max_value=9) | st.none() | st.booleans(),
    invites=st.floats(allow_nan=True) | st.integers(),
    complete=st.booleans() | st.text(max_size=2),
    days=st.floats(min_value=-3, max_value=40),
)
def test_the_compiled_score_matches_the_definition(
    steps: Any, invites: Any, complete: Any, days: float
) -> None:
    seen = (NOW - timedelta(days=days)).isoformat()
    attributes = attrs(steps, invites, complete, seen)
    result = compute_score(engaged(), attributes, NOW)
    assert result.raw == reference(engaged(), attributes, NOW)
    assert result.raw == sum(c.contribution for c in result.contributions)


def test_contributions_are_built_on_first_read_and_kept() -> None:
    result = compute_score(engaged(), attrs(steps=3, invites=1), NOW)
    first = result.contributions
    assert isinstance(first, tuple)
    assert result.contributions is first  # built once
    assert [c.decay for c in first] == [1.0, 1.0, 1.0]


def test_score_results_compare_by_value_and_are_immutable() -> None:
    one = compute_score(engaged(), attrs(steps=3), NOW)
    two = compute_score(engaged(), attrs(steps=3), NOW)
    assert one == two
    assert hash(one) == hash(two)
    assert one != compute_score(engaged(), attrs(steps=4), NOW)
    assert one != "engaged"
    assert ScoreResult("k", 1.0, 1.0, (), ()) == ScoreResult("k", 1.0, 1.0, lambda: (), ())
    assert "ScoreResult(key='engaged'" in repr(one)
    with pytest.raises(AttributeError):
        one.value = 5.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del one.raw
    with pytest.raises(AttributeError):
        one.note = "extra"  # type: ignore[attr-defined]


class ReadOnly(Mapping[str, Any]):
    """A Mapping that is not a dict (the compiled score must not assume dicts)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        return ReadOnly(value) if isinstance(value, dict) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def test_any_mapping_reads_like_a_dict() -> None:
    definition = engaged(terms=(*engaged().terms, AttributeTerm("plan.seats", weight=1)))
    data = attrs(steps=3, invites=2, complete=True, seen="2026-11-20T12:00:00+00:00")
    data["plan"] = {"seats": 4}
    plain = compute_score(definition, data, NOW)
    wrapped = compute_score(definition, ReadOnly(data), NOW)
    assert (wrapped.raw, wrapped.value, wrapped.segments) == (
        plain.raw,
        plain.value,
        plain.segments,
    )
    assert compute_score(definition, {"events": ["not", "a", "mapping"], "plan": 3}, NOW).raw == 0


def test_decay_reads_last_seen_once_per_text_and_handles_every_form() -> None:
    week_ago = "2026-11-18T12:00:00+00:00"
    assert decay_factor(WEEK, week_ago, NOW) == 0.5
    assert decay_factor(WEEK, week_ago, NOW) == 0.5  # cached
    assert decay_factor(WEEK, "2026-11-18T12:00:00", NOW) == 0.5  # naive text is UTC
    assert decay_factor(WEEK, datetime(2026, 11, 18, 12), NOW) == 0.5  # naive datetime too
    assert decay_factor(WEEK, week_ago, NOW.replace(tzinfo=None)) == 0.5  # naive now
    assert decay_factor(WEEK, "yesterday", NOW) == 1.0
    assert decay_factor(WEEK, ["2026-11-18"], NOW) == 1.0  # unhashable, not a time
    assert decay_factor(WEEK, "2026-12-01T00:00:00+00:00", NOW) == 1.0  # ahead


def test_huge_integers_count_zero() -> None:
    definition = engaged(terms=(AttributeTerm("n", weight=1),))
    assert compute_score(definition, {"n": 10**400}, NOW).raw == 0
    assert compute_score(definition, {"n": 7}, NOW).raw == 7


# -- the compiled fast path: every kind of read, and the thresholds ---------------------------


@pytest.mark.parametrize(
    ("value", "segments"),
    [
        (0.0, ("at_risk",)),
        (19.9, ("at_risk",)),
        (20.0, ("middle",)),
        (59.9, ("middle",)),
        (60.0, ("engaged_users",)),
        (100.0, ("engaged_users",)),
    ],
)
def test_several_thresholds_pick_their_segments_in_order(
    value: float, segments: tuple[str, ...]
) -> None:
    definition = engaged(terms=(AttributeTerm("x", weight=1),), half_life=None)
    assert compute_score(definition, {"x": value}, NOW).segments == segments


@pytest.mark.parametrize(
    ("threshold", "inside", "outside"),
    [
        (Threshold("s", min=50), (50.0, 100.0), (49.9, 0.0)),
        (Threshold("s", 10, 20), (10.0,), (20.0,)),
    ],
)
def test_one_threshold(
    threshold: Threshold, inside: tuple[float, ...], outside: tuple[float, ...]
) -> None:
    definition = engaged(
        terms=(AttributeTerm("x", weight=1),), half_life=None, thresholds=(threshold,)
    )
    for value in inside:
        assert compute_score(definition, {"x": value}, NOW).segments == ("s",)
    for value in outside:
        assert compute_score(definition, {"x": value}, NOW).segments == ()


@pytest.mark.parametrize(
    ("attributes", "raw"),
    [
        ({}, 0.0),
        ({"events": None}, 0.0),
        ({"events": {"Completed Step": None}}, 0.0),
        ({"events": {"Completed Step": "3"}}, 0.0),
        ({"events": {"Completed Step": {"count_7d": None}}}, 0.0),
        ({"events": {"Completed Step": {"count_7d": True}}}, 10.0),
        ({"events": {"Completed Step": {"count_7d": 2.5}}}, 25.0),
        ({"events": {"Completed Step": {"count_7d": math.nan}}}, 0.0),
        ({"events": {"Completed Step": {"count_7d": 10**400}}}, 0.0),
        ({"events": {"Completed Step": {"count_7d": 9}}}, 50.0),  # capped at 5
        ({"events": ReadOnly({"Completed Step": {"count_7d": 2}})}, 20.0),
        ({"events": {"Completed Step": ReadOnly({"count_7d": 2})}}, 20.0),
        ({"plan": {"seats": 3}}, 3.0),
        ({"plan": {"seats": True}}, 1.0),
        ({"plan": ReadOnly({"seats": 3})}, 3.0),
        ({"plan": 3}, 0.0),
        ({"plan": None}, 0.0),
        ({"flag": True}, 2.0),
        ({"flag": "yes"}, 0.0),
    ],
)
def test_every_kind_of_read(attributes: dict[str, Any], raw: float) -> None:
    definition = engaged(
        terms=(
            EventTerm("Completed Step", "7d", weight=10, cap=5),
            AttributeTerm("plan.seats", weight=1),
            AttributeTerm("flag", weight=2),
        ),
        half_life=None,
    )
    result = compute_score(definition, attributes, NOW)
    assert result.raw == raw
    assert result.raw == sum(c.contribution for c in result.contributions)


@given(
    steps=st.integers(min_value=-3, max_value=9) | st.none() | st.booleans(),
    invites=st.floats(allow_nan=True) | st.integers(),
    days=st.floats(min_value=-3, max_value=40),
)
def test_a_measurement_holds_what_the_result_holds(steps: Any, invites: Any, days: float) -> None:
    definition = engaged()
    attributes = attrs(steps, invites, True, (NOW - timedelta(days=days)).isoformat())
    value, raw, values, decay = definition.measure(attributes, NOW)
    result = definition.compiled(attributes, NOW)
    assert (value, raw) == (result.value, result.raw)
    assert values == [c.value for c in result.contributions]
    assert definition.result((value, raw, values, decay)) == result
