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

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from firstmile.clock import Clock
from firstmile.config.loader import load_config
from firstmile.config.model import CONFIG_FILE_NAME, OnboardingConfig
from firstmile.config.problems import ConfigFileError, ConfigProblem
from firstmile.config.rule_check import RuleFinding, rule_problems


def default_config_path(home: Path | None) -> Path:
    """``firstmile.yaml`` in the workspace folder (the current folder by default)."""
    return (home if home is not None else Path()) / CONFIG_FILE_NAME


@dataclass(frozen=True, slots=True)
class CheckReport:
    """A valid config, or the error listing every problem.

    ``profiles`` is how many stored profiles the rules were also run on (``None``: not
    run), and ``profile_findings`` what that found beyond the file's own check.
    """

    file: Path
    config: OnboardingConfig | None = None
    error: ConfigFileError | None = None
    profiles: int | None = None
    profile_findings: tuple[RuleFinding, ...] = ()
    profile_warnings: tuple[ConfigProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def exit_code(self) -> int:
        return 0 if self.error is None else self.error.exit_code

    @property
    def rule_findings(self) -> tuple[RuleFinding, ...]:
        """What the rule check found: on sample users, then on the stored profiles."""
        own = () if self.config is None else self.config.rule_findings
        return (*own, *self.profile_findings)

    def with_profile_findings(self, profiles: int, findings: Sequence[RuleFinding]) -> CheckReport:
        """This report with what the rules did on ``profiles`` stored profiles.

        What the file's own check already reported is left out; a conflict makes the
        report an error, listing the conflicts, like a problem of the file.
        """
        assert self.config is not None, "only a valid config is run on profiles"
        known = {(f.kind, f.rule.key) for f in self.config.rule_findings}
        fresh = tuple(f for f in findings if (f.kind, f.rule.key) not in known)
        errors, warnings = rule_problems(self.config, fresh, file=str(self.file), profiles=profiles)
        checked = replace(self, profiles=profiles, profile_findings=fresh)
        if errors:
            return replace(checked, error=ConfigFileError(errors))
        return replace(checked, profile_warnings=tuple(warnings))

    def to_json(self) -> dict[str, Any]:
        findings = [f.to_json() for f in self.rule_findings]
        checked = {"profiles_checked": self.profiles}
        if self.config is not None and self.error is None:
            summary = self.config.summary()
            summary["warnings"].extend(w.to_json() for w in self.profile_warnings)
            summary["rule_findings"] = findings
            return {"ok": True, **summary, **checked, "file": str(self.file), "problems": []}
        problems = [] if self.error is None else [p.to_json() for p in self.error.problems]
        return {
            "ok": False,
            "file": str(self.file),
            "problems": problems,
            "rule_findings": findings,
            **checked,
        }

    def lines(self) -> list[str]:
        """What the command prints: a summary, or the heading then one problem per line."""
        if self.config is not None and self.error is None:
            c = self.config
            traits = "traits not declared" if c.traits is None else f"{len(c.traits)} traits"
            lines = [
                f"ok: {self.file} (version {c.version}, version id {c.version_id}): "
                f"{len(c.segments)} segments, {len(c.threshold_segments)} threshold segments, "
                f"{len(c.scores)} scores, {len(c.saved_groups)} saved groups, {traits}, "
                f"{len(c.onboarding.rules)} rules"
            ]
            if self.profiles is not None:
                lines.append(f"rules run on {self.profiles} stored profiles: no conflict")
            return lines
        return [] if self.error is None else self.error.message.splitlines()

    def warning_lines(self) -> list[str]:
        """Each warning of a valid file as ``warning: file:line: field: message``."""
        if self.config is None or self.error is not None:
            return []
        return [f"warning: {w}" for w in (*self.config.warnings, *self.profile_warnings)]


def check_file(path: Path, *, clock: Clock | None = None) -> CheckReport:
    """Load ``path`` and report; never raises for a bad file."""
    try:
        return CheckReport(path, config=load_config(path, clock=clock))
    except ConfigFileError as exc:
        return CheckReport(path, error=exc)
