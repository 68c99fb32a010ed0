"""Reading one person: ``GET /v1/users/{id}`` (server key)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from firstmile.api.deps import FirstmileDep, ServerKeyDep
from firstmile.api.responses import json_response

router = APIRouter(tags=["users"])


@router.get("/v1/users/{user_id:path}", operation_id="get_user")
async def get_user(user_id: str, fm: FirstmileDep, _source: ServerKeyDep) -> Response:
    """Profile, traits, computed traits, consent, scores and segments with entry times.

    ``user_id`` is a user id, an anonymous id or a profile id.
    """
    return json_response(await run_in_threadpool(fm.user, user_id))
