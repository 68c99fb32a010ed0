"""End to end: a real ``firstmile serve`` answers ``POST /v1/decide``.

Events sent by the real ``segment-analytics-python`` client change the next plan; the
server writes the exposure log in the background and records the config version.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from segment.analytics.client import Client

from firstmile.workspace import init_workspace

from .server import Server, running_server

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).parents[1] / "spec" / "config" / "valid" / "decide.yaml"
WAIT_S = 10.0


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    home = tmp_path_factory.mktemp("decide-workspace")
    shutil.copy(EXAMPLE, home / "firstmile.yaml")
    workspace = init_workspace(home)
    logs = tmp_path_factory.mktemp("decide-logs")
    with running_server(workspace.home, workspace.write_key, logs) as server:
        yield server, workspace.server_key


def decide(server: Server, server_key: str, body: dict[str, Any]) -> dict[str, Any]:
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        response = client.post(
            "/v1/decide", json=body, headers={"Authorization": f"Bearer {server_key}"}
        )
    assert response.status_code == 200, response.text
    plan: dict[str, Any] = response.json()
    return plan


def test_tracked_events_change_the_next_plan(live: tuple[Server, str]) -> None:
    server, server_key = live
    errors: list[Any] = []
    client = Client(
        server.write_key,
        host=server.base_url,
        sync_mode=True,  # each call is sent before it returns: the next decide sees it
        on_error=lambda error, batch: errors.append((error, batch)),
    )
    try:
        client.identify("dana", {"role": "admin", "first_name": "Dana"})
        first = decide(server, server_key, {"userId": "dana"})
        assert first["welcome"]["item_id"] == "welcome_admin"
        assert first["welcome"]["body"] == "Dana, invite your team first."
        assert first["steps"][0]["item_id"] == "invite_team"
        client.track("dana", "Invite Sent")
        client.track("dana", "Step Completed", {"item_id": "watch_intro"})
    finally:
        client.flush()
    assert errors == []
    second = decide(server, server_key, {"userId": "dana"})
    states = {s["item_id"]: s["state"] for s in second["steps"]}
    assert states["invite_team"] == "done"
    assert states["watch_intro"] == "done"
    assert second["config_version"] == first["config_version"]


def test_exposures_and_the_config_version_are_recorded(live: tuple[Server, str]) -> None:
    server, server_key = live
    plan = decide(server, server_key, {"userId": "eli", "events": [{"event": "Signed Up"}]})
    deadline = time.monotonic() + WAIT_S
    with server.open() as fm:
        while not fm.store.exposures(plan["profile_id"]) and time.monotonic() < deadline:
            time.sleep(0.2)
        items = {e.item_id for e in fm.store.exposures(plan["profile_id"])}
        assert plan["welcome"]["item_id"] in items
        assert [v["version_id"] for v in fm.config_versions()] == [plan["config_version"]]
