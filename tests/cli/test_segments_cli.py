"""``firstmile segments ...`` (list, show, preview, static segments), ``users show``'s
segments, and the server key of ``init``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from firstmile.cli import app
from firstmile.service import Firstmile
from firstmile.settings import load_settings

from .test_cli import CLEAN_ENV, assert_fails, run, run_json

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


def run_input(text: str, *args: str | Path) -> Result:
    """Run a command with ``text`` on its standard input (answers to questions)."""
    return CliRunner(env=CLEAN_ENV).invoke(app, [str(arg) for arg in args], input=text)


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


# -- static segments ------------------------------------------------------------------------


def test_snapshot_then_list_and_show(home: Path) -> None:
    created = run_json("segments", "snapshot", "pro", "--as", "pro_then", "--home", home)
    assert (created["kind"], created["size"], created["of_segment"]) == ("static", 2, "pro")
    listed = run_json("segments", "list", "--home", home)["segments"]
    assert [(s["key"], s["kind"]) for s in listed][-1] == ("pro_then", "static")
    shown = run_json("segments", "show", "pro_then", "--home", home)
    assert {m["user_id"] for m in shown["members"]} == {"u1", "u2"}
    human = run("segments", "snapshot", "free", "--as", "free_then", "--home", home)
    assert human.exit_code == 0, human.output
    assert "1 profiles copied" in human.stdout


def test_upload_reports_unknown_ids(home: Path, tmp_path: Path) -> None:
    ids = tmp_path / "ids.csv"
    ids.write_text("id,note\nu1,a\nu3,b\nghost,c\n", encoding="utf-8")
    created = run_json("segments", "upload", "guests", ids, "--name", "Guests", "--home", home)
    assert (created["name"], created["size"], created["unknown_ids"]) == ("Guests", 2, ["ghost"])
    human = run("segments", "upload", "other", ids, "--home", home)
    assert human.exit_code == 0, human.output
    assert "ghost" in human.stdout


def test_static_segment_errors(home: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("u1\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("ghost\n", encoding="utf-8")
    run_json("segments", "upload", "taken", good, "--home", home)
    assert_fails(run("segments", "upload", "taken", good, "--home", home), 5, "taken")
    assert_fails(run("segments", "upload", "pro", good, "--home", home), 5, "pro")
    assert_fails(run("segments", "upload", "Bad Key", good, "--home", home), 2, "key")
    assert_fails(run("segments", "upload", "x", bad, "--home", home), 2, "`id`")
    assert_fails(run("segments", "upload", "x", unknown, "--home", home), 2, "ghost")
    assert_fails(run("segments", "upload", "x", tmp_path / "missing.csv", "--home", home), 2)
    assert_fails(run("segments", "snapshot", "nope", "--as", "x", "--home", home), 4, "nope")
    assert_fails(run("segments", "snapshot", "pro", "--as", "taken", "--home", home), 5)


# -- deleting a static segment --------------------------------------------------------------


def test_delete_with_yes(home: Path) -> None:
    run_json("segments", "snapshot", "pro", "--as", "pro_then", "--home", home)
    deleted = run_json("segments", "delete", "pro_then", "--yes", "--home", home)
    assert (deleted["key"], deleted["size"], deleted["deleted"]) == ("pro_then", 2, True)
    assert deleted["name"].startswith("Pro plan at ")
    assert [s["key"] for s in run_json("segments", "list", "--home", home)["segments"]] == [
        "pro",
        "free",
    ]
    run_json("segments", "snapshot", "free", "--as", "free_then", "--home", home)
    human = run("segments", "delete", "free_then", "-y", "--home", home)
    assert human.exit_code == 0, human.output
    assert "free_then: deleted (1 profiles)" in human.stdout


def test_delete_without_yes_asks_or_refuses(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_json("segments", "snapshot", "pro", "--as", "pro_then", "--home", home)
    for args in ((), ("--json",)):  # no terminal to ask on: refused, nothing deleted
        assert_fails(run("segments", "delete", "pro_then", "--home", home, *args), 2, "--yes")
    monkeypatch.setattr("firstmile.cli._interactive", lambda: True)
    declined = run_input("n\n", "segments", "delete", "pro_then", "--home", home)
    assert declined.exit_code == 1
    assert "Delete the static segment 'pro_then' (2 profiles)?" in declined.stderr
    assert "Nothing deleted." in declined.stderr
    assert run_json("segments", "show", "pro_then", "--home", home)["size"] == 2
    accepted = run_input("y\n", "segments", "delete", "pro_then", "--home", home)
    assert accepted.exit_code == 0, accepted.output
    assert "pro_then: deleted" in accepted.stdout
    assert_fails(run("segments", "show", "pro_then", "--home", home), 4, "pro_then")


def test_delete_an_unknown_or_config_segment_is_not_found(home: Path) -> None:
    for args in (("--yes",), ("--yes", "--json"), ()):
        assert_fails(run("segments", "delete", "nope", "--home", home, *args), 4, "nope")
    assert_fails(run("segments", "delete", "pro", "--yes", "--home", home), 4, "firstmile.yaml")
    assert run_json("segments", "show", "pro", "--home", home)["size"] == 2


# -- static segments in `users show` --------------------------------------------------------


def test_users_show_lists_rule_and_static_segments(home: Path, tmp_path: Path) -> None:
    run_json(
        "segments", "snapshot", "pro", "--as", "pro_then", "--name", "Pro then", "--home", home
    )
    ids = tmp_path / "ids.csv"
    ids.write_text("u1\n", encoding="utf-8")
    run_json("segments", "upload", "guests", ids, "--home", home)
    shown = run_json("users", "show", "u1", "--home", home)
    segments = {s["key"]: s for s in shown["segments"]}
    assert set(segments) == {"pro", "pro_then", "guests"}
    assert segments["pro"]["kind"] == "rule"
    then = segments["pro_then"]
    assert (then["kind"], then["name"], then["source"], then["of_segment"]) == (
        "static",
        "Pro then",
        "snapshot",
        "pro",
    )
    assert segments["guests"]["source"] == "upload"
    created = run_json("segments", "show", "pro_then", "--home", home)["created_at"]
    assert then["entered_at"] == created
    human = run("users", "show", "u1", "--home", home)
    assert human.exit_code == 0, human.output
    assert "static (snapshot)" in human.stdout
    assert "guests" in human.stdout
