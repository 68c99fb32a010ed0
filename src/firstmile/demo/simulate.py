"""Send a simulated population through the real HTTP API of a running firstmile server.

Traffic goes the way it would in production, with real clients:

* **segment-analytics-python 2.4.0**, unmodified, for everything the app's backend
  tracks (sign-ups, onboarding steps, groups, aliases): several clients, some with
  gzip, each with its own background consumer that posts batches to ``/v1/batch``;
* **raw HTTP in the shape analytics.js sends** for browser traffic the Python client
  cannot produce: single events to the short routes (``/v1/p``, ``/v1/t``, ``/v1/i``)
  or batches to ``/v1/b``, as ``Content-Type: text/plain`` with ``writeKey`` in the
  body, the user's address in ``X-Forwarded-For`` (as a reverse proxy adds it), and
  identical re-posts when the browser retries;
* **raw ``/v1/batch`` bodies** for the malformed messages of a buggy integration: the
  Python client validates calls before sending, so it could not send them.

:func:`simulate` returns a :class:`SimulationReport` of what was sent, which the demo
reconciles with what the server stored.

The clients are in :mod:`~firstmile.demo.sdk` and :mod:`~firstmile.demo.raw_http`;
the counting is in :mod:`~firstmile.demo.tally`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import httpx

from firstmile.demo.model import BrowserRequest, Population
from firstmile.demo.raw_http import RawClient, malformed_batches
from firstmile.demo.sdk import run_sdk_phase
from firstmile.demo.tally import (
    PHASE_BROWSER,
    PHASE_MALFORMED,
    PHASE_SECOND_DEVICE,
    PHASES,
    PhaseProgress,
    ProgressHook,
    SdkClientInfo,
    SimulationReport,
    Tally,
)

__all__ = ["PHASES", "ProgressHook", "SdkClientInfo", "SimulationReport", "simulate"]


def _run_browser_phase(
    raw: RawClient,
    phase: str,
    per_person: Sequence[Sequence[BrowserRequest]],
    progress: ProgressHook | None,
    concurrency: int,
) -> None:
    total = sum(len(r.messages) for requests in per_person for r in requests)
    meter = PhaseProgress(progress, phase, total)

    def one_person(requests: Sequence[BrowserRequest]) -> None:
        # A person's requests go in order (one browser); people run side by side.
        for request in requests:
            raw.browser(request)
            meter.advance(len(request.messages))

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="browser") as pool:
        for future in [pool.submit(one_person, r) for r in per_person if r]:
            future.result()


def simulate(
    population: Population,
    *,
    base_url: str,
    write_key: str,
    progress: ProgressHook | None = None,
    concurrency: int = 8,
    max_retries: int = 3,
    timeout: float = 30.0,
) -> SimulationReport:
    """Send ``population`` to the server at ``base_url`` and report what was sent.

    Parameters
    ----------
    population
        From :func:`firstmile.demo.population.build_population`.
    base_url
        The server, for example ``http://127.0.0.1:8300`` (no ``/v1``).
    write_key
        A write key of the server's workspace.
    progress
        Called as ``progress(phase, done, total)`` while sending (see :data:`PHASES`).
    concurrency
        Browsers sending at the same time (each person's requests stay in order).
    max_retries
        ``max_retries`` of the segment-analytics-python clients.
    timeout
        Seconds before a raw HTTP request is given up.

    Returns
    -------
    SimulationReport
        Counts of what was sent; ``errors`` lists anything that did not go through.

    Notes
    -----
    The phases run one after the other so that each person's messages reach the
    server in the order they happened: anonymous browsing, then the server-side
    sign-up that stitches it to the user, then a later login on another device.
    """
    started = time.monotonic()
    tally = Tally()
    people = population.people
    with httpx.Client(base_url=base_url, timeout=timeout) as http:
        raw = RawClient(http, write_key, tally)
        _run_browser_phase(
            raw, PHASE_BROWSER, [p.browser_requests for p in people], progress, concurrency
        )
        sdk_clients = run_sdk_phase(population, base_url, write_key, tally, progress, max_retries)
        _run_browser_phase(
            raw,
            PHASE_SECOND_DEVICE,
            [p.second_device_requests for p in people],
            progress,
            concurrency,
        )
        meter = PhaseProgress(progress, PHASE_MALFORMED, len(population.malformed))
        for batch in malformed_batches(population.malformed):
            raw.malformed(batch)
            meter.advance(len(batch))
    return SimulationReport(
        sent_by_type=dict(tally.by_type),
        sent_by_channel=dict(tally.by_channel),
        malformed_by_reason=dict(population.malformed_by_reason()),
        retried_messages=tally.retried_messages,
        retried_requests=tally.retried_requests,
        http_requests=tally.http_requests,
        sdk_clients=sdk_clients,
        server_said=dict(tally.server_said),
        errors=list(tally.errors),
        seconds=time.monotonic() - started,
    )
