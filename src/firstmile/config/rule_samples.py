"""Made-up users for checking rules: attribute objects built from what the conditions say.

:class:`SampleSpace` is built once per config. For each attribute path the config's
conditions read it lists candidate values:

* every constant a condition compares the path with, and its neighbours: ±1 for a number,
  a day either side of a date, ``""`` and a little more for other text, the next and the
  previous patch of a version, the other boolean;
* a timestamp a minute either side of each ``$within`` / ``$olderThan`` boundary, a few
  ids of each ``$inGroup`` group and one outside it, a string each alternative of a
  simple ``$regex`` matches, lists for the list operators (``$all``, ``$size``,
  ``$elemMatch``) and for list attributes;
* a missing value (``0`` for the counters every profile has), a text no condition names,
  and typical values of firstmile's own attributes (device types, countries, locales,
  both booleans);
* for a score (read as ``scores.<key>`` or through a threshold segment), its inputs
  together, at values that put the score at 0, 50 and 100, at each threshold and each
  constant a condition compares the score with, and one point either side.

:meth:`SampleSpace.assignments` combines the candidate values of the paths that some
conditions read — directly and through the segments they read (``segments.<key>``) — and
of the scores they read: every combination when there are at most ``cap``, else ``cap`` of
them (a diagonal that uses every value once, then random draws seeded by the question, so
the same config always gives the same samples). Segment memberships and scores are then computed
from each sample's values by the config's own definitions, in the segment engine's order,
so a sample never claims a membership its values do not give.

>>> from datetime import UTC, datetime
>>> from firstmile.conditions import compile_condition
>>> from firstmile.config import parse_config
>>> config = parse_config('''
... version: 1
... segments:
...   - {key: adults, name: Adults, condition: {age: {$gte: 18}}}
... ''')
>>> space = SampleSpace(config, now=datetime(2026, 1, 1, tzinfo=UTC))
>>> adult_rule = compile_condition({"segments.adults": True})
>>> [(s.attributes.get("age"), s.attributes["segments"]["adults"])
...  for s in space.samples([adult_rule], seed="doc")]
[(None, False), (18, True), (17, False), (19, True)]
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import product
from typing import TYPE_CHECKING, Any, Final

from firstmile.conditions import CompiledCondition
from firstmile.conditions.timestamps import parse_duration
from firstmile.config.namespace import COMPUTED_TRAITS
from firstmile.scores import EVENT_COUNT_KEYS, EventTerm, ScoreDefinition

if TYPE_CHECKING:
    from firstmile.config.model import OnboardingConfig

Key = tuple[str, ...]  # an attribute path split in its parts (an event name stays whole)

DEFAULT_CAP: Final = 2048  # samples per question
MAX_VALUES: Final = 24  # candidate values per path, the missing one included


class _Missing:
    """The candidate value "not set" (the attribute is absent from the sample)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()

# Attributes every profile has: they are 0 (or false), never missing.
_ALWAYS: Final[Mapping[str, Any]] = {
    "event_count": 0,
    "sessions": 0,
    "active_days": 0,
    "events_1d": 0,
    "events_7d": 0,
    "anonymous": False,
}
_COUNTERS: Final = frozenset({"event_count", "sessions", "active_days", "events_1d", "events_7d"})
_TYPICAL: Final[Mapping[str, tuple[Any, ...]]] = {
    "device_type": ("mobile", "desktop", "tablet"),
    "os": ("iOS", "Android", "Windows"),
    "browser": ("Chrome", "Safari"),
    "country": ("US", "FR"),
    "locale": ("en-US", "fr-FR"),
    "anonymous": (True, False),
}
_TYPE_EXAMPLES: Final[Mapping[str, Any]] = {
    "string": "sample",
    "number": 1,
    "boolean": True,
    "array": ["sample"],
    "object": {"key": "sample"},
    "null": None,
}
_COMPARISONS: Final = frozenset({"$gt", "$gte", "$lt", "$lte"})
_MEMBERSHIP: Final = frozenset({"$in", "$nin", "$ini", "$nini"})
_VERSIONS: Final = frozenset({"$veq", "$vne", "$vgt", "$vgte", "$vlt", "$vlte"})
_LAST_NUMBER = re.compile(r"(\d+)(?!.*\d)")


