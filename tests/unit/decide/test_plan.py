"""The planner as a pure function: the spec's example config against made-up users."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from firstmile.config import OnboardingConfig, load_config, parse_config
from firstmile.decide.inputs import decision_input
from firstmile.decide.model import DecisionInput, Plan
from firstmile.decide.plan import compose
from firstmile.events.consent import ConsentPolicy
from firstmile.events.model import Purpose
from firstmile.profiles.content import ContentState
from firstmile.profiles.model import Computed, ConsentDecision, Profile
from firstmile.segments.engine import SegmentEngine

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
POLICY = ConsentPolicy.from_regimes("opt-out", "opt-out", "opt-in")
EXAMPLE = Path(__file__).parents[2] / "spec" / "config" / "valid" / "decide.yaml"
CONFIG = load_config(EXAMPLE)
ENGINE = SegmentEngine(CONFIG)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)


def profile(
    traits: dict[str, Any] | None = None,
    *,
    events: dict[str, int] | None = None,
    content: dict[str, ContentState] | None = None,
    hourly: dict[int, dict[str, int]] | None = None,
    **computed: Any,
) -> Profile:
    counts = events or {}
    return Profile(
        "p1",
        "u1",
        NOW - timedelta(days=2),
        NOW,
        traits=dict(traits or {}),
        computed=Computed(
            event_count=sum(counts.values()), event_counts=counts, hourly=hourly or {}, **computed
        ),
        content=content or {},
    )


def inputs(
    who: Profile | None,
    context: dict[str, Any] | None = None,
    *,
    config: OnboardingConfig = CONFIG,
    **changes: Any,
) -> DecisionInput:
    inp = decision_input(
        who,
        context=context or {},
        engine=SegmentEngine(config),
        policy=POLICY,
        now=changes.pop("now", NOW),
    )
    return replace(inp, **changes) if changes else inp


def plan_for(
    who: Profile | None,
    context: dict[str, Any] | None = None,
    *,
    config: OnboardingConfig = CONFIG,
    **changes: Any,
) -> Plan:
    inp = inputs(who, context, config=config, **changes)
    return compose(config.onboarding, inp, config_version=config.version_id)


def welcome_id(plan: Plan) -> str | None:
    return None if plan.welcome is None else plan.welcome.item_id


def step_ids(plan: Plan) -> list[str]:
    return [s.content.item_id for s in plan.steps]


def test_unknown_user_gets_the_default_plan_from_the_request() -> None:
    plan = plan_for(None, {"userAgent": DESKTOP})
    assert not plan.known
    assert plan.welcome is not None
    assert plan.welcome.item_id == "welcome"
    assert plan.welcome.body == "Hi there, let's get you set up."
    assert plan.flow == "beginner"
    assert step_ids(plan) == ["watch_intro", "create_project", "connect_data", "invite_team"]
    assert plan.reasons["welcome"].source == "cold_start"
    # The request says desktop: the desktop rule applies even to a stranger.
    assert [t.item_id for t in plan.tips] == ["shortcuts"]
    assert plan.reasons["tips"].rule == "shortcuts_on_desktop"


def test_admins_get_their_welcome_and_invite_first_with_reasons() -> None:
    plan = plan_for(profile({"role": "admin", "first_name": "Ana"}), {"userAgent": DESKTOP})
    assert plan.welcome is not None
    assert plan.welcome.item_id == "welcome_admin"
    assert plan.welcome.body == "Ana, invite your team first."
    reason = plan.reasons["welcome"]
    assert (reason.source, reason.rule, reason.segments) == ("rule", "admin_welcome", ("admins",))
    assert step_ids(plan)[0] == "invite_team"
    assert plan.steps[0].reason.rule == "admins_invite_first"
    assert "admin_welcome" in plan.matched_rules


def test_mobile_users_get_the_mobile_welcome_and_no_connect_step() -> None:
    plan = plan_for(profile(), {"userAgent": IPHONE})
    assert welcome_id(plan) == "welcome_mobile"
    assert "connect_data" not in step_ids(plan)  # the step's own condition
    assert plan.tutorial_depth == "guided"
    assert plan.reasons["tutorial_depth"].rule == "guided_for_new_mobile"


def test_show_once_falls_back_to_the_default_welcome() -> None:
    seen = {"welcome_mobile": ContentState(shown_count=1, shown=(NOW - timedelta(days=1),))}
    plan = plan_for(profile(content=seen), {"userAgent": IPHONE})
    assert welcome_id(plan) == "welcome"
    assert plan.withheld["welcome_mobile"].source == "frequency_cap"
    assert plan.reasons["welcome"].source == "default"


def test_higher_priority_rule_wins_a_single_valued_slot() -> None:
    # Admin (priority 100) and mobile (50) both write the welcome: the admin one wins.
    plan = plan_for(profile({"role": "admin"}), {"userAgent": IPHONE})
    assert welcome_id(plan) == "welcome_admin"
    # The mobile rule could not change the welcome any more: it was not even evaluated.
    assert "admin_welcome" in plan.matched_rules
    assert "mobile_welcome" not in plan.matched_rules


def test_remove_step_is_reported_as_withheld() -> None:
    plan = plan_for(profile({"plan": "pro"}), {"userAgent": DESKTOP})
    assert "watch_intro" not in step_ids(plan)
    assert plan.withheld["watch_intro"].rule == "pro_skip_intro"


def test_engaged_users_get_the_advanced_flow_and_a_light_tutorial() -> None:
    hour = int(NOW.timestamp()) // 3600
    engaged = profile(
        events={"Step Completed": 3}, hourly={hour - 1: {"*": 3, "Step Completed": 3}}
    )
    plan = plan_for(engaged, {"userAgent": DESKTOP})
    assert plan.flow == "advanced"
    assert plan.tutorial_depth == "light"
    assert plan.reasons["flow"].scores == ("engaged",)
    assert step_ids(plan) == ["create_project", "connect_data", "advanced_tour"]


def test_step_states_come_from_events_and_content_events() -> None:
    content = {
        "watch_intro": ContentState(dismissed_at=NOW),
        "invite_team": ContentState(completed_at=NOW),
    }
    plan = plan_for(profile(events={"Project Created": 1}, content=content), {})
    states = {s.content.item_id: s.state for s in plan.steps}
    assert states == {
        "watch_intro": "skipped",
        "create_project": "done",
        "connect_data": "todo",
        "invite_team": "done",
    }
    checklist = {c.content.item_id: c.done for c in plan.checklist_items}
    assert checklist == {"create_project": True, "invite_team": True, "add_avatar": False}


def test_prerequisites_block_a_step_until_done() -> None:
    plan = plan_for(profile(), {"userAgent": DESKTOP})
    connect = next(s for s in plan.steps if s.content.item_id == "connect_data")
    assert connect.blocked_by == ("create_project",)
    plan = plan_for(profile(events={"Project Created": 1}), {"userAgent": DESKTOP})
    connect = next(s for s in plan.steps if s.content.item_id == "connect_data")
    assert connect.blocked_by == ()


def test_without_personalization_consent_the_plan_is_the_default() -> None:
    denied = replace(
        profile({"role": "admin"}),
        consent={Purpose.PERSONALIZATION: ConsentDecision(False, NOW, "context")},
    )
    plan = plan_for(denied, {"userAgent": IPHONE})
    assert plan.matched_rules == ()
    assert welcome_id(plan) == "welcome"
    assert {r.source for r in plan.reasons.values()} == {"consent"}


def test_global_limit_withholds_interruptions_but_not_steps() -> None:
    shown = tuple(NOW - timedelta(minutes=m) for m in range(5))
    busy = profile(content={"other": ContentState(shown_count=5, shown=shown)})
    plan = plan_for(busy, {"userAgent": DESKTOP})
    assert plan.welcome is None
    assert plan.tips == ()
    assert plan.withheld["welcome"].source == "frequency_cap"
    assert len(plan.steps) == 4


def test_dated_items_show_only_between_their_dates() -> None:
    december = NOW.replace(month=12, day=10)
    assert "holiday_promo" in [t.item_id for t in plan_for(profile(), now=december).tips]
    november = plan_for(profile())
    assert "holiday_promo" not in [t.item_id for t in november.tips]
    assert november.withheld["holiday_promo"].source == "schedule"


def test_locale_picks_the_translation_with_fallback() -> None:
    plan = plan_for(profile({"first_name": "Zoé"}), {"locale": "fr-CA"})
    assert plan.welcome is not None
    assert (plan.welcome.locale, plan.welcome.title) == ("fr", "Bienvenue chez Acme")
    assert plan.welcome.body == "Bonjour Zoé !"
    plan = plan_for(profile(), {"locale": "de-DE"})
    assert plan.welcome is not None
    assert plan.welcome.locale is None


def test_a_template_failing_at_runtime_falls_back_to_the_default() -> None:
    config = parse_config(
        """
