"""Personas: groups of users who behave alike, found by clustering and named for people.

:func:`fit_personas` clusters the standardised feature matrix (rows are users, columns
such as ``sessions`` or ``device_type=mobile``) and returns a :class:`PersonaModel`: the
cluster centres, a named :class:`Persona` per cluster, and a :class:`PersonaReport` that
says how the clusters were found and how far to trust them. Segments can then target a
persona by its key, and :meth:`PersonaModel.assign_one` places a new user in
microseconds, with numpy only.

**Algorithms.**

* ``"kmeans"`` (default): k-means with k-means++ seeding (``KMeans``, 4 restarts).
  Above ``MINIBATCH_FROM`` rows (10,000) it switches to ``MiniBatchKMeans``, which fits
  on batches of 2,048 rows and keeps large populations fast at a small cost in inertia.
* ``"agglomerative"``: Ward linkage (scipy), which merges the pair of clusters that
  least increases the within-cluster variance. It needs memory quadratic in the rows, so
  it is fitted on a seeded sample of at most ``FIT_SAMPLE`` rows (5,000); the other rows
  join the nearest cluster centroid. One tree is cut at every k tried.
* ``"dbscan"``: density-based; finds clusters of any shape and leaves rows in no dense
  region as noise. Noise becomes the ``"unassigned"`` outlier persona. ``min_samples``
  defaults to twice the number of columns, within [5, 50]; ``eps``, when not given, is
  read at the knee of the sorted k-distance curve (Ester et al. 1996; the knee is the
  point farthest from the chord). It is also fitted on at most 5,000 rows; the other rows
  join the nearest centroid, or the outliers when they lie farther from it than its
  farthest member — the rule :meth:`PersonaModel.assign_one` applies to new users, so a
  training row DBSCAN called noise but inside a cluster's reach is served that persona.

**Choosing k.** Each k in ``k_range`` (inclusive; k-means and Ward) is fitted and scored
by its silhouette — how much closer rows are to their own cluster than to the next one,
from -1 to 1 — computed on one seeded sample of at most 5,000 rows, since the exact
score is quadratic in the rows. The smallest k whose silhouette is within 0.02 of the
highest wins (parsimony: on yes/no features the silhouette creeps up as a group is split
in two; on the demo population this lifts the ARI from 0.75-0.84 to 0.81-0.84). The
inertia (within-cluster sum of squares) of every k is reported too, for the elbow plot.
A silhouette below 0.25 adds a warning: the personas are tendencies, not types.

**Stability.** The chosen fit is compared, by adjusted Rand index (ARI: 1 is the same
partition, about 0 a random one), with refits under other seeds and with refits on
bootstrap resamples of the rows (which then label every row). Clear structure gives ARIs
near 1; ARIs well below 0.8 mean the personas depend on chance and should not be shown
as facts. DBSCAN and Ward are deterministic, so their seed refits are skipped unless
they fitted on a sample.

**Names.** For each cluster and column, ``z`` is the cluster's mean minus the
population mean, in population standard deviations. The columns with ``|z| ≥ 0.5``, up
to three, strongest first, name the persona, joined with " · ": a numeric column reads
"high sessions" or "low sessions"; a one-hot column ``device_type=mobile`` reads
"mobile" (or "not mobile" below the population share, unless the name already says
which device); a 0/1 flag reads as its name. A cluster with no such column is "typical".
Clashing names take the next column, then a numeric suffix. The key is the name as a
slug (``mobile-low-sessions``: lowercase, ``[a-z0-9-]``, at most 40 characters, unique).
The description gives the numbers: "72% mobile vs 35% overall; 1.2 sessions vs 3.4
overall", in raw units when ``raw`` is given, else as standard deviations from the mean.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> light = rng.normal([-1.0, 0.0], 0.3, size=(100, 2))
>>> heavy = rng.normal([2.0, 0.0], 0.3, size=(50, 2))
>>> model = fit_personas(np.vstack([light, heavy]), ["sessions", "age"], seed=0)
>>> model.report.k, sorted(p.name for p in model.personas)
(2, ['high sessions', 'low sessions'])
>>> model.assign_one(np.array([2.1, 0.1]))[0]
'high-sessions'
"""

from firstmile.ml.personas.cluster import FIT_SAMPLE, MINIBATCH_FROM, SILHOUETTE_SAMPLE
from firstmile.ml.personas.fit import fit_personas
from firstmile.ml.personas.model import (
    OUTLIER_KEY,
    Algorithm,
    Distinction,
    KCandidate,
    Persona,
    PersonaModel,
    PersonaReport,
    Stability,
)
from firstmile.ml.personas.naming import slugify

__all__ = [
    "FIT_SAMPLE",
    "MINIBATCH_FROM",
    "OUTLIER_KEY",
    "SILHOUETTE_SAMPLE",
    "Algorithm",
    "Distinction",
    "KCandidate",
    "Persona",
    "PersonaModel",
    "PersonaReport",
    "Stability",
    "fit_personas",
    "slugify",
]
