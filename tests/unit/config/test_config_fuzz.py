"""Whatever the text, parse_config returns a config or raises ConfigFileError, nothing else."""

from __future__ import annotations

import re
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firstmile.config import ConfigFileError, OnboardingConfig, parse_config

WORDS = [
    "version", "saved_groups", "segments", "scores", "key", "name", "description",
    "condition", "terms", "attribute", "event", "window", "weight", "cap", "decay",
    "half_life", "scale", "min", "max", "thresholds", "segment", "$and", "$or", "$not",
    "$in", "$gt", "$regex", "$inGroup", "$within", "$elemMatch", "$size", "$exists",
    "segments.a", "segments.b", "plan", "7d", "1d", "all", "a", "b", "<<",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(WORDS),
    st.text(max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(WORDS), inner, max_size=5),
    ),
    max_leaves=25,
)
condition = st.recursive(
    st.dictionaries(st.sampled_from(["plan", "segments.a", "segments.b", "age"]), scalars),
    lambda inner: st.dictionaries(
        st.sampled_from(["$and", "$or", "$nor", "$not", "plan", "$in", "$gt", "$inGroup"]),
        st.one_of(inner, st.lists(inner, max_size=3), scalars),
        max_size=3,
    ),
    max_leaves=10,
)
simple_condition = st.dictionaries(
    st.sampled_from(["plan", "age", "segments.a", "segments.b"]), st.sampled_from(["pro", 3, True])
)
segment: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {
        "key": st.sampled_from(["a", "b", "c", "Bad"]),
        "name": st.just("N"),
        "condition": st.one_of(simple_condition, simple_condition, condition),
    }
)
event_term = st.fixed_dictionaries(
    {
        "event": st.sampled_from(["Completed Step", "x"]),
        "window": st.sampled_from(["1d", "7d", "all"]),
        "weight": st.integers(-5, 5),
        "cap": st.integers(1, 5),
    }
)
any_term = st.fixed_dictionaries(
    {"weight": st.one_of(st.integers(-5, 5), st.floats(allow_nan=True))},
    optional={
        "event": st.sampled_from(["Completed Step", "x"]),
        "attribute": st.sampled_from(["plan", "segments.a", "segments.c"]),
        "window": st.sampled_from(["1d", "7d", "all", "30d"]),
        "cap": st.one_of(st.integers(-1, 5), st.floats()),
    },
)
term = st.one_of(event_term, any_term)
score: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {
        "key": st.sampled_from(["s", "t"]),
        "name": st.just("S"),
        "terms": st.lists(term, min_size=1, max_size=3),
    },
    optional={
        "decay": st.fixed_dictionaries({"half_life": st.sampled_from(["7d", "0d", 7, "1w2d"])}),
        "scale": st.fixed_dictionaries({}, optional={"min": st.integers(-5, 5), "max": scalars}),
        "thresholds": st.lists(
            st.fixed_dictionaries(
                {"segment": st.sampled_from(["a", "c", "hi"]), "min": st.integers(-10, 110)},
                optional={"max": st.integers(-10, 110)},
            ),
            max_size=2,
        ),
    },
)
versions: st.SearchStrategy[Any] = st.one_of(st.just(1), st.just(1), st.just(1), scalars)
configs: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {"version": versions},
    optional={
        "saved_groups": st.dictionaries(
            st.sampled_from(["g", "h"]),
            st.one_of(st.lists(st.sampled_from(["u1", "u2", 3]), min_size=1, max_size=3), values),
            max_size=2,
        ),
        "segments": st.lists(segment, max_size=4, unique_by=lambda s: str(s["key"])),
        "scores": st.lists(score, max_size=2, unique_by=lambda s: str(s["key"])),
    },
)


YAML_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def outcome(text: str) -> OnboardingConfig | ConfigFileError:
    try:
        return parse_config(text, source="fuzz.yaml")
    except ConfigFileError as exc:
        # YAML breaks lines at \r\n, \r, \n, NEL, LS and PS, and numbers lines that way.
        lines = len(YAML_LINE_BREAK.findall(text)) + 2
        for problem in exc.problems:
            assert problem.file == "fuzz.yaml"
            assert problem.line is None or 1 <= problem.line <= lines
            assert problem.message
        return exc


def dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_arbitrary_text(text: str) -> None:
    outcome(text)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_arbitrary_yaml_data(data: Any) -> None:
    outcome(dump(data))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_config_shaped_data(data: Any) -> None:
    result = outcome(dump(data))
    if isinstance(result, OnboardingConfig):
        assert parse_config(dump(data)).version_id == result.version_id


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(configs, st.data())
def test_mangled_yaml(data: Any, draw: st.DataObject) -> None:
    text = dump(data)
    for _ in range(draw.draw(st.integers(1, 4))):
        at = draw.draw(st.integers(0, len(text)))
        junk = draw.draw(st.text(alphabet=":-[]{}&*!#|>'\"\n ,?%@`\t<", max_size=3))
        cut = draw.draw(st.integers(0, 3))
        text = text[:at] + junk + text[at + cut :]
    outcome(text)
