"""A real ``firstmile serve`` in a subprocess, on a workspace made by ``init_workspace``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from firstmile.workspace import init_workspace

from .server import Server, free_port, wait_until_ready


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``python -m firstmile serve`` on a free port; always terminated afterwards."""
    workspace = init_workspace(tmp_path_factory.mktemp("workspace"))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("logs")
    stdout_path, stderr_path = logs / "stdout.log", logs / "stderr.log"
    # The developer's FIRSTMILE_* variables must not point the server elsewhere.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTMILE_")}
    env["PYTHONUNBUFFERED"] = "1"
    command = [
        sys.executable,
        "-m",
        "firstmile",
        "serve",
        "--home",
        str(workspace.home),
        "--port",
        str(port),
    ]
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env)
    try:
        wait_until_ready(process, base_url, stderr_path)
        yield Server(base_url, workspace.home, workspace.write_key, stderr_path, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    """A plain HTTP client on the server (raw requests, as browsers and scripts send)."""
    with httpx.Client(base_url=server.base_url, timeout=15.0) as client:
        yield client
