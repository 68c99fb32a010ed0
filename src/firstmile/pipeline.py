"""The ingest pipeline: validated events in, one transaction out.

:func:`ingest` owns the transaction. Inside it: deduplicate by ``(source, messageId)``,
resolve identities, apply consent, reduce profiles, and write the event log, trait
history, consent ledger, merges, quarantine and counters — all or nothing. The stages
themselves are pure functions in :mod:`firstmile.events` and :mod:`firstmile.profiles`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any, TypeVar

from firstmile.config.experiments import ExperimentsConfig
from firstmile.events.consent import ConsentPolicy, changed_decisions, consent_source
from firstmile.events.model import Event, Purpose, Rejection
from firstmile.profiles.identity import IdKey, resolve
from firstmile.profiles.model import ConsentDecision, Profile
from firstmile.profiles.reduce import apply_event, merge_profiles
from firstmile.segments.engine import SegmentEngine
from firstmile.segments.updates import segment_updates
from firstmile.storage.base import (
    ConsentRecord,
    Identity,
    MergeRecord,
    QuarantineEntry,
    SegmentChange,
    Store,
    StoredEvent,
    TraitChange,
    WriteTransaction,
)
from firstmile.trials import record_events


@dataclass(frozen=True, slots=True)
class QuarantinedItem:
    """Where a rejected message went: its position in the request and quarantine id."""

    index: int
    quarantine_id: int
    reason: str
    message: str
    field: str | None


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What happened to the messages of one request."""

    accepted: int = 0
    duplicates: int = 0
    suppressed: int = 0  # accepted, but not kept: the user denied `analytics`
    quarantined: tuple[QuarantinedItem, ...] = ()
    profile_ids: tuple[str, ...] = field(default=())

    def to_body(self) -> dict[str, Any]:
        """The tracking API's 200 body (clients only need ``success``)."""
        return {
            "success": True,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "suppressed": self.suppressed,
            "quarantined": [
                {"index": q.index, "id": q.quarantine_id, "reason": q.reason, "message": q.message}
                for q in self.quarantined
            ],
        }


@dataclass(frozen=True, slots=True)
class PipelineOptions:
    """The settings the pipeline reads."""

    policy: ConsentPolicy
    session_timeout: timedelta = timedelta(minutes=30)
    segments: SegmentEngine | None = None  # None: no onboarding config loaded
    trials: ExperimentsConfig | None = None  # experiments and bandits whose metrics to feed


# A stored record that names its profile (what a merge may have to redirect).
R = TypeVar("R", Identity, StoredEvent, TraitChange, ConsentRecord)

_ENRICHMENT_KEYS = (
    "device_type",
    "os",
    "os_version",
    "browser",
    "browser_version",
    "country",
    "locale",
    "timezone",
)
# Reads the eight fields in one C call, in _ENRICHMENT_KEYS order (every event needs them).
_enrichment_values = attrgetter(*_ENRICHMENT_KEYS)


# Looked up once: an enum member's .value goes through a descriptor on every access.
_ANALYTICS = Purpose.ANALYTICS.value


def _new_profile_id() -> str:
    return uuid.uuid4().hex


def _event_row(
    event: Event, profile_id: str, source_id: str, consent: dict[str, bool]
) -> StoredEvent:
    enrichment = zip(_ENRICHMENT_KEYS, _enrichment_values(event.enrichment), strict=True)
    payload: dict[str, Any] = {
        "properties": event.properties,
        "traits": event.traits,
        "context": event.context,
        "integrations": event.integrations,
        "enrichment": {key: value for key, value in enrichment if value is not None},
    }
    for key, value in (
        ("category", event.category),
        ("groupId", event.group_id),
        ("previousId", event.previous_id),
    ):
        if value is not None:
            payload[key] = value
    return StoredEvent(
        source_id=source_id,
        message_id=event.message_id,
        profile_id=profile_id,
        type=event.type,
        name=event.event if event.type == "track" else event.name,
        user_id=event.user_id,
        anonymous_id=event.anonymous_id,
        timestamp=event.timestamp,
        received_at=event.received_at,
        sent_at=event.sent_at,
        original_timestamp=event.original_timestamp,
        payload=payload,
        consent=consent,
    )