@dataclass(frozen=True, slots=True)
class Sample:
    """One user to try rules on: the attributes conditions read (segments and scores filled
    in), and the stored user it is (``None``: made up from the config)."""

    attributes: Mapping[str, Any]
    user: str | None = None


@dataclass(frozen=True, slots=True)
class Reach:
    """What some conditions depend on: the plain attribute paths (through the segments and
    scores they read), and those segments and scores."""

    keys: tuple[Key, ...]
    segments: frozenset[str] = frozenset()
    scores: frozenset[str] = frozenset()


def reach(config: OnboardingConfig, conditions: Iterable[CompiledCondition]) -> Reach:
    """The attribute paths ``conditions`` depend on, following segments and scores.

    >>> from firstmile.config import parse_config
    >>> config = parse_config('''
    ... version: 1
    ... segments:
    ...   - {key: fr, name: French, condition: {country: FR}}
    ...   - {key: fr_pro, name: French pros, condition: {segments.fr: true, plan: pro}}
    ... ''')
    >>> found = reach(config, [config.segments[1].compiled])
    >>> found.keys, sorted(found.segments)
    ((('country',), ('plan',)), ['fr'])
    """
    segments = {s.key: s for s in config.segments}
    thresholds = {t.key: t for t in config.threshold_segments}
    scores = {s.key: s for s in config.scores}
    keys: dict[Key, None] = {}
    seen_segments: set[str] = set()
    seen_scores: set[str] = set()
    stack = [path for condition in conditions for path in sorted(condition.attributes)]

    def add_score(key: str) -> None:
        score = scores.get(key)
        if score is None or key in seen_scores:
            return
        seen_scores.add(key)
        for term in score.terms:  # the inputs vary together (SampleSpace.axes); but
            if not isinstance(term, EventTerm) and term.attribute.startswith("segments."):
                stack.append(term.attribute)  # a segment read is followed like any other

    while stack:
        path = stack.pop()
        head, _, rest = path.partition(".")
        name = rest.split(".", 1)[0]
        if head == "segments" and name:
            if name not in seen_segments:
                seen_segments.add(name)
                if name in segments:
                    stack.extend(sorted(segments[name].attributes))
                elif name in thresholds:
                    add_score(thresholds[name].score)
        elif head == "scores" and name:
            add_score(name)
        else:
            keys[tuple(path.split("."))] = None
    return Reach(tuple(sorted(keys)), frozenset(seen_segments), frozenset(seen_scores))


def read_key(attributes: Mapping[str, Any], key: Key) -> Any:
    """The value at ``key`` (``None`` when any part is missing)."""
    current: Any = attributes
    for part in key:
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


def _event_key(term: EventTerm) -> Key:
    return ("events", term.event, EVENT_COUNT_KEYS[term.window])


def _number(value: Any) -> bool:
    kind = type(value)
    return kind is int or (kind is float and math.isfinite(value))


def fingerprint(value: Any) -> str:
    """A text that is equal for equal candidate values (``1`` and ``True`` differ)."""
    if value is MISSING:
        return "<missing>"
    if isinstance(value, _Bundle):
        value = sorted([list(key), item] for key, item in value.items())
    return type(value).__name__ + json.dumps(value, sort_keys=True, default=str)


def _unique(values: Iterable[Any]) -> list[Any]:
    seen: dict[str, Any] = {}
    for value in values:
        seen.setdefault(fingerprint(value), value)
    return list(seen.values())


