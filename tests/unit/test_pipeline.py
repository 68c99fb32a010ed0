"""The ingest pipeline end to end through the facade, on a real SQLite file per test."""

from __future__ import annotations

import gzip
import sqlite3
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy.exc import DBAPIError

from firstmile.clock import FixedClock
from firstmile.errors import InvalidEvent, InvalidJSON, NotFound, Unauthorized
from firstmile.events.model import Event
from firstmile.events.validate import RequestFacts, to_event
from firstmile.pipeline import IngestResult, ingest
from firstmile.service import DEFAULT_SOURCE, Firstmile
from firstmile.settings import load_settings
from firstmile.storage.base import QuarantineRecord

PURPOSES = ("necessary", "analytics", "personalization", "marketing")
HOUR = timedelta(hours=1)
MakeFm = Callable[..., Firstmile]


def msg(
    kind: str, *, user: str | None = None, anon: str | None = None, **fields: Any
) -> dict[str, Any]:
    message: dict[str, Any] = {"type": kind, **fields}
    if user is not None:
        message["userId"] = user
    if anon is not None:
        message["anonymousId"] = anon
    return message


def track(event: str = "Clicked", **kw: Any) -> dict[str, Any]:
    return msg("track", event=event, **kw)


def page(path: str, **kw: Any) -> dict[str, Any]:
    return msg("page", properties={"path": path}, **kw)


