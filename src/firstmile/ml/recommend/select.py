"""Model selection by measurement: try the candidates on the past, keep the best.

:func:`choose_recommender` splits the *training* interactions once more in time (the most
recent ``fraction`` of each user's history becomes a validation set), fits every
candidate — and a small grid around its main hyper-parameter (EASE's λ, kNN's
neighbours; see each ``variants()``) — on the older part, ranks the top ``k`` for every
user with a relevant validation item, and keeps the configuration with the best
validation metric (NDCG@k by default). That configuration is refitted on all the
interactions and returned with the whole table, so anyone can see why it won and by how
much; ties go to the earlier, simpler candidate. Test data a caller holds back is never
seen here, so the figures measured on it afterwards are honest.

The best configurations of the two best families (EASE and item-kNN by default) are
also measured blended (a :class:`~firstmile.ml.recommend.hybrid.Hybrid` on standardised
scores), because models that err differently often do better together.

``min_relevant_weight`` says which held-out interactions count as relevant (ratings of 4
and more, say). When it is given, the default candidates come twice: learning from all
interactions and learning only from those of at least that weight — whichever works
better on validation wins.

Examples
--------
>>> from firstmile.ml.recommend.interactions import build_interactions
>>> triples = [(f"u{u}", f"i{(u + s) % 6}", 1.0, s) for u in range(12) for s in range(4)]
>>> selection = choose_recommender(build_interactions(triples), k=2, grid=False)
>>> [m.name for m in selection.table][:3]
['popular', 'item_knn(neighbours=100)', 'ease(lambda=200)']
>>> selection.name == max(selection.table, key=lambda m: m.report.ndcg).name
True
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from firstmile.errors import ModelError
from firstmile.ml.recommend.base import FittedRecommender, Recommender
from firstmile.ml.recommend.ease import EASE
from firstmile.ml.recommend.hybrid import FittedHybrid, Hybrid
from firstmile.ml.recommend.interactions import Interactions, filter_weights, temporal_split
from firstmile.ml.recommend.knn import ItemKNN
from firstmile.ml.recommend.metrics import RankingReport, evaluate
from firstmile.ml.recommend.popular import MostPopular

Metric = Literal["ndcg", "map", "recall", "precision", "mrr"]
#: Weights of the second family in the blends :func:`choose_recommender` measures.
BLEND_WEIGHTS = (0.5, 1.0, 2.0)


@dataclass(frozen=True, slots=True)
class Measurement:
    """One candidate's validation figures (``error`` set if it could not be fitted)."""

    name: str
    report: RankingReport | None
    fit_s: float
    error: str | None = None


@dataclass(frozen=True, eq=False)
class Selection:
    """The chosen configuration, fitted on all interactions, and the table behind it."""

    recommender: Recommender
    fitted: FittedRecommender
    table: tuple[Measurement, ...]
    metric: Metric
    k: int
    fit_s: float

    @property
    def name(self) -> str:
        return self.recommender.name

    def render(self) -> str:
        """The validation table as text, best configuration marked with ``*``."""
        k, width = self.k, max([9, *(len(m.name) for m in self.table)])
        header = (
            f"  {'candidate':<{width}} {'NDCG@' + str(k):>8} {'MAP@' + str(k):>8} "
            f"{'P@' + str(k):>8} {'R@' + str(k):>8} {'fit s':>7}"
        )
        lines = [f"validation (chosen by {self.metric}@{k}, * = chosen):", header]
        for m in self.table:
            mark = "*" if m.name == self.name else " "
            if m.report is None:
                lines.append(f"{mark} {m.name:<{width}} failed: {m.error}")
                continue
            r = m.report
            lines.append(
                f"{mark} {m.name:<{width}} {r.ndcg:>8.4f} {r.map:>8.4f} {r.precision:>8.4f} "
                f"{r.recall:>8.4f} {m.fit_s:>7.2f}"
            )
        return "\n".join(lines)


