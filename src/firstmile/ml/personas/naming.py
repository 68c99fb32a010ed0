# ruff: noqa: N803 - X is the feature matrix, as scikit-learn names it
"""Readable names, slugs and descriptions for clusters, from how their centres differ."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from firstmile.ml.personas.model import (
    OUTLIER_KEY,
    OUTLIER_NAME,
    ColumnKind,
    Distinction,
    FloatArray,
    Persona,
)

# A column sets a persona apart when its centre is at least this many population
# standard deviations from the population mean (a "medium" effect size).
DISTINCT_Z: Final = 0.5
NAME_TERMS: Final = 3
DESCRIBED_TERMS: Final = 3
KEPT_DISTINCTIONS: Final = 5
SLUG_MAX: Final = 40
TYPICAL_NAME: Final = "typical"

_BOOLEAN_VALUES: Final = frozenset({"true", "false", "yes", "no", "1", "0"})
_NEGATIVE_VALUES: Final = frozenset({"false", "no", "0"})


@dataclass(frozen=True, slots=True)
class Readable:
    """The columns in the units people read: shares for binary columns."""

    kinds: tuple[ColumnKind, ...]
    values: FloatArray  # rows x columns; binary columns as 0/1 indicators
    scaled: bool  # True when numeric values are the standardised ones (no raw given)


def readable(X: FloatArray, columns: Sequence[str], raw: FloatArray | None) -> Readable:
    source = X if raw is None else raw
    kinds: list[ColumnKind] = []
    values = np.array(source, dtype=np.float64, copy=True)
    for j, column in enumerate(columns):
        col = source[:, j]
        low, high = float(col.min()), float(col.max())
        if np.all((col == 0.0) | (col == 1.0)):
            kinds.append("binary")
        elif "=" in column and np.all((col == low) | (col == high)):
            # A standardised one-hot column: two values, the larger one means "yes".
            kinds.append("binary")
            values[:, j] = col == high
        else:
            kinds.append("numeric")
    return Readable(tuple(kinds), values, scaled=raw is None)


def slugify(text: str, limit: int = SLUG_MAX) -> str:
    """Lowercase ``[a-z0-9-]``, at most ``limit`` characters, cut at a word boundary.

    >>> slugify("mobile · low sessions · country=DE")
    'mobile-low-sessions-country-de'
    >>> slugify("Ünïcode only ✓")
    'n-code-only'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(slug) > limit:
        cut = slug[: limit + 1]
        slug = cut[: cut.rfind("-")] if "-" in cut[1:] else slug[:limit]
        slug = slug.strip("-")[:limit]
    return slug or "persona"


def _users(count: int) -> str:
    return f"{count:,} user" if count == 1 else f"{count:,} users"


def _one_hot_parts(column: str) -> tuple[str, str] | None:
    if "=" not in column:
        return None
    attribute, _, value = column.partition("=")
    return attribute, value


def term(distinction: Distinction) -> str:
    """The few words a distinction reads as: "mobile", "not mobile", "high sessions"."""
    column, positive = distinction.column, distinction.z > 0
    if distinction.kind == "numeric":
        return f"{'high' if positive else 'low'} {column}"
    parts = _one_hot_parts(column)
    if parts is None or parts[1].lower() in _BOOLEAN_VALUES:
        # A flag (is_paid, has_team=true): the attribute says what it is.
        name = column if parts is None else parts[0]
        if parts is not None and parts[1].lower() in _NEGATIVE_VALUES:
            positive = not positive
        return name if positive else f"not {name}"
    attribute, level = parts
    if level in ("(missing)", "missing"):
        return f"no {attribute}" if positive else f"has {attribute}"
    if level in ("(other)", "other"):
        return f"other {attribute}" if positive else f"usual {attribute}"
    # A word names itself ("mobile", "DE"); a number or a path needs its attribute.
    shown = level if level[:1].isalpha() else f"{attribute} {level}"
    return shown if positive else f"not {shown}"


def _number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _phrase(distinction: Distinction, scaled: bool) -> str:
    if distinction.kind == "binary":
        label = term(Distinction(distinction.column, "binary", 1.0, 0.0, 0.0))
        return f"{distinction.value:.0%} {label} vs {distinction.overall:.0%} overall"
    if scaled:
        return f"{distinction.column} {distinction.z:+.1f} sd from the average"
    return (
        f"{_number(distinction.value)} {distinction.column} vs "
        f"{_number(distinction.overall)} overall"
    )


