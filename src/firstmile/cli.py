"""The ``firstmile`` command: a thin shell over :class:`firstmile.service.Firstmile`.

Every command that reports something takes ``--json`` and then prints exactly one JSON
document on stdout (progress goes to stderr). Errors print a message and exit non-zero,
never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from firstmile import __version__
from firstmile.cli_common import (
    HomeOption,
    JsonOption,
    err,
    friendly,
    open_workspace,
    out,
    print_json,
    settings_for,
)
from firstmile.cli_models import audit_app, models_app, train
from firstmile.cli_plan import print_plan
from firstmile.cli_trials import bandits_app, experiments_app
from firstmile.errors import InvalidRequest
from firstmile.imports import FileFormat, count_lines, detect_format, read_messages
from firstmile.segments.static import parse_id_csv
from firstmile.service import DEFAULT_SOURCE, Firstmile
from firstmile.storage.base import QuarantineRecord
from firstmile.workspace import init_workspace

app = typer.Typer(
    help="firstmile: personalize user onboarding from the events your app already tracks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
users_app = typer.Typer(help="Look at user profiles.", no_args_is_help=True)
quarantine_app = typer.Typer(help="Messages that failed validation.", no_args_is_help=True)
config_app = typer.Typer(help="The onboarding config file (firstmile.yaml).", no_args_is_help=True)
segments_app = typer.Typer(
    help="Segments: sizes, members, previews, static snapshots, uploads and deletes.",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(config_app, name="config")
app.add_typer(segments_app, name="segments")
app.add_typer(experiments_app, name="experiments")
app.add_typer(bandits_app, name="bandits")
app.add_typer(models_app, name="models")
app.add_typer(audit_app, name="audit")
app.command("train")(friendly(train))


def _record_json(record: QuarantineRecord) -> dict[str, Any]:
    entry = record.entry
    return {
        "id": record.id,
        "status": record.status,
        "reason": entry.reason,
        "message": entry.message,
        "field": entry.field,
        "message_id": entry.message_id,
        "source_id": entry.source_id,
        "received_at": entry.received_at.isoformat(),
        "resolved_at": record.resolved_at.isoformat() if record.resolved_at else None,
        "note": record.note,
        "payload": entry.payload,
    }


@app.command()
@friendly
def init(
    directory: Annotated[Path, typer.Argument(help="Workspace folder to create.")] = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Create a workspace: settings file, database, a write and a server key (printed once)."""
    workspace = init_workspace(directory)
    if as_json:
        print_json(
            {
                "home": str(workspace.home),
                "settings_file": str(workspace.settings_file),
                "database_url": workspace.database_url,
                "write_key": workspace.write_key,
                "server_key": workspace.server_key,
            }
        )
        return
    verb = "Created" if workspace.created_settings else "Kept"
    out.print(f"{verb} [bold]{workspace.settings_file}[/]")
    out.print(f"Database: {workspace.database_url}")
    out.print(f"Write key: [bold green]{workspace.write_key}[/]  (shown once; keep it)")
    out.print(
        f"Server key: [bold green]{workspace.server_key}[/]  "
        "(shown once; reads profiles: keep it on your servers)"
    )
    out.print(f"Next: [bold]firstmile serve --home {workspace.home}[/]")


@app.command()
@friendly
def serve(
    home: HomeOption = None,
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
) -> None:
    """Run the HTTP API (tracking endpoints, health checks)."""
    import uvicorn

    from firstmile.api.app import create_app

    settings = settings_for(home)
    overrides = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    settings = settings.model_copy(update=overrides)
    Firstmile.open(settings).close()  # fail fast (and migrate) before binding the port
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        loop="uvloop",
        http="httptools",
    )


