"""``firstmile segments list|show|preview`` and the server key of ``init``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firstmile.service import Firstmile
from firstmile.settings import load_settings

from .test_cli import assert_fails, run, run_json

CONFIG = """
version: 1
segments:
  - key: pro
    name: Pro plan
    description: Paying users.
    condition: {plan: pro}
  - key: free
    name: Free plan
    condition: {plan: free}
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A workspace made by ``init``, with a config and three profiles."""
    workspace = tmp_path / "workspace"
    run_json("init", workspace)
    (workspace / "firstmile.yaml").write_text(CONFIG, encoding="utf-8")
    with Firstmile.open(load_settings(home=workspace, environ={})) as fm:
        fm.ingest_items(
            [
                {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}},
                {"type": "identify", "userId": "u2", "traits": {"plan": "pro"}},
                {"type": "identify", "userId": "u3", "traits": {"plan": "free"}},
            ]
        )
    return workspace


def test_init_prints_a_server_key_that_only_reads(tmp_path: Path) -> None:
    created = run_json("init", tmp_path / "w")
    assert created["server_key"].startswith("fm_sk_")
    assert created["write_key"].startswith("fm_wk_")
    with Firstmile.open(load_settings(home=tmp_path / "w", environ={})) as fm:
        assert fm.authenticate_server(created["server_key"]) == "default"
    human = run("init", tmp_path / "w")
    assert human.exit_code == 0, human.output
    assert "Server key: fm_sk_" in human.stdout


def test_list(home: Path) -> None:
    listed = run_json("segments", "list", "--home", home)
    assert [(s["key"], s["size"]) for s in listed["segments"]] == [("pro", 2), ("free", 1)]
    human = run("segments", "list", "--home", home)
    assert human.exit_code == 0, human.output
    assert "Pro plan" in human.stdout


def test_list_without_a_config(tmp_path: Path) -> None:
    run_json("init", tmp_path / "w")
    assert run_json("segments", "list", "--home", tmp_path / "w") == {"segments": []}
    assert "No segments" in run("segments", "list", "--home", tmp_path / "w").stdout


def test_show(home: Path) -> None:
    shown = run_json("segments", "show", "pro", "--home", home)
    assert shown["condition"] == {"plan": "pro"}
    assert shown["size"] == 2
    assert {m["user_id"] for m in shown["members"]} == {"u1", "u2"}
    assert run_json("segments", "show", "pro", "--members", "0", "--home", home)["members"] == []
    human = run("segments", "show", "pro", "--home", home)
    assert human.exit_code == 0, human.output
    assert "size: 2" in human.stdout
    assert "u1" in human.stdout


def test_show_an_unknown_segment(home: Path) -> None:
    assert_fails(run("segments", "show", "nope", "--home", home), 4, "nope")


def test_preview_from_text_and_from_a_file(home: Path, tmp_path: Path) -> None:
    result = run_json("segments", "preview", '{"plan": "pro"}', "--sample", "1", "--home", home)
    assert (result["matching"], result["total"], len(result["sample"])) == (2, 3, 1)
    condition = tmp_path / "condition.json"
    condition.write_text(json.dumps({"segments.free": True}), encoding="utf-8")
    assert run_json("segments", "preview", f"@{condition}", "--home", home)["matching"] == 1
    human = run("segments", "preview", '{"plan": "pro"}', "--home", home)
    assert human.exit_code == 0, human.output
    assert "2 of 3 profiles match" in human.stdout


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ('{"age": {"$gtt": 1}}', ["/age/$gtt", "$gt"]),
        ("[1]", ["top level"]),
        ("{not json", ["not valid JSON"]),
        ("@/no/such/file.json", ["cannot read"]),
    ],
)
def test_preview_of_bad_input(home: Path, condition: str, words: list[str]) -> None:
    for args in ((), ("--json",)):
        assert_fails(run("segments", "preview", condition, "--home", home, *args), 2, *words)
