"""Recommendation quality on MovieLens 100K: firstmile's recommender against most-popular
and implicit's ALS, under one protocol, in one run.

Protocol (fixed by the issue):

1. All 100,000 ratings become interactions ``(user, movie, rating, timestamp)``
   (``build_interactions``). Per user, the most recent 20% by time are held out
   (``temporal_split``: ``floor(0.2 n + 0.5)`` of ``n``, ties in time broken by movie key).
2. A held-out movie is *relevant* if rated 4 or 5. Users without a relevant held-out
   movie are not evaluated (907 of the 943 are).
3. Every model ranks the whole catalogue for each user except the movies the user rated
   in the training part (whatever the rating), and the top 10 are scored:
   Precision@10, Recall@10, NDCG@10 (binary relevance, ideal DCG over min(10, |R|)),
   MAP@10 (AP normalised by min(10, |R|)) — ``firstmile.ml.recommend.metrics``.

What is measured:

* **firstmile**: what a user gets from ``choose_recommender(train, min_relevant_weight=4)``.
  It splits the *training* part again by time (the last 20% of each user's training
  ratings, relevant if >= 4, become a validation set), measures most-popular, item-kNN
  and EASE with small grids (kNN neighbours, EASE λ), each learning either from all
  training ratings or only from ratings >= 4, plus blends of the best two families, and
  refits the best on all the training part. The test part is never seen while choosing.
  ``fit_s`` is the time of that final fit; ``select_s`` the whole choice.
* **popular**: ``MostPopular``, i.e. the number of users who rated each movie.
* **als**: ``implicit.als.AlternatingLeastSquares(factors=64, iterations=15,
  regularization=0.05, random_state=0)`` on CPU, BLAS limited to one thread around the fit
  (``threadpoolctl``, as implicit recommends), scores ``user_factors @ item_factors.T``.

Whether all training ratings or only those >= 4 count as interactions is itself
measured: the selection table has both for every candidate (ratings below 4 stay
excluded from rankings as "seen" either way). The baselines are fitted on both inputs
too and the JSON reports each baseline's better one (on test: that favours the
baselines, so the ratios are conservative). For information, a content-based model
(TF-IDF over genres and title words) is measured as well.

Human-readable figures go to stdout; the last line is one JSON object keyed by model.
Without the data (``--data`` or ``$FIRSTMILE_DATA_DIR/movielens-100k`` holding ``u.data``
and ``u.item``) it says so and prints ``{"skipped": ...}`` as its last line, exit 0.

Run: ``.venv/bin/python -m bench.recs_movielens --data DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy

from firstmile.ml.recommend import (
    ContentRecommender,
    Interactions,
    MostPopular,
    RankingReport,
    build_interactions,
    choose_recommender,
    evaluate,
    evaluate_scores,
    filter_weights,
    temporal_split,
)
from firstmile.ml.recommend.base import signal

RELEVANT = 4.0  # ratings of 4 and 5 are relevant
GENRES = (  # u.genre, in the order of u.item's flags
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip


@dataclass(frozen=True)
class MovieLens:
    ratings: list[tuple[str, str, float, float]]
    titles: dict[str, str]
    genres: dict[str, tuple[str, ...]]


def data_dir(arg: str | None) -> Path | None:
    if arg:
        return Path(arg)
    root = os.environ.get("FIRSTMILE_DATA_DIR")
    return Path(root) / "movielens-100k" if root else None


def load(directory: Path) -> MovieLens:
    """``u.data`` (tab-separated user, item, rating, timestamp) and ``u.item`` (latin-1,
    ``|``-separated: id, title, dates, URL, then 19 genre flags)."""
    ratings = []
    for line in (directory / "u.data").read_text().splitlines():
        if line.strip():
            user, item, rating, stamp = line.split("\t")
            ratings.append((user, item, float(rating), float(stamp)))
    titles: dict[str, str] = {}
    genres: dict[str, tuple[str, ...]] = {}
    for line in (directory / "u.item").read_text(encoding="latin-1").splitlines():
        if not line.strip():
            continue
        fields = line.split("|")
        titles[fields[0]] = re.sub(r"\(\d{4}\)", "", fields[1]).strip()
        flags = fields[-len(GENRES) :]
        genres[fields[0]] = tuple(g for g, f in zip(GENRES, flags, strict=True) if f == "1")
    return MovieLens(ratings, titles, genres)


def row(report: RankingReport, fit_s: float, model: str, **extra: Any) -> dict[str, Any]:
    return {
        "ndcg_at_10": round(report.ndcg, 4),
        "precision_at_10": round(report.precision, 4),
        "recall_at_10": round(report.recall, 4),
        "map_at_10": round(report.map, 4),
        "fit_s": round(fit_s, 3),
        "model": model,
        **extra,
    }


def fit_als(matrix: Any, seed: int) -> tuple[Any, float]:
    """implicit's ALS on CPU, BLAS at one thread during the fit; returns (model, seconds)."""
    from implicit.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        start = time.perf_counter()
        # Built inside the limit: the constructor checks the BLAS threads and warns.
        model = AlternatingLeastSquares(
            factors=64, iterations=15, regularization=0.05, random_state=seed, use_gpu=False
        )
        model.fit(matrix.astype(np.float32), show_progress=False)
        fit_s = time.perf_counter() - start
    return model, fit_s


