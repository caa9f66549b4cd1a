"""Which alarms a covered table should have, and how to get from what exists to that. Pure.

Alarms per covered table (`autoresponder:managed=true`, or on the stack's watch list):

| alarm (name suffix)                 | metric (`AWS/DynamoDB`)              | where               |
|-------------------------------------|--------------------------------------|---------------------|
| `read/write-provisioned-throttle`   | `Read/WriteProvisionedThroughput...` | provisioned, + GSIs |
| `read/write-key-range-throttle`     | `Read/WriteKeyRangeThroughput...`    | any table, + GSIs   |
| `read/write-max-on-demand-throttle` | `Read/WriteMaxOnDemandThroughput...` | on-demand, + GSIs   |
| `read/write-above-provisioned`      | `Consumed...` over `Provisioned...`  | managed provisioned,|
|                                     | (metric math, see below)             | + GSIs              |
| `latency-<Operation>`               | `SuccessfulRequestLatency`           | table, per op.      |

(`...` is `ThrottleEvents`, then `CapacityUnits` in the pre-throttle row.)

Names: `<prefix><table>[-<index>]-<kind>`, the prefix being the stack parameter
`AlarmNamePrefix` (default `autoresponder-`); a name longer than CloudWatch's 255 characters is
cut and ends in a hash. Throttle alarms: `Sum > threshold` (default 0: any throttled request)
over 1 period of 60 s. Latency alarms: `Average > target` for 5 consecutive 1-minute periods,
the target per operation from settings (GetItem 10 ms, Query 20 ms, batch 100 ms, others 25 ms).
Missing data is not breaching: no request, no alarm.

Pre-throttle alarms (`read/write-above-provisioned`): consumed capacity above provisioned for
one minute, i.e. the table or GSI is spending its burst capacity and throttling comes next.
Only for managed tables in provisioned mode: a watch-only table is never raised, and an
on-demand table's limit is its own maximum (the max-on-demand throttle alarms). The threshold
has to follow the provisioned capacity, which Auto Scaling, a person and the responder itself
change at any time: a static `Consumed... > N` alarm would be wrong after the first change (and
would need an update per raise). So the alarm is metric math over both metrics:

    utilization = 100 * consumed / PERIOD(consumed) / FILL(provisioned, REPEAT)   > 100

- `consumed`: `Consumed<Read|Write>CapacityUnits`, `Sum` over 60 s; `/ PERIOD(consumed)` makes
  it units per second, the unit of provisioned capacity (PERIOD takes a metric, not an
  expression).
- `provisioned`: `Provisioned<Read|Write>CapacityUnits`, `Maximum` over 60 s. DynamoDB
  publishes it every five minutes ("for all other DynamoDB metrics, the aggregation granularity
  is five minutes": only the consumed and throttle metrics are per minute), so most minutes have
  no provisioned datapoint: `FILL(..., REPEAT)` carries the last one forward. Maximum: within a
  period holding a change, the higher setting (never alarm on a capacity already raised).
- a ratio, not a difference: metric math treats a missing value as 0 in arithmetic and drops a
  datapoint that divides by zero, so when no provisioned datapoint is at hand the minute is
  dropped (no alarm), where `consumed - provisioned` would alarm on any traffic; a minute
  without requests is 0 % (not missing: the alarm returns to OK when the table goes quiet).
- 1 of 1 one-minute datapoints, `> 100` (% of provisioned): any minute of burst. The runbook
  decides from the table's metrics and raises only where demand is above provisioned.
- 2 metrics of the 10 a metric-math alarm may read, no SEARCH (alarms cannot use it). CloudWatch
  bills a metric-math alarm per metric it reads: 2 alarm metrics, $0.20 a month (docs/cost.md).

Operations "the table serves": those CloudWatch lists a `SuccessfulRequestLatency` metric for
(TableName + Operation); CloudWatch lists a metric for two weeks after its last datapoint, so
the set follows real traffic without flapping hour to hour, and listing metrics is free where
reading their data is not. A table CloudWatch lists nothing for (new, or idle for two weeks)
gets the default operations (GetItem, Query, PutItem, UpdateItem).

Reconcile compares each wanted alarm with the alarm of that name: missing → create; made by the
responder (tag `autoresponder:created-by=onboard_tables`) but defined differently → update;
same → unchanged; made by anyone else → conflict, never touched. The responder's alarms for a
table that is no longer covered, or for an index or operation the table no longer has, are
deleted. Nothing else ever is.

Scalable targets: IAM lets the runbooks call RegisterScalableTarget only on Application Auto
Scaling targets tagged `autoresponder:managed=true` (the condition reads the target's own tags).
So every scalable target of a managed table and its GSIs gets that tag, and loses it (that tag
only) when the table is no longer managed: watch only, uncovered, or offboarded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from autoresponder.domain.latency.policy import DEFAULT_SLA_MS
from autoresponder.domain.latency.windows import OPERATIONS
from autoresponder.models.hot_keys import InsightsStatus
from autoresponder.models.onboarding import (
    SCALABLE_TARGET_TAG,
    AlarmDefinition,
    AlarmKind,
    AlarmSpec,
    Coverage,
    MetricQuery,
    ObservedAlarm,
    ObservedScalableTarget,
    OnboardAction,
)
from autoresponder.models.table import Dimension, TableDescription, TablePolicy

DYNAMODB = "AWS/DynamoDB"
MAX_ALARM_NAME = 255
LATENCY_METRIC = "SuccessfulRequestLatency"

_THROTTLE_METRICS: Mapping[AlarmKind, str] = MappingProxyType(
    {
        AlarmKind.READ_PROVISIONED: "ReadProvisionedThroughputThrottleEvents",
        AlarmKind.WRITE_PROVISIONED: "WriteProvisionedThroughputThrottleEvents",
        AlarmKind.READ_KEY_RANGE: "ReadKeyRangeThroughputThrottleEvents",
        AlarmKind.WRITE_KEY_RANGE: "WriteKeyRangeThroughputThrottleEvents",
        AlarmKind.READ_MAX_ON_DEMAND: "ReadMaxOnDemandThroughputThrottleEvents",
        AlarmKind.WRITE_MAX_ON_DEMAND: "WriteMaxOnDemandThroughputThrottleEvents",
    }
)
_PROVISIONED_KINDS = (AlarmKind.READ_PROVISIONED, AlarmKind.WRITE_PROVISIONED)
_ON_DEMAND_KINDS = (AlarmKind.READ_MAX_ON_DEMAND, AlarmKind.WRITE_MAX_ON_DEMAND)
_KEY_RANGE_KINDS = (AlarmKind.READ_KEY_RANGE, AlarmKind.WRITE_KEY_RANGE)
_PRE_THROTTLE_KINDS: Mapping[AlarmKind, Dimension] = MappingProxyType(
    {
        AlarmKind.READ_ABOVE_PROVISIONED: Dimension.READ,
        AlarmKind.WRITE_ABOVE_PROVISIONED: Dimension.WRITE,
    }
)
PRE_THROTTLE_THRESHOLD = 100.0
"""Percent of the provisioned capacity consumed in a minute above which the burst is spent."""
PRE_THROTTLE_EXPRESSION = "100 * consumed / PERIOD(consumed) / FILL(provisioned, REPEAT)"

DEFAULT_LATENCY_TARGETS_MS: Mapping[str, float] = MappingProxyType(dict(DEFAULT_SLA_MS))
"""The latency runbook's targets (report_latency_regression): alarm and report agree."""
DEFAULT_OPERATIONS = ("GetItem", "Query", "PutItem", "UpdateItem")


