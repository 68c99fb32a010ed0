"""Decide-time assignment to every live experiment and bandit of the config (pure).

For one user and one decision, :func:`assign_trials` returns

* the rules of the user's variants and arms, which decide evaluates before the config's
  own rules (a variant decides the slots it tests);
* what the plan shows under ``experiments`` (per trial: variant, whether the user is in,
  the reason, and for a bandit its context and propensity);
* the :class:`Candidate` exposures: recorded by the caller only when the plan actually
  shows one of the trial's slots (:func:`shown`).

Stickiness: a profile that was exposed to a trial keeps its recorded variant, whatever its
identity hashes to now (an anonymous user who signs up keeps what they saw). Holdout,
namespaces, coverage, targeting and QA overrides follow
:func:`firstmile.experiments.assign`; a user with neither a user id nor an anonymous id
cannot be hashed and enters nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from firstmile.bandits import choose_arm
from firstmile.conditions.timestamps import now_seconds
from firstmile.config.experiments import ConfiguredBandit, ConfiguredExperiment, ExperimentsConfig
from firstmile.config.onboarding import Rule
from firstmile.decide.model import Plan
from firstmile.errors import InvalidRequest
from firstmile.experiments import AssignmentReason, assign
from firstmile.experiments.holdout import Holdout
from firstmile.storage.base import BanditWeights, TrialKind, TrialMember


@dataclass(frozen=True, slots=True)
class Candidate:
    """An exposure to record if the plan shows one of ``slots``."""

    trial_key: str
    kind: TrialKind
    variant: str
    context: str
    propensity: float | None
    hash_attribute: str | None
    hash_value: str | None
    slots: frozenset[str]
    rules: tuple[str, ...] = ()  # the keys of the variant's rules (none for a control)


@dataclass(frozen=True, slots=True)
class TrialAssignments:
    """Everything decide needs from the trials for one user."""

    rules: tuple[Rule, ...] = ()
    shown: Mapping[str, Any] = field(default_factory=dict)  # the plan's "experiments"
    candidates: tuple[Candidate, ...] = ()


NONE = TrialAssignments()


def check_forced(
    config: ExperimentsConfig, forced: Mapping[str, str], now: datetime
) -> Mapping[str, str]:
    """``forced`` when every key is a live trial and every value one of its variants;
    else :class:`~firstmile.errors.InvalidRequest` saying which and what exists."""
    options: dict[str, tuple[str, ...]] = {
        e.key: e.experiment.variations for e in config.experiments if e.live(now)
    }
    options.update({b.key: b.policy.arms for b in config.bandits if b.status == "running"})
    for key, variant in forced.items():
        if key not in options:
            known = ", ".join(f"`{k}`" for k in sorted(options)) or "none"
            raise InvalidRequest(
                f"`forced.{key}`: no live experiment or bandit has that key; they are: {known}.",
                field=f"forced.{key}",
            )
        if variant not in options[key]:
            listed = ", ".join(f"`{v}`" for v in options[key])
            raise InvalidRequest(
                f"`forced.{key}`: `{variant}` is not one of its variants ({listed}).",
                field=f"forced.{key}",
            )
    return forced


def _keys(rules: tuple[Rule, ...]) -> tuple[str, ...]:
    return tuple(rule.key for rule in rules)


def hash_attributes(user_id: str | None, anonymous_id: str | None) -> dict[str, Any]:
    """The attributes experiments hash: ``user_id``, falling back to ``anonymous_id``."""
    return {"user_id": user_id, "anonymous_id": anonymous_id}


#: What compose notes when it stopped evaluating rules (variant actions included).
RULES_CUT: str = "rules: over the time budget"


def shown(candidate: Candidate, plan: Plan) -> bool:
    """Whether ``plan`` shows the user their variant of the trial (then: an exposure).

    The variant's actions must have run (a decision over its time budget skips them, for
    the control too, so that both sides are measured alike), and the plan must show one
    of the slots the trial's variants write.
    """
    if RULES_CUT in plan.fallbacks:
        return False
    matched = plan.matched_rules
    if any(rule not in matched for rule in candidate.rules):
        return False  # cut short, or another trial had already written that slot
    if not candidate.slots:
        return True  # a trial whose variants change nothing: being decided is the exposure
    slots = {slot for slot, _ in plan.shown_items()}
    slots.update(("tutorial_depth", "flow"))  # always part of a plan
    return not slots.isdisjoint(candidate.slots)


def _experiment(
    trial: ConfiguredExperiment,
    identity: Mapping[str, Any],
    attributes: Mapping[str, Any],
    now_s: float,
    member: TrialMember | None,
    holdout: Holdout | None,
) -> tuple[dict[str, Any], Candidate | None, tuple[Rule, ...]]:
    exp = trial.experiment
    if member is not None and member.variant in exp.variations:
        index = exp.variations.index(member.variant)
        view = {"variant": member.variant, "in_experiment": True, "reason": "sticky"}
        candidate = Candidate(
            trial.key,
            "experiment",
            member.variant,
            "",
            None,
            member.hash_attribute,
            member.hash_value,
            trial.slots,
            _keys(trial.variant_rules[index]),
        )
        return view, candidate, trial.variant_rules[index]
    if trial.condition is not None and not trial.condition.predicate(attributes, now_s):
        return (
            {"variant": exp.variations[0], "in_experiment": False, "reason": "targeting"},
            None,
            (),
        )
    if exp.hash_attribute not in identity:  # a trait: everyone sharing it shares a variant
        identity = {**identity, exp.hash_attribute: attributes.get(exp.hash_attribute)}
    result = assign(exp, identity, holdout=holdout)
    view = {
        "variant": result.variation_key,
        "in_experiment": result.in_experiment,
        "reason": result.reason.value,
    }
    if not result.in_experiment:
        return view, None, ()
    if result.reason is not AssignmentReason.ASSIGNED:
        return view, None, trial.variant_rules[result.variation]  # forced QA: not measured
    measured = Candidate(
        trial.key,
        "experiment",
        result.variation_key,
        "",
        None,
        result.hash_attribute,
        result.hash_value,
        trial.slots,
        _keys(trial.variant_rules[result.variation]),
    )
    return view, measured, trial.variant_rules[result.variation]


def _bandit(
    trial: ConfiguredBandit,
    identity: Mapping[str, Any],
    attributes: Mapping[str, Any],
    now_s: float,
    member: TrialMember | None,
    weights: Mapping[tuple[str, str], BanditWeights],
) -> tuple[dict[str, Any], Candidate | None, tuple[Rule, ...]]:
    arms = trial.policy.arms
    if member is not None and member.variant in arms:
        view = {
            "variant": member.variant,
            "in_experiment": True,
            "reason": "sticky",
            "context": member.context or None,
            "propensity": member.propensity,
        }
        candidate = Candidate(
            trial.key,
            "bandit",
            member.variant,
            member.context,
            member.propensity,
            member.hash_attribute,
            member.hash_value,
            trial.slots,
            _keys(trial.arm_rules[arms.index(member.variant)]),
        )
        return view, candidate, trial.arm_rules[arms.index(member.variant)]
    if trial.condition is not None and not trial.condition.predicate(attributes, now_s):
        return {"variant": None, "in_experiment": False, "reason": "targeting"}, None, ()
    name = "user_id" if identity.get("user_id") else "anonymous_id"
    value = identity.get(name)
    if not value:
        return {"variant": None, "in_experiment": False, "reason": "no_hash_attribute"}, None, ()
    context = trial.context_of(attributes, now_s) or ""
    stored = weights.get((trial.key, context)) or weights.get((trial.key, ""))
    split = (
        tuple(stored.weights.get(arm, 0.0) for arm in arms)
        if stored is not None
        else tuple(1.0 / len(arms) for _ in arms)
    )
    choice = choose_arm(arms, split, str(value), seed=trial.policy.seed_used)
    view = {
        "variant": choice.arm,
        "in_experiment": True,
        "reason": "bandit",
        "context": context or None,
        "propensity": choice.propensity,
    }
    candidate = Candidate(
        trial.key,
        "bandit",
        choice.arm,
        context,
        choice.propensity,
        name,
        str(value),
        trial.slots,
        _keys(trial.arm_rules[choice.index]),
    )
    return view, candidate, trial.arm_rules[choice.index]


def assign_trials(
    config: ExperimentsConfig,
    *,
    attributes: Mapping[str, Any],
    user_id: str | None,
    anonymous_id: str | None,
    members: Sequence[TrialMember],
    weights: Mapping[tuple[str, str], BanditWeights],
    now: datetime,
    forced: Mapping[str, str] | None = None,
) -> TrialAssignments:
    """The user's variants and arms in every live trial (see the module doc).

    ``attributes`` are decide's attributes (targeting conditions and bandit contexts read
    them); ``members`` the profile's recorded memberships; ``weights`` the bandits'
    current splits by ``(bandit, context)``, ``""`` for the global one. ``forced`` (QA,
    from the request) shows a given variant or arm whatever else applies; it is not
    recorded as an exposure. Raises :class:`~firstmile.errors.InvalidRequest` for a
    forced key or variant the config does not have.
    """
    qa = check_forced(config, forced or {}, now)
    if config.empty:
        return NONE
    identity = hash_attributes(user_id, anonymous_id)
    by_trial = {m.trial_key: m for m in members}
    now_s = now_seconds(now)
    rules: list[Rule] = []
    view: dict[str, Any] = {}
    candidates: list[Candidate] = []
    for experiment in config.experiments:
        if not experiment.live(now):
            continue
        if experiment.key in qa:
            variant = qa[experiment.key]
            index = experiment.experiment.variations.index(variant)
            view[experiment.key] = {"variant": variant, "in_experiment": True, "reason": "forced"}
            rules.extend(experiment.variant_rules[index])
            continue
        seen, candidate, chosen = _experiment(
            experiment, identity, attributes, now_s, by_trial.get(experiment.key), config.holdout
        )
        view[experiment.key] = seen
        rules.extend(chosen)
        if candidate is not None:
            candidates.append(candidate)
    for bandit in config.bandits:
        if bandit.status != "running":
            continue
        if bandit.key in qa:
            arm = qa[bandit.key]
            view[bandit.key] = {"variant": arm, "in_experiment": True, "reason": "forced"}
            rules.extend(bandit.arm_rules[bandit.policy.arms.index(arm)])
            continue
        held = config.holdout is not None and config.holdout.contains(identity)
        if held and bandit.key not in by_trial:
            view[bandit.key] = {"variant": None, "in_experiment": False, "reason": "holdout"}
            continue
        seen, candidate, chosen = _bandit(
            bandit, identity, attributes, now_s, by_trial.get(bandit.key), weights
        )
        view[bandit.key] = seen
        rules.extend(chosen)
        if candidate is not None:
            candidates.append(candidate)
    return TrialAssignments(tuple(rules), view, tuple(candidates))
