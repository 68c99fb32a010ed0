"""Checks and builds the ``metrics``, ``experiments``, ``bandits`` and ``holdout`` sections.

Every problem is reported with its place in the file (through the onboarding builder's
reporter), never raised one at a time: weights that do not sum to one, fewer than two
variants, a metric key no experiment can find, an action on missing content.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from pydantic import BaseModel

from firstmile.bandits import BanditPolicy
from firstmile.conditions import CompiledCondition
from firstmile.config.experiments import (
    TRIAL_PRIORITY,
    BanditContext,
    ConfiguredBandit,
    ConfiguredExperiment,
    ExperimentsConfig,
)
from firstmile.config.experiments_schema import (
    Actions,
    BanditIn,
    ExperimentIn,
    HoldoutIn,
    MetricIn,
)
from firstmile.config.onboarding import OnboardingPlanConfig, Rule
from firstmile.config.onboarding_build import OnboardingBuilder, _guess
from firstmile.config.problems import FieldPath
from firstmile.config.schema import parse_duration, section_list
from firstmile.experiments import EventValue, Experiment, Holdout, Metric, Namespace

SECTIONS = ("metrics", "experiments", "bandits", "holdout")


def _sentence(error: ValueError) -> str:
    text = str(error).strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


class ExperimentsBuilder:
    """One pass over the trial sections, after the onboarding sections are built."""

    def __init__(
        self,
        onboarding: OnboardingBuilder,
        plan: OnboardingPlanConfig,
        *,
        events: Collection[str] | None = None,
        warn: Callable[[FieldPath, str], None] | None = None,
    ) -> None:
        self.onboarding = onboarding
        self.report = onboarding.report
        self.plan = plan
        self.events = None if events is None else frozenset(events)
        self.warn = warn or (lambda path, message: None)

    def check_events(self, metric: Metric, path: FieldPath) -> bool:
        """Metric events against the declared ``events:`` (a warning when none are)."""
        ok = True
        for name in sorted(metric.events):
            if self.events is None:
                self.warn(
                    path,
                    f"Metric `{metric.key}` reads the event `{name}`; declare the events you "
                    "track under `events:` to have their names checked.",
                )
            elif name not in self.events:
                self.report.add(
                    path,
                    f"Metric `{metric.key}` reads `{name}`, which is not under `events:`; "
                    + _guess(name, self.events, "events"),
                )
                ok = False
        return ok

    # -- metrics -----------------------------------------------------------------------------

    def metrics(self, raw_metrics: list[Any]) -> dict[str, Metric]:
        metrics: dict[str, Metric] = {}
        keys: dict[str, FieldPath] = {}
        for index, raw in enumerate(raw_metrics):
            path: FieldPath = ("metrics", index)
            item = self.report.validate(MetricIn, raw, path)
            if item is None or not self.report.claim_key(keys, "metric", item.key, (*path, "key")):
                continue
            try:
                metric = Metric(
                    item.key,
                    item.kind,
                    event=item.event,
                    property=item.property,
                    numerator=None
                    if item.numerator is None
                    else EventValue(item.numerator.event, item.numerator.property),
                    denominator=None
                    if item.denominator is None
                    else EventValue(item.denominator.event, item.denominator.property),
                    window=None if item.window is None else parse_duration(item.window),
                    guardrail=item.guardrail,
                    direction=item.direction,
                    cuped=item.cuped,
                    cuped_lookback=parse_duration(item.cuped_lookback),
                    mde=item.mde,
                    mde_kind=item.mde_kind,
                )
            except ValueError as exc:
                self.report.add(path, _sentence(exc))
                continue
            if self.check_events(metric, path):
                metrics[item.key] = metric
        return metrics

    def metric_refs(
        self, keys: list[str], metrics: Mapping[str, Metric], path: FieldPath
    ) -> tuple[str, ...]:
        found = []
        for j, key in enumerate(keys):
            if key in metrics:
                found.append(key)
            else:
                self.report.add(
                    (*path, j),
                    f"`{key}` is not a metric; declare it under `metrics:` or "
                    + _guess(key, metrics, "metrics"),
                )
        return tuple(found)

    # -- actions -----------------------------------------------------------------------------

    def actions(self, then: Actions, path: FieldPath, key: str, origin: str) -> tuple[Rule, ...]:
        """A variant's (or arm's) actions as rules that always match, in the given order."""
        raw = [then] if isinstance(then, dict) else then
        raw = [r for r in raw if r]  # {} is "no action": the default plan
        always = self.onboarding.condition({}, path)
        assert always is not None  # the empty condition always compiles
        rules: list[Rule] = []
        for j, one in enumerate(raw):
            where = (*path, j) if isinstance(then, list) else path
            action = self.onboarding.action(
                one, where, self.plan.catalog, self.plan.flows, self.plan.checklists
            )
            if action is not None:
                rules.append(
                    Rule(
                        f"{key}:{j}" if len(raw) > 1 else key,
                        TRIAL_PRIORITY,
                        always,
                        action,
                        description=key.replace(":", " ", 1),
                        order=-1,
                        origin=origin,
                    )
                )
        return tuple(rules)

    def hash_attribute(self, name: str, path: FieldPath) -> bool:
        """``user_id``, ``anonymous_id``, or a trait (checked when ``traits:`` is declared)."""
        traits = self.onboarding.traits
        if name in ("user_id", "anonymous_id") or traits is None or name in traits:
            return True
        self.report.add(
            path,
            f"`{name}` is not a declared trait; hash by `user_id`, `anonymous_id` or a "
            "trait under `traits:`; " + _guess(name, traits, "traits"),
        )
        return False

    def targeting(self, when: dict[str, Any], path: FieldPath) -> CompiledCondition | None:
        return self.onboarding.condition(when, path) if when else None

    # -- experiments -------------------------------------------------------------------------

    def experiment(
        self, index: int, raw: Any, metrics: Mapping[str, Metric], keys: dict[str, FieldPath]
    ) -> ConfiguredExperiment | None:
        path: FieldPath = ("experiments", index)
        item = self.report.validate(ExperimentIn, raw, path)
        if item is None or not self.report.claim_key(keys, "experiment", item.key, (*path, "key")):
            return None
        ok = True
        weights = [v.weight for v in item.variants]
        given = [w for w in weights if w is not None]
        if given and len(given) != len(weights):
            self.report.add(
                (*path, "variants"),
                "Give every variant a `weight`, or none (equal weights).",
            )
            ok = False
        variant_keys: dict[str, FieldPath] = {}
        rules: list[tuple[Rule, ...]] = []
        for j, variant in enumerate(item.variants):
            vpath: FieldPath = (*path, "variants", j)
            ok = self.report.claim_key(variant_keys, "variant", variant.key, (*vpath, "key")) and ok
            rules.append(
                self.actions(
                    variant.then, (*vpath, "then"), f"{item.key}:{variant.key}", "experiment"
                )
            )
        for user, variant_key in item.forced.items():
            if variant_key not in variant_keys:
                self.report.add(
                    (*path, "forced", user),
                    f"`{variant_key}` is not a variant of `{item.key}`; "
                    + _guess(variant_key, variant_keys, "variants"),
                )
                ok = False
        condition = self.targeting(item.when, (*path, "when"))
        ok = self.hash_attribute(item.hash_attribute, (*path, "hash_attribute")) and ok
        metric_keys = self.metric_refs(item.metrics, metrics, (*path, "metrics"))
        start = self.onboarding.when(item.start, (*path, "start"))
        end = self.onboarding.when(item.end, (*path, "end"))
        if not ok or (item.when and condition is None):
            return None
        try:
            experiment = Experiment(
                item.key,
                tuple(v.key for v in item.variants),
                weights=tuple(w for w in weights if w is not None) if given else None,
                coverage=item.coverage,
                hash_attribute=item.hash_attribute,
                fallback_attribute="anonymous_id" if item.hash_attribute == "user_id" else None,
                seed=item.seed,
                hash_version=item.hash_version,
                namespace=None
                if item.namespace is None
                else Namespace(item.namespace.name, *item.namespace.range),
                status=item.status,
                overrides=item.forced,
            )
        except ValueError as exc:
            self.report.add(path, _sentence(exc))
            return None
        return ConfiguredExperiment(
            experiment,
            item.name or item.key,
            tuple(rules),
            metric_keys,
            condition=condition,
            start=start,
            end=end,
            planned_users=item.planned_users,
            planned_looks=item.planned_looks,
        )

    # -- bandits -----------------------------------------------------------------------------

    def bandit(
        self, index: int, raw: Any, metrics: Mapping[str, Metric], keys: dict[str, FieldPath]
    ) -> ConfiguredBandit | None:
        path: FieldPath = ("bandits", index)
        item = self.report.validate(BanditIn, raw, path)
        if item is None or not self.report.claim_key(keys, "bandit", item.key, (*path, "key")):
            return None
        ok = True
        arm_keys: dict[str, FieldPath] = {}
        rules: list[tuple[Rule, ...]] = []
        for j, arm in enumerate(item.arms):
            apath: FieldPath = (*path, "arms", j)
            ok = self.report.claim_key(arm_keys, "arm", arm.key, (*apath, "key")) and ok
            rules.append(
                self.actions(arm.then, (*apath, "then"), f"{item.key}:{arm.key}", "bandit")
            )
        metric = metrics.get(item.metric)
        if metric is None:
            self.report.add(
                (*path, "metric"),
                f"`{item.metric}` is not a metric; " + _guess(item.metric, metrics, "metrics"),
            )
            ok = False
        elif metric.kind == "ratio":
            self.report.add(
                (*path, "metric"),
                f"`{item.metric}` is a ratio metric; a bandit's reward is a conversion, a "
                "count or a sum per user.",
            )
            ok = False
        contexts: list[BanditContext] = []
        context_keys: dict[str, FieldPath] = {}
        for j, context in enumerate(item.contexts):
            cpath: FieldPath = (*path, "contexts", j)
            if not self.report.claim_key(context_keys, "context", context.key, (*cpath, "key")):
                ok = False
                continue
            compiled = self.onboarding.condition(context.when, (*cpath, "when"))
            if compiled is None:
                ok = False
            else:
                contexts.append(BanditContext(context.key, compiled))
        condition = self.targeting(item.when, (*path, "when"))
        if not ok or metric is None or (item.when and condition is None):
            return None
        try:
            policy = BanditPolicy(
                item.key,
                tuple(arm.key for arm in item.arms),
                kind="conversion" if metric.kind == "conversion" else "mean",
                min_weight=item.min_weight,
                min_samples=item.min_samples,
                cadence=parse_duration(item.cadence),
                seed=item.seed,
                draws=item.draws,
            )
        except ValueError as exc:
            self.report.add(path, _sentence(exc))
            return None
        return ConfiguredBandit(
            policy,
            item.name or item.key,
            tuple(rules),
            item.metric,
            tuple(contexts),
            condition,
            item.status,
        )

    # -- all ---------------------------------------------------------------------------------

    def holdout(self, raw: Any) -> Holdout | None:
        if raw is None:
            return None
        data = {"share": raw} if isinstance(raw, int | float) and not isinstance(raw, bool) else raw
        item = self.report.validate(HoldoutIn, data, ("holdout",))
        return (
            None if item is None else Holdout(item.share, seed=item.seed, hash_attribute="user_id")
        )

    def build(self, data: Mapping[str, Any]) -> ExperimentsConfig:
        metrics = self.metrics(section_list(data, "metrics"))
        keys: dict[str, FieldPath] = {}
        experiments = [
            self.experiment(i, raw, metrics, keys)
            for i, raw in enumerate(section_list(data, "experiments"))
        ]
        bandit_keys: dict[str, FieldPath] = {}
        bandits = [
            self.bandit(i, raw, metrics, bandit_keys)
            for i, raw in enumerate(section_list(data, "bandits"))
        ]
        for key, where in bandit_keys.items():
            if key in keys:
                self.report.add(
                    where, f"`{key}` is already an experiment's key; a bandit needs its own."
                )
        return ExperimentsConfig(
            metrics=metrics,
            experiments=tuple(e for e in experiments if e is not None),
            bandits=tuple(b for b in bandits if b is not None),
            holdout=self.holdout(data.get("holdout")),
        )


def normalized_experiments(data: Mapping[str, Any]) -> dict[str, Any]:
    """The trial sections as validated JSON, for the config's content hash."""
    out: dict[str, Any] = {}
    models: dict[str, type[BaseModel]] = {
        "metrics": MetricIn,
        "experiments": ExperimentIn,
        "bandits": BanditIn,
    }
    for name, model in models.items():
        items = section_list(data, name)
        if items:
            out[name] = [model.model_validate(raw).model_dump(mode="json") for raw in items]
    holdout = data.get("holdout")
    if holdout is not None:
        out["holdout"] = holdout
    events = data.get("events")
    if events is not None:
        out["events"] = events
    return out
