"""Writing trial data inside a store transaction: exposures and events (the thin shell).

Both functions run inside the caller's write transaction, so an event and the exposure
it follows can never be counted twice or lost between two transactions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from firstmile.config.experiments import ExperimentsConfig
from firstmile.storage.base import StoredEvent, TrialMember, WriteTransaction
from firstmile.trials.assign import Candidate
from firstmile.trials.measure import Changes, entered, observed, trial_metrics


def record_exposures(
    tx: WriteTransaction,
    config: ExperimentsConfig,
    exposures: Sequence[tuple[str, Candidate, datetime, str]],
) -> int:
    """Record first exposures ``(profile_id, candidate, at, config_version)``.

    A (trial, profile) already recorded is skipped. A new member starts each metric at
    its pre-exposure state (CUPED covariate) and replays the events stored since the
    exposure. Returns how many members are new.
    """
    if not exposures:
        return 0
    wanted = {(c.trial_key, pid) for pid, c, _, _ in exposures}
    known = {
        (m.trial_key, m.profile_id)
        for m in tx.trial_members_of({pid for _, pid in wanted}, {key for key, _ in wanted})
    }
    changes = Changes()
    members: list[TrialMember] = []
    for profile_id, candidate, at, version in exposures:
        key = (candidate.trial_key, profile_id)
        if key in known:
            continue
        known.add(key)
        member = TrialMember(
            trial_key=candidate.trial_key,
            profile_id=profile_id,
            kind=candidate.kind,
            variant=candidate.variant,
            context=candidate.context,
            propensity=candidate.propensity,
            hash_attribute=candidate.hash_attribute,
            hash_value=candidate.hash_value,
            exposed_at=at,
            config_version=version,
            states={},
        )
        metrics = trial_metrics(config, candidate.trial_key)
        lookback = max((m.cuped_lookback for m in metrics if m.cuped), default=None)
        events = tx.events_since(profile_id, at if lookback is None else at - lookback)
        states = entered(config, member, events, changes)
        members.append(replace(member, states=states))
    tx.add_trial_members(members)
    tx.add_trial_stats(changes.sums())
    return len(members)


def record_events(
    tx: WriteTransaction, config: ExperimentsConfig, events: Sequence[StoredEvent]
) -> None:
    """Fold the events of one ingest transaction into the metrics of exposed profiles."""
    names = config.metric_events()
    relevant = [e for e in events if e.type == "track" and e.name in names]
    if not relevant:
        return
    members = tx.trial_members_of({e.profile_id for e in relevant})
    if not members:
        return
    changes = Changes()
    observed(config, members, relevant, changes)
    tx.save_trial_states(changes.state_rows())
    tx.add_trial_stats(changes.sums())
