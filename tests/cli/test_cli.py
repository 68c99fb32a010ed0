"""The ``firstmile`` command on real workspace files, through typer's CliRunner.

Every ``--json`` output must be exactly one JSON document on stdout; every error a
message on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from firstmile.cli import app
from firstmile.service import Firstmile
from firstmile.settings import SETTINGS_FILE_NAME, load_settings

# The developer's FIRSTMILE_* variables must not leak into the commands under test.
CLEAN_ENV: dict[str, str | None] = {k: None for k in os.environ if k.startswith("FIRSTMILE_")}


def run(*args: str | Path) -> Result:
    runner = CliRunner(env=CLEAN_ENV)
    return runner.invoke(app, [str(arg) for arg in args])


def run_json(*args: str | Path) -> Any:
    """Run a command that must succeed and print exactly one JSON document."""
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # json.loads refuses anything after the document


def assert_fails(result: Result, exit_code: int, *words: str) -> None:
    """A user error: the exit code, a readable message on stderr, no traceback."""
    assert result.exit_code == exit_code, result.output
    assert result.stdout == ""
    assert result.stderr.strip()
    for word in words:
        assert word in result.stderr
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A workspace made by ``firstmile init``."""
    workspace = tmp_path / "workspace"
    run_json("init", workspace)
    return workspace


@pytest.fixture
def events_file(tmp_path: Path) -> Path:
    return write_lines(
        tmp_path / "events.ndjson",
        json.dumps({"type": "identify", "userId": "u1", "traits": {"email": " Ada@Example.COM "}}),
        json.dumps(
            {"type": "track", "userId": "u1", "event": "Signed Up", "properties": {"seats": "3"}}
        ),
        "",
        '{"type": "track", "userId": "u1", "event": ',  # not JSON
        json.dumps({"type": "track", "event": "Nobody"}),  # no userId/anonymousId
        json.dumps({"type": "page", "anonymousId": "a1", "properties": {"path": "/"}}),
    )


# -- init -----------------------------------------------------------------------------------


def test_init_prints_one_json_document_with_a_working_write_key(tmp_path: Path) -> None:
    workspace = tmp_path / "new" / "workspace"
    result = run("init", workspace, "--json")

    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["write_key"].startswith("fm_wk_")
    assert Path(created["home"]) == workspace.resolve()
    assert Path(created["settings_file"]) == workspace.resolve() / SETTINGS_FILE_NAME
    assert created["database_url"].startswith("sqlite:///")
    with Firstmile.open(load_settings(home=workspace, environ={})) as fm:
        assert fm.authenticate(created["write_key"]) == "default"


def test_init_twice_keeps_the_settings_and_issues_a_new_key(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    first = run_json("init", workspace)
    settings_file = workspace / SETTINGS_FILE_NAME
    settings_file.write_text(
        settings_file.read_text() + "session_timeout_minutes = 45\n", encoding="utf-8"
    )
    edited = settings_file.read_text()

    second = run_json("init", workspace)

    assert settings_file.read_text() == edited
    assert second["write_key"] != first["write_key"]
    assert second["database_url"] == first["database_url"]
    with Firstmile.open(load_settings(home=workspace, environ={})) as fm:
        assert fm.settings.session_timeout_minutes == 45
        for key in (first["write_key"], second["write_key"]):
            assert fm.authenticate(key) == "default"


def test_init_without_json_tells_what_it_did(tmp_path: Path) -> None:
    result = run("init", tmp_path / "workspace")
    assert result.exit_code == 0
    assert "Write key: fm_wk_" in result.stdout
    assert "Kept" in run("init", tmp_path / "workspace").stdout


# -- import ---------------------------------------------------------------------------------


def test_import_ndjson_with_bad_lines(home: Path, events_file: Path) -> None:
    summary = run_json("import", events_file, "--home", home)

    assert summary["accepted"] == 3
    assert summary["duplicates"] == 0
    assert summary["quarantined"] == 2
    assert summary["quarantine_reasons"] == {"invalid_json": 1, "missing_id": 1}
    user = run_json("users", "show", "u1", "--home", home)
    assert user["traits"] == {"email": "ada@example.com"}
    assert user["computed"]["event_counts"] == {"Signed Up": 1}


def test_importing_the_same_file_again_counts_duplicates(home: Path, events_file: Path) -> None:
    run_json("import", events_file, "--home", home)
    again = run_json("import", events_file, "--home", home)

    assert (again["accepted"], again["duplicates"]) == (0, 3)
    # What cannot be parsed has no id to dedupe on: it is quarantined again, never lost.
    assert again["quarantined"] == 2
    assert run_json("users", "show", "u1", "--home", home)["computed"]["event_count"] == 2


def test_import_csv_with_dotted_columns(home: Path, tmp_path: Path) -> None:
    csv_file = write_lines(
        tmp_path / "events.csv",
        "type,userId,anonymousId,event,traits.email,traits.address.country,"
        "properties.plan,properties.seats,timestamp,messageId",
        "identify,u7,,,Eve@Example.com,france,,,2026-01-02T03:04:05Z,m1",
        "track,u7,,Upgraded,,,pro,12,2026-01-02T04:00:00Z,m2",
        "track,,a7,,,,,,,m3",
    )

    summary = run_json("import", csv_file, "--home", home, "--batch-size", "1")

    assert (summary["accepted"], summary["quarantined"]) == (2, 1)
    assert summary["quarantine_reasons"] == {"missing_event": 1}
    user = run_json("users", "show", "u7", "--home", home)
    assert user["traits"] == {"email": "eve@example.com", "address": {"country": "FR"}}
    assert user["computed"]["event_counts"] == {"Upgraded": 1}
    assert user["computed"]["first_seen"] == "2026-01-02T03:04:05+00:00"
    with Firstmile.open(load_settings(home=home, environ={})) as fm:
        [track] = [e for e in fm.store.events(user["profile_id"]) if e.type == "track"]
    assert track.payload["properties"] == {"plan": "pro", "seats": 12}


def test_import_format_option_overrides_the_suffix(home: Path, tmp_path: Path) -> None:
    data = write_lines(tmp_path / "export.txt", "type,userId,event", "track,u9,Opened")
    summary = run_json("import", data, "--home", home, "--format", "csv")
    assert summary["accepted"] == 1


def test_import_without_json_prints_a_summary(home: Path, events_file: Path) -> None:
    result = run("import", events_file, "--home", home)
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())  # rich wraps lines at the terminal width
    assert "3 accepted, 0 duplicates" in text
    assert "invalid_json: 1" in text


