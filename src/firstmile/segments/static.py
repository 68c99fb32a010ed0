"""Static segments: fixed lists of profiles, never re-evaluated (pure helpers).

The facade (:class:`firstmile.service.Firstmile`) stores them; this module checks keys,
reads uploaded id lists and shapes what the API and the CLI show.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from typing import Any

from firstmile.config.schema import SLUG, slugify
from firstmile.errors import ConflictError, InvalidRequest
from firstmile.storage.base import StaticSegment

MAX_UNKNOWN_SHOWN = 100


def check_static_key(key: str, *, field: str, config_keys: Collection[str]) -> str:
    """``key`` when it is a slug not taken by a config segment; else a clear error."""
    if not SLUG.fullmatch(key):
        raise InvalidRequest(
            f"{key!r} is not a segment key: use lowercase letters, digits, `_` and `-`, "
            f"starting with a letter, at most 64 characters; for example "
            f"`{slugify(key) or 'pro_users_march'}`.",
            field=field,
        )
    if key in config_keys:
        raise ConflictError(
            f"{key!r} is a segment of the onboarding config; give the static segment another key.",
            field=field,
        )
    return key


def parse_id_csv(data: bytes) -> list[str]:
    """The ids of an uploaded file: an ``id`` column, or one id per line.

    A first row with an ``id`` column (any case) is a header and that column is read;
    otherwise every row must hold exactly one value. Blank lines and values are skipped.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"The id file is not UTF-8 text ({exc.reason}).") from None
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if any(row)]
    except csv.Error as exc:
        raise InvalidRequest(f"The id file is not valid CSV: {exc}.") from None
    if not rows:
        raise InvalidRequest("The id file has no ids: give an `id` column or one id per line.")
    header = [cell.strip().lower() for cell in rows[0]]
    has_header = "id" in header
    column = header.index("id") if has_header else 0
    if has_header:
        rows = rows[1:]
    elif len(header) > 1:
        raise InvalidRequest(
            f"The id file has {len(header)} columns and none is named `id`: name the column "
            "holding the ids `id`, or give one id per line."
        )
    ids: list[str] = []
    for number, row in enumerate(rows, start=2 if has_header else 1):
        if column >= len(row) or (not has_header and len(row) > 1):
            expected = f"a value in column {column + 1} (`id`)" if has_header else "one id"
            raise InvalidRequest(
                f"Row {number} of the id file (blank lines skipped) has {len(row)} values; "
                f"expected {expected}."
            )
        value = row[column].strip()
        if value:
            ids.append(value)
    if not ids:
        raise InvalidRequest("The id file has no ids: give an `id` column or one id per line.")
    return ids


def static_summary(segment: StaticSegment, size: int) -> dict[str, Any]:
    """A static segment in the shape of a config segment's summary (``kind: static``)."""
    return {
        "key": segment.key,
        "kind": "static",
        "name": segment.name,
        "description": segment.description,
        "condition": None,
        "threshold": None,
        "source": segment.source,
        "of_segment": segment.of_segment,
        "created_at": segment.created_at.isoformat(),
        "size": size,
        "time_dependent": False,
        "config_version": segment.config_version,
    }
