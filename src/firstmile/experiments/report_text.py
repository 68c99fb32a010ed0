"""A plain-text rendering of a :class:`~firstmile.experiments.report.Report` for the CLI.

No styling library: :func:`render_text` returns lines of aligned columns (the CLI may
colour or wrap them). Rates and relative effects are percentages, other values are shown
with four significant digits, and a number that could not be computed is ``-``.
"""

from __future__ import annotations

from collections.abc import Sequence

from firstmile.experiments.comparison import Comparison
from firstmile.experiments.report import MetricReport, Report
from firstmile.stats import Interval

_HEADER = ("variant", "users", "value", "effect", "relative [CI]", "p", "p adj.", "win", "seq.")


def render_text(report: Report) -> str:
    """The report as a plain-text table (lines joined by newlines, no trailing newline)."""
    lines = [
        f"Experiment {report.experiment}: {report.users:,} users",
        f"Recommendation: {report.recommendation.text}",
        "",
    ]
    rows = [("variant", "users", "share", "expected")]
    for variant in report.variants:
        share = _percent(variant.observed_share, 1)
        rows.append((variant.key, f"{variant.users:,}", share, _percent(variant.expected_share, 1)))
    lines.extend(_table(rows))
    srm = report.srm
    if srm.p_value is None:
        lines.append("Sample ratio: no users yet")
    else:
        verdict = "MISMATCH" if srm.mismatch else "healthy"
        lines.append(
            f"Sample ratio: p = {srm.p_value:.3g} ({verdict}, threshold {srm.threshold:g})"
        )
    correction = {"holm": "Holm", "bh": "Benjamini-Hochberg", None: "none"}[report.correction]
    lines.append(
        f"alpha = {report.alpha:g}, sequential alpha = {report.sequential_alpha:.3g}, "
        f"correction: {correction}"
    )
    if report.looks is None:
        lines.append(f"sequential test: always valid (tuned for {report.tuning_n:,} users)")
    else:
        lines.append(
            f"sequential test: group-sequential, {report.looks} planned looks up to "
            f"{report.tuning_n:,} users"
        )
    for metric in report.metrics:
        lines.extend(["", _title(metric)])
        lines.extend("  " + line for line in _table(_metric_rows(metric)))
    if report.warnings:
        lines.extend(["", "Warnings:"])
        lines.extend(f"  - {text}" for text in report.warnings)
    return "\n".join(lines)


def _title(metric: MetricReport) -> str:
    good = "higher" if metric.direction == "increase" else "lower"
    role = "primary" if metric.primary else "guardrail" if metric.guardrail else "secondary"
    return f"{metric.key} ({metric.kind}, {role}, {good} is better)"


def _metric_rows(metric: MetricReport) -> list[tuple[str, ...]]:
    rate = metric.kind == "conversion"
    by_variant = {c.variant: c for c in metric.comparisons}
    rows: list[tuple[str, ...]] = [_HEADER]
    for value in metric.values:
        shown = _percent(value.value, 2) if rate else _number(value.value)
        comparison = by_variant.get(value.variant)
        if comparison is None:
            rows.append((value.variant, f"{value.users:,}", shown, "", "", "", "", "", ""))
            continue
        rows.append((value.variant, f"{value.users:,}", shown, *_effects(comparison, rate)))
    return rows


def _effects(c: Comparison, rate: bool) -> tuple[str, ...]:
    if c.absolute is None:
        absolute = "-"
    else:
        absolute = f"{c.absolute * 100:+.2f} pp" if rate else f"{c.absolute:+.4g}"
    relative = f"{_signed_percent(c.relative)} {_interval(c.relative_ci)}"
    verdict = c.verdict + (" (guardrail!)" if c.guardrail_breached else "")
    return (
        absolute,
        relative,
        _p(c.p_value),
        _p(c.adjusted_p_value),
        _percent(c.chance_to_win, 1),
        verdict,
    )


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _percent(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value * 100:.{digits}f}%"


def _signed_percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:+.1f}%"


def _interval(value: Interval | None) -> str:
    if value is None:
        return "[-]"
    return f"[{value.lower * 100:+.1f}%, {value.upper * 100:+.1f}%]"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _p(value: float | None) -> str:
    if value is None:
        return "-"
    return "<0.0001" if value < 1e-4 else f"{value:.4f}"
