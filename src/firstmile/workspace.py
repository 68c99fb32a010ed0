"""``firstmile init``: a workspace folder with settings, a database, a write and a server key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from firstmile.service import Firstmile
from firstmile.settings import SETTINGS_FILE_NAME, load_settings

SETTINGS_TEMPLATE = """\
# firstmile settings. Environment variables FIRSTMILE_<NAME> override these.
# Every setting is listed in docs/settings.md.
database_url = "sqlite:///firstmile.db"
host = "127.0.0.1"
port = 8300

# What applies when a user has said nothing: "opt-out" (granted until denied)
# or "opt-in" (denied until granted). `necessary` is always granted.
consent_analytics = "opt-out"
consent_personalization = "opt-out"
consent_marketing = "opt-in"
"""


@dataclass(frozen=True, slots=True)
class Workspace:
    """What `init` created."""

    home: Path
    settings_file: Path
    database_url: str
    write_key: str
    created_settings: bool
    server_key: str


def init_workspace(home: Path) -> Workspace:
    """Create (or complete) a workspace in ``home`` and issue a new write and server key.

    The write key only sends events (it may sit in a browser); the server key reads
    profiles and segments (keep it on your servers). An existing settings file is kept;
    running ``init`` again only adds keys.
    """
    home = home.expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    settings_file = home / SETTINGS_FILE_NAME
    created = not settings_file.exists()
    if created:
        settings_file.write_text(SETTINGS_TEMPLATE, encoding="utf-8")
    settings = load_settings(home=home)
    with Firstmile.open(settings) as fm:
        write_key = fm.create_key("write", label="created by firstmile init")
        server_key = fm.create_key("server", label="created by firstmile init")
    return Workspace(
        home=home,
        settings_file=settings_file,
        database_url=settings.resolved_database_url,
        write_key=write_key,
        created_settings=created,
        server_key=server_key,
    )
