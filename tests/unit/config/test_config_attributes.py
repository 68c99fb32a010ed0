"""Attribute paths read by conditions and score terms, checked when the config loads.

firstmile's own names (events counters, ``scores.<key>``, ``consent.<purpose>``,
``computed.<name>``) are always checked; app traits only when ``traits:`` declares them,
and otherwise ``firstmile config check`` warns.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from firstmile.config import ConfigFileError, ConfigProblem, parse_config
from firstmile.config.namespace import (
    COMPUTED_TRAITS,
    CONSENT_PURPOSES,
    EVENT_COUNTERS,
    FIRSTMILE_ATTRIBUTES,
    Namespace,
    check_path,
    check_trait_name,
)
from firstmile.events.consent import ConsentPolicy
from firstmile.profiles.model import Computed, Profile
from firstmile.segments.attributes import profile_attributes

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
DECLARED = Namespace(
    traits={"plan": "string", "company": "object", "tags": "list", "nick": "any"},
    scores=frozenset({"engaged"}),
)
UNDECLARED = Namespace(traits=None, scores=frozenset({"engaged"}))


def config(condition: str, *, traits: str | None = None) -> str:
    section = "" if traits is None else f"traits: {traits}\n"
    return (
        f"version: 1\n{section}segments:\n  - key: s\n    name: S\n"
        f"    condition: {condition}\n"
        "scores:\n  - key: engaged\n    name: Engaged\n"
        "    terms: [{event: Completed Step, window: all, weight: 1, cap: 1}]\n"
    )


def problems_of(text: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigFileError) as caught:
        parse_config(text, source="firstmile.yaml")
    return list(caught.value.problems)


# -- the namespace matches what profile_attributes builds -----------------------------------


def test_the_namespace_is_what_profile_attributes_builds() -> None:
    computed = Computed(event_counts={"Completed Step": 2}, first_seen=NOW, last_seen=NOW)
    profile = Profile("p1", "u1", NOW, NOW, traits={"plan": "pro"}, computed=computed)
    policy = ConsentPolicy.from_regimes("opt-out", "opt-out", "opt-in")
    attributes = profile_attributes(profile, now=NOW, policy=policy)
    # Every name a profile's attributes hold is known (others may come from elsewhere,
    # such as a decide request's context), and every computed trait is one of them.
    assert set(attributes) - {"plan"} <= FIRSTMILE_ATTRIBUTES
    assert set(attributes) - {"plan"} >= set(COMPUTED_TRAITS) | {"events", "consent", "scores"}
    assert set(attributes["computed"]) == set(COMPUTED_TRAITS)
    assert tuple(sorted(attributes["events"]["Completed Step"])) == EVENT_COUNTERS
    assert set(attributes["consent"]) == set(CONSENT_PURPOSES)


# -- check_path -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "plan",
        "company.seats.total",
        "tags.0",
        "tags.length",
        "nick.first",
        "device_type",
        "computed.country",
        "events",
        "events.Completed Step",
        "events.Completed Step.count",
        "events.Completed Step.count_1d",
        "events.Completed Step.count_7d",
        "consent.marketing",
        "scores.engaged",
        "segments.anything",
        "user_id",
        "anonymous",
    ],
)
def test_known_paths_pass(path: str) -> None:
    assert check_path(path, DECLARED) is None


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("plann", ["Unknown attribute `plann`", "did you mean `plan`?", "traits:"]),
        ("zzz", ["Unknown attribute `zzz`.", "traits:"]),
        ("plan.tier", ["`plan` is a string", "object"]),
        ("tags.first", ["`tags` is a list", "tags.length"]),
        ("device_type.x", ["`device_type` is a string"]),
        ("events.Completed Step.count_30d", ["`count_30d`", "did you mean `count_7d`?"]),
        ("events.Completed Step.total", ["`total`", "`count`, `count_1d`, `count_7d`."]),
        ("events.app.opened.count", ["dots cannot be addressed", "event: app.opened"]),
        ("events.a.count.x", ["not an event attribute"]),
        ("scores.engagd", ["unknown score `engagd`", "did you mean `engaged`?"]),
        ("scores.engaged.raw", ["is a number"]),
        ("consent.ads", ["unknown consent purpose `ads`", "`marketing`"]),
        ("consent.analytics.granted", ["true or false"]),
        ("computed.device", ["unknown computed trait", "did you mean `device_type`?"]),
    ],
)
def test_wrong_paths_are_errors_that_say_what_to_write(path: str, words: list[str]) -> None:
    finding = check_path(path, DECLARED)
    assert finding is not None
    assert finding.severity == "error"
    for word in words:
        assert word in finding.message


def test_without_traits_a_trait_is_a_warning_and_firstmile_names_stay_errors() -> None:
    warning = check_path("plan", UNDECLARED)
    assert warning is not None
    assert warning.severity == "warning"
    assert "traits:" in warning.message
    typo = check_path("device_typ", UNDECLARED)
    assert typo is not None
    assert "did you mean `device_type`?" in typo.message
    quiet = check_path("role", UNDECLARED)
    assert quiet is not None
    assert "did you mean" not in quiet.message  # `locale` is not close enough to suggest
    assert check_path("company.seats.x", UNDECLARED) is not None
    assert check_path("device_type.x", UNDECLARED) is None  # the app may send an object
    for path in ("events.X.count_30d", "scores.nope", "consent.ads", "computed.nope"):
        finding = check_path(path, UNDECLARED)
        assert finding is not None
        assert finding.severity == "error", path


def test_a_score_read_needs_a_declared_score() -> None:
    finding = check_path("scores.engaged", Namespace(traits=None))
    assert finding is not None
    assert "there is no score" in finding.message


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("", ["needs a name"]),
        ("company.seats", ["with a dot", "company: object"]),
        ("segments", ["set by firstmile", "rename"]),
        ("user_id", ["set by firstmile"]),
    ],
)
def test_trait_names_that_cannot_be_read(name: str, words: list[str]) -> None:
    problem = check_trait_name(name)
    assert problem is not None
    for word in words:
        assert word in problem
    assert check_trait_name("plan") is None


# -- through the loader ---------------------------------------------------------------------


def test_an_unknown_trait_names_file_line_field_and_the_close_match() -> None:
    (problem,) = problems_of(config("{plann: pro}", traits="{plan: string}"))
    assert (problem.file, problem.line, problem.field) == (
        "firstmile.yaml",
        6,
        "segments[0].condition.plann",
    )
    assert problem.message.startswith("Unknown attribute `plann`; did you mean `plan`?")


def test_declared_traits_are_typed_and_kept() -> None:
    loaded = parse_config(config("{plan: pro, nick: x}", traits="{plan: string, nick: }"))
    assert loaded.traits == {"plan": "string", "nick": "any"}
    assert loaded.warnings == ()
    assert loaded.summary()["traits"] == 2


def test_without_traits_the_file_loads_with_one_warning_per_trait() -> None:
    text = config("{plan: pro, $or: [{plan: free}, {role: admin}]}")
    loaded = parse_config(text, source="firstmile.yaml")
    assert loaded.traits is None
    assert [(w.line, w.field) for w in loaded.warnings] == [
        (5, "segments[0].condition.plan"),
        (5, "segments[0].condition.$or[1].role"),
    ]
    assert loaded.summary()["traits"] is None
    assert len(loaded.summary()["warnings"]) == 2


def test_an_unknown_event_counter_is_an_error_without_traits() -> None:
    (problem,) = problems_of(config("{events.Completed Step.count_30d: {$gt: 1}}"))
    assert problem.field == 'segments[0].condition["events.Completed Step.count_30d"]'
    assert "did you mean `count_7d`?" in problem.message


def test_score_attribute_terms_are_checked() -> None:
    text = config("{plan: pro}", traits="{plan: string}").replace(
        "cap: 1}]", "cap: 1}, {attribute: seatss, weight: 1, cap: 1}]"
    )
    (problem,) = problems_of(text)
    assert problem.field == "scores[0].terms[1].attribute"
    assert "Unknown attribute `seatss`" in problem.message


def test_a_bad_trait_type_suggests_the_type() -> None:
    (problem,) = problems_of(config("{plan: pro}", traits="{plan: strng}"))
    assert problem.field == "traits.plan"
    assert "did you mean `string`?" in problem.message


def test_declaring_traits_changes_the_version_id_and_leaving_them_out_does_not() -> None:
    plain = parse_config(config("{plan: pro}"))
    typed = parse_config(config("{plan: pro}", traits="{plan: string}"))
    untyped = parse_config(config("{plan: pro}", traits="{plan: }"))
    explicit_any = parse_config(config("{plan: pro}", traits="{plan: any}"))
    assert plain.version_id != typed.version_id
    assert untyped.version_id == explicit_any.version_id
    assert plain.version_id == parse_config(config("{plan: pro}")).version_id
