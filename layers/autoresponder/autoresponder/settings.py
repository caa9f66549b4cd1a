"""Settings: one validated model read from the environment once (docs/style.md habit 6).

Every setting has a documented default except the two the contract requires.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, PositiveFloat, PositiveInt, field_validator
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
    """New capacity covers the estimated demand (consumed plus rejected) plus this headroom."""
    max_scale_multiple: float = Field(default=4.0, gt=1)
    """A step that is a guess (CloudWatch unreadable: the minimum step) never sets more than
    this multiple of the current value."""
    max_measured_scale_multiple: float = Field(default=16.0, gt=1)
    """A step sized on the demand CloudWatch measured (consumed plus rejected) never sets more
    than this multiple of the current value (the ceiling bounds it too)."""
    default_max_read_units: PositiveInt = 10_000
    default_max_write_units: PositiveInt = 10_000
    """Ceilings when the table has no `autoresponder:max-*-units` tag."""
    hard_max_read_units: PositiveInt = 40_000
    hard_max_write_units: PositiveInt = 40_000
    """The stack's hard maximum per dimension (stack parameters `HardMaxReadUnits` /
    `HardMaxWriteUnits`): the `autoresponder:max-*-units` tags and the defaults above may only
    lower the ceiling below it, never raise it. 40,000 is DynamoDB's default per-table quota."""
    cooldown_minutes: PositiveInt = 5
    metric_lookback_minutes: PositiveInt = 15
    max_delivery_attempts: PositiveInt = 3
    """Lambda async attempts (1 + MaximumRetryAttempts): the last defer is notified."""
    lock_seconds: PositiveInt = 60
    """How long a per-table lock is held at most (guards read-modify-write of capacity)."""

    # scale_back (scheduled: follow-ups while throttling lasts, scale-back when it is over)
    scale_back_stabilization_minutes: PositiveInt = 10
    """A raise is scaled back only after this long without throttling and with the demand
    below the raised value (also the window the peak demand is read over); doubled for a unit
    that throttled again within `scale_back_flap_minutes` of a decrease."""
    scale_back_flap_minutes: PositiveInt = 60
    """A raise this soon after a decrease of the same table/index doubles its window."""
    scale_back_min_cut_percent: float = Field(default=10.0, ge=0, lt=100)
    """A provisioned cut smaller than this percent is not worth one of the day's decreases
    (except the cut that restores the original value)."""
    scale_back_spend_last_decrease: bool = False
    """Whether the last decrease a table or index has left today may be spent."""

    # re-checks: one-time looks at a table where a change has not landed yet (EventBridge
    # Scheduler; stack resources `RecheckScheduleGroup`, `RecheckSchedulerRole`)
    recheck_schedule_group: str | None = None
    """Schedule group of the re-checks; unset: no re-check (the 15-minute schedule only)."""
    recheck_role_arn: str | None = None
    """The role Scheduler invokes scale_back as."""
    recheck_target_arn: str | None = None
    """scale_back's ARN (scale_back itself uses its own, from the invocation)."""
    recheck_after_change_seconds: PositiveInt = 120
    """How long after a change its re-check is due (an UpdateTable usually lands by then)."""
    recheck_step_seconds: PositiveInt = 60
    """The short step while UPDATING, or until a landed raise shows throttling over."""
    recheck_patience_minutes: PositiveInt = 30
    """How long after an episode's last raise short steps go on (then the schedule)."""

    # flag_hot_keys
    hot_key_min_share: float = Field(default=0.25, gt=0, le=1)
    """A key with at least this fraction of the traffic (or of the throttles) is hot."""
    hot_key_min_partition_fraction: float = Field(default=0.5, gt=0)
    """A key consuming at least this fraction of the per-partition limit (3,000 read /
    1,000 write units per second) is hot."""
    hot_key_headroom_percent: float = Field(default=50.0, ge=0)
    """Write-sharding suffix count = ceil(rate ÷ partition limit × (1 + headroom))."""
    hot_key_max_contributors: int = Field(default=10, ge=1, le=100)
    """Contributors asked of each Contributor Insights report (MaxContributorCount)."""
    hot_key_min_window_minutes: PositiveInt = 5
    """The report window is the alarm's evaluation window, at least this long."""
    enable_contributor_insights: bool = False
    """Enable Contributor Insights (THROTTLED_KEYS mode) on opted-in tables where it is off."""
    price_per_insight_rule_month: PositiveFloat = 0.50
    price_per_million_insight_events: PositiveFloat = 0.03

    # report_latency_regression
    latency_window_minutes: PositiveInt = 15
    """Window an alarm's latency is compared over (ending at the alarm's state change), with
    the same window 1 and 7 days earlier; must divide a day (5, 10, 15, 30, 60, ...)."""
    latency_report_window_hours: PositiveInt = 24
    """Window of the daily report (ending at the scheduled time); must divide a day."""
    latency_regression_ratio: float = Field(default=1.5, gt=1)
    """A regression: the current average is at least this multiple of a baseline's ..."""
    latency_regression_floor_ms: float = Field(default=3.0, ge=0)
    """... and at least this many milliseconds above it."""
    latency_min_samples: PositiveInt = 50
    """Requests needed in the current window and in a baseline to compare them."""
    latency_sla_min_samples: PositiveInt = 10
    """Requests needed in the current window to call an average over target a breach."""
    latency_sla_ms: dict[str, PositiveFloat] = Field(default_factory=dict)
    """Per-operation average targets (JSON, e.g. `{"GetItem": 8}`) on top of the defaults
    GetItem 10, Query 20, BatchGetItem 100, BatchWriteItem 100 ms."""
    latency_capacity_near_percent: float = Field(default=80.0, gt=0, le=100)
    """Consumed capacity at or above this share of provisioned is a likely cause."""
    latency_many_items_per_request: PositiveFloat = 100.0
    """A Query or Scan returning this many items per request on average is a likely cause."""
    latency_recent_change_hours: PositiveInt = 24
    """A capacity change by the responder this recent is a likely cause."""

    @field_validator("latency_window_minutes")
    @classmethod
    def _minutes_divide_a_day(cls, value: int) -> int:
        if 1440 % value:
            raise ValueError("must divide a day (1440 minutes)")
        return value

    @field_validator("latency_report_window_hours")
    @classmethod
    def _hours_divide_a_day(cls, value: int) -> int:
        if 24 % value:
            raise ValueError("must divide a day (24 hours)")
        return value

    # onboard_tables (the alarms of covered tables; the latency targets are latency_sla_ms)
    alarm_name_prefix: str = Field(default="autoresponder-", min_length=1, max_length=200)
    """Names of the alarms onboard_tables creates start with this (stack parameter
    `AlarmNamePrefix`, which also routes composite alarms)."""
    watch_tables: str = ""
    """Comma-separated tables covered for reporting only: alarms are created, the tables are
    never changed (stack parameter `WatchTables`)."""
    onboard_throttle_threshold: float = Field(default=0.0, ge=0)
    """Throttle alarms: `Sum` of throttled requests per minute above this (0: any)."""
    onboard_throttle_periods: PositiveInt = 1
    """Throttle alarms: consecutive 1-minute periods above the threshold."""
    onboard_latency_periods: PositiveInt = 5
    """Latency alarms: consecutive 1-minute periods of average latency above the target."""
    onboard_latency_default_ms: PositiveFloat = 25.0
    """Latency target of operations without one in the defaults or `latency_sla_ms`."""
    onboard_default_operations: str = "GetItem,Query,PutItem,UpdateItem"
    """Operations given latency alarms when CloudWatch lists none for a table."""
    price_per_alarm_month: float = Field(default=0.10, ge=0)
    """USD a month per alarm metric of a standard-resolution CloudWatch alarm (us-east-1; a
    metric-math alarm is billed per metric it reads): onboarding says what a table's alarms cost
    ("16 alarms (20 alarm metrics), about $2.00 a month"). docs/cost.md."""

    # kill switch (stack parameter `KillSwitch`, kept in an SSM parameter)
    dry_run_parameter_name: str | None = None
    """SSM String parameter holding `true`/`false`; `true` turns every runbook into dry run
    without a deploy (on top of `DRY_RUN` and the table tag). Unset: no switch, no SSM call.
    Unreadable or neither value: dry run (fails safe)."""
    dry_run_parameter_max_age_seconds: int = Field(default=60, ge=0)
    """How long an execution environment caches the switch: a flip takes effect within this."""

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
