"""The model registry over HTTP: the list, one model, one user's view, and the errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from firstmile.api.app import create_app
from firstmile.clock import FixedClock
from firstmile.service import Firstmile
from firstmile.settings import load_settings

from .support import TestClient, make_client
from .test_errors import assert_error_shape

CONFIG = Path(__file__).parents[1] / "spec" / "config" / "valid" / "models.yaml"


@dataclass(frozen=True)
class Api:
    client: TestClient
    fm: Firstmile
    server_key: str
    write_key: str

    def get(self, path: str, key: str | None = None) -> Any:
        return self.client.get(path, headers={"Authorization": f"Bearer {key or self.server_key}"})


@pytest.fixture
def api(
    tmp_path: Path, clock: FixedClock, model_users: Callable[[int], list[dict[str, Any]]]
) -> Iterator[Api]:
    (tmp_path / "firstmile.yaml").write_text(CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    settings = load_settings(home=tmp_path, environ={"FIRSTMILE_DECIDE_BUDGET_MS": "5000"})
    with Firstmile.open(settings, clock=clock) as fm:
        fm.ingest_items(model_users(40))
        with make_client(create_app(settings, service=fm)) as client:
            yield Api(
                client, fm, fm.create_key("server", label="t"), fm.create_key("write", label="t")
            )


def test_the_registry_and_a_users_view_after_training(api: Api) -> None:
    assert api.get("/v1/models").json() == {"models": [], "serving": {}}
    outcomes = api.fm.train(["personas", "upgrades"])
    assert [o.error for o in outcomes] == [None, None]
    listing = api.get("/v1/models").json()
    assert {m["name"] for m in listing["models"]} == {"personas", "upgrades"}
    assert listing["serving"] == {"personas": 1, "upgrades": 1}
    one = api.get("/v1/models/upgrades")
    assert one.status_code == 200
    assert one.json()["status"] == "promoted"
    assert one.json()["meta"]["rows"] == 40
    view = api.get("/v1/users/u0/models").json()
    assert view["persona"]["key"]
    assert 0.5 < view["predictions"]["upgrades"]["probability"] <= 1.0


def test_errors_are_json_4xx(api: Api) -> None:
    missing = api.get("/v1/models/nope")
    assert missing.status_code == 404
    assert_error_shape(missing, 404)
    assert api.get("/v1/users/nobody/models").status_code == 404
    # The public write key must not read models or anyone's predictions.
    assert api.get("/v1/models", key=api.write_key).status_code == 401
    assert api.get("/v1/users/u0/models", key=api.write_key).status_code == 401
