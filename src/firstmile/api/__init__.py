"""The HTTP API: a thin FastAPI shell over :class:`firstmile.service.Firstmile`."""
