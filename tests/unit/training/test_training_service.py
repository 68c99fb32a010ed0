"""Models end to end on a real SQLite workspace: events in, `train`, the registry, hot
loading into decide, drift, fairness, explanations, and the bad inputs."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from firstmile.clock import FixedClock
from firstmile.errors import ModelError, NotFound
from firstmile.service import Firstmile
from firstmile.settings import Settings

CONFIG = (Path(__file__).parents[2] / "spec" / "config" / "valid" / "models.yaml").read_text(
    encoding="utf-8"
)
DESKTOP_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15"
)
MOBILE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
)


def _event(user: str, name: str, at: datetime, ua: str, **properties: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": user,
        "event": name,
        "properties": properties,
        "timestamp": at.isoformat(),
        "context": {"userAgent": ua},
    }


def _population(clock: FixedClock, users: int = 80, seed: int = 3) -> list[dict[str, Any]]:
    """Builders (desktop, busy first hour, create projects, pay, do the team tutorials)
    and strugglers (mobile, one event, never come back); the labels follow the kind."""
    rng = random.Random(seed)
    start = clock.now() - timedelta(days=20)
    items: list[dict[str, Any]] = []
    for n in range(users):
        user = f"u{n}"
        builder = n % 2 == 0
        ua = DESKTOP_UA if builder else MOBILE_UA
        at = start + timedelta(hours=n)
        traits = {
            "plan": "pro" if builder else "free",
            "paid": builder,
            "region": "eu" if n % 3 else "us",
        }
        items.append(
            {
                "type": "identify",
                "userId": user,
                "traits": traits,
                "timestamp": at.isoformat(),
                "context": {"userAgent": ua},
            }
        )
        items.append(_event(user, "Signed Up", at, ua))
        if builder:
            for minute in range(1, 2 + rng.randrange(4)):
                items.append(_event(user, "Viewed Docs", at + timedelta(minutes=minute), ua))
            day2 = at + timedelta(days=2)
            items.append(_event(user, "Created Project", day2, ua))
            items.append(_event(user, "Invited Teammate", day2 + timedelta(minutes=5), ua))
            done = ["tour_basics", "tour_team"] if n % 4 == 0 else ["tour_basics", "tip_reports"]
            for k, item in enumerate(done):
                items.append(
                    _event(
                        user, "Step Completed", day2 + timedelta(minutes=10 + k), ua, item_id=item
                    )
                )
    return items


@pytest.fixture
def model_fm(settings: Settings, clock: FixedClock) -> Iterator[Firstmile]:
    settings.config_path.write_text(CONFIG, encoding="utf-8")
    roomy = settings.model_copy(update={"decide_budget_ms": 60_000})
    with Firstmile.open(roomy, clock=clock) as service:
        yield service


@pytest.fixture
def trained(model_fm: Firstmile, clock: FixedClock) -> Firstmile:
    model_fm.ingest_items(_population(clock))
    outcomes = model_fm.train()
    assert [o.error for o in outcomes] == [None, None, None, None]
    return model_fm


def test_train_registers_and_promotes_every_configured_model(trained: Firstmile) -> None:
    records = {r.name: r for r in trained.model_versions()}
    assert set(records) == {"personas", "activates", "upgrades", "recommendations"}
    assert {r.status for r in records.values()} == {"promoted"}
    activates = records["activates"]
    assert activates.version == 1
    assert activates.meta["rows"] == 80  # every user's 7 days after the cut-off have passed
    assert activates.meta["positives"] == 40
    assert activates.meta["libraries"]["scikit-learn"]
    assert activates.schema_hash
    # Builders and strugglers differ in every feature read in the first hour.
    assert activates.metrics["cv"]["roc_auc"]["mean"] > 0.9
    assert records["recommendations"].metrics["chosen"]
    assert trained.decider.models.versions() == {
        "activates": 1,
        "personas": 1,
        "recommendations": 1,
        "upgrades": 1,
    }


def test_decide_reads_predictions_persona_and_recommendations(
    trained: Firstmile, clock: FixedClock
) -> None:
    struggler = trained.decide({"userId": "u1"})
    assert struggler["welcome"]["item_id"] == "guided"  # predictions.activates < 0.3
    assert struggler["reasons"]["welcome"]["rule"] == "guide_unlikely_activators"
    assert struggler["reasons"]["welcome"]["models"] == ["activates"]
    builder = trained.decide({"userId": "u2"})
    assert builder["welcome"]["item_id"] == "welcome"
    # u2 did tour_basics and tip_reports: the model recommends what similar users did.
    recommended = [r["item_id"] for r in builder["recommendations"]]
    assert "tour_basics" not in recommended
    assert "tip_reports" not in recommended
    assert recommended
    assert builder["reasons"]["recommendations"]["source"] == "model"
    shown = trained.user("u1")["models"]  # users show / GET /v1/users/{id}
    assert shown["persona"]["key"]
    assert shown["predictions"]["activates"]["probability"] < 0.3
    view = trained.explain_user("u1")
    assert view["persona"]["key"]
    assert view["predictions"]["activates"]["probability"] < 0.3
    # Reasons compare the user with a typical training user: a builder differs from it.
    builder_view = trained.explain_user("u2")
    reasons = builder_view["predictions"]["activates"]["reasons"]
    assert reasons
    assert {r["direction"] for r in reasons} <= {"raises", "lowers"}


def test_a_newcomer_gets_recommendations_from_declared_interests(
    trained: Firstmile, clock: FixedClock
) -> None:
    at = clock.now().isoformat()
    trained.ingest_items([
        {"type": "identify", "userId": "new-1", "timestamp": at,
         "traits": {"plan": "free", "interests": ["team"]}},
        {"type": "identify", "userId": "new-2", "timestamp": at, "traits": {"plan": "free"}},
    ])  # fmt: skip
    plan = trained.decide({"userId": "new-1"})
    ids = [r["item_id"] for r in plan["recommendations"]]
    assert ids
    assert set(ids) <= {"tour_team", "tip_share"}  # the items tagged or about teams
    assert plan["reasons"]["recommendations"]["source"] == "model"
    assert "matches your interests" in plan["reasons"]["recommendations"]["detail"]
    # No interests: the slot falls back to what is popular (in the user's persona too).
    trained.refresh_popularity()
    other = trained.decide({"userId": "new-2"})
    assert other["reasons"]["recommendations"]["source"] == "popular"
    popular = trained.decider.popularity.by_segment
    assert any(key.startswith("persona-") for key in popular)


def test_no_consent_no_model_decision_and_no_training_row(
    trained: Firstmile, clock: FixedClock
) -> None:
    at = clock.now().isoformat()
    trained.ingest_items([
        {"type": "identify", "userId": "private", "timestamp": at,
         "traits": {"plan": "free"},
         "context": {"consent": {"categoryPreferences": {"personalization": False}}}},
    ])  # fmt: skip
    plan = trained.decide({"userId": "private"})
    assert plan["reasons"]["welcome"]["source"] == "consent"
    assert trained.explain_user("private")["consent"] is False
    outcomes = trained.train(["personas"])
    assert outcomes[0].meta["left_out_without_consent"] == 1


def test_promote_rollback_and_hot_reload(trained: Firstmile, clock: FixedClock) -> None:
    clock.advance(timedelta(hours=1))
    trained.train(["upgrades"])
    assert trained.decider.models.versions()["upgrades"] == 2
    back = trained.rollback_model("upgrades")
    assert back.version == 1
    assert trained.decider.models.versions()["upgrades"] == 1
    again = trained.promote_model("upgrades", 2)
    assert again.status == "promoted"
    with pytest.raises(ModelError, match="no earlier promoted version"):
        trained.rollback_model("personas")
    with pytest.raises(NotFound):
        trained.promote_model("upgrades", 9)


def test_a_corrupt_artifact_is_refused_and_the_loaded_version_keeps_serving(
    trained: Firstmile, clock: FixedClock
) -> None:
    clock.advance(timedelta(hours=1))
    trained.train(["upgrades"], promote=False)
    from sqlalchemy import update

    from firstmile.storage import schema

    engine = trained.store._engine  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(
            update(schema.models)
            .where(schema.models.c.name == "upgrades", schema.models.c.version == 2)
            .values(artifact=b"not a pickle")
        )
    with pytest.raises(ModelError, match="corrupt"):
        trained.promote_model("upgrades", 2)
    assert trained.decider.models.versions()["upgrades"] == 1


def test_a_changed_feature_schema_refuses_the_old_model(
    trained: Firstmile, settings: Settings
) -> None:
    changed = CONFIG.replace(
        "features: [sessions, projects, invites, device]", "features: [sessions]"
    )
    settings.config_path.write_text(changed, encoding="utf-8")
    trained.reload_config()
    problems = trained.reload_models()
    assert any("feature schema" in p and "upgrades" in p for p in problems)
    assert "upgrades" not in trained.decider.models.versions()
    stale = trained.train(if_stale=True)
    assert [o.name for o in stale] == ["upgrades"]


def test_drift_and_fairness_reports(trained: Firstmile) -> None:
    reports = {r["name"]: r for r in trained.model_drift()}
    assert "skipped" in reports["recommendations"]
    assert reports["activates"]["recent_rows"] == 80
    audit = trained.fairness_audit()
    region = audit["audits"][0]
    assert region["protected"] == "region"
    assert region["personas"] is not None
    assert region["content"] is not None  # the recommender's first pick per group
    upgrades = next(p for p in region["predictions"] if p["name"] == "upgrades")
    assert "demographic_parity_difference" in str(upgrades)


def test_too_few_users_is_a_clear_error_per_model(model_fm: Firstmile, clock: FixedClock) -> None:
    model_fm.ingest_items(_population(clock, users=6))
    outcomes = model_fm.train()
    assert all(o.error is not None for o in outcomes)
    assert "at least 20" in (outcomes[0].error or "")
    assert model_fm.decider.models.empty
    plan = model_fm.decide({"userId": "u1"})  # no model: the rules fall back
    assert plan["welcome"]["item_id"] == "welcome"


def test_a_target_with_one_class_is_refused(model_fm: Firstmile, clock: FixedClock) -> None:
    items = [i for i in _population(clock) if i.get("event") != "Created Project"]
    model_fm.ingest_items(items)
    outcome = model_fm.train(["activates"])[0]
    assert outcome.error is not None
    assert "negative outcome" in outcome.error


def test_a_failed_retrain_leaves_the_serving_version_alone(
    trained: Firstmile, settings: Settings
) -> None:
    settings.config_path.write_text(CONFIG.replace("min_users: 20", "min_users: 500"))
    trained.reload_config()
    outcome = trained.train(["upgrades"])[0]
    assert outcome.error is not None
    assert "at least 500" in outcome.error
    assert [r.version for r in trained.model_versions("upgrades")] == [1]
    assert trained.decider.models.versions()["upgrades"] == 1
    assert trained.explain_user("u0")["predictions"]["upgrades"]["probability"] > 0.5


def test_rollback_walks_back_and_checks_what_it_promotes(
    trained: Firstmile, clock: FixedClock
) -> None:
    for _ in range(2):
        clock.advance(timedelta(hours=1))
        trained.train(["upgrades"])
    assert trained.decider.models.versions()["upgrades"] == 3
    assert trained.rollback_model("upgrades").version == 2
    assert trained.rollback_model("upgrades").version == 1  # back again, never forth
    with pytest.raises(ModelError, match="no earlier"):
        trained.rollback_model("upgrades")


def test_a_model_from_another_scikit_learn_release_is_refused(trained: Firstmile) -> None:
    from sqlalchemy import update

    from firstmile.storage import schema

    record = trained.model_version("upgrades")
    meta = {**record.meta, "libraries": {**record.meta["libraries"], "scikit-learn": "0.24.2"}}
    with trained.store._engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(
            update(schema.models)
            .where(schema.models.c.name == "upgrades", schema.models.c.version == 1)
            .values(meta=meta)
        )
    with pytest.raises(ModelError, match=r"scikit-learn 0\.24\.2"):
        trained.promote_model("upgrades", 1)


def test_firstmiles_own_segment_events_are_not_user_activity(
    settings: Settings, clock: FixedClock
) -> None:
    from firstmile.training.data import events_by_profile

    segment = "segments:\n  - {key: pro, name: Pro, condition: {plan: pro}}\n"
    settings.config_path.write_text(CONFIG.replace("catalog:", segment + "catalog:", 1))
    with Firstmile.open(settings, clock=clock) as fm:
        fm.ingest_items(_population(clock, users=4))
        stored = list(fm.store.iter_events())
        assert any(e.source_id == "firstmile" for e in stored)  # "Segment Entered" events
        profiles = list(fm.store.iter_profiles())
        batches = list(events_by_profile(fm.store, profiles))
    assert [p.profile_id for p in batches[0][0]] == [p.profile_id for p in profiles]
    kept = [e for _, events in batches for per_profile in events.values() for e in per_profile]
    assert "Signed Up" in {e.name for e in kept}
    assert not any(e.source_id == "firstmile" for e in kept)
    assert len(kept) == sum(1 for e in stored if e.source_id != "firstmile")