def distinctions(
    data: Readable,
    X: FloatArray,
    labels: npt.NDArray[np.intp],
    cluster: int,
    columns: Sequence[str],
) -> list[Distinction]:
    """Every column of one cluster, strongest difference first."""
    members = labels == cluster
    mean, std = X.mean(axis=0), X.std(axis=0)
    centre = X[members].mean(axis=0)
    # A constant column cannot tell clusters apart: z = 0 rather than a division by 0.
    z = np.divide(centre - mean, std, out=np.zeros_like(mean), where=std > 0)
    value = data.values[members].mean(axis=0)
    overall = data.values.mean(axis=0)
    order = sorted(range(len(columns)), key=lambda j: (-abs(z[j]), columns[j]))
    return [
        Distinction(columns[j], data.kinds[j], float(z[j]), float(value[j]), float(overall[j]))
        for j in order
    ]


def _nameable(ranked: Sequence[Distinction]) -> list[Distinction]:
    """The distinctions names and descriptions use: "not desktop" goes when "mobile" is in."""
    positive = {
        parts[0]
        for d in ranked
        if d.kind == "binary" and d.z >= DISTINCT_Z and (parts := _one_hot_parts(d.column))
    }
    return [
        d
        for d in ranked
        if not (
            d.kind == "binary"
            and d.z < 0
            and (parts := _one_hot_parts(d.column)) is not None
            and parts[0] in positive
        )
    ]


def name_personas(
    ranked: Sequence[Sequence[Distinction]],
    sizes: Sequence[int],
    scaled: bool,
    *,
    with_outliers: int | None,
) -> tuple[list[Persona], Persona | None]:
    """Unique names and slugs for the clusters (and the outlier persona, if any)."""
    total = sum(sizes) + (with_outliers or 0)
    usable = [_nameable(r) for r in ranked]
    candidates = [[term(d) for d in r] for r in usable]
    strong = [sum(abs(d.z) >= DISTINCT_Z for d in r) for r in usable]
    used_terms = [min(NAME_TERMS, n) for n in strong]

    def name_of(i: int) -> str:
        chosen = candidates[i][: used_terms[i]]
        return " · ".join(chosen) if chosen else TYPICAL_NAME

    # Disambiguate by adding the next most distinguishing column until names differ.
    while True:
        names = [name_of(i) for i in range(len(ranked))]
        clashes = [i for i in range(len(names)) if names.count(names[i]) > 1]
        growable = [i for i in clashes if used_terms[i] < len(candidates[i])]
        if not growable:
            break
        for i in growable:
            used_terms[i] += 1
    names = _suffixed(names)
    keys = _unique_slugs([slugify(n) for n in names], reserved={OUTLIER_KEY})

    personas = []
    for i, r in enumerate(ranked):
        shown = [d for d in usable[i][:DESCRIBED_TERMS] if abs(d.z) >= DISTINCT_Z] or r[:1]
        details = "; ".join(_phrase(d, scaled) for d in shown)
        share = sizes[i] / total if total else 0.0
        personas.append(
            Persona(
                key=keys[i],
                name=names[i],
                description=f"{_users(sizes[i])} ({share:.0%}): {details}.",
                size=sizes[i],
                share=share,
                distinctions=tuple(r[:KEPT_DISTINCTIONS]),
            )
        )
    outlier = None
    if with_outliers is not None:
        share = with_outliers / total if total else 0.0
        outlier = Persona(
            key=OUTLIER_KEY,
            name=OUTLIER_NAME,
            description=(
                f"{with_outliers:,} users ({share:.0%}) in no dense region: DBSCAN left "
                "them as noise; new users far from every persona land here too."
            ),
            size=with_outliers,
            share=share,
            distinctions=(),
            outlier=True,
        )
    return personas, outlier


def _suffixed(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if names.count(name) == 1 else f"{name} ({seen[name]})")
    return out


def _unique_slugs(slugs: list[str], reserved: set[str]) -> list[str]:
    used = set(reserved)
    out = []
    for slug in slugs:
        candidate, n = slug, 1
        while candidate in used:
            n += 1
            suffix = f"-{n}"
            candidate = slug[: SLUG_MAX - len(suffix)].rstrip("-") + suffix
        used.add(candidate)
        out.append(candidate)
    return out
