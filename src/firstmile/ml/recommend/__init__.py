# ruff: noqa: RUF002 - the docstrings write "users x items" with the multiplication sign
"""Recommenders for onboarding: what to suggest next, measured before it is trusted.

Pure functions and frozen values: interactions in, fitted picklable models out, no I/O.

* data: :func:`build_interactions` (users × items CSR + keys), :func:`temporal_split`,
  :func:`filter_weights`;
* models, all ``fit(matrix) -> fitted`` with ``fitted.scores(rows)`` and
  ``fitted.recommend(user, k, exclude=, allowed=)``: :class:`MostPopular` (also per
  group), :class:`ItemKNN`, :class:`EASE`, :class:`ContentRecommender` (TF-IDF over tags
  and descriptions; declared interests for cold start), :class:`Hybrid`;
* measurement: :func:`evaluate` → :class:`RankingReport` (precision, recall, NDCG, MAP,
  MRR @K, coverage) and the per-list metric functions;
* selection: :func:`choose_recommender` measures candidates on a temporal validation
  split of the training data and returns the best, refitted, with the table;
* serving by key with cold start: :func:`build_model` → :class:`RecommenderModel`.

Every recommendation carries a :class:`Reason` ("similar to <item>", "popular in
<group>", "matches your interests: <tag>", "users like you chose it"). Too little data,
or NaN/infinite weights, raise :class:`~firstmile.errors.ModelError`.

Examples
--------
>>> data = build_interactions(
...     [(f"u{u}", f"step{(u + s) % 5}", 1.0, s) for u in range(20) for s in range(3)]
... )
>>> selection = choose_recommender(data, k=3)
>>> model = build_model(data, selection.fitted, name=selection.name)
>>> len(model.recommend("u1", 2)), len(model.recommend("someone-new", 2))
(2, 2)
"""

from firstmile.ml.recommend.base import (
    FittedRecommender,
    Reason,
    ReasonKind,
    Recommendation,
    Recommender,
)
from firstmile.ml.recommend.content import ContentRecommender, FittedContent, item_terms
from firstmile.ml.recommend.ease import EASE, FittedEASE
from firstmile.ml.recommend.hybrid import FittedHybrid, Hybrid, standardise
from firstmile.ml.recommend.interactions import (
    Interactions,
    build_interactions,
    filter_weights,
    temporal_split,
)
from firstmile.ml.recommend.keyed import RecommenderModel, Suggestion, build_model
from firstmile.ml.recommend.knn import FittedItemKNN, ItemKNN
from firstmile.ml.recommend.metrics import (
    RankingReport,
    average_precision_at_k,
    coverage,
    evaluate,
    evaluate_scores,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
)
from firstmile.ml.recommend.popular import FittedPopular, MostPopular
from firstmile.ml.recommend.select import (
    Measurement,
    Selection,
    choose_recommender,
    default_candidates,
)

__all__ = [
    "EASE",
    "ContentRecommender",
    "FittedContent",
    "FittedEASE",
    "FittedHybrid",
    "FittedItemKNN",
    "FittedPopular",
    "FittedRecommender",
    "Hybrid",
    "Interactions",
    "ItemKNN",
    "Measurement",
    "MostPopular",
    "RankingReport",
    "Reason",
    "ReasonKind",
    "Recommendation",
    "Recommender",
    "RecommenderModel",
    "Selection",
    "Suggestion",
    "average_precision_at_k",
    "build_interactions",
    "build_model",
    "choose_recommender",
    "coverage",
    "default_candidates",
    "evaluate",
    "evaluate_scores",
    "filter_weights",
    "item_terms",
    "ndcg_at_k",
    "precision_at_k",
    "recall_at_k",
    "reciprocal_rank",
    "standardise",
    "temporal_split",
]