@app.command("import")
@friendly
def import_file(
    file: Annotated[Path, typer.Argument(help="NDJSON (one message per line) or CSV.")],
    home: HomeOption = None,
    file_format: Annotated[
        str | None, typer.Option("--format", help="ndjson or csv (default: from the suffix).")
    ] = None,
    source: Annotated[str, typer.Option(help="Source id the messages dedupe under.")] = (
        DEFAULT_SOURCE
    ),
    batch_size: Annotated[int, typer.Option(min=1, max=2500)] = 500,
    as_json: JsonOption = False,
) -> None:
    """Import events from a file through the same pipeline as the API."""
    if not file.is_file():
        raise InvalidRequest(f"{file} is not a file.")
    if file_format not in (None, "ndjson", "csv"):
        raise InvalidRequest(f"--format must be ndjson or csv, not {file_format!r}.")
    fmt: FileFormat = file_format or detect_format(file)  # type: ignore[assignment]
    totals = {"accepted": 0, "duplicates": 0, "suppressed": 0, "quarantined": 0}
    reasons: dict[str, int] = {}
    with (
        open_workspace(home) as fm,
        Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            disable=as_json,
        ) as progress,
    ):
        task = progress.add_task("import", total=count_lines(file) - (1 if fmt == "csv" else 0))
        batch: list[Any] = []

        def flush() -> None:
            result = fm.ingest_items(batch, source_id=source)
            totals["accepted"] += result.accepted
            totals["duplicates"] += result.duplicates
            totals["suppressed"] += result.suppressed
            totals["quarantined"] += len(result.quarantined)
            for item in result.quarantined:
                reasons[item.reason] = reasons.get(item.reason, 0) + 1
            progress.advance(task, len(batch))
            batch.clear()

        for message in read_messages(file, fmt):
            batch.append(message)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
    summary = {**totals, "quarantine_reasons": reasons, "file": str(file)}
    if as_json:
        print_json(summary)
        return
    out.print(
        f"Imported {file}: [green]{totals['accepted']} accepted[/], "
        f"{totals['duplicates']} duplicates, {totals['suppressed']} not kept (consent), "
        f"[yellow]{totals['quarantined']} quarantined[/]"
    )
    for reason, count in sorted(reasons.items()):
        out.print(f"  {reason}: {count}  (see: firstmile quarantine list --reason {reason})")


