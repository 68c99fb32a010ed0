"""What people answer on the consent banner, and how different banners word it."""

from __future__ import annotations

import random

__all__ = ["CONSENT_VOCABULARIES", "draw_consent"]

# Consent-banner vocabularies: different consent tools name the same purposes
# differently; firstmile maps them all (see firstmile.events.consent.CATEGORY_ALIASES).
CONSENT_VOCABULARIES: tuple[dict[str, str], ...] = (
    {"analytics": "Analytics", "personalization": "Functional", "marketing": "Advertising"},
    {"analytics": "performance", "personalization": "personalization", "marketing": "marketing"},
    {"analytics": "Statistics", "personalization": "Preferences", "marketing": "Targeting"},
)


def draw_consent(rng: random.Random) -> dict[str, bool]:
    """Most people ignore the banner; the others answer all three purposes."""
    deny_analytics = rng.random() < 0.13
    deny_personalization = rng.random() < 0.10
    grant_marketing = rng.random() < 0.18
    if not (deny_analytics or deny_personalization or grant_marketing):
        return {}
    return {
        "analytics": not deny_analytics,
        "personalization": not deny_personalization,
        "marketing": grant_marketing,
    }
