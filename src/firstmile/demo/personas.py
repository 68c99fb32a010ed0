"""The kinds of people in the population, and the habits that tell them apart.

What each persona *does* in a session is scripted in :mod:`firstmile.demo.timeline`;
here are the numbers and choices behind it: how common each persona is, which
devices they use, how often they come back.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from enum import StrEnum

from firstmile.demo.devices import DESKTOP_DEVICES, MOBILE_DEVICES, POWER_DEVICES, Device

__all__ = [
    "PERSONA_WEIGHTS",
    "SESSION_GAP_HOURS",
    "SIGNUP_BROWSING_SHARE",
    "Persona",
    "draw_device",
    "draw_later_session_count",
]


class Persona(StrEnum):
    """The kinds of people in the population."""

    POWER_USER = "power_user"
    CASUAL_MOBILE = "casual_mobile"
    TEAM_ADMIN = "team_admin"
    HESITANT_TRIALIST = "hesitant_trialist"
    VISITOR = "visitor"

    @property
    def description(self) -> str:
        """One line a newcomer understands."""
        return _PERSONA_DESCRIPTIONS[self]


_PERSONA_DESCRIPTIONS = {
    Persona.POWER_USER: "power user exploring advanced features on desktop",
    Persona.CASUAL_MOBILE: "casual mobile user with short sessions",
    Persona.TEAM_ADMIN: "team admin who creates a workspace and invites teammates",
    Persona.HESITANT_TRIALIST: "hesitant trialist who stalls after signing up",
    Persona.VISITOR: "visitor who browses anonymously and never signs up",
}

# Shares of the population; they sum to 1.
PERSONA_WEIGHTS: Mapping[Persona, float] = {
    Persona.POWER_USER: 0.22,
    Persona.CASUAL_MOBILE: 0.30,
    Persona.TEAM_ADMIN: 0.14,
    Persona.HESITANT_TRIALIST: 0.22,
    Persona.VISITOR: 0.12,
}

# Who browses the marketing site anonymously before signing up; the others sign up
# straight from an invitation or an ad landing page. Visitors never sign up.
SIGNUP_BROWSING_SHARE: Mapping[Persona, float] = {
    Persona.POWER_USER: 0.7,
    Persona.CASUAL_MOBILE: 0.8,
    Persona.TEAM_ADMIN: 0.6,
    Persona.HESITANT_TRIALIST: 0.85,
}

# Hours between two sessions (or, for visitors, two visits): hours for engaged
# people, days for hesitant ones.
SESSION_GAP_HOURS: Mapping[Persona, tuple[int, int]] = {
    Persona.POWER_USER: (2, 40),
    Persona.CASUAL_MOBILE: (5, 72),
    Persona.TEAM_ADMIN: (3, 48),
    Persona.HESITANT_TRIALIST: (72, 168),
    Persona.VISITOR: (6, 96),
}

# How many sessions follow the sign-up session, at least and at most.
_LATER_SESSIONS: Mapping[Persona, tuple[int, int]] = {
    Persona.POWER_USER: (3, 7),
    Persona.CASUAL_MOBILE: (1, 4),
    Persona.TEAM_ADMIN: (2, 5),
}


def draw_device(rng: random.Random, persona: Persona) -> Device:
    """The browser someone signs up with (or, for visitors, browses with)."""
    if persona is Persona.POWER_USER:
        return rng.choice(POWER_DEVICES)
    if persona is Persona.CASUAL_MOBILE:
        return rng.choice(MOBILE_DEVICES)
    if persona is Persona.TEAM_ADMIN:
        return rng.choice(DESKTOP_DEVICES)
    mobile_share = 0.5 if persona is Persona.HESITANT_TRIALIST else 0.4
    pool = MOBILE_DEVICES if rng.random() < mobile_share else DESKTOP_DEVICES
    return rng.choice(pool)


def draw_later_session_count(rng: random.Random, persona: Persona) -> int:
    """Sessions after the sign-up session; hesitant trialists mostly never come back."""
    low_high = _LATER_SESSIONS.get(persona)
    if low_high is not None:
        return rng.randint(*low_high)
    return 1 if rng.random() < 0.4 else 0
