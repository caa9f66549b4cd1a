"""Hot keys: what Contributor Insights reports, and the decision of the flag_hot_keys runbook.

Key values are plaintext table data (they may be personal data). They live in the decision
record (`HotKeyDecision.hot_keys`), which is access-controlled; the notification text masks them
unless `mask_key_values` is false (the `SHOW_KEY_VALUES` setting).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from autoresponder.models.decision import Action, Decision

RUNBOOK = "flag_hot_keys"
MASK = "‹masked›"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class HotKeyAction(StrEnum):
    """Actions of the flag_hot_keys runbook (docs/architecture.md: any runbook may `reject`)."""

    FLAG_HOT_KEYS = "flag_hot_keys"
    NO_HOT_KEYS = "no_hot_keys"
    CONTRIBUTOR_INSIGHTS_DISABLED = "contributor_insights_disabled"
    SKIP = Action.SKIP.value
    FAIL = Action.FAIL.value
    REJECT = Action.REJECT.value


# ------------------------------------------------------------------------------------------
# What DynamoDB and CloudWatch report
# ------------------------------------------------------------------------------------------
class RuleKind(StrEnum):
    """The four rules DynamoDB creates, by the segment of their name."""

    PKC = "PKC"
    """Most accessed partition keys (consumed throughput units)."""
    PKT = "PKT"
    """Most throttled partition keys (throttled requests)."""
    SKC = "SKC"
    """Most accessed items: partition and sort key."""
    SKT = "SKT"
    """Most throttled items: partition and sort key."""

    @property
    def throttled(self) -> bool:
        return self in {RuleKind.PKT, RuleKind.SKT}

    @property
    def item_level(self) -> bool:
        return self in {RuleKind.SKC, RuleKind.SKT}


class InsightsMode(StrEnum):
    ACCESSED_AND_THROTTLED_KEYS = "ACCESSED_AND_THROTTLED_KEYS"
    THROTTLED_KEYS = "THROTTLED_KEYS"


class InsightsStatus(_Model):
    """`DescribeContributorInsights` for one table or index."""

    table_name: str
    index_name: str | None = None
    status: str
    """ENABLING | ENABLED | DISABLING | DISABLED | FAILED."""
    mode: InsightsMode | None = None
    rule_names: tuple[str, ...] = ()
    """`ContributorInsightsRuleList`: the only source of rule names (never built)."""
    failure: str | None = None

    @property
    def enabled(self) -> bool:
        return self.status == "ENABLED" and bool(self.rule_names)


class Contributor(_Model):
    """One contributor of a rule report: the key values and what they added up to."""

    keys: tuple[str, ...]
    value: float = Field(ge=0)
    """`ApproximateAggregateValue` over the whole report window."""
    peak: float | None = Field(default=None, ge=0)
    """Highest value in one report period (from `Datapoints`), when reported."""


class RuleReport(_Model):
    """`GetInsightRuleReport` of one rule over the alarm's window."""

    rule_name: str
    kind: RuleKind
    key_labels: tuple[str, ...] = ()
    aggregate_value: float | None = None
    """`AggregateValue`: the sum over every contributor, not only the top ones returned."""
    unique_contributors: int | None = None
    contributors: tuple[Contributor, ...] = ()
    period_seconds: int = Field(default=60, gt=0)
    start: datetime
    end: datetime

    @property
    def window_seconds(self) -> float:
        return max((self.end - self.start).total_seconds(), float(self.period_seconds))

    @property
    def total(self) -> float:
        """What shares are taken of: the reported aggregate, else the listed contributors."""
        listed = sum(c.value for c in self.contributors)
        return max(self.aggregate_value or 0.0, listed)


# ------------------------------------------------------------------------------------------
# The decision
# ------------------------------------------------------------------------------------------
class KeyLevel(StrEnum):
    PARTITION = "partition"
    """A partition key value (PKC/PKT rules)."""
    ITEM = "item"
    """One item: partition and sort key values (SKC/SKT rules)."""


class RecommendationKind(StrEnum):
    WRITE_SHARDING = "write_sharding"
    CACHING = "caching"
    KEY_REDESIGN = "key_redesign"


class Recommendation(_Model):
    kind: RecommendationKind
    summary: str
    """One sentence, free of key values (it goes into notifications as is)."""
    suffix_count: int | None = None
    """Write sharding: how many suffixes to spread the key's writes over."""


