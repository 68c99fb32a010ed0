"""The decoded-profile cache: version-checked hits, LRU eviction, and scans that warm it
without evicting what decide uses."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from firstmile.profiles.model import Profile
from firstmile.storage import open_store
from firstmile.storage.base import Identity
from firstmile.storage.cache import ProfileCache
from firstmile.storage.sql import SqlStore

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)


def _profile(n: int, version: int = 1) -> Profile:
    return Profile(f"p{n}", f"u{n}", T0, T0, version=version)


def test_offer_fills_free_room_only_and_never_evicts() -> None:
    cache = ProfileCache(size=2)
    cache.put(_profile(1))
    cache.offer(_profile(2))
    cache.offer(_profile(3))  # full: refused, p1 (in use) stays
    assert cache.get("p1", 1) is not None
    assert cache.get("p2", 1) is not None
    assert cache.get("p3", 1) is None


def test_an_offered_profile_is_evicted_before_the_ones_in_use() -> None:
    cache = ProfileCache(size=2)
    cache.put(_profile(1))
    cache.offer(_profile(2))
    cache.put(_profile(3))  # evicts the least recently used: the offered p2
    assert cache.get("p2", 1) is None
    assert cache.get("p1", 1) is not None


def test_offer_keeps_a_newer_cached_version() -> None:
    cache = ProfileCache(size=4)
    cache.put(_profile(1, version=2))
    cache.offer(_profile(1, version=1))
    assert cache.get("p1", 2) is not None


def test_a_full_scan_warms_the_decide_cache(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'firstmile.db'}") as store:
        assert isinstance(store, SqlStore)
        store.migrate()
        with store.write() as tx:
            tx.save_profiles([_profile(n) for n in range(3)])
            tx.add_identities([Identity("user_id", f"u{n}", f"p{n}", T0) for n in range(3)])
        # A fresh store on the same file: nothing cached yet.
    with open_store(f"sqlite:///{tmp_path / 'firstmile.db'}") as store:
        scanned = {p.profile_id: p for p in store.iter_profiles()}
        # The decide read finds the very object the scan decoded: no second decoding.
        assert store.profile_for("user_id", "u1") is scanned["p1"]


def test_warm_cache_fills_the_cache_from_the_most_recent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'firstmile.db'}"
    with open_store(url) as store:
        store.migrate()
        with store.write() as tx:
            tx.save_profiles([_profile(n) for n in range(3)])
    with open_store(url) as store:
        assert isinstance(store, SqlStore)
        assert store._profile_cache.get("p1", 1) is None
        assert store.warm_cache() == 3
        assert store._profile_cache.get("p1", 1) is not None
