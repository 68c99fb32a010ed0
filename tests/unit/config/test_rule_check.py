"""Conflicting, shadowed and never-matching rules (firstmile.config.rule_check).

Configs are written inline; a conflict refuses the file (a problem with file, line and
field), a shadowed or never-matched rule is a warning, and each comes with an example.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firstmile.clock import FixedClock
from firstmile.config import (
    ConfigFileError,
    ConfigProblem,
    OnboardingConfig,
    load_config,
    parse_config,
)
from firstmile.config.rule_check import (
    RuleFinding,
    generated_findings,
    rule_problems,
    sample_findings,
)
from firstmile.config.rule_samples import MISSING, Sample, SampleSpace, neighbours, reach

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

CATALOG = """\
version: 1
traits:
  plan: string
  seats: number
  role: string
  email: string
  signed_up_at: timestamp
  app_version: string
  beta: string
catalog:
  - {id: hi, kind: message, title: Hi}
  - {id: hello, kind: message, title: Hello}
  - {id: create_project, kind: step, title: Create a project}
  - {id: invite_team, kind: step, title: Invite your team}
  - {id: shortcuts, kind: feature_tip, title: Shortcuts}
flows:
  - {key: setup, name: Set up, steps: [{item: create_project}, {item: invite_team}]}
  - {key: quick, name: Quick, steps: [{item: create_project}]}
"""
FIRST_RULE_LINE = CATALOG.count("\n") + 2  # after the catalog and `rules:`


def config_of(rules: str, *, extra: str = "", check: bool = True) -> OnboardingConfig:
    text = CATALOG + extra + "rules:\n" + rules
    return parse_config(text, source="firstmile.yaml", clock=FixedClock(NOW), check_rules=check)


def conflict_of(rules: str, *, extra: str = "") -> ConfigProblem:
    with pytest.raises(ConfigFileError) as caught:
        config_of(rules, extra=extra)
    (problem,) = caught.value.problems
    return problem


def findings(rules: str, *, extra: str = "") -> list[tuple[str, str, list[str]]]:
    config = config_of(rules, extra=extra, check=False)
    return [(f.kind, f.rule.key, [r.key for r in f.others]) for f in generated(config)]


def generated(config: OnboardingConfig) -> list[RuleFinding]:
    return generated_findings(config, now=NOW)


# -- conflicts ------------------------------------------------------------------------------


def test_overlapping_rules_at_one_priority_on_one_slot_refuse_the_file() -> None:
    problem = conflict_of(
        """\
  - {key: french, priority: 10, when: {country: FR}, then: {set_welcome: hi}}
  - {key: mobile, priority: 10, when: {device_type: mobile}, then: {set_welcome: hello}}
"""
    )
    assert (problem.file, problem.line, problem.field) == (
        "firstmile.yaml",
        FIRST_RULE_LINE + 1,
        "rules[1].priority",
    )
    assert (
        f"`french` (line {FIRST_RULE_LINE}) and `mobile` both set `welcome` at priority 10"
        in problem.message
    )
    assert '{"country": "FR", "device_type": "mobile"}' in problem.message


def test_the_conflict_is_in_the_findings_with_its_witness() -> None:
    config = config_of(
        """\
  - {key: french, priority: 10, when: {country: FR}, then: {set_welcome: hi}}
  - {key: mobile, priority: 10, when: {device_type: mobile}, then: {set_welcome: hello}}
""",
        check=False,
    )
    (found,) = generated(config)
    assert found.to_json() == {
        "kind": "conflict",
        "rule": "mobile",
        "others": ["french"],
        "target": "welcome",
        "priority": 10,
        "origin": "generated",
        "example": {"country": "FR", "device_type": "mobile"},
        "user": None,
        "samples": 0,
    }
    for rule in config.onboarding.rules:
        assert rule.condition(found_attributes(config, found), now=NOW)


def found_attributes(config: OnboardingConfig, found: RuleFinding) -> dict[str, Any]:
    """The example as an attributes object (it only holds plain paths here)."""
    return {key: value for key, value in found.example.items() if "." not in key}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("{plan: pro}", "{plan: free}"),
        ("{seats: {$gte: 10}}", "{seats: {$lt: 10}}"),
        ("{plan: {$in: [pro, team]}}", "{plan: {$nin: [pro, team]}}"),
        ("{signed_up_at: {$within: 7d}}", "{signed_up_at: {$olderThan: 7d}}"),
        ("{$or: [{plan: pro}, {seats: {$gt: 50}}]}", "{plan: free, seats: {$lte: 50}}"),
        ("{events.Step Completed.count_1d: {$gte: 2}}", "{events.Step Completed.count: {$lt: 2}}"),
    ],
)
def test_exclusive_conditions_do_not_conflict(first: str, second: str) -> None:
    rules = f"""\
  - {{key: a, priority: 5, when: {first}, then: {{set_welcome: hi}}}}
  - {{key: b, priority: 5, when: {second}, then: {{set_welcome: hello}}}}
