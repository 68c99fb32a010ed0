"""Build and check the onboarding sections into an :class:`OnboardingPlanConfig`.

Beyond the shape (:mod:`firstmile.config.onboarding_schema`) this checks what needs the
whole file: duplicate ids and keys, references to missing content, flows and
checklists, items of the wrong kind in a slot, prerequisite cycles, conditions, the
segments and scores rules read, templates that do not compile, read unknown variables or
traits, or fail to render on a sample user in the sandbox. Conflicting and shadowed
rules are found afterwards, on the built config, by :mod:`firstmile.config.rule_check`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from firstmile.conditions import CompiledCondition, compile_condition
from firstmile.config.onboarding import (
    ACTIONS,
    SET_ACTIONS,
    TUTORIAL_DEPTHS,
    Action,
    Checklist,
    ContentItem,
    ContentKind,
    Defaults,
    Flow,
    FlowStep,
    Frequency,
    Limits,
    LocalizedText,
    OnboardingPlanConfig,
    Placement,
    Rule,
    keys_read,
    models_read,
)
from firstmile.config.onboarding_schema import (
    ChecklistIn,
    ContentIn,
    DefaultsIn,
    FlowIn,
    LimitsIn,
    PlacementIn,
    RuleIn,
    TextIn,
)
from firstmile.config.problems import FieldPath
from firstmile.config.references import find_key, segment_references
from firstmile.config.schema import SLUG, parse_duration, section_list
from firstmile.config.templates import CompiledTemplate, TemplateProblem, compile_template
from firstmile.errors import ConditionError

M = TypeVar("M", bound=BaseModel)

SECTIONS = ("catalog", "flows", "checklists", "rules", "defaults", "limits")
STEP_KINDS: frozenset[ContentKind] = frozenset({"step", "tutorial"})
CHECKLIST_KINDS: frozenset[ContentKind] = frozenset({"checklist_item", "step", "tutorial"})


class Reporter(Protocol):
    """The part of the config builder this module reports into."""

    paths: list[tuple[str, FieldPath]]

    @property
    def segment_keys(self) -> Mapping[str, FieldPath]: ...

    def add(self, path: FieldPath, message: str, *, at_key: bool = False) -> None: ...

    def validate(self, model: type[M], data: Any, path: FieldPath) -> M | None: ...

    def claim_key(
        self, keys: dict[str, FieldPath], kind: str, key: str | None, path: FieldPath
    ) -> bool: ...


def _guess(word: str, known: Iterable[str], what: str) -> str:
    names = sorted(known)
    close = difflib.get_close_matches(word, names, n=1)
    if close:
        return f"did you mean `{close[0]}`?"
    listed = ", ".join(f"`{n}`" for n in names[:12]) or "none yet"
    return f"the {what} are: {listed}"


def _time(text: str | None) -> datetime:
    assert text is not None
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def sample_variables(traits: Mapping[str, str] | None) -> dict[str, Any]:
    """What templates see for a made-up user, to check they render before shipping."""
    samples = {"string": "sample", "number": 1, "boolean": True, "timestamp": "2026-01-01"}
    return {
        "traits": {name: samples.get(kind, "sample") for name, kind in (traits or {}).items()},
        "computed": {"device_type": "desktop", "country": "US", "sessions": 1},
        "user_id": "sample-user",
        "context": {"locale": "en-US", "page": {"path": "/"}},
        "segments": [],
        "scores": {},
        "locale": "en-US",
    }


class OnboardingBuilder:
    """One pass over the onboarding sections, reporting every problem into ``report``."""

    def __init__(
        self,
        report: Reporter,
        groups: Mapping[str, Any],
        traits: Mapping[str, str] | None,
        score_keys: Iterable[str],
    ) -> None:
        self.report = report
        self.groups = groups
        self.traits = traits
        self.score_keys = frozenset(score_keys)
        self.variables = sample_variables(traits)
        self.cold = {**self.variables, "traits": {}, "user_id": None}

    # -- helpers -----------------------------------------------------------------------------

    def condition(self, raw: Mapping[str, Any], path: FieldPath) -> CompiledCondition | None:
        try:
            compiled = compile_condition(raw, self.groups)
        except ConditionError as exc:
            self.report.add((*path, *exc.path), exc.problem.rstrip(".") + ".")
            return None
        for attribute in sorted(compiled.attributes):
            where = (*path, *find_key(raw, attribute))
            self.report.paths.append((attribute, where))
            for key in segment_references([attribute]):
                if key not in self.report.segment_keys:
                    self.report.add(
                        where,
                        f"`{attribute}` reads segment `{key}`, which is not declared; "
                        + _guess(key, self.report.segment_keys, "segments"),
                    )
        return compiled

    def template(self, source: str, path: FieldPath) -> CompiledTemplate | None:
        try:
            compiled = compile_template(source)
        except TemplateProblem as exc:
            self.report.add(path, f"The {exc}.")
            return None
        if self.traits is not None:
            for name in sorted(compiled.traits_read - set(self.traits)):
                self.report.add(
                    path,
                    f"The template reads `traits.{name}`, which is not declared under "
                    f"`traits:`; {_guess(name, self.traits, 'declared traits')}",
                )
        # A user with every declared trait, and one with none (an unknown user).
        for who, variables in (
            ("a sample user", self.variables),
            ("a user with no traits", self.cold),
        ):
            try:
                compiled.render(variables)
            except Exception as exc:
                self.report.add(
                    path,
                    f"The template fails to render for {who}: {type(exc).__name__}: {exc}. "
                    "Fix the template (a missing trait renders empty; use `| default(...)`).",
                )
                return None
        return compiled

    def text(self, raw: TextIn | ContentIn, path: FieldPath) -> LocalizedText | None:
        title = self.template(raw.title, (*path, "title"))
        body = self.template(raw.body, (*path, "body"))
        return None if title is None or body is None else LocalizedText(title, body)

    # -- sections ----------------------------------------------------------------------------

    def catalog(self, raw_items: list[Any]) -> dict[str, ContentItem]:
        items: dict[str, ContentItem] = {}
        ids: dict[str, FieldPath] = {}
        for index, raw in enumerate(raw_items):
            path: FieldPath = ("catalog", index)
            item = self.report.validate(ContentIn, raw, path)
            if item is None or not self.report.claim_key(
                ids, "content item", item.id, (*path, "id")
            ):
                continue
            built = self.item(item, path)
            if built is not None:
                items[item.id] = built
        self.prerequisites(items, raw_items)
        return items

    def item(self, item: ContentIn, path: FieldPath) -> ContentItem | None:
        text = self.text(item, path)
        locales: dict[str, LocalizedText] = {}
        for locale, raw in item.locales.items():
            localized = self.text(raw, (*path, "locales", locale))
            if localized is not None:
                locales[locale.replace("_", "-").lower()] = localized
        frequency = None
        if item.once and item.frequency is not None:
            self.report.add((*path, "once"), "Write `once: true` or `frequency:`, not both.")
        elif item.once:
            frequency = Frequency(max=1)
        elif item.frequency is not None:
            per = None if item.frequency.per is None else parse_duration(item.frequency.per)
            frequency = Frequency(max=item.frequency.max, per=per)
        start = self.when(item.start, (*path, "start"))
        end = self.when(item.end, (*path, "end"))
        if start is not None and end is not None and end <= start:
            self.report.add((*path, "end"), "`end` must come after `start`.")
        if text is None:
            return None
        return ContentItem(
            id=item.id,
            kind=item.kind,
            text=text,
            locales=locales,
            tags=tuple(item.tags),
            completion_event=item.completion_event,
            prerequisites=tuple(item.prerequisites),
            frequency=frequency,
            start=start,
            end=end,
        )

    def when(self, text: str | None, path: FieldPath) -> datetime | None:
        if text is None:
            return None
        try:
            return _time(text)
        except ValueError:
            self.report.add(
                path,
                f"{text!r} is not a date and time; write ISO 8601 such as 2026-12-01T00:00:00Z.",
            )
            return None

    def prerequisites(self, items: Mapping[str, ContentItem], raw_items: list[Any]) -> None:
        positions = {raw.get("id"): i for i, raw in enumerate(raw_items) if isinstance(raw, dict)}
        for item in items.values():
            for j, needed in enumerate(item.prerequisites):
                if needed not in items:
                    self.report.add(
                        ("catalog", positions.get(item.id, 0), "prerequisites", j),
                        f"Prerequisite `{needed}` is not in the catalog; "
                        + _guess(needed, items, "items"),
                    )
        for cycle in _cycles({i.id: i.prerequisites for i in items.values()}):
            self.report.add(
                ("catalog", positions.get(cycle[0], 0), "prerequisites"),
                "Prerequisites form a cycle, so none of these can ever be done: "
                + " → ".join(cycle)
                + ". Remove one of them.",
            )

    def ref(
        self,
        value: str,
        items: Mapping[str, ContentItem],
        path: FieldPath,
        kinds: frozenset[ContentKind] | None = None,
    ) -> bool:
        """Whether ``value`` names a catalog item (of one of ``kinds``); reports if not."""
        item = items.get(value)
        if item is None:
            self.report.add(
                path, f"`{value}` is not in the catalog; " + _guess(value, items, "items")
            )
            return False
        if kinds is not None and item.kind not in kinds:
            wanted = " or ".join(sorted(kinds))
            self.report.add(path, f"`{value}` is a {item.kind}; this place takes a {wanted}.")
            return False
        return True

    def flows(self, raw_flows: list[Any], items: Mapping[str, ContentItem]) -> dict[str, Flow]:
        flows: dict[str, Flow] = {}
        keys: dict[str, FieldPath] = {}
        for index, raw in enumerate(raw_flows):
            path: FieldPath = ("flows", index)
            flow = self.report.validate(FlowIn, raw, path)
            if flow is None or not self.report.claim_key(keys, "flow", flow.key, (*path, "key")):
                continue
            steps = []
            seen: set[str] = set()
            for j, step in enumerate(flow.steps):
                where: FieldPath = (*path, "steps", j)
                if step.item in seen:
                    self.report.add((*where, "item"), f"`{step.item}` is twice in this flow.")
                    continue
                seen.add(step.item)
                ok = self.ref(step.item, items, (*where, "item"), STEP_KINDS)
                condition = (
                    None
                    if step.condition is None
                    else self.condition(step.condition, (*where, "condition"))
                )
                if ok and (step.condition is None or condition is not None):
                    steps.append(
                        FlowStep(step.item, condition, step.skippable, step.completion_event)
                    )
            flows[flow.key] = Flow(flow.key, flow.name, tuple(steps))
        return flows

    def checklists(
        self, raw_lists: list[Any], items: Mapping[str, ContentItem]
    ) -> dict[str, Checklist]:
        lists: dict[str, Checklist] = {}
        keys: dict[str, FieldPath] = {}
        for index, raw in enumerate(raw_lists):
            path: FieldPath = ("checklists", index)
            checklist = self.report.validate(ChecklistIn, raw, path)
            if checklist is None or not self.report.claim_key(
                keys, "checklist", checklist.key, (*path, "key")
            ):
                continue
            kept = tuple(
                item
                for j, item in enumerate(checklist.items)
                if self.ref(item, items, (*path, "items", j), CHECKLIST_KINDS)
            )
            lists[checklist.key] = Checklist(checklist.key, checklist.name, kept)
        return lists

    def action(
        self,
        then: Mapping[str, Any],
        path: FieldPath,
        items: Mapping[str, ContentItem],
        flows: Mapping[str, Flow],
        checklists: Mapping[str, Checklist],
    ) -> Action | None:
        if len(then) != 1:
            self.report.add(
                path,
                "`then:` holds exactly one action, such as `{set_welcome: welcome_fr}`; "
                "the actions are " + ", ".join(f"`{a}`" for a in ACTIONS) + ".",
            )
            return None
        ((kind, value),) = then.items()
        where = (*path, kind)
        if kind not in ACTIONS:
            self.report.add(
                where, f"Unknown action `{kind}`; " + _guess(kind, ACTIONS, "actions"), at_key=True
            )
            return None
        if kind in ("insert_step", "move_step"):
            return self.placed(kind, value, where, items)
        if not isinstance(value, str) or not SLUG.fullmatch(value):
            self.report.add(where, f"`{kind}` takes a key, such as `{kind}: create_project`.")
            return None
        checks: dict[str, Callable[[], bool]] = {
            "set_welcome": lambda: self.ref(value, items, where, frozenset({"message"})),
            "set_flow": lambda: self.known(value, flows, where, "flows"),
            "set_checklist": lambda: self.known(value, checklists, where, "checklists"),
            "set_tutorial_depth": lambda: self.known(
                value, dict.fromkeys(TUTORIAL_DEPTHS), where, "tutorial depths"
            ),
            "remove_step": lambda: self.ref(value, items, where, STEP_KINDS),
            "pin_tip": lambda: self.ref(value, items, where, frozenset({"feature_tip"})),
            "suppress": lambda: self.ref(value, items, where),
        }
        return Action(kind, value) if checks[kind]() else None

    def known(self, value: str, known: Mapping[str, Any], path: FieldPath, what: str) -> bool:
        if value in known:
            return True
        self.report.add(path, f"`{value}` is not one of the {what}; " + _guess(value, known, what))
        return False

    def placed(
        self, kind: str, value: Any, path: FieldPath, items: Mapping[str, ContentItem]
    ) -> Action | None:
        raw = {"item": value} if isinstance(value, str) else value
        placement = self.report.validate(PlacementIn, raw, path)
        if placement is None:
            return None
        given = [
            p for p in (placement.before, placement.after, placement.position) if p is not None
        ]
        if len(given) > 1:
            self.report.add(path, "Give one of `before`, `after` or `position`, not several.")
            return None
        ok = self.ref(placement.item, items, (*path, "item"), STEP_KINDS)
        for side in ("before", "after"):
            other = getattr(placement, side)
            if other is not None:
                ok = self.ref(other, items, (*path, side), STEP_KINDS) and ok
        if not ok:
            return None
        where = Placement(placement.before, placement.after, placement.position)
        return Action(kind, placement.item, where)

    def rules(
        self,
        raw_rules: list[Any],
        items: Mapping[str, ContentItem],
        flows: Mapping[str, Flow],
        checklists: Mapping[str, Checklist],
    ) -> tuple[Rule, ...]:
        rules: list[Rule] = []
        keys: dict[str, FieldPath] = {}
        for index, raw in enumerate(raw_rules):
            path: FieldPath = ("rules", index)
            rule = self.report.validate(RuleIn, raw, path)
            if rule is None or not self.report.claim_key(keys, "rule", rule.key, (*path, "key")):
                continue
            condition = self.condition(rule.when, (*path, "when"))
            action = self.action(rule.then, (*path, "then"), items, flows, checklists)
            if condition is None or action is None:
                continue
            rules.append(
                Rule(
                    rule.key,
                    rule.priority,
                    condition,
                    action,
                    rule.stop,
                    rule.description,
                    index,
                    segments_read=keys_read(condition.attributes, "segments"),
                    scores_read=keys_read(condition.attributes, "scores"),
                    models_read=models_read(condition.attributes),
                )
            )
        # Deterministic evaluation order: priority descending, then the order in the file.
        return tuple(sorted(rules, key=lambda r: (-r.priority, r.order)))

    def defaults(
        self,
        raw: Any,
        items: Mapping[str, ContentItem],
        flows: Mapping[str, Flow],
        checklists: Mapping[str, Checklist],
    ) -> Defaults:
        defaults = self.report.validate(DefaultsIn, raw if raw is not None else {}, ("defaults",))
        if defaults is None:
            return Defaults()
        path: FieldPath = ("defaults",)
        welcome = defaults.welcome
        if welcome is not None and not self.ref(
            welcome, items, (*path, "welcome"), frozenset({"message"})
        ):
            welcome = None
        flow = defaults.flow
        if flow is not None and not self.known(flow, flows, (*path, "flow"), "flows"):
            flow = None
        checklist = defaults.checklist
        if checklist is not None and not self.known(
            checklist, checklists, (*path, "checklist"), "checklists"
        ):
            checklist = None
        tips = tuple(
            tip
            for j, tip in enumerate(defaults.tips)
            if self.ref(tip, items, (*path, "tips", j), frozenset({"feature_tip"}))
        )
        return Defaults(welcome, flow, defaults.tutorial_depth, checklist, tips)

    def limits(self, raw: Any) -> Limits:
        limits = self.report.validate(LimitsIn, raw if raw is not None else {}, ("limits",))
        if limits is None:
            return Limits()
        return Limits(
            max_shown=limits.max_shown,
            per=parse_duration(limits.per),
            tips=limits.tips,
            recommendations=limits.recommendations,
        )

    def build(self, data: Mapping[str, Any]) -> OnboardingPlanConfig:
        items = self.catalog(section_list(data, "catalog"))
        flows = self.flows(section_list(data, "flows"), items)
        checklists = self.checklists(section_list(data, "checklists"), items)
        rules = self.rules(section_list(data, "rules"), items, flows, checklists)
        defaults = self.defaults(data.get("defaults"), items, flows, checklists)
        limits = self.limits(data.get("limits"))
        return OnboardingPlanConfig(items, flows, checklists, rules, defaults, limits)


def normalized_onboarding(data: Mapping[str, Any]) -> dict[str, Any]:
    """The onboarding sections in canonical form, for the config's version id.

    Only the sections the file declares appear, so a file without them keeps its id.
    """
    models: dict[str, type[BaseModel]] = {
        "catalog": ContentIn,
        "flows": FlowIn,
        "checklists": ChecklistIn,
        "rules": RuleIn,
    }
    out: dict[str, Any] = {}
    for name, model in models.items():
        if name in data:
            out[name] = [model.model_validate(raw).model_dump(mode="json") for raw in data[name]]
    if "defaults" in data:
        out["defaults"] = DefaultsIn.model_validate(data["defaults"] or {}).model_dump(mode="json")
    if "limits" in data:
        out["limits"] = LimitsIn.model_validate(data["limits"] or {}).model_dump(mode="json")
    return out


def _cycles(graph: Mapping[str, tuple[str, ...]]) -> list[list[str]]:
    """Each cycle once, as the path that closes it (``a → b → a``)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    found: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt in graph and nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


__all__ = [
    "SECTIONS",
    "SET_ACTIONS",
    "OnboardingBuilder",
    "normalized_onboarding",
    "sample_variables",
]
