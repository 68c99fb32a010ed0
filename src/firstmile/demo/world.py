"""The seeded randomness and the time window every part of the population draws from."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

__all__ = ["LATEST", "WINDOW", "World"]

T = TypeVar("T")

WINDOW = timedelta(days=14)
# Nothing is dated in the last minutes before `now`: the events must already have
# happened when the simulation sends them, whatever the clock does meanwhile.
LATEST = timedelta(minutes=3)

_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


class World:
    """One population's draws: all randomness goes through ``self.rng``, in one order.

    Every message is dated between ``start`` (``now`` minus :data:`WINDOW`) and
    ``latest`` (``now`` minus :data:`LATEST`).
    """

    def __init__(self, seed: int, now: datetime) -> None:
        # Reproducible simulation data, not security: a seeded PRNG is what we want.
        self.rng = random.Random(seed)  # noqa: S311
        self.now = now.astimezone(UTC)
        self.start = self.now - WINDOW
        self.latest = self.now - LATEST
        self.user_ids: set[str] = set()

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def sdk_message_id(self) -> str:
        return self.uuid4()  # segment-analytics-python uses uuid4

    def browser_message_id(self) -> str:
        return f"ajs-next-{self.rng.getrandbits(128):032x}"  # analytics-next's prefix

    def user_id(self) -> str:
        """A new user id, unique in the population."""
        while True:
            candidate = "usr_" + "".join(self.rng.choice(_ID_ALPHABET) for _ in range(8))
            if candidate not in self.user_ids:
                self.user_ids.add(candidate)
                return candidate

    def minutes(self, low: float, high: float) -> timedelta:
        return timedelta(minutes=self.rng.uniform(low, high))

    def hours(self, low: float, high: float) -> timedelta:
        return timedelta(hours=self.rng.uniform(low, high))

    def weighted(self, options: Sequence[T], weights: Sequence[float]) -> T:
        return self.rng.choices(options, weights=weights, k=1)[0]
