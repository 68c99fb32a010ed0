"""Consent: what a message says about each purpose, and what applies to a user.

Purposes are ``necessary``, ``analytics``, ``personalization`` and ``marketing``.
A message states consent in two ways, both read on every message type:

* Segment's convention, ``context.consent.categoryPreferences``: a map of category
  name to boolean. Category names are matched case-insensitively through
  :data:`CATEGORY_ALIASES` (for example ``Advertising`` counts as ``marketing``);
  unknown categories are ignored (they stay in the stored context).
* Traits: ``consent: {"analytics": false, ...}`` or flat ``consent_analytics: false``.

``necessary`` is always granted and cannot be denied. When a user has said nothing
about a purpose, the regime in the settings applies: ``opt-out`` (granted until
denied) or ``opt-in`` (denied until granted).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from firstmile.events.model import Purpose

CATEGORY_ALIASES: dict[str, Purpose] = {
    "necessary": Purpose.NECESSARY,
    "essential": Purpose.NECESSARY,
    "strictly necessary": Purpose.NECESSARY,
    "analytics": Purpose.ANALYTICS,
    "performance": Purpose.ANALYTICS,
    "statistics": Purpose.ANALYTICS,
    "measurement": Purpose.ANALYTICS,
    "personalization": Purpose.PERSONALIZATION,
    "personalisation": Purpose.PERSONALIZATION,
    "functional": Purpose.PERSONALIZATION,
    "preferences": Purpose.PERSONALIZATION,
    "marketing": Purpose.MARKETING,
    "advertising": Purpose.MARKETING,
    "targeting": Purpose.MARKETING,
}


@dataclass(frozen=True, slots=True)
class ConsentPolicy:
    """What applies per purpose when a user has said nothing (True = granted)."""

    defaults: Mapping[Purpose, bool]
    # state() of a user who stated nothing (most users): built once, copied per event.
    # None when the defaults lack a purpose: state() then raises as it always did.
    _silent: dict[str, bool] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            silent: dict[str, bool] | None = self._state({})
        except KeyError:
            silent = None
        object.__setattr__(self, "_silent", silent)

    @classmethod
    def from_regimes(cls, analytics: str, personalization: str, marketing: str) -> ConsentPolicy:
        """Build from the settings' ``opt-in``/``opt-out`` regimes."""
        return cls(
            defaults={
                Purpose.NECESSARY: True,
                Purpose.ANALYTICS: analytics == "opt-out",
                Purpose.PERSONALIZATION: personalization == "opt-out",
                Purpose.MARKETING: marketing == "opt-out",
            }
        )

    def state(self, stated: Mapping[Purpose, Any]) -> dict[str, bool]:
        """Every purpose's effective answer, keyed by name (what stored events carry)."""
        if not stated and self._silent is not None:
            return dict(self._silent)
        return self._state(stated)

    def _state(self, stated: Mapping[Purpose, Any]) -> dict[str, bool]:
        return {name: self.granted(purpose, stated) for purpose, name in _PURPOSE_NAMES}

    def granted(self, purpose: Purpose, stated: Mapping[Purpose, Any]) -> bool:
        """Whether ``purpose`` is granted given the user's stated decisions.

        ``stated`` maps purposes to booleans, or to objects with a ``granted`` attribute.
        """
        if purpose is Purpose.NECESSARY:
            return True
        decision = stated.get(purpose)
        if decision is None:
            return self.defaults[purpose]
        return bool(getattr(decision, "granted", decision))


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        # The numbers 0 and 1 mean what the strings "0" and "1" do (some consent tools send them).
        return value == 1
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "yes", "granted", "1", "on"):
            return True
        if lowered in ("false", "no", "denied", "0", "off"):
            return False
    return None


def _by_category(categories: Any) -> dict[Purpose, bool]:
    """Decisions from a ``{category: granted}`` map; unknown names and values are skipped."""
    if not isinstance(categories, dict):
        return {}
    stated: dict[Purpose, bool] = {}
    for category, value in categories.items():
        purpose = CATEGORY_ALIASES.get(str(category).strip().lower())
        granted = _as_bool(value)
        if purpose is not None and granted is not None:
            stated[purpose] = granted
    return stated


# Enum member attribute access is slow on the hot path; look the names up once.
_PURPOSE_NAMES: tuple[tuple[Purpose, str], ...] = tuple((p, p.value) for p in Purpose)
_FLAT_TRAITS: tuple[tuple[str, Purpose], ...] = tuple((f"consent_{p.value}", p) for p in Purpose)


def stated_consent(context: Mapping[str, Any], traits: Mapping[str, Any]) -> dict[Purpose, bool]:
    """Consent stated by one message (traits win over context when both speak).

    Examples
    --------
    >>> stated_consent({"consent": {"categoryPreferences": {"Advertising": False}}},
    ...                {"consent_analytics": "true"})
    {<Purpose.MARKETING: 'marketing'>: False, <Purpose.ANALYTICS: 'analytics'>: True}
    """
    consent = context.get("consent")
    preferences = consent.get("categoryPreferences") if isinstance(consent, dict) else None
    stated = _by_category(preferences)
    stated.update(_by_category(traits.get("consent")))
    for key, purpose in _FLAT_TRAITS if traits else ():
        granted = _as_bool(traits.get(key))
        if granted is not None:
            stated[purpose] = granted
    # `necessary` cannot be withdrawn: the service cannot run without it.
    stated.pop(Purpose.NECESSARY, None)
    return stated


def consent_source(purpose: Purpose, traits: Mapping[str, Any]) -> str:
    """Where a message's decision on ``purpose`` came from, for the ledger.

    Traits win over context (see :func:`stated_consent`), so a purpose the traits
    speak about came from the traits.

    Examples
    --------
    >>> consent_source(Purpose.ANALYTICS, {"consent_analytics": False})
    'traits'
    >>> consent_source(Purpose.ANALYTICS, {})
    'context'
    """
    return "traits" if purpose in stated_consent({}, traits) else "context"


def changed_decisions(
    current: Mapping[Purpose, Any], stated: Mapping[Purpose, bool], at: datetime
) -> dict[Purpose, bool]:
    """The stated decisions that differ from the current ones (what the ledger records).

    A statement older than the current decision for that purpose does not override it.
    """
    changes: dict[Purpose, bool] = {}
    for purpose, granted in stated.items():
        decision = current.get(purpose)
        if decision is None or (decision.granted != granted and at >= decision.at):
            changes[purpose] = granted
    return changes
