"""The simulated population is reproducible and has the mixes the demo promises.

All pure: no server, no files. Validation and enrichment are run on the generated
messages through firstmile's own public functions, so the demo cannot drift from what
the pipeline actually does.
"""

from __future__ import annotations

import zoneinfo
from collections import Counter
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from firstmile.demo.population import (
    COUNTRIES,
    DESKTOP_DEVICES,
    LATEST,
    MOBILE_DEVICES,
    PERSONA_WEIGHTS,
    SDK_CLIENT_COUNT,
    WINDOW,
    Country,
    Device,
    Persona,
    Population,
    build_population,
)
from firstmile.events.enrich import country_for_ip, parse_user_agent
from firstmile.events.model import Event, QuarantineReason, Rejection
from firstmile.events.normalize import normalize_country, normalize_locale
from firstmile.events.validate import RequestFacts, to_event

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def big() -> Population:
    """Large enough for the shares to be close to their targets."""
    return build_population(1000, seed=11, now=NOW)


@pytest.fixture(scope="module")
def small() -> Population:
    return build_population(60, seed=3, now=NOW)


# -- reproducibility -------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_population() -> None:
    first = build_population(80, seed=5, now=NOW)
    again = build_population(80, seed=5, now=NOW)
    assert first == again
    assert [m.message_id for m in first.messages()] == [m.message_id for m in again.messages()]


def test_another_seed_gives_other_people() -> None:
    first = build_population(80, seed=5, now=NOW)
    other = build_population(80, seed=6, now=NOW)
    assert [p.user_id for p in first.people] != [p.user_id for p in other.people]
    assert not {m.message_id for m in first.messages()} & {m.message_id for m in other.messages()}


def test_the_reference_time_only_shifts_the_dates() -> None:
    earlier = build_population(80, seed=5, now=NOW - timedelta(days=3, minutes=7))
    later = build_population(80, seed=5, now=NOW)
    assert [m.message_id for m in earlier.messages()] == [m.message_id for m in later.messages()]
    shifts = {
        b.timestamp - a.timestamp for a, b in zip(earlier.messages(), later.messages(), strict=True)
    }
    assert shifts == {timedelta(days=3, minutes=7)}


def test_size_and_time_are_checked() -> None:
    with pytest.raises(ValueError, match="at least one"):
        build_population(0, seed=1, now=NOW)
    with pytest.raises(ValueError, match="aware"):
        build_population(10, seed=1, now=datetime(2026, 1, 1))


# -- personas --------------------------------------------------------------------------------


def test_persona_shares_follow_their_weights(big: Population) -> None:
    counts = big.persona_counts()
    for persona, weight in PERSONA_WEIGHTS.items():
        assert abs(counts[persona] / len(big.people) - weight) < 0.05, persona


def test_small_populations_still_show_every_persona() -> None:
    assert set(build_population(5, seed=1, now=NOW).persona_counts()) == set(Persona)


def test_visitors_never_identify_and_everyone_else_does(small: Population) -> None:
    for person in small.people:
        user_ids = {m.user_id for m in person.messages()} - {None}
        if person.persona is Persona.VISITOR:
            assert person.user_id is None
            assert not user_ids
            assert person.browser_requests
            assert not person.sdk_messages
        else:
            assert person.user_id is not None
            assert person.sdk_messages[0].type == "identify"
            assert person.user_id in user_ids


def test_power_users_are_on_desktop_chrome_or_firefox(big: Population) -> None:
    for person in big.people:
        if person.persona is Persona.POWER_USER:
            assert person.device.kind == "desktop"
            assert person.device.browser in ("Chrome", "Firefox")
            assert person.device.os in ("macOS", "Windows", "Linux", "Ubuntu")
        if person.persona is Persona.CASUAL_MOBILE:
            assert person.device.kind == "mobile"


def test_team_admins_create_a_group_and_invite(big: Population) -> None:
    admins = [p for p in big.people if p.persona is Persona.TEAM_ADMIN]
    assert admins
    for admin in admins:
        kinds = Counter(m.type for m in admin.sdk_messages)
        events = Counter(m.event for m in admin.sdk_messages if m.type == "track")
        assert kinds["group"] == 1
        assert events["Created Workspace"] == 1
        assert events["Invited Teammate"] >= 1


def test_engaged_personas_come_back_more_than_hesitant_ones(big: Population) -> None:
    def average_messages(persona: Persona) -> float:
        people = [p for p in big.people if p.persona is persona]
        return sum(len(p.sdk_messages) for p in people) / len(people)

    assert average_messages(Persona.POWER_USER) > 2 * average_messages(Persona.HESITANT_TRIALIST)
    assert average_messages(Persona.TEAM_ADMIN) > average_messages(Persona.HESITANT_TRIALIST)


def test_onboarding_events_are_there(big: Population) -> None:
    events = Counter(m.event for m in big.messages() if m.type == "track")
    for name in (
        "Signed Up",
        "Completed Step",
        "Viewed Tutorial",
        "Used Feature",
        "Invited Teammate",
        "Created Workspace",
        "Dismissed Checklist",
        "Upgraded Plan",
    ):
        assert events[name] > 0, name


