# ruff: noqa: RUF002, RUF003 - the text writes × and Σ
"""Experiments benchmark: assignment, reports from sufficient statistics, and their updates.

What it measures, in one run:

1. **Assignment cost per user per experiment**, against the official ``growthbook`` SDK.
   10 experiments (2-4 variations, weights, coverage < 1 for some, hash versions 1 and 2,
   namespaces for some) and the equivalent ``growthbook.Experiment``s; 10,000 users
   ``user-<n>``. Timed per chunk of 500 users, the timers taking turns chunk by chunk (so
   drift on a noisy machine hits them alike); the median of 5 runs after a warm-up run:

   * ``assign``: ``firstmile.experiments.assign(exp, {"id": user})`` (attribute dicts
     built before the clock starts);
   * ``gb.run``: ``GrowthBook(attributes={"id": user}).run(experiment)``, one SDK instance
     per user built before the clock starts (fresh ones each run), no tracking callback,
     no sticky bucketing, no client key (so no feature fetch or cache): what an app pays
     per ``run`` once it holds a per-user instance;
   * ``run_experiment``: the SDK's lower-level ``growthbook.core.run_experiment`` with one
     ``EvaluationContext`` per user built before the clock starts (``run`` without
     rebuilding the context and without the subscriptions bookkeeping);
   * the primitives alone, both sides: namespace hash, experiment hash and variation
     choice on precomputed bucket ranges (``in_namespace``/``fnv_hash``/``choose_variation``
     against ``inNamespace``/``gbhash``/``chooseVariation``);
   * per user as an app does it: build the attributes (firstmile) or a
     ``GrowthBook(attributes=...)`` (SDK) and assign the user to all 10 experiments.

   Every (user, experiment) variation index, in-experiment flag and bucket of firstmile
   and the SDK is compared; disagreements must be 0.
2. **Report for 10 variants × 20 metrics** from sufficient statistics: ``Moments`` built
   with numpy from about 5,000 generated users per variant (conversion, count, sum and
   ratio metrics, 6 with CUPED, planted effects in 5 of them), then ``build_report``
   timed per call (median and p99), with ``Report.to_json()`` and ``render_text``; and
   ``build_report`` on a second set without effects, where no rule stops early and the
   report works out "about N more users" (a bisection over the power calculator). The
   same-run baseline is the 9 × 20 = 180 bare tests straight from scipy: a two-proportion
   z test (``scipy.stats.norm.sf``) per conversion comparison and
   ``scipy.stats.ttest_ind_from_stats(equal_var=False)`` per other comparison, one call
   each; and, as a floor, the same 180 tests in two vectorized scipy calls.
3. **Statistics update cost per event**: a stream of 200,000 synthetic events of exposed
   users, routed to the metrics that read them (``Metric.events``); per (event, metric):
   ``metric_delta`` on the user's state, then ``apply_delta`` on the variant's row when it
   counted; and the same without ``apply_delta``. Baseline in the same run: the same loop
   with a plain dict increment of ``n``/``sum``/``sum_sq`` per (event, metric). The three
   take turns on chunks of 10,000 events, each on its own copy of the statistics; the
   median of 5 runs after a warm-up run. The rows built from the deltas are checked
   against ``Moments.from_values`` of the users' final values.

Before each timed part the setup is moved out of the garbage collector's reach
(``gc.freeze()``, as ``serve`` does after start-up), so full collections do not rescan it.

Human-readable figures go to stdout; the last line is one JSON object with all figures.
The exit status is 1 if an assignment disagrees with the SDK or the rows do not check.

Run: ``.venv/bin/python -m bench.experiments`` (``--quick`` for a smaller smoke run).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import scipy
from growthbook import Experiment as GbExperiment
from growthbook import GrowthBook
from growthbook import __version__ as growthbook_version
from growthbook.common_types import EvaluationContext
from growthbook.core import chooseVariation, gbhash, getBucketRanges, inNamespace, run_experiment
from scipy import stats as scipy_stats

from bench.harness import (
    cpu_model,
)
from firstmile.experiments import (
    EventValue,
    Experiment,
    Metric,
    Namespace,
    Report,
    UserState,
    apply_delta,
    assign,
    build_report,
    choose_variation,
    hash,
    in_namespace,
    metric_delta,
    render_text,
    user_entered,
)
from firstmile.stats import Moments

GOAL_ASSIGN_RATIO = 1.0  # firstmile's assign no slower than the SDK's run
GOAL_REPORT_MS = 50.0  # 10 variants x 20 metrics
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CHUNK_USERS = 500  # assignment timers alternate on chunks of this many users
CHUNK_EVENTS = 10_000  # update timers alternate on chunks of this many events


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- part 1: assignment -------------------------------------------------------------------

EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment("welcome-tour", ("control", "tour")),
    Experiment("welcome-tour-2", ("control", "tour"), hash_version=2),
    Experiment(
        "checklist-length", ("short", "medium", "long"), weights=(0.2, 0.3, 0.5), coverage=0.7
    ),
    Experiment(
        "checklist-order",
        ("a", "b", "c"),
        weights=(0.1, 0.6, 0.3),
        hash_version=2,
        seed="checklist-2026",
    ),
    Experiment("tips", ("off", "on"), coverage=0.25, namespace=Namespace("onboarding", 0.2, 0.7)),
    Experiment(
        "tip-style",
        ("none", "inline", "modal", "tour"),
        hash_version=2,
        namespace=Namespace("ui", 0.0, 0.5),
    ),
    Experiment(
        "pricing-page",
        ("control", "annual", "monthly", "usage"),
        weights=(0.4, 0.2, 0.2, 0.2),
        coverage=0.5,
        hash_version=2,
    ),
    Experiment(
        "invite-flow",
        ("control", "nudge"),
        weights=(0.9, 0.1),
        hash_version=2,
        namespace=Namespace("onboarding", 0.7, 1.0),
    ),
    Experiment("empty-state", ("blank", "sample", "template"), coverage=0.9, seed="empty-2026"),
    Experiment(
        "rollout-tiny", ("control", "new"), weights=(0.999, 0.001), coverage=0.01, hash_version=2
    ),
)


def gb_experiment(experiment: Experiment) -> GbExperiment[int]:
    """The SDK's equivalent of a firstmile definition (variation values are the indexes)."""
    return GbExperiment(
        key=experiment.key,
        variations=list(range(len(experiment.variations))),
        weights=list(experiment.weights) if experiment.weights is not None else None,
        coverage=experiment.coverage,
        hashAttribute=experiment.hash_attribute,
        hashVersion=experiment.hash_version,
        seed=experiment.seed,
        namespace=_namespace(experiment),
    )


