"""From a profile (or none) and a request context to a :class:`DecisionInput` (pure).

The request describes the user *now*: its device, OS, browser, locale and country (from
``context`` the way ingest enriches events) replace the profile's last-seen values for
this decision, and the whole context is readable as ``context.<field>``. An unknown user
is decided from the request alone (cold start).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from firstmile.decide.model import DecisionInput
from firstmile.events.consent import ConsentPolicy
from firstmile.events.enrich import enrich
from firstmile.events.model import Purpose
from firstmile.ml.serving import PERSONA_SEGMENT_PREFIX, ModelOutputs, ModelSet
from firstmile.profiles.model import Profile
from firstmile.segments.attributes import profile_attributes
from firstmile.segments.engine import SegmentEngine

# Request-derived values that describe the user now (override the profile's last seen).
_NOW_FIELDS = ("device_type", "os", "browser", "country", "locale", "timezone")


def _request_facts(context: Mapping[str, Any], request_ip: str | None) -> dict[str, Any]:
    enrichment = enrich(context, request_ip=request_ip)
    facts = {name: getattr(enrichment, name) for name in _NOW_FIELDS}
    return {name: value for name, value in facts.items() if value is not None}


def _cold_attributes(policy: ConsentPolicy) -> dict[str, Any]:
    return {
        "event_count": 0,
        "sessions": 0,
        "events": {},
        "consent": policy.state({}),
        "user_id": None,
        "profile_id": None,
        "anonymous": True,
        "computed": {},
        "segments": {},
        "scores": {},
    }


def decision_input(
    profile: Profile | None,
    *,
    context: Mapping[str, Any],
    engine: SegmentEngine | None,
    policy: ConsentPolicy,
    now: datetime,
    request_ip: str | None = None,
    popular: tuple[tuple[str, str, int], ...] = (),
    scores: Collection[str] | None = None,
    models: ModelSet | None = None,
) -> DecisionInput:
    """What :func:`~firstmile.decide.plan.compose` needs for one decision.

    Segments and scores are evaluated here, at decision time, so a decision is exact to
    the moment (time-based segments included) and needs no read of stored memberships.
    ``scores`` names the scores the plan can read (``None``: all of them); the others
    are only computed when a segment needs them. ``models`` (the promoted models) add
    ``persona`` and ``predictions.<key>`` before segments are evaluated, so segments,
    rules and scores can read them — only for users with ``personalization`` consent.
    """
    facts = _request_facts(context, request_ip)
    if profile is None:
        attributes = _cold_attributes(policy)
    else:
        attributes = profile_attributes(profile, now=now, policy=policy)
    computed = attributes.get("computed")
    if isinstance(computed, dict):
        computed = {**computed, **facts}
        attributes["computed"] = computed
    for name, value in facts.items():
        # An app trait of the same name wins, as it does for segments.
        if profile is None or name not in profile.traits:
            attributes[name] = value
    personalize = bool(attributes["consent"].get(Purpose.PERSONALIZATION.value))
    outputs = ModelOutputs()
    if models is not None and not models.empty and personalize:
        outputs = models.annotate(attributes)
    if engine is not None:
        members = engine.evaluate(attributes, now).members
        # evaluate() computes the scores its threshold segments need; rules read them all.
        values = attributes["scores"]
        for score in engine.config.scores:
            if score.key not in values and (scores is None or score.key in scores):
                values[score.key] = score.compiled(attributes, now).value
    else:
        members = frozenset()
    if outputs.persona is not None:
        members = members | {PERSONA_SEGMENT_PREFIX + outputs.persona}
    attributes["context"] = dict(context)
    locale = facts.get("locale") or attributes.get("locale")
    variables = {
        "traits": {} if profile is None else profile.traits,
        "computed": attributes.get("computed") or {},
        "user_id": None if profile is None else profile.user_id,
        "context": attributes["context"],
        "segments": sorted(members),
        "scores": dict(attributes.get("scores") or {}),
        "locale": locale,
        "persona": outputs.persona,
        "predictions": dict(outputs.predictions),
    }
    return DecisionInput(
        attributes=attributes,
        variables=variables,
        content={} if profile is None else profile.content,
        now=now,
        locale=locale if isinstance(locale, str) else None,
        known=profile is not None,
        personalize=personalize,
        popular=popular,
    )
