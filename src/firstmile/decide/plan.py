"""Compose the onboarding plan for one user: a pure function of config and input.

Evaluation order (documented in ``docs/decide.md``):

1. Rules are evaluated by priority, highest first; equal priorities in file order. A
   matching rule with ``stop: true`` ends the evaluation. A rule whose slot (or item) a
   higher-priority rule already wrote is skipped, as it cannot change the plan; the
   plan's ``matched_rules`` are the rules that applied.
2. A single-valued slot (welcome, flow, tutorial depth, checklist) takes the value of the
   first matching rule that writes it; a later rule writing it changes nothing.
3. Item operations (insert, remove or move a step, pin a tip, suppress an item) are
   applied in evaluation order, and on each item the first operation wins.
4. Slots no rule wrote take the config's defaults. Without `personalization` consent no
   rule is evaluated: the plan is the default one, with reason ``consent``.
5. Messages and tips are interruptions: they are withheld past their own frequency
   (``once``, ``frequency``), past the global ``limits.max_shown``, outside their dates,
   and when suppressed. Steps and checklist items are the onboarding itself and are not
   capped.

Nothing here raises for a user's data: a condition or template that fails makes its
slot fall back to the default, with reason ``fallback``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

from firstmile.conditions.timestamps import now_seconds
from firstmile.config.onboarding import (
    ContentItem,
    Flow,
    OnboardingPlanConfig,
    Placement,
    Rule,
    locale_candidates,
)
from firstmile.decide.model import (
    ChecklistEntry,
    DecisionInput,
    Plan,
    PlannedStep,
    Reason,
    ReasonSource,
    Rendered,
    StepState,
)
from firstmile.profiles.content import ContentState

OverBudget = Callable[[], bool]
_Entry = tuple[str, bool, str | None, Reason]  # step item, skippable, completion event, why

_EMPTY_STATE = ContentState()
_BUDGET_EVERY = 8  # rules evaluated between two looks at the clock


def _never() -> bool:
    return False


_RENDERED_KEPT = 256  # locale-candidate tuples kept per plain-text item


def rule_reason(rule: Rule) -> Reason:
    """A rule's reason, naming the segments and scores its condition reads."""
    return Reason(
        cast(ReasonSource, rule.origin),
        rule=rule.key,
        segments=rule.segments_read,
        scores=rule.scores_read,
        models=rule.models_read,
        detail=rule.description,
    )


@dataclass(slots=True)
class _Matches:
    """The outcome of rule evaluation: slot values and item operations, with their rules."""

    slots: dict[str, tuple[str, Rule]] = field(default_factory=dict)
    ops: dict[str, Rule] = field(default_factory=dict)  # target -> first rule touching it
    matched: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    over_budget: bool = False


def match_rules(
    rules: Iterable[Rule], attributes: Mapping[str, Any], now: datetime, over: OverBudget
) -> _Matches:
    """Evaluate ``rules`` (already in evaluation order) against ``attributes``."""
    out = _Matches()
    taken: set[str] = set()  # targets already written: a slot, or a slot and an item
    now_s = now_seconds(now)  # converted once, not once per condition
    for index, rule in enumerate(rules):
        if index % _BUDGET_EVERY == 0 and over():
            out.over_budget = True
            break
        target = rule.target
        if target in taken and not rule.stop:
            continue  # a higher-priority rule already decided this: it cannot change the plan
        try:
            hit = rule.condition.predicate(attributes, now_s)
        except Exception:
            out.failed.append(rule.key)
            continue
        if not hit:
            continue
        out.matched.append(rule.key)
        if target not in taken:
            taken.add(target)
            if rule.sets_slot:
                out.slots[rule.action.slot] = (rule.action.value, rule)
            else:
                out.ops[target] = rule
        if rule.stop:
            break
    return out


