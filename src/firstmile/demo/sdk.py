"""Server-side traffic through segment-analytics-python 2.4.0, unmodified.

Several clients (app servers), some with gzip, each with its own background
consumer that posts batches to ``/v1/batch``.
"""

from __future__ import annotations

import atexit
import copy
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import segment.analytics.request as segment_request
from segment.analytics import Client

from firstmile.demo.channels import SDK_CLIENT_COUNT
from firstmile.demo.model import Message, MessageType, Population
from firstmile.demo.tally import PHASE_SDK, PhaseProgress, ProgressHook, SdkClientInfo, Tally

__all__ = ["SDK_CLIENTS", "run_sdk_phase", "sdk_call"]

# The app servers that track server side; half compress their batches.
SDK_CLIENTS: tuple[tuple[str, bool], ...] = (
    ("app-server-1", True),
    ("app-server-2", False),
    ("app-server-3", True),
    ("app-server-4", False),
)
assert len(SDK_CLIENTS) == SDK_CLIENT_COUNT

# segment-analytics-python's own queue holds 10,000 messages and drops beyond; stay under.
_SDK_QUEUE_HIGH_WATER = 8_000

# The fields of a message that each call of the library takes, by keyword, beside
# `context`, `timestamp` and `message_id`.
_CALL_FIELDS: dict[MessageType, tuple[str, ...]] = {
    "identify": ("user_id", "traits", "anonymous_id"),
    "track": ("user_id", "event", "properties", "anonymous_id"),
    "page": ("user_id", "name", "properties", "anonymous_id"),
    "group": ("user_id", "group_id", "traits", "anonymous_id"),
    "alias": ("previous_id", "user_id"),
}


def sdk_call(client: Any, message: Message) -> tuple[bool, Any]:
    """One call of segment-analytics-python's public API for ``message``."""
    # The library adds `context.library` to the context it is given, and the message
    # is shared (a frozen value): hand it copies.
    fields = {name: copy.deepcopy(getattr(message, name)) for name in _CALL_FIELDS[message.type]}
    call = getattr(client, message.type)
    return call(  # type: ignore[no-any-return]
        **fields,
        context=copy.deepcopy(message.context),
        timestamp=message.timestamp,
        message_id=message.message_id,
    )


def run_sdk_phase(
    population: Population,
    base_url: str,
    write_key: str,
    tally: Tally,
    progress: ProgressHook | None,
    max_retries: int,
) -> list[SdkClientInfo]:
    total = sum(len(person.sdk_messages) for person in population.people)
    meter = PhaseProgress(progress, PHASE_SDK, total)
    clients: list[Any] = []
    sent = [0] * len(SDK_CLIENTS)
    queued: list[Message] = []
    try:
        for name, use_gzip in SDK_CLIENTS:

            def on_error(error: Exception, batch: list[Any], name: str = name) -> None:
                tally.error(f"{name} (segment-analytics-python): {error} ({len(batch)} messages)")

            clients.append(
                Client(
                    write_key,
                    host=base_url,
                    gzip=use_gzip,
                    upload_size=100,
                    sync_mode=False,
                    max_retries=max_retries,
                    on_error=on_error,
                )
            )
        for person in population.people:
            client = clients[person.sdk_client]
            if client.queue.qsize() >= _SDK_QUEUE_HIGH_WATER:
                client.flush()
            for message in person.sdk_messages:
                ok, _ = sdk_call(client, message)
                if not ok:
                    tally.error(f"{SDK_CLIENTS[person.sdk_client][0]}: queue full, message dropped")
                    continue
                sent[person.sdk_client] += 1
                queued.append(message)
        # Report progress while the consumers drain their queues, then flush for real.
        while True:
            pending = sum(client.queue.unfinished_tasks for client in clients)
            meter.report(total - pending)
            if pending == 0:
                break
            time.sleep(0.1)
    finally:
        # Each consumer idles up to its upload interval before it notices the stop:
        # shut the clients down side by side rather than one after another.
        with ThreadPoolExecutor(max_workers=max(1, len(clients))) as pool:
            list(pool.map(lambda client: client.shutdown(), clients))
        for client in clients:
            # The library registers `join` at exit for every client; it is done already.
            atexit.unregister(client.join)
        # The library keeps one module-wide HTTP session; its keep-alive sockets point
        # at a server that is about to stop.
        segment_request._session.close()
    tally.sent("python SDK (/v1/batch)", queued)
    return [
        SdkClientInfo(name, use_gzip, count)
        for (name, use_gzip), count in zip(SDK_CLIENTS, sent, strict=True)
    ]
