"""While the app runs, the collector's young generation is collected far less often
(latency); when it stops, the process gets its own thresholds back."""

from __future__ import annotations

import gc

from firstmile.api.app import create_app
from firstmile.api.runtime import GC_THRESHOLDS
from firstmile.service import Firstmile
from firstmile.settings import Settings

from .support import make_client


def test_serving_raises_the_gc_thresholds_and_stopping_restores_them(
    settings: Settings, fm: Firstmile
) -> None:
    before = gc.get_threshold()
    assert before != GC_THRESHOLDS
    with make_client(create_app(settings, service=fm)) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_threshold() == GC_THRESHOLDS
    assert gc.get_threshold() == before