def throttle_metric(kind: AlarmKind) -> str:
    return _THROTTLE_METRICS[kind]


@dataclass(frozen=True)
class AlarmPolicy:
    """Names and thresholds of the alarms (from settings)."""

    prefix: str = "autoresponder-"
    period_seconds: int = 60
    throttle_threshold: float = 0.0
    throttle_periods: int = 1
    latency_periods: int = 5
    latency_targets_ms: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_LATENCY_TARGETS_MS)
    )
    latency_default_ms: float = 25.0
    default_operations: tuple[str, ...] = DEFAULT_OPERATIONS

    def latency_target(self, operation: str) -> float:
        return self.latency_targets_ms.get(operation, self.latency_default_ms)


# --------------------------------------------------------------------------------------------
# coverage
# --------------------------------------------------------------------------------------------
def coverage_of(
    table_name: str, tags: Mapping[str, str], watch_list: Collection[str]
) -> Coverage | None:
    """`managed` when tagged, else `watch` when on the stack's watch list, else not covered."""
    if TablePolicy.from_tags(dict(tags)).managed:
        return Coverage.MANAGED
    if table_name in watch_list:
        return Coverage.WATCH
    return None


def parse_watch_list(raw: str) -> frozenset[str]:
    """`WATCH_TABLES`: table names separated by commas (blanks ignored)."""
    return frozenset(name.strip() for name in raw.split(",") if name.strip())