class _Batch:
    """The in-memory state of one transaction: profiles, ids and rows to write."""

    def __init__(self, tx: WriteTransaction, events: Sequence[Event]) -> None:
        keys: set[IdKey] = set()
        for event in events:
            for value in (event.user_id, event.previous_id):
                if value is not None:
                    keys.add(("user_id", value))
            for value in (event.anonymous_id, event.previous_id):
                if value is not None:
                    keys.add(("anonymous_id", value))
        self.tx = tx
        self.lookup: dict[IdKey, str] = dict(tx.lookup_identities(keys))
        self.profiles: dict[str, Profile] = tx.load_profiles(set(self.lookup.values()))
        self.stored_ids = set(self.profiles)
        self.before = dict(self.profiles)  # as stored, for the segment dependency index
        self.merged_into: set[str] = set()
        self.segment_changes: list[SegmentChange] = []
        self.dirty: set[str] = set()
        self.redirect: dict[str, str] = {}
        self.identities: list[Identity] = []
        self.events: list[StoredEvent] = []
        self.trait_changes: list[TraitChange] = []
        self.consent: list[ConsentRecord] = []
        self.merges: list[MergeRecord] = []

    def user_of(self, profile_id: str) -> str | None:
        return self.profiles[profile_id].user_id

    def final(self, profile_id: str) -> str:
        while profile_id in self.redirect:
            profile_id = self.redirect[profile_id]
        return profile_id

    def attach(self, profile_id: str, keys: Sequence[IdKey], at: datetime) -> None:
        for kind, value in keys:
            if (kind, value) not in self.lookup:
                self.lookup[(kind, value)] = profile_id
                self.identities.append(Identity(kind, value, profile_id, at))

    def merge(self, from_id: str, into_id: str, at: datetime, reason: str, message_id: str) -> None:
        self.profiles[into_id] = merge_profiles(
            self.profiles[into_id], self.profiles[from_id], at=at
        )
        del self.profiles[from_id]
        self.dirty.add(into_id)
        self.dirty.discard(from_id)
        self.merged_into.add(into_id)
        self.redirect[from_id] = into_id
        for key, owner in list(self.lookup.items()):
            if owner == from_id:
                self.lookup[key] = into_id
        if from_id in self.stored_ids:
            self.tx.reassign(from_id, into_id)
            self.tx.delete_profile(from_id)
            self.stored_ids.discard(from_id)
        self.merges.append(MergeRecord(from_id, into_id, reason, "merged", message_id, at))

    def flush(self) -> list[StoredEvent]:
        """Write everything; returns the stored events (with their final profile ids)."""
        tx = self.tx
        if not self.redirect:
            # The common case: no merge in this batch, every row already names its profile.
            tx.add_identities(self.identities)
            tx.save_profiles([self.profiles[pid] for pid in sorted(self.dirty)])
            tx.append_events(self.events)
            tx.append_trait_changes(self.trait_changes)
            tx.append_consent(self.consent)
            tx.append_merges(self.merges)
            tx.apply_segment_changes(self.segment_changes)
            return self.events
        tx.add_identities(self._redirected(self.identities))
        tx.save_profiles([self.profiles[pid] for pid in sorted(self.dirty)])
        events = self._redirected(self.events)
        tx.append_events(events)
        tx.append_trait_changes(self._redirected(self.trait_changes))
        tx.append_consent(self._redirected(self.consent))
        tx.append_merges(self.merges)
        tx.apply_segment_changes(self.segment_changes)
        return events

    def _redirected(self, records: list[R]) -> list[R]:
        """``records`` with every profile id final; only the merged profiles' are copied."""
        redirect, final = self.redirect, self.final
        return [
            replace(r, profile_id=final(r.profile_id)) if r.profile_id in redirect else r
            for r in records
        ]