@users_app.command("show")
@friendly
def users_show(
    user: Annotated[str, typer.Argument(help="User id, anonymous id or profile id.")],
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one profile: traits, computed traits, consent, identities, history."""
    with open_workspace(home) as fm:
        view = fm.user(user)
    if as_json:
        print_json(view)
        return
    out.print(f"[bold]Profile {view['profile_id']}[/] (version {view['version']})")
    ids = view["identities"]
    out.print(f"user ids: {', '.join(ids['user_id']) or '-'}")
    out.print(f"anonymous ids: {', '.join(ids['anonymous_id']) or '-'}")
    table = Table("trait", "value", title="traits")
    for key, value in view["traits"].items():
        table.add_row(key, orjson.dumps(value).decode())
    out.print(table)
    computed = Table("computed", "value", title="computed traits")
    for key, value in view["computed"].items():
        computed.add_row(key, orjson.dumps(value).decode())
    out.print(computed)
    consent = Table("purpose", "granted", "stated by user", title="consent")
    for purpose, state in view["consent"].items():
        consent.add_row(purpose, str(state["granted"]), str(state["stated"]))
    out.print(consent)
    segments = Table("segment", "name", "kind", "since", title="segments")
    for segment in view["segments"]:
        kind = segment["kind"] or "-"
        if segment["kind"] == "static":
            kind = f"static ({segment['source']})"
        segments.add_row(segment["key"], segment["name"], kind, segment["entered_at"])
    out.print(segments if view["segments"] else "segments: none")
    trials = Table("experiment / bandit", "variant", "exposed", title="experiments")
    for member in view["experiments"]:
        trials.add_row(member["key"], member["variant"], member["exposed_at"])
    out.print(trials if view["experiments"] else "experiments: none")
    models = view["models"]
    persona = models.get("persona")
    if persona:
        out.print(f"persona: {escape(str(persona.get('name', persona['key'])))}")
    for key, prediction in (models.get("predictions") or {}).items():
        out.print(f"prediction {escape(key)}: {prediction['probability']:.2f}")


@quarantine_app.command("list")
@friendly
def quarantine_list(
    home: HomeOption = None,
    reason: Annotated[str | None, typer.Option(help="Only this reason.")] = None,
    status: Annotated[str, typer.Option(help="pending, replayed, discarded or all.")] = "pending",
    limit: Annotated[int, typer.Option(min=1)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: JsonOption = False,
) -> None:
    """List quarantined messages, newest first."""
    if status not in ("pending", "replayed", "discarded", "all"):
        raise InvalidRequest("--status must be pending, replayed, discarded or all.")
    with open_workspace(home) as fm:
        records = fm.quarantine(
            status=None if status == "all" else status,  # type: ignore[arg-type]  # checked above
            reason=reason,
            limit=limit,
            offset=offset,
        )
        reasons = fm.store.quarantine_reasons()
    if as_json:
        print_json({"items": [_record_json(r) for r in records], "pending_by_reason": reasons})
        return
    table = Table("id", "received", "reason", "message", "status")
    for record in records:
        table.add_row(
            str(record.id),
            record.entry.received_at.strftime("%Y-%m-%d %H:%M:%S"),
            record.entry.reason,
            record.entry.message,
            record.status,
        )
    out.print(table)
    if not records:
        out.print("Nothing quarantined.")


@quarantine_app.command("show")
@friendly
def quarantine_show(
    entry_id: Annotated[int, typer.Argument(help="Quarantine id.")],
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one quarantined message: reason and the payload as received."""
    with open_workspace(home) as fm:
        record = fm.quarantine_entry(entry_id)
    data = _record_json(record)
    if as_json:
        print_json(data)
        return
    for key in ("id", "status", "reason", "message", "field", "received_at", "source_id"):
        out.print(f"[bold]{key}[/]: {data[key]}")
    out.print_json(orjson.dumps(data["payload"]).decode())


@quarantine_app.command("replay")
@friendly
def quarantine_replay(
    entry_ids: Annotated[list[int] | None, typer.Argument(help="Quarantine ids.")] = None,
    home: HomeOption = None,
    all_pending: Annotated[bool, typer.Option("--all", help="Every pending entry.")] = False,
    reason: Annotated[str | None, typer.Option(help="With --all: only this reason.")] = None,
    payload: Annotated[
        Path | None, typer.Option(help="A fixed version of the message (JSON file); one id.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run quarantined messages through the pipeline again (after a fix)."""
    ids = list(entry_ids or [])
    if payload is not None and len(ids) != 1:
        raise InvalidRequest("--payload replaces one message: give exactly one id.")
    fixed: Any = None
    if payload is not None:
        try:
            fixed = orjson.loads(payload.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise InvalidRequest(f"{payload}: cannot read a JSON message ({exc}).") from exc
    with open_workspace(home) as fm:
        if all_pending:
            ids += [r.id for r in fm.quarantine(status="pending", reason=reason, limit=1_000_000)]
        if not ids:
            raise InvalidRequest("Give quarantine ids, or --all.")
        report = fm.replay(ids, payload=fixed)
    if as_json:
        print_json(report)
        return
    out.print(f"replayed {report['replayed']}, still invalid {report['still_invalid']}")
    for result in report["results"]:
        if result["outcome"] != "replayed":
            why = result.get("message") or result.get("reason")
            out.print(f"  {result['id']}: {result['outcome']} ({why})")


@segments_app.command("list")
@friendly
def segments_list(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """Every segment of the loaded config, then the static ones, with their sizes."""
    with open_workspace(home) as fm:
        segments = fm.segments()
    if as_json:
        print_json({"segments": segments})
        return
    table = Table("key", "name", "kind", "size", "time-dependent")
    for segment in segments:
        table.add_row(
            segment["key"],
            segment["name"],
            segment["kind"],
            str(segment["size"]),
            "yes" if segment["time_dependent"] else "",
        )
    out.print(table)
    if not segments:
        out.print("No segments: declare them in firstmile.yaml (see docs/segments.md).")


@segments_app.command("show")
@friendly
def segments_show(
    key: Annotated[str, typer.Argument(help="Segment key.")],
    home: HomeOption = None,
    members: Annotated[int, typer.Option(min=0, max=1000, help="Members to list.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """One segment: its definition, size and first members."""
    with open_workspace(home) as fm:
        segment = fm.segment(key)
        page = fm.segment_members(key, limit=members) if members else None
    segment["members"] = page["members"] if page else []
    if as_json:
        print_json(segment)
        return
    out.print(f"[bold]{segment['key']}[/] {segment['name']} ({segment['kind']})")
    if segment["description"]:
        out.print(segment["description"])
    definition = segment["condition"] or segment["threshold"]
    if segment["kind"] == "static":
        made = f"snapshot of {segment['of_segment']}" if segment["of_segment"] else "upload"
        out.print(f"{made}, created {segment['created_at']}")
    else:
        out.print_json(orjson.dumps(definition).decode())
    out.print(f"size: {segment['size']}  time-dependent: {segment['time_dependent']}")
    for member in segment["members"]:
        who = member["user_id"] or member["profile_id"]
        out.print(f"  {who}  entered {member['entered_at']}")


@segments_app.command("preview")
@friendly
def segments_preview(
    condition: Annotated[str, typer.Argument(help="Condition as JSON text, or @file.")],
    home: HomeOption = None,
    sample: Annotated[int, typer.Option(min=0, max=100, help="Profile ids to show.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Count the stored profiles a condition matches, without saving anything."""
    text = condition
    if condition.startswith("@"):
        try:
            text = Path(condition[1:]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidRequest(f"{condition[1:]}: cannot read the condition ({exc}).") from exc
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"The condition is not valid JSON: {exc}.") from exc
    with open_workspace(home) as fm:
        result = fm.preview(parsed, sample=sample)
    if as_json:
        print_json(result)
        return
    out.print(f"{result['matching']} of {result['total']} profiles match")
    for profile_id in result["sample"]:
        out.print(f"  {profile_id}")


@segments_app.command("snapshot")
@friendly
def segments_snapshot(
    key: Annotated[str, typer.Argument(help="The segment to copy.")],
    as_key: Annotated[str, typer.Option("--as", help="Key of the new static segment.")],
    name: Annotated[str | None, typer.Option("--name", help="Its name.")] = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Copy a segment's current members into a static segment (never re-evaluated)."""
    with open_workspace(home) as fm:
        created = fm.snapshot_segment(key, as_key=as_key, name=name)
    if as_json:
        print_json(created)
        return
    out.print(f"{created['key']}: {created['size']} profiles copied from {key}")


@segments_app.command("upload")
@friendly
def segments_upload(
    key: Annotated[str, typer.Argument(help="Key of the new static segment.")],
    file: Annotated[Path, typer.Argument(help="CSV with an `id` column, or one id per line.")],
    name: Annotated[str | None, typer.Option("--name", help="Its name (default: the key).")] = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Store the profiles of a file of ids (user, anonymous or profile ids) as a static
    segment; ids that match no profile are reported."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InvalidRequest(f"{file}: cannot read the id file ({exc.strerror}).") from exc
    ids = parse_id_csv(data)
    with open_workspace(home) as fm:
        created = fm.upload_static_segment(key, ids, name=name or key)
    if as_json:
        print_json(created)
        return
    out.print(f"{created['key']}: {created['size']} profiles stored")
    if created["unknown"]:
        shown = ", ".join(created["unknown_ids"][:10])
        out.print(f"{created['unknown']} ids match no profile: {shown}")


def _interactive() -> bool:
    """Whether a person can answer a question on the terminal."""
    return sys.stdin.isatty()


@segments_app.command("delete")
@friendly
def segments_delete(
    key: Annotated[str, typer.Argument(help="Key of the static segment to delete.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete a static segment and its member list (segments of firstmile.yaml are removed
    from the file instead). Asks first unless --yes."""
    with open_workspace(home) as fm:
        segment = fm.static_segment(key)
        if not yes:
            if as_json or not _interactive():
                raise InvalidRequest(
                    f"Deleting the static segment {key!r} ({segment['size']} profiles) cannot "
                    "be undone; add --yes to confirm."
                )
            question = f"Delete the static segment {key!r} ({segment['size']} profiles)?"
            if not typer.confirm(question, err=True):
                err.print("Nothing deleted.")
                raise typer.Exit(1)
        deleted = fm.delete_static_segment(key)
    if as_json:
        print_json(deleted)
        return
    out.print(f"{key}: deleted ({deleted['size']} profiles)")


ProfilesOption = Annotated[
    bool | None,
    typer.Option(
        "--profiles/--no-profiles",
        help="Also run the rules on the workspace's stored profiles "
        "(default: when --home holds a settings.toml).",
    ),
]


@config_app.command("check")
@friendly
def config_check(
    file: Annotated[
        Path | None, typer.Argument(help="Config file (default: firstmile.yaml in --home).")
    ] = None,
    home: HomeOption = None,
    profiles: ProfilesOption = None,
    as_json: JsonOption = False,
) -> None:
    """Validate the onboarding config file without applying it (exit 2 when invalid).

    Rules that conflict (same priority, same slot, one user matching both) are errors;
    shadowed and never-matching rules, and traits read without a ``traits:`` section, are
    warnings on stderr that keep exit 0. In a workspace the rules also run on the stored
    profiles.
    """
    from firstmile.config import check_file, default_config_path
    from firstmile.service import check_rules_on_profiles
    from firstmile.settings import SETTINGS_FILE_NAME

    report = check_file(file if file is not None else default_config_path(home))
    if profiles is None:
        profiles = ((home if home is not None else Path()) / SETTINGS_FILE_NAME).is_file()
    if profiles and report.config is not None:
        count, findings = check_rules_on_profiles(settings_for(home), report.config)
        report = report.with_profile_findings(count, findings)
    if as_json:
        print_json(report.to_json())
    else:
        for line in report.lines():
            typer.echo(line, err=not report.ok)
        for line in report.warning_lines():
            typer.echo(line, err=True)
    raise typer.Exit(report.exit_code)


@config_app.command("history")
@friendly
def config_history(
    home: HomeOption = None,
    limit: Annotated[int, typer.Option(min=1, help="Versions to list.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """The config versions this workspace has run, most recently loaded first."""
    with open_workspace(home) as fm:
        versions = fm.config_versions(limit=limit)
        current = None if fm.config is None else fm.config.version_id
    if as_json:
        print_json({"current": current, "versions": versions})
        return
    table = Table("version id", "loaded at", "file", "")
    for v in versions:
        mark = "current" if v["version_id"] == current else ""
        table.add_row(v["version_id"], v["loaded_at"], v["source"] or "-", mark)
    out.print(table)
    if not versions:
        out.print("No config version recorded yet: write firstmile.yaml (see docs/config.md).")


@config_app.command("diff")
@friendly
def config_diff(
    a: Annotated[str, typer.Argument(help="A version id, a unique prefix, or `current`.")],
    b: Annotated[str, typer.Argument(help="Another one.")] = "current",
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """The unified diff of two config versions' files (`current`: the file in use)."""
    with open_workspace(home) as fm:
        diff = fm.config_diff(a, b)
    if as_json:
        print_json(diff)
        return
    if not diff["diff"]:
        out.print(f"{diff['a']['version_id']} and {diff['b']['version_id']}: the same file")
        return
    styles = {"+": "green", "-": "red", "@": "cyan"}
    for line in diff["diff"].splitlines():
        style = None if line.startswith(("+++", "---")) else styles.get(line[:1])
        out.print(line, style=style, markup=False, highlight=False, soft_wrap=True)


def _change_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)


@app.command()
@friendly
def simulate(
    config: Annotated[Path, typer.Option("--config", help="The candidate config file to compare.")],
    home: HomeOption = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Profiles to replay (all).")] = None,
    examples: Annotated[int, typer.Option(min=0, max=100, help="Examples to show.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Replay the stored profiles through the current and a candidate config, and report
    how many users' plans change, how, and examples (nothing is written)."""
    from firstmile.config import load_config

    candidate = load_config(config)
    with (
        open_workspace(home) as fm,
        Progress(
            TextColumn("replaying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            disable=as_json,
        ) as progress,
    ):
        total = fm.store.profile_stats()["profiles"]
        task = progress.add_task("simulate", total=min(total, limit or total))
        report = fm.simulate(
            candidate, limit=limit, examples=examples, progress=lambda: progress.advance(task)
        )
    if as_json:
        print_json(report)
        return
    out.print(
        f"{report['changed']} of {report['profiles']} users' plans change "
        f"(current {report['current']} → candidate {report['candidate']})"
    )
    slots = Table("slot", "users changed", title="by slot")
    for slot, count in report["slots"].items():
        slots.add_row(slot, str(count))
    out.print(slots)
    if report["segments"]:
        segments = Table("segment", "members", "plans changed", title="by segment (candidate)")
        for key, counts in report["segments"].items():
            segments.add_row(key, str(counts["members"]), str(counts["changed"]))
        out.print(segments)
    for change in report["examples"]:
        if change["rule"] is not None:
            why = f"rule {change['rule']}"
        elif change["rule_before"] is not None:
            why = f"rule {change['rule_before']} no longer applies ({change['source']})"
        else:
            why = change["source"]
        out.print(
            f"  {change['user']}  {change['slot']}: {_change_text(change['before'])} → "
            f"{_change_text(change['after'])}  ({why})",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@app.command()
@friendly
def decide(
    user: Annotated[str, typer.Argument(help="The user id (or anonymous id with --anonymous).")],
    anonymous: Annotated[
        bool, typer.Option("--anonymous", help="USER is an anonymous id.")
    ] = False,
    context: Annotated[
        str | None,
        typer.Option(help='The request context as JSON, e.g. \'{"locale": "fr-FR"}\'.'),
    ] = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the onboarding plan this user gets now, with the reason for every slot.

    Nothing is written: no event, and no exposure is logged.
    """
    try:
        parsed = {} if context is None else orjson.loads(context)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"--context is not valid JSON: {exc}.", field="context") from exc
    body = {"anonymousId" if anonymous else "userId": user, "context": parsed}
    with open_workspace(home) as fm:
        plan = fm.decide(body, log_exposures=False)
    if as_json:
        print_json(plan)
        return
    print_plan(out, plan)


@app.command()
@friendly
def status(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """Counts: events accepted/deduplicated/quarantined, profiles, consent."""
    with open_workspace(home) as fm:
        summary = fm.summary()
    if as_json:
        print_json(summary)
        return
    out.print_json(orjson.dumps(summary).decode())


@app.command()
@friendly
def demo(
    users: Annotated[int, typer.Option(min=10, help="Simulated users.")] = 400,
    home: Annotated[Path, typer.Option(help="Demo workspace (recreated).")] = Path(".demo"),
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    as_json: Annotated[
        bool, typer.Option("--json", help="Report on stderr; one JSON document on stdout.")
    ] = False,
) -> None:
    """Simulate an onboarding population against a real server and summarize it."""
    from firstmile.demo.run import RECORD_FILE, run_demo

    code = run_demo(home=home, users=users, seed=seed, console=err if as_json else out)
    if as_json:
        record_file = home / RECORD_FILE
        sent = orjson.loads(record_file.read_bytes()) if record_file.is_file() else None
        stored = None
        if code == 0:
            with open_workspace(home) as fm:
                stored = fm.summary()
        print_json({"exit_code": code, "home": str(home), "sent": sent, "stored": stored})
    raise typer.Exit(code)


@app.command()
def version() -> None:
    """Print the version."""
    out.print(__version__)


def main() -> None:
    """Entry point of the ``firstmile`` script."""
    app()