def _namespace(experiment: Experiment) -> tuple[str, float, float] | None:
    if experiment.namespace is None:
        return None
    name, start, end = experiment.namespace
    return (name, start, end)


def _new_growthbook(user: str) -> GrowthBook:
    return GrowthBook(attributes={"id": user})


def _eval_context(gb: GrowthBook) -> EvaluationContext:
    # The context GrowthBook.run builds on every call (side-effect free).
    return gb._build_eval_context()


def assignment(users: Sequence[str], runs: int) -> dict[str, Any]:
    experiments = EXPERIMENTS
    gb_experiments = [gb_experiment(e) for e in experiments]
    attributes = [{"id": user} for user in users]

    # Agreement: every user in every experiment, firstmile against gb.run.
    disagreements = 0
    examples: list[str] = []
    in_counts = Counter[str]()
    for user, attrs in zip(users, attributes, strict=True):
        gb = _new_growthbook(user)
        for experiment, gb_exp in zip(experiments, gb_experiments, strict=True):
            ours = assign(experiment, attrs)
            theirs = gb.run(gb_exp)
            same = (ours.variation, ours.in_experiment) == (
                theirs.variationId,
                theirs.inExperiment,
            )
            if same and ours.in_experiment:
                same = ours.bucket == theirs.bucket
            if not same:
                disagreements += 1
                if len(examples) < 5:
                    examples.append(
                        f"{experiment.key} / {user}: firstmile ({ours.variation}, "
                        f"{ours.in_experiment}, {ours.bucket}) vs SDK ({theirs.variationId}, "
                        f"{theirs.inExperiment}, {theirs.bucket})"
                    )
            in_counts[experiment.key] += ours.in_experiment

    # Primitives: what both sides need at least (namespace, hash, choice on known ranges).
    ours_plans = [(e.seed_used, e.hash_version, e.namespace, e.ranges) for e in experiments]
    gb_plans = [
        (
            e.seed_used,
            e.hash_version,
            _namespace(e),
            getBucketRanges(
                len(e.variations),
                e.coverage,
                list(e.weights) if e.weights is not None else None,
            ),
        )
        for e in experiments
    ]

    # Each timer takes a chunk of users [lo, hi); per-user setup happens before its clock.
    def ours_assign(lo: int, hi: int) -> float:
        chunk = attributes[lo:hi]
        start = time.perf_counter()
        for attrs in chunk:
            for experiment in experiments:
                assign(experiment, attrs)
        return time.perf_counter() - start

    def gb_run(lo: int, hi: int) -> float:
        instances = [_new_growthbook(user) for user in users[lo:hi]]
        start = time.perf_counter()
        for gb in instances:
            for gb_exp in gb_experiments:
                gb.run(gb_exp)
        return time.perf_counter() - start

    def gb_run_experiment(lo: int, hi: int) -> float:
        contexts = [_eval_context(_new_growthbook(user)) for user in users[lo:hi]]
        start = time.perf_counter()
        for context in contexts:
            for gb_exp in gb_experiments:
                run_experiment(gb_exp, evalContext=context)
        return time.perf_counter() - start

    def ours_primitives(lo: int, hi: int) -> float:
        chunk = users[lo:hi]
        start = time.perf_counter()
        for user in chunk:
            for seed, version, namespace, ranges in ours_plans:
                if namespace is not None and not in_namespace(user, namespace):
                    continue
                n = hash(seed, user, version)
                if n is not None:
                    choose_variation(n, ranges)
        return time.perf_counter() - start

    def gb_primitives(lo: int, hi: int) -> float:
        chunk = users[lo:hi]
        start = time.perf_counter()
        for user in chunk:
            for seed, version, namespace, ranges in gb_plans:
                if namespace is not None and not inNamespace(user, namespace):
                    continue
                n = gbhash(seed, user, version)
                if n is not None:
                    chooseVariation(n, ranges)
        return time.perf_counter() - start

    def ours_app(lo: int, hi: int) -> float:
        chunk = users[lo:hi]
        start = time.perf_counter()
        for user in chunk:
            attrs = {"id": user}
            for experiment in experiments:
                assign(experiment, attrs)
        return time.perf_counter() - start

    def gb_app(lo: int, hi: int) -> float:
        chunk = users[lo:hi]
        start = time.perf_counter()
        for user in chunk:
            gb = GrowthBook(attributes={"id": user})
            for gb_exp in gb_experiments:
                gb.run(gb_exp)
        return time.perf_counter() - start

    timers: dict[str, Callable[[int, int], float]] = {
        "assign": ours_assign,
        "gb_run": gb_run,
        "gb_run_experiment": gb_run_experiment,
        "primitives": ours_primitives,
        "gb_primitives": gb_primitives,
        "app": ours_app,
        "gb_app": gb_app,
    }
    calls = len(users) * len(experiments)
    chunks = [(lo, min(lo + CHUNK_USERS, len(users))) for lo in range(0, len(users), CHUNK_USERS)]
    runs_ns: dict[str, list[float]] = {name: [] for name in timers}
    gc.collect()
    gc.freeze()  # the setup: out of every later collection
    for run in range(runs + 1):  # run 0 is a warm-up
        totals = dict.fromkeys(timers, 0.0)
        # Interleaved chunk by chunk, so drift on a noisy machine hits every figure alike.
        for lo, hi in chunks:
            for name, timer in timers.items():
                gc.collect()
                totals[name] += timer(lo, hi)
        if run:
            for name, total in totals.items():
                runs_ns[name].append(total / calls * 1e9)
    gc.unfreeze()
    ns = {name: statistics.median(values) for name, values in runs_ns.items()}
    return {
        "ns": ns,
        "runs_ns": {name: [round(v, 1) for v in values] for name, values in runs_ns.items()},
        "disagreements": disagreements,
        "comparisons": calls,
        "examples": examples,
        "in_experiment_share": {
            key: round(count / len(users), 4) for key, count in in_counts.items()
        },
        "experiments": len(experiments),
        "users": len(users),
    }


