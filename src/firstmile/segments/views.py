"""What the API and the CLI show about segments, scores and previews (pure functions).

The facade (:class:`firstmile.service.Firstmile`) reads the store and calls these; they
only shape data. :func:`preview` evaluates a condition over profiles that the caller
streams in, with the attributes built exactly as real-time evaluation builds them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from firstmile.conditions import CompiledCondition, compile_condition
from firstmile.errors import ConditionError, InvalidRequest, NotFound
from firstmile.events.consent import ConsentPolicy
from firstmile.profiles.model import Profile
from firstmile.scores import ScoreResult
from firstmile.segments.attributes import profile_attributes
from firstmile.segments.engine import SegmentEngine

MAX_SAMPLE = 100


def segment_summaries(
    engine: SegmentEngine | None, sizes: Mapping[str, int]
) -> list[dict[str, Any]]:
    """Every segment of the loaded config with its current size, in evaluation order."""
    if engine is None:
        return []
    return [segment_summary(engine, key, sizes.get(key, 0)) for key in engine.segment_keys]


def segment_summary(engine: SegmentEngine | None, key: str, size: int) -> dict[str, Any]:
    """One segment: its definition (rule or score threshold) and its current size."""
    if engine is None or key not in engine.segment_keys:
        raise NotFound(
            f"No segment {key!r} in the loaded config; `firstmile segments list` shows them.",
            field="key",
        )
    config = engine.config
    rules = {s.key: s for s in config.segments}
    thresholds = {t.key: t for t in config.threshold_segments}
    data: dict[str, Any] = {"key": key}
    if key in rules:
        rule = rules[key]
        data |= {
            "kind": "rule",
            "name": rule.name,
            "description": rule.description,
            "condition": dict(rule.condition),
            "threshold": None,
        }
    else:
        threshold = thresholds[key]
        data |= {
            "kind": "threshold",
            "name": key,
            "description": f"Users whose {threshold.score} score is in the threshold.",
            "condition": None,
            "threshold": {"score": threshold.score, "min": threshold.min, "max": threshold.max},
        }
    data["size"] = size
    data["time_dependent"] = key in engine.time_dependent
    data["config_version"] = engine.version
    return data


def memberships_view(
    memberships: Mapping[str, datetime], engine: SegmentEngine | None
) -> list[dict[str, Any]]:
    """A profile's current segments, earliest entry first: ``[{key, name, entered_at}]``."""
    names: dict[str, str] = {}
    if engine is not None:
        names = {s.key: s.name for s in engine.config.segments}
    return [
        {"key": key, "name": names.get(key, key), "entered_at": at.isoformat()}
        for key, at in sorted(memberships.items(), key=lambda item: (item[1], item[0]))
    ]


def score_json(result: ScoreResult) -> dict[str, Any]:
    """A score with the contribution of every term (the reason for its value)."""
    return {
        "value": result.value,
        "raw": result.raw,
        "contributions": [
            {
                "label": c.label,
                "value": c.value,
                "decay": c.decay,
                "contribution": c.contribution,
            }
            for c in result.contributions
        ],
    }


def scores_view(
    profile: Profile, engine: SegmentEngine | None, *, now: datetime, policy: ConsentPolicy
) -> dict[str, dict[str, Any]]:
    """Every score of the loaded config for ``profile`` as of ``now``."""
    if engine is None:
        return {}
    attributes = profile_attributes(profile, now=now, policy=policy)
    return {key: score_json(r) for key, r in engine.scores(attributes, now).items()}


def member_rows(
    rows: Iterable[tuple[str, datetime]], user_ids: Mapping[str, str | None]
) -> list[dict[str, Any]]:
    """``(profile_id, entered_at)`` rows as ``[{profile_id, user_id, entered_at}]``."""
    return [
        {"profile_id": pid, "user_id": user_ids.get(pid), "entered_at": at.isoformat()}
        for pid, at in rows
    ]


def compile_preview(condition: Any, engine: SegmentEngine | None) -> CompiledCondition:
    """Compile a condition strictly; every problem is a :class:`ConditionError`."""
    if not isinstance(condition, Mapping):
        raise ConditionError(
            'a condition is a JSON object of attribute names and values, such as {"plan": "pro"}.'
        )
    groups = engine.config.saved_groups if engine is not None else None
    try:
        return compile_condition(condition, groups)
    except RecursionError:
        raise ConditionError("the condition is nested too deeply.") from None


def preview_attributes(
    profile: Profile,
    memberships: Mapping[str, datetime],
    engine: SegmentEngine | None,
    *,
    now: datetime,
    policy: ConsentPolicy,
) -> dict[str, Any]:
    """Attributes as segments see them, with ``segments.*`` from current membership."""
    attributes = profile_attributes(profile, now=now, policy=policy)
    if engine is not None:
        attributes["segments"] = {key: key in memberships for key in engine.segment_keys}
        attributes["scores"] = {k: r.value for k, r in engine.scores(attributes, now).items()}
    return attributes


def preview(
    compiled: CompiledCondition,
    profiles: Iterable[Profile],
    attributes_of: Callable[[Profile], dict[str, Any]],
    *,
    now: datetime,
    sample: int = 10,
) -> dict[str, Any]:
    """How many ``profiles`` match, out of how many, and the ids of the first ``sample``."""
    if not 0 <= sample <= MAX_SAMPLE:
        raise InvalidRequest(f"sample must be between 0 and {MAX_SAMPLE}.", field="sample")
    matching = total = 0
    ids: list[str] = []
    for profile in profiles:
        total += 1
        try:
            matched = compiled(attributes_of(profile), now=now)
        except RecursionError:
            raise ConditionError("the condition is nested too deeply.") from None
        if matched:
            matching += 1
            if len(ids) < sample:
                ids.append(profile.profile_id)
    return {"matching": matching, "total": total, "sample": ids}
