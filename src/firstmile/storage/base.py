"""The storage interface: the only part of storage the rest of firstmile sees.

A :class:`Store` is opened by :func:`firstmile.storage.open_store` from a URL. Reads are
methods of the store; every write happens inside ``with store.write() as tx:``, one
transaction that commits when the block ends and rolls back if it raises. The ingest
pipeline does one such transaction per request.

Every backend passes the same contract suite (``tests/contract/test_store.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, Protocol, Self

from firstmile.profiles.model import Profile

IdentityKind = Literal["user_id", "anonymous_id"]
QuarantineStatus = Literal["pending", "replayed", "discarded"]
KeyKind = Literal["write", "server"]
SegmentChangeKind = Literal["entered", "exited"]
StaticSegmentSource = Literal["snapshot", "upload"]
TrialKind = Literal["experiment", "bandit"]


@dataclass(frozen=True, slots=True)
class Identity:
    """One id a profile has had. ``(kind, value)`` is unique across profiles."""

    kind: IdentityKind
    value: str
    profile_id: str
    first_seen: datetime


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An accepted event as the event log keeps it.

    ``payload`` holds everything else of the message (properties, traits, context,
    integrations, enrichment, ...); ``consent`` is the consent state it was stored under.
    """

    source_id: str
    message_id: str
    profile_id: str
    type: str
    name: str | None  # track event name, or page/screen name
    user_id: str | None
    anonymous_id: str | None
    timestamp: datetime
    received_at: datetime
    sent_at: datetime | None
    original_timestamp: datetime | None
    payload: dict[str, Any]
    consent: dict[str, bool]


@dataclass(frozen=True, slots=True)
class TraitChange:
    """A trait that changed: the new profile version keeps the old value here."""

    profile_id: str
    version: int
    trait: str
    old_value: Any
    new_value: Any
    changed_at: datetime
    message_id: str | None


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One line of the append-only consent ledger."""

    profile_id: str
    purpose: str
    granted: bool
    source: str
    message_id: str | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class MergeRecord:
    """An identity merge (``outcome="merged"``) or a merge refused (``"refused"``)."""

    from_profile_id: str
    into_profile_id: str
    reason: str
    outcome: Literal["merged", "refused"]
    message_id: str | None
    merged_at: datetime


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    """A message that failed validation, with everything needed to replay it."""

    source_id: str
    reason: str
    message: str
    payload: Any  # the message as received (JSON), or the raw text when it was not JSON
    received_at: datetime
    field: str | None = None
    message_id: str | None = None
    request_ip: str | None = None


@dataclass(frozen=True, slots=True)
class QuarantineRecord:
    """A stored :class:`QuarantineEntry` with its id and status."""

    id: int
    entry: QuarantineEntry
    status: QuarantineStatus
    resolved_at: datetime | None
    note: str | None


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key a client authenticates with. Only its SHA-256 is stored."""

    key_hash: str
    kind: KeyKind
    source_id: str
    label: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SegmentChange:
    """A profile entering or leaving a segment, as the segment history keeps it.

    ``config_version`` names the config whose segment definitions decided the change.
    """

    profile_id: str
    segment_key: str
    change: SegmentChangeKind
    at: datetime
    config_version: str


@dataclass(frozen=True, slots=True)
class Exposure:
    """An item decide served to a profile: kept once per (profile, item, day)."""

    profile_id: str
    item_id: str
    day: str  # ISO date (UTC)
    slot: str
    config_version: str
    first_at: datetime


#: One metric's state for one trial member: (value, denominator, covariate).
MetricState = tuple[float, float, float]
#: Sufficient statistics of one row of trial_stats: (n, sum, sum_sq, sum_x, sum_x_sq, sum_xy).
StatsSums = tuple[int, float, float, float, float, float]
#: What identifies one row of trial_stats: (trial_key, context, variant, metric).
StatsKey = tuple[str, str, str, str]


@dataclass(frozen=True, slots=True)
class TrialMember:
    """A profile exposed to an experiment's variant or a bandit's arm (see firstmile.trials).

    ``context`` is a contextual bandit's context key (``""`` for none); ``propensity`` is
    the probability the bandit had of choosing this arm (None for experiments); ``states``
    holds each metric's per-user state.
    """

    trial_key: str
    profile_id: str
    kind: TrialKind
    variant: str
    context: str
    propensity: float | None
    hash_attribute: str | None
    hash_value: str | None
    exposed_at: datetime
    config_version: str
    states: Mapping[str, MetricState]


