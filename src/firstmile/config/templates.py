"""User-written message templates: Jinja2 in a sandbox, compiled once at config load.

A template can only read the variables in :data:`TEMPLATE_VARIABLES`; it cannot reach
Python internals (Jinja2's ``SandboxedEnvironment``), its output is HTML-escaped
(autoescape), and ``range()`` is capped at :data:`MAX_RANGE` items so a template cannot
stall a decision. A missing trait renders as empty text, and so does a field of one
(``traits.company.name`` for a user without ``company``); write
``{{ traits.first_name | default("there") }}`` for a fallback.

Most templates read a few traits by name and nothing else; their output is cached by the
values of those traits, so the same greeting is not rendered again for every decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from jinja2 import ChainableUndefined, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import escape

# What a template may read (docs/decide.md lists what each holds).
TEMPLATE_VARIABLES: Final = frozenset(
    {"traits", "computed", "user_id", "context", "segments", "scores", "locale"}
)
MAX_RANGE: Final = 1000
CACHED_RENDERS: Final = 4096  # outputs kept per template
_MISSING: Final = object()
# Roots whose values (scalars) can key the output cache, with the traits read by name.
_SCALAR_ROOTS: Final = frozenset({"locale", "user_id"})


class _Sandbox(SandboxedEnvironment):
    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        # The sandbox's own range() allows 100,000 items; nested loops of that would stall.
        if __obj is range and len(range(*args)) > MAX_RANGE:
            raise OverflowError(f"range() is limited to {MAX_RANGE} items in templates")
        return super().call(__context, __obj, *args, **kwargs)


def _environment() -> SandboxedEnvironment:
    env = _Sandbox(autoescape=True, auto_reload=False, cache_size=0, undefined=ChainableUndefined)
    env.globals = {"range": range}  # no cycler/joiner/namespace/lipsum/dict: keep it small
    return env


_ENV: Final = _environment()


class TemplateProblem(ValueError):
    """A template that cannot compile, or reads a variable that does not exist."""


@dataclass(frozen=True, slots=True)
class CompiledTemplate:
    """A template ready to render; ``traits_read`` are the ``traits.<name>`` it reads.

    ``cache_roots`` is set when the output depends only on those traits and the scalar
    variables named in it: the output is then cached by their values.
    """

    source: str
    _template: Any = field(repr=False, compare=False)
    constant: bool = False  # no Jinja syntax: render returns the source as is (escaped)
    traits_read: frozenset[str] = frozenset()
    cache_roots: tuple[str, ...] | None = None
    roots: frozenset[str] = frozenset()  # the variables it reads
    _cache: dict[tuple[Any, ...], str] = field(default_factory=dict, repr=False, compare=False)

    def render(self, variables: Mapping[str, Any]) -> str:
        """Render with ``variables``; raises whatever the template raises (caller falls back)."""
        if self.constant:
            return str(self._template)
        if self.cache_roots is None:
            return str(self._template.render(variables))
        traits = variables.get("traits") or {}
        key = (
            *(traits.get(name, _MISSING) for name in sorted(self.traits_read)),
            *(variables.get(root) for root in self.cache_roots),
        )
        try:
            cached = self._cache.get(key)
        except TypeError:  # a list or object trait: not hashable, render it
            return str(self._template.render(variables))
        if cached is None:
            if len(self._cache) >= CACHED_RENDERS:
                self._cache.clear()
            cached = self._cache[key] = self._template.render(variables)
        return cached


def _traits_read(ast: nodes.Template) -> frozenset[str]:
    names = set()
    for node in ast.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name == "traits":
            names.add(node.attr)
    for item in ast.find_all(nodes.Getitem):
        if (
            isinstance(item.node, nodes.Name)
            and item.node.name == "traits"
            and isinstance(item.arg, nodes.Const)
            and isinstance(item.arg.value, str)
        ):
            names.add(item.arg.value)
    return frozenset(names)


def compile_template(source: str) -> CompiledTemplate:
    """Compile ``source``, or raise :class:`TemplateProblem` saying what to fix.

    >>> compile_template("Hi {{ traits.name }}").render({"traits": {"name": "<b>Ana</b>"}})
    'Hi &lt;b&gt;Ana&lt;/b&gt;'
    """
    if "{" not in source:
        return CompiledTemplate(source, str(escape(source)), constant=True)
    try:
        ast = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(
            f"template syntax error on its line {exc.lineno}: {exc.message}"
        ) from None
    roots = meta.find_undeclared_variables(ast)
    unknown = sorted(roots - TEMPLATE_VARIABLES)
    if unknown:
        raise TemplateProblem(
            f"the template reads `{unknown[0]}`, which does not exist; templates can read "
            + ", ".join(f"`{name}`" for name in sorted(TEMPLATE_VARIABLES))
        )
    traits_read = _traits_read(ast)
    return CompiledTemplate(
        source,
        _ENV.from_string(ast),
        traits_read=traits_read,
        cache_roots=_cache_roots(ast, roots),
        roots=frozenset(roots),
    )


def _cache_roots(ast: nodes.Template, roots: set[str]) -> tuple[str, ...] | None:
    """The scalar roots keying the output cache, or ``None`` when the output may depend
    on more than named traits and scalars (a loop over ``traits``, ``context``, ...)."""
    if not roots <= {"traits"} | _SCALAR_ROOTS:
        return None
    names = [n for n in ast.find_all(nodes.Name) if n.name == "traits"]
    by_name = [a for a in ast.find_all(nodes.Getattr) if isinstance(a.node, nodes.Name)] + [
        i
        for i in ast.find_all(nodes.Getitem)
        if isinstance(i.node, nodes.Name) and isinstance(i.arg, nodes.Const)
    ]
    if len(names) != sum(1 for n in by_name if getattr(n.node, "name", None) == "traits"):
        return None  # `traits` used whole somewhere
    # Assignments can shadow a root name, and a call (`traits.get("n")`) reads more than
    # an attribute; keep it simple and do not cache those.
    if any(True for _ in ast.find_all((nodes.Assign, nodes.For, nodes.Macro, nodes.Call))):
        return None
    return tuple(sorted(roots & _SCALAR_ROOTS))