class _Composer:
    def __init__(
        self,
        config: OnboardingPlanConfig,
        inp: DecisionInput,
        over: OverBudget,
        trial_rules: Sequence[Rule] = (),
    ) -> None:
        self.config = config
        self.inp = inp
        self.over = over
        self.reasons: dict[str, Reason] = {}
        self.withheld: dict[str, Reason] = {}
        self.fallbacks: list[str] = [] if inp.degraded is None else [inp.degraded]
        self.base = (
            Reason("fallback", detail=inp.degraded)
            if inp.degraded is not None
            else Reason("consent", detail="no personalization consent: the default plan")
            if not inp.personalize
            else Reason("cold_start", detail="unknown user: decided from the request")
            if not inp.known
            else Reason("default")
        )
        self.locales = locale_candidates(inp.locale)
        # Variant and arm actions come first: an experiment decides the slots it tests.
        rules = (*trial_rules, *config.rules) if trial_rules else config.rules
        if not inp.personalize:
            rules = ()
        self.matches = match_rules(rules, inp.attributes, inp.now, over)
        if self.matches.over_budget:
            self.fallbacks.append("rules: over the time budget")
        self.fallbacks.extend(f"rule {key}: failed" for key in self.matches.failed)
        self.suppressed = {
            rule.action.value: rule
            for rule in self.matches.ops.values()
            if rule.action.kind == "suppress"
        }
        limits = config.limits
        self.capped = limits.max_shown is not None and (
            sum(s.shown_since(inp.now - limits.per) for s in inp.content.values())
            >= limits.max_shown
        )

    # -- items -------------------------------------------------------------------------------

    def state(self, item_id: str) -> ContentState:
        return self.inp.content.get(item_id, _EMPTY_STATE)

    def done(self, item: ContentItem, completion_event: str | None = None) -> bool:
        if self.state(item.id).completed_at is not None:
            return True
        event = completion_event or item.completion_event
        if event is None:
            return False
        events = self.inp.attributes.get("events")
        counts = events.get(event) if isinstance(events, Mapping) else None
        return isinstance(counts, Mapping) and bool(counts.get("count"))

    def render(self, item: ContentItem) -> Rendered:
        known: Rendered | None = item.rendered.get(self.locales)
        if known is not None:
            return known
        locale, text = item.text_in(self.locales)
        variables = self.inp.variables  # Jinja copies what it is given: no copy here
        rendered = Rendered(
            item.id,
            item.kind,
            text.title.render(variables),
            text.body.render(variables),
            locale,
            item.tags,
        )
        if text.title.constant and text.body.constant:
            # Plain text renders the same for everyone: keep it (bounded, since the
            # locale candidates come from requests).
            if len(item.rendered) >= _RENDERED_KEPT:
                item.rendered.clear()
            item.rendered[self.locales] = rendered
        return rendered

    def try_render(self, item: ContentItem, slot: str) -> Rendered | None:
        """``item`` rendered, or ``None`` with the failure noted in ``fallbacks``: a
        user's template must not fail the decision, only its own slot."""
        try:
            return self.render(item)
        except Exception as exc:
            self.fallbacks.append(f"{slot} {item.id}: {type(exc).__name__}: {exc}")
            return None

    def blocked(self, item: ContentItem) -> Reason | None:
        """Why an interruption (message, tip) is withheld now, or ``None``."""
        if item.id in self.suppressed:
            return replace(rule_reason(self.suppressed[item.id]), source="suppressed")
        if not item.scheduled(self.inp.now):
            return Reason("schedule", detail="outside the item's start/end dates")
        frequency = item.frequency
        if frequency is not None:
            state = self.state(item.id)
            shown = (
                state.shown_count
                if frequency.per is None
                else state.shown_since(self.inp.now - frequency.per)
            )
            if shown >= frequency.max:
                return Reason("frequency_cap", detail=f"shown {shown} of {frequency.max} times")
        if self.capped:
            return Reason("frequency_cap", detail="the user's interruption limit is reached")
        state = self.state(item.id)
        if state.dismissed_at is not None or state.completed_at is not None:
            return Reason("frequency_cap", detail="dismissed or done")
        return None

    # -- slots -------------------------------------------------------------------------------

    def chosen(self, slot: str, default: str | None) -> tuple[str | None, Reason]:
        hit = self.matches.slots.get(slot)
        if hit is not None:
            return hit[0], rule_reason(hit[1])
        return default, self.base

    def welcome(self) -> Rendered | None:
        """The welcome message: the rule's, else the default, skipping withheld ones."""
        default = self.config.defaults.welcome
        wanted, reason = self.chosen("welcome", default)
        if self.over():
            self.fallbacks.append("welcome: over the time budget")
            wanted, reason = default, Reason("fallback", detail="over the time budget")
        candidates = [(wanted, reason)]
        if default != wanted:
            candidates.append((default, self.base))
        failed = False
        for candidate, why in candidates:
            if candidate is None:
                continue
            item = self.config.catalog[candidate]
            blocked = self.blocked(item)
            if blocked is not None:
                self.withheld[candidate] = blocked
                continue
            rendered = self.try_render(item, "welcome")
            if rendered is None:
                failed = True
                continue
            self.reasons["welcome"] = (
                Reason("fallback", detail=f"the template of {wanted} failed") if failed else why
            )
            return rendered
        self.reasons["welcome"] = reason if wanted is None else self.withheld.get(wanted, reason)
        return None

    def steps(self) -> tuple[str | None, tuple[PlannedStep, ...]]:
        flow_key, reason = self.chosen("flow", self.config.defaults.flow)
        self.reasons["flow"] = reason
        flow: Flow | None = self.config.flows.get(flow_key) if flow_key else None
        order: list[_Entry] = []
        if flow is not None:
            for step in flow.steps:
                try:
                    wanted = step.condition is None or step.condition(
                        self.inp.attributes, now=self.inp.now
                    )
                except Exception:
                    wanted = False
                if wanted:
                    order.append((step.item, step.skippable, step.completion_event, Reason("flow")))
        order = self._apply_ops(order)
        planned = []
        for item_id, skippable, completion_event, step_reason in order:
            item = self.config.catalog[item_id]
            content = self.try_render(item, "step")
            if content is None:
                continue
            state: StepState = "todo"
            if self.done(item, completion_event):
                state = "done"
            elif skippable and self.state(item_id).dismissed_at is not None:
                state = "skipped"
            blocked_by = tuple(
                p
                for p in item.prerequisites
                if p in self.config.catalog and not self.done(self.config.catalog[p])
            )
            planned.append(PlannedStep(content, state, skippable, blocked_by, step_reason))
        self.reasons["steps"] = reason
        return flow_key, tuple(planned)

    def _apply_ops(self, order: list[_Entry]) -> list[_Entry]:
        for rule in self.matches.ops.values():
            action = rule.action
            ids = [entry[0] for entry in order]
            if action.kind in ("remove_step", "suppress") and action.value in ids:
                del order[ids.index(action.value)]
                self.withheld[action.value] = replace(
                    rule_reason(rule),
                    source="rule" if action.kind == "remove_step" else "suppressed",
                )
            elif action.kind in ("insert_step", "move_step"):
                entry: _Entry = (action.value, False, None, rule_reason(rule))
                if action.value in ids:
                    if action.kind == "insert_step":
                        continue  # already there
                    entry = (*order.pop(ids.index(action.value))[:3], rule_reason(rule))
                elif action.kind == "move_step":
                    continue  # nothing to move
                order.insert(self._position(action.placement, [e[0] for e in order]), entry)
        return order

    @staticmethod
    def _position(placement: Placement | None, ids: list[str]) -> int:
        if placement is None:
            return len(ids)
        if placement.position is not None:
            return min(placement.position, len(ids))
        if placement.before is not None and placement.before in ids:
            return ids.index(placement.before)
        if placement.after is not None and placement.after in ids:
            return ids.index(placement.after) + 1
        return len(ids)

    def checklist(self) -> tuple[str | None, tuple[ChecklistEntry, ...]]:
        key, reason = self.chosen("checklist", self.config.defaults.checklist)
        self.reasons["checklist"] = reason
        checklist = self.config.checklists.get(key) if key else None
        if checklist is None:
            return None, ()
        entries = []
        for item_id in checklist.items:
            if item_id in self.suppressed:
                continue
            item = self.config.catalog[item_id]
            rendered = self.try_render(item, "checklist")
            if rendered is not None:
                entries.append(ChecklistEntry(rendered, self.done(item)))
        return key, tuple(entries)

    def tips(self, taken: set[str]) -> tuple[Rendered, ...]:
        pinned = [
            (rule.action.value, rule_reason(rule))
            for rule in self.matches.ops.values()
            if rule.action.kind == "pin_tip"
        ]
        defaults = [(tip, self.base) for tip in self.config.defaults.tips]
        out: list[Rendered] = []
        reason: Reason | None = None
        for item_id, why in [*pinned, *defaults]:
            if len(out) >= self.config.limits.tips or item_id in taken:
                continue
            item = self.config.catalog[item_id]
            blocked = self.blocked(item)
            if blocked is not None:
                self.withheld[item_id] = blocked
                continue
            rendered = self.try_render(item, "tip")
            if rendered is None:
                continue
            out.append(rendered)
            taken.add(item_id)
            reason = reason or why
        self.reasons["tips"] = reason or self.base
        return tuple(out)

    def recommendations(self, taken: set[str]) -> tuple[Rendered, ...]:
        out: list[Rendered] = []
        segments: list[str] = []
        why: list[str] = []
        # The promoted recommender first (its own reasons), then popular-in-segment.
        candidates = [(item_id, "", reason) for item_id, reason in self.inp.recommended]
        candidates += [(item_id, segment, "") for item_id, segment, _ in self.inp.popular]
        for item_id, segment, reason in candidates:
            if len(out) >= self.config.limits.recommendations:
                break
            item = self.config.catalog.get(item_id)
            if item is None or item_id in taken or item_id in self.suppressed:
                continue
            if self.done(item) or not item.scheduled(self.inp.now):
                continue
            rendered = self.try_render(item, "recommendation")
            if rendered is None:
                continue
            out.append(rendered)
            taken.add(item_id)
            if reason:
                why.append(f"{item_id}: {reason}")
            else:
                segments.append(segment)
        if not out:
            self.reasons["recommendations"] = self.base
        elif why:
            self.reasons["recommendations"] = Reason(
                "model", detail="recommended by the model: " + "; ".join(why)
            )
        else:
            self.reasons["recommendations"] = Reason(
                "popular",
                segments=tuple(dict.fromkeys(s for s in segments if s != "*")),
                detail="popular among users like this one",
            )
        return tuple(out)


