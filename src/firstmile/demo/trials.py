"""The demo's experiment and bandit: launch-week sign-ups, their plans, planted outcomes.

The demo config (:mod:`firstmile.demo.onboarding`) runs the experiment ``welcome_copy``
(the default welcome against a friendlier one) and the bandit ``first_tip`` (two feature
tips), both on users whose ``signup_campaign`` trait is ``launch_week``. While the server
runs, :func:`run_trials` signs up a cohort of such users through the tracking API, asks
``POST /v1/decide`` for each one's plan (the server assigns the variant and the arm and
logs the first exposures), and then sends the outcomes of a planted effect as ordinary
track events. After the server stopped, :func:`trial_results` reads the experiment's
report and the bandit's weights with the library; :func:`trial_checks` says what must
hold, and :func:`print_trials` shows it.

Why a cohort of its own rather than people of the population: the population is a few
hundred people (40 in the end-to-end test), of whom fewer still may be personalized,
and a planted effect of this size needs about a thousand users to be found. The cohort
has :data:`TRIAL_USERS` people whatever the population's size, so the verdict does not
depend on it, and the targeting keeps the persona plans the demo shows as the rules make
them.
"""

from __future__ import annotations

import base64
import random
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from firstmile.demo.reconcile import Check
from firstmile.experiments import Report, render_text
from firstmile.service import Firstmile

__all__ = [
    "ACTIVATION",
    "ARM_TIPS",
    "BANDIT",
    "CAMPAIGN",
    "EXPERIMENT",
    "TIP_USE",
    "TRIAL_PHASES",
    "TRIAL_USERS",
    "VARIANT_WELCOMES",
    "TrialResults",
    "TrialRun",
    "TrialUser",
    "print_trials",
    "run_trials",
    "trial_checks",
    "trial_results",
]

TRIAL_USERS = 800  # the launch-week sign-ups: ~400 per variant and per arm
CAMPAIGN = "launch_week"  # their `signup_campaign` trait, which both trials target
EXPERIMENT = "welcome_copy"
BANDIT = "first_tip"

# What the config makes each variant and arm show (firstmile.demo.onboarding).
VARIANT_WELCOMES: Mapping[str, str] = {"control": "welcome", "friendly": "welcome_friendly"}
ARM_TIPS: Mapping[str, str] = {"a": "templates_tip", "b": "quick_add_tip"}

# The planted effects: the share of a variant's (an arm's) users who convert. The two
# trials have separate outcomes on purpose: the experiment is judged on "Project
# Created" (metric `activated`), the bandit on "Tip Used" (metric `tip_used`), each
# drawn on its own. Were both read from one event, either trial's effect would show up
# as extra noise in the other's numbers (the assignments are independent, so it would
# not bias them, only blur them), and the demo could not say which effect was found.
PROJECT_CREATED = "Project Created"
TIP_USED = "Tip Used"
ACTIVATION: Mapping[str, float] = {"control": 0.25, "friendly": 0.40}
TIP_USE: Mapping[str, float] = {"a": 0.15, "b": 0.35}

PHASE_SIGNUP = "trials: launch-week sign-ups"
PHASE_DECIDE = "trials: POST /v1/decide, one per sign-up"
PHASE_OUTCOMES = "trials: projects created and tips used"
TRIAL_PHASES = (PHASE_SIGNUP, PHASE_DECIDE, PHASE_OUTCOMES)

_BATCH = 100  # messages per POST /v1/batch
_DECIDE_WORKERS = 4  # an app's backend asking for several users' plans at once
_DECIDE_ATTEMPTS = 3
_RATE_LIMIT_ATTEMPTS = 5
_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"

#: ``progress(phase, done, total)``, as the simulation reports its own phases.
TrialProgress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class TrialUser:
    """One launch-week sign-up: what their plan showed, and what they then did.

    ``variant`` and ``arm`` are ``None`` when the server did not put them in the trial
    (or the decide call failed); ``welcome`` and ``tips`` are the items the plan showed.
    """

    user_id: str
    planned: bool = False  # the decide call answered with a plan
    variant: str | None = None
    arm: str | None = None
    welcome: str | None = None
    tips: tuple[str, ...] = ()
    fallbacks: tuple[str, ...] = ()  # what the server left out of the last plan, and why
    activated: bool = False
    used_tip: bool = False