def _apply(batch: _Batch, event: Event, options: PipelineOptions, source_id: str) -> bool:
    """Fold one event into the batch; returns whether the event itself is kept."""
    resolution = resolve(
        event,
        batch.lookup,
        batch.user_of,
        _new_profile_id,
    )
    at = event.received_at
    pid = resolution.profile_id
    if resolution.create:
        batch.profiles[pid] = Profile(
            profile_id=pid, user_id=resolution.user_id, created_at=at, updated_at=at
        )
        batch.dirty.add(pid)
    if resolution.set_user_id is not None:
        batch.profiles[pid] = replace(batch.profiles[pid], user_id=resolution.set_user_id)
        batch.dirty.add(pid)
    batch.attach(pid, resolution.attach, at)
    if resolution.merge_from is not None:
        batch.merge(resolution.merge_from, pid, at, resolution.reason, event.message_id)
    if resolution.refused is not None:
        refused_id, why = resolution.refused
        batch.merges.append(
            MergeRecord(
                refused_id, pid, f"{resolution.reason}: {why}", "refused", event.message_id, at
            )
        )

    profile = batch.profiles[pid]
    changes = (
        changed_decisions(profile.consent, event.consent, event.timestamp) if event.consent else {}
    )
    if changes:
        consent = dict(profile.consent)
        for purpose, granted in changes.items():
            source = consent_source(purpose, event.traits)
            consent[purpose] = ConsentDecision(granted=granted, at=event.timestamp, source=source)
            batch.consent.append(
                ConsentRecord(pid, purpose.value, granted, source, event.message_id, at)
            )
        profile = replace(profile, consent=consent, version=profile.version + 1)
        batch.dirty.add(pid)

    state = options.policy.state(profile.consent)
    keep = state[_ANALYTICS]
    update = apply_event(profile, event, behavioural=keep, session_timeout=options.session_timeout)
    if update.profile is not profile or changes:
        batch.dirty.add(pid)
    batch.profiles[pid] = update.profile
    for delta in update.trait_changes:
        batch.trait_changes.append(
            TraitChange(
                pid,
                update.profile.version,
                delta.trait,
                delta.old_value,
                delta.new_value,
                event.timestamp,
                event.message_id,
            )
        )
    if keep:
        batch.events.append(_event_row(event, pid, source_id, state))
    return keep


def _update_segments(
    batch: _Batch, engine: SegmentEngine, policy: ConsentPolicy, now: datetime
) -> None:
    dirty = {batch.final(pid) for pid in batch.dirty}
    updates = segment_updates(
        engine,
        policy=policy,
        now=now,
        # A new or merged profile has no "before": every segment is evaluated.
        before={pid: None if pid in batch.merged_into else batch.before.get(pid) for pid in dirty},
        after={pid: batch.profiles[pid] for pid in dirty},
        memberships=batch.tx.load_memberships(dirty),
    )
    batch.segment_changes.extend(updates.changes)
    batch.events.extend(updates.events)


def ingest(
    store: Store,
    events: Sequence[Event],
    rejections: Sequence[tuple[int, Rejection]],
    *,
    source_id: str,
    received_at: datetime,
    options: PipelineOptions,
    request_ip: str | None = None,
    on_committed: Callable[[IngestResult], None] | None = None,
) -> IngestResult:
    """Store one request's events and rejections in one transaction.

    ``rejections`` pairs each rejected message with its index in the request.
    ``on_committed`` runs only after the transaction committed.
    """
    with store.write() as tx:
        ids = [event.message_id for event in events]
        seen = tx.seen_message_ids(source_id, ids) if ids else set()
        fresh: list[Event] = []
        fresh_ids: set[str] = set()
        for event in events:
            if event.message_id in seen or event.message_id in fresh_ids:
                continue
            fresh_ids.add(event.message_id)
            fresh.append(event)
        duplicates = len(events) - len(fresh)
        if fresh:
            tx.mark_seen(source_id, [event.message_id for event in fresh], received_at)
        suppressed = 0
        touched: list[str] = []
        if fresh:
            batch = _Batch(tx, fresh)
            for event in fresh:
                if not _apply(batch, event, options, source_id):
                    suppressed += 1
            if options.segments is not None:
                _update_segments(batch, options.segments, options.policy, received_at)
            stored = batch.flush()
            if options.trials is not None and not options.trials.empty:
                record_events(tx, options.trials, stored)
            touched = sorted({batch.final(pid) for pid in batch.dirty})
        quarantine_ids = (
            tx.add_quarantine(
                [
                    QuarantineEntry(
                        source_id=source_id,
                        reason=rejection.reason.value,
                        message=rejection.message,
                        payload=rejection.payload,
                        received_at=received_at,
                        field=rejection.field,
                        message_id=rejection.message_id,
                        request_ip=request_ip,
                    )
                    for _, rejection in rejections
                ]
            )
            if rejections
            else []
        )
        counts = {
            "accepted": len(fresh),
            "duplicate": duplicates,
            "suppressed": suppressed,
            "quarantined": len(rejections),
        }
        tx.bump_counters(
            received_at.date().isoformat(),
            source_id,
            {metric: count for metric, count in counts.items() if count},
        )
    result = IngestResult(
        accepted=len(fresh),
        duplicates=duplicates,
        suppressed=suppressed,
        quarantined=tuple(
            QuarantinedItem(index, qid, rejection.reason.value, rejection.message, rejection.field)
            for (index, rejection), qid in zip(rejections, quarantine_ids, strict=True)
        ),
        profile_ids=tuple(touched),
    )
    if on_committed is not None:
        on_committed(result)
    return result
