"""Reading trials back: experiment reports, bandit weights and off-policy evaluation.

Everything here reads sufficient statistics or member rows through the store and hands
them to the pure engines (:func:`firstmile.experiments.build_report`,
:func:`firstmile.bandits.thompson_weights`, :func:`firstmile.bandits.evaluate_policy`):
a report costs O(variants x metrics), never a scan of the event log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from firstmile.bandits import (
    ContextTree,
    EvaluationResult,
    LoggedDecision,
    TargetPolicy,
    TreeAttribute,
    TreeRow,
    contextual_weights,
    epoch_of,
    evaluate_policy,
    fit_context_tree,
    weights_due,
)
from firstmile.config.experiments import ConfiguredBandit, ExperimentsConfig
from firstmile.errors import NotFound
from firstmile.events.consent import ConsentPolicy
from firstmile.experiments import Report, build_report
from firstmile.segments.attributes import profile_attributes
from firstmile.stats import Moments
from firstmile.storage.base import BanditWeights, StatsKey, StatsSums, Store
from firstmile.trials.measure import EXPOSURES

log = logging.getLogger(__name__)

#: Bandit epochs count cadences from this origin, the same in every process.
EPOCH_ORIGIN: Final = datetime(1970, 1, 1, tzinfo=UTC)


def moments(sums: StatsSums) -> Moments:
    """A stored row as :class:`Moments` (sums of squares clamped at 0 against rounding)."""
    n, total, total_sq, total_x, total_x_sq, total_xy = sums
    return Moments(n, total, max(0.0, total_sq), total_x, max(0.0, total_x_sq), total_xy)


def _unknown(kind: str, key: str, known: Sequence[str]) -> NotFound:
    listed = ", ".join(known) or "none"
    return NotFound(f"No {kind} `{key}` in the loaded config; the {kind}s are: {listed}.")


def experiment_report(store: Store, config: ExperimentsConfig, key: str) -> Report:
    """The report of experiment ``key`` from its stored statistics."""
    trial = config.experiment(key)
    if trial is None:
        raise _unknown("experiment", key, [e.key for e in config.experiments])
    exp = trial.experiment
    metrics = [config.metrics[k] for k in trial.metrics]
    stats: dict[str, dict[str, Moments]] = {}
    exposures: dict[str, int] = {}
    for (_, _, variant, metric), sums in store.trial_stats(key).items():
        if variant not in exp.variations:
            continue  # a variant removed from the config since
        if metric == EXPOSURES:
            exposures[variant] = exposures.get(variant, 0) + sums[0]
            continue
        try:
            row = moments(sums)
        except ValueError as exc:  # a damaged row: leave it out, say so in the log
            log.warning("experiment %s: statistics of %s/%s ignored: %s", key, variant, metric, exc)
            continue
        by_variant = stats.setdefault(metric, {})
        by_variant[variant] = by_variant[variant].merge(row) if variant in by_variant else row
    return build_report(
        key,
        exp.variations,
        metrics,
        stats,
        exposures={v: exposures.get(v, 0) for v in exp.variations},
        expected_weights=exp.weights_used,
        tuning_n=trial.planned_users,
        looks=trial.planned_looks,
    )


def _arm_stats(
    bandit: ConfiguredBandit, rows: Mapping[StatsKey, StatsSums]
) -> tuple[dict[str, dict[str, Moments]], dict[str, Moments]]:
    """Per-context and global moments of the bandit's reward, by arm."""
    contexts: dict[str, dict[str, Moments]] = {}
    overall = {arm: Moments() for arm in bandit.policy.arms}
    for (_, context, arm, metric), sums in rows.items():
        if metric != bandit.metric or arm not in overall:
            continue
        try:
            row = moments(sums)
        except ValueError:
            continue
        overall[arm] = overall[arm].merge(row)
        if context:
            mine = contexts.setdefault(context, {a: Moments() for a in bandit.policy.arms})
            mine[arm] = mine[arm].merge(row)
    return contexts, overall


