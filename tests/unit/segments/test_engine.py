"""Segment evaluation over real configs: membership, dependencies, time, scores."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from firstmile.config import parse_config
from firstmile.events.consent import ConsentPolicy
from firstmile.profiles.model import Computed, Profile
from firstmile.segments.attributes import profile_attributes
from firstmile.segments.engine import SegmentEngine, changed_roots, membership_changes

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
POLICY = ConsentPolicy.from_regimes("opt-out", "opt-out", "opt-in")
EXAMPLE = Path(__file__).parents[2] / "spec" / "config" / "valid" / "onboarding.yaml"

CONFIG = """
version: 1
segments:
  - key: pro
    name: Pro plan
    condition: {plan: pro}
  - key: mobile
    name: Mobile
    condition: {device_type: {$in: [mobile, tablet]}}
  - key: busy_today
    name: Busy today
    condition: {events.Completed Step.count_1d: {$gte: 2}}
  - key: new_this_week
    name: New this week
    condition: {signed_up_at: {$within: 7d}}
  - key: pro_on_mobile
    name: Pro on mobile
    condition: {segments.pro: true, segments.mobile: true}
scores:
  - key: engaged
    name: Engaged
    terms:
      - {event: Completed Step, window: all, weight: 10, cap: 5}
    scale: {max: 50}
    thresholds:
      - {segment: engaged_users, min: 60}
"""


def engine(text: str = CONFIG) -> SegmentEngine:
    return SegmentEngine(parse_config(text))


def profile(**traits: Any) -> Profile:
    return Profile("p1", "u1", NOW, NOW, traits=traits)


def attrs(p: Profile, now: datetime = NOW) -> dict[str, Any]:
    return profile_attributes(p, now=now, policy=POLICY)


def steps(p: Profile, count: int, at: datetime = NOW) -> Profile:
    hour = int(at.timestamp()) // 3600
    computed = replace(
        p.computed,
        event_counts={"Completed Step": count},
        hourly={hour: {"*": count, "Completed Step": count}},
        last_seen=at,
    )
    return replace(p, computed=computed)


def test_rule_segments_and_segments_reading_segments() -> None:
    p = replace(profile(plan="pro"), computed=Computed(device_type="mobile"))
    result = engine().evaluate(attrs(p), NOW)
    assert {"pro", "mobile", "pro_on_mobile"} <= result.members
    assert "busy_today" not in result.members


def test_threshold_segments_follow_the_score() -> None:
    e = engine()
    assert "engaged_users" not in e.evaluate(attrs(steps(profile(), 2)), NOW).members
    result = e.evaluate(attrs(steps(profile(), 4)), NOW)
    assert "engaged_users" in result.members
    assert result.scores["engaged"].value == pytest.approx(80)


def test_only_segments_reading_a_changed_attribute_are_affected() -> None:
    e = engine()
    old = attrs(profile(plan="free"))
    new = attrs(profile(plan="pro"))
    roots = changed_roots(old, new)
    assert roots == {"plan"}
    affected = e.affected(roots)
    # pro reads plan; pro_on_mobile reads segments.pro; time-dependent ones always run.
    assert {"pro", "pro_on_mobile"} <= affected
    assert "mobile" not in affected
    assert "engaged_users" not in affected


def test_event_counters_affect_the_segments_and_scores_that_read_them() -> None:
    e = engine()
    roots = changed_roots(attrs(profile()), attrs(steps(profile(), 1)))
    assert "events.Completed Step" in roots
    assert {"busy_today", "engaged_users"} <= e.affected(roots)


def test_time_dependent_segments_are_known() -> None:
    e = engine()
    assert {"busy_today", "new_this_week"} <= e.time_dependent
    assert "pro" not in e.time_dependent


def test_partial_evaluation_keeps_previous_membership() -> None:
    e = engine()
    p = profile(plan="free")
    result = e.evaluate(attrs(p), NOW, previous={"mobile"}, only={"pro", "pro_on_mobile"})
    assert result.members == {"mobile"}


def test_rolling_window_membership_expires_with_time() -> None:
    e = engine()
    p = steps(profile(), 3, at=NOW)
    assert "busy_today" in e.evaluate(attrs(p, NOW), NOW).members
    later = NOW + timedelta(hours=30)
    assert "busy_today" not in e.evaluate(attrs(p, later), later).members


def test_relative_time_membership_expires() -> None:
    e = engine()
    p = profile(signed_up_at=(NOW - timedelta(days=6)).isoformat())
    assert "new_this_week" in e.evaluate(attrs(p), NOW).members
    later = NOW + timedelta(days=2)
    assert "new_this_week" not in e.evaluate(attrs(p, later), later).members


def test_membership_changes_in_order() -> None:
    changes = membership_changes({"a", "b"}, {"b", "c"}, ["a", "b", "c"])
    assert [(c.segment_key, c.change) for c in changes] == [("a", "exited"), ("c", "entered")]


def test_the_documented_example_config_evaluates() -> None:
    e = SegmentEngine(parse_config(EXAMPLE.read_text(encoding="utf-8")))
    newcomer = replace(
        profile(signed_up_at=(NOW - timedelta(days=1)).isoformat()),
        computed=Computed(device_type="mobile", last_seen=NOW),
    )
    result = e.evaluate(attrs(newcomer), NOW)
    assert {"new_this_week", "mobile_first", "mobile_newcomers", "at_risk"} <= result.members
    assert "stalled_after_signup" not in result.members
    assert result.scores["engaged"].value == 0


def test_traits_win_over_computed_names_which_stay_under_computed() -> None:
    p = replace(profile(country="DE"), computed=Computed(country="FR"))
    a = attrs(p)
    assert a["country"] == "DE"
    assert a["computed"]["country"] == "FR"


def test_evaluate_agrees_with_each_condition_and_score_called_alone() -> None:
    e = engine()
    p = steps(profile(plan="pro", seats=12), 3, at=NOW - timedelta(days=2))
    for now in (NOW, NOW + timedelta(days=3), NOW + timedelta(days=30)):
        a = attrs(p, now)
        result = e.evaluate(a, now)
        for segment in e.config.segments:
            assert (segment.key in result.members) == segment.matches(a, now)
            assert segment.compiled.predicate is not None
        for threshold in e.config.threshold_segments:
            value = e.scores(a, now)[threshold.score].value
            inside = threshold.min <= value and (threshold.max is None or value < threshold.max)
            assert (threshold.key in result.members) == inside
            assert a["scores"][threshold.score] == value


def test_previous_members_outside_the_config_are_ignored() -> None:
    e = engine()
    a = attrs(profile(plan="free"))
    result = e.evaluate(a, NOW, previous={"not_a_segment"}, only=())
    assert result.members == frozenset()
    assert "not_a_segment" not in a["segments"]


INTERLEAVED = """
version: 1
segments:
  - key: pro
    name: Pro plan
    condition: {plan: pro}
  - key: engaged_pro
    name: Engaged pro
    condition: {segments.engaged_users: true, segments.pro: true}