# -- the metrics (parts 2 and 3) ------------------------------------------------------------

ORDER = "Order Completed"
SESSION = "Session Started"
PAGE = "Page Viewed"
STEP = "Completed Step"
ERROR = "Error Shown"

METRICS: tuple[Metric, ...] = (
    Metric("activated", "conversion", event="Project Created"),  # primary
    Metric("invited", "conversion", event="Invite Sent"),
    Metric("purchased", "conversion", event=ORDER),
    Metric("uploaded", "conversion", event="File Uploaded"),
    Metric("returned", "conversion", event=SESSION, cuped=True),
    Metric("steps", "count", event=STEP, cuped=True),
    Metric("sessions", "count", event=SESSION, cuped=True),
    Metric("page_views", "count", event=PAGE, cuped=True),
    Metric("searches", "count", event="Search Performed"),
    Metric("features_used", "count", event="Feature Used"),
    Metric("errors", "count", event=ERROR, guardrail=True, direction="decrease"),
    Metric("tickets", "count", event="Support Ticket Opened", guardrail=True, direction="decrease"),
    Metric("revenue", "sum", event=ORDER, property="amount", window=None, cuped=True),
    Metric("upload_mb", "sum", event="File Uploaded", property="size_mb"),
    Metric("time_in_app", "sum", event="Session Ended", property="seconds", cuped=True),
    Metric(
        "refunds",
        "sum",
        event="Refund Issued",
        property="amount",
        guardrail=True,
        direction="decrease",
    ),
    Metric(
        "revenue_per_session",
        "ratio",
        numerator=EventValue(ORDER, "amount"),
        denominator=EventValue(SESSION),
    ),
    Metric(
        "pages_per_session", "ratio", numerator=EventValue(PAGE), denominator=EventValue(SESSION)
    ),
    Metric(
        "errors_per_page",
        "ratio",
        numerator=EventValue(ERROR),
        denominator=EventValue(PAGE),
        guardrail=True,
        direction="decrease",
    ),
    Metric(
        "steps_per_session", "ratio", numerator=EventValue(STEP), denominator=EventValue(SESSION)
    ),
)
VARIANTS: tuple[str, ...] = ("control", *(f"v{n}" for n in range(1, 10)))

# Planted relative effects: (metric, variant) -> multiplier of the mean.
EFFECTS: dict[tuple[str, str], float] = {
    ("activated", "v3"): 1.10,
    ("steps", "v5"): 1.06,
    ("revenue", "v7"): 1.08,
    ("errors", "v2"): 0.90,
    ("tickets", "v8"): 1.25,
}


# -- part 2: the report -------------------------------------------------------------------


