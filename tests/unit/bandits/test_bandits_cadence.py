"""Cadence: when weights are due and which epoch seeds them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from firstmile.bandits import epoch_of, epoch_start, weights_due

START = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_weights_due() -> None:
    assert weights_due(None, START, HOUR)
    assert not weights_due(START, START, HOUR)
    assert not weights_due(START, START + HOUR - timedelta(microseconds=1), HOUR)
    assert weights_due(START, START + HOUR, HOUR)
    assert weights_due(START + HOUR, START, HOUR)  # a clock that moved back


def test_epochs_are_floors_of_elapsed_cadences() -> None:
    assert epoch_of(START, start=START, cadence=HOUR) == 0
    assert epoch_of(START + 3 * HOUR - timedelta(seconds=1), start=START, cadence=HOUR) == 2
    assert epoch_of(START + 3 * HOUR, start=START, cadence=HOUR) == 3
    assert epoch_of(START - timedelta(minutes=1), start=START, cadence=HOUR) == -1
    for epoch in (-2, 0, 5):
        begin = epoch_start(epoch, start=START, cadence=HOUR)
        assert epoch_of(begin, start=START, cadence=HOUR) == epoch


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"positive datetime\.timedelta"):
        weights_due(None, START, timedelta(0))
    with pytest.raises(ValueError, match="naive datetime with a timezone-aware"):
        weights_due(datetime(2026, 3, 1), START, HOUR)
    with pytest.raises(ValueError, match="naive datetime with a timezone-aware"):
        epoch_of(START, start=datetime(2026, 3, 1), cadence=HOUR)
    with pytest.raises(ValueError, match="now must be a datetime"):
        weights_due(None, "2026-03-01", HOUR)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="whole number"):
        epoch_start(1.5, start=START, cadence=HOUR)  # type: ignore[arg-type]
