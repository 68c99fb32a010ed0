"""Tests for firstmile.profiles.identity: every branch of ``resolve``, as a table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from firstmile.events.model import Event, EventType
from firstmile.profiles.identity import IdKey, Resolution, resolve

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

# The identity graph every case starts from:
#   pA  anonymous profile with anonymous id a1
#   pU  user u1, with anonymous id a-u1
#   pV  user u2, with anonymous id a-u2
#   pO  user "old" (an earlier user id of someone who will be renamed)
LOOKUP: dict[IdKey, str] = {
    ("anonymous_id", "a1"): "pA",
    ("user_id", "u1"): "pU",
    ("anonymous_id", "a-u1"): "pU",
    ("user_id", "u2"): "pV",
    ("anonymous_id", "a-u2"): "pV",
    ("user_id", "old"): "pO",
}
USERS: dict[str, str | None] = {"pA": None, "pU": "u1", "pV": "u2", "pO": "old"}


def event(
    kind: EventType,
    *,
    user: str | None = None,
    anon: str | None = None,
    previous: str | None = None,
) -> Event:
    return Event(
        message_id="m1",
        type=kind,
        user_id=user,
        anonymous_id=anon,
        timestamp=NOW,
        received_at=NOW,
        event="A" if kind == "track" else None,
        previous_id=previous,
    )


def run(e: Event) -> tuple[Resolution, int]:
    created = 0

    def new_profile_id() -> str:
        nonlocal created
        created += 1
        return "new"

    return resolve(e, LOOKUP, USERS.__getitem__, new_profile_id), created


CASES: list[tuple[str, Event, Resolution]] = [
    # -- anonymous traffic only
    (
        "unknown anonymous id: new anonymous profile",
        event("page", anon="a-new"),
        Resolution("new", create=True, attach=(("anonymous_id", "a-new"),)),
    ),
    ("known anonymous id: its profile", event("track", anon="a1"), Resolution("pA")),
    ("anonymous id of a user: that user", event("page", anon="a-u1"), Resolution("pU")),
    # -- user id only
    (
        "unknown user id: new profile",
        event("track", user="u-new"),
        Resolution("new", create=True, user_id="u-new", attach=(("user_id", "u-new"),)),
    ),
    ("known user id: its profile", event("identify", user="u1"), Resolution("pU")),
    (
        "anonymous id equal to the user id counts as user only",
        event("track", user="u1", anon="u1"),
        Resolution("pU"),
    ),
    # -- both ids
    (
        "both new (identify)",
        event("identify", user="u-new", anon="a-new"),
        Resolution(
            "new",
            create=True,
            user_id="u-new",
            attach=(("user_id", "u-new"), ("anonymous_id", "a-new")),
            reason="identify",
        ),
    ),
    (
        "both new (any other call stitches)",
        event("track", user="u-new", anon="a-new"),
        Resolution(
            "new",
            create=True,
            user_id="u-new",
            attach=(("user_id", "u-new"), ("anonymous_id", "a-new")),
            reason="stitch",
        ),
    ),
    (
        "new anonymous id attaches to the known user",
        event("identify", user="u1", anon="a-new"),
        Resolution("pU", attach=(("anonymous_id", "a-new"),), reason="identify"),
    ),
    (
        "anonymous profile becomes the new user",
        event("identify", user="u-new", anon="a1"),
        Resolution("pA", set_user_id="u-new", attach=(("user_id", "u-new"),), reason="identify"),
    ),
    (
        "anonymous profile merges into the known user",
        event("identify", user="u1", anon="a1"),
        Resolution("pU", merge_from="pA", reason="identify"),
    ),
    (
        "a page with both ids merges too",
        event("page", user="u1", anon="a1"),
        Resolution("pU", merge_from="pA", reason="stitch"),
    ),
    (
        "both ids already on one profile",
        event("identify", user="u1", anon="a-u1"),
        Resolution("pU"),
    ),
    (
        "two identified users are never merged",
        event("identify", user="u1", anon="a-u2"),
        Resolution(
            "pU",
            refused=("pV", "both profiles are identified users; merge them by hand"),
            reason="identify",
        ),
    ),
    (
        "a new user on another user's device gets their own profile",
        event("identify", user="u-new", anon="a-u2"),
        Resolution(
            "new",
            create=True,
            user_id="u-new",
            attach=(("user_id", "u-new"),),
            refused=("pV", "a-u2 belongs to another identified user"),
            reason="identify",
        ),
    ),
    # -- alias
    (
        "alias from an anonymous id to a new user",
        event("alias", user="u-new", previous="a1"),
        Resolution("pA", set_user_id="u-new", attach=(("user_id", "u-new"),), reason="alias"),
    ),
    (
        "alias from an anonymous id to a known user merges",
        event("alias", user="u1", previous="a1"),
        Resolution("pU", merge_from="pA", reason="alias"),
    ),
    (
        "alias renames an earlier user id",
        event("alias", user="renamed", previous="old"),
        Resolution("pO", set_user_id="renamed", attach=(("user_id", "renamed"),), reason="alias"),
    ),
    (
        "alias between two identified users is refused",
        event("alias", user="u1", previous="u2"),
        Resolution(
            "pU",
            refused=("pV", "both profiles are identified users; merge them by hand"),
            reason="alias",
        ),
    ),
    (
        "alias from another user's anonymous id to a new user id is refused",
        event("alias", user="u-new", previous="a-u2"),
        Resolution(
            "new",
            create=True,
            user_id="u-new",
            attach=(("user_id", "u-new"),),
            refused=("pV", "a-u2 belongs to another identified user"),
            reason="alias",
        ),
    ),
    (
        "alias from an unknown id to a new user",
        event("alias", user="u-new", previous="x"),
        Resolution(
            "new",
            create=True,
            user_id="u-new",
            attach=(("user_id", "u-new"), ("anonymous_id", "x")),
            reason="alias",
        ),
    ),
    (
        "alias from an unknown id to a known user",
        event("alias", user="u1", previous="x"),
        Resolution("pU", attach=(("anonymous_id", "x"),), reason="alias"),
    ),
    ("alias to itself", event("alias", user="u1", previous="u1"), Resolution("pU")),
    (
        "alias ignores the message's anonymous id",
        event("alias", user="u1", previous="a-u1", anon="a1"),
        Resolution("pU"),
    ),
]


@pytest.mark.parametrize(("e", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_resolve(e: Event, expected: Resolution) -> None:
    resolution, created = run(e)
    assert resolution == expected
    assert created == int(expected.create)  # a profile id is drawn only for a new profile


def test_resolve_does_not_modify_the_graph() -> None:
    before = dict(LOOKUP)
    for _, e, _ in CASES:
        run(e)
    assert before == LOOKUP
