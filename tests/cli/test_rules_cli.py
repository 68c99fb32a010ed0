"""Checking rules on a workspace's profiles, config history and diff, and ``simulate``.

Each test gets a workspace made by ``init`` with a config and three users.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firstmile.service import Firstmile
from firstmile.settings import load_settings

from .test_cli import assert_fails, run, run_json

HEAD = """\
version: 1
traits:
  plan: string
  email: string
segments:
  - {key: pro, name: Pro, condition: {plan: pro}}
  - {key: acme, name: Acme staff, condition: {email: {$regex: "@acme\\\\.com$"}}}
catalog:
  - {id: hi, kind: message, title: Hi}
  - {id: hello_pro, kind: message, title: Hello pro}
  - {id: hello_acme, kind: message, title: Hello Acme}
  - {id: create_project, kind: step, title: Create a project}
  - {id: invite_team, kind: step, title: Invite your team}
flows:
  - {key: setup, name: Set up, steps: [{item: create_project}, {item: invite_team}]}
defaults: {welcome: hi, flow: setup}
rules:
  - {key: pro_welcome, priority: 20, when: {segments.pro: true}, then: {set_welcome: hello_pro}}
"""
ACME_FIRST = """\
  - key: acme_invite_first
    priority: 10
    when: {segments.acme: true}
    then: {move_step: {item: invite_team, position: 0}}
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    workspace = tmp_path / "workspace"
    run_json("init", workspace)
    (workspace / "firstmile.yaml").write_text(HEAD, encoding="utf-8")
    with Firstmile.open(load_settings(home=workspace, environ={})) as fm:
        fm.ingest_items(
            [
                {
                    "type": "identify",
                    "userId": "u1",
                    "traits": {"plan": "pro", "email": "a@acme.com"},
                },
                {
                    "type": "identify",
                    "userId": "u2",
                    "traits": {"plan": "free", "email": "b@x.org"},
                },
                {
                    "type": "identify",
                    "userId": "u3",
                    "traits": {"plan": "free", "email": "c@acme.com"},
                },
            ]
        )
    return workspace


def candidate(tmp_path: Path, rules: str) -> Path:
    path = tmp_path / "candidate.yaml"
    path.write_text(HEAD + rules, encoding="utf-8")
    return path


# -- config check on the stored profiles ------------------------------------------------------


def test_check_in_a_workspace_runs_the_rules_on_the_stored_profiles(
    home: Path, tmp_path: Path
) -> None:
    path = candidate(
        tmp_path,
        ACME_FIRST + "  - {key: teams, priority: 5, when: {plan: team}, then: {set_welcome: hi}}\n",
    )
    result = run("config", "check", path, "--home", home)
    assert result.exit_code == 0, result.output
    assert "rules run on 3 stored profiles: no conflict" in result.stdout
    (warning,) = result.stderr.splitlines()
    assert warning.startswith(f"warning: {path}:")
    assert "Rule `teams` matches none of the 3 stored profiles." in warning
    document = json.loads(run("config", "check", path, "--home", home, "--json").stdout)
    assert document["profiles_checked"] == 3
    assert [(f["kind"], f["rule"], f["origin"]) for f in document["rule_findings"]] == [
        ("never_matched", "teams", "profiles")
    ]
    skipped = json.loads(
        run("config", "check", path, "--home", home, "--no-profiles", "--json").stdout
    )
    assert (skipped["profiles_checked"], skipped["rule_findings"]) == (None, [])