def _date_neighbours(text: str) -> list[str] | None:
    """A day before and after an ISO date or date-time written as text, or ``None``."""
    if not re.match(r"\d{4}-\d\d-\d\d", text):
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return [(day - timedelta(days=1)).isoformat(), (day + timedelta(days=1)).isoformat()]
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return [(moment - timedelta(days=1)).isoformat(), (moment + timedelta(days=1)).isoformat()]


def neighbours(value: Any) -> list[Any]:
    """Values just either side of a constant, for the boundaries of comparisons.

    >>> neighbours(5), neighbours(True), neighbours("2026-03-01"), neighbours("b")
    ([4, 6], [False], ['2026-02-28', '2026-03-02'], ['', 'b~'])
    """
    if isinstance(value, bool):
        return [not value]
    if _number(value):
        return [value - 1, value + 1]
    if isinstance(value, str):
        dates = _date_neighbours(value)
        return dates if dates is not None else ["", value + "~"]
    return []


def _version_neighbours(value: Any) -> list[str]:
    """``1.2.3`` → ``1.2.4`` and ``1.2.2``."""
    if not isinstance(value, str):
        return []
    found = _LAST_NUMBER.search(value)
    if found is None:
        return []
    number = int(found.group(1))
    start, end = found.span()
    bumped = [number + 1, number - 1] if number > 0 else [number + 1]
    return [f"{value[:start]}{n}{value[end:]}" for n in bumped]


class _Unsupported(Exception):
    """A pattern construct the example generator does not handle."""


_CLASS_EXAMPLES: Final = {"d": "0", "w": "a", "s": " ", "D": "a", "W": "-", "S": "a"}


class _RegexExample:
    """A string a simple regular expression matches, built by reading the pattern once."""

    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.pos = 0

    def branches(self) -> list[str]:
        """One example per alternative (``a|b``), at this level."""
        out = [self.sequence()]
        while self.pos < len(self.text) and self.text[self.pos] == "|":
            self.pos += 1
            out.append(self.sequence())
        return out

    def sequence(self) -> str:
        parts: list[str] = []
        while self.pos < len(self.text) and self.text[self.pos] not in "|)":
            atom = self.atom()
            parts.append(atom * self.repeats())
        return "".join(parts)

    def atom(self) -> str:
        char = self.text[self.pos]
        self.pos += 1
        if char in "^$":
            return ""
        if char == ".":
            return "a"
        if char == "\\":
            return self.escape()
        if char == "[":
            return self.char_class()
        if char == "(":
            if self.text.startswith("?:", self.pos):
                self.pos += 2
            elif self.text.startswith("?", self.pos):
                raise _Unsupported
            first = self.branches()[0]
            if self.pos >= len(self.text) or self.text[self.pos] != ")":
                raise _Unsupported
            self.pos += 1
            return first
        if char in "*+?{)":
            raise _Unsupported
        return char

    def escape(self) -> str:
        if self.pos >= len(self.text):
            raise _Unsupported
        char = self.text[self.pos]
        self.pos += 1
        if char in _CLASS_EXAMPLES:
            return _CLASS_EXAMPLES[char]
        if char in "bBAz":
            return ""
        if char.isalnum():
            raise _Unsupported
        return char

    def char_class(self) -> str:
        end = self.pos
        while end < len(self.text) and (self.text[end] != "]" or end == self.pos):
            end += 2 if self.text[end] == "\\" else 1
        if end >= len(self.text):
            raise _Unsupported
        body, self.pos = self.text[self.pos : end], end + 1
        if body.startswith("^"):
            for candidate in "a0- ":
                if candidate not in body:
                    return candidate
            raise _Unsupported
        if body.startswith("\\") and len(body) > 1:
            return _CLASS_EXAMPLES.get(body[1], body[1])
        return body[0]

    def repeats(self) -> int:
        if self.pos >= len(self.text):
            return 1
        char = self.text[self.pos]
        count = {"*": 0, "?": 0, "+": 1}.get(char)
        if count is not None:
            self.pos += 1
        elif char == "{":
            found = re.match(r"\{(\d+)(,\d*)?\}", self.text[self.pos :])
            if found is None:
                return 1
            count = int(found.group(1))
            self.pos += found.end()
        else:
            return 1
        if self.pos < len(self.text) and self.text[self.pos] in "?+":
            self.pos += 1  # lazy or possessive: the same strings match
        return min(count, 8)


