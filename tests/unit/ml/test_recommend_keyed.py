"""Serving by key: known users, the cold-start chain, exclusions, pickles; the bench's skip."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from bench.recs_movielens import main as bench_main

from firstmile.ml.recommend import EASE, RecommenderModel, build_interactions, build_model
from firstmile.ml.recommend.interactions import Triple

STEPS = {
    "chart": ("analytics", "Build a chart"),
    "dashboard": ("analytics", "Build a dashboard"),
    "report": ("analytics", "Schedule a report"),
    "invite": ("collaboration", "Invite your team"),
    "share": ("collaboration", "Share with your team"),
    "comment": ("collaboration", "Comment on a chart"),
}


def model() -> RecommenderModel:
    triples: list[Triple] = []
    for n in range(12):  # analysts take the analytics steps, in order
        triples += [(f"analyst{n}", step, 1.0, t) for t, step in enumerate(STEPS) if t < 3]
    for n in range(4):  # admins invite, share and comment
        triples += [(f"admin{n}", step, 1.0, t) for t, step in enumerate(STEPS) if t >= 3]
    data = build_interactions(triples)
    groups = {u: ("admins" if u.startswith("admin") else "analysts") for u in data.user_keys}
    return build_model(
        data,
        EASE(l2=1.0).fit(data.matrix),
        user_groups=groups,
        item_texts={k: text for k, (_, text) in STEPS.items()},
        item_tags={k: (tag,) for k, (tag, _) in STEPS.items()},
        name="ease(lambda=1)",
    )


MODEL = model()


def test_a_known_user_gets_the_fitted_model_with_named_reasons() -> None:
    data = build_interactions([("a", "x", 1.0), ("a", "y", 1.0), ("b", "x", 1.0), ("c", "z", 1)])
    fitted = build_model(data, EASE(l2=0.5).fit(data.matrix))
    (top,) = fitted.recommend("b", 1)
    assert top.item == "y"
    assert top.reason == "similar to x"


def test_an_unknown_user_in_a_group_gets_the_group_favourites() -> None:
    recs = MODEL.recommend("newcomer", 3, group="admins")
    assert {r.item for r in recs} == {"invite", "share", "comment"}
    assert {r.reason for r in recs} == {"popular in admins"}


def test_declared_interests_come_next_topped_up_with_popular_items() -> None:
    recs = MODEL.recommend(None, 4, interests=["collaboration"])
    assert {r.item for r in recs[:3]} == {"invite", "share", "comment"}
    assert recs[0].reason == "matches your interests: collaboration"
    assert recs[3].reason == "popular"
    # An unknown group does not stop the chain.
    words = MODEL.recommend(None, 1, group="martians", interests=["team work"])
    assert words[0].item in {"invite", "share"}


def test_nothing_known_falls_back_on_global_popularity() -> None:
    recs = MODEL.recommend("ghost", 3, interests=["astronomy"])
    assert {r.item for r in recs} == {"chart", "dashboard", "report"}
    assert {r.reason for r in recs} == {"popular"}


def test_exclude_and_allowed_hold_on_every_path() -> None:
    allowed = {"chart", "share", "comment", "unknown-item"}
    for user, kwargs in (
        ("analyst0", {}),
        ("ghost", {"group": "admins"}),
        ("ghost", {"interests": ["analytics"]}),
        (None, {}),
    ):
        recs = MODEL.recommend(user, 6, exclude=["share"], allowed=allowed, **kwargs)
        items = {r.item for r in recs}
        assert items <= {"chart", "comment"}, (user, kwargs)
        if user == "analyst0":
            assert "chart" not in items  # seen
    mask = np.array([k == "invite" for k in MODEL.item_keys])
    assert [r.item for r in MODEL.recommend("analyst1", 3, allowed=mask)] == ["invite"]


def test_the_model_pickles_for_the_registry() -> None:
    again = pickle.loads(pickle.dumps(MODEL))
    for user, group in (("analyst3", None), ("new", "admins"), (None, None)):
        assert again.recommend(user, 3, group=group) == MODEL.recommend(user, 3, group=group)


def test_the_bench_skips_cleanly_without_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert bench_main(["--data", str(tmp_path)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "skipped" in json.loads(last)
    monkeypatch.delenv("FIRSTMILE_DATA_DIR", raising=False)
    assert bench_main([]) == 0
    assert "FIRSTMILE_DATA_DIR" in json.loads(capsys.readouterr().out.splitlines()[-1])["skipped"]