@dataclass(frozen=True, slots=True)
class BanditWeights:
    """The split a bandit (in one context, ``""`` for none) uses since ``updated_at``."""

    bandit_key: str
    context: str
    weights: Mapping[str, float]
    epoch: int
    updated_at: datetime
    config_version: str
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ConfigVersion:
    """An onboarding config version this database has run, with its file content."""

    version_id: str
    loaded_at: datetime
    source: str | None
    content: str


@dataclass(frozen=True, slots=True)
class StaticSegment:
    """A fixed list of profiles, never re-evaluated.

    ``source`` says how it was made: a ``"snapshot"`` of the members of the segment
    ``of_segment`` (under the config ``config_version``), or an ``"upload"`` of ids.
    """

    key: str
    name: str
    description: str
    source: StaticSegmentSource
    of_segment: str | None
    created_at: datetime
    config_version: str | None


ModelKind = Literal["personas", "prediction", "recommender"]
ModelStatus = Literal["candidate", "promoted", "retired"]
PromotionAction = Literal["promote", "rollback"]


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """One trained model version in the registry (its artifact is read separately).

    ``name`` is the model's key in the config (``personas``, a prediction's key,
    ``recommendations``); versions count up from 1 per name. At most one version of a
    name is ``promoted``: the one ``serve`` loads. ``meta`` holds the data window, row
    counts, library versions and training warnings; ``sha256`` and ``size`` describe the
    artifact, which is checked against them before it is loaded.
    """

    name: str
    version: int
    kind: ModelKind
    status: ModelStatus
    created_at: datetime
    promoted_at: datetime | None
    config_version: str
    schema_hash: str
    metrics: Mapping[str, Any]
    meta: Mapping[str, Any]
    sha256: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "promoted_at": None if self.promoted_at is None else self.promoted_at.isoformat(),
            "config_version": self.config_version,
            "schema_hash": self.schema_hash,
            "sha256": self.sha256,
            "size": self.size,
            "metrics": dict(self.metrics),
            "meta": dict(self.meta),
        }


@dataclass(frozen=True, slots=True)
class Promotion:
    """A promotion or rollback of a model version, as the registry's history keeps it."""

    name: str
    version: int
    at: datetime
    action: PromotionAction