# -- identity --------------------------------------------------------------------------------


def test_anonymous_visits_are_identified_with_the_same_anonymous_id(big: Population) -> None:
    stitched = 0
    for person in big.people:
        if not person.identified or not person.browser_requests:
            continue
        anonymous_id = person.anonymous_ids[0]
        for request in person.browser_requests:
            for message in request.messages:
                assert message.user_id is None
                assert message.anonymous_id == anonymous_id
        signup = person.sdk_messages[0]
        assert signup.type == "identify"
        assert signup.anonymous_id == anonymous_id
        stitched += 1
    assert stitched > len(big.people) / 2


def test_second_devices_log_in_with_a_new_anonymous_id(big: Population) -> None:
    switchers = [p for p in big.people if p.merges]
    assert switchers
    for person in switchers:
        assert person.second_device is not None
        assert person.second_device.kind != person.device.kind
        logins = [
            m for r in person.second_device_requests for m in r.messages if m.type == "identify"
        ]
        assert len(logins) == 1
        assert logins[0].user_id == person.user_id
        assert logins[0].anonymous_id == person.anonymous_ids[-1]
        assert logins[0].anonymous_id not in person.anonymous_ids[:-1]


def test_an_alias_renames_a_few_users(big: Population) -> None:
    renamed = [p for p in big.people if p.previous_user_id is not None]
    assert 1 <= len(renamed) <= len(big.people) * 0.02
    for person in renamed:
        aliases = [m for m in person.sdk_messages if m.type == "alias"]
        assert len(aliases) == 1
        assert aliases[0].previous_id == person.previous_user_id
        assert aliases[0].user_id == person.user_id
        # Before the alias the old id is used; after it, the new one.
        position = person.sdk_messages.index(aliases[0])
        assert {m.user_id for m in person.sdk_messages[:position]} == {person.previous_user_id}
        assert {m.user_id for m in person.sdk_messages[position + 1 :]} <= {person.user_id}


def test_user_ids_are_unique(big: Population) -> None:
    ids = [p.user_id for p in big.people if p.user_id is not None]
    assert len(ids) == len(set(ids))


# -- timing ----------------------------------------------------------------------------------


def test_everything_happens_in_the_last_two_weeks_in_order(big: Population) -> None:
    for person in big.people:
        times = [m.timestamp for m in person.messages()]
        assert times == sorted(times), person.index
        assert all(NOW - WINDOW <= t <= NOW - LATEST for t in times)
        assert all(t.tzinfo is not None for t in times)
    days = {m.timestamp.date() for m in big.messages()}
    assert len(days) >= 14


def test_sessions_are_minutes_apart_inside_and_hours_apart_between(big: Population) -> None:
    gaps = [
        b.timestamp - a.timestamp
        for person in big.people
        for a, b in zip(list(person.messages()), list(person.messages())[1:], strict=False)
    ]
    within = [g for g in gaps if g <= timedelta(minutes=30)]
    between = [g for g in gaps if g > timedelta(minutes=30)]
    assert within
    assert between
    assert all(g >= timedelta(minutes=45) for g in between)  # a session surely ends
    assert max(between) >= timedelta(days=3)  # hesitant trialists take days


def test_hesitant_trialists_send_little(big: Population) -> None:
    for person in big.people:
        if person.persona is Persona.HESITANT_TRIALIST:
            assert len(person.sdk_messages) <= 7


# -- places, devices, traits -----------------------------------------------------------------


@pytest.mark.parametrize("country", COUNTRIES, ids=lambda c: c.code)
def test_every_ip_maps_to_its_country(country: Country) -> None:
    for ip in country.ips:
        assert country_for_ip(ip) == country.code, ip


def test_every_ip_used_is_a_known_country_ip(big: Population) -> None:
    known = {ip: country.code for country in COUNTRIES for ip in country.ips}
    for person in big.people:
        assert known[person.ip] == person.country.code
        assert country_for_ip(person.ip) == person.country.code
        for request in (*person.browser_requests, *person.second_device_requests):
            assert request.ip == person.ip
        for message in person.sdk_messages:
            assert message.context["ip"] == person.ip


def test_there_are_eight_to_twelve_countries(big: Population) -> None:
    assert 8 <= len(COUNTRIES) <= 12
    assert {p.country.code for p in big.people} == {c.code for c in COUNTRIES}


@pytest.mark.parametrize("country", COUNTRIES, ids=lambda c: c.code)
def test_locales_timezones_and_spellings_match_the_country(country: Country) -> None:
    zones = zoneinfo.available_timezones()
    for locale in country.locales:
        assert normalize_locale(locale) == locale
        assert locale.split("-")[-1] == country.code
    for zone in country.timezones:
        assert zone in zones
    for spelling in country.spellings:
        assert normalize_country(spelling) == country.code, spelling


@pytest.mark.parametrize(
    "device", [*DESKTOP_DEVICES, *MOBILE_DEVICES], ids=lambda d: f"{d.os}-{d.browser}"
)
def test_user_agents_parse_to_the_intended_device(device: Device) -> None:
    parsed = parse_user_agent(device.user_agent)
    assert (parsed.device_type, parsed.os, parsed.browser) == (
        device.kind,
        device.os,
        device.browser,
    )


