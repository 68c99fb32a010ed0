"""``firstmile experiments`` and ``firstmile bandits``: JSON, tables, and user errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from firstmile.service import Firstmile
from firstmile.settings import load_settings

from .test_cli import assert_fails, run, run_json

CONFIG = Path(__file__).parents[1] / "spec" / "config" / "valid" / "trials.yaml"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A workspace with the trials config, 60 users who got a plan, and some conversions."""
    workspace = tmp_path / "workspace"
    run_json("init", workspace)
    (workspace / "firstmile.yaml").write_text(CONFIG.read_text(encoding="utf-8"))
    settings = load_settings(home=workspace, environ={"FIRSTMILE_DECIDE_BUDGET_MS": "5000"})
    with Firstmile.open(settings) as fm:
        users = [f"u{n}" for n in range(60)]
        fm.ingest_items([{"type": "track", "userId": u, "event": "Signed Up"} for u in users])
        plans = {u: fm.decide({"userId": u}) for u in users}
        fm.flush_exposures()
        fm.ingest_items(
            [
                {"type": "track", "userId": u, "event": "Project Created"}
                for u, plan in plans.items()
                if plan["experiments"]["first_tip"]["variant"] == "b"
            ]
        )
    return workspace


def test_experiments_list_and_report(home: Path) -> None:
    listing = run_json("experiments", "list", "--home", home)
    assert sum(listing["experiments"][0]["users"].values()) == 60
    report = run_json("experiments", "report", "welcome_copy", "--home", home)
    assert report["users"] == 60
    assert report["recommendation"]["action"] in {"keep_running", "ship", "no_winner"}
    text = run("experiments", "report", "welcome_copy", "--home", home)
    assert text.exit_code == 0
    assert "Recommendation:" in text.stdout
    table = run("experiments", "list", "--home", home)
    assert table.exit_code == 0
    assert "first_tip" in table.stdout


def test_bandits_refresh_show_and_evaluate(home: Path) -> None:
    assert run_json("bandits", "refresh", "--force", "--home", home) == {"updated": 1}
    status = run_json("bandits", "show", "first_tip", "--home", home)
    assert status["weights"][0]["weights"]["b"] > status["weights"][0]["weights"]["a"]
    result = run_json(
        "bandits", "evaluate", "first_tip", "--policy", '{"*": {"b": 1}}', "--home", home
    )
    assert result["snips"]["value"] == pytest.approx(1.0)
    assert result["n_logged"] == 60
    shown = run("bandits", "show", "first_tip", "--home", home)
    assert shown.exit_code == 0
    assert "mean reward" in shown.stdout


def test_unknown_keys_exit_4(home: Path) -> None:
    assert_fails(run("experiments", "report", "nope", "--home", home), 4, "welcome_copy")
    assert_fails(run("bandits", "show", "nope", "--home", home), 4, "first_tip")


@pytest.mark.parametrize(
    ("policy", "words"),
    [
        ("not json", ["not valid JSON"]),
        ("[1, 2]", ["maps contexts to arm probabilities"]),
        ('{"*": {"a": "half"}}', ["must map arms to probabilities"]),
        ('{"*": {"a": 0.3}}', ["Cannot evaluate that policy"]),
        ("@missing.json", ["No policy file"]),
    ],
)
def test_a_bad_policy_exits_2_saying_what_to_fix(home: Path, policy: str, words: list[str]) -> None:
    result = run("bandits", "evaluate", "first_tip", "--policy", policy, "--home", home)
    assert_fails(result, 2, *words)


def test_bandits_tree_prints_leaves_and_needs_an_attribute(home: Path) -> None:
    tree = run_json("bandits", "tree", "first_tip", "--attribute", "device_type", "--home", home)
    assert tree["n"] == 60
    assert tree["leaves"]
    text = run("bandits", "tree", "first_tip", "--attribute", "device_type", "--home", home)
    assert text.exit_code == 0
    assert "leaves" in text.stdout
    assert_fails(run("bandits", "tree", "first_tip", "--home", home), 2, "at least one attribute")
