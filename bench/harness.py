"""What every benchmark shares: a real ``firstmile serve`` in a subprocess, free ports,
and readings of this machine and of a process from ``/proc``.

Run the benchmarks as modules from the repository root (``python -m bench.ingest``), so
they can import this one.
"""

from __future__ import annotations

import os
import platform
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_environ() -> dict[str, str]:
    """The environment without FIRSTMILE_* overrides: the embedded default is measured."""
    return {k: v for k, v in os.environ.items() if not k.startswith("FIRSTMILE_")}


def cpu_model() -> str:
    """The CPU's model name, for the figures' JSON line."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads (``/proc/<pid>/stat``)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status_mb(pid: int, field_name: str) -> float:
    """A memory figure of ``/proc/<pid>/status`` (``VmRSS``, ``VmHWM``) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"{field_name} not in /proc/{pid}/status")


class Server:
    """``python -m firstmile serve`` in a subprocess on ``home``, stopped with SIGTERM."""

    def __init__(self, home: Path, port: int) -> None:
        self.log_path = home / "serve.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "firstmile", "serve", "--home", str(home), "--port", str(port)],
            cwd=home,
            env=clean_environ(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{port}"

    def wait_ready(self, timeout: float = 300.0) -> dict[str, Any]:
        """Wait for ``/readyz``; returns its body."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited early:\n{self.log_tail()}")
            try:
                response = httpx.get(self.url + "/readyz", timeout=2)
                if response.status_code == 200:
                    ready: dict[str, Any] = response.json()
                    return ready
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not get ready in {timeout:.0f} s:\n{self.log_tail()}")

    def wait_idle(self, least: float = 2.0, timeout: float = 120.0) -> float:
        """Wait until start-up work (the popularity count) is done; returns the wait.

        Idle: under 5% of a core over half a second, after at least ``least`` seconds.
        """
        start = time.monotonic()
        time.sleep(least)
        while time.monotonic() - start < timeout:
            before = process_cpu_s(self.process.pid)
            time.sleep(0.5)
            if process_cpu_s(self.process.pid) - before < 0.025:
                break
        return time.monotonic() - start

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
