"""The file's shape as pydantic models (strict, no unknown fields), and their errors as problems.

Only the shape is checked here: types, required fields, slugs, durations, ranges. What
needs the whole file (duplicate keys, conditions, references, scales) is checked in
:mod:`firstmile.config.build`. Each section item is validated on its own, so one bad
segment does not hide the problems of the next.
"""

from __future__ import annotations

import difflib
import json
import re
import types
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    FiniteFloat,
    ValidationError,
)
from pydantic_core import ErrorDetails

from firstmile.config.problems import ConfigProblem, FieldPath
from firstmile.config.yamlsource import YamlDocument

SLUG: Final = re.compile(r"[a-z][a-z0-9_-]{0,63}")
# The duration grammar of the condition language's $within, so both read alike.
_DURATION: Final = re.compile(r"(?:[0-9]{1,6}[smhdw]){1,5}")
_GROUP: Final = re.compile(r"([0-9]+)([smhdw])")
_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

# An example line per field, appended to every problem about that field.
EXAMPLES: Final[dict[str, str]] = {
    "version": "version: 1",
    "traits": "traits: {plan: string, signed_up_at: timestamp}",
    "saved_groups": "saved_groups: {beta_testers: [user_1, user_2]}",
    "segments": "segments: [{key: new_this_week, name: New this week, condition: {...}}]",
    "scores": "scores: [{key: engaged, name: Engaged, terms: [...]}]",
    "key": "key: new_this_week",
    "name": "name: New this week",
    "description": "description: Signed up in the last 7 days",
    "condition": 'condition: {signed_up_at: {$within: "7d"}}',
    "terms": "terms: [{event: Completed Step, window: 7d, weight: 10, cap: 5}]",
    "attribute": "attribute: invited_teammates",
    "event": "event: Completed Step",
    "window": "window: 7d",
    "weight": "weight: 10",
    "cap": "cap: 5",
    "decay": "decay: {half_life: 7d}",
    "half_life": "half_life: 7d",
    "scale": "scale: {max: 100}",
    "thresholds": "thresholds: [{segment: engaged, min: 60}]",
    "segment": "segment: engaged",
    "min": "min: 60",
    "max": "max: 100",
}


def slugify(text: str) -> str:
    """A key close to ``text``: ``"New This Week"`` → ``"new_this_week"``."""
    slug = re.sub(r"[^a-z0-9_-]+", "_", text.lower()).strip("_-")[:64]
    return slug if slug[:1].isalpha() else f"s_{slug}".rstrip("_")[:64]


def _slug(value: str) -> str:
    if not SLUG.fullmatch(value):
        raise ValueError(
            f"{json.dumps(value, ensure_ascii=False)} is not a key: use lowercase letters, digits,"
            f" `_` and `-`, starting with a letter, at most 64 characters; for example "
            f"`{slugify(value) or 'new_this_week'}`"
        )
    return value


def parse_duration(value: Any) -> timedelta:
    """A duration such as ``"7d"``, ``"36h"`` or ``"1d12h"`` as a positive timedelta.

    >>> parse_duration("7d"), parse_duration("1d12h")
    (datetime.timedelta(days=7), datetime.timedelta(days=1, seconds=43200))
    """
    seconds = 0
    if isinstance(value, str) and _DURATION.fullmatch(value):
        seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _GROUP.findall(value))
    if seconds <= 0:
        shown = json.dumps(value, ensure_ascii=False, default=str)
        raise ValueError(
            f"{shown} is not a duration: write whole numbers with units s, m, h, d or w, "
            "such as `7d` or `1d12h`"
        )
    return timedelta(seconds=seconds)


def _duration_text(value: Any) -> str:
    parse_duration(value)
    return str(value)


def _group_id(value: Any) -> Any:
    return str(value) if type(value) is int else value  # ids are text; 123 reads as "123"


Slug = Annotated[str, AfterValidator(_slug)]
Text = Annotated[str, Field(min_length=1)]
Duration = Annotated[Any, AfterValidator(_duration_text)]
GroupId = Annotated[str, BeforeValidator(_group_id), Field(min_length=1)]
Percent = Annotated[FiniteFloat, Field(ge=0, le=100)]
Cap = Annotated[FiniteFloat, Field(gt=0)]