def _generate(metric: Metric, users: int, effect: float, rng: np.random.Generator) -> Moments:
    """The moments of one metric in one variant, from generated per-user values."""
    n = users
    if metric.kind == "conversion":
        base = {"activated": 0.32, "invited": 0.12, "purchased": 0.06, "uploaded": 0.2}.get(
            metric.key, 0.45
        )
        if metric.cuped:
            before = (rng.random(n) < base).astype(float)
            chance = np.where(before > 0, min(0.95, 1.6 * base), 0.5 * base) * effect
            return Moments.from_values(rng.random(n) < chance, covariate=before)
        return Moments.from_values(rng.random(n) < base * effect)
    if metric.kind == "count":
        lam = {"steps": 4.0, "sessions": 3.0, "page_views": 25.0, "errors": 1.2}.get(
            metric.key, 0.8 if metric.key == "tickets" else 2.0
        )
        if metric.cuped:
            before = rng.poisson(lam, n).astype(float)
            return Moments.from_values(
                rng.poisson((0.3 * lam + 0.7 * before) * effect), covariate=before
            )
        return Moments.from_values(rng.poisson(lam * effect, n))
    if metric.kind == "sum":
        share, mu, sigma = {
            "revenue": (0.06, 3.5, 0.8),
            "upload_mb": (0.2, 1.5, 1.0),
            "time_in_app": (0.9, 6.0, 0.7),
        }.get(metric.key, (0.01, 3.0, 0.5))

        def amounts() -> np.ndarray[Any, np.dtype[np.float64]]:
            return np.where(rng.random(n) < share, rng.lognormal(mu, sigma, n), 0.0)

        if metric.cuped:
            before = amounts()
            return Moments.from_values((0.5 * before + 0.5 * amounts()) * effect, covariate=before)
        return Moments.from_values(amounts() * effect)
    # ratio: the denominator sits in the covariate slots
    sessions = rng.poisson(3.0, n) + 1.0
    if metric.key == "revenue_per_session":
        numerator = sessions * np.where(rng.random(n) < 0.06, rng.gamma(2.0, 15.0, n), 0.0)
        return Moments.from_values(numerator * effect, covariate=sessions)
    if metric.key == "errors_per_page":
        pages = rng.poisson(8.0 * sessions)
        return Moments.from_values(rng.poisson(0.05 * pages * effect), covariate=pages)
    rate = 8.0 if metric.key == "pages_per_session" else 1.3
    return Moments.from_values(rng.poisson(rate * sessions * effect), covariate=sessions)


def report_stats(
    users_per_variant: int, rng: np.random.Generator, effects: Mapping[tuple[str, str], float]
) -> tuple[dict[str, int], dict[str, dict[str, Moments]]]:
    counts = rng.multinomial(users_per_variant * len(VARIANTS), [1 / len(VARIANTS)] * len(VARIANTS))
    exposures = {name: int(count) for name, count in zip(VARIANTS, counts, strict=True)}
    table = {
        metric.key: {
            name: _generate(metric, exposures[name], effects.get((metric.key, name), 1.0), rng)
            for name in VARIANTS
        }
        for metric in METRICS
    }
    return exposures, table


def _z_test_scalar(control: Moments, treatment: Moments) -> float:
    p_c, p_t = control.sum / control.n, treatment.sum / treatment.n
    pooled = (control.sum + treatment.sum) / (control.n + treatment.n)
    se = math.sqrt(pooled * (1 - pooled) * (1 / control.n + 1 / treatment.n))
    return float(2 * scipy_stats.norm.sf(abs((p_t - p_c) / se)))


def scipy_tests(table: Mapping[str, Mapping[str, Moments]]) -> list[float]:
    """The 180 bare tests, one scipy call each (the same-run baseline)."""
    p_values: list[float] = []
    for metric in METRICS:
        by_variant = table[metric.key]
        control = by_variant[VARIANTS[0]]
        for name in VARIANTS[1:]:
            treatment = by_variant[name]
            if metric.kind == "conversion":
                p_values.append(_z_test_scalar(control, treatment))
            else:
                result = scipy_stats.ttest_ind_from_stats(
                    control.mean, control.std, control.n,
                    treatment.mean, treatment.std, treatment.n,
                    equal_var=False,
                )  # fmt: skip
                p_values.append(float(result.pvalue))
    return p_values


def scipy_tests_vectorized(table: Mapping[str, Mapping[str, Moments]]) -> int:
    """The same 180 tests in two vectorized scipy calls (a floor, not what a report does)."""
    z_rows: list[tuple[float, float, float, float]] = []
    t_rows: list[tuple[float, float, float, float, float, float]] = []
    for metric in METRICS:
        by_variant = table[metric.key]
        c = by_variant[VARIANTS[0]]
        for name in VARIANTS[1:]:
            t = by_variant[name]
            if metric.kind == "conversion":
                z_rows.append((c.sum, c.n, t.sum, t.n))
            else:
                t_rows.append((c.sum, c.sum_sq, c.n, t.sum, t.sum_sq, t.n))
    z = np.array(z_rows)
    pooled = (z[:, 0] + z[:, 2]) / (z[:, 1] + z[:, 3])
    se = np.sqrt(pooled * (1 - pooled) * (1 / z[:, 1] + 1 / z[:, 3]))
    z_p = 2 * scipy_stats.norm.sf(np.abs((z[:, 2] / z[:, 3] - z[:, 0] / z[:, 1]) / se))
    w = np.array(t_rows)
    mean_c, mean_t = w[:, 0] / w[:, 2], w[:, 3] / w[:, 5]
    sd_c = np.sqrt((w[:, 1] - w[:, 2] * mean_c**2) / (w[:, 2] - 1))
    sd_t = np.sqrt((w[:, 4] - w[:, 5] * mean_t**2) / (w[:, 5] - 1))
    t_p = scipy_stats.ttest_ind_from_stats(
        mean_c, sd_c, w[:, 2], mean_t, sd_t, w[:, 5], equal_var=False
    ).pvalue
    return int(np.size(z_p) + np.size(t_p))


