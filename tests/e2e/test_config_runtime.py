"""End to end: a running ``firstmile serve`` follows its config file and sweeps on schedule.

The server polls ``firstmile.yaml`` (every 2 s), reloads it on ``SIGHUP``, keeps the last
good config when an edit is invalid, and re-evaluates time-dependent segments every
``FIRSTMILE_SWEEP_INTERVAL_SECONDS`` (1 s here).
"""

from __future__ import annotations

import base64
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from firstmile.config import parse_config
from firstmile.workspace import init_workspace

from .server import Server, running_server

pytestmark = pytest.mark.e2e

WAIT_S = 10.0  # the poll is every 2 s; leave room for a slow machine


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose workspace has a firstmile.yaml, sweeping every second."""
    home = tmp_path_factory.mktemp("config-workspace")
    (home / "firstmile.yaml").write_text(config_text("start"), encoding="utf-8")
    workspace = init_workspace(home)
    logs = tmp_path_factory.mktemp("config-logs")
    env = {"FIRSTMILE_SWEEP_INTERVAL_SECONDS": "1"}
    with running_server(workspace.home, workspace.write_key, logs, env=env) as server:
        yield server


def config_text(tag: str, *, within: str = "3s") -> str:
    """A valid config; ``tag`` makes its version id differ from the others'."""
    return f"""\
version: 1
segments:
  - key: tagged
    name: Tagged {tag}
    condition: {{plan: {tag}}}
  - key: just_pinged
    name: Just pinged
    description: Pinged in the last few seconds (the sweeper takes users out).
    condition:
      pinged_at: {{$within: {within}}}
"""


def version_of(text: str) -> str:
    return parse_config(text, source="firstmile.yaml").version_id


def ready(server: Server) -> dict[str, Any]:
    with httpx.Client(base_url=server.base_url, timeout=5.0) as client:
        response = client.get("/readyz")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_for(predicate: Callable[[], bool], what: str, server: Server) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} within {WAIT_S} s; server log:\n{server.stderr()}")


def save(path: Path, text: str) -> None:
    """Write ``text`` and make sure the modification time moves."""
    before = path.stat().st_mtime_ns if path.exists() else None
    path.write_text(text, encoding="utf-8")
    if path.stat().st_mtime_ns == before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def load_valid(server: Server, text: str) -> str:
    """Save a valid config and wait until the server runs it; its version id."""
    version = version_of(text)
    save(server.home / "firstmile.yaml", text)
    wait_for(
        lambda: (ready(server)["config"] or {}).get("version_id") == version,
        f"version {version} in /readyz",
        server,
    )
    return version


def test_the_config_in_use_is_in_readyz(live: Server) -> None:
    body = ready(live)
    assert body["status"] == "ready"
    assert body["config_error"] is None
    assert len(body["config"]["version_id"]) == 12
    datetime.fromisoformat(body["config"]["loaded_at"])


def test_an_edited_file_is_loaded_within_seconds(live: Server) -> None:
    version = load_valid(live, config_text(f"edit-{uuid.uuid4().hex[:8]}"))
    body = ready(live)
    assert body["config_error"] is None
    assert f"config {version} loaded" in live.stderr()


def test_an_invalid_edit_keeps_the_last_good_config(live: Server) -> None:
    good_text = config_text(f"good-{uuid.uuid4().hex[:8]}")
    good = load_valid(live, good_text)
    save(live.home / "firstmile.yaml", "version: 1\nsegments:\n  - key: broken\n    nam: x\n")
    wait_for(lambda: ready(live)["config_error"] is not None, "config_error in /readyz", live)
    body = ready(live)
    assert body["status"] == "ready"
    assert body["config"]["version_id"] == good
    problems = body["config_error"]
    assert {p["field"] for p in problems} >= {"segments[0].nam", "segments[0].name"}
    assert all(p["file"].endswith("firstmile.yaml") and p["line"] for p in problems)
    assert "not loaded" in live.stderr()
    assert live.process.poll() is None  # the server runs on
    # Undoing the edit clears the problem, though the version in use does not change.
    save(live.home / "firstmile.yaml", good_text)
    wait_for(lambda: ready(live)["config_error"] is None, "config_error cleared", live)
    assert ready(live)["config"]["version_id"] == good


def test_sighup_reloads_a_change_the_poll_cannot_see(live: Server) -> None:
    path = live.home / "firstmile.yaml"
    load_valid(live, config_text(f"before-{uuid.uuid4().hex[:8]}"))
    stat = path.stat()
    text = config_text(f"hup-{uuid.uuid4().hex[:8]}")
    path.write_text(text, encoding="utf-8")
    # Same modification time as before: only SIGHUP makes the server read the file.
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    live.process.send_signal(signal.SIGHUP)
    version = version_of(text)
    wait_for(lambda: ready(live)["config"]["version_id"] == version, "the SIGHUP reload", live)
    assert "SIGHUP" in live.stderr()
    assert live.process.poll() is None


def test_the_sweeper_expires_a_membership_with_no_new_event(live: Server) -> None:
    load_valid(live, config_text(f"sweep-{uuid.uuid4().hex[:8]}", within="3s"))
    user = f"user-{uuid.uuid4().hex[:10]}"
    message = {
        "type": "identify",
        "userId": user,
        "traits": {"pinged_at": datetime.now(UTC).isoformat()},
    }
    auth = base64.b64encode(f"{live.write_key}:".encode()).decode()
    with httpx.Client(base_url=live.base_url, timeout=10.0) as client:
        response = client.post(
            "/v1/batch", json={"batch": [message]}, headers={"Authorization": f"Basic {auth}"}
        )
    assert response.status_code == 200, response.text

    def memberships() -> set[str]:
        with live.open() as fm:
            return set(fm.store.memberships(fm.find_profile_id(user)))

    assert "just_pinged" in memberships()  # entered with the event
    wait_for(lambda: "just_pinged" not in memberships(), "the sweeper's exit", live)
    with live.open() as fm:
        history = fm.store.segment_history(fm.find_profile_id(user))
    changes = sorted((h.at, h.change) for h in history if h.segment_key == "just_pinged")
    assert [change for _, change in changes] == ["entered", "exited"]
    assert "segment sweep: 1 membership change" in live.stderr()
