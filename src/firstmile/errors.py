"""The errors a user can cause, each with a stable code, an HTTP status and a hint.

Every error that reaches an API client is rendered with one JSON shape by
:func:`FirstmileError.to_body`; the CLI prints ``message`` and exits with ``exit_code``.

Examples
--------
>>> err = PayloadTooLarge("The request body is 600000 bytes; the limit is 512000.")
>>> err.to_body()["code"], err.status
('payload_too_large', 413)
"""

from __future__ import annotations

from typing import Any, ClassVar


class FirstmileError(Exception):
    """Base class: something the caller can fix. ``message`` says how."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_body(self) -> dict[str, Any]:
        """The one JSON error body of the whole API.

        ``code`` and ``message`` are what Segment-style clients read; ``status`` and
        ``field`` help humans and scripts find what to fix.
        """
        return {
            "code": self.code,
            "message": self.message,
            "status": self.status,
            "field": self.field,
        }


class InvalidRequest(FirstmileError):
    """The request as a whole cannot be read (bad JSON, wrong shape)."""

    code = "invalid_request"
    exit_code = 2


class InvalidJSON(InvalidRequest):
    code = "invalid_json"


class InvalidEvent(FirstmileError):
    """One message breaks the tracking spec; it is quarantined with this reason."""

    code = "invalid_event"

    def __init__(self, message: str, *, reason: str, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.reason = reason


class Unauthorized(FirstmileError):
    code = "invalid_write_key"
    status = 401
    exit_code = 3


class InvalidServerKey(Unauthorized):
    """A read endpoint got no server key, a write key, or an unknown key."""

    code = "invalid_server_key"


class NotFound(FirstmileError):
    code = "not_found"
    status = 404
    exit_code = 4


class ConflictError(FirstmileError):
    """The request would replace something that exists (a key already taken)."""

    code = "conflict"
    status = 409
    exit_code = 5


class PayloadTooLarge(FirstmileError):
    code = "payload_too_large"
    status = 413


class UnsupportedMediaType(FirstmileError):
    code = "unsupported_media_type"
    status = 415


class RateLimited(FirstmileError):
    code = "rate_limit"
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ConfigError(FirstmileError):
    """Settings or a workspace are missing or wrong."""

    code = "config_error"
    status = 500
    exit_code = 78  # EX_CONFIG


class StorageUnavailable(FirstmileError):
    """The store cannot be reached; a retry later may succeed (hence a 503)."""

    code = "storage_unavailable"
    status = 503
    exit_code = 69  # EX_UNAVAILABLE


class ModelError(FirstmileError):
    """A model cannot be trained, loaded or used: too little data, one class, a bad
    artifact, a feature schema that does not match. The previous model keeps serving."""

    code = "model_error"
    status = 422
    exit_code = 65  # EX_DATAERR


def json_pointer(path: tuple[str | int, ...]) -> str:
    """Render a path into a JSON document as an RFC 6901 JSON Pointer.

    >>> json_pointer(("$and", 1, "events.Completed Step.count_7d", "$gte"))
    '/$and/1/events.Completed Step.count_7d/$gte'
    >>> json_pointer(("a/b", "m~n"))
    '/a~1b/m~0n'
    >>> json_pointer(())
    ''
    """
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


class ConditionError(FirstmileError):
    """A condition (segment, rule, targeting) cannot be compiled.

    ``path`` holds the keys and list indexes from the condition's root down to the
    offending part; ``field`` is the same path as a JSON Pointer (``/age/$in``), and
    ``problem`` is the message without the location, for callers that add their own.

    >>> err = ConditionError("$in needs a list.", path=("age", "$in"))
    >>> err.message
    'Invalid condition at /age/$in: $in needs a list.'
    >>> err.to_body()["field"], err.status
    ('/age/$in', 400)
    """

    code = "invalid_condition"
    status = 400
    exit_code = 2

    def __init__(self, problem: str, *, path: tuple[str | int, ...] = ()) -> None:
        pointer = json_pointer(path)
        where = pointer or "the top level"
        super().__init__(f"Invalid condition at {where}: {problem}", field=pointer)
        self.path = path
        self.problem = problem