def test_a_conflict_only_stored_users_show_is_an_error(home: Path, tmp_path: Path) -> None:
    # The samples made up from the two patterns never hold an address matching both;
    # the stored user u1 (a@acme.com) does.
    path = candidate(
        tmp_path,
        "  - {key: acme_hi, priority: 30, when: {segments.acme: true}, "
        "then: {set_welcome: hello_acme}}\n"
        '  - {key: a_hi, priority: 30, when: {email: {$regex: "^a@"}}, then: {set_welcome: hi}}\n',
    )
    assert run("config", "check", path, "--no-profiles").exit_code == 0
    result = run("config", "check", path, "--home", home)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"{path} is not a valid firstmile config (1 problem):"
    assert lines[1].startswith(f"{path}:{HEAD.count(chr(10)) + 2}: rules[2].priority: ")
    assert "Rules `acme_hi`" in lines[1]
    assert 'stored user `u1` ({"email": "a@acme.com"' in lines[1]
    document = json.loads(run("config", "check", path, "--home", home, "--json").stdout)
    assert document["ok"] is False
    found = [(f["kind"], f["rule"], f["others"], f["user"]) for f in document["rule_findings"]]
    assert found == [
        ("shadowed", "pro_welcome", ["acme_hi"], "u1"),  # the only pro is at Acme
        ("conflict", "a_hi", ["acme_hi"], "u1"),
    ]


def test_a_conflict_in_the_file_is_refused_without_profiles(home: Path, tmp_path: Path) -> None:
    path = candidate(
        tmp_path, "  - {key: everyone, priority: 20, when: {}, then: {set_welcome: hi}}\n"
    )
    result = run("config", "check", path)
    assert result.exit_code == 2
    line = HEAD.count("\n")  # pro_welcome is the last line of HEAD
    assert f"Rules `pro_welcome` (line {line}) and `everyone` both set `welcome`" in result.stderr


def test_a_workspace_with_a_conflicting_config_does_not_open(home: Path) -> None:
    (home / "firstmile.yaml").write_text(
        HEAD + "  - {key: everyone, priority: 20, when: {}, then: {set_welcome: hi}}\n",
        encoding="utf-8",
    )
    assert_fails(run("segments", "list", "--home", home), 2, "rules[1].priority")


# -- history and diff -------------------------------------------------------------------------


def versions_of(home: Path) -> list[str]:
    return [v["version_id"] for v in run_json("config", "history", "--home", home)["versions"]]


def test_history_lists_each_version_run_and_diff_compares_them(home: Path) -> None:
    first = versions_of(home)
    (home / "firstmile.yaml").write_text(HEAD + ACME_FIRST, encoding="utf-8")
    history = run_json("config", "history", "--home", home)
    newest, oldest = (v["version_id"] for v in history["versions"])
    assert [oldest] == first
    assert history["current"] == newest
    assert history["versions"][0]["source"] == str((home / "firstmile.yaml").resolve())
    human = run("config", "history", "--home", home)
    assert human.exit_code == 0, human.output
    assert "current" in human.stdout

    diff = run_json("config", "diff", oldest[:6], "current", "--home", home)
    assert (diff["a"]["version_id"], diff["b"]["version_id"]) == (oldest, newest)
    assert diff["diff"].startswith(f"--- {oldest} (")
    assert "+  - key: acme_invite_first\n" in diff["diff"]
    assert run_json("config", "diff", newest, "--home", home)["diff"] == ""  # b: current
    shown = run("config", "diff", oldest, newest, "--home", home)
    assert shown.exit_code == 0, shown.output
    assert "+    then: {move_step: {item: invite_team, position: 0}}" in shown.stdout
    same = run("config", "diff", newest, "current", "--home", home)
    assert "the same file" in same.stdout


def test_diff_of_an_unknown_version_is_not_found(home: Path) -> None:
    assert_fails(run("config", "diff", "ffffff", "current", "--home", home), 4, "history")
    (home / "firstmile.yaml").unlink()
    assert_fails(run("config", "diff", "current", "current", "--home", home), 4, "no `current`")


# -- simulate ---------------------------------------------------------------------------------