def regex_examples(pattern: Any, *, limit: int = 3) -> list[str]:
    """Strings a simple pattern matches, one per alternative (``[]`` when it is not simple).

    >>> regex_examples(r"^@acme\\.com$"), regex_examples("google|bing")
    (['@acme.com'], ['google', 'bing'])
    >>> regex_examples(r"^/app/(reports|billing)/\\d+"), regex_examples("(?=x)")
    (['/app/reports/0'], [])
    """
    if not isinstance(pattern, str):
        return []
    parser = _RegexExample(pattern)
    try:
        found = parser.branches()
    except _Unsupported:
        return []
    if parser.pos != len(pattern):
        return []
    return _unique(found)[:limit]


@dataclass(slots=True)
class _Hints:
    """Constants gathered from conditions, per attribute path."""

    groups: Mapping[str, Any]
    now: datetime
    values: dict[Key, list[Any]] = field(default_factory=dict)
    lists: dict[Key, list[list[Any]]] = field(default_factory=dict)
    present: set[Key] = field(default_factory=set)

    def add(self, key: Key, *values: Any) -> None:
        self.values.setdefault(key, []).extend(values)

    def add_list(self, key: Key, value: list[Any]) -> None:
        self.lists.setdefault(key, []).append(value)

    def condition(self, condition: Any) -> None:
        if not isinstance(condition, Mapping):
            return
        for raw, value in condition.items():
            name = str(raw)
            if name in ("$and", "$or", "$nor"):
                for sub in value if isinstance(value, list) else ():
                    self.condition(sub)
            elif name == "$not":
                self.condition(value)
            elif not name.startswith("$"):
                self.value(tuple(name.split(".")), value)

    def value(self, key: Key, value: Any) -> None:
        if isinstance(value, Mapping) and value and all(str(k).startswith("$") for k in value):
            for operator, operand in value.items():
                self.operator(key, str(operator), operand)
        else:
            self.add(key, value)

    def operator(self, key: Key, operator: str, operand: Any) -> None:
        if operator in ("$eq", "$ne"):
            self.add(key, operand)
        elif operator in _COMPARISONS:
            self.add(key, operand, *neighbours(operand))
        elif operator in _MEMBERSHIP:
            if isinstance(operand, list):
                self.add(key, *operand[:MAX_VALUES])
        elif operator in ("$all", "$alli"):
            if isinstance(operand, list):
                self.add_list(key, list(operand))
                self.add(key, *operand[:MAX_VALUES])
        elif operator == "$size":
            self.sizes(key, operand)
        elif operator == "$elemMatch":
            for item in self.items(operand):
                self.add_list(key, [item])
        elif operator == "$exists":
            self.present.add(key)
        elif operator == "$type":
            if isinstance(operand, str) and operand in _TYPE_EXAMPLES:
                self.add(key, _TYPE_EXAMPLES[operand])
        elif operator == "$not":
            self.value(key, operand)
        elif operator in ("$regex", "$regexi"):
            self.add(key, *regex_examples(operand))
        elif operator in _VERSIONS:
            self.add(key, operand, *_version_neighbours(operand))
        elif operator in ("$inGroup", "$notInGroup"):
            ids = self.groups.get(str(operand), ())
            self.add(key, *list(ids)[:3], "not-in-group")
        elif operator in ("$within", "$olderThan"):
            seconds = parse_duration(operand) if isinstance(operand, str) else None
            if seconds is not None:
                for margin in (-60, 60):
                    moment = self.now - timedelta(seconds=seconds + margin)
                    self.add(key, moment.isoformat())

    def sizes(self, key: Key, operand: Any) -> None:
        inner = _Hints(self.groups, self.now)
        inner.value(("",), operand)
        lengths = [int(n) for n in inner.values.get(("",), ()) if _number(n) and 0 <= n <= 20]
        for length in lengths:
            self.add_list(key, ["sample"] * length)

    def items(self, operand: Any) -> list[Any]:
        """Candidate list items for ``$elemMatch``: scalars, or objects of sub-paths."""
        inner = _Hints(self.groups, self.now)
        if (
            isinstance(operand, Mapping)
            and operand
            and all(str(k).startswith("$") for k in operand)
        ):
            inner.value(("",), operand)
            return _unique(inner.values.get(("",), ()))[:8]
        inner.condition(operand)
        columns = {k: _unique(v) for k, v in inner.values.items() if v}
        if not columns:
            return [{}]
        items: list[Any] = []
        for row in range(min(8, max(len(v) for v in columns.values()))):
            item: dict[str, Any] = {}
            for sub, values in columns.items():
                _put(item, sub, values[row % len(values)])
            items.append(item)
        return items


