"""What is wrong with a config file: problems with file, line and field, and their error.

>>> problem = ConfigProblem("firstmile.yaml", 12, ("segments", 2, "key"), "Write a slug.")
>>> str(problem)
'firstmile.yaml:12: segments[2].key: Write a slug.'
>>> err = ConfigFileError([problem])
>>> print(err.message)
firstmile.yaml is not a valid firstmile config (1 problem):
firstmile.yaml:12: segments[2].key: Write a slug.
>>> err.exit_code, err.to_body()["problems"][0]["line"]
(2, 12)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from firstmile.errors import ConfigError

FieldPath = tuple[str | int, ...]

_PLAIN_PART = re.compile(r"[A-Za-z0-9_$-]+")


def render_field(path: FieldPath) -> str:
    """A path in the file as people read it: ``segments[2].condition.age.$in``.

    Keys that are not plain words are quoted, so dotted attribute names stay one part.

    >>> render_field(("scores", 0, "terms", 1, "weight"))
    'scores[0].terms[1].weight'
    >>> render_field(("segments", 0, "condition", "events.Completed Step.count_7d", "$gte"))
    'segments[0].condition["events.Completed Step.count_7d"].$gte'
    >>> render_field(())
    ''
    """
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _PLAIN_PART.fullmatch(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{json.dumps(part, ensure_ascii=False)}]")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing to fix: where (file, 1-based line, field path) and what to write instead."""

    file: str
    line: int | None
    path: FieldPath
    message: str

    @property
    def field(self) -> str:
        return render_field(self.path)

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.path else f"{where}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "field": self.field, "message": self.message}


def sort_problems(problems: Iterable[ConfigProblem]) -> list[ConfigProblem]:
    """In file order (problems without a line first), each reported once."""
    unique = dict.fromkeys(problems)
    return sorted(unique, key=lambda p: (p.file, p.line or 0))


class ConfigFileError(ConfigError):
    """The onboarding config file is invalid; ``problems`` lists every problem found.

    Exit code 2 (bad input), like other input a user can fix, rather than ConfigError's 78:
    the file is what the user asked to check, not the workspace's settings.
    """

    code = "invalid_config"
    status = 400
    exit_code = 2

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems = tuple(sort_problems(problems))
        if not self.problems:
            raise ValueError("a ConfigFileError needs at least one problem")
        files = ", ".join(dict.fromkeys(p.file for p in self.problems))
        count = len(self.problems)
        head = f"{files} is not a valid firstmile config ({count} problem{'s' * (count != 1)}):"
        super().__init__(
            "\n".join([head, *(str(p) for p in self.problems)]),
            field=self.problems[0].field or None,
        )

    def to_body(self) -> dict[str, Any]:
        body = super().to_body()
        body["problems"] = [p.to_json() for p in self.problems]
        return body
