"""Experiments: deterministic assignment, identical to GrowthBook's.

Hashing is FNV-1a 32-bit in GrowthBook's versions 1 and 2; bucket ranges start where the
earlier variations' weights end, so raising coverage never moves a user already in. Names
follow GrowthBook's SDK functions in snake_case; ``docs/experiments.md`` is the guide.
Everything here is pure: definitions in, assignments out, nothing stored.

>>> from firstmile import experiments
>>> experiments.hash("seed", "a", 2), experiments.get_equal_weights(2)
(0.0505, (0.5, 0.5))
>>> ranges = experiments.get_bucket_ranges(2, 0.5)
>>> ranges, experiments.choose_variation(0.6, ranges)
(((0.0, 0.25), (0.5, 0.75)), 1)
>>> exp = experiments.Experiment("welcome-tour", ("control", "tour"), hash_version=2)
>>> experiments.assign(exp, {"id": "u4"}).variation_key
'tour'
"""

from firstmile.experiments.assign import assign
from firstmile.experiments.buckets import (
    BucketRange,
    choose_variation,
    get_bucket_ranges,
    get_equal_weights,
)
from firstmile.experiments.comparison import Comparison
from firstmile.experiments.hashing import HashVersion, fnv1a32, in_namespace
from firstmile.experiments.hashing import fnv_hash as hash
from firstmile.experiments.holdout import Holdout
from firstmile.experiments.metric_stats import (
    MetricUpdate,
    StatsDelta,
    UserState,
    apply_delta,
    metric_delta,
    pre_exposure_value,
    user_entered,
)
from firstmile.experiments.metrics import EventValue, Metric
from firstmile.experiments.model import (
    Assignment,
    AssignmentReason,
    Experiment,
    ExperimentStatus,
    Namespace,
)
from firstmile.experiments.recommend import Recommendation
from firstmile.experiments.report import (
    MetricReport,
    MetricValue,
    Report,
    SrmSummary,
    VariantSummary,
    build_report,
)
from firstmile.experiments.report_text import render_text
from firstmile.experiments.sticky import StickyRecord, sticky_assign

__all__ = [
    "Assignment",
    "AssignmentReason",
    "BucketRange",
    "Comparison",
    "EventValue",
    "Experiment",
    "ExperimentStatus",
    "HashVersion",
    "Holdout",
    "Metric",
    "MetricReport",
    "MetricUpdate",
    "MetricValue",
    "Namespace",
    "Recommendation",
    "Report",
    "SrmSummary",
    "StatsDelta",
    "StickyRecord",
    "UserState",
    "VariantSummary",
    "apply_delta",
    "assign",
    "build_report",
    "choose_variation",
    "fnv1a32",
    "get_bucket_ranges",
    "get_equal_weights",
    "hash",
    "in_namespace",
    "metric_delta",
    "pre_exposure_value",
    "render_text",
    "sticky_assign",
    "user_entered",
]
