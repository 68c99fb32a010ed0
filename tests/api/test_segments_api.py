"""The read API under a server key: users, segments, members, preview (in process)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from firstmile.api.app import create_app
from firstmile.clock import FixedClock
from firstmile.service import Firstmile
from firstmile.settings import load_settings

from .support import TestClient, basic, make_client
from .test_errors import assert_error_shape

CONFIG = """
version: 1
saved_groups:
  beta: [u2]
segments:
  - key: pro
    name: Pro plan
    description: Paying users.
    condition: {plan: pro}
  - key: beta
    name: Beta testers
    condition: {user_id: {$inGroup: beta}}
  - key: pro_beta
    name: Pro beta
    condition: {segments.pro: true, segments.beta: true}
scores:
  - key: engaged
    name: Engaged
    terms:
      - event: Completed Step
        window: all
        weight: 10
        cap: 5
    scale:
      max: 50
    thresholds:
      - segment: engaged_users
        min: 60
"""


@dataclass(frozen=True)
class Api:
    client: TestClient
    fm: Firstmile
    server_key: str
    write_key: str

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params, headers=self.auth)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(path, json=body, headers=self.auth)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.server_key}"}


def _steps(user: str, count: int) -> list[dict[str, Any]]:
    return [
        {"type": "track", "userId": user, "event": "Completed Step", "messageId": f"{user}-{i}"}
        for i in range(count)
    ]


@pytest.fixture
def api(tmp_path: Path, clock: FixedClock) -> Iterator[Api]:
    (tmp_path / "firstmile.yaml").write_text(CONFIG, encoding="utf-8")
    settings = load_settings(home=tmp_path, environ={})
    with Firstmile.open(settings, clock=clock) as fm:
        fm.ingest_items(
            [
                {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}},
                {"type": "identify", "userId": "u2", "traits": {"plan": "pro"}},
                {"type": "identify", "userId": "u3", "traits": {"plan": "free"}},
                *_steps("u1", 4),
            ]
        )
        with make_client(create_app(settings, service=fm)) as client:
            yield Api(
                client,
                fm,
                fm.create_key("server", label="test"),
                fm.create_key("write", label="test"),
            )


# -- GET /v1/users/{id} ---------------------------------------------------------------------


def test_user_has_segments_with_entry_times_and_scores(api: Api) -> None:
    user = api.get("/v1/users/u2")
    assert user["user_id"] == "u2"
    assert user["traits"] == {"plan": "pro"}
    assert "event_count" in user["computed"]
    assert {s["key"] for s in user["segments"]} == {"pro", "beta", "pro_beta"}
    pro = next(s for s in user["segments"] if s["key"] == "pro")
    assert pro["name"] == "Pro plan"
    assert pro["entered_at"].startswith("2026-11-25T12:00")
    assert user["scores"]["engaged"] == {"value": 0.0, "raw": 0.0, "contributions": [
        {"label": "events.Completed Step.count", "value": 0.0, "decay": 1.0, "contribution": 0.0}
    ]}  # fmt: skip


def test_user_scores_explain_their_value(api: Api) -> None:
    engaged = api.get("/v1/users/u1")["scores"]["engaged"]
    assert engaged["raw"] == 40.0
    assert engaged["value"] == 80.0
    assert engaged["contributions"][0]["contribution"] == 40.0
    assert "engaged_users" in {s["key"] for s in api.get("/v1/users/u1")["segments"]}


def test_unknown_user_is_a_404(api: Api) -> None:
    response = api.client.get("/v1/users/nobody", headers=api.auth)
    assert_error_shape(response, 404, "not_found")


# -- GET /v1/segments -----------------------------------------------------------------------


def test_segments_list_with_sizes(api: Api) -> None:
    segments = api.get("/v1/segments")["segments"]
    sizes = {s["key"]: s["size"] for s in segments}
    assert sizes == {"pro": 2, "beta": 1, "pro_beta": 1, "engaged_users": 1}
    engaged = next(s for s in segments if s["key"] == "engaged_users")
    assert engaged["kind"] == "threshold"
    assert engaged["threshold"] == {"score": "engaged", "min": 60.0, "max": None}


def test_one_segment(api: Api) -> None:
    pro = api.get("/v1/segments/pro")
    assert pro["condition"] == {"plan": "pro"}
    assert pro["size"] == 2
    assert pro["kind"] == "rule"
    assert_error_shape(api.client.get("/v1/segments/nope", headers=api.auth), 404, "not_found")


# -- GET /v1/segments/{key}/members ---------------------------------------------------------


def test_members_are_paged(api: Api) -> None:
    first = api.get("/v1/segments/pro/members", limit=1)
    second = api.get("/v1/segments/pro/members", limit=1, offset=1)
    assert first["total"] == 2
    assert len(first["members"]) == len(second["members"]) == 1
    users = {first["members"][0]["user_id"], second["members"][0]["user_id"]}
    assert users == {"u1", "u2"}
    assert first["members"][0]["profile_id"]
    assert first["members"][0]["entered_at"]
    assert api.get("/v1/segments/pro/members", offset=5)["members"] == []


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=x", "offset=-1"])
def test_members_paging_is_validated(api: Api, query: str) -> None:
    response = api.client.get(f"/v1/segments/pro/members?{query}", headers=api.auth)
    body = assert_error_shape(response, 400, "invalid_request")
    assert body["field"] is not None
    assert query.split("=", maxsplit=1)[0] in body["field"]


def test_members_of_an_unknown_segment_is_a_404(api: Api) -> None:
    response = api.client.get("/v1/segments/nope/members", headers=api.auth)
    assert_error_shape(response, 404, "not_found")


# -- POST /v1/segments/preview --------------------------------------------------------------


def test_preview_counts_and_samples_without_saving(api: Api) -> None:
    sizes_before = api.fm.store.segment_sizes()
    response = api.post("/v1/segments/preview", {"condition": {"plan": "pro"}, "sample": 1})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["matching"] == 2
    assert result["total"] == 3
    assert len(result["sample"]) == 1
    assert api.fm.store.segment_sizes() == sizes_before


def test_preview_reads_segments_scores_and_saved_groups(api: Api) -> None:
    cases = [
        ({"segments.pro_beta": True}, 1),
        ({"scores.engaged": {"$gte": 60}}, 1),
        ({"user_id": {"$inGroup": "beta"}}, 1),
        ({"events.Completed Step.count": {"$gt": 3}}, 1),
        ({}, 3),
    ]
    for condition, matching in cases:
        result = api.post("/v1/segments/preview", {"condition": condition}).json()
        assert result["matching"] == matching, condition


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"condition": {"age": {"$gtt": 1}}}, "/age/$gtt"),
        ({"condition": {"name": {"$regex": "("}}}, "/name/$regex"),
        ({"condition": {"$and": 3}}, "/$and"),
        ({"condition": {"$or": [{"a": 1}, {"b": {"$in": 5}}]}}, "/$or/1/b/$in"),
        ({"condition": {"u": {"$inGroup": "missing"}}}, "/u/$inGroup"),
        ({"condition": [1, 2]}, ""),
        ({"condition": "plan"}, ""),
    ],
)
def test_preview_of_a_bad_condition_points_at_the_part(
    api: Api, body: dict[str, Any], field: str
) -> None:
    body = assert_error_shape(api.post("/v1/segments/preview", body), 400, "invalid_condition")
    assert body["field"] == field


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "condition"),
        ({"condition": {}, "sample": 101}, "sample"),
        ({"condition": {}, "sample": "3"}, "sample"),
        ({"condition": {}, "extra": 1}, "extra"),
        ([1], None),
    ],
)
def test_preview_of_a_bad_body_names_the_field(api: Api, body: Any, field: str | None) -> None:
    response = api.post("/v1/segments/preview", body)
    got = assert_error_shape(response, 400, "invalid_request")
    if field is not None:
        assert got["field"] == field


def test_preview_of_a_body_that_is_not_json_is_a_400(api: Api) -> None:
    response = api.client.post(
        "/v1/segments/preview",
        content=b"{not json",
        headers=api.auth | {"Content-Type": "application/json"},
    )
    assert_error_shape(response, 400)


@pytest.mark.parametrize("depth", [400, 900, 5000])
def test_preview_of_a_deeply_nested_condition_never_fails_the_server(api: Api, depth: int) -> None:
    condition = '{"$not": ' * depth + '{"plan": "pro"}' + "}" * depth
    response = api.client.post(
        "/v1/segments/preview",
        content='{"condition": ' + condition + "}",
        headers=api.auth | {"Content-Type": "application/json"},
    )
    if response.status_code == 200:
        assert response.json()["matching"] == 2  # an even number of $not
    else:
        assert_error_shape(response, 400)
    assert depth < 1000 or response.status_code == 400


# -- auth -----------------------------------------------------------------------------------

READS: list[tuple[str, str, Any]] = [
    ("GET", "/v1/users/u1", None),
    ("GET", "/v1/segments", None),
    ("GET", "/v1/segments/pro", None),
    ("GET", "/v1/segments/pro/members", None),
    ("POST", "/v1/segments/preview", {"condition": {}}),
]


@pytest.mark.parametrize("auth", ["none", "write-bearer", "write-basic", "unknown", "basic-server"])
@pytest.mark.parametrize(("method", "path", "body"), READS, ids=[r[1] for r in READS])
def test_reads_need_a_server_key(api: Api, auth: str, method: str, path: str, body: Any) -> None:
    headers = {
        "none": {},
        "write-bearer": {"Authorization": f"Bearer {api.write_key}"},
        "write-basic": basic(api.write_key),
        "unknown": {"Authorization": "Bearer fm_sk_" + "0" * 32},
        "basic-server": basic(api.server_key),
    }[auth]
    response = api.client.request(method, path, json=body, headers=headers)
    assert_error_shape(response, 401, "invalid_server_key")


def test_a_bad_body_without_a_key_is_still_a_401(api: Api) -> None:
    response = api.client.post("/v1/segments/preview", json={"condition": {"a": {"$x": 1}}})
    assert_error_shape(response, 401, "invalid_server_key")


def test_a_server_key_cannot_send_events_and_a_write_key_stays_valid(api: Api) -> None:
    api.get("/v1/segments")  # caches the server key
    track = {"userId": "u9", "event": "X"}
    response = api.client.post("/v1/track", json=track, headers=basic(api.server_key))
    assert_error_shape(response, 401, "invalid_write_key")
    ok = api.client.post("/v1/track", json=track, headers=basic(api.write_key))
    assert ok.status_code == 200, ok.text


def test_without_a_config_there_are_no_segments(tmp_path: Path, clock: FixedClock) -> None:
    settings = load_settings(home=tmp_path, environ={})
    with Firstmile.open(settings, clock=clock) as fm:
        key = fm.create_key("server", label="test")
        fm.ingest_items([{"type": "identify", "userId": "u1", "traits": {"plan": "pro"}}])
        with make_client(create_app(settings, service=fm)) as client:
            auth = {"Authorization": f"Bearer {key}"}
            assert client.get("/v1/segments", headers=auth).json() == {"segments": []}
            user = client.get("/v1/users/u1", headers=auth).json()
            assert (user["segments"], user["scores"]) == ([], {})
            preview = client.post(
                "/v1/segments/preview", json={"condition": {"plan": "pro"}}, headers=auth
            )
            assert preview.json() == {"matching": 1, "total": 1, "sample": [user["profile_id"]]}


# -- static segments ------------------------------------------------------------------------


def test_snapshot_copies_members_once(api: Api) -> None:
    response = api.post("/v1/segments/pro/snapshot", {"as": "pro_then", "name": "Pro then"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["kind"] == "static"
    assert (created["source"], created["of_segment"], created["size"]) == ("snapshot", "pro", 2)
    assert created["config_version"] == api.get("/v1/segments/pro")["config_version"]
    # u3 joins pro later: the snapshot does not change.
    api.fm.ingest_items([{"type": "identify", "userId": "u3", "traits": {"plan": "pro"}}])
    assert api.get("/v1/segments/pro")["size"] == 3
    page = api.get("/v1/static-segments/pro_then/members")
    assert page["total"] == 2
    assert {m["user_id"] for m in page["members"]} == {"u1", "u2"}
    listed = {s["key"]: s for s in api.get("/v1/segments")["segments"]}
    assert listed["pro_then"]["kind"] == "static"
    assert listed["pro_then"]["size"] == 2
    assert api.get("/v1/segments/pro_then/members")["total"] == 2


def test_upload_json_resolves_every_kind_of_id_and_reports_unknown_ones(api: Api) -> None:
    profile_id = api.get("/v1/users/u2")["profile_id"]
    body = {"key": "guests", "name": "Guests", "ids": ["u1", profile_id, "u1", "ghost"]}
    response = api.post("/v1/static-segments", body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["size"], created["unknown"], created["unknown_ids"]) == (2, 1, ["ghost"])
    assert created["source"] == "upload"
    listed = api.get("/v1/static-segments")["static_segments"]
    assert [(s["key"], s["size"]) for s in listed] == [("guests", 2)]
    members = api.get("/v1/static-segments/guests/members", limit=1)
    assert members["total"] == 2
    assert len(members["members"]) == 1


def test_upload_csv_with_an_id_column_or_one_id_per_line(api: Api) -> None:
    for key, text in [("by_column", "name,id\nA,u1\nB,u3\n"), ("by_line", "u1\n\nu2\n")]:
        response = api.client.post(
            f"/v1/static-segments?key={key}&name=From+CSV",
            content=text.encode(),
            headers=api.auth | {"Content-Type": "text/csv"},
        )
        assert response.status_code == 201, response.text
        assert response.json()["size"] == 2
        assert response.json()["name"] == "From CSV"


def test_delete_static_segment(api: Api) -> None:
    assert api.post("/v1/static-segments", {"key": "gone", "ids": ["u1"]}).status_code == 201
    response = api.client.delete("/v1/static-segments/gone", headers=api.auth)
    assert response.status_code == 200, response.text
    assert api.get("/v1/static-segments") == {"static_segments": []}
    again = api.client.delete("/v1/static-segments/gone", headers=api.auth)
    assert_error_shape(again, 404, "not_found")


@pytest.mark.parametrize(
    ("path", "body", "status", "code", "field"),
    [
        ("/v1/segments/pro/snapshot", {"as": "Bad Key"}, 400, "invalid_request", "as"),
        ("/v1/segments/pro/snapshot", {"as": "beta"}, 409, "conflict", "as"),
        ("/v1/segments/pro/snapshot", {"as": "taken"}, 409, "conflict", "key"),
        ("/v1/segments/nope/snapshot", {"as": "x"}, 404, "not_found", "key"),
        ("/v1/segments/pro/snapshot", {}, 400, "invalid_request", "as"),
        ("/v1/static-segments", {"key": "taken", "ids": ["u1"]}, 409, "conflict", "key"),
        ("/v1/static-segments", {"key": "pro", "ids": ["u1"]}, 409, "conflict", "key"),
        ("/v1/static-segments", {"key": "x", "ids": ["ghost"]}, 400, "invalid_request", "ids"),
        ("/v1/static-segments", {"key": "x", "ids": []}, 400, "invalid_request", "ids"),
        ("/v1/static-segments", {"key": "x", "ids": [1]}, 400, "invalid_request", "ids.0"),
        ("/v1/static-segments", {"key": "x"}, 400, "invalid_request", "ids"),
        ("/v1/static-segments", {"key": "x", "ids": ["u1"], "n": 1}, 400, "invalid_request", "n"),
    ],
)
def test_static_segment_errors(
    api: Api, path: str, body: Any, status: int, code: str, field: str
) -> None:
    assert api.post("/v1/static-segments", {"key": "taken", "ids": ["u1"]}).status_code == 201
    got = assert_error_shape(api.post(path, body), status, code)
    assert got["field"] == field
    assert [s["key"] for s in api.get("/v1/static-segments")["static_segments"]] == ["taken"]


@pytest.mark.parametrize(
    ("content", "content_type", "query", "status"),
    [
        (b"a,b\n1,2\n", "text/csv", "?key=x", 400),  # no id column
        (b"id\n", "text/csv", "?key=x", 400),  # no ids
        (b"\xff\xfe", "text/csv", "?key=x", 400),  # not UTF-8
        (b"u1\n", "text/csv", "", 400),  # no key
        (b"u1\n", "application/xml", "?key=x", 415),
        (b"{not json", "application/json", "", 400),
        (b"[1]", "application/json", "", 400),
    ],
)
def test_bad_uploads_are_refused(
    api: Api, content: bytes, content_type: str, query: str, status: int
) -> None:
    response = api.client.post(
        f"/v1/static-segments{query}",
        content=content,
        headers=api.auth | {"Content-Type": content_type},
    )
    assert_error_shape(response, status)
    assert api.get("/v1/static-segments") == {"static_segments": []}


STATIC: list[tuple[str, str, Any]] = [
    ("POST", "/v1/segments/pro/snapshot", {"as": "copy"}),
    ("POST", "/v1/static-segments", {"key": "x", "ids": ["u1"]}),
    ("GET", "/v1/static-segments", None),
    ("GET", "/v1/static-segments/x/members", None),
    ("DELETE", "/v1/static-segments/x", None),
]


@pytest.mark.parametrize(("method", "path", "body"), STATIC, ids=[f"{r[0]} {r[1]}" for r in STATIC])
def test_static_segments_need_a_server_key(api: Api, method: str, path: str, body: Any) -> None:
    for headers in ({}, {"Authorization": f"Bearer {api.write_key}"}):
        response = api.client.request(method, path, json=body, headers=headers)
        assert_error_shape(response, 401, "invalid_server_key")


def test_delete_answers_what_was_deleted_and_refuses_config_segments(api: Api) -> None:
    assert api.post("/v1/static-segments", {"key": "gone", "ids": ["u1", "u2"]}).status_code == 201
    response = api.client.delete("/v1/static-segments/gone", headers=api.auth)
    assert response.json() == {"key": "gone", "name": "gone", "size": 2, "deleted": True}
    config_segment = api.client.delete("/v1/static-segments/pro", headers=api.auth)
    body = assert_error_shape(config_segment, 404, "not_found")
    assert "firstmile.yaml" in body["message"]
    assert api.get("/v1/segments/pro")["size"] == 2


# -- static segments of a user --------------------------------------------------------------


def test_user_lists_static_segments_with_rule_segments(api: Api, clock: FixedClock) -> None:
    clock.advance(timedelta(minutes=5))
    assert api.post("/v1/segments/pro/snapshot", {"as": "pro_then"}).status_code == 201
    clock.advance(timedelta(minutes=5))
    upload = {"key": "guests", "name": "Webinar guests", "ids": ["u2", "u3"]}
    assert api.post("/v1/static-segments", upload).status_code == 201
    segments = api.get("/v1/users/u2")["segments"]
    assert [(s["key"], s["kind"]) for s in segments] == [
        ("beta", "rule"),
        ("pro", "rule"),
        ("pro_beta", "rule"),
        ("pro_then", "static"),
        ("guests", "static"),
    ]  # earliest entry first: the rule segments at ingest, then each static segment
    guests = segments[-1]
    assert guests == {
        "key": "guests",
        "name": "Webinar guests",
        "kind": "static",
        "source": "upload",
        "of_segment": None,
        "entered_at": api.get("/v1/segments/guests")["created_at"],
    }
    assert segments[-2]["of_segment"] == "pro"
    assert [s["key"] for s in api.get("/v1/users/u3")["segments"]] == ["guests"]
    api.client.delete("/v1/static-segments/guests", headers=api.auth)
    assert "guests" not in {s["key"] for s in api.get("/v1/users/u2")["segments"]}


def test_user_threshold_segments_have_their_kind(api: Api) -> None:
    kinds = {s["key"]: s["kind"] for s in api.get("/v1/users/u1")["segments"]}
    assert kinds == {"pro": "rule", "engaged_users": "threshold"}


# -- preview reads memberships in bulk ------------------------------------------------------


def test_preview_reads_memberships_in_bulk_and_only_when_needed(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = api.fm.store
    calls: list[list[str]] = []
    bulk = store.memberships_of

    def memberships_of(profile_ids: Any) -> Any:
        ids = list(profile_ids)
        calls.append(ids)
        return bulk(ids)

    def one_by_one(profile_id: str) -> Any:
        raise AssertionError("the preview read one profile's memberships at a time")

    monkeypatch.setattr(store, "memberships_of", memberships_of)
    monkeypatch.setattr(store, "memberships", one_by_one)
    assert (
        api.post("/v1/segments/preview", {"condition": {"segments.pro_beta": True}}).json()[
            "matching"
        ]
        == 1
    )
    assert [len(ids) for ids in calls] == [3]
    calls.clear()
    for condition in ({"plan": "pro"}, {"scores.engaged": {"$gte": 60}}):
        assert api.post("/v1/segments/preview", {"condition": condition}).status_code == 200
    assert calls == []  # neither reads segments.* (the score does not either)
