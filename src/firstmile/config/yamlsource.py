"""YAML text → plain data plus the line of every key and value.

PyYAML composes the node tree (each node keeps its position); this module turns it into
plain data itself, so that it can record lines and refuse what a config file should not
contain. The rules, documented in ``docs/config.md``:

* YAML 1.2 core scalars: only ``true``/``false`` are booleans (``NO`` and ``on`` are text),
  ``10:30`` and ``2026-01-01`` are text, ``0x1F``/``0o17`` are integers, ``.inf`` a float.
* Mapping keys are always text, as written. A key written twice in one mapping is a
  problem, and so are merge keys (``<<``) and tags other than the core ones.
* Aliases (``*name``) may repeat a value, but a value may not contain itself and a file
  may not expand to more than ``MAX_NODES`` values or nest deeper than ``MAX_DEPTH``.

>>> doc = parse_yaml("version: 1\\nsegments:\\n  - key: a\\n    name: A\\n", "f.yaml")
>>> doc.data["segments"][0]["key"], doc.line(("segments", 0, "name"))
('a', 4)
>>> parse_yaml("a: 1\\na: 2\\n", "f.yaml").problems[0].message
'Duplicate key `a` (first written on line 1); keep one of them.'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from yaml.composer import Composer
from yaml.error import MarkedYAMLError, YAMLError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from firstmile.config.problems import ConfigProblem, FieldPath

MAX_NODES: Final = 100_000
MAX_DEPTH: Final = 64

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


class _CoreResolver(BaseResolver):
    """The YAML 1.2 core schema's implicit types (PyYAML alone speaks YAML 1.1)."""


_CoreResolver.add_implicit_resolver(
    _BOOL, re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z"), None
)
_CoreResolver.add_implicit_resolver(_NULL, re.compile(r"(?:~|null|Null|NULL|)\Z"), None)
_CoreResolver.add_implicit_resolver(
    _INT, re.compile(r"(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z"), None
)
_CoreResolver.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z"
    ),
    None,
)


class _Composer(Reader, Scanner, Parser, Composer, _CoreResolver):
    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _CoreResolver.__init__(self)


def _scalar(node: ScalarNode) -> Any:
    text: str = node.value
    if node.tag == _STR:
        return text
    if node.tag == _NULL:
        return None
    if node.tag == _BOOL:
        return text.lower() == "true"
    if node.tag == _INT:
        if text.startswith(("0o", "0x")):
            return int(text[2:], 8 if text[1] == "o" else 16)
        return int(text)
    if node.tag == _FLOAT:
        lowered = text.lower()
        if lowered.endswith(".inf"):
            return float("-inf") if lowered.startswith("-") else float("inf")
        if lowered == ".nan":
            return float("nan")
        return float(text)
    raise _Refused(_tag_problem(node.tag))


def _tag_problem(tag: str) -> str:
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    return f"The tag `{shown}` is not supported in a config file; remove it."


class _Refused(Exception):
    """A node the converter will not turn into data (becomes a problem)."""


@dataclass
class YamlDocument:
    """The data of one YAML document and where each part was written."""

    file: str
    data: Any = None
    # path -> (line of the key or list item, line where the value starts), 1-based
    lines: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    problems: list[ConfigProblem] = field(default_factory=list)

    def line(self, path: FieldPath, *, at_key: bool = False) -> int | None:
        """The line of ``path``, or of the nearest enclosing part that was written."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(path[:end])
            if found is not None:
                key_line, value_line = found
                return key_line if at_key and end == len(path) else value_line
        return None

    def problem(self, path: FieldPath, message: str, *, at_key: bool = False) -> ConfigProblem:
        return ConfigProblem(self.file, self.line(path, at_key=at_key), path, message)


class _Builder:
    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.count = 0
        self.open: set[int] = set()

    def build(self, node: Node, path: FieldPath, key_line: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _Refused(f"The file expands to more than {MAX_NODES} values; check aliases.")
        self.doc.lines[path] = (key_line, node.start_mark.line + 1)
        if isinstance(node, ScalarNode):
            return _scalar(node)
        if len(path) > MAX_DEPTH:
            raise _Refused(f"Values nest deeper than {MAX_DEPTH} levels; flatten them.")
        if id(node) in self.open:
            raise _Refused("This alias refers to a value that contains it; remove the alias.")
        self.open.add(id(node))
        try:
            if isinstance(node, SequenceNode) and node.tag == _SEQ:
                return [
                    self.build(item, (*path, i), item.start_mark.line + 1)
                    for i, item in enumerate(node.value)
                ]
            if isinstance(node, MappingNode) and node.tag == _MAP:
                return self.mapping(node, path)
            raise _Refused(_tag_problem(node.tag))
        finally:
            self.open.discard(id(node))

    def mapping(self, node: MappingNode, path: FieldPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                self.doc.problems.append(
                    ConfigProblem(
                        self.doc.file,
                        line,
                        path,
                        "A key must be plain text, not a list or mapping.",
                    )
                )
                continue
            key = str(key_node.value)
            if key == "<<" and key_node.style is None:
                self.doc.problems.append(
                    ConfigProblem(
                        self.doc.file,
                        line,
                        (*path, key),
                        "Merge keys (<<) are not supported; write the fields out, "
                        "or repeat a whole value with an alias (*name).",
                    )
                )
                continue
            if key in first_line:
                self.doc.problems.append(
                    ConfigProblem(
                        self.doc.file,
                        line,
                        (*path, key),
                        f"Duplicate key `{key}` (first written on line {first_line[key]}); "
                        "keep one of them.",
                    )
                )
                continue
            first_line[key] = line
            result[key] = self.build(value_node, (*path, key), line)
        return result


def parse_yaml(text: str, file: str) -> YamlDocument:
    """Parse one YAML document; syntax errors and refused constructs become problems."""
    doc = YamlDocument(file)
    try:
        node = _Composer(text).get_single_node()
        if node is not None:
            doc.data = _Builder(doc).build(node, (), 1)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + 1
        what = exc.problem or exc.context or "cannot be read"
        doc.problems.append(
            ConfigProblem(
                file,
                line,
                (),
                f"YAML syntax: {what}; check this line's indentation, quotes and brackets.",
            )
        )
    except YAMLError as exc:  # e.g. a control character the reader refuses
        doc.problems.append(
            ConfigProblem(file, None, (), "YAML cannot be read: " + " ".join(str(exc).split()))
        )
    except _Refused as exc:
        doc.problems.append(doc.problem(_last_path(doc), str(exc)))
    except RecursionError:
        doc.problems.append(
            ConfigProblem(file, None, (), f"Values nest too deeply; keep under {MAX_DEPTH} levels.")
        )
    return doc


def _last_path(doc: YamlDocument) -> FieldPath:
    """The path recorded last: where the builder stopped."""
    return next(reversed(doc.lines), ()) if doc.lines else ()