def compose(
    config: OnboardingPlanConfig,
    inp: DecisionInput,
    *,
    config_version: str,
    over_budget: OverBudget = _never,
    trial_rules: Sequence[Rule] = (),
) -> Plan:
    """The plan for ``inp`` under ``config``. ``over_budget()`` says the time is up.

    ``trial_rules`` are the actions of the user's experiment variants and bandit arms,
    evaluated before the config's rules (see :mod:`firstmile.trials`).
    """
    c = _Composer(config, inp, over_budget, trial_rules)
    welcome = c.welcome()
    flow, steps = c.steps()
    depth, depth_reason = c.chosen("tutorial_depth", config.defaults.tutorial_depth)
    c.reasons["tutorial_depth"] = depth_reason
    checklist, entries = c.checklist()
    taken = {s.content.item_id for s in steps} | {e.content.item_id for e in entries}
    tips = c.tips(taken)
    recommendations = c.recommendations(taken)
    return Plan(
        config_version=config_version,
        decided_at=inp.now,
        known=inp.known,
        welcome=welcome,
        flow=flow,
        steps=steps,
        tutorial_depth=depth or config.defaults.tutorial_depth,
        checklist=checklist,
        checklist_items=entries,
        tips=tips,
        recommendations=recommendations,
        reasons=c.reasons,
        matched_rules=tuple(c.matches.matched),
        withheld=c.withheld,
        fallbacks=tuple(c.fallbacks),
    )
