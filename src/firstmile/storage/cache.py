"""A bounded, thread-safe cache of decoded profiles, checked by version on every read."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Final

from firstmile.profiles.model import Profile

PROFILES_CACHED: Final = 20_000


class ProfileCache:
    """Least-recently-used profiles by id; a hit needs the stored version to match.

    Profiles are immutable, so one object can be handed to any number of threads.
    """

    def __init__(self, size: int = PROFILES_CACHED) -> None:
        self._size = size
        self._items: OrderedDict[str, Profile] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, profile_id: str, version: int) -> Profile | None:
        """The cached profile if it is at ``version``; otherwise ``None``."""
        with self._lock:
            profile = self._items.get(profile_id)
            if profile is None or profile.version != version:
                return None
            self._items.move_to_end(profile_id)
            return profile

    @property
    def size(self) -> int:
        """How many profiles the cache holds at most."""
        return self._size

    def offer(self, profile: Profile) -> None:
        """Keep ``profile`` only if there is room: a full scan warms an empty cache but
        never evicts the profiles in use."""
        with self._lock:
            if len(self._items) < self._size and profile.profile_id not in self._items:
                self._items[profile.profile_id] = profile
                self._items.move_to_end(profile.profile_id, last=False)

    def put(self, profile: Profile) -> None:
        with self._lock:
            self._items[profile.profile_id] = profile
            self._items.move_to_end(profile.profile_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
