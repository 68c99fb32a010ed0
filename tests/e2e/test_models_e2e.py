"""End to end: a running ``firstmile serve`` picks up models trained and promoted by
another process (the CLI), without a restart, and a rollback takes effect the same way."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from firstmile.workspace import init_workspace

from .server import Server, running_server

pytestmark = pytest.mark.e2e

CONFIG = Path(__file__).parents[1] / "spec" / "config" / "valid" / "models.yaml"
WAIT_S = 20.0  # serve checks the registry every 5 s; leave room for a slow machine


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    home = tmp_path_factory.mktemp("models-workspace")
    (home / "firstmile.yaml").write_text(CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    workspace = init_workspace(home)
    logs = tmp_path_factory.mktemp("models-logs")
    env = {"FIRSTMILE_DECIDE_BUDGET_MS": "5000"}
    with running_server(workspace.home, workspace.write_key, logs, env=env) as server:
        yield server, workspace.server_key


def _cli(home: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "firstmile", *args, "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _serving(server: Server, key: str) -> dict[str, int]:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        body = client.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).json()
    serving: dict[str, int] = body["serving"]
    return serving


def _wait_for(server: Server, key: str, expected: dict[str, int]) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if _serving(server, key) == expected:
            return
        time.sleep(0.25)
    raise AssertionError(f"serve holds {_serving(server, key)}, not {expected}")


def test_serve_hot_loads_promotions_and_rollbacks(
    live: tuple[Server, str], model_users: Callable[[int], list[dict[str, Any]]]
) -> None:
    server, key = live
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        response = client.post(
            "/v1/batch", json={"batch": model_users(40)}, auth=(server.write_key, "")
        )
        assert response.status_code == 200
    assert _serving(server, key) == {}
    _cli(server.home, "train", "--model", "upgrades", "--json")
    _wait_for(server, key, {"upgrades": 1})
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        view = client.get("/v1/users/u0/models", headers={"Authorization": f"Bearer {key}"})
        assert view.status_code == 200
        assert view.json()["predictions"]["upgrades"]["probability"] > 0.5
    _cli(server.home, "train", "--model", "upgrades", "--json")
    _wait_for(server, key, {"upgrades": 2})
    _cli(server.home, "models", "rollback", "upgrades", "--json")
    _wait_for(server, key, {"upgrades": 1})
    assert "Traceback" not in server.stderr()
