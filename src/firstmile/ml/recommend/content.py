"""Content-based ranking: items described by tags and text, users by what they took.

Each item becomes a TF-IDF vector (scikit-learn's ``TfidfVectorizer``, sublinear term
frequency, L2-normalised rows) over its terms: its tags, each kept whole (``sci-fi``,
``data export``), plus the words of its description (lower-cased, English stop words
removed). A user's profile is the weighted mean of the vectors of the items in their
history, and an item's score is its cosine with the profile. TF-IDF makes rare terms
count more than terms every item has, so "matches your interests: film-noir" beats
"matches your interests: drama".

The same space serves a user with no history who declared interests (a list of tags or
words from a sign-up form): their profile is the IDF weights of the known terms. Content
needs no other users, so it is the answer for brand-new catalogues and new items, and a
complement to collaborative models in a :class:`~firstmile.ml.recommend.hybrid.Hybrid`.

Examples
--------
>>> import numpy as np
>>> model = ContentRecommender(
...     item_texts=("Build a dashboard", "Share a dashboard", "Invite your team"),
...     item_tags=(("analytics",), ("sharing",), ("collaboration",)),
... )
>>> fitted = model.fit(np.array([[1, 0, 0], [0, 0, 1]]))
>>> [(r.item, r.reason.text()) for r in fitted.recommend(0, 1)]
[(1, 'matches your interests: dashboard')]
>>> [r.item for r in fitted.recommend_for_interests(["collaboration"], 1)]
[2]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from firstmile.errors import ModelError
from firstmile.ml.recommend.base import (
    FittedBase,
    FloatArray,
    IntArray,
    ItemSelection,
    Reason,
    ReasonKind,
    Recommendation,
    as_rows,
    check_matrix,
    mask_of,
    signal,
    top_k,
)

_WORD = re.compile(r"(?u)\b\w\w+\b")


def item_terms(text: str, tags: Sequence[str] = ()) -> list[str]:
    """The terms of one item: its tags whole (lower-cased), then its description's words.

    >>> item_terms("Invite your team members", ["Collaboration", " Team "])
    ['collaboration', 'team', 'invite', 'team', 'members']
    """
    terms = [t.strip().lower() for t in tags if t.strip()]
    terms.extend(w for w in _WORD.findall(text.lower()) if w not in ENGLISH_STOP_WORDS)
    return terms


def _as_terms(doc: list[str]) -> list[str]:
    # Documents are already term lists; a module-level function keeps the vectorizer
    # picklable (a lambda would not be).
    return doc


@dataclass(frozen=True)
class ContentRecommender:
    """TF-IDF ranking over ``item_texts`` and ``item_tags`` (one entry per matrix column)."""

    item_texts: Sequence[str] = field(compare=False)
    item_tags: Sequence[Sequence[str]] | None = field(default=None, compare=False)
    min_weight: float | None = None

    @property
    def name(self) -> str:
        return "content" if self.min_weight is None else f"content(min_weight={self.min_weight:g})"

    def variants(self) -> tuple[ContentRecommender, ...]:
        return (self,)

    def fit(self, matrix: Any) -> FittedContent:
        # Content needs no other users: an empty history still gives a model for interests.
        history = check_matrix(matrix, "Content", min_users=0, min_items=0)
        n_items = history.shape[1]
        tags = self.item_tags if self.item_tags is not None else [()] * len(self.item_texts)
        if len(self.item_texts) != n_items or len(tags) != n_items:
            raise ModelError(
                f"Content needs one description and one tag list per item: the matrix has "
                f"{n_items} items, got {len(self.item_texts)} texts and {len(tags)} tag lists."
            )
        docs = [item_terms(text, t) for text, t in zip(self.item_texts, tags, strict=True)]
        vectorizer = TfidfVectorizer(analyzer=_as_terms, sublinear_tf=True)
        try:
            vectors = vectorizer.fit_transform(docs)
        except ValueError as exc:  # sklearn's "empty vocabulary"
            raise ModelError(f"Content needs item tags or descriptions with words: {exc}") from exc
        terms = tuple(str(t) for t in vectorizer.get_feature_names_out())
        return FittedContent(
            history=history,
            vectors=sp.csr_matrix(vectors, dtype=np.float64),
            terms=terms,
            term_index={t: n for n, t in enumerate(terms)},
            idf=np.asarray(vectorizer.idf_, dtype=np.float64),
            min_weight=self.min_weight,
        )


@dataclass(frozen=True, eq=False)
class FittedContent(FittedBase):
    """Item TF-IDF vectors (rows, unit length) over ``terms``, with their IDF weights."""

    history: Any
    vectors: Any
    terms: tuple[str, ...]
    term_index: dict[str, int]
    idf: FloatArray
    min_weight: float | None

    def profiles(self, user_rows: Any) -> Any:
        """Unit-length user profiles: the weighted mean of their items' vectors."""
        rows = signal(as_rows(user_rows, self.n_items), self.min_weight, binary=False)
        profiles = sp.csr_matrix(rows @ self.vectors)
        norms = np.sqrt(np.asarray(profiles.multiply(profiles).sum(axis=1)).ravel())
        return sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ profiles

    def scores(self, user_rows: Any) -> FloatArray:
        return np.asarray((self.profiles(user_rows) @ self.vectors.T).toarray(), dtype=np.float64)

    def interest_profile(self, interests: Sequence[str]) -> Any | None:
        """The profile of declared interests (tags or words), or ``None`` if none is known."""
        known: set[int] = set()
        for interest in interests:
            for term in [interest.strip().lower(), *item_terms(interest)]:
                if term in self.term_index:
                    known.add(self.term_index[term])
        if not known:
            return None
        cols = np.array(sorted(known), dtype=np.int64)
        weights = self.idf[cols] / np.linalg.norm(self.idf[cols])
        return sp.csr_matrix((weights, cols, [0, cols.size]), shape=(1, len(self.terms)))

    def interest_scores(self, interests: Sequence[str]) -> FloatArray | None:
        """Cosine of every item with the declared interests, or ``None`` if none is known."""
        profile = self.interest_profile(interests)
        if profile is None:
            return None
        scores: FloatArray = np.asarray((profile @ self.vectors.T).toarray(), dtype=np.float64)
        return scores.ravel()

    def recommend_for_interests(
        self,
        interests: Sequence[str],
        k: int = 10,
        *,
        exclude: ItemSelection | None = None,
        allowed: ItemSelection | None = None,
    ) -> list[Recommendation]:
        """Cold start from declared interests; empty if no interest is a known term."""
        profile = self.interest_profile(interests)
        scores = self.interest_scores(interests)
        if profile is None or scores is None:
            return []
        blocked = mask_of(exclude, self.n_items, default=False)
        blocked |= ~mask_of(allowed, self.n_items, default=True)
        # Items sharing no term with the interests have score 0: not a match, not shown.
        blocked |= scores <= 0
        items = top_k(scores, k, blocked)
        reasons = self._reasons(profile, items)
        return [
            Recommendation(int(i), float(scores[i]), r) for i, r in zip(items, reasons, strict=True)
        ]

    def explain(self, row: Any, items: IntArray) -> list[Reason]:
        return self._reasons(self.profiles(row), items)

    def _reasons(self, profile: Any, items: IntArray) -> list[Reason]:
        dense = np.asarray(profile.toarray()).ravel()
        reasons = []
        for item in items:
            vector = self.vectors[int(item)]
            contributions = vector.data * dense[vector.indices]
            if contributions.size and contributions.max() > 0:
                term = self.terms[int(vector.indices[int(np.argmax(contributions))])]
                reasons.append(Reason(ReasonKind.MATCHES_INTERESTS, detail=term))
            else:
                reasons.append(Reason(ReasonKind.MATCHES_INTERESTS))
        return reasons
