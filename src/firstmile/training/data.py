"""Reading what training needs from the store: consenting profiles and their events.

Only users who granted (or, under an opt-out regime, did not deny) ``personalization``
are trained on: a user without that consent gets no model-based decision, and their
data shapes no model either.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from firstmile.events.consent import ConsentPolicy
from firstmile.events.model import Purpose
from firstmile.profiles.model import Profile
from firstmile.segments.attributes import profile_attributes
from firstmile.segments.updates import SEGMENT_SOURCE
from firstmile.storage import Store
from firstmile.storage.base import StoredEvent

_PERSONALIZATION = Purpose.PERSONALIZATION.value


def consenting(profile: Profile, policy: ConsentPolicy) -> bool:
    """Whether the profile may be trained on and personalized by models."""
    return bool(policy.state(profile.consent).get(_PERSONALIZATION))


def training_profiles(store: Store, policy: ConsentPolicy) -> tuple[list[Profile], int]:
    """The profiles with ``personalization`` consent, and how many were left out.

    They come sorted by user id (then first seen, then profile id): profile ids are
    random, and the order fixes the cross-validation folds, so the same data must give
    the same folds and the same figures.
    """
    kept: list[Profile] = []
    left_out = 0
    for profile in store.iter_profiles():
        if consenting(profile, policy):
            kept.append(profile)
        else:
            left_out += 1
    kept.sort(key=_stable_key)
    return kept, left_out


def _stable_key(profile: Profile) -> tuple[str, str, str]:
    first = profile.computed.first_seen or profile.created_at
    return (profile.user_id or "\uffff", first.isoformat(), profile.profile_id)


def attribute_rows(
    profiles: Iterable[Profile], *, now: datetime, policy: ConsentPolicy
) -> list[dict[str, Any]]:
    """The attributes object of each profile, as conditions and decide read it."""
    return [profile_attributes(p, now=now, policy=policy) for p in profiles]


PROFILES_PER_BATCH = 1000  # the events of this many profiles are in memory at once


def events_by_profile(
    store: Store, profiles: Sequence[Profile]
) -> Iterator[tuple[Sequence[Profile], dict[str, list[StoredEvent]]]]:
    """The events these profiles' apps sent, a batch of profiles at a time (in the order
    given, with their events by profile id, each sorted by time): memory holds one batch,
    not the whole event log.

    firstmile's own events (segment entries and exits, written by ingest and the sweeper)
    are left out: the live profile never counts them, and a sweeper's "Segment Exited"
    is not the user coming back.
    """
    for start in range(0, len(profiles), PROFILES_PER_BATCH):
        batch = profiles[start : start + PROFILES_PER_BATCH]
        ids = [p.profile_id for p in batch]
        yield batch, store.events_of_profiles(ids, exclude_source=SEGMENT_SOURCE)
