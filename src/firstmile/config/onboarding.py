"""The onboarding half of the config: catalog, flows, checklists, rules, limits (frozen).

These are what :mod:`firstmile.decide` composes a plan from. They are built and checked
by :mod:`firstmile.config.onboarding_build`; conditions and templates arrive compiled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from firstmile.conditions import CompiledCondition
from firstmile.config.templates import CompiledTemplate

ContentKind = Literal["step", "tutorial", "message", "checklist_item", "feature_tip"]
CONTENT_KINDS: Final[tuple[ContentKind, ...]] = (
    "step",
    "tutorial",
    "message",
    "checklist_item",
    "feature_tip",
)
TutorialDepth = Literal["none", "light", "standard", "guided"]
TUTORIAL_DEPTHS: Final[tuple[TutorialDepth, ...]] = ("none", "light", "standard", "guided")

# Single-valued slots: the first rule (highest priority) that writes one wins.
SET_ACTIONS: Final = {
    "set_welcome": "welcome",
    "set_flow": "flow",
    "set_tutorial_depth": "tutorial_depth",
    "set_checklist": "checklist",
}
# Item operations: on one item, the first rule (highest priority) that touches it wins.
ITEM_ACTIONS: Final = {
    "insert_step": "steps",
    "remove_step": "steps",
    "move_step": "steps",
    "pin_tip": "tips",
    "suppress": "items",
}
ACTIONS: Final = {**SET_ACTIONS, **ITEM_ACTIONS}


def locale_candidates(locale: str | None) -> tuple[str, ...]:
    """The locales to try for ``locale``, most specific first: ``fr_CA`` → fr-ca, fr."""
    if not locale:
        return ()
    wanted = locale.replace("_", "-").lower()
    language = wanted.split("-", 1)[0]
    return (wanted,) if language == wanted else (wanted, language)


@dataclass(frozen=True, slots=True)
class LocalizedText:
    """A title and body in one locale; the body is a sandboxed template."""

    title: CompiledTemplate
    body: CompiledTemplate


@dataclass(frozen=True, slots=True)
class Frequency:
    """At most ``max`` shows per ``per`` (``per=None``: ever — "show once" is max 1)."""

    max: int
    per: timedelta | None = None


@dataclass(frozen=True, slots=True)
class ContentItem:
    """One piece of onboarding content."""

    id: str
    kind: ContentKind
    text: LocalizedText  # the default locale
    locales: Mapping[str, LocalizedText] = field(default_factory=dict)  # "fr", "pt-br", ...
    tags: tuple[str, ...] = ()
    completion_event: str | None = None
    prerequisites: tuple[str, ...] = ()
    frequency: Frequency | None = None
    start: datetime | None = None
    end: datetime | None = None
    # What decide rendered of an item whose title and body are plain text, by the
    # locale candidates asked for: the same for every user (see decide.plan).
    rendered: dict[tuple[str, ...], Any] = field(default_factory=dict, compare=False, repr=False)

    def text_in(self, candidates: tuple[str, ...]) -> tuple[str | None, LocalizedText]:
        """The text in the first of ``candidates`` (from :func:`locale_candidates`) the item
        has, else the default: ``pt-BR`` → ``pt`` → default. Returns the locale used
        (``None`` for the default) and its text.

        >>> from firstmile.config.templates import compile_template as t
        >>> item = ContentItem("hi", "message", LocalizedText(t("Hi"), t("")),
        ...                    locales={"pt": LocalizedText(t("Oi"), t(""))})
        >>> item.text_in(locale_candidates("pt_BR"))[0], item.text_in(locale_candidates("en-US"))[0]
        ('pt', None)
        """
        if self.locales:
            for candidate in candidates:
                text = self.locales.get(candidate)
                if text is not None:
                    return candidate, text
        return None, self.text

    def scheduled(self, now: datetime) -> bool:
        """Whether ``now`` is inside the item's start/end dates."""
        return (self.start is None or now >= self.start) and (self.end is None or now < self.end)


@dataclass(frozen=True, slots=True)
class FlowStep:
    """A step of a flow: an item, who gets it, whether it can be skipped."""

    item: str
    condition: CompiledCondition | None = None
    skippable: bool = False
    completion_event: str | None = None  # overrides the item's


@dataclass(frozen=True, slots=True)
class Flow:
    """An ordered list of steps."""

    key: str
    name: str
    steps: tuple[FlowStep, ...]