version: 1
catalog:
  - {id: hi, kind: message, title: Hi}
  - {id: count, kind: message, title: "{{ traits.get('n', 1) + 1 }} things"}
rules:
  - {key: counted, priority: 1, when: {n: {$exists: true}}, then: {set_welcome: count}}
defaults: {welcome: hi}
"""
    )
    plan = plan_for(profile({"n": "not a number"}), config=config)
    assert welcome_id(plan) == "hi"
    assert plan.reasons["welcome"].source == "fallback"
    assert any("count" in f for f in plan.fallbacks)
    plan = plan_for(profile({"n": 2}), config=config)
    assert plan.welcome is not None
    assert plan.welcome.title == "3 things"


def test_over_budget_the_rules_stop_and_the_default_is_served() -> None:
    inp = inputs(profile({"role": "admin"}), {"userAgent": IPHONE})
    plan = compose(CONFIG.onboarding, inp, config_version="v", over_budget=lambda: True)
    assert welcome_id(plan) == "welcome"
    assert plan.reasons["welcome"].source == "fallback"
    assert plan.matched_rules == ()
    assert plan.fallbacks


def test_stop_ends_rule_evaluation() -> None:
    config = parse_config(
        """
version: 1
catalog:
  - {id: a, kind: message, title: A}
  - {id: t, kind: feature_tip, title: T}
