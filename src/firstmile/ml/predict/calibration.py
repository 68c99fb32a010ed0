"""Map model scores to probabilities that match observed rates.

This is what scikit-learn's ``CalibratedClassifierCV(ensemble=False)`` does — fit the
model on all rows, fit a calibrator on out-of-fold scores — built from the same public
parts (``IsotonicRegression``; Platt's sigmoid with his smoothed targets) so that the
fitted map is two numbers or two short arrays, applied to one score in about a
microsecond instead of through a second ``predict_proba``.

Isotonic regression (a free monotone step map) needs many users of each outcome: with
fewer than :data:`ISOTONIC_MIN_CLASS` of the rarer outcome it overfits, and Platt's two
parameters are the safer fit (scikit-learn's user guide gives the same advice).

>>> import numpy as np
>>> scores = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0])
>>> outcomes = np.array([0, 0, 1, 0, 1, 1])
>>> calibrator = Calibrator.fit(scores, outcomes)
>>> calibrator.method
'sigmoid'
>>> bool(calibrator.apply_one(3.0) > calibrator.apply_one(-2.0))
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from sklearn.isotonic import IsotonicRegression

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
Method = Literal["isotonic", "sigmoid"]

ISOTONIC_MIN_CLASS = 500


@dataclass(frozen=True, eq=False)
class Calibrator:
    """A fitted monotone map from score to probability.

    ``method`` is ``"sigmoid"`` (``1 / (1 + exp(a * score + b))``) or ``"isotonic"``
    (linear interpolation through ``(xs, ys)``, flat beyond the ends).
    """

    method: Method
    a: float = 0.0
    b: float = 0.0
    xs: FloatArray | None = None
    ys: FloatArray | None = None

    @classmethod
    def fit(cls, scores: FloatArray, y: IntArray, method: Method | None = None) -> Calibrator:
        """Fit on out-of-fold ``scores`` and 0/1 outcomes ``y`` (both classes present).

        ``method=None`` chooses isotonic when the rarer outcome has at least
        :data:`ISOTONIC_MIN_CLASS` users, else sigmoid.
        """
        if method is None:
            method = choose_method(y)
        if method == "isotonic":
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(scores, y)
            xs = np.asarray(iso.X_thresholds_, dtype=np.float64)
            ys = np.asarray(iso.y_thresholds_, dtype=np.float64)
            return cls("isotonic", xs=xs, ys=ys)
        a, b = _platt(scores, y)
        return cls("sigmoid", a=a, b=b)

    def apply(self, scores: FloatArray) -> FloatArray:
        """Probabilities for an array of scores."""
        if self.xs is not None and self.ys is not None:
            return np.interp(scores, self.xs, self.ys)
        z = np.clip(self.a * scores + self.b, -500.0, 500.0)
        return np.asarray(1.0 / (1.0 + np.exp(z)), dtype=np.float64)

    def apply_one(self, score: float) -> float:
        """The probability for one score."""
        if self.xs is not None and self.ys is not None:
            return float(np.interp(score, self.xs, self.ys))
        z = min(500.0, max(-500.0, self.a * score + self.b))
        return 1.0 / (1.0 + math.exp(z))


def choose_method(y: IntArray) -> Method:
    """Isotonic when the rarer of the 0/1 outcomes ``y`` has enough users, else sigmoid."""
    positives = int(y.sum())
    rarer = min(positives, len(y) - positives)
    return "isotonic" if rarer >= ISOTONIC_MIN_CLASS else "sigmoid"


def _platt(scores: FloatArray, y: IntArray) -> tuple[float, float]:
    """Platt (1999) scaling: ``a``, ``b`` minimising log loss against his smoothed targets.

    The targets ``(N+ + 1) / (N+ + 2)`` and ``1 / (N- + 2)`` keep the fit finite when
    the scores separate the outcomes perfectly. The loss is convex in ``(a, b)``, so
    Newton's method with step halving converges in a handful of steps (Lin, Lin and Weng
    2007 give this form).
    """
    positives = float(y.sum())
    negatives = float(len(y) - positives)
    target = np.where(y == 1, (positives + 1.0) / (positives + 2.0), 1.0 / (negatives + 2.0))
    # Log-odds and vote shares differ in size by orders of magnitude: fit on scores of
    # unit spread and map the slope back. Dividing by the largest first avoids overflow.
    biggest = float(np.abs(scores).max())
    x = scores / biggest if biggest > 0 else np.zeros_like(scores)
    spread = float(x.std())
    if spread > 0:
        x = x / spread
    unit = (biggest or 1.0) * (spread or 1.0)

    def loss(a: float, b: float) -> float:
        z = a * x + b
        # p = 1 / (1 + e^z); log p and log(1 - p) in the stable logaddexp form.
        return float(np.sum(target * np.logaddexp(0.0, z) + (1.0 - target) * np.logaddexp(0.0, -z)))

    a, b = 0.0, math.log((negatives + 1.0) / (positives + 1.0))
    value = loss(a, b)
    for _ in range(100):
        p = np.exp(-np.logaddexp(0.0, a * x + b))
        d = target - p  # d(loss)/dz
        ga, gb = float(d @ x), float(d.sum())
        w = p * (1.0 - p)
        haa, hab, hbb = float(w @ (x * x)) + 1e-12, float(w @ x), float(w.sum()) + 1e-12
        det = haa * hbb - hab * hab
        if det <= 0.0:
            break
        step_a, step_b = (hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det
        shrink = 1.0
        while shrink > 1e-10:
            candidate = loss(a - shrink * step_a, b - shrink * step_b)
            if candidate <= value:
                break
            shrink /= 2.0
        else:
            break
        a, b = a - shrink * step_a, b - shrink * step_b
        improved = value - candidate
        value = candidate
        if improved <= 1e-12 * max(1.0, value):
            break
    return a / unit, b