# -- users ----------------------------------------------------------------------------------


def test_users_show_by_anonymous_id(home: Path, events_file: Path) -> None:
    run_json("import", events_file, "--home", home)
    profile = run_json("users", "show", "a1", "--home", home)

    assert profile["identities"] == {"user_id": [], "anonymous_id": ["a1"]}
    assert profile["computed"]["last_pages"] == ["/"]
    assert profile["consent"]["marketing"] == {"granted": False, "stated": False, "at": None}
    assert run_json("users", "show", profile["profile_id"], "--home", home) == profile


def test_users_show_without_json_prints_tables(home: Path, events_file: Path) -> None:
    run_json("import", events_file, "--home", home)
    result = run("users", "show", "u1", "--home", home)
    assert result.exit_code == 0
    assert "ada@example.com" in result.stdout
    assert "computed traits" in result.stdout


def test_users_show_unknown_is_exit_code_4_without_traceback(home: Path) -> None:
    result = run("users", "show", "nobody", "--home", home, "--json")
    assert_fails(result, 4, "nobody")


# -- quarantine -----------------------------------------------------------------------------


@pytest.fixture
def quarantined(home: Path, events_file: Path) -> dict[str, int]:
    """The workspace after an import with two quarantined lines: reason -> id."""
    run_json("import", events_file, "--home", home)
    listing = run_json("quarantine", "list", "--home", home)
    return {item["reason"]: item["id"] for item in listing["items"]}


def test_quarantine_list(home: Path, quarantined: dict[str, int]) -> None:
    listing = run_json("quarantine", "list", "--home", home)

    assert listing["pending_by_reason"] == {"invalid_json": 1, "missing_id": 1}
    assert {item["status"] for item in listing["items"]} == {"pending"}
    only = run_json("quarantine", "list", "--home", home, "--reason", "missing_id")
    assert [item["reason"] for item in only["items"]] == ["missing_id"]
    assert run_json("quarantine", "list", "--home", home, "--status", "replayed")["items"] == []


def test_quarantine_show(home: Path, quarantined: dict[str, int]) -> None:
    missing = run_json("quarantine", "show", str(quarantined["missing_id"]), "--home", home)
    not_json = run_json("quarantine", "show", str(quarantined["invalid_json"]), "--home", home)

    assert missing["payload"] == {"type": "track", "event": "Nobody"}
    assert missing["field"] == "userId"
    assert "userId" in missing["message"]
    assert not_json["payload"] == '{"type": "track", "userId": "u1", "event":'


def test_quarantine_replay_with_a_fixed_payload(
    home: Path, quarantined: dict[str, int], tmp_path: Path
) -> None:
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps({"type": "track", "event": "Nobody", "userId": "u2"}))
    entry = str(quarantined["missing_id"])

    report = run_json("quarantine", "replay", entry, "--payload", fixed, "--home", home)

    assert report["replayed"] == 1
    assert report["still_invalid"] == 0
    assert report["results"] == [{"id": int(entry), "outcome": "replayed", "duplicate": False}]
    assert run_json("quarantine", "show", entry, "--home", home)["status"] == "replayed"
    assert run_json("users", "show", "u2", "--home", home)["computed"]["event_counts"] == {
        "Nobody": 1
    }
    again = run_json("quarantine", "replay", entry, "--home", home)
    assert again["results"] == [{"id": int(entry), "outcome": "skipped", "reason": "replayed"}]


