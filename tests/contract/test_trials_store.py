"""The experiments part of the store contract: members, sufficient statistics, bandit
weights, and events since a time. Run on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from firstmile.profiles.model import Profile
from firstmile.storage import Store
from firstmile.storage.base import BanditWeights, StoredEvent, TrialMember

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)


def _member(profile_id: str, trial: str = "welcome", variant: str = "control") -> TrialMember:
    return TrialMember(
        trial_key=trial,
        profile_id=profile_id,
        kind="experiment",
        variant=variant,
        context="",
        propensity=None,
        hash_attribute="user_id",
        hash_value=f"user-{profile_id}",
        exposed_at=T0,
        config_version="v1",
        states={"activated": (0.0, 0.0, 2.0)},
    )


def test_members_are_recorded_once_and_read_by_profile_and_trial(store: Store) -> None:
    with store.write() as tx:
        tx.add_trial_members([_member("p1"), _member("p2", variant="friendly")])
    with store.write() as tx:
        # A second first exposure of the same (trial, profile) is ignored.
        tx.add_trial_members([_member("p1", variant="friendly")])
        found = tx.trial_members_of(["p1", "p2", "p3"])
        assert [(m.profile_id, m.variant) for m in found] == [("p1", "control"), ("p2", "friendly")]
        assert tx.trial_members_of(["p1"], ["other"]) == []
    assert store.trial_members("p1") == [_member("p1")]
    assert [m.profile_id for m in store.trial_logs("welcome")] == ["p1", "p2"]


def test_states_are_replaced_and_stats_add_up(store: Store) -> None:
    with store.write() as tx:
        tx.add_trial_members([_member("p1")])
        tx.save_trial_states([("welcome", "p1", {"activated": (1.0, 0.0, 2.0)})])
        tx.add_trial_stats({("welcome", "", "control", "activated"): (1, 0.0, 0.0, 2.0, 4.0, 0.0)})
    with store.write() as tx:
        tx.add_trial_stats(
            {
                ("welcome", "", "control", "activated"): (0, 1.0, 1.0, 0.0, 0.0, 2.0),
                ("welcome", "", "control", ""): (1, 0.0, 0.0, 0.0, 0.0, 0.0),
            }
        )
    assert store.trial_members("p1")[0].states == {"activated": (1.0, 0.0, 2.0)}
    assert store.trial_stats("welcome") == {
        ("welcome", "", "control", "activated"): (1, 1.0, 1.0, 2.0, 4.0, 2.0),
        ("welcome", "", "control", ""): (1, 0.0, 0.0, 0.0, 0.0, 0.0),
    }
    assert store.trial_stats("other") == {}


def test_bandit_weights_keep_the_latest_per_context(store: Store) -> None:
    first = BanditWeights("tip", "", {"a": 0.5, "b": 0.5}, 1, T0, "v1", {"reason": "warming up"})
    mobile = BanditWeights("tip", "mobile", {"a": 0.2, "b": 0.8}, 1, T0, "v1", {})
    later = BanditWeights(
        "tip", "", {"a": 0.1, "b": 0.9}, 2, T0 + timedelta(hours=1), "v1", {"reason": "thompson"}
    )
    with store.write() as tx:
        tx.save_bandit_weights([first, mobile])
    with store.write() as tx:
        tx.save_bandit_weights([later])
    assert store.bandit_weights("tip") == [later, mobile]
    assert store.bandit_weights() == [later, mobile]
    assert store.bandit_weights("other") == []


def test_events_since_reads_a_profiles_events_from_a_time(store: Store) -> None:
    def event(n: int, at: datetime, profile_id: str = "p1") -> StoredEvent:
        return StoredEvent(
            "web", f"m{n}", profile_id, "track", "Project Created", "u1", None, at, at,
            None, None, {"properties": {"n": n}}, {"analytics": True},
        )  # fmt: skip

    with store.write() as tx:
        tx.save_profiles([Profile("p1", "u1", T0, T0)])
        tx.append_events(
            [event(1, T0 - timedelta(days=1)), event(2, T0), event(3, T0 + timedelta(hours=1))]
        )
        tx.append_events([event(4, T0, profile_id="p2")])
    with store.write() as tx:
        found = tx.events_since("p1", T0)
    assert [e.message_id for e in found] == ["m2", "m3"]
    assert found[1].payload["properties"] == {"n": 3}


def test_merges_move_memberships_and_keep_the_known_profiles(store: Store) -> None:
    with store.write() as tx:
        tx.add_trial_members(
            [
                _member("anon", trial="welcome", variant="friendly"),
                _member("anon", trial="tips"),
                _member("known", trial="welcome", variant="control"),
            ]
        )
    with store.write() as tx:
        tx.reassign("anon", "known")
    moved = store.trial_members("known")
    assert [(m.trial_key, m.variant) for m in moved] == [
        ("tips", "control"),
        ("welcome", "control"),
    ]
    assert store.trial_members("anon") == []
