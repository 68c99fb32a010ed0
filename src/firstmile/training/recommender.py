"""Training the ``recommendations`` model from what users completed in the catalogue.

Interactions are the recommendable catalogue items (tutorials and feature tips) each
consenting user completed — by a ``Step Completed`` event, stamped with its time, or by
the item's own completion event, stamped with the user's last activity (the profile
keeps event counts, not each event's time). Items carry their titles, bodies and tags for the
content-based and hybrid candidates. With ``algorithm: auto`` the recommender is chosen
by measurement on a temporal split of these interactions (the table is kept with the
model's metrics); another value forces one family.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from firstmile.config.models import RecommendationSettings
from firstmile.config.onboarding import OnboardingPlanConfig
from firstmile.decide.popular import completed_items, recommendable
from firstmile.errors import ModelError
from firstmile.ml.catalog import CatalogRecommender
from firstmile.ml.recommend.base import Recommender
from firstmile.ml.recommend.content import ContentRecommender
from firstmile.ml.recommend.ease import EASE
from firstmile.ml.recommend.hybrid import Hybrid
from firstmile.ml.recommend.interactions import build_interactions
from firstmile.ml.recommend.knn import ItemKNN
from firstmile.ml.recommend.popular import MostPopular
from firstmile.ml.recommend.select import choose_recommender
from firstmile.profiles.model import Profile

K = 3  # a plan shows a handful of recommendations: measure the top 3


def _forced(
    settings: RecommendationSettings, texts: list[str], tags: list[tuple[str, ...]]
) -> Recommender:
    content = ContentRecommender(texts, tags)
    if settings.algorithm == "ease":
        return EASE()
    if settings.algorithm == "item_knn":
        return ItemKNN()
    if settings.algorithm == "popular":
        return MostPopular()
    if settings.algorithm == "content":
        return content
    return Hybrid(((EASE(), 1 - settings.content_weight), (content, settings.content_weight)))


def train_recommender(
    profiles: Sequence[Profile],
    plan: OnboardingPlanConfig,
    settings: RecommendationSettings,
    *,
    progress: Callable[[str], None] = lambda message: None,
) -> tuple[CatalogRecommender, dict[str, Any], int]:
    """The fitted model, its metrics, and how many interactions it learned from."""
    items = recommendable(plan)
    if len(items) < 2:
        raise ModelError(
            "Recommendations need at least two tutorials or feature tips in the catalog."
        )
    triples = [
        (p.profile_id, item_id, 1.0, (at or p.computed.last_seen or p.updated_at).timestamp())
        for p in profiles
        for item_id, at in completed_items(p, items).items()
    ]
    users = {t[0] for t in triples}
    if len(users) < 10:
        raise ModelError(
            f"Only {len(users)} users completed catalogue items; recommendations need at "
            "least 10 to learn from."
        )
    interactions = build_interactions(triples, items=[item.id for item in items])
    texts = [f"{item.text.title.source} {item.text.body.source}" for item in items]
    tags = [item.tags for item in items]
    progress(f"recommender: {len(triples)} completions by {len(users)} users, {len(items)} items")
    selection = None
    unmeasured = ""
    if settings.algorithm == "auto":
        candidates = (MostPopular(), ItemKNN(), EASE(), ContentRecommender(texts, tags))
        try:
            selection = choose_recommender(interactions, candidates, k=K)
        except ModelError as exc:
            # Histories too short to hold out a validation item: nothing can be measured,
            # so the default blend serves, and the metrics say so.
            unmeasured = exc.message
    if selection is not None:
        fitted, name = selection.fitted, selection.name
        table = [
            {"name": m.name, "error": m.error, "fit_s": m.fit_s,
             **({} if m.report is None else m.report.as_dict())}
            for m in selection.table
        ]  # fmt: skip
        metrics: dict[str, Any] = {"chosen": name, "k": K, "validation": table}
    else:
        recommender = _forced(settings, texts, tags)  # "auto" unmeasured: the hybrid
        fitted, name = recommender.fit(interactions.matrix), recommender.name
        metrics = {"chosen": name, "k": K}
        if unmeasured:
            metrics["not_measured"] = unmeasured
    metrics.update({"users": len(users), "items": len(items), "interactions": len(triples)})
    try:
        content = ContentRecommender(texts, tags).fit(interactions.matrix)
    except ModelError:  # items without words or tags: no cold start by interests
        content = None
    model = CatalogRecommender(name, fitted, interactions.item_keys, content)
    return model, metrics, len(triples)
