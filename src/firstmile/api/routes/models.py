"""The model registry and one user's model view over HTTP (server key)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from firstmile.api.deps import FirstmileDep, ServerKeyDep
from firstmile.api.responses import json_response

router = APIRouter(tags=["models"])


@router.get("/v1/models", operation_id="list_models")
async def list_models(fm: FirstmileDep, _source: ServerKeyDep) -> Response:
    """Every registered model version, newest first, and what this process serves."""
    records = await run_in_threadpool(fm.model_versions)
    return json_response(
        {"models": [r.to_json() for r in records], "serving": fm.decider.models.versions()}
    )


@router.get("/v1/models/{name}", operation_id="get_model")
async def get_model(name: str, fm: FirstmileDep, _source: ServerKeyDep) -> Response:
    """The promoted (else newest) version of one model: metrics, window, schema."""
    record = await run_in_threadpool(fm.model_version, name)
    return json_response(record.to_json())


@router.get("/v1/users/{user_id}/models", operation_id="user_models")
async def user_models(user_id: str, fm: FirstmileDep, _source: ServerKeyDep) -> Response:
    """What the promoted models say about one user: persona, predictions, reasons."""
    return json_response(await run_in_threadpool(fm.explain_user, user_id))