def report_cost(users_per_variant: int, calls: int, rng: np.random.Generator) -> dict[str, Any]:
    exposures, table = report_stats(users_per_variant, rng, EFFECTS)
    # The same experiment without planted effects: no early stop, so the report works out
    # "about N more users" (a bisection over the power calculator).
    null_exposures, null_table = report_stats(users_per_variant, rng, {})

    def build(table: Mapping[str, Mapping[str, Moments]], exposures: Mapping[str, int]) -> Report:
        return build_report(
            "onboarding-overhaul",
            VARIANTS,
            METRICS,
            table,
            exposures=exposures,
            tuning_n=len(VARIANTS) * users_per_variant,
        )

    report = build(table, exposures)
    null_report = build(null_table, null_exposures)
    for _ in range(3):  # warm-up
        build(table, exposures).to_json()
        build(null_table, null_exposures)
        render_text(report)
        scipy_tests(table)
        scipy_tests_vectorized(table)
    timings: dict[str, list[float]] = {
        "build_report": [],
        "build_report_no_effect": [],
        "to_json": [],
        "render_text": [],
        "scipy": [],
        "scipy_vectorized": [],
    }
    clock = time.perf_counter
    gc.collect()
    gc.freeze()  # as `serve` does after start-up: long-lived objects out of collections
    for _ in range(calls):
        start = clock()
        report = build(table, exposures)
        timings["build_report"].append(clock() - start)
        start = clock()
        body = report.to_json()
        timings["to_json"].append(clock() - start)
        start = clock()
        text = render_text(report)
        timings["render_text"].append(clock() - start)
        start = clock()
        scipy_tests(table)
        timings["scipy"].append(clock() - start)
        start = clock()
        scipy_tests_vectorized(table)
        timings["scipy_vectorized"].append(clock() - start)
        start = clock()
        null_report = build(null_table, null_exposures)
        timings["build_report_no_effect"].append(clock() - start)
    gc.unfreeze()
    ms = {
        name: {
            "median": statistics.median(values) * 1e3,
            "p99": _percentile(values, 0.99) * 1e3,
            "max": max(values) * 1e3,
        }
        for name, values in timings.items()
    }
    verdicts = Counter(
        (m.key, c.variant, c.verdict)
        for m in report.metrics
        for c in m.comparisons
        if c.verdict in ("better", "worse")
    )
    significant = sum(1 for m in report.metrics for c in m.comparisons if c.significant)
    return {
        "ms": ms,
        "comparisons": sum(len(m.comparisons) for m in report.metrics),
        "users": report.users,
        "recommendation": report.recommendation.text,
        "recommendation_no_effect": null_report.recommendation.text,
        "sequential_verdicts": sorted(f"{k} / {v}: {verdict}" for k, v, verdict in verdicts),
        "significant_after_holm": significant,
        "srm_p_value": report.srm.p_value,
        "warnings": len(report.warnings),
        "json_bytes": len(json.dumps(body)),
        "text_lines": text.count("\n") + 1,
    }


# -- part 3: statistics updates per event -------------------------------------------------

Props = dict[str, object]
Event = tuple[int, str, Props, datetime]

# (event name, share of the stream)
EVENT_MIX: tuple[tuple[str, float], ...] = (
    (PAGE, 0.30),
    ("Feature Used", 0.12),
    (SESSION, 0.10),
    ("Session Ended", 0.10),
    (STEP, 0.08),
    ("Search Performed", 0.08),
    (ERROR, 0.05),
    (ORDER, 0.04),
    ("File Uploaded", 0.04),
    ("Project Created", 0.03),
    ("Invite Sent", 0.03),
    ("Support Ticket Opened", 0.015),
    ("Refund Issued", 0.005),
)


def _properties(name: str, rng: random.Random) -> Props:
    if name in (ORDER, "Refund Issued"):
        if rng.random() < 0.01:  # a client sending text: ignored
            return {"amount": "12.50", "currency": "USD"}
        return {"amount": round(rng.lognormvariate(3.5, 0.8), 2), "currency": "USD"}
    if name == "File Uploaded":
        return {"size_mb": round(rng.lognormvariate(1.5, 1.0), 3), "kind": "csv"}
    if name == "Session Ended":
        if rng.random() < 0.02:  # no duration: ignored
            return {}
        return {"seconds": float(rng.randrange(5, 3600))}
    if name == PAGE:
        return {"path": rng.choice(("/app", "/app/projects", "/app/settings", "/pricing"))}
    return {}


@dataclass
class Stream:
    """Exposed users (variant, exposure time, initial states and rows) and their events."""

    variant_of: list[int]
    exposed_of: list[datetime]
    states: list[list[UserState]]
    rows: list[list[Moments]]
    events: list[Event]
    routes: dict[str, tuple[tuple[int, Metric], ...]]
    base_routes: dict[str, tuple[tuple[int, str | None], ...]]