"""
    assert findings(rules) == []
    config_of(rules)  # loads


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("{seats: {$gte: 10}}", "{seats: {$lt: 20}}"),
        ("{signed_up_at: {$within: 7d}}", "{signed_up_at: {$within: 30d}}"),
        ("{plan: {$ne: free}}", "{plan: {$in: [pro, free]}}"),
        ("{email: {$regex: '@acme\\.com$'}}", "{plan: pro}"),
        ("{app_version: {$vgte: 2.1.0}}", "{app_version: {$vlt: 3.0.0}}"),
        ("{}", "{device_type: mobile}"),
    ],
)
def test_overlapping_conditions_conflict(first: str, second: str) -> None:
    rules = f"""\
  - {{key: a, priority: 5, when: {first}, then: {{set_welcome: hi}}}}
  - {{key: b, priority: 5, when: {second}, then: {{set_welcome: hello}}}}
"""
    assert findings(rules) == [("conflict", "b", ["a"])]


def test_segments_are_computed_from_the_values_so_exclusive_segments_do_not_conflict() -> None:
    segments = """\
segments:
  - {key: pro, name: Pro, condition: {plan: pro}}
  - {key: free, name: Free, condition: {plan: free}}
  - {key: mobile, name: Mobile, condition: {device_type: {$in: [mobile, tablet]}}}
"""
    exclusive = """\
  - {key: a, priority: 5, when: {segments.pro: true}, then: {set_flow: quick}}
  - {key: b, priority: 5, when: {segments.free: true}, then: {set_flow: setup}}
"""
    assert findings(exclusive, extra=segments) == []
    overlapping = """\
  - {key: a, priority: 5, when: {segments.pro: true}, then: {set_flow: quick}}
  - {key: b, priority: 5, when: {segments.mobile: true}, then: {set_flow: setup}}
"""
    problem = conflict_of(overlapping, extra=segments)
    assert "both set `flow` at priority 5" in problem.message
    assert '"plan": "pro"' in problem.message
    assert '"segments.mobile": true' in problem.message


SCORES = """\
scores:
  - key: engaged
    name: Engaged
    terms:
      - {event: Step Completed, window: 7d, weight: 10, cap: 5}
    thresholds:
      - {segment: engaged_users, min: 60}
"""


def test_scores_and_threshold_segments_are_computed_from_the_event_counts() -> None:
    exclusive = """\
  - {key: a, priority: 5, when: {segments.engaged_users: true}, then: {set_flow: quick}}
  - {key: b, priority: 5, when: {scores.engaged: {$lt: 30}}, then: {set_flow: setup}}
"""
    assert findings(exclusive, extra=SCORES) == []
    overlapping = """\
  - {key: a, priority: 5, when: {segments.engaged_users: true}, then: {set_flow: quick}}
  - {key: b, priority: 5, when: {scores.engaged: {$gte: 50}}, then: {set_flow: setup}}
"""
    config = config_of(overlapping, extra=SCORES, check=False)
    (found,) = generated(config)
    assert found.kind == "conflict"
    assert found.example["segments.engaged_users"] is True
    assert found.example["scores.engaged"] >= 60


def test_other_slots_other_items_and_the_same_action_are_not_conflicts() -> None:
    rules = """\
  - {key: a, priority: 5, when: {}, then: {set_welcome: hi}}
  - {key: b, priority: 5, when: {}, then: {set_flow: quick}}
  - {key: c, priority: 5, when: {}, then: {remove_step: create_project}}
  - {key: d, priority: 5, when: {}, then: {remove_step: invite_team}}
  - {key: e, priority: 5, when: {plan: pro}, then: {set_welcome: hi}}
  - {key: f, priority: 4, when: {plan: team}, then: {pin_tip: shortcuts}}
