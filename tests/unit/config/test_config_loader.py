"""Tests for firstmile.config: parse_config / load_config, through their public results."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from firstmile.clock import FixedClock
from firstmile.config import (
    ConfigFileError,
    ConfigProblem,
    OnboardingConfig,
    check_file,
    default_config_path,
    load_config,
    parse_config,
)
from firstmile.errors import ConfigError, NotFound
from firstmile.scores import AttributeTerm, EventTerm, compute_score

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

SEGMENT = """\
version: 1
segments:
  - key: mobile_first
    name: Mobile-first
    description: Phones and tablets.
    condition:
      device_type: {$in: [mobile, tablet]}
"""


def problems_of(text: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigFileError) as caught:
        parse_config(text, source="firstmile.yaml")
    return list(caught.value.problems)


def only_problem(text: str) -> ConfigProblem:
    problems = problems_of(text)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_a_segment_loads_compiled() -> None:
    config = parse_config(SEGMENT, clock=FixedClock(NOW))
    (segment,) = config.segments
    assert (segment.key, segment.name, segment.description) == (
        "mobile_first",
        "Mobile-first",
        "Phones and tablets.",
    )
    assert segment.condition == {"device_type": {"$in": ["mobile", "tablet"]}}
    assert segment.attributes == frozenset({"device_type"})
    assert not segment.uses_time
    assert segment.matches({"device_type": "tablet"})
    assert not segment.matches({"device_type": "desktop"})
    assert config.loaded_at == NOW
    assert config.source_path is None
    assert config.segment("mobile_first") is segment


def test_lookups_of_unknown_keys_are_not_found() -> None:
    config = parse_config(SEGMENT)
    with pytest.raises(NotFound):
        config.segment("nope")
    with pytest.raises(NotFound):
        config.score("nope")


def test_version_id_ignores_comments_layout_key_order_and_written_defaults() -> None:
    other_layout = """\
# the same content, written differently
segments:
  - condition: {device_type: {$in: [mobile, tablet]}}
    description: "Phones and tablets."
    name: Mobile-first
    key: mobile_first
saved_groups: {}
version: 1
"""
    assert parse_config(SEGMENT).version_id == parse_config(other_layout).version_id


def test_version_id_changes_with_the_content() -> None:
    changed = SEGMENT.replace("tablet]", "tv]")
    assert parse_config(SEGMENT).version_id != parse_config(changed).version_id


def test_load_config_keeps_the_path(tmp_path: Path) -> None:
    path = tmp_path / "firstmile.yaml"
    path.write_text(SEGMENT, encoding="utf-8")
    config = load_config(path, clock=FixedClock(NOW))
    assert config.source_path == path.resolve()
    assert config.summary()["file"] == str(path.resolve())
    assert config.version_id == parse_config(SEGMENT).version_id


def test_a_missing_file_is_one_problem_without_a_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError) as caught:
        load_config(tmp_path / "firstmile.yaml")
    (problem,) = caught.value.problems
    assert problem.line is None
    assert "No such file" in problem.message


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "firstmile.yaml"
    path.write_bytes(b"version: 1\n# caf\xe9\n")
    with pytest.raises(ConfigFileError) as caught:
        load_config(path)
    assert caught.value.problems[0].line == 2


def test_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "firstmile.yaml"
    path.write_bytes("\ufeffversion: 1\n".encode())
    assert load_config(path).version == 1


def test_the_error_is_a_config_error_listing_every_problem() -> None:
    text = SEGMENT + "  - key: Bad Key\n    name: x\n    condition: {}\nextra: 1\n"
    with pytest.raises(ConfigFileError) as caught:
        parse_config(text, source="firstmile.yaml")
    err = caught.value
    assert isinstance(err, ConfigError)
    assert err.exit_code == 2
    lines = err.message.splitlines()
    assert lines[0] == "firstmile.yaml is not a valid firstmile config (2 problems):"
    assert lines[1:] == [
        'firstmile.yaml:8: segments[1].key: "Bad Key" is not a key: use lowercase letters, '
        "digits, `_` and `-`, starting with a letter, at most 64 characters; for example "
        "`bad_key`.",
        "firstmile.yaml:11: extra: Unknown field `extra`. The fields here are: version, traits, "
        "saved_groups, segments, scores, catalog, flows, checklists, rules, defaults, limits, "
        "events, metrics, experiments, bandits, holdout, models.",
    ]
    body = err.to_body()
    assert body["code"] == "invalid_config"
    assert body["field"] == "segments[1].key"
    assert [p["line"] for p in body["problems"]] == [8, 11]


def test_an_empty_file_says_how_to_start() -> None:
    problem = only_problem("# nothing yet\n")
    assert "version: 1" in problem.message


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("version: '1'\n", "version"),
        ("version: true\n", "version"),
        ("version: 1\nsegments: {}\n", "segments"),
        ("version: 1\nscores: [1]\n", "scores[0]"),
        ("version: 1\nsaved_groups: []\n", "saved_groups"),
        ("version: 1\nsaved_groups: {beta: []}\n", "saved_groups.beta"),
        ("version: 1\nsegments:\n  - {key: a, name: A, condition: []}\n", "segments[0].condition"),
        ("version: 1\nsegments:\n  - {key: a, name: '', condition: {}}\n", "segments[0].name"),
    ],
)
def test_shape_problems_name_the_field(text: str, field: str) -> None:
    problem = only_problem(text)
    assert problem.field == field
    assert problem.line is not None


def test_yaml_12_scalars_country_no_is_text() -> None:
    config = parse_config(
        "version: 1\nsegments:\n  - {key: norway, name: Norway, condition: {country: NO}}\n"
    )
    assert config.segments[0].condition == {"country": "NO"}
    assert config.segments[0].matches({"country": "NO"})


def test_aliases_repeat_a_condition() -> None:
    text = """\