def make_stream(users: int, events: int, rng: random.Random) -> Stream:
    split = Experiment("onboarding-overhaul", VARIANTS, hash_version=2)
    variant_of = [assign(split, {"id": f"user-{n}"}).variation for n in range(users)]
    exposed_of = [NOW - timedelta(minutes=rng.randrange(0, 14 * 24 * 60)) for _ in range(users)]
    states: list[list[UserState]] = []
    rows = [[Moments() for _ in METRICS] for _ in VARIANTS]
    for user in range(users):
        user_states: list[UserState] = []
        for index, metric in enumerate(METRICS):
            covariate = float(rng.randrange(0, 6)) if metric.cuped else 0.0
            state, delta = user_entered(metric, covariate)
            user_states.append(state)
            rows[variant_of[user]][index] = apply_delta(rows[variant_of[user]][index], delta)
        states.append(user_states)
    names = [name for name, _ in EVENT_MIX]
    weights = [share for _, share in EVENT_MIX]
    stream: list[Event] = []
    for name in rng.choices(names, weights, k=events):
        user = rng.randrange(users)
        if rng.random() < 0.03:  # a late event from before the exposure
            offset = -timedelta(minutes=rng.randrange(1, 24 * 60))
        else:
            # Front-loaded, as onboarding is: mean 2 days, about 3% after 7 days.
            offset = timedelta(minutes=min(rng.expovariate(1 / (2 * 24 * 60)), 14 * 24 * 60))
        stream.append((user, name, _properties(name, rng), exposed_of[user] + offset))
    routes = {
        name: tuple((i, m) for i, m in enumerate(METRICS) if name in m.events) for name in names
    }
    base_routes = {
        name: tuple((i, _side_property(m, name)) for i, m in routes[name]) for name in names
    }
    return Stream(variant_of, exposed_of, states, rows, stream, routes, base_routes)


def _side_property(metric: Metric, name: str) -> str | None:
    if metric.numerator is not None and metric.denominator is not None:
        side = metric.numerator if metric.numerator.event == name else metric.denominator
        return side.property
    return metric.property


class Updater:
    """firstmile's update path on its own copy of the initial states and rows.

    ``run(lo, hi)`` processes events ``[lo, hi)`` of the stream and returns the seconds it
    took; with ``apply=False`` the rows are left alone: the cost of ``metric_delta`` (and
    of keeping the user states) without ``apply_delta``.
    """

    def __init__(self, stream: Stream, *, apply: bool = True) -> None:
        self.stream = stream
        self.apply = apply
        self.states = [list(s) for s in stream.states]  # copies (UserState is frozen)
        self.rows = [list(r) for r in stream.rows]
        self.ignored = Counter[str]()

    def run(self, lo: int, hi: int, *, count_ignored: bool = False) -> float:
        stream, states, rows, apply = self.stream, self.states, self.rows, self.apply
        variant_of, exposed_of, routes = stream.variant_of, stream.exposed_of, stream.routes
        events = stream.events[lo:hi]
        ignored = self.ignored if count_ignored else None
        start = time.perf_counter()
        for user, name, props, at in events:
            user_states = states[user]
            variant_rows = rows[variant_of[user]]
            exposed = exposed_of[user]
            for index, metric in routes[name]:
                update = metric_delta(metric, user_states[index], name, props, at, exposed)
                if update.ignored is None:
                    user_states[index] = update.state
                    if apply:
                        variant_rows[index] = apply_delta(variant_rows[index], update.delta)
                elif ignored is not None:
                    ignored[_reason(update.ignored)] += 1
        return time.perf_counter() - start


def _reason(text: str) -> str:
    for key in ("before the first exposure", "not within", "already converted", "property"):
        if key in text:
            return key
    return text


