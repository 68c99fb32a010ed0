"""The segment sweeper: membership that changes with time alone.

Relative-time conditions (``$within``, ``$olderThan``), rolling windows
(``events.<name>.count_1d``) and decaying scores move users in and out of segments with no
new event. ``serve`` calls :func:`sweep_segments` on a schedule
(``sweep_interval_seconds``).
"""

from __future__ import annotations

from datetime import datetime

from firstmile.events.consent import ConsentPolicy
from firstmile.segments.engine import SegmentEngine
from firstmile.segments.updates import segment_updates
from firstmile.storage.base import Store


def sweep_segments(
    store: Store,
    engine: SegmentEngine,
    policy: ConsentPolicy,
    *,
    now: datetime,
    batch_size: int = 500,
    full: bool = False,
) -> int:
    """Re-evaluate the segments that change with time alone, for every profile.

    Relative-time conditions, rolling windows and decaying scores move users in and out
    of segments with no new event; ``serve`` runs this on a schedule. With ``full`` every
    segment is evaluated (after a new config version: added segments fill, removed ones
    end). Returns how many membership changes were made.
    """
    if not engine.time_dependent and not full:
        return 0
    changed = 0
    ids: list[str] = []

    def run(chunk: list[str]) -> int:
        with store.write() as tx:
            profiles = tx.load_profiles(chunk)
            updates = segment_updates(
                engine,
                policy=policy,
                now=now,
                before={},
                after=profiles,
                memberships=tx.load_memberships(chunk),
                only_time_dependent=not full,
            )
            tx.apply_segment_changes(updates.changes)
            tx.append_events(updates.events)
        return len(updates.changes)

    for profile in store.iter_profiles(batch_size=batch_size):
        ids.append(profile.profile_id)
        if len(ids) >= batch_size:
            changed += run(ids)
            ids = []
    if ids:
        changed += run(ids)
    return changed
