"""Counting what the simulation sends: its phases, a thread-safe tally, the final report."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from firstmile.demo.model import Message

__all__ = [
    "PHASES",
    "PHASE_BROWSER",
    "PHASE_MALFORMED",
    "PHASE_SDK",
    "PHASE_SECOND_DEVICE",
    "PhaseProgress",
    "ProgressHook",
    "SdkClientInfo",
    "SimulationReport",
    "Tally",
]

#: ``progress(phase, done, total)``: called as each phase advances (``done`` is messages).
ProgressHook = Callable[[str, int, int], None]

PHASE_BROWSER = "browser: anonymous visits before sign-up"
PHASE_SDK = "python SDK: sign-ups and onboarding"
PHASE_SECOND_DEVICE = "browser: logins on a second device"
PHASE_MALFORMED = "buggy integration: malformed messages"
PHASES = (PHASE_BROWSER, PHASE_SDK, PHASE_SECOND_DEVICE, PHASE_MALFORMED)


@dataclass(frozen=True, slots=True)
class SdkClientInfo:
    """One segment-analytics-python client: its name, gzip, and messages it sent."""

    name: str
    gzip: bool
    messages: int


@dataclass
class SimulationReport:
    """What the simulation sent, to reconcile with what the server stored.

    Attributes
    ----------
    sent_by_type
        Distinct well-formed messages by call type (``identify``, ``track``, ...).
    sent_by_channel
        Distinct well-formed messages by the way they were sent.
    malformed_by_reason
        Malformed messages by the quarantine reason they are made to trigger.
    retried_messages
        Messages posted a second time with the same ``messageId`` (browser retries).
    retried_requests
        Requests re-posted with an identical body.
    http_requests
        Raw HTTP requests made (browser, malformed and retries; not the SDK's batches).
    sdk_clients
        The segment-analytics-python clients used.
    server_said
        Totals of the server's answers to the raw requests (``accepted``,
        ``duplicates``, ``suppressed``, ``quarantined``); the SDK does not expose them.
    errors
        Anything that went wrong while sending: SDK ``on_error`` calls, unexpected
        HTTP statuses. Empty when all went through.
    seconds
        Wall time of the simulation.
    """

    sent_by_type: dict[str, int] = field(default_factory=dict)
    sent_by_channel: dict[str, int] = field(default_factory=dict)
    malformed_by_reason: dict[str, int] = field(default_factory=dict)
    retried_messages: int = 0
    retried_requests: int = 0
    http_requests: int = 0
    sdk_clients: list[SdkClientInfo] = field(default_factory=list)
    server_said: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (what ``demo.json`` in the workspace holds)."""
        data = asdict(self)
        data["well_formed"] = self.well_formed
        data["malformed"] = self.malformed
        return data

    @property
    def well_formed(self) -> int:
        """Distinct well-formed messages sent."""
        return sum(self.sent_by_type.values())

    @property
    def malformed(self) -> int:
        """Malformed messages sent."""
        return sum(self.malformed_by_reason.values())


class Tally:
    """Thread-safe counters filled while sending."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_type: Counter[str] = Counter()
        self.by_channel: Counter[str] = Counter()
        self.server_said: Counter[str] = Counter()
        self.errors: list[str] = []
        self.http_requests = 0
        self.retried_messages = 0
        self.retried_requests = 0

    def sent(self, channel: str, messages: Iterable[Message]) -> None:
        with self._lock:
            for message in messages:
                self.by_type[message.type] += 1
                self.by_channel[channel] += 1

    def answer(self, body: Any) -> None:
        if not isinstance(body, dict):
            return
        with self._lock:
            for key in ("accepted", "duplicates", "suppressed"):
                value = body.get(key)
                if isinstance(value, int):
                    self.server_said[key] += value
            quarantined = body.get("quarantined")
            if isinstance(quarantined, list):
                self.server_said["quarantined"] += len(quarantined)

    def error(self, text: str) -> None:
        with self._lock:
            self.errors.append(text)

    def request(self) -> None:
        with self._lock:
            self.http_requests += 1

    def retried(self, messages: int) -> None:
        with self._lock:
            self.retried_requests += 1
            self.retried_messages += messages


class PhaseProgress:
    """How far one phase is, told to an optional :data:`ProgressHook` (thread-safe).

    Creating it reports 0 of ``total``; :meth:`advance` adds what was just sent.
    """

    def __init__(self, hook: ProgressHook | None, phase: str, total: int) -> None:
        self._hook = hook
        self._phase = phase
        self._total = total
        self._lock = threading.Lock()
        self._done = 0
        self.report(0)

    def report(self, done: int) -> None:
        if self._hook:
            self._hook(self._phase, done, self._total)

    def advance(self, count: int) -> None:
        with self._lock:
            self._done += count
            done = self._done
        self.report(done)
