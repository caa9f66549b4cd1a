"""Settings: one validated model read from the environment once (STYLE.md habit 6).

Every setting has a documented default except the two the contract requires.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, PositiveFloat, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Environment variables, upper-case names of these fields."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    decision_table_name: str = Field(min_length=3)
    notification_topic_arn: str = Field(pattern=r"^arn:[\w-]+:sns:")
    dry_run: bool = False
    aws_region: str | None = None
    """`AWS_REGION` (Lambda sets it); boto3 itself falls back to `AWS_DEFAULT_REGION`."""

    # scale_on_throttle
    scale_up_min_step_percent: PositiveFloat = 20.0
    """A scale-up raises capacity at least this much over the current value."""
    headroom_percent: float = Field(default=25.0, ge=0)
    """New capacity covers the recently consumed peak plus this headroom."""
    max_scale_multiple: float = Field(default=4.0, gt=1)
    """One step never sets more than this multiple of the current value."""
    default_max_read_units: PositiveInt = 10_000
    default_max_write_units: PositiveInt = 10_000
    """Ceilings when the table has no `autoresponder:max-*-units` tag."""
    cooldown_minutes: PositiveInt = 5
    metric_lookback_minutes: PositiveInt = 15
    max_delivery_attempts: PositiveInt = 3
    """Lambda async attempts (1 + MaximumRetryAttempts): the last defer is notified."""
    lock_seconds: PositiveInt = 60
    """How long a per-table lock is held at most (guards read-modify-write of capacity)."""

    # records and notifications
    decision_ttl_days: PositiveInt = 90
    idempotency_ttl_minutes: PositiveInt = 180
    show_key_values: bool = False

    # prices (us-east-1, USD) for the cost estimate in decisions
    price_per_rcu_hour: PositiveFloat = 0.00013
    price_per_wcu_hour: PositiveFloat = 0.00065


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings, read from the environment on first use."""
    return Settings()  # required fields come from the environment
