"""Identity resolution: which profile an event belongs to, and which ids join it.

:func:`resolve` is pure: it reads a snapshot of the identity graph (who owns which id,
and which user id each profile carries) and returns a :class:`Resolution` for the
caller to apply. The rules:

* An anonymous id and a user id seen together (identify, or any call carrying both)
  join one profile: a new id attaches to the profile that has the other; an anonymous
  profile is **merged** into the known user's profile, so the anonymous history joins it.
* ``alias(previousId, userId)`` does the same for ``previousId``, which may be an
  anonymous id or an earlier user id (a rename).
* Two identified users are never merged automatically: such a request is recorded as a
  refused merge and the event goes to the profile of its ``userId``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from firstmile.events.model import Event
from firstmile.storage.base import IdentityKind

IdKey = tuple[IdentityKind, str]


@dataclass(frozen=True, slots=True)
class Resolution:
    """What to do for one event.

    ``profile_id`` is the profile the event applies to. ``create`` says it is new and
    carries ``user_id``. ``attach`` are ids to add to it, ``merge_from`` an anonymous
    profile to fold into it, ``refused`` a profile that could not be merged, with why.
    """

    profile_id: str
    create: bool = False
    user_id: str | None = None
    set_user_id: str | None = None  # an existing anonymous profile becomes this user
    attach: tuple[IdKey, ...] = ()
    merge_from: str | None = None
    refused: tuple[str, str] | None = None  # (profile id, reason)
    reason: str = field(default="")


def _owner(lookup: Mapping[IdKey, str], kind: IdentityKind, value: str | None) -> str | None:
    return None if value is None else lookup.get((kind, value))


def resolve(
    event: Event,
    lookup: Mapping[IdKey, str],
    user_of: Callable[[str], str | None],
    new_profile_id: Callable[[], str],
) -> Resolution:
    """Decide the profile of ``event`` given the current identity graph.

    ``lookup`` maps ``(kind, value)`` to a profile id; ``user_of`` tells the user id a
    profile carries (``None`` for an anonymous profile).
    """
    user_id = event.user_id
    # A previousId nobody has seen is taken to be an anonymous id.
    other_kind: IdentityKind = "anonymous_id"
    if event.type == "alias":
        other = event.previous_id
        other_profile = _owner(lookup, "user_id", other) or _owner(lookup, "anonymous_id", other)
        reason = "alias"
    else:
        other = event.anonymous_id
        other_profile = _owner(lookup, "anonymous_id", other)
        reason = "identify" if event.type == "identify" else "stitch"

    if user_id is None:
        # Anonymous traffic only.
        if other_profile is not None:
            return Resolution(profile_id=other_profile)
        assert other is not None  # validation guarantees an id
        return Resolution(profile_id=new_profile_id(), create=True, attach=((other_kind, other),))

    user_profile = _owner(lookup, "user_id", user_id)
    if other is None or (other == user_id and event.type != "alias"):
        if user_profile is not None:
            return Resolution(profile_id=user_profile)
        return Resolution(
            profile_id=new_profile_id(),
            create=True,
            user_id=user_id,
            attach=(("user_id", user_id),),
        )

    other_user = user_of(other_profile) if other_profile is not None else None
    # The other id's profile may be joined when it is anonymous, or (alias) when it is
    # the same person under an earlier user id.
    joinable = other_profile is not None and (
        other_user is None or (event.type == "alias" and other_user == other)
    )

    if user_profile is None:
        if other_profile is None:
            return Resolution(
                profile_id=new_profile_id(),
                create=True,
                user_id=user_id,
                attach=(("user_id", user_id), (other_kind, other)),
                reason=reason,
            )
        if joinable:
            return Resolution(
                profile_id=other_profile,
                set_user_id=user_id,
                attach=(("user_id", user_id),),
                reason=reason,
            )
        assert other_profile is not None
        return Resolution(
            profile_id=new_profile_id(),
            create=True,
            user_id=user_id,
            attach=(("user_id", user_id),),
            refused=(other_profile, f"{other} belongs to another identified user"),
            reason=reason,
        )

    if other_profile is None:
        return Resolution(profile_id=user_profile, attach=((other_kind, other),), reason=reason)
    if other_profile == user_profile:
        return Resolution(profile_id=user_profile)
    if joinable and other_user is None:
        return Resolution(profile_id=user_profile, merge_from=other_profile, reason=reason)
    return Resolution(
        profile_id=user_profile,
        refused=(other_profile, "both profiles are identified users; merge them by hand"),
        reason=reason,
    )
