"""Experiments and bandits over HTTP (server key): the list, a report, a bandit's split."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from firstmile.api.deps import FirstmileDep, ServerKeyDep
from firstmile.api.responses import json_response

router = APIRouter(tags=["experiments"])


@router.get("/v1/experiments", operation_id="list_experiments")
async def list_experiments(fm: FirstmileDep, _source: ServerKeyDep) -> Response:
    """The experiments and bandits of the loaded config, with users per variant."""
    return json_response(await run_in_threadpool(fm.trials_summary))


@router.get("/v1/experiments/{key}/results", operation_id="experiment_results")
async def experiment_results(key: str, fm: FirstmileDep, _source: ServerKeyDep) -> Response:
    """Per metric and variant: effects with intervals, chance to win, the SRM and
    sequential verdicts, and a recommendation. Warnings instead of errors for no data."""
    report = await run_in_threadpool(fm.experiment_report, key)
    return json_response(report.to_json())


@router.get("/v1/bandits/{key}", operation_id="bandit_status")
async def get_bandit(key: str, fm: FirstmileDep, _source: ServerKeyDep) -> Response:
    """A bandit's current weights per context and its arms' rewards."""
    return json_response(await run_in_threadpool(fm.bandit_status, key))