@dataclass
class TrialRun:
    """What :func:`run_trials` sent and what the server answered."""

    users: list[TrialUser]
    sent: int = 0  # well-formed messages posted: the sign-ups and the outcome events
    decided: int = 0  # users whose decide call answered with a plan
    asked_again: int = 0  # decide calls repeated because a plan fell back (see run_trials)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, *, variant: str | None = None, arm: str | None = None) -> int:
        """Users in ``variant`` (of the experiment) or on ``arm`` (of the bandit)."""
        return sum(
            1
            for user in self.users
            if (variant is None or user.variant == variant) and (arm is None or user.arm == arm)
        )

    def to_json(self) -> dict[str, Any]:
        """What the demo records in ``demo.json``."""
        return {
            "users": len(self.users),
            "sent": self.sent,
            "decided": self.decided,
            "asked_again": self.asked_again,
            "variants": dict(Counter(u.variant for u in self.users if u.variant is not None)),
            "arms": dict(Counter(u.arm for u in self.users if u.arm is not None)),
            "activated": sum(u.activated for u in self.users),
            "used_tip": sum(u.used_tip for u in self.users),
            "errors": self.errors,
        }


def _user_ids(rng: random.Random, count: int, taken: Collection[str]) -> list[str]:
    ids: list[str] = []
    seen = set(taken)
    while len(ids) < count:
        candidate = "usr_" + "".join(rng.choice(_ID_ALPHABET) for _ in range(8))
        if candidate not in seen:
            seen.add(candidate)
            ids.append(candidate)
    return ids


def _planted(rng: random.Random, users: Sequence[str], rate: float) -> set[str]:
    """Exactly ``round(rate * len(users))`` of ``users``, chosen at random.

    An exact share rather than one coin per user: the rate planted is the rate in the
    data, so whether the statistics find it does not hinge on one seed's luck. The
    report is not told; it still has to tell the difference from noise.
    """
    chosen = sorted(users)
    rng.shuffle(chosen)
    return set(chosen[: round(rate * len(chosen))])


class _Sender:
    """``POST /v1/batch`` with the write key, waiting out 429s as clients do."""

    def __init__(self, http: httpx.Client, write_key: str, run: TrialRun) -> None:
        self.http = http
        self.auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
        self.run = run

    def batches(
        self, messages: Sequence[dict[str, Any]], phase: str, progress: TrialProgress | None
    ) -> None:
        for start in range(0, len(messages), _BATCH):
            batch = messages[start : start + _BATCH]
            self._post(batch, phase)
            self.run.sent += len(batch)
            if progress is not None:
                progress(phase, start + len(batch), len(messages))

    def _post(self, batch: Sequence[dict[str, Any]], phase: str) -> None:
        for _ in range(_RATE_LIMIT_ATTEMPTS):
            try:
                response = self.http.post(
                    "/v1/batch", json={"batch": list(batch)}, headers={"Authorization": self.auth}
                )
            except httpx.HTTPError as exc:
                self.run.errors.append(f"{phase}: /v1/batch failed: {exc}")
                return
            if response.status_code == 429:
                time.sleep(min(float(response.headers.get("retry-after", "1") or 1), 10.0))
                continue
            if response.status_code != 200:
                self.run.errors.append(
                    f"{phase}: /v1/batch answered {response.status_code}: {response.text[:300]}"
                )
            return
        self.run.errors.append(f"{phase}: /v1/batch still rate limited")


def _signup(user_id: str) -> dict[str, Any]:
    return {
        "type": "identify",
        "userId": user_id,
        "messageId": f"demo-trial-signup-{user_id}",
        "traits": {"signup_campaign": CAMPAIGN},
    }


def _track(user_id: str, event: str, properties: dict[str, Any]) -> dict[str, Any]:
    # No timestamp: the server dates the event when it receives it, after the decide
    # call that exposed the user (events before the exposure do not count).
    return {
        "type": "track",
        "userId": user_id,
        "event": event,
        "properties": properties,
        "messageId": f"demo-trial-{event.lower().replace(' ', '-')}-{user_id}",
    }


def _decide(http: httpx.Client, server_key: str, user_id: str) -> TrialUser:
    response = http.post(
        "/v1/decide", json={"userId": user_id}, headers={"Authorization": f"Bearer {server_key}"}
    )
    response.raise_for_status()
    plan: Mapping[str, Any] = response.json()
    trials = plan.get("experiments") or {}
    experiment = trials.get(EXPERIMENT) or {}
    bandit = trials.get(BANDIT) or {}
    welcome = plan.get("welcome")
    return TrialUser(
        user_id,
        planned=True,
        variant=experiment.get("variant") if experiment.get("in_experiment") else None,
        arm=bandit.get("variant") if bandit.get("in_experiment") else None,
        welcome=None if welcome is None else welcome["item_id"],
        tips=tuple(tip["item_id"] for tip in plan.get("tips", ())),
        fallbacks=tuple(str(reason) for reason in plan.get("fallbacks", ())),
    )


