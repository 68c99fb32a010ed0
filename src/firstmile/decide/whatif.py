"""What-if: how a candidate config would change users' plans (pure: plans in, summary out).

:func:`summarize` reads, for each user, the plan under the current config and the plan
under the candidate (composed from the same profile at the same time; the service does
that in ``Firstmile.simulate``) and counts what changes: users whose plan changes, changes
per slot, per segment of the candidate config (members, and members whose plan changes),
per rule responsible, and a few examples. Recommendations are left out: they follow
popularity, not the config.

>>> from datetime import UTC, datetime
>>> from firstmile.decide.model import Plan, Reason
>>> def plan(flow, rule=None):
...     why = Reason("rule", rule=rule) if rule else Reason("default")
...     return Plan("v", datetime(2026, 1, 1, tzinfo=UTC), True, None, flow, (), "standard",
...                 None, (), (), (), {"flow": why, "steps": why})
>>> report = summarize(
...     [Replay("u1", ("pro",), plan("setup"), plan("quick", "pro_quick")),
...      Replay("u2", (), plan("setup"), plan("setup"))],
...     current="v1", candidate="v2", segment_keys=("pro",))
>>> report.profiles, report.changed, report.slots["flow"], report.segments["pro"]
(2, 1, 1, {'members': 1, 'changed': 1})
>>> report.examples[0].to_json()
{'user': 'u1', 'slot': 'flow', 'before': 'setup', 'after': 'quick', 'rule': 'pro_quick', 'source': 'rule', 'rule_before': None}
"""  # noqa: E501

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from firstmile.decide.model import Plan, Reason

SLOTS: Final = ("welcome", "flow", "steps", "tutorial_depth", "checklist", "tips")


@dataclass(frozen=True, slots=True)
class Replay:
    """One user's plans under the current and the candidate config.

    ``user`` is the user id (the profile id for an anonymous profile); ``segments`` the
    segments the user is in under the candidate config.
    """

    user: str
    segments: tuple[str, ...]
    before: Plan
    after: Plan


@dataclass(frozen=True, slots=True)
class SlotChange:
    """One slot of one user's plan that the candidate changes, and the rule behind it.

    ``rule`` is the candidate's rule for the slot (``None`` when a default or the user's
    progress decides it, then ``source`` says which); ``rule_before`` the current one's.
    """

    user: str
    slot: str
    before: Any
    after: Any
    rule: str | None
    source: str
    rule_before: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "slot": self.slot,
            "before": self.before,
            "after": self.after,
            "rule": self.rule,
            "source": self.source,
            "rule_before": self.rule_before,
        }


def slot_values(plan: Plan) -> dict[str, Any]:
    """What each slot of ``plan`` holds, as comparable JSON values.

    Steps are item ids, with their state when not to do (``create_project (done)``); a
    checklist is its key and its items (``getting_started: a, b``).
    """
    steps = [
        s.content.item_id if s.state == "todo" else f"{s.content.item_id} ({s.state})"
        for s in plan.steps
    ]
    checklist = None
    if plan.checklist is not None:
        items = ", ".join(c.content.item_id for c in plan.checklist_items)
        checklist = f"{plan.checklist}: {items}"
    return {
        "welcome": None if plan.welcome is None else plan.welcome.item_id,
        "flow": plan.flow,
        "steps": steps,
        "tutorial_depth": plan.tutorial_depth,
        "checklist": checklist,
        "tips": [t.item_id for t in plan.tips],
    }


def _step_reason(before: Plan, after: Plan) -> Reason | None:
    """The rule behind a change of steps: a step a rule placed, or a step it removed."""
    old = {s.content.item_id: s.reason.rule for s in before.steps}
    for step in after.steps:
        if step.reason.rule is not None and old.get(step.content.item_id) != step.reason.rule:
            return step.reason
    kept = {s.content.item_id for s in after.steps}
    for item, why in after.withheld.items():
        if why.rule is not None and item in old and item not in kept:
            return why
    return None


def slot_changes(replay: Replay) -> list[SlotChange]:
    """The slots the candidate changes for this user, in :data:`SLOTS` order."""
    before, after = slot_values(replay.before), slot_values(replay.after)
    changes = []
    for slot in SLOTS:
        if before[slot] == after[slot]:
            continue
        reason = replay.after.reasons.get(slot)
        if slot == "steps":
            reason = _step_reason(replay.before, replay.after) or reason
        old = replay.before.reasons.get(slot)
        changes.append(
            SlotChange(
                replay.user,
                slot,
                before[slot],
                after[slot],
                None if reason is None else reason.rule,
                "default" if reason is None else reason.source,
                None if old is None else old.rule,
            )
        )
    return changes


@dataclass(frozen=True, slots=True)
class Simulation:
    """What the candidate config changes, over the users replayed."""

    current: str
    candidate: str
    profiles: int
    changed: int
    slots: Mapping[str, int]
    segments: Mapping[str, Mapping[str, int]]
    rules: Mapping[str, int]
    examples: tuple[SlotChange, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "candidate": self.candidate,
            "profiles": self.profiles,
            "changed": self.changed,
            "slots": dict(self.slots),
            "segments": {key: dict(counts) for key, counts in self.segments.items()},
            "rules": dict(self.rules),
            "examples": [e.to_json() for e in self.examples],
        }


def _pick(by_slot: Mapping[str, list[SlotChange]], count: int) -> tuple[SlotChange, ...]:
    """``count`` examples, taking the slots in turn so each kind of change shows."""
    picked: list[SlotChange] = []
    for round_ in range(count):
        for slot in SLOTS:
            found = by_slot.get(slot, [])
            if round_ < len(found) and len(picked) < count:
                picked.append(found[round_])
    return tuple(picked)


def summarize(
    replays: Iterable[Replay],
    *,
    current: str,
    candidate: str,
    segment_keys: Sequence[str],
    examples: int = 10,
) -> Simulation:
    """Count the changes over ``replays`` (read once, in order; see the module docstring).

    ``segment_keys`` are the candidate config's segments, reported even when empty;
    ``rules`` counts changes per responsible rule (the candidate's, else the current
    one's).
    """
    profiles = changed = 0
    slots: Counter[str] = Counter(dict.fromkeys(SLOTS, 0))
    members: Counter[str] = Counter()
    moved: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    by_slot: dict[str, list[SlotChange]] = {}
    for replay in replays:
        profiles += 1
        members.update(replay.segments)
        changes = slot_changes(replay)
        if not changes:
            continue
        changed += 1
        moved.update(replay.segments)
        for change in changes:
            slots[change.slot] += 1
            rule = change.rule or change.rule_before
            if rule is not None:
                rules[rule] += 1
            found = by_slot.setdefault(change.slot, [])
            if len(found) < examples:
                found.append(change)
    return Simulation(
        current=current,
        candidate=candidate,
        profiles=profiles,
        changed=changed,
        slots=dict(slots),
        segments={key: {"members": members[key], "changed": moved[key]} for key in segment_keys},
        rules=dict(sorted(rules.items(), key=lambda item: (-item[1], item[0]))),
        examples=_pick(by_slot, examples),
    )


__all__ = [
    "SLOTS",
    "Replay",
    "Simulation",
    "SlotChange",
    "slot_changes",
    "slot_values",
    "summarize",
]