def _kind(key: Key, traits: Mapping[str, str] | None) -> str | None:
    """The type of value at ``key``, when firstmile or the declared traits say it."""
    head = key[0]
    if head == "computed" and len(key) == 2:
        return COMPUTED_TRAITS.get(key[1])
    if head == "consent" and len(key) == 2:
        return "boolean"
    if head == "events" and len(key) == 3:
        return "counter"
    if len(key) == 1:
        if traits is not None and head in traits:
            return traits[head]
        return COMPUTED_TRAITS.get(head)
    return None


def _put(target: dict[str, Any], key: Key, value: Any) -> bool:
    """Set ``key`` in nested dicts; ``False`` when a part on the way is not an object."""
    current = target
    for part in key[:-1]:
        nxt = current.setdefault(part, {})
        if not isinstance(nxt, dict):
            return False
        current = nxt
    current[key[-1]] = copy.deepcopy(value) if isinstance(value, dict | list) else value
    return True


def _score_bundles(
    score: ScoreDefinition, compared: Iterable[Any], traits: Mapping[str, str] | None
) -> list[_Bundle]:
    """Values of the score's inputs, together, that put it at its interesting values.

    For each target score ``t`` (0, 50, 100, each threshold bound and each constant a
    condition compares the score with, and one point either side) the terms are filled in
    order until they add up to ``min + t% of the span`` (each within its cap); event counts
    are whole, so both roundings are tried (a boolean input is true from one half). Terms
    that read a segment are left to it.
    """
    targets = {0.0, 50.0, 100.0}
    bounds = [b for t in score.thresholds for b in (t.min, t.max) if b is not None]
    for bound in [*bounds, *(c for c in compared if _number(c))]:
        targets.update((bound - 1, bound, bound + 1))
    low, span = score.scale.min, score.scale.max - score.scale.min
    terms = [
        (_event_key(t) if isinstance(t, EventTerm) else tuple(t.attribute.split(".")), t)
        for t in score.terms
        if isinstance(t, EventTerm) or not t.attribute.startswith("segments.")
    ]
    bundles: list[_Bundle] = []
    for target in sorted({min(100.0, max(0.0, t)) for t in targets}):
        for rounding in (math.floor, math.ceil):
            values: dict[Key, Any] = {
                key: False if _kind(key, traits) == "boolean" else 0 for key, _ in terms
            }
            remaining = low + span * target / 100
            for key, term in terms:
                if term.weight <= 0 or remaining <= 0:
                    continue
                need = remaining / term.weight
                if term.cap is not None:
                    need = min(need, term.cap)
                if isinstance(term, EventTerm):
                    need = max(0, int(rounding(need)))
                elif _kind(key, traits) == "boolean":
                    need = need >= 0.5
                elif rounding is math.ceil:
                    need = round(need, 6)
                values[key] = need
                remaining -= term.weight * float(need)
            bundles.append(_Bundle(values))
    return _unique(bundles)


