"""``firstmile train``, ``models`` and ``audit``: JSON, tables, exit codes, user errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from firstmile.service import Firstmile
from firstmile.settings import load_settings

from .test_cli import assert_fails, run, run_json

CONFIG = Path(__file__).parents[1] / "spec" / "config" / "valid" / "models.yaml"


@pytest.fixture
def home(tmp_path: Path, model_users: Callable[[int], list[dict[str, Any]]]) -> Path:
    """A workspace with the models config and 40 users (half paying, busier)."""
    workspace = tmp_path / "workspace"
    run_json("init", workspace)
    (workspace / "firstmile.yaml").write_text(CONFIG.read_text(encoding="utf-8"))
    with Firstmile.open(load_settings(home=workspace, environ={})) as fm:
        fm.ingest_items(model_users(40))
    return workspace


def test_train_then_list_show_promote_rollback_explain(home: Path) -> None:
    trained = run_json("train", "--model", "upgrades", "--model", "personas", "--home", home)
    assert [(t["name"], t["version"], t["error"]) for t in trained["trained"]] == [
        ("upgrades", 1, None),
        ("personas", 1, None),
    ]
    table = run("train", "--model", "upgrades", "--candidate", "--home", home)
    assert table.exit_code == 0, table.output
    assert "candidate" in table.stdout
    assert "ROC-AUC" in table.stdout
    listing = run_json("models", "list", "--home", home)
    statuses = {(m["name"], m["version"]): m["status"] for m in listing["models"]}
    assert statuses == {
        ("upgrades", 2): "candidate",
        ("upgrades", 1): "promoted",
        ("personas", 1): "promoted",
    }
    shown = run_json("models", "show", "upgrades", "--home", home)
    assert shown["version"] == 1
    assert shown["meta"]["rows"] == 40
    assert run_json("models", "promote", "upgrades", "2", "--home", home)["status"] == "promoted"
    assert run_json("models", "rollback", "upgrades", "--home", home)["version"] == 1
    view = run_json("models", "explain", "u0", "--home", home)
    assert view["predictions"]["upgrades"]["probability"] > 0.5
    text = run("models", "list", "--home", home)
    assert text.exit_code == 0
    assert "personas" in text.stdout


def test_drift_and_fairness(home: Path) -> None:
    run_json("train", "--model", "upgrades", "--model", "personas", "--home", home)
    drift = run_json("models", "drift", "--home", home)
    assert {d["name"] for d in drift["drift"]} == {"upgrades", "personas"}
    assert drift["flagged"] is False  # the same users: nothing moved
    audit = run_json("audit", "fairness", "--home", home)
    assert audit["audits"][0]["protected"] == "region"


def test_a_model_that_cannot_train_exits_65_and_says_why(home: Path) -> None:
    result = run("train", "--model", "activates", "--json", "--home", home)
    assert result.exit_code == 65
    body = json.loads(result.stdout)
    assert "at least 20" in body["trained"][0]["error"]


def test_user_errors(home: Path, tmp_path: Path) -> None:
    assert_fails(run("models", "show", "nope", "--home", home), 4, "No model nope")
    assert_fails(run("models", "rollback", "upgrades", "--home", home), 4)
    assert_fails(run("train", "--model", "nope", "--home", home), 4, "No model `nope`")
    empty = tmp_path / "empty"
    run_json("init", empty)
    assert_fails(run("train", "--home", empty), 65, "models:")
