"""Dependencies of the routes, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

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
