"""A real ``firstmile serve`` in a subprocess, on a workspace made by ``init_workspace``."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from firstmile.workspace import init_workspace

from .server import Server, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``python -m firstmile serve`` on a free port; always terminated afterwards."""
    workspace = init_workspace(tmp_path_factory.mktemp("workspace"))
    logs = tmp_path_factory.mktemp("logs")
    with running_server(workspace.home, workspace.write_key, logs) as server:
        yield server


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    """A plain HTTP client on the server (raw requests, as browsers and scripts send)."""
    with httpx.Client(base_url=server.base_url, timeout=15.0) as client:
        yield client
