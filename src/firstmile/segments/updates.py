"""What a profile update does to segment membership (pure).

:func:`segment_updates` compares each updated profile with its state before the
transaction, re-evaluates the segments that can have changed, and returns the
membership changes to store plus the ``Segment Entered`` / ``Segment Exited`` events
for the event log (only for users whose consent allows ``analytics``: the membership
itself is kept either way, since it is what personalization reads).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from firstmile.events.consent import ConsentPolicy
from firstmile.events.model import Purpose
from firstmile.profiles.model import Profile
from firstmile.segments.attributes import profile_attributes
from firstmile.segments.engine import SegmentEngine, changed_roots, membership_changes
from firstmile.storage.base import SegmentChange, StoredEvent

SEGMENT_SOURCE = "firstmile"
EVENT_NAMES = {"entered": "Segment Entered", "exited": "Segment Exited"}


@dataclass(frozen=True, slots=True)
class SegmentUpdates:
    """Rows to write for one transaction's membership changes."""

    changes: list[SegmentChange] = field(default_factory=list)
    events: list[StoredEvent] = field(default_factory=list)


def _message_id(profile_id: str, key: str, change: str, at: datetime) -> str:
    # Deterministic, so a retried transaction cannot log the same change twice.
    digest = hashlib.blake2b(
        f"{profile_id}|{key}|{change}|{at.isoformat()}".encode(), digest_size=16
    )
    return f"seg-{digest.hexdigest()}"


def _event(
    profile: Profile, change: SegmentChange, name: str, consent: dict[str, bool]
) -> StoredEvent:
    return StoredEvent(
        source_id=SEGMENT_SOURCE,
        message_id=_message_id(change.profile_id, change.segment_key, change.change, change.at),
        profile_id=change.profile_id,
        type="track",
        name=EVENT_NAMES[change.change],
        user_id=profile.user_id,
        anonymous_id=None,
        timestamp=change.at,
        received_at=change.at,
        sent_at=None,
        original_timestamp=None,
        payload={
            "properties": {
                "segment_key": change.segment_key,
                "segment_name": name,
                "config_version": change.config_version,
            }
        },
        consent=consent,
    )


def segment_updates(
    engine: SegmentEngine,
    *,
    policy: ConsentPolicy,
    now: datetime,
    before: Mapping[str, Profile | None],
    after: Mapping[str, Profile],
    memberships: Mapping[str, Mapping[str, datetime]],
    only_time_dependent: bool = False,
) -> SegmentUpdates:
    """Membership changes for the profiles in ``after``.

    ``before`` holds each profile as it was (``None`` for a new or merged one: evaluate
    every segment); ``memberships`` the current memberships. With
    ``only_time_dependent`` (the sweeper), only segments that change with time alone are
    evaluated.
    """
    updates = SegmentUpdates()
    names = {s.key: s.name for s in engine.config.segments}
    declared = frozenset(engine.segment_keys)
    for profile_id, profile in after.items():
        current = memberships.get(profile_id, {})
        attributes = profile_attributes(profile, now=now, policy=policy)
        only: set[str] | None
        if only_time_dependent:
            only = set(engine.time_dependent)
        else:
            old = before.get(profile_id)
            only = (
                None
                if old is None
                else engine.affected(
                    changed_roots(profile_attributes(old, now=now, policy=policy), attributes)
                )
            )
        if only is not None and not only and all(key in declared for key in current):
            continue
        evaluation = engine.evaluate(attributes, now, previous=current.keys(), only=only)
        # Memberships of segments the config no longer declares are ended too.
        removed = [key for key in current if key not in declared]
        diff = membership_changes(
            current.keys(), evaluation.members, (*engine.segment_keys, *removed)
        )
        if not diff:
            continue
        consent = policy.state(profile.consent)
        for item in diff:
            change = SegmentChange(
                profile_id,
                item.segment_key,
                item.change,
                now,
                engine.version,
            )
            updates.changes.append(change)
            if consent[Purpose.ANALYTICS.value]:
                updates.events.append(
                    _event(profile, change, names.get(item.segment_key, item.segment_key), consent)
                )
    return updates
