"""The attribute names conditions and scores may read, and the check of one attribute path.

The attributes object (``docs/segments.md``) holds the app's traits by name plus names
firstmile fills itself: computed traits, ``user_id``/``profile_id``/``anonymous``, and the
families ``events``, ``consent``, ``computed``, ``segments`` and ``scores``. firstmile's own
names are always checked (``events.<event name>.<counter>`` needs a known counter, and
``scores.<key>``, ``consent.<purpose>`` and ``computed.<name>`` a known key). App traits are
checked only when the config declares them under ``traits:``; without that section a
trait reference is a warning, never an error.

The names here mirror ``firstmile.segments.attributes.profile_attributes`` (a layer above
the config, so it cannot be imported here); a unit test keeps the two in step.

>>> names = Namespace(traits={"plan": "string"}, scores=frozenset({"engaged"}))
>>> check_path("plann", names).message.split(";")[0]
'Unknown attribute `plann`'
>>> check_path("events.Completed Step.count_30d", names).severity
'error'
>>> check_path("events.Completed Step.count_7d", names) is None
True
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from firstmile.events.model import Purpose

Severity = Literal["error", "warning"]

TRAIT_TYPES: Final = ("string", "number", "boolean", "timestamp", "object", "list", "any")
EVENTS: Final = "events"
# events.<event name>.<counter>: how many times the user sent the event, ever / 1 day / 7 days.
EVENT_COUNTERS: Final = ("count", "count_1d", "count_7d")
# Computed traits readable by name (and as computed.<name>), with the type of their value.
COMPUTED_TRAITS: Final[Mapping[str, str]] = {
    "first_seen": "timestamp",
    "last_seen": "timestamp",
    "event_count": "number",
    "sessions": "number",
    "active_days": "number",
    "events_1d": "number",
    "events_7d": "number",
    "last_page": "string",
    "last_pages": "list",
    "device_type": "string",
    "os": "string",
    "browser": "string",
    "country": "string",
    "locale": "string",
    "timezone": "string",
    "groups": "list",
}
# Set by firstmile after the traits, so a trait of the same name is never read.
RESERVED: Final[Mapping[str, str]] = {
    "user_id": "the profile's user id",
    "profile_id": "the profile's id",
    "anonymous": "whether the profile has no user id",
    "computed": "the computed traits, as computed.<name>",
    EVENTS: "event counts, as events.<event name>.count",
    "consent": "the effective consent, as consent.<purpose>",
    "segments": "segment membership, as segments.<key>",
    "scores": "score values, as scores.<key>",
    "context": "the decide request's context, as context.<field> (rules and flows)",
    "predictions": "the promoted models' predictions, as predictions.<key> (0 to 1)",
    "persona": "the user's persona key, from the promoted personas model",
}
CONSENT_PURPOSES: Final = tuple(p.value for p in Purpose)
FIRSTMILE_ATTRIBUTES: Final = frozenset(COMPUTED_TRAITS) | frozenset(RESERVED)
_SCALARS: Final = frozenset({"string", "number", "boolean", "timestamp"})


@dataclass(frozen=True, slots=True)
class Finding:
    """What is wrong with one attribute path: an error stops the load, a warning does not."""

    severity: Severity
    message: str


@dataclass(frozen=True, slots=True)
class Namespace:
    """What one config declares: its traits (``None`` without a ``traits:`` section) and
    score keys."""

    traits: Mapping[str, str] | None
    scores: Collection[str] = frozenset()

    def known_roots(self) -> list[str]:
        """Every name a path may start with, sorted (for "did you mean")."""
        return sorted(FIRSTMILE_ATTRIBUTES | frozenset(self.traits or ()))


def _listed(names: Iterable[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def _guess(word: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return close[0] if close else None


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    guess = _guess(word, choices)
    return f"did you mean `{guess}`?" if guess else ""


def _error(message: str) -> Finding:
    return Finding("error", message)


def _events(path: str, parts: list[str]) -> Finding | None:
    """``events``, ``events.<name>`` and ``events.<name>.<counter>``."""
    if len(parts) <= 2:
        return None
    counters = _listed(EVENT_COUNTERS)
    if len(parts) == 3:
        counter = parts[2]
        if counter in EVENT_COUNTERS:
            return None
        guess = _did_you_mean(counter, EVENT_COUNTERS)
        return _error(
            f"Unknown event counter `{counter}` in `{path}`: an event has {counters}"
            + (f"; {guess}" if guess else ".")
        )
    if parts[-1] in EVENT_COUNTERS:
        name = ".".join(parts[1:-1])
        return _error(
            "Event names with dots cannot be addressed in an attribute path: "
            f"`{path}` is split on every dot, so it reads the event `{parts[1]}`, not "
            f"`{name}`. Count the event with a score term (`event: {name}`), which reads the "
            "name whole, or send it under a name without dots."
        )
    return _error(
        f"`{path}` is not an event attribute: write `events.<event name>.<counter>` with "
        f"a counter among {counters}."
    )


def _family(root: str, path: str, parts: list[str], names: Namespace) -> Finding | None:
    """``scores.<key>``, ``consent.<purpose>`` and ``computed.<name>``."""
    if len(parts) < 2:
        return None
    key = parts[1]
    if root == "scores":
        known, what = sorted(names.scores), "score"
    elif root == "consent":
        known, what = list(CONSENT_PURPOSES), "consent purpose"
    else:
        known, what = list(COMPUTED_TRAITS), "computed trait"
    if key not in known:
        guess = _did_you_mean(key, known)
        listed = f"the {what}s are {_listed(known)}." if known else f"there is no {what}."
        return _error(f"`{path}` reads an unknown {what} `{key}`; {guess or listed}")
    if root in ("scores", "consent") and len(parts) > 2:
        kind = "a number" if root == "scores" else "true or false"
        return _error(f"`{root}.{key}` is {kind}, with nothing inside; read `{root}.{key}`.")
    return None


def _inside(root: str, kind: str, path: str, parts: list[str]) -> Finding | None:
    """A path reading into a value of a declared type (``plan.x`` of a string)."""
    if len(parts) < 2 or kind in ("any", "object"):
        return None
    part = parts[1]
    if kind == "list":
        if part == "length" or (part.isascii() and part.isdigit()):
            return None
        return _error(
            f"`{root}` is a list: `{path}` can read an item (`{root}.0`) or `{root}.length`, "
            f"not `{part}`."
        )
    if kind in _SCALARS:
        return _error(
            f"`{root}` is a {kind}, which has no field `{part}`; read `{root}` itself, "
            f"or declare it as `object` under `traits:` if the app sends an object."
        )
    return None


def _trait(root: str, path: str, parts: list[str], names: Namespace) -> Finding | None:
    """A root that is not one of firstmile's families: a trait or a computed trait."""
    traits = names.traits
    if traits is None:
        if root in COMPUTED_TRAITS:
            return None
        guess = _guess(root, FIRSTMILE_ATTRIBUTES, cutoff=0.8)  # only near-certain typos
        near = (
            f"`{root}` is not an attribute firstmile computes (did you mean `{guess}`?), so it"
            if guess
            else f"`{root}`"
        )
        return Finding(
            "warning",
            f"{near} is read as an app trait, unchecked: the file has no `traits:` section. "
            f"Declare the traits the app sends (`traits: {{{root}: string}}`) to make a "
            "mistyped name an error.",
        )
    kind = traits.get(root) or COMPUTED_TRAITS.get(root)
    if kind is None:
        guess = _did_you_mean(root, names.known_roots())
        return _error(
            f"Unknown attribute `{root}`"
            + (f"; {guess}" if guess else ".")
            + f" If the app sends it, declare it under `traits:` (`{root}: string`); "
            "firstmile's own attributes are listed in docs/segments.md."
        )
    return _inside(root, kind, path, parts)


def check_path(path: str, names: Namespace) -> Finding | None:
    """What is wrong with reading ``path``, or ``None``.

    ``segments.<key>`` is left to :mod:`firstmile.config.references` (unknown keys and
    cycles).
    """
    parts = path.split(".")
    root = parts[0]
    if root == EVENTS:
        return _events(path, parts)
    if root in ("scores", "consent", "computed"):
        return _family(root, path, parts, names)
    if root in RESERVED:
        return None
    return _trait(root, path, parts, names)


def check_trait_name(name: str) -> str | None:
    """Why ``name`` cannot be declared under ``traits:``, or ``None``."""
    if not name:
        return "A trait needs a name; write `plan: string`."
    if "." in name:
        head = name.split(".", 1)[0]
        return (
            f"A trait name with a dot cannot be read by a condition (`{name}` would read "
            f"`{head}` and then a field of it); declare `{head}: object`, or rename the trait."
        )
    if name in RESERVED:
        return (
            f"`{name}` is set by firstmile ({RESERVED[name]}) and hides a trait of that "
            "name; rename the trait in the app."
        )
    return None
