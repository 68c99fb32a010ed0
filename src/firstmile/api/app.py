"""``create_app(settings)`` builds the ASGI app; nothing is created at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from firstmile import __version__
from firstmile.api import errors
from firstmile.api.ratelimit import RateLimiter
from firstmile.api.routes import decide, experiments, health, models, segments, tracking, users
from firstmile.clock import Clock, SystemClock
from firstmile.service import Firstmile
from firstmile.settings import Settings


def create_app(
    settings: Settings, *, service: Firstmile | None = None, clock: Clock | None = None
) -> FastAPI:
    """The firstmile API. Opens its own :class:`Firstmile` unless one is given."""
    clock = clock or (service.clock if service else SystemClock())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from firstmile.api.runtime import ServeRuntime

        owned = service is None
        app.state.firstmile = service or Firstmile.open(settings, clock=clock)
        # Config reloads (file change, SIGHUP) and the segment sweeper, off the loop.
        runtime = ServeRuntime(app.state.firstmile)
        runtime.start()
        try:
            yield
        finally:
            await runtime.stop()
            if owned:
                app.state.firstmile.close()

    app = FastAPI(
        title="firstmile",
        version=__version__,
        lifespan=lifespan,
        # A POST to /v1/track/ must not be answered with a redirect: clients won't follow it.
        redirect_slashes=False,
    )
    app.state.limiter = RateLimiter(
        settings.rate_limit_per_second, settings.rate_limit_burst, clock
    )
    if service is not None:
        app.state.firstmile = service
    # Browsers post events cross-origin (analytics.js); the tracking API is public by design.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["*"],
    )
    errors.install(app)
    app.include_router(health.router)
    app.include_router(decide.router)
    app.include_router(experiments.router)
    app.include_router(models.router)
    # Before tracking: its POST /v1/{endpoint} would otherwise catch /v1/static-segments.
    app.include_router(segments.router)
    app.include_router(tracking.router)
    app.include_router(users.router)
    return app