def run_trials(
    base_url: str,
    write_key: str,
    server_key: str,
    *,
    seed: int,
    taken: Collection[str] = (),
    users: int = TRIAL_USERS,
    progress: TrialProgress | None = None,
) -> TrialRun:
    """Sign up ``users`` launch-week users, decide each one's plan, send their outcomes.

    Everything is drawn from ``random.Random`` seeded by ``seed`` (user ids, who
    converts): the same seed gives the same users, variants, arms and outcomes. The
    variants and arms themselves are the server's (hashed from the user id).
    ``taken``: user ids the population already uses.
    """
    started = time.monotonic()
    rng = random.Random(f"firstmile-demo-trials-{seed}")  # noqa: S311
    ids = _user_ids(rng, users, taken)
    run = TrialRun([TrialUser(user_id) for user_id in ids])
    with httpx.Client(base_url=base_url, timeout=30.0) as http:
        sender = _Sender(http, write_key, run)
        sender.batches([_signup(user_id) for user_id in ids], PHASE_SIGNUP, progress)

        done = 0

        def one(user_id: str) -> tuple[TrialUser, int]:
            # A plan that ran over the server's time budget falls back to defaults and
            # may leave out what the user's variant or arm shows (then no exposure is
            # recorded for it). The app shows that plan and asks again on the user's next
            # page; so does the demo, right away, a few times at most.
            user = TrialUser(user_id)
            for attempt in range(1, _DECIDE_ATTEMPTS + 1):
                try:
                    user = _decide(http, server_key, user_id)
                except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
                    run.errors.append(f"{PHASE_DECIDE}: {user_id}: {type(exc).__name__}: {exc}")
                    return TrialUser(user_id), attempt
                if not user.fallbacks:
                    break
            return user, attempt

        decided: list[TrialUser] = []
        with ThreadPoolExecutor(max_workers=_DECIDE_WORKERS) as pool:
            for user, attempts in pool.map(one, ids):  # in order, whatever the timing
                decided.append(user)
                run.asked_again += attempts - 1
                done += 1
                if progress is not None:
                    progress(PHASE_DECIDE, done, len(ids))
        run.decided = sum(user.planned for user in decided)

        activated: set[str] = set()
        for variant, rate in ACTIVATION.items():
            activated |= _planted(rng, [u.user_id for u in decided if u.variant == variant], rate)
        used_tip: set[str] = set()
        for arm, rate in TIP_USE.items():
            used_tip |= _planted(rng, [u.user_id for u in decided if u.arm == arm], rate)
        run.users = [
            replace(u, activated=u.user_id in activated, used_tip=u.user_id in used_tip)
            for u in decided
        ]
        outcomes: list[dict[str, Any]] = []
        for user in run.users:
            if user.activated:
                outcomes.append(_track(user.user_id, PROJECT_CREATED, {"source": "onboarding"}))
            if user.used_tip and user.arm is not None:
                outcomes.append(_track(user.user_id, TIP_USED, {"tip": ARM_TIPS[user.arm]}))
        sender.batches(outcomes, PHASE_OUTCOMES, progress)
    run.seconds = time.monotonic() - started
    return run


# -- after the server stopped ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrialResults:
    """What the library reads back: the experiment's report, the bandit's status."""

    report: Report
    bandit: Mapping[str, Any]

    @property
    def global_weights(self) -> dict[str, float]:
        """The bandit's weights for users of no particular context (empty: none yet)."""
        for entry in self.bandit.get("weights", ()):
            if entry.get("context") is None:
                return {arm: float(w) for arm, w in entry["weights"].items()}
        return {}


def trial_results(fm: Firstmile) -> TrialResults:
    """The report of :data:`EXPERIMENT`, and :data:`BANDIT`'s status after a forced
    refresh of its weights (the server computes them only once per cadence)."""
    report = fm.experiment_report(EXPERIMENT)
    fm.refresh_bandits(force=True)
    return TrialResults(report, fm.bandit_status(BANDIT))


def _heaviest(weights: Mapping[str, float]) -> str:
    """The arm with strictly the most weight, or ``"none"`` on a tie."""
    if not weights:
        return "none"
    top = max(weights.values())
    leaders = [arm for arm, w in weights.items() if w == top]
    return leaders[0] if len(leaders) == 1 else "none"