class _Bundle(dict[Key, Any]):
    """Values of several paths set together (the inputs of one score)."""

    __slots__ = ()


class SampleSpace:
    """Candidate values for every path a config's conditions read, and samples of them."""

    def __init__(self, config: OnboardingConfig, *, now: datetime) -> None:
        self.config = config
        self.now = now
        hints = _Hints(config.saved_groups, now)
        for segment in config.segments:
            hints.condition(segment.compiled.condition)
        for rule in config.onboarding.rules:
            hints.condition(rule.condition.condition)
        self._hints = hints
        self._bundles = {
            score.key: tuple(
                _score_bundles(score, hints.values.get(("scores", score.key), ()), config.traits)
            )
            for score in config.scores
        }
        self._segments = {s.key: s for s in config.segments}
        self._thresholds = {t.key: t for t in config.threshold_segments}
        self._scores = {s.key: s for s in config.scores}
        self._cache: dict[Key, tuple[Any, ...]] = {}

    def values(self, key: Key) -> tuple[Any, ...]:
        """The candidate values of ``key``, the missing (or baseline) one first."""
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        kind = _kind(key, self.config.traits)
        name = key[1] if key[0] == "computed" and len(key) == 2 else key[0]
        found = list(self._hints.values.get(key, ()))
        if len(key) == 1 or key[0] == "computed":
            found.extend(_TYPICAL.get(name, ()))
        if kind == "boolean":
            found.extend((True, False))
        elif kind == "timestamp" and not found:
            found.extend((self.now - timedelta(days=d)).isoformat() for d in (0, 1, 30))
        if key in self._hints.present and not found:
            found.append("sample")
        texts = {v for v in found if isinstance(v, str)}
        if texts:  # a text none of the conditions names (for `$ne`, `$nin`, `$exists`)
            found.append(next(t for t in ("other", "other~", "other~~") if t not in texts))
        lists = self._hints.lists.get(key, [])
        if kind == "list" or lists:
            scalars = _unique(v for v in found if not isinstance(v, dict | list))[:8]
            shaped = [[], *([v] for v in scalars), *lists]
            if len(scalars) > 1:
                shaped.append(scalars)
            found = shaped if kind == "list" else [*found, *shaped]
        if kind == "counter" or (len(key) == 1 and name in _COUNTERS):
            found = [v for v in found if not _number(v) or v >= 0]
        baseline: Any = MISSING
        if key[0] == "consent" and len(key) == 2:
            baseline = False
        elif len(key) == 1 or (len(key) == 2 and key[0] == "computed"):
            baseline = _ALWAYS.get(name, MISSING)
        values = tuple(_unique([baseline, *found])[:MAX_VALUES])
        self._cache[key] = values
        return values

    def axes(self, found: Reach) -> list[tuple[Key, tuple[Any, ...]]]:
        """What a sample for ``found`` varies: each path, and each score's inputs together
        (under the key ``("scores", <score key>)``)."""
        axes = [(key, self.values(key)) for key in found.keys]
        for key in sorted(found.scores):
            bundles = self._bundles.get(key, ())
            if bundles:
                axes.append((("scores", key), bundles))
        return axes

    def assignments(self, found: Reach, *, seed: str, cap: int) -> Iterator[dict[Key, Any]]:
        """Combinations of the axes' values (see :func:`_combinations`)."""
        axes = self.axes(found)
        keys = [key for key, _ in axes]
        for combination in _combinations([values for _, values in axes], cap=cap, seed=seed):
            yield dict(zip(keys, combination, strict=True))

    def samples(
        self, conditions: Sequence[CompiledCondition], *, seed: str, cap: int = DEFAULT_CAP
    ) -> list[Sample]:
        """Samples for the paths ``conditions`` depend on (see the module docstring)."""
        found = reach(self.config, conditions)
        return [self.sample(a, found) for a in self.assignments(found, seed=seed, cap=cap)]

    def sample(self, assignment: Mapping[Key, Any], found: Reach) -> Sample:
        """A sample with these values, its segments (those in ``found``) and scores computed.

        Score inputs are set first, so a path also given on its own takes that value. An
        event's counters are made to hold together as a profile's do: its count over 7 days
        is at least the one over a day, and its count ever at least that.
        """
        attributes: dict[str, Any] = {}
        for value in assignment.values():
            if isinstance(value, _Bundle):
                for key, item in value.items():
                    _put(attributes, key, item)
        for key, value in assignment.items():
            if value is not MISSING and not isinstance(value, _Bundle):
                _put(attributes, key, value)
        events = attributes.get("events")
        if isinstance(events, dict):
            for counts in events.values():
                if isinstance(counts, dict):
                    _counters(counts)
        self._derive(attributes, found)
        return Sample(attributes)

    def _derive(self, attributes: dict[str, Any], found: Reach) -> None:
        """Fill ``segments`` and ``scores`` as the segment engine would."""
        members: dict[str, bool] = dict.fromkeys(self.config.segment_order, False)
        attributes["segments"] = members
        values: dict[str, float] = attributes.setdefault("scores", {})
        wanted = found.segments
        for key in self.config.segment_order:
            if key not in wanted:
                continue
            segment = self._segments.get(key)
            if segment is not None:
                members[key] = _safely(segment.compiled, attributes, self.now)
                continue
            threshold = self._thresholds[key]
            value = values.get(threshold.score)
            if value is None:
                value = values[threshold.score] = self._score(threshold.score, attributes)
            members[key] = threshold.min <= value and (
                threshold.max is None or value < threshold.max
            )
        for key in sorted(found.scores):
            if key not in values:
                values[key] = self._score(key, attributes)

    def _score(self, key: str, attributes: Mapping[str, Any]) -> float:
        return self._scores[key].compiled(attributes, self.now).value