"""
    assert [f[0] for f in findings(rules)] == ["shadowed"]  # e: a always sets welcome first


def test_two_operations_on_one_item_conflict() -> None:
    problem = conflict_of(
        """\
  - {key: a, priority: 5, when: {plan: pro}, then: {remove_step: invite_team}}
  - {key: b, priority: 5, when: {role: admin}, then: {move_step: {item: invite_team, position: 0}}}
"""
    )
    assert "both change the step `invite_team` at priority 5" in problem.message


# -- shadowed and never matched ---------------------------------------------------------------


def test_a_narrower_rule_below_a_broader_one_is_shadowed() -> None:
    config = config_of(
        """\
  - {key: pro, priority: 20, when: {plan: pro}, then: {set_welcome: hi}}
  - {key: pro_fr, priority: 10, when: {plan: pro, country: FR}, then: {set_welcome: hello}}
  - {key: fr, priority: 10, when: {country: FR}, then: {set_flow: quick}}
"""
    )
    (warning,) = config.warnings
    assert (warning.line, warning.field) == (FIRST_RULE_LINE + 1, "rules[1].when")
    assert "Rule `pro_fr` never applies" in warning.message
    assert f"`pro` (line {FIRST_RULE_LINE}) (priority 20) set `welcome` first" in warning.message
    (found,) = config.rule_findings
    assert (found.kind, found.rule.key, [r.key for r in found.others]) == (
        "shadowed",
        "pro_fr",
        ["pro"],
    )
    assert found.example == {"country": "FR", "plan": "pro"}
    assert found.samples > 0


def test_a_broader_rule_below_a_narrower_one_is_not_shadowed() -> None:
    rules = """\
  - {key: pro_fr, priority: 20, when: {plan: pro, country: FR}, then: {set_welcome: hi}}
  - {key: pro, priority: 10, when: {plan: pro}, then: {set_welcome: hello}}
"""
    assert findings(rules) == []


def test_rules_that_cover_a_rule_together_shadow_it() -> None:
    rules = """\
  - {key: pro, priority: 20, when: {plan: pro}, then: {set_welcome: hi}}
  - {key: not_pro, priority: 20, when: {plan: {$ne: pro}}, then: {set_welcome: hello}}
  - {key: anyone, priority: 10, when: {country: FR}, then: {set_welcome: hello}}
"""
    assert findings(rules) == [("shadowed", "anyone", ["pro", "not_pro"])]


def test_a_stop_rule_shadows_what_comes_after_it() -> None:
    config = config_of(
        """\
  - {key: everyone, priority: 50, when: {}, then: {set_flow: quick}, stop: true}
  - {key: later, priority: 10, when: {plan: pro}, then: {pin_tip: shortcuts}}
"""
    )
    (warning,) = config.warnings
    assert f"`everyone` (line {FIRST_RULE_LINE}) ends the evaluation (`stop`)" in warning.message


def test_a_rule_that_cannot_match_is_reported() -> None:
    config = config_of(
        """\
  - key: impossible
    priority: 5
    when: {$and: [{plan: pro}, {plan: free}]}
    then: {set_welcome: hi}
""",
        extra="segments:\n  - {key: pro, name: Pro, condition: {plan: pro}}\n",
    )
    (warning,) = config.warnings
    assert warning.field == "rules[0].when"
    assert "Rule `impossible` matches none of the" in warning.message
    assert [f.kind for f in config.rule_findings] == ["never_matched"]


def test_the_example_config_has_no_findings() -> None:
    spec = Path(__file__).resolve().parents[2] / "spec" / "config" / "valid" / "decide.yaml"
    config = load_config(spec)
    assert config.rule_findings == ()
    assert config.warnings == ()


def test_findings_are_the_same_every_time() -> None:
    rules = """\
  - {key: pro, priority: 20, when: {plan: pro}, then: {set_welcome: hi}}
  - {key: pro_fr, priority: 10, when: {plan: pro, country: FR}, then: {set_welcome: hello}}
  - {key: a, priority: 5, when: {seats: {$gte: 10}}, then: {set_flow: quick}}
  - {key: b, priority: 5, when: {seats: {$lt: 20}}, then: {set_flow: setup}}
