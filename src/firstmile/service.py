"""The facade: one object that the API, the CLI and the demo call.

:class:`Firstmile` opens the store from :class:`~firstmile.settings.Settings` and
delegates: request bodies to :mod:`firstmile.events.envelope`, messages to
:func:`firstmile.events.validate.to_event`, storage to :func:`firstmile.pipeline.ingest`,
views to :mod:`firstmile.profiles.view` and :mod:`firstmile.segments.views`. It holds no
logic of its own beyond wiring.

Examples
--------
>>> import tempfile, pathlib
>>> from firstmile.settings import load_settings
>>> home = pathlib.Path(tempfile.mkdtemp())
>>> with Firstmile.open(load_settings(home=home, environ={})) as fm:
...     key = fm.create_key("write", label="docs")
...     result = fm.ingest_items(
...         [{"type": "identify", "userId": "u1", "traits": {"email": " A@B.co "}}],
...         source_id=fm.authenticate(key),
...     )
...     fm.user("u1")["traits"]
{'email': 'a@b.co'}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import islice
from types import TracebackType
from typing import Any, Literal, Self

from firstmile.clock import Clock, SystemClock
from firstmile.config import ConfigFileError, OnboardingConfig, load_config
from firstmile.config.history import text_diff
from firstmile.config.onboarding import OnboardingPlanConfig
from firstmile.config.rule_check import RuleFinding, sample_findings
from firstmile.config.rule_samples import Sample
from firstmile.decide.inputs import decision_input
from firstmile.decide.plan import compose
from firstmile.decide.request import parse_decide_request
from firstmile.decide.whatif import Replay, summarize
from firstmile.decisions import NO_CONFIG, Decider
from firstmile.errors import (
    InvalidEvent,
    InvalidJSON,
    InvalidRequest,
    InvalidServerKey,
    NotFound,
    Unauthorized,
)
from firstmile.events.consent import ConsentPolicy
from firstmile.events.envelope import Limits, decode_body, open_envelope, parse_json
from firstmile.events.model import Event, Purpose, QuarantineReason, Rejection
from firstmile.events.validate import RequestFacts, to_event
from firstmile.imports import UnparsedLine
from firstmile.keys import generate_key, hash_key
from firstmile.pipeline import IngestResult, PipelineOptions, ingest
from firstmile.profiles.model import Profile
from firstmile.profiles.view import profile_view
from firstmile.segments.engine import SegmentEngine
from firstmile.segments.static import (
    MAX_UNKNOWN_SHOWN,
    check_static_key,
    static_summary,
)
from firstmile.segments.views import (
    compile_preview,
    member_rows,
    memberships_view,
    preview,
    preview_attributes,
    preview_needs,
    scores_view,
    segment_summaries,
    segment_summary,
)
from firstmile.service_models import ModelsFacade
from firstmile.service_trials import TrialsFacade
from firstmile.settings import Settings
from firstmile.storage import open_store
from firstmile.storage.base import (
    ApiKey,
    ConfigVersion,
    IdentityKind,
    QuarantineRecord,
    QuarantineStatus,
    StaticSegment,
    Store,
)
from firstmile.sweep import sweep_segments
from firstmile.training.ops import explain_user

DEFAULT_SOURCE = "default"
PREVIEW_BATCH = 500  # profiles whose memberships are read together
CURRENT = "current"  # names the config in use, for `firstmile config diff`


def consent_policy(settings: Settings) -> ConsentPolicy:
    """The consent regimes of the settings."""
    return ConsentPolicy.from_regimes(
        settings.consent_analytics, settings.consent_personalization, settings.consent_marketing
    )


def _profile_sample(
    profile: Profile, engine: SegmentEngine | None, policy: ConsentPolicy, now: datetime
) -> Sample:
    """A stored profile as rules see it in a decision without a request (for rule checks)."""
    inp = decision_input(profile, context={}, engine=engine, policy=policy, now=now)
    return Sample(inp.attributes, user=profile.user_id or profile.profile_id)


def check_rules_on_profiles(
    settings: Settings, config: OnboardingConfig, *, clock: Clock | None = None
) -> tuple[int, list[RuleFinding]]:
    """Run ``config``'s rules on every profile the workspace stores (``config check``).

    Returns how many profiles there were and the conflicts, shadowed and never-matched
    rules found on them (:func:`firstmile.config.rule_check.sample_findings`). Only the
    store is opened: the workspace's own config file is neither loaded nor recorded.
    """
    now = (clock or SystemClock()).now()
    policy = consent_policy(settings)
    engine = SegmentEngine(config)
    with open_store(settings.resolved_database_url, clock=clock) as store:
        store.migrate()
        samples = (_profile_sample(p, engine, policy, now) for p in store.iter_profiles())
        return sample_findings(config, samples, now=now)


def _version_json(version: ConfigVersion) -> dict[str, Any]:
    return {
        "version_id": version.version_id,
        "loaded_at": version.loaded_at.isoformat(),
        "source": version.source,
    }


class Firstmile(TrialsFacade, ModelsFacade):
    """firstmile as a library. Open with :meth:`open`; close (or use ``with``)."""

    def __init__(self, settings: Settings, store: Store, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.limits = Limits(
            max_message_bytes=settings.max_message_bytes,
            max_request_bytes=settings.max_request_bytes,
            max_batch_items=settings.max_batch_items,
            max_compression_ratio=settings.max_compression_ratio,
        )
        self.policy = consent_policy(settings)
        self.options = PipelineOptions(
            policy=self.policy, session_timeout=timedelta(minutes=settings.session_timeout_minutes)
        )
        self._key_cache: dict[str, str] = {}
        self._server_key_cache: dict[str, str] = {}  # apart: a write key must not pass here
        self.config: OnboardingConfig | None = None
        self.config_error: ConfigFileError | None = None
        self._config_mtime: float | None = None
        self._full_sweep_pending = False
        self.decider = Decider(store, self.policy, self.clock, budget_ms=settings.decide_budget_ms)
        self._load_config()

    @classmethod
    def open(cls, settings: Settings, *, clock: Clock | None = None) -> Firstmile:
        """Open the store named by the settings and bring its schema up to date.

        The onboarding config is loaded too when its file exists; an invalid one raises
        :class:`~firstmile.config.ConfigFileError` listing every problem.
        """
        store = open_store(settings.resolved_database_url, clock=clock)
        try:
            store.migrate()
            return cls(settings, store, clock=clock)
        except BaseException:
            store.close()
            raise

    def close(self) -> None:
        try:
            self.flush_exposures()
        finally:
            self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- onboarding config --------------------------------------------------------------

    def _load_config(self) -> None:
        path = self.settings.config_path
        if not path.is_file():
            return
        mtime = path.stat().st_mtime
        config = load_config(path, clock=self.clock)  # raises ConfigFileError: fail fast
        self._install(config, mtime)

    def _install(self, config: OnboardingConfig, mtime: float | None) -> None:
        self.config = config
        self.config_error = None
        self._config_mtime = mtime
        self.options = replace(self.options, segments=SegmentEngine(config), trials=config.trials)
        with self.store.write() as tx:
            tx.record_config_version(
                ConfigVersion(
                    config.version_id,
                    config.loaded_at,
                    None if config.source_path is None else str(config.source_path),
                    config.source_text,
                )
            )
        # Memberships were computed by another version (or none): the next sweep
        # evaluates every segment, so added segments fill and removed ones end.
        self._full_sweep_pending = True

    def reload_config(self, *, force: bool = False) -> bool:
        """Load the config file again if it changed; returns whether a new one is in use.

        An invalid file never replaces the running config: the error is kept in
        ``config_error`` (and ``/readyz`` shows it) until a valid file is saved.
        """
        path = self.settings.config_path
        if not path.is_file():
            return False
        mtime = path.stat().st_mtime
        if not force and mtime == self._config_mtime:
            return False
        try:
            config = load_config(path, clock=self.clock)
        except ConfigFileError as exc:
            self.config_error = exc
            self._config_mtime = mtime  # report once per save, not on every poll
            return False
        if self.config is not None and config.version_id == self.config.version_id:
            self._config_mtime = mtime
            self.config_error = None  # the file is valid again (an invalid edit was undone)
            return False
        self._install(config, mtime)
        return True

    def sweep(self) -> int:
        """Re-evaluate time-dependent segments now; returns membership changes made.

        The first sweep after a config version is installed evaluates every segment.
        """
        engine = self.options.segments
        if engine is None:
            return 0
        full = self._full_sweep_pending
        changed = sweep_segments(self.store, engine, self.policy, now=self.clock.now(), full=full)
        self._full_sweep_pending = False
        return changed

    # -- segments -----------------------------------------------------------------------

    def segments(self) -> list[dict[str, Any]]:
        """Every segment of the loaded config with its current size, then static ones."""
        summaries = segment_summaries(self.options.segments, self.store.segment_sizes())
        return summaries + [static_summary(s, n) for s, n in self.store.static_segments()]

    def segment(self, key: str) -> dict[str, Any]:
        """One segment's definition and size; :class:`NotFound` for an unknown key."""
        engine = self.options.segments
        if engine is None or key not in engine.segment_keys:
            found = self.store.static_segment(key)
            if found is not None:
                return static_summary(*found)
        return segment_summary(engine, key, self.store.segment_sizes().get(key, 0))

    def segment_members(self, key: str, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """A page of a segment's current members, earliest entry first.

        A static segment's members are sorted by profile id; they all entered when it
        was created.
        """
        segment = self.segment(key)
        if segment["kind"] == "static":
            created_at = datetime.fromisoformat(segment["created_at"])
            ids = self.store.static_segment_members(key, limit=limit, offset=offset)
            rows = [(profile_id, created_at) for profile_id in ids]
        else:
            rows = self.store.segment_members(key, limit=limit, offset=offset)
        user_ids = {}
        for profile_id, _ in rows:
            profile = self.store.get_profile(profile_id)
            user_ids[profile_id] = profile.user_id if profile is not None else None
        return {
            "key": key,
            "total": segment["size"],
            "limit": limit,
            "offset": offset,
            "members": member_rows(rows, user_ids),
        }

    # -- static segments ----------------------------------------------------------------

    def _config_segment_keys(self) -> tuple[str, ...]:
        engine = self.options.segments
        return tuple(engine.segment_keys) if engine is not None else ()

    def static_segments(self) -> list[dict[str, Any]]:
        """Every static segment with its size, by key."""
        return [static_summary(s, n) for s, n in self.store.static_segments()]

    def static_segment(self, key: str) -> dict[str, Any]:
        """One static segment; :class:`NotFound` for an unknown key."""
        found = self.store.static_segment(key)
        if found is None:
            raise self._no_static_segment(key)
        return static_summary(*found)

    def _no_static_segment(self, key: str) -> NotFound:
        """The error for a key that names no static segment (perhaps a config segment)."""
        if key in self._config_segment_keys():
            return NotFound(
                f"{key!r} is a segment of the onboarding config, not a static segment; "
                "edit firstmile.yaml to change or remove it.",
                field="key",
            )
        return NotFound(
            f"No static segment {key!r}; `firstmile segments list` shows them.", field="key"
        )

    def static_segment_members(
        self, key: str, *, limit: int = 50, offset: int = 0
    ) -> dict[str, Any]:
        """A page of a static segment's members, by profile id."""
        self.static_segment(key)
        return self.segment_members(key, limit=limit, offset=offset)

    def snapshot_segment(self, key: str, *, as_key: str, name: str | None = None) -> dict[str, Any]:
        """Copy the current members of a config (rule or threshold) segment, once.

        The copy is a static segment ``as_key``: it never changes when the members of
        ``key`` do. :class:`NotFound` for an unknown ``key``; ``as_key`` must be a free
        key (:class:`InvalidRequest` for a malformed one, :class:`ConflictError` when
        taken).
        """
        source = segment_summary(self.options.segments, key, 0)
        check_static_key(as_key, field="as", config_keys=self._config_segment_keys())
        now = self.clock.now()
        members = self.store.profile_ids_in_segments([key])
        segment = StaticSegment(
            key=as_key,
            name=name or f"{source['name']} at {now.isoformat(timespec='minutes')}",
            description=f"The members of segment {key!r} at {now.isoformat()}.",
            source="snapshot",
            of_segment=key,
            created_at=now,
            config_version=source["config_version"],
        )
        with self.store.write() as tx:
            tx.create_static_segment(segment, members)
        return static_summary(segment, len(members))

    def upload_static_segment(
        self, as_key: str, ids: Iterable[str], *, name: str, description: str = ""
    ) -> dict[str, Any]:
        """Store the profiles of ``ids`` as the static segment ``as_key``.

        Each id is resolved as a user id, then an anonymous id, then a profile id; the
        profiles found are stored (each once), and the ids that resolve to nothing are
        reported (``unknown``, and the first few in ``unknown_ids``). An upload where no
        id resolves is refused, as is a malformed or taken key.
        """
        check_static_key(as_key, field="key", config_keys=self._config_segment_keys())
        wanted = [i for i in dict.fromkeys(ids) if i]
        if not wanted:
            raise InvalidRequest("No ids to upload: give at least one id.", field="ids")
        kinds: tuple[IdentityKind, ...] = ("user_id", "anonymous_id")
        segment = StaticSegment(
            key=as_key,
            name=name or as_key,
            description=description,
            source="upload",
            of_segment=None,
            created_at=self.clock.now(),
            config_version=None,
        )
        with self.store.write() as tx:
            known = tx.lookup_identities((kind, i) for i in wanted for kind in kinds)
            rest = [i for i in wanted if not any((kind, i) in known for kind in kinds)]
            profiles = tx.load_profiles(rest)
            resolved: dict[str, str] = {}
            unknown: list[str] = []
            for i in wanted:
                found = next((known[(k, i)] for k in kinds if (k, i) in known), None)
                if found is None and i in profiles:
                    found = i
                if found is None:
                    unknown.append(i)
                else:
                    resolved[i] = found
            if not resolved:
                raise InvalidRequest(
                    f"None of the {len(wanted)} ids is a known user id, anonymous id or "
                    f"profile id (for example {wanted[0]!r}); nothing was stored.",
                    field="ids",
                )
            members = list(dict.fromkeys(resolved.values()))
            tx.create_static_segment(segment, members)
        summary = static_summary(segment, len(members))
        summary["unknown"] = len(unknown)
        summary["unknown_ids"] = unknown[:MAX_UNKNOWN_SHOWN]
        return summary

    def delete_static_segment(self, key: str) -> dict[str, Any]:
        """Remove a static segment: ``{key, name, size, deleted: true}``.

        :class:`NotFound` for an unknown key, and for a segment of the onboarding config
        (which is changed in the file, not deleted here).
        """
        segment = self.static_segment(key)
        with self.store.write() as tx:
            if not tx.delete_static_segment(key):
                raise self._no_static_segment(key)  # deleted meanwhile
        return {"key": key, "name": segment["name"], "size": segment["size"], "deleted": True}

    def preview(self, condition: Any, *, sample: int = 10) -> dict[str, Any]:
        """Evaluate a condition over every stored profile, without saving anything.

        Memberships are read for a batch of profiles at a time, and only when the
        condition reads ``segments.*`` (directly or through a score). Raises
        :class:`~firstmile.errors.ConditionError` (``field`` points at the part to fix)
        for a condition that does not compile.
        """
        engine = self.options.segments
        compiled = compile_preview(condition, engine)
        needs = preview_needs(compiled, engine)
        now = self.clock.now()
        candidates = (
            (
                profile.profile_id,
                preview_attributes(
                    profile, memberships, engine, now=now, policy=self.policy, needs=needs
                ),
            )
            for profile, memberships in self._profiles_with_memberships(needs.memberships)
        )
        return preview(compiled, candidates, now=now, sample=sample)

    def _profiles_with_memberships(
        self, read: bool
    ) -> Iterator[tuple[Profile, Mapping[str, datetime]]]:
        """Every profile with its current memberships (empty unless ``read``), in batches."""
        profiles = self.store.iter_profiles(batch_size=PREVIEW_BATCH)
        while batch := list(islice(profiles, PREVIEW_BATCH)):
            found = self.store.memberships_of(p.profile_id for p in batch) if read else {}
            for profile in batch:
                yield profile, found.get(profile.profile_id, {})

    # -- health -------------------------------------------------------------------------

    def ready(self) -> None:
        """Raise :class:`~firstmile.errors.StorageUnavailable` unless the store answers."""
        self.store.ping()

    # -- keys ---------------------------------------------------------------------------

    def create_key(
        self, kind: Literal["write", "server"], *, label: str, source_id: str = DEFAULT_SOURCE
    ) -> str:
        """Create a key and return it; only its hash is stored, so show it now."""
        key = generate_key(kind)
        with self.store.write() as tx:
            tx.add_key(ApiKey(hash_key(key), kind, source_id, label, self.clock.now()))
        return key

    def authenticate(self, key: str | None) -> str:
        """The source id of a write key, or :class:`~firstmile.errors.Unauthorized`."""
        if not key:
            raise Unauthorized(
                "No write key. Send it as the Basic auth user name or as `writeKey` in the body."
            )
        hashed = hash_key(key)
        source = self._key_cache.get(hashed)
        if source is None:
            found = self.store.find_key(hashed)
            if found is None or found.kind != "write":
                raise Unauthorized("Unknown write key. `firstmile init` prints a valid one.")
            source = self._key_cache[hashed] = found.source_id
        return source

    def authenticate_server(self, key: str | None) -> str:
        """The source id of a server key, or :class:`~firstmile.errors.InvalidServerKey`.

        Write keys are public (they sit in browsers), so they never pass here.
        """
        if not key:
            raise InvalidServerKey(
                "No server key. Send it as `Authorization: Bearer <server key>`; "
                "`firstmile init` prints one."
            )
        hashed = hash_key(key)
        source = self._server_key_cache.get(hashed)
        if source is None:
            found = self.store.find_key(hashed)
            if found is None or found.kind != "server":
                raise InvalidServerKey(
                    "Not a server key. Write keys only send events; "
                    "`firstmile init` prints a server key."
                )
            source = self._server_key_cache[hashed] = found.source_id
        return source

    # -- decide -------------------------------------------------------------------------

    def decide(
        self,
        body: Any,
        *,
        source_id: str = DEFAULT_SOURCE,
        request_ip: str | None = None,
        log_exposures: bool = True,
    ) -> dict[str, Any]:
        """The onboarding plan for the user a ``POST /v1/decide`` body names.

        Events in the body are ingested first, so the plan sees them. Raises
        :class:`~firstmile.errors.InvalidRequest` for a malformed body; anything failing
        after that falls back (the plan says where, with reason ``fallback``).
        """
        request = parse_decide_request(body)
        ingested = None
        if request.events:
            ingested = self.ingest_items(request.events, source_id=source_id)
        self.ensure_models()
        decision = self.decider.decide(
            request,
            self.config,
            self.options.segments,
            request_ip=request_ip,
            log_exposures=log_exposures,
        )
        out = decision.plan.to_json()
        out["profile_id"] = decision.profile_id
        if ingested is not None:
            out["ingested"] = ingested.to_body()
        return out

    def decide_http(
        self, body: bytes, *, server_key: str | None, request_ip: str | None = None
    ) -> dict[str, Any]:
        """``POST /v1/decide``: check the server key, parse the body, decide.

        Raises :class:`~firstmile.errors.InvalidServerKey` (401) or
        :class:`~firstmile.errors.InvalidRequest` (400) before anything is decided.
        """
        source_id = self.authenticate_server(server_key)
        return self.decide(parse_json(body), source_id=source_id, request_ip=request_ip)

    def flush_exposures(self) -> int:
        """Write the exposures decide logged since the last flush; returns how many.

        First exposures to experiments and bandits are recorded in the same pass.
        """
        written = self.decider.exposures.flush(self.store)
        trials = None if self.config is None else self.config.trials
        return written + self.decider.trial_exposures.flush(self.store, trials)

    def warm_profiles(self) -> int:
        """Decode the most recently active profiles into the decide cache (serve does it
        at start, so the first decisions after a restart skip the decode)."""
        return self.store.warm_cache()

    def refresh_popularity(self) -> int:
        """Recount popular-in-segment recommendations; returns the profiles read."""
        if self.config is None:
            return 0
        return self.decider.refresh_popularity(self.config, self.options.segments)

    def config_versions(self, *, limit: int = 50) -> list[dict[str, Any]]:
        """Config versions this database has run, most recent first."""
        return [_version_json(v) for v in self.store.config_versions(limit=limit)]

    def config_version_text(self, version_id: str) -> ConfigVersion:
        """One recorded config version (by id or unique prefix), with its file content."""
        found = self.store.config_version(version_id)
        if found is None:
            raise NotFound(
                f"No config version {version_id!r} (or the prefix names several); "
                "`firstmile config history` lists them.",
                field="version",
            )
        return found

    def _config_text(self, version: str) -> ConfigVersion:
        """A recorded version, or the config in use for ``current``."""
        if version != CURRENT:
            return self.config_version_text(version)
        config = self.config
        if config is None:
            raise NotFound(
                f"No config file is loaded ({self.settings.config_path} is absent), so "
                "there is no `current` version; name two recorded versions instead.",
                field="version",
            )
        source = None if config.source_path is None else str(config.source_path)
        return ConfigVersion(config.version_id, config.loaded_at, source, config.source_text)

    def config_diff(self, a: str, b: str) -> dict[str, Any]:
        """The unified diff of two config versions' files: ``{"a", "b", "diff"}``.

        ``a`` and ``b`` are version ids, unique prefixes of one, or ``current`` (the file
        in use); :class:`NotFound` for one that names no version. The diff is empty when
        the files are the same.
        """
        first, second = self._config_text(a), self._config_text(b)
        names = [f"{v.version_id} ({v.source or 'no file'})" for v in (first, second)]
        return {
            "a": _version_json(first),
            "b": _version_json(second),
            "diff": text_diff(first.content, second.content, a=names[0], b=names[1]),
        }

    def simulate(
        self,
        candidate: OnboardingConfig,
        *,
        limit: int | None = None,
        examples: int = 10,
        progress: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        """Replay stored profiles through the current and the ``candidate`` config.

        Each profile's two plans are composed from the same input at the same time (now,
        without a request context or recommendations) and compared by
        :func:`firstmile.decide.whatif.summarize`. Nothing is written or logged. At most
        ``limit`` profiles; ``progress`` is called after each one.
        """
        now = self.clock.now()
        current = self.config
        engine = self.options.segments
        candidate_engine = SegmentEngine(candidate)
        plan_config = current.onboarding if current is not None else OnboardingPlanConfig()
        version = current.version_id if current is not None else NO_CONFIG

        def replays() -> Iterator[Replay]:
            for profile in islice(self.store.iter_profiles(), limit):
                before = decision_input(
                    profile, context={}, engine=engine, policy=self.policy, now=now
                )
                after = decision_input(
                    profile, context={}, engine=candidate_engine, policy=self.policy, now=now
                )
                yield Replay(
                    profile.user_id or profile.profile_id,
                    tuple(after.variables["segments"]),
                    compose(plan_config, before, config_version=version),
                    compose(candidate.onboarding, after, config_version=candidate.version_id),
                )
                if progress is not None:
                    progress()

        summary = summarize(
            replays(),
            current=version,
            candidate=candidate.version_id,
            segment_keys=candidate.segment_keys,
            examples=examples,
        )
        return summary.to_json()

    # -- ingest -------------------------------------------------------------------------

    def ingest_http(
        self,
        body: bytes,
        *,
        endpoint: str,
        header_key: str | None,
        content_encoding: str | None = None,
        client_ip: str | None = None,
        user_agent: str | None = None,
        browser: bool = False,
    ) -> IngestResult:
        """Handle one tracking API request body, from raw bytes to stored events.

        Raises a :class:`~firstmile.errors.FirstmileError` the API turns into a 4xx.
        A body that is not JSON is quarantined (when the key is known from the header)
        before the error is raised, so nothing a client sent is lost.
        """
        received_at = self.clock.now()
        decoded = decode_body(body, content_encoding=content_encoding, limits=self.limits)
        try:
            document = parse_json(decoded)
        except InvalidJSON:
            if header_key:
                source_id = self.authenticate(header_key)
                rejection = Rejection(
                    QuarantineReason.INVALID_JSON,
                    "The request body is not valid JSON.",
                    decoded.decode("utf-8", errors="replace"),
                )
                ingest(
                    self.store,
                    [],
                    [(0, rejection)],
                    source_id=source_id,
                    received_at=received_at,
                    options=self.options,
                    request_ip=client_ip,
                )
            raise
        envelope = open_envelope(document, endpoint=endpoint, limits=self.limits)
        source_id = self.authenticate(header_key or envelope.write_key)
        facts = RequestFacts(
            received_at=received_at,
            ip=client_ip,
            user_agent=user_agent,
            browser=browser,
            max_message_bytes=self.limits.max_message_bytes,
            coerce=self.settings.coerce_string_values,
        )
        result = self._ingest(envelope.items, envelope.overflow, source_id, facts)
        if envelope.single and result.quarantined:
            rejected = result.quarantined[0]
            raise InvalidEvent(
                f"{rejected.message} The message was quarantined (id {rejected.quarantine_id}).",
                reason=rejected.reason,
                field=rejected.field,
            )
        return result

    def ingest_items(
        self,
        items: Sequence[Any],
        *,
        source_id: str = DEFAULT_SOURCE,
        received_at: datetime | None = None,
    ) -> IngestResult:
        """Ingest messages that are already parsed (imports, replays, tests)."""
        facts = RequestFacts(
            received_at=received_at or self.clock.now(),
            max_message_bytes=self.limits.max_message_bytes,
            coerce=self.settings.coerce_string_values,
        )
        return self._ingest(list(items), [], source_id, facts)

    def _ingest(
        self, items: Sequence[Any], overflow: Sequence[Any], source_id: str, facts: RequestFacts
    ) -> IngestResult:
        events: list[Event] = []
        rejections: list[tuple[int, Rejection]] = []
        for index, item in enumerate(items):
            if isinstance(item, UnparsedLine):
                rejections.append(
                    (
                        index,
                        Rejection(
                            QuarantineReason.INVALID_JSON,
                            f"Not valid JSON: {item.error}.",
                            item.text,
                        ),
                    )
                )
                continue
            outcome = to_event(item, facts)
            if isinstance(outcome, Event):
                events.append(outcome)
            else:
                rejections.append((index, outcome))
        for index, item in enumerate(overflow, start=len(items)):
            rejections.append(
                (
                    index,
                    Rejection(
                        QuarantineReason.BATCH_OVERFLOW,
                        f"The batch has more than {self.limits.max_batch_items} messages; "
                        "send the rest in another request.",
                        item if isinstance(item, dict) else {"item": item},
                    ),
                )
            )
        return ingest(
            self.store,
            events,
            rejections,
            source_id=source_id,
            received_at=facts.received_at,
            options=self.options,
            request_ip=facts.ip,
        )

    # -- profiles -----------------------------------------------------------------------

    def find_profile_id(self, any_id: str) -> str:
        """Profile id for a user id, an anonymous id or a profile id."""
        kinds: tuple[IdentityKind, ...] = ("user_id", "anonymous_id")
        for kind in kinds:
            found = self.store.find_profile_id(kind, any_id)
            if found is not None:
                return found
        if self.store.get_profile(any_id) is not None:
            return any_id
        raise NotFound(
            f"No profile has the id {any_id!r} (tried user id, anonymous id, profile id)."
        )

    def user(self, any_id: str, *, events: int = 20) -> dict[str, Any]:
        """Everything known about one person (see :func:`firstmile.profiles.view.profile_view`)."""
        profile_id = self.find_profile_id(any_id)
        profile = self.store.get_profile(profile_id)
        if profile is None:
            raise NotFound(f"The profile {profile_id!r} was merged or removed; try again.")
        now = self.clock.now()
        view = profile_view(
            profile,
            now=now,
            policy=self.policy,
            identities=self.store.identities(profile_id),
            trait_history=self.store.trait_history(profile_id),
            consent_history=self.store.consent_history(profile_id),
            merges=self.store.merges(profile_id),
            events=self.store.events(profile_id, limit=events),
        )
        engine = self.options.segments
        view["segments"] = memberships_view(
            self.store.memberships(profile_id), engine, self.store.static_segments_of(profile_id)
        )
        view["scores"] = scores_view(profile, engine, now=now, policy=self.policy)
        view["experiments"] = [
            {
                "key": member.trial_key,
                "kind": member.kind,
                "variant": member.variant,
                "context": member.context or None,
                "propensity": member.propensity,
                "exposed_at": member.exposed_at.isoformat(),
                "config_version": member.config_version,
                "metrics": {
                    metric: {"value": value, "denominator": denominator, "covariate": covariate}
                    for metric, (value, denominator, covariate) in member.states.items()
                },
            }
            for member in self.store.trial_members(profile_id)
        ]
        # The persona and predictions the promoted models give this person now.
        self.ensure_models()
        view["models"] = explain_user(profile, self.decider.models, self.policy, now=now)
        return view

    # -- quarantine ---------------------------------------------------------------------

    def quarantine(
        self,
        *,
        status: QuarantineStatus | None = "pending",
        reason: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[QuarantineRecord]:
        return self.store.quarantine(
            status=status,
            reason=reason,
            limit=limit,
            offset=offset,
        )

    def quarantine_entry(self, entry_id: int) -> QuarantineRecord:
        record = self.store.quarantine_entry(entry_id)
        if record is None:
            raise NotFound(f"No quarantined message has the id {entry_id}.")
        return record

    def replay(self, entry_ids: Iterable[int], *, payload: Any = None) -> dict[str, Any]:
        """Run quarantined messages through the pipeline again.

        ``payload`` replaces the stored message (a fixed version) when replaying one id.
        An entry that passes is marked ``replayed``; one that fails again stays
        ``pending`` and its new reason is reported (the new attempt is not re-quarantined).
        """
        results: list[dict[str, Any]] = []
        for entry_id in entry_ids:
            record = self.quarantine_entry(entry_id)
            if record.status != "pending":
                results.append({"id": entry_id, "outcome": "skipped", "reason": record.status})
                continue
            message = payload if payload is not None else record.entry.payload
            if payload is None and isinstance(message, str):
                # Text that was not JSON is kept as received; only a fixed payload helps.
                results.append(
                    {
                        "id": entry_id,
                        "outcome": "still_invalid",
                        "reason": QuarantineReason.INVALID_JSON.value,
                        "message": "The stored text is not JSON; replay it with a fixed payload.",
                    }
                )
                continue
            outcome = to_event(
                message,
                # The original arrival time keeps the clock-skew correction right.
                RequestFacts(
                    received_at=record.entry.received_at,
                    ip=record.entry.request_ip,
                    max_message_bytes=self.limits.max_message_bytes,
                    coerce=self.settings.coerce_string_values,
                ),
            )
            if isinstance(outcome, Rejection):
                results.append(
                    {
                        "id": entry_id,
                        "outcome": "still_invalid",
                        "reason": outcome.reason.value,
                        "message": outcome.message,
                    }
                )
                continue
            # Two transactions: if marking fails after the ingest, a second replay is
            # deduplicated by messageId, so the event still counts once.
            result = ingest(
                self.store,
                [outcome],
                [],
                source_id=record.entry.source_id,
                received_at=outcome.received_at,
                options=self.options,
            )
            with self.store.write() as tx:
                tx.resolve_quarantine(
                    entry_id,
                    "replayed",
                    "duplicate of an accepted message" if result.duplicates else "accepted",
                )
            results.append(
                {"id": entry_id, "outcome": "replayed", "duplicate": bool(result.duplicates)}
            )
        return {
            "replayed": sum(r["outcome"] == "replayed" for r in results),
            "still_invalid": sum(r["outcome"] == "still_invalid" for r in results),
            "results": results,
        }

    # -- reports ------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Counts for the demo and `firstmile status`: ingest, quarantine, profiles, consent."""
        consent: dict[str, dict[str, int]] = {}
        for profile in self.store.iter_profiles():
            for purpose in (Purpose.ANALYTICS, Purpose.PERSONALIZATION, Purpose.MARKETING):
                granted = self.policy.granted(purpose, profile.consent)
                bucket = consent.setdefault(purpose.value, {"granted": 0, "denied": 0})
                bucket["granted" if granted else "denied"] += 1
        return {
            "ingest": self.store.counters(),
            "quarantine_by_reason": self.store.quarantine_reasons(),
            "profiles": self.store.profile_stats(),
            "consent": consent,
        }
