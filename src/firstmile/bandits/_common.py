"""Shared pieces of the bandits package: argument checks, seeded generators, JSON helpers.

Nothing here is public API.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np

from firstmile.stats import Interval, Moments

#: How far from 1 a vector of weights or target probabilities may sum.
SUM_TOLERANCE: Final = 1e-6


def check_key(value: object, what: str) -> str:
    """``value`` as a non-empty string, else a ValueError naming ``what``."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return value


def check_arms(arms: Sequence[str], where: str) -> tuple[str, ...]:
    """At least two unique, non-empty string arm keys, as a tuple."""
    if isinstance(arms, str):
        raise ValueError(f"{where}: arms must be a list of arm keys, not the string {arms!r}")
    keys = tuple(arms)
    if len(keys) < 2:
        raise ValueError(f"{where} needs at least two arms, got {len(keys)}")
    for key in keys:
        check_key(key, f"{where}: every arm key")
    if len(set(keys)) != len(keys):
        raise ValueError(f"{where}: arm keys must be unique, got {list(keys)}")
    return keys


def check_number(value: object, what: str) -> float:
    """``value`` as a finite float (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{what} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return number


def check_int(value: object, what: str, minimum: int) -> int:
    """``value`` as an int >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{what} must be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value}")
    return int(value)


def check_stats(
    stats: Mapping[str, Moments], arms: tuple[str, ...], where: str
) -> tuple[Moments, ...]:
    """One Moments per arm, in the order of ``arms``; an arm missing from ``stats`` is empty.

    A ``GROUP BY arm`` returns no row for an arm nobody saw yet, so a missing arm is
    normal; a key that is not an arm is a mistake (a renamed arm, a wrong bandit).
    """
    if not isinstance(stats, Mapping):
        raise ValueError(f"{where}: stats must map arm keys to Moments, got {type(stats).__name__}")
    unknown = [key for key in stats if key not in arms]
    if unknown:
        raise ValueError(
            f"{where}: stats name arms {unknown} that are not among the arms {list(arms)}"
        )
    found: list[Moments] = []
    for arm in arms:
        moments = stats.get(arm, Moments())
        if not isinstance(moments, Moments):
            raise ValueError(
                f"{where}: the stats of arm {arm!r} must be a firstmile.stats.Moments, "
                f"got {type(moments).__name__}"
            )
        found.append(moments)
    return tuple(found)


def generator(seed: str, stream: str, epoch: int) -> np.random.Generator:
    """A PCG64 generator seeded from ``(seed, stream, epoch)``, the same in every process.

    SHA-256 (not Python's salted ``hash``) turns the text into 128 bits of entropy, so the
    same inputs give the same draws on every machine with the same numpy.
    """
    text = "\x1f".join(("firstmile-bandit", seed, stream, str(epoch)))
    entropy = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:16], "big")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def interval_json(interval: Interval | None) -> dict[str, float] | None:
    if interval is None:
        return None
    return {"lower": interval.lower, "upper": interval.upper}


def json_value(value: Any) -> Any:
    """A deep copy of a JSON-like value, with tuples as lists (for ``to_json``)."""
    if isinstance(value, Mapping):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    return value
