"""The storage contract for segment memberships and segment history.

Same fixtures as ``test_store.py``: each test runs once per backend on a fresh, migrated
store and talks to it only through :mod:`firstmile.storage.base`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import cast

import pytest

from firstmile.profiles.model import Profile
from firstmile.storage import Store
from firstmile.storage.base import SegmentChange, SegmentChangeKind

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CEST = timezone(timedelta(hours=2))
CONFIG = "cfg-1"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def entered(
    profile_id: str, segment_key: str, when: datetime, config: str = CONFIG
) -> SegmentChange:
    return SegmentChange(profile_id, segment_key, "entered", when, config)


def exited(
    profile_id: str, segment_key: str, when: datetime, config: str = CONFIG
) -> SegmentChange:
    return SegmentChange(profile_id, segment_key, "exited", when, config)


def apply(store: Store, *changes: SegmentChange) -> None:
    with store.write() as tx:
        tx.apply_segment_changes(changes)


def test_enter_exit_and_re_enter_round_trip_with_history_newest_first(store: Store) -> None:
    apply(store, entered("p1", "new_users", at(0)), entered("p1", "mobile", at(1)))
    assert store.memberships("p1") == {"new_users": at(0), "mobile": at(1)}
    apply(store, exited("p1", "new_users", at(5), "cfg-2"))
    assert store.memberships("p1") == {"mobile": at(1)}
    apply(store, entered("p1", "new_users", at(9), "cfg-2"))
    assert store.memberships("p1") == {"mobile": at(1), "new_users": at(9)}
    assert list(store.memberships("p1")) == ["mobile", "new_users"]  # earliest entry first
    history = [
        entered("p1", "new_users", at(9), "cfg-2"),
        exited("p1", "new_users", at(5), "cfg-2"),
        entered("p1", "mobile", at(1)),
        entered("p1", "new_users", at(0)),
    ]
    assert store.segment_history("p1") == history
    assert store.segment_history("p1", limit=2) == history[:2]
    assert store.memberships("nobody") == {}
    assert store.segment_history("nobody") == []


def test_times_are_kept_as_aware_utc(store: Store) -> None:
    local = datetime(2026, 3, 1, 14, 30, 0, 123456, tzinfo=CEST)  # 12:30 UTC
    apply(store, entered("p1", "s", local))
    [(key, entered_at)] = store.memberships("p1").items()
    assert (key, entered_at) == ("s", local)
    assert entered_at.tzinfo == UTC
    assert store.segment_history("p1")[0].at.tzinfo == UTC
    assert store.segment_members("s") == [("p1", local)]
    with store.write() as tx:
        assert tx.load_memberships(["p1"]) == {"p1": {"s": local}}


def test_a_naive_time_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="Naive"):
        apply(store, entered("p1", "s", datetime(2026, 3, 1, 12, 0)))
    assert store.memberships("p1") == {}


def test_entering_twice_keeps_the_first_entered_at(store: Store) -> None:
    apply(store, entered("p1", "s", at(0)), entered("p1", "s", at(1)))  # same batch
    apply(store, entered("p1", "s", at(2)))  # a later transaction
    assert store.memberships("p1") == {"s": at(0)}
    assert store.segment_members("s") == [("p1", at(0))]
    assert [c.at for c in store.segment_history("p1")] == [at(2), at(1), at(0)]


def test_changes_in_one_batch_apply_in_order(store: Store) -> None:
    apply(store, entered("p1", "kept", at(0)), entered("p1", "re_entered", at(0)))
    batch = [
        entered("p1", "flicker", at(1)),
        exited("p1", "flicker", at(2)),
        entered("p1", "flicker", at(3)),  # in, out, in: entered at 3
        entered("p1", "gone", at(1)),
        exited("p1", "gone", at(2)),  # in, out: not a member
        exited("p1", "re_entered", at(1)),
        entered("p1", "re_entered", at(4)),  # out, in: the new time
        entered("p1", "kept", at(5)),  # already a member: the old time stays
        exited("p2", "never_in", at(1)),  # leaving a segment one is not in is harmless
    ]
    apply(store, *batch)
    assert store.memberships("p1") == {"kept": at(0), "flicker": at(3), "re_entered": at(4)}
    assert store.memberships("p2") == {}
    assert store.segment_history("p2") == [exited("p2", "never_in", at(1))]
    # Newest first; changes at the same moment come in reverse order of application.
    assert store.segment_history("p1") == [
        batch[7],
        batch[6],
        batch[2],
        batch[4],
        batch[1],
        batch[5],
        batch[3],
        batch[0],
        entered("p1", "re_entered", at(0)),
        entered("p1", "kept", at(0)),
    ]


def test_apply_nothing_and_an_unknown_change_kind(store: Store) -> None:
    bad = SegmentChange("p1", "s", cast(SegmentChangeKind, "left"), at(1), CONFIG)
    with pytest.raises(ValueError, match="left"):
        apply(store, entered("p1", "s", at(0)), bad)
    with store.write() as tx:
        tx.apply_segment_changes([])
    assert store.memberships("p1") == {}
    assert store.segment_history("p1") == []


def test_load_memberships_for_several_profiles(store: Store) -> None:
    apply(
        store,
        entered("p1", "a", at(0)),
        entered("p1", "b", at(1)),
        entered("p2", "a", at(2)),
        entered("p3", "a", at(3)),
        exited("p3", "a", at(4)),
    )
    with store.write() as tx:
        assert tx.load_memberships(["p1", "p2", "p3", "nobody", "p1"]) == {
            "p1": {"a": at(0), "b": at(1)},
            "p2": {"a": at(2)},
        }
        assert tx.load_memberships([]) == {}
        tx.apply_segment_changes([exited("p1", "a", at(5)), entered("p3", "c", at(5))])
        # read your own writes
        assert tx.load_memberships(iter(["p1", "p3"])) == {"p1": {"b": at(1)}, "p3": {"c": at(5)}}


def test_load_memberships_beyond_one_query(store: Store) -> None:
    ids = [f"p{i:04d}" for i in range(1203)]
    apply(store, *(entered(p, f"s{i % 3}", at(i % 60)) for i, p in enumerate(ids) if i % 2))
    with store.write() as tx:
        found = tx.load_memberships(ids)
    assert found == {p: {f"s{i % 3}": at(i % 60)} for i, p in enumerate(ids) if i % 2}


def test_segment_sizes_and_members_paged(store: Store) -> None:
    assert store.segment_sizes() == {}
    apply(
        store,
        entered("p3", "big", at(0)),
        entered("p1", "big", at(1)),
        entered("p2", "big", at(1)),  # same time: by profile id
        entered("p0", "big", at(2)),
        entered("p9", "big", at(3)),
        entered("p1", "small", at(0)),
        entered("p2", "emptied", at(0)),
    )
    apply(store, exited("p2", "emptied", at(4)))
    assert store.segment_sizes() == {"big": 5, "small": 1}
    in_order = [("p3", at(0)), ("p1", at(1)), ("p2", at(1)), ("p0", at(2)), ("p9", at(3))]
    assert store.segment_members("big") == in_order
    pages = [store.segment_members("big", limit=2, offset=offset) for offset in (0, 2, 4, 6)]
    assert pages == [in_order[:2], in_order[2:4], in_order[4:], []]
    assert store.segment_members("small") == [("p1", at(0))]
    assert store.segment_members("emptied") == []
    assert store.segment_members("unknown") == []


def test_profile_ids_in_segments(store: Store) -> None:
    apply(
        store,
        entered("p2", "a", at(0)),
        entered("p1", "a", at(0)),
        entered("p1", "b", at(0)),
        entered("p3", "c", at(0)),
        entered("p4", "b", at(0)),
        exited("p4", "b", at(1)),
    )
    assert store.profile_ids_in_segments(["a", "b"]) == ["p1", "p2"]  # distinct, sorted
    assert store.profile_ids_in_segments(["c", "unknown", "c"]) == ["p3"]
    assert store.profile_ids_in_segments([]) == []
    assert store.profile_ids_in_segments(["unknown"]) == []


def test_profile_ids_in_more_segments_than_one_query_holds(store: Store) -> None:
    keys = [f"seg-{i}" for i in range(1100)]
    apply(store, *(entered(f"p{i % 5}", key, at(0)) for i, key in enumerate(keys)))
    assert store.profile_ids_in_segments(keys) == ["p0", "p1", "p2", "p3", "p4"]
    assert store.profile_ids_in_segments(keys[-1:]) == [f"p{(len(keys) - 1) % 5}"]


def test_reassign_moves_history_and_drops_the_from_profiles_memberships(store: Store) -> None:
    apply(
        store,
        entered("from", "a", at(0)),
        entered("from", "b", at(1)),
        exited("from", "b", at(2)),
        entered("into", "a", at(3)),
        entered("other", "a", at(4)),
    )
    with store.write() as tx:
        tx.reassign("from", "into")
        assert tx.load_memberships(["from", "into"]) == {"into": {"a": at(3)}}
        tx.delete_profile("from")
        tx.reassign("into", "into")  # a no-op: memberships stay
    assert store.memberships("from") == {}
    assert store.memberships("into") == {"a": at(3)}
    assert store.segment_history("from") == []
    assert store.segment_history("into") == [
        entered("into", "a", at(3)),
        exited("into", "b", at(2)),
        entered("into", "b", at(1)),
        entered("into", "a", at(0)),
    ]
    assert store.segment_sizes() == {"a": 2}
    assert store.segment_members("a") == [("into", at(3)), ("other", at(4))]
    assert store.segment_history("other") == [entered("other", "a", at(4))]


def test_delete_profile_drops_its_memberships(store: Store) -> None:
    with store.write() as tx:
        tx.save_profiles([Profile("p1", None, T0, T0), Profile("p2", None, T0, T0)])
        tx.apply_segment_changes(
            [entered("p1", "a", at(0)), entered("p1", "b", at(0)), entered("p2", "a", at(1))]
        )
    with store.write() as tx:
        tx.delete_profile("p1")
    assert store.get_profile("p1") is None
    assert store.memberships("p1") == {}
    assert store.memberships("p2") == {"a": at(1)}
    assert store.segment_sizes() == {"a": 1}
    assert store.profile_ids_in_segments(["a", "b"]) == ["p2"]


class Boom(Exception):
    pass


def test_an_exception_rolls_back_segment_changes(store: Store) -> None:
    apply(store, entered("p1", "kept", at(0)))
    before = store.segment_history("p1")

    def fail(*changes: SegmentChange) -> None:
        with store.write() as tx:
            tx.apply_segment_changes(changes)
            tx.reassign("p1", "p2")
            tx.delete_profile("p2")
            raise Boom

    with pytest.raises(Boom):
        fail(entered("p1", "new", at(1)), exited("p1", "kept", at(1)), entered("p3", "x", at(1)))
    assert store.memberships("p1") == {"kept": at(0)}
    assert store.memberships("p2") == {}
    assert store.memberships("p3") == {}
    assert store.segment_history("p1") == before
    assert store.segment_history("p2") == []
    assert store.segment_history("p3") == []
    assert store.segment_sizes() == {"kept": 1}


def test_memberships_of_many_profiles_in_one_read(store: Store) -> None:
    apply(
        store,
        entered("p1", "mobile", at(1)),
        entered("p1", "new_users", at(0)),
        entered("p2", "mobile", at(2)),
        entered("p3", "mobile", at(3)),
        exited("p3", "mobile", at(4)),
    )
    found = store.memberships_of(["p2", "p1", "p3", "nobody", "p1"])
    assert found == {"p1": {"new_users": at(0), "mobile": at(1)}, "p2": {"mobile": at(2)}}
    assert list(found["p1"]) == ["new_users", "mobile"]  # earliest entry first
    assert all(when.tzinfo == UTC for keys in found.values() for when in keys.values())
    assert found["p1"] == store.memberships("p1")
    assert store.memberships_of([]) == {}


def test_memberships_of_more_profiles_than_one_statement_binds(store: Store) -> None:
    ids = [f"p{i:04d}" for i in range(1200)]
    apply(store, *(entered(pid, "s", at(0)) for pid in ids[::2]))
    found = store.memberships_of(ids)
    assert sorted(found) == ids[::2]
    assert found[ids[0]] == {"s": at(0)}
