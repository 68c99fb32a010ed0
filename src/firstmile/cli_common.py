"""What every ``firstmile`` command shares: the consoles, the common options, opening a
workspace, printing one JSON document, and turning user errors into exit codes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import orjson
import typer
from rich.console import Console

from firstmile.errors import FirstmileError
from firstmile.service import Firstmile
from firstmile.settings import Settings, load_settings

out = Console()
err = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", envvar="FIRSTMILE_HOME", help="Workspace folder (default: .)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Turn user errors into a message and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except FirstmileError as exc:
            err.print(f"[bold red]error:[/] {exc.message}", highlight=False)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def settings_for(home: Path | None) -> Settings:
    """The settings of the workspace in ``home`` (default: the current folder)."""
    return load_settings(home=home)


@contextmanager
def open_workspace(home: Path | None) -> Iterator[Firstmile]:
    """The library on the workspace in ``home``, closed when the block ends."""
    with Firstmile.open(settings_for(home)) as fm:
        yield fm


def print_json(data: Any) -> None:
    """Exactly one JSON document on stdout (for scripts)."""
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
