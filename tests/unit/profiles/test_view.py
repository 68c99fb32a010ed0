"""Tests for firstmile.profiles.view: what `users show` and the API print."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from firstmile.events.consent import ConsentPolicy
from firstmile.events.model import Purpose
from firstmile.profiles.model import Computed, ConsentDecision, Profile
from firstmile.profiles.view import profile_view
from firstmile.storage.base import ConsentRecord, Identity, MergeRecord, StoredEvent, TraitChange

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
NOW_HOUR = int(NOW.timestamp()) // 3600
DEFAULT_POLICY = ConsentPolicy.from_regimes("opt-out", "opt-out", "opt-in")


def profile() -> Profile:
    return Profile(
        profile_id="p1",
        user_id="u1",
        created_at=NOW - 48 * HOUR,
        updated_at=NOW,
        version=9,
        traits={"plan": "pro"},
        consent={Purpose.ANALYTICS: ConsentDecision(False, NOW - HOUR, "traits")},
        computed=Computed(
            first_seen=NOW - 48 * HOUR,
            last_seen=NOW,
            event_count=4,
            hourly={
                NOW_HOUR: {"*": 2, "A": 1},
                NOW_HOUR - 30: {"*": 1, "A": 1},
                NOW_HOUR - 200: {"*": 1},  # too old for any window
            },
        ),
    )


def test_profile_view_shows_windows_instead_of_hourly_buckets() -> None:
    view = profile_view(profile(), now=NOW, policy=DEFAULT_POLICY)
    computed = view["computed"]
    assert "hourly" not in computed
    assert computed["events_1d"] == 2
    assert computed["events_7d"] == 3
    assert computed["event_counts_1d"] == {"A": 1}
    assert computed["event_counts_7d"] == {"A": 2}
    assert computed["event_count"] == 4
    assert computed["first_seen"] == (NOW - 48 * HOUR).isoformat()


def test_profile_view_consent_is_the_effective_state_of_every_purpose() -> None:
    view = profile_view(profile(), now=NOW, policy=DEFAULT_POLICY)
    assert view["consent"] == {
        "necessary": {"granted": True, "stated": False, "at": None},
        "analytics": {"granted": False, "stated": True, "at": (NOW - HOUR).isoformat()},
        "personalization": {"granted": True, "stated": False, "at": None},  # opt-out
        "marketing": {"granted": False, "stated": False, "at": None},  # opt-in
    }
    everything_opt_in = ConsentPolicy.from_regimes("opt-in", "opt-in", "opt-in")
    strict = profile_view(profile(), now=NOW, policy=everything_opt_in)["consent"]
    assert strict["personalization"]["granted"] is False


def test_profile_view_lists_identities_and_history() -> None:
    view = profile_view(
        profile(),
        now=NOW,
        policy=DEFAULT_POLICY,
        identities=[
            Identity("anonymous_id", "a1", "p1", NOW - 48 * HOUR),
            Identity("user_id", "u1", "p1", NOW - HOUR),
            Identity("anonymous_id", "a2", "p1", NOW),
        ],
        trait_history=[TraitChange("p1", 9, "plan", "free", "pro", NOW, "m9")],
        consent_history=[ConsentRecord("p1", "analytics", False, "traits", "m8", NOW - HOUR)],
        merges=[MergeRecord("p2", "p1", "identify", "merged", "m7", NOW - 2 * HOUR)],
        events=[
            StoredEvent(
                source_id="default",
                message_id="m9",
                profile_id="p1",
                type="track",
                name="A",
                user_id="u1",
                anonymous_id=None,
                timestamp=NOW,
                received_at=NOW,
                sent_at=None,
                original_timestamp=None,
                payload={},
                consent={"analytics": True},
            )
        ],
    )
    assert view["profile_id"] == "p1"
    assert view["user_id"] == "u1"
    assert view["version"] == 9
    assert view["traits"] == {"plan": "pro"}
    assert view["identities"] == {"user_id": ["u1"], "anonymous_id": ["a1", "a2"]}
    assert view["trait_history"] == [
        {"version": 9, "trait": "plan", "old": "free", "new": "pro", "at": NOW.isoformat()}
    ]
    assert view["consent_history"] == [
        {
            "purpose": "analytics",
            "granted": False,
            "source": "traits",
            "at": (NOW - HOUR).isoformat(),
        }
    ]
    assert view["merges"] == [
        {
            "from": "p2",
            "into": "p1",
            "outcome": "merged",
            "reason": "identify",
            "at": (NOW - 2 * HOUR).isoformat(),
        }
    ]
    assert view["recent_events"] == [
        {"type": "track", "name": "A", "timestamp": NOW.isoformat(), "message_id": "m9"}
    ]
    orjson.dumps(view)  # JSON-ready


def test_profile_view_of_a_fresh_profile() -> None:
    fresh = Profile(profile_id="p1", user_id=None, created_at=NOW, updated_at=NOW)
    view = profile_view(fresh, now=NOW, policy=DEFAULT_POLICY)
    assert view["identities"] == {"user_id": [], "anonymous_id": []}
    assert view["computed"]["events_7d"] == 0
    assert view["computed"]["last_seen"] is None
    assert view["trait_history"] == view["merges"] == view["recent_events"] == []


def test_profile_view_does_not_modify_the_profile() -> None:
    shown = profile()
    profile_view(shown, now=NOW, policy=DEFAULT_POLICY)
    assert shown == profile()
    assert len(shown.computed.hourly) == 3