class WriteTransaction(Protocol):
    """The writes (and the reads they depend on) of one transaction."""

    def seen_message_ids(self, source_id: str, message_ids: Sequence[str]) -> set[str]:
        """Which of ``message_ids`` this source has already sent."""

    def mark_seen(self, source_id: str, message_ids: Sequence[str], at: datetime) -> None:
        """Remember message ids for deduplication (including events not kept)."""

    def lookup_identities(
        self, keys: Iterable[tuple[IdentityKind, str]]
    ) -> dict[tuple[IdentityKind, str], str]:
        """Map each known ``(kind, value)`` to its profile id; unknown keys are absent."""

    def load_profiles(self, profile_ids: Iterable[str]) -> dict[str, Profile]:
        """Profiles by id; unknown ids are absent."""

    def save_profiles(self, profiles: Sequence[Profile]) -> None:
        """Insert or replace profiles."""

    def delete_profile(self, profile_id: str) -> None:
        """Remove a profile (after it was merged into another) and its segment memberships.

        Its segment history is kept (``reassign`` moves it first when merging).
        """

    def add_identities(self, identities: Sequence[Identity]) -> None:
        """Attach ids to profiles; an existing ``(kind, value)`` is left unchanged."""

    def reassign(self, from_profile_id: str, to_profile_id: str) -> None:
        """Move identities, events, trait, consent and segment history to another profile.

        The current segment memberships of ``from_profile_id`` are deleted, not moved:
        the caller re-evaluates the merged profile. Its static segment memberships are
        moved (a static segment holding both profiles keeps one row).
        """

    def append_events(self, events: Sequence[StoredEvent]) -> None: ...

    def append_trait_changes(self, changes: Sequence[TraitChange]) -> None: ...

    def append_consent(self, records: Sequence[ConsentRecord]) -> None: ...

    def append_merges(self, merges: Sequence[MergeRecord]) -> None: ...

    def add_quarantine(self, entries: Sequence[QuarantineEntry]) -> list[int]:
        """Store entries as ``pending``; returns their ids in order."""

    def resolve_quarantine(self, entry_id: int, status: QuarantineStatus, note: str) -> None:
        """Mark an entry replayed or discarded (it is kept, never deleted)."""

    def bump_counters(self, day: str, source_id: str, counts: Mapping[str, int]) -> None:
        """Add to the daily ingest counters (``accepted``, ``duplicate``, ...)."""

    def add_key(self, key: ApiKey) -> None: ...

    def load_memberships(self, profile_ids: Iterable[str]) -> dict[str, dict[str, datetime]]:
        """Current memberships: ``{profile_id: {segment_key: entered_at}}``.

        Profiles in no segment (and unknown ids) are absent.
        """

    def apply_segment_changes(self, changes: Sequence[SegmentChange]) -> None:
        """Apply changes in order and append each one to the segment history.

        ``"entered"`` adds the membership with ``entered_at = at`` (an existing membership
        keeps its earlier ``entered_at``); ``"exited"`` removes it.
        """

    def create_static_segment(self, segment: StaticSegment, profile_ids: Iterable[str]) -> None:
        """Store a static segment and its members (duplicate ids are stored once).

        Raises :class:`firstmile.errors.ConflictError` when the key is taken.
        """

    def delete_static_segment(self, key: str) -> bool:
        """Remove a static segment and its members; returns whether it existed."""

    def record_exposures(self, exposures: Sequence[Exposure]) -> None:
        """Log served items; one already logged for its (profile, item, day) is ignored."""

    def record_config_version(self, version: ConfigVersion) -> bool:
        """Remember a config version; returns whether it was new."""

    def trial_members_of(
        self, profile_ids: Iterable[str], trial_keys: Iterable[str] | None = None
    ) -> list[TrialMember]:
        """The trial memberships of these profiles (of ``trial_keys`` only, if given)."""

    def add_trial_members(self, members: Sequence[TrialMember]) -> None:
        """Record first exposures; a (trial, profile) already recorded is left as it is."""

    def save_trial_states(
        self, states: Sequence[tuple[str, str, Mapping[str, MetricState]]]
    ) -> None:
        """Replace the metric states of ``(trial_key, profile_id)`` members."""

    def add_trial_stats(self, deltas: Mapping[StatsKey, StatsSums]) -> None:
        """Add each delta to its row of sufficient statistics (a missing row starts at 0)."""

    def events_since(self, profile_id: str, since: datetime) -> list[StoredEvent]:
        """The profile's stored events with a timestamp at or after ``since``, oldest first."""

    def save_bandit_weights(self, weights: Sequence[BanditWeights]) -> None:
        """Store the current split of bandits (one row per bandit and context)."""

    def add_model(self, record: ModelRecord, artifact: bytes) -> None:
        """Store a new model version with its artifact (``record.version`` must be new)."""

    def next_model_version(self, name: str) -> int:
        """One more than the highest version of ``name`` (1 for a new name)."""

    def promote_model(self, name: str, version: int, at: datetime, action: PromotionAction) -> None:
        """Make ``version`` the promoted one of ``name`` (the previous one is retired)."""


