"""Reading request bodies with a size limit, before anything parses them."""

from __future__ import annotations

from starlette.requests import Request

from firstmile.errors import PayloadTooLarge


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is {declared} bytes; the limit is {limit}.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The request body is over {limit} bytes. Send less.")
        chunks.append(chunk)
    return b"".join(chunks)