@dataclass(frozen=True, slots=True)
class Checklist:
    """Items that tick themselves off from real events."""

    key: str
    name: str
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Placement:
    """Where ``insert_step``/``move_step`` puts an item: before/after another, or at a position."""

    before: str | None = None
    after: str | None = None
    position: int | None = None


@dataclass(frozen=True, slots=True)
class Action:
    """What a rule does: ``kind`` is one of :data:`ACTIONS`."""

    kind: str
    value: str  # the item, flow, checklist or depth
    placement: Placement | None = None

    @property
    def slot(self) -> str:
        return ACTIONS[self.kind]

    @property
    def target(self) -> str:
        """What two rules must share to collide: the slot, or the slot and the item."""
        return self.slot if self.kind in SET_ACTIONS else f"{self.slot}:{self.value}"


@dataclass(frozen=True, slots=True)
class Rule:
    """Condition → action, with a priority (higher first) and an optional stop."""

    key: str
    priority: int
    condition: CompiledCondition
    action: Action
    stop: bool = False
    description: str = ""
    order: int = 0  # position in the file: breaks priority ties, deterministically
    # The segment and score keys the condition reads, named in the rule's reasons.
    segments_read: tuple[str, ...] = ()
    scores_read: tuple[str, ...] = ()
    # The model outputs it reads: prediction keys, and "persona" when it reads the persona.
    models_read: tuple[str, ...] = ()
    # What wrote the rule: "rule" (the rules section), "experiment" (a variant's actions)
    # or "bandit" (an arm's actions); reasons name it as their source.
    origin: str = "rule"
    # Worked out once: the planner reads these for every rule of every decision.
    target: str = field(init=False, compare=False)
    sets_slot: bool = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", self.action.target)
        object.__setattr__(self, "sets_slot", self.action.kind in SET_ACTIONS)


def models_read(attributes: frozenset[str]) -> tuple[str, ...]:
    """The prediction keys (and ``persona``) among attribute paths, sorted.

    >>> models_read(frozenset({"predictions.churn", "persona", "plan"}))
    ('churn', 'persona')
    """
    found = set(keys_read(attributes, "predictions"))
    if "persona" in attributes:
        found.add("persona")
    return tuple(sorted(found))


def keys_read(attributes: frozenset[str], family: str) -> tuple[str, ...]:
    """The keys of ``family`` (``segments`` or ``scores``) among attribute paths, sorted.

    >>> keys_read(frozenset({"segments.pro", "scores.engaged", "segments.beta.x", "plan"}),
    ...           "segments")
    ('beta', 'pro')
    """
    keys = set()
    for path in attributes:
        root, _, rest = path.partition(".")
        key = rest.split(".", 1)[0]
        if root == family and key:
            keys.add(key)
    return tuple(sorted(keys))


@dataclass(frozen=True, slots=True)
class Defaults:
    """What a slot holds when no rule writes it."""

    welcome: str | None = None
    flow: str | None = None
    tutorial_depth: TutorialDepth = "standard"
    checklist: str | None = None
    tips: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Limits:
    """Global caps on interruptions (messages and tips) per user."""

    max_shown: int | None = None  # interruptions shown per period
    per: timedelta = timedelta(days=1)
    tips: int = 3  # tips in one plan
    recommendations: int = 3


@dataclass(frozen=True, slots=True)
class OnboardingPlanConfig:
    """Everything decide needs from the file; empty when the file declares none of it."""

    catalog: Mapping[str, ContentItem] = field(default_factory=dict)
    flows: Mapping[str, Flow] = field(default_factory=dict)
    checklists: Mapping[str, Checklist] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()  # in evaluation order: priority desc, then file order
    defaults: Defaults = Defaults()
    limits: Limits = Limits()

    @property
    def empty(self) -> bool:
        return not (self.catalog or self.rules)

    def scores_read(self) -> frozenset[str] | None:
        """The scores rules and flows read, or ``None`` when a template may read any."""
        for item in self.catalog.values():
            for text in (item.text, *item.locales.values()):
                if "scores" in text.title.roots or "scores" in text.body.roots:
                    return None
        keys = {key for rule in self.rules for key in rule.scores_read}
        for flow in self.flows.values():
            for step in flow.steps:
                if step.condition is not None:
                    keys.update(keys_read(step.condition.attributes, "scores"))
        return frozenset(keys)
