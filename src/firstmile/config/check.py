"""``firstmile config check``: validate a config file without applying it.

>>> import tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> (folder / "firstmile.yaml").write_text("version: 1\\n", encoding="utf-8")
11
>>> report = check_file(folder / "firstmile.yaml")
>>> report.ok, report.exit_code, report.to_json()["segments"]
(True, 0, 0)
>>> report = check_file(folder / "missing.yaml")
>>> report.exit_code, report.lines()[1].endswith("No such file; create it (docs/config.md has a complete example).")
(2, True)
"""  # noqa: E501

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firstmile.clock import Clock
from firstmile.config.loader import load_config
from firstmile.config.model import CONFIG_FILE_NAME, OnboardingConfig
from firstmile.config.problems import ConfigFileError


def default_config_path(home: Path | None) -> Path:
    """``firstmile.yaml`` in the workspace folder (the current folder by default)."""
    return (home if home is not None else Path()) / CONFIG_FILE_NAME


@dataclass(frozen=True, slots=True)
class CheckReport:
    """A valid config, or the error listing every problem."""

    file: Path
    config: OnboardingConfig | None = None
    error: ConfigFileError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def exit_code(self) -> int:
        return 0 if self.error is None else self.error.exit_code

    def to_json(self) -> dict[str, Any]:
        if self.config is not None:
            return {"ok": True, **self.config.summary(), "file": str(self.file), "problems": []}
        problems = [] if self.error is None else [p.to_json() for p in self.error.problems]
        return {"ok": False, "file": str(self.file), "problems": problems}

    def lines(self) -> list[str]:
        """What the command prints: a summary, or the heading then one problem per line."""
        if self.config is not None:
            c = self.config
            return [
                f"ok: {self.file} (version {c.version}, version id {c.version_id}): "
                f"{len(c.segments)} segments, {len(c.threshold_segments)} threshold segments, "
                f"{len(c.scores)} scores, {len(c.saved_groups)} saved groups"
            ]
        return [] if self.error is None else self.error.message.splitlines()


def check_file(path: Path, *, clock: Clock | None = None) -> CheckReport:
    """Load ``path`` and report; never raises for a bad file."""
    try:
        return CheckReport(path, config=load_config(path, clock=clock))
    except ConfigFileError as exc:
        return CheckReport(path, error=exc)
