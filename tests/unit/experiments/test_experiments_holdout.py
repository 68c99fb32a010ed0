"""The global holdout: its share, its own seed, and its place among the reasons."""

from __future__ import annotations

from dataclasses import replace

import pytest

from firstmile.experiments import AssignmentReason, Experiment, Holdout, assign

TOUR = Experiment("welcome-tour", ("control", "tour"), hash_version=2)
USERS = [{"id": f"user-{i}"} for i in range(100_000)]


@pytest.mark.parametrize("share", [0.05, 0.2])
def test_the_holdout_holds_out_its_share_of_100k_users(share: float) -> None:
    holdout = Holdout(share=share)
    held = sum(holdout.contains(user) for user in USERS)
    assert abs(held / len(USERS) - share) < 0.01


def test_held_out_users_see_no_experiment_and_the_others_are_unchanged() -> None:
    holdout = Holdout(share=0.1)
    for user in USERS[:5000]:
        with_holdout = assign(TOUR, user, holdout=holdout)
        if holdout.contains(user):
            assert (with_holdout.in_experiment, with_holdout.variation) == (False, 0)
            assert with_holdout.reason is AssignmentReason.HOLDOUT
        else:
            assert with_holdout == assign(TOUR, user)


def test_the_holdout_has_its_own_seed() -> None:
    # Hashed with the experiment's seed, the held-out users would all sit at the bottom of
    # the control's range; with its own seed they spread over both variations.
    holdout = Holdout(share=0.2)
    held = [user for user in USERS[:20_000] if holdout.contains(user)]
    tour = sum(assign(TOUR, user).variation for user in held)
    assert 0.45 < tour / len(held) < 0.55
    other_seed = replace(holdout, seed="another-holdout")
    assert held != [user for user in USERS[:20_000] if other_seed.contains(user)]


def test_users_without_an_identity_are_not_held_out() -> None:
    holdout = Holdout(share=1.0)
    assert not holdout.contains({})
    assert holdout.bucket({}) is None
    assert holdout.contains({"anonymous_id": "a-1"})
    assert assign(TOUR, {}, holdout=holdout).reason is AssignmentReason.NO_HASH_ATTRIBUTE


def test_an_inactive_experiment_says_so_before_the_holdout() -> None:
    draft = replace(TOUR, status="draft")
    assert assign(draft, {"id": "u1"}, holdout=Holdout(share=1.0)).reason.value == "inactive"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"share": 1.5}, "share must be between 0 and 1, got 1.5"),
        ({"share": -0.1}, "share must be between 0 and 1"),
        ({"share": True}, "share must be between 0 and 1"),
        ({"share": 0.1, "seed": ""}, "its own non-empty seed"),
        ({"share": 0.1, "hash_version": 3}, "hash_version must be 1 or 2, got 3"),
    ],
)
def test_bad_holdouts_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Holdout(**kwargs)  # type: ignore[arg-type]