class Baseline:
    """The same loop with a plain dict increment of n/sum/sum_sq per (event, metric)."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.rows = [[{"n": 0.0, "sum": 0.0, "sum_sq": 0.0} for _ in METRICS] for _ in VARIANTS]

    def run(self, lo: int, hi: int) -> float:
        rows, variant_of = self.rows, self.stream.variant_of
        routes, events = self.stream.base_routes, self.stream.events[lo:hi]
        start = time.perf_counter()
        for user, name, props, _at in events:
            variant_rows = rows[variant_of[user]]
            for index, prop in routes[name]:
                value = 1.0 if prop is None else props.get(prop)
                if isinstance(value, float):
                    row = variant_rows[index]
                    row["n"] += 1.0
                    row["sum"] += value
                    row["sum_sq"] += value * value
        return time.perf_counter() - start


def check_rows(
    metrics: Sequence[Metric], states: list[list[UserState]], rows: list[list[Moments]],
    variant_of: Sequence[int],
) -> list[str]:  # fmt: skip
    """Rows built from deltas against ``Moments.from_values`` of the final user values."""
    problems: list[str] = []
    for v in range(len(VARIANTS)):
        members = [u for u, variant in enumerate(variant_of) if variant == v]
        for index, metric in enumerate(metrics):
            values = [states[u][index].value for u in members]
            if metric.kind == "ratio":
                covariate = [states[u][index].denominator for u in members]
            else:
                covariate = [states[u][index].covariate for u in members]
            expected = Moments.from_values(values, covariate=covariate)
            got = rows[v][index]
            for name in ("n", "sum", "sum_sq", "sum_x", "sum_x_sq", "sum_xy"):
                a, b = float(getattr(got, name)), float(getattr(expected, name))
                if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6):
                    problems.append(f"{VARIANTS[v]} / {metric.key}.{name}: {a!r} != {b!r}")
    return problems


def update_cost(users: int, events: int, runs: int, rng: random.Random) -> dict[str, Any]:
    stream = make_stream(users, events, rng)
    pairs = sum(len(stream.routes[name]) for _, name, _, _ in stream.events)
    check = Updater(stream)  # untimed check pass
    check.run(0, len(stream.events), count_ignored=True)
    ignored, rows = check.ignored, check.rows
    problems = check_rows(METRICS, check.states, rows, stream.variant_of)
    counted = pairs - sum(ignored.values())
    chunks = [(lo, min(lo + CHUNK_EVENTS, events)) for lo in range(0, events, CHUNK_EVENTS)]
    gc.collect()
    gc.freeze()  # the stream and the check pass: out of every later collection
    ours_runs: list[float] = []
    delta_runs: list[float] = []
    base_runs: list[float] = []
    for run in range(runs + 1):  # run 0 is a warm-up
        updater, delta_only, baseline = (
            Updater(stream),
            Updater(stream, apply=False),
            Baseline(stream),
        )
        totals = [0.0, 0.0, 0.0]
        # Interleaved chunk by chunk, each timer on its own copy of the statistics.
        for lo, hi in chunks:
            for slot, timer in enumerate((updater.run, delta_only.run, baseline.run)):
                gc.collect()
                totals[slot] += timer(lo, hi)
        if updater.rows != rows:
            problems.append("a timed run ended with other rows than the check pass")
        if run:
            ours_runs.append(totals[0] / events * 1e9)
            delta_runs.append(totals[1] / events * 1e9)
            base_runs.append(totals[2] / events * 1e9)
    gc.unfreeze()
    ours, base = statistics.median(ours_runs), statistics.median(base_runs)
    return {
        "ns_per_event": ours,
        "ns_per_event_metric_delta_only": statistics.median(delta_runs),
        "ns_per_event_baseline": base,
        "ns_per_update": ours * events / pairs,
        "ns_per_apply": (ours - statistics.median(delta_runs)) * events / max(1, counted),
        "runs_ns": [round(v, 1) for v in ours_runs],
        "baseline_runs_ns": [round(v, 1) for v in base_runs],
        "events": events,
        "users": users,
        "updates": pairs,
        "updates_per_event": pairs / events,
        "counted": counted,
        "ignored": dict(ignored.most_common()),
        "problems": problems,
    }


# -- main -----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=10_000, help="assignment: users")
    parser.add_argument("--runs", type=int, default=5, help="timed runs (median)")
    parser.add_argument("--calls", type=int, default=100, help="report: timed calls")
    parser.add_argument("--per-variant", type=int, default=5_000, help="report: users per variant")
    parser.add_argument("--events", type=int, default=200_000, help="updates: events")
    parser.add_argument(
        "--quick", action="store_true", help="1,000 users, 20 calls, 20,000 events, 3 runs"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.calls = min(args.users, 1_000), min(args.calls, 20)
        args.events, args.runs = min(args.events, 20_000), min(args.runs, 3)
    if min(args.users, args.runs, args.calls, args.events) < 1 or args.per_variant < 2:
        parser.error("--users, --runs, --calls and --events must be > 0, --per-variant > 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    users = [f"user-{n}" for n in range(args.users)]
    print(
        f"firstmile experiments benchmark: {len(EXPERIMENTS)} experiments x {len(users):,} "
        f"users; report {len(VARIANTS)} variants x {len(METRICS)} metrics; "
        f"{args.events:,} events; growthbook {growthbook_version}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}; median of {args.runs} runs"
    )

    # 1. assignment
    a = assignment(users, args.runs)
    ns = a["ns"]
    ratio_run = ns["assign"] / ns["gb_run"]
    ratio_core = ns["assign"] / ns["gb_run_experiment"]
    ratio_primitives = ns["primitives"] / ns["gb_primitives"]
    ratio_app = ns["app"] / ns["gb_app"]
    print("assignment, ns per user per experiment:")
    print(f"  firstmile assign(exp, attributes):                {ns['assign']:8.0f}")
    print(f"  growthbook gb.run(experiment), instance per user: {ns['gb_run']:8.0f}")
    print(f"  growthbook core.run_experiment, context per user: {ns['gb_run_experiment']:8.0f}")
    print(f"  firstmile namespace + hash + choose:              {ns['primitives']:8.0f}")
    print(f"  growthbook inNamespace + gbhash + chooseVariation:{ns['gb_primitives']:8.0f}")
    print(f"  firstmile per user: attributes dict + 10 assigns: {ns['app']:8.0f}")
    print(f"  growthbook per user: GrowthBook(...) + 10 runs:   {ns['gb_app']:8.0f}")
    print(
        f"  ratio ours / SDK: assign / run {ratio_run:.3f}; assign / run_experiment "
        f"{ratio_core:.3f}; primitives {ratio_primitives:.3f}; per user as an app {ratio_app:.3f}"
    )
    print(
        f"  agreement: {a['disagreements']} disagreements in {a['comparisons']:,} "
        "(user, experiment) pairs (variation index, in experiment, bucket)"
    )
    for example in a["examples"]:
        print(f"  DISAGREEMENT: {example}")

    # 2. the report
    r = report_cost(args.per_variant, args.calls, np.random.default_rng(20261125))
    ms = r["ms"]
    report_ratio = ms["build_report"]["median"] / ms["scipy"]["median"]
    vector_ratio = ms["build_report"]["median"] / ms["scipy_vectorized"]["median"]
    print(
        f"report, {len(VARIANTS)} variants x {len(METRICS)} metrics ({r['comparisons']} "
        f"comparisons, {r['users']:,} users), {args.calls} calls, ms median / p99 / max:"
    )
    for label, name in (
        ("build_report (planted effects)", "build_report"),
        ("build_report (no effect: keep running)", "build_report_no_effect"),
        ("Report.to_json", "to_json"),
        ("render_text", "render_text"),
        ("scipy, 180 bare tests, one call each", "scipy"),
        ("scipy, 180 bare tests, vectorized", "scipy_vectorized"),
    ):
        f = ms[name]
        print(f"  {label:40s} {f['median']:7.2f} / {f['p99']:7.2f} / {f['max']:7.2f}")
    print(
        f"  ratio build_report / bare scipy tests: {report_ratio:.2f} "
        f"(/ vectorized: {vector_ratio:.1f})"
    )
    print(
        f"  recommendation: {r['recommendation']} (no effect: {r['recommendation_no_effect']}); "
        f"{r['significant_after_holm']} significant "
        f"after Holm; SRM p = {r['srm_p_value']:.3g}; sequential verdicts: "
        f"{', '.join(r['sequential_verdicts']) or 'none'}"
    )

    # 3. updates per event
    u = update_cost(args.users, args.events, args.runs, random.Random(20261125))
    update_ratio = u["ns_per_event"] / u["ns_per_event_baseline"]
    print(
        f"statistics updates, {u['events']:,} events of {u['users']:,} exposed users, "
        f"{u['updates_per_event']:.2f} (event, metric) updates per event, "
        f"{u['counted']:,} of {u['updates']:,} counted:"
    )
    print(f"  firstmile metric_delta + apply_delta: {u['ns_per_event']:8.0f} ns/event "
          f"({u['ns_per_update']:.0f} ns per (event, metric))")  # fmt: skip
    print(
        f"    of which metric_delta (no apply_delta): {u['ns_per_event_metric_delta_only']:8.0f} "
        f"ns/event; apply_delta on {u['counted']:,} counted updates: about "
        f"{u['ns_per_apply']:.0f} ns each"
    )
    print(f"  baseline dict increment n/sum/sum_sq: {u['ns_per_event_baseline']:8.0f} ns/event")
    print(f"  ratio ours / baseline: {update_ratio:.2f}")
    print(f"  ignored: {u['ignored']}")
    for problem in u["problems"][:10]:
        print(f"  ROW CHECK FAILED: {problem}")

    assign_met = ratio_run <= GOAL_ASSIGN_RATIO
    slowest = max(("build_report", "build_report_no_effect"), key=lambda k: ms[k]["median"])
    report_met = ms[slowest]["median"] < GOAL_REPORT_MS
    report_p99_met = max(ms["build_report"]["p99"], ms["build_report_no_effect"]["p99"]) < (
        GOAL_REPORT_MS
    )
    print(
        f"goals: assign no slower than the SDK's run {'MET' if assign_met else 'MISSED'} "
        f"({ratio_run:.3f}); report < {GOAL_REPORT_MS:.0f} ms "
        f"{'MET' if report_met else 'MISSED'} (slower case median {ms[slowest]['median']:.1f} "
        f"ms, p99 {ms[slowest]['p99']:.1f} ms{'' if report_p99_met else '; a p99 over'})"
    )

    def rounded(figures: Mapping[str, float], digits: int) -> dict[str, float]:
        return {k: round(v, digits) for k, v in figures.items()}

    figures = {
        "assign_ns": rounded(ns, 1),
        "assign_runs_ns": a["runs_ns"],
        "ratio_assign_over_gb_run": round(ratio_run, 4),
        "ratio_assign_over_gb_run_experiment": round(ratio_core, 4),
        "ratio_primitives": round(ratio_primitives, 4),
        "ratio_app_per_user": round(ratio_app, 4),
        "assign_disagreements": a["disagreements"],
        "assign_comparisons": a["comparisons"],
        "in_experiment_share": a["in_experiment_share"],
        "experiments": a["experiments"],
        "users": a["users"],
        "report_ms": {name: rounded(f, 3) for name, f in ms.items()},
        "ratio_report_over_scipy": round(report_ratio, 3),
        "ratio_report_over_scipy_vectorized": round(vector_ratio, 2),
        "report_variants": len(VARIANTS),
        "report_metrics": len(METRICS),
        "report_comparisons": r["comparisons"],
        "report_users": r["users"],
        "report_calls": args.calls,
        "report_recommendation": r["recommendation"],
        "report_recommendation_no_effect": r["recommendation_no_effect"],
        "report_sequential_verdicts": r["sequential_verdicts"],
        "report_json_bytes": r["json_bytes"],
        "update_ns_per_event": round(u["ns_per_event"], 1),
        "update_ns_per_event_metric_delta_only": round(u["ns_per_event_metric_delta_only"], 1),
        "update_ns_per_apply_delta": round(u["ns_per_apply"], 1),
        "update_ns_per_event_baseline": round(u["ns_per_event_baseline"], 1),
        "update_ns_per_update": round(u["ns_per_update"], 1),
        "ratio_update_over_baseline": round(update_ratio, 3),
        "update_runs_ns": u["runs_ns"],
        "update_baseline_runs_ns": u["baseline_runs_ns"],
        "update_events": u["events"],
        "update_pairs": u["updates"],
        "update_counted": u["counted"],
        "update_ignored": u["ignored"],
        "update_row_problems": len(u["problems"]),
        "goal_assign_ratio_met": assign_met,
        "goal_report_ms_met": report_met,
        "goal_report_p99_ms_met": report_p99_met,
        "runs": args.runs,
        "quick": args.quick,
        "duration_s": round(time.perf_counter() - started, 1),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "growthbook": growthbook_version,
        "cpus": os.cpu_count(),
        "cpu": cpu_model(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(figures))
    return 1 if a["disagreements"] or u["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
