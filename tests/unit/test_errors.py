"""Tests for firstmile.errors: stable codes, statuses, exit codes and one body shape."""

from __future__ import annotations

import pytest

from firstmile.errors import (
    ConditionError,
    ConfigError,
    ConflictError,
    FirstmileError,
    InvalidEvent,
    InvalidJSON,
    InvalidRequest,
    InvalidServerKey,
    ModelError,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    StorageUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)


def build(cls: type[FirstmileError]) -> FirstmileError:
    if cls is InvalidEvent:
        return InvalidEvent("The message has no id.", reason="missing_id", field="userId")
    if cls is RateLimited:
        return RateLimited("Too many requests; retry in 3 s.", retry_after=3)
    return cls("Something to fix.")


# code and status are what API clients see; exit codes are what shell scripts see.
ERRORS: list[tuple[type[FirstmileError], str, int, int]] = [
    (FirstmileError, "error", 400, 1),
    (InvalidRequest, "invalid_request", 400, 2),
    (InvalidJSON, "invalid_json", 400, 2),
    (InvalidEvent, "invalid_event", 400, 1),
    (Unauthorized, "invalid_write_key", 401, 3),
    (NotFound, "not_found", 404, 4),
    (PayloadTooLarge, "payload_too_large", 413, 1),
    (UnsupportedMediaType, "unsupported_media_type", 415, 1),
    (RateLimited, "rate_limit", 429, 1),
    (ConfigError, "config_error", 500, 78),
    (StorageUnavailable, "storage_unavailable", 503, 69),
    (ConditionError, "invalid_condition", 400, 2),  # bad input, as docs/cli.md says
    (InvalidServerKey, "invalid_server_key", 401, 3),
    (ConflictError, "conflict", 409, 5),
    (ModelError, "model_error", 422, 65),
]


@pytest.mark.parametrize(("cls", "code", "status", "exit_code"), ERRORS)
def test_codes_statuses_and_exit_codes(
    cls: type[FirstmileError], code: str, status: int, exit_code: int
) -> None:
    error = build(cls)
    assert (error.code, error.status, error.exit_code) == (code, status, exit_code)
    assert isinstance(error, FirstmileError)


def test_every_error_class_is_in_the_table() -> None:
    def subclasses(cls: type[FirstmileError]) -> set[type[FirstmileError]]:
        found = set(cls.__subclasses__())
        for sub in list(found):
            found |= subclasses(sub)
        return found

    listed = {row[0] for row in ERRORS}
    missing = {cls for cls in subclasses(FirstmileError) if cls.__module__ == "firstmile.errors"}
    assert missing <= listed


def test_codes_are_unique() -> None:
    codes = [row[1] for row in ERRORS]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize("cls", [row[0] for row in ERRORS])
def test_every_error_renders_the_one_body_shape(cls: type[FirstmileError]) -> None:
    error = build(cls)
    body = error.to_body()
    assert set(body) == {"code", "message", "status", "field"}
    assert body["code"] == error.code
    assert body["status"] == error.status
    assert body["message"] == error.message == str(error)


def test_field_and_reason_are_carried() -> None:
    error = InvalidEvent("The message has no id.", reason="missing_id", field="userId")
    assert error.reason == "missing_id"
    assert error.to_body() == {
        "code": "invalid_event",
        "message": "The message has no id.",
        "status": 400,
        "field": "userId",
    }
    assert InvalidRequest("bad", field="batch").to_body()["field"] == "batch"
    assert NotFound("none").field is None


def test_rate_limited_says_when_to_retry() -> None:
    error = RateLimited("Too many requests.", retry_after=7)
    assert error.retry_after == 7


def test_invalid_json_is_an_invalid_request() -> None:
    with pytest.raises(InvalidRequest):
        raise InvalidJSON("not JSON")
