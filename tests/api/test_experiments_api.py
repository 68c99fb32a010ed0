"""Experiments and bandits over HTTP: the list, a report, a bandit's split, and errors."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firstmile.api.app import create_app
from firstmile.clock import FixedClock
from firstmile.service import Firstmile
from firstmile.settings import load_settings

from .support import TestClient, make_client
from .test_errors import assert_error_shape

CONFIG = Path(__file__).parents[1] / "spec" / "config" / "valid" / "trials.yaml"


@dataclass(frozen=True)
class Api:
    client: TestClient
    fm: Firstmile
    server_key: str
    write_key: str

    def get(self, path: str, key: str | None = None) -> Any:
        return self.client.get(path, headers={"Authorization": f"Bearer {key or self.server_key}"})


@pytest.fixture
def api(tmp_path: Path, clock: FixedClock) -> Iterator[Api]:
    (tmp_path / "firstmile.yaml").write_text(CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    settings = load_settings(home=tmp_path, environ={"FIRSTMILE_DECIDE_BUDGET_MS": "5000"})
    with Firstmile.open(settings, clock=clock) as fm:
        fm.ingest_items([{"type": "identify", "userId": f"u{n}"} for n in range(40)])
        with make_client(create_app(settings, service=fm)) as client:
            yield Api(
                client, fm, fm.create_key("server", label="t"), fm.create_key("write", label="t")
            )


def test_decide_then_the_list_and_the_report_count_the_exposed_users(api: Api) -> None:
    for n in range(40):
        response = api.client.post(
            "/v1/decide",
            json={"userId": f"u{n}"},
            headers={"Authorization": f"Bearer {api.server_key}"},
        )
        assert response.status_code == 200
        assert set(response.json()["experiments"]) == {"welcome_copy", "first_tip"}
    api.fm.flush_exposures()

    listing = api.get("/v1/experiments")
    assert listing.status_code == 200
    body = listing.json()
    assert [e["key"] for e in body["experiments"]] == ["welcome_copy"]
    assert sum(body["experiments"][0]["users"].values()) == 40
    assert [b["key"] for b in body["bandits"]] == ["first_tip"]

    report = api.get("/v1/experiments/welcome_copy/results")
    assert report.status_code == 200
    data = report.json()
    assert data["experiment"] == "welcome_copy"
    assert data["users"] == 40
    assert data["srm"]["mismatch"] is False
    assert {m["key"] for m in data["metrics"]} == {"activated", "errors"}

    bandit = api.get("/v1/bandits/first_tip")
    assert bandit.status_code == 200
    assert sum(arm["users"] for arm in bandit.json()["arms"].values()) == 40


def test_unknown_keys_are_404_listing_the_known_ones(api: Api) -> None:
    body = assert_error_shape(api.get("/v1/experiments/nope/results"), 404)
    assert "welcome_copy" in body["message"]
    body = assert_error_shape(api.get("/v1/bandits/nope"), 404)
    assert "first_tip" in body["message"]


@pytest.mark.parametrize(
    "path", ["/v1/experiments", "/v1/experiments/welcome_copy/results", "/v1/bandits/first_tip"]
)
def test_the_write_key_cannot_read_results(api: Api, path: str) -> None:
    assert_error_shape(api.get(path, key=api.write_key), 401)
    assert_error_shape(api.client.get(path), 401)


@given(key=st.text(min_size=1, max_size=40).filter(lambda k: "/" not in k and k.strip() == k))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_key_gets_a_json_answer_never_a_5xx(api: Api, key: str) -> None:
    response = api.get(f"/v1/experiments/{quote(key, safe='')}/results")
    assert response.status_code in {200, 404}
    if response.status_code == 404:
        assert_error_shape(response, 404)


def test_a_forced_variant_over_http_and_a_bad_one_is_a_400(api: Api) -> None:
    auth = {"Authorization": f"Bearer {api.server_key}"}
    body = {"userId": "u1", "forced": {"welcome_copy": "friendly"}}
    response = api.client.post("/v1/decide", json=body, headers=auth)
    assert response.status_code == 200
    assert response.json()["experiments"]["welcome_copy"]["reason"] == "forced"
    bad = {"userId": "u1", "forced": {"welcome_copy": "shouty"}}
    error = assert_error_shape(api.client.post("/v1/decide", json=bad, headers=auth), 400)
    assert "`control`, `friendly`" in error["message"]
