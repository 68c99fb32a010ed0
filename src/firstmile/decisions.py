"""Decisions with I/O around the pure planner: profile reads, the time budget, fallbacks,
the exposure log and the popularity snapshot.

A decision never fails the app. If the store cannot be read, the user is decided from
the request alone with reason ``fallback``; a slot that fails or runs over the time
budget falls back to its default (:mod:`firstmile.decide.plan`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any, Final

from firstmile.clock import Clock
from firstmile.conditions.paths import compile_getter
from firstmile.config.experiments import ExperimentsConfig
from firstmile.config.model import OnboardingConfig
from firstmile.config.onboarding import OnboardingPlanConfig
from firstmile.decide.inputs import decision_input
from firstmile.decide.model import DecisionInput, Plan
from firstmile.decide.plan import compose
from firstmile.decide.popular import Popularity, completed_items, popularity, recommendable
from firstmile.decide.request import DecideRequest
from firstmile.events.consent import ConsentPolicy
from firstmile.events.enrich import enrich
from firstmile.events.model import Purpose
from firstmile.ml.serving import PERSONA_SEGMENT_PREFIX, ModelSet
from firstmile.profiles.model import Profile
from firstmile.segments.attributes import profile_attributes
from firstmile.segments.engine import SegmentEngine
from firstmile.storage.base import BanditWeights, Exposure, IdentityKind, Store
from firstmile.trials import (
    Candidate,
    TrialAssignments,
    assign_trials,
    check_forced,
    record_exposures,
    shown,
)

log = logging.getLogger(__name__)
PERSONALIZATION: Final = Purpose.PERSONALIZATION.value

NO_CONFIG: Final = "none"  # the version decisions record when no config file is loaded
EXPOSURES_KEPT_IN_MEMORY: Final = 100_000  # dedupe keys of the current day


@dataclass(frozen=True, slots=True)
class Decision:
    """A plan and the profile it was made for (``None``: unknown user)."""

    plan: Plan
    profile_id: str | None


class Deadline:
    """``over()`` is true once ``seconds`` have passed since it was made."""

    __slots__ = ("_end", "_timer")

    def __init__(self, seconds: float, timer: Callable[[], float] = time.perf_counter) -> None:
        self._timer = timer
        self._end = timer() + seconds

    def over(self) -> bool:
        return self._timer() > self._end


class ExposureLog:
    """Exposures kept once per (profile, item, day), written in batches off the hot path.

    ``add`` only appends to memory; ``flush`` writes what is pending in one transaction
    (the server's background loop calls it, and the service on close).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Plain tuples on the hot path; Exposure records are built when flushed.
        self._pending: list[tuple[str, str, str, str, str, datetime]] = []
        self._seen: set[tuple[str, str, str]] = set()
        self._day = ""

    def add(self, profile_id: str, plan: Plan) -> int:
        """Queue the items of ``plan``; returns how many were new today."""
        decided_at = plan.decided_at
        day = decided_at.date().isoformat()
        version = plan.config_version
        added = 0
        with self._lock:
            if day != self._day or len(self._seen) > EXPOSURES_KEPT_IN_MEMORY:
                self._day, self._seen = day, set()
            seen, pending = self._seen, self._pending
            for slot, item in plan.shown_items():
                key = (profile_id, item, day)
                if key not in seen:
                    seen.add(key)
                    pending.append((profile_id, item, day, slot, version, decided_at))
                    added += 1
        return added

    def flush(self, store: Store) -> int:
        """Write pending exposures (the store ignores ones already recorded)."""
        with self._lock:
            pending, self._pending = self._pending, []
        if pending:
            try:
                with store.write() as tx:
                    tx.record_exposures([Exposure(*row) for row in pending])
            except Exception:
                with self._lock:
                    self._pending[:0] = pending  # keep them for the next flush
                raise
        return len(pending)


class TrialExposureLog:
    """First exposures to experiments and bandits, queued in memory and written by
    ``flush`` (with the item exposures, off the request path)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[tuple[str, Candidate, datetime, str]] = []
        self._seen: set[tuple[str, str]] = set()

    def add(self, profile_id: str, candidate: Candidate, at: datetime, version: str) -> None:
        key = (candidate.trial_key, profile_id)
        with self._lock:
            if key in self._seen:
                return
            if len(self._seen) > EXPOSURES_KEPT_IN_MEMORY:
                self._seen = set()  # the store ignores repeats; memory only saves writes
            self._seen.add(key)
            self._pending.append((profile_id, candidate, at, version))

    def flush(self, store: Store, trials: ExperimentsConfig | None) -> int:
        """Record pending first exposures; returns how many members were new."""
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending or trials is None:
            return 0
        try:
            with store.write() as tx:
                return record_exposures(tx, trials, pending)
        except Exception:
            with self._lock:
                self._pending[:0] = pending
            raise


def declared_interests(attributes: Mapping[str, Any], path: str | None) -> tuple[str, ...]:
    """A newcomer's declared interests: a list, or comma-separated text, at ``path``.

    >>> declared_interests({"interests": "Team, API"}, "interests")
    ('team', 'api')
    >>> declared_interests({"interests": ["reports", 3]}, "interests"), declared_interests({}, None)
    (('reports',), ())
    """
    if path is None:
        return ()
    value = compile_getter(path)(attributes)
    words = value.split(",") if isinstance(value, str) else value
    if not isinstance(words, list | tuple):
        return ()
    return tuple(w.strip().lower() for w in words if isinstance(w, str) and w.strip())


class Decider:
    """Makes decisions for one store under whatever config is loaded."""

    def __init__(
        self,
        store: Store,
        policy: ConsentPolicy,
        clock: Clock,
        *,
        budget_ms: float,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock
        self.budget_s = budget_ms / 1000.0
        self.timer = timer
        self.exposures = ExposureLog()
        self.trial_exposures = TrialExposureLog()
        # The bandits' current splits by (bandit, context); reloaded after each refresh.
        self.bandit_weights: dict[tuple[str, str], BanditWeights] = {}
        self.popularity = Popularity()
        # The promoted models, swapped whole by reload_models (hot loading).
        self.models = ModelSet()
        self._scores_cache: tuple[str, frozenset[str] | None] | None = None
        # The user-agent parser loads its rules on first use (a few hundred ms): do it
        # now, or the first decision after start-up would run over its time budget.
        enrich({"userAgent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"})

    def _profile(self, request: DecideRequest) -> Profile | None:
        ids: tuple[tuple[IdentityKind, str | None], ...] = (
            ("user_id", request.user_id),
            ("anonymous_id", request.anonymous_id),
        )
        for kind, value in ids:
            if value is None:
                continue
            profile = self.store.profile_for(kind, value)
            if profile is not None:
                return profile
        return None

    def decide(
        self,
        request: DecideRequest,
        config: OnboardingConfig | None,
        engine: SegmentEngine | None,
        *,
        request_ip: str | None = None,
        now: datetime | None = None,
        log_exposures: bool = True,
    ) -> Decision:
        deadline = Deadline(self.budget_s, self.timer)
        now = now or self.clock.now()
        models = self.models  # one set for the whole decision, whatever a reload does
        degraded = None
        try:
            profile = self._profile(request)
        except Exception as exc:  # the store being down must not fail the app
            log.warning("decide: profile read failed, deciding from the request: %s", exc)
            profile, degraded = None, f"the profile could not be read ({type(exc).__name__})"
        inp = decision_input(
            profile,
            context=request.context,
            engine=engine,
            policy=self.policy,
            now=now,
            request_ip=request_ip,
            scores=self._scores_read(config),
            models=models,
        )
        popular = self.popularity.for_user(inp.variables["segments"])
        recommended = self._recommended(models, profile, inp, config)
        inp = replace(inp, popular=popular, recommended=recommended, degraded=degraded)
        trials = self._trials(config, request, profile, inp.attributes, now, inp.personalize)
        version = config.version_id if config is not None else NO_CONFIG
        plan = compose(
            config.onboarding if config is not None else OnboardingPlanConfig(),
            inp,
            config_version=version,
            over_budget=deadline.over,
            trial_rules=trials.rules,
        )
        if trials.shown:
            plan = replace(plan, experiments=trials.shown)
        profile_id = None if profile is None else profile.profile_id
        if profile_id is not None and log_exposures:
            self.exposures.add(profile_id, plan)
            for candidate in trials.candidates:
                if shown(candidate, plan):
                    self.trial_exposures.add(profile_id, candidate, now, version)
        return Decision(plan, profile_id)

    def _recommended(
        self,
        models: ModelSet,
        profile: Profile | None,
        inp: DecisionInput,
        config: OnboardingConfig | None,
    ) -> tuple[tuple[str, str], ...]:
        """The promoted recommender's picks for this user (none without consent)."""
        model = models.recommender
        settings = None if config is None else config.models.recommendations
        if model is None or not inp.personalize or config is None or settings is None:
            return ()
        items = recommendable(config.onboarding)
        done = () if profile is None else tuple(completed_items(profile, items))
        limit = config.onboarding.limits.recommendations
        key = tuple(sorted(done))
        interests = () if key else declared_interests(inp.attributes, settings.interests)
        try:
            k = limit + len(key)
            picks = model.remember(
                (key, interests, k),
                partial(
                    model.artifact.model.recommend,
                    key,
                    interests=interests,
                    k=k,
                ),
            )
        except Exception as exc:  # a model must never fail the decision
            log.warning("decide: the recommender failed, popular content is used: %s", exc)
            return ()
        return tuple((pick.item_id, pick.reason) for pick in picks)

    def _trials(
        self,
        config: OnboardingConfig | None,
        request: DecideRequest,
        profile: Profile | None,
        attributes: Mapping[str, Any],
        now: datetime,
        personalize: bool,
    ) -> TrialAssignments:
        """The user's experiment variants and bandit arms (none without consent)."""
        trials = config.trials if config is not None else ExperimentsConfig()
        if trials.empty or not personalize:
            if request.forced:  # assign_trials checks it otherwise
                check_forced(trials, request.forced, now)  # a QA typo is a 400, not ignored
            return TrialAssignments()
        try:
            members = [] if profile is None else self.store.trial_members(profile.profile_id)
        except Exception as exc:  # experiments must not fail the decision either
            log.warning("decide: trial memberships could not be read: %s", exc)
            return TrialAssignments()
        return assign_trials(
            trials,
            attributes=attributes,
            user_id=request.user_id or (None if profile is None else profile.user_id),
            anonymous_id=request.anonymous_id,
            members=members,
            weights=self.bandit_weights,
            now=now,
            forced=request.forced,
        )

    def reload_bandit_weights(self) -> int:
        """Read the bandits' current splits from the store; returns how many."""
        stored = self.store.bandit_weights()
        self.bandit_weights = {(w.bandit_key, w.context): w for w in stored}
        return len(stored)

    def _scores_read(self, config: OnboardingConfig | None) -> frozenset[str] | None:
        if config is None:
            return frozenset()
        cached = self._scores_cache
        if cached is None or cached[0] != config.version_id:
            cached = self._scores_cache = (config.version_id, config.onboarding.scores_read())
        return cached[1]

    def refresh_popularity(self, config: OnboardingConfig, engine: SegmentEngine | None) -> int:
        """Recount what users in each segment completed; returns the profiles read."""
        items = recommendable(config.onboarding)
        eligible = frozenset(item.id for item in items)
        if not eligible:
            self.popularity = Popularity()
            return 0
        now = self.clock.now()
        count = 0
        personas = any(m.artifact.kind == "personas" for m in self.models.models.values())

        def users() -> Iterator[tuple[frozenset[str], list[str]]]:
            nonlocal count
            for profile in self.store.iter_profiles():
                count += 1
                done = list(completed_items(profile, items))
                if not done:
                    continue
                members: frozenset[str] = frozenset()
                attributes = profile_attributes(profile, now=now, policy=self.policy)
                if engine is not None:
                    members = engine.evaluate(attributes, now).members
                if personas and attributes["consent"].get(PERSONALIZATION):
                    # Popular within the persona too: the newcomer's cold start (only
                    # users who allow models to personalize for them are placed).
                    try:
                        persona = self.models.persona_of(attributes)
                    except Exception as exc:  # one bad row must not stop the count
                        log.warning("popularity: no persona for a profile: %s", exc)
                        persona = None
                    if persona is not None:
                        members = members | {PERSONA_SEGMENT_PREFIX + persona}
                yield members, done

        self.popularity = popularity(users(), eligible=eligible)
        return count