def test_simulate_reports_what_changes_per_slot_and_segment_with_examples(
    home: Path, tmp_path: Path
) -> None:
    path = candidate(tmp_path, ACME_FIRST)
    report = run_json("simulate", "--config", path, "--home", home)
    assert (report["profiles"], report["changed"]) == (3, 2)
    assert report["slots"] == {
        "welcome": 0,
        "flow": 0,
        "steps": 2,
        "tutorial_depth": 0,
        "checklist": 0,
        "tips": 0,
    }
    assert report["segments"] == {
        "pro": {"members": 1, "changed": 1},
        "acme": {"members": 2, "changed": 2},
    }
    assert report["rules"] == {"acme_invite_first": 2}
    assert {e["user"] for e in report["examples"]} == {"u1", "u3"}  # in the store's order
    first = report["examples"][0]
    assert first == {
        "user": first["user"],
        "slot": "steps",
        "before": ["create_project", "invite_team"],
        "after": ["invite_team", "create_project"],
        "rule": "acme_invite_first",
        "source": "rule",
        "rule_before": None,
    }
    assert run_json("simulate", "--config", path, "--home", home, "--limit", "1")["profiles"] == 1

    human = run("simulate", "--config", path, "--home", home)
    assert human.exit_code == 0, human.output
    assert "2 of 3 users' plans change" in human.stdout
    assert "u3  steps: create_project, invite_team → invite_team, create_project" in human.stdout
    assert "(rule acme_invite_first)" in human.stdout


def test_simulate_a_rule_removed(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "candidate.yaml"
    path.write_text(HEAD.replace("rules:\n", "rules: []\n").rsplit("  - {key: pro", 1)[0])
    report = run_json("simulate", "--config", path, "--home", home)
    (change,) = report["examples"]
    assert (change["user"], change["before"], change["after"]) == ("u1", "hello_pro", "hi")
    assert (change["rule"], change["rule_before"], change["source"]) == (
        None,
        "pro_welcome",
        "default",
    )
    human = run("simulate", "--config", path, "--home", home)
    assert "(rule pro_welcome no longer applies (default))" in human.stdout


def test_simulate_refuses_a_bad_candidate(home: Path, tmp_path: Path) -> None:
    conflicting = candidate(
        tmp_path, "  - {key: everyone, priority: 20, when: {}, then: {set_welcome: hi}}\n"
    )
    assert_fails(run("simulate", "--config", conflicting, "--home", home), 2, "rules[1].priority")
    assert_fails(run("simulate", "--config", tmp_path / "nope.yaml", "--home", home), 2, "No such")


def test_a_running_service_keeps_its_config_when_a_conflicting_edit_is_saved(home: Path) -> None:
    with Firstmile.open(load_settings(home=home, environ={})) as fm:
        running = fm.config
        assert running is not None
        (home / "firstmile.yaml").write_text(
            HEAD + "  - {key: everyone, priority: 20, when: {}, then: {set_welcome: hi}}\n",
            encoding="utf-8",
        )
        assert fm.reload_config(force=True) is False
        assert fm.config is running
        assert fm.config_error is not None
        assert fm.config_error.problems[0].field == "rules[1].priority"


def test_simulate_without_a_current_config_compares_with_the_empty_plan(
    home: Path, tmp_path: Path
) -> None:
    (home / "firstmile.yaml").unlink()
    report = run_json("simulate", "--config", candidate(tmp_path, ""), "--home", home)
    assert (report["current"], report["profiles"], report["changed"]) == ("none", 3, 3)
    assert report["slots"]["welcome"] == 3


def test_decide_shows_the_plan_and_why_without_logging_it(home: Path) -> None:
    plan = run_json("decide", "u1", "--home", home, "--context", '{"locale": "fr-FR"}')
    assert plan["known"] is True
    assert plan["welcome"]["item_id"] == "hello_pro"
    assert plan["reasons"]["welcome"]["rule"] == "pro_welcome"
    result = run("decide", "u1", "--home", home)
    assert result.exit_code == 0, result.output
    assert "rule pro_welcome (segment pro)" in result.stdout
    stranger = run_json("decide", "visitor", "--anonymous", "--home", home)
    assert stranger["known"] is False
    assert stranger["reasons"]["welcome"]["source"] == "cold_start"
    with Firstmile.open(load_settings(home=home, environ={})) as fm:
        assert fm.flush_exposures() == 0
        assert fm.store.exposures(plan["profile_id"]) == []


def test_decide_refuses_a_bad_context(home: Path) -> None:
    assert_fails(run("decide", "u1", "--home", home, "--context", "{nope"), 2, "--context")
    assert_fails(run("decide", "u1", "--home", home, "--context", "[1]"), 2, "context")
