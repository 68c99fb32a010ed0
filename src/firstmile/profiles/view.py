"""What `firstmile users show` and the API print for one person (a pure function)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from firstmile.events.consent import ConsentPolicy
from firstmile.events.model import Purpose
from firstmile.profiles.model import Profile, profile_to_json
from firstmile.profiles.reduce import window_counts
from firstmile.storage.base import ConsentRecord, Identity, MergeRecord, StoredEvent, TraitChange


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def profile_view(
    profile: Profile,
    *,
    now: datetime,
    policy: ConsentPolicy,
    identities: Sequence[Identity] = (),
    trait_history: Sequence[TraitChange] = (),
    consent_history: Sequence[ConsentRecord] = (),
    merges: Sequence[MergeRecord] = (),
    events: Sequence[StoredEvent] = (),
) -> dict[str, Any]:
    """Everything known about one profile, as JSON-ready data.

    ``consent`` shows the effective state of every purpose, with ``stated`` telling
    whether the user said it or the settings' default applies.
    """
    data = profile_to_json(profile)
    computed = data["computed"]
    del computed["hourly"]  # internal; the windows below are its readable form
    computed.update(window_counts(profile.computed, now))
    return {
        "profile_id": profile.profile_id,
        "user_id": profile.user_id,
        "version": profile.version,
        "created_at": data["created_at"],
        "updated_at": data["updated_at"],
        "identities": {
            "user_id": [i.value for i in identities if i.kind == "user_id"],
            "anonymous_id": [i.value for i in identities if i.kind == "anonymous_id"],
        },
        "traits": profile.traits,
        "computed": computed,
        "consent": {
            purpose.value: {
                "granted": policy.granted(purpose, profile.consent),
                "stated": purpose in profile.consent,
                "at": _iso(profile.consent[purpose].at) if purpose in profile.consent else None,
            }
            for purpose in Purpose
        },
        "consent_history": [
            {
                "purpose": r.purpose,
                "granted": r.granted,
                "source": r.source,
                "at": _iso(r.recorded_at),
            }
            for r in consent_history
        ],
        "trait_history": [
            {
                "version": c.version,
                "trait": c.trait,
                "old": c.old_value,
                "new": c.new_value,
                "at": _iso(c.changed_at),
            }
            for c in trait_history
        ],
        "merges": [
            {
                "from": m.from_profile_id,
                "into": m.into_profile_id,
                "outcome": m.outcome,
                "reason": m.reason,
                "at": _iso(m.merged_at),
            }
            for m in merges
        ],
        "recent_events": [
            {
                "type": e.type,
                "name": e.name,
                "timestamp": _iso(e.timestamp),
                "message_id": e.message_id,
            }
            for e in events
        ],
    }
