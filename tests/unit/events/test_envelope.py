"""Tests for firstmile.events.envelope: body decoding, JSON parsing and batch splitting."""

from __future__ import annotations

import copy
import gzip
import math
import os
import zlib
from typing import Any

import pytest

from firstmile.errors import (
    FirstmileError,
    InvalidJSON,
    InvalidRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from firstmile.events.envelope import (
    ENDPOINTS,
    RATIO_FREE_BYTES,
    Limits,
    decode_body,
    open_envelope,
    parse_json,
)
from firstmile.events.model import EVENT_TYPES

SMALL = Limits(max_request_bytes=1000, max_compression_ratio=100)


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-15)
    return compressor.compress(data) + compressor.flush()


# --- decode_body ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        (None, lambda data: data),
        ("identity", lambda data: data),
        ("", lambda data: data),
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        (" GZIP ", gzip.compress),
        ("deflate", zlib.compress),  # RFC 9110: deflate is the zlib format
        ("deflate", raw_deflate),  # what some clients send anyway
        ("Deflate", zlib.compress),
    ],
)
def test_decode_body_undoes_each_supported_encoding(encoding: str | None, compress: Any) -> None:
    body = b'{"batch": [{"type": "track", "event": "A", "userId": "u1"}]}'
    assert decode_body(compress(body), content_encoding=encoding, limits=Limits()) == body


@pytest.mark.parametrize("encoding", [None, "identity"])
@pytest.mark.parametrize(("size", "ok"), [(999, True), (1000, True), (1001, False)])
def test_identity_body_limit_is_inclusive(encoding: str | None, size: int, ok: bool) -> None:
    body = b"x" * size
    if ok:
        assert decode_body(body, content_encoding=encoding, limits=SMALL) == body
    else:
        with pytest.raises(PayloadTooLarge, match="1001 bytes; the limit is 1000") as err:
            decode_body(body, content_encoding=encoding, limits=SMALL)
        assert err.value.status == 413


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
@pytest.mark.parametrize(("size", "ok"), [(1000, True), (1001, False)])
def test_decompressed_body_limit_is_inclusive(encoding: str, size: int, ok: bool) -> None:
    # Random bytes do not compress, so only the request limit applies, not the ratio.
    body = os.urandom(size)
    compressed = gzip.compress(body) if encoding == "gzip" else zlib.compress(body)
    if ok:
        assert decode_body(compressed, content_encoding=encoding, limits=SMALL) == body
    else:
        with pytest.raises(PayloadTooLarge, match="decompressed body is over 1000 bytes"):
            decode_body(compressed, content_encoding=encoding, limits=SMALL)


def test_a_decompression_bomb_is_refused_without_inflating_it_all() -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)  # 50 MB of zeros in about 50 KB
    limits = Limits(max_request_bytes=100_000_000, max_compression_ratio=100)
    with pytest.raises(PayloadTooLarge, match="decompression bomb"):
        decode_body(bomb, content_encoding="gzip", limits=limits)


def test_compression_ratio_boundary() -> None:
    # Past the ratio-free floor, so the ratio rule applies.
    body = b'{"type": "track", "event": "A", "userId": "u1"}' * 30_000
    assert len(body) > RATIO_FREE_BYTES
    compressed = gzip.compress(body)
    ratio = math.ceil(len(body) / len(compressed))  # the smallest ratio that lets it in
    big = 10 * len(body)
    allowed = Limits(max_request_bytes=big, max_compression_ratio=ratio)
    assert decode_body(compressed, content_encoding="gzip", limits=allowed) == body
    refused = Limits(max_request_bytes=big, max_compression_ratio=ratio - 1)
    with pytest.raises(PayloadTooLarge, match="decompression bomb"):
        decode_body(compressed, content_encoding="gzip", limits=refused)


def test_a_small_repetitive_body_is_not_taken_for_a_bomb() -> None:
    # A padded message compresses ~1000x; inflation is bounded anyway, so it is fine.
    body = b'{"batch": [{"properties": {"pad": "' + b"x" * 40_000 + b'"}}]}'
    compressed = gzip.compress(body)
    assert len(body) / len(compressed) > 100
    limits = Limits(max_request_bytes=500 * 1024, max_compression_ratio=100)
    assert decode_body(compressed, content_encoding="gzip", limits=limits) == body


