"""The attributes object that conditions and scores read for one profile (pure).

Layout (documented in ``docs/segments.md``):

* every computed trait by name — ``first_seen``, ``last_seen``, ``event_count``,
  ``sessions``, ``active_days`` (a count), ``events_1d``, ``events_7d``, ``last_page``,
  ``device_type``, ``os``, ``browser``, ``country`` (from the IP), ``locale``,
  ``timezone``, ``groups`` — then the app's traits by name, which win on a clash (the
  computed value stays readable as ``computed.<name>``);
* ``events.<event name>.count``, ``.count_1d``, ``.count_7d``;
* ``consent.<purpose>``: the effective answer (true/false);
* ``user_id``, ``profile_id``, ``anonymous``;
* ``segments.<key>`` and ``scores.<key>`` are filled in while segments are evaluated.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from firstmile.events.consent import ConsentPolicy
from firstmile.profiles.model import Profile
from firstmile.profiles.reduce import window_counts

# Attributes whose value changes with time alone (rolling windows): conditions reading
# them are re-evaluated by the sweeper, like relative-time operators.
TIME_DEPENDENT_ROOTS = frozenset({"events_1d", "events_7d"})
TIME_DEPENDENT_SUFFIXES = (".count_1d", ".count_7d")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def profile_attributes(profile: Profile, *, now: datetime, policy: ConsentPolicy) -> dict[str, Any]:
    """The attributes of ``profile`` as of ``now``.

    Examples
    --------
    >>> from datetime import UTC
    >>> from firstmile.events.consent import ConsentPolicy
    >>> p = Profile("p1", "u1", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC),
    ...             traits={"plan": "pro"})
    >>> a = profile_attributes(p, now=datetime(2026, 1, 2, tzinfo=UTC),
    ...                        policy=ConsentPolicy.from_regimes("opt-out", "opt-out", "opt-in"))
    >>> a["plan"], a["user_id"], a["anonymous"], a["consent"]["marketing"]
    ('pro', 'u1', False, False)
    """
    c = profile.computed
    windows = window_counts(c, now)
    by_name_1d: dict[str, int] = windows["event_counts_1d"]
    by_name_7d: dict[str, int] = windows["event_counts_7d"]
    computed: dict[str, Any] = {
        "first_seen": _iso(c.first_seen),
        "last_seen": _iso(c.last_seen),
        "event_count": c.event_count,
        "sessions": c.sessions,
        "active_days": len(c.active_days),
        "events_1d": windows["events_1d"],
        "events_7d": windows["events_7d"],
        "last_page": c.last_pages[0] if c.last_pages else None,
        "last_pages": list(c.last_pages),
        "device_type": c.device_type,
        "os": c.os,
        "browser": c.browser,
        "country": c.country,
        "locale": c.locale,
        "timezone": c.timezone,
        "groups": list(c.groups),
    }
    attributes: dict[str, Any] = {**computed, **profile.traits}
    attributes["computed"] = computed
    attributes["events"] = {
        name: {
            "count": count,
            "count_1d": by_name_1d.get(name, 0),
            "count_7d": by_name_7d.get(name, 0),
        }
        for name, count in c.event_counts.items()
    }
    attributes["consent"] = policy.state(profile.consent)
    attributes["user_id"] = profile.user_id
    attributes["profile_id"] = profile.profile_id
    attributes["anonymous"] = profile.user_id is None
    attributes["segments"] = {}
    attributes["scores"] = {}
    return attributes


def is_time_dependent(path: str) -> bool:
    """Whether an attribute path's value can change with time alone."""
    return path in TIME_DEPENDENT_ROOTS or path.endswith(TIME_DEPENDENT_SUFFIXES)
