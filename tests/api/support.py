"""Helpers shared by the API tests: the in-process client, auth headers, messages."""

from __future__ import annotations

import base64
import uuid
import warnings
from typing import Any

from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # starlette would rather use httpx2; the locked dev environment has httpx, which
    # works. Only this import warns, and pytest turns warnings into errors.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from fastapi import FastAPI

__all__ = [
    "CLIENT_IP",
    "EVENT_TYPES",
    "LONG_ROUTES",
    "SHORT_ROUTES",
    "TestClient",
    "basic",
    "make_client",
    "message",
]

# A documentation address (TEST-NET-3): a real-looking IP that maps to no country.
CLIENT_IP = "203.0.113.7"

EVENT_TYPES = ("identify", "track", "page", "screen", "group", "alias")
LONG_ROUTES = {name: name for name in EVENT_TYPES} | {"batch": "batch", "import": "batch"}
SHORT_ROUTES = {name[0]: name for name in EVENT_TYPES} | {"b": "batch"}


def make_client(app: FastAPI) -> TestClient:
    """A client that never follows redirects (tracking clients don't either)."""
    return TestClient(app, follow_redirects=False, client=(CLIENT_IP, 50000))


def basic(key: str, *, colon: bool = True) -> dict[str, str]:
    """``Authorization: Basic base64("<key>:")``, or without the colon (also accepted)."""
    credentials = f"{key}:" if colon else key
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


def message(kind: str, user_id: str = "u1", **fields: Any) -> dict[str, Any]:
    """A valid message of ``kind`` with a fresh ``messageId``; ``fields`` override."""
    body: dict[str, Any] = {"userId": user_id, "messageId": str(uuid.uuid4())}
    if kind == "identify":
        body["traits"] = {"email": " Ada@Example.COM ", "plan": "pro"}
    elif kind == "track":
        body |= {"event": "Signed Up", "properties": {"plan": "pro"}}
    elif kind == "page":
        body |= {"name": "Home", "properties": {"path": "/home"}}
    elif kind == "screen":
        body |= {"name": "Main", "category": "Onboarding"}
    elif kind == "group":
        body |= {"groupId": "acme", "traits": {"name": "Acme"}}
    elif kind == "alias":
        body["previousId"] = f"anon-{user_id}"
    else:  # pragma: no cover - a typo in a test
        raise ValueError(kind)
    body.update(fields)
    return body
