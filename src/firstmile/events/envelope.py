"""From an HTTP body to the list of messages it carries.

Pure functions over bytes and JSON values: :func:`decode_body` undoes
``Content-Encoding`` within the size limits (refusing decompression bombs),
:func:`parse_json` reads the document, and :func:`open_envelope` splits a single
message or a batch into items, merging the batch-level ``context``,
``integrations`` and ``sentAt`` into each item as the tracking spec says.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import orjson

from firstmile.errors import InvalidJSON, InvalidRequest, PayloadTooLarge, UnsupportedMediaType
from firstmile.events.model import EVENT_TYPES

# Endpoint names, long and short (analytics.js posts single events to /v1/{first letter}).
ENDPOINTS: dict[str, str] = {
    **{name: name for name in EVENT_TYPES},
    **{name[0]: name for name in EVENT_TYPES},
    "batch": "batch",
    "b": "batch",
    "import": "batch",
}


# Decompressed size below which any compression ratio is accepted. Inflation never goes
# past the request limit, which is what stops a bomb at the default 500 KB; the ratio
# rule is for deployments that raise that limit (large imports).
RATIO_FREE_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits of the tracking API (defaults from the Segment spec)."""

    max_message_bytes: int = 32 * 1024
    max_request_bytes: int = 500 * 1024
    max_batch_items: int = 2500
    max_compression_ratio: int = 100


@dataclass(frozen=True, slots=True)
class Envelope:
    """The items of one request and what the request said about all of them."""

    items: list[Any]  # raw items, batch-level fields merged in; not validated yet
    overflow: list[Any]  # items past the batch limit (quarantined, not dropped)
    write_key: str | None
    single: bool  # a single-message endpoint (not /batch)


def decode_body(raw: bytes, *, content_encoding: str | None, limits: Limits) -> bytes:
    """Undo ``Content-Encoding`` (identity, gzip, deflate) within the request limit.

    Examples
    --------
    >>> import gzip
    >>> decode_body(gzip.compress(b'{"a": 1}'), content_encoding="gzip", limits=Limits())
    b'{"a": 1}'
    """
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("identity", ""):
        if len(raw) > limits.max_request_bytes:
            raise PayloadTooLarge(
                f"The request body is {len(raw)} bytes; the limit is {limits.max_request_bytes}. "
                "Send smaller batches."
            )
        return raw
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise UnsupportedMediaType(
            f"Content-Encoding {encoding!r} is not supported; send gzip, deflate or no encoding."
        )
    # wbits=47 accepts gzip and zlib headers; -15 is raw deflate. HTTP `deflate` is the
    # zlib format (RFC 9110), but some clients send raw deflate: accept both, like urllib3.
    wbits = 47
    if encoding == "deflate":
        zlib_header = len(raw) >= 2 and raw[0] & 0x0F == 8 and (raw[0] << 8 | raw[1]) % 31 == 0
        wbits = 15 if zlib_header else -15
    inflater = zlib.decompressobj(wbits)
    # Inflate at most one byte past the limit, so a bomb costs us no more than the limit.
    # The ratio rule only bites past a floor: a body of repetitive JSON (padded messages,
    # many identical items) legitimately inflates hundreds of times.
    limit = min(
        limits.max_request_bytes,
        max(len(raw) * limits.max_compression_ratio, RATIO_FREE_BYTES),
    )
    try:
        body = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise InvalidRequest(
            f"The body is not valid {encoding} data ({exc}). Check Content-Encoding."
        ) from exc
    if len(body) > limit:
        if limit < limits.max_request_bytes:
            raise PayloadTooLarge(
                f"The {encoding} body inflates more than {limits.max_compression_ratio} times; "
                "it was refused as a possible decompression bomb."
            )
        raise PayloadTooLarge(
            f"The decompressed body is over {limits.max_request_bytes} bytes. Send smaller batches."
        )
    if not inflater.eof:
        raise InvalidRequest(f"The {encoding} body is truncated. Send the complete body.")
    return body


def parse_json(body: bytes) -> Any:
    """Parse the request document; :class:`InvalidJSON` says where it broke."""
    if not body.strip():
        raise InvalidJSON("The request body is empty; send a JSON object.")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidJSON(f"The request body is not valid JSON: {exc}.") from exc


def _merged(batch_value: Any, item_value: Any) -> Any:
    if isinstance(batch_value, dict) and batch_value:
        if isinstance(item_value, dict):
            return {**batch_value, **item_value}
        if item_value is None:
            return dict(batch_value)
    return item_value


def open_envelope(document: Any, *, endpoint: str, limits: Limits) -> Envelope:
    """Split a request document into its items.

    ``endpoint`` is a key of :data:`ENDPOINTS`. A single-message endpoint implies the
    message ``type``; a batch keeps each item's own ``type``.

    Examples
    --------
    >>> env = open_envelope(
    ...     {"batch": [{"type": "track", "event": "A", "userId": "u"}],
    ...      "context": {"app": {"name": "x"}}, "sentAt": "2026-01-01T00:00:00Z"},
    ...     endpoint="batch", limits=Limits())
    >>> env.items[0]["context"], env.items[0]["sentAt"]
    ({'app': {'name': 'x'}}, '2026-01-01T00:00:00Z')
    """
    kind = ENDPOINTS.get(endpoint)
    if kind is None:
        raise InvalidRequest(f"Unknown endpoint {endpoint!r}; use one of {sorted(ENDPOINTS)}.")
    if not isinstance(document, dict):
        raise InvalidRequest(
            f"The request body must be a JSON object, not {type(document).__name__}."
        )
    write_key = document.get("writeKey")
    write_key = write_key if isinstance(write_key, str) and write_key else None
    if kind != "batch":
        item = {key: value for key, value in document.items() if key != "writeKey"}
        item["type"] = kind
        return Envelope(items=[item], overflow=[], write_key=write_key, single=True)

    items = document.get("batch")
    if not isinstance(items, list):
        raise InvalidRequest("A batch body needs `batch`: an array of messages.", field="batch")
    context = document.get("context")
    integrations = document.get("integrations")
    sent_at = document.get("sentAt")
    merged: list[Any] = []
    for raw in items:
        if not isinstance(raw, dict):
            merged.append(raw)  # rejected per item later, with its reason
            continue
        item = dict(raw)
        if "context" in item or context:
            item["context"] = _merged(context, item.get("context"))
        if "integrations" in item or integrations:
            item["integrations"] = _merged(integrations, item.get("integrations"))
        if item.get("sentAt") is None and sent_at is not None:
            item["sentAt"] = sent_at
        merged.append(item)
    return Envelope(
        items=merged[: limits.max_batch_items],
        overflow=merged[limits.max_batch_items :],
        write_key=write_key,
        single=False,
    )
