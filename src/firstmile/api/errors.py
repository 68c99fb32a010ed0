"""Every error leaves the API as one JSON body: ``{"code", "message", "status", "field"}``.

``code`` and ``message`` are what Segment-style clients read. A bug on our side is a 500
with ``code: internal_error`` and no traceback (clients retry 5xx, so only our faults
get one).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from firstmile.api.responses import json_response
from firstmile.errors import FirstmileError, RateLimited

logger = logging.getLogger("firstmile.api")

_HTTP_CODES = {
    404: ("not_found", "No such endpoint. The tracking API lives under /v1/."),
    405: ("method_not_allowed", "This endpoint does not accept that method."),
}


def error_body(code: str, message: str, status: int, field: str | None = None) -> dict[str, object]:
    return {"code": code, "message": message, "status": status, "field": field}


async def _firstmile_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FirstmileError)
    headers = None
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(exc.retry_after), "X-RateLimit-Reset": str(exc.retry_after)}
    return json_response(exc.to_body(), exc.status, headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    field = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or None
    return json_response(
        error_body("invalid_request", f"{field or 'request'}: {first['msg']}", 400, field), 400
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code, message = _HTTP_CODES.get(exc.status_code, ("http_error", str(exc.detail)))
    return json_response(error_body(code, message, exc.status_code), exc.status_code)


async def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return json_response(
        error_body("internal_error", "Something went wrong on our side; retry later.", 500), 500
    )


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the same shape."""
    app.add_exception_handler(FirstmileError, _firstmile_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
