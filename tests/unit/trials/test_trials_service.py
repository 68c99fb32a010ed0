"""Experiments and bandits end to end on a real SQLite workspace: decide assigns and logs
exposures, ingest feeds the metrics, the report and the bandit read them back."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from firstmile.clock import FixedClock
from firstmile.errors import InvalidRequest, NotFound
from firstmile.service import Firstmile
from firstmile.settings import Settings

CONFIG = (Path(__file__).parents[2] / "spec" / "config" / "valid" / "trials.yaml").read_text(
    encoding="utf-8"
)


@pytest.fixture
def trial_fm(settings: Settings, clock: FixedClock) -> Iterator[Firstmile]:
    settings.config_path.write_text(CONFIG, encoding="utf-8")
    # A generous time budget: on a loaded machine a decision over the default 50 ms falls
    # back to the default plan (no variant shown, so no exposure), which is not under test.
    roomy = settings.model_copy(update={"decide_budget_ms": 60_000})
    with Firstmile.open(roomy, clock=clock) as service:
        yield service


def _track(user: str, event: str, clock: FixedClock, **properties: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": user,
        "event": event,
        "properties": properties,
        "timestamp": clock.now().isoformat(),
    }


def _seen(fm: Firstmile, users: list[str], clock: FixedClock) -> None:
    fm.ingest_items([_track(u, "Signed Up", clock) for u in users])


def test_decide_assigns_logs_exposures_and_the_report_counts_conversions(
    trial_fm: Firstmile, clock: FixedClock
) -> None:
    fm = trial_fm
    users = [f"user-{n}" for n in range(400)]
    _seen(fm, users, clock)
    variants: dict[str, str] = {}
    for user in users:
        plan = fm.decide({"userId": user})
        seen = plan["experiments"]["welcome_copy"]
        assert seen["in_experiment"] is True
        variants[user] = seen["variant"]
        expected_welcome = "welcome_friendly" if seen["variant"] == "friendly" else "welcome"
        assert plan["welcome"]["item_id"] == expected_welcome
        if seen["variant"] == "friendly":
            assert plan["reasons"]["welcome"]["source"] == "experiment"
    assert fm.flush_exposures() > 0
    counts = {v: sum(1 for x in variants.values() if x == v) for v in ("control", "friendly")}
    assert min(counts.values()) > 150  # a 50/50 split of 400

    clock.advance(timedelta(hours=1))
    # Every "friendly" user converts, one control user in four does; errors only in control.
    events = []
    for n, user in enumerate(users):
        if variants[user] == "friendly" or n % 4 == 0:
            events.append(_track(user, "Project Created", clock))
        if variants[user] == "control":
            events.append(_track(user, "Error Shown", clock))
    fm.ingest_items(events)

    report = fm.experiment_report("welcome_copy").to_json()
    by_variant = {v["key"]: v["users"] for v in report["variants"]}
    assert by_variant == counts
    activated = next(m for m in report["metrics"] if m["key"] == "activated")
    means = {v["variant"]: v["value"] for v in activated["values"]}
    assert means["friendly"] == 1.0
    assert 0.1 < means["control"] < 0.5
    assert report["recommendation"]["action"] in {"ship", "keep_running"}


def test_the_variant_sticks_when_the_user_identifies(
    trial_fm: Firstmile, clock: FixedClock
) -> None:
    fm = trial_fm
    fm.ingest_items([{"type": "page", "anonymousId": "anon-1", "name": "Home"}])
    before = fm.decide({"anonymousId": "anon-1"})["experiments"]["welcome_copy"]
    fm.flush_exposures()
    # Sign-up: the anonymous profile gets a user id, which hashes on its own.
    fm.ingest_items([{"type": "identify", "userId": "signed-1", "anonymousId": "anon-1"}])
    after = fm.decide({"userId": "signed-1", "anonymousId": "anon-1"})["experiments"]
    assert after["welcome_copy"]["variant"] == before["variant"]
    assert after["welcome_copy"]["reason"] == "sticky"


def test_forced_qa_users_see_their_variant_and_are_not_measured(
    trial_fm: Firstmile, clock: FixedClock
) -> None:
    fm = trial_fm
    _seen(fm, ["qa-1"], clock)
    plan = fm.decide({"userId": "qa-1"})
    assert plan["experiments"]["welcome_copy"]["variant"] == "friendly"
    assert plan["experiments"]["welcome_copy"]["reason"] == "forced"
    fm.flush_exposures()
    report = fm.experiment_report("welcome_copy").to_json()
    assert sum(v["users"] for v in report["variants"]) == 0


def test_a_report_without_data_has_warnings_and_no_nan(trial_fm: Firstmile) -> None:
    report = trial_fm.experiment_report("welcome_copy").to_json()
    assert report["recommendation"]["action"] == "no_data"
    assert report["warnings"]

    def walk(value: Any) -> None:
        if isinstance(value, float):
            assert math.isfinite(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(report)


def test_unknown_trials_are_not_found(trial_fm: Firstmile) -> None:
    with pytest.raises(NotFound, match="welcome_copy"):
        trial_fm.experiment_report("nope")
    with pytest.raises(NotFound, match="first_tip"):
        trial_fm.bandit_status("nope")


def test_the_bandit_moves_traffic_to_the_better_arm_and_logs_propensities(
    trial_fm: Firstmile, clock: FixedClock
) -> None:
    fm = trial_fm
    users = [f"b-{n}" for n in range(300)]
    _seen(fm, users, clock)
    arms = {}
    for user in users:
        seen = fm.decide({"userId": user})["experiments"]["first_tip"]
        assert seen["propensity"] == pytest.approx(0.5)
        arms[user] = seen["variant"]
    fm.flush_exposures()
    clock.advance(timedelta(minutes=5))
    fm.ingest_items([_track(u, "Project Created", clock) for u in users if arms[u] == "b"])
    assert fm.refresh_bandits() == 1
    status = fm.bandit_status("first_tip")
    weights = status["weights"][0]["weights"]
    assert weights["b"] > 0.9
    assert weights["a"] >= 0.05  # the minimum weight keeps exploring
    # Not due again before the cadence; forced, it recomputes.
    assert fm.refresh_bandits() == 0
    assert fm.refresh_bandits(force=True) == 1

    always_b = fm.evaluate_bandit("first_tip", {None: {"b": 1.0}}).to_json()
    always_a = fm.evaluate_bandit("first_tip", {None: {"a": 1.0}}).to_json()
    # Every user on arm b converted, none on arm a: SNIPS is exact, IPS unbiased but noisy.
    assert always_b["snips"]["value"] == pytest.approx(1.0)
    assert always_b["ips"]["value"] == pytest.approx(1.0, abs=0.2)
    assert always_a["ips"]["value"] == pytest.approx(0.0)
    assert always_b["n_logged"] == len(users)
    with pytest.raises(InvalidRequest, match="policy"):
        fm.evaluate_bandit("first_tip", {None: {"a": 0.3}})


def test_a_config_with_trial_problems_is_refused(settings: Settings, tmp_path: Path) -> None:
    from firstmile.config import ConfigFileError, parse_config

    bad = CONFIG.replace("weight: 0.5, then", "weight: 0.7, then").replace(
        "metric: activated", "metric: activatd"
    )
    with pytest.raises(ConfigFileError) as info:
        parse_config(bad, source="bad.yaml")
    text = str(info.value)
    assert "weights sum to 1.2" in text
    assert "`activatd` is not a metric" in text
    one = CONFIG.replace("      - {key: control, weight: 0.5}\n", "").replace(
        "weight: 0.5, then", "weight: 1.0, then"
    )
    with pytest.raises(ConfigFileError, match="needs at least two variations"):
        parse_config(one, source="one.yaml")


def test_no_exposure_is_recorded_when_the_variant_did_not_run(
    settings: Settings, clock: FixedClock
) -> None:
    settings.config_path.write_text(CONFIG, encoding="utf-8")
    # A budget no decision can meet: rules (variant actions included) are cut short and
    # every slot falls back to its default, for treatment and control alike.
    hurried = settings.model_copy(update={"decide_budget_ms": 1e-6})
    with Firstmile.open(hurried, clock=clock) as fm:
        users = [f"h-{n}" for n in range(30)]
        _seen(fm, users, clock)
        for user in users:
            plan = fm.decide({"userId": user})
            assert "rules: over the time budget" in plan["fallbacks"]
            assert plan["experiments"]["welcome_copy"]["in_experiment"] is True
        fm.flush_exposures()
        assert fm.trials_summary()["experiments"][0]["users"] == {"control": 0, "friendly": 0}


def test_the_user_view_lists_the_experiments_with_metric_states(
    trial_fm: Firstmile, clock: FixedClock
) -> None:
    fm = trial_fm
    _seen(fm, ["viewer"], clock)
    plan = fm.decide({"userId": "viewer"})
    fm.flush_exposures()
    clock.advance(timedelta(minutes=1))
    fm.ingest_items([_track("viewer", "Project Created", clock)])
    view = {m["key"]: m for m in fm.user("viewer")["experiments"]}
    assert set(view) == {"welcome_copy", "first_tip"}
    assert view["welcome_copy"]["variant"] == plan["experiments"]["welcome_copy"]["variant"]
    assert view["welcome_copy"]["metrics"]["activated"]["value"] == 1.0
    assert view["first_tip"]["propensity"] == pytest.approx(0.5)


def test_a_context_tree_finds_where_the_best_arm_differs(
    trial_fm: Firstmile, clock: FixedClock
) -> None:
    fm = trial_fm
    users = [f"t-{n}" for n in range(400)]
    fm.ingest_items(
        [
            {"type": "identify", "userId": u, "traits": {"plan": "pro" if n % 2 else "free"}}
            for n, u in enumerate(users)
        ]
    )
    arms = {u: fm.decide({"userId": u})["experiments"]["first_tip"]["variant"] for u in users}
    fm.flush_exposures()
    clock.advance(timedelta(minutes=1))
    # Planted: arm b wins for pro users, arm a for free users.
    converted = [u for n, u in enumerate(users) if (arms[u] == "b") == bool(n % 2)]
    fm.ingest_items([_track(u, "Project Created", clock) for u in converted])
    tree = fm.bandit_tree("first_tip", categorical=["plan"], min_leaf=20).to_json()
    best = {
        json.dumps(leaf["condition"], sort_keys=True): leaf["best_arm"] for leaf in tree["leaves"]
    }
    assert best == {
        json.dumps({"plan": "free"}, sort_keys=True): "a",
        json.dumps({"plan": {"$ne": "free"}}, sort_keys=True): "b",
    } or best == {
        json.dumps({"plan": "pro"}, sort_keys=True): "b",
        json.dumps({"plan": {"$ne": "pro"}}, sort_keys=True): "a",
    }
    with pytest.raises(InvalidRequest, match="at least one attribute"):
        fm.bandit_tree("first_tip")


def test_a_request_can_force_a_variant_for_qa_without_measuring_it(
    trial_fm: Firstmile, clock: FixedClock
) -> None:
    fm = trial_fm
    _seen(fm, ["tester"], clock)
    plan = fm.decide({"userId": "tester", "forced": {"welcome_copy": "friendly", "first_tip": "a"}})
    assert plan["experiments"]["welcome_copy"] == {
        "variant": "friendly",
        "in_experiment": True,
        "reason": "forced",
    }
    assert plan["welcome"]["item_id"] == "welcome_friendly"
    assert [t["item_id"] for t in plan["tips"]] == ["tip_a"]
    fm.flush_exposures()
    assert fm.user("tester")["experiments"] == []
    with pytest.raises(InvalidRequest, match="no live experiment or bandit has that key"):
        fm.decide({"userId": "tester", "forced": {"nope": "x"}})
    with pytest.raises(InvalidRequest, match="is not one of its variants"):
        fm.decide({"userId": "tester", "forced": {"welcome_copy": "loud"}})
    with pytest.raises(InvalidRequest, match="maps experiment keys to variants"):
        fm.decide({"userId": "tester", "forced": ["welcome_copy"]})


def test_forcing_without_any_experiment_is_refused(fm: Firstmile) -> None:
    with pytest.raises(InvalidRequest, match="they are: none"):
        fm.decide({"userId": "u1", "forced": {"welcome_copy": "friendly"}})


def test_an_experiment_hashed_by_a_trait_gives_a_whole_company_one_variant(
    settings: Settings, clock: FixedClock
) -> None:
    text = CONFIG.replace(
        "    metrics: [activated, errors]\n",
        "    metrics: [activated, errors]\n    hash_attribute: company\n",
        1,
    )
    settings.config_path.write_text(text, encoding="utf-8")
    roomy = settings.model_copy(update={"decide_budget_ms": 60_000})
    with Firstmile.open(roomy, clock=clock) as fm:
        users = {f"c-{n}": f"company-{n % 20}" for n in range(120)}
        fm.ingest_items(
            [{"type": "identify", "userId": u, "traits": {"company": c}} for u, c in users.items()]
        )
        variants: dict[str, set[str]] = {}
        for user, company in users.items():
            seen = fm.decide({"userId": user})["experiments"]["welcome_copy"]
            variants.setdefault(company, set()).add(seen["variant"])
        assert all(len(v) == 1 for v in variants.values())  # one variant per company
        assert set().union(*variants.values()) == {"control", "friendly"}
