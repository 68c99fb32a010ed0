# ruff: noqa: RUF001, RUF002 - the text writes formulas with lambda, norms and the multiplication sign
"""EASE: an item-item linear model with a closed form (Steck, WWW 2019).

EASE learns an items × items weight matrix ``B`` that reconstructs each user's row from
their *other* items::

    min_B ‖X − X B‖² + λ ‖B‖²   subject to diag(B) = 0

whose solution is ``P = (XᵀX + λI)⁻¹``, ``B = I − P · diag(1 / diag(P))`` (so
``B[i, j] = −P[i, j] / P[j, j]`` off the diagonal). One matrix inversion, no iterations,
no learning rate; the single hyper-parameter λ (L2) shrinks the weights of rarely shared
items. Unlike cosine similarities, the weights can be negative (having ``j`` makes ``i``
less likely) and account for items explaining each other, which is why EASE usually
beats item-kNN and matrix factorisation on implicit feedback of small and medium
catalogues. The cost is an items × items dense matrix: fine for onboarding catalogues
(hundreds to a few thousand items), refused above ``max_items``.

A user's score for ``i`` is ``x · B[:, i]``; the reason names the history item ``j`` with
the largest ``x_j B[j, i]``.

Examples
--------
>>> import numpy as np
>>> matrix = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 0, 0]])
>>> fitted = EASE(l2=0.5).fit(matrix)
>>> [(r.item, r.reason.text()) for r in fitted.recommend(3, 1)]
[(1, 'similar to item 0')]
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.linalg import lapack

from firstmile.errors import ModelError
from firstmile.ml.recommend.base import (
    FittedBase,
    FloatArray,
    IntArray,
    Reason,
    ReasonKind,
    as_rows,
    check_matrix,
    signal,
    strongest_contributor,
)


@dataclass(frozen=True)
class EASE:
    """EASE with L2 strength ``l2`` (λ; on 0/1 data, a few hundred for thousands of users).

    ``min_weight`` and ``binary`` say which interactions count as a signal and how
    (see :func:`~firstmile.ml.recommend.base.signal`); with ``binary=False`` the weights
    enter squared into XᵀX, so λ must grow with them.
    """

    l2: float = 200.0
    min_weight: float | None = None
    binary: bool = True
    max_items: int = 20_000

    def __post_init__(self) -> None:
        if not self.l2 > 0:
            raise ValueError(f"l2 (lambda) must be positive, not {self.l2}")

    @property
    def name(self) -> str:
        extra = "" if self.min_weight is None else f", min_weight={self.min_weight:g}"
        return f"ease(lambda={self.l2:g}{extra})"

    def variants(self) -> tuple[EASE, ...]:
        return tuple(replace(self, l2=self.l2 * f) for f in (0.5, 1.0, 2.0))

    def fit(self, matrix: Any) -> FittedEASE:
        history = check_matrix(matrix, "EASE")
        x = signal(history, self.min_weight, self.binary)
        check_matrix(x, "EASE (interactions that count as a signal)")
        n_items = x.shape[1]
        if n_items > self.max_items:
            raise ModelError(
                f"EASE keeps an items × items matrix; {n_items} items exceed max_items="
                f"{self.max_items}. Use ItemKNN for a catalogue this large."
            )
        gram = np.asarray((x.T @ x).toarray(), dtype=np.float64)
        gram[np.diag_indices(n_items)] += self.l2
        # XᵀX + λI is symmetric positive definite: inverting through its Cholesky factor
        # (LAPACK potrf + potri) is about twice as fast as a general inverse, and steadier.
        factor, info = lapack.dpotrf(gram, lower=False, overwrite_a=True)
        if info == 0:
            factor, info = lapack.dpotri(factor, lower=False, overwrite_c=True)
        if info != 0:
            raise ModelError(f"EASE could not invert XᵀX + λI (LAPACK info {info}).")
        p = np.triu(factor) + np.triu(factor, 1).T  # potri fills the upper triangle only
        weights = -p / np.diag(p)
        weights[np.diag_indices(n_items)] = 0.0
        # float32 halves what is stored and served; the ranking does not notice.
        return FittedEASE(history, weights.astype(np.float32), self.min_weight, self.binary)


@dataclass(frozen=True, eq=False)
class FittedEASE(FittedBase):
    """``weights[j, i]``: how much having item ``j`` predicts item ``i``."""

    history: Any
    weights: np.ndarray[Any, np.dtype[np.float32]]
    min_weight: float | None
    binary: bool

    def scores(self, user_rows: Any) -> FloatArray:
        rows = signal(as_rows(user_rows, self.n_items), self.min_weight, self.binary)
        return np.asarray(rows @ self.weights, dtype=np.float64)

    def explain(self, row: Any, items: IntArray) -> list[Reason]:
        liked = signal(row, self.min_weight, self.binary)
        reasons = []
        for item in items:
            source = strongest_contributor(liked, self.weights[:, item].astype(np.float64))
            reasons.append(
                Reason(ReasonKind.SIMILAR_TO_ITEM, item=source)
                if source is not None
                else Reason(ReasonKind.USERS_LIKE_YOU)
            )
        return reasons
