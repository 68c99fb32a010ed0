"""Parsed YAML → :class:`OnboardingConfig`, collecting every problem on the way.

Shape problems come from the pydantic models (:mod:`firstmile.config.schema`); this
module adds what needs the whole file: the schema version, declared traits, duplicate keys,
conditions (compiled here, with the saved groups), score terms and scales, threshold
segments, references between segments, and the attribute paths conditions and score terms
read (:mod:`firstmile.config.namespace`).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from firstmile.conditions import compile_condition
from firstmile.config.experiments_build import ExperimentsBuilder, normalized_experiments
from firstmile.config.model import (
    SCHEMA_VERSION,
    OnboardingConfig,
    SegmentDefinition,
    ThresholdSegment,
)
from firstmile.config.models_build import build_models, normalized_models
from firstmile.config.namespace import TRAIT_TYPES, Namespace, check_path, check_trait_name
from firstmile.config.onboarding_build import OnboardingBuilder, normalized_onboarding
from firstmile.config.problems import ConfigFileError, ConfigProblem, FieldPath, sort_problems
from firstmile.config.references import evaluation_order, find_key, segment_references
from firstmile.config.rule_check import generated_findings, rule_problems
from firstmile.config.schema import (
    SLUG,
    FileIn,
    GroupIds,
    ScoreIn,
    SegmentIn,
    TermIn,
    parse_duration,
    section_list,
    validation_problems,
)
from firstmile.config.yamlsource import YamlDocument
from firstmile.errors import ConditionError
from firstmile.scores import AttributeTerm, EventTerm, Scale, ScoreDefinition, Term, Threshold

M = TypeVar("M", bound=BaseModel)
_GROUP_IDS: TypeAdapter[list[str]] = TypeAdapter(GroupIds)
_GROUP_EXAMPLE = "beta_testers: [user_1, user_2]"


class _Build:
    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.problems: list[ConfigProblem] = list(doc.problems)
        self.segment_keys: dict[str, FieldPath] = {}  # key -> path of its `key` (or `segment`)
        self.score_keys: dict[str, FieldPath] = {}
        self.reads: dict[str, tuple[dict[str, str], FieldPath]] = {}
        self.paths: list[tuple[str, FieldPath]] = []  # attribute path read, where it is written
        self.warnings: list[ConfigProblem] = []

    def add(self, path: FieldPath, message: str, *, at_key: bool = False) -> None:
        self.problems.append(self.doc.problem(path, message, at_key=at_key))

    def validate(self, model: type[M], data: Any, path: FieldPath) -> M | None:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            self.problems.extend(validation_problems(exc, model, path, self.doc))
            return None

    def claim_key(
        self, keys: dict[str, FieldPath], kind: str, key: str | None, path: FieldPath
    ) -> bool:
        """Record a key of ``kind``; a key already taken is a problem. Returns whether
        ``key`` was claimed here (``False`` for ``None`` and for a duplicate)."""
        if key is None:
            return False
        first = keys.get(key)
        if first is not None:
            self.add(
                path,
                f"Duplicate {kind} key `{key}` (also on line {self.doc.line(first)}); "
                f"give each {kind} its own key.",
            )
            return False
        keys[key] = path
        return True

    # -- sections ----------------------------------------------------------------------------

    def version(self, data: Mapping[str, Any]) -> int:
        version = data.get("version")
        if type(version) is int and version != SCHEMA_VERSION:
            advice = (
                "upgrade firstmile to read it"
                if version > SCHEMA_VERSION
                else f"write `version: {SCHEMA_VERSION}`"
            )
            self.add(
                ("version",),
                f"This firstmile reads config version {SCHEMA_VERSION}, not {version}; {advice}.",
            )
        return SCHEMA_VERSION

    def traits(self, data: Mapping[str, Any]) -> dict[str, str] | None:
        """The declared traits (``None`` without a ``traits:`` section), name → type."""
        raw = data.get("traits")
        if "traits" not in data or not isinstance(raw, dict):
            return None  # a section that is not a mapping is reported by FileIn
        traits: dict[str, str] = {}
        for name, kind in raw.items():
            problem = check_trait_name(name)
            if problem is not None:
                self.add(("traits", name), problem, at_key=True)
                continue
            traits[name] = "any" if kind is None else str(kind)
            if kind is not None and kind not in TRAIT_TYPES:
                guess = difflib.get_close_matches(str(kind), TRAIT_TYPES, n=1)
                hint = f"did you mean `{guess[0]}`? " if guess else ""
                self.add(
                    ("traits", name),
                    f"{json.dumps(kind, ensure_ascii=False, default=str)} is not a trait type; "
                    f"{hint}The types are {', '.join(TRAIT_TYPES)} (leave it empty for any).",
                )
                traits[name] = "any"  # known, so paths reading it are not reported twice
        return traits

    def saved_groups(self, raw: Any) -> dict[str, tuple[str, ...]]:
        groups: dict[str, tuple[str, ...]] = {}
        if not isinstance(raw, dict):
            return groups
        for name, ids in raw.items():
            try:
                groups[name] = tuple(_GROUP_IDS.validate_python(ids, strict=True))
            except ValidationError as exc:
                self.problems.extend(
                    validation_problems(
                        exc, GroupIds, ("saved_groups", name), self.doc, example=_GROUP_EXAMPLE
                    )
                )
                groups[name] = ()  # known, so references to it are not reported twice
        return groups

    def segment(self, index: int, raw: Any, groups: Mapping[str, Any]) -> SegmentDefinition | None:
        path: FieldPath = ("segments", index)
        self.claim_key(self.segment_keys, "segment", _raw_key(raw), (*path, "key"))
        item = self.validate(SegmentIn, raw, path)
        if item is None:
            return None
        try:
            compiled = compile_condition(item.condition, groups)
        except ConditionError as exc:
            self.add((*path, "condition", *exc.path), _sentence(exc.problem))
            return None
        refs = segment_references(compiled.attributes)
        self.reads[item.key] = (refs, (*path, "condition"))
        for attribute in sorted(compiled.attributes):
            where = find_key(item.condition, attribute)
            self.paths.append((attribute, (*path, "condition", *where)))
        return SegmentDefinition(
            key=item.key,
            name=item.name,
            description=item.description,
            condition=item.condition,
            compiled=compiled,
            references=frozenset(refs),
        )

    def term(self, raw: TermIn, path: FieldPath) -> Term | None:
        if raw.attribute is not None and raw.event is not None:
            self.add(path, "A term reads either `attribute:` or `event:`, not both; remove one.")
            return None
        if raw.event is not None:
            if raw.window is None:
                self.add(path, "An event term needs `window:` 1d, 7d or all; add `window: 7d`.")
                return None
            return EventTerm(raw.event, raw.window, raw.weight, raw.cap)
        if raw.attribute is None:
            self.add(
                path,
                "A term needs `attribute: <trait>` or `event: <track event name>`; "
                "for example `event: Completed Step`.",
            )
            return None
        if raw.window is not None:
            self.add((*path, "window"), "`window:` applies to event terms only; remove it.")
            return None
        return AttributeTerm(raw.attribute, raw.weight, raw.cap)

    def scale(self, item: ScoreIn, terms: list[Term], path: FieldPath) -> Scale | None:
        low, high = item.scale.min, item.scale.max
        if high is None:
            uncapped = [t.label for t in terms if t.weight > 0 and t.cap is None]
            derived = math.fsum(t.weight * (t.cap or 0.0) for t in terms if t.weight > 0)
            if uncapped or not low < derived < math.inf:
                why = (
                    f"the term `{uncapped[0]}` has no cap, so the maximum cannot be derived"
                    if uncapped
                    else f"the capped positive terms reach {derived:g}, which is not above "
                    f"the minimum {low:g}"
                )
                self.add(
                    (*path, "scale"),
                    f"Declare `scale: {{max: N}}`, the raw value that scores 100: {why}.",
                )
                return None
            high = derived
        if not high > low:
            self.add(
                (*path, "scale", "max"),
                f"The scale needs min < max (here {low:g} .. {high:g}); "
                "set `max` to the raw value that should score 100.",
            )
            return None
        return Scale(max=high, min=low)

    def score(self, index: int, raw: Any) -> ScoreDefinition | None:
        path: FieldPath = ("scores", index)
        self.claim_key(self.score_keys, "score", _raw_key(raw), (*path, "key"))
        item = self.validate(ScoreIn, raw, path)
        if item is None:
            return None
        terms = [self.term(t, (*path, "terms", i)) for i, t in enumerate(item.terms)]
        valid_terms = [t for t in terms if t is not None]
        for i, term in enumerate(terms):
            if isinstance(term, AttributeTerm):
                self.paths.append((term.attribute, (*path, "terms", i, "attribute")))
        has_events = any(isinstance(t, EventTerm) for t in valid_terms)
        if item.decay is not None and not has_events and len(valid_terms) == len(terms):
            self.add(
                (*path, "decay"),
                "Decay applies to event terms and this score has none; "
                "remove `decay:` or add an event term.",
            )
        thresholds = []
        for i, threshold in enumerate(item.thresholds):
            if threshold.max is not None and threshold.max <= threshold.min:
                self.add(
                    (*path, "thresholds", i, "max"),
                    "`max` must be above `min`; "
                    "leave `max` out to include every score from `min` up to 100.",
                )
                continue
            where = (*path, "thresholds", i, "segment")
            self.claim_key(self.segment_keys, "segment", threshold.segment, where)
            thresholds.append(Threshold(threshold.segment, threshold.min, threshold.max))
            refs = {k: a for t in valid_terms for k, a in segment_references([t.label]).items()}
            self.reads[threshold.segment] = (refs, (*path, "terms"))
        if len(valid_terms) != len(terms):
            return None  # the scale may depend on the terms: check it once they are fixed
        scale = self.scale(item, valid_terms, path)
        if scale is None:
            return None
        half_life = None if item.decay is None else parse_duration(item.decay.half_life)
        return ScoreDefinition(
            key=item.key,
            name=item.name,
            description=item.description,
            terms=tuple(valid_terms),
            scale=scale,
            half_life=half_life,
            thresholds=tuple(thresholds),
        )

    def references(self, raw_segments: list[Any], raw_scores: list[Any]) -> tuple[str, ...]:
        known = sorted(self.segment_keys)
        for refs, where in self.reads.values():
            for key, attribute in refs.items():
                if key not in self.segment_keys:
                    close = difflib.get_close_matches(key, known, n=1)
                    hint = (
                        f"did you mean `{close[0]}`?"
                        if close
                        else "the segments are " + (", ".join(f"`{k}`" for k in known) or "none")
                    )
                    self.add(
                        self._locate(where, attribute, raw_segments, raw_scores),
                        f"`{attribute}` reads segment `{key}`, which is not declared; {hint}",
                    )
        reads = {key: set(refs) for key, (refs, _) in self.reads.items()}
        order, cycles = evaluation_order(reads)
        for cycle in cycles:
            refs, where = self.reads[cycle[0]]
            self.add(
                self._locate(where, refs[cycle[1]], raw_segments, raw_scores),
                "Segments read each other in a cycle: "
                + " → ".join(cycle)
                + "; a segment cannot depend on itself. Remove one of these references.",
            )
        return order

    def attributes(self, traits: Mapping[str, str] | None) -> None:
        """Check every attribute path read: errors are problems, warnings are kept apart.

        A warning (a trait read without a ``traits:`` section) is given once per trait,
        where it is first read.
        """
        names = Namespace(traits=traits, scores=frozenset(self.score_keys))
        warned: set[str] = set()
        for attribute, where in self.paths:
            finding = check_path(attribute, names)
            if finding is None:
                continue
            if finding.severity == "error":
                self.add(where, finding.message)
            elif (root := attribute.split(".", 1)[0]) not in warned:
                warned.add(root)
                self.warnings.append(self.doc.problem(where, finding.message))

    @staticmethod
    def _locate(
        where: FieldPath, attribute: str, raw_segments: list[Any], raw_scores: list[Any]
    ) -> FieldPath:
        """The exact place ``attribute`` is written, under ``where``."""
        section, index = where[0], where[1]
        if section == "segments" and isinstance(index, int):
            return (*where, *find_key(raw_segments[index].get("condition"), attribute))
        if section == "scores" and isinstance(index, int):
            for i, term in enumerate(raw_scores[index].get("terms") or ()):
                if isinstance(term, dict) and term.get("attribute") == attribute:
                    return (*where, i, "attribute")
        return where


def _raw_key(raw: Any) -> str | None:
    """The key of a section item, when it is a valid key (even if the rest is not)."""
    key = raw.get("key") if isinstance(raw, dict) else None
    return key if isinstance(key, str) and SLUG.fullmatch(key) else None


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "?", "!")) else text + "."


def content_hash(data: Any) -> str:
    """The version id: 12 hex digits of the SHA-256 of the content as canonical JSON."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def build_config(
    doc: YamlDocument,
    *,
    loaded_at: datetime,
    source_path: Path | None = None,
    check_rules: bool = True,
) -> OnboardingConfig:
    """Check everything and build the config, or raise :class:`ConfigFileError` with all.

    Once the file is otherwise valid, its rules are run on sample users made from their
    conditions (:func:`~firstmile.config.rule_check.generated_findings`, at
    ``loaded_at``): a conflict is a problem, a shadowed or never-matched rule a warning.
    ``check_rules=False`` skips that.
    """
    build = _Build(doc)
    data = doc.data
    if not isinstance(data, dict):
        if data is None and not build.problems:
            build.add((), f"The file is empty; start it with `version: {SCHEMA_VERSION}`.")
        elif data is not None:
            build.add(
                (),
                "The file must be a mapping with `version`, `saved_groups`, "
                "`segments` and `scores`; see docs/config.md.",
            )
        raise ConfigFileError(build.problems)
    top = build.validate(FileIn, data, ())
    version = build.version(data)
    traits = build.traits(data)
    groups = build.saved_groups(data.get("saved_groups"))
    raw_segments, raw_scores = section_list(data, "segments"), section_list(data, "scores")
    segments = [build.segment(i, raw, groups) for i, raw in enumerate(raw_segments)]
    scores = [build.score(i, raw) for i, raw in enumerate(raw_scores)]
    order = build.references(raw_segments, raw_scores)
    onboarding_builder = OnboardingBuilder(build, groups, traits, build.score_keys)
    onboarding = onboarding_builder.build(data)
    declared = data.get("events")
    trials = ExperimentsBuilder(
        onboarding_builder,
        onboarding,
        events=declared if isinstance(declared, list) else None,
        warn=lambda path, message: build.warnings.append(doc.problem(path, message)),
    ).build(data)
    models = build_models(
        data.get("models"), build, events=declared if isinstance(declared, list) else None
    )
    build.attributes(traits)
    if build.problems or top is None:
        raise ConfigFileError(build.problems)
    valid_scores = [s for s in scores if s is not None]
    normalized: dict[str, Any] = {
        "version": version,
        "saved_groups": {name: list(ids) for name, ids in groups.items()},
        "segments": [SegmentIn.model_validate(raw).model_dump(mode="json") for raw in raw_segments],
        "scores": [ScoreIn.model_validate(raw).model_dump(mode="json") for raw in raw_scores],
    }
    if traits is not None:  # only when declared: older files keep their version id
        normalized["traits"] = traits
    normalized.update(normalized_onboarding(data))
    normalized.update(normalized_experiments(data))
    normalized.update(normalized_models(data))
    config = OnboardingConfig(
        version=version,
        saved_groups=MappingProxyType(groups),
        segments=tuple(s for s in segments if s is not None),
        scores=tuple(valid_scores),
        threshold_segments=tuple(
            ThresholdSegment(t.segment, s.key, t.min, t.max)
            for s in valid_scores
            for t in s.thresholds
        ),
        segment_order=order,
        version_id=content_hash(normalized),
        loaded_at=loaded_at,
        source_path=source_path,
        traits=None if traits is None else MappingProxyType(traits),
        warnings=tuple(sort_problems(build.warnings)),
        onboarding=onboarding,
        trials=trials,
        models=models,
    )
    if not check_rules:
        return config
    findings = generated_findings(config, now=loaded_at)
    errors, warnings = rule_problems(config, findings, doc=doc)
    if errors:
        raise ConfigFileError(errors)
    return replace(
        config,
        warnings=tuple(sort_problems([*config.warnings, *warnings])),
        rule_findings=tuple(findings),
    )