# --------------------------------------------------------------------------------------------
# the wanted alarms
# --------------------------------------------------------------------------------------------
def alarm_name(prefix: str, table_name: str, index_name: str | None, suffix: str) -> str:
    """`<prefix><table>[-<index>]-<suffix>`, cut to 255 characters with a hash if longer."""
    where = f"{table_name}-{index_name}" if index_name else table_name
    name = f"{prefix}{where}-{suffix}"
    if len(name) <= MAX_ALARM_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    tail = f"-{suffix}-{digest}"
    return f"{prefix}{where}"[: MAX_ALARM_NAME - len(tail)] + tail


def served_operations(listed: Iterable[str], policy: AlarmPolicy) -> tuple[str, ...]:
    """Operations with latency metrics listed by CloudWatch, else the default operations.

    Only operations DynamoDB documents `SuccessfulRequestLatency` for count (`GetRecords`, a
    streams operation with another dimension set, does not)."""
    found = sorted({op for op in listed if op in OPERATIONS})
    return tuple(found) if found else tuple(policy.default_operations)


def _where(table_name: str, index_name: str | None) -> str:
    return f"table {table_name}" + (f", index {index_name}" if index_name else "")


def _throttle_alarm(
    table_name: str, index_name: str | None, kind: AlarmKind, policy: AlarmPolicy
) -> AlarmDefinition:
    metric = throttle_metric(kind)
    dimensions = {"TableName": table_name}
    if index_name:
        dimensions["GlobalSecondaryIndexName"] = index_name
    return AlarmDefinition(
        name=alarm_name(policy.prefix, table_name, index_name, kind.value),
        table_name=table_name,
        index_name=index_name,
        kind=kind,
        spec=AlarmSpec(
            namespace=DYNAMODB,
            metric_name=metric,
            dimensions=tuple(sorted(dimensions.items())),
            statistic="Sum",
            period=policy.period_seconds,
            evaluation_periods=policy.throttle_periods,
            datapoints_to_alarm=policy.throttle_periods,
            threshold=policy.throttle_threshold,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            description=(
                f"{metric} of {_where(table_name, index_name)} above "
                f"{policy.throttle_threshold:g} per {policy.period_seconds} s. "
                "Created by the DynamoDB auto-responder (onboard_tables); "
                "edits are reverted at the next reconcile."
            ),
        ),
    )


def _pre_throttle_alarm(
    table_name: str, index_name: str | None, kind: AlarmKind, policy: AlarmPolicy
) -> AlarmDefinition:
    """Consumed above provisioned for one minute (module docstring: why metric math)."""
    units = "Read" if _PRE_THROTTLE_KINDS[kind] is Dimension.READ else "Write"
    dimensions = {"TableName": table_name}
    if index_name:
        dimensions["GlobalSecondaryIndexName"] = index_name
    pairs = tuple(sorted(dimensions.items()))

    def metric(query_id: str, name: str, stat: str) -> MetricQuery:
        return MetricQuery(
            id=query_id,
            namespace=DYNAMODB,
            metric_name=name,
            dimensions=pairs,
            stat=stat,
            period=policy.period_seconds,
        )

    return AlarmDefinition(
        name=alarm_name(policy.prefix, table_name, index_name, kind.value),
        table_name=table_name,
        index_name=index_name,
        kind=kind,
        spec=AlarmSpec(
            metrics=(
                MetricQuery(
                    id="utilization",
                    expression=PRE_THROTTLE_EXPRESSION,
                    label=f"Consumed {units.lower()} capacity, % of provisioned",
                    return_data=True,
                ),
                metric("consumed", f"Consumed{units}CapacityUnits", "Sum"),
                metric("provisioned", f"Provisioned{units}CapacityUnits", "Maximum"),
            ),
            evaluation_periods=1,
            datapoints_to_alarm=1,
            threshold=PRE_THROTTLE_THRESHOLD,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            description=(
                f"Consumed {units.lower()} capacity of {_where(table_name, index_name)} above "
                f"its provisioned capacity for {policy.period_seconds} s: burst capacity is "
                "being spent, throttling comes next. Created by the DynamoDB auto-responder "
                "(onboard_tables); edits are reverted at the next reconcile."
            ),
        ),
    )


