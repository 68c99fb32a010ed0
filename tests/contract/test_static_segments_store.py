"""The storage contract for static segments (fixed lists of profiles).

Same fixtures as ``test_store.py``: each test runs once per backend on a fresh, migrated
store and talks to it only through :mod:`firstmile.storage.base`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from firstmile.errors import ConflictError
from firstmile.storage import Store
from firstmile.storage.base import StaticSegment

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def static(key: str, **changes: object) -> StaticSegment:
    fields: dict[str, object] = {
        "key": key,
        "name": f"{key} name",
        "description": "",
        "source": "upload",
        "of_segment": None,
        "created_at": T0,
        "config_version": None,
    }
    fields.update(changes)
    return StaticSegment(**fields)  # type: ignore[arg-type]


def create(store: Store, segment: StaticSegment, *ids: str) -> None:
    with store.write() as tx:
        tx.create_static_segment(segment, ids)


def test_create_round_trips_with_sizes_by_key(store: Store) -> None:
    snapshot = static(
        "pro_march",
        source="snapshot",
        of_segment="pro",
        config_version="cfg-1",
        description="Members of pro",
        created_at=T0.astimezone(timezone(timedelta(hours=2))),
    )
    create(store, snapshot, "p2", "p1", "p3")
    create(store, static("a_upload"), "p9", "p9")  # a duplicate id is stored once
    create(store, static("empty"))
    assert store.static_segments() == [
        (static("a_upload"), 1),
        (static("empty"), 0),
        (snapshot, 3),
    ]
    got = store.static_segment("pro_march")
    assert got == (snapshot, 3)
    assert got is not None
    assert got[0].created_at == T0
    assert got[0].created_at.utcoffset() == timedelta(0)
    assert store.static_segment("nope") is None


def test_members_are_sorted_and_paged(store: Store) -> None:
    ids = [f"p{i:03d}" for i in range(30)]
    create(store, static("big"), *reversed(ids))
    assert store.static_segment_members("big") == ids
    assert store.static_segment_members("big", limit=10, offset=25) == ids[25:]
    assert store.static_segment_members("big", offset=30) == []
    assert store.static_segment_members("nope") == []


def test_a_taken_key_is_a_conflict_and_nothing_is_written(store: Store) -> None:
    create(store, static("taken"), "p1")
    with pytest.raises(ConflictError) as caught, store.write() as tx:
        tx.create_static_segment(static("taken", name="other"), ["p2"])
    assert caught.value.field == "key"
    assert "taken" in caught.value.message
    assert store.static_segments() == [(static("taken"), 1)]
    assert store.static_segment_members("taken") == ["p1"]


def test_a_failed_transaction_leaves_no_segment(store: Store) -> None:
    def create_then_fail() -> None:
        with store.write() as tx:
            tx.create_static_segment(static("rolled_back"), ["p1"])
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        create_then_fail()
    assert store.static_segments() == []
    assert store.static_segment_members("rolled_back") == []


def test_delete_removes_the_segment_and_its_members_only(store: Store) -> None:
    create(store, static("a"), "p1", "p2")
    create(store, static("b"), "p1")
    with store.write() as tx:
        assert tx.delete_static_segment("a") is True
        assert tx.delete_static_segment("a") is False
        assert tx.delete_static_segment("nope") is False
    assert store.static_segments() == [(static("b"), 1)]
    assert store.static_segment_members("a") == []
    create(store, static("a"), "p3")  # the key is free again
    assert store.static_segment_members("a") == ["p3"]


def test_reassign_moves_static_memberships_once(store: Store) -> None:
    create(store, static("both"), "from", "into")
    create(store, static("from_only"), "from")
    with store.write() as tx:
        tx.reassign("from", "into")
    assert store.static_segment_members("both") == ["into"]
    assert store.static_segment_members("from_only") == ["into"]
    assert [size for _, size in store.static_segments()] == [1, 1]


def test_the_static_segments_of_a_profile_by_key(store: Store) -> None:
    later = static("b_later", created_at=T0 + timedelta(days=1), source="snapshot", of_segment="x")
    create(store, later, "p1", "p2")
    create(store, static("a_first"), "p1")
    create(store, static("c_other"), "p2")
    assert store.static_segments_of("p1") == [static("a_first"), later]
    assert store.static_segments_of("p2") == [later, static("c_other")]
    assert store.static_segments_of("nobody") == []
    with store.write() as tx:
        tx.delete_static_segment("a_first")
        tx.reassign("p2", "p1")
    assert store.static_segments_of("p1") == [later, static("c_other")]
    assert store.static_segments_of("p2") == []
