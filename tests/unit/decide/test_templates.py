"""The template sandbox: escaping, allowed variables, bounded loops, no Python internals."""

from __future__ import annotations

import contextlib

import pytest
from jinja2.exceptions import SecurityError

from firstmile.config.templates import MAX_RANGE, TemplateProblem, compile_template


def test_output_is_escaped_and_missing_traits_render_empty() -> None:
    template = compile_template("Hi {{ traits.name }}{{ traits.missing }}!")
    assert template.render({"traits": {"name": "<script>"}}) == "Hi &lt;script&gt;!"
    assert template.traits_read == frozenset({"name", "missing"})


def test_plain_text_is_escaped_too() -> None:
    assert compile_template("Tom & Jerry").render({}) == "Tom &amp; Jerry"


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("{{ user.name }}", "`user`"),
        ("{% if %}", "syntax error"),
        ("{{ os.system }}", "`os`"),
    ],
)
def test_bad_templates_are_refused_with_the_reason(source: str, says: str) -> None:
    with pytest.raises(TemplateProblem, match=says):
        compile_template(source)


@pytest.mark.parametrize(
    "source", ["{{ traits.__class__.__mro__ }}", "{{ context.items.__globals__ }}"]
)
def test_python_internals_are_out_of_reach(source: str) -> None:
    # The sandbox refuses (an error the planner turns into a fallback) or renders
    # nothing; it never hands over the object.
    with contextlib.suppress(SecurityError, AttributeError):
        assert compile_template(source).render({"traits": {}, "context": {}}) == ""


def test_loops_are_bounded() -> None:
    template = compile_template("{% for i in range(scores.n) %}.{% endfor %}")
    assert template.render({"scores": {"n": MAX_RANGE}}) == "." * MAX_RANGE
    with pytest.raises(OverflowError):
        template.render({"scores": {"n": MAX_RANGE + 1}})


def test_output_cache_follows_the_traits_it_reads() -> None:
    template = compile_template("Hi {{ traits.name | default('there') }} ({{ locale }})")
    assert template.cache_roots == ("locale",)
    assert template.render({"traits": {}, "locale": "en"}) == "Hi there (en)"
    assert template.render({"traits": {"name": "Ana"}, "locale": "en"}) == "Hi Ana (en)"
    assert template.render({"traits": {"name": "Ana"}, "locale": "fr"}) == "Hi Ana (fr)"
    assert template.render({"traits": {"name": ["a"]}, "locale": "fr"}) == "Hi [&#39;a&#39;] (fr)"


@pytest.mark.parametrize(
    "source",
    [
        "{{ traits.get('n', 1) + 1 }}",
        "{% for k in traits %}{{ k }}{% endfor %}",
        "{{ traits }}",
        "{{ context.page }}",
        "{% set traits = {} %}{{ traits.x }}",
    ],
)
def test_templates_reading_more_than_named_traits_are_not_cached(source: str) -> None:
    assert compile_template(source).cache_roots is None


def test_a_field_of_a_missing_trait_renders_empty() -> None:
    template = compile_template("{{ traits.company.name | default('your team') }}")
    assert template.render({"traits": {}}) == "your team"
