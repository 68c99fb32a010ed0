"""``POST /v1/decide`` in process: plans with reasons, read-your-writes, exposures, bad input."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firstmile.api.app import create_app
from firstmile.clock import FixedClock
from firstmile.service import Firstmile
from firstmile.settings import load_settings

from .support import TestClient, basic, make_client
from .test_errors import assert_error_shape

EXAMPLE = Path(__file__).parents[1] / "spec" / "config" / "valid" / "decide.yaml"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@dataclass(frozen=True)
class Api:
    client: TestClient
    fm: Firstmile
    server_key: str
    write_key: str

    def decide(self, body: Any) -> Any:
        response = self.client.post("/v1/decide", json=body, headers=self.auth)
        assert response.status_code == 200, response.text
        return response.json()

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.server_key}"}


@pytest.fixture
def api(tmp_path: Path, clock: FixedClock) -> Iterator[Api]:
    shutil.copy(EXAMPLE, tmp_path / "firstmile.yaml")
    # A generous budget: a loaded test machine must not turn slots into fallbacks.
    settings = load_settings(home=tmp_path, environ={"FIRSTMILE_DECIDE_BUDGET_MS": "5000"})
    with Firstmile.open(settings, clock=clock) as fm:
        fm.ingest_items(
            [
                {
                    "type": "identify",
                    "userId": "ana",
                    "traits": {"role": "admin", "first_name": "Ana"},
                },
                {"type": "identify", "userId": "bo", "traits": {"plan": "pro"}},
            ]
        )
        with make_client(create_app(settings, service=fm)) as client:
            yield Api(
                client, fm, fm.create_key("server", label="t"), fm.create_key("write", label="t")
            )


def test_a_known_user_gets_a_personal_plan_with_reasons(api: Api) -> None:
    plan = api.decide({"userId": "ana", "context": {"locale": "en-US"}})
    assert plan["known"] is True
    assert plan["welcome"]["item_id"] == "welcome_admin"
    assert plan["welcome"]["body"] == "Ana, invite your team first."
    assert plan["reasons"]["welcome"] == {
        "source": "rule",
        "rule": "admin_welcome",
        "segments": ["admins"],
        "detail": "Admins set up a team before anything else",
    }
    assert plan["steps"][0]["item_id"] == "invite_team"
    assert plan["config_version"] == api.fm.config.version_id  # type: ignore[union-attr]
    assert plan["profile_id"]


def test_an_unknown_user_gets_a_cold_start_plan_from_the_context(api: Api) -> None:
    plan = api.decide({"anonymousId": "visitor-1", "context": {"userAgent": IPHONE}})
    assert plan["known"] is False
    assert plan["profile_id"] is None
    assert plan["welcome"]["item_id"] == "welcome_mobile"
    assert plan["tutorial_depth"] == "guided"


def test_events_in_the_request_are_seen_by_the_plan(api: Api) -> None:
    before = api.decide({"userId": "bo"})
    assert {s["item_id"]: s["state"] for s in before["steps"]}["create_project"] == "todo"
    after = api.decide(
        {
            "userId": "bo",
            "events": [
                {"event": "Project Created", "messageId": "m1"},
                {"event": "Content Dismissed", "properties": {"item_id": "invite_team"}},
            ],
        }
    )
    states = {s["item_id"]: s["state"] for s in after["steps"]}
    assert states["create_project"] == "done"
    assert states["invite_team"] == "skipped"
    assert after["ingested"]["accepted"] == 2


def test_show_once_is_enforced_from_content_shown_events(api: Api) -> None:
    body = {"userId": "carla", "context": {"userAgent": IPHONE}}
    assert api.decide(body)["welcome"]["item_id"] == "welcome_mobile"
    shown = {"event": "Content Shown", "properties": {"item_id": "welcome_mobile"}}
    plan = api.decide({**body, "events": [shown]})
    assert plan["welcome"]["item_id"] == "welcome"
    assert plan["withheld"]["welcome_mobile"]["source"] == "frequency_cap"


def test_exposures_are_logged_once_per_item_and_day(api: Api) -> None:
    for _ in range(3):
        plan = api.decide({"userId": "ana"})
    assert api.fm.flush_exposures() > 0
    assert api.fm.flush_exposures() == 0  # nothing new: deduplicated in memory
    exposures = api.fm.store.exposures(plan["profile_id"])
    items = [e.item_id for e in exposures]
    assert len(items) == len(set(items))
    assert "welcome_admin" in items
    assert {e.config_version for e in exposures} == {plan["config_version"]}


def test_the_write_key_cannot_read_plans(api: Api) -> None:
    response = api.client.post("/v1/decide", json={"userId": "ana"}, headers=basic(api.write_key))
    assert_error_shape(response, 401)
    response = api.client.post(
        "/v1/decide", json={"userId": "ana"}, headers={"Authorization": f"Bearer {api.write_key}"}
    )
    assert_error_shape(response, 401)


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"", None),
        (b"{not json", None),
        (b"[1, 2]", None),
        (b'{"context": {}}', "userId"),
        (b'{"userId": "u", "context": "mobile"}', "context"),
        (b'{"userId": "u", "events": "x"}', "events"),
        (b'{"userId": "u", "surprise": 1}', "surprise"),
        (b'{"userId": "u", "context": ' + b"[" * 5000 + b"]" * 5000 + b"}", None),
    ],
)
def test_bad_bodies_are_400_saying_what_to_fix(api: Api, content: bytes, field: str | None) -> None:
    response = api.client.post(
        "/v1/decide",
        content=content,
        headers={**api.auth, "Content-Type": "application/json"},
    )
    body = assert_error_shape(response, 400)
    if field is not None:
        assert body.get("field") == field


def test_a_huge_body_is_413(api: Api) -> None:
    response = api.client.post(
        "/v1/decide",
        content=b'{"userId": "u", "context": {"x": "' + b"a" * 300_000 + b'"}}',
        headers={**api.auth, "Content-Type": "application/json"},
    )
    assert_error_shape(response, 413)


def test_a_bad_event_in_the_request_is_quarantined_and_the_plan_still_comes(api: Api) -> None:
    plan = api.decide({"userId": "ana", "events": [{"type": "track"}]})
    assert plan["welcome"]["item_id"] == "welcome_admin"
    assert len(plan["ingested"]["quarantined"]) == 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=20,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.dictionaries(
        st.sampled_from(["userId", "anonymousId", "context", "events"]), json_values, max_size=4
    )
)
def test_no_body_gets_a_5xx(api: Api, body: dict[str, Any]) -> None:
    response = api.client.post("/v1/decide", json=body, headers=api.auth)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        assert "reasons" in response.json()
