"""The ``train``, ``models`` and ``audit`` commands: training, the registry, drift,
fairness, and what the models say about one user."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from firstmile.cli_common import HomeOption, JsonOption, friendly, open_workspace, out, print_json
from firstmile.errors import ModelError

models_app = typer.Typer(
    help="The model registry: list, show, promote, rollback, drift, explain.",
    no_args_is_help=True,
)
audit_app = typer.Typer(help="Audits of what the models do.", no_args_is_help=True)


def headline(metrics: Any) -> str:
    """The one figure that says how good a model is, for tables."""
    if not isinstance(metrics, dict):
        return "-"
    for key, label in (
        ("roc_auc", "ROC-AUC"),
        ("ndcg_at_10", "NDCG@10"),
        ("silhouette", "silhouette"),
    ):
        value = _find(metrics, key)
        if isinstance(value, int | float):
            return f"{label} {value:.3f}"
    if isinstance(metrics.get("chosen"), str):  # a recommender: the configuration chosen
        return f"chose {metrics['chosen']}"
    return "-"


def _find(data: Any, key: str) -> Any:
    """The first value under ``key`` anywhere in nested dicts (reports differ by kind)."""
    if isinstance(data, dict):
        if key in data and not isinstance(data[key], dict | list):
            return data[key]
        if isinstance(data.get(key), dict) and "mean" in data[key]:
            return data[key]["mean"]
        for value in data.values():
            found = _find(value, key)
            if found is not None:
                return found
    return None


def train(
    model: Annotated[
        list[str] | None, typer.Option("--model", help="Train only this model (repeat).")
    ] = None,
    if_stale: Annotated[
        bool,
        typer.Option(
            "--if-stale",
            help="Only models that drifted, aged past drift.max_age, or have no usable "
            "promoted version (for a scheduler).",
        ),
    ] = False,
    candidate: Annotated[
        bool, typer.Option("--candidate", help="Register without promoting.")
    ] = False,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Train the models of firstmile.yaml on the stored users and register them."""
    with open_workspace(home) as fm:
        if as_json:
            outcomes = fm.train(model, promote=not candidate, if_stale=if_stale)
        else:
            with out.status("training") as status:
                outcomes = fm.train(
                    model,
                    promote=not candidate,
                    if_stale=if_stale,
                    progress=lambda message: status.update(escape(message)),
                )
    failed = [o for o in outcomes if o.error is not None]
    if as_json:
        print_json({"trained": [o.to_json() for o in outcomes]})
    elif not outcomes:
        out.print("Nothing to train: every model is fresh." if if_stale else "Nothing trained.")
    else:
        table = Table("model", "version", "status", "rows", "result")
        for o in outcomes:
            if o.error is not None:
                table.add_row(o.name, "-", "[red]failed[/]", "-", escape(o.error))
                continue
            state = "promoted" if o.promoted else "candidate"
            table.add_row(
                o.name, str(o.version), state, str(o.meta.get("rows", "-")), headline(o.metrics)
            )
        out.print(table)
    if failed:
        raise typer.Exit(ModelError.exit_code)


