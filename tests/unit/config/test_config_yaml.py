"""Tests for the YAML reader of the config file: lines, core-schema scalars, refusals."""

from __future__ import annotations

import math

import pytest

from firstmile.config.yamlsource import MAX_DEPTH, MAX_NODES, parse_yaml


def test_every_key_and_value_has_its_line() -> None:
    doc = parse_yaml("a:\n  b:\n    - x\n    - y: 1\n      z: 2\n", "f.yaml")
    assert doc.problems == []
    assert doc.line(("a",), at_key=True) == 1
    assert doc.line(("a", "b", 0)) == 3
    assert doc.line(("a", "b", 1, "z")) == 5
    assert doc.line(("a", "b", 1, "missing")) == 4  # the enclosing mapping
    assert doc.line(("nowhere",)) == 1


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("NO", "NO"),
        ("on", "on"),
        ("yes", "yes"),
        ("true", True),
        ("False", False),
        ("10:30", "10:30"),
        ("2026-01-01", "2026-01-01"),
        ("012", 12),
        ("0x1F", 31),
        ("0o17", 15),
        ("-3", -3),
        ("1.5e3", 1500.0),
        (".inf", math.inf),
        ("-.inf", -math.inf),
        ("~", None),
        ("null", None),
        ("", None),
        ("'true'", "true"),
        ("!!str 12", "12"),
        ("1_000", "1_000"),
    ],
)
def test_scalars_follow_the_yaml_12_core_schema(text: str, value: object) -> None:
    doc = parse_yaml(f"v: {text}\n", "f.yaml")
    assert doc.problems == []
    assert doc.data == {"v": value}


def test_nan_is_a_float() -> None:
    assert math.isnan(parse_yaml("v: .nan\n", "f.yaml").data["v"])


def test_keys_are_text_as_written() -> None:
    assert parse_yaml("1: a\ntrue: b\nnull: c\n", "f.yaml").data == {
        "1": "a",
        "true": "b",
        "null": "c",
    }


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("a: 1\nb: 2\na: 3\n", 3, "Duplicate key `a` (first written on line 1)"),
        ("a: !!binary aGk=\n", 1, "`!!binary` is not supported"),
        ("a: !!python/object:os.system x\n", 1, "is not supported"),
        ("a: !custom x\n", 1, "`!custom` is not supported"),
        ("a: !!set {x}\n", 1, "is not supported"),
        ("? [a]\n: b\n", 1, "A key must be plain text"),
        ("base: &b {x: 1}\nc:\n  <<: *b\n", 3, "Merge keys"),
        ("x: &a [*a]\n", 1, "contains it"),
        ("a: *nope\n", 1, "YAML syntax"),
        ("a: [1, 2\n", 2, "YAML syntax"),
        ("---\na: 1\n---\nb: 2\n", 3, "YAML syntax"),
    ],
)
def test_refused_yaml_becomes_a_problem(text: str, line: int, words: str) -> None:
    doc = parse_yaml(text, "f.yaml")
    assert len(doc.problems) == 1, doc.problems
    assert doc.problems[0].line == line
    assert words in doc.problems[0].message
    assert doc.problems[0].file == "f.yaml"


def test_a_quoted_merge_key_is_an_ordinary_key() -> None:
    assert parse_yaml("'<<': 1\n", "f.yaml").data == {"<<": 1}


def test_alias_bombs_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    doc = parse_yaml("\n".join(lines) + "\n", "f.yaml")
    assert [p.message for p in doc.problems] == [
        f"The file expands to more than {MAX_NODES} values; check aliases."
    ]


def test_deep_nesting_is_refused() -> None:
    doc = parse_yaml("a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n", "f.yaml")
    assert "nest deeper" in doc.problems[0].message
    very_deep = parse_yaml("[" * 5000 + "]" * 5000, "f.yaml")
    assert "nest" in very_deep.problems[0].message


def test_control_characters_are_a_problem() -> None:
    doc = parse_yaml("a: \x00\n", "f.yaml")
    assert doc.problems[0].message.startswith("YAML cannot be read: ")