@pytest.mark.parametrize("cut", [1, 8, 30])
def test_truncated_gzip_is_an_invalid_request(cut: int) -> None:
    compressed = gzip.compress(os.urandom(200))
    with pytest.raises(InvalidRequest, match="truncated"):
        decode_body(compressed[:-cut], content_encoding="gzip", limits=Limits())


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_garbage_that_claims_compression_is_an_invalid_request(encoding: str) -> None:
    # Raw deflate has no header, so garbage may only show as a body that never ends.
    with pytest.raises(
        InvalidRequest, match=f"not valid {encoding}|{encoding} body is truncated"
    ) as err:
        decode_body(b'{"not": "compressed"}', content_encoding=encoding, limits=Limits())
    assert err.value.status == 400


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, deflate"])
def test_unsupported_encoding_is_415(encoding: str) -> None:
    with pytest.raises(UnsupportedMediaType, match="not supported") as err:
        decode_body(b"{}", content_encoding=encoding, limits=Limits())
    assert err.value.status == 415


# --- parse_json ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"  \n\t", "empty"),
        (b"{", "not valid JSON"),
        (b'{"a": 1} trailing', "not valid JSON"),
        (b"{'single': 'quotes'}", "not valid JSON"),
        (b'{"a": "\xff"}', "not valid JSON"),  # not UTF-8
        (b"NaN", "not valid JSON"),
    ],
)
def test_parse_json_errors(body: bytes, message: str) -> None:
    with pytest.raises(InvalidJSON, match=message) as err:
        parse_json(body)
    assert isinstance(err.value, InvalidRequest)
    assert err.value.code == "invalid_json"
    assert err.value.status == 400


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"a": 1}', {"a": 1}),
        (b"[1, 2]", [1, 2]),  # parsed; open_envelope refuses non-objects
        (b'"text"', "text"),
        ('{"é": "ü"}'.encode(), {"é": "ü"}),
    ],
)
def test_parse_json_reads_any_document(body: bytes, expected: Any) -> None:
    assert parse_json(body) == expected


# --- open_envelope: batches ----------------------------------------------------------------


def batch(*items: Any, **top: Any) -> dict[str, Any]:
    return {"batch": list(items), **top}


@pytest.mark.parametrize(
    ("batch_value", "item", "expected"),
    [
        # item keys win; batch keys fill in
        ({"app": "x", "locale": "en"}, {"locale": "fr"}, {"app": "x", "locale": "fr"}),
        # absent or null item value: the batch value applies
        ({"app": "x"}, None, {"app": "x"}),
        ({"app": "x"}, "absent", {"app": "x"}),
        # empty item value: still merged
        ({"app": "x"}, {}, {"app": "x"}),
        # nothing at batch level: the item value is kept as sent
        (None, {"a": 1}, {"a": 1}),
        ({}, {"a": 1}, {"a": 1}),
        (None, None, None),
        # a wrong type in the item is kept for per-item validation to reject
        ({"app": "x"}, "junk", "junk"),
        # merging is shallow: an item's nested object replaces the batch's
        ({"app": {"name": "x", "version": 1}}, {"app": {"name": "y"}}, {"app": {"name": "y"}}),
    ],
)
@pytest.mark.parametrize("key", ["context", "integrations"])
def test_batch_context_and_integrations_are_merged_into_items(
    key: str, batch_value: Any, item: Any, expected: Any
) -> None:
    message: dict[str, Any] = {"type": "track", "event": "A", "userId": "u"}
    if item != "absent":
        message[key] = item
    top = {key: batch_value} if batch_value is not None else {}
    envelope = open_envelope(batch(message, **top), endpoint="batch", limits=Limits())
    assert envelope.items[0].get(key) == expected


def test_batch_without_context_leaves_items_untouched() -> None:
    message = {"type": "track", "event": "A", "userId": "u"}
    envelope = open_envelope(batch(message), endpoint="batch", limits=Limits())
    assert envelope.items == [message]
    assert "context" not in envelope.items[0]
    assert "integrations" not in envelope.items[0]


@pytest.mark.parametrize(
    ("batch_sent_at", "item_sent_at", "expected"),
    [
        ("2026-01-01T00:00:00Z", "absent", "2026-01-01T00:00:00Z"),
        ("2026-01-01T00:00:00Z", None, "2026-01-01T00:00:00Z"),
        ("2026-01-01T00:00:00Z", "2025-12-31T00:00:00Z", "2025-12-31T00:00:00Z"),
        (None, "2025-12-31T00:00:00Z", "2025-12-31T00:00:00Z"),
        (None, "absent", "absent"),
    ],
)
def test_batch_sent_at_applies_only_to_items_without_one(
    batch_sent_at: str | None, item_sent_at: str | None, expected: str | None
) -> None:
    message: dict[str, Any] = {"type": "track", "event": "A", "userId": "u"}
    if item_sent_at != "absent":
        message["sentAt"] = item_sent_at
    top = {"sentAt": batch_sent_at} if batch_sent_at is not None else {}
    envelope = open_envelope(batch(message, **top), endpoint="b", limits=Limits())
    assert envelope.items[0].get("sentAt", "absent") == expected


