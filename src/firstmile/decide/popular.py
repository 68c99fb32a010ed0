"""Popular-in-segment recommendations: the baseline until the ML issue's recommenders.

An item is popular in a segment when many of the segment's members completed it
(``Step Completed`` or its completion event). :class:`Popularity` is built from the
stored profiles in the background and read by every decision.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from firstmile.config.onboarding import ContentItem, OnboardingPlanConfig
from firstmile.profiles.model import Profile

RECOMMENDABLE_KINDS: Final = frozenset({"feature_tip", "tutorial"})


def recommendable(plan: OnboardingPlanConfig) -> list[ContentItem]:
    """The catalogue items the recommendations slot may hold, by id."""
    return sorted(
        (item for item in plan.catalog.values() if item.kind in RECOMMENDABLE_KINDS),
        key=lambda item: item.id,
    )


def completed_items(profile: Profile, items: Iterable[ContentItem]) -> dict[str, datetime | None]:
    """The items of ``items`` the user has done, with when when known.

    Done is what decide counts as done: a ``Step Completed`` for the item (its time is
    kept), or the item's own completion event sent at least once (its time is not kept
    per item: ``None``).
    """
    out: dict[str, datetime | None] = {}
    counts = profile.computed.event_counts
    for item in items:
        state = profile.content.get(item.id)
        if state is not None and state.completed_at is not None:
            out[item.id] = state.completed_at
        elif item.completion_event is not None and counts.get(item.completion_event):
            out[item.id] = None
    return out


ALL_USERS: Final = "*"  # the pseudo-segment of every user: the cold-start ranking
KEPT_PER_SEGMENT: Final = 20


@dataclass(frozen=True, slots=True)
class Popularity:
    """Per segment, the items its members completed most: ``[(item_id, users)]``."""

    by_segment: Mapping[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)

    def for_user(
        self, segments: Iterable[str], *, limit: int = 10
    ) -> tuple[tuple[str, str, int], ...]:
        """``(item_id, segment, users)`` for someone in ``segments``, best first.

        Each item appears once, under the segment where it is most completed; items
        popular with everyone follow, for users in no segment with data.
        """
        best: dict[str, tuple[int, str]] = {}
        for segment in segments:
            for item, users in self.by_segment.get(segment, ()):
                if users > best.get(item, (0, ""))[0]:
                    best[item] = (users, segment)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))
        out = [(item, segment, users) for item, (users, segment) in ranked]
        seen = set(best)
        for item, users in self.by_segment.get(ALL_USERS, ()):
            if item not in seen:
                out.append((item, ALL_USERS, users))
        return tuple(out[:limit])


def popularity(
    users: Iterable[tuple[Iterable[str], Iterable[str]]], *, eligible: frozenset[str]
) -> Popularity:
    """Count, per segment, the users who completed each ``eligible`` item.

    ``users`` yields ``(segment keys, completed item ids)`` per user.

    >>> p = popularity([(["pro"], ["tip_a"]), (["pro"], ["tip_a", "tip_b"]), ([], ["tip_b"])],
    ...                eligible=frozenset({"tip_a", "tip_b"}))
    >>> p.for_user(["pro"])
    (('tip_a', 'pro', 2), ('tip_b', 'pro', 1))
    >>> p.for_user([])
    (('tip_a', '*', 2), ('tip_b', '*', 2))
    """
    counts: dict[str, Counter[str]] = {}
    for segments, completed in users:
        done = [item for item in completed if item in eligible]
        if not done:
            continue
        for segment in (*segments, ALL_USERS):
            counts.setdefault(segment, Counter()).update(done)
    return Popularity(
        {
            segment: tuple(
                sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:KEPT_PER_SEGMENT]
            )
            for segment, counter in counts.items()
        }
    )
