"""One feature pipeline for training and inference: attributes objects in, a matrix out.

A feature is declared by a :class:`FeatureSpec` (the config layer builds them from the
workspace's config) and reads one value from each attributes object — the same objects
conditions read (traits by name, computed traits, ``events.<name>.count``...). Training
fits a :class:`FeaturePipeline` on the users' rows; the fitted pipeline is stored with the
model, so inference turns a user into exactly the columns the model was trained on.

How values are read:

* ``kind="number"``: ``True``/``False`` count 1/0, numbers and numeric strings (``"12.5"``)
  are read as numbers; anything else (text, lists, NaN, ±inf, a missing key) is missing
  and filled per ``missing``. Then ``scale``: ``"standard"`` subtracts the training mean
  and divides by the standard deviation, ``"log"`` does the same after
  ``sign(x) * log1p(|x|)`` (``log1p`` for the usual non-negative counts and durations),
  ``"none"`` keeps the value.
* ``kind="flag"``: ``True``/``False``, ``"true"``/``"false"``/``"yes"``/``"no"`` (any case),
  and numbers (non-zero is true) give one 0/1 column; missing is filled per ``missing``
  (the median of the observed flags by default). Flags are not scaled.
* ``kind="category"``: one 0/1 column per level (``plan=pro``). Values are read as text
  (``1``, ``1.0`` and ``"1"`` are one level; ``True`` is ``"true"``). The
  ``max_categories`` most frequent levels get their own column, rarer ones share
  ``plan=(other)``; a missing value or empty text is its own level, ``plan=(missing)``.
  A level first seen at inference counts as ``(other)`` (no column set if training saw no
  rare level).
* ``event=...`` reads ``attributes["events"][event]["count" | "count_1d" | "count_7d"]``
  for ``window`` ``"all" | "1d" | "7d"``, without splitting the event name on dots. An
  event the user never sent counts 0, not missing.

Every output is finite: values are clipped to ±1e15 after scaling (real standardised
values are a few units; this only guards against absurd input such as ``1e308``).
A feature that is constant in the training rows is kept (its scale is 1, so it does
nothing) and listed in :attr:`FeaturePipeline.constant`, so training can warn.

Examples
--------
>>> specs = [
...     FeatureSpec("plan", path="plan", kind="category"),
...     FeatureSpec("sessions", path="sessions", scale="none"),
...     FeatureSpec("invites_7d", event="Invited Teammate", window="7d", scale="none"),
... ]
>>> rows = [
...     {"plan": "pro", "sessions": 3, "events": {"Invited Teammate": {"count_7d": 2}}},
...     {"plan": "free", "sessions": "5"},
...     {"plan": None, "sessions": "n/a"},
... ]
>>> pipeline = FeaturePipeline.fit(specs, rows)
>>> pipeline.columns
('plan=free', 'plan=pro', 'plan=(missing)', 'sessions', 'invites_7d')
>>> pipeline.transform(rows).tolist()
[[0.0, 1.0, 0.0, 3.0, 2.0], [1.0, 0.0, 0.0, 5.0, 0.0], [0.0, 0.0, 1.0, 4.0, 0.0]]
>>> pipeline.raw(rows[2])
{'plan': None, 'sessions': None, 'invites_7d': 0.0}
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt

from firstmile.conditions.paths import compile_getter, step
from firstmile.errors import ConfigError, ModelError

Kind = Literal["number", "category", "flag"]
Window = Literal["1d", "7d", "all"]
Scale = Literal["standard", "log", "none"]
FloatArray = npt.NDArray[np.float64]

OTHER = "(other)"
MISSING = "(missing)"
SCHEMA_VERSION = "features/v1"
LIMIT = 1e15  # outputs are clipped to ±LIMIT
_FILLS = ("median", "mean", "zero")
_WINDOW_KEYS: dict[str, str] = {"all": "count", "1d": "count_1d", "7d": "count_7d"}
_TRUE = frozenset({"true", "t", "yes", "y", "on", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "off", "0"})


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """One model input, read from every user's attributes object.

    Give either ``path`` (an attribute path such as ``"plan"`` or ``"company.size"``,
    read like a condition reads it) or ``event`` with ``window``. ``missing`` is
    ``"median"``, ``"mean"``, ``"zero"`` or a number for numbers and flags (categories
    always keep missing as a level of its own). ``scale`` applies to numbers only.
    ``max_categories`` caps a category's own columns; rarer levels share ``(other)``.
    Invalid combinations raise :class:`~firstmile.errors.ConfigError`.

    >>> FeatureSpec("devices", path="device_type", kind="category", max_categories=3).kind
    'category'
    >>> FeatureSpec("x", path="a", event="b")
    Traceback (most recent call last):
    ...
    firstmile.errors.ConfigError: feature 'x': give either `path` or `event`, not both
    """

    name: str
    path: str | None = None
    event: str | None = None
    window: Window = "all"
    kind: Kind = "number"
    missing: str | float = "median"
    scale: Scale = "standard"
    max_categories: int = 20

    def __post_init__(self) -> None:
        def fail(message: str) -> ConfigError:
            return ConfigError(f"feature {self.name!r}: {message}")

        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"a feature needs a non-empty name, got {self.name!r}")
        if (self.path is None) == (self.event is None):
            both = self.path is not None
            raise fail(
                "give either `path` or `event`, not both" if both else "give `path` or `event`"
            )
        if self.path is not None and (not isinstance(self.path, str) or not self.path):
            raise fail(f"`path` must be a non-empty attribute path, got {self.path!r}")
        if self.event is not None and (not isinstance(self.event, str) or not self.event):
            raise fail(f"`event` must be a non-empty event name, got {self.event!r}")
        if self.window not in _WINDOW_KEYS:
            raise fail(f"`window` must be one of {list(_WINDOW_KEYS)}, got {self.window!r}")
        if self.kind not in get_args(Kind):
            raise fail(f"`kind` must be one of {list(get_args(Kind))}, got {self.kind!r}")
        if self.event is not None and self.kind == "category":
            raise fail("an event count is a number or a flag, not a category")
        if self.scale not in get_args(Scale):
            raise fail(f"`scale` must be one of {list(get_args(Scale))}, got {self.scale!r}")
        missing = self.missing
        if isinstance(missing, bool) or not (
            missing in _FILLS or (isinstance(missing, int | float) and math.isfinite(missing))
        ):
            raise fail(
                f"`missing` must be one of {list(_FILLS)} or a finite number, got {missing!r}"
            )
        if (
            isinstance(self.max_categories, bool)
            or not isinstance(self.max_categories, int)
            or self.max_categories < 1
        ):
            raise fail(f"`max_categories` must be a positive integer, got {self.max_categories!r}")

    def normalised(self) -> dict[str, Any]:
        """The spec as plain JSON values, with defaults that do not apply blanked out."""
        number_like = self.kind != "category"
        missing = self.missing if isinstance(self.missing, str) else float(self.missing)
        return {
            "name": self.name,
            "path": self.path,
            "event": self.event,
            "window": self.window if self.event is not None else None,
            "kind": self.kind,
            "missing": missing if number_like else None,
            "scale": self.scale if self.kind == "number" else None,
            "max_categories": self.max_categories if self.kind == "category" else None,
        }


def schema_hash(specs: Sequence[FeatureSpec]) -> str:
    """A stable 16-hex-digit SHA-256 prefix naming the declared features, in order.

    Two lists of specs share a hash exactly when they read the same values the same way
    (settings that do not apply to a kind, such as ``scale`` of a category, are ignored).

    >>> plain, logged = FeatureSpec("a", path="a"), FeatureSpec("a", path="a", scale="log")
    >>> schema_hash([plain]) == schema_hash([FeatureSpec("a", path="a")])
    True
    >>> schema_hash([plain]) == schema_hash([logged]), len(schema_hash([plain]))
    (False, 16)
    """
    document = {"version": SCHEMA_VERSION, "features": [spec.normalised() for spec in specs]}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_schema(expected_hash: str, pipeline: FeaturePipeline) -> None:
    """Refuse a model whose features are not the ones the config declares now.

    ``expected_hash`` is :func:`schema_hash` of the specs in the current config;
    ``pipeline`` is the fitted pipeline stored with the model.

    >>> pipeline = FeaturePipeline.fit([FeatureSpec("a", path="a")], [{"a": 1}])
    >>> check_schema(pipeline.schema_hash, pipeline)
    >>> try:
    ...     check_schema("0123456789abcdef", pipeline)
    ... except ModelError as error:
    ...     print(error.message[-64:])
    config declares 0123456789abcdef: retrain with `firstmile train`
    """
    if pipeline.schema_hash != expected_hash:
        raise ModelError(
            f"model was trained on feature schema {pipeline.schema_hash}, config declares "
            f"{expected_hash}: retrain with `firstmile train`"
        )


# --- reading values -------------------------------------------------------------------


def _event_getter(event: str, key: str) -> Callable[[Any], Any]:
    def get_event(obj: Any) -> Any:
        events = obj.get("events") if type(obj) is dict else step(obj, "events")
        entry = events.get(event) if type(events) is dict else step(events, event)
        if entry is None:  # never sent: the attributes object has no entry for it
            return 0
        return entry.get(key) if type(entry) is dict else step(entry, key)

    return get_event


def _getter(spec: FeatureSpec) -> Callable[[Any], Any]:
    if spec.event is not None:
        return _event_getter(spec.event, _WINDOW_KEYS[spec.window])
    assert spec.path is not None  # checked in FeatureSpec.__post_init__
    return compile_getter(spec.path)


def parse_number(value: Any) -> float | None:
    """A finite float, or None when ``value`` does not read as one.

    >>> [parse_number(v) for v in (3, "2.5", True, "x", float("nan"), None, [1])]
    [3.0, 2.5, 1.0, None, None, None, None]
    """
    kind = type(value)
    if kind is int or kind is float or kind is bool:
        number = float(value)
    elif kind is str:
        try:
            number = float(value)
        except ValueError:
            return None
    elif isinstance(value, int | float):  # numpy scalars and other subclasses
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            return None
    else:
        return None
    # A huge int would overflow, and NaN or ±inf carry no usable value: all missing.
    return number if math.isfinite(number) else None


def parse_flag(value: Any) -> float | None:
    """1.0, 0.0, or None when ``value`` is not a yes/no.

    >>> [parse_flag(v) for v in (True, "FALSE", "yes", 2, 0.0, "maybe", None)]
    [1.0, 0.0, 1.0, 1.0, 0.0, None, None]
    """
    if type(value) is str:
        text = value.strip().lower()
        if text in _TRUE:
            return 1.0
        if text in _FALSE:
            return 0.0
    number = parse_number(value)
    if number is None:
        return None
    return 1.0 if number != 0.0 else 0.0


def parse_level(value: Any) -> str | None:
    """The text of a category level, or None when missing.

    >>> [parse_level(v) for v in ("pro", 1, 1.0, "1", True, "", None, float("nan"), 2.5)]
    ['pro', '1', '1', '1', 'true', None, None, None, '2.5']
    """
    kind = type(value)
    if kind is str:
        return value if value else None
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            return None
        return str(int(number)) if number.is_integer() else repr(number)
    return None  # lists, objects, missing keys


def _signed_log1p(value: float) -> float:
    return math.copysign(math.log1p(abs(value)), value)


# --- fitted encoders ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NumberEncoder:
    """A fitted number or flag: ``(transform(value or fill) - center) / scale``."""

    fill: float
    center: float
    scale: float
    log: bool


@dataclass(frozen=True, slots=True)
class CategoryEncoder:
    """A fitted category: its own levels in column order, then ``(other)``, ``(missing)``."""

    levels: tuple[str, ...]
    other: bool
    missing: bool

    @property
    def width(self) -> int:
        return len(self.levels) + self.other + self.missing


Encoder = NumberEncoder | CategoryEncoder


# Statistics below divide by the largest magnitude first: trait values near 1e308 are
# finite, and squaring or summing them must not overflow.


def _mean_and_sd(column: FloatArray) -> tuple[float, float]:
    biggest = float(np.abs(column).max()) if len(column) else 0.0
    if biggest == 0.0:
        return 0.0, 0.0
    unit = column / biggest
    return float(unit.mean()) * biggest, float(unit.std()) * biggest


def _fill(spec: FeatureSpec, observed: list[float]) -> float:
    if not isinstance(spec.missing, str):
        return float(spec.missing)
    if spec.missing == "zero" or not observed:
        return 0.0
    if spec.missing == "mean":
        return _mean_and_sd(np.asarray(observed))[0]
    ordered = sorted(observed)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return ordered[middle - 1] / 2 + ordered[middle] / 2


def _fit_number(spec: FeatureSpec, values: list[Any]) -> tuple[NumberEncoder, bool]:
    parse = parse_flag if spec.kind == "flag" else parse_number
    parsed = [parse(value) for value in values]
    fill = _fill(spec, [v for v in parsed if v is not None])
    log = spec.kind == "number" and spec.scale == "log"
    column = np.array([fill if v is None else v for v in parsed], dtype=np.float64)
    if log:
        column = np.sign(column) * np.log1p(np.abs(column))
    mean, sd = _mean_and_sd(column)
    # A spread this small is rounding noise around a constant: dividing by it would
    # blow noise up into a feature.
    constant = not sd > 1e-12 * max(1.0, float(np.abs(column).max()))
    if spec.kind == "number" and spec.scale != "none":
        center, scale = mean, 1.0 if constant else sd
    else:
        center, scale = 0.0, 1.0
    return NumberEncoder(fill=fill, center=center, scale=scale, log=log), constant


def _fit_category(spec: FeatureSpec, values: list[Any]) -> tuple[CategoryEncoder, bool]:
    levels = [parse_level(value) for value in values]
    counts = Counter(level for level in levels if level is not None)
    # Most frequent first, ties by text, so the choice of kept levels is deterministic.
    ranked = sorted(counts, key=lambda level: (-counts[level], level))
    kept = tuple(sorted(ranked[: spec.max_categories]))
    encoder = CategoryEncoder(kept, other=len(ranked) > len(kept), missing=None in levels)
    distinct = len(kept) + encoder.other + encoder.missing
    return encoder, distinct <= 1


# --- the pipeline ---------------------------------------------------------------------

RowWriter = Callable[[Any, FloatArray], None]


@dataclass(frozen=True, eq=False)
class FeaturePipeline:
    """A fitted feature pipeline: the specs, what was learnt from the training rows, and
    the columns it writes. Build it with :meth:`fit`; it pickles (the fast readers are
    rebuilt on load) and never changes after fitting.

    Attributes
    ----------
    specs : the declared features, in order.
    encoders : per spec, the fitted fill/center/scale or category levels.
    columns : the output column names (``sessions``, ``plan=pro``, ``plan=(other)``).
    column_feature : per column, the name of the spec it comes from.
    constant : names of the features that were constant in the training rows.
    schema_hash : :func:`schema_hash` of ``specs``.
    """

    specs: tuple[FeatureSpec, ...]
    encoders: tuple[Encoder, ...]
    constant: tuple[str, ...]
    columns: tuple[str, ...] = field(init=False)
    column_feature: tuple[str, ...] = field(init=False)
    schema_hash: str = field(init=False)
    _writers: tuple[RowWriter, ...] = field(init=False, repr=False)
    _getters: tuple[Callable[[Any], Any], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.specs) != len(self.encoders):
            raise ModelError("a feature pipeline needs one encoder per feature spec")
        columns: list[str] = []
        owners: list[str] = []
        writers: list[RowWriter] = []
        for spec, encoder in zip(self.specs, self.encoders, strict=True):
            names = _column_names(spec, encoder)
            writers.append(_writer(spec, encoder, len(columns)))
            columns.extend(names)
            owners.extend([spec.name] * len(names))
        duplicates = sorted(name for name, n in Counter(columns).items() if n > 1)
        if duplicates:
            raise ModelError(f"two features write the same column(s) {duplicates}: rename one")
        object.__setattr__(self, "columns", tuple(columns))
        object.__setattr__(self, "column_feature", tuple(owners))
        object.__setattr__(self, "schema_hash", schema_hash(self.specs))
        object.__setattr__(self, "_writers", tuple(writers))
        object.__setattr__(self, "_getters", tuple(_getter(spec) for spec in self.specs))

    def __reduce__(self) -> tuple[Any, ...]:
        # The readers are closures, which do not pickle: rebuild them from the specs.
        return (FeaturePipeline, (self.specs, self.encoders, self.constant))

    @classmethod
    def fit(
        cls, specs: Sequence[FeatureSpec], rows: Sequence[Mapping[str, Any]]
    ) -> FeaturePipeline:
        """Learn fills, centers, scales and category levels from ``rows``.

        Raises :class:`~firstmile.errors.ModelError` when there are no rows or no specs,
        or two specs share a name.
        """
        specs = tuple(specs)
        if not specs:
            raise ModelError("declare at least one feature to train a model")
        names = [spec.name for spec in specs]
        duplicates = sorted(name for name, n in Counter(names).items() if n > 1)
        if duplicates:
            raise ModelError(f"feature names must be unique; repeated: {duplicates}")
        if len(rows) == 0:
            raise ModelError("cannot fit features on zero users: there is nothing to learn from")
        encoders: list[Encoder] = []
        constant: list[str] = []
        for spec in specs:
            get = _getter(spec)
            values = [get(row) for row in rows]
            fitted: tuple[Encoder, bool]
            if spec.kind == "category":
                fitted = _fit_category(spec, values)
            else:
                fitted = _fit_number(spec, values)
            encoders.append(fitted[0])
            if fitted[1]:
                constant.append(spec.name)
        return cls(specs, tuple(encoders), tuple(constant))

    @property
    def width(self) -> int:
        """The number of output columns."""
        return len(self.columns)

    def transform_one(self, row: Mapping[str, Any]) -> FloatArray:
        """One user's attributes as a ``(width,)`` float64 vector (the fast path)."""
        out = np.zeros(len(self.columns))
        for write in self._writers:
            write(row, out)
        return out

    def transform(self, rows: Sequence[Mapping[str, Any]]) -> FloatArray:
        """Many users as an ``(n, width)`` float64 matrix, row for row as
        :meth:`transform_one`."""
        out = np.zeros((len(rows), len(self.columns)))
        writers = self._writers
        for i, row in enumerate(rows):
            target = out[i]
            for write in writers:
                write(row, target)
        return out

    def raw(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The value of each feature as read, before filling and scaling (None: missing).

        Numbers read as floats, flags as ``True``/``False``, categories as their level text.
        """
        values: dict[str, Any] = {}
        for spec, get in zip(self.specs, self._getters, strict=True):
            value = get(row)
            if spec.kind == "category":
                values[spec.name] = parse_level(value)
            elif spec.kind == "flag":
                flag = parse_flag(value)
                values[spec.name] = None if flag is None else flag == 1.0
            else:
                values[spec.name] = parse_number(value)
        return values


def _column_names(spec: FeatureSpec, encoder: Encoder) -> list[str]:
    if isinstance(encoder, NumberEncoder):
        return [spec.name]
    names = [f"{spec.name}={level}" for level in encoder.levels]
    if encoder.other:
        names.append(f"{spec.name}={OTHER}")
    if encoder.missing:
        names.append(f"{spec.name}={MISSING}")
    return names


def _writer(spec: FeatureSpec, encoder: Encoder, start: int) -> RowWriter:
    get = _getter(spec)
    if isinstance(encoder, CategoryEncoder):
        return _category_writer(get, encoder, start)
    parse = parse_flag if spec.kind == "flag" else parse_number
    fill, center, scale = encoder.fill, encoder.center, encoder.scale
    if encoder.log:

        def write_log(row: Any, out: FloatArray) -> None:
            value = parse(get(row))
            scaled = (_signed_log1p(fill if value is None else value) - center) / scale
            out[start] = LIMIT if scaled > LIMIT else -LIMIT if scaled < -LIMIT else scaled

        return write_log

    def write_number(row: Any, out: FloatArray) -> None:
        value = parse(get(row))
        scaled = ((fill if value is None else value) - center) / scale
        # Python floats overflow to ±inf silently (1e308 - -1e308): keep the promise of
        # finite output, far beyond any real standardised value.
        out[start] = LIMIT if scaled > LIMIT else -LIMIT if scaled < -LIMIT else scaled

    return write_number


def _category_writer(get: Callable[[Any], Any], encoder: CategoryEncoder, start: int) -> RowWriter:
    index = {level: start + i for i, level in enumerate(encoder.levels)}
    other = start + len(encoder.levels) if encoder.other else None
    missing = start + len(encoder.levels) + encoder.other if encoder.missing else None

    def write_category(row: Any, out: FloatArray) -> None:
        level = parse_level(get(row))
        column = missing if level is None else index.get(level, other)
        if column is not None:
            out[column] = 1.0

    return write_category