def baselines(
    train: Interactions, relevant: Any, k: int, seed: int
) -> dict[str, list[dict[str, Any]]]:
    """Popularity and ALS on each input (all ratings, ratings >= 4), measured on test."""
    out: dict[str, list[dict[str, Any]]] = {"popular": [], "als": []}
    for label, min_weight in (("all ratings", None), (">= 4", RELEVANT)):
        start = time.perf_counter()
        popular = MostPopular(min_weight=min_weight).fit(train.matrix)
        fit_s = time.perf_counter() - start
        report = evaluate(popular, train.matrix, relevant, k)
        out["popular"].append(row(report, fit_s, "most_popular", input=label))
        als, als_s = fit_als(signal(train.matrix, min_weight, binary=True), seed)
        users, items = np.asarray(als.user_factors), np.asarray(als.item_factors)

        def als_scores(batch: Any, users: Any = users, items: Any = items) -> Any:
            return np.asarray(users[batch] @ items.T, dtype=np.float64)

        report = evaluate_scores(als_scores, train.matrix, relevant, k)
        out["als"].append(
            row(report, als_s, "implicit_als(factors=64, iterations=15, reg=0.05)", input=label)
        )
    return out


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--data",
        help="the MovieLens 100K folder (u.data, u.item); default: "
        "$FIRSTMILE_DATA_DIR/movielens-100k",
    )
    parser.add_argument("--k", type=int, default=10, help="the cut-off K (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="ALS's random state")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    directory = data_dir(args.data)
    if directory is None or not (directory / "u.data").is_file():
        where = "no --data and no FIRSTMILE_DATA_DIR" if directory is None else str(directory)
        reason = f"MovieLens 100K not found ({where}); pass --data DIR holding u.data, u.item"
        print(f"skipped: {reason}")
        print(json.dumps({"skipped": reason}))
        return 0
    k = args.k
    movielens = load(directory)
    data = build_interactions(movielens.ratings)
    train, test = temporal_split(data, 0.2)
    relevant = filter_weights(test, RELEVANT).matrix
    print(
        f"firstmile recommenders on MovieLens 100K: {data.shape[0]} users x {data.shape[1]} "
        f"movies, {data.n_interactions:,} ratings; train {train.n_interactions:,}, test "
        f"{test.n_interactions:,} ({int(relevant.nnz):,} relevant, rating >= 4); "
        f"numpy {np.__version__}, scipy {scipy.__version__}"
    )

    start = time.perf_counter()
    selection = choose_recommender(train, k=k, min_relevant_weight=RELEVANT)
    select_s = time.perf_counter() - start
    print(selection.render())
    ours = evaluate(selection.fitted, train.matrix, relevant, k)
    firstmile = row(ours, selection.fit_s, selection.name, select_s=round(select_s, 3))

    base = baselines(train, relevant, k, args.seed)
    start = time.perf_counter()
    content = ContentRecommender(
        item_texts=[movielens.titles.get(i, "") for i in data.item_keys],
        item_tags=[movielens.genres.get(i, ()) for i in data.item_keys],
        min_weight=RELEVANT,
    ).fit(train.matrix)
    content_row = row(
        evaluate(content, train.matrix, relevant, k), time.perf_counter() - start, "content"
    )

    print(f"\ntest (last 20% per user, relevant = rating >= 4), {ours.users} users, @{k}:")
    print(f"  {'model':<30} {'input':<12} {'NDCG':>7} {'MAP':>7} {'P':>7} {'R':>7} {'fit s':>7}")
    shown = [("firstmile", "chosen", firstmile)]
    shown += [("most-popular", r["input"], r) for r in base["popular"]]
    shown += [("implicit ALS", r["input"], r) for r in base["als"]]
    shown += [("content (genres, title)", ">= 4", content_row)]
    for name, label, r in shown:
        print(
            f"  {name:<30} {label:<12} {r['ndcg_at_10']:>7.4f} {r['map_at_10']:>7.4f} "
            f"{r['precision_at_10']:>7.4f} {r['recall_at_10']:>7.4f} {r['fit_s']:>7.2f}"
        )
    print(f"  firstmile's choice: {selection.name}; choosing took {select_s:.1f} s")

    popular = max(base["popular"], key=lambda r: float(r["ndcg_at_10"]))
    als = max(base["als"], key=lambda r: float(r["ndcg_at_10"]))
    print(
        f"ratios: NDCG firstmile / popular {ours.ndcg / popular['ndcg_at_10']:.2f}, "
        f"firstmile / ALS {ours.ndcg / als['ndcg_at_10']:.2f}; fit time firstmile / ALS "
        f"{selection.fit_s / als['fit_s']:.2f} (choice included: {select_s / als['fit_s']:.2f})"
    )
    print(json.dumps({"firstmile": firstmile, "popular": popular, "als": als}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
