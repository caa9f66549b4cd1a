"""Wiring of the scale_back runbook (scheduled)."""

from __future__ import annotations

from functools import lru_cache

from autoresponder.services.scale_back import Run, ScaleBack, ScaleBackConfig
from autoresponder.settings import Settings, get_settings
from autoresponder.wiring.common import (
    capacity_ports,
    forced_dry_run,
    runner_for,
    with_dry_run,
)
from autoresponder.wiring.runner import Runner
from autoresponder.wiring.scale_on_throttle import throttle_config


def scale_back_config(settings: Settings) -> ScaleBackConfig:
    throttle = throttle_config(settings)
    return ScaleBackConfig(
        policy=throttle.back,
        throttle=throttle.policy,
        prices=throttle.prices,
        dry_run=settings.dry_run,
        lookback=throttle.lookback,
        lock_seconds=settings.lock_seconds,
        looks=throttle.looks,
        recheck_target=settings.recheck_target_arn,
    )


@lru_cache(maxsize=2)
def service(dry_run: bool = False) -> ScaleBack:
    """The runbook; `dry_run=True` forces dry run (the kill switch) whatever `DRY_RUN` says."""
    return ScaleBack(
        **capacity_ports(), config=with_dry_run(scale_back_config(get_settings()), dry_run)
    )


@lru_cache(maxsize=1)
def runner() -> Runner[Run]:
    """The handler's whole job: parse the scheduled event or re-check (or reject it), run once.

    No Powertools Idempotency here: each decision of a run is keyed by the schedule's time, so
    a duplicated or retried delivery resumes the decisions it already took (and the scale
    history's intent stops a change from being made twice).
    """
    return runner_for(ScaleBack, lambda: service(forced_dry_run()))