def section_list(data: Mapping[str, Any], name: str) -> list[Any]:
    """The items of the list section ``name`` (none when absent or not a list: the shape
    check of ``FileIn`` reports that)."""
    value = data.get(name)
    return value if isinstance(value, list) else []


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class FileIn(_Strict):
    """The top level; the sections are validated item by item afterwards."""

    version: int
    traits: dict[str, Any] = Field(default_factory=dict)  # absent: trait names unchecked
    saved_groups: dict[str, Any] = Field(default_factory=dict)
    segments: list[Any] = Field(default_factory=list)
    scores: list[Any] = Field(default_factory=list)
    # The onboarding sections, checked item by item in config.onboarding_build.
    catalog: list[Any] = Field(default_factory=list)
    flows: list[Any] = Field(default_factory=list)
    checklists: list[Any] = Field(default_factory=list)
    rules: list[Any] = Field(default_factory=list)
    defaults: dict[str, Any] | None = None
    limits: dict[str, Any] | None = None
    # Experiments and bandits, checked in config.experiments_build.
    events: list[Text] | None = None  # the track events the app sends (absent: unchecked)
    metrics: list[Any] = Field(default_factory=list)
    experiments: list[Any] = Field(default_factory=list)
    bandits: list[Any] = Field(default_factory=list)
    holdout: Any = None
    # What to train, checked in config.models_build.
    models: Any = None


class SegmentIn(_Strict):
    key: Slug
    name: Text
    description: str = ""
    condition: dict[str, Any]


class TermIn(_Strict):
    attribute: Text | None = None
    event: Text | None = None
    window: Literal["1d", "7d", "all"] | None = None
    weight: FiniteFloat
    cap: Cap | None = None


class DecayIn(_Strict):
    half_life: Duration


class ScaleIn(_Strict):
    min: FiniteFloat = 0.0
    max: FiniteFloat | None = None


class ThresholdIn(_Strict):
    segment: Slug
    min: Percent
    max: Percent | None = None


class ScoreIn(_Strict):
    key: Slug
    name: Text
    description: str = ""
    terms: Annotated[list[TermIn], Field(min_length=1)]
    decay: DecayIn | None = None
    scale: ScaleIn = ScaleIn()
    thresholds: list[ThresholdIn] = Field(default_factory=list)


GroupIds = Annotated[list[GroupId], Field(min_length=1)]


def _unwrap(annotation: Any, part: str | int) -> Any:
    """The type one step into ``annotation`` (a list item, a dict value, a model field)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0], part)
    if origin in (Union, types.UnionType):
        models = [a for a in get_args(annotation) if a is not type(None)]
        return _unwrap(models[0], part) if len(models) == 1 else None
    if origin is list and isinstance(part, int):
        return get_args(annotation)[0]
    if origin is dict and isinstance(part, str):
        return get_args(annotation)[1]
    if (
        isinstance(annotation, type)
        and issubclass(annotation, BaseModel)
        and part in (annotation.model_fields)
    ):
        return annotation.model_fields[str(part)].annotation
    return None


def _fields_at(schema: Any, loc: tuple[str | int, ...]) -> list[str]:
    """The field names allowed where ``loc`` points (for "did you mean")."""
    current = schema
    for part in loc:
        current = _unwrap(current, part)
    while get_origin(current) in (Annotated, Union, types.UnionType):
        args = [a for a in get_args(current) if a is not type(None)]
        current = args[0] if args else None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 50 else text[:49] + "…"


def _message(
    error: ErrorDetails, schema: Any, loc: tuple[str | int, ...], example: str | None
) -> str:
    kind = error["type"]
    name = next((p for p in reversed(loc) if isinstance(p, str)), "")
    example = EXAMPLES.get(name, example)
    hint = f" For example: `{example}`." if example else ""
    if kind == "missing":
        return f"Missing required field `{name}`; add it.{hint}"
    if kind == "extra_forbidden":
        allowed = _fields_at(schema, loc[:-1])
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        guess = f" Did you mean `{close[0]}`?" if close else ""
        listed = f" The fields here are: {', '.join(allowed)}." if allowed else ""
        return f"Unknown field `{name}`.{guess}{listed}"
    if kind == "value_error":
        cause = (error.get("ctx") or {}).get("error")
        return f"{cause}." if cause is not None else error["msg"]
    if kind in ("dict_type", "model_type"):
        return f"Expected a mapping (`name: value` lines), not {_show(error['input'])}.{hint}"
    if kind == "list_type":
        return f"Expected a list (lines starting with `- `), not {_show(error['input'])}.{hint}"
    if kind == "too_short":
        return f"{error['msg']}; add at least one.{hint}"
    return f"{error['msg']}, not {_show(error['input'])}.{hint}"


def validation_problems(
    exc: ValidationError,
    schema: Any,
    prefix: FieldPath,
    doc: YamlDocument,
    *,
    example: str | None = None,
) -> list[ConfigProblem]:
    """Each pydantic error as a problem at its file line, with a hint on what to write.

    ``example`` is the line to suggest when the field has no example of its own.
    """
    problems = []
    for error in exc.errors(include_url=False):
        raw_loc = error["loc"]
        loc = tuple(part for part in raw_loc if part != "[key]")
        at_key = "[key]" in raw_loc or error["type"] == "extra_forbidden"
        path = (*prefix, *loc)
        problems.append(doc.problem(path, _message(error, schema, loc, example), at_key=at_key))
    return problems
