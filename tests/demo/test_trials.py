"""The demo's experiment and bandit, in process: the config targets the launch-week
sign-ups only, their plans show what their variant and arm test, and the planted
outcomes are exact shares."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from firstmile.clock import FixedClock
from firstmile.demo.onboarding import write_demo_config
from firstmile.demo.trials import (
    ARM_TIPS,
    BANDIT,
    CAMPAIGN,
    EXPERIMENT,
    VARIANT_WELCOMES,
    TrialResults,
    TrialRun,
    TrialUser,
    _planted,
    trial_checks,
)
from firstmile.service import Firstmile
from firstmile.settings import Settings


@pytest.fixture
def demo_fm(settings: Settings, clock: FixedClock) -> Iterator[Firstmile]:
    write_demo_config(settings.home)
    with Firstmile.open(settings, clock=clock) as service:
        yield service


def _identify(user_id: str, **traits: Any) -> dict[str, Any]:
    return {"type": "identify", "userId": user_id, "traits": traits}


def test_the_demo_config_declares_one_experiment_and_one_bandit(demo_fm: Firstmile) -> None:
    assert demo_fm.config is not None
    trials = demo_fm.config.trials
    assert [e.key for e in trials.experiments] == [EXPERIMENT]
    assert [b.key for b in trials.bandits] == [BANDIT]
    assert trials.experiments[0].experiment.variations == tuple(VARIANT_WELCOMES)
    assert trials.bandits[0].policy.arms == tuple(ARM_TIPS)


def test_only_launch_week_sign_ups_enter_and_see_their_variant(
    demo_fm: Firstmile, clock: FixedClock
) -> None:
    fm = demo_fm
    users = [f"lw-{n}" for n in range(60)]
    fm.ingest_items([_identify(u, signup_campaign=CAMPAIGN) for u in users])
    fm.ingest_items([_identify("someone-else", role="Admin", team_size="5")])
    for user in users:
        plan = fm.decide({"userId": user})
        seen = plan["experiments"]
        assert seen[EXPERIMENT]["in_experiment"] is True
        assert plan["welcome"]["item_id"] == VARIANT_WELCOMES[seen[EXPERIMENT]["variant"]]
        assert seen[BANDIT]["in_experiment"] is True
        assert ARM_TIPS[seen[BANDIT]["variant"]] in [t["item_id"] for t in plan["tips"]]
    other = fm.decide({"userId": "someone-else"})
    assert other["experiments"][EXPERIMENT]["reason"] == "targeting"
    assert other["experiments"][BANDIT]["reason"] == "targeting"
    assert other["welcome"]["item_id"] == "welcome_team"  # the rule, untouched
    fm.flush_exposures()
    report = fm.experiment_report(EXPERIMENT).to_json()
    assert sum(v["users"] for v in report["variants"]) == len(users)


def test_planted_outcomes_are_exact_shares_drawn_by_the_seed() -> None:
    users = [f"u{n}" for n in range(411)]
    first = _planted(random.Random(7), users, 0.25)
    assert len(first) == round(0.25 * 411) == 103
    assert _planted(random.Random(7), list(reversed(users)), 0.25) == first
    assert _planted(random.Random(8), users, 0.25) != first


def test_the_checks_fail_when_the_effect_is_not_found(
    demo_fm: Firstmile, clock: FixedClock
) -> None:
    fm = demo_fm
    users = [f"lw-{n}" for n in range(40)]
    fm.ingest_items([_identify(u, signup_campaign=CAMPAIGN) for u in users])
    decided = []
    for user in users:
        seen = fm.decide({"userId": user})["experiments"]
        variant, arm = seen[EXPERIMENT]["variant"], seen[BANDIT]["variant"]
        decided.append(
            TrialUser(
                user,
                planned=True,
                variant=variant,
                arm=arm,
                welcome=VARIANT_WELCOMES[variant],
                tips=(ARM_TIPS[arm],),
            )
        )
    fm.flush_exposures()
    clock.advance(timedelta(minutes=5))
    run = TrialRun(decided, decided=len(decided))
    results = TrialResults(fm.experiment_report(EXPERIMENT), fm.bandit_status(BANDIT))
    checks = {check.label: check for check in trial_checks(run, results)}
    # Exposures reconcile; with 40 users and no conversions there is nothing to ship,
    # and the bandit has no weights yet.
    assert checks["exposures recorded, all variants"].ok
    assert checks["exposures recorded, all arms"].ok
    assert not checks["recommendation"].ok
    assert checks["the arm with the most weight"].observed == "none"
