"""The ``models`` section: what it builds, every problem with its line, and fuzzing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firstmile.config import ConfigFileError, parse_config

BASE = """\
version: 1
events: [Created Project, Signed Up]
models:
  features:
    - {name: sessions, path: sessions}
    - {name: projects, event: Created Project, window: 7d}
    - {name: device, path: device_type, kind: category}
    - {name: paid, path: paid, kind: flag}
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigFileError) as caught:
        parse_config(text)
    return [f"{p.line}: {p.message}" for p in caught.value.problems]


def test_a_valid_section_builds_typed_settings() -> None:
    config = parse_config(
        BASE
        + """\
  personas: {k_range: [3, 6], features: [sessions, device]}
  predictions:
    - {key: activates, outcome: {event: Created Project, within: 3d}, observe: 12h}
    - {key: churn, outcome: {inactive: true, within: 14d}, algorithm: logistic_regression}
  recommendations: {algorithm: hybrid, content_weight: 0.3}
  fairness: {protected: [country]}
"""
    )
    models = config.models
    assert [f.name for f in models.features] == ["sessions", "projects", "device", "paid"]
    assert models.features[0].missing == "median"
    assert models.features[2].kind == "category"
    assert models.personas is not None
    assert models.personas.k_range == (3, 6)
    assert [f.name for f in models.specs(models.personas.features)] == ["sessions", "device"]
    activates, churn = models.predictions
    assert activates.outcome.kind == "event"
    assert activates.outcome.within == timedelta(days=3)
    assert activates.observe == timedelta(hours=12)
    assert churn.outcome.kind == "inactive"
    assert models.model_names == ("personas", "activates", "churn", "recommendations")
    assert models.fairness is not None
    assert models.fairness.protected == ("country",)


def test_the_section_changes_the_version_id() -> None:
    without = parse_config("version: 1\n")
    with_models = parse_config(BASE)
    assert without.version_id != with_models.version_id
    assert without.models.empty


@pytest.mark.parametrize(
    ("extra", "line", "words"),
    [
        ("    - {name: sessions, path: x}\n", 9, "Duplicate feature name `sessions`"),
        ("    - {name: both, path: a, event: b}\n", 9, "exactly one of `path`"),
        (
            "  predictions:\n    - {key: p, outcome: {within: 7d}}\n",
            10,
            "exactly one of `event`",
        ),
        (
            "  predictions:\n    - {key: p, outcome: {event: Nope}}\n",
            10,
            "not in `events:`",
        ),
        (
            "  predictions:\n    - {key: p, outcome: {trait: paid}}\n",
            10,
            "also a feature",
        ),
        (
            "  predictions:\n    - {key: personas, outcome: {inactive: true}}\n",
            10,
            "is taken",
        ),
        ("  personas: {features: [sesions]}\n", 9, "Unknown feature `sesions`"),
        ("  personas: {k_range: [6, 3]}\n", 9, "k_range"),
        ("  recommendations: {algorithm: magic}\n", 9, "'hybrid'"),
    ],
)
def test_problems_say_what_and_where(extra: str, line: int, words: str) -> None:
    problems = _problems(BASE + extra)
    assert any(p.startswith(f"{line}:") and words in p for p in problems), problems


def test_features_are_required_and_the_label_trait_cannot_be_read() -> None:
    assert any("features" in p for p in _problems("version: 1\nmodels: {}\n"))


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 50), st.floats(allow_nan=True),
    st.sampled_from(["sessions", "7d", "kmeans", "auto", "Created Project", "x", "number"]),
)  # fmt: skip
WORDS = [
    "features", "personas", "predictions", "recommendations", "drift", "fairness",
    "min_users", "name", "path", "event", "window", "kind", "missing", "scale", "key",
    "outcome", "trait", "inactive", "within", "observe", "algorithm", "k", "k_range",
    "protected", "threshold", "max_categories", "folds",
]  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(WORDS), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(section=st.dictionaries(st.sampled_from(WORDS), values, max_size=6))
def test_any_models_section_loads_or_is_a_config_error(section: dict[str, Any]) -> None:
    text = yaml.safe_dump({"version": 1, "models": section})
    try:
        parse_config(text)
    except ConfigFileError as exc:
        problems = exc.problems
        assert problems, "a refused file lists its problems"