def default_candidates(min_relevant_weight: float | None = None) -> tuple[Recommender, ...]:
    """Most-popular, item-kNN and EASE; again on the heavier interactions only if
    ``min_relevant_weight`` is given."""
    weights: list[float | None] = [None]
    if min_relevant_weight is not None:
        weights.append(min_relevant_weight)
    candidates: list[Recommender] = []
    for w in weights:
        candidates.extend((MostPopular(min_weight=w), ItemKNN(min_weight=w), EASE(min_weight=w)))
    return tuple(candidates)


def choose_recommender(
    interactions: Interactions,
    candidates: Sequence[Recommender] | None = None,
    *,
    k: int = 10,
    fraction: float = 0.2,
    min_relevant_weight: float | None = None,
    metric: Metric = "ndcg",
    grid: bool = True,
    blends: Sequence[float] = BLEND_WEIGHTS,
) -> Selection:
    """Measure the candidates on a temporal validation split and return the best, refitted.

    After the candidates (and their grids), the best configurations of the two best model
    families (EASE, item-kNN, content…; not popularity) are also measured blended as a
    :class:`~firstmile.ml.recommend.hybrid.Hybrid` with the second weighted by each of
    ``blends`` (empty: no blends). Blends reuse the fitted parts, so they cost little.

    Raises :class:`~firstmile.errors.ModelError` when no user has a relevant validation
    interaction (too little history to measure anything) or no candidate can be fitted.
    """
    if candidates is None:
        candidates = default_candidates(min_relevant_weight)
    configs: dict[str, Recommender] = {}
    for candidate in candidates:
        for config in candidate.variants() if grid else (candidate,):
            configs.setdefault(config.name, config)
    train, valid = temporal_split(interactions, fraction)
    if min_relevant_weight is not None:
        valid = filter_weights(valid, min_relevant_weight)
    if valid.n_interactions == 0:
        raise ModelError(
            "Choosing a recommender needs users with a few interactions each, so that the "
            "latest can be held out for validation; no user has a relevant one to hold out."
        )
    table: list[Measurement] = []
    # The best fitted configuration of each blendable family, for the blends below.
    leaders: dict[str, tuple[float, Recommender, FittedRecommender, float]] = {}
    for name, config in configs.items():
        start = time.perf_counter()
        try:
            fitted = config.fit(train.matrix)
        except ModelError as exc:
            table.append(Measurement(name, None, time.perf_counter() - start, exc.message))
            continue
        fit_s = time.perf_counter() - start
        report = evaluate(fitted, train.matrix, valid.matrix, k)
        table.append(Measurement(name, report, fit_s))
        family = type(config).__name__
        value = float(getattr(report, metric))
        if not isinstance(config, MostPopular | Hybrid) and (
            family not in leaders or value > leaders[family][0]
        ):
            leaders[family] = (value, config, fitted, fit_s)
    top = sorted(leaders.values(), key=lambda leader: -leader[0])[:2]
    if len(top) == 2 and blends:
        (_, first, first_fit, first_s), (_, second, second_fit, second_s) = top
        for weight in blends:
            blend = Hybrid(((first, 1.0), (second, weight)))
            if blend.name in configs:
                continue
            configs[blend.name] = blend
            fitted_blend = FittedHybrid(train.matrix, (first_fit, second_fit), (1.0, weight))
            report = evaluate(fitted_blend, train.matrix, valid.matrix, k)
            table.append(Measurement(blend.name, report, first_s + second_s))
    scored = [m for m in table if m.report is not None]
    if not scored:
        raise ModelError(
            "No candidate recommender could be fitted on the validation split: "
            + "; ".join(f"{m.name}: {m.error}" for m in table)
        )
    # max() keeps the first of equal values: ties go to the earlier (simpler) candidate.
    best = max(scored, key=lambda m: getattr(m.report, metric))
    chosen = configs[best.name]
    start = time.perf_counter()
    fitted = chosen.fit(interactions.matrix)
    return Selection(chosen, fitted, tuple(table), metric, k, time.perf_counter() - start)
