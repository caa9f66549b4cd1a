"""Wiring of the scale_on_throttle runbook."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from autoresponder.domain.cost import Prices
from autoresponder.domain.scale_back.policy import ScaleBackPolicy
from autoresponder.domain.scaling.sizing import ScalingPolicy
from autoresponder.models.alarm import AlarmStateChangeEvent
from autoresponder.services.scale_on_throttle import (
    ScaleOnThrottle,
    ThrottleRunbookConfig,
)
from autoresponder.settings import Settings, get_settings
from autoresponder.wiring.common import (
    capacity_ports,
    delivery_attempts,
    forced_dry_run,
    look_policy,
    runner_for,
    with_dry_run,
)
from autoresponder.wiring.runner import Runner


def scale_back_policy(settings: Settings) -> ScaleBackPolicy:
    return ScaleBackPolicy(
        stabilization=timedelta(minutes=settings.scale_back_stabilization_minutes),
        flap_window=timedelta(minutes=settings.scale_back_flap_minutes),
        headroom_percent=settings.headroom_percent,
        min_cut_percent=settings.scale_back_min_cut_percent,
        spend_last_decrease=settings.scale_back_spend_last_decrease,
    )


def throttle_config(settings: Settings) -> ThrottleRunbookConfig:
    return ThrottleRunbookConfig(
        policy=ScalingPolicy(
            min_step_percent=settings.scale_up_min_step_percent,
            headroom_percent=settings.headroom_percent,
            max_multiple=settings.max_scale_multiple,
            max_measured_multiple=settings.max_measured_scale_multiple,
            default_max_read_units=settings.default_max_read_units,
            default_max_write_units=settings.default_max_write_units,
            hard_max_read_units=settings.hard_max_read_units,
            hard_max_write_units=settings.hard_max_write_units,
            cooldown=timedelta(minutes=settings.cooldown_minutes),
        ),
        prices=Prices(rcu_hour=settings.price_per_rcu_hour, wcu_hour=settings.price_per_wcu_hour),
        dry_run=settings.dry_run,
        lookback=timedelta(minutes=settings.metric_lookback_minutes),
        back=scale_back_policy(settings),
        looks=look_policy(settings),
        recheck_target=settings.recheck_target_arn,
        lock_seconds=settings.lock_seconds,
        max_attempts=settings.max_delivery_attempts,
    )


@lru_cache(maxsize=2)
def service(dry_run: bool = False) -> ScaleOnThrottle:
    """The runbook; `dry_run=True` forces dry run (the kill switch) whatever `DRY_RUN` says."""
    return ScaleOnThrottle(
        **capacity_ports(),
        attempts=delivery_attempts(),
        config=with_dry_run(throttle_config(get_settings()), dry_run),
    )


@lru_cache(maxsize=1)
def runner() -> Runner[AlarmStateChangeEvent]:
    """The handler's whole job: parse, then respond once per delivery."""
    return runner_for(ScaleOnThrottle, lambda: service(forced_dry_run()), once_per_delivery=True)
