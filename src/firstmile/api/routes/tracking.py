"""The Segment-compatible tracking API: ``/v1/{identify,track,...}`` and short forms.

Routes only read the request and call :meth:`firstmile.service.Firstmile.ingest_http`;
bodies are parsed with orjson inside the service, never with pydantic models.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from firstmile.api.auth import write_key_from_header
from firstmile.api.body import read_body
from firstmile.api.deps import FirstmileDep, LimiterDep
from firstmile.api.responses import json_response
from firstmile.errors import NotFound
from firstmile.events.envelope import ENDPOINTS

router = APIRouter(tags=["tracking"])


async def _track(
    endpoint: str, request: Request, fm: FirstmileDep, limiter: LimiterDep
) -> Response:
    if endpoint not in ENDPOINTS:
        raise NotFound(
            f"/v1/{endpoint} is not a tracking endpoint; use one of "
            + ", ".join(f"/v1/{name}" for name in sorted(ENDPOINTS))
            + "."
        )
    header_key = write_key_from_header(request.headers.get("authorization"))
    client_ip = request.client.host if request.client else None
    limiter.check(header_key or client_ip or "anonymous")
    body = await read_body(request, fm.settings.max_request_bytes)
    content_type = request.headers.get("content-type", "")
    result = await run_in_threadpool(
        fm.ingest_http,
        body,
        endpoint=endpoint,
        header_key=header_key,
        content_encoding=request.headers.get("content-encoding"),
        client_ip=client_ip,
        user_agent=request.headers.get("user-agent"),
        # analytics.js posts text/plain to skip the CORS preflight; its context.ip comes
        # from the request, as Segment's servers do for client-side events.
        browser=content_type.startswith("text/plain"),
    )
    return json_response(result.to_body())


@router.post("/v1/{endpoint}", operation_id="track_message")
async def track(endpoint: str, request: Request, fm: FirstmileDep, limiter: LimiterDep) -> Response:
    """Accept one message (identify, track, page, screen, group, alias) or a batch."""
    return await _track(endpoint, request, fm, limiter)


@router.post("/v1/{endpoint}/", operation_id="track_message_slash", include_in_schema=False)
async def track_slash(
    endpoint: str, request: Request, fm: FirstmileDep, limiter: LimiterDep
) -> Response:
    return await _track(endpoint, request, fm, limiter)


@router.get("/v1/projects/{write_key}/settings", operation_id="project_settings")
async def project_settings(write_key: str, request: Request, fm: FirstmileDep) -> Response:
    """What unmodified analytics.js loads at start-up: where to send events."""
    await run_in_threadpool(fm.authenticate, write_key)
    api_host = f"{request.url.netloc}/v1"
    return json_response(
        {
            "integrations": {
                "Segment.io": {
                    "apiKey": write_key,
                    "apiHost": api_host,
                    "protocol": request.url.scheme,
                }
            },
            "plan": {"track": {"__default": {"enabled": True}}},
        }
    )