def test_quarantine_replay_all(home: Path, quarantined: dict[str, int]) -> None:
    report = run_json("quarantine", "replay", "--all", "--home", home)

    # Neither can pass unchanged: both stay pending, with their reasons.
    assert report["replayed"] == 0
    assert report["still_invalid"] == 2
    assert {r["reason"] for r in report["results"]} == {"invalid_json", "missing_id"}
    assert len(run_json("quarantine", "list", "--home", home)["items"]) == 2


def test_quarantine_replay_without_json(home: Path, quarantined: dict[str, int]) -> None:
    result = run("quarantine", "replay", "--all", "--home", home)
    assert result.exit_code == 0
    assert "replayed 0, still invalid 2" in " ".join(result.stdout.split())


# -- status ---------------------------------------------------------------------------------


def test_status(home: Path, events_file: Path) -> None:
    run_json("import", events_file, "--home", home)
    summary = run_json("status", "--home", home)

    assert summary["ingest"]["accepted"] == 3
    assert summary["ingest"]["quarantined"] == 2
    assert summary["quarantine_by_reason"] == {"invalid_json": 1, "missing_id": 1}
    assert summary["profiles"] == {"profiles": 2, "identified": 1, "anonymous": 1, "events": 3}
    assert summary["consent"]["analytics"] == {"granted": 2, "denied": 0}
    assert summary["consent"]["marketing"] == {"granted": 0, "denied": 2}


def test_status_of_a_new_workspace(home: Path) -> None:
    summary = run_json("status", "--home", home)
    assert summary["profiles"]["profiles"] == 0
    assert summary["quarantine_by_reason"] == {}


def test_home_from_the_environment(home: Path, events_file: Path) -> None:
    result = CliRunner(env={**CLEAN_ENV, "FIRSTMILE_HOME": str(home)}).invoke(
        app, ["import", str(events_file), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accepted"] == 3


# -- bad input ------------------------------------------------------------------------------


def test_import_a_missing_file(home: Path, tmp_path: Path) -> None:
    assert_fails(run("import", tmp_path / "nope.ndjson", "--home", home, "--json"), 2, "nope")


def test_import_an_unknown_format(home: Path, events_file: Path) -> None:
    result = run("import", events_file, "--home", home, "--format", "xml", "--json")
    assert_fails(result, 2, "--format")


def test_quarantine_show_unknown_id(home: Path) -> None:
    assert_fails(run("quarantine", "show", "999", "--home", home, "--json"), 4, "999")


def test_quarantine_list_bad_status(home: Path) -> None:
    assert_fails(run("quarantine", "list", "--status", "lost", "--home", home), 2, "--status")


def test_quarantine_replay_needs_ids(home: Path) -> None:
    assert_fails(run("quarantine", "replay", "--home", home, "--json"), 2, "--all")


def test_quarantine_replay_payload_needs_exactly_one_id(home: Path, tmp_path: Path) -> None:
    fixed = tmp_path / "fixed.json"
    fixed.write_text("{}")
    result = run("quarantine", "replay", "1", "2", "--payload", fixed, "--home", home)
    assert_fails(result, 2, "one id")


def test_quarantine_replay_payload_that_is_not_json(
    home: Path, quarantined: dict[str, int], tmp_path: Path
) -> None:
    fixed = write_lines(tmp_path / "fixed.json", "{not json")
    entry = str(quarantined["missing_id"])
    assert_fails(run("quarantine", "replay", entry, "--payload", fixed, "--home", home), 2)


def test_a_broken_settings_file_is_a_config_error(home: Path) -> None:
    (home / SETTINGS_FILE_NAME).write_text("this is = = not toml")
    assert_fails(run("status", "--home", home, "--json"), 78, "TOML")


@pytest.mark.parametrize(
    "args",
    [
        ["import"],
        ["import", "x.ndjson", "--batch-size", "0"],
        ["quarantine", "list", "--limit", "0"],
        ["quarantine", "show", "not-a-number"],
        ["users", "show"],
        ["status", "--no-such-option"],
        ["no-such-command"],
    ],
    ids=" ".join,
)
def test_bad_usage_is_rejected_with_a_message(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.strip()
    assert "Traceback" not in result.output


def test_version() -> None:
    result = run("version")
    assert result.exit_code == 0
    assert result.stdout.strip()


@pytest.mark.e2e
def test_demo_json_prints_what_was_sent_and_what_was_stored(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    out = run_json("demo", "--users", "12", "--home", home)
    assert out["exit_code"] == 0
    sent, stored = out["sent"], out["stored"]
    assert sent["users"] == 12
    # The population, plus the launch-week sign-ups the demo's experiment and bandit use.
    assert stored["profiles"]["profiles"] == 12 + sent["trials"]["users"]
    assert stored["ingest"]["accepted"] > 0
    assert sum(stored["quarantine_by_reason"].values()) == stored["ingest"]["quarantined"]
