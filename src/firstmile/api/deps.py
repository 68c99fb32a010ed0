"""Dependencies of the routes, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from firstmile.api.auth import bearer_token
from firstmile.api.ratelimit import RateLimiter
from firstmile.service import Firstmile


def _firstmile(request: Request) -> Firstmile:
    service: Firstmile = request.app.state.firstmile
    return service


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


FirstmileDep = Annotated[Firstmile, Depends(_firstmile)]
LimiterDep = Annotated[RateLimiter, Depends(_limiter)]


def _server_key(request: Request, fm: FirstmileDep) -> str:
    # A plain def: FastAPI runs it in the threadpool, so the key lookup never blocks the loop.
    return fm.authenticate_server(bearer_token(request.headers.get("authorization")))


ServerKeyDep = Annotated[str, Depends(_server_key)]
"""The source id of the ``Authorization: Bearer <server key>``; 401 for anything else."""