def test_non_object_items_are_kept_in_place_for_per_item_rejection() -> None:
    items = [{"type": "track", "event": "A", "userId": "u"}, "junk", 7, None, ["x"]]
    envelope = open_envelope(batch(*items, context={"app": "x"}), endpoint="batch", limits=Limits())
    assert envelope.items[1:] == ["junk", 7, None, ["x"]]
    assert envelope.items[0]["context"] == {"app": "x"}


@pytest.mark.parametrize(("count", "kept"), [(3, 3), (4, 4), (5, 4), (9, 4)])
def test_items_past_max_batch_items_overflow_in_order(count: int, kept: int) -> None:
    items = [{"type": "track", "event": f"E{i}", "userId": "u"} for i in range(count)]
    envelope = open_envelope(batch(*items), endpoint="batch", limits=Limits(max_batch_items=4))
    assert [item["event"] for item in envelope.items] == [f"E{i}" for i in range(kept)]
    assert [item["event"] for item in envelope.overflow] == [f"E{i}" for i in range(kept, count)]
    assert envelope.single is False


@pytest.mark.parametrize("endpoint", ["batch", "b", "import"])
def test_batch_endpoints_keep_each_item_type(endpoint: str) -> None:
    items = [{"type": "identify", "userId": "u"}, {"type": "page", "userId": "u"}, {"userId": "u"}]
    envelope = open_envelope(batch(*items), endpoint=endpoint, limits=Limits())
    assert [item.get("type") for item in envelope.items] == ["identify", "page", None]


@pytest.mark.parametrize("value", [None, "junk", {"a": 1}, 3])
def test_batch_without_a_batch_array_is_an_invalid_request(value: Any) -> None:
    document = {} if value is None else {"batch": value}
    with pytest.raises(InvalidRequest, match="needs `batch`") as err:
        open_envelope(document, endpoint="batch", limits=Limits())
    assert err.value.field == "batch"


def test_open_envelope_does_not_modify_the_document() -> None:
    document = batch(
        {"type": "track", "event": "A", "userId": "u", "context": {"locale": "fr"}},
        {"type": "page", "userId": "u"},
        context={"app": {"name": "x"}},
        integrations={"All": True},
        sentAt="2026-01-01T00:00:00Z",
        writeKey="k",
    )
    before = copy.deepcopy(document)
    open_envelope(document, endpoint="batch", limits=Limits())
    assert document == before


# --- open_envelope: single messages ---------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "kind"),
    [(name, name) for name in EVENT_TYPES] + [(name[0], name) for name in EVENT_TYPES],
)
def test_single_endpoints_set_the_type(endpoint: str, kind: str) -> None:
    document = {"type": "something-else", "userId": "u", "writeKey": "k", "sentAt": "x"}
    envelope = open_envelope(document, endpoint=endpoint, limits=Limits())
    assert envelope.single is True
    assert envelope.overflow == []
    assert envelope.items == [{"type": kind, "userId": "u", "sentAt": "x"}]  # no writeKey


def test_short_and_long_endpoint_names_cover_the_spec() -> None:
    assert set(ENDPOINTS) == {
        *EVENT_TYPES,
        *"itpsga",
        "batch",
        "b",
        "import",
    }


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"writeKey": "wk"}, "wk"),
        ({"writeKey": ""}, None),
        ({"writeKey": None}, None),
        ({"writeKey": 12}, None),
        ({}, None),
    ],
)
@pytest.mark.parametrize("endpoint", ["track", "batch"])
def test_write_key_is_read_from_the_body(
    endpoint: str, document: dict[str, Any], expected: str | None
) -> None:
    body = {**document, "batch": []} if endpoint == "batch" else document
    assert open_envelope(body, endpoint=endpoint, limits=Limits()).write_key == expected


@pytest.mark.parametrize("document", [[], [{"type": "track"}], "text", 3, None, True])
@pytest.mark.parametrize("endpoint", ["track", "batch"])
def test_a_non_object_document_is_an_invalid_request(document: Any, endpoint: str) -> None:
    with pytest.raises(InvalidRequest, match="must be a JSON object"):
        open_envelope(document, endpoint=endpoint, limits=Limits())


@pytest.mark.parametrize("endpoint", ["x", "tracks", "", "Track", "v1/track"])
def test_unknown_endpoint_is_an_invalid_request(endpoint: str) -> None:
    with pytest.raises(InvalidRequest, match="Unknown endpoint") as err:
        open_envelope({}, endpoint=endpoint, limits=Limits())
    assert isinstance(err.value, FirstmileError)
