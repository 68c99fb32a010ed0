"""Where the demo runs: a workspace folder of its own, and a real ``firstmile serve``."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from firstmile.demo.exits import EXIT_SERVER, EXIT_USAGE, DemoError

__all__ = ["MARKER", "Server", "fresh_home", "serve"]

MARKER = ".firstmile-demo"  # marks a folder the demo made, so it may delete it next time
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
LOG_TAIL_LINES = 30


# -- the workspace ---------------------------------------------------------------------------


def fresh_home(home: Path) -> Path:
    """Delete and recreate ``home``, but only if it is empty or an earlier demo's."""
    home = home.expanduser().resolve()
    if home.exists():
        if not home.is_dir():
            raise DemoError(f"{home} is a file; pass another --home.", EXIT_USAGE)
        if any(home.iterdir()) and not (home / MARKER).is_file():
            # Never delete a folder the demo did not make (think `--home .`).
            raise DemoError(
                f"{home} is not empty and was not made by `firstmile demo`; pass another "
                "--home, or delete that folder yourself.",
                EXIT_USAGE,
            )
        shutil.rmtree(home)
    home.mkdir(parents=True)
    (home / MARKER).write_text(
        "Made by `firstmile demo`, which deletes and recreates this folder on each run.\n",
        encoding="utf-8",
    )
    return home


# -- the server ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _server_failed(message: str, log: Path) -> DemoError:
    return DemoError(message, EXIT_SERVER, _tail(log))


@dataclass(frozen=True, slots=True)
class Server:
    """A running server: its address, its process, its log, how long it took to start."""

    base_url: str
    pid: int
    log: Path
    ready_seconds: float


@contextmanager
def serve(home: Path, log: Path) -> Iterator[Server]:
    """Run ``firstmile serve`` on a free port until the block ends (SIGTERM, then wait)."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    # The server must read the demo workspace only, not the developer's FIRSTMILE_* setup.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTMILE_")}
    env["PYTHONUNBUFFERED"] = "1"
    command = [sys.executable, "-m", "firstmile", "serve", "--home", str(home)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    started = time.monotonic()
    with log.open("wb") as output:
        # A fixed command line of our own interpreter: no shell, no user input.
        process = subprocess.Popen(  # noqa: S603
            command, stdout=output, stderr=subprocess.STDOUT, env=env
        )
    try:
        _wait_until_ready(process, base_url, log)
        yield Server(base_url, process.pid, log, time.monotonic() - started)
        if process.poll() is not None:
            raise _server_failed(
                f"The server stopped by itself (exit code {process.returncode}).", log
            )
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # uvicorn drains requests, then exits
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)


def _wait_until_ready(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(base_url=base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise _server_failed(
                    f"`firstmile serve` exited with code {process.returncode} before it was "
                    f"ready. Its log is {log}.",
                    log,
                )
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.1)
    raise _server_failed(
        f"`firstmile serve` was not ready after {READY_TIMEOUT_S:.0f} s (GET /readyz). "
        f"Its log is {log}.",
        log,
    )