rules:
  - {key: first, priority: 2, then: {set_welcome: a}, stop: true}
  - {key: second, priority: 1, then: {pin_tip: t}}
"""
    )
    plan = plan_for(profile(), config=config)
    assert plan.matched_rules == ("first",)
    assert plan.tips == ()


def test_equal_priorities_keep_file_order() -> None:
    config = parse_config(
        """
version: 1
catalog:
  - {id: a, kind: message, title: A}
  - {id: b, kind: message, title: B}
rules:
  - {key: first, priority: 5, then: {set_welcome: a}}
  - {key: second, priority: 4, then: {set_welcome: b}}
"""
    )
    # `config check` refuses two rules that collide at one priority; the planner still
    # breaks such a tie by file order (a config built another way, or an undetected one).
    first, second = config.onboarding.rules
    tied = replace(config.onboarding, rules=(first, replace(second, priority=5)))
    config = replace(config, onboarding=tied)
    plan = plan_for(profile(), config=config)
    assert welcome_id(plan) == "a"


def test_recommendations_skip_done_and_already_planned_items() -> None:
    popular = (("watch_intro", "admins", 9), ("advanced_tour", "admins", 7), ("shortcuts", "*", 3))
    done = {"advanced_tour": ContentState(completed_at=NOW)}
    plan = plan_for(profile(content=done), popular=popular)
    # watch_intro is already a step, advanced_tour is done: the tip is what is left.
    assert [r.item_id for r in plan.recommendations] == ["shortcuts"]
    assert plan.reasons["recommendations"].source == "popular"


@pytest.mark.parametrize("slot", ["welcome", "flow", "steps", "tutorial_depth", "checklist"])
def test_every_slot_has_a_reason(slot: str) -> None:
    assert slot in plan_for(profile()).reasons


def test_plan_json_round_trips_through_json() -> None:
    import json

    body = plan_for(profile({"role": "admin"}), {"userAgent": DESKTOP}).to_json()
    assert json.loads(json.dumps(body)) == body
    assert body["checklist"]["total"] == 3
    assert body["config_version"] == CONFIG.version_id


def test_plain_text_items_are_rendered_once_per_locale_and_templates_every_time() -> None:
    config = parse_config(
        """
version: 1
catalog:
  - {id: hi, kind: message, title: Hi, locales: {fr: {title: Salut}}}
  - {id: named, kind: message, title: "Hi {{ traits.name }}"}
rules:
  - {key: by_name, priority: 1, when: {name: {$exists: true}}, then: {set_welcome: named}}
defaults: {welcome: hi}
"""
    )
    hi, named = config.onboarding.catalog["hi"], config.onboarding.catalog["named"]
    first = plan_for(profile({}), config=config)
    again = plan_for(profile({}), config=config)
    assert first.welcome is again.welcome  # the same object: rendered once
    french = plan_for(profile({}), {"locale": "fr-FR"}, config=config)
    assert french.welcome is not None
    assert french.welcome.title == "Salut"
    assert len(hi.rendered) == 2  # one entry per locale asked for
    ana = plan_for(profile({"name": "Ana"}), config=config)
    bo = plan_for(profile({"name": "Bo"}), config=config)
    assert (ana.welcome and ana.welcome.title, bo.welcome and bo.welcome.title) == (
        "Hi Ana",
        "Hi Bo",
    )
    assert named.rendered == {}
