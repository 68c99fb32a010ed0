"""How exposures and events change trial metrics: per-user states and stats deltas (pure).

Built on :func:`firstmile.experiments.user_entered` and
:func:`~firstmile.experiments.metric_delta`; the caller stores what comes out (see
:mod:`firstmile.trials.record`). Deltas are merged per stats row, so one batch of events
costs one upsert per touched row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from firstmile.config.experiments import ExperimentsConfig
from firstmile.experiments import (
    Metric,
    StatsDelta,
    UserState,
    metric_delta,
    pre_exposure_value,
    user_entered,
)
from firstmile.storage.base import MetricState, StatsKey, StatsSums, StoredEvent, TrialMember

#: The stats row that counts exposures (for the sample-ratio check) under metric "".
EXPOSURES: str = ""


def trial_metrics(config: ExperimentsConfig, trial_key: str) -> tuple[Metric, ...]:
    """The metrics a trial measures: an experiment's list, or a bandit's reward."""
    experiment = config.experiment(trial_key)
    if experiment is not None:
        keys: Sequence[str] = experiment.metrics
    else:
        bandit = config.bandit(trial_key)
        keys = () if bandit is None else (bandit.metric,)
    return tuple(config.metrics[key] for key in keys if key in config.metrics)


def _state(raw: MetricState | None) -> UserState:
    return UserState() if raw is None else UserState(*raw)


def _sums(delta: StatsDelta) -> StatsSums:
    return (delta.n, delta.sum, delta.sum_sq, delta.sum_x, delta.sum_x_sq, delta.sum_xy)


def _event_tuple(event: StoredEvent) -> tuple[str, Mapping[str, object], datetime]:
    properties = event.payload.get("properties")
    return (event.name or "", properties if isinstance(properties, dict) else {}, event.timestamp)


def track_events(events: Iterable[StoredEvent]) -> list[StoredEvent]:
    """Only track events feed metrics (a page's name is not an event name)."""
    return [e for e in events if e.type == "track" and e.name]


@dataclass(slots=True)
class Changes:
    """Per-user states to save and stats deltas to add, merged as they come."""

    states: dict[tuple[str, str], dict[str, MetricState]] = field(default_factory=dict)
    deltas: dict[StatsKey, StatsDelta] = field(default_factory=dict)

    def add(self, key: StatsKey, delta: StatsDelta) -> None:
        if delta.is_zero:
            return
        known = self.deltas.get(key)
        self.deltas[key] = delta if known is None else known.merge(delta)

    def sums(self) -> dict[StatsKey, StatsSums]:
        return {key: _sums(delta) for key, delta in self.deltas.items()}

    def state_rows(self) -> list[tuple[str, str, dict[str, MetricState]]]:
        return [(trial, pid, states) for (trial, pid), states in sorted(self.states.items())]


def entered(
    config: ExperimentsConfig, member: TrialMember, events: Sequence[StoredEvent], out: Changes
) -> dict[str, MetricState]:
    """A first exposure: each metric's starting state (CUPED covariate from the events
    before exposure), then the events since exposure replayed. Returns the states."""
    tracked = track_events(events)
    before = [_event_tuple(e) for e in tracked if e.timestamp < member.exposed_at]
    after = [e for e in tracked if e.timestamp >= member.exposed_at]
    base = (member.trial_key, member.context, member.variant)
    out.add((*base, EXPOSURES), StatsDelta(n=1))
    states: dict[str, MetricState] = {}
    for metric in trial_metrics(config, member.trial_key):
        covariate = pre_exposure_value(metric, before, member.exposed_at) if metric.cuped else 0.0
        state, delta = user_entered(metric, covariate)
        out.add((*base, metric.key), delta)
        for event in after:
            if event.name in metric.events:
                name, properties, at = _event_tuple(event)
                update = metric_delta(metric, state, name, properties, at, member.exposed_at)
                state = update.state
                out.add((*base, metric.key), update.delta)
        states[metric.key] = (state.value, state.denominator, state.covariate)
    out.states[(member.trial_key, member.profile_id)] = states
    return states


def observed(
    config: ExperimentsConfig,
    members: Sequence[TrialMember],
    events: Sequence[StoredEvent],
    out: Changes,
) -> None:
    """Fold newly stored events of exposed profiles into their trials' metrics."""
    by_profile: dict[str, list[StoredEvent]] = {}
    for event in track_events(events):
        by_profile.setdefault(event.profile_id, []).append(event)
    for member in members:
        mine = by_profile.get(member.profile_id)
        if not mine:
            continue
        key = (member.trial_key, member.profile_id)
        states: dict[str, Any] = dict(out.states.get(key, member.states))
        changed = False
        base = (member.trial_key, member.context, member.variant)
        for metric in trial_metrics(config, member.trial_key):
            if metric.key not in states:
                # Added to the config after this user's exposure: never counted in its n.
                continue
            state = _state(states[metric.key])
            for event in mine:
                if event.name not in metric.events:
                    continue
                name, properties, at = _event_tuple(event)
                update = metric_delta(metric, state, name, properties, at, member.exposed_at)
                if update.ignored is None:
                    state = update.state
                    out.add((*base, metric.key), update.delta)
                    changed = True
            states[metric.key] = (state.value, state.denominator, state.covariate)
        if changed:
            out.states[key] = states
