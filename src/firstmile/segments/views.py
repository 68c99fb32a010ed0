"""What the API and the CLI show about segments, scores and previews (pure functions).

The facade (:class:`firstmile.service.Firstmile`) reads the store and calls these; they
only shape data. :func:`preview` evaluates a condition over profiles that the caller
streams in, with the attributes built exactly as real-time evaluation builds them
(:func:`preview_attributes`); :func:`preview_needs` says which costly parts of them
(current memberships, scores) the condition reads at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from firstmile.conditions import CompiledCondition, compile_condition
from firstmile.errors import ConditionError, InvalidRequest, NotFound
from firstmile.events.consent import ConsentPolicy
from firstmile.profiles.model import Profile
from firstmile.scores import ScoreResult
from firstmile.segments.attributes import profile_attributes
from firstmile.segments.engine import SegmentEngine
from firstmile.storage.base import StaticSegment

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


def _config_kinds(engine: SegmentEngine | None) -> dict[str, tuple[str, str]]:
    """``{key: (kind, name)}`` of the loaded config's segments."""
    if engine is None:
        return {}
    kinds = {t.key: ("threshold", t.key) for t in engine.config.threshold_segments}
    kinds.update((s.key, ("rule", s.name)) for s in engine.config.segments)
    return kinds


def memberships_view(
    memberships: Mapping[str, datetime],
    engine: SegmentEngine | None,
    static: Iterable[StaticSegment] = (),
) -> list[dict[str, Any]]:
    """A profile's segments, earliest entry first: ``[{key, name, kind, entered_at}]``.

    ``memberships`` are the current rule and threshold memberships (``kind`` is ``null``
    for a segment the loaded config no longer has, until the next sweep ends it);
    ``static`` the static segments holding the profile, which it entered when the
    segment was made (``entered_at`` = its ``created_at``), with their ``source``
    (``snapshot`` or ``upload``) and ``of_segment``.
    """
    kinds = _config_kinds(engine)
    rows: list[tuple[datetime, str, dict[str, Any]]] = []
    for key, at in memberships.items():
        kind, name = kinds.get(key, (None, key))
        rows.append((at, key, {"key": key, "name": name, "kind": kind}))
    for segment in static:
        extra = {"source": segment.source, "of_segment": segment.of_segment}
        row = {"key": segment.key, "name": segment.name, "kind": "static", **extra}
        rows.append((segment.created_at, segment.key, row))
    rows.sort(key=lambda item: (item[0], item[1], item[2]["kind"] == "static"))
    return [row | {"entered_at": at.isoformat()} for at, _, row in rows]


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


@dataclass(frozen=True, slots=True)
class PreviewNeeds:
    """What a preview condition reads beyond the profile itself.

    ``memberships``: current segment memberships (``segments.*``, directly or through a
    score); ``scores``: score values (``scores.*``). Neither is read for a condition that
    does not need it, which cannot change its answer.
    """

    memberships: bool
    scores: bool


READS_ALL = PreviewNeeds(memberships=True, scores=True)


def _roots(paths: Iterable[str]) -> set[str]:
    return {path.split(".", 1)[0] for path in paths}


def preview_needs(compiled: CompiledCondition, engine: SegmentEngine | None) -> PreviewNeeds:
    """Whether ``compiled`` reads memberships and scores (never without a config)."""
    if engine is None:
        return PreviewNeeds(memberships=False, scores=False)
    roots = _roots(compiled.attributes)
    scores = "scores" in roots
    scores_read_segments = "segments" in _roots(
        path for score in engine.config.scores for path in score.attributes
    )
    return PreviewNeeds(
        memberships="segments" in roots or (scores and scores_read_segments), scores=scores
    )


def preview_attributes(
    profile: Profile,
    memberships: Mapping[str, datetime],
    engine: SegmentEngine | None,
    *,
    now: datetime,
    policy: ConsentPolicy,
    needs: PreviewNeeds = READS_ALL,
) -> dict[str, Any]:
    """Attributes as segments see them, with ``segments.*`` from current membership.

    ``needs`` leaves out what the condition does not read (``segments`` and ``scores``
    then stay empty).
    """
    attributes = profile_attributes(profile, now=now, policy=policy)
    if engine is not None:
        if needs.memberships:
            attributes["segments"] = {key: key in memberships for key in engine.segment_keys}
        if needs.scores:
            scores = engine.scores(attributes, now)
            attributes["scores"] = {k: r.value for k, r in scores.items()}
    return attributes


def preview(
    compiled: CompiledCondition,
    candidates: Iterable[tuple[str, Mapping[str, Any]]],
    *,
    now: datetime,
    sample: int = 10,
) -> dict[str, Any]:
    """How many ``(profile id, attributes)`` candidates match, out of how many, and the
    ids of the first ``sample`` that do."""
    if not 0 <= sample <= MAX_SAMPLE:
        raise InvalidRequest(f"sample must be between 0 and {MAX_SAMPLE}.", field="sample")
    matching = total = 0
    ids: list[str] = []
    for profile_id, attributes in candidates:
        total += 1
        try:
            matched = compiled(attributes, now=now)
        except RecursionError:
            raise ConditionError("the condition is nested too deeply.") from None
        if matched:
            matching += 1
            if len(ids) < sample:
                ids.append(profile_id)
    return {"matching": matching, "total": total, "sample": ids}
