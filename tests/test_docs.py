"""The docs say what the code does: every setting, command and reason is documented."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from firstmile import __version__
from firstmile.cli import app
from firstmile.events.model import QuarantineReason
from firstmile.settings import settings_reference

ROOT = Path(__file__).resolve().parents[1]


def _read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def test_settings_page_matches_the_settings_model() -> None:
    assert settings_reference() in _read("docs/settings.md"), (
        "docs/settings.md is stale: paste firstmile.settings.settings_reference() into it"
    )


def _command_paths() -> list[str]:
    group = typer.main.get_command(app)
    paths: list[str] = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        if sub:
            paths.extend(f"{name} {child}" for child in sub)
        else:
            paths.append(name)
    return paths


def test_every_cli_command_is_documented() -> None:
    page = _read("docs/cli.md")
    missing = [path for path in _command_paths() if f"firstmile {path}" not in page]
    assert not missing, f"docs/cli.md does not document: {missing}"


def test_every_quarantine_reason_is_documented() -> None:
    page = _read("docs/quarantine.md")
    missing = [reason.value for reason in QuarantineReason if f"`{reason.value}`" not in page]
    assert not missing


def test_changelog_top_entry_is_the_package_version() -> None:
    match = re.search(r"^## \[([^\]]+)\]", _read("CHANGELOG.md"), re.MULTILINE)
    assert match is not None
    assert match.group(1) == __version__


def test_readme_opens_with_the_two_commands() -> None:
    head = _read("README.md")[:400]
    assert "make demo" in head
    assert "make test" in head
