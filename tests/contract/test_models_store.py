"""The model registry part of the store contract, and the bulk event read training
uses. Run on every backend."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from firstmile.storage import Store
from firstmile.storage.base import ModelRecord, StoredEvent

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)


def _record(name: str, version: int, artifact: bytes, *, at: datetime = T0) -> ModelRecord:
    return ModelRecord(
        name=name,
        version=version,
        kind="prediction",
        status="candidate",
        created_at=at,
        promoted_at=None,
        config_version="cfg1",
        schema_hash="abc123",
        metrics={"roc_auc": 0.91, "folds": [0.9, 0.92]},
        meta={"rows": 120, "window": {"from": "2026-11-01", "to": "2026-11-25"}},
        sha256=hashlib.sha256(artifact).hexdigest(),
        size=len(artifact),
    )


def test_versions_count_up_per_name_and_keep_their_artifact(store: Store) -> None:
    blob = bytes(range(256)) * 40  # binary, with NUL bytes
    with store.write() as tx:
        assert tx.next_model_version("churn") == 1
        tx.add_model(_record("churn", 1, blob), blob)
        assert tx.next_model_version("churn") == 2
        assert tx.next_model_version("personas") == 1
    with store.write() as tx:
        tx.add_model(_record("churn", 2, b"v2", at=T0 + timedelta(hours=1)), b"v2")
    assert store.model_artifact("churn", 1) == blob
    assert store.model_artifact("churn", 3) is None
    found = store.model_record("churn", 1)
    assert found == _record("churn", 1, blob)
    assert found is not None
    assert found.metrics["folds"] == [0.9, 0.92]
    assert [(m.name, m.version) for m in store.models()] == [("churn", 2), ("churn", 1)]
    assert store.models("personas") == []
    assert store.promoted_models() == []


def test_one_promoted_version_per_name_and_a_history(store: Store) -> None:
    with store.write() as tx:
        for version in (1, 2):
            tx.add_model(_record("churn", version, b"x"), b"x")
        tx.add_model(_record("personas", 1, b"p"), b"p")
        tx.promote_model("churn", 1, T0, "promote")
        tx.promote_model("personas", 1, T0, "promote")
    with store.write() as tx:
        tx.promote_model("churn", 2, T0 + timedelta(hours=1), "promote")
    promoted = {(m.name, m.version): m for m in store.promoted_models()}
    assert set(promoted) == {("churn", 2), ("personas", 1)}
    assert promoted[("churn", 2)].promoted_at == T0 + timedelta(hours=1)
    assert [m.status for m in store.models("churn")] == ["promoted", "retired"]
    with store.write() as tx:
        tx.promote_model("churn", 1, T0 + timedelta(hours=2), "rollback")
    history = store.promotions("churn")
    assert [(p.version, p.action) for p in history] == [
        (1, "promote"),
        (2, "promote"),
        (1, "rollback"),
    ]
    assert [m.version for m in store.promoted_models() if m.name == "churn"] == [1]


def test_iter_events_reads_everything_in_batches_and_filters_track_names(store: Store) -> None:
    def event(n: int, kind: str, name: str | None) -> StoredEvent:
        at = T0 + timedelta(minutes=n)
        return StoredEvent(
            "web", f"m{n}", f"p{n % 3}", kind, name, None, "a", at, at, None, None,
            {"properties": {"n": n}}, {"analytics": True},
        )  # fmt: skip

    events = [event(n, "track", "Signed Up" if n % 2 else "Used Feature") for n in range(7)]
    events.append(event(7, "page", "Signed Up"))  # a page named like the event: not a track
    with store.write() as tx:
        tx.append_events(events)
    everything = list(store.iter_events(batch_size=3))
    assert [e.message_id for e in everything] == [f"m{n}" for n in range(8)]
    assert everything[4].payload == {"properties": {"n": 4}}
    signed = list(store.iter_events(names=["Signed Up"], batch_size=2))
    assert [e.message_id for e in signed] == ["m1", "m3", "m5"]
    assert list(store.iter_events(names=[])) == []


def test_events_of_profiles_groups_sorts_and_leaves_a_source_out(store: Store) -> None:
    def event(n: int, profile: str, minutes: int, source: str = "web") -> StoredEvent:
        at = T0 + timedelta(minutes=minutes)
        return StoredEvent(
            source, f"m{n}", profile, "track", "Used", None, "a", at, at, None, None,
            {"properties": {}}, {"analytics": True},
        )  # fmt: skip

    with store.write() as tx:
        tx.append_events(
            [
                event(1, "p2", 5),
                event(2, "p1", 9),
                event(3, "p1", 1),
                event(4, "p1", 3, source="firstmile"),
                event(5, "p3", 0),
            ]
        )
        # More profiles than one IN list holds: the read is split, nothing is lost.
        tx.append_events([event(100 + n, f"q{n}", n) for n in range(700)])
    found = store.events_of_profiles(["p1", "p2", "nobody"], exclude_source="firstmile")
    assert {k: [e.message_id for e in v] for k, v in found.items()} == {
        "p1": ["m3", "m2"],
        "p2": ["m1"],
    }
    assert [e.message_id for e in store.events_of_profiles(["p1"])["p1"]] == ["m3", "m4", "m2"]
    many = store.events_of_profiles([f"q{n}" for n in range(700)])
    assert len(many) == 700
