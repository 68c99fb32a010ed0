"""Segments over HTTP (server key): list with sizes, members, and a condition preview."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from firstmile.api.deps import FirstmileDep, ServerKeyDep
from firstmile.api.responses import json_response
from firstmile.segments.views import MAX_SAMPLE

router = APIRouter(tags=["segments"])


class PreviewBody(BaseModel):
    """``{"condition": {...}, "sample": 10}``; the condition is checked by the compiler."""

    model_config = ConfigDict(extra="forbid")

    condition: Any
    sample: int = Field(default=10, ge=0, le=MAX_SAMPLE, strict=True)


@router.get("/v1/segments", operation_id="list_segments")
async def list_segments(fm: FirstmileDep, _source: ServerKeyDep) -> Response:
    """Every segment of the loaded config with its current size."""
    return json_response({"segments": await run_in_threadpool(fm.segments)})


@router.get("/v1/segments/{key}", operation_id="get_segment")
async def get_segment(key: str, fm: FirstmileDep, _source: ServerKeyDep) -> Response:
    """One segment: its definition and size."""
    return json_response(await run_in_threadpool(fm.segment, key))


@router.get("/v1/segments/{key}/members", operation_id="segment_members")
async def segment_members(
    key: str,
    fm: FirstmileDep,
    _source: ServerKeyDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """A page of the segment's current members, earliest entry first."""
    page = await run_in_threadpool(fm.segment_members, key, limit=limit, offset=offset)
    return json_response(page)


@router.post("/v1/segments/preview", operation_id="preview_segment")
async def preview_segment(body: PreviewBody, fm: FirstmileDep, _source: ServerKeyDep) -> Response:
    """How many stored profiles a condition matches, and a sample, without saving it."""
    result = await run_in_threadpool(fm.preview, body.condition, sample=body.sample)
    return json_response(result)