def _latency_alarm(table_name: str, operation: str, policy: AlarmPolicy) -> AlarmDefinition:
    target = policy.latency_target(operation)
    return AlarmDefinition(
        name=alarm_name(policy.prefix, table_name, None, f"{AlarmKind.LATENCY.value}-{operation}"),
        table_name=table_name,
        kind=AlarmKind.LATENCY,
        operation=operation,
        spec=AlarmSpec(
            namespace=DYNAMODB,
            metric_name=LATENCY_METRIC,
            dimensions=(("Operation", operation), ("TableName", table_name)),
            statistic="Average",
            period=policy.period_seconds,
            evaluation_periods=policy.latency_periods,
            datapoints_to_alarm=policy.latency_periods,
            threshold=target,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            description=(
                f"Average {operation} latency of table {table_name} above {target:g} ms for "
                f"{policy.latency_periods} consecutive periods of {policy.period_seconds} s. "
                "Created by the DynamoDB auto-responder (onboard_tables); "
                "edits are reverted at the next reconcile."
            ),
        ),
    )


def desired_alarms(
    table: TableDescription,
    operations: Sequence[str],
    policy: AlarmPolicy,
    *,
    managed: bool = True,
) -> list[AlarmDefinition]:
    """Every alarm a covered table should have, sorted by name. `managed`: the runbooks may
    change the table (a watch-only table gets no pre-throttle alarm: nothing would be raised)."""
    capacity_kinds = _ON_DEMAND_KINDS if table.is_on_demand else _PROVISIONED_KINDS
    pre_throttle = () if table.is_on_demand or not managed else tuple(_PRE_THROTTLE_KINDS)
    alarms = []
    for index_name in (None, *sorted(table.indexes)):
        for kind in (*capacity_kinds, *_KEY_RANGE_KINDS):
            alarms.append(_throttle_alarm(table.table_name, index_name, kind, policy))
        for kind in pre_throttle:
            alarms.append(_pre_throttle_alarm(table.table_name, index_name, kind, policy))
    for operation in sorted(set(operations)):
        alarms.append(_latency_alarm(table.table_name, operation, policy))
    return sorted(alarms, key=lambda alarm: alarm.name)


# --------------------------------------------------------------------------------------------
# the diff
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AlarmDiff:
    """From the alarms that exist to the alarms one table should have."""

    table_name: str
    create: tuple[AlarmDefinition, ...] = ()
    update: tuple[AlarmDefinition, ...] = ()
    delete: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    enable_insights: tuple[str | None, ...] = ()
    """Table (None) and GSIs whose Contributor Insights should be turned on."""
    had_alarms: bool = False
    """Whether the responder had made alarms for this table before."""
    covered: bool = True
    """False when the table lost its coverage: everything the responder made for it goes."""
    tag_targets: tuple[ObservedScalableTarget, ...] = ()
    """Scalable targets to tag `autoresponder:managed=true`."""
    untag_targets: tuple[ObservedScalableTarget, ...] = ()
    """Scalable targets to remove the `autoresponder:managed` tag from."""
    alarm_metrics: int = 0
    """The metrics the responder's alarms for the table read once the change is made (what
    CloudWatch bills: `AlarmSpec.alarm_metrics`)."""
    deleted_alarm_metrics: int = 0
    """The metrics the alarms to delete read (what deleting them saves)."""

    @property
    def alarm_count(self) -> int:
        """The responder's alarms for the table once the change is made."""
        return len(self.create) + len(self.update) + len(self.unchanged)

    @property
    def empty(self) -> bool:
        return not (
            self.create
            or self.update
            or self.delete
            or self.enable_insights
            or self.tag_targets
            or self.untag_targets
        )

    @property
    def action(self) -> OnboardAction | None:
        """`onboard` (first alarms), `update_alarms`, `offboard` (all go), or None (no change)."""
        if self.empty:
            return None
        if not self.covered:
            return OnboardAction.OFFBOARD
        return OnboardAction.UPDATE_ALARMS if self.had_alarms else OnboardAction.ONBOARD

    def fingerprint(self) -> str:
        """Stable hash of the change (same diff, same fingerprint)."""
        parts = [
            *(f"+{a.name}={a.spec.model_dump_json()}" for a in self.create),
            *(f"~{a.name}={a.spec.model_dump_json()}" for a in self.update),
            *(f"-{name}" for name in self.delete),
            *(f"ci:{index or '-'}" for index in self.enable_insights),
            *(f"tag:{target.label}" for target in self.tag_targets),
            *(f"untag:{target.label}" for target in self.untag_targets),
        ]
        return hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()[:16]