version: 1
segments:
  - key: a
    name: A
    condition: &pro {plan: pro}
  - key: b
    name: B
    condition: *pro
"""
    config = parse_config(text)
    assert config.segments[1].condition == {"plan": "pro"}


def test_group_ids_are_text() -> None:
    config = parse_config(
        "version: 1\nsaved_groups: {vip: [1, u2]}\nsegments:\n"
        "  - {key: vip, name: VIP, condition: {user_id: {$inGroup: vip}}}\n"
    )
    assert config.saved_groups["vip"] == ("1", "u2")
    assert config.segments[0].matches({"user_id": "1"})


def test_segments_may_read_segments_and_are_ordered() -> None:
    text = """\
version: 1
segments:
  - {key: both, name: Both, condition: {segments.a: true, segments.b: true}}
  - {key: a, name: A, condition: {plan: pro}}
  - {key: b, name: B, condition: {segments.a: true, country: FR}}
"""
    config = parse_config(text)
    assert config.segment_order == ("a", "b", "both")
    assert config.segment("both").references == frozenset({"a", "b"})


def test_a_cycle_through_a_score_threshold_is_refused() -> None:
    text = """\
version: 1
segments:
  - {key: fan, name: Fan, condition: {segments.loyal: true}}
scores:
  - key: loyalty
    name: Loyalty
    terms:
      - {attribute: segments.fan, weight: 1}
    scale: {max: 1}
    thresholds: [{segment: loyal, min: 50}]
"""
    problems = problems_of(text)
    assert len(problems) == 1
    assert "cycle" in problems[0].message
    assert (problems[0].line, problems[0].field) == (3, 'segments[0].condition["segments.loyal"]')


def test_a_score_loads_into_terms_scale_decay_and_thresholds() -> None:
    text = """\
version: 1
scores:
  - key: engaged
    name: Engaged
    terms:
      - {event: Completed Step, window: 7d, weight: 10, cap: 5}
      - {attribute: invited, weight: 50}
    decay: {half_life: 1d12h}
    scale: {min: 0, max: 100}
    thresholds:
      - {segment: engaged_users, min: 60}
"""
    config = parse_config(text)
    (score,) = config.scores
    assert score.terms == (
        EventTerm("Completed Step", "7d", 10.0, 5.0),
        AttributeTerm("invited", 50.0, None),
    )
    assert score.half_life is not None
    assert score.half_life.total_seconds() == 36 * 3600
    assert score.scale.max == 100.0
    assert config.threshold_segments[0].score == "engaged"
    attributes = {"invited": True, "events": {"Completed Step": {"count_7d": 9}}}
    result = compute_score(score, attributes, NOW)
    assert (result.raw, result.value, result.segments) == (100.0, 100.0, ("engaged_users",))


def test_the_scale_max_is_derived_from_capped_positive_terms() -> None:
    text = """\
version: 1
scores:
  - key: s
    name: S
    terms:
      - {event: A, window: all, weight: 3, cap: 2}
      - {event: B, window: 1d, weight: -5}
"""
    assert parse_config(text).scores[0].scale.max == 6.0


@pytest.mark.parametrize(
    ("term", "field", "words"),
    [
        ("{weight: 1}", "scores[0].terms[0]", "`attribute: <trait>`"),
        ("{attribute: a, window: 7d, weight: 1, cap: 1}", "scores[0].terms[0].window", "remove"),
        ("{attribute: a, weight: 1, cap: 0}", "scores[0].terms[0].cap", "greater than 0"),
        ("{attribute: a, weight: .nan, cap: 1}", "scores[0].terms[0].weight", "finite"),
        ("{attribute: a, weight: 1, cap: 1, wieght: 2}", "scores[0].terms[0].wieght", "`weight`"),
    ],
)
def test_term_problems(term: str, field: str, words: str) -> None:
    text = f"version: 1\nscores:\n  - key: s\n    name: S\n    terms:\n      - {term}\n"
    problem = only_problem(text)
    assert (problem.line, problem.field) == (6, field)
    assert words in problem.message


def test_threshold_bounds_are_percentages() -> None:
    text = (
        "version: 1\nscores:\n  - key: s\n    name: S\n    terms: [{attribute: a, weight: 1, "
        "cap: 1}]\n    thresholds: [{segment: hi, min: 120}]\n"
    )
    problem = only_problem(text)
    assert problem.field == "scores[0].thresholds[0].min"
    assert "100" in problem.message


def test_check_file_reports_instead_of_raising(tmp_path: Path) -> None:
    assert default_config_path(tmp_path) == tmp_path / "firstmile.yaml"
    assert default_config_path(None) == Path("firstmile.yaml")
    path = default_config_path(tmp_path)
    path.write_text("version: 1\nsegments: nope\n", encoding="utf-8")
    report = check_file(path)
    assert not report.ok
    assert report.exit_code == 2
    assert report.to_json()["problems"][0]["field"] == "segments"
    path.write_text(SEGMENT, encoding="utf-8")
    report = check_file(path, clock=FixedClock(NOW))
    assert report.ok
    assert isinstance(report.config, OnboardingConfig)
    assert report.to_json()["segments"] == 1
    assert report.lines()[0].startswith(f"ok: {path} (version 1, version id ")