"""
    config = config_of(rules, check=False)
    first = [f.to_json() for f in generated(config)]
    assert first == [f.to_json() for f in generated(config)]
    assert [f["kind"] for f in first] == ["shadowed", "conflict"]


def test_check_rules_false_skips_the_search() -> None:
    rules = """\
  - {key: a, priority: 5, when: {}, then: {set_welcome: hi}}
  - {key: b, priority: 5, when: {}, then: {set_welcome: hello}}
"""
    config = config_of(rules, check=False)
    assert config.rule_findings == ()


# -- given samples (the stored profiles) ------------------------------------------------------


def test_given_samples_name_the_user_and_count_the_profiles() -> None:
    config = config_of(
        """\
  - {key: pro, priority: 20, when: {plan: pro}, then: {set_welcome: hi}}
  - {key: pro_team, priority: 10, when: {seats: {$gte: 5}}, then: {set_welcome: hello}}
  - {key: french, priority: 5, when: {country: FR}, then: {set_flow: quick}}
  - {key: admins, priority: 5, when: {role: admin}, then: {set_flow: setup}}
""",
        check=False,
    )
    samples = [
        Sample({"plan": "pro", "seats": 10, "role": "admin"}, user="u1"),
        Sample({"plan": "pro", "seats": 8, "country": "FR", "role": "admin"}, user="u2"),
        Sample({"plan": "free", "seats": 1}, user="u3"),
    ]
    total, found = sample_findings(config, samples, now=NOW)
    assert total == 3
    summary = [(f.kind, f.rule.key, [r.key for r in f.others], f.user) for f in found]
    assert summary == [
        ("shadowed", "pro_team", ["pro"], "u1"),
        ("conflict", "admins", ["french"], "u2"),
    ]
    errors, warnings = rule_problems(config, found, profiles=total)
    (error,) = errors
    assert error.line == FIRST_RULE_LINE + 3
    assert "stored user `u2`" in error.message
    (warning,) = warnings
    assert "in the 3 stored profiles, the 2 that match it" in warning.message


def test_given_samples_that_match_no_rule_report_it() -> None:
    config = config_of("  - {key: pro, priority: 20, when: {plan: pro}, then: {set_welcome: hi}}\n")
    total, found = sample_findings(config, [Sample({"plan": "free"}, user="u1")], now=NOW)
    assert total == 1
    (finding,) = found
    assert (finding.kind, finding.samples) == ("never_matched", 1)
    (warning,) = rule_problems(config, found, profiles=total)[1]
    assert warning.message == "Rule `pro` matches none of the 1 stored profiles."
    assert sample_findings(config, [], now=NOW) == (0, [])


# -- the samples ------------------------------------------------------------------------------


def test_candidate_values_come_from_the_conditions() -> None:
    config = config_of(
        """\
  - key: a
    priority: 5
    when: {seats: {$gte: 10}, plan: {$in: [pro, team]}}
    then: {set_welcome: hi}
  - key: b
    priority: 4
    when: {event_count: {$lt: 1}, beta: {$inGroup: testers}}
    then: {set_flow: quick}