def identify(traits: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    return msg("identify", traits=traits or {}, **kw)


def events_of(fm: Firstmile, any_id: str) -> list[dict[str, Any]]:
    return list(fm.user(any_id, events=100)["recent_events"])


def validated(fm: Firstmile, *items: dict[str, Any]) -> list[Event]:
    outcomes = [to_event(item, RequestFacts(received_at=fm.clock.now())) for item in items]
    assert all(isinstance(outcome, Event) for outcome in outcomes)
    return [outcome for outcome in outcomes if isinstance(outcome, Event)]


@pytest.fixture
def make_fm(tmp_path: Path, clock: FixedClock) -> Iterator[MakeFm]:
    """Open another workspace with settings overrides (e.g. an opt-in consent regime)."""
    opened: list[Firstmile] = []

    def make(**overrides: Any) -> Firstmile:
        home = tmp_path / f"workspace{len(opened)}"
        service = Firstmile.open(load_settings(home=home, environ={}, **overrides), clock=clock)
        opened.append(service)
        return service

    yield make
    for service in opened:
        service.close()


# --- one transaction per request ------------------------------------------------------------


def test_a_batch_is_stored(fm: Firstmile) -> None:
    result = fm.ingest_items(
        [identify({"plan": "pro"}, user="u1"), track(user="u1"), page("/home", user="u1")]
    )
    assert (result.accepted, result.duplicates, result.suppressed) == (3, 0, 0)
    assert result.quarantined == ()
    assert len(result.profile_ids) == 1
    assert len(events_of(fm, "u1")) == 3
    assert fm.store.counters() == {"accepted": 3}
    assert fm.store.profile_stats() == {"profiles": 1, "identified": 1, "anonymous": 0, "events": 3}


def test_a_batch_is_all_or_nothing(fm: Firstmile) -> None:
    # A real SQLite trigger makes the third insert fail, halfway through the transaction.
    database = fm.settings.home / "firstmile.db"
    with sqlite3.connect(database) as conn:
        conn.execute(
            "CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.message_id = 'm3' "
            "BEGIN SELECT RAISE(ABORT, 'boom'); END"
        )
    conn.close()
    batch = [
        identify({"plan": "pro"}, user="u1", messageId="m1"),
        track(user="u1", messageId="m2"),
        track(user="u1", messageId="m3"),
        {"type": "track"},  # quarantined in the same transaction
    ]
    with pytest.raises(DBAPIError, match="boom"):
        fm.ingest_items(batch)
    committed: list[IngestResult] = []
    with pytest.raises(DBAPIError, match="boom"):
        ingest(
            fm.store,
            validated(fm, *batch[:3]),
            [],
            source_id=DEFAULT_SOURCE,
            received_at=fm.clock.now(),
            options=fm.options,
            on_committed=committed.append,
        )
    assert committed == []  # side effects run only after a commit
    assert fm.store.profile_stats() == {"profiles": 0, "identified": 0, "anonymous": 0, "events": 0}
    assert fm.store.counters() == {}
    assert fm.quarantine() == []
    with pytest.raises(NotFound):
        fm.user("u1")

    with sqlite3.connect(database) as conn:
        conn.execute("DROP TRIGGER boom")
    conn.close()
    retried = fm.ingest_items(batch)  # nothing was remembered as seen
    assert (retried.accepted, retried.duplicates, len(retried.quarantined)) == (3, 0, 1)
    assert len(events_of(fm, "u1")) == 3


def test_on_committed_runs_after_the_commit(fm: Firstmile) -> None:
    seen: list[tuple[IngestResult, int]] = []

    def after(result: IngestResult) -> None:
        seen.append((result, fm.store.profile_stats()["events"]))  # visible to readers

    result = ingest(
        fm.store,
        validated(fm, track(user="u1")),
        [],
        source_id=DEFAULT_SOURCE,
        received_at=fm.clock.now(),
        options=fm.options,
        on_committed=after,
    )
    assert seen == [(result, 1)]


# --- deduplication --------------------------------------------------------------------------


def test_duplicates_in_one_batch_count_once(fm: Firstmile) -> None:
    result = fm.ingest_items([track(user="u1", messageId="m1"), track(user="u1", messageId="m1")])
    assert (result.accepted, result.duplicates) == (1, 1)
    assert len(events_of(fm, "u1")) == 1
    assert fm.user("u1")["computed"]["event_count"] == 1


def test_duplicates_across_requests_count_once(fm: Firstmile) -> None:
    fm.ingest_items([track(user="u1", messageId="m1")])
    again = fm.ingest_items([track(user="u1", messageId="m1"), track(user="u1", messageId="m2")])
    assert (again.accepted, again.duplicates) == (1, 1)
    assert len(events_of(fm, "u1")) == 2
    assert fm.store.counters() == {"accepted": 2, "duplicate": 1}


def test_retries_without_message_id_are_duplicates(fm: Firstmile) -> None:
    message = track(user="u1", timestamp="2026-11-25T11:00:00Z")
    fm.ingest_items([{**message, "sentAt": "2026-11-25T11:00:01Z"}])
    retry = fm.ingest_items([{**message, "sentAt": "2026-11-25T11:05:00Z"}])
    assert (retry.accepted, retry.duplicates) == (0, 1)


def test_the_same_message_id_from_another_source_is_not_a_duplicate(fm: Firstmile) -> None:
    fm.ingest_items([track(user="u1", messageId="m1")], source_id="web")
    other = fm.ingest_items([track(user="u1", messageId="m1")], source_id="ios")
    assert (other.accepted, other.duplicates) == (1, 0)
    assert len(events_of(fm, "u1")) == 2
    assert fm.store.counters(source_id="ios") == {"accepted": 1}


def test_a_suppressed_event_is_still_remembered_for_deduplication(fm: Firstmile) -> None:
    fm.ingest_items([identify({"consent_analytics": False}, user="u1")])
    first = fm.ingest_items([track(user="u1", messageId="m1")])
    second = fm.ingest_items([track(user="u1", messageId="m1")])
    assert (first.suppressed, second.suppressed, second.duplicates) == (1, 0, 1)


# --- identity ---------------------------------------------------------------------------------


def test_anonymous_history_joins_the_user_who_identifies(fm: Firstmile, clock: FixedClock) -> None:
    fm.ingest_items([page("/", anon="a1"), page("/pricing", anon="a1")])
    anonymous_profile = fm.find_profile_id("a1")
    clock.advance(HOUR)
    fm.ingest_items([identify({"plan": "pro"}, user="u1", anon="a1")])

    user = fm.user("u1")
    assert user["profile_id"] == anonymous_profile == fm.find_profile_id("a1")
    assert user["identities"] == {"user_id": ["u1"], "anonymous_id": ["a1"]}
    assert user["traits"] == {"plan": "pro"}
    assert user["computed"]["event_count"] == 3
    assert user["computed"]["type_counts"] == {"page": 2, "identify": 1}
    assert user["computed"]["last_pages"] == ["/pricing", "/"]
    assert [e["type"] for e in user["recent_events"]] == ["identify", "page", "page"]
    assert fm.store.profile_stats()["profiles"] == 1
    # the anonymous profile simply became the user's: nothing needed merging
    assert user["merges"] == []


@pytest.mark.parametrize(
    "stored_before",
    [
        2,  # the anonymous history was stored by earlier requests
        1,  # part of it arrives with the identify
        0,  # all of it arrives with the identify: the merge happens inside one batch
    ],
)
def test_an_anonymous_profile_merges_into_a_known_user(fm: Firstmile, stored_before: int) -> None:
    fm.ingest_items([identify({"plan": "pro"}, user="u1", anon="laptop"), track(user="u1")])
    known = fm.find_profile_id("u1")
    phone = [page("/", anon="phone"), track("Opened", anon="phone")]
    if stored_before:
        fm.ingest_items(phone[:stored_before])
        assert fm.find_profile_id("phone") != known
    result = fm.ingest_items(
        [*phone[stored_before:], identify({"plan": "team"}, user="u1", anon="phone")]
    )
    assert result.profile_ids == (known,)

    user = fm.user("phone")
    assert user["profile_id"] == known
    assert user["identities"]["anonymous_id"] == ["laptop", "phone"]
    assert user["traits"] == {"plan": "team"}
    assert user["computed"]["event_count"] == 5
    assert user["computed"]["event_counts"] == {"Clicked": 1, "Opened": 1}
    assert user["computed"]["events_1d"] == 5
    assert len(user["recent_events"]) == 5
    [merge] = user["merges"]
    assert (merge["into"], merge["outcome"], merge["reason"]) == (known, "merged", "identify")
    assert fm.store.profile_stats() == {"profiles": 1, "identified": 1, "anonymous": 0, "events": 5}
    with pytest.raises(NotFound):
        fm.user(merge["from"])  # the anonymous profile is gone


def test_a_merge_inside_a_batch_moves_only_the_merged_profiles_rows(fm: Firstmile) -> None:
    fm.ingest_items([identify(user="u1"), identify({"plan": "pro"}, user="u2", anon="a2")])
    result = fm.ingest_items(
        [
            page("/", anon="phone"),  # a new anonymous profile, merged below
            track("Other", user="u2"),
            identify({"consent_marketing": False}, anon="phone"),
            track("Other", anon="a2"),
            identify({"plan": "team"}, user="u1", anon="phone"),
            track("After", user="u1"),
        ]
    )
    u1, u2 = fm.user("phone", events=100), fm.user("a2", events=100)
    assert result.profile_ids == tuple(sorted((u1["profile_id"], u2["profile_id"])))
    assert u1["identities"] == {"user_id": ["u1"], "anonymous_id": ["phone"]}
    assert [e["type"] for e in reversed(u1["recent_events"])] == [
        "identify", "page", "identify", "identify", "track",
    ]  # fmt: skip
    assert [e["type"] for e in reversed(u2["recent_events"])] == ["identify", "track", "track"]
    assert [c["purpose"] for c in u1["consent_history"]] == ["marketing"]
    assert u2["consent_history"] == []
    assert fm.store.profile_stats()["profiles"] == 2


def test_two_identified_users_are_never_merged(fm: Firstmile) -> None:
    fm.ingest_items([identify(user="u1", anon="shared-laptop")])
    fm.ingest_items([identify(user="u2", anon="shared-laptop")])
    u1, u2 = fm.user("u1"), fm.user("u2")
    assert u1["profile_id"] != u2["profile_id"]
    assert u1["identities"] == {"user_id": ["u1"], "anonymous_id": ["shared-laptop"]}
    assert u2["identities"] == {"user_id": ["u2"], "anonymous_id": []}
    [refused] = u2["merges"]
    assert refused["outcome"] == "refused"
    assert (refused["from"], refused["into"]) == (u1["profile_id"], u2["profile_id"])
    assert "another identified user" in refused["reason"]
    assert u1["merges"] == u2["merges"]  # the refusal shows on both profiles

    # An alias between the two is refused as well.
    fm.ingest_items([msg("alias", user="u2", previousId="u1")])
    assert [m["outcome"] for m in fm.user("u2")["merges"]] == ["refused", "refused"]
    assert fm.store.profile_stats()["profiles"] == 2


def test_alias_renames_a_user(fm: Firstmile) -> None:
    fm.ingest_items([identify({"plan": "pro"}, user="old@example.com")])
    fm.ingest_items([msg("alias", user="u-42", previousId="old@example.com")])
    user = fm.user("u-42")
    assert user["user_id"] == "u-42"
    assert user["profile_id"] == fm.find_profile_id("old@example.com")
    assert user["traits"] == {"plan": "pro"}


# --- consent ----------------------------------------------------------------------------------


def test_a_user_who_denies_analytics_has_no_events_stored(fm: Firstmile) -> None:
    result = fm.ingest_items(
        [
            identify({"plan": "pro", "consent_analytics": False}, user="u1", anon="a1"),
            track(user="u1"),
            page("/", anon="a1"),
            identify({"seats": 3}, user="u1"),
        ]
    )
    assert (result.accepted, result.suppressed) == (4, 4)
    assert fm.store.counters() == {"accepted": 4, "suppressed": 4}
    user = fm.user("a1")
    assert user["recent_events"] == []
    assert user["identities"] == {"user_id": ["u1"], "anonymous_id": ["a1"]}
    assert user["traits"] == {"plan": "pro", "seats": 3}  # declared traits still apply
    assert user["computed"]["event_count"] == 0
    assert user["computed"]["events_7d"] == 0
    assert user["consent"]["analytics"] == {
        "granted": False,
        "stated": True,
        "at": fm.clock.now().isoformat(),
    }
    assert fm.store.profile_stats()["events"] == 0


def test_events_before_a_denial_are_kept_and_later_ones_are_not(fm: Firstmile) -> None:
    fm.ingest_items([track(user="u1")])
    denial = {"consent": {"categoryPreferences": {"Analytics": False}}}
    result = fm.ingest_items(
        [track(user="u1", context=denial, messageId="m2"), track(user="u1", messageId="m3")]
    )
    assert result.suppressed == 2
    assert len(events_of(fm, "u1")) == 1
    assert fm.user("u1")["consent_history"][0]["source"] == "context"


def test_opt_in_keeps_nothing_until_analytics_is_granted(make_fm: MakeFm) -> None:
    fm = make_fm(consent_analytics="opt-in")
    first = fm.ingest_items([track(user="u1", messageId="m1"), track(user="u1", messageId="m2")])
    assert first.suppressed == 2
    granted = fm.ingest_items(
        [identify({"consent": {"analytics": True}}, user="u1"), track(user="u1", messageId="m3")]
    )
    assert granted.suppressed == 0
    assert len(events_of(fm, "u1")) == 2
    assert fm.user("u1")["computed"]["event_count"] == 2


def test_the_consent_ledger_appends_only_on_change(fm: Firstmile, clock: FixedClock) -> None:
    deny = {"consent_analytics": False}
    fm.ingest_items([identify(deny, user="u1"), identify(deny, user="u1")])
    fm.ingest_items([identify(deny, user="u1")])
    assert len(fm.user("u1")["consent_history"]) == 1
    clock.advance(HOUR)
    fm.ingest_items([identify({"consent_analytics": True, "consent_marketing": True}, user="u1")])
    # a statement dated before the current decision does not change it
    fm.ingest_items([identify(deny, user="u1", timestamp="2026-11-25T00:00:00Z")])
    history = fm.user("u1")["consent_history"]
    assert [(r["purpose"], r["granted"]) for r in history] == [
        ("analytics", False),
        ("analytics", True),
        ("marketing", True),
    ]
    assert {r["source"] for r in history} == {"traits"}
    assert fm.user("u1")["consent"]["analytics"]["granted"] is True


def test_stored_events_carry_the_consent_state(fm: Firstmile) -> None:
    fm.ingest_items([track(user="u1", messageId="m1")])
    fm.ingest_items([identify({"consent_marketing": True}, user="u1", messageId="m2")])
    profile_id = fm.find_profile_id("u1")
    stored = {e.message_id: e.consent for e in fm.store.events(profile_id)}
    assert stored["m1"] == dict.fromkeys(PURPOSES, True) | {"marketing": False}
    assert stored["m2"] == dict.fromkeys(PURPOSES, True)


# --- traits -----------------------------------------------------------------------------------


def test_trait_history_keeps_old_and_new_values_with_versions(
    fm: Firstmile, clock: FixedClock
) -> None:
    fm.ingest_items([identify({"plan": "free", "email": "A@B.co"}, user="u1")])
    clock.advance(HOUR)
    fm.ingest_items([identify({"plan": "free", "email": "a@b.co"}, user="u1")])  # normalized: same
    fm.ingest_items([identify({"plan": "pro"}, user="u1", timestamp="2026-11-25T13:00:00Z")])
    user = fm.user("u1")
    newest, *first = user["trait_history"]  # most recent first
    assert (newest["trait"], newest["old"], newest["new"]) == ("plan", "free", "pro")
    assert newest["at"] == "2026-11-25T13:00:00+00:00"
    assert {(c["trait"], c["old"], c["new"]) for c in first} == {
        ("email", None, "a@b.co"),
        ("plan", None, "free"),
    }
    # both first traits came with one event: one version; the change has a later one
    assert len({c["version"] for c in first}) == 1
    assert newest["version"] > first[0]["version"]
    assert newest["version"] <= user["version"]
    assert user["traits"] == {"plan": "pro", "email": "a@b.co"}


# --- quarantine and replay --------------------------------------------------------------------


def only_pending(fm: Firstmile) -> QuarantineRecord:
    [record] = fm.quarantine()
    return record


def test_rejected_messages_are_quarantined_with_reason_payload_and_time(fm: Firstmile) -> None:
    bad = {"type": "track", "userId": "u1", "messageId": "m-bad"}
    result = fm.ingest_items([track(user="u1"), bad, "junk"])
    assert result.accepted == 1
    assert [(q.index, q.reason, q.field) for q in result.quarantined] == [
        (1, "missing_event", "event"),
        (2, "not_an_object", None),
    ]
    records = {r.id: r for r in fm.quarantine()}
    first = records[result.quarantined[0].quarantine_id]
    assert first.status == "pending"
    assert first.entry.reason == "missing_event"
    assert first.entry.field == "event"
    assert first.entry.payload == bad
    assert first.entry.message_id == "m-bad"
    assert first.entry.received_at == fm.clock.now()
    assert first.entry.source_id == DEFAULT_SOURCE
    assert records[result.quarantined[1].quarantine_id].entry.payload == {"item": "junk"}
    assert fm.store.counters() == {"accepted": 1, "quarantined": 2}
    assert fm.store.quarantine_reasons() == {"missing_event": 1, "not_an_object": 1}


def test_replay_of_a_fixed_payload_lands_the_event(fm: Firstmile, clock: FixedClock) -> None:
    fm.ingest_items([{"type": "track", "userId": "u1", "messageId": "m1"}])
    record = only_pending(fm)
    clock.advance(HOUR)
    outcome = fm.replay([record.id], payload={**record.entry.payload, "event": "Signed Up"})
    assert outcome["replayed"] == 1
    assert outcome["still_invalid"] == 0
    assert outcome["results"] == [{"id": record.id, "outcome": "replayed", "duplicate": False}]
    resolved = fm.quarantine_entry(record.id)
    assert resolved.status == "replayed"
    assert resolved.resolved_at == fm.clock.now()
    assert fm.quarantine() == []
    [event] = events_of(fm, "u1")
    assert (event["name"], event["message_id"]) == ("Signed Up", "m1")
    # replaying it again does nothing
    again = fm.replay([record.id])
    assert again["results"] == [{"id": record.id, "outcome": "skipped", "reason": "replayed"}]


def test_replay_of_a_still_invalid_message_stays_pending(fm: Firstmile) -> None:
    fm.ingest_items([{"type": "track", "userId": "u1"}])
    record = only_pending(fm)
    outcome = fm.replay([record.id])
    assert outcome["still_invalid"] == 1
    assert outcome["results"][0]["reason"] == "missing_event"
    wrong_fix = fm.replay([record.id], payload={"type": "track", "event": "A"})
    assert wrong_fix["results"][0]["reason"] == "missing_id"
    assert fm.quarantine_entry(record.id).status == "pending"
    assert len(fm.quarantine()) == 1  # the failed attempts were not quarantined again


def test_replay_of_an_unknown_entry_is_not_found(fm: Firstmile) -> None:
    with pytest.raises(NotFound):
        fm.replay([999])


# --- the HTTP path (bytes in) -----------------------------------------------------------------


def test_ingest_http_reads_gzip_batches_with_the_write_key_in_the_body(
    fm: Firstmile, write_key: str
) -> None:
    body = orjson.dumps(
        {
            "writeKey": write_key,
            "sentAt": "2026-11-25T12:00:00Z",
            "context": {"library": {"name": "analytics-python"}},
            "batch": [track(user="u1", messageId="m1"), {"type": "nope", "userId": "u1"}],
        }
    )
    result = fm.ingest_http(
        gzip.compress(body), endpoint="batch", header_key=None, content_encoding="gzip"
    )
    assert (result.accepted, len(result.quarantined)) == (1, 1)
    assert result.to_body()["success"] is True
    [stored] = fm.store.events(fm.find_profile_id("u1"))
    assert stored.payload["context"] == {"library": {"name": "analytics-python"}}


def test_ingest_http_fills_context_ip_for_browser_traffic(fm: Firstmile, write_key: str) -> None:
    body = orjson.dumps({"writeKey": write_key, **track(user="u1")})
    fm.ingest_http(body, endpoint="t", header_key=None, client_ip="8.8.8.8", browser=True)
    [stored] = fm.store.events(fm.find_profile_id("u1"))
    assert stored.payload["context"]["ip"] == "8.8.8.8"
    assert stored.payload["enrichment"]["country"] == "US"


def test_ingest_http_needs_a_known_write_key(fm: Firstmile) -> None:
    body = orjson.dumps(track(user="u1"))
    with pytest.raises(Unauthorized):
        fm.ingest_http(body, endpoint="track", header_key=None)
    with pytest.raises(Unauthorized):
        fm.ingest_http(body, endpoint="track", header_key="fm_wk_unknown")
    assert fm.store.profile_stats()["events"] == 0


def test_invalid_json_is_quarantined_when_the_key_is_known(fm: Firstmile, write_key: str) -> None:
    with pytest.raises(InvalidJSON):
        fm.ingest_http(b'{"type": "track",', endpoint="track", header_key=write_key)
    record = only_pending(fm)
    assert record.entry.reason == "invalid_json"
    assert record.entry.payload == '{"type": "track",'
    assert fm.store.counters() == {"quarantined": 1}


def test_invalid_json_without_a_header_key_is_refused_and_not_kept(fm: Firstmile) -> None:
    # The body's writeKey cannot be read, so the source is unknown.
    with pytest.raises(InvalidJSON):
        fm.ingest_http(b'{"writeKey": "k", ', endpoint="batch", header_key=None)
    assert fm.quarantine() == []


def test_a_rejected_single_message_is_an_error_and_quarantined(
    fm: Firstmile, write_key: str
) -> None:
    with pytest.raises(InvalidEvent, match="quarantined") as err:
        fm.ingest_http(b'{"userId": "u1"}', endpoint="track", header_key=write_key)
    assert (err.value.reason, err.value.field) == ("missing_event", "event")
    assert only_pending(fm).entry.payload == {"type": "track", "userId": "u1"}


def test_items_past_the_batch_limit_are_quarantined_as_overflow(make_fm: MakeFm) -> None:
    fm = make_fm(max_batch_items=2)
    key = fm.create_key("write", label="test")
    items = [track(user="u1", messageId=f"m{i}") for i in range(3)]
    result = fm.ingest_http(orjson.dumps({"batch": items}), endpoint="batch", header_key=key)
    assert result.accepted == 2
    [overflow] = result.quarantined
    assert (overflow.index, overflow.reason) == (2, "batch_overflow")
    assert only_pending(fm).entry.payload == items[2]


# --- reading profiles -------------------------------------------------------------------------


def test_user_is_found_by_user_id_anonymous_id_and_profile_id(fm: Firstmile) -> None:
    fm.ingest_items([identify({"plan": "pro"}, user="u1", anon="a1")])
    profile_id = fm.find_profile_id("u1")
    for any_id in ("u1", "a1", profile_id):
        assert fm.user(any_id)["profile_id"] == profile_id


@pytest.mark.parametrize("any_id", ["nobody", ""])
def test_an_unknown_user_is_not_found(fm: Firstmile, any_id: str) -> None:
    fm.ingest_items([identify(user="u1")])
    with pytest.raises(NotFound, match="tried user id, anonymous id, profile id") as err:
        fm.user(any_id)
    assert err.value.status == 404


def test_the_summary_counts_consent_by_purpose(fm: Firstmile) -> None:
    fm.ingest_items(
        [
            identify({"consent_analytics": False}, user="u1"),
            identify(user="u2"),
            page("/", anon="a"),
        ]
    )
    summary = fm.summary()
    assert summary["consent"]["analytics"] == {"granted": 2, "denied": 1}
    assert summary["consent"]["marketing"] == {"granted": 0, "denied": 3}
    assert summary["profiles"] == {"profiles": 3, "identified": 2, "anonymous": 1, "events": 2}
