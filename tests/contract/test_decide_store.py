"""The decide part of the store contract: cached profile reads, exposures, config versions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from firstmile.profiles.content import ContentState
from firstmile.profiles.model import Profile
from firstmile.storage import Store
from firstmile.storage.base import ConfigVersion, Exposure, Identity, IdentityKind

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)


def _store_profile(store: Store, profile: Profile, *ids: tuple[IdentityKind, str]) -> None:
    with store.write() as tx:
        tx.save_profiles([profile])
        tx.add_identities([Identity(kind, value, profile.profile_id, T0) for kind, value in ids])


def test_profile_for_follows_every_new_version(store: Store) -> None:
    assert store.profile_for("user_id", "ana") is None
    first = Profile("p1", "ana", T0, T0, version=1, traits={"plan": "trial"})
    _store_profile(store, first, ("user_id", "ana"), ("anonymous_id", "a-1"))
    assert store.profile_for("user_id", "ana") == first
    assert store.profile_for("anonymous_id", "a-1") == first
    assert store.profile_for("anonymous_id", "ana") is None  # kinds are apart
    # A newer version written behind the cache's back is read, not the cached one.
    second = replace(
        first,
        version=2,
        traits={"plan": "pro"},
        content={"welcome": ContentState(1, (T0,))},
    )
    with store.write() as tx:
        tx.save_profiles([second])
    assert store.profile_for("user_id", "ana") == second
    assert store.profile_for("user_id", "ana") is store.profile_for("user_id", "ana")


def test_exposures_are_kept_once_per_profile_item_and_day(store: Store) -> None:
    day = T0.date().isoformat()
    first = Exposure("p1", "welcome", day, "welcome", "v1", T0)
    with store.write() as tx:
        tx.record_exposures([first, Exposure("p1", "tip", day, "tips", "v1", T0)])
    with store.write() as tx:
        later = replace(first, first_at=T0 + timedelta(hours=1), config_version="v2")
        tomorrow = replace(first, day=(T0 + timedelta(days=1)).date().isoformat())
        tx.record_exposures([later, tomorrow])
    exposures = store.exposures("p1")
    assert sorted((e.item_id, e.day, e.config_version) for e in exposures) == [
        ("tip", day, "v1"),
        ("welcome", day, "v1"),  # the first one of the day stays
        ("welcome", tomorrow.day, "v1"),
    ]
    assert store.exposures("nobody") == []


def test_config_versions_are_recorded_once_and_found_by_prefix(store: Store) -> None:
    a = ConfigVersion("aaaa11112222", T0, "/etc/firstmile.yaml", "version: 1\n")
    b = ConfigVersion("aaaa33334444", T0 + timedelta(minutes=5), None, "version: 1\nsegments: []\n")
    with store.write() as tx:
        assert tx.record_config_version(a)
        assert not tx.record_config_version(a)
        assert tx.record_config_version(b)
    assert [v.version_id for v in store.config_versions()] == [b.version_id, a.version_id]
    assert store.config_version("aaaa1") == a
    assert store.config_version("aaaa") is None  # names two
    assert store.config_version("zzz") is None
    assert store.config_version("aaaa_") is None  # no LIKE wildcards
    assert store.config_version(b.version_id) == b


def test_warm_cache_reads_the_most_recent_profiles(store: Store) -> None:
    profiles = [
        Profile(f"w{n}", f"wu{n}", T0, T0 + timedelta(minutes=n), version=1) for n in range(5)
    ]
    for profile in profiles:
        _store_profile(store, profile, ("user_id", profile.user_id or ""))
    assert store.warm_cache(limit=3) == 3
    assert store.warm_cache(limit=0) == 0
    assert store.warm_cache() == 5
    # Reads are the same whether the cache was warmed or not.
    assert store.profile_for("user_id", "wu4") == profiles[4]
