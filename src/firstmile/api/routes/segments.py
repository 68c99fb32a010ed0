"""Segments over HTTP (server key): list with sizes, members, a condition preview, and
static segments (snapshots of a segment, or uploaded ids)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import Response

from firstmile.api.deps import FirstmileDep, ServerKeyDep
from firstmile.api.responses import json_response
from firstmile.errors import InvalidJSON, InvalidRequest, UnsupportedMediaType
from firstmile.segments.static import parse_id_csv
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


class SnapshotBody(BaseModel):
    """``{"as": "new_key", "name": "..."}``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    as_key: str = Field(alias="as", strict=True)
    name: str | None = Field(default=None, strict=True)


class UploadBody(BaseModel):
    """``{"key": "new_key", "name": "...", "ids": ["u1", ...]}``."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(strict=True)
    name: str | None = Field(default=None, strict=True)
    description: str = Field(default="", strict=True)
    ids: list[str] = Field(strict=True)


@router.post("/v1/segments/{key}/snapshot", operation_id="snapshot_segment")
async def snapshot_segment(
    key: str, body: SnapshotBody, fm: FirstmileDep, _source: ServerKeyDep
) -> Response:
    """Copy the segment's current members into a new static segment (201)."""
    created = await run_in_threadpool(fm.snapshot_segment, key, as_key=body.as_key, name=body.name)
    return json_response(created, status=201)


def _upload_body(body: bytes, content_type: str, key: str | None, name: str | None) -> UploadBody:
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json":
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise InvalidJSON(f"The request body is not valid JSON: {exc}.") from None
        try:
            return UploadBody.model_validate(document)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or None
            raise InvalidRequest(f"{field or 'body'}: {first['msg']}", field=field) from None
    if media in ("text/csv", "text/plain"):
        if not key:
            raise InvalidRequest(
                "A CSV upload names its segment in the query: ?key=new_key&name=...",
                field="key",
            )
        return UploadBody(key=key, name=name, ids=parse_id_csv(body))
    raise UnsupportedMediaType(
        f"Send the ids as application/json ({{'key', 'name', 'ids'}}) or text/csv "
        f"(an `id` column or one id per line), not {media or 'no content type'}."
    )


@router.post("/v1/static-segments", operation_id="upload_static_segment")
async def upload_static_segment(
    request: Request,
    fm: FirstmileDep,
    _source: ServerKeyDep,
    key: Annotated[str | None, Query()] = None,
    name: Annotated[str | None, Query()] = None,
) -> Response:
    """Store uploaded ids (JSON or CSV) as a static segment (201); unknown ids are listed."""
    body = _upload_body(await request.body(), request.headers.get("content-type", ""), key, name)
    created = await run_in_threadpool(
        fm.upload_static_segment,
        body.key,
        body.ids,
        name=body.name or body.key,
        description=body.description,
    )
    return json_response(created, status=201)


@router.get("/v1/static-segments", operation_id="list_static_segments")
async def list_static_segments(fm: FirstmileDep, _source: ServerKeyDep) -> Response:
    """Every static segment with its size."""
    return json_response({"static_segments": await run_in_threadpool(fm.static_segments)})


@router.get("/v1/static-segments/{key}/members", operation_id="static_segment_members")
async def static_segment_members(
    key: str,
    fm: FirstmileDep,
    _source: ServerKeyDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """A page of the static segment's members, by profile id."""
    page = await run_in_threadpool(fm.static_segment_members, key, limit=limit, offset=offset)
    return json_response(page)


@router.delete("/v1/static-segments/{key}", operation_id="delete_static_segment")
async def delete_static_segment(key: str, fm: FirstmileDep, _source: ServerKeyDep) -> Response:
    """Remove a static segment and its members."""
    return json_response(await run_in_threadpool(fm.delete_static_segment, key))
