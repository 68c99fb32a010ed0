"""Starting ``firstmile serve`` in a subprocess and knowing when it is ready."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from firstmile.service import Firstmile
from firstmile.settings import load_settings

STARTUP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Server:
    """A running server: where it listens, its workspace, and its captured output."""

    base_url: str
    home: Path
    write_key: str
    stderr_path: Path
    process: subprocess.Popen[bytes]

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def open(self) -> Firstmile:
        """The library on the server's own workspace, to read what it stored."""
        return Firstmile.open(load_settings(home=self.home, environ={}))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_ready(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    with httpx.Client(base_url=base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"firstmile serve exited with {process.returncode}:\n{log.read_text()}"
                )
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(
        f"firstmile serve was not ready in {STARTUP_TIMEOUT_S} s:\n{log.read_text()}"
    )


@contextmanager
def running_server(
    home: Path, write_key: str, logs: Path, *, env: Mapping[str, str] | None = None
) -> Iterator[Server]:
    """``python -m firstmile serve --home home`` on a free port; always terminated after.

    ``env`` adds ``FIRSTMILE_*`` settings; the developer's own never reach the server.
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    stdout_path, stderr_path = logs / "stdout.log", logs / "stderr.log"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTMILE_")}
    environ["PYTHONUNBUFFERED"] = "1"
    environ.update(env or {})
    command = [sys.executable, "-m", "firstmile", "serve", "--home", str(home)]
    command += ["--port", str(port)]
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=environ)
    try:
        wait_until_ready(process, base_url, stderr_path)
        yield Server(base_url, home, write_key, stderr_path, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
