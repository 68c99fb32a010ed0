"""Sticky assignment: the variation an anonymous user saw survives identification."""

from __future__ import annotations

from dataclasses import replace

import pytest

from firstmile.experiments import (
    AssignmentReason,
    Experiment,
    Holdout,
    Namespace,
    StickyRecord,
    assign,
    sticky_assign,
)

TOUR = Experiment("welcome-tour", ("control", "tour"), hash_version=2)


def _movers(experiment: Experiment, count: int) -> list[tuple[str, str]]:
    """(anonymous id, user id) pairs whose two ids hash into different variations."""
    pairs = []
    for i in range(1000):
        anonymous_id, user_id = f"anon-{i}", f"user-{i}"
        before = assign(experiment, {"anonymous_id": anonymous_id})
        after = assign(experiment, {"id": user_id})
        if before.in_experiment and before.variation != after.variation:
            pairs.append((anonymous_id, user_id))
        if len(pairs) == count:
            return pairs
    raise AssertionError("not enough users change variation")


def test_the_variation_seen_anonymously_is_kept_after_identification() -> None:
    for anonymous_id, user_id in _movers(TOUR, 20):
        before = assign(TOUR, {"anonymous_id": anonymous_id})
        record = StickyRecord.of(before)
        assert record == StickyRecord(
            "welcome-tour", "anonymous_id", anonymous_id, before.variation_key
        )
        identified = {"id": user_id, "anonymous_id": anonymous_id}
        after = sticky_assign(TOUR, identified, [record])
        assert (after.variation, after.in_experiment, after.sticky) == (
            before.variation,
            True,
            True,
        )
        assert after.reason is AssignmentReason.ASSIGNED
        assert (after.hash_attribute, after.hash_value) == ("id", user_id)
        assert after.bucket == assign(TOUR, identified).bucket
        # Storing the new record makes the user id alone enough from then on.
        again = sticky_assign(TOUR, {"id": user_id}, [record, StickyRecord.of(after)])  # type: ignore[list-item]
        assert again.variation == before.variation


def test_without_a_record_the_hash_decides() -> None:
    anonymous_id, user_id = _movers(TOUR, 1)[0]
    identified = {"id": user_id, "anonymous_id": anonymous_id}
    assert sticky_assign(TOUR, identified, []) == assign(TOUR, identified)
    other = StickyRecord("another-experiment", "anonymous_id", anonymous_id, "tour")
    assert sticky_assign(TOUR, identified, [other]) == assign(TOUR, identified)
    stranger = StickyRecord("welcome-tour", "anonymous_id", "someone-else", "tour")
    assert not sticky_assign(TOUR, identified, [stranger]).sticky


def test_a_record_for_a_removed_variation_is_ignored() -> None:
    record = StickyRecord("welcome-tour", "id", "u1", "old-variation")
    assert not sticky_assign(TOUR, {"id": "u1"}, [record]).sticky


def test_the_hash_attribute_record_wins_over_the_fallback_record() -> None:
    records = [
        StickyRecord("welcome-tour", "anonymous_id", "a1", "control"),
        StickyRecord("welcome-tour", "id", "u1", "tour"),
    ]
    result = sticky_assign(TOUR, {"id": "u1", "anonymous_id": "a1"}, records)
    assert result.variation_key == "tour"


def test_a_kept_variation_survives_later_changes_to_the_experiment() -> None:
    record = StickyRecord("welcome-tour", "id", "u1", "tour")
    changed = replace(TOUR, coverage=0.0, namespace=Namespace("ns", 0.0, 0.001))
    result = sticky_assign(changed, {"id": "u1"}, [record], holdout=Holdout(share=1.0))
    assert (result.variation_key, result.in_experiment, result.sticky) == ("tour", True, True)
    assert result.bucket is not None


@pytest.mark.parametrize(
    ("experiment", "forced", "reason"),
    [
        (replace(TOUR, status="stopped"), None, AssignmentReason.INACTIVE),
        (TOUR, {"welcome-tour": "control"}, AssignmentReason.FORCED),
    ],
)
def test_forced_and_inactive_win_over_a_record(
    experiment: Experiment, forced: dict[str, int | str] | None, reason: AssignmentReason
) -> None:
    record = StickyRecord("welcome-tour", "id", "u1", "tour")
    result = sticky_assign(experiment, {"id": "u1"}, [record], forced=forced)
    assert (result.reason, result.variation_key, result.sticky) == (reason, "control", False)


def test_only_hashed_assignments_are_recorded() -> None:
    assert StickyRecord.of(assign(TOUR, {})) is None
    assert StickyRecord.of(assign(replace(TOUR, coverage=0.0), {"id": "u1"})) is None
    assert StickyRecord.of(assign(TOUR, {"id": "u1"}, forced={"welcome-tour": 1})) is None
    assert StickyRecord.of(assign(TOUR, {"id": "u1"})) is not None


def test_sticky_assignment_equals_growthbook_sticky_bucketing() -> None:
    growthbook = pytest.importorskip("growthbook")
    service = growthbook.InMemoryStickyBucketService()
    ids = ["id", "anonymous_id"]

    def gb_run(attributes: dict[str, str], coverage: float) -> tuple[int, bool]:
        gb = growthbook.GrowthBook(
            sticky_bucket_service=service, sticky_bucket_identifier_attributes=ids
        )
        gb.set_attributes(attributes)
        result = gb.run(
            growthbook.Experiment(
                key="welcome-tour",
                variations=["control", "tour"],
                hashVersion=2,
                coverage=coverage,
                fallbackAttribute="anonymous_id",
                meta=[{"key": "control"}, {"key": "tour"}],
            )
        )
        return result.variationId, result.inExperiment

    records: list[StickyRecord] = []
    kept = 0
    for i in range(300):
        anonymous = {"anonymous_id": f"anon-{i}"}
        identified = {"id": f"user-{i}", "anonymous_id": f"anon-{i}"}
        for attributes, coverage in (
            (anonymous, 0.6),
            (identified, 0.3),
            ({"id": f"user-{i}"}, 0.3),
        ):
            experiment = replace(TOUR, coverage=coverage)
            ours = sticky_assign(experiment, attributes, records)
            assert (ours.variation, ours.in_experiment) == gb_run(attributes, coverage), attributes
            kept += ours.sticky
            record = StickyRecord.of(ours)
            if record is not None and record not in records:
                records.append(record)
    assert kept > 100
