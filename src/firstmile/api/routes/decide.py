"""The decision API: ``POST /v1/decide`` (server key).

The route reads the request and makes one call into the library in a worker thread —
:meth:`firstmile.service.Firstmile.decide_http` checks the key, parses the body with
orjson and decides — then serializes the plan. One thread hop per decision, not one for
the key and another for the plan: at hundreds of decisions a second the hops add up.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from firstmile.api.auth import bearer_token
from firstmile.api.body import read_body
from firstmile.api.deps import FirstmileDep
from firstmile.api.responses import json_response

router = APIRouter(tags=["decide"])

MAX_DECIDE_BYTES: Final = 256 * 1024  # a context and up to 100 events


@router.post("/v1/decide", operation_id="decide")
async def decide(request: Request, fm: FirstmileDep) -> Response:
    """What this user should see in onboarding now, with the reason for every slot.

    ``Authorization: Bearer <server key>``. Body: ``{"userId" or "anonymousId",
    "context": {...}, "events": [...]}``; the events are ingested first, so the plan
    sees them.
    """
    key = bearer_token(request.headers.get("authorization"))
    body = await read_body(request, MAX_DECIDE_BYTES)
    client_ip = request.client.host if request.client else None
    if b'"events"' in body:
        # Ingesting may wait for the write lock: never on the event loop.
        plan = await run_in_threadpool(fm.decide_http, body, server_key=key, request_ip=client_ip)
    else:
        # A plain decision is a fraction of a millisecond of CPU and one indexed read
        # that never waits (WAL readers do not block). Handing it to a worker thread
        # costs more than it does, and the threads then fight the loop for the GIL.
        plan = fm.decide_http(body, server_key=key, request_ip=client_ip)
    return json_response(plan)