class Store(Protocol):
    """A firstmile data store. Open with :func:`firstmile.storage.open_store`."""

    url: str

    def migrate(self) -> None:
        """Bring the schema up to date (idempotent; applied steps are recorded)."""

    def ping(self) -> None:
        """Raise :class:`firstmile.errors.StorageUnavailable` if the store is unreachable."""

    def close(self) -> None: ...

    def __enter__(self) -> Self:
        """``with open_store(url) as store:`` closes the store when the block ends."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def write(self) -> AbstractContextManager[WriteTransaction]:
        """One transaction: commits on a clean exit, rolls back on an exception."""

    def get_profile(self, profile_id: str) -> Profile | None: ...

    def find_profile_id(self, kind: IdentityKind, value: str) -> str | None: ...

    def profile_for(self, kind: IdentityKind, value: str) -> Profile | None:
        """The profile that owns ``(kind, value)``, or ``None`` (a fast, cached read)."""

    def identities(self, profile_id: str) -> list[Identity]: ...

    def events(self, profile_id: str, *, limit: int = 50) -> list[StoredEvent]:
        """Most recent first (by timestamp)."""

    def trait_history(self, profile_id: str, *, limit: int = 100) -> list[TraitChange]:
        """Most recent first."""

    def consent_history(self, profile_id: str) -> list[ConsentRecord]:
        """Oldest first."""

    def merges(self, profile_id: str) -> list[MergeRecord]:
        """Merges into or out of the profile, oldest first."""

    def quarantine(
        self,
        *,
        status: QuarantineStatus | None = None,
        reason: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[QuarantineRecord]:
        """Newest first."""

    def quarantine_entry(self, entry_id: int) -> QuarantineRecord | None: ...

    def quarantine_reasons(self) -> dict[str, int]:
        """Pending entries counted by reason."""

    def counters(self, *, source_id: str | None = None) -> dict[str, int]:
        """Ingest counters summed over all days."""

    def profile_stats(self) -> dict[str, int]:
        """``profiles``, ``identified``, ``anonymous``, ``events``."""

    def iter_profiles(self, *, batch_size: int = 500) -> Iterator[Profile]:
        """Every profile (for summaries, exports and training)."""

    def warm_cache(self, limit: int | None = None) -> int:
        """Read the most recently updated profiles (at most ``limit``, default what the
        cache holds) into the decoded-profile cache, while it has room; returns how many
        were read. Only a speed-up: reads are correct whether it ran or not."""

    def find_key(self, key_hash: str) -> ApiKey | None: ...

    def memberships(self, profile_id: str) -> dict[str, datetime]:
        """The profile's current segments: ``{segment_key: entered_at}``."""

    def memberships_of(self, profile_ids: Iterable[str]) -> dict[str, dict[str, datetime]]:
        """Current memberships of many profiles at once (a few reads, not one per profile):
        ``{profile_id: {segment_key: entered_at}}``. Profiles in no segment (and unknown
        ids) are absent."""

    def segment_history(self, profile_id: str, *, limit: int = 100) -> list[SegmentChange]:
        """The profile's segment entries and exits, most recent first."""

    def segment_sizes(self) -> dict[str, int]:
        """Current members per segment key; segments without members are absent."""

    def segment_members(
        self, segment_key: str, *, limit: int = 50, offset: int = 0
    ) -> list[tuple[str, datetime]]:
        """``(profile_id, entered_at)`` of current members, earliest entry first, paged."""

    def profile_ids_in_segments(self, segment_keys: Sequence[str]) -> list[str]:
        """Distinct ids of the profiles currently in any of ``segment_keys``, sorted."""

    def static_segments(self) -> list[tuple[StaticSegment, int]]:
        """Every static segment with its size, by key."""

    def static_segment(self, key: str) -> tuple[StaticSegment, int] | None:
        """One static segment with its size, or ``None``."""

    def static_segment_members(self, key: str, *, limit: int = 50, offset: int = 0) -> list[str]:
        """A page of a static segment's profile ids, sorted."""

    def static_segments_of(self, profile_id: str) -> list[StaticSegment]:
        """The static segments holding the profile, by key."""

    def exposures(self, profile_id: str, *, limit: int = 100) -> list[Exposure]:
        """The profile's exposures, most recent first."""

    def config_versions(self, *, limit: int = 50) -> list[ConfigVersion]:
        """Config versions this database has run, most recently loaded first."""

    def config_version(self, version_id: str) -> ConfigVersion | None:
        """One config version by id (or a unique prefix of it), or ``None``."""

    def trial_members(self, profile_id: str) -> list[TrialMember]:
        """The profile's experiment and bandit memberships, by trial key."""

    def trial_stats(self, trial_key: str) -> dict[StatsKey, StatsSums]:
        """Every row of sufficient statistics of one trial."""

    def trial_logs(self, trial_key: str) -> Iterator[TrialMember]:
        """Every member of one trial (for off-policy evaluation), in profile id order."""

    def bandit_weights(self, bandit_key: str | None = None) -> list[BanditWeights]:
        """The stored splits of one bandit (or of all), by bandit and context."""

    def iter_events(
        self, *, names: Sequence[str] | None = None, batch_size: int = 2000
    ) -> Iterator[StoredEvent]:
        """Every stored event (only track events named in ``names`` when given), in the
        order they were stored, read ``batch_size`` at a time (for training)."""

    def events_of_profiles(
        self, profile_ids: Sequence[str], *, exclude_source: str | None = None
    ) -> dict[str, list[StoredEvent]]:
        """The stored events of these profiles (not those of ``exclude_source``), each
        profile's sorted by time (for training, a batch of profiles at a time)."""

    def models(self, name: str | None = None) -> list[ModelRecord]:
        """The registry's model versions (of ``name`` when given), newest first."""

    def model_record(self, name: str, version: int) -> ModelRecord | None: ...

    def model_artifact(self, name: str, version: int) -> bytes | None:
        """The stored artifact bytes of a model version, or ``None``."""

    def promoted_models(self) -> list[ModelRecord]:
        """The promoted version of every model name (what ``serve`` loads)."""

    def promotions(self, name: str) -> list[Promotion]:
        """The promotions and rollbacks of ``name``, oldest first."""
