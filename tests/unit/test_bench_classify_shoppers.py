"""The Online Shoppers benchmark end to end on a tiny synthetic CSV, and its skip path."""

from __future__ import annotations

import csv
import json
import math
import random
from pathlib import Path
from typing import Any

import pytest
from bench.classify_shoppers import CSV_NAME, main

HEADER = (
    "Administrative", "Administrative_Duration", "Informational", "Informational_Duration",
    "ProductRelated", "ProductRelated_Duration", "BounceRates", "ExitRates", "PageValues",
    "SpecialDay", "Month", "OperatingSystems", "Browser", "Region", "TrafficType",
    "VisitorType", "Weekend", "Revenue",
)  # fmt: skip
MONTHS = ("Feb", "Mar", "May", "June", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
VISITORS = ("Returning_Visitor", "New_Visitor", "Other")


def write_shoppers(folder: Path, rows: int = 300, seed: int = 7) -> None:
    """Sessions shaped like the real file; Revenue is likelier with higher PageValues."""
    rng = random.Random(seed)
    with (folder / CSV_NAME).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for _ in range(rows):
            pages = rng.randrange(1, 60)
            page_values = rng.choice((0.0, 0.0, round(rng.expovariate(1 / 20), 6)))
            buys = rng.random() < 1 / (1 + math.exp(2.5 - page_values / 8))
            writer.writerow(
                [
                    rng.randrange(0, 8),
                    round(rng.expovariate(1 / 80), 4),
                    rng.randrange(0, 3),
                    round(rng.expovariate(1 / 30), 4),
                    pages,
                    round(pages * rng.uniform(10, 60), 4),
                    round(rng.uniform(0, 0.2), 6),
                    round(rng.uniform(0, 0.2), 6),
                    page_values,
                    rng.choice((0.0, 0.0, 0.0, 0.4, 1.0)),
                    rng.choice(MONTHS),
                    rng.randrange(1, 5),
                    rng.randrange(1, 7),
                    rng.randrange(1, 10),
                    rng.randrange(1, 12),
                    rng.choice(VISITORS),
                    rng.choice(("TRUE", "FALSE")),
                    "TRUE" if buys else "FALSE",
                ]
            )


def last_json(text: str) -> dict[str, Any]:
    line = text.strip().splitlines()[-1]
    figures: dict[str, Any] = json.loads(line)
    return figures


def test_runs_end_to_end_through_firstmile_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_shoppers(tmp_path)
    # One thread: a busy machine slows OpenMP fits badly, and the test only checks the path.
    assert main(["--data", str(tmp_path), "--threads", "1"]) == 0
    out = capsys.readouterr().out
    figures = last_json(out)
    assert set(figures) == {"firstmile", "sklearn_hgb_defaults"}
    ours = figures["firstmile"]
    assert 0.5 < ours["roc_auc"] <= 1.0
    assert ours["roc_auc_sd"] >= 0.0
    assert 0.0 < ours["pr_auc"] <= 1.0
    assert 0.0 <= ours["brier"] <= 1.0
    assert ours["algorithm"] == "gradient_boosting"
    assert ours["users"] == 300  # every row imported as a user with consent, all trained on
    assert {"train_s", "import_s"} <= set(ours)  # times are reported, not judged
    baseline = figures["sklearn_hgb_defaults"]
    assert 0.5 < baseline["roc_auc"] <= 1.0
    assert "fit_s" in baseline
    assert "ratios firstmile / sklearn defaults" in out
    assert "0 left out without consent" in out


def test_skips_cleanly_without_the_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["--data", str(tmp_path / "missing")]) == 0
    figures = last_json(capsys.readouterr().out)
    assert set(figures) == {"skipped"}
    assert CSV_NAME in figures["skipped"]

    monkeypatch.delenv("FIRSTMILE_DATA_DIR", raising=False)
    assert main([]) == 0
    assert "no --data and no FIRSTMILE_DATA_DIR" in last_json(capsys.readouterr().out)["skipped"]

    monkeypatch.setenv("FIRSTMILE_DATA_DIR", str(tmp_path))  # no online-shoppers/ inside
    assert main([]) == 0
    assert "online-shoppers" in last_json(capsys.readouterr().out)["skipped"]