class HotKey(_Model):
    """One hot key, with the key values (kept in the record, masked in notifications)."""

    rank: int = Field(ge=1)
    level: KeyLevel
    key_values: list[str]
    """Partition key value, and the sort key value for an item."""
    key_names: list[str]
    rate_per_second: float | None = None
    """Consumed units per second at the key's peak (None in THROTTLED_KEYS mode)."""
    rate_estimated: bool = False
    """The rate was estimated from throttled requests (no accessed-keys report)."""
    share: float | None = None
    """Fraction of the table's (or index's) consumed units in the window."""
    throttled: float = 0.0
    """Throttled requests on this key in the window."""
    throttle_share: float | None = None
    partition_limit: int
    """Per-partition units per second the rate is compared to."""
    rules: list[str] = Field(default_factory=list)
    recommendation: Recommendation

    def label(self, *, masked: bool) -> str:
        """`pk=‹masked›` or `pk=user#42, sk=profile`."""
        values = [MASK] * len(self.key_values) if masked else self.key_values
        return ", ".join(f"{n}={v}" for n, v in zip(self.key_names, values, strict=False))


class ExaminedRule(_Model):
    rule_name: str
    kind: RuleKind
    contributors: int
    total: float
    unique_contributors: int | None = None


class HotKeyDecision(Decision):
    """The flag_hot_keys decision: `hot_keys` ranked, hottest first."""

    hot_keys: list[HotKey] = Field(default_factory=list)
    examined: list[ExaminedRule] = Field(default_factory=list)
    mask_key_values: bool = True
    announce_no_hot_keys: bool = True
    """`no_hot_keys` is announced when a hot key was expected (key-range or insight-rule
    alarm); after a generic throttle alarm it is only recorded (scale_on_throttle reports)."""

    @property
    def notify(self) -> bool:
        if self.action == HotKeyAction.NO_HOT_KEYS:
            return self.announce_no_hot_keys
        return super().notify

    def as_result(self) -> dict[str, Any]:
        """The handler's return value (and so the idempotency record that replays it): key
        values masked whatever `SHOW_KEY_VALUES` says. Whoever may invoke the function reads
        it; only the decision record, which IAM guards, keeps the values."""
        result = super().as_result()
        for key, raw in zip(self.hot_keys, result.get("hot_keys", []), strict=True):
            raw["key_values"] = [MASK] * len(key.key_values)
        result["next_steps"] = [mask_labels(step, self.hot_keys) for step in self.next_steps]
        return result

    def as_event_detail(self) -> dict[str, Any]:
        """The decision dict with the key values masked unless `SHOW_KEY_VALUES`: an event on
        the bus can be forwarded to other accounts and archived there, as a notification can
        be read by anyone subscribed. The decision record keeps them."""
        detail = super().as_event_detail()
        if self.mask_key_values:
            for key in detail.get("hot_keys", []):
                key["key_values"] = [MASK] * len(key["key_values"])
        return detail

    def detail_lines(self) -> list[str]:
        lines: list[str] = []
        if self.hot_keys:
            note = (
                " (key values masked: the decision record keeps them; SHOW_KEY_VALUES=true "
                "shows them here)"
                if self.mask_key_values
                else ""
            )
            lines += ["", f"Hot keys, hottest first{note}:"]
            for key in self.hot_keys:
                lines.append(
                    f"  #{key.rank} {key.level.value} {key.label(masked=self.mask_key_values)}"
                )
                lines.append(f"      {describe_load(key)}")
                lines.append(f"      → {key.recommendation.summary}")
        if self.examined:
            lines += ["", "Contributor Insights reports read:"]
            lines += [
                f"  {rule.kind.value} {rule.rule_name}: {rule.contributors} keys listed"
                + (
                    f" of ~{rule.unique_contributors:,}"
                    if rule.unique_contributors is not None
                    and rule.unique_contributors > rule.contributors
                    else ""
                )
                + f", total {rule.total:,.0f}"
                for rule in self.examined
            ]
        return lines


def mask_labels(text: str, hot_keys: list[HotKey]) -> str:
    """`text` with each hot key's unmasked label (`pk=user#42`) replaced by its masked one."""
    for key in hot_keys:
        if any(key.key_values):
            text = text.replace(key.label(masked=False), key.label(masked=True))
    return text


def describe_load(key: HotKey) -> str:
    """`1,500.0 units/s (150% of the 1,000/s partition limit), 75% of traffic, 420 throttled`."""
    parts = []
    if key.rate_per_second is not None:
        estimate = "≈" if key.rate_estimated else ""
        parts.append(
            f"{estimate}{key.rate_per_second:,.1f} units/s "
            f"({key.rate_per_second / key.partition_limit:.0%} of the "
            f"{key.partition_limit:,}/s partition limit)"
        )
    if key.share is not None:
        parts.append(f"{key.share:.0%} of the traffic")
    if key.throttled:
        throttled = f"{key.throttled:,.0f} throttled requests"
        if key.throttle_share is not None:
            throttled += f" ({key.throttle_share:.0%} of all throttles)"
        parts.append(throttled)
    return ", ".join(parts) or "no load reported"
