"""The storage contract: every backend behaves the same through the ``Store`` Protocol.

Each test runs once per backend (see ``conftest.py``) on a fresh, migrated store, and
talks to it only through :mod:`firstmile.storage.base`.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firstmile.clock import FixedClock
from firstmile.errors import ConfigError, NotFound, StorageUnavailable
from firstmile.events.model import Purpose
from firstmile.profiles.model import Computed, ConsentDecision, Profile
from firstmile.storage import Store, open_store
from firstmile.storage.base import (
    ApiKey,
    ConsentRecord,
    Identity,
    IdentityKind,
    MergeRecord,
    QuarantineEntry,
    StoredEvent,
    TraitChange,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CEST = timezone(timedelta(hours=2))
BIG = 2**70  # beyond 64 bits: orjson alone would turn it into a float


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def make_event(message_id: str, profile_id: str = "p1", **overrides: Any) -> StoredEvent:
    values: dict[str, Any] = {
        "source_id": "web",
        "message_id": message_id,
        "profile_id": profile_id,
        "type": "track",
        "name": "Signed Up",
        "user_id": None,
        "anonymous_id": "anon-1",
        "timestamp": T0,
        "received_at": T0,
        "sent_at": None,
        "original_timestamp": None,
        "payload": {"properties": {"plan": "pro"}},
        "consent": {"analytics": True},
    }
    values.update(overrides)
    return StoredEvent(**values)


def make_profile(profile_id: str, *, user_id: str | None = None, version: int = 1) -> Profile:
    return Profile(
        profile_id=profile_id, user_id=user_id, created_at=T0, updated_at=T0, version=version
    )


def rich_profile() -> Profile:
    return Profile(
        profile_id="p-ünï",
        user_id="user-🚀",
        created_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=CEST),
        updated_at=at(5),
        version=7,
        traits={
            "name": "Zoë Ångström",
            "bio": "שלום 世界 \u0000 tab\t",
            "plan": {"tier": "pro", "seats": 12, "price": 9.99, "trial": False},
            "tags": ["a", 1, None, [2, {"deep": True}]],
            "big": BIG,
            "negative_big": -BIG,
        },
        consent={
            Purpose.ANALYTICS: ConsentDecision(granted=True, at=at(1), source="context"),
            Purpose.MARKETING: ConsentDecision(granted=False, at=at(2), source="traits"),
        },
        computed=Computed(
            first_seen=at(0),
            last_seen=at(3),
            event_count=3,
            type_counts={"track": 2, "page": 1},
            event_counts={"Signed Up": 2},
            sessions=1,
            session_started_at=at(0),
            active_days=("2026-03-01",),
            hourly={493_692: {"*": 3, "Signed Up": 2}},
            last_pages=("/welcome", "/"),
            device_type="mobile",
            os="iOS",
            browser="Safari",
            country="DE",
            locale="de-DE",
            timezone="Europe/Berlin",
            groups=("acme",),
        ),
    )


def entry(reason: str = "missing_id", **overrides: Any) -> QuarantineEntry:
    values: dict[str, Any] = {
        "source_id": "web",
        "reason": reason,
        "message": "messageId is required",
        "payload": {"type": "track", "event": "Ünïcode"},
        "received_at": T0,
    }
    values.update(overrides)
    return QuarantineEntry(**values)


# -- lifecycle -----------------------------------------------------------------------


def test_migrate_is_idempotent_and_keeps_data(store: Store) -> None:
    with store.write() as tx:
        tx.save_profiles([make_profile("p1")])
    store.migrate()
    store.migrate()
    assert store.get_profile("p1") == make_profile("p1")


def test_ping_answers_on_a_reachable_store(store: Store) -> None:
    store.ping()


def test_ping_on_an_unreachable_postgres_raises_storage_unavailable() -> None:
    with open_store("postgresql://firstmile:secret@127.0.0.1:1/nowhere") as store:
        with pytest.raises(StorageUnavailable, match=r"127\.0\.0\.1") as caught:
            store.ping()
        assert "secret" not in caught.value.message
        with pytest.raises(StorageUnavailable):
            store.get_profile("p1")


def test_a_closed_store_is_unavailable(store_url: str) -> None:
    store = open_store(store_url)
    store.migrate()
    store.close()
    store.close()  # closing twice is harmless
    with pytest.raises(StorageUnavailable, match="closed"):
        store.ping()
    with pytest.raises(StorageUnavailable, match="closed"), store.write():
        pass
    with pytest.raises(StorageUnavailable, match="closed"):
        store.get_profile("p1")


@pytest.mark.parametrize(
    "url", ["mysql://localhost/firstmile", "firstmile.db", "redis://localhost", ""]
)
def test_open_store_rejects_unsupported_schemes(url: str) -> None:
    with pytest.raises(ConfigError, match=r"sqlite:///.*postgresql://"):
        open_store(url)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_open_store_rejects_in_memory_sqlite(url: str) -> None:
    with pytest.raises(ConfigError, match="file path"):
        open_store(url)


def test_open_store_creates_the_sqlite_folder(tmp_path: Any) -> None:
    with open_store(f"sqlite:///{tmp_path}/a/b/firstmile.db") as store:
        store.migrate()
        store.ping()
    assert (tmp_path / "a" / "b" / "firstmile.db").is_file()


def test_write_blocks_cannot_be_nested(store: Store) -> None:
    with store.write(), pytest.raises(RuntimeError, match="nested"), store.write():
        pass
    with store.write() as tx:  # the store is still usable afterwards
        tx.save_profiles([make_profile("p1")])
    assert store.get_profile("p1") is not None


# -- profiles ------------------------------------------------------------------------


def test_profiles_round_trip(store: Store) -> None:
    profile = rich_profile()
    with store.write() as tx:
        tx.save_profiles([profile, make_profile("p2", user_id="u2")])
        assert tx.load_profiles([profile.profile_id]) == {profile.profile_id: profile}
    loaded = store.get_profile(profile.profile_id)
    assert loaded == profile
    assert loaded is not None
    assert loaded.traits["big"] == BIG
    assert isinstance(loaded.traits["big"], int)
    assert loaded.created_at.utcoffset() is not None
    assert store.get_profile("missing") is None


def test_save_profiles_replaces_and_load_skips_unknown_ids(store: Store) -> None:
    with store.write() as tx:
        tx.save_profiles([make_profile("p1", version=1)])
    newer = Profile("p1", "u1", T0, at(1), version=2, traits={"plan": "pro"})
    with store.write() as tx:
        tx.save_profiles([newer])
        assert tx.load_profiles(["p1", "nope"]) == {"p1": newer}
        assert tx.load_profiles([]) == {}
    assert store.get_profile("p1") == newer


def test_load_profiles_reads_more_ids_than_one_query_holds(store: Store) -> None:
    profiles = [make_profile(f"p{i:04d}") for i in range(1203)]
    with store.write() as tx:
        tx.save_profiles(profiles)
    with store.write() as tx:
        loaded = tx.load_profiles(p.profile_id for p in profiles)
    assert loaded == {p.profile_id: p for p in profiles}


def test_delete_profile(store: Store) -> None:
    with store.write() as tx:
        tx.save_profiles([make_profile("p1"), make_profile("p2")])
    with store.write() as tx:
        tx.delete_profile("p1")
        tx.delete_profile("never-existed")
    assert store.get_profile("p1") is None
    assert store.get_profile("p2") is not None


def test_save_profiles_writes_the_user_id_whether_or_not_it_was_read(store: Store) -> None:
    with store.write() as tx:
        tx.save_profiles([make_profile("p1"), make_profile("p2", user_id="u2")])
    with store.write() as tx:
        loaded = tx.load_profiles(["p1", "p2"])
        tx.save_profiles(
            [replace(loaded["p1"], user_id="u1", version=2), replace(loaded["p2"], version=2)]
        )
    assert store.profile_stats()["identified"] == 2
    with store.write() as tx:
        loaded = tx.load_profiles(["p1", "p2"])
        tx.save_profiles([replace(loaded["p1"], version=3)])
        tx.save_profiles([replace(loaded["p1"], user_id=None, version=4)])  # saved twice
        tx.save_profiles([replace(loaded["p2"], user_id="u2b", version=3)])
        tx.save_profiles([make_profile("p3", user_id="u3")])  # never read
        tx.delete_profile("p2")
        tx.save_profiles([make_profile("p2", user_id="u2c")])  # deleted, then saved anew
    assert store.profile_stats() == {"profiles": 3, "identified": 2, "anonymous": 1, "events": 0}
    assert store.get_profile("p1") == replace(make_profile("p1"), version=4)
    assert store.get_profile("p2") == make_profile("p2", user_id="u2c")
    assert store.get_profile("p3") == make_profile("p3", user_id="u3")


def test_iter_profiles_yields_every_profile_in_batches(store: Store) -> None:
    profiles = [make_profile(f"p{i}", user_id=f"u{i}" if i % 2 else None) for i in range(7)]
    with store.write() as tx:
        tx.save_profiles(profiles)
    for batch_size in (1, 2, 7, 500):
        assert list(store.iter_profiles(batch_size=batch_size)) == profiles
    with pytest.raises(ValueError, match="batch_size"):
        next(store.iter_profiles(batch_size=0))


def test_iter_profiles_on_an_empty_store(store: Store) -> None:
    assert list(store.iter_profiles()) == []


def test_profile_stats(store: Store) -> None:
    assert store.profile_stats() == {"profiles": 0, "identified": 0, "anonymous": 0, "events": 0}
    with store.write() as tx:
        tx.save_profiles([make_profile("p1", user_id="u1"), make_profile("p2"), make_profile("p3")])
        tx.append_events([make_event(f"m{i}") for i in range(4)])
    assert store.profile_stats() == {"profiles": 3, "identified": 1, "anonymous": 2, "events": 4}


# -- deduplication -------------------------------------------------------------------


def test_seen_message_ids_per_source(store: Store) -> None:
    with store.write() as tx:
        assert tx.seen_message_ids("web", ["m1", "m2"]) == set()
        tx.mark_seen("web", ["m1", "m2", "m2"], T0)
        assert tx.seen_message_ids("web", ["m1", "m3"]) == {"m1"}  # read your own writes
    with store.write() as tx:
        tx.mark_seen("web", ["m2", "m3"], at(1))  # already-seen ids are fine
        tx.mark_seen("web", [], at(1))
        assert tx.seen_message_ids("web", ["m1", "m2", "m3", "m4"]) == {"m1", "m2", "m3"}
        assert tx.seen_message_ids("ios", ["m1", "m2"]) == set()  # sources are independent
        tx.mark_seen("ios", ["m1"], at(2))
        assert tx.seen_message_ids("ios", ["m1", "m2"]) == {"m1"}
        assert tx.seen_message_ids("web", []) == set()


def test_seen_message_ids_beyond_one_query(store: Store) -> None:
    ids = [f"msg-{i}" for i in range(1500)]
    with store.write() as tx:
        tx.mark_seen("web", ids[::2], T0)
    with store.write() as tx:
        assert tx.seen_message_ids("web", ids) == set(ids[::2])


# -- identities ----------------------------------------------------------------------


def test_identities_are_unique_and_the_first_writer_wins(store: Store) -> None:
    with store.write() as tx:
        tx.add_identities(
            [
                Identity("anonymous_id", "a1", "p1", T0),
                Identity("user_id", "u1", "p1", at(1)),
                Identity("user_id", "u1", "p9", at(1)),  # same batch, later: ignored
            ]
        )
    with store.write() as tx:
        tx.add_identities(
            [Identity("user_id", "u1", "p2", at(2)), Identity("user_id", "u2", "p2", at(2))]
        )
        tx.add_identities([])
        found = tx.lookup_identities(
            [
                ("user_id", "u1"),
                ("user_id", "u2"),
                ("anonymous_id", "a1"),
                ("user_id", "a1"),
                ("user_id", "nobody"),
            ]
        )
    assert found == {("user_id", "u1"): "p1", ("user_id", "u2"): "p2", ("anonymous_id", "a1"): "p1"}
    assert store.find_profile_id("user_id", "u1") == "p1"
    assert store.find_profile_id("anonymous_id", "u1") is None
    assert store.identities("p1") == [
        Identity("anonymous_id", "a1", "p1", T0),
        Identity("user_id", "u1", "p1", at(1)),
    ]
    assert store.identities("nobody") == []


def test_lookup_identities_beyond_one_query(store: Store) -> None:
    identities = [Identity("anonymous_id", f"a{i}", f"p{i % 7}", T0) for i in range(700)]
    with store.write() as tx:
        tx.add_identities(identities)
    with store.write() as tx:
        found = tx.lookup_identities([(i.kind, i.value) for i in identities] + [("user_id", "x")])
    assert found == {(i.kind, i.value): i.profile_id for i in identities}


def test_reassign_moves_everything_of_a_profile(store: Store) -> None:
    with store.write() as tx:
        tx.save_profiles([make_profile("from"), make_profile("into"), make_profile("other")])
        tx.add_identities(
            [Identity("anonymous_id", "a1", "from", T0), Identity("user_id", "u1", "into", T0)]
        )
        tx.add_identities([Identity("anonymous_id", "a2", "other", T0)])
        tx.append_events(
            [
                make_event("m1", "from", timestamp=at(1)),
                make_event("m2", "into"),
                make_event("m3", "other"),
            ]
        )
        tx.append_trait_changes([TraitChange("from", 1, "plan", None, "pro", at(1), "m1")])
        tx.append_consent([ConsentRecord("from", "analytics", True, "context", "m1", at(1))])
        tx.append_merges([MergeRecord("from", "into", "user_id", "merged", "m9", at(3))])
    with store.write() as tx:
        tx.reassign("from", "into")
        tx.delete_profile("from")
        tx.reassign("into", "into")  # a no-op
    assert store.find_profile_id("anonymous_id", "a1") == "into"
    assert {i.value for i in store.identities("into")} == {"a1", "u1"}
    assert [e.message_id for e in store.events("into")] == ["m1", "m2"]
    assert [c.profile_id for c in store.trait_history("into")] == ["into"]
    assert [c.profile_id for c in store.consent_history("into")] == ["into"]
    for moved in (store.identities, store.events, store.trait_history, store.consent_history):
        assert moved("from") == []
    assert [e.message_id for e in store.events("other")] == ["m3"]  # untouched
    assert store.identities("other") == [Identity("anonymous_id", "a2", "other", T0)]
    assert store.merges("into") == [MergeRecord("from", "into", "user_id", "merged", "m9", at(3))]
    assert store.get_profile("from") is None


# -- transactions --------------------------------------------------------------------


class Boom(Exception):
    pass


def write_everything_then_fail(store: Store) -> None:
    with store.write() as tx:
        tx.save_profiles([make_profile("p1")])
        tx.mark_seen("web", ["m1"], T0)
        tx.add_identities([Identity("user_id", "u1", "p1", T0)])
        tx.append_events([make_event("m1")])
        tx.append_trait_changes([TraitChange("p1", 1, "plan", None, "pro", T0, "m1")])
        tx.append_consent([ConsentRecord("p1", "analytics", True, "context", "m1", T0)])
        tx.append_merges([MergeRecord("p0", "p1", "user_id", "merged", "m1", T0)])
        tx.add_quarantine([entry()])
        tx.bump_counters("2026-03-01", "web", {"accepted": 1})
        tx.add_key(ApiKey("hash", "write", "web", "site", T0))
        raise Boom


def test_an_exception_rolls_back_every_write(store: Store) -> None:
    with pytest.raises(Boom):
        write_everything_then_fail(store)
    assert store.get_profile("p1") is None
    assert store.profile_stats() == {"profiles": 0, "identified": 0, "anonymous": 0, "events": 0}
    assert store.find_profile_id("user_id", "u1") is None
    assert store.trait_history("p1") == []
    assert store.consent_history("p1") == []
    assert store.merges("p1") == []
    assert store.quarantine() == []
    assert store.counters() == {}
    assert store.find_key("hash") is None
    with store.write() as tx:
        assert tx.seen_message_ids("web", ["m1"]) == set()


def test_a_clean_exit_commits(store: Store) -> None:
    with store.write() as tx:
        tx.mark_seen("web", ["m1"], T0)
    with store.write() as tx:
        assert tx.seen_message_ids("web", ["m1"]) == {"m1"}


def test_two_threads_write_concurrently(store: Store) -> None:
    rounds = 40
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def writer(name: str) -> None:
        try:
            start.wait()
            for i in range(rounds):
                with store.write() as tx:
                    fresh = {f"{name}-{i}"} - tx.seen_message_ids("web", [f"{name}-{i}"])
                    tx.mark_seen("web", sorted(fresh), T0)
                    tx.append_events([make_event(f"{name}-{i}", name)])
                    tx.bump_counters("2026-03-01", "web", {"accepted": 1})
                    tx.save_profiles([make_profile(name, version=i)])
        except BaseException as exc:  # reported below, with its message
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("t1", "t2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.counters() == {"accepted": 2 * rounds}
    assert store.profile_stats()["events"] == 2 * rounds
    assert len(store.events("t1", limit=1000)) == rounds


def test_writers_in_two_processes_never_both_claim_a_new_id(
    store: Store, store_url: str, clock: FixedClock
) -> None:
    """Two stores on one database (as two server processes) see each other's writes.

    Each writer reads whether an id is known and, if not, claims it for a new profile.
    Write transactions are serialized, so exactly one claims it and the other finds it.
    """
    key: tuple[IdentityKind, str] = ("user_id", "shared-user")
    outcomes: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def writer(name: str) -> None:
        try:
            with open_store(store_url, clock=clock) as other:
                start.wait()
                with other.write() as tx:
                    owner = tx.lookup_identities([key]).get(key)
                    if owner is None:
                        tx.save_profiles([make_profile(name, user_id="shared-user")])
                        tx.add_identities([Identity("user_id", "shared-user", name, T0)])
                        outcomes.append("claimed")
                    else:
                        outcomes.append(f"found {owner}")
        except BaseException as exc:  # reported below, with its message
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("p1", "p2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcomes)[0] == "claimed"
    assert sorted(outcomes)[1].startswith("found p")
    assert store.find_profile_id("user_id", "shared-user") in ("p1", "p2")


# -- event log and ledgers -----------------------------------------------------------


def test_events_round_trip_most_recent_first(store: Store) -> None:
    full = make_event(
        "m-full",
        type="page",
        name="Wélcome",
        user_id="u1",
        anonymous_id=None,
        timestamp=datetime(2026, 3, 1, 14, 30, 0, 123456, tzinfo=CEST),  # 12:30 UTC
        received_at=at(31),
        sent_at=at(30),
        original_timestamp=at(29),
        payload={
            "properties": {"title": "Ünïcode ✓", "big": BIG, "ratio": 0.1, "list": [1, "2", None]},
            "context": {"locale": "de-DE", "nested": {"deeper": {"deepest": []}}},
        },
        consent={"analytics": True, "marketing": False},
    )
    with store.write() as tx:
        tx.append_events(
            [make_event("m-early", timestamp=at(-10)), full, make_event("m-late", timestamp=at(60))]
        )
        tx.append_events([])
    events = store.events("p1")
    assert [e.message_id for e in events] == ["m-late", "m-full", "m-early"]
    assert events[1] == full
    for moment in (events[1].timestamp, events[1].received_at, events[1].sent_at):
        assert moment is not None
        assert moment.tzinfo == UTC
    assert events[1].timestamp == at(30) + timedelta(microseconds=123456)
    assert events[1].payload["properties"]["big"] == BIG
    assert [e.message_id for e in store.events("p1", limit=2)] == ["m-late", "m-full"]
    assert store.events("someone-else") == []


def test_events_with_equal_timestamps_come_newest_first(store: Store) -> None:
    with store.write() as tx:
        tx.append_events([make_event("first"), make_event("second")])
    with store.write() as tx:
        tx.append_events([make_event("third")])
    assert [e.message_id for e in store.events("p1")] == ["third", "second", "first"]


_example_ids = itertools.count()

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=st.dictionaries(st.text(), json_values, max_size=5), value=json_values)
def test_any_json_round_trips(store: Store, payload: dict[str, Any], value: Any) -> None:
    key = f"p-{next(_example_ids)}"  # examples share one store
    with store.write() as tx:
        tx.append_events([make_event("m", key, payload=payload)])
        tx.append_trait_changes([TraitChange(key, 1, "t", value, payload, T0, None)])
        [qid] = tx.add_quarantine([entry(payload=value)])
    assert store.events(key)[0].payload == payload
    assert store.trait_history(key) == [TraitChange(key, 1, "t", value, payload, T0, None)]
    record = store.quarantine_entry(qid)
    assert record is not None
    assert record.entry.payload == value


def test_trait_history_most_recent_first(store: Store) -> None:
    changes = [
        TraitChange("p1", 1, "plan", None, "free", at(0), "m1"),
        TraitChange("p1", 2, "plan", "free", {"tier": "pro", "seats": [1, 2]}, at(5), None),
        TraitChange("p1", 2, "name", "Zoë", "Zoé", at(5), "m2"),
        TraitChange("p2", 1, "plan", None, "free", at(9), "m3"),
    ]
    with store.write() as tx:
        tx.append_trait_changes(changes)
        tx.append_trait_changes([])
    assert store.trait_history("p1") == [changes[2], changes[1], changes[0]]
    assert store.trait_history("p1", limit=1) == [changes[2]]
    assert store.trait_history("p3") == []


def test_consent_history_oldest_first(store: Store) -> None:
    records = [
        ConsentRecord("p1", "marketing", False, "traits", None, at(2)),
        ConsentRecord("p1", "analytics", True, "context", "m1", at(1)),
        ConsentRecord("p2", "analytics", True, "context", "m2", at(0)),
        ConsentRecord("p1", "analytics", False, "context", "m3", at(3)),
    ]
    with store.write() as tx:
        tx.append_consent(records)
        tx.append_consent([])
    assert store.consent_history("p1") == [records[1], records[0], records[3]]
    assert store.consent_history("nobody") == []


def test_merges_into_or_out_of_a_profile_oldest_first(store: Store) -> None:
    merges = [
        MergeRecord("p2", "p1", "user_id", "merged", "m2", at(2)),
        MergeRecord("p1", "p3", "alias", "refused", None, at(1)),
        MergeRecord("p4", "p5", "user_id", "merged", "m3", at(0)),
    ]
    with store.write() as tx:
        tx.append_merges(merges)
        tx.append_merges([])
    assert store.merges("p1") == [merges[1], merges[0]]
    assert store.merges("p5") == [merges[2]]
    assert store.merges("p9") == []


# -- quarantine ----------------------------------------------------------------------


def test_quarantine_add_list_and_filter(store: Store) -> None:
    raw = entry(
        "invalid_json",
        payload='{"type": "track", oops',
        message="Not JSON",
        request_ip="203.0.113.9",
    )
    detailed = entry("bad_type", field="properties.plan", message_id="m7", received_at=at(1))
    with store.write() as tx:
        ids = tx.add_quarantine([entry(), raw, detailed])
        assert tx.add_quarantine([]) == []
    assert len(ids) == 3
    assert ids == sorted(ids)
    records = store.quarantine()
    assert [r.id for r in records] == ids[::-1]  # newest first
    assert [r.entry for r in records] == [detailed, raw, entry()]
    assert {r.status for r in records} == {"pending"}
    assert all(r.resolved_at is None and r.note is None for r in records)
    assert [r.id for r in store.quarantine(reason="invalid_json")] == [ids[1]]
    assert store.quarantine(reason="nothing-like-this") == []
    assert store.quarantine(status="replayed") == []
    assert [r.id for r in store.quarantine(status="pending", reason="bad_type")] == [ids[2]]
    entry_record = store.quarantine_entry(ids[1])
    assert entry_record is not None
    assert entry_record.entry == raw
    assert entry_record.entry.payload == '{"type": "track", oops'
    assert store.quarantine_entry(ids[-1] + 1000) is None


def test_quarantine_paging(store: Store) -> None:
    with store.write() as tx:
        ids = tx.add_quarantine([entry(message=f"n{i}") for i in range(7)])
    newest_first = ids[::-1]
    pages = [store.quarantine(limit=3, offset=offset) for offset in (0, 3, 6, 9)]
    assert [[r.id for r in page] for page in pages] == [
        newest_first[:3],
        newest_first[3:6],
        newest_first[6:],
        [],
    ]


def test_quarantine_resolve_and_reasons(store: Store, clock: FixedClock) -> None:
    with store.write() as tx:
        ids = tx.add_quarantine(
            [entry("missing_id"), entry("missing_id"), entry("bad_type"), entry("too_large")]
        )
    assert store.quarantine_reasons() == {"missing_id": 2, "bad_type": 1, "too_large": 1}
    clock.advance(timedelta(hours=1))
    with store.write() as tx:
        tx.resolve_quarantine(ids[0], "replayed", "accepted")
        tx.resolve_quarantine(ids[2], "discarded", "test traffic")
    assert store.quarantine_reasons() == {"missing_id": 1, "too_large": 1}
    replayed = store.quarantine_entry(ids[0])
    assert replayed is not None
    assert (replayed.status, replayed.note, replayed.resolved_at) == (
        "replayed",
        "accepted",
        clock.now(),
    )
    assert replayed.entry == entry("missing_id")  # kept, never deleted
    assert [r.id for r in store.quarantine(status="discarded")] == [ids[2]]
    assert len(store.quarantine()) == 4
    with pytest.raises(NotFound), store.write() as tx:
        tx.resolve_quarantine(ids[-1] + 1000, "discarded", "no such entry")


# -- counters and keys ---------------------------------------------------------------


def test_counters_add_up_across_calls_days_and_sources(store: Store) -> None:
    with store.write() as tx:
        tx.bump_counters("2026-03-01", "web", {"accepted": 3, "duplicate": 1})
        tx.bump_counters("2026-03-01", "web", {"accepted": 2})
    with store.write() as tx:
        tx.bump_counters("2026-03-02", "web", {"accepted": 5, "quarantined": 2})
        tx.bump_counters("2026-03-02", "ios", {"accepted": 10**12})
        tx.bump_counters("2026-03-02", "ios", {})
    assert store.counters() == {"accepted": 10 + 10**12, "duplicate": 1, "quarantined": 2}
    assert store.counters(source_id="web") == {"accepted": 10, "duplicate": 1, "quarantined": 2}
    assert store.counters(source_id="ios") == {"accepted": 10**12}
    assert store.counters(source_id="android") == {}


def test_keys(store: Store) -> None:
    write_key = ApiKey(
        "a" * 64, "write", "web", "Marketing site ✓", datetime(2026, 1, 1, 9, tzinfo=CEST)
    )
    server_key = ApiKey("b" * 64, "server", "backend", "API", T0)
    with store.write() as tx:
        tx.add_key(write_key)
        tx.add_key(server_key)
    assert store.find_key("a" * 64) == write_key
    assert store.find_key("b" * 64) == server_key
    assert store.find_key("c" * 64) is None
