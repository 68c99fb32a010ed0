"""Segments move in real time through the ingest pipeline, on a real SQLite file."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from firstmile.clock import FixedClock
from firstmile.config import ConfigFileError
from firstmile.service import Firstmile
from firstmile.settings import load_settings

CONFIG = """
version: 1
segments:
  - key: pro
    name: Pro plan
    condition: {plan: pro}
  - key: busy_today
    name: Busy today
    condition: {events.Completed Step.count_1d: {$gte: 2}}
  - key: mobile
    name: Mobile
    condition: {device_type: mobile}
"""

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def seg(tmp_path: Path, clock: FixedClock) -> Iterator[Firstmile]:
    (tmp_path / "firstmile.yaml").write_text(CONFIG, encoding="utf-8")
    with Firstmile.open(load_settings(home=tmp_path, environ={}), clock=clock) as service:
        yield service


def step(user: str, **extra: object) -> dict[str, object]:
    # A unique messageId each: identical messages without one are deduplicated.
    return {
        "type": "track",
        "userId": user,
        "event": "Completed Step",
        "messageId": uuid.uuid4().hex,
        **extra,
    }


def test_a_user_enters_and_leaves_segments_as_events_arrive(seg: Firstmile) -> None:
    seg.ingest_items([{"type": "identify", "userId": "u1", "traits": {"plan": "pro"}}])
    assert set(seg.store.memberships(seg.find_profile_id("u1"))) == {"pro"}

    seg.ingest_items([step("u1"), step("u1")])
    pid = seg.find_profile_id("u1")
    assert set(seg.store.memberships(pid)) == {"pro", "busy_today"}

    seg.ingest_items([{"type": "identify", "userId": "u1", "traits": {"plan": "free"}}])
    assert set(seg.store.memberships(pid)) == {"busy_today"}
    history = [(c.segment_key, c.change) for c in reversed(seg.store.segment_history(pid))]
    assert history == [("pro", "entered"), ("busy_today", "entered"), ("pro", "exited")]
    assert {c.config_version for c in seg.store.segment_history(pid)} == {seg.config.version_id}  # type: ignore[union-attr]


def test_changes_are_logged_as_segment_events(seg: Firstmile) -> None:
    seg.ingest_items([{"type": "identify", "userId": "u1", "traits": {"plan": "pro"}}])
    names = [e.name for e in seg.store.events(seg.find_profile_id("u1"))]
    assert "Segment Entered" in names


def test_no_segment_events_without_analytics_consent_but_membership_is_kept(
    seg: Firstmile,
) -> None:
    seg.ingest_items(
        [
            {
                "type": "identify",
                "userId": "u1",
                "traits": {"plan": "pro", "consent_analytics": False},
            }
        ]
    )
    pid = seg.find_profile_id("u1")
    assert set(seg.store.memberships(pid)) == {"pro"}
    assert seg.store.events(pid) == []


def test_the_sweeper_expires_rolling_window_membership(seg: Firstmile, clock: FixedClock) -> None:
    seg.ingest_items([step("u1"), step("u1")])
    pid = seg.find_profile_id("u1")
    assert "busy_today" in seg.store.memberships(pid)
    clock.advance(timedelta(hours=2))
    assert seg.sweep() == 0
    clock.advance(timedelta(hours=30))
    assert seg.sweep() == 1
    assert "busy_today" not in seg.store.memberships(pid)


def test_anonymous_history_joins_and_segments_are_reevaluated_on_merge(seg: Firstmile) -> None:
    seg.ingest_items([step("x", anonymousId="a1", userId=None) for _ in range(2)])
    seg.ingest_items([{"type": "identify", "userId": "u9", "traits": {"plan": "pro"}}])
    seg.ingest_items([{"type": "identify", "userId": "u9", "anonymousId": "a1"}])
    pid = seg.find_profile_id("u9")
    assert set(seg.store.memberships(pid)) == {"pro", "busy_today"}
    assert seg.store.segment_sizes() == {"busy_today": 1, "pro": 1}


def test_enrichment_feeds_segments(seg: Firstmile) -> None:
    seg.ingest_items([step("u1", context={"userAgent": IPHONE})])
    assert "mobile" in seg.store.memberships(seg.find_profile_id("u1"))


def problems(fm: Firstmile) -> ConfigFileError | None:
    return fm.config_error


def test_an_invalid_config_refuses_to_open_and_an_invalid_edit_keeps_the_running_one(
    tmp_path: Path, clock: FixedClock
) -> None:
    path = tmp_path / "firstmile.yaml"
    path.write_text(
        "version: 1\nsegments:\n  - key: x\n    name: X\n    condition: {a: {$gtt: 1}}\n"
    )
    with pytest.raises(ConfigFileError, match="gtt"):
        Firstmile.open(load_settings(home=tmp_path, environ={}), clock=clock)

    path.write_text(CONFIG, encoding="utf-8")
    with Firstmile.open(load_settings(home=tmp_path, environ={}), clock=clock) as fm:
        assert fm.config is not None
        running = fm.config.version_id
        path.write_text(CONFIG + "  - key: bad\n    name: Bad\n    condition: {a: {$nope: 1}}\n")
        assert fm.reload_config(force=True) is False
        assert fm.config.version_id == running
        assert problems(fm) is not None
        path.write_text(CONFIG + "  - key: good\n    name: Good\n    condition: {a: 1}\n")
        assert fm.reload_config(force=True) is True
        assert fm.config.version_id != running
        assert problems(fm) is None
        assert [s["key"] for s in fm.segments()] == ["pro", "busy_today", "mobile", "good"]


def test_a_new_config_version_fills_added_segments_and_ends_removed_ones(
    tmp_path: Path, clock: FixedClock
) -> None:
    path = tmp_path / "firstmile.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    with Firstmile.open(load_settings(home=tmp_path, environ={}), clock=clock) as fm:
        fm.ingest_items([{"type": "identify", "userId": "u1", "traits": {"plan": "pro"}}])
        fm.sweep()  # the start-up sweep: nothing changes
        pid = fm.find_profile_id("u1")
        assert set(fm.store.memberships(pid)) == {"pro"}

        edited = CONFIG.replace("condition: {plan: pro}", "condition: {plan: enterprise}")
        path.write_text(
            edited
            + "  - key: has_plan\n    name: Has a plan\n    condition: {plan: {$exists: true}}\n",
            encoding="utf-8",
        )
        assert fm.reload_config(force=True) is True
        assert fm.sweep() == 2
        assert set(fm.store.memberships(pid)) == {"has_plan"}
        assert fm.sweep() == 0

        path.write_text(CONFIG.replace("  - key: mobile\n", "  - key: phone\n"), encoding="utf-8")
        fm.reload_config(force=True)
        fm.sweep()
        assert set(fm.store.memberships(pid)) == {"pro"}  # has_plan was removed from the file