def trial_checks(run: TrialRun, results: TrialResults) -> list[Check]:
    """What must hold: every decided user exposed once, in the variant and on the arm
    the server gave them; the outcomes sent counted; and both planted effects found."""
    report = results.report.to_json()
    users = {v["key"]: v["users"] for v in report["variants"]}
    activated = next((m for m in report["metrics"] if m["key"] == "activated"), None)
    converted = (
        {}
        if activated is None
        else {v["variant"]: round(v["value"] * v["users"]) for v in activated["values"]}
    )
    in_experiment = sum(run.count(variant=v) for v in VARIANT_WELCOMES)
    # Every sign-up is targeted: each one decided must be exposed, in one variant.
    checks = [
        Check("experiments", "sign-ups given a plan", len(run.users), run.decided),
        Check(
            "experiments",
            "exposures recorded, all variants",
            run.decided,
            sum(users.values()),
        ),
        Check(
            "experiments",
            "plans showing their variant's welcome",
            in_experiment,
            sum(1 for u in run.users if u.variant and u.welcome == VARIANT_WELCOMES[u.variant]),
        ),
    ]
    for variant in VARIANT_WELCOMES:
        checks += [
            Check(
                "experiments",
                f"{variant}: exposures recorded",
                run.count(variant=variant),
                users.get(variant, 0),
            ),
            Check(
                "experiments",
                f"{variant}: projects created ({ACTIVATION[variant]:.0%})",
                sum(1 for u in run.users if u.variant == variant and u.activated),
                converted.get(variant, 0),
            ),
        ]
    recommendation = report["recommendation"]
    checks.append(
        Check(
            "experiments",
            "recommendation",
            "ship friendly",
            " ".join(str(x) for x in (recommendation["action"], recommendation["variant"]) if x),
        )
    )
    arms = results.bandit.get("arms", {})
    on_arm = sum(run.count(arm=arm) for arm in ARM_TIPS)
    checks += [
        Check(
            "bandits",
            "exposures recorded, all arms",
            run.decided,
            sum(int(a["users"]) for a in arms.values()),
        ),
        Check(
            "bandits",
            "plans showing their arm's tip",
            on_arm,
            sum(1 for u in run.users if u.arm and ARM_TIPS[u.arm] in u.tips),
        ),
    ]
    for arm in ARM_TIPS:
        stats = arms.get(arm, {"users": 0, "mean_reward": None})
        mean = stats["mean_reward"]
        checks += [
            Check(
                "bandits",
                f"arm {arm}: exposures recorded",
                run.count(arm=arm),
                int(stats["users"]),
            ),
            Check(
                "bandits",
                f"arm {arm}: tips used ({TIP_USE[arm]:.0%})",
                sum(1 for u in run.users if u.arm == arm and u.used_tip),
                0 if mean is None else round(float(mean) * int(stats["users"])),
            ),
        ]
    checks.append(
        Check(
            "bandits",
            "the arm with the most weight",
            "b",
            _heaviest(results.global_weights),
        )
    )
    return checks


def print_trials(console: Console, run: TrialRun, results: TrialResults) -> None:
    """The experiment's report as the CLI prints it, and the bandit's weights."""
    console.print()
    console.rule("[bold]Experiments and bandits")
    planted = ", ".join(f"{v} {r:.0%}" for v, r in ACTIVATION.items())
    tips = ", ".join(f"{a} ({ARM_TIPS[a]}) {r:.0%}" for a, r in TIP_USE.items())
    console.print(
        f"{len(run.users):,} launch-week sign-ups (trait signup_campaign: {CAMPAIGN}, which "
        f"both trials target) each asked POST /v1/decide for a plan ({run.seconds:.1f} s "
        f'with their outcomes). Planted: projects created ("{PROJECT_CREATED}") by '
        f'welcome variant: {planted}; tips used ("{TIP_USED}") by arm: {tips}. The report '
        "and the weights below are read from the workspace after the server stopped."
    )
    if run.asked_again:
        console.print(
            f"[dim]{run.asked_again} plan(s) ran over the server's time budget and fell back "
            "to defaults; the demo asked again for those users, as their app would on the "
            "next page.[/]"
        )
    console.print()
    # The report's own plain-text layout: wider than a narrow terminal, so not re-wrapped.
    console.print(escape(render_text(results.report)), highlight=False, soft_wrap=True)
    console.print()
    bandit = results.bandit
    weights = results.global_weights
    on_arm = sum(1 for user in run.users if user.arm is not None)
    console.print(
        f"Bandit {BANDIT}: {on_arm:,} users, reward {bandit.get('metric')}; "
        "its weights recomputed after the server stopped (refresh_bandits(force=True)):"
    )
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", padding=(0, 1))
    table.add_column("arm")
    table.add_column("tip")
    table.add_column("users", justify="right")
    table.add_column("tips used", justify="right")
    table.add_column("weight", justify="right")
    for arm, stats in bandit.get("arms", {}).items():
        mean = stats.get("mean_reward")
        table.add_row(
            arm,
            ARM_TIPS.get(arm, "?"),
            f"{int(stats['users']):,}",
            "-" if mean is None else f"{float(mean):.1%}",
            "-" if arm not in weights else f"{weights[arm]:.3f}",
        )
    console.print(table)
    reason = next(
        (w.get("reason") for w in bandit.get("weights", ()) if w.get("context") is None), None
    )
    console.print(
        f"[dim]Reason: {escape(str(reason or 'no weights yet'))}. A weight is the arm's "
        "chance of being the best (Thompson sampling), kept above a minimum so that every "
        "arm keeps learning; new users get each arm with its weight.[/]"
    )
