"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from firstmile import __version__
from firstmile.api.deps import FirstmileDep
from firstmile.api.responses import json_response

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="healthz")
async def healthz() -> Response:
    """The process is alive."""
    return json_response({"status": "ok", "version": __version__})


@router.get("/readyz", operation_id="readyz")
async def readyz(fm: FirstmileDep) -> Response:
    """The store answers and the settings are loaded; 503 otherwise.

    Also the onboarding config in use (``null`` without a config file) and, after an
    invalid edit, its problems: the last good config keeps running, so still 200.
    """
    await run_in_threadpool(fm.ready)
    config, error = fm.config, fm.config_error
    return json_response(
        {
            "status": "ready",
            "store": fm.store.url.split(":", 1)[0],
            "config": None
            if config is None
            else {"version_id": config.version_id, "loaded_at": config.loaded_at.isoformat()},
            "config_error": None if error is None else [p.to_json() for p in error.problems],
        }
    )
