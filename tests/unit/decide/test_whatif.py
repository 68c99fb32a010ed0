"""What-if (firstmile.decide.whatif): two configs' plans for the same users, compared."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from firstmile.config import OnboardingConfig, parse_config
from firstmile.decide.inputs import decision_input
from firstmile.decide.plan import compose
from firstmile.decide.whatif import SLOTS, Replay, slot_changes, slot_values, summarize
from firstmile.events.consent import ConsentPolicy
from firstmile.profiles.content import ContentState
from firstmile.profiles.model import Profile
from firstmile.segments.engine import SegmentEngine

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
POLICY = ConsentPolicy.from_regimes("opt-out", "opt-out", "opt-in")

BASE = """\
version: 1
traits: {plan: string, role: string}
segments:
  - {key: admins, name: Admins, condition: {role: admin}}
catalog:
  - {id: hi, kind: message, title: Hi}
  - {id: hi_admin, kind: message, title: Hi admin}
  - {id: create_project, kind: step, title: Create a project}
  - {id: invite_team, kind: step, title: Invite your team}
  - {id: intro, kind: tutorial, title: Intro}
  - {id: add_avatar, kind: checklist_item, title: Add an avatar}
  - {id: shortcuts, kind: feature_tip, title: Shortcuts}
flows:
  - {key: setup, name: Set up, steps: [{item: intro}, {item: create_project}, {item: invite_team}]}
checklists:
  - {key: start, name: Start, items: [create_project, add_avatar]}
defaults: {welcome: hi, flow: setup, checklist: start}
rules:
"""
CURRENT = (
    BASE
    + """\
  - {key: admin_hi, priority: 20, when: {segments.admins: true}, then: {set_welcome: hi_admin}}
"""
)
CANDIDATE = (
    BASE
    + """\
  - {key: pro_no_intro, priority: 30, when: {plan: pro}, then: {remove_step: intro}}
  - key: admin_guided
    priority: 20
    when: {segments.admins: true}
    then: {set_tutorial_depth: guided}
  - {key: admin_tip, priority: 10, when: {segments.admins: true}, then: {pin_tip: shortcuts}}
"""
)


def profile(user: str, **traits: Any) -> Profile:
    return Profile(f"p_{user}", user, NOW, NOW, traits=traits)


def replay(who: Profile, current: OnboardingConfig, candidate: OnboardingConfig) -> Replay:
    def plan(config: OnboardingConfig) -> Any:
        engine = SegmentEngine(config)
        inp = decision_input(who, context={}, engine=engine, policy=POLICY, now=NOW)
        return inp, compose(config.onboarding, inp, config_version=config.version_id)

    _, before = plan(current)
    after_input, after = plan(candidate)
    segments = tuple(after_input.variables["segments"])
    return Replay(who.user_id or who.profile_id, segments, before, after)


def test_slot_values_are_comparable_json() -> None:
    config = parse_config(CURRENT)
    done = {"create_project": ContentState(completed_at=NOW)}
    who = Profile("p1", "u1", NOW, NOW, traits={"role": "admin"}, content=done)
    plan = replay(who, config, config).before
    assert slot_values(plan) == {
        "welcome": "hi_admin",
        "flow": "setup",
        "steps": ["intro", "create_project (done)", "invite_team"],
        "tutorial_depth": "standard",
        "checklist": "start: create_project, add_avatar",
        "tips": [],
    }


def test_each_changed_slot_names_the_rule_behind_it() -> None:
    current, candidate = parse_config(CURRENT), parse_config(CANDIDATE)
    changes = slot_changes(replay(profile("u1", plan="pro", role="admin"), current, candidate))
    summary = [(c.slot, c.before, c.after, c.rule, c.rule_before) for c in changes]
    assert summary == [
        ("welcome", "hi_admin", "hi", None, "admin_hi"),
        ("steps", ["intro", "create_project", "invite_team"], ["create_project", "invite_team"],
         "pro_no_intro", None),
        ("tutorial_depth", "standard", "guided", "admin_guided", None),
        ("tips", [], ["shortcuts"], "admin_tip", None),
    ]  # fmt: skip
    assert [c.source for c in changes] == ["default", "rule", "rule", "rule"]


def test_summarize_counts_users_slots_segments_and_rules() -> None:
    current, candidate = parse_config(CURRENT), parse_config(CANDIDATE)
    people = [
        profile("u1", plan="pro", role="admin"),
        profile("u2", plan="free", role="admin"),
        profile("u3", plan="pro"),
        profile("u4", plan="free"),
    ]
    report = summarize(
        (replay(p, current, candidate) for p in people),
        current=current.version_id,
        candidate=candidate.version_id,
        segment_keys=candidate.segment_keys,
        examples=3,
    )
    assert (report.profiles, report.changed) == (4, 3)
    assert report.slots == {
        "welcome": 2,
        "flow": 0,
        "steps": 2,
        "tutorial_depth": 2,
        "checklist": 0,
        "tips": 2,
    }
    assert report.segments == {"admins": {"members": 2, "changed": 2}}
    assert report.rules == {
        "admin_guided": 2,
        "admin_hi": 2,
        "admin_tip": 2,
        "pro_no_intro": 2,
    }
    # One example of each kind of change first, in slot order.
    assert [(e.user, e.slot) for e in report.examples] == [
        ("u1", "welcome"),
        ("u1", "steps"),
        ("u1", "tutorial_depth"),
    ]
    document = report.to_json()
    assert set(document) == {
        "current",
        "candidate",
        "profiles",
        "changed",
        "slots",
        "segments",
        "rules",
        "examples",
    }
    assert list(document["slots"]) == list(SLOTS)


def test_the_same_config_changes_nothing() -> None:
    config = parse_config(CANDIDATE)
    replays = [replay(profile("u1", plan="pro", role="admin"), config, config)]
    report = summarize(replays, current="a", candidate="a", segment_keys=(), examples=5)
    assert (report.profiles, report.changed, report.examples) == (1, 0, ())
