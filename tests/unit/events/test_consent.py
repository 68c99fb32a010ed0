"""Tests for firstmile.events.consent: what a message states and what applies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmile.events.consent import (
    CATEGORY_ALIASES,
    ConsentPolicy,
    changed_decisions,
    consent_source,
    stated_consent,
)
from firstmile.events.model import Purpose
from firstmile.profiles.model import ConsentDecision

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
P = Purpose


def preferences(prefs: dict[str, Any]) -> dict[str, Any]:
    return {"consent": {"categoryPreferences": prefs}}


# --- stated_consent -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "purpose"),
    # `necessary` is never stated: see test_necessary_cannot_be_denied
    sorted((c, p) for c, p in CATEGORY_ALIASES.items() if p is not P.NECESSARY),
)
def test_every_category_alias_maps_to_its_purpose(category: str, purpose: Purpose) -> None:
    for spelling in (category, category.upper(), f" {category.title()} "):
        assert stated_consent(preferences({spelling: False}), {}) == {purpose: False}
        assert stated_consent({}, {"consent": {spelling: False}}) == {purpose: False}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        (" TRUE ", True),
        ("yes", True),
        ("granted", True),
        ("1", True),
        ("on", True),
        ("false", False),
        ("No", False),
        ("denied", False),
        ("0", False),
        ("off", False),
        (1, True),
        (0, False),
        # not a decision: ignored
        ("maybe", None),
        ("", None),
        (None, None),
        (2, None),
        (0.5, None),
        ({"granted": True}, None),
        ([True], None),
    ],
)
def test_decision_values(value: Any, expected: bool | None) -> None:
    want = {} if expected is None else {P.ANALYTICS: expected}
    assert stated_consent(preferences({"analytics": value}), {}) == want
    assert stated_consent({}, {"consent": {"analytics": value}}) == want
    assert stated_consent({}, {"consent_analytics": value}) == want


@pytest.mark.parametrize(
    ("context", "traits", "expected"),
    [
        # traits win over context when both speak about a purpose
        (preferences({"analytics": False}), {"consent_analytics": True}, {P.ANALYTICS: True}),
        (preferences({"analytics": True}), {"consent": {"analytics": False}}, {P.ANALYTICS: False}),
        # purposes they do not share are both kept
        (
            preferences({"Advertising": False}),
            {"consent_analytics": "true"},
            {P.MARKETING: False, P.ANALYTICS: True},
        ),
        # aliases that land on one purpose: the later one in the map wins
        (preferences({"performance": True, "statistics": True}), {}, {P.ANALYTICS: True}),
        # unknown categories and shapes are ignored
        (preferences({"Functional Cookies": False}), {}, {}),
        ({"consent": {"categoryPreferences": ["analytics"]}}, {}, {}),
        ({"consent": "granted"}, {}, {}),
        ({"consent": {"analytics": False}}, {}, {}),  # not categoryPreferences
        ({}, {"consent": "all"}, {}),
        ({}, {"consent_advertising": False}, {}),  # flat traits use purpose names only
        ({}, {}, {}),
    ],
)
def test_stated_consent(
    context: dict[str, Any], traits: dict[str, Any], expected: dict[Purpose, bool]
) -> None:
    assert stated_consent(context, traits) == expected


@pytest.mark.parametrize(
    ("context", "traits"),
    [
        (preferences({"necessary": False}), {}),
        (preferences({"Strictly Necessary": "denied"}), {}),
        ({}, {"consent": {"essential": False}}),
        ({}, {"consent_necessary": False}),
    ],
)
def test_necessary_cannot_be_denied(context: dict[str, Any], traits: dict[str, Any]) -> None:
    assert stated_consent(context, traits) == {}
    policy = ConsentPolicy.from_regimes("opt-in", "opt-in", "opt-in")
    assert policy.granted(P.NECESSARY, {P.NECESSARY: False}) is True


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=10,
)
consent_keys = st.sampled_from([*CATEGORY_ALIASES, "Advertising", "other"]) | st.text(max_size=8)


@given(
    st.dictionaries(st.sampled_from(["consent", "ip"]), json_values)
    | st.builds(preferences, st.dictionaries(consent_keys, json_values)),
    st.dictionaries(
        st.sampled_from(["consent", *(f"consent_{p.value}" for p in Purpose), "plan"]),
        json_values | st.dictionaries(consent_keys, json_values),
    ),
)
def test_stated_consent_is_total_and_never_states_necessary(
    context: dict[str, Any], traits: dict[str, Any]
) -> None:
    stated = stated_consent(context, traits)
    assert P.NECESSARY not in stated
    assert all(isinstance(granted, bool) for granted in stated.values())


# --- ConsentPolicy --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("regimes", "defaults"),
    [
        (("opt-out", "opt-out", "opt-in"), (True, True, False)),  # the shipped defaults
        (("opt-in", "opt-in", "opt-in"), (False, False, False)),
        (("opt-out", "opt-out", "opt-out"), (True, True, True)),
        (("opt-in", "opt-out", "opt-in"), (False, True, False)),
    ],
)
def test_regimes_decide_when_the_user_said_nothing(
    regimes: tuple[str, str, str], defaults: tuple[bool, bool, bool]
) -> None:
    policy = ConsentPolicy.from_regimes(*regimes)
    purposes = (P.ANALYTICS, P.PERSONALIZATION, P.MARKETING)
    assert tuple(policy.granted(p, {}) for p in purposes) == defaults
    assert policy.granted(P.NECESSARY, {}) is True


@pytest.mark.parametrize("regime", ["opt-in", "opt-out"])
@pytest.mark.parametrize("granted", [True, False])
def test_a_stated_decision_beats_the_regime(regime: str, granted: bool) -> None:
    policy = ConsentPolicy.from_regimes(regime, regime, regime)
    assert policy.granted(P.ANALYTICS, {P.ANALYTICS: granted}) is granted
    decision = ConsentDecision(granted=granted, at=NOW, source="traits")
    assert policy.granted(P.MARKETING, {P.MARKETING: decision}) is granted


# --- changed_decisions ----------------------------------------------------------------------


def decision(granted: bool, at: datetime = NOW) -> ConsentDecision:
    return ConsentDecision(granted=granted, at=at, source="context")


HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("current", "stated", "at", "expected"),
    [
        # first statement: recorded even when it matches the regime's default
        ({}, {P.ANALYTICS: True}, NOW, {P.ANALYTICS: True}),
        ({}, {P.ANALYTICS: False, P.MARKETING: True}, NOW, {P.ANALYTICS: False, P.MARKETING: True}),
        # a repeat changes nothing, whenever it is said
        ({P.ANALYTICS: decision(True)}, {P.ANALYTICS: True}, NOW + HOUR, {}),
        ({P.ANALYTICS: decision(True)}, {P.ANALYTICS: True}, NOW - HOUR, {}),
        # a newer, different answer changes it; so does one at the same instant
        ({P.ANALYTICS: decision(True)}, {P.ANALYTICS: False}, NOW + HOUR, {P.ANALYTICS: False}),
        ({P.ANALYTICS: decision(True)}, {P.ANALYTICS: False}, NOW, {P.ANALYTICS: False}),
        # an older statement (a late event) does not override a newer decision
        ({P.ANALYTICS: decision(True)}, {P.ANALYTICS: False}, NOW - HOUR, {}),
        # purposes are independent
        (
            {P.ANALYTICS: decision(False), P.MARKETING: decision(True)},
            {P.ANALYTICS: False, P.MARKETING: False, P.PERSONALIZATION: True},
            NOW + HOUR,
            {P.MARKETING: False, P.PERSONALIZATION: True},
        ),
        ({P.ANALYTICS: decision(True)}, {}, NOW, {}),
    ],
)
def test_changed_decisions(
    current: dict[Purpose, ConsentDecision],
    stated: dict[Purpose, bool],
    at: datetime,
    expected: dict[Purpose, bool],
) -> None:
    assert changed_decisions(current, stated, at) == expected


@pytest.mark.parametrize(
    ("traits", "purpose", "source"),
    [
        ({"consent_analytics": False}, Purpose.ANALYTICS, "traits"),
        ({"consent": {"Marketing": True}}, Purpose.MARKETING, "traits"),
        ({"consent_analytics": False}, Purpose.MARKETING, "context"),
        ({}, Purpose.ANALYTICS, "context"),
    ],
)
def test_consent_source_names_where_each_purpose_was_stated(
    traits: dict[str, Any], purpose: Purpose, source: str
) -> None:
    assert consent_source(purpose, traits) == source
