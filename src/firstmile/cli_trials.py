"""The ``experiments`` and ``bandits`` commands: reports, weights, policy evaluation, trees."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from firstmile.cli_common import HomeOption, JsonOption, friendly, open_workspace, out, print_json
from firstmile.errors import InvalidRequest
from firstmile.experiments import render_text

experiments_app = typer.Typer(help="Experiments: the list and their reports.", no_args_is_help=True)
bandits_app = typer.Typer(
    help="Bandits: current weights, updates, off-policy evaluation, context trees.",
    no_args_is_help=True,
)

#: The key of a candidate policy that stands for every context it does not list.
OTHER_CONTEXTS = "*"


def parse_target_policy(text: str) -> dict[str | None, dict[str, float]]:
    """``{"*": {"a": 0.5, "b": 0.5}, "mobile": {"b": 1}}`` (or ``@file``) as a target policy.

    Raises :class:`~firstmile.errors.InvalidRequest` saying what to fix.
    """
    if text.startswith("@"):
        path = Path(text[1:])
        if not path.is_file():
            raise InvalidRequest(f"No policy file at {path}.", field="policy")
        text = path.read_text(encoding="utf-8")
    try:
        raw = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"The policy is not valid JSON: {exc}.", field="policy") from None
    example = 'for example {"*": {"short": 0.2, "long": 0.8}}'
    if not isinstance(raw, dict) or not raw:
        raise InvalidRequest(f"The policy maps contexts to arm probabilities, {example}.")
    policy: dict[str | None, dict[str, float]] = {}
    for context, arms in raw.items():
        if not isinstance(arms, dict) or not all(
            isinstance(p, int | float) and not isinstance(p, bool) for p in arms.values()
        ):
            raise InvalidRequest(
                f"Context {context!r} must map arms to probabilities, {example}.", field="policy"
            )
        policy[None if context == OTHER_CONTEXTS else context] = {
            str(arm): float(p) for arm, p in arms.items()
        }
    return policy


def print_trials(console: Console, summary: Mapping[str, Any]) -> None:
    """Experiments with users per variant, then bandits."""
    experiments, bandits = summary["experiments"], summary["bandits"]
    if not experiments and not bandits:
        console.print("No experiments or bandits: declare them in firstmile.yaml.")
        return
    table = Table("experiment", "status", "users per variant", "metrics")
    for exp in experiments:
        users = ", ".join(f"{v} {n}" for v, n in exp["users"].items())
        table.add_row(exp["key"], exp["status"], users, ", ".join(exp["metrics"]) or "-")
    if experiments:
        console.print(table)
    table = Table("bandit", "status", "arms", "reward")
    for bandit in bandits:
        table.add_row(bandit["key"], bandit["status"], ", ".join(bandit["arms"]), bandit["metric"])
    if bandits:
        console.print(table)


def _number(value: Any, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def print_bandit(console: Console, status: Mapping[str, Any]) -> None:
    """Weights per context and the arms' users and mean rewards."""
    console.print(f"[bold]{escape(status['key'])}[/] reward: {status['metric']}")
    table = Table("context", "weights", "epoch", "updated", "because")
    for row in status["weights"]:
        weights = ", ".join(f"{arm} {w:.3f}" for arm, w in row["weights"].items())
        table.add_row(
            row["context"] or "(all)",
            weights,
            str(row["epoch"]),
            row["updated_at"],
            escape(str(row["reason"] or "")),
        )
    console.print(table)
    arms = Table("arm", "users", "mean reward")
    for arm, data in status["arms"].items():
        arms.add_row(arm, str(data["users"]), _number(data["mean_reward"]))
    console.print(arms)


def print_evaluation(console: Console, key: str, result: Mapping[str, Any]) -> None:
    """IPS, SNIPS and the logging policy's value, with intervals and warnings."""
    console.print(
        f"[bold]{escape(key)}[/]: {result['n_used']} of {result['n_logged']} logged "
        f"decisions used, effective sample size {_number(result['effective_sample_size'])}"
    )
    table = Table("estimate", "value", "interval")
    for name in ("logging", "ips", "snips"):
        estimate = result[name]
        interval = estimate.get("interval") or {}
        table.add_row(
            name,
            _number(estimate.get("value")),
            f"[{_number(interval.get('lower'))}, {_number(interval.get('upper'))}]",
        )
    console.print(table)
    for warning in result.get("warnings", []):
        console.print(f"[yellow]warning:[/] {escape(warning)}")