def _counters(counts: dict[str, Any]) -> None:
    """Fill an event's missing counters and raise the longer windows to the shorter ones."""
    previous: Any = 0
    for name in ("count_1d", "count_7d", "count"):
        value = counts.setdefault(name, previous)
        if _number(value) and _number(previous) and value < previous:
            counts[name] = value = previous
        previous = value


def _safely(condition: CompiledCondition, attributes: Mapping[str, Any], now: datetime) -> bool:
    try:
        return condition(attributes, now=now)
    except Exception:  # a condition that fails on a user does not match it (as in decide)
        return False


def _combinations(
    choices: Sequence[tuple[Any, ...]], *, cap: int, seed: str
) -> Iterator[tuple[Any, ...]]:
    """Every combination, or ``cap`` of them: a diagonal that uses every value at least
    once, then random draws (seeded by ``seed``)."""
    total = math.prod(len(c) for c in choices)
    if total <= cap:
        yield from product(*choices)
        return
    # Not for secrets: a fixed seed, so the same config always gives the same samples.
    draw = random.Random(zlib.crc32(seed.encode("utf-8"))).random  # noqa: S311
    sizes = [len(c) for c in choices]
    seen: set[tuple[int, ...]] = set()
    picks = [tuple(i % n for n in sizes) for i in range(max(sizes))]
    attempts = 0
    while len(seen) < cap and attempts < cap * 4:
        pick = picks[attempts] if attempts < len(picks) else None
        attempts += 1
        if pick is None:
            pick = tuple(int(draw() * n) for n in sizes)
        if pick in seen:
            continue
        seen.add(pick)
        yield tuple(c[i] for c, i in zip(choices, pick, strict=True))


__all__ = [
    "DEFAULT_CAP",
    "MISSING",
    "Reach",
    "Sample",
    "SampleSpace",
    "fingerprint",
    "neighbours",
    "reach",
    "read_key",
    "regex_examples",
]