def diff_table(
    table_name: str,
    desired: Sequence[AlarmDefinition],
    existing: Mapping[str, ObservedAlarm],
    *,
    enable_insights: Sequence[str | None] = (),
    covered: bool = True,
    targets: Sequence[ObservedScalableTarget] = (),
    managed: bool = False,
) -> AlarmDiff:
    """The change for one table.

    `existing`: every alarm under the prefix by name (the responder's and anyone else's). The
    responder's alarms tagged with this table that are not wanted any more are deleted; an
    alarm of a wanted name that someone else made is a conflict and left alone. `targets`: the
    table's scalable targets, tagged or untagged as `managed` says (`target_tag_changes`).
    """
    create, update, unchanged, conflicts = [], [], [], []
    wanted_names = set()
    metrics = 0
    for alarm in desired:
        wanted_names.add(alarm.name)
        found = existing.get(alarm.name)
        if found is None:
            create.append(alarm)
        elif not found.ours or found.table_name != table_name:
            # someone else's alarm, or (names are not unique: table `a-b` vs table `a` index
            # `b`) the responder's alarm for another table: never taken over
            conflicts.append(alarm.name)
            continue
        elif found.spec != alarm.spec:
            update.append(alarm)
        else:
            unchanged.append(alarm.name)
        metrics += alarm.spec.alarm_metrics
    ours = sorted(
        name for name, alarm in existing.items() if alarm.ours and alarm.table_name == table_name
    )
    delete = [name for name in ours if name not in wanted_names]
    deleted_metrics = sum(_billed_metrics(existing[name]) for name in delete)
    tag, untag = target_tag_changes(targets, managed=managed and covered)
    return AlarmDiff(
        table_name=table_name,
        create=tuple(create),
        update=tuple(update),
        delete=tuple(delete),
        unchanged=tuple(unchanged),
        conflicts=tuple(conflicts),
        enable_insights=tuple(enable_insights),
        had_alarms=bool(ours),
        covered=covered,
        tag_targets=tag,
        untag_targets=untag,
        alarm_metrics=metrics,
        deleted_alarm_metrics=deleted_metrics,
    )


def _billed_metrics(alarm: ObservedAlarm) -> int:
    return alarm.spec.alarm_metrics if alarm.spec is not None else 1


def offboard_diff(
    table_name: str,
    existing: Mapping[str, ObservedAlarm],
    targets: Sequence[ObservedScalableTarget] = (),
) -> AlarmDiff:
    """A table no longer covered (tag removed, off the watch list, or deleted): its alarms go,
    and its scalable targets lose the `autoresponder:managed` tag."""
    return diff_table(table_name, (), existing, covered=False, targets=targets)


def target_tag_changes(
    targets: Sequence[ObservedScalableTarget], *, managed: bool
) -> tuple[tuple[ObservedScalableTarget, ...], tuple[ObservedScalableTarget, ...]]:
    """(to tag, to untag), each sorted by label. A managed table's targets all carry
    `autoresponder:managed=true`; a table that is not managed keeps none of that tag (whatever
    its value). Other tags are never touched."""
    ordered = sorted(targets, key=lambda target: target.label)
    if managed:
        return tuple(t for t in ordered if not t.tagged), ()
    return (), tuple(t for t in ordered if SCALABLE_TARGET_TAG in t.tags)


def tables_with_alarms(existing: Mapping[str, ObservedAlarm]) -> set[str]:
    """Tables the responder has made alarms for (read off the alarms' tags)."""
    return {alarm.table_name for alarm in existing.values() if alarm.table_name}


def insights_to_enable(
    table: TableDescription,
    coverage: Coverage,
    statuses: Mapping[str | None, InsightsStatus],
    *,
    setting_on: bool,
    table_dry_run: bool,
) -> tuple[str | None, ...]:
    """Where to turn Contributor Insights on (THROTTLED_KEYS): only when the setting is on, only
    on managed tables that are not in dry run (it is a change to the table and costs money), and
    only where it is DISABLED (or FAILED). Where it is on in any mode it stays as it is
    (ACCESSED_AND_THROTTLED_KEYS includes throttled keys: never downgraded); ENABLING and
    DISABLING are someone's change in progress, left alone."""
    if not setting_on or coverage is not Coverage.MANAGED or table_dry_run:
        return ()
    units = (None, *sorted(table.indexes))
    return tuple(
        unit
        for unit in units
        if (statuses[unit].status if unit in statuses else "DISABLED") in {"DISABLED", "FAILED"}
    )
