"""Tests for firstmile.imports: NDJSON and CSV files, and what the pipeline makes of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from firstmile.imports import UnparsedLine, count_lines, detect_format, read_messages
from firstmile.service import Firstmile


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("events.csv", "csv"),
        ("EVENTS.CSV", "csv"),
        ("events.ndjson", "ndjson"),
        ("events.jsonl", "ndjson"),
        ("events.json", "ndjson"),
        ("events", "ndjson"),
        ("events.csv.gz", "ndjson"),
    ],
)
def test_detect_format(name: str, expected: str) -> None:
    assert detect_format(Path(name)) == expected


NDJSON = (
    '{"type": "identify", "userId": "u1", "traits": {"plan": "pro"}}\n'
    "\n"
    "   \n"
    '{"type": "track", "userId": "u1", "event": "A"}\r\n'
    '{"type": "track", "userId": \n'
    '  {"type": "page", "anonymousId": "a1"}  \n'
    "[1, 2]\n"
    '{"type": "track", "userId": "u1", "event": "No newline at the end"}'
)


def test_ndjson_yields_one_message_per_line_and_passes_bad_lines_on(tmp_path: Path) -> None:
    path = tmp_path / "events.ndjson"
    path.write_text(NDJSON, encoding="utf-8")
    messages = list(read_messages(path, "ndjson"))
    assert len(messages) == 6  # blank lines are skipped
    assert messages[0] == {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}}
    assert messages[1] == {"type": "track", "userId": "u1", "event": "A"}
    bad = messages[2]
    assert isinstance(bad, UnparsedLine)
    assert bad.text == '{"type": "track", "userId":'
    assert bad.error
    assert messages[3] == {"type": "page", "anonymousId": "a1"}
    assert messages[4] == [1, 2]  # JSON, but not a message: the pipeline rejects it
    assert messages[5]["event"] == "No newline at the end"
    assert count_lines(path) == 8


def test_ndjson_import_quarantines_the_bad_lines(tmp_path: Path, fm: Firstmile) -> None:
    path = tmp_path / "events.ndjson"
    path.write_text(NDJSON, encoding="utf-8")
    result = fm.ingest_items(list(read_messages(path, "ndjson")))
    assert result.accepted == 4
    assert [(q.index, q.reason) for q in result.quarantined] == [
        (2, "invalid_json"),
        (4, "not_an_object"),
    ]
    [unparsed] = fm.quarantine(reason="invalid_json")
    assert unparsed.entry.payload == '{"type": "track", "userId":'
    assert unparsed.entry.message.startswith("Not valid JSON")
    assert fm.user("u1")["computed"]["event_count"] == 3


CSV = (
    "type,userId,anonymousId,event,properties.plan,properties.seats,traits.email,"
    "context.page.path,context.ip,timestamp\n"
    "identify,u1,,,,,A@Example.com,,,2026-11-25T10:00:00Z\n"
    "track,u1,,Upgraded,pro,3,,/billing,8.8.8.8,2026-11-25T11:00:00Z\n"
    "page,,a1,,,,,/home,,\n"
)


def test_csv_dotted_columns_build_nested_objects(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(CSV, encoding="utf-8")
    assert list(read_messages(path, "csv")) == [
        {
            "type": "identify",
            "userId": "u1",
            "traits": {"email": "A@Example.com"},
            "timestamp": "2026-11-25T10:00:00Z",
        },
        {
            "type": "track",
            "userId": "u1",
            "event": "Upgraded",
            "properties": {"plan": "pro", "seats": "3"},
            "context": {"page": {"path": "/billing"}, "ip": "8.8.8.8"},
            "timestamp": "2026-11-25T11:00:00Z",
        },
        {"type": "page", "anonymousId": "a1", "context": {"page": {"path": "/home"}}},
    ]


def test_csv_import_runs_through_the_pipeline(tmp_path: Path, fm: Firstmile) -> None:
    path = tmp_path / "events.csv"
    path.write_text(CSV, encoding="utf-8")
    result = fm.ingest_items(list(read_messages(path, "csv")))
    assert (result.accepted, result.quarantined) == (3, ())
    user = fm.user("u1")
    assert user["traits"] == {"email": "a@example.com"}
    [upgraded] = fm.store.events(user["profile_id"], limit=1)
    assert upgraded.payload["properties"] == {"plan": "pro", "seats": 3}  # coerced from text
    assert upgraded.timestamp.isoformat() == "2026-11-25T11:00:00+00:00"
    assert fm.user("a1")["computed"]["last_pages"] == ["/home"]


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        # a flat column and a dotted one under the same name: the object wins
        ("properties,properties.plan", "x,pro", {"properties": {"plan": "pro"}}),
        # surrounding spaces in column names are ignored
        (" type , userId ", "track,u1", {"type": "track", "userId": "u1"}),
        # cells past the header are ignored; missing cells are left out
        ("type,userId", "track,u1,extra", {"type": "track", "userId": "u1"}),
        ("type,userId,event", "track,u1", {"type": "track", "userId": "u1"}),
    ],
)
def test_csv_edge_cases(tmp_path: Path, header: str, row: str, expected: dict[str, object]) -> None:
    path = tmp_path / "events.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    assert list(read_messages(path, "csv")) == [expected]


@pytest.mark.parametrize("file_format", ["csv", "ndjson"])
def test_a_byte_order_mark_is_not_part_of_the_first_column(
    tmp_path: Path, file_format: str
) -> None:
    # Excel and some Windows tools start UTF-8 files with a BOM.
    path = tmp_path / f"events.{file_format}"
    text = (
        "type,userId,event\ntrack,u1,A\n"
        if file_format == "csv"
        else '{"type": "track", "userId": "u1", "event": "A"}\n'
    )
    path.write_text("\ufeff" + text, encoding="utf-8")
    assert list(read_messages(path, "csv" if file_format == "csv" else "ndjson")) == [
        {"type": "track", "userId": "u1", "event": "A"}
    ]
