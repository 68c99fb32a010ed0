"""``firstmile config check`` on real files in tmp_path, through typer's CliRunner."""

from __future__ import annotations

import json
import os
from pathlib import Path

from typer.testing import CliRunner, Result

from firstmile.cli import app

CLEAN_ENV: dict[str, str | None] = {k: None for k in os.environ if k.startswith("FIRSTMILE_")}
SPEC = Path(__file__).resolve().parents[2] / "spec" / "config"

INVALID = """\
version: 1
segments:
  - key: adults
    name: Adults
    condition: {age: {$gtt: 18}}
  - key: adults
    nme: Grown-ups
    condition: {age: {$gte: 18}}
"""


def run(*args: str | Path, env: dict[str, str | None] | None = None) -> Result:
    runner = CliRunner(env={**CLEAN_ENV, **(env or {})})
    return runner.invoke(app, [str(arg) for arg in args])


def test_a_valid_file_prints_ok_with_counts_and_version_id() -> None:
    result = run("config", "check", SPEC / "valid" / "onboarding.yaml")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: ")
    assert "6 segments, 2 threshold segments, 1 scores, 2 saved groups" in result.stdout
    assert "version id " in result.stdout
    assert result.stderr == ""


def test_an_invalid_file_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "firstmile.yaml"
    path.write_text(INVALID, encoding="utf-8")
    result = run("config", "check", path)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"{path} is not a valid firstmile config (4 problems):"
    assert [line.split(": ")[0:2] for line in lines[1:]] == [
        [f"{path}:5", "segments[0].condition.age.$gtt"],
        [f"{path}:6", "segments[1].key"],
        [f"{path}:6", "segments[1].name"],
        [f"{path}:7", "segments[1].nme"],
    ]
    assert "did you mean $gt?" in lines[1]
    assert "Did you mean `name`?" in lines[4]
    assert "Traceback" not in result.output


def test_json_is_one_document_either_way(tmp_path: Path) -> None:
    path = tmp_path / "firstmile.yaml"
    path.write_text(INVALID, encoding="utf-8")
    bad = run("config", "check", path, "--json")
    assert bad.exit_code == 2
    document = json.loads(bad.stdout)
    assert document["ok"] is False
    assert document["file"] == str(path)
    assert [(p["line"], p["field"]) for p in document["problems"]] == [
        (5, "segments[0].condition.age.$gtt"),
        (6, "segments[1].key"),
        (6, "segments[1].name"),
        (7, "segments[1].nme"),
    ]
    assert all(p["file"] == str(path) and p["message"] for p in document["problems"])

    path.write_text((SPEC / "valid" / "onboarding.yaml").read_text("utf-8"), encoding="utf-8")
    good = run("config", "check", path, "--json")
    assert good.exit_code == 0, good.output
    summary = json.loads(good.stdout)
    assert summary["ok"] is True
    assert summary["problems"] == []
    assert (summary["segments"], summary["scores"], summary["threshold_segments"]) == (6, 1, 2)
    assert summary["saved_groups"] == 2
    assert len(summary["version_id"]) == 12


def test_the_default_file_is_firstmile_yaml_in_the_workspace(tmp_path: Path) -> None:
    missing = run("config", "check", "--home", tmp_path, "--json")
    assert missing.exit_code == 2
    (problem,) = json.loads(missing.stdout)["problems"]
    assert problem["file"] == str(tmp_path / "firstmile.yaml")
    assert problem["line"] is None
    (tmp_path / "firstmile.yaml").write_text("version: 1\n", encoding="utf-8")
    assert run("config", "check", "--home", tmp_path).exit_code == 0
    from_env = run("config", "check", env={"FIRSTMILE_HOME": str(tmp_path)})
    assert from_env.exit_code == 0, from_env.output


def test_every_invalid_spec_file_exits_2() -> None:
    for path in sorted((SPEC / "invalid").glob("*.yaml")):
        result = run("config", "check", path)
        assert result.exit_code == 2, path
        assert f"{path}:" in result.stderr, path


def test_traits_read_without_a_traits_section_are_warnings_that_keep_exit_0(
    tmp_path: Path,
) -> None:
    path = tmp_path / "firstmile.yaml"
    path.write_text(
        "version: 1\nsegments:\n  - key: pro\n    name: Pro\n    condition: {plan: pro}\n",
        encoding="utf-8",
    )
    result = run("config", "check", path)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: ")
    assert "traits not declared" in result.stdout
    (warning,) = result.stderr.splitlines()
    assert warning.startswith(f"warning: {path}:5: segments[0].condition.plan: ")
    assert "traits:" in warning
    document = json.loads(run("config", "check", path, "--json").stdout)
    assert document["ok"] is True
    assert document["traits"] is None
    assert [(w["line"], w["field"]) for w in document["warnings"]] == [
        (5, "segments[0].condition.plan")
    ]
