"""The trial sections of firstmile.yaml: every mistake is reported with its line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firstmile.config import ConfigFileError, parse_config

VALID = (Path(__file__).parents[2] / "spec" / "config" / "valid" / "trials.yaml").read_text(
    encoding="utf-8"
)

KEYS = (
    "key", "kind", "event", "property", "window", "variants", "weight", "then", "metrics",
    "metric", "arms", "coverage", "when", "contexts", "min_weight", "set_welcome", "status",
    "numerator", "denominator", "namespace", "range", "forced", "cadence", "hash_version",
)  # fmt: skip


def _problems(text: str) -> str:
    with pytest.raises(ConfigFileError) as info:
        parse_config(text, source="firstmile.yaml")
    return str(info.value)


def test_the_valid_file_builds_experiments_bandits_and_metrics() -> None:
    config = parse_config(VALID, source="firstmile.yaml")
    trials = config.trials
    assert sorted(trials.metrics) == ["activated", "errors"]
    (experiment,) = trials.experiments
    assert experiment.experiment.variations == ("control", "friendly")
    assert experiment.slots == {"welcome"}
    assert [r.origin for r in experiment.variant_rules[1]] == ["experiment"]
    (bandit,) = trials.bandits
    assert bandit.policy.kind == "conversion"
    assert bandit.slots == {"tips"}
    assert trials.metric_events() == {"Project Created", "Error Shown"}
    assert not config.warnings  # every metric event is declared under `events:`


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("weight: 0.5, then", "weight: 0.6, then"), "weights sum to 1.1"),
        (("metrics: [activated, errors]", "metrics: [activatd]"), "did you mean `activated`"),
        (("metric: activated", "metric: nope"), "`nope` is not a metric"),
        (("event: Project Created,", "event: Project Createdd,"), "did you mean `Project Created`"),
        (("forced: {qa-1: friendly}", "forced: {qa-1: friendlier}"), "not a variant"),
        (("set_welcome: welcome_friendly", "set_welcome: welcome_nope"), "not in the catalog"),
        (("pin_tip: tip_b", "pin_tip: welcome"), "is a message; this place takes a feature_tip"),
        (("{key: b, then", "{key: a, then"), "Duplicate arm key `a`"),
        (("min_samples: 5", "min_samples: -1"), "min_samples"),
        (("cadence: 1h", "cadence: soon"), "cadence"),
        (("metrics: [activated, errors]", "metrics: [activated]\n    colour: red"), "colour"),
    ],
)
def test_mistakes_are_reported_with_their_line(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in VALID
    text = _problems(VALID.replace(old, new))
    assert expected in text
    assert "firstmile.yaml:" in text


def test_fewer_than_two_variants_and_a_ratio_reward_are_refused() -> None:
    one = VALID.replace("      - {key: control, weight: 0.5}\n", "").replace(
        "weight: 0.5, then", "weight: 1.0, then"
    )
    assert "needs at least two variations" in _problems(one)
    ratio = VALID.replace(
        "metrics:\n",
        "metrics:\n  - key: per_session\n    kind: ratio\n"
        "    numerator: {event: Project Created}\n    denominator: {event: Signed Up}\n",
    ).replace("metric: activated", "metric: per_session")
    assert "is a ratio metric" in _problems(ratio)


def test_without_an_events_section_metric_events_are_warnings() -> None:
    text = VALID.replace("events: [Signed Up, Project Created, Error Shown]\n", "")
    config = parse_config(text, source="firstmile.yaml")
    assert any("declare the events you track" in w.message for w in config.warnings)


_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(-2, 2) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    section=st.sampled_from(["experiments", "bandits", "metrics"]),
    item=st.dictionaries(st.sampled_from(KEYS), _JSONISH, max_size=6),
)
def test_any_trial_section_gives_a_config_or_problems_never_a_crash(
    section: str, item: dict[str, object]
) -> None:
    data = yaml.safe_load(VALID)
    data[section] = [*data[section], item]
    problems: list[object] = []
    try:
        parse_config(yaml.safe_dump(data), source="firstmile.yaml")
    except ConfigFileError as exc:  # the only failure allowed, and it says what is wrong
        problems = list(exc.problems)
        assert problems, "a ConfigFileError lists its problems"


def test_a_hash_attribute_must_be_a_declared_trait_when_traits_are_declared() -> None:
    declared = VALID.replace("version: 1\n", "version: 1\ntraits: {company_id: string}\n", 1)
    ok = declared.replace(
        "    metrics: [activated, errors]\n",
        "    metrics: [activated, errors]\n    hash_attribute: company_id\n",
        1,
    )
    assert (
        parse_config(ok, source="firstmile.yaml").trials.experiments[0].experiment.hash_attribute
        == "company_id"
    )
    typo = ok.replace("hash_attribute: company_id", "hash_attribute: compny_id")
    assert "did you mean `company_id`" in _problems(typo)
