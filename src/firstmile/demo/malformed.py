"""The malformed messages of a buggy integration, each made to fail validation for one reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from firstmile.demo.catalog import BASIC_FEATURES
from firstmile.demo.model import Malformed, Person, iso
from firstmile.demo.world import World
from firstmile.events.model import QuarantineReason

__all__ = ["MALFORMED_MIX", "MALFORMED_SHARE", "draw_malformed", "malformed_reasons"]

MALFORMED_SHARE = 0.04  # of the well-formed messages
# What goes wrong in real integrations, most common first; each reason appears at least once.
MALFORMED_MIX: Mapping[QuarantineReason, float] = {
    QuarantineReason.MISSING_ID: 0.25,
    QuarantineReason.MISSING_EVENT: 0.20,
    QuarantineReason.BAD_TIMESTAMP: 0.20,
    QuarantineReason.BAD_TYPE: 0.15,
    QuarantineReason.UNKNOWN_TYPE: 0.12,
    QuarantineReason.TOO_LARGE: 0.08,
}


def malformed_reasons(count: int) -> list[QuarantineReason]:
    """``count`` reasons split by :data:`MALFORMED_MIX` (largest remainder, each at least 1).

    >>> from collections import Counter
    >>> Counter(reason.value for reason in malformed_reasons(10))["missing_id"]
    2
    """
    reasons = list(MALFORMED_MIX)
    count = max(count, len(reasons))
    spare = count - len(reasons)
    shares = {reason: spare * MALFORMED_MIX[reason] for reason in reasons}
    counts = {reason: 1 + int(shares[reason]) for reason in reasons}
    by_remainder = sorted(reasons, key=lambda r: shares[r] - int(shares[r]), reverse=True)
    for reason in by_remainder[: count - sum(counts.values())]:
        counts[reason] += 1
    return [reason for reason in reasons for _ in range(counts[reason])]


def draw_malformed(world: World, count: int, people: Sequence[Person]) -> tuple[Malformed, ...]:
    """``count`` malformed messages (at least one per reason) about known users."""
    known = [p.user_id for p in people if p.user_id is not None] or ["usr_unknown"]
    reasons = malformed_reasons(count)
    world.rng.shuffle(reasons)
    return tuple(_malformed_one(world, reason, world.rng.choice(known)) for reason in reasons)


def _malformed_one(world: World, reason: QuarantineReason, user_id: str) -> Malformed:
    rng = world.rng
    at = world.start + (world.latest - world.start) * rng.random()
    base: dict[str, Any] = {
        "type": "track",
        "messageId": world.uuid4(),
        "timestamp": iso(at),
        "userId": user_id,
        "anonymousId": None,
        "event": "Used Feature",
        "properties": {"feature": rng.choice(BASIC_FEATURES)},
        "context": {"library": {"name": "billing-sync", "version": "0.3.1"}},
    }
    if reason is QuarantineReason.MISSING_ID:
        base["userId"] = None  # the integration lost track of who it was about
        return Malformed(reason, "track with neither userId nor anonymousId", base)
    if reason is QuarantineReason.MISSING_EVENT:
        if rng.random() < 0.5:
            del base["event"]
        else:
            base["event"] = ""
        return Malformed(reason, "track without an event name", base)
    if reason is QuarantineReason.BAD_TIMESTAMP:
        base["timestamp"] = rng.choice(
            ("31/12/2025 14:03", "2026-02-30T10:00:00Z", "yesterday", "Tue 3 Jun, 10am")
        )
        return Malformed(reason, "timestamp that is not a date-time", base)
    if reason is QuarantineReason.BAD_TYPE:
        base["properties"] = "feature=Templates&plan=pro"  # a query string, not an object
        return Malformed(reason, "properties sent as a string", base)
    if reason is QuarantineReason.TOO_LARGE:
        base["event"] = "Exported Report"
        # A whole report pasted into a property: over the 32 KB message limit.
        base["properties"] = {
            "format": "csv",
            "rows": "date,visits\n" + "2026-01-01,1\n" * 3200,
        }
        return Malformed(reason, "message over 32 KB", base)
    base["type"] = rng.choice(("purchase", "pageview", "event"))
    return Malformed(reason, "unknown message type", base)