def print_tree(console: Console, key: str, tree: Mapping[str, Any]) -> None:
    """The leaves with their best arm, then the ``contexts:`` to paste into the bandit."""
    leaves = tree["leaves"]
    console.print(f"[bold]{escape(key)}[/]: {tree['n']} logged users, {len(leaves)} leaves")
    table = Table("leaf", "users", "best arm", "mean reward by arm")
    for leaf in leaves:
        means = ", ".join(f"{arm} {_number(v['mean'])}" for arm, v in leaf["arms"].items())
        table.add_row(leaf["key"], str(leaf["n"]), str(leaf["best_arm"] or "-"), means)
    console.print(table)
    if len(leaves) > 1:
        console.print("For firstmile.yaml, under the bandit:")
        lines = ["contexts:"] + [
            f"  - {{key: {leaf['key']}, when: {orjson.dumps(leaf['condition']).decode()}}}"
            for leaf in leaves
        ]
        console.print(escape("\n".join(lines)), highlight=False)
    for warning in tree.get("warnings", []):
        console.print(f"[yellow]warning:[/] {escape(warning)}")


@experiments_app.command("list")
@friendly
def experiments_list(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """The experiments and bandits of the loaded config, with users per variant."""
    with open_workspace(home) as fm:
        summary = fm.trials_summary()
    if as_json:
        print_json(summary)
        return
    print_trials(out, summary)


@experiments_app.command("report")
@friendly
def experiments_report(
    key: Annotated[str, typer.Argument(help="Experiment key.")],
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Effects with intervals, chance to win, SRM and sequential verdicts, a recommendation."""
    with open_workspace(home) as fm:
        report = fm.experiment_report(key)
    if as_json:
        print_json(report.to_json())
        return
    out.print(escape(render_text(report)), highlight=False)


@bandits_app.command("show")
@friendly
def bandits_show(
    key: Annotated[str, typer.Argument(help="Bandit key.")],
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """A bandit's current weights per context and its arms' rewards."""
    with open_workspace(home) as fm:
        status = fm.bandit_status(key)
    if as_json:
        print_json(status)
        return
    print_bandit(out, status)


@bandits_app.command("refresh")
@friendly
def bandits_refresh(
    home: HomeOption = None,
    force: Annotated[bool, typer.Option(help="Update even when the cadence is not due.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Recompute the weights of bandits whose cadence is due (serve does this itself)."""
    with open_workspace(home) as fm:
        updated = fm.refresh_bandits(force=force)
    if as_json:
        print_json({"updated": updated})
        return
    out.print(f"{updated} bandit weight sets updated")


@bandits_app.command("tree")
@friendly
def bandits_tree(
    key: Annotated[str, typer.Argument(help="Bandit key.")],
    attribute: Annotated[
        list[str] | None,
        typer.Option(help="A categorical attribute to split on (repeat), e.g. device_type."),
    ] = None,
    numeric: Annotated[
        list[str] | None,
        typer.Option(help="A numeric attribute to split on (repeat), e.g. sessions."),
    ] = None,
    min_leaf: Annotated[int, typer.Option(min=2, help="Users of each arm a leaf needs.")] = 100,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fit a small tree where the bandit's best arm differs; print its leaves as contexts."""
    with open_workspace(home) as fm:
        tree = fm.bandit_tree(
            key, categorical=attribute or (), numeric=numeric or (), min_leaf=min_leaf
        )
    if as_json:
        print_json(tree.to_json())
        return
    print_tree(out, key, tree.to_json())


@bandits_app.command("evaluate")
@friendly
def bandits_evaluate(
    key: Annotated[str, typer.Argument(help="Bandit key.")],
    policy: Annotated[
        str,
        typer.Option(
            help='Candidate policy as JSON, context -> arm -> probability; "*" is every '
            'other context. Example: {"*": {"short": 0.2, "long": 0.8}}. @FILE reads a file.'
        ),
    ],
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Estimate a candidate policy's value from the bandit's logs (IPS and SNIPS)."""
    target = parse_target_policy(policy)
    with open_workspace(home) as fm:
        result = fm.evaluate_bandit(key, target)
    if as_json:
        print_json(result.to_json())
        return
    print_evaluation(out, key, result.to_json())