""",
        extra="saved_groups:\n  testers: [u1, u2]\n",
        check=False,
    )
    space = SampleSpace(config, now=NOW)
    assert space.values(("seats",)) == (MISSING, 10, 9, 11)
    assert space.values(("plan",)) == (MISSING, "pro", "team", "other")
    assert space.values(("event_count",)) == (0, 1, 2)  # a counter: never missing or negative
    assert space.values(("beta",)) == (MISSING, "u1", "u2", "not-in-group", "other")
    assert space.values(("device_type",))[1:] == ("mobile", "desktop", "tablet", "other")
    assert neighbours(2.5) == [1.5, 3.5]


def test_reach_follows_segments_and_scores() -> None:
    config = config_of(
        "  - {key: a, priority: 5, when: {segments.engaged_users: true}, "
        "then: {set_flow: quick}}\n",
        extra=SCORES,
        check=False,
    )
    (rule,) = config.onboarding.rules
    found = reach(config, [rule.condition])
    assert (found.keys, found.segments, found.scores) == (
        (),
        frozenset({"engaged_users"}),
        frozenset({"engaged"}),
    )
    samples = SampleSpace(config, now=NOW).samples([rule.condition], seed="t")
    scores = sorted({s.attributes["scores"]["engaged"] for s in samples})
    assert scores[0] == 0.0
    assert scores[-1] == 100.0
    assert any(s.attributes["segments"]["engaged_users"] for s in samples)


# -- properties ---------------------------------------------------------------------------------

PLANS = ["pro", "free", "team"]
SEATS = [0, 5, 10]
leaf = st.one_of(
    st.builds(lambda v: {"plan": v}, st.sampled_from(PLANS)),
    st.builds(lambda v: {"plan": {"$ne": v}}, st.sampled_from(PLANS)),
    st.builds(lambda v: {"plan": {"$in": v}}, st.lists(st.sampled_from(PLANS), max_size=2)),
    st.builds(lambda v: {"plan": {"$nin": v}}, st.lists(st.sampled_from(PLANS), max_size=2)),
    st.builds(lambda v: {"plan": {"$exists": v}}, st.booleans()),
    st.builds(
        lambda op, v: {"seats": {op: v}},
        st.sampled_from(["$gt", "$gte", "$lt", "$lte", "$eq", "$ne"]),
        st.sampled_from(SEATS),
    ),
    st.builds(lambda v: {"country": v}, st.sampled_from(["FR", "US"])),
    st.builds(lambda v: {"segments.big": v}, st.booleans()),
)
conditions = st.one_of(
    leaf,
    st.lists(leaf, min_size=1, max_size=3).map(lambda parts: {"$and": parts}),
    st.lists(leaf, min_size=1, max_size=3).map(lambda parts: {"$or": parts}),
    leaf.map(lambda part: {"$not": part}),
)
DOMAIN: dict[str, list[Any]] = {
    "plan": [None, *PLANS, "enterprise"],
    "seats": [None, *range(-1, 12)],
    "country": [None, "FR", "US", "DE"],
}


def _attributes(values: dict[str, Any]) -> dict[str, Any]:
    attributes = {k: v for k, v in values.items() if v is not None}
    big = isinstance(attributes.get("seats"), int) and attributes["seats"] >= 5
    attributes["segments"] = {"big": big}
    return attributes


def _from_example(example: Mapping[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for path, value in example.items():
        head, _, rest = path.partition(".")
        if rest:
            attributes.setdefault(head, {})[rest] = value
        else:
            attributes[head] = value
    attributes.setdefault("segments", {})
    return attributes


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions, conditions)
def test_conflicts_found_are_real_and_none_is_missed_on_a_small_domain(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    text = (
        CATALOG
        + "segments:\n  - {key: big, name: Big, condition: {seats: {$gte: 5}}}\n"
        + "rules:\n"
        + f"  - {{key: a, priority: 5, when: {json.dumps(first)}, then: {{set_welcome: hi}}}}\n"
        + f"  - {{key: b, priority: 5, when: {json.dumps(second)}, then: {{set_welcome: hello}}}}\n"
    )
    config = parse_config(text, check_rules=False)
    rule_a, rule_b = config.onboarding.rules
    found = [f for f in generated(config) if f.kind == "conflict"]
    for finding in found:  # the example is a user both rules match
        witness = _from_example(finding.example)
        assert rule_a.condition(witness, now=NOW), finding.example
        assert rule_b.condition(witness, now=NOW), finding.example
    both = any(
        rule_a.condition(attributes, now=NOW) and rule_b.condition(attributes, now=NOW)
        for attributes in (
            _attributes(dict(zip(DOMAIN, combination, strict=True)))
            for combination in itertools.product(*DOMAIN.values())
        )
    )
    assert bool(found) == both


def test_docs_show_what_the_loader_says_about_the_conflict_spec_file() -> None:
    root = Path(__file__).resolve().parents[3]
    path = root / "tests" / "spec" / "config" / "invalid" / "decide_rule_conflict.yaml"
    with pytest.raises(ConfigFileError) as caught:
        load_config(path)
    (problem,) = caught.value.problems
    line = str(problem).replace(str(path), "firstmile.yaml")
    assert f"```text\n{line}\n```" in (root / "docs" / "config.md").read_text(encoding="utf-8")
