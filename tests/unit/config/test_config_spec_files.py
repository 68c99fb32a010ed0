"""The example files in tests/spec/config: valid ones load, invalid ones fail where they say.

Each invalid file ends with ``# expect: LINE FIELD`` comments (``-`` for no field): the
problems reported must be exactly those, each naming the file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from firstmile.config import ConfigFileError, OnboardingConfig, load_config

SPEC = Path(__file__).resolve().parents[2] / "spec" / "config"
VALID = sorted((SPEC / "valid").glob("*.yaml"))
INVALID = sorted((SPEC / "invalid").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\d+) (.+)$", re.MULTILINE)


def test_there_are_examples_of_both_kinds() -> None:
    assert len(VALID) >= 3
    assert len(INVALID) >= 25


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_file_loads(path: Path) -> None:
    config = load_config(path)
    assert isinstance(config, OnboardingConfig)
    assert config.source_path == path.resolve()
    assert re.fullmatch(r"[0-9a-f]{12}", config.version_id)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_file_names_file_line_and_field(path: Path) -> None:
    expected = [
        (int(line), "" if field == "-" else field)
        for line, field in EXPECT.findall(path.read_text(encoding="utf-8"))
    ]
    assert expected, f"{path.name} has no `# expect: LINE FIELD` comment"
    with pytest.raises(ConfigFileError) as caught:
        load_config(path)
    problems = caught.value.problems
    assert sorted((p.line or 0, p.field) for p in problems) == sorted(expected)
    for problem in problems:
        assert problem.file == str(path)
        assert problem.message.strip()
        assert f"{path}:{problem.line}: " in caught.value.message


def test_onboarding_example_has_what_docs_promise() -> None:
    config = load_config(SPEC / "valid" / "onboarding.yaml")
    assert [s.key for s in config.segments] == [
        "new_this_week",
        "mobile_first",
        "stalled_after_signup",
        "team_admins",
        "beta_testers",
        "mobile_newcomers",
    ]
    assert config.saved_groups["internal_staff"] == ("user_1", "2")
    assert [t.key for t in config.threshold_segments] == ["engaged_users", "at_risk"]
    order = config.segment_order
    assert order.index("mobile_newcomers") > order.index("new_this_week")
    assert order.index("mobile_newcomers") > order.index("mobile_first")
    assert set(order) == set(config.segment_keys)


def test_docs_example_is_the_onboarding_spec_file() -> None:
    """docs/config.md shows tests/spec/config/valid/onboarding.yaml verbatim."""
    docs = (SPEC.parents[2] / "docs" / "config.md").read_text(encoding="utf-8")
    example = (SPEC / "valid" / "onboarding.yaml").read_text(encoding="utf-8")
    assert f"```yaml\n{example}```" in docs


def test_docs_error_example_is_what_the_loader_says() -> None:
    docs = (SPEC.parents[2] / "docs" / "config.md").read_text(encoding="utf-8")
    path = SPEC / "invalid" / "several_problems.yaml"
    source = "\n".join(
        line for line in path.read_text(encoding="utf-8").splitlines() if "# expect" not in line
    )
    assert f"```yaml\n{source}\n```" in docs
    with pytest.raises(ConfigFileError) as caught:
        load_config(path)
    message = caught.value.message.replace(str(path), "firstmile.yaml")
    assert f"```text\n{message}\n```" in docs