scores:
  - key: engaged
    name: Engaged
    terms:
      - {event: Completed Step, window: all, weight: 10, cap: 5}
    scale: {max: 50}
    thresholds:
      - {segment: engaged_users, min: 60}
      - {segment: some_engagement, min: 10, max: 60}
"""


@pytest.mark.parametrize("count", [0, 1, 3, 4, 9])
def test_rules_reading_threshold_segments_run_after_them(count: int) -> None:
    e = engine(INTERLEAVED)
    order = e.config.segment_order
    assert order.index("engaged_pro") > order.index("engaged_users")
    a = attrs(steps(profile(plan="pro"), count))
    result = e.evaluate(a, NOW)
    value = min(count, 5) * 10 / 50 * 100
    assert result.scores["engaged"].value == pytest.approx(value)
    assert ("engaged_users" in result.members) is (value >= 60)
    assert ("some_engagement" in result.members) is (10 <= value < 60)
    assert ("engaged_pro" in result.members) is (value >= 60)
    assert a["segments"] == {key: key in result.members for key in order}


def test_partial_evaluation_across_batches() -> None:
    e = engine(INTERLEAVED)
    a = attrs(steps(profile(plan="free"), 9))
    result = e.evaluate(a, NOW, previous={"pro"}, only={"engaged_pro"})
    # engaged_pro reads the previous membership of the segments not re-evaluated.
    assert result.members == {"pro"}
    assert result.scores == {}
    result = e.evaluate(a, NOW, previous={"pro"}, only={"engaged_users", "engaged_pro"})
    assert result.members == {"pro", "engaged_users", "engaged_pro"}
    assert set(result.scores) == {"engaged"}


def test_scores_of_an_evaluation_are_the_results_a_direct_computation_gives() -> None:
    e = engine(INTERLEAVED)
    a = attrs(steps(profile(plan="pro"), 2))
    result = e.evaluate(a, NOW)
    direct = e.scores(a, NOW)
    assert dict(result.scores) == direct
    assert result.scores == direct
    assert len(result.scores) == 1
    assert list(result.scores) == ["engaged"]
    engaged = result.scores["engaged"]
    assert engaged is result.scores["engaged"]  # built once
    assert engaged.segments == ("some_engagement",)
    assert [c.contribution for c in engaged.contributions] == [20.0]
    assert "ScoreResult(key='engaged'" in repr(result.scores)
    with pytest.raises(KeyError):
        result.scores["missing"]


def test_score_results_keep_what_was_measured_during_the_evaluation() -> None:
    e = engine(INTERLEAVED)
    a = attrs(steps(profile(), 2))
    result = e.evaluate(a, NOW)
    a["events"]["Completed Step"]["count"] = 5  # the caller's copy changes afterwards
    assert result.scores["engaged"].raw == 20.0
    assert e.scores(a, NOW)["engaged"].raw == 50.0


def test_a_rule_reading_a_score_sees_its_value_even_without_thresholds() -> None:
    config = parse_config(
        """
version: 1
segments:
  - {key: keen, name: Keen, condition: {scores.engaged: {$gte: 50}}}
  - {key: keen_pro, name: Keen pro, condition: {segments.keen: true, plan: pro}}
scores:
  - key: engaged
    name: Engaged
    terms: [{event: Completed Step, window: all, weight: 10, cap: 5}]
"""
    )
    keen = Profile(
        "p", "u", NOW, NOW, traits={"plan": "pro"},
        computed=Computed(event_counts={"Completed Step": 4}),
    )  # fmt: skip
    attributes = profile_attributes(keen, now=NOW, policy=POLICY)
    result = SegmentEngine(config).evaluate(attributes, NOW)
    assert result.members == {"keen", "keen_pro"}
    assert attributes["scores"] == {"engaged": 80.0}
    # Re-evaluating only the reader still measures the score first.
    again = profile_attributes(keen, now=NOW, policy=POLICY)
    assert SegmentEngine(config).evaluate(again, NOW, only={"keen"}).members == {"keen"}
