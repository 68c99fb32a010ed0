"""What a decision takes and returns: plain values, JSON-ready with ``to_json``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from firstmile.profiles.content import ContentState

# Where a slot's value came from (docs/decide.md explains each).
ReasonSource = Literal[
    "rule",  # a rule matched and wrote the slot
    "default",  # no rule wrote it: the config's default
    "cold_start",  # an unknown user: the default, from the request context only
    "consent",  # no `personalization` consent: the default plan
    "fallback",  # something failed or ran over the time budget: the default
    "frequency_cap",  # the item was shown too often: withheld
    "schedule",  # outside the item's start/end dates: withheld
    "suppressed",  # a rule suppressed the item
    "popular",  # recommended: popular among users in the same segment
    "model",  # recommended, or read from a prediction: the promoted models
    "flow",  # the step is part of the flow
    "experiment",  # the user's variant of an experiment wrote the slot
    "bandit",  # the arm a bandit chose for the user wrote the slot
]
StepState = Literal["todo", "done", "skipped"]
PLAN_SCHEMA: Final = 1


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a slot (or an item) holds what it holds."""

    source: ReasonSource
    rule: str | None = None
    segments: tuple[str, ...] = ()  # segments the deciding rule's condition read
    scores: tuple[str, ...] = ()
    models: tuple[str, ...] = ()  # predictions (and "persona") the deciding rule read
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source}
        if self.rule is not None:
            out["rule"] = self.rule
        if self.segments:
            out["segments"] = list(self.segments)
        if self.scores:
            out["scores"] = list(self.scores)
        if self.models:
            out["models"] = list(self.models)
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass(frozen=True, slots=True)
class Rendered:
    """One content item as the app shows it."""

    item_id: str
    kind: str
    title: str
    body: str
    locale: str | None  # the locale the text is in; None: the default text
    tags: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "kind": self.kind,
            "title": self.title,
            "body": self.body,
            "locale": self.locale,
            "tags": list(self.tags),
        }


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """A step of the plan with its state."""

    content: Rendered
    state: StepState
    skippable: bool
    blocked_by: tuple[str, ...] = ()  # prerequisites not done yet
    reason: Reason = Reason("flow")

    def to_json(self) -> dict[str, Any]:
        return {
            **self.content.to_json(),
            "state": self.state,
            "skippable": self.skippable,
            "blocked_by": list(self.blocked_by),
            "reason": self.reason.to_json(),
        }


@dataclass(frozen=True, slots=True)
class ChecklistEntry:
    content: Rendered
    done: bool

    def to_json(self) -> dict[str, Any]:
        return {**self.content.to_json(), "done": self.done}


@dataclass(frozen=True, slots=True)
class DecisionInput:
    """Everything :func:`firstmile.decide.plan.compose` reads about one user and request.

    ``attributes`` is what conditions read: the profile's attributes with ``segments``
    and ``scores`` filled in, plus the request under ``context``. ``variables`` is what
    templates read. ``popular`` lists ``(item_id, segment_key, users)`` ordered by
    preference, for the recommendations slot; ``recommended`` lists ``(item_id,
    reason)`` from the promoted recommender, best first, and comes before ``popular``.
    """

    attributes: Mapping[str, Any]
    variables: Mapping[str, Any]
    content: Mapping[str, ContentState]
    now: datetime
    locale: str | None = None
    known: bool = True
    personalize: bool = True
    popular: tuple[tuple[str, str, int], ...] = ()
    recommended: tuple[tuple[str, str], ...] = ()
    degraded: str | None = None  # what failed before composing (the store, ...): fallback


@dataclass(frozen=True, slots=True)
class Plan:
    """The onboarding plan for one user now, with the reason for every slot."""

    config_version: str
    decided_at: datetime
    known: bool
    welcome: Rendered | None
    flow: str | None
    steps: tuple[PlannedStep, ...]
    tutorial_depth: str
    checklist: str | None
    checklist_items: tuple[ChecklistEntry, ...]
    tips: tuple[Rendered, ...]
    recommendations: tuple[Rendered, ...]
    reasons: Mapping[str, Reason]
    matched_rules: tuple[str, ...] = ()  # the rules that applied, in evaluation order
    withheld: Mapping[str, Reason] = field(default_factory=dict)  # item -> why not shown
    fallbacks: tuple[str, ...] = ()  # what failed or ran over, for logs
    experiments: Mapping[str, Any] = field(default_factory=dict)  # filled by experiments

    def shown_items(self) -> list[tuple[str, str]]:
        """``(slot, item_id)`` of everything in the plan, for the exposure log."""
        out: list[tuple[str, str]] = []
        if self.welcome is not None:
            out.append(("welcome", self.welcome.item_id))
        out.extend(("steps", s.content.item_id) for s in self.steps if s.state == "todo")
        out.extend(("checklist", c.content.item_id) for c in self.checklist_items if not c.done)
        out.extend(("tips", t.item_id) for t in self.tips)
        out.extend(("recommendations", r.item_id) for r in self.recommendations)
        return out

    def to_json(self) -> dict[str, Any]:
        done = sum(1 for c in self.checklist_items if c.done)
        return {
            "config_version": self.config_version,
            "decided_at": self.decided_at.isoformat(),
            "known": self.known,
            "welcome": None if self.welcome is None else self.welcome.to_json(),
            "flow": self.flow,
            "steps": [s.to_json() for s in self.steps],
            "tutorial_depth": self.tutorial_depth,
            "checklist": None
            if self.checklist is None
            else {
                "key": self.checklist,
                "items": [c.to_json() for c in self.checklist_items],
                "done": done,
                "total": len(self.checklist_items),
            },
            "tips": [t.to_json() for t in self.tips],
            "recommendations": [r.to_json() for r in self.recommendations],
            "experiments": dict(self.experiments),
            "reasons": {slot: r.to_json() for slot, r in self.reasons.items()},
            "matched_rules": list(self.matched_rules),
            "withheld": {item: r.to_json() for item, r in self.withheld.items()},
            "fallbacks": list(self.fallbacks),
        }