def test_traits_are_messy_the_way_forms_are(big: Population) -> None:
    identifies = [m.traits for p in big.people for m in p.sdk_messages[:1] if m.type == "identify"]
    emails = [str(t["email"]) for t in identifies]
    assert any(e != e.strip() for e in emails)
    assert any(e.strip() != e.strip().lower() for e in emails)
    countries = Counter(str(t["country"]) for t in identifies)
    assert any(len(c) == 2 and c.islower() for c in countries)  # "de"
    assert any(len(c) > 3 for c in countries)  # "Germany"
    for traits in identifies:
        assert {"email", "name", "plan", "role", "country", "createdAt"} <= set(traits)


# -- consent ---------------------------------------------------------------------------------


def test_consent_mix(big: Population) -> None:
    people = len(big.people)
    said_nothing = sum(not p.consent for p in big.people)
    denied_analytics = sum(p.denies_analytics for p in big.people)
    denied_personalization = sum(p.consent.get("personalization") is False for p in big.people)
    granted_marketing = sum(p.consent.get("marketing") is True for p in big.people)
    assert said_nothing > people / 2
    assert 0.10 <= denied_analytics / people <= 0.16
    assert 0.05 <= denied_personalization / people <= 0.15
    assert 0.10 <= granted_marketing / people <= 0.25


def test_consent_is_stated_on_every_message_with_category_preferences(big: Population) -> None:
    for person in big.people:
        for message in person.messages():
            consent = message.context.get("consent")
            if not person.consent:
                assert consent is None
                continue
            assert isinstance(consent, dict)
            preferences = consent["categoryPreferences"]
            assert isinstance(preferences, dict)
            event = to_event(message.to_json(), RequestFacts(received_at=NOW))
            assert isinstance(event, Event)
            stated = {purpose.value: granted for purpose, granted in event.consent.items()}
            assert stated == dict(person.consent)


def test_denied_analytics_messages_are_counted(big: Population) -> None:
    assert big.denied_analytics_message_count == sum(
        1 for p in big.people if p.denies_analytics for _ in p.messages()
    )
    assert big.denied_analytics_message_count > 0


# -- transport -------------------------------------------------------------------------------


def test_every_well_formed_message_is_valid(big: Population) -> None:
    facts = RequestFacts(received_at=NOW)
    for message in big.messages():
        outcome = to_event(message.to_json(), facts)
        assert isinstance(outcome, Event), outcome


def test_message_ids_are_unique(big: Population) -> None:
    ids = [m.message_id for m in big.messages()] + [
        str(item.payload["messageId"]) for item in big.malformed
    ]
    assert len(ids) == len(set(ids))


def test_browser_and_sdk_traffic_are_both_used(big: Population) -> None:
    endpoints = Counter(
        r.endpoint for p in big.people for r in (*p.browser_requests, *p.second_device_requests)
    )
    assert set(endpoints) == {"p", "t", "i", "b"}
    for request in (r for p in big.people for r in p.browser_requests):
        if request.endpoint != "b":
            assert len(request.messages) == 1
            assert request.messages[0].type[0] == request.endpoint
    assert {p.sdk_client for p in big.people if p.sdk_messages} == set(range(SDK_CLIENT_COUNT))


def test_some_browser_requests_are_retried(big: Population, small: Population) -> None:
    for population in (big, small, build_population(5, seed=2, now=NOW)):
        assert population.retried_message_count > 0
    requests = [r for p in big.people for r in (*p.browser_requests, *p.second_device_requests)]
    share = sum(r.retried for r in requests) / len(requests)
    assert 0.02 <= share <= 0.10


# -- malformed messages ----------------------------------------------------------------------


def test_malformed_share_is_three_to_five_percent(big: Population) -> None:
    total = big.well_formed_count + len(big.malformed)
    assert 0.03 <= len(big.malformed) / total <= 0.05
    assert set(big.malformed_by_reason()) == {
        QuarantineReason.MISSING_ID.value,
        QuarantineReason.MISSING_EVENT.value,
        QuarantineReason.BAD_TIMESTAMP.value,
        QuarantineReason.BAD_TYPE.value,
        QuarantineReason.TOO_LARGE.value,
        QuarantineReason.UNKNOWN_TYPE.value,
    }


def test_small_populations_have_every_malformed_reason() -> None:
    population = build_population(5, seed=9, now=NOW)
    assert len(population.malformed_by_reason()) == 6


def test_each_malformed_message_fails_for_its_reason(big: Population) -> None:
    facts = RequestFacts(received_at=NOW)
    for item in big.malformed:
        outcome = to_event(item.payload, facts)
        assert isinstance(outcome, Rejection), item.description
        assert outcome.reason is item.reason, item.description


def test_oversize_messages_are_over_32_kb(big: Population) -> None:
    sizes = [
        len(orjson.dumps(item.payload))
        for item in big.malformed
        if item.reason is QuarantineReason.TOO_LARGE
    ]
    assert sizes
    assert all(32 * 1024 < size < 100 * 1024 for size in sizes)