def bandit_split(
    bandit: ConfiguredBandit,
    rows: Mapping[StatsKey, StatsSums],
    *,
    now: datetime,
    config_version: str,
) -> list[BanditWeights]:
    """The bandit's weights now: global, and one per declared context (pure)."""
    contexts, overall = _arm_stats(bandit, rows)
    epoch = epoch_of(now, start=EPOCH_ORIGIN, cadence=bandit.policy.cadence)
    out: list[BanditWeights] = []
    for context in (None, *(c.key for c in bandit.contexts)):
        result = contextual_weights(contexts, overall, bandit.policy, context=context, epoch=epoch)
        detail: dict[str, Any] = {
            "reason": result.reason,
            "fallback": result.fallback,
            "thompson": result.result.to_json(),
            "arms": {
                arm: {"n": m.n, "mean": m.mean}
                for arm, m in (contexts.get(context, overall) if context else overall).items()
            },
        }
        out.append(
            BanditWeights(
                bandit.key,
                context or "",
                dict(zip(result.arms, result.weights, strict=True)),
                epoch,
                now,
                config_version,
                detail,
            )
        )
    return out


def refresh_bandits(
    store: Store,
    config: ExperimentsConfig,
    *,
    now: datetime,
    config_version: str,
    force: bool = False,
) -> list[BanditWeights]:
    """Recompute the weights of every running bandit whose cadence says it is due."""
    stored = {(w.bandit_key, w.context): w for w in store.bandit_weights()}
    fresh: list[BanditWeights] = []
    for bandit in config.bandits:
        if bandit.status != "running":
            continue
        current = stored.get((bandit.key, ""))
        last = None if current is None else current.updated_at
        if not force and not weights_due(last, now, bandit.policy.cadence):
            continue
        fresh.extend(
            bandit_split(
                bandit, store.trial_stats(bandit.key), now=now, config_version=config_version
            )
        )
    if fresh:
        with store.write() as tx:
            tx.save_bandit_weights(fresh)
    return fresh


def bandit_status(store: Store, config: ExperimentsConfig, key: str) -> dict[str, Any]:
    """A bandit's definition, its current weights per context, and its arms' statistics."""
    bandit = config.bandit(key)
    if bandit is None:
        raise _unknown("bandit", key, [b.key for b in config.bandits])
    contexts, overall = _arm_stats(bandit, store.trial_stats(key))
    return {
        "key": key,
        "name": bandit.name,
        "metric": bandit.metric,
        "policy": bandit.policy.to_json(),
        "contexts": [c.key for c in bandit.contexts],
        "weights": [
            {
                "context": w.context or None,
                "weights": dict(w.weights),
                "epoch": w.epoch,
                "updated_at": w.updated_at.isoformat(),
                "reason": w.detail.get("reason"),
            }
            for w in store.bandit_weights(key)
        ],
        "arms": {arm: {"users": m.n, "mean_reward": m.mean} for arm, m in overall.items()},
        "arms_by_context": {
            context: {arm: {"users": m.n, "mean_reward": m.mean} for arm, m in arms.items()}
            for context, arms in sorted(contexts.items())
        },
    }


def bandit_tree(
    store: Store,
    config: ExperimentsConfig,
    key: str,
    attributes: Sequence[TreeAttribute],
    *,
    now: datetime,
    policy: ConsentPolicy,
    min_leaf: int = 100,
) -> ContextTree:
    """Fit a small tree over user attributes where the bandit's best arm differs.

    Each logged member is one row: the profile's attributes *as they are now* (so split on
    attributes the arms do not change: device, country, plan), its arm and its reward.
    The leaves are conditions, ready to become the bandit's ``contexts``.
    """
    bandit = config.bandit(key)
    if bandit is None:
        raise _unknown("bandit", key, [b.key for b in config.bandits])
    rows: list[TreeRow] = []
    for member in store.trial_logs(key):
        profile = store.get_profile(member.profile_id)
        if profile is None or member.kind != "bandit":
            continue
        reward = member.states.get(bandit.metric, (0.0, 0.0, 0.0))[0]
        row_attributes = profile_attributes(profile, now=now, policy=policy)
        rows.append(TreeRow(row_attributes, member.variant, reward))
    return fit_context_tree(rows, attributes, bandit.policy.arms, min_leaf=min_leaf)


def evaluate_bandit(
    store: Store, config: ExperimentsConfig, key: str, target: TargetPolicy
) -> EvaluationResult:
    """Estimate the value of the ``target`` policy from the bandit's logged decisions."""
    bandit = config.bandit(key)
    if bandit is None:
        raise _unknown("bandit", key, [b.key for b in config.bandits])
    logs = [
        LoggedDecision(
            arm=member.variant,
            propensity=member.propensity,
            reward=member.states.get(bandit.metric, (0.0, 0.0, 0.0))[0],
            context=member.context or None,
        )
        for member in store.trial_logs(key)
        if member.kind == "bandit"
    ]
    return evaluate_policy(logs, target)