@models_app.command("list")
@friendly
def models_list(
    name: Annotated[str | None, typer.Argument(help="Only this model's versions.")] = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every registered model version, newest first."""
    with open_workspace(home) as fm:
        records = fm.model_versions(name)
    if as_json:
        print_json({"models": [r.to_json() for r in records]})
        return
    if not records:
        out.print("No models yet: run `firstmile train`.")
        return
    table = Table("model", "version", "kind", "status", "trained", "rows", "result")
    for r in records:
        table.add_row(
            r.name,
            str(r.version),
            r.kind,
            r.status,
            r.created_at.strftime("%Y-%m-%d %H:%M"),
            str(r.meta.get("rows", "-")),
            headline(dict(r.metrics)),
        )
    out.print(table)


@models_app.command("show")
@friendly
def models_show(
    name: Annotated[
        str, typer.Argument(help="Model name (personas, a prediction key, recommendations).")
    ],
    version: Annotated[
        int | None, typer.Argument(help="Version (default: the promoted one).")
    ] = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """One version: metrics, data window, feature schema, library versions."""
    with open_workspace(home) as fm:
        record = fm.model_version(name, version)
    data = record.to_json()
    if as_json:
        print_json(data)
        return
    out.print(
        f"[bold]{escape(record.name)}[/] version {record.version} ({record.status}, {record.kind})"
    )
    for key in ("created_at", "promoted_at", "config_version", "schema_hash", "sha256", "size"):
        out.print(f"  {key}: {data[key]}")
    out.print("  meta:")
    print_json(data["meta"])
    out.print("  metrics:")
    print_json(data["metrics"])


@models_app.command("promote")
@friendly
def models_promote(
    name: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[int, typer.Argument(help="Version to promote.")],
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make a version the one serve loads (serve picks it up within seconds)."""
    with open_workspace(home) as fm:
        record = fm.promote_model(name, version)
    if as_json:
        print_json(record.to_json())
        return
    out.print(f"{record.name} version {record.version} promoted")


@models_app.command("rollback")
@friendly
def models_rollback(
    name: Annotated[str, typer.Argument(help="Model name.")],
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Promote again the version that was promoted before the current one."""
    with open_workspace(home) as fm:
        record = fm.rollback_model(name)
    if as_json:
        print_json(record.to_json())
        return
    out.print(f"{record.name} rolled back to version {record.version}")


@models_app.command("drift")
@friendly
def models_drift(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """Population stability index per feature: training window vs recent users."""
    with open_workspace(home) as fm:
        reports = fm.model_drift()
    flagged = any(r.get("flagged") for r in reports)
    if as_json:
        print_json({"drift": reports, "flagged": flagged})
        return
    if not reports:
        out.print("No promoted models to check.")
    for report in reports:
        title = f"{report['name']} v{report['version']} ({report['recent_rows']} recent users)"
        if "skipped" in report:
            out.print(f"{escape(title)}: skipped, {escape(report['skipped'])}")
            continue
        table = Table("feature", "PSI", "level", title=escape(title))
        for feature in report.get("features", [])[:15]:
            table.add_row(
                escape(str(feature["column"])),
                f"{feature['psi']:.3f}",
                str(feature.get("level", "")),
            )
        out.print(table)
        if report.get("flagged"):
            out.print(f"[yellow]drifted:[/] {escape(', '.join(report['flagged']))}")


@models_app.command("explain")
@friendly
def models_explain(
    user_id: Annotated[str, typer.Argument(help="User id (or anonymous id).")],
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """What the promoted models say about one user, with the top reasons."""
    with open_workspace(home) as fm:
        fm.reload_models()
        view = fm.explain_user(user_id)
    if as_json:
        print_json(view)
        return
    if not view.get("consent"):
        out.print(escape(view["note"]))
        return
    persona = view.get("persona")
    if persona:
        out.print(f"persona: [bold]{escape(str(persona.get('name', persona['key'])))}[/]")
        if persona.get("description"):
            out.print(f"  {escape(persona['description'])}")
    for key, prediction in view["predictions"].items():
        out.print(f"{escape(key)}: {prediction['probability']:.2f}")
        for reason in prediction["reasons"]:
            sign = "+" if reason["contribution"] >= 0 else ""
            out.print(
                f"  {escape(str(reason['feature']))} = {escape(str(reason['value']))}: "
                f"{reason['direction']} it ({sign}{reason['contribution']:.2f})"
            )


@audit_app.command("fairness")
@friendly
def audit_fairness(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """Persona and prediction rates per group of each protected trait, flagged."""
    with open_workspace(home) as fm:
        fm.reload_models()
        audit = fm.fairness_audit()
    if as_json:
        print_json(audit)
        return
    print_json(audit)
