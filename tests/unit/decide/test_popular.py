"""What counts as done for recommendations: a Step Completed, or the item's own event."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from firstmile.config.onboarding import ContentItem, LocalizedText, OnboardingPlanConfig
from firstmile.config.templates import compile_template
from firstmile.decide.popular import completed_items, recommendable
from firstmile.profiles.content import ContentState
from firstmile.profiles.model import Computed, Profile

AT = datetime(2026, 5, 1, tzinfo=UTC)


def _item(item_id: str, kind: str = "tutorial", event: str | None = None) -> ContentItem:
    text = LocalizedText(compile_template(item_id), compile_template(""))
    return ContentItem(item_id, kind, text, completion_event=event)  # type: ignore[arg-type]


def test_done_by_step_completed_or_by_the_completion_event() -> None:
    items = [
        _item("tour"),
        _item("tip_api", "feature_tip", "Used API"),
        _item("tip_x", "feature_tip", "X"),
    ]
    profile = Profile(
        "p1", "u1", AT, AT,
        computed=Computed(event_counts={"Used API": 2}),
        content={"tour": ContentState(completed_at=AT), "tip_x": ContentState(shown_count=3)},
    )  # fmt: skip
    assert completed_items(profile, items) == {"tour": AT, "tip_api": None}
    assert completed_items(replace(profile, content={}, computed=Computed()), items) == {}


def test_only_tutorials_and_tips_are_recommendable() -> None:
    plan = OnboardingPlanConfig(
        catalog={
            i.id: i
            for i in (_item("b_tour"), _item("a_tip", "feature_tip"), _item("hi", "message"))
        }
    )
    assert [i.id for i in recommendable(plan)] == ["a_tip", "b_tour"]
