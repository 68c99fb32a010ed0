"""Reading event files for ``firstmile import``: NDJSON or CSV, one message per line/row.

CSV columns are message fields (``type``, ``userId``, ``anonymousId``, ``event``,
``name``, ``timestamp``, ``messageId``, ...); dotted columns build nested objects
(``properties.plan``, ``traits.email``, ``context.ip``). Empty cells are left out.
A line that is not JSON is passed on as :class:`UnparsedLine`, so the pipeline quarantines it with
its reason instead of the import stopping.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

FileFormat = Literal["ndjson", "csv"]


@dataclass(frozen=True, slots=True)
class UnparsedLine:
    """A line of an NDJSON file that is not JSON (quarantined as ``invalid_json``)."""

    text: str
    error: str


def detect_format(path: Path) -> FileFormat:
    """``csv`` for ``.csv`` files, ``ndjson`` otherwise."""
    return "csv" if path.suffix.lower() == ".csv" else "ndjson"


def _nested(row: dict[str, str]) -> dict[str, Any]:
    message: dict[str, Any] = {}
    for column, value in row.items():
        if column is None or value is None or value == "":
            continue
        target = message
        *parents, leaf = column.strip().split(".")
        for part in parents:
            child = target.setdefault(part, {})
            if not isinstance(child, dict):
                child = target[part] = {}
            target = child
        target[leaf] = value
    return message


def read_messages(path: Path, file_format: FileFormat) -> Iterator[Any]:
    """Yield one raw message per non-empty line (NDJSON) or row (CSV)."""
    # utf-8-sig: files saved by Excel and other Windows tools start with a byte order mark.
    with path.open(encoding="utf-8-sig", newline="") as handle:
        if file_format == "csv":
            for row in csv.DictReader(handle):
                yield _nested(row)
            return
        for line in handle:
            stripped = line.strip()
            if not stripped:
                continue
            try:
                yield orjson.loads(stripped)
            except orjson.JSONDecodeError as exc:
                yield UnparsedLine(stripped, str(exc))


def count_lines(path: Path) -> int:
    """Lines in a file (the progress bar's total)."""
    with path.open("rb") as handle:
        return sum(1 for _ in handle)
