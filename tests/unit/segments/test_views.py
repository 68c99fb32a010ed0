"""What the API and the CLI show: memberships with static segments, and preview needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from firstmile.conditions import compile_condition
from firstmile.config import parse_config
from firstmile.segments.engine import SegmentEngine
from firstmile.segments.views import PreviewNeeds, memberships_view, preview_needs
from firstmile.storage.base import StaticSegment

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
ENGINE = SegmentEngine(
    parse_config("""
version: 1
segments:
  - key: pro
    name: Pro plan
    condition: {plan: pro}
scores:
  - key: plain
    name: Plain
    terms: [{attribute: seats, weight: 1, cap: 10}]
  - key: loyal
    name: Loyal
    terms: [{attribute: segments.pro, weight: 10, cap: 1}]
    thresholds: [{segment: loyal_users, min: 50}]
""")
)


def static(key: str, at: datetime) -> StaticSegment:
    return StaticSegment(key, key.title(), "", "upload", None, at, None)


def test_memberships_and_static_segments_earliest_first() -> None:
    view = memberships_view(
        {"loyal_users": NOW, "pro": NOW - timedelta(hours=1), "gone": NOW},
        ENGINE,
        [static("guests", NOW - timedelta(days=1)), static("pro", NOW - timedelta(hours=1))],
    )
    assert [(row["key"], row["kind"]) for row in view] == [
        ("guests", "static"),
        ("pro", "rule"),
        ("pro", "static"),  # a static segment may share a config segment's key
        ("gone", None),  # no longer in the config: ended by the next sweep
        ("loyal_users", "threshold"),
    ]
    assert view[0] == {
        "key": "guests",
        "name": "Guests",
        "kind": "static",
        "source": "upload",
        "of_segment": None,
        "entered_at": (NOW - timedelta(days=1)).isoformat(),
    }
    assert view[1] == {
        "key": "pro",
        "name": "Pro plan",
        "kind": "rule",
        "entered_at": (NOW - timedelta(hours=1)).isoformat(),
    }
    assert memberships_view({"pro": NOW}, None) == [
        {"key": "pro", "name": "pro", "kind": None, "entered_at": NOW.isoformat()}
    ]


@pytest.mark.parametrize(
    ("condition", "needs"),
    [
        ({"plan": "pro"}, PreviewNeeds(memberships=False, scores=False)),
        ({"segments.pro": True}, PreviewNeeds(memberships=True, scores=False)),
        ({"segments": {"$exists": True}}, PreviewNeeds(memberships=True, scores=False)),
        ({"scores.plain": {"$gt": 1}}, PreviewNeeds(memberships=True, scores=True)),
        ({"$or": [{"scores.loyal": 1}]}, PreviewNeeds(memberships=True, scores=True)),
    ],
)
def test_preview_needs(condition: dict[str, object], needs: PreviewNeeds) -> None:
    assert preview_needs(compile_condition(condition), ENGINE) == needs
    assert preview_needs(compile_condition(condition), None) == PreviewNeeds(False, False)


def test_a_score_that_reads_no_segment_needs_no_memberships() -> None:
    engine = SegmentEngine(
        parse_config(
            "version: 1\nscores:\n  - key: plain\n    name: Plain\n"
            "    terms: [{attribute: seats, weight: 1, cap: 10}]\n"
        )
    )
    needs = preview_needs(compile_condition({"scores.plain": {"$gt": 1}}), engine)
    assert needs == PreviewNeeds(memberships=False, scores=True)
