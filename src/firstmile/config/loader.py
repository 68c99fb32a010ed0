"""Read ``firstmile.yaml``: :func:`load_config` (a file) and :func:`parse_config` (text).

Both return a fully checked :class:`~firstmile.config.model.OnboardingConfig` or raise
:class:`~firstmile.config.problems.ConfigFileError` listing every problem with its file,
line and field. Nothing is half-loaded: a caller that keeps its current config when this
raises never runs an invalid one.

>>> config = parse_config('''
... version: 1
... segments:
...   - key: mobile_first
...     name: Mobile-first
...     condition: {device_type: {$in: [mobile, tablet]}}
... ''')
>>> [s.key for s in config.segments], config.segments[0].matches({"device_type": "mobile"})
(['mobile_first'], True)
>>> parse_config("version: 1\\nsegmnets: []\\n", source="firstmile.yaml")
Traceback (most recent call last):
...
firstmile.config.problems.ConfigFileError: firstmile.yaml is not a valid firstmile config (1 problem):
firstmile.yaml:2: segmnets: Unknown field `segmnets`. Did you mean `segments`? The fields here are: version, traits, saved_groups, segments, scores, catalog, flows, checklists, rules, defaults, limits, events, metrics, experiments, bandits, holdout, models.
"""  # noqa: E501

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Final

from firstmile.clock import Clock, SystemClock
from firstmile.config.build import build_config
from firstmile.config.model import OnboardingConfig
from firstmile.config.problems import ConfigFileError, ConfigProblem
from firstmile.config.yamlsource import parse_yaml

MAX_FILE_BYTES: Final = 5_000_000


def parse_config(
    text: str, *, source: str = "<string>", clock: Clock | None = None, check_rules: bool = True
) -> OnboardingConfig:
    """Parse and check config text; ``source`` names it in problems.

    ``check_rules=False`` skips the search for conflicting and shadowed rules
    (:mod:`firstmile.config.rule_check`), for tests of how the planner breaks ties; a
    file is always checked.
    """
    return _parse(text, source=source, path=None, clock=clock, check_rules=check_rules)


def _parse(
    text: str, *, source: str, path: Path | None, clock: Clock | None, check_rules: bool = True
) -> OnboardingConfig:
    if len(text) > MAX_FILE_BYTES:
        raise ConfigFileError(
            [ConfigProblem(source, None, (), f"The file is over {MAX_FILE_BYTES} bytes; split it.")]
        )
    doc = parse_yaml(text, source)
    loaded_at = (clock or SystemClock()).now()
    config = build_config(doc, loaded_at=loaded_at, source_path=path, check_rules=check_rules)
    return replace(config, source_text=text)


def load_config(path: Path | str, *, clock: Clock | None = None) -> OnboardingConfig:
    """Read and check the config file at ``path``."""
    path = Path(path)
    source = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        problem = "No such file; create it (docs/config.md has a complete example)."
        raise ConfigFileError([ConfigProblem(source, None, (), problem)]) from None
    except OSError as exc:
        problem = f"Cannot read the file ({exc.strerror or exc}); check the path and permissions."
        raise ConfigFileError([ConfigProblem(source, None, (), problem)]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problem = "The file is not UTF-8 text; save it as UTF-8."
        raise ConfigFileError([ConfigProblem(source, line, (), problem)]) from None
    return _parse(text.removeprefix("\ufeff"), source=source, path=path.resolve(), clock=clock)
