"""Personas benchmark: does the personas model recover the demo's simulated personas?

What it measures, in one run:

1. **The data.** The demo population (:func:`firstmile.demo.population.build_population`,
   pure: the same users, seed and reference time give the same people) is ingested
   in-process into a fresh workspace that holds the demo config
   (:data:`firstmile.demo.onboarding.DEMO_CONFIG`). Each person's browser traffic goes
   through :meth:`Firstmile.ingest_http` — the handler behind ``/v1/p``, ``/v1/t``,
   ``/v1/i`` and ``/v1/b``, given the body analytics.js posts (write key inside) and the
   address and user agent a proxy passes — and their server-side messages through
   :meth:`Firstmile.ingest_items` in batches of 100, as segment-analytics-python posts them
   (its ``context.library`` added). The phases keep the demo's order: anonymous visits,
   then the server side, then logins on a second device. Left out, because none reaches a
   profile: the malformed messages (quarantined) and the browsers' re-posts (deduplicated
   by ``messageId``). There is no trials cohort: the population alone is clustered.
2. **firstmile**: ``fm.train(["personas"])`` with the demo config — its feature pipeline,
   its algorithm, k chosen by silhouette over its ``k_range``, the stability refits. The
   figures are the promoted model's: k, silhouette, stability (mean ARI of the refits).
   ``fit_s`` is the wall time of the whole ``train`` call (reading the profiles, fitting
   the pipeline, every k tried, the refits, registering the model), the median of
   ``--runs`` calls.
3. **Agreement with the simulation**: the adjusted Rand index (1: the same grouping,
   about 0: chance) between each person's simulated persona and the recovered one,
   mapped through their user (or anonymous) ids, on the people whose behaviour is kept
   (``analytics`` consent) and whom models may use (``personalization`` consent): the
   demo's own definition (:func:`firstmile.demo.models.recovery`).
4. **Baseline, same run**: scikit-learn's ``KMeans(n_clusters=5, n_init=10)`` on the
   same matrix (the promoted pipeline's transform of the same training rows), as someone
   who knows there are five personas would run it; its ARI on the same people. The ratio
   is firstmile's ARI over the baseline's.

Human-readable figures go to stdout; the last line is one JSON object (``goal_met``: the
ARI reaches 0.8). The exit status is 1 if the personas model could not be trained.

Run: ``.venv/bin/python -m bench.personas`` (``--users``, ``--seed``, ``--runs``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import sklearn
from sklearn.cluster import KMeans

from bench.harness import cpu_model
from firstmile.config.models import PERSONAS_MODEL
from firstmile.demo.model import BrowserRequest, Population, iso
from firstmile.demo.models import ARI_GOAL, persona_label, recovery
from firstmile.demo.onboarding import write_demo_config
from firstmile.demo.population import build_population
from firstmile.events.model import Purpose
from firstmile.ml.personas import PersonaModel
from firstmile.segments.attributes import profile_attributes
from firstmile.service import Firstmile
from firstmile.settings import load_settings
from firstmile.workspace import init_workspace

BATCH = 100  # messages per server-side batch, as segment-analytics-python uploads them
SDK_LIBRARY = {"name": "analytics-python", "version": "2.4.0"}
BASELINE_K = 5  # the simulation's personas


class NotTrained(Exception):
    """The personas model refused to train (the message says why)."""


@dataclass(frozen=True, slots=True)
class Ingested:
    messages: int
    seconds: float


def ingest_population(fm: Firstmile, population: Population, write_key: str) -> Ingested:
    """Send ``population`` through the ingest paths the server uses, in-process."""
    started = time.perf_counter()
    count = 0

    def browser(request: BrowserRequest) -> None:
        messages = [message.to_json() for message in request.messages]
        document: dict[str, Any] = (
            {"batch": messages} if request.endpoint == "b" else dict(messages[0])
        )
        document["writeKey"] = write_key
        document["sentAt"] = iso(datetime.now(UTC))
        fm.ingest_http(
            orjson.dumps(document),
            endpoint=request.endpoint,
            header_key=None,
            client_ip=request.ip,
            user_agent=request.user_agent,
            browser=True,
        )

    for person in population.people:
        for request in person.browser_requests:
            browser(request)
            count += len(request.messages)
    server_side = []
    for person in population.people:
        for message in person.sdk_messages:
            body = message.to_json()
            body["context"] = {**body["context"], "library": SDK_LIBRARY}
            server_side.append(body)
    for start in range(0, len(server_side), BATCH):
        fm.ingest_items(server_side[start : start + BATCH])
    count += len(server_side)
    for person in population.people:
        for request in person.second_device_requests:
            browser(request)
            count += len(request.messages)
    return Ingested(count, time.perf_counter() - started)


def _personalized(fm: Firstmile, consent: Any) -> bool:
    return bool(fm.policy.state(consent).get(Purpose.PERSONALIZATION.value))


def measure(users: int, seed: int, runs: int, home: Path) -> dict[str, Any]:
    """Build, ingest, train and compare; every figure of the run."""
    population = build_population(users, seed=seed, now=datetime.now(UTC))
    workspace = init_workspace(home)
    config = write_demo_config(home)
    settings = load_settings(home=home, environ={})
    with Firstmile.open(settings) as fm:
        ingested = ingest_population(fm, population, workspace.write_key)
        times: list[float] = []
        outcome = None
        for _ in range(runs):
            started = time.perf_counter()
            outcome = fm.train([PERSONAS_MODEL])[0]
            times.append(time.perf_counter() - started)
        assert outcome is not None
        if outcome.error is not None:
            raise NotTrained(outcome.error)
        loaded = fm.decider.models.models[PERSONAS_MODEL]
        model = loaded.artifact.model
        assert isinstance(model, PersonaModel)
        pipeline = loaded.artifact.pipeline

        now = fm.clock.now()
        profiles = [p for p in fm.store.iter_profiles() if _personalized(fm, p.consent)]
        matrix = pipeline.transform(
            [profile_attributes(p, now=now, policy=fm.policy) for p in profiles]
        )
        index = {p.profile_id: i for i, p in enumerate(profiles)}
        recovered_keys = model.assign(matrix)
        started = time.perf_counter()
        baseline = KMeans(n_clusters=BASELINE_K, n_init=10, random_state=seed).fit(matrix)
        baseline_s = time.perf_counter() - started

        simulated: dict[str, str] = {}
        for person in population.people:
            profile_id = fm.find_profile_id(person.display_id)
            if not person.denies_analytics and profile_id in index:
                simulated[profile_id] = persona_label(person.persona)
        ours = recovery(simulated, {p: str(recovered_keys[i]) for p, i in index.items()})
        theirs = recovery(simulated, {p: str(baseline.labels_[i]) for p, i in index.items()})
    report = model.report
    return {
        "population": population,
        "config_version": config.version_id,
        "ingested": ingested,
        "trained_rows": report.n_rows,
        "columns": report.n_columns,
        "compared": ours.compared,
        "firstmile": {
            "ari": ours.ari,
            "k": report.k,
            "k_range": [c.k for c in report.candidates],
            "silhouette": report.silhouette,
            "stability_ari": report.stability.mean_ari,
            "fit_s": statistics.median(times),
            "algorithm": report.algorithm,
            "personas": sorted(((p.name, p.share) for p in model.personas), key=lambda p: -p[1]),
        },
        "kmeans_k5": {"ari": theirs.ari, "fit_s": baseline_s},
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=400, help="simulated people (400)")
    parser.add_argument("--seed", type=int, default=7, help="population seed (7, the demo's)")
    parser.add_argument("--runs", type=int, default=3, help="train calls timed (median)")
    return parser.parse_args(argv)


def _figure(value: float | None, form: str = ".3f") -> str:
    return "-" if value is None else format(value, form)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="firstmile-bench-personas-") as tmp:
        try:
            figures = measure(args.users, args.seed, max(1, args.runs), Path(tmp))
        except NotTrained as exc:
            print(f"the personas model was not trained: {exc}", file=sys.stderr)
            return 1
    population: Population = figures["population"]
    ours, theirs = figures["firstmile"], figures["kmeans_k5"]
    ingested: Ingested = figures["ingested"]
    counts = population.persona_counts()
    print(
        f"firstmile personas benchmark: the demo population, {args.users} people (seed "
        f"{args.seed}: {', '.join(f'{n} {persona_label(p)}' for p, n in counts.items())}); "
        f"demo config {figures['config_version']}; scikit-learn {sklearn.__version__}"
    )
    print(
        f"ingested in-process: {ingested.messages:,} messages in {ingested.seconds:.1f} s; "
        f"trained on {figures['trained_rows']:,} users x {figures['columns']} columns"
    )
    print(
        f"firstmile ({ours['algorithm']}, k by silhouette over "
        f"{min(ours['k_range'])}-{max(ours['k_range'])}): k = {ours['k']}, silhouette "
        f"{_figure(ours['silhouette'])}, stability ARI {_figure(ours['stability_ari'])}, "
        f"fit {ours['fit_s']:.2f} s (median of {args.runs} train calls)"
    )
    for name, share in ours["personas"]:
        print(f"  {share:6.1%}  {name}")
    print(
        f"ARI vs the simulated personas, over the {figures['compared']} people whose behaviour "
        f"is kept and who may be personalized:"
    )
    print(f"  firstmile train(['personas']):    {_figure(ours['ari'])}  (goal >= {ARI_GOAL})")
    print(
        f"  sklearn KMeans(k=5), same matrix: {_figure(theirs['ari'])}  "
        f"(fit {theirs['fit_s']:.2f} s)"
    )
    ratio = (
        ours["ari"] / theirs["ari"]
        if ours["ari"] is not None and theirs["ari"] not in (None, 0.0)
        else None
    )
    print(f"  ratio firstmile / KMeans(k=5):    {_figure(ratio, '.2f')}")
    goal_met = ours["ari"] is not None and ours["ari"] >= ARI_GOAL
    summary = {
        "firstmile": {
            "ari": ours["ari"],
            "k": ours["k"],
            "silhouette": ours["silhouette"],
            "stability_ari": ours["stability_ari"],
            "fit_s": round(ours["fit_s"], 4),
        },
        "kmeans_k5": {"ari": theirs["ari"]},
        "ratio_ari": ratio,
        "goal_ari": ARI_GOAL,
        "goal_met": goal_met,
        "users": args.users,
        "seed": args.seed,
        "compared": figures["compared"],
        "trained_rows": figures["trained_rows"],
        "algorithm": ours["algorithm"],
        "scikit_learn": sklearn.__version__,
        "duration_s": round(time.perf_counter() - started, 1),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "cpu": cpu_model(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
