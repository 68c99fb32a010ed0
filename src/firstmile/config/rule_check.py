"""Conflicting, shadowed and never-matching rules, found by running the rules on samples.

Rules are evaluated by priority, highest first (ties in file order); on each slot or item
the first matching rule wins, and a matching ``stop`` rule ends the evaluation. Three
things can go wrong with that, and :func:`analyze` looks for each:

* **conflict** (an error): two rules with the same priority write the same
  :attr:`~firstmile.config.onboarding.Action.target` (a slot such as ``welcome``, or one
  item of a list) and one user matches both. Only the file order decides between them,
  which is rarely what was meant. Two rules doing exactly the same thing are not a
  conflict.
* **shadowed** (a warning): a rule matches some users, but whenever it does, a rule of
  higher priority writing the same target (or one before it doing exactly the same), or
  an earlier ``stop`` rule, matches too — so it never applies.
* **never matched** (a warning): no sample matches the rule at all.

This is found by *sampling*, not proved: rules are evaluated on sample users, either made
up from the values the conditions mention (:mod:`firstmile.config.rule_samples`, every
time a config is loaded) or the workspace's stored profiles (``firstmile config check``
in a workspace). A conflict is reported with the user that matches both rules, so it is
real for that user; no report does not prove there is none. A shadowed or never-matched
rule is so *on the samples tried*.

>>> from datetime import UTC, datetime
>>> from firstmile.config import parse_config
>>> config = parse_config('''
... version: 1
... catalog:
...   - {id: hi, kind: message, title: Hi}
...   - {id: hola, kind: message, title: Hola}
... rules:
...   - {key: french, priority: 10, when: {country: FR}, then: {set_welcome: hi}}
...   - {key: mobile, priority: 10, when: {device_type: mobile}, then: {set_welcome: hola}}
... ''', check_rules=False)
>>> (found,) = generated_findings(config, now=datetime(2026, 1, 1, tzinfo=UTC))
>>> found.kind, found.rule.key, [r.key for r in found.others], dict(found.example)
('conflict', 'mobile', ['french'], {'country': 'FR', 'device_type': 'mobile'})
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

from firstmile.config.onboarding import SET_ACTIONS, Action, Rule
from firstmile.config.problems import ConfigProblem, FieldPath
from firstmile.config.rule_samples import (
    Key,
    Reach,
    Sample,
    SampleSpace,
    fingerprint,
    reach,
    read_key,
)
from firstmile.config.yamlsource import YamlDocument, parse_yaml

if TYPE_CHECKING:
    from firstmile.config.model import OnboardingConfig

FindingKind = Literal["conflict", "shadowed", "never_matched"]
Origin = Literal["generated", "profiles"]


@dataclass(frozen=True, slots=True)
class Observation:
    """A sample and the rules (of those asked about) whose condition it matches.

    ``count`` is how many samples it stands for: stored profiles matching the same rules
    are kept once, with the first of them as the example.
    """

    sample: Sample
    matched: frozenset[str]
    count: int = 1


@dataclass(frozen=True, slots=True)
class RuleFinding:
    """One conflict, shadowed rule or never-matched rule, with its evidence.

    ``rule`` is the rule reported (the later of a conflicting pair); ``others`` the rule it
    conflicts with, or the rules that shadow it. ``example`` holds the values that matter
    (what the rules read, through their segments) of a sample showing it, and ``user``
    the stored user it is, if any; ``samples`` how many samples were tried (never matched)
    or matched the rule (shadowed).
    """

    kind: FindingKind
    rule: Rule
    origin: Origin
    others: tuple[Rule, ...] = ()
    example: Mapping[str, Any] = field(default_factory=dict)
    user: str | None = None
    samples: int = 0

    @property
    def is_error(self) -> bool:
        return self.kind == "conflict"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rule": self.rule.key,
            "others": [r.key for r in self.others],
            "target": self.rule.action.target,
            "priority": self.rule.priority,
            "origin": self.origin,
            "example": dict(self.example),
            "user": self.user,
            "samples": self.samples,
        }


class Evidence(Protocol):
    """The three questions :func:`analyze` asks of some samples."""

    def tried(self, rule: Rule) -> tuple[int, int]:
        """How many samples were tried on ``rule``, and how many it matched."""
        ...

    def both(self, first: Rule, second: Rule) -> Sample | None:
        """A sample both rules match, if one was found."""
        ...

    def shadow(self, rule: Rule, earlier: Sequence[Rule]) -> list[Observation]:
        """Samples ``rule`` matches, each with which of ``rule`` and ``earlier`` match it
        (it may stop at the first that no earlier rule matches)."""
        ...


def matched_rules(rules: Iterable[Rule], sample: Sample, now: datetime) -> frozenset[str]:
    """The keys of ``rules`` whose condition matches ``sample`` (a failing one does not)."""
    return frozenset(rule.key for rule in rules if _matches(rule, sample, now))


def _matches(rule: Rule, sample: Sample, now: datetime) -> bool:
    try:
        return rule.condition(sample.attributes, now=now)
    except Exception:  # as in decide: a condition that fails does not match
        return False


def _example(config: OnboardingConfig, rules: Sequence[Rule], sample: Sample) -> dict[str, Any]:
    """What ``rules`` read from ``sample`` (directly, then through segments)."""
    keys = [tuple(p.split(".")) for r in rules for p in sorted(r.condition.attributes)]
    keys.extend(reach(config, [r.condition for r in rules]).keys)
    out: dict[str, Any] = {}
    for key in keys:
        value = read_key(sample.attributes, key)
        if value is not None:
            out.setdefault(".".join(key), value)
    return dict(sorted(out.items()))


def _cover(earlier: Sequence[Rule], hits: Sequence[Observation]) -> tuple[Rule, ...]:
    """A few of ``earlier`` that between them match every one of ``hits`` (greedy)."""
    chosen: list[Rule] = []
    remaining = list(hits)
    while remaining:
        best = max(earlier, key=lambda r: sum(o.count for o in remaining if r.key in o.matched))
        chosen.append(best)
        remaining = [o for o in remaining if best.key not in o.matched]
    return tuple(r for r in earlier if r in chosen)


def _same_priority_pairs(rules: Sequence[Rule]) -> Iterable[tuple[Rule, Rule]]:
    """Pairs of rules that would conflict if one user matched both (evaluation order)."""
    for index, first in enumerate(rules):
        for second in rules[index + 1 :]:
            if second.priority != first.priority:
                break  # rules come sorted by priority
            if first.action.target == second.action.target and first.action != second.action:
                yield first, second


def _wins_over(earlier: Rule, rule: Rule) -> bool:
    """Whether ``earlier`` (before ``rule`` in evaluation order) keeps it from applying
    when both match: it stops the evaluation, or it writes the same target first (at a
    higher priority, or doing exactly the same — otherwise that is a conflict)."""
    if earlier.stop:
        return True
    if earlier.action.target != rule.action.target:
        return False
    return earlier.priority > rule.priority or earlier.action == rule.action


def analyze(config: OnboardingConfig, evidence: Evidence, *, origin: Origin) -> list[RuleFinding]:
    """Every conflict, shadowed and never-matched rule of ``config`` on the evidence."""
    rules = config.onboarding.rules
    findings: list[RuleFinding] = []
    matching: set[str] = set()
    for rule in rules:
        tried, matches = evidence.tried(rule)
        if matches:
            matching.add(rule.key)
        else:
            findings.append(RuleFinding("never_matched", rule, origin, samples=tried))
    for first, second in _same_priority_pairs(rules):
        if first.key not in matching or second.key not in matching:
            continue
        witness = evidence.both(first, second)
        if witness is not None:
            example = _example(config, (first, second), witness)
            findings.append(
                RuleFinding("conflict", second, origin, (first,), example, witness.user)
            )
    for index, rule in enumerate(rules):
        earlier = tuple(r for r in rules[:index] if _wins_over(r, rule))
        if rule.key not in matching or not earlier:
            continue
        hits = [o for o in evidence.shadow(rule, earlier) if rule.key in o.matched]
        if hits and all(any(r.key in o.matched for r in earlier) for o in hits):
            cover = _cover(earlier, hits)
            example = _example(config, (rule, *cover), hits[0].sample)
            count = sum(o.count for o in hits)
            findings.append(
                RuleFinding("shadowed", rule, origin, cover, example, hits[0].sample.user, count)
            )
    return sorted(findings, key=lambda f: (f.rule.order, f.kind))


# -- made-up samples ----------------------------------------------------------------------

OWN_CAP: Final = 1024  # samples of one rule's own paths
JOIN_ATTEMPTS: Final = 256  # merged samples tried for one pair of rules
SHADOW_HITS: Final = 8  # samples of a rule, varied on the paths only earlier rules read...
SHADOW_VARIATIONS: Final = 24  # ...in this many ways


@dataclass(slots=True)
class _Own:
    """A rule on samples of the paths it depends on: how many, and those it matched."""

    found: Reach
    tried: int
    hits: list[dict[Key, Any]]


class _Generated:
    """Evidence from samples made up from the config (:mod:`firstmile.config.rule_samples`).

    Each rule is first tried alone, on every combination of its paths' candidate values
    (at most ``cap``). Two rules are then tried together by joining those matches on the
    paths they share, and a rule against earlier ones by varying, in a few of its matches,
    the paths only the earlier rules read.
    """

    def __init__(self, config: OnboardingConfig, now: datetime, cap: int) -> None:
        self.config = config
        self.now = now
        self.cap = cap
        self.space = SampleSpace(config, now=now)
        self._own: dict[str, _Own] = {}

    def own(self, rule: Rule) -> _Own:
        known = self._own.get(rule.key)
        if known is not None:
            return known
        found = reach(self.config, [rule.condition])
        tried, hits = 0, []
        for assignment in self.space.assignments(found, seed=rule.key, cap=self.cap):
            sample = self.space.sample(assignment, found)
            tried += 1
            if rule.key in matched_rules((rule,), sample, self.now):
                hits.append(assignment)
        own = self._own[rule.key] = _Own(found, tried, hits)
        return own

    def tried(self, rule: Rule) -> tuple[int, int]:
        own = self.own(rule)
        return own.tried, len(own.hits)

    def both(self, first: Rule, second: Rule) -> Sample | None:
        a, b = self.own(first), self.own(second)
        if not a.hits or not b.hits:
            return None
        found = _union(a.found, b.found)
        shared = [key for key in b.hits[0] if key in a.hits[0]]  # every hit has every axis
        index: dict[tuple[str, ...], list[dict[Key, Any]]] = {}
        for hit in b.hits:
            index.setdefault(tuple(fingerprint(hit[k]) for k in shared), []).append(hit)
        attempts = 0
        for hit in a.hits:
            for other in index.get(tuple(fingerprint(hit[k]) for k in shared), ()):
                attempts += 1
                if attempts > JOIN_ATTEMPTS:
                    return None
                sample = self.space.sample({**hit, **other}, found)
                if {first.key, second.key} <= matched_rules((first, second), sample, self.now):
                    return sample
        return None

    def shadow(self, rule: Rule, earlier: Sequence[Rule]) -> list[Observation]:
        own = self.own(rule)
        others = reach(self.config, [r.condition for r in earlier])
        found = _union(own.found, others)
        extra = Reach(
            tuple(k for k in others.keys if k not in own.found.keys),
            others.segments,
            others.scores - own.found.scores,
        )
        seed = "|".join(r.key for r in (rule, *earlier))
        variations = list(self.space.assignments(extra, seed=seed, cap=SHADOW_VARIATIONS))
        step = max(1, len(own.hits) // SHADOW_HITS)
        out = []
        for hit in own.hits[::step][:SHADOW_HITS]:
            for variation in variations:
                sample = self.space.sample({**variation, **hit}, found)
                matched = matched_rules((rule, *earlier), sample, self.now)
                out.append(Observation(sample, matched))
                if matched == {rule.key}:
                    return out  # the rule applies here: not shadowed, no need to go on
        return out


def _union(a: Reach, b: Reach) -> Reach:
    keys = tuple(sorted({*a.keys, *b.keys}))
    return Reach(keys, a.segments | b.segments, a.scores | b.scores)


def generated_findings(
    config: OnboardingConfig, *, now: datetime, cap: int = OWN_CAP
) -> list[RuleFinding]:
    """:func:`analyze` on samples made up from the config's own conditions, at ``now``.

    The same config and ``now`` always give the same findings.
    """
    if not config.onboarding.rules:
        return []
    return analyze(config, _Generated(config, now, cap), origin="generated")


# -- stored samples -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Stored:
    """Evidence from given samples, each evaluated on every rule once."""

    observations: tuple[Observation, ...]
    total: int

    def tried(self, rule: Rule) -> tuple[int, int]:
        return self.total, sum(o.count for o in self.observations if rule.key in o.matched)

    def both(self, first: Rule, second: Rule) -> Sample | None:
        wanted = {first.key, second.key}
        return next((o.sample for o in self.observations if wanted <= o.matched), None)

    def shadow(self, rule: Rule, earlier: Sequence[Rule]) -> list[Observation]:
        return [o for o in self.observations if rule.key in o.matched]


def sample_findings(
    config: OnboardingConfig, samples: Iterable[Sample], *, now: datetime
) -> tuple[int, list[RuleFinding]]:
    """:func:`analyze` on given samples (the stored profiles); returns how many there were.

    ``samples`` is read once; samples matching the same rules are kept once (the first as
    the example), so memory grows with the rule combinations seen, not the samples.
    """
    rules = config.onboarding.rules
    groups: dict[frozenset[str], list[Any]] = {}
    total = 0
    for sample in samples:
        total += 1
        matched = matched_rules(rules, sample, now)
        group = groups.get(matched)
        if group is None:
            groups[matched] = [sample, 1]
        else:
            group[1] += 1
    if not rules or not total:
        return total, []
    observations = tuple(Observation(s, m, n) for m, (s, n) in groups.items())
    return total, analyze(config, _Stored(observations, total), origin="profiles")


# -- problems -----------------------------------------------------------------------------


def _does(action: Action) -> str:
    if action.kind in SET_ACTIONS:
        return f"set `{action.slot}`"
    if action.kind == "pin_tip":
        return f"pin the tip `{action.value}`"
    if action.kind == "suppress":
        return f"suppress `{action.value}`"
    return f"change the step `{action.value}`"


def _show(example: Mapping[str, Any]) -> str:
    if not example:
        return "any user"
    return json.dumps(dict(example), ensure_ascii=False, default=str)


class _Describe:
    """Finding → problem, with the lines of the rules from the file."""

    def __init__(self, doc: YamlDocument | None, file: str) -> None:
        self.doc = doc
        self.file = file

    def line(self, rule: Rule) -> str:
        line = None if self.doc is None else self.doc.line(("rules", rule.order))
        return "" if line is None else f" (line {line})"

    def problem(self, path: FieldPath, message: str) -> ConfigProblem:
        if self.doc is not None:
            return self.doc.problem(path, message)
        return ConfigProblem(self.file, None, path, message)

    def __call__(self, finding: RuleFinding, profiles: int | None) -> ConfigProblem:
        rule = finding.rule
        where = (
            "stored profiles"
            if finding.origin == "profiles"
            else "sample users made from the conditions"
        )
        evidence = (
            f"stored user `{finding.user}` ({_show(finding.example)})"
            if finding.user is not None
            else _show(finding.example)
        )
        if finding.kind == "conflict":
            (other,) = finding.others
            message = (
                f"Rules `{other.key}`{self.line(other)} and `{rule.key}` both "
                f"{_does(rule.action)} at priority {rule.priority}, and one user can match "
                f"both — for example {evidence}. Only the file order picks `{other.key}`; "
                "give one of them another priority, or make their conditions exclusive."
            )
            return self.problem(("rules", rule.order, "priority"), message)
        if finding.kind == "never_matched":
            if finding.origin == "profiles":
                message = f"Rule `{rule.key}` matches none of the {profiles} stored profiles."
            else:
                message = (
                    f"Rule `{rule.key}` matches none of the {finding.samples} {where}: it may "
                    "never match. Check that its condition can hold (the segments it reads "
                    "with the rest), for example with `firstmile segments preview`."
                )
            return self.problem(("rules", rule.order, "when"), message)
        parts = []
        for other in finding.others:
            if other.stop and other.action.target != rule.action.target:
                parts.append(f"`{other.key}`{self.line(other)} ends the evaluation (`stop`)")
            else:
                parts.append(
                    f"`{other.key}`{self.line(other)} (priority {other.priority}) "
                    f"{_does(other.action)} first"
                )
        scope = (
            f"in the {profiles} stored profiles, the {finding.samples} that match it"
            if finding.origin == "profiles"
            else f"on the {finding.samples} {where} that match it"
        )
        message = (
            f"Rule `{rule.key}` never applies ({scope}): whenever it matches, "
            + " or ".join(parts)
            + f" — for example {evidence}. Raise its priority, narrow the other rules, "
            "or remove it."
        )
        return self.problem(("rules", rule.order, "when"), message)


def rule_problems(
    config: OnboardingConfig,
    findings: Iterable[RuleFinding],
    *,
    doc: YamlDocument | None = None,
    file: str | None = None,
    profiles: int | None = None,
) -> tuple[list[ConfigProblem], list[ConfigProblem]]:
    """The findings as problems with file, line and field: ``(errors, warnings)``.

    Without ``doc`` the config's text is parsed again for the lines; ``file`` names it
    (by default the config's source path). ``profiles`` is how many stored profiles the
    findings come from, for the messages.
    """
    if file is None:
        file = str(config.source_path) if config.source_path is not None else "<string>"
    if doc is None and config.source_text:
        doc = parse_yaml(config.source_text, file)
    describe = _Describe(doc, file)
    errors: list[ConfigProblem] = []
    warnings: list[ConfigProblem] = []
    for finding in findings:
        (errors if finding.is_error else warnings).append(describe(finding, profiles))
    return errors, warnings


__all__ = [
    "Evidence",
    "Observation",
    "RuleFinding",
    "analyze",
    "generated_findings",
    "matched_rules",
    "rule_problems",
    "sample_findings",
]
